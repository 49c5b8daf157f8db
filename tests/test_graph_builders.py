"""ContextGraph.from_tables on small hand-made tables whose edges are known."""

import math

import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn import ContextGraph
from infoalign_sklearn.graph import minmax_scale, similarity_edges


def tables():
    molecules = pd.DataFrame({"id": ["mol:A", "mol:B", "mol:C", "mol:D"],
                              "smiles": ["CCO", "CCCO", "c1ccccc1", "CC(=O)O"]})
    morphology = pd.DataFrame(
        {"f1": [1.0, 2.0, 4.0], "f2": [2.0, 4.0, 3.0], "f3": [3.0, 6.0, 2.0],
         "f4": [4.0, 8.5, 1.0], "const": [3.0, 3.0, 3.0]},
        index=["cp:A", "cp:B", "cp:C"],
    )
    expression = pd.DataFrame({"TP53": [5.0, 0.2], "EGFR": [-0.1, -7.0], "XYZ": [9.0, 0.1]},
                              index=["ge:A", "ge:D"])
    genes = pd.DataFrame({"id": ["gene:TP53", "gene:EGFR"]})
    gene_profiles = pd.DataFrame({"f1": [0.5], "f2": [1.5]}, index=["gene:EGFR"])
    links = pd.DataFrame({
        "source": ["mol:A", "mol:B", "mol:C", "mol:A", "mol:D", "mol:C", "gene:TP53"],
        "target": ["cp:A", "cp:B", "cp:C", "ge:A", "ge:D", "gene:EGFR", "gene:EGFR"],
        "kind": ["perturbation"] * 5 + ["target", "interaction"],
        "weight": [1, 1, 1, 1, 1, 1, 0.5],
    })
    profiles = {"morphology": morphology, "expression": expression, "gene": gene_profiles}
    return molecules, profiles, genes, links


def edge_set(g):
    ids = g.node_ids
    return {(frozenset((ids[s], ids[t])), k, round(float(w), 4))
            for s, t, w, k in g.edges()[["source", "target", "weight", "kind"]].values}


def test_known_edges_from_links_similarity_and_expression():
    molecules, profiles, genes, links = tables()
    g = ContextGraph.from_tables(molecules, profiles, genes=genes, links=links,
                                 similarity_modalities=("morphology",), sparsity=0.0,
                                 similarity_threshold=0.8, expression_gene_fraction=0.34)
    a, b = profiles["morphology"].loc["cp:A"], profiles["morphology"].loc["cp:B"]
    pearson = round(float(np.corrcoef(a, b)[0, 1]), 4)
    expected = {
        (frozenset(("mol:A", "cp:A")), "perturbation", 1.0),
        (frozenset(("mol:B", "cp:B")), "perturbation", 1.0),
        (frozenset(("mol:C", "cp:C")), "perturbation", 1.0),
        (frozenset(("mol:A", "ge:A")), "perturbation", 1.0),
        (frozenset(("mol:D", "ge:D")), "perturbation", 1.0),
        (frozenset(("mol:C", "gene:EGFR")), "target", 1.0),
        (frozenset(("gene:TP53", "gene:EGFR")), "interaction", 0.5),
        # centred cosine (Pearson) of cp:A and cp:B ~ 0.99; cp:C is anti-correlated
        (frozenset(("cp:A", "cp:B")), "similarity", pearson),
        # top 34 % of the 6 |expression| entries: 9 (XYZ: no gene node), 7 (EGFR), 5 (TP53)
        (frozenset(("mol:A", "gene:TP53")), "expression", 1.0),
        (frozenset(("mol:D", "gene:EGFR")), "expression", 1.0),
    }
    assert edge_set(g) == expected
    assert g.nodes["node_id"].tolist() == ["mol:A", "mol:B", "mol:C", "mol:D", "cp:A", "cp:B",
                                           "cp:C", "ge:A", "ge:D", "gene:TP53", "gene:EGFR"]
    assert g.modalities == ("fingerprint", "morphology", "expression", "gene")
    assert g.feature_block("gene").has(g.node_index(["gene:EGFR", "gene:TP53"])).tolist() == [True, False]


