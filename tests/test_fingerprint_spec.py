"""The fingerprint spec travels with the graph: builders, saved files and fit(X) agree."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn import ContextGraph, InfoAlignEmbedder
from infoalign_sklearn.chem import FingerprintSpec, morgan_fingerprints

# saved by the code before the spec was recorded (format 1): options say radius 4, 64 bits
FORMAT1_GRAPH = Path(__file__).parent / "data" / "graph_format1_radius4"

MOLECULES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC"]
# not in the graph; their radius-2 and radius-4 fingerprints differ
NEW = ["CC(C)Cc1ccc(C(C)C(=O)O)cc1", "CN1CCC[C@H]1c1cccnc1", "O=C(O)c1ccccc1OC(C)=O"]


def _graph(**options) -> ContextGraph:
    mols = pd.DataFrame({"id": [f"mol:{i}" for i in range(4)], "smiles": MOLECULES})
    cp = pd.DataFrame({"f1": [0.1, 0.4, 0.9], "f2": [1.0, 2.0, 0.5]},
                      index=["cp:0", "cp:1", "cp:2"])
    links = pd.DataFrame({"source": ["mol:0", "mol:1", "mol:2"],
                          "target": ["cp:0", "cp:1", "cp:2"], "kind": "perturbation"})
    return ContextGraph.from_tables(mols, {"morphology": cp}, links=links,
                                    similarity_modalities=(), **options)


def test_spec_validates_and_round_trips():
    spec = FingerprintSpec(radius=4, n_bits=128, counts=True)
    assert FingerprintSpec.from_dict(spec.to_dict()) == spec
    assert str(spec) == "Morgan radius 4, 128 counts"
    with pytest.raises(ValueError, match="radius"):
        FingerprintSpec(radius=-1)
    with pytest.raises(TypeError, match="n_bits"):
        FingerprintSpec(n_bits=12.5)
    with pytest.raises(ValueError, match="unknown"):
        FingerprintSpec.from_dict({"radius": 2, "bits": 64})


def test_graph_records_its_spec_and_builds_with_it(tmp_path):
    graph = _graph(fingerprint_radius=4, fingerprint_bits=256)
    spec = graph.fingerprint_spec
    assert spec == FingerprintSpec(4, 256, False)
    block = graph.feature_block("fingerprint")
    rows = block.take(graph.molecule_nodes)
    np.testing.assert_array_equal(rows, morgan_fingerprints(MOLECULES, radius=4, n_bits=256))
    assert "Morgan radius 4, 256 bits" in graph.summary()
    graph.save(tmp_path / "g")
    assert ContextGraph.load(tmp_path / "g").fingerprint_spec == spec


def test_fit_with_new_molecules_uses_the_graph_radius():
    graph = _graph(fingerprint_radius=4, fingerprint_bits=256)
    embedder = InfoAlignEmbedder(graph, latent_dim=8, hidden_dim=8, num_layers=2, max_epochs=1,
                                 batch_size=4, random_state=0)
    _, _, targets = embedder._training_molecules(graph, MOLECULES[:2] + NEW)
    radius4 = morgan_fingerprints(NEW, radius=4, n_bits=256)
    assert not np.array_equal(radius4, morgan_fingerprints(NEW, radius=2, n_bits=256))
    np.testing.assert_array_equal(targets, radius4)
    embedder.fit(NEW)  # and the whole fit runs with them
    assert embedder.n_training_molecules_ == len(MOLECULES) + len(NEW)


def test_count_fingerprints_are_scaled_like_the_graph_block():
    graph = _graph(fingerprint_radius=2, fingerprint_bits=64, fingerprint_counts=True)
    assert graph.fingerprint_spec.counts
    block = graph.feature_block("fingerprint")
    assert not block.binary
    assert np.nanmax(block.values) <= 1.0 and np.nanmin(block.values) >= 0.0
    raw = morgan_fingerprints(MOLECULES, radius=2, n_bits=64, counts=True)
    np.testing.assert_allclose(block.inverse_scale(block.take(graph.molecule_nodes)), raw,
                               atol=1e-5)
    embedder = InfoAlignEmbedder(graph, latent_dim=8, hidden_dim=8, num_layers=2, max_epochs=1)
    _, _, targets = embedder._training_molecules(graph, NEW)
    assert targets.shape == (len(NEW), 64)
    assert targets.min() >= 0.0 and targets.max() <= 1.0
    new_raw = morgan_fingerprints(NEW, radius=2, n_bits=64, counts=True)
    span = np.where(block.upper > block.lower, block.upper - block.lower, 1.0)
    np.testing.assert_allclose(targets, np.clip((new_raw - block.lower) / span, 0, 1), atol=1e-6)


def test_precomputed_fingerprints_warn_when_new_molecules_need_them():
    bits = morgan_fingerprints(MOLECULES, radius=3, n_bits=32)
    mols = pd.DataFrame({"id": [f"mol:{i}" for i in range(4)], "smiles": MOLECULES})
    table = pd.DataFrame(bits.astype(np.uint8), index=mols["id"])
    graph = ContextGraph.from_tables(mols, {"fingerprint": table}, fingerprint_radius=3,
                                     similarity_modalities=())
    assert graph.fingerprint_spec == FingerprintSpec(3, 32, False)
    embedder = InfoAlignEmbedder(graph, latent_dim=8, hidden_dim=8, num_layers=2, max_epochs=1)
    with pytest.warns(UserWarning, match="precomputed"):
        _, _, targets = embedder._training_molecules(graph, NEW)
    np.testing.assert_array_equal(targets, morgan_fingerprints(NEW, radius=3, n_bits=32))


def test_graph_saved_before_the_spec_was_recorded_still_loads():
    graph = ContextGraph.load(FORMAT1_GRAPH)
    assert "fingerprint" not in graph.metadata  # the old files: radius only in the options
    assert graph.fingerprint_spec == FingerprintSpec(4, 64, False)
    embedder = InfoAlignEmbedder(graph, latent_dim=8, hidden_dim=8, num_layers=2, max_epochs=1)
    _, _, targets = embedder._training_molecules(graph, NEW)
    np.testing.assert_array_equal(targets, morgan_fingerprints(NEW, radius=4, n_bits=64))
