"""Tests of the unsupervised STDP network (golden.stdp_network; seed section V.2, eq. 8-9).

Fast tests use the scikit-learn 8x8 digits and direct calls of the compiled update kernels;
the full MNIST runs (225 / 400 neurons, 60,000 training images) are marked ``long``.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import golden
from golden import _stdp_kernels as K
from golden.devices import mtj_neuron
from golden.stdp_network import (StdpConfig, StdpNetwork, assign_labels, config_for,
                                 energy_at_accuracy, load_network, predict,
                                 run_experiment, save_network, switch_probability)
from spinbase.data import load_digits
from spintwin.experiments import stdp_main as main

# A small layer for the 8x8 digits (64 inputs): D&C's column sum 78 per 784 inputs scaled to
# 64 inputs (6.4), a faster homeostasis (1437 images instead of 60,000) and a higher peak
# rate (the digits have ~19 bright-pixel units against MNIST's ~100).
DIGITS = dict(neurons=50, norm_target=6.4, v_th=2.0, theta_plus=0.05, tau_theta=100.0,
              max_rate=127.5, tau_plus=(0.05,))


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _train_digits(digits, variant="binary", seed=0, epochs=2, **kw):
    (xt, yt), (xs, ys) = digits
    params = {**DIGITS, **kw}
    if variant == "ltst":  # LT window shorter than the ST window (seed section V.2)
        params["tau_plus"] = (0.025, 0.1)
    cfg = config_for(variant, **params)
    net = StdpNetwork(cfg, 64, seed=seed)
    for _ in range(epochs):
        net.present(xt, learn=True)
    assignments = assign_labels(net.present(xt, learn=False), yt)
    acc = float((predict(net.present(xs, learn=False), assignments) == ys).mean())
    return net, acc


def _chance_bound(n, p0=0.1, z=5.0):
    # Under "no learning" the number of correct test answers is at most Binomial(n, p0) with
    # p0 = 0.1 (10 balanced classes); z = 5 standard deviations above its mean is a one-sided
    # false-pass probability below 3e-7.
    return p0 + z * math.sqrt(p0 * (1 - p0) / n)


@pytest.mark.parametrize("variant", ["binary", "dw", "ltst"])
def test_tiny_network_learns_digits_above_chance(digits, variant):
    _, acc = _train_digits(digits, variant)
    n_test = len(digits[1][1])
    assert acc > _chance_bound(n_test), f"{variant}: accuracy {acc:.3f} on {n_test} test digits"


def test_probabilistic_potentiation_fraction_matches_window():
    # AP devices whose input spiked dt before the post spike switch to P with probability
    # p_max exp(-dt / tau) (seed eq. 9 read as a switching probability, p_max <= 0.1).
    n, p_max, tau = 200_000, 0.1, 0.02
    for dt in (0.0, 0.005, 0.02, 0.05):
        p = p_max * math.exp(-dt / tau)
        x = np.full(n, math.exp(-dt / tau))
        new = switch_probability(np.zeros(n), x, p_max, 0.0, seed=1)
        se = math.sqrt(p * (1 - p) / n)  # binomial standard error of the fraction
        assert abs(new.mean() - p) < 4 * se, (dt, new.mean(), p, se)


def test_probabilistic_depression_fraction_and_untouched_states():
    n, p_dep = 200_000, 0.05
    x = np.where(np.arange(n) % 2 == 0, 0.0, 0.6)  # half never spiked, half recently
    new = switch_probability(np.ones(n), x, 0.1, p_dep, seed=2)
    for xv in (0.0, 0.6):
        sel = x == xv
        p = p_dep * (1 - xv)
        frac = 1 - new[sel].mean()
        assert abs(frac - p) < 4 * math.sqrt(p * (1 - p) / sel.sum()), (xv, frac, p)
    # P devices never potentiate further and an input with x = 1 is never depressed
    assert set(np.unique(switch_probability(np.ones(1000), np.ones(1000), 0.1, 0.5))) == {1}


def test_window_table_is_eq9():
    cfg = config_for("ltst", neurons=3, steps=50)
    net = StdpNetwork(cfg, 4)
    lag = np.arange(cfg.steps + 1) * cfg.dt
    for a in range(2):
        np.testing.assert_allclose(net._exp_plus[a], np.exp(-lag / cfg.tau_plus[a]), rtol=1e-12)
        np.testing.assert_allclose(net._exp_minus[a], np.exp(-lag / cfg.tau_minus[a]), rtol=1e-12)


def _golden_stdp():
    stdp = pytest.importorskip("golden.stdp")
    for name in ("window", "ProbabilisticStdp", "DwStdp"):
        if not hasattr(stdp, name):
            pytest.skip(f"golden.stdp has no {name} yet")
    return stdp


def test_window_agrees_with_golden_stdp():
    stdp = _golden_stdp()
    cfg = config_for("binary", neurons=2)
    net = StdpNetwork(cfg, 4)
    n = np.arange(1, 60)
    dt = n * cfg.dt
    a_plus, a_minus = cfg.p_pot[0], 0.02
    w = np.asarray(stdp.window(dt, a_plus, a_minus, cfg.tau_plus[0], cfg.tau_minus[0]), float)
    np.testing.assert_allclose(w, a_plus * net._exp_plus[0, n], rtol=1e-9)
    w_neg = np.asarray(stdp.window(-dt, a_plus, a_minus, cfg.tau_plus[0], cfg.tau_minus[0]), float)
    np.testing.assert_allclose(w_neg, -a_minus * net._exp_minus[0, n], rtol=1e-9)
    # the pair probability of golden.stdp's single-bit rule is the network's p_pot x
    rule = stdp.ProbabilisticStdp(p_max=cfg.p_pot[0], tau_plus=cfg.tau_plus[0], tau_minus=cfg.tau_minus[0])
    np.testing.assert_allclose(rule.probability(dt), cfg.p_pot[0] * net._exp_plus[0, n], rtol=1e-9)


def test_dw_update_agrees_with_golden_dw_stdp():
    # Without the depression term, the network's notch move round(p_pot x (levels - 1)) is
    # golden.stdp.DwStdp with a_plus = p_pot (levels - 1) level steps: a programming current
    # proportional to the window, the wall moved by the device model, snapped to a notch.
    stdp = _golden_stdp()
    cfg = config_for("dw", neurons=1, p_dep=(0.0,), p_pot=(0.3,))
    top = cfg.levels - 1
    rule = stdp.DwStdp(a_plus=cfg.p_pot[0] * top, a_minus=0.0, tau_plus=cfg.tau_plus[0],
                       tau_minus=cfg.tau_minus[0])
    n = np.arange(1, 120)
    x = np.exp(-n * cfg.dt / cfg.tau_plus[0])
    d = cfg.p_pot[0] * top * x
    keep = np.abs(d - np.floor(d) - 0.5) > 0.05  # away from the rounding boundaries
    assert keep.sum() > 80
    for start in (0, 5, 14):
        k = np.full((1, n.size, 1), start, np.int8)
        K.post_update(k, 0, 0, x, cfg.levels, False, cfg.p_pot[0], 0.0,
                      np.zeros((1, K.ST_SIZE), np.int64), K.rng_state(0))
        dev = rule.device
        pos = rule.update(np.full(n.size, dev.length * start / top), n * cfg.dt)
        golden_level = np.rint(pos / dev.length * top)
        np.testing.assert_array_equal(k[0, keep, 0], golden_level[keep])


def test_volatile_short_term_array_relaxes_at_its_rate():
    n_in, n, q = 400, 50, 0.2
    k = np.ones((2, n_in, n), np.int8)
    k[1, :, ::2] = 0  # AP devices stay AP
    dirty = np.zeros(n, np.bool_)
    stats = np.zeros((2, K.ST_SIZE), np.int64)
    K.relax_volatile(k, 1, q, dirty, stats, K.rng_state(9))
    assert np.all(k[0] == 1) and np.all(k[1, :, ::2] == 0)
    m = n_in * (n // 2)
    frac = 1 - k[1, :, 1::2].mean()
    assert abs(frac - q) < 4 * math.sqrt(q * (1 - q) / m)  # binomial SE
    assert stats[1, K.ST_RELAX] == m - k[1, :, 1::2].sum()
    assert np.all(dirty[1::2]) and not np.any(dirty[::2])


def test_dw_update_is_proportional_to_window_and_clipped():
    levels, a_pot, a_dep = 16, 0.1, 0.04
    x = np.linspace(0, 1, 41)
    for start in (0, 7, 15):
        k = np.full((1, x.size, 1), start, np.int8)
        stats = np.zeros((1, K.ST_SIZE), np.int64)
        K.post_update(k, 0, 0, x, levels, False, a_pot, a_dep, stats, K.rng_state(0))
        want = np.clip(start + np.rint((a_pot * x - a_dep * (1 - x)) * (levels - 1)), 0, levels - 1)
        np.testing.assert_array_equal(k[0, :, 0], want)
        assert stats[0, K.ST_LEVEL_STEPS] == np.abs(want - start).sum()


def test_input_spike_trains_are_bernoulli_per_step():
    steps, dt, rate = 2000, 1e-3, 63.75
    x = np.repeat([0.0, 0.4, 1.0], 50)
    ev_t = np.empty(x.size * steps, np.int64)
    ev_i = np.empty_like(ev_t)
    ptr = np.empty(steps + 1, np.int64)
    pix = np.empty_like(ev_t)
    n = K.input_events(x, rate, dt, steps, ev_t, ev_i, ptr, pix, K.rng_state(3))
    assert ptr[0] == 0 and ptr[-1] == n and np.all(np.diff(ptr) >= 0)
    for t in range(steps):  # each pixel at most once per step, in increasing order
        assert np.all(np.diff(pix[ptr[t]:ptr[t + 1]]) > 0)
    counts = np.bincount(pix[:n], minlength=x.size)
    assert counts[:50].sum() == 0
    for sl, xv in ((slice(50, 100), 0.4), (slice(100, 150), 1.0)):
        p = xv * rate * dt
        trials = 50 * steps
        se = math.sqrt(trials * p * (1 - p))  # binomial SD of the summed count
        assert abs(counts[sl].sum() - trials * p) < 4 * se


def _burst_net(inhibition, seed=0):
    # A threshold far below one input's weight: many neurons cross it in the same step.
    cfg = config_for("binary", neurons=20, v_th=0.01, inhibition=inhibition, w_inh=0.0,
                     steps=60, init_p=1.0, normalise=False)
    net = StdpNetwork(cfg, 64, seed=seed)
    net.present(np.ones((3, 64)), learn=False, record=True)
    return net


def test_hard_wta_lets_at_most_one_neuron_fire_per_step():
    wta = _burst_net("wta")
    assert wta.last_raster.max() == 1
    assert wta.last_raster.sum() > 0
    # the same drive without the winner-take-all fires many neurons per step, so the check
    # above can fail
    assert _burst_net("direct").last_raster.max() > 1


def test_direct_inhibition_reduces_firing():
    # random P/AP states so that the neurons do not cross threshold in lockstep
    cfg = dict(neurons=20, v_th=10.0, steps=100, init_p=0.5, normalise=False, inhibition="direct")
    quiet = StdpNetwork(config_for("binary", **cfg, w_inh=5.0), 64, seed=0)
    loud = StdpNetwork(config_for("binary", **cfg, w_inh=0.0), 64, seed=0)
    img = np.ones((5, 64))
    assert quiet.present(img, learn=False).sum() < loud.present(img, learn=False).sum()


def test_homeostasis_raises_theta_of_frequent_firers(digits):
    (xt, _), _ = digits
    cfg = config_for("binary", **DIGITS)
    net = StdpNetwork(cfg, 64, seed=4)
    img = np.repeat(xt[:1], 30, axis=0)  # one image shown repeatedly
    counts = net.present(img, learn=True)
    d = math.exp(-(cfg.steps * cfg.dt + cfg.rest) / cfg.tau_theta)
    m = counts.shape[0]
    want = cfg.theta_plus * (counts * d ** (m - np.arange(m))[:, None]).sum(axis=0)
    np.testing.assert_allclose(net.theta, want, rtol=1e-12)
    top = counts.sum(axis=0).argmax()
    assert net.theta[top] == net.theta.max() > 0
    assert np.all(net.theta[counts.sum(axis=0) == 0] == 0)
    frozen = net.theta.copy()
    net.present(img[:5], learn=False)
    np.testing.assert_array_equal(net.theta, frozen)


def test_generator_is_xoshiro256plus_and_uniform():
    # independent pure-Python xoshiro256+ (Blackman & Vigna) from the same state
    m = (1 << 64) - 1
    st = K.rng_state(12345)
    ref = [int(v) for v in st]
    for _ in range(20):
        s0, s1, s2, s3 = ref
        want = ((s0 + s3) & m) >> 11
        t = (s1 << 17) & m
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & m
        ref = [s0, s1, s2, s3]
        assert K.uniform(st) == want / 2.0 ** 53
    u = np.array([K.uniform(st) for _ in range(200_000)])
    se = math.sqrt(1 / 12 / u.size)  # standard error of the mean of U(0, 1)
    assert abs(u.mean() - 0.5) < 4 * se and 0 <= u.min() and u.max() < 1


def test_deterministic_given_seed(digits):
    (xt, _), _ = digits
    cfg = config_for("binary", **DIGITS)
    runs = []
    for seed in (5, 5, 6):
        net = StdpNetwork(cfg, 64, seed=seed)
        c = net.present(xt[:200], learn=True)
        runs.append((c, net.states.copy(), net.theta.copy()))
    for a, b in zip(runs[0], runs[1]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(runs[0][1], runs[2][1])
    # each network owns its generator: interleaving two networks changes nothing
    n1, n2 = StdpNetwork(cfg, 64, seed=5), StdpNetwork(cfg, 64, seed=6)
    c1 = np.concatenate([n1.present(xt[:100], learn=True), n2.present(xt[:100], learn=True)[:0],
                         n1.present(xt[100:200], learn=True)])
    np.testing.assert_array_equal(c1, runs[0][0])
    # splitting a sequence into calls or chunks changes nothing either
    n3 = StdpNetwork(cfg, 64, seed=5)
    c3 = np.concatenate([n3.present(xt[:130], learn=True, chunk=7), n3.present(xt[130:200], learn=True)])
    np.testing.assert_array_equal(c3, runs[0][0])
    np.testing.assert_array_equal(n3.states, runs[0][1])


def test_read_weights_normalised_and_significance():
    cfg = config_for("ltst", neurons=6, init_p=0.5, norm_target=10.0)
    net = StdpNetwork(cfg, 30, seed=7)
    assert net.states.shape == (2, 30, 6)
    raw = cfg.significance[0] * net.states[0] + cfg.significance[1] * net.states[1]
    np.testing.assert_allclose(net.weights.sum(axis=0), 10.0, rtol=1e-12)
    np.testing.assert_allclose(net.weights, raw * 10.0 / raw.sum(axis=0), rtol=1e-12)
    plain = StdpNetwork(config_for("dw", neurons=6, normalise=False), 30, seed=7)
    np.testing.assert_allclose(plain.weights, plain.states[0] / 15.0, rtol=1e-12)


def test_energy_counts_switching_events(digits):
    (xt, _), _ = digits
    net = StdpNetwork(config_for("binary", **DIGITS), 64, seed=8)
    net.present(xt[:100], learn=True)
    e = net.programming_energy()
    events = net.switching_events()
    assert events == net.stats[0, K.ST_POT] + net.stats[0, K.ST_DEP] > 0
    e1 = float(mtj_neuron().write_energy(71e-6))
    assert e["energy_per_event_J"] == e1
    assert e["energy_J"] == pytest.approx(events * e1, rel=1e-12)
    assert e["energy_all_pulses_J"] >= e["energy_J"]


def test_label_assignment_and_prediction():
    counts = np.array([[5, 0, 1], [4, 1, 0], [0, 6, 0], [1, 3, 0], [0, 0, 0]])
    labels = np.array([2, 2, 7, 7, 1])
    a = assign_labels(counts, labels)
    np.testing.assert_array_equal(a, [2, 7, 2])
    np.testing.assert_array_equal(assign_labels(np.zeros((2, 2)), [0, 1]), [-1, -1])
    # neuron 0 and 2 vote for class 2 by their mean, neuron 1 for class 7
    np.testing.assert_array_equal(predict(np.array([[0, 4, 2], [6, 1, 0]]), a), [7, 2])


def test_save_and_load_round_trip(digits, tmp_path):
    (xt, _), (xs, _) = digits
    net = StdpNetwork(config_for("ltst", **{**DIGITS, "tau_plus": (0.025, 0.1)}, st_decay=30.0),
                      64, seed=10)
    net.present(xt[:150], learn=True)
    path = tmp_path / "net.npz"
    save_network(path, net, np.arange(50) % 10, {"note": "x"})
    back, assignments, meta = load_network(path, seed=3)
    assert meta == {"note": "x"} and back.config == net.config
    np.testing.assert_array_equal(assignments, np.arange(50) % 10)
    np.testing.assert_array_equal(back.states, net.states)
    np.testing.assert_array_equal(back.theta, net.theta)
    np.testing.assert_array_equal(back.weights, net.weights)
    net2, _, _ = load_network(path, seed=3)
    np.testing.assert_array_equal(back.present(xs[:20], learn=False), net2.present(xs[:20], learn=False))


def test_energy_at_accuracy_interpolates_the_first_crossing():
    curve = [dict(train_images=1000, accuracy=0.5, switching_events=100, energy_J=1.0),
             dict(train_images=2000, accuracy=0.7, switching_events=300, energy_J=3.0),
             dict(train_images=3000, accuracy=0.6, switching_events=400, energy_J=4.0),
             dict(train_images=4000, accuracy=0.9, switching_events=500, energy_J=5.0)]
    hit = energy_at_accuracy(curve, 0.6)
    assert hit == pytest.approx(dict(train_images=1500, switching_events=200, energy_J=2.0))
    assert energy_at_accuracy(curve, 0.25)["train_images"] == pytest.approx(500)
    assert energy_at_accuracy(curve, 0.95) is None


@pytest.mark.parametrize("kw, name", [
    (dict(p_pot=(1.5,)), "p_pot"), (dict(neurons=0), "neurons"), (dict(inhibition="soft"), "inhibition"),
    (dict(p_pot=(0.1, 0.1)), "tau_plus"), (dict(dt=-1.0), "dt"), (dict(levels=1), "levels"),
])
def test_config_validation_names_the_parameter(kw, name):
    with pytest.raises(ValueError, match=name):
        StdpConfig(**kw)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="variant"):
        config_for("ternary")
    with pytest.raises(ValueError, match="probability"):
        StdpConfig(max_rate=900.0)
    net = StdpNetwork(config_for("binary", neurons=3), 16)
    with pytest.raises(ValueError, match="pixels"):
        net.present(np.zeros((2, 15)), learn=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        net.present(np.full((2, 16), 2.0), learn=False)
    with pytest.raises(ValueError, match="train_images"):
        run_experiment(10, "binary", 0, 10, data=(np.zeros((5, 4)), np.zeros(5), np.zeros((5, 4)), np.zeros(5)))


def test_run_experiment_and_cli_on_digits(digits, capsys):
    (xt, yt), (xs, ys) = digits
    kw = {k: v for k, v in DIGITS.items() if k != "neurons"}
    r = run_experiment(20, "binary", 300, 100, seed=1, data=(xt, yt, xs, ys), label_images=300,
                       checkpoints=[100], **kw)
    assert [c["train_images"] for c in r["curve"]] == [100, 300]
    assert r["curve"][-1]["accuracy"] == r["accuracy"]
    assert r["curve"][0]["switching_events"] <= r["switching_events"]
    assert r["devices"] == 64 * 20
    assert r["train_presentations"] >= 300
    json.dumps(r)
    # checkpoints do not perturb training: the same run without them ends identically
    r2 = run_experiment(20, "binary", 300, 100, seed=1, data=(xt, yt, xs, ys), label_images=300, **kw)
    for key in ("accuracy", "switching_events", "train_presentations", "mean_test_spikes"):
        assert r2[key] == r[key], key
    assert main(["--variant", "binary", "--set", "bogus=1", "--quiet"]) == 2
    assert "unknown StdpConfig field" in capsys.readouterr().err


WEIGHTS = Path(golden.__file__).parent / "weights" / "stdp_binary_225.npz"


@pytest.mark.skipif(not WEIGHTS.exists(), reason="golden/weights/stdp_binary_225.npz not present")
def test_stored_binary_225_network_reproduces_its_accuracy():
    from spinbase.data import load_mnist

    net, assignments, meta = load_network(WEIGHTS, seed=11)
    assert meta["variant"] == "binary" and net.states.shape == (1, 784, 225)
    assert set(np.unique(net.states)) <= {0, 1}
    (_, _), (xs, ys) = load_mnist()
    n = 500
    pick = np.random.default_rng(0).choice(len(ys), n, replace=False)  # unbiased subset
    acc = float((predict(net.present(xs[pick], learn=False), assignments) == ys[pick]).mean())
    p = meta["accuracy"]  # measured on all 10,000 test images with other input spike trains
    assert abs(acc - p) < 4 * math.sqrt(p * (1 - p) / n), (acc, p)  # 4 binomial SE of 500


@pytest.mark.long
def test_cli_small_mnist_run(capsys):
    assert main(["--neurons", "20", "--train", "300", "--test", "200", "--label", "300", "--quiet"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["test_images"] == 200 and 0 <= r["accuracy"] <= 1


# Full MNIST runs ------------------------------------------------------------------------------
# The seed quotes ~80 % for 225 binary neurons (REFERENCES.md section 5). Requirement: the
# measured test accuracy is at least 80 % minus 4 binomial standard errors of the 10,000-image
# estimate (4 x 0.004 = 1.6 points).
SEED_ACC = 0.80
SEED_MARGIN = 4 * math.sqrt(SEED_ACC * (1 - SEED_ACC) / 10000)


@pytest.mark.long
@pytest.mark.parametrize("variant", ["binary", "dw", "ltst"])
def test_mnist_225_neurons_reach_seed_accuracy(variant):
    r = run_experiment(225, variant, 60000, 10000, seed=0)
    assert r["accuracy"] >= SEED_ACC - SEED_MARGIN, r["accuracy"]


@pytest.mark.long
def test_ltst_225_matches_single_array_400():
    # The seed's iso-accuracy pair (section V.2): LT-ST with 225 neurons (352,800 devices)
    # against one binary array with 400 neurons (313,600 devices). Equal within 4 standard
    # errors of the difference of two 10,000-image accuracies (sqrt(2) x 0.4 points each).
    lt = run_experiment(225, "ltst", 60000, 10000, seed=1)
    single = run_experiment(400, "binary", 60000, 10000, seed=1)
    assert lt["devices"] == 352_800 and single["devices"] == 313_600
    p = (lt["accuracy"] + single["accuracy"]) / 2
    assert abs(lt["accuracy"] - single["accuracy"]) < 4 * math.sqrt(2 * p * (1 - p) / 10000)
