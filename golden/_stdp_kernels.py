"""Compiled kernels of the unsupervised STDP network (private; see :mod:`golden.stdp_network`).

One time-stepped kernel presents images to the excitatory layer and applies online STDP to
the synaptic device states. Everything a presentation needs lives in arrays, so a whole
chunk of images runs inside one compiled call:

* device states ``k`` (n_arr, n_in, N) int8, level index 0 .. levels-1 (binary MTJ:
  0 = AP, 1 = P; DW: the wall's notch); the read weight of array ``a`` is
  ``sig[a] * k / (levels - 1)``; ``weff`` (n_in, N) holds the (column-normalised) sum of
  the arrays, row ``i`` being what input ``i`` adds to every neuron when it spikes
  (event-driven accumulation);
* traces are kept as the step of the latest pre/post spike (nearest-spike pairing), so a
  trace value is the exact ``exp(-dt_spike / tau)`` of seed eq. 9 read from a table.

Random numbers: each network owns a xoshiro256+ generator (Blackman & Vigna 2018), a
uint64[4] state array passed to every kernel and seeded by splitmix64 (:func:`rng_state`), so
a network's results depend on its seed only, whatever else runs in the process.
"""

import numba as nb
import numpy as np

__all__ = ["rng_state", "uniform", "present_chunk", "post_update", "pre_update", "input_events",
           "relax_volatile", "refresh_column", "dw_advance"]

# Inhibition modes (ip[IP_INHIB]).
WTA, DIRECT = 0, 1
# Column read modes (ip[IP_NORM]): ideal sum, divisive normalisation to a target, seed eq. 12.
NORM_NONE, NORM_TARGET, NORM_EQ12 = 0, 1, 2
# Neuron models (ip[IP_NEURON]): abstract LIF (eq. 8) or the domain-wall IF neuron (Fig. 6).
NEURON_LIF, NEURON_DW = 0, 1

# Layout of the integer parameter vector ``ip``.
(IP_STEPS, IP_REF, IP_MIN_SPIKES, IP_RETRIES, IP_INHIB, IP_LEVELS, IP_STOCH, IP_NORM,
 IP_NEURON) = range(9)
IP_SIZE = 9
# Layout of the float parameter vector ``fp``.
(FP_DT, FP_DECAY, FP_VTH, FP_RATE, FP_RATE_STEP, FP_WINH, FP_VFLOOR, FP_THETA_PLUS,
 FP_THETA_DECAY, FP_NORM_TARGET, FP_ST_RELAX, FP_DW_GAIN, FP_DW_ISAT, FP_DW_LEAK) = range(14)
FP_SIZE = 14
# Layout of the per-array parameter matrix ``ap`` (n_arr, AP_SIZE).
# Eq. 12 read (NORM_EQ12): AP_IREAD = significance x read voltage x (G_P - G_AP), the current
# (A) of one device at the top level over its AP reference; AP_GAMMA = (G_P - G_AP) / G_s and
# AP_GAMMA0 = 2 n_in G_AP / G_s, the array's share of gamma_j (its devices at level 0 plus
# their reference devices) and its growth per unit of level fraction.
AP_PPOT, AP_PDEP, AP_PMINUS, AP_SIG, AP_IREAD, AP_GAMMA, AP_GAMMA0 = range(7)
AP_SIZE = 7
# Layout of the statistics matrix ``stats`` (n_arr, ST_SIZE), int64.
ST_POT, ST_DEP, ST_ATTEMPTS, ST_LEVEL_STEPS, ST_RELAX = range(5)
ST_SIZE = 5


_MASK64 = (1 << 64) - 1


def rng_state(seed: int) -> np.ndarray:
    """xoshiro256+ state (uint64[4]) from an integer seed, by splitmix64 (Vigna's seeding)."""
    z = int(seed) & _MASK64
    out = []
    for _ in range(4):
        z = (z + 0x9E3779B97F4A7C15) & _MASK64
        x = z
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
        out.append(x ^ (x >> 31))
    return np.array(out, dtype=np.uint64)


