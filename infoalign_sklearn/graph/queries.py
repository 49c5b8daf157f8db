"""Lookups, derived graphs and walks of a :class:`~.context.ContextGraph` (a mixin).

``ContextGraph`` inherits these methods; they read its node table, feature blocks and CSR
arrays and never change them (derived graphs are new graphs).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..chem import check_molecule_input, inchikey14, molecule_key_pairs
from .csr import induced_csr
from .exclusion import removal_mask
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

    def molecule_parent_inchikey14(self) -> np.ndarray:
        """Skeleton InChIKey of every molecule node's parent (largest organic fragment,
        neutralised; see :func:`~infoalign_sklearn.chem.parent_molecule`), aligned with
        :attr:`molecule_nodes`; None where the SMILES is invalid."""
        return self._parent_keys

    @cached_property
    def _parent_keys(self) -> np.ndarray:
        keys = np.array([parent for _, parent in molecule_key_pairs(self.molecule_smiles)],
                        dtype=object)
        keys.setflags(write=False)
        return keys

    def without_molecules(self, smiles, *, match: str = "parent", orphans: str = "remove",
                          return_report: bool = False):
        """A copy without the molecules matching ``smiles`` and the profiles only they made.

        Parameters
        ----------
        smiles : list-like of str or Mol
            Molecules to exclude (a benchmark's, say). Invalid SMILES match nothing (the
            report counts them).
        match : {"parent", "skeleton"}
            ``"parent"`` (default): a molecule node goes when its own InChIKey skeleton or its
            parent's (largest organic fragment, neutralised) equals the own or parent skeleton
            of any input, so ``CCO.Cl`` removes ethanol and ``CC(=O)[O-].[Na+]`` acetic acid.
            ``"skeleton"``: own skeletons only (the rule before parents were matched).
        orphans : {"remove", "keep"}
            ``"remove"`` (default): morphology and expression nodes linked to a removed
            molecule and to no remaining molecule go too (a profile of an excluded compound
            still describes it); profiles shared with a kept molecule stay, genes always stay.
            ``"keep"``: only molecule nodes are removed.
        return_report : bool
            Also return a :class:`~infoalign_sklearn.graph.MoleculeRemoval` with the counts.

        Returns
        -------
        ContextGraph, or (ContextGraph, MoleculeRemoval) with ``return_report=True``
            Feature scaling bounds are unchanged (:meth:`subgraph`); with nothing to remove
            the copy has the same ``content_hash``.

        Examples
        --------
        >>> from infoalign_sklearn.graph import ContextGraph
        >>> g = ContextGraph.from_edges(["mol:1", "mol:2"], ["molecule"] * 2, ["CCO", "CCN"],
        ...                             edges=([0], [1], [0.9], ["similarity"]))
        >>> h = g.without_molecules(["OCC"])
        >>> h.molecule_smiles, h.n_edges
        (['CCN'], 0)
        >>> h, report = g.without_molecules(["CCN.Cl"], return_report=True)
        >>> h.molecule_smiles, report.n_molecules, report.n_parent_only
        (['CCO'], 1, 1)
        """
        items = check_molecule_input(smiles)
        drop, report = removal_mask(self, items, match=match, orphans=orphans)
        graph = self.subgraph(~drop)
        return (graph, report) if return_report else graph

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
