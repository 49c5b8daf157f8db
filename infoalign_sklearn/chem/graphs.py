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

_CHIRALITY = {
    Chem.ChiralType.CHI_UNSPECIFIED: 0,
    Chem.ChiralType.CHI_TETRAHEDRAL_CW: 1,
    Chem.ChiralType.CHI_TETRAHEDRAL_CCW: 2,
    Chem.ChiralType.CHI_OTHER: 3,
}
_HYBRIDIZATION = {
    Chem.HybridizationType.SP: 0,
    Chem.HybridizationType.SP2: 1,
    Chem.HybridizationType.SP3: 2,
    Chem.HybridizationType.SP3D: 3,
    Chem.HybridizationType.SP3D2: 4,
}
_BOND_TYPE = {
    Chem.BondType.SINGLE: 0,
    Chem.BondType.DOUBLE: 1,
    Chem.BondType.TRIPLE: 2,
    Chem.BondType.AROMATIC: 3,
}
_BOND_STEREO = {
    Chem.BondStereo.STEREONONE: 0,
    Chem.BondStereo.STEREOZ: 1,
    Chem.BondStereo.STEREOE: 2,
    Chem.BondStereo.STEREOCIS: 3,
    Chem.BondStereo.STEREOTRANS: 4,
    Chem.BondStereo.STEREOANY: 5,
}


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


def _atom_row(atom) -> tuple:
    z = atom.GetAtomicNum()
    charge = atom.GetFormalCharge()
    return (
        z - 1 if 1 <= z <= 118 else 118,
        _CHIRALITY.get(atom.GetChiralTag(), 4),
        min(atom.GetTotalDegree(), 11),
        charge + 5 if -5 <= charge <= 5 else 11,
        min(atom.GetTotalNumHs(), 9),
        min(atom.GetNumRadicalElectrons(), 5),
        _HYBRIDIZATION.get(atom.GetHybridization(), 5),
        int(atom.GetIsAromatic()),
        int(atom.IsInRing()),
    )


def mol_to_graph(mol: Chem.Mol) -> MolGraph:
    """Featurise an RDKit molecule. Molecules without bonds give an empty edge set."""
    x = np.array([_atom_row(a) for a in mol.GetAtoms()], dtype=np.int64).reshape(-1, 9)
    n_bonds = mol.GetNumBonds()
    edge_index = np.empty((2, 2 * n_bonds), dtype=np.int64)
    edge_attr = np.empty((2 * n_bonds, 3), dtype=np.int64)
    for k, bond in enumerate(mol.GetBonds()):
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        feats = (
            _BOND_TYPE.get(bond.GetBondType(), 4),
            _BOND_STEREO.get(bond.GetStereo(), 0),
            int(bond.GetIsConjugated()),
        )
        edge_index[:, 2 * k] = (i, j)
        edge_index[:, 2 * k + 1] = (j, i)
        edge_attr[2 * k] = feats
        edge_attr[2 * k + 1] = feats
    return MolGraph(x, edge_index, edge_attr)


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
        mol = mol_from_input(item)
        out.append(None if mol is None else mol_to_graph(mol))
    return out


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
