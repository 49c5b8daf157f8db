"""Multi-process pretraining: 2 CPU processes (gloo) against one process, same seed and batch.

One launch of two processes (module fixture) fits, on a tiny SIMULATED graph: SGD for 1 epoch
with a checkpoint, SGD resumed to 2 epochs from it, and Adam for 2 epochs. The one-process fits
with the same settings run here, in the test process.
"""

import datetime
import json
import os
import re
from pathlib import Path

import pytest
import torch
from numpy.testing import assert_allclose

from infoalign_sklearn import ContrastiveEmbedder, InfoAlignEmbedder, make_synthetic_context
from infoalign_sklearn.cli import main
from infoalign_sklearn.embedders import _base, _distributed
from infoalign_sklearn.embedders._distributed import (
    DistributedBatchNorm1d,
    GlobalMaskDropout,
    Ranks,
    launch_local,
    restore_batchnorm,
    use_distributed_batchnorm,
)

# 40 molecules in global batches of 15: steps of 15, 15, 10 split 7 + 8, 7 + 8, 5 + 5;
# dropout 0.3 so that wrong masks show (each process keeps its rows of the batch's masks)
TINY = dict(latent_dim=8, hidden_dim=8, num_layers=3, dropout=0.3, batch_size=15,
            random_state=0, device="cpu")
SGD = dict(TINY, optimizer=torch.optim.SGD, lr=0.05)


def _rank_worker(graph_dir: str, out_dir: str) -> None:
    """What each of the two processes runs (rank 0 writes the results)."""
    torch.set_num_threads(1)
    out = Path(out_dir)
    main_rank = int(os.environ["RANK"]) == 0
    results = {}
    for epochs in (1, 2):  # the second fit resumes from the first one's checkpoint
        emb = InfoAlignEmbedder(graph_dir, max_epochs=epochs, checkpoint_dir=out / "ckpt",
                                **SGD).fit()
        results[f"sgd{epochs}"] = emb
    results["adam"] = InfoAlignEmbedder(graph_dir, max_epochs=2, **TINY).fit()
    results["bf16"] = InfoAlignEmbedder(graph_dir, max_epochs=1, precision="bfloat16",
                                        **SGD).fit()
    if main_rank:
        for name, emb in results.items():
            torch.save(emb.module_.state_dict(), out / f"{name}.pt")
            (out / f"{name}.json").write_text(json.dumps(emb.loss_history_))


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    graph_dir = root / "graph"
    make_synthetic_context(n_molecules=40, random_state=0).graph.save(graph_dir)
    out = root / "out"
    out.mkdir()
    old = os.environ.get("INFOALIGN_DIST_TIMEOUT")
    os.environ["INFOALIGN_DIST_TIMEOUT"] = "90"  # a stuck collective fails instead of hanging
    try:
        launch_local(_rank_worker, (str(graph_dir), str(out)), 2)
    finally:
        if old is None:
            del os.environ["INFOALIGN_DIST_TIMEOUT"]
        else:
            os.environ["INFOALIGN_DIST_TIMEOUT"] = old
    return graph_dir, out


def _load(out: Path, name: str):
    return (torch.load(out / f"{name}.pt", weights_only=True),
            json.loads((out / f"{name}.json").read_text()))


