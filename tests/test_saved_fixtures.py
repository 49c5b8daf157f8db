"""Files saved by an earlier release still load and give the same numbers.

The fixtures in tests/data/saved_v0.1.0 were written by ``tests/data/make_fixtures.py`` with
release 0.1.0 (a SIMULATED context graph, an InfoAlignEmbedder and a ContrastiveEmbedder saved
with ``save_pretrained``, and their outputs on six molecules). Outputs are compared at a float32
tolerance scaled to the values: they were computed on another machine, perhaps another CPU.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from infoalign_sklearn import (
    ContextGraph,
    ContrastiveEmbedder,
    InfoAlignEmbedder,
    SimulatedDataWarning,
)

SAVED = Path(__file__).parent / "data" / "saved_v0.1.0"
EXPECTED = json.loads((SAVED / "expected.json").read_text())


def assert_close(actual, expected):
    expected = np.asarray(expected, dtype=np.float32)
    np.testing.assert_allclose(actual, expected, rtol=1e-4,
                               atol=1e-5 * max(1.0, float(np.abs(expected).max())))


def test_saved_graph_loads_unchanged():
    graph = ContextGraph.load(SAVED / "graph")
    assert graph.content_hash == EXPECTED["graph_content_hash"]
    assert graph.simulated and graph.fingerprint_spec.radius == 2


@pytest.mark.parametrize("name, cls", [("infoalign", InfoAlignEmbedder),
                                       ("contrastive", ContrastiveEmbedder)])
def test_saved_models_load_and_embed_as_before(name, cls):
    with pytest.warns(SimulatedDataWarning):
        model = cls.from_pretrained(SAVED / name, device="cpu")
    assert_close(model.transform(EXPECTED["molecules"]), EXPECTED["embeddings"][name])


def test_saved_infoalign_model_decodes_as_before():
    with pytest.warns(SimulatedDataWarning):
        model = InfoAlignEmbedder.from_pretrained(SAVED / "infoalign", device="cpu")
    assert_close(model.decode(EXPECTED["molecules"], "morphology"),
                 EXPECTED["infoalign_morphology"])


def test_saved_graph_trains_a_new_model():
    graph = ContextGraph.load(SAVED / "graph")
    model = InfoAlignEmbedder(graph, latent_dim=8, hidden_dim=8, num_layers=2, max_epochs=1,
                              batch_size=16, random_state=0).fit()
    assert model.transform(EXPECTED["molecules"]).shape == (6, 8)
