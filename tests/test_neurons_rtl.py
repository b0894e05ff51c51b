"""Amaranth-simulator equivalence of the IF neuron bank (hdl.neurons) with the integer neuron
rule of quantize.snn (clamp, fire at threshold, reset to zero or by subtraction)."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hdl.neurons import IfNeuronBank


def _model(n, beats, threshold, floor, vmax, reset, clear_at):
    v = np.zeros(n, dtype=np.int64)
    out = []
    for i, (j, y) in enumerate(beats):
        if i == clear_at:
            v[:] = 0
        x = min(max(v[j] + y, floor), vmax)
        fire = x >= threshold
        v[j] = (0 if fire else x) if reset == "zero" else (x - threshold if fire else x)
        out.append((j, int(fire), int(v[j])))
    return out


@pytest.mark.parametrize("reset,floor", [("zero", -64), ("subtract", None)])
def test_bank_equals_rule(reset, floor):
    rng = np.random.default_rng(3 if reset == "zero" else 4)
    n, bits, th = 11, 9, 64
    dut = IfNeuronBank(n, bits, 9, th, floor, reset)
    # back-to-back repeats of a neuron are frequent (forwarding), inputs reach both clamps
    idx = np.where(rng.random(600) < 0.3, 3, rng.integers(0, n, 600))
    beats = list(zip(idx.tolist(), rng.integers(-200, 200, 600).tolist()))
    clear_at = 300
    got = []

    async def bench(ctx):
        i = 0
        while len(got) < len(beats):
            if i == clear_at and not getattr(bench, "cleared", False):
                # let the pipeline drain, then clear
                ctx.set(dut.i_in.valid, 0)
                ctx.set(dut.o_spike.ready, 1)
                for _ in range(3):
                    if ctx.get(dut.o_spike.valid):
                        p = ctx.get(dut.o_spike.payload)
                        got.append((p.neuron, p.spike, p.v))
                    await ctx.tick()
                ctx.set(dut.clear, 1)
                await ctx.tick()
                ctx.set(dut.clear, 0)
                await ctx.tick().repeat(n + 1)
                bench.cleared = True
            valid = i < len(beats) and rng.random() < 0.85
            ready = rng.random() < 0.75
            ctx.set(dut.i_in.valid, valid)
            if i < len(beats):
                ctx.set(dut.i_in.payload.neuron, beats[i][0])
                ctx.set(dut.i_in.payload.y, beats[i][1])
            ctx.set(dut.o_spike.ready, ready)
            taken = valid and ctx.get(dut.i_in.ready)
            if ctx.get(dut.o_spike.valid) and ready:
                p = ctx.get(dut.o_spike.payload)
                got.append((p.neuron, p.spike, p.v))
            await ctx.tick()
            i += int(taken)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    want = _model(n, beats, th, dut.floor, dut.vmax, reset, clear_at)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"beat {k}: expected (neuron, spike, v) {w}, got {g}"
    assert len(got) == len(want)
    assert any(s for _, s, _ in want) and any(v == dut.floor for _, _, v in want)


def test_bad_arguments():
    with pytest.raises(ValueError, match="threshold must be in 1..255, not 0"):
        IfNeuronBank(4, 9, 8, 0)
    with pytest.raises(ValueError, match="reset must be"):
        IfNeuronBank(4, 9, 8, 10, reset="leak")


def test_pbit_layer_equals_model():
    """The p-bit layer against quantize.snn._pbit with the model's LFSR draw order, over two
    'images' (a reseed in between) of 3 steps x 5 positions, with back-pressure."""
    from types import SimpleNamespace

    from hdl.neurons import PbitLayer
    from quantize import snn as q
    from quantize.lfsr import LfsrBank

    rng = np.random.default_rng(9)
    cfg = q.QuantConfig(kind="twin-stochastic", lut_addr_bits=5, lut_bits=6, membrane_frac=6)
    lut, lut_shift = q._sigmoid_lut(cfg)
    channels, steps, positions = 4, 3, 5
    dut = PbitLayer(channels, 14, lut, lut_shift, 6, seed=77)
    z = rng.integers(-2000, 2000, (2, steps, positions, channels))
    net = SimpleNamespace(cfg=cfg, lut=lut, lut_shift=lut_shift)
    words = LfsrBank(dut.lfsr).run(steps * positions).reshape(steps, positions, channels)
    want = np.stack([q._pbit(net, z[i], words) for i in range(2)])
    got = np.zeros_like(want)

    async def bench(ctx):
        for img in range(2):
            ctx.set(dut.reseed, 1)
            await ctx.tick()
            ctx.set(dut.reseed, 0)
            for t in range(steps):
                for p in range(positions):
                    for ch in range(channels):
                        ctx.set(dut.i_z.payload[ch], int(z[img, t, p, ch]))
                    ctx.set(dut.i_z.valid, 1)
                    while True:
                        ready = rng.random() < 0.6
                        ctx.set(dut.o_spikes.ready, ready)
                        if ready:
                            bits = ctx.get(dut.o_spikes.payload)
                            got[img, t, p] = [(bits >> ch) & 1 for ch in range(channels)]
                            await ctx.tick()
                            break
                        await ctx.tick()
            ctx.set(dut.i_z.valid, 0)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    np.testing.assert_array_equal(got, want)
    assert 0.1 < want.mean() < 0.9
