"""The InfoAlign model (encoder + one decoder per modality) and its pretraining loss.

Loss for a batch of molecules, each with one random walk of path weights ``w``:

    loss = sum_m  L_m  +  beta * KL(q(z|x) || N(0, I))
    L_m  = sum_{(i, v, j) observed} w_iv * BCE(decoder_m(mu_i)_j, y_vj) / #observed(m)

where ``v`` runs over walk nodes of molecule ``i`` that carry modality ``m`` and ``j`` over
that block's columns with a finite target. Dividing by the number of observed entries makes each
modality's term a mean per entry, so a block with 1,000 columns weighs the same as one with 100,
and a batch in which a modality is rare is not down-weighted. Entries reached through an edge of
weight 0 still count in the denominator, as in the authors' code; steps after a walk got stuck
(node -1) add nothing.

Decoders read the mean ``mu``, not a sample of z, as the authors' model does: the representation
used downstream is ``mu``, and ``sigma`` is shaped by the KL term alone.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .encoder import GaussianEncoder, upgrade_state_dict
from .mlp import MLP


class InfoAlignModel(nn.Module):
    """Gaussian GIN encoder and an MLP decoder per modality (fed the mean ``mu``).

    ``forward(graphs)`` gives the encoder's ``(mu, sigma)``; ``decoders[modality](mu)`` gives
    logits. Weights saved when the model inherited its encoder (keys without ``encoder.``)
    load as they are (:func:`~infoalign_sklearn.nn.encoder.upgrade_state_dict`).
    """

    def __init__(self, decoder_dims: dict[str, int], num_layers: int = 5, hidden_dim: int = 300,
                 latent_dim: int = 300, dropout: float = 0.5, readout: str = "sum",
                 decoder_dropout: float = 0.5):
        super().__init__()
        self.encoder = GaussianEncoder(num_layers, hidden_dim, latent_dim, dropout, readout)
        self.decoders = nn.ModuleDict(
            {m: MLP(latent_dim, 4 * latent_dim, d, decoder_dropout)
             for m, d in decoder_dims.items()}
        )
        self._register_load_state_dict_pre_hook(upgrade_state_dict)

    def forward(self, graphs) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(graphs)


def kl_to_standard_normal(mu: torch.Tensor, sigma: torch.Tensor,
                          reduction: str = "mean") -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) summed over dimensions, averaged over the batch
    (``reduction="sum"``: summed over it, for a share of a batch split between processes)."""
    per_molecule = (mu.pow(2) + sigma.pow(2) - 1.0 - 2.0 * torch.log(sigma)).sum(1)
    return 0.5 * (per_molecule.sum() if reduction == "sum" else per_molecule.mean())


def modality_loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor,
                  count: int | None = None):
    """Weighted BCE over observed (finite) target entries, averaged per observed entry.

    ``logits`` and ``targets`` are (k, d) for k (molecule, walk node) pairs, ``weights`` (k,).
    Returns None when nothing is observed. ``count``: the denominator instead of the number
    of observed entries here (a process's share of a batch split between processes).
    """
    observed = torch.isfinite(targets)
    if count is None:
        count = observed.sum()
        if count == 0:
            return None
    safe_targets = torch.where(observed, targets, torch.zeros_like(targets))
    per_entry = F.binary_cross_entropy_with_logits(logits, safe_targets, reduction="none")
    per_entry = per_entry * weights.unsqueeze(1) * observed
    return per_entry.sum() / count
