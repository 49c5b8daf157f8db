"""Shared pieces of the readers: the error type, table loading, replicate aggregation."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

PathLike = str | os.PathLike
LINK_COLUMNS = ["source", "target", "kind", "weight"]
AGGREGATE_OPTIONS = ("perturbation_dose", "perturbation", None)
CONTROLS_OPTIONS = ("exclude", "keep")


class FileFormatError(ValueError):
    """A file (or table) does not have the layout its reader expects.

    The message names the file and, where known, the 1-based line and the column.

    Attributes
    ----------
    path : str or None
        The file, or a short description such as ``"<DataFrame>"``.
    line : int or None
        1-based line number in the file.
    column : str or int or None
        Column name, or 1-based field number for headerless formats.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None,
                 column: str | int | None = None):
        self.path, self.line, self.column = path, line, column
        where = [f"{path}" if path else None, f"line {line}" if line is not None else None,
                 f"column {column!r}" if column is not None else None]
        prefix = ", ".join(w for w in where if w)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class Profiles(NamedTuple):
    """Profiles read from a table: per-node metadata and numeric features, same index.

    The index holds graph node ids (``cp:...``, ``ge:...``), so ``features`` can be passed to
    ``ContextGraph.from_tables(profiles={modality: features})`` as it is.
    """

    metadata: pd.DataFrame
    features: pd.DataFrame


def source_name(path_or_frame) -> str:
    if isinstance(path_or_frame, pd.DataFrame):
        return "<DataFrame>"
    return str(path_or_frame)


def check_file(path: PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {path}")
    return path


#: File name endings read as parquet; every other table is delimited text.
PARQUET_SUFFIXES = (".parquet", ".pq")
#: File name endings (before an optional ``.gz``) of tab-separated text; others use commas.
TAB_SUFFIXES = (".tsv", ".txt", ".sif")


def table_format(path: PathLike) -> str | None:
    """How a table file is read, by its name: ``None`` for parquet, else the field separator.

    ``.parquet`` / ``.pq`` are parquet; ``.tsv``, ``.txt`` and ``.sif`` (also gzipped, e.g.
    ``.tsv.gz``) are tab-separated; anything else (``.csv``, ``.csv.gz`` ...) comma-separated.

    Examples
    --------
    >>> table_format("profiles.pq") is None, table_format("a.tsv.gz"), table_format("a.csv.gz")
    (True, '\\t', ',')
    """
    name = Path(path).name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return None
    stem = name[:-3] if name.endswith(".gz") else name
    return "\t" if stem.endswith(TAB_SUFFIXES) else ","


def read_table(path_or_frame, sep: str | None = None, **kwargs) -> pd.DataFrame:
    """A table file to a DataFrame (a DataFrame passes through, copied).

    The format follows the file name (:func:`table_format`): parquet (``.parquet``, ``.pq``),
    tab-separated (``.tsv``, ``.txt``, ``.sif``, also ``.gz``) or comma-separated text
    (``.csv``, ``.csv.gz``, anything else). ``sep`` overrides the separator of a text file;
    ``kwargs`` go to ``pandas.read_csv`` (text files only). A missing file raises
    ``FileNotFoundError``, an unparsable one :class:`FileFormatError`.
    """
    if isinstance(path_or_frame, pd.DataFrame):
        return path_or_frame.copy()
    path = check_file(path_or_frame)
    detected = table_format(path)
    if detected is None:
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise FileFormatError(f"cannot read as a parquet file ({exc})", str(path)) from None
    sep = detected if sep is None else sep
    try:
        return pd.read_csv(path, sep=sep, low_memory=False, **kwargs)
    except pd.errors.ParserError as exc:
        raise FileFormatError(f"cannot parse as a {'tab' if sep == chr(9) else sep!r}-separated "
                              f"table ({exc})", str(path)) from exc
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r}); "
                              "save the table as UTF-8", str(path)) from None
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise FileFormatError(f"cannot read: {exc} (is it really "
                              f"{'gzipped' if path.name.lower().endswith('.gz') else 'a text table'}?)",
                              str(path)) from None


def require_columns(frame: pd.DataFrame, columns: Sequence[str], source: str,
                    what: str = "column") -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(map(repr, list(frame.columns)[:12]))
        more = " ..." if frame.shape[1] > 12 else ""
        raise FileFormatError(
            f"missing {what}{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}; "
            f"the table has {shown}{more}", source)


