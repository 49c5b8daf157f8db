"""run_benchmark / summarize on a small generated dataset, and the paper_tables script's
embedder cache and merging of runs."""

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors
from sklearn.utils import Bunch

from infoalign_sklearn import MorganFingerprint, make_synthetic_context
from infoalign_sklearn.benchmark import format_table, run_benchmark, summarize

ROOT = Path(__file__).resolve().parents[1]


def load_paper_tables():
    spec = importlib.util.spec_from_file_location("paper_tables", ROOT / "benchmarks" / "paper_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_classification(nci_smiles):
    smiles = nci_smiles[:240]
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    y = np.array([[any(a.GetSymbol() == e for a in m.GetAtoms()) for e in "NO"] for m in mols],
                 float)
    y[::7, 1] = np.nan  # labels not measured
    return Bunch(data=smiles, target=y, target_names=["nitrogen", "oxygen"], name="tiny")


def test_run_benchmark_rows_scores_skips_and_per_seed_representations(tiny_classification):
    calls = []

    def per_seed(seed):  # a representation "pretrained" once per seed
        calls.append(seed)
        return MorganFingerprint(n_bits=512, radius=seed % 2 + 1)

    reps = {"FP": MorganFingerprint(n_bits=1024), "per seed": per_seed}
    out = run_benchmark(tiny_classification, reps, models=("mlp", "rf", "gp"), seeds=(0, 1),
                        skip={"gp": "too slow here"}, max_epochs=5)
    assert list(out.columns) == ["dataset", "representation", "model", "seed", "task", "metric",
                                 "value", "seconds", "skipped"]
    assert calls == [0, 1]
    scored = out[out["skipped"] == ""]
    assert len(scored) == 2 * 2 * 2 * 2  # representations x models x seeds x tasks
    assert set(scored["metric"]) == {"roc_auc"} and scored["value"].between(0, 1).all()
    skipped = out[out["skipped"] != ""]
    assert sorted(skipped["representation"]) == ["FP", "per seed"]
    assert (skipped["model"] == "gp").all() and (skipped["skipped"] == "too slow here").all()
    # the labels are substructure properties: the fingerprint forest finds them (a shuffled
    # or misaligned label would score about 0.5)
    rf = scored[(scored["representation"] == "FP") & (scored["model"] == "rf")]["value"]
    assert rf.mean() > 0.7

    table = summarize(scored.rename(columns={"seed": "split"}))
    assert len(table) == 4 and (table["splits"] == 2).all()
    formatted = format_table(table)
    assert formatted["AUC"].str.contains("±").all()


def test_run_benchmark_regression_reports_mae_per_endpoint(nci_smiles):
    smiles = nci_smiles[:150]
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    y = np.stack([[Descriptors.MolLogP(m) for m in mols], [m.GetNumAtoms() / 10 for m in mols]], 1)
    data = Bunch(data=smiles, target=y, target_names=["logp", "size"], name="tiny_reg")
    out = run_benchmark(data, {"FP": MorganFingerprint(n_bits=512)}, models=("rf",), seeds=(0,))
    assert set(out["metric"]) == {"mae"} and (out["value"] > 0).all()
    table = summarize(out.rename(columns={"seed": "split"}))
    assert {"logp mean", "size mean", "MAE avg mean"} <= set(table.columns)


def test_paper_tables_merges_runs_with_other_models(tmp_path):
    paper_tables = load_paper_tables()
    path = tmp_path / "chembl2k_tidy.csv"
    first = pd.DataFrame({"representation": ["FP", "FP", "IA"], "model": ["mlp", "rf", "mlp"],
                          "value": [0.8, 0.7, 0.6], "skipped": ["", "not run", ""]})
    first.to_csv(path, index=False)
    second = pd.DataFrame({"representation": ["FP", "IA"], "model": ["rf", "rf"],
                           "value": [0.75, 0.65], "skipped": ["", ""]})
    merged = paper_tables.merge_previous(path, second)
    pairs = sorted(zip(merged["representation"], merged["model"], merged["value"]))
    assert pairs == [("FP", "mlp", 0.8), ("FP", "rf", 0.75), ("IA", "mlp", 0.6), ("IA", "rf", 0.65)]
    assert paper_tables.merge_previous(path, second, fresh=True).equals(second)


def test_paper_tables_reuses_pretrained_embedders(tmp_path, capsys):
    paper_tables = load_paper_tables()
    graph = make_synthetic_context(n_molecules=40, random_state=0).graph
    args = argparse.Namespace(epochs=1, n_jobs=None, device="cpu", verbose=0,
                              embedder_cache=str(tmp_path / "cache"),
                              representations=["InfoAlign"])
    first = paper_tables.build_representations(graph, args)["InfoAlign"](0)
    assert len(list((tmp_path / "cache").iterdir())) == 1
    capsys.readouterr()
    again = paper_tables.build_representations(graph, args)["InfoAlign"](0)
    assert "loaded the pretrained embedder" in capsys.readouterr().out
    smiles = list(graph.molecule_smiles[:5])
    np.testing.assert_array_equal(again.transform(smiles), first.transform(smiles))


def test_parallel_fits_give_the_sequential_scores_with_a_progress_bar(tiny_classification,
                                                                      capsys):
    from infoalign_sklearn import ScaffoldKFold
    from infoalign_sklearn.benchmark import evaluate_representations

    smiles, y = tiny_classification.data, tiny_classification.target
    features = {"FP 256": MorganFingerprint(n_bits=256).transform(smiles),
                "FP 64": MorganFingerprint(n_bits=64).transform(smiles)}
    splits = list(ScaffoldKFold(n_splits=3, shuffle=True, random_state=0).split(smiles))
    kwargs = dict(models=("rf",), task_names=tiny_classification.target_names, random_state=0)
    sequential = evaluate_representations(features, y, splits, **kwargs)
    parallel = evaluate_representations(features, y, splits, parallel_fits=2, verbose=1,
                                        desc="tiny CV", **kwargs)
    keys = ["representation", "model", "split", "task", "metric", "value"]
    # forests are seeded per fit: worker processes and n_jobs=1 give the same trees
    pd.testing.assert_frame_equal(sequential[keys], parallel[keys])
    assert len(parallel) == 3 * 2 * 2  # splits x representations x tasks
    err = capsys.readouterr().err
    assert "tiny CV" in err and "6/6" in err and "roc_auc" in err


def test_paper_tables_writes_tidy_scores_gzipped_and_reads_an_older_plain_csv(tmp_path):
    paper_tables = load_paper_tables()
    tidy = pd.DataFrame({"representation": ["FP"], "model": ["mlp"], "value": [0.8],
                         "skipped": [""]})
    tidy.to_csv(tmp_path / "chembl2k_tidy.csv", index=False)  # an older run's layout
    assert paper_tables.tidy_path(tmp_path, "chembl2k").name == "chembl2k_tidy.csv"
    paper_tables.write_tidy(tmp_path, "chembl2k", tidy)
    assert [p.name for p in tmp_path.iterdir()] == ["chembl2k_tidy.csv.gz"]
    path = paper_tables.tidy_path(tmp_path, "chembl2k")
    assert path.name == "chembl2k_tidy.csv.gz" and path.read_bytes()[:2] == b"\x1f\x8b"
    assert pd.read_csv(path, keep_default_na=False).equals(tidy)
