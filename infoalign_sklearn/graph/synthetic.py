"""SIMULATED biology: a small cellular context graph for demos and tests.

Real molecules (RDKit's shipped NCI sample) get simulated cell-morphology and gene-expression
profiles driven by hidden substructure "mechanisms" (SMARTS patterns), a weaker smooth
dependence on the whole fingerprint, one interaction between two mechanisms, and noise.
Mechanisms act on target genes: molecules are linked to some of them, expression of the
targets moves strongly, and the targets' own perturbation profiles resemble the mechanism's
morphology. Nothing here is measured; every graph made here says SIMULATED in its summary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..chem import check_molecule_input, inchikey14, mol_from_input, morgan_fingerprints
from .context import ContextGraph
from .schema import GENE_PREFIX, MOLECULE_PREFIX

#: hidden mechanisms: each hits roughly 8-35 % of the NCI molecules
MECHANISM_SMARTS = {
    "halogenated": "[F,Cl,Br,I]",
    "basic_amine": "[NX3;H2,H1;!$(NC=O)]",
    "carboxylic_acid": "C(=O)[OX2H1]",
    "sulfur": "[#16]",
    "fused_aromatic": "[cR2]",
    "ester": "[#6]C(=O)O[#6]",
    "phenol": "c[OX2H]",
    "nitro": "[N+](=O)[O-]",
}
_STRUCTURE_BITS = 256


def nci_smiles_path() -> str:
    """Path of ``first_5K.smi`` shipped inside the RDKit package."""
    import rdkit

    return os.path.join(os.path.dirname(rdkit.__file__), "Data", "NCI", "first_5K.smi")


def _mechanism_hits(items, smarts: dict) -> np.ndarray:
    from rdkit import Chem

    patterns = [Chem.MolFromSmarts(s) for s in smarts.values()]
    hits = np.zeros((len(items), len(patterns)), dtype=bool)
    valid = np.zeros(len(items), dtype=bool)
    for i, item in enumerate(items):
        mol = mol_from_input(item)
        if mol is None:
            continue
        valid[i] = True
        hits[i] = [mol.HasSubstructMatch(p) for p in patterns]
    return hits, valid


@dataclass(eq=False)
class _Simulator:
    """The hidden parameters of the simulation (noise-free part)."""

    smarts: dict
    morphology_base: np.ndarray
    morphology_effects: np.ndarray
    morphology_structure: np.ndarray
    morphology_interaction: np.ndarray
    expression_effects: np.ndarray
    expression_structure: np.ndarray
    expression_interaction: np.ndarray

    def profiles(self, items, modality: str) -> np.ndarray:
        hits, valid = _mechanism_hits(items, self.smarts)
        bits = np.nan_to_num(morgan_fingerprints(items, radius=2, n_bits=_STRUCTURE_BITS))
        # a smooth, saturating function of the whole structure: learnable, not a lookup table
        structure = np.tanh(bits @ self._structure(modality) / np.sqrt(1.0 + bits.sum(1))[:, None])
        both = (hits[:, 0] & hits[:, 1]).astype(np.float64)[:, None]
        if modality == "morphology":
            out = (self.morphology_base + hits @ self.morphology_effects + structure
                   + both * self.morphology_interaction)
        elif modality == "expression":
            out = hits @ self.expression_effects + structure + both * self.expression_interaction
        else:
            raise ValueError(f"modality must be 'morphology' or 'expression', got {modality!r}")
        out = out.astype(np.float32)
        out[~valid] = np.nan
        return out

    def _structure(self, modality):
        return self.morphology_structure if modality == "morphology" else self.expression_structure


@dataclass(eq=False)
class SyntheticContext:
    """A SIMULATED context graph with its hidden ground truth.

    Attributes
    ----------
    graph : ContextGraph
        The graph (``graph.simulated`` is True); held-out molecules are not in it.
    smiles : list of str
        Every molecule of the simulation, held-out ones included.
    mechanisms : DataFrame of bool, shape (n_molecules, n_mechanisms)
        Hidden mechanism labels of ``smiles`` (row order); usable as a downstream task.
    held_out : ndarray of bool, shape (n_molecules,)
        True for the molecules kept out of the graph.
    mechanism_smarts : dict
        SMARTS pattern of each mechanism.
    targets : dict
        Target gene node ids of each mechanism.
    tables : dict
        The tables the graph was built from (``molecules``, ``profiles`` with replicate rows,
        ``genes``, ``links``, ``aggregate_replicates``), for rebuilding with other options.
    """

    graph: ContextGraph
    smiles: list
    mechanisms: pd.DataFrame
    held_out: np.ndarray
    mechanism_smarts: dict
    targets: dict
    tables: dict = field(repr=False)
    _simulator: _Simulator = field(repr=False)

    def true_profiles(self, smiles, modality: str = "morphology") -> np.ndarray:
        """Noise-free simulated profiles of any molecules, in raw units.

        Parameters
        ----------
        smiles : list-like of str or Mol
            Any molecules (in the graph, held out, or new).
        modality : {"morphology", "expression"}

        Returns
        -------
        ndarray of float32, shape (n, d)
            Columns as ``graph.feature_block(modality).columns``; NaN rows for invalid SMILES.

        Examples
        --------
        >>> ctx = make_synthetic_context(40, random_state=0)
        >>> ctx.true_profiles(["CCO"], "morphology").shape[1] == len(
        ...     ctx.graph.feature_block("morphology").columns)
        True
        """
        return self._simulator.profiles(check_molecule_input(smiles), modality)

    def summary(self) -> str:
        """The graph's summary plus the simulation's ground truth (SIMULATED)."""
        rates = ", ".join(f"{k} {v:.0%}" for k, v in self.mechanisms.mean().items())
        return (f"{self.graph.summary()}\n  SIMULATED mechanisms (share of molecules): {rates}\n"
                f"  held-out molecules (not in the graph): {int(self.held_out.sum())}")


def _pick_molecules(n: int, rng: np.random.Generator) -> list:
    with open(nci_smiles_path()) as fh:
        candidates = [line.split()[0] for line in fh if line.strip()]
    if n > len(candidates):
        raise ValueError(f"n_molecules must be at most {len(candidates)}, got {n}")
    chosen, seen = [], set()
    # parse in random order until enough distinct (by InChIKey skeleton) valid molecules
    for index in rng.permutation(len(candidates)):
        smiles = candidates[index]
        key = inchikey14(smiles)
        if key is None or key in seen:
            continue
        seen.add(key)
        chosen.append(smiles)
        if len(chosen) == n:
            return chosen
    raise ValueError(f"only {len(chosen)} distinct valid molecules available, asked for {n}")


def make_synthetic_context(
    n_molecules: int = 300,
    *,
    n_mechanisms: int = 6,
    n_genes: int = 60,
    n_morphology_features: int = 64,
    n_expression_features: int = 32,
    n_held_out: int = 0,
    morphology_fraction: float = 0.8,
    expression_fraction: float = 0.4,
    gene_feature_fraction: float = 0.7,
    n_replicates: int = 3,
    noise: float = 0.5,
    missing_value_fraction: float = 0.01,
    similarity_threshold: float = 0.8,
    sparsity: float = 0.98,
    expression_gene_fraction: float = 0.01,
    random_state: int | None = 0,
) -> SyntheticContext:
    """A SIMULATED cellular context graph over real molecules, with hidden ground truth.

    Molecules are drawn from RDKit's ``first_5K.smi`` (distinct InChIKey skeletons). Each
    hidden mechanism is a substructure (see ``MECHANISM_SMARTS``); a molecule's noise-free
    morphology is ``base + mechanisms @ effects + tanh(structure) + interaction`` (the
    interaction fires when the first two mechanisms co-occur), and expression likewise, with
    each mechanism moving its target genes strongly. Observed profiles are noisy replicates
    (median-aggregated by the builder), with a few missing values; only some molecules have
    morphology / expression (missing blocks). Molecules are linked to about a third of their
    mechanisms' targets; target genes of one mechanism interact; gene nodes carry perturbation
    morphology resembling their mechanisms' effects. Nothing is measured: the graph's
    metadata and summary say SIMULATED.

    Parameters
    ----------
    n_molecules : int, default=300
        Molecules in the simulation, held-out ones included.
    n_mechanisms : int, default=6
        Hidden mechanisms (at most ``len(MECHANISM_SMARTS)``).
    n_genes : int, default=60
        Gene nodes (``gene:SG001`` ...); the first ``n_expression_features`` are measured in
        the expression profiles (column names are the gene symbols).
    n_morphology_features, n_expression_features : int
        Profile widths.
    n_held_out : int, default=0
        Molecules simulated but not put in the graph (for testing generalisation).
    morphology_fraction, expression_fraction, gene_feature_fraction : float
        Share of graph molecules with a morphology / expression profile, of genes with
        perturbation features.
    n_replicates : int, default=3
        Replicate profiles per morphology / expression node.
    noise : float, default=0.5
        Standard deviation of replicate noise (effects are of order 1-3).
    missing_value_fraction : float, default=0.01
        Share of replicate entries set to NaN.
    similarity_threshold, sparsity, expression_gene_fraction : float
        Passed to :meth:`ContextGraph.from_tables`.
    random_state : int or None, default=0

    Returns
    -------
    SyntheticContext

    Examples
    --------
    >>> ctx = make_synthetic_context(60, n_held_out=10, random_state=0)
    >>> ctx.graph.simulated, len(ctx.smiles), int(ctx.held_out.sum())
    (True, 60, 10)
    """
    if not 1 <= n_mechanisms <= len(MECHANISM_SMARTS):
        raise ValueError(f"n_mechanisms must lie in [1, {len(MECHANISM_SMARTS)}]")
    if not 0 <= n_held_out < n_molecules:
        raise ValueError("n_held_out must lie in [0, n_molecules)")
    if n_expression_features > n_genes:
        raise ValueError("n_expression_features must not exceed n_genes (columns are genes)")
    if n_genes < 3 * n_mechanisms:
        raise ValueError("n_genes must be at least 3 * n_mechanisms (3 targets each)")
    rng = np.random.default_rng(random_state)
    smiles = _pick_molecules(n_molecules, rng)
    smarts = dict(list(MECHANISM_SMARTS.items())[:n_mechanisms])
    symbols = [f"SG{i + 1:03d}" for i in range(n_genes)]
    gene_ids = [f"{GENE_PREFIX}{s}" for s in symbols]
    simulator, target_index = _draw_simulator(rng, smarts, n_genes, n_morphology_features,
                                              n_expression_features)
    hits, _ = _mechanism_hits(smiles, smarts)
    held_out = np.zeros(n_molecules, dtype=bool)
    held_out[rng.choice(n_molecules, n_held_out, replace=False)] = True
    in_graph = np.flatnonzero(~held_out)
    noise_model = _Noise(rng, n_replicates, noise, missing_value_fraction)
    with_morphology = in_graph[rng.random(in_graph.size) < morphology_fraction]
    with_expression = in_graph[rng.random(in_graph.size) < expression_fraction]
    morphology, morphology_groups = noise_model.replicates(
        simulator.profiles(smiles, "morphology"), with_morphology, "cp")
    morphology.columns = [f"cp_{j}" for j in range(n_morphology_features)]
    expression, expression_groups = noise_model.replicates(
        simulator.profiles(smiles, "expression"), with_expression, "ge")
    expression.columns = symbols[:n_expression_features]
    gene_table = _gene_table(rng, simulator, target_index, gene_ids, gene_feature_fraction)
    links_table = _links(rng, hits, in_graph, (with_morphology, with_expression), target_index,
                         gene_ids)
    molecules = pd.DataFrame({"id": [f"{MOLECULE_PREFIX}{i}" for i in in_graph],
                              "smiles": np.asarray(smiles, dtype=object)[in_graph]})
    tables = {"molecules": molecules,
              "profiles": {"morphology": morphology, "expression": expression, "gene": gene_table},
              "genes": pd.DataFrame({"id": gene_ids}), "links": links_table,
              "aggregate_replicates": {"morphology": morphology_groups,
                                       "expression": expression_groups}}
    graph = ContextGraph.from_tables(
        tables["molecules"], tables["profiles"], genes=tables["genes"], links=links_table,
        similarity_threshold=similarity_threshold, sparsity=sparsity,
        expression_gene_fraction=expression_gene_fraction,
        aggregate_replicates=tables["aggregate_replicates"],
        metadata={"simulated": True, "description": SIMULATED_DESCRIPTION,
                  "random_state": random_state},
    )
    return SyntheticContext(
        graph=graph, smiles=smiles, mechanisms=pd.DataFrame(hits, columns=list(smarts)),
        held_out=held_out, mechanism_smarts=smarts,
        targets={name: [gene_ids[g] for g in target_index[k]] for k, name in enumerate(smarts)},
        tables=tables, _simulator=simulator,
    )


SIMULATED_DESCRIPTION = ("SIMULATED by infoalign_sklearn.graph.make_synthetic_context: real "
                         "NCI molecules, generated profiles and links")


def _draw_simulator(rng, smarts: dict, n_genes: int, d_m: int, d_e: int):
    """The hidden parameters and the 3 target genes of each mechanism."""
    n_mechanisms = len(smarts)
    target_index = rng.permutation(n_genes)[: 3 * n_mechanisms].reshape(n_mechanisms, 3)
    morphology_effects = rng.normal(0, 1.5, (n_mechanisms, d_m)) * (rng.random((n_mechanisms, d_m)) < 0.3)
    expression_effects = rng.normal(0, 0.3, (n_mechanisms, d_e))
    for k in range(n_mechanisms):
        measured = target_index[k][target_index[k] < d_e]
        expression_effects[k, measured] = rng.choice([-3.0, 3.0], measured.size)
    simulator = _Simulator(
        smarts=smarts,
        morphology_base=rng.normal(0, 1, d_m),
        morphology_effects=morphology_effects,
        morphology_structure=rng.normal(0, 1.0, (_STRUCTURE_BITS, d_m)),
        morphology_interaction=rng.normal(0, 1.0, d_m) * (rng.random(d_m) < 0.3),
        expression_effects=expression_effects,
        expression_structure=rng.normal(0, 0.5, (_STRUCTURE_BITS, d_e)),
        expression_interaction=rng.normal(0, 0.5, d_e),
    )
    return simulator, target_index


@dataclass
class _Noise:
    """Replicate noise and missing values of the observed profiles."""

    rng: np.random.Generator
    n_replicates: int
    noise: float
    missing_value_fraction: float

    def replicates(self, truth, rows, prefix):
        frames, groups = [], {}
        for r in range(self.n_replicates):
            values = truth[rows] + self.rng.normal(0, self.noise, (rows.size, truth.shape[1]))
            values[self.rng.random(values.shape) < self.missing_value_fraction] = np.nan
            ids = [f"{prefix}:{i}:r{r}" for i in rows]
            groups.update({rep: f"{prefix}:{i}" for rep, i in zip(ids, rows)})
            frames.append(pd.DataFrame(values.astype(np.float32), index=ids))
        return pd.concat(frames), pd.Series(groups)


def _gene_table(rng, simulator: _Simulator, target_index, gene_ids: list,
                gene_feature_fraction: float) -> pd.DataFrame:
    """Perturbation morphology of the genes with features: their mechanisms' effects."""
    n_genes, d_m = len(gene_ids), simulator.morphology_base.size
    gene_has_features = rng.random(n_genes) < gene_feature_fraction
    gene_profiles = rng.normal(0, 0.5, (n_genes, d_m)) + simulator.morphology_base
    for k in range(len(target_index)):
        gene_profiles[target_index[k]] += simulator.morphology_effects[k]
    return pd.DataFrame(gene_profiles[gene_has_features].astype(np.float32),
                        index=np.asarray(gene_ids)[gene_has_features],
                        columns=[f"cp_{j}" for j in range(d_m)])


def _links(rng, hits, in_graph, profiled, target_index, gene_ids: list) -> pd.DataFrame:
    """Perturbation, molecule-target and gene-gene links of the simulation."""
    with_morphology, with_expression = profiled
    links = [(f"mol:{i}", f"cp:{i}", "perturbation") for i in with_morphology]
    links += [(f"mol:{i}", f"ge:{i}", "perturbation") for i in with_expression]
    for i in in_graph:
        for k in np.flatnonzero(hits[i]):
            for g in target_index[k][rng.random(3) < 1 / 3]:
                links.append((f"mol:{i}", gene_ids[g], "target"))
    for k in range(len(target_index)):
        a, b, c = target_index[k]
        links += [(gene_ids[a], gene_ids[b], "interaction"), (gene_ids[b], gene_ids[c], "interaction")]
    n_genes = len(gene_ids)
    for _ in range(n_genes):
        a, b = rng.choice(n_genes, 2, replace=False)
        links.append((gene_ids[a], gene_ids[b], "interaction"))
    return pd.DataFrame(links, columns=["source", "target", "kind"])
