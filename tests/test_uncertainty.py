"""The bottleneck's posterior sigma: ``transform(X, return_std=True)``.

Models are pretrained for two epochs on a tiny SIMULATED context graph: these tests check what
the numbers are (the encoder's scale head, the KL term's sigma), not whether they are useful;
benchmarks/sigma_uncertainty.py and docs/uncertainty.md measure that on the real benchmarks.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from joblib import parallel_config
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from test_authors_checkpoint import DIM, SMILES, _write_checkpoint

from infoalign_sklearn import InfoAlignEmbedder, InvalidMoleculeError, make_synthetic_context
from infoalign_sklearn.chem.graphs import collate_graphs, featurize_graphs
from infoalign_sklearn.nn.infoalign import kl_to_standard_normal

TINY = dict(latent_dim=8, hidden_dim=8, num_layers=2, batch_size=16, max_epochs=2,
            random_state=0, device="cpu")


@pytest.fixture(scope="module")
def context():
    return make_synthetic_context(n_molecules=60, n_held_out=20, random_state=1)


@pytest.fixture(scope="module")
def fitted(context):
    return InfoAlignEmbedder(context.graph, errors="nan", **TINY).fit()


@pytest.fixture(scope="module")
def smiles(context):
    return [context.smiles[i] for i in np.flatnonzero(context.held_out)]


def _head(encoder, smiles):
    """The encoder's pooled graph representation through its Gaussian head, step by step."""
    graphs, valid = featurize_graphs(smiles)
    batch = collate_graphs(graphs)
    with torch.inference_mode():
        encoder.eval()
        n = int(batch.num_graphs)
        h = encoder.graph_encoder(batch.x, batch.edge_index, batch.edge_attr, batch.batch, n)
        pooled = encoder.pool(h, batch.batch, n)
        return pooled, encoder.dist_net(pooled)


def _close(actual, reference):
    np.testing.assert_allclose(actual, reference, rtol=1e-4,
                               atol=1e-5 * float(np.nanmax(np.abs(reference))))


def test_shapes_dtypes_positivity_and_mu_unchanged(fitted, smiles):
    mu, sigma = fitted.transform(smiles, return_std=True)
    assert mu.shape == sigma.shape == (len(smiles), TINY["latent_dim"])
    assert mu.dtype == sigma.dtype == np.float32
    assert np.isfinite(sigma).all() and (sigma > 0).all()
    np.testing.assert_array_equal(mu, fitted.transform(smiles))
    # sigma differs between molecules (a constant would make a useless uncertainty by design)
    assert np.ptp(sigma, axis=0).max() > 0


def test_sigma_is_the_scale_head_and_the_kl_terms_sigma(fitted, smiles):
    mu, sigma = fitted.transform(smiles, return_std=True)
    _, head = _head(fitted.module_.encoder, smiles)
    d = TINY["latent_dim"]
    _close(mu, head[:, :d].numpy())
    _close(sigma, (F.softplus(head[:, d:]) + 1e-7).numpy())
    # the KL term of pretraining, on the module's own (mu, sigma), equals the one on ours
    graphs, _ = featurize_graphs(smiles)
    with torch.inference_mode():
        kl_module = float(kl_to_standard_normal(*fitted.module_.eval()(collate_graphs(graphs))))
    kl_ours = float(kl_to_standard_normal(torch.from_numpy(mu), torch.from_numpy(sigma)))
    assert kl_ours == pytest.approx(kl_module, rel=1e-4)


def test_invalid_molecules_are_nan_rows_or_one_error(fitted, smiles):
    items = [smiles[0], "not a smiles", smiles[1], None]
    mu, sigma = fitted.transform(items, return_std=True)
    for out in (mu, sigma):
        assert np.isnan(out[[1, 3]]).all() and np.isfinite(out[[0, 2]]).all()
    _, reference = fitted.transform([smiles[0], smiles[1]], return_std=True)
    np.testing.assert_array_equal(sigma[[0, 2]], reference)
    strict = clone(fitted).set_params(errors="raise")
    strict.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    with pytest.raises(InvalidMoleculeError, match="not a smiles"):
        strict.transform(items[:3], return_std=True)


def test_pandas_output_wraps_mu_and_sigma(fitted, smiles):
    emb = pickle.loads(pickle.dumps(fitted)).set_output(transform="pandas")
    X = pd.Series(smiles[:5] + ["not a smiles"], index=[f"m{i}" for i in range(6)], name="smiles")
    mu, sigma = emb.transform(X, return_std=True)
    for frame in (mu, sigma):
        assert isinstance(frame, pd.DataFrame)
        assert list(frame.index) == list(X.index)
        assert list(frame.columns) == list(emb.get_feature_names_out())
    assert sigma.loc["m5"].isna().all() and (sigma.drop("m5") > 0).all().all()
    np.testing.assert_array_equal(sigma.to_numpy(), fitted.transform(list(X), return_std=True)[1])
    assert isinstance(emb.transform(X), pd.DataFrame)  # without return_std: one frame


