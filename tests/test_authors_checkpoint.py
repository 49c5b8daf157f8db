"""Loading the InfoAlign authors' checkpoint (``pretrain.pt`` + YAML config) and fetching it.

The real weights cannot be downloaded here, so every test writes a checkpoint in the authors'
layout itself: random weights under their parameter names and shapes (the structure of their
``models/gnn.py`` and ``models/conv.py``: OGB atom / bond embedding tables with max_norm=1,
GIN convolutions with their own bond tables, batch norms, virtual node MLPs, ``dist_net``,
six decoders). The representation is checked against a forward pass written below directly
from the state dict's tensors, which is what shows the name mapping is right. Downloads are
mocked: a stand-in ``huggingface_hub`` module is put in ``sys.modules``.
"""

import pickle
import sys
import types
from collections import OrderedDict

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from infoalign_sklearn import InfoAlignEmbedder, smiles_to_graph
from infoalign_sklearn.datasets import (
    AUTHORS_CHECKPOINT_REPO,
    AUTHORS_CHECKPOINT_REVISION,
    fetch_authors_checkpoint,
)
from infoalign_sklearn.nn.authors import (
    AuthorsCheckpointError,
    load_authors_checkpoint,
    read_authors_config,
)

ATOM_DIMS = (119, 5, 12, 12, 10, 6, 6, 2, 2)  # OGB get_atom_feature_dims()
BOND_DIMS = (5, 6, 2)  # OGB get_bond_feature_dims()
DIM, LAYERS = 8, 3
SMILES = ["CCO", "c1ccccc1O", "C[C@H](N)C(=O)[O-]", "C", "F/C=C/Cl", "[NH4+].[Cl-]"]


def _authors_state_dict(dim=DIM, layers=LAYERS, seed=0) -> OrderedDict:
    """Random weights under the authors' names and shapes (their GNN with gin-virtual)."""
    g = torch.Generator().manual_seed(seed)

    def randn(*shape, scale=0.4):
        return torch.randn(*shape, generator=g) * scale

    def batch_norm(prefix, n):
        sd[f"{prefix}.weight"] = 1 + randn(n, scale=0.1)
        sd[f"{prefix}.bias"] = randn(n, scale=0.1)
        sd[f"{prefix}.running_mean"] = randn(n, scale=0.2)
        sd[f"{prefix}.running_var"] = 0.5 + torch.rand(n, generator=g)
        sd[f"{prefix}.num_batches_tracked"] = torch.tensor(100)

    def linear(prefix, n_in, n_out):
        sd[f"{prefix}.weight"] = randn(n_out, n_in, scale=1 / n_in ** 0.5)
        sd[f"{prefix}.bias"] = randn(n_out, scale=0.1)

    sd = OrderedDict()
    for i, d in enumerate(ATOM_DIMS):  # rows of norm ~1.1 on average: some above 1, some below
        sd[f"graph_encoder.atom_encoder.atom_embedding_list.{i}.weight"] = randn(d, dim)
    for i, d in enumerate(BOND_DIMS):  # the table their forward pass never uses
        sd[f"graph_encoder.bond_encoder.bond_embedding_list.{i}.weight"] = randn(d, dim)
    sd["graph_encoder.virtualnode_embedding.weight"] = randn(1, dim, scale=0.1)
    for layer in range(layers):
        p = f"graph_encoder.convs.{layer}"
        linear(f"{p}.mlp.0", dim, 2 * dim)
        batch_norm(f"{p}.mlp.1", 2 * dim)
        linear(f"{p}.mlp.3", 2 * dim, dim)
        sd[f"{p}.eps"] = randn(1, scale=0.1)
        for i, d in enumerate(BOND_DIMS):
            sd[f"{p}.bond_encoder.bond_embedding_list.{i}.weight"] = randn(d, dim)
    for layer in range(layers):
        batch_norm(f"graph_encoder.batch_norms.{layer}", dim)
    for layer in range(layers - 1):
        p = f"graph_encoder.mlp_virtualnode_list.{layer}"
        linear(f"{p}.0", dim, 2 * dim)
        batch_norm(f"{p}.1", 2 * dim)
        linear(f"{p}.3", 2 * dim, dim)
        batch_norm(f"{p}.4", dim)
    linear("dist_net.1", dim, 2 * dim)
    for k, out in enumerate((16, 11, 7, 13, 9, 10)):  # their six decoders, shrunk
        linear(f"decoder_list.{k}.fc1", dim, 4 * dim)
        batch_norm(f"decoder_list.{k}.bn1", 4 * dim)
        linear(f"decoder_list.{k}.fc2", 4 * dim, out)
    # what Module.state_dict() attaches (module versions), pickled with the dict
    sd._metadata = OrderedDict({"": {"version": 1}, "graph_encoder.batch_norms.0": {"version": 2}})
    return sd


