"""Random walks on a CSR graph, vectorised over all walks (numpy only).

torch-cluster's ``random_walk`` is not installable here, and a per-walk Python loop is far too
slow for a 130k-molecule batch, so every step advances all walks with a handful of array
operations.
"""

from __future__ import annotations

import numbers

import numpy as np


def _uniform(random_state, shape) -> np.ndarray:
    if isinstance(random_state, np.random.RandomState):
        return random_state.random_sample(shape)
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.Generator)):
        return np.random.default_rng(random_state).random(shape)
    raise TypeError(
        "random_state must be None, an int, a numpy Generator or RandomState, "
        f"got {type(random_state).__name__}"
    )


def random_walks(indptr, indices, weights, start_nodes, walk_length: int = 4,
                 random_state=None) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random walks over a CSR adjacency with cumulative path weights.

    At each step a walk moves to a neighbour chosen uniformly at random; the path weight is
    the product of the weights of the edges it has taken, and the weight stored at step ``i``
    includes exactly the edge from ``nodes[:, i - 1]`` to ``nodes[:, i]``. A walk standing on
    a node without neighbours (or already stuck) is stuck: node ``-1``, weight 0 from then on.

    Parameters
    ----------
    indptr, indices, weights : ndarray
        CSR adjacency: neighbours of node ``u`` are ``indices[indptr[u]:indptr[u + 1]]``, with
        edge weights ``weights[...]`` at the same positions.
    start_nodes : array-like of int, shape (n_walks,)
        Start node of every walk.
    walk_length : int, default=4
        Number of steps.
    random_state : int, numpy Generator / RandomState or None
        Source of randomness; the same seed gives the same walks.

    Returns
    -------
    nodes : ndarray of int64, shape (n_walks, walk_length + 1)
    path_weights : ndarray of float32, shape (n_walks, walk_length + 1)

    Examples
    --------
    >>> import numpy as np
    >>> indptr, indices = np.array([0, 1, 2]), np.array([1, 0])
    >>> nodes, w = random_walks(indptr, indices, np.array([0.5, 0.5]), [0], 2, random_state=0)
    >>> nodes.tolist(), w.tolist()
    ([[0, 1, 0]], [[1.0, 0.5, 0.25]])
    """
    if isinstance(walk_length, bool) or not isinstance(walk_length, numbers.Integral) \
            or walk_length < 0:
        raise ValueError(f"walk_length must be a non-negative integer, got {walk_length!r}")
    indptr = np.asarray(indptr, dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float32)
    n_nodes = indptr.size - 1
    start = np.asarray(start_nodes)
    if start.ndim != 1:
        raise ValueError(f"start_nodes must be 1-D, got shape {start.shape}")
    if start.size and not np.issubdtype(start.dtype, np.integer):
        raise TypeError(f"start_nodes must be integer node indices, got dtype {start.dtype}")
    start = start.astype(np.int64)
    if start.size and (start.min() < 0 or start.max() >= n_nodes):
        bad = start[(start < 0) | (start >= n_nodes)][:5].tolist()
        raise IndexError(f"start_nodes must lie in [0, {n_nodes}); got e.g. {bad}")
    n_walks = start.size
    nodes = np.empty((n_walks, walk_length + 1), dtype=np.int64)
    path = np.empty((n_walks, walk_length + 1), dtype=np.float32)
    nodes[:, 0] = start
    path[:, 0] = 1.0
    # one draw per walk and step whether or not the walk is alive keeps results reproducible
    draws = _uniform(random_state, (walk_length, n_walks))
    current = start
    current_weight = np.ones(n_walks, dtype=np.float32)
    no_edges = indices.size == 0
    for step in range(1, walk_length + 1):
        alive = current >= 0
        safe = np.where(alive, current, 0)
        first = indptr[safe]
        degree = indptr[safe + 1] - first
        alive &= degree > 0
        if no_edges:
            alive[:] = False
        edge = first + (draws[step - 1] * degree).astype(np.int64)
        edge[~alive] = 0
        if no_edges:
            current = np.full(n_walks, -1, dtype=np.int64)
            current_weight = np.zeros(n_walks, dtype=np.float32)
        else:
            current = np.where(alive, indices[edge], -1)
            current_weight = np.where(alive, current_weight * weights[edge], np.float32(0))
        nodes[:, step] = current
        path[:, step] = current_weight
    return nodes, path
