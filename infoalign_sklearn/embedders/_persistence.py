"""Persistence of the graph-trained embedders: the graph reference a fitted embedder keeps,
a pickle that holds CPU weights and no graph matrices, and ``save_pretrained`` /
``from_pretrained`` (format ``"infoalign-sklearn/<class name>"``), which write and restore the
parameters and the fitted ``modalities_``, ``feature_bounds_``, ``graph_reference_``,
``loss_history_`` and ``n_training_molecules_``; subclasses extend ``_config()`` and
``_restore(config, state_dict)`` with what their ``_build_module`` and methods need.

Weights saved by earlier releases (their models inherited the encoder, so its keys had no
``encoder.`` prefix) are renamed on load by the models themselves
(:func:`infoalign_sklearn.nn.upgrade_state_dict`), wherever the weights come from.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import math
import os
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._utils.io import atomic_directory, file_sha256

if TYPE_CHECKING:
    from typing_extensions import Self

#: Version of the ``save_pretrained`` directory layout; a newer one refuses to load.
PRETRAINED_FORMAT_VERSION = 1
#: Prefix of the ``format`` entry of a saved embedder's config.json (then the class name).
PRETRAINED_FORMAT_PREFIX = "infoalign-sklearn/"


@dataclass(frozen=True)
class GraphReference:
    """Where a fitted embedder's context graph lives: its saved path and content hash, and
    whether the graph held SIMULATED data (``None``: not recorded, in models saved before).

    A pickled embedder keeps this instead of the graph's (possibly GB-sized) feature matrices.
    """

    path: str | None
    content_hash: str
    simulated: bool | None = None

    @classmethod
    def of(cls, graph) -> GraphReference:
        """The reference of a ContextGraph."""
        path = None if graph.source_path is None else str(graph.source_path)
        return cls(path, graph.content_hash, bool(graph.simulated))

    @classmethod
    def from_config(cls, ref: dict) -> GraphReference:
        """The reference as written in a saved embedder's config.json."""
        simulated = ref.get("simulated")
        return cls(ref["path"], ref["content_hash"], None if simulated is None else bool(simulated))

    def to_config(self) -> dict:
        return {"path": self.path, "content_hash": self.content_hash, "simulated": self.simulated}

    def load(self):
        from ..graph import ContextGraph

        if self.path is None and self.content_hash.startswith("authors-checkpoint:"):
            raise ValueError(
                "This embedder holds the InfoAlign authors' pretrained weights, which come "
                "without a context graph; pass context_graph=<ContextGraph or saved path> to "
                "pretrain a model of your own."
            )
        if self.path is None:
            raise ValueError(
                "This embedder was fitted on a context graph that was never saved, so the graph "
                "cannot be reloaded; pass context_graph=<ContextGraph or saved path> to refit."
            )
        graph = ContextGraph.load(self.path)
        if graph.content_hash != self.content_hash:
            raise ValueError(
                f"The context graph at {self.path} has changed since the embedder was fitted "
                f"(hash {graph.content_hash[:12]} != {self.content_hash[:12]})."
            )
        return graph


class SimulatedDataWarning(UserWarning):
    """A model pretrained on a SIMULATED context graph was loaded."""


def _read_config(directory: Path, name: str, expected: str) -> dict:
    """config.json of a saved ``name`` in ``directory``, checked: format, version, weights."""
    config_path, weights_path = directory / "config.json", directory / "weights.pt"
    missing = [p.name for p in (config_path, weights_path) if not p.exists()]
    if missing:
        hint = ""
        if (directory / "pretrain.pt").is_file():
            hint = (" It holds pretrain.pt: for the InfoAlign authors' checkpoint use "
                    "InfoAlignEmbedder.from_authors_checkpoint(directory).")
        raise FileNotFoundError(f"{directory} is not a saved {name}: missing {missing}.{hint}")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{config_path} is not valid JSON: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{config_path} is not UTF-8 text (byte {exc.start}); it is not the "
                         f"config.json of a saved {name}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{config_path} is not the config of a saved {name}.")
    found = config.get("format")
    if found != expected:
        if isinstance(found, str) and found.startswith(PRETRAINED_FORMAT_PREFIX):
            other = found[len(PRETRAINED_FORMAT_PREFIX):]
            raise ValueError(
                f"{directory} holds a saved {other} (format {found!r}), but "
                f"{name}.from_pretrained expects format {expected!r}; load it with "
                f"{other}.from_pretrained."
            )
        raise ValueError(
            f"{config_path} does not describe a saved {name}: format {found!r}, expected "
            f"{expected!r}."
        )
    version = config.get("format_version", math.inf)
    if not isinstance(version, Real) or version > PRETRAINED_FORMAT_VERSION:
        raise ValueError(
            f"{directory} was written by a newer infoalign-sklearn (format "
            f"{config.get('format_version')}); upgrade to load it."
        )
    if file_sha256(weights_path) != config.get("weights_sha256"):
        raise ValueError(f"{weights_path} does not match its checksum in config.json (corrupted?).")
    return config


