import json
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from rdkit import Chem
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn_compat import check_molecule_estimator

from infoalign_sklearn import (
    InfoAlignEmbedder,
    InvalidMoleculeError,
    ScaffoldKFold,
    make_synthetic_context,
)
from infoalign_sklearn.embedders import GraphReference

TINY = dict(latent_dim=16, hidden_dim=16, num_layers=2, batch_size=32, max_epochs=2,
            random_state=0)


@pytest.fixture(scope="module")
def context():
    return make_synthetic_context(n_molecules=160, n_held_out=80, random_state=0)


@pytest.fixture(scope="module")
def fitted(context):
    return InfoAlignEmbedder(context.graph, **TINY).fit()


@pytest.fixture(scope="module")
def held_out(context):
    idx = np.flatnonzero(context.held_out)
    return [context.smiles[i] for i in idx], np.asarray(context.mechanisms, dtype=float)[idx]


def assert_close_across_batch_shapes(actual, reference):
    """Embeddings computed in batches of other shapes (batch size, chunking, worker processes).

    float32 GEMMs of other shapes take other kernels and round differently, and which shapes
    round alike depends on the CPU; after the GIN layers and the sum over atoms the differences
    reached ~3e-7 of the largest value (2.3e-5 absolute, up to 1e-3 relative on entries near
    zero) with the AVX-512, AVX2 and SSE kernels tried, so the bound is 1e-5 of the largest value
    (1.4e-3 here, where values reach ~150) plus 1e-4 relative, while the rows of two different
    molecules differ by 0.7 or more. A row out of order, a wrong or a dropped molecule fails.
    """
    np.testing.assert_allclose(actual, reference, rtol=1e-4,
                               atol=1e-5 * float(np.nanmax(np.abs(reference))))


def test_transform_shape_dtype_and_names(fitted, held_out):
    smiles, _ = held_out
    Z = fitted.transform(smiles[:7])
    assert Z.shape == (7, 16) and Z.dtype == np.float32 and np.isfinite(Z).all()
    assert list(fitted.get_feature_names_out())[:2] == ["infoalignembedder0", "infoalignembedder1"]
    frame = clone(fitted).set_params().fit().set_output(transform="pandas").transform(
        pd.Series(smiles[:3], index=[10, 11, 12]))
    assert frame.shape == (3, 16) and list(frame.index) == [10, 11, 12]


def test_same_seed_same_numbers_other_seed_other_numbers(context, fitted, held_out):
    smiles, _ = held_out
    again = InfoAlignEmbedder(context.graph, **TINY).fit()
    np.testing.assert_array_equal(again.transform(smiles), fitted.transform(smiles))
    other = InfoAlignEmbedder(context.graph, **{**TINY, "random_state": 1}).fit()
    assert not np.allclose(other.transform(smiles), fitted.transform(smiles))


def test_loss_history_has_a_term_per_modality(fitted, context):
    assert fitted.modalities_ == tuple(context.graph.modalities)
    assert len(fitted.loss_history_) == 2
    for record in fitted.loss_history_:
        for modality in fitted.modalities_:
            assert np.isfinite(record[modality]) and record[modality] > 0


def test_sklearn_api(context, held_out):
    smiles, mechanisms = held_out
    check_molecule_estimator(
        InfoAlignEmbedder(context.graph, **{**TINY, "max_epochs": 1}), smiles[:40],
        mechanisms[:40, 0], {"beta": [1e-9, 1e-3]},
    )


def test_frozen_embedder_in_pipeline_with_scaffold_cv(fitted, held_out):
    smiles, mechanisms = held_out
    pipe = make_pipeline(FrozenEstimator(fitted), MLPClassifier(max_iter=300, random_state=0))
    scores = cross_val_score(pipe, smiles, mechanisms[:, 0], cv=ScaffoldKFold(3))
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_grid_search_over_beta_refits_the_embedder(context, held_out):
    smiles, mechanisms = held_out
    pipe = make_pipeline(InfoAlignEmbedder(context.graph, **{**TINY, "max_epochs": 1}),
                         LogisticRegression(max_iter=500))
    search = GridSearchCV(pipe, {"infoalignembedder__beta": [1e-9, 1e-2]}, cv=ScaffoldKFold(2))
    search.fit(smiles[:40], mechanisms[:40, 0])
    assert search.best_params_["infoalignembedder__beta"] in (1e-9, 1e-2)


def test_pickle_is_small_holds_no_graph_and_transforms_identically(fitted, held_out, tmp_path):
    smiles, _ = held_out
    path = tmp_path / "embedder.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.transform(smiles), fitted.transform(smiles))
    assert isinstance(loaded.context_graph, GraphReference)
    assert loaded.context_graph.content_hash == fitted.graph_reference_.content_hash
    # the weights are the payload; a graph block would add its matrices
    weights = sum(p.numel() * 4 for p in fitted.module_.state_dict().values())
    assert path.stat().st_size < weights * 1.5 + 200_000
    assert all(v.device.type == "cpu" for v in pickle.loads(pickle.dumps(fitted)).module_.state_dict().values())


