"""Advisory file locks shared by every cache of the project (cocotb builds, the Verilator
runtime objects, the synthesis results): two processes (or two threads) that need the same
entry take turns, one builds and the others reuse, nobody deletes files another is using.

POSIX ``flock`` locks belong to an open file description, so two threads of one process that
each open the lock file exclude each other as two processes do. The lock file itself is never
deleted (deleting it would let a newcomer lock a fresh inode while an old holder still holds
the unlinked one).
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

__all__ = ["file_lock"]


@contextmanager
def file_lock(path: str | os.PathLike, *, shared: bool = False):
    """Hold an ``flock`` on ``path`` (created with its folder) for the ``with`` block.

    Parameters
    ----------
    path : path of the lock file (any name; it stays empty).
    shared : bool
        Take a shared lock (many holders at once, e.g. simulations using one build) instead
        of an exclusive one (one holder, e.g. the process that builds or rebuilds it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