def _config_text(dim=DIM, layers=LAYERS, readout="sum", model="gin-virtual"):
    # the layout of their save_arguments_to_yaml (yaml.dump of a flat dict, keys sorted)
    return (f"emb_dim: {dim}\nmodel: {model}\nnorm_layer: batch_norm\nnum_layer: {layers}\n"
            f"prior: 1.0e-09\nreadout: {readout}\nthreshold: 0.8\nwalk_length: 4\n")


def _write_checkpoint(folder, sd=None, config=True, **config_args):
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(_authors_state_dict() if sd is None else sd, folder / "pretrain.pt")
    if config:
        (folder / "pretrain.yaml").write_text(_config_text(**config_args))
    return folder


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return _write_checkpoint(tmp_path_factory.mktemp("authors") / "ckpt")


def _reference_mu(sd, smiles, layers=LAYERS, readout="sum", max_norm=1.0):
    """Their forward pass in eval mode, from the tensors alone, for one molecule."""
    graph = smiles_to_graph(smiles)
    x, edges, edge_attr = graph.x, graph.edge_index, graph.edge_attr

    def embed(prefix, codes, n):
        return sum(F.embedding(codes[:, i], sd[f"{prefix}.{i}.weight"].clone(), max_norm=max_norm)
                   for i in range(n))

    def bn(h, p):
        scale = sd[f"{p}.weight"] / torch.sqrt(sd[f"{p}.running_var"] + 1e-5)
        return (h - sd[f"{p}.running_mean"]) * scale + sd[f"{p}.bias"]

    def lin(h, p):
        return h @ sd[f"{p}.weight"].T + sd[f"{p}.bias"]

    h = embed("graph_encoder.atom_encoder.atom_embedding_list", x, 9)
    virtual = sd["graph_encoder.virtualnode_embedding.weight"].clone()
    for layer in range(layers):
        conv = f"graph_encoder.convs.{layer}"
        h_in = h + virtual
        bond = embed(f"{conv}.bond_encoder.bond_embedding_list", edge_attr, 3)
        aggregated = torch.zeros_like(h_in)
        for k in range(edges.shape[1]):
            source, target = int(edges[0, k]), int(edges[1, k])
            aggregated[target] += torch.relu(h_in[source] + bond[k])
        z = (1 + sd[f"{conv}.eps"]) * h_in + aggregated
        z = lin(torch.relu(bn(lin(z, f"{conv}.mlp.0"), f"{conv}.mlp.1")), f"{conv}.mlp.3")
        z = bn(z, f"graph_encoder.batch_norms.{layer}")
        if layer < layers - 1:
            z = torch.relu(z)
        h = z + h_in
        if layer < layers - 1:
            v = f"graph_encoder.mlp_virtualnode_list.{layer}"
            pooled = h_in.sum(0, keepdim=True) + virtual
            update = torch.relu(bn(lin(torch.relu(bn(lin(pooled, f"{v}.0"), f"{v}.1")), f"{v}.3"),
                                   f"{v}.4"))
            virtual = virtual + update
    pooled = {"sum": h.sum(0), "mean": h.mean(0), "max": h.max(0).values}[readout]
    out = lin(F.silu(pooled)[None], "dist_net.1")[0]
    return out[: out.shape[0] // 2].numpy()


def _close(ours, reference):
    reference = np.asarray(reference)
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-5 * np.abs(reference).max())


