"""Embedding sharded tables on a Dask cluster: a LocalCluster of 2 worker processes on 127.0.0.1.

The parts must hold the input rows in order, the kept columns as written, the invalid rows
marked, and the numbers a single-process ``transform`` gives. The model is a tiny InfoAlign
embedder fitted on a SIMULATED graph.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

distributed = pytest.importorskip("distributed")

from infoalign_sklearn import (  # noqa: E402
    InfoAlignEmbedder,
    MorganFingerprint,
    embed_partitions,
    make_synthetic_context,
)
from infoalign_sklearn.cli import main  # noqa: E402
from infoalign_sklearn.distributed import MANIFEST_NAME  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*pretrained on a SIMULATED context graph")

TINY = dict(latent_dim=8, hidden_dim=8, num_layers=2, batch_size=32, max_epochs=1,
            random_state=0)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def context():
    return make_synthetic_context(n_molecules=60, n_held_out=20, random_state=0)


@pytest.fixture(scope="module")
def embedder(context):
    return InfoAlignEmbedder(context.graph, **TINY).fit()


@pytest.fixture(scope="module")
def shards(context, tmp_path_factory):
    """Three shards: CSV (ids with leading zeros, an invalid and an empty SMILES), parquet
    (integer ids with a null, a null SMILES), tab-separated (an unparsable SMILES)."""
    root = tmp_path_factory.mktemp("shards")
    smiles = list(context.smiles)
    first = pd.DataFrame({"id": ["007", "08", "NA", "10", "11", "12"],
                          "smiles": smiles[:4] + ["C1CC(", ""]})
    first.to_csv(root / "s0.csv", index=False)
    second = pd.DataFrame({"id": pd.array([21, None, 23, 24], dtype="Int64"),
                           "smiles": [smiles[4], smiles[5], None, smiles[6]]})
    second.to_parquet(root / "s1.parquet", index=False)
    third = pd.DataFrame({"id": ["31", "32", "33"], "smiles": [smiles[7], "not a smiles",
                                                              smiles[8]]})
    third.to_csv(root / "s2.tsv", sep="\t", index=False)
    return root, [root / "s0.csv", root / "s1.parquet", root / "s2.tsv"]


def _close(actual, reference):
    # float32 encodings of other batch shapes round differently (see test_embedder.py)
    np.testing.assert_allclose(actual, reference, rtol=1e-4,
                               atol=1e-5 * float(np.nanmax(np.abs(reference))))


def test_parts_are_aligned_marked_and_equal_single_process_transform(client, embedder, shards,
                                                                      tmp_path):
    root, files = shards
    out = tmp_path / "embedded"
    manifest = embed_partitions(embedder, [str(f) for f in files], out, scheduler=client,
                                chunk_size=2)
    parts = sorted(p.name for p in out.iterdir())
    assert parts == [MANIFEST_NAME, "part-00000.parquet", "part-00001.parquet",
                     "part-00002.parquet"]
    assert json.loads((out / MANIFEST_NAME).read_text()) == manifest
    assert [p["rows"] for p in manifest["parts"]] == [6, 4, 3]
    assert [p["invalid"] for p in manifest["parts"]] == [2, 1, 1]
    assert manifest["rows"] == 13 and manifest["invalid"] == 4
    assert manifest["model"]["simulated"] is True and manifest["kept_as_text"] is True

    expected_ids = [["007", "08", "NA", "10", "11", "12"], ["21", None, "23", "24"],
                    ["31", "32", "33"]]
    expected_valid = [[True] * 4 + [False, False], [True, True, False, True],
                      [True, False, True]]
    for i in range(len(files)):
        part = pd.read_parquet(out / f"part-{i:05d}.parquet")
        assert list(part.columns[:3]) == ["id", "smiles", "infoalign_valid"]
        assert part.shape == (len(expected_ids[i]), 3 + 8)
        assert [None if pd.isna(v) else v for v in part["id"]] == expected_ids[i]
        assert part["infoalign_valid"].tolist() == expected_valid[i]
        Z = part[[f"infoalign_{j}" for j in range(8)]].to_numpy()
        assert Z.dtype == np.float32
        valid = part["infoalign_valid"].to_numpy()
        assert np.isnan(Z[~valid]).all()
        _close(Z[valid], embedder.transform(part["smiles"][valid].tolist()))

    # the directory reads as one table, the parts in input order
    whole = pd.read_parquet(out)
    assert len(whole) == 13 and whole["id"].iloc[6] == "21"


def test_fingerprints_on_the_cluster_equal_morgan_fingerprint(client, shards, tmp_path):
    _, files = shards
    out = tmp_path / "fingerprints"
    manifest = embed_partitions(MorganFingerprint(n_bits=64), files, out,
                                kind="fingerprint", keep_columns=["id"], scheduler=client)
    assert manifest["model"] == {"class": "MorganFingerprint", "params": {
        "radius": 2, "n_bits": 64, "counts": False, "chirality": False}}
    fp = MorganFingerprint(n_bits=64, errors="nan")
    for i, source in enumerate(files):
        part = pd.read_parquet(out / f"part-{i:05d}.parquet")
        assert list(part.columns[:2]) == ["id", "infoalign_valid"]
        assert list(part.columns[-1:]) == ["morgan_63"]
        smiles = (pd.read_parquet(source) if source.suffix == ".parquet" else
                  pd.read_csv(source, sep=None, engine="python", dtype=str,
                              keep_default_na=False))["smiles"]
        bits = part[[f"morgan_{j}" for j in range(64)]].to_numpy()
        for row, text in enumerate(smiles):
            if text is None or text == "" or not part["infoalign_valid"][row]:
                assert np.isnan(bits[row]).all()
            else:
                np.testing.assert_array_equal(bits[row], fp.transform([text])[0])


def test_parquet_shards_keep_types_and_a_model_directory_is_hashed(client, embedder, shards,
                                                                    tmp_path, monkeypatch):
    root, _ = shards
    scattered, submitted = [], []
    scatter, submit = client.scatter, client.submit

    def spy_scatter(data, **kwargs):
        scattered.append((type(data).__name__, kwargs.get("broadcast")))
        return scatter(data, **kwargs)

    def spy_submit(func, model, *args, **kwargs):
        submitted.append(type(model).__name__)
        return submit(func, model, *args, **kwargs)

    monkeypatch.setattr(client, "scatter", spy_scatter)
    monkeypatch.setattr(client, "submit", spy_submit)
    model = embedder.save_pretrained(tmp_path / "model")
    extra = root / "s1b.parquet"
    pd.DataFrame({"id": pd.array([41, 42], dtype="Int64"),
                  "smiles": ["CCO", "c1ccccc1"]}).to_parquet(extra, index=False)
    out = tmp_path / "typed"
    manifest = embed_partitions(str(model), str(root / "s1*.parquet"), out, scheduler=client)
    assert [Path(p["input"]).name for p in manifest["parts"]] == ["s1.parquet", "s1b.parquet"]
    # the model went to the workers once, broadcast; each task got a reference to it
    assert scattered == [("InfoAlignEmbedder", True)]
    assert submitted == ["Future", "Future"]
    assert manifest["kept_as_text"] is False
    config = json.loads((model / "config.json").read_text())
    assert manifest["model"]["weights_sha256"] == config["weights_sha256"]
    assert pq.read_schema(out / "part-00000.parquet").field("id").type == pa.int64()
    part = pd.read_parquet(out / "part-00001.parquet")
    assert part["id"].tolist() == [41, 42]
    _close(part[[f"infoalign_{j}" for j in range(8)]].to_numpy(),
           embedder.transform(["CCO", "c1ccccc1"]))
    # the same weights give the same hash, whether given as a directory or in memory
    again = embed_partitions(embedder, extra, tmp_path / "again", scheduler=client)
    assert again["model"]["state_sha256"] == manifest["model"]["state_sha256"]


def test_bad_inputs_are_refused_before_any_work(embedder, shards, tmp_path):
    root, files = shards
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("earlier")
    with pytest.raises(FileExistsError, match="already exists"):
        embed_partitions(embedder, files, existing, scheduler="no scheduler is reached")
    assert (existing / "keep.txt").read_text() == "earlier"
    with pytest.raises(ValueError, match="inside the output directory"):
        embed_partitions(embedder, files, root, overwrite=True)
    with pytest.raises(FileNotFoundError, match="no input file matches"):
        embed_partitions(embedder, str(root / "*.nothing"), tmp_path / "o")
    with pytest.raises(KeyError, match="'SMILES' not in .*s0.csv"):
        embed_partitions(embedder, files, tmp_path / "o", smiles_column="SMILES")
    other = tmp_path / "other.csv"
    pd.DataFrame({"smiles": ["CCO"], "name": ["ethanol"]}).to_csv(other, index=False)
    with pytest.raises(ValueError, match="other.csv has columns"):
        embed_partitions(embedder, [files[0], other], tmp_path / "o")
    with pytest.raises(KeyError, match=r"\['id'\] not in .*other.csv"):
        embed_partitions(embedder, [files[0], other], tmp_path / "o", keep_columns=["id"])
    with pytest.raises(ValueError, match="given twice"):
        embed_partitions(embedder, [files[0], files[0]], tmp_path / "o")
    with pytest.raises(ValueError, match="not fitted"):
        embed_partitions(InfoAlignEmbedder(), files, tmp_path / "o")
    with pytest.raises(ValueError, match="kind must be one of"):
        embed_partitions(embedder, files, tmp_path / "o", kind="fingerprints")
    assert not (tmp_path / "o").exists()


def test_a_failing_partition_leaves_no_output_behind(client, embedder, shards, tmp_path):
    _, files = shards
    broken = tmp_path / "broken.csv"
    broken.write_text("id,smiles\n1,CCO\n2,CCN,extra,fields\n")
    out = tmp_path / "out"
    with pytest.raises(Exception, match="Expected 2 fields"):
        embed_partitions(embedder, [files[0], broken], out, keep_columns=["id", "smiles"],
                         scheduler=client)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.csv"]


def test_cli_embed_with_dask_scheduler_address(client, embedder, shards, tmp_path, capsys):
    root, files = shards
    model = embedder.save_pretrained(tmp_path / "model")
    out = tmp_path / "cli_out"
    address = client.scheduler.address
    argv = ["embed", str(model), str(files[0]), str(root / "s[12].*"), "--out", str(out),
            "--dask", address, "--keep-columns", "id", "--chunk-size", "2"]
    assert main(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "embedded 13 rows of 3 tables" in printed and "4 invalid SMILES" in printed
    part = pd.read_parquet(out / "part-00000.parquet")
    assert list(part.columns[:2]) == ["id", "infoalign_valid"] and part["id"][0] == "007"

    assert main(argv) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["embed", str(model), str(files[0]), str(files[2]),
                 "--out", str(tmp_path / "x.csv")]) == 2
    assert "one INPUT table" in capsys.readouterr().err
    assert main(["embed", str(model), str(files[0]), "--out", str(tmp_path / "y"),
                 "--dask", address, "--dask-workers", "3"]) == 2
    assert "--dask local only" in capsys.readouterr().err


def test_without_a_scheduler_a_local_cluster_is_started_and_closed(shards, tmp_path):
    _, files = shards
    before = set(distributed.client._global_clients)
    manifest = embed_partitions(None, files[2], tmp_path / "local", kind="fingerprint",
                                n_workers=1)
    assert manifest["rows"] == 3 and manifest["invalid"] == 1
    part = pd.read_parquet(tmp_path / "local" / "part-00000.parquet")
    assert part.shape == (3, 2 + 1 + 2048) and part["id"].tolist() == ["31", "32", "33"]
    still_open = [c for key, c in distributed.client._global_clients.items()
                  if key not in before and c.status != "closed"]
    assert still_open == []


def test_cli_dask_options_without_dask_are_refused(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("smiles\nCCO\n")
    assert main(["embed", str(tmp_path), str(source), "--out", str(tmp_path / "o.csv"),
                 "--keep-columns", "smiles"]) == 2
    assert "--keep-columns applies only with --dask" in capsys.readouterr().err
