"""Shared machinery of the torch-backed molecule embedders (private).

Everything here is what :class:`~infoalign_sklearn.embedders.InfoAlignEmbedder` does around its
model, factored out so that other embedders trained on a context graph (the contrastive
baseline) behave the same way: the graph argument and its reference, seeds, chunked
``transform`` with featurisation overlapped with the forward passes, a pickle that holds CPU
weights and no graph matrices, and min-max scaling of profiles with the bounds kept at fit.

Subclasses provide ``_build_module()`` (a module whose ``forward(batch)`` returns
``(embedding, ...)``), ``latent_dim``, ``batch_size``, ``device``, ``errors``, ``n_jobs``,
``verbose`` and ``random_state``, and set ``module_`` in ``fit``. ``save_pretrained`` /
``from_pretrained`` (format ``"infoalign-sklearn/<class name>"``) write and restore the
parameters and the fitted ``modalities_``, ``feature_bounds_``, ``graph_reference_``,
``loss_history_`` and ``n_training_molecules_``; subclasses extend ``_config()`` and
``_restore(config, state_dict)`` with what their ``_build_module`` and methods need.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import math
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from ._io import atomic_file, file_sha256
from ._parallel import progress_options
from .base import molecule_input_tags
from .chem.graphs import _packed_graphs_of_chunk
from .chem.molecules import check_molecule_input, raise_or_mask_invalid

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

    def load(self):
        from .graph import ContextGraph

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


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else as torch understands it."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _prefetched(items, chunk: int):
    """Graphs of ``items`` chunk by chunk, the next chunk featurised in a thread meanwhile."""
    starts = range(0, len(items), chunk)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for start in starts:
            graphs = (pending.result() if pending is not None
                      else _packed_graphs_of_chunk(items[start:start + chunk]))
            pending = (pool.submit(_packed_graphs_of_chunk, items[start + chunk:start + 2 * chunk])
                       if start + chunk < len(items) else None)
            yield graphs


def _encode_graphs(module, graphs, batch_size: int, device) -> tuple[np.ndarray | None, np.ndarray]:
    """Embeddings of the valid graphs of one chunk (packed, in order) and the chunk's validity
    mask."""
    parts = [module(batch.to(device))[0].float().cpu().numpy()
             for batch in graphs.batches(batch_size)]
    return (np.concatenate(parts) if parts else None), graphs.valid


_ENCODER_PARTS = ("graph_encoder", "dist_net")


def _encoder_payload(module) -> tuple:
    """The encoder (no decoders) as workers receive it: its structure with the weights on the
    meta device (a small pickle) and the weights as numpy arrays, which joblib memory-maps
    once per call instead of pickling them into every task."""
    encoder = copy.copy(module)  # shares the parameters; only the encoder's parts are kept
    encoder._modules = {k: module._modules[k] for k in _ENCODER_PARTS}
    state = {k: v.detach().cpu().numpy() for k, v in encoder.state_dict().items()}
    return copy.deepcopy(encoder).to("meta").eval(), state


def _featurize_and_encode(payload, items, batch_size: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Worker side of the data-parallel CPU ``transform``."""
    skeleton, state = payload
    module = copy.deepcopy(skeleton)  # threads (a threading backend) share the payload
    module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()},
                           assign=True)
    with torch.inference_mode():
        return _encode_graphs(module.eval(), _packed_graphs_of_chunk(items), batch_size,
                              torch.device("cpu"))


def _balanced_starts(items, n_chunks: int) -> list[int]:
    """Start indices cutting ``items`` into ``n_chunks`` contiguous chunks of about equal work,
    estimated from the SMILES length (two characters per atom for ``Mol`` objects): molecule
    sizes vary along a file, and equal counts left a worker idle at the end."""
    cost = np.fromiter(
        (len(v) if isinstance(v, str) else 2 * v.GetNumAtoms() for v in items),
        dtype=np.float64, count=len(items),
    )
    total = np.cumsum(cost + 1.0)
    cuts = np.searchsorted(total, total[-1] * np.arange(1, n_chunks) / n_chunks)
    return sorted({0, *(int(c) for c in cuts if 0 < c < len(items))})


