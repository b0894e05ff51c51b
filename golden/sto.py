"""Spin-torque oscillators (STOs) and their mutual synchronisation (seed section IV, refs. 104, 112-114).

Float64, SI units. One STO is a macrospin free layer in the axially symmetric geometry of
Slavin & Tiberkevich (IEEE Trans. Magn. 45, 1875 (2009), section on the "perpendicular" case):

- a thin-film free layer (demag N_z = 1) with a perpendicular interfacial anisotropy field
  ``hk`` smaller than Ms, so its effective anisotropy is easy-plane: ``M_eff = Ms - H_K > 0``;
- a perpendicular applied field ``H > M_eff`` that saturates it along +z at zero current;
- a perpendicular polariser: spins injected along ``p = -z`` by a positive current, so the
  damping-like torque pumps the magnet away from +z (an "in-plane free layer with
  perpendicular polariser" held out of plane by the field);
- damping-like and field-like spin torque, the field-like one as a field ``beta b_J p``.

With ``b_J = hbar eta I / (2 e mu0 Ms V)`` (A/m) and gamma' = gamma mu0 / (1 + alpha^2) the
Landau-Lifshitz form of REFERENCES.md section 1 reads

    dm/dt = -gamma' [ m x H + alpha m x (m x H) ] + gamma' b_J [ -m x (m x p) + alpha m x p ],
    H = (H - beta b_J + (H_K - Ms) m_z) z + H_c + H_th,

with H_c the coupling field below and H_th Brown's thermal field (sigma as golden.llg).
In polar angles about z (no coupling, T = 0) this separates exactly:

    dtheta/dt = gamma' sin(theta) [ b_J (1 + alpha beta) - alpha (H - M_eff cos(theta)) ],
    dphi/dt   = gamma' [ H - beta b_J - M_eff cos(theta) + alpha b_J ].

Hence (checked by tests/test_sto.py):

- threshold: +z loses stability at ``b_J,c = alpha (H - M_eff) / (1 + alpha beta)``, i.e. the
  Slonczewski form ``I_c0 = (2 e alpha mu0 Ms V / (hbar eta)) (H + H_K - Ms) / (1 + alpha beta)``;
- above it a stable precession cone ``cos(theta*) = (H - b_J (1 + alpha beta) / alpha) / M_eff``
  (stable because M_eff > 0), up to ``b_J = alpha (H + M_eff) / (1 + alpha beta)`` where the
  cone reaches -z;
- on the cone the frequency is exactly ``f = gamma mu0 b_J / (2 pi alpha)``: linear in the
  current, independent of H, M_eff and beta (it rises with current).

Coupling: oscillator i of a group of N receives ``H_c = kappa H_K <m_x, m_y, 0>_{j != i}``, the
mean in-plane magnetisation of the others times ``kappa H_K`` (the issue's API; H_K the
perpendicular anisotropy field). Phase reduction of the equations above (isochron
``psi = phi + delta_theta / (alpha sin theta*)``; the cos terms cancel exactly) gives the
Kuramoto/Adler form

    dpsi_i/dt = omega_i + (K / (N - 1)) sum_{j != i} (sin theta_j / sin theta_i) sin(psi_j - psi_i),
    K = gamma mu0 kappa H_K / alpha,

so two oscillators lock when ``|omega_1 - omega_2| < 2 K`` (sin theta ratio ~ 1), the Adler
equation with a locking range proportional to kappa, valid while the cone deviation
``kappa H_K / (alpha M_eff sin theta*)`` is small. :func:`adler_strength` returns K.

Why a dedicated integrator instead of :func:`golden.llg.simulate`: that kernel's field is the
same for all magnets and constant in time, so it cannot carry a field-like torque proportional
to each oscillator's own current, nor a coupling field that depends on the other oscillators'
state at every step. This module's kernel is the same Heun (Stratonovich) scheme with the same
thermal field and renormalisation; at beta = 0 and kappa = 0 the two agree (tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from .constants import E_CHARGE, GAMMA, HBAR, KB, MU0
from .geometry import elliptic_disk_volume
from .llg import MacrospinParams

__all__ = [
    "StoParams",
    "default_sto",
    "simulate",
    "group_frequencies",
    "coupled_frequencies",
    "adler_strength",
    "growth_rates",
    "adler_measurement",
    "kuramoto_threshold",
]


@dataclass(frozen=True)
class StoParams:
    """One spin-torque oscillator (the geometry of the module docstring).

    Attributes
    ----------
    ms : float
        Saturation magnetisation Ms, A/m.
    alpha : float
        Gilbert damping.
    volume : float
        Free-layer volume V, m^3.
    hk : float
        Perpendicular (interfacial) anisotropy field H_K, A/m; must be < Ms (easy-plane M_eff > 0).
    h_ext : float
        Perpendicular applied field H, A/m; must exceed M_eff.
    eta : float
        Spin-torque efficiency: spin current / charge current.
    beta : float
        Field-like / damping-like torque ratio (the field-like torque acts as beta b_J p).
    """

    ms: float
    alpha: float
    volume: float
    hk: float
    h_ext: float
    eta: float
    beta: float = 0.0

    def __post_init__(self):
        for name in ("ms", "alpha", "volume", "eta"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"StoParams.{name} must be > 0, not {v!r}")
        if not 0 <= self.hk < self.ms:
            raise ValueError(f"StoParams.hk must be in [0, Ms) for an easy-plane free layer, not {self.hk!r}")
        if not self.h_ext > self.m_eff:
            raise ValueError(f"StoParams.h_ext must exceed M_eff = {self.m_eff:.4g} A/m, not {self.h_ext!r}")
        if not math.isfinite(self.beta):
            raise ValueError(f"StoParams.beta must be finite, not {self.beta!r}")

    @property
    def m_eff(self) -> float:
        """Effective easy-plane magnetisation M_eff = Ms - H_K, A/m."""
        return self.ms - self.hk

    def b_j(self, current) -> np.ndarray:
        """Spin-torque field b_J = hbar eta I / (2 e mu0 Ms V), A/m, for charge current(s) I (A)."""
        return HBAR * self.eta * np.asarray(current, dtype=float) / (2 * E_CHARGE * MU0 * self.ms * self.volume)

    def threshold_current(self) -> float:
        """I_c0 = (2 e alpha mu0 Ms V / (hbar eta)) (H + H_K - Ms) / (1 + alpha beta), A."""
        return (2 * E_CHARGE * self.alpha * MU0 * self.ms * self.volume / (HBAR * self.eta)
                * (self.h_ext - self.m_eff) / (1 + self.alpha * self.beta))

    def upper_current(self) -> float:
        """Current at which the cone reaches -z and precession stops, A."""
        return self.threshold_current() * (self.h_ext + self.m_eff) / (self.h_ext - self.m_eff)

    def cone_cos(self, current) -> np.ndarray:
        """cos(theta*) of the steady precession cone (clipped to [-1, 1]; 1 below threshold)."""
        b = self.b_j(current)
        c = (self.h_ext - b * (1 + self.alpha * self.beta) / self.alpha) / self.m_eff
        return np.clip(c, -1.0, 1.0)

    def frequency(self, current) -> np.ndarray:
        """Analytic precession frequency on the cone, f = gamma mu0 b_J / (2 pi alpha), Hz.

        Valid between :meth:`threshold_current` and :meth:`upper_current` (T = 0, no coupling).
        """
        return GAMMA * MU0 * self.b_j(current) / (2 * math.pi * self.alpha)

    def growth_rate(self, current) -> np.ndarray:
        """Linear growth rate of a small cone about +z, 1/s: gamma' [b_J (1 + alpha beta) - alpha (H - M_eff)]."""
        gp = GAMMA * MU0 / (1 + self.alpha**2)
        return gp * (self.b_j(current) * (1 + self.alpha * self.beta) - self.alpha * (self.h_ext - self.m_eff))

    def macrospin(self, temperature: float = 0.0) -> MacrospinParams:
        """The same magnet as a :class:`golden.llg.MacrospinParams` (no field-like torque: beta must be 0)."""
        if self.beta != 0:
            raise ValueError("golden.llg carries no field-like torque: use beta = 0 for this comparison")
        return MacrospinParams(ms=self.ms, alpha=self.alpha, volume=self.volume, hk=self.hk, easy_axis=(0, 0, 1),
                               demag=(0, 0, 1), h_ext=(0, 0, self.h_ext), temperature=temperature,
                               polarization=(0, 0, -1), spin_efficiency=self.eta)


