"""golden.variation: each perturbation's statistics against its definition, the IR-drop solve
against a circuit solved by hand, and the accuracy sweep's two ends (issue 18, item 3).

Bounds are Monte-Carlo ones: a sample mean of N draws is within 5 standard errors of its
expectation except with probability 6e-7, a binomial count within 5 sqrt(N p (1 - p)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from golden import variation as V
from golden.crossbar import quantize_weights


def _norm_sf(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2))


# (a) conductance spread -----------------------------------------------------------------------
@pytest.mark.parametrize("sigma", [0.05, 0.3])
def test_lognormal_spread_has_sigma_of_ln_g(sigma):
    """ln(G'/G) = sigma z: its sample mean is within 5 sigma / sqrt(N) of 0 and its sample
    std within 5 SE of sigma, SE(s) = sigma / sqrt(2 (N - 1)) for a normal sample."""
    n = 20000
    g = np.full(n, 1e-4)
    lg = np.log(V.spread(g, sigma, np.random.default_rng(1)) / g)
    assert abs(lg.mean()) < 5 * sigma / math.sqrt(n)
    assert abs(lg.std(ddof=1) - sigma) < 5 * sigma / math.sqrt(2 * (n - 1))


def test_gaussian_spread_has_relative_sigma():
    """G'/G - 1 = sigma z (clipping at 0 needs z < -10 at sigma 0.1: never): std within 5 SE."""
    n, sigma = 20000, 0.1
    g = np.linspace(1e-5, 2e-4, n)
    rel = V.spread(g, sigma, np.random.default_rng(2), dist="gaussian") / g - 1
    assert abs(rel.mean()) < 5 * sigma / math.sqrt(n)
    assert abs(rel.std(ddof=1) - sigma) < 5 * sigma / math.sqrt(2 * (n - 1))


def test_sigma_on_pairs_gives_the_weight_variance_of_two_devices():
    """A zero weight is the pair (g_min, g_min); with spread both devices move, so
    w' = g_min (e^{s z1} - e^{s z2}) / G_o with variance 2 g_min^2 Var(e^{s z}) / G_o^2,
    Var(e^{s z}) = (e^{s^2} - 1) e^{s^2}. The sample variance is within 5 SE of it, the SE
    from the sample's own fourth moment, sqrt((m4 - s^4) / N)."""
    g_min, g_max = V.device_range()
    n, s = 40000, 0.1
    w = np.zeros((200, 200))
    w[0, 0] = 1.0                                     # w_max = 1: G_o = g_max - g_min
    wp = V.perturb_matrix(w, "sigma", s, np.random.default_rng(3), g_min=g_min, g_max=g_max).ravel()[1:]
    var = 2 * g_min ** 2 * (math.exp(s * s) - 1) * math.exp(s * s) / (g_max - g_min) ** 2
    d = wp - wp.mean()
    m2, m4 = np.mean(d ** 2), np.mean(d ** 4)
    assert abs(m2 - var) < 5 * math.sqrt((m4 - m2 ** 2) / (n - 1))


# (b) stuck devices ----------------------------------------------------------------------------
def test_stuck_fraction_within_binomial_bounds():
    """Stuck count within 5 sqrt(N p (1 - p)) of N p; the stuck-ON share of the stuck devices
    within 5 binomial SE of on_fraction; stuck devices read exactly g_on / g_off, the others
    are unchanged."""
    n, p, on = 200000, 0.02, 0.3
    g = np.random.default_rng(0).uniform(1e-5, 1e-4, n)
    g2, stuck, is_on = V.stick(g, p, 7e-5, 1.6e-4, np.random.default_rng(4), on_fraction=on)
    k = stuck.sum()
    assert abs(k - n * p) < 5 * math.sqrt(n * p * (1 - p))
    assert abs(is_on.sum() / k - on) < 5 * math.sqrt(on * (1 - on) / k)
    assert np.all(g2[is_on] == 1.6e-4) and np.all(g2[stuck & ~is_on] == 7e-5)
    assert np.array_equal(g2[~stuck], g[~stuck])


def test_stuck_sets_are_nested_in_p():
    """One rng state: every device stuck at p is stuck at a larger p (common random numbers)."""
    g = np.ones(5000)
    s1 = V.stick(g, 0.01, 0, 2, np.random.default_rng(5))[1]
    s2 = V.stick(g, 0.05, 0, 2, np.random.default_rng(5))[1]
    assert s1.sum() > 0 and np.all(s2[s1])


# (c) DW pinning -------------------------------------------------------------------------------
def test_pinning_miss_rate_and_exact_ends():
    """Interior notches land off with probability P(|round(sigma z)| >= 1) = 2 Q(0.5 / sigma)
    (k = 7 of 16 levels: clipping needs 7 notches, 14 sigma at 0.5); the mean offset is 0
    within 5 SE; devices at notch 0 and 15 stay exact."""
    n, sigma, levels = 40000, 0.5, 16
    k = np.full(n, 7.0)
    k2 = V.pin(k, levels, sigma, np.random.default_rng(6))
    p = 2 * _norm_sf(0.5 / sigma)
    miss = np.mean(k2 != k)
    assert abs(miss - p) < 5 * math.sqrt(p * (1 - p) / n)
    assert np.all(k2 == np.rint(k2))
    d = k2 - k
    assert abs(d.mean()) < 5 * d.std() / math.sqrt(n)
    ends = np.array([0.0, 15.0] * 100)
    assert np.array_equal(V.pin(ends, levels, 3.0, np.random.default_rng(7)), ends)


# (d) MTJ sigmoid dispersion -------------------------------------------------------------------
def test_mtj_dispersion_statistics():
    """i50_j / I50 - 1 and width_j / w - 1 have mean 0 (5 SE) and std sigma (5 SE); the clip of
    the width at 0.05 needs z < -9.5 at sigma 0.1: never."""
    from golden.neurons import I50_FIT, WIDTH_FIT

    sigma = 0.1
    d = V.mtj_dispersion({"a": (100, 100, 4)}, sigma, np.random.default_rng(8))["a"]
    n = 40000
    for arr, nominal in ((d[0], I50_FIT), (d[1], WIDTH_FIT)):
        rel = arr.ravel() / nominal - 1
        assert abs(rel.mean()) < 5 * sigma / math.sqrt(n)
        assert abs(rel.std(ddof=1) - sigma) < 5 * sigma / math.sqrt(2 * (n - 1))


# (e) gamma and IR drop ------------------------------------------------------------------------
def _direct_solve(g_pos, g_neg, dv, g_s, r):
    """A crossbar written out node by node (dense nodal analysis, written independently of
    golden.crossbar): physical row q = 2i (+dv when input i spikes) or 2i + 1 (-dv), driven
    through r into its node at column 0, r between its column nodes; device (q, j) joins row
    node (q, j) to column node (q, j); column nodes chained by r from row 0 down, the last
    through r into the neuron node, g_s to ground. Returns the (m, n) neuron currents for
    each unit input."""
    m, n = g_pos.shape
    rows = 2 * m
    gd = np.empty((rows, n))
    gd[0::2], gd[1::2] = g_pos, g_neg
    R = lambda q, j: q * n + j                                     # noqa: E731
    C = lambda q, j: rows * n + q * n + j                          # noqa: E731
    N = lambda j: 2 * rows * n + j                                 # noqa: E731
    size = 2 * rows * n + n
    gw = 1.0 / r
    out = np.empty((m, n))
    for i in range(m):
        A = np.zeros((size, size))
        b = np.zeros(size)

        def link(a, c, g, A=A):
            A[a, a] += g
            A[c, c] += g
            A[a, c] -= g
            A[c, a] -= g

        for q in range(rows):
            v = (dv if q == 2 * i else -dv if q == 2 * i + 1 else 0.0)
            A[R(q, 0), R(q, 0)] += gw
            b[R(q, 0)] += gw * v
            for j in range(n):
                link(R(q, j), C(q, j), gd[q, j])
                if j + 1 < n:
                    link(R(q, j), R(q, j + 1), gw)
                link(C(q, j), C(q + 1, j) if q + 1 < rows else N(j), gw)
        for j in range(n):
            A[N(j), N(j)] += g_s
        v = np.linalg.solve(A, b)
        out[i] = g_s * v[[N(j) for j in range(n)]]
    return out


def test_ir_effective_weights_equal_a_direct_circuit_solve():
    """The nodal-solve effective weights of a 3 x 2 crossbar (uncompensated, weight units x
    dv G_o = amperes) equal the hand-built circuit's currents to solver rounding."""
    g_min, g_max = V.device_range()
    w = np.array([[0.5, -1.0], [0.2, 0.7], [-0.3, 0.0]])
    dv, g_s, r = 0.05, 1 / 157.0, 5.0
    res = V.ir_effective_weights(w, r, g_min=g_min, g_max=g_max, g_s=g_s, dv=dv, compensate=False)
    gp, gn, unit = V.pair_conductances(w, g_min, g_max)
    want = _direct_solve(gp, gn, dv, g_s, r)
    np.testing.assert_allclose(res["weights"] * dv * unit, want, rtol=1e-10, atol=1e-18)


def test_ir_drop_vanishes_with_wire_resistance_and_loading():
    """Ideal wires: the compensated effective weights equal w (eq. 12 is exact there) to
    rounding and the IR part of gamma is 0; it grows to first order in r (gamma_ir(r) / r
    constant within 1 % between 1e-4 and 1e-3 ohm). An ideal neuron input (g_s -> inf):
    gamma -> 0 and the uncompensated weights equal w (error ~ gamma ~ 1e-9)."""
    w = np.random.default_rng(9).standard_normal((40, 7))
    r0 = V.ir_effective_weights(w, 0.0)
    np.testing.assert_allclose(r0["weights"], w, rtol=0, atol=1e-12 * np.abs(w).max())
    np.testing.assert_allclose(r0["gamma_eff"], r0["gamma"], rtol=1e-12)
    assert np.abs(r0["gamma_ir"]).max() < 1e-12
    a, b = (np.nanmean(V.ir_effective_weights(w, r)["gamma_ir"]) for r in (1e-4, 1e-3))
    assert a > 0 and abs((b / 1e-3) / (a / 1e-4) - 1) < 0.01
    big = V.ir_effective_weights(w, 0.0, g_s=1e6, compensate=False)
    assert big["gamma"].max() < 1e-8
    np.testing.assert_allclose(big["weights"], w, rtol=0, atol=1e-7 * np.abs(w).max())
    gam = np.nanmean(V.ir_effective_weights(w, 10.0)["gamma_ir"])
    assert gam > 100 * a                              # and grows with r


def test_gamma_weights_follow_eq12_with_the_requested_mean():
    """Mean of gamma_tj is the requested gamma; each weight is scaled by its tile column's
    (1 / (1 + gamma_tj)) / mean(1 / (1 + gamma)); gamma 0 returns w exactly."""
    w = np.random.default_rng(10).standard_normal((70, 5))
    w2, gam = V.gamma_weights(w, 0.8)
    assert gam.shape == (3, 5) and abs(gam.mean() - 0.8) < 1e-12
    f = 1 / (1 + gam)
    f = f / f.mean()
    np.testing.assert_allclose(w2[32:64], w[32:64] * f[1], rtol=1e-13)
    assert np.array_equal(V.gamma_weights(w, 0.0)[0], w)


def test_zero_perturbation_is_the_identity():
    """Value 0 of every weight kind returns the stored arrays bit for bit (dtype kept);
    dw_pinning at 0 returns the 16-level quantised weights of golden.crossbar."""
    rng = np.random.default_rng(11)
    base = {"conv1": rng.standard_normal((6, 1, 5, 5)).astype(np.float32),
            "conv2": rng.standard_normal((12, 6, 5, 5)).astype(np.float32),
            "fc": rng.standard_normal((10, 192)).astype(np.float32)}
    for kind in ("sigma", "stuck", "gamma", "ir_drop"):
        out, _ = V.perturb_weights(base, kind, 0.0, 1)
        for k in base:
            assert out[k].dtype == np.float32 and np.array_equal(out[k], base[k]), (kind, k)
    out, _ = V.perturb_weights(base, "dw_pinning", 0.0, 1)
    mats = V.layer_matrices(base)
    for k in base:
        want = quantize_weights(mats[k], 16).T.reshape(base[k].shape).astype(np.float32)
        assert np.array_equal(out[k], want), k


# Accuracy ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist():
    from spinbase.data import load_mnist

    return load_mnist()


def test_zero_variation_accuracy_equals_the_unperturbed_model(mnist):
    """Network 1 at sigma 0 (its pooling as crossbars) scores what golden.snn.simulate scores on
    the unperturbed description; network 2 with undispersed sigmoids spikes as
    simulate_stochastic, prediction for prediction (same spike draws)."""
    from golden import cnn, snn
    from golden.network import PERCENTILE, from_weights

    _, (x, y) = mnist
    x, y = x[:60], y[:60]
    r = V.accuracy_vs_variation("cnn-if", "sigma", [0.0], trials=2, images=60, steps=20)
    w = snn.normalised_cnn(PERCENTILE["twin-if"])[0]
    assert r["accuracy"][0]["mean"] == snn.simulate(from_weights("cnn-if", w), x, y, steps=20, rng=0)["accuracy"][20]
    params = cnn.train_cnn(cnn.SIGMOID_CONFIG)[0]
    shapes = V.stage_shapes(from_weights("cnn-stochastic", params))
    disp = V.mtj_dispersion(shapes, 0.0, 0)
    a = V.simulate_dispersed(params, x, y, disp, steps=10, rng=3)
    b = snn.simulate_stochastic(params, x, y, steps=10, rng=3)
    assert np.array_equal(a["predictions"][10], b["predictions"][10])


def test_accuracy_degrades_at_large_sigma(mnist):
    """At sigma 0.3 the spread of a zero weight alone is 1.2 x 0.3 = 0.36 of w_max, above the
    layers' rms weight (info: weight_error_rms > 1), so the network must lose heavily: the
    mean over 2 draws on 100 images is at least 30 points below sigma 0 (the binomial SE of
    100 images is <= 5 points, so a real drop under 30 points would fail this)."""
    r = V.accuracy_vs_variation("cnn-if", "sigma", [0.0, 0.3], trials=2, images=100, steps=30)
    a0, a1 = (a["mean"] for a in r["accuracy"])
    assert all(v["weight_error_rms"] > 1 for v in r["info"][1].values())
    assert a1 < a0 - 0.3


def test_pooling_crossbar_computes_the_pool_and_leaks_under_spread(mnist):
    """pool_as_conv is the pooling: network 1 with its pools replaced by their crossbars
    (perturb_network at sigma 0) predicts as the description does, image for image. Under a
    lognormal spread sigma the off-diagonal pairs (both devices at g_min, weight 0) read
    ``g_min (e^{s z1} - e^{s z2}) / G_o``, ``G_o = (g_max - g_min) / w_max`` (w_max = 1/4): std
    ``g_min sqrt(2 (e^{s^2} - 1) e^{s^2}) w_max / (g_max - g_min)``; over the 4 (C^2 - C) = 120
    off-diagonal entries of pool1 the sample std is within 4 of its standard errors
    (1 / sqrt(2 (n - 1)) relative) of that."""
    from golden import snn
    from golden.network import PERCENTILE, Conv2d, from_weights

    _, (x, y) = mnist
    desc = from_weights("cnn-if", snn.normalised_cnn(PERCENTILE["twin-if"])[0])
    ideal, _ = V.perturb_network(desc, "sigma", 0.0, 1)
    assert isinstance(ideal.layers[1], Conv2d) and ideal.layers[1].stride == 2
    a = snn.simulate(desc, x[:40], y[:40], steps=15, rng=0)["predictions"][15]
    b = snn.simulate(ideal, x[:40], y[:40], steps=15, rng=0)["predictions"][15]
    assert np.array_equal(a, b)
    s = 0.1
    noisy, info = V.perturb_network(desc, "sigma", s, 2)
    w = noisy.layers[1].weight                                    # (C, C, 2, 2)
    off = w[~np.eye(6, dtype=bool)].ravel()
    g_min, g_max = V.device_range()
    want = g_min * math.sqrt(2 * (math.exp(s * s) - 1) * math.exp(s * s)) * 0.25 / (g_max - g_min)
    n = off.size
    assert n == 120 and abs(off.std(ddof=1) / want - 1) < 4 / math.sqrt(2 * (n - 1))
    assert set(info) == {"conv1", "pool1", "conv2", "pool2", "fc"}


# Network 3 ----------------------------------------------------------------------------------------
def test_stdp_perturbation_reads_and_holds():
    """Unit spread factors read the network's own weights bit for bit; stuck devices hold
    their state through on-line learning (forced back after each image)."""
    from golden.cnn import WEIGHTS_DIR
    from golden.stdp_network import load_network

    net, _, _ = load_network(WEIGHTS_DIR / V.STDP_WEIGHTS)
    ideal = net.weights.copy()
    V._PerturbedStdp(net, np.ones(net.states.shape))
    assert np.array_equal(net.weights, ideal)
    stuck = np.zeros(net.states.shape, bool)
    stuck[0, 100:400:3, :] = True                     # inputs in the image centre: they do spike
    hold = (np.arange(stuck.size).reshape(stuck.shape) % 2).astype(np.int8)
    pert = V._PerturbedStdp(net, None, stuck, hold)
    from spinbase.data import load_mnist

    (xt, _), _ = load_mnist()
    pert.learn(xt[:5])
    assert np.array_equal(net.states[stuck], hold[stuck])
    assert net.switching_events() > 0                  # learning did run