def _seed_for(*keys: int) -> int:
    """A 63-bit seed derived from integers, identical across processes and platforms."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1, np.uint64)[0] >> 1)


class SimulatedDataWarning(UserWarning):
    """A model pretrained on a SIMULATED context graph was loaded."""


def _reference_from_config(ref: dict) -> GraphReference:
    simulated = ref.get("simulated")
    return GraphReference(ref["path"], ref["content_hash"],
                          None if simulated is None else bool(simulated))


class GraphTrainedEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base of sklearn transformers whose torch encoder is trained on a ContextGraph."""

    def __repr__(self, N_CHAR_MAX=700) -> str:
        text = super().__repr__(N_CHAR_MAX=N_CHAR_MAX)
        reference = getattr(self, "graph_reference_", None)
        if reference is not None and reference.simulated:
            text += "  # pretrained on a SIMULATED context graph"
        return text

    # ------------------------------------------------------------------ fit helpers
    def _resolve_graph(self):
        graph = self.context_graph
        name = type(self).__name__
        if graph is None:
            raise ValueError(
                f"{name}.fit needs a context graph: pass context_graph=ContextGraph (or the "
                "directory of a saved one). To use pretrained weights without refitting, load "
                f"them with {name}.from_pretrained(dir)."
            )
        if isinstance(graph, GraphReference):
            return graph.load()
        if isinstance(graph, (str, os.PathLike)):
            from .graph import ContextGraph

            return ContextGraph.load(graph)
        if hasattr(graph, "feature_block") and hasattr(graph, "random_walks"):
            return graph
        raise TypeError(
            f"context_graph must be a ContextGraph or a path to a saved one, got {type(graph).__name__}"
        )

    def _base_seed(self) -> int:
        rs = self.random_state
        if rs is None:
            return int(np.random.default_rng().integers(2**62))
        if isinstance(rs, Integral):
            return int(rs)
        return int(rs.randint(2**31 - 1))  # a RandomState instance

    def _n_batches(self, n: int) -> int:
        full, rest = divmod(n, self.batch_size)
        # a last batch of one molecule cannot be batch-normalised: it joins no step
        return full + (1 if rest > 1 else 0)

    # ------------------------------------------------------------- transform
    @property
    def _n_features_out(self):
        return self.latent_dim

    def _encode(self, X, desc: str) -> tuple[np.ndarray, np.ndarray]:
        """Embedding of every input (NaN rows where invalid) and the validity mask."""
        check_is_fitted(self, "module_")
        items = check_molecule_input(X)
        device = resolve_device(self.device)
        module = self.module_.to(device).eval()
        out = np.full((len(items), self.latent_dim), np.nan, dtype=np.float32)
        valid = np.zeros(len(items), dtype=bool)
        bar_opts = progress_options(self.verbose, desc)
        bar = tqdm(total=len(items), **bar_opts) if bar_opts is not None else None
        workers = effective_n_jobs(self.n_jobs)
        if device.type == "cpu" and workers > 1 and len(items) > 2 * self.batch_size:
            chunks = self._encoded_in_workers(items, module, workers)
        else:
            chunks = self._encoded_here(items, module, device, workers)
        for start, embedding, ok in chunks:
            valid[start:start + len(ok)] = ok
            if ok.any():
                out[start + np.flatnonzero(ok)] = embedding
            if bar is not None:
                bar.update(len(ok))
        if bar is not None:
            bar.close()
        raise_or_mask_invalid(items, valid, self.errors)
        return out, valid

    def _encoded_here(self, items, module, device, workers):
        """Encode in this process, featurising ahead of the forward passes.

        With ``n_jobs`` > 1 (a GPU run), joblib workers featurise the next batches while the
        encoder runs on this one (ordered, a few batches ahead); otherwise a thread featurises
        the next chunk, which overlaps with the forward pass when the encoder leaves a core (or
        the GPU) free.
        """
        chunk = self.batch_size if workers > 1 else self.batch_size * 8
        starts = range(0, len(items), chunk)
        if workers > 1 and len(items) > chunk:
            featurized = Parallel(n_jobs=self.n_jobs, return_as="generator")(
                delayed(_packed_graphs_of_chunk)(items[s:s + chunk]) for s in starts
            )
        else:
            featurized = _prefetched(items, chunk)
        with torch.inference_mode():
            for start, graphs in zip(starts, featurized):
                yield start, *_encode_graphs(module, graphs, self.batch_size, device)

    def _encoded_in_workers(self, items, module, workers):
        """Encode on the CPU in ``workers`` processes, each featurising and encoding its chunks.

        Featurisation costs a sixth of a CPU forward pass and torch's intra-op threads use
        every core, so featurising beside the encoder only competes with it; splitting the
        molecules between processes (joblib limits each worker's torch threads to its share of
        the cores) keeps every core busy with both. Chunks are large (one per worker, or more,
        a multiple of the workers, when that would exceed 20 batches) and cut to about equal
        work; the weights travel memory-mapped.
        """
        n_chunks = max(workers, -(-len(items) // (20 * self.batch_size)))
        n_chunks = min(-(-n_chunks // workers) * workers, max(1, len(items) // self.batch_size))
        starts = _balanced_starts(items, n_chunks)
        ends = starts[1:] + [len(items)]
        payload = _encoder_payload(module)
        results = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(_featurize_and_encode)(payload, items[s:e], self.batch_size)
            for s, e in zip(starts, ends)
        )
        for start, (embedding, ok) in zip(starts, results):
            yield start, embedding, ok

    def transform(self, X) -> np.ndarray:
        """Embeddings of X: float32 array of shape (n_molecules, latent_dim)."""
        return self._encode(X, "embedding molecules")[0]

    # ------------------------------------------------------------ persistence
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
        random_state = params.get("random_state")
        if not (random_state is None or isinstance(random_state, Integral)):
            params["random_state"] = None
        return params

    @classmethod
    def _params_from_config(cls, params: dict) -> dict:
        """The inverse of :meth:`_params_config` where JSON changed a type (tuples -> lists)."""
        return dict(params)

    def _config(self) -> dict:
        """The fitted state both embedders share, as JSON values; subclasses add theirs."""
        return {
            "params": self._params_config(),
            "modalities": list(self.modalities_),
            "feature_bounds": {m: _bounds_config(b) for m, b in self.feature_bounds_.items()},
            "graph_reference": {"path": self.graph_reference_.path,
                                "content_hash": self.graph_reference_.content_hash,
                                "simulated": self.graph_reference_.simulated},
            "loss_history": self.loss_history_,
            "n_training_molecules": self.n_training_molecules_,
        }

    def _restore(self, config: dict, state_dict: dict) -> None:
        """Set the shared fitted attributes from ``config`` and load the weights.

        Subclasses set the attributes their ``_build_module`` needs first, then call this.
        """
        self.modalities_ = tuple(config["modalities"])
        self.feature_bounds_ = {
            m: _bounds_from_config(b) for m, b in config["feature_bounds"].items()
        }
        self.graph_reference_ = _reference_from_config(config["graph_reference"])
        self.loss_history_ = list(config["loss_history"])
        self.n_epochs_ = len(self.loss_history_)
        self.n_training_molecules_ = int(config["n_training_molecules"])
        module = self._build_module()
        module.load_state_dict(state_dict)
        self.module_ = module.eval()

    def save_pretrained(self, directory) -> Path:
        """Write ``weights.pt`` (a state dict) and ``config.json`` to ``directory``.

        ``weights.pt`` holds the module's weights as CPU tensors; ``config.json`` the
        parameters (without the graph), the fitted attributes needed to embed molecules and
        profiles, the graph's path and content hash, the format (``"infoalign-sklearn/"`` and
        the class name, and a version) and the SHA-256 of ``weights.pt``. Each file is replaced
        atomically, weights first; as the config carries the weights' checksum, a crash between
        the two leaves a directory that refuses to load rather than one that loads mismatched
        parts. Other files in the directory are left alone.

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
        directory.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu() for k, v in self.module_.state_dict().items()}
        buffer = io.BytesIO()
        torch.save(state, buffer)
        payload = buffer.getvalue()
        with atomic_file(directory / "weights.pt") as fh:
            fh.write(payload)
        config = {
            "format": self._pretrained_format(),
            "format_version": PRETRAINED_FORMAT_VERSION,
            "weights_sha256": hashlib.sha256(payload).hexdigest(),
            **self._config(),
        }
        with atomic_file(directory / "config.json", "w") as fh:
            fh.write(json.dumps(config, indent=2, default=_json_default))
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
            ``batch_size``, ``n_jobs``, ``errors`` or ``context_graph``. Parameters that shape
            the network (``latent_dim``, ``hidden_dim``, ...) must stay as saved.

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
        missing = [p.name for p in (config_path, weights_path) if not p.exists()]
        if missing:
            raise FileNotFoundError(f"{directory} is not a saved {name}: missing {missing}")
        try:
            config = json.loads(config_path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{config_path} is not valid JSON: {exc}") from exc
        if not isinstance(config, dict):
            raise ValueError(f"{config_path} is not the config of a saved {name}.")
        expected, found = cls._pretrained_format(), config.get("format")
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
        state_dict = torch.load(weights_path, map_location="cpu", weights_only=True)
        try:
            ref = config["graph_reference"]
            params = {**cls._params_from_config(config["params"]), **overrides}
            params.setdefault("context_graph", _reference_from_config(ref))
            embedder = cls(**params)
            embedder._restore(config, state_dict)
        except KeyError as exc:
            raise ValueError(f"{config_path} lacks the entry {exc} of a saved {name}.") from exc
        if embedder.graph_reference_.simulated:
            warnings.warn(
                f"{directory} holds a {name} pretrained on a SIMULATED context graph: its "
                "representations show the workflow, not biology.", SimulatedDataWarning,
                stacklevel=2,
            )
        return embedder

    def __sklearn_tags__(self):
        return molecule_input_tags(super().__sklearn_tags__())


def _bounds_config(bounds: dict) -> dict:
    """A fitted feature-bounds dict as JSON values (arrays -> lists)."""
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in bounds.items()}


def _bounds_from_config(bounds: dict) -> dict:
    """The inverse of :func:`_bounds_config`: every entry but columns / binary is a float32 array."""
    out = {}
    for key, value in bounds.items():
        if key == "columns":
            out[key] = [str(c) for c in value]
        elif key == "binary":
            out[key] = bool(value)
        else:
            out[key] = np.asarray(value, dtype=np.float32)
    return out


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def feature_bounds_of(block) -> dict:
    """What a fitted embedder keeps of a feature block to scale new profiles like the graph."""
    return {
        "lower": np.asarray(block.lower, dtype=np.float32),
        "upper": np.asarray(block.upper, dtype=np.float32),
        "columns": [str(c) for c in block.columns],
        "binary": bool(block.binary),
    }


def scale_profiles(profiles, bounds: dict, modality: str = "profiles") -> np.ndarray:
    """Raw-unit profiles -> float32 (n, d) in [0, 1] with the graph's min-max bounds.

    The same rule as the graph builders: ``(x - lower) / (upper - lower)`` with constant
    columns mapped to 0, clipped to [0, 1] (new profiles may fall outside the graph's range),
    NaN kept. A DataFrame is aligned to the fitted columns by name; an array must have them in
    order. Binary blocks (fingerprints) are returned as they are.
    """
    columns = list(bounds["columns"])
    if isinstance(profiles, pd.DataFrame):
        missing = [c for c in columns if c not in profiles.columns]
        if missing:
            raise ValueError(
                f"{len(missing)} {modality} column(s) the model was fitted on are missing from "
                f"the profiles, e.g. {missing[:5]}."
            )
        profiles = profiles[columns]
    values = np.array(profiles, dtype=np.float32, copy=True)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2 or values.shape[1] != len(columns):
        raise ValueError(
            f"{modality} profiles must have shape (n, {len(columns)}), got {np.shape(profiles)}."
        )
    if bounds["binary"]:
        return values
    lower = np.asarray(bounds["lower"], dtype=np.float32)
    span = np.asarray(bounds["upper"], dtype=np.float32) - lower
    safe_span = np.where(span > 0, span, np.float32(1))
    with np.errstate(invalid="ignore"):
        values = (values - lower) / safe_span
    return np.clip(values, 0.0, 1.0)


class EpochLosses:
    """Running mean of each loss term over an epoch, shown on the progress bar.

    Terms named in ``hidden`` are recorded but left off the bar (the raw KL, which a tiny β
    lets grow into the millions: the bar shows its weighted share ``beta_kl`` instead).
    """

    def __init__(self, names, epoch: int, bar=None, hidden=()):
        self.sums = dict.fromkeys(names, 0.0)
        self.counts = dict.fromkeys(names, 0)
        self.epoch = epoch
        self.bar = bar
        self.hidden = frozenset(hidden)
        self.started = time.perf_counter()

    def add(self, terms: dict) -> None:
        """Record one step's terms (tensors or floats) and advance the bar."""
        for name, value in terms.items():
            self.sums[name] += float(value.detach() if hasattr(value, "detach") else value)
            self.counts[name] += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({"epoch": self.epoch + 1, **{
                k: f"{self.sums[k] / self.counts[k]:.4g}" for k in self.sums
                if self.counts[k] and k not in self.hidden
            }}, refresh=False)

    def record(self) -> dict:
        """The epoch's means (NaN for a term never seen) and its duration in seconds."""
        out = {"epoch": self.epoch + 1}
        out.update({k: (self.sums[k] / self.counts[k] if self.counts[k] else float("nan"))
                    for k in self.sums})
        out["seconds"] = time.perf_counter() - self.started
        return out
