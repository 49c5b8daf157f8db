"""GIN molecule encoder with a virtual node, over OGB categorical features (torch only).

The architecture is the one published with InfoAlign: atom / bond embedding tables summed over
the categorical features, ``num_layers`` GIN convolutions (MLP hidden 2x, batch norm, ReLU but
after the last layer, dropout, residual connections), a virtual node updated by an MLP between
layers, and a sum readout. Submodule names and shapes follow the authors' checkpoints
(``graph_encoder.atom_encoder.atom_embedding_list.0.weight``, ``graph_encoder.convs.0.mlp.0``,
``dist_net.1``, ...) so their weights can be mapped in (:mod:`.authors` does it; their
embedding tables also renormalise rows to norm 1 on lookup, ``max_norm=1``, which the loader
applies to the weights once).

Message passing uses ``index_add_`` directly: torch-scatter is not available everywhere and a
sum aggregation needs nothing more.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..chem.graphs import ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS


def _embedding_tables(dims: tuple[int, ...], emb_dim: int) -> nn.ModuleList:
    tables = nn.ModuleList(nn.Embedding(d, emb_dim) for d in dims)
    for table in tables:
        nn.init.xavier_uniform_(table.weight)
    return tables


def _sum_of_embeddings(tables: nn.ModuleList, codes: torch.Tensor) -> torch.Tensor:
    out = tables[0](codes[:, 0])
    for i in range(1, len(tables)):
        out = out + tables[i](codes[:, i])
    return out


class AtomEncoder(nn.Module):
    """Sum of one embedding per categorical atom feature."""

    def __init__(self, emb_dim: int):
        super().__init__()
        self.atom_embedding_list = _embedding_tables(ATOM_FEATURE_DIMS, emb_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _sum_of_embeddings(self.atom_embedding_list, x)


class BondEncoder(nn.Module):
    """Sum of one embedding per categorical bond feature."""

    def __init__(self, emb_dim: int):
        super().__init__()
        self.bond_embedding_list = _embedding_tables(BOND_FEATURE_DIMS, emb_dim)

    def forward(self, edge_attr: torch.Tensor) -> torch.Tensor:
        return _sum_of_embeddings(self.bond_embedding_list, edge_attr)


def sum_by_index(values: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    out = values.new_zeros((size, values.shape[1]))
    return out.index_add_(0, index, values)


class GINConv(nn.Module):
    """GIN convolution with bond features: MLP((1 + eps) h_i + sum_j ReLU(h_j + e_ij))."""

    def __init__(self, emb_dim: int):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(emb_dim, 2 * emb_dim), nn.BatchNorm1d(2 * emb_dim), nn.ReLU(),
            nn.Linear(2 * emb_dim, emb_dim),
        )
        self.eps = nn.Parameter(torch.zeros(1))
        self.bond_encoder = BondEncoder(emb_dim)

    def forward(self, h, edge_index, edge_attr):
        messages = F.relu(h[edge_index[0]] + self.bond_encoder(edge_attr))
        aggregated = sum_by_index(messages, edge_index[1], h.shape[0])
        return self.mlp((1 + self.eps) * h + aggregated)


class GINVirtualNode(nn.Module):
    """Node-level GIN stack with a virtual node; returns node representations."""

    def __init__(self, num_layers: int = 5, emb_dim: int = 300, dropout: float = 0.5,
                 residual: bool = True):
        super().__init__()
        if num_layers < 2:
            raise ValueError(f"num_layers must be at least 2, got {num_layers}")
        self.num_layers = num_layers
        self.dropout = dropout
        self.residual = residual
        self.atom_encoder = AtomEncoder(emb_dim)
        self.virtualnode_embedding = nn.Embedding(1, emb_dim)
        nn.init.zeros_(self.virtualnode_embedding.weight)
        self.convs = nn.ModuleList(GINConv(emb_dim) for _ in range(num_layers))
        self.batch_norms = nn.ModuleList(nn.BatchNorm1d(emb_dim) for _ in range(num_layers))
        self.mlp_virtualnode_list = nn.ModuleList(
            nn.Sequential(
                nn.Linear(emb_dim, 2 * emb_dim), nn.BatchNorm1d(2 * emb_dim), nn.ReLU(),
                nn.Linear(2 * emb_dim, emb_dim), nn.BatchNorm1d(emb_dim), nn.ReLU(),
            )
            for _ in range(num_layers - 1)
        )

    def forward(self, x, edge_index, edge_attr, batch, num_graphs: int) -> torch.Tensor:
        virtual = self.virtualnode_embedding.weight.expand(num_graphs, -1)
        h = self.atom_encoder(x)
        for layer in range(self.num_layers):
            h_in = h + virtual[batch]
            h = self.batch_norms[layer](self.convs[layer](h_in, edge_index, edge_attr))
            if layer < self.num_layers - 1:
                h = F.relu(h)
            h = F.dropout(h, self.dropout, training=self.training)
            if self.residual:
                h = h + h_in
            if layer < self.num_layers - 1:
                pooled = sum_by_index(h_in, batch, num_graphs) + virtual
                update = F.dropout(
                    self.mlp_virtualnode_list[layer](pooled), self.dropout, training=self.training
                )
                virtual = virtual + update if self.residual else update
        return h


class GaussianEncoder(nn.Module):
    """Molecule graph -> (mu, sigma) of the Gaussian q(z | x)."""

    def __init__(self, num_layers: int = 5, hidden_dim: int = 300, latent_dim: int = 300,
                 dropout: float = 0.5, readout: str = "sum"):
        super().__init__()
        if readout not in ("sum", "mean", "max"):
            raise ValueError(f"readout must be 'sum', 'mean' or 'max', got {readout!r}")
        self.readout = readout
        self.graph_encoder = GINVirtualNode(num_layers, hidden_dim, dropout)
        self.dist_net = nn.Sequential(nn.SiLU(), nn.Linear(hidden_dim, 2 * latent_dim))

    def pool(self, h, batch, num_graphs: int) -> torch.Tensor:
        if self.readout == "sum":
            return sum_by_index(h, batch, num_graphs)
        if self.readout == "mean":
            counts = torch.bincount(batch, minlength=num_graphs).clamp(min=1).unsqueeze(1)
            return sum_by_index(h, batch, num_graphs) / counts
        out = h.new_full((num_graphs, h.shape[1]), float("-inf"))
        return out.scatter_reduce(0, batch.unsqueeze(1).expand_as(h), h, reduce="amax")

    def forward(self, graphs) -> tuple[torch.Tensor, torch.Tensor]:
        num_graphs = int(graphs.num_graphs)
        h = self.graph_encoder(graphs.x, graphs.edge_index, graphs.edge_attr, graphs.batch, num_graphs)
        mu, raw_scale = self.dist_net(self.pool(h, graphs.batch, num_graphs)).chunk(2, dim=1)
        return mu, F.softplus(raw_scale) + 1e-7


#: Top-level submodules of :class:`GaussianEncoder`, the keys it owns in a model's state dict.
ENCODER_PARTS = ("graph_encoder", "dist_net")


def upgrade_state_dict(state_dict, prefix, *args) -> None:
    """Rename, in place, the encoder keys of weights saved when a model inherited its encoder
    (``graph_encoder.*``, ``dist_net.*``) to those of a model holding it (``encoder.*``).

    Registered as a load-state-dict pre-hook by the models, so ``load_state_dict`` accepts
    both layouts wherever the weights come from (``from_pretrained``, a pickle, a checkpoint).
    """
    for key in [k for k in state_dict if k.startswith(prefix)]:
        if key[len(prefix):].split(".", 1)[0] in ENCODER_PARTS:
            state_dict[f"{prefix}encoder.{key[len(prefix):]}"] = state_dict.pop(key)
