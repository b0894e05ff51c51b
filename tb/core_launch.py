"""Launcher of the SNN core co-simulation (tb.core_tb), shared by the tests and the flow."""

from __future__ import annotations

from pathlib import Path

from tb.harness_top import FAST_VERILATOR_ARGS, clocked_top
from tb.runner import export_verilog, run_cocotb

__all__ = ["WAIVERS", "CORE_WAIVERS", "core_verilog", "run"]

WAIVERS = str(Path(__file__).resolve().parent.parent / "hdl" / "verilator_waivers.vlt")
#: The core's own waiver (hdl/core_waivers.vlt documents it).
CORE_WAIVERS = str(Path(__file__).resolve().parent.parent / "hdl" / "core_waivers.vlt")


_EXPORTS: dict = {}


def core_verilog(net) -> tuple[str, str, str]:
    """(core Verilog, clocked wrapper Verilog, wrapper top name) of ``hdl.core.SnnCore(net)``;
    exported once per process for a given network (the export takes tens of seconds)."""
    from hdl.core import SnnCore

    key = _design_key(net)
    if key not in _EXPORTS:
        core = SnnCore(net)
        verilog = export_verilog(core, "snn_core", emit_src=False)   # no line numbers: stable cache key
        top, wrapper = clocked_top(core, "snn_core")
        _EXPORTS[key] = (verilog, wrapper, top)
    return _EXPORTS[key]


def _design_key(net) -> str:
    """What the RTL depends on: every layer's codes, the neuron constants and the config less
    ``steps`` (a run-time port)."""
    import hashlib
    from dataclasses import asdict

    h = hashlib.sha256(repr(sorted((k, v) for k, v in asdict(net.cfg).items() if k != "steps")).encode())
    for layer in net.layers:
        for a in (layer.k, layer.c):
            h.update(a.tobytes())
        h.update(f"{layer.name}{layer.shift}{layer.tile}{layer.pool_input}".encode())
    h.update(repr((net.threshold, net.floor, net.vmax, net.lut_shift)).encode())
    if net.lut is not None:
        h.update(net.lut.tobytes())
    return h.hexdigest()


def run(network: str, *, sim: str, images: int, steps: int, seed: int = 1, first: int = 0, env: dict | None = None,
        case: str | None = None, net=None):
    """Batch co-simulation of MNIST test images ``first .. first + images - 1``; on a mismatch,
    replay the first differing image with the spike-event trace and raise an AssertionError
    naming the first differing step, layer, position and channel."""
    from quantize.core import trained_network

    from dataclasses import asdict

    given = net is not None
    net = net or trained_network(network, steps, seed)
    verilog, wrapper, top = core_verilog(net)
    env = {"CORE_NETWORK": network, "CORE_STEPS": steps, "CORE_SEED": seed, "CORE_FIRST": first,
           "CORE_IMAGES": images, **(env or {})}
    if given:  # a design's own formats reach the testbench as data (quantize.core.network_from_config)
        env["CORE_CONFIG"] = asdict(net.cfg)
    build = [WAIVERS, CORE_WAIVERS, *FAST_VERILATOR_ARGS] if sim == "verilator" else ()
    args = dict(sim=sim, seed=seed, build_args=build)
    try:
        return run_cocotb([verilog, wrapper], top, "tb.core_tb", env=env, case=case, **args)
    except AssertionError as batch_error:
        bad = _first_bad_image(batch_error, first)
        try:
            run_cocotb([verilog, wrapper], top, "tb.core_tb", env={**env, "CORE_MODE": "trace", "CORE_IMAGE": bad},
                       case=f"{case or 'run'}-trace", **args)
        except AssertionError as trace_error:
            raise AssertionError(f"image {bad}: {_first_line(trace_error)} [batch: {_first_line(batch_error)}]") \
                from None
        raise


def _first_bad_image(error: BaseException, default: int) -> int:
    import re

    found = re.search(r"image (\d+):", str(error))
    return int(found.group(1)) if found else default


def _first_line(error: BaseException) -> str:
    text = str(error)
    marker = "failed on "
    if marker in text:  # "cocotb test ... failed on SIM (seed S): MESSAGE"
        text = text.split("): ", 1)[-1]
    return text.splitlines()[0]
