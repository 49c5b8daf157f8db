"""Chunked, optionally parallel map over molecules, with a progress bar.

RDKit objects are built inside the workers (only strings cross process boundaries), the
pattern scikit-fingerprints uses; joblib's active backend is honoured, so
``joblib.parallel_backend("dask")`` spreads the chunks over a cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from joblib import Parallel, delayed, effective_n_jobs
from tqdm.auto import tqdm


def progress_options(verbose, desc: str) -> dict | None:
    """tqdm keyword arguments for ``verbose`` (int or dict), or None for no bar."""
    if isinstance(verbose, dict):
        return {"desc": desc, **verbose}
    if verbose:
        return {"desc": desc}
    return None


def chunked_map(
    func: Callable[[Sequence], list],
    items: Sequence,
    *,
    n_jobs: int | None = None,
    batch_size: int | None = None,
    verbose=0,
    desc: str = "molecules",
) -> list:
    """Apply ``func`` (list -> list of equal length) to chunks of ``items``; keep order."""
    n = len(items)
    workers = effective_n_jobs(n_jobs)
    if batch_size is None:
        # a few chunks per worker balances load without drowning in scheduling overhead
        batch_size = max(1, min(2048, -(-n // (4 * workers)))) if workers > 1 else max(1, min(n, 1024))
    chunks = [items[i : i + batch_size] for i in range(0, n, batch_size)]
    bar_opts = progress_options(verbose, desc)
    bar = tqdm(total=n, **bar_opts) if bar_opts is not None else None
    out: list = []
    if workers == 1 or len(chunks) == 1:
        for chunk in chunks:
            out.extend(func(chunk))
            if bar is not None:
                bar.update(len(chunk))
    else:
        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(func)(chunk) for chunk in chunks
        )
        for chunk_result in results:
            out.extend(chunk_result)
            if bar is not None:
                bar.update(len(chunk_result))
    if bar is not None:
        bar.close()
    return out