# ------------------------------------------------------------------ the representation
def test_transform_is_their_representation(checkpoint):
    sd = torch.load(checkpoint / "pretrain.pt", weights_only=True)
    emb = InfoAlignEmbedder.from_authors_checkpoint(checkpoint, device="cpu")
    out = emb.transform(SMILES)
    assert out.shape == (len(SMILES), DIM) and out.dtype == np.float32
    _close(out, [_reference_mu(sd, s) for s in SMILES])
    assert (emb.latent_dim, emb.hidden_dim, emb.num_layers, emb.readout) == (DIM, DIM, LAYERS, "sum")
    assert emb.beta == pytest.approx(1e-9) and emb.walk_length == 4
    source = emb.pretrained_source_
    assert source["weights"] == str(checkpoint / "pretrain.pt")
    assert source["config_entries"]["model"] == "gin-virtual"
    assert any(k.startswith("decoder_list.") for k in source["ignored_keys"])
    assert any(k.startswith("graph_encoder.bond_encoder.") for k in source["ignored_keys"])


def test_the_reference_sees_the_max_norm_of_their_embeddings(checkpoint):
    """Their tables renormalise rows of norm > 1 on lookup; the file has such rows, and a
    forward pass without it gives another representation (so the test above checks it)."""
    sd = torch.load(checkpoint / "pretrain.pt", weights_only=True)
    norms = sd["graph_encoder.atom_encoder.atom_embedding_list.0.weight"].norm(dim=1)
    assert (norms > 1).any() and (norms < 1).any()
    ours = InfoAlignEmbedder.from_authors_checkpoint(checkpoint).transform(["c1ccccc1O"])[0]
    plain = _reference_mu(sd, "c1ccccc1O", max_norm=None)
    assert np.abs(ours - plain).max() > 1e-2 * np.abs(plain).max()


def test_readout_comes_from_the_config_or_the_argument(tmp_path):
    sd = _authors_state_dict(seed=1)
    folder = _write_checkpoint(tmp_path / "max", sd, readout="max")
    emb = InfoAlignEmbedder.from_authors_checkpoint(folder / "pretrain.pt")
    assert emb.readout == "max"
    _close(emb.transform(SMILES[:3]), [_reference_mu(sd, s, readout="max") for s in SMILES[:3]])
    emb = InfoAlignEmbedder.from_authors_checkpoint(folder, readout="mean")
    _close(emb.transform(SMILES[:3]), [_reference_mu(sd, s, readout="mean") for s in SMILES[:3]])


def test_without_config_sizes_come_from_the_weights_and_readout_is_sum(tmp_path):
    sd = _authors_state_dict(dim=6, layers=2, seed=2)
    folder = _write_checkpoint(tmp_path / "bare", sd, config=False)
    emb = InfoAlignEmbedder.from_authors_checkpoint(folder)
    assert (emb.latent_dim, emb.num_layers, emb.readout) == (6, 2, "sum")
    assert emb.pretrained_source_["config"] is None
    _close(emb.transform(["CCO", "CCN"]), [_reference_mu(sd, s, layers=2) for s in ["CCO", "CCN"]])


def test_config_named_as_on_the_hub_or_after_the_weights(tmp_path):
    for name in ("config.yaml", "model.yaml"):
        folder = tmp_path / name.split(".")[0]
        folder.mkdir()
        weights = "model.pt" if name == "model.yaml" else "pretrain.pt"
        torch.save(_authors_state_dict(), folder / weights)
        (folder / name).write_text(_config_text(readout="mean"))
        assert InfoAlignEmbedder.from_authors_checkpoint(folder).readout == "mean"


