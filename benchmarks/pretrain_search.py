"""Choose InfoAlign's pretraining settings on validation data, never on test data.

Run (from the repository root; the graph from examples/build_real_context.py):

    OMP_NUM_THREADS=1 python benchmarks/pretrain_search.py --data-dir ../shared/data \\
        --graph real_graph --out pretrain_config.json --n-configs 8
    python benchmarks/paper_tables.py ... --seeds 5 --pretrain-config pretrain_config.json

What it searches: a small random search over pretraining epochs, latent and hidden size, GIN
layers, dropout, walk length and beta (``SPACE``); the library's defaults are always trial 0,
so a setting is only chosen over them when validation says so. The budget is the number of
trials (``--n-configs``) and, optionally, the total pretraining epochs (``--max-total-epochs``):
trials are taken in order until the next one would exceed it. Both, and the seconds spent, are
written into the output.

How a trial is scored: InfoAlign is pretrained on the graph (one seed), then, on each benchmark
set, the paper's MLP is fitted on InfoAlign + Morgan fingerprint (2,048 bits) for the search's
training part and scored on its validation part (mean ROC-AUC over tasks, or mean MAE over
endpoints). Trials are ranked per dataset and the lowest mean rank over the datasets wins (ranks,
because AUC and MAE do not average); the fingerprint alone is scored on the same parts for
reference.

Why it cannot read test labels: the tables (paper_tables.py) test on the 0.25 part of a scaffold
split 0.6 / 0.15 / 0.25 for each of their seeds. :func:`search_view` first drops every molecule
that is in the test part of ANY of those seeds (``--table-seeds``, default 0-4), and only then
splits what is left (scaffold split, 0.8 / 0.2, by ``--split-seed``) into the search's training
and validation parts. Everything after that (pretraining included, which uses no labels) only
ever receives a :class:`SearchView`, which holds no test molecule and no test label.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from infoalign_sklearn import InfoAlignEmbedder, MorganFingerprint
from infoalign_sklearn._utils.io import atomic_file
from infoalign_sklearn.benchmark import evaluate_representations
from infoalign_sklearn.datasets import infer_task, load_benchmark
from infoalign_sklearn.graph import ContextGraph
from infoalign_sklearn.model_selection import scaffold_groups, scaffold_split_indices

DATASETS = ("chembl2k", "broad6k", "moltoxcast", "biogenadme")
TABLE_SIZES = (0.6, 0.15, 0.25)  # the tables' scaffold split (paper_tables.py)
SEARCH_SIZES = (0.8, 0.2, 0.0)  # the search's own split of the molecules no table tests on
DEFAULTS = {"max_epochs": 50, "latent_dim": 300, "hidden_dim": 300, "num_layers": 5,
            "dropout": 0.1, "walk_length": 4, "beta": 1e-9}  # InfoAlignEmbedder's defaults
SPACE = {
    "max_epochs": [10, 25, 50],
    "latent_dim": [64, 128, 300],
    "hidden_dim": [128, 300],
    "num_layers": [2, 3, 5],
    "dropout": [0.0, 0.1, 0.3],
    "walk_length": [2, 4, 6],
    "beta": [1e-9, 1e-6, 1e-3],
}


@dataclass(frozen=True)
class SearchView:
    """The molecules of one benchmark set the search may use, and their labels.

    ``smiles`` and ``y`` hold only molecules outside the test part of every table seed;
    ``train`` and ``valid`` index into them. ``excluded`` counts the molecules dropped.
    """

    name: str
    smiles: list
    y: np.ndarray
    task_names: list
    train: np.ndarray
    valid: np.ndarray
    excluded: int
    task: str = field(default="classification")


def search_view(bunch, table_seeds, split_seed: int = 0, name: str | None = None,
                groups=None) -> SearchView:
    """The search's part of a benchmark set: molecules in no table seed's test part, split
    by scaffold into the search's training and validation parts."""
    smiles = list(bunch.data)
    y = np.asarray(bunch.target, dtype=float)
    y = y[:, None] if y.ndim == 1 else y
    groups = scaffold_groups(smiles) if groups is None else np.asarray(groups)
    tested = np.zeros(len(smiles), dtype=bool)
    for seed in table_seeds:
        tested[scaffold_split_indices(smiles, sizes=TABLE_SIZES, random_state=seed,
                                      groups=groups)[2]] = True
    keep = np.flatnonzero(~tested)
    if len(keep) < 10:
        raise ValueError(f"{name or 'dataset'}: only {len(keep)} molecules are outside the test "
                         f"parts of table seeds {list(table_seeds)}; use fewer --table-seeds")
    kept_smiles = [smiles[i] for i in keep]
    train, valid, _ = scaffold_split_indices(kept_smiles, sizes=SEARCH_SIZES,
                                             random_state=split_seed, groups=groups[keep])
    return SearchView(name=name or getattr(bunch, "name", "dataset"), smiles=kept_smiles,
                      y=y[keep], task_names=list(bunch.target_names), train=train, valid=valid,
                      excluded=int(tested.sum()), task=infer_task(y[keep]))


