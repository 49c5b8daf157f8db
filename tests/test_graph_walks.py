"""Random walks: the weight at each step is the product of the edges actually taken."""

import time

import numpy as np
import pytest

from infoalign_sklearn import ContextGraph
from infoalign_sklearn.graph import random_walks


def distinct_weight_graph():
    # a small graph with a pendant path and an isolated node; every edge weight is distinct
    rng = np.random.default_rng(0)
    src = [0, 0, 0, 1, 1, 2, 3, 4, 5]
    dst = [1, 2, 3, 2, 4, 3, 4, 5, 6]
    weights = rng.permutation(np.linspace(0.3, 0.95, len(src)))
    ids = [f"n{i}" for i in range(8)]  # n7 has no edges
    g = ContextGraph.from_edges(ids, ["gene"] * 8, [None] * 8,
                                edges=(src, dst, weights, ["interaction"] * len(src)))
    lookup = {}
    for s, t, w in zip(src, dst, weights):
        lookup[(s, t)] = lookup[(t, s)] = np.float32(w)
    return g, lookup


def test_weights_are_cumulative_products_of_taken_edges():
    g, lookup = distinct_weight_graph()
    nodes, weights = g.random_walks(np.arange(7).repeat(50), walk_length=6, random_state=1)
    assert nodes.shape == weights.shape == (350, 7)
    assert nodes.dtype == np.int64 and weights.dtype == np.float32
    np.testing.assert_array_equal(weights[:, 0], 1.0)
    for walk, path in zip(nodes, weights):
        expected = np.float32(1.0)
        for i in range(1, walk.size):
            edge = lookup[(walk[i - 1], walk[i])]  # KeyError if a step is not an edge
            expected = np.float32(expected * edge)
            assert path[i] == pytest.approx(expected, rel=1e-6)


def test_stuck_walks_get_minus_one_and_zero_weight():
    g, _ = distinct_weight_graph()
    nodes, weights = g.random_walks([7, 7], walk_length=3, random_state=0)
    assert nodes.tolist() == [[7, -1, -1, -1]] * 2
    assert weights.tolist() == [[1.0, 0.0, 0.0, 0.0]] * 2
    empty = ContextGraph.from_edges(["a"], ["gene"], [None])
    nodes, weights = empty.random_walks([0], walk_length=2, random_state=0)
    assert nodes.tolist() == [[0, -1, -1]] and weights.tolist() == [[1.0, 0.0, 0.0]]


def test_neighbours_are_chosen_uniformly():
    g, _ = distinct_weight_graph()
    nodes, _ = g.random_walks(np.zeros(30000, dtype=np.int64), walk_length=1, random_state=0)
    counts = np.bincount(nodes[:, 1], minlength=8)[[1, 2, 3]]
    # node 0 has neighbours 1, 2, 3 with very different weights: choice ignores the weights
    np.testing.assert_allclose(counts / 30000, [1 / 3] * 3, atol=0.015)


def test_walks_are_reproducible_and_validated():
    g, _ = distinct_weight_graph()
    a = g.random_walks([0, 1, 2], 4, random_state=5)
    b = g.random_walks([0, 1, 2], 4, random_state=5)
    c = g.random_walks([0, 1, 2], 4, random_state=np.random.default_rng(6))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0]) or not np.array_equal(a[1], c[1])
    assert g.random_walks([0], 0, random_state=0)[0].tolist() == [[0]]
    with pytest.raises(IndexError):
        g.random_walks([8], 2)
    with pytest.raises(ValueError):
        g.random_walks([0], -1)
    with pytest.raises(TypeError):
        g.random_walks([0.5], 2)


def test_throughput_is_vectorised():
    # 200k walks x 4 steps on a 50k-node random graph; a per-walk Python loop takes seconds
    rng = np.random.default_rng(0)
    n = 50_000
    # a ring (no node without neighbours) plus random chords
    src = np.concatenate([np.arange(n), rng.integers(0, n, 150_000)])
    dst = (src + np.concatenate([np.ones(n, np.int64), rng.integers(1, n, 150_000)])) % n
    indptr = np.zeros(n + 1, np.int64)
    order = np.argsort(np.concatenate([src, dst]), kind="stable")
    both_dst = np.concatenate([dst, src])[order]
    np.cumsum(np.bincount(np.concatenate([src, dst]), minlength=n), out=indptr[1:])
    weights = rng.random(both_dst.size).astype(np.float32)
    start = time.perf_counter()
    nodes, _ = random_walks(indptr, both_dst, weights, rng.integers(0, n, 200_000), 4,
                            random_state=0)
    elapsed = time.perf_counter() - start
    assert (nodes >= 0).all()
    assert 800_000 / elapsed > 500_000  # far below the 2M steps/s target: shared CI cores
