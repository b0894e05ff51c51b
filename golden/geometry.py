"""Magnet geometry: volumes and demagnetising factors (SI units)."""

import math

from scipy.special import elliprd

__all__ = ["ellipsoid_demag", "elliptic_disk_volume", "shape_anisotropy"]


def ellipsoid_demag(a: float, b: float, c: float) -> tuple[float, float, float]:
    """Demagnetising factors (N_a, N_b, N_c) of an ellipsoid with semi-axes a, b, c (m).

    Osborn (Phys. Rev. 67, 351, 1945) in Carlson form: N_a = (abc/3) R_D(b^2, c^2, a^2), and
    cyclically; N_a + N_b + N_c = 1. A thin elliptic disk of the same in-plane semi-axes and
    thickness 2c is approximated by the inscribed ellipsoid (the usual macrospin choice).
    """
    for name, v in (("a", a), ("b", b), ("c", c)):
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"semi-axis {name} must be > 0 m, not {v!r}")
    k = a * b * c / 3.0
    na = k * elliprd(b * b, c * c, a * a)
    nb = k * elliprd(c * c, a * a, b * b)
    nc = k * elliprd(a * a, b * b, c * c)
    return float(na), float(nb), float(nc)


def elliptic_disk_volume(length: float, width: float, thickness: float) -> float:
    """Volume (pi/4) L W t of an elliptic disk with axes L, W and thickness t, m^3."""
    return math.pi / 4 * length * width * thickness


def shape_anisotropy(ms: float, demag: tuple[float, float, float], easy: int) -> tuple[float, tuple[float, float, float]]:
    """Rewrite diagonal demag energy as uniaxial anisotropy along axis ``easy`` plus residual demag.

    (Ms/2) sum N_i m_i^2 = const + (Ms/2) sum (N_i - N_e) m_i^2 with |m| = 1, so the same energy
    is an easy axis with H_K = Ms (N_h - N_e), N_h the smaller of the other two factors, plus a
    residual demag (N_i - N_h) on the remaining hard axis. Returns (H_K in A/m, residual demag).
    """
    others = [i for i in range(3) if i != easy]
    soft = min(others, key=lambda i: demag[i])
    if demag[soft] < demag[easy]:
        raise ValueError(f"axis {easy} is not the easy axis of demag factors {demag}")
    hk = ms * (demag[soft] - demag[easy])
    residual = tuple(0.0 if i in (easy, soft) else demag[i] - demag[soft] for i in range(3))
    return hk, residual