def test_sklearn_behaviour_errors_pandas_pickle_and_save_round_trip(checkpoint, tmp_path):
    emb = InfoAlignEmbedder.from_authors_checkpoint(checkpoint, errors="nan", batch_size=2)
    out = emb.transform(["CCO", "not a smiles", "c1ccccc1O"])
    assert np.isnan(out[1]).all() and np.isfinite(out[[0, 2]]).all()
    frame = emb.set_output(transform="pandas").transform(pd.Series(["CCO", "CCN"], index=[5, 7]))
    assert list(frame.columns) == [f"infoalignembedder{i}" for i in range(DIM)]
    emb.set_output(transform="default")
    expected = emb.transform(SMILES)
    for restored in (pickle.loads(pickle.dumps(emb)), joblib.load(_dump(emb, tmp_path))):
        np.testing.assert_array_equal(restored.transform(SMILES), expected)
    saved = emb.save_pretrained(tmp_path / "saved")
    loaded = InfoAlignEmbedder.from_pretrained(saved)
    np.testing.assert_array_equal(loaded.transform(SMILES), expected)
    assert loaded.pretrained_source_["sha256"] == emb.pretrained_source_["sha256"]
    assert loaded.n_training_molecules_ is None
    with pytest.raises(ValueError, match="no decoders"):
        emb.decode(["CCO"])
    with pytest.raises(ValueError, match="needs a context graph"):
        emb.fit()
    with pytest.raises(ValueError, match="authors' pretrained weights.*context_graph="):
        loaded.fit()
    strict = InfoAlignEmbedder.from_authors_checkpoint(checkpoint)
    with pytest.raises(ValueError, match="not a smiles"):
        strict.transform(["CCO", "not a smiles"])


def _dump(obj, tmp_path):
    path = tmp_path / "emb.joblib"
    joblib.dump(obj, path)
    return path


def test_from_pretrained_points_to_the_authors_loader(checkpoint):
    with pytest.raises(FileNotFoundError, match="from_authors_checkpoint"):
        InfoAlignEmbedder.from_pretrained(checkpoint)


def test_network_shape_cannot_be_overridden(checkpoint):
    with pytest.raises(ValueError, match="latent_dim"):
        InfoAlignEmbedder.from_authors_checkpoint(checkpoint, latent_dim=16)
    with pytest.raises(ValueError, match="readout must be") as info:
        InfoAlignEmbedder.from_authors_checkpoint(checkpoint, readout="attention")
    assert not isinstance(info.value, AuthorsCheckpointError)


def test_wrapped_or_data_parallel_state_dicts_load(tmp_path):
    sd = _authors_state_dict(seed=3)
    expected = [_reference_mu(sd, "CCO")]
    for name, content in [("wrapped", {"model_state_dict": sd}),
                          ("parallel", OrderedDict((f"module.{k}", v) for k, v in sd.items()))]:
        folder = _write_checkpoint(tmp_path / name, content)
        _close(InfoAlignEmbedder.from_authors_checkpoint(folder).transform(["CCO"]), expected)


# ------------------------------------------------------------------ files of another layout
def _our_weights(path):
    from infoalign_sklearn.nn import InfoAlignModel

    torch.save(InfoAlignModel({"fingerprint": 4}, num_layers=2, hidden_dim=4,
                              latent_dim=4).state_dict(), path)


def _bad_files():
    sd = _authors_state_dict()
    missing = OrderedDict((k, v) for k, v in sd.items() if k != "graph_encoder.batch_norms.1.bias")
    reshaped = OrderedDict(sd)
    reshaped["graph_encoder.atom_encoder.atom_embedding_list.0.weight"] = torch.zeros(100, DIM)
    gin = OrderedDict((k, v) for k, v in sd.items() if "virtualnode" not in k)
    gcn = OrderedDict((k.replace(".mlp.", ".linear."), v) for k, v in sd.items())
    return {
        "ours": (_our_weights, "infoalign-sklearn weights file.*from_pretrained"),
        "random": (lambda p: torch.save({"a": torch.zeros(2)}, p), "lacks .*dist_net"),
        "missing": (lambda p: torch.save(missing, p), "1 missing key.*batch_norms.1.bias"),
        "reshaped": (lambda p: torch.save(reshaped, p),
                     r"another shape.*atom_embedding_list.0.weight: \(100, 8\) \(expected \(119, 8\)"),
        "no-virtual-node": (lambda p: torch.save(gin, p), "without virtual node"),
        "gcn": (lambda p: torch.save(gcn, p), "not GIN"),
        "text": (lambda p: p.write_text("hello"), "weights_only=True"),
        "list": (lambda p: torch.save([torch.zeros(1)], p), "holds a list"),
        "code": (lambda p: torch.save(types.SimpleNamespace(a=1), p), "weights_only=True"),
    }


