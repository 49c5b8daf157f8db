"""Smoke test: every script in examples/ runs end to end on tiny settings."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn.graph import make_synthetic_context

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(name: str, argv: list[str]):
    return load_example(name).main(argv)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_every_example_has_a_smoke_test():
    tested = {"pipeline_scaffold_cv", "grid_search", "build_graph_from_tables",
              "decode_morphology", "embed_csv", "zero_shot_matching", "build_real_context",
              "zero_shot_real"}
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


ZERO_SHOT_ROWS = {"InfoAlign (decoder likelihood)", "Contrastive (cosine)",
                  "Random ranking (exact expectation)"}
TINY = ["--epochs", "1", "--contrastive-epochs", "1", "--latent-dim", "8", "--hidden-dim", "8",
        "--num-layers", "2", "--batch-size", "32", "--device", "cpu"]


def _dose_graph():
    """Two profiled molecules (one at two doses), a stereo twin of the first, a gene."""
    from infoalign_sklearn.graph import ContextGraph, FeatureBlock

    ids = ["mol:a", "cp:x@0.1", "cp:x@10", "mol:b", "cp:y@1", "gene:G", "mol:c"]
    kinds = ["molecule", "morphology", "morphology", "molecule", "morphology", "gene",
             "molecule"]
    smiles = ["C[C@H](N)O", None, None, "CCCN", None, None, "CC(N)O"]
    values = np.array([[0.0, 0.2], [1.0, 0.6], [0.5, 1.0]], np.float32)
    block = FeatureBlock(np.array([-1, 0, 1, -1, 2, -1, -1]), values,
                         np.array([0.0, -1.0], np.float32), np.array([2.0, 1.0], np.float32),
                         ("f1", "f2"))
    edges = ([0, 0, 3, 2, 0, 3, 6], [1, 2, 4, 4, 5, 5, 5], [1.0] * 7,
             ["perturbation"] * 3 + ["similarity", "target", "target", "target"])
    return ContextGraph.from_edges(ids, kinds, smiles, {"morphology": block}, edges)


def test_zero_shot_real_fold_graph_drops_molecules_and_their_profiles():
    example = load_example("zero_shot_real")
    graph = _dose_graph()
    profiles = example.profiled_molecules(graph)
    assert {k: v.tolist() for k, v in profiles.items()} == {0: [1, 2], 3: [4]}
    reduced = example.fold_graph(graph, [0])
    # the held-out molecule, its stereo twin (same InChIKey skeleton) and both its profiles go
    assert reduced.node_ids.tolist() == ["mol:b", "cp:y@1", "gene:G"]
    assert (reduced.molecule_index(["C[C@H](N)O", "CC(N)O"]) == -1).all()
    assert reduced.feature_block("morphology").values.tolist() == [[0.5, 1.0]]
    assert sorted(reduced.edges()["kind"]) == ["perturbation", "target"]
    # candidates in raw units: lower + value * (upper - lower)
    np.testing.assert_allclose(example.candidate_profile(graph, profiles[0], "max-dose"),
                               [2.0, 0.2], rtol=1e-6)
    np.testing.assert_allclose(example.candidate_profile(graph, profiles[0], "median"),
                               [1.0, -0.2], rtol=1e-6)


def test_zero_shot_real_fold_graph_on_a_synthetic_graph():
    example = load_example("zero_shot_real")
    graph = make_synthetic_context(40, random_state=0).graph
    profiles = example.profiled_molecules(graph)
    held = sorted(profiles)[:5]
    reduced = example.fold_graph(graph, held)
    smiles = graph.nodes["smiles"].to_numpy()[held].tolist()
    assert (reduced.molecule_index(smiles) == -1).all()
    assert reduced.stats()["nodes"]["molecule"] == graph.stats()["nodes"]["molecule"] - 5
    profile_ids = graph.node_ids[np.concatenate([profiles[n] for n in held])]
    assert (reduced.node_index(profile_ids) == -1).all()
    block, kept = graph.feature_block("morphology"), reduced.feature_block("morphology")
    assert (kept.rows >= 0).sum() == (block.rows >= 0).sum() - len(profile_ids)
    held_values = block.take(graph.node_index(profile_ids))
    assert not (kept.values[:, None, :] == held_values[None]).all(axis=2).any()


def test_zero_shot_real(tmp_path, capsys):
    graph = make_synthetic_context(40, random_state=0).graph
    graph.save(tmp_path / "g")
    results = run_example("zero_shot_real", ["--graph", str(tmp_path / "g"), "--folds", "2",
                                             "--out", str(tmp_path / "folds.csv"), *TINY])
    assert set(results) == ZERO_SHOT_ROWS
    for metrics in results.values():
        assert {"ndcg@1", "ndcg@10", "hit@1", "hit@10"} <= set(metrics)
        assert metrics["n_folds"] == 2
    printed = capsys.readouterr().out
    assert "SIMULATED data: zero-shot" in printed and "wall time" in printed
    assert all(name in printed for name in ZERO_SHOT_ROWS)
    folds = pd.read_csv(tmp_path / "folds.csv")
    assert len(folds) == 6 and set(folds["method"]) == ZERO_SHOT_ROWS
    assert (folds["n_queries"] == folds["n_candidates"]).all()


def test_zero_shot_real_needs_morphology_profiles(tmp_path):
    from infoalign_sklearn.graph import ContextGraph

    ContextGraph.from_edges(["mol:1"], ["molecule"], ["CCO"]).save(tmp_path / "bare")
    with pytest.raises(SystemExit, match="no 'morphology' feature block"):
        run_example("zero_shot_real", ["--graph", str(tmp_path / "bare")])
    _dose_graph().save(tmp_path / "few")
    with pytest.raises(SystemExit, match="only 2 molecule.*needs at least 4"):
        run_example("zero_shot_real", ["--graph", str(tmp_path / "few"), "--folds", "2"])


def _real_data_dir() -> Path | None:
    env = os.environ.get("INFOALIGN_DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data")
    return next((p for p in candidates if (p / "context").is_dir()), None)


def test_build_real_context_lists_missing_files(tmp_path):
    with pytest.raises(SystemExit, match="missing"):
        run_example("build_real_context", ["--data-dir", str(tmp_path), "--out", "g"])


def test_build_real_context_exclude_files(tmp_path):
    module = load_example("build_real_context")
    pd.DataFrame({"canonical_smiles": ["CCO", "CCN.Cl"]}).to_csv(tmp_path / "mine.csv",
                                                                 index=False)
    (tmp_path / "more.smi").write_text("c1ccccc1 benzene\n")
    got = module.user_exclusions([str(tmp_path / "mine.csv"), str(tmp_path / "more.smi")], None)
    assert got == {str(tmp_path / "mine.csv"): ["CCO", "CCN.Cl"],
                   str(tmp_path / "more.smi"): ["c1ccccc1"]}
    pd.DataFrame({"structure": ["CCO"]}).to_csv(tmp_path / "odd.csv", index=False)
    with pytest.raises(SystemExit, match=r"--exclude .*odd\.csv.*no SMILES column"):
        module.user_exclusions([str(tmp_path / "odd.csv")], None)
    assert module.user_exclusions([str(tmp_path / "odd.csv")], "structure") == {
        str(tmp_path / "odd.csv"): ["CCO"]}
    with pytest.raises(SystemExit, match="No such file"):
        module.user_exclusions([str(tmp_path / "absent.csv")], None)
    args = module.parse_args(["--out", "g", "--exclude", "a.csv", "b.smi",
                              "--exclude-smiles-column", "s"])
    assert args.exclude == ["a.csv", "b.smi"] and args.exclude_smiles_column == "s"


def test_build_real_context_profiled_counts():
    from infoalign_sklearn.graph import ContextGraph

    graph = ContextGraph.from_edges(
        ["mol:a", "mol:b", "mol:c", "cp:a", "ge:a", "ge:b"],
        ["molecule"] * 3 + ["morphology", "expression", "expression"], ["CCO", "CCN", "CCC"]
        + [None] * 3, edges=([0, 0, 1, 2], [3, 4, 5, 1], [1.0] * 4,
                             ["perturbation"] * 3 + ["similarity"]))
    counts = load_example("build_real_context").profiled_counts(graph)
    assert counts == {"molecules": 3, "with morphology": 1, "with expression": 2,
                      "with both": 1, "with any profile": 2}


@pytest.mark.skipif(_real_data_dir() is None,
                    reason="needs the real data: set INFOALIGN_DATA_DIR or provide ../shared/data")
def test_build_real_context(tmp_path, capsys):
    # a JUMP-profiled compound in no benchmark (3-methylpyrazole, JCP2022_104289), given as
    # its hydrochloride: it and its profile must leave the graph
    (tmp_path / "mine.smi").write_text("Cc1cc[nH]n1.Cl 3-methylpyrazole HCl\n")
    assert run_example("build_real_context", ["--data-dir", str(_real_data_dir()),
                                              "--out", str(tmp_path / "real"),
                                              "--exclude", str(tmp_path / "mine.smi")]) == 0
    from infoalign_sklearn.graph import ContextGraph

    graph = ContextGraph.load(tmp_path / "real")
    assert (graph.molecule_index(["Cc1cc[nH]n1"]) == -1).all()
    assert (graph.node_index(["cp:JCP2022_104289"]) == -1).all()
    assert "mine.smi 1" in capsys.readouterr().out


def _jump_dir(root: Path, smiles: list[str]) -> Path:
    """The layout of ../shared/data for --jump: profile tables (compound x source rows, one
    file of DMSO controls) and the JCP id -> SMILES table; values made up for the test."""
    rng = np.random.default_rng(0)
    folder = root / "context" / "jump_profiles"
    folder.mkdir(parents=True)
    (root / "context" / "compounds").mkdir()
    ids = [f"JCP2022_{i:06d}" for i in range(len(smiles))]
    rows = pd.DataFrame({"Metadata_JCP2022": np.repeat(ids, 2),
                         "Metadata_Source": ["source_1", "source_2"] * len(ids)})
    features = pd.DataFrame(rng.normal(size=(len(rows), 6)),
                            columns=[f"harmony_{j}" for j in range(6)])
    table = pd.concat([rows, features], axis=1)
    table.iloc[:10].to_csv(folder / "a_jump_profiles.csv", index=False)
    table.iloc[10:].to_csv(folder / "b_jump_profiles.csv", index=False)
    dmso = table.iloc[:2].assign(Metadata_JCP2022="JCP2022_999999")  # not a compound: skipped
    dmso.to_csv(folder / "dmso_jump_profiles.csv", index=False)
    pd.DataFrame({"Metadata_JCP2022": [*ids, "JCP2022_777777"],
                  "smiles": [*smiles, "CCO"]}).to_csv(
        root / "context" / "compounds" / "JUMPCP_compounds.csv.gz", index=False)
    return root


def test_zero_shot_real_on_jump_profiles(tmp_path, capsys, nci_smiles):
    data = _jump_dir(tmp_path / "data", nci_smiles[:12])
    example = load_example("zero_shot_real")
    graph = example.jump_graph(data)
    assert graph.stats()["nodes"]["molecule"] == 12
    block = graph.feature_block("morphology")
    assert (block.rows >= 0).sum() == 12  # one median profile per compound, no DMSO
    profiles, _ = example.read_jump_profiles(data)
    first = profiles[profiles["Metadata_JCP2022"] == "JCP2022_000000"]
    node = graph.node_index(["cp:JCP2022_000000"])
    raw = graph.inverse_scale("morphology", block.take(node))[0]
    np.testing.assert_allclose(raw, first.filter(like="harmony_").median().to_numpy(),
                               rtol=1e-4, atol=1e-5)
    results = example.main(["--jump", str(data), "--folds", "2", "--save-graph",
                            str(tmp_path / "jump_graph"), *TINY])
    assert set(results) == ZERO_SHOT_ROWS
    assert results["Random ranking (exact expectation)"]["n_queries"] == 12
    printed = capsys.readouterr().out
    assert "REAL data: zero-shot" in printed and "random ranking expects" in printed
    assert (tmp_path / "jump_graph").exists()
    (data / "context" / "compounds" / "JUMPCP_compounds.csv.gz").unlink()
    with pytest.raises(SystemExit, match="JUMPCP_compounds.csv.gz is missing"):
        example.jump_graph(data)


def test_zero_shot_real_rank1_chance_is_the_exact_tail():
    example = load_example("zero_shot_real")
    per_fold = pd.DataFrame({"method": ["m", "m"], "n_queries": [2, 2], "n_candidates": [2, 4],
                             "hit@1": [1.0, 0.5]})
    hits, expected, chance = example.rank1_chance(per_fold, "m")
    assert hits == 3 and expected == pytest.approx(2 * 0.5 + 2 * 0.25)
    # P(at least 3 of: two coins at 1/2, two at 1/4)
    p = [0.5, 0.5, 0.25, 0.25]
    exact = sum(np.prod([q if b else 1 - q for q, b in zip(p, bits)])
                for bits in np.ndindex(2, 2, 2, 2) if sum(bits) >= 3)
    assert chance == pytest.approx(exact)