def test_return_std_is_an_option_not_routed_metadata(fitted, smiles):
    assert not hasattr(fitted, "set_transform_request")
    assert not fitted.get_metadata_routing().consumes("transform", ["return_std"])
    # inside a Pipeline transform gives mu, as any transformer's output
    pipe = make_pipeline(FrozenEstimator(fitted), StandardScaler()).fit(smiles)
    assert pipe.transform(smiles).shape == (len(smiles), TINY["latent_dim"])


def test_persistence_round_trips_keep_sigma(fitted, smiles, tmp_path):
    _, sigma = fitted.transform(smiles, return_std=True)
    fitted.save_pretrained(tmp_path / "model")
    loaded = InfoAlignEmbedder.from_pretrained(tmp_path / "model", device="cpu")
    np.testing.assert_array_equal(loaded.transform(smiles, return_std=True)[1], sigma)
    unpickled = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(unpickled.transform(smiles, return_std=True)[1], sigma)


def test_worker_encoding_path_gives_the_same_sigma(fitted, smiles):
    # n_jobs > 1 on the CPU: each worker featurises and encodes its share of the molecules
    items = smiles[:10] + ["not a smiles"] + smiles[10:]
    emb = clone(fitted).set_params(n_jobs=2, batch_size=4)
    emb.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    with parallel_config(backend="threading"):
        mu, sigma = emb.transform(items, return_std=True)
    ref_mu, ref_sigma = fitted.transform([s for s in items if s != "not a smiles"],
                                         return_std=True)
    assert np.isnan(sigma[10]).all()
    # other batch shapes round differently in float32 (see test_embedder.py)
    _close(np.delete(mu, 10, axis=0), ref_mu)
    _close(np.delete(sigma, 10, axis=0), ref_sigma)


def test_authors_checkpoint_sigma_is_their_scale_head(tmp_path):
    # their model: mu, s = dist_net(pooled).chunk(2); sigma = softplus(s) + 1e-7 (models/gnn.py)
    folder = _write_checkpoint(tmp_path / "ckpt")
    sd = torch.load(folder / "pretrain.pt", weights_only=True)
    emb = InfoAlignEmbedder.from_authors_checkpoint(folder, device="cpu")
    mu, sigma = emb.transform(SMILES, return_std=True)
    pooled, _ = _head(emb.module_.encoder, SMILES)
    out = F.silu(pooled) @ sd["dist_net.1.weight"].T + sd["dist_net.1.bias"]
    _close(mu, out[:, :DIM].numpy())
    _close(sigma, (F.softplus(out[:, DIM:]) + 1e-7).numpy())


def test_a_collapsed_sigma_warns_and_a_varied_one_does_not(fitted, smiles):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted.transform(smiles, return_std=True)  # sigma varies: no warning
    collapsed = pickle.loads(pickle.dumps(fitted))
    head = collapsed.module_.encoder.dist_net[1]
    with torch.no_grad():  # scale pre-activations far below 0, as pretraining left them
        head.weight[TINY["latent_dim"]:] = 0.0
        head.bias[TINY["latent_dim"]:] = -200.0
    with pytest.warns(RuntimeWarning, match="100.0% of the posterior sigma entries .* floor 1e-7"):
        _, sigma = collapsed.transform(smiles, return_std=True)
    np.testing.assert_array_equal(sigma, np.float32(1e-7))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        collapsed.transform(smiles)  # mu alone: no warning


def test_sigma_benchmark_reads_a_pretrain_config_and_paper_tables_cache(context, tmp_path,
                                                                        capsys):
    # benchmarks/sigma_uncertainty.py --pretrain-config: the settings of the file, and the
    # embedder paper_tables.py cached under them is loaded, not pretrained again
    import importlib.util
    import json
    import sys
    from argparse import Namespace
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(
        "sigma_uncertainty", root / "benchmarks" / "sigma_uncertainty.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script
    spec.loader.exec_module(script)
    config = tmp_path / "pretrain_config.json"
    config.write_text(json.dumps({"chosen": {"max_epochs": 2, "latent_dim": 8,
                                             "hidden_dim": 8, "num_layers": 2}}))
    args = Namespace(epochs=20, beta=1e-9, pretrain_config=str(config), untrained=False,
                     embedder_cache=str(tmp_path / "cache"), n_jobs=None, device="cpu",
                     verbose=0)
    settings = script.pretrain_settings(args)
    assert settings == {"max_epochs": 2, "latent_dim": 8, "hidden_dim": 8, "num_layers": 2}
    graph = context.graph
    name = f"infoalign_{graph.content_hash[:12]}_{script.settings_tag(settings)}_seed0"
    emb = script.pretrained(graph, args, 0)  # not cached yet: pretrained with the settings
    assert (emb.latent_dim, emb.num_layers, emb.n_epochs_) == (8, 2, 2)
    assert (tmp_path / "cache" / name / "config.json").exists()
    again = script.pretrained(graph, args, 0)
    assert "loaded the pretrained embedder" in capsys.readouterr().out
    np.testing.assert_array_equal(again.transform(SMILES[:3]), emb.transform(SMILES[:3]))
    control = script.pretrained(graph, Namespace(**{**vars(args), "untrained": True}), 0)
    assert (control.latent_dim, control.n_epochs_) == (8, 1)
