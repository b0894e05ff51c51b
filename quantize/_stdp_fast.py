"""Compiled kernels of the integer STDP network (private; see :mod:`quantize.stdp`).

Every operation is an integer operation of the documented hardware, in the documented order;
:mod:`quantize.stdp` describes the formats and the LFSR draw order, and
``tests/test_quant_stdp.py`` re-derives the decisions from :class:`quantize.lfsr.LfsrBank`
with a slow, independent implementation.

LFSR lanes are stepped here with a block form of the bank's recurrence: a ``w``-bit
Fibonacci LFSR with taps ``T`` advances ``k <= min(T)`` steps in one go as

    word = s >> (w - k)                                     (the bank's word: top k bits)
    s    = ((s << k) | XOR_t ((s >> (t - k)) & (2**k - 1))) mod 2**w

because the k new stream bits ``u[n+w+j] = XOR_t u[n+w+j-t]`` (j < k <= t) all lie in the
current window. This equals ``LfsrBank.step`` (the leap matrix) word for word.
"""

import numba as nb
import numpy as np

__all__ = ["lfsr_words", "present_chunk", "stdp_column", "stdp_row", "column_scale", "refresh_column"]

# Layout of the integer parameter vector ``ip``.
(IP_STEPS, IP_REF, IP_MIN_SPIKES, IP_RETRIES, IP_LEVELS, IP_STOCH, IP_VTH, IP_THETA_PLUS,
 IP_VMAX, IP_THETA_MAX, IP_AGE_SAT, IP_IN_BITS, IP_IN_LANES, IP_P_BITS, IP_S_LANES,
 IP_THETA_SHIFT, IP_THETA_INTERVAL, IP_RECIP_BITS, IP_NORMALISE, IP_FIXED_SCALE, IP_COL_OFFSET,
 IP_NEURON, IP_DW_LEAK, IP_NEG) = range(24)
IP_SIZE = 24
# Neuron models (ip[IP_NEURON]), as golden._stdp_kernels.
NEURON_LIF, NEURON_DW = 0, 1
# Layout of the statistics matrix ``stats`` (n_arr, ST_SIZE): as golden._stdp_kernels.
ST_POT, ST_DEP, ST_ATTEMPTS, ST_LEVEL_STEPS = range(4)
ST_SIZE = 4
# Layout of the counter vector ``ctr``: theta-decay image counter, saturations.
CT_IMAGE, CT_V_SAT, CT_THETA_SAT = range(3)
CT_SIZE = 3


@nb.njit(cache=True, inline="always")
def _mask(w):
    return np.uint64(0xFFFFFFFFFFFFFFFF) >> np.uint64(64 - w)


@nb.njit(cache=True)
def _lfsr_cycles(state, out, widths, k, taps, cycles, fb):
    """Run ``cycles`` cycles of ``k`` bits on every lane of every bank; the word of cycle c,
    lane l, ``out[c * lanes + l]`` (int64), is the XOR of the banks' words.

    ``state`` uint64 (banks, lanes), updated; ``widths`` (banks,); ``taps`` (banks, T), rows
    padded with 0; ``fb`` uint64 scratch (lanes,). Lanes are the innermost loops (they
    vectorise).
    """
    lanes = state.shape[1]
    mk = (np.uint64(1) << np.uint64(k)) - np.uint64(1)
    ku = np.uint64(k)
    for b in range(state.shape[0]):
        w = widths[b]
        mask = _mask(w)
        top = np.uint64(w - k)
        for c in range(cycles):
            off = c * lanes
            for l in range(lanes):
                word = np.int64(state[b, l] >> top)
                out[off + l] = word if b == 0 else out[off + l] ^ word
                fb[l] = np.uint64(0)
            for q in range(taps.shape[1]):
                if taps[b, q] > 0:
                    tq = np.uint64(taps[b, q] - k)
                    for l in range(lanes):
                        fb[l] ^= (state[b, l] >> tq) & mk
            for l in range(lanes):
                state[b, l] = ((state[b, l] << ku) | fb[l]) & mask


@nb.njit(cache=True)
def lfsr_words(state, widths, k, taps, cycles):
    """``cycles`` cycles of XORed words: int64 (cycles, lanes); with one bank exactly
    ``LfsrBank.run`` (state advanced in place). Used by tests against the bank."""
    lanes = state.shape[1]
    out = np.empty(cycles * lanes, np.int64)
    _lfsr_cycles(state, out, widths, k, taps, cycles, np.empty(lanes, np.uint64))
    return out.reshape(cycles, lanes)