@pytest.mark.parametrize("kind", sorted(_bad_files()))
def test_a_file_of_another_layout_is_a_clear_error(kind, tmp_path):
    write, message = _bad_files()[kind]
    path = tmp_path / "pretrain.pt"
    write(path)
    with pytest.raises(AuthorsCheckpointError, match=message) as info:
        InfoAlignEmbedder.from_authors_checkpoint(tmp_path)
    assert str(path) in str(info.value) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(("text", "message"), [
    (_config_text(layers=5), "num_layer: 5 in the config, but the weights have 3"),
    (_config_text(dim=300), "emb_dim: 300 in the config, but the weights have 8"),
    (_config_text(model="gcn-virtual"), "only the published 'gin-virtual'"),
    (_config_text(readout="attention"), "readout 'attention'"),
    ("emb_dim 300\n", "expected 'key: value' lines"),
])
def test_a_config_that_does_not_fit_is_a_clear_error(text, message, tmp_path):
    _write_checkpoint(tmp_path, config=False)
    (tmp_path / "pretrain.yaml").write_text(text)
    with pytest.raises(AuthorsCheckpointError, match=message) as info:
        load_authors_checkpoint(tmp_path)
    assert "pretrain.yaml" in str(info.value)


def test_config_parser_reads_their_scalars(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("# comment\nemb_dim: 300\nprior: 1.0e-09\nmodel: 'gin-virtual'\n"
                    "readout: sum  # pooling\n")
    assert read_authors_config(path) == {"emb_dim": 300, "prior": 1e-9, "model": "gin-virtual",
                                         "readout": "sum"}


def test_missing_checkpoint_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no .pt file"):
        load_authors_checkpoint(tmp_path)
    with pytest.raises(FileNotFoundError, match="No such file"):
        load_authors_checkpoint(tmp_path / "nope.pt")


# ------------------------------------------------------------------ download (mocked)
class _FakeHub:
    """Stands in for huggingface_hub: serves files from a dict, records every call."""

    def __init__(self, files, fail=None):
        self.files, self.fail, self.calls = files, fail, []

    def hf_hub_download(self, repo_id, filename, *, revision=None, local_dir=None, **kwargs):
        self.calls.append({"repo_id": repo_id, "filename": filename, "revision": revision,
                           **kwargs})
        if self.fail is not None:
            raise self.fail
        if filename not in self.files:
            raise type("EntryNotFoundError", (Exception,), {})(f"404: {filename}")
        target = local_dir / filename
        (local_dir / ".cache" / "huggingface").mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.files[filename])
        return str(target)


