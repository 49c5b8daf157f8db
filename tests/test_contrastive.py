import json
import pickle
import shutil

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn_compat import check_molecule_estimator

from infoalign_sklearn.chem import InvalidMoleculeError
from infoalign_sklearn.embedders import ContrastiveEmbedder, GraphReference, InfoAlignEmbedder
from infoalign_sklearn.embedders._pairs import perturbation_links as _perturbation_links
from infoalign_sklearn.graph import ContextGraph, make_synthetic_context
from infoalign_sklearn.matching import evaluate_matching, profile_scores
from infoalign_sklearn.nn.contrastive import symmetric_info_nce

TINY = dict(latent_dim=8, hidden_dim=16, num_layers=2, batch_size=32, max_epochs=2,
            random_state=0)


@pytest.fixture(scope="module")
def context():
    return make_synthetic_context(n_molecules=100, n_held_out=30, random_state=0)


@pytest.fixture(scope="module")
def fitted(context):
    return ContrastiveEmbedder(context.graph, **TINY).fit()


@pytest.fixture(scope="module")
def small_graph():
    """40 molecules: for tests that fit several times."""
    return make_synthetic_context(n_molecules=40, random_state=1).graph


@pytest.fixture(scope="module")
def held_out(context):
    idx = np.flatnonzero(context.held_out)
    return [context.smiles[i] for i in idx], np.asarray(context.mechanisms, dtype=float)[idx]


def own_morphology(graph):
    """Graph molecules with a morphology profile and that profile (raw units), aligned."""
    block = graph.feature_block("morphology")
    ptr, rows = _perturbation_links(graph, block)
    has = np.diff(ptr) > 0
    smiles = [s for s, h in zip(graph.molecule_smiles, has) if h]
    return smiles, block.inverse_scale(block.values[rows[ptr[:-1][has]]])


def test_links_follow_perturbation_edges_only():
    molecules = pd.DataFrame({"id": ["mol:a", "mol:b", "mol:c"], "smiles": ["CCO", "CCN", "CCC"]})
    morphology = pd.DataFrame([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]],
                              index=["cp:1", "cp:2", "cp:3"], columns=["f0", "f1"])
    links = pd.DataFrame({
        "source": ["mol:a", "mol:a", "mol:b", "mol:c", "mol:c", "mol:c"],
        "target": ["cp:1", "cp:2", "cp:3", "gene:X", "mol:a", "cp:3"],
        # mol:c reaches cp:3 by an edge that is not a perturbation: not a pair
        "kind": ["perturbation", "perturbation", "perturbation", "target", "similarity",
                 "interaction"],
    })
    graph = ContextGraph.from_tables(
        molecules, {"morphology": morphology}, genes=pd.DataFrame({"id": ["gene:X"]}),
        links=links, similarity_modalities=(), expression_gene_fraction=0.0,
    )
    block = graph.feature_block("morphology")
    ptr, rows = _perturbation_links(graph, block)
    linked = [sorted(graph.node_ids[np.flatnonzero(block.rows == r)[0]] for r in rows[ptr[i]:ptr[i + 1]])
              for i in range(len(ptr) - 1)]
    by_smiles = dict(zip(graph.molecule_smiles, linked))
    assert by_smiles == {"CCO": ["cp:1", "cp:2"], "CCN": ["cp:3"], "CCC": []}


def test_info_nce_shares_target_mass_between_positives():
    molecules = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    profiles = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    scale = torch.tensor(0.0)  # temperature 1: logits are cosines
    diagonal = symmetric_info_nce(molecules, profiles, torch.eye(2, dtype=torch.bool), scale)
    expected = -np.log(np.e / (np.e + 1.0))
    assert float(diagonal) == pytest.approx(expected, rel=1e-6)
    # every pair positive: uniform targets, loss is the mean cross-entropy to uniform
    both = symmetric_info_nce(molecules, profiles, torch.ones(2, 2, dtype=torch.bool), scale)
    assert float(both) == pytest.approx(np.log(np.e + 1.0) - 0.5, rel=1e-6)