@nb.njit(cache=True)
def column_scale(total, ip, recip):
    """Per-code membrane increment of a column whose codes sum to ``total`` (module notes).

    Normalised: ``e = max(0, bitlen(total) - A)``, ``idx = rshift_round(total, e)``,
    ``scale = rshift_round(recip[idx], e)`` with ``recip[idx] = round(C / idx)``; 0 if
    ``total == 0``. Not normalised: the fixed scale.
    """
    if ip[IP_NORMALISE] == 0:
        return ip[IP_FIXED_SCALE]
    if total <= 0:
        return np.int64(0)
    bl = 0
    x = total
    while x > 0:
        bl += 1
        x >>= 1
    e = bl - ip[IP_RECIP_BITS]
    if e <= 0:
        return recip[total]
    half = np.int64(1) << (e - 1)
    idx = (total + half) >> e
    return (recip[idx] + half) >> e


@nb.njit(cache=True)
def refresh_column(k, sig, winc, colsum, scale, ip, recip, j):
    """Recompute column j: code sum, scale and the increments ``winc[:, j] = code * scale``.

    The scale is addressed by the code sum plus ``ip[IP_COL_OFFSET]`` (0; for the eq. 12
    read of the all-spin network the AP floor of gamma in code units, module notes)."""
    n_arr, n_in = k.shape[0], k.shape[1]
    tot = np.int64(0)
    for i in range(n_in):
        c = np.int64(0)
        for a in range(n_arr):
            c += sig[a] * k[a, i, j]
        tot += c
    colsum[j] = tot
    s = column_scale(tot + ip[IP_COL_OFFSET], ip, recip)
    scale[j] = s
    for i in range(n_in):
        c = np.int64(0)
        for a in range(n_arr):
            c += sig[a] * k[a, i, j]
        winc[i, j] = c * s


@nb.njit(cache=True)
def stdp_column(k, j, t, last_pre, ip, pot, dep, dwd, sig, st_state, widths, taps, stats, words, fb):
    """Post-spike STDP of column ``j`` at step ``t`` (module notes, "STDP engine").

    For each array ``a`` and each row ``i`` (row order, lanes ``i % L``), the age
    ``min(t - last_pre[i], sat)`` (``sat`` if the input has not spiked) addresses the LUTs.
    Stochastic: an AP (0) device switches to P when its word < ``pot[a, age]``, a P device to
    AP when its word < ``dep[a, age]``; ``ceil(n_in / L)`` cycles of the bank are drawn per
    array, one word per row (and padding row) whatever the state. Deterministic (DW): the
    level moves by ``dwd[a, age]`` notches, clipped; no words. ``words`` (>= rows * L) and
    ``fb`` (L,) are scratch. Returns the number of devices that changed.
    """
    n_arr, n_in = k.shape[0], k.shape[1]
    stoch = ip[IP_STOCH] != 0
    lanes = ip[IP_S_LANES]
    rows = (n_in + lanes - 1) // lanes
    sat = ip[IP_AGE_SAT]
    top = ip[IP_LEVELS] - 1
    changed = 0
    for a in range(n_arr):
        if stoch:
            _lfsr_cycles(st_state, words, widths, ip[IP_P_BITS], taps, rows, fb)
        for i in range(n_in):
            lp = last_pre[i]
            age = sat if lp < 0 else min(t - lp, sat)
            s = np.int64(k[a, i, j])
            if stoch:
                th = pot[a, age] if s == 0 else dep[a, age]
                if th > 0:
                    stats[a, ST_ATTEMPTS] += 1
                    if words[i] < th:
                        k[a, i, j] = 1 - s
                        stats[a, ST_POT if s == 0 else ST_DEP] += 1
                        changed += 1
            else:
                d = dwd[a, age]
                if d != 0:
                    stats[a, ST_ATTEMPTS] += 1
                    ns = min(max(s + d, 0), top)
                    if ns != s:
                        k[a, i, j] = ns
                        stats[a, ST_LEVEL_STEPS] += abs(ns - s)
                        stats[a, ST_POT if ns > s else ST_DEP] += 1
                        changed += 1
    return changed


