"""Fingerprint baselines on the paper's four downstream benchmarks (the numbers InfoAlign must beat).

Protocol (the paper's): scaffold split 0.6 / 0.15 / 0.25 varied by seed; Morgan fingerprints
(radius 2, 2,048 bits); RF: 100 trees, sqrt(n_features) per split; models trained on the training part; the MLP early-stops on the
validation part and is scored with the weights of its best validation epoch; RF and GP use fixed
settings and ignore the validation part. Classification: ROC-AUC per task on the test part
(tasks with both classes among their measured test labels), averaged, and the share of tasks at
or above 80 / 85 / 90 / 95 % AUC. Regression: MAE per endpoint on the raw log10 values, and
their average. Mean ± std over seeds.

Usage::

    python benchmarks/baselines.py --data-dir ../shared/data --seeds 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessClassifier, GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, WhiteKernel

from infoalign_sklearn import (
    MorganFingerprint,
    MultiTaskMLPClassifier,
    MultiTaskMLPRegressor,
    PerTaskEstimator,
    TanimotoKernel,
    load_benchmark,
    per_task_mae,
    per_task_roc_auc,
    scaffold_groups,
    scaffold_split_indices,
)
from infoalign_sklearn.metrics import AUC_THRESHOLDS

DATASETS = ("chembl2k", "broad6k", "moltoxcast", "biogenadme")
MODELS = ("mlp", "rf", "gp")
LABELS = {"chembl2k": "ChEMBL2K", "broad6k": "Broad6K", "moltoxcast": "ToxCast",
          "biogenadme": "Biogen3K"}
SHORT_ENDPOINTS = {
    "LOG HLM_CLint (mL/min/kg)": "HLM", "LOG MDR1-MDCK ER (B-A/A-B)": "MDR1-ER",
    "LOG SOLUBILITY PH 6.8 (ug/mL)": "Sol", "LOG PLASMA PROTEIN BINDING (HUMAN) (% unbound)": "hPPB",
    "LOG PLASMA PROTEIN BINDING (RAT) (% unbound)": "rPPB", "LOG RLM_CLint (mL/min/kg)": "RLM",
}
# A Laplace GP classifier refactorises an n x n kernel for every Newton step of every task:
# with thousands of measured rows per task and 32 or 617 tasks it needs hours on two cores.
GP_SKIPPED = {
    "broad6k": "GP skipped: 32 tasks x ~3,400 training rows, Laplace GPC is O(n^3) per Newton "
               "step (hours on 2 cores)",
    "moltoxcast": "GP skipped: 617 tasks x ~1,500 training rows each (hours on 2 cores)",
}


def make_model(model: str, task: str, seed: int, n_jobs: int):
    classification = task == "classification"
    if model == "mlp":
        cls = MultiTaskMLPClassifier if classification else MultiTaskMLPRegressor
        return cls(max_epochs=100, patience=10, random_state=seed)
    if model == "rf":
        forest = (RandomForestClassifier if classification else RandomForestRegressor)(
            n_estimators=100, max_features="sqrt", random_state=seed, n_jobs=1
        )
        return PerTaskEstimator(forest, n_jobs=n_jobs)
    if classification:
        return PerTaskEstimator(GaussianProcessClassifier(kernel=TanimotoKernel(),
                                                          random_state=seed), n_jobs=n_jobs)
    kernel = ConstantKernel(1.0) * TanimotoKernel() + WhiteKernel(0.1)
    return PerTaskEstimator(
        GaussianProcessRegressor(kernel=kernel, normalize_y=True, random_state=seed),
        n_jobs=n_jobs,
    )


def evaluate(model, task: str, X_test, y_test, target_names) -> dict:
    if task == "classification":
        aucs = per_task_roc_auc(y_test, model.predict_proba(X_test))
        usable = aucs[~np.isnan(aucs)]
        row = {"auc": float(usable.mean()), "n_tasks_scored": int(usable.size)}
        row.update({f"share_auc>={t:.2f}": float(np.mean(usable >= t)) for t in AUC_THRESHOLDS})
        return row
    maes = per_task_mae(y_test, model.predict(X_test))
    row = {f"mae:{name}": float(value) for name, value in zip(target_names, maes)}
    row["mae:average"] = float(np.nanmean(maes))
    return row


def run_dataset(name: str, data_dir: str, seeds: int, models, n_jobs: int, log) -> list[dict]:
    start = time.perf_counter()
    data = load_benchmark(name, data_dir)
    X = MorganFingerprint(radius=2, n_bits=2048, n_jobs=n_jobs).transform(data.data)
    groups = scaffold_groups(data.data)
    endpoints = [SHORT_ENDPOINTS.get(t, t) for t in data.target_names]
    log(f"[{name}] {X.shape[0]} molecules, {data.target.shape[1]} tasks, "
        f"{np.bincount(groups).size} scaffolds; features in {time.perf_counter() - start:.0f} s")
    rows = []
    for model_name in models:
        if model_name == "gp" and name in GP_SKIPPED:
            log(f"[{name}] {GP_SKIPPED[name]}")
            rows.append({"dataset": name, "model": model_name, "skipped": GP_SKIPPED[name]})
            continue
        for seed in range(seeds):
            t0 = time.perf_counter()
            train, valid, test = scaffold_split_indices(None, random_state=seed, groups=groups)
            y = data.target
            model = make_model(model_name, data.task, seed, n_jobs)
            if model_name == "mlp":
                model.fit(X[train], y[train], X_val=X[valid], y_val=y[valid])
            else:
                model.fit(X[train], y[train])
            row = {"dataset": name, "model": model_name, "seed": seed,
                   "n_train": len(train), "n_valid": len(valid), "n_test": len(test),
                   **evaluate(model, data.task, X[test], y[test], endpoints),
                   "seconds": time.perf_counter() - t0}
            if model_name == "mlp":
                row["best_epoch"] = model.best_epoch_
            rows.append(row)
            score = row.get("auc", row.get("mae:average"))
            log(f"[{name}] {model_name} seed {seed}: {score:.4f} ({row['seconds']:.0f} s)")
    log(f"[{name}] done in {time.perf_counter() - start:.0f} s")
    return rows


def _pm(values: pd.Series, scale: float = 1.0, digits: int = 3) -> str:
    values = values.dropna() * scale
    if values.empty:
        return "-"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=0):.{digits}f}"


def tables(results: pd.DataFrame) -> tuple[str, str]:
    """(classification, regression) Markdown tables in the paper's layout."""
    model_names = {"mlp": "Morgan + MLP", "rf": "Morgan + RF", "gp": "Morgan + GP (Tanimoto)"}
    class_rows = []
    for name in ("chembl2k", "broad6k", "moltoxcast"):
        for model in MODELS:
            part = results[(results.dataset == name) & (results.model == model)]
            if part.empty:
                continue
            if "skipped" in part and part["skipped"].notna().any():
                class_rows.append(f"| {LABELS[name]} | {model_names[model]} | "
                                  f"{part['skipped'].dropna().iloc[0]} | | | | |")
                continue
            shares = [_pm(part[f"share_auc>={t:.2f}"], 100, 1) for t in AUC_THRESHOLDS]
            class_rows.append(
                f"| {LABELS[name]} | {model_names[model]} | {_pm(part['auc'], 100, 2)} | "
                + " | ".join(shares) + " |"
            )
    header = ("| Dataset | Model | AUC (%) | Tasks ≥ 80 % | Tasks ≥ 85 % | Tasks ≥ 90 % "
              "| Tasks ≥ 95 % |\n|---|---|---|---|---|---|---|\n")
    classification = header + "\n".join(class_rows) if class_rows else ""
    endpoints = [c for c in results.columns if c.startswith("mae:") and c != "mae:average"]
    reg_rows = []
    for model in MODELS:
        part = results[(results.dataset == "biogenadme") & (results.model == model)]
        if part.empty:
            continue
        if "skipped" in part and part["skipped"].notna().any():
            continue
        cells = [_pm(part[c]) for c in endpoints] + [_pm(part["mae:average"])]
        reg_rows.append(f"| {model_names[model]} | " + " | ".join(cells) + " |")
    regression = ""
    if reg_rows:
        names = [c[4:] for c in endpoints] + ["Average"]
        regression = ("| Biogen3K MAE (log10) ↓ | " + " | ".join(names) + " |\n|"
                      + "---|" * (len(names) + 1) + "\n" + "\n".join(reg_rows))
    return classification, regression


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True,
                        help="data root holding benchmarks/<name>/assays.csv.gz")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--n-jobs", type=int, default=2, help="tasks fitted in parallel")
    parser.add_argument("--out", default="benchmarks/results/baselines",
                        help="output prefix: writes <out>.csv and <out>.md")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    start = time.perf_counter()
    rows = []
    for name in args.datasets:
        rows += run_dataset(name, args.data_dir, args.seeds, args.models, args.n_jobs, log)
    results = pd.DataFrame(rows)
    wall = time.perf_counter() - start
    classification, regression = tables(results)
    timing = results.groupby(["dataset", "model"], sort=False)["seconds"].sum()
    timing_lines = "\n".join(f"- {LABELS[d]} / {m}: {s:.0f} s" for (d, m), s in timing.items()
                             if s > 0)
    report = (
        f"Morgan fingerprint baselines, scaffold split 0.6/0.15/0.25, mean ± std over "
        f"{args.seeds} seed(s) (torch {torch.__version__}, "
        f"{'CUDA' if torch.cuda.is_available() else 'CPU'}).\n\n"
        + (classification + "\n\n" if classification else "")
        + (regression + "\n\n" if regression else "")
        + f"Training + evaluation time (all seeds):\n{timing_lines}\n\nTotal wall time: "
        f"{wall:.0f} s\n"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(out.with_suffix(".csv"), index=False)
    out.with_suffix(".md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
