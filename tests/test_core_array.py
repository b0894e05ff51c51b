"""hdl.core_array.CoreArray: several SNN cores behind one stream, each bit-exact with the model.

Ordinary suite: a small conv net (tests/test_core_general.py's) on 2 copies in the Amaranth
simulator, 3 images of 2, 1 and 2 steps (so the second core finishes first and the results
must still come back in order), and the resource check. ``make test-long``: network 1's twin
(cnn-if) on 2 copies on Verilator, 4 MNIST images of 3, 1, 2 and 1 steps (tb/core_array_tb.py;
the Verilator build of two cores takes minutes).
"""

from dataclasses import replace

import numpy as np
import pytest
from amaranth.sim import Simulator
from test_core_general import _lif_conv

from hdl.core import PIX_PER_BEAT
from hdl.core_array import CoreArray, check_copies
from quantize import core as qc
from quantize import snn as q

#: One cnn-if core on the ECP5-85F as synthesised (bench/results/core.json: 53 DSP, 29 BRAM).
CNN_IF_CORE = {"dsp": 53, "bram": 29}


def _at(net, steps):
    return replace(net, cfg=replace(net.cfg, steps=steps))


def _simulate(net, copies, x, steps, first=0):
    """Stream images x into CoreArray(net, copies) (image j with ``steps[j]`` steps) and take
    every result with the handshake as soon as it is valid; returns the results in order."""
    dut = CoreArray(net, copies)
    names = ["input"] + [layer.name for layer in net.layers]
    b = net.cfg.input_bits
    got = []

    async def feed(ctx):
        for j, image in enumerate(x):
            p = q.pixel_codes(net.cfg, image).reshape(-1)
            s0, s1 = q.encoder_seeds(net.cfg.seed, first + j)
            ctx.set(dut.seed0, s0)
            ctx.set(dut.seed1, s1)
            ctx.set(dut.steps, steps[j])
            for k in range(0, len(p), PIX_PER_BEAT):
                ctx.set(dut.pix_data, sum(int(v) << (b * i) for i, v in enumerate(p[k:k + PIX_PER_BEAT])))
                ctx.set(dut.pix_valid, 1)
                await ctx.tick().until(dut.pix_ready)    # the beat is taken at this edge
            ctx.set(dut.pix_valid, 0)

    async def read(ctx):
        ctx.set(dut.res_ready, 1)
        for _ in range(len(x)):
            # the outputs as sampled at the edge that takes the result
            core, pred, cycles, counts, sigs, spikes = await ctx.tick().sample(
                dut.res_core, dut.pred, dut.cycles, dut.counts, dut.sigs, dut.spikes).until(dut.res_valid)
            got.append({"core": core, "pred": pred, "cycles": cycles,
                        "counts": [(counts >> (16 * c)) & 0xFFFF for c in range(net.classes)],
                        "sigs": {n: (sigs >> (32 * i)) & 0xFFFFFFFF for i, n in enumerate(names)},
                        "spikes": {n: (spikes >> (32 * i)) & 0xFFFFFFFF for i, n in enumerate(names)}})

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(feed)
    sim.add_testbench(read)
    sim.run()
    return got


def test_two_copies_equal_the_model_in_order():
    """Each result equals quantize.core.trace of its image at its steps (every layer's spike
    count and signature, counts, class) and cycles_exact; image j comes from core j % 2."""
    net = q.build_network(_lif_conv("twin-if"), q.QuantConfig(kind="twin-if", steps=2, tile=16, seed=2))
    x = np.random.default_rng(5).random((3, 10, 10, 2))
    steps = [2, 1, 2]
    got = _simulate(net, 2, x, steps, first=3)
    assert [g["core"] for g in got] == [0, 1, 0]
    for j, g in enumerate(got):
        n = _at(net, steps[j])
        item = qc.trace(n, x[j:j + 1], first_image=3 + j)[0]
        sig = qc.signatures(item)
        assert g["spikes"] == {k: int(v.sum()) for k, v in item["spikes"].items()}
        assert g["sigs"] == sig
        assert g["counts"] == [int(v) for v in item["counts"]] and g["pred"] == item["pred"]
        assert g["cycles"] == qc.cycles_exact(qc.core_layers(n), item)
    # the first image ran longer than the second: its core finished later, its result came first
    assert got[0]["cycles"] > got[1]["cycles"]


def test_copies_that_do_not_fit_are_refused():
    """cnn-if's core takes 53 of the ECP5-85F's 156 DSP blocks: 2 copies fit (106), 3 need 159."""
    from boards.synth import TARGETS

    cap = TARGETS["ecp5-85f"].capacity
    check_copies(2, CNN_IF_CORE, cap)
    with pytest.raises(ValueError, match=r"3 copies of .* need 159 DSP \(3 x 53\), more than the device's 156: "
                                         r"at most 2 fit"):
        check_copies(3, CNN_IF_CORE, cap)
    with pytest.raises(ValueError, match="BRAM"):
        check_copies(2, {"bram": 105}, cap)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="copies"):
            check_copies(bad)
    net = q.build_network(_lif_conv("twin-if"), q.QuantConfig(kind="twin-if", steps=2, tile=16, seed=2))
    with pytest.raises(ValueError, match="DSP"):
        CoreArray(net, 3, per_core=CNN_IF_CORE, capacity=cap)


@pytest.mark.long
def test_two_cnn_if_copies_on_verilator_equal_the_model():
    """Network 1's twin, 2 copies, MNIST test images 20..23 of 3, 1, 2 and 1 steps on Verilator
    (tb/core_array_tb.py checks each image against the model and its core index)."""
    from boards.export import export_verilog
    from tb.core_launch import CORE_WAIVERS, WAIVERS
    from tb.harness_top import FAST_VERILATOR_ARGS, clocked_top
    from tb.runner import run_cocotb, skip_unless_simulator

    skip_unless_simulator("verilator")
    net = qc.trained_network("cnn-if", steps=3)
    arr = CoreArray(net, 2)
    verilog = export_verilog(arr, "snn_core_array", emit_src=False)
    top, wrapper = clocked_top(arr, "snn_core_array")
    r = run_cocotb([verilog, wrapper], top, "tb.core_array_tb", sim="verilator", seed=1,
                   build_args=[WAIVERS, CORE_WAIVERS, *FAST_VERILATOR_ARGS],
                   env={"CORE_NETWORK": "cnn-if", "CORE_STEPS": 3, "CORE_SEED": 1, "CORE_FIRST": 20, "CORE_IMAGES": 4,
                        "ARRAY_COPIES": 2, "ARRAY_STEPS": [3, 1, 2, 1]})
    assert r.metrics["images"] == 4 and r.metrics["cores"] == [0, 1, 0, 1]