def sample_configs(n_configs: int, seed: int = 0, max_total_epochs: int | None = None,
                   space: dict | None = None, defaults: dict | None = None) -> list:
    """Trial settings: ``defaults`` first, then distinct random draws from ``space`` (default
    ``DEFAULTS`` and ``SPACE``); cut where the total pretraining epochs would exceed
    ``max_total_epochs``."""
    space = SPACE if space is None else space
    defaults = DEFAULTS if defaults is None else defaults
    rng = np.random.default_rng(seed)
    configs, seen = [dict(defaults)], {tuple(sorted(defaults.items()))}
    space_size = int(np.prod([len(v) for v in space.values()]))
    inside = all(defaults.get(k) in values for k, values in space.items())
    while len(configs) < min(n_configs, space_size + (0 if inside else 1)):
        config = {k: values[rng.integers(len(values))] for k, values in space.items()}
        config = {k: (v.item() if hasattr(v, "item") else v) for k, v in config.items()}
        key = tuple(sorted(config.items()))
        if key not in seen:
            seen.add(key)
            configs.append(config)
    configs = configs[:n_configs]
    if max_total_epochs is not None:
        total, kept = 0, []
        for config in configs:
            if total + config["max_epochs"] > max_total_epochs:
                break
            total += config["max_epochs"]
            kept.append(config)
        configs = kept
    return configs


def score_view(view: SearchView, features: np.ndarray, *, mlp_epochs: int, seed: int) -> float:
    """Validation score of the MLP on ``features`` (rows of ``view.smiles``): mean ROC-AUC
    over tasks (classification) or mean MAE over endpoints (regression)."""
    scores = evaluate_representations(
        {"features": features}, view.y, [(view.train, view.valid)], models=("mlp",),
        task=view.task, task_names=view.task_names, random_state=seed, max_epochs=mlp_epochs,
    )
    return float(scores["value"].mean(skipna=True))


def run_search(graph, views, configs, *, make_embedder=None, seed: int = 0,
               mlp_epochs: int = 100, log=print) -> pd.DataFrame:
    """Every config pretrained and scored on every view; one row per (config, dataset).

    ``make_embedder(graph, config, seed)`` returns a fitted embedder (default: InfoAlign).
    """
    if make_embedder is None:
        def make_embedder(graph, config, seed):
            return InfoAlignEmbedder(graph, random_state=seed, errors="nan", **config).fit()
    fingerprints = {v.name: MorganFingerprint(n_bits=2048, errors="nan").transform(v.smiles)
                    for v in views}
    rows = []
    for view in views:
        value = score_view(view, fingerprints[view.name], mlp_epochs=mlp_epochs, seed=seed)
        rows.append({"trial": -1, "dataset": view.name, "representation": "Morgan FP",
                     "value": value, "seconds": 0.0})
        log(f"  {view.name}: Morgan FP alone, validation {value:.4f}")
    for trial, config in enumerate(configs):
        start = time.perf_counter()
        embedder = make_embedder(graph, config, seed)
        pretrain_seconds = time.perf_counter() - start
        for view in views:
            z = np.asarray(embedder.transform(view.smiles), dtype=np.float32)
            features = np.hstack([z, fingerprints[view.name]])
            value = score_view(view, features, mlp_epochs=mlp_epochs, seed=seed)
            rows.append({"trial": trial, "dataset": view.name, "representation": "InfoAlign + FP",
                         "value": value, "seconds": pretrain_seconds, **config})
        log(f"trial {trial} {config}: pretrained in {pretrain_seconds:.0f}s; " + ", ".join(
            f"{r['dataset']} {r['value']:.4f}" for r in rows[-len(views):])
            + f" ({time.perf_counter() - start:.0f}s)")
    return pd.DataFrame(rows)


