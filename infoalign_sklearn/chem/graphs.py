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

from .._utils.parallel import chunked_map
from .molecules import (
    check_errors_option,
    check_molecule_input,
    mol_from_input,
    raise_or_mask_invalid,
    smiles_text,
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
    return _PackedGraphs.from_rows(*_getter_rows([mol], [_GET_ALL])).graphs()[0]


# Which getters a molecule needs (bit flags, per molecule). A SMILES without "[" has only
# organic-subset atoms: no radicals (RDKit assigns radicals only to bracket atoms, which take
# no implicit hydrogens), no chiral tags ("@" lives inside brackets) and no metals, so sanitising leaves
# every bond single, double, triple, aromatic or quadruple ("other"), which the cheaper float
# getter tells apart (with metals, RDKit may turn bonds dative). Without "/" or "\\" there is
# no bond stereo.
_GET_RADICALS, _GET_CHIRAL_TAG, _GET_BOND_STEREO, _GET_BOND_TYPE = 1, 2, 4, 8
_GET_ALL = _GET_RADICALS | _GET_CHIRAL_TAG | _GET_BOND_STEREO | _GET_BOND_TYPE

# bond order as a float -> RDKit's BondType value (others -> 0, UNSPECIFIED: category "other")
_BOND_TYPE_OF_ORDER = {
    1.0: int(Chem.BondType.SINGLE),
    1.5: int(Chem.BondType.AROMATIC),
    2.0: int(Chem.BondType.DOUBLE),
    3.0: int(Chem.BondType.TRIPLE),
}


def _getters_for_smiles(text: str) -> int:
    """The getter flags a molecule parsed from ``text`` needs."""
    flags = 0
    if "[" in text or "<" in text or ">" in text:
        flags |= _GET_RADICALS | _GET_BOND_TYPE | (_GET_CHIRAL_TAG if "@" in text else 0)
    if "/" in text or "\\" in text:
        flags |= _GET_BOND_STEREO
    return flags


def _getter_rows(mols, flags) -> tuple[list, list, np.ndarray, np.ndarray]:
    """RDKit getter values of every atom and bond of ``mols`` and the counts per molecule;
    ``flags`` says, per molecule, which of the optional getters it needs.

    Featurisation is on the critical path of ``transform``, and most of its time goes into
    calls through RDKit's Python bindings (the enum getters, chiral tag, hybridisation, bond
    type and stereo, cost several times the integer ones). So the getters are called once
    per atom and bond into one list of integer rows for all molecules; clipping and the enum -> category lookups then run once over the whole
    table (:func:`_encode_rows`), which also derives the degree (bonds + hydrogens, which is
    how RDKit defines the total degree); and a getter is skipped where the SMILES shows its
    value is the default (:func:`_getters_for_smiles`). Atom rows are (atomic number, chiral
    tag, formal charge, hydrogens, radicals, hybridisation, aromatic, in ring); bond rows
    (begin, end, bond type, stereo, conjugated).
    """
    atom_rows: list = []
    bond_rows: list = []
    n_atoms = np.empty(len(mols), dtype=np.int64)
    n_bonds = np.empty(len(mols), dtype=np.int64)
    order = _BOND_TYPE_OF_ORDER
    for k, (mol, need) in enumerate(zip(mols, flags)):
        # atoms and bonds by index: the sequences GetAtoms() / GetBonds() return are iterated
        # by Python code in RDKit, which took a third of the getters' time
        n_atoms[k] = n = mol.GetNumAtoms()
        atoms = map(mol.GetAtomWithIdx, range(n))
        if need & _GET_CHIRAL_TAG:
            atom_rows.extend(
                (a.GetAtomicNum(), int(a.GetChiralTag()), a.GetFormalCharge(), a.GetTotalNumHs(),
                 a.GetNumRadicalElectrons(), int(a.GetHybridization()), a.GetIsAromatic(),
                 a.IsInRing())
                for a in atoms)
        elif need & _GET_RADICALS:
            atom_rows.extend(
                (a.GetAtomicNum(), 0, a.GetFormalCharge(), a.GetTotalNumHs(),
                 a.GetNumRadicalElectrons(), int(a.GetHybridization()), a.GetIsAromatic(),
                 a.IsInRing())
                for a in atoms)
        else:
            atom_rows.extend(
                (a.GetAtomicNum(), 0, a.GetFormalCharge(), a.GetTotalNumHs(), 0,
                 int(a.GetHybridization()), a.GetIsAromatic(), a.IsInRing())
                for a in atoms)
        n_bonds[k] = n = mol.GetNumBonds()
        bonds = map(mol.GetBondWithIdx, range(n))
        if need & (_GET_BOND_STEREO | _GET_BOND_TYPE):
            bond_rows.extend(
                (b.GetBeginAtomIdx(), b.GetEndAtomIdx(), int(b.GetBondType()), int(b.GetStereo()),
                 b.GetIsConjugated())
                for b in bonds)
        else:
            bond_rows.extend(
                (b.GetBeginAtomIdx(), b.GetEndAtomIdx(), order.get(b.GetBondTypeAsDouble(), 0), 0,
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
        x, edge_index, edge_attr = _encode_rows(atom_rows, bond_rows, n_atoms, n_bonds)
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

    def batches(self, batch_size: int):
        """PyTorch Geometric batches of the valid graphs, ``batch_size`` at a time, in order,
        cut straight from the packed arrays (no per-molecule arrays)."""
        atom_ptr = np.zeros(len(self.n_atoms) + 1, dtype=np.int64)
        np.cumsum(self.n_atoms, out=atom_ptr[1:])
        edge_ptr = np.zeros(len(self.n_bonds) + 1, dtype=np.int64)
        np.cumsum(2 * self.n_bonds, out=edge_ptr[1:])
        for i in range(0, len(self.n_atoms), batch_size):
            j = min(i + batch_size, len(self.n_atoms))
            yield _batch_of(
                self.x[atom_ptr[i]:atom_ptr[j]],
                self.edge_index[:, edge_ptr[i]:edge_ptr[j]],
                self.edge_attr[edge_ptr[i]:edge_ptr[j]],
                self.n_atoms[i:j], 2 * self.n_bonds[i:j],
            )

    def __len__(self) -> int:
        return len(self.valid)

    def __iter__(self):
        graphs = iter(self.graphs())
        for ok in self.valid:
            yield next(graphs) if ok else None


def _encode_rows(atom_rows, bond_rows, n_atoms, n_bonds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw getter values -> OGB categories, over all molecules' atoms and bonds at once."""
    raw_atoms = np.array(atom_rows, dtype=np.int64).reshape(-1, 8)
    raw = np.array(bond_rows, dtype=np.int64).reshape(-1, 5)
    # degree = bonded neighbours + hydrogens (RDKit's total degree), from the bond table
    offset = np.repeat(np.cumsum(n_atoms) - n_atoms, n_bonds)
    degree = np.bincount(raw[:, :2].ravel() + np.repeat(offset, 2), minlength=len(raw_atoms))
    x = np.empty((len(raw_atoms), 9), dtype=np.int64)
    z, charge = raw_atoms[:, 0], raw_atoms[:, 2]
    x[:, 0] = np.where((z >= 1) & (z <= 118), z - 1, 118)
    x[:, 1] = _CHIRALITY[raw_atoms[:, 1]]
    x[:, 2] = np.minimum(degree + raw_atoms[:, 3], 11)
    x[:, 3] = np.where((charge >= -5) & (charge <= 5), charge + 5, 11)
    x[:, 4] = np.minimum(raw_atoms[:, 3], 9)
    x[:, 5] = np.minimum(raw_atoms[:, 4], 5)
    x[:, 6] = _HYBRIDIZATION[raw_atoms[:, 5]]
    x[:, 7:] = raw_atoms[:, 6:]
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


def packed_graphs_of_chunk(items) -> _PackedGraphs:
    """Parse and featurise ``items`` (what worker processes run and send back)."""
    mols, flags = [], []
    valid = np.zeros(len(items), dtype=bool)
    for k, item in enumerate(items):
        if isinstance(item, str):
            mol = _mol_from_plain_smiles(item)
            need = _getters_for_smiles(item)
        else:
            mol = mol_from_input(item)
            need = _GET_ALL
        if mol is not None:
            mols.append(mol)
            flags.append(need)
            valid[k] = True
    return _PackedGraphs.from_rows(*_getter_rows(mols, flags), valid=valid)


_STEREO_MARKS = frozenset("@/\\")


def _mol_from_plain_smiles(smiles: str) -> Chem.Mol | None:
    """``mol_from_input`` for a SMILES string, without the steps it cannot need.

    ``MolFromSmiles`` parses, removes explicit hydrogens while sanitising, then perceives
    stereochemistry, which is about a third of its time and changes nothing when the string
    has no ``@``, ``/`` or ``\\`` (nor a CXSMILES extension). Such strings take the same steps
    minus that one; without ``[`` there is no hydrogen atom to remove either, so sanitising is
    all that is left. The others go through ``mol_from_input``.
    """
    text = smiles_text(smiles)
    if text is None:
        return None
    if _STEREO_MARKS.intersection(text):
        return mol_from_input(text)
    mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        return None
    try:
        if "[" in text:
            mol = Chem.RemoveHs(mol, updateExplicitCount=True, sanitize=True)
        else:
            Chem.SanitizeMol(mol)
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
        packed_graphs_of_chunk, items, n_jobs=n_jobs, batch_size=batch_size, verbose=verbose,
        desc="featurising graphs",
    )
    valid = raise_or_mask_invalid(items, np.array([g is not None for g in graphs]), errors)
    return graphs, valid


def collate_graphs(graphs: list[MolGraph]):
    """Batch many :class:`MolGraph` into one PyTorch Geometric ``Batch``.

    Built directly from the numpy arrays (one concatenation per field), several times faster
    than ``Batch.from_data_list`` on small molecules.
    """
    if not graphs:
        raise ValueError("Cannot batch an empty list of graphs.")
    n_atoms = np.fromiter((len(g.x) for g in graphs), dtype=np.int64, count=len(graphs))
    n_edges = np.fromiter((g.edge_index.shape[1] for g in graphs), dtype=np.int64, count=len(graphs))
    return _batch_of(
        np.concatenate([g.x for g in graphs]),
        np.concatenate([g.edge_index for g in graphs], axis=1),
        np.concatenate([g.edge_attr for g in graphs]).reshape(-1, 3),
        n_atoms, n_edges,
    )


def _batch_of(x, edge_index, edge_attr, n_atoms, n_edges):
    """A ``Batch`` from the concatenated arrays of consecutive graphs, whose edge indices are
    still local to each graph, and the atom and edge counts per graph."""
    import torch
    from torch_geometric.data import Batch

    ptr = np.zeros(len(n_atoms) + 1, dtype=np.int64)
    np.cumsum(n_atoms, out=ptr[1:])
    batch = Batch(
        x=torch.from_numpy(np.ascontiguousarray(x)),
        edge_index=torch.from_numpy(edge_index + np.repeat(ptr[:-1], n_edges)[None, :]),
        edge_attr=torch.from_numpy(np.ascontiguousarray(edge_attr)),
        batch=torch.from_numpy(np.repeat(np.arange(len(n_atoms)), n_atoms)),
        ptr=torch.from_numpy(ptr),
    )
    batch._num_graphs = len(n_atoms)
    return batch
