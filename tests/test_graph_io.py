"""Saving / loading graphs (atomic, verified) and reading the InfoAlign authors' raw layout."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn import ContextGraph, make_synthetic_context
from infoalign_sklearn.graph import ContextGraphFileError, io
from infoalign_sklearn.readers import read_infoalign_raw


@pytest.fixture(scope="module")
def graph():
    return make_synthetic_context(60, random_state=3).graph


def assert_same(a, b):
    assert a.content_hash == b.content_hash
    assert a.nodes.equals(b.nodes)
    for name, array in a.arrays().items():
        np.testing.assert_array_equal(array, b.arrays()[name])
    for m in a.modalities:
        assert a.feature_block(m).columns == b.feature_block(m).columns
        assert a.feature_block(m).binary == b.feature_block(m).binary
    assert dict(a.metadata) == dict(b.metadata)


def test_round_trip(graph, tmp_path):
    path = graph.save(tmp_path / "g")
    loaded = ContextGraph.load(path)
    assert_same(graph, loaded)
    assert loaded.simulated and "SIMULATED" in loaded.summary()
    assert loaded.source_path == str(tmp_path / "g")
    with pytest.raises(ValueError):
        loaded.weights[0] = 0
    assert sorted(os.listdir(tmp_path)) == ["g"]  # no temporary directories left behind
    with np.load(tmp_path / "g" / "arrays.npz", allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)


def test_existing_target_needs_overwrite(graph, tmp_path):
    graph.save(tmp_path / "g")
    with pytest.raises(FileExistsError):
        graph.save(tmp_path / "g")
    smaller = graph.subgraph(graph.molecule_nodes)
    smaller.save(tmp_path / "g", overwrite=True)
    assert_same(smaller, ContextGraph.load(tmp_path / "g"))
    assert sorted(os.listdir(tmp_path)) == ["g"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a saved ContextGraph"):
        graph.save(tmp_path / "other", overwrite=True)
    assert (tmp_path / "other" / "notes.txt").exists()


def test_crash_mid_save_leaves_nothing_loadable(graph, tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(io, "_write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        graph.save(tmp_path / "g")
    assert os.listdir(tmp_path) == []
    # an existing graph survives a crashed overwrite untouched
    monkeypatch.undo()
    graph.save(tmp_path / "g")
    monkeypatch.setattr(io, "_write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        graph.subgraph([0, 1]).save(tmp_path / "g", overwrite=True)
    assert_same(graph, ContextGraph.load(tmp_path / "g"))


def test_interrupted_save_directory_is_refused(graph, tmp_path):
    # what a process killed before the manifest was written leaves behind
    io._write_payload(graph, tmp_path)
    with pytest.raises(ContextGraphFileError, match="manifest.json is missing"):
        ContextGraph.load(tmp_path)


def test_truncated_and_altered_files_are_refused(graph, tmp_path):
    path = tmp_path / "g"
    graph.save(path)
    arrays = path / "arrays.npz"
    original = arrays.read_bytes()
    arrays.write_bytes(original[: len(original) // 2])
    with pytest.raises(ContextGraphFileError, match="arrays.npz.*truncated"):
        ContextGraph.load(path)
    altered = bytearray(original)
    altered[-100] ^= 0xFF
    arrays.write_bytes(bytes(altered))
    with pytest.raises(ContextGraphFileError, match="sha256 does not match"):
        ContextGraph.load(path)
    arrays.write_bytes(original)
    (path / "nodes.parquet").unlink()
    with pytest.raises(ContextGraphFileError, match="nodes.parquet is missing"):
        ContextGraph.load(path)
    with pytest.raises(FileNotFoundError):
        ContextGraph.load(tmp_path / "nowhere")


def test_manifest_problems_are_reported(graph, tmp_path):
    path = tmp_path / "g"
    graph.save(path)
    manifest_path = path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(ContextGraphFileError, match="version 99.*reads up to 1.*Upgrade"):
        ContextGraph.load(path)
    manifest_path.write_text(json.dumps({**manifest, "content_hash": "0" * 64}))
    with pytest.raises(ContextGraphFileError, match="content hash"):
        ContextGraph.load(path)
    manifest_path.write_text(json.dumps(manifest)[:50])
    with pytest.raises(ContextGraphFileError, match="not valid JSON"):
        ContextGraph.load(path)


def write_raw_layout(folder):
    """A tiny pretraining folder in the InfoAlign authors' layout (columns as their code reads)."""
    rng = np.random.default_rng(0)
    structure = pd.DataFrame({
        "mol_id": ["m1", "m2", "m3", "m3"],  # m3 listed twice, as in their files
        "smiles": ["CCO", "CCN", "c1ccccc1", "c1ccccc1"],
        "inchikey": ["LFQSCWFLJHTTHZ", "QUSNBJAOOMFDIB", "UHOVQNZJYSORNB", "UHOVQNZJYSORNB"],
    })
    structure.to_csv(folder / "structure.csv.gz", index=False)
    jump = pd.DataFrame({"cell_jid": ["cj1", "cj2", "cj3", "cj9"],
                         "mol_id": ["m1", "m1", "m2", "m_unknown"]})
    jump.to_csv(folder / "CP-JUMP.csv.gz", index=False)
    np.savez(folder / "CP-JUMP_feature.npz", data=np.array(
        [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [0.0, 0.0, 5.0], [9.0, 9.0, 9.0]]))
    bray = pd.DataFrame({"cell_bid": ["cb1"], "mol_id": ["m3"]})
    bray.to_csv(folder / "CP-Bray.csv.gz", index=False)
    np.savez(folder / "CP-Bray_feature.npz", data=np.array([[4.0, 4.0]]))
    ge = pd.DataFrame({"gene_id": ["g1", "g2"], "mol_id": ["m1", "m3"]})
    ge.to_csv(folder / "GE.csv.gz", index=False)
    np.savez(folder / "GE_feature.npz", data=np.array([[8.0, 0.1, 0.2], [0.3, -0.2, 0.1]]))
    pd.DataFrame({"ncbi_gene_id": [7157, 1956, 5]}).to_csv(folder / "L1k_idmaps.csv", index=False)
    crispr = pd.DataFrame({"ncbi_gene_id": [7157, 1956, 1956], "mol_id": [None, "m2", "m2"]})
    crispr.to_csv(folder / "G-CRISPR.csv.gz", index=False)
    np.savez(folder / "G-CRISPR_feature.npz", data=rng.normal(size=(3, 4)))
    orf = pd.DataFrame({"ncbi_gene_id": [7157], "mol_id": [None]})
    orf.to_csv(folder / "G-ORF.csv.gz", index=False)
    np.savez(folder / "G-ORF_feature.npz", data=rng.normal(size=(1, 2)))
    pd.DataFrame({"source_id": [7157, 7157], "target_id": [1956, 42]}).to_csv(
        folder / "G-G.csv.gz", index=False)


