"""The torch-backed molecule embedders: InfoAlign and the contrastive baseline.

Modules: :mod:`._base` (the fit template: training loop, checkpoints, optimiser),
:mod:`._transform` (device and chunked encoding), :mod:`._persistence` (graph reference,
pickling, ``save_pretrained`` / ``from_pretrained``), :mod:`._profiles` (profile scaling and
zero-shot profile scoring), :mod:`.infoalign` and :mod:`.contrastive`.
"""

from ._base import CHECKPOINT_NAME, OPTIMIZERS, EpochLosses, GraphTrainedEmbedder, seed_for
from ._persistence import (
    PRETRAINED_FORMAT_PREFIX,
    PRETRAINED_FORMAT_VERSION,
    GraphReference,
    SimulatedDataWarning,
)
from ._profiles import feature_bounds_of, profile_scores, scale_profiles
from ._transform import resolve_device
from .contrastive import PROFILE_MODALITIES, ContrastiveEmbedder
from .infoalign import InfoAlignEmbedder

__all__ = [
    "CHECKPOINT_NAME", "OPTIMIZERS", "PRETRAINED_FORMAT_PREFIX", "PRETRAINED_FORMAT_VERSION",
    "PROFILE_MODALITIES", "ContrastiveEmbedder", "EpochLosses", "GraphReference",
    "GraphTrainedEmbedder", "InfoAlignEmbedder", "SimulatedDataWarning", "feature_bounds_of",
    "profile_scores", "resolve_device", "scale_profiles", "seed_for",
]
