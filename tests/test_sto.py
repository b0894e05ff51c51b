"""Spin-torque oscillators (golden.sto): threshold, frequency, Adler locking, N-oscillator locking.

Each bound is derived in the test's docstring. Notation: I_c the analytic threshold current,
f(I) = gamma mu0 b_J(I) / (2 pi alpha) the analytic cone frequency, K = gamma mu0 kappa H_K / alpha
the weak-coupling phase-coupling strength (golden.sto module docstring).
"""

import math

import numpy as np
import pytest
from golden import llg, sto
from golden.constants import E_CHARGE, GAMMA, HBAR, MU0

P = sto.default_sto()
IC = P.threshold_current()
I_EQ = IC * P.h_ext / (P.h_ext - P.m_eff)  # current whose cone is the equator (cos theta* = 0)


def test_threshold_current_matches_slonczewski():
    """The growth rate of a small cone crosses zero at the analytic I_c0.

    Exact identity of the axisymmetric model (module docstring): with u = ln tan(theta/2),
    du/dt = dtheta/dt / sin(theta) = sigma(I) + gamma' alpha M_eff (m_z - 1), where
    sigma(I) = gamma' [b_J (1 + alpha beta) - alpha (H - M_eff)] is the linear growth rate,
    zero exactly at I_c0. So sigma_meas = [u(T) - u(0) - gamma' alpha M_eff int (m_z - 1) dt] / T
    for any amplitude. Bound on sigma_meas - sigma: Heun's rotation step inflates |m_perp| by
    x^4/8 per step (x = omega dt), which renormalisation turns into an extra dtheta/dt =
    (x^4 / (8 dt)) sin cos; with omega = 2 pi 5.6 GHz, dt = 0.5 ps, x = 0.0176 this is
    2.4e4 1/s, 3.4e-5 of the slope d sigma / d(I / I_c) = gamma' alpha (H - M_eff) (7.0e8 1/s):
    we allow 1e-3 relative on I_c (the trapezoidal integral of m_z, sampled every 10 steps of
    a 5.6 GHz precession of a slowly changing cone, adds < 1e-6).
    """
    ratios = np.array([0.9, 0.95, 1.05, 1.1])
    sigma = sto.growth_rates(ratios * IC, duration=20e-9, dt=0.5e-12)
    gp = GAMMA * MU0 / (1 + P.alpha**2)
    # The amplitude falls below and grows above the threshold.
    assert np.all(np.sign(sigma) == np.sign(ratios - 1))
    assert np.allclose(sigma, P.growth_rate(ratios * IC), rtol=0, atol=1e-3 * gp * P.alpha * (P.h_ext - P.m_eff))
    slope, icept = np.polyfit(ratios * IC, sigma, 1)
    assert abs(-icept / slope / IC - 1) < 1e-3
    # The analytic threshold is the Slonczewski form with the field-like correction.
    ic0 = 2 * E_CHARGE * P.alpha * MU0 * P.ms * P.volume / (HBAR * P.eta) * (P.h_ext + P.hk - P.ms)
    assert IC == pytest.approx(ic0 / (1 + P.alpha * P.beta), rel=1e-12)


def test_frequency_rises_with_current_as_analytic():
    """f(I) rises monotonically across the precession window and equals gamma mu0 b_J / (2 pi alpha).

    The measured mean frequency carries Heun's error, derived for this cone: the pure-rotation
    phase error x^2/6 (x = 2 pi f dt) plus the cone shift from renormalising Heun's x^4/8
    amplitude inflation, x^3 cos(theta*) / (8 alpha) (module docstring's cone condition with an
    extra (x^4/(8 dt)) cos term). Higher orders are smaller by a further factor x, so we
    require |err - pred| <= x |pred| for x <= 0.075 (currents up to the equator cone at 0.5 ps).
    Frequency-measurement resolution is not a limit: the start is on the analytic cone, so the
    rotation is uniform to within the tiny numerical-cone shift.
    """
    cur = IC * np.array([1.2, 2.0, 3.0, 4.0, 5.0, 6.0, 6.8])
    dt = 0.5e-12
    f = sto.coupled_frequencies(cur, 0.0, duration=30e-9, dt=dt)
    assert np.all(np.diff(f) > 0)
    fa = P.frequency(cur)
    x = 2 * math.pi * fa * dt
    pred = x**2 / 6 + x**3 * P.cone_cos(cur) / (8 * P.alpha)
    err = f / fa - 1
    ok = x <= 0.075
    assert ok.sum() >= 4
    assert np.all(np.abs(err - pred)[ok] <= x[ok] * np.abs(pred[ok]))
    # Frequency is linear in current: f(I) / I is the same analytic constant at all currents.
    assert np.allclose(fa / cur, GAMMA * MU0 * P.b_j(1.0) / (2 * math.pi * P.alpha), rtol=1e-12)


