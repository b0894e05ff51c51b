"""How many conductance levels of a multilevel synapse a read can tell apart (seed section IV).

The seed credits the DW synapse with "15-20 distinguishable levels" (REFERENCES.md section 4).
A device can be *programmed* to any number of positions (``DomainWallDevice.levels``); what
limits the number that is useful is the read: the current through the MTJ at the read voltage
carries noise, and devices of one array differ. This module counts the levels a read
distinguishes with a given error, from two independent physical inputs:

* **Read noise.** A tunnel junction's current noise, single-sided spectral density
  ``S_I = 2 e I coth(e V / 2 k T)`` (A^2/Hz; Blanter & Buettiker, Phys. Rep. 336, 1 (2000),
  eq. 61 with Fano factor 1, the tunnelling limit): Johnson-Nyquist ``4 k T G`` for
  ``e V << k T``, full shot noise ``2 e I`` for ``e V >> k T``. An integrating read of
  duration ``t_read`` has the noise bandwidth ``1 / (2 t_read)`` (a boxcar average), so
  ``sigma_noise = sqrt(S_I / (2 t_read))``.
* **Device-to-device variation.** A relative conductance spread ``sigma_rel`` (Gaussian) of a
  device programmed without write-verify: ``sigma_var = sigma_rel V G``.

With ``n`` equally spaced levels ``G_k = G_AP + k (G_P - G_AP) / (n - 1)`` (eq. 11 at the
programmed positions) read as currents ``I_k = V G_k`` and decoded to the nearest nominal level,
level ``k`` is misread with probability ``2 Q(dI / (2 sigma_k))`` (interior) or
``Q(dI / (2 sigma_k))`` (the two end levels), ``dI = V (G_P - G_AP) / (n - 1)``,
``sigma_k^2 = sigma_noise(G_k)^2 + sigma_var(G_k)^2``, ``Q`` the Gaussian tail. The count of
distinguishable levels is the largest ``n`` whose worst level is misread with at most
``symbol_error``.

Not modelled: the sense amplifier's own noise and offset, 1/f noise (negligible in a ns read),
read disturb (:mod:`golden.dw`'s depinning is not reached at read currents), and the bias
dependence of the TMR.
"""

from __future__ import annotations

import math

import numpy as np

from golden.constants import E_CHARGE, KB

__all__ = ["read_noise_sigma", "misread_probabilities", "distinguishable_levels"]


def _positive(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, not {value!r}")
    return v


def read_noise_sigma(g, read_voltage: float, read_time: float, temperature: float = 300.0):
    """Standard deviation (A) of the averaged read current of a tunnel junction of conductance
    ``g`` (S, scalar or array) at ``read_voltage`` (V) over ``read_time`` (s) at ``temperature`` (K):
    ``sqrt(2 e I coth(e V / 2 k T) / (2 t_read))`` with ``I = g V`` (module docstring)."""
    v, t = _positive("read_voltage", read_voltage), _positive("read_time", read_time)
    temp = _positive("temperature", temperature)
    g = np.asarray(g, dtype=np.float64)
    x = E_CHARGE * v / (2 * KB * temp)
    s_i = 2 * E_CHARGE * g * v / math.tanh(x)       # A^2/Hz, single-sided
    return np.sqrt(s_i / (2 * t))[()]


def misread_probabilities(g_ap: float, g_p: float, n: int, *, read_voltage: float, read_time: float,
                          temperature: float = 300.0, sigma_rel: float = 0.0) -> np.ndarray:
    """Per-level misread probability, shape (n,), of ``n`` equally spaced levels between ``g_ap``
    and ``g_p`` (S) decoded to the nearest nominal current (module docstring)."""
    if isinstance(n, bool) or int(n) != n or n < 2:
        raise ValueError(f"n must be an integer >= 2, not {n!r}")
    if not (0 < g_ap < g_p):
        raise ValueError(f"need 0 < g_ap < g_p, not g_ap={g_ap!r}, g_p={g_p!r}")
    if not (math.isfinite(sigma_rel) and sigma_rel >= 0):
        raise ValueError(f"sigma_rel must be a finite number >= 0, not {sigma_rel!r}")
    g = g_ap + (g_p - g_ap) * np.arange(n) / (n - 1)
    noise = read_noise_sigma(g, read_voltage, read_time, temperature)
    sigma = np.hypot(noise, sigma_rel * read_voltage * g)
    d_i = read_voltage * (g_p - g_ap) / (n - 1)
    tail = np.array([0.5 * math.erfc(d_i / (2 * s) / math.sqrt(2)) for s in sigma])
    sides = np.full(n, 2.0)
    sides[[0, -1]] = 1.0
    return sides * tail


def distinguishable_levels(g_ap: float, g_p: float, *, read_voltage: float = 0.05, read_time: float = 1e-9,
                           temperature: float = 300.0, sigma_rel: float = 0.0, symbol_error: float = 1e-3,
                           n_max: int = 4096) -> int:
    """The largest number of equally spaced levels (2 .. ``n_max``) whose worst level is misread
    with probability <= ``symbol_error``; 1 if even two levels are not told apart.

    Parameters
    ----------
    g_ap, g_p : float
        The device's extreme conductances, S (eq. 11 with the wall at either end).
    read_voltage : float
        Read voltage across the MTJ, V (default 50 mV, golden.energy's crossbar read).
    read_time : float
        Integration time of one read, s (default 1 ns).
    temperature : float
        K.
    sigma_rel : float
        Device-to-device relative conductance spread (0: a write-verified device).
    symbol_error : float
        Allowed misread probability of the worst level, in (0, 1).
    """
    if not (0 < symbol_error < 1):
        raise ValueError(f"symbol_error must be in (0, 1), not {symbol_error!r}")
    kw = dict(read_voltage=read_voltage, read_time=read_time, temperature=temperature, sigma_rel=sigma_rel)
    best = 1
    for n in range(2, int(n_max) + 1):
        if misread_probabilities(g_ap, g_p, n, **kw).max() > symbol_error:
            break           # the worst misread probability grows with n: the first failure ends it
        best = n
    return best
