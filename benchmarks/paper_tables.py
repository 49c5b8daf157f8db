"""The paper's downstream tables on its four benchmark sets, with InfoAlign pretrained on a
real context graph.

Run (from the repository root):

    python examples/build_real_context.py --data-dir ../shared/data --out real_graph
    python benchmarks/pretrain_search.py --data-dir ../shared/data --graph real_graph \
        --out pretrain_config.json
    python benchmarks/paper_tables.py --data-dir ../shared/data --graph real_graph --out results \
        --seeds 5 --pretrain-config pretrain_config.json

Representations: Morgan fingerprint (2,048 bits); structure-only baselines a chemist would run
(Morgan counts, RDKit 2D descriptors, both concatenated); InfoAlign pretrained on the graph
(one pretraining per seed, reused across datasets; settings from ``--pretrain-config``, chosen
on validation data by pretrain_search.py); InfoAlign concatenated with the fingerprint, with the
descriptors and with counts + descriptors (does cell context add to each?); a contrastive
(CLIP-style) embedder trained on the same graph. Models: multi-task MLP, random forest,
Gaussian process (skipped with a stated reason where it cannot finish in time). Protocol:
scaffold split 0.6 / 0.15 / 0.25 varied by seed, test metric at the best validation epoch,
mean ± std over seeds. Writes a tidy CSV, Markdown / CSV tables, a bar chart per dataset and a
computed verdict per dataset: does the best InfoAlign row beat the best structure-only row by
more than the seed std (verdict.csv, and the ``verdict`` column of summary.csv).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from infoalign_sklearn import (
    ContrastiveEmbedder,
    InfoAlignEmbedder,
    MorganFingerprint,
    RDKitDescriptors,
)
from infoalign_sklearn.benchmark import format_table, run_benchmark, summarize
from infoalign_sklearn.cli.plots import plot_score_bars
from infoalign_sklearn.graph import ContextGraph

DATASETS = ("chembl2k", "broad6k", "moltoxcast", "biogenadme")
# Per-task Gaussian processes scale with the cube of the labelled rows per task; per-task
# forests with the number of tasks. Skipped cells keep their reason in the outputs.
SKIP = {
    ("gp", "moltoxcast"): "617 tasks x ~5,000 labelled rows: per-task GPs do not finish in the budget",
    ("gp", "broad6k"): "32 tasks x ~4,000 labelled training rows each: GP classification too slow",
    ("rf", "moltoxcast"): "617 per-task forests x representations x seeds exceed the budget; "
                          "the multi-task MLP covers ToxCast",
}
# representations that use no cellular context: the bar InfoAlign has to clear
STRUCTURE_ONLY = ("Morgan FP", "Morgan counts", "RDKit 2D", "Morgan counts + RDKit 2D")
# InfoAlign beside each kind of structure-only representation: does cell context add to it?
WITH_INFOALIGN = ("InfoAlign", "InfoAlign + FP", "InfoAlign + RDKit 2D",
                  "InfoAlign + Morgan counts + RDKit 2D")
# the control for a gain of InfoAlign + X over X: the same encoder, never trained (its initial
# weights; batch norms take the graph molecules' statistics). Neither side of the verdict
CONTROL_OF = {"InfoAlign + FP": "Untrained GIN + FP",
              "InfoAlign + RDKit 2D": "Untrained GIN + RDKit 2D",
              "InfoAlign + Morgan counts + RDKit 2D": "Untrained GIN + Morgan counts + RDKit 2D"}
CONTROLS = tuple(CONTROL_OF.values())
ALL_REPRESENTATIONS = (*STRUCTURE_ONLY, *WITH_INFOALIGN, "Contrastive", *CONTROLS)
DEFAULT_REPRESENTATIONS = ALL_REPRESENTATIONS
# InfoAlignEmbedder settings a --pretrain-config file may set (pretrain_search.py writes them)
PRETRAIN_KEYS = ("max_epochs", "latent_dim", "hidden_dim", "num_layers", "dropout",
                 "walk_length", "beta", "lr", "batch_size")


class Concatenated:
    """Fitted transformers side by side (InfoAlign + fingerprint, say)."""

    def __init__(self, *parts):
        self.parts = parts

    def transform(self, X):
        return np.hstack([np.asarray(p.transform(X), dtype=np.float32) for p in self.parts])


class Remembered:
    """A stateless transformer whose last output is kept: the benchmark asks for the same
    molecules once per seed, and RDKit descriptors take minutes on a large set."""

    def __init__(self, transformer):
        self.transformer = transformer
        self._key, self._out = None, None

    def transform(self, X):
        key = hashlib.sha256("\n".join(map(str, X)).encode()).hexdigest()
        if key != self._key:
            self._key, self._out = key, np.asarray(self.transformer.transform(X), np.float32)
        return self._out


class LogIpc:
    """RDKit 2D descriptors with ``Ipc`` as log10(1 + Ipc): its raw values span 13 orders of
    magnitude on ChEMBL2K (up to 5.6e13), which standardisation alone cannot tame."""

    def __init__(self, descriptors):
        self.descriptors = descriptors
        names = list(descriptors.get_feature_names_out())
        self.column = names.index("Ipc") if "Ipc" in names else None

    def transform(self, X):
        out = np.array(self.descriptors.transform(X), dtype=np.float32)
        if self.column is not None:
            out[:, self.column] = np.log10(1.0 + np.maximum(out[:, self.column], 0.0))
        return out


def read_pretrain_config(path) -> dict:
    """InfoAlignEmbedder settings from a JSON file: pretrain_search.py's output (its
    ``chosen`` entry) or a plain object of settings; unknown keys are an error."""
    path = Path(path)
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--pretrain-config {path}: cannot read it as JSON ({exc})") from exc
    if isinstance(values, dict) and "chosen" in values:
        values = values["chosen"]
    if not isinstance(values, dict):
        raise SystemExit(f"--pretrain-config {path}: expected a JSON object of settings")
    unknown = sorted(set(values) - set(PRETRAIN_KEYS))
    if unknown:
        raise SystemExit(f"--pretrain-config {path}: unknown setting(s) {unknown}; "
                         f"allowed: {list(PRETRAIN_KEYS)}")
    return values


def pretrain_settings(args) -> dict:
    """InfoAlign's pretraining settings: ``--epochs``, overridden by ``--pretrain-config``."""
    settings = {"max_epochs": args.epochs}
    if getattr(args, "pretrain_config", None):
        settings.update(read_pretrain_config(args.pretrain_config))
    return settings


