"""Embedding and fingerprinting sharded tables on a Dask cluster (``dask.distributed``).

One input file is one partition: a worker streams it in chunks through the embedder and writes
one output part (``part-00000.parquet`` ...) with the input's rows in the input's order, the
kept columns, the marker column ``infoalign_valid`` and the representation columns (NaN where
the SMILES is empty or invalid) -- the rules of ``infoalign embed`` (:mod:`.cli.embed`), reused.
The output directory is complete or absent: parts go to a temporary directory beside it, which
replaces it at the end, with ``_manifest.json`` (inputs, rows, invalid rows, model hash).

The fitted model is sent to the workers once (``Client.scatter(..., broadcast=True)``); each
task then finds it in its worker's memory. Inputs and the output directory must be on a
filesystem that the client and every worker see under the same paths (a local disk for a
``LocalCluster``, a shared or network filesystem for a real cluster).

Dask is imported only when :func:`embed_partitions` runs: ``pip install "infoalign-sklearn[dask]"``.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path

from ._utils.io import atomic_directory, atomic_file
from ._version import __version__
from .cli.embed import VALID_COLUMN, embed_frame, output_width, read_chunks
from .readers import table_format

#: Table files a directory given as input contributes (others in it are ignored).
INPUT_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")
MANIFEST_NAME = "_manifest.json"
MANIFEST_FORMAT = "infoalign-sklearn/embedded-partitions"
KINDS = ("embedding", "fingerprint")
DEFAULT_PREFIXES = {"embedding": "infoalign_", "fingerprint": "morgan_"}


class DaskNotInstalledError(ImportError):
    """``dask.distributed`` is needed and missing."""


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DaskNotInstalledError(
            'embedding on a Dask cluster needs dask.distributed: pip install '
            '"infoalign-sklearn[dask]" (or pip install "dask[distributed]")'
        ) from exc
    return distributed


# ----------------------------------------------------------------------- inputs
def expand_inputs(inputs) -> list[Path]:
    """The input files, in order: a glob pattern, a file, a directory (its table files, sorted
    by name) or a list of those. Raises ``FileNotFoundError`` naming what matched nothing and
    ``ValueError`` when the same file comes twice."""
    items = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    if not items:
        raise ValueError("no input files given")
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.is_file() and p.name.lower().endswith(INPUT_SUFFIXES))
            if not found:
                raise FileNotFoundError(
                    f"directory {path} holds no table files ({', '.join(INPUT_SUFFIXES)})")
        elif path.is_file():
            found = [path]
        else:
            found = sorted(Path(p) for p in glob.glob(str(item)) if Path(p).is_file())
            if not found:
                raise FileNotFoundError(f"no input file matches {str(item)!r}")
        files.extend(found)
    seen: dict[Path, Path] = {}
    for path in files:
        key = path.resolve()
        if key in seen:
            raise ValueError(f"input file {path} is given twice (also as {seen[key]})")
        seen[key] = path
    return files


def _columns_of(path: Path) -> list[str]:
    """Column names of a table file, from its header or parquet schema (no data read)."""
    sep = table_format(path)
    if sep is None:
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    import pandas as pd

    return [str(c) for c in pd.read_csv(path, sep=sep, nrows=0, dtype=str).columns]


def _output_schema(files: list[Path], keep: list[str], text: bool, width: int, prefix: str):
    """One arrow schema for every part: kept columns (text, or the parquet inputs' common
    types), the marker and ``width`` float32 representation columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if text:
        fields = [pa.field(name, pa.string()) for name in keep]
    else:
        schema = pq.read_schema(files[0])
        fields = [schema.field(name).remove_metadata() for name in keep]
    fields.append(pa.field(VALID_COLUMN, pa.bool_()))
    fields += [pa.field(f"{prefix}{i}", pa.float32()) for i in range(width)]
    return pa.schema(fields)