def default_sto() -> StoParams:
    """The default STO: a CoFeB/MgO nanopillar disk, 50 nm diameter, 1.5 nm thick.

    Chosen (typical of thin CoFeB/MgO, not from the seed, which quotes no STO parameters):
    Ms = 1.1e6 A/m, alpha = 0.02, mu0 M_eff = 0.6 T (so mu0 H_K = 0.78 T), mu0 H = 0.8 T,
    eta = 0.4, beta = 0.1. Threshold I_c0 = 98 uA (f = 5.6 GHz there), upper current 688 uA
    (39 GHz); slope 57 MHz/uA; the cone is the equator at 4 I_c0 (22.4 GHz).
    Coupling kappa = 1 is a field of up to 0.78 T and locks oscillators 10 % apart anywhere
    in the window (tests/test_sto.py). The weak-coupling (Adler) limit needs the phase-model
    error kappa H_K / (alpha^2 M_eff sin^2 theta*) << 1, i.e. kappa << 3e-4 at the equator;
    alpha = 0.02 rather than 0.01 keeps that limit reachable in short simulations (its cost
    scales as 1/alpha^2).
    """
    return StoParams(ms=1.1e6, alpha=0.02, volume=elliptic_disk_volume(50e-9, 50e-9, 1.5e-9),
                     hk=1.1e6 - 0.6 / MU0, h_ext=0.8 / MU0, eta=0.4, beta=0.1)


