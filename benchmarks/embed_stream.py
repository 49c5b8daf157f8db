"""Streaming `infoalign embed`: throughput and peak memory on N SMILES (default 1,000,000).

The input is generated from RDKit's shipped ``Data/NCI/first_5K.smi``: row ``i`` has
``id = i`` and the ``i mod 4,999``-th SMILES of the file (every line kept as written, so the
few entries recent RDKit cannot parse come back as invalid rows, as in real libraries). Each
size runs ``infoalign embed MODEL in.csv --out out.parquet --chunk-size C`` in a fresh Python
process and reads that process's peak resident memory (``resource.getrusage``, Linux: KiB).
Bounded memory means the peak stays the same when N grows (ratio ~1 between sizes).

The model has the default architecture (300 dimensions, 5 GIN layers); without ``--model`` one
is pretrained for one epoch on a SIMULATED graph (the weights do not change the speed).

With ``--dask-workers W`` the same rows, split into ``--shards`` CSV files, go through
``infoalign embed --dask --dask-workers W`` (a LocalCluster on this machine; the time includes
starting the workers).

Usage::

    python benchmarks/embed_stream.py --sizes 100000 1000000
    python benchmarks/embed_stream.py --sizes 20000 --dask-workers 2 --shards 4
    python benchmarks/embed_stream.py --sizes 10000 30000 --workdir /tmp/embed_stream
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rdkit

NCI = Path(os.path.dirname(rdkit.__file__)) / "Data" / "NCI" / "first_5K.smi"


def write_input(path: Path, n: int, start: int = 0) -> None:
    """Rows ``start`` ... ``start + n - 1`` (``id,smiles``) cycling through first_5K.smi,
    written line by line."""
    with open(NCI) as fh:
        smiles = [line.split()[0] for line in fh if line.strip()]
    with open(path, "w") as out:
        out.write("id,smiles\n")
        for i in range(start, start + n):
            out.write(f"{i},{smiles[i % len(smiles)]}\n")


def write_shards(workdir: Path, n: int, shards: int) -> list[Path]:
    """The same ``n`` rows split into ``shards`` CSV files of consecutive rows."""
    bounds = [n * k // shards for k in range(shards + 1)]
    paths = [workdir / f"in_{n}_shard{k:03d}.csv" for k in range(shards)]
    for k, path in enumerate(paths):
        write_input(path, bounds[k + 1] - bounds[k], start=bounds[k])
    return paths


def make_model(directory: Path, latent_dim: int, num_layers: int) -> None:
    import torch

    from infoalign_sklearn import InfoAlignEmbedder, make_synthetic_context

    torch.set_num_threads(1)
    context = make_synthetic_context(n_molecules=100, n_held_out=0, random_state=0)
    InfoAlignEmbedder(context.graph, latent_dim=latent_dim, hidden_dim=latent_dim,
                      num_layers=num_layers, max_epochs=1, random_state=0).fit() \
        .save_pretrained(directory)


def child(argv: list[str]) -> None:
    """Run `infoalign embed` in this process; print wall time and peak RSS as JSON."""
    import torch

    from infoalign_sklearn.cli import main

    torch.set_num_threads(1)
    start = time.perf_counter()
    code = main(argv)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("RESULT " + json.dumps({"code": code, "seconds": seconds, "peak_rss_mib": peak_kib / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000],
                        help="numbers of SMILES, each run in a fresh process")
    parser.add_argument("--chunk-size", type=int, default=10000)
    parser.add_argument("--model", help="a saved model directory (default: a SIMULATED one)")
    parser.add_argument("--latent-dim", type=int, default=300)
    parser.add_argument("--num-layers", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="--n-jobs of infoalign embed (featurisation processes)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dask-workers", type=int, default=None,
                        help="run `infoalign embed --dask --dask-workers W` on the input split "
                             "into --shards files instead (a LocalCluster; the peak RSS is then "
                             "the client's, not the workers')")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--workdir", help="where inputs and outputs go (default: a temp dir, "
                                          "removed at the end)")
    parser.add_argument("--keep-output", action="store_true")
    parser.add_argument("--out", help="also write the table, the command and the machine to "
                                      "this Markdown file")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="embed_stream."))
    workdir.mkdir(parents=True, exist_ok=True)
    model = Path(args.model) if args.model else workdir / "model"
    if not args.model and not (model / "weights.pt").exists():
        make_model(model, args.latent_dim, args.num_layers)
    print(f"model: {model}" + ("" if args.model else " (pretrained on a SIMULATED graph)"))
    lines = ["| SMILES | seconds | molecules/s | peak RSS (MiB) | output (MiB) |",
             "|---:|---:|---:|---:|---:|"]
    print("\n".join(lines))
    rows = []
    for n in args.sizes:
        if args.dask_workers:
            sources, out = write_shards(workdir, n, args.shards), workdir / f"out_{n}"
            extra = ["--dask", "--dask-workers", str(args.dask_workers)]
        else:
            sources, out = [workdir / f"in_{n}.csv"], workdir / f"out_{n}.parquet"
            write_input(sources[0], n)
            extra = []
        argv = ["embed", str(model), *map(str, sources), "--out", str(out), "--overwrite",
                "--chunk-size", str(args.chunk_size), "--device", args.device, *extra]
        if args.n_jobs is not None:
            argv += ["--n-jobs", str(args.n_jobs)]
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        done = subprocess.run([sys.executable, __file__, "--child", *argv], env=env,
                              capture_output=True, text=True)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if done.returncode or line is None:
            sys.exit(f"embed of {n} SMILES failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        result = json.loads(line[len("RESULT "):])
        size = sum(p.stat().st_size for p in out.iterdir()) if out.is_dir() else \
            out.stat().st_size
        result.update(n=n, output_mib=size / 2**20)
        rows.append(result)
        lines.append(f"| {n:,} | {result['seconds']:.0f} | {n / result['seconds']:,.0f} | "
                     f"{result['peak_rss_mib']:,.0f} | {result['output_mib']:,.0f} |")
        print(lines[-1], flush=True)
        for source in sources:
            source.unlink()
        if not args.keep_output:
            shutil.rmtree(out) if out.is_dir() else out.unlink()
    if len(rows) > 1:
        lines += ["", f"peak RSS ratio {rows[-1]['n']:,} / {rows[0]['n']:,} SMILES: "
                      f"{rows[-1]['peak_rss_mib'] / rows[0]['peak_rss_mib']:.2f}"]
        print(lines[-1])
    if args.out:
        import platform

        import torch

        header = [
            "# benchmarks/embed_stream.py", "",
            "Command: `python " + " ".join(sys.argv) + "`", "",
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '1')}; model "
            + ("given" if args.model else "of the default size, pretrained on a SIMULATED graph")
            + (f"; Dask LocalCluster of {args.dask_workers} workers, {args.shards} shards, peak "
               "RSS of the client process" if args.dask_workers else ""),
            "",
        ]
        Path(args.out).write_text("\n".join(header + lines) + "\n")


if __name__ == "__main__":
    main()
