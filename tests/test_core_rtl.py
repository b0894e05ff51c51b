"""The SNN core RTL (hdl.core.SnnCore) in the Amaranth simulator against quantize.core.trace:
every layer's spike signature and count, the class counts, the decision and the cycle count,
for the twin (network 1), the CMOS baseline and network 2 (p-bits), on small random networks
(biased so spikes reach the output in the first step and the decision's tie-break is used;
about 6,000 cycles per image, which the Amaranth simulator runs in a few seconds)."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hdl.core import PIX_PER_BEAT, SnnCore
from quantize import core as qc
from quantize import snn as q


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    return {"conv1": (rng.normal(0, 1.0, (6, 1, 5, 5)) + 0.5).astype(np.float32),
            "conv2": (rng.normal(0, 0.5, (12, 6, 5, 5)) + 0.3).astype(np.float32),
            "fc": (rng.normal(0, 1.0, (10, 192)) + 0.1).astype(np.float32)}


def _image(seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((1, 28, 28))
    x[:, 10:16, 9:15] = 0.5 + 0.5 * rng.random((1, 6, 6))
    return x


def simulate(net, x, first: int = 0) -> list[dict]:
    """Run images through the RTL in the Amaranth simulator; results per image."""
    dut = SnnCore(net)
    names = ["input"] + [layer.name for layer in net.layers]
    out = []

    async def bench(ctx):
        for j, image in enumerate(x):
            p = q.pixel_codes(net.cfg, image).reshape(-1)
            s0, s1 = q.encoder_seeds(net.cfg.seed, first + j)
            ctx.set(dut.seed0, s0)
            ctx.set(dut.seed1, s1)
            ctx.set(dut.steps, net.cfg.steps)
            for k in range(0, 784, PIX_PER_BEAT):
                ctx.set(dut.pix_valid, 1)
                ctx.set(dut.pix_data, sum(int(v) << (net.cfg.input_bits * i) for i, v in enumerate(p[k:k + 8])))
                await ctx.tick()
            ctx.set(dut.pix_valid, 0)
            await ctx.tick().until(dut.done)
            sigs, spikes = ctx.get(dut.sigs), ctx.get(dut.spikes)
            out.append({"counts": [(ctx.get(dut.counts) >> (16 * c)) & 0xFFFF for c in range(10)],
                        "pred": ctx.get(dut.pred), "cycles": ctx.get(dut.cycles),
                        "sigs": {n: (sigs >> (32 * i)) & 0xFFFFFFFF for i, n in enumerate(names)},
                        "spikes": {n: (spikes >> (32 * i)) & 0xFFFFFFFF for i, n in enumerate(names)}})

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return out


def _back_to_back(layers, item) -> int:
    """Scatter updates of one word issued in consecutive cycles (the last word of a spike and
    the first of the next spike of the same source position): the read-modify-write hazard
    the accumulator's transparent read port forwards."""
    names = ["input"] + [L.name for L in layers]
    hits = 0
    for prev, layer in zip(names, layers):
        s = item["spikes"][prev]
        w = 28 if prev == "input" else layers[names.index(prev) - 1].out_hw[1]
        for t in range(s.shape[0]):
            for p in np.flatnonzero(s[t].sum(axis=1) > 1):
                chans = np.flatnonzero(s[t, p])
                for a, b in zip(chans[:-1], chans[1:]):
                    hits += layer.words(p // w, p % w, a)[-1][0] == layer.words(p // w, p % w, b)[0][0]
    return hits


def _check(net, x, first=0):
    got = simulate(net, x, first)
    layers = qc.core_layers(net)
    items = qc.trace(net, x, first_image=first)
    for item, g in zip(items, got):
        sig = qc.signatures(item)
        for name, s in item["spikes"].items():
            assert g["spikes"][name] == int(s.sum()), name
            assert g["sigs"][name] == sig[name], name
        assert g["counts"] == [int(v) for v in item["counts"]]
        assert g["pred"] == item["pred"]
        assert g["cycles"] == qc.cycles_exact(layers, item)          # the analytical count, exactly
    return items, got


@pytest.mark.parametrize("kind", ["twin-if", "cmos-if"])
def test_if_cores_equal_the_model_spike_for_spike(kind):
    net = q.build_network(_weights(), q.QuantConfig(kind=kind, steps=1, seed=5))
    items, got = _check(net, _image(), first=7)
    item = items[0]
    assert item["spikes"]["fc"].sum() > 0 and len(set(item["counts"])) > 1   # the output layer is exercised
    assert sorted(item["counts"]).count(max(item["counts"])) > 1              # and the tie-break
    assert _back_to_back(qc.core_layers(net), item) > 0                      # and the forwarding path


def test_stochastic_core_equals_the_model_spike_for_spike():
    """Network 2, one step (about 28,000 cycles: conv1's p-bits fire half the time on the blank
    background, each spike scattering up to 25 words into conv2; ~7 s on an idle core)."""
    net = q.build_network(_weights(), q.QuantConfig(kind="twin-stochastic", steps=1, seed=5))
    items, _ = _check(net, _image(), first=2)
    assert items[0]["spikes"]["fc"].sum() > 0


def test_bad_configs_are_one_clear_error():
    net = q.build_network(_weights(), q.QuantConfig(kind="twin-if", steps=1, encoding="deterministic"))
    with pytest.raises(ValueError, match="QuantConfig.encoding must be 'lfsr', not 'deterministic'"):
        SnnCore(net)
