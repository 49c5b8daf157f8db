"""The InfoAlign authors' raw pretraining layout, read into a :class:`ContextGraph`.

The files are those written by the authors' ``create_nx_graph``; see
:func:`read_infoalign_raw` for the list. Each part (structures, Cell Painting, expression,
gene profiles, gene-gene links) is read by its own function into the ``from_tables`` pieces.
"""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pandas as pd

from ..graph import ContextGraph, ContextGraphFileError
from ..graph.schema import EXPRESSION_PREFIX, GENE_PREFIX, MOLECULE_PREFIX, MORPHOLOGY_PREFIX
from ._common import read_table

__all__ = ["read_infoalign_raw"]


def _features(folder: Path, stem: str, n_rows: int) -> np.ndarray:
    path = folder / f"{stem}_feature.npz"
    if not path.is_file():
        raise ContextGraphFileError(f"{folder}: {stem}.csv.gz has no feature file {path.name}")
    with np.load(path, allow_pickle=False) as npz:
        key = "data" if "data" in npz.files else npz.files[0]
        data = np.asarray(npz[key], dtype=np.float32)
    if data.ndim != 2 or data.shape[0] != n_rows:
        raise ContextGraphFileError(
            f"{path}: features of shape {data.shape}, but {stem}.csv.gz has {n_rows} rows"
        )
    return data


def _id_column(df: pd.DataFrame, path: str, preferred=()) -> str:
    for column in preferred:
        if column in df.columns:
            return column
    candidates = [c for c in df.columns if str(c).endswith("id") and c != "mol_id"]
    if not candidates:
        raise ContextGraphFileError(f"{path}: no profile id column (e.g. 'cell_jid') in "
                                    f"{list(df.columns)}")
    return candidates[0]


def _gene_key(value) -> str:
    # NCBI ids are read as floats when the column has gaps ("7157.0"); ids are integers
    try:
        as_float = float(value)
        if as_float.is_integer():
            return str(int(as_float))
    except (TypeError, ValueError):
        pass
    return str(value).strip()


def _profiles_by(features: np.ndarray, key: pd.Series, prefix: str):
    """Median of the feature rows sharing a key; columns named ``<prefix>:<j>``."""
    table = pd.DataFrame(features, columns=[f"{prefix}:{j}" for j in range(features.shape[1])])
    keep = key.notna().to_numpy()
    return table[keep].groupby(key[keep].to_numpy(), sort=False).median()


def _unique(names) -> list:
    seen: dict = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        out.append(name if count == 0 else f"{name}.{count}")
        seen[name] = count + 1
    return out