def adler_strength(coupling: float, params: StoParams | None = None) -> float:
    """Weak-coupling phase-coupling strength K = gamma mu0 kappa H_K / alpha, rad/s.

    Two oscillators with equal cones obey the Adler equation dpsi/dt = d_omega - 2 K sin(psi):
    they lock when |d_omega| < 2 K, and otherwise beat at sqrt(d_omega^2 - (2K)^2).
    """
    p = default_sto() if params is None else params
    return GAMMA * MU0 * coupling * p.hk / p.alpha


# Kernel --------------------------------------------------------------------------------------
@nb.njit(inline="always")
def _rhs(mx, my, mz, hx, hy, hz, alpha, b):
    """(dm/dt) / gamma' for field H (A/m) and damping-like torque b (A/m) with p = -z."""
    ax = my * hz - mz * hy
    ay = mz * hx - mx * hz
    az = mx * hy - my * hx
    mm = mx * mx + my * my + mz * mz
    mh = mx * hx + my * hy + mz * hz
    dx = -(ax + alpha * (mx * mh - hx * mm))
    dy = -(ay + alpha * (my * mh - hy * mm))
    dz = -(az + alpha * (mz * mh - hz * mm))
    # p = -z: m x p = (-my, mx, 0); -m x (m x p) = -(m (m.p) - p |m|^2) = (mx mz, my mz, mz^2 - mm)
    dx += b * (mx * mz - alpha * my)
    dy += b * (my * mz + alpha * mx)
    dz += b * (mz * mz - mm)
    return dx, dy, dz


@nb.njit(cache=True)
def _advance(m, phase, last, b, hz0, kh, hkeff, alpha, gp, dt, steps, noise, sigma, measure):
    """Advance G groups of N oscillators by ``steps`` Heun steps, in place.

    m : (G, N, 3) unit vectors; phase : (G, N) accumulated in-plane angle (rad, unwrapped),
    updated when ``measure``; last : (G, N) last in-plane angle; b : (G, N) b_J in A/m;
    hz0 : (G, N) static z field H - beta b_J; kh : (G,) kappa H_K in A/m; noise : (S, G, N, 3)
    standard normals (or shape (1, 1, 1, 3) zeros when sigma == 0).
    """
    g_count, n, _ = m.shape
    inv = 1.0 / (n - 1) if n > 1 else 0.0
    for g in range(g_count):
        pm = np.empty((n, 3))
        k1 = np.empty((n, 3))
        th = np.zeros((n, 3))
        for s in range(steps):
            sx = 0.0
            sy = 0.0
            for i in range(n):
                sx += m[g, i, 0]
                sy += m[g, i, 1]
            for i in range(n):
                if sigma > 0.0:
                    th[i, 0] = sigma * noise[s, g, i, 0]
                    th[i, 1] = sigma * noise[s, g, i, 1]
                    th[i, 2] = sigma * noise[s, g, i, 2]
                mx = m[g, i, 0]
                my = m[g, i, 1]
                mz = m[g, i, 2]
                hx = kh[g] * (sx - mx) * inv + th[i, 0]
                hy = kh[g] * (sy - my) * inv + th[i, 1]
                hz = hz0[g, i] + hkeff * mz + th[i, 2]
                dx, dy, dz = _rhs(mx, my, mz, hx, hy, hz, alpha, b[g, i])
                k1[i, 0] = gp * dx
                k1[i, 1] = gp * dy
                k1[i, 2] = gp * dz
                pm[i, 0] = mx + dt * k1[i, 0]
                pm[i, 1] = my + dt * k1[i, 1]
                pm[i, 2] = mz + dt * k1[i, 2]
            sx = 0.0
            sy = 0.0
            for i in range(n):
                sx += pm[i, 0]
                sy += pm[i, 1]
            for i in range(n):
                qx = pm[i, 0]
                qy = pm[i, 1]
                qz = pm[i, 2]
                hx = kh[g] * (sx - qx) * inv + th[i, 0]
                hy = kh[g] * (sy - qy) * inv + th[i, 1]
                hz = hz0[g, i] + hkeff * qz + th[i, 2]
                dx, dy, dz = _rhs(qx, qy, qz, hx, hy, hz, alpha, b[g, i])
                mx = m[g, i, 0] + 0.5 * dt * (k1[i, 0] + gp * dx)
                my = m[g, i, 1] + 0.5 * dt * (k1[i, 1] + gp * dy)
                mz = m[g, i, 2] + 0.5 * dt * (k1[i, 2] + gp * dz)
                r = 1.0 / np.sqrt(mx * mx + my * my + mz * mz)
                m[g, i, 0] = mx * r
                m[g, i, 1] = my * r
                m[g, i, 2] = mz * r
            if measure:
                for i in range(n):
                    a = np.arctan2(m[g, i, 1], m[g, i, 0])
                    d = a - last[g, i]
                    if d > np.pi:
                        d -= 2 * np.pi
                    elif d < -np.pi:
                        d += 2 * np.pi
                    phase[g, i] += d
                    last[g, i] = a
            else:
                for i in range(n):
                    last[g, i] = np.arctan2(m[g, i, 1], m[g, i, 0])


