"""Feeding the device: the featurise-ahead pipelines of ``transform`` and ``precision``.

The featurise-ahead pipeline (joblib or DataLoader workers) is the path ``n_jobs`` > 1 takes
on a GPU; here it runs on the CPU,
called directly or routed through the public ``transform`` (the CPU would otherwise take the
data-parallel path), so that its order, invalid rows, errors and progress bar are checked
without a GPU.
"""

import json
import pickle

import numpy as np
import pytest
import torch
from rdkit import Chem
from sklearn.base import clone

from infoalign_sklearn import InfoAlignEmbedder, InvalidMoleculeError, make_synthetic_context
from infoalign_sklearn.embedders import ContrastiveEmbedder

TINY = dict(latent_dim=16, hidden_dim=16, num_layers=2, batch_size=16, max_epochs=1,
            random_state=0)
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def context():
    return make_synthetic_context(n_molecules=80, random_state=0)


@pytest.fixture(scope="module")
def fitted(context):
    return InfoAlignEmbedder(context.graph, **TINY).fit()


@pytest.fixture(scope="module")
def items(nci_smiles):
    out = list(nci_smiles[:90])
    out[5] = "not a smiles"
    out[40] = "C1CC"          # unclosed ring
    out[41] = Chem.MolFromSmiles(out[41])
    return out


def copy_of(fitted, **params):
    other = clone(fitted).set_params(**params)
    other.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    return other


def run_pipeline(embedder, items, engine, workers=2):
    embedder._feed_engine = engine
    chunks = list(embedder._encoded_here(items, embedder.module_.encoder, CPU, workers))
    starts = [start for start, _, _ in chunks]
    valid = np.concatenate([ok for _, _, ok in chunks])
    Z = np.concatenate([encoded[0] for _, encoded, ok in chunks if ok.any()])
    return starts, valid, Z


def test_dataloader_pipeline_gives_the_bits_of_the_same_batches(fitted, items):
    embedder = copy_of(fitted, batch_size=8)
    starts, valid, Z = run_pipeline(embedder, items, "dataloader")
    assert starts == list(range(0, len(items), 8))
    bad = {5, 40}
    assert valid.tolist() == [i not in bad for i in range(len(items))]
    # the joblib engine cuts the same batches: the same bits
    _, valid_joblib, Z_joblib = run_pipeline(embedder, items, "joblib")
    np.testing.assert_array_equal(valid_joblib, valid)
    np.testing.assert_array_equal(Z_joblib, Z)
    # and so does encoding each chunk's valid molecules here, one transform per batch
    reference = np.concatenate([
        embedder.transform(good) for s in starts
        if (good := [m for i, m in enumerate(items[s:s + 8], s) if i not in bad])
    ])
    np.testing.assert_array_equal(Z, reference)


def test_public_transform_through_the_dataloader_pipeline(fitted, items, monkeypatch, capsys):
    # route transform's n_jobs > 1 branch to the GPU pipeline, run on the CPU
    cls = type(fitted)
    monkeypatch.setattr(cls, "_encoded_in_workers",
                        lambda self, xs, encoder, workers, n_outputs=1: self._encoded_here(
                            xs, encoder, CPU, workers, n_outputs))
    sequential = copy_of(fitted, batch_size=8, errors="nan").transform(items)
    embedder = copy_of(fitted, batch_size=8, errors="nan", n_jobs=2, verbose=1)
    embedder._feed_engine = "dataloader"
    Z = embedder.transform(items)
    assert Z.dtype == np.float32 and Z.shape == (len(items), 16)
    assert np.isnan(Z[[5, 40]]).all() and not np.isnan(np.delete(Z, [5, 40], 0)).any()
    # sequential chunks are 8 batches long, so batches around the bad inputs differ: rounding
    np.testing.assert_allclose(Z, sequential, rtol=1e-4,
                               atol=1e-5 * float(np.nanmax(np.abs(sequential))))
    assert f"{len(items)}/{len(items)}" in capsys.readouterr().err  # the progress bar finished
    raising = copy_of(fitted, batch_size=8, n_jobs=2)
    raising._feed_engine = "dataloader"
    with pytest.raises(InvalidMoleculeError) as info:
        raising.transform(items)
    assert "not a smiles" in str(info.value) and "C1CC" in str(info.value)
    assert "5" in str(info.value) and "40" in str(info.value)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_data_parallel_transform_equals_sequential(fitted, items, precision):
    sequential = copy_of(fitted, errors="nan", precision=precision).transform(items)
    parallel = copy_of(fitted, errors="nan", precision=precision, n_jobs=2).transform(items)
    assert np.array_equal(np.isnan(parallel), np.isnan(sequential))
    np.testing.assert_allclose(parallel, sequential, rtol=1e-4,
                               atol=1e-5 * float(np.nanmax(np.abs(sequential))))


def test_bfloat16_transform_is_float32_and_close_to_float32(fitted, nci_smiles):
    smiles = nci_smiles[:64]
    z32 = fitted.transform(smiles)
    z16 = copy_of(fitted, precision="bfloat16").transform(smiles)
    assert z16.dtype == np.float32 and np.isfinite(z16).all()
    assert not np.array_equal(z16, z32)  # autocast did run the forward in bfloat16
    # bfloat16 keeps 8 significant bits (relative step 2^-8 = 0.4 %), compounded over layers
    scale = float(np.abs(z32).max())
    np.testing.assert_allclose(z16, z32, rtol=0, atol=0.03 * scale)
    cosine = (z16 * z32).sum(1) / (np.linalg.norm(z16, axis=1) * np.linalg.norm(z32, axis=1))
    assert cosine.min() > 0.999