def _compare_history(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        for key in b:
            if key not in ("seconds", "epoch"):
                assert_allclose(a[key], b[key], rtol=1e-4, err_msg=key)


#: Linear biases feeding a BatchNorm (their gradient is 0 up to rounding: Adam turns that noise
#: into steps of size lr) and the running means that follow them.
PRE_BATCHNORM = re.compile(r"(convs\.\d+\.mlp\.[03]\.bias|mlp_virtualnode_list\.\d+\.[03]\.bias"
                           r"|decoders\.\w+\.fc1\.bias|running_mean)$")


@pytest.mark.parametrize("epochs", [1, 2])
def test_two_processes_reach_the_one_process_weights(two_process_run, epochs):
    # SGD: every weight, the biases before batch norm included; epoch 2 was resumed from
    # the checkpoint of epoch 1 under the same world size
    graph_dir, out = two_process_run
    ref = InfoAlignEmbedder(str(graph_dir), max_epochs=epochs, **SGD).fit()
    weights, history = _load(out, f"sgd{epochs}")
    want = ref.module_.state_dict()
    assert set(weights) == set(want)
    for key, value in want.items():
        assert_allclose(weights[key].numpy(), value.numpy(), rtol=1e-4, atol=1e-6, err_msg=key)
    _compare_history(history, ref.loss_history_)


def test_two_processes_with_adam(two_process_run):
    graph_dir, out = two_process_run
    ref = InfoAlignEmbedder(str(graph_dir), max_epochs=2, **TINY).fit()
    weights, history = _load(out, "adam")
    _compare_history(history, ref.loss_history_)
    loose = {key for key in ref.module_.state_dict() if PRE_BATCHNORM.search(key)}
    assert "decoders.gene.fc1.bias" in loose and "encoder.dist_net.1.bias" not in loose
    checked = 0
    for key, value in ref.module_.state_dict().items():
        if key not in loose:
            # Adam's step is ~lr whatever the gradient's size: elements whose gradient is
            # near rounding level drift by a fraction of lr (SGD above checks every weight)
            assert_allclose(weights[key].numpy(), value.numpy(), rtol=1e-4, atol=5e-4,
                            err_msg=key)
            checked += 1
    assert checked > len(loose)


def test_two_processes_in_bfloat16(two_process_run):
    # bfloat16 autocast with several processes runs (the distributed batch norm under
    # autocast) and reaches the loss of one process in bfloat16, up to bfloat16 rounding (the
    # ranks' smaller batches round differently)
    graph_dir, out = two_process_run
    ref = InfoAlignEmbedder(str(graph_dir), max_epochs=1, precision="bfloat16", **SGD).fit()
    weights, history = _load(out, "bf16")
    assert len(history) == 1
    for key in ("loss",):
        assert_allclose(history[0][key], ref.loss_history_[0][key], rtol=2e-2, err_msg=key)
    assert set(weights) == set(ref.module_.state_dict())


def test_resume_in_another_world_size_is_refused(two_process_run):
    graph_dir, out = two_process_run
    emb = InfoAlignEmbedder(str(graph_dir), max_epochs=3, checkpoint_dir=out / "ckpt", **SGD)
    with pytest.raises(ValueError, match=r"written by a fit in 2 process\(es\) and this fit "
                                         r"runs in 1.*--nproc 2"):
        emb.fit()


@pytest.fixture
def fake_ranks(monkeypatch):
    """fit believes it is rank 0 of 4 processes (nothing is launched)."""
    monkeypatch.setattr(_base, "current_ranks", lambda device_type: Ranks(0, 4, 0, False))
    monkeypatch.setattr(_base, "broadcast_object", lambda obj, ranks, device: obj)


def test_contrastive_embedder_is_refused_in_several_processes(fake_ranks):
    graph = make_synthetic_context(n_molecules=20, random_state=0).graph
    with pytest.raises(ValueError, match="ContrastiveEmbedder cannot be fitted by 4 processes"):
        ContrastiveEmbedder(graph, max_epochs=1).fit()


@pytest.mark.parametrize("batch_size, smallest", [(3, 3), (19, 2)])
def test_steps_smaller_than_the_world_are_refused(fake_ranks, batch_size, smallest):
    graph = make_synthetic_context(n_molecules=40, random_state=0).graph
    emb = InfoAlignEmbedder(graph, **dict(TINY, batch_size=batch_size, max_epochs=1))
    with pytest.raises(ValueError, match=f"step of {smallest} molecules, fewer than the 4 proc"):
        emb.fit()


def test_distributed_batchnorm_is_batchnorm_in_one_process():
    # one-process group: the collective is the identity, the arithmetic is what is checked
    store = torch.distributed.HashStore()
    torch.distributed.init_process_group("gloo", store=store, rank=0, world_size=1,
                                         timeout=datetime.timedelta(seconds=30))
    try:
        torch.manual_seed(0)
        ref = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5))
        dist = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5))
        dist.load_state_dict(ref.state_dict())
        use_distributed_batchnorm(dist)
        assert type(dist[1]) is DistributedBatchNorm1d
        x = torch.randn(7, 3) * 5 + 2
        for _ in range(2):
            y_ref, y = ref(x), dist(x)
            assert_allclose(y.detach().numpy(), y_ref.detach().numpy(), rtol=1e-4, atol=1e-5)
            (y_ref * torch.arange(5.0)).sum().backward()
            (y * torch.arange(5.0)).sum().backward()
        for (name, a), b in zip(ref.named_parameters(), dist.parameters()):
            assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
        for key, value in ref.state_dict().items():
            assert_allclose(dist.state_dict()[key].numpy(), value.numpy(), rtol=1e-5,
                            err_msg=key)
        restore_batchnorm(dist)
        assert type(dist[1]) is torch.nn.BatchNorm1d
        assert dist[1].weight is dist.state_dict(keep_vars=True)["1.weight"]
    finally:
        torch.distributed.destroy_process_group()


