"""Building a context graph from pandas tables: validation, then assembly in steps.

The paper's graph (DESIGN.md) has four kinds of edges: *perturbation* and *biology* links that
come from tables (molecule-profile, gene-profile, gene-gene, molecule-target gene), and two
computed kinds: *similarity* within one feature space (:mod:`.similarity`) and molecule-gene
*expression* edges (:mod:`.edges`). :func:`build_from_tables` returns the parts of the graph;
:meth:`ContextGraph.from_tables <infoalign_sklearn.graph.ContextGraph.from_tables>` turns them
into the graph. :class:`BuildOptions` is the one declaration of the build options.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._utils.parallel import chunked_map
from .blocks import Bounds, FeatureBlock, minmax_scale
from .edges import EdgeList, expression_gene_edges, molecule_expression_pairs
from .schema import GENE_PREFIX, MODALITIES, PROFILE_MODALITIES, FingerprintSpec, gene_node_id
from .similarity import similarity_edges
from .validation import (
    MoleculeColumns,
    check_ids,
    check_profile_ids,
    link_edges,
    molecule_columns,
    profile_matrix,
    profile_tables,
    require_columns,
    table_error,
)

__all__ = [
    "GENE_PREFIX", "PROFILE_MODALITIES", "BuildOptions", "GraphParts", "Progress",
    "build_from_tables", "gene_node_id", "minmax_scale", "similarity_edges", "table_error",
]


@dataclass(frozen=True)
class BuildOptions:
    """Options of :meth:`ContextGraph.from_tables` (their one declaration, with defaults).

    Parameters
    ----------
    fingerprint_radius, fingerprint_bits : int, default=2, 1024
        Morgan fingerprint of the molecule nodes (unless precomputed); the authors' code uses
        radius 4. Kept as the graph's ``fingerprint_spec``.
    fingerprint_counts : bool, default=False
        Count fingerprints, min-max scaled like profiles, instead of bits.
    similarity_threshold : float, default=0.8
        Minimum cosine similarity of a computed similarity edge.
    sparsity : float, default=0.995
        At most the top ``1 - sparsity`` of all pairs of one feature space become edges.
    similarity_modalities : sequence of str, default=MODALITIES
        Feature spaces that get similarity edges; ``()`` for none.
    expression_gene_fraction : float, default=0.01
        Share of the largest ``|expression|`` entries of molecules' expression profiles that
        become molecule-gene edges.
    aggregate_replicates : dict of str to Series, optional
        Modality to a Series mapping replicate profile id to node id.
    metadata : dict, optional
        Stored on the graph.
    n_jobs : int, optional
        Workers for the fingerprints.
    verbose : int, default=0
        Print the stages and their times.
    """

    fingerprint_radius: int = 2
    fingerprint_bits: int = 1024
    fingerprint_counts: bool = False
    similarity_threshold: float = 0.8
    sparsity: float = 0.995
    similarity_modalities: Sequence[str] = MODALITIES
    expression_gene_fraction: float = 0.01
    aggregate_replicates: Mapping[str, pd.Series] | None = field(default=None, hash=False)
    metadata: Mapping | None = field(default=None, hash=False)
    n_jobs: int | None = None
    verbose: int = 0

    def check(self, profiles: Mapping) -> None:
        """ValueError for unknown modalities or a fraction outside [0, 1]."""
        checks = (("profiles: unknown modality", profiles, MODALITIES),
                  ("aggregate_replicates: unknown modality", self.aggregate_replicates or {},
                   PROFILE_MODALITIES),
                  ("similarity_modalities: unknown", self.similarity_modalities, MODALITIES))
        for problem, given, known in checks:
            unknown = sorted(set(given) - set(known))
            if unknown:
                raise ValueError(f"{problem} {unknown}; expected {known}")
        if not 0.0 <= self.expression_gene_fraction <= 1.0:
            raise ValueError(f"expression_gene_fraction must lie in [0, 1], got "
                             f"{self.expression_gene_fraction}")


class Progress:
    """Prints ``[ContextGraph.from_tables  12.3s] message`` lines when ``verbose``."""

    def __init__(self, verbose) -> None:
        self.verbose = verbose
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.verbose:
            print(f"[ContextGraph.from_tables {time.perf_counter() - self.start:7.1f}s] "
                  f"{message}", flush=True)


class GraphParts(NamedTuple):
    """What :func:`build_from_tables` assembles: ``ContextGraph.from_edges(*parts)``."""

    node_ids: np.ndarray
    kinds: np.ndarray
    smiles: np.ndarray
    blocks: dict
    edges: tuple
    metadata: dict
    inchikey14: np.ndarray | None


class NodeTable(NamedTuple):
    """Node ids, kinds, SMILES and keys in graph order, and the id -> index lookup."""

    ids: np.ndarray
    kinds: np.ndarray
    smiles: np.ndarray
    inchikey14: np.ndarray | None
    index: pd.Series
    n_molecules: int


def gene_ids_of(genes) -> np.ndarray:
    """Checked ids of the genes table (none without one)."""
    if genes is None:
        return np.empty(0, dtype=object)
    require_columns(genes, "genes", ["id"])
    return check_ids(genes["id"], "genes", "id")


def node_table(mols: MoleculeColumns, tables: Mapping, gene_ids: np.ndarray) -> NodeTable:
    """Nodes in graph order: molecules (table order), morphology, expression, genes."""
    groups = [("molecules", mols.ids, "molecule")]
    for modality in ("morphology", "expression"):
        if modality in tables:
            groups.append((f"profiles[{modality!r}]", tables[modality].index.to_numpy(object),
                           modality))
    groups.append(("genes", gene_ids, "gene"))
    node_ids = np.concatenate([ids for _, ids, _ in groups]).astype(object)
    kinds = np.concatenate([[kind] * len(ids) for _, ids, kind in groups]).astype(object)
    owner = np.concatenate([[table] * len(ids) for table, ids, _ in groups])
    dup = pd.Index(node_ids).duplicated(keep=False)
    if dup.any():
        first = node_ids[dup][0]
        where = sorted(set(owner[node_ids == first].tolist()))
        raise ValueError(
            f"node ids must be unique over the whole graph; {int(dup.sum())} duplicates, e.g. "
            f"{first!r} in {where} (prefix ids by kind, e.g. 'mol:', 'cp:', 'ge:', 'gene:')"
        )
    n_nodes, n_mols = len(node_ids), len(mols.ids)
    padding = np.full(n_nodes - n_mols, None, dtype=object)
    keys = None if mols.inchikey14 is None else np.concatenate([mols.inchikey14, padding])
    index = pd.Series(np.arange(n_nodes, dtype=np.int64), index=node_ids)
    return NodeTable(node_ids, kinds, np.concatenate([mols.smiles, padding]), keys, index,
                     n_mols)


def feature_block(values: np.ndarray, nodes: np.ndarray, n_nodes: int, columns,
                  binary: bool) -> FeatureBlock:
    """The block of ``values`` (rows aligned with ``nodes``); non-binary values are scaled
    in place to [0, 1] with their own :class:`~.blocks.Bounds`."""
    rows = np.full(n_nodes, -1, dtype=np.int64)
    rows[nodes] = np.arange(len(nodes))
    if binary:
        d = values.shape[1]
        return FeatureBlock(rows, values, np.zeros(d, np.float32), np.ones(d, np.float32),
                            columns, True)
    bounds = Bounds.of(values)
    values = bounds.scale(values, out=values)
    return FeatureBlock(rows, values, bounds.lower, bounds.upper, columns, False)


def _fingerprint_rows(chunk, spec: FingerprintSpec) -> list:
    return list(spec.compute(chunk))


def fingerprint_matrix(tables: Mapping, molecules: pd.DataFrame, mols: MoleculeColumns,
                       nodes: NodeTable, options: BuildOptions):
    """``(spec, values, node indices, columns)`` of the molecule fingerprints.

    Precomputed ones come from ``tables["fingerprint"]``; otherwise they are computed from the
    SMILES with the options' spec, and an invalid SMILES is an error naming its row.
    """
    spec = FingerprintSpec(options.fingerprint_radius, options.fingerprint_bits,
                           options.fingerprint_counts)
    if "fingerprint" in tables:
        fp_table = tables["fingerprint"]
        bits = profile_matrix(fp_table, "profiles['fingerprint']", binary=not spec.counts)
        # the spec describes them as far as the table tells: its width and the given radius
        spec = FingerprintSpec(options.fingerprint_radius, bits.shape[1], spec.counts)
        return (spec, bits, nodes.index[fp_table.index].to_numpy(np.int64),
                tuple(map(str, fp_table.columns)))
    rows = chunked_map(partial(_fingerprint_rows, spec=spec), list(mols.smiles),
                       n_jobs=options.n_jobs, verbose=options.verbose, desc="fingerprints")
    bits = np.asarray(rows, dtype=np.float32).reshape(len(mols.smiles), spec.n_bits)
    invalid = np.isnan(bits).any(axis=1)
    if invalid.any():
        raise table_error("molecules", "smiles", "is not a valid molecule",
                          molecules.index[invalid], mols.smiles[invalid])
    return (spec, bits, np.arange(nodes.n_molecules, dtype=np.int64),
            tuple(f"fp_{i}" for i in range(spec.n_bits)))


def add_similarity(edges: EdgeList, modality: str, values: np.ndarray, nodes: np.ndarray,
                   options: BuildOptions, centre: bool) -> int | None:
    """Add ``modality``'s similarity edges; their number, None when it gets none."""
    if modality not in options.similarity_modalities or len(nodes) < 2:
        return None
    r, c, sim = similarity_edges(values, options.similarity_threshold, options.sparsity,
                                 centre=centre)
    edges.add(nodes[r], nodes[c], sim, "similarity")
    return int(r.size)


