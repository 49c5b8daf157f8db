"""The fit template shared by the torch-backed molecule embedders (private).

:class:`GraphTrainedEmbedder` is what :class:`~infoalign_sklearn.embedders.InfoAlignEmbedder`
and :class:`~infoalign_sklearn.embedders.ContrastiveEmbedder` share around their models: the
graph argument and its reference, seeds, one training loop (per-epoch random streams, progress
bar with the running loss terms, a per-epoch checkpoint a later ``fit`` resumes from bit for
bit, the optimiser chosen by ``optimizer``), chunked ``transform`` (:mod:`._transform`) and
persistence (:mod:`._persistence`).

Subclasses provide ``_build_module()`` (a module holding an ``encoder`` whose
``forward(batch)`` returns ``(embedding, ...)``), ``_prepare(graph, X)`` (sets the fitted
attributes the module needs and returns the training data: an object with ``mol_graphs``),
``_batch_loss(ctx, idx, rng)`` (the loss terms of one batch, ``"loss"`` last, or None to skip
the step), ``_loss_names()`` and ``_signature_parts(data)``; and the parameters
``latent_dim``, ``batch_size``, ``max_epochs``, ``lr``, ``weight_decay``, ``optimizer``,
``device``, ``precision``, ``errors``, ``n_jobs``, ``verbose``, ``random_state`` and
``checkpoint_dir``.

In a process group of several processes (torchrun, ``infoalign pretrain --nproc``) ``fit`` takes
the multi-process path of :mod:`._distributed`: subclasses that set ``_supports_distributed``
provide ``_sharded_batch_loss(ctx, idx, rng, part)``, their process's share of the loss terms
of the global batch ``idx``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import StrOptions
from tqdm.auto import tqdm

from .._utils.io import atomic_file
from .._utils.parallel import progress_options
from .._utils.validation import molecule_input_tags
from ._distributed import (
    all_reduce_gradients,
    all_reduce_terms,
    broadcast_module,
    broadcast_object,
    current_ranks,
    restore_batchnorm,
    shard_of,
    use_distributed_batchnorm,
)
from ._persistence import GraphReference, PersistenceMixin
from ._transform import EncodingMixin, autocast_for, resolve_device

#: File name of the per-epoch checkpoint in ``checkpoint_dir``.
CHECKPOINT_NAME = "checkpoint.pt"

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
#: Constraint of the ``optimizer`` parameter: a name of :data:`OPTIMIZERS` or a class.
OPTIMIZER_CONSTRAINT = [StrOptions(set(OPTIMIZERS)), callable]


def seed_for(*keys: int) -> int:
    """A 63-bit seed derived from integers, identical across processes and platforms."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1, np.uint64)[0] >> 1)


def make_optimizer(optimizer, parameters, lr: float, weight_decay: float):
    """``optimizer`` ("adam", "adamw" or a torch.optim class) over ``parameters``."""
    cls = OPTIMIZERS[optimizer] if isinstance(optimizer, str) else optimizer
    return cls(parameters, lr=lr, weight_decay=weight_decay)


@dataclass
class FitContext:
    """What one ``fit`` passes to its epochs and batches."""

    module: torch.nn.Module
    optimizer: torch.optim.Optimizer
    graph: object
    data: object
    seed: int
    device: torch.device
    #: The process group of a multi-process fit (:class:`._distributed.Ranks`), else None.
    ranks: object = None


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


