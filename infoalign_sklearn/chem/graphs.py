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
    return _graphs_of_mols([mol], [True], [True])[0]


def _graphs_of_mols(mols, chiral, stereo) -> list[MolGraph]:
    return _PackedGraphs.from_rows(*_getter_rows(mols, chiral, stereo)).graphs()


def _getter_rows(mols, chiral, stereo) -> tuple[list, list, np.ndarray, np.ndarray]:
    """RDKit getter values of every atom and bond of ``mols``, and the counts per molecule;
    ``chiral`` / ``stereo`` say, per molecule, whether it may carry chiral tags / bond stereo.

    Featurisation is on the critical path of ``transform``. The getters are called once per
    atom and bond into one list of integer rows for all molecules; clipping and the enum ->
    category lookups then run once over the whole table (:func:`_encode_rows`), which is split
    per molecule (views) only where graphs are needed. The enum getters (chiral tag, hybridisation, bond type and stereo) cost several
    times the integer ones in RDKit's Python bindings: a molecule parsed from SMILES without
    ``@`` has no chiral tags, and one without ``/`` or ``\\`` no bond stereo, so those two
    getters are skipped there (category 0).
    """
    atom_rows: list = []
    bond_rows: list = []
    n_atoms = np.empty(len(mols), dtype=np.int64)
    n_bonds = np.empty(len(mols), dtype=np.int64)
    for k, (mol, has_chiral, has_stereo) in enumerate(zip(mols, chiral, stereo)):
        atoms = mol.GetAtoms()
        n_atoms[k] = len(atoms)
        if has_chiral:
            atom_rows.extend(
                (a.GetAtomicNum(), int(a.GetChiralTag()), a.GetTotalDegree(), a.GetFormalCharge(),
                 a.GetTotalNumHs(), a.GetNumRadicalElectrons(), int(a.GetHybridization()),
                 a.GetIsAromatic(), a.IsInRing())
                for a in atoms)
        else:
            atom_rows.extend(
                (a.GetAtomicNum(), 0, a.GetTotalDegree(), a.GetFormalCharge(), a.GetTotalNumHs(),
                 a.GetNumRadicalElectrons(), int(a.GetHybridization()), a.GetIsAromatic(),
                 a.IsInRing())
                for a in atoms)
        bonds = mol.GetBonds()
        n_bonds[k] = len(bonds)
        if has_stereo:
            bond_rows.extend(
                (b.GetBeginAtomIdx(), b.GetEndAtomIdx(), int(b.GetBondType()), int(b.GetStereo()),
                 b.GetIsConjugated())
                for b in bonds)
        else:
            bond_rows.extend(
                (b.GetBeginAtomIdx(), b.GetEndAtomIdx(), int(b.GetBondType()), 0,
                 b.GetIsConjugated())
                for b in bonds)
    return atom_rows, bond_rows, n_atoms, n_bonds


class _PackedGraphs:
    """The graphs of many molecules as a few concatenated arrays plus counts.

    Cheap to send between processes (six arrays instead of three per molecule); iterating
    gives each input's :class:`MolGraph` (views into the arrays), or ``None`` where
    ``valid`` is False.
    """

    __slots__ = ("x", "edge_index", "edge_attr", "n_atoms", "n_bonds", "valid")

    def __init__(self, x, edge_index, edge_attr, n_atoms, n_bonds, valid):
        self.x, self.edge_index, self.edge_attr = x, edge_index, edge_attr
        self.n_atoms, self.n_bonds, self.valid = n_atoms, n_bonds, valid

    def __getstate__(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state):
        for name, value in zip(self.__slots__, state, strict=True):
            setattr(self, name, value)

    @classmethod
    def from_rows(cls, atom_rows, bond_rows, n_atoms, n_bonds, valid=None) -> _PackedGraphs:
        x, edge_index, edge_attr = _encode_rows(atom_rows, bond_rows)
        valid = np.ones(len(n_atoms), dtype=bool) if valid is None else valid
        return cls(x, edge_index, edge_attr, n_atoms, n_bonds, valid)

    def graphs(self) -> list[MolGraph]:
        """The valid molecules' graphs, in order."""
        atom_cuts = np.cumsum(self.n_atoms)[:-1]
        edge_cuts = 2 * np.cumsum(self.n_bonds)[:-1]
        return [
            MolGraph(xs, ei, ea)
            for xs, ei, ea in zip(np.split(self.x, atom_cuts),
                                  np.split(self.edge_index, edge_cuts, axis=1),
                                  np.split(self.edge_attr, edge_cuts))
        ]

    def __len__(self) -> int:
        return len(self.valid)

    def __iter__(self):
        graphs = iter(self.graphs())
        for ok in self.valid:
            yield next(graphs) if ok else None


def _encode_rows(atom_rows, bond_rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw getter values -> OGB categories, over all molecules' atoms and bonds at once."""
    x = np.array(atom_rows, dtype=np.int64).reshape(-1, 9)
    z, charge = x[:, 0].copy(), x[:, 3].copy()
    x[:, 0] = np.where((z >= 1) & (z <= 118), z - 1, 118)
    x[:, 1] = _CHIRALITY[x[:, 1]]
    np.minimum(x[:, 2], 11, out=x[:, 2])
    x[:, 3] = np.where((charge >= -5) & (charge <= 5), charge + 5, 11)
    np.minimum(x[:, 4], 9, out=x[:, 4])
    np.minimum(x[:, 5], 5, out=x[:, 5])
    x[:, 6] = _HYBRIDIZATION[x[:, 6]]
    raw = np.array(bond_rows, dtype=np.int64).reshape(-1, 5)
    attr = np.stack([_BOND_TYPE[raw[:, 2]], _BOND_STEREO[raw[:, 3]], raw[:, 4]], axis=1)
    attr = np.repeat(attr, 2, axis=0)
    # both directions of every bond, interleaved: (i, j), (j, i), ...
    edge_index = np.stack([raw[:, :2].ravel(), raw[:, 1::-1].ravel()])
    return x, edge_index, attr


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
    return list(_packed_graphs_of_chunk(items))


def _packed_graphs_of_chunk(items) -> _PackedGraphs:
    """Parse and featurise ``items`` (what worker processes run and send back)."""
    mols, chiral, stereo = [], [], []
    valid = np.zeros(len(items), dtype=bool)
    for k, item in enumerate(items):
        if isinstance(item, str):
            mol = _mol_from_plain_smiles(item)
            marks = _STEREO_MARKS.intersection(item)
            flags = ("@" in marks, "/" in marks or "\\" in marks)
        else:
            mol = mol_from_input(item)
            flags = (True, True)
        if mol is not None:
            mols.append(mol)
            chiral.append(flags[0])
            stereo.append(flags[1])
            valid[k] = True
    return _PackedGraphs.from_rows(*_getter_rows(mols, chiral, stereo), valid=valid)


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
        _packed_graphs_of_chunk, items, n_jobs=n_jobs, batch_size=batch_size, verbose=verbose,
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
