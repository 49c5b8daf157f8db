import math

import numpy as np
import torch

from infoalign_sklearn.chem import collate_graphs, featurize_graphs
from infoalign_sklearn.nn import (
    ContrastiveModel,
    InfoAlignModel,
    kl_to_standard_normal,
    modality_loss,
)
from infoalign_sklearn.nn.encoder import ENCODER_PARTS


def small_model(**kw):
    return InfoAlignModel({"fingerprint": 16, "morphology": 5}, num_layers=2, hidden_dim=8,
                          latent_dim=4, **kw)


def test_state_dict_uses_the_published_layer_names():
    # the encoder's names: the model holds it as ``encoder`` (keys ``encoder.graph_encoder...``)
    keys = set(InfoAlignModel({"fingerprint": 8}).encoder.state_dict())
    for key in (
        "graph_encoder.atom_encoder.atom_embedding_list.0.weight",
        "graph_encoder.convs.4.mlp.0.weight",
        "graph_encoder.convs.0.eps",
        "graph_encoder.convs.0.bond_encoder.bond_embedding_list.2.weight",
        "graph_encoder.batch_norms.4.running_mean",
        "graph_encoder.virtualnode_embedding.weight",
        "graph_encoder.mlp_virtualnode_list.3.4.weight",
        "dist_net.1.weight",
    ):
        assert key in keys, key
    assert InfoAlignModel({"fingerprint": 8}).encoder.state_dict()["dist_net.1.weight"].shape == (600, 300)


def test_weights_of_models_that_inherited_their_encoder_still_load():
    # before the models held their encoder, its keys had no "encoder." prefix
    source = small_model()
    with torch.no_grad():
        for p in source.parameters():
            p.add_(torch.randn_like(p))
    state = source.state_dict()
    old = {k.removeprefix("encoder."): v for k, v in state.items()}
    assert "graph_encoder.convs.0.eps" in old and "dist_net.1.weight" in old
    for model in (small_model(), ContrastiveModel({"morphology": 5}, num_layers=2, hidden_dim=8,
                                                   latent_dim=4)):
        encoder_old = {k: v for k, v in old.items() if k.split(".")[0] in ENCODER_PARTS}
        missing, unexpected = model.load_state_dict(encoder_old, strict=False)
        assert not unexpected and not any(k.startswith("encoder.") for k in missing)
        for key, value in model.encoder.state_dict().items():
            torch.testing.assert_close(value, old[key])
    restored = small_model()
    restored.load_state_dict(old)  # strict: every key found under its new name
    graphs, _ = featurize_graphs(["CCO", "c1ccccc1"])
    with torch.no_grad():
        torch.testing.assert_close(restored.eval()(collate_graphs(graphs))[0],
                                   source.eval()(collate_graphs(graphs))[0])


def test_encoder_outputs_gaussian_parameters_per_molecule():
    graphs, _ = featurize_graphs(["CCO", "c1ccccc1", "[Na+].[Cl-]"])
    model = small_model().eval()
    mu, sigma = model(collate_graphs(graphs))
    assert mu.shape == sigma.shape == (3, 4)
    assert (sigma > 0).all()


def test_representation_does_not_depend_on_batch_neighbours_in_eval():
    graphs, _ = featurize_graphs(["CCO", "c1ccccc1", "CCN"])
    model = small_model().eval()
    with torch.no_grad():
        together = model(collate_graphs(graphs))[0]
        alone = model(collate_graphs(graphs[1:2]))[0]
    # one molecule against three: other GEMM shapes round differently in float32 (up to ~7e-7 of
    # the largest value on the CPUs tried), so the bound scales with the values; a neighbour
    # leaking into the representation changes it by far more
    torch.testing.assert_close(together[1:2], alone, rtol=1e-4,
                               atol=1e-5 * float(alone.abs().max()))


def test_modality_loss_ignores_nan_entries_and_weights_rows():
    logits = torch.zeros(2, 3)
    targets = torch.tensor([[1.0, float("nan"), 0.0], [1.0, 1.0, float("nan")]])
    weights = torch.tensor([1.0, 0.0])
    loss = modality_loss(logits, targets, weights)
    # 4 observed entries, BCE(0 logit) = log 2 each; the second row has weight 0
    assert math.isclose(float(loss), 2 * math.log(2) / 4, rel_tol=1e-6)
    assert modality_loss(logits, torch.full((2, 3), float("nan")), weights) is None


def test_modality_loss_gradient_is_finite_with_nan_targets():
    logits = torch.zeros(1, 2, requires_grad=True)
    loss = modality_loss(logits, torch.tensor([[float("nan"), 1.0]]), torch.ones(1))
    loss.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad[0, 0] == 0


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    assert float(kl_to_standard_normal(torch.zeros(3, 2), torch.ones(3, 2))) == 0.0
    assert float(kl_to_standard_normal(torch.ones(3, 2), torch.ones(3, 2))) > 0


def test_mean_and_max_readouts():
    graphs, _ = featurize_graphs(["CCO", "CCCCCC"])
    batch = collate_graphs(graphs)
    for readout in ("mean", "max"):
        mu, _ = small_model(readout=readout).eval()(batch)
        assert np.isfinite(mu.detach().numpy()).all()
