import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from infoalign_sklearn.chem import (
    ATOM_FEATURE_DIMS,
    BOND_FEATURE_DIMS,
    InvalidMoleculeError,
    collate_graphs,
    featurize_graphs,
    inchikey14,
    morgan_fingerprints,
    parse_molecules,
    scaffold_of,
    scaffolds_of,
    smiles_to_graph,
)


def test_parse_accepts_every_list_like_form():
    smiles = ["CCO", "c1ccccc1"]
    for X in (smiles, tuple(smiles), np.array(smiles), pd.Series(smiles),
              pd.DataFrame({"smiles": smiles}), np.array(smiles)[:, None],
              [Chem.MolFromSmiles(s) for s in smiles]):
        mols, valid = parse_molecules(X)
        assert valid.tolist() == [True, True]
        assert [m.GetNumAtoms() for m in mols] == [3, 6]


def test_error_names_every_bad_smiles():
    with pytest.raises(InvalidMoleculeError) as info:
        parse_molecules(["CCO", "not_a_smiles", "C1CC", "c1ccccc1", ""])
    err = info.value
    assert err.indices == [1, 2, 4]
    assert "not_a_smiles" in str(err) and "C1CC" in str(err) and "[4]" in str(err)
    assert isinstance(err, ValueError)


def test_errors_nan_keeps_positions():
    mols, valid = parse_molecules(["xx", "CCO", "C1CC"], errors="nan")
    assert valid.tolist() == [False, True, False]
    assert mols[0] is None and mols[1] is not None


@pytest.mark.parametrize(
    "X, exc, text",
    [
        (None, ValueError, "None"),
        ([], ValueError, "empty"),
        ("CCO", TypeError, "wrap it in a list"),
        (["CCO", None], ValueError, "missing"),
        (["CCO", 3], TypeError, "int"),
        (pd.DataFrame({"a": ["C"], "b": ["C"]}), ValueError, "2 columns"),
        (np.array([["C", "C"]]), ValueError, "shape"),
    ],
)
def test_structural_input_errors_are_clear(X, exc, text):
    with pytest.raises(exc, match=text):
        parse_molecules(X)


def test_unknown_errors_option_rejected():
    with pytest.raises(ValueError, match="errors must be"):
        parse_molecules(["C"], errors="ignore")


def test_graph_features_follow_ogb_vocabulary():
    g = smiles_to_graph("C[C@H](N)C(=O)O")
    assert g.x.shape == (6, 9) and g.edge_attr.shape == (10, 3)
    x = g.x.numpy()
    assert (x < np.array(ATOM_FEATURE_DIMS)).all() and (x >= 0).all()
    assert (g.edge_attr.numpy() < np.array(BOND_FEATURE_DIMS)).all()
    assert x[0, 0] == 5  # carbon: atomic number 6 -> index 5
    assert x[1, 1] in (1, 2)  # the stereocentre carries a tetrahedral tag
    # every bond appears in both directions
    pairs = {tuple(p) for p in g.edge_index.numpy().T}
    assert all((j, i) in pairs for i, j in pairs)


def test_molecules_without_bonds_work():
    for smi in ("[Na+].[Cl-]", "C", "[He]"):
        g = smiles_to_graph(smi)
        assert g.edge_index.shape == (2, 0) and g.edge_attr.shape == (0, 3)
    batch = collate_graphs(featurize_graphs(["C", "CC", "[Na+].[Cl-]"])[0])
    assert batch.num_graphs == 3
    assert batch.batch.tolist() == [0, 1, 1, 2, 2]
    assert batch.edge_index.tolist() == [[1, 2], [2, 1]]


def test_collate_matches_pyg_batching(nci_smiles):
    from torch_geometric.data import Batch

    graphs, _ = featurize_graphs(nci_smiles[:50])
    ours = collate_graphs(graphs)
    ref = Batch.from_data_list([g.to_data() for g in graphs])
    for key in ("x", "edge_index", "edge_attr", "batch", "ptr"):
        assert (getattr(ours, key) == getattr(ref, key)).all(), key


def test_featurize_parallel_equals_serial_and_keeps_order(nci_smiles):
    smiles = nci_smiles[:120] + ["bad"]
    serial, valid1 = featurize_graphs(smiles, errors="nan", n_jobs=1, batch_size=7)
    parallel, valid2 = featurize_graphs(smiles, errors="nan", n_jobs=2, batch_size=7)
    assert valid1.tolist() == valid2.tolist() and not valid1[-1]
    for a, b in zip(serial[:-1], parallel[:-1]):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.edge_index, b.edge_index)
    with pytest.raises(InvalidMoleculeError, match=r"\[120\] 'bad'"):
        featurize_graphs(smiles, n_jobs=2, batch_size=7)


def test_morgan_bits_and_counts():
    bits = morgan_fingerprints(["CCCCCC", "bad"], n_bits=256)
    counts = morgan_fingerprints(["CCCCCC"], n_bits=256, counts=True)
    assert set(np.unique(bits[0])) <= {0.0, 1.0}
    assert counts.max() > 1  # repeated CH2 environments are counted
    assert np.isnan(bits[1]).all()