class _RawTables:
    """The ``from_tables`` pieces gathered over the files, and the rows skipped."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        path = folder / "structure.csv.gz"
        if not path.is_file():
            raise FileNotFoundError(f"{folder}: structure.csv.gz is missing (InfoAlign raw "
                                    "layout)")
        structure = read_table(path)
        for column in ("mol_id", "smiles"):
            if column not in structure.columns:
                raise ValueError(f"{path}: missing column {column!r}")
        self.structure = structure.drop_duplicates(subset="mol_id")
        self.molecules = pd.DataFrame({
            "id": MOLECULE_PREFIX + self.structure["mol_id"].astype(str),
            "smiles": self.structure["smiles"].to_numpy(),
        })
        if "inchikey" in self.structure.columns:
            self.molecules["inchikey14"] = \
                self.structure["inchikey"].astype(str).str[:14].to_numpy()
        self.known_mols = set(self.structure["mol_id"].astype(str))
        self.skipped: dict = {}
        self.links: list = []
        self.profiles: dict = {}
        self.genes = None

    def molecule_rows(self, df: pd.DataFrame, name: str) -> np.ndarray:
        """Rows naming a known molecule; the others are counted as skipped."""
        ids = df["mol_id"].astype(str)
        known = ids.isin(self.known_mols) & df["mol_id"].notna()
        if (~known).any():
            self.skipped[name] = int((~known).sum())
        return known.to_numpy()

    def read_morphology(self) -> None:
        parts = []
        for csv in sorted(glob.glob(str(self.folder / "CP-*.csv.gz"))):
            stem = Path(csv).name[: -len(".csv.gz")]
            df = read_table(csv)
            if "mol_id" not in df.columns:
                raise ValueError(f"{csv}: missing column 'mol_id'")
            features = _features(self.folder, stem, len(df))
            keep = self.molecule_rows(df, Path(csv).name)
            key = (MORPHOLOGY_PREFIX + df["mol_id"].astype(str)).where(keep)
            parts.append(_profiles_by(features, key, stem[len("CP-"):]))
        if not parts:
            return
        morphology = pd.concat(parts, axis=1, join="outer")
        # one node per molecule, in structure.csv.gz order
        in_order = (MORPHOLOGY_PREFIX + self.structure["mol_id"].astype(str)).to_numpy()
        morphology = morphology.reindex([i for i in in_order if i in morphology.index])
        self.profiles["morphology"] = morphology
        mol_of = morphology.index.str[len(MORPHOLOGY_PREFIX):]
        self.links.append(pd.DataFrame({"source": MOLECULE_PREFIX + mol_of,
                                        "target": morphology.index, "kind": "perturbation"}))

    def read_expression(self) -> None:
        path = self.folder / "GE.csv.gz"
        if not path.is_file():
            return
        df = read_table(path)
        id_col = _id_column(df, str(path), ("express_id", "gene_id"))
        features = _features(self.folder, "GE", len(df))
        keep = self.molecule_rows(df, path.name)
        columns = [f"ge_{j}" for j in range(features.shape[1])]
        idmap = self.folder / "L1k_idmaps.csv"
        if idmap.is_file():
            ids = read_table(idmap)
            if "ncbi_gene_id" in ids.columns and len(ids) == features.shape[1]:
                columns = [_gene_key(v) for v in ids["ncbi_gene_id"]]
        key = (EXPRESSION_PREFIX + df[id_col].astype(str)).where(keep)
        table = pd.DataFrame(features, columns=range(features.shape[1]))[keep]
        expression = table.groupby(key[keep].to_numpy(), sort=False).median()
        # duplicated symbols would make two columns one gene: suffix repeats to stay unique
        expression.columns = _unique(columns)
        self.profiles["expression"] = expression
        pairs = pd.DataFrame({"source": MOLECULE_PREFIX + df["mol_id"][keep].astype(str),
                              "target": key[keep]}).drop_duplicates()
        pairs["kind"] = "perturbation"
        self.links.append(pairs)

    def _gene_file(self, csv: str, stem: str):
        df = read_table(csv)
        if "ncbi_gene_id" not in df.columns:
            raise ValueError(f"{csv}: missing column 'ncbi_gene_id'")
        features = _features(self.folder, stem, len(df))
        key = (GENE_PREFIX + df["ncbi_gene_id"].map(_gene_key)).where(df["ncbi_gene_id"].notna())
        profiles = _profiles_by(features, key, stem[len("G-"):])
        if "mol_id" not in df.columns:
            return profiles, None
        present = df["mol_id"].notna() & df["ncbi_gene_id"].notna()
        known = present & df["mol_id"].astype(str).isin(self.known_mols)
        if (present & ~known).any():
            self.skipped[Path(csv).name] = int((present & ~known).sum())
        return profiles, pd.DataFrame({
            "source": MOLECULE_PREFIX + df["mol_id"][known].astype(str),
            "target": key[known], "kind": "target",
        })

    def read_genes(self) -> None:
        parts, mol_links = [], []
        for csv in sorted(glob.glob(str(self.folder / "G-*.csv.gz"))):
            stem = Path(csv).name[: -len(".csv.gz")]
            if stem != "G-G":
                profiles, links = self._gene_file(csv, stem)
                parts.append(profiles)
                mol_links.extend([] if links is None else [links])
        if not parts:
            return
        gene_features = pd.concat(parts, axis=1, join="outer")
        # genes in order of first appearance over the files (sorted by name)
        first_seen = pd.Index(np.concatenate([part.index.to_numpy(object) for part in parts]))
        gene_features = gene_features.reindex(first_seen.unique())
        self.profiles["gene"] = gene_features
        self.genes = pd.DataFrame({"id": gene_features.index.to_numpy()})
        self.links.extend(mol_links)
        self.read_interactions()

    def read_interactions(self) -> None:
        path = self.folder / "G-G.csv.gz"
        if not path.is_file():
            return
        gg = read_table(path)
        for column in ("source_id", "target_id"):
            if column not in gg.columns:
                raise ValueError(f"{path}: missing column {column!r}")
        src = GENE_PREFIX + gg["source_id"].map(_gene_key)
        dst = GENE_PREFIX + gg["target_id"].map(_gene_key)
        known = set(self.genes["id"])
        ok = src.isin(known) & dst.isin(known) & (src != dst)
        self.links.append(pd.DataFrame({"source": src[ok], "target": dst[ok],
                                        "kind": "interaction"}))


def read_infoalign_raw(folder, **options) -> ContextGraph:
    """Read the InfoAlign authors' raw pretraining files into a :class:`ContextGraph`.

    Expected files (as written by their ``create_nx_graph``; optional ones may be absent):

    - ``structure.csv.gz``: ``mol_id``, ``smiles`` (optional ``inchikey``: skeleton keys).
    - ``CP-<source>.csv.gz`` + ``CP-<source>_feature.npz`` (array ``data``, one row per CSV
      row): a profile id column (``cell_jid`` / ``cell_bid``) and ``mol_id``. Rows of one
      molecule are median-aggregated per source and the sources concatenated (columns
      ``<source>:<j>``) into one morphology node ``cp:<mol_id>``, as the authors merge them.
    - ``GE.csv.gz`` + ``GE_feature.npz``: ``express_id`` (or ``gene_id``, as in the released
      files) and ``mol_id``; one expression node ``ge:<id>`` per row. Column ``j`` is named
      after ``L1k_idmaps.csv``'s ``ncbi_gene_id`` when that file is present, which links
      expression columns to gene nodes ``gene:<ncbi id>`` (otherwise ``ge_<j>``).
    - ``G-<source>.csv.gz`` + ``G-<source>_feature.npz`` (e.g. CRISPR, ORF): ``ncbi_gene_id``
      (optional ``mol_id``); the gene's morphology profile, median per gene and source,
      sources concatenated, on gene node ``gene:<ncbi id>``. A ``mol_id`` naming a molecule
      gives a molecule-gene ``target`` edge.
    - ``G-G.csv.gz``: ``source_id``, ``target_id`` NCBI ids: gene-gene ``interaction`` edges
      (kept where both genes are gene nodes, as the authors do).

    Molecule-profile rows are ``perturbation`` edges. Rows naming a ``mol_id`` absent from
    ``structure.csv.gz`` are skipped and counted in ``graph.metadata["skipped_rows"]``.

    Parameters
    ----------
    folder : str or path-like
    **options
        Passed to :meth:`ContextGraph.from_tables` (``similarity_threshold``, ``sparsity``,
        ``fingerprint_radius``, ...). The authors' code uses ``fingerprint_radius=4``.

    Returns
    -------
    ContextGraph

    Examples
    --------
    >>> graph = read_infoalign_raw("raw_data/pretrain/raw")  # doctest: +SKIP
    """
    folder = Path(folder)
    raw = _RawTables(folder)
    raw.read_morphology()
    raw.read_expression()
    raw.read_genes()
    links = pd.concat(raw.links, ignore_index=True) if raw.links else None
    metadata = dict(options.pop("metadata", {}) or {})
    metadata.update({"source": "InfoAlign raw layout", "folder": str(folder.absolute()),
                     "skipped_rows": raw.skipped})
    return ContextGraph.from_tables(raw.molecules, raw.profiles, genes=raw.genes, links=links,
                                    metadata=metadata, **options)
