"""Tests of the all-spin network 3 (issue 18 item 4; seed section V.1-V.2, eq. 9, eq. 12, Fig. 6).

The all-spin option of :mod:`golden.stdp_network` (``neuron="dw"``): domain-wall IF neurons
driven by the crossbar's column currents computed with eq. 12, and the post-before-pre half
of eq. 9. The checks compare the compiled kernel with the independent golden models it
stands for: :func:`golden.crossbar.column_currents` (eq. 12) and
:class:`golden.neurons.DwIfNeuron` (the DW neuron on the calibrated device).
"""

import math

import numpy as np
import pytest

from golden import _stdp_kernels as K
from golden.crossbar import column_currents, column_gamma
from golden.devices import dw_neuron
from golden.neurons import DwIfNeuron
from golden.stdp_network import (ALLSPIN_P_MINUS, StdpConfig, StdpNetwork, allspin_operating_point,
                                 config_for)


def _random_states(net, seed):
    c = net.config
    rng = np.random.default_rng(seed)
    net.states[...] = rng.integers(0, c.levels, net.states.shape).astype(np.int8)
    net.refresh_weights()


@pytest.mark.parametrize("variant", ["binary", "dw", "ltst"])
def test_column_currents_are_eq12(variant):
    # A spiking input adds its weight row to the column currents; the rows must be eq. 12:
    # G+ = G_AP + (G_P - G_AP) k / (levels - 1) at significance x dv, an AP reference on
    # the V- row, gamma over every device of the column (both arrays for LT-ST), computed
    # here by golden.crossbar.column_currents on the stacked arrays. Rounding only: 1e-12.
    cfg = config_for(variant, 7, all_spin=True)
    n_in = 30
    net = StdpNetwork(cfg, n_in, seed=1)
    _random_states(net, 2)
    op = allspin_operating_point(cfg, n_in)
    frac = net.states.astype(float) / (cfg.levels - 1)
    g_pos = np.concatenate(list(op["g_ap"] + (op["g_p"] - op["g_ap"]) * frac))   # (arrays n_in, N)
    g_neg = np.full_like(g_pos, op["g_ap"])
    rng = np.random.default_rng(3)
    spikes = (rng.random((5, n_in)) < 0.3).astype(float)
    drive = np.concatenate([s * spikes for s in cfg.significance], axis=1)      # row voltage / dv
    ref = column_currents(g_pos, g_neg, drive, cfg.read_voltage, op["g_s"])
    np.testing.assert_allclose(spikes @ net.weights, ref, rtol=1e-12, atol=0)
    # the operating point's gamma floor is the all-AP column's gamma
    g_all_ap = np.full((cfg.arrays * n_in, 1), op["g_ap"])
    assert math.isclose(column_gamma(g_all_ap, g_all_ap, op["g_s"])[0], op["gamma_floor"], rel_tol=1e-12)


def test_dw_advance_is_the_device_displacement():
    # The kernel's wall step must be the calibrated device's displacement for the pulse,
    # over the track length, including the velocity's saturation at large currents.
    cfg = config_for("binary", 5, all_spin=True)
    op = allspin_operating_point(cfg, 784)
    dev = dw_neuron()
    for i in (1e-8, 4e-7, 3e-6, 1e-4, 1e-3, -2e-6):
        want = float(dev.displacement(i, op["pulse_s"])) / dev.length
        assert math.isclose(K.dw_advance(0.25, i, op["gain"], op["isat_A"]) - 0.25, want, rel_tol=1e-9), i
    # calibration: at the reference column sum one unit weight moves the wall by
    # norm_target / (w_ref v_th) of the track (the LIF network's threshold), linear regime
    step = float(dev.displacement(op["i_unit_A"], op["pulse_s"])) / dev.length
    assert math.isclose(step, cfg.norm_target / (cfg.w_ref * cfg.v_th), rel_tol=1e-3)
    # the seed's operating point: dv < 100 mV and G_s = 1 / R_HM give gamma >> 1 at 784 rows
    assert cfg.read_voltage <= 0.1 and op["gamma_floor"] > 10


