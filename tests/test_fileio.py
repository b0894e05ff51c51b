"""Atomic writes: the old file survives a failed write, no temporaries are left, and the
permissions are those of an ordinary open()."""

import os
import stat

import pytest

from spinbase.fileio import atomic_write_bytes, atomic_write_json, atomic_write_text


def test_permissions_match_a_plain_open(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = atomic_write_text(tmp_path / "atomic.txt", "x")
    assert stat.S_IMODE(os.stat(atomic).st_mode) == stat.S_IMODE(os.stat(plain).st_mode)


def test_failed_write_keeps_the_previous_file(tmp_path):
    path = atomic_write_json(tmp_path / "r.json", {"a": 1})
    with pytest.raises(TypeError):
        atomic_write_bytes(path, 123)  # fails inside the write, after the temporary file exists
    assert path.read_text().strip().startswith("{") and '"a": 1' in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
