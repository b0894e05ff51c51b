"""cocotb testbench for :class:`hdl.lfsr.LfsrBank` against :class:`quantize.lfsr.LfsrBank`,
launched by ``tests/test_cosim_blocks.py`` through :func:`tb.runner.run_cocotb`.

Structure (one pass, see :mod:`tb.runner` for why it is not a coroutine per component):

* **driver**: :func:`make_stimulus` precomputes ``en`` (random stalls: independent drops and
  bursts) and ``reseed`` (one double pulse and single pulses) from the cocotb seed;
  :func:`tb.runner.run_cycles` applies them, one cycle per falling edge.
* **monitor**: :func:`tb.runner.run_cycles` samples the ``bits`` port every cycle;
  :func:`unpack_fields` splits it into lanes (``ArrayLayout``: lane 0 in the LSBs).
* **reference**: :func:`steps_since_reseed` maps the drive onto the model's word index, and
  the vectorised model (``LfsrBank(cfg).run``) gives every expected word up front.
* **scoreboard**: in order, all cycles at once, :func:`tb.runner.first_mismatch` names the
  first differing cycle, lane and field with both values.

Timing, in :func:`tb.runner.run_cycles`' convention (row ``i`` is sampled after rising
edge ``i``): the LFSR has latency 0 and resets to its seeds, so the word seen in row ``i``
is word ``n_i`` of the model's stream, ``n_i`` the number of enabled edges since reset or
the last reseed, edge ``i`` included (a reseed edge sets ``n`` to 0 whatever ``en`` is).

Parameters (environment, via ``run_cocotb(env=...)``, JSON):
``LFSR_CONFIG`` (required; ``{"width", "lanes", "bits_per_cycle", "master_seed"}``, the
config the Verilog was built from), ``LFSR_CYCLES`` (default 10,000), ``LFSR_ENABLE_P``
(probability of ``en`` outside stall bursts, default 0.8), ``LFSR_RESEEDS`` (reseed pulses,
default 2: the first is two cycles long), ``LFSR_CORRUPT`` (``[cycle, lane]``: flip the
reference's LSB there, a self-test that mismatches are reported). The stimulus seed is
cocotb's ``COCOTB_RANDOM_SEED``.
"""

from __future__ import annotations

import time

import cocotb
import numpy as np

from quantize.lfsr import LfsrBank, LfsrConfig
from tb.cocotb_helpers import report_metrics, reset, run_cycles, start_clock, tb_param
from tb.mismatch import check, first_mismatch

__all__ = ["corrupt", "make_stimulus", "steps_since_reseed", "unpack_fields"]

FIELDS = ["bits"]


