"""Launchers of the macrospin co-simulations, shared by the tests and ``spintwin verify``."""

from __future__ import annotations

from pathlib import Path

from tb.harness_top import FAST_VERILATOR_ARGS, clocked_top
from tb.runner import export_verilog, run_cocotb

__all__ = ["WAIVERS", "run_batch", "run_per_cycle", "batch_cycles", "block_sources"]

WAIVERS = str(Path(__file__).resolve().parent.parent / "hdl" / "verilator_waivers.vlt")


def batch_cycles(model, magnet_steps: int) -> int:
    """Cycle budget for about ``magnet_steps`` magnet-steps: the harness offers and accepts
    with probability 7/8 each (quantize.harness defaults); 5 % and 200 cycles of margin."""
    return int(magnet_steps / model.cfg.lanes / (7 / 8) ** 2 * 1.05) + 200


def block_sources(blocks: str) -> list:
    """Verilog the integrator's ``blocks`` style needs besides its own (the ECP5 blocks' models)."""
    from hdl import ecp5_blocks

    return list(ecp5_blocks.SIM_MODELS.values()) if blocks == "ecp5" else []


def run_batch(model, noise, *, sim: str, seed: int, magnet_steps: int, env: dict, case: str | None = None,
              blocks: str = "generic"):
    """Batch co-simulation (tb.macrospin_selftest_tb): the integrator inside the on-chip
    self-test harness and a clock generated in the design. ``env`` names the configuration
    (``MS_CASE`` or ``MS_CONFIG``) and any testbench parameter; ``blocks`` the integrator's
    block style (``hdl.macrospin.MacrospinIntegrator``)."""
    from hdl.macrospin import selftest_harness

    harness = selftest_harness(model, noise, seed, blocks=blocks)
    verilog = [export_verilog(harness, "selftest"), *block_sources(blocks)]
    top, wrapper = clocked_top(harness, "selftest")
    env = {"MS_LFSR_SEED": seed, "MS_CYCLES": batch_cycles(model, magnet_steps), **env}
    args = dict(sim=sim, seed=seed, build_args=[WAIVERS, *FAST_VERILATOR_ARGS] if sim == "verilator" else ())
    try:
        return run_cocotb([*verilog, wrapper], top, "tb.macrospin_selftest_tb", env=env, case=case, **args)
    except AssertionError as batch_error:
        # Replay the same stimulus with a per-cycle trace to name the first differing beat.
        try:
            run_cocotb([*verilog, wrapper], top, "tb.macrospin_selftest_tb", env={**env, "MS_MODE": "trace"},
                       case=f"{case or 'run'}-trace", **args)
        except AssertionError as trace_error:
            raise AssertionError(f"{_first_line(trace_error)} [batch: {_first_line(batch_error)}]") from None
        raise


def run_per_cycle(model, noise, *, sim: str, seed: int, magnet_steps: int, env: dict, case: str | None = None,
                  blocks: str = "generic"):
    """Per-cycle co-simulation (tb.macrospin_tb): Python writes the stimulus every cycle."""
    from hdl.macrospin import MacrospinIntegrator

    verilog = [export_verilog(MacrospinIntegrator(model, noise, blocks=blocks), "macrospin"), *block_sources(blocks)]
    beats = -(-magnet_steps // model.cfg.lanes)
    return run_cocotb(verilog, "macrospin", "tb.macrospin_tb", sim=sim, seed=seed,
                      env={"MS_BEATS": beats, "MS_LFSR_SEED": seed, **env},
                      build_args=[WAIVERS] if sim == "verilator" else (), case=case)


def _first_line(error: BaseException) -> str:
    text = str(error)
    marker = "failed on "
    if marker in text:  # "cocotb test ... failed on SIM (seed S): MESSAGE"
        text = text.split("): ", 1)[-1]
    return text.splitlines()[0]
