"""The ``infoalign`` command: build a graph, pretrain, embed a CSV, evaluate, run the demo.

User mistakes (missing file, wrong column, bad SMILES) end with one readable line, a hint and a
non-zero exit status, never a traceback. ``--debug`` shows the traceback for bug reports.
The commands themselves are in :mod:`.commands`.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from .._version import __version__
from .commands import (
    EXIT_USER_ERROR,
    OVERWRITE_HINT,
    UserError,
    cmd_build_graph,
    cmd_demo,
    cmd_embed,
    cmd_evaluate,
    cmd_pretrain,
)

DEVICE_HELP = "where the network runs: auto (a GPU when present), cpu, cuda, cuda:1 ..."
PRECISION_CHOICES = ("float32", "bfloat16")
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

    _add_build_graph(command)
    _add_pretrain(command)
    _add_embed(command)
    _add_evaluate(command)
    _add_demo(command)
    return parser


def _add_build_graph(add) -> None:
    p = add("build-graph", "tables or an InfoAlign raw-data folder -> saved context graph",
            "Build a context graph (molecules, cell morphology and gene expression profiles, "
            "genes, and the links between them) from tables or from a folder in the "
            "InfoAlign authors' raw layout, save it to --out and print its summary. Tables "
            "may be CSV (.csv, .csv.gz), TSV (.tsv, .txt, .tsv.gz) or parquet (.parquet, .pq).")
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


def _add_pretrain(add) -> None:
    p = add("pretrain", "pretrain InfoAlign on a saved context graph",
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
    p.add_argument("--precision", default="float32", choices=PRECISION_CHOICES,
                   help="arithmetic of the training steps: bfloat16 autocast is faster on GPUs "
                        "(weights stay float32; see docs/scaling.md)")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="random seed of initialisation, batches, walks and dropout")
    p.add_argument("--n-jobs", type=int, default=None, metavar="N", help=N_JOBS_HELP)
    p.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="train in N local processes (one per GPU, or CPU processes with "
                        "gloo): --batch-size is the global batch, split between them. For "
                        "several nodes use torchrun --nproc-per-node N -m infoalign_sklearn "
                        "pretrain ... without --nproc (docs/distributed.md)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint in --out (e.g. with a larger --epochs) "
                        "with the same number of processes; without it an --out holding a "
                        "checkpoint is refused")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a model already saved in --out (otherwise refused)")
    p.set_defaults(func=cmd_pretrain)


def _add_embed(add) -> None:
    p = add("embed", "add representation columns to a table of molecules",
            "Add the InfoAlign representation to a table of molecules. Every input row and "
            "column is kept, in order; column infoalign_valid flags rows whose SMILES is "
            "invalid or empty (their columns infoalign_0 ... are empty). Large files are "
            "streamed in chunks.")
    p.add_argument("model", help="model directory written by `infoalign pretrain` (or, with "
                                 "--authors-checkpoint, the authors' pretrain.pt or its folder)")
    p.add_argument("input", nargs="+",
                   help="CSV, TSV (.tsv, .txt) or parquet (.parquet, .pq) table, "
                        "optionally gzipped text, with a SMILES column; with --dask, any number "
                        "of tables, folders or quoted glob patterns ('shards/*.parquet'), one "
                        "output part per table")
    p.add_argument("--smiles-column", default="smiles", metavar="COLUMN",
                   help="name of the SMILES column of INPUT")
    p.add_argument("--out", required=True, metavar="OUTPUT",
                   help="output table, .parquet or .csv: the input columns, infoalign_valid "
                        "and infoalign_0 ... infoalign_<d-1>; with --dask a folder of parquet "
                        "parts (part-00000.parquet ..., one per input table) and _manifest.json")
    p.add_argument("--chunk-size", type=int, default=10000, metavar="ROWS",
                   help="rows read, embedded and written at a time (bounds the memory used)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--precision", default=None, choices=PRECISION_CHOICES,
                   help="arithmetic of the forward passes, without it the model's own; "
                        "bfloat16 is faster on GPUs, within 1%% of float32 (docs/scaling.md)")
    p.add_argument("--n-jobs", type=int, default=None, metavar="N", help=N_JOBS_HELP)
    p.add_argument("--dask", nargs="?", const="local", metavar="SCHEDULER",
                   help="embed the input tables as partitions on a Dask cluster: the address of "
                        "a running scheduler (tcp://host:8786), or `local` (also the value "
                        "when none is given) for worker processes on this machine; needs "
                        'pip install "infoalign-sklearn[dask]"')
    p.add_argument("--dask-workers", type=int, default=None, metavar="N",
                   help="with --dask local: worker processes (when omitted: one per input table, "
                        "at most the CPU count)")
    p.add_argument("--keep-columns", nargs="+", default=None, metavar="COLUMN",
                   help="with --dask: the input columns copied to the output (when omitted: all; "
                        "then every input table must have the same columns)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out file (otherwise refused)")
    p.add_argument("--authors-checkpoint", action="store_true",
                   help="MODEL is the InfoAlign authors' published checkpoint (pretrain.pt and "
                        "its YAML config, e.g. from huggingface.co/liuganghuggingface/"
                        "InfoAlign-Pretrained); see docs/pretrained.md")
    p.set_defaults(func=cmd_embed)


def _add_evaluate(add) -> None:
    p = add("evaluate", "scaffold-CV evaluation against Morgan-fingerprint baselines",
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


def _add_demo(add) -> None:
    p = add("demo", "the whole job on built-in data (SIMULATED context graph)",
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
        if _interrupted(exc):
            return _report_interrupt()
        return _report(exc, _hint_for(exc), args.debug)
    except KeyboardInterrupt:
        return _report_interrupt()
    except Exception as exc:
        # Ctrl-C inside a library's C++ code (torch.save writing a checkpoint) can come back
        # as the library's own error, chained to the KeyboardInterrupt
        if _interrupted(exc):
            return _report_interrupt()
        raise
    finally:
        warnings.showwarning = shown


def _interrupted(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is among the causes of ``exc``."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _report_interrupt() -> int:
    print("interrupted; `infoalign pretrain ... --resume` continues from the last checkpoint",
          file=sys.stderr)
    return 130


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one readable line (a model pretrained on SIMULATED data, skipped rows)."""
    print(f"infoalign: warning: {message}", file=sys.stderr if file is None else file)


def _hint_for(exc: Exception) -> str | None:
    from ..chem.molecules import InvalidMoleculeError

    if isinstance(exc, InvalidMoleculeError):
        return f"{len(exc.indices)} invalid SMILES; fix them or drop those rows"
    if isinstance(exc, FileExistsError):
        return OVERWRITE_HINT
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
