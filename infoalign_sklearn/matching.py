"""Zero-shot molecule -> profile matching, evaluated: rank candidate profiles and score the
ranking.

Scores come from :func:`~infoalign_sklearn.embedders.profile_scores` (re-exported here): for each
molecule, every candidate cell profile scored by a pretrained embedder without further training.
:func:`evaluate_matching` turns scores into NDCG@k / HIT@k beside their exact expected values
under a uniformly random ranking (:func:`random_matching_baseline`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .embedders import profile_scores  # noqa: F401  (re-exported: it was defined here)
from .metrics import hit_at_k, ndcg_at_k


def random_matching_baseline(n_candidates: int, ks: Sequence[int] = (1, 10)) -> dict[str, float]:
    """Expected NDCG@k and HIT@k of a uniformly random ranking, exactly.

    With one true candidate among n, its rank under a random order is uniform on 1..n, so
    HIT@k = min(k, n) / n and NDCG@k = (1 / n) * sum_{r <= min(k, n)} 1 / log2(r + 1).

    Parameters
    ----------
    n_candidates : int
    ks : sequence of int, default=(1, 10)

    Returns
    -------
    dict
        ``"ndcg@k"`` and ``"hit@k"`` for each k.

    Examples
    --------
    >>> random_matching_baseline(4, ks=(1, 2))
    {'ndcg@1': 0.25, 'hit@1': 0.25, 'ndcg@2': 0.4077324383928644, 'hit@2': 0.5}
    """
    if n_candidates < 1:
        raise ValueError(f"n_candidates must be >= 1, got {n_candidates}.")
    out = {}
    for k in ks:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}.")
        top = min(int(k), n_candidates)
        ranks = np.arange(1, top + 1, dtype=np.float64)
        out[f"ndcg@{k}"] = float(np.sum(1.0 / np.log2(ranks + 1.0)) / n_candidates)
        out[f"hit@{k}"] = top / n_candidates
    return out


def evaluate_matching(scores, true_index, ks: Sequence[int] = (1, 10)) -> dict[str, float]:
    """NDCG@k and HIT@k of a score matrix, with the random-ranking baseline beside them.

    Parameters
    ----------
    scores : array-like of shape (n_queries, n_candidates)
        Higher means a better match (e.g. from :func:`profile_scores`). Rows that are all NaN
        (invalid molecules) are left out and counted in ``n_skipped``; other NaN entries (a
        candidate with no measured value) rank last. Ties count against the query, so a
        constant scorer scores below the random baseline.
    true_index : array-like of int, shape (n_queries,)
        Column of each query's true candidate.
    ks : sequence of int, default=(1, 10)

    Returns
    -------
    dict
        ``ndcg@k``, ``hit@k``, ``random_ndcg@k``, ``random_hit@k`` for each k, and
        ``n_queries`` (scored), ``n_candidates``, ``n_skipped``.

    Examples
    --------
    >>> result = evaluate_matching([[0.9, 0.1, 0.5], [0.2, 0.3, 0.8]], [0, 1], ks=(1,))
    >>> result["hit@1"], round(result["random_hit@1"], 4)
    (0.5, 0.3333)
    """
    scores = np.array(scores, dtype=np.float64)
    true_index = np.asarray(true_index)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (n_queries, n_candidates), got {scores.shape}.")
    if true_index.shape != (scores.shape[0],):
        raise ValueError(
            f"true_index must have one entry per query ({scores.shape[0]}), got {true_index.shape}."
        )
    scored = ~np.isnan(scores).all(axis=1)
    if not scored.any():
        raise ValueError("Every query's scores are NaN: nothing to evaluate.")
    scores = np.where(np.isnan(scores[scored]), -np.inf, scores[scored])
    true_index = true_index[scored]
    out: dict[str, float] = {}
    for k in ks:
        out[f"ndcg@{k}"] = ndcg_at_k(scores, true_index, k=k)
        out[f"hit@{k}"] = hit_at_k(scores, true_index, k=k)
    for name, value in random_matching_baseline(scores.shape[1], ks).items():
        out[f"random_{name}"] = value
    out["n_queries"] = int(scored.sum())
    out["n_candidates"] = int(scores.shape[1])
    out["n_skipped"] = int((~scored).sum())
    return out
