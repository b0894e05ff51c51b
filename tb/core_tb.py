"""cocotb batch testbench of the SNN inference core (``hdl.core.SnnCore``) against the model.

The toplevel is the core inside ``tb.harness_top.clocked_top`` (the clock runs inside the
design). Per image the testbench writes the encoder seeds and the 98 pixel beats, waits once
for ``done`` (no Python per cycle while the image runs) and reads the results back; at the end
it checks every image against ``quantize.core.trace`` of the same images:

- the 10 output spike counts and the decided class;
- per layer (``input`` first) the spike count and the 32-bit spike signature (every spike
  event, in (step, position, channel) order: spike for spike);
- the image's cycles against ``quantize.core.cycles_exact`` (the analytical count).

``CORE_MODE=trace`` replays one image (``CORE_IMAGE``; the per-image encoder seeds make it
independent of the others) sampling the spike-event port every cycle, and names the first
differing step, layer, position and channel with both values; ``tb.core_launch.run`` relaunches
in that mode when a batch run differs.

Parameters (environment): ``CORE_NETWORK`` (cnn-if, cnn-stochastic, cmos-if), ``CORE_STEPS``,
``CORE_SEED`` (master seed), ``CORE_FIRST`` and ``CORE_IMAGES`` (MNIST test images
``first .. first + images - 1``); a user's network: ``CORE_NETWORK_FILE`` (a
``golden.network.save`` file), ``CORE_IMAGES_FILE`` (a ``.npy`` of its inputs, which
``CORE_FIRST``/``CORE_IMAGES`` index) and ``CORE_CONFIG``; ``CORE_MODE`` (``batch`` or ``trace``), ``CORE_IMAGE``
(trace), ``CORE_CORRUPT`` (self-test of the checker: ``"layer:k"`` toggles the model's k-th
spike event of that layer in the first image checked).
"""

from __future__ import annotations

import time

import cocotb
import numpy as np

from tb.cocotb_helpers import report_metrics, reset, run_cycles, tb_param
from tb.cocotb_helpers import writer as _writer
from tb.mismatch import check


def build_from_params():
    """(net, images x (N, H, W[, C]), first index) from the testbench parameters."""
    from quantize.core import network_from_config, trained_network
    from quantize.snn import QuantConfig, build_network
    from spinbase.data import load_mnist

    fields = tb_param("CORE_CONFIG")  # a design's own formats (QuantConfig fields), as data
    first = int(tb_param("CORE_FIRST", 0))
    n = int(tb_param("CORE_IMAGES", 1))
    if tb_param("CORE_NETWORK_FILE"):  # a user's network and inputs, as files
        from golden.network import load

        net = build_network(load(tb_param("CORE_NETWORK_FILE")), QuantConfig(**fields))
        return net, np.load(tb_param("CORE_IMAGES_FILE"))[first:first + n], first
    data = load_mnist()
    if fields:
        net = network_from_config(QuantConfig(**fields), data)
    else:
        net = trained_network(tb_param("CORE_NETWORK", "cnn-if"), int(tb_param("CORE_STEPS", 5)),
                              int(tb_param("CORE_SEED", 1)), data=data)
    return net, data[1][0][first:first + n], first


def beats(net, image) -> list[int]:
    """The pixel beats of one image (``hdl.core.PIX_PER_BEAT`` codes each, pixel 0 lowest; 98 for MNIST)."""
    from hdl.core import PIX_PER_BEAT
    from quantize.snn import pixel_codes

    b = net.cfg.input_bits
    p = pixel_codes(net.cfg, image).reshape(-1)
    return [sum(int(v) << (b * i) for i, v in enumerate(p[k:k + PIX_PER_BEAT])) for k in range(0, len(p), PIX_PER_BEAT)]


def corrupt(net, item: dict, spec: str | None) -> None:
    """Toggle the model's k-th spike event of a layer (``"layer:k"``) in place."""
    if not spec:
        return
    name, k = spec.split(":")
    s = item["spikes"][name]
    flat = s.reshape(-1)
    idx = np.flatnonzero(flat)
    flat[idx[int(k)] if int(k) < len(idx) else int(k)] ^= True
    item["spikes"][name] = flat.reshape(s.shape)


def _split(value: int, width: int, count: int) -> list[int]:
    return [(value >> (width * i)) & ((1 << width) - 1) for i in range(count)]


async def _load(dut, net, image, index: int) -> None:
    """Write one image's seeds and pixel beats (after a falling edge; one beat per cycle)."""
    from cocotb.triggers import FallingEdge

    from quantize.snn import encoder_seeds

    s0, s1 = encoder_seeds(net.cfg.seed, index)
    _writer(dut.seed0)(s0)
    _writer(dut.seed1)(s1)
    _writer(dut.steps)(net.cfg.steps)
    valid, data = _writer(dut.pix_valid), _writer(dut.pix_data)
    edge = FallingEdge(dut.clk)
    for word in beats(net, image):
        valid(1)
        data(word)
        await edge
    valid(0)


