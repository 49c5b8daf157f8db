"""Readers for JUMP profile tables, feature names, consensus signatures, compound lists and
id bridges, on small files written by the tests (formats of the public files in MANIFEST.md)."""

import gzip

import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn.readers import (
    JUMP_DMSO,
    FileFormatError,
    read_consensus_signatures,
    read_feature_names,
    read_inchikey_bridge,
    read_jump_compounds,
    read_jump_profiles,
    read_smiles_list,
)


def jump_table(ids, sources, values):
    table = pd.DataFrame({"Metadata_JCP2022": ids, "Metadata_Source": sources})
    for j in range(values.shape[1]):
        table[f"harmony_{j}"] = values[:, j]
    return table


@pytest.fixture
def jump_files(tmp_path):
    a = jump_table(["JCP2022_000001", "JCP2022_000001", JUMP_DMSO],
                   ["source_2", "source_6", "source_2"],
                   np.array([[1.0, 0.5, 7.0], [3.0, 0.7, 7.0], [0.1, 0.2, 7.0]]))
    b = jump_table(["JCP2022_000002"], ["source_8"], np.array([[-1.0, 0.0, 7.0]]))
    a.to_csv(tmp_path / "mc_jump_profiles.csv", index=False)
    b.to_csv(tmp_path / "nomc_jump_profiles.csv", index=False)
    pd.DataFrame({"harmony_column": ["harmony_0", "harmony_1", "harmony_2"],
                  "feature_name": ["Cells_Area", "Nuclei_Area", "Cells_Constant"]}).to_csv(
        tmp_path / "names.csv", index=False)
    return tmp_path


def test_jump_profiles_named_aggregated_controls_dropped(jump_files):
    meta, feats = read_jump_profiles(
        [jump_files / "mc_jump_profiles.csv", jump_files / "nomc_jump_profiles.csv"],
        feature_names=jump_files / "names.csv")
    assert feats.index.tolist() == ["cp:JCP2022_000001", "cp:JCP2022_000002"]
    # the constant feature is dropped by the feature selection, the rest named
    assert list(feats.columns) == ["Cells_Area", "Nuclei_Area"]
    np.testing.assert_allclose(feats.loc["cp:JCP2022_000001"], [2.0, 0.6], rtol=1e-6)
    assert meta.loc["cp:JCP2022_000001", "n_replicates"] == 2
    assert meta.loc["cp:JCP2022_000002", "Metadata_file"].endswith("nomc_jump_profiles.csv")
    # controls kept on request; one node per row without aggregation
    _, kept = read_jump_profiles(jump_files / "mc_jump_profiles.csv", controls="keep")
    assert f"cp:{JUMP_DMSO}" in kept.index and "harmony_0" in kept.columns
    _, rows = read_jump_profiles(jump_files / "mc_jump_profiles.csv", aggregate=None)
    assert len(rows) == 2


def test_jump_profiles_errors_name_file_and_column(jump_files, tmp_path):
    bad = pd.read_csv(jump_files / "nomc_jump_profiles.csv")
    bad["harmony_1"] = bad["harmony_1"].astype(object)
    bad.loc[0, "harmony_1"] = "abc"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(FileFormatError, match=r"bad\.csv, line 2, column 'harmony_1'"):
        read_jump_profiles(tmp_path / "bad.csv")
    other = pd.read_csv(jump_files / "nomc_jump_profiles.csv").drop(columns="harmony_2")
    other.to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(FileFormatError, match=r"other\.csv.*differ.*missing \['harmony_2'\]"):
        read_jump_profiles([jump_files / "mc_jump_profiles.csv", tmp_path / "other.csv"])
    with pytest.raises(FileFormatError, match="no name in the feature-name table"):
        read_jump_profiles(jump_files / "mc_jump_profiles.csv",
                           feature_names={"harmony_0": "A"})
    pd.read_csv(jump_files / "mc_jump_profiles.csv").rename(
        columns={"Metadata_JCP2022": "Metadata_id"}).to_csv(tmp_path / "noid.csv", index=False)
    with pytest.raises(FileFormatError, match=r"noid\.csv.*missing column 'Metadata_JCP2022'"):
        read_jump_profiles(tmp_path / "noid.csv")
    with pytest.warns(UserWarning, match=r"nomc_jump_profiles\.csv: no control rows"):
        read_jump_profiles(jump_files / "nomc_jump_profiles.csv", feature_selection=False)
    constant = pd.read_csv(jump_files / "nomc_jump_profiles.csv")
    constant.to_csv(tmp_path / "one.csv", index=False)
    with pytest.raises(FileFormatError, match=r"one\.csv: no feature column is finite"):
        read_jump_profiles(tmp_path / "one.csv", controls="keep")
    with pytest.raises(ValueError, match="no dose column"):
        read_jump_profiles(jump_files / "mc_jump_profiles.csv", aggregate="perturbation_dose")


def test_feature_names_table_checks(tmp_path):
    path = tmp_path / "n.csv"
    pd.DataFrame({"c": ["h0", "h1"], "n": ["A", "A"]}).to_csv(path, index=False)
    with pytest.raises(FileFormatError, match="feature name 'A' is listed more than once"):
        read_feature_names(path)
    pd.DataFrame({"c": ["h0"]}).to_csv(path, index=False)
    with pytest.raises(FileFormatError, match="needs two columns"):
        read_feature_names(path)
    assert read_feature_names({"h0": " A "}) == {"h0": "A"}


