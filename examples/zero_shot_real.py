"""Zero-shot molecule -> morphology matching on a saved (REAL) context graph, leave-molecules-out.

The molecules of the graph that have a measured Cell Painting (morphology) profile are split
into K folds. For each fold, the held-out molecules are removed from the graph together with
every profile node linked to them (so their measured profiles are never a training target),
InfoAlign and the contrastive baseline are pretrained on what is left, and each held-out
molecule ranks the held-out molecules' measured profiles: InfoAlign by the likelihood of the
profile under its morphology decoder, the contrastive baseline by cosine similarity. Prints
NDCG / HIT at 1 and 10, averaged over folds, beside the exact random baseline.

    python examples/build_real_context.py --data-dir ../shared/data --out real_graph
    python examples/zero_shot_real.py --graph real_graph              # ~10 min on 2 CPU cores
    python examples/zero_shot_real.py --graph real_graph --out folds.csv --profile median

``--jump DATA_DIR`` matches against the REAL JUMP (cpg0016) Cell Painting profiles in
``DATA_DIR/context/jump_profiles/`` instead: a graph is built in memory from them (one
morphology node per compound, the median of its rows; DMSO controls left out; SMILES from
``DATA_DIR/context/compounds/JUMPCP_compounds.csv.gz`` by ``Metadata_JCP2022``), with the
similarity edges ``ContextGraph.from_tables`` computes and nothing else, since these 167
compounds (mostly environmental chemicals) have no expression profile or target annotation
here. Its 748 batch-corrected features are another feature space than the LINCS plate's, so
the two are not mixed in one graph. ``--save-graph DIR`` keeps the built graph.

    python examples/zero_shot_real.py --jump ../shared/data --out folds_jump.csv

A molecule profiled at several doses (the LINCS plate: ``cp:<id>@<dose>`` nodes) is
represented by its highest-dose profile (``--profile max-dose``) or by the median of its
profiles (``--profile median``). With few profiled molecules each fold has few candidates:
when a fold has 10 or fewer, every method (and random) scores HIT@10 = 1 there.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from infoalign_sklearn._utils.io import atomic_file
from infoalign_sklearn.embedders import ContrastiveEmbedder, InfoAlignEmbedder
from infoalign_sklearn.graph import EDGE_KINDS, NODE_KINDS, ContextGraph
from infoalign_sklearn.matching import evaluate_matching, profile_scores

KS = (1, 10)
MODALITY = "morphology"
#: node kinds that hold a perturbation's measured profile (dropped with a held-out molecule)
PROFILE_NODE_KINDS = ("morphology", "expression")
RANDOM = "Random ranking (exact expectation)"
_DOSE = re.compile(r"@([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$")


JUMP_PROFILES = "context/jump_profiles"
JUMP_COMPOUNDS = "context/compounds/JUMPCP_compounds.csv.gz"


def read_jump_profiles(data_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The JUMP profile tables of ``data_dir``: (compound profiles, feature names).

    Reads every ``*_jump_profiles.csv`` except ``dmso_`` (controls): rows are compound x
    source (``Metadata_JCP2022``, ``Metadata_Source``, ``harmony_0`` ...). A compound in
    several files or sources keeps all its rows. A small local loader on purpose (the
    package's readers are the place for a general one).
    """
    from pathlib import Path

    folder = Path(data_dir) / JUMP_PROFILES
    files = sorted(p for p in folder.glob("*_jump_profiles.csv")
                   if not p.name.startswith("dmso_"))
    if not files:
        sys.exit(f"error: no *_jump_profiles.csv in {folder} (see ../shared/data/MANIFEST.md)")
    frames = []
    for path in files:
        frame = pd.read_csv(path)
        missing = {"Metadata_JCP2022"} - set(frame.columns)
        features = [c for c in frame.columns if not c.startswith("Metadata_")]
        if missing or not features:
            sys.exit(f"error: {path} has no Metadata_JCP2022 column or no feature column")
        bad = [c for c in features if not pd.api.types.is_numeric_dtype(frame[c])]
        if bad:
            sys.exit(f"error: {path}: non-numeric feature column(s) {bad[:5]}")
        frames.append(frame)
    source = pd.Series(np.repeat([p.name for p in files], [len(f) for f in frames]),
                       name="Metadata_File")
    profiles = pd.concat([source, pd.concat(frames, ignore_index=True)], axis=1)
    names_path = folder / "jumpcp_int_feature_names.csv"
    names = pd.read_csv(names_path) if names_path.exists() else pd.DataFrame()
    return profiles, names


