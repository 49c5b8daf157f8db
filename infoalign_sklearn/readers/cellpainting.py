"""Cell Painting profiles in the pycytominer / CellProfiler layout.

One row per well; columns starting with ``Metadata_`` describe the well, every other column is
a numeric CellProfiler feature (``Cells_AreaShape_Zernike_0_0``, ...). This is the layout of
pycytominer's ``*_normalized_feature_select.csv`` files and of the JUMP / LINCS Cell Painting
profiles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..graph.schema import MORPHOLOGY_PREFIX
from ._common import (
    AGGREGATE_OPTIONS,
    CONTROLS_OPTIONS,
    FileFormatError,
    PathLike,
    Profiles,
    aggregate_profiles,
    check_option,
    numeric_features,
    profile_node_ids,
    read_table,
    require_columns,
    select_features,
    source_name,
    split_controls,
)

__all__ = ["read_cellpainting"]


def read_cellpainting(
    path_or_frame: PathLike | pd.DataFrame,
    *,
    perturbation_column: str = "Metadata_broad_sample",
    dose_column: str | None = "Metadata_mmoles_per_liter",
    aggregate: str | None = "perturbation_dose",
    controls: str = "exclude",
    control_column: str | None = None,
    control_values: Sequence[str] = ("DMSO",),
    feature_selection: bool = True,
    metadata_prefix: str = "Metadata_",
    well_columns: Sequence[str] = ("Metadata_Plate", "Metadata_Well"),
    node_prefix: str = MORPHOLOGY_PREFIX,
) -> Profiles:
    """Read a Cell Painting profile table into node metadata and morphology features.

    Parameters
    ----------
    path_or_frame : path or DataFrame
        CSV, CSV.GZ, TSV or parquet file with one row per well, or the table itself.
    perturbation_column : str
        Metadata column naming the perturbation of each well (a compound id, an InChIKey
        skeleton such as ``Metadata_InChIKey14``, ...).
    dose_column : str or None
        Metadata column with the dose, used when ``aggregate="perturbation_dose"``. Doses are
        compared to six significant digits.
    aggregate : {"perturbation_dose", "perturbation", None}
        Median of the replicate wells per perturbation and dose, per perturbation, or no
        aggregation (one node per well).
    controls : {"exclude", "keep"}
        Drop the control wells (default) or keep them as nodes of their own.
    control_column : str or None
        Column that identifies control wells; defaults to ``perturbation_column``.
    control_values : sequence of str
        Values of ``control_column`` that mark a control well.
    feature_selection : bool
        Keep only the feature columns that are finite in every kept well and not constant.
    metadata_prefix : str
        Prefix of the metadata columns; every other column must be numeric.
    well_columns : sequence of str
        Columns that name a well, for node ids when ``aggregate=None`` (row number otherwise).
    node_prefix : str
        Prefix of the node ids (``cp:`` by default; make it unique per data source if two
        sources could share perturbation names).

    Returns
    -------
    Profiles
        Named tuple ``(metadata, features)``; both are indexed by node id, e.g.
        ``cp:BRD-K92301463-001-05-5@10``. Aggregated metadata keep the columns that are equal
        across the replicates and add ``n_replicates``.

    Raises
    ------
    FileFormatError
        No metadata columns, a configured column missing, a non-numeric feature or dose cell
        (named by line and column), no feature columns, or no well left.

    Examples
    --------
    >>> import pandas as pd
    >>> wells = pd.DataFrame({
    ...     "Metadata_broad_sample": ["DMSO", "BRD-1", "BRD-1", "BRD-2"],
    ...     "Metadata_mmoles_per_liter": [0.0, 10.0, 10.0, 10.0],
    ...     "Cells_AreaShape_Area": [0.1, 1.0, 3.0, -1.0],
    ... })
    >>> meta, feats = read_cellpainting(wells)
    >>> feats["Cells_AreaShape_Area"].to_dict()
    {'cp:BRD-1@10': 2.0, 'cp:BRD-2@10': -1.0}
    """
    check_option("aggregate", aggregate, AGGREGATE_OPTIONS)
    check_option("controls", controls, CONTROLS_OPTIONS)
    source = source_name(path_or_frame)
    table = read_table(path_or_frame)
    if isinstance(path_or_frame, pd.DataFrame):
        table = table.reset_index(drop=True)
    meta_cols, feature_cols = _column_groups(table, metadata_prefix, source)
    if aggregate == "perturbation_dose" and dose_column is None:
        raise ValueError("aggregate='perturbation_dose' needs a dose_column")
    dose_column = dose_column if aggregate == "perturbation_dose" else None
    control_column = control_column or perturbation_column
    needed = [c for c in (perturbation_column, dose_column, control_column) if c is not None]
    require_columns(table, list(dict.fromkeys(needed)), source, "metadata column")

    metadata = table[meta_cols]
    features = numeric_features(table[feature_cols], source)
    doses = None
    if dose_column is not None:
        doses = numeric_features(metadata[[dose_column]], source, what="dose",
                                 hint="Doses must be numbers (empty for none).")[dose_column]
    is_control = metadata[control_column].astype(str).isin(list(control_values)).to_numpy()
    keep = split_controls(is_control, controls, source, control_values)
    if aggregate is not None:
        _check_perturbations(metadata[perturbation_column], keep, source)
    metadata, features = metadata[keep], features[keep]
    doses = doses[keep] if doses is not None else None
    if len(metadata) == 0:
        raise FileFormatError("no wells left after excluding the controls", source)
    if feature_selection:
        features = select_features(features)
        if features.shape[1] == 0:
            raise FileFormatError("no feature column is finite and non-constant", source)
    if aggregate is None:
        node_ids = _well_ids(metadata, well_columns, node_prefix)
        metadata = metadata.set_axis(pd.Index(node_ids, name="node_id"), axis=0)
        return Profiles(metadata, features.set_axis(metadata.index, axis=0))
    node_ids = profile_node_ids(metadata[perturbation_column], doses, node_prefix)
    return aggregate_profiles(metadata, features, node_ids)


def _column_groups(table: pd.DataFrame, metadata_prefix: str, source: str):
    """``(metadata columns, feature columns)``; each group must be non-empty."""
    meta_cols = [c for c in table.columns if str(c).startswith(metadata_prefix)]
    feature_cols = [c for c in table.columns if not str(c).startswith(metadata_prefix)]
    if not meta_cols:
        raise FileFormatError(
            f"no metadata columns (names starting with {metadata_prefix!r}); a pycytominer "
            f"profile table has e.g. {metadata_prefix}broad_sample. Columns seen: "
            f"{list(table.columns)[:8]}", source)
    if not feature_cols:
        raise FileFormatError("no feature columns (every column is metadata)", source)
    return meta_cols, feature_cols


def _check_perturbations(perturbations: pd.Series, keep: np.ndarray, source: str) -> None:
    missing = perturbations.isna().to_numpy() & keep
    if missing.any():
        lines = (np.flatnonzero(missing)[:5] + 2).tolist()
        raise FileFormatError(
            f"{int(missing.sum())} well(s) without a value in {perturbations.name!r} (e.g. "
            f"lines {lines}); fill it or drop those wells", source, column=perturbations.name)


def _well_ids(metadata: pd.DataFrame, well_columns: Sequence[str], prefix: str) -> list[str]:
    present = [c for c in well_columns if c in metadata.columns]
    if present:
        ids = metadata[present].astype(str).agg(":".join, axis=1).tolist()
        if len(set(ids)) == len(ids):
            return [prefix + i for i in ids]
    # no well columns, or they repeat (several plates with one name): fall back to the row
    return [f"{prefix}row{i}" for i in metadata.index]