_CHUNK = 2048  # steps per kernel call (bounds the noise buffer at CHUNK * G * N * 3 doubles)


def _check_run(dt, duration):
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be > 0 s, not {dt!r}")
    if not (isinstance(duration, (int, float)) and math.isfinite(duration) and duration >= dt):
        raise ValueError(f"duration must be >= dt = {dt} s, not {duration!r}")


def _initial_state(params: StoParams, currents: np.ndarray, rng) -> np.ndarray:
    """Start each oscillator on its own uncoupled cone (a 0.1 rad tilt where there is none)."""
    c = params.cone_cos(currents)
    c = np.minimum(c, math.cos(0.1))
    c = np.maximum(c, -math.cos(0.1))
    g, n = currents.shape
    if rng is None:
        phi = np.broadcast_to(np.arange(n) * 2.399963229728653, (g, n))  # golden-angle spread
    else:
        phi = rng.uniform(0, 2 * np.pi, (g, n))
    s = np.sqrt(1 - c * c)
    return np.stack([s * np.cos(phi), s * np.sin(phi), c], axis=-1)


def simulate(currents, coupling, *, duration: float, dt: float, temperature: float = 0.0, rng=None,
             params: StoParams | None = None, m0=None, record_every: int = 0, settle: float = 0.0):
    """Integrate G groups of N coupled STOs; return the mean frequencies and optionally the trajectory.

    Parameters
    ----------
    currents : array (G, N)
        Charge currents, A.
    coupling : float or array (G,)
        kappa per group (coupling field in units of H_K).
    duration : float
        Measured time, s, after ``settle`` s of unmeasured transient.
    dt : float
        Time step, s.
    temperature : float
        K; Brown's thermal field sigma_H = sqrt(2 alpha kB T / (gamma mu0^2 Ms V dt)).
    rng : Generator, int or None
        Thermal noise and random initial phases (None: a fixed golden-angle phase spread,
        and T must be 0).
    m0 : array (G, N, 3), optional
        Initial state (default: each on its own uncoupled cone).
    record_every : int
        k > 0: also return (t, m) sampled every k steps of the measured part.

    Returns
    -------
    f : array (G, N)
        Mean precession frequencies over the measured part, Hz (unwrapped in-plane angle / 2 pi t).
    (t, m) : arrays (K,), (K, G, N, 3)
        Only when ``record_every > 0``.
    """
    p = default_sto() if params is None else params
    _check_run(dt, duration)
    cur = np.asarray(currents, dtype=float)
    if cur.ndim != 2 or cur.shape[1] < 1 or not np.all(np.isfinite(cur)):
        raise ValueError(f"currents must be a finite (G, N) array, not shape {cur.shape}")
    g, n = cur.shape
    kap = np.broadcast_to(np.asarray(coupling, dtype=float), (g,)).copy()
    if not np.all(np.isfinite(kap)):
        raise ValueError(f"coupling must be finite, not {coupling!r}")
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be >= 0 K, not {temperature!r}")
    gen = None if rng is None else np.random.default_rng(rng)
    if temperature > 0 and gen is None:
        gen = np.random.default_rng(None)
    m = _initial_state(p, cur, gen) if m0 is None else np.array(m0, dtype=float).reshape(g, n, 3)
    m = np.ascontiguousarray(m / np.linalg.norm(m, axis=-1, keepdims=True))
    b = p.b_j(cur)
    hz0 = np.ascontiguousarray(p.h_ext - p.beta * b)
    kh = kap * p.hk
    gp = GAMMA * MU0 / (1 + p.alpha**2)
    sigma = 0.0 if temperature == 0 else math.sqrt(2 * p.alpha * KB * temperature / (GAMMA * p.ms * p.volume * dt)) / MU0
    phase = np.zeros((g, n))
    last = np.arctan2(m[..., 1], m[..., 0])
    zeros = np.zeros((1, 1, 1, 3))

    def run(steps, measure, out=None):
        done = 0
        while done < steps:
            s = min(_CHUNK, steps - done)
            if out is not None:
                s = min(s, record_every - (done % record_every))
            noise = gen.standard_normal((s, g, n, 3)) if sigma else zeros
            _advance(m, phase, last, b, hz0, kh, p.hk - p.ms, p.alpha, gp, float(dt), s, noise, sigma, measure)
            done += s
            if out is not None and done % record_every == 0:
                out.append(m.copy())

    n_settle = int(round(settle / dt))
    if n_settle:
        run(n_settle, False)
    steps = int(round(duration / dt))
    frames = [m.copy()] if record_every else None
    run(steps, True, frames)
    f = phase / (2 * math.pi * steps * dt)
    if record_every:
        t = settle + dt * record_every * np.arange(len(frames))
        return f, (t, np.stack(frames))
    return f


