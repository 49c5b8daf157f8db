"""Consensus (level-5, MODZ) L1000 signatures: one row per perturbagen, one column per gene.

A consensus signature combines a compound's reproducible signatures across cell lines, doses
and time points into one moderated z-score per gene (dhimmel/lincs ``consensi-*.tsv.gz``,
CMap's level-5 MODZ tables). Columns are genes named by Entrez id (or by symbol); the first
column (``perturbagen`` there) names the compound by any id (DrugBank, Broad, pert_id ...).
Gene columns become symbols when a gene table is given, so the signatures share columns with
GCT-based expression profiles and meet the ``gene:<SYMBOL>`` nodes.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import pandas as pd

from ..graph.schema import EXPRESSION_PREFIX
from ._common import (
    FileFormatError,
    PathLike,
    Profiles,
    numeric_features,
    read_table,
    require_columns,
    source_name,
)
from .annotations import entrez_symbols

__all__ = ["read_consensus_signatures"]


def read_consensus_signatures(
    path_or_frame: PathLike | pd.DataFrame,
    *,
    id_column: str | None = None,
    genes: PathLike | pd.DataFrame | Mapping | None = None,
    node_prefix: str = EXPRESSION_PREFIX,
) -> Profiles:
    """Read a consensus-signature table into expression nodes.

    Parameters
    ----------
    path_or_frame : path or DataFrame
        TSV / CSV (also gzipped) or parquet: an id column, then one numeric column per gene.
    id_column : str, optional
        Column naming the perturbagen; the first column by default (``perturbagen``).
    genes : path, DataFrame or mapping, optional
        Entrez id -> symbol: ``lincs_genes.tsv``, a Hetionet node table or a mapping (see
        :func:`~infoalign_sklearn.readers.entrez_symbols`). Gene columns without a symbol are
        dropped with a warning; two columns with one symbol are an error. Without it the
        columns keep their names.
    node_prefix : str
        Prefix of the node ids (``ge:DB00014``).

    Returns
    -------
    Profiles
        ``metadata`` (``perturbagen``, ``n_replicates`` = 1) and ``features`` (float64),
        indexed by node id, in file order.

    Raises
    ------
    FileFormatError
        The id column missing, empty or repeated ids, a non-numeric value (file, line and
        column), no gene column, or no gene column with a symbol.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"perturbagen": ["DB00014"], "7157": [2.5], "672": [-1.0]})
    >>> read_consensus_signatures(t, genes={"7157": "TP53", "672": "BRCA1"}).features.to_dict("index")
    {'ge:DB00014': {'TP53': 2.5, 'BRCA1': -1.0}}
    """
    source = source_name(path_or_frame)
    table = read_table(path_or_frame)
    if isinstance(path_or_frame, pd.DataFrame):
        table = table.reset_index(drop=True)
    if table.shape[1] < 2:
        raise FileFormatError(f"a consensus-signature table needs an id column and gene "
                              f"columns; it has {list(table.columns)}", source)
    id_column = id_column or str(table.columns[0])
    require_columns(table, [id_column], source)
    ids = table[id_column]
    blank = ids.isna() | (ids.astype(str).str.strip() == "")
    if blank.any():
        line = int(blank.to_numpy().nonzero()[0][0]) + 2
        raise FileFormatError(f"{int(blank.sum())} row(s) without a perturbagen id", source,
                              line if source != "<DataFrame>" else None, id_column)
    ids = ids.astype(str).str.strip()
    repeated = ids[ids.duplicated()]
    if len(repeated):
        raise FileFormatError(f"perturbagen {repeated.iloc[0]!r} has more than one row "
                              f"({len(repeated)} repeated id(s)); a consensus table has one "
                              "signature per perturbagen", source, column=id_column)
    gene_columns = [c for c in table.columns if c != id_column]
    features = numeric_features(table[gene_columns], source, what="expression",
                                hint="Gene columns must hold numbers.")
    features.columns = [str(c).strip() for c in features.columns]
    if genes is not None:
        symbols = entrez_symbols(genes)
        named = [c for c in features.columns if c in symbols]
        if not named:
            raise FileFormatError(f"no gene column has a symbol in the gene table (columns "
                                  f"such as {list(features.columns)[:5]})", source)
        if len(named) < features.shape[1]:
            unnamed = [c for c in features.columns if c not in symbols]
            warnings.warn(f"{source}: {len(unnamed)} gene column(s) without a symbol dropped, "
                          f"e.g. {unnamed[:5]}", UserWarning, stacklevel=2)
        features = features[named].rename(columns=symbols)
        twice = features.columns[features.columns.duplicated()]
        if len(twice):
            raise FileFormatError(f"two gene columns map to the symbol {twice[0]!r}", source)
    index = pd.Index([node_prefix + i for i in ids], name="node_id")
    metadata = pd.DataFrame({"perturbagen": ids.to_numpy(), "n_replicates": 1}, index=index)
    return Profiles(metadata, features.set_axis(index, axis=0))
