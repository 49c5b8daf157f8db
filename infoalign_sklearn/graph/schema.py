"""The vocabulary of a context graph: node kinds, edge kinds, modalities and node-id prefixes.

Everything else in the package (graph storage, builders, files, readers, embedders) takes
these names from here, so the vocabulary has one definition. Saved graphs record the node and
edge kinds in their manifest; changing an entry here makes earlier files unreadable.
"""

from __future__ import annotations

from ..chem import FingerprintSpec

__all__ = [
    "EDGE_KINDS", "EXPRESSION_PREFIX", "GENE_PREFIX", "MODALITIES", "MODALITY_NODE_KIND",
    "MOLECULE_PREFIX", "MORPHOLOGY_PREFIX", "NODE_KINDS", "PROFILE_MODALITIES",
    "FingerprintSpec", "gene_node_id", "molecule_node_id",
]

MODALITIES = ("fingerprint", "morphology", "expression", "gene")
NODE_KINDS = ("molecule", "morphology", "expression", "gene")
EDGE_KINDS = ("perturbation", "interaction", "target", "expression", "similarity")
#: node kind that carries each modality's features
MODALITY_NODE_KIND = {
    "fingerprint": "molecule",
    "morphology": "morphology",
    "expression": "expression",
    "gene": "gene",
}
#: modalities given as profile tables (the fingerprint block is computed from SMILES)
PROFILE_MODALITIES = ("morphology", "expression", "gene")

#: node-id prefix of molecule nodes (``mol:<InChIKey skeleton>`` from the readers)
MOLECULE_PREFIX = "mol:"
#: node-id prefix of morphology (Cell Painting) profile nodes
MORPHOLOGY_PREFIX = "cp:"
#: node-id prefix of expression (L1000) profile nodes
EXPRESSION_PREFIX = "ge:"
#: node-id prefix of gene nodes
GENE_PREFIX = "gene:"


def node_id(value) -> str:
    """The one rule for node ids everywhere: the text of ``value`` without surrounding whitespace.

    Molecule ids, profile table indexes, link ends and lookups all go through it, so
    ``"cp:1 "`` and ``"cp:1"`` name the same node (two rows that differ only so are duplicates).

    Examples
    --------
    >>> node_id(" cp:1 "), node_id(7)
    ('cp:1', '7')
    """
    return str(value).strip()


def node_ids_of(values):
    """:func:`node_id` over a pandas Series (vectorised)."""
    return values.astype(str).str.strip()


def gene_node_id(column: str) -> str:
    """The gene node an expression column refers to: ``gene:<column>`` (kept if prefixed).

    Examples
    --------
    >>> gene_node_id("TP53"), gene_node_id("gene:TP53")
    ('gene:TP53', 'gene:TP53')
    """
    column = str(column).strip()
    return column if column.startswith(GENE_PREFIX) else GENE_PREFIX + column


def molecule_node_id(ik14: str) -> str:
    """Graph node id of a molecule: ``mol:`` + InChIKey skeleton.

    Examples
    --------
    >>> molecule_node_id("LFQSCWFLJHTTHZ")
    'mol:LFQSCWFLJHTTHZ'
    """
    return MOLECULE_PREFIX + ik14
