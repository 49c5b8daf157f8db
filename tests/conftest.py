import os
from pathlib import Path

import numpy as np
import pytest
import rdkit
import torch
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

# The test models are tiny: one thread is as fast as two, and spinning OpenMP threads on a busy
# 2-core machine made small ops 10-50x slower. Numbers stay deterministic within a setting.
torch.set_num_threads(1)

NCI_SMILES = Path(os.path.dirname(rdkit.__file__)) / "Data" / "NCI" / "first_5K.smi"


def read_nci(n: int | None = None) -> list[str]:
    with open(NCI_SMILES) as fh:
        smiles = [line.split()[0] for line in fh if line.strip()]
    # a few NCI entries do not parse in recent RDKit; tests want valid molecules here
    valid = [s for s in smiles if Chem.MolFromSmiles(s) is not None]
    return valid[:n] if n else valid


@pytest.fixture(scope="session")
def nci_smiles() -> list[str]:
    """Real molecules shipped with RDKit (first 400 of NCI's first_5K.smi)."""
    return read_nci(400)


@pytest.fixture(scope="session")
def all_nci_smiles() -> list[str]:
    """Every parseable molecule of NCI's first_5K.smi (4,991 real SMILES with RDKit 2026.09)."""
    return read_nci()


@pytest.fixture(scope="session")
def ring_label(nci_smiles):
    """A deterministic structure-derived binary label: the molecule has two or more rings."""
    return np.array(
        [rdMolDescriptors.CalcNumRings(Chem.MolFromSmiles(s)) > 1 for s in nci_smiles], int
    )
