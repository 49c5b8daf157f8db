"""Write the tiny saved files that tests/test_saved_fixtures.py loads with the current code.

Run from the repository root: ``python tests/data/make_fixtures.py``. The files record what
a release wrote (a context graph, an InfoAlignEmbedder and a ContrastiveEmbedder saved with
``save_pretrained``, and their embeddings of a few molecules); later code must keep loading
them and give the same embeddings. Rerun only to add fixtures of a new format, in a new folder:
the point of the existing ones is that they were written by older code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

MOLECULES = ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "CN1CCC[C@H]1c1cccnc1",
             "Clc1ccc(Cl)cc1", "O=C(O)CCc1ccccc1"]


def main() -> None:
    import torch

    from infoalign_sklearn import (
        ContrastiveEmbedder,
        InfoAlignEmbedder,
        __version__,
        make_synthetic_context,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / f"saved_v{__version__}"))
    args = parser.parse_args()
    out = Path(args.out)
    torch.set_num_threads(1)
    context = make_synthetic_context(n_molecules=40, n_held_out=10, n_genes=18,
                                     n_morphology_features=8, n_expression_features=6,
                                     random_state=0)
    context.graph.save(out / "graph")
    tiny = dict(latent_dim=8, hidden_dim=8, num_layers=2, batch_size=16, max_epochs=1,
                random_state=0)
    embeddings = {}
    for name, cls in (("infoalign", InfoAlignEmbedder), ("contrastive", ContrastiveEmbedder)):
        model = cls(str(out / "graph"), **tiny).fit()
        model.save_pretrained(out / name)
        embeddings[name] = model.transform(MOLECULES).tolist()
    decoded = InfoAlignEmbedder.from_pretrained(out / "infoalign").decode(MOLECULES, "morphology")
    (out / "expected.json").write_text(json.dumps({
        "library_version": __version__, "molecules": MOLECULES, "embeddings": embeddings,
        "infoalign_morphology": np.asarray(decoded).tolist(),
        "graph_content_hash": context.graph.content_hash,
    }, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
