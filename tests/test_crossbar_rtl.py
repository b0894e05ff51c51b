"""Amaranth-simulator equivalence of the crossbar tile (hdl.crossbar) with quantize.snn.tile_output."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hdl.crossbar import CrossbarTile, tile_widths
from quantize.snn import tile_output


def _simulate(dut, vectors, rng):
    """Feed each vector's nonzero rows as events (random order, random gaps, random output
    back-pressure); return the emitted vectors and the cycles used."""
    got = []

    async def bench(ctx):
        cycle = 0
        for counts in vectors:
            rows = rng.permutation(np.nonzero(counts)[0]).tolist()
            events = [(r, int(counts[r]), 0) for r in rows] or [(0, 0, 0)]
            events[-1] = events[-1][:2] + (1,)
            out = {}
            i = 0
            while len(out) < dut.cols:
                valid = i < len(events) and rng.random() < 0.8
                ctx.set(dut.i_event.valid, valid)
                if i < len(events):
                    r, n, last = events[i]
                    ctx.set(dut.i_event.payload.row, r)
                    ctx.set(dut.i_event.payload.count, n)
                    ctx.set(dut.i_event.payload.last, last)
                ready = rng.random() < 0.7
                ctx.set(dut.o_out.ready, ready)
                taken = valid and ctx.get(dut.i_event.ready)
                if ctx.get(dut.o_out.valid) and ready:
                    out[ctx.get(dut.o_out.payload.col)] = ctx.get(dut.o_out.payload.y)
                await ctx.tick()
                cycle += 1
                i += int(taken)
            got.append([out[j] for j in range(dut.cols)])
        ctx.set(dut.i_event.valid, 0)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got, dtype=np.int64)


@pytest.mark.parametrize("rows,cols,count_bits,levels", [(32, 32, 1, 16), (25, 6, 1, 16), (13, 7, 3, 256)])
def test_tile_equals_model(rows, cols, count_bits, levels):
    rng = np.random.default_rng(rows * 100 + cols)
    k = rng.integers(-(levels - 1), levels, (rows, cols))
    c = rng.integers(1, 1024, cols)
    shift = 7
    vectors = [rng.integers(0, 2 ** count_bits, rows) * (rng.random(rows) < 0.4) for _ in range(6)]
    vectors.append(np.zeros(rows, dtype=np.int64))          # a flush: no input at all
    vectors.append(np.full(rows, 2 ** count_bits - 1))       # every row at its maximum count
    dut = CrossbarTile(k, c, shift, count_bits)
    got = _simulate(dut, vectors, rng)
    want = tile_output(k, c, shift, np.array(vectors))
    np.testing.assert_array_equal(got, want)


def test_widths_hold_the_extremes():
    k = np.array([[15, -15], [15, -15]])
    kw, aw, yw = tile_widths(k, np.array([1023, 1023]), 7, 1)
    assert kw == 5 and aw == 6      # codes in [-15, 15], acc in [-30, 30]: 5 bits + sign
    assert yw == 9                  # (30 * 1023 + 64) >> 7 = 240 and -240: 8 bits + sign


def test_bad_arguments():
    with pytest.raises(ValueError, match="shift must be >= 1"):
        CrossbarTile(np.ones((2, 2)), np.ones(2), 0)
