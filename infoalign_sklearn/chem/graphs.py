"""Molecules as graphs with OGB-style categorical atom and bond features.

The vocabulary (``ATOM_FEATURE_DIMS`` / ``BOND_FEATURE_DIMS``) matches the Open Graph Benchmark
featurisation used by the published InfoAlign encoder, so embedding tables sized from it can
hold the authors' weights. Every feature has a last "other" category for values outside the list.

Graphs are first built as :class:`MolGraph` (three small numpy arrays: cheap to create and to
send between processes) and turned into PyTorch Geometric objects only when batching.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from rdkit import Chem

from .._parallel import chunked_map
from .molecules import (
    check_errors_option,
    check_molecule_input,
    mol_from_input,
    raise_or_mask_invalid,
)

if TYPE_CHECKING:
    from torch_geometric.data import Data

ATOM_FEATURE_NAMES = (
    "atomic_num", "chirality", "degree", "formal_charge", "num_hs",
    "num_radical_electrons", "hybridization", "is_aromatic", "is_in_ring",
)
# atomic number 1..118 + other; 4 chiral tags + other; degree 0..10 + other; charge -5..5 + other;
# Hs 0..8 + other; radicals 0..4 + other; 5 hybridisations + other; two booleans
ATOM_FEATURE_DIMS = (119, 5, 12, 12, 10, 6, 6, 2, 2)
BOND_FEATURE_NAMES = ("bond_type", "bond_stereo", "is_conjugated")
# 4 bond types + other; 6 stereo labels; boolean
BOND_FEATURE_DIMS = (5, 6, 2)

def _lookup(mapping: dict, other: int) -> np.ndarray:
    """A table from RDKit's integer enum values to our categories (``other`` elsewhere)."""
    table = np.full(max(int(k) for k in type(next(iter(mapping))).values) + 1, other, np.int64)
    for key, category in mapping.items():
        table[int(key)] = category
    return table


# enum value -> category; the order of each list is the published vocabulary's
_CHIRALITY = _lookup({
    Chem.ChiralType.CHI_UNSPECIFIED: 0,
    Chem.ChiralType.CHI_TETRAHEDRAL_CW: 1,
    Chem.ChiralType.CHI_TETRAHEDRAL_CCW: 2,
    Chem.ChiralType.CHI_OTHER: 3,
}, other=4)
_HYBRIDIZATION = _lookup({
    Chem.HybridizationType.SP: 0,
    Chem.HybridizationType.SP2: 1,
    Chem.HybridizationType.SP3: 2,
    Chem.HybridizationType.SP3D: 3,
    Chem.HybridizationType.SP3D2: 4,
}, other=5)
_BOND_TYPE = _lookup({
    Chem.BondType.SINGLE: 0,
    Chem.BondType.DOUBLE: 1,
    Chem.BondType.TRIPLE: 2,
    Chem.BondType.AROMATIC: 3,
}, other=4)
_BOND_STEREO = _lookup({
    Chem.BondStereo.STEREONONE: 0,
    Chem.BondStereo.STEREOZ: 1,
    Chem.BondStereo.STEREOE: 2,
    Chem.BondStereo.STEREOCIS: 3,
    Chem.BondStereo.STEREOTRANS: 4,
    Chem.BondStereo.STEREOANY: 5,
}, other=0)


class MolGraph(NamedTuple):
    """One molecular graph: ``x`` (atoms, 9) int64, ``edge_index`` (2, 2*bonds) int64 with both
    directions of every bond, ``edge_attr`` (2*bonds, 3) int64."""

    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray

    def to_data(self):
        """This graph as a PyTorch Geometric ``Data``."""
        import torch
        from torch_geometric.data import Data

        return Data(
            x=torch.from_numpy(self.x),
            edge_index=torch.from_numpy(self.edge_index),
            edge_attr=torch.from_numpy(self.edge_attr),
        )


def mol_to_graph(mol: Chem.Mol) -> MolGraph:
    """Featurise an RDKit molecule. Molecules without bonds give an empty edge set."""
    return _mol_to_graph(mol)


def _mol_to_graph(mol: Chem.Mol, chiral: bool = True, stereo: bool = True) -> MolGraph:
    """:func:`mol_to_graph`, told when a molecule has no chiral tags or bond stereo.

    Featurisation is on the critical path of ``transform``, and the enum getters (chiral tag,
    hybridisation, bond type and stereo) cost several times the integer ones in RDKit's Python
    bindings. A molecule parsed from SMILES without ``@`` has no chiral tags and one without
    ``/`` or ``\\`` no bond stereo, so those getters are skipped (their category is 0). The
    other getters fill one integer table; clipping and enum lookups work on whole columns.
    """
    n_atoms = mol.GetNumAtoms()
    atoms = [mol.GetAtomWithIdx(i) for i in range(n_atoms)]
    raw = np.array([
        (a.GetAtomicNum(), a.GetTotalDegree(), a.GetFormalCharge(), a.GetTotalNumHs(),
         a.GetNumRadicalElectrons(), int(a.GetHybridization()), a.GetIsAromatic(), a.IsInRing())
        for a in atoms
    ], dtype=np.int64).reshape(-1, 8)
    z, charge = raw[:, 0], raw[:, 2]
    x = np.empty((n_atoms, 9), dtype=np.int64)
    x[:, 0] = np.where((z >= 1) & (z <= 118), z - 1, 118)
    if chiral:
        x[:, 1] = _CHIRALITY[np.fromiter((int(a.GetChiralTag()) for a in atoms), np.int64, n_atoms)]
    else:
        x[:, 1] = 0
    np.minimum(raw[:, 1], 11, out=x[:, 2])
    x[:, 3] = np.where((charge >= -5) & (charge <= 5), charge + 5, 11)
    np.minimum(raw[:, 3], 9, out=x[:, 4])
    np.minimum(raw[:, 4], 5, out=x[:, 5])
    x[:, 6] = _HYBRIDIZATION[raw[:, 5]]
    x[:, 7:] = raw[:, 6:]
    n_bonds = mol.GetNumBonds()
    bonds = [mol.GetBondWithIdx(k) for k in range(n_bonds)]
    raw = np.array([
        (b.GetBeginAtomIdx(), b.GetEndAtomIdx(), int(b.GetBondType()), b.GetIsConjugated())
        for b in bonds
    ], dtype=np.int64).reshape(-1, 4)
    attr = np.zeros((n_bonds, 3), dtype=np.int64)
    attr[:, 0] = _BOND_TYPE[raw[:, 2]]
    if stereo:
        attr[:, 1] = _BOND_STEREO[np.fromiter((int(b.GetStereo()) for b in bonds), np.int64, n_bonds)]
    attr[:, 2] = raw[:, 3]
    # both directions of every bond, interleaved: (i, j), (j, i), ...
    edge_index = np.stack([raw[:, :2].ravel(), raw[:, 1::-1].ravel()])
    return MolGraph(x, edge_index, np.repeat(attr, 2, axis=0))


