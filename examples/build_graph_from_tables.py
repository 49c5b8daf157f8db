"""Build a context graph from your own tables: Cell Painting wells, compounds, targets.

Reads three tables in the layouts public data come in, turns them into the
``ContextGraph.from_tables`` format with the readers, builds the graph, saves it, loads it back
and prints its summary:

- a well-level Cell Painting table (``Metadata_*`` columns + numeric CellProfiler features),
  read with ``read_cellpainting`` (median per compound and dose, DMSO wells left out);
- a compound table (``broad_id``, ``smiles``): profiles are linked to molecules through it;
- a compound annotation table (``smiles``, ``target`` = gene symbols separated by ``|``), read
  with ``read_compound_targets``.

    python examples/build_graph_from_tables.py --out my_graph
    python examples/build_graph_from_tables.py --cellpainting wells.csv --compounds compounds.csv \\
        --targets targets.tsv --out my_graph

Without table arguments it writes small example tables first (real molecules from RDKit's NCI
sample; the feature values and target annotations are SIMULATED) into ``--workdir``.
``examples/build_real_context.py`` is the full-size version of this on real public data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from infoalign_sklearn import ContextGraph
from infoalign_sklearn.graph.synthetic import nci_smiles_path
from infoalign_sklearn.readers import (
    map_identifiers,
    molecule_table,
    normalize_brd_id,
    perturbation_links,
    read_cellpainting,
    read_compound_targets,
)


def write_example_tables(folder: Path, n_compounds: int, seed: int) -> dict[str, Path]:
    """Small tables in the public layouts; the numbers in them are SIMULATED."""
    rng = np.random.default_rng(seed)
    with open(nci_smiles_path()) as fh:
        smiles = [line.split()[0] for line in fh if line.strip()][:n_compounds]
    ids = [f"BRD-K{100000 + i:08d}" for i in range(len(smiles))]
    compounds = pd.DataFrame({"broad_id": ids, "smiles": smiles})
    wells = []
    for plate in ("P1", "P2"):
        for k, brd in enumerate(["DMSO", *ids]):
            # Broad sample ids carry batch suffixes; the compound id is the prefix
            sample = brd if brd == "DMSO" else f"{brd}-001-01-1"
            signal = rng.normal(0, 1, 6) + (0 if brd == "DMSO" else k % 3)
            wells.append({"Metadata_Plate": plate, "Metadata_Well": f"A{k + 1:02d}",
                          "Metadata_broad_sample": sample,
                          "Metadata_mmoles_per_liter": 0.0 if brd == "DMSO" else 10.0,
                          **{f"Cells_Feature_{j}": float(v) for j, v in enumerate(signal)}})
    genes = ["EGFR", "ABL1", "HDAC1", "TUBB", "DRD2"]
    targets = pd.DataFrame({
        "smiles": smiles,
        "target": ["|".join(rng.choice(genes, 2, replace=False)) if rng.random() < 0.6 else ""
                   for _ in smiles],
    })
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"cellpainting": folder / "cellpainting_wells.csv",
             "compounds": folder / "compounds.csv", "targets": folder / "targets.tsv"}
    pd.DataFrame(wells).to_csv(paths["cellpainting"], index=False)
    compounds.to_csv(paths["compounds"], index=False)
    targets.to_csv(paths["targets"], sep="\t", index=False)
    return paths


def main(argv: list[str] | None = None) -> ContextGraph:
    """Build, save, reload and summarise the graph; return the reloaded graph."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cellpainting", type=Path, help="well-level Cell Painting CSV")
    parser.add_argument("--compounds", type=Path, help="CSV with columns broad_id, smiles")
    parser.add_argument("--targets", type=Path,
                        help="TSV with columns smiles, target (symbols separated by |)")
    parser.add_argument("--out", type=Path, default=Path("my_context_graph"),
                        help="directory to save the graph to")
    parser.add_argument("--workdir", type=Path, default=Path("example_tables"),
                        help="where the example tables are written when none are given")
    parser.add_argument("--n-compounds", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="fewer example compounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_compounds = 12
    given = [args.cellpainting, args.compounds, args.targets]
    if any(given) and not all(given):
        parser.error("give all three of --cellpainting, --compounds, --targets, or none")
    if not any(given):
        paths = write_example_tables(args.workdir, args.n_compounds, args.seed)
        print(f"wrote example tables (SIMULATED values) to {args.workdir}")
    else:
        paths = dict(zip(("cellpainting", "compounds", "targets"), given))

    # morphology nodes: one per compound and dose, median of its wells
    cp = read_cellpainting(paths["cellpainting"])
    compounds = pd.read_csv(paths["compounds"])
    lookup = compounds.set_index("broad_id")["smiles"]
    cp_smiles, report = map_identifiers(cp.metadata["Metadata_broad_sample"].tolist(), lookup,
                                        normalize=normalize_brd_id, source="Cell Painting")
    print(report)
    cp_molecules, node_ids, _ = molecule_table(cp_smiles.tolist(), source="Cell Painting")
    cp_links = perturbation_links(list(cp.features.index), node_ids)

    # molecule -> target gene links
    targets = read_compound_targets(paths["targets"])
    print(targets.report)

    molecules = pd.concat([cp_molecules, targets.molecules]).drop_duplicates("id")
    links = pd.concat([cp_links, targets.links], ignore_index=True)
    genes = pd.DataFrame({"id": sorted(set(targets.links["target"]))})
    graph = ContextGraph.from_tables(
        molecules.reset_index(drop=True), {"morphology": cp.features}, genes=genes,
        links=links,
        metadata={"simulated": not any(given),
                  "description": "built by examples/build_graph_from_tables.py"},
    )
    graph.save(args.out, overwrite=True)
    loaded = ContextGraph.load(args.out)
    same = loaded.content_hash == graph.content_hash
    print(f"saved to {args.out} and loaded back; same content: {same} "
          f"(hash {loaded.content_hash[:12]})")
    print(loaded.summary())
    return loaded


if __name__ == "__main__":
    main()
