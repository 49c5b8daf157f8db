"""``infoalign demo``: the main job end to end on data that ships with the installed packages.

1. A SIMULATED context graph around real molecules (RDKit's NCI sample): simulated morphology,
   expression and gene links driven by hidden substructure mechanisms.
2. InfoAlign pretraining on it (CPU is enough), with checkpoints, loss curves and saved weights.
   The demo's encoder is smaller than the paper's (3 GIN layers of 128 instead of 5 of 300) so
   that the whole job runs in minutes on two cores; ``infoalign pretrain`` uses the paper's.
3. Downstream, scaffold cross-validation against Morgan fingerprints (MLP and random forest):
   a. on molecules held out of the graph, predicting their SIMULATED hidden mechanisms;
   b. on REAL measured activities (ChEMBL assay CHEMBL2321810, 1,017 molecules, shipped with
      RDKit), when that file is present.
Every step longer than a few seconds prints a line or a progress bar; the last lines say which
representation won each part. Every table and figure says which parts are simulated.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._utils.io import atomic_file
from ..benchmark import evaluate_representations, format_table, summarize
from ..embedders import InfoAlignEmbedder
from ..fingerprints import MorganFingerprint
from ..graph import make_synthetic_context
from ..model_selection import ScaffoldKFold
from .plots import plot_loss_history, plot_score_bars

SIMULATED_NOTE = (
    "SIMULATED: the context graph (morphology / expression profiles, gene links) and the "
    "mechanism labels are simulated around real molecules; they show the workflow, not biology."
)


def _settings(quick: bool) -> dict:
    if quick:
        return dict(n_molecules=120, n_held_out=90, epochs=2, latent_dim=32, num_layers=2,
                    batch_size=32, folds=3, models=("mlp", "rf"), mlp_epochs=10, chembl=150)
    # sized for about 4 minutes on an idle 2-core CPU (docs/benchmarks.md: `make demo` timing)
    return dict(n_molecules=1500, n_held_out=500, epochs=15, latent_dim=128, num_layers=3,
                batch_size=64, folds=5, models=("mlp", "rf"), mlp_epochs=50, chembl=None)


def load_chembl_activity(limit: int | None = None) -> tuple[list[str], np.ndarray] | None:
    """REAL data shipped with RDKit: 1,017 molecules with a measured pIC50-like activity."""
    import rdkit

    folder = Path(os.path.dirname(rdkit.__file__)) / "Contrib" / "FreeWilson" / "data"
    smi, act = folder / "CHEMBL2321810.smi", folder / "CHEMBL2321810_act.csv"
    if not (smi.exists() and act.exists()):
        return None
    structures = pd.read_csv(smi, sep=" ", header=None, names=["smiles", "Name"])
    activity = pd.read_csv(act)
    table = structures.merge(activity, on="Name")
    if limit:
        table = table.iloc[:limit]
    return table["smiles"].tolist(), table["Act"].to_numpy(dtype=float)


class _Steps:
    """Numbered step lines with the time since the demo started."""

    def __init__(self, total: int):
        self.total, self.done, self.started = total, 0, time.perf_counter()

    def __call__(self, message: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.started
        print(f"\n[{self.done}/{self.total}] {message}  (at {elapsed:.0f} s)", flush=True)


def _representations(embedder, smiles) -> dict[str, np.ndarray]:
    fp = MorganFingerprint(n_bits=2048, errors="nan").transform(smiles)
    z = embedder.transform(smiles)
    return {"Morgan FP": fp, "InfoAlign": z, "InfoAlign + FP": np.hstack([z, fp])}


def verdict(summary: pd.DataFrame) -> str:
    """One line: the best representation (with its best model) against the best of the other
    side (fingerprint-only or InfoAlign), and whether it wins clearly (the gap exceeds the
    larger of their standard deviations over folds) or narrowly."""
    classification = "AUC mean" in summary.columns
    mean, std = ("AUC mean", "AUC std") if classification else ("MAE avg mean", "MAE avg std")
    ordered = summary.sort_values(mean, ascending=not classification)
    best = ordered.iloc[0]
    fingerprint = ordered["representation"] == "Morgan FP"
    rival = ordered[~fingerprint if best["representation"] == "Morgan FP" else fingerprint].iloc[0]
    metric = "AUC, higher is better" if classification else "MAE, lower is better"

    def cell(row) -> str:
        return f"{row['representation']} + {row['model'].upper()} {row[mean]:.3f} ± {row[std]:.3f}"

    clear = abs(best[mean] - rival[mean]) > max(best[std], rival[std])
    how = "clearly: gap larger than" if clear else "narrowly: gap within"
    return (f"{best['representation']} wins ({metric}; {how} one std over folds): "
            f"{cell(best)} vs {cell(rival)}")


class _Part(NamedTuple):
    """One downstream evaluation of the demo: molecules, labels and what they are."""

    name: str
    smiles: list
    y: np.ndarray
    note: str
    task_names: list


def _evaluate(part: _Part, embedder, settings: dict, seed: int, out: Path) -> pd.DataFrame:
    name, smiles, y, note, task_names = part
    cv = ScaffoldKFold(n_splits=settings["folds"], shuffle=True, random_state=seed)
    splits = list(cv.split(smiles))
    results = evaluate_representations(
        _representations(embedder, smiles), y, splits, models=settings["models"],
        random_state=seed, max_epochs=settings["mlp_epochs"], task_names=task_names,
        parallel_fits=-1, verbose=1, desc=f"{name}: scaffold CV fits",
    )
    results.insert(0, "dataset", name)
    summary = summarize(results)
    table = format_table(summary)
    results.to_csv(out / f"{name}_scores_per_task.csv", index=False)
    with atomic_file(out / f"{name}_table.md", "w") as fh:
        fh.write(f"# {name}\n\n{note}\n\n{table.to_markdown(index=False)}\n\n"
                 f"{verdict(summary)}\n")
    metric = "AUC" if "AUC mean" in summary.columns else "MAE avg"
    bars = summary.rename(columns={f"{metric} mean": "mean", f"{metric} std": "std"})
    plot_score_bars(bars, out / f"{name}_scores.png", metric, f"{name} ({note.split(':')[0]})")
    print(f"\n== {name} == {note}\n{table.to_markdown(index=False)}")
    return summary


@contextlib.contextmanager
def _one_torch_thread():
    """Run torch on one thread, then restore the setting.

    The demo's networks are small: a second intra-op thread gains little on an idle machine,
    and when another process shares the cores, OpenMP threads waiting for each other make a
    pretraining epoch and an MLP fit 2-3x slower (``benchmarks/demo_threads.py``). The
    cross-validation fits use every core as parallel worker processes of one thread each.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_demo(out_dir="demo_output", quick: bool = False, seed: int = 0) -> dict:
    """Run the demo and write its outputs to ``out_dir``; returns the summary tables."""
    with _one_torch_thread():
        return _run_demo(out_dir, quick, seed)


