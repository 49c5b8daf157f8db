"""A model pretrained on a SIMULATED graph says so: saved config, repr, warning on load,
evaluation tables; the KL term is shown weighted by beta."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn import (
    ContextGraph,
    ContrastiveEmbedder,
    InfoAlignEmbedder,
    SimulatedDataWarning,
    make_synthetic_context,
)
from infoalign_sklearn.benchmark import evaluate_csv

TINY = dict(latent_dim=8, hidden_dim=8, num_layers=2, batch_size=32, max_epochs=1,
            random_state=0)


@pytest.fixture(scope="module")
def simulated():
    return make_synthetic_context(n_molecules=80, n_held_out=40, random_state=0)


@pytest.fixture(scope="module")
def simulated_model(simulated):
    return InfoAlignEmbedder(simulated.graph, **TINY).fit()


@pytest.fixture(scope="module")
def real_like_graph(simulated):
    # the same tables built without the SIMULATED label: what a user's measured graph looks like
    tables = simulated.tables
    return ContextGraph.from_tables(
        tables["molecules"], tables["profiles"], genes=tables["genes"], links=tables["links"],
        aggregate_replicates=tables["aggregate_replicates"],
    )


def test_simulated_model_says_so_everywhere(simulated_model, tmp_path):
    assert simulated_model.graph_reference_.simulated is True
    assert "SIMULATED" in repr(simulated_model)
    simulated_model.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["graph_reference"]["simulated"] is True
    with pytest.warns(SimulatedDataWarning, match="SIMULATED"):
        loaded = InfoAlignEmbedder.from_pretrained(tmp_path / "m")
    assert "SIMULATED" in repr(loaded)


def test_model_of_a_measured_graph_is_quiet(real_like_graph, tmp_path):
    assert not real_like_graph.simulated
    model = InfoAlignEmbedder(real_like_graph, **TINY).fit()
    assert model.graph_reference_.simulated is False
    assert "SIMULATED" not in repr(model)
    model.save_pretrained(tmp_path / "m")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SimulatedDataWarning)
        InfoAlignEmbedder.from_pretrained(tmp_path / "m")


def test_contrastive_model_carries_the_label(simulated, tmp_path):
    model = ContrastiveEmbedder(simulated.graph, **TINY).fit()
    assert "SIMULATED" in repr(model)
    model.save_pretrained(tmp_path / "c")
    with pytest.warns(SimulatedDataWarning):
        ContrastiveEmbedder.from_pretrained(tmp_path / "c")


def test_config_written_before_the_label_loads_without_a_claim(simulated_model, tmp_path):
    simulated_model.save_pretrained(tmp_path / "m")
    path = tmp_path / "m" / "config.json"
    config = json.loads(path.read_text())
    del config["graph_reference"]["simulated"]
    path.write_text(json.dumps(config))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SimulatedDataWarning)
        loaded = InfoAlignEmbedder.from_pretrained(tmp_path / "m")
    assert loaded.graph_reference_.simulated is None


def test_evaluate_tables_label_simulated_pretraining(simulated, simulated_model, tmp_path):
    simulated_model.save_pretrained(tmp_path / "m")
    idx = np.flatnonzero(simulated.held_out)
    table = pd.DataFrame({"smiles": [simulated.smiles[i] for i in idx],
                          "y": simulated.mechanisms.iloc[idx, 0].to_numpy(int)})
    table.to_csv(tmp_path / "data.csv", index=False)
    with pytest.warns(SimulatedDataWarning):
        result = evaluate_csv(tmp_path / "data.csv", target_columns=["y"],
                              model_dir=tmp_path / "m", n_splits=2, models=("rf",))
    labels = set(result["representation"])
    assert "InfoAlign (SIMULATED graph)" in labels and "Morgan FP" in labels


def test_progress_shows_beta_weighted_kl(simulated_model):
    record = simulated_model.loss_history_[-1]
    assert record["beta_kl"] == pytest.approx(simulated_model.beta * record["kl"], rel=1e-6)
