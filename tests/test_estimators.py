import pickle
import warnings

import numpy as np
import pytest
import torch
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.gaussian_process import GaussianProcessClassifier, GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, WhiteKernel
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from infoalign_sklearn import (
    MorganFingerprint,
    MultiTaskMLPClassifier,
    MultiTaskMLPRegressor,
    PerTaskEstimator,
    ScaffoldKFold,
    TanimotoKernel,
    multitask_roc_auc_scorer,
    neg_multitask_mae_scorer,
)
from infoalign_sklearn.estimators import masked_loss


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    # tiny networks on shared cores: thread hand-offs cost more than the arithmetic
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SMALL = {"hidden_size": 32, "max_epochs": 30, "lr": 1e-2, "random_state": 0}


@parametrize_with_checks([
    MultiTaskMLPClassifier(**SMALL),
    MultiTaskMLPRegressor(**SMALL),
    PerTaskEstimator(LogisticRegression()),
    PerTaskEstimator(Ridge()),
])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def structure_labels(smiles, missing=0.3, seed=1):
    """Three binary tasks readable from structure, with a share of labels not measured."""
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    y = np.array([
        [m.GetRingInfo().NumRings() > 1, any(a.GetSymbol() == "N" for a in m.GetAtoms()),
         any(a.GetSymbol() == "O" for a in m.GetAtoms())]
        for m in mols
    ], dtype=float)
    y[np.random.default_rng(seed).random(y.shape) < missing] = np.nan
    return y


@pytest.fixture(scope="module")
def fingerprints(nci_smiles):
    return MorganFingerprint(n_bits=256).transform(nci_smiles[:240])


@pytest.fixture(scope="module")
def multi_y(nci_smiles):
    return structure_labels(nci_smiles[:240])


def test_masked_loss_ignores_unmeasured_entries():
    pred = torch.tensor([[0.3, 5.0], [0.7, -2.0]], requires_grad=True)
    true = torch.tensor([[1.0, float("nan")], [0.0, float("nan")]])
    loss = masked_loss(torch.nn.BCEWithLogitsLoss(), pred, true)
    loss.backward()
    assert torch.isfinite(loss)
    assert pred.grad[:, 1].abs().sum() == 0 and pred.grad[:, 0].abs().sum() > 0
    empty = masked_loss(torch.nn.L1Loss(), pred, torch.full((2, 2), float("nan")))
    assert float(empty.detach()) == 0.0 and empty.requires_grad


class _NaNGuardBCE(torch.nn.BCEWithLogitsLoss):
    batches = 0

    def forward(self, input, target):
        assert not torch.isnan(target).any() and not torch.isnan(input).any()
        type(self).batches += 1
        return super().forward(input, target)


def test_nan_labels_never_reach_the_loss(fingerprints, multi_y, monkeypatch):
    monkeypatch.setattr(MultiTaskMLPClassifier, "_criterion", lambda self: _NaNGuardBCE)
    assert np.isnan(multi_y).mean() > 0.2
    clf = MultiTaskMLPClassifier(hidden_size=16, max_epochs=3, random_state=0)
    clf.fit(fingerprints, multi_y)
    assert _NaNGuardBCE.batches > 0
    assert all(np.isfinite(row["train_loss"]) for row in clf.history_)


def test_same_seed_same_numbers_and_global_rng_untouched(fingerprints, multi_y):
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = MultiTaskMLPClassifier(hidden_size=16, max_epochs=4, random_state=7).fit(
        fingerprints, multi_y
    )
    assert torch.rand(1) == before
    b = MultiTaskMLPClassifier(hidden_size=16, max_epochs=4, random_state=7).fit(
        fingerprints, multi_y
    )
    c = MultiTaskMLPClassifier(hidden_size=16, max_epochs=4, random_state=8).fit(
        fingerprints, multi_y
    )
    np.testing.assert_array_equal(a.predict_proba(fingerprints), b.predict_proba(fingerprints))
    assert not np.allclose(a.predict_proba(fingerprints), c.predict_proba(fingerprints))


def test_multi_task_outputs_and_defaults(fingerprints, multi_y):
    default = MultiTaskMLPClassifier()
    assert (default.hidden_size, default.dropout, default.lr, default.weight_decay,
            default.batch_norm) == (1200, 0.5, 1e-3, 1e-5, True)
    clf = MultiTaskMLPClassifier(hidden_size=16, max_epochs=3, random_state=0)
    clf.fit(fingerprints, multi_y)
    proba = clf.predict_proba(fingerprints)
    assert proba.shape == (240, 3) and ((proba >= 0) & (proba <= 1)).all()
    assert set(np.unique(clf.predict(fingerprints))) <= {0.0, 1.0}
    layers = [type(m).__name__ for m in clf.net_.module_.layers]
    assert layers == ["Linear", "BatchNorm1d", "GELU", "Dropout", "Linear"]
    assert clf.net_.device == ("cuda" if torch.cuda.is_available() else "cpu")


