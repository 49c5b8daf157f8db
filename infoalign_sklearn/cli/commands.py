"""What each ``infoalign`` command does, given its parsed arguments (see :mod:`.main`).

Heavy libraries (torch, pandas, scikit-learn, RDKit) are imported inside the commands, so that
``infoalign --help`` answers at once. A mistake in the input raises :class:`UserError`: one
line and a hint, no traceback.
"""

from __future__ import annotations

from pathlib import Path

EXIT_USER_ERROR = 2
OVERWRITE_HINT = "pass --overwrite to replace it, or choose another --out"


class UserError(Exception):
    """A mistake in the command line or the input files, reported as one line plus a hint."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


def existing_path(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise UserError(f"no such file or directory: {value}", "check the path and try again")
    return path


def check_output_file(value: str, suffixes: dict[str, str], overwrite: bool) -> Path:
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


def check_device(value: str) -> None:
    """Refuse, before any work, a device this machine does not have or torch does not know."""
    import torch

    try:
        device = torch.device(value) if value != "auto" else None
    except (RuntimeError, ValueError) as exc:
        raise UserError(f"--device {value!r} is not a device torch knows ({exc})",
                        "use auto, cpu, cuda or cuda:N") from None
    if device is not None and device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {value} but CUDA is not available on this machine",
                        "use --device auto (the GPU when there is one) or --device cpu")


def check_model_dir(out: Path, resume: bool, overwrite: bool) -> None:
    """``pretrain --out``: a directory; a saved model in it is replaced only when asked."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file", "give a directory for the model")
    saved = [name for name in ("config.json", "weights.pt") if (out / name).exists()]
    if saved and not (resume or overwrite):
        raise UserError(f"{out} already holds a saved model ({', '.join(saved)})",
                        "pass --overwrite to replace it, or choose another --out")


def check_not_input(out: Path, source: Path) -> None:
    """Refuse an output that is the input itself (the same file, also through links)."""
    if out.exists() and out.resolve().samefile(source.resolve()):
        raise UserError(f"--out {out} is the input file {source}",
                        "write to another file; the input is read while the output is written")


# ------------------------------------------------------------------ build-graph
def cmd_build_graph(args) -> int:
    import pandas as pd

    from ..graph import ContextGraph

    # --simulated labels the graph; otherwise each reader's own metadata is kept
    metadata = {"metadata": {"simulated": True}} if args.simulated else {}
    if args.raw_dir:
        from ..readers import read_infoalign_raw

        graph = read_infoalign_raw(
            existing_path(args.raw_dir), similarity_threshold=args.similarity_threshold,
            sparsity=args.sparsity, **metadata,
        )
    else:
        if not args.molecules:
            raise UserError("give --molecules CSV (with --profiles / --links) or --raw-dir DIR",
                            "see `infoalign build-graph --help`")
        molecules = read_input_table(args.molecules)
        profiles = {}
        for spec in args.profiles or []:
            modality, sep, path = spec.partition("=")
            if not sep:
                raise UserError(f"--profiles expects MODALITY=PATH, got {spec!r}",
                                "e.g. --profiles morphology=cellpainting.csv")
            profiles[modality] = read_input_table(path, index_col=0)
        links = pd.concat([read_input_table(p) for p in args.links], ignore_index=True) if args.links else None
        genes = read_input_table(args.genes) if args.genes else None
        graph = ContextGraph.from_tables(
            molecules, profiles=profiles or None, genes=genes, links=links,
            similarity_threshold=args.similarity_threshold, sparsity=args.sparsity, **metadata,
        )
    graph.save(args.out, overwrite=args.overwrite)
    print(graph.summary())
    print(f"saved the context graph to {args.out}")
    return 0


def read_input_table(path, **kwargs):
    """A table named on the command line (CSV, TSV, parquet; see ``readers.table_format``)."""
    from ..readers import read_table

    return read_table(existing_path(path), **kwargs)


