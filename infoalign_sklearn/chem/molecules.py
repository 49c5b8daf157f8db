"""The package's single policy for turning user input into RDKit molecules.

Every estimator that takes molecules goes through :func:`check_molecule_input` (shape and type
checks, cheap, done once in the calling process) and :func:`raise_or_mask_invalid` (after
parsing, which may happen in worker processes). Parsing itself is :func:`mol_from_input`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from rdkit import Chem, RDLogger

ERRORS_OPTIONS = ("raise", "nan")

# RDKit prints a line to stderr for every SMILES it cannot parse; we report them all at once.
RDLogger.DisableLog("rdApp.*")


class InvalidMoleculeError(ValueError):
    """Raised when some inputs are not valid molecules.

    Attributes
    ----------
    indices : list of int
        Positions (0-based) of every invalid input.
    values : list
        The offending inputs, in the same order.
    """

    def __init__(self, indices: Sequence[int], values: Sequence[object], max_shown: int = 20):
        self.indices = list(indices)
        self.values = list(values)
        shown = ", ".join(f"[{i}] {'missing' if v is None else repr(v)}"
                          for i, v in zip(self.indices[:max_shown], self.values))
        more = len(self.indices) - max_shown
        tail = f", ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{len(self.indices)} invalid SMILES/molecule(s) at index {shown}{tail}. "
            "Fix or remove them, or pass errors='nan' to get NaN rows in their place."
        )


def check_errors_option(errors: str) -> None:
    """Refuse anything but ``"raise"`` and ``"nan"`` (a typo must not turn strict lenient)."""
    if not isinstance(errors, str) or errors not in ERRORS_OPTIONS:
        raise ValueError(f"errors must be one of {ERRORS_OPTIONS}, got {errors!r}")


_INNER_SPACE = re.compile(r"\s")


def is_missing(value) -> bool:
    """True for None, NaN, ``pd.NA`` and ``pd.NaT``: an empty cell, not a molecule."""
    if value is None:
        return True
    if isinstance(value, (str, bytes, Chem.Mol)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # array-likes: not a missing scalar
        return False


def smiles_text(smiles: str) -> str | None:
    """The SMILES to parse: surrounding whitespace removed; None when nothing is left or when
    whitespace remains inside (RDKit would read what follows it as a name and parse a
    truncated molecule: ``"C C O"`` as methane)."""
    text = smiles.strip()
    if not text or _INNER_SPACE.search(text):
        return None
    return text


def check_molecule_input(X) -> list:
    """Validate the shape and types of molecule input and return it as a list.

    Accepts a list / tuple / 1-D array / pandas Series of SMILES strings or RDKit ``Mol``
    objects, or a DataFrame / 2-D array with exactly one column. Missing entries (``None``,
    NaN, ``pd.NA``: empty cells) come back as ``None``: invalid molecules like any other, named
    by the error of ``errors="raise"`` or NaN rows with ``errors="nan"``.

    Raises
    ------
    ValueError
        For empty input or several columns.
    TypeError
        For entries that are neither ``str`` nor ``Mol`` (nor missing), for a bare string, and
        for unordered containers (sets, dicts, dict views).
    """
    if X is None:
        raise ValueError("Expected a list of SMILES strings or RDKit molecules, got None.")
    if isinstance(X, (str, bytes, Chem.Mol)):
        raise TypeError(
            "Expected a list-like of SMILES or molecules, got a single "
            f"{type(X).__name__}; wrap it in a list: [{X!r}]."
        )
    if isinstance(X, (set, frozenset, dict)) or type(X).__name__ in ("dict_keys", "dict_values"):
        raise TypeError(
            f"Expected an ordered list-like of SMILES or molecules, got a {type(X).__name__}: "
            "its order is not the order of the output rows. Pass a list (e.g. sorted(X) or "
            "list(d.values()))."
        )
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(
                f"Expected one column of SMILES, got a DataFrame with {X.shape[1]} columns "
                f"{list(X.columns)[:5]}; select the SMILES column, e.g. df['smiles']."
            )
        items = X.iloc[:, 0].tolist()
    elif isinstance(X, pd.Series):
        items = X.tolist()
    else:
        arr = np.asarray(X, dtype=object) if not isinstance(X, list) else None
        if arr is not None and arr.ndim == 2:
            if arr.shape[1] != 1:
                raise ValueError(
                    f"Expected one column of SMILES, got a 2-D array of shape {arr.shape}."
                )
            items = arr[:, 0].tolist()
        elif arr is not None and arr.ndim > 2:
            raise ValueError(f"Expected 1-D input of SMILES, got shape {arr.shape}.")
        else:
            items = list(X)
    if len(items) == 0:
        raise ValueError("Expected at least one molecule, got empty input.")
    items = [None if is_missing(v) else v for v in items]
    wrong = [(i, type(v).__name__) for i, v in enumerate(items)
             if v is not None and not isinstance(v, (str, Chem.Mol))]
    if wrong:
        shown = ", ".join(f"[{i}] {t}" for i, t in wrong[:20])
        raise TypeError(
            f"Molecules must be SMILES strings or RDKit Mol objects; got {len(wrong)} other "
            f"value(s): {shown}."
        )
    return items


def mol_from_input(item) -> Chem.Mol | None:
    """Parse one input (SMILES or ``Mol``) into a sanitised ``Mol``; ``None`` when invalid.

    SMILES lose surrounding whitespace; whitespace inside makes them invalid
    (:func:`smiles_text`). Missing values (``None``) are invalid. ``Mol`` objects are
    sanitised and lose explicit hydrogen atoms, so a Mol gives what its SMILES gives.
    """
    if item is None:
        return None
    if isinstance(item, Chem.Mol):
        return _normal_mol(item)
    item = smiles_text(item)
    if item is None:
        return None
    mol = Chem.MolFromSmiles(item)
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    return mol


def _normal_mol(item: Chem.Mol) -> Chem.Mol | None:
    """A copy of ``item`` in the form ``MolFromSmiles`` gives: sanitised (aromaticity of a
    Kekulé form perceived again) and without explicit hydrogen atoms (``AddHs``), atom order
    kept; None when RDKit cannot sanitise it (it then counts as an invalid molecule)."""
    mol = Chem.Mol(item)
    try:
        Chem.SanitizeMol(mol)
        if any(atom.GetAtomicNum() == 1 for atom in mol.GetAtoms()):
            mol = Chem.RemoveHs(mol)
    except Exception:  # RDKit raises several kinds for unsanitisable / query molecules
        return None
    return mol if mol.GetNumAtoms() > 0 else None


def raise_or_mask_invalid(items: Sequence[object], valid: np.ndarray, errors: str) -> np.ndarray:
    """Apply the error policy once parsing is done.

    Returns the boolean validity mask; raises :class:`InvalidMoleculeError` naming every invalid
    input when ``errors="raise"``.
    """
    check_errors_option(errors)
    valid = np.asarray(valid, dtype=bool)
    if errors == "raise" and not valid.all():
        bad = np.flatnonzero(~valid)
        raise InvalidMoleculeError(bad.tolist(), [_display(items[i]) for i in bad])
    return valid


def _display(item) -> str:
    if not isinstance(item, Chem.Mol):
        return item
    try:
        return Chem.MolToSmiles(item)
    except Exception:  # a Mol RDKit cannot write: say what it is
        return f"<RDKit Mol with {item.GetNumAtoms()} atoms>"


def parse_molecules(X, errors: str = "raise") -> tuple[list[Chem.Mol | None], np.ndarray]:
    """Parse molecule input with the package's error policy.

    Parameters
    ----------
    X : list-like of str or Mol
        See :func:`check_molecule_input`.
    errors : {"raise", "nan"}
        ``"raise"``: one :class:`InvalidMoleculeError` naming every invalid input.
        ``"nan"``: invalid positions hold ``None`` and are ``False`` in the mask.

    Returns
    -------
    mols : list of Mol or None
    valid : ndarray of bool, shape (n,)

    Examples
    --------
    >>> mols, valid = parse_molecules(["CCO", "not a smiles"], errors="nan")
    >>> valid.tolist()
    [True, False]
    """
    check_errors_option(errors)
    items = check_molecule_input(X)
    mols = [mol_from_input(item) for item in items]
    valid = raise_or_mask_invalid(items, np.array([m is not None for m in mols]), errors)
    return mols, valid


def smiles_of(items: Sequence[object]) -> list[str]:
    """SMILES text of each input, converting ``Mol`` objects (for display and tables)."""
    return [_display(item) for item in items]


def inchikey14(item) -> str | None:
    """First block (14 characters: the skeleton, without stereo) of the InChIKey, or None."""
    mol = mol_from_input(item) if not isinstance(item, Chem.Mol) else item
    if mol is None:
        return None
    key = Chem.MolToInchiKey(mol)
    return key[:14] if key else None
