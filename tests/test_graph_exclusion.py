"""ContextGraph.without_molecules: salt / charge forms match, orphaned profiles leave, a report."""

import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn.chem import molecule_key_pairs, parent_inchikey14
from infoalign_sklearn.graph import ContextGraph, MoleculeRemoval


def graph_with_profiles():
    # ethanol (recorded as its hydrochloride), acetate (charged), propanol, glycine;
    # cp:eth only from ethanol, cp:shared from ethanol and propanol, ge:ace only from acetate,
    # ge:free linked to no molecule at all
    molecules = pd.DataFrame({
        "id": ["mol:eth", "mol:ace", "mol:prop", "mol:gly"],
        "smiles": ["CCO.Cl", "CC(=O)[O-]", "CCCO", "NCC(=O)O"],
    })
    rng = np.random.default_rng(0)
    morphology = pd.DataFrame(rng.normal(size=(3, 4)), index=["cp:eth", "cp:shared", "cp:prop"],
                              columns=[f"f{i}" for i in range(4)])
    expression = pd.DataFrame(rng.normal(size=(2, 3)), index=["ge:ace", "ge:free"],
                              columns=["G1", "G2", "G3"])
    links = pd.DataFrame({
        "source": ["mol:eth", "mol:eth", "mol:prop", "mol:prop", "mol:ace", "mol:gly",
                   "gene:G1"],
        "target": ["cp:eth", "cp:shared", "cp:shared", "cp:prop", "ge:ace", "gene:G1",
                   "gene:G2"],
        "kind": ["perturbation"] * 5 + ["target", "interaction"],
    })
    genes = pd.DataFrame({"id": ["gene:G1", "gene:G2", "gene:G3"]})
    return ContextGraph.from_tables(
        molecules, {"morphology": morphology, "expression": expression}, genes=genes,
        links=links, similarity_modalities=(), expression_gene_fraction=0.0)


def ids(graph):
    return set(graph.node_ids.tolist())


def test_parent_keys_strip_salts_and_neutralise():
    assert parent_inchikey14("CCO.Cl") == parent_inchikey14("CCO")
    assert parent_inchikey14("CC(=O)[O-].[Na+]") == parent_inchikey14("CC(=O)O")
    assert parent_inchikey14("not a smiles") is None
    own, parent = molecule_key_pairs(["CCO.Cl"])[0]
    assert own != parent == molecule_key_pairs(["OCC"])[0][0]


def test_salt_form_in_graph_matches_free_base_input_and_back():
    g = graph_with_profiles()
    h, report = g.without_molecules(["OCC"], return_report=True)
    assert "mol:eth" not in ids(h)
    assert report.n_molecules == 1 and report.n_parent_only == 1
    # the exact-skeleton rule misses the salt form: that is the leak being closed
    assert "mol:eth" in ids(g.without_molecules(["OCC"], match="skeleton"))
    # a salt given as input removes the free molecule of the graph
    assert "mol:prop" not in ids(g.without_molecules(["CCCO.[Na+].[Cl-]"]))


def test_charged_form_matches_neutral_input():
    g = graph_with_profiles()
    h, report = g.without_molecules(["CC(=O)O"], return_report=True)
    assert "mol:ace" not in ids(h) and report.n_molecules == 1
    assert "mol:ace" not in ids(g.without_molecules(["CC(=O)[O-].[K+]"]))


def test_orphaned_profiles_go_shared_profiles_and_genes_stay():
    g = graph_with_profiles()
    h, report = g.without_molecules(["CCO", "CC(=O)O"], return_report=True)
    gone = ids(g) - ids(h)
    # cp:shared is still produced by propanol; ge:free never had a molecule; genes stay
    assert gone == {"mol:eth", "mol:ace", "cp:eth", "ge:ace"}
    assert report.n_profiles == {"morphology": 1, "expression": 1}
    assert report.n_nodes == 4 and set(report.removed_ids) == gone
    assert set(report.removed_ids[:2]) == {"mol:eth", "mol:ace"}  # molecules first
    assert {"cp:shared", "cp:prop", "ge:free", "gene:G1", "gene:G2", "gene:G3"} <= ids(h)
    # features follow their nodes, scaling bounds unchanged
    for modality, node in (("morphology", "cp:shared"), ("expression", "ge:free")):
        np.testing.assert_array_equal(
            h.feature_block(modality).take(h.node_index([node]))[0],
            g.feature_block(modality).take(g.node_index([node]))[0])
        np.testing.assert_array_equal(h.feature_block(modality).lower,
                                      g.feature_block(modality).lower)
    # removing propanol too orphans the shared profile
    assert "cp:shared" not in ids(g.without_molecules(["CCO", "CCCO"]))
    # orphans="keep": only molecules leave
    kept = g.without_molecules(["CCO", "CC(=O)O"], orphans="keep")
    assert ids(g) - ids(kept) == {"mol:eth", "mol:ace"}


def test_raw_match_and_nothing_to_remove():
    g = graph_with_profiles()
    h, report = g.without_molecules(["NCC(=O)O", "CCCCCCCC", "bad smiles"],
                                    return_report=True)
    assert ids(g) - ids(h) == {"mol:gly"}
    assert report.n_parent_only == 0 and report.n_invalid_inputs == 1 and report.n_inputs == 3
    assert "1 input(s) were not valid molecules" in str(report)
    unchanged = g.without_molecules(["c1ccccc1"])
    assert unchanged.content_hash == g.content_hash


def test_result_saves_and_loads_with_its_hash(tmp_path):
    g = graph_with_profiles()
    h = g.without_molecules(["CCO"])
    loaded = ContextGraph.load(h.save(tmp_path / "g"))
    assert loaded.content_hash == h.content_hash
    assert ids(loaded) == ids(h)
    # the parent keys are a cache, not state: a pickle round trip recomputes them
    import pickle
    g.molecule_parent_inchikey14()
    assert "_parent_keys" not in g.__getstate__()
    assert pickle.loads(pickle.dumps(g)).content_hash == g.content_hash


def test_bad_options_are_clear_errors():
    g = graph_with_profiles()
    with pytest.raises(ValueError, match="match must be one of"):
        g.without_molecules(["CCO"], match="fuzzy")
    with pytest.raises(ValueError, match="orphans must be one of"):
        g.without_molecules(["CCO"], orphans="drop")
    with pytest.raises(TypeError, match="SMILES strings or RDKit Mol"):
        g.without_molecules([1.5j])
    assert isinstance(g.without_molecules(["CCO"], return_report=True)[1], MoleculeRemoval)