def test_kernel_neuron_spikes_as_the_golden_dw_neuron():
    # One neuron, every input spiking in every step (p = rate dt = 1), no learning, no
    # refractory period: the kernel's raster must be DwIfNeuron's spike train for the
    # column current I (eq. 12, the same every step), with the leak as a reverse pulse of
    # leak x L. Exact step-for-step agreement is expected (no tie within 1e-9 of the edge).
    cfg = config_for("dw", 1, all_spin=True, max_rate=1000.0, max_retries=0, t_ref=0.0, steps=200,
                     dw_leak=0.01, read_voltage=0.02)
    n_in = 20
    net = StdpNetwork(cfg, n_in, seed=0)
    _random_states(net, 5)
    op = allspin_operating_point(cfg, n_in)
    img = np.ones((1, n_in))
    net.present(img, learn=False, record=True)
    current = float(net.weights[:, 0].sum())
    dev = dw_neuron()
    # the traverse current moves the wall L in one pulse, so 0.01 pulse moves it 0.01 L
    ref = DwIfNeuron(1, device=dev, dt=op["pulse_s"], leak_current=abs(dev.traverse_current(op["pulse_s"])),
                     leak_duration=0.01 * op["pulse_s"])
    assert math.isclose(ref.leak_step, 0.01 * dev.length, rel_tol=1e-6)
    spikes = ref.run(np.full((cfg.steps, 1), current))[:, 0]
    assert spikes.sum() >= 5
    np.testing.assert_array_equal(net.last_raster[0], spikes.astype(np.int32))


def test_pre_update_depresses_with_the_negative_window():
    # Eq. 9, dt < 0 (pre after post): a P device switches to AP with probability
    # p_minus exp(-|dt| / tau_minus); AP devices are untouched. n trials: |fraction - p|
    # < 4 binomial SE (false-fail probability ~6e-5 per point).
    n = 100_000
    rng = K.rng_state(7)
    for y in (1.0, 0.3):
        k = np.ones((1, n, 1), np.int8)
        stats = np.zeros((1, K.ST_SIZE), np.int64)
        for i in range(n):
            K.pre_update(k, 0, i, 0, y, 2, True, 0.1, stats, rng)
        p = 0.1 * y
        frac = 1 - k.mean()
        assert abs(frac - p) < 4 * math.sqrt(p * (1 - p) / n), (y, frac, p)
        assert stats[0, K.ST_DEP] == n - k.sum()
    k0 = np.zeros((1, 10, 1), np.int8)
    assert not any(K.pre_update(k0, 0, i, 0, 1.0, 2, True, 0.1, stats, rng) for i in range(10))


def test_negative_window_is_the_only_depression_when_p_dep_is_zero():
    # With p_dep = 0 the positive window never depresses, so every depression comes from
    # post-before-pre pairs: none with p_minus = 0, some with the all-spin default.
    from spinbase.data import load_digits

    (xt, _), _ = load_digits()
    deps = {}
    for pm in (0.0, ALLSPIN_P_MINUS * 10):
        cfg = config_for("binary", 10, all_spin=True, p_dep=(0.0,), p_minus=(pm,), max_rate=127.5,
                         w_ref=10.0, norm_target=6.4, v_th=2.0)
        net = StdpNetwork(cfg, 64, seed=0)
        net.present(xt[:100], learn=True)
        deps[pm] = int(net.stats[:, K.ST_DEP].sum())
    assert deps[0.0] == 0 and deps[ALLSPIN_P_MINUS * 10] > 0, deps


def test_all_spin_learns_digits_above_chance():
    from spinbase.data import load_digits

    (xt, yt), (xs, ys) = load_digits()
    from golden.stdp_network import assign_labels, predict

    cfg = config_for("binary", 50, all_spin=True, max_rate=127.5, tau_plus=(0.05,), tau_theta=100.0,
                     w_ref=10.0, norm_target=6.4, v_th=2.0)
    net = StdpNetwork(cfg, 64, seed=0)
    for _ in range(2):
        net.present(xt, learn=True)
    acc = float((predict(net.present(xs, learn=False), assign_labels(net.present(xt, learn=False), yt))
                 == ys).mean())
    # chance is 0.1; 5 binomial SE above it is a one-sided false pass below 3e-7
    assert acc > 0.1 + 5 * math.sqrt(0.09 / len(ys)), acc


@pytest.mark.parametrize("kw", [dict(neuron="x"), dict(neuron="dw", inhibition="direct"),
                                dict(read_voltage=0.0), dict(g_s=-1.0), dict(w_ref=0.0), dict(dw_leak=-0.1)])
def test_all_spin_config_validation(kw):
    name = "inhibition" if "inhibition" in kw else next(iter(kw))
    with pytest.raises(ValueError, match=name):
        StdpConfig(**kw)


# --- the integer model (quantize.stdp) ---------------------------------------------------------
def _qcfg(**gov):
    from quantize import stdp as S

    return S.QuantStdpConfig(neurons=gov.pop("neurons", 1), seed=gov.pop("seed", 3), stdp_lanes=32,
                             golden_overrides=tuple(gov.items()))


