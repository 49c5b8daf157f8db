"""Scaffold splitters: no Bemis-Murcko scaffold on both sides of a split.

Random splits put near-duplicates of a test molecule in training and flatter every model; the
molecular property literature evaluates on scaffold splits instead. These splitters compute the
scaffold groups from the SMILES themselves, so they drop into ``cross_val_score`` /
``GridSearchCV`` without a ``groups`` argument.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import BaseCrossValidator, PredefinedSplit
from sklearn.utils import _safe_indexing, check_random_state, indexable
from sklearn.utils.validation import check_consistent_length

from .chem.molecules import check_molecule_input, raise_or_mask_invalid
from .chem.scaffolds import scaffolds_of

__all__ = [
    "ScaffoldKFold",
    "scaffold_groups",
    "scaffold_split_indices",
    "scaffold_train_valid_test_split",
    "scaffold_validation_split",
]


def scaffold_groups(X, include_chirality: bool = False) -> np.ndarray:
    """Integer scaffold-group label of each molecule (numbered by first appearance).

    Parameters
    ----------
    X : list-like of str or Mol
        Molecules (SMILES or RDKit ``Mol``).
    include_chirality : bool, default=False
        Keep stereo in the scaffold (stereoisomers then fall in different groups).

    Returns
    -------
    groups : ndarray of int64, shape (n_molecules,)

    Raises
    ------
    InvalidMoleculeError
        Naming every input that is not a valid molecule.

    Examples
    --------
    >>> scaffold_groups(["c1ccccc1O", "CCO", "c1ccccc1N", "CCN"]).tolist()
    [0, 1, 0, 1]
    """
    items = check_molecule_input(X)
    scaffolds = scaffolds_of(items, include_chirality=include_chirality)
    raise_or_mask_invalid(items, np.array([s is not None for s in scaffolds]), "raise")
    codes: dict[str, int] = {}
    return np.array([codes.setdefault(s, len(codes)) for s in scaffolds], dtype=np.int64)


def _check_groups(X, groups) -> np.ndarray:
    if groups is None:
        return scaffold_groups(X)
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(f"groups must be 1-D, got shape {groups.shape}.")
    if X is not None:
        check_consistent_length(X, groups)
    return np.unique(groups, return_inverse=True)[1].astype(np.int64)


def _check_int_param(name: str, value, low: int) -> None:
    if not isinstance(value, Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")


class ScaffoldKFold(BaseCrossValidator):
    """K-fold cross-validation over Bemis-Murcko scaffold groups, computed from X.

    X must be SMILES or RDKit molecules; for a numeric X (e.g. a fingerprint matrix) pass
    ``groups=scaffold_groups(smiles)`` to ``split`` (or to ``cross_val_score``). Like
    scikit-learn's group splitters it requests ``groups`` under metadata routing, so
    ``cross_val_score(..., params={"groups": groups})`` reaches it there.

    Each scaffold group lands in exactly one test fold. Groups are dealt largest first to the
    currently smallest fold, which keeps fold sizes balanced even when one scaffold (benzene,
    or the empty scaffold of acyclic molecules) holds a fifth of the data.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (at least 2).
    shuffle : bool, default=False
        Randomise the order of equally sized groups before dealing them, so different seeds
        give different folds (most groups are singletons, so this varies most of the split).
    random_state : int, RandomState instance or None, default=None
        Seed for the shuffle; ignored when ``shuffle=False``.

    See Also
    --------
    scaffold_train_valid_test_split : one train / validation / test split.

    Examples
    --------
    >>> from infoalign_sklearn import ScaffoldKFold
    >>> smiles = ["c1ccccc1O", "c1ccccc1N", "CCO", "C1CCCCC1", "c1ccncc1", "CCN"]
    >>> [test.tolist() for _, test in ScaffoldKFold(n_splits=3).split(smiles)]
    [[0, 1], [2, 5], [3, 4]]
    """

    # metadata routing: `groups` given to cross_val_score / GridSearchCV reaches `split`
    __metadata_request__split = {"groups": True}

    def __init__(self, n_splits: int = 5, shuffle: bool = False, random_state=None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of splits (``n_splits``)."""
        return self.n_splits

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate train / test indices.

        Parameters
        ----------
        X : list-like of str or Mol
            Molecules; their scaffolds define the groups.
        y : ignored
        groups : array-like of shape (n_samples,), default=None
            Precomputed group labels (e.g. from :func:`scaffold_groups`), for when X is not
            SMILES; computed from X when None.

        Yields
        ------
        train, test : ndarray of int

        Raises
        ------
        ValueError
            When X is a numeric matrix (fingerprints, descriptors, representations) and
            ``groups`` is None: the scaffolds cannot be computed from numbers, so pass
            ``groups=scaffold_groups(smiles)``.
        """
        _check_int_param("n_splits", self.n_splits, 2)
        if groups is None:
            self._check_molecules(X)
        group_idx = _check_groups(X, groups)
        n_groups = int(group_idx.max()) + 1
        if self.n_splits > n_groups:
            raise ValueError(
                f"Cannot have n_splits={self.n_splits} greater than the number of scaffold "
                f"groups: {n_groups}."
            )
        sizes = np.bincount(group_idx)
        order = np.arange(n_groups)
        if self.shuffle:
            order = check_random_state(self.random_state).permutation(n_groups)
        # stable sort after the shuffle: size decides, the shuffle only breaks ties
        order = order[np.argsort(-sizes[order], kind="stable")]
        fold_sizes = np.zeros(self.n_splits, dtype=np.int64)
        fold_of_group = np.empty(n_groups, dtype=np.int64)
        for g in order:
            fold = int(np.argmin(fold_sizes))
            fold_of_group[g] = fold
            fold_sizes[fold] += sizes[g]
        fold_of_sample = fold_of_group[group_idx]
        indices = np.arange(len(group_idx))
        for fold in range(self.n_splits):
            test = fold_of_sample == fold
            yield indices[~test], indices[test]

    def _iter_test_indices(self, X=None, y=None, groups=None):
        for _, test in self.split(X, y, groups):
            yield test

    @staticmethod
    def _check_molecules(X) -> None:
        """Refuse a numeric X without groups with an error that says what to do instead."""
        if X is None or isinstance(X, (str, bytes)):
            return  # check_molecule_input explains these
        if isinstance(X, (list, tuple)) and len(X) and not isinstance(
            X[0], (Real, np.generic, np.ndarray, list, tuple)
        ):
            return  # SMILES or molecules: no array copy of a long list of strings
        if hasattr(X, "nnz") and hasattr(X, "shape"):  # a scipy sparse matrix
            kind, shape = "a sparse matrix", X.shape
        else:
            try:
                arr = np.asarray(X)
            except (ValueError, TypeError):  # ragged or odd input: check_molecule_input reports it
                return
            if arr.dtype.kind not in "biufc":
                return
            kind, shape = "a numeric array", arr.shape
        raise ValueError(
            f"ScaffoldKFold got {kind} of shape {shape} as X and no groups, so it cannot compute "
            "the Bemis-Murcko scaffolds (it needs SMILES or RDKit molecules). Pass the scaffold "
            "groups of the same rows: cv.split(X, y, groups=scaffold_groups(smiles)), or "
            "cross_val_score(model, X, y, cv=ScaffoldKFold(), "
            "groups=scaffold_groups(smiles)); or give the SMILES as X to a pipeline that "
            "computes the features."
        )


def _check_sizes(sizes: Sequence[float]) -> np.ndarray:
    arr = np.asarray(sizes, dtype=float)
    if arr.shape != (3,) or np.any(arr < 0) or not np.isclose(arr.sum(), 1.0):
        raise ValueError(
            "sizes must be three non-negative fractions (train, valid, test) summing to 1, "
            f"got {tuple(sizes)!r}."
        )
    return arr


def scaffold_split_indices(
    X, sizes: Sequence[float] = (0.6, 0.15, 0.25), random_state=None, groups=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scaffold-disjoint train / validation / test indices.

    The rule (balanced scaffold split): scaffold groups larger than half the smaller of the
    validation and test targets are placed first, then the remaining groups in random order.
    Each group goes to the first of train, validation, test that it fits in without exceeding
    its target size, or, when it fits nowhere, to the set furthest below target. Big groups
    therefore fill train, and the many small groups, shuffled by ``random_state``, make up
    validation and test close to their targets. Filling shuffled groups in order instead can
    leave the validation set empty on ToxCast, where one group holds 23 % of the molecules.

    Parameters
    ----------
    X : list-like of str or Mol
        Molecules.
    sizes : tuple of 3 float, default=(0.6, 0.15, 0.25)
        Target fractions of train, validation and test (sum 1; a 0 leaves that set empty).
    random_state : int, RandomState instance or None, default=None
        Seed of the group order: different seeds give different splits.
    groups : array-like of shape (n_samples,), default=None
        Precomputed group labels; computed from X's scaffolds when None.

    Returns
    -------
    train, valid, test : ndarray of int
        Sorted row indices.

    Raises
    ------
    InvalidMoleculeError
        Naming every invalid SMILES.
    ValueError
        When a set with a positive target size would be empty (too few groups).

    Examples
    --------
    >>> from infoalign_sklearn import scaffold_split_indices
    >>> smiles = ["c1ccccc1O", "c1ccccc1N", "CCO", "C1CCCCC1", "c1ccncc1", "CCN"]
    >>> train, valid, test = scaffold_split_indices(smiles, sizes=(0.5, 0.2, 0.3),
    ...                                             random_state=0)
    >>> sorted(train.tolist() + valid.tolist() + test.tolist())
    [0, 1, 2, 3, 4, 5]
    """
    fractions = _check_sizes(sizes)
    group_idx = _check_groups(X, groups)
    n_samples = len(group_idx)
    group_sizes = np.bincount(group_idx)
    n_groups = len(group_sizes)
    targets = np.floor(fractions * n_samples).astype(np.int64)
    # rounding leftovers go to the largest fractions first, so the targets sum to n_samples
    leftover = n_samples - int(targets.sum())
    targets[np.argsort(-(fractions * n_samples - targets), kind="stable")[:leftover]] += 1

    rng = check_random_state(random_state)
    positive = targets[1:][fractions[1:] > 0]
    big_limit = positive.min() / 2 if positive.size else np.inf
    is_big = group_sizes > big_limit
    big = rng.permutation(np.flatnonzero(is_big))
    big = big[np.argsort(-group_sizes[big], kind="stable")]
    order = np.concatenate([big, rng.permutation(np.flatnonzero(~is_big))])

    filled = np.zeros(3, dtype=np.int64)
    set_of_group = np.empty(n_groups, dtype=np.int64)
    for g in order:
        size = group_sizes[g]
        fits = np.flatnonzero((filled + size <= targets) & (targets > 0))
        chosen = int(fits[0]) if fits.size else int(np.argmax(targets - filled))
        set_of_group[g] = chosen
        filled[chosen] += size

    set_of_sample = set_of_group[group_idx]
    parts = tuple(np.flatnonzero(set_of_sample == k) for k in range(3))
    empty = [name for name, part, frac in zip(("train", "valid", "test"), parts, fractions)
             if frac > 0 and part.size == 0]
    if empty:
        raise ValueError(
            f"Scaffold split left the {' and '.join(empty)} set(s) empty: {n_samples} "
            f"molecules in {n_groups} scaffold groups cannot be split as {tuple(sizes)}."
        )
    return parts


