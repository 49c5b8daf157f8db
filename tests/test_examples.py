"""Smoke test: every script in examples/ runs end to end on tiny settings."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, argv: list[str]):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(argv)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_every_example_has_a_smoke_test():
    tested = {"pipeline_scaffold_cv", "grid_search", "build_graph_from_tables",
              "decode_morphology", "embed_csv", "zero_shot_matching", "build_real_context"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


def test_pipeline_scaffold_cv():
    scores = run_example("pipeline_scaffold_cv", ["--quick"])
    assert set(scores) == {"InfoAlign (frozen) + MLP", "Morgan FP + MLP"}
    assert all(len(v) == 3 for v in scores.values())


def test_grid_search():
    search = run_example("grid_search", ["--quick"])
    assert len(search.cv_results_["params"]) == 4
    assert set(search.best_params_) == {"infoalignembedder__walk_length",
                                        "logisticregression__C"}


def test_build_graph_from_tables(tmp_path):
    graph = run_example("build_graph_from_tables", ["--quick", "--out", str(tmp_path / "g")])
    assert graph.simulated
    assert graph.stats()["nodes"]["molecule"] == 12
    assert "morphology" in graph.modalities


def test_build_graph_from_tables_needs_all_three_tables(tmp_path):
    with pytest.raises(SystemExit):
        run_example("build_graph_from_tables", ["--cellpainting", str(tmp_path / "x.csv")])


def test_decode_morphology():
    result = run_example("decode_morphology", ["--quick"])
    assert set(result) == {"decoder MAE", "mean-profile MAE", "decoder correlation"}
    assert result["decoder MAE"] >= 0


def test_embed_csv(tmp_path):
    table = run_example("embed_csv", ["--quick", "--out", str(tmp_path / "out.csv")])
    assert list(table["name"]) == ["aspirin", "caffeine", "typo", "missing", "ethanol"]
    assert table["infoalign_valid"].tolist() == [True, True, False, False, True]
    assert table.filter(like="infoalign_").shape[1] == 1 + 8


def test_zero_shot_matching():
    results = run_example("zero_shot_matching",
                          ["--n-molecules", "60", "--n-held-out", "12", "--epochs", "1"])
    assert "Random ranking (exact expectation)" in results


def _real_data_dir() -> Path | None:
    env = os.environ.get("INFOALIGN_DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data")
    return next((p for p in candidates if (p / "context").is_dir()), None)


def test_build_real_context_lists_missing_files(tmp_path):
    with pytest.raises(SystemExit, match="missing"):
        run_example("build_real_context", ["--data-dir", str(tmp_path), "--out", "g"])


@pytest.mark.skipif(_real_data_dir() is None,
                    reason="needs the real data: set INFOALIGN_DATA_DIR or provide ../shared/data")
def test_build_real_context(tmp_path):
    assert run_example("build_real_context", ["--data-dir", str(_real_data_dir()),
                                              "--out", str(tmp_path / "real")]) == 0
