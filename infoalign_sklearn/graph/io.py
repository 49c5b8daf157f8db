"""Files: the package's own graph directory format, and the InfoAlign authors' raw layout.

Saved graph (a directory; no pickle anywhere)::

    manifest.json   format name and version, content hash, sha256 + size of every file,
                    feature names, metadata
    arrays.npz      CSR edges, node kinds, every feature block (read with allow_pickle=False)
    nodes.parquet   node ids, SMILES (and skeleton InChIKeys when known)

Saving writes into a temporary directory next to the target, fsyncs every file, writes the
manifest last and only then renames the directory into place, so an interrupted save never
leaves something :func:`load_graph` accepts.
"""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_directory, file_sha256
from .context import EDGE_KINDS, MODALITIES, NODE_KINDS, ContextGraph, FeatureBlock

FORMAT_NAME = "infoalign-sklearn/context-graph"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
NODES = "nodes.parquet"


class ContextGraphFileError(ValueError):
    """A saved graph cannot be read: missing, truncated or altered file, unknown version."""


def _write_payload(graph: ContextGraph, folder: Path) -> None:
    with open(folder / ARRAYS, "wb") as fh:
        np.savez(fh, **graph.arrays())
    nodes = pd.DataFrame({"node_id": graph.node_ids.tolist(),
                          "smiles": graph.nodes["smiles"].tolist()})
    if graph._inchikey14 is not None:
        nodes["inchikey14"] = graph._inchikey14.tolist()
    nodes.to_parquet(folder / NODES, index=False)


