"""SI -> normalised units for the hardware macrospin: the one place the conversion lives.

The RTL integrates the LLG equation in normalised units (REFERENCES.md section 1):
``h = H / H_N``, ``tau = gamma mu0 H_N t``,

    dm/dtau = [ -(m x h) - alpha m x (m x h) + b ( -m x (m x p) + alpha m x p ) ] / (1 + alpha^2)

with ``b = hbar I_s / (2 e Ms V mu0 H_N)`` and a thermal field of standard deviation
``sigma_h = sqrt(alpha / (Delta_N dtau))`` per component, ``Delta_N = mu0 Ms H_N V / (2 kB T)``.
``H_N`` is the anisotropy field H_K (or |H_ext| for a magnet without anisotropy).

The hardware supports what the seed's devices need: an easy axis and a spin polarisation
along coordinate axes and a diagonal demag tensor, so the deterministic field is diagonal,
``h_i = a_i m_i + h_ext,i`` with ``a_i = e_i^2 - Ms N_i / H_N``.

Using ``|m| = 1``, ``m x (m x v) = m (m.v) - v``, the right-hand side becomes

    dm = c [ -(m x h1) - alpha (m (m.h2) - h2) ],  c = dtau / (1 + alpha^2),
    h1 = h - alpha b p,  h2 = h + (b / alpha) p,

which is the form the integer model and the RTL evaluate (:func:`increment`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from golden.constants import E_CHARGE, GAMMA, HBAR, KB, MU0
from golden.llg import MacrospinParams

__all__ = ["NormalisedMacrospin", "normalise", "increment", "heun_step"]


@dataclass(frozen=True)
class NormalisedMacrospin:
    """A macrospin and its step in normalised units (all floats, dimensionless unless stated).

    Attributes
    ----------
    h_norm : float
        Normalising field H_N, A/m.
    a : tuple of 3 floats
        Diagonal field coefficients a_i (h_i = a_i m_i + h_ext_i).
    h_ext : tuple of 3 floats
        Applied field / H_N.
    p_axis, p_sign : int, int
        The spin polarisation is ``p_sign`` times unit vector ``p_axis`` (0, 1, 2 = x, y, z).
    easy_axis, easy_sign : int, int
        The easy axis (used for the switched flag and the reset state).
    alpha, dtau, c : float
        Damping, step in tau, and ``dtau / (1 + alpha^2)``.
    sigma_h : float
        Thermal field standard deviation per component per step (0 at T = 0).
    b_per_amp : float
        b per ampere of charge current (includes the spin efficiency), 1/A.
    dt : float
        The SI step, s.
    """

    h_norm: float
    a: tuple
    h_ext: tuple
    p_axis: int
    p_sign: int
    easy_axis: int
    easy_sign: int
    alpha: float
    dtau: float
    c: float
    sigma_h: float
    b_per_amp: float
    dt: float


def _axis(vec, name):
    v = np.asarray(vec, dtype=float)
    k = int(np.argmax(np.abs(v)))
    if not np.allclose(np.delete(v, k), 0.0, atol=1e-12):
        raise ValueError(f"the hardware macrospin needs {name} along a coordinate axis, not {tuple(vec)}")
    return k, int(np.sign(v[k]))


def normalise(params: MacrospinParams, dt: float) -> NormalisedMacrospin:
    """Convert a golden :class:`~golden.llg.MacrospinParams` and step dt (s) to normalised units.

    Raises ValueError if the magnet is outside what the hardware supports (easy axis or
    polarisation off a coordinate axis, or no field to normalise by).
    """
    if not (dt > 0 and math.isfinite(dt)):
        raise ValueError(f"dt must be > 0 s, not {dt!r}")
    e_axis, e_sign = _axis(params.easy_axis, "the easy axis")
    p_axis, p_sign = _axis(params.polarization, "the polarization")
    h_n = params.hk if params.hk > 0 else float(np.linalg.norm(params.h_ext))
    if h_n <= 0:
        raise ValueError("the magnet needs hk > 0 or a non-zero h_ext to define normalised units")
    e = np.zeros(3)
    e[e_axis] = 1.0
    a = (params.hk / h_n) * e * e - params.ms * np.asarray(params.demag) / h_n
    dtau = GAMMA * MU0 * h_n * dt
    if params.temperature > 0:
        delta_n = MU0 * params.ms * h_n * params.volume / (2 * KB * params.temperature)
        sigma = math.sqrt(params.alpha / (delta_n * dtau))
    else:
        sigma = 0.0
    b_per_amp = HBAR * params.spin_efficiency / (2 * E_CHARGE * params.ms * params.volume * MU0 * h_n)
    return NormalisedMacrospin(
        h_norm=h_n, a=tuple(float(x) for x in a), h_ext=tuple(float(x) / h_n for x in params.h_ext),
        p_axis=p_axis, p_sign=p_sign, easy_axis=e_axis, easy_sign=e_sign, alpha=params.alpha,
        dtau=dtau, c=dtau / (1 + params.alpha**2), sigma_h=sigma, b_per_amp=b_per_amp, dt=dt,
    )


def increment(nm: NormalisedMacrospin, m, h_th, b):
    """Float increment dm of one RHS evaluation: ``c [-(m x h1) - alpha (m (m.h2) - h2)]``.

    m, h_th: shape (N, 3); b: shape (N,) (normalised drive). Returns shape (N, 3).
    """
    m = np.asarray(m, dtype=float)
    h = np.asarray(nm.a) * m + np.asarray(nm.h_ext) + h_th
    h1 = h.copy()
    h2 = h.copy()
    h1[:, nm.p_axis] -= nm.p_sign * nm.alpha * b
    h2[:, nm.p_axis] += nm.p_sign * b / nm.alpha
    d = (m * h2).sum(axis=1, keepdims=True)
    return nm.c * (-np.cross(m, h1) - nm.alpha * (m * d - h2))


def heun_step(nm: NormalisedMacrospin, m, g, b):
    """One float Heun step in normalised units with unit-normal noise g (N, 3); renormalised."""
    h_th = nm.sigma_h * np.asarray(g, dtype=float)
    k1 = increment(nm, m, h_th, b)
    k2 = increment(nm, m + k1, h_th, b)
    out = m + 0.5 * (k1 + k2)
    return out / np.linalg.norm(out, axis=1, keepdims=True)
