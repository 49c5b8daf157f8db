"""Build a cellular context graph from the real public pieces in ``../shared/data`` only.

    python examples/build_real_context.py --data-dir ../shared/data --out real_context
    python examples/build_real_context.py --data-dir ../shared/data --out real_context \
        --exclude my_benchmark.csv more_molecules.smi

(``--data-dir`` defaults to ``$INFOALIGN_DATA_DIR``.) What goes in:

- morphology nodes: the LINCS Cell Painting plate SQ00015054 (A549), median per compound and
  dose, DMSO wells left out; and the JUMP (cpg0016) profiles of 166 compounds, median per
  compound over its sources, DMSO left out, features named with ``jumpcp_int_feature_names.csv``
  and prefixed ``jump:`` (another normalisation than the LINCS plate's, so other columns);
  JUMP ids mapped to SMILES with ``JUMPCP_compounds.csv.gz``;
- expression nodes: the L1000 plates LJP005 (level-4 GCTX) and LJP009 (level-4 GCT), A375,
  median per compound and dose; Broad ids mapped to SMILES with ``pertinfo.tsv``, HMS LINCS ids
  with the HMS LINCS SDF; and the L1000 consensus (MODZ) signatures of 1,170 DrugBank
  compounds, genes named with ``lincs_genes.tsv``, DrugBank ids bridged to an InChIKey with
  ``drugbank.tsv`` (only its id and InChIKey columns are read) and the structure taken from
  ``pertinfo.tsv``;
- gene nodes with features: the ORF over-expression L1000 plate (U2OS), median per gene;
- molecule -> target-gene links: Drug Repurposing Hub and JUMP-Target-1/-2;
- gene-gene links: the Hetionet protein-interaction table and the Hetionet v1.0 edge sample
  (GiG, GcG, Gr>G); ``--dysregulation`` adds the LINCS over-expression calls;
- computed similarity edges and molecule-gene expression edges (``ContextGraph.from_tables``).

Every molecule of the four benchmark sets, and of every file given with ``--exclude``, is
removed before the graph is built, with the profiles it produced: matched by InChIKey
skeleton of the molecule and of its parent (largest fragment, neutralised), by a benchmark's
own ``inchikey`` column, and, for ChEMBL2K, by the JUMP structure of its ``Metadata_JCP2022``
id. See docs/real_data.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from infoalign_sklearn.chem import molecule_key_pairs
from infoalign_sklearn.graph import NODE_KINDS, ContextGraph
from infoalign_sklearn.readers import (
    FileFormatError,
    concat_gct,
    entrez_symbols,
    expression_profiles,
    ik14_from_inchikey,
    map_identifiers,
    molecule_table,
    normalize_brd_id,
    overexpression_profiles,
    perturbation_links,
    read_cellpainting,
    read_compound_targets,
    read_consensus_signatures,
    read_gct,
    read_gctx,
    read_hetionet_sif,
    read_hmslincs_sdf,
    read_inchikey_bridge,
    read_jump_compounds,
    read_jump_profiles,
    read_l1000_csv,
    read_lincs_dysregulation,
    read_pertinfo,
    read_ppi,
    read_smiles_list,
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
    "lincs_genes": "context/genes/lincs_genes.tsv",
    "consensus": "context/l1000_consensus/consensi-drugbank.tsv.gz",
    "drugbank": "context/compounds/drugbank/drugbank.tsv",
    "jump_compounds": "context/compounds/JUMPCP_compounds.csv.gz",
    "jump_names": "context/jump_profiles/jumpcp_int_feature_names.csv",
    **{f"jump_{name}": f"context/jump_profiles/{name}_jump_profiles.csv"
       for name in ("dmso", "mc", "nomc", "nomc_genotox", "edlist1", "edlist2")},
    "chembl2k": "benchmarks/chembl2k/assays.csv.gz",
    "broad6k": "benchmarks/broad6k/assays.csv.gz",
    "biogenadme": "benchmarks/biogenadme/assays.csv.gz",
    "moltoxcast": "benchmarks/moltoxcast/assays.csv.gz",
}
BENCHMARKS = ("chembl2k", "broad6k", "biogenadme", "moltoxcast")
JUMP_PROFILES = ("jump_dmso", "jump_mc", "jump_nomc", "jump_nomc_genotox", "jump_edlist1",
                 "jump_edlist2")
#: JUMP morphology features get this prefix: they are normalised and batch-corrected another
#: way than the LINCS plate's, so they are columns of their own in the morphology block
JUMP_FEATURE_PREFIX = "jump:"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("INFOALIGN_DATA_DIR"),
                        help="folder with context/ and benchmarks/ (default: "
                             "$INFOALIGN_DATA_DIR)")
    parser.add_argument("--out", required=True, help="directory to save the graph to")
    parser.add_argument("--dysregulation", action="store_true",
                        help="add LINCS 'over-expressing X changes Y' gene-gene links")
    parser.add_argument("--exclude", nargs="+", default=[], metavar="FILE",
                        help="also remove the molecules of these files (CSV / TSV / parquet "
                             "with a SMILES column, or .smi), e.g. your own benchmark; the "
                             "four benchmark sets of the paper are always removed")
    parser.add_argument("--exclude-smiles-column", default=None, metavar="NAME",
                        help="SMILES column of the --exclude tables (default: smiles, "
                             "canonical_smiles, isomeric_smiles or Metadata_SMILES, any case)")
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


def smiles_lookup(paths: dict[str, Path]):
    """BRD id -> SMILES (pertinfo, then Repurposing Hub), HMSL id -> SMILES, ik14 -> SMILES
    (Repurposing Hub) and ik14 -> SMILES (pertinfo's own InChIKeys)."""
    pertinfo = read_pertinfo(paths["pertinfo"])
    hub = pd.read_csv(paths["repurposing"], sep="\t", usecols=["broad_id", "smiles",
                                                               "InChIKey14"])
    by_brd = pd.concat([pertinfo.set_index("pert_id")["smiles"],
                        hub.set_index("broad_id")["smiles"]]).dropna()
    hmsl = read_hmslincs_sdf(paths["hmslincs_sdf"]).set_index("hmsl_id")["smiles"].dropna()
    by_ik14 = hub.dropna(subset=["InChIKey14", "smiles"]).drop_duplicates("InChIKey14")
    pert_keys = pertinfo.assign(ik14=pertinfo["inchikey"].map(ik14_from_inchikey))
    pert_keys = pert_keys.dropna(subset=["ik14"]).drop_duplicates("ik14")
    return (by_brd, hmsl, by_ik14.set_index("InChIKey14")["smiles"],
            pert_keys.set_index("ik14")["smiles"])


def profile_molecules(profiles, smiles: pd.Series, name: str):
    """Molecule table and perturbation links for profile nodes whose compound has a SMILES."""
    molecules, node_ids, report = molecule_table(smiles.tolist(), source=name)
    links = perturbation_links(list(profiles.features.index), node_ids)
    return molecules, links, report


def user_exclusions(files: list[str], column: str | None) -> dict[str, list[str]]:
    """SMILES of every --exclude file; a missing or unreadable file stops the script early."""
    out = {}
    for name in files:
        try:
            out[name] = read_smiles_list(name, smiles_column=column)
        except (FileNotFoundError, FileFormatError) as exc:
            sys.exit(f"error: --exclude {name}: {exc}")
    return out


def exclusion_keys(paths: dict[str, Path], jump_smiles: pd.Series, extra: dict[str, list[str]]
                   ) -> tuple[set[str], set[str], list[str], dict[str, int]]:
    """InChIKey skeletons to keep out of the graph (own and parent of every molecule), the
    own skeletons alone, the SMILES they came from, and the number of molecules per source."""
    keys: set[str] = set()
    all_smiles: list[str] = []
    sizes = {}
    sources = [(name, pd.read_csv(paths[name])) for name in BENCHMARKS]
    for name, table in sources:
        smiles = table["smiles"].dropna().astype(str).tolist()
        if "Metadata_JCP2022" in table.columns:
            # ChEMBL2K's SMILES are sometimes another protonation / tautomer than the JUMP
            # structure of the same compound (MANIFEST.md): exclude that structure too
            smiles += jump_smiles.reindex(table["Metadata_JCP2022"].dropna()).dropna().tolist()
        sizes[name] = len(table)
        all_smiles += smiles
        if "inchikey" in table.columns:
            keys.update(k for k in table["inchikey"].map(ik14_from_inchikey) if k)
    for name, smiles in extra.items():
        sizes[Path(name).name] = len(smiles)
        all_smiles += smiles
    own_keys = set(keys)
    for own, parent in molecule_key_pairs(all_smiles):
        if own:
            own_keys.add(own)
        keys.update(k for k in (own, parent) if k)
    return keys, own_keys, all_smiles, sizes


def profiled_counts(graph: ContextGraph) -> dict[str, int]:
    """Molecules, molecules with a morphology / expression profile, with both."""
    edges = graph.edges()
    edges = edges[edges["kind"] == "perturbation"]
    kinds = np.asarray(NODE_KINDS, dtype=object)[graph.node_kinds]
    ends = pd.DataFrame({"a": np.concatenate([edges["source"], edges["target"]]),
                         "b": np.concatenate([edges["target"], edges["source"]])})
    ends = ends[kinds[ends["a"]] == "molecule"]
    with_cp = set(ends["a"][kinds[ends["b"]] == "morphology"])
    with_ge = set(ends["a"][kinds[ends["b"]] == "expression"])
    return {"molecules": len(graph.molecule_nodes), "with morphology": len(with_cp),
            "with expression": len(with_ge), "with both": len(with_cp & with_ge),
            "with any profile": len(with_cp | with_ge)}


def links_profiled_counts(molecules: pd.DataFrame, links: pd.DataFrame,
                          morphology: pd.DataFrame, expression: pd.DataFrame) -> dict:
    """Molecules with a morphology / expression profile in the tables (before exclusion)."""
    pert = links[(links["kind"] == "perturbation") & links["source"].isin(set(molecules["id"]))]
    with_cp = set(pert.loc[pert["target"].isin(set(morphology.index)), "source"])
    with_ge = set(pert.loc[pert["target"].isin(set(expression.index)), "source"])
    return {"molecules with morphology": len(with_cp), "with expression": len(with_ge),
            "with both": len(with_cp & with_ge)}


def main(argv=None) -> int:
    args = parse_args(argv)
    paths = locate(args.data_dir)
    extra = user_exclusions(args.exclude, args.exclude_smiles_column)
    start = time.perf_counter()
    by_brd, by_hmsl, by_ik14, pertinfo_by_ik14 = smiles_lookup(paths)
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
    step(f"morphology (LINCS plate): {cp.features.shape[0]} profiles x "
         f"{cp.features.shape[1]} features, {len(cp_links)} linked to a molecule", start)

    # morphology: JUMP profiles, compounds resolved with the JUMP compound table
    jump = read_jump_profiles([paths[name] for name in JUMP_PROFILES],
                              feature_names=paths["jump_names"])
    jump_compounds = read_jump_compounds(paths["jump_compounds"])
    jump_smiles = jump_compounds.set_index("compound_id")["smiles"]
    jp_smiles, report = map_identifiers(jump.metadata["Metadata_JCP2022"].tolist(), jump_smiles,
                                        source="JUMP Metadata_JCP2022 -> SMILES")
    print("  ", report)
    jp_mols, jp_links, report = profile_molecules(jump, jp_smiles, "JUMP")
    print("  ", report)
    jump_features = jump.features.add_prefix(JUMP_FEATURE_PREFIX)
    step(f"morphology (JUMP): {jump.features.shape[0]} compound profiles x "
         f"{jump.features.shape[1]} features, {len(jp_links)} linked to a molecule "
         f"({len(jump_compounds)} JUMP structures used only to resolve these ids)", start)

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
    # the plates name 15 genes by older symbols (CD97 for ADGRE5 ...): name every expression
    # column by its Entrez id's current symbol, as the consensus table and Hetionet do
    symbols = entrez_symbols(paths["lincs_genes"])
    renames = {old: symbols.get(str(entrez), old) for old, entrez in
               zip(gct.row_meta["pr_gene_symbol"], gct.row_meta["pr_gene_id"])}
    ge = ge._replace(features=ge.features.rename(columns=renames))
    print(f"   {sum(old != new for old, new in renames.items())} plate gene symbols updated "
          "to the current ones (lincs_genes.tsv)")
    step(f"expression (plates): {ge.features.shape[0]} profiles x {ge.features.shape[1]} "
         f"genes, {len(ge_links)} linked to a molecule", start)

    # expression: L1000 consensus signatures of DrugBank compounds; DrugBank id -> InChIKey
    # (id bridge only) -> SMILES of pertinfo.tsv
    consensus = read_consensus_signatures(paths["consensus"], genes=symbols)
    bridge = read_inchikey_bridge(paths["drugbank"], id_column="drugbank_id")
    db_keys, report = map_identifiers(consensus.metadata["perturbagen"].tolist(),
                                      bridge.set_index("id")["inchikey14"],
                                      source="consensus DrugBank id -> InChIKey")
    print("  ", report)
    cs_smiles, report = map_identifiers(db_keys.tolist(), pertinfo_by_ik14,
                                        source="consensus InChIKey skeleton -> SMILES "
                                               "(pertinfo.tsv)")
    print("  ", report)
    cs_mols, cs_links, report = profile_molecules(consensus, cs_smiles, "L1000 consensus")
    print("  ", report)
    shared_genes = [g for g in ge.features.columns if g in set(consensus.features.columns)]
    if len(shared_genes) != ge.features.shape[1]:
        print(f"   note: {ge.features.shape[1] - len(shared_genes)} plate genes are not among "
              "the consensus genes (NaN there)")
    step(f"expression (consensus): {consensus.features.shape[0]} signatures x "
         f"{consensus.features.shape[1]} genes ({len(shared_genes)} shared with the plates), "
         f"{len(cs_links)} linked to a molecule", start)

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

    molecules = pd.concat([cp_mols, jp_mols, ge_mols, cs_mols]
                          + [p.molecules for p in target_parts])
    molecules = molecules.drop_duplicates("id").reset_index(drop=True)
    links = pd.concat([cp_links, jp_links, ge_links, cs_links, target_links, gene_links],
                      ignore_index=True)
    morphology = pd.concat([cp.features, jump_features])
    expression = pd.concat([ge.features, consensus.features])

    before = links_profiled_counts(molecules, links, morphology, expression)
    print("   before exclusion: " + ", ".join(f"{k} {v}" for k, v in before.items()))

    # leave the benchmark molecules out, and every profile they produced: before the graph is
    # built, so that they shape neither the feature scaling nor the similarity edges
    keys, own_keys, excluded_smiles, sizes = exclusion_keys(paths, jump_smiles, extra)
    pairs = molecule_key_pairs(molecules["smiles"].tolist())
    own = pd.Series([o for o, _ in pairs]).fillna(molecules["id"].str.removeprefix("mol:"))
    parent = pd.Series([p for _, p in pairs])
    in_excluded = own.isin(keys).to_numpy() | parent.isin(keys).to_numpy()
    dropped = set(molecules["id"][in_excluded])
    profile_links = links[links["kind"] == "perturbation"]
    touched = set(profile_links.loc[profile_links["source"].isin(dropped), "target"])
    still_used = set(profile_links.loc[~profile_links["source"].isin(dropped), "target"])
    dropped_profiles = touched - still_used
    molecules = molecules[~in_excluded]
    gone = dropped | dropped_profiles
    links = links[~links["source"].isin(gone) & ~links["target"].isin(gone)]
    morphology = morphology.drop(index=list(dropped_profiles & set(morphology.index)))
    expression = expression.drop(index=list(dropped_profiles & set(expression.index)))
    parent_only = int((in_excluded & ~own.isin(own_keys).to_numpy()).sum())
    step(f"excluded ({', '.join(f'{k} {v}' for k, v in sizes.items())}): removed "
         f"{len(dropped)} molecules ({parent_only} matched only through their parent: salt / "
         f"charge form) and {len(dropped_profiles)} profiles they produced", start)

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
                  "excluded_molecules_removed": len(dropped),
                  "excluded_sources": sizes})
    step("graph built", start)

    check, removal = graph.without_molecules(excluded_smiles, return_report=True)
    if removal.n_nodes:
        raise RuntimeError(f"excluded molecules are still in the graph: {removal}")
    step("checked: no excluded molecule left (without_molecules removes nothing)", start)

    saved = graph.save(args.out, overwrite=True)
    step(f"saved to {saved}", start)
    print(graph.summary())
    counts = profiled_counts(graph)
    print("molecules: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
