"""Macrospin Landau-Lifshitz-Gilbert dynamics with spin-orbit torque and thermal noise.

Float64, SI units, vectorised over N independent magnets. The equation is the
Landau-Lifshitz form of the Gilbert equation with a damping-like (Slonczewski) spin torque,
the seed's eq. 5 rewritten as its eq. 10 (REFERENCES.md section 1):

    (1 + alpha^2) dm/dt = -gamma mu0 [ m x H + alpha m x (m x H) ]
                          + (gamma hbar I_s / (2 e Ms V)) [ -m x (m x p) + alpha m x p ]

with ``H = H_ext + H_K (m.e) e - Ms N m + H_th`` and ``I_s = spin_efficiency * I_q``
(eq. 6: for spin-orbit torque, ``spin_efficiency = theta_SH W_FM / t_HM``).

Thermal field (Brown 1963), per Cartesian component and per step, fresh N(0, 1):
``sigma_H = sqrt(2 alpha kB T / (gamma mu0^2 Ms V dt))`` A/m (``sigma_B = mu0 sigma_H``).
The seed's printed formula carries an extra ``1/(1+alpha^2)`` factor under the root; with the
Landau-Lifshitz prefactor that lowers the effective temperature to ``T/(1+alpha^2)``, so we do
**not** use it (tests/test_llg_physics.py checks the Boltzmann distribution at alpha = 0.5).

The reference integrator is Heun's predictor-corrector with the same noise sample in both
stages, which converges to the Stratonovich solution (the physical one); |m| is renormalised
after each step. Euler-Maruyama is available for comparison only (it converges to the Ito
solution, whose |m| drifts).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._llg_kernels import advance as _advance
from .constants import E_CHARGE, GAMMA, HBAR, KB, MU0

__all__ = [
    "MacrospinParams",
    "SwitchingResult",
    "simulate",
    "switching_probability",
    "energy",
    "effective_field",
    "equilibrium_sample",
    "critical_spin_current",
    "relaxation_time",
]

_CHUNK = 16  # steps advanced per kernel call: noise buffer of CHUNK * N * 3 doubles
_MAX_STREAMS = 4  # independent noise streams (fixed, so results do not depend on the core count)
_STREAM_MIN = 16384  # magnets per stream below which one stream (no threads) is used
_POOL = ThreadPoolExecutor(max_workers=min(_MAX_STREAMS, os.cpu_count() or 1))


class _ThermalNoise:
    """Standard normal samples for the kernel, from K generators spawned from one ``rng``.

    Stream k owns a contiguous range of magnets and draws its samples in (step, component,
    magnet) order, so the noise a magnet sees depends only on ``rng``, N and the step index,
    not on how the steps are chunked (recording or not gives identical trajectories).
    numpy releases the GIL while filling, so the K streams are drawn on parallel threads.
    """

    def __init__(self, rng: np.random.Generator, n: int, chunk: int):
        from ._llg_kernels import BLOCK

        k = min(_MAX_STREAMS, -(-n // _STREAM_MIN))
        per_stream = -(-n // k)  # ceiling division
        self.stream_size = n if k == 1 else -(-per_stream // BLOCK) * BLOCK
        self.k = -(-n // self.stream_size)
        self.gens = rng.spawn(self.k)
        self.buf = np.empty((self.k, chunk, 3, self.stream_size))

    def draw(self, steps: int) -> np.ndarray:
        def fill(idx):
            self.gens[idx].standard_normal(out=self.buf[idx, :steps])

        if self.k == 1:
            fill(0)
        else:
            list(_POOL.map(fill, range(self.k)))
        # A partial chunk is copied so the kernel always sees one (C-contiguous) array layout.
        return self.buf if steps == self.buf.shape[1] else np.ascontiguousarray(self.buf[:, :steps])


def _vector(name: str, value, *, unit: bool) -> tuple[float, float, float]:
    arr = np.asarray(value, dtype=float)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"MacrospinParams.{name} must be 3 finite numbers, not {value!r}")
    if unit:
        norm = float(np.linalg.norm(arr))
        if norm == 0.0:
            raise ValueError(f"MacrospinParams.{name} must be a non-zero vector, not {value!r}")
        arr = arr / norm
    return tuple(float(x) for x in arr)


@dataclass(frozen=True)
class MacrospinParams:
    """A single-domain magnet and its spin-torque drive.

    Parameters
    ----------
    ms : float
        Saturation magnetisation Ms, A/m (> 0).
    alpha : float
        Gilbert damping (0 < alpha <= 10).
    volume : float
        Magnet volume V, m^3 (> 0).
    hk : float
        Uniaxial anisotropy field H_K = 2 K_u / (mu0 Ms), A/m (>= 0).
    easy_axis : 3-vector
        Easy-axis direction (normalised on construction).
    demag : 3-vector
        Diagonal demagnetising factors (N_x, N_y, N_z), each in [0, 1], sum <= 1.
    h_ext : 3-vector
        Applied field, A/m.
    temperature : float
        Temperature T, K (>= 0).
    polarization : 3-vector
        Unit vector of the injected spins p (normalised on construction).
    spin_efficiency : float
        I_s / I_q, the spin current per unit charge current (eq. 6 for SOT).
    """

    ms: float
    alpha: float
    volume: float
    hk: float = 0.0
    easy_axis: tuple = (0.0, 0.0, 1.0)
    demag: tuple = (0.0, 0.0, 0.0)
    h_ext: tuple = (0.0, 0.0, 0.0)
    temperature: float = 0.0
    polarization: tuple = (0.0, 1.0, 0.0)
    spin_efficiency: float = 1.0

    def __post_init__(self):
        def check(name, ok, bound):
            value = getattr(self, name)
            if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value) and ok(value)):
                raise ValueError(f"MacrospinParams.{name} must be {bound}, not {value!r}")
            object.__setattr__(self, name, float(value))

        check("ms", lambda v: v > 0, "> 0 A/m")
        check("alpha", lambda v: 0 < v <= 10, "in (0, 10]")
        check("volume", lambda v: v > 0, "> 0 m^3")
        check("hk", lambda v: v >= 0, ">= 0 A/m")
        check("temperature", lambda v: v >= 0, ">= 0 K")
        check("spin_efficiency", lambda v: True, "a finite number")
        object.__setattr__(self, "easy_axis", _vector("easy_axis", self.easy_axis, unit=True))
        object.__setattr__(self, "polarization", _vector("polarization", self.polarization, unit=True))
        object.__setattr__(self, "h_ext", _vector("h_ext", self.h_ext, unit=False))
        demag = _vector("demag", self.demag, unit=False)
        if min(demag) < 0 or max(demag) > 1 or sum(demag) > 1 + 1e-9:
            raise ValueError(f"MacrospinParams.demag must be factors in [0, 1] summing to <= 1, not {self.demag!r}")
        object.__setattr__(self, "demag", demag)

    # Derived quantities -----------------------------------------------------------------
    @property
    def moment(self) -> float:
        """Total moment Ms V, A m^2."""
        return self.ms * self.volume

    @property
    def delta(self) -> float:
        """Thermal stability Delta = mu0 Ms H_K V / (2 kB T) (eq. 1 with K_u = mu0 Ms H_K / 2); inf at T = 0."""
        if self.temperature == 0:
            return math.inf
        return MU0 * self.ms * self.hk * self.volume / (2 * KB * self.temperature)

    def time_unit(self) -> float:
        """t0 = (1 + alpha^2) / (alpha gamma mu0 H_K), s (REFERENCES.md section 2)."""
        if self.hk == 0:
            raise ValueError("MacrospinParams.hk must be > 0 A/m for a time unit, not 0.0")
        return (1 + self.alpha**2) / (self.alpha * GAMMA * MU0 * self.hk)

    def thermal_sigma(self, dt: float) -> float:
        """Thermal-field standard deviation per component for a step dt (s), A/m."""
        if self.temperature == 0:
            return 0.0
        return math.sqrt(2 * self.alpha * KB * self.temperature / (GAMMA * self.ms * self.volume * dt)) / MU0

    def torque_coefficient(self, current) -> np.ndarray:
        """c_b = gamma hbar I_s / (2 e Ms V (1+alpha^2)) in 1/s for a charge current in A."""
        return (GAMMA * HBAR * self.spin_efficiency / (2 * E_CHARGE * self.ms * self.volume * (1 + self.alpha**2))) * np.asarray(current, dtype=float)

    def transverse_stiffness(self) -> tuple[float, float]:
        """Effective fields (A/m) restoring m towards the easy axis in its two transverse directions.

        Valid when the easy axis lies along a principal axis of the demag tensor (the presets do).
        """
        e = np.abs(np.asarray(self.easy_axis))
        k = int(np.argmax(e))
        others = [i for i in range(3) if i != k]
        n = self.demag
        return tuple(self.hk + self.ms * (n[i] - n[k]) for i in others)


def critical_spin_current(params: MacrospinParams) -> float:
    """Zero-temperature critical spin current I_s,c = (2e/hbar) alpha mu0 Ms V H_K,eff, A.

    Exact for the axisymmetric case (p along the easy axis, equal transverse stiffness);
    H_K,eff is the mean transverse stiffness (REFERENCES.md 2.3; for an in-plane magnet this
    is the Liu et al. 2012 form with H_K + M_eff/2).
    """
    h1, h2 = params.transverse_stiffness()
    return (2 * E_CHARGE / HBAR) * params.alpha * MU0 * params.ms * params.volume * 0.5 * (h1 + h2)


def relaxation_time(params: MacrospinParams) -> float:
    """Small-angle relaxation time of the transverse components about the easy axis, s.

    (1 + alpha^2) / (alpha gamma mu0 <H_stiff>), with <H_stiff> the mean transverse stiffness.
    """
    h1, h2 = params.transverse_stiffness()
    stiff = 0.5 * (h1 + h2)
    if stiff <= 0:
        raise ValueError(f"the easy axis is not stable: mean transverse stiffness {stiff:.3g} A/m <= 0")
    return (1 + params.alpha**2) / (params.alpha * GAMMA * MU0 * stiff)


def effective_field(params: MacrospinParams, m) -> np.ndarray:
    """Deterministic effective field H_ext + H_K (m.e) e - Ms N m, A/m, shape like m (..., 3)."""
    m = np.asarray(m, dtype=float)
    e = np.asarray(params.easy_axis)
    return np.asarray(params.h_ext) + params.hk * (m @ e)[..., None] * e - params.ms * np.asarray(params.demag) * m


def energy(params: MacrospinParams, m) -> np.ndarray:
    """Magnetic energy E(m) = -mu0 Ms V [H_K (m.e)^2 / 2 + H_ext.m - Ms sum N_i m_i^2 / 2], J.

    ``H_eff = -dE/dm / (mu0 Ms V)`` is :func:`effective_field`. Shape: m's without the last axis.
    """
    m = np.asarray(m, dtype=float)
    e = np.asarray(params.easy_axis)
    dens = 0.5 * params.hk * (m @ e) ** 2 + m @ np.asarray(params.h_ext) - 0.5 * params.ms * (m * m) @ np.asarray(params.demag)
    return -MU0 * params.moment * dens


def _rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def equilibrium_sample(params: MacrospinParams, n: int, rng=None, sign: float = 1.0) -> np.ndarray:
    """Draw n unit vectors from the harmonic Boltzmann distribution about ``sign * easy_axis``.

    The transverse components are Gaussian with variances kB T / (mu0 Ms V H_i), H_i the
    transverse stiffnesses: exact for uniaxial anisotropy plus diagonal demag without an
    applied field, up to the 1/m_easy Jacobian, which is 1 + O(1/Delta).
    :func:`switching_probability` then lets the dynamics settle, which removes the residue.
    Returns shape (n, 3).
    """
    rng = _rng(rng)
    e = np.asarray(params.easy_axis) * sign
    k = int(np.argmax(np.abs(e)))
    # Transverse unit vectors in the order transverse_stiffness() reports their stiffness.
    t1, t2 = np.eye(3)[[i for i in range(3) if i != k]]
    h1, h2 = params.transverse_stiffness()
    if params.temperature == 0:
        u = np.zeros((n, 2))
    else:
        s = np.sqrt(KB * params.temperature / (MU0 * params.moment * np.array([h1, h2])))
        u = rng.standard_normal((n, 2)) * s
        u = np.clip(u, -0.7, 0.7)  # keeps m_easy > 0; Gaussian tails beyond that are < e^-Delta/2
    me = np.sqrt(1.0 - (u * u).sum(axis=1))
    return me[:, None] * e + u[:, :1] * t1 + u[:, 1:] * t2


def _current_schedule(current, n: int, t0: float, dt: float, steps: int, params: MacrospinParams) -> np.ndarray:
    """c_b for ``steps`` steps starting at time t0, shape (steps, n) (possibly a broadcast view)."""
    if callable(current):
        # Evaluate at the step midpoint so a piecewise-constant pulse is integrated symmetrically.
        rows = [np.broadcast_to(np.asarray(current(t0 + (s + 0.5) * dt), dtype=float), (n,)) for s in range(steps)]
        return params.torque_coefficient(np.stack(rows))
    cur = np.asarray(current, dtype=float)
    if cur.ndim > 1 or (cur.ndim == 1 and cur.shape[0] != n):
        raise ValueError(f"current must be a scalar or have shape ({n},), not {cur.shape}")
    return np.broadcast_to(params.torque_coefficient(np.broadcast_to(cur, (n,))), (steps, n))


def simulate(params: MacrospinParams, m0, *, current=0.0, dt: float, steps: int, rng=None,
             record_every: int = 0, t_start: float = 0.0, integrator: str = "heun",
             renormalize: bool = True):
    """Integrate the stochastic LLG equation for N magnets.

    Parameters
    ----------
    params : MacrospinParams
    m0 : array, shape (3,) or (N, 3)
        Initial magnetisation(s); normalised on entry.
    current : float, array of shape (N,), or callable t -> either
        Charge current I_q in A; the spin current is ``spin_efficiency * I_q`` along
        ``params.polarization``. A callable is evaluated at each step's midpoint time.
    dt : float
        Time step, s.
    steps : int
        Number of steps.
    rng : numpy.random.Generator, int or None
        Source of the thermal noise (only used when temperature > 0).
    record_every : int
        0: return only the final state. k > 0: also record the state every k steps.
    t_start : float
        Time of the initial state, s (matters for a callable current).
    integrator : {"heun", "euler"}
        Heun (Stratonovich; the reference) or Euler-Maruyama (Ito; for comparison only).
    renormalize : bool
        Renormalise |m| after each step (default True).

    Returns
    -------
    m : array, m0's shape
        Final state, when ``record_every == 0``.
    (t, m) : arrays of shape (K,) and (K, N, 3)
        When ``record_every > 0``: K = steps // record_every + 1 samples, the first the
        initial state at t_start.
    """
    if not (isinstance(dt, (int, float)) and dt > 0 and math.isfinite(dt)):
        raise ValueError(f"dt must be > 0 s, not {dt!r}")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, not {steps!r}")
    if record_every < 0:
        raise ValueError(f"record_every must be >= 0, not {record_every!r}")
    if integrator not in ("heun", "euler"):
        raise ValueError(f"integrator must be 'heun' or 'euler', not {integrator!r}")
    m0 = np.asarray(m0, dtype=float)
    single = m0.ndim == 1
    if m0.shape[-1] != 3 or m0.ndim not in (1, 2):
        raise ValueError(f"m0 must have shape (3,) or (N, 3), not {m0.shape}")
    norms = np.linalg.norm(m0, axis=-1, keepdims=True)
    if np.any(norms == 0) or not np.all(np.isfinite(m0)):
        raise ValueError("m0 must be finite, non-zero vectors")
    m = np.ascontiguousarray((m0 / norms).reshape(-1, 3))
    n = m.shape[0]
    sigma = params.thermal_sigma(dt)
    ch = GAMMA * MU0 / (1 + params.alpha**2)
    consts = (params.alpha, ch, params.hk, np.array(params.easy_axis), params.ms * np.array(params.demag),
              np.array(params.h_ext), np.array(params.polarization), integrator == "heun", renormalize)
    chunk = max(1, min(_CHUNK, steps))
    noise_src = _ThermalNoise(_rng(rng), n, chunk) if sigma else None
    times, frames = [t_start], [m.copy()]
    done = 0
    since_record = 0
    while done < steps:
        s = min(chunk, steps - done)
        if record_every:
            s = min(s, record_every - since_record)
        cb = _current_schedule(current, n, t_start + done * dt, dt, s, params)
        if noise_src is not None:
            noise, stream_size = noise_src.draw(s), noise_src.stream_size
        else:
            noise, stream_size = np.broadcast_to(np.zeros(1), (1, s, 3, n)), n
        _advance(m, s, float(dt), cb, noise, stream_size, sigma, *consts)
        done += s
        since_record += s
        if record_every and since_record == record_every:
            times.append(t_start + done * dt)
            frames.append(m.copy())
            since_record = 0
    if record_every:
        return np.asarray(times), np.stack(frames)
    return m[0] if single else m


class SwitchingResult(NamedTuple):
    """Switching probability and its binomial standard error (arrays shaped like the current)."""

    probability: np.ndarray
    stderr: np.ndarray


def switching_probability(params: MacrospinParams, current, duration: float, *, trials: int, dt: float,
                          rng=None, settle: float | None = None, relax: float | None = None) -> SwitchingResult:
    """Probability that a current pulse reverses the magnet from +easy axis to -easy axis.

    Each trial starts from thermal equilibrium about +easy axis (a harmonic Boltzmann draw
    from :func:`equilibrium_sample`, then ``settle`` seconds of current-free dynamics), gets
    ``current`` for ``duration`` seconds, then relaxes for ``relax`` seconds without current;
    it counts as switched when it ends with m . easy < 0.

    Parameters
    ----------
    current : float or array of shape (C,)
        Charge current(s), A. All C x trials magnets are simulated together.
    duration : float
        Pulse length, s.
    trials : int
        Trials per current.
    settle, relax : float, optional
        Defaults: 2 and 10 small-angle relaxation times (:func:`relaxation_time`).

    Returns
    -------
    SwitchingResult
        ``(probability, stderr)``, scalars or arrays of shape (C,); stderr = sqrt(p(1-p)/trials).
    """
    if trials < 1:
        raise ValueError(f"trials must be >= 1, not {trials!r}")
    if duration < 0:
        raise ValueError(f"duration must be >= 0 s, not {duration!r}")
    rng = _rng(rng)
    tr = relaxation_time(params)
    settle = 2 * tr if settle is None else settle
    relax = 10 * tr if relax is None else relax
    cur = np.asarray(current, dtype=float)
    currents = np.repeat(np.atleast_1d(cur), trials)
    n = currents.size
    m = equilibrium_sample(params, n, rng)
    if settle > 0:
        m = simulate(params, m, current=0.0, dt=dt, steps=int(round(settle / dt)), rng=rng)
    m = simulate(params, m, current=currents, dt=dt, steps=int(round(duration / dt)), rng=rng)
    if relax > 0:
        m = simulate(params, m, current=0.0, dt=dt, steps=int(round(relax / dt)), rng=rng)
    switched = (m @ np.asarray(params.easy_axis) < 0).reshape(-1, trials)
    p = switched.mean(axis=1)
    se = np.sqrt(p * (1 - p) / trials)
    if cur.ndim == 0:
        return SwitchingResult(float(p[0]), float(se[0]))
    return SwitchingResult(p, se)
