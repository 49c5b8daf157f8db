"""ContextGraph storage: immutability, sharing on copy, lookups, derived graphs, summary."""

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone

from infoalign_sklearn import ContextGraph
from infoalign_sklearn.graph import EDGE_KINDS, FeatureBlock


def small_graph(metadata=None):
    # 3 molecules (0-2), 2 morphology profiles (3-4), 1 gene (5)
    ids = ["mol:eth", "mol:prop", "mol:ala", "cp:eth", "cp:prop", "gene:G1"]
    kinds = ["molecule"] * 3 + ["morphology"] * 2 + ["gene"]
    smiles = ["CCO", "CCCO", "C[C@@H](N)C(=O)O", None, None, None]
    morph = FeatureBlock(
        rows=np.array([-1, -1, -1, 0, 1, -1]),
        values=np.array([[0.0, 1.0], [1.0, np.nan]], np.float32),
        lower=np.array([-2.0, 10.0], np.float32), upper=np.array([2.0, 20.0], np.float32),
        columns=("a", "b"),
    )
    edges = (
        [0, 1, 0, 2, 3, 5],
        [3, 4, 1, 5, 4, 1],
        [1.0, 1.0, 0.9, 1.0, 0.85, 1.0],
        ["perturbation", "perturbation", "similarity", "target", "similarity", "target"],
    )
    return ContextGraph.from_edges(ids, kinds, smiles, {"morphology": morph}, edges=edges,
                                   metadata=metadata)


def test_arrays_are_read_only_and_attributes_frozen():
    g = small_graph()
    for array in (g.indptr, g.indices, g.weights, g.edge_kinds,
                  g.feature_block("morphology").values, g.feature_block("morphology").rows):
        with pytest.raises(ValueError):
            array[0] = 0
    with pytest.raises(AttributeError):
        g.indptr = np.zeros(3)
    with pytest.raises(AttributeError):
        g.source_path = "x"


class _Holder(BaseEstimator):
    def __init__(self, context_graph=None):
        self.context_graph = context_graph


def test_deepcopy_and_clone_share_the_graph():
    g = small_graph()
    assert copy.deepcopy(g) is g
    assert copy.copy(g) is g
    copied = copy.deepcopy({"graph": g})
    assert copied["graph"].feature_block("morphology").values is g.feature_block("morphology").values
    assert clone(_Holder(context_graph=g)).context_graph is g


def test_pickle_round_trip_stays_immutable():
    g = small_graph()
    h = pickle.loads(pickle.dumps(g))
    assert h.content_hash == g.content_hash
    with pytest.raises(ValueError):
        h.weights[0] = 0.5
    with pytest.raises(ValueError):
        h.feature_block("morphology").values[0, 0] = 0.5


def test_csr_is_symmetric_sorted_and_deduplicated():
    g = ContextGraph.from_edges(
        ["a", "b", "c"], ["gene"] * 3, [None] * 3,
        edges=([2, 0, 1, 0], [0, 1, 0, 2], [0.3, 0.5, 0.7, 0.2], ["interaction"] * 4),
    )
    assert g.n_edges == 2  # (0, 1) twice, (0, 2) twice
    assert g.neighbors(0).tolist() == [1, 2]
    edges = g.edges().set_index(["source", "target"])["weight"]
    assert edges[(0, 1)] == pytest.approx(0.7)  # the heavier duplicate wins
    assert edges[(0, 2)] == pytest.approx(0.3)
    for u in range(3):
        for pos in range(g.indptr[u], g.indptr[u + 1]):
            v = g.indices[pos]
            back = g.indptr[v] + np.searchsorted(g.neighbors(v), u)
            assert g.weights[back] == g.weights[pos]


