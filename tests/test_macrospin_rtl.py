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
from tb.mismatch import first_mismatch


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

    model, noise_cfg, _ = build_case("default_n103")
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


@pytest.mark.parametrize(("width", "depth"), [(7, 16), (13, 40), (9, 37)])
def test_lane_buffer_against_a_queue(width, depth):
    """The result buffer (generic style; the ecp5 style's block RAM is co-simulated) against a
    Python queue, cycle by cycle: a word written in cycle t can be read from t + LATENCY; a
    read commanded in cycle c shows the oldest unread word on ``r_data`` in cycle c +
    READ_LATENCY. Reads are commanded only for readable words and writes only while the
    buffer has room (the integrator's output controller keeps both rules); the pattern fills
    and drains it."""
    from collections import deque

    from hdl.macrospin import _LaneBuffer

    dut = _LaneBuffer(width, depth)
    rng = np.random.default_rng(depth)
    errors, seen = [], {"reads": 0, "full": 0}

    async def bench(ctx):
        stored, pending = deque(), deque()  # readable words; (cycle readable, word) in flight
        shows = {}  # cycle -> the word r_data must show then
        for cycle in range(3000):
            while pending and pending[0][0] <= cycle:
                stored.append(pending.popleft()[1])
            if cycle in shows and ctx.get(dut.r_data) != shows[cycle]:
                errors.append(f"cycle {cycle}: r_data {ctx.get(dut.r_data)}, expected {shows[cycle]}")
                break
            rd = bool(stored) and bool(rng.random() < (0.3 if cycle % 600 < 300 else 0.9))
            held = len(stored) + len(pending)
            w_en = bool(rng.random() < 0.7) and held < dut.depth
            seen["full"] += held == dut.depth
            word = int(rng.integers(0, 1 << width))
            ctx.set(dut.rd, rd)
            ctx.set(dut.w_en, w_en)
            ctx.set(dut.w_data, word)
            if rd:
                shows[cycle + _LaneBuffer.READ_LATENCY] = stored.popleft()
                seen["reads"] += 1
            if w_en:
                pending.append((cycle + _LaneBuffer.LATENCY, word))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert not errors, errors[0]
    assert seen["reads"] > 1000 and seen["full"] > 0  # the pattern did fill and drain it


def test_first_result_comes_after_exactly_latency_cycles():
    """Input valid and output ready from the start: the first beat accepted (cycle 1, after
    the state memory's priming cycle) is offered ``latency`` cycles later, not sooner or later,
    and then one beat a cycle follows (the output side sustains the full rate)."""
    model, noise_cfg, span = build_case("pma_k2", seed=2)
    dut = MacrospinIntegrator(model, noise_cfg)
    first, valid_run = [], []

    async def bench(ctx):
        ctx.set(dut.o_state.ready, 1)
        ctx.set(dut.i_drive.valid, 1)
        accepted_at = None
        for cycle in range(dut.latency + 300):
            if accepted_at is None and ctx.get(dut.i_drive.ready):
                accepted_at = cycle
            v = ctx.get(dut.o_state.valid)
            if v and not first:
                first.append(cycle - accepted_at)
            if first:
                valid_run.append(v)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert first == [dut.latency]
    assert all(valid_run)
