"""Similarity edges: cosine similarity within one feature space, without an all-pairs matrix.

A pair is kept where its similarity is at least ``threshold`` and it is among the top
``1 - sparsity`` of all pairs. Rows are processed in blocks against the remaining rows,
keeping only candidates above a running cut-off, so memory stays bounded by the number of
edges kept (never an all-pairs matrix).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

__all__ = ["similarity_edges", "top_pairs"]


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
    n = np.shape(values)[0]
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))
    n_pairs = n * (n - 1) // 2
    budget = math.ceil(round((1.0 - sparsity) * n_pairs, 6))
    if n < 2 or budget == 0:
        return empty
    x, zero = _unit_rows(values, centre)
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
            rows_, cols_, sims_ = top_pairs(pool_rows, pool_cols, pool_sims, budget)
            pool_rows, pool_cols, pool_sims = [rows_], [cols_], [sims_]
            pool_size = rows_.size
            # later blocks must beat the weakest pair kept so far to matter
            cut = max(cut, sims_.min())
    if pool_size == 0:
        return empty
    rows_, cols_, sims_ = top_pairs(pool_rows, pool_cols, pool_sims, budget)
    keep = ~(zero[rows_] | zero[cols_])
    return rows_[keep], cols_[keep], np.clip(sims_[keep], 0.0, 1.0)


def _unit_rows(values, centre: bool):
    """float32 copy of ``values`` with unit-norm rows (NaN as 0) and the mask of zero rows."""
    x = np.array(values, dtype=np.float32)
    if centre:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            means = np.nanmean(x, axis=1, keepdims=True)
        x -= np.nan_to_num(means)
    np.nan_to_num(x, copy=False, nan=0.0)
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    zero = norms == 0
    x /= np.where(zero, np.float32(1), norms)[:, None]
    return x, zero


def top_pairs(rows, cols, sims, budget):
    """The ``budget`` most similar of the pooled pairs (ties by ``(row, col)``), concatenated."""
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