def _run_demo(out_dir, quick: bool, seed: int) -> dict:
    settings = _settings(quick)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chembl = load_chembl_activity(settings["chembl"])
    step = _Steps(4 if chembl is not None else 3)
    print(f"InfoAlign demo -> {out}\n{SIMULATED_NOTE}")

    step("SIMULATED context graph around real NCI molecules")
    context = make_synthetic_context(
        n_molecules=settings["n_molecules"], n_held_out=settings["n_held_out"], random_state=seed
    )
    print(context.graph.summary())

    step(f"InfoAlign pretraining on the SIMULATED graph: {settings['num_layers']} GIN layers of "
         f"{settings['latent_dim']}, {settings['epochs']} epochs (demo size; the paper uses 5 of "
         "300)")
    embedder = InfoAlignEmbedder(
        context.graph, latent_dim=settings["latent_dim"], hidden_dim=settings["latent_dim"],
        num_layers=settings["num_layers"], batch_size=settings["batch_size"],
        max_epochs=settings["epochs"], random_state=seed,
        checkpoint_dir=out / "model" / "checkpoints", verbose=1,
    )
    embedder.fit()
    embedder.save_pretrained(out / "model")
    plot_loss_history(embedder.loss_history_, out / "loss_curve.png",
                      title="InfoAlign pretraining on a SIMULATED context graph")
    print(f"pretrained on {embedder.n_training_molecules_} molecules for {embedder.n_epochs_} "
          f"epochs; model in {out / 'model'}")

    models = " / ".join(m.upper() for m in settings["models"])
    step(f"scaffold {settings['folds']}-fold CV on molecules held out of the graph, SIMULATED "
         f"mechanism labels: Morgan FP vs InfoAlign vs InfoAlign + FP, {models} heads")
    held_out = np.flatnonzero(context.held_out)
    smiles = [context.smiles[i] for i in held_out]
    mechanisms = np.asarray(context.mechanisms, dtype=float)[held_out]
    summaries = {"simulated_mechanisms": _evaluate(_Part(
        "simulated_mechanisms", smiles, mechanisms,
        "SIMULATED labels: hidden mechanisms of molecules held out of the graph",
        list(context.mechanisms.columns),
    ), embedder, settings, seed, out)}
    verdicts = {"SIMULATED mechanisms": verdict(summaries["simulated_mechanisms"])}
    if chembl is not None:
        step(f"scaffold {settings['folds']}-fold CV on REAL activities of ChEMBL assay "
             f"CHEMBL2321810 ({len(chembl[0])} molecules), same representations and heads")
        summaries["chembl2321810"] = _evaluate(_Part(
            "chembl2321810", chembl[0], chembl[1],
            "REAL labels: measured activity of ChEMBL assay CHEMBL2321810 (shipped with RDKit); "
            "representation pretrained on the SIMULATED graph", ["activity"],
        ), embedder, settings, seed, out)
        verdicts["REAL ChEMBL2321810 activity"] = verdict(summaries["chembl2321810"])
    else:
        print("\n(RDKit's ChEMBL2321810 files are not in this RDKit install; the REAL-data part "
              "is skipped.)")
    minutes = (time.perf_counter() - step.started) / 60
    print(f"\ndone in {minutes:.1f} min; tables, plots and the model are in {out}")
    print("Which representation won (mean ± std over scaffold folds):")
    for part, line in verdicts.items():
        print(f"  {part}: {line}")
    return summaries
