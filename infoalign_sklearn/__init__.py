"""infoalign-sklearn: molecular representations learned in a cell, the scikit-learn way."""

from .chem import InvalidMoleculeError, scaffold_of, smiles_to_graph
from .fingerprints import MorganFingerprint

__version__ = "0.1.0"

__all__ = ["InvalidMoleculeError", "MorganFingerprint", "scaffold_of", "smiles_to_graph"]