def _check_inputs(files: list[Path], smiles_column: str, keep_columns, prefix: str, width: int):
    """Columns kept, and whether they are written as text; errors name the file at fault."""
    columns = {path: _columns_of(path) for path in files}
    first = files[0]
    for path, names in columns.items():
        if smiles_column not in names:
            raise KeyError(f"column {smiles_column!r} not in {path}; columns are {names[:10]}")
    if keep_columns is None:
        keep = columns[first]
        for path, names in columns.items():
            if names != keep:
                raise ValueError(
                    f"{path} has columns {names[:10]} but {first} has {keep[:10]}; give "
                    "keep_columns (--keep-columns) with the columns every input has"
                )
    else:
        keep = [str(c) for c in ([keep_columns] if isinstance(keep_columns, str)
                                 else keep_columns)]
        if len(set(keep)) != len(keep):
            raise ValueError(f"keep_columns names a column twice: {keep}")
        for path, names in columns.items():
            missing = [c for c in keep if c not in names]
            if missing:
                raise KeyError(f"columns {missing} not in {path}; columns are {names[:10]}")
    out_names = {VALID_COLUMN, *(f"{prefix}{i}" for i in range(width))}
    clash = sorted(out_names & set(keep))
    if clash:
        raise ValueError(f"the inputs already have columns {clash[:5]}; rename them first")
    # parquet inputs of one schema keep their types; otherwise every kept column is text
    text = True
    if all(table_format(p) is None for p in files):
        import pyarrow.parquet as pq

        schemas = [pq.read_schema(p) for p in files]
        text = not all(
            s.field(c).type == schemas[0].field(c).type for s in schemas for c in keep)
    return keep, text


# ------------------------------------------------------------------------ model
def _state_hash(embedder) -> str:
    """SHA-256 of a torch module's weights (names, dtypes, shapes, bytes, in key order)."""
    digest = hashlib.sha256()
    for name, tensor in embedder.module_.state_dict().items():
        array = tensor.detach().cpu().contiguous().numpy()
        digest.update(f"{name}|{array.dtype}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _prepare_model(model, kind: str, device: str | None):
    """(the transformer to ship, its output width, a JSON description for the manifest)."""
    if kind == "fingerprint":
        from sklearn.base import clone

        from .fingerprints import MorganFingerprint

        fp = MorganFingerprint() if model is None else model
        if not isinstance(fp, MorganFingerprint):
            raise TypeError(f"kind='fingerprint' takes a MorganFingerprint or None as model, "
                            f"got {type(fp).__name__}")
        fp = clone(fp).set_params(errors="nan", n_jobs=None, verbose=0).fit()
        params = {k: v for k, v in fp.get_params().items()
                  if k in ("radius", "n_bits", "counts", "chirality")}
        return fp, output_width(fp), {"class": "MorganFingerprint", "params": params}

    import copy

    from .embedders import (
        PRETRAINED_FORMAT_PREFIX,
        ContrastiveEmbedder,
        GraphTrainedEmbedder,
        InfoAlignEmbedder,
    )

    description: dict = {}
    overrides = {"errors": "nan", "n_jobs": None, "verbose": 0}
    if device is not None:
        overrides["device"] = device
    if isinstance(model, (str, os.PathLike)):
        directory = Path(model)
        config = json.loads((directory / "config.json").read_text()) \
            if (directory / "config.json").is_file() else {}
        contrastive = f"{PRETRAINED_FORMAT_PREFIX}{ContrastiveEmbedder.__name__}"
        cls = ContrastiveEmbedder if config.get("format") == contrastive else InfoAlignEmbedder
        embedder = cls.from_pretrained(directory, **overrides)
        description["path"] = str(directory)
        description["weights_sha256"] = config.get("weights_sha256")
    elif isinstance(model, GraphTrainedEmbedder):
        if not hasattr(model, "module_"):
            raise ValueError(f"the {type(model).__name__} given is not fitted; fit it or give a "
                             "model directory from save_pretrained")
        embedder = copy.copy(model).set_params(**overrides)
    else:
        raise TypeError("model must be a model directory (str or path) or a fitted "
                        f"InfoAlignEmbedder / ContrastiveEmbedder, got {type(model).__name__}")
    reference = getattr(embedder, "graph_reference_", None)
    description.update({
        "class": type(embedder).__name__,
        "state_sha256": _state_hash(embedder),
        "latent_dim": int(embedder.latent_dim),
        "simulated": None if reference is None else reference.simulated,
    })
    return embedder, output_width(embedder), description


# ------------------------------------------------------------------ worker task
def read_frames(path: Path, chunk_size: int, columns: list[str], text: bool):
    """``columns`` of the table ``path`` as DataFrames of up to ``chunk_size`` rows.

    Text files are read as ``infoalign embed`` reads them (every cell the string it is); from
    parquet only ``columns`` are read, cast to text in arrow first when ``text`` (7 -> "7",
    also in an integer column with nulls; nulls stay null).
    """
    if table_format(path) is not None:
        for frame in read_chunks(path, chunk_size):
            yield frame[columns]
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size, columns=columns):
        if text:
            batch = pa.RecordBatch.from_arrays(
                [column.cast(pa.string()) for column in batch.columns], names=batch.schema.names)
        yield batch.to_pandas()