# --------------------------------------------------------------------- pretrain
def cmd_pretrain(args) -> int:
    import os

    from ..embedders import CHECKPOINT_NAME

    out = Path(args.out)
    nproc = getattr(args, "nproc", 1)
    if nproc < 1:
        raise UserError(f"--nproc must be at least 1, got {nproc}", "e.g. --nproc 2")
    if nproc > 1 and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise UserError("--nproc under torchrun: the processes are started already",
                        "drop --nproc (torchrun --nproc-per-node sets their number)")
    check_device(args.device)
    checkpoint_dir = out / "checkpoints"
    if (checkpoint_dir / CHECKPOINT_NAME).exists() and not args.resume:
        raise UserError(
            f"{checkpoint_dir} holds a checkpoint of an earlier run",
            "pass --resume to continue it, or choose another --out",
        )
    check_model_dir(out, args.resume, args.overwrite)
    existing_path(args.graph)
    if nproc == 1:
        pretrain_and_save(args)
        return 0
    from ..embedders._distributed import launch_local

    print(f"pretraining in {nproc} local processes (batch of {args.batch_size} molecules "
          f"split between them)")
    try:
        launch_local(pretrain_and_save, (args,), nproc)
    except RuntimeError as exc:
        if getattr(args, "debug", False):
            import sys

            print(exc, file=sys.stderr)
        lines = [line for line in str(exc).splitlines() if line.strip()]
        raise UserError(f"a pretraining process failed: {lines[-1].strip()}",
                        "infoalign --debug pretrain ... shows the failing process's traceback"
                        ) from None
    return 0


def pretrain_and_save(args) -> None:
    """Fit InfoAlign as ``infoalign pretrain`` asks; the process of rank 0 (the only one
    without torchrun or --nproc) saves the model, plots the loss and reports."""
    import os

    from ..embedders import InfoAlignEmbedder
    from .plots import plot_loss_history

    out = Path(args.out)
    embedder = InfoAlignEmbedder(
        existing_path(args.graph), walk_length=args.walk_length, beta=args.beta,
        latent_dim=args.latent_dim, hidden_dim=args.latent_dim, num_layers=args.num_layers,
        batch_size=args.batch_size, max_epochs=args.epochs, lr=args.lr, device=args.device,
        precision=args.precision, random_state=args.seed, checkpoint_dir=out / "checkpoints",
        verbose=1, n_jobs=args.n_jobs,
    )
    embedder.fit()
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():  # started by fit (torchrun, --nproc)
        dist.destroy_process_group()
    if int(os.environ.get("RANK", "0")) != 0:
        return
    embedder.save_pretrained(out)
    plot_loss_history(embedder.loss_history_, out / "loss_curve.png")
    last = embedder.loss_history_[-1]
    print(f"pretrained {embedder.n_epochs_} epochs on {embedder.n_training_molecules_} molecules; "
          f"final loss {last['loss']:.4f}")
    print(f"saved the model to {out} (config.json, weights.pt, loss_curve.png)")


# ------------------------------------------------------------------------ embed
def cmd_embed(args) -> int:
    from ..embedders import InfoAlignEmbedder
    from .embed import EMBED_OUTPUT_SUFFIXES, embed_table

    if args.dask is not None:
        return cmd_embed_dask(args)
    for option in ("dask_workers", "keep_columns"):
        if getattr(args, option) is not None:
            flag = "--" + option.replace("_", "-")
            raise UserError(f"{flag} applies only with --dask", f"drop {flag} or add --dask")
    if len(args.input) > 1:
        raise UserError(f"embed takes one INPUT table, got {len(args.input)}",
                        "embed several tables (or a quoted glob) with --dask, or one at a time")
    model = existing_path(args.model)
    source = existing_path(args.input[0])
    out = check_output_file(args.out, EMBED_OUTPUT_SUFFIXES, args.overwrite)
    check_not_input(out, source)
    check_device(args.device)
    options = {"device": args.device, "n_jobs": args.n_jobs, "errors": "nan"}
    if args.precision is not None:
        options["precision"] = args.precision
    authors = getattr(args, "authors_checkpoint", False)
    # the authors' file, or its folder, given without the flag (checkpoint.pt is ours: an
    # interrupted `infoalign pretrain`)
    if not authors and ((model.suffix == ".pt" and model.name != "checkpoint.pt") or (
            model.is_dir() and not (model / "config.json").exists()
            and (model / "pretrain.pt").is_file())):
        raise UserError(
            f"{model} is not a model directory written by `infoalign pretrain` (no config.json)",
            "for the InfoAlign authors' checkpoint (pretrain.pt), add --authors-checkpoint",
        )
    if authors:
        embedder = InfoAlignEmbedder.from_authors_checkpoint(model, **options)
    else:
        embedder = InfoAlignEmbedder.from_pretrained(model, **options)
    n_rows, n_invalid = embed_table(embedder, source, args.out, smiles_column=args.smiles_column,
                                    chunk_size=args.chunk_size, verbose=1)
    print(f"embedded {n_rows} rows into {args.out}; {n_invalid} invalid SMILES flagged in column "
          "'infoalign_valid' (their representation columns are empty)")
    return 0


