"""The SNN inference core's flow steps by network name: thin wrappers of ``spintwin.flow`` over
the registry's ``core`` block (kept for callers that name a network, e.g. the demo and bench).

Networks: ``cnn-if`` (network 1 on DW crossbars, twin-if), ``cnn-stochastic`` (network 2,
p-bit MTJ neurons), ``cmos-if`` (the CMOS baseline); a design file's [core] table gives any
formats (``spintwin generate core --config design.toml``).
"""

from __future__ import annotations

from spinbase.errors import SpintwinError

from .block_core import CoreDesign, core_quant_config
from .blocks import Request
from .config import CORE_NETWORKS

__all__ = ["NETWORKS", "TARGETS", "generate_core", "verify_core", "synth_core"]

NETWORKS = CORE_NETWORKS
TARGETS = ("ecp5-85f", "ice40-up5k")


def _cfg(network: str, steps=None, seed=None) -> dict:
    if network not in NETWORKS:
        raise SpintwinError(f"--network must be one of {', '.join(NETWORKS)}, not {network!r}")
    return {"core": {"network": network, "steps": steps, "seed": seed}}


def generate_core(network: str, out_dir, *, run_lint: bool = True) -> dict:
    """Write ``snn_core.v``, its manifest and waiver files for a built-in network."""
    from .flow import generate

    return generate("core", _cfg(network), out_dir, run_lint=run_lint)


def verify_core(network: str, sim: str = "verilator", images: int = 10, seed: int = 1, *, steps: int | None = None,
                first: int = 0, echo=print) -> dict:
    """Bit-exact co-simulation of MNIST test images ``first .. first + images - 1``."""
    from .block_core import BLOCK
    from .flow import verify

    if first:
        _, qcfg = core_quant_config({}, network=network, steps=steps, seed=seed)
        return BLOCK.verify(CoreDesign(network, qcfg), Request(sim=sim, images=images), echo, first=first)
    return verify("core", sim=sim, steps=steps, seed=seed, echo=echo, req=Request(network=network, images=images),
                  cfg=_cfg(network))


def synth_core(network: str = "cnn-if", target: str = "ecp5-85f", *, out_dir=None, freq_mhz: float | None = None,
               timeout_s: float = 3600.0) -> dict:
    """Resources, fmax, fit and images/s at fmax of a built-in network's core."""
    from .flow import synth

    over = {"out_dir": out_dir, "freq_mhz": freq_mhz, "timeout_s": timeout_s}
    return synth("core", _cfg(network), target=target, req=Request(network=network),
                 overrides={k: v for k, v in over.items() if v is not None})

