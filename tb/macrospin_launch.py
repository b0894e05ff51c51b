"""Launchers of the macrospin co-simulations, shared by the tests and ``spintwin verify``.

Inputs are checked up front, before any export or build, against what exists: the batch
harness counts its cycle budget in a 32-bit register (``hdl.harness.StreamSelfTest.cycles``),
and the per-cycle testbench holds its whole stimulus in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

from boards.export import export_verilog
from spinbase.errors import SpintwinError
from tb.harness_top import FAST_VERILATOR_ARGS, clocked_top
from tb.mismatch import first_line, replay_on_mismatch
from tb.runner import run_cocotb

__all__ = ["HARNESS_CYCLE_BITS", "WAIVERS", "batch_cycles", "block_sources", "check_steps", "run_batch",
           "run_per_cycle"]

WAIVERS = str(Path(__file__).resolve().parent.parent / "hdl" / "verilator_waivers.vlt")
#: Width of the self-test harness's cycle budget register (hdl.harness.StreamSelfTest).
HARNESS_CYCLE_BITS = 32
_first_line = first_line  # the old private name (tb.stdp_core_launch imported it)


def batch_cycles(model, magnet_steps: int) -> int:
    """Cycle budget for about ``magnet_steps`` magnet-steps: the harness offers and accepts
    with probability 7/8 each (quantize.harness defaults); 5 % and 200 cycles of margin."""
    return int(magnet_steps / model.cfg.lanes / (7 / 8) ** 2 * 1.05) + 200


def _per_cycle_cycles(model, magnet_steps: int) -> int:
    """Cycles tb.macrospin_tb simulates for ``magnet_steps`` (its own formula, latency bound
    by the magnets per lane; handshake probabilities 0.9 each)."""
    beats = -(-magnet_steps // model.cfg.lanes)
    latency = model.cfg.magnets
    return int((beats + latency + 8) / 0.81) + 4 * latency + 64


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_steps(model, magnet_steps, *, mode: str = "batch") -> None:
    """Refuse a magnet-step count the co-simulation cannot run, with one line (SpintwinError).

    Batch mode: the cycle budget must fit the harness's 32-bit register. Per-cycle mode: the
    stimulus and samples (about ``24 * lanes + 300`` bytes a cycle: int64 codes, resets and
    handshakes, a Python int payload and two sampled bit strings) must fit in this machine's
    memory.
    """
    if isinstance(magnet_steps, bool) or not isinstance(magnet_steps, int) or magnet_steps < 1:
        raise SpintwinError(f"steps must be an integer >= 1, not {magnet_steps!r}")
    k = model.cfg.lanes
    if mode == "batch":
        limit = (1 << HARNESS_CYCLE_BITS) - 1
        if batch_cycles(model, magnet_steps) > limit:
            most = int((limit - 200) / 1.05 * (7 / 8) ** 2) * k
            raise SpintwinError(
                f"--steps {magnet_steps // k} x {k} lanes needs more than {limit} cycles, the limit of the "
                f"self-test harness's {HARNESS_CYCLE_BITS}-bit cycle counter: at most {most // k} steps")
        return
    memory = _memory_bytes()
    need = _per_cycle_cycles(model, magnet_steps) * (24 * k + 300)
    if memory is not None and need > memory:
        raise SpintwinError(f"--steps {magnet_steps // k} in per-cycle (trace) mode needs about {need / 2**30:.0f} GiB "
                            f"of stimulus in memory, more than this machine's {memory / 2**30:.0f} GiB: use "
                            "batch mode or fewer steps")


def block_sources(blocks: str) -> list:
    """Verilog the integrator's ``blocks`` style needs besides its own (the ECP5 blocks' models)."""
    from hdl import ecp5_blocks

    return list(ecp5_blocks.SIM_MODELS.values()) if blocks == "ecp5" else []


def run_batch(model, noise, *, sim: str, seed: int, magnet_steps: int, env: dict, case: str | None = None,
              blocks: str = "generic"):
    """Batch co-simulation (tb.macrospin_selftest_tb): the integrator inside the on-chip
    self-test harness and a clock generated in the design. ``env`` names the configuration
    (``MS_CASE``, or ``MS_CONFIG``: turned into ``MS_MODEL`` data here) and any testbench
    parameter; ``blocks`` the integrator's block style (``hdl.macrospin.MacrospinIntegrator``).

    Raises MismatchError (replayed per cycle to name the first differing beat, lane and field),
    ToolFailure, or SpintwinError for ``magnet_steps`` out of range (before any build)."""
    from hdl.macrospin import selftest_harness

    check_steps(model, magnet_steps, mode="batch")
    env = _model_env(model, noise, env)
    harness = selftest_harness(model, noise, seed, blocks=blocks)
    verilog = [export_verilog(harness, "selftest"), *block_sources(blocks)]
    top, wrapper = clocked_top(harness, "selftest")
    env = {"MS_LFSR_SEED": seed, "MS_CYCLES": batch_cycles(model, magnet_steps), **env}
    args = dict(sim=sim, seed=seed, build_args=[WAIVERS, *FAST_VERILATOR_ARGS] if sim == "verilator" else ())
    sources = [*verilog, wrapper]
    return replay_on_mismatch(
        lambda: run_cocotb(sources, top, "tb.macrospin_selftest_tb", env=env, case=case, **args),
        # A fresh simulator on the same stimulus with a per-cycle trace (the state memories have no reset).
        lambda _: run_cocotb(sources, top, "tb.macrospin_selftest_tb", env={**env, "MS_MODE": "trace"},
                             case=f"{case or 'run'}-trace", **args))


def run_per_cycle(model, noise, *, sim: str, seed: int, magnet_steps: int, env: dict, case: str | None = None,
                  blocks: str = "generic"):
    """Per-cycle co-simulation (tb.macrospin_tb): Python writes the stimulus every cycle."""
    from hdl.macrospin import MacrospinIntegrator

    check_steps(model, magnet_steps, mode="per-cycle")
    env = _model_env(model, noise, env)
    verilog = [export_verilog(MacrospinIntegrator(model, noise, blocks=blocks), "macrospin"), *block_sources(blocks)]
    beats = -(-magnet_steps // model.cfg.lanes)
    return run_cocotb(verilog, "macrospin", "tb.macrospin_tb", sim=sim, seed=seed,
                      env={"MS_BEATS": beats, "MS_LFSR_SEED": seed, **env},
                      build_args=[WAIVERS] if sim == "verilator" else (), case=case)


def _model_env(model, noise, env: dict) -> dict:
    """``env`` with ``MS_CONFIG`` (a design TOML path, the old interface) replaced by the
    model itself as data (``MS_MODEL``): the testbench does not parse configuration files."""
    from tb.macrospin_cases import model_to_json

    env = dict(env)
    if env.pop("MS_CONFIG", None) is not None:
        env["MS_MODEL"] = model_to_json(model, noise)
    return env
