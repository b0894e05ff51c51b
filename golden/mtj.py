"""Magnetic tunnel junction read-out: angle, bias and oxide-thickness dependence (seed eqs. 2-4).

SI units: resistances in ohm, conductances in S, voltages in V, thicknesses in m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["resistance", "conductance", "tmr", "oxide_bias_factor", "MtjStack"]


def resistance(theta, r_p, r_ap):
    """MTJ resistance at relative angle theta between free and pinned layer (seed eq. 4).

    ``1/R = cos^2(theta/2)/R_P + sin^2(theta/2)/R_AP``, i.e. the conductance interpolates
    between G_P (theta = 0) and G_AP (theta = pi). Broadcasts over theta, r_p, r_ap.
    """
    return 1.0 / conductance(theta, r_p, r_ap)


def conductance(theta, r_p, r_ap):
    """MTJ conductance G(theta) = G_P cos^2(theta/2) + G_AP sin^2(theta/2), S (eq. 4)."""
    theta = np.asarray(theta, dtype=float)
    r_p, r_ap = _check_resistances(r_p, r_ap)
    return np.cos(theta / 2) ** 2 / r_p + np.sin(theta / 2) ** 2 / r_ap


def tmr(r_p, r_ap):
    """Tunnelling magnetoresistance ratio (R_AP - R_P) / R_P (the seed's eq. 2 has a typo)."""
    r_p, r_ap = _check_resistances(r_p, r_ap)
    return (r_ap - r_p) / r_p


def _check_resistances(r_p, r_ap):
    r_p = np.asarray(r_p, dtype=float)
    r_ap = np.asarray(r_ap, dtype=float)
    if np.any(~(r_p > 0)):
        raise ValueError(f"r_p must be > 0 ohm, not {r_p}")
    if np.any(~(r_ap >= r_p)):
        raise ValueError(f"r_ap must be >= r_p, not r_ap={r_ap}, r_p={r_p}")
    return r_p, r_ap


def oxide_bias_factor(t_mgo, v_mtj, a, b, d):
    """The bias and oxide-thickness law of the seed's eq. 3, up to its proportionality constant.

    ``R ~ ( exp(a_0 t + b_0) + sum_{m=1..c} (-1)^(m-1) V^(2m) exp(a_m t + b_m) )^(-d)``

    Parameters
    ----------
    t_mgo : float or array
        MgO thickness, m.
    v_mtj : float or array
        Voltage across the junction, V.
    a, b : sequences of length c + 1
        Fitting coefficients a_m (1/m) and b_m (dimensionless).
    d : float
        Exponent.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size < 1:
        raise ValueError(f"a and b must be 1-D of equal length c + 1, not {a.shape} and {b.shape}")
    t = np.asarray(t_mgo, dtype=float)
    v = np.asarray(v_mtj, dtype=float)
    total = np.exp(a[0] * t + b[0])
    for m in range(1, a.size):
        total = total + (-1) ** (m - 1) * v ** (2 * m) * np.exp(a[m] * t + b[m])
    if np.any(total <= 0):
        raise ValueError("eq. 3 is outside its fitted range here: the bracket is <= 0")
    return total ** (-d)


@dataclass(frozen=True)
class MtjStack:
    """A junction with R_P, R_AP given at a reference oxide thickness and zero bias.

    The bias and thickness dependence follow eq. 3 with ``c = 1``. The default coefficients
    are an illustrative fit, not the seed's NEGF calibration (which it does not print):
    resistance grows 10x per 0.3 nm of MgO (``a_0 = ln 10 / 0.3 nm``, typical of MgO barriers),
    R_P is bias independent, and R_AP falls with bias so that the TMR halves at
    ``v_half`` (0.5 V, typical of CoFeB/MgO junctions). ``d = 1`` makes eq. 3's bracket a
    conductance: G_AP(V) = G_AP(0) (1 + k V^2).
    """

    r_p: float
    r_ap: float
    t_ref: float = 1.0e-9
    v_half: float = 0.5

    def __post_init__(self):
        _check_resistances(self.r_p, self.r_ap)
        if not self.t_ref > 0:
            raise ValueError(f"MtjStack.t_ref must be > 0 m, not {self.t_ref!r}")
        if not self.v_half > 0:
            raise ValueError(f"MtjStack.v_half must be > 0 V, not {self.v_half!r}")

    @property
    def tmr0(self) -> float:
        """Zero-bias TMR at the reference thickness."""
        return float(tmr(self.r_p, self.r_ap))

    def _coefficients(self, state: str):
        # d = 1: eq. 3's bracket is a conductance, falling 10x per 0.3 nm of MgO (a_0 < 0).
        a0 = -np.log(10.0) / 0.3e-9
        b0 = -a0 * self.t_ref
        if state == "p":
            return [a0, a0], [b0, -np.inf], 1.0
        # The AP conductance rises as 1 + k V^2 (Brinkman-like); TMR(v_half) = TMR0 / 2 needs
        # 1 + k v_half^2 = (1 + TMR0) / (1 + TMR0 / 2).
        k = (self.tmr0 / 2) / (1 + self.tmr0 / 2) / self.v_half**2
        return [a0, a0], [b0, b0 + np.log(k)], 1.0

    def r_p_at(self, v=0.0, t_mgo=None):
        """Parallel-state resistance at bias v (V) and oxide thickness t_mgo (m), ohm."""
        a, b, d = self._coefficients("p")
        return self.r_p * oxide_bias_factor(self.t_ref if t_mgo is None else t_mgo, v, a, b, d)

    def r_ap_at(self, v=0.0, t_mgo=None):
        """Antiparallel-state resistance at bias v (V) and oxide thickness t_mgo (m), ohm."""
        a, b, d = self._coefficients("ap")
        return self.r_ap * oxide_bias_factor(self.t_ref if t_mgo is None else t_mgo, v, a, b, d)

    def resistance(self, theta, v=0.0, t_mgo=None):
        """Resistance at angle theta, bias v and thickness t_mgo: eq. 4 with eq. 3 end points."""
        return resistance(theta, self.r_p_at(v, t_mgo), self.r_ap_at(v, t_mgo))
