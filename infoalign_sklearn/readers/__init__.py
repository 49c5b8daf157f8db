"""Readers for the public formats behind a cellular context graph.

Each reader returns pieces in the ``ContextGraph.from_tables`` format: molecules
(``id``, ``smiles``), profile DataFrames indexed by node id, links (``source``, ``target``,
``kind``, ``weight``). Node ids: ``mol:<InChIKey skeleton>``, ``cp:...`` (morphology),
``ge:...`` (expression), ``gene:<SYMBOL>``.
"""

from ._common import FileFormatError, Profiles, read_table, select_features, table_format
from .annotations import (
    GENE_PREFIX,
    HETIONET_GENE_METAEDGES,
    CompoundTargets,
    entrez_symbols,
    gene_node_id,
    overexpression_profiles,
    perturbation_links,
    read_compound_targets,
    read_hetionet_sif,
    read_lincs_dysregulation,
    read_ppi,
)
from .cellpainting import read_cellpainting
from .compounds import SMILES_COLUMNS, read_inchikey_bridge, read_jump_compounds, read_smiles_list
from .consensus import read_consensus_signatures
from .identifiers import (
    MOLECULE_PREFIX,
    MatchReport,
    clean_smiles,
    ik14_from_inchikey,
    map_identifiers,
    molecule_keys,
    molecule_node_id,
    molecule_table,
    normalize_brd_id,
    read_hmslincs_sdf,
    read_pertinfo,
)
from .infoalign_raw import read_infoalign_raw
from .jump import JUMP_DMSO, read_feature_names, read_jump_profiles
from .l1000 import (
    L1000_CONTROL_TYPES,
    GCTData,
    concat_gct,
    expression_profiles,
    read_gct,
    read_gctx,
    read_l1000,
    read_l1000_csv,
)

__all__ = [
    "GENE_PREFIX", "HETIONET_GENE_METAEDGES", "JUMP_DMSO", "L1000_CONTROL_TYPES",
    "MOLECULE_PREFIX", "SMILES_COLUMNS",
    "CompoundTargets", "FileFormatError", "GCTData", "MatchReport", "Profiles", "clean_smiles", "concat_gct",
    "entrez_symbols", "expression_profiles", "gene_node_id", "ik14_from_inchikey", "map_identifiers",
    "molecule_keys", "molecule_node_id", "molecule_table", "normalize_brd_id",
    "overexpression_profiles", "perturbation_links", "read_cellpainting", "read_compound_targets",
    "read_gct", "read_gctx", "read_hetionet_sif", "read_hmslincs_sdf", "read_infoalign_raw",
    "read_l1000", "read_l1000_csv", "read_lincs_dysregulation", "read_pertinfo", "read_ppi",
    "read_table", "select_features", "table_format",
    "read_consensus_signatures", "read_feature_names", "read_inchikey_bridge",
    "read_jump_compounds", "read_jump_profiles", "read_smiles_list",
]
