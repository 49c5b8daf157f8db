"""Fingerprint baselines as scikit-learn transformers."""

from __future__ import annotations

from functools import partial
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval

from ._utils.parallel import chunked_map
from ._utils.validation import MOLECULE_PARAMETER_CONSTRAINTS, molecule_input_tags
from .chem.fingerprints import morgan_fingerprints
from .chem.molecules import check_molecule_input, raise_or_mask_invalid


class MorganFingerprint(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Morgan (ECFP) fingerprints of SMILES, as bits or counts.

    Stateless: ``fit`` only validates the parameters, and ``transform`` works without it.

    Parameters
    ----------
    radius : int, default=2
        Radius of the circular environments (2 gives ECFP4).
    n_bits : int, default=2048
        Length of the folded fingerprint.
    counts : bool, default=False
        Count occurrences instead of setting bits.
    chirality : bool, default=False
        Include chirality in the atom invariants.
    errors : {"raise", "nan"}, default="raise"
        ``"raise"``: one error naming every invalid SMILES. ``"nan"``: a NaN row in its place.
    n_jobs : int, default=None
        Parallel workers (joblib semantics: -1 means all cores).
    batch_size : int, default=None
        Molecules per chunk sent to a worker (chosen automatically when None).
    verbose : int or dict, default=0
        Show a progress bar; a dict is passed to tqdm as options.

    Examples
    --------
    >>> fp = MorganFingerprint(n_bits=128)
    >>> fp.fit_transform(["CCO", "c1ccccc1"]).shape
    (2, 128)
    """

    _parameter_constraints: dict = {
        "radius": [Interval(Integral, 0, None, closed="left")],
        "n_bits": [Interval(Integral, 1, None, closed="left")],
        "counts": ["boolean"],
        "chirality": ["boolean"],
        **MOLECULE_PARAMETER_CONSTRAINTS,
    }

    def __init__(
        self, radius=2, n_bits=2048, counts=False, chirality=False, errors="raise",
        n_jobs=None, batch_size=None, verbose=0,
    ):
        self.radius = radius
        self.n_bits = n_bits
        self.counts = counts
        self.chirality = chirality
        self.errors = errors
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.verbose = verbose

    def fit(self, X=None, y=None):
        """Validate the parameters (and X when given); learns nothing. Returns self."""
        self._validate_params()
        if X is not None:
            check_molecule_input(X)
        return self

    @property
    def _n_features_out(self):
        return self.n_bits

    def transform(self, X):
        """Fingerprints of X as float32 of shape (n_molecules, n_bits)."""
        self._validate_params()
        items = check_molecule_input(X)
        rows = chunked_map(
            partial(
                _fingerprint_rows, radius=self.radius, n_bits=self.n_bits, counts=self.counts,
                chirality=self.chirality,
            ),
            items, n_jobs=self.n_jobs, batch_size=self.batch_size, verbose=self.verbose,
            desc="Morgan fingerprints",
        )
        out = np.stack(rows)
        raise_or_mask_invalid(items, ~np.isnan(out[:, 0]), self.errors)
        return out

    def __sklearn_tags__(self):
        tags = molecule_input_tags(super().__sklearn_tags__())
        tags.requires_fit = False
        return tags


def _fingerprint_rows(items, **kwargs) -> list:
    return list(morgan_fingerprints(items, **kwargs))
