"""Any scikit-learn estimator made multi-task with missing labels: one clone per task, fitted on
the rows where that task is measured (NaN in ``y`` = not measured)."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn import get_config
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.dummy import DummyClassifier
from sklearn.utils import _safe_indexing, get_tags, indexable
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_method_params,
    _num_samples,
    check_array,
    check_consistent_length,
    check_is_fitted,
)

from ._targets import column_as_one_task, unlabelled_tasks
from .scoring import masked_accuracy, masked_r2

__all__ = ["PerTaskEstimator"]


def _check_targets(y: np.ndarray, multi_task: bool, classifier: bool) -> np.ndarray:
    """y as a 2-D array (one column per task), refusing labels the task type cannot hold."""
    if multi_task:
        y = check_array(y, dtype=np.float64, ensure_all_finite="allow-nan", input_name="y")
        if classifier and not np.isin(y[~np.isnan(y)], (0, 1)).all():
            raise ValueError("Multi-task classification y must hold 0, 1 or NaN.")
    else:
        y = check_array(y, dtype=None, ensure_2d=False, ensure_all_finite="allow-nan",
                        input_name="y")[:, None]
    return y


def _measured_columns(y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per task: (rows where it is measured, their labels)."""
    columns = []
    for task in range(y.shape[1]):
        rows = np.flatnonzero(~pd.isna(y[:, task]))
        labels = y[rows, task]
        if labels.dtype == object:
            labels = np.asarray(labels.tolist())
        columns.append((rows, labels))
    return columns


def _constant_or_none(y, classifier: bool, task_name: str):
    """(handled, model) for a task that cannot be fitted normally, warning in the caller's
    process (warnings raised in joblib workers would be lost)."""
    if y.size == 0:  # warned about by unlabelled_tasks, with the others
        return True, None
    if classifier and np.unique(y).size < 2:
        warnings.warn(
            f"{task_name} has only one class ({np.asarray(y)[:1].tolist()[0]!r}) in its "
            "measured labels; it gets a "
            "constant predictor.", UserWarning, stacklevel=3,
        )
        return True, DummyClassifier(strategy="prior").fit(np.zeros((y.size, 1)), y)
    return False, None


def _estimator_has(attr: str):
    return lambda self: hasattr(self.estimator, attr)


