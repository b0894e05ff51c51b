"""Validation of golden.llg against analytic macrospin results (REFERENCES.md section 2).

Each test states its tolerance and where it comes from: Heun's global error is O(dt^2) for
deterministic problems (checked by halving dt), Monte-Carlo bounds are multiples of the
sample's standard error.
"""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import chi2

from golden.constants import GAMMA, KB, MU0
from golden.llg import (
    MacrospinParams,
    critical_spin_current,
    energy,
    simulate,
)

HK = 1e5  # A/m
MS = 1e6  # A/m


def _volume_for_delta(delta, temperature=300.0):
    return 2 * delta * KB * temperature / (MU0 * MS * HK)


def _t0(alpha):
    return (1 + alpha**2) / (alpha * GAMMA * MU0 * HK)


# 2.1 Precession ---------------------------------------------------------------------------
def _precession_error(dt_fraction):
    alpha, b = 0.02, 0.1  # damping, field in tesla
    p = MacrospinParams(ms=MS, alpha=alpha, volume=1e-24, h_ext=(0, 0, b / MU0))
    period = 2 * math.pi * (1 + alpha**2) / (GAMMA * b)
    dt = period * dt_fraction
    steps = int(round(3 * period / dt))
    th0 = 1.0
    t, m = simulate(p, [math.sin(th0), 0, math.cos(th0)], dt=dt, steps=steps, record_every=steps // 30)
    m = m[:, 0]
    theta = np.arccos(np.clip(m[:, 2], -1, 1))
    phi = np.unwrap(np.arctan2(m[:, 1], m[:, 0]))
    theta_exact = 2 * np.arctan(math.tan(th0 / 2) * np.exp(-alpha * GAMMA * b * t / (1 + alpha**2)))
    phi_exact = GAMMA * b * t / (1 + alpha**2)
    return np.max(np.abs(theta - theta_exact)), np.max(np.abs(phi - phi_exact))


def test_larmor_frequency():
    # gamma B / 2 pi = 28.0 GHz/T (REFERENCES.md 2.1), to the 3 digits quoted.
    assert GAMMA / (2 * math.pi) == pytest.approx(28.0e9, rel=2e-3)


def test_precession_angle_and_phase():
    # 500 steps per period over 3 periods: Heun's global phase error ~ (omega dt)^2 omega t / 12
    # ~ 1.5e-4 rad; bound 1e-3 rad. Second order: halving dt divides the error by 4 (3..5).
    e_th, e_ph = _precession_error(1 / 500)
    assert e_th < 1e-3 and e_ph < 1e-3
    e_th2, e_ph2 = _precession_error(1 / 1000)
    assert 3.0 < e_ph / e_ph2 < 5.0


# 2.2 Boltzmann equilibrium -----------------------------------------------------------------
def _mz2_exact(delta):
    num = quad(lambda x: x * x * math.exp(delta * x * x), 0, 1)[0]
    den = quad(lambda x: math.exp(delta * x * x), 0, 1)[0]
    return num / den


def test_boltzmann_equilibrium_alpha_half():
    """p(m_z) ~ exp(Delta m_z^2) at alpha = 0.5, Delta = 3 (a (1+alpha^2) error would show)."""
    alpha, delta, n = 0.5, 3.0, 2000
    p = MacrospinParams(ms=MS, alpha=alpha, volume=_volume_for_delta(delta), hk=HK, temperature=300.0)
    t0 = _t0(alpha)
    dt = 0.005 * t0
    rng = np.random.default_rng(12)
    m = np.tile([0.0, 0.0, 1.0], (n, 1))
    m = simulate(p, m, dt=dt, steps=int(20 * t0 / dt), rng=rng)  # equilibrate
    _, traj = simulate(p, m, dt=dt, steps=int(80 * t0 / dt), rng=rng, record_every=int(5 * t0 / dt))
    mz = traj[1:, :, 2]  # (16 samples, n magnets)
    per_magnet = (mz**2).mean(axis=0)
    se = per_magnet.std(ddof=1) / math.sqrt(n)  # magnets are independent
    exact = _mz2_exact(delta)
    assert abs(per_magnet.mean() - exact) < 4 * se
    # Power: the seed's alpha/(1+alpha^2) noise would give Delta_eff = Delta (1+alpha^2).
    assert abs(_mz2_exact(delta * (1 + alpha**2)) - exact) > 10 * se
    # Shape: chi-square of the final snapshot (n independent draws) against p(m_z), 20 bins.
    edges = np.linspace(-1, 1, 21)
    norm = quad(lambda x: math.exp(delta * x * x), -1, 1)[0]
    expected = n * np.array([quad(lambda x: math.exp(delta * x * x), a, b)[0] / norm for a, b in zip(edges[:-1], edges[1:])])
    observed, _ = np.histogram(mz[-1], bins=edges)
    stat = ((observed - expected) ** 2 / expected).sum()
    assert chi2.sf(stat, df=19) > 1e-3


# 2.3 Critical current ---------------------------------------------------------------------
@pytest.mark.parametrize("ratio, switches", [(0.95, False), (1.05, True)])
def test_critical_current_zero_temperature(ratio, switches):
    alpha = 0.05
    p = MacrospinParams(ms=MS, alpha=alpha, volume=1e-24, hk=HK, polarization=(0, 0, -1))
    ic = critical_spin_current(p)
    assert ic == pytest.approx(2 * 1.602176634e-19 / 1.054571817e-34 * alpha * MU0 * MS * 1e-24 * HK, rel=1e-9)
    t0 = _t0(alpha)
    th0 = 0.05
    m = simulate(p, [math.sin(th0), 0, math.cos(th0)], current=ratio * ic, dt=0.01 * t0, steps=int(150 * t0 / (0.01 * t0)))
    if switches:
        assert m[2] < -0.999
    else:
        assert m[2] > math.cos(th0)  # relaxed back towards +z


# 2.4 Switching time -----------------------------------------------------------------------
@pytest.mark.parametrize("u", [1.5, 2.0, 4.0])
def test_switching_time_formula(u):
    alpha = 0.05
    p = MacrospinParams(ms=MS, alpha=alpha, volume=1e-24, hk=HK, polarization=(0, 0, -1))
    t0 = _t0(alpha)
    z0 = math.cos(0.1)
    exact = t0 * (-math.log(1 - z0) / (2 * (u - 1)) + math.log(1 + z0) / (2 * (u + 1)) + math.log((u - z0) / u) / (u * u - 1))
    dt = 2e-3 * t0
    steps = int(1.5 * exact / dt)
    t, m = simulate(p, [math.sin(0.1), 0, z0], current=u * critical_spin_current(p), dt=dt, steps=steps, record_every=1)
    mz = m[:, 0, 2]
    k = int(np.argmax(mz < 0))
    assert k > 0
    t_cross = t[k - 1] + (t[k] - t[k - 1]) * mz[k - 1] / (mz[k - 1] - mz[k])
    # Heun error O(dt^2) plus linear interpolation of a smooth m_z(t): both < 1e-4 relative here.
    assert t_cross == pytest.approx(exact, rel=1e-3)


# 2.5 Neel-Brown mean first-passage time --------------------------------------------------
def _mfpt_exact(p, z_a):
    tau_n = (1 + p.alpha**2) * p.ms * p.volume / (2 * p.alpha * GAMMA * KB * p.temperature)
    d = p.delta
    tail = lambda y: quad(lambda x: math.exp(d * x * x), y, 1)[0]
    return quad(lambda y: 2 * tau_n / ((1 - y * y) * math.exp(d * y * y)) * tail(y), z_a, 1, limit=200)[0]


def test_neel_brown_mean_first_passage_small_delta():
    """MFPT from m_z = 1 to m_z = -0.5 at Delta = 2 against the exact integral (REFERENCES 2.5)."""
    alpha, delta, n, z_a = 1.0, 2.0, 1500, -0.5
    p = MacrospinParams(ms=MS, alpha=alpha, volume=_volume_for_delta(delta), hk=HK, temperature=300.0)
    exact = _mfpt_exact(p, z_a)
    dt = exact / 2000
    rng = np.random.default_rng(5)
    m = np.tile([0.0, 0.0, 1.0], (n, 1))
    fpt = np.full(n, np.nan)
    t = 0.0
    check = 2  # steps between boundary checks: monitoring delay <= 2 dt = 1e-3 T
    while np.isnan(fpt).any() and t < 25 * exact:
        m = simulate(p, m, dt=dt, steps=check, rng=rng)
        t += check * dt
        hit = np.isnan(fpt) & (m[:, 2] < z_a)
        fpt[hit] = t
    assert not np.isnan(fpt).any()
    se = fpt.std(ddof=1) / math.sqrt(n)
    # 3 standard errors plus 1 % for dt effects (O(dt) bias and discrete monitoring; dt = T/2000).
    assert abs(fpt.mean() - exact) < 3 * se + 0.01 * exact
    asymptotic = _t0(alpha) * math.sqrt(math.pi / delta) * math.exp(delta)
    assert abs(fpt.mean() - exact) < abs(fpt.mean() - asymptotic)


# Invariants ---------------------------------------------------------------------------------
def test_unit_norm_preserved_with_noise_and_drive():
    p = MacrospinParams(ms=MS, alpha=0.1, volume=1e-24, hk=HK, temperature=400.0, demag=(0.02, 0.03, 0.95))
    m = simulate(p, np.tile([0.6, 0.0, 0.8], (1000, 1)), current=1e-4, dt=1e-13, steps=2000, rng=1)
    assert np.max(np.abs(np.linalg.norm(m, axis=1) - 1)) < 1e-14


def test_energy_never_rises_without_drive_or_noise():
    p = MacrospinParams(ms=MS, alpha=0.05, volume=1e-24, hk=HK, demag=(0.02, 0.05, 0.93), h_ext=(2e4, -1e4, 5e3))
    rng = np.random.default_rng(3)
    m0 = rng.standard_normal((200, 3))
    _, traj = simulate(p, m0, dt=2e-14, steps=20000, record_every=10)
    e = energy(p, traj)  # (K, 200)
    scale = MU0 * p.moment * (HK + MS)
    # Heun's local error is O((omega dt)^3) ~ 1e-8 of the energy scale per recorded interval here;
    # energy increments above 1e-9 of the scale would be a bug.
    assert np.max(np.diff(e, axis=0)) <= 1e-9 * scale
    assert e[-1].mean() < e[0].mean()


def _norm_drift(integrator, dt, t_final=2e-10, n=4000):
    p = MacrospinParams(ms=MS, alpha=0.1, volume=1e-24, temperature=300.0)
    m = simulate(p, np.tile([0.0, 0.0, 1.0], (n, 1)), dt=dt, steps=int(round(t_final / dt)), rng=7,
                 integrator=integrator, renormalize=False)
    ito = 4 * p.alpha * GAMMA * KB * p.temperature / ((1 + p.alpha**2) * p.ms * p.volume)
    return np.linalg.norm(m, axis=1).mean() - 1.0, math.sqrt(1 + ito * t_final) - 1


def test_heun_converges_where_euler_maruyama_drifts():
    """Without renormalisation, Euler-Maruyama's |m| drifts at the dt-independent Ito rate
    d|m|^2/dt = 4 alpha gamma kB T / ((1+alpha^2) Ms V) (each step adds |dm|^2, dm being
    perpendicular to m); Heun's deviation vanishes as dt -> 0 (Stratonovich; Ament et al. 2016)."""
    (em1, ito), (em2, _) = _norm_drift("euler", 2e-13), _norm_drift("euler", 5e-14)
    (h1, _), (h2, _) = _norm_drift("heun", 2e-13), _norm_drift("heun", 5e-14)
    # 4000 magnets x 1000-4000 steps: the sample mean of |m| is within 1 % of sqrt(E|m|^2);
    # bound 3 % (also covers E|m| <= sqrt(E|m|^2) from the spread of |m|).
    assert em1 == pytest.approx(ito, rel=0.03) and em2 == pytest.approx(ito, rel=0.03)
    assert abs(h2) < abs(h1) / 3  # Heun's error shrinks with dt (first order in dt or better)
    assert abs(h2) < ito / 50


def test_recording_does_not_change_the_trajectory():
    p = MacrospinParams(ms=MS, alpha=0.1, volume=1e-24, hk=HK, temperature=300.0)
    m0 = np.tile([0.0, 0.6, 0.8], (1500, 1))
    final = simulate(p, m0, dt=1e-13, steps=101, rng=42)
    _, traj = simulate(p, m0, dt=1e-13, steps=101, rng=42, record_every=7)
    _, traj_last = simulate(p, m0, dt=1e-13, steps=101, rng=42, record_every=101)
    np.testing.assert_array_equal(final, traj_last[-1])
    assert traj.shape == (101 // 7 + 1, 1500, 3)


def test_equilibrium_sample_transverse_variances():
    """Harmonic Boltzmann draw: var(u_i) = kB T / (mu0 Ms V H_i) for each transverse axis
    (an in-plane magnet, Delta = 30, whose stiffnesses differ 50x; the +-0.7 clip is 5 sigma
    out). 20,000 draws: the sample
    variance is within 3 sqrt(2/n) = 3 % of the true one."""
    from golden.llg import equilibrium_sample

    p = MacrospinParams(ms=MS, alpha=0.01, volume=1e-23, hk=2e4, easy_axis=(0, 1, 0), demag=(0, 0, 0.97),
                        temperature=300.0)
    m = equilibrium_sample(p, 20000, rng=1)
    h_x, h_z = p.transverse_stiffness()
    for comp, h in ((0, h_x), (2, h_z)):
        assert m[:, comp].var() == pytest.approx(KB * 300.0 / (MU0 * MS * p.volume * h), rel=0.03)
    assert np.all(m[:, 1] > 0)
