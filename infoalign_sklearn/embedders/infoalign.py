"""InfoAlignEmbedder: the InfoAlign method as a scikit-learn transformer.

The pretraining loop is plain torch rather than skorch's ``NeuralNet.fit``: every batch needs
random walks on the context graph and targets gathered from several feature blocks, and resuming
must reproduce an uninterrupted run bit for bit (per-epoch seeds, optimiser state in the
checkpoint). Expressing that through skorch's iterator / callback hooks would hide more than it
saves. What skorch gives its users is kept: ``device`` handling, a progress bar, per-epoch
checkpoints and a pickle that holds CPU weights, so a model trained on a GPU loads on a laptop.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.utils import metadata_routing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils._set_output import _wrap_data_with_container
from sklearn.utils.validation import check_is_fitted

from .._utils.validation import MOLECULE_PARAMETER_CONSTRAINTS
from ..chem.graphs import collate_graphs, featurize_graphs
from ..chem.molecules import check_molecule_input
from ..datasets import AUTHORS_CHECKPOINT_REVISION, fetch_authors_checkpoint
from ..graph.blocks import Bounds
from ..nn.authors import load_authors_checkpoint
from ..nn.infoalign import InfoAlignModel, kl_to_standard_normal, modality_loss
from ._base import OPTIMIZER_CONSTRAINT, FitContext, GraphTrainedEmbedder, array_digest
from ._distributed import GlobalMaskDropout, shard_layouts
from ._persistence import GraphReference
from ._profiles import feature_bounds_of
from ._transform import resolve_device


@dataclass
class _WalkData:
    """The molecules InfoAlign trains on: graph molecules (walks start at ``start_nodes``)
    then those of X outside the graph (start -1, fingerprint targets ``extra_fps``)."""

    mol_graphs: list
    blocks: dict
    start_nodes: np.ndarray
    extra_fps: np.ndarray
    has_x: bool

    @property
    def n_graph_molecules(self) -> int:
        return int((self.start_nodes >= 0).sum())


@dataclass
class _Walks:
    """One batch: molecule indices, their walks' nodes and path weights, and their ``mu``."""

    idx: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    mu: torch.Tensor