def embed_part(model, source: str, target: str, *, smiles_column: str, keep: list[str],
               text: bool, schema, prefix: str, chunk_size: int, torch_threads: int | None = 1
               ) -> dict:
    """One partition: stream ``source`` through ``model`` into the parquet file ``target``.

    Runs on a worker (any process works). Returns ``{"rows", "invalid"}``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if torch_threads is not None and hasattr(model, "module_"):
        import torch

        torch.set_num_threads(torch_threads)
    source_path = Path(source)
    rows = invalid = 0
    names = schema.names
    columns = list(dict.fromkeys([*keep, smiles_column]))
    # a plain open: the part lives in the output's temporary directory (made atomic as a
    # whole), and a task still running after the run failed cannot recreate that directory
    with open(target, "wb") as fh:
        writer = pq.ParquetWriter(fh, schema)
        for frame in read_frames(source_path, chunk_size, columns, text):
            result = embed_frame(model, frame, smiles_column=smiles_column, prefix=prefix,
                                 source_name=str(source_path))
            table = pa.Table.from_pandas(result[names], preserve_index=False)
            writer.write_table(table.cast(schema))
            rows += len(result)
            invalid += int((~result[VALID_COLUMN]).sum())
        if rows == 0:  # an empty input still gives a part with the schema
            writer.write_table(schema.empty_table())
        writer.close()
    return {"rows": rows, "invalid": invalid}


# ------------------------------------------------------------------- the driver
def embed_partitions(model, inputs, out_dir, *, smiles_column: str = "smiles",
                     keep_columns=None, kind: str = "embedding", scheduler=None,
                     n_workers: int | None = None, chunk_size: int = 10000,
                     prefix: str | None = None, device: str | None = "cpu",
                     overwrite: bool = False, verbose: int = 0) -> dict:
    """Embed (or fingerprint) sharded tables on a Dask cluster, one output part per input file.

    Parameters
    ----------
    model : str, path, fitted embedder, MorganFingerprint or None
        ``kind="embedding"``: a directory from ``save_pretrained`` / ``infoalign pretrain``
        or a fitted ``InfoAlignEmbedder`` / ``ContrastiveEmbedder``. ``kind="fingerprint"``:
        a ``MorganFingerprint`` (None: radius 2, 2048 bits).
    inputs : str, path or list of them
        Glob patterns (``"shards/*.parquet"``), files or directories of CSV / TSV / parquet
        tables, each with the SMILES column. One file is one partition.
    out_dir : str or path
        Output directory: ``part-00000.parquet`` ... (part *i* from the *i*-th input, rows in
        its order) and ``_manifest.json``. Written atomically; an existing one is refused
        unless ``overwrite``.
    smiles_column : str, default="smiles"
    keep_columns : list of str, default=None
        Input columns copied into the output (None: all; then every input must have the same
        columns). Text inputs are copied as the text they hold; parquet inputs of one schema
        keep their types; otherwise (mixed formats or types) every kept column is text.
    kind : {"embedding", "fingerprint"}, default="embedding"
    scheduler : None, "local", str or distributed.Client, default=None
        None or ``"local"``: a ``LocalCluster`` of ``n_workers`` processes on 127.0.0.1, one
        thread each, closed at the end. A string: the address of a running scheduler
        (``"tcp://10.0.0.5:8786"``). A ``Client``: used as is and left open.
    n_workers : int, default=None
        Workers of the local cluster (None: one per input file, at most the CPU count).
    chunk_size : int, default=10000
        Rows a worker reads, embeds and writes at a time (bounds a worker's memory).
    prefix : str, default=None
        Name prefix of the representation columns (None: ``infoalign_`` for embeddings,
        ``morgan_`` for fingerprints).
    device : str or None, default="cpu"
        Device of the embedder on the workers (None: as saved / as set on the embedder).
    overwrite : bool, default=False
    verbose : int, default=0
        Show a progress bar over the partitions.

    Returns
    -------
    manifest : dict
        What ``_manifest.json`` holds: inputs, parts, rows and invalid rows per part and in
        total, the model (class, hash of its weights) and the columns.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if n_workers is not None and (not isinstance(n_workers, int) or n_workers < 1):
        raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}")
    prefix = DEFAULT_PREFIXES[kind] if prefix is None else str(prefix)
    out_dir = Path(out_dir)
    files = expand_inputs(inputs)
    _check_output(out_dir, files, overwrite)
    shipped, width, model_info = _prepare_model(model, kind, device)
    keep, text = _check_inputs(files, smiles_column, keep_columns, prefix, width)
    schema = _output_schema(files, keep, text, width, prefix)

    distributed = _import_distributed()
    client, opened = _connect(distributed, scheduler, n_workers, len(files))
    try:
        with atomic_directory(out_dir) as tmp:
            parts = [f"part-{i:05d}.parquet" for i in range(len(files))]
            model_future = client.scatter(shipped, broadcast=True, hash=False)
            futures = [
                client.submit(embed_part, model_future, str(source.resolve()), str(tmp / part),
                              smiles_column=smiles_column, keep=keep, text=text, schema=schema,
                              prefix=prefix, chunk_size=chunk_size, pure=False,
                              key=f"infoalign-embed-{part}-{os.urandom(4).hex()}")
                for source, part in zip(files, parts)
            ]
            results = _gather(distributed, client, futures, verbose)
            manifest = {
                "format": MANIFEST_FORMAT,
                "format_version": 1,
                "created_by": f"infoalign-sklearn {__version__}",
                "kind": kind,
                "model": model_info,
                "smiles_column": smiles_column,
                "columns": schema.names,
                "kept_columns": keep,
                "kept_as_text": text,
                "valid_column": VALID_COLUMN,
                "parts": [
                    {"part": part, "input": str(source), **result}
                    for part, source, result in zip(parts, files, results)
                ],
                "rows": sum(r["rows"] for r in results),
                "invalid": sum(r["invalid"] for r in results),
            }
            with atomic_file(tmp / MANIFEST_NAME, "w") as fh:
                fh.write(json.dumps(manifest, indent=2))
    finally:
        for thing in opened:  # the client, then the local cluster, that we started
            thing.close()
    return manifest