def scaffold_train_valid_test_split(
    X, *arrays, sizes: Sequence[float] = (0.6, 0.15, 0.25), random_state=None
) -> list:
    """Split X and aligned arrays into scaffold-disjoint train, validation and test parts.

    Like :func:`sklearn.model_selection.train_test_split`, with three parts and the rule of
    :func:`scaffold_split_indices`.

    Parameters
    ----------
    X : list-like of str or Mol
        Molecules; their scaffolds define the groups.
    *arrays : sequence of indexables
        Further arrays with as many rows as X (targets, ids, precomputed features...).
    sizes : tuple of 3 float, default=(0.6, 0.15, 0.25)
        Target fractions of train, validation and test.
    random_state : int, RandomState instance or None, default=None
        Seed of the group order.

    Returns
    -------
    splitting : list
        ``X_train, X_valid, X_test``, then the three parts of each array in turn, each of the
        input's type (list, ndarray, DataFrame, ...).

    Examples
    --------
    >>> from infoalign_sklearn import scaffold_train_valid_test_split
    >>> smiles = ["c1ccccc1O", "c1ccccc1N", "CCO", "C1CCCCC1", "c1ccncc1", "CCN"]
    >>> y = [0, 0, 1, 1, 0, 1]
    >>> X_tr, X_va, X_te, y_tr, y_va, y_te = scaffold_train_valid_test_split(
    ...     smiles, y, sizes=(0.5, 0.2, 0.3), random_state=0)
    >>> len(X_tr) + len(X_va) + len(X_te)
    6
    """
    everything = indexable(X, *arrays)
    check_consistent_length(*everything)
    parts = scaffold_split_indices(X, sizes=sizes, random_state=random_state)
    return [_safe_indexing(a, idx) for a in everything for idx in parts]