def test_fit_transform_shapes_history_and_names(fitted, context, held_out):
    smiles, _ = held_out
    Z = fitted.transform(smiles[:7])
    assert Z.shape == (7, 8) and Z.dtype == np.float32 and np.isfinite(Z).all()
    assert fitted.modalities_ == ("morphology", "expression")
    assert list(fitted.get_feature_names_out())[:2] == ["contrastiveembedder0", "contrastiveembedder1"]
    assert len(fitted.loss_history_) == 2
    for record in fitted.loss_history_:
        assert all(np.isfinite(record[k]) and record[k] > 0 for k in ("morphology", "expression", "loss"))
    graph = context.graph
    n_morphology = int((graph.feature_block("morphology").rows >= 0).sum())
    assert fitted.n_pairs_["morphology"] == n_morphology
    assert fitted.n_training_molecules_ <= len(graph.molecule_smiles)
    frame = fitted.set_output(transform="pandas").transform(pd.Series(smiles[:3], index=[4, 5, 6]))
    fitted.set_output(transform="default")
    assert frame.shape == (3, 8) and list(frame.index) == [4, 5, 6]


def test_temperature_is_learnt_or_fixed(small_graph):
    learnt = ContrastiveEmbedder(small_graph, **{**TINY, "max_epochs": 1, "lr": 1e-2}).fit()
    fixed = ContrastiveEmbedder(small_graph, **{**TINY, "max_epochs": 1, "lr": 1e-2,
                                                "learn_temperature": False}).fit()
    assert learnt.loss_history_[-1]["temperature"] != pytest.approx(0.1, abs=1e-4)
    assert fixed.loss_history_[-1]["temperature"] == pytest.approx(0.1, rel=1e-6)


def test_same_seed_same_numbers_other_seed_other_numbers(context, fitted, held_out):
    smiles, _ = held_out
    again = ContrastiveEmbedder(context.graph, **TINY).fit()
    np.testing.assert_array_equal(again.transform(smiles), fitted.transform(smiles))
    assert again.loss_history_[-1]["loss"] == fitted.loss_history_[-1]["loss"]
    other = ContrastiveEmbedder(context.graph, **{**TINY, "random_state": 1}).fit()
    assert not np.allclose(other.transform(smiles), fitted.transform(smiles))


def test_pickle_is_small_holds_no_graph_and_round_trips(fitted, context, held_out, tmp_path):
    smiles, _ = held_out
    profiles = context.true_profiles(smiles, "morphology")
    path = tmp_path / "contrastive.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.transform(smiles), fitted.transform(smiles))
    np.testing.assert_array_equal(loaded.embed_profiles(profiles), fitted.embed_profiles(profiles))
    assert isinstance(loaded.context_graph, GraphReference)
    assert loaded.context_graph.content_hash == context.graph.content_hash
    weights = sum(p.numel() * 4 for p in fitted.module_.state_dict().values())
    assert path.stat().st_size < weights * 1.5 + 100_000
    assert all(v.device.type == "cpu" for v in pickle.loads(pickle.dumps(fitted)).module_.state_dict().values())
    with pytest.raises(ValueError, match="never saved"):
        clone(loaded).fit()


def test_bad_smiles_policy(fitted):
    with pytest.raises(InvalidMoleculeError) as info:
        fitted.transform(["CCO", "bad1", "CCN", "bad2"])
    assert info.value.indices == [1, 3]
    lenient = pickle.loads(pickle.dumps(fitted)).set_params(errors="nan")
    Z = lenient.transform(["CCO", "bad1", "CCN"])
    assert Z.shape == (3, 8) and np.isnan(Z[1]).all()
    np.testing.assert_array_equal(Z[[0, 2]], fitted.transform(["CCO", "CCN"]))


