"""Figures: pretraining loss curves and score bars (matplotlib, Agg backend, PNG files)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .._utils.io import atomic_file  # noqa: E402


def plot_loss_history(history: list[dict], path, title: str = "InfoAlign pretraining") -> Path:
    """Loss per modality, β·KL and total per epoch, one panel each, saved as PNG.

    The raw KL is left out: under the default β = 1e-9 it grows into the millions while its
    weighted share ``beta_kl`` (what enters the loss) stays small; that share is plotted.
    """
    frame = pd.DataFrame(history).set_index("epoch")
    terms = [c for c in frame.columns if c not in ("seconds", "kl")]
    titles = {"beta_kl": "β·KL (in the loss)", "loss": "total loss"}
    fig, axes = plt.subplots(1, len(terms), figsize=(3.2 * len(terms), 2.8), squeeze=False)
    for ax, term in zip(axes[0], terms):
        ax.plot(frame.index, frame[term], marker="o", ms=3)
        ax.set_title(titles.get(term, term))
        ax.set_xlabel("epoch")
    axes[0][0].set_ylabel("BCE per observed entry")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def plot_score_bars(summary: pd.DataFrame, path, metric: str, title: str) -> Path:
    """Grouped bars: mean score (with std error bars) per representation and model."""
    pivot_mean = summary.pivot(index="model", columns="representation", values="mean")
    pivot_std = summary.pivot(index="model", columns="representation", values="std")
    ax = pivot_mean.plot.bar(yerr=pivot_std, figsize=(6.5, 3.4), rot=0, capsize=2)
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig = ax.get_figure()
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path) -> Path:
    path = Path(path)
    with atomic_file(path) as fh:
        fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)
    return path
