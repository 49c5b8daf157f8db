"""Morgan (ECFP-like) fingerprints as numpy arrays."""

from __future__ import annotations

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