def choose(results: pd.DataFrame, tasks: dict) -> tuple[int, pd.DataFrame]:
    """The winning trial (lowest mean rank over datasets; ties: the earlier trial) and the
    per-trial ranking table. ``tasks`` maps dataset -> "classification" / "regression"."""
    trials = results[results["trial"] >= 0]
    table = trials.pivot_table(index="trial", columns="dataset", values="value")
    ranks = pd.DataFrame({
        d: table[d].rank(ascending=tasks[d] == "regression", method="average")
        for d in table.columns
    })
    table["mean rank"] = ranks.mean(axis=1)
    best = int(table["mean rank"].sort_values(kind="stable").index[0])
    return best, table.reset_index()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("INFOALIGN_DATA_DIR"))
    parser.add_argument("--graph", required=True, help="saved context graph to pretrain on")
    parser.add_argument("--out", default="pretrain_config.json",
                        help="JSON written here (paper_tables.py --pretrain-config reads it)")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--n-configs", type=int, default=8,
                        help="trials (the defaults are trial 0), part of the budget")
    parser.add_argument("--max-total-epochs", type=int, default=None,
                        help="budget cap on the pretraining epochs summed over trials")
    parser.add_argument("--table-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                        help="seeds of the tables to come: their test parts are never used")
    parser.add_argument("--split-seed", type=int, default=0,
                        help="seed of the search's own train / validation split")
    parser.add_argument("--seed", type=int, default=0, help="pretraining and MLP seed; also "
                        "the seed of the random draws of settings")
    parser.add_argument("--mlp-epochs", type=int, default=100)
    parser.add_argument("--epochs", type=int, nargs="+", default=None,
                        help="override SPACE's epoch choices (e.g. 1 2 for a smoke run)")
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("pass --data-dir (the folder holding benchmarks/) or set INFOALIGN_DATA_DIR")
    if args.n_configs < 1:
        parser.error(f"--n-configs must be at least 1, got {args.n_configs}")
    space, defaults = dict(SPACE), dict(DEFAULTS)
    if args.epochs:
        space["max_epochs"], defaults["max_epochs"] = list(args.epochs), max(args.epochs)

    start = time.perf_counter()
    graph = ContextGraph.load(args.graph)
    print(graph.summary(), flush=True)
    views = []
    for name in args.datasets:
        view = search_view(load_benchmark(name, data_dir=args.data_dir), args.table_seeds,
                           args.split_seed, name=name)
        print(f"{name}: {len(view.smiles)} molecules outside the test parts of table seeds "
              f"{args.table_seeds} ({view.excluded} left out): search train {len(view.train)}, "
              f"validation {len(view.valid)}", flush=True)
        views.append(view)
    configs = sample_configs(args.n_configs, args.seed, args.max_total_epochs, space, defaults)
    if not configs:
        parser.error("--max-total-epochs leaves no trial")
    results = run_search(graph, views, configs, seed=args.seed, mlp_epochs=args.mlp_epochs,
                         log=lambda m: print(m, flush=True))
    best, ranking = choose(results, {v.name: v.task for v in views})
    seconds = time.perf_counter() - start
    report = {
        "chosen": configs[best],
        "chosen_trial": best,
        "protocol": ("MLP on InfoAlign + Morgan FP (2,048 bits), fitted on the search's training "
                     "part and scored on its validation part (mean ROC-AUC / mean MAE); lowest "
                     "mean rank over datasets wins; molecules in any table seed's test part "
                     "are never used"),
        "budget": {"trials": len(configs), "pretraining_epochs": int(sum(
            c["max_epochs"] for c in configs)), "max_total_epochs": args.max_total_epochs,
            "mlp_fits": len(configs) * len(views) + len(views), "seconds": round(seconds, 1)},
        "graph": {"path": str(args.graph), "content_hash": graph.content_hash},
        "datasets": {v.name: {"task": v.task, "search_train": len(v.train),
                              "search_valid": len(v.valid), "excluded_as_test": v.excluded}
                     for v in views},
        "table_seeds": args.table_seeds, "split_seed": args.split_seed, "seed": args.seed,
        "space": space, "defaults": defaults, "trials": json.loads(ranking.to_json(orient="records")),
        "configs": configs,
        "fingerprint_only": {r["dataset"]: r["value"]
                             for _, r in results[results["trial"] < 0].iterrows()},
    }
    with atomic_file(args.out, "w") as fh:
        json.dump(report, fh, indent=2)
    print(ranking.to_string(index=False))
    print(f"\nchose trial {best}: {configs[best]}\nwrote {args.out} ({seconds:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