def group_frequencies(currents, coupling, *, duration: float, dt: float, temperature: float = 0.0, rng=None,
                      params: StoParams | None = None) -> np.ndarray:
    """Mean frequencies (Hz, shape (G, N)) of G independent groups of N coupled STOs.

    The first fifth of ``duration`` is an unmeasured transient (locking, cone settling); the
    frequencies are averaged over the remaining 4/5, so their resolution is 1.25 / duration.
    """
    _check_run(dt, duration)
    return simulate(currents, coupling, duration=0.8 * duration, settle=0.2 * duration, dt=dt,
                    temperature=temperature, rng=rng, params=params)


def coupled_frequencies(currents, coupling, *, duration, dt, temperature=0.0, rng=None) -> np.ndarray:
    """Mean frequencies (Hz) of len(currents) identical default STOs driven by those currents (A).

    Each receives ``coupling`` times the mean of the others' in-plane magnetisation as an
    extra field in units of its H_K (0 = uncoupled); see the module docstring and
    :func:`default_sto`. The first fifth of ``duration`` (s) is an unmeasured transient; ``dt``
    is the Heun step (s; ~1 ps resolves the default's <= 22 GHz); ``temperature`` in K.
    Returns shape (len(currents),).
    """
    cur = np.atleast_1d(np.asarray(currents, dtype=float))
    if cur.ndim != 1:
        raise ValueError(f"currents must be a 1-D array of currents in A, not shape {cur.shape}")
    if not math.isfinite(float(coupling)):
        raise ValueError(f"coupling must be finite, not {coupling!r}")
    return group_frequencies(cur[None, :], float(coupling), duration=duration, dt=dt, temperature=temperature,
                             rng=rng)[0]