def test_llg_integrator_agrees_at_zero_field_like_torque():
    """At beta = 0 and no coupling the dedicated kernel is golden.llg's Heun scheme on the same equation.

    Both are the same deterministic map per step; only the order of floating-point operations
    differs, so after 4000 steps the trajectories agree to round-off amplified by the
    (non-chaotic) dynamics: 1e-9.
    """
    from dataclasses import replace

    p0 = replace(P, beta=0.0)
    cur = 2 * IC
    m_init = np.array([math.sin(0.3), 0.0, math.cos(0.3)])
    dt, steps = 1e-12, 4000
    m_llg = llg.simulate(p0.macrospin(), m_init, current=cur, dt=dt, steps=steps)
    _, (_, m) = sto.simulate([[cur]], 0.0, duration=steps * dt, dt=dt, params=p0, m0=m_init[None, None, :],
                             record_every=steps)
    assert np.allclose(m[-1, 0, 0], m_llg, atol=1e-9)


def test_two_lock_at_coupling_one_not_at_zero():
    """kappa = 1 locks two oscillators 10 % apart anywhere in the window; kappa = 0 does not.

    Locked means equal mean frequencies within the resolution 1.25/duration (frequencies are
    averaged over the last 4/5 of the run). Uncoupled, the difference must be the analytic
    f(1.1 I) - f(I) = 0.1 f(I) (>= 0.56 GHz, 47x the resolution) to within the Heun error of
    test_frequency_rises_with_current_as_analytic (< 0.5 % of f at dt = 0.5 ps, x <= 0.1).
    """
    base = IC * np.array([1.05, 2.0, 3.0, 4.0, 5.0, 6.0])
    cur = np.stack([base, 1.1 * base], axis=1)
    duration, dt = 100e-9, 0.5e-12
    res = 1.25 / duration
    f1 = sto.group_frequencies(cur, 1.0, duration=duration, dt=dt)
    assert np.all(np.abs(f1[:, 1] - f1[:, 0]) < res)
    f0 = sto.group_frequencies(cur, 0.0, duration=duration, dt=dt)
    d0 = f0[:, 1] - f0[:, 0]
    assert np.all(d0 > 10 * res)
    assert np.allclose(d0, 0.1 * P.frequency(base), rtol=0, atol=0.005 * P.frequency(cur[:, 1]))
    # The same through the public API.
    f = sto.coupled_frequencies([4 * IC, 4.4 * IC], 1.0, duration=duration, dt=dt)
    assert abs(f[1] - f[0]) < res


def test_two_lock_at_room_temperature():
    """With Brown's thermal field at 300 K, kappa = 1 still locks two oscillators 10 % apart.

    Uncoupled they differ by 0.1 f (2.2 GHz at 4 I_c); the thermal frequency jitter of this
    V = 2.9e-24 m^3 layer (kB T / (mu0 Ms V H) ~ 2e-3) is far below that, so the uncoupled
    difference is still > 10x the resolution and the coupled one below it.
    """
    cur = [4 * IC, 4.4 * IC]
    duration, dt = 100e-9, 0.5e-12
    res = 1.25 / duration
    f1 = sto.coupled_frequencies(cur, 1.0, duration=duration, dt=dt, temperature=300.0, rng=7)
    f0 = sto.coupled_frequencies(cur, 0.0, duration=duration, dt=dt, temperature=300.0, rng=7)
    assert abs(f1[1] - f1[0]) < res
    assert f0[1] - f0[0] > 10 * res


