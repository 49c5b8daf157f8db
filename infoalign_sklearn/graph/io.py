"""Files: the package's own graph directory format (the InfoAlign authors' raw layout is read by
:func:`infoalign_sklearn.readers.read_infoalign_raw`).

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

import json
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._utils.io import atomic_directory, file_sha256, replace_lock
from .._version import __version__
from .blocks import FeatureBlock
from .schema import EDGE_KINDS, MODALITIES, NODE_KINDS

FORMAT_NAME = "infoalign-sklearn/context-graph"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
NODES = "nodes.parquet"


class ContextGraphFileError(ValueError):
    """A saved graph cannot be read: missing, truncated or altered file, unknown version."""


def _write_payload(graph, folder: Path) -> None:
    with open(folder / ARRAYS, "wb") as fh:
        np.savez(fh, **graph.arrays())
    nodes = pd.DataFrame({"node_id": graph.node_ids.tolist(),
                          "smiles": graph.nodes["smiles"].tolist()})
    if graph._inchikey14 is not None:
        nodes["inchikey14"] = graph._inchikey14.tolist()
    nodes.to_parquet(folder / NODES, index=False)


def _write_manifest(graph, folder: Path) -> None:
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


def save_graph(graph, path, overwrite: bool = False) -> str:
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
    >>> from infoalign_sklearn.graph import ContextGraph
    >>> g = ContextGraph.from_edges(["a"], ["gene"], [None])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save_graph(g, os.path.join(tmp, "g"))
    ...     sorted(os.listdir(out))
    ['arrays.npz', 'manifest.json', 'nodes.parquet']
    """
    target = Path(path).absolute()

    def may_replace(target: Path) -> None:
        if target.exists():
            if not overwrite:
                raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
            if not (target.is_dir() and (target / MANIFEST).is_file()):
                raise FileExistsError(
                    f"{target} exists and is not a saved ContextGraph; refusing to replace it"
                )

    # fail before the work; checked again under the lock, before the swap. The early check
    # takes the same lock: unlocked, it could look between another writer's two renames (the
    # path absent after exists() said it was there) and refuse a valid graph
    if target.parent.is_dir():
        with replace_lock(target):
            may_replace(target)
    # the manifest is written last: a directory without it is never loadable
    with atomic_directory(target, check=may_replace) as tmp:
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
    if not isinstance(files, dict):
        raise ContextGraphFileError(f"{folder / MANIFEST}: 'files' must map file names to their "
                                    f"size and checksum, found {type(files).__name__}")
    for name in (ARRAYS, NODES):
        file_path = folder / name
        expected = files.get(name)
        if expected is None:
            raise ContextGraphFileError(f"{folder / MANIFEST}: no entry for {name}")
        if not (isinstance(expected, dict) and isinstance(expected.get("bytes"), int)
                and isinstance(expected.get("sha256"), str)):
            raise ContextGraphFileError(f"{folder / MANIFEST}: the entry for {name} must hold "
                                        f"'bytes' (an integer) and 'sha256' (text), found "
                                        f"{expected!r}"[:300])
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


class GraphFiles(NamedTuple):
    """What a saved graph directory holds: the ``ContextGraph`` arguments and the manifest."""

    arguments: dict
    content_hash: str | None
    folder: str


def _read_blocks(folder: Path, manifest: dict, arrays: dict) -> dict:
    blocks = {}
    for modality, info in manifest.get("blocks", {}).items():
        if modality not in MODALITIES:
            raise ContextGraphFileError(f"{folder}: unknown modality {modality!r}")
        blocks[modality] = FeatureBlock(
            arrays[f"{modality}.rows"], arrays[f"{modality}.values"],
            arrays[f"{modality}.lower"], arrays[f"{modality}.upper"],
            tuple(info["columns"]), bool(info["binary"]),
        )
    return blocks


def read_graph_files(path) -> GraphFiles:
    """Read and check a directory written by :func:`save_graph` (format version, file hashes).

    ``ContextGraph(**files.arguments)`` is the graph; :func:`load_graph` also checks its
    content hash against ``files.content_hash``.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ContextGraphFileError
        For a missing manifest or file, a truncated or altered file or a format version newer
        than this library reads.
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
    arguments = {
        "node_ids": nodes["node_id"].tolist(),
        "kinds": np.asarray(NODE_KINDS, dtype=object)[arrays["node_kinds"]],
        "smiles": [None if s is None or s != s else s for s in nodes["smiles"].tolist()],
        "blocks": _read_blocks(folder, manifest, arrays),
        "indptr": arrays["indptr"], "indices": arrays["indices"],
        "weights": arrays["weights"], "edge_kinds": arrays["edge_kinds"],
        "metadata": manifest.get("metadata", {}),
        "inchikey14": nodes["inchikey14"].tolist() if "inchikey14" in nodes.columns else None,
    }
    return GraphFiles(arguments, manifest.get("content_hash"), str(folder))
