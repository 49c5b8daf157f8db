"""The one MLP block of the package's models (torch only)."""

from __future__ import annotations

from torch import nn


def mlp_layers(in_dim: int, hidden_dim: int, out_dim: int, n_hidden_layers: int = 1,
               dropout: float = 0.5, batch_norm: bool = True) -> list[nn.Module]:
    """The package's MLP as a list of layers: ``n_hidden_layers`` blocks of Linear ->
    [BatchNorm] -> GELU -> Dropout, then a Linear output. :class:`MLP` is one hidden block with
    named submodules (the names saved weights use); the downstream heads stack these."""
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(n_hidden_layers):
        layers.append(nn.Linear(width, hidden_dim))
        if batch_norm:
            layers.append(nn.BatchNorm1d(hidden_dim))
        layers += [nn.GELU(), nn.Dropout(dropout)]
        width = hidden_dim
    layers.append(nn.Linear(width, out_dim))
    return layers


class MLP(nn.Module):
    """Linear -> BatchNorm -> GELU -> Dropout -> Linear: the InfoAlign decoders and the
    contrastive profile encoders (submodule names ``fc1``, ``bn1``, ``fc2`` are those of the
    saved weights)."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, dropout: float = 0.5):
        super().__init__()
        # the layers of mlp_layers(in_dim, hidden_dim, out_dim, 1, dropout), under their names
        self.fc1, self.bn1, self.act, self.drop1, self.fc2 = mlp_layers(
            in_dim, hidden_dim, out_dim, 1, dropout, batch_norm=True)

    def forward(self, z):
        return self.fc2(self.drop1(self.act(self.bn1(self.fc1(z)))))


#: The name the decoders had before :class:`MLP` served the profile encoders too.
MLPDecoder = MLP
