"""Torch intra-op threads for the demo's small networks: one thread against all cores.

Run: ``python benchmarks/demo_threads.py``. Times one InfoAlign pretraining epoch (the demo's
encoder: 3 GIN layers of 128, batch 64, on the demo's SIMULATED graph of 1,000 molecules) and
one MultiTaskMLPRegressor fit (the paper's head, 2,048-bit Morgan fingerprints of 678 REAL
ChEMBL2321810 molecules, at most 50 epochs), each in a fresh process with
``torch.set_num_threads(1)`` and with torch's default (one thread per core): first on an
otherwise idle machine, then beside one busy process that keeps one core spinning (as a
second job on a shared machine would). Prints the seconds and the ratio default / one thread.
``infoalign demo`` runs torch on one thread because of the second case.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

WORK = r"""
import sys, time, warnings
warnings.filterwarnings("ignore")
import torch
threads = int(sys.argv[1])
if threads:
    torch.set_num_threads(threads)
from infoalign_sklearn import InfoAlignEmbedder, MorganFingerprint, MultiTaskMLPRegressor
from infoalign_sklearn import ScaffoldKFold, make_synthetic_context
from infoalign_sklearn.cli.demo import load_chembl_activity
if sys.argv[2] == "pretrain":
    graph = make_synthetic_context(n_molecules=1500, n_held_out=500, random_state=0).graph
    model = InfoAlignEmbedder(graph, latent_dim=128, hidden_dim=128, num_layers=3,
                              batch_size=64, max_epochs=1, random_state=0)
    start = time.perf_counter(); model.fit()
else:
    smiles, y = load_chembl_activity()
    X = MorganFingerprint(n_bits=2048).transform(smiles)
    train, _ = next(ScaffoldKFold(n_splits=3, shuffle=True, random_state=0).split(smiles))
    model = MultiTaskMLPRegressor(max_epochs=50, random_state=0)
    start = time.perf_counter(); model.fit(X[train], y[train])
print(time.perf_counter() - start)
"""

BUSY = "while True: pass"


def seconds(threads: int, task: str) -> float:
    out = subprocess.run([sys.executable, "-c", WORK, str(threads), task], check=True,
                         capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU(s); best of {args.repeats}; seconds (default / one thread)")
    for busy in (False, True):
        hog = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
        try:
            time.sleep(0.5 if busy else 0)
            for task in ("pretrain", "mlp"):
                one = min(seconds(1, task) for _ in range(args.repeats))
                default = min(seconds(0, task) for _ in range(args.repeats))
                where = "beside a busy process" if busy else "idle machine"
                print(f"{where:<22s} {task:<9s} 1 thread {one:6.2f} s   default {default:6.2f} s"
                      f"   ratio {default / one:5.2f}")
        finally:
            if hog is not None:
                hog.kill()


if __name__ == "__main__":
    main()
