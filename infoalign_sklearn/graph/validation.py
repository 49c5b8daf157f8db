"""Checks of the tables given to the builders, with errors naming the table, column and rows.

Each function reads one input table (molecules, genes, profiles, links) and returns plain
numpy arrays, or raises a ValueError / TypeError that says which table, which column and
which rows are wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from .schema import EDGE_KINDS, node_ids_of

__all__ = [
    "MoleculeColumns", "check_ids", "check_profile_ids", "link_edges", "molecule_columns",
    "profile_matrix", "profile_tables", "require_columns", "table_error",
]

MAX_EXAMPLES = 5


def examples(labels: Sequence, values: Sequence | None = None) -> str:
    """Up to five labels (with their values) for an error message, ``and N more``."""
    labels = list(labels)
    if values is None:
        shown = [repr(label) for label in labels[:MAX_EXAMPLES]]
    else:
        shown = [f"{label!r} ({value!r})" for label, value in zip(labels, list(values))]
        shown = shown[:MAX_EXAMPLES]
    more = f" and {len(labels) - MAX_EXAMPLES} more" if len(labels) > MAX_EXAMPLES else ""
    return ", ".join(shown) + more


def table_error(table: str, column: str, problem: str, rows: Sequence,
                values: Sequence | None = None) -> ValueError:
    """A ValueError naming the table, the column and example rows."""
    return ValueError(
        f"{table}: column {column!r} {problem} in {len(list(rows))} row(s), e.g. rows "
        f"{examples(rows, values)}"
    )


def require_columns(df, table: str, required: Sequence[str]) -> None:
    """TypeError unless ``df`` is a DataFrame, ValueError naming missing columns."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{table} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(
            f"{table}: missing column(s) {missing}; it has {list(map(str, df.columns))[:10]}"
        )


def check_ids(ids: pd.Series, table: str, column: str) -> np.ndarray:
    """Stripped string ids as an object array; missing, empty or duplicate ids are errors."""
    missing = ids.isna().to_numpy()
    if missing.any():
        raise table_error(table, column, "is missing", ids.index[missing])
    as_str = node_ids_of(ids)
    empty = (as_str == "").to_numpy()
    if empty.any():
        raise table_error(table, column, "is empty", ids.index[empty])
    dup = as_str.duplicated(keep=False).to_numpy()
    if dup.any():
        raise table_error(table, column, "has duplicate ids", ids.index[dup], as_str[dup])
    return as_str.to_numpy(dtype=object)


def _first_bad(df, table: str, bad: np.ndarray, values: np.ndarray, problem: str):
    col = int(np.flatnonzero(bad.any(axis=0))[0])
    rows = np.flatnonzero(bad[:, col])
    return table_error(table, str(df.columns[col]), problem, df.index[rows],
                       values[rows, col].tolist())


