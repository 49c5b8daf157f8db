"""Annotation tables: compound targets, gene-gene edges, gene over-expression profiles.

All link readers return the ``from_tables`` links format: columns ``source``, ``target``,
``kind``, ``weight``, node ids prefixed (``mol:<ik14>``, ``gene:<SYMBOL>``). Gene symbols are
kept as written (HGNC symbols are case-sensitive: ``C1orf112``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..graph.schema import GENE_PREFIX, gene_node_id
from ._common import (
    FileFormatError,
    PathLike,
    empty_links,
    make_links,
    read_table,
    require_columns,
    source_name,
)
from .gct import GCTData
from .identifiers import MatchReport, molecule_table

__all__ = [
    "GENE_PREFIX", "HETIONET_GENE_METAEDGES", "CompoundTargets", "entrez_symbols", "gene_node_id",
    "overexpression_profiles", "perturbation_links", "read_compound_targets",
    "read_hetionet_sif", "read_lincs_dysregulation", "read_ppi",
]

# Gene-interacts-Gene, Gene-covaries-Gene, Gene-regulates-Gene in Hetionet v1.0
HETIONET_GENE_METAEDGES = ("GiG", "GcG", "Gr>G")


class CompoundTargets(NamedTuple):
    """Molecules of an annotation table, their target links and how the SMILES parsed."""

    molecules: pd.DataFrame
    links: pd.DataFrame
    report: MatchReport


def read_compound_targets(
    path_or_frame: PathLike | pd.DataFrame,
    *,
    target_column: str = "target",
    smiles_column: str = "smiles",
    separator: str = "|",
    sep: str | None = "\t",
) -> CompoundTargets:
    """Molecule -> target-gene links from a compound annotation table.

    Works for the Drug Repurposing Hub (``repurposing_info.tsv``: ``target``) and JUMP-Target
    (``target_list``) compound tables: one row per sample, targets as gene symbols separated
    by ``|``. Compounds are keyed by the InChIKey skeleton computed from their SMILES, so
    several samples (salts, batches) of one compound give one molecule.

    Parameters
    ----------
    path_or_frame : path or DataFrame
        The annotation table.
    target_column : str
        Column with the target gene symbols (empty: no known target).
    smiles_column : str
        Column with the SMILES.
    separator : str
        Separator between symbols inside a cell.
    sep : str or None
        Field separator of the file (tab by default; ``None``: by extension).

    Returns
    -------
    CompoundTargets
        ``molecules`` (``id``, ``smiles``: every compound with a valid SMILES, targets or
        not), ``links`` (``source`` = ``mol:<ik14>``, ``target`` = ``gene:<SYMBOL>``,
        ``kind`` = ``"target"``, ``weight`` = 1.0, unique) and ``report`` (rows whose SMILES
        gave a molecule).

    Raises
    ------
    FileFormatError
        When ``target_column`` or ``smiles_column`` is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> hub = pd.DataFrame({"smiles": ["CCO", "c1ccccc1O"], "target": ["ADH1A|ADH1B", None]})
    >>> result = read_compound_targets(hub)
    >>> result.links["target"].tolist()
    ['gene:ADH1A', 'gene:ADH1B']
    """
    source = source_name(path_or_frame)
    table = read_table(path_or_frame, sep=sep)
    require_columns(table, [smiles_column, target_column], source)
    molecules, node_ids, report = molecule_table(table[smiles_column].tolist(), source=source)
    sources, targets = [], []
    for node, cell in zip(node_ids, table[target_column].tolist()):
        if node is None or not isinstance(cell, str):
            continue
        for symbol in cell.split(separator):
            if symbol.strip():
                sources.append(node)
                targets.append(gene_node_id(symbol))
    if not sources:
        return CompoundTargets(molecules, empty_links(), report)
    links = make_links(sources, targets, "target", undirected=False)
    return CompoundTargets(molecules, links.sort_values(["source", "target"], kind="stable")
                           .reset_index(drop=True), report)


def _hetionet_gene_symbols(nodes) -> dict[str, str]:
    source = source_name(nodes)
    table = read_table(nodes, sep="\t")
    require_columns(table, ["id", "name", "kind"], source)
    genes = table[table["kind"] == "Gene"]
    if genes.empty:
        raise FileFormatError("no node of kind 'Gene'", source, column="kind")
    return dict(zip(genes["id"].astype(str), genes["name"].astype(str)))


def read_hetionet_sif(
    path_or_frame: PathLike | pd.DataFrame,
    nodes: PathLike | pd.DataFrame,
    *,
    metaedges: Sequence[str] = HETIONET_GENE_METAEDGES,
    kind: str = "interaction",
) -> pd.DataFrame:
    """Gene-gene links from a Hetionet SIF edge list (``source metaedge target``).

    Parameters
    ----------
    path_or_frame : path or DataFrame
        Tab-separated ``source``, ``metaedge``, ``target`` with node ids like
        ``Gene::7157``.
    nodes : path or DataFrame
        Hetionet node table (``id``, ``name``, ``kind``) mapping ``Gene::<Entrez>`` to
        symbols.
    metaedges : sequence of str
        Edge types to keep; both ends must be genes.
    kind : str
        ``kind`` of the links.

    Returns
    -------
    DataFrame
        Links ``gene:<SYMBOL>`` - ``gene:<SYMBOL>``, weight 1, one per unordered pair.

    Raises
    ------
    FileFormatError
        Missing columns, or a kept edge whose end is not a known gene.

    Examples
    --------
    >>> import pandas as pd
    >>> sif = pd.DataFrame({"source": ["Gene::1"], "metaedge": ["GiG"], "target": ["Gene::2"]})
    >>> nodes = pd.DataFrame({"id": ["Gene::1", "Gene::2"], "name": ["A1BG", "A2M"],
    ...                       "kind": ["Gene", "Gene"]})
    >>> read_hetionet_sif(sif, nodes)[["source", "target"]].values.tolist()
    [['gene:A1BG', 'gene:A2M']]
    """
    source = source_name(path_or_frame)
    table = read_table(path_or_frame, sep="\t")
    require_columns(table, ["source", "metaedge", "target"], source)
    symbols = _hetionet_gene_symbols(nodes)
    edges = table[table["metaedge"].isin(list(metaedges))]
    if edges.empty:
        return empty_links()
    mapped = {}
    for end in ("source", "target"):
        mapped[end] = edges[end].astype(str).map(symbols)
        unknown = mapped[end].isna()
        if unknown.any():
            first = edges.index[unknown.to_numpy()][0]
            raise FileFormatError(
                f"{int(unknown.sum())} {end} node(s) of the kept edges are not genes of the "
                f"node table, e.g. {edges.loc[first, end]!r}",
                source, line=int(first) + 2 if source != "<DataFrame>" else None, column=end)
    return make_links(GENE_PREFIX + mapped["source"], GENE_PREFIX + mapped["target"], kind)


def read_ppi(
    path_or_frame: PathLike | pd.DataFrame,
    *,
    source_column: str = "source_symbol",
    target_column: str = "target_symbol",
    kind: str = "interaction",
) -> pd.DataFrame:
    """Gene-gene links from a protein-protein interaction table with gene symbols.

    The default columns fit ``hetio-dag_protein-interactions.txt`` (``source_symbol``,
    ``target_symbol``); self-interactions and repeated pairs (in either direction) are
    dropped.

    Parameters
    ----------
    path_or_frame : path or DataFrame
        Tab-separated table (or a DataFrame).
    source_column, target_column : str
        Columns holding the two gene symbols.
    kind : str
        ``kind`` of the links.

    Returns
    -------
    DataFrame
        Links ``gene:<SYMBOL>`` - ``gene:<SYMBOL>``, weight 1.

    Examples
    --------
    >>> import pandas as pd
    >>> ppi = pd.DataFrame({"source_symbol": ["A1BG", "ANXA7"],
    ...                     "target_symbol": ["ANXA7", "A1BG"]})
    >>> len(read_ppi(ppi))
    1
    """
    source = source_name(path_or_frame)
    table = read_table(path_or_frame, sep="\t")
    require_columns(table, [source_column, target_column], source)
    pairs = table[[source_column, target_column]].dropna()
    a = GENE_PREFIX + pairs[source_column].astype(str).str.strip()
    b = GENE_PREFIX + pairs[target_column].astype(str).str.strip()
    return make_links(a, b, kind)


def entrez_symbols(genes) -> dict[str, str]:
    """Entrez gene id -> symbol, from ``lincs_genes.tsv`` (``entrez_gene_id``, ``symbol``), a
    Hetionet node table (``id`` ``Gene::<Entrez>``, ``name``, ``kind``) or a mapping.

    Examples
    --------
    >>> import pandas as pd
    >>> entrez_symbols(pd.DataFrame({"entrez_gene_id": [7157], "symbol": ["TP53"]}))
    {'7157': 'TP53'}
    """
    if isinstance(genes, (Mapping, pd.Series)):
        return {str(k): str(v) for k, v in genes.items()}
    return _entrez_symbols(genes)


def _entrez_symbols(genes) -> dict[str, str]:
    if isinstance(genes, dict):
        return {str(k): str(v) for k, v in genes.items()}
    table = read_table(genes, sep="\t")
    if {"entrez_gene_id", "symbol"} <= set(table.columns):
        return dict(zip(table["entrez_gene_id"].astype(str), table["symbol"].astype(str)))
    if {"id", "name", "kind"} <= set(table.columns):
        return {key.split("::", 1)[1]: value
                for key, value in _hetionet_gene_symbols(table).items()}
    raise FileFormatError(
        "gene table needs columns 'entrez_gene_id' and 'symbol' (lincs_genes.tsv) or 'id', "
        f"'name', 'kind' (Hetionet nodes); it has {list(table.columns)[:8]}",
        source_name(genes))


def read_lincs_dysregulation(
    path_or_frame: PathLike | pd.DataFrame,
    genes: PathLike | pd.DataFrame,
    *,
    kind: str = "interaction",
    min_abs_z: float = 0.0,
) -> pd.DataFrame:
    """Gene-gene links "over-expressing gene X changes gene Y" (``lincs_dysreg-*.tsv``).

    Parameters
    ----------
    path_or_frame : path or DataFrame
        Table with ``perturbagen`` (Entrez id of the over-expressed gene), ``symbol`` (the
        changed gene) and ``z_score``.
    genes : path, DataFrame or mapping
        Names the perturbagens: a table with ``entrez_gene_id`` and ``symbol``
        (``lincs_genes.tsv``, which covers L1000 genes only), a Hetionet node table (``id``
        ``Gene::<Entrez>``, ``name``, ``kind``; covers all human genes) or a mapping
        Entrez id -> symbol.
    kind : str
        ``kind`` of the links.
    min_abs_z : float
        Keep calls with ``|z_score| >= min_abs_z``.

    Returns
    -------
    DataFrame
        Links from ``gene:<over-expressed>`` to ``gene:<changed>``, weight 1; calls whose
        perturbagen has no symbol are dropped.

    Examples
    --------
    >>> import pandas as pd
    >>> calls = pd.DataFrame({"perturbagen": [2], "symbol": ["CDC20"], "z_score": [-4.7]})
    >>> genes = pd.DataFrame({"entrez_gene_id": [2], "symbol": ["A2M"]})
    >>> read_lincs_dysregulation(calls, genes)["source"].tolist()
    ['gene:A2M']
    """
    source = source_name(path_or_frame)
    table = read_table(path_or_frame, sep="\t")
    require_columns(table, ["perturbagen", "symbol", "z_score"], source)
    names = _entrez_symbols(genes)
    z = pd.to_numeric(table["z_score"], errors="coerce")
    perturbagen = table["perturbagen"].astype(str).map(names)
    keep = perturbagen.notna() & table["symbol"].notna() & (z.abs() >= min_abs_z)
    return make_links(GENE_PREFIX + perturbagen[keep],
                      GENE_PREFIX + table.loc[keep, "symbol"].astype(str).str.strip(), kind,
                      undirected=False)


def overexpression_profiles(
    gct: GCTData,
    *,
    gene_column: str = "x_genesymbol_mutation",
    pert_type_column: str | None = "pert_type",
    treatment_values: Sequence[str] = ("trt_oe",),
    include_mutants: bool = False,
    mutant_separator: str = "_",
) -> pd.DataFrame:
    """Gene-node features from gene over-expression (ORF) profiles: median per gene.

    Parameters
    ----------
    gct : GCTData
        Expression of the over-expression wells (e.g. the ORF L1000 plate), samples as rows.
    gene_column : str
        Column metadata field with the over-expressed gene's symbol (mutants as
        ``SYMBOL_MUTATION``, e.g. ``BRAF_V600E``).
    pert_type_column : str or None
        Field that tells treatment wells from controls; ``None`` keeps every well.
    treatment_values : sequence of str
        Values of ``pert_type_column`` to keep.
    include_mutants : bool
        Mutant constructs change the gene's function, so by default only wild-type
        over-expression describes the gene node; ``True`` counts a mutant as its gene.
    mutant_separator : str
        Separator between the symbol and the mutation.

    Returns
    -------
    DataFrame
        Index ``gene:<SYMBOL>`` (sorted), the expression columns of ``gct``.

    Examples
    --------
    >>> import pandas as pd
    >>> from infoalign_sklearn.readers import read_l1000_csv
    >>> m = pd.DataFrame({"cid": ["w1", "w2", "w3"], "MYC": [1.0, 3.0, 9.0]})
    >>> c = pd.DataFrame({"cid": ["w1", "w2", "w3"], "pert_type": ["trt_oe"] * 3,
    ...                   "x_genesymbol_mutation": ["TP53", "TP53", "TP53_R175H"]})
    >>> overexpression_profiles(read_l1000_csv(m, c))["MYC"].to_dict()
    {'gene:TP53': 2.0}
    """
    needed = [gene_column] + ([pert_type_column] if pert_type_column else [])
    require_columns(gct.col_meta, needed, f"{gct!r} column metadata", "column metadata field")
    meta = gct.col_meta
    keep = meta[gene_column].notna().to_numpy().copy()
    if pert_type_column:
        keep &= meta[pert_type_column].astype(str).isin(list(treatment_values)).to_numpy()
    symbols = meta[gene_column].astype(str).str.strip()
    is_mutant = symbols.str.contains(mutant_separator, regex=False).to_numpy()
    if include_mutants:
        symbols = symbols.str.split(mutant_separator, n=1).str[0]
    else:
        keep &= ~is_mutant
    if not keep.any():
        raise ValueError(f"no over-expression sample left (check {gene_column!r} and "
                         f"{pert_type_column!r} = {list(treatment_values)})")
    labels = pd.Index((GENE_PREFIX + symbols[keep]).to_numpy(), name="node_id")
    return gct.data[keep].set_axis(labels, axis=0).groupby(level=0, sort=True).median()


def perturbation_links(profile_ids: Sequence[str], molecule_ids: Sequence,
                       kind: str = "perturbation") -> pd.DataFrame:
    """Links from each profile node to the molecule that produced it.

    Parameters
    ----------
    profile_ids : sequence of str
        Profile node ids (``cp:...``, ``ge:...``).
    molecule_ids : sequence of str or None
        ``mol:<ik14>`` of each profile's perturbagen, aligned; ``None`` / NaN skips it.
    kind : str
        ``kind`` of the links.

    Returns
    -------
    DataFrame
        Links ``mol:<ik14>`` -> profile node, weight 1.

    Examples
    --------
    >>> perturbation_links(["cp:A@1", "cp:B@1"], ["mol:LFQSCWFLJHTTHZ", None])["target"].tolist()
    ['cp:A@1']
    """
    if len(profile_ids) != len(molecule_ids):
        raise ValueError(f"{len(profile_ids)} profile ids but {len(molecule_ids)} molecule ids")
    molecules = pd.Series(list(molecule_ids), dtype=object)
    keep = molecules.notna().to_numpy()
    if not keep.any():
        return empty_links()
    return make_links(molecules[keep].to_numpy(), np.asarray(list(profile_ids))[keep], kind,
                      undirected=False)
