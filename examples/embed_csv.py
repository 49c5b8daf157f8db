"""Embed a CSV of molecules: every row and column kept, invalid SMILES flagged.

Writes a small CSV (or takes yours with ``--input``), then streams it through a fitted
``InfoAlignEmbedder`` with ``infoalign_sklearn.cli.embed.embed_table``: the output has every input
column, a boolean ``infoalign_valid`` column, and ``infoalign_0 ... infoalign_<d-1>``
(empty where the SMILES is invalid or missing). Output format by extension: .csv or .parquet.

    python examples/embed_csv.py --model my_model --input molecules.csv --out embedded.parquet
    python examples/embed_csv.py --quick      # pretrains a tiny model on SIMULATED data first

``--model`` is a directory written by ``infoalign pretrain`` or ``save_pretrained``; without it
a tiny model is pretrained on a SIMULATED context graph (representations for show only).
The same job from the shell: ``infoalign embed MODEL_DIR INPUT.csv --out OUT.parquet``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from infoalign_sklearn import InfoAlignEmbedder, make_synthetic_context
from infoalign_sklearn.cli.embed import embed_table

EXAMPLE_ROWS = [
    ("aspirin", "CC(=O)Oc1ccccc1C(=O)O", 1.2),
    ("caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", 0.4),
    ("typo", "C1CC(", 2.0),
    ("missing", None, 0.7),
    ("ethanol", "CCO", 0.1),
]


def main(argv: list[str] | None = None) -> pd.DataFrame:
    """Embed the table; return the output as a DataFrame."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="saved model directory (from_pretrained)")
    parser.add_argument("--input", type=Path, help="CSV / TSV / parquet with a SMILES column")
    parser.add_argument("--smiles-column", default="smiles")
    parser.add_argument("--out", type=Path, default=Path("embedded.csv"))
    parser.add_argument("--chunk-size", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=5,
                        help="pretraining epochs of the stand-in model (no --model)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny stand-in model")
    args = parser.parse_args(argv)

    if args.model is not None:
        embedder = InfoAlignEmbedder.from_pretrained(args.model, errors="nan")
    else:
        size = dict(latent_dim=32, hidden_dim=32, num_layers=3)
        n_molecules = 200
        if args.quick:
            size, n_molecules, args.epochs = dict(latent_dim=8, hidden_dim=8, num_layers=2), 60, 1
        context = make_synthetic_context(n_molecules, random_state=args.seed)
        print("no --model: pretraining a small stand-in on a SIMULATED context graph")
        # errors="nan": invalid SMILES give empty rows instead of stopping the job
        embedder = InfoAlignEmbedder(context.graph, max_epochs=args.epochs, errors="nan",
                                     random_state=args.seed, **size).fit()

    source = args.input
    if source is None:
        source = args.out.with_name("molecules_example.csv")
        pd.DataFrame(EXAMPLE_ROWS, columns=["name", args.smiles_column, "measured"]).to_csv(
            source, index=False)
        print(f"wrote an example input to {source}")

    n_rows, n_invalid = embed_table(embedder, source, args.out,
                                    smiles_column=args.smiles_column,
                                    chunk_size=args.chunk_size)
    print(f"embedded {n_rows} rows into {args.out}; {n_invalid} without a valid SMILES "
          "(infoalign_valid is False, representation columns empty)")
    table = pd.read_parquet(args.out) if args.out.suffix == ".parquet" else pd.read_csv(args.out)
    print(table.iloc[:, :6].to_string(index=False))
    return table


if __name__ == "__main__":
    main()
