import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, PredefinedSplit, cross_val_score
from sklearn.pipeline import make_pipeline

from infoalign_sklearn import (
    InvalidMoleculeError,
    MorganFingerprint,
    ScaffoldKFold,
    scaffold_groups,
    scaffold_split_indices,
    scaffold_train_valid_test_split,
    scaffold_validation_split,
)
from infoalign_sklearn.chem import scaffolds_of


def toxcast_like_groups(n=2000, seed=0):
    """Group labels with ToxCast's shape: 23 % and 18 % in two groups, the rest small."""
    rng = np.random.default_rng(seed)
    sizes = [int(0.23 * n), int(0.18 * n)]
    while sum(sizes) < n:
        sizes.append(min(int(rng.integers(1, 6)), n - sum(sizes)))
    return rng.permutation(np.repeat(np.arange(len(sizes)), sizes))


def assert_disjoint(groups, *parts):
    seen = [set(np.asarray(groups, dtype=object)[p].tolist()) for p in parts]
    for i in range(len(seen)):
        for j in range(i + 1, len(seen)):
            assert not seen[i] & seen[j]


def test_scaffold_groups_follow_scaffolds():
    smiles = ["c1ccccc1O", "CCO", "c1ccccc1N", "CCN", "C1CC1C"]
    assert scaffold_groups(smiles).tolist() == [0, 1, 0, 1, 2]


def test_kfold_is_scaffold_disjoint_balanced_and_complete(nci_smiles):
    scaffolds = scaffolds_of(nci_smiles)
    cv = ScaffoldKFold(n_splits=5)
    tested = []
    sizes = []
    for train, test in cv.split(nci_smiles):
        assert_disjoint(scaffolds, train, test)
        assert len(train) + len(test) == len(nci_smiles)
        tested.extend(test.tolist())
        sizes.append(len(test))
    assert sorted(tested) == list(range(len(nci_smiles)))
    biggest_group = np.bincount(scaffold_groups(nci_smiles)).max()
    assert max(sizes) - min(sizes) <= biggest_group
    assert cv.get_n_splits() == 5


def test_kfold_shuffle_depends_on_seed_only(nci_smiles):
    def folds(seed):
        return [t.tolist() for _, t in ScaffoldKFold(4, shuffle=True, random_state=seed)
                .split(nci_smiles)]
    assert folds(0) == folds(0)
    assert folds(0) != folds(1)
    assert [t.tolist() for _, t in ScaffoldKFold(4).split(nci_smiles)] != folds(0)


def test_kfold_in_cross_val_score_without_groups(nci_smiles, ring_label):
    pipe = make_pipeline(MorganFingerprint(n_bits=256), LogisticRegression(max_iter=300))
    scores = cross_val_score(pipe, nci_smiles, ring_label, cv=ScaffoldKFold(3), scoring="roc_auc")
    assert scores.shape == (3,) and scores.mean() > 0.7


def test_kfold_precomputed_groups_and_errors():
    groups = np.array([0, 0, 1, 1, 2, 2, 3])
    for train, test in ScaffoldKFold(2).split(np.zeros((7, 3)), groups=groups):
        assert_disjoint(groups, train, test)
    with pytest.raises(ValueError, match="number of scaffold groups"):
        list(ScaffoldKFold(5).split(None, groups=groups))
    with pytest.raises(ValueError, match="n_splits"):
        list(ScaffoldKFold(1).split(None, groups=groups))


def test_invalid_smiles_are_all_named():
    smiles = ["CCO", "bad1", "c1ccccc1", "bad2", "CCN", "C1CC1"]
    with pytest.raises(InvalidMoleculeError, match=r"\[1\] 'bad1'.*\[3\] 'bad2'"):
        list(ScaffoldKFold(2).split(smiles))
    with pytest.raises(InvalidMoleculeError) as info:
        scaffold_train_valid_test_split(smiles, random_state=0)
    assert info.value.indices == [1, 3]