def test_bfloat16_pretraining_and_its_checkpoint_signature(context, tmp_path, nci_smiles):
    emb = InfoAlignEmbedder(context.graph, **TINY, precision="bfloat16",
                            checkpoint_dir=tmp_path).fit()
    assert np.isfinite(emb.loss_history_[0]["loss"])
    assert emb.transform(nci_smiles[:5]).dtype == np.float32
    assert all(p.dtype == torch.float32 for p in emb.module_.parameters())
    # a float32 run does not resume the bfloat16 checkpoint
    with pytest.raises(ValueError, match="other settings"):
        InfoAlignEmbedder(context.graph, **TINY, checkpoint_dir=tmp_path).fit()
    # float32, the default, leaves the signature as it was before the parameter existed
    data = type("Data", (), {"mol_graphs": []})()
    f32 = InfoAlignEmbedder(context.graph, **TINY)
    f32._signature_parts = lambda data: {}
    params = f32.get_params(deep=False)
    f32.get_params = lambda deep=False: {k: v for k, v in params.items() if k != "precision"}
    without = f32._training_signature(context.graph, data)
    del f32.get_params
    assert f32._training_signature(context.graph, data) == without


@pytest.mark.parametrize("cls", [InfoAlignEmbedder, ContrastiveEmbedder])
def test_precision_round_trips_and_old_saves_load_as_float32(context, tmp_path, cls, nci_smiles):
    emb = cls(context.graph, **TINY, precision="bfloat16").fit()
    z = emb.transform(nci_smiles[:6])
    loaded = cls.from_pretrained(emb.save_pretrained(tmp_path / "new"))
    assert loaded.precision == "bfloat16"
    np.testing.assert_array_equal(loaded.transform(nci_smiles[:6]), z)
    assert pickle.loads(pickle.dumps(emb)).precision == "bfloat16"
    # a directory saved before the parameter existed: no "precision" in its config
    config_path = tmp_path / "new" / "config.json"
    config = json.loads(config_path.read_text())
    del config["params"]["precision"]
    config_path.write_text(json.dumps(config))
    old = cls.from_pretrained(tmp_path / "new")
    assert old.precision == "float32"
    # an embedder pickled before the parameter existed
    del emb.precision
    assert pickle.loads(pickle.dumps(emb)).get_params()["precision"] == "float32"


def test_bad_precision_is_a_clear_error(context):
    with pytest.raises(ValueError, match="precision"):
        InfoAlignEmbedder(context.graph, **TINY, precision="float16").fit()


def test_cli_pretrain_and_embed_take_precision(context, tmp_path, nci_smiles, capsys):
    import pandas as pd

    from infoalign_sklearn.cli import main

    graph = context.graph.save(tmp_path / "graph")
    model = tmp_path / "model"
    code = main(["pretrain", str(graph), "--out", str(model), "--epochs", "1", "--latent-dim",
                 "8", "--num-layers", "2", "--batch-size", "32", "--precision", "bfloat16"])
    assert code == 0, capsys.readouterr().err
    assert json.loads((model / "config.json").read_text())["params"]["precision"] == "bfloat16"
    pd.DataFrame({"smiles": nci_smiles[:5]}).to_csv(tmp_path / "in.csv", index=False)
    for precision in ("float32", None):
        out = tmp_path / f"out_{precision}.csv"
        extra = [] if precision is None else ["--precision", precision]
        assert main(["embed", str(model), str(tmp_path / "in.csv"), "--out", str(out),
                     "--device", "cpu", *extra]) == 0
        table = pd.read_csv(out)
        expected = InfoAlignEmbedder.from_pretrained(
            model, **({} if precision is None else {"precision": precision})
        ).transform(nci_smiles[:5])
        np.testing.assert_allclose(table.filter(like="infoalign_").drop(
            columns="infoalign_valid").to_numpy(), expected, rtol=1e-6)
    with pytest.raises(SystemExit) as info:  # argparse: usage and exit status 2
        main(["pretrain", str(graph), "--out", str(tmp_path / "m2"), "--precision", "float16"])
    assert info.value.code == 2 and "float16" in capsys.readouterr().err


def test_daemonic_process_featurises_with_joblib(fitted, items, monkeypatch):
    # Dask and multiprocessing workers are daemonic: they cannot start DataLoader workers
    import multiprocessing

    from infoalign_sklearn.embedders import _transform

    def refuse(*args, **kwargs):
        raise AssertionError("DataLoader workers started in a daemonic process")

    embedder = copy_of(fitted, batch_size=8)
    _, _, expected = run_pipeline(embedder, items, "dataloader")
    monkeypatch.setattr(_transform, "_featurized_by_dataloader", refuse)
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True)
    _, valid, Z = run_pipeline(embedder, items, "dataloader")
    np.testing.assert_array_equal(Z, expected)


def test_few_chunks_featurise_with_joblib(fitted, items, monkeypatch):
    # fewer than two chunks per worker: starting DataLoader workers would not pay off
    from infoalign_sklearn.embedders import _transform

    def refuse(*args, **kwargs):
        raise AssertionError("DataLoader workers started for a few chunks")

    embedder = copy_of(fitted, batch_size=32)  # 3 chunks of 32 for 2 workers
    monkeypatch.setattr(_transform, "_featurized_by_dataloader", refuse)
    starts, valid, _ = run_pipeline(embedder, items, "dataloader")
    assert starts == [0, 32, 64] and valid.sum() == len(items) - 2
