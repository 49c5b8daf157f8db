"""NaN-aware multi-task metrics, their scorers, and ranking metrics for profile matching.

In the paper's benchmarks most labels are missing (NaN = not measured). Every metric here scores
each task on its measured rows only; NaN labels never reach scikit-learn's metric functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import make_scorer, roc_auc_score

__all__ = [
    "AUC_THRESHOLDS",
    "hit_at_k",
    "multitask_mae",
    "multitask_roc_auc",
    "multitask_rmse",
    "multitask_roc_auc_scorer",
    "ndcg_at_k",
    "neg_multitask_mae_scorer",
    "neg_multitask_rmse_scorer",
    "per_task_mae",
    "per_task_rmse",
    "per_task_roc_auc",
    "share_of_tasks_above",
]

AUC_THRESHOLDS = (0.80, 0.85, 0.90, 0.95)


def _as_task_matrices(y_true, y_pred, *, positive_column: bool) -> tuple[np.ndarray, np.ndarray]:
    """Both as float (n, n_tasks); a (n, 2) probability table for 1-D y_true keeps column 1.

    An (n, 1) y_true is one task, exactly as a 1-D one."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true[:, 0]
    if y_true.ndim == 1:
        y_true = y_true[:, None]
        if positive_column and y_pred.ndim == 2 and y_pred.shape[1] == 2:
            y_pred = y_pred[:, 1]
    if y_pred.ndim == 1:
        y_pred = y_pred[:, None]
    if y_true.ndim != 2 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and predictions must have the same shape (n_samples, n_tasks); got "
            f"{np.shape(y_true)} and {np.shape(y_pred)}."
        )
    return y_true, y_pred


def per_task_roc_auc(y_true, y_score) -> np.ndarray:
    """ROC-AUC of each task on its measured rows; NaN where a task cannot be scored.

    A task cannot be scored when its measured rows hold only one class (or none).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        0 / 1 labels, NaN where not measured.
    y_score : array-like of shape (n_samples,), (n_samples, 2) or (n_samples, n_tasks)
        Scores or positive-class probabilities; with 1-D ``y_true`` a (n, 2) ``predict_proba``
        output is accepted and its second column used. NaN scores on measured rows are an
        error, except for a task scored NaN throughout (an estimator that had no label to learn
        it from), which cannot be scored.

    Returns
    -------
    aucs : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0, 1], [1, np.nan], [1, 1], [0, 1]])
    >>> per_task_roc_auc(y, [[0.1, 0.2], [0.9, 0.5], [0.8, 0.6], [0.3, 0.4]]).tolist()
    [1.0, nan]
    """
    y_true, y_score = _as_task_matrices(y_true, y_score, positive_column=True)
    aucs = np.full(y_true.shape[1], np.nan)
    for task in range(y_true.shape[1]):
        measured = ~np.isnan(y_true[:, task])
        labels = y_true[measured, task]
        if not np.isin(labels, (0, 1)).all():
            raise ValueError(f"Task {task}: labels must be 0, 1 or NaN.")
        if np.unique(labels).size < 2:
            continue
        scores = y_score[measured, task]
        if np.isnan(y_score[:, task]).all():
            continue  # a model with no label to learn this task from predicts NaN throughout
        if np.isnan(scores).any():
            raise ValueError(f"Task {task}: NaN scores on measured rows.")
        aucs[task] = roc_auc_score(labels, scores)
    return aucs


def multitask_roc_auc(y_true, y_score) -> float:
    """Mean ROC-AUC over the tasks that can be scored (both classes measured).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        0 / 1 labels, NaN where not measured.
    y_score : array-like of shape (n_samples,), (n_samples, 2) or (n_samples, n_tasks)
        See :func:`per_task_roc_auc`.

    Returns
    -------
    auc : float

    Raises
    ------
    ValueError
        When no task has both classes among its measured rows.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0, 1], [1, 0], [1, np.nan], [0, 1]])
    >>> multitask_roc_auc(y, [[0.1, 0.9], [0.9, 0.1], [0.8, 0.5], [0.3, 0.05]])
    0.75
    """
    aucs = per_task_roc_auc(y_true, y_score)
    if np.isnan(aucs).all():
        raise ValueError(
            "No task can be scored: every task has fewer than two classes among its measured "
            "labels."
        )
    return float(np.nanmean(aucs))


