"""cocotb testbench of ``hdl.core_array.CoreArray`` (several SNN cores behind one stream) against
the model, image for image.

The host side runs as two coroutines, as a real host would: a feeder streams the images one
beat per cycle whenever ``pix_ready`` is high (each image's seeds and steps presented with its
beats), and a reader takes each result with the ``res_valid``/``res_ready`` handshake. Image j
runs ``ARRAY_STEPS[j % len]`` steps (different step counts make the cores finish out of turn:
the results must still come back in order). Each result is checked against
``quantize.core.trace`` of that image at its steps (``tb.core_tb.compare``: counts, class,
every layer's spike count and signature, cycles against ``cycles_exact``), and its
``res_core`` against the round robin (image j on core ``j % copies``).

Parameters (environment): ``ARRAY_COPIES``, ``ARRAY_STEPS`` (a list), and ``tb.core_tb``'s
``CORE_NETWORK``, ``CORE_SEED``, ``CORE_FIRST``, ``CORE_IMAGES``.
"""

from __future__ import annotations

from dataclasses import replace

import cocotb

from tb.cocotb_helpers import report_metrics, reset, tb_param
from tb.cocotb_helpers import writer as _writer
from tb.core_tb import beats, build_from_params, compare, results
from tb.mismatch import check


@cocotb.test()
async def array_matches_model(dut):
    from cocotb.triggers import FallingEdge, RisingEdge

    from quantize.core import trace
    from quantize.snn import encoder_seeds

    net, x, first = build_from_params()
    copies = int(tb_param("ARRAY_COPIES", 2))
    steps = list(tb_param("ARRAY_STEPS", [net.cfg.steps]))
    names = ["input"] + [layer.name for layer in net.layers]
    await reset(dut, dut.clk, dut.rst)
    got = []

    async def feed():
        valid, data = _writer(dut.pix_valid), _writer(dut.pix_data)
        seed0, seed1, st = _writer(dut.seed0), _writer(dut.seed1), _writer(dut.steps)
        for j, image in enumerate(x):
            s0, s1 = encoder_seeds(net.cfg.seed, first + j)
            seed0(s0)
            seed1(s1)
            st(steps[j % len(steps)])
            for word in beats(net, image):
                while not int(dut.pix_ready.value):
                    valid(0)
                    await RisingEdge(dut.pix_ready)
                    await FallingEdge(dut.clk)
                valid(1)
                data(word)
                await FallingEdge(dut.clk)
        valid(0)

    async def read():
        ready = _writer(dut.res_ready)
        for _ in range(len(x)):
            if not int(dut.res_valid.value):
                await RisingEdge(dut.res_valid)
                await FallingEdge(dut.clk)
            res = results(dut, names, net.classes)
            res["core"] = int(dut.res_core.value)
            got.append(res)
            ready(1)
            await FallingEdge(dut.clk)
            ready(0)

    feeder = cocotb.start_soon(feed())
    await read()
    await feeder
    problems = []
    for j, g in enumerate(got):
        s = steps[j % len(steps)]
        item = trace(replace(net, cfg=replace(net.cfg, steps=s)), x[j:j + 1], first_image=first + j)[0]
        problems += compare(replace(net, cfg=replace(net.cfg, steps=s)), item, g, first + j)
        if g["core"] != j % copies:
            problems.append(f"image {first + j}: result from core {g['core']}, expected core {j % copies}")
    report_metrics(images=len(got), copies=copies, steps=[steps[j % len(steps)] for j in range(len(x))],
                   cores=[g["core"] for g in got], cycles=[g["cycles"] for g in got])
    check(problems)
