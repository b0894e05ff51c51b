"""Registry entry of the macrospin integrator ([twin.macrospin]; quantize.macrospin, hdl.macrospin,
tb.macrospin_launch)."""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from pathlib import Path

from spinbase.errors import SpintwinError
from spinbase.fileio import atomic_write_text

from .blocks import Block, Request
from .twin import macrospin_from_config

__all__ = ["BLOCK", "MacrospinDesign", "BLACKBOX_FILE", "MACROSPIN_FREQ_MHZ"]

BLACKBOX_FILE = "spintwin_ecp5_blackboxes.v"
WAIVERS = Path(__file__).resolve().parent.parent / "hdl" / "verilator_waivers.vlt"

#: nextpnr's clock target for the macrospin integrator on ECP5: above the ~144 MHz that five
#: lanes need for 20x the golden model, so that timing-driven placement and routing aim there
#: (at 125 MHz they left 6-7 ns routes that had slack alone).
MACROSPIN_FREQ_MHZ = 150.0


@dataclass(frozen=True)
class MacrospinDesign:
    """The integrator of one design file: its table, the integer model and noise config."""

    table: dict
    model: object
    noise: object
    params: object
    seed: int
    config_path: Path | None


def _where(path) -> str:
    return f"config {path}: " if path is not None else ""


def _design(cfg: dict, req: Request) -> MacrospinDesign:
    cfg = copy.deepcopy(cfg)
    t = cfg["twin"]["macrospin"]
    if req.seed is not None:     # an explicit --seed; else the seeding the design file wrote
        t["seed"] = req.seed
    model, noise, params = macrospin_from_config(cfg, req.config_path)
    return MacrospinDesign(t, model, noise, params, t["seed"], req.config_path)


def _refused(d: MacrospinDesign, e: ValueError) -> SpintwinError:
    key = "'twin.macrospin.magnets' " if "magnets" in str(e) else ""
    return SpintwinError(f"{_where(d.config_path)}{key or 'twin.macrospin: '}{e}")


def _schedule(d: MacrospinDesign, style: str = "generic"):
    """The integrator's ``hdl.macrospin.Schedule`` (the design checked, nothing built)."""
    from hdl.macrospin import MacrospinIntegrator

    try:
        return MacrospinIntegrator.check(d.model, d.noise, blocks=style)
    except ValueError as e:
        raise _refused(d, e) from None


def _component(d: MacrospinDesign, style: str = "generic"):
    from hdl.macrospin import MacrospinIntegrator

    try:
        return MacrospinIntegrator(d.model, d.noise, blocks=style)
    except ValueError as e:
        raise _refused(d, e) from None


def _check(cfg: dict, path) -> None:
    _schedule(_design(cfg, Request(config_path=path)))


def _verilog(d: MacrospinDesign, style: str, out: Path):
    from hdl import ecp5_blocks

    from .flow import export_verilog

    verilog = export_verilog(_component(d, style), "macrospin")
    vpath = atomic_write_text(out / "macrospin.v", verilog)
    shutil.copyfile(WAIVERS, out / WAIVERS.name)
    extra = []
    if style == "ecp5":
        extra = [atomic_write_text(out / p.name, p.read_text()) for p in ecp5_blocks.SIM_MODELS.values()]
        atomic_write_text(out / BLACKBOX_FILE, "".join(ecp5_blocks.BLACKBOX_VERILOG.values()))
    return "macrospin", vpath, extra, [WAIVERS]