def jump_graph(data_dir) -> ContextGraph:
    """A context graph of the REAL JUMP profiles: molecules, one morphology node per compound
    (median of its rows), perturbation and similarity edges."""
    from pathlib import Path

    from infoalign_sklearn.readers import molecule_table, perturbation_links

    profiles, _ = read_jump_profiles(data_dir)
    compounds_path = Path(data_dir) / JUMP_COMPOUNDS
    if not compounds_path.exists():
        sys.exit(f"error: {compounds_path} is missing: it maps Metadata_JCP2022 to SMILES")
    wanted = set(profiles["Metadata_JCP2022"])
    compounds = pd.read_csv(compounds_path, usecols=["Metadata_JCP2022", "smiles"])
    compounds = compounds[compounds["Metadata_JCP2022"].isin(wanted)].drop_duplicates(
        "Metadata_JCP2022").set_index("Metadata_JCP2022")["smiles"]
    features = [c for c in profiles.columns if not c.startswith("Metadata_")]
    per_compound = profiles.groupby("Metadata_JCP2022")[features].median()
    unmapped = sorted(set(per_compound.index) - set(compounds.index))
    per_compound = per_compound.drop(index=unmapped)
    molecules, node_ids, report = molecule_table(compounds.loc[per_compound.index].tolist(),
                                                 source="JUMP Metadata_JCP2022 -> SMILES")
    per_compound.index = [f"cp:{jcp}" for jcp in per_compound.index]
    keep = [i for i, node in enumerate(node_ids) if node is not None]
    per_compound = per_compound.iloc[keep]
    links = perturbation_links(list(per_compound.index), [node_ids[i] for i in keep])
    print(f"JUMP profiles: {len(profiles)} rows, {len(wanted)} compounds "
          f"({len(unmapped)} without a SMILES in {compounds_path.name}); {report}")
    return ContextGraph.from_tables(molecules, profiles={"morphology": per_compound},
                                    links=links)


def profiled_molecules(graph: ContextGraph, modality: str = MODALITY) -> dict[int, np.ndarray]:
    """Molecule node -> the nodes holding its measured ``modality`` profiles.

    A profile sits either on the molecule node itself or on a profile node one perturbation
    edge away (how ``build_real_context.py`` and ``make_synthetic_context`` store it). Only
    molecules with at least one profile are listed.
    """
    try:
        block = graph.feature_block(modality)
    except KeyError:
        sys.exit(f"error: the graph has no {modality!r} feature block (it has "
                 f"{list(graph.modalities)}): there is no measured profile to match against.")
    perturbation = EDGE_KINDS.index("perturbation")
    molecule = NODE_KINDS.index("molecule")
    out = {}
    for node in graph.molecule_nodes.tolist():
        lo, hi = graph.indptr[node], graph.indptr[node + 1]
        neighbours = graph.indices[lo:hi]
        linked = neighbours[(graph.edge_kinds[lo:hi] == perturbation)
                            & (graph.node_kinds[neighbours] != molecule)]
        nodes = np.concatenate([[node], linked]).astype(np.int64)
        nodes = nodes[block.has(nodes)]
        if nodes.size:
            out[node] = nodes
    return out


