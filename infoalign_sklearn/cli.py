"""The ``infoalign`` command: build a graph, pretrain, embed a CSV, evaluate, run the demo.

User mistakes (missing file, wrong column, bad SMILES) end with one readable line, a hint and a
non-zero exit status, never a traceback. ``--debug`` shows the traceback for bug reports.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A mistake in the command line or the input files, reported as one line plus a hint."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


def _existing_path(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise UserError(f"no such file or directory: {value}", "check the path and try again")
    return path


# ------------------------------------------------------------------ build-graph
def cmd_build_graph(args) -> int:
    import pandas as pd

    from .graph import ContextGraph

    if args.raw_dir:
        from .graph import read_infoalign_raw

        graph = read_infoalign_raw(_existing_path(args.raw_dir))
    else:
        if not args.molecules:
            raise UserError("give --molecules CSV (with --profiles / --links) or --raw-dir DIR",
                            "see `infoalign build-graph --help`")
        molecules = _read_table(args.molecules)
        profiles = {}
        for spec in args.profiles or []:
            modality, sep, path = spec.partition("=")
            if not sep:
                raise UserError(f"--profiles expects MODALITY=PATH, got {spec!r}",
                                "e.g. --profiles morphology=cellpainting.csv")
            profiles[modality] = _read_table(path, index_col=0)
        links = pd.concat([_read_table(p) for p in args.links], ignore_index=True) if args.links else None
        genes = _read_table(args.genes) if args.genes else None
        graph = ContextGraph.from_tables(
            molecules, profiles=profiles or None, genes=genes, links=links,
            similarity_threshold=args.similarity_threshold, sparsity=args.sparsity,
        )
    graph.save(args.out, overwrite=args.overwrite)
    print(graph.summary())
    print(f"saved the context graph to {args.out}")
    return 0


def _read_table(path, **kwargs):
    import pandas as pd

    path = _existing_path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    sep = "\t" if path.suffix in (".tsv", ".txt") or path.name.endswith(".tsv.gz") else ","
    return pd.read_csv(path, sep=sep, **kwargs)


# --------------------------------------------------------------------- pretrain
def cmd_pretrain(args) -> int:
    from .embedders import CHECKPOINT_NAME, InfoAlignEmbedder
    from .plots import plot_loss_history

    out = Path(args.out)
    checkpoint_dir = out / "checkpoints"
    if (checkpoint_dir / CHECKPOINT_NAME).exists() and not args.resume:
        raise UserError(
            f"{checkpoint_dir} holds a checkpoint of an earlier run",
            "pass --resume to continue it, or choose another --out",
        )
    embedder = InfoAlignEmbedder(
        _existing_path(args.graph), walk_length=args.walk_length, beta=args.beta,
        latent_dim=args.latent_dim, hidden_dim=args.latent_dim, num_layers=args.num_layers,
        batch_size=args.batch_size, max_epochs=args.epochs, lr=args.lr, device=args.device,
        random_state=args.seed, checkpoint_dir=checkpoint_dir, verbose=1, n_jobs=args.n_jobs,
    )
    embedder.fit()
    embedder.save_pretrained(out)
    plot_loss_history(embedder.loss_history_, out / "loss_curve.png")
    last = embedder.loss_history_[-1]
    print(f"pretrained {embedder.n_epochs_} epochs on {embedder.n_training_molecules_} molecules; "
          f"final loss {last['loss']:.4f}")
    print(f"saved the model to {out} (config.json, weights.pt, loss_curve.png)")
    return 0


# ------------------------------------------------------------------------ embed
def cmd_embed(args) -> int:
    from .embedders import InfoAlignEmbedder
    from .tables import embed_table

    model = _existing_path(args.model)
    source = _existing_path(args.input)
    embedder = InfoAlignEmbedder.from_pretrained(model, device=args.device, n_jobs=args.n_jobs,
                                                 errors="nan")
    n_rows, n_invalid = embed_table(embedder, source, args.out, smiles_column=args.smiles_column,
                                    chunk_size=args.chunk_size, verbose=1)
    print(f"embedded {n_rows} rows into {args.out}; {n_invalid} invalid SMILES flagged in column "
          "'infoalign_valid' (their representation columns are empty)")
    return 0


# --------------------------------------------------------------------- evaluate
def cmd_evaluate(args) -> int:
    from .benchmark import evaluate_csv

    table = evaluate_csv(
        _existing_path(args.input), smiles_column=args.smiles_column,
        target_columns=args.target_columns, model_dir=args.model, n_splits=args.folds,
        seed=args.seed, task=args.task, models=args.models,
    )
    print(table.to_markdown(index=False))
    return 0


# ------------------------------------------------------------------------- demo
def cmd_demo(args) -> int:
    from .demo import run_demo

    run_demo(args.out, quick=args.quick, seed=args.seed)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infoalign",
        description=(
            "Molecular representations learned in a cell (InfoAlign). Typical flow: "
            "build-graph -> pretrain -> embed / evaluate. `infoalign demo` runs it all on "
            "built-in data (a SIMULATED context graph around real molecules)."
        ),
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("build-graph", help="tables or an InfoAlign raw-data folder -> saved context graph")
    p.add_argument("--molecules", help="CSV with columns id, smiles")
    p.add_argument("--profiles", action="append", metavar="MODALITY=PATH",
                   help="profile table (first column = node id); modality: morphology, expression or gene")
    p.add_argument("--links", action="append", metavar="PATH",
                   help="edge table with columns source, target, kind[, weight]; repeatable")
    p.add_argument("--genes", help="CSV with column id listing gene nodes")
    p.add_argument("--raw-dir", help="folder in the InfoAlign authors' raw layout (structure.csv.gz, CP-*, GE*, G-*)")
    p.add_argument("--similarity-threshold", type=float, default=0.8)
    p.add_argument("--sparsity", type=float, default=0.995)
    p.add_argument("--out", required=True, help="directory to write the graph to")
    p.add_argument("--overwrite", action="store_true", help="replace a graph saved at --out")
    p.set_defaults(func=cmd_build_graph)

    p = sub.add_parser("pretrain", help="pretrain InfoAlign on a saved context graph")
    p.add_argument("graph", help="directory of a saved context graph")
    p.add_argument("--out", required=True, help="model directory (weights, config, loss curve, checkpoints)")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--latent-dim", type=int, default=300)
    p.add_argument("--num-layers", type=int, default=5)
    p.add_argument("--walk-length", type=int, default=4)
    p.add_argument("--beta", type=float, default=1e-9)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--device", default="auto", help="auto (GPU when present), cpu, cuda, cuda:1 ...")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-jobs", type=int, default=None)
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser("embed", help="add representation columns to a CSV of molecules")
    p.add_argument("model", help="model directory written by `infoalign pretrain`")
    p.add_argument("input", help="CSV / TSV / parquet with a SMILES column")
    p.add_argument("--smiles-column", default="smiles")
    p.add_argument("--out", required=True, help="output .parquet or .csv (every input row and column kept)")
    p.add_argument("--chunk-size", type=int, default=10000)
    p.add_argument("--device", default="auto")
    p.add_argument("--n-jobs", type=int, default=None)
    p.set_defaults(func=cmd_embed)

    p = sub.add_parser("evaluate", help="scaffold-CV evaluation against Morgan-fingerprint baselines")
    p.add_argument("input", help="CSV with a SMILES column and label columns (empty = not measured)")
    p.add_argument("--smiles-column", default="smiles")
    p.add_argument("--target-columns", nargs="+", required=True)
    p.add_argument("--model", help="model directory; without it only the fingerprint baselines run")
    p.add_argument("--task", choices=("auto", "classification", "regression"), default="auto")
    p.add_argument("--models", nargs="+", default=["mlp", "rf"], choices=("mlp", "rf", "gp"))
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("demo", help="the whole job on built-in data (SIMULATED context graph)")
    p.add_argument("--out", default="demo_output", help="folder for the table, plots and model")
    p.add_argument("--quick", action="store_true", help="tiny settings (seconds; for smoke tests)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    warnings.filterwarnings("ignore", message=".*torch.jit.*")
    try:
        return args.func(args)
    except UserError as exc:
        return _report(exc, exc.hint, args.debug)
    except (FileNotFoundError, FileExistsError, KeyError, ValueError, TypeError) as exc:
        return _report(exc, _hint_for(exc), args.debug)
    except KeyboardInterrupt:
        print("interrupted; `infoalign pretrain ... --resume` continues from the last checkpoint",
              file=sys.stderr)
        return 130


def _hint_for(exc: Exception) -> str | None:
    from .chem.molecules import InvalidMoleculeError

    if isinstance(exc, InvalidMoleculeError):
        return f"{len(exc.indices)} invalid SMILES; fix them or drop those rows"
    if isinstance(exc, FileExistsError):
        return "pass --overwrite to replace it, or choose another --out"
    if isinstance(exc, KeyError):
        return "check the column names of your input file"
    return None


def _report(exc: Exception, hint: str | None, debug: bool) -> int:
    if debug:
        raise exc
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    print(f"infoalign: error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    return EXIT_USER_ERROR


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