def results(dut, names, classes: int = 10) -> dict:
    """One image's results from the core's result ports (counts, class, cycles, per layer signature and
    spike count), read now."""
    nl = len(names)
    return {"counts": _split(int(dut.counts.value), 16, classes), "pred": int(dut.pred.value),
            "cycles": int(dut.cycles.value), "sigs": dict(zip(names, _split(int(dut.sigs.value), 32, nl))),
            "spikes": dict(zip(names, _split(int(dut.spikes.value), 32, nl)))}


def compare(net, item: dict, got: dict, index: int) -> list[str]:
    """Differences between one image's RTL results and its model trace (empty: equal)."""
    from quantize.core import core_layers, cycles_exact, signatures

    problems = []
    sig = signatures(item)
    for name, s in item["spikes"].items():
        if int(s.sum()) != got["spikes"][name]:
            problems.append(f"image {index}: {name} spikes model {int(s.sum())}, RTL {got['spikes'][name]}")
        if sig[name] != got["sigs"][name]:
            problems.append(f"image {index}: {name} signature model {sig[name]:#010x}, RTL {got['sigs'][name]:#010x}")
    if list(map(int, item["counts"])) != got["counts"]:
        problems.append(f"image {index}: counts model {list(map(int, item['counts']))}, RTL {got['counts']}")
    if item["pred"] != got["pred"]:
        problems.append(f"image {index}: class model {item['pred']}, RTL {got['pred']}")
    want = cycles_exact(core_layers(net), item)
    if want != got["cycles"]:
        problems.append(f"image {index}: cycles estimate {want}, RTL {got['cycles']}")
    return problems


def first_event_mismatch(net, item: dict, events: np.ndarray) -> str | None:
    """First differing spike event between the model trace and the RTL's event port samples
    (rows ``(layer, index)`` in time order), as "step, layer, position, channel" with both values."""
    from quantize.core import core_layers

    names = list(item["spikes"])
    h, w, c = net.input_shape
    shapes = {"input": (h * w, c), **{L.name: (L.positions, L.n) for L in core_layers(net)}}
    best = None
    for li, name in enumerate(names):
        p, n = shapes[name]
        want = np.flatnonzero(item["spikes"][name].reshape(-1))
        have = events[events[:, 0] == li, 1]
        k = next((i for i in range(min(len(want), len(have))) if want[i] != have[i]), min(len(want), len(have)))
        if k == len(want) == len(have):
            continue
        # the earlier of the two differing events is the spike one side has and the other lacks
        cands = [int(v) for v in (want[k] if k < len(want) else None, have[k] if k < len(have) else None)
                 if v is not None]
        ev = min(cands)
        in_model = ev in set(want.tolist())
        in_rtl = ev in set(have.tolist())
        t, rest = divmod(ev, p * n)
        key = (t, li)
        if best is None or key < best[0]:
            pos, ch = divmod(rest, n)
            best = (key, f"step {t}, layer {name}, position {pos}, channel {ch}: model {int(in_model)}, "
                         f"RTL {int(in_rtl)}")
    return None if best is None else best[1]


@cocotb.test()
async def core_matches_model(dut):
    from cocotb.triggers import FallingEdge, RisingEdge

    from quantize.core import cycles_exact, core_layers, trace

    net, x, first = build_from_params()
    mode = tb_param("CORE_MODE", "batch")
    spec = tb_param("CORE_CORRUPT")
    names = ["input"] + [layer.name for layer in net.layers]
    await reset(dut, dut.clk, dut.rst)

    if mode == "trace":
        k = int(tb_param("CORE_IMAGE", first))
        item = trace(net, x[k - first:k - first + 1], first_image=k)[0]
        corrupt(net, item, spec)
        budget = cycles_exact(core_layers(net), item) + 200
        await _load(dut, net, x[k - first], k)
        rows = await run_cycles(dut.clk, {}, [dut.ev_valid, dut.ev_layer, dut.ev_index, dut.done], cycles=budget)
        msg = first_event_mismatch(net, item, rows[rows[:, 0] == 1][:, 1:3])
        check(msg)
        check(None if rows[:, 3].any() else f"image {k} not done in {budget} cycles")
        return

    got, t0, c0 = [], time.perf_counter(), time.process_time()
    for j, image in enumerate(x):
        await _load(dut, net, image, first + j)
        if not int(dut.done.value):
            await RisingEdge(dut.done)
        await FallingEdge(dut.clk)
        got.append(results(dut, names, net.classes))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    items = trace(net, x, first_image=first)
    model_s = time.perf_counter() - t1
    if items:
        corrupt(net, items[0], spec)
    problems = []
    for j, (item, g) in enumerate(zip(items, got)):
        problems += compare(net, item, g, first + j)
    cycles = sum(g["cycles"] for g in got)
    report_metrics(images=len(x), steps=net.cfg.steps, cycles=cycles, seconds=seconds, cpu_seconds=cpu,
                   cycles_per_s=cycles / seconds, seconds_per_image=seconds / max(1, len(x)),
                   cycles_per_image=cycles / max(1, len(x)), model_seconds=model_s,
                   accuracy_pred=[g["pred"] for g in got], first_bad=next(
                       (first + j for j, (i, g) in enumerate(zip(items, got)) if compare(net, i, g, 0)), None))
    dut._log.info("%d images x %d steps: %d cycles in %.2f s (%.0f cycles/s)", len(x), net.cfg.steps, cycles,
                  seconds, cycles / seconds)
    check(problems)