def test_quant_negative_window_lut_is_eq9_to_half_an_lsb():
    # neg[age] = round(p_minus exp(-age dt / tau_minus) 2**P): within 1/2 LSB of the golden
    # probability; 0 at the saturated age ("not fired / too old").
    cfg = _qcfg(p_minus=(0.05,), tau_minus=(0.01,))
    g, neg = cfg.golden, cfg.tables()["neg"][0]
    ages = np.arange(cfg.age_sat)
    want = g.p_minus[0] * np.exp(-ages * g.dt / g.tau_minus[0]) * 2 ** cfg.prob_bits
    assert np.all(np.abs(neg[:-1] - want) <= 0.5) and neg[cfg.age_sat] == 0
    from quantize import stdp as S

    # DW: the golden pre_update's notches, rint(p_minus y (levels - 1))
    qdw = S.QuantStdpConfig(variant="dw", neurons=1, golden_overrides=(("p_minus", (0.3,)),))
    tdw, gdw = qdw.tables()["neg"][0], qdw.golden
    np.testing.assert_array_equal(tdw[:-1], np.rint(0.3 * np.exp(-ages * gdw.dt / gdw.tau_minus[0]) * 15))


def test_quant_row_depression_fraction_equals_lut_probability():
    # One input spike after posts at several ages: the fraction of P devices of the row that
    # switch to AP is neg[age] / 2**P within 4 binomial SE; neurons that have not fired and
    # AP devices are untouched.
    from quantize import stdp as S

    groups, per = (1, 5, 20, 60), 3000
    ages = np.concatenate([np.repeat(groups, per), np.full(per, -1)])
    cfg = S.QuantStdpConfig(neurons=ages.size, seed=3, stdp_lanes=32, golden_overrides=(("p_minus", (0.1,)),))
    net = S.QuantStdpNetwork(cfg, 2)
    net.states[...] = 0
    net.states[0, 0, :] = 1
    net.refresh_weights()
    ch = net.pre_spike(0, ages)
    t = cfg.tables()["neg"][0]
    for k, age in enumerate(groups):
        frac = 1 - net.states[0, 0, k * per:(k + 1) * per].mean()
        p = t[age] / 2 ** cfg.prob_bits
        assert abs(frac - p) <= 4 * math.sqrt(p * (1 - p) / per), (age, frac, p)
    assert net.states[0, 0, len(groups) * per:].all() and not net.states[0, 1].any()
    assert ch == (net.states[0, 0] == 0).sum() == net.stats[0, 1]
    np.testing.assert_array_equal(net.colsum, net.states.sum(axis=(0, 1)))


def test_quant_eq12_scale_is_the_golden_current_to_the_stated_bound():
    # Per spiking input the integer membrane gains code x scale_j (LSB 2**-V weight units);
    # the golden DW neuron gains v_th gain I / sqrt(I**2 + isat**2), I = weights[i, j] (A).
    # Its linear part per code is C / (D + K_j) (C the ROM numerator, D the exact gamma-floor
    # offset, K_j the column's code sum); the integer scale uses D_q = round(D) and the ROM:
    # |scale - C/(D+K)| <= C/(D+K) * 0.5 / (D_q + K) + (2**-A C / (D_q + K) + 3/4).
    from golden.stdp_network import StdpNetwork
    from quantize import stdp as S

    cfg = S.QuantStdpConfig(neurons=40, golden_overrides=(("neuron", "dw"),))
    g = cfg.golden
    qn = S.QuantStdpNetwork(cfg, 784)
    gn = StdpNetwork(g, 784, seed=0)
    rng = np.random.default_rng(4)
    for frac in (0.05, 0.3, 0.9):
        st = (rng.random(qn.states.shape) < frac).astype(np.int8)
        qn.states[...] = st
        gn.states[...] = st
        qn.refresh_weights()
        gn.refresh_weights()
        op = cfg.allspin["operating_point"]
        lin = 2 ** cfg.membrane_frac * g.v_th * op["gain"] / op["isat_A"]
        k = qn.colsum
        exact = np.array([lin * gn.weights[st[0, :, j] == 1, j].mean() for j in range(g.neurons)])
        tot = k + cfg.allspin["col_offset"]
        bound = exact * 0.5 / tot + 2.0 ** -cfg.recip_bits * cfg.allspin["recip_c"] / tot + 0.75
        assert np.all(np.abs(qn.scale - exact) <= bound), np.max(np.abs(qn.scale - exact) / bound)
    # the linear part is the golden step to (I/isat)**2 / 2 < 1e-3 up to 13 unit weights a step
    i13 = 13 * op["i_unit_A"]
    assert (i13 / op["isat_A"]) ** 2 / 2 < 1e-3
    assert math.isclose(K.dw_advance(0.0, i13, op["gain"], op["isat_A"]) * 2 ** cfg.membrane_frac * g.v_th,
                        lin * i13, rel_tol=1e-3)


