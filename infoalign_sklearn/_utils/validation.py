"""Shared pieces of the estimators that take molecules (SMILES or RDKit Mols) as X."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval, StrOptions

# Parameters every molecule-taking estimator shares, validated the scikit-learn way.
MOLECULE_PARAMETER_CONSTRAINTS: dict = {
    "errors": [StrOptions({"raise", "nan"})],
    "n_jobs": [Integral, None],
    "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    "verbose": ["verbose", dict],
}


def molecule_input_tags(tags):
    """Declare SMILES-list input: 1-D strings, not a numeric 2-D array."""
    tags.input_tags.string = True
    tags.input_tags.two_d_array = False
    tags.input_tags.one_d_array = True
    return tags
