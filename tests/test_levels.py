"""golden.levels: the conductance levels a read tells apart (the seed's "15-20 levels" of the
DW synapse, section IV), checked against limits of the noise formula and against an independent
Monte-Carlo decoder, not against the count the device was built with."""

import math

import numpy as np
import pytest

from golden.constants import E_CHARGE, KB
from golden.devices import dw_synapse
from golden.levels import distinguishable_levels, misread_probabilities, read_noise_sigma


def test_read_noise_has_the_johnson_and_shot_limits():
    """S_I = 2 e I coth(eV/2kT) -> 4kTG for eV << kT and -> 2 e I for eV >> kT. With
    x = eV/2kT, x coth x = 1 + x^2/3 - ..., so at x = 0.01 the Johnson limit holds to 3.4e-5
    (bound 1e-4); coth(50) - 1 = 2 exp(-100), so the shot limit holds to float rounding."""
    g, t, temp = 1e-4, 1e-9, 300.0
    v_small = 0.01 * 2 * KB * temp / E_CHARGE
    s_small = read_noise_sigma(g, v_small, t, temp) ** 2 * 2 * t
    assert s_small == pytest.approx(4 * KB * temp * g, rel=1e-4)
    v_large = 50 * 2 * KB * temp / E_CHARGE
    s_large = read_noise_sigma(g, v_large, t, temp) ** 2 * 2 * t
    assert s_large == pytest.approx(2 * E_CHARGE * g * v_large, rel=1e-12)
    # Averaging 4x longer halves the noise.
    assert read_noise_sigma(g, 0.05, 4 * t) == pytest.approx(read_noise_sigma(g, 0.05, t) / 2, rel=1e-12)


@pytest.mark.parametrize("n, sigma_rel", [(17, 0.0), (8, 0.01), (12, 0.005)])
def test_misread_probabilities_equal_a_monte_carlo_decoder(n, sigma_rel):
    """Draw read currents I = V G_k (1 + sigma_rel z1) + sigma_noise(G_k) z2 per level (200,000
    reads each), decode each to the nearest nominal current, count the errors. The formula's
    per-level probability p must lie within 5 standard errors sqrt(p (1 - p) / M) + 1/M of the
    count: a two-sided 5-sigma excursion has probability 5.7e-7, so over the 37 levels compared
    in the three cases a false alarm has probability below 2.2e-5 (the 1/M term covers p ~ 0)."""
    d = dw_synapse()
    v, t, m = 0.05, 1e-9, 200_000
    rng = np.random.default_rng(11)
    g = d.g_ap + (d.g_p - d.g_ap) * np.arange(n) / (n - 1)
    nominal = v * g
    p = misread_probabilities(d.g_ap, d.g_p, n, read_voltage=v, read_time=t, sigma_rel=sigma_rel)
    noise = read_noise_sigma(g, v, t)
    for k in range(n):
        i = nominal[k] * (1 + sigma_rel * rng.standard_normal(m)) + noise[k] * rng.standard_normal(m)
        decoded = np.abs(i[:, None] - nominal[None, :]).argmin(axis=1)
        rate = np.mean(decoded != k)
        se = math.sqrt(p[k] * (1 - p[k]) / m) + 1 / m
        assert abs(rate - p[k]) <= 5 * se, (k, rate, p[k], se)


def test_distinguishable_levels_is_the_boundary_and_moves_with_the_read():
    d = dw_synapse()
    kw = dict(read_voltage=0.05, read_time=1e-9)
    for sigma_rel in (0.0, 0.01, 0.03):
        n = distinguishable_levels(d.g_ap, d.g_p, sigma_rel=sigma_rel, symbol_error=1e-3, **kw)
        assert n >= 2
        assert misread_probabilities(d.g_ap, d.g_p, n, sigma_rel=sigma_rel, **kw).max() <= 1e-3
        assert misread_probabilities(d.g_ap, d.g_p, n + 1, sigma_rel=sigma_rel, **kw).max() > 1e-3
    counts = [distinguishable_levels(d.g_ap, d.g_p, read_time=t) for t in (0.5e-9, 1e-9, 4e-9)]
    assert counts[0] < counts[1] < counts[2]                 # longer reads average the noise down
    spread = [distinguishable_levels(d.g_ap, d.g_p, sigma_rel=s) for s in (0.0, 0.01, 0.05)]
    assert spread[0] > spread[1] > spread[2]
    # Variation alone (no read noise in the limit of a long read) caps the count: with
    # sigma_rel = 5 %, adjacent levels 1/(n-1) of the range apart need (G_P - G_AP)/(n-1) >=
    # 2 x 3.29 x 0.05 G_P at 1e-3 for the top level, so n - 1 <= 0.545 / 0.329 and n <= 2.
    assert distinguishable_levels(d.g_ap, d.g_p, sigma_rel=0.05, read_time=1e-6) == 2


def test_the_dw_synapse_levels_hold_only_when_write_verified():
    """The seed's 16-level DW synapse read for 1 ns at 50 mV (golden.energy's crossbar read):
    the tunnelling noise alone leaves all 16 levels distinguishable at a 1e-3 misread rate, a
    2 % device-to-device spread (MTJ arrays: a few %) does not: the seed's 15-20 needs each
    device written with verify."""
    d = dw_synapse()
    assert distinguishable_levels(d.g_ap, d.g_p, sigma_rel=0.0) >= d.levels
    assert distinguishable_levels(d.g_ap, d.g_p, sigma_rel=0.02) < d.levels


@pytest.mark.parametrize("kw, words", [
    (dict(read_voltage=0.0), "read_voltage must be a finite number > 0"),
    (dict(read_time=float("nan")), "read_time must be a finite number > 0"),
    (dict(sigma_rel=-0.1), "sigma_rel must be a finite number >= 0"),
    (dict(symbol_error=1.0), "symbol_error must be in (0, 1)"),
])
def test_bad_arguments_are_one_line(kw, words):
    d = dw_synapse()
    with pytest.raises(ValueError) as e:
        distinguishable_levels(d.g_ap, d.g_p, **kw)
    assert words in str(e.value)
