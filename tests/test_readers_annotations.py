import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn.readers import (
    FileFormatError,
    overexpression_profiles,
    perturbation_links,
    read_compound_targets,
    read_hetionet_sif,
    read_l1000_csv,
    read_lincs_dysregulation,
    read_ppi,
)

ETHANOL_IK14 = "LFQSCWFLJHTTHZ"
PHENOL_IK14 = "ISWSIDIOOBJBQZ"
LINK_COLUMNS = ["source", "target", "kind", "weight"]


def hub_table() -> pd.DataFrame:
    """Repurposing-Hub-like rows: two samples (salt forms) of ethanol, phenol without targets,
    a row with an unparsable SMILES and a CXSMILES with extensions."""
    return pd.DataFrame({
        "broad_id": ["BRD-1-001", "BRD-1-002", "BRD-2", "BRD-3", "BRD-4"],
        "smiles": ["CCO", "OCC", "Oc1ccccc1", "not-a-smiles", "C[C@H](N)O |&1:1|"],
        "target": ["ADH1A|ADH1B", "ADH1B| CYP2E1", None, "TP53", "MAOA"],
    })


def test_compound_targets_links_and_molecules(tmp_path):
    path = tmp_path / "repurposing_info.tsv"
    hub_table().to_csv(path, sep="\t", index=False)
    result = read_compound_targets(path)
    assert list(result.links.columns) == LINK_COLUMNS
    ethanol = f"mol:{ETHANOL_IK14}"
    pairs = set(map(tuple, result.links[["source", "target"]].to_numpy()))
    assert {(ethanol, "gene:ADH1A"), (ethanol, "gene:ADH1B"), (ethanol, "gene:CYP2E1")} <= pairs
    assert len(result.links) == 4  # ADH1B once although two samples list it
    assert set(result.links["kind"]) == {"target"} and (result.links["weight"] == 1.0).all()
    # every parsable compound is a molecule, with or without targets; CXSMILES are trimmed
    assert list(result.molecules.columns) == ["id", "smiles"]
    assert f"mol:{PHENOL_IK14}" in set(result.molecules["id"])
    assert "C[C@H](N)O" in set(result.molecules["smiles"])
    assert result.report.n_total == 5 and result.report.n_matched == 4
    assert result.report.unmatched_examples == ("not-a-smiles",)


def test_jump_target_column_and_missing_column():
    table = hub_table().rename(columns={"target": "target_list"})
    assert len(read_compound_targets(table, target_column="target_list").links) == 4
    with pytest.raises(FileFormatError, match="'target'"):
        read_compound_targets(table)


def test_hetionet_sif_keeps_gene_gene_metaedges(tmp_path):
    sif = pd.DataFrame({
        "source": ["Gene::1", "Gene::2", "Gene::1", "Compound::DB1", "Gene::3"],
        "metaedge": ["GiG", "GiG", "Gr>G", "CbG", "GpBP"],
        "target": ["Gene::2", "Gene::1", "Gene::3", "Gene::1", "Biological Process::GO:1"],
    })
    nodes = pd.DataFrame({"id": ["Gene::1", "Gene::2", "Gene::3", "Compound::DB1"],
                          "name": ["A1BG", "A2M", "NAT1", "aspirin"],
                          "kind": ["Gene", "Gene", "Gene", "Compound"]})
    sif.to_csv(tmp_path / "edges.sif", sep="\t", index=False)
    nodes.to_csv(tmp_path / "nodes.tsv", sep="\t", index=False)
    links = read_hetionet_sif(tmp_path / "edges.sif", tmp_path / "nodes.tsv")
    assert links[["source", "target"]].to_numpy().tolist() == [
        ["gene:A1BG", "gene:A2M"], ["gene:A1BG", "gene:NAT1"]]
    assert set(links["kind"]) == {"interaction"}


def test_hetionet_sif_unknown_gene_is_reported(tmp_path):
    sif = pd.DataFrame({"source": ["Gene::1", "Gene::9"], "metaedge": ["GiG", "GiG"],
                        "target": ["Gene::2", "Gene::1"]})
    nodes = pd.DataFrame({"id": ["Gene::1", "Gene::2"], "name": ["A1BG", "A2M"],
                          "kind": ["Gene", "Gene"]})
    sif.to_csv(tmp_path / "edges.sif", sep="\t", index=False)
    with pytest.raises(FileFormatError, match="Gene::9") as info:
        read_hetionet_sif(tmp_path / "edges.sif", nodes)
    assert info.value.line == 3


