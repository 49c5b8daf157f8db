"""The cellular context graph: vocabulary, feature blocks, builders, storage, walks and files.

Modules, lowest first: ``schema`` (node / edge kinds, modalities, node-id prefixes),
``blocks`` (feature blocks and their min-max :class:`Bounds`), ``similarity``, ``validation``,
``edges``, ``csr``, ``walks``, ``summary``, ``exclusion`` (what leaves with excluded
molecules), ``io`` (the saved-graph format), ``builders``
(tables -> graph parts), ``context`` (:class:`ContextGraph`) and ``synthetic`` (SIMULATED
biology). This package never imports torch modules (``nn`` depends on it, not the other way
round), nor the readers (they produce tables for the builders).
"""

from .blocks import Bounds, FeatureBlock, minmax_scale
from .builders import BuildOptions
from .context import ContextGraph, load_graph
from .exclusion import MoleculeRemoval
from .io import ContextGraphFileError, save_graph
from .schema import (
    EDGE_KINDS,
    EXPRESSION_PREFIX,
    GENE_PREFIX,
    MODALITIES,
    MODALITY_NODE_KIND,
    MOLECULE_PREFIX,
    MORPHOLOGY_PREFIX,
    NODE_KINDS,
    gene_node_id,
    molecule_node_id,
)
from .similarity import similarity_edges
from .synthetic import MECHANISM_SMARTS, SyntheticContext, make_synthetic_context
from .walks import random_walks

__all__ = [
    "EDGE_KINDS", "EXPRESSION_PREFIX", "GENE_PREFIX", "MECHANISM_SMARTS", "MODALITIES",
    "MODALITY_NODE_KIND", "MOLECULE_PREFIX", "MORPHOLOGY_PREFIX", "NODE_KINDS", "Bounds",
    "BuildOptions", "ContextGraph", "ContextGraphFileError", "FeatureBlock", "MoleculeRemoval",
    "SyntheticContext",
    "gene_node_id", "load_graph", "make_synthetic_context", "minmax_scale", "molecule_node_id",
    "random_walks", "save_graph", "similarity_edges",
]
