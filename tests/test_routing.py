"""Scaffold groups routed to the MLP heads (metadata routing), the RMSE metric and scorer, the
regressor's MSE loss, and a single-task y given as an (n, 1) column (issue 16, item 3)."""

import warnings

import numpy as np
import pytest
import sklearn
import torch
from sklearn.exceptions import DataConversionWarning, UnsetMetadataPassedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from infoalign_sklearn import (
    ContrastiveEmbedder,
    InfoAlignEmbedder,
    MorganFingerprint,
    MultiTaskMLPClassifier,
    MultiTaskMLPRegressor,
    PerTaskEstimator,
    ScaffoldKFold,
    multitask_mae,
    multitask_rmse,
    multitask_roc_auc,
    neg_multitask_mae_scorer,
    neg_multitask_rmse_scorer,
    per_task_mae,
    per_task_rmse,
    per_task_roc_auc,
    scaffold_groups,
)
from infoalign_sklearn.estimators import masked_accuracy, masked_loss, masked_r2

TINY = {"hidden_size": 16, "max_epochs": 3, "random_state": 0}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def smiles(nci_smiles):
    return nci_smiles[:200]


@pytest.fixture(scope="module")
def groups(smiles):
    return scaffold_groups(smiles)


@pytest.fixture(scope="module")
def X(smiles):
    return MorganFingerprint(n_bits=128).transform(smiles)


@pytest.fixture(scope="module")
def Y(X):
    y = np.column_stack([X[:, :10].sum(1) > 2, X[:, 10:20].sum(1) > 2]).astype(float)
    y[np.random.default_rng(0).random(y.shape) < 0.2] = np.nan
    return y


class SpyMLP(MultiTaskMLPClassifier):
    """Records the groups its fit receives."""

    seen: list = []

    def fit(self, X, y, X_val=None, y_val=None, groups=None):
        type(self).seen.append(None if groups is None else np.asarray(groups).copy())
        return super().fit(X, y, X_val=X_val, y_val=y_val, groups=groups)


# --- early stopping on whole groups -------------------------------------------------------


def test_group_hold_out_is_made_of_whole_groups(X, Y, groups):
    clf = MultiTaskMLPClassifier(validation_fraction=0.2, **TINY).fit(X, Y, groups=groups)
    held = clf.validation_indices_
    assert held.size > 0 and np.array_equal(held, np.unique(held))
    # every held-out group is held out whole, and no other group is touched
    np.testing.assert_array_equal(held, np.flatnonzero(np.isin(groups, clf.validation_groups_)))
    np.testing.assert_array_equal(np.unique(groups[held]), clf.validation_groups_)
    # about validation_fraction of the molecules (the balanced rule hits the target here)
    assert abs(held.size - 0.2 * len(X)) <= 2
    # the network was early-stopped on exactly those rows
    valid_ds = clf.net_.train_split.keywords["valid_ds"]
    np.testing.assert_array_equal(valid_ds.X, X[held].astype(np.float32))
    assert "valid_loss" in clf.history_[-1]


def test_group_hold_out_follows_random_state(X, Y, groups):
    a = MultiTaskMLPClassifier(**TINY).fit(X, Y, groups=groups).validation_indices_
    b = MultiTaskMLPClassifier(**TINY).fit(X, Y, groups=groups).validation_indices_
    c = MultiTaskMLPClassifier(**{**TINY, "random_state": 1}).fit(X, Y, groups=groups)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c.validation_indices_)


def test_without_groups_the_random_hold_out_is_unchanged(X, Y, groups):
    clf = MultiTaskMLPClassifier(**TINY).fit(X, Y)
    # the hold-out the estimator drew before groups existed: same generator, same draws
    rng = np.random.RandomState(0)
    rng.randint(np.iinfo(np.int32).max)
    expected = np.sort(rng.permutation(len(X))[: int(np.ceil(0.1 * len(X)))])
    np.testing.assert_array_equal(clf.validation_indices_, expected)
    assert clf.validation_groups_ is None
    # a random hold-out cuts through scaffold groups; the group hold-out never does
    cut = np.isin(groups, groups[expected]) & ~np.isin(np.arange(len(X)), expected)
    assert cut.any()
    # explicit validation data wins over groups
    given = MultiTaskMLPClassifier(**TINY).fit(X[:150], Y[:150], groups=groups[:150],
                                               X_val=X[150:], y_val=Y[150:])
    assert given.validation_indices_.size == 0
    # groups came last in the signature: positional X_val, y_val keep their meaning
    positional = MultiTaskMLPClassifier(**TINY).fit(X[:150], Y[:150], X[150:], Y[150:])
    np.testing.assert_array_equal(positional.predict_proba(X), given.predict_proba(X))