def test_ppi_deduplicates_undirected_pairs_and_self_loops(tmp_path):
    ppi = pd.DataFrame({"source_code": ["HGNC:5"] * 4,
                        "source_symbol": ["A1BG", "ANXA7", "A1BG", "TP53"],
                        "target_symbol": ["ANXA7", "A1BG", "CDKN1A", "TP53"]})
    ppi.to_csv(tmp_path / "ppi.txt", sep="\t", index=False)
    links = read_ppi(tmp_path / "ppi.txt")
    assert links[["source", "target"]].to_numpy().tolist() == [
        ["gene:A1BG", "gene:ANXA7"], ["gene:A1BG", "gene:CDKN1A"]]
    with pytest.raises(FileFormatError, match="source_symbol"):
        read_ppi(ppi.drop(columns="source_symbol"))


def test_lincs_dysregulation_with_both_gene_tables():
    calls = pd.DataFrame({"perturbagen": [2, 2, 60, 99], "entrez_gene_id": [991, 1, 2, 3],
                          "z_score": [-4.7, 2.0, 5.0, 9.0],
                          "symbol": ["CDC20", "A1BG", "A2M", "X"]})
    lincs_genes = pd.DataFrame({"entrez_gene_id": [2, 60], "symbol": ["A2M", "ACTB"]})
    links = read_lincs_dysregulation(calls, lincs_genes, min_abs_z=3.0)
    assert links[["source", "target"]].to_numpy().tolist() == [
        ["gene:A2M", "gene:CDC20"], ["gene:ACTB", "gene:A2M"]]
    nodes = pd.DataFrame({"id": ["Gene::2", "Gene::99"], "name": ["A2M", "ZZZ"],
                          "kind": ["Gene", "Gene"]})
    assert read_lincs_dysregulation(calls, nodes)["source"].tolist() == [
        "gene:A2M", "gene:A2M", "gene:ZZZ"]
    with pytest.raises(FileFormatError, match="entrez_gene_id"):
        read_lincs_dysregulation(calls, pd.DataFrame({"gene": [1]}))


def test_overexpression_profiles_median_per_gene_without_mutants_and_controls():
    matrix = pd.DataFrame({"cid": [f"w{i}" for i in range(6)],
                           "MYC": [1.0, 3.0, 100.0, 7.0, 50.0, 4.0],
                           "TP53": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]})
    cdesc = pd.DataFrame({
        "cid": [f"w{i}" for i in range(6)],
        "pert_type": ["trt_oe", "trt_oe", "trt_oe", "trt_oe", "ctl_vector", "trt_oe"],
        "x_genesymbol_mutation": ["BRAF", "BRAF", "BRAF_V600E", "KRAS", "eGFP", "BRAF"],
    })
    gct = read_l1000_csv(matrix, cdesc)
    profiles = overexpression_profiles(gct)
    assert list(profiles.index) == ["gene:BRAF", "gene:KRAS"]
    assert profiles.loc["gene:BRAF", "MYC"] == 3.0  # median of 1, 3, 4; the mutant is out
    with_mutants = overexpression_profiles(gct, include_mutants=True)
    assert with_mutants.loc["gene:BRAF", "MYC"] == 3.5
    with pytest.raises(FileFormatError, match="x_genesymbol_mutation"):
        overexpression_profiles(read_l1000_csv(matrix))


def test_perturbation_links():
    links = perturbation_links(["cp:A@1", "cp:B@1", "cp:A@3"],
                               ["mol:AAAAAAAAAAAAAA", np.nan, "mol:AAAAAAAAAAAAAA"])
    assert links.to_dict("list") == {
        "source": ["mol:AAAAAAAAAAAAAA"] * 2, "target": ["cp:A@1", "cp:A@3"],
        "kind": ["perturbation"] * 2, "weight": [1.0, 1.0]}
    assert perturbation_links(["cp:A"], [None]).empty
    with pytest.raises(ValueError, match="2 profile ids"):
        perturbation_links(["a", "b"], ["m"])
