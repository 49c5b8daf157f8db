"""The science-table redo: structure-only rows, 5 seeds, the computed verdict, and the
validation-only pretraining search (benchmarks/paper_tables.py, benchmarks/pretrain_search.py).

Everything runs on a SIMULATED context graph and a tiny benchmark-shaped table built from
RDKit's NCI molecules with structure-derived labels: these tests check the plumbing, not
InfoAlign's science."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem
from sklearn.utils import Bunch

from infoalign_sklearn import make_synthetic_context
from infoalign_sklearn.model_selection import scaffold_split_indices

ROOT = Path(__file__).resolve().parents[1]


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def paper_tables():
    return load_script("paper_tables")


@pytest.fixture(scope="module")
def search():
    return load_script("pretrain_search")


def substructure_labels(smiles):
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    y = np.array([[any(a.GetSymbol() == e for a in m.GetAtoms()) for e in "NO"] for m in mols],
                 float)
    y[::5, 1] = np.nan  # not measured
    return y


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, nci_smiles):
    """A ``benchmarks/chembl2k/assays.csv.gz`` of 90 real molecules with two labels computed
    from their structure (nitrogen, oxygen present): the layout load_benchmark reads."""
    root = tmp_path_factory.mktemp("data")
    smiles = nci_smiles[:90]
    y = substructure_labels(smiles)
    frame = pd.DataFrame({"smiles": smiles, "inchikey": "", "Metadata_JCP2022": "",
                          "ChEMBL_ID": "", "has_N": y[:, 0], "has_O": y[:, 1]})
    (root / "benchmarks" / "chembl2k").mkdir(parents=True)
    frame.to_csv(root / "benchmarks" / "chembl2k" / "assays.csv.gz", index=False)
    return root


@pytest.fixture(scope="module")
def graph_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("graph") / "sim40"
    make_synthetic_context(n_molecules=40, random_state=0).graph.save(path)
    return path


def summary_rows(dataset, rows, metric="AUC"):
    return pd.DataFrame([{"dataset": dataset, "representation": r, "model": m,
                          f"{metric} mean": mean, f"{metric} std": std, "splits": 5}
                         for r, m, mean, std in rows])


def test_verdict_is_computed_from_means_and_seed_stds(paper_tables):
    summary = pd.concat([
        # InfoAlign + FP beats the best structure-only row (RDKit 2D / rf, not Morgan FP)
        # by 0.030 > the larger std 0.010
        summary_rows("a", [("Morgan FP", "mlp", 0.70, 0.002), ("RDKit 2D", "rf", 0.75, 0.010),
                           ("InfoAlign", "mlp", 0.60, 0.05), ("InfoAlign + FP", "mlp", 0.78, 0.004),
                           ("Contrastive", "mlp", 0.99, 0.0)]),
        # gain 0.005 < std 0.010
        summary_rows("b", [("Morgan counts", "mlp", 0.700, 0.010),
                           ("InfoAlign + FP", "rf", 0.705, 0.001)]),
        # regression, lower is better: InfoAlign 0.50 against 0.45, std 0.01: structure wins
        summary_rows("c", [("Morgan counts + RDKit 2D", "gp", 0.45, 0.01),
                           ("Morgan FP", "mlp", 0.47, 0.01),
                           ("InfoAlign", "gp", 0.50, 0.005)], metric="MAE avg"),
        summary_rows("d", [("Morgan FP", "mlp", 0.7, 0.01)]),
        summary_rows("e", [("Morgan FP", "mlp", 0.7, 0.0), ("InfoAlign", "mlp", 0.9, 0.0)]),
    ], ignore_index=True)
    summary.loc[summary["dataset"] == "e", "splits"] = 1
    verdicts = paper_tables.verdict(summary).set_index("dataset")
    a, b, c = verdicts.loc["a"], verdicts.loc["b"], verdicts.loc["c"]
    assert a["verdict"] == "InfoAlign better by more than the seed std"
    assert a["best InfoAlign"] == "InfoAlign + FP / mlp"
    assert a["best structure-only"] == "RDKit 2D / rf"  # Contrastive is neither side
    assert a["gain"] == pytest.approx(0.03) and a["seed std"] == pytest.approx(0.01)
    assert b["verdict"] == "within the seed std" and b["gain"] == pytest.approx(0.005)
    assert c["metric"] == "MAE avg" and c["best structure-only"] == "Morgan counts + RDKit 2D / gp"
    assert c["gain"] == pytest.approx(-0.05)
    assert c["verdict"] == "structure-only better by more than the seed std"
    assert verdicts.loc["d", "verdict"] == "not compared: no InfoAlign row"
    assert verdicts.loc["e", "verdict"] == "not decided: one seed has no seed std"
    assert "gain -0.050" in paper_tables.verdict_line(verdicts.reset_index().iloc[2])


def tidy_rows(dataset, representation, model, per_seed, metric="roc_auc"):
    """Tidy rows of two tasks per seed whose task mean is ``per_seed[seed]``."""
    return pd.DataFrame([{"dataset": dataset, "representation": representation, "model": model,
                          "split": seed, "task": task, "metric": metric, "value": value + shift,
                          "seconds": 1.0}
                         for seed, value in enumerate(per_seed)
                         for task, shift in (("t1", -0.01), ("t2", 0.01))])


def test_paired_gains_compare_the_two_best_rows_seed_by_seed(paper_tables):
    scored = pd.concat([
        # InfoAlign ahead on 4 of 5 seeds: per-seed gains 0.02, 0.03, 0.01, 0.02, -0.01
        tidy_rows("a", "InfoAlign + RDKit 2D", "mlp", [0.82, 0.83, 0.81, 0.82, 0.79]),
        tidy_rows("a", "RDKit 2D", "mlp", [0.80, 0.80, 0.80, 0.80, 0.80]),
        tidy_rows("a", "Morgan FP", "rf", [0.70, 0.70, 0.70, 0.70, 0.70]),
        # the same encoder untrained beside RDKit 2D does as well: no credit to pretraining
        tidy_rows("a", "Untrained GIN + RDKit 2D", "mlp", [0.83, 0.83, 0.82, 0.82, 0.80]),
        tidy_rows("a", "Untrained GIN + RDKit 2D", "rf", [0.50] * 5),  # another model
        # MAE, lower is better: InfoAlign behind on every seed
        tidy_rows("c", "InfoAlign + FP", "gp", [0.50, 0.52, 0.51], metric="mae"),
        tidy_rows("c", "Morgan counts + RDKit 2D", "gp", [0.45, 0.46, 0.44], metric="mae"),
    ], ignore_index=True)
    verdicts = paper_tables.paired_gains(
        scored, paper_tables.verdict(paper_tables.summarize(scored))).set_index("dataset")
    a, c = verdicts.loc["a"], verdicts.loc["c"]
    assert a["best structure-only"] == "RDKit 2D / mlp"
    assert a["paired gain mean"] == pytest.approx(0.014)
    assert a["paired gain std"] == pytest.approx(np.std([0.02, 0.03, 0.01, 0.02, -0.01]))
    assert a["seeds InfoAlign better"] == "4 of 5"
    assert c["paired gain mean"] == pytest.approx(-0.06) and c["seeds InfoAlign better"] == "0 of 3"
    assert a["control"] == "Untrained GIN + RDKit 2D / mlp"
    assert a["control mean"] == pytest.approx(0.82)
    assert a["gain over control"] == pytest.approx(-0.006)
    assert a["control verdict"] == "within the seed std of the untrained control"
    assert c["control verdict"] == "no untrained control run"
    line = paper_tables.verdict_line(verdicts.reset_index().iloc[0])
    assert "paired by seed: gain +0.014" in line and "on 4 of 5 seeds" in line
    assert "Untrained control Untrained GIN + RDKit 2D / mlp 0.820" in line
    # a control far below: the pretraining gets the credit
    scored.loc[scored["representation"] == "Untrained GIN + RDKit 2D", "value"] -= 0.1
    again = paper_tables.paired_gains(scored, paper_tables.verdict(paper_tables.summarize(scored)))
    assert again.set_index("dataset").loc["a", "control verdict"] == (
        "pretraining adds more than the seed std")


def test_arguments_seeds_representations_and_pretrain_config(paper_tables, tmp_path, capsys):
    with pytest.raises(SystemExit):
        paper_tables.main(["--render-only", "--representations", "ECFP9"])
    assert "invalid choice: 'ECFP9'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        paper_tables.main(["--data-dir", "x", "--graph", "g", "--seeds", "0"])
    assert "--seeds must be at least 1" in capsys.readouterr().err
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"chosen": {"max_epochs": 7, "dropout": 0.3},
                                  "budget": {"trials": 2}}))
    args = paper_tables.argparse.Namespace(epochs=50, pretrain_config=str(config))
    settings = paper_tables.pretrain_settings(args)
    assert settings == {"max_epochs": 7, "dropout": 0.3}
    assert paper_tables.settings_tag(settings) != paper_tables.settings_tag({"max_epochs": 7})
    config.write_text(json.dumps({"max_epochs": 7, "learning_rate": 1}))
    with pytest.raises(SystemExit, match=r"config.json: unknown setting\(s\) \['learning_rate'\]"):
        paper_tables.pretrain_settings(args)
    config.write_text("{not json")
    with pytest.raises(SystemExit, match="cannot read it as JSON"):
        paper_tables.pretrain_settings(args)


def test_search_view_never_holds_a_test_molecule_or_label(search, nci_smiles):
    smiles = nci_smiles[:150]
    y = substructure_labels(smiles)
    seeds = (0, 1, 2)
    tested = set()
    for seed in seeds:
        tested |= set(scaffold_split_indices(smiles, random_state=seed)[2].tolist())
    poisoned = y.copy()
    poisoned[sorted(tested)] = 7.0  # a label no binary task has: any use of it shows
    view = search.search_view(Bunch(data=smiles, target=poisoned, target_names=["N", "O"]),
                              seeds, name="tiny")
    assert view.excluded == len(tested) and len(view.smiles) == len(smiles) - len(tested)
    assert not set(view.smiles) & {smiles[i] for i in tested}
    assert not (view.y == 7.0).any() and view.task == "classification"
    assert not set(view.train) & set(view.valid)
    assert sorted([*view.train, *view.valid]) == list(range(len(view.smiles)))


def test_search_scores_only_train_and_validation_molecules(search, nci_smiles, monkeypatch):
    smiles = nci_smiles[:150]
    y = substructure_labels(smiles)
    tested = {smiles[i] for s in (0, 1) for i in scaffold_split_indices(smiles, random_state=s)[2]}
    view = search.search_view(Bunch(data=smiles, target=y, target_names=["N", "O"]), (0, 1),
                              name="tiny")
    seen, scored = [], []

    class Spy:  # an "embedder" that records every molecule it is asked about
        def __init__(self, config):
            self.width = config["latent_dim"]

        def transform(self, X):
            seen.extend(X)
            return np.random.default_rng(0).normal(size=(len(X), self.width))

    real_score = search.score_view

    def spy_score(view, features, **kwargs):
        scored.append(len(features))
        return real_score(view, features, **kwargs)

    monkeypatch.setattr(search, "score_view", spy_score)
    configs = search.sample_configs(2, seed=0)
    results = search.run_search(None, [view], configs, make_embedder=lambda g, c, s: Spy(c),
                                mlp_epochs=2, log=lambda m: None)
    assert seen and not set(seen) & tested
    assert scored == [len(view.smiles)] * 3  # fingerprint alone, then each trial
    assert list(results["trial"]) == [-1, 0, 1] and results["value"].between(0, 1).all()
    best, table = search.choose(results, {"tiny": "classification"})
    assert best in (0, 1) and set(table["mean rank"]) <= {1.0, 1.5, 2.0}


def test_choose_ranks_lower_mae_first_and_configs_respect_the_budget(search):
    results = pd.DataFrame({"trial": [0, 1, 2, 0, 1, 2], "dataset": ["a"] * 3 + ["r"] * 3,
                            "value": [0.70, 0.80, 0.75, 0.50, 0.40, 0.60]})
    best, table = search.choose(results, {"a": "classification", "r": "regression"})
    assert best == 1 and table.set_index("trial").loc[1, "mean rank"] == 1.0
    configs = search.sample_configs(6, seed=3)
    assert configs[0] == search.DEFAULTS and len(configs) == 6
    assert len({tuple(sorted(c.items())) for c in configs}) == 6
    capped = search.sample_configs(6, seed=3, max_total_epochs=60)
    assert capped == configs[: len(capped)] and sum(c["max_epochs"] for c in capped) <= 60


def test_search_then_tables_end_to_end(search, paper_tables, data_dir, graph_dir, tmp_path,
                                       capsys):
    config = tmp_path / "pretrain_config.json"
    assert search.main(["--data-dir", str(data_dir), "--graph", str(graph_dir), "--out",
                        str(config), "--datasets", "chembl2k", "--n-configs", "2", "--epochs",
                        "1", "--mlp-epochs", "2", "--table-seeds", "0", "1"]) == 0
    report = json.loads(config.read_text())
    assert report["chosen"] == report["configs"][report["chosen_trial"]]
    assert report["budget"]["trials"] == 2 and report["budget"]["pretraining_epochs"] == 2
    assert report["datasets"]["chembl2k"]["excluded_as_test"] > 0
    out = tmp_path / "results"
    assert paper_tables.main([
        "--data-dir", str(data_dir), "--graph", str(graph_dir), "--out", str(out),
        "--datasets", "chembl2k", "--models", "mlp", "--seeds", "2", "--mlp-epochs", "2",
        "--n-jobs", "1", "--device", "cpu", "--pretrain-config", str(config),
        "--representations", "Morgan FP", "Morgan counts", "RDKit 2D",
        "Morgan counts + RDKit 2D", "InfoAlign", "InfoAlign + FP", "InfoAlign + RDKit 2D",
    ]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 7 and (summary["splits"] == 2).all()
    assert summary["verdict"].nunique() == 1 and summary["verdict"].notna().all()
    assert summary.loc[summary["structure-only"], "representation"].tolist() == [
        "Morgan FP", "Morgan counts", "RDKit 2D", "Morgan counts + RDKit 2D"]
    verdicts = pd.read_csv(out / "verdict.csv")
    assert verdicts.loc[0, "seeds"] == 2 and verdicts.loc[0, "verdict"] == summary["verdict"][0]
    assert verdicts.loc[0, "seeds InfoAlign better"] in ("0 of 2", "1 of 2", "2 of 2")
    tables = (out / "tables.md").read_text()
    assert "Verdict (chembl2k, AUC, 2 seeds)" in tables and str(config) in tables
    # the embedder cache is keyed by the chosen settings
    cached = [p.name for p in (out / "embedders").iterdir()]
    assert len(cached) == 2 and all("_e1_" in name for name in cached)
    assert "Verdict (chembl2k" in capsys.readouterr().out


def test_benchmark_fills_missing_descriptor_cells_with_training_medians():
    from infoalign_sklearn.benchmark import _impute_training_medians

    X = np.array([[1, 10], [3, np.nan], [5, 30], [np.nan, np.nan], [100, 1000]], np.float32)
    train = np.array([0, 1, 2])
    out = _impute_training_medians(X, train)
    # the NaN cell of row 1 gets the median of the training rows' column (10, 30 -> 20), not
    # one that involves row 4 (a test row); the all-NaN row (an invalid molecule) stays NaN
    assert out[1, 1] == 20.0 and np.isnan(out[3]).all()
    np.testing.assert_array_equal(out[[0, 2, 4]], X[[0, 2, 4]])
    assert np.isnan(X[1, 1])  # the input is not modified


def test_sample_configs_stops_when_the_space_is_exhausted(search):
    space = {"max_epochs": [1, 2], "dropout": [0.0]}
    configs = search.sample_configs(10, space=space, defaults={"max_epochs": 2, "dropout": 0.0})
    assert sorted(c["max_epochs"] for c in configs) == [1, 2]
    outside = search.sample_configs(10, space=space, defaults={"max_epochs": 5, "dropout": 0.1})
    assert len(outside) == 3 and outside[0] == {"max_epochs": 5, "dropout": 0.1}


def test_fingerprint_columns_are_not_standardised(monkeypatch):
    from infoalign_sklearn import benchmark

    X = np.array([[0, 3, 0.5, 2], [1, 0, -1.25, 2], [0, 1, 2.0, np.nan], [np.nan] * 4])
    assert benchmark._count_columns(X[:2]).tolist() == [True, True, False, True]
    assert benchmark._count_columns(X[3:]).tolist() == [False] * 4  # no training value
    # what the model is fitted on: count columns as they are, the float column standardised
    seen = {}

    def spy_fit_predict(model, X_train, y_train, X_valid, y_valid, X_test, task):
        seen["X"], seen["gp_kernel"] = X_train, getattr(model, "estimator", None)
        return np.full((len(X_test), y_train.shape[1]), 0.5)

    monkeypatch.setattr(benchmark, "_fit_predict", spy_fit_predict)
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.05, size=(40, 3)).astype(np.float32)  # rarely set count bits
    dense = rng.normal(5.0, 3.0, size=(40, 2)).astype(np.float32)
    y = (np.arange(40) % 2).astype(float)
    split = (np.arange(30), None, np.arange(30, 40))
    settings = benchmark.FitSettings("classification", ["t"], 0, 2, None)
    benchmark._score_fit(np.hstack([counts, dense]), y[:, None], split, 0, ("mix", "mlp"),
                         settings)
    np.testing.assert_array_equal(seen["X"][:, :3], counts[:30])
    np.testing.assert_allclose(seen["X"][:, 3:].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(seen["X"][:, 3:].std(axis=0), 1.0, rtol=1e-4)
    # counts alone are fingerprints: the GP gets the Tanimoto kernel, no scaler
    benchmark._score_fit(counts, y[:, None], split, 0, ("counts", "gp"), settings)
    assert type(seen["gp_kernel"]).__name__ == "GaussianProcessClassifier"
    assert type(seen["gp_kernel"].kernel).__name__ == "TanimotoKernel"
    # counts + dense: the GP sees the columns scaled above, with no second scaler in front
    # (which would standardise the count columns after all)
    benchmark._score_fit(np.hstack([counts, dense]), y[:, None], split, 0, ("mix", "gp"),
                         settings)
    assert type(seen["gp_kernel"]).__name__ == "GaussianProcessClassifier"
    assert type(seen["gp_kernel"].kernel).__name__ == "RBF"
