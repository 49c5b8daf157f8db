import itertools

import numpy as np
import pytest
import torch
from sklearn.preprocessing import StandardScaler

from infoalign_sklearn.embedders import InfoAlignEmbedder
from infoalign_sklearn.graph import make_synthetic_context
from infoalign_sklearn.matching import evaluate_matching, profile_scores, random_matching_baseline


# ----------------------------------------------------------------- metrics on known answers
def test_evaluate_matching_on_a_hand_made_matrix():
    scores = [[0.9, 0.1, 0.5], [0.2, 0.3, 0.8], [0.1, 0.2, 0.3]]
    result = evaluate_matching(scores, [0, 1, 2], ks=(1, 2))
    # true ranks 1, 2, 1
    assert result["hit@1"] == pytest.approx(2 / 3)
    assert result["ndcg@1"] == pytest.approx(2 / 3)
    assert result["hit@2"] == pytest.approx(1.0)
    assert result["ndcg@2"] == pytest.approx((2 + 1 / np.log2(3)) / 3)
    assert result["random_hit@1"] == pytest.approx(1 / 3)
    assert result["random_hit@2"] == pytest.approx(2 / 3)
    assert (result["n_queries"], result["n_candidates"], result["n_skipped"]) == (3, 3, 0)


def test_ties_count_against_the_query():
    result = evaluate_matching(np.zeros((4, 4)), [0, 1, 2, 3], ks=(1, 3, 4))
    assert result["hit@1"] == 0.0 and result["hit@3"] == 0.0 and result["hit@4"] == 1.0
    assert result["ndcg@4"] == pytest.approx(1 / np.log2(5))


def test_nan_rows_are_skipped_and_nan_candidates_rank_last():
    scores = np.array([[np.nan, np.nan, np.nan], [0.5, np.nan, 0.1], [0.2, 0.1, np.nan]])
    result = evaluate_matching(scores, [0, 1, 2], ks=(1, 2))
    assert (result["n_queries"], result["n_skipped"]) == (2, 1)
    # query 1: its NaN true candidate ranks below both others (rank 3); query 2 likewise
    assert result["hit@2"] == 0.0
    assert evaluate_matching(scores, [0, 0, 0], ks=(1,))["hit@1"] == 1.0
    with pytest.raises(ValueError, match="Every query"):
        evaluate_matching(np.full((2, 2), np.nan), [0, 1])
    with pytest.raises(ValueError, match="one entry per query"):
        evaluate_matching(np.zeros((2, 2)), [0])


@pytest.mark.parametrize("n_candidates", [1, 3, 5])
def test_random_baseline_is_the_exact_average_over_all_rankings(n_candidates):
    ks = (1, 2, 10)
    exact = random_matching_baseline(n_candidates, ks)
    sums = dict.fromkeys(exact, 0.0)
    perms = list(itertools.permutations(range(n_candidates)))
    for perm in perms:
        scores = np.asarray(perm, dtype=float)[None, :]
        result = evaluate_matching(scores, [0], ks=ks)
        for key in sums:
            sums[key] += result[key]
    for key, value in sums.items():
        assert exact[key] == pytest.approx(value / len(perms), abs=1e-12)
    assert evaluate_matching(np.zeros((1, n_candidates)), [0], ks)["random_hit@10"] == exact["hit@10"]


# ------------------------------------------------------------------ InfoAlign likelihood
@pytest.fixture(scope="module")
def context():
    return make_synthetic_context(n_molecules=60, n_held_out=10, random_state=2)


@pytest.fixture(scope="module")
def infoalign(context):
    return InfoAlignEmbedder(context.graph, latent_dim=8, hidden_dim=8, num_layers=2,
                             batch_size=32, max_epochs=1, random_state=0).fit()


@pytest.fixture(scope="module")
def held_out(context):
    return [context.smiles[i] for i in np.flatnonzero(context.held_out)]


def decoded_probabilities(embedder, smiles, modality="morphology") -> np.ndarray:
    mu = torch.from_numpy(embedder.transform(smiles))
    with torch.inference_mode():
        return torch.sigmoid(embedder.module_.decoders[modality](mu).double()).numpy()


def to_raw(embedder, scaled, modality="morphology"):
    bounds = embedder.feature_bounds_[modality]
    return bounds["lower"] + scaled * (bounds["upper"] - bounds["lower"])


def test_likelihood_is_mean_bernoulli_log_likelihood_over_measured_columns(infoalign, context, held_out):
    smiles = held_out[:3]
    candidates = context.true_profiles(held_out[3:7], "morphology")
    candidates[0, :5] = np.nan
    candidates[2, 7] = 1e6  # far above the graph's range: clipped to 1
    scores = profile_scores(infoalign, smiles, candidates)

    p = decoded_probabilities(infoalign, smiles)
    bounds = infoalign.feature_bounds_["morphology"]
    span = bounds["upper"] - bounds["lower"]
    y = np.clip((candidates - bounds["lower"]) / np.where(span > 0, span, 1), 0, 1).astype(np.float64)
    expected = np.empty((3, 4))
    for i in range(3):
        for j in range(4):
            seen = ~np.isnan(y[j])
            ll = y[j, seen] * np.log(p[i, seen]) + (1 - y[j, seen]) * np.log(1 - p[i, seen])
            expected[i, j] = ll.mean()
    assert scores.shape == (3, 4) and scores.dtype == np.float64
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_likelihood_ranks_the_decoded_profile_first(infoalign, held_out):
    rng = np.random.default_rng(0)
    p = decoded_probabilities(infoalign, held_out)
    for i, smiles in enumerate(held_out):
        # the log-likelihood is linear in each target, so the profile at the bound the decoder
        # leans to in every column is the most likely one: it must beat any other candidate
        best = (p[i] > 0.5).astype(np.float64)
        others = [1.0 - best, np.full_like(best, 0.5), p[i], *rng.random((20, best.size))]
        candidates = to_raw(infoalign, np.vstack([best, *others]))
        scores = profile_scores(infoalign, [smiles], candidates)
        result = evaluate_matching(scores, [0], ks=(1,))
        assert result["hit@1"] == 1.0, i


def test_invalid_molecules_give_nan_rows_and_are_skipped(infoalign, context, held_out):
    candidates = context.true_profiles(held_out[:4], "morphology")
    with pytest.raises(ValueError, match="xyz"):
        profile_scores(infoalign, [held_out[0], "xyz"], candidates)
    lenient = InfoAlignEmbedder(**{**infoalign.get_params(), "errors": "nan"})
    lenient.__dict__.update({k: v for k, v in infoalign.__dict__.items() if k.endswith("_")})
    scores = profile_scores(lenient, [held_out[0], "xyz", held_out[1]], candidates)
    assert np.isnan(scores[1]).all() and np.isfinite(scores[[0, 2]]).all()
    assert evaluate_matching(scores, [0, 1, 1])["n_skipped"] == 1


def test_wrong_inputs_are_clear_errors(infoalign, context, held_out):
    candidates = context.true_profiles(held_out[:2], "morphology")
    with pytest.raises(ValueError, match="Unknown modality"):
        profile_scores(infoalign, held_out[:2], candidates, modality="proteomics")
    with pytest.raises(ValueError, match="shape"):
        profile_scores(infoalign, held_out[:2], candidates[:, :3])
    with pytest.raises(TypeError, match="cannot score profiles"):
        profile_scores(StandardScaler().fit(np.eye(2)), held_out[:2], candidates)
