import builtins
import sys

import numpy as np
import pandas as pd
import pytest

from infoalign_sklearn.readers import (
    FileFormatError,
    GCTData,
    concat_gct,
    expression_profiles,
    read_gct,
    read_gctx,
    read_l1000,
    read_l1000_csv,
)

# genes x samples, as a GCT stores it: 3 probes, 4 wells
VALUES = np.array([[1.0, 2.0, 3.0, 4.0],
                   [-1.0, 0.5, 0.25, 9.0],
                   [0.0, np.nan, 7.5, -2.0]])
PROBES = ["200814_at", "218597_s_at", "217140_s_at"]
SYMBOLS = ["PSME1", "CISD1", "VDAC1"]
WELLS = ["P:A03", "P:A04", "P:A05", "P:A06"]
COL_META = {
    "pert_id": ["DMSO", "BRD-K1", "BRD-K1", "BRD-K2"],
    "pert_dose": ["-666", "10", "10", "1.11"],
    "pert_type": ["ctl_vehicle", "trt_cp", "trt_cp", "trt_cp"],
    "x_hmsl_id": ["-666", "HMSL1", "HMSL1", "HMSL2"],
}


def gct13_lines() -> list[str]:
    lines = ["#1.3", f"3\t4\t2\t{len(COL_META)}",
             "\t".join(["id", "pr_gene_symbol", "pr_gene_id", *WELLS])]
    for name, values in COL_META.items():
        lines.append("\t".join([name, "na", "na", *values]))
    for probe, symbol, gene_id, row in zip(PROBES, SYMBOLS, [5720, 55847, 7416], VALUES):
        cells = ["NaN" if np.isnan(v) else str(float(v)) for v in row]
        lines.append("\t".join([probe, symbol, str(gene_id), *cells]))
    return lines


def write(path, lines) -> str:
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_gct13_orientation_metadata_and_symbols(tmp_path):
    gct = read_gct(write(tmp_path / "x.gct", gct13_lines()))
    assert isinstance(gct, GCTData) and gct.version == "#1.3"
    assert gct.data.shape == (4, 3)
    assert list(gct.data.index) == WELLS
    assert list(gct.data.columns) == SYMBOLS
    np.testing.assert_array_equal(gct.data.to_numpy(), VALUES.T)
    assert list(gct.row_meta.index) == PROBES
    assert gct.row_meta["pr_gene_id"].tolist() == [5720, 55847, 7416]
    # CMap's -666 is missing; a numeric field becomes numbers
    assert np.isnan(gct.col_meta.loc["P:A03", "pert_dose"])
    assert gct.col_meta.loc["P:A06", "pert_dose"] == 1.11
    assert gct.col_meta.loc["P:A04", "pert_id"] == "BRD-K1"


def test_gct_probe_ids_when_asked(tmp_path):
    gct = read_gct(write(tmp_path / "x.gct", gct13_lines()), gene_symbols=False)
    assert list(gct.data.columns) == PROBES


def test_duplicated_symbols_keep_probe_ids(tmp_path):
    lines = gct13_lines()
    lines[-1] = lines[-1].replace("VDAC1", "CISD1")
    gct = read_gct(write(tmp_path / "x.gct", lines))
    assert list(gct.data.columns) == ["PSME1", "218597_s_at", "217140_s_at"]


def test_gct12(tmp_path):
    lines = ["#1.2", "3\t4", "\t".join(["Name", "Description", *WELLS])]
    for probe, symbol, row in zip(PROBES, SYMBOLS, VALUES):
        lines.append("\t".join([probe, symbol, *(str(v) for v in row)]))
    gct = read_l1000(write(tmp_path / "x.gct", lines))
    assert gct.version == "#1.2"
    np.testing.assert_array_equal(gct.data.to_numpy(), VALUES.T)
    assert gct.row_meta["Description"].tolist() == SYMBOLS
    assert list(gct.data.columns) == PROBES  # 1.2 has no pr_gene_symbol
    assert gct.col_meta.shape == (4, 0)


