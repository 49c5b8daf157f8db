import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn_compat import check_molecule_estimator

from infoalign_sklearn import InvalidMoleculeError, MorganFingerprint


def test_sklearn_api(nci_smiles, ring_label):
    check_molecule_estimator(
        MorganFingerprint(n_bits=64), nci_smiles[:60], ring_label[:60], {"radius": [1, 2]}
    )


def test_pipeline_with_random_forest_in_cv_and_grid_search(nci_smiles, ring_label):
    pipe = Pipeline([
        ("morganfingerprint", MorganFingerprint(n_bits=256)),
        ("rf", RandomForestClassifier(n_estimators=20, random_state=0)),
    ])
    scores = cross_val_score(pipe, nci_smiles, ring_label, cv=KFold(3), scoring="roc_auc")
    assert scores.mean() > 0.8  # ring count is visible in the fingerprint
    search = GridSearchCV(pipe, {"morganfingerprint__radius": [0, 2]}, cv=3, scoring="roc_auc")
    search.fit(nci_smiles, ring_label)
    assert search.best_params_["morganfingerprint__radius"] in (0, 2)
    assert len(search.cv_results_["mean_test_score"]) == 2


def test_pandas_output_and_feature_names():
    fp = MorganFingerprint(n_bits=8).set_output(transform="pandas")
    out = fp.fit_transform(pd.DataFrame({"smiles": ["CCO", "CCN"]}, index=["a", "b"]))
    assert list(out.columns) == [f"morganfingerprint{i}" for i in range(8)]
    assert list(out.index) == ["a", "b"]
    assert list(fp.get_feature_names_out()) == list(out.columns)


def test_bad_smiles_policy():
    with pytest.raises(InvalidMoleculeError, match=r"\[1\] 'x'.*\[3\] 'y'"):
        MorganFingerprint().transform(["C", "x", "CC", "y"])
    out = MorganFingerprint(n_bits=16, errors="nan").transform(["C", "x", "CC"])
    assert out.shape == (3, 16)
    assert np.isnan(out[1]).all() and not np.isnan(out[[0, 2]]).any()


def test_parallel_output_equals_serial(nci_smiles):
    serial = MorganFingerprint(n_bits=128, counts=True).transform(nci_smiles[:100])
    parallel = MorganFingerprint(n_bits=128, counts=True, n_jobs=2, batch_size=9).transform(
        nci_smiles[:100]
    )
    np.testing.assert_array_equal(serial, parallel)


def test_invalid_parameters_rejected_at_fit():
    with pytest.raises(ValueError, match="n_bits"):
        MorganFingerprint(n_bits=0).fit(["C"])
    with pytest.raises(ValueError, match="errors"):
        MorganFingerprint(errors="skip").fit(["C"])


def test_progress_bar_when_verbose(capsys):
    MorganFingerprint(n_bits=8, verbose=1).transform(["C"] * 5)
    assert "Morgan fingerprints" in capsys.readouterr().err
