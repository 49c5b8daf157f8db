"""The `infoalign` command: each subcommand end to end on tiny data, and its error paths."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn import make_synthetic_context
from infoalign_sklearn.cli import main

TINY_PRETRAIN = ["--epochs", "1", "--latent-dim", "16", "--num-layers", "2", "--batch-size", "32"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Tables of a SIMULATED context written as CSV files, the graph built by the CLI, a model."""
    root = tmp_path_factory.mktemp("cli")
    context = make_synthetic_context(n_molecules=80, n_held_out=30, random_state=0)
    tables = context.tables
    tables["molecules"].to_csv(root / "molecules.csv", index=False)
    morphology = context.graph.feature_block("morphology")
    profiles = pd.DataFrame(
        context.graph.inverse_scale("morphology", morphology.values),
        index=context.graph.nodes["node_id"].to_numpy()[np.flatnonzero(morphology.rows >= 0)],
        columns=morphology.columns,
    )
    profiles.to_csv(root / "morphology.csv")
    links = context.graph.edges()
    ids = context.graph.nodes["node_id"].to_numpy()
    links["source"], links["target"] = ids[links["source"]], ids[links["target"]]
    kinds = dict(zip(ids, context.graph.nodes["kind"]))
    allowed = {"molecule", "morphology", "gene"}
    keep = links["kind"].isin(["perturbation", "target", "interaction"]).to_numpy() & np.array([
        kinds[a] in allowed and kinds[b] in allowed for a, b in zip(links["source"], links["target"])
    ])
    links[keep][["source", "target", "kind", "weight"]].to_csv(root / "links.csv", index=False)
    genes = context.graph.nodes[context.graph.nodes["kind"] == "gene"][["node_id"]]
    genes.rename(columns={"node_id": "id"}).to_csv(root / "genes.csv", index=False)
    held = [context.smiles[i] for i in np.flatnonzero(context.held_out)]
    return root, context, held


def run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_build_pretrain_embed_flow(workspace, capsys):
    root, _, held = workspace
    code, out, err = run([
        "build-graph", "--molecules", str(root / "molecules.csv"),
        "--profiles", f"morphology={root / 'morphology.csv'}", "--links", str(root / "links.csv"),
        "--genes", str(root / "genes.csv"), "--out", str(root / "graph"),
    ], capsys)
    assert code == 0, err
    assert "molecule" in out and "saved the context graph" in out

    code, out, err = run(["pretrain", str(root / "graph"), "--out", str(root / "model"),
                          *TINY_PRETRAIN], capsys)
    assert code == 0, err
    for name in ("config.json", "weights.pt", "loss_curve.png", "checkpoints/checkpoint.pt"):
        assert (root / "model" / name).exists(), name

    code, _, err = run(["pretrain", str(root / "graph"), "--out", str(root / "model"),
                        *TINY_PRETRAIN], capsys)
    assert code == 2 and "checkpoint" in err and "--resume" in err
    code, out, _ = run(["pretrain", str(root / "graph"), "--out", str(root / "model"),
                        *TINY_PRETRAIN[:0], "--epochs", "2", "--latent-dim", "16",
                        "--num-layers", "2", "--batch-size", "32", "--resume"], capsys)
    assert code == 0 and "2 epochs" in out

    table = pd.DataFrame({"name": ["a", "b", "c", "d"], "smiles": [held[0], "not-a-smiles", held[1], None],
                          "value": [1.0, 2.0, 3.0, 4.0]})
    table.to_csv(root / "input.csv", index=False)
    for suffix in ("csv", "parquet"):
        out_path = root / f"embedded.{suffix}"
        code, out, _ = run(["embed", str(root / "model"), str(root / "input.csv"),
                            "--out", str(out_path), "--chunk-size", "3"], capsys)
        assert code == 0 and "2 invalid" in out
        result = pd.read_csv(out_path) if suffix == "csv" else pd.read_parquet(out_path)
        assert list(result["name"]) == ["a", "b", "c", "d"]
        assert list(result["value"]) == [1.0, 2.0, 3.0, 4.0]
        assert list(result["infoalign_valid"]) == [True, False, True, False]
        dims = [c for c in result.columns if c.startswith("infoalign_") and c != "infoalign_valid"]
        assert len(dims) == 16
        assert result.loc[[0, 2], dims].notna().all().all()
        assert result.loc[[1, 3], dims].isna().all().all()

    code, _, err = run(["build-graph", "--molecules", str(root / "molecules.csv"),
                        "--out", str(root / "graph")], capsys)
    assert code == 2 and "--overwrite" in err


def test_evaluate_prints_a_table_against_fingerprints(workspace, capsys):
    root, context, held = workspace
    labels = context.mechanisms.to_numpy(dtype=float)[np.flatnonzero(context.held_out)]
    frame = pd.DataFrame({"smiles": held, "mech_a": labels[:, 0], "mech_b": labels[:, 1]})
    frame.loc[::4, "mech_b"] = np.nan
    frame.to_csv(root / "labels.csv", index=False)
    code, out, err = run(["evaluate", str(root / "labels.csv"), "--target-columns", "mech_a",
                          "mech_b", "--models", "rf", "--folds", "3"], capsys)
    assert code == 0, err
    assert "Morgan FP" in out and "AUC" in out


@pytest.mark.parametrize(
    "argv, text",
    [
        (["embed", "no/such/model", "in.csv", "--out", "x.csv"], "no such file"),
        (["pretrain", "no/such/graph", "--out", "m"], "no such file"),
        (["build-graph", "--out", "g"], "--molecules"),
        (["build-graph", "--molecules", "no.csv", "--out", "g"], "no such file"),
    ],
)
def test_user_errors_are_one_line_with_exit_status_2(argv, text, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(argv, capsys)
    assert code == 2
    assert text in err and "Traceback" not in err
    assert err.startswith("infoalign: error:")


def test_wrong_smiles_column_is_named(workspace, capsys):
    root, _, _ = workspace
    pd.DataFrame({"SMILES_X": ["CCO"]}).to_csv(root / "cols.csv", index=False)
    code, _, err = run(["embed", str(root / "model"), str(root / "cols.csv"), "--out",
                        str(root / "o.csv")], capsys)
    assert code == 2 and "'smiles'" in err and "SMILES_X" in err


def test_no_command_prints_help(capsys):
    code, out, _ = run([], capsys)
    assert code == 2 and "build-graph" in out and "pretrain" in out and "demo" in out


def test_module_entry_point_help():
    result = subprocess.run([sys.executable, "-m", "infoalign_sklearn", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "infoalign" in result.stdout


def test_demo_quick_writes_tables_plots_and_model(tmp_path, capsys):
    code, out, _ = run(["demo", "--quick", "--out", str(tmp_path / "demo")], capsys)
    assert code == 0
    assert "SIMULATED" in out and "Morgan FP" in out and "InfoAlign" in out
    for name in ("loss_curve.png", "simulated_mechanisms_table.md", "simulated_mechanisms_scores.png",
                 "model/config.json", "model/weights.pt"):
        assert (tmp_path / "demo" / name).exists(), name
    assert "SIMULATED" in (tmp_path / "demo" / "simulated_mechanisms_table.md").read_text()