def test_self_loops_and_bad_weights_are_rejected():
    with pytest.raises(ValueError, match="self-loop"):
        ContextGraph.from_edges(["a", "b"], ["gene"] * 2, [None] * 2,
                                edges=([0], [0], [1.0], ["interaction"]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ContextGraph.from_edges(["a", "b"], ["gene"] * 2, [None] * 2,
                                edges=([0], [1], [1.5], ["interaction"]))
    with pytest.raises(ValueError, match="unique"):
        ContextGraph.from_edges(["a", "a"], ["gene"] * 2, [None] * 2)


def test_node_table_and_feature_access():
    g = small_graph()
    assert list(g.nodes.columns) == ["node_id", "kind", "smiles"]
    assert g.nodes["kind"].tolist()[:4] == ["molecule"] * 3 + ["morphology"]
    assert g.molecule_nodes.tolist() == [0, 1, 2]
    assert g.molecule_smiles == ["CCO", "CCCO", "C[C@@H](N)C(=O)O"]
    assert g.modalities == ("morphology",)
    block = g.feature_block("morphology")
    taken = block.take([3, 0, -1, 4])
    np.testing.assert_array_equal(taken[0], [0.0, 1.0])
    assert np.isnan(taken[1]).all() and np.isnan(taken[2]).all()
    np.testing.assert_allclose(g.inverse_scale("morphology", [[0.5, 0.25]]), [[0.0, 12.5]])
    with pytest.raises(KeyError, match="expression"):
        g.feature_block("expression")
    assert g.node_index(["gene:G1", "nope"]).tolist() == [5, -1]


def test_molecule_index_matches_inchikey_skeleton():
    g = small_graph()
    # other stereo of alanine, ethanol written differently, something absent, invalid SMILES
    idx = g.molecule_index(["C[C@H](N)C(=O)O", "OCC", "c1ccccc1", "not-a-smiles"])
    assert idx.tolist() == [2, 0, -1, -1]


def test_without_molecules_removes_exactly_those_nodes_and_edges():
    g = small_graph()
    h = g.without_molecules(["OCC"], orphans="keep")  # ethanol; its profile stays
    assert h.n_nodes == g.n_nodes - 1
    assert "mol:eth" not in h.node_ids.tolist()
    before = {(g.node_ids[s], g.node_ids[t]) for s, t in g.edges()[["source", "target"]].values}
    after = {(h.node_ids[s], h.node_ids[t]) for s, t in h.edges()[["source", "target"]].values}
    assert before - after == {("mol:eth", "cp:eth"), ("mol:eth", "mol:prop")}
    assert after <= before
    # features follow their nodes
    np.testing.assert_array_equal(
        h.feature_block("morphology").take(h.node_index(["cp:prop"]))[0],
        g.feature_block("morphology").take(g.node_index(["cp:prop"]))[0],
    )
    assert g.without_molecules(["c1ccccc1"]).content_hash == g.content_hash


def test_subgraph_keeps_induced_edges_and_weights():
    g = small_graph()
    h = g.subgraph([5, 1, 4])
    assert h.node_ids.tolist() == ["mol:prop", "cp:prop", "gene:G1"]
    got = {(h.node_ids[s], h.node_ids[t], round(float(w), 3), k)
           for s, t, w, k in h.edges()[["source", "target", "weight", "kind"]].values}
    assert got == {("mol:prop", "cp:prop", 1.0, "perturbation"),
                   ("mol:prop", "gene:G1", 1.0, "target")}
    mask = np.zeros(g.n_nodes, bool)
    mask[[1, 4, 5]] = True
    assert g.subgraph(mask).content_hash == h.content_hash


def test_summary_counts_and_simulated_label():
    g = small_graph()
    s = g.stats()
    assert s["nodes"] == {"molecule": 3, "morphology": 2, "expression": 0, "gene": 1}
    assert s["edges"]["similarity"] == 2 and s["edges"]["perturbation"] == 2
    assert sum(s["edges"].values()) == g.n_edges == 6
    assert s["isolated_molecules"] == 0
    assert "SIMULATED" not in g.summary()
    iso = g.subgraph([0, 2])  # ethanol and alanine share no edge
    assert iso.stats()["isolated_molecules"] == 2
    sim = small_graph(metadata={"simulated": True})
    assert sim.simulated and "SIMULATED" in sim.summary()


def test_content_hash_changes_with_content():
    g = small_graph()
    assert g.content_hash == small_graph().content_hash
    edges = g.edges()
    edges.loc[0, "weight"] = 0.5
    h = ContextGraph.from_edges(g.node_ids, g.nodes["kind"], g.nodes["smiles"],
                                {"morphology": g.feature_block("morphology")},
                                edges=tuple(edges[c].to_numpy() for c in
                                            ["source", "target", "weight", "kind"]))
    assert h.content_hash != g.content_hash
    assert set(pd.unique(g.edges()["kind"])) <= set(EDGE_KINDS)


def test_graph_package_imports_no_torch():
    # DESIGN: data flows graph -> nn, never back; the graph must load where torch is absent
    import ast
    from pathlib import Path

    import infoalign_sklearn.graph as graph_package

    for source in Path(graph_package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""]
                for name in names:
                    assert not name.startswith("torch"), f"{source.name} imports {name}"
                    assert not (isinstance(node, ast.ImportFrom) and node.level >= 2
                                and name.startswith("nn")), f"{source.name} imports ..nn"