def settings_tag(settings: dict) -> str:
    """A short name for the embedder cache: epochs, plus a hash of any other setting."""
    tag = f"e{settings['max_epochs']}"
    rest = {k: v for k, v in sorted(settings.items()) if k != "max_epochs"}
    if rest:
        tag += "_" + hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()[:8]
    return tag


def build_representations(graph, args) -> dict:
    fingerprint = MorganFingerprint(n_bits=2048, errors="nan", n_jobs=args.n_jobs)
    counts = MorganFingerprint(n_bits=2048, counts=True, errors="nan", n_jobs=args.n_jobs)

    @functools.cache
    def descriptors():
        return Remembered(LogIpc(RDKitDescriptors(errors="nan", n_jobs=args.n_jobs).fit()))

    settings = pretrain_settings(args)

    @functools.cache
    def infoalign(seed: int):
        # Pretrained embedders are kept (save_pretrained) per graph, settings and seed, so a
        # later run with other models or datasets reuses them instead of pretraining again.
        saved = None
        if args.embedder_cache:
            saved = (Path(args.embedder_cache)
                     / f"infoalign_{graph.content_hash[:12]}_{settings_tag(settings)}_seed{seed}")
            if (saved / "config.json").exists():
                emb = InfoAlignEmbedder.from_pretrained(saved, context_graph=graph, errors="nan",
                                                        n_jobs=args.n_jobs, device=args.device)
                print(f"InfoAlign seed {seed}: loaded the pretrained embedder from {saved}",
                      flush=True)
                return emb
        start = time.perf_counter()
        emb = InfoAlignEmbedder(
            graph, random_state=seed, errors="nan", n_jobs=args.n_jobs, device=args.device,
            verbose=args.verbose, **settings,
        ).fit()
        print(f"InfoAlign seed {seed}: pretrained {emb.n_epochs_} epochs on "
              f"{emb.n_training_molecules_} molecules in {time.perf_counter() - start:.0f}s; "
              f"final loss {emb.loss_history_[-1]['loss']:.4f}", flush=True)
        if saved is not None:
            emb.save_pretrained(saved)
        return emb

    @functools.cache
    def untrained(seed: int):
        # one epoch at lr=1e-12 leaves seed ``seed``'s initial weights as they are
        return InfoAlignEmbedder(
            graph, random_state=seed, errors="nan", n_jobs=args.n_jobs, device=args.device,
            **{**settings, "max_epochs": 1, "lr": 1e-12},
        ).fit()

    @functools.cache
    def contrastive(seed: int):
        start = time.perf_counter()
        emb = ContrastiveEmbedder(
            graph, max_epochs=args.epochs, random_state=seed, errors="nan", n_jobs=args.n_jobs,
            device=args.device,
        ).fit()
        print(f"Contrastive seed {seed}: trained in {time.perf_counter() - start:.0f}s", flush=True)
        return emb

    reps = {
        "Morgan FP": fingerprint,
        "Morgan counts": counts,
        "RDKit 2D": lambda seed: descriptors(),
        "Morgan counts + RDKit 2D": lambda seed: Concatenated(counts, descriptors()),
        "InfoAlign": infoalign,
        "InfoAlign + FP": lambda seed: Concatenated(infoalign(seed), fingerprint),
        "InfoAlign + RDKit 2D": lambda seed: Concatenated(infoalign(seed), descriptors()),
        "InfoAlign + Morgan counts + RDKit 2D":
            lambda seed: Concatenated(infoalign(seed), counts, descriptors()),
        "Contrastive": contrastive,
        "Untrained GIN + FP": lambda seed: Concatenated(untrained(seed), fingerprint),
        "Untrained GIN + RDKit 2D": lambda seed: Concatenated(untrained(seed), descriptors()),
        "Untrained GIN + Morgan counts + RDKit 2D":
            lambda seed: Concatenated(untrained(seed), counts, descriptors()),
    }
    return {name: reps[name] for name in args.representations}