@pytest.mark.parametrize("seed", range(5))
def test_split_on_toxcast_like_giant_groups(seed):
    groups = toxcast_like_groups(seed=seed)
    n = len(groups)
    train, valid, test = scaffold_split_indices(None, random_state=seed, groups=groups)
    assert_disjoint(groups, train, valid, test)
    assert len(train) + len(valid) + len(test) == n
    for part, target in zip((train, valid, test), (0.6, 0.15, 0.25)):
        assert abs(len(part) / n - target) < 0.01
    # the two giant groups belong to train, where they fit
    giant = np.bincount(groups).argsort()[-2:]
    assert np.isin(giant, groups[train]).all()


def test_split_varies_with_seed_and_repeats_with_it():
    groups = toxcast_like_groups()
    a = scaffold_split_indices(None, random_state=0, groups=groups)
    b = scaffold_split_indices(None, random_state=0, groups=groups)
    c = scaffold_split_indices(None, random_state=1, groups=groups)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[2], c[2])


def test_train_valid_test_split_keeps_rows_aligned(nci_smiles):
    y = np.arange(len(nci_smiles))
    frame = pd.DataFrame({"smiles": nci_smiles, "row": y})
    parts = scaffold_train_valid_test_split(nci_smiles, y, frame, random_state=3)
    assert len(parts) == 9
    X_tr, X_va, X_te, y_tr, y_va, y_te, f_tr, f_va, f_te = parts
    assert isinstance(X_tr, list) and isinstance(y_tr, np.ndarray)
    assert isinstance(f_tr, pd.DataFrame)
    for X_part, y_part, f_part in ((X_tr, y_tr, f_tr), (X_va, y_va, f_va), (X_te, y_te, f_te)):
        assert X_part == [nci_smiles[i] for i in y_part]
        assert f_part["row"].tolist() == y_part.tolist()
    scaffolds = scaffolds_of(nci_smiles)
    assert_disjoint(scaffolds, y_tr, y_va, y_te)
    n = len(nci_smiles)
    assert abs(len(X_te) / n - 0.25) < 0.05 and abs(len(X_va) / n - 0.15) < 0.05


def test_split_checks_sizes_and_too_few_groups():
    with pytest.raises(ValueError, match="sizes"):
        scaffold_split_indices(["CCO", "CCN"], sizes=(0.5, 0.6, 0.1))
    with pytest.raises(ValueError, match="empty"):
        scaffold_split_indices(["CCO", "CCN", "CCC"], random_state=0)
    train, valid, test = scaffold_split_indices(
        None, sizes=(0.8, 0.0, 0.2), groups=np.arange(10), random_state=0
    )
    assert len(valid) == 0 and len(train) == 8 and len(test) == 2


def test_validation_split_in_grid_search(nci_smiles, ring_label):
    cv = scaffold_validation_split(nci_smiles, valid_size=0.25, random_state=0)
    assert isinstance(cv, PredefinedSplit) and cv.get_n_splits() == 1
    train, valid = next(cv.split())
    assert_disjoint(scaffolds_of(nci_smiles), train, valid)
    assert abs(len(valid) / len(nci_smiles) - 0.25) < 0.05
    pipe = make_pipeline(MorganFingerprint(n_bits=128), LogisticRegression(max_iter=300))
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=cv, scoring="roc_auc")
    search.fit(nci_smiles, ring_label)
    assert search.n_splits_ == 1


def test_kfold_on_a_numeric_matrix_asks_for_scaffold_groups(nci_smiles, ring_label):
    smiles = nci_smiles[:60]
    y = np.asarray(ring_label)[:60]
    fp = MorganFingerprint(n_bits=128).transform(smiles)
    cv = ScaffoldKFold(n_splits=3)
    for X in (fp, fp.astype(bool), fp[:, 0], pd.DataFrame(fp)):
        with pytest.raises(ValueError, match=r"groups=scaffold_groups\(smiles\)"):
            list(cv.split(X))
    with pytest.raises(ValueError, match=r"groups=scaffold_groups\(smiles\)"):
        cross_val_score(LogisticRegression(), fp, y, cv=cv)
    # with the groups, the folds are the ones the SMILES give
    by_groups = [t.tolist() for _, t in cv.split(fp, y, groups=scaffold_groups(smiles))]
    assert by_groups == [t.tolist() for _, t in cv.split(smiles)]
    scores = cross_val_score(LogisticRegression(max_iter=300), fp, y, cv=cv,
                             groups=scaffold_groups(smiles))
    assert len(scores) == 3
