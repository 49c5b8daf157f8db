"""JUMP Cell Painting per-compound profile tables, with their feature names.

JUMP (cpg0016) profiles are distributed after JUMP's own processing (per-plate normalisation
to the DMSO wells, feature selection, batch correction such as Harmony): one row per compound
and source (or well), ``Metadata_*`` columns (``Metadata_JCP2022``, ``Metadata_Source``) and
numeric features, sometimes under opaque names (``harmony_0`` ...) with a separate table that
names them (``harmony_column`` -> ``feature_name``). :func:`read_jump_profiles` reads one or
several such files, names the features, drops the DMSO rows (``JCP2022_033924``: the profiles
are already normalised to them, so they are not profiles of a perturbation) and takes the
median per compound.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import pandas as pd

from ..graph.schema import MORPHOLOGY_PREFIX
from ._common import (
    AGGREGATE_OPTIONS,
    CONTROLS_OPTIONS,
    FileFormatError,
    PathLike,
    Profiles,
    check_option,
    numeric_features,
    read_table,
    require_columns,
    source_name,
)
from .cellpainting import read_cellpainting

__all__ = ["JUMP_DMSO", "read_feature_names", "read_jump_profiles"]

#: JUMP compound id of DMSO, the negative control of every JUMP compound plate
JUMP_DMSO = "JCP2022_033924"


def read_feature_names(path_or_frame: PathLike | pd.DataFrame | Mapping, *,
                       key_column: str | None = None,
                       name_column: str | None = None) -> dict[str, str]:
    """Column name -> feature name, from a two-column table (or a mapping, checked).

    Parameters
    ----------
    path_or_frame : path, DataFrame or mapping
        E.g. ``jumpcp_int_feature_names.csv`` (``harmony_column``, ``feature_name``).
    key_column, name_column : str, optional
        The columns; by default the table's first and second.

    Returns
    -------
    dict of str to str

    Raises
    ------
    FileFormatError
        Fewer than two columns, a named column missing, an empty name, a key listed twice or
        two keys given one name.

    Examples
    --------
    >>> import pandas as pd
    >>> read_feature_names(pd.DataFrame({"harmony_column": ["harmony_0"],
    ...                                  "feature_name": ["Cells_AreaShape_Area"]}))
    {'harmony_0': 'Cells_AreaShape_Area'}
    """
    if isinstance(path_or_frame, Mapping):
        table = pd.DataFrame({"key": list(path_or_frame), "name": list(path_or_frame.values())})
        source, key_column, name_column = "<mapping>", "key", "name"
    else:
        source = source_name(path_or_frame)
        table = read_table(path_or_frame, dtype=str)
        if table.shape[1] < 2:
            raise FileFormatError(f"a feature-name table needs two columns (column -> feature "
                                  f"name); it has {list(table.columns)}", source)
        key_column = key_column or str(table.columns[0])
        name_column = name_column or str(table.columns[1])
        require_columns(table, [key_column, name_column], source)
    keys = table[key_column].astype(str).str.strip()
    names = table[name_column]
    empty = names.isna() | (names.astype(str).str.strip() == "")
    if empty.any():
        raise FileFormatError(f"empty feature name for {keys[empty].iloc[0]!r} "
                              f"({int(empty.sum())} such row(s))", source, column=name_column)
    names = names.astype(str).str.strip()
    for values, what, column in ((keys, "column", key_column), (names, "feature name",
                                                                 name_column)):
        repeated = values[values.duplicated()]
        if len(repeated):
            raise FileFormatError(f"{what} {repeated.iloc[0]!r} is listed more than once",
                                  source, column=column)
    return dict(zip(keys, names))


def read_jump_profiles(
    paths: PathLike | pd.DataFrame | Sequence[PathLike | pd.DataFrame],
    *,
    feature_names: PathLike | pd.DataFrame | Mapping | None = None,
    compound_column: str = "Metadata_JCP2022",
    aggregate: str | None = "perturbation",
    controls: str = "exclude",
    control_values: Sequence[str] = (JUMP_DMSO,),
    feature_selection: bool = True,
    metadata_prefix: str = "Metadata_",
    node_prefix: str = MORPHOLOGY_PREFIX,
) -> Profiles:
    """Morphology nodes from JUMP per-compound profile tables.

    Parameters
    ----------
    paths : path, DataFrame or a sequence of them
        CSV / TSV / parquet tables, one row per compound and source (or well), with
        ``compound_column``, other ``Metadata_*`` columns and numeric features. Several
        files (one per compound list, say) must have the same feature columns.
    feature_names : path, DataFrame or mapping, optional
        Names for the feature columns (:func:`read_feature_names`); every feature column must
        have one. Without it the columns keep their names.
    compound_column : str
        Metadata column with the JUMP compound id (``JCP2022_...``).
    aggregate : {"perturbation", None}
        Median over the rows of a compound (its sources / wells), or one node per row.
    controls : {"exclude", "keep"}
        Drop the control rows (default: the profiles are already normalised to them) or keep
        them as nodes of their own.
    control_values : sequence of str
        Values of ``compound_column`` that are controls (DMSO's JUMP id by default).
    feature_selection : bool
        Keep only features finite in every kept row and not constant.
    metadata_prefix : str
        Prefix of the metadata columns; every other column must be numeric.
    node_prefix : str
        Prefix of the node ids (``cp:JCP2022_000123``).

    Returns
    -------
    Profiles
        ``(metadata, features)`` indexed by node id; metadata keep the columns equal across
        a compound's rows, ``n_replicates`` counts them; ``Metadata_file`` names the file
        the rows came from (NaN when they came from several).

    Raises
    ------
    FileFormatError
        A missing compound column, a non-numeric feature cell (file, line and column), files
        with different feature columns, a feature column without a name.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"Metadata_JCP2022": ["JCP2022_000001", "JCP2022_000001", JUMP_DMSO],
    ...                   "Metadata_Source": ["source_2", "source_6", "source_2"],
    ...                   "harmony_0": [1.0, 3.0, 0.1], "harmony_1": [0.5, 0.7, 0.2]})
    >>> meta, feats = read_jump_profiles(t, feature_names={"harmony_0": "Cells_Area",
    ...                                                    "harmony_1": "Nuclei_Area"})
    >>> feats.to_dict("index")
    {'cp:JCP2022_000001': {'Cells_Area': 2.0, 'Nuclei_Area': 0.6}}
    """
    if aggregate == "perturbation_dose":
        raise ValueError("JUMP compound profiles have no dose column: use "
                         "aggregate='perturbation' or None")
    check_option("aggregate", aggregate, AGGREGATE_OPTIONS)
    check_option("controls", controls, CONTROLS_OPTIONS)
    items = [paths] if isinstance(paths, (str, bytes, pd.DataFrame)) or hasattr(
        paths, "__fspath__") else list(paths)
    if not items:
        raise ValueError("no JUMP profile table given")
    names = read_feature_names(feature_names) if feature_names is not None else None
    tables, reference = [], None
    for item in items:
        source = source_name(item)
        table = read_table(item)
        if isinstance(item, pd.DataFrame):
            table = table.reset_index(drop=True)
        require_columns(table, [compound_column], source)
        features = [c for c in table.columns if not str(c).startswith(metadata_prefix)]
        if not features:
            raise FileFormatError("no feature columns (every column is metadata)", source)
        if reference is None:
            reference = (features, source)
        elif set(features) != set(reference[0]):
            extra = sorted(set(features) - set(reference[0]))[:5]
            missing = sorted(set(reference[0]) - set(features))[:5]
            raise FileFormatError(f"feature columns differ from those of {reference[1]}: "
                                  f"extra {extra}, missing {missing}", source)
        numeric = numeric_features(table[features], source)  # file, line, column on error
        if names is not None:
            unnamed = [c for c in features if str(c) not in names]
            if unnamed:
                raise FileFormatError(f"{len(unnamed)} feature column(s) have no name in the "
                                      f"feature-name table, e.g. {unnamed[:5]}", source,
                                      column=unnamed[0])
            numeric = numeric.rename(columns=lambda c: names[str(c)])
        meta = table[[c for c in table.columns if str(c).startswith(metadata_prefix)]].copy()
        meta[metadata_prefix + "file"] = source
        tables.append(pd.concat([meta, numeric[[names[str(c)] for c in reference[0]]
                                               if names is not None else reference[0]]],
                                axis=1))
    combined = pd.concat(tables, ignore_index=True)
    sources = ", ".join(source_name(item) for item in items)
    if controls == "exclude" and len(control_values) and not combined[compound_column].astype(
            str).isin(list(control_values)).any():
        warnings.warn(f"{sources}: no control rows ({list(control_values)}) found to exclude",
                      UserWarning, stacklevel=2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # said above, naming the files
            return read_cellpainting(
                combined, perturbation_column=compound_column, dose_column=None,
                aggregate=aggregate, controls=controls, control_values=control_values,
                feature_selection=feature_selection, metadata_prefix=metadata_prefix,
                well_columns=(compound_column, "Metadata_Source"), node_prefix=node_prefix)
    except FileFormatError as exc:  # the combined table has no name of its own
        raise FileFormatError(str(exc).removeprefix("<DataFrame>: "), sources) from exc
