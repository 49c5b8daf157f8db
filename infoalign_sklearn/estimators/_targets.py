"""The one policy for tasks without labels, shared by every multi-task estimator (private).

A task whose column of ``y`` holds no measured value (all NaN, common in a training fold of a
sparse assay panel) cannot be learned: the estimator warns, naming the tasks, fits the others
and predicts NaN for it. A ``y`` with no measured value at all is an error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import DataConversionWarning


def column_as_one_task(y, warn: bool, stacklevel: int = 3) -> np.ndarray:
    """``y`` with an (n, 1) column made 1-D: one task, as scikit-learn's estimators treat it
    (a ``DataConversionWarning`` when ``warn``, i.e. in ``fit``)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        if warn:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is treated as "
                "one task.", DataConversionWarning, stacklevel=stacklevel + 1,
            )
        y = y.ravel()
    return y


def unlabelled_tasks(y2: np.ndarray, estimator: str, stacklevel: int = 3) -> np.ndarray:
    """Boolean mask of the columns of the 2-D ``y2`` without any measured value.

    Raises ValueError when no entry of ``y2`` is measured; warns (UserWarning) naming the
    unlabelled tasks otherwise.
    """
    measured = ~pd.isna(y2)
    if not measured.any():
        raise ValueError(f"{estimator}: y holds no measured label: every entry is NaN.")
    empty = ~measured.any(axis=0)
    if empty.any():
        tasks = np.flatnonzero(empty).tolist()
        shown = ", ".join(map(str, tasks[:10])) + (", ..." if len(tasks) > 10 else "")
        warnings.warn(
            f"{estimator}: {len(tasks)} task(s) of {y2.shape[1]} have no measured label in y "
            f"(column index {shown}); they are not learned and predict NaN.",
            UserWarning, stacklevel=stacklevel,
        )
    return empty