def test_min_max_scaling_keeps_bounds_and_inverts():
    molecules, profiles, genes, links = tables()
    g = ContextGraph.from_tables(molecules, profiles, genes=genes, links=links,
                                 similarity_modalities=())
    block = g.feature_block("morphology")
    raw = profiles["morphology"]
    np.testing.assert_array_equal(block.lower, raw.min().to_numpy(np.float32))
    np.testing.assert_array_equal(block.upper, raw.max().to_numpy(np.float32))
    scaled = block.take(g.node_index(raw.index))
    assert np.nanmin(scaled) >= 0 and np.nanmax(scaled) <= 1
    np.testing.assert_array_equal(scaled[:, 4], 0.0)  # constant column
    np.testing.assert_allclose(g.inverse_scale("morphology", scaled)[:, :4],
                               raw.to_numpy()[:, :4], rtol=1e-6)
    fp = g.feature_block("fingerprint")
    assert fp.binary and fp.n_features == 1024
    assert set(np.unique(fp.values)) <= {0.0, 1.0}
    assert fp.has(g.molecule_nodes).all()


def test_minmax_scale_nan_and_constant_columns():
    values = np.array([[1.0, np.nan, 3.0], [3.0, np.nan, 3.0], [np.nan, np.nan, 3.0]], np.float32)
    scaled, lower, upper = minmax_scale(values.copy())
    np.testing.assert_array_equal(scaled[:, 0], [0.0, 1.0, np.nan])
    assert np.isnan(scaled[:, 1]).all() and np.isnan(lower[1])
    np.testing.assert_array_equal(scaled[:, 2], 0.0)


def test_identical_fingerprints_get_a_similarity_edge():
    molecules = pd.DataFrame({"id": ["m1", "m2", "m3"], "smiles": ["CCO", "OCC", "c1ccncc1"]})
    g = ContextGraph.from_tables(molecules, similarity_modalities=("fingerprint",), sparsity=0.0)
    assert edge_set(g) == {(frozenset(("m1", "m2")), "similarity", 1.0)}


def test_precomputed_fingerprints_are_used():
    molecules = pd.DataFrame({"id": ["m1", "m2"], "smiles": ["CCO", "CCN"]})
    bits = pd.DataFrame([[1, 0, 1], [0, 1, 1]], index=["m1", "m2"], columns=["b0", "b1", "b2"])
    g = ContextGraph.from_tables(molecules, {"fingerprint": bits}, similarity_modalities=())
    np.testing.assert_array_equal(g.feature_block("fingerprint").values, bits.to_numpy())
    bad = bits.astype(float)
    bad.iloc[0, 0] = 0.5
    with pytest.raises(ValueError, match=r"profiles\['fingerprint'\].*'b0'"):
        ContextGraph.from_tables(molecules, {"fingerprint": bad})


def test_replicates_are_median_aggregated_and_links_follow():
    molecules = pd.DataFrame({"id": ["mol:A"], "smiles": ["CCO"]})
    reps = pd.DataFrame({"f": [1.0, 5.0, 2.0, 0.0]},
                        index=["cp:A:r0", "cp:A:r1", "cp:A:r2", "cp:other"])
    groups = pd.Series({"cp:A:r0": "cp:A", "cp:A:r1": "cp:A", "cp:A:r2": "cp:A"})
    links = pd.DataFrame({"source": ["mol:A"], "target": ["cp:A:r1"], "kind": ["perturbation"]})
    g = ContextGraph.from_tables(molecules, {"morphology": reps}, links=links,
                                 aggregate_replicates={"morphology": groups},
                                 similarity_modalities=())
    assert g.nodes["node_id"].tolist() == ["mol:A", "cp:A", "cp:other"]
    assert g.inverse_scale("morphology", g.feature_block("morphology").take([1]))[0, 0] == 2.0
    assert edge_set(g) == {(frozenset(("mol:A", "cp:A")), "perturbation", 1.0)}