def _manifest(d: MacrospinDesign, dut, style: str) -> dict:
    from hdl import ecp5_blocks

    model, noise = d.model, d.noise
    c = model.cfg
    return {
        "latency": dut.latency,
        "lanes": dut.lanes,
        "magnets_per_lane": dut.magnets,
        "initiation_interval": 1,
        "hard_blocks": {"style": style, "mult18x18d": dut.dsp_blocks, "dp16kd": dut.ram_blocks,
                        **({"simulation_models": [p.name for p in ecp5_blocks.SIM_MODELS.values()],
                            "synthesis_blackboxes": BLACKBOX_FILE,
                            "note": "the SPINTWIN_* cells are ECP5 " + ", ".join(sorted(set(ecp5_blocks.STANDINS.values())))
                                    + " blocks: rename them in the netlist before nextpnr (boards.synth does)"}
                           if style == "ecp5" else {})},
        "config": d.table,
        "formats": {k: {"width": f.width, "frac": f.frac} for k, f in
                    (("m", c.m_fmt), ("h", c.h_fmt), ("dm", c.dm_fmt), ("norm", c.norm_fmt), ("drive", c.drive_fmt),
                     ("noise", model.noise_fmt))},
        "constants": {k: {"int": model.ints[k], "frac": model.fmts[k].frac,
                          "value": model.fmts[k].to_float(model.ints[k]).item()} for k in model.ints},
        "normalised": {"h_norm_A_per_m": model.k.nm.h_norm, "dtau": model.k.nm.dtau, "sigma_h": model.k.nm.sigma_h,
                       "b_per_amp": model.k.nm.b_per_amp, "easy_axis": model.k.nm.easy_axis, "p_axis": model.k.nm.p_axis,
                       **({"drive2": {"b_per_amp": model.k.nm2.b_per_amp, "p_axis": model.k.nm2.p_axis,
                                      "p_sign": model.k.nm2.p_sign}} if model.two_drives else {})},
        "noise": {"uniforms": noise.n_uniforms, "uniform_bits": noise.uniform_bits, "lfsr_width": noise.lfsr_width,
                  "latency": noise.latency, "variance": float(noise.variance)},
    }


def _verify(d: MacrospinDesign, req: Request, echo) -> dict:
    from tb import macrospin_launch

    from .config import DEFAULT_CONFIG

    _schedule(d, req.style)
    lanes = d.model.cfg.lanes
    mode = "trace" if req.trace else "batch"
    steps = 10000 if req.steps is None else req.steps
    echo(f"co-simulating {steps} steps x {lanes} lanes of macrospin on {req.sim} ({mode}, {req.style} blocks, "
         f"seed {d.seed}) ...")
    launch = macrospin_launch.run_per_cycle if req.trace else macrospin_launch.run_batch
    path = Path(d.config_path or DEFAULT_CONFIG)
    run = launch(d.model, d.noise, sim=req.sim, seed=d.seed, magnet_steps=steps * lanes,
                 env={"MS_CONFIG": str(path.resolve())}, case=f"verify-{mode}-{req.sim}-{d.seed}-{req.style}",
                 blocks=req.style)
    return {"block": "macrospin", "sim": req.sim, "seed": d.seed, "mode": mode, "blocks": req.style,
            "magnet_steps": run.metrics.get("magnet_steps"), "cycles": run.metrics.get("cycles"),
            "cycles_per_s": run.metrics.get("cycles_per_s"), "bit_exact": True,
            "waves": str(run.waves) if run.waves else None}


def _synth(d: MacrospinDesign, target: str) -> dict:
    # On ECP5 products and deep delay memories are MULT18X18D / DP16KD blocks with their own
    # registers (hdl.ecp5_blocks; co-simulated bit-exact like the generic RTL); the multi-lane
    # integrator fills most of an ECP5-85F: nextpnr's router2 finishes it where router1 takes hours.
    ecp5 = target.startswith("ecp5")
    return {"component": _component(d, "ecp5" if ecp5 else "generic"), "top": "macrospin",
            "router": "router2" if ecp5 else None, "freq_mhz": MACROSPIN_FREQ_MHZ if ecp5 else None,
            "seed": int(d.table.get("synth_seed", 1)), "timeout_s": 5400.0}


def _summary(m: dict) -> str:
    return f"latency {m['latency']}, {m['lanes']} lane(s) x {m['magnets_per_lane']} magnets"


BLOCK = Block(
    name="macrospin", help="the pipelined stochastic macrospin integrator ([twin.macrospin])",
    table="twin.macrospin", design=_design, component=_component, verilog=_verilog, manifest=_manifest,
    verify=_verify, synth=_synth, summary=_summary, styles=("generic", "ecp5"), check=_check,
)
