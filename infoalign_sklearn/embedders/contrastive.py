"""ContrastiveEmbedder: a CLIP-style molecule / profile baseline as a scikit-learn transformer.

This is the family the InfoAlign paper compares against (CLOOME aligns molecules with Cell
Painting, InfoCORE with profiles, both by InfoNCE), trained on the same ContextGraph and with the
same GIN encoder as :class:`~infoalign_sklearn.embedders.InfoAlignEmbedder`, so the two differ
only in the objective. Positive pairs are a molecule and the morphology / expression nodes one
perturbation edge away; everything else in the batch is a negative.
"""

from __future__ import annotations

import os
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._utils.validation import MOLECULE_PARAMETER_CONSTRAINTS
from ..chem.graphs import collate_graphs, featurize_graphs
from ..nn.contrastive import ContrastiveModel, symmetric_info_nce
from ._base import OPTIMIZER_CONSTRAINT, FitContext, GraphTrainedEmbedder, array_digest
from ._pairs import PairData, perturbation_links, restrict_links
from ._profiles import feature_bounds_of, scale_profiles
from ._transform import resolve_device

PROFILE_MODALITIES = ("morphology", "expression")


class ContrastiveEmbedder(GraphTrainedEmbedder):
    """Molecule representations aligned with their cell profiles by symmetric InfoNCE.

    ``fit`` trains the InfoAlign GIN encoder and one MLP profile encoder per profile modality
    so that, in a batch, each molecule's embedding is closest (cosine) to the profiles it is
    linked to in the context graph (perturbation edges from molecule to morphology / expression
    nodes) and each profile to its molecule. ``transform`` returns the encoder's mean head
    ``mu`` (the same head InfoAlign uses; no extra projection), which is also the space in which
    molecules and profiles are compared, so zero-shot matching is a cosine similarity between
    ``transform(smiles)`` and :meth:`embed_profiles`.

    Parameters
    ----------
    context_graph : ContextGraph, str or path, default=None
        The graph to train on, or the directory of a saved one. Needed by ``fit`` only.
    modalities : tuple of {"morphology", "expression"}, default=("morphology", "expression")
        Profile modalities to align with; those absent from the graph are skipped with a
        warning.
    latent_dim : int, default=300
        Size of the shared embedding space.
    hidden_dim : int, default=300
        Width of the GIN layers and of the profile encoders' hidden layer.
    num_layers : int, default=5
        GIN layers.
    dropout : float, default=0.5
        Dropout in the GIN and the profile encoders.
    readout : {"sum", "mean", "max"}, default="sum"
        Pooling of atom representations.
    temperature : float, default=0.1
        InfoNCE temperature (its start value when learnt; CLIP's cap of 1/100 applies).
    learn_temperature : bool, default=True
        Learn the temperature with the weights (CLIP) or keep it fixed.
    batch_size : int, default=256
        Molecules per step (each modality's term uses the batch's molecules with a profile of
        that modality) and per ``transform`` forward pass. Larger batches give more negatives.
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
        Invalid SMILES in ``transform``: one error naming all of them, or NaN rows.
    n_jobs : int, default=None
        Workers (joblib) for molecule featurisation; ``transform`` uses them as
        :class:`~infoalign_sklearn.embedders.InfoAlignEmbedder` does (on the CPU each worker
        featurises and encodes a share of the molecules).
    verbose : int or dict, default=0
        Progress bars (a dict is passed to tqdm).
    random_state : int, RandomState or None, default=None
        Seed of initialisation, batch order, profile sampling and dropout. The same seed on
        the same machine, with the same ``batch_size`` and torch thread count, gives
        bit-identical embeddings; docs/sklearn.md ("Reproducibility") says what changes
        otherwise.
    checkpoint_dir : str or path, default=None
        Where a checkpoint is written after every epoch; a later ``fit`` with the same settings
        resumes from it. ``max_epochs`` may be raised to train longer.

    Attributes
    ----------
    modalities_ : tuple of str
        Modalities with a profile encoder.
    feature_bounds_ : dict
        Per modality: raw-unit ``lower`` / ``upper`` bounds and ``columns`` of the graph's
        block (to scale new profiles as the graph was scaled), ``binary``, and ``fill``: the
        column means used in place of missing entries.
    n_training_molecules_ : int
        Graph molecules with at least one linked profile (the others give no pair).
    n_pairs_ : dict
        Molecule-profile pairs per modality.
    loss_history_ : list of dict
        Per epoch: total loss, one term per modality, temperature, seconds.
    graph_reference_ : GraphReference
        Path and content hash of the training graph, and whether it was SIMULATED (then the
        repr says so, and ``from_pretrained`` warns with ``SimulatedDataWarning``).

    Notes
    -----
    ``fit(X)`` accepts X for pipeline compatibility but ignores it: a molecule outside the
    graph has no profile, so it forms no contrastive pair (graph molecules in X are trained on
    anyway). When a molecule is linked to several profiles of a modality, one is drawn per
    epoch; profiles linked to several molecules of a batch count as positives for each of them,
    not as negatives.

    Examples
    --------
    >>> from infoalign_sklearn.embedders import ContrastiveEmbedder
    >>> from infoalign_sklearn.graph import make_synthetic_context
    >>> context = make_synthetic_context(n_molecules=60, random_state=0)
    >>> emb = ContrastiveEmbedder(context.graph, latent_dim=8, hidden_dim=16, num_layers=2,
    ...                           max_epochs=1, random_state=0).fit()
    >>> emb.transform(["CCO", "c1ccccc1O"]).shape
    (2, 8)
    >>> block = context.graph.feature_block("morphology")
    >>> emb.embed_profiles(block.inverse_scale(block.values[:3]), "morphology").shape
    (3, 8)
    """

    _parameter_constraints: dict = {
        "context_graph": "no_validation",
        "modalities": [tuple, list],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 2, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "readout": [StrOptions({"sum", "mean", "max"})],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "learn_temperature": ["boolean"],
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
        self, context_graph=None, *, modalities=PROFILE_MODALITIES, latent_dim=300,
        hidden_dim=300, num_layers=5, dropout=0.5, readout="sum", temperature=0.1,
        learn_temperature=True, batch_size=256, max_epochs=50, lr=1e-3, weight_decay=0.0,
        optimizer="adam", device="auto", precision="float32",
        errors="raise", n_jobs=None, verbose=0,
        random_state=None, checkpoint_dir=None,
    ):
        self.context_graph = context_graph
        self.modalities = modalities
        self.latent_dim = latent_dim
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.dropout = dropout
        self.readout = readout
        self.temperature = temperature
        self.learn_temperature = learn_temperature
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

    # ------------------------------------------------------------------ fit
    def fit(self, X=None, y=None) -> ContrastiveEmbedder:
        """Train on the graph's molecule-profile pairs. X and y are ignored (see Notes).

        Returns
        -------
        self : ContrastiveEmbedder
        """
        return super().fit(X, y)

    def _prepare(self, graph, X) -> PairData:
        modalities = self._check_modalities(graph)
        blocks = {m: graph.feature_block(m) for m in modalities}
        links = {m: perturbation_links(graph, blocks[m]) for m in modalities}
        smiles = list(graph.molecule_smiles)
        has_pair = np.zeros(len(smiles), dtype=bool)
        for ptr, _ in links.values():
            has_pair |= np.diff(ptr) > 0
        mol_graphs, valid = featurize_graphs(smiles, errors="nan", n_jobs=self.n_jobs)
        if not valid.all():
            warnings.warn(
                f"{int((~valid).sum())} molecule node(s) of the context graph have SMILES RDKit "
                "cannot parse; they are left out of training.", stacklevel=4,
            )
        keep = np.flatnonzero(valid & has_pair)
        if len(keep) < 2:
            raise ValueError(
                "Contrastive training needs at least 2 valid molecules linked (perturbation "
                f"edges) to {' / '.join(modalities)} profiles; the graph has {len(keep)}."
            )
        links = {m: restrict_links(ptr, rows, keep) for m, (ptr, rows) in links.items()}
        self.modalities_ = modalities
        self.profile_dims_ = {m: int(blocks[m].values.shape[1]) for m in modalities}
        self.feature_bounds_ = {m: self._bounds_with_fill(blocks[m]) for m in modalities}
        self.n_pairs_ = {m: int(len(rows)) for m, (_, rows) in links.items()}
        return PairData([mol_graphs[i] for i in keep], blocks, links)

    @staticmethod
    def _bounds_with_fill(block) -> dict:
        bounds = feature_bounds_of(block)
        # column means stand in for missing entries: they move an embedding least
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fill = np.nanmean(block.values, axis=0)
        bounds["fill"] = np.nan_to_num(fill, nan=0.5).astype(np.float32)
        return bounds

    def _signature_parts(self, data: PairData) -> dict:
        return {"links": {m: [array_digest(ptr), array_digest(rows)]
                          for m, (ptr, rows) in data.links.items()}}

    def _loss_names(self) -> tuple:
        return (*self.modalities_, "loss")

    def _check_modalities(self, graph) -> tuple:
        requested = tuple(self.modalities)
        unknown = [m for m in requested if m not in PROFILE_MODALITIES]
        if not requested or unknown:
            raise ValueError(
                f"modalities must be a non-empty subset of {PROFILE_MODALITIES}, got {requested}."
            )
        present = tuple(m for m in requested if m in graph.modalities)
        if len(present) < len(requested):
            warnings.warn(
                f"The context graph has no {sorted(set(requested) - set(present))} profiles; "
                "they are skipped.", stacklevel=5,
            )
        if not present:
            raise ValueError(f"The context graph has none of the profile modalities {requested}.")
        return present

    def _build_module(self) -> ContrastiveModel:
        return ContrastiveModel(
            self.profile_dims_, num_layers=self.num_layers, hidden_dim=self.hidden_dim,
            latent_dim=self.latent_dim, dropout=self.dropout, readout=self.readout,
            temperature=self.temperature, learn_temperature=self.learn_temperature,
        )

    def _batch_loss(self, ctx: FitContext, idx, rng) -> dict | None:
        batch = collate_graphs([ctx.data.mol_graphs[i] for i in idx]).to(ctx.device)
        mu = ctx.module(batch)[0]
        terms = {}
        for m in self.modalities_:
            term = self._modality_term(ctx, m, mu, idx, rng)
            if term is not None:
                terms[m] = term
        if not terms:
            return None
        terms["loss"] = sum(terms.values()) / len(terms)
        return terms

    def _epoch_record(self, ctx: FitContext, record: dict) -> dict:
        record["temperature"] = ctx.module.temperature()
        return record

    def _modality_term(self, ctx: FitContext, modality: str, mu, idx, rng):
        block, device = ctx.data.blocks[modality], ctx.device
        ptr, rows = ctx.data.links[modality]
        n_links = ptr[idx + 1] - ptr[idx]
        members = np.flatnonzero(n_links > 0)
        # InfoNCE needs a negative, and batch norm in the profile encoder two rows
        if len(members) < 2:
            return None
        mols = idx[members]
        picked = rows[ptr[mols] + rng.integers(0, n_links[members])]
        # positives[i, j]: molecule i is linked to the profile drawn for molecule j
        pair_keys = np.repeat(mols, n_links[members]) * block.values.shape[0] + np.concatenate(
            [rows[ptr[i]:ptr[i + 1]] for i in mols]
        )
        grid = mols[:, None] * block.values.shape[0] + picked[None, :]
        positives = np.isin(grid, pair_keys)
        profiles = self._filled(modality, block.values[picked])
        embedded = ctx.module.profile_encoders[modality](torch.from_numpy(profiles).to(device))
        return symmetric_info_nce(
            mu[torch.from_numpy(members).to(device)], embedded,
            torch.from_numpy(positives).to(device), ctx.module.logit_scale,
        )

    def _filled(self, modality: str, scaled: np.ndarray) -> np.ndarray:
        fill = self.feature_bounds_[modality]["fill"]
        return np.ascontiguousarray(np.where(np.isnan(scaled), fill, scaled), dtype=np.float32)

    # ------------------------------------------------------------ persistence
    def _config(self) -> dict:
        # feature_bounds_ (in the shared part) carries each modality's "fill" array too
        return {**super()._config(), "profile_dims": self.profile_dims_, "n_pairs": self.n_pairs_}

    @classmethod
    def _params_from_config(cls, params: dict) -> dict:
        params = super()._params_from_config(params)
        if isinstance(params.get("modalities"), list):  # a tuple, written as a JSON list
            params["modalities"] = tuple(params["modalities"])
        return params

    def _restore(self, config: dict, state_dict: dict) -> None:
        self.profile_dims_ = {m: int(d) for m, d in config["profile_dims"].items()}
        self.n_pairs_ = {m: int(n) for m, n in config["n_pairs"].items()}
        super()._restore(config, state_dict)

    # ------------------------------------------------------------- profiles
    def embed_profiles(self, profiles, modality: str = "morphology") -> np.ndarray:
        """Embed cell profiles given in raw units into the molecules' space.

        Profiles are min-max scaled with the graph's bounds kept at fit (clipped to [0, 1]);
        missing entries take the training column means.

        Parameters
        ----------
        profiles : array-like of shape (n_profiles, n_features) or DataFrame
            Raw-unit profiles; a DataFrame is aligned to the fitted columns by name.
        modality : {"morphology", "expression"}, default="morphology"

        Returns
        -------
        ndarray of float32, shape (n_profiles, latent_dim)
            NaN rows for profiles with no measured entry.

        Examples
        --------
        >>> import numpy as np
        >>> from infoalign_sklearn.graph import make_synthetic_context
        >>> context = make_synthetic_context(n_molecules=40, random_state=0)
        >>> emb = ContrastiveEmbedder(context.graph, modalities=("morphology",), latent_dim=4,
        ...                           hidden_dim=8, num_layers=2, max_epochs=1,
        ...                           random_state=0).fit()
        >>> emb.embed_profiles(context.true_profiles(["CCO", "CCN"])).shape
        (2, 4)
        """
        check_is_fitted(self, "module_")
        if modality not in self.modalities_:
            raise ValueError(
                f"Unknown modality {modality!r}; this model embeds {list(self.modalities_)}."
            )
        scaled = scale_profiles(profiles, self.feature_bounds_[modality], modality)
        measured = ~np.isnan(scaled).all(axis=1)
        out = np.full((len(scaled), self.latent_dim), np.nan, dtype=np.float32)
        device = resolve_device(self.device)
        module = self.module_.to(device).eval()
        rows = np.flatnonzero(measured)
        with torch.inference_mode():
            for b in range(0, len(rows), self.batch_size):
                sel = rows[b:b + self.batch_size]
                x = torch.from_numpy(self._filled(modality, scaled[sel])).to(device)
                out[sel] = module.profile_encoders[modality](x).float().cpu().numpy()
        return out
