"""Building a :class:`~.context.ContextGraph` from pandas tables.

The paper's graph (DESIGN.md) has four kinds of edges: *perturbation* and *biology* links that
come from tables (molecule-profile, gene-profile, gene-gene, molecule-target gene), and two
computed kinds built here:

- *similarity*: cosine similarity within one feature space, kept where it is at least
  ``similarity_threshold`` and among the top ``1 - sparsity`` of all pairs. It is computed in
  row blocks against the remaining rows, keeping only candidates above a running cut-off, so
  memory stays bounded by the number of edges kept (never an all-pairs matrix).
- *expression*: molecule-gene edges for the largest ``|value|`` entries of the expression
  profiles of molecules (a strongly up- or down-regulated gene is "reached" by the molecule).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from functools import partial

import numpy as np
import pandas as pd

from .._parallel import chunked_map
from ..chem import FingerprintSpec
from .context import EDGE_KINDS, MODALITIES, FeatureBlock

PROFILE_MODALITIES = ("morphology", "expression", "gene")
GENE_PREFIX = "gene:"
_MAX_EXAMPLES = 5


def _examples(labels: Sequence, values: Sequence | None = None) -> str:
    labels = list(labels)
    if values is None:
        shown = [repr(label) for label in labels[:_MAX_EXAMPLES]]
    else:
        shown = [f"{label!r} ({value!r})" for label, value in zip(labels, list(values))]
        shown = shown[:_MAX_EXAMPLES]
    more = f" and {len(labels) - _MAX_EXAMPLES} more" if len(labels) > _MAX_EXAMPLES else ""
    return ", ".join(shown) + more


def table_error(table: str, column: str, problem: str, rows: Sequence,
                values: Sequence | None = None) -> ValueError:
    """A ValueError naming the table, the column and example rows."""
    return ValueError(
        f"{table}: column {column!r} {problem} in {len(list(rows))} row(s), e.g. rows "
        f"{_examples(rows, values)}"
    )


def _require_columns(df, table: str, required: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{table} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(
            f"{table}: missing column(s) {missing}; it has {list(map(str, df.columns))[:10]}"
        )


def _check_ids(ids: pd.Series, table: str, column: str) -> np.ndarray:
    missing = ids.isna().to_numpy()
    if missing.any():
        raise table_error(table, column, "is missing", ids.index[missing])
    as_str = ids.astype(str).str.strip()
    empty = (as_str == "").to_numpy()
    if empty.any():
        raise table_error(table, column, "is empty", ids.index[empty])
    dup = as_str.duplicated(keep=False).to_numpy()
    if dup.any():
        raise table_error(table, column, "has duplicate ids", ids.index[dup], as_str[dup])
    return as_str.to_numpy(dtype=object)


def _log(verbose, message: str, start: float) -> None:
    if verbose:
        print(f"[ContextGraph.from_tables {time.perf_counter() - start:7.1f}s] {message}",
              flush=True)


def _profile_matrix(df, table: str, binary: bool = False) -> np.ndarray:
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
            f"({len(non_numeric)} such column(s): {_examples(non_numeric)})"
        )
    values = df.to_numpy(dtype=np.float32, na_value=np.nan, copy=True)
    infinite = np.isinf(values)
    if infinite.any():
        col = int(np.flatnonzero(infinite.any(axis=0))[0])
        rows = np.flatnonzero(infinite[:, col])
        raise table_error(table, str(df.columns[col]), "has infinite values", df.index[rows],
                          values[rows, col].tolist())
    if binary:
        bad = ~np.isin(values, (0.0, 1.0))
        if bad.any():
            col = int(np.flatnonzero(bad.any(axis=0))[0])
            rows = np.flatnonzero(bad[:, col])
            raise table_error(table, str(df.columns[col]), "has values other than 0 / 1",
                              df.index[rows], values[rows, col].tolist())
    return values


def minmax_scale(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale each column to [0, 1] in place; return ``(values, lower, upper)`` (float32).

    NaN stays NaN. A constant column scales to 0; an all-NaN column has NaN bounds.

    Examples
    --------
    >>> import numpy as np
    >>> v, lo, hi = minmax_scale(np.array([[1.0, 5.0], [3.0, 5.0]], np.float32))
    >>> v.tolist(), lo.tolist(), hi.tolist()
    ([[0.0, 0.0], [1.0, 0.0]], [1.0, 5.0], [3.0, 5.0])
    """
    values = np.asarray(values, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        lower = np.nanmin(values, axis=0) if values.shape[0] else np.full(values.shape[1], np.nan)
        upper = np.nanmax(values, axis=0) if values.shape[0] else np.full(values.shape[1], np.nan)
    lower = lower.astype(np.float32)
    upper = upper.astype(np.float32)
    span = upper - lower
    # constant columns carry no information: map them to 0 rather than dividing by zero
    safe_span = np.where(span > 0, span, np.float32(1))
    values -= lower
    values /= safe_span
    # float32 rounding can step just outside [0, 1]; NaN passes through clip unchanged
    np.clip(values, 0.0, 1.0, out=values)
    return values, lower, upper


def similarity_edges(values: np.ndarray, threshold: float = 0.8, sparsity: float = 0.995,
                     centre: bool = False, max_block_bytes: int = 128 * 2**20):
    """Cosine-similarity edges among the rows of ``values`` without an all-pairs matrix.

    A pair ``(i, j)``, ``i < j``, is kept when its cosine similarity is at least ``threshold``
    and it is among the ``ceil((1 - sparsity) * n * (n - 1) / 2)`` most similar pairs (ties
    broken by ``(i, j)``). Rows are processed in blocks against the rows after them; each
    block contributes only pairs above the running cut-off, and the candidate pool is pruned
    to the best pairs whenever it doubles, so memory is bounded by the edges kept plus one
    block of similarities.

    Parameters
    ----------
    values : ndarray, shape (n, d)
        Features; NaN is treated as 0 (after centring). Rows of zeros have no edges.
    threshold : float, default=0.8
        Minimum cosine similarity.
    sparsity : float, default=0.995
        Share of all pairs that is *not* kept, at most.
    centre : bool, default=False
        Subtract each row's mean first (cosine then equals the Pearson correlation).
    max_block_bytes : int
        Size of one block of similarities.

    Returns
    -------
    rows, cols : ndarray of int64
        Row indices of each kept pair, ``rows < cols``.
    similarity : ndarray of float32
        Their similarity, clipped to [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 0], [1, 0.1], [0, 1]], np.float32)
    >>> i, j, s = similarity_edges(x, threshold=0.9, sparsity=0.0)
    >>> i.tolist(), j.tolist()
    ([0], [1])
    """
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must lie in [0, 1], got {sparsity}")
    x = np.array(values, dtype=np.float32)
    n = x.shape[0]
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))
    n_pairs = n * (n - 1) // 2
    budget = math.ceil(round((1.0 - sparsity) * n_pairs, 6))
    if n < 2 or budget == 0:
        return empty
    if centre:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            means = np.nanmean(x, axis=1, keepdims=True)
        x -= np.nan_to_num(means)
    np.nan_to_num(x, copy=False, nan=0.0)
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    zero = norms == 0
    x /= np.where(zero, np.float32(1), norms)[:, None]
    block = int(max(1, min(n, max_block_bytes // (4 * n))))
    cut = np.float32(threshold)
    pool_rows: list = []
    pool_cols: list = []
    pool_sims: list = []
    pool_size = 0
    for start in range(0, n, block):
        stop = min(n, start + block)
        sims = x[start:stop] @ x[start:].T
        # only pairs (i, j) with j > i: blank the diagonal block's lower triangle
        lower_r, lower_c = np.tril_indices(stop - start)
        sims[lower_r, lower_c] = -np.inf
        r, c = np.nonzero(sims >= cut)
        if r.size == 0:
            continue
        pool_rows.append(r + start)
        pool_cols.append(c + start)
        pool_sims.append(sims[r, c])
        pool_size += r.size
        if pool_size > 2 * budget:
            rows_, cols_, sims_ = _top_pairs(pool_rows, pool_cols, pool_sims, budget)
            pool_rows, pool_cols, pool_sims = [rows_], [cols_], [sims_]
            pool_size = rows_.size
            # later blocks must beat the weakest pair kept so far to matter
            cut = max(cut, sims_.min())
    if pool_size == 0:
        return empty
    rows_, cols_, sims_ = _top_pairs(pool_rows, pool_cols, pool_sims, budget)
    keep = ~(zero[rows_] | zero[cols_])
    return rows_[keep], cols_[keep], np.clip(sims_[keep], 0.0, 1.0)


def _top_pairs(rows, cols, sims, budget):
    rows = np.concatenate(rows).astype(np.int64)
    cols = np.concatenate(cols).astype(np.int64)
    sims = np.concatenate(sims).astype(np.float32)
    if rows.size > budget:
        # exact and deterministic: most similar first, ties by (row, col)
        if rows.size > 4 * budget:
            kth = np.partition(sims, rows.size - budget)[rows.size - budget]
            pre = sims >= kth
            rows, cols, sims = rows[pre], cols[pre], sims[pre]
        order = np.lexsort((cols, rows, -sims))[:budget]
        rows, cols, sims = rows[order], cols[order], sims[order]
    return rows, cols, sims


def gene_node_id(column: str) -> str:
    """The gene node an expression column refers to: ``gene:<column>`` (kept if prefixed).

    Examples
    --------
    >>> gene_node_id("TP53"), gene_node_id("gene:TP53")
    ('gene:TP53', 'gene:TP53')
    """
    column = str(column).strip()
    return column if column.startswith(GENE_PREFIX) else GENE_PREFIX + column


def expression_gene_edges(raw: np.ndarray, expression_nodes: np.ndarray, columns: Sequence[str],
                          molecule_of: pd.DataFrame, gene_index: Mapping[str, int],
                          fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Molecule-gene pairs for the largest ``|value|`` entries of molecules' expression profiles.

    Parameters
    ----------
    raw : ndarray (n_rows, d)
        Raw expression values (rows aligned with ``expression_nodes``).
    expression_nodes : ndarray of int64
        Graph index of each row's expression node.
    columns : sequence of str
        Column names; matched to genes by :func:`gene_node_id`.
    molecule_of : DataFrame
        Columns ``expression`` and ``molecule`` (graph indices): which molecule produced each
        expression profile.
    gene_index : mapping
        Gene node id to graph index.
    fraction : float
        Share of the finite entries of the linked profiles to turn into edges (rounded up).

    Returns
    -------
    molecules, genes : ndarray of int64
    """
    empty = (np.empty(0, np.int64), np.empty(0, np.int64))
    if fraction <= 0 or raw.size == 0 or molecule_of.empty:
        return empty
    row_of_node = pd.Series(np.arange(len(expression_nodes)), index=expression_nodes)
    linked_rows = np.unique(row_of_node.reindex(molecule_of["expression"].unique()).to_numpy())
    if linked_rows.size == 0:
        return empty
    magnitude = np.abs(raw[linked_rows])
    finite = np.isfinite(magnitude)
    n_select = math.ceil(round(fraction * int(finite.sum()), 6))
    if n_select == 0:
        return empty
    flat = np.where(finite, magnitude, -1.0).ravel()
    top = np.argpartition(-flat, n_select - 1)[:n_select] if n_select < flat.size \
        else np.arange(flat.size)
    top = top[flat[top] >= 0]
    row, col = np.unravel_index(top, magnitude.shape)
    gene_of_column = np.array([gene_index.get(gene_node_id(c), -1) for c in columns], np.int64)
    genes = gene_of_column[col]
    has_gene = genes >= 0
    picked = pd.DataFrame({
        "expression": expression_nodes[linked_rows[row[has_gene]]],
        "gene": genes[has_gene],
    })
    pairs = picked.merge(molecule_of, on="expression")[["molecule", "gene"]].drop_duplicates()
    return pairs["molecule"].to_numpy(np.int64), pairs["gene"].to_numpy(np.int64)


def _fingerprint_rows(chunk, spec: FingerprintSpec) -> list:
    return list(spec.compute(chunk))


def build_from_tables(
    cls,
    molecules: pd.DataFrame,
    profiles: Mapping[str, pd.DataFrame] | None = None,
    genes: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
    *,
    fingerprint_radius: int = 2,
    fingerprint_bits: int = 1024,
    fingerprint_counts: bool = False,
    similarity_threshold: float = 0.8,
    sparsity: float = 0.995,
    similarity_modalities: Sequence[str] = MODALITIES,
    expression_gene_fraction: float = 0.01,
    aggregate_replicates: Mapping[str, pd.Series] | None = None,
    metadata: Mapping | None = None,
    n_jobs: int | None = None,
    verbose=0,
):
    """Validate the tables and assemble a context graph (see ``ContextGraph.from_tables``).

    Node order: molecules (table order), morphology, expression, then gene nodes.
    Expression columns are matched to gene nodes by name: column ``c`` refers to gene node
    ``gene:c`` (a column already named ``gene:c`` is used as is); unmatched columns give no
    edges. Expression edges have weight 1. Similarity is the cosine of the fingerprint bits,
    and of the raw profiles centred on each profile's own mean (Pearson correlation, as the
    authors' code computes it) for the other modalities.
    """
    start = time.perf_counter()
    profiles = dict(profiles or {})
    aggregate_replicates = dict(aggregate_replicates or {})
    unknown = sorted(set(profiles) - set(MODALITIES))
    if unknown:
        raise ValueError(f"profiles: unknown modality {unknown}; expected {MODALITIES}")
    unknown = sorted(set(aggregate_replicates) - set(PROFILE_MODALITIES))
    if unknown:
        raise ValueError(f"aggregate_replicates: unknown modality {unknown}; "
                         f"expected {PROFILE_MODALITIES}")
    unknown = sorted(set(similarity_modalities) - set(MODALITIES))
    if unknown:
        raise ValueError(f"similarity_modalities: unknown {unknown}; expected {MODALITIES}")
    if not 0.0 <= expression_gene_fraction <= 1.0:
        raise ValueError(f"expression_gene_fraction must lie in [0, 1], got "
                         f"{expression_gene_fraction}")

    _require_columns(molecules, "molecules", ["id", "smiles"])
    mol_ids = _check_ids(molecules["id"], "molecules", "id")
    smiles = molecules["smiles"]
    bad = (smiles.isna() | (smiles.astype(str).str.strip() == "")).to_numpy()
    if bad.any():
        raise table_error("molecules", "smiles", "is missing", molecules.index[bad])
    smiles = smiles.astype(str).str.strip().to_numpy(dtype=object)
    keys = None
    if "inchikey14" in molecules.columns:
        keys = molecules["inchikey14"].astype(str).str[:14].to_numpy(dtype=object)

    gene_ids = np.empty(0, dtype=object)
    if genes is not None:
        _require_columns(genes, "genes", ["id"])
        gene_ids = _check_ids(genes["id"], "genes", "id")

    # replicates -> one profile per group (median), before any scaling or similarity
    tables: dict = {}
    for modality, df in profiles.items():
        name = f"profiles[{modality!r}]"
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
        index = pd.Series(df.index.astype(str), index=df.index)
        if index.isna().any() or (index.str.strip() == "").any():
            raise table_error(name, "index", "is missing", df.index[index.isna() | (index == "")])
        df = df.set_axis(index.to_numpy(), axis=0)
        if modality in aggregate_replicates:
            groups = pd.Series(aggregate_replicates[modality])
            groups.index = groups.index.astype(str)
            unknown_rep = groups.index.difference(df.index)
            if len(unknown_rep):
                raise table_error(f"aggregate_replicates[{modality!r}]", "index",
                                  f"names replicates not in {name}", list(unknown_rep))
            group_of = pd.Series(df.index, index=df.index)
            group_of.update(groups.astype(str))
            _profile_matrix(df, name)  # report bad values against the replicate rows
            df = df.groupby(group_of.to_numpy(), sort=False).median()
        else:
            dup = df.index.duplicated(keep=False)
            if dup.any():
                raise table_error(name, "index", "has duplicate ids", list(df.index[dup]))
        tables[modality] = df

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

    groups_of_ids = [("molecules", mol_ids, "molecule")]
    for modality in ("morphology", "expression"):
        if modality in tables:
            groups_of_ids.append((f"profiles[{modality!r}]", tables[modality].index.to_numpy(object),
                                  modality))
    groups_of_ids.append(("genes", gene_ids, "gene"))
    node_ids = np.concatenate([ids for _, ids, _ in groups_of_ids]).astype(object)
    kinds = np.concatenate([[kind] * len(ids) for _, ids, kind in groups_of_ids]).astype(object)
    owner = np.concatenate([[table] * len(ids) for table, ids, _ in groups_of_ids])
    dup = pd.Index(node_ids).duplicated(keep=False)
    if dup.any():
        first = node_ids[dup][0]
        where = sorted(set(owner[node_ids == first].tolist()))
        raise ValueError(
            f"node ids must be unique over the whole graph; {int(dup.sum())} duplicates, e.g. "
            f"{first!r} in {where} (prefix ids by kind, e.g. 'mol:', 'cp:', 'ge:', 'gene:')"
        )
    n_nodes = len(node_ids)
    id_index = pd.Series(np.arange(n_nodes, dtype=np.int64), index=node_ids)
    node_smiles = np.concatenate([smiles, np.full(n_nodes - len(mol_ids), None, dtype=object)])
    node_keys = None
    if keys is not None:
        node_keys = np.concatenate([keys, np.full(n_nodes - len(mol_ids), None, dtype=object)])
    _log(verbose, f"{n_nodes} nodes", start)

    edge_src: list = []
    edge_dst: list = []
    edge_w: list = []
    edge_kind: list = []
    if links is not None:
        s, t, w, k = _link_edges(links, id_index, aggregate_replicates, tables)
        edge_src.append(s)
        edge_dst.append(t)
        edge_w.append(w)
        edge_kind.append(k)
    n_link_edges = sum(len(s) for s in edge_src)

    blocks: dict = {}
    similarity_counts: dict = {}
    expression_edge_count = 0
    sim_code = EDGE_KINDS.index("similarity")

    def add_similarity(modality, raw, nodes, centre):
        if modality not in similarity_modalities or len(nodes) < 2:
            return
        r, c, sim = similarity_edges(raw, similarity_threshold, sparsity, centre=centre)
        similarity_counts[modality] = int(r.size)
        edge_src.append(nodes[r])
        edge_dst.append(nodes[c])
        edge_w.append(sim)
        edge_kind.append(np.full(r.size, sim_code, np.int8))
        _log(verbose, f"{modality}: {r.size} similarity edges", start)

    # fingerprints
    mol_nodes = np.arange(len(mol_ids), dtype=np.int64)
    spec = FingerprintSpec(fingerprint_radius, fingerprint_bits, fingerprint_counts)
    if "fingerprint" in tables:
        fp_table = tables["fingerprint"]
        bits = _profile_matrix(fp_table, "profiles['fingerprint']", binary=not fingerprint_counts)
        fp_nodes = id_index[fp_table.index].to_numpy(np.int64)
        fp_columns = tuple(map(str, fp_table.columns))
        # the spec describes them as far as the table tells: its width and the given radius
        spec = FingerprintSpec(fingerprint_radius, bits.shape[1], fingerprint_counts)
    else:
        rows = chunked_map(
            partial(_fingerprint_rows, spec=spec), list(smiles), n_jobs=n_jobs, verbose=verbose,
            desc="fingerprints",
        )
        bits = np.asarray(rows, dtype=np.float32).reshape(len(smiles), spec.n_bits)
        invalid = np.isnan(bits).any(axis=1)
        if invalid.any():
            raise table_error("molecules", "smiles", "is not a valid molecule",
                              molecules.index[invalid], smiles[invalid])
        fp_nodes = mol_nodes
        fp_columns = tuple(f"fp_{i}" for i in range(spec.n_bits))
        _log(verbose, "fingerprints", start)
    add_similarity("fingerprint", bits, fp_nodes, centre=False)
    fp_rows = np.full(n_nodes, -1, dtype=np.int64)
    fp_rows[fp_nodes] = np.arange(len(fp_nodes))
    if spec.counts:
        # counts are scaled to [0, 1] like profiles; new molecules use the same bounds
        values, lower, upper = minmax_scale(bits)
        blocks["fingerprint"] = FeatureBlock(fp_rows, values, lower, upper, fp_columns, False)
    else:
        blocks["fingerprint"] = FeatureBlock(fp_rows, bits, np.zeros(bits.shape[1], np.float32),
                                             np.ones(bits.shape[1], np.float32), fp_columns, True)
    del bits

    gene_index = {g: int(id_index[g]) for g in gene_ids}
    for modality in PROFILE_MODALITIES:
        if modality not in tables:
            continue
        df = tables.pop(modality)
        raw = _profile_matrix(df, f"profiles[{modality!r}]")
        nodes = id_index[df.index].to_numpy(np.int64)
        columns = tuple(map(str, df.columns))
        del df
        add_similarity(modality, raw, nodes, centre=True)
        if modality == "expression" and expression_gene_fraction > 0 and gene_index:
            molecule_of = _molecule_expression_pairs(edge_src, edge_dst, edge_kind, kinds)
            m, g = expression_gene_edges(raw, nodes, columns, molecule_of, gene_index,
                                         expression_gene_fraction)
            expression_edge_count = int(m.size)
            edge_src.append(m)
            edge_dst.append(g)
            edge_w.append(np.ones(m.size, np.float32))
            edge_kind.append(np.full(m.size, EDGE_KINDS.index("expression"), np.int8))
            _log(verbose, f"{m.size} molecule-gene expression edges", start)
        values, lower, upper = minmax_scale(raw)
        rows = np.full(n_nodes, -1, dtype=np.int64)
        rows[nodes] = np.arange(len(nodes))
        blocks[modality] = FeatureBlock(rows, values, lower, upper, columns, False)
        del raw, values

    meta = {
        "simulated": False,
        "builder": "ContextGraph.from_tables",
        "fingerprint": spec.to_dict(),
        "options": {
            "fingerprint_radius": spec.radius,
            "fingerprint_bits": spec.n_bits,
            "fingerprint_counts": spec.counts,
            "precomputed_fingerprints": "fingerprint" in profiles,
            "similarity_threshold": similarity_threshold,
            "sparsity": sparsity,
            "similarity_modalities": list(similarity_modalities),
            "expression_gene_fraction": expression_gene_fraction,
            "aggregated_replicates": sorted(aggregate_replicates),
        },
        "edges_built": {
            "links": int(n_link_edges),
            "similarity": similarity_counts,
            "expression": expression_edge_count,
        },
    }
    meta.update(dict(metadata or {}))
    graph = cls.from_edges(
        node_ids, kinds, node_smiles, blocks,
        edges=(_cat(edge_src, np.int64), _cat(edge_dst, np.int64), _cat(edge_w, np.float32),
               _cat(edge_kind, np.int8)),
        metadata=meta, inchikey14=node_keys,
    )
    _log(verbose, f"done: {graph.n_edges} edges", start)
    return graph


def _cat(parts, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)


def _link_edges(links, id_index: pd.Series, aggregate_replicates, tables):
    _require_columns(links, "links", ["source", "target", "kind"])
    renamed = {}
    for groups in aggregate_replicates.values():
        groups = pd.Series(groups)
        renamed.update(dict(zip(groups.index.astype(str), groups.astype(str))))
    ends = []
    for column in ("source", "target"):
        values = links[column]
        missing = values.isna().to_numpy()
        if missing.any():
            raise table_error("links", column, "is missing", links.index[missing])
        ids = values.astype(str).str.strip()
        if renamed:
            ids = ids.map(lambda v: renamed.get(v, v))
        index = id_index.reindex(ids.to_numpy()).to_numpy()
        unknown = np.isnan(index)
        if unknown.any():
            raise table_error("links", column, "refers to unknown node ids",
                              links.index[unknown], values[unknown].tolist())
        ends.append(index.astype(np.int64))
    kind = links["kind"].astype(str).str.strip()
    bad = ~kind.isin(EDGE_KINDS).to_numpy()
    if bad.any():
        raise table_error("links", "kind", f"is not one of {EDGE_KINDS}", links.index[bad],
                          kind[bad].tolist())
    if "weight" in links.columns:
        weight = pd.to_numeric(links["weight"], errors="coerce").to_numpy(np.float64)
        bad = ~np.isfinite(weight) | (weight < 0) | (weight > 1)
        if bad.any():
            raise table_error("links", "weight", "is missing or outside [0, 1]",
                              links.index[bad], links["weight"][bad].tolist())
    else:
        weight = np.ones(len(links))
    loops = ends[0] == ends[1]
    if loops.any():
        raise table_error("links", "target", "equals the source (self-loop)", links.index[loops],
                          links["target"][loops].tolist())
    codes = kind.map({k: i for i, k in enumerate(EDGE_KINDS)}).to_numpy(np.int8)
    return ends[0], ends[1], weight.astype(np.float32), codes


def _molecule_expression_pairs(edge_src, edge_dst, edge_kind, kinds) -> pd.DataFrame:
    """(expression node, molecule node) pairs joined by perturbation links."""
    if not edge_src:
        return pd.DataFrame({"expression": [], "molecule": []}, dtype=np.int64)
    src = np.concatenate(edge_src)
    dst = np.concatenate(edge_dst)
    kind = np.concatenate(edge_kind)
    pert = kind == EDGE_KINDS.index("perturbation")
    src, dst = src[pert], dst[pert]
    is_mol = kinds == "molecule"
    is_expr = kinds == "expression"
    forward = is_mol[src] & is_expr[dst]
    backward = is_expr[src] & is_mol[dst]
    return pd.DataFrame({
        "expression": np.concatenate([dst[forward], src[backward]]),
        "molecule": np.concatenate([src[forward], dst[backward]]),
    }).drop_duplicates()