def test_locking_range_follows_adler_in_weak_coupling():
    """Weak coupling: the pair beats at sqrt(d_omega0^2 - (2K)^2) (Adler) with 2K proportional to kappa.

    The Adler equation dpsi/dt = d_omega0 - 2 K_eff sin(psi) gives the mean beat
    d_omega = sqrt(d_omega0^2 - (2 K_eff)^2), so 2 K_eff = sqrt(d_omega0^2 - d_omega^2), with
    K_eff = K (r + 1/r) / 2, r = sin(theta_1) / sin(theta_2) (phase reduction, module docstring);
    the locking range is |d_omega0| < 2 K_eff, proportional to kappa.
    Bounds, relative on 2 K_eff:
    - measurement: the mean beat over T_meas is off by at most one slip's non-uniformity,
      2 pi / T_meas, so 2 K_eff is off by d_omega * 2 pi / (T_meas (2 K_eff)^2);
    - weak coupling: the first neglected order is the cone deflection times the isochron
      slope, eps = kappa H_K / (alpha^2 M_eff sin^2 theta*) (0.016 and 0.033 at the equator
      for kappa = 5e-6, 1e-5).
    Ratio check: lambda(2 kappa) / lambda(kappa) = 2 within the sum of both relative bounds.
    """
    kappas = np.array([5e-6, 1e-5])
    a = sto.adler_measurement(kappas, ratio=1.25, duration=2.5e-6, dt=1e-12)
    lam, theory = a["measured"], a["theory"]
    bound = a["measurement"] + a["weak_coupling"]
    assert np.all(bound < 0.1)  # the check is informative
    assert np.all(np.abs(lam / theory - 1) <= bound)
    assert abs((lam[1] / lam[0]) / (theory[1] / theory[0]) - 1) <= bound.sum()
    assert theory[1] / theory[0] == pytest.approx(2.0, rel=1e-3)  # proportional to kappa


def test_nine_oscillators_lock_above_kuramoto_threshold():
    """Nine oscillators with spread currents: all lock above the Kuramoto threshold, not below.

    Phase reduction with the mean-of-others coupling gives dpsi_i/dt = w_i + (K/(N-1)) sum_j
    sin(psi_j - psi_i) = w_i + K' r sin(Phi - psi_i), K' = K N / (N - 1) (cones within 0.1 % of the
    equator, sin ratios within 1e-3 of 1). Its finite-N full-locking threshold K'_c comes from
    the self-consistency in sto.kuramoto_threshold, with w_i the uncoupled frequencies measured here.
    At 1.3 K_c every frequency equals the mean within the resolution 1.25/duration; at 0.7 K_c
    they do not. Margins 30 %: the weak-coupling error eps = kappa H_K / (alpha^2 M_eff)
    (< 0.05 here) and the slow approach to lock near threshold (duration >= 60 / K).
    """
    n = 9
    cur = I_EQ * np.linspace(1 - 3e-4, 1 + 3e-4, n)
    duration, dt = 1.5e-6, 1e-12
    f0 = sto.group_frequencies(cur[None, :], 0.0, duration=duration, dt=dt)[0]
    kc_prime = sto.kuramoto_threshold(2 * math.pi * f0)
    kc = kc_prime * (n - 1) / n
    kappa_c = kc / sto.adler_strength(1.0)
    assert kappa_c * P.hk / (P.alpha**2 * P.m_eff) < 0.05 / 1.3
    assert duration >= 60 / kc
    res = 1.25 / duration
    f = sto.group_frequencies(np.tile(cur, (2, 1)), np.array([1.3, 0.7]) * kappa_c, duration=duration, dt=dt)
    assert np.ptp(f[0]) < res
    assert np.ptp(f[1]) > 3 * res


@pytest.mark.parametrize("n", [2, 3, 5, 9])
def test_two_to_nine_lock_at_coupling_one(n):
    """N = 2..9 oscillators with currents spread over 10 % lock at kappa = 1 (not at kappa = 0).

    Locked: all frequencies within the resolution 1.25/duration; uncoupled the spread is the
    analytic 0.1 f(I) ~ 2 GHz, far above it.
    """
    cur = 4 * IC * np.linspace(1.0, 1.1, n)
    duration, dt = 60e-9, 0.5e-12
    res = 1.25 / duration
    f = sto.coupled_frequencies(cur, 1.0, duration=duration, dt=dt)
    assert np.ptp(f) < res
    f0 = sto.coupled_frequencies(cur, 0.0, duration=duration, dt=dt)
    assert np.ptp(f0) > 10 * res


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        sto.coupled_frequencies([[1e-4]], 1.0, duration=1e-9, dt=1e-12)
    with pytest.raises(ValueError):
        sto.coupled_frequencies([1e-4], 1.0, duration=1e-9, dt=-1.0)
    with pytest.raises(ValueError):
        sto.coupled_frequencies([1e-4], float("nan"), duration=1e-9, dt=1e-12)
    with pytest.raises(ValueError):
        sto.StoParams(ms=1e6, alpha=0.01, volume=1e-24, hk=2e6, h_ext=1e6, eta=0.4)
