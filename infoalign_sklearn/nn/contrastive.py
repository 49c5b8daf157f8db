"""A CLIP-style molecule / profile model and its symmetric InfoNCE loss (torch only).

The molecule side is the InfoAlign encoder unchanged (:class:`GaussianEncoder`); its mean head
``mu`` is the molecule embedding and the scale head is left unused, so that the encoder's
weights stay interchangeable with InfoAlign's (and with the published checkpoints). Each profile
modality gets an MLP encoder into the same space. This is the family of CLOOME (molecules vs.
Cell Painting images) and InfoCORE (molecules vs. profiles), reduced to what both share.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .encoder import GaussianEncoder, upgrade_state_dict
from .mlp import MLP

# CLIP caps the learnable inverse temperature at 100 so that logits cannot blow up
MAX_LOGIT_SCALE = math.log(100.0)


class ContrastiveModel(nn.Module):
    """GIN molecule encoder plus one MLP profile encoder per modality.

    ``forward(graphs)`` gives the :class:`GaussianEncoder`'s ``(mu, sigma)`` (``mu`` is the
    molecule embedding); ``profile_encoders[modality](profiles)`` embeds [0, 1]-scaled profiles;
    ``logit_scale`` is log(1 / temperature), a parameter when the temperature is learnt.
    Weights saved when the model inherited its encoder load as they are.
    """

    def __init__(self, profile_dims: dict[str, int], num_layers: int = 5, hidden_dim: int = 300,
                 latent_dim: int = 300, dropout: float = 0.5, readout: str = "sum",
                 temperature: float = 0.1, learn_temperature: bool = True):
        super().__init__()
        self.encoder = GaussianEncoder(num_layers, hidden_dim, latent_dim, dropout, readout)
        self.profile_encoders = nn.ModuleDict(
            {m: MLP(d, hidden_dim, latent_dim, dropout) for m, d in profile_dims.items()}
        )
        scale = torch.tensor(math.log(1.0 / temperature), dtype=torch.float32)
        if learn_temperature:
            self.logit_scale = nn.Parameter(scale)
        else:
            self.register_buffer("logit_scale", scale)
        self._register_load_state_dict_pre_hook(upgrade_state_dict)

    def forward(self, graphs) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(graphs)

    def temperature(self) -> float:
        """Current temperature (1 / exp(logit_scale), with the cap applied)."""
        return float(torch.exp(-self.logit_scale.detach().clamp(max=MAX_LOGIT_SCALE)))


def symmetric_info_nce(molecules: torch.Tensor, profiles: torch.Tensor, positives: torch.Tensor,
                       logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE between k molecule and k profile embeddings (cosine logits).

    Parameters
    ----------
    molecules, profiles : Tensor of shape (k, d)
        Row i of each is a linked pair.
    positives : bool Tensor of shape (k, k)
        ``positives[i, j]``: molecule i is linked to profile j. The diagonal must be true; other
        true entries (a molecule linked to several profiles in the batch, or two molecules
        sharing one) share the target mass instead of being pushed apart as negatives.
    logit_scale : Tensor (scalar)
        log of the inverse temperature; capped at log(100).

    Returns
    -------
    loss : Tensor (scalar)
        Mean of the molecule->profile and profile->molecule cross-entropies.
    """
    scale = logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
    logits = scale * F.normalize(molecules, dim=1) @ F.normalize(profiles, dim=1).T
    targets = positives.to(logits.dtype)
    to_profiles = -(targets / targets.sum(1, keepdim=True) * F.log_softmax(logits, 1)).sum(1).mean()
    to_molecules = -(targets / targets.sum(0, keepdim=True) * F.log_softmax(logits, 0)).sum(0).mean()
    return 0.5 * (to_profiles + to_molecules)
