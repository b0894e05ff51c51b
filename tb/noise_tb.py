"""cocotb testbench for :class:`hdl.noise.GaussianNoise` against
:class:`quantize.noise.GaussianNoise`, launched by ``tests/test_cosim_blocks.py`` through
:func:`tb.runner.run_cocotb`.

Same structure as :mod:`tb.lfsr_tb` (whose stimulus, index and unpacking helpers it uses):

* **driver**: precomputed ``en`` stalls and ``reseed`` pulses (:func:`tb.lfsr_tb.make_stimulus`),
  applied by :func:`tb.runner.run_cycles`.
* **monitor**: the ``samples`` port sampled every cycle and split into lanes and x, y, z
  (``ArrayLayout`` of ``StructLayout``: lane-major from the LSB, x lowest, each
  ``out_fmt.width`` bits, two's complement).
* **reference**: the vectorised model. ``GaussianNoise(cfg).run(n + 1)[n]`` is the output
  after ``n`` enabled edges since reset or reseed (zeros while ``n < latency``, then the
  samples of LFSR word ``n - latency``); stalls hold the pipeline and reseed clears it, so
  row ``i`` of :func:`tb.runner.run_cycles` shows ``run(...)[steps_since_reseed(...)[i]]``.
* **scoreboard**: in order, :func:`tb.runner.first_mismatch` over (cycles, lanes, x/y/z).

Parameters (environment, via ``run_cocotb(env=...)``, JSON):
``NOISE_CONFIG`` (required; the ``NoiseConfig`` fields the Verilog was built from),
``NOISE_CYCLES`` (default 10,000), ``NOISE_ENABLE_P`` (default 0.8), ``NOISE_RESEEDS``
(default 2), ``NOISE_CORRUPT`` (``[cycle, lane, component]``, component 0..2 for x, y, z:
flip the reference's LSB there). The stimulus seed is cocotb's ``COCOTB_RANDOM_SEED``.
"""

from __future__ import annotations

import time

import cocotb
import numpy as np

from quantize.noise import COMPONENTS, GaussianNoise, NoiseConfig
from tb.lfsr_tb import corrupt, make_stimulus, steps_since_reseed, unpack_fields
from tb.cocotb_helpers import report_metrics, reset, run_cycles, start_clock, tb_param
from tb.mismatch import check, first_mismatch

FIELDS = list(COMPONENTS)


@cocotb.test()
async def gaussian_noise_matches_model(dut):
    cfg = NoiseConfig(**tb_param("NOISE_CONFIG"))
    cycles = int(tb_param("NOISE_CYCLES", 10_000))
    p_en = float(tb_param("NOISE_ENABLE_P", 0.8))
    reseeds = int(tb_param("NOISE_RESEEDS", 2))
    w = cfg.out_fmt.width
    port_width = cfg.lanes * len(COMPONENTS) * w
    assert len(dut.samples) == port_width, (
        f"the design's samples port has {len(dut.samples)} bits; {cfg} needs {port_width}")

    t0 = time.perf_counter()
    rng = np.random.default_rng(cocotb.RANDOM_SEED)
    en, reseed = make_stimulus(rng, cycles, p_en, reseeds)
    index = steps_since_reseed(en, reseed)
    expected = GaussianNoise(cfg).run(int(index.max()) + 1)[index]  # (cycles, lanes, 3)
    corrupt(expected, tb_param("NOISE_CORRUPT"))
    model_s = time.perf_counter() - t0

    dut.en.value = 0
    dut.reseed.value = 0
    start_clock(dut.clk)
    await reset(dut, dut.clk, dut.rst)

    t0 = time.perf_counter()
    raw = await run_cycles(dut.clk, {dut.en: en, dut.reseed: reseed}, [dut.samples])
    seconds = time.perf_counter() - t0
    actual = unpack_fields(raw[:, 0], cfg.lanes * len(COMPONENTS), w, signed=True)
    actual = actual.reshape(cycles, cfg.lanes, len(COMPONENTS))
    report_metrics(cycles=cycles, seconds=seconds, cycles_per_s=cycles / seconds,
                   model_s=model_s, enabled=int(en.sum()), reseeds=int(reseed.sum()),
                   max_abs=int(np.abs(actual).max()))
    dut._log.info("%d cycles in %.3f s: %.0f cycles/s (model %.2f s)", cycles, seconds,
                  cycles / seconds, model_s)

    msg = first_mismatch(expected, actual, FIELDS)
    check(msg and f"{cfg}: {msg}")
