"""Compound lists and id bridges: SMILES lists, id -> InChIKey tables, JUMP compound structures.

- :func:`read_smiles_list`: the molecules of a CSV / TSV / parquet table with a SMILES column,
  or of a ``.smi`` file (a user's benchmark, to keep out of a pretraining graph).
- :func:`read_inchikey_bridge`: any table mapping a compound id to an InChIKey (DrugBank's
  ``drugbank.tsv``, ...). Only those two columns are read: such a table can then serve as an
  id bridge without taking anything else from it (DrugBank's licence is non-commercial).
- :func:`read_jump_compounds`: the JUMP Cell Painting compound table
  (``Metadata_JCP2022`` -> SMILES / InChIKey), which resolves JUMP profile ids to structures.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ._common import FileFormatError, PathLike, check_file, read_table, require_columns, source_name
from .identifiers import ik14_from_inchikey

__all__ = ["SMILES_COLUMNS", "read_inchikey_bridge", "read_jump_compounds", "read_smiles_list"]

#: column names recognised as SMILES, in order of preference (compared without case)
SMILES_COLUMNS = ("smiles", "canonical_smiles", "isomeric_smiles", "Metadata_SMILES")
#: file name endings read as one-SMILES-per-line files
SMI_SUFFIXES = (".smi", ".smiles", ".ism")


def find_smiles_column(columns: Sequence, source: str, column: str | None = None) -> str:
    """The SMILES column of a table: ``column`` when given, else the first of
    :data:`SMILES_COLUMNS` present (any case); FileFormatError naming the file otherwise."""
    names = [str(c) for c in columns]
    if column is not None:
        if column not in names:
            raise FileFormatError(f"no column {column!r}; the table has {names[:12]}", source,
                                  column=column)
        return column
    lower = {name.lower(): name for name in reversed(names)}
    for candidate in SMILES_COLUMNS:
        if candidate.lower() in lower:
            return lower[candidate.lower()]
    raise FileFormatError(
        f"no SMILES column: expected one of {list(SMILES_COLUMNS)} (any case), the table has "
        f"{names[:12]}{' ...' if len(names) > 12 else ''}; name it with smiles_column",
        source)


def read_smiles_list(path_or_frame: PathLike | pd.DataFrame, *,
                     smiles_column: str | None = None) -> list[str]:
    """The SMILES of a molecule file, in file order, blanks skipped.

    Parameters
    ----------
    path_or_frame : path or DataFrame
        ``.smi`` / ``.smiles`` / ``.ism``: one molecule per line, the SMILES first (a name may
        follow after whitespace), ``#`` comments and a ``smiles`` header line skipped. Any
        other file is a table (CSV, TSV, parquet, also gzipped; see ``read_table``).
    smiles_column : str, optional
        Column of a table holding the SMILES; by default the first of ``smiles``,
        ``canonical_smiles``, ``isomeric_smiles``, ``Metadata_SMILES`` present, in any case.

    Returns
    -------
    list of str
        SMILES as written (not parsed: invalid ones are the caller's to report).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    FileFormatError
        A table without a SMILES column (naming the file and its columns), or a file without
        any SMILES.

    Examples
    --------
    >>> import pandas as pd
    >>> read_smiles_list(pd.DataFrame({"SMILES": ["CCO", None, " CCN "], "y": [1, 0, 1]}))
    ['CCO', 'CCN']
    """
    source = source_name(path_or_frame)
    if not isinstance(path_or_frame, pd.DataFrame):
        path = check_file(path_or_frame)
        name = path.name.lower().removesuffix(".gz")
        if name.endswith(SMI_SUFFIXES):
            return _read_smi(path)
    table = read_table(path_or_frame)
    column = find_smiles_column(table.columns, source, smiles_column)
    values = table[column]
    smiles = [str(v).strip() for v in values.tolist()
              if isinstance(v, str) and v.strip()]
    if not smiles:
        raise FileFormatError("no SMILES in the column (all empty)", source, column=column)
    return smiles


def _read_smi(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    smiles = []
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            first = text.split()[0]
            if number == 1 and first.lower() in {c.lower() for c in SMILES_COLUMNS}:
                continue  # a header line
            smiles.append(first)
    if not smiles:
        raise FileFormatError("no SMILES in the file (every line empty or a comment)", str(path))
    return smiles


def read_inchikey_bridge(path_or_frame: PathLike | pd.DataFrame, *, id_column: str,
                         inchikey_column: str = "inchikey") -> pd.DataFrame:
    """Compound id -> InChIKey skeleton, reading only those two columns of a table.

    Parameters
    ----------
    path_or_frame : path or DataFrame
        A table with an id column and an InChIKey column (full keys, with or without an
        ``InChIKey=`` prefix, or 14-character skeletons); e.g. DrugBank's ``drugbank.tsv``
        (``drugbank_id``, ``inchikey``).
    id_column, inchikey_column : str
        The two columns.

    Returns
    -------
    DataFrame
        Columns ``id``, ``inchikey14``: one row per id with a valid key, first key kept.

    Raises
    ------
    FileFormatError
        A column missing (named, with the table's columns), or no row with a valid key.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"drugbank_id": ["DB1", "DB2"],
    ...                   "inchikey": ["InChIKey=LFQSCWFLJHTTHZ-UHFFFAOYSA-N", None]})
    >>> read_inchikey_bridge(t, id_column="drugbank_id").to_dict("records")
    [{'id': 'DB1', 'inchikey14': 'LFQSCWFLJHTTHZ'}]
    """
    source = source_name(path_or_frame)
    if isinstance(path_or_frame, pd.DataFrame):
        table = path_or_frame
    else:
        header = read_table(path_or_frame, nrows=0)
        require_columns(header, [id_column, inchikey_column], source)
        table = read_table(path_or_frame, usecols=[id_column, inchikey_column],
                           dtype={id_column: str, inchikey_column: str})
    require_columns(table, [id_column, inchikey_column], source)
    keys = table[inchikey_column].map(ik14_from_inchikey)
    out = pd.DataFrame({"id": table[id_column].astype(str).str.strip(), "inchikey14": keys})
    out = out[out["inchikey14"].notna() & table[id_column].notna()]
    if out.empty:
        raise FileFormatError("no row has a valid InChIKey", source, column=inchikey_column)
    return out.drop_duplicates("id").reset_index(drop=True)


def read_jump_compounds(path_or_frame: PathLike | pd.DataFrame, *,
                        id_column: str = "Metadata_JCP2022",
                        smiles_column: str | None = None,
                        inchikey_column: str | None = None,
                        ids: Sequence[str] | None = None) -> pd.DataFrame:
    """JUMP Cell Painting compounds: ``JCP2022_...`` id -> SMILES (and InChIKey skeleton).

    Parameters
    ----------
    path_or_frame : path or DataFrame
        The JUMP compound table (``compound.csv.gz`` of the JUMP metadata, or a table with
        ``Metadata_JCP2022`` and a SMILES column such as ``JUMPCP_compounds.csv.gz``).
    id_column : str
        Column of the JUMP compound ids.
    smiles_column : str, optional
        SMILES column; found among ``smiles``, ``Metadata_SMILES``, ... when not given.
    inchikey_column : str, optional
        InChIKey column; ``Metadata_InChIKey`` or ``inchikey`` when present.
    ids : sequence of str, optional
        Keep only these compounds (the profiled ones).

    Returns
    -------
    DataFrame
        Columns ``compound_id``, ``smiles``, ``inchikey14`` (None where the table has no key),
        one row per compound with a SMILES.

    Raises
    ------
    FileFormatError
        The id or SMILES column missing, or repeated ids with different SMILES.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"Metadata_JCP2022": ["JCP2022_000001", "JCP2022_033924"],
    ...                   "smiles": ["CCO", "CS(C)=O"]})
    >>> read_jump_compounds(t, ids=["JCP2022_033924"])["smiles"].tolist()
    ['CS(C)=O']
    """
    source = source_name(path_or_frame)
    table = read_table(path_or_frame)
    require_columns(table, [id_column], source)
    smiles_column = find_smiles_column(table.columns, source, smiles_column)
    if inchikey_column is None:
        inchikey_column = next((c for c in table.columns
                                if str(c).lower() in ("metadata_inchikey", "inchikey")), None)
    elif inchikey_column not in table.columns:
        require_columns(table, [inchikey_column], source)
    out = pd.DataFrame({
        "compound_id": table[id_column].astype(str).str.strip(),
        "smiles": table[smiles_column],
        "inchikey14": (table[inchikey_column].map(ik14_from_inchikey)
                       if inchikey_column is not None else None),
    })
    out = out[table[id_column].notna() & out["smiles"].map(lambda s: isinstance(s, str)
                                                          and bool(s.strip()))]
    if ids is not None:
        out = out[out["compound_id"].isin({str(i) for i in ids})]
    conflicts = out.drop_duplicates(["compound_id", "smiles"])["compound_id"].duplicated()
    if conflicts.any():
        example = out.loc[conflicts[conflicts].index[0], "compound_id"]
        raise FileFormatError(f"compound id {example!r} has several different SMILES "
                              f"({int(conflicts.sum())} such id(s))", source, column=id_column)
    out = out.drop_duplicates("compound_id").reset_index(drop=True)
    out["inchikey14"] = out["inchikey14"].astype(object).where(out["inchikey14"].notna(), None)
    return out
