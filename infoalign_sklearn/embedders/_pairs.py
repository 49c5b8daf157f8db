"""Molecule-profile pairs of a context graph, for the contrastive embedder: which profile rows
of a feature block each graph molecule is linked to by a perturbation edge (a CSR).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PairData:
    """The molecules the contrastive model trains on and, per modality, the CSR (``ptr``,
    ``rows``) of the profile rows each is linked to."""

    mol_graphs: list
    blocks: dict
    links: dict


def perturbation_links(graph, block) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows of ``block`` one perturbation edge away from each graph molecule.

    Returns a CSR over ``graph.molecule_nodes`` order: ``ptr`` (n_molecules + 1) and ``rows``
    (row indices into ``block.values``). There is no neighbour-by-edge-kind accessor, so this
    reads the graph's CSR arrays (``indptr``, ``indices``, ``edge_kinds``; in the contract)
    in one vectorised pass rather than calling ``neighbors`` per molecule.
    """
    from ..graph import EDGE_KINDS

    molecules = np.asarray(graph.molecule_nodes, dtype=np.int64)
    position = np.full(graph.n_nodes, -1, dtype=np.int64)
    position[molecules] = np.arange(len(molecules))
    indptr = np.asarray(graph.indptr)
    source = np.repeat(np.arange(graph.n_nodes, dtype=np.int64), np.diff(indptr))
    target = np.asarray(graph.indices, dtype=np.int64)
    keep = (
        (position[source] >= 0)
        & (np.asarray(graph.edge_kinds) == EDGE_KINDS.index("perturbation"))
        & (np.asarray(block.rows)[target] >= 0)
    )
    mol_pos, rows = position[source[keep]], np.asarray(block.rows)[target[keep]]
    order = np.lexsort((rows, mol_pos))
    mol_pos, rows = mol_pos[order], rows[order]
    ptr = np.zeros(len(molecules) + 1, dtype=np.int64)
    np.cumsum(np.bincount(mol_pos, minlength=len(molecules)), out=ptr[1:])
    return ptr, rows


def restrict_links(ptr, rows, keep) -> tuple[np.ndarray, np.ndarray]:
    """The link CSR of the molecules ``keep`` (in that order)."""
    counts = ptr[keep + 1] - ptr[keep]
    new_ptr = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(counts, out=new_ptr[1:])
    new_rows = np.concatenate([rows[ptr[i]:ptr[i + 1]] for i in keep]) if len(keep) else rows[:0]
    return new_ptr, new_rows.astype(np.int64)