def test_early_stopping_keeps_best_validation_epoch(fingerprints, multi_y):
    X_tr, y_tr, X_va, y_va = fingerprints[:180], multi_y[:180], fingerprints[180:], multi_y[180:]
    clf = MultiTaskMLPClassifier(hidden_size=64, lr=3e-2, max_epochs=60, patience=3,
                                 random_state=0)
    clf.fit(X_tr, y_tr, X_val=X_va, y_val=y_va)
    losses = [row["valid_loss"] for row in clf.history_]
    assert len(losses) < 60  # stopped early
    assert len(losses) - clf.best_epoch_ == 3
    logits = torch.as_tensor(np.log(clf.predict_proba(X_va) / (1 - clf.predict_proba(X_va))))
    kept = masked_loss(torch.nn.BCEWithLogitsLoss(), logits, torch.as_tensor(y_va))
    # validation batches of 128 are averaged per batch by skorch: compare loosely
    assert float(kept) == pytest.approx(min(losses), rel=0.05)
    assert float(kept) < losses[-1]


def test_one_dimensional_binary_y_gives_sklearn_proba(nci_smiles, ring_label):
    pipe = make_pipeline(MorganFingerprint(n_bits=256),
                         MultiTaskMLPClassifier(hidden_size=32, max_epochs=20, random_state=0))
    scores = cross_val_score(pipe, nci_smiles, ring_label, cv=ScaffoldKFold(3), scoring="roc_auc")
    assert scores.mean() > 0.65
    pipe.fit(nci_smiles[:100], ring_label[:100])
    assert pipe.predict_proba(nci_smiles[:5]).shape == (5, 2)


def test_one_dimensional_y_with_missing_labels(fingerprints, multi_y):
    y = multi_y[:, 0]
    clf = MultiTaskMLPClassifier(hidden_size=16, max_epochs=3, random_state=0).fit(fingerprints, y)
    assert clf.classes_.tolist() == [0.0, 1.0]
    assert set(clf.predict(fingerprints)) <= {0.0, 1.0}
    assert clf.score(fingerprints, y) == pytest.approx(
        np.mean(clf.predict(fingerprints)[~np.isnan(y)] == y[~np.isnan(y)])
    )
    labels = np.where(np.isnan(y), None, np.where(y == 1, "active", "inactive")).astype(object)
    clf.fit(fingerprints, labels)
    assert clf.classes_.tolist() == ["active", "inactive"]


def test_grid_search_over_hidden_size(nci_smiles, multi_y):
    pipe = make_pipeline(MorganFingerprint(n_bits=128),
                         MultiTaskMLPClassifier(max_epochs=5, lr=1e-2, random_state=0))
    search = GridSearchCV(pipe, {"multitaskmlpclassifier__hidden_size": [8, 32]},
                          cv=ScaffoldKFold(2), scoring=multitask_roc_auc_scorer)
    search.fit(nci_smiles[:240], multi_y)
    assert search.best_params_["multitaskmlpclassifier__hidden_size"] in (8, 32)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_regressor_masks_and_scales(fingerprints, nci_smiles):
    rng = np.random.default_rng(0)
    y = np.column_stack([fingerprints[:, :20].sum(1), 100 + 50 * fingerprints[:, 20:40].sum(1)])
    y[rng.random(y.shape) < 0.3] = np.nan
    for loss in ("l1", "mse"):
        reg = MultiTaskMLPRegressor(hidden_size=32, max_epochs=40, lr=1e-2, loss=loss,
                                    random_state=0).fit(fingerprints, y)
        pred = reg.predict(fingerprints)
        assert pred.shape == (240, 2) and np.isfinite(pred).all()
        assert reg.score(fingerprints, y) > 0.5
    one = MultiTaskMLPRegressor(hidden_size=8, max_epochs=2, random_state=0)
    assert one.fit(fingerprints, y[:, 0]).predict(fingerprints).shape == (240,)
    scores = cross_val_score(
        make_pipeline(MorganFingerprint(n_bits=128),
                      MultiTaskMLPRegressor(hidden_size=16, max_epochs=5, random_state=0)),
        nci_smiles[:240], y,
        cv=ScaffoldKFold(3), scoring=neg_multitask_mae_scorer,
    )
    assert (scores < 0).all()


def test_pickled_heads_predict_the_same(fingerprints, multi_y):
    for model in (
        MultiTaskMLPClassifier(hidden_size=16, max_epochs=2, random_state=0),
        MultiTaskMLPRegressor(hidden_size=16, max_epochs=2, random_state=0),
        PerTaskEstimator(RandomForestClassifier(n_estimators=5, random_state=0)),
    ):
        model.fit(fingerprints, multi_y)
        restored = pickle.loads(pickle.dumps(model))
        method = "predict_proba" if hasattr(model, "predict_proba") else "predict"
        np.testing.assert_array_equal(getattr(restored, method)(fingerprints),
                                      getattr(model, method)(fingerprints))


