"""cocotb test for :class:`tb.smoke_counter.SmokeCounter`, launched by
``tests/test_tb_runner.py`` through :func:`tb.runner.run_cocotb`.

A difference is reported with :func:`tb.mismatch.check` (a MismatchError, the runner's only
verdict); ``SMOKE_RAISE`` (a self-test of the verdicts) raises FileNotFoundError instead, as a
testbench that lost a file would.

Parameters (environment, via ``run_cocotb(env=...)``):
``SMOKE_CYCLES`` (default 1000), ``SMOKE_ENABLE_P`` (probability of ``en``, default 0.75),
``SMOKE_RAISE`` (a file name to open, which should not exist), ``SMOKE_CORRUPT_CYCLE`` (flip
the reference's count LSB at that cycle: a self-test that mismatches are reported). The stimulus seed is cocotb's ``COCOTB_RANDOM_SEED``.
"""

from __future__ import annotations

import time

import cocotb
import numpy as np

from tb.cocotb_helpers import report_metrics, reset, run_cycles, start_clock, tb_param
from tb.mismatch import check, first_mismatch
from tb.smoke_counter import smoke_model

FIELDS = ["count", "lfsr"]


@cocotb.test()
async def smoke_counter_matches_model(dut):
    cycles = int(tb_param("SMOKE_CYCLES", 1000))
    p_en = float(tb_param("SMOKE_ENABLE_P", 0.75))
    corrupt = tb_param("SMOKE_CORRUPT_CYCLE")
    missing = tb_param("SMOKE_RAISE")

    rng = np.random.default_rng(cocotb.RANDOM_SEED)
    en = (rng.random(cycles) < p_en).astype(np.int64)
    expected = smoke_model(en)
    if corrupt is not None:
        expected[int(corrupt), 0] ^= 1

    dut.en.value = 0
    start_clock(dut.clk)
    await reset(dut, dut.clk, dut.rst)

    t0 = time.perf_counter()
    actual = await run_cycles(dut.clk, {dut.en: en}, [dut.count, dut.lfsr])
    seconds = time.perf_counter() - t0
    report_metrics(cycles=cycles, seconds=seconds, cycles_per_s=cycles / seconds)
    if missing:
        open(str(missing)).close()  # FileNotFoundError: a testbench failure, not a verdict
    dut._log.info("%d cycles in %.3f s: %.0f cycles/s", cycles, seconds, cycles / seconds)

    # One lane: (cycles, lanes=1, fields).
    msg = first_mismatch(expected[:, None, :], actual[:, None, :], FIELDS)
    check(msg)
