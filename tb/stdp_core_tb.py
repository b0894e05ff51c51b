"""cocotb batch testbench of the STDP learning core (hdl.stdp_core) against quantize.stdp.

The toplevel is the core inside ``tb.harness_top.clocked_top`` (the clock runs inside the
design). Per image the testbench streams the 784 pixel codes (one write per cycle), pulses
``start``, waits once for ``done`` (one trigger, no Python per cycle while the core learns),
then reads back, one word per cycle, the winner log of every step of every attempt, the
counts and theta; after the last image every device state, column sum and scale. The model
(:func:`quantize.stdp_core.model_run`, the same images, the same initial states) runs after
the simulation and the first difference is reported by image, attempt, step and field
(``winner``, ``attempts``, ``counts[j]``, ``theta[j]``, ``weight (input i, neuron j)``,
``colsum[j]``, ``scale[j]``) with both values. Each image's ``cycles`` must also equal
``quantize.stdp_core.CoreLayout.image_cycles`` (the analytical count, exact).

``SC_MODE=trace`` also reads the device states back after every image, so that a weight
difference is pinned to the first image whose learning differs (``tb.stdp_core_launch``
replays a batch run in this mode).

Parameters (environment): ``SC_CONFIG`` (QuantStdpConfig JSON), ``SC_N_IN``, ``SC_LANES``,
``SC_IMAGES``, ``SC_DATA`` (``mnist`` or ``synthetic``), ``SC_MODE`` (``batch`` or
``trace``), ``SC_CORRUPT`` (self-test of the checker: ``winner``, ``theta`` or ``weight``
perturbs the model's image 1 / final state).
"""

from __future__ import annotations

import time

import cocotb
import numpy as np

from tb.cocotb_helpers import report_metrics, reset, run_cycles, tb_param
from tb.mismatch import check


def build_from_params():
    """(QuantStdpConfig, CoreLayout, images (n, 784)) from the environment."""
    from quantize.stdp_core import CoreLayout, synthetic_images
    from tb.stdp_core_launch import config_from_json

    cfg = config_from_json(tb_param("SC_CONFIG"))
    n_in = int(tb_param("SC_N_IN", 784))
    layout = CoreLayout(cfg, n_in, int(tb_param("SC_LANES")))
    n = int(tb_param("SC_IMAGES", 1))
    if tb_param("SC_DATA", "mnist") == "mnist":
        from spinbase.data import load_mnist

        (xt, _), _ = load_mnist()
        perm = np.random.default_rng(cfg.seed).permutation(len(xt))   # as quantize.stdp.run_experiment
        imgs = np.asarray(xt[perm[np.arange(n) % len(xt)]]).reshape(n, -1)
    else:
        imgs = synthetic_images(n, n_in, seed=cfg.seed)
    return cfg, layout, imgs


async def _write(dut, sel, addrs, data):
    n = len(addrs)
    if n:
        await run_cycles(dut.clk, {dut.wr_en: np.ones(n + 1, np.int64) * (np.arange(n + 1) < n),
                                   dut.wr_sel: np.full(n + 1, sel), dut.wr_addr: np.append(addrs, 0),
                                   dut.wr_data: np.append(np.asarray(data, dtype=object), 0)}, [])


async def _read(dut, sel, addrs) -> np.ndarray:
    """Pipelined readback: address k is driven in cycle k, its word is row k + 1."""
    addrs = np.asarray(addrs, np.int64)
    n = len(addrs)
    rows = await run_cycles(dut.clk, {dut.rd_sel: np.full(n + 2, sel), dut.rd_addr: np.append(addrs, [0, 0])},
                            [dut.rd_data])
    return rows[1:n + 1, 0]


async def _read_states(dut, layout, C):
    addrs, _ = layout.weight_words(np.zeros((layout.n_inputs, layout.neurons), np.int64))
    words = await _read(dut, C.RD_WEIGHT, addrs)
    return layout.states_from_words([int(w) for w in words])


