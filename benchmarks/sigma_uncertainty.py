"""Does the bottleneck's posterior sigma behave as an uncertainty? Measured on the real
benchmarks with InfoAlign pretrained on the real context graph.

Run (from the repository root):

    python examples/build_real_context.py --data-dir ../shared/data --out real_graph
    OMP_NUM_THREADS=1 python benchmarks/sigma_uncertainty.py --data-dir ../shared/data \\
        --graph real_graph --out sigma_results --epochs 20 --seeds 1

Per seed: InfoAlign is pretrained on the graph (the graph builder has already removed every
benchmark molecule; ``--embedder-cache`` reuses embedders saved by ``paper_tables.py`` under the
same naming), with ``--epochs`` and ``--beta`` or with the settings of ``--pretrain-config``
(pretrain_search.py's JSON, as paper_tables.py reads it). Per dataset and seed:

- ``u`` = the geometric mean over the latent dimensions of the posterior sigma
  (``InfoAlignEmbedder.transform(X, return_std=True)``) of every benchmark molecule;
- distance to the pretraining graph = 1 - max Tanimoto (Morgan radius 2, 2,048 bits) to the
  graph's molecules;
- downstream error on a scaffold test split (0.6 / 0.15 / 0.25, varied by seed) of the
  multi-task MLP on InfoAlign + fingerprint (standardised with training statistics, early
  stopping on the validation part, as in paper_tables.py): per test molecule, the mean over
  its measured tasks of |y - p| (classification, p the predicted probability) or
  |y - y_hat| / sd_train(task) (regression: tasks in different units are put on one scale by
  the training set's sd).

``--untrained`` runs the same with an encoder that never learned: the control, what the
architecture alone puts into sigma.

Reported per dataset: Spearman rho(u, distance) over all molecules and rho(u, error) over the
test molecules, with 95 % bootstrap intervals (1,000 resamples) and p-values; the mean error of
the top-u decile over that of the rest; references a useful uncertainty must beat or add to:
rho(distance, error) and rho(heavy atoms, error); rho(u, heavy atoms) (with a sum readout sigma
can simply follow molecule size), and rho(u, error) and rho(u, distance) with heavy atoms
partialled out (Pearson correlation of rank residuals).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator
from scipy import stats

from infoalign_sklearn import InfoAlignEmbedder, MorganFingerprint
from infoalign_sklearn.benchmark import make_model
from infoalign_sklearn.datasets import load_benchmark
from infoalign_sklearn.graph import ContextGraph
from infoalign_sklearn.model_selection import scaffold_split_indices

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paper_tables import read_pretrain_config, settings_tag  # noqa: E402  (the same naming)

DATASETS = ("chembl2k", "broad6k", "moltoxcast", "biogenadme")
N_BOOT = 1000


def pretrain_settings(args) -> dict:
    """InfoAlign's settings: ``--epochs`` and ``--beta``, overridden by ``--pretrain-config``
    (pretrain_search.py's output, as paper_tables.py reads it)."""
    settings = {"max_epochs": args.epochs}
    if args.beta != 1e-9:
        settings["beta"] = args.beta
    if getattr(args, "pretrain_config", None):
        settings.update(read_pretrain_config(args.pretrain_config))
    return settings


def pretrained(graph, args, seed: int) -> InfoAlignEmbedder:
    """InfoAlign pretrained on ``graph`` (or loaded from the cache paper_tables.py also uses).

    ``--untrained``: the control. One epoch at lr=1e-12 leaves the initial weights (of seed
    ``seed``) as they are while the batch norms take the graph molecules' statistics, so its
    sigma is what the architecture gives before any learning.
    """
    settings = pretrain_settings(args)
    if args.untrained:
        emb = InfoAlignEmbedder(graph, random_state=seed, errors="nan", n_jobs=args.n_jobs,
                                device=args.device,
                                **{**settings, "max_epochs": 1, "lr": 1e-12}).fit()
        print(f"seed {seed}: UNTRAINED control (1 epoch at lr=1e-12)", flush=True)
        return emb
    saved = None
    if args.embedder_cache:
        if args.pretrain_config:  # paper_tables.py's naming for settings from a file
            name = f"infoalign_{graph.content_hash[:12]}_{settings_tag(settings)}_seed{seed}"
        else:  # paper_tables.py's naming for --epochs alone (and this script's for --beta)
            beta = "" if args.beta == 1e-9 else f"_beta{args.beta:g}"
            name = f"infoalign_{graph.content_hash[:12]}_e{args.epochs}{beta}_seed{seed}"
        saved = Path(args.embedder_cache) / name
        if (saved / "config.json").exists():
            print(f"seed {seed}: loaded the pretrained embedder from {saved}", flush=True)
            return InfoAlignEmbedder.from_pretrained(saved, context_graph=graph, errors="nan",
                                                     n_jobs=args.n_jobs, device=args.device)
    start = time.perf_counter()
    emb = InfoAlignEmbedder(graph, random_state=seed, errors="nan", n_jobs=args.n_jobs,
                            device=args.device, verbose=args.verbose, **settings).fit()
    print(f"seed {seed}: pretrained {emb.n_epochs_} epochs on {emb.n_training_molecules_} "
          f"molecules in {time.perf_counter() - start:.0f}s; final loss "
          f"{emb.loss_history_[-1]['loss']:.4f}, KL {emb.loss_history_[-1]['kl']:.3g}", flush=True)
    if saved is not None:
        emb.save_pretrained(saved)
    return emb


def _bitvectors(smiles):
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    out = []
    for s in smiles:
        mol = Chem.MolFromSmiles(s) if isinstance(s, str) else None
        out.append(None if mol is None else generator.GetFingerprint(mol))
    return out


def max_tanimoto(query_smiles, reference_fps) -> np.ndarray:
    """Max Tanimoto of each query molecule to the reference fingerprints (NaN if unparsable)."""
    out = np.full(len(query_smiles), np.nan)
    for i, fp in enumerate(_bitvectors(query_smiles)):
        if fp is not None:
            out[i] = max(DataStructs.BulkTanimotoSimilarity(fp, reference_fps))
    return out


def heavy_atoms(smiles) -> np.ndarray:
    mols = (Chem.MolFromSmiles(s) if isinstance(s, str) else None for s in smiles)
    return np.array([np.nan if m is None else m.GetNumHeavyAtoms() for m in mols])


def per_molecule_error(y_test, pred, task: str, train_sd) -> np.ndarray:
    """Mean over each molecule's measured tasks of |y - p| (classification) or
    |y - y_hat| / sd_train (regression); NaN where no task is measured."""
    err = np.abs(y_test - pred)
    if task != "classification":
        err = err / train_sd
    measured = np.isfinite(y_test)
    with np.errstate(invalid="ignore"):
        return np.where(measured, err, 0.0).sum(1) / measured.sum(1)


def spearman_with_ci(a, b, rng) -> dict:
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    rho, p = stats.spearmanr(a, b)
    ra, rb = stats.rankdata(a), stats.rankdata(b)
    boots = np.empty(N_BOOT)
    for k in range(N_BOOT):
        idx = rng.integers(0, len(a), len(a))
        # Pearson on the full-sample ranks: the usual fast approximation of a bootstrap Spearman
        boots[k] = np.corrcoef(ra[idx], rb[idx])[0, 1]
    lo, hi = np.nanpercentile(boots, [2.5, 97.5])
    return {"rho": float(rho), "lo": float(lo), "hi": float(hi), "p": float(p), "n": int(ok.sum())}


def partial_spearman(a, b, control) -> float:
    """Spearman of a and b after removing the linear effect of control's ranks from each's ranks."""
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(control)
    if min(np.ptp(a[ok]), np.ptp(b[ok])) == 0:
        return np.nan  # a constant (sigma at its floor for every molecule) correlates with nothing
    ra, rb, rc = (stats.rankdata(v[ok]) for v in (a, b, control))
    design = np.column_stack([np.ones(ok.sum()), rc])
    res_a = ra - design @ np.linalg.lstsq(design, ra, rcond=None)[0]
    res_b = rb - design @ np.linalg.lstsq(design, rb, rcond=None)[0]
    return float(np.corrcoef(res_a, res_b)[0, 1])


def evaluate_dataset(name, emb, graph_fps, args, seed) -> tuple[dict, pd.DataFrame]:
    bunch = load_benchmark(name, data_dir=args.data_dir)
    smiles = list(bunch.data)
    y = np.asarray(bunch.target, dtype=float).reshape(len(smiles), -1)
    task = bunch.task
    t0 = time.perf_counter()
    mu, sigma = emb.transform(smiles, return_std=True)
    # one number per molecule: exp(mean_d log sigma_d) = det(Sigma) ** (1 / (2 latent_dim))
    with np.errstate(invalid="ignore"):
        u = np.exp(np.log(sigma.astype(np.float64)).mean(1))
    fp = MorganFingerprint(n_bits=2048, errors="nan", n_jobs=args.n_jobs).fit().transform(smiles)
    X = np.hstack([mu, np.asarray(fp, dtype=np.float32)])
    distance = 1.0 - max_tanimoto(smiles, graph_fps)
    atoms = heavy_atoms(smiles)
    usable = np.isfinite(X).all(1)
    train, valid, test = (np.intersect1d(part, np.flatnonzero(usable))
                          for part in scaffold_split_indices(smiles, random_state=seed))
    # standardised with training statistics, as paper_tables.py's protocol does for
    # continuous representations (mu grows freely under a tiny beta)
    mean, sd = X[train].mean(axis=0), X[train].std(axis=0)
    X = (X - mean) / np.where(sd > 0, sd, 1.0)
    model = make_model("mlp", task, binary_features=False, random_state=seed,
                       max_epochs=args.mlp_epochs)
    y_fit = y if y.shape[1] > 1 else y[:, 0]
    model.fit(X[train], y_fit[train], X_val=X[valid], y_val=y_fit[valid])
    if task == "classification":
        pred = np.asarray(model.predict_proba(X[test]), dtype=float)
        if y.shape[1] == 1 and pred.ndim == 2 and pred.shape[1] == 2:
            pred = pred[:, 1]
    else:
        pred = np.asarray(model.predict(X[test]), dtype=float)
    pred = pred.reshape(len(test), -1)
    train_sd = np.nanstd(y[train], axis=0)
    train_sd = np.where(train_sd > 0, train_sd, 1.0)
    error = per_molecule_error(y[test], pred, task, train_sd)

    rng = np.random.default_rng(seed)
    u_test, d_test, a_test = u[test], distance[test], atoms[test]
    ok = np.isfinite(error) & np.isfinite(u_test)
    cut = np.nanquantile(u_test[ok], 0.9)
    top = ok & (u_test >= cut)
    rest = ok & (u_test < cut)
    rows = {
        "dataset": name, "seed": seed, "task": task, "molecules": len(smiles),
        "test molecules scored": int(ok.sum()),
        "u median": float(np.nanmedian(u)), "u p10": float(np.nanquantile(u, 0.1)),
        "u p90": float(np.nanquantile(u, 0.9)),
        "sigma min": float(np.nanmin(sigma)), "sigma max": float(np.nanmax(sigma)),
        # softplus(x) + 1e-7 with x far below 0: the floor, where sigma carries nothing
        "sigma at floor": float(np.mean(sigma[np.isfinite(sigma)] < 1.01e-7)),
        "distinct u": int(len(np.unique(u[np.isfinite(u)]))),
        "u above 1.001e-7": int(np.sum(u > 1.001e-7)),
        "distance median": float(np.nanmedian(distance)),
    }
    for label, (a, b) in {
        "u~distance": (u, distance),
        "u~error": (u_test, error),
        "distance~error": (d_test, error),
        "atoms~error": (a_test, error),
        "u~atoms": (u, atoms),
    }.items():
        r = spearman_with_ci(a, b, rng)
        rows.update({f"{label} rho": r["rho"], f"{label} lo": r["lo"], f"{label} hi": r["hi"],
                     f"{label} p": r["p"]})
    rows["u~error | atoms"] = partial_spearman(u_test, error, a_test)
    rows["u~distance | atoms"] = partial_spearman(u, distance, atoms)
    # with u tied at one value (sigma at its floor) there is no decile above the rest: NaN
    rows["top-u decile error"] = float(error[top].mean()) if top.any() else np.nan
    rows["rest error"] = float(error[rest].mean()) if rest.any() else np.nan
    rows["top/rest"] = rows["top-u decile error"] / rows["rest error"]
    rows["seconds"] = time.perf_counter() - t0
    per_mol = pd.DataFrame({"dataset": name, "seed": seed, "smiles": smiles, "u": u,
                            "distance": distance, "heavy_atoms": atoms,
                            "split": "other"})
    per_mol.loc[train, "split"] = "train"
    per_mol.loc[valid, "split"] = "valid"
    per_mol.loc[test, "split"] = "test"
    per_mol["error"] = np.nan
    per_mol.loc[test, "error"] = error
    return rows, per_mol


def scale_preactivations(emb, smiles) -> dict:
    """Where the scale head's pre-activations sit (sigma = softplus(x) + 1e-7): x far below 0
    puts sigma at its floor, where softplus's gradient (sigmoid(x)) is 0 as well."""
    import torch

    from infoalign_sklearn.chem.graphs import collate_graphs, featurize_graphs

    graphs, valid = featurize_graphs(smiles, errors="nan")
    batch = collate_graphs([g for g, ok in zip(graphs, valid) if ok])
    encoder = emb.module_.to("cpu").eval().encoder
    with torch.inference_mode():
        n = int(batch.num_graphs)
        h = encoder.graph_encoder(batch.x, batch.edge_index, batch.edge_attr, batch.batch, n)
        out = encoder.dist_net(encoder.pool(h, batch.batch, n)).numpy()
    x = out[:, out.shape[1] // 2:]
    sigma = np.logaddexp(0.0, x.astype(np.float64)).astype(np.float32) + np.float32(1e-7)
    return {"molecules": n, "x median": float(np.median(x)), "x p1": float(np.percentile(x, 1)),
            "x p99": float(np.percentile(x, 99)), "sigma at floor": float(np.mean(sigma < 1.01e-7)),
            "mu |median|": float(np.median(np.abs(out[:, :out.shape[1] // 2])))}


def _fmt(row, label) -> str:
    return (f"{row[f'{label} rho']:+.3f} [{row[f'{label} lo']:+.3f}, {row[f'{label} hi']:+.3f}]"
            f" p={row[f'{label} p']:.2g}")


def report(summary: pd.DataFrame, note: str) -> str:
    lines = [note, "",
             "| dataset | seed | n (all / test) | σ entries at the floor 1e-7 | distinct u "
             "| molecules with u > 1.001e-7 "
             "| ρ(u, 1−maxTan) | ρ(u, 1−maxTan) given atoms "
             "| ρ(u, error) | ρ(u, error) given atoms | top-decile / rest error "
             "| ρ(1−maxTan, error) | ρ(atoms, error) | ρ(u, atoms) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in summary.iterrows():
        lines.append(
            f"| {r['dataset']} | {r['seed']} | {r['molecules']} / {r['test molecules scored']} "
            f"| {r['sigma at floor']:.1%} | {r['distinct u']} | {r['u above 1.001e-7']} "
            f"| {_fmt(r, 'u~distance')} | {r['u~distance | atoms']:+.3f} "
            f"| {_fmt(r, 'u~error')} | {r['u~error | atoms']:+.3f} "
            f"| {r['top/rest']:.3f} | {_fmt(r, 'distance~error')} | {_fmt(r, 'atoms~error')} "
            f"| {_fmt(r, 'u~atoms')} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("INFOALIGN_DATA_DIR"))
    parser.add_argument("--graph", help="saved context graph (build_real_context.py)")
    parser.add_argument("--out", default="sigma_results")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=20, help="pretraining epochs")
    parser.add_argument("--mlp-epochs", type=int, default=100)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--beta", type=float, default=1e-9,
                        help="KL weight of pretraining (the default's, the paper's: 1e-9)")
    parser.add_argument("--pretrain-config", default=None, metavar="FILE",
                        help="InfoAlign settings from pretrain_search.py's JSON (as "
                             "paper_tables.py --pretrain-config); embedders cached by "
                             "paper_tables.py with the same file are reused")
    parser.add_argument("--untrained", action="store_true",
                        help="control: an encoder with its initial weights (1 epoch at lr=1e-12, "
                             "batch-norm statistics of the graph) instead of the pretrained one")
    parser.add_argument("--head-only", type=int, default=0, metavar="N",
                        help="only report where the scale head's pre-activations sit, on the "
                             "first N molecules of each dataset (head.csv), then stop")
    parser.add_argument("--embedder-cache", default=None,
                        help="folder of pretrained embedders (paper_tables.py's naming); "
                             "default OUT/embedders")
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("pass --data-dir (the folder holding benchmarks/) or set INFOALIGN_DATA_DIR")
    if not args.graph:
        parser.error("pass --graph (a saved context graph, e.g. from build_real_context.py)")
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.embedder_cache is None:
        args.embedder_cache = str(out / "embedders")
    graph = ContextGraph.load(args.graph)
    print(graph.summary(), flush=True)
    graph_fps = [fp for fp in _bitvectors(list(graph.molecule_smiles)) if fp is not None]
    rows, per_mol = [], []
    if args.head_only:
        head = []
        for seed in range(args.seeds):
            emb = pretrained(graph, args, seed)
            for name in args.datasets:
                smiles = list(load_benchmark(name, data_dir=args.data_dir).data)[:args.head_only]
                head.append({"dataset": name, "seed": seed, **scale_preactivations(emb, smiles)})
        table = pd.DataFrame(head)
        table.to_csv(out / "head.csv", index=False)
        print(table.to_markdown(index=False, floatfmt=".3g"))
        return 0
    for seed in range(args.seeds):
        emb = pretrained(graph, args, seed)
        for name in args.datasets:
            row, frame = evaluate_dataset(name, emb, graph_fps, args, seed)
            rows.append(row)
            per_mol.append(frame)
            print(f"{name} seed {seed} ({row['seconds']:.0f}s): rho(u, distance) "
                  f"{_fmt(row, 'u~distance')}; rho(u, error) {_fmt(row, 'u~error')}; "
                  f"top/rest {row['top/rest']:.3f}; rho(distance, error) "
                  f"{_fmt(row, 'distance~error')}; rho(u, atoms) {_fmt(row, 'u~atoms')}",
                  flush=True)
    summary = pd.DataFrame(rows)
    summary.to_csv(out / "summary.csv", index=False)
    pd.concat(per_mol, ignore_index=True).to_csv(out / "per_molecule.csv.gz", index=False)
    pretraining = ("UNTRAINED control (initial weights)" if args.untrained
                   else f"pretraining {pretrain_settings(args)}"
                   + (f" (from {args.pretrain_config})" if args.pretrain_config else ""))
    note = (f"graph {args.graph} ({len(graph_fps)} molecules with a fingerprint); {pretraining}; "
            f"seeds {args.seeds}; MLP epochs {args.mlp_epochs}; total "
            f"{time.perf_counter() - start:.0f}s")
    text = report(summary, note)
    (out / "report.md").write_text(text + "\n")
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