def fold_graph(graph: ContextGraph, held_out) -> ContextGraph:
    """The graph without the ``held_out`` molecule nodes and every profile they produced.

    Removed: the molecule nodes (and any other molecule node with the same InChIKey skeleton,
    the rule ``without_molecules`` uses), and the morphology / expression nodes linked to them
    by a perturbation edge, with all their edges (similarity edges included). Genes and other
    molecules stay. A profile stored on a molecule node goes with the node.
    """
    held_out = np.asarray(held_out, dtype=np.int64)
    keys = graph.molecule_inchikey14()
    position = {node: i for i, node in enumerate(graph.molecule_nodes.tolist())}
    drop_keys = {keys[position[n]] for n in held_out.tolist()} - {None}
    same_key = np.array([k in drop_keys for k in keys.tolist()], dtype=bool)
    dropped = np.union1d(held_out, graph.molecule_nodes[same_key])
    keep = np.ones(graph.n_nodes, dtype=bool)
    keep[dropped] = False
    perturbation = EDGE_KINDS.index("perturbation")
    profile_kinds = [NODE_KINDS.index(k) for k in PROFILE_NODE_KINDS]
    for node in dropped.tolist():
        lo, hi = graph.indptr[node], graph.indptr[node + 1]
        neighbours = graph.indices[lo:hi]
        linked = (graph.edge_kinds[lo:hi] == perturbation) & np.isin(
            graph.node_kinds[neighbours], profile_kinds)
        keep[neighbours[linked]] = False
    return graph.subgraph(keep)


def candidate_profile(graph: ContextGraph, nodes, how: str = "max-dose",
                      modality: str = MODALITY) -> np.ndarray:
    """One raw-unit profile of a molecule from its profile nodes (see ``--profile``)."""
    block = graph.feature_block(modality)
    raw = graph.inverse_scale(modality, block.take(nodes))
    if len(nodes) == 1:
        return raw[0]
    if how == "median":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column stays NaN
            return np.nanmedian(raw, axis=0)
    ids = graph.node_ids[np.asarray(nodes)]
    doses = [_DOSE.search(str(i)) for i in ids]
    if not all(doses):
        sys.exit(f"error: cannot read a dose from profile node ids such as {list(ids[:3])} "
                 "(expected '<id>@<dose>'); use --profile median.")
    return raw[int(np.argmax([float(d.group(1)) for d in doses]))]


def _check_fold(reduced: ContextGraph, graph: ContextGraph, smiles, profile_nodes) -> None:
    """Fail loudly if a held-out molecule or one of its profiles survived in ``reduced``."""
    if (reduced.molecule_index(smiles) >= 0).any():
        raise RuntimeError("a held-out molecule is still in the pretraining graph")
    if (reduced.node_index(graph.node_ids[profile_nodes]) >= 0).any():
        raise RuntimeError("a held-out profile node is still in the pretraining graph")


def rank1_chance(per_fold: pd.DataFrame, method: str) -> tuple[int, float, float]:
    """(queries whose true profile ``method`` ranks first, the number random ranking expects,
    the probability that random ranking gets at least as many): the exact Poisson-binomial
    tail over the folds' candidate counts."""
    rows = per_fold[per_fold["method"] == method]
    hits = int(round(float((rows["hit@1"] * rows["n_queries"]).sum())))
    chances = np.concatenate([np.full(int(q), 1.0 / n) for n, q in
                              zip(rows["n_candidates"], rows["n_queries"]) if n > 0])
    distribution = np.array([1.0])
    for p in chances:
        distribution = np.convolve(distribution, [1.0 - p, p])
    return hits, float(chances.sum()), float(distribution[hits:].sum())