def test_bad_groups_are_clear_errors(X, Y, groups):
    clf = MultiTaskMLPClassifier(**TINY)
    with pytest.raises(ValueError, match="groups has 199 labels but X has 200 rows"):
        clf.fit(X, Y, groups=groups[:-1])
    with pytest.raises(ValueError, match="groups must be 1-D"):
        clf.fit(X, Y, groups=groups[:, None])
    with pytest.raises(ValueError, match="groups contains missing values"):
        clf.fit(X, Y, groups=np.where(groups == 0, np.nan, groups))


def test_few_large_groups(X, Y):
    # four groups of 50: no whole group is near 10 %, the smallest one (a random one of the
    # four equal ones) is held out
    four = np.repeat(["a", "b", "c", "d"], 50)
    clf = MultiTaskMLPClassifier(**TINY).fit(X, Y, groups=four)
    assert clf.validation_groups_.size == 1 and clf.validation_indices_.size == 50
    np.testing.assert_array_equal(clf.validation_indices_,
                                  np.flatnonzero(four == clf.validation_groups_[0]))
    # one group, or two halves: nothing whole can be held out, so no early stopping
    for few in (np.zeros(len(X), int), np.repeat([0, 1], 100)):
        with pytest.warns(UserWarning, match="too few to hold out whole groups"):
            clf = MultiTaskMLPClassifier(**TINY).fit(X, Y, groups=few)
        assert clf.validation_indices_.size == 0 and clf.best_epoch_ == len(clf.history_) == 3
        assert "valid_loss" not in clf.history_[-1]


# --- metadata routing through Pipeline, cross_val_score, GridSearchCV -------------------


def test_pipeline_cross_val_score_routes_training_fold_groups(smiles, Y, groups):
    SpyMLP.seen = []
    cv = ScaffoldKFold(n_splits=3)
    with sklearn.config_context(enable_metadata_routing=True):
        fp = MorganFingerprint(n_bits=128).set_output(transform="pandas")
        pipe = make_pipeline(fp, SpyMLP(**TINY).set_fit_request(groups=True))
        scores = cross_val_score(pipe, smiles, Y, cv=cv, params={"groups": groups})
    assert np.isfinite(scores).all()
    trains = [train for train, _ in cv.split(smiles)]
    assert len(SpyMLP.seen) == 3
    for seen, train in zip(SpyMLP.seen, trains):
        np.testing.assert_array_equal(seen, groups[train])


def test_grid_search_routes_groups_to_the_head_and_the_splitter(smiles, Y, groups):
    SpyMLP.seen = []
    # other group labels than the scaffolds: the splitter must use the routed ones
    coarse = groups % 20
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(MorganFingerprint(n_bits=64),
                             SpyMLP(**TINY).set_fit_request(groups=True))
        search = GridSearchCV(pipe, {"spymlp__hidden_size": [8, 16]}, cv=ScaffoldKFold(2))
        search.fit(smiles, Y, groups=coarse)
    assert len(SpyMLP.seen) == 2 * 2 + 1  # candidates x folds, then the refit on everything
    for seen in SpyMLP.seen[:-1]:
        # each fold holds whole coarse groups, so a training fold misses some of the 20 labels
        assert 0 < np.unique(seen).size < 20
    np.testing.assert_array_equal(SpyMLP.seen[-1], coarse)
    head = search.best_estimator_[-1]
    assert head.validation_indices_.size > 0
    np.testing.assert_array_equal(head.validation_indices_,
                                  np.flatnonzero(np.isin(coarse, head.validation_groups_)))


def test_unset_request_is_sklearns_clear_error(smiles, Y, groups):
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(MorganFingerprint(n_bits=64), MultiTaskMLPClassifier(**TINY))
        with pytest.raises(UnsetMetadataPassedError, match="set_fit_request"):
            pipe.fit(smiles, Y, groups=groups)
        # a head told not to use groups leaves them to the splitter
        SpyMLP.seen = []
        pipe = make_pipeline(MorganFingerprint(n_bits=64),
                             SpyMLP(**TINY).set_fit_request(groups=False))
        cross_val_score(pipe, smiles, Y, cv=ScaffoldKFold(2), params={"groups": groups},
                        error_score="raise")
        assert SpyMLP.seen == [None, None]


