"""Integer STDP network (quantize.stdp): the compiled model against an independent slow
implementation written from the module docstring with LfsrBank words, the LUT probabilities,
leak, normalisation and homeostasis bounds, the WTA rule, the read-out, learning on the 8x8
digits, and the accuracy against the golden network (golden.stdp_network)."""

import json
import math

import numpy as np
import pytest

from golden import stdp_network as G
from quantize import _stdp_fast as K
from quantize import stdp as S
from spintwin.experiments import quant_stdp_main
from quantize.lfsr import TAPS, LfsrBank, LfsrConfig
from spinbase.data import load_digits

# The golden tests' small layer for the 8x8 digits (64 inputs): D&C's column sum 78 per 784
# inputs scaled to 64 inputs, a faster homeostasis and a higher peak rate.
DIGITS = (("norm_target", 6.4), ("v_th", 2.0), ("theta_plus", 0.05), ("tau_theta", 100.0),
          ("max_rate", 127.5), ("tau_plus", (0.05,)))


def _digits_cfg(variant="binary", neurons=50, seed=0, **kw):
    gov = dict(DIGITS)
    if variant == "ltst":  # LT window shorter than the ST window (seed section V.2)
        gov["tau_plus"] = (0.025, 0.1)
    gov.update(kw.pop("golden", {}))
    return S.QuantStdpConfig(variant=variant, neurons=neurons, seed=seed, golden_overrides=tuple(gov.items()),
                             **kw)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


# ---------------------------------------------------------------------------------------------
class _Generator:
    """A documented generator: one LfsrBank per width, master seeds seed + x + 4 b, words XORed."""

    def __init__(self, widths, lanes, bits, seed, x):
        self.banks = [LfsrBank(LfsrConfig(w, lanes, bits, (seed + x + 4 * b) % 2 ** 64))
                      for b, w in enumerate(widths)]

    def run(self, cycles):
        out = 0
        for bank in self.banks:
            out = out ^ bank.run(cycles)
        return out

    @property
    def state(self):
        return np.array([bank.state for bank in self.banks])


