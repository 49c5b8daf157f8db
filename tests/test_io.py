import os
import stat

import pytest

from infoalign_sklearn._utils.io import atomic_directory, atomic_file


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_atomic_file_replaces_in_one_step_with_normal_permissions(tmp_path, umask_022):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_file(target, "w") as fh:
            fh.write("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    with atomic_file(target, "w") as fh:
        fh.write("new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not mkstemp's private 0600


def test_atomic_directory_swaps_whole_folders_with_normal_permissions(tmp_path, umask_022):
    target = tmp_path / "model"
    with atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("1")
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as tmp:
            (tmp / "a.txt").write_text("2")
            raise RuntimeError("crash")
    assert (target / "a.txt").read_text() == "1" and len(list(tmp_path.iterdir())) == 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
