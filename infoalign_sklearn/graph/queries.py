"""Lookups, derived graphs and walks of a :class:`~.context.ContextGraph` (a mixin).

``ContextGraph`` inherits these methods; they read its node table, feature blocks and CSR
arrays and never change them (derived graphs are new graphs).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..chem import check_molecule_input, inchikey14
from .csr import induced_csr
from .schema import NODE_KINDS, node_id
from .walks import random_walks

__all__ = ["GraphQueries"]


class GraphQueries:
    """Node and molecule lookups, subgraphs and random walks of a context graph."""

    # --- lookups ------------------------------------------------------------------------
    @cached_property
    def _id_lookup(self) -> dict:
        return {node_id: i for i, node_id in enumerate(self._node_ids.tolist())}

    def node_index(self, node_ids) -> np.ndarray:
        """Indices of the given node ids (int64), ``-1`` for ids not in the graph.

        Examples
        --------
        >>> from infoalign_sklearn.graph import ContextGraph
        >>> g = ContextGraph.from_edges(["a", "b"], ["gene", "gene"], [None, None])
        >>> g.node_index(["b", "zzz"]).tolist()
        [1, -1]
        """
        lookup = self._id_lookup
        return np.array([lookup.get(node_id(i), -1) for i in node_ids], dtype=np.int64)

    def molecule_inchikey14(self) -> np.ndarray:
        """Skeleton InChIKey of every molecule node, aligned with :attr:`molecule_nodes`."""
        if self._inchikey14 is not None:
            return self._inchikey14[self.molecule_nodes]
        return self._computed_keys

    @cached_property
    def _computed_keys(self) -> np.ndarray:
        keys = np.array([inchikey14(s) for s in self.molecule_smiles], dtype=object)
        keys.setflags(write=False)
        return keys

    @cached_property
    def _key_lookup(self) -> dict:
        lookup: dict = {}
        for node, key in zip(self.molecule_nodes.tolist(), self.molecule_inchikey14().tolist()):
            if key is not None:
                lookup.setdefault(key, node)
        return lookup

    def molecule_index(self, smiles) -> np.ndarray:
        """Molecule node index of each SMILES / Mol, ``-1`` where it is not in the graph.

        Molecules are matched by InChIKey skeleton (first 14 characters: same connectivity,
        any stereo / isotopes), the rule the paper uses to keep benchmark molecules out of
        pretraining. Invalid SMILES give ``-1``.

        Examples
        --------
        >>> from infoalign_sklearn.graph import ContextGraph
        >>> g = ContextGraph.from_edges(["mol:1"], ["molecule"], ["C[C@H](N)O"])
        >>> g.molecule_index(["CC(N)O", "CCCC"]).tolist()
        [0, -1]
        """
        items = check_molecule_input(smiles)
        lookup = self._key_lookup
        return np.array([lookup.get(inchikey14(item), -1) for item in items], dtype=np.int64)

    # --- derived graphs -----------------------------------------------------------------
    def subgraph(self, nodes):
        """The graph induced by ``nodes`` (indices or a boolean mask), in ascending order.

        Feature scaling bounds are kept unchanged, so decoded values keep their meaning.

        Examples
        --------
        >>> from infoalign_sklearn.graph import ContextGraph
        >>> g = ContextGraph.from_edges(["a", "b", "c"], ["gene"] * 3, [None] * 3,
        ...                             edges=([0, 1], [1, 2], [1.0, 1.0], ["interaction"] * 2))
        >>> g.subgraph([0, 1]).n_edges
        1
        """
        nodes = np.asarray(nodes)
        if nodes.dtype == bool:
            if nodes.shape != (self.n_nodes,):
                raise ValueError(f"boolean mask must have length {self.n_nodes}")
            keep = np.flatnonzero(nodes)
        else:
            keep = np.unique(nodes.astype(np.int64))
            if keep.size and (keep[0] < 0 or keep[-1] >= self.n_nodes):
                raise IndexError(f"node indices must lie in [0, {self.n_nodes})")
        indptr, indices, mask = induced_csr(self.indptr, self.indices, keep)
        blocks = {name: block.subset(keep) for name, block in self._blocks.items()}
        keys = None if self._inchikey14 is None else self._inchikey14[keep]
        # relabelling keeps both row order and neighbour order, so the CSR stays sorted
        return type(self)(
            self._node_ids[keep], np.asarray(NODE_KINDS, object)[self._kinds[keep]],
            self._smiles[keep], blocks, indptr, indices,
            self.weights[mask], self.edge_kinds[mask], self._metadata, keys,
        )

    def without_molecules(self, smiles):
        """A copy without the molecule nodes matching ``smiles`` (by InChIKey skeleton).

        Exactly the matching molecule nodes and their edges are removed (all molecule nodes
        sharing a skeleton with an input); profile and gene nodes stay. Use it to keep
        benchmark molecules out of pretraining.

        Examples
        --------
        >>> from infoalign_sklearn.graph import ContextGraph
        >>> g = ContextGraph.from_edges(["mol:1", "mol:2"], ["molecule"] * 2, ["CCO", "CCN"],
        ...                             edges=([0], [1], [0.9], ["similarity"]))
        >>> h = g.without_molecules(["OCC"])
        >>> h.molecule_smiles, h.n_edges
        (['CCN'], 0)
        """
        items = check_molecule_input(smiles)
        drop_keys = {k for k in (inchikey14(item) for item in items) if k is not None}
        mol_keys = self.molecule_inchikey14()
        drop = np.array([k in drop_keys for k in mol_keys.tolist()], dtype=bool)
        keep = np.ones(self.n_nodes, dtype=bool)
        keep[self.molecule_nodes[drop]] = False
        return self.subgraph(keep)

    # --- walks --------------------------------------------------------------------------
    def random_walks(self, start_nodes, walk_length: int = 4, random_state=None):
        """Uniform random walks with cumulative edge-weight products.

        Parameters
        ----------
        start_nodes : array-like of int, shape (n_walks,)
            Node indices to start from.
        walk_length : int, default=4
            Steps per walk.
        random_state : int, numpy Generator / RandomState or None
            Seed for reproducible walks.

        Returns
        -------
        nodes : ndarray of int64, shape (n_walks, walk_length + 1)
            Visited nodes (column 0 is the start); ``-1`` once a walk is stuck.
        weights : ndarray of float32, shape (n_walks, walk_length + 1)
            Product of the weights of the edges taken so far (1 at the start, 0 once stuck).

        Examples
        --------
        >>> from infoalign_sklearn.graph import ContextGraph
        >>> g = ContextGraph.from_edges(["a", "b"], ["gene"] * 2, [None] * 2,
        ...                             edges=([0], [1], [0.5], ["interaction"]))
        >>> nodes, weights = g.random_walks([0], walk_length=2, random_state=0)
        >>> nodes.tolist(), weights.tolist()
        ([[0, 1, 0]], [[1.0, 0.5, 0.25]])
        """
        return random_walks(self.indptr, self.indices, self.weights, start_nodes, walk_length,
                             random_state)