def test_unpickled_without_graph_explains_how_to_refit(fitted):
    loaded = pickle.loads(pickle.dumps(fitted))
    with pytest.raises(ValueError, match="never saved"):
        clone(loaded).fit()


def test_save_pretrained_round_trip_and_integrity(fitted, held_out, tmp_path):
    smiles, _ = held_out
    fitted.save_pretrained(tmp_path / "model")
    # the format name of existing saved directories: they must keep loading
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["format"] == "infoalign-sklearn/InfoAlignEmbedder"
    assert config["format_version"] == 1
    loaded = InfoAlignEmbedder.from_pretrained(tmp_path / "model")
    np.testing.assert_array_equal(loaded.transform(smiles), fitted.transform(smiles))
    assert loaded.loss_history_ == fitted.loss_history_
    rebatched = InfoAlignEmbedder.from_pretrained(tmp_path / "model", batch_size=5)
    assert rebatched.batch_size == 5
    # compared at the same batch size, the same bits (other batch shapes take other float32
    # kernels and are equal only up to rounding, which differs between CPUs)
    same_batches = clone(fitted).set_params(batch_size=5)
    same_batches.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    np.testing.assert_array_equal(rebatched.transform(smiles), same_batches.transform(smiles))
    np.testing.assert_allclose(loaded.decode(smiles[:3], "morphology"),
                               fitted.decode(smiles[:3], "morphology"))

    weights = tmp_path / "model" / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(ValueError, match="checksum"):
        InfoAlignEmbedder.from_pretrained(tmp_path / "model")
    fitted.save_pretrained(tmp_path / "model")
    config_path = tmp_path / "model" / "config.json"
    config = json.loads(config_path.read_text())
    config["format_version"] = 99
    config_path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="newer"):
        InfoAlignEmbedder.from_pretrained(tmp_path / "model")
    with pytest.raises(FileNotFoundError, match="missing"):
        InfoAlignEmbedder.from_pretrained(tmp_path)


