"""SnnCore in the Amaranth simulator against the integer model (shared by test_core_rtl and
test_core_general): every layer's spike signature and count, the class counts, the decision and
the cycle count."""

from amaranth.sim import Simulator

from hdl.core import PIX_PER_BEAT, SnnCore
from quantize import core as qc
from quantize import snn as q

__all__ = ["simulate", "check"]


def simulate(net, x, first: int = 0, forwarding: dict | None = None) -> list[dict]:
    """Run inputs x (B, H, W[, C]) through SnnCore(net) in the Amaranth simulator: per image
    the class counts, decision, cycles, and every layer's signature and spike count.
    ``forwarding``: a dict that receives ``{(layer, distance): cycles}``, the cycles in which
    a scatter engine forwarded the sum of the write 1 or 2 cycles before its own."""
    dut = SnnCore(net)
    names = ["input"] + [layer.name for layer in net.layers]
    b = net.cfg.input_bits
    out = []

    async def bench(ctx):
        for j, image in enumerate(x):
            p = q.pixel_codes(net.cfg, image).reshape(-1)        # raster order (y, x, c)
            s0, s1 = q.encoder_seeds(net.cfg.seed, first + j)
            ctx.set(dut.seed0, s0)
            ctx.set(dut.seed1, s1)
            ctx.set(dut.steps, net.cfg.steps)
            for k in range(0, len(p), PIX_PER_BEAT):
                ctx.set(dut.pix_valid, 1)
                ctx.set(dut.pix_data, sum(int(v) << (b * i) for i, v in enumerate(p[k:k + PIX_PER_BEAT])))
                await ctx.tick()
            ctx.set(dut.pix_valid, 0)
            await ctx.tick().until(dut.done)
            sigs, spikes = ctx.get(dut.sigs), ctx.get(dut.spikes)
            out.append({"counts": [(ctx.get(dut.counts) >> (16 * c)) & 0xFFFF for c in range(net.classes)],
                        "pred": ctx.get(dut.pred), "cycles": ctx.get(dut.cycles),
                        "sigs": {n: (sigs >> (32 * i)) & 0xFFFFFFFF for i, n in enumerate(names)},
                        "spikes": {n: (spikes >> (32 * i)) & 0xFFFFFFFF for i, n in enumerate(names)}})

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    if forwarding is not None:
        keys = [(name, dist) for name, _, _ in dut.forwarding for dist in (1, 2)]
        flags = [f for _, f1, f2 in dut.forwarding for f in (f1, f2)]

        async def count(ctx):
            async for _, *values in ctx.tick().sample(*flags):
                for key, v in zip(keys, values):
                    if v:
                        forwarding[key] = forwarding.get(key, 0) + 1
        sim.add_process(count)
    sim.run()
    return out


def check(net, x, first: int = 0, forwarding: dict | None = None) -> tuple[list[dict], list[dict]]:
    """The RTL equals the model spike for spike and cycle for cycle; returns (the model's
    items, the RTL's results); ``forwarding`` as :func:`simulate`'s."""
    got = simulate(net, x, first, forwarding)
    layers = qc.core_layers(net)
    items = qc.trace(net, x, first_image=first)
    for item, g in zip(items, got, strict=True):
        sig = qc.signatures(item)
        for name, s in item["spikes"].items():
            assert g["spikes"][name] == int(s.sum()), name
            assert g["sigs"][name] == sig[name], name
        assert g["counts"] == [int(v) for v in item["counts"]]
        assert g["pred"] == item["pred"]
        assert g["cycles"] == qc.cycles_exact(layers, item)          # the analytical count, exactly
    return items, got
