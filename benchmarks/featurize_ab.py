"""Featurisation A/B: this tree's ``packed_graphs_of_chunk`` against a git revision's.

Run: ``python benchmarks/featurize_ab.py --old-rev HEAD~1 [--repeats 5]`` from the
repository root. The two versions featurise RDKit's 4,999 NCI SMILES in turns (best of
``--repeats`` each), in one process, so that a shared machine's drift hits both alike; the
script first checks that both produce identical arrays.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import rdkit

from infoalign_sklearn.chem.graphs import packed_graphs_of_chunk


def old_version(rev: str):
    source = subprocess.run(["git", "show", f"{rev}:infoalign_sklearn/chem/graphs.py"],
                            check=True, capture_output=True, text=True).stdout
    source = source.replace("from .._utils", "from infoalign_sklearn._utils")
    source = source.replace("from .molecules", "from infoalign_sklearn.chem.molecules")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "graphs_old.py")
        with open(path, "w") as fh:
            fh.write(source)
        spec = importlib.util.spec_from_file_location("graphs_old", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["graphs_old"] = module
        spec.loader.exec_module(module)
    return module.packed_graphs_of_chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-rev", required=True)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    path = os.path.join(os.path.dirname(rdkit.__file__), "Data", "NCI", "first_5K.smi")
    with open(path) as fh:
        smiles = [line.split()[0] for line in fh if line.strip()]
    versions = {args.old_rev: old_version(args.old_rev), "this tree": packed_graphs_of_chunk}
    outputs = [f(smiles).__getstate__() for f in versions.values()]
    same = all(np.array_equal(a, b) for a, b in zip(*outputs))
    print(f"identical arrays on {len(smiles):,} SMILES: {same}")
    best = dict.fromkeys(versions, float("inf"))
    for _ in range(args.repeats):
        for name, featurize in versions.items():
            start = time.perf_counter()
            featurize(smiles)
            best[name] = min(best[name], time.perf_counter() - start)
    for name, seconds in best.items():
        print(f"{name}: {len(smiles) / seconds:,.0f} molecules/s (best of {args.repeats})")
    old, new = best.values()
    print(f"speed-up {old / new:.2f}x")


if __name__ == "__main__":
    main()
