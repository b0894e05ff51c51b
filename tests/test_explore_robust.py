"""`spintwin explore` against a hostile or careless user (issue 20): workers that die with their
parent, Ctrl-C in one line, one sweep per output folder, corrupt cache entries recomputed, bad
--space / --out in one line before any work, a fixed profile.csv, and the module layering.

The process tests run the real CLI in a subprocess on a space whose two points each take tens
of seconds (10,000 MNIST images), so a worker that survives its parent is still busy when the
test looks; they never wait for a point to finish.
"""

import ast
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from spinbase.errors import SpintwinError
from spintwin import explore, explore_eval
from spintwin.explore import point_key, run_explore
from spintwin.explore_workers import WATCHDOG_PERIOD_S, OutLock

ROOT = Path(__file__).resolve().parent.parent

#: Two slow network points (~30 s each on one core): busy for the whole of a process test.
SLOW_SPACE = """
[base]
images = 10000
profile_images = 0
steps = 20
[axes]
kind = ["cmos-if"]
weight_bits = [3, 4]
"""
#: One fast network point.
TINY_SPACE = """
[base]
images = 2
profile_images = 1
steps = 3
[axes]
kind = ["cmos-if"]
"""
#: A worker notices a dead parent at once (PR_SET_PDEATHSIG) or within one watchdog period;
#: the rest is scheduling on a loaded 2-core machine, so allow ten periods.
GONE_S = 10 * WATCHDOG_PERIOD_S
#: Startup of the CLI and its workers (imports, MNIST) on a loaded machine.
START_S = 60
#: Into a spawned worker's start-up: Python is up and importing (numpy alone takes longer).
WORKER_IMPORTS_S = 0.3


def _space(tmp_path, text, name="space.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def _as_foreground():
    """In the child before exec: SIGINT at its default, as for a command typed at a terminal. A
    test run started in the background of a non-interactive shell ignores SIGINT, every child
    inherits that, and Python then installs no KeyboardInterrupt handler: the explore would
    rightly keep ignoring Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tmp_path, out, **kw):
    space = _space(tmp_path, SLOW_SPACE, "slow.toml")
    return subprocess.Popen([sys.executable, "-m", "spintwin.cli", "explore", "--space", str(space), "--out", str(out),
                             "--workers", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_as_foreground, **kw)


def _workers(proc, n=2) -> list:
    """The explore's spawned workers once ``n`` exist (psutil processes)."""
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        kids = [c for c in parent.children(recursive=True) if "--multiprocessing-fork" in " ".join(c.cmdline())]
        if len(kids) >= n:
            return kids
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"no {n} workers after {START_S} s")


def _alive(procs) -> list:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _wait_gone(procs, seconds) -> list:
    deadline = time.monotonic() + seconds
    while _alive(procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _alive(procs)


def _reap(proc, procs):
    """Clean up after a failing check (old code leaves busy workers behind)."""
    for p in _alive(procs):
        p.kill()
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


# Workers and signals ----------------------------------------------------------------------------------
def test_workers_die_with_a_killed_parent(tmp_path):
    proc = _start(tmp_path, tmp_path / "out")
    kids = _workers(proc)
    everything = psutil.Process(proc.pid).children(recursive=True)   # workers and multiprocessing's tracker
    try:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        left = _wait_gone(everything, GONE_S)
        assert not left, f"{len(left)} of {len(everything)} child processes outlived kill -9 of their parent " \
                         f"({len(kids)} workers)"
    finally:
        _reap(proc, everything)


@pytest.mark.parametrize("how", ["ctrl-c", "kill-int"])
def test_interrupt_is_one_line_and_takes_the_workers(tmp_path, how):
    """Ctrl-C signals the whole foreground process group, here while the workers start up (when
    a worker not ignoring SIGINT prints a traceback); ``kill -INT`` reaches only the parent,
    which must not wait for its workers' running points (tens of seconds)."""
    proc = _start(tmp_path, tmp_path / "out", start_new_session=True)
    kids = _workers(proc)
    everything = psutil.Process(proc.pid).children(recursive=True)
    try:
        t0 = time.monotonic()
        if how == "ctrl-c":
            time.sleep(WORKER_IMPORTS_S)
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=START_S)
        took = time.monotonic() - t0
        assert (proc.returncode, err) == (130, "spintwin: interrupted\n")
        assert took < GONE_S + 5, f"the interrupted explore took {took:.1f} s to stop"
        assert not _wait_gone(kids, GONE_S)
    finally:
        _reap(proc, everything)


