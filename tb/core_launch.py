"""Launcher of the SNN core co-simulation (tb.core_tb), shared by the tests and the flow."""

from __future__ import annotations

from pathlib import Path

from boards.export import export_verilog
from spinbase.errors import SpintwinError
from tb.harness_top import FAST_VERILATOR_ARGS, clocked_top
from tb.mismatch import first_line, replay_on_mismatch
from tb.runner import run_cocotb

__all__ = ["WAIVERS", "CORE_WAIVERS", "MNIST_TEST_IMAGES", "check_inputs", "core_verilog", "run"]

#: Images in the MNIST test split the testbench reads (spinbase.data.load_mnist).
MNIST_TEST_IMAGES = 10_000

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
        h.update(repr((layer.in_shape, layer.out_shape, layer.leak_shift, getattr(layer.geo, "padding", 0))).encode())
        if layer.recurrent:
            h.update(b"recurrent")
        if layer.bias is not None:
            h.update(layer.bias.tobytes())
    h.update(repr((net.threshold, net.floor, net.vmax, net.lut_shift)).encode())
    if net.lut is not None:
        h.update(net.lut.tobytes())
    return h.hexdigest()


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_inputs(*, images, steps, first: int = 0) -> None:
    """Refuse inputs the co-simulation cannot run, with one line (SpintwinError), before any
    build: ``steps`` must fit the core's ``steps`` port (``hdl.core.COUNT_BITS`` bits; the
    per-class spike counters have the same width), the images must exist in the MNIST test
    split (``first .. first + images - 1`` < :data:`MNIST_TEST_IMAGES`)."""
    from hdl.core import COUNT_BITS

    if not (_is_int(steps) and 1 <= steps < 1 << COUNT_BITS):
        raise SpintwinError(f"steps must be an integer in 1..{(1 << COUNT_BITS) - 1} (the core's "
                            f"{COUNT_BITS}-bit step counter), not {steps!r}")
    if not (_is_int(images) and images >= 1):
        raise SpintwinError(f"images must be an integer >= 1, not {images!r}")
    if not (_is_int(first) and first >= 0):
        raise SpintwinError(f"the first image must be an integer >= 0, not {first!r}")
    if first + images > MNIST_TEST_IMAGES:
        raise SpintwinError(f"images {first}..{first + images - 1} do not exist: the MNIST test set has "
                            f"{MNIST_TEST_IMAGES} (0..{MNIST_TEST_IMAGES - 1})")


def run(network: str, *, sim: str, images: int, steps: int, seed: int = 1, first: int = 0, env: dict | None = None,
        case: str | None = None, net=None, x=None):
    """Batch co-simulation of MNIST test images ``first .. first + images - 1``; on a mismatch,
    replay the first differing image with the spike-event trace and raise a MismatchError
    naming the first differing step, layer, position and channel (ToolFailure when a run gives
    no verdict; SpintwinError for inputs out of range, before any build).

    A user's network: ``net`` (its description ``net.network`` and formats ``net.cfg``; its
    ``steps`` are used) with its inputs ``x`` (N, H, W[, C]) in [0, 1]; the testbench reads both
    from files written for the run (``first``, ``images`` index ``x``)."""
    from quantize.core import trained_network

    if x is not None:
        return _run_user(net, x, sim=sim, images=images, first=first, env=env, case=case)
    check_inputs(images=images, steps=steps, first=first)
    from dataclasses import asdict

    given = net is not None
    net = net or trained_network(network, steps, seed)
    built = core_verilog(net)
    env = {"CORE_NETWORK": network, "CORE_STEPS": steps, "CORE_SEED": seed, "CORE_FIRST": first,
           "CORE_IMAGES": images, **(env or {})}
    if given:  # a design's own formats reach the testbench as data (quantize.core.network_from_config)
        env["CORE_CONFIG"] = asdict(net.cfg)
    return _cosim(built, env, sim=sim, seed=seed, first=first, case=case)


def _run_user(net, x, *, sim, images, first, env, case):
    """``run`` for a user's network: the description and inputs go to the testbench as files."""
    import tempfile
    from dataclasses import asdict

    import numpy as np

    from golden.network import save

    if net is None or net.network is None:
        raise SpintwinError("a co-simulation on your own inputs needs the network they run on (net=)")
    x = np.asarray(x)
    if not (_is_int(images) and images >= 1 and _is_int(first) and first >= 0 and first + images <= len(x)):
        raise SpintwinError(f"images {first}..{first + images - 1} do not exist: the inputs hold {len(x)}")
    built = core_verilog(net)
    with tempfile.TemporaryDirectory(prefix="spintwin-core-") as tmp:
        net_file = save(net.network, Path(tmp) / "network.npz")
        x_file = Path(tmp) / "inputs.npy"
        np.save(x_file, x)
        env = {"CORE_NETWORK_FILE": str(net_file), "CORE_IMAGES_FILE": str(x_file), "CORE_CONFIG": asdict(net.cfg),
               "CORE_FIRST": first, "CORE_IMAGES": images, **(env or {})}
        return _cosim(built, env, sim=sim, seed=net.cfg.seed, first=first, case=case)


def _cosim(built, env: dict, *, sim: str, seed: int, first: int, case: str | None):
    """One batch run of tb.core_tb on the core's Verilog ``built`` (:func:`core_verilog`'s
    (verilog, wrapper, top)) with ``env``; on a mismatch, replay the first differing image in
    trace mode (``CORE_MODE=trace``) so the error names its first differing step."""
    verilog, wrapper, top = built
    build = [WAIVERS, CORE_WAIVERS, *FAST_VERILATOR_ARGS] if sim == "verilator" else ()
    args = dict(sim=sim, seed=seed, build_args=build)
    sources = [verilog, wrapper]
    return replay_on_mismatch(
        lambda: run_cocotb(sources, top, "tb.core_tb", env=env, case=case, **args),
        lambda e: run_cocotb(sources, top, "tb.core_tb",
                             env={**env, "CORE_MODE": "trace", "CORE_IMAGE": _first_bad_image(e, first)},
                             case=f"{case or 'run'}-trace", **args),
        label=lambda e: f"image {_first_bad_image(e, first)}: ")


def _first_bad_image(error: BaseException, default: int) -> int:
    import re

    found = re.search(r"image (\d+):", str(error))
    return int(found.group(1)) if found else default


_first_line = first_line  # the old private name
