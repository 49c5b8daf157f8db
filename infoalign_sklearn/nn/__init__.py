"""Torch modules only: the GIN encoder, the InfoAlign model and loss terms."""

from .encoder import GaussianEncoder, GINVirtualNode
from .infoalign import InfoAlignModel, MLPDecoder, kl_to_standard_normal, modality_loss

__all__ = [
    "GINVirtualNode", "GaussianEncoder", "InfoAlignModel", "MLPDecoder",
    "kl_to_standard_normal", "modality_loss",
]