class GraphTrainedEmbedder(PersistenceMixin, EncodingMixin, ClassNamePrefixFeaturesOutMixin,
                           TransformerMixin, BaseEstimator):
    """Base of sklearn transformers whose torch encoder is trained on a ContextGraph."""

    #: Description of the training progress bar.
    _progress_desc = "training"
    #: Loss terms recorded but left off the progress bar.
    _hidden_losses: tuple = ()
    #: Whether ``_sharded_batch_loss`` is implemented (multi-process fit).
    _supports_distributed = False

    def __repr__(self, N_CHAR_MAX=700) -> str:
        text = super().__repr__(N_CHAR_MAX=N_CHAR_MAX)
        reference = getattr(self, "graph_reference_", None)
        if reference is not None and reference.simulated:
            text += "  # pretrained on a SIMULATED context graph"
        return text

    def __sklearn_tags__(self):
        return molecule_input_tags(super().__sklearn_tags__())

    def transform(self, X) -> np.ndarray:
        """Embeddings of X: float32 array of shape (n_molecules, latent_dim)."""
        # defined here, not in EncodingMixin, for sklearn's set_output to wrap it
        return self._encode(X, "embedding molecules")[0]

    # ------------------------------------------------------------------ fit
    def fit(self, X=None, y=None):
        """Train on the context graph (see the subclass for what X adds). y is ignored.

        Returns
        -------
        self
        """
        self._validate_params()
        if self.batch_size < 2:
            raise ValueError(
                f"batch_size={self.batch_size}: pretraining needs at least 2 molecules per step "
                "(batch normalisation); transform takes any batch_size."
            )
        graph = self._resolve_graph()
        seed = self._base_seed()
        device = resolve_device(self.device)
        ranks = current_ranks(device.type)
        if ranks is not None:
            device, seed = self._join_ranks(ranks, device, seed)
        data = self._prepare(graph, X)
        if ranks is not None:
            self._check_shards(len(data.mol_graphs), ranks)
        self.graph_reference_ = GraphReference.of(graph)
        self.n_training_molecules_ = len(data.mol_graphs)
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            module = self._build_module().to(device)
            if ranks is not None:
                use_distributed_batchnorm(module)
                broadcast_module(module)
            optimizer = make_optimizer(self.optimizer, module.parameters(), self.lr,
                                       self.weight_decay)
            ctx = FitContext(module, optimizer, graph, data, seed, device, ranks)
            history = self._train(ctx)
        if ranks is not None:
            restore_batchnorm(module)
        self.module_ = module.eval()
        self.loss_history_ = history
        self.n_epochs_ = len(history)
        return self

    def _train(self, ctx: FitContext) -> list[dict]:
        """Run the epochs left (after a checkpoint's), checkpointing each; the history."""
        history: list[dict] = []
        start_epoch = 0
        signature = self._training_signature(ctx.graph, ctx.data)
        checkpoint = self._checkpoint_path()
        main = ctx.ranks is None or ctx.ranks.is_main
        if ctx.ranks is not None:
            # rank 0 reads the checkpoint (its folder need not be visible to other nodes)
            state = None
            if checkpoint is not None and checkpoint.exists():
                try:
                    state = _read_checkpoint(checkpoint, torch.device("cpu"))
                except ValueError as exc:
                    state = {"error": str(exc)}
            state = broadcast_object(state, ctx.ranks, ctx.device)
            if state is not None:
                if "error" in state:
                    raise ValueError(state["error"])
                start_epoch, history, ctx.seed = _apply_checkpoint(checkpoint, state,
                                                                   signature, ctx)
        elif checkpoint is not None and checkpoint.exists():
            start_epoch, history, ctx.seed = _load_checkpoint(checkpoint, signature, ctx)
            if start_epoch > self.max_epochs:
                raise ValueError(
                    f"The checkpoint in {checkpoint.parent} has {start_epoch} epochs done, more "
                    f"than max_epochs={self.max_epochs}; ask for at least {start_epoch} epochs "
                    "to continue it, or choose another checkpoint_dir to start afresh."
                )
            if self.verbose:
                tqdm.write(f"resuming from {checkpoint} after epoch {start_epoch} of "
                           f"{self.max_epochs}")
        n_batches = self._n_batches(len(ctx.data.mol_graphs))
        bar_opts = progress_options(self.verbose, self._progress_desc) if main else None
        bar = None
        if bar_opts is not None:
            bar = tqdm(total=self.max_epochs * n_batches, initial=start_epoch * n_batches,
                       **bar_opts)
        try:
            for epoch in range(start_epoch, self.max_epochs):
                history.append(self._run_epoch(ctx, epoch, bar))
                if checkpoint is not None and main:
                    _save_checkpoint(checkpoint, signature, ctx, epoch + 1, history)
        finally:
            if bar is not None:
                bar.close()
        return history

    def _run_epoch(self, ctx: FitContext, epoch: int, bar) -> dict:
        """One epoch; with several processes (``ctx.ranks``) each computes its share of every
        global batch and gradients and loss terms are summed over them."""
        ranks = ctx.ranks
        ctx.module.train()
        # per-epoch streams: epoch e draws the same numbers however the run got there; every
        # rank draws the one-process streams (batches, walks and dropout masks of the whole
        # batch) and keeps its rows
        rng = np.random.default_rng(seed_for(ctx.seed, epoch, 1))
        torch.manual_seed(seed_for(ctx.seed, epoch, 2))
        order = rng.permutation(len(ctx.data.mol_graphs))
        losses = EpochLosses(self._loss_names(), epoch, bar, hidden=self._hidden_losses)
        for b in range(self._n_batches(len(order))):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            # forward and loss at ``precision`` (bfloat16 autocast), backward outside it
            with autocast_for(self._precision, ctx.device):
                if ranks is None:
                    terms = self._batch_loss(ctx, idx, rng)
                else:
                    terms = self._sharded_batch_loss(ctx, idx, rng, shard_of(len(idx), ranks))
            if terms is None:
                continue
            ctx.optimizer.zero_grad(set_to_none=True)
            terms["loss"].backward()
            if ranks is not None:
                all_reduce_gradients(ctx.module.parameters())
                terms = all_reduce_terms(terms)
            ctx.optimizer.step()
            losses.add(terms)
        return self._epoch_record(ctx, losses.record())

    # ------------------------------------------------------- multi-process fit
    def _join_ranks(self, ranks, device: torch.device, seed: int):
        """The device and seed of this rank: CUDA device LOCAL_RANK, rank 0's seed."""
        if not self._supports_distributed:
            raise ValueError(
                f"{type(self).__name__} cannot be fitted by {ranks.world_size} processes "
                "(multi-process pretraining supports InfoAlignEmbedder); run it in one process."
            )
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", ranks.local_rank)
        return device, int(broadcast_object(seed, ranks, device))

    def _check_shards(self, n: int, ranks) -> None:
        """Every step must give each rank at least one molecule."""
        world, rest = ranks.world_size, n % self.batch_size
        if self.batch_size < world or 1 < rest < world:
            smallest = rest if 1 < rest < world else self.batch_size
            raise ValueError(
                f"batch_size={self.batch_size} over {n} molecules gives a step of {smallest} "
                f"molecules, fewer than the {world} processes (batch_size is the global batch, "
                "split between them): choose a batch_size so that every step, the last one "
                "included, has at least one molecule per process, or run fewer processes."
            )

    def _sharded_batch_loss(self, ctx: FitContext, idx, rng, part: slice) -> dict | None:
        """This rank's share of the loss terms of the global batch ``idx`` (its molecules:
        ``idx[part]``); the terms summed over ranks are the one-process terms."""
        raise NotImplementedError  # pragma: no cover - guarded by _supports_distributed

    def _epoch_record(self, ctx: FitContext, record: dict) -> dict:
        """Hook: what an epoch adds to its loss record."""
        return record

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
            from ..graph import ContextGraph

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

    # ------------------------------------------------------------ checkpoints
    def _checkpoint_path(self) -> Path | None:
        if self.checkpoint_dir is None:
            return None
        return Path(self.checkpoint_dir) / CHECKPOINT_NAME

    def _training_signature(self, graph, data) -> str:
        """What a checkpoint must match to be resumed (everything but max_epochs and verbosity)."""
        params = self.get_params(deep=False)
        for name in ("context_graph", "max_epochs", "verbose", "n_jobs", "checkpoint_dir", "device",
                     "errors"):
            params.pop(name)
        for name, default in (("optimizer", "adam"), ("precision", "float32")):
            if params.get(name) == default:
                params.pop(name)  # defaults: checkpoints written before they existed resume
        if not (params["random_state"] is None or isinstance(params["random_state"], Integral)):
            params["random_state"] = "RandomState"
        payload = json.dumps({"params": params, "graph": graph.content_hash,
                              **self._signature_parts(data)}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


def array_digest(array) -> str:
    """SHA-256 of an array's bytes (C order), for training signatures."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _world_size(ctx: FitContext) -> int:
    return 1 if ctx.ranks is None else ctx.ranks.world_size


def _save_checkpoint(path, signature, ctx: FitContext, epochs_done, history):
    with atomic_file(path) as fh:
        torch.save(
            {"signature": signature, "seed": ctx.seed, "epochs_done": epochs_done,
             "history": history, "model": ctx.module.state_dict(),
             "optimizer": ctx.optimizer.state_dict(), "world_size": _world_size(ctx)},
            fh,
        )


def _read_checkpoint(path, device):
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # a torn or foreign file: say which and why
        raise ValueError(f"Cannot read the pretraining checkpoint {path}: {exc}") from exc


def _load_checkpoint(path, signature, ctx: FitContext):
    return _apply_checkpoint(path, _read_checkpoint(path, ctx.device), signature, ctx)


def _apply_checkpoint(path, state, signature, ctx: FitContext):
    if state.get("signature") != signature:
        raise ValueError(
            f"The checkpoint in {path.parent} was written for other settings, graph or "
            "molecules; remove it or choose another checkpoint_dir."
        )
    written, running = int(state.get("world_size", 1)), _world_size(ctx)
    if written != running:
        raise ValueError(
            f"The checkpoint in {path.parent} was written by a fit in {written} process(es) "
            f"and this fit runs in {running}: resume it with {written} process(es) "
            f"(infoalign pretrain --nproc {written}, or torchrun --nproc-per-node {written}), "
            "or remove it to start again."
        )
    ctx.module.load_state_dict(state["model"])
    ctx.optimizer.load_state_dict(state["optimizer"])
    # the stored seed continues the interrupted run, even when random_state is None
    return int(state["epochs_done"]), list(state["history"]), int(state["seed"])
