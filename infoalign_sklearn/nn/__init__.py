"""Torch modules only: the GIN encoder, the MLP block, the models and their loss terms."""

from .authors import AuthorsCheckpoint, AuthorsCheckpointError, load_authors_checkpoint
from .contrastive import ContrastiveModel, symmetric_info_nce
from .encoder import GaussianEncoder, GINVirtualNode, upgrade_state_dict
from .infoalign import InfoAlignModel, kl_to_standard_normal, modality_loss
from .mlp import MLP, MLPDecoder

__all__ = [
    "MLP", "AuthorsCheckpoint", "AuthorsCheckpointError", "ContrastiveModel", "GINVirtualNode",
    "GaussianEncoder", "InfoAlignModel", "MLPDecoder", "kl_to_standard_normal",
    "load_authors_checkpoint", "modality_loss", "symmetric_info_nce", "upgrade_state_dict",
]
