"""GCT text files and GCTX (HDF5) files: the CMap matrix formats of L1000 signatures.

A GCT file is a genes x samples matrix with metadata for both axes. The readers return it the
way the rest of the package uses profiles: **samples (signatures, wells) as rows, genes as
columns**, with the GCT's row metadata (probes / genes) in ``row_meta`` and its column metadata
(samples) in ``col_meta``.

Formats (the CMap conventions):

- ``#1.2``: line 2 ``<n_rows> <n_cols>``, line 3 ``Name Description <sample ids>``, then one
  line per gene: ``<id> <description> <values>``.
- ``#1.3``: line 2 ``<n_rows> <n_cols> <n_row_meta> <n_col_meta>``, line 3 ``id <row meta
  names> <sample ids>``, then ``n_col_meta`` lines ``<name> na ... <values>``, then one line
  per gene: ``<id> <row meta values> <values>``. Fields are tab-separated.
- GCTX: HDF5 with ``/0/DATA/0/matrix`` stored samples x genes, ``/0/META/ROW/<field>`` and
  ``/0/META/COL/<field>`` one dataset per metadata field, ``id`` among them.

CMap writes ``-666`` for a missing metadata value; the readers turn it into NaN.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._common import FileFormatError, PathLike, check_file

__all__ = ["CMAP_NULL", "GCTData", "metadata_frame", "read_gct", "read_gctx", "symbol_columns"]

CMAP_NULL = "-666"
MISSING_TEXT = {"", "na", "nan", "NA", "NaN", "-666"}


@dataclass(frozen=True)
class GCTData:
    """An L1000 matrix with its metadata, samples as rows.

    Attributes
    ----------
    data : DataFrame
        Samples x genes (float64). Index: sample ids (the GCT's column ids). Columns: gene
        symbols when the row metadata has ``pr_gene_symbol`` and symbols were asked for,
        otherwise the GCT's row ids (probe ids such as ``200814_at``).
    row_meta : DataFrame
        One row per gene, in the order of ``data.columns``; index: the GCT's row ids.
    col_meta : DataFrame
        One row per sample, in the order of ``data.index``.
    version : str
        ``"#1.2"``, ``"#1.3"``, ``"GCTX"`` or ``"CSV"``.
    """

    data: pd.DataFrame
    row_meta: pd.DataFrame
    col_meta: pd.DataFrame
    version: str = "#1.3"

    def __post_init__(self) -> None:
        if self.data.shape != (len(self.col_meta), len(self.row_meta)):
            raise ValueError(
                f"data has shape {self.data.shape} but there are {len(self.col_meta)} samples "
                f"in col_meta and {len(self.row_meta)} genes in row_meta")

    @property
    def shape(self) -> tuple[int, int]:
        """(n_samples, n_genes)."""
        return self.data.shape

    def __repr__(self) -> str:
        return (f"GCTData({self.version}, {self.shape[0]} samples x {self.shape[1]} genes, "
                f"{self.row_meta.shape[1]} row / {self.col_meta.shape[1]} column metadata "
                "fields)")


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", newline="")
    return open(path, newline="")


def _split(line: str) -> list[str]:
    return line.rstrip("\r\n").split("\t")


def _parse_int(text: str, what: str, source: str, line: int, field: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise FileFormatError(f"{what} must be an integer, got {text!r}", source, line,
                              field) from None
    if value < 0:
        raise FileFormatError(f"{what} must be >= 0, got {value}", source, line, field)
    return value


def _values_to_float(rows: list[list[str]], first_line: int, offset: int,
                     source: str) -> np.ndarray:
    """Text cells to float64; the first bad cell is reported by line and field number."""
    if not rows:
        return np.empty((0, 0))
    cells = np.array(rows, dtype=object)[:, offset:]
    missing = np.isin(cells, list(MISSING_TEXT))
    cells[missing] = "nan"
    try:
        return cells.astype(np.float64)
    except ValueError:
        for i, row in enumerate(cells):
            for j, cell in enumerate(row):
                try:
                    float(cell)
                except ValueError:
                    raise FileFormatError(
                        f"non-numeric data value {cell!r}", source, first_line + i,
                        offset + j + 1) from None
        raise


def metadata_frame(fields: dict[str, list], index: Sequence[str], name: str) -> pd.DataFrame:
    """Metadata columns: numbers where a whole column is numeric, CMap's -666 as NaN."""
    frame = pd.DataFrame(index=pd.Index(list(index), name=name))
    for key, values in fields.items():
        series = pd.Series(list(values), index=frame.index, dtype=object)
        if series.map(lambda v: isinstance(v, (bytes, np.bytes_))).any():
            series = series.map(lambda v: v.decode("utf-8", "replace")
                                if isinstance(v, (bytes, np.bytes_)) else v)
        series = series.mask(series.astype(str).str.strip().isin([CMAP_NULL, "-666.0"]))
        numeric = pd.to_numeric(series, errors="coerce")
        frame[key] = numeric if numeric.notna().sum() == series.notna().sum() else series
    return frame


def symbol_columns(row_meta: pd.DataFrame, gene_symbols: bool,
                    symbol_column: str) -> pd.Index:
    """Gene symbols as column names when they exist and are unique; probe ids otherwise."""
    if not gene_symbols or symbol_column not in row_meta.columns:
        return pd.Index(row_meta.index.astype(str), name="gene")
    symbols = row_meta[symbol_column].astype(str)
    missing = row_meta[symbol_column].isna().to_numpy()
    # a probe without a symbol, or a symbol measured by two probes, keeps its probe id
    duplicated = symbols.duplicated(keep=False).to_numpy()
    names = np.where(missing | duplicated, row_meta.index.astype(str), symbols)
    return pd.Index(names, name="gene")


def read_gct(path: PathLike, *, gene_symbols: bool = True,
             symbol_column: str = "pr_gene_symbol") -> GCTData:
    """Read a GCT text file (versions #1.2 and #1.3).

    Parameters
    ----------
    path : path
        ``.gct`` file (``.gct.gz`` works too).
    gene_symbols : bool
        Name the gene columns by ``symbol_column`` of the row metadata where present and
        unique; probe ids otherwise.
    symbol_column : str
        Row metadata field holding gene symbols.

    Returns
    -------
    GCTData
        ``data`` is samples x genes.

    Raises
    ------
    FileFormatError
        Unknown version line, a dimensions line with the wrong number of fields or
        non-integers, a header or data line with the wrong number of fields, fewer or more
        data lines than declared, or a non-numeric value; each names the line.

    Examples
    --------
    >>> import tempfile, os
    >>> text = "#1.2\\n2\\t2\\nName\\tDescription\\ts1\\ts2\\ng1\\tA\\t1\\t2\\ng2\\tB\\t3\\t4\\n"
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.gct")
    >>> _ = open(path, "w").write(text)
    >>> read_gct(path).data.loc["s2"].tolist()
    [2.0, 4.0]
    """
    text = _GctLines(check_file(path))
    version = text.version()
    n_rows, n_cols, n_row_meta, n_col_meta = text.dimensions(version)
    width = 1 + n_row_meta + n_cols
    row_meta_names, sample_ids = text.header(version, n_row_meta, width)
    col_fields = text.column_metadata(n_col_meta, n_row_meta, width)
    first_data = 4 + n_col_meta
    rows = text.data_rows(first_data, n_rows, width)
    values = _values_to_float(rows, first_data, 1 + n_row_meta, text.source)
    row_ids = [fields[0] for fields in rows]
    row_fields = {name: [fields[1 + j] for fields in rows]
                  for j, name in enumerate(row_meta_names)}
    # some CMap files repeat the sample ids as a column metadata field called "id"
    if col_fields.get("id") == sample_ids:
        del col_fields["id"]
    row_meta = metadata_frame(row_fields, row_ids, "rid")
    col_meta = metadata_frame(col_fields, sample_ids, "cid")
    return _assemble(values.T if values.size else np.empty((n_cols, n_rows)), row_meta,
                     col_meta, version, gene_symbols, symbol_column)


class _GctLines:
    """The lines of a GCT text file, read part by part with errors naming the line."""

    def __init__(self, path: Path) -> None:
        self.source = str(path)
        try:
            with _open_text(path) as fh:
                self.lines = fh.read().split("\n")
        except UnicodeDecodeError as exc:
            raise FileFormatError(f"not UTF-8 text (byte {exc.start}); a GCT file is UTF-8 "
                                  "text, optionally gzipped", self.source) from None
        except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
            raise FileFormatError(f"cannot read: {exc}", self.source) from None
        if self.lines and self.lines[-1] == "":
            self.lines.pop()

    def at(self, number: int, what: str) -> list[str]:
        if number > len(self.lines):
            raise FileFormatError(f"file ends before the {what} (truncated?)", self.source,
                                  number)
        return _split(self.lines[number - 1])

    def version(self) -> str:
        version = self.at(1, "version line")[0].strip()
        if version not in ("#1.2", "#1.3"):
            raise FileFormatError(f"unknown GCT version {version!r}; expected '#1.2' or "
                                  "'#1.3'", self.source, 1)
        return version

    def dimensions(self, version: str) -> tuple[int, int, int, int]:
        """``(n_rows, n_cols, n_row_meta, n_col_meta)`` from line 2."""
        dims = [d for d in self.at(2, "dimensions line") if d.strip() != ""]
        expected_dims = 2 if version == "#1.2" else 4
        if len(dims) != expected_dims:
            layout = ("<n_rows> <n_cols>" if version == "#1.2"
                      else "<n_rows> <n_cols> <n_row_meta> <n_col_meta>")
            raise FileFormatError(
                f"dimensions line has {len(dims)} field(s) {dims}; GCT {version} needs "
                f"{expected_dims}: {layout}", self.source, 2)
        names = ("number of rows", "number of columns", "number of row metadata fields",
                 "number of column metadata fields")
        numbers = [_parse_int(d, n, self.source, 2, i + 1)
                   for i, (d, n) in enumerate(zip(dims, names))]
        n_row_meta, n_col_meta = (numbers[2], numbers[3]) if version == "#1.3" else (1, 0)
        return numbers[0], numbers[1], n_row_meta, n_col_meta

    def header(self, version: str, n_row_meta: int, width: int):
        """``(row metadata names, sample ids)`` from line 3."""
        header = self.at(3, "header line")
        if len(header) != width:
            raise FileFormatError(
                f"header line has {len(header)} fields, expected {width} (1 id + {n_row_meta} "
                f"row metadata + {width - 1 - n_row_meta} sample columns, from the dimensions "
                "line)", self.source, 3)
        row_meta_names = ["Description"] if version == "#1.2" else header[1:1 + n_row_meta]
        sample_ids = header[1 + n_row_meta:]
        if len(set(sample_ids)) != len(sample_ids):
            dup = pd.Index(sample_ids)[pd.Index(sample_ids).duplicated()][0]
            raise FileFormatError(f"sample id {dup!r} appears twice in the header", self.source,
                                  3)
        return row_meta_names, sample_ids

    def column_metadata(self, n_col_meta: int, n_row_meta: int, width: int) -> dict:
        col_fields: dict[str, list[str]] = {}
        for k in range(n_col_meta):
            number = 4 + k
            fields = self.at(number, f"column metadata line {k + 1} of {n_col_meta}")
            if len(fields) != width:
                raise FileFormatError(
                    f"column metadata line has {len(fields)} fields, expected {width}",
                    self.source, number)
            col_fields[fields[0]] = fields[1 + n_row_meta:]
        return col_fields

    def data_rows(self, first_data: int, n_rows: int, width: int) -> list[list[str]]:
        body = self.lines[first_data - 1:]
        while body and body[-1].strip() == "":
            body.pop()
        if len(body) < n_rows:
            raise FileFormatError(
                f"truncated: the dimensions line declares {n_rows} data rows, the file has "
                f"{len(body)}", self.source, first_data + len(body))
        if len(body) > n_rows:
            raise FileFormatError(
                f"{len(body) - n_rows} more data line(s) than the {n_rows} declared on line 2",
                self.source, first_data + n_rows)
        rows = [_split(line) for line in body]
        for i, fields in enumerate(rows):
            if len(fields) != width:
                raise FileFormatError(f"data line has {len(fields)} fields, expected {width}",
                                      self.source, first_data + i)
        return rows


def _assemble(samples_by_genes: np.ndarray, row_meta: pd.DataFrame, col_meta: pd.DataFrame,
              version: str, gene_symbols: bool, symbol_column: str) -> GCTData:
    columns = symbol_columns(row_meta, gene_symbols, symbol_column)
    data = pd.DataFrame(np.asarray(samples_by_genes, dtype=np.float64),
                        index=pd.Index(col_meta.index, name="cid"), columns=columns)
    return GCTData(data, row_meta, col_meta, version)


def _import_h5py():
    try:
        import h5py
    except ImportError as exc:
        raise ImportError(
            "Reading GCTX (HDF5) files needs h5py, an optional dependency: "
            "pip install 'infoalign-sklearn[gctx]' (or pip install h5py). "
            "GCT text files and CSV matrices need no extra package.") from exc
    return h5py


def read_gctx(path: PathLike, *, gene_symbols: bool = True,
              symbol_column: str = "pr_gene_symbol") -> GCTData:
    """Read a GCTX (HDF5) file in the CMap layout; needs the optional ``h5py``.

    Parameters
    ----------
    path : path
        ``.gctx`` file with ``/0/DATA/0/matrix`` (samples x genes, as CMap stores it),
        ``/0/META/ROW/id`` and ``/0/META/COL/id`` plus any other metadata fields.
    gene_symbols, symbol_column
        As in :func:`read_gct`.

    Returns
    -------
    GCTData

    Raises
    ------
    ImportError
        When h5py is not installed.
    FileFormatError
        Not an HDF5 file, a missing group or ``id`` dataset, or a matrix whose shape does not
        match the metadata.

    Examples
    --------
    >>> gct = read_gctx("LJP005_A375_24H_level4_n377x978.gctx")  # doctest: +SKIP
    >>> gct.data.shape  # doctest: +SKIP
    (377, 978)
    """
    h5py = _import_h5py()
    path = check_file(path)
    source = str(path)
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise FileFormatError(f"not a readable HDF5 (GCTX) file ({exc})", source) from exc
    with handle:
        for node in ("0/DATA/0/matrix", "0/META/ROW/id", "0/META/COL/id"):
            if node not in handle:
                raise FileFormatError(
                    f"missing HDF5 dataset /{node}; a CMap GCTX file has /0/DATA/0/matrix, "
                    "/0/META/ROW/<fields> and /0/META/COL/<fields>", source)
        matrix = handle["0/DATA/0/matrix"]
        row_group, col_group = handle["0/META/ROW"], handle["0/META/COL"]
        row_fields = {k: row_group[k][()] for k in row_group if k != "id"}
        col_fields = {k: col_group[k][()] for k in col_group if k != "id"}
        row_ids = [_text(v) for v in row_group["id"][()]]
        col_ids = [_text(v) for v in col_group["id"][()]]
        if matrix.shape != (len(col_ids), len(row_ids)):
            raise FileFormatError(
                f"/0/DATA/0/matrix has shape {matrix.shape}, expected (n_samples, n_genes) = "
                f"({len(col_ids)}, {len(row_ids)}) from /0/META/COL/id and /0/META/ROW/id",
                source)
        for group, fields, n in (("ROW", row_fields, len(row_ids)),
                                 ("COL", col_fields, len(col_ids))):
            for key, values in fields.items():
                if np.ndim(values) != 1 or len(values) != n:
                    raise FileFormatError(
                        f"/0/META/{group}/{key} has shape {np.shape(values)}, expected ({n},)",
                        source)
        values = np.asarray(matrix[()], dtype=np.float64)
    row_meta = metadata_frame(row_fields, row_ids, "rid")
    col_meta = metadata_frame(col_fields, col_ids, "cid")
    return _assemble(values, row_meta, col_meta, "GCTX", gene_symbols, symbol_column)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, (bytes, np.bytes_)) else str(
        value)
