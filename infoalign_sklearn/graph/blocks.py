"""Feature blocks of the graph and their scaling: one rule for the builders, the embedders and
decoding.

Profiles are min-max scaled per column to [0, 1] with the graph's raw-unit bounds; a constant
column maps to 0 (span taken as 1), NaN stays NaN, new values outside the bounds are clipped.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Bounds:
    """Raw-unit lower / upper bound of each feature column, with the scaling both ways.

    Examples
    --------
    >>> import numpy as np
    >>> b = Bounds.of(np.array([[1.0, 5.0], [3.0, 5.0]], np.float32))
    >>> b.scale(np.array([[2.0, 5.0], [9.0, 4.0]], np.float32)).tolist()
    [[0.5, 0.0], [1.0, 0.0]]
    >>> b.inverse(np.array([[0.5, 0.0]], np.float32)).tolist()
    [[2.0, 5.0]]
    """

    lower: np.ndarray
    upper: np.ndarray

    def __post_init__(self) -> None:
        lower = np.asarray(self.lower, dtype=np.float32)
        upper = np.asarray(self.upper, dtype=np.float32)
        if lower.ndim != 1 or lower.shape != upper.shape:
            raise ValueError(f"lower / upper must be 1-D of equal length, got {lower.shape}, "
                             f"{upper.shape}")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)

    @classmethod
    def of(cls, raw) -> Bounds:
        """Column-wise NaN-ignoring min and max of ``raw`` (n, d); all-NaN columns get NaN."""
        raw = np.asarray(raw, dtype=np.float32)
        if raw.shape[0] == 0:
            nan = np.full(raw.shape[1], np.nan, dtype=np.float32)
            return cls(nan, nan.copy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            return cls(np.nanmin(raw, axis=0), np.nanmax(raw, axis=0))

    @property
    def span(self) -> np.ndarray:
        """``upper - lower`` with constant (or unknown) columns taken as 1."""
        span = self.upper - self.lower
        return np.where(span > 0, span, np.float32(1)).astype(np.float32)

    def scale(self, raw, out=None) -> np.ndarray:
        """Raw units -> [0, 1] float32 (clipped; NaN kept). ``out=raw`` scales in place."""
        raw = np.asarray(raw, dtype=np.float32)
        if out is None:
            out = raw.astype(np.float32, copy=True)
        with np.errstate(invalid="ignore"):
            np.subtract(raw, self.lower, out=out)
            np.divide(out, self.span, out=out)
        # float32 rounding can step just outside [0, 1]; NaN passes through clip unchanged
        return np.clip(out, 0.0, 1.0, out=out)

    def inverse(self, values) -> np.ndarray:
        """[0, 1] values -> raw units, float32."""
        values = np.asarray(values, dtype=np.float32)
        return (self.lower + values * (self.upper - self.lower)).astype(np.float32)


def minmax_scale(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale each column to [0, 1] in place with :class:`Bounds`; return ``(values, lower, upper)``.

    NaN stays NaN. A constant column scales to 0; an all-NaN column has NaN bounds.

    Examples
    --------
    >>> import numpy as np
    >>> v, lo, hi = minmax_scale(np.array([[1.0, 5.0], [3.0, 5.0]], np.float32))
    >>> v.tolist(), lo.tolist(), hi.tolist()
    ([[0.0, 0.0], [1.0, 0.0]], [1.0, 5.0], [3.0, 5.0])
    """
    values = np.asarray(values, dtype=np.float32)
    bounds = Bounds.of(values)
    return bounds.scale(values, out=values), bounds.lower, bounds.upper


