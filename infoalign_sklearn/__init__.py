"""infoalign-sklearn: molecular representations learned in a cell, the scikit-learn way."""

from . import readers
from .chem import InvalidMoleculeError, scaffold_of, smiles_to_graph
from .contrastive import ContrastiveEmbedder
from .datasets import fetch_benchmark, load_benchmark, load_csv
from .embedders import InfoAlignEmbedder
from .estimators import (
    MultiTaskMLPClassifier,
    MultiTaskMLPRegressor,
    PerTaskEstimator,
    TanimotoKernel,
)
from .fingerprints import MorganFingerprint
from .graph import ContextGraph, make_synthetic_context
from .matching import evaluate_matching, profile_scores, random_matching_baseline
from .metrics import (
    hit_at_k,
    multitask_mae,
    multitask_roc_auc,
    multitask_roc_auc_scorer,
    ndcg_at_k,
    neg_multitask_mae_scorer,
    per_task_mae,
    per_task_roc_auc,
    share_of_tasks_above,
)
from .model_selection import (
    ScaffoldKFold,
    scaffold_groups,
    scaffold_split_indices,
    scaffold_train_valid_test_split,
    scaffold_validation_split,
)
from .readers import (
    FileFormatError,
    GCTData,
    MatchReport,
    read_cellpainting,
    read_gct,
    read_gctx,
    read_l1000,
)

__version__ = "0.1.0"

__all__ = [
    "InfoAlignEmbedder", "InvalidMoleculeError", "MorganFingerprint", "scaffold_of", "smiles_to_graph",
]
__all__ += [
    "MultiTaskMLPClassifier", "MultiTaskMLPRegressor", "PerTaskEstimator", "ScaffoldKFold",
    "TanimotoKernel", "fetch_benchmark", "hit_at_k", "load_benchmark", "load_csv", "multitask_mae",
    "multitask_roc_auc", "multitask_roc_auc_scorer", "ndcg_at_k", "neg_multitask_mae_scorer",
    "per_task_mae", "per_task_roc_auc", "scaffold_groups", "scaffold_split_indices",
    "scaffold_train_valid_test_split", "scaffold_validation_split", "share_of_tasks_above",
]
__all__ += ["ContextGraph", "make_synthetic_context"]
__all__ += [
    "ContrastiveEmbedder", "FileFormatError", "GCTData", "MatchReport", "evaluate_matching",
    "profile_scores", "random_matching_baseline", "read_cellpainting", "read_gct", "read_gctx",
    "read_l1000", "readers",
]
