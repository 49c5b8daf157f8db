import numpy as np
import pytest
import torch
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

import infoalign_sklearn.metrics as metrics_module
from infoalign_sklearn import (
    MorganFingerprint,
    MultiTaskMLPClassifier,
    PerTaskEstimator,
    ScaffoldKFold,
    hit_at_k,
    multitask_mae,
    multitask_roc_auc,
    multitask_roc_auc_scorer,
    ndcg_at_k,
    neg_multitask_mae_scorer,
    per_task_mae,
    per_task_roc_auc,
    share_of_tasks_above,
)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    # tiny networks on shared cores: thread hand-offs cost more than the arithmetic
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def labelled():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=(80, 4)).astype(float)
    y[rng.random(y.shape) < 0.4] = np.nan
    y[:, 2] = np.where(np.isnan(y[:, 2]), np.nan, 1.0)  # one class only: cannot be scored
    y[:, 3] = np.nan  # never measured
    score = np.where(np.isnan(y), rng.random(y.shape), y * 0.5 + rng.random(y.shape))
    return y, score


def test_per_task_auc_equals_sklearn_on_measured_rows(labelled):
    y, score = labelled
    aucs = per_task_roc_auc(y, score)
    for task in range(2):
        rows = ~np.isnan(y[:, task])
        assert aucs[task] == pytest.approx(roc_auc_score(y[rows, task], score[rows, task]))
    assert np.isnan(aucs[2:]).all()
    assert multitask_roc_auc(y, score) == pytest.approx(aucs[:2].mean())


def test_nan_labels_never_reach_sklearn_metric(labelled, monkeypatch):
    y, score = labelled
    calls = []

    def spy(labels, scores):
        assert not np.isnan(labels).any() and not np.isnan(scores).any()
        calls.append(len(labels))
        return roc_auc_score(labels, scores)

    monkeypatch.setattr(metrics_module, "roc_auc_score", spy)
    multitask_roc_auc(y, score)
    assert calls == [int((~np.isnan(y[:, t])).sum()) for t in range(2)]


def test_auc_raises_when_no_task_scorable():
    with pytest.raises(ValueError, match="No task can be scored"):
        multitask_roc_auc([[1, np.nan], [1, 0]], [[0.2, 0.1], [0.3, 0.4]])


def test_auc_accepts_predict_proba_table_for_one_task():
    y = np.array([0, 1, 1, 0, np.nan])
    proba_positive = np.array([0.2, 0.7, 0.4, 0.5, 0.9])
    table = np.column_stack([1 - proba_positive, proba_positive])
    assert multitask_roc_auc(y, table) == multitask_roc_auc(y, proba_positive) == 0.75


def test_share_of_tasks_above_thresholds():
    y = np.tile([[0.0], [1.0]], (1, 4))
    y = np.vstack([y, y])
    scores = np.array([
        [0.1, 0.1, 0.5, 0.4], [0.9, 0.8, 0.5, 0.05], [0.2, 0.5, 0.5, 0.3], [0.8, 0.3, 0.5, 0.1],
    ])
    aucs = per_task_roc_auc(y, scores)
    assert aucs.tolist() == [1.0, 0.75, 0.5, 0.0]
    assert share_of_tasks_above(y, scores) == {0.8: 0.25, 0.85: 0.25, 0.9: 0.25, 0.95: 0.25}
    assert share_of_tasks_above(y, scores, [0.7])[0.7] == 0.5


def test_mae_per_task_ignores_unmeasured():
    y = np.array([[1.0, np.nan, np.nan], [3.0, 2.0, np.nan]])
    pred = np.array([[2.0, 100.0, 5.0], [3.0, 1.5, 5.0]])
    maes = per_task_mae(y, pred)
    assert maes[:2].tolist() == [0.5, 0.5] and np.isnan(maes[2])
    assert multitask_mae(y, pred) == 0.5
    with pytest.raises(ValueError, match="No task"):
        multitask_mae([[np.nan]], [[1.0]])
    with pytest.raises(ValueError, match="same shape"):
        per_task_mae(y, pred[:, :2])


def multi_task_labels(smiles):
    from rdkit import Chem
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    y = np.array([
        [m.GetRingInfo().NumRings() > 1, any(a.GetSymbol() == "N" for a in m.GetAtoms()),
         any(a.GetSymbol() == "O" for a in m.GetAtoms())]
        for m in mols
    ], dtype=float)
    y[np.random.default_rng(1).random(y.shape) < 0.3] = np.nan
    return y


def test_scorer_with_multi_task_estimators_in_cross_val_score(nci_smiles):
    smiles = nci_smiles[:240]
    y = multi_task_labels(smiles)
    forest = make_pipeline(
        MorganFingerprint(n_bits=256),
        PerTaskEstimator(RandomForestClassifier(n_estimators=15, random_state=0)),
    )
    mlp = make_pipeline(
        MorganFingerprint(n_bits=256),
        MultiTaskMLPClassifier(hidden_size=32, max_epochs=15, lr=1e-2, random_state=0),
    )
    for model in (forest, mlp):
        scores = cross_val_score(model, smiles, y, cv=ScaffoldKFold(3),
                                 scoring=multitask_roc_auc_scorer)
        assert scores.shape == (3,) and scores.min() > 0.6


def test_scorer_single_task_matches_sklearn_roc_auc(nci_smiles, ring_label):
    pipe = make_pipeline(MorganFingerprint(n_bits=128), LogisticRegression(max_iter=300))
    pipe.fit(nci_smiles[:200], ring_label[:200])
    ours = multitask_roc_auc_scorer(pipe, nci_smiles[200:], ring_label[200:])
    theirs = get_scorer("roc_auc")(pipe, nci_smiles[200:], ring_label[200:])
    assert ours == pytest.approx(theirs)


def test_mae_scorer_is_negated_and_nan_aware():
    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    y = np.column_stack([X[:, 0], X[:, 1]])
    y[::3, 1] = np.nan
    model = PerTaskEstimator(RandomForestRegressor(n_estimators=10, random_state=0)).fit(X, y)
    assert neg_multitask_mae_scorer(model, X, y) == pytest.approx(
        -multitask_mae(y, model.predict(X))
    )


def test_hit_and_ndcg_by_hand():
    scores = np.array([
        [0.9, 0.1, 0.5, 0.3],  # true 0: rank 1
        [0.9, 0.1, 0.5, 0.3],  # true 2: rank 2
        [0.9, 0.1, 0.5, 0.3],  # true 1: rank 4
    ])
    true = np.array([0, 2, 1])
    assert hit_at_k(scores, true, k=1) == pytest.approx(1 / 3)
    assert hit_at_k(scores, true, k=2) == pytest.approx(2 / 3)
    assert hit_at_k(scores, true, k=4) == 1.0
    assert ndcg_at_k(scores, true, k=2) == pytest.approx((1 + 1 / np.log2(3)) / 3)
    assert ndcg_at_k(scores, true, k=4) == pytest.approx((1 + 1 / np.log2(3) + 1 / np.log2(5)) / 3)


def test_ranking_ties_count_against_and_inputs_checked():
    flat = np.zeros((5, 10))
    assert hit_at_k(flat, np.arange(5), k=1) == 0.0
    assert ndcg_at_k(np.eye(5), np.arange(5), k=1) == 1.0
    with pytest.raises(ValueError, match="true_index"):
        hit_at_k(flat, np.array([0, 1, 2, 3, 10]))
    with pytest.raises(ValueError, match="NaN"):
        ndcg_at_k(np.full((2, 2), np.nan), [0, 1])
