"""Parent molecules: one key for a compound whatever salt or charge state it was recorded in.

Two tables often record one compound differently: as a hydrochloride (``CCN.Cl``), a sodium
salt (``CC(=O)[O-].[Na+]``), a zwitterion or a deprotonated acid. The *parent* of a molecule is
its largest organic fragment (salts, solvents and counter-ions dropped), neutralised where
RDKit's ``Uncharger`` can do so (protons added to or removed from acids and bases; permanent
charges such as quaternary ammonium stay). Matching on the parent's InChIKey skeleton, as well
as on the molecule's own, is how benchmark molecules are kept out of a pretraining graph
(:meth:`~infoalign_sklearn.graph.ContextGraph.without_molecules`).
"""

from __future__ import annotations

from collections.abc import Sequence

from rdkit import Chem
from rdkit.Chem.MolStandardize import rdMolStandardize

from .molecules import inchikey14, mol_from_input

__all__ = ["molecule_key_pairs", "parent_inchikey14", "parent_molecule"]

_chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
_uncharger = rdMolStandardize.Uncharger()


def parent_molecule(item) -> Chem.Mol | None:
    """Largest organic fragment of a SMILES / Mol, neutralised; None when invalid.

    Examples
    --------
    >>> Chem.MolToSmiles(parent_molecule("CC(=O)[O-].[Na+]"))
    'CC(=O)O'
    >>> Chem.MolToSmiles(parent_molecule("CCN.Cl"))
    'CCN'
    """
    mol = mol_from_input(item)
    if mol is None:
        return None
    return _parent_of(mol)


def _parent_of(mol: Chem.Mol) -> Chem.Mol | None:
    try:
        if len(Chem.GetMolFrags(mol)) > 1:
            mol = _chooser.choose(mol)
        if any(atom.GetFormalCharge() for atom in mol.GetAtoms()):
            mol = _uncharger.uncharge(mol)
    except Exception:  # RDKit raises several kinds on exotic input; the raw key still counts
        return None
    return mol if mol.GetNumAtoms() else None


def parent_inchikey14(item) -> str | None:
    """InChIKey skeleton of :func:`parent_molecule` (None when invalid).

    Examples
    --------
    >>> parent_inchikey14("CCO.Cl") == parent_inchikey14("OCC")
    True
    """
    mol = parent_molecule(item)
    return None if mol is None else inchikey14(mol)


def molecule_key_pairs(items: Sequence) -> list[tuple[str | None, str | None]]:
    """``(own skeleton, parent skeleton)`` of every SMILES / Mol, parsing each input once.

    The parent key is computed only when the molecule has several fragments or a charged
    atom (otherwise it equals the own key); repeated SMILES are computed once.

    Examples
    --------
    >>> molecule_key_pairs(["CCO", "CCO.Cl", "bad"])[1:]
    [('DZGCGKFAPXFTNM', 'LFQSCWFLJHTTHZ'), (None, None)]
    """
    cache: dict = {}
    out: list[tuple[str | None, str | None]] = []
    for item in items:
        cacheable = isinstance(item, str)
        if cacheable and item in cache:
            out.append(cache[item])
            continue
        mol = mol_from_input(item) if isinstance(item, (str, Chem.Mol)) else None
        if mol is None:
            pair = (None, None)
        else:
            own = inchikey14(mol)
            needs_parent = (len(Chem.GetMolFrags(mol)) > 1
                            or any(atom.GetFormalCharge() for atom in mol.GetAtoms()))
            parent = _parent_of(mol) if needs_parent else None
            pair = (own, inchikey14(parent) if parent is not None else own)
        if cacheable:
            cache[item] = pair
        out.append(pair)
    return out