def _write_manifest(graph: ContextGraph, folder: Path) -> None:
    from .._version import __version__

    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "content_hash": graph.content_hash,
        "n_nodes": graph.n_nodes,
        "n_edges": graph.n_edges,
        "node_kinds": list(NODE_KINDS),
        "edge_kinds": list(EDGE_KINDS),
        "blocks": {m: {"columns": list(graph.feature_block(m).columns),
                       "binary": graph.feature_block(m).binary} for m in graph.modalities},
        "metadata": dict(graph.metadata),
        "files": {name: {"sha256": file_sha256(folder / name), "bytes": (folder / name).stat().st_size}
                  for name in (ARRAYS, NODES)},
    }
    with open(folder / MANIFEST, "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())


def save_graph(graph: ContextGraph, path, overwrite: bool = False) -> str:
    """Write ``graph`` to the directory ``path`` atomically.

    Parameters
    ----------
    graph : ContextGraph
    path : str or path-like
        Target directory (created; its parent is created too).
    overwrite : bool, default=False
        Replace an existing saved graph at ``path``. A directory that is not a saved graph is
        never replaced.

    Returns
    -------
    str
        The absolute path written.

    Examples
    --------
    >>> import tempfile, os
    >>> g = ContextGraph.from_edges(["a"], ["gene"], [None])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save_graph(g, os.path.join(tmp, "g"))
    ...     sorted(os.listdir(out))
    ['arrays.npz', 'manifest.json', 'nodes.parquet']
    """
    target = Path(path).absolute()
    if target.exists():
        if not overwrite:
            raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
        if not (target.is_dir() and (target / MANIFEST).is_file()):
            raise FileExistsError(
                f"{target} exists and is not a saved ContextGraph; refusing to replace it"
            )
    # the manifest is written last: a directory without it is never loadable
    with atomic_directory(target) as tmp:
        _write_payload(graph, tmp)
        _write_manifest(graph, tmp)
    return str(target)


def _read_manifest(folder: Path) -> dict:
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ContextGraphFileError(
            f"{folder}: {MANIFEST} is missing; this is not a saved ContextGraph (or a save was "
            "interrupted before it finished)"
        )
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ContextGraphFileError(f"{manifest_path}: not valid JSON ({err}); the file is "
                                    "corrupt or truncated") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ContextGraphFileError(
            f"{manifest_path}: format is {manifest.get('format') if isinstance(manifest, dict) else None!r}, "
            f"expected {FORMAT_NAME!r}"
        )
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ContextGraphFileError(f"{manifest_path}: invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ContextGraphFileError(
            f"{folder} was written in graph format version {version} (by infoalign-sklearn "
            f"{manifest.get('library_version', '?')}); this version reads up to "
            f"{FORMAT_VERSION}. Upgrade infoalign-sklearn to load it."
        )
    return manifest


def _check_files(folder: Path, manifest: dict) -> None:
    files = manifest.get("files", {})
    for name in (ARRAYS, NODES):
        file_path = folder / name
        expected = files.get(name)
        if expected is None:
            raise ContextGraphFileError(f"{folder / MANIFEST}: no entry for {name}")
        if not file_path.is_file():
            raise ContextGraphFileError(f"{folder}: file {name} is missing")
        size = file_path.stat().st_size
        if size != expected["bytes"]:
            state = "truncated" if size < expected["bytes"] else "larger than written"
            raise ContextGraphFileError(
                f"{file_path}: {size} bytes, expected {expected['bytes']}: the file is {state}"
            )
        if file_sha256(file_path) != expected["sha256"]:
            raise ContextGraphFileError(
                f"{file_path}: sha256 does not match the manifest; the file was altered or "
                "corrupted after saving"
            )


def load_graph(path) -> ContextGraph:
    """Read a graph written by :func:`save_graph`, checking format version and hashes.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ContextGraphFileError
        For a missing manifest or file, a truncated or altered file, a content-hash mismatch
        or a format version newer than this library reads.

    Examples
    --------
    >>> import tempfile, os
    >>> g = ContextGraph.from_edges(["a"], ["gene"], [None])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     h = load_graph(save_graph(g, os.path.join(tmp, "g")))
    >>> h.n_nodes
    1
    """
    folder = Path(path).absolute()
    if not folder.exists():
        raise FileNotFoundError(f"no saved ContextGraph at {folder}")
    if not folder.is_dir():
        raise ContextGraphFileError(f"{folder} is a file; a saved ContextGraph is a directory")
    manifest = _read_manifest(folder)
    _check_files(folder, manifest)
    try:
        with np.load(folder / ARRAYS, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        nodes = pd.read_parquet(folder / NODES)
    except Exception as err:
        raise ContextGraphFileError(f"{folder}: cannot read the graph files ({err})") from err
    if list(manifest.get("edge_kinds", [])) != list(EDGE_KINDS) or \
            list(manifest.get("node_kinds", [])) != list(NODE_KINDS):
        raise ContextGraphFileError(f"{folder}: node / edge kind vocabulary differs from this "
                                    "library's; it was written by an incompatible version")
    blocks = {}
    for modality, info in manifest.get("blocks", {}).items():
        if modality not in MODALITIES:
            raise ContextGraphFileError(f"{folder}: unknown modality {modality!r}")
        blocks[modality] = FeatureBlock(
            arrays[f"{modality}.rows"], arrays[f"{modality}.values"],
            arrays[f"{modality}.lower"], arrays[f"{modality}.upper"],
            tuple(info["columns"]), bool(info["binary"]),
        )
    kinds = np.asarray(NODE_KINDS, dtype=object)[arrays["node_kinds"]]
    smiles = [None if s is None or s != s else s for s in nodes["smiles"].tolist()]
    keys = nodes["inchikey14"].tolist() if "inchikey14" in nodes.columns else None
    graph = ContextGraph(
        nodes["node_id"].tolist(), kinds, smiles, blocks, arrays["indptr"], arrays["indices"],
        arrays["weights"], arrays["edge_kinds"], manifest.get("metadata", {}), keys,
    )
    if graph.content_hash != manifest.get("content_hash"):
        raise ContextGraphFileError(
            f"{folder}: content hash {graph.content_hash[:12]}... does not match the manifest's "
            f"{str(manifest.get('content_hash'))[:12]}...; the graph was altered after saving"
        )
    object.__setattr__(graph, "source_path", str(folder))
    return graph


# --- the InfoAlign authors' raw pretraining layout ---------------------------------------

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


def _profiles_by(df: pd.DataFrame, features: np.ndarray, key: pd.Series, prefix: str):
    """Median of the feature rows sharing a key; columns named ``<prefix>:<j>``."""
    table = pd.DataFrame(features, columns=[f"{prefix}:{j}" for j in range(features.shape[1])])
    keep = key.notna().to_numpy()
    return table[keep].groupby(key[keep].to_numpy(), sort=False).median()


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
    structure_path = folder / "structure.csv.gz"
    if not structure_path.is_file():
        raise FileNotFoundError(f"{folder}: structure.csv.gz is missing (InfoAlign raw layout)")
    structure = pd.read_csv(structure_path)
    for column in ("mol_id", "smiles"):
        if column not in structure.columns:
            raise ValueError(f"{structure_path}: missing column {column!r}")
    structure = structure.drop_duplicates(subset="mol_id")
    molecules = pd.DataFrame({"id": "mol:" + structure["mol_id"].astype(str),
                              "smiles": structure["smiles"].to_numpy()})
    if "inchikey" in structure.columns:
        molecules["inchikey14"] = structure["inchikey"].astype(str).str[:14].to_numpy()
    known_mols = set(structure["mol_id"].astype(str))
    skipped: dict = {}
    link_parts: list = []
    profiles: dict = {}

    def molecule_rows(df, name):
        ids = df["mol_id"].astype(str)
        known = ids.isin(known_mols) & df["mol_id"].notna()
        if (~known).any():
            skipped[name] = int((~known).sum())
        return known.to_numpy()

    cp_parts = []
    for csv in sorted(glob.glob(str(folder / "CP-*.csv.gz"))):
        stem = Path(csv).name[: -len(".csv.gz")]
        df = pd.read_csv(csv)
        if "mol_id" not in df.columns:
            raise ValueError(f"{csv}: missing column 'mol_id'")
        features = _features(folder, stem, len(df))
        keep = molecule_rows(df, Path(csv).name)
        key = ("cp:" + df["mol_id"].astype(str)).where(keep)
        cp_parts.append(_profiles_by(df, features, key, stem[len("CP-"):]))
    if cp_parts:
        morphology = pd.concat(cp_parts, axis=1, join="outer")
        # one node per molecule, in structure.csv.gz order
        in_order = ("cp:" + structure["mol_id"].astype(str)).to_numpy()
        morphology = morphology.reindex([i for i in in_order if i in morphology.index])
        profiles["morphology"] = morphology
        mol_of = morphology.index.str[len("cp:"):]
        link_parts.append(pd.DataFrame({"source": "mol:" + mol_of, "target": morphology.index,
                                        "kind": "perturbation"}))

    ge_path = folder / "GE.csv.gz"
    if ge_path.is_file():
        df = pd.read_csv(ge_path)
        id_col = _id_column(df, str(ge_path), ("express_id", "gene_id"))
        features = _features(folder, "GE", len(df))
        keep = molecule_rows(df, ge_path.name)
        columns = [f"ge_{j}" for j in range(features.shape[1])]
        idmap = folder / "L1k_idmaps.csv"
        if idmap.is_file():
            ids = pd.read_csv(idmap)
            if "ncbi_gene_id" in ids.columns and len(ids) == features.shape[1]:
                columns = [_gene_key(v) for v in ids["ncbi_gene_id"]]
        key = ("ge:" + df[id_col].astype(str)).where(keep)
        table = pd.DataFrame(features, columns=range(features.shape[1]))[keep]
        expression = table.groupby(key[keep].to_numpy(), sort=False).median()
        # duplicated symbols would make two columns one gene: suffix repeats to stay unique
        expression.columns = _unique(columns)
        profiles["expression"] = expression
        pairs = pd.DataFrame({"source": "mol:" + df["mol_id"][keep].astype(str),
                              "target": key[keep]}).drop_duplicates()
        pairs["kind"] = "perturbation"
        link_parts.append(pairs)

    gene_parts = []
    gene_mol_links = []
    for csv in sorted(glob.glob(str(folder / "G-*.csv.gz"))):
        stem = Path(csv).name[: -len(".csv.gz")]
        if stem == "G-G":
            continue
        df = pd.read_csv(csv)
        if "ncbi_gene_id" not in df.columns:
            raise ValueError(f"{csv}: missing column 'ncbi_gene_id'")
        features = _features(folder, stem, len(df))
        key = "gene:" + df["ncbi_gene_id"].map(_gene_key)
        key = key.where(df["ncbi_gene_id"].notna())
        gene_parts.append(_profiles_by(df, features, key, stem[len("G-"):]))
        if "mol_id" in df.columns:
            present = df["mol_id"].notna() & df["ncbi_gene_id"].notna()
            known = present & df["mol_id"].astype(str).isin(known_mols)
            if (present & ~known).any():
                skipped[Path(csv).name] = int((present & ~known).sum())
            gene_mol_links.append(pd.DataFrame({
                "source": "mol:" + df["mol_id"][known].astype(str),
                "target": key[known], "kind": "target",
            }))
    genes = None
    if gene_parts:
        gene_features = pd.concat(gene_parts, axis=1, join="outer")
        # genes in order of first appearance over the files (sorted by name)
        first_seen = pd.Index(np.concatenate([part.index.to_numpy(object) for part in gene_parts]))
        gene_features = gene_features.reindex(first_seen.unique())
        profiles["gene"] = gene_features
        genes = pd.DataFrame({"id": gene_features.index.to_numpy()})
        link_parts.extend(gene_mol_links)
        gg_path = folder / "G-G.csv.gz"
        if gg_path.is_file():
            gg = pd.read_csv(gg_path)
            for column in ("source_id", "target_id"):
                if column not in gg.columns:
                    raise ValueError(f"{gg_path}: missing column {column!r}")
            src = "gene:" + gg["source_id"].map(_gene_key)
            dst = "gene:" + gg["target_id"].map(_gene_key)
            known = set(genes["id"])
            ok = src.isin(known) & dst.isin(known) & (src != dst)
            link_parts.append(pd.DataFrame({"source": src[ok], "target": dst[ok],
                                            "kind": "interaction"}))
    links = pd.concat(link_parts, ignore_index=True) if link_parts else None
    metadata = dict(options.pop("metadata", {}) or {})
    metadata.update({"source": "InfoAlign raw layout", "folder": str(folder.absolute()),
                     "skipped_rows": skipped})
    return ContextGraph.from_tables(molecules, profiles, genes=genes, links=links,
                                    metadata=metadata, **options)


def _unique(names) -> list:
    seen: dict = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        out.append(name if count == 0 else f"{name}.{count}")
        seen[name] = count + 1
    return out
