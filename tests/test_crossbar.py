"""Tests of golden.crossbar: eq. 12, the Kirchhoff solve, weight mapping and tiling.

Reference: the seed's eq. 12 and its derivation (section V.1; REFERENCES.md section 4). Exact
identities are checked to a few ulps of the values involved; each other bound is derived next
to its assertion.
"""

import math

import numpy as np
import pytest

from golden.crossbar import (
    TiledCrossbar,
    ap_bias_factor,
    column_currents,
    column_gamma,
    dw_conductance_range,
    map_weights,
    nodal_solve,
    quantize_weights,
    weights_from_conductance,
)
from golden.devices import dw_neuron, dw_synapse
from golden.mtj import MtjStack

G_S = 1.0 / 157.0  # about the DW neuron's heavy-metal write conductance, S
DV = 0.05


def random_array(m, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(70e-6, 160e-6, (m, n)), rng.uniform(70e-6, 160e-6, (m, n)), rng


# --- eq. 12 --------------------------------------------------------------------------------------

def test_eq12_satisfies_the_seeds_kirchhoff_equation():
    """I_j = G_s V_s must solve sum_i G+ (V+ - V_s) + G- (V- - V_s) = G_s V_s (the seed's
    derivation), with non-spiking rows held at 0 V. Residual ~ eps x the largest term."""
    gp, gn, rng = random_array(12, 5)
    s = rng.random(12) < 0.5
    i = column_currents(gp, gn, s, DV, G_S)
    vs = i / G_S
    vp, vm = DV * s, -DV * s
    kcl = (gp * (vp[:, None] - vs)).sum(0) + (gn * (vm[:, None] - vs)).sum(0) - G_S * vs
    assert np.all(np.abs(kcl) < 1e-13 * (gp + gn).sum(0) * DV)


def test_gamma_counts_every_device_of_the_column_spiking_or_not():
    gp, gn, _ = random_array(6, 3)
    assert np.allclose(column_gamma(gp, gn, G_S), (gp.sum(0) + gn.sum(0)) / G_S, rtol=1e-15)
    # One spiking row: the current is that row's (G+ - G-) dv over (1 + gamma of all rows).
    s = np.zeros(6, bool)
    s[2] = True
    expected = (gp[2] - gn[2]) * DV / (1 + (gp + gn).sum(0) / G_S)
    assert np.allclose(column_currents(gp, gn, s, DV, G_S), expected, rtol=1e-14, atol=0)


def test_column_currents_batch_shapes():
    gp, gn, rng = random_array(10, 4)
    s = rng.random((7, 10)) < 0.5
    batch = column_currents(gp, gn, s, DV, G_S)
    assert batch.shape == (7, 4)
    assert column_currents(gp, gn, s[3], DV, G_S).shape == (4,)
    assert np.array_equal(batch[3], column_currents(gp, gn, s[3], DV, G_S))


@pytest.mark.parametrize("kwargs, text", [
    (dict(dv=0.0), "dv must be > 0 V, not 0.0"),
    (dict(g_s=-1.0), "g_s must be > 0 S"),
    (dict(spikes=np.ones(3, bool)), "spikes must have shape (4,) or (B, 4), not (3,)"),
    (dict(g_neg=np.full((4, 2), -1e-6)), "g_pos and g_neg must be finite and >= 0 S"),
])
def test_column_currents_validation(kwargs, text):
    args = dict(g_pos=np.full((4, 2), 1e-4), g_neg=np.full((4, 2), 1e-4), spikes=np.ones(4, bool), dv=DV, g_s=G_S)
    args.update(kwargs)
    with pytest.raises(ValueError, match=text.replace("(", r"\(").replace(")", r"\)")):
        column_currents(**args)


# --- Kirchhoff solve ------------------------------------------------------------------------------

def test_nodal_solve_without_wire_resistance_is_eq12():
    gp, gn, rng = random_array(30, 20, seed=3)
    s = rng.random((5, 30)) < 0.4
    ref = column_currents(gp, gn, s, DV, G_S)
    got = nodal_solve(gp, gn, s, DV, G_S)
    # One sparse LU of a diagonal system: rounding only (a few ulps of the column total).
    scale = (gp + gn).sum(0) * DV
    assert np.all(np.abs(got - ref) <= 1e-14 * scale)
    assert nodal_solve(gp, gn, s[0], DV, G_S).shape == (20,)


def test_nodal_solve_row_wire_ladder_matches_the_analytic_solution():
    """One input with only its V+ device (G- = 0), r_col = 0: the V+ row is a resistor
    ladder with shunt G_e = G G_s / (G + G_s) per column. Its exact solution is
    V_j = dv cosh(lam (n + 1/2 - j)) / cosh(lam (n + 1/2)), cosh(lam) = 1 + r G_e / 2
    (interior KCL V_{j-1} + V_{j+1} = (2 + r G_e) V_j, open far end), and I_j = G_e V_j."""
    n, g, r, dv = 12, 120e-6, 8.0, 0.08
    gp = np.full((1, n), g)
    gn = np.zeros((1, n))
    got = nodal_solve(gp, gn, [True], dv, G_S, r_row=r)
    ge = g * G_S / (g + G_S)
    lam = math.acosh(1 + r * ge / 2)
    j = np.arange(1, n + 1)
    expected = ge * dv * np.cosh(lam * (n + 0.5 - j)) / math.cosh(lam * (n + 0.5))
    assert np.allclose(got, expected, rtol=1e-11, atol=0)
    assert np.all(np.diff(got) < 0)  # IR drop: columns further from the driver get less


def _uniform_error(size, r):
    """Relative wire error of an all-spiking array of maximal positive weights."""
    gp = np.full((size, size), 160e-6)
    gn = np.full((size, size), 72.7e-6)
    s = np.ones(size, bool)
    ideal = column_currents(gp, gn, s, DV, G_S)
    wired = nodal_solve(gp, gn, s, DV, G_S, r_row=r, r_col=r)
    return (wired - ideal) / ideal


def test_ir_drop_lowers_the_current_and_grows_with_array_size():
    # Every column loses current to the wire drops (same sign everywhere) ...
    errs = [_uniform_error(size, 2.0) for size in (8, 16, 32, 64)]
    for e in errs:
        assert np.all(e < 0)
    # ... and the worst column loses more in a bigger array (longer wires, more current).
    worst = [e.min() for e in errs]
    assert worst[0] > worst[1] > worst[2] > worst[3]
    # Far from the drivers is worse than near (row wires).
    assert errs[-1][-1] < errs[-1][0]


def test_column_wire_penalises_rows_far_from_the_neuron():
    gp, gn, _ = random_array(16, 3, seed=5)
    near, far = np.zeros(16, bool), np.zeros(16, bool)
    near[-1], far[0] = True, True
    gp[0], gp[-1] = 150e-6, 150e-6
    gn[0], gn[-1] = 75e-6, 75e-6
    # Ideal wires: both rows give the same current.
    assert np.allclose(nodal_solve(gp, gn, near, DV, G_S), nodal_solve(gp, gn, far, DV, G_S), rtol=1e-13)
    i_near = nodal_solve(gp, gn, near, DV, G_S, r_col=5.0)
    i_far = nodal_solve(gp, gn, far, DV, G_S, r_col=5.0)
    assert np.all(i_far < i_near)


def test_ir_error_is_first_order_in_the_wire_resistance():
    """e(r) = a r + O(r^2): halving r must halve e to within the O(r) relative correction,
    which doubles from r/2 to r; so (e(r)/e(r/2) - 2) / (e(r/2)/e(r/4) - 2) must be ~ 2."""
    e1, e2, e4 = (_uniform_error(16, r).min() for r in (0.4, 0.2, 0.1))
    d1, d2 = e1 / e2 - 2, e2 / e4 - 2
    assert abs(d1) < 0.1  # linear to better than 5 %
    assert d1 / d2 == pytest.approx(2.0, rel=0.1)


# --- weight mapping ------------------------------------------------------------------------------

def test_dw_conductance_range_is_eq11_at_the_track_ends():
    dev = dw_synapse()
    g_min, g_max = dw_conductance_range(dev)
    assert g_min == pytest.approx(dev.g_ap + dev.g_dw, rel=1e-15)
    assert g_max == pytest.approx(dev.g_p + dev.g_dw, rel=1e-15)
    # The calibrated MTJ: R_P = 6.25 kohm, R_AP = 13.75 kohm (golden/dw.py).
    assert (1 / g_max, 1 / g_min) == (pytest.approx(6250.0), pytest.approx(13750.0))


def test_map_weights_levels_and_sides():
    g_min, g_max, levels = 70e-6, 160e-6, 16
    step = (g_max - g_min) / (levels - 1)
    w = np.array([[0.0, 1.0, -1.0, 0.5, -0.2, 3.0]])
    gp, gn = map_weights(w, g_min, g_max, levels, w_max=1.0)
    k = np.array([0, 15, 15, 8, 3, 15])  # round(|w| 15), 7.5 -> 8 (rint: half to even), clipped
    assert np.allclose(gp, np.where(w > 0, g_min + k * step, g_min), rtol=1e-14)
    assert np.allclose(gn, np.where(w < 0, g_min + k * step, g_min), rtol=1e-14)
    # Every programmed conductance is one of the levels.
    lv = g_min + step * np.arange(levels)
    assert np.all(np.min(np.abs(np.concatenate([gp, gn])[..., None] - lv), axis=-1) < 1e-18)


def test_weights_round_trip_within_half_a_level():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(40, 30))
    w_max = np.abs(w).max()
    gp, gn = map_weights(w, 72e-6, 160e-6, 16, w_max=w_max)
    back = weights_from_conductance(gp, gn, 72e-6, 160e-6, w_max)
    assert np.all(np.abs(back - w) <= w_max / 15 / 2 * (1 + 1e-12))
    assert np.allclose(back, quantize_weights(w, 16, w_max=w_max), rtol=0, atol=1e-12 * w_max)
    grid = quantize_weights(w, 16, w_max=w_max)
    assert np.allclose(weights_from_conductance(*map_weights(grid, 72e-6, 160e-6, 16, w_max=w_max),
                                                72e-6, 160e-6, w_max), grid, rtol=0, atol=1e-12 * w_max)


