"""Morgan (ECFP-like) fingerprints as numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
from rdkit.Chem import rdFingerprintGenerator

from .molecules import mol_from_input


def morgan_generator(radius: int = 2, n_bits: int = 2048, chirality: bool = False):
    return rdFingerprintGenerator.GetMorganGenerator(
        radius=radius, fpSize=n_bits, includeChirality=chirality
    )


def morgan_fingerprints(
    items, radius: int = 2, n_bits: int = 2048, counts: bool = False, chirality: bool = False
) -> np.ndarray:
    """Fingerprints of a list of SMILES / Mols as float32 (n, n_bits); NaN rows where invalid.

    Examples
    --------
    >>> morgan_fingerprints(["CCO"], n_bits=64).shape
    (1, 64)
    """
    gen = morgan_generator(radius, n_bits, chirality)
    out = np.full((len(items), n_bits), np.nan, dtype=np.float32)
    for i, item in enumerate(items):
        mol = mol_from_input(item)
        if mol is None:
            continue
        out[i] = gen.GetCountFingerprintAsNumPy(mol) if counts else gen.GetFingerprintAsNumPy(mol)
    return out


@dataclass(frozen=True)
class FingerprintSpec:
    """How a context graph's molecule fingerprints are computed: Morgan radius, size, counts.

    One spec travels with a graph (``ContextGraph.fingerprint_spec``, saved in its metadata):
    the builders compute the fingerprint block with it, and ``InfoAlignEmbedder.fit(X)`` uses
    it for the targets of molecules of X that are not in the graph, so that every molecule is
    trained to decode the same kind of fingerprint.

    Parameters
    ----------
    radius : int, default=2
        Morgan radius (the authors' code uses 4).
    n_bits : int, default=1024
        Fingerprint length.
    counts : bool, default=False
        Count fingerprints (then min-max scaled in the graph, like profiles) instead of bits.

    Examples
    --------
    >>> spec = FingerprintSpec(radius=4, n_bits=64)
    >>> spec.compute(["CCO"]).shape
    (1, 64)
    >>> FingerprintSpec.from_dict(spec.to_dict()) == spec
    True
    """

    radius: int = 2
    n_bits: int = 1024
    counts: bool = False

    def __post_init__(self) -> None:
        for name in ("radius", "n_bits"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise TypeError(f"FingerprintSpec.{name} must be an int, got {value!r}")
        if self.radius < 0:
            raise ValueError(f"FingerprintSpec.radius must be >= 0, got {self.radius}")
        if self.n_bits < 1:
            raise ValueError(f"FingerprintSpec.n_bits must be >= 1, got {self.n_bits}")
        object.__setattr__(self, "radius", int(self.radius))
        object.__setattr__(self, "n_bits", int(self.n_bits))
        object.__setattr__(self, "counts", bool(self.counts))

    def compute(self, items) -> np.ndarray:
        """Raw fingerprints (bits or counts) as float32 (n, n_bits); NaN rows where invalid."""
        return morgan_fingerprints(items, radius=self.radius, n_bits=self.n_bits,
                                   counts=self.counts)

    def to_dict(self) -> dict:
        """JSON values, for graph metadata and model configs."""
        return {"radius": self.radius, "n_bits": self.n_bits, "counts": self.counts}

    @classmethod
    def from_dict(cls, values) -> FingerprintSpec:
        """The inverse of :meth:`to_dict`; unknown keys are an error."""
        unknown = sorted(set(values) - {"radius", "n_bits", "counts"})
        if unknown:
            raise ValueError(f"unknown fingerprint spec entries {unknown}")
        return cls(**dict(values))

    def __str__(self) -> str:
        kind = "counts" if self.counts else "bits"
        return f"Morgan radius {self.radius}, {self.n_bits} {kind}"
