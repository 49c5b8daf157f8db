"""L1000 gene-expression signatures: one reader for every matrix format, CSV matrices, plates
stacked, and expression profiles (replicate signatures aggregated by median).

GCT / GCTX parsing lives in :mod:`.gct`; its names are importable from here too. Samples
(signatures, wells) are rows, genes columns, as everywhere in the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..graph.schema import EXPRESSION_PREFIX
from ._common import (
    AGGREGATE_OPTIONS,
    CONTROLS_OPTIONS,
    FileFormatError,
    PathLike,
    Profiles,
    aggregate_profiles,
    check_option,
    numeric_features,
    profile_node_ids,
    read_table,
    require_columns,
    split_controls,
)
from .gct import GCTData, metadata_frame, read_gct, read_gctx, symbol_columns

__all__ = [
    "GCTData", "L1000_CONTROL_TYPES", "concat_gct", "expression_profiles", "read_gct",
    "read_gctx", "read_l1000", "read_l1000_csv",
]

L1000_CONTROL_TYPES = ("ctl_vehicle", "ctl_untrt", "ctl_vector", "ctl_vehicle.cns",
                       "ctl_untrt.cns", "ctl_vector.cns")


def read_l1000_csv(matrix: PathLike | pd.DataFrame, col_meta: PathLike | pd.DataFrame | None = None,
                   row_meta: PathLike | pd.DataFrame | None = None, *,
                   gene_symbols: bool = True,
                   symbol_column: str = "pr_gene_symbol") -> GCTData:
    """Read an L1000 matrix stored as CSV (samples x genes), with optional metadata tables.

    The first column of each table holds the ids (sample ids for ``matrix`` and ``col_meta``,
    gene / probe ids for ``row_meta``). ``row_meta`` rows must follow the matrix columns.

    Parameters
    ----------
    matrix : path or DataFrame
        Samples as rows, genes as columns (CSV / CSV.GZ / TSV / parquet).
    col_meta, row_meta : path or DataFrame, optional
        Sample and gene metadata (e.g. CMap ``cdesc`` / ``rdesc`` exports).
    gene_symbols, symbol_column
        As in :func:`read_gct`; matrix columns are kept when they already are symbols.

    Returns
    -------
    GCTData

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"cid": ["w1", "w2"], "TP53": [0.5, -1.0], "MYC": [2.0, 0.0]})
    >>> read_l1000_csv(m).data.loc["w2", "TP53"]
    np.float64(-1.0)
    """
    source = _table_name(matrix)
    table = read_table(matrix)
    if table.shape[1] < 2:
        raise FileFormatError("expected an id column and at least one gene column", source)
    ids = table.iloc[:, 0].astype(str)
    if ids.duplicated().any():
        raise FileFormatError(f"sample id {ids[ids.duplicated()].iloc[0]!r} appears twice",
                              source, column=table.columns[0])
    values = numeric_features(table.iloc[:, 1:], source, what="expression",
                              hint="The first column holds sample ids, the rest numbers.")
    genes = [str(c) for c in table.columns[1:]]

    cmeta = _column_metadata(col_meta, ids)
    rmeta = _row_metadata(row_meta, genes, symbol_column)
    columns = (pd.Index(genes, name="gene") if row_meta is None
               or symbol_column not in rmeta.columns
               else symbol_columns(rmeta, gene_symbols, symbol_column))
    data = pd.DataFrame(values.to_numpy(), index=pd.Index(ids.tolist(), name="cid"),
                        columns=columns)
    return GCTData(data, rmeta, cmeta, "CSV")


def _table_name(table) -> str:
    return "<DataFrame>" if isinstance(table, pd.DataFrame) else str(table)


def _column_metadata(col_meta, ids: pd.Series) -> pd.DataFrame:
    """Sample metadata in matrix order; every matrix sample must be in it."""
    if col_meta is None:
        return pd.DataFrame(index=pd.Index(ids.tolist(), name="cid"))
    cmeta = _id_indexed(col_meta, "cid")
    unknown = ids[~ids.isin(cmeta.index)]
    if len(unknown):
        raise FileFormatError(
            f"{len(unknown)} sample id(s) of the matrix are not in the column metadata, "
            f"e.g. {unknown.iloc[0]!r}", _table_name(col_meta))
    return cmeta.loc[ids.tolist()]


def _row_metadata(row_meta, genes: list, symbol_column: str) -> pd.DataFrame:
    """Gene metadata; its rows must follow the matrix columns (by id or symbol)."""
    if row_meta is None:
        return pd.DataFrame(index=pd.Index(genes, name="rid"))
    rmeta = _id_indexed(row_meta, "rid")
    if len(rmeta) != len(genes):
        raise FileFormatError(
            f"row metadata has {len(rmeta)} genes, the matrix has {len(genes)} columns",
            _table_name(row_meta))
    labels = rmeta.index.astype(str)
    matches = labels == np.array(genes)
    if symbol_column in rmeta.columns:
        matches = matches | (rmeta[symbol_column].astype(str).to_numpy() == np.array(genes))
    if not matches.all():
        k = int(np.flatnonzero(~matches)[0])
        raise FileFormatError(
            f"matrix column {k + 2} is {genes[k]!r} but row metadata row {k + 1} is "
            f"{labels[k]!r}; row metadata must follow the matrix columns", _table_name(row_meta))
    return rmeta


def _id_indexed(table, name: str) -> pd.DataFrame:
    frame = read_table(table)
    frame = frame.set_index(frame.columns[0])
    frame.index = pd.Index(frame.index.astype(str), name=name)
    return metadata_frame({c: frame[c].tolist() for c in frame.columns}, frame.index, name)


def read_l1000(path: PathLike, *, gene_symbols: bool = True,
               symbol_column: str = "pr_gene_symbol") -> GCTData:
    """Read a ``.gct`` / ``.gct.gz``, ``.gctx`` or CSV matrix file, by its extension.

    Examples
    --------
    >>> gct = read_l1000("LJP009_A375_24H_level4_n371x978.gct")  # doctest: +SKIP
    """
    name = Path(path).name.lower()
    if name.endswith((".gct", ".gct.gz")):
        return read_gct(path, gene_symbols=gene_symbols, symbol_column=symbol_column)
    if name.endswith(".gctx"):
        return read_gctx(path, gene_symbols=gene_symbols, symbol_column=symbol_column)
    if name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet")):
        return read_l1000_csv(path, gene_symbols=gene_symbols, symbol_column=symbol_column)
    raise ValueError(f"{path}: unknown L1000 file type; expected .gct, .gctx or .csv")


def concat_gct(items: Sequence[GCTData]) -> GCTData:
    """Stack the samples of several plates measured on the same genes.

    Examples
    --------
    >>> import pandas as pd
    >>> a = read_l1000_csv(pd.DataFrame({"cid": ["p1:A1"], "TP53": [1.0]}))
    >>> b = read_l1000_csv(pd.DataFrame({"cid": ["p2:A1"], "TP53": [2.0]}))
    >>> concat_gct([a, b]).data.shape
    (2, 1)
    """
    if not items:
        raise ValueError("concat_gct needs at least one GCTData")
    genes = items[0].data.columns
    for k, item in enumerate(items[1:], start=1):
        if not item.data.columns.equals(genes):
            raise ValueError(f"item {k} has other genes (or another order) than item 0; "
                             "select the same columns first")
    data = pd.concat([item.data for item in items])
    if data.index.duplicated().any():
        raise ValueError(f"sample id {data.index[data.index.duplicated()][0]!r} appears in "
                         "two items")
    col_meta = pd.concat([item.col_meta for item in items])
    return GCTData(data, items[0].row_meta, col_meta, items[0].version)


def expression_profiles(
    gct: GCTData,
    *,
    perturbation_column: str = "pert_id",
    dose_column: str | None = "pert_dose",
    aggregate: str | None = "perturbation_dose",
    controls: str = "exclude",
    control_column: str = "pert_type",
    control_values: Sequence[str] = L1000_CONTROL_TYPES,
    node_prefix: str = EXPRESSION_PREFIX,
) -> Profiles:
    """Expression nodes from an L1000 matrix: replicate signatures aggregated by median.

    Parameters
    ----------
    gct : GCTData
        From :func:`read_gct`, :func:`read_gctx`, :func:`read_l1000_csv` or
        :func:`concat_gct`.
    perturbation_column : str
        Column metadata field naming the perturbagen (``pert_id``: BRD ids for compounds).
    dose_column : str or None
        Column metadata field with the dose (``pert_dose``), for
        ``aggregate="perturbation_dose"``.
    aggregate : {"perturbation_dose", "perturbation", None}
        Median per perturbagen and dose, per perturbagen, or one node per sample.
    controls : {"exclude", "keep"}
        Drop control samples (default) or keep them.
    control_column : str
        Field that marks controls (``pert_type``).
    control_values : sequence of str
        Values of ``control_column`` that are controls (CMap's ``ctl_*`` types by default).
    node_prefix : str
        Prefix of the node ids.

    Returns
    -------
    Profiles
        ``(metadata, features)`` indexed by node id (``ge:BRD-K92571446@1.11``); features are
        samples' genes.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"cid": ["w1", "w2", "w3"], "TP53": [1.0, 3.0, 0.0]})
    >>> c = pd.DataFrame({"cid": ["w1", "w2", "w3"], "pert_id": ["BRD-A", "BRD-A", "DMSO"],
    ...                   "pert_dose": [10, 10, -666],
    ...                   "pert_type": ["trt_cp", "trt_cp", "ctl_vehicle"]})
    >>> expression_profiles(read_l1000_csv(m, c)).features["TP53"].to_dict()
    {'ge:BRD-A@10': 2.0}
    """
    check_option("aggregate", aggregate, AGGREGATE_OPTIONS)
    check_option("controls", controls, CONTROLS_OPTIONS)
    source = f"{gct!r} column metadata"
    needed = [perturbation_column]
    if aggregate == "perturbation_dose":
        if dose_column is None:
            raise ValueError("aggregate='perturbation_dose' needs a dose_column")
        needed.append(dose_column)
    if controls == "exclude":
        needed.append(control_column)
    if aggregate is not None:
        require_columns(gct.col_meta, needed, source, "column metadata field")
    meta = gct.col_meta
    if controls == "exclude":
        is_control = meta[control_column].astype(str).isin(list(control_values)).to_numpy()
        keep = split_controls(is_control, controls, source, control_values)
    else:
        keep = np.ones(len(meta), dtype=bool)
    meta, data = meta[keep], gct.data[keep]
    if len(meta) == 0:
        raise ValueError("no samples left after excluding the controls")
    if aggregate is None:
        ids = pd.Index([node_prefix + str(i) for i in meta.index], name="node_id")
        return Profiles(meta.set_axis(ids, axis=0), data.set_axis(ids, axis=0))
    perturbation = meta[perturbation_column]
    if perturbation.isna().any():
        raise ValueError(
            f"{int(perturbation.isna().sum())} sample(s) without {perturbation_column!r}, e.g. "
            f"{perturbation[perturbation.isna()].index[0]!r}")
    doses = _doses(meta, dose_column) if aggregate == "perturbation_dose" else None
    node_ids = profile_node_ids(perturbation, doses, node_prefix)
    return aggregate_profiles(meta, data, node_ids)


def _doses(meta: pd.DataFrame, dose_column: str) -> pd.Series:
    """Numeric doses (CMap's -666 already NaN); a non-numeric dose is an error."""
    doses = pd.to_numeric(meta[dose_column], errors="coerce")
    bad = doses.isna() & meta[dose_column].notna()
    if bad.any():
        raise ValueError(f"non-numeric {dose_column!r} {meta[dose_column][bad].iloc[0]!r} "
                         f"for sample {meta.index[bad.to_numpy()][0]!r}")
    return doses
