"""A full-size checkpoint in the InfoAlign authors' layout: file size, load time, transform speed.

The real ``pretrain.pt`` cannot be downloaded on the machines this package is developed on, so
this script writes a stand-in with RANDOM weights (SIMULATED: its representations mean
nothing) under the authors' parameter names and shapes: emb_dim 300, 5 GIN layers with a
virtual node, and their six decoders (1024, 1111, 862, 1783, 966, 978 outputs, from
``models/gnn.py``). Its size can be compared with the 55.3 MB the hub lists for their file;
then it times ``InfoAlignEmbedder.from_authors_checkpoint`` and ``transform`` on real molecules
(RDKit's NCI sample).

    OMP_NUM_THREADS=1 python benchmarks/authors_checkpoint.py [--molecules 1000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

import torch
from rdkit import RDConfig

from infoalign_sklearn import InfoAlignEmbedder
from infoalign_sklearn.chem.graphs import ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS

DECODER_DIMS = (1024, 1111, 862, 1783, 966, 978)  # mol, gene (gc, go), cell (bray, jump), express


def authors_layout_state_dict(dim: int = 300, layers: int = 5, seed: int = 0) -> OrderedDict:
    """Random tensors (SIMULATED) under the authors' names and shapes."""
    g = torch.Generator().manual_seed(seed)
    sd: OrderedDict = OrderedDict()

    def linear(prefix, n_in, n_out):
        sd[f"{prefix}.weight"] = torch.randn(n_out, n_in, generator=g) / n_in ** 0.5
        sd[f"{prefix}.bias"] = torch.zeros(n_out)

    def batch_norm(prefix, n):
        sd[f"{prefix}.weight"], sd[f"{prefix}.bias"] = torch.ones(n), torch.zeros(n)
        sd[f"{prefix}.running_mean"], sd[f"{prefix}.running_var"] = torch.zeros(n), torch.ones(n)
        sd[f"{prefix}.num_batches_tracked"] = torch.tensor(0)

    def tables(prefix, dims):
        for i, d in enumerate(dims):
            sd[f"{prefix}.{i}.weight"] = torch.randn(d, dim, generator=g) * 0.1

    tables("graph_encoder.atom_encoder.atom_embedding_list", ATOM_FEATURE_DIMS)
    tables("graph_encoder.bond_encoder.bond_embedding_list", BOND_FEATURE_DIMS)
    sd["graph_encoder.virtualnode_embedding.weight"] = torch.zeros(1, dim)
    for layer in range(layers):
        p = f"graph_encoder.convs.{layer}"
        linear(f"{p}.mlp.0", dim, 2 * dim)
        batch_norm(f"{p}.mlp.1", 2 * dim)
        linear(f"{p}.mlp.3", 2 * dim, dim)
        sd[f"{p}.eps"] = torch.zeros(1)
        tables(f"{p}.bond_encoder.bond_embedding_list", BOND_FEATURE_DIMS)
    for layer in range(layers):
        batch_norm(f"graph_encoder.batch_norms.{layer}", dim)
    for layer in range(layers - 1):
        p = f"graph_encoder.mlp_virtualnode_list.{layer}"
        linear(f"{p}.0", dim, 2 * dim)
        batch_norm(f"{p}.1", 2 * dim)
        linear(f"{p}.3", 2 * dim, dim)
        batch_norm(f"{p}.4", dim)
    linear("dist_net.1", dim, 2 * dim)
    for k, out in enumerate(DECODER_DIMS):
        linear(f"decoder_list.{k}.fc1", dim, 4 * dim)
        batch_norm(f"decoder_list.{k}.bn1", 4 * dim)
        linear(f"decoder_list.{k}.fc2", 4 * dim, out)
    return sd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    path = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
    smiles = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
    smiles = smiles[:args.molecules]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        torch.save(authors_layout_state_dict(), folder / "pretrain.pt")
        (folder / "pretrain.yaml").write_text(
            "emb_dim: 300\nmodel: gin-virtual\nnorm_layer: batch_norm\nnum_layer: 5\n"
            "prior: 1.0e-09\nreadout: sum\nthreshold: 0.8\nwalk_length: 4\n"
        )
        size = os.path.getsize(folder / "pretrain.pt")
        start = time.perf_counter()
        emb = InfoAlignEmbedder.from_authors_checkpoint(folder, device="cpu", errors="nan")
        loaded = time.perf_counter() - start
        start = time.perf_counter()
        out = emb.transform(smiles)
        encoded = time.perf_counter() - start
    print("SIMULATED weights (random), the authors' names and shapes")
    print(f"pretrain.pt size: {size / 1e6:.1f} MB ({size} bytes); the hub lists 55.3 MB")
    print(f"from_authors_checkpoint: {loaded:.2f} s")
    print(f"transform of {len(smiles)} NCI molecules (1 torch thread): {encoded:.2f} s "
          f"({len(smiles) / encoded:.0f} molecules/s), output {out.shape}")


if __name__ == "__main__":
    main()