def scaffold_validation_split(
    X, valid_size: float = 0.2, random_state=None, groups=None
) -> PredefinedSplit:
    """One scaffold-disjoint train / validation split as a ``PredefinedSplit``.

    For ``GridSearchCV(..., cv=scaffold_validation_split(X_train_and_valid))``: every
    candidate is trained on the training part and scored on the validation part, the paper's
    model selection, instead of K-fold.

    Parameters
    ----------
    X : list-like of str or Mol
        The molecules the search will be fitted on (train and validation together).
    valid_size : float, default=0.2
        Target fraction of the validation part, in (0, 1).
    random_state : int, RandomState instance or None, default=None
        Seed of the group order.
    groups : array-like of shape (n_samples,), default=None
        Precomputed group labels; computed from X's scaffolds when None.

    Returns
    -------
    cv : PredefinedSplit
        ``test_fold`` is -1 on training rows and 0 on validation rows.

    Examples
    --------
    >>> from infoalign_sklearn import scaffold_validation_split
    >>> smiles = ["c1ccccc1O", "c1ccccc1N", "CCO", "C1CCCCC1", "c1ccncc1", "CCN"]
    >>> cv = scaffold_validation_split(smiles, valid_size=0.3, random_state=0)
    >>> cv.get_n_splits()
    1
    """
    if not isinstance(valid_size, Real) or not 0 < valid_size < 1:
        raise ValueError(f"valid_size must be a fraction in (0, 1), got {valid_size!r}.")
    train, valid, _ = scaffold_split_indices(
        X, sizes=(1 - valid_size, valid_size, 0.0), random_state=random_state, groups=groups
    )
    test_fold = np.full(len(train) + len(valid), -1, dtype=np.int64)
    test_fold[valid] = 0
    return PredefinedSplit(test_fold)
