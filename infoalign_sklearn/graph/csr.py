"""Compressed sparse row (CSR) adjacency of the context graph: building, checking, slicing.

Every undirected edge is stored in both directions, rows sorted by neighbour; weights are
float32 in [0, 1] and kinds int8 codes into ``EDGE_KINDS``.
"""

from __future__ import annotations

import numpy as np

from .blocks import frozen
from .schema import EDGE_KINDS

__all__ = ["build_csr", "check_csr", "frozen_csr", "induced_csr"]


def check_csr(n, indptr, indices, weights, edge_kinds) -> None:
    """ValueError unless the arrays are a valid CSR adjacency of ``n`` nodes."""
    if indptr.shape != (n + 1,) or indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        raise ValueError("indptr must be non-decreasing, start at 0 and have n_nodes + 1 entries")
    m = int(indptr[-1])
    if not (indices.shape == weights.shape == edge_kinds.shape == (m,)):
        raise ValueError("indices, weights and edge_kinds must have indptr[-1] entries")
    if m and (indices.min() < 0 or indices.max() >= n):
        raise ValueError("edge indices out of range")
    if m and (not np.all(np.isfinite(weights)) or weights.min() < 0 or weights.max() > 1):
        raise ValueError("edge weights must lie in [0, 1]")
    if m and (edge_kinds.min() < 0 or edge_kinds.max() >= len(EDGE_KINDS)):
        raise ValueError("edge kind codes out of range")


def build_csr(n_nodes: int, source, target, weight, kind):
    """Symmetric CSR arrays from an undirected edge list (duplicates merged by max weight).

    Returns ``indptr`` (int64), ``indices`` (int64), ``weights`` (float32), ``kinds`` (int8),
    every edge stored in both directions and rows sorted by neighbour.
    """
    src = np.asarray(source, dtype=np.int64).ravel()
    dst = np.asarray(target, dtype=np.int64).ravel()
    w = np.asarray(weight, dtype=np.float32).ravel()
    kind = np.asarray(kind).ravel()
    if kind.dtype.kind in "OUS":
        lookup = {name: i for i, name in enumerate(EDGE_KINDS)}
        bad = sorted({str(k) for k in kind.tolist()} - set(lookup))
        if bad:
            raise ValueError(f"unknown edge kind(s) {bad}; expected {EDGE_KINDS}")
        kind = np.array([lookup[str(k)] for k in kind.tolist()], dtype=np.int8)
    kind = kind.astype(np.int8)
    if not (src.shape == dst.shape == w.shape == kind.shape):
        raise ValueError("edge arrays must have the same length")
    if src.size:
        if min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n_nodes:
            raise ValueError(f"edge endpoints must lie in [0, {n_nodes})")
        if np.any(src == dst):
            raise ValueError(f"self-loops are not allowed (node {int(src[src == dst][0])})")
        if not np.all(np.isfinite(w)) or w.min() < 0 or w.max() > 1:
            raise ValueError("edge weights must lie in [0, 1]")
    lo = np.minimum(src, dst)
    hi = np.maximum(src, dst)
    # duplicates: keep the heaviest; among equal weights the lower kind code (stable)
    order = np.lexsort((kind, -w, hi, lo))
    lo, hi, w, kind = lo[order], hi[order], w[order], kind[order]
    first = np.ones(lo.size, dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, w, kind = lo[first], hi[first], w[first], kind[first]
    rows = np.concatenate([lo, hi])
    cols = np.concatenate([hi, lo])
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_nodes), out=indptr[1:])
    return (indptr, cols[order], np.concatenate([w, w])[order],
            np.concatenate([kind, kind])[order])


def induced_csr(indptr: np.ndarray, indices: np.ndarray, keep: np.ndarray):
    """CSR of the subgraph induced by the sorted node indices ``keep``.

    Returns ``(indptr, new_indices, mask)``: ``mask`` selects the kept entries of ``indices``
    (and of the weights and kinds); relabelling keeps row and neighbour order, so the result
    stays sorted.
    """
    n_nodes = len(indptr) - 1
    new_index = np.full(n_nodes, -1, dtype=np.int64)
    new_index[keep] = np.arange(keep.size)
    src = np.repeat(np.arange(n_nodes, dtype=np.int64), np.diff(indptr))
    mask = (new_index[src] >= 0) & (new_index[indices] >= 0)
    counts = np.bincount(new_index[src[mask]], minlength=keep.size)
    new_indptr = np.zeros(keep.size + 1, dtype=np.int64)
    np.cumsum(counts, out=new_indptr[1:])
    return new_indptr, new_index[indices[mask]], mask


def frozen_csr(n_nodes: int, indptr, indices, weights, edge_kinds) -> tuple:
    """The CSR arrays as read-only int64 / int64 / float32 / int8, checked."""
    arrays = (frozen(indptr, np.int64), frozen(indices, np.int64), frozen(weights, np.float32),
              frozen(edge_kinds, np.int8))
    check_csr(n_nodes, *arrays)
    return arrays
