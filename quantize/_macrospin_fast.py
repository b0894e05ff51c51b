"""Compiled twin of :meth:`quantize.macrospin.MacrospinModel.step` for Monte-Carlo statistics.

It performs the same integer operations in the same order, one magnet per loop iteration
(numba, parallel over magnets); tests/test_macrospin_model.py proves it equal to the numpy
model element for element, saturating cases included. It does not count saturations per node,
only in total.
"""

import numba as nb
import numpy as np

__all__ = ["CONST_ORDER", "fast_steps", "hashed_steps", "hashed_noise"]

#: Order of the constants in the ``ci`` / ``cf`` arrays (``kb2``: the second drive channel's, 0
#: for a magnet with one channel).
CONST_ORDER = ("a0", "a1", "a2", "hx0", "hx1", "hx2", "sigma", "kb", "alpha", "inv_alpha", "c", "c_alpha", "kb2")


@nb.njit(cache=True)
def _rz(x, frac_from, frac_to, width, half_up):
    """resize(): move the binary point (round or truncate), then saturate to ``width`` bits."""
    s = frac_to - frac_from
    if s < 0:
        n = -s
        if half_up:
            x = (x + (np.int64(1) << (n - 1))) >> n
        else:
            x = x >> n
    elif s > 0:
        x = x << s
    hi = (np.int64(1) << (width - 1)) - 1
    lo = -(np.int64(1) << (width - 1))
    if x > hi:
        return hi, 1
    if x < lo:
        return lo, 1
    return x, 0


@nb.njit(cache=True)
def _add(a, fa, b, fb, fo, wo, hu):
    f = max(fa, fb)
    return _rz((a << (f - fa)) + (b << (f - fb)), f, fo, wo, hu)


@nb.njit(cache=True)
def _hcomp(mi, th, ca, fa, cx, fx, mf, hf, hw, hu):
    hd, s1 = _rz(mi * ca, mf + fa, hf, hw, hu)
    hd, s2 = _add(hd, hf, cx, fx, hf, hw, hu)
    h, s3 = _add(hd, hf, th, hf, hf, hw, hu)
    return h, s1 + s2 + s3


@nb.njit(cache=True)
def _dmcomp(mi, d, xi, h2i, ci, cf, mf, hf, hw, df, dw, hu):
    md, s1 = _rz(mi * d, mf + hf, hf, hw, hu)
    y, s2 = _add(md, hf, -h2i, hf, hf, hw, hu)
    a, s3 = _rz(xi * ci[10], hf + cf[10], df, dw, hu)
    b, s4 = _rz(y * ci[11], hf + cf[11], df, dw, hu)
    out, s5 = _add(-a, df, -b, df, df, dw, hu)
    return out, s1 + s2 + s3 + s4 + s5


@nb.njit(cache=True)
def _torque(a0, a1, a2, b0, b1, b2, pax, psg, u1, u2, hf, hw, hu):
    """h1 -= alpha b p, h2 += (b / alpha) p on the polarisation axis ``pax`` (sign ``psg``) only."""
    if pax == 0:
        a0, s3 = _add(a0, hf, -(psg * u1), hf, hf, hw, hu)
        b0, s4 = _add(b0, hf, psg * u2, hf, hf, hw, hu)
    elif pax == 1:
        a1, s3 = _add(a1, hf, -(psg * u1), hf, hf, hw, hu)
        b1, s4 = _add(b1, hf, psg * u2, hf, hf, hw, hu)
    else:
        a2, s3 = _add(a2, hf, -(psg * u1), hf, hf, hw, hu)
        b2, s4 = _add(b2, hf, psg * u2, hf, hf, hw, hu)
    return a0, a1, a2, b0, b1, b2, s3 + s4