@cocotb.test()
async def stdp_core_matches_model(dut):
    from cocotb.triggers import FallingEdge, RisingEdge

    from quantize import stdp_core as C
    from quantize.stdp import QuantStdpNetwork

    cfg, layout, imgs = build_from_params()
    trace = tb_param("SC_MODE", "batch") == "trace"
    corrupt = tb_param("SC_CORRUPT")
    n_in, nb, steps = layout.n_inputs, layout.neurons, layout.steps
    net = QuantStdpNetwork(cfg, n_in)
    na = layout.neuron_addr(np.arange(nb))

    await reset(dut, dut.clk, dut.rst)
    addrs, words = layout.weight_words(layout.pack_states(net.states))
    await _write(dut, C.WR_WEIGHT, addrs, words)
    for sel, vals in ((C.WR_THETA, net.theta), (C.WR_COLSUM, net.colsum), (C.WR_SCALE, net.scale)):
        await _write(dut, sel, na, [int(v) for v in vals])
    pix = net.pixel_codes(imgs)
    pa = layout.pix_addr(np.arange(n_in))

    got, got_states = [], []
    t0, c0, t_sim, cycles = time.perf_counter(), time.process_time(), 0.0, 0
    for p in pix:
        await _write(dut, C.WR_PIX, pa, p)
        await run_cycles(dut.clk, {dut.start: np.array([1, 0]), dut.learn: np.array([1, 1])}, [])
        ts = time.perf_counter()
        await RisingEdge(dut.done)
        await FallingEdge(dut.clk)
        t_sim += time.perf_counter() - ts
        a = int(dut.attempts.value)
        d = {"attempts": a, "spikes": int(dut.spikes.value), "cycles": int(dut.cycles.value)}
        cycles += d["cycles"]
        d["log"] = await _read(dut, C.RD_WINNER, np.arange(a * steps))
        d["counts"] = await _read(dut, C.RD_COUNT, na)
        d["theta"] = await _read(dut, C.RD_THETA, na)
        got.append(d)
        if trace:
            got_states.append(await _read_states(dut, layout, C))
    states = await _read_states(dut, layout, C)
    colsum = await _read(dut, C.RD_COLSUM, na)
    scale = await _read(dut, C.RD_SCALE, na)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0

    t1 = time.perf_counter()
    ref = QuantStdpNetwork(cfg, n_in)
    want, want_states = [], []
    for x in imgs:
        want += C.model_run(ref, x[None])
        want_states.append(layout.pack_states(ref.states))
    model_s = time.perf_counter() - t1
    if corrupt == "winner":
        m = min(1, len(want) - 1)
        want[m]["log"] = want[m]["log"].copy()
        want[m]["log"][steps // 2] = (want[m]["log"][steps // 2] + 1) % (nb + 1)
    elif corrupt == "theta":
        want[min(1, len(want) - 1)]["theta"][0] += 1
    elif corrupt == "weight":
        want_states[-1] = want_states[-1].copy()
        want_states[-1][3, 0] ^= 1

    n_img = len(imgs)
    report_metrics(mode="trace" if trace else "batch", images=n_img, cycles=cycles, cycles_per_image=cycles / n_img,
                   sim_seconds=t_sim, cycles_per_s=cycles / t_sim, seconds=seconds, cpu_seconds=cpu,
                   model_seconds=model_s, attempts=int(sum(d["attempts"] for d in got)),
                   post_spikes=int(sum(int((d["log"] > 0).sum()) for d in got)),
                   switches=int(net.states.size and (states != layout.pack_states(net.states)).sum()))
    dut._log.info("%d images, %d cycles (%.0f per image) in %.2f s of free running (%.0f cycles/s)",
                  n_img, cycles, cycles / n_img, t_sim, cycles / t_sim)

    diff = C.first_difference(want, got, steps)
    if diff is None and trace:
        for m, (w, g) in enumerate(zip(want_states, got_states)):
            sd = C.first_state_difference(w, g)
            if sd is not None:
                diff = f"{sd} after image {m}"
                break
    if diff is None:
        diff = C.first_state_difference(want_states[-1], states)
    if diff is None:   # the documented timing (quantize.stdp_core.CoreLayout.image_cycles)
        interval = cfg.theta_decay[1]
        for m, (w, g) in enumerate(zip(want, got)):
            n = layout.image_cycles(w["input_spikes"], w["attempts"], int((w["log"] > 0).sum()),
                                    (m + 1) % interval == 0, w["neg_rows"], w["neg_changes"])
            if n != g["cycles"]:
                diff = f"image {m}: cycles formula {n}, RTL {g['cycles']}"
                break
    if diff is None:
        for f, w, g in (("colsum", ref.colsum, colsum), ("scale", ref.scale, scale)):
            bad = np.flatnonzero(np.asarray(w) != np.asarray(g))
            if bad.size:
                j = int(bad[0])
                diff = f"{f}[{j}] model {int(w[j])}, RTL {int(g[j])}"
                break
    check(diff)
