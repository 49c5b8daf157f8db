"""Bad molecule input gets one clear answer on every path (issue 14, items 6-8).

- Whitespace inside a SMILES makes it invalid (RDKit would read what follows as a name and
  return a truncated molecule); surrounding whitespace is removed.
- Missing values (None, NaN, pd.NA, empty cells) are invalid molecules like any other: one
  error naming them with ``errors="raise"``, NaN rows in place with ``errors="nan"``.
- ``errors`` is checked wherever it is applied, so a typo never turns strict mode lenient.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infoalign_sklearn import (
    InfoAlignEmbedder,
    InvalidMoleculeError,
    MorganFingerprint,
    make_synthetic_context,
    scaffold_groups,
)
from infoalign_sklearn.chem import featurize_graphs, morgan_fingerprints, parse_molecules

INNER_WHITESPACE = ["C C O", "CC\nO", "c1ccccc1 O", "CC\tO", "CC\rO", "C\u00a0CO"]
MISSING = [None, np.nan, float("nan"), pd.NA, "", "   "]


@pytest.fixture(scope="module")
def embedder():
    context = make_synthetic_context(n_molecules=40, random_state=0)
    return InfoAlignEmbedder(context.graph, latent_dim=8, hidden_dim=8, num_layers=2,
                             max_epochs=1, batch_size=16, random_state=0).fit()


def _paths(embedder):
    """name -> f(X, errors) -> (n, d) array with NaN rows where invalid."""
    def graphs(X, errors):
        _, valid = featurize_graphs(X, errors=errors)
        return np.where(valid[:, None], 0.0, np.nan)

    return {
        "MorganFingerprint": lambda X, e: MorganFingerprint(n_bits=64, errors=e).transform(X),
        "InfoAlignEmbedder": lambda X, e: embedder.set_params(errors=e).transform(X),
        "featurize_graphs": graphs,
        "parse_molecules": lambda X, e: np.where(parse_molecules(X, errors=e)[1][:, None],
                                                 0.0, np.nan),
    }


PATHS = ["MorganFingerprint", "InfoAlignEmbedder", "featurize_graphs", "parse_molecules"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("bad", INNER_WHITESPACE + MISSING, ids=repr)
def test_bad_entry_is_named_or_a_nan_row(embedder, path, bad):
    run = _paths(embedder)[path]
    X = ["CCO", bad, "c1ccccc1O"]
    with pytest.raises(InvalidMoleculeError) as info:
        run(X, "raise")
    assert info.value.indices == [1]
    out = run(X, "nan")
    assert out.shape[0] == 3
    assert np.isnan(out[1]).all() and not np.isnan(out[[0, 2]]).any()


@pytest.mark.parametrize("path", PATHS)
def test_surrounding_whitespace_is_removed(embedder, path):
    run = _paths(embedder)[path]
    padded = run([" CCO", "c1ccccc1O\n", "\tCC(=O)O  "], "raise")
    plain = run(["CCO", "c1ccccc1O", "CC(=O)O"], "raise")
    np.testing.assert_array_equal(padded, plain)


def test_missing_values_in_a_pandas_column(embedder):
    column = pd.Series(["CCO", None, np.nan, pd.NA, "c1ccccc1O"], dtype=object)
    Z = embedder.set_params(errors="nan").transform(column)
    assert np.isnan(Z[1:4]).all() and not np.isnan(Z[[0, 4]]).any()
    with pytest.raises(InvalidMoleculeError, match=r"\[1\] missing"):
        embedder.set_params(errors="raise").transform(column)
    with pytest.raises(InvalidMoleculeError) as info:
        scaffold_groups(column)
    assert info.value.indices == [1, 2, 3]


@pytest.mark.parametrize("typo", ["Raise", "NaN", "ignore", None, 1])
def test_errors_typo_is_refused_after_fitting(embedder, typo):
    with pytest.raises(ValueError, match="errors must be one of"):
        embedder.set_params(errors=typo).transform(["CCO", "xx"])
    embedder.set_params(errors="raise")
    with pytest.raises(ValueError, match="errors"):
        MorganFingerprint().fit(["CCO"]).set_params(errors=typo).transform(["xx"])


def test_errors_typo_through_from_pretrained(embedder, tmp_path):
    embedder.set_params(errors="raise").save_pretrained(tmp_path / "m")
    with pytest.raises(ValueError, match="overrides is invalid: The 'errors' parameter"):
        InfoAlignEmbedder.from_pretrained(tmp_path / "m", errors="Raise")


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="CNOc1()=# \t\n[]@+-", max_size=12))
def test_fuzzed_smiles_agree_across_paths_and_never_truncate(text):
    """Any text: the fingerprint and graph paths agree on validity, and a text with inner
    whitespace is never valid (no truncated molecule)."""
    fp = morgan_fingerprints([text], n_bits=32)
    _, valid = featurize_graphs([text], errors="nan")
    assert bool(valid[0]) == (not np.isnan(fp[0]).any())
    if any(ch.isspace() for ch in text.strip()):
        assert not valid[0]


# ---------------------------------------------------------------- files and devices (items 1, 4,
# 13, 14, 16)
CUDA = pytest.importorskip("torch").cuda.is_available()


def test_pretraining_refuses_batches_of_one_molecule(embedder):
    from sklearn.base import clone

    with pytest.raises(ValueError, match="at least 2 molecules per step"):
        clone(embedder).set_params(batch_size=1).fit()
    assert embedder.set_params(batch_size=1).transform(["CCO"]).shape == (1, 8)
    embedder.set_params(batch_size=16)


@pytest.mark.skipif(CUDA, reason="checks the fallback of a machine without CUDA")
def test_model_saved_for_cuda_transforms_on_the_cpu(embedder, tmp_path):
    embedder.set_params(device="cuda", errors="raise").save_pretrained(tmp_path / "m")
    embedder.set_params(device="auto")
    loaded = InfoAlignEmbedder.from_pretrained(tmp_path / "m")
    assert loaded.device == "cuda"
    with pytest.warns(UserWarning, match="CUDA is not available"):
        Z = loaded.transform(["CCO"])
    np.testing.assert_array_equal(Z, embedder.transform(["CCO"]))


def _cli(argv, capsys):
    from infoalign_sklearn.cli import main

    code = main(argv)
    return code, capsys.readouterr().err


def test_embed_refuses_to_write_over_its_input(embedder, tmp_path, capsys):
    embedder.set_params(errors="raise").save_pretrained(tmp_path / "m")
    table = tmp_path / "in.csv"
    table.write_text("smiles,id\nCCO,007\n")
    (tmp_path / "link.csv").symlink_to(table)
    for out in (table, tmp_path / "link.csv"):
        code, err = _cli(["embed", str(tmp_path / "m"), str(table), "--out", str(out),
                          "--overwrite"], capsys)
        assert code == 2 and "is the input file" in err
    assert table.read_text() == "smiles,id\nCCO,007\n"


def test_pretrain_refuses_a_saved_model_and_a_file_as_out(tmp_path, capsys):
    graph = tmp_path / "g"
    make_synthetic_context(n_molecules=40, random_state=0).graph.save(graph)
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    code, err = _cli(["pretrain", str(graph), "--out", str(model)], capsys)
    assert code == 2 and "already holds a saved model" in err and "--overwrite" in err
    (tmp_path / "file").write_text("x")
    code, err = _cli(["pretrain", str(graph), "--out", str(tmp_path / "file")], capsys)
    assert code == 2 and "is a file" in err
    code, err = _cli(["pretrain", str(graph), "--out", str(tmp_path / "m2"), "--batch-size", "1",
                      "--epochs", "1"], capsys)
    assert code == 2 and "at least 2 molecules" in err


@pytest.mark.parametrize("device", ["gpu", "cuda:x"] + ([] if CUDA else ["cuda"]))
def test_cli_refuses_an_unusable_device_before_any_work(tmp_path, capsys, device):
    code, err = _cli(["pretrain", str(tmp_path), "--out", str(tmp_path / "m"), "--device",
                      device], capsys)
    assert code == 2 and "--device" in err and "Traceback" not in err


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_embed_carries_text_columns_through_unchanged(embedder, tmp_path, capsys, suffix):
    embedder.set_params(errors="raise", batch_size=16).save_pretrained(tmp_path / "m")
    text = ("smiles,id,flag,note\n"
            ",007,TRUE,NA\n"            # empty SMILES first: a text column starts empty
            "CCO,010,False,None\n"
            "C C O,0.50,true,\n"
            "c1ccccc1O,1e3,FALSE,text later\n")
    (tmp_path / "in.csv").write_text(text)
    out = tmp_path / f"out.{suffix}"
    code, err = _cli(["embed", str(tmp_path / "m"), str(tmp_path / "in.csv"), "--out", str(out),
                      "--chunk-size", "2"], capsys)
    assert code == 0, err
    if suffix == "csv":
        result = pd.read_csv(out, dtype=str, keep_default_na=False)
    else:
        result = pd.read_parquet(out)
    assert result["id"].tolist() == ["007", "010", "0.50", "1e3"]
    assert result["flag"].tolist() == ["TRUE", "False", "true", "FALSE"]
    assert result["note"].tolist() == ["NA", "None", "", "text later"]
    valid = result["infoalign_valid"].astype(str).str.lower().tolist()
    assert valid == ["false", "true", "false", "true"]  # empty and "C C O" are invalid


def test_demo_out_that_is_a_file_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    code, err = _cli(["demo", "--quick", "--out", str(tmp_path / "f")], capsys)
    assert code == 2 and "is a file" in err and "--overwrite" not in err


@pytest.mark.parametrize("options, text", [
    (dict(fingerprint_bits=0), "n_bits must be >= 1"),
    (dict(fingerprint_bits=-1), "n_bits must be >= 1"),
    (dict(fingerprint_radius=-1), "radius must be >= 0"),
    (dict(fingerprint_bits=2.5), "n_bits must be an int"),
])
def test_bad_fingerprint_options_of_the_builder_are_clear(options, text):
    from infoalign_sklearn import ContextGraph

    molecules = pd.DataFrame({"id": ["mol:1", "mol:2"], "smiles": ["CCO", "CCN"]})
    with pytest.raises((ValueError, TypeError), match=text):
        ContextGraph.from_tables(molecules, similarity_modalities=(), **options)


def test_mol_objects_give_what_their_smiles_gives(embedder):
    from rdkit import Chem

    smiles = ["c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C[C@H](N)C(=O)O"]
    with_h = [Chem.AddHs(Chem.MolFromSmiles(s)) for s in smiles]
    kekule = []
    for s in smiles:
        mol = Chem.MolFromSmiles(s)
        Chem.Kekulize(mol, clearAromaticFlags=True)
        kekule.append(mol)
    unsanitised = [Chem.MolFromSmiles(s, sanitize=False) for s in smiles]
    embedder.set_params(errors="raise")
    reference = embedder.transform(smiles)
    for mols in (with_h, kekule, unsanitised):
        # the same atoms in the same order; bonds may be listed in another order, which
        # changes only the float32 rounding of the message sums
        np.testing.assert_allclose(embedder.transform(mols), reference, rtol=1e-5,
                                   atol=1e-5 * np.abs(reference).max())
        np.testing.assert_array_equal(MorganFingerprint(n_bits=64).transform(mols),
                                      MorganFingerprint(n_bits=64).transform(smiles))


def test_unreadable_mols_follow_the_errors_policy(embedder):
    from rdkit import Chem

    broken = Chem.MolFromSmiles("c1cccc1", sanitize=False)  # cannot be kekulised
    query = Chem.MolFromSmarts("[#6]~[#7,#8]")
    X = ["CCO", broken, query]
    with pytest.raises(InvalidMoleculeError) as info:
        embedder.set_params(errors="raise").transform(X)
    assert 1 in info.value.indices
    out = embedder.set_params(errors="nan").transform(X)
    assert out.shape == (3, 8) and np.isnan(out[1]).all() and not np.isnan(out[0]).any()
    embedder.set_params(errors="raise")


# ------------------------------------------------------ whole-directory saves (items 3 and 5)
def _save_graph_repeatedly(args):
    path, seed, times = args
    graph = make_synthetic_context(n_molecules=12, random_state=seed).graph
    for _ in range(times):
        graph.save(path, overwrite=True)
    return graph.content_hash


def test_concurrent_graph_saves_leave_one_whole_graph_and_no_copies(tmp_path):
    import multiprocessing

    from infoalign_sklearn.graph import ContextGraph

    path = tmp_path / "g"
    make_synthetic_context(n_molecules=12, random_state=9).graph.save(path)
    jobs = [(path, seed, 6) for seed in range(4)]
    with multiprocessing.get_context("fork").Pool(4) as pool:
        hashes = pool.map(_save_graph_repeatedly, jobs)  # any raw OSError would surface here
    assert ContextGraph.load(path).content_hash in hashes
    assert [p.name for p in tmp_path.iterdir()] == ["g"]  # no hidden .g.*.old / .tmp copies


def _save_model_repeatedly(args):
    embedder, path, times = args
    for _ in range(times):
        embedder.save_pretrained(path)


def test_concurrent_model_saves_leave_a_loadable_model(embedder, tmp_path):
    import multiprocessing

    from sklearn.base import clone

    path = tmp_path / "m"
    embedder.set_params(errors="raise")
    other = clone(embedder).set_params(random_state=1).fit()  # other weights, same shapes
    jobs = [(model, path, 8) for model in (embedder, other, embedder, other)]
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_save_model_repeatedly, jobs)
    loaded = InfoAlignEmbedder.from_pretrained(path)  # weights and config of one save
    Z = loaded.transform(["CCO"])
    assert any(np.array_equal(Z, m.transform(["CCO"])) for m in (embedder, other))
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_a_crash_while_saving_a_model_keeps_the_previous_one(embedder, tmp_path, monkeypatch):
    from pathlib import Path

    path = tmp_path / "m"
    embedder.set_params(errors="raise").save_pretrained(path)
    (path / "checkpoints").mkdir()
    (path / "checkpoints" / "checkpoint.pt").write_bytes(b"ckpt")
    (path / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
    real = Path.write_text

    def crash(self, *args, **kwargs):
        if self.name == "config.json":
            raise KeyboardInterrupt  # as if the process died between the two files
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", crash)
    with pytest.raises(KeyboardInterrupt):
        embedder.set_params(errors="nan").save_pretrained(path)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()} == before
    assert InfoAlignEmbedder.from_pretrained(path).errors == "raise"
    embedder.set_params(errors="nan").save_pretrained(path)  # a finished save keeps the others
    assert (path / "checkpoints" / "checkpoint.pt").read_bytes() == b"ckpt"
    assert (path / "notes.txt").read_text() == "mine"
    assert InfoAlignEmbedder.from_pretrained(path).errors == "nan"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


# --------------------------------------- resume, reloads and interrupts (items 8, 14 and 17)
def test_resume_with_fewer_epochs_than_done_is_refused(embedder, tmp_path):
    from sklearn.base import clone

    model = clone(embedder).set_params(max_epochs=2, checkpoint_dir=tmp_path / "ck").fit()
    assert model.n_epochs_ == 2
    with pytest.raises(ValueError, match="has 2 epochs done, more than max_epochs=1"):
        clone(model).set_params(max_epochs=1).fit()
    assert clone(model).fit().n_epochs_ == 2  # the same length resumes to the end at once


def test_from_pretrained_forgets_the_checkpoint_folder(embedder, tmp_path):
    from sklearn.base import clone

    model = clone(embedder).set_params(checkpoint_dir=tmp_path / "ck", errors="raise").fit()
    model.save_pretrained(tmp_path / "m")
    assert InfoAlignEmbedder.from_pretrained(tmp_path / "m").checkpoint_dir is None
    again = InfoAlignEmbedder.from_pretrained(tmp_path / "m", checkpoint_dir=tmp_path / "ck")
    assert again.checkpoint_dir == tmp_path / "ck"


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["params"].update(errors="Raise"), "errors"),
    (lambda c: c["params"].update(batch_size=0), "batch_size"),
])
def test_invalid_parameters_in_a_saved_config_are_refused(embedder, tmp_path, edit, message):
    import json

    embedder.set_params(errors="raise").save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    edit(config)
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=f"config.json is invalid: .*{message}"):
        InfoAlignEmbedder.from_pretrained(tmp_path / "m")


def test_config_that_is_not_utf8_is_a_clear_error(embedder, tmp_path):
    embedder.set_params(errors="raise").save_pretrained(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_bytes(b'{"format": "\xff\xfe"}')
    with pytest.raises(ValueError, match="not UTF-8 text"):
        InfoAlignEmbedder.from_pretrained(tmp_path / "m")


def test_ctrl_c_while_a_checkpoint_is_written_exits_130(tmp_path, capsys, monkeypatch):
    import infoalign_sklearn.embedders._base as base

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:  # what torch.save's zip writer turns it into
            raise RuntimeError("[enforce fail at inline_container.cc] unexpected pos") from None

    graph = tmp_path / "g"
    make_synthetic_context(n_molecules=40, random_state=0).graph.save(graph)
    monkeypatch.setattr(base, "_save_checkpoint", interrupted)
    code, err = _cli(["pretrain", str(graph), "--out", str(tmp_path / "m"), "--epochs", "1",
                      "--latent-dim", "8", "--num-layers", "2"], capsys)
    assert code == 130 and "interrupted" in err


# ------------------------------------------------- tasks without labels: one policy (item 9)
def _multi_task_estimators():
    from sklearn.linear_model import LogisticRegression, Ridge

    from infoalign_sklearn import MultiTaskMLPClassifier, MultiTaskMLPRegressor, PerTaskEstimator

    mlp = {"hidden_size": 8, "max_epochs": 3, "random_state": 0}
    return {
        "MultiTaskMLPClassifier": (MultiTaskMLPClassifier(**mlp), "predict_proba", True),
        "MultiTaskMLPRegressor": (MultiTaskMLPRegressor(**mlp), "predict", False),
        "PerTaskEstimator(classifier)": (PerTaskEstimator(LogisticRegression()), "predict_proba",
                                         True),
        "PerTaskEstimator(regressor)": (PerTaskEstimator(Ridge()), "predict", False),
    }


@pytest.mark.parametrize("name", list(_multi_task_estimators()))
def test_a_task_without_labels_warns_and_predicts_nan(name):
    estimator, method, classifier = _multi_task_estimators()[name]
    rng = np.random.default_rng(0)
    X = rng.random((40, 5))
    y = np.column_stack([X[:, 0] > 0.5, X[:, 1] > 0.5, X[:, 2] > 0.5]).astype(float)
    if not classifier:
        y = X[:, :3] * 2.0
    y[:, 1] = np.nan
    with pytest.warns(UserWarning, match=r"1 task\(s\) of 3 have no measured label .*index 1"):
        estimator.fit(X, y)
    out = getattr(estimator, method)(X)
    assert out.shape == (40, 3)
    assert np.isnan(out[:, 1]).all() and np.isfinite(out[:, [0, 2]]).all()
    assert np.isnan(estimator.predict(X)[:, 1]).all()
    with pytest.raises(ValueError, match="no measured label: every entry is NaN"):
        estimator.fit(X, np.full((40, 3), np.nan))


def test_a_task_predicted_nan_throughout_is_not_scored():
    from infoalign_sklearn.metrics import per_task_mae, per_task_roc_auc

    y = np.array([[0, 1.0], [1, 0], [0, 1], [1, 0]])
    scores = np.array([[0.1, np.nan], [0.9, np.nan], [0.2, np.nan], [0.8, np.nan]])
    np.testing.assert_array_equal(per_task_roc_auc(y, scores), [1.0, np.nan])
    np.testing.assert_allclose(per_task_mae(y, scores), [0.15, np.nan])
    scores[0, 1] = 0.5  # NaN on some measured rows only is still an error
    with pytest.raises(ValueError, match="NaN"):
        per_task_roc_auc(y, scores)
    with pytest.raises(ValueError, match="NaN"):
        per_task_mae(y, scores)


# --------------------------------------------------- one rule for node ids (item 11)
def _id_tables(profile_index, link_target):
    molecules = pd.DataFrame({"id": ["mol:A ", "mol:B"], "smiles": ["CCO", "CCCO"]})
    morphology = pd.DataFrame({"f1": [1.0, 2.0], "f2": [2.0, 5.0]}, index=profile_index)
    links = pd.DataFrame({"source": ["mol:A", " mol:B"], "target": link_target,
                          "kind": ["perturbation"] * 2})
    return molecules, {"morphology": morphology}, links


def test_ids_that_differ_only_by_surrounding_whitespace_are_one_node():
    from infoalign_sklearn.graph import ContextGraph

    molecules, profiles, links = _id_tables(["cp:1 ", " cp:2"], ["cp:1", "cp:2 "])
    g = ContextGraph.from_tables(molecules, profiles, links=links)
    assert {"cp:1", "cp:2", "mol:A", "mol:B"} <= set(g.node_ids.tolist())
    assert (g.node_index(["cp:1 ", "\tmol:A"]) >= 0).all()
    ids = g.node_ids
    pairs = {frozenset((ids[s], ids[t])) for s, t in g.edges()[["source", "target"]].values}
    assert frozenset(("mol:A", "cp:1")) in pairs and frozenset(("mol:B", "cp:2")) in pairs
    molecules, profiles, links = _id_tables(["cp:1", "cp:1 "], ["cp:1", "cp:1"])
    with pytest.raises(ValueError, match="duplicate ids"):
        ContextGraph.from_tables(molecules, profiles, links=links)


# ------------------------------------------- unordered X, edited bounds, infinities (item 12)
@pytest.mark.parametrize("X", [{"CCO", "CCN"}, frozenset({"CCO"}), {"CCO": 1, "CCN": 2},
                               {"a": "CCO"}.keys(), {"a": "CCO"}.values()], ids=repr)
@pytest.mark.parametrize("path", PATHS)
def test_unordered_containers_are_refused(embedder, path, X):
    with pytest.raises(TypeError, match="ordered list-like"):
        _paths(embedder)[path](X, "nan")


def test_edited_feature_bounds_are_refused_at_load(embedder, tmp_path):
    import json

    embedder.set_params(errors="raise").save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    modality = next(iter(config["feature_bounds"]))
    config["feature_bounds"][modality]["lower"] = [0.0]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=rf"feature_bounds\['{modality}'\]\['lower'\] must hold"):
        InfoAlignEmbedder.from_pretrained(tmp_path / "m")


def test_infinite_profile_values_are_refused_as_in_the_builder():
    from infoalign_sklearn import ContrastiveEmbedder

    context = make_synthetic_context(n_molecules=40, random_state=0)
    model = ContrastiveEmbedder(context.graph, modalities=("morphology",), latent_dim=4,
                                hidden_dim=8, num_layers=2, max_epochs=1, random_state=0).fit()
    profiles = context.true_profiles(["CCO", "CCN"], "morphology")
    assert np.isfinite(model.embed_profiles(profiles)).all()
    profiles = np.array(profiles, dtype=float)
    profiles[1, 2] = np.inf
    with pytest.raises(ValueError, match="infinite value.*row 1"):
        model.embed_profiles(profiles)


# ------------------------------------------- parquet input keeps its schema (items 2 and 15)
@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_parquet_input_keeps_its_types_when_early_chunks_are_empty(embedder, tmp_path, capsys,
                                                                   suffix):
    import pyarrow as pa
    import pyarrow.parquet as pq

    embedder.set_params(errors="raise").save_pretrained(tmp_path / "m")
    table = pa.table({
        "smiles": [None, "CCN", "CCC", "CO", "C C O", "C"],
        "note": [None, None, "a", "b", None, "c"],
        "n": pa.array([None, None, 1, 2, 3, 4], pa.int64()),
        "flag": pa.array([None, None, True, False, None, True], pa.bool_()),
        "when": pa.array([None, None, 1, 2, 3, 4], pa.timestamp("s")),
    })
    pq.write_table(table, tmp_path / "in.parquet")
    out = tmp_path / f"out.{suffix}"
    code, err = _cli(["embed", str(tmp_path / "m"), str(tmp_path / "in.parquet"), "--out",
                      str(out), "--chunk-size", "2"], capsys)
    assert code == 0, err
    if suffix == "parquet":
        result, table = pq.read_table(out), pq.read_table(tmp_path / "in.parquet")
        for name in table.column_names:
            assert result.schema.field(name).type == table.schema.field(name).type
            assert result[name].to_pylist() == table[name].to_pylist()
        assert result["infoalign_valid"].to_pylist() == [False, True, True, True, False, True]
    else:
        result = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert result["n"].tolist() == ["", "", "1", "2", "3", "4"]  # not 1.0, 2.0
        assert result["flag"].tolist() == ["", "", "True", "False", "", "True"]


# ------------------------------------------------- unclear messages, the rest (item 17)
def test_manifest_with_files_of_the_wrong_type_is_a_clear_error(tmp_path):
    import json

    from infoalign_sklearn.graph import ContextGraph, ContextGraphFileError

    path = tmp_path / "g"
    make_synthetic_context(n_molecules=12, random_state=0).graph.save(path)
    manifest = json.loads((path / "manifest.json").read_text())
    for files in ("x", {"arrays.npz": "x", "nodes.parquet": "y"}):
        manifest["files"] = files
        (path / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(ContextGraphFileError, match="'files' must map|must hold 'bytes'"):
            ContextGraph.load(path)


def _readers():
    from infoalign_sklearn.readers import (
        read_cellpainting,
        read_compound_targets,
        read_gct,
        read_l1000_csv,
        read_pertinfo,
        read_table,
    )

    return {"read_table": read_table, "read_cellpainting": read_cellpainting,
            "read_l1000_csv": read_l1000_csv, "read_compound_targets": read_compound_targets,
            "read_pertinfo": read_pertinfo, "read_gct": read_gct}


@pytest.mark.parametrize("name", list(_readers()))
@pytest.mark.parametrize("kind", ["latin-1 text", "fake .gz"])
def test_readers_on_undecodable_files_raise_file_format_errors(tmp_path, name, kind):
    from infoalign_sklearn.readers import FileFormatError

    suffix = ".gct" if name == "read_gct" else ".csv"
    if kind == "latin-1 text":
        path = tmp_path / f"table{suffix}"
        path.write_bytes("id,Metadata_x,f1\ncp:1,caf\u00e9,1.0\n".encode("latin-1"))
    else:
        path = tmp_path / f"table{suffix}.gz"
        path.write_bytes(b"id,f1\ncp:1,1.0\n")  # named .gz, not gzipped
    with pytest.raises(FileFormatError, match="UTF-8|cannot read") as info:
        _readers()[name](path)
    assert str(path) in str(info.value)


def _evaluate_table(tmp_path, smiles_cell, labels):
    from rdkit import RDConfig

    nci = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
    smiles = [line.split()[0] for line in nci.read_text().splitlines()[:40]]
    frame = pd.DataFrame({"smiles": smiles, "y": labels})
    frame.loc[3, "smiles"] = smiles_cell
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    return path


def test_evaluate_leaves_out_rows_without_smiles_with_a_warning(tmp_path, capsys):
    path = _evaluate_table(tmp_path, None, np.arange(40) % 2)
    code, err = _cli(["evaluate", str(path), "--target-columns", "y", "--folds", "2",
                      "--models", "rf"], capsys)
    assert code == 0, err
    assert "1 row(s) without SMILES" in err and "rows [3]" in err


def test_evaluate_with_a_target_without_values_names_it(tmp_path, capsys):
    path = _evaluate_table(tmp_path, "CCO", np.full(40, np.nan))
    code, err = _cli(["evaluate", str(path), "--target-columns", "y", "--folds", "2",
                      "--models", "rf"], capsys)
    assert code == 2 and "['y']" in err and "hold no value" in err
    assert "scaffold groups" not in err


# ---------------------------------------- fuzzing the table builders: clear errors only
_ID = st.sampled_from(["mol:A", "mol:B", " mol:A", "cp:1", "cp:1 ", "cp:2", "ge:1", "", "x"])
_VALUE = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                   st.sampled_from(["1.5", "abc", None, True]))


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    smiles=st.lists(st.sampled_from(["CCO", "CCN", "C C", "", "xx", None, "c1ccccc1"]),
                    min_size=1, max_size=3),
    mol_ids=st.lists(_ID, min_size=1, max_size=3),
    profile_ids=st.lists(_ID, min_size=1, max_size=3),
    values=st.lists(_VALUE, min_size=6, max_size=6),
    link_rows=st.lists(st.tuples(_ID, _ID, st.sampled_from(["perturbation", "target", "bad"])),
                       max_size=4),
)
def test_fuzzed_tables_give_a_graph_or_a_clear_error(smiles, mol_ids, profile_ids, values,
                                                     link_rows):
    from infoalign_sklearn.graph import ContextGraph

    n = min(len(smiles), len(mol_ids))
    molecules = pd.DataFrame({"id": mol_ids[:n], "smiles": smiles[:n]})
    k = len(profile_ids)
    profile = pd.DataFrame({"f1": values[:k], "f2": values[3:3 + k]}, index=profile_ids)
    links = pd.DataFrame(link_rows, columns=["source", "target", "kind"])
    try:
        graph = ContextGraph.from_tables(molecules, {"morphology": profile}, links=links,
                                         similarity_modalities=())
    except (ValueError, TypeError) as exc:
        assert str(exc)  # a message, never a bare error
        return
    ids = graph.node_ids.tolist()
    assert all(i == i.strip() and i for i in ids) and len(set(ids)) == len(ids)