class PerTaskEstimator(MetaEstimatorMixin, BaseEstimator):
    """One clone of an estimator per task, each fitted on the rows where its task is measured.

    Makes any scikit-learn classifier or regressor (random forest, Gaussian process, logistic
    regression...) multi-task with missing labels. X is passed through untouched, so the inner
    estimator may be a pipeline that takes SMILES.

    Parameters
    ----------
    estimator : estimator object
        Cloned for each task.
    n_jobs : int, default=None
        Tasks fitted in parallel (joblib semantics).

    Attributes
    ----------
    estimators_ : list
        One fitted estimator per task. A classification task with one class gets a constant
        ``DummyClassifier``; a task with no measured label gets ``None`` (predicts NaN). Both
        are announced by a ``UserWarning``.
    classes_ : ndarray or list of ndarray
        (Classifiers.) 1-D y: the inner estimator's classes; 2-D y: ``[array([0, 1])] * n_tasks``.
    n_tasks_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from infoalign_sklearn import PerTaskEstimator
    >>> X = np.arange(8.0).reshape(-1, 1)
    >>> y = np.array([[0, 0], [0, np.nan], [0, 0], [0, 1], [1, 1], [1, np.nan], [1, 0], [1, 1]])
    >>> model = PerTaskEstimator(LogisticRegression()).fit(X, y)
    >>> model.predict_proba(X).shape
    (8, 2)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "n_jobs": [Integral, None],
    }

    def __init__(self, estimator, n_jobs=None):
        self.estimator = estimator
        self.n_jobs = n_jobs

    def fit(self, X, y, **fit_params) -> PerTaskEstimator:
        """Fit one clone per column of y on the rows where that column is not NaN.

        Parameters
        ----------
        X : indexable of length n_samples
            Anything the inner estimator takes (arrays, DataFrames, lists of SMILES...).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            NaN where not measured.
        **fit_params : dict
            Metadata for the inner estimator's ``fit`` (e.g. ``groups`` for a
            :class:`MultiTaskMLPRegressor`); per-row arrays are cut to each task's measured
            rows. With metadata routing enabled (``sklearn.set_config(
            enable_metadata_routing=True)``) only what the inner estimator requests
            (``set_fit_request``) is passed; without it, everything is.

        Returns
        -------
        self
        """
        self._validate_params()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X, y = indexable(X, y)
        classifier = is_classifier(self.estimator)
        y = column_as_one_task(y, warn=True, stacklevel=2)
        self._multi_task = y.ndim == 2
        # integer y cannot hold NaN, so its predictions can keep the integer type
        self._y_dtype = y.dtype if y.dtype.kind in "biu" else np.dtype(np.float64)
        y = _check_targets(y, self._multi_task, classifier)
        check_consistent_length(X, y)
        self.unlabelled_tasks_ = unlabelled_tasks(y, type(self).__name__)
        if get_config().get("enable_metadata_routing", False):
            inner_params = process_routing(self, "fit", **fit_params).estimator.fit
        else:
            inner_params = fit_params
        columns = _measured_columns(y)
        special = [
            _constant_or_none(labels, classifier, f"Task {t}")
            for t, (_, labels) in enumerate(columns)
        ]
        to_fit = [t for t, (handled, _) in enumerate(special) if not handled]
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(clone(self.estimator).fit)(
                _safe_indexing(X, columns[t][0]), columns[t][1],
                **_check_method_params(X, inner_params, indices=columns[t][0]),
            )
            for t in to_fit
        )
        self.estimators_ = [model for _, model in special]
        for t, model in zip(to_fit, fitted):
            self.estimators_[t] = model
        self.n_tasks_ = y.shape[1]
        if classifier:
            self.classes_ = (
                [np.array([0, 1])] * self.n_tasks_ if self._multi_task
                else self.estimators_[0].classes_
            )
        return self

    def get_metadata_routing(self) -> MetadataRouter:
        """How metadata given to ``fit`` reaches the inner estimator's ``fit`` (scikit-learn
        metadata routing).

        Returns
        -------
        routing : MetadataRouter
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(estimator=self.estimator,
                 method_mapping=MethodMapping().add(caller="fit", callee="fit"))
        )

    @property
    def n_features_in_(self) -> int:
        """Features seen by the fitted task models (when the inner estimator records it)."""
        check_is_fitted(self)
        for est in self.estimators_:
            if est is not None and not isinstance(est, DummyClassifier):
                return est.n_features_in_
        raise AttributeError("No fitted task model records n_features_in_.")

    def predict(self, X) -> np.ndarray:
        """Predictions: (n_samples,) for 1-D y, (n_samples, n_tasks) for 2-D y."""
        check_is_fitted(self)
        n = _num_samples(X)
        if not self._multi_task:
            return self.estimators_[0].predict(_dummy_input(self.estimators_[0], X, n))
        columns = [
            np.full(n, np.nan) if est is None
            else np.asarray(est.predict(_dummy_input(est, X, n)), dtype=np.float64)
            for est in self.estimators_
        ]
        out = np.column_stack(columns)
        if is_classifier(self.estimator) and self._y_dtype.kind in "biu":
            return out.astype(self._y_dtype)
        return out

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X) -> np.ndarray:
        """Probabilities: (n_samples, n_classes) for 1-D y; for 2-D y, (n_samples, n_tasks)
        probabilities of label 1."""
        check_is_fitted(self)
        n = _num_samples(X)
        if not self._multi_task:
            return self.estimators_[0].predict_proba(_dummy_input(self.estimators_[0], X, n))
        columns = []
        for est in self.estimators_:
            if est is None:
                columns.append(np.full(n, np.nan))
                continue
            classes = list(est.classes_)
            proba = est.predict_proba(_dummy_input(est, X, n))
            columns.append(proba[:, classes.index(1)] if 1 in classes else np.zeros(n))
        return np.column_stack(columns)

    def score(self, X, y, sample_weight=None) -> float:
        """NaN-aware accuracy (classifiers) or task-averaged R² (regressors)."""
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported.")
        if is_classifier(self.estimator):
            return masked_accuracy(y, self.predict(X))
        return masked_r2(y, self.predict(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.input_tags = inner.input_tags
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        return tags


def _dummy_input(estimator, X, n: int):
    # the constant model was fitted on placeholder features: X may be SMILES it cannot read
    return np.zeros((n, 1)) if isinstance(estimator, DummyClassifier) else X