def test_embed_profiles_scaling_columns_and_missing_rows(fitted, context, held_out):
    smiles, _ = held_out
    profiles = context.true_profiles(smiles[:4], "morphology")
    columns = fitted.feature_bounds_["morphology"]["columns"]
    frame = pd.DataFrame(profiles, columns=columns)
    reordered = frame[columns[::-1]]
    np.testing.assert_array_equal(fitted.embed_profiles(reordered), fitted.embed_profiles(profiles))
    # values beyond the graph's range are clipped to its bounds, as new plates may be
    upper = fitted.feature_bounds_["morphology"]["upper"]
    np.testing.assert_array_equal(fitted.embed_profiles(upper[None, :] + 10.0),
                                  fitted.embed_profiles(upper[None, :]))
    with_gap = profiles.copy()
    with_gap[1] = np.nan
    out = fitted.embed_profiles(with_gap)
    assert np.isnan(out[1]).all() and np.isfinite(out[[0, 2, 3]]).all()
    with pytest.raises(ValueError, match="shape"):
        fitted.embed_profiles(profiles[:, :5])
    with pytest.raises(ValueError, match="missing"):
        fitted.embed_profiles(frame.drop(columns=columns[0]))
    with pytest.raises(ValueError, match="Unknown modality"):
        fitted.embed_profiles(profiles, "gene")


def test_profile_scores_are_cosine_similarities(fitted, context, held_out):
    smiles, _ = held_out
    profiles = context.true_profiles(smiles[:5], "morphology")
    scores = profile_scores(fitted, smiles[:3], profiles)
    a = fitted.transform(smiles[:3]).astype(float)
    b = fitted.embed_profiles(profiles).astype(float)
    expected = (a / np.linalg.norm(a, axis=1, keepdims=True)) @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_short_training_matches_molecules_to_their_profiles_far_above_random(context):
    smiles, profiles = own_morphology(context.graph)
    emb = ContrastiveEmbedder(context.graph, modalities=("morphology",), latent_dim=16,
                              hidden_dim=32, num_layers=2, dropout=0.0, batch_size=32,
                              max_epochs=8, lr=3e-3, random_state=0).fit()
    result = evaluate_matching(profile_scores(emb, smiles, profiles), np.arange(len(smiles)))
    # about 60 candidates: random HIT@10 is ~0.16; a trained model finds most within 10
    assert result["hit@10"] > 2.5 * result["random_hit@10"]
    assert result["ndcg@10"] > 2.5 * result["random_ndcg@10"]


def test_sklearn_api(small_graph, held_out):
    smiles, mechanisms = held_out
    check_molecule_estimator(
        ContrastiveEmbedder(small_graph, **{**TINY, "max_epochs": 1}), smiles,
        mechanisms[:, 0], {"temperature": [0.1, 0.5]},
    )


def test_clear_errors_without_graph_or_profiles(context):
    with pytest.raises(ValueError, match="needs a context graph"):
        ContrastiveEmbedder().fit()
    with pytest.raises(ValueError, match="subset"):
        ContrastiveEmbedder(context.graph, modalities=("fingerprint",), **TINY).fit()
    molecules = pd.DataFrame({"id": ["mol:a", "mol:b"], "smiles": ["CCO", "CCN"]})
    no_profiles = ContextGraph.from_tables(molecules, similarity_modalities=(),
                                           expression_gene_fraction=0.0)
    with pytest.raises(ValueError, match="none of the profile modalities"), pytest.warns(UserWarning):
        ContrastiveEmbedder(no_profiles, **TINY).fit()


def test_trains_when_profiles_are_shared_and_molecules_have_several():
    molecules = pd.DataFrame({"id": [f"mol:{i}" for i in range(4)],
                              "smiles": ["CCO", "CCN", "c1ccccc1", "CC(=O)O"]})
    morphology = pd.DataFrame(np.random.default_rng(0).random((3, 4)),
                              index=["cp:1", "cp:2", "cp:3"], columns=list("abcd"))
    links = pd.DataFrame({
        "source": ["mol:0", "mol:0", "mol:1", "mol:2", "mol:3"],
        "target": ["cp:1", "cp:2", "cp:2", "cp:3", "cp:3"],
        "kind": ["perturbation"] * 5,
    })
    graph = ContextGraph.from_tables(molecules, {"morphology": morphology}, links=links,
                                     similarity_modalities=(), expression_gene_fraction=0.0)
    emb = ContrastiveEmbedder(graph, modalities=("morphology",), **{**TINY, "max_epochs": 3}).fit()
    assert emb.n_pairs_ == {"morphology": 5} and emb.n_training_molecules_ == 4
    assert all(np.isfinite(r["loss"]) for r in emb.loss_history_)