def test_map_weights_variation_is_lognormal_with_the_given_sigma():
    """ln(G / G_nominal) over N = 2 x 200 x 100 devices: mean 0 within 4 sigma/sqrt(N),
    standard deviation sigma within 4 sigma/sqrt(2N) (normal-sample standard errors)."""
    rng = np.random.default_rng(2)
    w = rng.normal(size=(200, 100))
    sigma = 0.1
    nom = np.stack(map_weights(w, 72e-6, 160e-6, 16))
    var = np.stack(map_weights(w, 72e-6, 160e-6, 16, variation=sigma, rng=7))
    z = np.log(var / nom).ravel()
    n = z.size
    assert abs(z.mean()) < 4 * sigma / math.sqrt(n)
    assert abs(z.std() - sigma) < 4 * sigma / math.sqrt(2 * n)


def test_read_voltage_raises_only_the_ap_part():
    g_min, g_max = 1 / 13750, 1 / 6250
    f = ap_bias_factor(0.1, g_min, g_max)
    # Default MtjStack: G_AP(V) = G_AP(0) (1 + k V^2), k = (TMR/2)/(1 + TMR/2)/v_half^2.
    tmr = 13750 / 6250 - 1
    assert f == pytest.approx(1 + (tmr / 2) / (1 + tmr / 2) / 0.5**2 * 0.1**2, rel=1e-12)
    assert 1 < ap_bias_factor(0.05, g_min, g_max) < f
    w = np.array([[1.0, -1.0, 0.0]])
    gp, gn = map_weights(w, g_min, g_max, 16, w_max=1.0, read_voltage=0.1)
    assert gp[0, 0] == pytest.approx(g_max, rel=1e-14)      # all-P device: bias independent
    assert gp[0, 1] == pytest.approx(g_min * f, rel=1e-14)  # all-AP device
    assert gn[0, 2] == pytest.approx(g_min * f, rel=1e-14)
    # The ON/OFF ratio shrinks with bias (seed section IV.2).
    assert gp[0, 0] / gp[0, 1] < g_max / g_min
    # A custom stack is honoured.
    stack = MtjStack(r_p=6250, r_ap=13750, v_half=0.25)
    assert ap_bias_factor(0.1, g_min, g_max, stack=stack) > f


