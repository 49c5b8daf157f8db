"""The node table of a context graph: checked read-only arrays, feature blocks, content hash."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np

from .blocks import FeatureBlock, frozen
from .schema import EDGE_KINDS, MODALITIES, NODE_KINDS, node_id

__all__ = ["content_digest", "node_arrays", "ordered_blocks"]


def _optional_strings(values) -> np.ndarray:
    return np.array([None if v is None or v != v else str(v) for v in values], dtype=object)


def node_arrays(node_ids, kinds, smiles, inchikey14=None) -> tuple:
    """Read-only ``(node_ids, kind codes, smiles, inchikey14 or None)``, checked.

    Kinds are names of ``NODE_KINDS`` and become int8 codes; missing SMILES / keys are None.
    """
    node_ids = np.array([node_id(i) for i in node_ids], dtype=object)
    if (node_ids == "").any():
        raise ValueError(f"node ids must not be empty (index {int(np.flatnonzero(node_ids == '')[0])})")
    n = len(node_ids)
    kinds = np.asarray(kinds, dtype=object)
    unknown = sorted(set(kinds.tolist()) - set(NODE_KINDS))
    if unknown:
        raise ValueError(f"unknown node kind(s) {unknown}; expected {NODE_KINDS}")
    kind_codes = np.zeros(n, dtype=np.int8)
    for code, name in enumerate(NODE_KINDS):
        kind_codes[kinds == name] = code
    smiles = _optional_strings(smiles)
    if len(kinds) != n or len(smiles) != n:
        raise ValueError("node_ids, kinds and smiles must have the same length")
    if len(set(node_ids.tolist())) != n:
        raise ValueError("node ids must be unique")
    for arr in (node_ids, smiles):
        arr.setflags(write=False)
    keys = None
    if inchikey14 is not None:
        keys = _optional_strings(inchikey14)
        if keys.shape != (n,):
            raise ValueError("inchikey14 must have one entry per node")
        keys.setflags(write=False)
    return node_ids, frozen(kind_codes), smiles, keys


def ordered_blocks(blocks: Mapping[str, FeatureBlock] | None, n_nodes: int) -> dict:
    """The feature blocks in ``MODALITIES`` order, each checked to cover ``n_nodes`` nodes."""
    blocks = dict(blocks or {})
    for name, block in blocks.items():
        if name not in MODALITIES:
            raise ValueError(f"unknown modality {name!r}; expected one of {MODALITIES}")
        if block.rows.shape != (n_nodes,):
            raise ValueError(f"block {name!r} has rows for {block.rows.shape[0]} nodes, "
                             f"graph {n_nodes}")
    return {m: blocks[m] for m in MODALITIES if m in blocks}


def content_digest(arrays: Mapping, node_ids, smiles, blocks: Mapping) -> str:
    """sha256 of a graph's content: arrays, node table, feature names, edge-kind names."""
    digest = hashlib.sha256()
    for name, array in sorted(arrays.items()):
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        if array.size:
            digest.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8))
    for column in (node_ids, smiles):
        digest.update("\x1f".join("" if v is None else v for v in column.tolist()).encode())
        digest.update(b"\x1e")
    for name, block in blocks.items():
        digest.update(f"{name}|{block.binary}|".encode())
        digest.update("\x1f".join(block.columns).encode())
    digest.update("\x1f".join(EDGE_KINDS + NODE_KINDS).encode())
    return digest.hexdigest()
