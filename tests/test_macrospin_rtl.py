"""Amaranth-simulator equivalence of the pipelined integrator with the integer model (exact).

Random input-valid and output-ready stalls, random drive codes and resets; the comparison is
over accepted beats, and a mismatch names the first differing beat, lane and field.
"""

import zlib

import numpy as np
import pytest
from amaranth.sim import Simulator

from hdl.macrospin import MacrospinIntegrator
from quantize.macrospin import reference_stream
from quantize.noise import GaussianNoise
from tb.macrospin_cases import CASES, build_case
from tb.runner import first_mismatch


def _simulate(dut, codes, resets, stall_rng, beats, ready_off=None):
    """Drive the integrator; ``ready_off(cycle)`` True holds output-ready low (bursty stalls)."""
    k = dut.lanes
    got_m, got_sw, got_slot = [], [], []
    overflow = []

    async def bench(ctx):
        n = cycle = 0
        while len(got_m) < beats:
            valid = n < len(codes) and stall_rng.random() < 0.8
            ready = stall_rng.random() < 0.85 and not (ready_off is not None and ready_off(cycle))
            cycle += 1
            ctx.set(dut.o_state.ready, ready)
            ctx.set(dut.i_drive.valid, valid)
            if n < len(codes):
                for lane in range(k):
                    ctx.set(dut.i_drive.payload.lanes[lane].code, int(codes[n, lane]))
                    ctx.set(dut.i_drive.payload.lanes[lane].reset, int(resets[n, lane]))
            accepted = valid and ctx.get(dut.i_drive.ready)
            if ctx.get(dut.o_state.valid) and ready:
                pl = ctx.get(dut.o_state.payload)
                got_m.append([[pl.lanes[l].m.x, pl.lanes[l].m.y, pl.lanes[l].m.z] for l in range(k)])
                got_sw.append([pl.lanes[l].switched for l in range(k)])
                got_slot.append(pl.slot)
            await ctx.tick()
            n += int(accepted)
        overflow.append(ctx.get(dut.overflow))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert overflow == [0], "output FIFO overflowed"
    return np.array(got_m), np.array(got_sw, dtype=bool), np.array(got_slot)


@pytest.mark.parametrize("case", CASES)
def test_rtl_equals_model(case):
    model, noise_cfg, span = build_case(case, seed=7)
    dut = MacrospinIntegrator(model, noise_cfg)
    beats = 8 * model.cfg.magnets + 40
    total = beats + dut.latency + 2
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    codes = rng.integers(-span, span, (total, model.cfg.lanes))
    resets = rng.random((total, model.cfg.lanes)) < 0.03
    ref_m, ref_sw, slots = reference_stream(model, GaussianNoise(noise_cfg).run(total), codes, resets)
    got_m, got_sw, got_slot = _simulate(dut, codes, resets, np.random.default_rng(3), beats)
    msg = first_mismatch(ref_m[:beats], got_m, ["x", "y", "z"])
    assert msg is None, f"{case}: {msg}"
    assert first_mismatch(ref_sw[:beats], got_sw, ["switched"]) is None
    np.testing.assert_array_equal(got_slot, slots[:beats])
    assert not model.saturations, model.saturations