@pytest.mark.parametrize("kwargs, text", [
    (dict(levels=1), "levels must be an integer >= 2, not 1"),
    (dict(g_max=50e-6), "g_max must be > g_min = 7e-05 S, not 5e-05"),
    (dict(variation=-0.1), "variation must be >= 0"),
    (dict(w_max=0.0), "w_max must be > 0"),
])
def test_map_weights_validation(kwargs, text):
    args = dict(w=np.ones((2, 2)), g_min=70e-6, g_max=160e-6, levels=16)
    args.update(kwargs)
    with pytest.raises(ValueError, match=text):
        map_weights(**args)


# --- tiling --------------------------------------------------------------------------------------

def test_tiled_crossbar_geometry_and_per_tile_gamma():
    rng = np.random.default_rng(4)
    w = rng.normal(size=(70, 40))
    tc = TiledCrossbar(w, tile=32, dv=DV)
    assert (tc.row_tiles, tc.col_tiles, tc.n_arrays) == (3, 2, 6)
    assert tc.gamma.shape == (3, 40)
    # Defaults: dw_synapse range and levels, dw_neuron write conductance.
    assert (tc.g_min, tc.g_max) == dw_conductance_range(dw_synapse())
    assert tc.g_s == pytest.approx(1 / dw_neuron().r_hm)
    # The last tile holds rows 64..69 only; unused rows do not load it.
    assert np.allclose(tc.gamma[2], (tc.g_pos[64:] + tc.g_neg[64:]).sum(0) / tc.g_s, rtol=1e-14)
    assert np.all(tc.gamma[2] < tc.gamma[0])