@nb.njit(cache=True)
def _rhs(m0, m1, m2, t0, t1, t2, u1, u2, v1, v2, ci, cf, pol, mf, hf, hw, df, dw, hu):
    h0, s0 = _hcomp(m0, t0, ci[0], cf[0], ci[3], cf[3], mf, hf, hw, hu)
    h1, s1 = _hcomp(m1, t1, ci[1], cf[1], ci[4], cf[4], mf, hf, hw, hu)
    h2, s2 = _hcomp(m2, t2, ci[2], cf[2], ci[5], cf[5], mf, hf, hw, hu)
    sat = s0 + s1 + s2
    # h1* = h - alpha b p, h2* = h + b/alpha p on the polarisation axis only; then the second
    # drive channel's on its axis. Adding a zero drive to an in-range field is the identity (no
    # rounding, no saturation), so a channel at zero is skipped.
    a0, a1, a2, b0, b1, b2, s3 = _torque(h0, h1, h2, h0, h1, h2, pol[0], pol[1], u1, u2, hf, hw, hu)
    sat += s3
    if v1 != 0 or v2 != 0:
        a0, a1, a2, b0, b1, b2, s4 = _torque(a0, a1, a2, b0, b1, b2, pol[2], pol[3], v1, v2, hf, hw, hu)
        sat += s4
    pf = mf + hf
    x0, s5 = _rz(m1 * a2 - m2 * a1, pf, hf, hw, hu)
    x1, s6 = _rz(m2 * a0 - m0 * a2, pf, hf, hw, hu)
    x2, s7 = _rz(m0 * a1 - m1 * a0, pf, hf, hw, hu)
    d, s8 = _rz(m0 * b0 + m1 * b1 + m2 * b2, pf, hf, hw, hu)
    sat += s5 + s6 + s7 + s8
    o0, r0 = _dmcomp(m0, d, x0, b0, ci, cf, mf, hf, hw, df, dw, hu)
    o1, r1 = _dmcomp(m1, d, x1, b1, ci, cf, mf, hf, hw, df, dw, hu)
    o2, r2 = _dmcomp(m2, d, x2, b2, ci, cf, mf, hf, hw, df, dw, hu)
    return o0, o1, o2, sat + r0 + r1 + r2


@nb.njit(cache=True)
def _step(m0, m1, m2, g0, g1, g2, u1, u2, v1, v2, ci, cf, fmts, pol, hu):
    """One Heun magnet-step (the numpy model's order of operations). Returns (o0, o1, o2, sat)."""
    mf, mw, hf, hw, df, dw, nf, nw, gf = fmts[0], fmts[1], fmts[2], fmts[3], fmts[4], fmts[5], fmts[6], fmts[7], fmts[8]
    t0, a0 = _rz(g0 * ci[6], gf + cf[6], hf, hw, hu)
    t1, a1 = _rz(g1 * ci[6], gf + cf[6], hf, hw, hu)
    t2, a2 = _rz(g2 * ci[6], gf + cf[6], hf, hw, hu)
    k10, k11, k12, r1 = _rhs(m0, m1, m2, t0, t1, t2, u1, u2, v1, v2, ci, cf, pol, mf, hf, hw, df, dw, hu)
    p0, b0 = _add(m0, mf, k10, df, mf, mw, hu)
    p1, b1 = _add(m1, mf, k11, df, mf, mw, hu)
    p2, b2 = _add(m2, mf, k12, df, mf, mw, hu)
    k20, k21, k22, r2 = _rhs(p0, p1, p2, t0, t1, t2, u1, u2, v1, v2, ci, cf, pol, mf, hf, hw, df, dw, hu)
    c0, d0 = _add(m0, mf, k10 + k20, df + 1, mf, mw, hu)
    c1, d1 = _add(m1, mf, k11 + k21, df + 1, mf, mw, hu)
    c2, d2 = _add(m2, mf, k12 + k22, df + 1, mf, mw, hu)
    ss, e1 = _rz(c0 * c0 + c1 * c1 + c2 * c2, 2 * mf, nf, nw, hu)
    r, e2 = _rz((np.int64(3) << nf) - ss, nf + 1, nf, nw, hu)
    o0, f0 = _rz(c0 * r, mf + nf, mf, mw, hu)
    o1, f1 = _rz(c1 * r, mf + nf, mf, mw, hu)
    o2, f2 = _rz(c2 * r, mf + nf, mf, mw, hu)
    sat = a0 + a1 + a2 + r1 + b0 + b1 + b2 + r2 + d0 + d1 + d2 + e1 + e2 + f0 + f1 + f2
    return o0, o1, o2, sat