def make_stimulus(rng: np.random.Generator, cycles: int, p_en: float = 0.8,
                  reseeds: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Random ``en`` stalls and ``reseed`` pulses for *cycles* cycles.

    ``en`` is Bernoulli(*p_en*) with, on top, one stall burst (1..64 cycles) per ~2,000
    cycles, so both single-cycle holds and long ones occur. ``reseed`` has *reseeds* pulses
    at random cycles in the middle 80 % of the run; the first lasts two cycles (reseed
    while the state already is the seed). ``en`` stays random during reseeds, which take
    priority over it.

    Returns
    -------
    en, reseed : numpy.ndarray of int64, shape (cycles,), values 0/1
    """
    en = (rng.random(cycles) < p_en).astype(np.int64)
    bursts = max(1, cycles // 2000)
    starts = rng.integers(0, cycles, size=bursts)
    ends = np.minimum(starts + rng.integers(1, 65, size=bursts), cycles)
    depth = np.zeros(cycles + 1, dtype=np.int64)
    np.add.at(depth, starts, 1)
    np.add.at(depth, ends, -1)
    en[np.cumsum(depth)[:cycles] > 0] = 0
    reseed = np.zeros(cycles, dtype=np.int64)
    if reseeds > 0 and cycles >= 10:
        at = np.sort(rng.choice(np.arange(cycles // 10, cycles * 9 // 10 - 1), size=reseeds,
                                replace=False))
        reseed[at] = 1
        reseed[at[0] + 1] = 1
    return en, reseed


def steps_since_reseed(en: np.ndarray, reseed: np.ndarray) -> np.ndarray:
    """Enabled clock edges since reset or the last reseed, after each cycle's edge.

    ``n[i] = 0`` if ``reseed[i]``, else ``n[i - 1] + en[i]`` (``n[-1] = 0``: reset): the
    model's word (LFSR) or ``run()`` row (noise) that the RTL shows in row ``i`` of
    :func:`tb.runner.run_cycles`. Vectorised.

    Returns
    -------
    numpy.ndarray of int64, shape (cycles,)
    """
    en = np.asarray(en, dtype=np.int64)
    reseed = np.asarray(reseed, dtype=np.int64) != 0
    total = np.cumsum(np.where(reseed, 0, en))
    cycle = np.arange(len(en))
    last = np.maximum.accumulate(np.where(reseed, cycle, -1))  # last reseed at or before i
    base = np.where(last >= 0, total[np.maximum(last, 0)], 0)
    return total - base


def unpack_fields(raw: np.ndarray, count: int, width: int, signed: bool = False) -> np.ndarray:
    """Split one sampled port into *count* fields of *width* bits, field 0 in the LSBs.

    Parameters
    ----------
    raw : numpy.ndarray, shape (cycles,), int64 or object (Python ints, ports > 63 bits)
    signed : bool
        Read each field as two's complement.

    Returns
    -------
    numpy.ndarray of int64, shape (cycles, count)
    """
    if width > 63:
        raise ValueError(f"fields of {width} bits do not fit int64")
    nbytes = (count * width + 7) // 8
    # Bytes, then bits: linear in the port width, no Python-level work per field.
    blob = b"".join(int(v).to_bytes(nbytes, "little") for v in raw)
    bits = np.unpackbits(np.frombuffer(blob, dtype=np.uint8).reshape(len(raw), nbytes),
                         axis=1, bitorder="little")[:, :count * width]
    weights = np.int64(1) << np.arange(width, dtype=np.int64)
    out = bits.reshape(len(raw), count, width).astype(np.int64) @ weights
    if signed:
        out -= (out >> (width - 1)) << width
    return out


def corrupt(expected: np.ndarray, where) -> None:
    """Flip the LSB of ``expected[tuple(where)]`` in place (the negative self-test)."""
    if where is not None:
        expected[tuple(int(i) for i in where)] ^= 1


@cocotb.test()
async def lfsr_bank_matches_model(dut):
    cfg = LfsrConfig(**tb_param("LFSR_CONFIG"))
    cycles = int(tb_param("LFSR_CYCLES", 10_000))
    p_en = float(tb_param("LFSR_ENABLE_P", 0.8))
    reseeds = int(tb_param("LFSR_RESEEDS", 2))
    port_width = cfg.lanes * cfg.bits_per_cycle
    assert len(dut.bits) == port_width, (
        f"the design's bits port has {len(dut.bits)} bits; {cfg} needs {port_width}")

    # Driver stimulus and reference, both before the first clock.
    t0 = time.perf_counter()
    rng = np.random.default_rng(cocotb.RANDOM_SEED)
    en, reseed = make_stimulus(rng, cycles, p_en, reseeds)
    index = steps_since_reseed(en, reseed)
    expected = LfsrBank(cfg).run(int(index.max()) + 1)[index][:, :, None]
    corrupt(expected, tb_param("LFSR_CORRUPT"))
    model_s = time.perf_counter() - t0

    dut.en.value = 0
    dut.reseed.value = 0
    start_clock(dut.clk)
    await reset(dut, dut.clk, dut.rst)

    t0 = time.perf_counter()
    raw = await run_cycles(dut.clk, {dut.en: en, dut.reseed: reseed}, [dut.bits])
    seconds = time.perf_counter() - t0
    actual = unpack_fields(raw[:, 0], cfg.lanes, cfg.bits_per_cycle)[:, :, None]
    report_metrics(cycles=cycles, seconds=seconds, cycles_per_s=cycles / seconds,
                   model_s=model_s, enabled=int(en.sum()), reseeds=int(reseed.sum()))
    dut._log.info("%d cycles in %.3f s: %.0f cycles/s (model %.2f s)", cycles, seconds,
                  cycles / seconds, model_s)

    msg = first_mismatch(expected, actual, FIELDS)
    check(msg and f"{cfg}: {msg}")