def test_without_routing_the_step_prefix_still_works(smiles, Y, groups):
    SpyMLP.seen = []
    pipe = make_pipeline(MorganFingerprint(n_bits=64), SpyMLP(**TINY))
    pipe.fit(smiles, Y, spymlp__groups=groups)
    np.testing.assert_array_equal(SpyMLP.seen[-1], groups)


def test_embedders_request_no_metadata_and_frozen_ones_pass_through(smiles, Y, groups):
    for transformer in (InfoAlignEmbedder(None), ContrastiveEmbedder(None),
                        MorganFingerprint(), FrozenEstimator(MorganFingerprint())):
        routing = transformer.get_metadata_routing()
        for method in ("fit", "transform"):
            assert not routing.consumes(method, ["groups", "X_val", "y_val"])
    SpyMLP.seen = []
    with sklearn.config_context(enable_metadata_routing=True):
        frozen = FrozenEstimator(MorganFingerprint(n_bits=64).fit(smiles))
        pipe = make_pipeline(frozen, StandardScaler(), SpyMLP(**TINY).set_fit_request(groups=True))
        pipe.set_output(transform="pandas").fit(smiles, Y, groups=groups)
        assert pipe.get_metadata_routing().consumes("fit", ["groups"]) == {"groups"}
    np.testing.assert_array_equal(SpyMLP.seen[-1], groups)


def test_per_task_estimator_routes_groups_to_each_task(X, Y, groups):
    SpyMLP.seen = []
    with sklearn.config_context(enable_metadata_routing=True):
        inner = SpyMLP(**TINY).set_fit_request(groups=True)
        PerTaskEstimator(inner).fit(X, Y, groups=groups)
        with pytest.raises(UnsetMetadataPassedError):
            PerTaskEstimator(MultiTaskMLPClassifier(**TINY)).fit(X, Y, groups=groups)
    for task, seen in enumerate(SpyMLP.seen):
        np.testing.assert_array_equal(seen, groups[~np.isnan(Y[:, task])])
    SpyMLP.seen = []
    PerTaskEstimator(SpyMLP(**TINY)).fit(X, Y, groups=groups)  # routing off: passed as given
    np.testing.assert_array_equal(SpyMLP.seen[1], groups[~np.isnan(Y[:, 1])])


# --- RMSE, MSE loss ----------------------------------------------------------------------


def test_rmse_by_hand_with_missing_labels():
    y = np.array([[1.0, np.nan, 2.0], [2.0, 3.0, np.nan], [4.0, 5.0, np.nan], [0.0, 1.0, 5.0]])
    pred = np.array([[2.0, 9.0, 2.0], [2.0, 3.0, 7.0], [3.0, 1.0, 0.0], [0.0, 4.0, 1.0]])
    # task 0: errors 1, 0, 1, 0; task 1: 0, 4, 3 (row 0 missing); task 2: 0, 4 (rows 1-2 missing)
    expected = [np.sqrt(2 / 4), np.sqrt(25 / 3), np.sqrt(16 / 2)]
    np.testing.assert_allclose(per_task_rmse(y, pred), expected)
    assert multitask_rmse(y, pred) == pytest.approx(np.mean(expected))
    np.testing.assert_allclose(per_task_mae(y, pred), [2 / 4, 7 / 3, 4 / 2])
    assert np.isnan(per_task_rmse(np.full((2, 1), np.nan), np.zeros((2, 1)))).all()
    with pytest.raises(ValueError, match="No task has a measured value"):
        multitask_rmse(np.full((2, 2), np.nan), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="NaN predictions on measured rows"):
        multitask_rmse(y, np.where(y == 1.0, np.nan, pred))


def test_rmse_scorer_on_a_fitted_regressor(X):
    y = np.column_stack([X[:, :10].sum(1), 10 * X[:, 10:20].sum(1)])
    y[np.random.default_rng(1).random(y.shape) < 0.3] = np.nan
    reg = MultiTaskMLPRegressor(**TINY).fit(X, y)
    pred = reg.predict(X)
    by_hand = np.mean([np.sqrt(np.mean((y[~np.isnan(y[:, t]), t]
                                        - pred[~np.isnan(y[:, t]), t]) ** 2)) for t in range(2)])
    assert neg_multitask_rmse_scorer(reg, X, y) == pytest.approx(-by_hand, rel=1e-6)
    assert neg_multitask_rmse_scorer(reg, X, y) <= neg_multitask_mae_scorer(reg, X, y)


