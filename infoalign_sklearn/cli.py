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

from ._version import __version__

EXIT_USER_ERROR = 2
OVERWRITE_HINT = "pass --overwrite to replace it, or choose another --out"


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


def _check_output_file(value: str, suffixes: dict[str, str], overwrite: bool) -> Path:
    """Refuse, before any work is done, an --out of the wrong type or one that already exists.

    ``suffixes`` maps each accepted suffix to what it writes (for the error message).
    """
    out = Path(value)
    if out.suffix.lower() not in suffixes:
        accepted = ", ".join(f"{suffix} ({what})" for suffix, what in suffixes.items())
        raise UserError(f"--out must end in one of {accepted}; got {out.name!r}",
                        f"e.g. --out {out.with_suffix(next(iter(suffixes))).name}")
    if out.is_dir():
        raise UserError(f"--out {value} is a directory", "give a file name")
    if out.exists() and not overwrite:
        raise UserError(f"{value} already exists", OVERWRITE_HINT)
    return out


# ------------------------------------------------------------------ build-graph
def cmd_build_graph(args) -> int:
    import pandas as pd

    from .graph import ContextGraph

    # --simulated labels the graph; otherwise each reader's own metadata is kept
    metadata = {"metadata": {"simulated": True}} if args.simulated else {}
    if args.raw_dir:
        from .graph import read_infoalign_raw

        graph = read_infoalign_raw(
            _existing_path(args.raw_dir), similarity_threshold=args.similarity_threshold,
            sparsity=args.sparsity, **metadata,
        )
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
            similarity_threshold=args.similarity_threshold, sparsity=args.sparsity, **metadata,
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
    _check_output_file(args.out, {".parquet": "parquet", ".csv": "CSV"}, args.overwrite)
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

    out = None
    if args.out:
        out = _check_output_file(args.out, RESULT_TABLE_SUFFIXES, args.overwrite)
    table = evaluate_csv(
        _existing_path(args.input), smiles_column=args.smiles_column,
        target_columns=args.target_columns, model_dir=args.model, n_splits=args.folds,
        seed=args.seed, task=args.task, models=args.models, verbose=1,
    )
    print(table.to_markdown(index=False))
    if out is not None:
        from .tables import write_result_table

        write_result_table(table, out)
        print(f"wrote the table to {out}")
    return 0


# ------------------------------------------------------------------------- demo
def cmd_demo(args) -> int:
    from .demo import run_demo

    run_demo(args.out, quick=args.quick, seed=args.seed)
    return 0


RESULT_TABLE_SUFFIXES = {".csv": "CSV", ".md": "Markdown, as printed"}
DEVICE_HELP = "where the network runs: auto (a GPU when present), cpu, cuda, cuda:1 ..."
N_JOBS_HELP = ("worker processes for molecule featurisation (-1: all cores); when omitted, "
               "molecules are featurised in this process")


class HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default after its help text where the default means something.

    Flags (``store_true``), options whose default is "not given" (``None``) and positional
    arguments get no default; required options read "(required)". Lists are shown as on the
    command line (``mlp rf``).
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if not action.option_strings or "%(default)" in text:
            return text
        if action.required:
            return f"{text} (required)"
        default = action.default
        if default is None or default is argparse.SUPPRESS or isinstance(default, bool):
            return text
        if isinstance(default, (list, tuple)):
            default = " ".join(map(str, default))
        return f"{text} (default: {str(default).replace('%', '%%')})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infoalign",
        description=(
            "Molecular representations learned in a cell (InfoAlign). Typical flow: "
            "build-graph -> pretrain -> embed / evaluate. `infoalign demo` runs it all on "
            "built-in data (a SIMULATED context graph around real molecules). "
            "`infoalign COMMAND --help` lists the options of a command."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"infoalign {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full Python traceback on errors (for bug reports)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=description,
                              formatter_class=HelpFormatter)

    p = command("build-graph", "tables or an InfoAlign raw-data folder -> saved context graph",
                "Build a context graph (molecules, cell morphology and gene expression profiles, "
                "genes, and the links between them) from tables or from a folder in the "
                "InfoAlign authors' raw layout, save it to --out and print its summary. Tables "
                "may be CSV, TSV (.tsv, .txt, .tsv.gz) or parquet.")
    p.add_argument("--molecules", metavar="TABLE",
                   help="molecule nodes: a table with columns id, smiles (optional inchikey14)")
    p.add_argument("--profiles", action="append", metavar="MODALITY=PATH",
                   help="a profile table: first column the node id, the others numeric "
                        "features; MODALITY is morphology, expression or gene; repeat for several")
    p.add_argument("--links", action="append", metavar="PATH",
                   help="an edge table with columns source, target, kind (perturbation, "
                        "interaction, target, expression, similarity) and optional weight in "
                        "[0, 1]; repeat for several")
    p.add_argument("--genes", metavar="TABLE",
                   help="gene nodes: a table with column id (e.g. gene:EGFR; an expression "
                        "column EGFR refers to node gene:EGFR)")
    p.add_argument("--raw-dir", metavar="DIR",
                   help="instead of the tables: a folder in the InfoAlign authors' raw layout "
                        "(structure.csv.gz, CP-*, GE*, G-*)")
    p.add_argument("--similarity-threshold", type=float, default=0.8, metavar="X",
                   help="minimum cosine similarity of a computed similarity edge (between "
                        "fingerprints, and between profiles of one modality)")
    p.add_argument("--sparsity", type=float, default=0.995, metavar="X",
                   help="share of all pairs of one feature space NOT kept as similarity edges "
                        "(0.995 keeps at most the top 0.5 %%)")
    p.add_argument("--simulated", action="store_true",
                   help="label the graph as built from SIMULATED data (stored in its metadata "
                        "and shown in its summary)")
    p.add_argument("--out", required=True, metavar="DIR", help="directory to save the graph to")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a graph already saved at --out (otherwise refused)")
    p.set_defaults(func=cmd_build_graph)

    p = command("pretrain", "pretrain InfoAlign on a saved context graph",
                "Pretrain InfoAlign on a saved context graph (from build-graph), with a progress "
                "bar and a checkpoint after every epoch in MODEL_DIR/checkpoints/; at the end "
                "MODEL_DIR holds config.json, weights.pt and loss_curve.png.")
    p.add_argument("graph", help="directory of a saved context graph (from build-graph)")
    p.add_argument("--out", required=True, metavar="MODEL_DIR",
                   help="model directory: config.json, weights.pt, loss_curve.png, checkpoints/")
    p.add_argument("--epochs", type=int, default=50, metavar="N",
                   help="passes over the graph's molecules")
    p.add_argument("--batch-size", type=int, default=256, metavar="N",
                   help="molecules per optimisation step")
    p.add_argument("--latent-dim", type=int, default=300, metavar="N",
                   help="size of the representation (also the width of the GIN layers)")
    p.add_argument("--num-layers", type=int, default=5, metavar="N",
                   help="GIN message-passing layers of the molecule encoder")
    p.add_argument("--walk-length", type=int, default=4, metavar="N",
                   help="random-walk steps from each molecule into its cellular context; the "
                        "nodes visited are the targets the representation learns to predict")
    p.add_argument("--beta", type=float, default=1e-9, metavar="X",
                   help="weight of the KL term of the information bottleneck (larger: a more "
                        "compressed representation)")
    p.add_argument("--lr", type=float, default=1e-3, metavar="X", help="Adam learning rate")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="random seed of initialisation, batches, walks and dropout")
    p.add_argument("--n-jobs", type=int, default=None, metavar="N", help=N_JOBS_HELP)
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint in --out (e.g. with a larger --epochs); "
                        "without it an --out holding a checkpoint is refused")
    p.set_defaults(func=cmd_pretrain)

    p = command("embed", "add representation columns to a table of molecules",
                "Add the InfoAlign representation to a table of molecules. Every input row and "
                "column is kept, in order; column infoalign_valid flags rows whose SMILES is "
                "invalid or empty (their columns infoalign_0 ... are empty). Large files are "
                "streamed in chunks.")
    p.add_argument("model", help="model directory written by `infoalign pretrain`")
    p.add_argument("input", help="CSV, TSV or parquet table with a SMILES column")
    p.add_argument("--smiles-column", default="smiles", metavar="COLUMN",
                   help="name of the SMILES column of INPUT")
    p.add_argument("--out", required=True, metavar="OUTPUT",
                   help="output table, .parquet or .csv: the input columns, infoalign_valid "
                        "and infoalign_0 ... infoalign_<d-1>")
    p.add_argument("--chunk-size", type=int, default=10000, metavar="ROWS",
                   help="rows read, embedded and written at a time (bounds the memory used)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--n-jobs", type=int, default=None, metavar="N", help=N_JOBS_HELP)
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out file (otherwise refused)")
    p.set_defaults(func=cmd_embed)

    p = command("evaluate", "scaffold-CV evaluation against Morgan-fingerprint baselines",
                "Scaffold cross-validation of representations on a labelled table, against "
                "Morgan-fingerprint baselines; prints a table of ROC-AUC (classification) or "
                "MAE (regression), mean and std over folds. Rows with an invalid SMILES are left "
                "out with a warning.")
    p.add_argument("input",
                   help="CSV with a SMILES column and label columns (an empty cell = not measured)")
    p.add_argument("--smiles-column", default="smiles", metavar="COLUMN",
                   help="name of the SMILES column of INPUT")
    p.add_argument("--target-columns", nargs="+", required=True, metavar="COLUMN",
                   help="label columns, one task each")
    p.add_argument("--model", metavar="MODEL_DIR",
                   help="a model directory from `infoalign pretrain`, compared as InfoAlign and "
                        "InfoAlign + FP; without it only the fingerprint baselines run")
    p.add_argument("--task", choices=("auto", "classification", "regression"), default="auto",
                   help="kind of labels; auto: 0 / 1 labels are classification, others regression")
    p.add_argument("--models", nargs="+", default=["mlp", "rf"], choices=("mlp", "rf", "gp"),
                   help="downstream models fitted on each representation: mlp (multi-task "
                        "MLP), rf (a random forest per task), gp (a Gaussian process per task: "
                        "Tanimoto kernel on fingerprints, RBF otherwise)")
    p.add_argument("--folds", type=int, default=5, metavar="N",
                   help="number of scaffold cross-validation folds")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="random seed of the fold assignment and the models")
    p.add_argument("--out", metavar="TABLE",
                   help="also write the table to a file: .csv (CSV) or .md (Markdown, as printed)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out file (otherwise refused)")
    p.set_defaults(func=cmd_evaluate)

    p = command("demo", "the whole job on built-in data (SIMULATED context graph)",
                "The main job on built-in data, no download needed: a SIMULATED context graph "
                "around real molecules -> InfoAlign pretraining on the CPU -> scaffold "
                "cross-validation against Morgan fingerprints -> tables, plots and the model.")
    p.add_argument("--out", default="demo_output", metavar="DIR",
                   help="folder for the tables, plots and fitted model")
    p.add_argument("--quick", action="store_true",
                   help="tiny settings that finish in seconds (for smoke tests)")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="random seed of the simulated data, the pretraining and the folds")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    warnings.filterwarnings("ignore", message=".*torch.jit.*")
    shown = warnings.showwarning
    warnings.showwarning = _show_warning
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
    finally:
        warnings.showwarning = shown


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one readable line (a model pretrained on SIMULATED data, skipped rows)."""
    print(f"infoalign: warning: {message}", file=sys.stderr if file is None else file)


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