def test_a_dead_worker_is_one_line(tmp_path):
    """A worker killed under the sweep (the kernel's OOM killer, a user): the parent stops with
    one line and exit 3 (no verdict) and takes the other worker with it."""
    proc = _start(tmp_path, tmp_path / "out")
    kids = _workers(proc)
    everything = psutil.Process(proc.pid).children(recursive=True)
    try:
        kids[0].kill()
        _, err = proc.communicate(timeout=START_S)
        assert proc.returncode == 3 and err.count("\n") == 1, err
        assert err.startswith("spintwin: tool failure: a local explore worker died")
        assert not _wait_gone(kids, GONE_S)
    finally:
        _reap(proc, everything)


def test_second_explore_into_one_folder_is_one_line(tmp_path, monkeypatch):
    """The folder is in use: the second run stops at once, computing nothing; a killed holder
    leaves no stale lock behind."""
    out = tmp_path / "out"
    proc = _start(tmp_path, out)
    kids = _workers(proc)
    everything = psutil.Process(proc.pid).children(recursive=True)
    calls = []
    monkeypatch.setattr(explore_eval, "evaluate_point", lambda *a, **k: calls.append(1) or {})
    try:
        with pytest.raises(SpintwinError, match=rf"in use by another spintwin explore \(pid {proc.pid}\)") as e:
            run_explore(None, _space(tmp_path, SLOW_SPACE, "slow.toml"), out, workers=1, echo=lambda s: None)
        assert "\n" not in str(e.value) and calls == []
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert not _wait_gone(kids, GONE_S)
        with OutLock(out):   # released with its holder
            pass
    finally:
        _reap(proc, everything)


# Caches --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A finished one-point sweep: (space, out folder, the point's record path, its text)."""
    tmp = tmp_path_factory.mktemp("tiny")
    space = _space(tmp, TINY_SPACE)
    out = tmp / "ref"
    res = run_explore(None, space, out, workers=1, echo=lambda s: None)
    assert res["computed"] == 1
    rec = out / "points" / f"{res['rows'][0]['id']}.json"
    return space, out, rec, rec.read_text()


@pytest.mark.parametrize("damage", ["null", "[]", "[1, 2]", '"text"', "{", "truncated", "binary", "metrics-null",
                                    "profile-garbage", "folder"])
