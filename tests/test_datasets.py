import gzip

import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn import load_benchmark, load_csv
from infoalign_sklearn.datasets import BENCHMARKS

# Miniature copies of each benchmark's real header (ids first or around the SMILES, as shipped).
LAYOUTS = {
    "chembl2k": ["smiles", "inchikey", "Metadata_JCP2022", "ChEMBL_ID", "ABCB1", "ABL1"],
    "broad6k": ["smiles", "inchikey", "220_692", "221_693"],
    "moltoxcast": ["smiles", "mol_id", "ACEA_T47D_80hr_Negative", "APR_HepG2_CellLoss_24h_dn"],
    "biogenadme": ["Internal ID", "Vendor ID", "smiles", "CollectionName",
                   "LOG HLM_CLint (mL/min/kg)", "LOG SOLUBILITY PH 6.8 (ug/mL)"],
}


def write_benchmark(folder, name):
    columns = LAYOUTS[name]
    regression = BENCHMARKS[name]["task"] == "regression"
    rows = []
    for i, smiles in enumerate(["CCO", "c1ccccc1O", "CCN"]):
        row = {}
        for c in columns:
            if c == "smiles":
                row[c] = smiles
            elif c in BENCHMARKS[name]["id_columns"]:
                row[c] = np.nan if c == "mol_id" else f"id{i}"
            else:
                row[c] = np.nan if (i + len(row)) % 3 == 0 else (1.5 * i if regression else i % 2)
        rows.append(row)
    path = folder / name / "assays.csv.gz"
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt") as fh:
        pd.DataFrame(rows, columns=columns).to_csv(fh, index=False)
    return pd.DataFrame(rows, columns=columns)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_load_each_benchmark_from_data_root(tmp_path, name):
    expected = write_benchmark(tmp_path / "benchmarks", name)
    data = load_benchmark(name, tmp_path)
    tasks = [c for c in LAYOUTS[name] if c != "smiles" and c not in BENCHMARKS[name]["id_columns"]]
    assert data.data == ["CCO", "c1ccccc1O", "CCN"]
    assert data.target_names == tasks
    assert data.target.dtype == np.float64 and data.target.shape == (3, len(tasks))
    np.testing.assert_array_equal(data.target, expected[tasks].to_numpy(float))
    assert np.isnan(data.target).any()
    assert data.task == BENCHMARKS[name]["task"]
    assert data.frame is None


def test_benchmarks_folder_env_variable_and_frames(tmp_path, monkeypatch):
    write_benchmark(tmp_path, "biogenadme")
    monkeypatch.setenv("INFOALIGN_DATA_DIR", str(tmp_path))
    data = load_benchmark("biogenadme", as_frame=True)
    assert list(data.data.columns) == ["smiles"]
    assert list(data.target.columns) == data.target_names
    assert "Internal ID" in data.frame.columns
    X, y = load_benchmark("biogenadme", return_X_y=True)
    assert len(X) == 3 and y.shape == (3, 2)


def test_missing_data_is_explained(tmp_path, monkeypatch):
    monkeypatch.delenv("INFOALIGN_DATA_DIR", raising=False)
    monkeypatch.setenv("INFOALIGN_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="INFOALIGN_DATA_DIR"):
        load_benchmark("chembl2k")
    with pytest.raises(FileNotFoundError) as info:
        load_benchmark("chembl2k", tmp_path / "nowhere")
    message = str(info.value)
    assert "benchmarks/chembl2k/assays.csv.gz" in message and "download=True" in message
    assert str(tmp_path / "cache" / "chembl2k" / "assays.csv.gz") in message
    with pytest.raises(ValueError, match="choose one of"):
        load_benchmark("tox21", tmp_path)


def test_layout_change_is_reported(tmp_path):
    folder = tmp_path / "broad6k"
    folder.mkdir()
    pd.DataFrame({"smiles": ["CCO"], "a": [1.0]}).to_csv(folder / "assays.csv.gz", index=False)
    with pytest.raises(ValueError, match="inchikey"):
        load_benchmark("broad6k", tmp_path)


def test_load_csv_infers_targets_and_task(tmp_path):
    path = tmp_path / "set.csv"
    pd.DataFrame({
        "name": ["a", "b", "c"], "SMILES": ["CCO", "CCN", "CCC"],
        "active": [1, np.nan, 0], "logS": [-1.2, 0.3, np.nan],
    }).to_csv(path, index=False)
    both = load_csv(path, smiles_column="SMILES")
    assert both.target_names == ["active", "logS"] and both.task == "regression"
    active = load_csv(path, "SMILES", ["active"])
    assert active.task == "classification"
    assert active.target[:, 0].tolist()[0] == 1.0 and np.isnan(active.target[1, 0])
    assert load_csv(path, "SMILES", ["active"], task="regression").task == "regression"
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['pIC50'\]"):
        load_csv(path, "SMILES", ["pIC50"])
    with pytest.raises(ValueError, match="not numeric"):
        load_csv(path, "SMILES", ["name"])
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "absent.csv")


def test_download_into_cache_checks_sha256_and_then_works_offline(tmp_path, monkeypatch):
    import hashlib

    from infoalign_sklearn import datasets

    monkeypatch.delenv("INFOALIGN_DATA_DIR", raising=False)
    served = tmp_path / "served"
    write_benchmark(served, "biogenadme")
    source = served / "biogenadme" / "assays.csv.gz"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    monkeypatch.setattr(datasets, "BENCHMARK_URL", f"file://{served}/{{name}}/assays.csv.gz")
    monkeypatch.setitem(datasets.BENCHMARK_SHA256, "biogenadme", "0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="SHA-256"):
        load_benchmark("biogenadme", cache_dir=cache, download=True)
    assert not (cache / "biogenadme" / "assays.csv.gz").exists()

    monkeypatch.setitem(datasets.BENCHMARK_SHA256, "biogenadme", digest)
    data = load_benchmark("biogenadme", cache_dir=cache, download=True)
    assert data.filename == str(cache / "biogenadme" / "assays.csv.gz") and len(data.data) == 3
    source.unlink()  # offline from now on: the cached copy is used
    assert len(load_benchmark("biogenadme", cache_dir=cache).data) == 3
    with pytest.raises(FileNotFoundError, match="Offline"):
        datasets.fetch_benchmark("broad6k", cache_dir=cache)
