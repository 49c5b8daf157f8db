"""Zero-shot molecule -> profile matching: score candidate profiles, rank them, evaluate.

Given molecules and a pool of candidate cell profiles (one of them each molecule's own), a
pretrained embedder scores every (molecule, candidate) pair without further training:

- :class:`~infoalign_sklearn.embedders.InfoAlignEmbedder` by the log-likelihood of the
  candidate under the Bernoulli probabilities its decoder predicts from the molecule (the
  paper's protocol: the decoders were trained with exactly this binary cross-entropy);
- :class:`~infoalign_sklearn.contrastive.ContrastiveEmbedder` by the cosine similarity of the
  molecule and profile embeddings (what its InfoNCE objective optimises).

:func:`evaluate_matching` turns scores into NDCG@k / HIT@k beside their exact expected values
under a uniformly random ranking.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._torch_base import scale_profiles
from .metrics import hit_at_k, ndcg_at_k


def profile_scores(embedder, smiles, candidate_profiles, modality: str = "morphology") -> np.ndarray:
    """Score every candidate profile for every molecule (higher = better match).

    Parameters
    ----------
    embedder : fitted InfoAlignEmbedder or ContrastiveEmbedder
        An embedder with ``embed_profiles`` (contrastive) is scored by cosine similarity; one
        with profile decoders (InfoAlign) by the mean Bernoulli log-likelihood per measured
        column of the candidate, i.e. minus the binary cross-entropy between the candidate
        (min-max scaled with the embedder's ``feature_bounds_``, clipped to [0, 1]) and the
        decoded probabilities. Averaging over measured columns keeps candidates with missing
        entries comparable with complete ones.
    smiles : list-like of str or Mol
        The molecules (queries). Invalid ones follow the embedder's ``errors`` policy: an
        error, or a NaN row with ``errors="nan"``.
    candidate_profiles : array-like of shape (n_candidates, n_features) or DataFrame
        Raw-unit profiles, columns as in the embedder's graph block (a DataFrame is aligned by
        column name).
    modality : str, default="morphology"
        The profile modality.

    Returns
    -------
    scores : ndarray of float64, shape (n_molecules, n_candidates)
        NaN in rows of invalid molecules and columns of candidates with no measured entry.

    Examples
    --------
    >>> from infoalign_sklearn import InfoAlignEmbedder
    >>> from infoalign_sklearn.graph import make_synthetic_context
    >>> context = make_synthetic_context(n_molecules=40, random_state=0)
    >>> emb = InfoAlignEmbedder(context.graph, latent_dim=8, hidden_dim=8, num_layers=2,
    ...                         max_epochs=1, random_state=0).fit()
    >>> smiles = ["CCO", "c1ccccc1O", "CCN"]
    >>> profile_scores(emb, smiles, context.true_profiles(smiles, "morphology")).shape
    (3, 3)
    """
    if hasattr(embedder, "embed_profiles"):
        return _cosine_scores(embedder, smiles, candidate_profiles, modality)
    if hasattr(embedder, "feature_bounds_") or hasattr(embedder, "decoder_dims_"):
        return _likelihood_scores(embedder, smiles, candidate_profiles, modality)
    check_is_fitted(embedder)
    raise TypeError(
        f"{type(embedder).__name__} cannot score profiles: expected an InfoAlignEmbedder "
        "(profile decoders) or an embedder with embed_profiles (e.g. ContrastiveEmbedder)."
    )


def _cosine_scores(embedder, smiles, candidate_profiles, modality) -> np.ndarray:
    molecules = _unit_rows(embedder.transform(smiles))
    profiles = _unit_rows(embedder.embed_profiles(candidate_profiles, modality))
    return molecules @ profiles.T


def _unit_rows(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return values / norms


def _likelihood_scores(embedder, smiles, candidate_profiles, modality) -> np.ndarray:
    check_is_fitted(embedder, "module_")
    if modality not in embedder.modalities_:
        raise ValueError(
            f"Unknown modality {modality!r}; this model decodes {list(embedder.modalities_)}."
        )
    targets = scale_profiles(candidate_profiles, embedder.feature_bounds_[modality], modality)
    targets = targets.astype(np.float64)
    observed = ~np.isnan(targets)
    targets = np.where(observed, targets, 0.0)
    logits = torch.from_numpy(embedder.decode_logits(smiles, modality)).double()
    # log sigmoid on logits: no log(0) where the decoder saturates; NaN rows stay NaN
    log_p = torch.nn.functional.logsigmoid(logits).numpy()
    log_q = torch.nn.functional.logsigmoid(-logits).numpy()
    # sum_j [y_j log p_j + (1 - y_j) log(1 - p_j)] over measured columns, as two products
    total = log_p @ (targets * observed).T + log_q @ ((1.0 - targets) * observed).T
    n_observed = observed.sum(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / np.where(n_observed > 0, n_observed, np.nan)[None, :]


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
