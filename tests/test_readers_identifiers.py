import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from infoalign_sklearn.readers import (
    FileFormatError,
    MatchReport,
    ik14_from_inchikey,
    map_identifiers,
    molecule_keys,
    molecule_table,
    normalize_brd_id,
    read_hmslincs_sdf,
    read_pertinfo,
)

ETHANOL_IK14 = "LFQSCWFLJHTTHZ"


def test_keys_from_smiles_ignore_stereo_and_notation():
    keys = molecule_keys(["C[C@H](N)C(=O)O", "C[C@@H](N)C(=O)O", "CC(N)C(O)=O"])
    assert len(set(keys)) == 1 and len(keys[0]) == 14


def test_keys_fall_back_to_inchikey_and_largest_fragment():
    keys = molecule_keys([None, "bad"], ["LFQSCWFLJHTTHZ-UHFFFAOYSA-N", "garbage"])
    assert keys == [ETHANOL_IK14, None]
    salt, parent = molecule_keys(["CC(=O)[O-].[Na+]", "CC(=O)O"], largest_fragment=True)
    assert salt == parent
    assert molecule_keys(["CC(=O)[O-].[Na+]"])[0] != parent
    with pytest.raises(ValueError, match="differ in length"):
        molecule_keys(["CCO"], ["a", "b"])


def test_ik14_from_inchikey():
    assert ik14_from_inchikey(" lfqscwfljhtthz-uhfffaoysa-n ") == ETHANOL_IK14
    assert ik14_from_inchikey(ETHANOL_IK14) == ETHANOL_IK14
    assert ik14_from_inchikey("LFQSCWFLJHTTHZ-UHF") is None
    assert ik14_from_inchikey(np.nan) is None


def test_molecule_table_deduplicates_by_skeleton():
    molecules, ids, report = molecule_table(["OCC", "CCO", "c1ccccc1", "nope"], source="t")
    assert molecules["id"].tolist() == ["mol:LFQSCWFLJHTTHZ", "mol:UHOVQNZJYSORNB"]
    assert molecules.loc[0, "smiles"] == "OCC"  # first one seen
    assert ids[3] is None and ids[0] == ids[1]
    assert (report.n_total, report.n_matched, report.n_unmatched) == (4, 3, 1)
    assert "nope" in str(report)


def test_brd_normalisation_and_mapping():
    assert normalize_brd_id("BRD-K92301463-001-05-5") == "BRD-K92301463"
    assert normalize_brd_id("BRD-K92301463") == "BRD-K92301463"
    assert normalize_brd_id("DMSO") is None and normalize_brd_id(np.nan) is None
    lookup = pd.Series({"BRD-K00000001-001-01-1": "CCO", "BRD-K00000002": "CCN"})
    values, report = map_identifiers(
        ["BRD-K00000001", "BRD-K00000002-003-01-9", "DMSO", "BRD-K00000009", "BRD-K00000001"],
        lookup, normalize=normalize_brd_id, source="plate -> pertinfo")
    assert values.tolist()[:2] == ["CCO", "CCN"] and values[2:4].isna().all()
    assert (report.n_total, report.n_matched) == (4, 2)  # distinct ids
    assert report.unmatched_examples == ("BRD-K00000009", "DMSO")
    assert str(report).startswith("plate -> pertinfo: 2 / 4 matched (50.0 %)")


def test_match_report_all_matched_text():
    assert str(MatchReport("x", 3, 3)) == "x: 3 / 3 matched (100.0 %)"
    assert MatchReport.from_values("x", [], []).n_total == 0


def test_read_pertinfo(tmp_path):
    table = pd.DataFrame({"pert_id": ["BRD-K1", "CSS001", "BRD-K1"],
                          "pert_iname": ["ethanol", "sh", "dup"],
                          "canonical_smiles": ["CCO", "", "CCC"],
                          "inchi_key": ["LFQSCWFLJHTTHZ-UHFFFAOYSA-N", "", ""]})
    table.to_csv(tmp_path / "pertinfo.tsv", sep="\t", index=False)
    info = read_pertinfo(tmp_path / "pertinfo.tsv")
    assert info.to_dict("list")["pert_id"] == ["BRD-K1"]
    assert info.loc[0, "smiles"] == "CCO" and info.loc[0, "name"] == "ethanol"
    with pytest.raises(FileFormatError, match="canonical_smiles"):
        read_pertinfo(table.drop(columns="canonical_smiles"))


def test_read_hmslincs_sdf(tmp_path):
    path = tmp_path / "hmsl.sdf"
    writer = Chem.SDWriter(str(path))
    for hmsl, smiles, with_property in [("HMSL10001", "CCO", True), ("HMSL10002", "c1ccccc1N", False)]:
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("facility_reagent_id", hmsl)
        mol.SetProp("chemical_name", f"compound {hmsl}")
        if with_property:
            mol.SetProp("smiles", smiles)
        writer.write(mol)
    anonymous = Chem.MolFromSmiles("C")
    writer.write(anonymous)
    writer.close()
    table = read_hmslincs_sdf(path)
    assert table["hmsl_id"].tolist() == ["HMSL10001", "HMSL10002"]
    assert table.loc[0, "smiles"] == "CCO"
    assert molecule_keys(table["smiles"].tolist())[1] == molecule_keys(["Nc1ccccc1"])[0]
    with pytest.raises(FileFormatError, match="no record"):
        read_hmslincs_sdf(path, id_property="lincs_id")
