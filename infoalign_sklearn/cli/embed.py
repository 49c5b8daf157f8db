"""Embedding tables of molecules: every input row and column kept, representations added."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._utils.io import atomic_file
from ..readers import table_format

VALID_COLUMN = "infoalign_valid"
#: Accepted suffixes of an embedded table (``embed_table``'s ``out``) and what they write.
EMBED_OUTPUT_SUFFIXES = {".parquet": "parquet", ".csv": "CSV"}
#: Accepted suffixes of a result table (``write_result_table``) and what they write.
RESULT_TABLE_SUFFIXES = {".csv": "CSV", ".md": "Markdown, as printed"}


def read_chunks(path: Path, chunk_size: int):
    """The table ``path`` as DataFrames of up to ``chunk_size`` rows, format by its name
    (``readers.table_format``: parquet, tab- or comma-separated text, optionally gzipped)."""
    sep = table_format(path)
    if sep is None:
        import pyarrow.parquet as pq

        # arrow-backed columns keep the file's types in every chunk: an integer column with
        # nulls stays integer (not 1.0), a column empty in the first chunk keeps its type
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
            yield batch.to_pandas(types_mapper=pd.ArrowDtype)
        return
    # text in, text out: every cell is read as the string it is ("007" stays "007", "NA" and
    # "TRUE" stay as written, empty stays empty), which also gives every chunk the same schema
    yield from pd.read_csv(path, sep=sep, chunksize=chunk_size, dtype=str,
                           keep_default_na=False, na_filter=False)


def count_rows(path: Path) -> int | None:
    """Rows of a parquet table (from its metadata); None for text, which would need a pass."""
    if table_format(path) is None:
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return None


def embed_table(embedder, source, out, *, smiles_column: str = "smiles", chunk_size: int = 10000,
                verbose=0, prefix: str = "infoalign_") -> tuple[int, int]:
    """Stream ``source`` (CSV / TSV / parquet) through ``embedder`` into ``out``.

    Output = the input columns, a boolean ``infoalign_valid`` column and one column per
    representation dimension (empty where the SMILES is invalid). Written atomically as parquet
    or CSV by the extension of ``out``. Columns of a text input are carried through as the text
    they hold (string columns in parquet output); parquet input keeps its types. Returns
    (rows, invalid rows).
    """
    source, out = Path(source), Path(out)
    if out.suffix.lower() not in EMBED_OUTPUT_SUFFIXES:
        raise ValueError(f"--out must end in .parquet or .csv, got {out.name}")
    bar = tqdm(total=count_rows(source), desc="embedding", unit="mol") if verbose else None
    n_rows = n_invalid = 0
    source_schema = None
    if table_format(source) is None:
        import pyarrow.parquet as pq

        source_schema = pq.ParquetFile(source).schema_arrow
    with atomic_file(out, "wb") as fh:
        writer = ChunkWriter(fh, csv=out.suffix.lower() == ".csv", source_schema=source_schema)
        try:
            for frame in read_chunks(source, chunk_size):
                result = embed_frame(embedder, frame, smiles_column=smiles_column,
                                     prefix=prefix, source_name=source.name)
                writer.write(result)
                n_rows += len(frame)
                n_invalid += int((~result[VALID_COLUMN]).sum())
                if bar is not None:
                    bar.update(len(frame))
        finally:
            writer.close()
    if bar is not None:
        bar.close()
    return n_rows, n_invalid


def embed_frame(embedder, frame: pd.DataFrame, *, smiles_column: str = "smiles",
                prefix: str = "infoalign_", source_name: str = "the input") -> pd.DataFrame:
    """One chunk of :func:`embed_table`: ``frame``'s columns, ``infoalign_valid`` and the
    representation columns ``<prefix>0 ...`` (NaN where the SMILES is empty or invalid).

    ``embedder``: a fitted embedder or a fingerprint transformer (``n_bits`` columns), with
    ``errors="nan"``."""
    if smiles_column not in frame.columns:
        raise KeyError(
            f"column {smiles_column!r} not in {source_name}; columns are {list(frame.columns)[:10]}"
        )
    smiles = frame[smiles_column]
    present = smiles.notna().to_numpy() & (smiles.astype(str).str.strip() != "").to_numpy()
    Z = np.full((len(frame), output_width(embedder)), np.nan, dtype=np.float32)
    valid = np.zeros(len(frame), dtype=bool)
    if present.any():
        rows = np.flatnonzero(present)
        Z[rows] = embedder.transform(smiles.iloc[rows].astype(str).tolist())
        valid[rows] = ~np.isnan(Z[rows, 0])
    names = [f"{prefix}{i}" for i in range(Z.shape[1])]
    clash = sorted(set(names + [VALID_COLUMN]) & set(frame.columns))
    if clash:
        raise ValueError(f"the input already has columns {clash[:5]}; rename them first")
    return pd.concat(
        [frame.reset_index(drop=True),
         pd.Series(valid, name=VALID_COLUMN),
         pd.DataFrame(Z, columns=names)], axis=1,
    )


def output_width(transformer) -> int:
    """Columns ``transformer`` adds: an embedder's ``latent_dim``, a fingerprint's ``n_bits``."""
    width = getattr(transformer, "latent_dim", None)
    return int(transformer.n_bits if width is None else width)


class ChunkWriter:
    """Appends DataFrames of one schema to an open binary file, as CSV or parquet.

    The parquet schema is fixed by the first chunk, with the types of ``source_schema`` (the
    input file's arrow schema) for the columns it has, so every later chunk is cast to it.
    """

    def __init__(self, fh, csv: bool, source_schema=None):
        self.fh, self.csv = fh, csv
        self.source_schema = source_schema
        self._parquet = None
        self._written = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.csv:
            frame.to_csv(self.fh, header=(self._written == 0), index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                schema = table.schema.remove_metadata()
                if self.source_schema is not None:
                    known = set(self.source_schema.names)
                    schema = pa.schema([self.source_schema.field(f.name) if f.name in known
                                        else f for f in schema])
                self._parquet = pq.ParquetWriter(self.fh, schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        self._written += 1

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()


def write_result_table(table: pd.DataFrame, out) -> Path:
    """Write a result table atomically: ``.csv`` as CSV, ``.md`` as the Markdown table that
    ``infoalign evaluate`` prints. Any other suffix raises ``ValueError``. Returns the path."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in RESULT_TABLE_SUFFIXES:
        raise ValueError(f"a result table must end in .csv (CSV) or .md (Markdown), "
                         f"got {out.name!r}")
    text = table.to_csv(index=False) if suffix == ".csv" else table.to_markdown(index=False) + "\n"
    with atomic_file(out, "wb") as fh:
        fh.write(text.encode("utf-8"))
    return out
