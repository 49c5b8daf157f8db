"""Bemis-Murcko scaffolds, the grouping behind scaffold splits."""

from __future__ import annotations

from rdkit.Chem.Scaffolds import MurckoScaffold

from .molecules import mol_from_input


def scaffold_of(smiles, include_chirality: bool = False) -> str:
    """Bemis-Murcko scaffold SMILES of one molecule (``""`` for acyclic molecules).

    Chirality is left out by default, so stereoisomers share a scaffold group.

    Examples
    --------
    >>> scaffold_of("CC(=O)Nc1ccc(O)cc1")
    'c1ccccc1'
    >>> scaffold_of("CCO")
    ''
    """
    mol = mol_from_input(smiles)
    if mol is None:
        raise ValueError(f"Invalid SMILES: {smiles!r}")
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=include_chirality)


def scaffolds_of(items, include_chirality: bool = False) -> list[str | None]:
    """Scaffold of each input; ``None`` where the input is not a valid molecule."""
    out: list[str | None] = []
    for item in items:
        mol = mol_from_input(item)
        out.append(
            None if mol is None
            else MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=include_chirality)
        )
    return out
