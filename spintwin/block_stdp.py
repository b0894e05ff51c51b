"""Registry entry of the STDP learning core (network 3; quantize.stdp / quantize.stdp_core,
hdl.stdp_core, tb.stdp_core_launch). Its design is network 3's defaults at ``--neurons``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spinbase.errors import SpintwinError
from spinbase.fileio import atomic_write_text

from .blocks import Block, Request

__all__ = ["BLOCK", "StdpDesign", "MAX_NEURONS", "TRAIN_IMAGES"]

#: Bounds of the command line: the MNIST training set, and neurons of the co-simulated core.
TRAIN_IMAGES = 60000
MAX_NEURONS = 1024
WAIVERS = Path(__file__).resolve().parent.parent / "hdl" / "verilator_waivers.vlt"


@dataclass(frozen=True)
class StdpDesign:
    cfg: object
    lanes: int

    @property
    def top(self) -> str:
        return f"stdp_core_n{self.cfg.neurons}_l{self.lanes}"


def _design(cfg: dict, req: Request) -> StdpDesign:
    from quantize.stdp_core import default_neuron_lanes
    from tb.stdp_core_launch import small_config

    if not 1 <= req.neurons <= MAX_NEURONS:
        raise SpintwinError(f"--neurons must be in 1..{MAX_NEURONS}, not {req.neurons}")
    try:
        c = small_config(req.neurons, 1 if req.seed is None else req.seed)
        return StdpDesign(c, default_neuron_lanes(req.neurons))
    except ValueError as e:
        raise SpintwinError(f"core stdp: {e}") from None


def _component(d: StdpDesign, style: str = "generic"):
    from hdl.stdp_core import StdpCore
    from quantize.stdp_core import CoreLayout

    return StdpCore(CoreLayout(d.cfg, 784, d.lanes))


def _verilog(d: StdpDesign, style: str, out: Path):
    import shutil

    from tb.stdp_core_launch import VERILATOR_ARGS

    from .flow import export_verilog

    vpath = atomic_write_text(out / f"{d.top}.v", export_verilog(_component(d), d.top))
    shutil.copyfile(WAIVERS, out / WAIVERS.name)
    return d.top, vpath, [], [WAIVERS, *(a for a in VERILATOR_ARGS if a.startswith("-Wno-"))]


def _manifest(d: StdpDesign, dut, style: str) -> dict:
    from tb.stdp_core_launch import config_to_json

    return {"network": "stdp", "neurons": d.cfg.neurons, "neuron_lanes": d.lanes, "config": config_to_json(d.cfg)}


def _verify(d: StdpDesign, req: Request, echo) -> dict:
    from tb.stdp_core_launch import verify_stdp_core

    if not 1 <= req.images <= TRAIN_IMAGES:
        raise SpintwinError(f"--images must be in 1..{TRAIN_IMAGES} (MNIST training images), not {req.images}")
    res = verify_stdp_core(req.sim, req.images, d.cfg.seed, neurons=d.cfg.neurons)
    return {"network": "stdp", "sim": req.sim, "images": req.images, "neurons": d.cfg.neurons, "bit_exact": True,
            **{k: v for k, v in res.items() if isinstance(v, (int, float, str))}}


def _synth(d: StdpDesign, target: str) -> dict:
    # router2: nextpnr's default router1 did not finish the 225-neuron core in 40 minutes
    return {"component": _component(d), "top": d.top, "timeout_s": 3600.0, "router": "router2"}


BLOCK = Block(
    name="stdp", help="the STDP learning core (network 3, on-chip learning; also `core --network stdp`)",
    table=None, design=_design, component=_component, verilog=_verilog, manifest=_manifest, verify=_verify,
    synth=_synth, summary=lambda m: f"{m['neurons']} neurons x {m['neuron_lanes']} lanes", networks=("stdp",),
)
