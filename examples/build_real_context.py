"""Build a cellular context graph from the real public pieces in ``../shared/data`` only.

    python examples/build_real_context.py --data-dir ../shared/data --out real_context

(``--data-dir`` defaults to ``$INFOALIGN_DATA_DIR``.) What goes in:

- morphology nodes: the LINCS Cell Painting plate SQ00015054 (A549), median per compound and
  dose, DMSO wells left out;
- expression nodes: the L1000 plates LJP005 (level-4 GCTX) and LJP009 (level-4 GCT), A375,
  median per compound and dose; Broad ids mapped to SMILES with ``pertinfo.tsv``, HMS LINCS ids
  with the HMS LINCS SDF;
- gene nodes with features: the ORF over-expression L1000 plate (U2OS), median per gene;
- molecule -> target-gene links: Drug Repurposing Hub and JUMP-Target-1/-2;
- gene-gene links: the Hetionet protein-interaction table and the Hetionet v1.0 edge sample
  (GiG, GcG, Gr>G); ``--dysregulation`` adds the LINCS over-expression calls;
- computed similarity edges and molecule-gene expression edges (``ContextGraph.from_tables``).

Every molecule of the four benchmark sets is removed (by InChIKey skeleton, also after
stripping salts), with the profiles it produced. See docs/real_data.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from infoalign_sklearn.graph import ContextGraph
from infoalign_sklearn.readers import (
    concat_gct,
    expression_profiles,
    map_identifiers,
    molecule_keys,
    molecule_table,
    normalize_brd_id,
    overexpression_profiles,
    perturbation_links,
    read_cellpainting,
    read_compound_targets,
    read_gct,
    read_gctx,
    read_hetionet_sif,
    read_hmslincs_sdf,
    read_l1000_csv,
    read_lincs_dysregulation,
    read_pertinfo,
    read_ppi,
)

FILES = {
    "cellpainting": "context/cellpainting/SQ00015054_normalized_feature_select.csv",
    "l1000_ljp005": "context/l1000/LJP005_A375_24H_level4_n377x978.gctx",
    "l1000_ljp009": "context/l1000/LJP009_A375_24H_level4_n371x978.gct",
    "pertinfo": "context/compounds/pertinfo.tsv",
    "hmslincs_sdf": "context/compounds/hmslincs_sample_small_molecules.sdf",
    "repurposing": "context/compounds/repurposing_info.tsv",
    "jump_target_1": "context/jump_target/JUMP-Target__JUMP-Target-1_compound_metadata.tsv",
    "jump_target_2": "context/jump_target/JUMP-Target__JUMP-Target-2_compound_metadata.tsv",
    "orf_matrix": "context/orf_l1000/TA.OE005_U2OS_72H_ZSPCQNORM_matrix_1092x978.csv.gz",
    "orf_cdesc": "context/orf_l1000/TA.OE005_U2OS_72H_ZSPCQNORM_cdesc.csv",
    "orf_rdesc": "context/orf_l1000/TA.OE005_U2OS_72H_ZSPCQNORM_rdesc.csv",
    "ppi": "context/genes/hetio-dag_protein-interactions.txt",
    "hetionet_sif": "context/genes/integrate_edges-5k.sif",
    "hetionet_nodes": "context/genes/hetionet-v1.0-nodes.tsv",
    "dysregulation": "context/genes/lincs_dysreg-overexpression.tsv",
    "chembl2k": "benchmarks/chembl2k/assays.csv.gz",
    "broad6k": "benchmarks/broad6k/assays.csv.gz",
    "biogenadme": "benchmarks/biogenadme/assays.csv.gz",
    "moltoxcast": "benchmarks/moltoxcast/assays.csv.gz",
}
BENCHMARKS = ("chembl2k", "broad6k", "biogenadme", "moltoxcast")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("INFOALIGN_DATA_DIR"),
                        help="folder with context/ and benchmarks/ (default: "
                             "$INFOALIGN_DATA_DIR)")
    parser.add_argument("--out", required=True, help="directory to save the graph to")
    parser.add_argument("--dysregulation", action="store_true",
                        help="add LINCS 'over-expressing X changes Y' gene-gene links")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--verbose", type=int, default=0)
    return parser.parse_args(argv)


def locate(data_dir: str | None) -> dict[str, Path]:
    if not data_dir:
        sys.exit("error: no data folder; pass --data-dir ../shared/data or set "
                 "INFOALIGN_DATA_DIR")
    root = Path(data_dir)
    paths = {name: root / rel for name, rel in FILES.items()}
    missing = [f"  {rel}" for name, rel in FILES.items() if not paths[name].is_file()]
    if missing:
        sys.exit(f"error: {len(missing)} file(s) missing under {root.resolve()}:\n"
                 + "\n".join(missing)
                 + "\nThese are the real pieces listed in shared/data/MANIFEST.md.")
    return paths


def step(message: str, start: float) -> None:
    print(f"[{time.perf_counter() - start:6.1f} s] {message}", flush=True)


def smiles_lookup(paths: dict[str, Path]) -> tuple[pd.Series, pd.Series, pd.Series]:
    """BRD id -> SMILES (pertinfo, then Repurposing Hub), HMSL id -> SMILES, ik14 -> SMILES."""
    pertinfo = read_pertinfo(paths["pertinfo"])
    hub = pd.read_csv(paths["repurposing"], sep="\t", usecols=["broad_id", "smiles",
                                                               "InChIKey14"])
    by_brd = pd.concat([pertinfo.set_index("pert_id")["smiles"],
                        hub.set_index("broad_id")["smiles"]]).dropna()
    hmsl = read_hmslincs_sdf(paths["hmslincs_sdf"]).set_index("hmsl_id")["smiles"].dropna()
    by_ik14 = hub.dropna(subset=["InChIKey14", "smiles"]).drop_duplicates("InChIKey14")
    return by_brd, hmsl, by_ik14.set_index("InChIKey14")["smiles"]


def profile_molecules(profiles, smiles: pd.Series, name: str):
    """Molecule table and perturbation links for profile nodes whose compound has a SMILES."""
    molecules, node_ids, report = molecule_table(smiles.tolist(), source=name)
    links = perturbation_links(list(profiles.features.index), node_ids)
    return molecules, links, report


def benchmark_keys(paths: dict[str, Path]) -> tuple[set[str], list[str], dict[str, int]]:
    keys: set[str] = set()
    all_smiles: list[str] = []
    sizes = {}
    for name in BENCHMARKS:
        table = pd.read_csv(paths[name])
        smiles = table["smiles"].dropna().astype(str).tolist()
        sizes[name] = len(smiles)
        all_smiles += smiles
        keys.update(k for k in molecule_keys(smiles) if k)
        # a benchmark compound recorded as another salt form must go too
        keys.update(k for k in molecule_keys(smiles, largest_fragment=True) if k)
        if "inchikey" in table.columns:
            keys.update(table["inchikey"].dropna().astype(str).str[:14])
    return keys, all_smiles, sizes


def main(argv=None) -> int:
    args = parse_args(argv)
    paths = locate(args.data_dir)
    start = time.perf_counter()
    by_brd, by_hmsl, by_ik14 = smiles_lookup(paths)
    step(f"lookups: {len(by_brd)} Broad ids, {len(by_hmsl)} HMS LINCS ids with SMILES", start)

    # morphology: the Cell Painting plate
    cp = read_cellpainting(paths["cellpainting"])
    # the plate's own InChIKey annotation first: pertinfo is older and, for one compound of
    # this plate, gives another structure under the same Broad id
    cp_smiles, report = map_identifiers(cp.metadata["Metadata_InChIKey14"].tolist(), by_ik14,
                                        source="Cell Painting Metadata_InChIKey14 -> SMILES")
    print("  ", report)
    by_id, report = map_identifiers(cp.metadata["Metadata_broad_id"].tolist(), by_brd,
                                    normalize=normalize_brd_id,
                                    source="Cell Painting Metadata_broad_id -> SMILES")
    print("  ", report)
    cp_smiles = cp_smiles.fillna(by_id)
    cp_mols, cp_links, report = profile_molecules(cp, cp_smiles, "Cell Painting")
    print("  ", report)
    step(f"morphology: {cp.features.shape[0]} profiles x {cp.features.shape[1]} features, "
         f"{len(cp_links)} linked to a molecule", start)

    # expression: two L1000 compound plates
    gct = concat_gct([read_gctx(paths["l1000_ljp005"]), read_gct(paths["l1000_ljp009"])])
    ge = expression_profiles(gct)
    ge_smiles, report = map_identifiers(ge.metadata["pert_id"].tolist(), by_brd,
                                        normalize=normalize_brd_id,
                                        source="L1000 pert_id -> SMILES")
    print("  ", report)
    by_hmsl_id, report = map_identifiers(ge.metadata["x_hmsl_id"].tolist(), by_hmsl,
                                         source="L1000 x_hmsl_id -> SMILES (HMS LINCS SDF)")
    print("  ", report)
    ge_smiles = ge_smiles.fillna(by_hmsl_id)
    ge_mols, ge_links, report = profile_molecules(ge, ge_smiles, "L1000")
    print("  ", report)
    step(f"expression: {ge.features.shape[0]} profiles x {ge.features.shape[1]} genes, "
         f"{len(ge_links)} linked to a molecule", start)

    # gene features: ORF over-expression
    orf = read_l1000_csv(paths["orf_matrix"], paths["orf_cdesc"], paths["orf_rdesc"])
    gene_profiles = overexpression_profiles(orf)
    step(f"gene features: {gene_profiles.shape[0]} over-expressed genes x "
         f"{gene_profiles.shape[1]} measured genes", start)

    # compound -> target gene
    target_parts = [read_compound_targets(paths["repurposing"])]
    for name in ("jump_target_1", "jump_target_2"):
        target_parts.append(read_compound_targets(paths[name], target_column="target_list"))
    for part in target_parts:
        print("  ", part.report)
    target_links = pd.concat([p.links for p in target_parts]).drop_duplicates(
        ["source", "target"])
    step(f"targets: {len(target_links)} molecule-gene links", start)

    # gene - gene
    gene_links = [read_ppi(paths["ppi"]),
                  read_hetionet_sif(paths["hetionet_sif"], paths["hetionet_nodes"])]
    if args.dysregulation:
        gene_links.append(read_lincs_dysregulation(paths["dysregulation"],
                                                   paths["hetionet_nodes"]))
    gene_links = pd.concat(gene_links)
    step(f"gene-gene: {len(gene_links)} links (before merging duplicates)", start)

    molecules = pd.concat([cp_mols, ge_mols] + [p.molecules for p in target_parts])
    molecules = molecules.drop_duplicates("id").reset_index(drop=True)
    links = pd.concat([cp_links, ge_links, target_links, gene_links], ignore_index=True)

    # leave the benchmark molecules out, and every profile they produced
    keys, bench_smiles, sizes = benchmark_keys(paths)
    raw_keys = molecules["id"].str.removeprefix("mol:")
    parent_keys = pd.Series(molecule_keys(molecules["smiles"].tolist(), largest_fragment=True))
    in_benchmark = raw_keys.isin(keys).to_numpy() | parent_keys.isin(keys).to_numpy()
    dropped = set(molecules["id"][in_benchmark])
    dropped_profiles = set(links.loc[links["source"].isin(dropped)
                                     & (links["kind"] == "perturbation"), "target"])
    molecules = molecules[~in_benchmark]
    links = links[~links["source"].isin(dropped | dropped_profiles)
                  & ~links["target"].isin(dropped | dropped_profiles)]
    morphology = cp.features.drop(index=list(dropped_profiles & set(cp.features.index)))
    expression = ge.features.drop(index=list(dropped_profiles & set(ge.features.index)))
    step(f"benchmarks ({', '.join(f'{k} {v}' for k, v in sizes.items())}): removed "
         f"{len(dropped)} molecules and {len(dropped_profiles)} profiles they produced", start)

    # a molecule without any link has no context to learn from, and a profile without its
    # molecule is never reached by a walk from a molecule except through similarity
    linked = set(links["source"]) | set(links["target"])
    unlinked = ~molecules["id"].isin(linked)
    molecules = molecules[~unlinked].reset_index(drop=True)
    orphans = [len(morphology), len(expression)]
    morphology = morphology[morphology.index.isin(linked)]
    expression = expression[expression.index.isin(linked)]
    print(f"   dropped {int(unlinked.sum())} molecules without any link and "
          f"{orphans[0] - len(morphology) + orphans[1] - len(expression)} profiles whose "
          "compound has no SMILES")
    molecules["inchikey14"] = molecules["id"].str.removeprefix("mol:")

    gene_ids = sorted((set(links["source"]) | set(links["target"])
                       | set(gene_profiles.index)) - set(molecules["id"])
                      - set(morphology.index) - set(expression.index))
    genes = pd.DataFrame({"id": gene_ids})
    graph = ContextGraph.from_tables(
        molecules, {"morphology": morphology, "expression": expression, "gene": gene_profiles},
        genes=genes, links=links.reset_index(drop=True), n_jobs=args.n_jobs,
        verbose=args.verbose,
        metadata={"simulated": False, "data": "real pieces of shared/data (MANIFEST.md)",
                  "benchmark_molecules_removed": len(dropped)})
    step("graph built", start)

    check = graph.without_molecules(bench_smiles)
    if check.n_nodes != graph.n_nodes:
        raise RuntimeError(f"{graph.n_nodes - check.n_nodes} benchmark molecules are still in "
                           "the graph")
    step("checked: no benchmark molecule left (without_molecules removes nothing)", start)

    saved = graph.save(args.out, overwrite=True)
    step(f"saved to {saved}", start)
    print(graph.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
