"""Local worker processes and the output-folder lock of ``spintwin explore``.

Workers die with their parent
    The sweep's local workers are spawned processes (:func:`local_runner`), started with SIGINT
    blocked. Each one, before it takes a task, (1) ignores SIGINT, so a Ctrl-C in the terminal (which signals the whole
    foreground process group) reaches only the parent, which prints one line and kills the
    workers; (2) on Linux asks the kernel for SIGKILL when its parent dies
    (``prctl(PR_SET_PDEATHSIG)``), so a ``kill -9`` of the parent takes the workers with it; and
    (3) runs a watchdog thread that polls ``os.getppid()`` and exits when the parent is gone
    (the portable fallback, and the check for a parent that died before (2) was in place).
    When the parent leaves the sweep early (an error, Ctrl-C, a closed generator) it kills
    its workers instead of waiting for their running points.

The output-folder lock
    :class:`OutLock` holds an exclusive ``flock`` on ``OUT/.explore.lock`` for the whole run. A
    second explore into the same folder does not wait (a sweep may run for hours): it stops at
    once with one line naming the folder and the process that holds it. The kernel releases the
    lock when its holder dies, ``kill -9`` included, so a stale lock file never blocks a rerun.
    Without ``fcntl`` (Windows) there is no lock.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from spinbase.errors import SpintwinError

__all__ = ["WATCHDOG_PERIOD_S", "local_runner", "OutLock"]

#: How often a worker's watchdog checks that its parent is alive, seconds.
WATCHDOG_PERIOD_S = 0.5
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _parent_death_signal() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux); True if it took."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux: the watchdog alone
        return False


def _watchdog(parent: int) -> None:
    import time

    while True:
        if os.getppid() != parent:
            os._exit(1)  # the parent is gone: nobody will read our results
        time.sleep(WATCHDOG_PERIOD_S)


def _worker_init(parent: int) -> None:
    """Initializer of every local worker (see the module docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # also discards a SIGINT pending since the spawn
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _parent_death_signal()
    if os.getppid() != parent:  # died before the death signal was armed
        os._exit(1)
    threading.Thread(target=_watchdog, args=(parent,), name="explore-parent-watchdog", daemon=True).start()


class _SigintBlocked:
    """SIGINT blocked (held pending, not lost) while workers are spawned. A signal mask survives
    fork and exec, so a Ctrl-C during a worker's start-up stays pending there until its
    initializer ignores SIGINT (which discards it) instead of raising KeyboardInterrupt in the
    middle of an import; here it is delivered when the block ends, and stops the sweep."""

    def __enter__(self):
        self.old = None
        if hasattr(signal, "pthread_sigmask"):
            self.old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.old)
        return False


def _kill_workers(ex) -> None:
    procs = list((getattr(ex, "_processes", None) or {}).values())  # ProcessPoolExecutor keeps them by pid
    for p in procs:
        if p.is_alive():
            p.kill()
    for p in procs:
        p.join(timeout=5)


def local_runner(task, jobs, workers: int):
    """Yield ``(key, task(*args))`` as ``jobs`` (``[(key, args), ...]``) complete on ``workers``
    spawned processes that die with this one (module docstring).

    ``task`` must be importable by name (it is pickled by reference). Spawn, not fork: the
    caller may already run numba's OpenMP threads. A caller that stops early (exception,
    KeyboardInterrupt, ``close()``) gets its workers killed, not waited for. A worker that dies
    (e.g. killed by the kernel for memory) ends the sweep with :class:`ToolFailure` (one line).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from spinbase.errors import ToolFailure

    ex = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_worker_init, initargs=(os.getpid(),))
    finished = False
    try:
        with _SigintBlocked():
            futs = {ex.submit(task, *args): key for key, args in jobs}
        for f in as_completed(futs):
            try:
                res = f.result()
            except BrokenProcessPool:
                raise ToolFailure("a local explore worker died (killed, or out of memory?); the points finished so "
                                  "far are saved: rerun to resume") from None
            yield futs[f], res
        finished = True
    finally:
        if not finished:
            _kill_workers(ex)
        ex.shutdown(wait=finished, cancel_futures=True)


class OutLock:
    """Exclusive lock on an explore output folder (module docstring); a context manager.

    Raises :class:`SpintwinError` on entry when another process holds it.
    """

    NAME = ".explore.lock"

    def __init__(self, out: Path, option: str = "--out"):
        self.path = Path(out) / self.NAME
        self.option = option
        self._fd = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return self
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as e:
            raise SpintwinError(f"{self.option} {str(self.path.parent)!r}: cannot create the lock file "
                                f"{self.NAME}: {e.strerror or e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            except OSError:
                holder = "unknown"
            os.close(fd)
            raise SpintwinError(f"{self.option} {str(self.path.parent)!r} is in use by another spintwin explore "
                                f"(pid {holder}); wait for it to finish or choose another folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc):
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
        return False