def test_mse_loss_is_masked_and_trains_another_model(X):
    pred = torch.tensor([[1.0, 2.0], [3.0, 0.0]])
    true = torch.tensor([[0.0, float("nan")], [1.0, 3.0]])
    # measured errors 1, 2, 3: squared mean 14 / 3
    assert float(masked_loss(torch.nn.MSELoss(), pred, true)) == pytest.approx(14 / 3)
    y = np.column_stack([X[:, :10].sum(1), X[:, 10:20].sum(1) ** 2])
    y[::5, 1] = np.nan
    fits = {loss: MultiTaskMLPRegressor(loss=loss, **{**TINY, "max_epochs": 10}).fit(X, y)
            for loss in ("l1", "mse")}
    assert isinstance(fits["mse"].net_.criterion_, torch.nn.MSELoss)
    assert isinstance(fits["l1"].net_.criterion_, torch.nn.L1Loss)
    mse_pred, l1_pred = fits["mse"].predict(X), fits["l1"].predict(X)
    assert np.isfinite(mse_pred).all()
    assert not np.allclose(mse_pred, l1_pred, rtol=1e-3)
    assert fits["mse"].score(X, y) > 0  # it learned something
    assert MultiTaskMLPRegressor().loss == "l1"  # default unchanged
    with pytest.raises(ValueError, match="loss"):
        MultiTaskMLPRegressor(loss="huber").fit(X, y)


# --- (n, 1) y is one task, exactly as 1-D y ------------------------------------------------


def _fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return model.fit(X, y)


def test_column_y_is_one_task_for_the_regressor(X):
    y = X[:, :10].sum(1)
    y[::7] = np.nan
    flat = _fit_quietly(MultiTaskMLPRegressor(**TINY), X, y)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = MultiTaskMLPRegressor(**TINY).fit(X, y[:, None])
    assert column.predict(X).shape == flat.predict(X).shape == (len(X),)
    np.testing.assert_array_equal(column.predict(X), flat.predict(X))
    assert column.score(X, y[:, None]) == flat.score(X, y)


def test_column_y_is_one_task_for_the_classifier_and_per_task(X):
    y = (X[:, :10].sum(1) > 2).astype(float)
    y[::7] = np.nan
    for model in (MultiTaskMLPClassifier(**TINY), PerTaskEstimator(LogisticRegression())):
        flat = _fit_quietly(clone_of(model), X, y)
        with pytest.warns(DataConversionWarning, match="column-vector y"):
            column = clone_of(model).fit(X, y[:, None])
        assert column.predict_proba(X).shape == (len(X), 2)
        np.testing.assert_array_equal(column.predict(X), flat.predict(X))
        np.testing.assert_array_equal(column.predict_proba(X), flat.predict_proba(X))
        assert column.score(X, y[:, None]) == flat.score(X, y)
    ridge = PerTaskEstimator(Ridge())
    with pytest.warns(DataConversionWarning):
        assert ridge.fit(X, X[:, :1]).predict(X).shape == (len(X),)


def clone_of(model):
    return sklearn.base.clone(model)


def test_metrics_take_column_y_as_one_task():
    y = np.array([0.0, 1.0, np.nan, 1.0, 0.0, 1.0])
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.5, 0.5], [0.85, 0.15], [0.9, 0.1], [0.2, 0.8]])
    col, pos = y[:, None], proba[:, 1]
    assert per_task_roc_auc(col, proba).tolist() == per_task_roc_auc(y, proba).tolist()
    assert multitask_roc_auc(col, pos[:, None]) == multitask_roc_auc(y, pos) == pytest.approx(
        5 / 6)
    reg = np.array([0.5, 1.5, 9.0, 1.0, -1.0, 2.0])
    for fn in (per_task_mae, per_task_rmse):
        expected = fn(y, reg)
        for a, b in ((col, reg), (y, reg[:, None]), (col, reg[:, None])):
            np.testing.assert_array_equal(fn(a, b), expected)
    assert multitask_mae(col, reg) == multitask_mae(y, reg)
    assert multitask_rmse(col, reg[:, None]) == multitask_rmse(y, reg)
    labels = (reg > 1.2).astype(float)  # wrong on row 3 only, of the 5 measured rows
    assert masked_accuracy(col, labels) == masked_accuracy(y, labels) == pytest.approx(0.8)
    assert masked_r2(col, reg) == masked_r2(y, reg[:, None]) == masked_r2(y, reg)
    with pytest.raises(ValueError, match="same shape"):
        masked_r2(np.zeros((4, 2)), np.zeros(4))