# An independent, slow model: Python integers, LfsrBank words, the docstring's order.
class _Reference:
    def __init__(self, cfg, n_in):
        g = cfg.golden
        self.cfg, self.g, self.n_in, self.n = cfg, g, n_in, g.neurons
        ws, self.P, self.V = cfg.lfsr_widths, cfg.prob_bits, cfg.membrane_frac
        self.Li, self.Ls = cfg.input_lanes, cfg.stdp_lanes
        self.Qi, self.Qs = -(-n_in // self.Li), -(-n_in // self.Ls)
        self.inp = _Generator(ws, self.Li, cfg.input_bits + cfg.rate_bits, cfg.seed, 0)
        self.stdp = _Generator(ws, self.Ls, self.P, cfg.seed, 1)
        init = _Generator(ws, self.Ls, self.P, cfg.seed, 2)
        self.arrays = len(g.p_pot)
        self.k = np.zeros((self.arrays, n_in, self.n), np.int64)
        for a in range(self.arrays):
            for j in range(self.n):
                words = init.run(self.Qs).reshape(-1)          # cycle q, lane l -> row q L + l
                for i in range(n_in):
                    if g.levels == 2:
                        self.k[a, i, j] = int(words[i] < math.floor(g.init_p * 2 ** self.P + 0.5))
                    else:
                        m = math.floor(g.init_p * (g.levels - 1) * 256 + 0.5)
                        self.k[a, i, j] = (int(words[i]) * m + 2 ** (self.P + 7)) >> (self.P + 8)
        self.sig = [round(s / min(g.significance)) for s in g.significance]
        self.theta = [0] * self.n
        self.vth = math.floor(g.v_th * 2 ** self.V + 0.5)
        self.tplus = math.floor(g.theta_plus * 2 ** self.V + 0.5)
        self.vmax = 2 ** (cfg.membrane_bits - 1) - 1
        self.sat = 2 ** cfg.age_bits - 1
        self.shift, self.interval = cfg.theta_decay
        self.img_counter = 0
        self.v_sat = 0
        self.stats = np.zeros((self.arrays, 4), np.int64)
        self.neg_columns = 0           # columns changed by the negative window

    def code(self, i, j):
        return sum(self.sig[a] * int(self.k[a, i, j]) for a in range(self.arrays))

    def scale(self, j):
        g, cfg = self.g, self.cfg
        if g.neuron == "dw":
            # eq. 12 (module notes): numerator ratio, code sum plus the gamma floor's offset,
            # both recomputed here from the golden operating point
            op = G.allspin_operating_point(g, self.n_in)
            d_g = op["g_p"] - op["g_ap"]
            off = math.floor((1 + op["gamma_floor"]) * op["g_s"] * (g.levels - 1) / d_g + 0.5)
            c = 2.0 ** self.V * g.v_th * op["gain"] / op["isat_A"] * g.read_voltage * op["g_s"]
            tot = sum(self.code(i, j) for i in range(self.n_in)) + off
            e = max(0, tot.bit_length() - cfg.recip_bits)
            idx = (tot + (1 << e >> 1)) >> e
            return (math.floor(c / idx + 0.5) + (1 << e >> 1)) >> e
        if not g.normalise:
            return math.floor(2 ** self.V * min(g.significance) / (g.levels - 1) + 0.5)
        tot = sum(self.code(i, j) for i in range(self.n_in))
        if tot == 0:
            return 0
        e = max(0, tot.bit_length() - cfg.recip_bits)
        idx = (tot + (1 << e >> 1)) >> e
        r = math.floor(g.norm_target * 2 ** self.V / idx + 0.5)
        return (r + (1 << e >> 1)) >> e

    def window(self, a, age):
        g = self.g
        x = 0.0 if age >= self.sat else math.exp(-(age * g.dt) / g.tau_plus[a])
        if g.levels == 2:
            return (math.floor(g.p_pot[a] * x * 2 ** self.P + 0.5),
                    math.floor(g.p_dep[a] * (1 - x) * 2 ** self.P + 0.5))
        return round(float(np.rint((g.p_pot[a] * x - g.p_dep[a] * (1.0 - x)) * (g.levels - 1))))

    def negative(self, a, age):
        g = self.g
        y = 0.0 if age >= self.sat else math.exp(-(age * g.dt) / g.tau_minus[a])
        if g.levels == 2:
            return math.floor(g.p_minus[a] * y * 2 ** self.P + 0.5)
        return round(float(np.rint(g.p_minus[a] * y * (g.levels - 1))))

    def row_update(self, i, t, last_post):
        """Negative window at input i's spike: one STDP word per column (lane j % L)."""
        g = self.g
        dirty = set()
        for a in range(self.arrays):
            words = self.stdp.run(-(-self.n // self.Ls)).reshape(-1) if g.stochastic else None
            for j in range(self.n):
                if last_post[j] < 0:
                    continue
                th = self.negative(a, min(t - last_post[j], self.sat))
                s = int(self.k[a, i, j])
                if s == 0 or th <= 0:
                    continue
                self.stats[a, 2] += 1
                if g.stochastic:
                    if words[j] < th:
                        self.k[a, i, j] = 0
                        self.stats[a, 1] += 1
                        dirty.add(j)
                else:
                    ns = max(s - th, 0)
                    self.k[a, i, j] = ns
                    self.stats[a, 3] += s - ns
                    self.stats[a, 1] += 1
                    dirty.add(j)
        self.neg_columns += len(dirty)
        return dirty

    def stdp_update(self, j, t, last):
        g = self.g
        changed = 0
        for a in range(self.arrays):
            words = self.stdp.run(self.Qs).reshape(-1) if g.stochastic else None
            for i in range(self.n_in):
                age = self.sat if last[i] < 0 else min(t - last[i], self.sat)
                s = int(self.k[a, i, j])
                if g.stochastic:
                    pot, dep = self.window(a, age)
                    th = pot if s == 0 else dep
                    if th > 0:
                        self.stats[a, 2] += 1
                        if words[i] < th:
                            self.k[a, i, j] = 1 - s
                            self.stats[a, 0 if s == 0 else 1] += 1
                            changed += 1
                else:
                    d = self.window(a, age)
                    if d:
                        self.stats[a, 2] += 1
                        ns = min(max(s + d, 0), g.levels - 1)
                        if ns != s:
                            self.k[a, i, j] = ns
                            self.stats[a, 3] += abs(ns - s)
                            self.stats[a, 0 if ns > s else 1] += 1
                            changed += 1
        return changed

    def present_once(self, pix, r, learn, winners, membranes):
        g, cfg = self.g, self.cfg
        q_r = math.floor((g.max_rate + r * g.rate_step) * g.dt * 2 ** cfg.rate_bits + 0.5)
        thr = [int(p) * q_r for p in pix]
        ref_steps = round(g.t_ref / g.dt)
        v, refr, last, counts = [0] * self.n, [0] * self.n, [-1] * self.n_in, [0] * self.n
        last_post = [-1] * self.n
        dwn = g.neuron == "dw"
        inc = [[self.code(i, j) * self.scale(j) for j in range(self.n)] for i in range(self.n_in)]
        for t in range(g.steps):
            if not dwn:
                v = [x - sum(s * ((x + (1 << (e - 1))) >> e) for e, s in cfg.leak) for x in v]
            words = self.inp.run(self.Qi).reshape(-1)
            spiking = [i for i in range(self.n_in) if words[i] < thr[i]]
            for i in spiking:      # the negative window of every spiking row first
                last[i] = t
                if learn and max(g.p_minus) > 0 and max(last_post) >= 0:
                    for j in self.row_update(i, t, last_post):
                        sc = self.scale(j)
                        for r in range(self.n_in):
                            inc[r][j] = self.code(r, j) * sc
            for i in range(self.n_in):
                if i in spiking:
                    for j in range(self.n):
                        x = v[j] + inc[i][j]
                        self.v_sat += x > self.vmax
                        v[j] = min(x, self.vmax)
            membranes.append(list(v))
            best, best_m = -1, 0
            for j in range(self.n):
                if refr[j] > 0:
                    refr[j] -= 1
                    v[j] = 0
                    continue
                m = v[j] - (self.vth + self.theta[j])
                if m >= 0 and (best < 0 or m > best_m):
                    best, best_m = j, m
            winners.append(best)
            if best < 0:
                if dwn:
                    leak = math.floor(2 ** self.V * g.v_th * G.allspin_operating_point(g, self.n_in)["leak"] + 0.5)
                    v = [max(x - leak, 0) for x in v]
                continue
            v = [0] * self.n
            counts[best] += 1
            refr[best] = ref_steps
            last_post[best] = t
            if learn:
                self.theta[best] += self.tplus
                if self.stdp_update(best, t, last):
                    for i in range(self.n_in):
                        inc[i][best] = self.code(i, best) * self.scale(best)
        return counts

    def present(self, pix, learn):
        out, trace = [], []
        for p in pix:
            r, attempts = 0, []
            while True:
                winners, membranes = [], []
                counts = self.present_once(p, r, learn, winners, membranes)
                attempts.append((winners, membranes))
                r += 1
                if sum(counts) >= self.g.min_spikes or r > self.g.max_retries:
                    break
            out.append(counts)
            trace.append(attempts)
            if learn:
                self.img_counter += 1
                if self.img_counter >= self.interval:
                    self.img_counter = 0
                    self.theta = [th - ((th + (1 << (self.shift - 1))) >> self.shift) for th in self.theta]
        return np.array(out), trace


REFERENCE_CASES = {
    # dim copies force retries; a fast homeostasis wraps the theta-decay counter every 3 images
    "binary": dict(variant="binary", golden={"tau_theta": 5.0}, theta_shift=2),
    "dw": dict(variant="dw", golden={"tau_theta": 5.0}, theta_shift=2, recip_bits=6),
    "ltst": dict(variant="ltst", golden={"tau_theta": 5.0}, theta_shift=2, stdp_lanes=5,
                 lfsr_widths=(31, 64, 39)),
    # narrow membrane, no normalisation, low threshold: saturating adds happen
    # the all-spin network: DW neurons on the eq. 12 read, both signs of eq. 9
    "allspin": dict(variant="binary", n_inputs_model=64, golden={"tau_theta": 5.0, "neuron": "dw", "w_ref": 10.0,
                                                                 "p_minus": (0.1,)}, theta_shift=2, stdp_lanes=4),
    "allspin-dw": dict(variant="dw", n_inputs_model=64, recip_bits=6,
                       golden={"tau_theta": 5.0, "neuron": "dw", "w_ref": 10.0, "p_minus": (0.3,)}, theta_shift=2),
    "saturating": dict(variant="binary", membrane_bits=14, membrane_frac=8, input_lanes=9, lfsr_widths=(41,),
                       golden={"normalise": False, "v_th": 30.0, "init_p": 0.9, "max_rate": 250.0}),
}


@pytest.mark.parametrize("case", sorted(REFERENCE_CASES))
def test_compiled_model_equals_slow_reference(digits, case):
    """Spike for spike and weight for weight: counts, attempts, every step's winner and
    membranes, device states, theta, STDP statistics, saturations and LFSR states."""
    kw = dict(REFERENCE_CASES[case])
    gov = {**dict(DIGITS), **kw.pop("golden"), "steps": 120}
    if kw["variant"] == "ltst":
        gov["tau_plus"] = (0.025, 0.1)
    cfg = S.QuantStdpConfig(neurons=6, seed=11, golden_overrides=tuple(gov.items()), **kw)
    (xt, _), _ = digits
    imgs = np.concatenate([xt[:3], 0.15 * xt[3:5], xt[5:7]])  # the dim ones are retried
    net = S.QuantStdpNetwork(cfg, 64)
    ref = _Reference(cfg, 64)
    np.testing.assert_array_equal(net.states, ref.k)
    counts = net.present(imgs, learn=True, record="full", chunk=3)
    want, trace = ref.present(net.pixel_codes(imgs), True)
    np.testing.assert_array_equal(counts, want)
    tr = net.last_trace
    assert [len(a) for a in trace] == list(tr["attempts"])
    if case != "saturating":
        assert max(tr["attempts"]) > 1, "no image was retried: the retry path is untested"
    for m, attempts in enumerate(trace):
        for r, (winners, membranes) in enumerate(attempts):
            np.testing.assert_array_equal(tr["winner"][m, r], winners, err_msg=f"image {m} attempt {r}")
            np.testing.assert_array_equal(tr["membrane"][m, r], membranes, err_msg=f"image {m} attempt {r}")
    np.testing.assert_array_equal(net.states, ref.k)
    np.testing.assert_array_equal(net.theta, ref.theta)
    np.testing.assert_array_equal(net.stats, ref.stats)
    assert net.counters[K.CT_V_SAT] == ref.v_sat
    assert (ref.v_sat > 0) == (case == "saturating")
    np.testing.assert_array_equal(net.banks["input"], ref.inp.state)
    np.testing.assert_array_equal(net.banks["stdp"], ref.stdp.state)
    if case != "saturating":
        assert net.switching_events() > 0
    assert (ref.neg_columns > 0) == case.startswith("allspin"), ref.neg_columns


def _kernel_words(widths, bits, lanes, seed, cycles):
    cfgs = [LfsrConfig(w, lanes, bits, seed + 4 * b) for b, w in enumerate(widths)]
    taps = np.zeros((len(widths), 4), np.int64)
    for b, w in enumerate(widths):
        taps[b, :len(TAPS[w])] = TAPS[w]
    state = np.array([c.seeds for c in cfgs], np.uint64)
    return K.lfsr_words(state, np.array(widths, np.int64), bits, taps, cycles), cfgs


def test_lfsr_block_step_equals_bank():
    for widths, bits, lanes in (((64,), 20, 28), ((64,), 60, 3), ((31,), 16, 5), ((17,), 14, 2),
                                ((64, 63), 20, 28), ((41, 60, 17), 14, 3)):
        got, cfgs = _kernel_words(widths, bits, lanes, 7, 300)
        want = 0
        for cfg in cfgs:
            want = want ^ LfsrBank(cfg).run(300)
        np.testing.assert_array_equal(got, want)


def test_input_draw_order_by_hand(digits):
    """Pixel i = q L + l at step t spikes iff word t Q + q of lane l < p q_0 (documented order)."""
    (xt, _), _ = digits
    cfg = _digits_cfg(neurons=3, input_lanes=10, golden={"v_th": 1e3})  # no output spikes
    net = S.QuantStdpNetwork(cfg, 64)
    net.present(xt[:1], learn=False, record="full")
    raster = net.last_trace["raster"][0, 0]
    q_count = 7  # ceil(64 / 10)
    words = (LfsrBank(LfsrConfig(64, 10, 20, cfg.seed)).run(cfg.golden.steps * q_count)
             ^ LfsrBank(LfsrConfig(63, 10, 20, cfg.seed + 4)).run(cfg.golden.steps * q_count))
    p = np.minimum(255, np.floor(xt[0].reshape(-1).astype(np.float64) * 256 + 0.5)).astype(np.int64)
    q0 = math.floor(127.5 * 1e-3 * 4096 + 0.5)
    for t in (0, 1, 57, cfg.golden.steps - 1):
        for i in (0, 9, 10, 33, 63):
            q, lane = divmod(i, 10)
            assert raster[t, i] == (words[t * q_count + q, lane] < p[i] * q0), (t, i)
    assert raster.sum() > 0


def test_stdp_draw_order_by_hand():
    """At a post spike, row i = q L + l of array a uses word a Q + q of lane l of the STDP bank."""
    cfg = S.QuantStdpConfig(variant="ltst", neurons=2, seed=5, stdp_lanes=7,
                            golden_overrides=(("p_pot", (0.1, 0.1)), ("p_dep", (0.1, 0.1))))
    n_in = 30
    net = S.QuantStdpNetwork(cfg, n_in)
    before = net.states.copy()
    ages = np.arange(n_in) % 12
    ages[::5] = cfg.age_sat                      # never spiked
    net.post_spike(1, ages)
    words = (LfsrBank(LfsrConfig(64, 7, 16, cfg.seed + 1)).run(2 * 5)   # Q = ceil(30 / 7) = 5
             ^ LfsrBank(LfsrConfig(63, 7, 16, cfg.seed + 5)).run(2 * 5))
    t = cfg.tables()
    for a in range(2):
        for i in range(n_in):
            q, lane = divmod(i, 7)
            w = words[a * 5 + q, lane]
            s = before[a, i, 1]
            th = t["pot"][a, ages[i]] if s == 0 else t["dep"][a, ages[i]]
            assert net.states[a, i, 1] == (1 - s if w < th else s), (a, i)
    np.testing.assert_array_equal(net.states[:, :, 0], before[:, :, 0])
    assert np.any(net.states != before)


def _max_pair_z(s, lags=5, min_expected=30.0):
    """Largest |z| of the joint-spike counts of pixel pairs d = 1.. apart in the same event
    (row of ``s``, (events, n) 0/1) and of the same pixel ``lags`` events apart, against
    independence: z = (J - E) / sqrt(E), E = pairs m**2 (Poisson approximation, kept where
    E >= min_expected). Returns (z, what)."""
    events, n = s.shape
    m = s.mean()
    f = np.fft.rfft(s, 2 * n, axis=1)
    joint = np.fft.irfft((f * f.conj()).sum(axis=0), 2 * n)[1:n]      # sum_e sum_i s_i s_(i+d)
    expect = events * (n - np.arange(1, n)) * m * m
    keep = expect >= min_expected
    z = np.where(keep, (joint - expect) / np.sqrt(np.maximum(expect, 1e-300)), 0.0)
    best = (z[np.argmax(np.abs(z))], f"pixels {np.argmax(np.abs(z)) + 1} apart")
    for lag in range(1, lags + 1):
        e = s[lag:].size * m * m
        zt = ((s[:-lag] * s[lag:]).sum() - e) / math.sqrt(e)
        if abs(zt) > abs(best[0]):
            best = (zt, f"{lag} events apart")
    return best


# Bonferroni over the ~800 offsets and lags tested: P(max |z| > 5) < 800 x 5.7e-7 = 5e-4.
Z_PAIRS = 5.0


@pytest.mark.parametrize("widths", [(64, 63), (64,)])
def test_input_spikes_are_pairwise_independent(widths):
    """A uniform grey image (P = 0.01 per step): no pixel pair spikes together more or less
    often than chance, nor one pixel in nearby steps; the single 64-bit bank fails this (its
    feedback ties words 3 apart, pixels 3 L = 84 apart; module notes)."""
    g = (("v_th", 1e3), ("max_retries", 0))
    cfg = S.QuantStdpConfig(neurons=2, lfsr_widths=widths, golden_overrides=g)
    net = S.QuantStdpNetwork(cfg, 784)
    net.present(np.full((30, 784), 40 / 256), learn=False, record="full")
    s = net.last_trace["raster"][:, 0].reshape(-1, 784).astype(np.float64)   # 10,500 steps
    z, what = _max_pair_z(s)
    if widths == (64, 63):
        assert abs(z) < Z_PAIRS, (z, what)
    else:
        assert z > 3 * Z_PAIRS and what == "pixels 84 apart", (z, what)


@pytest.mark.parametrize("widths", [(64, 63), (64,)])
def test_stdp_decisions_are_pairwise_independent(widths):
    """Potentiation decisions of one column (P = 0.05) over 2,500 post spikes: independent
    between rows and between successive updates; the single bank fails (rows 4 L apart)."""
    cfg = S.QuantStdpConfig(neurons=1, lfsr_widths=widths)
    net = S.QuantStdpNetwork(cfg, 784)
    flips = np.empty((2500, 784))
    for u in range(2500):
        net.states[...] = 0
        net.post_spike(0, np.zeros(784, np.int64))
        flips[u] = net.states[0, :, 0]
    z, what = _max_pair_z(flips)
    if widths == (64, 63):
        assert abs(z) < Z_PAIRS, (z, what)
    else:
        assert abs(z) > 2 * Z_PAIRS and what == "pixels 112 apart", (z, what)


def test_luts_are_the_golden_window_to_half_an_lsb():
    cfg = S.QuantStdpConfig(variant="ltst", neurons=2)
    g, t = cfg.golden, cfg.tables()
    age = np.arange(cfg.age_sat)
    for a in range(2):
        x = np.exp(-age * g.dt / g.tau_plus[a])
        lsb = 2.0 ** -cfg.prob_bits
        assert np.all(np.abs(t["pot"][a, :-1] * lsb - g.p_pot[a] * x) <= lsb / 2)
        assert np.all(np.abs(t["dep"][a, :-1] * lsb - g.p_dep[a] * (1 - x)) <= lsb / 2)
        assert t["pot"][a, -1] == 0 and abs(t["dep"][a, -1] * lsb - g.p_dep[a]) <= lsb / 2
    dw = S.QuantStdpConfig(variant="dw", neurons=2, age_bits=9)   # sat 511 > 350 steps
    gd = dw.golden
    x = np.exp(-(np.arange(dw.age_sat) * gd.dt) / gd.tau_plus[0])
    np.testing.assert_array_equal(dw.tables()["dwd"][0, :-1],
                                  np.rint((gd.p_pot[0] * x - gd.p_dep[0] * (1 - x)) * (gd.levels - 1)))


@pytest.mark.parametrize("state", [0, 1])
def test_switching_fraction_equals_lut_probability(state):
    """Fraction of devices switched at one post spike = LUT / 2**P within 4 binomial SE."""
    cfg = S.QuantStdpConfig(neurons=1, seed=3, stdp_lanes=32)
    groups, per = (0, 5, 20, 60, cfg.age_sat), 8000
    ages = np.repeat(groups, per)
    net = S.QuantStdpNetwork(cfg, ages.size)
    net.states[...] = state
    net.refresh_weights()
    net.post_spike(0, ages)
    t = cfg.tables()["pot" if state == 0 else "dep"][0]
    for k, age in enumerate(groups):
        flipped = (net.states[0, k * per:(k + 1) * per, 0] != state).mean()
        p = t[age] / 2 ** cfg.prob_bits
        se = math.sqrt(max(p * (1 - p), 1e-12) / per)     # binomial standard error
        assert abs(flipped - p) <= 4 * se, (state, age, flipped, p)
    assert net.colsum[0] == net.states.sum()


def test_leak_matches_exp_within_the_stated_bound():
    cfg = S.QuantStdpConfig()
    g = cfg.golden
    d = math.exp(-g.dt / g.tau_m)
    dq = cfg.leak_decay
    # the shift-and-add terms approximate c = 1 - d to better than 2**-(e_last + 1)
    assert abs(dq - d) <= 2.0 ** -(cfg.leak[-1][0] + 1)
    v0 = np.array([2 ** 20, 1_310_720, 987_654, 300])
    v = v0.copy()
    for n in range(1, 401):
        v = S.leak(v, cfg.leak)
        bound = v0 * n * abs(dq - d) * max(d, dq) ** (n - 1) + len(cfg.leak) * (1 - dq ** n) / (2 * (1 - dq))
        assert np.all(np.abs(v - v0 * d ** n) <= bound), n
    # the bound is tight enough to mean something: 100 steps of one shift term fail it
    bad = v0.copy()
    for _ in range(100):
        bad = S.leak(bad, ((7, 1),))
    assert np.any(np.abs(bad - v0 * d ** 100) > v0 * 100 * abs(dq - d) + 2 * 100)
    assert -g.dt / math.log(dq) == pytest.approx(g.tau_m, rel=2 * abs(dq - d) / (1 - d))


def test_normalisation_scale_error_bound():
    """|scale - C/K| <= 1/2 LSB for K < 2**A, else <= 2**-A C/K + 3/4 LSB (module notes)."""
    for variant, a in (("binary", 10), ("dw", 10), ("dw", 6)):
        cfg = S.QuantStdpConfig(variant=variant, neurons=1, recip_bits=a)
        c = cfg.golden.norm_target * 2 ** cfg.membrane_frac
        k = np.arange(1, 784 * 15 + 1)
        err = np.abs(S.column_scale(k, cfg) - c / k)
        small = k < 2 ** a
        assert np.all(err[small] <= 0.5)
        assert np.all(err[~small] <= 2.0 ** -a * c / k[~small] + 0.75)
        assert S.column_scale(0, cfg) == 0


def test_homeostasis_decay_interval_is_within_one_percent():
    for tau, steps in ((1e4, 350), (100.0, 350), (30.0, 200)):
        cfg = S.QuantStdpConfig(golden_overrides=(("tau_theta", tau), ("steps", steps)))
        g = cfg.golden
        s, n = cfg.theta_decay
        per_image = (g.steps * g.dt + g.rest) / g.tau_theta
        tau_eff = -n * (g.steps * g.dt + g.rest) / math.log1p(-2.0 ** -s)
        assert abs(tau_eff / g.tau_theta - 1) <= 0.01 and n >= 1, (tau, s, n, per_image)


def test_column_registers_equal_a_recomputation(digits):
    (xt, _), _ = digits
    net = S.QuantStdpNetwork(_digits_cfg("dw", neurons=20, seed=2), 64)
    net.train(xt[:150])
    regs = (net.colsum.copy(), net.scale.copy(), net.winc.copy())
    net.refresh_weights()
    for got, want in zip(regs, (net.colsum, net.scale, net.winc)):
        np.testing.assert_array_equal(got, want)


def test_deterministic_given_seed(digits):
    (xt, _), _ = digits
    runs = []
    for seed in (5, 5, 6):
        net = S.QuantStdpNetwork(_digits_cfg(seed=seed), 64)
        runs.append((net.train(xt[:150]), net.states.copy(), net.theta.copy()))
    for a, b in zip(runs[0], runs[1]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(runs[0][1], runs[2][1])
    # splitting the sequence into calls or chunks changes nothing
    net = S.QuantStdpNetwork(_digits_cfg(seed=5), 64)
    c = np.concatenate([net.train(xt[:70]), net.present(xt[70:150], learn=True, chunk=9)])
    np.testing.assert_array_equal(c, runs[0][0])
    np.testing.assert_array_equal(net.states, runs[0][1])


def test_wta_fires_the_largest_margin_and_one_neuron_per_step(digits):
    """Many neurons cross threshold together (no normalisation, all devices P); exactly one
    fires: the largest v - (v_th + theta) among the non-refractory ones, lowest index on ties."""
    (xt, _), _ = digits
    cfg = _digits_cfg(neurons=12, seed=1,
                      golden={"normalise": False, "init_p": 0.6, "v_th": 1.5, "steps": 80})
    net = S.QuantStdpNetwork(cfg, 64)
    counts = net.present(xt[:4], learn=False, record="full")
    tr = net.last_trace
    vth, ref = cfg.vth_code, round(cfg.golden.t_ref / cfg.golden.dt)
    crowded = 0
    for m in range(4):
        winners, mem = tr["winner"][m, 0], tr["membrane"][m, 0]
        assert counts[m].sum() == (winners >= 0).sum()
        last = np.full(12, -10 ** 6)
        for t in range(len(winners)):
            ok = t - last > ref                     # not refractory
            margin = np.where(ok, mem[t] - vth - net.theta, -1)
            crowded += (margin >= 0).sum() > 1
            want = int(np.argmax(margin)) if margin.max() >= 0 else -1
            assert winners[t] == want, (m, t)
            if want >= 0:
                last[want] = t
    assert crowded > 10, "too few steps with several neurons above threshold"


def test_readout_equals_the_golden_readout():
    rng = np.random.default_rng(4)
    for n_img, n in ((200, 30), (50, 7)):
        counts = rng.poisson(0.6, (n_img, n)) * (rng.random(n) < 0.8)
        labels = rng.integers(0, 10, n_img)
        a = S.assign_labels(counts, labels)
        np.testing.assert_array_equal(a, G.assign_labels(counts, labels))
        test = rng.poisson(0.8, (n_img, n))
        np.testing.assert_array_equal(S.predict(test, a), G.predict(test, a))
    # exact ties go to the lowest class, as the golden's argmax
    counts = np.array([[1, 0], [1, 0], [1, 0], [1, 0]])
    np.testing.assert_array_equal(S.assign_labels(counts, [3, 3, 1, 1]), [1, -1])
    np.testing.assert_array_equal(G.assign_labels(counts, [3, 3, 1, 1]), [1, -1])


def _chance_bound(n, p0=0.1, z=5.0):
    # Without learning the correct answers are at most Binomial(n, p0), p0 = 0.1 (10 balanced
    # classes); 5 standard deviations above its mean: false pass below 3e-7.
    return p0 + z * math.sqrt(p0 * (1 - p0) / n)


@pytest.mark.parametrize("variant", ["binary", "dw", "ltst"])
def test_learns_digits_above_chance(digits, variant):
    (xt, yt), (xs, ys) = digits
    net = S.QuantStdpNetwork(_digits_cfg(variant), 64)
    for _ in range(2):
        net.train(xt)
    acc = net.evaluate(xt, yt, xs, ys)["accuracy"]
    assert acc > _chance_bound(len(ys)), (variant, acc)
    assert net.counters[K.CT_V_SAT] == 0 and net.counters[K.CT_THETA_SAT] == 0


def _accuracies(digits, variant, seeds, **kw):
    (xt, yt), (xs, ys) = digits
    q, g = [], []
    for seed in seeds:
        cfg = _digits_cfg(variant, seed=seed, **kw)
        net = S.QuantStdpNetwork(cfg, 64)
        for _ in range(2):
            net.train(xt)
        q.append(net.evaluate(xt, yt, xs, ys)["accuracy"])
        gn = G.StdpNetwork(cfg.golden, 64, seed=seed)
        for _ in range(2):
            gn.present(xt, learn=True)
        a = G.assign_labels(gn.present(xt, learn=False), yt)
        g.append(float((G.predict(gn.present(xs, learn=False), a) == ys).mean()))
    return np.array(q), np.array(g)


def _assert_same_accuracy(q, g):
    # The two networks draw from different generators (LFSR words against xoshiro doubles),
    # so their spike trains, hence their learned weights, differ after the first step: they
    # cannot be compared image for image. Each seed's accuracy varies by the test-set binomial
    # error and by training; with S seeds per model, under "same accuracy distribution" the
    # difference of the means is Student-t with 2S - 2 degrees of freedom around 0, scale
    # s_p sqrt(2 / S) (pooled sample SD s_p, floored at the binomial SE of 360 test digits).
    from scipy import stats

    s = len(q)
    sp = math.sqrt(max((q.var(ddof=1) + g.var(ddof=1)) / 2, g.mean() * (1 - g.mean()) / 360))
    bound = stats.t.ppf(1 - 5e-4, 2 * s - 2) * sp * math.sqrt(2 / s)   # two-sided 1e-3
    assert abs(q.mean() - g.mean()) < bound, (q, g, bound)


def test_accuracy_equals_golden_within_error_bars(digits):
    _assert_same_accuracy(*_accuracies(digits, "binary", range(4)))


def test_all_spin_accuracy_equals_golden_within_error_bars(digits):
    # the all-spin network (DW neurons, eq. 12 read) with a strong negative window (p_minus
    # 0.02, 10x the MNIST default) so that both signs of eq. 9 shape the learned weights
    _assert_same_accuracy(*_accuracies(digits, "binary", range(4), n_inputs_model=64,
                                       golden={"neuron": "dw", "w_ref": 10.0, "p_minus": (0.02,)}))


@pytest.mark.long
@pytest.mark.parametrize("variant", ["binary", "dw", "ltst"])
def test_accuracy_equals_golden_within_error_bars_long(digits, variant):
    _assert_same_accuracy(*_accuracies(digits, variant, range(8)))


@pytest.mark.parametrize("kw, name", [
    (dict(variant="ternary"), "variant"), (dict(neurons=0), "neurons"), (dict(prob_bits=61), "prob_bits"),
    (dict(membrane_frac=30), "membrane_frac"), (dict(golden_overrides=(("p_pot", (0.2,)),)), "p_pot"),
    (dict(golden_overrides=(("inhibition", "direct"),)), "inhibition"),
    (dict(golden_overrides=(("bogus", 1),)), "golden_overrides"), (dict(rate_bits=53), "rate_bits"),
    (dict(membrane_bits=12, membrane_frac=8), "membrane_bits"), (dict(theta_shift=0), "theta_shift"),
])
def test_config_validation_names_the_parameter(kw, name):
    with pytest.raises(ValueError, match=name):
        S.QuantStdpConfig(**kw)


def test_bad_inputs_raise():
    net = S.QuantStdpNetwork(S.QuantStdpConfig(neurons=3), 16)
    with pytest.raises(ValueError, match="pixels"):
        net.present(np.zeros((2, 15)), learn=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        net.present(np.full((2, 16), 2.0), learn=False)
    with pytest.raises(ValueError, match="bogus"):
        S.run_experiment(3, "binary", 5, 5, bogus=1, data=(np.zeros((5, 16)),) * 4)


def test_run_experiment_and_cli(digits, capsys):
    (xt, yt), (xs, ys) = digits
    gov = dict(DIGITS)
    r = S.run_experiment(20, "binary", 300, 100, seed=1, data=(xt, yt, xs, ys), label_images=300,
                         checkpoints=[100], **gov)
    assert [c["train_images"] for c in r["curve"]] == [100, 300]
    assert r["curve"][-1]["accuracy"] == r["accuracy"]
    assert r["devices"] == 64 * 20 and r["train_presentations"] >= 300
    json.dumps(r)
    # checkpoints (their evaluations use their own bank) do not perturb training
    r2 = S.run_experiment(20, "binary", 300, 100, seed=1, data=(xt, yt, xs, ys), label_images=300, **gov)
    for key in ("accuracy", "switching_events", "train_presentations", "mean_test_spikes"):
        assert r2[key] == r[key], key
    assert quant_stdp_main(["--set", "bogus=1", "--quiet"]) == 2
    assert "bogus" in capsys.readouterr().err


@pytest.mark.long
def test_mnist_225_neurons_learns():
    """225 neurons, 5,000 MNIST training images: well above chance on 2,000 test images."""
    r = S.run_experiment(225, "binary", 5000, 2000, seed=0)
    assert r["accuracy"] > _chance_bound(2000), r["accuracy"]
    assert r["membrane_saturations"] == 0 and r["theta_saturations"] == 0
