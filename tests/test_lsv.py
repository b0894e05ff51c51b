"""Lateral spin valve neuron (golden.lsv, seed Ref. 103): spin diffusion and fan-in limit."""

import math

import numpy as np
import pytest

from golden.lsv import (
    continuum_fan_in_length, copper_channel, decision_error, decision_probability, fan_in_limit,
    input_current_for, spin_accumulation, transfer,
)


def test_absorbed_spin_current_decays_as_exp_minus_l_over_lambda():
    """Fit the decay exponent of the finite-difference model's absorbed spin current.

    Derivation of the bounds: away from the source and the ends the discrete equation
    (mu_{i+1} - 2 mu_i + mu_{i-1}) / h^2 = mu_i / lambda^2 has solutions q^i with
    q + 1/q = 2 + h^2 / lambda^2, i.e. the decay constant kappa_h = arccosh(1 + h^2/(2 lambda^2)) / h
    = (1 - h^2 / (24 lambda^2) + O(h^4)) / lambda; the jump condition at the source makes the
    absorbed current proportional to q^k exactly (k the source node), up to the far end's
    reflection ~ e^{-2 x 12} here. So the fitted exponent equals kappa_h to round-off (1e-9)
    and differs from 1 / lambda by at most h^2 / (24 lambda^2) (1.04e-4 at h = lambda / 20).
    """
    ch = copper_channel()
    lam = ch.spin_flip_length
    h = lam / 20
    ls = np.array([0.5, 1.0, 2.0, 3.0]) * lam
    absorbed = np.array([spin_accumulation(ch, [x], [1e-6], step=h)[2] for x in ls])
    kappa = -np.polyfit(ls, np.log(absorbed), 1)[0]
    kappa_h = math.acosh(1 + h * h / (2 * lam * lam)) / h
    assert kappa == pytest.approx(kappa_h, rel=1e-9)
    assert abs(kappa * lam - 1) <= h * h / (24 * lam * lam)
    # The closed form transfer() agrees with the grid: the decay difference (h^2/(24 lambda^2)) L/lambda
    # plus the second-order boundary condition's O(h^2/lambda^2).
    ratio = absorbed / (transfer(ch, ls) * 1e-6)
    assert np.all(np.abs(ratio - 1) <= (h / lam) ** 2 * (ls / lam / 24 + 1))


def test_profile_beyond_the_input_is_exponential_and_inputs_add():
    """Past the injector mu_s falls by e^{-kappa_h h} per node; opposite inputs at one place cancel."""
    ch = copper_channel()
    lam = ch.spin_flip_length
    h = lam / 20
    x, mu, _ = spin_accumulation(ch, [lam], [1e-6], step=h)
    i0 = int(round(2 * lam / h))
    r = mu[i0 + 1: i0 + 40] / mu[i0: i0 + 39]
    assert np.allclose(r, math.exp(-math.acosh(1 + h * h / (2 * lam * lam))), rtol=1e-9)
    _, _, a1 = spin_accumulation(ch, [lam, 2 * lam], [1e-6, 0.0])
    _, _, a2 = spin_accumulation(ch, [lam, 2 * lam], [0.0, 2e-6])
    _, _, both = spin_accumulation(ch, [lam, 2 * lam], [1e-6, 2e-6])
    assert both == pytest.approx(a1 + a2, rel=1e-12)
    _, _, zero = spin_accumulation(ch, [lam, lam], [1e-6, -1e-6])
    assert abs(zero) < 1e-12 * abs(a1)
    assert input_current_for(ch, a1, lam) == pytest.approx(1e-6, rel=1e-4)  # grid vs closed form, O(h^2)


def test_decision_error_matches_monte_carlo():
    """Sheppard's arccos(rho) / pi against a direct count with Gaussian inputs.

    200,000 draws: SE = sqrt(p (1 - p) / N) <= 1e-3; bound 3 SE.
    """
    ch = copper_channel()
    lam = ch.spin_flip_length
    pitch, n, draws = 0.1 * lam, 6, 200_000
    a = transfer(ch, pitch * np.arange(1, n + 1))
    s = np.random.default_rng(7).standard_normal((draws, n))
    p_mc = np.mean(np.sign(s @ a) != np.sign(s.sum(axis=1)))
    p = decision_error(n, pitch, lam)
    assert abs(p_mc - p) < 3 * math.sqrt(p * (1 - p) / draws)
    assert decision_error(1, pitch, lam) == 0.0


def test_fan_in_limit_falls_with_length_and_grows_with_lambda():
    lam = 350e-9
    by_length = [fan_in_limit(L, lam) for L in (1e-9, 3e-9, 10e-9, 30e-9, 100e-9)]
    assert all(b <= a for a, b in zip(by_length, by_length[1:])) and by_length[0] > by_length[-1]
    by_lambda = [fan_in_limit(10e-9, lam) for lam in (100e-9, 350e-9, 1e-6, 3e-6)]
    assert all(b >= a for a, b in zip(by_lambda, by_lambda[1:])) and by_lambda[-1] > by_lambda[0]
    for L in (2e-9, 10e-9):
        n = fan_in_limit(L, lam, error=0.01)
        assert decision_error(n, L, lam) < 0.01 <= decision_error(n + 1, L, lam)
    assert fan_in_limit(10e-9, lam, error=0.05) > fan_in_limit(10e-9, lam, error=0.01)
    with pytest.raises(ValueError):
        fan_in_limit(-1e-9, lam)
    with pytest.raises(ValueError):
        fan_in_limit(1e-9, lam, error=0.7)


def test_fan_in_limit_for_short_pitch_is_the_continuum_length():
    """L << lambda: n_max L / lambda -> s*, arccos(sqrt(tanh(s*/2)/(s*/2))) = pi error.

    Derivation: rho_n^2 = tanh(n x / 2) / (n tanh(x / 2)) and n tanh(x/2) = (n x / 2)(1 - x^2/12 + ...),
    so with s = n x the error is the continuum one up to O(x^2); n_max is the floor of the
    crossing, so |n_max x - s*| <= x + O(x^2). At x = 1e-5 the bound is 2x.
    The small-s expansion rho^2 = 1 - s^2/12 + O(s^4) gives s* = 2 sqrt(3) pi error (1 + O(s*^2 / 4)):
    within 1 % at error = 0.01 (s* = 0.109).
    """
    lam, x = 350e-9, 1e-5
    s_star = continuum_fan_in_length(0.01)
    assert abs(fan_in_limit(x * lam, lam) * x - s_star) <= 2 * x
    assert s_star == pytest.approx(2 * math.sqrt(3) * math.pi * 0.01, rel=1e-2)


def test_decision_through_the_macrospin_neuron():
    """The absorbed spin current drives golden.devices.step_neuron's preset/evaluate magnet.

    +-12 uA of spin current is +-20 uA of the step neuron's MTJ current (eta = 0.6), where its
    docstring measured P(+z) = 1 and 0 (600 trials). With 60 trials, a true p >= 0.99 gives
    p_hat < 0.85 with probability < 1e-6 (binomial tail).
    """
    p, _ = decision_probability(np.array([12e-6, -12e-6]), trials=60, rng=11)
    assert p[0] > 0.85 and p[1] < 0.15
