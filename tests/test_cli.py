"""The `infoalign` command: each subcommand end to end on tiny data, and its error paths."""

import argparse
import importlib.util
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn import make_synthetic_context
from infoalign_sklearn._version import __version__
from infoalign_sklearn.cli import HelpFormatter, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DATA = ROOT / "examples" / "data"

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
        # text input is carried through as text: parquet keeps the strings of the CSV
        expected = [1.0, 2.0, 3.0, 4.0] if suffix == "csv" else ["1.0", "2.0", "3.0", "4.0"]
        assert list(result["value"]) == expected
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


# ------------------------------------------------------------- help and --version
def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _expanded_help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The help text of one option exactly as `--help` shows it (before line wrapping)."""
    return parser._get_formatter()._expand_help(action)


def test_every_subcommand_is_covered_by_the_help_tests():
    assert set(_subcommands(build_parser())) == {"build-graph", "pretrain", "embed", "evaluate",
                                                 "demo"}


@pytest.mark.parametrize("name", sorted(_subcommands(build_parser())))
def test_every_option_has_help_and_shows_its_default(name):
    parser = _subcommands(build_parser())[name]
    assert parser.formatter_class is HelpFormatter and parser.description
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        label = action.option_strings[0] if action.option_strings else action.dest
        text = _expanded_help(parser, action)
        assert action.help and len(action.help) >= 15, f"{name} {label}: no real help text"
        default = action.default
        if not action.option_strings:  # positional: required by nature, no default
            assert "default" not in text, label
        elif action.required:
            assert text.endswith("(required)"), (label, text)
        elif isinstance(action, argparse._StoreTrueAction) or default is None:
            assert "(default:" not in text, (label, text)  # no "default: False / None" noise
        else:
            shown = " ".join(map(str, default)) if isinstance(default, list) else str(default)
            assert text.endswith(f"(default: {shown})"), (label, text)
    rendered = parser.format_help()
    assert "default: None" not in rendered and "default: False" not in rendered


def test_help_shows_defaults_and_meanings_on_the_command_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["embed", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert exc.value.code == 0
    assert "name of the SMILES column of INPUT (default: smiles)" in out
    assert "(default: 10000)" in out and "(default: auto)" in out
    assert "--overwrite replace an existing --out file" in out
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: mlp rf)" in out and "label columns, one task each (required)" in out


def test_top_level_options_have_help():
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        assert action.help, action.option_strings


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"infoalign {__version__}\n"


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["embed", "--help"]])
def test_version_and_help_import_nothing_heavy(argv):
    code = (
        "import sys\n"
        "from infoalign_sklearn.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "heavy = ('torch', 'pandas', 'sklearn', 'rdkit', 'infoalign_sklearn.embedders')\n"
        "print('HEAVY', sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout
    if argv == ["--version"]:
        assert result.stdout.startswith(f"infoalign {__version__}\n")


# ------------------------------------------------------- output files: evaluate, embed
@pytest.fixture(scope="module")
def labels_csv(workspace):
    root, context, held = workspace
    labels = context.mechanisms.to_numpy(dtype=float)[np.flatnonzero(context.held_out)]
    frame = pd.DataFrame({"smiles": held, "mech_a": labels[:, 0], "mech_b": labels[:, 1]})
    path = root / "labels_for_out.csv"
    frame.to_csv(path, index=False)
    return path


EVALUATE_FAST = ["--target-columns", "mech_a", "mech_b", "--models", "rf", "--folds", "3"]


def test_evaluate_writes_markdown_and_csv(labels_csv, tmp_path, capsys):
    md = tmp_path / "scores.md"
    code, out, err = run(["evaluate", str(labels_csv), *EVALUATE_FAST, "--out", str(md)], capsys)
    assert code == 0, err
    printed = out.split(f"wrote the table to {md}")[0]
    assert md.read_text() == printed  # the same table that is printed
    assert "Morgan FP" in md.read_text()

    csv = tmp_path / "scores.csv"
    csv.write_text("an earlier result\n")
    code, _, err = run(["evaluate", str(labels_csv), *EVALUATE_FAST, "--out", str(csv)], capsys)
    assert code == 2 and "already exists" in err and "--overwrite" in err
    assert "Traceback" not in err and csv.read_text() == "an earlier result\n"

    code, out, err = run(["evaluate", str(labels_csv), *EVALUATE_FAST, "--out", str(csv),
                          "--overwrite"], capsys)
    assert code == 0, err
    table = pd.read_csv(csv)
    assert table["representation"].tolist() == ["Morgan FP"] and table["model"].tolist() == ["rf"]
    assert "AUC" in table.columns and table["AUC"].str.contains("±").all()
    # atomic writes leave no temporary files behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv", "scores.md"]


@pytest.mark.parametrize("name", ["scores.txt", "scores", "scores.xlsx"])
def test_evaluate_out_with_another_suffix_is_refused_before_any_work(labels_csv, tmp_path,
                                                                     capsys, name):
    code, out, err = run(["evaluate", str(labels_csv), *EVALUATE_FAST, "--out",
                          str(tmp_path / name)], capsys)
    assert code == 2 and err.startswith("infoalign: error:") and "Traceback" not in err
    assert ".csv" in err and ".md" in err and name in err
    assert out == "" and list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def tiny_model(workspace):
    """A model pretrained (1 epoch, 16 dimensions) on the SIMULATED workspace graph."""
    root, context, _ = workspace
    graph, model = root / "fixture_graph", root / "fixture_model"
    context.graph.save(graph)
    assert main(["pretrain", str(graph), "--out", str(model), *TINY_PRETRAIN]) == 0
    return model


@pytest.mark.filterwarnings("ignore:.*pretrained on a SIMULATED context graph")
def test_embed_refuses_an_existing_output_without_overwrite(tiny_model, tmp_path, capsys):
    source = tmp_path / "library.csv"
    pd.DataFrame({"smiles": ["CCO", "c1ccccc1O", "CCN"]}).to_csv(source, index=False)
    out = tmp_path / "library_embedded.csv"
    out.write_text("an earlier result\n")
    code, _, err = run(["embed", str(tiny_model), str(source), "--out", str(out)], capsys)
    assert code == 2 and err.startswith("infoalign: error:") and "Traceback" not in err
    assert "already exists" in err and "hint: pass --overwrite" in err
    assert out.read_text() == "an earlier result\n"

    code, printed, err = run(["embed", str(tiny_model), str(source), "--out", str(out),
                              "--overwrite"], capsys)
    assert code == 0, err
    table = pd.read_csv(out)
    assert table["infoalign_valid"].tolist() == [True, True, True]
    assert "infoalign_15" in table.columns

    code, _, err = run(["embed", str(tiny_model), str(source), "--out",
                        str(tmp_path / "library.xlsx")], capsys)
    assert code == 2 and ".parquet" in err and ".csv" in err


# ---------------------------------------------------------- examples/data tables
def _documented_build_graph_command() -> list[str]:
    """The `infoalign build-graph` command on examples/data as docs/cli.md shows it."""
    text = (ROOT / "docs" / "cli.md").read_text()
    section = text.split("## A first run on the example tables", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    line = next(ln for ln in block.splitlines() if ln.startswith("infoalign build-graph"))
    return shlex.split(line)[1:]


def test_documented_build_graph_on_the_example_tables(tmp_path, capsys, monkeypatch):
    from infoalign_sklearn import ContextGraph

    argv = _documented_build_graph_command()
    assert "examples/data/molecules.csv" in argv
    argv[argv.index("--out") + 1] = str(tmp_path / "example_graph")
    monkeypatch.chdir(ROOT)  # the documented paths are relative to the repository root
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "SIMULATED" in out
    graph = ContextGraph.load(tmp_path / "example_graph")
    assert graph.simulated
    assert graph.nodes["kind"].value_counts().to_dict() == {
        "molecule": 12, "morphology": 10, "expression": 8, "gene": 8}
    assert set(graph.edges()["kind"]) >= {"perturbation", "target", "interaction"}
    assert {"morphology", "expression"} <= set(graph.modalities)


def test_example_tables_are_what_make_tables_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_tables", EXAMPLE_DATA / "make_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--out", str(tmp_path)])
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["expression.csv", "genes.csv", "links.csv", "molecules.csv",
                       "morphology.csv", "provenance.json"]
    for name in written:
        assert (tmp_path / name).read_bytes() == (EXAMPLE_DATA / name).read_bytes(), name
    assert "SIMULATED" in (EXAMPLE_DATA / "README.md").read_text()


def test_evaluate_with_a_simulated_model_warns_and_labels_the_rows(tmp_path, capsys):
    from infoalign_sklearn import InfoAlignEmbedder

    context = make_synthetic_context(n_molecules=60, n_held_out=30, random_state=0)
    InfoAlignEmbedder(context.graph, latent_dim=8, hidden_dim=8, num_layers=2, max_epochs=1,
                      random_state=0).fit().save_pretrained(tmp_path / "model")
    held = np.flatnonzero(context.held_out)
    pd.DataFrame({"smiles": [context.smiles[i] for i in held],
                  "y": context.mechanisms.iloc[held, 0].to_numpy(int)}).to_csv(
        tmp_path / "labels.csv", index=False)
    code, out, err = run(["evaluate", str(tmp_path / "labels.csv"), "--target-columns", "y",
                          "--models", "rf", "--folds", "2", "--model", str(tmp_path / "model")],
                         capsys)
    assert code == 0, err
    assert "infoalign: warning:" in err and "SIMULATED" in err
    assert "InfoAlign (SIMULATED graph)" in out


# ------------------------------------------------------- one table reader, every format
TABLE_NAMES = ["in.csv", "in.csv.gz", "in.tsv", "in.tsv.gz", "in.txt", "in.parquet", "in.pq"]


def _write_table(frame: pd.DataFrame, path: Path, index: bool = False) -> Path:
    from infoalign_sklearn.readers import table_format

    sep = table_format(path)
    if sep is None:
        frame.to_parquet(path, index=index)
    else:
        frame.to_csv(path, sep=sep, index=index)  # gzip inferred from .gz
    return path


class _LengthEmbedder:
    """Stands in for a pretrained embedder: the length of the SMILES, and a constant."""

    latent_dim = 2

    def transform(self, smiles):
        return np.array([[len(s), 1.0] for s in smiles], dtype=np.float32)


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_read_table_and_embed_table_agree_on_every_format(name, tmp_path):
    from infoalign_sklearn.cli.embed import embed_table
    from infoalign_sklearn.readers import read_table

    frame = pd.DataFrame({"name": ["a", "b", "c"], "smiles": ["CCO", "C", "CCCC"]})
    path = _write_table(frame, tmp_path / name)
    pd.testing.assert_frame_equal(read_table(path), frame)
    out = tmp_path / "out.csv"
    assert embed_table(_LengthEmbedder(), path, out, chunk_size=2) == (3, 0)
    result = pd.read_csv(out)
    assert list(result["name"]) == ["a", "b", "c"]
    assert list(result["infoalign_0"]) == [3.0, 1.0, 4.0]


def test_build_graph_reads_pq_tsv_gz_and_txt_tables(workspace, capsys, tmp_path):
    root, _, _ = workspace
    molecules = _write_table(pd.read_csv(root / "molecules.csv"), tmp_path / "molecules.tsv.gz")
    profiles = _write_table(pd.read_csv(root / "morphology.csv", index_col=0),
                            tmp_path / "morphology.txt", index=True)
    links = _write_table(pd.read_csv(root / "links.csv"), tmp_path / "links.pq")
    genes = _write_table(pd.read_csv(root / "genes.csv"), tmp_path / "genes.csv.gz")
    code, out, err = run([
        "build-graph", "--molecules", str(molecules), "--profiles", f"morphology={profiles}",
        "--links", str(links), "--genes", str(genes), "--out", str(tmp_path / "graph"),
    ], capsys)
    assert code == 0, err
    code, reference, err = run([
        "build-graph", "--molecules", str(root / "molecules.csv"),
        "--profiles", f"morphology={root / 'morphology.csv'}", "--links", str(root / "links.csv"),
        "--genes", str(root / "genes.csv"), "--out", str(tmp_path / "reference"),
    ], capsys)
    assert code == 0, err
    assert out.splitlines()[:-1] == reference.splitlines()[:-1]  # the same summary
