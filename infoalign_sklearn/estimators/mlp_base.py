"""What the two multi-task MLP heads share: parameters (and their documentation), validation,
the training loop with early stopping, the forward pass and the scikit-learn tags.

Subclasses (:mod:`.mlp`) define ``_encode_targets(y, fitting) -> (float32 targets, n_outputs)``
and ``_criterion()``.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_consistent_length, check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ..model_selection import scaffold_split_indices
from .networks import MaskedLossNet, MLPModule, quiet, resolve_device_name

__all__ = ["MLP_PARAMETERS_DOC", "BaseMultiTaskMLP"]

#: The numpydoc ``Parameters`` entries shared by both heads (their docstrings include it).
MLP_PARAMETERS_DOC = """
    hidden_size : int, default=1200
        Width of each hidden layer.
    n_hidden_layers : int, default=1
        Number of Linear -> BatchNorm -> GELU -> Dropout blocks.
    dropout : float, default=0.5
        Dropout probability after each hidden layer.
    batch_norm : bool, default=True
        Batch normalisation after each hidden linear layer.
    lr : float, default=1e-3
        Adam learning rate.
    weight_decay : float, default=1e-5
        Adam weight decay.
    batch_size : int, default=128
        Training mini-batch size.
    max_epochs : int, default=100
        Upper bound on training epochs.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (or use ``X_val, y_val`` given to ``fit``),
        stop once the validation loss has not improved for ``patience`` epochs, and keep the
        weights of the best validation epoch. With ``groups`` given to ``fit`` (e.g. scaffold
        ids), the hold-out is made of whole groups (see ``fit``).
    patience : int, default=10
        Epochs without improvement before stopping.
    validation_fraction : float, default=0.1
        Share of the training rows held out when no ``X_val`` is given: at random, or whole
        groups (the balanced scaffold-split rule) when ``fit`` gets ``groups``.
    device : str, default="auto"
        Torch device; ``"auto"`` uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, weight initialisation, shuffling and dropout: the same
        seed on the same machine, with the same ``batch_size`` and torch thread count, gives
        the same numbers (docs/sklearn.md, "Reproducibility"). Global torch random state is
        left untouched.
    verbose : int, default=0
        skorch's per-epoch table when > 0."""


