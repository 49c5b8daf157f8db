"""Regenerate the tiny example tables of ``infoalign build-graph`` in this folder.

    python examples/data/make_tables.py            # rewrites examples/data/*.csv
    python examples/data/make_tables.py --out DIR  # writes them elsewhere

The molecules are REAL: the first 12 structures of the NCI sample shipped with RDKit
(``rdkit/Data/NCI/first_5K.smi``). Everything else is SIMULATED from a fixed seed: the
morphology and expression profiles, the gene list's links (targets, interactions) and the
link weights are generated here, not measured. The same seed gives byte-identical files
(tests/test_cli.py checks that the committed tables are what this script writes).

Layout (what ``ContextGraph.from_tables`` expects):

- ``molecules.csv``: ``id`` (``mol:nci<serial>``), ``smiles``;
- ``morphology.csv``: first column the node id (``cp:nci<serial>``), then numeric
  CellProfiler-like features, one row per profiled molecule;
- ``expression.csv``: first column the node id (``ge:nci<serial>``), then one numeric column
  per gene symbol (column ``EGFR`` refers to gene node ``gene:EGFR``);
- ``genes.csv``: ``id`` (``gene:<symbol>``);
- ``links.csv``: ``source``, ``target``, ``kind`` (``perturbation``: molecule to its profiles;
  ``target``: molecule to gene; ``interaction``: gene to gene), ``weight`` in [0, 1];
- ``provenance.json``: which values are real and which are SIMULATED.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from infoalign_sklearn.graph.synthetic import nci_smiles_path

SEED = 0
N_MOLECULES = 12
N_MORPHOLOGY = 10  # the first 10 molecules have a morphology profile
N_EXPRESSION = 8  # the first 8 an expression profile
MORPHOLOGY_FEATURES = [
    "Cells_AreaShape_Area",
    "Cells_Intensity_MeanIntensity_DNA",
    "Nuclei_AreaShape_Eccentricity",
    "Cytoplasm_Texture_Contrast_Mito",
    "Cells_Granularity_1_ER",
    "Nuclei_Intensity_IntegratedIntensity_DNA",
]
GENES = ["EGFR", "ABL1", "HDAC1", "TP53", "TUBB", "MTOR", "ESR1", "DRD2"]
EXPRESSED_GENES = GENES[:6]  # columns of the expression table
# each simulated mechanism class acts on one gene
CLASS_TARGET = ["EGFR", "HDAC1", "TUBB"]
INTERACTIONS = [("EGFR", "ABL1"), ("HDAC1", "TP53"), ("TUBB", "MTOR"), ("ESR1", "EGFR"),
                ("DRD2", "MTOR")]
FLOAT_FORMAT = "%.3f"


def make_tables(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """The example tables (molecules real, everything else SIMULATED), by file name."""
    rng = np.random.default_rng(seed)
    with open(nci_smiles_path()) as fh:
        rows = [line.split() for line in fh if line.strip()][:N_MOLECULES]
    serials = [serial for _, serial in rows]
    molecules = pd.DataFrame({"id": [f"mol:nci{s}" for s in serials],
                              "smiles": [smiles for smiles, _ in rows]})
    # a SIMULATED mechanism class per molecule drives its profiles and its target
    mechanism = np.arange(N_MOLECULES) % len(CLASS_TARGET)

    centres = rng.normal(0.0, 1.0, (len(CLASS_TARGET), len(MORPHOLOGY_FEATURES)))
    values = centres[mechanism[:N_MORPHOLOGY]] + rng.normal(0.0, 0.3, (N_MORPHOLOGY,
                                                                      len(MORPHOLOGY_FEATURES)))
    morphology = pd.DataFrame(values.round(3), columns=MORPHOLOGY_FEATURES,
                              index=pd.Index([f"cp:nci{s}" for s in serials[:N_MORPHOLOGY]],
                                             name="id"))

    centres = rng.normal(0.0, 1.5, (len(CLASS_TARGET), len(EXPRESSED_GENES)))
    values = centres[mechanism[:N_EXPRESSION]] + rng.normal(0.0, 0.5, (N_EXPRESSION,
                                                                      len(EXPRESSED_GENES)))
    expression = pd.DataFrame(values.round(3), columns=EXPRESSED_GENES,
                              index=pd.Index([f"ge:nci{s}" for s in serials[:N_EXPRESSION]],
                                             name="id"))

    genes = pd.DataFrame({"id": [f"gene:{g}" for g in GENES]})

    links = []
    for i, mol in enumerate(molecules["id"]):
        if i < N_MORPHOLOGY:
            links.append((mol, morphology.index[i], "perturbation", 1.0))
        if i < N_EXPRESSION:
            links.append((mol, expression.index[i], "perturbation", 1.0))
        if rng.random() < 0.7:  # most molecules have a known target
            links.append((mol, f"gene:{CLASS_TARGET[mechanism[i]]}", "target", 1.0))
    for a, b in INTERACTIONS:
        links.append((f"gene:{a}", f"gene:{b}", "interaction",
                      round(float(rng.uniform(0.6, 1.0)), 3)))
    links = pd.DataFrame(links, columns=["source", "target", "kind", "weight"])
    return {"molecules.csv": molecules, "morphology.csv": morphology,
            "expression.csv": expression, "genes.csv": genes, "links.csv": links}


PROVENANCE = {
    "generator": "examples/data/make_tables.py",
    "seed": SEED,
    "files": {
        "molecules.csv": "REAL structures: the first 12 molecules of RDKit's NCI sample "
                         "(rdkit/Data/NCI/first_5K.smi); ids are mol:nci<serial>",
        "morphology.csv": "SIMULATED profile values (random, per simulated mechanism class)",
        "expression.csv": "SIMULATED profile values (random, per simulated mechanism class)",
        "genes.csv": "gene symbols chosen for the example; which molecule targets which "
                     "gene is SIMULATED (see links.csv)",
        "links.csv": "SIMULATED links: perturbation (molecule -> its profiles), target "
                     "(molecule -> gene, by simulated mechanism class) and interaction "
                     "(gene - gene, random weights)",
    },
}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="folder to write the tables to (default: this script's folder)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, table in make_tables().items():
        index = name in ("morphology.csv", "expression.csv")  # first column = node id
        table.to_csv(args.out / name, index=index, float_format=FLOAT_FORMAT, lineterminator="\n")
    (args.out / "provenance.json").write_text(json.dumps(PROVENANCE, indent=2) + "\n")
    print(f"wrote the example tables to {args.out} (molecules real, everything else SIMULATED)")
    return args.out


if __name__ == "__main__":
    main()
