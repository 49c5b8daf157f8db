"""The paper's downstream head: multi-task MLP classifier and regressor on skorch.

:class:`MultiTaskMLPClassifier` / :class:`MultiTaskMLPRegressor` share their parameters,
training loop and tags (:mod:`.mlp_base`); the network, the masked loss and the skorch
net live in :mod:`.networks`. NaN in ``y`` means "not measured": it is left out of the loss.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import expit, softmax
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array
from torch import nn

from ._targets import column_as_one_task, unlabelled_tasks
from .mlp_base import MLP_PARAMETERS_DOC, BaseMultiTaskMLP
from .scoring import masked_accuracy, masked_r2

__all__ = ["MultiTaskMLPClassifier", "MultiTaskMLPRegressor"]


class MultiTaskMLPClassifier(ClassifierMixin, BaseMultiTaskMLP):
    __doc__ = f"""Multi-task MLP classifier (skorch) with the loss masked to measured labels.

    The paper's downstream head: one hidden layer of 1,200 units, batch norm, GELU, dropout 0.5,
    Adam (lr 1e-3, weight decay 1e-5), early stopping on a validation split.

    - 2-D ``y`` of 0 / 1 / NaN: one sigmoid output per task, binary cross-entropy on the measured
      entries; ``predict_proba`` gives (n_samples, n_tasks) positive-class probabilities.
    - 1-D ``y`` (any labels; NaN rows ignored): binary gives the usual (n_samples, 2)
      ``predict_proba``, so scikit-learn's ``"roc_auc"`` scorer works; more classes use softmax.

    Parameters
    ----------{MLP_PARAMETERS_DOC}

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        1-D ``y``: the class labels. 2-D ``y``: ``[array([0, 1])] * n_tasks``.
    net_ : skorch.NeuralNet
        The fitted network (weights of the best validation epoch).
    history_ : skorch.History
        Per-epoch train / validation losses.
    best_epoch_ : int
        Epoch (1-based) whose weights were kept.
    validation_indices_ : ndarray of int
        Sorted rows of ``X`` held out for early stopping (empty when ``X_val`` was given, or
        nothing was held out).
    validation_groups_ : ndarray or None
        The ``groups`` values held out whole for early stopping; None when ``fit`` got no
        ``groups``.
    n_outputs_ : int
        Output units.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from infoalign_sklearn import MultiTaskMLPClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((60, 8))
    >>> y = np.column_stack([X[:, 0] > 0.5, X[:, 1] > 0.5]).astype(float)
    >>> y[::3, 1] = np.nan
    >>> clf = MultiTaskMLPClassifier(hidden_size=16, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X).shape
    (60, 2)
    """

    def _criterion(self):
        return nn.CrossEntropyLoss if self._multiclass else nn.BCEWithLogitsLoss

    def _encode_targets(self, y, fitting: bool):
        y = column_as_one_task(y, fitting, stacklevel=3)
        if fitting:
            self._multi_task = y.ndim == 2
        if not self._multi_task:
            return self._encode_single_task(y, fitting)
        y = check_array(y, dtype=None, ensure_all_finite="allow-nan", input_name="y")
        if y.dtype.kind not in "biuf" or not np.isin(y[~pd.isna(y)], (0, 1)).all():
            raise ValueError(
                "Unknown label type: multi-task y must hold 0, 1 or NaN (not measured)."
            )
        if fitting:
            self._multiclass = False
            self.unlabelled_tasks_ = unlabelled_tasks(y, type(self).__name__, stacklevel=4)
            self._y_dtype = (y.dtype if y.dtype.kind in "biu" and not self.unlabelled_tasks_.any()
                             else np.dtype(np.float64))
            self.classes_ = [np.array([0, 1])] * y.shape[1]
        elif y.shape[1] != len(self.classes_):
            raise ValueError(f"y has {y.shape[1]} tasks, expected {len(self.classes_)}.")
        return y.astype(np.float32), y.shape[1]

    def _encode_single_task(self, y, fitting: bool):
        y = check_array(y, dtype=None, ensure_2d=False, ensure_all_finite="allow-nan",
                        input_name="y")
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
        measured = ~pd.isna(y)
        labels = y[measured]
        if fitting:
            check_classification_targets(labels)
            classes = np.unique(labels)
            if classes.size < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                    f"but the data contains only one class: {classes.tolist()}."
                )
            self.classes_ = classes
            self._multiclass = classes.size > 2
        unknown = ~np.isin(labels, self.classes_)
        if unknown.any():
            raise ValueError(f"y contains labels not seen in fit: {np.unique(labels[unknown])}.")
        encoded = np.full(y.shape[0], np.nan, dtype=np.float32)
        encoded[measured] = np.searchsorted(self.classes_, labels)
        if self._multiclass:
            return encoded, len(self.classes_)
        return encoded[:, None], 1

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities.

        Returns
        -------
        proba : ndarray
            (n_samples, n_tasks) positive-class probabilities for multi-task y;
            (n_samples, n_classes) for 1-D y.
        """
        logits = self._forward(X)
        if self._multi_task:
            return _nan_where_unlabelled(self, expit(logits))
        if self._multiclass:
            return softmax(logits, axis=1)
        positive = expit(logits[:, 0])
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X) -> np.ndarray:
        """Labels: per task ``proba >= 0.5`` (multi-task), else the most probable class."""
        proba = self.predict_proba(X)
        if self._multi_task:
            labels = (proba >= 0.5).astype(self._y_dtype)
            return _nan_where_unlabelled(self, labels)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy over the measured labels (NaN entries of y are ignored)."""
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported.")
        return masked_accuracy(y, self.predict(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MultiTaskMLPRegressor(RegressorMixin, BaseMultiTaskMLP):
    __doc__ = f"""Multi-task MLP regressor (skorch) with the loss masked to measured values.

    The paper's downstream head (see :class:`MultiTaskMLPClassifier`) with an L1 or squared
    loss. Targets are standardised per task (on their measured values) for training and mapped
    back for ``predict``, so tasks in different units weigh alike and the default learning rate
    suits any scale.

    Parameters
    ----------{MLP_PARAMETERS_DOC}
    loss : {{"l1", "mse"}}, default="l1"
        Absolute error (matches the MAE the benchmarks report) or squared error (matches
        RMSE, :func:`~infoalign_sklearn.multitask_rmse`); either is computed on the measured
        (non-NaN) standardised targets only.

    Attributes
    ----------
    net_ : skorch.NeuralNet
    history_ : skorch.History
    best_epoch_ : int
    validation_indices_ : ndarray of int
    validation_groups_ : ndarray or None
        See :class:`MultiTaskMLPClassifier`.
    n_outputs_ : int
    target_mean_, target_scale_ : ndarray of shape (n_tasks,)
        Per-task standardisation of y.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from infoalign_sklearn import MultiTaskMLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((60, 8))
    >>> y = np.column_stack([X[:, 0], X[:, 1] * 10])
    >>> y[::4, 0] = np.nan
    >>> reg = MultiTaskMLPRegressor(hidden_size=16, max_epochs=5, random_state=0).fit(X, y)
    >>> reg.predict(X).shape
    (60, 2)
    """

    _parameter_constraints: dict = {
        **BaseMultiTaskMLP._parameter_constraints,
        "loss": [StrOptions({"l1", "mse"})],
    }

    def __init__(
        self, hidden_size=1200, n_hidden_layers=1, dropout=0.5, batch_norm=True, lr=1e-3,
        weight_decay=1e-5, batch_size=128, max_epochs=100, early_stopping=True, patience=10,
        validation_fraction=0.1, device="auto", random_state=None, verbose=0, loss="l1",
    ):
        super().__init__(
            hidden_size=hidden_size, n_hidden_layers=n_hidden_layers, dropout=dropout,
            batch_norm=batch_norm, lr=lr, weight_decay=weight_decay, batch_size=batch_size,
            max_epochs=max_epochs, early_stopping=early_stopping, patience=patience,
            validation_fraction=validation_fraction, device=device, random_state=random_state,
            verbose=verbose,
        )
        self.loss = loss

    def _criterion(self):
        return nn.L1Loss if self.loss == "l1" else nn.MSELoss

    def _encode_targets(self, y, fitting: bool):
        y = check_array(y, dtype=np.float64, ensure_2d=False, ensure_all_finite="allow-nan",
                        input_name="y")
        if y.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
        y = column_as_one_task(y, fitting, stacklevel=3)  # as scikit-learn's MLPRegressor
        if fitting:
            self._multi_task = y.ndim == 2
        y2 = y.reshape(y.shape[0], -1)
        if fitting:
            self.unlabelled_tasks_ = unlabelled_tasks(y2, type(self).__name__, stacklevel=4)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # NaN mean of an empty task
                self.target_mean_ = np.nanmean(y2, axis=0)
                scale = np.nanstd(y2, axis=0)
            self.target_scale_ = np.where(scale > 0, scale, 1.0)
        elif y2.shape[1] != self.target_mean_.size:
            raise ValueError(f"y has {y2.shape[1]} tasks, expected {self.target_mean_.size}.")
        return ((y2 - self.target_mean_) / self.target_scale_).astype(np.float32), y2.shape[1]

    def predict(self, X) -> np.ndarray:
        """Predictions in the units of y: (n_samples,) when fitted on a 1-D or (n_samples, 1)
        y, else (n_samples, n_tasks)."""
        out = self._forward(X) * self.target_scale_ + self.target_mean_
        return out if self._multi_task else out[:, 0]

    def score(self, X, y, sample_weight=None) -> float:
        """R² averaged over tasks, each on its measured values."""
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported.")
        return masked_r2(y, self.predict(X))


def _nan_where_unlabelled(estimator, values: np.ndarray) -> np.ndarray:
    """``values`` with NaN in the columns of tasks that had no label to learn from."""
    empty = getattr(estimator, "unlabelled_tasks_", None)  # absent in models pickled before
    if empty is None or not empty.any():
        return values
    values = values.astype(np.float64, copy=True)
    values[:, empty] = np.nan
    return values