def test_long_output_stalls_lose_no_beat():
    """Output-ready held low for 3x the pipeline depth, again and again: the free-running
    pipeline's results wait in the output FIFO (which never overflows) and stay exact."""
    model, noise_cfg, span = build_case("pma_k2", seed=11)
    dut = MacrospinIntegrator(model, noise_cfg)
    beats = 4 * model.cfg.magnets
    total = beats + dut.latency + 2
    rng = np.random.default_rng(5)
    codes = rng.integers(-span, span, (total, model.cfg.lanes))
    resets = rng.random((total, model.cfg.lanes)) < 0.03
    ref_m, ref_sw, slots = reference_stream(model, GaussianNoise(noise_cfg).run(total), codes, resets)
    period = 3 * dut.latency
    got_m, got_sw, got_slot = _simulate(dut, codes, resets, np.random.default_rng(4), beats,
                                        ready_off=lambda c: (c // period) % 2 == 1)
    assert first_mismatch(ref_m[:beats], got_m, ["x", "y", "z"]) is None
    assert first_mismatch(ref_sw[:beats], got_sw, ["switched"]) is None
    np.testing.assert_array_equal(got_slot, slots[:beats])


def test_too_few_magnets_is_a_clear_error():
    from dataclasses import replace

    from quantize.macrospin import MacrospinModel

    model, noise_cfg, _ = build_case("default_n97")
    cfg = replace(model.cfg, magnets=8)
    small = MacrospinModel(cfg, model.k, model.noise_fmt)
    with pytest.raises(ValueError, match="magnets per lane must be >= pipeline depth"):
        MacrospinIntegrator(small, noise_cfg)


def test_selftest_harness_counts_and_signature_equal_the_model():
    """The on-chip self-test harness (hdl.harness) around the integrator, in the Amaranth
    simulator, against its model (quantize.harness + reference_stream): accepted and emitted
    beat counts and the output signature, exactly, over 400 cycles of a two-lane case."""
    from amaranth.sim import Simulator

    from hdl.macrospin import selftest_harness
    from quantize.harness import signature
    from tb.macrospin_selftest_tb import expected_run

    model, noise_cfg, _ = build_case("pma_k2", seed=5)
    dut = selftest_harness(model, noise_cfg, seed=5)
    cycles = 400
    got = {}

    async def bench(ctx):
        ctx.set(dut.cycles, cycles)
        await ctx.tick().repeat(cycles + 3)
        got.update(done=ctx.get(dut.done), beats_in=ctx.get(dut.beats_in),
                   beats_out=ctx.get(dut.beats_out), sig=ctx.get(dut.sig))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    n_acc, _, words = expected_run(model, noise_cfg, 5, cycles)
    assert got["done"] == 1
    assert got["beats_in"] == n_acc
    assert n_acc - dut.dut.latency - 1 <= got["beats_out"] <= n_acc
    assert got["beats_out"] > 200  # the run got past the pipeline fill
    assert got["sig"] == signature(words[:got["beats_out"]], dut.payload_width)


@pytest.mark.parametrize(("width", "depth", "bank"), [(7, 16, 16), (13, 40, 16), (13, 40, 8), (9, 37, None)])
def test_result_fifo_against_a_queue(width, depth, bank):
    """The banked output FIFO against a Python queue, cycle by cycle: a word written in cycle t
    is offered from t + LATENCY, in order, and ``full`` is exactly "a write now would overwrite
    an unread word" (writes are held back while it is set, as the integrator's bound does)."""
    from collections import deque

    from hdl.macrospin import _ResultFifo

    dut = _ResultFifo(width, depth, bank)
    assert dut.depth == (bank * -(-depth // bank) if bank else depth)
    rng = np.random.default_rng(depth)
    errors, seen = [], {"reads": 0, "full": 0}

    async def bench(ctx):
        stored, pending = deque(), deque()  # readable words; (cycle readable, word) in flight
        for cycle in range(3000):
            while pending and pending[0][0] <= cycle:
                stored.append(pending.popleft()[1])
            r_en = bool(rng.random() < (0.3 if cycle % 600 < 300 else 0.9))
            want_full = len(stored) + len(pending) - (r_en and bool(stored)) >= dut.depth
            ctx.set(dut.r_en, r_en)
            w_en = bool(rng.random() < 0.7)
            word = int(rng.integers(0, 1 << width))
            full = bool(ctx.get(dut.full))
            if full != want_full:
                errors.append(f"cycle {cycle}: full {full}, expected {want_full}")
                break
            seen["full"] += full
            w_en = w_en and not full
            ctx.set(dut.w_en, w_en)
            ctx.set(dut.w_data, word)
            rdy = bool(ctx.get(dut.r_rdy))
            if rdy != bool(stored):
                errors.append(f"cycle {cycle}: r_rdy {rdy}, expected {bool(stored)}")
                break
            if rdy and r_en:
                got, want = ctx.get(dut.r_data), stored.popleft()
                seen["reads"] += 1
                if got != want:
                    errors.append(f"cycle {cycle}: r_data {got}, expected {want}")
                    break
            if w_en:
                pending.append((cycle + _ResultFifo.LATENCY, word))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert not errors, errors[0]
    assert seen["reads"] > 1000 and seen["full"] > 0  # the pattern did fill and drain it
