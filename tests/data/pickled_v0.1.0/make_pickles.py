"""Pickles of fitted embedders written by the code before the embedders/ package (0a8fc1e):

    python tests/data/pickled_v0.1.0/make_pickles.py tests/data/pickled_v0.1.0   # with that code
"""

import json
import pickle
import sys
import warnings
from pathlib import Path

from infoalign_sklearn import ContrastiveEmbedder, InfoAlignEmbedder, make_synthetic_context


def main(out: Path) -> None:
    warnings.simplefilter("ignore")
    context = make_synthetic_context(n_molecules=40, random_state=0)
    params = dict(latent_dim=4, hidden_dim=8, num_layers=2, max_epochs=1, batch_size=16,
                  random_state=0, device="cpu")
    molecules = ["CCO", "c1ccccc1O", "CCN", "CC(=O)O"]
    expected = {"molecules": molecules}
    for name, cls in (("infoalign", InfoAlignEmbedder), ("contrastive", ContrastiveEmbedder)):
        embedder = cls(context.graph, **params).fit()
        (out / f"{name}.pkl").write_bytes(pickle.dumps(embedder))
        expected[name] = embedder.transform(molecules).tolist()
    (out / "expected.json").write_text(json.dumps(expected, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
