"""Compiled step kernels for the macrospin LLG integrator (private; see :mod:`golden.llg`).

The kernels advance ``N`` independent magnets by ``S`` steps each, in parallel over magnets,
keeping each magnet's state in registers across its steps. They work in SI units with the
coefficients precomputed by :mod:`golden.llg`:

    dm/dt = -c_h [ m x H + alpha m x (m x H) ] + c_b [ -m x (m x p) + alpha m x p ]

with ``c_h = gamma mu0 / (1 + alpha^2)`` (1/(s A/m)) and ``c_b = gamma hbar I_s /
(2 e Ms V (1 + alpha^2))`` (1/s), i.e. REFERENCES.md section 1's Landau-Lifshitz form of the
Gilbert equation with damping-like spin torque (the seed's eq. 10). The effective field is

    H = H_ext + H_K (m . e) e - Ms N m + H_th,

with ``N`` the diagonal demagnetising tensor and ``H_th`` the per-step thermal field.
"""

import numba as nb
import numpy as np

__all__ = ["BLOCK", "advance"]


@nb.njit(inline="always")
def _rhs(mx, my, mz, hx, hy, hz, alpha, ch, cb, px, py, pz):
    """Right-hand side of the LL equation for one magnet. Returns (dmx, dmy, dmz) in 1/s."""
    # m x H
    ax = my * hz - mz * hy
    ay = mz * hx - mx * hz
    az = mx * hy - my * hx
    # m x (m x H) = m (m.H) - H |m|^2  (|m| is not assumed to be 1 in the predictor)
    mm = mx * mx + my * my + mz * mz
    mh = mx * hx + my * hy + mz * hz
    bx = mx * mh - hx * mm
    by = my * mh - hy * mm
    bz = mz * mh - hz * mm
    dx = -ch * (ax + alpha * bx)
    dy = -ch * (ay + alpha * by)
    dz = -ch * (az + alpha * bz)
    # m x p and m x (m x p); computed even when cb == 0 to keep the loop branch-free
    qx = my * pz - mz * py
    qy = mz * px - mx * pz
    qz = mx * py - my * px
    mp = mx * px + my * py + mz * pz
    rx = mx * mp - px * mm
    ry = my * mp - py * mm
    rz = mz * mp - pz * mm
    dx += cb * (alpha * qx - rx)
    dy += cb * (alpha * qy - ry)
    dz += cb * (alpha * qz - rz)
    return dx, dy, dz


@nb.njit(inline="always")
def _field(mx, my, mz, hk, ex, ey, ez, dmx, dmy, dmz, hx0, hy0, hz0):
    """Deterministic effective field in A/m: H_ext + H_K (m.e) e - Ms N m (dm* = Ms N_i)."""
    me = hk * (mx * ex + my * ey + mz * ez)
    return (hx0 + me * ex - dmx * mx, hy0 + me * ey - dmy * my, hz0 + me * ez - dmz * mz)


BLOCK = 512  # magnets per work item; their state stays in L1 across the steps of a chunk


@nb.njit(parallel=True, cache=True, error_model="numpy")
def advance(m, steps, dt, cb, noise, stream_size, sigma, alpha, ch, hk, easy, dms, hext, pol, heun, renorm):
    """Advance magnets in place by ``steps`` steps.

    Magnets are processed in blocks of ``BLOCK`` (in parallel over blocks); within a block the
    loop over magnets is innermost and branch-free so that it compiles to SIMD code.

    Parameters
    ----------
    m : float64 array, shape (N, 3)
        Unit magnetisations, updated in place.
    steps : int
        Number of steps S.
    dt : float
        Time step in s.
    cb : float64 array, shape (S, N)
        Spin-torque coefficient c_b per step and magnet, 1/s (may be a broadcast view).
    noise : float64 array, shape (K, S, 3, stream_size)
        Standard normal samples from K independent streams; stream k serves magnets
        [k * stream_size, (k + 1) * stream_size). May be a broadcast view of zeros at T = 0.
    stream_size : int
        Magnets per noise stream; N if K == 1, else a multiple of ``BLOCK``.
    sigma : float
        Thermal field standard deviation per component, A/m.
    alpha, ch, hk : float
        Damping, c_h = gamma mu0 / (1 + alpha^2), anisotropy field H_K in A/m.
    easy, dms, hext, pol : float64 arrays, shape (3,)
        Easy axis unit vector, Ms * demag factors (A/m), external field (A/m), spin polarisation.
    heun : bool
        Heun (Stratonovich) predictor-corrector when True, Euler-Maruyama (Ito) when False.
    renorm : bool
        Renormalise |m| = 1 after each step.
    """
    n = m.shape[0]
    ex, ey, ez = easy[0], easy[1], easy[2]
    dmx, dmy, dmz = dms[0], dms[1], dms[2]
    hx0, hy0, hz0 = hext[0], hext[1], hext[2]
    px, py, pz = pol[0], pol[1], pol[2]
    half = 0.5 * dt
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in nb.prange(nblocks):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        w = hi - lo
        k = lo // stream_size
        off = lo - k * stream_size
        ax = np.empty(w)
        ay = np.empty(w)
        az = np.empty(w)
        for j in range(w):
            ax[j] = m[lo + j, 0]
            ay[j] = m[lo + j, 1]
            az[j] = m[lo + j, 2]
        for s in range(steps):
            for j in range(w):
                i = lo + j
                mx = ax[j]
                my = ay[j]
                mz = az[j]
                c = cb[s, i]
                tx = sigma * noise[k, s, 0, off + j]
                ty = sigma * noise[k, s, 1, off + j]
                tz = sigma * noise[k, s, 2, off + j]
                hx, hy, hz = _field(mx, my, mz, hk, ex, ey, ez, dmx, dmy, dmz, hx0, hy0, hz0)
                k1x, k1y, k1z = _rhs(mx, my, mz, hx + tx, hy + ty, hz + tz, alpha, ch, c, px, py, pz)
                if heun:
                    # Predictor, then trapezoidal corrector with the same thermal field sample.
                    qx = mx + dt * k1x
                    qy = my + dt * k1y
                    qz = mz + dt * k1z
                    hx, hy, hz = _field(qx, qy, qz, hk, ex, ey, ez, dmx, dmy, dmz, hx0, hy0, hz0)
                    k2x, k2y, k2z = _rhs(qx, qy, qz, hx + tx, hy + ty, hz + tz, alpha, ch, c, px, py, pz)
                    mx += half * (k1x + k2x)
                    my += half * (k1y + k2y)
                    mz += half * (k1z + k2z)
                else:
                    mx += dt * k1x
                    my += dt * k1y
                    mz += dt * k1z
                if renorm:
                    inv = 1.0 / np.sqrt(mx * mx + my * my + mz * mz)
                    mx *= inv
                    my *= inv
                    mz *= inv
                ax[j] = mx
                ay[j] = my
                az[j] = mz
        for j in range(w):
            m[lo + j, 0] = ax[j]
            m[lo + j, 1] = ay[j]
            m[lo + j, 2] = az[j]
