"""Where :class:`GraphReference` was defined before the ``embedders`` package: embedders
pickled by earlier releases name it by this path, so it stays importable from here."""

from .embedders import GraphReference

__all__ = ["GraphReference"]