def share_of_tasks_above(
    y_true, y_score, thresholds: Sequence[float] = AUC_THRESHOLDS
) -> dict[float, float]:
    """Share of the scorable tasks whose ROC-AUC is at or above each threshold.

    The paper's table reports it for 80 / 85 / 90 / 95 % AUC.

    Parameters
    ----------
    y_true, y_score : array-like
        As for :func:`per_task_roc_auc`.
    thresholds : sequence of float, default=(0.80, 0.85, 0.90, 0.95)

    Returns
    -------
    shares : dict
        Threshold -> fraction in [0, 1] of the tasks that can be scored.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0, 0], [1, 1], [1, 0], [0, 1]])
    >>> share_of_tasks_above(y, [[0.1, 0.6], [0.9, 0.4], [0.8, 0.2], [0.3, 0.9]], [0.8])
    {0.8: 0.5}
    """
    aucs = per_task_roc_auc(y_true, y_score)
    usable = aucs[~np.isnan(aucs)]
    if usable.size == 0:
        raise ValueError("No task can be scored: no task has both classes measured.")
    return {float(t): float(np.mean(usable >= t)) for t in thresholds}


def per_task_mae(y_true, y_pred) -> np.ndarray:
    """Mean absolute error of each task on its measured rows; NaN for tasks with none.

    A task predicted NaN throughout (an estimator that had no label to learn it from) cannot be
    scored either: NaN.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, n_tasks)
        NaN where not measured.
    y_pred : array-like of the same shape (a 1-D and an (n, 1) single task pair either way)

    Returns
    -------
    maes : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> per_task_mae([[1.0, np.nan], [2.0, 3.0]], [[1.5, 9.0], [2.0, 2.0]]).tolist()
    [0.25, 1.0]
    """
    return _per_task_mean(y_true, y_pred, np.abs)


def per_task_rmse(y_true, y_pred) -> np.ndarray:
    """Root mean squared error of each task on its measured rows; NaN for tasks with none.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, n_tasks)
        NaN where not measured.
    y_pred : array-like of the same shape (a 1-D and an (n, 1) single task pair either way)

    Returns
    -------
    rmses : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> per_task_rmse([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]],
    ...               [[2.0, 9.0], [2.0, 3.0], [3.0, 1.0]]).round(4).tolist()
    [0.8165, 2.8284]
    """
    return np.sqrt(_per_task_mean(y_true, y_pred, np.square))


def _per_task_mean(y_true, y_pred, transform) -> np.ndarray:
    """Per task, the mean of ``transform(y_true - y_pred)`` over the measured rows."""
    y_true, y_pred = _as_task_matrices(y_true, y_pred, positive_column=False)
    # a task predicted NaN throughout had no label to learn from: it cannot be scored
    measured = ~np.isnan(y_true) & ~np.isnan(y_pred).all(axis=0)
    if np.isnan(y_pred[measured]).any():
        raise ValueError("NaN predictions on measured rows.")
    errors = np.where(measured, transform(np.where(measured, y_true, 0.0) - y_pred), 0.0)
    counts = measured.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, errors.sum(axis=0) / counts, np.nan)


def multitask_mae(y_true, y_pred) -> float:
    """Mean over tasks of the per-task MAE on measured rows (tasks weigh equally).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        NaN where not measured.
    y_pred : array-like of the same shape

    Returns
    -------
    mae : float

    Raises
    ------
    ValueError
        When no task has a measured value.

    Examples
    --------
    >>> import numpy as np
    >>> multitask_mae([[1.0, np.nan], [2.0, 3.0]], [[1.5, 9.0], [2.0, 2.0]])
    0.625
    """
    maes = per_task_mae(y_true, y_pred)
    if np.isnan(maes).all():
        raise ValueError("No task has a measured value.")
    return float(np.nanmean(maes))


