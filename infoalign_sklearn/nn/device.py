"""Where torch runs: the one rule for ``device="auto"``."""

from __future__ import annotations

import warnings

import torch


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else as torch understands it.

    A CUDA device on a machine without one (a model trained on a GPU, loaded on a laptop)
    falls back to the CPU with a warning: weights are saved as CPU tensors, so nothing else
    needs the GPU.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        warnings.warn(f"device={device!r} but CUDA is not available on this machine; using "
                      "the CPU.", UserWarning, stacklevel=2)
        return torch.device("cpu")
    return resolved
