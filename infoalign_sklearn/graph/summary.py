"""Description of a context graph: counts, degree statistics and the summary text."""

from __future__ import annotations

import numpy as np

from .schema import EDGE_KINDS, NODE_KINDS

__all__ = ["graph_stats", "graph_summary"]


def graph_stats(graph) -> dict:
    """Counts and degree statistics of ``graph`` (plain Python values)."""
    kind_codes = graph.node_kinds
    kinds = np.asarray(NODE_KINDS, dtype=object)[kind_codes]
    node_counts = {k: int((kinds == k).sum()) for k in NODE_KINDS}
    degree = graph.degree
    keep = np.repeat(np.arange(graph.n_nodes), degree) < graph.indices
    codes = graph.edge_kinds[keep]
    edge_counts = {k: int((codes == i).sum()) for i, k in enumerate(EDGE_KINDS)}
    per_kind = {}
    for code, kind in enumerate(NODE_KINDS):
        d = degree[kind_codes == code]
        if d.size:
            per_kind[kind] = {"min": int(d.min()), "median": float(np.median(d)),
                              "mean": float(d.mean()), "max": int(d.max())}
    mol_degree = degree[graph.molecule_nodes]
    features = {}
    for m in graph.modalities:
        block = graph.feature_block(m)
        features[m] = (int((block.rows >= 0).sum()), block.n_features)
    return {
        "simulated": graph.simulated,
        "n_nodes": graph.n_nodes,
        "n_edges": graph.n_edges,
        "nodes": node_counts,
        "edges": edge_counts,
        "degree": per_kind,
        "isolated_molecules": int((mol_degree == 0).sum()),
        "features": features,
    }


def graph_summary(graph) -> str:
    """Human-readable description: node / edge counts, degrees, isolated molecules."""
    s = graph.stats()
    label = " (SIMULATED data)" if s["simulated"] else ""
    lines = [f"ContextGraph{label}: {s['n_nodes']} nodes, {s['n_edges']} edges"]
    lines.append("  nodes: " + ", ".join(f"{k} {v}" for k, v in s["nodes"].items()))
    lines.append("  edges: " + ", ".join(f"{k} {v}" for k, v in s["edges"].items()))
    for kind, d in s["degree"].items():
        lines.append(f"  degree of {kind} nodes: min {d['min']}, median {d['median']:g}, "
                     f"mean {d['mean']:.2f}, max {d['max']}")
    lines.append(f"  isolated molecules: {s['isolated_molecules']}")
    for m, (n_rows, d) in s["features"].items():
        lines.append(f"  {m} features: {n_rows} nodes x {d} columns")
    spec = graph.fingerprint_spec
    if spec is not None:
        lines.append(f"  fingerprint targets: {spec}")
    if graph.source_path:
        lines.append(f"  loaded from: {graph.source_path}")
    if s["simulated"]:
        lines.append("  SIMULATED: profiles and links are generated, not measured.")
    return "\n".join(lines)
