"""Feeding the device: transform end to end against the bare encoder, fp32 and bf16.

Run: ``python benchmarks/feed.py [--molecules 4999] [--device cpu|cuda] [--repeats 3]
[--precision float32 bfloat16] [--engines] [--pretrain] [--threads N] [--json OUT.json]``.

On ``--molecules`` real SMILES (RDKit's ``first_5K.smi``, repeated when more are asked for)
and the default model (300-d, 5 GIN layers, batch 256, weights from one epoch on a small
SIMULATED context graph), for each ``--precision``:

1. bare forward: the encoder alone on the molecules already featurised, batched and moved to
   the device (molecules/s);
2. ``transform`` end to end (SMILES -> representation) with ``n_jobs=1`` and ``n_jobs=-1``,
   and its ratio to the bare forward (targets: >= 0.80 on a 2-core CPU with ``n_jobs=-1``,
   >= 0.50 on a GPU);
3. with ``--engines``: the featurise-ahead pipeline that ``n_jobs`` > 1 uses on a GPU, with
   joblib workers (the default) and with torch ``DataLoader`` workers;
   on a CPU this runs the GPU path on the CPU, to compare the engines' overhead;
4. for bfloat16: the difference of its representations from float32 ones with the same
   weights (max absolute difference, that over the largest absolute value, median relative
   difference of a row, median and largest 1 - cosine similarity of the rows);
5. with ``--pretrain``: seconds per pretraining epoch in each precision (1,000 molecules of a
   SIMULATED context graph).

The measurements take turns (``--repeats`` rounds) and the best of each is reported, so a
slow spell of a shared machine does not land on one side of a ratio only.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import rdkit
import torch

from infoalign_sklearn import InfoAlignEmbedder, make_synthetic_context
from infoalign_sklearn._utils.io import atomic_file
from infoalign_sklearn.chem import collate_graphs, featurize_graphs


def read_smiles(n: int) -> list[str]:
    path = os.path.join(os.path.dirname(rdkit.__file__), "Data", "NCI", "first_5K.smi")
    with open(path) as fh:
        smiles = [line.split()[0] for line in fh if line.strip()]
    return (smiles * (-(-n // len(smiles))))[:n]


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def representation_difference(z32: np.ndarray, z16: np.ndarray) -> dict:
    ok = ~np.isnan(z32).any(axis=1)
    a, b = z32[ok].astype(np.float64), z16[ok].astype(np.float64)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    max_abs = float(np.abs(a - b).max())
    return {"max_abs_diff": max_abs, "max_abs_value": float(np.abs(a).max()),
            "max_abs_diff_over_max_value": max_abs / float(np.abs(a).max()),
            "median_row_rel_diff": float(np.median(np.linalg.norm(a - b, axis=1)
                                                   / np.linalg.norm(a, axis=1))),
            "median_one_minus_cosine": float(np.median(1 - cos)),
            "max_one_minus_cosine": float((1 - cos).max())}


def bench(args) -> dict:
    device = torch.device(args.device)
    smiles = read_smiles(args.molecules)
    context = make_synthetic_context(n_molecules=200, random_state=0)
    emb = InfoAlignEmbedder(context.graph, max_epochs=1, batch_size=args.batch_size,
                            device=args.device, errors="nan", random_state=0).fit()
    graphs, _ = featurize_graphs(smiles, errors="nan")
    graphs = [g for g in graphs if g is not None]
    batches = [collate_graphs(graphs[i:i + args.batch_size]).to(device)
               for i in range(0, len(graphs), args.batch_size)]
    encoder = emb.module_.to(device).eval().encoder
    from infoalign_sklearn.embedders._transform import autocast_for

    def bare(precision):
        def run() -> float:
            with torch.inference_mode(), autocast_for(precision, device):
                encoder(batches[0])  # warm-up
                synchronize(device)
                start = time.perf_counter()
                for batch in batches:
                    encoder(batch)
                synchronize(device)
            return len(graphs) / (time.perf_counter() - start)
        return run

    def end_to_end(precision, n_jobs):
        def run() -> float:
            emb.set_params(n_jobs=n_jobs, precision=precision)
            emb._feed_engine = type(emb)._feed_engine  # the default engine
            start = time.perf_counter()
            emb.transform(smiles)
            return len(smiles) / (time.perf_counter() - start)
        return run

    def featurise_ahead(precision, engine):
        # the GPU path (workers featurise, this process encodes), on whatever device
        def run() -> float:
            emb.set_params(n_jobs=-1, precision=precision)
            emb._feed_engine = engine
            from joblib import effective_n_jobs
            start = time.perf_counter()
            for _ in emb._encoded_here(smiles, encoder, device, effective_n_jobs(-1)):
                pass
            return len(smiles) / (time.perf_counter() - start)
        return run

    parts = {}
    for p in args.precision:
        parts[f"bare {p}"] = bare(p)
        parts[f"transform {p} n_jobs=1"] = end_to_end(p, 1)
        parts[f"transform {p} n_jobs=-1"] = end_to_end(p, -1)
        if args.engines:
            for engine in ("dataloader", "joblib"):
                parts[f"featurise-ahead {p} {engine}"] = featurise_ahead(p, engine)
    for name, run in parts.items():  # warm-up: starts the joblib workers, first-call costs
        if not name.startswith("bare"):
            keep = smiles
            smiles = smiles[:4 * args.batch_size]
            run()
            smiles = keep
    rates: dict[str, list[float]] = {name: [] for name in parts}
    for round_ in range(args.repeats):
        for name, run in parts.items():
            rates[name].append(run())
        print(f"round {round_ + 1}: " + ", ".join(f"{n} {v[-1]:,.0f}" for n, v in rates.items())
              + " mol/s", flush=True)
    best = {name: max(values) for name, values in rates.items()}
    result = {"device": str(device), "torch": torch.__version__, "cores": os.cpu_count(),
              "torch_threads": torch.get_num_threads(), "molecules": len(smiles),
              "batch_size": args.batch_size, "repeats": args.repeats,
              "rates_mol_per_s": rates, "best_mol_per_s": best, "ratios": {}}
    print(f"device {device}, torch {torch.__version__}, {os.cpu_count()} cores, "
          f"{torch.get_num_threads()} torch threads, {len(smiles):,} molecules, batch "
          f"{args.batch_size}, best of {args.repeats} interleaved rounds")
    for p in args.precision:
        b = best[f"bare {p}"]
        print(f"[{p}] bare encoder forward {b:,.0f} mol/s")
        for name in (n for n in parts if n.split()[1] == p and not n.startswith("bare")):
            ratio = best[name] / b
            result["ratios"][name] = ratio
            rounds = " ".join(f"{e / r:.2f}" for e, r in zip(rates[name], rates[f"bare {p}"]))
            print(f"[{p}] {name}: {best[name]:,.0f} mol/s | ratio to bare {ratio:.2f} "
                  f"(round by round {rounds})")
    if "bfloat16" in args.precision:
        emb.set_params(n_jobs=1, precision="float32")
        z32 = emb.transform(smiles)
        emb.set_params(precision="bfloat16")
        z16 = emb.transform(smiles)
        diff = representation_difference(z32, z16)
        result["bfloat16_vs_float32"] = diff
        print("bfloat16 vs float32 representations (same weights): "
              + ", ".join(f"{k} {v:.4g}" for k, v in diff.items()))
    if args.pretrain:
        result["pretrain_seconds_per_epoch"] = bench_pretraining(args)
    return result


def bench_pretraining(args) -> dict:
    context = make_synthetic_context(n_molecules=1000, random_state=0)
    out = {}
    for p in args.precision:
        emb = InfoAlignEmbedder(context.graph, max_epochs=2, batch_size=args.batch_size,
                                device=args.device, precision=p, random_state=0).fit()
        seconds = emb.loss_history_[-1]["seconds"]  # the second epoch: no first-call costs
        out[p] = seconds
        print(f"[{p}] pretraining epoch (1,000 SIMULATED-context molecules, "
              f"{emb.n_training_molecules_} trained on): {seconds:.2f} s, final loss "
              f"{emb.loss_history_[-1]['loss']:.4f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", type=int, default=4999)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precision", nargs="+", default=["float32", "bfloat16"],
                        choices=["float32", "bfloat16"])
    parser.add_argument("--engines", action="store_true",
                        help="also compare the featurise-ahead engines (DataLoader, joblib)")
    parser.add_argument("--pretrain", action="store_true",
                        help="also time one pretraining epoch per precision")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads of this process (default: torch's, i.e. "
                             "OMP_NUM_THREADS or the cores); workers always use one")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = bench(args)
    if args.json:
        with atomic_file(args.json, "w") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
