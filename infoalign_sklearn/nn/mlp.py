"""The one MLP block of the package's models (torch only)."""

from __future__ import annotations

from torch import nn


class MLP(nn.Module):
    """Linear -> BatchNorm -> GELU -> Dropout -> Linear: the InfoAlign decoders and the
    contrastive profile encoders (submodule names ``fc1``, ``bn1``, ``fc2`` are those of the
    saved weights)."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, dropout: float = 0.5):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden_dim)
        self.bn1 = nn.BatchNorm1d(hidden_dim)
        self.act = nn.GELU()
        self.drop1 = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden_dim, out_dim)

    def forward(self, z):
        return self.fc2(self.drop1(self.act(self.bn1(self.fc1(z)))))


#: The name the decoders had before :class:`MLP` served the profile encoders too.
MLPDecoder = MLP