def test_tiled_currents_apply_each_tiles_own_gamma():
    rng = np.random.default_rng(5)
    w = rng.normal(size=(64, 8))
    w[32:] *= 0.05  # a lightly loaded second tile: its gamma differs from the first's
    tc = TiledCrossbar(w, tile=32, dv=DV)
    s = rng.random((3, 64)) < 0.5
    per_tile = sum(column_currents(tc.g_pos[t:t + 32], tc.g_neg[t:t + 32], s[:, t:t + 32], DV, tc.g_s)
                   for t in (0, 32)) / (DV * tc.g_unit)
    got = tc.currents(s)
    assert np.allclose(got, per_tile, rtol=1e-12, atol=1e-12 * np.abs(per_tile).max())
    # One gamma for all 64 rows would be a different (wrong) answer.
    untiled = column_currents(tc.g_pos, tc.g_neg, s, DV, tc.g_s) / (DV * tc.g_unit)
    assert np.abs(untiled - got).max() > 0.05 * np.abs(got).max()
    assert tc.tile_currents(s).shape == (3, 2, 8)


def test_tiled_currents_equal_the_untiled_product_as_gamma_vanishes():
    """With G_s -> large, 1/(1 + gamma) = 1 - gamma + ..., so each output differs from
    s @ weights by at most gamma_max * (|s| @ |weights|); weights are the quantised layer."""
    rng = np.random.default_rng(6)
    w = rng.normal(size=(100, 50))
    tc = TiledCrossbar(w, tile=32, dv=DV, g_s=1e4)
    s = rng.random((4, 100)) < 0.3
    ideal = s @ quantize_weights(w, 16)
    bound = tc.gamma.max() * (s @ np.abs(tc.weights)) + 1e-12
    assert np.all(np.abs(tc.currents(s) - ideal) <= bound)
    assert tc.gamma.max() < 1e-5
    assert tc.currents(s[0]).shape == (50,)