def test_read_infoalign_raw_layout(tmp_path):
    write_raw_layout(tmp_path)
    g = read_infoalign_raw(tmp_path, similarity_modalities=(), expression_gene_fraction=0.2)
    assert g.nodes["node_id"].tolist() == [
        "mol:m1", "mol:m2", "mol:m3", "cp:m1", "cp:m2", "cp:m3", "ge:g1", "ge:g2",
        "gene:7157", "gene:1956"]
    morph = g.feature_block("morphology")
    # sources in file-name order, concatenated as the authors merge Bray and JUMP
    assert morph.columns == ("Bray:0", "Bray:1", "JUMP:0", "JUMP:1", "JUMP:2")
    raw = g.inverse_scale("morphology", morph.take(g.node_index(["cp:m1", "cp:m3"])))
    np.testing.assert_allclose(raw[0, 2:], [2.0, 2.0, 2.0])  # median of m1's two wells
    assert np.isnan(raw[0, :2]).all() and np.isnan(raw[1, 2:]).all()
    np.testing.assert_allclose(raw[1, :2], [4.0, 4.0])
    assert g.feature_block("expression").columns == ("7157", "1956", "5")
    assert g.feature_block("gene").columns == ("CRISPR:0", "CRISPR:1", "CRISPR:2", "CRISPR:3",
                                               "ORF:0", "ORF:1")
    ids = g.node_ids
    edges = {(ids[s], ids[t], k) for s, t, k in g.edges()[["source", "target", "kind"]].values}
    assert edges == {
        ("mol:m1", "cp:m1", "perturbation"), ("mol:m2", "cp:m2", "perturbation"),
        ("mol:m3", "cp:m3", "perturbation"), ("mol:m1", "ge:g1", "perturbation"),
        ("mol:m3", "ge:g2", "perturbation"), ("mol:m2", "gene:1956", "target"),
        ("gene:7157", "gene:1956", "interaction"),
        # top 20 % of 6 |expression| entries = 2: 8.0 (m1, 7157) and 0.3 (m3, 7157)
        ("mol:m1", "gene:7157", "expression"), ("mol:m3", "gene:7157", "expression"),
    }
    assert g.metadata["skipped_rows"] == {"CP-JUMP.csv.gz": 1}
    assert g.molecule_index(["c1ccccc1"]).tolist() == [2]


def test_read_infoalign_raw_reports_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="structure.csv.gz"):
        read_infoalign_raw(tmp_path)
    write_raw_layout(tmp_path)
    (tmp_path / "GE_feature.npz").unlink()
    with pytest.raises(ContextGraphFileError, match="GE_feature.npz"):
        read_infoalign_raw(tmp_path)


def test_cli_builds_a_graph_from_the_raw_layout_with_its_options(tmp_path, capsys):
    from infoalign_sklearn.cli import main

    (tmp_path / "raw").mkdir()
    write_raw_layout(tmp_path / "raw")
    code = main(["build-graph", "--raw-dir", str(tmp_path / "raw"), "--sparsity", "0.5",
                 "--similarity-threshold", "0.3", "--simulated", "--out", str(tmp_path / "g")])
    assert code == 0, capsys.readouterr().err
    graph = ContextGraph.load(tmp_path / "g")
    assert graph.n_nodes == 10 and graph.simulated
    # the options reach the builder (they were once dropped with --raw-dir)
    assert graph.metadata["options"]["sparsity"] == 0.5
    assert graph.metadata["options"]["similarity_threshold"] == 0.3
