"""Structure-only baselines as scikit-learn transformers: Morgan fingerprints (bits or counts)
and RDKit 2D descriptors."""

from __future__ import annotations

from functools import partial
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._utils.parallel import chunked_map
from ._utils.validation import MOLECULE_PARAMETER_CONSTRAINTS, molecule_input_tags
from .chem.descriptors import available_descriptors, descriptor_functions, rdkit_descriptors
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


class RDKitDescriptors(TransformerMixin, BaseEstimator):
    """RDKit 2D descriptors of SMILES (molecular weight, logP, TPSA, counts, charges, ...).

    The structure-only representation a chemist reaches for beside fingerprints. The list of
    descriptors is fixed at ``fit``: ``descriptors=None`` takes every name of this RDKit's
    ``rdkit.Chem.Descriptors._descList`` (217 in RDKit 2026.09), and ``descriptor_names_``
    records it, so a fitted (or pickled) transformer always gives the same columns; a later
    RDKit that lacks one of them is an error naming it, not a silent column shift.

    Values are raw (not scaled), float32. **Missing values**: an invalid molecule follows
    ``errors`` (one error naming every invalid input, or a NaN row); a descriptor that fails
    on a valid molecule, or is not finite or beyond float32's range (``Ipc`` of large
    molecules), is NaN in that cell only. Put an imputer and a scaler after it, fitted on
    training data, for instance
    ``make_pipeline(RDKitDescriptors(), SimpleImputer(strategy="median"), StandardScaler(), model)``;
    :func:`infoalign_sklearn.benchmark.run_benchmark` does the same inside each fit (training
    medians, then training mean and std).

    Parameters
    ----------
    descriptors : list of str, default=None
        Descriptor names (see ``infoalign_sklearn.chem.descriptors.available_descriptors()``);
        None: all of them.
    errors : {"raise", "nan"}, default="raise"
        ``"raise"``: one error naming every invalid SMILES. ``"nan"``: a NaN row in its place.
    n_jobs : int, default=None
        Parallel workers (joblib semantics: -1 means all cores).
    batch_size : int, default=None
        Molecules per chunk sent to a worker (chosen automatically when None).
    verbose : int or dict, default=0
        Show a progress bar; a dict is passed to tqdm as options.

    Attributes
    ----------
    descriptor_names_ : ndarray of str
        The descriptors, in output column order (also ``get_feature_names_out()``).
    n_features_out_ : int

    Examples
    --------
    >>> desc = RDKitDescriptors(descriptors=["MolWt", "NumHDonors"]).fit()
    >>> [round(float(v), 2) for v in desc.transform(["CCO"])[0]]
    [46.07, 1.0]
    >>> desc.get_feature_names_out().tolist()
    ['MolWt', 'NumHDonors']
    """

    _parameter_constraints: dict = {
        "descriptors": [list, tuple, np.ndarray, None],
        **MOLECULE_PARAMETER_CONSTRAINTS,
    }

    def __init__(self, descriptors=None, errors="raise", n_jobs=None, batch_size=None,
                 verbose=0):
        self.descriptors = descriptors
        self.errors = errors
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.verbose = verbose

    def fit(self, X=None, y=None):
        """Fix the descriptor list (and validate X when given). Returns self."""
        self._validate_params()
        if X is not None:
            check_molecule_input(X)
        if self.descriptors is None:
            names = available_descriptors()
        else:
            names = list(self.descriptors)
            bad = [name for name in names if not isinstance(name, str)]
            if bad or not names:
                raise ValueError(
                    "RDKitDescriptors(descriptors=...) must be a non-empty list of descriptor "
                    f"names (str); got {self.descriptors!r}")
            duplicated = sorted({name for name in names if names.count(name) > 1})
            if duplicated:
                raise ValueError(f"RDKitDescriptors(descriptors=...) repeats {duplicated}")
        descriptor_functions(names)  # every name exists in this RDKit
        self.descriptor_names_ = np.asarray(names, dtype=object)
        self.n_features_out_ = len(names)
        return self

    def transform(self, X):
        """Descriptors of X as float32 of shape (n_molecules, n_descriptors)."""
        check_is_fitted(self, "descriptor_names_")
        items = check_molecule_input(X)
        names = list(self.descriptor_names_)
        rows = chunked_map(
            partial(_descriptor_rows, names=names), items, n_jobs=self.n_jobs,
            batch_size=self.batch_size, verbose=self.verbose, desc="RDKit descriptors",
        )
        out = np.stack([row for row, _ in rows]) if rows else np.empty((0, len(names)), np.float32)
        valid = np.array([ok for _, ok in rows], dtype=bool)
        raise_or_mask_invalid(items, valid, self.errors)
        return out

    def get_feature_names_out(self, input_features=None):
        """The descriptor names."""
        check_is_fitted(self, "descriptor_names_")
        return np.asarray(self.descriptor_names_, dtype=object)

    def __sklearn_tags__(self):
        return molecule_input_tags(super().__sklearn_tags__())


def _descriptor_rows(items, names) -> list:
    values, valid = rdkit_descriptors(items, names, return_valid=True)
    return list(zip(values, valid))
