"""Atomic file and directory writes (a crash never leaves a half-written file behind a name)
and file checksums."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 4 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb") -> Iterator:
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); give it the permissions open() would
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def replace_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock for replacing ``path``: one writer at a time, across processes.

    The lock is an advisory ``flock`` on the parent directory, so it leaves no file behind.
    Where ``fcntl`` is missing (Windows) writers are not serialised.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(Path(path).parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _link_tree(src: Path, dst: Path) -> None:
    """Recreate ``src`` at ``dst`` with hard links (copies where links are refused)."""
    if src.is_dir() and not src.is_symlink():
        dst.mkdir()
        for item in src.iterdir():
            _link_tree(item, dst / item.name)
    elif src.is_symlink():
        os.symlink(os.readlink(src), dst)
    else:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, *, keep_others: bool = False,
                     check: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``path`` as a whole on success.

    The new directory is written beside ``path``, its files fsynced, and swapped in while an
    exclusive :func:`replace_lock` is held, so concurrent writers to one path each replace it
    whole (the last one wins) and nobody sees a mix. A crash or an exception leaves the old
    directory as it was; no temporary copy is left behind.

    Parameters
    ----------
    keep_others : bool, default=False
        Carry the entries of the existing directory that the new one does not write (a model
        directory's ``checkpoints/``, a user's notes) into the new one, as hard links.
    check : callable, optional
        Called with ``path`` under the lock just before the swap; it raises to refuse (say, when
        ``path`` is no longer something this writer may replace).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old = None
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private (0700)
        yield tmp
        for item in tmp.iterdir():
            if item.is_file():
                with open(item, "rb") as fh:
                    os.fsync(fh.fileno())
        with replace_lock(path):
            if check is not None:
                check(path)
            if path.is_dir() and keep_others:
                written = {item.name for item in tmp.iterdir()}
                for item in path.iterdir():
                    if item.name not in written and not _is_temporary(item.name, path.name):
                        _link_tree(item, tmp / item.name)
            _fsync_dir(tmp)
            if path.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old",
                                            dir=path.parent))
                old.rmdir()
                os.replace(path, old)
                try:
                    os.replace(tmp, path)
                except BaseException:
                    os.replace(old, path)  # put the old one back
                    old = None
                    raise
            else:
                os.replace(tmp, path)
            _fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _is_temporary(name: str, base: str) -> bool:
    """Whether ``name`` is one of this module's temporary names for ``base``."""
    return name.startswith(f".{base}.") and name.endswith((".tmp", ".old"))