def brute_force(x, threshold, sparsity, centre):
    x = np.nan_to_num(x - (x.mean(1, keepdims=True) if centre else 0)).astype(np.float64)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = x @ x.T
    i, j = np.triu_indices(len(x), 1)
    s = sims[i, j]
    budget = math.ceil(round((1 - sparsity) * len(s), 6))
    order = np.lexsort((j, i, -s))[:budget]
    keep = order[s[order] >= threshold]
    return set(zip(i[keep].tolist(), j[keep].tolist()))


@pytest.mark.parametrize("sparsity", [0.0, 0.9, 0.99])
@pytest.mark.parametrize("centre", [False, True])
def test_block_similarity_equals_brute_force(sparsity, centre):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(8, 20))
    x = (centres[rng.integers(0, 8, 300)] + rng.normal(0, 0.6, (300, 20))).astype(np.float32)
    # tiny blocks force many blocks and repeated pruning of the candidate pool
    r, c, s = similarity_edges(x, 0.5, sparsity, centre=centre, max_block_bytes=4 * 300 * 7)
    got = set(zip(r.tolist(), c.tolist()))
    expected = brute_force(x, 0.5, sparsity, centre)
    # float32 vs float64 may swap pairs within 1e-6 of the cut; there are none here
    assert got == expected
    assert (r < c).all() and len(got) == r.size
    assert np.all((s >= 0.5) & (s <= 1.0))


def test_no_similarity_edges_for_zero_rows_or_below_threshold():
    x = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)
    r, _, _ = similarity_edges(x, threshold=0.0, sparsity=0.0)
    assert r.size == 1  # (1, 2) at similarity 0; the zero row is never a neighbour


def _drop(df, column):
    return df.drop(columns=[column])


@pytest.mark.parametrize("change, message", [
    (lambda m, p, g, lk: (_drop(m, "smiles"), p, g, lk), r"molecules: missing column.*smiles"),
    (lambda m, p, g, lk: (m.assign(id=["mol:A", "mol:A", "mol:C", "mol:D"]), p, g, lk),
     r"molecules: column 'id' has duplicate ids.*rows 0 \('mol:A'\), 1"),
    (lambda m, p, g, lk: (m.assign(smiles=["CCO", "C1CC", "c1ccccc1", "CC(=O)O"]), p, g, lk),
     r"molecules: column 'smiles' is not a valid molecule.*1 \('C1CC'\)"),
    (lambda m, p, g, lk: (m, p, g, lk.assign(target=lk.target.replace("cp:C", "cp:Q"))),
     r"links: column 'target' refers to unknown node ids.*2 \('cp:Q'\)"),
    (lambda m, p, g, lk: (m, p, g, lk.assign(weight=[1, 1, 1.5, 1, 1, 1, 0.5])),
     r"links: column 'weight' is missing or outside \[0, 1\].*2 \(1.5\)"),
    (lambda m, p, g, lk: (m, p, g, lk.assign(kind=["perturbation"] * 6 + ["friend"])),
     r"links: column 'kind' is not one of.*6 \('friend'\)"),
    (lambda m, p, g, lk: (m, {**p, "morphology": p["morphology"].assign(f2=[1, np.inf, 2])}, g, lk),
     r"profiles\['morphology'\]: column 'f2' has infinite values.*'cp:B' \(inf\)"),
    (lambda m, p, g, lk: (m, {**p, "expression": p["expression"].assign(TP53=["x", "y"])}, g, lk),
     r"profiles\['expression'\]: column 'TP53' is not numeric"),
    (lambda m, p, g, lk: (m, {**p, "gene": p["gene"].set_axis(["gene:KRAS"])}, g, lk),
     r"profiles\['gene'\]: column 'index' names ids not in genes\['id'\].*'gene:KRAS'"),
    (lambda m, p, g, lk: (m, p, pd.DataFrame({"id": ["gene:TP53", "gene:EGFR", "mol:A"]}), lk),
     r"node ids must be unique over the whole graph.*'mol:A'"),
])
def test_bad_tables_name_table_column_and_rows(change, message):
    molecules, profiles, genes, links = change(*tables())
    with pytest.raises(ValueError, match=message):
        ContextGraph.from_tables(molecules, profiles, genes=genes, links=links)