def test_scaffolds_ignore_chirality_and_side_chains():
    assert scaffold_of("C[C@H](c1ccccc1)N") == scaffold_of("C[C@@H](c1ccccc1)N") == "c1ccccc1"
    assert scaffold_of("CCCC") == ""
    assert scaffolds_of(["c1ccccc1CCC1CC1", "zz"]) == ["c1ccc(CCC2CC2)cc1", None]
    with pytest.raises(ValueError, match="Invalid SMILES"):
        scaffold_of("zz")


def test_inchikey_skeleton_ignores_stereo():
    assert inchikey14("C[C@H](N)C(=O)O") == inchikey14("C[C@@H](N)C(=O)O") == "QNAYBMKLOCPYGJ"
    assert inchikey14("nonsense") is None


def _reference_graph(mol):
    """OGB featurisation written the plain way: every RDKit getter, atom by atom."""
    chirality = [Chem.ChiralType.CHI_UNSPECIFIED, Chem.ChiralType.CHI_TETRAHEDRAL_CW,
                 Chem.ChiralType.CHI_TETRAHEDRAL_CCW, Chem.ChiralType.CHI_OTHER]
    hybrid = [Chem.HybridizationType.SP, Chem.HybridizationType.SP2, Chem.HybridizationType.SP3,
              Chem.HybridizationType.SP3D, Chem.HybridizationType.SP3D2]
    bond_types = [Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE,
                  Chem.BondType.AROMATIC]
    stereo = [Chem.BondStereo.STEREONONE, Chem.BondStereo.STEREOZ, Chem.BondStereo.STEREOE,
              Chem.BondStereo.STEREOCIS, Chem.BondStereo.STEREOTRANS, Chem.BondStereo.STEREOANY]

    def index(values, value, other):
        return values.index(value) if value in values else other

    x = [[index(list(range(1, 119)), a.GetAtomicNum(), 118),
          index(chirality, a.GetChiralTag(), 4),
          index(list(range(11)), a.GetTotalDegree(), 11),
          index(list(range(-5, 6)), a.GetFormalCharge(), 11),
          index(list(range(9)), a.GetTotalNumHs(), 9),
          index(list(range(5)), a.GetNumRadicalElectrons(), 5),
          index(hybrid, a.GetHybridization(), 5),
          int(a.GetIsAromatic()), int(a.IsInRing())] for a in mol.GetAtoms()]
    edges, attrs = [], []
    for b in mol.GetBonds():
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        attr = [index(bond_types, b.GetBondType(), 4), index(stereo, b.GetStereo(), 0),
                int(b.GetIsConjugated())]
        edges += [(i, j), (j, i)]
        attrs += [attr, attr]
    return (np.array(x).reshape(-1, 9), np.array(edges).reshape(-1, 2).T,
            np.array(attrs).reshape(-1, 3))


# stereo marks, charges, radicals, isotopes, explicit and bracket hydrogens, dative and
# quadruple bonds, metals, nitro groups that sanitisation rewrites, atoms past the vocabulary
TRICKY_SMILES = [
    "F[C@H](Cl)Br", "F[C@@H](Cl)Br", "C/C=C/C", "C/C=C\\C", "F/C=C\\F", "C[C@@H]1CC[C@H](O)CC1",
    "F[Pt@SP1](Cl)(Br)I", "[2H]C", "[H]C([H])([H])O", "[H][H]", "[Na+].[Cl-]", "C=C=C",
    "[CH3]", "[CH2]C", "[O]", "C[N+](C)(C)C", "CN(=O)=O", "c1cc[nH]c1", "[NH3]->[Pt](Cl)Cl",
    "[Cu]<-N", "C$C", "[Og]", "[U+6]", "C[Si](C)(C)C", "OB(O)O", "[Se]=C=[Se]",
    "N#Cc1ccccc1", "C1CC2CCC1C2", "[13CH4]", "CC(=O)[O-].[K+]", "[Fe+2]", "C[S+](C)[O-]",
]


def test_fast_featurisation_equals_reference_getters(all_nci_smiles):
    # SMILES skip getters whose value they show is the default (no "[": no radicals, no chiral
    # tags; no "/" "\\": no bond stereo; no dative bond: bond order from the float getter) and
    # derive the degree from the bonds; Mol objects take every getter. Both must equal the
    # plain atom-by-atom featurisation, on real molecules and on the edge cases above.
    smiles = TRICKY_SMILES + all_nci_smiles
    from_smiles, ok = featurize_graphs(smiles, errors="nan")
    assert ok[: len(TRICKY_SMILES)].all()
    mols = [Chem.MolFromSmiles(s) for s in np.asarray(smiles, dtype=object)[ok]]
    from_mols, _ = featurize_graphs(mols)
    assert from_mols[0].x[1, 1] != from_mols[1].x[1, 1]  # the chiral tags are read
    assert from_mols[2].edge_attr[2, 1] != from_mols[3].edge_attr[2, 1]  # and bond stereo
    smiles_graphs = [g for g in from_smiles if g is not None]
    for s, mol, a, b in zip(smiles, mols, smiles_graphs, from_mols, strict=True):
        ref = _reference_graph(mol)
        for u, v, w in zip(a, b, ref, strict=True):
            assert u.dtype == v.dtype == np.int64 and u.shape == v.shape == w.shape, s
            assert (u == w).all() and (v == w).all(), s
