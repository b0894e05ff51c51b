"""Flow steps of the SNN inference core: generate (Verilog + manifest, lint), verify (bit-exact
co-simulation on MNIST test images) and synth (resources and fmax on the iCE40 UP5K / ECP5-85F).

Networks: ``cnn-if`` (network 1 on DW crossbars, twin-if), ``cnn-stochastic`` (network 2,
p-bit MTJ neurons), ``cmos-if`` (the CMOS baseline). Each function raises
:class:`spinbase.errors.SpintwinError` with one line on a user error or a mismatch.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from spinbase.errors import SpintwinError
from spinbase.fileio import atomic_write_json, atomic_write_text

__all__ = ["NETWORKS", "generate_core", "verify_core", "synth_core", "TARGETS"]

NETWORKS = ("cnn-if", "cnn-stochastic", "cmos-if")
TARGETS = ("ecp5-85f", "ice40-up5k")
_TOP = "snn_core"


def _network(network: str, steps: int | None = None, seed: int = 1):
    from quantize.core import trained_network

    if network not in NETWORKS:
        raise SpintwinError(f"--network must be one of {', '.join(NETWORKS)}, not {network!r}")
    try:
        return trained_network(network, steps, seed)
    except FileNotFoundError as e:
        raise SpintwinError(f"no trained weights for {network}: {e}") from None


def _lint(vpath: Path, waivers: list[Path]) -> dict:
    from tb.runner import ToolError, verilator_env

    try:
        info = verilator_env()
    except ToolError as e:
        raise SpintwinError(f"lint needs Verilator: {e}") from None
    proc = subprocess.run([str(info.executable), "--lint-only", "-Wall", *map(str, waivers), str(vpath)],
                          capture_output=True, text=True, env=info.env)
    log = (proc.stdout + proc.stderr).strip()
    return {"clean": proc.returncode == 0 and "%Warning" not in log, "log": log[-4000:],
            "command": "verilator --lint-only -Wall " + " ".join(w.name for w in waivers) + " " + vpath.name}


def generate_core(network: str, out_dir, *, run_lint: bool = True) -> dict:
    """Write ``snn_core.v``, ``snn_core.manifest.json`` and the waiver files to ``out_dir``;
    returns the manifest (ports, layer geometry and widths, neuron constants, cycle model)."""
    from amaranth.hdl import Shape

    from hdl.core import PIX_PER_BEAT, SnnCore
    from quantize.core import ENC_CYCLES, IMAGE_OVERHEAD, STEP_OVERHEAD
    from tb.core_launch import CORE_WAIVERS, WAIVERS, core_verilog

    net = _network(network)
    core = SnnCore(net)
    core._MustUse__silence = True          # described here; the Verilog comes from core_verilog
    out = Path(out_dir)
    vpath = atomic_write_text(out / f"{_TOP}.v", core_verilog(net)[0])
    waivers = [Path(WAIVERS), Path(CORE_WAIVERS)]
    for w in waivers:
        shutil.copyfile(w, out / w.name)
    cfg = net.cfg
    manifest = {
        "block": "core", "network": network, "kind": cfg.kind, "top": _TOP,
        "ports": [{"name": n, "direction": mb.flow.name.lower(), "width": Shape.cast(mb.shape).width}
                  for n, mb in core.signature.members.items()] + [{"name": "clk", "direction": "in", "width": 1},
                                                                  {"name": "rst", "direction": "in", "width": 1}],
        "pixels_per_beat": PIX_PER_BEAT, "beats_per_image": -(-784 // PIX_PER_BEAT),
        "layers": [{"name": L.name, "kind": L.kind, "in_shape": list(L.in_shape), "pool_input": L.pool_input,
                    "out_hw": list(L.out_hw), "rows": L.rows, "columns": L.n, "row_tiles": L.tiles,
                    "shift": L.shift, **w} for L, w in zip(core.layers, core.widths)],
        "neuron": {"threshold": net.threshold, "floor": net.floor, "vmax": net.vmax,
                   "lut": None if net.lut is None else [int(v) for v in net.lut], "lut_shift": net.lut_shift},
        "config": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__},
        "cycle_model": {"enc_cycles": ENC_CYCLES, "step_overhead": STEP_OVERHEAD, "image_overhead": IMAGE_OVERHEAD,
                        "doc": "quantize.core.cycles_exact"},
    }
    if run_lint:
        manifest["lint"] = _lint(vpath, waivers)
    atomic_write_json(out / f"{_TOP}.manifest.json", manifest)
    if run_lint and not manifest["lint"]["clean"]:
        first = next((ln for ln in manifest["lint"]["log"].splitlines() if ln.startswith("%")), "lint failed")
        raise SpintwinError(f"{_TOP}.v is not lint-clean: {first}")
    return manifest


def verify_core(network: str, sim: str = "verilator", images: int = 10, seed: int = 1, *, steps: int | None = None,
                first: int = 0, echo=print) -> dict:
    """Bit-exact co-simulation of MNIST test images ``first .. first + images - 1``; raises
    SpintwinError naming the first differing image, step, layer, position and channel."""
    from tb import core_launch
    from tb.runner import simulator_available

    if sim not in ("verilator", "icarus"):
        raise SpintwinError(f"--sim must be verilator or icarus, not {sim!r}")
    if images < 1:
        raise SpintwinError(f"--images must be >= 1, not {images}")
    ok, why = simulator_available(sim)
    if not ok:
        raise SpintwinError(f"{sim} is not available: {why}")
    net = _network(network, steps, seed)
    t0 = time.perf_counter()
    try:
        r = core_launch.run(network, sim=sim, images=images, steps=net.cfg.steps, seed=seed, first=first, net=net)
    except AssertionError as e:
        raise SpintwinError(f"core {network} on {sim}: mismatch: {str(e).splitlines()[0]}") from None
    out = {"network": network, "sim": sim, "images": images, "steps": net.cfg.steps, "seed": seed, "bit_exact": True,
           "seconds": time.perf_counter() - t0, **{k: r.metrics.get(k) for k in
                                                   ("cycles", "cycles_per_s", "seconds_per_image", "cycles_per_image")}}
    if echo:
        echo(f"core {network}: {images} images x {net.cfg.steps} steps bit-exact on {sim} "
             f"({out['cycles_per_s'] or 0:.0f} cycles/s)")
    return out


def synth_core(network: str = "cnn-if", target: str = "ecp5-85f", *, out_dir=None, freq_mhz: float | None = None,
               timeout_s: float = 3600.0) -> dict:
    """Synthesise, place and route the core (``boards.synth.synthesize``): resources, fmax,
    whether it fits, and images/s at fmax from the analytical cycle count (first 20 test images)."""
    from boards.synth import SynthError, synthesize
    from hdl.core import SnnCore

    if target not in TARGETS:
        raise SpintwinError(f"--target must be one of {', '.join(TARGETS)}, not {target!r}")
    net = _network(network)
    try:
        res = synthesize(SnnCore(net), _TOP, target=target, out_dir=out_dir, freq_mhz=freq_mhz, timeout_s=timeout_s)
    except SynthError as e:
        raise SpintwinError(f"synth core {network} on {target}: {e}") from None
    keep = ("target", "device", "lut", "ff", "dsp", "bram", "fmax_mhz", "fits", "fits_reason", "capacity", "io",
            "timing_met", "runtime_s", "cached")
    out = {"network": network, **{k: res.get(k) for k in keep}}
    cyc = _cycles_per_image(net)
    out["cycles_per_image"] = cyc
    out["images_per_s_at_fmax"] = (res["fmax_mhz"] * 1e6 / cyc) if res.get("fmax_mhz") else None
    return out


def _cycles_per_image(net, images: int = 20) -> float:
    from quantize.core import cycles_per_image
    from quantize.snn import run
    from spinbase.data import load_mnist

    x = load_mnist()[1][0][:images]
    res = run(net, x)
    return cycles_per_image(net, {k: v / images for k, v in res["spikes"].items()})