class _Assembly:
    """Edges, blocks and counts of one build, filled step by step."""

    def __init__(self, nodes: NodeTable, options: BuildOptions, progress: Progress) -> None:
        self.nodes, self.options, self.progress = nodes, options, progress
        self.edges = EdgeList()
        self.blocks: dict = {}
        self.counts: dict = {"links": 0, "similarity": {}, "expression": 0}

    def similarity(self, modality: str, values, nodes, centre: bool) -> None:
        count = add_similarity(self.edges, modality, values, nodes, self.options, centre)
        if count is not None:
            self.counts["similarity"][modality] = count
            self.progress(f"{modality}: {count} similarity edges")

    def expression(self, raw, nodes, columns) -> None:
        is_gene = self.nodes.kinds == "gene"
        gene_index = dict(zip(self.nodes.ids[is_gene].tolist(), np.flatnonzero(is_gene).tolist()))
        if self.options.expression_gene_fraction <= 0 or not gene_index:
            return
        molecule_of = molecule_expression_pairs(self.edges, self.nodes.kinds)
        m, g = expression_gene_edges(raw, nodes, columns, molecule_of, gene_index,
                                     self.options.expression_gene_fraction)
        self.counts["expression"] = int(m.size)
        self.edges.add(m, g, np.ones(m.size, np.float32), "expression")
        self.progress(f"{m.size} molecule-gene expression edges")

    def profiles(self, tables: dict) -> None:
        n_nodes = len(self.nodes.ids)
        for modality in PROFILE_MODALITIES:
            if modality not in tables:
                continue
            df = tables.pop(modality)
            raw = profile_matrix(df, f"profiles[{modality!r}]")
            nodes = self.nodes.index[df.index].to_numpy(np.int64)
            columns = tuple(map(str, df.columns))
            del df
            self.similarity(modality, raw, nodes, centre=True)
            if modality == "expression":
                self.expression(raw, nodes, columns)
            self.blocks[modality] = feature_block(raw, nodes, n_nodes, columns, binary=False)
            del raw