def verdict(summary: pd.DataFrame) -> pd.DataFrame:
    """Per dataset: the best InfoAlign row (``WITH_INFOALIGN``, any model) against the
    best structure-only row (``STRUCTURE_ONLY``, any model), by mean test AUC (higher is
    better) or mean average MAE (lower is better) over seeds.

    ``gain`` is how much better InfoAlign is (AUC points, or MAE units, positive = InfoAlign
    better); ``seed std`` is the larger of the two rows' standard deviations over seeds. The
    verdict says whether ``gain`` exceeds ``seed std`` in either direction; with one seed
    there is no std and no verdict.
    """
    rows = []
    for dataset, part in summary.groupby("dataset", sort=False):
        classification = "AUC mean" in part.columns and part["AUC mean"].notna().any()
        metric = "AUC" if classification else "MAE avg"
        part = part.dropna(subset=[f"{metric} mean"])
        cell = part[part["representation"].isin(WITH_INFOALIGN)]
        structure = part[part["representation"].isin(STRUCTURE_ONLY)]
        row = {"dataset": dataset, "metric": metric}
        if cell.empty or structure.empty:
            row["verdict"] = ("not compared: no " + ("InfoAlign" if cell.empty else
                                                     "structure-only") + " row")
            rows.append(row)
            continue
        column = f"{metric} mean"
        best_cell, best_structure = (
            frame.loc[frame[column].idxmax() if classification else frame[column].idxmin()]
            for frame in (cell, structure))
        gain = best_cell[f"{metric} mean"] - best_structure[f"{metric} mean"]
        gain = gain if classification else -gain
        spread = max(best_cell[f"{metric} std"], best_structure[f"{metric} std"])
        seeds = int(min(best_cell["splits"], best_structure["splits"]))
        if seeds < 2:
            text = "not decided: one seed has no seed std"
        elif gain > spread:
            text = "InfoAlign better by more than the seed std"
        elif gain < -spread:
            text = "structure-only better by more than the seed std"
        else:
            text = "within the seed std"
        row.update({
            "best InfoAlign": f"{best_cell['representation']} / {best_cell['model']}",
            "InfoAlign mean": best_cell[f"{metric} mean"],
            "InfoAlign std": best_cell[f"{metric} std"],
            "best structure-only": f"{best_structure['representation']} / {best_structure['model']}",
            "structure-only mean": best_structure[f"{metric} mean"],
            "structure-only std": best_structure[f"{metric} std"],
            "gain": gain, "seed std": spread, "seeds": seeds, "verdict": text,
        })
        rows.append(row)
    return pd.DataFrame(rows)


