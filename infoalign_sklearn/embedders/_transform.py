"""Encoding molecules with a fitted embedder's encoder: device resolution, chunked
``transform`` with featurisation overlapped with the forward passes (a thread, or worker
processes featurising ahead on a GPU: joblib's, or a torch ``DataLoader``'s that also batch
into pinned memory),
the data-parallel CPU path in which each worker process featurises and encodes its share of
the molecules, and the optional bfloat16 autocast (``precision``).
"""

from __future__ import annotations

import contextlib
import copy
import multiprocessing
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from .._utils.parallel import progress_options
from ..chem.graphs import packed_graphs_of_chunk
from ..chem.molecules import check_molecule_input, raise_or_mask_invalid
from ..nn.device import resolve_device


def _prefetched(items, chunk: int):
    """Graphs of ``items`` chunk by chunk, the next chunk featurised in a thread meanwhile."""
    starts = range(0, len(items), chunk)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for start in starts:
            graphs = (pending.result() if pending is not None
                      else packed_graphs_of_chunk(items[start:start + chunk]))
            pending = (pool.submit(packed_graphs_of_chunk, items[start + chunk:start + 2 * chunk])
                       if start + chunk < len(items) else None)
            yield graphs


#: Values of the embedders' ``precision`` parameter and the torch dtype each autocasts to.
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}


def autocast_for(precision: str, device: torch.device):
    """The context in which forward passes run at ``precision``: ``torch.autocast`` to
    bfloat16 on ``device`` (CPU or CUDA), or nothing for float32."""
    dtype = PRECISIONS[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def _encode_graphs(encoder, graphs, batch_size: int, device, precision: str = "float32",
                   n_outputs: int = 1) -> tuple[list | None, np.ndarray]:
    """The first ``n_outputs`` encoder outputs (``mu``, then ``sigma``) of the valid graphs of
    one chunk (packed, in order), or None when none is valid, and the chunk's validity mask."""
    with autocast_for(precision, device):
        parts = [[t.float().cpu().numpy() for t in encoder(batch.to(device))[:n_outputs]]
                 for batch in graphs.batches(batch_size)]
    if not parts:
        return None, graphs.valid
    return [np.concatenate(column) for column in zip(*parts)], graphs.valid


class _ChunkBatches(torch.utils.data.Dataset):
    """Item ``k``: the validity mask of ``items[k * chunk:(k + 1) * chunk]`` and the PyTorch
    Geometric batches (``batch_size`` valid graphs each) of that chunk, built in a
    ``DataLoader`` worker so that this process only moves them to the device and encodes."""

    def __init__(self, items, chunk: int, batch_size: int):
        self.items, self.chunk, self.batch_size = items, chunk, batch_size

    def __len__(self) -> int:
        return -(-len(self.items) // self.chunk)

    def __getitem__(self, k: int):
        graphs = packed_graphs_of_chunk(self.items[k * self.chunk:(k + 1) * self.chunk])
        return torch.from_numpy(graphs.valid), list(graphs.batches(self.batch_size))


def _keep_as_is(item):
    """``collate_fn`` of the chunk loader: each item is already one chunk's batches."""
    return item


def _featurized_by_dataloader(items, chunk: int, batch_size: int, workers: int, pin: bool):
    """(validity, batches) of each chunk of ``items``, in order, featurised by ``workers``
    ``DataLoader`` processes (one torch thread each, as DataLoader workers always run) a few
    chunks ahead; in pinned memory when ``pin`` (a CUDA device), so that the copies to the
    device can be asynchronous."""
    dataset = _ChunkBatches(items, chunk, batch_size)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=None, collate_fn=_keep_as_is, num_workers=min(workers, len(dataset)),
        pin_memory=pin, prefetch_factor=4, persistent_workers=False,
    )
    for valid, batches in loader:
        yield valid.numpy(), batches


def _featurized_by_joblib(items, chunk: int, batch_size: int, n_jobs):
    """The same as :func:`_featurized_by_dataloader` with joblib's workers (ordered
    generator); the engine of earlier releases, kept for ``benchmarks/feed.py``'s comparison
    and for joblib backends (``parallel_config("dask")``)."""
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(packed_graphs_of_chunk)(items[s:s + chunk]) for s in range(0, len(items), chunk)
    )
    for graphs in results:
        yield graphs.valid, list(graphs.batches(batch_size))


def _encoder_payload(encoder) -> tuple:
    """The encoder as workers receive it: its structure with the weights on the meta device (a
    small pickle) and the weights as numpy arrays, which joblib memory-maps once per call
    instead of pickling them into every task."""
    state = {k: v.detach().cpu().numpy() for k, v in encoder.state_dict().items()}
    return copy.deepcopy(encoder).to("meta").eval(), state


def _featurize_and_encode(payload, items, batch_size: int, precision: str = "float32",
                          n_outputs: int = 1) -> tuple[list | None, np.ndarray]:
    """Worker side of the data-parallel CPU ``transform``."""
    skeleton, state = payload
    encoder = copy.deepcopy(skeleton)  # threads (a threading backend) share the payload
    encoder.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()},
                            assign=True)
    with torch.inference_mode():
        return _encode_graphs(encoder.eval(), packed_graphs_of_chunk(items), batch_size,
                              torch.device("cpu"), precision, n_outputs)


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