def build_metadata(spec: FingerprintSpec, options: BuildOptions, precomputed: bool,
                   counts: dict) -> dict:
    """The graph's description: builder, fingerprint spec, options and edges built."""
    meta = {
        "simulated": False,
        "builder": "ContextGraph.from_tables",
        "fingerprint": spec.to_dict(),
        "options": {
            "fingerprint_radius": spec.radius,
            "fingerprint_bits": spec.n_bits,
            "fingerprint_counts": spec.counts,
            "precomputed_fingerprints": precomputed,
            "similarity_threshold": options.similarity_threshold,
            "sparsity": options.sparsity,
            "similarity_modalities": list(options.similarity_modalities),
            "expression_gene_fraction": options.expression_gene_fraction,
            "aggregated_replicates": sorted(options.aggregate_replicates or {}),
        },
        "edges_built": counts,
    }
    meta.update(dict(options.metadata or {}))
    return meta


def build_from_tables(molecules: pd.DataFrame, profiles: Mapping | None = None,
                      genes: pd.DataFrame | None = None, links: pd.DataFrame | None = None,
                      options: BuildOptions | None = None,
                      progress: Progress | None = None) -> GraphParts:
    """Validate the tables and assemble the parts of a context graph.

    Node order: molecules (table order), morphology, expression, then gene nodes.
    Expression columns are matched to gene nodes by name: column ``c`` refers to gene node
    ``gene:c`` (a column already named ``gene:c`` is used as is); unmatched columns give no
    edges. Expression edges have weight 1. Similarity is the cosine of the fingerprint bits,
    and of the raw profiles centred on each profile's own mean (Pearson correlation, as the
    authors' code computes it) for the other modalities.
    """
    options = options or BuildOptions()
    progress = progress or Progress(options.verbose)
    profiles = dict(profiles or {})
    options.check(profiles)
    mols = molecule_columns(molecules)
    gene_ids = gene_ids_of(genes)
    tables = profile_tables(profiles, dict(options.aggregate_replicates or {}))
    check_profile_ids(tables, mols.ids, gene_ids)
    nodes = node_table(mols, tables, gene_ids)
    progress(f"{len(nodes.ids)} nodes")
    build = _Assembly(nodes, options, progress)
    if links is not None:
        build.edges.add(*link_edges(links, nodes.index, options.aggregate_replicates or {}))
        build.counts["links"] = len(build.edges)
    spec, bits, fp_nodes, fp_columns = fingerprint_matrix(tables, molecules, mols, nodes,
                                                          options)
    if "fingerprint" not in tables:
        progress("fingerprints")
    build.similarity("fingerprint", bits, fp_nodes, centre=False)
    # counts are scaled to [0, 1] like profiles; new molecules use the same bounds
    build.blocks["fingerprint"] = feature_block(bits, fp_nodes, len(nodes.ids), fp_columns,
                                                binary=not spec.counts)
    del bits
    build.profiles(tables)
    meta = build_metadata(spec, options, "fingerprint" in profiles, build.counts)
    return GraphParts(nodes.ids, nodes.kinds, nodes.smiles, build.blocks, build.edges.arrays(),
                      meta, nodes.inchikey14)