class BaseMultiTaskMLP(BaseEstimator):
    """Base of :class:`~infoalign_sklearn.MultiTaskMLPClassifier` and
    :class:`~infoalign_sklearn.MultiTaskMLPRegressor`; its parameters are documented there."""

    _parameter_constraints: dict = {
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "n_hidden_layers": [Interval(Integral, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self, hidden_size=1200, n_hidden_layers=1, dropout=0.5, batch_norm=True, lr=1e-3,
        weight_decay=1e-5, batch_size=128, max_epochs=100, early_stopping=True, patience=10,
        validation_fraction=0.1, device="auto", random_state=None, verbose=0,
    ):
        self.hidden_size = hidden_size
        self.n_hidden_layers = n_hidden_layers
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # subclasses: _encode_targets(y, fitting) -> (float32 targets, n_outputs); _criterion()

    def fit(self, X, y, X_val=None, y_val=None, groups=None) -> BaseMultiTaskMLP:
        """Fit on numeric X (cast to float32) and y with NaN for unmeasured labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            NaN marks a label that was not measured; it is left out of the loss. An
            ``(n_samples, 1)`` column is one task, as a 1-D y (with a ``DataConversionWarning``).
        X_val, y_val : array-like, default=None
            Explicit validation set for early stopping (instead of a hold-out from X; then
            ``groups`` is not used).
        groups : array-like of shape (n_samples,), default=None
            Group label of each row (e.g. ``scaffold_groups(smiles)``). Under early stopping
            without ``X_val``, the validation hold-out is then made of whole groups, about
            ``validation_fraction`` of the rows, chosen by ``random_state`` with the rule of
            :func:`~infoalign_sklearn.scaffold_split_indices`. With a few large groups that
            rule may find none; the smallest group is then held out if it is less than half of
            the rows, else training runs without early stopping (with a warning). Inside a
            ``Pipeline`` or ``cross_val_score``, route it with metadata routing:
            ``sklearn.set_config(enable_metadata_routing=True)`` and
            ``MultiTaskMLPClassifier().set_fit_request(groups=True)`` (docs/sklearn.md).
            Last in the signature, so ``fit(X, y, X_val, y_val)`` keeps its meaning.

        Returns
        -------
        self
        """
        self._validate_params()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X = validate_data(self, X, dtype=np.float32, reset=True)
        check_consistent_length(X, y)
        groups = _check_fit_groups(X, groups)
        targets, n_outputs = self._encode_targets(y, fitting=True)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        X, targets, valid = self._hold_out(X, targets, X_val, y_val, rng, groups)
        device = resolve_device_name(self.device)
        net = self._make_net(X.shape, n_outputs, valid, device)
        fork_devices = [torch.cuda.current_device()] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(seed)
            net.fit(X, targets)
        self.net_ = net
        self.n_outputs_ = n_outputs
        self.history_ = net.history
        losses = [row.get("valid_loss", np.inf) for row in net.history]
        self.best_epoch_ = int(np.argmin(losses)) + 1 if valid is not None else len(net.history)
        return self

    def _hold_out(self, X, targets, X_val, y_val, rng, groups=None):
        """(training X, training targets, validation Dataset or None): the given validation
        set, else ``validation_fraction`` of the rows under early stopping (whole groups
        when ``groups`` is given, else at random). Records ``validation_indices_``."""
        valid = None
        self.validation_indices_ = np.empty(0, dtype=np.intp)
        self.validation_groups_ = None if groups is None else groups[:0]
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val, or neither.")
        if X_val is not None:
            X_val = validate_data(self, X_val, dtype=np.float32, reset=False)
            check_consistent_length(X_val, y_val)
            valid = Dataset(X_val, self._encode_targets(y_val, fitting=False)[0])
        elif self.early_stopping and groups is not None:
            held = self._group_hold_out(groups, rng)
            if held is not None:
                keep = np.ones(X.shape[0], dtype=bool)
                keep[held] = False
                valid = Dataset(X[held], targets[held])
                X, targets = X[keep], targets[keep]
                self.validation_indices_ = held
                self.validation_groups_ = np.unique(groups[held])
        elif self.early_stopping:
            n_valid = int(np.ceil(self.validation_fraction * X.shape[0]))
            order = rng.permutation(X.shape[0])
            if X.shape[0] - n_valid >= 2:
                valid = Dataset(X[order[:n_valid]], targets[order[:n_valid]])
                X, targets = X[order[n_valid:]], targets[order[n_valid:]]
                self.validation_indices_ = np.sort(order[:n_valid])
        if X.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 training samples, got n_samples = "
                f"{X.shape[0]} after the validation hold-out."
            )
        return X, targets, valid

    def _group_hold_out(self, groups, rng):
        """Sorted rows of the whole groups held out for early stopping, or None (with a
        warning) when no group can be held out.

        The balanced scaffold-split rule of :func:`scaffold_split_indices` first; when it
        finds no hold-out near ``validation_fraction`` (a few large groups), the smallest group
        (ties broken by ``rng``) if it is less than half of the rows."""
        f = self.validation_fraction
        try:
            _, held, _ = scaffold_split_indices(
                None, sizes=(1.0 - f, f, 0.0), random_state=rng, groups=groups
            )
        except ValueError:
            labels, codes = np.unique(groups, return_inverse=True)
            sizes = np.bincount(codes)
            order = rng.permutation(labels.size)
            smallest = order[np.argmin(sizes[order])]
            held = None
            if 2 * sizes[smallest] < groups.size:
                held = np.flatnonzero(codes == smallest)
        if held is None or groups.size - held.size < 2:
            warnings.warn(
                f"{type(self).__name__}.fit: groups has {np.unique(groups).size} distinct "
                f"value(s) over {groups.size} rows, too few to hold out whole groups for early "
                "stopping; training on all rows without early stopping.",
                UserWarning, stacklevel=4,
            )
            return None
        return held

    def _make_net(self, shape, n_outputs: int, valid, device: str) -> MaskedLossNet:
        """The skorch net for training rows of ``shape``, early-stopped on ``valid``."""
        callbacks = []
        if valid is not None and self.early_stopping:
            callbacks.append(("early_stopping", EarlyStopping(
                monitor="valid_loss", patience=self.patience, load_best=True, sink=quiet,
            )))
        n_rows, n_features = shape
        return MaskedLossNet(
            module=MLPModule,
            module__n_features=n_features,
            module__n_outputs=n_outputs,
            module__hidden_size=self.hidden_size,
            module__n_hidden_layers=self.n_hidden_layers,
            module__dropout=self.dropout,
            module__batch_norm=self.batch_norm,
            criterion=self._criterion(),
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=predefined_split(valid) if valid is not None else None,
            callbacks=callbacks,
            iterator_train__shuffle=True,
            # batch norm cannot train on a final batch of one row
            iterator_train__drop_last=bool(self.batch_norm and n_rows % self.batch_size == 1),
            device=device,
            verbose=self.verbose,
        )

    def _forward(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        out = self.net_.forward(X, training=False, device="cpu")
        return out.detach().numpy().astype(np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = False
        return tags


def _check_fit_groups(X, groups):
    """``groups`` as a 1-D array aligned with the rows of X (None stays None)."""
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(f"groups must be 1-D (one label per row of X), got shape {groups.shape}.")
    if groups.shape[0] != X.shape[0]:
        raise ValueError(
            f"groups has {groups.shape[0]} labels but X has {X.shape[0]} rows; they must match."
        )
    if (groups.dtype.kind in "fc" or groups.dtype == object) and pd.isna(groups).any():
        raise ValueError("groups contains missing values (NaN / None); every row needs a group.")
    return groups