def test_gct_repeated_id_field_is_dropped(tmp_path):
    lines = gct13_lines()
    lines[1] = f"3\t4\t2\t{len(COL_META) + 1}"
    lines.insert(3, "\t".join(["id", "na", "na", *WELLS]))
    gct = read_gct(write(tmp_path / "x.gct", lines))
    assert "id" not in gct.col_meta.columns and len(gct.col_meta.columns) == len(COL_META)


@pytest.mark.parametrize("mutate, line, message", [
    (lambda ls: ["#1.4", *ls[1:]], 1, "unknown GCT version"),
    (lambda ls: [ls[0], "3\t4", *ls[2:]], 2, "needs 4"),
    (lambda ls: [ls[0], "3\tfour\t2\t4", *ls[2:]], 2, "must be an integer"),
    (lambda ls: ls[:2], 3, "truncated"),
    (lambda ls: [ls[0], ls[1], ls[2] + "\tP:A07", *ls[3:]], 3, "header line has 8 fields"),
    (lambda ls: ls[:-1], 10, "truncated"),
    (lambda ls: [*ls, ls[-1]], 11, "more data line"),
    (lambda ls: [*ls[:-1], ls[-1].rsplit("\t", 1)[0]], 10, "data line has 6 fields"),
    (lambda ls: [*ls[:-1], ls[-1].replace("7.5", "x7")], 10, "non-numeric data value 'x7'"),
])
def test_malformed_gct_names_line(tmp_path, mutate, line, message):
    path = write(tmp_path / "bad.gct", mutate(gct13_lines()))
    with pytest.raises(FileFormatError, match=message) as info:
        read_gct(path)
    assert info.value.line == line
    assert "bad.gct" in str(info.value)


def test_non_numeric_cell_reports_field_number(tmp_path):
    lines = gct13_lines()
    lines[-1] = lines[-1].replace("7.5", "x7")
    with pytest.raises(FileFormatError) as info:
        read_gct(write(tmp_path / "bad.gct", lines))
    assert info.value.column == 6  # id, 2 row metadata fields, then the third sample


def test_empty_and_na_cells_are_missing(tmp_path):
    lines = gct13_lines()
    lines[-1] = lines[-1].replace("7.5", "").replace("-2.0", "na")
    gct = read_gct(write(tmp_path / "x.gct", lines))
    assert gct.data["VDAC1"].isna().sum() == 3


def write_gctx(path, matrix_shape=None, drop=None):
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w") as f:
        f.attrs["version"] = "GCTX1.0"
        matrix = VALUES.T.astype(np.float32)
        if matrix_shape is not None:
            matrix = np.zeros(matrix_shape, np.float32)
        f.create_dataset("0/DATA/0/matrix", data=matrix)
        f.create_dataset("0/META/ROW/id", data=np.array(PROBES, dtype="S"))
        f.create_dataset("0/META/ROW/pr_gene_symbol", data=np.array(SYMBOLS, dtype="S"))
        f.create_dataset("0/META/ROW/pr_gene_id", data=np.array([5720, 55847, 7416]))
        if drop != "col_id":
            f.create_dataset("0/META/COL/id", data=np.array(WELLS, dtype="S"))
        for name, values in COL_META.items():
            f.create_dataset(f"0/META/COL/{name}", data=np.array(values, dtype="S"))
    return path


def test_gctx_matches_gct(tmp_path):
    gctx = read_gctx(write_gctx(tmp_path / "x.gctx"))
    gct = read_gct(write(tmp_path / "x.gct", gct13_lines()))
    assert gctx.version == "GCTX"
    pd.testing.assert_frame_equal(gctx.data, gct.data)
    assert gctx.col_meta.loc["P:A04", "pert_id"] == "BRD-K1"
    assert np.isnan(gctx.col_meta.loc["P:A03", "pert_dose"])
    assert read_l1000(tmp_path / "x.gctx").data.shape == (4, 3)


