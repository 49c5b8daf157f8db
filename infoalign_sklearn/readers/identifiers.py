"""Matching molecules across tables.

Every table names its compounds its own way: Broad ids with or without batch suffixes
(``BRD-K92301463-001-05-5`` vs ``BRD-K92301463``), HMS LINCS ids (``HMSL10084``), SMILES with or
without stereo and salts, InChIKeys. The graph keys a molecule on the first block of its
InChIKey (14 characters, the connectivity without stereo), computed from the SMILES, so that
the same compound from two sources becomes one ``mol:<ik14>`` node. Ids that are not SMILES are
first mapped to SMILES with a lookup table (``pertinfo.tsv``, the HMS LINCS SDF).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem.MolStandardize import rdMolStandardize

from ..chem import inchikey14, mol_from_input
from ..graph.schema import MOLECULE_PREFIX, molecule_node_id
from ._common import FileFormatError, PathLike, check_file, read_table, require_columns

__all__ = [
    "MOLECULE_PREFIX", "MatchReport", "clean_smiles", "ik14_from_inchikey", "map_identifiers",
    "molecule_keys", "molecule_node_id", "molecule_table", "normalize_brd_id",
    "read_hmslincs_sdf", "read_pertinfo",
]

INCHIKEY = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")
IK14 = re.compile(r"^[A-Z]{14}$")
BRD = re.compile(r"^(BRD-[A-Z]\d{8})")


@dataclass(frozen=True)
class MatchReport:
    """How many identifiers of one source found a match.

    Attributes
    ----------
    source : str
        What was matched (a file, a column, a step).
    n_total : int
        Distinct identifiers looked up.
    n_matched : int
        Of those, how many were found.
    unmatched_examples : tuple of str
        Up to ten identifiers that were not found, sorted.

    Examples
    --------
    >>> print(MatchReport("plate -> pertinfo", 10, 8, ("DMSO", "BRD-X")))
    plate -> pertinfo: 8 / 10 matched (80.0 %); unmatched: 2, e.g. DMSO, BRD-X
    """

    source: str
    n_total: int
    n_matched: int
    unmatched_examples: tuple[str, ...] = field(default=())

    @property
    def n_unmatched(self) -> int:
        return self.n_total - self.n_matched

    @property
    def fraction_matched(self) -> float:
        return self.n_matched / self.n_total if self.n_total else float("nan")

    def __str__(self) -> str:
        text = (f"{self.source}: {self.n_matched} / {self.n_total} matched "
                f"({100 * self.fraction_matched:.1f} %)")
        if self.n_unmatched:
            text += f"; unmatched: {self.n_unmatched}, e.g. {', '.join(self.unmatched_examples)}"
        return text

    @classmethod
    def from_values(cls, source: str, ids: Iterable, matched: Iterable[bool]) -> MatchReport:
        """Count distinct ids; an id counts as matched when any of its rows matched."""
        frame = pd.DataFrame({"id": [str(i) for i in ids], "ok": list(matched)})
        per_id = frame.groupby("id", sort=True)["ok"].any()
        missing = per_id.index[~per_id.to_numpy()]
        return cls(source, int(len(per_id)), int(per_id.sum()), tuple(missing[:10]))


def ik14_from_inchikey(key) -> str | None:
    """First block of a full InChIKey (or an ik14 itself); ``None`` when it is not one.

    Examples
    --------
    >>> ik14_from_inchikey("LFQSCWFLJHTTHZ-UHFFFAOYSA-N")
    'LFQSCWFLJHTTHZ'
    >>> ik14_from_inchikey("InChIKey=LFQSCWFLJHTTHZ-UHFFFAOYSA-N")
    'LFQSCWFLJHTTHZ'
    >>> ik14_from_inchikey("not a key") is None
    True
    """
    if not isinstance(key, str):
        return None
    key = key.strip().upper().removeprefix("INCHIKEY=")  # pertinfo / DrugBank write the prefix
    if INCHIKEY.match(key) or IK14.match(key):
        return key[:14]
    return None


_fragment_chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)


def clean_smiles(smiles):
    """The SMILES proper: text up to the first whitespace.

    Tables often append a name or ChemAxon extensions (``CCO |a:1,&1:2|``) after a space;
    RDKit rejects some of those extensions, while the part before the space is a full SMILES.

    Examples
    --------
    >>> clean_smiles("C[C@H](N)O |&1:1|")
    'C[C@H](N)O'
    """
    if isinstance(smiles, str):
        parts = smiles.split()
        return parts[0] if parts else ""
    return smiles


def _key_of(smiles, largest_fragment: bool) -> str | None:
    if not isinstance(smiles, (str, Chem.Mol)):
        return None
    mol = mol_from_input(clean_smiles(smiles))
    if mol is None:
        return None
    if largest_fragment and len(Chem.GetMolFrags(mol)) > 1:
        mol = _fragment_chooser.choose(mol)
    return inchikey14(mol)


def molecule_keys(smiles: Sequence, inchikeys: Sequence | None = None, *,
                  largest_fragment: bool = False) -> list[str | None]:
    """InChIKey skeleton of each molecule, from its SMILES, else from its InChIKey.

    Parameters
    ----------
    smiles : sequence of str, Mol or None
        Molecules; unparsable or missing entries fall back to ``inchikeys``.
    inchikeys : sequence of str, optional
        Full InChIKeys or skeletons aligned with ``smiles``.
    largest_fragment : bool
        Key a salt or mixture by its largest organic fragment (``CC(=O)O.[Na]`` -> acetic
        acid). Use it to find a compound recorded as two different salts.

    Returns
    -------
    list of str or None
        ``None`` where neither gives a key.

    Examples
    --------
    >>> molecule_keys(["CCO", "bad", None], ["", "", "LFQSCWFLJHTTHZ-UHFFFAOYSA-N"])
    ['LFQSCWFLJHTTHZ', None, 'LFQSCWFLJHTTHZ']
    """
    if inchikeys is not None and len(inchikeys) != len(smiles):
        raise ValueError(f"smiles ({len(smiles)}) and inchikeys ({len(inchikeys)}) differ in "
                         "length")
    cache: dict = {}
    keys: list[str | None] = []
    for i, item in enumerate(smiles):
        cacheable = isinstance(item, str)
        if cacheable and item in cache:
            key = cache[item]
        else:
            key = _key_of(item, largest_fragment)
            if cacheable:
                cache[item] = key
        if key is None and inchikeys is not None:
            key = ik14_from_inchikey(inchikeys[i])
        keys.append(key)
    return keys


def molecule_table(smiles: Sequence, *, source: str = "molecules") -> tuple[pd.DataFrame, list[str | None],
                                                       MatchReport]:
    """Molecule nodes (``id``, ``smiles``) for the ``from_tables`` format, one per skeleton.

    Parameters
    ----------
    smiles : sequence of str
        SMILES, possibly repeated and possibly invalid.
    source : str
        Name used in the report.

    Returns
    -------
    molecules : DataFrame
        Columns ``id`` (``mol:<ik14>``) and ``smiles`` (the first valid SMILES seen for that
        skeleton, without text after a space), sorted by id.
    node_ids : list of str or None
        Node id of each input row (``None`` where no valid SMILES).
    report : MatchReport
        Rows whose SMILES gave a molecule.

    Examples
    --------
    >>> mols, ids, report = molecule_table(["CCO", "OCC", "xx"])
    >>> mols["id"].tolist(), ids
    (['mol:LFQSCWFLJHTTHZ'], ['mol:LFQSCWFLJHTTHZ', 'mol:LFQSCWFLJHTTHZ', None])
    """
    keys = molecule_keys(list(smiles))
    node_ids = [molecule_node_id(k) if k else None for k in keys]
    valid = [k is not None for k in keys]
    frame = pd.DataFrame({"id": node_ids, "smiles": [clean_smiles(s) for s in smiles]})[valid]
    molecules = (frame.drop_duplicates("id").sort_values("id", kind="stable")
                 .reset_index(drop=True))
    shown = ["<missing>" if not isinstance(s, str) else s for s in smiles]
    report = MatchReport.from_values(f"{source}: SMILES -> InChIKey skeleton", shown, valid)
    return molecules, node_ids, report


def normalize_brd_id(value) -> str | None:
    """Broad compound id without batch / salt suffixes: ``BRD-K92301463-001-05-5`` ->
    ``BRD-K92301463``; ``None`` for anything else (``DMSO``, NaN).

    Examples
    --------
    >>> normalize_brd_id("BRD-K92301463-001-05-5")
    'BRD-K92301463'
    """
    if not isinstance(value, str):
        return None
    match = BRD.match(value.strip())
    return match.group(1) if match else None


def map_identifiers(ids: Sequence, lookup: Mapping | pd.Series, *,
                    normalize=None, source: str = "identifiers") -> tuple[pd.Series, MatchReport]:
    """Look identifiers up in a table (id -> SMILES, or any value), with a report.

    Parameters
    ----------
    ids : sequence
        Identifiers to look up (repeats allowed).
    lookup : mapping or Series
        Known id -> value.
    normalize : callable, optional
        Applied to every id (and every lookup key) before matching, e.g.
        :func:`normalize_brd_id`; ids it maps to ``None`` count as unmatched.
    source : str
        Name used in the report.

    Returns
    -------
    values : Series
        Aligned with ``ids`` (positional index), NaN where not found.
    report : MatchReport

    Examples
    --------
    >>> values, report = map_identifiers(["BRD-K1-001", "DMSO"], {"BRD-K1": "CCO"},
    ...                                  normalize=lambda s: s.split("-001")[0])
    >>> values.tolist(), report.n_matched
    (['CCO', nan], 1)
    """
    table = dict(lookup.items())
    if normalize is not None:
        normalized: dict = {}
        for key, value in table.items():
            norm = normalize(key)
            if norm is not None:
                normalized.setdefault(norm, value)
        table = normalized
    keys = [normalize(i) if normalize is not None else i for i in ids]
    values = pd.Series([table.get(k, np.nan) if k is not None else np.nan for k in keys],
                       dtype=object)
    shown = ["<missing>" if i is None or (isinstance(i, float) and np.isnan(i)) else i
             for i in ids]
    report = MatchReport.from_values(source, shown, values.notna().tolist())
    return values, report


def read_pertinfo(path_or_frame: PathLike | pd.DataFrame) -> pd.DataFrame:
    """L1000 perturbagen table (``pertinfo.tsv``): compounds with a SMILES.

    Parameters
    ----------
    path_or_frame : path or DataFrame
        Tab-separated table with ``pert_id`` and ``canonical_smiles`` (``pert_iname``,
        ``inchi_key`` used when present).

    Returns
    -------
    DataFrame
        Columns ``pert_id``, ``smiles``, ``name``, ``inchikey``; one row per ``pert_id`` with
        a SMILES.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"pert_id": ["BRD-K1", "sh1"], "canonical_smiles": ["CCO", None]})
    >>> read_pertinfo(t)["pert_id"].tolist()
    ['BRD-K1']
    """
    source = "<DataFrame>" if isinstance(path_or_frame, pd.DataFrame) else str(path_or_frame)
    table = read_table(path_or_frame, sep="\t")
    require_columns(table, ["pert_id", "canonical_smiles"], source)
    out = pd.DataFrame({
        "pert_id": table["pert_id"].astype(str),
        "smiles": table["canonical_smiles"],
        "name": table["pert_iname"] if "pert_iname" in table else np.nan,
        "inchikey": table["inchi_key"] if "inchi_key" in table else np.nan,
    })
    has_smiles = out["smiles"].notna() & (out["smiles"].astype(str).str.strip() != "")
    return out[has_smiles].drop_duplicates("pert_id").reset_index(drop=True)


def read_hmslincs_sdf(path: PathLike, *, id_property: str = "facility_reagent_id",
                      smiles_property: str = "smiles") -> pd.DataFrame:
    """HMS LINCS small-molecule SDF: ``HMSLxxxxx`` ids with SMILES.

    The SMILES comes from the ``smiles`` property when present (these SDFs carry no
    coordinates), else from the structure block.

    Parameters
    ----------
    path : path
        SDF file.
    id_property, smiles_property : str
        Property names of the id and the SMILES.

    Returns
    -------
    DataFrame
        Columns ``hmsl_id``, ``smiles``, ``name``, ``inchikey``.

    Raises
    ------
    FileFormatError
        When no record has ``id_property``.

    Examples
    --------
    >>> table = read_hmslincs_sdf("hmslincs_sample_small_molecules.sdf")  # doctest: +SKIP
    """
    path = check_file(path)
    rows = []
    supplier = Chem.SDMolSupplier(str(path), sanitize=True, removeHs=True)
    for index in range(len(supplier)):
        mol = supplier[index]
        props = supplier.GetItemText(index)
        record = _sdf_properties(props)
        if id_property not in record:
            continue
        smiles = record.get(smiles_property)
        if not smiles and mol is not None and mol.GetNumAtoms():
            smiles = Chem.MolToSmiles(mol)
        rows.append({"hmsl_id": record[id_property], "smiles": smiles or np.nan,
                     "name": record.get("chemical_name", np.nan),
                     "inchikey": record.get("inchi_key", np.nan)})
    if not rows:
        raise FileFormatError(f"no record has the property <{id_property}>", str(path))
    return pd.DataFrame(rows).drop_duplicates("hmsl_id").reset_index(drop=True)


def _sdf_properties(text: str) -> dict[str, str]:
    """``> <name>`` data items of one SDF record (read as text: RDKit drops records it cannot
    sanitise, but their ids and SMILES are still worth having)."""
    props: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = re.match(r"^>.*<([^>]+)>", lines[i])
        if match:
            values = []
            i += 1
            while i < len(lines) and lines[i].strip() != "":
                values.append(lines[i].strip())
                i += 1
            props[match.group(1)] = "\n".join(values)
        i += 1
    return props
