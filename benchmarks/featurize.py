"""Featurisation throughput: SMILES -> OGB graph and SMILES -> Morgan, serial and parallel.

Run: ``python benchmarks/featurize.py``. Uses RDKit's shipped ``first_5K.smi`` (4,999 real
SMILES) for single-core throughput and the same file repeated to 20,000 SMILES for scaling.
Targets (issue 2): graphs >= 3,000 molecules/s on one core; n_jobs=2 >= 1.6x n_jobs=1.
"""

from __future__ import annotations

import argparse
import os
import time

import rdkit

from infoalign_sklearn.chem import featurize_graphs
from infoalign_sklearn.fingerprints import MorganFingerprint


def read_smiles() -> list[str]:
    path = os.path.join(os.path.dirname(rdkit.__file__), "Data", "NCI", "first_5K.smi")
    with open(path) as fh:
        return [line.split()[0] for line in fh if line.strip()]


def rate(func, smiles, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func(smiles)
        best = min(best, time.perf_counter() - start)
    return len(smiles) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    smiles = read_smiles()
    big = (smiles * 5)[:20000]
    tasks = {
        "SMILES->graph": lambda n_jobs: (
            lambda s: featurize_graphs(s, errors="nan", n_jobs=n_jobs)
        ),
        "SMILES->Morgan(2048)": lambda n_jobs: (
            lambda s: MorganFingerprint(errors="nan", n_jobs=n_jobs).transform(s)
        ),
    }
    print(f"cores available: {os.cpu_count()}")
    print(f"{'task':22s} {'file':>12s} {'n_jobs=1 (20k)':>15s} {'n_jobs=2 (20k)':>15s} {'speed-up':>9s}")
    for name, make in tasks.items():
        single_file = rate(make(1), smiles, args.repeats)
        one = rate(make(1), big, args.repeats)
        two = rate(make(2), big, args.repeats)
        print(f"{name:22s} {single_file:10,.0f}/s {one:13,.0f}/s {two:13,.0f}/s {two / one:8.2f}x")


if __name__ == "__main__":
    main()
