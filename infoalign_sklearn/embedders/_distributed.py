"""Multi-process pretraining with ``torch.distributed`` (private).

``GraphTrainedEmbedder.fit`` takes the distributed path when it runs in a process group of
more than one process: one started by the caller (``torch.distributed.init_process_group``),
or one ``fit`` starts itself from the environment ``torchrun`` sets (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``): backend ``nccl`` on CUDA, ``gloo`` on the
CPU. ``infoalign pretrain --nproc N`` starts N local processes with :func:`launch_local`.

What makes N processes train the weights one process would (same seed, same ``batch_size``):

- ``batch_size`` is the *global* batch: every rank draws the same permutation and the same
  random walks for the whole batch (walks are cheap next to the network), then encodes its
  contiguous share of the molecules (:func:`shard_of`);
- each loss term is the rank's share of the global mean (its sum divided by the global count),
  the gradients are summed over ranks (:func:`all_reduce_gradients`, one collective per step);
- batch normalisation uses the statistics of the global batch (:class:`DistributedBatchNorm1d`,
  which works on the CPU with gloo, where ``torch.nn.SyncBatchNorm`` refuses CPU tensors).

- dropout draws, on every rank, the masks of the whole batch from the one-process stream and
  keeps the rank's rows (:class:`GlobalMaskDropout`).

So N processes agree with one process within float32 rounding (``tests/test_distributed.py``).
"""

from __future__ import annotations

import datetime
import os
import socket
from dataclasses import dataclass

import torch
from torch import distributed as dist
from torch import nn
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

#: Seconds a process waits for the others (process-group start and each collective) when
#: ``fit`` starts the group itself; ``INFOALIGN_DIST_TIMEOUT`` overrides it.
DEFAULT_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class Ranks:
    """This process's place in the process group."""

    rank: int
    world_size: int
    local_rank: int
    started_here: bool  # the group was started by fit (from torchrun's environment)

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(os.environ.get("INFOALIGN_DIST_TIMEOUT",
                                                           DEFAULT_TIMEOUT_S)))


def current_ranks(device_type: str = "cpu") -> Ranks | None:
    """The process group of more than one process this process belongs to, or None.

    Starts the group from torchrun's environment variables when they name more than one
    process and no group is running yet (``nccl`` for CUDA, else ``gloo``).
    """
    if not dist.is_available():
        return None
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if dist.is_initialized():
        world = dist.get_world_size()
        return Ranks(dist.get_rank(), world, local_rank, False) if world > 1 else None
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    missing = [k for k in ("RANK", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
    if missing:
        raise ValueError(
            f"WORLD_SIZE={world} in the environment but {', '.join(missing)} not set: start "
            "the processes with torchrun (or `infoalign pretrain --nproc N`), or unset WORLD_SIZE."
        )
    backend = "nccl" if device_type == "cuda" else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend, timeout=timeout())
    return Ranks(dist.get_rank(), dist.get_world_size(), local_rank, True)


def shard_of(n: int, ranks: Ranks) -> slice:
    """Contiguous positions ``[start, stop)`` of a global batch of ``n`` this rank encodes."""
    start = n * ranks.rank // ranks.world_size
    return slice(start, n * (ranks.rank + 1) // ranks.world_size)


def broadcast_object(obj, ranks: Ranks, device):
    """Rank 0's ``obj`` on every rank (``torch.distributed.broadcast_object_list``)."""
    box = [obj if ranks.is_main else None]
    dist.broadcast_object_list(box, src=0, device=device if device.type == "cuda" else None)
    return box[0]


def broadcast_module(module: nn.Module) -> None:
    """Rank 0's parameters and buffers on every rank."""
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)


def all_reduce_gradients(parameters) -> None:
    """Sum every parameter's gradient over the ranks (one collective over a flat buffer).

    A parameter without a gradient contributes zeros and keeps no gradient, so that the
    optimiser skips it as in one process (every rank runs the same modules: the sets agree).
    """
    params = [p for p in parameters if p.requires_grad]
    if not params:
        return
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                      for p in params])
    dist.all_reduce(flat)
    offset = 0
    for p in params:
        n = p.numel()
        if p.grad is not None:
            p.grad.copy_(flat[offset:offset + n].view_as(p))
        offset += n


def all_reduce_terms(terms: dict) -> dict:
    """Each (detached) loss term summed over the ranks: the global batch's value."""
    names = list(terms)
    values = torch.stack([terms[k].detach().reshape(()).double() for k in names])
    dist.all_reduce(values)
    return dict(zip(names, values.cpu().tolist()))