@nb.njit(cache=True)
def _drive(code, ci, cf, fmts, hu, kb=7):
    """alpha b and b / alpha of drive code ``code`` with b = ci[kb] code (7: kb, 12: kb2)."""
    hf, hw, bf = fmts[2], fmts[3], fmts[9]
    b, s1 = _rz(code * ci[kb], bf + cf[kb], hf, hw, hu)
    u1, s2 = _rz(b * ci[8], hf + cf[8], hf, hw, hu)
    u2, s3 = _rz(b * ci[9], hf + cf[9], hf, hw, hu)
    return u1, u2, s1 + s2 + s3


@nb.njit(cache=True)
def _easy(m0, m1, m2, eax, esg):
    return esg * (m0 if eax == 0 else (m1 if eax == 1 else m2))


@nb.njit(cache=True)
def _splitmix64(x):
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@nb.njit(cache=True)
def _irwin_hall(key, k, bits):
    """Centred sum of k uniform ``bits``-bit fields of counter-based hashes of ``key``."""
    per = 64 // bits
    mask = np.uint64((1 << bits) - 1)
    total = np.int64(0)
    left = 0
    h = np.uint64(0)
    j = np.uint64(0)
    for _ in range(k):
        if left == 0:
            h = _splitmix64(key ^ (j * np.uint64(0xD1B54A32D192ED03)))
            j += np.uint64(1)
            left = per
        total += np.int64(h & mask)
        h = h >> np.uint64(bits)
        left -= 1
    return 2 * total - k * ((1 << bits) - 1) if k % 2 else total - (k * ((1 << bits) - 1)) // 2


@nb.njit(parallel=True, cache=True)
def _advance(m, steps, noise, hashed, step0, seed, code, code2, k, bits, ci, cf, fmts, pol, eax, esg, hu):
    """The one loop behind :func:`fast_steps` and :func:`hashed_steps` (noise given or hashed)."""
    n = m.shape[0]
    switched = np.zeros(n, dtype=np.int64)
    satn = np.zeros(n, dtype=np.int64)
    base = _splitmix64(np.uint64(seed))
    for q in nb.prange(n):
        m0, m1, m2 = m[q, 0], m[q, 1], m[q, 2]
        u1, u2, sat = _drive(code[q], ci, cf, fmts, hu)
        v1, v2, sat2 = _drive(code2[q], ci, cf, fmts, hu, 12)
        sat = (sat + sat2) * steps
        sw = 0
        for s in range(steps):
            if hashed:
                ctr = (np.uint64(step0 + s) * np.uint64(n) + np.uint64(q)) * np.uint64(3)
                g0 = _irwin_hall(base ^ _splitmix64(ctr), k, bits)
                g1 = _irwin_hall(base ^ _splitmix64(ctr + np.uint64(1)), k, bits)
                g2 = _irwin_hall(base ^ _splitmix64(ctr + np.uint64(2)), k, bits)
            else:
                g0, g1, g2 = noise[s, q, 0], noise[s, q, 1], noise[s, q, 2]
            o0, o1, o2, sn = _step(m0, m1, m2, g0, g1, g2, u1, u2, v1, v2, ci, cf, fmts, pol, hu)
            if _easy(m0, m1, m2, eax, esg) >= 0 and _easy(o0, o1, o2, eax, esg) < 0:
                sw += 1
            m0, m1, m2 = o0, o1, o2
            sat += sn
        m[q, 0], m[q, 1], m[q, 2] = m0, m1, m2
        switched[q] = sw
        satn[q] = sat
    return switched, satn


_NO_NOISE = np.zeros((1, 1, 3), dtype=np.int64)


def _code2(code2, n):
    return np.zeros(n, np.int64) if code2 is None else np.ascontiguousarray(code2, dtype=np.int64)