def multitask_rmse(y_true, y_pred) -> float:
    """Mean over tasks of the per-task RMSE on measured rows (tasks weigh equally).

    Each task's RMSE is taken on its own measured rows, then the tasks are averaged, as for
    :func:`multitask_mae`; with one task it is the ordinary RMSE over the measured rows.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, n_tasks)
        NaN where not measured.
    y_pred : array-like of the same shape

    Returns
    -------
    rmse : float

    Raises
    ------
    ValueError
        When no task has a measured value.

    Examples
    --------
    >>> import numpy as np
    >>> multitask_rmse([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]],
    ...                [[2.0, 9.0], [2.0, 3.0], [3.0, 1.0]])
    1.8224...
    """
    rmses = per_task_rmse(y_true, y_pred)
    if np.isnan(rmses).all():
        raise ValueError("No task has a measured value.")
    return float(np.nanmean(rmses))


# scikit-learn passes (n, n_tasks) probabilities for multi-task classifiers whose `classes_`
# is a list of per-task [0, 1] arrays, and the positive column for single-task binary ones.
multitask_roc_auc_scorer = make_scorer(multitask_roc_auc, response_method="predict_proba")
multitask_roc_auc_scorer.__doc__ = "Scorer: NaN-aware mean ROC-AUC over tasks (higher is better)."
neg_multitask_mae_scorer = make_scorer(
    multitask_mae, greater_is_better=False, response_method="predict"
)
neg_multitask_mae_scorer.__doc__ = "Scorer: minus the NaN-aware mean MAE over tasks."
neg_multitask_rmse_scorer = make_scorer(
    multitask_rmse, greater_is_better=False, response_method="predict"
)
neg_multitask_rmse_scorer.__doc__ = (
    "Scorer: minus the NaN-aware mean over tasks of the per-task RMSE (the multi-task, "
    "missing-label form of scikit-learn's 'neg_root_mean_squared_error')."
)


def _ranks_of_true(scores, true_index) -> np.ndarray:
    scores = np.asarray(scores, dtype=float)
    true_index = np.asarray(true_index)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (n_queries, n_candidates), got {scores.shape}.")
    if true_index.shape != (scores.shape[0],) or not np.issubdtype(true_index.dtype, np.integer):
        raise ValueError("true_index must hold one integer candidate index per query.")
    if np.any((true_index < 0) | (true_index >= scores.shape[1])):
        raise ValueError(f"true_index must lie in [0, {scores.shape[1]}).")
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN.")
    true_scores = scores[np.arange(scores.shape[0]), true_index]
    # ties count against the query: a constant scorer gets no credit
    return (scores >= true_scores[:, None]).sum(axis=1)


def hit_at_k(scores, true_index, k: int = 10) -> float:
    """Share of queries whose true candidate ranks among the top k.

    Parameters
    ----------
    scores : array-like of shape (n_queries, n_candidates)
        Higher means a better match (e.g. the likelihood of each candidate profile under the
        profile decoded from each molecule).
    true_index : array-like of int, shape (n_queries,)
        Column of the true candidate of each query.
    k : int, default=10

    Returns
    -------
    hit : float in [0, 1]
        The true candidate's rank is 1 + the number of other candidates scored at least as
        high (ties are counted against the query).

    Examples
    --------
    >>> hit_at_k([[0.9, 0.1, 0.5], [0.2, 0.3, 0.8]], [0, 1], k=1)
    0.5
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}.")
    return float(np.mean(_ranks_of_true(scores, true_index) <= k))


def ndcg_at_k(scores, true_index, k: int = 10) -> float:
    """Normalised discounted cumulative gain at k with one relevant candidate per query.

    With a single relevant candidate at rank r, NDCG@k is ``1 / log2(r + 1)`` when r <= k and
    0 otherwise (the ideal DCG is 1); the result is averaged over queries.

    Parameters
    ----------
    scores : array-like of shape (n_queries, n_candidates)
        Higher means a better match.
    true_index : array-like of int, shape (n_queries,)
        Column of the true candidate of each query.
    k : int, default=10

    Returns
    -------
    ndcg : float in [0, 1]

    Examples
    --------
    >>> ndcg_at_k([[0.9, 0.1, 0.5], [0.2, 0.3, 0.8]], [0, 1], k=2)
    0.8154648767857288
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}.")
    ranks = _ranks_of_true(scores, true_index)
    return float(np.mean(np.where(ranks <= k, 1.0 / np.log2(ranks + 1.0), 0.0)))