@nb.njit(cache=True)
def stdp_row(k, i, t, last_post, ip, neg, st_state, widths, taps, stats, words, fb, dirty):
    """Negative-window STDP (eq. 9, dt < 0) of row ``i`` at its input spike in step ``t``.

    For each array ``a`` and each column j (lanes ``j % L``) whose neuron has fired in this
    presentation (``last_post[j] >= 0``), the age ``min(t - last_post[j], sat)`` addresses
    ``neg[a]``. Stochastic: a P device switches to AP when its word < ``neg[a, age]``
    (``ceil(N / L)`` cycles of the STDP bank per array, one word per column whatever its
    state). Deterministic (DW): the level moves down by ``neg[a, age]`` notches, clipped at
    0. ``dirty[j]`` is set for every column that changed; returns the number of changes.
    """
    n_arr, n = k.shape[0], k.shape[2]
    stoch = ip[IP_STOCH] != 0
    lanes = ip[IP_S_LANES]
    cols = (n + lanes - 1) // lanes
    sat = ip[IP_AGE_SAT]
    changed = 0
    for a in range(n_arr):
        if stoch:
            _lfsr_cycles(st_state, words, widths, ip[IP_P_BITS], taps, cols, fb)
        for j in range(n):
            lp = last_post[j]
            if lp < 0:
                continue
            s = np.int64(k[a, i, j])
            th = neg[a, min(t - lp, sat)]
            if s == 0 or th <= 0:
                continue
            stats[a, ST_ATTEMPTS] += 1
            if stoch:
                if words[j] < th:
                    k[a, i, j] = 0
                    stats[a, ST_DEP] += 1
                    dirty[j] = True
                    changed += 1
            else:
                ns = max(s - th, 0)
                k[a, i, j] = ns
                stats[a, ST_LEVEL_STEPS] += s - ns
                stats[a, ST_DEP] += 1
                dirty[j] = True
                changed += 1
    return changed


@nb.njit(cache=True)
def _present_once(thr, k, winc, colsum, scale, theta, ip, leak, pot, dep, dwd, neg, sig, recip, widths,
                  taps, in_state, st_state, learn, counts, stats, ctr, v, refr, last_pre, last_post, spk,
                  words, fb_in, sw, fb_st, swn, dirty, rec, r_win, r_nin, r_upd, r_neg, r_raster, r_v):
    """One presentation with per-pixel thresholds ``thr`` (n_in,); fills ``counts`` (N,).
    ``spk`` (n_in,), ``words``, ``fb_in``, ``sw``, ``fb_st``, ``swn`` (>= ceil(N / L_s) L_s),
    ``dirty`` (N,): scratch of the spike list, the input and STDP banks and the negative window."""
    n_in, n = winc.shape[0], winc.shape[1]
    steps = ip[IP_STEPS]
    ref_steps = ip[IP_REF]
    vth, vmax = ip[IP_VTH], ip[IP_VMAX]
    tplus, tmax = ip[IP_THETA_PLUS], ip[IP_THETA_MAX]
    kb, lanes = ip[IP_IN_BITS], ip[IP_IN_LANES]
    rows = (n_in + lanes - 1) // lanes
    n_terms = leak.shape[0]
    full_raster = r_raster.shape[0] > 0
    full_v = r_v.shape[0] > 0
    dwn = ip[IP_NEURON] == NEURON_DW
    negw = learn and ip[IP_NEG] != 0
    any_post = False
    for j in range(n):
        v[j] = 0
        refr[j] = 0
        counts[j] = 0
        last_post[j] = -1
    for i in range(n_in):
        last_pre[i] = -1
    for t in range(steps):
        # 1. leak: v -= sum_k sign_k rshift_round(v, e_k) (LIF; the DW neuron leaks below)
        for j in range(0 if dwn else n):
            vj = v[j]
            d = np.int64(0)
            for q in range(n_terms):
                e = leak[q, 0]
                d += leak[q, 1] * ((vj + (np.int64(1) << (e - 1))) >> e)
            v[j] = vj - d
        # 2. input spikes in pixel order: the negative window of each spiking row (learning,
        # after the presentation's first post spike); then, the step's rows programmed, each
        # spiking row adds its increments (saturating)
        _lfsr_cycles(in_state, words, widths, kb, taps, rows, fb_in)
        nin = 0
        for i in range(n_in):
            if words[i] < thr[i]:
                spk[nin] = i
                nin += 1
                last_pre[i] = t
                if full_raster:
                    r_raster[t, i] = True
                if negw and any_post:
                    for j in range(n):
                        dirty[j] = False
                    ch = stdp_row(k, i, t, last_post, ip, neg, st_state, widths, taps, stats, swn, fb_st, dirty)
                    if rec:
                        r_upd[t] += ch
                        r_neg[t] += ch
                    if ch > 0:
                        for j in range(n):
                            if dirty[j]:
                                refresh_column(k, sig, winc, colsum, scale, ip, recip, j)
        for q in range(nin):
            i = spk[q]
            nsat = 0
            for j in range(n):
                x = v[j] + winc[i, j]
                nsat += x > vmax
                v[j] = min(x, vmax)
            ctr[CT_V_SAT] += nsat
        if rec:
            r_nin[t] = nin
            if full_v:
                for j in range(n):
                    r_v[t, j] = v[j]
        # 3. refractory counters, adaptive threshold, hard WTA (ties to the lowest index)
        best = -1
        best_m = np.int64(0)
        for j in range(n):
            if refr[j] > 0:
                refr[j] -= 1
                v[j] = 0
                continue
            m = v[j] - (vth + theta[j])
            if m >= 0 and (best < 0 or m > best_m):
                best = j
                best_m = m
        if rec:
            r_win[t] = best
        if best < 0:
            if dwn:  # 4. DW neuron: the reverse leak pulse in a step without a spike, pinned at 0
                for j in range(n):
                    v[j] = max(v[j] - ip[IP_DW_LEAK], 0)
            continue
        for j in range(n):
            v[j] = 0
        counts[best] += 1
        refr[best] = ref_steps
        last_post[best] = t
        any_post = True
        if learn:
            th = theta[best] + tplus
            if th > tmax:
                th = tmax
                ctr[CT_THETA_SAT] += 1
            theta[best] = th
            ch = stdp_column(k, best, t, last_pre, ip, pot, dep, dwd, sig, st_state, widths, taps, stats, sw,
                             fb_st)
            if rec:
                r_upd[t] += ch
            if ch > 0:
                refresh_column(k, sig, winc, colsum, scale, ip, recip, best)