def test_global_mask_dropout_keeps_this_ranks_rows_of_the_batch_mask():
    x = torch.randn(10, 4)
    torch.manual_seed(3)
    whole = torch.nn.functional.dropout(x, 0.4, training=True)
    torch.manual_seed(3)
    with GlobalMaskDropout([(6, 10, 4)]):  # rows 4..9 of a batch of 10
        share = torch.nn.Dropout(0.4)(x[4:])
    assert torch.equal(share, whole[4:])
    assert (share == 0).any()
    with pytest.raises(RuntimeError, match="got 6 rows where this rank has 5"):
        with GlobalMaskDropout([(5, 10, 4)]):
            torch.nn.functional.dropout(x[4:], 0.4, training=True)


# ------------------------------------------------------------------------ CLI
def test_cli_nproc_checks_then_launches(tmp_path, monkeypatch, capsys):
    graph_dir = tmp_path / "graph"
    make_synthetic_context(n_molecules=20, random_state=0).graph.save(graph_dir)
    calls = []
    monkeypatch.setattr(_distributed, "launch_local",
                        lambda target, args, nproc: calls.append((target, args, nproc)))
    out = tmp_path / "model"
    argv = ["pretrain", str(graph_dir), "--out", str(out), "--epochs", "1", "--nproc", "3"]
    assert main(argv) == 0
    (target, (args,), nproc), = calls
    assert nproc == 3 and target.__name__ == "pretrain_and_save" and args.out == str(out)
    # the checks run before any process starts
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / "checkpoint.pt").write_bytes(b"x")
    assert main(argv) != 0
    assert "holds a checkpoint" in capsys.readouterr().err
    assert len(calls) == 1
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main([*argv, "--resume"]) != 0
    assert "--nproc under torchrun" in capsys.readouterr().err
    monkeypatch.delenv("WORLD_SIZE")
    assert main([*argv[:-1], "0", "--resume"]) != 0
    assert "--nproc must be at least 1" in capsys.readouterr().err
    assert len(calls) == 1

    def failing(target, args, nproc):
        raise RuntimeError("a pretraining process failed:\nTraceback (most recent call last):\n"
                           "  ...\nValueError: batch_size=2 over 20 molecules gives a step")
    monkeypatch.setattr(_distributed, "launch_local", failing)
    assert main([*argv, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "a pretraining process failed: ValueError: batch_size=2 over 20" in err
    assert "Traceback" not in err
