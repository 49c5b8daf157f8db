"""Pretraining epoch time in 1 process against N processes (torch.distributed), same settings.

Run: ``python benchmarks/ddp_pretrain.py --nproc 4 --scale 0.1 --epochs 3`` (on a machine with
4 GPUs: one process per GPU, nccl; without CUDA: CPU processes on gloo, each with
cores / N threads). The graph is the SIMULATED paper-scale graph of
``benchmarks/context_graph.py`` at ``--scale`` (1.0 = 129,592 molecules; random fingerprints
and profiles), built once and saved to ``--graph`` (reused when it exists).

Both runs go through the same launcher (``infoalign pretrain --nproc``'s): world size 1 is
the ordinary one-process ``fit``. ``--batch-size`` is the global batch in both, so the runs do
the same optimisation steps. Reported per world size: the median epoch time after the first
epoch (warm-up), molecules per second, and the speed-up and efficiency against 1 process.
Each process featurises all molecules before the epochs (not counted in the epoch time; the
fit time printed includes it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def build_graph(path: Path, scale: float) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from context_graph import simulate_tables

    from infoalign_sklearn.graph import ContextGraph

    start = time.perf_counter()
    molecules, profiles, genes, links = simulate_tables(scale)
    graph = ContextGraph.from_tables(molecules, profiles, genes=genes, links=links,
                                     metadata={"simulated": True})
    graph.save(path)
    print(f"built and saved the SIMULATED graph (scale {scale}) in "
          f"{time.perf_counter() - start:.0f} s: {path}")


def worker(graph: str, params: dict, out: str) -> None:
    """One process of a run (rank 0 writes the timings)."""
    from infoalign_sklearn import InfoAlignEmbedder

    start = time.perf_counter()
    emb = InfoAlignEmbedder(graph, **params).fit()
    fit_s = time.perf_counter() - start
    if int(os.environ.get("RANK", "0")) == 0:
        Path(out).write_text(json.dumps({
            "fit_s": fit_s, "epochs": [r["seconds"] for r in emb.loss_history_],
            "loss": [r["loss"] for r in emb.loss_history_],
            "n_molecules": emb.n_training_molecules_,
        }))


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Time pretraining epochs in 1 process vs N processes (torch.distributed) "
                    "on a SIMULATED paper-scale graph.")
    parser.add_argument("--nproc", type=int, default=None,
                        help="processes of the distributed run (default: the CUDA device "
                             "count, or 2 without CUDA)")
    parser.add_argument("--scale", type=float, default=0.05,
                        help="fraction of the paper's graph (default 0.05: 6,479 molecules)")
    parser.add_argument("--epochs", type=int, default=3,
                        help="epochs per run; the first is warm-up (default 3)")
    parser.add_argument("--batch-size", type=int, default=256, help="global batch (default 256)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    parser.add_argument("--graph", default=None,
                        help="folder of the SIMULATED graph: reused if it exists, else built "
                             "there (default: a temporary folder)")
    args = parser.parse_args()

    import torch

    from infoalign_sklearn.embedders._distributed import launch_local

    cuda = torch.cuda.is_available() and args.device != "cpu"
    nproc = args.nproc or (torch.cuda.device_count() if cuda else 2)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is warm-up)")
    tmp = tempfile.TemporaryDirectory()
    graph = Path(args.graph or Path(tmp.name) / "graph")
    if not graph.exists():
        build_graph(graph, args.scale)
    params = dict(max_epochs=args.epochs, batch_size=args.batch_size, device=args.device,
                  random_state=0, verbose=0)
    print(f"{'CUDA x ' + str(torch.cuda.device_count()) if cuda else 'CPU'}; "
          f"{os.cpu_count()} CPUs; torch {torch.__version__}")
    rows = []
    for world in sorted({1, nproc}):
        out = Path(tmp.name) / f"world{world}.json"
        start = time.perf_counter()
        launch_local(worker, (str(graph), params, str(out)), world)
        wall = time.perf_counter() - start
        result = json.loads(out.read_text())
        epoch_s = statistics.median(result["epochs"][1:])
        rows.append((world, epoch_s, result["n_molecules"] / epoch_s, result["fit_s"], wall,
                     result["loss"][-1]))
    base = rows[0][1]
    print(f"\n{'processes':>9} {'epoch s':>9} {'mol/s':>9} {'speed-up':>9} {'efficiency':>10} "
          f"{'fit s':>8} {'launch s':>9} {'last loss':>10}")
    for world, epoch_s, rate, fit_s, wall, loss in rows:
        print(f"{world:>9} {epoch_s:>9.2f} {rate:>9.0f} {base / epoch_s:>9.2f} "
              f"{base / epoch_s / world:>10.2f} {fit_s:>8.1f} {wall:>9.1f} {loss:>10.4f}")
    print("\nSIMULATED graph; epoch s = median over epochs 2..N of rank 0's epoch time.")
    tmp.cleanup()


if __name__ == "__main__":
    main()