class InfoAlignEmbedder(GraphTrainedEmbedder):
    """Molecular representations pretrained on a cellular context graph (InfoAlign).

    ``fit`` pretrains a GIN encoder so that, from a molecule alone, decoders recover the
    features (fingerprint, morphology, expression, gene) of the nodes that random walks reach
    from that molecule on the graph, under an information bottleneck. ``transform`` returns the
    mean ``mu`` of q(z | molecule): a (n, latent_dim) float32 representation for any estimator.
    ``transform(X, return_std=True)`` adds the posterior's standard deviation ``sigma``; on
    the real benchmarks it is not an uncertainty: with the defaults it collapsed to its floor
    in pretraining, with smaller settings it follows molecule size (docs/uncertainty.md).

    The defaults are the paper's settings for its graph of about 130,000 molecules. On a graph
    of a few thousand (the real graph of docs/real_data.md), a validation-only search
    (``benchmarks/pretrain_search.py``) ranked them last and chose ``num_layers=2,
    latent_dim=128, walk_length=2, dropout=0.0, max_epochs=25``, 2.6 times faster to
    pretrain; docs/results.md gives the search and how thin its evidence is.

    Parameters
    ----------
    context_graph : ContextGraph, str or path, default=None
        The graph to pretrain on, or the directory of a saved one. Needed by ``fit`` only.
    walk_length : int, default=4
        Random-walk steps per molecule and batch (fresh walks every epoch).
    beta : float, default=1e-9
        Weight of KL(q(z|x) || N(0, I)): minimality against sufficiency.
    latent_dim : int, default=300
        Size of the representation.
    hidden_dim : int, default=300
        Width of the GIN layers.
    num_layers : int, default=5
        GIN layers.
    dropout : float, default=0.1
        Dropout in the encoder and decoders. The authors' code defaults to 0.5; on the simulated
        benchmark of ``benchmarks/dropout_probe.py`` (15 epochs) a dropout of 0.1 gave
        held-out representations that a linear probe maps to the hidden mechanisms with mean
        AUC 0.89, against 0.73 with 0.5.
    readout : {"sum", "mean", "max"}, default="sum"
        Pooling of atom representations into a molecule representation.
    batch_size : int, default=256
        Molecules per pretraining step and per ``transform`` forward pass.
    max_epochs : int, default=50
        Passes over the training molecules.
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float, default=0.0
        Weight decay (L2 for Adam, decoupled for AdamW).
    optimizer : {"adam", "adamw"} or torch.optim.Optimizer class, default="adam"
        The optimiser, built as ``optimizer(parameters, lr=lr, weight_decay=weight_decay)``.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available; or ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    precision : {"float32", "bfloat16"}, default="float32"
        Arithmetic of the encoder's forward passes in ``transform`` and of pretraining steps:
        ``"bfloat16"`` runs them under ``torch.autocast`` (faster on GPUs and on CPUs with
        bfloat16 units, such as AMX; slower on CPUs without). Weights and outputs stay
        float32; ``transform`` then differs from float32 by under 1 % of the values' scale
        (docs/scaling.md gives the measured difference and the command).
    errors : {"raise", "nan"}, default="raise"
        Invalid SMILES: one error naming all of them, or NaN rows in ``transform`` (and skipped
        molecules, with a warning, in ``fit``).
    n_jobs : int, default=None
        Workers (joblib) for molecule featurisation, in ``fit`` and ``transform``. In
        ``transform`` on the CPU, ``n_jobs`` > 1 splits the molecules between worker processes
        that each featurise and encode their share (the faster setting: with ``None`` a thread
        featurises ahead but competes with torch's threads); on a GPU the workers featurise
        the next batches while the encoder runs (``benchmarks/feed.py`` measures both;
        docs/scaling.md).
    verbose : int or dict, default=0
        Progress bars (a dict is passed to tqdm), with the running loss per modality.
    random_state : int, RandomState or None, default=None
        Seed of initialisation, batch order, walks and dropout. The same seed on the same
        machine, with the same ``batch_size`` and torch thread count, gives bit-identical
        representations; docs/sklearn.md ("Reproducibility") says what changes otherwise.
    checkpoint_dir : str or path, default=None
        Where a checkpoint is written after every epoch; a later ``fit`` with the same settings
        resumes from it. ``max_epochs`` may be raised to train longer.

    Attributes
    ----------
    modalities_ : tuple of str
        Modalities with a decoder.
    loss_history_ : list of dict
        Per epoch: total loss, one term per modality (mean BCE per observed entry), ``kl``
        (KL(q(z|x) || N(0, I)) in nats per molecule, before weighting: with β = 1e-9 it may
        reach millions without mattering), ``beta_kl`` (β·KL, its share of the loss: the
        number the progress bar and the loss plot show), seconds.
    graph_reference_ : GraphReference
        Path and content hash of the pretraining graph, and whether it was SIMULATED (then
        the repr says so, and ``from_pretrained`` warns with ``SimulatedDataWarning``).

    Examples
    --------
    >>> from infoalign_sklearn import InfoAlignEmbedder, make_synthetic_context
    >>> context = make_synthetic_context(n_molecules=60, random_state=0)
    >>> emb = InfoAlignEmbedder(context.graph, latent_dim=16, hidden_dim=16, num_layers=2,
    ...                         max_epochs=1, random_state=0).fit()
    >>> emb.transform(["CCO", "c1ccccc1O"]).shape
    (2, 16)
    """

    _parameter_constraints: dict = {
        "context_graph": "no_validation",
        "walk_length": [Interval(Integral, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 2, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "readout": [StrOptions({"sum", "mean", "max"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "optimizer": OPTIMIZER_CONSTRAINT,
        "device": [str],
        "precision": [StrOptions({"float32", "bfloat16"})],
        "random_state": ["random_state"],
        "checkpoint_dir": [None, str, os.PathLike],
        **MOLECULE_PARAMETER_CONSTRAINTS,
    }

    def __init__(
        self, context_graph=None, *, walk_length=4, beta=1e-9, latent_dim=300, hidden_dim=300,
        num_layers=5, dropout=0.1, readout="sum", batch_size=256, max_epochs=50, lr=1e-3,
        weight_decay=0.0, optimizer="adam", device="auto", precision="float32",
        errors="raise", n_jobs=None,
        verbose=0, random_state=None, checkpoint_dir=None,
    ):
        self.context_graph = context_graph
        self.walk_length = walk_length
        self.beta = beta
        self.latent_dim = latent_dim
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.dropout = dropout
        self.readout = readout
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.device = device
        self.precision = precision
        self.errors = errors
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state
        self.checkpoint_dir = checkpoint_dir

    # return_std is an option of transform, not metadata for a Pipeline to route
    __metadata_request__transform = {"return_std": metadata_routing.UNUSED}

    _progress_desc = "pretraining InfoAlign"
    _hidden_losses = ("kl",)
    _supports_distributed = True

    # ------------------------------------------------------------------ fit
    def fit(self, X=None, y=None):
        """Pretrain on the graph's molecules, plus the molecules of X when given.

        Molecules of X found in the graph (by InChIKey skeleton) are trained on with their
        walks; the others learn to reconstruct their own fingerprint only. y is ignored.
        """
        return super().fit(X, y)

    def _prepare(self, graph, X) -> _WalkData:
        modalities = tuple(graph.modalities)
        if not modalities:
            raise ValueError("The context graph has no feature blocks to decode.")
        blocks = {m: graph.feature_block(m) for m in modalities}
        start_nodes, mol_graphs, extra_fps = self._training_molecules(graph, X)
        self.modalities_ = modalities
        self.decoder_dims_ = {m: int(blocks[m].values.shape[1]) for m in modalities}
        self.feature_bounds_ = {m: feature_bounds_of(blocks[m]) for m in modalities}
        return _WalkData(mol_graphs, blocks, start_nodes, extra_fps, X is not None)

    def _signature_parts(self, data: _WalkData) -> dict:
        return {"has_x": data.has_x, "starts": array_digest(data.start_nodes),
                "extra": array_digest(data.extra_fps)}

    def _loss_names(self) -> tuple:
        return (*self.modalities_, "kl", "beta_kl", "loss")

    def _build_module(self) -> InfoAlignModel:
        return InfoAlignModel(
            self.decoder_dims_, num_layers=self.num_layers, hidden_dim=self.hidden_dim,
            latent_dim=self.latent_dim, dropout=self.dropout, readout=self.readout,
            decoder_dropout=self.dropout,
        )

    def _training_molecules(self, graph, X):
        """Graph molecules (walk from their node) then X's molecules not in the graph."""
        smiles = list(graph.molecule_smiles)
        starts = np.asarray(graph.molecule_nodes, dtype=np.int64)
        graphs, valid = featurize_graphs(smiles, errors="nan", n_jobs=self.n_jobs)
        if not valid.all():
            warnings.warn(
                f"{int((~valid).sum())} molecule node(s) of the context graph have SMILES RDKit "
                "cannot parse; they are left out of pretraining.", stacklevel=5,
            )
        keep = np.flatnonzero(valid)
        mol_graphs = [graphs[i] for i in keep]
        starts = starts[keep]
        extra_fps = np.zeros((0, 0), dtype=np.float32)
        if X is not None:
            items = check_molecule_input(X)
            x_graphs, x_valid = featurize_graphs(items, errors=self.errors, n_jobs=self.n_jobs)
            if not x_valid.all():
                warnings.warn(
                    f"{int((~x_valid).sum())} invalid molecule(s) in X are skipped in fit "
                    "(errors='nan').", stacklevel=5,
                )
            ok = np.flatnonzero(x_valid)
            in_graph = np.asarray(graph.molecule_index([items[i] for i in ok])) >= 0
            new = ok[~in_graph]
            # one entry per distinct new molecule: duplicates would weigh some molecules twice
            _, first = np.unique([str(items[i]) for i in new], return_index=True) if len(new) else ([], [])
            new = new[np.sort(np.asarray(first, dtype=np.int64))]
            if len(new) and "fingerprint" in graph.modalities:
                extra_fps = _fingerprint_targets(graph, [items[i] for i in new])
            mol_graphs += [x_graphs[i] for i in new]
            starts = np.concatenate([starts, np.full(len(new), -1, dtype=np.int64)])
        if len(mol_graphs) < 2:
            raise ValueError(
                f"Pretraining needs at least 2 valid molecules, got {len(mol_graphs)}."
            )
        return starts, mol_graphs, extra_fps

    def _walks_of(self, ctx: FitContext, idx, rng) -> tuple[np.ndarray, np.ndarray]:
        """Walk nodes and path weights of the batch ``idx`` (-1 / 0 off the graph)."""
        starts = ctx.data.start_nodes[idx]
        on_graph = np.flatnonzero(starts >= 0)
        nodes = np.full((len(idx), self.walk_length + 1), -1, dtype=np.int64)
        weights = np.zeros((len(idx), self.walk_length + 1), dtype=np.float32)
        if len(on_graph):
            walk_nodes, walk_weights = ctx.graph.random_walks(
                starts[on_graph], self.walk_length, random_state=rng
            )
            nodes[on_graph] = walk_nodes
            weights[on_graph] = walk_weights
        return nodes, weights

    def _batch_loss(self, ctx: FitContext, idx, rng) -> dict:
        data, device = ctx.data, ctx.device
        batch = collate_graphs([data.mol_graphs[i] for i in idx]).to(device)
        nodes, weights = self._walks_of(ctx, idx, rng)
        mu, sigma = ctx.module(batch)
        walks = _Walks(idx, nodes, weights, mu)
        terms = {}
        for m in self.modalities_:
            term = self._modality_term(ctx, m, walks)
            if term is not None:
                terms[m] = term
        kl = kl_to_standard_normal(mu, sigma)
        loss = self.beta * kl + sum(terms.values(), torch.zeros((), device=device))
        return dict((*terms.items(), ("kl", kl), ("beta_kl", self.beta * kl), ("loss", loss)))

    def _sharded_batch_loss(self, ctx: FitContext, idx, rng, part: slice) -> dict:
        # every rank draws the walks of the whole batch (the one-process draws), then encodes
        # its molecules idx[part]; each term is its share of the batch's mean
        data, device = ctx.data, ctx.device
        nodes, weights = self._walks_of(ctx, idx, rng)
        batch = collate_graphs([data.mol_graphs[i] for i in idx[part]]).to(device)
        n_atoms = np.fromiter((len(data.mol_graphs[i].x) for i in idx), np.int64, len(idx))
        atoms, molecules = shard_layouts(n_atoms, part)
        with self._dropout_of_shard(atoms, molecules):
            mu, sigma = ctx.module(batch)
        walks = _Walks(idx, nodes, weights, mu)
        terms = {}
        for m in self.modalities_:
            hit_mol, targets, w = self._modality_targets(ctx, m, walks)
            targets = np.ascontiguousarray(targets, dtype=np.float32)
            if len(hit_mol) == 0:  # decided on the whole batch: every rank skips the decoder
                continue
            mine = (hit_mol >= part.start) & (hit_mol < part.stop)
            # run on every rank (its batch norm is a collective), as one process runs it
            with self._dropout_of_shard(molecules):
                logits = ctx.module.decoders[m](mu)
            logits = logits[torch.from_numpy(hit_mol[mine] - part.start).to(device)]
            count = int(np.isfinite(targets).sum())
            if count == 0:
                continue
            terms[m] = modality_loss(
                logits, torch.from_numpy(targets[mine]).to(device),
                torch.from_numpy(w[mine].astype(np.float32)).to(device), count=count,
            )
        kl = kl_to_standard_normal(mu, sigma, reduction="sum") / len(idx)
        loss = self.beta * kl + sum(terms.values(), torch.zeros((), device=device))
        return dict((*terms.items(), ("kl", kl), ("beta_kl", self.beta * kl), ("loss", loss)))

    def _dropout_of_shard(self, *layouts):
        """Dropout masks of the whole batch, this rank's rows (none to draw: no-op)."""
        return GlobalMaskDropout(layouts) if self.dropout > 0 else contextlib.nullcontext()

    def _modality_targets(self, ctx: FitContext, modality: str, walks: _Walks):
        """(batch position, target row, path weight) of each walk node carrying the modality
        (plus the fingerprint of each molecule of X outside the graph)."""
        block, data = ctx.data.blocks[modality], ctx.data
        nodes = walks.nodes
        rows = np.where(nodes >= 0, block.rows[np.clip(nodes, 0, None)], -1)
        hit_mol, hit_step = np.nonzero(rows >= 0)
        targets = block.values[rows[hit_mol, hit_step]]
        w = walks.weights[hit_mol, hit_step]
        if modality == "fingerprint" and data.extra_fps.size:
            n_graph_mols = data.n_graph_molecules
            extra = np.flatnonzero(walks.idx >= n_graph_mols)
            if len(extra):
                hit_mol = np.concatenate([hit_mol, extra])
                targets = np.concatenate([targets, data.extra_fps[walks.idx[extra] - n_graph_mols]])
                w = np.concatenate([w, np.ones(len(extra), dtype=np.float32)])
        return hit_mol, targets, w

    def _modality_term(self, ctx: FitContext, modality: str, walks: _Walks):
        hit_mol, targets, w = self._modality_targets(ctx, modality, walks)
        if len(hit_mol) == 0:
            return None
        device = ctx.device
        logits = ctx.module.decoders[modality](walks.mu)[torch.from_numpy(hit_mol).to(device)]
        return modality_loss(
            logits,
            torch.from_numpy(np.ascontiguousarray(targets, dtype=np.float32)).to(device),
            torch.from_numpy(w.astype(np.float32)).to(device),
        )

    # ------------------------------------------------------------ posterior
    def transform(self, X, return_std: bool = False):
        """Embeddings of X: the mean ``mu`` of q(z | molecule), float32 (n, latent_dim).

        Parameters
        ----------
        X : molecules
            SMILES, RDKit molecules, or a one-column table / Series of them.
        return_std : bool, default=False
            Also return ``sigma``, the per-dimension standard deviation of q(z | molecule):
            the scale the KL term of pretraining uses (``softplus`` of the encoder's scale head
            plus 1e-7, as in the authors' model; see Notes). With
            ``set_output(transform="pandas")`` both are DataFrames with the same columns and
            index.

        Returns
        -------
        mu : ndarray or DataFrame of shape (n_molecules, latent_dim)
        sigma : ndarray or DataFrame of shape (n_molecules, latent_dim)
            Only with ``return_std=True``; positive, NaN rows where ``mu`` is NaN (invalid
            molecules with ``errors="nan"``).

        Warns
        -----
        RuntimeWarning
            When at least 99 % of the sigma entries sit at the floor 1e-7 (the scale head's
            pre-activations far below 0): then sigma is the same for every molecule.

        Notes
        -----
        sigma is not an uncertainty on the real benchmarks: pretraining on the real context
        graph drove it to its floor 1e-7 in every dimension for every benchmark molecule
        (beta 1e-9 and 1e-3), so it tracks neither the distance to the pretraining graph nor
        downstream error on these data (docs/uncertainty.md, benchmarks/sigma_uncertainty.py).
        It is exposed to inspect a model's posterior, e.g. the authors' checkpoint.
        """
        if not return_std:
            return self._encode(X, "embedding molecules")[0]
        mu, sigma, valid = self._encode(X, "embedding molecules", n_outputs=2)
        floor = float(np.mean(sigma[valid] < 1.01e-7)) if valid.any() else 0.0
        if floor >= 0.99:
            warnings.warn(
                f"{floor:.1%} of the posterior sigma entries of these {int(valid.sum())} "
                "molecule(s) are at the floor 1e-7 (softplus of a pre-activation far below 0): "
                "sigma is the same for every molecule and carries no uncertainty "
                "(docs/uncertainty.md).", RuntimeWarning, stacklevel=3,
            )
        # set_output wraps the first element of a returned tuple; sigma is wrapped here alike
        return mu, _wrap_data_with_container("transform", sigma, X, self)

    # ------------------------------------------------------------- decoding
    def decode_logits(self, X, modality: str = "morphology") -> np.ndarray:
        """Decoder logits of each molecule for one modality: float32 (n, d), NaN rows where
        the molecule is invalid (``errors="nan"``)."""
        check_is_fitted(self, "module_")
        if not self.modalities_:
            raise ValueError(
                "This embedder has no decoders (loaded from the authors' checkpoint, whose "
                "decoders are not mapped): it only transforms molecules."
            )
        if modality not in self.modalities_:
            raise ValueError(f"Unknown modality {modality!r}; this model decodes {list(self.modalities_)}.")
        mu, valid = self._encode(X, f"decoding {modality}")
        out = np.full((len(mu), self.decoder_dims_[modality]), np.nan, dtype=np.float32)
        device = resolve_device(self.device)
        decoder = self.module_.to(device).eval().decoders[modality]
        with torch.inference_mode():
            rows = np.flatnonzero(valid)
            for b in range(0, len(rows), self.batch_size):
                sel = rows[b:b + self.batch_size]
                out[sel] = decoder(torch.from_numpy(mu[sel]).to(device)).float().cpu().numpy()
        return out

    def decode(self, X, modality: str = "morphology", as_frame: bool = False):
        """Predicted profile of each molecule for one modality, in the graph's raw units.

        Decoder probabilities in [0, 1] are mapped back through the min-max bounds of the
        graph's feature block (for the binary fingerprint block: bit probabilities).
        """
        logits = self.decode_logits(X, modality)
        out = (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(np.float32)
        bounds = self.feature_bounds_[modality]
        if not bounds["binary"]:
            out = Bounds(bounds["lower"], bounds["upper"]).inverse(out)
        if as_frame:
            return pd.DataFrame(out, columns=bounds["columns"])
        return out

    # ------------------------------------------------------------ persistence
    def _config(self) -> dict:
        config = {**super()._config(), "decoder_dims": self.decoder_dims_}
        if getattr(self, "pretrained_source_", None) is not None:
            config["pretrained_source"] = self.pretrained_source_
        return config

    def _restore(self, config: dict, state_dict: dict) -> None:
        self.decoder_dims_ = {m: int(d) for m, d in config["decoder_dims"].items()}
        if config.get("pretrained_source") is not None:
            self.pretrained_source_ = dict(config["pretrained_source"])
        super()._restore(config, state_dict)

    @classmethod
    def from_authors_checkpoint(cls, path=None, *, readout=None, download=False,
                                cache_dir=None, revision=AUTHORS_CHECKPOINT_REVISION,
                                offline=None, **overrides) -> InfoAlignEmbedder:
        """The InfoAlign authors' published pretrained model as a fitted embedder.

        Reads the authors' checkpoint (``pretrain.pt`` and its YAML config, as their
        repository ``liugangcode/InfoAlign`` writes it and ``liuganghuggingface/
        InfoAlign-Pretrained`` publishes it), maps their parameter names onto this package's
        encoder and returns an embedder whose ``transform`` gives their representation: the
        mean ``mu`` of their Gaussian head over their GIN + virtual-node encoder and readout.
        The weights are read with ``torch.load(weights_only=True)``; see
        :mod:`infoalign_sklearn.nn.authors` for the mapping and docs/pretrained.md for what was
        verified.

        The embedder transforms, pickles and round-trips through ``save_pretrained`` /
        ``from_pretrained``; it has no decoders (the authors' six pretraining decoders are not
        mapped) and no context graph, so ``decode`` and ``fit`` are not available without one.

        Parameters
        ----------
        path : str or path, default=None
            ``pretrain.pt`` or the folder holding it. None: the cached download of
            :func:`~infoalign_sklearn.datasets.fetch_authors_checkpoint` (fetched first when
            ``download=True``).
        readout : {"sum", "mean", "max"}, default=None
            None takes the config's ``readout`` (``"sum"`` for the published model, also the
            default when the folder has no config).
        download : bool, default=False
            With ``path=None``, download the checkpoint when it is not cached. Off by default:
            nothing touches the network unless asked.
        cache_dir, revision, offline
            Passed to :func:`~infoalign_sklearn.datasets.fetch_authors_checkpoint`.
        **overrides
            Other constructor parameters (``device``, ``batch_size``, ``errors``, ``n_jobs``,
            ``verbose``, ...). Those that shape the network come from the checkpoint.

        Returns
        -------
        embedder : InfoAlignEmbedder
            Fitted, module in eval mode; ``pretrained_source_`` records the file, its SHA-256,
            the config and the checkpoint keys that were not used.

        Raises
        ------
        FileNotFoundError
            No checkpoint at ``path`` (or, with ``path=None``, none cached and no download).
        AuthorsCheckpointError
            A ``ValueError``: the file is not the authors' checkpoint (another layout, our own
            ``weights.pt``, wrong shapes, an unsupported architecture).

        Examples
        --------
        >>> emb = InfoAlignEmbedder.from_authors_checkpoint("ckpt/")  # doctest: +SKIP
        >>> emb.transform(["CCO", "c1ccccc1O"]).shape  # doctest: +SKIP
        (2, 300)
        """
        shaped = sorted({"latent_dim", "hidden_dim", "num_layers"} & set(overrides))
        if shaped:
            raise ValueError(
                f"{shaped} come from the authors' checkpoint and cannot be overridden."
            )
        if path is None:
            try:
                path = fetch_authors_checkpoint(
                    cache_dir, revision=revision, offline=(offline if download else True)
                )
            except FileNotFoundError as exc:
                if download:
                    raise
                raise FileNotFoundError(
                    f"{exc} Pass download=True to fetch it, or path= to a folder holding "
                    "pretrain.pt."
                ) from exc
        checkpoint = load_authors_checkpoint(path, readout=readout)
        config = checkpoint.config
        params = {
            "latent_dim": checkpoint.latent_dim, "hidden_dim": checkpoint.emb_dim,
            "num_layers": checkpoint.num_layers, "readout": checkpoint.readout,
            "dropout": 0.5,  # the authors' drop_ratio default (training only)
        }
        if isinstance(config.get("prior"), (int, float)):
            params["beta"] = float(config["prior"])
        if isinstance(config.get("walk_length"), int):
            params["walk_length"] = int(config["walk_length"])
        embedder = cls(**{**params, **overrides})
        embedder._validate_params()
        embedder.modalities_ = ()
        embedder.decoder_dims_ = {}
        embedder.feature_bounds_ = {}
        embedder.graph_reference_ = GraphReference(
            None, f"authors-checkpoint:sha256:{checkpoint.sha256}", False
        )
        embedder.loss_history_ = []
        embedder.n_epochs_ = 0
        embedder.n_training_molecules_ = None
        embedder.pretrained_source_ = {
            "format": "InfoAlign authors' checkpoint (liugangcode/InfoAlign)",
            "weights": str(checkpoint.weights_path),
            "sha256": checkpoint.sha256,
            "config": None if checkpoint.config_path is None else str(checkpoint.config_path),
            "config_entries": dict(config),
            "readout": checkpoint.readout,
            "ignored_keys": list(checkpoint.ignored_keys),
        }
        module = embedder._build_module()
        module.encoder.load_state_dict(checkpoint.state_dict)
        embedder.module_ = module.eval()
        return embedder


def _fingerprint_targets(graph, items) -> np.ndarray:
    """Fingerprint targets of molecules outside the graph, computed as the graph's own.

    The graph's :attr:`~ContextGraph.fingerprint_spec` (radius, bits, counts) gives the raw
    fingerprints; count fingerprints are scaled with the graph block's bounds, as the builder
    scaled the graph's molecules.
    """
    spec = graph.fingerprint_spec
    options = graph.metadata.get("options") or {}
    if options.get("precomputed_fingerprints"):
        warnings.warn(
            f"The graph's fingerprints were precomputed; the {len(items)} molecule(s) of X that "
            f"are not in the graph get {spec} fingerprints (the graph's fingerprint_spec). "
            "Build the graph with the fingerprint_radius / fingerprint_counts of the "
            "precomputed ones so that both match.", stacklevel=6,
        )
    raw = spec.compute(items)
    block = graph.feature_block("fingerprint")
    if block.binary:
        return raw
    return block.bounds.scale(raw)
