"""infoalign-sklearn: molecular representations learned in a cell, the scikit-learn way.

The package is lazy (PEP 562, as scikit-learn does): ``import infoalign_sklearn`` loads no
torch, torch_geometric, skorch or RDKit. A public name is imported from its module the first
time it is used, so ``from infoalign_sklearn import MorganFingerprint`` pays for RDKit only and
``infoalign --help`` answers at once. ``dir()`` and ``__all__`` list every public name.
"""

from __future__ import annotations

import importlib

from ._version import __version__ as __version__

# public name -> module (relative to this package) that defines it
_LAZY_NAMES = {
    "InvalidMoleculeError": ".chem",
    "scaffold_of": ".chem",
    "smiles_to_graph": ".chem",
    "ContrastiveEmbedder": ".embedders",
    "SimulatedDataWarning": ".embedders",
    "fetch_authors_checkpoint": ".datasets",
    "fetch_benchmark": ".datasets",
    "load_benchmark": ".datasets",
    "load_csv": ".datasets",
    "embed_partitions": ".distributed",
    "InfoAlignEmbedder": ".embedders",
    "AuthorsCheckpointError": ".nn.authors",
    "MultiTaskMLPClassifier": ".estimators.mlp",
    "MultiTaskMLPRegressor": ".estimators.mlp",
    "PerTaskEstimator": ".estimators.per_task",
    "TanimotoKernel": ".estimators.kernels",
    "MorganFingerprint": ".fingerprints",
    "RDKitDescriptors": ".fingerprints",
    "ContextGraph": ".graph",
    "make_synthetic_context": ".graph",
    "evaluate_matching": ".matching",
    "profile_scores": ".embedders",
    "random_matching_baseline": ".matching",
    "hit_at_k": ".metrics",
    "multitask_mae": ".metrics",
    "multitask_roc_auc": ".metrics",
    "multitask_rmse": ".metrics",
    "multitask_roc_auc_scorer": ".metrics",
    "ndcg_at_k": ".metrics",
    "neg_multitask_mae_scorer": ".metrics",
    "neg_multitask_rmse_scorer": ".metrics",
    "per_task_mae": ".metrics",
    "per_task_rmse": ".metrics",
    "per_task_roc_auc": ".metrics",
    "share_of_tasks_above": ".metrics",
    "ScaffoldKFold": ".model_selection",
    "scaffold_groups": ".model_selection",
    "scaffold_split_indices": ".model_selection",
    "scaffold_train_valid_test_split": ".model_selection",
    "scaffold_validation_split": ".model_selection",
    "FileFormatError": ".readers",
    "GCTData": ".readers",
    "MatchReport": ".readers",
    "read_cellpainting": ".readers",
    "read_consensus_signatures": ".readers",
    "read_gct": ".readers",
    "read_gctx": ".readers",
    "read_infoalign_raw": ".readers",
    "read_jump_profiles": ".readers",
    "read_l1000": ".readers",
}

# subpackages and modules reachable as attributes (``infoalign_sklearn.readers``)
_SUBMODULES = (
    "benchmark", "chem", "cli", "contrastive", "datasets", "distributed", "embedders",
    "estimators",
    "fingerprints", "graph", "matching", "metrics", "model_selection", "nn", "readers",
)

__all__ = sorted([*_LAZY_NAMES, "readers"])


def __getattr__(name: str):
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name], __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_NAMES, *_SUBMODULES})
