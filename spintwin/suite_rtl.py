"""The suite's networks through the RTL inference core (issue 18's must-show): for each problem
of ``configs/suite.toml`` (:mod:`spintwin.suite`), the twin's bit-accurate network (kind
``twin-if``, the suite's own steps and input rate) is checked against the core's limits
(:func:`quantize.core.check_core_network`: up to 256 channels per layer, ...) and against the
device's memory (:func:`hdl.core_engine.memory_bits` against
:func:`boards.build.memory_shortfall`); a problem that fits is co-simulated bit-exact (spike
signatures, counts, prediction and cycle count, ``tb.core_launch``) on its first test inputs,
and, on request, synthesised (Yosys + nextpnr: resources, fmax, images/s at fmax); one that
does not gets one line naming the limit it exceeds.

``spintwin suite --out DIR --rtl N [--sim S] [--synth]`` writes ``DIR/suite_rtl.json`` (atomic):
a list with, per problem, ``name``, ``topology``, ``synapses``, ``memory_kbit``, ``fits`` and
``reason`` (None, or the limit), ``verify`` (None, or ``{sim, inputs, bit_exact, cycles_per_image,
seconds, rtl_pred, model_pred}``) and ``synth`` (None, or the resources and fmax).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from spinbase.errors import MismatchError, SpintwinError
from spinbase.fileio import atomic_write_json, prepare_out_dir

from .suite import load_problems, problem_data, problem_network

__all__ = ["DEFAULT_RTL_INPUTS", "core_fit", "rtl_problem", "run_suite_rtl"]

#: Test inputs per problem co-simulated by default.
DEFAULT_RTL_INPUTS = 3


def twin_network(desc, spec: dict):
    """The problem's bit-accurate twin (``twin-if``, the suite's steps and input rate)."""
    from quantize.snn import QuantConfig, build_network

    return build_network(desc, QuantConfig(kind="twin-if", steps=spec["steps"], input_rate=spec["input_rate"]))


def core_fit(net, target: str = "ecp5-85f") -> tuple[int | None, str | None]:
    """``(memory bits, reason)`` of the core of ``net`` on ``target``: the reason is None when
    the core can run the network and its memories may fit the device, else one line naming the
    limit (the core's architecture, or the device's memory)."""
    from boards.build import memory_shortfall
    from hdl.core_engine import memory_bits

    try:
        bits = memory_bits(net)
    except ValueError as e:
        return None, f"the core cannot run it: {' '.join(str(e).split())}"
    why = memory_shortfall(bits, target)
    return bits, (f"does not fit the {target}: {why}" if why else None)


#: Limit of one problem's synthesis (Yosys + nextpnr), s.
SYNTH_TIMEOUT_S = 3600.0


def _synth(net, target: str, timeout_s: float) -> dict:
    from boards.synth import SynthError, synthesize
    from hdl.core import SnnCore

    try:
        res = synthesize(SnnCore(net), "snn_core", target=target, timeout_s=timeout_s)
    except SynthError as e:            # one line, without the work folder's path
        return {"error": str(e).splitlines()[0].split(" (raise timeout_s")[0]}
    keep = ("lut", "ff", "dsp", "bram", "fmax_mhz", "fits", "fits_reason", "timing_met", "cached")
    return {k: res.get(k) for k in keep}


def rtl_problem(spec: dict, out: Path, inputs: int = DEFAULT_RTL_INPUTS, *, sim: str = "verilator",
                synth: bool = False, target: str = "ecp5-85f", synth_timeout_s: float = SYNTH_TIMEOUT_S,
                echo=print) -> dict:
    """One problem through the core (module docstring); JSON-ready. A real model-vs-RTL
    difference is recorded (``bit_exact`` False, ``mismatch`` its first difference), not raised."""
    from quantize.core import core_layers, cycles_exact, trace
    from tb import core_launch

    (x_tr, y_tr), (x_te, _) = problem_data(spec)
    desc, _ = problem_network(spec, out, x_tr, y_tr, echo)
    net = twin_network(desc, spec)
    topology = "-".join(str(v) for v in [int(np.prod(desc.input.shape))]
                        + [int(L.out_features) for L in desc.layers if hasattr(L, "out_features")])
    synapses = int(sum(int(np.prod(L.weight.shape)) for L in desc.layers if hasattr(L, "out_features")))
    bits, reason = core_fit(net, target)
    row = {"name": spec["name"], "topology": topology, "synapses": synapses, "steps": spec["steps"],
           "memory_kbit": None if bits is None else bits / 1024, "target": target, "fits": reason is None,
           "reason": reason, "verify": None, "synth": None}
    if reason:
        echo(f"  {spec['name']}: {reason}")
        return row
    n = min(int(inputs), len(x_te))
    x = x_te[:n]
    model, layers = trace(net, x), core_layers(net)
    t0 = time.perf_counter()
    ver = {"sim": sim, "inputs": n, "model_pred": [int(it["pred"]) for it in model],
           "model_cycles": [int(cycles_exact(layers, it)) for it in model]}
    try:
        r = core_launch.run(spec["name"], sim=sim, images=n, steps=spec["steps"], net=net, x=x)
        ver.update(bit_exact=True, rtl_pred=r.metrics.get("accuracy_pred"), cycles_per_image=r.metrics.get("cycles_per_image"))
    except MismatchError as e:
        ver.update(bit_exact=False, mismatch=str(e).splitlines()[0])
    ver["seconds"] = time.perf_counter() - t0
    row["verify"] = ver
    echo(f"  {spec['name']}: {n} inputs x {spec['steps']} steps on {sim}: "
         + ("bit-exact" if ver["bit_exact"] else f"MISMATCH ({ver['mismatch']})"))
    if synth:
        echo(f"  {spec['name']}: synthesising the core for {target}")
        row["synth"] = s = _synth(net, target, synth_timeout_s)
        if s.get("fmax_mhz"):
            s["images_per_s_at_fmax"] = s["fmax_mhz"] * 1e6 / float(np.mean(ver["model_cycles"]))
    return row


def run_suite_rtl(out, inputs: int = DEFAULT_RTL_INPUTS, *, sim: str = "verilator", problems=None, config=None,
                  synth: bool = False, target: str = "ecp5-85f", synth_timeout_s: float = SYNTH_TIMEOUT_S,
                  echo=print) -> list:
    """Every problem (or those named) through the core; writes ``out/suite_rtl.json``. The
    trained networks are the suite's (cached under ``out/weights``, trained here if missing)."""
    if isinstance(inputs, bool) or not isinstance(inputs, int) or inputs < 1:
        raise SpintwinError(f"--rtl must be an integer >= 1, not {inputs!r}")
    if sim not in ("verilator", "icarus"):
        raise SpintwinError(f"--sim must be verilator or icarus, not {sim!r}")
    out = prepare_out_dir(out)
    rows = [rtl_problem(spec, out, inputs, sim=sim, synth=synth, target=target, synth_timeout_s=synth_timeout_s, echo=echo)
            for spec in load_problems(config, problems)]
    atomic_write_json(out / "suite_rtl.json", rows)
    return rows