def test_save_pretrained_round_trip(fitted, context, held_out, tmp_path):
    smiles, _ = held_out
    morphology = context.true_profiles(smiles, "morphology")
    expression = context.true_profiles(smiles, "expression")
    fitted.save_pretrained(tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["format"] == "infoalign-sklearn/ContrastiveEmbedder"
    loaded = ContrastiveEmbedder.from_pretrained(tmp_path / "model")

    np.testing.assert_array_equal(loaded.transform(smiles), fitted.transform(smiles))
    np.testing.assert_array_equal(loaded.embed_profiles(morphology), fitted.embed_profiles(morphology))
    np.testing.assert_array_equal(loaded.embed_profiles(expression, "expression"),
                                  fitted.embed_profiles(expression, "expression"))
    np.testing.assert_array_equal(profile_scores(loaded, smiles[:10], morphology),
                                  profile_scores(fitted, smiles[:10], morphology))

    params = fitted.get_params()
    params.pop("context_graph")
    assert {k: v for k, v in loaded.get_params().items() if k != "context_graph"} == params
    assert loaded.modalities == ("morphology", "expression")  # a tuple again, not a JSON list
    for name in ("modalities_", "profile_dims_", "n_pairs_", "loss_history_", "n_epochs_",
                 "n_training_molecules_", "graph_reference_"):
        assert getattr(loaded, name) == getattr(fitted, name), name
    assert loaded.context_graph == fitted.graph_reference_
    for m in fitted.modalities_:
        want, got = fitted.feature_bounds_[m], loaded.feature_bounds_[m]
        assert set(got) == {"lower", "upper", "columns", "binary", "fill"}
        assert got["columns"] == want["columns"] and got["binary"] == want["binary"]
        for key in ("lower", "upper", "fill"):
            assert got[key].dtype == np.float32
            np.testing.assert_array_equal(got[key], want[key])

    rebatched = ContrastiveEmbedder.from_pretrained(tmp_path / "model", batch_size=5, device="cpu")
    assert (rebatched.batch_size, rebatched.device) == (5, "cpu")
    # compared at the same batch size and device, the same bits (batches of another size take
    # other float32 kernels and match only up to rounding, which differs between CPUs)
    same_batches = clone(fitted).set_params(batch_size=5, device="cpu")
    same_batches.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    np.testing.assert_array_equal(rebatched.embed_profiles(morphology),
                                  same_batches.embed_profiles(morphology))


def test_from_pretrained_needs_no_graph(small_graph, tmp_path):
    small_graph.save(tmp_path / "graph")
    emb = ContrastiveEmbedder(str(tmp_path / "graph"), **{**TINY, "max_epochs": 1}).fit()
    smiles, profiles = own_morphology(small_graph)
    emb.save_pretrained(tmp_path / "model")
    shutil.rmtree(tmp_path / "graph")

    loaded = ContrastiveEmbedder.from_pretrained(tmp_path / "model")
    assert loaded.context_graph == GraphReference(str(tmp_path / "graph"), small_graph.content_hash,
                                                  small_graph.simulated)
    np.testing.assert_array_equal(loaded.transform(smiles), emb.transform(smiles))
    np.testing.assert_array_equal(loaded.embed_profiles(profiles), emb.embed_profiles(profiles))
    np.testing.assert_array_equal(profile_scores(loaded, smiles, profiles),
                                  profile_scores(emb, smiles, profiles))
    with pytest.raises(FileNotFoundError, match="no saved ContextGraph"):
        clone(loaded).fit()


def test_from_pretrained_refuses_other_models_and_damaged_directories(fitted, small_graph, tmp_path):
    model = tmp_path / "model"
    fitted.save_pretrained(model)
    infoalign = tmp_path / "infoalign"
    InfoAlignEmbedder(small_graph, **{**TINY, "max_epochs": 1}).fit().save_pretrained(infoalign)
    with pytest.raises(ValueError, match=r"holds a saved InfoAlignEmbedder .*"
                                         r"ContrastiveEmbedder.from_pretrained expects format "
                                         r"'infoalign-sklearn/ContrastiveEmbedder'"):
        ContrastiveEmbedder.from_pretrained(infoalign)
    with pytest.raises(ValueError, match="holds a saved ContrastiveEmbedder"):
        InfoAlignEmbedder.from_pretrained(model)

    weights = model / "weights.pt"
    intact = weights.read_bytes()
    damaged = bytearray(intact)
    damaged[len(damaged) // 2] ^= 0xFF  # same size, one byte flipped
    weights.write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="checksum"):
        ContrastiveEmbedder.from_pretrained(model)
    weights.write_bytes(intact[:-10])
    with pytest.raises(ValueError, match="checksum"):
        ContrastiveEmbedder.from_pretrained(model)
    weights.write_bytes(intact)

    config_path = model / "config.json"
    config = json.loads(config_path.read_text())
    without_dims = {k: v for k, v in config.items() if k != "profile_dims"}
    for changed, message in [
        ({**config, "format": "something/else"}, "does not describe a saved ContrastiveEmbedder"),
        ({**config, "format_version": 99}, "newer"),
        (without_dims, "lacks the entry 'profile_dims'"),
    ]:
        config_path.write_text(json.dumps(changed))
        with pytest.raises(ValueError, match=message):
            ContrastiveEmbedder.from_pretrained(model)
    config_path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        ContrastiveEmbedder.from_pretrained(model)
    with pytest.raises(FileNotFoundError, match="not a saved ContrastiveEmbedder"):
        ContrastiveEmbedder.from_pretrained(tmp_path)


def test_interrupted_training_resumes_to_the_same_result(small_graph, held_out, tmp_path,
                                                         monkeypatch):
    smiles, _ = held_out
    params = {**TINY, "max_epochs": 4, "batch_size": 16}
    uninterrupted = ContrastiveEmbedder(small_graph, **params).fit()

    real_run_epoch = ContrastiveEmbedder._run_epoch
    calls = []

    def crash_after_two(self, *args, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        calls.append(1)
        return real_run_epoch(self, *args, **kwargs)

    monkeypatch.setattr(ContrastiveEmbedder, "_run_epoch", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        ContrastiveEmbedder(small_graph, checkpoint_dir=tmp_path, **params).fit()
    monkeypatch.setattr(ContrastiveEmbedder, "_run_epoch", real_run_epoch)

    resumed = ContrastiveEmbedder(small_graph, checkpoint_dir=tmp_path, **params).fit()
    assert [r["epoch"] for r in resumed.loss_history_] == [1, 2, 3, 4]
    np.testing.assert_array_equal(resumed.transform(smiles), uninterrupted.transform(smiles))
    assert resumed.loss_history_[-1]["loss"] == uninterrupted.loss_history_[-1]["loss"]
    with pytest.raises(ValueError, match="other settings"):
        ContrastiveEmbedder(small_graph, checkpoint_dir=tmp_path,
                            **{**params, "temperature": 0.5}).fit()


def test_optimizer_by_name_or_class(small_graph, held_out, tmp_path):
    smiles, _ = held_out
    params = {**TINY, "max_epochs": 1}
    adam = ContrastiveEmbedder(small_graph, **params).fit().transform(smiles[:5])
    by_class = ContrastiveEmbedder(small_graph, optimizer=torch.optim.Adam, **params).fit()
    np.testing.assert_array_equal(by_class.transform(smiles[:5]), adam)
    adamw = ContrastiveEmbedder(small_graph, optimizer="adamw", weight_decay=0.1, **params).fit()
    assert not np.array_equal(adamw.transform(smiles[:5]), adam)
    by_class.save_pretrained(tmp_path / "model")
    assert ContrastiveEmbedder.from_pretrained(tmp_path / "model").optimizer is torch.optim.Adam
    with pytest.raises(ValueError, match="optimizer"):
        ContrastiveEmbedder(small_graph, optimizer="sgdx", **params).fit()