def _summary_table(per_fold: pd.DataFrame, label: str, title: str) -> str:
    columns = [f"{metric}@{k}" for metric in ("ndcg", "hit") for k in KS]
    lines = [title, f"{'method':<36}" + "".join(f"{c.upper():>14}" for c in columns)]
    for name, rows in per_fold.groupby("method", sort=False):
        cells = []
        for c in columns:
            spread = rows[c].std(ddof=1) if len(rows) > 1 else float("nan")
            cells.append(f"{rows[c].mean():.3f} ± {spread:.3f}".rjust(14))
        lines.append(f"{name:<36}" + "".join(cells))
    lines.append(f"(mean ± standard deviation over folds; {label} data)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Run the cross-validated comparison; return each method's metrics averaged over folds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--graph", help="directory of a saved ContextGraph")
    source.add_argument("--jump", metavar="DATA_DIR",
                        help="match against the real JUMP profiles of DATA_DIR instead "
                             "(context/jump_profiles/, see the module docstring)")
    parser.add_argument("--save-graph", metavar="DIR", help="with --jump: save the built graph")
    parser.add_argument("--folds", type=int, default=5, help="leave-molecules-out folds")
    parser.add_argument("--seed", type=int, default=0, help="fold split and model seeds")
    parser.add_argument("--profile", choices=("max-dose", "median"), default="max-dose",
                        help="a molecule's candidate profile when it has several (doses)")
    parser.add_argument("--epochs", type=int, default=5, help="InfoAlign pretraining epochs")
    parser.add_argument("--contrastive-epochs", type=int, default=50,
                        help="contrastive epochs (it trains only on the molecules with a "
                             "profile, about one batch an epoch on the real graph)")
    parser.add_argument("--latent-dim", type=int, default=300)
    parser.add_argument("--hidden-dim", type=int, default=300)
    parser.add_argument("--num-layers", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda', ...")
    parser.add_argument("--out", help="CSV file for the per-fold metrics (written atomically)")
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error(f"--folds must be at least 2, got {args.folds}")

    started = time.perf_counter()
    if args.jump:
        graph = jump_graph(args.jump)
        if args.save_graph:
            graph.save(args.save_graph)
    else:
        graph = ContextGraph.load(args.graph)
    label = "SIMULATED" if graph.simulated else "REAL"
    print(graph.summary())
    profiles = profiled_molecules(graph)
    keys = dict(zip(graph.molecule_nodes.tolist(), graph.molecule_inchikey14().tolist()))
    unparsed = [n for n in profiles if keys[n] is None]
    for node in unparsed:  # no InChIKey: RDKit cannot read the SMILES, so it cannot be a query
        del profiles[node]
    groups = sorted({keys[n] for n in profiles})
    n_profile_nodes = sum(len(v) for v in profiles.values())
    print(f"\n{len(profiles)} molecules have a measured {MODALITY} profile "
          f"({n_profile_nodes} profile rows"
          + (f"; {len(unparsed)} more with an unreadable SMILES left out" if unparsed else "")
          + f"); candidate profile per molecule: {args.profile}")
    if len(groups) < 2 * args.folds:
        sys.exit(f"error: only {len(groups)} molecule(s) with a measured {MODALITY} profile; "
                 f"{args.folds}-fold leave-molecules-out needs at least {2 * args.folds} "
                 "(use fewer --folds or a graph with more profiled molecules).")

    model_options = dict(latent_dim=args.latent_dim, hidden_dim=args.hidden_dim,
                         num_layers=args.num_layers, batch_size=args.batch_size,
                         device=args.device, random_state=args.seed)
    splitter = KFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    molecules = np.array(sorted(profiles), dtype=np.int64)
    group_of = np.array([groups.index(keys[n]) for n in molecules.tolist()])
    node_smiles = graph.nodes["smiles"].to_numpy()
    records = []
    for fold, (_, test_groups) in enumerate(splitter.split(groups), start=1):
        held = molecules[np.isin(group_of, test_groups)]
        profile_nodes = np.concatenate([profiles[n] for n in held.tolist()])
        smiles = node_smiles[held].tolist()
        reduced = fold_graph(graph, held)
        _check_fold(reduced, graph, smiles, profile_nodes)
        candidates = np.stack([candidate_profile(graph, profiles[n], args.profile)
                               for n in held.tolist()])
        true_index = np.arange(len(held))
        print(f"\nfold {fold}/{args.folds}: {len(held)} held-out molecules, "
              f"{len(candidates)} candidate profiles; pretraining graph "
              f"{reduced.n_nodes} nodes ({graph.n_nodes - reduced.n_nodes} removed, "
              f"{MODALITY} rows {(reduced.feature_block(MODALITY).rows >= 0).sum()} of "
              f"{(graph.feature_block(MODALITY).rows >= 0).sum()})", flush=True)
        embedders = {
            "InfoAlign (decoder likelihood)": InfoAlignEmbedder(
                reduced, max_epochs=args.epochs, **model_options),
            "Contrastive (cosine)": ContrastiveEmbedder(
                reduced, max_epochs=args.contrastive_epochs, **model_options),
        }
        result = None
        for name, embedder in embedders.items():
            fit_started = time.perf_counter()
            embedder.fit()
            fit_seconds = time.perf_counter() - fit_started
            scores = profile_scores(embedder, smiles, candidates, modality=MODALITY)
            result = evaluate_matching(scores, true_index, ks=KS)
            records.append({"fold": fold, "method": name, **result, "seconds": fit_seconds})
            print(f"  {name}: fitted in {fit_seconds:.1f} s, HIT@1 {result['hit@1']:.3f}",
                  flush=True)
        records.append({"fold": fold, "method": RANDOM, "seconds": 0.0,
                        **{k: result[k] for k in ("n_queries", "n_candidates", "n_skipped")},
                        **{k.removeprefix("random_"): v for k, v in result.items()
                           if k.startswith("random_")}})

    per_fold = pd.DataFrame.from_records(records)
    metric_columns = [f"{metric}@{k}" for metric in ("ndcg", "hit") for k in KS]
    per_fold = per_fold[["fold", "method", "n_queries", "n_candidates", "n_skipped",
                         *metric_columns, "seconds"]]
    sizes = per_fold.drop_duplicates("fold")["n_candidates"].tolist()
    wall = time.perf_counter() - started
    title = (f"\n{label} data: zero-shot molecule -> {MODALITY} matching, {args.folds}-fold "
             f"leave-molecules-out over {len(molecules)} profiled molecules\n"
             f"held-out molecules = candidate profiles per fold: {sizes}; profile: "
             f"{args.profile}; InfoAlign {args.epochs} epochs, contrastive "
             f"{args.contrastive_epochs} epochs; latent {args.latent_dim}, hidden "
             f"{args.hidden_dim}, {args.num_layers} layers")
    print(_summary_table(per_fold, label, title))
    for name in per_fold["method"].unique():
        if name != RANDOM:
            hits, expected, chance = rank1_chance(per_fold, name)
            print(f"{name}: true profile ranked first for {hits} of "
                  f"{int(per_fold.loc[per_fold['method'] == name, 'n_queries'].sum())} queries; "
                  f"random ranking expects {expected:.1f} and reaches {hits} or more with "
                  f"probability {chance:.3f}")
    if max(sizes) <= max(KS):
        print(f"note: every fold has <= {max(KS)} candidates, so @{max(KS)} covers all of "
              "them: HIT@10 is 1 for every method and for random.")
    print(f"wall time: {wall:.1f} s ({wall / 60:.1f} min)")
    if args.out:
        with atomic_file(args.out, "w") as fh:
            per_fold.to_csv(fh, index=False)
        print(f"per-fold metrics written to {args.out}")

    results = {}
    for name, rows in per_fold.groupby("method", sort=False):
        results[name] = {c: float(rows[c].mean()) for c in metric_columns}
        results[name]["n_folds"] = len(rows)
        results[name]["n_queries"] = int(rows["n_queries"].sum())
    return results


if __name__ == "__main__":
    main()
