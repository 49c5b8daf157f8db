"""Feature scaling of the graph's blocks: one rule for the builders, the embedders and decoding.

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
