"""Registry entry of the SNN inference core ([core]; quantize.snn / quantize.core, hdl.core,
tb.core_launch): networks ``cnn-if`` (network 1 on DW crossbars), ``cnn-stochastic`` (network
2, p-bit MTJ neurons) and ``cmos-if`` (the CMOS baseline), with any formats of the [core] table.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from spinbase.errors import SpintwinError
from spinbase.fileio import atomic_write_text

from .blocks import Block, Request
from .config import CORE_NETWORKS

__all__ = ["BLOCK", "CoreDesign", "core_quant_config", "core_network", "TEST_IMAGES"]

_TOP = "snn_core"
#: MNIST test images: the bound of ``--images`` (and ``first + images``).
TEST_IMAGES = 10000
#: Each built-in network's own formats (quantize.core.trained_network): kind, steps, input rate.
_NETWORK_DEFAULTS = {"cnn-if": {"kind": "twin-if", "steps": 100, "input_rate": 0.5},
                     "cnn-stochastic": {"kind": "twin-stochastic", "steps": 50},
                     "cmos-if": {"kind": "cmos-if", "steps": 100}}
#: Trained weights behind each kind: the ReLU CNN (normalised per kind) or the sigmoid CNN.
_FAMILY = {"twin-if": "relu", "cmos-if": "relu", "twin-stochastic": "sigmoid"}


@dataclass(frozen=True)
class CoreDesign:
    """A core design: its network name, the frozen QuantConfig and the design file."""

    network: str
    cfg: object
    config_path: Path | None = None


def core_quant_config(table: dict, *, network: str | None = None, steps: int | None = None,
                      seed: int | None = None, path=None):
    """``(network, quantize.snn.QuantConfig)`` of a [core] table; keys left out (None) take the
    network's value; ``network``, ``steps``, ``seed`` (the command line's) override the table.
    A refusal is one line naming the file and the key."""
    from quantize.snn import QuantConfig

    where = f"config {path}: " if path is not None else ""
    network = network or table.get("network") or "cnn-if"
    if network not in CORE_NETWORKS:
        raise SpintwinError(f"--network must be one of {', '.join(CORE_NETWORKS)}, not {network!r}")
    kind = table.get("kind") or _NETWORK_DEFAULTS[network]["kind"]
    if _FAMILY[kind] != _FAMILY[_NETWORK_DEFAULTS[network]["kind"]]:
        ok = [k for k, f in _FAMILY.items() if f == _FAMILY[_NETWORK_DEFAULTS[network]["kind"]]]
        raise SpintwinError(f"{where}'core.kind' must be {' or '.join(map(repr, ok))} for network {network!r} "
                            f"(its trained weights), not {kind!r}")
    canonical = next(n for n, d in _NETWORK_DEFAULTS.items() if d["kind"] == kind)
    values = {**_NETWORK_DEFAULTS[canonical], "seed": 1}
    names = {f.name for f in fields(QuantConfig)}
    values.update({k: v for k, v in table.items() if k in names and v is not None})
    if steps is not None:
        values["steps"] = steps
    if seed is not None:
        values["seed"] = seed
    try:
        return network, QuantConfig(**values)
    except ValueError as e:
        found = re.match(r"QuantConfig\.(\w+) (.*)", str(e))
        if found:
            raise SpintwinError(f"{where}'core.{found.group(1)}' {found.group(2)}") from None
        raise SpintwinError(f"{where}core: {e}") from None


_NETS: dict = {}


def core_network(d: CoreDesign):
    """The bit-accurate network of a design (built once per process and config)."""
    from quantize.core import network_from_config

    if d.cfg not in _NETS:
        try:
            _NETS[d.cfg] = network_from_config(d.cfg)
        except FileNotFoundError as e:
            raise SpintwinError(f"no trained weights for {d.network}: {e}") from None
    return _NETS[d.cfg]


def _design(cfg: dict, req: Request) -> CoreDesign:
    network, qcfg = core_quant_config(cfg["core"], network=req.network, steps=req.steps, seed=req.seed,
                                      path=req.config_path)
    return CoreDesign(network, qcfg, req.config_path)


def _check(cfg: dict, path) -> None:
    core_quant_config(cfg["core"], path=path)


def _component(d: CoreDesign, style: str = "generic"):
    from hdl.core import SnnCore

    try:
        return SnnCore(core_network(d))
    except ValueError as e:
        raise SpintwinError(f"core: {e}") from None


def _verilog(d: CoreDesign, style: str, out: Path):
    from tb.core_launch import CORE_WAIVERS, WAIVERS, core_verilog

    vpath = atomic_write_text(out / f"{_TOP}.v", core_verilog(core_network(d))[0])
    waivers = [Path(WAIVERS), Path(CORE_WAIVERS)]
    for w in waivers:
        shutil.copyfile(w, out / w.name)
    return _TOP, vpath, [], waivers


def _manifest(d: CoreDesign, core, style: str) -> dict:
    from hdl.core import PIX_PER_BEAT
    from quantize.core import ENC_CYCLES, IMAGE_OVERHEAD, STEP_OVERHEAD

    net, cfg = core_network(d), d.cfg
    return {
        "network": d.network, "kind": cfg.kind, "dataset": "mnist",
        "pixels_per_beat": PIX_PER_BEAT, "beats_per_image": -(-784 // PIX_PER_BEAT),
        "layers": [{"name": L.name, "kind": L.kind, "in_shape": list(L.in_shape), "pool_input": L.pool_input,
                    "out_hw": list(L.out_hw), "rows": L.rows, "columns": L.n, "row_tiles": L.tiles,
                    "shift": L.shift, **w} for L, w in zip(core.layers, core.widths)],
        "neuron": {"threshold": net.threshold, "floor": net.floor, "vmax": net.vmax,
                   "lut": None if net.lut is None else [int(v) for v in net.lut], "lut_shift": net.lut_shift},
        "config": asdict(cfg),
        "cycle_model": {"enc_cycles": ENC_CYCLES, "step_overhead": STEP_OVERHEAD, "image_overhead": IMAGE_OVERHEAD,
                        "doc": "quantize.core.cycles_exact"},
    }


def _verify(d: CoreDesign, req: Request, echo, first: int = 0) -> dict:
    import time

    from tb import core_launch

    if not 1 <= req.images <= TEST_IMAGES - first:
        raise SpintwinError(f"--images must be in 1..{TEST_IMAGES - first} (MNIST has {TEST_IMAGES} test images), "
                            f"not {req.images}")
    net = core_network(d)
    t0 = time.perf_counter()
    r = core_launch.run(d.network, sim=req.sim, images=req.images, steps=d.cfg.steps, seed=d.cfg.seed, first=first,
                        net=net)
    out = {"network": d.network, "sim": req.sim, "images": req.images, "steps": d.cfg.steps, "seed": d.cfg.seed,
           "bit_exact": True, "seconds": time.perf_counter() - t0,
           **{k: r.metrics.get(k) for k in ("cycles", "cycles_per_s", "seconds_per_image", "cycles_per_image")},
           "rtl_pred": r.metrics.get("accuracy_pred")}
    if echo:
        echo(f"core {d.network}: {req.images} images x {d.cfg.steps} steps bit-exact on {req.sim} "
             f"({out['cycles_per_s'] or 0:.0f} cycles/s)")
    return out


def _synth(d: CoreDesign, target: str) -> dict:
    return {"component": _component(d), "top": _TOP, "timeout_s": 3600.0}


def _synth_report(d: CoreDesign, res: dict) -> dict:
    """Images/s at fmax from the analytical cycle count (first 20 test images)."""
    from quantize.core import cycles_per_image
    from quantize.snn import run
    from spinbase.data import load_mnist

    net = core_network(d)
    x = load_mnist()[1][0][:20]
    spikes = run(net, x)["spikes"]
    cyc = cycles_per_image(net, {k: v / 20 for k, v in spikes.items()})
    keep = ("target", "device", "lut", "ff", "dsp", "bram", "fmax_mhz", "fits", "fits_reason", "capacity", "io",
            "timing_met", "runtime_s", "cached")
    return {"network": d.network, **{k: res.get(k) for k in keep}, "cycles_per_image": cyc,
            "images_per_s_at_fmax": (res["fmax_mhz"] * 1e6 / cyc) if res.get("fmax_mhz") else None}


def _summary(m: dict) -> str:
    return f"network {m['network']}, {m['kind']}"


BLOCK = Block(
    name="core", help="the SNN inference core ([core]: cnn-if, cnn-stochastic, cmos-if with any formats)",
    table="core", design=_design, component=_component, verilog=_verilog, manifest=_manifest, verify=_verify,
    synth=_synth, summary=_summary, networks=CORE_NETWORKS, check=_check, extras={"synth_report": _synth_report},
)
