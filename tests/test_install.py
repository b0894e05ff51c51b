"""A non-editable install works outside the checkout (issue 15, item 5): configs/ ships as the
package data ``spintwin.configs``, so the installed CLI has its embedded default design.

How the fresh environment is made (documented here because .venv is itself a venv): a new venv
is created from the *base* interpreter (``sys._base_executable``; ``--system-site-packages`` of
.venv's python would only reach the base interpreter's site-packages, not .venv's), the wheel
is installed into it with ``--no-deps`` (pip's ``--python`` option), and only then a ``.pth``
file appends .venv's site-packages to its path for the dependencies (numpy, amaranth, the
MNIST wheel, ...). A path line in a ``.pth`` does not run the ``.pth`` files of the folder it
adds, so .venv's editable finder for the checkout stays inactive: ``spintwin``, ``golden``,
``hdl`` ... can only come from the new venv, which the test asserts.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _setuptools_builds_here() -> bool:
    """pyproject's build backend needs setuptools >= 77 (an SPDX ``license``); with an older one in
    .venv the wheel is built with pip's build isolation instead (setuptools from the index)."""
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return major >= 77


def _run(cmd, cwd, env=None, timeout=300):
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} -> {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return r


def _source_copy(dest: Path) -> Path:
    """The checkout's files (tracked and new, not ignored) copied to ``dest``: setuptools builds in
    the source tree's build/ and reuses what an earlier build left there (a stale build/lib would
    hide a missing package-data entry), and the checkout stays untouched."""
    import shutil

    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    if not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout (the source files to build from)")
    source = _source_copy(tmp_path / "src")
    wheels = tmp_path / "wheels"
    isolation = ["--no-build-isolation"] if _setuptools_builds_here() else []
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q", "-w", str(wheels),
                        str(source)], capture_output=True, text=True, timeout=300)
    if r.returncode != 0 and not isolation and "No matching distribution found for setuptools" in r.stderr:
        pytest.skip("no package index to fetch setuptools >= 77 for the isolated build")
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel,) = wheels.glob("spintwin-*.whl")

    venv = tmp_path / "venv"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    py = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", "-q", wheel], cwd=tmp_path)
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path)
                .stdout.strip())
    (site / "zz_spintwin_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "elsewhere"      # cwd outside the checkout: nothing can come from ./
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = _run([py, "-c", "import spintwin, golden, hdl, spinbase, spintwin.config as c; "
                            "print(spintwin.__file__); print(golden.__file__); print(hdl.__file__); "
                            "print(spinbase.__file__); print(c.DEFAULT_CONFIG)"], cwd=work, env=env).stdout.split()
    for f in where:
        assert Path(f).resolve().is_relative_to(venv.resolve()), f"{f} is not from the new venv"
        assert not Path(f).resolve().is_relative_to(ROOT), f
    assert where[-1].endswith(os.path.join("spintwin", "configs", "default.toml")) and Path(where[-1]).is_file()

    spintwin = venv / "bin" / "spintwin"
    _run([spintwin, "generate", "core", "--network", "cnn-if", "--no-lint", "--out", "X"], cwd=work, env=env)
    assert "module snn_core" in (work / "X" / "snn_core.v").read_text()
    assert (work / "X" / "snn_core.manifest.json").stat().st_size > 0
    r = _run([spintwin, "demo", "--help"], cwd=work, env=env)
    assert "example: spintwin demo" in r.stdout
    assert sorted(p.name for p in work.iterdir()) == ["X"]     # nothing else written in the cwd
