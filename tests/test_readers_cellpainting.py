import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn.readers import FileFormatError, read_cellpainting, select_features


def plate() -> pd.DataFrame:
    """Eight wells in the pycytominer layout: 2 DMSO, compound A at two doses (2 + 1 wells),
    compound B (2 wells, doses written with different precision), one constant feature and one
    feature with a missing value."""
    return pd.DataFrame({
        "Metadata_Plate": ["P1"] * 8,
        "Metadata_Well": ["A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08"],
        "Metadata_broad_sample": ["DMSO", "DMSO", "BRD-A", "BRD-A", "BRD-A", "BRD-B", "BRD-B",
                                  "BRD-A"],
        "Metadata_mmoles_per_liter": [0.0, 0.0, 10.0, 10.0, 3.3333, 3.33330, 3.3333, 10.0],
        "Metadata_InChIKey14": [None, None, "AAAAAAAAAAAAAA", "AAAAAAAAAAAAAA",
                                "AAAAAAAAAAAAAA", "BBBBBBBBBBBBBB", "BBBBBBBBBBBBBB",
                                "AAAAAAAAAAAAAA"],
        "Cells_AreaShape_Area": [0.0, 0.2, 1.0, 3.0, 5.0, -1.0, -3.0, 2.0],
        "Nuclei_Intensity_Mean": [0.5, 0.1, 0.3, 0.3, 0.9, 0.2, 0.4, 0.6],
        "Cells_Constant": [1.0] * 8,
        "Cytoplasm_Gap": [0.1, 0.2, np.nan, 0.3, 0.4, 0.5, 0.6, 0.7],
    })


def test_median_per_perturbation_and_dose_excludes_controls():
    meta, feats = read_cellpainting(plate())
    assert list(feats.index) == ["cp:BRD-A@10", "cp:BRD-A@3.3333", "cp:BRD-B@3.3333"]
    assert feats.loc["cp:BRD-A@10", "Cells_AreaShape_Area"] == 2.0  # median of 1, 3, 2
    assert feats.loc["cp:BRD-B@3.3333", "Cells_AreaShape_Area"] == -2.0
    assert meta["n_replicates"].tolist() == [3, 1, 2]
    # constant within a node: kept; the well differs between replicates: NaN
    assert meta.loc["cp:BRD-A@10", "Metadata_InChIKey14"] == "AAAAAAAAAAAAAA"
    assert pd.isna(meta.loc["cp:BRD-A@10", "Metadata_Well"])
    assert meta.loc["cp:BRD-A@3.3333", "Metadata_Well"] == "A05"
    assert meta.index.equals(feats.index)


def test_feature_selection_drops_constant_and_nonfinite_columns():
    _, feats = read_cellpainting(plate())
    assert list(feats.columns) == ["Cells_AreaShape_Area", "Nuclei_Intensity_Mean"]
    _, everything = read_cellpainting(plate(), feature_selection=False)
    assert "Cells_Constant" in everything.columns and "Cytoplasm_Gap" in everything.columns


def test_select_features_on_inf():
    df = pd.DataFrame({"a": [1.0, np.inf], "b": [1.0, 2.0]})
    assert list(select_features(df).columns) == ["b"]


def test_per_perturbation_and_keep_controls():
    meta, feats = read_cellpainting(plate(), aggregate="perturbation", controls="keep")
    assert list(feats.index) == ["cp:BRD-A", "cp:BRD-B", "cp:DMSO"]
    assert feats.loc["cp:BRD-A", "Cells_AreaShape_Area"] == 2.5  # median of 1, 3, 5, 2
    assert meta.loc["cp:DMSO", "n_replicates"] == 2


def test_configurable_columns_and_prefix():
    table = plate()
    meta, feats = read_cellpainting(
        table[table["Metadata_broad_sample"] != "DMSO"], perturbation_column="Metadata_InChIKey14",
        aggregate="perturbation", control_values=(), node_prefix="cp:A549:")
    assert list(feats.index) == ["cp:A549:AAAAAAAAAAAAAA", "cp:A549:BBBBBBBBBBBBBB"]


def test_no_aggregation_gives_one_node_per_well():
    meta, feats = read_cellpainting(plate(), aggregate=None)
    assert len(feats) == 6 and feats.index[0] == "cp:P1:A03"


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_file_formats_round_trip(tmp_path, suffix):
    path = tmp_path / f"plate{suffix}"
    if suffix == ".parquet":
        plate().to_parquet(path)
    else:
        plate().to_csv(path, index=False)
    _, feats = read_cellpainting(path)
    _, expected = read_cellpainting(plate())
    pd.testing.assert_frame_equal(feats, expected)


def test_missing_metadata_columns(tmp_path):
    path = tmp_path / "plate.csv"
    plate().drop(columns=[c for c in plate().columns if c.startswith("Metadata_")]).to_csv(
        path, index=False)
    with pytest.raises(FileFormatError, match="no metadata columns.*plate.csv|plate.csv.*no "
                                              "metadata columns"):
        read_cellpainting(path)


def test_missing_configured_column_names_it(tmp_path):
    path = tmp_path / "plate.csv"
    plate().drop(columns=["Metadata_mmoles_per_liter"]).to_csv(path, index=False)
    with pytest.raises(FileFormatError, match="Metadata_mmoles_per_liter") as info:
        read_cellpainting(path)
    assert str(path) in str(info.value)
    # aggregating per perturbation needs no dose
    read_cellpainting(path, aggregate="perturbation")


def test_non_numeric_feature_cell_names_line_and_column(tmp_path):
    table = plate()
    table["Nuclei_Intensity_Mean"] = table["Nuclei_Intensity_Mean"].astype(object)
    table.loc[4, "Nuclei_Intensity_Mean"] = "oops"
    path = tmp_path / "plate.csv"
    table.to_csv(path, index=False)
    with pytest.raises(FileFormatError) as info:
        read_cellpainting(path)
    assert info.value.line == 6  # header is line 1, row 4 is line 6
    assert info.value.column == "Nuclei_Intensity_Mean"
    assert "'oops'" in str(info.value)


def test_non_numeric_dose_is_reported():
    table = plate()
    table["Metadata_mmoles_per_liter"] = table["Metadata_mmoles_per_liter"].astype(object)
    table.loc[2, "Metadata_mmoles_per_liter"] = "10 uM"
    with pytest.raises(FileFormatError, match="dose"):
        read_cellpainting(table)


def test_wells_without_perturbation_are_an_error():
    table = plate()
    table.loc[3, "Metadata_broad_sample"] = None
    with pytest.raises(FileFormatError, match="1 well"):
        read_cellpainting(table)


def test_bad_options():
    with pytest.raises(ValueError, match="aggregate"):
        read_cellpainting(plate(), aggregate="mean")
    with pytest.raises(ValueError, match="controls"):
        read_cellpainting(plate(), controls="drop")
    with pytest.raises(FileNotFoundError):
        read_cellpainting("/nonexistent/plate.csv")


def test_warns_when_no_control_is_found():
    table = plate()
    with pytest.warns(UserWarning, match="no control"):
        read_cellpainting(table[table["Metadata_broad_sample"] != "DMSO"])