def numeric_features(frame: pd.DataFrame, source: str, header_lines: int = 1,
                     what: str = "feature",
                     hint: str = "Feature columns must be numbers; give metadata columns the "
                                 "metadata prefix.") -> pd.DataFrame:
    """Convert every column to float64; the first non-numeric cell is reported by line and column.

    ``header_lines`` turns a 0-based row position into the 1-based line of a CSV file.
    """
    out = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            converted = pd.to_numeric(values, errors="coerce")
            bad = converted.isna().to_numpy() & values.notna().to_numpy()
            if bad.any():
                pos = int(np.flatnonzero(bad)[0])
                line = pos + header_lines + 1 if source != "<DataFrame>" else None
                raise FileFormatError(
                    f"non-numeric {what} value {values.iloc[pos]!r} (row {pos}); "
                    f"{int(bad.sum())} such cell(s) in this column. {hint}",
                    source, line, column)
            values = converted
        out[column] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def select_features(features: pd.DataFrame) -> pd.DataFrame:
    """Keep the columns that are finite everywhere and not constant.

    Parameters
    ----------
    features : DataFrame
        Numeric feature table (rows = wells or profiles).

    Returns
    -------
    DataFrame
        The same rows, only the informative columns, in their original order.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 3.0], "c": [1.0, float("nan")]})
    >>> list(select_features(df).columns)
    ['a']
    """
    values = features.to_numpy(dtype=np.float64)
    finite = np.isfinite(values).all(axis=0)
    with np.errstate(invalid="ignore"):
        varying = np.nanmax(values, axis=0) > np.nanmin(values, axis=0) if len(values) else finite
    return features.loc[:, finite & varying]


def check_option(name: str, value, options) -> None:
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")


def format_dose(dose: float) -> str | None:
    """Six significant digits: the same dose written as 3.3333 or 3.33330 gives one id."""
    if dose is None or (isinstance(dose, float) and math.isnan(dose)):
        return None
    return f"{dose:.6g}"


def profile_node_ids(perturbations: pd.Series, doses: pd.Series | None, prefix: str) -> pd.Series:
    """``<prefix><perturbation>`` or ``<prefix><perturbation>@<dose>`` for every row."""
    text = perturbations.astype(str)
    if doses is None:
        return prefix + text
    dose_text = doses.map(format_dose)
    return pd.Series([f"{prefix}{p}" if d is None else f"{prefix}{p}@{d}"
                      for p, d in zip(text, dose_text)], index=perturbations.index)


def aggregate_profiles(metadata: pd.DataFrame, features: pd.DataFrame,
                       node_ids: pd.Series) -> Profiles:
    """Median of the features per node id; metadata keeps the columns constant within a node.

    Metadata values that differ between replicates of one node (wells, plates) become NaN, and
    ``n_replicates`` counts the wells behind each profile.
    """
    labels = pd.Index(node_ids.to_numpy(), name="node_id")
    feats = features.set_axis(labels, axis=0).groupby(level=0, sort=True).median()
    meta = metadata.set_axis(labels, axis=0)
    grouped = meta.groupby(level=0, sort=True)
    first = grouped.first()
    varying = grouped.nunique(dropna=False) > 1
    first = first.astype(object).mask(varying.reindex(columns=first.columns, fill_value=False))
    first = first.reindex(columns=meta.columns)
    first["n_replicates"] = grouped.size()
    return Profiles(first.loc[feats.index], feats)


def split_controls(is_control: np.ndarray, controls: str, source: str,
                   control_values: Sequence[str]) -> np.ndarray:
    """Rows to keep under the ``controls`` option, warning when no named control was found."""
    if controls == "keep":
        return np.ones(len(is_control), dtype=bool)
    if len(control_values) and not is_control.any():
        warnings.warn(f"{source}: no control rows found to exclude; check control_values.",
                      UserWarning, stacklevel=3)
    return ~is_control


def empty_links() -> pd.DataFrame:
    return pd.DataFrame({"source": pd.Series(dtype=str), "target": pd.Series(dtype=str),
                         "kind": pd.Series(dtype=str), "weight": pd.Series(dtype=np.float64)})


def make_links(source, target, kind: str, weight=1.0, undirected: bool = True) -> pd.DataFrame:
    """Links table in the ``from_tables`` format, without self-loops and duplicates.

    With ``undirected`` a pair and its reverse count as one link (the first one seen is kept).
    """
    links = pd.DataFrame({"source": pd.Series(source, dtype=object).astype(str).to_numpy(),
                          "target": pd.Series(target, dtype=object).astype(str).to_numpy()})
    links["kind"] = kind
    links["weight"] = np.broadcast_to(np.asarray(weight, dtype=np.float64), len(links)).copy()
    links = links[links["source"] != links["target"]]
    if undirected:
        src = links["source"].to_numpy(dtype=str)
        dst = links["target"].to_numpy(dtype=str)
        first_is_smaller = src < dst
        pairs = pd.DataFrame({"a": np.where(first_is_smaller, src, dst),
                              "b": np.where(first_is_smaller, dst, src)})
        keep = ~pairs.duplicated().to_numpy()
    else:
        keep = ~links[["source", "target"]].duplicated()
    return links[keep].reset_index(drop=True)