class EncodingMixin:
    """``transform`` of an embedder whose ``module_.encoder`` maps molecule graphs to
    ``(embedding, ...)``; needs ``latent_dim``, ``batch_size``, ``device``, ``errors``,
    ``n_jobs``, ``verbose`` and ``precision``."""

    #: Who featurises ahead of the device with ``n_jobs`` > 1 on a GPU: ``"joblib"``
    #: (joblib's workers, which stay up between calls; this process builds the batches) or
    #: ``"dataloader"`` (torch DataLoader workers, started per call, that also build the
    #: batches, in pinned memory). Both give the same batches, hence the same bits.
    #: ``benchmarks/feed.py --engines`` compares them; on the 2-core dev machine joblib's
    #: measured as fast or faster (docs/scaling.md), a GPU measurement is pending.
    _feed_engine = "joblib"

    @property
    def _n_features_out(self):
        return self.latent_dim

    def _encode(self, X, desc: str, n_outputs: int = 1) -> tuple[np.ndarray, ...]:
        """Embedding of every input (NaN rows where invalid) and the validity mask.

        With ``n_outputs=2``: ``(mu, sigma, valid)``, the mean and the standard deviation of
        the encoder's Gaussian q(z | x), both float32 (n, latent_dim) with NaN rows where
        invalid.
        """
        check_is_fitted(self, "module_")
        items = check_molecule_input(X)
        device = resolve_device(self.device)
        encoder = self.module_.to(device).eval().encoder
        outs = [np.full((len(items), self.latent_dim), np.nan, dtype=np.float32)
                for _ in range(n_outputs)]
        valid = np.zeros(len(items), dtype=bool)
        bar_opts = progress_options(self.verbose, desc)
        bar = tqdm(total=len(items), **bar_opts) if bar_opts is not None else None
        workers = effective_n_jobs(self.n_jobs)
        if device.type == "cpu" and workers > 1 and len(items) > 2 * self.batch_size:
            chunks = self._encoded_in_workers(items, encoder, workers, n_outputs)
        else:
            chunks = self._encoded_here(items, encoder, device, workers, n_outputs)
        for start, encoded, ok in chunks:
            valid[start:start + len(ok)] = ok
            if ok.any():
                for out, part in zip(outs, encoded):
                    out[start + np.flatnonzero(ok)] = part
            if bar is not None:
                bar.update(len(ok))
        if bar is not None:
            bar.close()
        raise_or_mask_invalid(items, valid, self.errors)
        return (*outs, valid)

    @property
    def _precision(self) -> str:
        # embedders pickled before the parameter existed have no attribute: float32
        return getattr(self, "precision", "float32")

    def _encoded_here(self, items, encoder, device, workers, n_outputs: int = 1):
        """Encode in this process, featurising ahead of the forward passes.

        With ``n_jobs`` > 1 (a GPU run), worker processes featurise the next chunks (one batch
        each) while the encoder runs on this one (``_feed_engine``: joblib's workers, or
        DataLoader workers that also build the batches in pinned memory for asynchronous
        copies); the embeddings come back to the host a few batches at a time, so the device
        does not wait for each. Otherwise a thread featurises the
        next chunk, which overlaps with the forward pass when the encoder leaves a core (or
        the GPU) free. The batches are the same for every engine: each chunk's valid
        molecules, ``batch_size`` at a time.
        """
        chunk = self.batch_size if workers > 1 else self.batch_size * 8
        starts = range(0, len(items), chunk)
        if workers > 1 and len(items) > chunk:
            # DataLoader workers start with each call (joblib's stay up between calls): worth
            # it from a few chunks per worker on. A daemonic process (a Dask or
            # multiprocessing worker) cannot start them; joblib does what such a process allows
            few_chunks = len(starts) < 2 * workers
            if (self._feed_engine == "joblib" or few_chunks
                    or multiprocessing.current_process().daemon):
                featurized = _featurized_by_joblib(items, chunk, self.batch_size, self.n_jobs)
            else:
                featurized = _featurized_by_dataloader(items, chunk, self.batch_size, workers,
                                                       pin=device.type == "cuda")
        else:
            featurized = ((graphs.valid, graphs.batches(self.batch_size))
                          for graphs in _prefetched(items, chunk))
        non_blocking = device.type == "cuda"
        # on a GPU, embeddings wait on the device and come back every few batches (one
        # synchronisation per group instead of one per batch)
        group = 16 if device.type == "cuda" else 1
        pending: list = []
        with torch.inference_mode(), autocast_for(self._precision, device):
            for start, (ok, batches) in zip(starts, featurized):
                parts = [[t.float() for t in
                          encoder(batch.to(device, non_blocking=non_blocking))[:n_outputs]]
                         for batch in batches]
                pending.append((start, parts, ok))
                if len(pending) >= group:
                    yield from _to_host(pending)
                    pending = []
            yield from _to_host(pending)

    def _encoded_in_workers(self, items, encoder, workers, n_outputs: int = 1):
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
        payload = _encoder_payload(encoder)
        results = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(_featurize_and_encode)(payload, items[s:e], self.batch_size, self._precision,
                                           n_outputs)
            for s, e in zip(starts, ends)
        )
        for start, (encoded, ok) in zip(starts, results):
            yield start, encoded, ok


def _to_host(pending):
    """``(start, [each output as a numpy array] or None, validity)`` of each pending chunk,
    with one device-to-host copy per output for all of them."""
    sizes = [sum(len(outputs[0]) for outputs in parts) for _, parts, _ in pending]
    columns = list(zip(*(outputs for _, parts, _ in pending for outputs in parts)))
    host = [torch.cat(column).cpu().numpy() for column in columns]
    offset = 0
    for (start, _, ok), size in zip(pending, sizes):
        yield start, ([h[offset:offset + size] for h in host] if size else None), ok
        offset += size
