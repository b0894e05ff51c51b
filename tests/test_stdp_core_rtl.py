"""Amaranth-simulator equivalence of the STDP learning core (hdl.stdp_core) with the integer
network of quantize.stdp: every step's winner, every attempt count, spike count, theta and,
at the end, every device state, column sum and scale equal the model's (bit for bit).

Small configurations keep the Python simulator fast: 60 inputs in 8 generator lanes (the last
row is partial), 8 neurons in 3 lanes (the last group is padded), 60 steps; a short
tau_theta makes the homeostasis decay run after every second image.
"""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hdl.stdp_core import StdpCore
from quantize import stdp_core as C
from quantize.stdp import QuantStdpConfig, QuantStdpNetwork

N_IN = 60


def small_config(variant="binary", p_minus=0.0, **kw):
    n = 2 if variant == "ltst" else 1          # device arrays (LT-ST: LT and ST)
    gov = dict(steps=60, tau_theta=6.5, p_minus=(p_minus,) * n)
    # strong rules so that a few images switch devices both ways (binary p <= 0.1, seed IV.2)
    gov.update(p_pot=(0.3,), p_dep=(0.1,)) if variant == "dw" else gov.update(p_pot=(0.1,) * n, p_dep=(0.1,) * n)
    return QuantStdpConfig(variant=variant, neurons=8, seed=5, input_lanes=8, stdp_lanes=8, theta_shift=4,
                           golden_overrides=tuple(gov.items()), **kw)


def run_core(layout, net, imgs, learn=True):
    """Load the network's state into the core, present the images, read everything back.

    Returns (per image dicts as quantize.stdp_core.model_run, final states, colsums, scales)."""
    dut = StdpCore(layout)
    nb = layout.neurons
    pix = net.pixel_codes(imgs)
    res = {}

    async def write(ctx, sel, addr, data):
        ctx.set(dut.wr_sel, sel)
        ctx.set(dut.wr_addr, int(addr))
        ctx.set(dut.wr_data, int(data))
        ctx.set(dut.wr_en, 1)
        await ctx.tick()
        ctx.set(dut.wr_en, 0)

    async def read(ctx, sel, addr):
        ctx.set(dut.rd_sel, sel)
        ctx.set(dut.rd_addr, int(addr))
        await ctx.tick().repeat(2)
        return ctx.get(dut.rd_data)

    async def bench(ctx):
        addrs, words = layout.weight_words(layout.pack_states(net.states))
        for a, w in zip(addrs, words):
            await write(ctx, C.WR_WEIGHT, a, w)
        na = layout.neuron_addr(np.arange(nb))
        for j in range(nb):
            await write(ctx, C.WR_THETA, na[j], net.theta[j])
            await write(ctx, C.WR_COLSUM, na[j], net.colsum[j])
            await write(ctx, C.WR_SCALE, na[j], net.scale[j])
        per = []
        pa = layout.pix_addr(np.arange(layout.n_inputs))
        for p in pix:
            for i in range(layout.n_inputs):
                await write(ctx, C.WR_PIX, pa[i], p[i])
            ctx.set(dut.learn, int(learn))
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            await ctx.tick().until(dut.done)
            a = ctx.get(dut.attempts)
            d = {"attempts": a, "spikes": ctx.get(dut.spikes), "cycles": ctx.get(dut.cycles)}
            d["log"] = np.array([await read(ctx, C.RD_WINNER, x) for x in range(a * layout.steps)])
            d["counts"] = np.array([await read(ctx, C.RD_COUNT, na[j]) for j in range(nb)])
            d["theta"] = np.array([await read(ctx, C.RD_THETA, na[j]) for j in range(nb)])
            per.append(d)
        res["per"] = per
        res["words"] = [await read(ctx, C.RD_WEIGHT, a) for a in addrs]
        res["colsum"] = np.array([await read(ctx, C.RD_COLSUM, na[j]) for j in range(nb)])
        res["scale"] = np.array([await read(ctx, C.RD_SCALE, na[j]) for j in range(nb)])

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return res["per"], layout.states_from_words(res["words"]), res["colsum"], res["scale"]


# (variant, p_minus): the negative window of eq. 9 at strong settings (binary 0.1, the
# non-greedy limit; DW 0.3 of the track, ~4 notches at a 1-step lag)
# LT-ST: two arrays in one lane field, significance codes (2, 1)
CASES = [("binary", 0.0), ("dw", 0.0), ("binary", 0.1), ("dw", 0.3), ("ltst", 0.0), ("ltst", 0.1)]


