"""Profiles on the embedders' side: scaling new raw-unit profiles as the graph was scaled, and
scoring candidate profiles for molecules (zero-shot matching).

A pretrained embedder scores every (molecule, candidate profile) pair without further training:

- :class:`~infoalign_sklearn.embedders.InfoAlignEmbedder` by the log-likelihood of the
  candidate under the Bernoulli probabilities its decoder predicts from the molecule (the
  paper's protocol: the decoders were trained with exactly this binary cross-entropy);
- :class:`~infoalign_sklearn.embedders.ContrastiveEmbedder` by the cosine similarity of the
  molecule and profile embeddings (what its InfoNCE objective optimises).

:func:`~infoalign_sklearn.matching.evaluate_matching` turns the scores into ranking metrics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from ..graph.blocks import Bounds


def feature_bounds_of(block) -> dict:
    """What a fitted embedder keeps of a feature block to scale new profiles like the graph."""
    return {
        "lower": np.asarray(block.lower, dtype=np.float32),
        "upper": np.asarray(block.upper, dtype=np.float32),
        "columns": [str(c) for c in block.columns],
        "binary": bool(block.binary),
    }


def scale_profiles(profiles, bounds: dict, modality: str = "profiles") -> np.ndarray:
    """Raw-unit profiles -> float32 (n, d) in [0, 1] with the graph's min-max bounds.

    The graph builders' rule (:class:`~infoalign_sklearn.graph.blocks.Bounds`): constant
    columns span 1, values clipped to [0, 1] (new profiles may fall outside the graph's range),
    NaN kept, infinite values refused. A DataFrame is aligned to the fitted columns (``bounds["columns"]``) by name; an
    array must have them in order. Binary blocks (fingerprints) are returned as they are.
    """
    columns = list(bounds["columns"])
    if isinstance(profiles, pd.DataFrame):
        missing = [c for c in columns if c not in profiles.columns]
        if missing:
            raise ValueError(
                f"{len(missing)} {modality} column(s) the model was fitted on are missing from "
                f"the profiles, e.g. {missing[:5]}."
            )
        profiles = profiles[columns]
    values = np.array(profiles, dtype=np.float32, copy=True)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2 or values.shape[1] != len(columns):
        raise ValueError(
            f"{modality} profiles must have shape (n, {len(columns)}), got {np.shape(profiles)}."
        )
    infinite = np.isinf(values)
    if infinite.any():
        rows, cols = np.nonzero(infinite)
        raise ValueError(
            f"{modality} profiles hold {infinite.sum()} infinite value(s), e.g. row {rows[0]}, "
            f"column {columns[cols[0]]!r}; as in the graph builders, use NaN for a value that "
            "was not measured."
        )
    if bounds["binary"]:
        return values
    return Bounds(bounds["lower"], bounds["upper"]).scale(values, out=values)


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
