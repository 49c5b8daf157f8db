"""Context-graph build time, peak memory and random-walk throughput at the paper's scale.

Run: ``python benchmarks/context_graph.py [--out DIR]`` (full scale: ~130k molecules with 1,024-bit
fingerprints, ~129k morphology profiles x 1,000 features, ~14k expression profiles x 978,
~4.5k genes with 1,000 perturbation features) or ``--scale 0.1`` for a quick run.

The data are SIMULATED and cheap to generate: fingerprints are random sparse bit vectors
(about 45 bits on, drawn around shared "scaffold" prototypes so that some pairs are similar)
passed to the builder as precomputed fingerprints, not RDKit Morgan bits of 130k real
molecules; SMILES are NCI molecules reused cyclically (they only label the nodes). Profiles
are cluster centres plus Gaussian noise. Similarity edges (all four feature spaces),
expression edges and scaling are computed by ``ContextGraph.from_tables`` itself.

Targets (issue 4): build < 10 min and peak memory < 8 GB on 2 cores; walks >= 2M steps/s.
Peak memory is the process's maximum resident set size (``resource.getrusage``), which
includes the generated input tables.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from infoalign_sklearn.graph import ContextGraph
from infoalign_sklearn.graph.synthetic import nci_smiles_path

PAPER = {"molecules": 129_592, "morphology": 128_935, "expression": 13_795, "genes": 4_533}


def peak_rss_gb() -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e9


def simulate_tables(scale: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_mol = int(PAPER["molecules"] * scale)
    n_cp = min(n_mol, int(PAPER["morphology"] * scale))
    n_ge = int(PAPER["expression"] * scale)
    n_gene = max(1_000, int(PAPER["genes"] * scale))
    d_fp, d_cp, d_ge = 1024, 1000, 978

    with open(nci_smiles_path()) as fh:
        nci = [line.split()[0] for line in fh if line.strip()]
    mol_ids = np.array([f"mol:{i}" for i in range(n_mol)], dtype=object)
    molecules = pd.DataFrame({"id": mol_ids, "smiles": [nci[i % len(nci)] for i in range(n_mol)]})

    n_proto = max(10, n_mol // 8)
    proto = np.zeros((n_proto, d_fp), dtype=bool)
    for p in range(n_proto):
        proto[p, rng.choice(d_fp, 45, replace=False)] = True
    bits = proto[rng.integers(0, n_proto, n_mol)]
    bits &= rng.random(bits.shape, dtype=np.float32) > 0.1  # drop ~10 % of the bits
    bits |= rng.random(bits.shape, dtype=np.float32) < 0.004  # and add ~4 random ones
    fingerprints = pd.DataFrame(bits.astype(np.uint8), index=mol_ids,
                                columns=[f"fp_{j}" for j in range(d_fp)])
    del bits, proto

    def clustered(n, d, n_centres, noise):
        centres = rng.standard_normal((n_centres, d), dtype=np.float32)
        out = centres[rng.integers(0, n_centres, n)]
        out += noise * rng.standard_normal((n, d), dtype=np.float32)
        return out

    cp_ids = np.array([f"cp:{i}" for i in range(n_cp)], dtype=object)
    morphology = pd.DataFrame(clustered(n_cp, d_cp, max(10, n_cp // 6), 0.5), index=cp_ids,
                              columns=[f"cp_{j}" for j in range(d_cp)], copy=False)
    symbols = [f"G{i:05d}" for i in range(n_gene)]
    ge_ids = np.array([f"ge:{i}" for i in range(n_ge)], dtype=object)
    expression = pd.DataFrame(clustered(n_ge, d_ge, max(10, n_ge // 6), 0.5), index=ge_ids,
                              columns=symbols[:d_ge], copy=False)
    gene_ids = np.array([f"gene:{s}" for s in symbols], dtype=object)
    with_features = gene_ids[rng.random(n_gene) < 0.7]
    gene_profiles = pd.DataFrame(clustered(len(with_features), d_cp, 200, 0.5),
                                 index=with_features, columns=[f"cp_{j}" for j in range(d_cp)],
                                 copy=False)
    genes = pd.DataFrame({"id": gene_ids})

    ge_mols = rng.choice(n_mol, n_ge, replace=False)
    n_gg = 10 * n_gene
    a, b = rng.integers(0, n_gene, n_gg), rng.integers(0, n_gene, n_gg)
    n_target = n_mol // 10
    links = pd.concat([
        pd.DataFrame({"source": mol_ids[:n_cp], "target": cp_ids, "kind": "perturbation"}),
        pd.DataFrame({"source": mol_ids[ge_mols], "target": ge_ids, "kind": "perturbation"}),
        pd.DataFrame({"source": gene_ids[a[a != b]], "target": gene_ids[b[a != b]],
                      "kind": "interaction"}),
        pd.DataFrame({"source": mol_ids[rng.integers(0, n_mol, n_target)],
                      "target": gene_ids[rng.integers(0, n_gene, n_target)], "kind": "target"}),
    ], ignore_index=True)
    profiles = {"fingerprint": fingerprints, "morphology": morphology,
                "expression": expression, "gene": gene_profiles}
    return molecules, profiles, genes, links


def walk_rate(graph: ContextGraph, walk_length: int, repeats: int) -> tuple[float, float]:
    starts = graph.molecule_nodes
    best = float("inf")
    for seed in range(repeats):
        start = time.perf_counter()
        graph.random_walks(starts, walk_length, random_state=seed)
        best = min(best, time.perf_counter() - start)
    return starts.size * walk_length / best, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the paper's node counts (default 1.0)")
    parser.add_argument("--walk-length", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--save", action="store_true", help="also time save / load")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--out", default=None,
                        help="also save the graph to this directory (for later pretraining runs)")
    args = parser.parse_args()

    print(f"SIMULATED tables at scale {args.scale} (random fingerprints and profiles); "
          f"{os.cpu_count()} CPUs visible, OMP/OPENBLAS threads "
          f"{os.environ.get('OPENBLAS_NUM_THREADS', os.environ.get('OMP_NUM_THREADS', 'default'))}")
    start = time.perf_counter()
    molecules, profiles, genes, links = simulate_tables(args.scale)
    print(f"generated tables in {time.perf_counter() - start:.1f} s; "
          f"peak RSS so far {peak_rss_gb():.2f} GB")

    start = time.perf_counter()
    cpu_start = time.process_time()
    graph = ContextGraph.from_tables(molecules, profiles, genes=genes, links=links,
                                     metadata={"simulated": True}, verbose=args.verbose)
    build_s = time.perf_counter() - start
    build_cpu_s = time.process_time() - cpu_start
    del profiles
    print(graph.summary())
    print(f"similarity edges: {graph.metadata['edges_built']['similarity']}")
    rate, seconds = walk_rate(graph, args.walk_length, args.repeats)
    print()
    print(f"build time            {build_s:8.1f} s      (target < 600 s; "
          f"{build_cpu_s:.0f} CPU-s over all threads)")
    print(f"peak RSS (process)    {peak_rss_gb():8.2f} GB     (target < 8 GB)")
    print(f"random walks          {rate / 1e6:8.2f} M steps/s "
          f"({graph.molecule_nodes.size} walks x {args.walk_length} steps in {seconds:.3f} s; "
          f"target >= 2M)")
    if args.save:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            path = graph.save(os.path.join(tmp, "graph"))
            save_s = time.perf_counter() - start
            size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
            start = time.perf_counter()
            ContextGraph.load(path)
            load_s = time.perf_counter() - start
        print(f"save / load           {save_s:8.1f} s / {load_s:.1f} s ({size / 1e9:.2f} GB)")
    if args.out:
        print(f"saved the SIMULATED graph to {graph.save(args.out)}")


if __name__ == "__main__":
    main()
