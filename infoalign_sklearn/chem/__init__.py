"""Chemistry layer: molecule input policy, graph featurisation, fingerprints, scaffolds."""

from .descriptors import available_descriptors, rdkit_descriptors
from .fingerprints import FingerprintSpec, morgan_fingerprints
from .graphs import (
    ATOM_FEATURE_DIMS,
    ATOM_FEATURE_NAMES,
    BOND_FEATURE_DIMS,
    BOND_FEATURE_NAMES,
    MolGraph,
    collate_graphs,
    featurize_graphs,
    mol_to_graph,
    smiles_to_graph,
)
from .molecules import (
    InvalidMoleculeError,
    check_molecule_input,
    inchikey14,
    mol_from_input,
    parse_molecules,
    raise_or_mask_invalid,
)
from .scaffolds import scaffold_of, scaffolds_of
from .standardize import molecule_key_pairs, parent_inchikey14, parent_molecule

__all__ = [
    "ATOM_FEATURE_DIMS", "ATOM_FEATURE_NAMES", "BOND_FEATURE_DIMS", "BOND_FEATURE_NAMES", "FingerprintSpec",
    "InvalidMoleculeError", "MolGraph", "available_descriptors", "check_molecule_input",
    "collate_graphs", "featurize_graphs", "inchikey14", "mol_from_input", "mol_to_graph",
    "molecule_key_pairs", "morgan_fingerprints", "parent_inchikey14", "parent_molecule",
    "parse_molecules", "raise_or_mask_invalid", "rdkit_descriptors", "scaffold_of", "scaffolds_of",
    "smiles_to_graph",
]
