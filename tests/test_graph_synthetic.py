"""The SIMULATED context: real molecules, profiles driven by hidden mechanisms."""

import time

import numpy as np
import pytest
from rdkit import Chem

from infoalign_sklearn import make_synthetic_context


@pytest.fixture(scope="module")
def ctx():
    return make_synthetic_context(200, n_held_out=40, random_state=0)


def test_labelled_simulated_everywhere(ctx):
    assert ctx.graph.simulated
    assert "SIMULATED" in ctx.graph.summary() and "SIMULATED" in ctx.summary()
    assert "SIMULATED" in (make_synthetic_context.__doc__ or "")


def test_held_out_molecules_are_not_in_the_graph(ctx):
    assert len(ctx.smiles) == 200 and ctx.held_out.sum() == 40
    index = ctx.graph.molecule_index(ctx.smiles)
    assert (index[ctx.held_out] == -1).all()
    assert (index[~ctx.held_out] >= 0).all()
    assert ctx.graph.molecule_nodes.size == 160


def test_mechanisms_are_the_substructure_matches(ctx):
    assert ctx.mechanisms.shape == (200, len(ctx.mechanism_smarts))
    for name, smarts in ctx.mechanism_smarts.items():
        pattern = Chem.MolFromSmarts(smarts)
        expected = [Chem.MolFromSmiles(s).HasSubstructMatch(pattern) for s in ctx.smiles]
        assert ctx.mechanisms[name].tolist() == expected
        assert 0.03 < ctx.mechanisms[name].mean() < 0.6


def test_graph_profiles_are_noisy_versions_of_the_truth(ctx):
    g = ctx.graph
    block = g.feature_block("morphology")
    cp_nodes = g.node_index([f"cp:{i}" for i in range(200)])
    has = cp_nodes >= 0
    assert 0.5 < has[~ctx.held_out].mean() < 1.0  # missing blocks exist
    observed = g.inverse_scale("morphology", block.take(cp_nodes[has]))
    truth = ctx.true_profiles(np.asarray(ctx.smiles)[has], "morphology")
    assert truth.shape == observed.shape and truth.shape[1] == len(block.columns)
    ok = ~np.isnan(observed)
    assert np.corrcoef(observed[ok], truth[ok])[0, 1] > 0.9
    expr = g.feature_block("expression")
    assert 0 < (expr.rows >= 0).sum() < has.sum()


def test_truth_depends_on_mechanisms_and_on_more_than_them(ctx):
    truth = ctx.true_profiles(ctx.smiles, "expression")
    labels = ctx.mechanisms.to_numpy()
    k = 0
    gap = np.abs(truth[labels[:, k]].mean(0) - truth[~labels[:, k]].mean(0)).max()
    assert gap > 1.0  # the mechanism moves its target genes
    # two molecules with the same mechanisms still differ: structure matters beyond labels
    none = np.flatnonzero(~labels.any(axis=1))
    assert np.abs(truth[none[0]] - truth[none[1]]).max() > 0.05
    held = ctx.true_profiles(np.asarray(ctx.smiles)[ctx.held_out], "morphology")
    assert np.isfinite(held).all()
    assert np.isnan(ctx.true_profiles(["not a smiles"], "morphology")).all()


def test_expression_edges_point_to_mechanism_targets(ctx):
    g = ctx.graph
    edges = g.edges()
    expr = edges[edges["kind"] == "expression"]
    assert len(expr) > 0
    target_ids = {t for ids in ctx.targets.values() for t in ids}
    genes = set(g.node_ids[expr[["source", "target"]].to_numpy().ravel()]) & target_ids
    assert len(genes) > 0


def test_reproducible_and_fast():
    start = time.perf_counter()
    a = make_synthetic_context(300, random_state=1)
    assert time.perf_counter() - start < 3.0
    b = make_synthetic_context(300, random_state=1)
    c = make_synthetic_context(300, random_state=2)
    assert a.graph.content_hash == b.graph.content_hash
    assert a.graph.content_hash != c.graph.content_hash