class _AllReduceSum(torch.autograd.Function):
    """Sum over ranks whose gradient is the sum over ranks of the incoming gradients."""

    @staticmethod
    def forward(ctx, tensor):
        out = tensor.clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class DistributedBatchNorm1d(nn.BatchNorm1d):
    """``BatchNorm1d`` normalising with the statistics of the rows of all ranks.

    In training, each rank's sums (float64) are all-reduced in one differentiable collective;
    the running statistics are updated as ``BatchNorm1d`` would update them from the whole
    batch. In evaluation it is ``BatchNorm1d``. Same parameters, buffers and state-dict keys.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        c = x.shape[1]
        xd = x.double()
        local = torch.cat([xd.sum(0), (xd * xd).sum(0), xd.new_full((1,), x.shape[0])])
        total = _AllReduceSum.apply(local)
        n = total[-1]
        mean = total[:c] / n
        var = (total[c:2 * c] / n - mean * mean).clamp(min=0)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                factor = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                          else self.momentum)
                count = float(n)
                self.running_mean.mul_(1 - factor).add_(mean.to(x.dtype), alpha=factor)
                unbiased = var * count / max(count - 1.0, 1.0)
                self.running_var.mul_(1 - factor).add_(unbiased.to(x.dtype), alpha=factor)
        y = (x - mean.to(x.dtype)) * torch.rsqrt(var.to(x.dtype) + self.eps)
        if self.affine:
            y = y * self.weight + self.bias
        return y


class GlobalMaskDropout(TorchFunctionMode):
    """Dropout of this rank's rows with the masks one process would draw for the whole batch.

    Inside the ``with`` block, each training-mode ``torch.nn.functional.dropout`` call (the
    ``nn.Dropout`` modules call it too) draws the mask of the global batch's shape, from the
    same generator state on every rank, and keeps this rank's rows. ``layouts`` gives, call
    after call (cycled), ``(local rows, global rows, offset of the local rows)``: for the GIN
    encoder, atoms then molecules (each layer drops out its atoms, then the virtual-node update
    of the molecules; the last layer has no virtual-node update). A call whose input does not
    have the expected number of rows raises ``RuntimeError`` rather than drawing other masks.
    """

    def __init__(self, layouts):
        super().__init__()
        self.layouts = list(layouts)
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is not F.dropout:
            return func(*args, **kwargs)
        x = args[0]
        p = kwargs.get("p", args[1] if len(args) > 1 else 0.5)
        training = kwargs.get("training", args[2] if len(args) > 2 else True)
        if not training or p == 0:
            return func(*args, **kwargs)
        n_local, n_global, offset = self.layouts[self.calls % len(self.layouts)]
        self.calls += 1
        if x.shape[0] != n_local:
            raise RuntimeError(
                f"dropout call {self.calls} got {x.shape[0]} rows where this rank has "
                f"{n_local}: the module's dropout calls are not in the order the layouts give"
            )
        # the very call one process makes on the whole batch (same shape, same generator)
        mask = F.dropout(torch.ones((n_global, *x.shape[1:]), dtype=x.dtype, device=x.device),
                         p, True)
        return x * mask[offset:offset + n_local]


def shard_layouts(n_atoms, part: slice) -> tuple[tuple, tuple]:
    """``(local, global, offset)`` rows of atoms and of molecules of the share ``part`` of a
    batch whose molecules have ``n_atoms`` atoms each."""
    atoms = (int(n_atoms[part].sum()), int(n_atoms.sum()), int(n_atoms[:part.start].sum()))
    molecules = (part.stop - part.start, len(n_atoms), part.start)
    return atoms, molecules


def _swap_batchnorm(module: nn.Module, source: type, target: type) -> None:
    for name, child in module.named_children():
        if type(child) is source:
            new = target(child.num_features, child.eps, child.momentum, child.affine,
                         child.track_running_stats, device=None, dtype=None)
            # share, not copy: the optimiser holds these very parameters
            new.weight, new.bias = child.weight, child.bias
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                setattr(new, buffer, getattr(child, buffer))
            new.train(child.training)
            setattr(module, name, new)
        else:
            _swap_batchnorm(child, source, target)


def use_distributed_batchnorm(module: nn.Module) -> None:
    """Replace, in place, every ``BatchNorm1d`` by a :class:`DistributedBatchNorm1d`."""
    _swap_batchnorm(module, nn.BatchNorm1d, DistributedBatchNorm1d)


def restore_batchnorm(module: nn.Module) -> None:
    """Undo :func:`use_distributed_batchnorm` (the fitted module pickles as in one process)."""
    _swap_batchnorm(module, DistributedBatchNorm1d, nn.BatchNorm1d)


# ---------------------------------------------------------------- local launcher
def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for MASTER_PORT of a local run)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _local_worker(rank: int, nproc: int, port: int, target, args) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(nproc),
                      LOCAL_WORLD_SIZE=str(nproc), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    if "OMP_NUM_THREADS" not in os.environ:  # share the cores, as torchrun does
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // nproc))
    try:
        target(*args)
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()


def launch_local(target, args: tuple, nproc: int) -> None:
    """Run ``target(*args)`` in ``nproc`` new local processes, as torchrun would start them.

    ``target`` must be importable (a module-level function). Each process gets torchrun's
    environment variables; ``fit`` inside starts the process group from them. Raises
    ``RuntimeError`` with the failing rank's traceback if any process fails.
    """
    import torch.multiprocessing as mp

    port = free_port()
    try:
        mp.start_processes(_local_worker, args=(nproc, port, target, args), nprocs=nproc,
                           join=True, start_method="spawn")
    except mp.ProcessRaisedException as exc:
        raise RuntimeError(f"a pretraining process failed:\n{exc}") from None
    except mp.ProcessExitedException as exc:
        raise RuntimeError(f"a pretraining process exited: {exc}") from None

