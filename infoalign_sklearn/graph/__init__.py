"""The cellular context graph: storage, builders, random walks, files and simulated biology.

This package never imports torch modules (``nn`` depends on it, not the other way round).
"""

from .builders import gene_node_id, minmax_scale, similarity_edges
from .context import (
    EDGE_KINDS,
    MODALITIES,
    MODALITY_NODE_KIND,
    NODE_KINDS,
    ContextGraph,
    FeatureBlock,
)
from .io import ContextGraphFileError, load_graph, read_infoalign_raw, save_graph
from .synthetic import MECHANISM_SMARTS, SyntheticContext, make_synthetic_context
from .walks import random_walks

__all__ = [
    "EDGE_KINDS", "MECHANISM_SMARTS", "MODALITIES", "MODALITY_NODE_KIND", "NODE_KINDS",
    "ContextGraph", "ContextGraphFileError", "FeatureBlock", "SyntheticContext",
    "gene_node_id", "load_graph", "make_synthetic_context", "minmax_scale", "random_walks",
    "read_infoalign_raw", "save_graph", "similarity_edges",
]