def paired_gains(scored: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """``verdicts`` with the two best rows compared seed by seed: both are scored on the same
    scaffold split of each seed, so the per-seed differences are paired. Adds ``paired gain
    mean`` / ``paired gain std`` (std over seeds of the per-seed gain, positive = InfoAlign
    better) and ``seeds InfoAlign better`` ("k of n"). Where the best InfoAlign row has an
    untrained control (``CONTROL_OF``, same model) it adds the control's mean and std over seeds,
    the gain over it and a ``control verdict`` by the same seed-std rule. ``scored``: the tidy
    rows (column ``split`` = seed) that :func:`summarize` read."""
    verdicts = verdicts.copy()
    columns = ("paired gain mean", "paired gain std", "seeds InfoAlign better", "control",
               "control mean", "control std", "gain over control", "control verdict")
    for column in columns:
        verdicts[column] = pd.Series([np.nan] * len(verdicts), dtype=object)
    for i, row in verdicts.iterrows():
        if pd.isna(row.get("gain")):
            continue
        sign = 1.0 if row["metric"] == "AUC" else -1.0
        cell = _per_seed(scored, row["dataset"], row["best InfoAlign"])
        gain = sign * (cell - _per_seed(scored, row["dataset"], row["best structure-only"]))
        gain = gain.dropna()
        verdicts.at[i, "paired gain mean"] = float(gain.mean())
        verdicts.at[i, "paired gain std"] = float(gain.std(ddof=0))
        verdicts.at[i, "seeds InfoAlign better"] = f"{int((gain > 0).sum())} of {len(gain)}"
        # the untrained encoder beside the same structure-only input, same model: does the
        # gain need the pretraining on the graph at all?
        representation, model = row["best InfoAlign"].rsplit(" / ", 1)
        label = f"{CONTROL_OF.get(representation)} / {model}"
        control = _per_seed(scored, row["dataset"], label)
        if representation not in CONTROL_OF or control.empty:
            verdicts.at[i, "control verdict"] = "no untrained control run"
            continue
        over = sign * (cell - control)
        spread = max(float(cell.std(ddof=0)), float(control.std(ddof=0)))
        verdicts.at[i, "control"] = label
        verdicts.at[i, "control mean"] = float(control.mean())
        verdicts.at[i, "control std"] = float(control.std(ddof=0))
        verdicts.at[i, "gain over control"] = float(sign * (cell.mean() - control.mean()))
        verdicts.at[i, "control verdict"] = (
            "pretraining adds more than the seed std" if over.mean() > spread else
            "the untrained control is better by more than the seed std"
            if over.mean() < -spread else "within the seed std of the untrained control")
    return verdicts


def _per_seed(scored: pd.DataFrame, dataset: str, label: str) -> pd.Series:
    """The per-seed score of one ``"representation / model"`` row: the mean over tasks (NaN
    skipped), the same average :func:`summarize` takes. Empty when the row was not run."""
    representation, model = label.rsplit(" / ", 1)
    part = scored[(scored["dataset"] == dataset) & (scored["representation"] == representation)
                  & (scored["model"] == model)]
    if part.empty:
        return pd.Series(dtype=float)
    return part.pivot_table(index="split", columns="task", values="value",
                            dropna=False).mean(axis=1, skipna=True)


def tidy_path(out: Path, dataset: str) -> Path:
    """Where a dataset's tidy scores live: gzipped (ToxCast's 617 tasks x representations x
    seeds run to megabytes as plain CSV); an older run's plain ``<dataset>_tidy.csv`` is read
    when there is no gzipped one."""
    path = out / f"{dataset}_tidy.csv.gz"
    legacy = out / f"{dataset}_tidy.csv"
    return legacy if not path.exists() and legacy.exists() else path


def write_tidy(out: Path, dataset: str, tidy: pd.DataFrame) -> None:
    """Write a dataset's tidy scores gzipped, replacing an older run's plain CSV."""
    tidy.to_csv(out / f"{dataset}_tidy.csv.gz", index=False)
    (out / f"{dataset}_tidy.csv").unlink(missing_ok=True)


def render(out: Path, datasets, seeds_note: str) -> None:
    """Tables (Markdown / CSV) and one bar chart per dataset from the tidy CSVs in ``out``."""
    frames = [pd.read_csv(tidy_path(out, d), keep_default_na=False, na_values=[""])
              for d in datasets if tidy_path(out, d).exists()]
    if not frames:
        raise SystemExit(f"no <dataset>_tidy.csv.gz in {out}: run without --render-only first")
    tidy = pd.concat(frames, ignore_index=True)
    tidy["skipped"] = tidy["skipped"].astype("string").fillna("")
    tidy.to_csv(out / "results_tidy.csv", index=False)
    scored = tidy[tidy["skipped"] == ""].rename(columns={"seed": "split"})
    summary = summarize(scored)
    verdicts = paired_gains(scored, verdict(summary))
    summary["structure-only"] = summary["representation"].isin(STRUCTURE_ONLY)
    summary["verdict"] = summary["dataset"].map(dict(zip(verdicts["dataset"],
                                                         verdicts["verdict"])))
    summary.to_csv(out / "summary.csv", index=False)
    verdicts.to_csv(out / "verdict.csv", index=False)
    lines = [seeds_note, ""]
    for dataset in dict.fromkeys(tidy["dataset"]):
        part = summary[summary["dataset"] == dataset].dropna(axis=1, how="all")
        part = part.drop(columns=["structure-only", "verdict"])
        lines += [f"## {dataset}", "", format_table(part).to_markdown(index=False), ""]
        lines += [verdict_line(verdicts[verdicts["dataset"] == dataset].iloc[0]), ""]
        skipped = tidy[(tidy["dataset"] == dataset) & (tidy["skipped"] != "")]
        for (model, reason), _ in skipped.groupby(["model", "skipped"]):
            lines += [f"{model.upper()} skipped: {reason}", ""]
        metric = "AUC" if "AUC mean" in part.columns else "MAE avg"
        bars = part.rename(columns={f"{metric} mean": "mean", f"{metric} std": "std"})
        n_seeds = int(part["splits"].max())
        plot_score_bars(bars[["representation", "model", "mean", "std"]], out / f"{dataset}.png",
                        metric, f"{dataset}: test {metric} (mean ± std over {n_seeds} seeds)")
    (out / "tables.md").write_text("\n".join(lines))
    print("\n" + "\n".join(verdict_line(row) for _, row in verdicts.iterrows()))
    print(f"\nwrote {out}/results_tidy.csv, summary.csv, verdict.csv, tables.md and one PNG per "
          "dataset")


def verdict_line(row) -> str:
    """One sentence from a row of :func:`verdict`."""
    if "gain" not in row or pd.isna(row.get("gain")):
        return f"Verdict ({row['dataset']}): {row['verdict']}."
    return (f"Verdict ({row['dataset']}, {row['metric']}, {row['seeds']} seed{'' if row['seeds'] == 1 else 's'}): "
            f"{row['verdict']}: best InfoAlign {row['best InfoAlign']} "
            f"{row['InfoAlign mean']:.3f} ± {row['InfoAlign std']:.3f}, best structure-only "
            f"{row['best structure-only']} {row['structure-only mean']:.3f} ± "
            f"{row['structure-only std']:.3f} (gain {row['gain']:+.3f}, seed std "
            f"{row['seed std']:.3f}"
            + ("" if pd.isna(row.get("paired gain mean", np.nan)) else
               f"; paired by seed: gain {row['paired gain mean']:+.3f} ± "
               f"{row['paired gain std']:.3f}, InfoAlign better on "
               f"{row['seeds InfoAlign better']} seeds") + ")."
            + ("" if pd.isna(row.get("control mean", np.nan)) else
               f" Untrained control {row['control']} {row['control mean']:.3f} ± "
               f"{row['control std']:.3f}: {row['control verdict']} "
               f"(gain over it {row['gain over control']:+.3f})."))


def merge_previous(path: Path, tidy: pd.DataFrame, fresh: bool = False) -> pd.DataFrame:
    """``tidy`` plus the rows of an earlier run in ``path`` for other (representation, model)
    pairs, so runs with different ``--models`` build one table. ``fresh`` drops earlier rows."""
    if fresh or not path.exists():
        return tidy
    previous = pd.read_csv(path, keep_default_na=False, na_values=[""])
    ran = set(zip(tidy["representation"], tidy["model"]))
    keep = [pair not in ran for pair in zip(previous["representation"], previous["model"])]
    kept = previous[keep]
    if len(kept):
        pairs = sorted(set(zip(kept["representation"], kept["model"])))
        print(f"kept earlier rows of {path.name} for {pairs} (pass --fresh to drop them)")
    return pd.concat([kept, tidy], ignore_index=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("INFOALIGN_DATA_DIR"))
    parser.add_argument("--graph", help="saved context graph (build_real_context.py)")
    parser.add_argument("--out", default="results")
    parser.add_argument("--render-only", action="store_true",
                        help="only rebuild tables and charts from the tidy CSVs in --out")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--representations", nargs="+", default=list(DEFAULT_REPRESENTATIONS),
                        choices=ALL_REPRESENTATIONS)
    parser.add_argument("--models", nargs="+", default=["mlp", "rf", "gp"], choices=("mlp", "rf", "gp"))
    parser.add_argument("--dataset-models", nargs="*", default=[], metavar="DATASET=M1,M2",
                        help="run only these models on a dataset (the others are reported as "
                             "skipped for time), e.g. moltoxcast=mlp")
    parser.add_argument("--seeds", type=int, default=3,
                        help="number of seeds (0 .. SEEDS-1); the redone tables use 5")
    parser.add_argument("--epochs", type=int, default=50,
                        help="pretraining epochs (a --pretrain-config file may override them)")
    parser.add_argument("--pretrain-config", metavar="FILE",
                        help="JSON of InfoAlign pretraining settings chosen on validation data "
                             "(benchmarks/pretrain_search.py writes it)")
    parser.add_argument("--mlp-epochs", type=int, default=100)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--embedder-cache", default=None,
                        help="folder keeping pretrained InfoAlign embedders (one per graph, "
                             "epochs and seed) for reuse by later runs; default OUT/embedders")
    parser.add_argument("--no-embedder-cache", action="store_true")
    parser.add_argument("--fresh", action="store_true",
                        help="overwrite <dataset>_tidy.csv.gz instead of keeping the rows of "
                             "earlier runs for other representation/model pairs")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}")
    out = Path(args.out)
    settings = pretrain_settings(args)
    note = (f"Seeds: {args.seeds}; InfoAlign pretraining: {settings}"
            + (f" (from {args.pretrain_config})" if args.pretrain_config else "")
            + f"; graph: {args.graph}")
    if args.render_only:
        render(out, args.datasets, note)
        return 0
    if not args.data_dir:
        parser.error("pass --data-dir (the folder holding benchmarks/) or set INFOALIGN_DATA_DIR")
    if not args.graph:
        parser.error("pass --graph (a saved context graph, e.g. from build_real_context.py)")

    out.mkdir(parents=True, exist_ok=True)
    if args.no_embedder_cache:
        args.embedder_cache = None
    elif args.embedder_cache is None:
        args.embedder_cache = str(out / "embedders")
    graph = ContextGraph.load(args.graph)
    print(graph.summary(), flush=True)
    reps = build_representations(graph, args)
    restricted = dict(spec.split("=", 1) for spec in args.dataset_models)
    for dataset, names in restricted.items():
        for model in set(args.models) - set(names.split(",")):
            SKIP.setdefault((model, dataset), "not run: outside this run's time budget")
    for dataset in args.datasets:
        start = time.perf_counter()
        tidy = run_benchmark(
            dataset, reps, models=args.models, seeds=range(args.seeds), data_dir=args.data_dir,
            skip={m: r for (m, d), r in SKIP.items() if d == dataset}, max_epochs=args.mlp_epochs,
            n_jobs=args.n_jobs, verbose=args.verbose,
        )
        tidy = merge_previous(tidy_path(out, dataset), tidy, fresh=args.fresh)
        write_tidy(out, dataset, tidy)
        scored = tidy[tidy["skipped"] == ""]
        table = format_table(summarize(scored.rename(columns={"seed": "split"})))
        print(f"\n## {dataset} ({time.perf_counter() - start:.0f}s)\n"
              f"{table.to_markdown(index=False)}", flush=True)
    render(out, args.datasets, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