def frozen(array: np.ndarray, dtype=None) -> np.ndarray:
    """Read-only C-contiguous ``array`` (no copy when it already is one)."""
    # takes ownership instead of copying: feature blocks can be gigabytes
    out = np.ascontiguousarray(array, dtype=dtype)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class FeatureBlock:
    """Features of one modality, stored only for the nodes that have them.

    Parameters
    ----------
    rows : ndarray of int64, shape (n_nodes,)
        Row of ``values`` holding each node's features, ``-1`` where the node has none.
    values : ndarray of float32, shape (n_rows, n_features)
        Features scaled to [0, 1] (fingerprints: bits); NaN marks a missing measurement.
    lower, upper : ndarray of float32, shape (n_features,)
        Raw-unit bounds of each column (``raw = lower + value * (upper - lower)``).
    columns : tuple of str
        Feature names.
    binary : bool
        True for bit features (fingerprints), which are not scaled.

    Arrays passed in are made read-only and kept, not copied.

    Examples
    --------
    >>> import numpy as np
    >>> block = FeatureBlock(np.array([0, -1]), np.array([[0.5]], np.float32),
    ...                      np.array([0.0], np.float32), np.array([2.0], np.float32), ("a",))
    >>> block.take([0, 1]).tolist()
    [[0.5], [nan]]
    """

    rows: np.ndarray
    values: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    columns: tuple
    binary: bool = False

    def __post_init__(self) -> None:
        rows = frozen(self.rows, np.int64)
        values = frozen(self.values, np.float32)
        if values.ndim != 2:
            raise ValueError(f"values must be 2-D, got shape {values.shape}")
        lower = frozen(self.lower, np.float32)
        upper = frozen(self.upper, np.float32)
        columns = tuple(str(c) for c in self.columns)
        d = values.shape[1]
        if lower.shape != (d,) or upper.shape != (d,) or len(columns) != d:
            raise ValueError(
                f"bounds / columns must have length {d} (features), got {lower.shape}, "
                f"{upper.shape}, {len(columns)}"
            )
        present = rows[rows >= 0]
        if present.size and present.max() >= values.shape[0]:
            raise ValueError("rows point past the end of values")
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "binary", bool(self.binary))

    def __deepcopy__(self, memo) -> FeatureBlock:
        return self

    def __setstate__(self, state: dict) -> None:
        # unpickled arrays come back writeable
        for value in state.values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        self.__dict__.update(state)

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return self.values.shape[1]

    def has(self, nodes) -> np.ndarray:
        """Boolean mask: which of ``nodes`` (indices, ``-1`` allowed) carry this block."""
        nodes = np.asarray(nodes, dtype=np.int64)
        out = np.zeros(nodes.shape, dtype=bool)
        ok = nodes >= 0
        out[ok] = self.rows[nodes[ok]] >= 0
        return out

    def take(self, nodes) -> np.ndarray:
        """Scaled features of ``nodes`` as float32 (n, d); NaN rows for nodes without them.

        ``-1`` (a stuck walk step) is accepted and gives a NaN row.
        """
        nodes = np.asarray(nodes, dtype=np.int64)
        out = np.full(nodes.shape + (self.n_features,), np.nan, dtype=np.float32)
        ok = nodes >= 0
        rows = np.full(nodes.shape, -1, dtype=np.int64)
        rows[ok] = self.rows[nodes[ok]]
        have = rows >= 0
        out[have] = self.values[rows[have]]
        return out

    @property
    def bounds(self) -> Bounds:
        """The block's raw-unit :class:`Bounds` (lower / upper of each column)."""
        return Bounds(self.lower, self.upper)

    def subset(self, keep: np.ndarray) -> FeatureBlock:
        """The block of the graph induced by the node indices ``keep`` (bounds unchanged)."""
        rows = self.rows[keep]
        present = rows >= 0
        new_rows = np.full(len(keep), -1, dtype=np.int64)
        new_rows[present] = np.arange(int(present.sum()))
        return FeatureBlock(new_rows, self.values[rows[present]], self.lower, self.upper,
                            self.columns, self.binary)

    def inverse_scale(self, values) -> np.ndarray:
        """Map scaled values (..., d) back to raw units."""
        values = np.asarray(values, dtype=np.float32)
        if self.binary:
            return values.copy()
        return self.bounds.inverse(values)