def cmd_embed_dask(args) -> int:
    """``infoalign embed --dask``: one output part per input table, on a Dask cluster."""
    from ..distributed import DaskNotInstalledError, embed_partitions, expand_inputs

    model = existing_path(args.model)
    if getattr(args, "authors_checkpoint", False):
        raise UserError("--authors-checkpoint does not combine with --dask",
                        "convert it once with InfoAlignEmbedder.from_authors_checkpoint(path)"
                        ".save_pretrained(folder), then give that folder")
    if args.n_jobs is not None:
        raise UserError("--n-jobs does not apply with --dask (a worker is one process)",
                        "use --dask-workers N for a local cluster")
    if args.dask_workers is not None and args.dask != "local":
        raise UserError("--dask-workers applies to --dask local only",
                        "the workers of a running scheduler are started with it")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file", "with --dask, --out is a folder for the parts")
    if out.exists() and not args.overwrite:
        raise UserError(f"{out} already exists", OVERWRITE_HINT)
    inputs = expand_inputs(args.input)
    if args.dask == "local":
        check_device(args.device)
    try:
        manifest = embed_partitions(
            model, inputs, out, smiles_column=args.smiles_column,
            keep_columns=args.keep_columns, scheduler=args.dask, n_workers=args.dask_workers,
            chunk_size=args.chunk_size, device=args.device, overwrite=args.overwrite, verbose=1,
        )
    except ConnectionError as exc:
        raise UserError(str(exc), "check the address (tcp://host:port) and that the scheduler "
                                  "runs, or use --dask local") from None
    except DaskNotInstalledError as exc:
        raise UserError(str(exc), 'pip install "infoalign-sklearn[dask]"') from None
    print(f"embedded {manifest['rows']} rows of {len(inputs)} tables into {out} "
          f"({len(manifest['parts'])} parts and _manifest.json); {manifest['invalid']} invalid "
          "SMILES flagged in column 'infoalign_valid' (their representation columns are empty)")
    return 0


# --------------------------------------------------------------------- evaluate
def cmd_evaluate(args) -> int:
    from ..benchmark import evaluate_csv
    from .embed import RESULT_TABLE_SUFFIXES, write_result_table

    out = None
    if args.out:
        out = check_output_file(args.out, RESULT_TABLE_SUFFIXES, args.overwrite)
    table = evaluate_csv(
        existing_path(args.input), smiles_column=args.smiles_column,
        target_columns=args.target_columns, model_dir=args.model, n_splits=args.folds,
        seed=args.seed, task=args.task, models=args.models, verbose=1,
    )
    print(table.to_markdown(index=False))
    if out is not None:
        write_result_table(table, out)
        print(f"wrote the table to {out}")
    return 0


# ------------------------------------------------------------------------- demo
def cmd_demo(args) -> int:
    from .demo import run_demo

    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UserError(f"--out {args.out} is a file", "give a folder for the demo's outputs")

    run_demo(args.out, quick=args.quick, seed=args.seed)
    return 0
