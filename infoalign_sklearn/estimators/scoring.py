"""Scores over measured labels only (NaN in ``y_true`` = not measured): the ``score`` methods
of the estimators of this package."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, r2_score

__all__ = ["masked_accuracy", "masked_r2"]


def _single_task_as_1d(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """An (n, 1) column in either argument is one task, exactly as a 1-D array."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true[:, 0]
    if y_pred.ndim == 2 and y_pred.shape[1] == 1:
        y_pred = y_pred[:, 0]
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape; got {y_true.shape} and {y_pred.shape}."
        )
    return y_true, y_pred


def masked_accuracy(y_true, y_pred) -> float:
    """Accuracy over the entries of ``y_true`` that are not NaN (1-D or 2-D, flattened;
    an (n, 1) column counts as 1-D)."""
    y_true, y_pred = _single_task_as_1d(y_true, y_pred)
    measured = ~pd.isna(y_true)
    return float(accuracy_score(y_true[measured].ravel(), y_pred[measured].ravel()))


def masked_r2(y_true, y_pred) -> float:
    """R² on the measured values; for 2-D ``y_true`` the mean over tasks with 2+ values
    (an (n, 1) column counts as 1-D)."""
    y_true, y_pred = _single_task_as_1d(y_true, y_pred)
    y_true = y_true.astype(float)
    y_pred = y_pred.astype(float)
    if y_true.ndim == 1:
        measured = ~np.isnan(y_true)
        return float(r2_score(y_true[measured], y_pred[measured]))
    scores = [
        r2_score(y_true[~np.isnan(y_true[:, t]), t], y_pred[~np.isnan(y_true[:, t]), t])
        for t in range(y_true.shape[1]) if (~np.isnan(y_true[:, t])).sum() > 1
    ]
    return float(np.mean(scores))
