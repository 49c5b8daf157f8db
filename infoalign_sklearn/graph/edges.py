"""Edge lists of the builders: the collector, and the computed molecule-gene *expression* edges.

*expression* edges join a molecule to the genes with the largest ``|value|`` entries of the
expression profiles it produced (a strongly up- or down-regulated gene is "reached" by the
molecule).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .schema import EDGE_KINDS, gene_node_id

__all__ = ["EdgeList", "expression_gene_edges", "molecule_expression_pairs"]


class EdgeList:
    """Undirected edges collected in parts: node indices, weights and kind codes.

    Examples
    --------
    >>> edges = EdgeList()
    >>> edges.add([0], [1], [0.5], "similarity")
    >>> [a.tolist() for a in edges.arrays()]
    [[0], [1], [0.5], [4]]
    """

    def __init__(self) -> None:
        self.parts: list = []

    def __len__(self) -> int:
        return sum(len(part[0]) for part in self.parts)

    def add(self, source, target, weight, kind) -> None:
        """Append edges; ``kind`` is one name of ``EDGE_KINDS`` or an array of codes."""
        source = np.asarray(source, dtype=np.int64)
        if isinstance(kind, str):
            kind = np.full(source.size, EDGE_KINDS.index(kind), np.int8)
        self.parts.append((source, np.asarray(target, dtype=np.int64),
                           np.asarray(weight, dtype=np.float32), np.asarray(kind, dtype=np.int8)))

    def arrays(self) -> tuple:
        """``(source, target, weight, kind)`` concatenated (int64, int64, float32, int8)."""
        dtypes = (np.int64, np.int64, np.float32, np.int8)
        return tuple(np.concatenate([part[i] for part in self.parts]).astype(dtype, copy=False)
                     if self.parts else np.empty(0, dtype) for i, dtype in enumerate(dtypes))


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


def molecule_expression_pairs(edges: EdgeList, kinds: np.ndarray) -> pd.DataFrame:
    """(expression node, molecule node) pairs joined by the perturbation edges so far."""
    if not edges.parts:
        return pd.DataFrame({"expression": [], "molecule": []}, dtype=np.int64)
    src, dst, _, kind = edges.arrays()
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
