"""Embedders pickled by the code before the ``embedders`` package still load and embed.

tests/data/pickled_v0.1.0 holds an InfoAlignEmbedder and a ContrastiveEmbedder pickled by that
code (``make_pickles.py`` there): their classes and graph reference are named by the old module
paths (``infoalign_sklearn.contrastive``, ``infoalign_sklearn._torch_base``) and their weights
by the old keys (the models then inherited their encoder).
"""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from infoalign_sklearn import ContrastiveEmbedder, InfoAlignEmbedder
from infoalign_sklearn.embedders import GraphReference

PICKLED = Path(__file__).parent / "data" / "pickled_v0.1.0"
EXPECTED = json.loads((PICKLED / "expected.json").read_text())


@pytest.mark.parametrize("name, cls", [("infoalign", InfoAlignEmbedder),
                                       ("contrastive", ContrastiveEmbedder)])
def test_pickles_of_earlier_code_load_and_embed_as_before(name, cls):
    model = pickle.loads((PICKLED / f"{name}.pkl").read_bytes())
    assert type(model) is cls and isinstance(model.context_graph, GraphReference)
    expected = np.asarray(EXPECTED[name], dtype=np.float32)
    np.testing.assert_allclose(model.transform(EXPECTED["molecules"]), expected, rtol=1e-4,
                               atol=1e-5 * max(1.0, float(np.abs(expected).max())))
