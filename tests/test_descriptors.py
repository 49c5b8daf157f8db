"""RDKitDescriptors: the structure-only descriptor baseline as a scikit-learn transformer."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn_compat import check_molecule_estimator

from infoalign_sklearn import InvalidMoleculeError, RDKitDescriptors
from infoalign_sklearn.chem.descriptors import available_descriptors, rdkit_descriptors

FEW = ["MolWt", "NumHDonors", "RingCount", "TPSA"]


def test_sklearn_api(nci_smiles, ring_label):
    check_molecule_estimator(RDKitDescriptors(descriptors=FEW), nci_smiles[:40], ring_label[:40],
                             {"descriptors": [FEW[:2], FEW]})


def test_all_descriptors_by_default_with_names_and_rdkit_values(nci_smiles):
    desc = RDKitDescriptors().fit()
    names = list(desc.get_feature_names_out())
    assert names == [name for name, _ in Descriptors._descList] == available_descriptors()
    assert desc.n_features_out_ == len(names) > 200
    out = desc.transform(nci_smiles[:5])
    assert out.shape == (5, len(names)) and out.dtype == np.float32
    mol = Chem.MolFromSmiles(nci_smiles[3])
    for name in ("MolWt", "MolLogP", "TPSA", "NumRotatableBonds"):
        expected = getattr(Descriptors, name)(mol)
        np.testing.assert_allclose(out[3, names.index(name)], expected, rtol=1e-4)


def test_bad_smiles_policy_names_every_bad_input():
    desc = RDKitDescriptors(descriptors=FEW).fit()
    with pytest.raises(InvalidMoleculeError, match=r"\[1\] 'x'.*\[3\] 'y'"):
        desc.transform(["C", "x", "CC", "y"])
    out = RDKitDescriptors(descriptors=FEW, errors="nan").fit().transform(["C", "x", "CC"])
    assert np.isnan(out[1]).all() and not np.isnan(out[[0, 2]]).any()


def test_failed_or_huge_descriptor_values_are_nan_cells_not_invalid_rows(monkeypatch):
    from infoalign_sklearn.chem import descriptors as module

    def broken(mol):
        raise RuntimeError("cannot compute")

    table = [*Descriptors._descList, ("Broken", broken), ("Huge", lambda mol: 1e300)]
    monkeypatch.setattr(module.Descriptors, "_descList", table)
    out, valid = rdkit_descriptors(["CCO", "bad("], ["MolWt", "Broken", "Huge"],
                                   return_valid=True)
    assert valid.tolist() == [True, False]
    assert np.isfinite(out[0, 0]) and np.isnan(out[0, 1:]).all() and np.isnan(out[1]).all()
    # such a row is a valid molecule: errors="raise" does not reject it
    desc = RDKitDescriptors(descriptors=["MolWt", "Broken"]).fit()
    assert np.isnan(desc.transform(["CCO"])[0, 1])


def test_unknown_or_repeated_descriptors_are_errors_naming_them():
    with pytest.raises(ValueError, match="NotADescriptor"):
        RDKitDescriptors(descriptors=["MolWt", "NotADescriptor"]).fit()
    with pytest.raises(ValueError, match="repeats.*MolWt"):
        RDKitDescriptors(descriptors=["MolWt", "MolWt"]).fit()
    with pytest.raises(ValueError, match="non-empty"):
        RDKitDescriptors(descriptors=[]).fit()
    with pytest.raises(ValueError, match="descriptors"):
        RDKitDescriptors(descriptors="MolWt").fit()
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        RDKitDescriptors().transform(["C"])


def test_pickled_transformer_keeps_its_columns(tmp_path, nci_smiles, monkeypatch):
    desc = RDKitDescriptors(descriptors=FEW).fit()
    joblib.dump(desc, tmp_path / "desc.joblib")
    restored = joblib.load(tmp_path / "desc.joblib")
    np.testing.assert_array_equal(restored.transform(nci_smiles[:10]),
                                  desc.transform(nci_smiles[:10]))
    # an RDKit without one of the fitted descriptors: an error naming it, not shifted columns
    from infoalign_sklearn.chem import descriptors as module
    monkeypatch.setattr(module.Descriptors, "_descList",
                        [d for d in Descriptors._descList if d[0] != "TPSA"])
    with pytest.raises(ValueError, match="TPSA"):
        pickle.loads(pickle.dumps(desc)).transform(["CCO"])


def test_pandas_output_parallel_equals_serial_and_pipeline(nci_smiles):
    desc = RDKitDescriptors(descriptors=FEW).set_output(transform="pandas")
    frame = desc.fit_transform(pd.DataFrame({"smiles": ["CCO", "CCN"]}, index=["a", "b"]))
    assert list(frame.columns) == FEW and list(frame.index) == ["a", "b"]
    serial = RDKitDescriptors(descriptors=FEW).fit().transform(nci_smiles[:60])
    parallel = RDKitDescriptors(descriptors=FEW, n_jobs=2, batch_size=7).fit().transform(
        nci_smiles[:60])
    np.testing.assert_array_equal(serial, parallel)
    # the documented pipeline: descriptors -> training medians -> standardise -> model; the
    # target is a descriptor-derived quantity, so a linear model finds it
    y = np.array([Descriptors.MolWt(Chem.MolFromSmiles(s)) for s in nci_smiles[:120]])
    pipe = make_pipeline(RDKitDescriptors(descriptors=FEW), SimpleImputer(strategy="median"),
                         StandardScaler(), Ridge())
    assert cross_val_score(pipe, nci_smiles[:120], y, cv=3).mean() > 0.95
