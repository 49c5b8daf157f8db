"""Reading the InfoAlign authors' published checkpoint into this package's encoder (torch only).

The authors (``liugangcode/InfoAlign``, ``main.py``) save ``torch.save(model.state_dict(),
"pretrain.pt")`` after pretraining, plus the model's hyper-parameters in a YAML file beside it
(``pretrain.yaml`` in their repository, ``config.yaml`` on the Hugging Face hub): ``emb_dim``,
``model`` (``gin-virtual``), ``norm_layer`` (``batch_norm``), ``num_layer``, ``readout``
(``sum``) and training-only entries (``prior``, ``threshold``, ``walk_length``).

Their state dict holds, under ``graph_encoder.``, OGB-style atom / bond embedding tables, GIN
convolutions with their own bond embeddings, batch norms, a virtual node and its MLPs; under
``dist_net.1`` the linear layer of the Gaussian head (``SiLU`` then ``Linear(emb_dim,
2 * emb_dim)``; the first half of its output is ``mu``); under ``decoder_list.`` the six
pretraining decoders. Our :class:`~infoalign_sklearn.nn.encoder.GaussianEncoder` has the same
structure and submodule names, with two differences that this module bridges:

* their embedding tables are ``nn.Embedding(..., max_norm=1)``: a row whose L2 norm exceeds 1
  is scaled to norm 1 when looked up (``torch.embedding_renorm_``). Renorming every row once at
  load time gives the same lookups (the operation is idempotent), so the converted weights
  hold the renormed rows and our plain embeddings reproduce their forward pass;
* ``graph_encoder.bond_encoder`` (a bond table their forward pass never uses: each convolution
  has its own) and the decoders are left out: the representation is ``mu``.

Only the configuration the published checkpoint uses is supported (GIN with a virtual node,
batch norm, residual connections, JK "last"); another one is refused with a clear error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .._utils.io import file_sha256
from ..chem.graphs import ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS
from ..readers._common import FileFormatError
from .encoder import GaussianEncoder

#: The weights file name the authors use.
AUTHORS_WEIGHTS_NAME = "pretrain.pt"
#: Config file names looked for beside the weights (besides ``<weights stem>.yaml``).
AUTHORS_CONFIG_NAMES = ("pretrain.yaml", "config.yaml")
#: Readout of the published model (``ckpt/pretrain.yaml``: ``readout: sum``), used when no
#: config file is found: pooling leaves no trace in the weights.
AUTHORS_DEFAULT_READOUT = "sum"

_PREFIX = "graph_encoder."
_EMBEDDING_KEY = re.compile(
    r"^graph_encoder\.(atom_encoder\.atom_embedding_list|convs\.\d+\.bond_encoder\."
    r"bond_embedding_list)\.\d+\.weight$"
)


class AuthorsCheckpointError(FileFormatError):
    """A file is not an InfoAlign authors' checkpoint of the supported layout (a
    :class:`~infoalign_sklearn.readers.FileFormatError`, so a ``ValueError``)."""


@dataclass
class AuthorsCheckpoint:
    """The authors' checkpoint converted for :class:`GaussianEncoder`.

    Attributes
    ----------
    state_dict : dict
        Weights under our names (``graph_encoder.*``, ``dist_net.*``), embedding rows renormed.
    num_layers, emb_dim, latent_dim : int
        Read from the weights' shapes.
    readout : str
        From the config file, else :data:`AUTHORS_DEFAULT_READOUT`.
    config : dict
        The config file's entries (empty when none was found).
    weights_path, config_path : Path or None
    sha256 : str
        SHA-256 of the weights file.
    ignored_keys : list of str
        Keys of the file not used for the representation (decoders, the unused bond table).
    """

    state_dict: dict
    num_layers: int
    emb_dim: int
    latent_dim: int
    readout: str
    weights_path: Path
    sha256: str
    config_path: Path | None = None
    config: dict = field(default_factory=dict)
    ignored_keys: list = field(default_factory=list)

    def build_encoder(self, dropout: float = 0.5) -> GaussianEncoder:
        """A :class:`GaussianEncoder` holding these weights, in eval mode."""
        encoder = GaussianEncoder(self.num_layers, self.emb_dim, self.latent_dim, dropout,
                                  self.readout)
        encoder.load_state_dict(self.state_dict)
        return encoder.eval()


def resolve_authors_files(path) -> tuple[Path, Path | None]:
    """The weights file and config file (or None) of a checkpoint given as a file or folder.

    A folder must hold ``pretrain.pt`` (or exactly one ``*.pt`` file). The config is
    ``<stem>.yaml`` beside the weights (as the authors' ``main.py`` names it), else
    ``pretrain.yaml`` or ``config.yaml``.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        weights = path / AUTHORS_WEIGHTS_NAME
        if not weights.is_file():
            candidates = sorted(p for p in path.glob("*.pt") if p.is_file())
            if len(candidates) != 1:
                found = [p.name for p in candidates] or "no .pt file"
                raise FileNotFoundError(
                    f"{path} does not hold the authors' checkpoint: expected "
                    f"{AUTHORS_WEIGHTS_NAME} (or a single .pt file), found {found}."
                )
            weights = candidates[0]
    elif path.is_file():
        weights = path
    else:
        raise FileNotFoundError(f"No such file or folder: {str(path)!r}")
    for name in (f"{weights.stem}.yaml", *AUTHORS_CONFIG_NAMES):
        candidate = weights.parent / name
        if candidate.is_file():
            return weights, candidate
    return weights, None


def read_authors_config(path) -> dict:
    """The authors' flat YAML config (``key: value`` lines) as a dict of int, float or str.

    Written out by their ``save_arguments_to_yaml`` (``yaml.dump`` of a flat dict of scalars);
    parsed here without a YAML library. Anything else is an :class:`AuthorsCheckpointError`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AuthorsCheckpointError(f"not a text file ({exc})", str(path)) from exc
    config: dict = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#") or line.strip() == "---":
            continue
        match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*):\s*(.*)", line)
        if match is None:
            raise AuthorsCheckpointError(
                f"expected 'key: value' lines (the authors' model config), found {raw!r}",
                str(path), line=number,
            )
        config[match.group(1)] = _scalar(match.group(2).strip())
    return config


def _scalar(text: str):
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def load_authors_checkpoint(path, *, readout: str | None = None) -> AuthorsCheckpoint:
    """Read and convert the authors' checkpoint at ``path`` (file or folder).

    The weights are read with ``torch.load(weights_only=True)`` on the CPU: no code in the file
    runs. Layer count and widths come from the tensors' shapes, and must agree with the
    config file when there is one.

    Parameters
    ----------
    path : str or path
        ``pretrain.pt``, or the folder holding it (and its YAML config).
    readout : {"sum", "mean", "max"}, default=None
        Pooling of atom representations; None takes the config's ``readout`` or, without a
        config, ``"sum"`` (the published model's).

    Raises
    ------
    FileNotFoundError
        No weights file at ``path``.
    AuthorsCheckpointError
        The file is not a torch state dict of the authors' layout (wrong keys or shapes, our
        own ``weights.pt``, another architecture), naming the file and what differs.
    """
    if readout is not None and readout not in ("sum", "mean", "max"):
        raise ValueError(f"readout must be 'sum', 'mean', 'max' or None, got {readout!r}")
    weights_path, config_path = resolve_authors_files(path)
    where = str(weights_path)
    config = read_authors_config(config_path) if config_path is not None else {}
    raw = _torch_load(weights_path)
    state = _unwrap(raw, where)
    _check_layout(state, where)
    _check_supported(state, config, where, config_path)
    num_layers = _count_layers(state)
    emb_dim = int(state[f"{_PREFIX}atom_encoder.atom_embedding_list.0.weight"].shape[1])
    head = state.get("dist_net.1.weight")
    latent_dim = int(head.shape[0]) // 2
    _check_config_agrees(config, config_path, num_layers, emb_dim)
    chosen = readout if readout is not None else config.get("readout", AUTHORS_DEFAULT_READOUT)
    if chosen not in ("sum", "mean", "max"):
        raise AuthorsCheckpointError(
            f"readout {chosen!r} is not one of 'sum', 'mean', 'max'", str(config_path)
        )
    ours, ignored = _convert(state)
    checkpoint = AuthorsCheckpoint(
        state_dict=ours, num_layers=num_layers, emb_dim=emb_dim, latent_dim=latent_dim,
        readout=chosen, weights_path=weights_path, sha256=file_sha256(weights_path),
        config_path=config_path, config=config, ignored_keys=ignored,
    )
    _check_loads(checkpoint, where)
    return checkpoint


def _torch_load(path: Path):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # not a torch file, a torn one, or one needing code to load
        raise AuthorsCheckpointError(
            f"cannot be read as a torch state dict with weights_only=True ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); expected the authors' "
            f"{AUTHORS_WEIGHTS_NAME}", str(path),
        ) from exc


def _unwrap(raw, where: str) -> dict:
    """The state dict: the file itself, or under a single wrapper key."""
    if isinstance(raw, dict) and not any(isinstance(v, torch.Tensor) for v in raw.values()):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(raw.get(key), dict):
                raw = raw[key]
                break
    if isinstance(raw, dict) and raw and all(isinstance(k, str) and k.startswith("module.")
                                             for k in raw):
        raw = {k[len("module."):]: v for k, v in raw.items()}  # saved from DataParallel
    if not isinstance(raw, dict) or not raw:
        raise AuthorsCheckpointError(
            f"holds a {type(raw).__name__}, expected a non-empty state dict (parameter name -> "
            "tensor) of the authors' model", where,
        )
    bad = [k for k, v in raw.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise AuthorsCheckpointError(
            f"entries that are not named tensors, e.g. {bad[:3]!r}: not a state dict", where
        )
    return raw


def _check_layout(state: dict, where: str) -> None:
    keys = list(state)
    if any(k.startswith(("encoder.", "decoders.")) for k in keys) and not any(
        k.startswith(_PREFIX) for k in keys
    ):
        raise AuthorsCheckpointError(
            "is an infoalign-sklearn weights file (keys 'encoder.*'), not the authors' "
            "checkpoint; load its folder with InfoAlignEmbedder.from_pretrained(folder)", where,
        )
    required = [f"{_PREFIX}atom_encoder.atom_embedding_list.0.weight", "dist_net.1.weight",
                "dist_net.1.bias", f"{_PREFIX}convs.0.eps"]
    missing = [k for k in required if k not in state]
    if missing:
        raise AuthorsCheckpointError(
            f"lacks {missing} of the authors' InfoAlign layout (graph_encoder.* and dist_net.*); "
            f"its first keys are {keys[:5]}", where,
        )


def _check_supported(state: dict, config: dict, where: str, config_path) -> None:
    model = config.get("model")
    norm = config.get("norm_layer")
    if model is not None and model != "gin-virtual":
        raise AuthorsCheckpointError(
            f"model {model!r}: only the published 'gin-virtual' encoder is supported",
            str(config_path),
        )
    if norm is not None and norm != "batch_norm":
        raise AuthorsCheckpointError(
            f"norm_layer {norm!r}: only the published 'batch_norm' is supported", str(config_path)
        )
    if f"{_PREFIX}virtualnode_embedding.weight" not in state:
        raise AuthorsCheckpointError(
            "has no graph_encoder.virtualnode_embedding: a GNN without virtual node, which is "
            "not supported (the published model is 'gin-virtual')", where,
        )
    if f"{_PREFIX}convs.0.mlp.0.weight" not in state:
        raise AuthorsCheckpointError(
            "its convolutions are not GIN (no graph_encoder.convs.0.mlp.0.weight); only the "
            "published 'gin-virtual' encoder is supported", where,
        )


def _count_layers(state: dict) -> int:
    layers = {int(m.group(1)) for k in state
              if (m := re.match(r"^graph_encoder\.convs\.(\d+)\.", k))}
    return max(layers) + 1


def _check_config_agrees(config: dict, config_path, num_layers: int, emb_dim: int) -> None:
    for name, found in (("num_layer", num_layers), ("emb_dim", emb_dim)):
        if name in config and config[name] != found:
            raise AuthorsCheckpointError(
                f"{name}: {config[name]!r} in the config, but the weights have {found}",
                str(config_path),
            )


def _convert(state: dict) -> tuple[dict, list]:
    """Our state dict (renormed embedding rows) and the keys left out."""
    ours, ignored = {}, []
    for key, value in state.items():
        if key.startswith(f"{_PREFIX}bond_encoder.") or not key.startswith((_PREFIX, "dist_net.")):
            ignored.append(key)
            continue
        value = value.detach().clone()
        if _EMBEDDING_KEY.match(key) and value.is_floating_point() and value.ndim == 2:
            # the rows their nn.Embedding(max_norm=1) would use: same op, every row at once
            with torch.no_grad():
                torch.embedding_renorm_(value, torch.arange(value.shape[0]), 1.0, 2.0)
        ours[key] = value
    return ours, ignored


def _check_loads(checkpoint: AuthorsCheckpoint, where: str) -> None:
    """Build the encoder and load the weights; report missing, unexpected or misshapen keys."""
    encoder = GaussianEncoder(checkpoint.num_layers, checkpoint.emb_dim, checkpoint.latent_dim,
                              0.5, checkpoint.readout)
    expected = encoder.state_dict()
    found = checkpoint.state_dict
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    shapes = [f"{k}: {tuple(found[k].shape)} (expected {tuple(v.shape)})"
              for k, v in expected.items() if k in found and found[k].shape != v.shape]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing key(s), e.g. {missing[:4]}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected key(s), e.g. {unexpected[:4]}")
    if shapes:
        problems.append(f"{len(shapes)} tensor(s) of another shape, e.g. {shapes[:3]}")
    if problems:
        raise AuthorsCheckpointError(
            f"does not match the authors' gin-virtual encoder with {checkpoint.num_layers} "
            f"layers of width {checkpoint.emb_dim} (atom features {list(ATOM_FEATURE_DIMS)}, "
            f"bond features {list(BOND_FEATURE_DIMS)}): " + "; ".join(problems), where,
        )
