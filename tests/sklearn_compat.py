"""scikit-learn API checks for estimators that take molecules (SMILES) as X.

scikit-learn's own ``check_estimator`` feeds numeric arrays, which a SMILES transformer cannot
take; these are the checks of its contract that apply, written once and reused by every
molecule estimator's tests.
"""

from __future__ import annotations

import inspect
import pickle

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline


def _outputs(estimator, X):
    if hasattr(estimator, "transform") and not (is_classifier(estimator) or is_regressor(estimator)):
        return np.asarray(estimator.transform(X))
    if hasattr(estimator, "predict_proba"):
        return np.asarray(estimator.predict_proba(X))
    return np.asarray(estimator.predict(X))


def check_init_stores_params(estimator) -> None:
    """__init__ stores its arguments unchanged and sets nothing else."""
    params = estimator.get_params(deep=False)
    signature = inspect.signature(type(estimator).__init__)
    names = [p for p in signature.parameters if p != "self"]
    assert sorted(params) == sorted(names)
    for name in names:
        assert getattr(estimator, name) is params[name]
    fitted = [a for a in vars(estimator) if a.endswith("_") and not a.startswith("_")]
    assert not fitted, f"attributes set before fit: {fitted}"


def check_clone_and_set_params(estimator) -> None:
    cloned = clone(estimator)
    assert cloned.get_params(deep=False).keys() == estimator.get_params(deep=False).keys()
    name = next(iter(estimator.get_params(deep=False)))
    value = estimator.get_params(deep=False)[name]
    assert cloned.set_params(**{name: value}) is cloned


def check_fit_returns_self_and_pickles(estimator, X, y=None) -> None:
    est = clone(estimator)
    assert est.fit(X, y) is est
    before = _outputs(est, X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_outputs(restored, X), before)
    refit_clone = clone(est)
    assert not [a for a in vars(refit_clone) if a.endswith("_") and not a.startswith("_")]


def check_in_pipeline_and_grid_search(estimator, X, y, param_grid: dict) -> None:
    """Works as the first step of a Pipeline, and in GridSearchCV over its own parameters."""
    y = np.asarray(y)
    is_transformer = hasattr(estimator, "transform") and not (
        is_classifier(estimator) or is_regressor(estimator)
    )
    if is_transformer:
        head = LogisticRegression(max_iter=200) if np.unique(y).size <= 2 else Ridge()
        pipe = make_pipeline(clone(estimator), head)
    else:
        pipe = make_pipeline(clone(estimator))
    step = pipe.steps[0][0]
    pipe.fit(X, y)
    grid = {f"{step}__{k}": v for k, v in param_grid.items()}
    search = GridSearchCV(pipe, grid, cv=KFold(2, shuffle=True, random_state=0))
    search.fit(X, y)
    assert set(search.best_params_) == set(grid)


def check_molecule_estimator(estimator, X, y, param_grid: dict) -> None:
    """Every check above, in order."""
    check_init_stores_params(estimator)
    check_clone_and_set_params(estimator)
    check_fit_returns_self_and_pickles(estimator, X, y)
    check_in_pipeline_and_grid_search(estimator, X, y, param_grid)
    tags = estimator.__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