def test_gctx_wrong_shape_and_missing_ids(tmp_path):
    with pytest.raises(FileFormatError, match=r"shape \(3, 4\)"):
        read_gctx(write_gctx(tmp_path / "a.gctx", matrix_shape=(3, 4)))
    with pytest.raises(FileFormatError, match="/0/META/COL/id"):
        read_gctx(write_gctx(tmp_path / "b.gctx", drop="col_id"))
    not_hdf5 = tmp_path / "c.gctx"
    not_hdf5.write_text("#1.3\n")
    with pytest.raises(FileFormatError, match="HDF5"):
        read_gctx(not_hdf5)


def test_gctx_without_h5py_says_how_to_install(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_h5py(name, *args, **kwargs):
        if name == "h5py":
            raise ImportError("No module named 'h5py'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "h5py", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_h5py)
    with pytest.raises(ImportError, match=r"infoalign-sklearn\[gctx\]"):
        read_gctx(tmp_path / "x.gctx")


def test_csv_matrix_with_metadata(tmp_path):
    matrix = pd.DataFrame(VALUES.T, columns=SYMBOLS)
    matrix.insert(0, "cid", WELLS)
    matrix.to_csv(tmp_path / "m.csv.gz", index=False)
    cdesc = pd.DataFrame({"cid": WELLS[::-1], **{k: v[::-1] for k, v in COL_META.items()}})
    cdesc.to_csv(tmp_path / "c.csv", index=False)
    rdesc = pd.DataFrame({"rid": PROBES, "pr_gene_symbol": SYMBOLS})
    rdesc.to_csv(tmp_path / "r.csv", index=False)
    gct = read_l1000_csv(tmp_path / "m.csv.gz", tmp_path / "c.csv", tmp_path / "r.csv")
    np.testing.assert_array_equal(gct.data.to_numpy(), VALUES.T)
    assert list(gct.col_meta.index) == WELLS  # reordered to the matrix
    assert list(gct.data.columns) == SYMBOLS
    with pytest.raises(FileFormatError, match="must follow the matrix columns"):
        read_l1000_csv(tmp_path / "m.csv.gz", row_meta=rdesc.iloc[::-1])
    with pytest.raises(FileFormatError, match="not in the column metadata"):
        read_l1000_csv(tmp_path / "m.csv.gz", col_meta=cdesc.iloc[:2])


def test_expression_profiles_aggregate_and_exclude_controls(tmp_path):
    gct = read_gct(write(tmp_path / "x.gct", gct13_lines()))
    meta, feats = expression_profiles(gct)
    assert list(feats.index) == ["ge:BRD-K1@10", "ge:BRD-K2@1.11"]
    assert feats.loc["ge:BRD-K1@10", "PSME1"] == 2.5
    assert feats.loc["ge:BRD-K1@10", "VDAC1"] == 7.5  # median skips the missing value
    assert meta.loc["ge:BRD-K1@10", "x_hmsl_id"] == "HMSL1"
    assert meta.loc["ge:BRD-K1@10", "n_replicates"] == 2
    _, with_controls = expression_profiles(gct, controls="keep", aggregate="perturbation")
    assert list(with_controls.index) == ["ge:BRD-K1", "ge:BRD-K2", "ge:DMSO"]
    _, wells = expression_profiles(gct, aggregate=None)
    assert list(wells.index) == ["ge:P:A04", "ge:P:A05", "ge:P:A06"]


def test_expression_profiles_missing_field(tmp_path):
    gct = read_gct(write(tmp_path / "x.gct", gct13_lines()))
    with pytest.raises(FileFormatError, match="pert_time"):
        expression_profiles(gct, dose_column="pert_time")


def test_concat_gct(tmp_path):
    a = read_gct(write(tmp_path / "a.gct", gct13_lines()))
    lines = [line.replace("P:", "Q:") for line in gct13_lines()]
    b = read_gct(write(tmp_path / "b.gct", lines))
    both = concat_gct([a, b])
    assert both.data.shape == (8, 3) and both.col_meta.shape[0] == 8
    with pytest.raises(ValueError, match="appears in two"):
        concat_gct([a, a])