class _RecordingRidge(Ridge):
    seen: list = []

    def fit(self, X, y):
        type(self).seen.append(np.asarray(y).copy())
        return super().fit(X, y)


def test_per_task_fits_each_task_on_its_measured_rows(fingerprints, multi_y):
    _RecordingRidge.seen = []
    model = PerTaskEstimator(_RecordingRidge()).fit(fingerprints, multi_y)
    assert len(model.estimators_) == 3
    for task, y_seen in enumerate(_RecordingRidge.seen):
        assert not np.isnan(y_seen).any()
        np.testing.assert_array_equal(y_seen, multi_y[~np.isnan(multi_y[:, task]), task])
    assert model.predict(fingerprints).shape == (240, 3)


def test_per_task_one_class_task_gets_constant_and_warning(fingerprints, multi_y):
    y = multi_y.copy()
    y[:, 1] = np.where(np.isnan(y[:, 1]), np.nan, 1.0)
    with pytest.warns(UserWarning, match="Task 1 has only one class"):
        model = PerTaskEstimator(LogisticRegression(max_iter=300), n_jobs=2).fit(fingerprints, y)
    proba = model.predict_proba(fingerprints)
    assert proba.shape == (240, 3)
    assert (proba[:, 1] == 1.0).all() and proba[:, 0].std() > 0
    y[:, 2] = np.nan
    with pytest.warns(UserWarning) as record:
        model.set_params(n_jobs=None).fit(fingerprints, y)
    assert [str(w.message).split(";")[0] for w in record] == [
        "PerTaskEstimator: 1 task(s) of 3 have no measured label in y (column index 2)",
        "Task 1 has only one class (1.0) in its measured labels",
    ]
    assert np.isnan(model.predict_proba(fingerprints)[:, 2]).all()


def test_per_task_in_cross_val_score_with_smiles_inside_and_outside(nci_smiles, multi_y):
    smiles = nci_smiles[:240]
    outside = make_pipeline(MorganFingerprint(n_bits=256),
                            PerTaskEstimator(RandomForestClassifier(n_estimators=10,
                                                                    random_state=0)))
    inside = PerTaskEstimator(make_pipeline(MorganFingerprint(n_bits=256),
                                            LogisticRegression(max_iter=300)))
    for model in (outside, inside):
        scores = cross_val_score(model, smiles, multi_y, cv=ScaffoldKFold(3),
                                 scoring=multitask_roc_auc_scorer)
        assert scores.mean() > 0.7


def rdkit_tanimoto(smiles):
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=256)
    fps = [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles]
    return np.array([DataStructs.BulkTanimotoSimilarity(fp, fps) for fp in fps])


def test_tanimoto_kernel_matches_rdkit(nci_smiles):
    X = MorganFingerprint(n_bits=256).transform(nci_smiles[:30])
    kernel = TanimotoKernel()
    K = kernel(X)
    np.testing.assert_allclose(K, rdkit_tanimoto(nci_smiles[:30]), atol=1e-12)
    np.testing.assert_allclose(kernel.diag(X), np.diag(K))
    assert np.linalg.eigvalsh(K).min() > -1e-8
    assert not kernel.is_stationary() and kernel.n_dims == 0
    assert kernel.hyperparameters == [] and clone(kernel) == kernel
    K_grad, gradient = kernel(X, eval_gradient=True)
    assert gradient.shape == (30, 30, 0)
    np.testing.assert_allclose(kernel(X[:5], X), K[:5])
    with pytest.raises(ValueError, match="non-negative"):
        kernel(-X)


def test_tanimoto_in_gaussian_processes(nci_smiles, ring_label):
    smiles = nci_smiles[:150]
    gpc = make_pipeline(MorganFingerprint(n_bits=256),
                        GaussianProcessClassifier(kernel=TanimotoKernel()))
    scores = cross_val_score(gpc, smiles, ring_label[:150], cv=ScaffoldKFold(3),
                             scoring="roc_auc")
    assert scores.mean() > 0.65
    X = MorganFingerprint(n_bits=256).transform(smiles)
    y = X[:, :30].sum(1)
    kernel = ConstantKernel(1.0) * TanimotoKernel() + WhiteKernel(0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs convergence chatter on a tiny problem
        gpr = GaussianProcessRegressor(kernel=kernel, normalize_y=True, random_state=0)
        gpr.fit(X[:100], y[:100])
    assert gpr.kernel_.theta.shape == (2,)
    assert gpr.score(X[100:], y[100:]) > 0.3
    y2 = np.column_stack([y, -y])
    y2[::4, 1] = np.nan
    per_task = PerTaskEstimator(GaussianProcessRegressor(kernel=TanimotoKernel(), alpha=0.1))
    assert per_task.fit(X, y2).predict(X).shape == (150, 2)