@nb.njit(cache=True)
def present_chunk(pix, k, winc, colsum, scale, theta, ip, leak, rate_codes, pot, dep, dwd, neg, sig,
                  recip, widths, taps, in_state, st_state, learn, counts, attempts, stats, ctr,
                  r_win, r_nin, r_upd, r_neg, r_raster, r_v):
    """Present images given as pixel codes ``pix`` (n_img, n_in) in order; fill ``counts``.

    Attempt ``r`` (0, 1, ...) of an image compares pixel i's word with ``pix[i] *
    rate_codes[r]``; an image is shown again while the layer fired fewer than
    ``ip[IP_MIN_SPIKES]`` spikes, at most ``ip[IP_RETRIES]`` more times (learning stays on).
    After each image in learning mode the theta-decay counter advances; when it wraps at
    ``ip[IP_THETA_INTERVAL]``, ``theta -= rshift_round(theta, ip[IP_THETA_SHIFT])``.
    Recording (``r_win.shape[0] > 0``): per image and attempt, the winner of each step (-1:
    none), the input spikes and device changes of each step (and those of the negative window), and optionally the input raster
    and the membranes before the threshold (pass zero-size arrays to skip).
    """
    n_img, n_in = pix.shape
    n = winc.shape[1]
    v = np.zeros(n, np.int64)
    refr = np.zeros(n, np.int64)
    last_pre = np.empty(n_in, np.int64)
    last_post = np.empty(n, np.int64)
    spk = np.empty(n_in, np.int64)
    dirty = np.zeros(n, np.bool_)
    thr = np.empty(n_in, np.int64)
    li, ls = ip[IP_IN_LANES], ip[IP_S_LANES]
    words = np.empty(((n_in + li - 1) // li) * li, np.int64)
    fb_in = np.empty(li, np.uint64)
    sw = np.empty(((n_in + ls - 1) // ls) * ls, np.int64)
    fb_st = np.empty(ls, np.uint64)
    swn = np.empty(((n + ls - 1) // ls) * ls, np.int64)
    rec = r_win.shape[0] > 0
    dummy_i = np.zeros(0, np.int64)
    dummy_b = np.zeros((0, 0), np.bool_)
    dummy_v = np.zeros((0, 0), np.int64)
    for m in range(n_img):
        r = 0
        while True:
            for i in range(n_in):
                thr[i] = pix[m, i] * rate_codes[r]
            if rec:
                rw, rn, ru, rg = r_win[m, r], r_nin[m, r], r_upd[m, r], r_neg[m, r]
                rr = r_raster[m, r] if r_raster.shape[0] > 0 else dummy_b
                rv = r_v[m, r] if r_v.shape[0] > 0 else dummy_v
            else:
                rw, rn, ru, rg, rr, rv = dummy_i, dummy_i, dummy_i, dummy_i, dummy_b, dummy_v
            _present_once(thr, k, winc, colsum, scale, theta, ip, leak, pot, dep, dwd, neg, sig, recip,
                          widths, taps, in_state, st_state, learn, counts[m], stats, ctr, v, refr, last_pre,
                          last_post, spk, words, fb_in, sw, fb_st, swn, dirty, rec, rw, rn, ru, rg, rr, rv)
            r += 1
            total = 0
            for j in range(n):
                total += counts[m, j]
            if total >= ip[IP_MIN_SPIKES] or r > ip[IP_RETRIES]:
                break
        attempts[m] = r
        if learn:
            ctr[CT_IMAGE] += 1
            if ctr[CT_IMAGE] >= ip[IP_THETA_INTERVAL]:
                ctr[CT_IMAGE] = 0
                sh = ip[IP_THETA_SHIFT]
                half = np.int64(1) << (sh - 1)
                for j in range(n):
                    theta[j] -= (theta[j] + half) >> sh
