"""Embedding tables of molecules: every input row and column kept, representations added."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ._io import atomic_file

VALID_COLUMN = "infoalign_valid"


def _chunks(path: Path, chunk_size: int):
    name = path.name.lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
            yield batch.to_pandas()
        return
    sep = "\t" if name.endswith((".tsv", ".tsv.gz", ".txt")) else ","
    yield from pd.read_csv(path, sep=sep, chunksize=chunk_size)


def _count_rows(path: Path) -> int | None:
    if path.name.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return None


def embed_table(embedder, source, out, *, smiles_column: str = "smiles", chunk_size: int = 10000,
                verbose=0, prefix: str = "infoalign_") -> tuple[int, int]:
    """Stream ``source`` (CSV / TSV / parquet) through ``embedder`` into ``out``.

    Output = the input columns, a boolean ``infoalign_valid`` column and one column per
    representation dimension (empty where the SMILES is invalid). Written atomically as parquet
    or CSV by the extension of ``out``. Returns (rows, invalid rows).
    """
    source, out = Path(source), Path(out)
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise ValueError(f"--out must end in .parquet or .csv, got {out.name}")
    total = _count_rows(source)
    bar = tqdm(total=total, desc="embedding", unit="mol") if verbose else None
    n_rows = n_invalid = 0
    writer = None
    with atomic_file(out, "wb") as fh:
        for k, frame in enumerate(_chunks(source, chunk_size)):
            if smiles_column not in frame.columns:
                raise KeyError(
                    f"column {smiles_column!r} not in {source.name}; columns are {list(frame.columns)[:10]}"
                )
            smiles = frame[smiles_column]
            present = smiles.notna().to_numpy() & (smiles.astype(str).str.strip() != "").to_numpy()
            Z = np.full((len(frame), embedder.latent_dim), np.nan, dtype=np.float32)
            valid = np.zeros(len(frame), dtype=bool)
            if present.any():
                rows = np.flatnonzero(present)
                Z[rows] = embedder.transform(smiles.iloc[rows].astype(str).tolist())
                valid[rows] = ~np.isnan(Z[rows, 0])
            names = [f"{prefix}{i}" for i in range(Z.shape[1])]
            clash = sorted(set(names + [VALID_COLUMN]) & set(frame.columns))
            if clash:
                raise ValueError(f"the input already has columns {clash[:5]}; rename them first")
            result = pd.concat(
                [frame.reset_index(drop=True),
                 pd.Series(valid, name=VALID_COLUMN),
                 pd.DataFrame(Z, columns=names)], axis=1,
            )
            if out.suffix.lower() == ".csv":
                result.to_csv(fh, header=(k == 0), index=False)
            else:
                import pyarrow as pa
                import pyarrow.parquet as pq

                table = pa.Table.from_pandas(result, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(fh, table.schema)
                writer.write_table(table.cast(writer.schema))
            n_rows += len(frame)
            n_invalid += int((~valid).sum())
            if bar is not None:
                bar.update(len(frame))
        if writer is not None:
            writer.close()
    if bar is not None:
        bar.close()
    return n_rows, n_invalid


def write_result_table(table: pd.DataFrame, out) -> Path:
    """Write a result table atomically: ``.csv`` as CSV, ``.md`` as the Markdown table that
    ``infoalign evaluate`` prints. Any other suffix raises ``ValueError``. Returns the path."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        text = table.to_csv(index=False)
    elif suffix == ".md":
        text = table.to_markdown(index=False) + "\n"
    else:
        raise ValueError(f"a result table must end in .csv (CSV) or .md (Markdown), "
                         f"got {out.name!r}")
    with atomic_file(out, "wb") as fh:
        fh.write(text.encode("utf-8"))
    return out
