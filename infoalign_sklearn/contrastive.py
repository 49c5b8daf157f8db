"""Where :class:`ContrastiveEmbedder` was defined before the ``embedders`` package: embedders
pickled by earlier releases name it by this path, so it stays importable from here."""

from .embedders import PROFILE_MODALITIES, ContrastiveEmbedder

__all__ = ["PROFILE_MODALITIES", "ContrastiveEmbedder"]
