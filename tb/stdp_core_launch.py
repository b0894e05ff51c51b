"""Launcher of the STDP learning core co-simulation (tb.stdp_core_tb), shared by the tests and
``spintwin verify core --network stdp``.

The configuration travels to the simulator process as JSON (``SC_CONFIG``: the
:class:`quantize.stdp.QuantStdpConfig` fields; ``SC_N_IN``, ``SC_LANES``: inputs and neuron
lanes); the testbench rebuilds the same core layout and the same images from it.
"""

from __future__ import annotations

from dataclasses import asdict

from boards.export import export_verilog
from spinbase.errors import MismatchError, SpintwinError
from tb.harness_top import FAST_VERILATOR_ARGS, clocked_top
from tb.macrospin_launch import WAIVERS
from tb.mismatch import first_line, replay_on_mismatch
from tb.runner import run_cocotb

#: Verilator arguments of this design: the fast batch set plus one generator-pattern waiver
#: not in hdl/verilator_waivers.vlt: Yosys writes a variable ``word_select`` as a wide ``>>``
#: assigned to a narrow wire and ``x == 0`` as ``!x`` on a multi-bit x (WIDTHTRUNC); both are
#: exact in the Amaranth source.
VERILATOR_ARGS = (*FAST_VERILATOR_ARGS, "-Wno-WIDTHTRUNC")

__all__ = ["VERILATOR_ARGS", "config_to_json", "config_from_json", "small_config", "verify_stdp_core"]


def config_to_json(cfg) -> dict:
    """A QuantStdpConfig as JSON-ready fields (tuples as lists)."""
    d = asdict(cfg)
    d["golden_overrides"] = [[k, list(v) if isinstance(v, tuple) else v] for k, v in cfg.golden_overrides]
    d["lfsr_widths"] = list(cfg.lfsr_widths)
    return d


def config_from_json(d: dict):
    """Inverse of :func:`config_to_json`."""
    from quantize.stdp import QuantStdpConfig

    d = dict(d)
    d["golden_overrides"] = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in d["golden_overrides"])
    d["lfsr_widths"] = tuple(d["lfsr_widths"])
    return QuantStdpConfig(**d)


def small_config(neurons: int = 16, seed: int = 0, variant: str = "binary", **overrides):
    """The co-simulation configuration: network 3's defaults (784 inputs, 350 steps, D&C
    homeostasis) at ``neurons`` neurons; ``overrides`` are QuantStdpConfig fields or golden
    StdpConfig fields (as ``quantize.stdp.run_experiment``)."""
    from quantize.stdp import QuantStdpConfig, split_overrides

    q, g = split_overrides(overrides)
    return QuantStdpConfig(variant=variant, neurons=neurons, seed=seed, golden_overrides=g, **q)


def verify_stdp_core(sim: str, images: int, seed: int, neurons: int = 16, *, variant: str = "binary",
                     neuron_lanes: int | None = None, data: str = "mnist", corrupt: str | None = None,
                     case: str | None = None, replay: bool = True, **overrides) -> dict:
    """Co-simulate the STDP core learning ``images`` training images against
    ``quantize.stdp`` (bit for bit: every step's winner, attempts, counts and theta of every
    image, every device state, column sum and scale at the end).

    ``seed`` is the LFSR master seed and the image order (MNIST permutation as
    ``quantize.stdp.run_experiment``); ``neuron_lanes`` defaults to
    :func:`quantize.stdp_core.default_neuron_lanes`; ``data`` is ``"mnist"`` or
    ``"synthetic"`` (784 seeded pixels, no data set needed); ``corrupt`` (``"winner"``,
    ``"theta"`` or ``"weight"``) perturbs the model to self-test the checker.

    Returns the testbench metrics (cycles, cycles/s, cycles per image, ...). Raises
    MismatchError naming the first difference (image, attempt, step, field, both values); a
    batch run that differs in its weights only is replayed reading the weights back after
    every image, to name the first image whose update differs. ToolFailure when a run gives no
    verdict; SpintwinError for inputs out of range (before any build).
    """
    from hdl.stdp_core import StdpCore
    from quantize.stdp_core import CoreLayout, default_neuron_lanes

    if not (isinstance(images, int) and not isinstance(images, bool) and images >= 1):
        raise SpintwinError(f"images must be an integer >= 1, not {images!r}")
    if data not in ("mnist", "synthetic"):
        raise SpintwinError(f"data must be 'mnist' or 'synthetic', not {data!r}")
    cfg = small_config(neurons, seed, variant, **overrides)
    lanes = default_neuron_lanes(neurons) if neuron_lanes is None else neuron_lanes
    layout = CoreLayout(cfg, 784, lanes)
    core = StdpCore(layout)
    name = f"stdp_core_n{neurons}_l{lanes}"
    verilog = export_verilog(core, name)
    top, wrapper = clocked_top(core, name)
    env = {"SC_CONFIG": config_to_json(cfg), "SC_N_IN": 784, "SC_LANES": lanes, "SC_IMAGES": images,
           "SC_DATA": data, "SC_MODE": "batch"}
    if corrupt is not None:
        env["SC_CORRUPT"] = corrupt
    args = dict(sim=sim, seed=seed, build_args=[WAIVERS, *VERILATOR_ARGS] if sim == "verilator" else ())
    sources = [verilog, wrapper]

    def batch():
        try:
            return run_cocotb(sources, top, "tb.stdp_core_tb", env=env, case=case, **args)
        except MismatchError as e:
            raise MismatchError(first_line(e)) from None   # the message only, as before

    run = replay_on_mismatch(
        batch,
        lambda _: run_cocotb(sources, top, "tb.stdp_core_tb", env={**env, "SC_MODE": "trace"},
                             case=f"{case or 'run'}-trace", **args),
        replay=lambda first: replay and first.startswith("weight"))
    return run.metrics
