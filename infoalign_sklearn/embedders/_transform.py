"""Encoding molecules with a fitted embedder's encoder: device resolution, chunked
``transform`` with featurisation overlapped with the forward passes (a thread, or joblib
workers featurising ahead on a GPU), and the data-parallel CPU path in which each worker
process featurises and encodes its share of the molecules.
"""

from __future__ import annotations

import copy
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


def _encode_graphs(encoder, graphs, batch_size: int, device,
                   n_outputs: int = 1) -> tuple[list | None, np.ndarray]:
    """The first ``n_outputs`` encoder outputs (``mu``, then ``sigma``) of the valid graphs of
    one chunk (packed, in order), or None when none is valid, and the chunk's validity mask."""
    parts = [[t.float().cpu().numpy() for t in encoder(batch.to(device))[:n_outputs]]
             for batch in graphs.batches(batch_size)]
    if not parts:
        return None, graphs.valid
    return [np.concatenate(column) for column in zip(*parts)], graphs.valid


def _encoder_payload(encoder) -> tuple:
    """The encoder as workers receive it: its structure with the weights on the meta device (a
    small pickle) and the weights as numpy arrays, which joblib memory-maps once per call
    instead of pickling them into every task."""
    state = {k: v.detach().cpu().numpy() for k, v in encoder.state_dict().items()}
    return copy.deepcopy(encoder).to("meta").eval(), state


def _featurize_and_encode(payload, items, batch_size: int,
                          n_outputs: int = 1) -> tuple[list | None, np.ndarray]:
    """Worker side of the data-parallel CPU ``transform``."""
    skeleton, state = payload
    encoder = copy.deepcopy(skeleton)  # threads (a threading backend) share the payload
    encoder.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()},
                            assign=True)
    with torch.inference_mode():
        return _encode_graphs(encoder.eval(), packed_graphs_of_chunk(items), batch_size,
                              torch.device("cpu"), n_outputs)


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
    ``n_jobs`` and ``verbose``."""

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

    def _encoded_here(self, items, encoder, device, workers, n_outputs: int = 1):
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
                delayed(packed_graphs_of_chunk)(items[s:s + chunk]) for s in starts
            )
        else:
            featurized = _prefetched(items, chunk)
        with torch.inference_mode():
            for start, graphs in zip(starts, featurized):
                yield start, *_encode_graphs(encoder, graphs, self.batch_size, device, n_outputs)

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
            delayed(_featurize_and_encode)(payload, items[s:e], self.batch_size, n_outputs)
            for s, e in zip(starts, ends)
        )
        for start, (encoded, ok) in zip(starts, results):
            yield start, encoded, ok
