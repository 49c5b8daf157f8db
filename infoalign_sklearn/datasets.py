"""Loaders for the paper's four downstream benchmarks and for any CSV of SMILES and labels.

The benchmark files are read as their authors ship them (``<name>/assays.csv.gz``), from a data
folder, or from a cache folder that ``download=True`` fills from the authors' repository (pinned
commit, SHA-256 checked). Nothing is downloaded unless asked. NaN in a target means "not
measured".
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = ["BENCHMARKS", "fetch_authors_checkpoint", "fetch_benchmark", "infer_task",
           "load_benchmark", "load_csv"]

DATA_DIR_ENV = "INFOALIGN_DATA_DIR"
CACHE_DIR_ENV = "INFOALIGN_CACHE_DIR"
# The authors' files at a fixed commit of liugangcode/InfoAlign, and their SHA-256.
BENCHMARK_URL = ("https://raw.githubusercontent.com/liugangcode/InfoAlign/"
                 "eed96f36503a8a427fac4f382ee2001f957dd42a/raw_data/{name}/raw/assays.csv.gz")
BENCHMARK_SHA256 = {
    "biogenadme": "16efe8a9849e69e50e7c3536daf2c65e776d798a092e5d0b8677a92e0a26e7e8",
    "broad6k": "154734844dd2f9862033422754607120ead6d5ae85e7642f78c50afcc952c8e2",
    "chembl2k": "9032bb122dcdea5f485d8a706316714538fbce344c56b6eafbc97c68b24dbe5a",
    "moltoxcast": "a263400aa84bfbd10918fdd158a7199f0135f68517af13c0ec643714a59bae22",
}

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


def default_cache_dir() -> Path:
    """``$INFOALIGN_CACHE_DIR``, else ``~/.cache/infoalign-sklearn``."""
    return Path(os.environ.get(CACHE_DIR_ENV) or Path.home() / ".cache" / "infoalign-sklearn")


def fetch_benchmark(name: str, cache_dir=None, *, url: str | None = None) -> Path:
    """Download one benchmark file into the cache (atomically, SHA-256 checked); return its path.

    An already cached file with the right checksum is reused without any network access.

    Examples
    --------
    >>> fetch_benchmark("chembl2k")  # doctest: +SKIP
    PosixPath('/home/me/.cache/infoalign-sklearn/chembl2k/assays.csv.gz')
    """
    from ._utils.io import atomic_file, file_sha256

    if name not in BENCHMARKS:
        raise ValueError(f"Unknown benchmark {name!r}; choose one of {sorted(BENCHMARKS)}.")
    target = Path(cache_dir or default_cache_dir()).expanduser() / name / _FILE_NAME
    expected = BENCHMARK_SHA256[name]
    if target.is_file() and file_sha256(target) == expected:
        return target
    source = url or BENCHMARK_URL.format(name=name)
    try:
        with urllib.request.urlopen(source, timeout=60) as response:
            payload = response.read()
    except OSError as exc:
        raise FileNotFoundError(
            f"Could not download {name!r} from {source} ({exc}). Offline? Put the file at "
            f"{target} or pass data_dir= to a folder holding {name}/{_FILE_NAME}."
        ) from exc
    digest = hashlib.sha256(payload).hexdigest()
    if digest != expected:
        raise ValueError(f"Downloaded {source} has SHA-256 {digest}, expected {expected}; "
                         "not saved.")
    with atomic_file(target) as fh:
        fh.write(payload)
    return target


# The authors' pretrained model on the Hugging Face hub. The revision is the commit that uploaded
# pretrain.pt ("Upload 2 files", 19 June 2024, as the repository's commit history shows); its
# SHA-256 could not be read on the machines this package was written on (no network), so it
# is not pinned: the first download records it beside the file and later loads check it.
AUTHORS_CHECKPOINT_REPO = "liuganghuggingface/InfoAlign-Pretrained"
AUTHORS_CHECKPOINT_REVISION = "1fd1c69b00652c4b2e48c19c2b742588bcbae3bd"
AUTHORS_CHECKPOINT_SHA256: str | None = None
_AUTHORS_WEIGHTS = "pretrain.pt"
# the model config: pretrain.yaml at the pinned commit, renamed config.yaml later on the hub
_AUTHORS_CONFIGS = ("pretrain.yaml", "config.yaml")
_CHECKSUM_SUFFIX = ".sha256"
OFFLINE_ENV = ("INFOALIGN_OFFLINE", "HF_HUB_OFFLINE")


def _env_offline() -> bool:
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
               for name in OFFLINE_ENV)


def fetch_authors_checkpoint(cache_dir=None, *, revision: str = AUTHORS_CHECKPOINT_REVISION,
                             offline: bool | None = None, force: bool = False,
                             sha256: str | None = AUTHORS_CHECKPOINT_SHA256) -> Path:
    """The folder holding the InfoAlign authors' pretrained checkpoint, downloaded if needed.

    Downloads ``pretrain.pt`` and its YAML config from the Hugging Face hub repository
    ``liuganghuggingface/InfoAlign-Pretrained`` at a pinned commit, through
    ``huggingface_hub`` (``pip install "infoalign-sklearn[hub]"``), into
    ``<cache_dir>/authors-checkpoint/<revision>/`` (replaced atomically once complete). The
    weights' SHA-256 is checked against ``sha256`` when given; otherwise the first download
    records it in ``pretrain.pt.sha256`` and every later call checks the cached file against
    that record. A cached, intact checkpoint is reused without any network access. Load the
    folder with :meth:`InfoAlignEmbedder.from_authors_checkpoint
    <infoalign_sklearn.InfoAlignEmbedder.from_authors_checkpoint>`.

    Parameters
    ----------
    cache_dir : str or path, default=None
        ``$INFOALIGN_CACHE_DIR`` or ``~/.cache/infoalign-sklearn`` when None.
    revision : str, default=AUTHORS_CHECKPOINT_REVISION
        Commit (or tag, branch) of the hub repository.
    offline : bool, default=None
        Use the cache only; None reads ``$INFOALIGN_OFFLINE`` or ``$HF_HUB_OFFLINE`` ("1",
        "true", "yes", "on").
    force : bool, default=False
        Download again even when the cache holds the checkpoint.
    sha256 : str, default=AUTHORS_CHECKPOINT_SHA256 (None: not known)
        Expected SHA-256 of ``pretrain.pt``.

    Returns
    -------
    folder : Path
        Holding ``pretrain.pt``, ``pretrain.pt.sha256`` and ``pretrain.yaml`` when the hub has
        a config at that revision.

    Raises
    ------
    FileNotFoundError
        Offline and not cached, or the download failed (naming where to put the file).
    ValueError
        The weights do not match the expected or recorded SHA-256 (a download is not kept).
    ImportError
        ``huggingface_hub`` is needed to download and is not installed.

    Examples
    --------
    >>> folder = fetch_authors_checkpoint()  # doctest: +SKIP
    >>> InfoAlignEmbedder.from_authors_checkpoint(folder).transform(["CCO"]).shape  # doctest: +SKIP
    (1, 300)
    """
    from ._utils.io import atomic_directory, atomic_file, file_sha256

    if not isinstance(revision, str) or not revision.strip() or ".." in revision \
            or "\\" in revision:
        raise ValueError(f"revision must be a commit hash, tag or branch name, got {revision!r}")
    folder = (Path(cache_dir or default_cache_dir()).expanduser() / "authors-checkpoint"
              / revision.strip("/").replace("/", "--"))
    weights = folder / _AUTHORS_WEIGHTS
    record = folder / (_AUTHORS_WEIGHTS + _CHECKSUM_SUFFIX)
    offline = _env_offline() if offline is None else bool(offline)
    if weights.is_file() and not force:
        expected = sha256 or (record.read_text().strip() if record.is_file() else None)
        found = file_sha256(weights)
        if expected is None:  # placed there by hand: record it now
            with atomic_file(record, "w") as fh:
                fh.write(found + "\n")
            return folder
        if found == expected:
            return folder
        raise ValueError(
            f"{weights} has SHA-256 {found}, expected {expected} "
            f"({'given' if sha256 else 'recorded at download in ' + str(record)}): the file is "
            "corrupted or was replaced. Pass force=True to download it again."
        )
    if offline:
        raise FileNotFoundError(
            f"The authors' checkpoint is not in the cache ({weights}) and downloads are off "
            f"(offline=True or ${OFFLINE_ENV[0]} / ${OFFLINE_ENV[1]} set). Run once with network "
            f"access, or copy pretrain.pt (and its YAML config) from "
            f"https://huggingface.co/{AUTHORS_CHECKPOINT_REPO} into {folder}."
        )
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise ImportError(
            "Downloading the authors' checkpoint needs huggingface_hub: "
            'pip install "infoalign-sklearn[hub]" (or put pretrain.pt into '
            f"{folder} yourself)."
        ) from exc
    with atomic_directory(folder) as staging:
        try:
            got = hf_hub_download(AUTHORS_CHECKPOINT_REPO, _AUTHORS_WEIGHTS, revision=revision,
                                  local_dir=staging, force_download=True)
        except Exception as exc:  # network, unknown revision, hub errors
            raise FileNotFoundError(
                f"Could not download {_AUTHORS_WEIGHTS} of {AUTHORS_CHECKPOINT_REPO} at "
                f"revision {revision} ({type(exc).__name__}: {exc}). Offline? Copy the file "
                f"into {folder} and call again."
            ) from exc
        got = Path(got)
        digest = file_sha256(got)
        if sha256 is not None and digest != sha256:
            raise ValueError(
                f"Downloaded {_AUTHORS_WEIGHTS} of {AUTHORS_CHECKPOINT_REPO}@{revision} has "
                f"SHA-256 {digest}, expected {sha256}; not saved."
            )
        if got != staging / _AUTHORS_WEIGHTS:
            os.replace(got, staging / _AUTHORS_WEIGHTS)
        (staging / (_AUTHORS_WEIGHTS + _CHECKSUM_SUFFIX)).write_text(digest + "\n")
        _fetch_authors_config(hf_hub_download, revision, staging)
        _remove_hub_metadata(staging)
    return folder


def _fetch_authors_config(hf_hub_download, revision: str, staging: Path) -> None:
    """Download the model config as ``pretrain.yaml``; none at that revision is not an error
    (the loader infers the sizes from the weights and uses the published readout)."""
    try:
        from huggingface_hub.errors import EntryNotFoundError as not_found
    except ImportError:  # older huggingface_hub: recognised by name below
        not_found = ()
    for name in _AUTHORS_CONFIGS:
        try:
            got = Path(hf_hub_download(AUTHORS_CHECKPOINT_REPO, name, revision=revision,
                                       local_dir=staging, force_download=True))
        except Exception as exc:
            if isinstance(exc, not_found) or "EntryNotFound" in type(exc).__name__:
                continue
            raise FileNotFoundError(
                f"Could not download {name} of {AUTHORS_CHECKPOINT_REPO} at revision "
                f"{revision} ({type(exc).__name__}: {exc})."
            ) from exc
        if got != staging / "pretrain.yaml":
            os.replace(got, staging / "pretrain.yaml")
        return


def _remove_hub_metadata(staging: Path) -> None:
    """huggingface_hub keeps download metadata in ``<local_dir>/.cache``: not ours to keep."""
    import shutil

    shutil.rmtree(staging / ".cache", ignore_errors=True)


def _benchmark_path(name: str, data_dir, download: bool, cache_dir) -> Path:
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV)
    tried = []
    if data_dir:
        root = Path(data_dir).expanduser()
        candidates = [root / "benchmarks" / name / _FILE_NAME, root / name / _FILE_NAME]
        for path in candidates:
            if path.is_file():
                return path
        tried += candidates
    cached = Path(cache_dir or default_cache_dir()).expanduser() / name / _FILE_NAME
    if cached.is_file():
        return cached
    tried.append(cached)
    if download:
        return fetch_benchmark(name, cache_dir)
    raise FileNotFoundError(
        f"Benchmark {name!r} not found; looked for: " + ", ".join(str(p) for p in tried)
        + f". Pass data_dir=... (or set ${DATA_DIR_ENV}) to the folder holding "
        f"benchmarks/{name}/{_FILE_NAME}, or download=True to fetch it into the cache."
    )


def infer_task(y) -> str:
    """``"classification"`` when every measured label is 0 or 1, else ``"regression"``.

    NaN (not measured) entries are ignored; a ``y`` without any measured label is regression.
    """
    values = np.asarray(y, dtype=float)
    values = values[~np.isnan(values)]
    return "classification" if values.size and np.isin(values, (0.0, 1.0)).all() else "regression"


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
                   as_frame: bool = False, return_X_y: bool = False, download: bool = False,
                   cache_dir: str | os.PathLike | None = None):
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
    download : bool, default=False
        When the file is neither under ``data_dir`` nor in the cache, fetch it (see
        :func:`fetch_benchmark`). Off by default: nothing touches the network unless asked.
    cache_dir : str or path, default=None
        Cache folder; ``$INFOALIGN_CACHE_DIR`` or ``~/.cache/infoalign-sklearn`` when None.

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
    path = _benchmark_path(name, data_dir, download, cache_dir)
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
             as_frame: bool = False, return_X_y: bool = False, missing_smiles: str = "raise"):
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
    missing_smiles : {"raise", "drop"}, default="raise"
        Rows with an empty SMILES cell: an error naming them, or left out with a warning
        naming them.

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
    if missing_smiles not in ("raise", "drop"):
        raise ValueError(f"missing_smiles must be 'raise' or 'drop', got {missing_smiles!r}.")
    empty = (frame[smiles_column].isna() | (frame[smiles_column].astype(str).str.strip() == ""))
    if missing_smiles == "drop" and empty.any():
        rows = np.flatnonzero(empty.to_numpy())
        warnings.warn(f"{rows.size} row(s) without SMILES in {path} are left out, e.g. rows "
                      f"{rows[:10].tolist()} (0-based, header not counted).", UserWarning,
                      stacklevel=2)
        frame = frame.loc[~empty.to_numpy()].reset_index(drop=True)
    _check_numeric(frame, target_columns, path)
    if task is None:
        task = infer_task(frame[target_columns].to_numpy(dtype=np.float64))
    return _bunch(frame, smiles_column, target_columns, task, as_frame, return_X_y,
                  f"Loaded from {path}.", path)
