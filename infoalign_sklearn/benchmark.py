"""The paper's evaluation protocol as functions: representations x models x splits -> scores.

Representations are computed once for all molecules (they are frozen: fingerprints, or
embedders pretrained beforehand) and indexed per split; models are fitted on the training part,
early-stopped on the validation part where they can be, and scored per task on the test part.
Results are tidy (one row per representation x model x split x task), so any table can be
derived from them; :func:`summarize` derives the paper's.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from tqdm.auto import tqdm

from ._utils.parallel import progress_options
from .datasets import infer_task
from .metrics import AUC_THRESHOLDS, per_task_mae, per_task_roc_auc

MODEL_NAMES = ("mlp", "rf", "gp")


def make_model(name: str, task: str, *, binary_features: bool, random_state: int = 0,
               n_jobs: int | None = None, max_epochs: int = 100, n_features: int | None = None,
               scale_features: bool = True):
    """The paper's downstream models by name: ``"mlp"``, ``"rf"`` or ``"gp"``.

    ``mlp``: :class:`MultiTaskMLPClassifier` / ``Regressor`` (one hidden layer of 1,200, early
    stopping on the validation set). ``rf``: a random forest per task. ``gp``: a Gaussian
    process per task, with the Tanimoto kernel on fingerprints (``binary_features``: bits or
    counts, non-negative integers) and an RBF kernel (fixed length scale, on standardised
    features) on continuous representations; ``scale_features=False`` leaves out the GP's
    own ``StandardScaler`` (for features scaled beforehand).
    """
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.gaussian_process import GaussianProcessClassifier, GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .estimators import (
        MultiTaskMLPClassifier,
        MultiTaskMLPRegressor,
        PerTaskEstimator,
        TanimotoKernel,
    )

    classification = task == "classification"
    if name == "mlp":
        cls = MultiTaskMLPClassifier if classification else MultiTaskMLPRegressor
        return cls(random_state=random_state, max_epochs=max_epochs)
    if name == "rf":
        cls = RandomForestClassifier if classification else RandomForestRegressor
        return PerTaskEstimator(cls(n_estimators=100, random_state=random_state, n_jobs=n_jobs))
    if name == "gp":
        if binary_features:
            kernel, optimizer = TanimotoKernel(), "fmin_l_bfgs_b"
        else:
            # standardised features: squared distances ~ 2 x n_features, so this length scale
            # keeps the kernel informative; fixed, because fitting it per task is the slow part
            kernel = RBF(length_scale=np.sqrt(n_features or 1.0), length_scale_bounds="fixed")
            optimizer = None
        if classification:
            gp = GaussianProcessClassifier(kernel=kernel, optimizer=optimizer,
                                           random_state=random_state)
        else:
            gp = GaussianProcessRegressor(
                kernel=ConstantKernel() * kernel + WhiteKernel(), normalize_y=True,
                random_state=random_state,
            )
        inner = gp if binary_features or not scale_features else make_pipeline(
            StandardScaler(), gp)
        return PerTaskEstimator(inner, n_jobs=n_jobs)
    raise ValueError(f"Unknown model {name!r}; choose from {MODEL_NAMES}.")


def _fit_predict(model, X_train, y_train, X_valid, y_valid, X_test, task: str) -> np.ndarray:
    from .estimators import MultiTaskMLPClassifier, MultiTaskMLPRegressor

    y_fit = y_train if y_train.shape[1] > 1 else y_train[:, 0]
    if isinstance(model, (MultiTaskMLPClassifier, MultiTaskMLPRegressor)) and X_valid is not None:
        y_val = y_valid if y_valid.shape[1] > 1 else y_valid[:, 0]
        model.fit(X_train, y_fit, X_val=X_valid, y_val=y_val)
    else:
        model.fit(X_train, y_fit)
    if task == "classification":
        out = np.asarray(model.predict_proba(X_test), dtype=float)
        if y_train.shape[1] == 1 and out.ndim == 2 and out.shape[1] == 2:
            out = out[:, 1]
    else:
        out = np.asarray(model.predict(X_test), dtype=float)
    return out.reshape(len(X_test), -1)


def evaluate_representations(
    features: Mapping[str, np.ndarray],
    y,
    splits: Iterable[tuple],
    *,
    models: Sequence[str] = ("mlp", "rf"),
    task: str = "auto",
    task_names: Sequence[str] | None = None,
    random_state: int = 0,
    n_jobs: int | None = None,
    max_epochs: int = 100,
    parallel_fits: int | None = None,
    verbose=0,
    desc: str = "cross-validation",
) -> pd.DataFrame:
    """Score every (representation, model) on every split, per task.

    Parameters
    ----------
    features : dict name -> array (n_molecules, n_features)
        Representations of all molecules; rows with NaN (invalid molecules) are left out.
    y : array-like (n_molecules,) or (n_molecules, n_tasks), NaN = not measured
    splits : iterable of (train, valid, test) or (train, test) index arrays
        ``valid`` may be None; the MLP then early-stops on a random part of train.
    models : names for :func:`make_model`
    task : "auto", "classification" or "regression"
    n_jobs : int, default=None
        Workers of each model that has them (random forests, per-task GPs).
    parallel_fits : int, default=None
        Fits (split x representation x model) run at once in this many worker processes
        (joblib), each with its share of the cores (one torch thread each on a machine with
        as many cores as workers); the models then get ``n_jobs=1``. ``None``: one after
        another in this process. Every fit has its own seed, so the scores do not depend on
        the order; the last digits may, through the torch thread count.
    verbose : int or dict, default=0
        1 (or a dict of tqdm options): a progress bar over the fits, named ``desc``, showing
        the last fit's score; 2: also one line per fit with its score and time.
    desc : str, default="cross-validation"
        Name of the progress bar.

    Returns
    -------
    DataFrame
        Columns ``representation, model, split, task, metric, value, seconds``; ``metric`` is
        ``roc_auc`` (NaN where the test part of a task has one class) or ``mae``.
    """
    from joblib import Parallel, delayed, effective_n_jobs

    y = np.asarray(y, dtype=float)
    y = y[:, None] if y.ndim == 1 else y
    task = infer_task(y) if task == "auto" else task
    names = list(task_names) if task_names is not None else [f"task{i}" for i in range(y.shape[1])]
    splits = list(splits)
    jobs = [(split_no, split, rep_name, model_name)
            for split_no, split in enumerate(splits)
            for rep_name in features for model_name in models]
    parallel = parallel_fits is not None and effective_n_jobs(parallel_fits) > 1
    settings = FitSettings(task, names, random_state, max_epochs, 1 if parallel else n_jobs)
    if parallel:
        results = Parallel(n_jobs=parallel_fits, return_as="generator")(
            delayed(_score_fit)(features[rep], y, split, split_no, (rep, model), settings)
            for split_no, split, rep, model in jobs
        )
    else:
        results = (_score_fit(features[rep], y, split, split_no, (rep, model), settings)
                   for split_no, split, rep, model in jobs)
    bar_opts = progress_options(verbose, desc)
    bar = tqdm(total=len(jobs), **bar_opts) if bar_opts is not None else None
    rows: list = []
    try:
        for (split_no, _, rep_name, model_name), (fit_rows, seconds) in zip(jobs, results):
            rows += fit_rows
            values = np.array([r[5] for r in fit_rows], dtype=float)
            score = values[np.isfinite(values)].mean() if np.isfinite(values).any() else np.nan
            metric = fit_rows[0][4]
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"fold {split_no + 1}/{len(splits)} {rep_name}, "
                                    f"{model_name}: {metric} {score:.3f}", refresh=True)
            if not isinstance(verbose, dict) and verbose >= 2:
                message = (f"  split {split_no} {rep_name:>14s} {model_name:>4s}: "
                           f"{metric} {score:.4f} ({seconds:.1f}s)")
                (bar.write if bar is not None else print)(message)
    finally:
        if bar is not None:
            bar.close()
    return pd.DataFrame(rows, columns=["representation", "model", "split", "task", "metric",
                                       "value", "seconds"])


@dataclass(frozen=True)
class FitSettings:
    """What every fit of one :func:`evaluate_representations` call shares."""

    task: str
    names: list
    random_state: int
    max_epochs: int
    n_jobs: int | None


def _score_fit(X, y, split, split_no: int, what: tuple[str, str],
               settings: FitSettings) -> tuple[list, float]:
    """Fit one model (``what``: representation and model names) on one split; its rows (one
    per task) and seconds."""
    rep_name, model_name = what
    task, names = settings.task, settings.names
    train, valid, test = split if len(split) == 3 else (split[0], None, split[1])
    X = np.asarray(X, dtype=np.float32)
    # a row of NaN is an invalid molecule (left out); NaN cells in a valid row are missing
    # values of one feature (a descriptor RDKit cannot compute): training medians fill them
    ok = ~np.isnan(X).all(axis=1)
    tr, te = train[ok[train]], test[ok[test]]
    va = None if valid is None else valid[ok[valid]]
    X = _impute_training_medians(X, tr)
    counts = _count_columns(X[tr])
    if not counts.all():
        # learned representations have arbitrary scales (mu grows freely under a tiny
        # beta), descriptors too; standardise those columns with training statistics so MLP
        # and GP see unit scales. Fingerprint columns (bits or counts) stay as they are:
        # dividing a rarely set bit by its tiny std would blow it up to tens
        scale = ~counts
        mean, std = X[tr][:, scale].mean(axis=0), X[tr][:, scale].std(axis=0)
        X = X.copy()
        X[:, scale] = (X[:, scale] - mean) / np.where(std > 0, std, 1.0)
    model = make_model(model_name, task, binary_features=bool(counts.all()),
                       random_state=settings.random_state + split_no, n_jobs=settings.n_jobs,
                       max_epochs=settings.max_epochs, n_features=X.shape[1],
                       scale_features=False)  # scaled above, fingerprint columns left out
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one-class tasks in a fold: NaN scores, reported
        pred = _fit_predict(
            clone(model), X[tr], y[tr], None if va is None else X[va],
            None if va is None else y[va], X[te], task,
        )
    seconds = time.perf_counter() - start
    if task == "classification":
        metric, per_task = "roc_auc", per_task_roc_auc(y[te], pred)
    else:
        metric, per_task = "mae", per_task_mae(y[te], pred)
    rows = [(rep_name, model_name, split_no, name, metric, float(value), seconds)
            for name, value in zip(names, np.atleast_1d(per_task))]
    return rows, seconds


def _count_columns(X_train: np.ndarray) -> np.ndarray:
    """Per column: every training value is a non-negative integer (fingerprint bits or
    counts, fragment counts), NaN rows ignored."""
    finite = X_train[~np.isnan(X_train).all(axis=1)]
    if not len(finite):
        return np.zeros(X_train.shape[1], dtype=bool)
    return ((finite >= 0) & (finite == np.round(finite))).all(axis=0)


def _impute_training_medians(X: np.ndarray, train: np.ndarray) -> np.ndarray:
    """``X`` with NaN cells of partly-NaN rows set to the column's median over the training
    rows (0 where a column has no training value); all-NaN rows stay NaN."""
    missing = np.isnan(X)
    partial = missing.any(axis=1) & ~missing.all(axis=1)
    if not partial.any():
        return X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        medians = np.nanmedian(X[train], axis=0)
    medians = np.where(np.isnan(medians), 0.0, medians).astype(X.dtype)
    X = X.copy()
    rows, cols = np.nonzero(missing & partial[:, None])
    X[rows, cols] = medians[cols]
    return X


def summarize(results: pd.DataFrame, thresholds: Sequence[float] = AUC_THRESHOLDS) -> pd.DataFrame:
    """The paper's table: per representation x model, mean ± std over splits (seeds).

    Classification: average AUC over scorable tasks and the share of tasks at or above each
    threshold. Regression: MAE per endpoint and its average.
    """
    out = []
    keys = [k for k in ("dataset", "representation", "model") if k in results.columns]
    for key, group in results.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key))
        metric = group["metric"].iloc[0]
        per_split = group.pivot_table(index="split", columns="task", values="value", dropna=False)
        if metric == "roc_auc":
            avg = per_split.mean(axis=1, skipna=True)
            row["AUC mean"], row["AUC std"] = avg.mean(), avg.std(ddof=0)
            for t in thresholds:
                share = per_split.apply(lambda r, t=t: np.mean(r.dropna() >= t) if r.notna().any() else np.nan, axis=1)
                row[f">{int(round(t * 100))}% mean"] = share.mean()
            row["tasks scored"] = int(per_split.notna().sum(axis=1).mean())
        else:
            for task_name in per_split.columns:
                row[f"{task_name} mean"] = per_split[task_name].mean()
                row[f"{task_name} std"] = per_split[task_name].std(ddof=0)
            avg = per_split.mean(axis=1, skipna=True)
            row["MAE avg mean"], row["MAE avg std"] = avg.mean(), avg.std(ddof=0)
        row["splits"] = per_split.shape[0]
        row["seconds"] = group.groupby("split")["seconds"].first().sum()
        out.append(row)
    return pd.DataFrame(out)


def format_table(summary: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Collapse ``X mean`` / ``X std`` column pairs into ``X`` = ``"m ± s"`` strings."""
    table = summary.copy()
    for col in [c for c in table.columns if c.endswith(" mean")]:
        base = col[: -len(" mean")]
        std = f"{base} std"
        if std in table.columns:
            table[base] = [f"{m:.{digits}f} ± {s:.{digits}f}" for m, s in zip(table[col], table[std])]
            table = table.drop(columns=[col, std])
        else:
            table[base] = table[col].map(lambda v: f"{v:.{digits}f}")
            table = table.drop(columns=[col])
    if "seconds" in table.columns:
        table["seconds"] = table["seconds"].map(lambda v: f"{v:.1f}")
    return table


