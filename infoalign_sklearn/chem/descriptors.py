"""RDKit 2D descriptors (the ``Descriptors._descList`` set) as numpy arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit.Chem import Descriptors

from .molecules import mol_from_input

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def available_descriptors() -> list[str]:
    """Names of the 2D descriptors this RDKit computes, in RDKit's order.

    Examples
    --------
    >>> "MolLogP" in available_descriptors()
    True
    """
    return [name for name, _ in Descriptors._descList]


def descriptor_functions(names: Sequence[str]) -> list:
    """The RDKit functions of ``names``; a ValueError names every one this RDKit lacks."""
    table = dict(Descriptors._descList)
    missing = [name for name in names if name not in table]
    if missing:
        raise ValueError(
            f"RDKit {_rdkit_version()} has no descriptor(s) {missing}; it has "
            f"{len(table)} (see infoalign_sklearn.chem.descriptors.available_descriptors())"
        )
    return [table[name] for name in names]


def rdkit_descriptors(items, names: Sequence[str], *, return_valid: bool = False):
    """Descriptors ``names`` of a list of SMILES / Mols as float32 (n, len(names)).

    An invalid molecule gives a row of NaN. A descriptor that fails on a valid molecule, or
    whose value is not finite or beyond float32's range (``Ipc`` of large molecules), gives NaN
    in that cell only: such rows are valid molecules with missing descriptor values, to be
    imputed downstream (for example with training medians). ``return_valid=True`` also returns
    the boolean mask of valid molecules.

    Examples
    --------
    >>> rdkit_descriptors(["CCO", "not a smiles"], ["HeavyAtomCount"]).tolist()
    [[3.0], [nan]]
    """
    functions = descriptor_functions(names)
    out = np.full((len(items), len(functions)), np.nan, dtype=np.float32)
    valid = np.zeros(len(items), dtype=bool)
    for i, item in enumerate(items):
        mol = mol_from_input(item)
        if mol is None:
            continue
        valid[i] = True
        row = np.full(len(functions), np.nan)
        for j, func in enumerate(functions):
            try:
                row[j] = float(func(mol))
            except Exception:  # RDKit raises several kinds on unusual molecules; NaN cell
                continue
        row[~np.isfinite(row) | (np.abs(row) > _FLOAT32_MAX)] = np.nan
        out[i] = row
    return (out, valid) if return_valid else out


def _rdkit_version() -> str:
    import rdkit

    return rdkit.__version__
