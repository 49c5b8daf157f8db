"""Draw the figure of docs/concepts.md: a toy context graph with one random walk.

    python docs/make_figures.py            # writes docs/figures/context_graph.png

The graph is a hand-made toy (nine nodes), not data. Path weights printed on the walk are
computed here from the drawn edge weights, by the rule the library uses: the weight at step i
is the product of the weights of the edges taken up to step i.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures" / "context_graph.png"

# node id -> (kind, x, y)
NODES = {
    "mol:A": ("molecule", 0.0, 1.0),
    "mol:B": ("molecule", 1.8, 2.5),
    "mol:C": ("molecule", -0.6, -1.5),
    "cp:A": ("morphology", 1.8, -0.5),
    "cp:B": ("morphology", 3.7, 1.1),
    "ge:A": ("expression", -1.8, 0.6),
    "gene:G1": ("gene", 3.6, 3.4),
    "gene:G2": ("gene", 5.4, -0.2),
    "gene:G3": ("gene", 5.6, 2.6),
}
# (source, target, kind, weight)
EDGES = [
    ("mol:A", "cp:A", "perturbation", 1.0),
    ("mol:A", "ge:A", "perturbation", 1.0),
    ("mol:B", "cp:B", "perturbation", 1.0),
    ("gene:G2", "cp:B", "perturbation", 1.0),
    ("mol:A", "mol:B", "similarity", 0.85),
    ("mol:A", "mol:C", "similarity", 0.82),
    ("cp:A", "cp:B", "similarity", 0.9),
    ("mol:B", "gene:G1", "target", 1.0),
    ("gene:G1", "gene:G3", "interaction", 1.0),
    ("gene:G2", "gene:G3", "interaction", 1.0),
    ("mol:C", "gene:G2", "expression", 1.0),
]
WALK = ["mol:A", "mol:B", "cp:B", "cp:A", "mol:A"]
# where each step's label sits, relative to the middle of its edge
LABEL_OFFSETS = [(-0.55, 0.45), (0.6, 0.4), (0.55, -0.45), (-0.35, -0.6)]
STYLE = {
    "molecule": dict(color="#4C72B0", marker="o", label="molecule (fingerprint)"),
    "morphology": dict(color="#55A868", marker="s", label="morphology profile (Cell Painting)"),
    "expression": dict(color="#C44E52", marker="D", label="expression signature (L1000)"),
    "gene": dict(color="#8172B2", marker="^", label="gene (perturbation profile)"),
}
EDGE_STYLE = {
    "perturbation": dict(linestyle="-", color="0.35"),
    "similarity": dict(linestyle="--", color="0.35"),
    "target": dict(linestyle="-.", color="0.35"),
    "interaction": dict(linestyle=":", color="0.35"),
    "expression": dict(linestyle=(0, (5, 1, 1, 1, 1, 1)), color="0.35"),
}


def edge_weight(a: str, b: str) -> float:
    for source, target, _, weight in EDGES:
        if {source, target} == {a, b}:
            return weight
    raise ValueError(f"the walk uses {a} - {b}, which is not an edge")


def path_weights(walk: list[str]) -> np.ndarray:
    steps = [edge_weight(a, b) for a, b in zip(walk[:-1], walk[1:])]
    return np.concatenate([[1.0], np.cumprod(steps)])


def draw(path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(9.0, 5.0))
    xy = {n: np.array([x, y]) for n, (_, x, y) in NODES.items()}
    for source, target, kind, weight in EDGES:
        (x0, y0), (x1, y1) = xy[source], xy[target]
        ax.plot([x0, x1], [y0, y1], lw=1.3, zorder=1, **EDGE_STYLE[kind])
        if weight != 1.0:
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2
            ax.text(mx, my - 0.18, f"{weight:g}", fontsize=8, color="0.25", ha="center")
    weights = path_weights(WALK)
    for step, (a, b) in enumerate(zip(WALK[:-1], WALK[1:]), start=1):
        start, end = xy[a], xy[b]
        bend = 0.2
        ax.annotate("", xy=end, xytext=start, zorder=3,
                    arrowprops=dict(arrowstyle="-|>", color="#DD8452", lw=2.2,
                                    shrinkA=11, shrinkB=11,
                                    connectionstyle=f"arc3,rad={bend}"))
        mid = (start + end) / 2 + np.array(LABEL_OFFSETS[step - 1])
        ax.text(*mid, f"step {step}\nw={weights[step]:.3g}", fontsize=8, color="#B5531D",
                ha="center", va="center", zorder=4,
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
    for node, (kind, x, y) in NODES.items():
        style = STYLE[kind]
        ax.scatter([x], [y], s=420, c=style["color"], marker=style["marker"], zorder=5,
                   edgecolors="white", linewidths=1.5)
        ax.text(x, y + 0.33, node, fontsize=8.5, ha="center", zorder=6)
    ax.scatter([xy[WALK[0]][0]], [xy[WALK[0]][1]], s=900, facecolors="none",
               edgecolors="#DD8452", linewidths=2.0, zorder=4)
    node_handles = [Line2D([], [], linestyle="", markersize=9, marker=s["marker"],
                           color=s["color"], label=s["label"]) for s in STYLE.values()]
    edge_handles = [Line2D([], [], lw=1.3, label=f"{kind} edge", **s)
                    for kind, s in EDGE_STYLE.items()]
    walk_handle = [Line2D([], [], color="#DD8452", lw=2.2,
                          label="random walk from mol:A (w = path weight)")]
    ax.legend(handles=node_handles + edge_handles + walk_handle, loc="center left",
              bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    fig.suptitle("A toy cellular context graph and one walk of length 4 (illustration, not data)",
                 fontsize=10)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.margins(0.08)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    print(f"path weights of the walk {' -> '.join(WALK)}: {path_weights(WALK).round(4).tolist()}")
    print(f"wrote {draw(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