@nb.njit(cache=True, inline="always")
def uniform(s):
    """Next double in [0, 1) from the xoshiro256+ state ``s`` (uint64[4], updated in place)."""
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    result = s0 + s3
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << np.uint64(45)) | (s3 >> np.uint64(19))
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3
    return float(result >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@nb.njit(cache=True)
def input_events(x, rate, dt, steps, ev_t, ev_i, ptr, pix, rng):
    """Poisson (Bernoulli per step) input spike trains of one image, sorted by step.

    Pixel ``i`` spikes in each step with probability ``x[i] * rate * dt``; the gaps between
    spikes are drawn directly (geometric law), so the cost is the number of spikes, not
    n_in * steps. Output in CSR form: the pixels spiking in step t are
    ``pix[ptr[t]:ptr[t+1]]`` (in increasing pixel order). ``ev_t``/``ev_i`` are scratch
    arrays of size >= n_in * steps. Returns the number of events.
    """
    n = 0
    for i in range(x.shape[0]):
        p = x[i] * rate * dt
        if p <= 0.0:
            continue
        if p >= 1.0:
            for t in range(steps):
                ev_t[n] = t
                ev_i[n] = i
                n += 1
            continue
        lq = np.log1p(-p)
        t = int(np.floor(np.log(1.0 - uniform(rng)) / lq))
        while t < steps:
            ev_t[n] = t
            ev_i[n] = i
            n += 1
            t += 1 + int(np.floor(np.log(1.0 - uniform(rng)) / lq))
    for t in range(steps + 1):
        ptr[t] = 0
    for e in range(n):
        ptr[ev_t[e] + 1] += 1
    for t in range(steps):
        ptr[t + 1] += ptr[t]
    # stable counting sort; ptr[t] is used as the fill cursor, then restored
    for e in range(n):
        t = ev_t[e]
        pix[ptr[t]] = ev_i[e]
        ptr[t] += 1
    for t in range(steps, 0, -1):
        ptr[t] = ptr[t - 1]
    ptr[0] = 0
    return n


@nb.njit(cache=True)
def post_update(k, a, j, xcol, levels, stochastic, p_pot, p_dep, stats, rng):
    """Positive-window STDP of column ``j`` of array ``a`` at a post spike (seed eq. 9, Fig. 8).

    ``xcol[i]`` is the pre trace exp(-(t_post - t_pre,i) / tau_plus) of input i (0 if it has
    not spiked). Stochastic binary devices (levels == 2): an AP synapse switches to P with
    probability ``p_pot * x``, a P synapse to AP with probability ``p_dep * (1 - x)``
    (inputs that were not recently active are depressed). Deterministic multi-level devices:
    the wall moves by ``round((p_pot x - p_dep (1 - x)) (levels - 1))`` notches, clipped.
    Returns True if any state changed.
    """
    changed = False
    top = levels - 1
    for i in range(k.shape[1]):
        s = k[a, i, j]
        x = xcol[i]
        if stochastic:
            if s == 0:
                q = p_pot * x
                if q > 0.0:
                    stats[a, ST_ATTEMPTS] += 1
                    if uniform(rng) < q:
                        k[a, i, j] = 1
                        stats[a, ST_POT] += 1
                        changed = True
            else:
                q = p_dep * (1.0 - x)
                if q > 0.0:
                    stats[a, ST_ATTEMPTS] += 1
                    if uniform(rng) < q:
                        k[a, i, j] = 0
                        stats[a, ST_DEP] += 1
                        changed = True
        else:
            d = int(np.rint((p_pot * x - p_dep * (1.0 - x)) * top))
            if d != 0:
                stats[a, ST_ATTEMPTS] += 1
                ns = min(max(s + d, 0), top)
                if ns != s:
                    k[a, i, j] = ns
                    stats[a, ST_LEVEL_STEPS] += abs(ns - s)
                    if ns > s:
                        stats[a, ST_POT] += 1
                    else:
                        stats[a, ST_DEP] += 1
                    changed = True
    return changed


@nb.njit(cache=True)
def pre_update(k, a, i, j, y, levels, stochastic, p_minus, stats, rng):
    """Negative-window STDP (pre after post, seed eq. 9 with dt < 0) of synapse (i, j).

    ``y = exp(-(t_pre - t_post) / tau_minus)``. Binary: P -> AP with probability
    ``p_minus * y``; multi-level: ``round(p_minus y (levels - 1))`` notches down.
    Returns True if the state changed.
    """
    s = k[a, i, j]
    if s == 0:
        return False
    if stochastic:
        q = p_minus * y
        if q <= 0.0:
            return False
        stats[a, ST_ATTEMPTS] += 1
        if uniform(rng) < q:
            k[a, i, j] = 0
            stats[a, ST_DEP] += 1
            return True
        return False
    d = int(np.rint(p_minus * y * (levels - 1)))
    if d == 0:
        return False
    stats[a, ST_ATTEMPTS] += 1
    ns = max(s - d, 0)
    k[a, i, j] = ns
    stats[a, ST_LEVEL_STEPS] += s - ns
    stats[a, ST_DEP] += 1
    return True


@nb.njit(cache=True)
def refresh_column(k, ap, levels, normalise, target, weff, j):
    """Recompute the read weights of column j.

    ``normalise`` (NORM_*): NORM_NONE, the sum over arrays of sig * k / (levels - 1);
    NORM_TARGET (or True), that sum scaled so the column sums to ``target`` (see the
    stdp_network docs); NORM_EQ12, the column's current in A per spiking input by the seed's
    eq. 12, ``sum_a AP_IREAD[a] k_a / (levels - 1) / (1 + gamma_j)`` with ``gamma_j =
    sum_a (AP_GAMMA0[a] + AP_GAMMA[a] sum_i k_a,i / (levels - 1))`` (every device of the
    column and its reference device load the node; golden.crossbar.column_currents).
    """
    n_arr, n_in = k.shape[0], k.shape[1]
    inv = 1.0 / (levels - 1)
    eq12 = normalise == NORM_EQ12
    total = 0.0
    gamma = 0.0
    if eq12:
        for a in range(n_arr):
            gamma += ap[a, AP_GAMMA0]
    for i in range(n_in):
        w = 0.0
        for a in range(n_arr):
            if eq12:
                w += ap[a, AP_IREAD] * k[a, i, j]
                gamma += ap[a, AP_GAMMA] * k[a, i, j] * inv
            else:
                w += ap[a, AP_SIG] * k[a, i, j]
        w *= inv
        weff[i, j] = w
        total += w
    if eq12:
        sc = 1.0 / (1.0 + gamma)
        for i in range(n_in):
            weff[i, j] *= sc
    elif normalise == NORM_TARGET and total > 0.0:
        sc = target / total
        for i in range(n_in):
            weff[i, j] *= sc


@nb.njit(cache=True)
def dw_advance(u, current, gain, isat):
    """The domain-wall IF neuron's wall after one write pulse (golden.neurons.DwIfNeuron):
    position ``u`` as a fraction of the track, ``u + gain I / sqrt(I**2 + isat**2)`` (the
    steady velocity of golden.dw, saturating; ``gain`` = the saturation displacement of the
    pulse over the track length, ``isat`` = alpha B_D / (dB_SH/dI), A)."""
    return u + gain * current / np.sqrt(current * current + isat * isat)


@nb.njit(cache=True)
def relax_volatile(k, a, q, dirty, stats, rng):
    """Volatile array ``a``: every device above level 0 relaxes to 0 with probability ``q``.

    The devices that relax are found by geometric gaps over the flattened (n_in, N) array, so
    the cost is ~ q n_in N. Relaxations are spontaneous (no programming energy) and counted
    in ``stats[a, ST_RELAX]``; ``dirty[j]`` is set for every column that changed.
    """
    n = k.shape[2]
    total = k.shape[1] * n
    if q <= 0.0:
        return
    if q >= 1.0:
        lq = -np.inf
    else:
        lq = np.log1p(-q)
    pos = 0 if q >= 1.0 else int(np.floor(np.log(1.0 - uniform(rng)) / lq))
    while pos < total:
        i = pos // n
        j = pos - i * n
        if k[a, i, j] > 0:
            k[a, i, j] = 0
            stats[a, ST_RELAX] += 1
            dirty[j] = True
        pos += 1 if q >= 1.0 else 1 + int(np.floor(np.log(1.0 - uniform(rng)) / lq))


@nb.njit(cache=True)
def _present_once(x, rate, k, weff, theta, ip, fp, ap, exp_plus, exp_minus, learn, counts,
                  stats, v, cur, refr, last_pre, last_post, fired, spk, xcol, ev_t, ev_i, ptr, pix,
                  raster, rng):
    """One presentation of image ``x`` at peak rate ``rate`` (Hz). Fills ``counts`` (N,) and,
    if ``raster`` is not empty, the layer's spike count of every step (steps,).

    Each step: membranes decay (eq. 8); each input spike of the step updates its trace,
    applies the negative window to the neurons that already fired, and adds its weight row;
    refractory neurons are held at 0; threshold crossings go through the lateral inhibition;
    each spike resets its neuron, raises its theta and applies the positive window to its
    column.

    Domain-wall neurons (``ip[IP_NEURON] == NEURON_DW``, hard WTA only). Homeostasis
    shortens every write pulse of neuron j (input and leak) by ``h_j = v_th / (v_th +
    theta_j)``; the wall position u_j (fraction of the track) is kept as ``v_j = u_j v_th /
    h_j = u_j (v_th + theta_j)``, which reaches ``v_th + theta_j`` exactly when the wall
    reaches the far edge (theta_j is constant between two resets of v_j within a
    presentation, so the two forms cross together; the WTA ranks the overshoot
    ``v_j - (v_th + theta_j)``, the wall's in threshold units). The step's column currents (the weight
    rows of the spiking inputs, A: eq. 12) are summed in ``cur``; each wall moves by
    :func:`dw_advance` (``v_j += v_th dw_advance(0, I_j)``); in a step without a spike every
    wall leaks back by ``v_th fp[FP_DW_LEAK]`` (the seed's reverse current), pinned at 0.
    """
    steps = ip[IP_STEPS]
    levels = ip[IP_LEVELS]
    stochastic = ip[IP_STOCH] != 0
    normalise = ip[IP_NORM]
    wta = ip[IP_INHIB] == WTA
    ref_steps = ip[IP_REF]
    decay, vth = fp[FP_DECAY], fp[FP_VTH]
    winh, vfloor = fp[FP_WINH], fp[FP_VFLOOR]
    n_arr, n_in, n = k.shape[0], k.shape[1], k.shape[2]
    dwn = ip[IP_NEURON] == NEURON_DW
    dw_gain, dw_isat, dw_leak = fp[FP_DW_GAIN], fp[FP_DW_ISAT], fp[FP_DW_LEAK]
    any_minus = False
    for a in range(n_arr):
        if ap[a, AP_PMINUS] > 0.0:
            any_minus = True
    input_events(x, rate, fp[FP_DT], steps, ev_t, ev_i, ptr, pix, rng)
    for j in range(n):
        v[j] = 0.0
        cur[j] = 0.0
        refr[j] = 0
        last_post[j] = -1
        counts[j] = 0
    for i in range(n_in):
        last_pre[i] = -1
    n_fired = 0
    rec = raster.shape[0] > 0
    if rec:
        raster[:] = 0
    for t in range(steps):
        if not dwn:
            for j in range(n):
                v[j] *= decay
        for e in range(ptr[t], ptr[t + 1]):
            i = pix[e]
            last_pre[i] = t
            if learn and any_minus:
                for q in range(n_fired):
                    j = fired[q]
                    ch = False
                    for a in range(n_arr):
                        pm = ap[a, AP_PMINUS]
                        if pm > 0.0:
                            if pre_update(k, a, i, j, exp_minus[a, t - last_post[j]], levels,
                                          stochastic, pm, stats, rng):
                                ch = True
                    if ch:
                        refresh_column(k, ap, levels, normalise, fp[FP_NORM_TARGET], weff, j)
            if dwn:
                for j in range(n):
                    cur[j] += weff[i, j]
            else:
                for j in range(n):
                    v[j] += weff[i, j]
        if dwn:
            for j in range(n):
                if cur[j] != 0.0:
                    v[j] += vth * dw_advance(0.0, cur[j], dw_gain, dw_isat)
                    cur[j] = 0.0
        # threshold, lateral inhibition
        n_spk = 0
        best = -1
        best_m = 0.0
        for j in range(n):
            if refr[j] > 0:
                refr[j] -= 1
                v[j] = 0.0
                continue
            m = v[j] - (vth + theta[j])
            if m >= 0.0:
                if wta:
                    if best < 0 or m > best_m:
                        best = j
                        best_m = m
                else:
                    spk[n_spk] = j
                    n_spk += 1
        if wta:
            if best < 0:
                if dwn:
                    for j in range(n):
                        v[j] = max(v[j] - vth * dw_leak, 0.0)
                continue
            spk[0] = best
            n_spk = 1
            for j in range(n):  # the winner's inhibition resets every other neuron
                v[j] = 0.0
        else:
            if n_spk == 0:
                continue
            for j in range(n):
                v[j] = max(v[j] - winh * n_spk, vfloor)
        if rec:
            raster[t] = n_spk
        for q in range(n_spk):
            j = spk[q]
            counts[j] += 1
            v[j] = 0.0
            refr[j] = ref_steps
            if last_post[j] < 0:
                fired[n_fired] = j
                n_fired += 1
            last_post[j] = t
            if learn:
                theta[j] += fp[FP_THETA_PLUS]
                ch = False
                for a in range(n_arr):
                    for i in range(n_in):
                        xcol[i] = exp_plus[a, t - last_pre[i]] if last_pre[i] >= 0 else 0.0
                    if post_update(k, a, j, xcol, levels, stochastic, ap[a, AP_PPOT],
                                   ap[a, AP_PDEP], stats, rng):
                        ch = True
                if ch:
                    refresh_column(k, ap, levels, normalise, fp[FP_NORM_TARGET], weff, j)


@nb.njit(cache=True)
def present_chunk(images, k, weff, theta, ip, fp, ap, exp_plus, exp_minus, learn, counts,
                  attempts_out, stats, raster, rng):
    """Present ``images`` (n_img, n_in) in order, D&C style; fill ``counts`` (n_img, N).

    Each image starts from rest (membranes, refractory counters and traces cleared: the
    150 ms rest of Diehl & Cook lets them decay). If the layer fires fewer than
    ``ip[IP_MIN_SPIKES]`` spikes the image is presented again with the peak rate raised by
    ``fp[FP_RATE_STEP]`` (at most ``ip[IP_RETRIES]`` times); learning stays on during the
    failed attempts, as in Diehl & Cook. ``attempts_out[m]`` gets the number of
    presentations of image m; ``raster`` (n_img, steps) gets the layer's spikes per step of
    its last presentation (pass shape (0, 0) to skip). In learning mode theta decays by
    ``fp[FP_THETA_DECAY]`` once per image (its time constant over presentation + rest;
    retries are not counted) and, with two or more arrays, the last (short-term) array
    relaxes with probability ``fp[FP_ST_RELAX]`` per image.
    """
    n_img, n_in = images.shape
    n = k.shape[2]
    steps = ip[IP_STEPS]
    v = np.zeros(n)
    cur = np.zeros(n)
    refr = np.zeros(n, np.int64)
    last_pre = np.empty(n_in, np.int64)
    last_post = np.empty(n, np.int64)
    fired = np.empty(n, np.int64)
    spk = np.empty(n, np.int64)
    xcol = np.empty(n_in)
    ev_t = np.empty(n_in * steps, np.int64)
    ev_i = np.empty(n_in * steps, np.int64)
    ptr = np.empty(steps + 1, np.int64)
    pix = np.empty(n_in * steps, np.int64)
    empty = np.zeros(0, np.int32)
    dirty = np.zeros(n, np.bool_)
    st_relax = fp[FP_ST_RELAX] if k.shape[0] >= 2 else 0.0
    for m in range(n_img):
        x = images[m]
        r = raster[m] if raster.shape[0] > 0 else empty
        rate = fp[FP_RATE]
        tries = 0
        while True:
            _present_once(x, rate, k, weff, theta, ip, fp, ap, exp_plus, exp_minus, learn,
                          counts[m], stats, v, cur, refr, last_pre, last_post, fired, spk, xcol,
                          ev_t, ev_i, ptr, pix, r, rng)
            tries += 1
            total = 0
            for j in range(n):
                total += counts[m, j]
            if total >= ip[IP_MIN_SPIKES] or tries > ip[IP_RETRIES]:
                break
            rate += fp[FP_RATE_STEP]
        attempts_out[m] = tries
        if learn:
            for j in range(n):
                theta[j] *= fp[FP_THETA_DECAY]
            if st_relax > 0.0:
                dirty[:] = False
                relax_volatile(k, k.shape[0] - 1, st_relax, dirty, stats, rng)
                for j in range(n):
                    if dirty[j]:
                        refresh_column(k, ap, ip[IP_LEVELS], ip[IP_NORM],
                                       fp[FP_NORM_TARGET], weff, j)