class PersistenceMixin:
    """Pickling, ``save_pretrained`` and ``from_pretrained`` of a graph-trained embedder."""

    def __getstate__(self):
        state = self.__dict__.copy()
        graph = state.get("context_graph")
        if graph is not None and not isinstance(graph, (str, os.PathLike, GraphReference)):
            # the graph's feature matrices stay out of the pickle: keep where to find it
            state["context_graph"] = GraphReference.of(graph)
        if "module_" in state:
            module = state.pop("module_")
            state["_module_state"] = {k: v.detach().cpu() for k, v in module.state_dict().items()}
        return state

    def __setstate__(self, state):
        module_state = state.pop("_module_state", None)
        state.setdefault("precision", "float32")  # pickled before the parameter existed
        self.__dict__.update(state)
        if module_state is not None:
            module = self._build_module()
            module.load_state_dict(module_state)
            self.module_ = module.eval()

    # -------------------------------------------------------- save_pretrained
    @classmethod
    def _pretrained_format(cls) -> str:
        # "infoalign-sklearn/InfoAlignEmbedder" for InfoAlign: the name of format version 1
        return f"{PRETRAINED_FORMAT_PREFIX}{cls.__name__}"

    def _params_config(self) -> dict:
        """The constructor parameters as JSON values, without the graph.

        Paths become strings; a RandomState instance becomes None (its stream cannot be saved).
        """
        params = self.get_params(deep=False)
        params.pop("context_graph", None)
        for name, value in params.items():
            if isinstance(value, os.PathLike):
                params[name] = str(value)
        optimizer = params.get("optimizer")
        if optimizer is not None and not isinstance(optimizer, str):
            params["optimizer"] = f"{optimizer.__module__}.{optimizer.__qualname__}"
        random_state = params.get("random_state")
        if not (random_state is None or isinstance(random_state, Integral)):
            params["random_state"] = None
        return params

    @classmethod
    def _params_from_config(cls, params: dict) -> dict:
        """The inverse of :meth:`_params_config` where JSON changed a type (tuples -> lists)."""
        params = dict(params)
        optimizer = params.get("optimizer")
        if isinstance(optimizer, str) and "." in optimizer:  # a class, saved by its path
            module, _, name = optimizer.rpartition(".")
            params["optimizer"] = getattr(importlib.import_module(module), name)
        return params

    def _config(self) -> dict:
        """The fitted state both embedders share, as JSON values; subclasses add theirs."""
        return {
            "params": self._params_config(),
            "modalities": list(self.modalities_),
            "feature_bounds": {m: _bounds_config(b) for m, b in self.feature_bounds_.items()},
            "graph_reference": self.graph_reference_.to_config(),
            "loss_history": self.loss_history_,
            "n_training_molecules": self.n_training_molecules_,
        }

    def _restore(self, config: dict, state_dict: dict) -> None:
        """Set the shared fitted attributes from ``config`` and load the weights.

        Subclasses set the attributes their ``_build_module`` needs first, then call this.
        """
        self.modalities_ = tuple(config["modalities"])
        self.feature_bounds_ = {
            m: _bounds_from_config(b, m) for m, b in config["feature_bounds"].items()
        }
        self.graph_reference_ = GraphReference.from_config(config["graph_reference"])
        self.loss_history_ = list(config["loss_history"])
        self.n_epochs_ = len(self.loss_history_)
        n_molecules = config["n_training_molecules"]
        # None: not known (the authors' checkpoint)
        self.n_training_molecules_ = None if n_molecules is None else int(n_molecules)
        module = self._build_module()
        module.load_state_dict(state_dict)
        self.module_ = module.eval()

    def save_pretrained(self, directory) -> Path:
        """Write ``weights.pt`` (a state dict) and ``config.json`` to ``directory``.

        ``weights.pt`` holds the module's weights as CPU tensors; ``config.json`` the
        parameters (without the graph), the fitted attributes needed to embed molecules and
        profiles, the graph's path and content hash, the format (``"infoalign-sklearn/"`` and
        the class name, and a version) and the SHA-256 of ``weights.pt``. The directory is
        replaced as a whole: both files are written into a new directory beside it, which is
        swapped in under a lock, so a crash leaves the previous model loadable and concurrent
        saves to one directory leave one of them, whole (the last to finish). Other entries of
        an existing directory (``checkpoints/``, notes) are carried into the new one.

        Parameters
        ----------
        directory : str or path
            Where to write; created if needed.

        Returns
        -------
        directory : Path
            The directory written.
        """
        check_is_fitted(self, "module_")
        directory = Path(directory)
        # one stat: "exists, then not a directory" could fall between another writer's
        # two renames of the same directory and refuse it wrongly
        if directory.is_file():
            raise NotADirectoryError(f"{directory} is a file; save_pretrained writes a directory")
        state = {k: v.detach().cpu() for k, v in self.module_.state_dict().items()}
        buffer = io.BytesIO()
        torch.save(state, buffer)
        payload = buffer.getvalue()
        config = {
            "format": self._pretrained_format(),
            "format_version": PRETRAINED_FORMAT_VERSION,
            "weights_sha256": hashlib.sha256(payload).hexdigest(),
            **self._config(),
        }
        text = json.dumps(config, indent=2, default=_json_default)
        with atomic_directory(directory.absolute(), keep_others=True) as tmp:
            (tmp / "weights.pt").write_bytes(payload)
            (tmp / "config.json").write_text(text, encoding="utf-8")
        return directory

    @classmethod
    def from_pretrained(cls, directory, **overrides) -> Self:
        """Load an embedder written by :meth:`save_pretrained` (weights with ``weights_only``).

        The weights are checked against their SHA-256 in ``config.json``, then read on the CPU
        with ``torch.load(weights_only=True)``. The loaded embedder transforms without the
        graph: its ``context_graph`` is the saved graph reference (path and content hash), which
        a refit loads only if the graph is still there, unchanged.

        Parameters
        ----------
        directory : str or path
            A directory written by ``save_pretrained`` of this class.
        **overrides
            Constructor parameters to use instead of the saved ones, such as ``device``,
            ``batch_size``, ``n_jobs``, ``errors``, ``context_graph`` or ``checkpoint_dir``
            (not restored from the save: a refit resumes only from a folder you name).
            Parameters that shape the network (``latent_dim``, ``hidden_dim``, ...) must stay
            as saved. Every parameter is validated as ``fit`` would.

        Returns
        -------
        embedder : instance of this class
            Fitted, its module in eval mode.

        Raises
        ------
        FileNotFoundError
            ``config.json`` or ``weights.pt`` is missing.
        ValueError
            ``config.json`` is not valid JSON or lacks an entry, describes another kind of model
            (e.g. an InfoAlignEmbedder given to ``ContrastiveEmbedder.from_pretrained``) or a
            newer format, or ``weights.pt`` does not match its checksum.
        """
        name = cls.__name__
        directory = Path(directory)
        config_path, weights_path = directory / "config.json", directory / "weights.pt"
        config = _read_config(directory, name, cls._pretrained_format())
        state_dict = torch.load(weights_path, map_location="cpu", weights_only=True)
        try:
            ref = config["graph_reference"]
            # a checkpoint folder of the training run is not carried over: a later fit would
            # silently resume from whatever is there now (pass checkpoint_dir= to resume)
            params = {**cls._params_from_config(config["params"]), "checkpoint_dir": None,
                      **overrides}
            params.setdefault("context_graph", GraphReference.from_config(ref))
            embedder = cls(**params)
            embedder._restore(config, state_dict)
        except KeyError as exc:
            raise ValueError(f"{config_path} lacks the entry {exc} of a saved {name}.") from exc
        except ValueError as exc:
            raise ValueError(f"{config_path} is not a valid saved {name}: {exc}") from None
        try:
            embedder._validate_params()
        except (ValueError, TypeError) as exc:
            source = "the overrides" if set(overrides) else str(config_path)
            raise ValueError(f"{name}.from_pretrained({str(directory)!r}): a parameter in "
                             f"{source} is invalid: {exc}") from None
        if embedder.graph_reference_.simulated:
            warnings.warn(
                f"{directory} holds a {name} pretrained on a SIMULATED context graph: its "
                "representations show the workflow, not biology.", SimulatedDataWarning,
                stacklevel=2,
            )
        return embedder


def _bounds_config(bounds: dict) -> dict:
    """A fitted feature-bounds dict as JSON values (arrays -> lists)."""
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in bounds.items()}


def _bounds_from_config(bounds: dict, modality: str = "profiles") -> dict:
    """The inverse of :func:`_bounds_config`: every entry but columns / binary is a float32 array.

    The arrays must be finite and have one entry per column (an edited config that does not
    is refused here rather than broadcast silently when profiles are scaled or decoded).
    """
    out = {}
    for key, value in bounds.items():
        if key == "columns":
            out[key] = [str(c) for c in value]
        elif key == "binary":
            out[key] = bool(value)
        else:
            out[key] = np.asarray(value, dtype=np.float32)
    n = len(out.get("columns", ()))
    for key in ("lower", "upper"):
        array = out.get(key)
        if array is None or array.shape != (n,) or not np.isfinite(array).all():
            raise ValueError(f"feature_bounds[{modality!r}][{key!r}] must hold {n} finite "
                             f"values, one per column; found shape {np.shape(array)}")
    return out


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