@pytest.fixture
def hub(monkeypatch, checkpoint):
    files = {"pretrain.pt": (checkpoint / "pretrain.pt").read_bytes(),
             "pretrain.yaml": _config_text().encode()}
    fake = _FakeHub(files)
    module = types.ModuleType("huggingface_hub")
    module.hf_hub_download = fake.hf_hub_download
    monkeypatch.setitem(sys.modules, "huggingface_hub", module)
    for name in ("HF_HUB_OFFLINE", "INFOALIGN_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    return fake


def test_download_pins_the_revision_checks_and_caches(hub, checkpoint, tmp_path):
    folder = fetch_authors_checkpoint(tmp_path)
    assert folder == tmp_path / "authors-checkpoint" / AUTHORS_CHECKPOINT_REVISION
    assert {c["repo_id"] for c in hub.calls} == {AUTHORS_CHECKPOINT_REPO}
    assert {c["revision"] for c in hub.calls} == {AUTHORS_CHECKPOINT_REVISION}
    assert sorted(p.name for p in folder.iterdir()) == ["pretrain.pt", "pretrain.pt.sha256",
                                                        "pretrain.yaml"]
    import hashlib

    digest = hashlib.sha256((checkpoint / "pretrain.pt").read_bytes()).hexdigest()
    assert (folder / "pretrain.pt.sha256").read_text().strip() == digest
    n_calls = len(hub.calls)
    hub.fail = AssertionError("the cache must be used")
    assert fetch_authors_checkpoint(tmp_path) == folder
    emb = InfoAlignEmbedder.from_authors_checkpoint(cache_dir=tmp_path)  # cache only
    assert len(hub.calls) == n_calls + 0 and emb.pretrained_source_["sha256"] == digest


def test_download_through_the_embedder_and_config_under_its_later_name(hub, tmp_path):
    hub.files["config.yaml"] = hub.files.pop("pretrain.yaml")
    emb = InfoAlignEmbedder.from_authors_checkpoint(download=True, cache_dir=tmp_path,
                                                    revision="main")
    assert emb.readout == "sum" and emb.pretrained_source_["config"].endswith("pretrain.yaml")
    assert [c["filename"] for c in hub.calls] == ["pretrain.pt", "pretrain.yaml", "config.yaml"]
    assert {c["revision"] for c in hub.calls} == {"main"}


def test_no_download_unless_asked_and_offline_uses_the_cache_only(hub, tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="not in the cache.*download=True"):
        InfoAlignEmbedder.from_authors_checkpoint(cache_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="downloads are off"):
        fetch_authors_checkpoint(tmp_path, offline=True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="not in the cache"):
        fetch_authors_checkpoint(tmp_path)
    assert hub.calls == []
    monkeypatch.delenv("HF_HUB_OFFLINE")
    fetch_authors_checkpoint(tmp_path)
    monkeypatch.setenv("INFOALIGN_OFFLINE", "true")
    assert (fetch_authors_checkpoint(tmp_path) / "pretrain.pt").is_file()


def test_checksum_mismatch_is_refused_and_nothing_is_kept(hub, tmp_path):
    with pytest.raises(ValueError, match="expected 0000.*not saved"):
        fetch_authors_checkpoint(tmp_path, sha256="0" * 64)
    assert not (tmp_path / "authors-checkpoint" / AUTHORS_CHECKPOINT_REVISION).exists()


def test_a_corrupted_cache_is_refused_until_forced(hub, tmp_path):
    folder = fetch_authors_checkpoint(tmp_path)
    good = (folder / "pretrain.pt").read_bytes()
    (folder / "pretrain.pt").write_bytes(good[:-10] + b"x" * 10)
    with pytest.raises(ValueError, match="corrupted or was replaced.*force=True"):
        fetch_authors_checkpoint(tmp_path)
    assert fetch_authors_checkpoint(tmp_path, force=True) == folder
    assert (folder / "pretrain.pt").read_bytes() == good


def test_download_failure_names_the_repository_and_the_folder(hub, tmp_path):
    hub.fail = ConnectionError("no route to host")
    with pytest.raises(FileNotFoundError, match="no route to host.*Copy the file into"):
        fetch_authors_checkpoint(tmp_path)


def test_without_huggingface_hub_a_clear_import_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("INFOALIGN_OFFLINE", raising=False)
    with pytest.raises(ImportError, match=r"infoalign-sklearn\[hub\]"):
        fetch_authors_checkpoint(tmp_path)


# ------------------------------------------------------------------ command line
def test_cli_embed_accepts_the_authors_checkpoint(checkpoint, tmp_path, capsys):
    from infoalign_sklearn.cli import main

    pd.DataFrame({"smiles": ["CCO", "xx", "c1ccccc1O"], "name": ["a", "b", "c"]}).to_csv(
        tmp_path / "in.csv", index=False)
    code = main(["embed", str(checkpoint), str(tmp_path / "in.csv"), "--out",
                 str(tmp_path / "out.csv"), "--authors-checkpoint", "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "out.csv")
    assert table["infoalign_valid"].tolist() == [True, False, True]
    expected = InfoAlignEmbedder.from_authors_checkpoint(checkpoint).transform(["CCO", "c1ccccc1O"])
    got = table[[f"infoalign_{i}" for i in range(DIM)]].to_numpy()[[0, 2]]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    code = main(["embed", str(checkpoint), str(tmp_path / "in.csv"), "--out",
                 str(tmp_path / "out2.csv")])
    err = capsys.readouterr().err
    assert code != 0 and "config.json" in err and "--authors-checkpoint" in err


# ------------------------------------------------------------------ their featurisation
_OGB_CHIRALITY = ["CHI_UNSPECIFIED", "CHI_TETRAHEDRAL_CW", "CHI_TETRAHEDRAL_CCW", "CHI_OTHER"]
_OGB_HYBRIDIZATION = ["SP", "SP2", "SP3", "SP3D", "SP3D2"]
_OGB_BOND_TYPE = ["SINGLE", "DOUBLE", "TRIPLE", "AROMATIC"]
_OGB_STEREO = ["STEREONONE", "STEREOZ", "STEREOE", "STEREOCIS", "STEREOTRANS", "STEREOANY"]


def _ogb_index(values, value, last):
    """OGB's rule: the value's position in the allowed list, else the last ("misc") index."""
    return values.index(value) if value in values else last


def _ogb_graph(smiles):
    """The authors' featurisation (OGB smiles2graph rules), from RDKit getters directly."""
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    x = [[
        _ogb_index(list(range(1, 119)), a.GetAtomicNum(), 118),
        _ogb_index(_OGB_CHIRALITY, str(a.GetChiralTag()), 4),
        _ogb_index(list(range(11)), a.GetTotalDegree(), 11),
        _ogb_index(list(range(-5, 6)), a.GetFormalCharge(), 11),
        _ogb_index(list(range(9)), a.GetTotalNumHs(), 9),
        _ogb_index(list(range(5)), a.GetNumRadicalElectrons(), 5),
        _ogb_index(_OGB_HYBRIDIZATION, str(a.GetHybridization()), 5),
        int(a.GetIsAromatic()), int(a.IsInRing()),
    ] for a in mol.GetAtoms()]
    edges = set()
    for b in mol.GetBonds():
        features = (_ogb_index(_OGB_BOND_TYPE, str(b.GetBondType()), 4),
                    _ogb_index(_OGB_STEREO, str(b.GetStereo()), 5), int(b.GetIsConjugated()))
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        edges |= {(i, j, *features), (j, i, *features)}
    return np.array(x, dtype=np.int64).reshape(-1, 9), edges


def test_featurisation_follows_their_ogb_rules(nci_smiles):
    """The representation also depends on the atom / bond codes: ours (a faster path through
    RDKit) must equal OGB's smiles2graph rules on real and unusual molecules."""
    from infoalign_sklearn.chem.graphs import featurize_graphs

    unusual = ["[CH3]", "[Fe+2]", "C[N+](C)(C)C", "O=[N+][O-]", "[2H]C", "F/C=C\\F",
               "C[C@@H]1CC[C@H](O)CC1", "[O-][Cl+3]([O-])([O-])[O-]", "C#N", "[Pt]",
               "c1ccc2c(c1)[nH]c1ccccc12", "[SiH4]", "F[S](F)(F)(F)(F)F", "[Na+].[Cl-]",
               "C1=CC=CC=C1", "[Cu+2].[O-]S(=O)(=O)[O-]", "N[C@@](C)(F)C(=O)O"]
    smiles = nci_smiles[:200] + unusual
    graphs, valid = featurize_graphs(smiles, errors="nan")
    assert valid.all()
    for s, g in zip(smiles, graphs):
        x, edges = _ogb_graph(s)
        np.testing.assert_array_equal(g.x, x, err_msg=s)
        ours = {(int(i), int(j), *map(int, f)) for (i, j), f in zip(g.edge_index.T, g.edge_attr)}
        assert ours == edges, s