def test_quant_all_spin_neurons_rejected_by_the_rtl_core_layout():
    # the RTL core has the negative window (p_minus > 0) but LIF neurons only
    from quantize import stdp as S
    from quantize.stdp_core import CoreLayout

    assert CoreLayout(S.QuantStdpConfig(neurons=16, golden_overrides=(("p_minus", (0.01,)),)), 784, 4)
    with pytest.raises(ValueError, match="RTL core"):
        CoreLayout(S.QuantStdpConfig(neurons=16, golden_overrides=(("neuron", "dw"),)), 784, 4)


# --- the receptive-field figure and the bench section ------------------------------------------
def test_column_conductances_and_receptive_field_png(tmp_path):
    import matplotlib.image as mpimg

    from golden.crossbar import dw_conductance_range
    from golden.devices import dw_synapse
    from spintwin.figures_stdp import column_conductances, plot_receptive_fields

    g_ap, g_p = dw_conductance_range(dw_synapse())
    net = StdpNetwork(config_for("binary", 5), 784, seed=0)
    pattern = np.zeros((28, 28), bool)
    pattern[4:24, 12:16] = True                                   # a "1"
    net.states[0, :, 0] = pattern.ravel()
    g = column_conductances(net)
    assert g.shape == (784, 5)
    np.testing.assert_allclose(g[:, 0], np.where(pattern.ravel(), g_p, g_ap), rtol=1e-12)
    # LT-ST: significance-weighted mean of the two arrays (1, 0.5): LT only P -> 2/3 of the way
    lt = StdpNetwork(config_for("ltst", 2), 784, seed=0)
    lt.states[0], lt.states[1] = 1, 0
    np.testing.assert_allclose(column_conductances(lt), g_ap + (g_p - g_ap) * 2 / 3, rtol=1e-12)
    out = plot_receptive_fields(g, tmp_path / "f.png", title="t")
    img = mpimg.imread(out)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    with pytest.raises(ValueError, match="conductance"):
        plot_receptive_fields(g[:100], tmp_path / "g.png")


def test_bench_comparison_and_markdown():
    from bench.allspin import _compare, markdown

    def pt(label, acc, seed, n=225):
        return {"label": label, "neurons": n, "seed": seed, "accuracy": acc, "accuracy_se": 0.004,
                "mean_train_spikes": 12.0, "depressions": 10}

    pts = [pt("hybrid", 0.81, 0), pt("hybrid", 0.80, 1), pt("all-spin", 0.79, 0), pt("all-spin", 0.77, 1)]
    c = _compare(pts, 225)
    assert math.isclose(c["difference"], -0.025) and not c["within_2_points"]
    # the seed spread (SE of the mean of 0.79, 0.77: 0.01) dominates the binomial 0.004 / sqrt(2)
    assert math.isclose(c["all_spin_se"], 0.01) and math.isclose(c["hybrid_se"], 0.005)
    assert _compare(pts, 400) is None
    md = markdown({"train_images": 1, "label_images": 1, "test_images": 1, "p_minus": 0.002, "points": pts,
                   "comparison": [c]})
    assert "| all-spin | 225 | 2 | 80.5 +- 0.5 | 78.0 +- 1.0 | -2.5 +- 1.1 | no |" in md


def test_bench_normalisation_spread(tmp_path):
    # hybrid: gain norm_target / W_j, spread W_max / W_min; eq. 12: (1 + gamma_max) / (1 + gamma_min)
    from bench.allspin import _normalisation
    from golden.stdp_network import save_network

    for kw in ({}, {"all_spin": True}):
        net = StdpNetwork(config_for("binary", 2, **kw), 784, seed=0)
        net.states[...] = 0
        net.states[0, :100, 0] = 1
        net.states[0, :300, 1] = 1
        save_network(tmp_path / "n.npz", net, np.zeros(2, np.int64))
        r = _normalisation(tmp_path, {"label": "x", "neurons": 2, "network": "n.npz"})
        assert (r["column_sum_min"], r["column_sum_max"]) == (100.0, 300.0)
        if kw:
            op = allspin_operating_point(net.config, 784)
            k = (op["g_p"] - op["g_ap"]) / op["g_s"]
            want = (1 + op["gamma_floor"] + 300 * k) / (1 + op["gamma_floor"] + 100 * k)
        else:
            want = 3.0
        assert math.isclose(r["gain_spread"], want, rel_tol=1e-12), (kw, r)
