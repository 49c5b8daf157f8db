"""Which nodes leave a context graph when molecules are excluded (benchmark molecules, say).

A molecule is matched on two InChIKey skeletons: its own and its *parent*'s (largest organic
fragment, neutralised; :mod:`infoalign_sklearn.chem.standardize`), so that a benchmark compound
recorded as another salt or charge state is found too. The morphology and expression profiles
that only removed molecules produced go with them: a profile node of an excluded compound
still carries what the cell did under it. Genes always stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..chem import molecule_key_pairs
from .schema import NODE_KINDS

__all__ = ["MATCH_OPTIONS", "MoleculeRemoval", "ORPHAN_OPTIONS", "removal_mask"]

#: how molecules are matched: own skeleton and parent skeleton, or own skeleton only
MATCH_OPTIONS = ("parent", "skeleton")
#: what happens to profile nodes left without any molecule
ORPHAN_OPTIONS = ("remove", "keep")
PROFILE_KINDS = ("morphology", "expression")


@dataclass(frozen=True)
class MoleculeRemoval:
    """What :meth:`~infoalign_sklearn.graph.ContextGraph.without_molecules` removed.

    Attributes
    ----------
    n_inputs : int
        Molecules given.
    n_invalid_inputs : int
        Of those, how many could not be parsed (they match nothing).
    n_molecules : int
        Molecule nodes removed.
    n_parent_only : int
        Of those, how many matched only through a parent (salt stripped / neutralised), not
        their own skeleton: the ones an exact-skeleton match would have left in the graph.
    n_profiles : dict of str to int
        Profile nodes removed per kind (``morphology``, ``expression``) because every molecule
        they were linked to was removed.
    removed_ids : tuple of str
        Node ids removed, molecules first.

    Examples
    --------
    >>> print(MoleculeRemoval(3, 0, 2, 1, {"morphology": 1, "expression": 0}, ()))
    removed 2 molecule(s) (1 only through their parent: salt / charge form) and 1 profile(s) (morphology 1, expression 0) for 3 input molecule(s)
    """

    n_inputs: int
    n_invalid_inputs: int
    n_molecules: int
    n_parent_only: int
    n_profiles: dict = field(default_factory=dict)
    removed_ids: tuple = ()

    @property
    def n_nodes(self) -> int:
        """All nodes removed."""
        return self.n_molecules + sum(self.n_profiles.values())

    def __str__(self) -> str:
        per_kind = ", ".join(f"{k} {v}" for k, v in self.n_profiles.items())
        text = (f"removed {self.n_molecules} molecule(s) ({self.n_parent_only} only through "
                f"their parent: salt / charge form) and {sum(self.n_profiles.values())} "
                f"profile(s) ({per_kind}) for {self.n_inputs} input molecule(s)")
        if self.n_invalid_inputs:
            text += f"; {self.n_invalid_inputs} input(s) were not valid molecules"
        return text


def check_choice(name: str, value, options) -> None:
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")


def removal_mask(graph, items: list, match: str = "parent",
                 orphans: str = "remove") -> tuple[np.ndarray, MoleculeRemoval]:
    """Boolean mask of the nodes to remove, and the report.

    ``graph`` is a :class:`~infoalign_sklearn.graph.ContextGraph`; ``items`` SMILES / Mols
    already checked by ``check_molecule_input``.
    """
    check_choice("match", match, MATCH_OPTIONS)
    check_choice("orphans", orphans, ORPHAN_OPTIONS)
    pairs = molecule_key_pairs(items)
    invalid = sum(own is None for own, _ in pairs)
    own_keys = {own for own, _ in pairs if own is not None}
    mol_nodes = graph.molecule_nodes
    graph_own = graph.molecule_inchikey14().tolist()
    raw_hit = np.array([k is not None and k in own_keys for k in graph_own], dtype=bool)
    hit = raw_hit.copy()
    if match == "parent":
        keys = own_keys | {parent for _, parent in pairs if parent is not None}
        graph_parent = graph.molecule_parent_inchikey14().tolist()
        hit |= np.array([(own is not None and own in keys) or (p is not None and p in keys)
                         for own, p in zip(graph_own, graph_parent)], dtype=bool)
    drop = np.zeros(graph.n_nodes, dtype=bool)
    drop[mol_nodes[hit]] = True
    n_profiles = {kind: 0 for kind in PROFILE_KINDS}
    if orphans == "remove" and hit.any():
        orphan = _orphaned_profiles(graph, drop)
        for kind in PROFILE_KINDS:
            n_profiles[kind] = int((orphan & (graph.node_kinds == NODE_KINDS.index(kind))).sum())
        drop_molecules = drop.copy()
        drop |= orphan
    else:
        drop_molecules = drop
    removed = np.concatenate([np.flatnonzero(drop_molecules),
                              np.flatnonzero(drop & ~drop_molecules)])
    report = MoleculeRemoval(len(items), invalid, int(hit.sum()), int((hit & ~raw_hit).sum()),
                             n_profiles, tuple(graph.node_ids[removed].tolist()))
    return drop, report


def _orphaned_profiles(graph, removed: np.ndarray) -> np.ndarray:
    """Profile nodes linked to at least one removed molecule and to no kept molecule."""
    kinds = graph.node_kinds
    is_molecule = kinds == NODE_KINDS.index("molecule")
    is_profile = np.isin(kinds, [NODE_KINDS.index(k) for k in PROFILE_KINDS])
    src = np.repeat(np.arange(graph.n_nodes, dtype=np.int64), graph.degree)
    dst = graph.indices
    to_molecule = is_profile[src] & is_molecule[dst]
    src, dst = src[to_molecule], dst[to_molecule]
    linked_removed = np.zeros(graph.n_nodes, dtype=bool)
    linked_kept = np.zeros(graph.n_nodes, dtype=bool)
    linked_removed[src[removed[dst]]] = True
    linked_kept[src[~removed[dst]]] = True
    return linked_removed & ~linked_kept
