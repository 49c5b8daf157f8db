"""The torch side of the multi-task MLP: the network, the masked loss and the skorch net.

NaN in ``y`` means "not measured": :func:`masked_loss` leaves those entries out, and
:class:`MaskedLossNet` is the skorch ``NeuralNet`` that uses it.
"""

from __future__ import annotations

import torch
from skorch import NeuralNet
from skorch.utils import to_tensor
from torch import nn

from ..nn.device import resolve_device
from ..nn.mlp import mlp_layers

__all__ = ["MLPModule", "MaskedLossNet", "masked_loss", "quiet", "resolve_device_name"]


class MLPModule(nn.Module):
    """The multi-task head: :func:`~infoalign_sklearn.nn.mlp.mlp_layers` as one Sequential."""

    def __init__(self, n_features, n_outputs, hidden_size, n_hidden_layers, dropout, batch_norm):
        super().__init__()
        self.layers = nn.Sequential(*mlp_layers(n_features, hidden_size, n_outputs,
                                                n_hidden_layers, dropout, batch_norm))

    def forward(self, X):
        return self.layers(X)


def masked_loss(criterion: nn.Module, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    """Apply ``criterion`` to the measured (non-NaN) entries of ``y_true`` only.

    ``y_true`` of shape (batch, n_tasks) pairs with ``y_pred`` of the same shape (one output
    per task); 1-D ``y_true`` with 2-D ``y_pred`` is a multi-class target (class indices).
    The criterion must average (``reduction="mean"``). A batch without any measured label
    returns a zero that still depends on ``y_pred``, so backward works.

    Examples
    --------
    >>> import torch
    >>> pred = torch.tensor([[0.5, 2.0], [0.5, -1.0]])
    >>> true = torch.tensor([[1.0, float("nan")], [0.0, float("nan")]])
    >>> float(masked_loss(torch.nn.L1Loss(), pred, true))
    0.5
    """
    measured = ~torch.isnan(y_true)
    if not measured.any():
        return (y_pred * 0.0).sum()
    if y_true.ndim == 1 and y_pred.ndim == 2:
        return criterion(y_pred[measured], y_true[measured].long())
    return criterion(y_pred[measured], y_true[measured])


class MaskedLossNet(NeuralNet):
    """skorch NeuralNet whose loss never sees unmeasured (NaN) labels."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        return masked_loss(self.criterion_, y_pred, y_true)


def resolve_device_name(device: str) -> str:
    """The torch device of ``device`` (``"auto"``: CUDA when available) as skorch's string."""
    return str(resolve_device(device))


def quiet(*args, **kwargs) -> None:
    """Sink for skorch's early-stopping message (it prints otherwise)."""
