"""Atomic output writing: a reader never sees a half-written file, and an interrupted run
leaves the previous version in place."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__all__ = ["prepare_out_dir", "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_savefig"]


def prepare_out_dir(path, option: str = "--out") -> Path:
    """Check, before any work starts, that ``path`` can be an output folder, and create it.

    Raises :class:`~spinbase.errors.SpintwinError` (one line naming ``option`` and the path)
    for an empty name, an existing file, a path under a file, a name too long, or a folder
    that cannot be written; returns the resolved :class:`Path`.
    """
    from .errors import SpintwinError

    if path is None or not str(path).strip():
        raise SpintwinError(f"{option} must name a folder, not an empty string")
    p = Path(path)
    try:
        if p.exists() and not p.is_dir():
            raise SpintwinError(f"{option} {str(p)!r} is an existing file, not a folder")
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SpintwinError(f"{option} {str(p)!r} cannot be created: {e.strerror or e}") from None
    try:
        fd, probe = tempfile.mkstemp(dir=p, prefix=".spintwin-write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise SpintwinError(f"{option} {str(p)!r} is not writable: {e.strerror or e}") from None
    return p.resolve()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and os.replace.

    The file gets the permissions an ordinary ``open(path, "w")`` would give (0o666 less the
    umask), not mkstemp's private 0o600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def atomic_savefig(fig, path, **kwargs) -> Path:
    """Save a matplotlib figure atomically (PNG unless the suffix says otherwise)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format=Path(path).suffix.lstrip(".") or "png", **kwargs)
    return atomic_write_bytes(path, buf.getvalue())