def fast_steps(m, noise, code, ci, cf, fmts, pol, eax, esg, hu, code2=None):
    """Advance each magnet by ``noise.shape[0]`` steps in place, noise given.

    Parameters
    ----------
    m : int64 (N, 3), updated in place.
    noise : int64 (S, N, 3) Gaussian samples per step.
    code : int64 (N,) drive codes (constant over the S steps).
    ci, cf : int64 (13,) constant integers and their fractional bits (:data:`CONST_ORDER`).
    fmts : int64 (10,) (m frac, m width, h frac, h width, dm frac, dm width, norm frac, norm width,
        noise frac, drive frac).
    pol : int64 (4,) axis index and sign of the polarisation of the drive and of the second drive.
    eax, esg : easy axis index and sign.
    hu : bool, round half up (else truncate).
    code2 : int64 (N,), optional: the second drive channel's codes (default 0).

    Returns
    -------
    switched : int64 (N,) steps in which m_easy crossed from >= 0 to < 0.
    sat : int64 (N,) saturation count.
    """
    return _advance(m, noise.shape[0], noise, False, 0, 0, code, _code2(code2, m.shape[0]), 1, 1, ci, cf, fmts, pol,
                    eax, esg, hu)


def hashed_steps(m, steps, step0, seed, code, k, bits, ci, cf, fmts, pol, eax, esg, hu, code2=None):
    """As :func:`fast_steps` with the noise drawn in the kernel: sample (step, magnet, component)
    is the Irwin-Hall sum of ``k`` ``bits``-bit fields of splitmix64 hashes of a counter keyed by
    ``seed`` (reproducible whatever the thread count). Steps are numbered from ``step0``."""
    return _advance(m, steps, _NO_NOISE, True, step0, seed, code, _code2(code2, m.shape[0]), k, bits, ci, cf, fmts,
                    pol, eax, esg, hu)


@nb.njit(cache=True)
def hashed_noise(seed, step0, steps, n, k, bits):
    """The samples :func:`hashed_steps` draws, shape (steps, n, 3) (for tests and inspection)."""
    out = np.empty((steps, n, 3), dtype=np.int64)
    base = _splitmix64(np.uint64(seed))
    for s in range(steps):
        for q in range(n):
            ctr = (np.uint64(step0 + s) * np.uint64(n) + np.uint64(q)) * np.uint64(3)
            for c in range(3):
                out[s, q, c] = _irwin_hall(base ^ _splitmix64(ctr + np.uint64(c)), k, bits)
    return out


@nb.njit(cache=True)
def stream_steps(state, noise, codes, codes2, resets, reset_m, ci, cf, fmts, pol, eax, esg, hu):
    """The RTL's beat order (``quantize.macrospin.reference_stream``), compiled.

    state : int64 (N * K, 3), index slot * K + lane, updated in place.
    noise : int64 (T, K, 3); codes, codes2 : int64 (T, K) (the second drive channel's: zeros for
    a magnet with one); resets : bool (T, K); reset_m : int64 (3,).
    Beat t updates slot t mod N of every lane (drive recomputed per beat).
    Returns out_m int64 (T, K, 3), switched bool (T, K), saturation count.
    """
    t_total, k = codes.shape
    n = state.shape[0] // k
    out = np.empty((t_total, k, 3), dtype=np.int64)
    sw = np.zeros((t_total, k), dtype=np.bool_)
    sat = 0
    for t in range(t_total):
        base = (t % n) * k
        for lane in range(k):
            q = base + lane
            m0, m1, m2 = state[q, 0], state[q, 1], state[q, 2]
            u1, u2, s1 = _drive(codes[t, lane], ci, cf, fmts, hu)
            v1, v2, s3 = _drive(codes2[t, lane], ci, cf, fmts, hu, 12)
            o0, o1, o2, s2 = _step(m0, m1, m2, noise[t, lane, 0], noise[t, lane, 1], noise[t, lane, 2],
                                   u1, u2, v1, v2, ci, cf, fmts, pol, hu)
            sat += s1 + s2 + s3  # counted on reset beats too, as the numpy model (and the RTL) compute them
            if resets[t, lane]:
                o0, o1, o2 = reset_m[0], reset_m[1], reset_m[2]
            else:
                sw[t, lane] = _easy(m0, m1, m2, eax, esg) >= 0 and _easy(o0, o1, o2, eax, esg) < 0
            state[q, 0], state[q, 1], state[q, 2] = o0, o1, o2
            out[t, lane, 0], out[t, lane, 1], out[t, lane, 2] = o0, o1, o2
    return out, sw, sat