def test_consensus_signatures_entrez_to_symbol(tmp_path):
    path = tmp_path / "consensi-drugbank.tsv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("perturbagen\t7157\t672\t999999\n"
                     "DB00014\t2.5\t-1.0\t0.1\nDB00091\t-4.9\t10.7\t0.3\n")
    genes = tmp_path / "lincs_genes.tsv"
    pd.DataFrame({"entrez_gene_id": [7157, 672], "symbol": ["TP53", "BRCA1"]}).to_csv(
        genes, sep="\t", index=False)
    with pytest.warns(UserWarning, match="1 gene column.*without a symbol.*999999"):
        meta, feats = read_consensus_signatures(path, genes=genes)
    assert feats.index.tolist() == ["ge:DB00014", "ge:DB00091"]
    assert list(feats.columns) == ["TP53", "BRCA1"]
    assert feats.loc["ge:DB00091", "BRCA1"] == pytest.approx(10.7)
    assert meta["perturbagen"].tolist() == ["DB00014", "DB00091"]
    # without a gene table the Entrez ids stay
    assert list(read_consensus_signatures(path).features.columns) == ["7157", "672", "999999"]


def test_consensus_signatures_errors(tmp_path):
    path = tmp_path / "c.tsv"
    path.write_text("perturbagen\t7157\nDB1\t1.0\nDB1\t2.0\n")
    with pytest.raises(FileFormatError, match=r"c\.tsv.*'DB1' has more than one row"):
        read_consensus_signatures(path)
    path.write_text("perturbagen\t7157\nDB1\t1.0\nDB2\tx\n")
    with pytest.raises(FileFormatError, match=r"c\.tsv, line 3, column '7157'"):
        read_consensus_signatures(path)
    path.write_text("perturbagen\t7157\nDB1\t1.0\n")
    with pytest.raises(FileFormatError, match="no gene column has a symbol"):
        read_consensus_signatures(path, genes={"1": "A1BG"})
    with pytest.raises(FileFormatError, match="missing column 'pert_id'"):
        read_consensus_signatures(path, id_column="pert_id")


def test_smiles_lists_from_tables_and_smi_files(tmp_path):
    pd.DataFrame({"id": [1, 2], "canonical_smiles": ["CCO", "CCN.Cl"]}).to_csv(
        tmp_path / "a.csv", index=False)
    assert read_smiles_list(tmp_path / "a.csv") == ["CCO", "CCN.Cl"]
    pd.DataFrame({"structure": ["CCO"]}).to_csv(tmp_path / "b.tsv", sep="\t", index=False)
    with pytest.raises(FileFormatError, match=r"b\.tsv.*no SMILES column.*'structure'"):
        read_smiles_list(tmp_path / "b.tsv")
    assert read_smiles_list(tmp_path / "b.tsv", smiles_column="structure") == ["CCO"]
    (tmp_path / "c.smi").write_text("SMILES Name\n# a comment\nCCO ethanol\n\nc1ccccc1\n")
    assert read_smiles_list(tmp_path / "c.smi") == ["CCO", "c1ccccc1"]
    with gzip.open(tmp_path / "e.smi.gz", "wt") as handle:
        handle.write("CCO.Cl\tethanol hydrochloride\n")
    assert read_smiles_list(tmp_path / "e.smi.gz") == ["CCO.Cl"]
    (tmp_path / "d.smi").write_text("# nothing\n")
    with pytest.raises(FileFormatError, match="no SMILES"):
        read_smiles_list(tmp_path / "d.smi")
    with pytest.raises(FileNotFoundError):
        read_smiles_list(tmp_path / "missing.csv")


def test_inchikey_bridge_reads_only_its_two_columns(tmp_path):
    path = tmp_path / "drugbank.tsv"
    pd.DataFrame({"drugbank_id": ["DB1", "DB2", "DB3"], "name": ["x", "y", "z"],
                  "description": ["long text", "", "more"],
                  "inchikey": ["InChIKey=LFQSCWFLJHTTHZ-UHFFFAOYSA-N", None, "garbage"]}).to_csv(
        path, sep="\t", index=False)
    bridge = read_inchikey_bridge(path, id_column="drugbank_id")
    assert list(bridge.columns) == ["id", "inchikey14"]
    assert bridge.to_dict("records") == [{"id": "DB1", "inchikey14": "LFQSCWFLJHTTHZ"}]
    with pytest.raises(FileFormatError, match="missing column 'db_id'"):
        read_inchikey_bridge(path, id_column="db_id")


def test_jump_compounds(tmp_path):
    path = tmp_path / "JUMPCP_compounds.csv.gz"
    pd.DataFrame({"Metadata_JCP2022": ["JCP2022_000001", JUMP_DMSO, "JCP2022_000003"],
                  "smiles": ["CCO", "CS(C)=O", None]}).to_csv(path, index=False)
    table = read_jump_compounds(path)
    assert table["compound_id"].tolist() == ["JCP2022_000001", JUMP_DMSO]
    assert table["inchikey14"].isna().all()
    assert read_jump_compounds(path, ids=[JUMP_DMSO])["smiles"].tolist() == ["CS(C)=O"]
    keyed = pd.DataFrame({"Metadata_JCP2022": ["J1"], "Metadata_SMILES": ["CCO"],
                          "Metadata_InChIKey": ["LFQSCWFLJHTTHZ-UHFFFAOYSA-N"]})
    assert read_jump_compounds(keyed).to_dict("records") == [
        {"compound_id": "J1", "smiles": "CCO", "inchikey14": "LFQSCWFLJHTTHZ"}]
    clash = pd.DataFrame({"Metadata_JCP2022": ["J1", "J1"], "smiles": ["CCO", "CCN"]})
    with pytest.raises(FileFormatError, match="'J1' has several different SMILES"):
        read_jump_compounds(clash)
    with pytest.raises(FileFormatError, match="no SMILES column"):
        read_jump_compounds(clash.rename(columns={"smiles": "s"}))