def test_interrupted_pretraining_resumes_to_the_same_result(context, held_out, tmp_path, monkeypatch):
    smiles, _ = held_out
    params = {**TINY, "max_epochs": 4}
    uninterrupted = InfoAlignEmbedder(context.graph, **params).fit()

    real_run_epoch = InfoAlignEmbedder._run_epoch
    calls = []

    def crash_after_two(self, *args, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        calls.append(1)
        return real_run_epoch(self, *args, **kwargs)

    monkeypatch.setattr(InfoAlignEmbedder, "_run_epoch", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        InfoAlignEmbedder(context.graph, checkpoint_dir=tmp_path, **params).fit()
    monkeypatch.setattr(InfoAlignEmbedder, "_run_epoch", real_run_epoch)

    resumed = InfoAlignEmbedder(context.graph, checkpoint_dir=tmp_path, **params).fit()
    assert [r["epoch"] for r in resumed.loss_history_] == [1, 2, 3, 4]
    np.testing.assert_array_equal(resumed.transform(smiles), uninterrupted.transform(smiles))
    with pytest.raises(ValueError, match="other settings"):
        InfoAlignEmbedder(context.graph, checkpoint_dir=tmp_path, **{**params, "beta": 0.5}).fit()


def test_checkpoint_of_a_model_that_inherited_its_encoder_resumes(context, held_out, tmp_path):
    # checkpoints written before the models held their encoder have keys without "encoder."
    import torch

    smiles, _ = held_out
    params = {**TINY, "max_epochs": 2}
    uninterrupted = InfoAlignEmbedder(context.graph, **params).fit()
    InfoAlignEmbedder(context.graph, checkpoint_dir=tmp_path, **{**params, "max_epochs": 1}).fit()
    path = tmp_path / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    state["model"] = {k.removeprefix("encoder."): v for k, v in state["model"].items()}
    torch.save(state, path)
    resumed = InfoAlignEmbedder(context.graph, checkpoint_dir=tmp_path, **params).fit()
    assert [r["epoch"] for r in resumed.loss_history_] == [1, 2]
    np.testing.assert_array_equal(resumed.transform(smiles), uninterrupted.transform(smiles))


def test_bad_smiles_in_fit_and_transform(context, fitted):
    with pytest.raises(InvalidMoleculeError, match=r"\[1\] 'xyz'.*\[3\] 'C1CC'"):
        InfoAlignEmbedder(context.graph, **TINY).fit(["CCO", "xyz", "CCN", "C1CC"])
    with pytest.raises(InvalidMoleculeError) as info:
        fitted.transform(["CCO", "bad1", "CCN", "bad2"])
    assert info.value.indices == [1, 3]
    lenient = clone(fitted).set_params(errors="nan")
    lenient.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    Z = lenient.transform(["CCO", "bad1", "CCN"])
    assert Z.shape == (3, 16) and np.isnan(Z[1]).all() and np.isfinite(Z[[0, 2]]).all()


def test_fit_x_adds_molecules_outside_the_graph(context, held_out):
    smiles, _ = held_out
    emb = InfoAlignEmbedder(context.graph, **{**TINY, "max_epochs": 1}).fit(smiles[:30] + smiles[:5])
    assert emb.n_training_molecules_ == len(context.graph.molecule_smiles) + 30


def test_decode_returns_raw_units_within_graph_bounds(fitted, context, held_out):
    smiles, _ = held_out
    block = context.graph.feature_block("morphology")
    decoded = fitted.decode(smiles[:5], "morphology", as_frame=True)
    assert list(decoded.columns) == [str(c) for c in block.columns]
    assert (decoded.to_numpy() >= block.lower - 1e-5).all()
    assert (decoded.to_numpy() <= block.upper + 1e-5).all()
    with pytest.raises(ValueError, match="Unknown modality"):
        fitted.decode(smiles[:1], "proteomics")


def test_fit_without_graph_is_a_clear_error():
    with pytest.raises(ValueError, match="needs a context graph"):
        InfoAlignEmbedder().fit()


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_chunked_transform_keeps_order_and_nan_rows(fitted, held_out, n_jobs):
    # several featurisation chunks (thread prefetch or joblib workers), bad inputs inside
    smiles, _ = held_out
    items = list(smiles[:40])
    items[3] = items[37] = "not a smiles"
    reference = fitted.transform([s for s in items if s != "not a smiles"])
    chunked = clone(fitted).set_params(errors="nan", batch_size=4, n_jobs=n_jobs)
    chunked.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    Z = chunked.transform(items)
    assert np.isnan(Z[[3, 37]]).all()
    # batches of 4 (composed around the bad inputs) against batches of 32: float32 rounding
    assert_close_across_batch_shapes(np.delete(Z, [3, 37], axis=0), reference)


def test_data_parallel_transform_with_mol_objects_and_memory_mapped_weights(fitted, held_out):
    # several chunks per worker, cut by estimated work, Mol objects among the SMILES, and the
    # weights memory-mapped (read-only) into the workers as they are for full-size encoders
    from joblib import parallel_config

    smiles, _ = held_out
    items = [Chem.MolFromSmiles(s) if i % 3 == 0 else s for i, s in enumerate(smiles[:60])]
    items[10] = "not a smiles"
    embedder = clone(fitted).set_params(errors="nan", batch_size=2, n_jobs=2)
    embedder.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    with parallel_config(max_nbytes=0):
        Z = embedder.transform(items)
    assert np.isnan(Z[10]).all() and not np.isnan(np.delete(Z, 10, axis=0)).any()
    reference = fitted.transform([s for i, s in enumerate(smiles[:60]) if i != 10])
    # batches of 2 in worker chunks against batches of 32 here: equal up to float32 rounding
    assert_close_across_batch_shapes(np.delete(Z, 10, axis=0), reference)


def test_featurise_ahead_path_of_gpu_runs_keeps_order(fitted, held_out):
    # the path a CUDA device takes with n_jobs > 1 (workers featurise, this process encodes)
    smiles, _ = held_out
    items = list(smiles[:20]) + ["not a smiles"] + list(smiles[20:30])
    embedder = clone(fitted).set_params(batch_size=4, n_jobs=2)
    embedder.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    import torch

    chunks = list(embedder._encoded_here(items, fitted.module_, torch.device("cpu"), workers=2))
    starts = [start for start, _, _ in chunks]
    assert starts == list(range(0, len(items), 4))
    valid = np.concatenate([ok for _, _, ok in chunks])
    assert valid.tolist() == [s != "not a smiles" for s in items]
    Z = np.concatenate([encoded[0] for _, encoded, ok in chunks if ok.any()])
    # the reference encodes the same batches (each chunk's valid molecules, one batch of at
    # most 4) in this process, so the bits must match; against other batch shapes (the default
    # transform of all 30 at once) they would match only up to float32 rounding
    same_batches = clone(fitted).set_params(batch_size=4, device="cpu")
    same_batches.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    batches = [[s for s in items[start:start + 4] if s != "not a smiles"] for start in starts]
    reference = np.concatenate([same_batches.transform(batch) for batch in batches if batch])
    np.testing.assert_array_equal(Z, reference)