def test_corrupt_point_record_is_recomputed(tmp_path, tiny, damage):
    import shutil

    space, ref, rec_path, good = tiny
    out = tmp_path / "out"
    shutil.copytree(ref, out)
    rec = out / "points" / rec_path.name
    if damage == "truncated":
        rec.write_text(good[:len(good) // 2])
    elif damage == "binary":
        rec.write_bytes(b"\xff\xfe\x00garbage\x80")
    elif damage == "metrics-null":
        rec.write_text(json.dumps({**json.loads(good), "metrics": None}))
    elif damage == "profile-garbage":
        r = json.loads(good)
        r["metrics"]["profile"] = [1, 2]
        rec.write_text(json.dumps(r))
    elif damage == "folder":
        rec.unlink()
        rec.mkdir()
        (rec / "x").write_text("")
    else:
        rec.write_text(damage)
    res = run_explore(None, space, out, workers=1, echo=lambda s: None)
    assert (res["computed"], res["cached"], res["failed"]) == (1, 0, 0)
    again, ref_rec = json.loads(rec.read_text()), json.loads(good)
    for r in (again, ref_rec):   # timings differ between runs
        del r["seconds"], r["metrics"]["seconds"]
    assert again == ref_rec
    assert not list((out / "points").glob(".*.tmp"))


def test_corrupt_golden_curve_is_recomputed(tmp_path, monkeypatch):
    space = _space(tmp_path, """
        [macrospin]
        trials = 3
        currents_uA = [60, 80]
        """)
    curves = []

    def curve(currents, trials, seed):
        curves.append(seed)
        return {"p": [0.25, 0.75], "se": [0.1, 0.1]}

    monkeypatch.setattr(explore_eval, "golden_switching_curve", curve)
    monkeypatch.setattr(explore_eval, "evaluate_point", lambda point, **kw: {"fidelity_max_dev": 0.0})
    out = tmp_path / "out"
    run_explore(None, space, out, workers=1, echo=lambda s: None)
    (gfile,) = (out / "golden").glob("*.json")
    good = gfile.read_text()
    for damage in (good[:len(good) // 3], "null", "[]", '{"spec": 1, "curve": {}}',
                   good.replace("0.75", '"x"'), b"\x80\x81"):
        for f in (out / "points").glob("*.json"):
            f.unlink()  # the point must run again, so its golden curve is needed
        (gfile.write_bytes if isinstance(damage, bytes) else gfile.write_text)(damage)
        n = len(curves)
        res = run_explore(None, space, out, workers=1, echo=lambda s: None)
        assert (res["computed"], res["failed"], len(curves)) == (1, 0, n + 1), damage
        assert gfile.read_text() == good
    for f in (out / "points").glob("*.json"):
        f.unlink()
    run_explore(None, space, out, workers=1, echo=lambda s: None)   # intact: read, not recomputed
    assert len(curves) == 7


# One line, before any work ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind, needle", [
    ("folder", "is a folder, not a TOML file"),
    ("binary", "not UTF-8 text"),
    ("latin-1", "not UTF-8 text"),
])
def test_unreadable_space_is_one_line(tmp_path, kind, needle):
    p = tmp_path / "space.toml"
    if kind == "folder":
        p.mkdir()
    elif kind == "binary":
        p.write_bytes(bytes(range(256)))
    else:
        p.write_bytes("[base]\n# Température\nimages = 2\n".encode("latin-1"))
    with pytest.raises(SpintwinError, match=needle) as e:
        run_explore(None, p, tmp_path / "out", workers=1, echo=lambda s: None)
    assert "\n" not in str(e.value) and str(p) in str(e.value)
    assert not (tmp_path / "out").exists()   # checked before the output folder is made


@pytest.mark.parametrize("kind", ["file", "under-file", "too-long", "empty"])
def test_unusable_out_is_one_line_before_any_work(tmp_path, monkeypatch, kind, capsys):
    from spintwin.cli import main

    monkeypatch.chdir(tmp_path)   # an empty --out must not become the current folder
    (tmp_path / "f").write_text("a file")
    out = {"file": "f", "under-file": "f/out", "too-long": "x" * 300, "empty": ""}[kind]
    calls = []
    monkeypatch.setattr(explore_eval, "evaluate_point", lambda *a, **k: calls.append(1) or {})
    space = _space(tmp_path, TINY_SPACE)
    with pytest.raises(SpintwinError, match="--out") as e:
        run_explore(None, space, out, workers=1, echo=lambda s: None)
    assert "\n" not in str(e.value) and calls == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "space.toml"]
    assert main(["explore", "--space", str(space), "--out", out, "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spintwin: error: --out") and err.count("\n") == 1 and calls == []


def test_cache_folder_taken_by_a_file_is_one_line(tmp_path):
    space = _space(tmp_path, "[macrospin]\ntrials = 3\ncurrents_uA = [60, 80]\n")
    for sub in ("points", "golden"):
        out = tmp_path / sub / "out"
        out.mkdir(parents=True)
        (out / sub).write_text("in the way")
        with pytest.raises(SpintwinError, match=f"--out '.*{sub}' is an existing file, not a folder"):
            run_explore(None, space, out, workers=1, echo=lambda s: None)


# Reports and layering ------------------------------------------------------------------------------
def test_profile_csv_columns_are_fixed(tiny):
    space, out, _, _ = tiny
    fresh = (out / "profile.csv").read_text()
    res = run_explore(None, space, out, workers=1, echo=lambda s: None)   # every point from the cache
    assert res["cached"] == 1
    assert (out / "profile.csv").read_text() == fresh

    from spintwin.explore_profile import PROFILE_COLUMNS

    assert fresh.splitlines()[0] == ",".join(PROFILE_COLUMNS)


def _imports(module: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ("spintwin." if node.level else "") + (node.module or "")
            names |= {base.rstrip(".")} | {f"{base.rstrip('.')}.{a.name}" for a in node.names}
    return names


def test_explore_imports_no_bench_and_no_cycle():
    mods = {p.stem: _imports(p) for p in (ROOT / "spintwin").glob("explore*.py")}
    for name, names in mods.items():
        assert not any(n == "bench" or n.startswith("bench.") for n in names), f"{name} imports bench"
    profile_deps = {n for n in mods["explore_profile"] if n.startswith("spintwin.explore")}
    assert not profile_deps, f"explore_profile imports {profile_deps} (explore_eval imports explore_profile)"
    assert point_key({"a": 1}) == point_key({"a": 1}) and explore.EXPLORE_VERSION >= 2