# Measurements used by the tests and the benchmark -------------------------------------------
def growth_rates(currents, *, duration: float = 20e-9, dt: float = 0.5e-12, theta0: float = 0.05,
                 params: StoParams | None = None) -> np.ndarray:
    """Measured growth rate sigma (1/s) of a small cone about +z at each current (A), shape (C,).

    Uses the exact identity of the axisymmetric model d ln tan(theta/2) / dt = sigma(I) +
    gamma' alpha M_eff (m_z - 1), so sigma = [ln tan(theta/2)]_0^T / T - gamma' alpha M_eff
    <m_z - 1> for any amplitude (the mean by the trapezoidal rule on samples every 10 steps).
    Analytic: :meth:`StoParams.growth_rate`, zero at the threshold current.
    """
    p = default_sto() if params is None else params
    cur = np.atleast_1d(np.asarray(currents, dtype=float))[None, :]
    m0 = np.broadcast_to(np.array([math.sin(theta0), 0.0, math.cos(theta0)]), cur.shape + (3,))
    _, (t, m) = simulate(cur, 0.0, duration=duration, dt=dt, m0=m0, record_every=10, params=p)
    mz = m[:, 0, :, 2]
    u = np.log(np.tan(np.arccos(np.clip(mz, -1, 1)) / 2))
    gp = GAMMA * MU0 / (1 + p.alpha**2)
    integral = np.trapezoid(mz - 1, t, axis=0)
    return (u[-1] - u[0] - gp * p.alpha * p.m_eff * integral) / (t[-1] - t[0])


def adler_measurement(kappas, *, ratio: float = 1.25, duration: float = 2.5e-6, dt: float = 1e-12,
                      params: StoParams | None = None) -> dict:
    """Measure the effective Adler coupling 2 K_eff of a pair at the equator cone for each kappa.

    Each pair has an uncoupled angular-frequency difference d_omega0 = ratio * 2 K(kappa)
    (measured on the same pair uncoupled, which cancels Heun's frequency error); coupled, the
    Adler equation dpsi/dt = d_omega0 - 2 K_eff sin(psi) makes it beat at
    d_omega = sqrt(d_omega0^2 - (2 K_eff)^2). Returns arrays (per kappa): ``measured``
    sqrt(d_omega0^2 - d_omega^2) and ``theory`` K (r + 1/r), r = sin(theta_1)/sin(theta_2)
    (rad/s), and the relative bounds ``measurement`` (one slip's non-uniformity,
    d_omega 2 pi / (T_meas (2 K_eff)^2)) and ``weak_coupling`` (kappa H_K / (alpha^2 M_eff)).
    """
    p = default_sto() if params is None else params
    kap = np.atleast_1d(np.asarray(kappas, dtype=float))
    i_eq = p.threshold_current() * p.h_ext / (p.h_ext - p.m_eff)
    slope = 2 * math.pi * float(p.frequency(1.0))  # rad/s per A
    rows, ks = [], []
    for k in kap:
        d_i = ratio * 2 * adler_strength(k, p) / slope
        rows += [[i_eq, i_eq + d_i]] * 2
        ks += [0.0, k]
    cur = np.array(rows)
    f = group_frequencies(cur, np.array(ks), duration=duration, dt=dt, params=p)
    dw = 2 * math.pi * (f[:, 1] - f[:, 0])
    dw0, dw1 = dw[0::2], dw[1::2]
    lam = np.sqrt(np.maximum(dw0**2 - dw1**2, 0.0))
    s1, s2 = (np.sqrt(1 - p.cone_cos(cur[0::2, j]) ** 2) for j in (0, 1))
    theory = np.array([adler_strength(k, p) for k in kap]) * (s1 / s2 + s2 / s1)
    t_meas = 0.8 * duration
    return {"kappa": kap, "measured": lam, "theory": theory, "beat": dw1,
            "measurement": dw1 * 2 * math.pi / (t_meas * np.maximum(lam, 1e-300) ** 2),
            "weak_coupling": kap * p.hk / (p.alpha**2 * p.m_eff)}


def kuramoto_threshold(omegas) -> float:
    """Smallest K' (rad/s) at which dpsi_i/dt = w_i + K' r sin(Phi - psi_i) fully locks these w_i (rad/s).

    A locked state exists iff u = K' r solves u / K' = g(u) = (1/N) sum sqrt(1 - (w_i - <w>)^2 / u^2)
    with u >= max |w_i - <w>| (the stable branch), so K'_c = min_u u / g(u). For the
    mean-of-others coupling of this module K' = K N / (N - 1), K = :func:`adler_strength`.
    """
    from scipy.optimize import minimize_scalar

    w = np.asarray(omegas, dtype=float)
    w = w - w.mean()
    wmax = np.abs(w).max()
    if wmax == 0:
        return 0.0
    res = minimize_scalar(lambda u: u / np.mean(np.sqrt(np.clip(1 - (w / u) ** 2, 0, None))),
                          bounds=(wmax, 10 * wmax), method="bounded", options={"xatol": 1e-9 * wmax})
    return float(res.fun)