@pytest.mark.parametrize("variant, p_minus", CASES)
def test_core_matches_model(variant, p_minus):
    cfg = small_config(variant, p_minus)
    layout = C.CoreLayout(cfg, N_IN, 3)
    imgs = C.synthetic_images(3, N_IN, seed=1 if variant == "binary" else 2, dim=(1,))
    net = QuantStdpNetwork(cfg, N_IN)
    got, states, colsum, scale = run_core(layout, net, imgs)
    ref = QuantStdpNetwork(cfg, N_IN)
    want = C.model_run(ref, imgs)
    diff = C.first_difference(want, got, cfg.golden.steps)
    assert diff is None, diff
    # the run must exercise what it claims to check: post spikes with learning, retries (the
    # dim image), potentiation and depression, a theta decay (3 images, interval 2)
    assert cfg.theta_decay[1] == 2 and want[1]["attempts"] > 1
    assert sum(int((w["log"] > 0).sum()) for w in want) >= 5
    assert (ref.stats[:, 0] > 0).all() and (ref.stats[:, 1] > 0).all()   # every array, both ways
    changed = np.flatnonzero(states.ravel() != layout.pack_states(QuantStdpNetwork(cfg, N_IN).states).ravel())
    assert changed.size > 0
    # the core's cycle count is the documented formula, exactly, for every image
    for m, (w, gt) in enumerate(zip(want, got)):
        a = w["attempts"]
        decay = (m + 1) % cfg.theta_decay[1] == 0
        assert gt["cycles"] == layout.image_cycles(w["input_spikes"], a, int((w["log"] > 0).sum()), decay,
                                                   w["neg_rows"], w["neg_changes"]), m
    # with the negative window on, it swept rows and switched devices; off, it never ran
    assert (sum(w["neg_changes"] for w in want) > 0) == (p_minus > 0)
    assert (sum(w["neg_rows"] for w in want) > 0) == (p_minus > 0)
    diff = C.first_state_difference(layout.pack_states(ref.states), states)
    assert diff is None, diff
    assert np.array_equal(colsum, ref.colsum) and np.array_equal(scale, ref.scale)


def test_layout_validation():
    cfg = small_config()
    with pytest.raises(ValueError, match="neuron_lanes must be an integer in 1..neurons = 8, not 9"):
        C.CoreLayout(cfg, N_IN, 9)
    with pytest.raises(ValueError, match="stdp_lanes must equal input_lanes = 8, not 4"):
        C.CoreLayout(QuantStdpConfig(neurons=8, input_lanes=8, stdp_lanes=4), N_IN, 2)
    with pytest.raises(ValueError, match="RTL core has LIF neurons"):
        C.CoreLayout(QuantStdpConfig(neurons=8, n_inputs_model=N_IN, golden_overrides=(("neuron", "dw"),)), N_IN, 2)


def test_ltst_lane_fields_round_trip():
    # LT-ST lane field = 2 k_LT + k_ST: the synapse's code for significance codes (2, 1)
    cfg = small_config("ltst")
    layout = C.CoreLayout(cfg, N_IN, 3)
    k = np.random.default_rng(0).integers(0, 2, (2, N_IN, 8)).astype(np.int8)
    f = layout.pack_states(k)
    assert layout.state_bits == 2 and np.array_equal(f, 2 * k[0] + k[1])
    assert list(cfg.sig_codes) == [2, 1]
    np.testing.assert_array_equal(layout.unpack_states(f), k)
    _, words = layout.weight_words(f)
    np.testing.assert_array_equal(layout.states_from_words(words), f)


def test_weight_words_round_trip():
    cfg = small_config("dw")
    lay = C.CoreLayout(cfg, N_IN, 3)
    k = np.random.default_rng(0).integers(0, 16, (N_IN, 8))
    addr, words = lay.weight_words(k)
    assert np.array_equal(lay.states_from_words(words), k)
    assert len(set(addr.tolist())) == N_IN * lay.groups


def test_first_difference_names_image_attempt_step():
    steps = 4
    w = [{"attempts": 2, "log": np.array([0, 1, 0, 0, 0, 0, 3, 0]), "counts": np.array([0, 0, 1]),
          "theta": np.array([0, 0, 5]), "spikes": 1}]
    g = [dict(w[0], log=np.array([0, 1, 0, 0, 0, 0, 2, 0]))]
    assert C.first_difference(w, g, steps) == "image 0, attempt 1, step 2: winner model 2, RTL 1"
    g = [dict(w[0], theta=np.array([0, 0, 6]))]
    assert C.first_difference(w, g, steps) == "image 0: theta[2] model 5, RTL 6"
    assert C.first_difference(w, w, steps) is None
    assert C.first_state_difference(np.eye(2), np.ones((2, 2))) == "weight (input 0, neuron 1): model 0, RTL 1"


def test_core_frozen_presentation_matches_model():
    # learn = 0: no STDP, no theta change, no decay counter; winners and counts still equal
    cfg = small_config()
    layout = C.CoreLayout(cfg, N_IN, 4)
    imgs = C.synthetic_images(2, N_IN, seed=3)
    net = QuantStdpNetwork(cfg, N_IN)
    net.theta[:] = np.arange(cfg.neurons) * 3000      # distinct thresholds take part in the WTA
    got, states, _, _ = run_core(layout, net, imgs, learn=False)
    ref = QuantStdpNetwork(cfg, N_IN)
    ref.theta[:] = net.theta
    want = C.model_run(ref, imgs, learn=False)
    diff = C.first_difference(want, got, cfg.golden.steps)
    assert diff is None, diff
    assert sum(w["spikes"] for w in want) >= 5
    assert np.array_equal(states, ref.states[0]) and np.array_equal(ref.theta, net.theta)
    for w, g in zip(want, got):
        assert g["cycles"] == layout.image_cycles(w["input_spikes"], w["attempts"], 0)