def run_benchmark(
    dataset: str,
    representations: Mapping,
    models: Sequence[str] = ("mlp", "rf", "gp"),
    seeds: Sequence[int] = (0, 1, 2),
    data_dir=None,
    *,
    sizes: Sequence[float] = (0.6, 0.15, 0.25),
    skip: Mapping[str, str] | None = None,
    max_epochs: int = 100,
    n_jobs: int | None = None,
    verbose: int = 0,
) -> pd.DataFrame:
    """The paper's protocol on one benchmark set.

    For each seed: a scaffold split (``sizes`` of train / validation / test, varied by the
    seed), every representation computed for all molecules, every model fitted on train,
    early-stopped on validation (MLP) and scored per task on test.

    Parameters
    ----------
    dataset : str or Bunch
        A name for :func:`~infoalign_sklearn.datasets.load_benchmark`, or a loaded Bunch with
        ``data`` (SMILES), ``target`` and ``target_names``.
    representations : dict name -> transformer or callable
        A fitted (or stateless) transformer of SMILES, or ``callable(seed) -> transformer`` for
        representations pretrained once per seed (cache them to reuse across datasets).
    models : names from ``("mlp", "rf", "gp")``
    seeds : ints
    skip : dict model -> reason, optional
        Models not run on this dataset; a row with the reason is kept in the output (``value``
        NaN) so tables can say why a cell is empty.

    Returns
    -------
    DataFrame
        One row per dataset x representation x model x seed x task, columns ``dataset,
        representation, model, seed, task, metric, value, seconds, skipped``.
    """
    from .datasets import load_benchmark
    from .model_selection import scaffold_split_indices

    bunch = load_benchmark(dataset, data_dir=data_dir) if isinstance(dataset, str) else dataset
    name = dataset if isinstance(dataset, str) else getattr(bunch, "name", "dataset")
    smiles = list(bunch.data)
    y = np.asarray(bunch.target, dtype=float)
    task_names = list(bunch.target_names)
    skip = dict(skip or {})
    run_models = [m for m in models if m not in skip]
    frames = []
    for seed in seeds:
        split = scaffold_split_indices(smiles, sizes=sizes, random_state=seed)
        features = {}
        for rep_name, rep in representations.items():
            transformer = rep(seed) if callable(rep) and not hasattr(rep, "transform") else rep
            features[rep_name] = np.asarray(transformer.transform(smiles), dtype=np.float32)
        if verbose:
            print(f"{name} seed {seed}: train {len(split[0])}, valid {len(split[1])}, test {len(split[2])}")
        if run_models:
            scores = evaluate_representations(
                features, y, [split], models=run_models, task_names=task_names,
                random_state=seed, n_jobs=n_jobs, max_epochs=max_epochs, verbose=verbose,
            )
            scores["split"] = seed
            frames.append(scores.rename(columns={"split": "seed"}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["representation", "model", "seed", "task", "metric", "value", "seconds"])
    out["skipped"] = ""
    for model, reason in skip.items():
        if model in models:
            for rep_name in representations:
                out.loc[len(out)] = {"representation": rep_name, "model": model, "seed": np.nan,
                                     "task": "", "metric": "", "value": np.nan, "seconds": 0.0,
                                     "skipped": reason}
    out.insert(0, "dataset", name)
    return out


def evaluate_csv(path, *, smiles_column: str = "smiles", target_columns=None, model_dir=None,
                 n_splits: int = 5, seed: int = 0, task: str = "auto",
                 models: Sequence[str] = ("mlp", "rf"), max_epochs: int = 100,
                 verbose=0) -> pd.DataFrame:
    """Scaffold-CV comparison of Morgan fingerprints (and a pretrained model) on a CSV.

    The command behind ``infoalign evaluate``. Invalid SMILES are left out with a warning
    (their rows have no representation); labels may be missing (empty cells).
    Returns the formatted summary table (mean ± std over folds).
    """
    from .datasets import load_csv
    from .fingerprints import MorganFingerprint
    from .model_selection import ScaffoldKFold

    data = load_csv(path, smiles_column=smiles_column, target_columns=target_columns,
                    task=None if task == "auto" else task, missing_smiles="drop")
    target = np.asarray(data.target, dtype=float).reshape(len(data.data), -1)
    unmeasured = [name for name, column in zip(data.target_names, target.T)
                  if np.isnan(column).all()]
    if unmeasured:
        raise ValueError(f"target column(s) {unmeasured} of {path} hold no value (every cell is "
                         "empty): nothing to evaluate them on; choose other --target-columns")
    smiles = list(data.data)
    fp = MorganFingerprint(n_bits=2048, errors="nan").transform(smiles)
    valid = ~np.isnan(fp[:, 0])
    if not valid.all():
        warnings.warn(f"{int((~valid).sum())} invalid SMILES are left out of the evaluation.",
                      stacklevel=2)
    keep = np.flatnonzero(valid)
    smiles = [smiles[i] for i in keep]
    features = {"Morgan FP": fp[keep]}
    if model_dir is not None:
        from .embedders import InfoAlignEmbedder

        embedder = InfoAlignEmbedder.from_pretrained(model_dir, errors="nan")
        z = embedder.transform(smiles)
        # a model pretrained on a simulated graph says so in every row of the table
        label = " (SIMULATED graph)" if embedder.graph_reference_.simulated else ""
        features[f"InfoAlign{label}"] = z
        features[f"InfoAlign + FP{label}"] = np.hstack([z, features["Morgan FP"]])
    y = np.asarray(data.target, dtype=float)[keep]
    splits = list(ScaffoldKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(smiles))
    results = evaluate_representations(features, y, splits, models=models, task=data.task,
                                       task_names=list(data.target_names), random_state=seed,
                                       max_epochs=max_epochs, verbose=verbose,
                                       desc="scaffold cross-validation")
    return format_table(summarize(results))
