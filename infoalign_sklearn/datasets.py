"""Loaders for the paper's four downstream benchmarks and for any CSV of SMILES and labels.

The benchmark files are read as their authors ship them (``<name>/assays.csv.gz``); nothing is
downloaded. NaN in a target means "not measured".
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = ["BENCHMARKS", "load_benchmark", "load_csv"]

DATA_DIR_ENV = "INFOALIGN_DATA_DIR"

# Columns of each assays.csv.gz that are not tasks; every other column is a task.
BENCHMARKS: dict[str, dict] = {
    "chembl2k": {
        "id_columns": ("inchikey", "Metadata_JCP2022", "ChEMBL_ID"),
        "task": "classification",
        "description": "ChEMBL2K: 41 binary target-activity tasks (ChEMBL), most labels missing.",
    },
    "broad6k": {
        "id_columns": ("inchikey",),
        "task": "classification",
        "description": "Broad6K: 32 binary assays (Moshkov et al. 2023).",
    },
    "moltoxcast": {
        "id_columns": ("mol_id",),
        "task": "classification",
        "description": "ToxCast (MoleculeNet): 617 binary toxicity assays, 29 % labelled.",
    },
    "biogenadme": {
        "id_columns": ("Internal ID", "Vendor ID", "CollectionName"),
        "task": "regression",
        "description": "Biogen3K ADME (Fang et al. 2023): 6 log10 endpoints, MAE on raw values.",
    },
}
_SMILES_COLUMN = "smiles"
_FILE_NAME = "assays.csv.gz"


def _benchmark_path(name: str, data_dir) -> Path:
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV)
        if not data_dir:
            raise FileNotFoundError(
                f"No data directory: pass data_dir=... or set ${DATA_DIR_ENV} to the folder "
                f"holding benchmarks/{name}/{_FILE_NAME} (or {name}/{_FILE_NAME})."
            )
    root = Path(data_dir).expanduser()
    tried = [root / "benchmarks" / name / _FILE_NAME, root / name / _FILE_NAME]
    for path in tried:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"Benchmark {name!r} not found under {str(root)!r}; looked for: "
        + ", ".join(str(p) for p in tried)
        + (". The directory itself does not exist." if not root.is_dir() else ".")
    )


def _infer_task(target: np.ndarray) -> str:
    values = target[~np.isnan(target)]
    return "classification" if values.size and np.isin(values, (0, 1)).all() else "regression"


def _check_numeric(frame: pd.DataFrame, target_columns: list[str], path: Path) -> None:
    non_numeric = [c for c in target_columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise ValueError(f"Target columns are not numeric in {path}: {non_numeric[:10]}")


def _bunch(frame: pd.DataFrame, smiles_column: str, target_columns: list[str], task: str,
           as_frame: bool, return_X_y: bool, descr: str, path: Path):
    _check_numeric(frame, target_columns, path)
    if frame[smiles_column].isna().any():
        rows = np.flatnonzero(frame[smiles_column].isna().to_numpy())
        raise ValueError(f"{rows.size} rows without SMILES in {path}, e.g. rows {rows[:10]}.")
    target = frame[target_columns].to_numpy(dtype=np.float64)
    if as_frame:
        data = frame[[smiles_column]]
        target_out = frame[target_columns].astype(np.float64)
    else:
        data = frame[smiles_column].astype(str).tolist()
        target_out = target
    if return_X_y:
        return data, target_out
    return Bunch(
        data=data, target=target_out, target_names=list(target_columns),
        feature_names=[smiles_column], task=task, frame=frame if as_frame else None,
        DESCR=descr, filename=str(path),
    )


def load_benchmark(name: str, data_dir: str | os.PathLike | None = None, *,
                   as_frame: bool = False, return_X_y: bool = False):
    """Load one of the paper's downstream benchmarks from its ``assays.csv.gz``.

    Parameters
    ----------
    name : {"chembl2k", "broad6k", "moltoxcast", "biogenadme"}
    data_dir : str or path, default=None
        Either the data root holding ``benchmarks/<name>/assays.csv.gz`` or the benchmarks
        folder holding ``<name>/assays.csv.gz``. Defaults to ``$INFOALIGN_DATA_DIR``.
    as_frame : bool, default=False
        Return ``data`` as a one-column DataFrame, ``target`` as a DataFrame and the whole
        table (ids included) as ``frame``.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    bunch : Bunch
        ``data`` (list of SMILES), ``target`` (float64 (n, n_tasks), NaN = not measured),
        ``target_names``, ``task`` ("classification" or "regression"), ``frame`` (None unless
        ``as_frame``), ``DESCR``, ``filename``.

    Raises
    ------
    ValueError
        For an unknown name.
    FileNotFoundError
        Naming every path that was looked at.

    Examples
    --------
    >>> from infoalign_sklearn import load_benchmark
    >>> data = load_benchmark("biogenadme", "../shared/data")  # doctest: +SKIP
    >>> data.task, data.target.shape  # doctest: +SKIP
    ('regression', (3521, 6))
    """
    if name not in BENCHMARKS:
        raise ValueError(f"Unknown benchmark {name!r}; choose one of {sorted(BENCHMARKS)}.")
    spec = BENCHMARKS[name]
    path = _benchmark_path(name, data_dir)
    frame = pd.read_csv(path)
    expected = [_SMILES_COLUMN, *spec["id_columns"]]
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks the expected column(s) {missing}.")
    target_columns = [c for c in frame.columns if c not in expected]
    return _bunch(frame, _SMILES_COLUMN, target_columns, spec["task"], as_frame, return_X_y,
                  spec["description"], path)


def load_csv(path: str | os.PathLike, smiles_column: str = "smiles",
             target_columns: Sequence[str] | None = None, *, task: str | None = None,
             as_frame: bool = False, return_X_y: bool = False):
    """Load a CSV (optionally compressed) of SMILES and labels, NaN where not measured.

    Parameters
    ----------
    path : str or path
    smiles_column : str, default="smiles"
    target_columns : sequence of str, default=None
        Task columns; None takes every numeric column other than the SMILES.
    task : {"classification", "regression"}, default=None
        Inferred when None: classification when every measured value is 0 or 1.
    as_frame, return_X_y : bool, default=False
        As for :func:`load_benchmark`.

    Returns
    -------
    bunch : Bunch
        As for :func:`load_benchmark`.

    Examples
    --------
    >>> import io, tempfile, os
    >>> from infoalign_sklearn import load_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.csv")
    >>> _ = open(path, "w").write("smiles,active\\nCCO,1\\nc1ccccc1,\\n")
    >>> data = load_csv(path)
    >>> data.data, data.target.ravel().tolist(), data.task
    (['CCO', 'c1ccccc1'], [1.0, nan], 'classification')
    """
    if task not in (None, "classification", "regression"):
        raise ValueError(f"task must be 'classification', 'regression' or None, got {task!r}.")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {str(path)!r}")
    frame = pd.read_csv(path)
    if target_columns is None:
        target_columns = [
            c for c in frame.columns
            if c != smiles_column and pd.api.types.is_numeric_dtype(frame[c])
        ]
    target_columns = list(target_columns)
    missing = [c for c in [smiles_column, *target_columns] if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path} lacks column(s) {missing}; it has {list(frame.columns)[:20]}."
        )
    if not target_columns:
        raise ValueError(f"No target columns found in {path}.")
    _check_numeric(frame, target_columns, path)
    if task is None:
        task = _infer_task(frame[target_columns].to_numpy(dtype=np.float64))
    return _bunch(frame, smiles_column, target_columns, task, as_frame, return_X_y,
                  f"Loaded from {path}.", path)