def profile_matrix(df, table: str, binary: bool = False) -> np.ndarray:
    """Numeric float32 copy of a profile table, with the package's bad-value checks."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{table} must be a pandas DataFrame, got {type(df).__name__}")
    non_numeric = [c for c in df.columns
                   if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))]
    if non_numeric:
        col = non_numeric[0]
        raise ValueError(
            f"{table}: column {col!r} is not numeric (dtype {df[col].dtype}); profile tables "
            f"hold only numeric features with the node id as index "
            f"({len(non_numeric)} such column(s): {examples(non_numeric)})"
        )
    values = df.to_numpy(dtype=np.float32, na_value=np.nan, copy=True)
    infinite = np.isinf(values)
    if infinite.any():
        raise _first_bad(df, table, infinite, values, "has infinite values")
    if binary:
        bad = ~np.isin(values, (0.0, 1.0))
        if bad.any():
            raise _first_bad(df, table, bad, values, "has values other than 0 / 1")
    return values


class MoleculeColumns(NamedTuple):
    """The checked columns of the molecules table."""

    ids: np.ndarray
    smiles: np.ndarray
    inchikey14: np.ndarray | None


def molecule_columns(molecules) -> MoleculeColumns:
    """Ids, SMILES and (when given) skeleton InChIKeys of the molecules table."""
    require_columns(molecules, "molecules", ["id", "smiles"])
    ids = check_ids(molecules["id"], "molecules", "id")
    smiles = molecules["smiles"]
    bad = (smiles.isna() | (smiles.astype(str).str.strip() == "")).to_numpy()
    if bad.any():
        raise table_error("molecules", "smiles", "is missing", molecules.index[bad])
    smiles = smiles.astype(str).str.strip().to_numpy(dtype=object)
    keys = None
    if "inchikey14" in molecules.columns:
        keys = molecules["inchikey14"].astype(str).str[:14].to_numpy(dtype=object)
    return MoleculeColumns(ids, smiles, keys)


def _profile_table(df, modality: str, replicates) -> pd.DataFrame:
    name = f"profiles[{modality!r}]"
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = pd.isna(df.index)
    index = node_ids_of(pd.Series(df.index, index=df.index))
    if missing.any() or (index == "").any():
        raise table_error(name, "index", "is missing", df.index[missing | (index == "").to_numpy()])
    df = df.set_axis(index.to_numpy(), axis=0)
    if replicates is None:
        dup = df.index.duplicated(keep=False)
        if dup.any():
            raise table_error(name, "index", "has duplicate ids (after removing surrounding "
                              "whitespace)", list(df.index[dup]))
        return df
    groups = node_ids_of(pd.Series(replicates))
    groups.index = node_ids_of(pd.Series(groups.index)).to_numpy()
    unknown_rep = groups.index.difference(df.index)
    if len(unknown_rep):
        raise table_error(f"aggregate_replicates[{modality!r}]", "index",
                          f"names replicates not in {name}", list(unknown_rep))
    group_of = pd.Series(df.index, index=df.index)
    group_of.update(groups)
    profile_matrix(df, name)  # report bad values against the replicate rows
    return df.groupby(group_of.to_numpy(), sort=False).median()


def profile_tables(profiles: Mapping, aggregate_replicates: Mapping) -> dict:
    """Profile tables indexed by string node id; replicates replaced by their median."""
    return {modality: _profile_table(df, modality, aggregate_replicates.get(modality))
            for modality, df in profiles.items()}


def check_profile_ids(tables: Mapping, mol_ids: np.ndarray, gene_ids: np.ndarray) -> None:
    """Gene profiles must name gene nodes, precomputed fingerprints molecule nodes."""
    gene_table = tables.get("gene")
    if gene_table is not None:
        not_genes = gene_table.index.difference(pd.Index(gene_ids))
        if len(not_genes):
            raise table_error("profiles['gene']", "index", "names ids not in genes['id']",
                              list(not_genes))
    if "fingerprint" in tables:
        not_mols = tables["fingerprint"].index.difference(pd.Index(mol_ids))
        if len(not_mols):
            raise table_error("profiles['fingerprint']", "index",
                              "names ids not in molecules['id']", list(not_mols))


def _link_ends(links, column: str, id_index: pd.Series, renamed: dict) -> np.ndarray:
    values = links[column]
    missing = values.isna().to_numpy()
    if missing.any():
        raise table_error("links", column, "is missing", links.index[missing])
    ids = node_ids_of(values)
    if renamed:
        ids = ids.map(lambda v: renamed.get(v, v))
    index = id_index.reindex(ids.to_numpy()).to_numpy()
    unknown = np.isnan(index)
    if unknown.any():
        raise table_error("links", column, "refers to unknown node ids",
                          links.index[unknown], values[unknown].tolist())
    return index.astype(np.int64)


def _link_weights(links) -> np.ndarray:
    if "weight" not in links.columns:
        return np.ones(len(links))
    weight = pd.to_numeric(links["weight"], errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(weight) | (weight < 0) | (weight > 1)
    if bad.any():
        raise table_error("links", "weight", "is missing or outside [0, 1]",
                          links.index[bad], links["weight"][bad].tolist())
    return weight


def link_edges(links, id_index: pd.Series, aggregate_replicates: Mapping):
    """``(source, target, weight, kind code)`` arrays of the links table, checked.

    Links may name a replicate id of ``aggregate_replicates``; it stands for its group's node.
    """
    require_columns(links, "links", ["source", "target", "kind"])
    renamed = {}
    for groups in aggregate_replicates.values():
        groups = pd.Series(groups)
        renamed.update(dict(zip(groups.index.astype(str), groups.astype(str))))
    source, target = (_link_ends(links, c, id_index, renamed) for c in ("source", "target"))
    kind = links["kind"].astype(str).str.strip()
    bad = ~kind.isin(EDGE_KINDS).to_numpy()
    if bad.any():
        raise table_error("links", "kind", f"is not one of {EDGE_KINDS}", links.index[bad],
                          kind[bad].tolist())
    weight = _link_weights(links)
    loops = source == target
    if loops.any():
        raise table_error("links", "target", "equals the source (self-loop)", links.index[loops],
                          links["target"][loops].tolist())
    codes = kind.map({k: i for i, k in enumerate(EDGE_KINDS)}).to_numpy(np.int8)
    return source, target, weight.astype(np.float32), codes
