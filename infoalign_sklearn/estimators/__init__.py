"""NaN-aware multi-task heads for molecular representations.

- :class:`MultiTaskMLPClassifier` / :class:`MultiTaskMLPRegressor` (:mod:`.mlp`): the paper's
  downstream MLP on skorch, with the loss restricted to measured labels (:mod:`.networks`);
- :class:`PerTaskEstimator` (:mod:`.per_task`): one clone of any scikit-learn estimator per
  task, fitted on the rows where that task is measured;
- :class:`TanimotoKernel` (:mod:`.kernels`): the standard fingerprint kernel for Gaussian
  processes.

NaN in ``y`` means "not measured" everywhere in this package.
"""

from .kernels import TanimotoKernel
from .mlp import MultiTaskMLPClassifier, MultiTaskMLPRegressor
from .networks import masked_loss
from .per_task import PerTaskEstimator
from .scoring import masked_accuracy, masked_r2

__all__ = [
    "MultiTaskMLPClassifier",
    "MultiTaskMLPRegressor",
    "PerTaskEstimator",
    "TanimotoKernel",
    "masked_accuracy",
    "masked_loss",
    "masked_r2",
]