def smiles_to_graph(smiles) -> Data:
    """SMILES (or ``Mol``) -> PyTorch Geometric ``Data``; raises ``ValueError`` if invalid.

    Examples
    --------
    >>> g = smiles_to_graph("CCO")
    >>> tuple(g.x.shape), tuple(g.edge_index.shape)
    ((3, 9), (2, 4))
    """
    mol = mol_from_input(smiles)
    if mol is None:
        raise ValueError(f"Invalid SMILES: {smiles!r}")
    return mol_to_graph(mol).to_data()


def _graphs_of_chunk(items) -> list:
    out = []
    for item in items:
        if isinstance(item, str):
            mol = _mol_from_plain_smiles(item)
            stereo = _STEREO_MARKS.intersection(item)
            out.append(None if mol is None else _mol_to_graph(
                mol, chiral="@" in stereo, stereo="/" in stereo or "\\" in stereo))
        else:
            mol = mol_from_input(item)
            out.append(None if mol is None else _mol_to_graph(mol))
    return out


_STEREO_MARKS = frozenset("@/\\")


def _mol_from_plain_smiles(smiles: str) -> Chem.Mol | None:
    """``mol_from_input`` for a SMILES string, without the stereo perception it cannot need.

    ``MolFromSmiles`` sanitises, removes explicit hydrogens, then perceives stereochemistry,
    which is about a third of its time and changes nothing when the string has no ``@``,
    ``/`` or ``\\`` (nor a CXSMILES extension). Such strings take the same steps minus that
    one; the others go through ``mol_from_input``.
    """
    text = smiles.strip()
    if _STEREO_MARKS.intersection(text) or " " in text or "\t" in text:
        return mol_from_input(text)
    if not text:
        return None
    mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        return None
    try:
        mol = Chem.RemoveHs(mol, updateExplicitCount=True, sanitize=True)
    except Exception:  # what MolFromSmiles reports as None: valence, kekulisation, ...
        return None
    return mol if mol.GetNumAtoms() > 0 else None


def featurize_graphs(
    X, *, errors: str = "raise", n_jobs: int | None = None, batch_size: int | None = None,
    verbose=0,
) -> tuple[list[MolGraph | None], np.ndarray]:
    """Featurise many molecules, in chunks of ``batch_size`` over ``n_jobs`` workers.

    Returns the graphs (``None`` where invalid) and the validity mask; with ``errors="raise"``
    one :class:`~infoalign_sklearn.chem.molecules.InvalidMoleculeError` names every bad input.
    """
    check_errors_option(errors)
    items = check_molecule_input(X)
    graphs = chunked_map(
        _graphs_of_chunk, items, n_jobs=n_jobs, batch_size=batch_size, verbose=verbose,
        desc="featurising graphs",
    )
    valid = raise_or_mask_invalid(items, np.array([g is not None for g in graphs]), errors)
    return graphs, valid


def collate_graphs(graphs: list[MolGraph]):
    """Batch many :class:`MolGraph` into one PyTorch Geometric ``Batch``.

    Built directly from the numpy arrays (one concatenation per field), several times faster
    than ``Batch.from_data_list`` on small molecules.
    """
    import torch
    from torch_geometric.data import Batch

    if not graphs:
        raise ValueError("Cannot batch an empty list of graphs.")
    n_atoms = np.fromiter((len(g.x) for g in graphs), dtype=np.int64, count=len(graphs))
    n_edges = np.fromiter((g.edge_index.shape[1] for g in graphs), dtype=np.int64, count=len(graphs))
    ptr = np.zeros(len(graphs) + 1, dtype=np.int64)
    np.cumsum(n_atoms, out=ptr[1:])
    edge_index = np.concatenate([g.edge_index for g in graphs], axis=1)
    edge_index += np.repeat(ptr[:-1], n_edges)[None, :]
    batch = Batch(
        x=torch.from_numpy(np.concatenate([g.x for g in graphs])),
        edge_index=torch.from_numpy(edge_index),
        edge_attr=torch.from_numpy(np.concatenate([g.edge_attr for g in graphs]).reshape(-1, 3)),
        batch=torch.from_numpy(np.repeat(np.arange(len(graphs)), n_atoms)),
        ptr=torch.from_numpy(ptr),
    )
    batch._num_graphs = len(graphs)
    return batch
