"""The cellular context graph: an immutable node table, feature blocks and weighted CSR edges.

A :class:`ContextGraph` is built once (:meth:`ContextGraph.from_tables`, a reader, or
:func:`~infoalign_sklearn.graph.make_synthetic_context`) and never changes afterwards: every
array is read-only and methods that "modify" it (:meth:`~ContextGraph.subgraph`,
:meth:`~ContextGraph.without_molecules`) return a new graph. Because it cannot change,
``copy.deepcopy`` (which ``sklearn.clone`` uses) returns the same object instead of duplicating
gigabytes of features.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from types import MappingProxyType

import numpy as np
import pandas as pd

from .blocks import FeatureBlock  # also keeps pickles naming graph.context.FeatureBlock loadable
from .builders import BuildOptions, Progress, build_from_tables
from .csr import build_csr, frozen_csr
from .io import ContextGraphFileError, read_graph_files, save_graph
from .nodes import content_digest, node_arrays, ordered_blocks
from .queries import GraphQueries
from .schema import EDGE_KINDS, NODE_KINDS, FingerprintSpec
from .summary import graph_stats, graph_summary


class ContextGraph(GraphQueries):
    """Immutable cellular context graph (InfoAlign, Liu et al., ICLR 2025).

    Nodes are molecules, cell-morphology profiles, gene-expression signatures and genes. Each
    modality's features live in a :class:`FeatureBlock`; edges are undirected, weighted in
    [0, 1], labelled with a kind (``EDGE_KINDS``) and stored as a CSR adjacency sorted by
    neighbour. Build one with :meth:`from_tables`, :meth:`load`,
    :func:`~infoalign_sklearn.readers.read_infoalign_raw` or
    :func:`~infoalign_sklearn.graph.make_synthetic_context`; the constructor is for code that
    already holds validated CSR arrays (use :meth:`from_edges` to start from an edge list).

    Parameters
    ----------
    node_ids : sequence of str, shape (n_nodes,)
        Unique node ids.
    kinds : sequence of str, shape (n_nodes,)
        One of ``NODE_KINDS`` per node.
    smiles : sequence of str or None, shape (n_nodes,)
        SMILES of molecule nodes, None elsewhere.
    blocks : dict of str to FeatureBlock
        Feature block per modality (keys in ``MODALITIES``).
    indptr, indices, weights, edge_kinds : ndarray
        CSR adjacency (both directions of every edge), sorted by neighbour within each row;
        ``edge_kinds`` are codes into ``EDGE_KINDS``.
    metadata : dict, optional
        JSON-serialisable description; ``metadata["simulated"]`` marks simulated data.
    inchikey14 : sequence of str or None, optional
        Skeleton InChIKeys of the nodes (molecules only) when known; computed on demand
        otherwise.

    Examples
    --------
    >>> g = ContextGraph.from_edges(["mol:a", "cp:a"], ["molecule", "morphology"], ["CCO", None],
    ...                             edges=([0], [1], [1.0], ["perturbation"]))
    >>> g.n_nodes, g.n_edges
    (2, 1)
    """

    def __init__(
        self,
        node_ids: Sequence[str],
        kinds: Sequence[str],
        smiles: Sequence[str | None],
        blocks: Mapping[str, FeatureBlock] | None,
        indptr: np.ndarray,
        indices: np.ndarray,
        weights: np.ndarray,
        edge_kinds: np.ndarray,
        metadata: Mapping | None = None,
        inchikey14: Sequence[str | None] | None = None,
    ) -> None:
        set_ = object.__setattr__
        node_ids, kind_codes, smiles, keys = node_arrays(node_ids, kinds, smiles, inchikey14)
        n = len(node_ids)
        indptr, indices, weights, edge_kinds = frozen_csr(n, indptr, indices, weights,
                                                          edge_kinds)
        set_(self, "_node_ids", node_ids)
        set_(self, "_kinds", kind_codes)
        set_(self, "_smiles", smiles)
        set_(self, "_blocks", ordered_blocks(blocks, n))
        set_(self, "indptr", indptr)
        set_(self, "indices", indices)
        set_(self, "weights", weights)
        set_(self, "edge_kinds", edge_kinds)
        set_(self, "_metadata", json.loads(json.dumps(dict(metadata or {}))))
        set_(self, "_inchikey14", keys)
        set_(self, "source_path", None)

    # --- immutability -------------------------------------------------------------------
    def __setattr__(self, name, value):
        raise AttributeError(f"ContextGraph is immutable; cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"ContextGraph is immutable; cannot delete {name!r}")

    def __copy__(self) -> ContextGraph:
        return self

    def __deepcopy__(self, memo) -> ContextGraph:
        # immutable, so sharing is a faithful copy; sklearn.clone relies on this for big graphs
        return self

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for lazy in ("content_hash", "_id_lookup", "_key_lookup", "_parent_keys"):
            state.pop(lazy, None)
        return state

    def __setstate__(self, state: dict) -> None:
        for value in state.values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        self.__dict__.update(state)

    # --- construction -------------------------------------------------------------------
    @classmethod
    def from_edges(
        cls,
        node_ids: Sequence[str],
        kinds: Sequence[str],
        smiles: Sequence[str | None],
        blocks: Mapping[str, FeatureBlock] | None = None,
        edges: tuple | None = None,
        metadata: Mapping | None = None,
        inchikey14: Sequence[str | None] | None = None,
    ) -> ContextGraph:
        """Build a graph from an undirected edge list.

        Parameters
        ----------
        node_ids, kinds, smiles, blocks, metadata, inchikey14
            As for :class:`ContextGraph`.
        edges : tuple (source, target, weight, kind)
            Node indices, weights in [0, 1] and kind names (or codes into ``EDGE_KINDS``).
            Each edge is stored in both directions; a pair listed several times is kept once,
            with its largest weight; self-loops are rejected.

        Returns
        -------
        ContextGraph

        Examples
        --------
        >>> g = ContextGraph.from_edges(["a", "b", "c"], ["gene"] * 3, [None] * 3,
        ...                             edges=([0, 1], [1, 2], [0.5, 1.0], ["interaction"] * 2))
        >>> g.neighbors(1).tolist()
        [0, 2]
        """
        n = len(node_ids)
        if edges is None:
            edges = ([], [], [], [])
        src, dst, w, k = edges
        indptr, indices, weights, codes = build_csr(n, src, dst, w, k)
        return cls(node_ids, kinds, smiles, blocks, indptr, indices, weights, codes, metadata,
                   inchikey14)

    @classmethod
    def from_tables(
        cls,
        molecules: pd.DataFrame,
        profiles: Mapping[str, pd.DataFrame] | None = None,
        genes: pd.DataFrame | None = None,
        links: pd.DataFrame | None = None,
        **options,
    ) -> ContextGraph:
        """Build a context graph from pandas tables; see :func:`~.builders.build_from_tables`.

        Parameters
        ----------
        molecules : DataFrame
            Columns ``id``, ``smiles`` (optional ``inchikey14``).
        profiles : dict of str to DataFrame, optional
            Modality (``"morphology"``, ``"expression"``, ``"gene"``; ``"fingerprint"`` for
            precomputed bits) to a table indexed by node id with numeric feature columns.
        genes : DataFrame, optional
            Column ``id``: the gene nodes.
        links : DataFrame, optional
            Columns ``source``, ``target``, ``kind``, optional ``weight``.
        **options
            Keywords of :class:`~.builders.BuildOptions`, with its defaults:
            ``fingerprint_radius=2``, ``fingerprint_bits=1024`` (Morgan fingerprint of the
            molecule nodes, kept as :attr:`fingerprint_spec`; the authors use radius 4),
            ``fingerprint_counts=False``, ``similarity_threshold=0.8``, ``sparsity=0.995``,
            ``similarity_modalities=MODALITIES``, ``expression_gene_fraction=0.01`` (column
            ``c`` matches gene node ``gene:c``), ``aggregate_replicates=None`` (modality to a
            Series mapping replicate id to node id; replicates become their median),
            ``metadata=None`` (``{"simulated": True}`` labels simulated data), ``n_jobs=None``,
            ``verbose=0``.

        Raises
        ------
        ValueError
            For bad tables, naming the table, the column and example rows.

        Returns
        -------
        ContextGraph

        Examples
        --------
        >>> import pandas as pd
        >>> mols = pd.DataFrame({"id": ["mol:1", "mol:2"], "smiles": ["CCO", "CCN"]})
        >>> cp = pd.DataFrame({"f1": [0.1, 0.4]}, index=["cp:1", "cp:2"])
        >>> links = pd.DataFrame({"source": ["mol:1"], "target": ["cp:1"], "kind": ["perturbation"]})
        >>> g = ContextGraph.from_tables(mols, {"morphology": cp}, links=links, similarity_modalities=())
        >>> g.n_nodes, g.n_edges
        (4, 1)
        """
        options = BuildOptions(**options)
        progress = Progress(options.verbose)
        parts = build_from_tables(molecules, profiles, genes, links, options, progress)
        graph = cls.from_edges(*parts)
        progress(f"done: {graph.n_edges} edges")
        return graph

    # --- basic properties ---------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self._node_ids)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return len(self.indices) // 2

    @property
    def node_ids(self) -> np.ndarray:
        """Node ids (read-only object array)."""
        return self._node_ids

    @property
    def node_kinds(self) -> np.ndarray:
        """Node kind codes (int8 into ``NODE_KINDS``), read-only."""
        return self._kinds

    @property
    def nodes(self) -> pd.DataFrame:
        """Node table: ``node_id``, ``kind``, ``smiles`` (a fresh DataFrame each call)."""
        return pd.DataFrame({
            "node_id": self._node_ids.tolist(),
            "kind": np.asarray(NODE_KINDS, dtype=object)[self._kinds],
            "smiles": self._smiles.tolist(),
        })

    @property
    def modalities(self) -> tuple:
        """Names of the feature blocks present, in ``MODALITIES`` order."""
        return tuple(self._blocks)

    @property
    def metadata(self) -> Mapping:
        """Read-only view of the graph's description (``simulated``, build options, ...)."""
        return MappingProxyType(self._metadata)

    @property
    def fingerprint_spec(self) -> FingerprintSpec | None:
        """How the molecule fingerprints of the graph are computed (None without a block).

        Read from the metadata the builders write; graphs saved before the spec was recorded
        give the radius of their build options (default 2), the width of their fingerprint
        block and bits or counts as the block says.
        """
        if "fingerprint" not in self._blocks:
            return None
        recorded = self._metadata.get("fingerprint")
        if isinstance(recorded, Mapping):
            return FingerprintSpec.from_dict(recorded)
        options = self._metadata.get("options")
        options = options if isinstance(options, Mapping) else {}
        block = self._blocks["fingerprint"]
        return FingerprintSpec(int(options.get("fingerprint_radius", 2)), block.n_features,
                               not block.binary)

    @property
    def simulated(self) -> bool:
        """True when the graph holds simulated biology (see ``make_synthetic_context``)."""
        return bool(self._metadata.get("simulated", False))

    @cached_property
    def molecule_nodes(self) -> np.ndarray:
        """Indices of molecule nodes (int64, ascending)."""
        out = np.flatnonzero(self._kinds == NODE_KINDS.index("molecule")).astype(np.int64)
        out.setflags(write=False)
        return out

    @property
    def molecule_smiles(self) -> list:
        """SMILES of the molecule nodes, aligned with :attr:`molecule_nodes`."""
        return self._smiles[self.molecule_nodes].tolist()

    @cached_property
    def degree(self) -> np.ndarray:
        """Number of neighbours of every node (int64)."""
        out = np.diff(self.indptr)
        out.setflags(write=False)
        return out

    def feature_block(self, modality: str) -> FeatureBlock:
        """The :class:`FeatureBlock` of ``modality``; KeyError naming the ones present."""
        try:
            return self._blocks[modality]
        except KeyError:
            raise KeyError(
                f"graph has no {modality!r} features; present: {self.modalities}"
            ) from None

    def inverse_scale(self, modality: str, values) -> np.ndarray:
        """Map [0, 1]-scaled ``values`` (..., d) of ``modality`` back to raw units."""
        return self.feature_block(modality).inverse_scale(values)

    def neighbors(self, node: int) -> np.ndarray:
        """Neighbour indices of one node (sorted)."""
        return self.indices[self.indptr[node]: self.indptr[node + 1]]

    def edges(self) -> pd.DataFrame:
        """Undirected edge table (``source`` < ``target`` node indices, ``weight``, ``kind``)."""
        src = np.repeat(np.arange(self.n_nodes, dtype=np.int64), self.degree)
        keep = src < self.indices
        return pd.DataFrame({
            "source": src[keep],
            "target": self.indices[keep],
            "weight": self.weights[keep],
            "kind": np.asarray(EDGE_KINDS, dtype=object)[self.edge_kinds[keep]],
        })

    # --- identity, description, files -----------------------------------------------------
    def arrays(self) -> dict:
        """All numeric arrays by stable name (what :meth:`save` writes and the hash covers)."""
        out = {
            "indptr": self.indptr,
            "indices": self.indices,
            "weights": self.weights,
            "edge_kinds": self.edge_kinds,
            "node_kinds": self._kinds,
        }
        for name, block in self._blocks.items():
            out[f"{name}.rows"] = block.rows
            out[f"{name}.values"] = block.values
            out[f"{name}.lower"] = block.lower
            out[f"{name}.upper"] = block.upper
        return out

    @cached_property
    def content_hash(self) -> str:
        """sha256 of the graph's content: arrays, node table, feature names, edge-kind names."""
        return content_digest(self.arrays(), self._node_ids, self._smiles, self._blocks)

    def save(self, path, overwrite: bool = False) -> str:
        """Write the graph to a directory atomically; see :func:`~.io.save_graph`."""
        return save_graph(self, path, overwrite=overwrite)

    @classmethod
    def load(cls, path) -> ContextGraph:
        """Read a graph written by :meth:`save`, verifying version and content hash.

        Examples
        --------
        >>> import tempfile, os
        >>> g = ContextGraph.from_edges(["a"], ["gene"], [None])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = g.save(os.path.join(tmp, "graph"))
        ...     ContextGraph.load(os.path.join(tmp, "graph")).content_hash == g.content_hash
        True
        """
        files = read_graph_files(path)
        graph = cls(**files.arguments)
        if graph.content_hash != files.content_hash:
            raise ContextGraphFileError(
                f"{files.folder}: content hash {graph.content_hash[:12]}... does not match the "
                f"manifest's {str(files.content_hash)[:12]}...; the graph was altered after saving"
            )
        object.__setattr__(graph, "source_path", files.folder)
        return graph

    def stats(self) -> dict:
        """Counts and degree statistics behind :meth:`summary` (plain Python values)."""
        return graph_stats(self)

    def summary(self) -> str:
        """Human-readable description: node / edge counts, degrees, isolated molecules.

        Examples
        --------
        >>> g = ContextGraph.from_edges(["mol:1"], ["molecule"], ["CCO"], metadata={"simulated": True})
        >>> print(g.summary().splitlines()[0])
        ContextGraph (SIMULATED data): 1 nodes, 0 edges
        """
        return graph_summary(self)

    def __repr__(self) -> str:
        label = ", SIMULATED" if self.simulated else ""
        return (f"ContextGraph(n_nodes={self.n_nodes}, n_edges={self.n_edges}, "
                f"modalities={self.modalities}{label})")


def load_graph(path) -> ContextGraph:
    """Read a graph written by :func:`~.io.save_graph`, checking format version and hashes.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ContextGraphFileError
        For a missing manifest or file, a truncated or altered file, a content-hash mismatch
        or a format version newer than this library reads.

    Examples
    --------
    >>> import tempfile, os
    >>> from infoalign_sklearn.graph import save_graph
    >>> g = ContextGraph.from_edges(["a"], ["gene"], [None])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     h = load_graph(save_graph(g, os.path.join(tmp, "g")))
    >>> h.n_nodes
    1
    """
    return ContextGraph.load(path)