def _check_output(out_dir: Path, files: list[Path], overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"output {out_dir} is a file; give a directory for the parts")
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"output directory {out_dir} already exists; pass overwrite=True "
                              "(--overwrite) to replace it")
    root = out_dir.resolve()
    for path in files:
        if path.resolve() == root or root in path.resolve().parents:
            raise ValueError(f"input {path} is inside the output directory {out_dir}, which is "
                             "replaced; write to another directory")


def _connect(distributed, scheduler, n_workers, n_files):
    """(client, what to close at the end) for ``scheduler``."""
    if isinstance(scheduler, distributed.Client):
        return scheduler, []
    if scheduler is None or scheduler == "local":
        workers = n_workers or max(1, min(n_files, os.cpu_count() or 1))
        import logging

        # silence_logs: no "worker still alive after 4 s, killing" lines at the end (a worker
        # that imported torch takes a few seconds to exit, and is then stopped: harmless)
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster)
        return client, [client, cluster]
    if isinstance(scheduler, str):
        try:
            client = distributed.Client(scheduler, timeout="30s")
        except OSError as exc:
            raise ConnectionError(f"could not reach the Dask scheduler at {scheduler}: {exc}") \
                from exc
        return client, [client]
    raise TypeError("scheduler must be None, 'local', a scheduler address or a "
                    f"distributed.Client, got {type(scheduler).__name__}")


def _gather(distributed, client, futures, verbose):
    from tqdm.auto import tqdm

    bar = tqdm(total=len(futures), desc="partitions", unit="part") if verbose else None
    try:
        for future in distributed.as_completed(futures):
            if future.status == "error":
                future.result()  # raises the worker's exception here
            if bar is not None:
                bar.update(1)
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        if bar is not None:
            bar.close()
    return client.gather(futures)
