"""Bit-accurate integer model of network 3, the unsupervised STDP network (seed section V.2).

The reference the RTL STDP core must match spike for spike and weight for weight; it
computes :mod:`golden.stdp_network` (Diehl & Cook topology with hard winner-take-all,
homeostasis, probabilistic binary, multi-level DW or LT-ST synapses; REFERENCES.md section 5)
with integers only, the way the core computes it: shifts, adders, comparators, small LUTs, no
divider, and LFSR words (:mod:`quantize.lfsr`) for every random decision. The golden model's
parameters come from ``golden.stdp_network.config_for(variant, neurons, **golden_overrides)``.

Formats (``QuantStdpConfig``; ``V = membrane_frac``)
----------------------------------------------------
* Membrane ``v`` and adaptive threshold ``theta``: integers in units of ``2**-V`` weight
  units (the golden potential's unit); ``v`` signed ``membrane_bits``, saturating at the top
  (never below 0 here: weights are >= 0 and resets go to 0), ``theta`` unsigned ``theta_bits``,
  saturating; saturations are counted. ``v_th`` and ``theta_plus`` are ``round(x 2**V)``.
* Leak (seed eq. 8, tau_m): ``v -= sum_k s_k rshift_round(v, e_k)``, a few shift-and-add
  terms (``leak_terms``, signed digits chosen greedily) approximating ``c = 1 - exp(-dt/tau_m)``
  (D&C: ``2**-7 + 2**-9 + 2**-12 - 2**-14``, 0.015 % off: tau 100.01 ms). A multiplier by a decay
  constant would be as exact but costs a DSP per time-multiplexed neuron. Bound after ``n``
  free steps from ``v0``: ``|v_n - v0 d**n| <= v0 n |d_q - d| max(d, d_q)**(n-1) + leak_terms
  (1 - d_q**n) / (2 (1 - d_q))`` LSB (``d_q = 1 - sum s_k 2**-e_k``; each rounding <= 1/2 LSB).
* Weights: device states ``k`` (binary 0/1, DW level 0..L-1); a synapse's code is
  ``c = sum_a g_a k_a`` with integer significance codes ``g = significance / min(significance)``
  (LT-ST 1 / 0.5 -> 2, 1). An input spike adds ``c_ij * scale_j`` to membrane j (binary:
  an AND gate selects ``scale_j``).
* Divisive normalisation (golden ``normalise``, the eq. 12 crossbar with gamma >> 1): the
  column's code sum ``K_j`` (an up/down counter updated with every switch) addresses a
  reciprocal ROM ``recip[i] = round(C / i)``, ``C = norm_target 2**V``, of ``2**A + 1``
  words (``A = recip_bits``): ``e = max(0, bitlen(K) - A)``, ``scale = rshift_round(
  recip[rshift_round(K, e)], e)``. Error: ``|scale - C/K| <= 1/2`` LSB when ``K < 2**A``
  (every binary MNIST column: K <= 784), else ``<= 2**-A C/K + 3/4`` LSB. Without
  normalisation ``scale = round(2**V min(significance) / (L - 1))``.
* Input (rate coding on chip): pixel code ``p = min(2**b - 1, floor(x 2**b + 1/2))``
  (``b = input_bits``; MNIST's x = n/256 is exact at b = 8); attempt r's rate code
  ``q_r = round((max_rate + r rate_step) dt 2**R)`` (``R = rate_bits``); pixel i spikes in a
  step when its ``b + R``-bit LFSR word is below ``p q_r`` (one product per pixel and
  attempt, loaded with the image), so ``P = p q_r / 2**(b+R)`` against the golden
  ``x rate dt``: relative error <= ``1 / (2 q_r)`` (+ the pixel code's rounding). An image is
  shown again with the next rate code while the layer fired fewer than ``min_spikes`` times.
* STDP engine (seed eq. 9, Fig. 8): each input's age since its latest spike in this
  presentation is a saturating counter of ``age_bits`` (value ``sat = 2**age_bits - 1``
  means "never or >= sat steps ago"). At a post spike the age addresses per-array LUTs of
  ``prob_bits`` (P) words: ``pot[a] = round(p_pot e**(-age dt/tau) 2**P)``,
  ``dep[a] = round(p_dep (1 - e**(-age dt/tau)) 2**P)``, and at ``sat`` 0 and
  ``round(p_dep 2**P)``; an AP device switches to P when its word < ``pot``, a P device to AP
  when its word < ``dep`` (``P_sw = LUT / 2**P`` exactly; the golden's probability to within
  ``2**-(P+1)``, plus ``p_pot e**(-sat dt/tau)`` for ages >= ``sat``). p_pot, p_dep <= 0.1
  (seed section IV.2). DW: ``dwd[a][age] = rint((p_pot x - p_dep (1 - x)) (L - 1))``
  notches, the golden's own rule, clipped to 0..L-1 (no random words).
* Homeostasis: ``theta += theta_plus`` per spike (learning); a counter of training images
  wraps every ``theta_interval`` images and then ``theta -= rshift_round(theta,
  theta_shift)``, with the interval ``round(-tau_theta ln(1 - 2**-s) / (steps dt + rest))``
  and the largest shift ``s`` <= 16 whose interval is within 1 % of that value (else the
  closest; D&C: s = 9, every 39 images).
* Order within a step (as the golden kernel): leak; input spikes in pixel order (the
  negative window of each, then their saturating adds); refractory counters (``round(t_ref / dt)`` steps, membrane held at 0); the neuron
  with the largest ``v - (v_th + theta)`` >= 0 fires (ties: lowest index), every membrane is
  reset, the winner's counter and theta are set; STDP of the winner's column; the column's
  sum, scale and increments are refreshed. Each presentation starts from rest (membranes,
  refractory counters and ages cleared; D&C's 150 ms rest).
* Negative window (seed eq. 9, dt < 0; golden ``p_minus > 0``): at each input spike of a
  learning presentation in which some neuron has fired, the age since each neuron's latest
  post spike (saturating, ``age_bits``) addresses ``neg[a] = round(p_minus e**(-age
  dt/tau_minus) 2**P)`` (0 at ``sat``); a P device of the spiking row in a column whose neuron
  has fired switches to AP when its word < ``neg`` (DW: ``rint(p_minus y (L - 1))`` notches
  down, the golden's rule, no words). Changed columns are refreshed at once; the step's
  rows are all programmed (pixel order) before any spiking row adds its increments (the
  order of a core that serialises the step's spikes before its accumulation pass; the golden
  kernel interleaves the two per spike, a difference within one 1 ms step).
* All-spin network (golden ``neuron="dw"``, one array; ``QuantStdpConfig.allspin``): the
  membrane holds the DW neuron's wall in the golden's threshold units (``v_j = u_j (v_th +
  theta_j)``); no multiplicative leak; in a step without a spike ``v -= leak_code``, floored
  at 0. The eq. 12 read is the reciprocal ROM with numerator ``recip_c`` addressed by ``K_j +
  col_offset`` (the AP floor of gamma in code units), the wall's velocity taken linear.
* Read-out (D&C, exact integers): a neuron's class is the argmax over classes of its
  spike-count sum S_c over n_c labelled images, compared as fractions by cross products
  ``S_c n_b > S_b n_c`` (ties: lowest class; -1 if it never fired); a test image's class is
  the argmax of the summed counts of each class's neurons over their number, likewise.

LFSR draw order (what the RTL reproduces)
-----------------------------------------
A generator ``X`` (input, stdp, init, eval: ``x = 0, 1, 2, 3``) is one ``LfsrBank`` per width
``W_b`` of ``lfsr_widths`` (b = 0, 1, ...), ``LfsrConfig(W_b, lanes, bits, (seed + x + 4 b)
mod 2**64)``, clocked together; its word of a cycle and lane is the XOR of the banks' words.
Why two banks (64 and 63 bits by default, coprime periods): a lane's successive words are
consecutive chunks of one m-sequence, and the sparse feedback (64: taps 64, 63, 61, 60) ties
the top bits of word c + 3 to those of word c when 20-bit words are drawn, so pixels 3 L
apart spiked together twice as often as chance (5x for dim pixels; z ~ 100 over 10,000
steps); the XOR of two sequences with different polynomials has no such short relation
(tests/test_quant_stdp.py measures the pair statistics). ``lfsr_widths=(64,)`` is the cheaper
single-bank core.

* Input generator (``input_lanes`` L lanes, ``input_bits + rate_bits`` bits): in every step
  of every presentation (retries included) it runs ``Q = ceil(n_in / L)`` cycles; word
  ``t Q + q`` (within the presentation) of lane ``l`` is pixel ``i = q L + l``'s (words of
  ``i >= n_in`` are discarded). It runs on across images and is never reseeded by
  ``present``; ``evaluate`` uses the eval generator, restarted per call.
* STDP generator (``stdp_lanes`` L_s lanes, ``prob_bits``; stochastic variants): at each post
  spike in learning mode, for each array a (LT first) it runs ``Q_s = ceil(n_in / L_s)``
  cycles; cycle ``q`` lane ``l`` is row ``i = q L_s + l`` of the winner's column, drawn
  whatever the row's state or LUT value.
* Negative window (``p_minus > 0``): at each input spike i in learning mode after the
  presentation's first post spike, for each array a (LT first) the STDP generator runs
  ``ceil(N / L_s)`` cycles; cycle ``q`` lane ``l`` is column ``j = q L_s + l`` of row i,
  drawn whatever the column's state or LUT value.
* Initial states from the init generator (as the STDP one) run once, cycle ``(a N + j) Q_s +
  q`` lane ``l`` for device (a, i = q L_s + l, j): binary P when the word < ``round(init_p
  2**P)``; levels ``rshift_round(word round(init_p (L-1) 2**8), P + 8)``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, fields
from functools import cached_property

import numpy as np

from golden.stdp_network import VARIANTS, StdpConfig, config_for
from quantize import _stdp_fast as _k
from quantize.lfsr import TAPS, LfsrBank, LfsrConfig

__all__ = ["QuantStdpConfig", "split_overrides", "QuantStdpNetwork", "leak_terms", "leak", "column_scale",
           "assign_labels", "predict", "run_experiment"]

_M64 = (1 << 64) - 1


def leak_terms(c: float, terms: int, max_shift: int = 30) -> tuple:
    """Signed power-of-two digits ``((e_1, s_1), ...)`` with ``sum s_k 2**-e_k ~ c``.

    Greedy: each term is the power of two (shift 1..max_shift) nearest the remainder, kept only
    if it shrinks the remainder; at most ``terms`` terms.
    """
    out, r = [], float(c)
    for _ in range(terms):
        if r == 0:
            break
        lo = min(max(int(math.floor(-math.log2(abs(r)))), 1), max_shift)
        e = min((lo, min(lo + 1, max_shift)), key=lambda e: abs(abs(r) - 2.0 ** -e))
        if abs(abs(r) - 2.0 ** -e) >= abs(r):
            break
        s = 1 if r > 0 else -1
        out.append((e, s))
        r -= s * 2.0 ** -e
    return tuple(out)


def leak(v, terms) -> np.ndarray:
    """One leak step ``v - sum_k s_k rshift_round(v, e_k)`` of int64 membranes (any shape)."""
    v = np.asarray(v, np.int64)
    d = np.zeros_like(v)
    for e, s in terms:
        d += s * ((v + (1 << (e - 1))) >> e)
    return v - d


def column_scale(total, config: "QuantStdpConfig") -> np.ndarray:
    """Per-code increments (membrane LSB) of columns whose codes sum to ``total`` (int, any
    shape), through the reciprocal ROM as the core computes them (module notes)."""
    ip = np.zeros(_k.IP_SIZE, np.int64)
    g = config.golden
    ip[_k.IP_RECIP_BITS], ip[_k.IP_NORMALISE] = config.recip_bits, int(g.normalise)
    ip[_k.IP_FIXED_SCALE] = config.fixed_scale
    if config.allspin is not None:
        ip[_k.IP_NORMALISE], ip[_k.IP_COL_OFFSET] = 1, config.allspin["col_offset"]
    recip = config.tables()["recip"]
    t = np.asarray(total, np.int64) + ip[_k.IP_COL_OFFSET]
    return np.array([_k.column_scale(int(x), ip, recip) for x in t.ravel()], np.int64).reshape(t.shape)


@dataclass(frozen=True)
class QuantStdpConfig:
    """Formats and choices of the integer STDP network (model and RTL are built from it).

    Parameters
    ----------
    variant : str
        ``"binary"``, ``"dw"`` or ``"ltst"`` (:func:`golden.stdp_network.config_for`).
    neurons : int
        Excitatory neurons N.
    seed : int
        Master seed of the LFSR generators (module notes), 0..2**64 - 1.
    golden_overrides : tuple of (str, value)
        :class:`golden.stdp_network.StdpConfig` fields replacing the variant's defaults.
    membrane_bits, membrane_frac : int
        Signed membrane width and fractional bits V (LSB ``2**-V`` weight units).
    theta_bits : int
        Unsigned theta width (same LSB as the membrane).
    input_bits, rate_bits : int
        Pixel code width b and rate code fraction R (input words have b + R bits).
    prob_bits : int
        STDP LUT and word width P.
    age_bits : int
        Saturating age counter width.
    leak_terms : int
        Shift-and-add terms of the leak (1..8).
    theta_shift : int or None
        Shift of the theta decay (None: chosen as in the module notes).
    recip_bits : int
        Address bits A of the normalisation reciprocal ROM.
    input_lanes, stdp_lanes : int
        LFSR lanes of the input and STDP generators.
    lfsr_widths : tuple of int
        Lengths of the LFSR banks XORed into each word (module notes); 1 to 3 distinct widths,
        each with ``min(TAPS[W]) >=`` the widest word.
    n_inputs_model : int
        All-spin network only: the crossbar rows whose AP floor loads each column (eq. 12's
        gamma; 784 for MNIST, 64 for the 8x8 digits).
    """

    variant: str = "binary"
    neurons: int = 225
    seed: int = 0
    golden_overrides: tuple = ()
    membrane_bits: int = 32
    membrane_frac: int = 16
    theta_bits: int = 32
    input_bits: int = 8
    rate_bits: int = 12
    prob_bits: int = 16
    age_bits: int = 8
    leak_terms: int = 4
    theta_shift: int | None = None
    recip_bits: int = 10
    input_lanes: int = 28
    stdp_lanes: int = 28
    lfsr_widths: tuple = (64, 63)
    n_inputs_model: int = 784

    def __post_init__(self):
        def bad(name, bound):
            raise ValueError(f"QuantStdpConfig.{name} must be {bound}, not {getattr(self, name)!r}")

        if self.variant not in VARIANTS:
            bad("variant", f"one of {VARIANTS}")
        for name, lo, hi in (("neurons", 1, 65535), ("seed", 0, _M64), ("membrane_bits", 8, 62),
                             ("theta_bits", 4, 62), ("input_bits", 1, 16), ("rate_bits", 1, 24),
                             ("prob_bits", 4, 32), ("age_bits", 1, 16), ("leak_terms", 1, 8),
                             ("recip_bits", 2, 20), ("input_lanes", 1, 4096), ("stdp_lanes", 1, 4096),
                             ("n_inputs_model", 1, 65536)):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not lo <= v <= hi:
                bad(name, f"an integer in {lo}..{hi}")
        if not 0 <= self.membrane_frac <= self.membrane_bits - 4:
            bad("membrane_frac", f"in 0..membrane_bits-4 = {self.membrane_bits - 4}")
        ts = self.theta_shift
        if ts is not None and not (isinstance(ts, int) and not isinstance(ts, bool) and 1 <= ts <= 30):
            bad("theta_shift", "None or an integer in 1..30")
        ws = self.lfsr_widths
        if not (isinstance(ws, tuple) and 1 <= len(ws) <= 3 and len(set(ws)) == len(ws)
                and all(isinstance(w, int) and 3 <= w <= 64 for w in ws)):
            bad("lfsr_widths", "a tuple of 1 to 3 distinct integers in 3..64")
        lim = min(min(TAPS[w]) for w in ws)
        if self.input_bits + self.rate_bits > lim:
            bad("rate_bits", f"<= min(TAPS[w] for lfsr_widths) - input_bits = {lim - self.input_bits}")
        if self.prob_bits > lim:
            bad("prob_bits", f"<= min(TAPS[w] for lfsr_widths) = {lim}")
        names = {f.name for f in fields(StdpConfig)} - {"neurons"}
        if not all(isinstance(p, tuple) and len(p) == 2 and p[0] in names for p in self.golden_overrides):
            bad("golden_overrides", "a tuple of (StdpConfig field other than neurons, value) pairs")
        g = self.golden  # validates the golden parameters themselves
        if g.inhibition != "wta":
            raise ValueError(f"QuantStdpConfig: inhibition must be 'wta' (the integer core's hard WTA), "
                             f"not {g.inhibition!r}")
        if g.neuron == "dw" and g.arrays != 1:
            raise ValueError(f"QuantStdpConfig: the all-spin (neuron='dw') integer model has one device array "
                             f"(binary or dw variant), not {g.arrays}")
        if not math.isinf(g.st_decay):
            raise ValueError(f"QuantStdpConfig: st_decay must be inf (non-volatile arrays), "
                             f"not {g.st_decay!r}")
        if g.stochastic and max(g.p_pot + g.p_dep + g.p_minus) > 0.1:
            raise ValueError(f"QuantStdpConfig: p_pot, p_dep and p_minus must be <= 0.1 (seed IV.2), "
                             f"not {max(g.p_pot + g.p_dep + g.p_minus)!r}")
        sig = np.asarray(g.significance) / min(g.significance)
        if np.any(np.abs(sig - np.rint(sig)) > 1e-9) or sig.max() > 127:
            raise ValueError(f"QuantStdpConfig: significance ratios must be integers <= 127, "
                             f"not {tuple(sig)!r}")
        if self.vth_code + self.theta_plus_code >= 2 ** (self.membrane_bits - 1):
            bad("membrane_bits", f"wide enough for v_th + theta_plus = {g.v_th + g.theta_plus} "
                                 f"at V = {self.membrane_frac}")
        if not self.leak:
            bad("membrane_bits", f"wide enough to shift out c = 1 - exp(-dt/tau_m) = "
                                 f"{-math.expm1(-g.dt / g.tau_m)!r}")

    @cached_property
    def golden(self) -> StdpConfig:
        """The golden network's parameters."""
        return config_for(self.variant, self.neurons, **dict(self.golden_overrides))

    @property
    def age_sat(self) -> int:
        return (1 << self.age_bits) - 1

    @property
    def vth_code(self) -> int:
        return int(math.floor(self.golden.v_th * 2 ** self.membrane_frac + 0.5))

    @property
    def theta_plus_code(self) -> int:
        return int(math.floor(self.golden.theta_plus * 2 ** self.membrane_frac + 0.5))

    @cached_property
    def allspin(self) -> dict | None:
        """The all-spin network's integer constants (neuron ``"dw"``; None for the LIF).

        The golden DW neuron adds ``v_th gain I / sqrt(I**2 + isat**2)`` per step; the integer
        model keeps its linear part (relative error ``(I / isat)**2 / 2``, below 1e-3 for
        I < 5.6 uA, ~ 13 unit weights at 0.42 uA each spiking in one step). With one array,
        eq. 12 gives per code (level) ``ratio / (offset + K_j)``: ``K_j`` the column's code
        sum, ``offset = (1 + gamma_floor) G_s (L - 1) / (G_P - G_AP)`` rounded (``col_offset``),
        ``ratio = 2**V v_th (gain / isat) dv sig G_s`` (``recip_c``, the reciprocal ROM's
        numerator). ``leak_code = round(2**V v_th leak)``, subtracted in steps without a
        spike, floored at 0.
        """
        g = self.golden
        if g.neuron != "dw":
            return None
        from golden.stdp_network import allspin_operating_point

        op = allspin_operating_point(g, self.n_inputs_model)
        d_g = op["g_p"] - op["g_ap"]
        offset = (1.0 + op["gamma_floor"]) * op["g_s"] * (g.levels - 1) / d_g
        ratio = (2.0 ** self.membrane_frac * g.v_th * op["gain"] / op["isat_A"] * g.read_voltage
                 * min(g.significance) * op["g_s"])
        return {"col_offset": int(math.floor(offset + 0.5)), "recip_c": ratio,
                "leak_code": int(math.floor(2.0 ** self.membrane_frac * g.v_th * op["leak"] + 0.5)),
                "operating_point": op}

    @property
    def fixed_scale(self) -> int:
        """Per-code increment without normalisation, round(2**V min(significance) / (L - 1))."""
        g = self.golden
        return int(math.floor(2.0 ** self.membrane_frac * min(g.significance) / (g.levels - 1) + 0.5))

    @cached_property
    def leak(self) -> tuple:
        """Leak terms ((shift, sign), ...) for c = 1 - exp(-dt / tau_m)."""
        g = self.golden
        return leak_terms(-math.expm1(-g.dt / g.tau_m), self.leak_terms, max_shift=self.membrane_bits - 2)

    @property
    def leak_decay(self) -> float:
        """The leak's exact per-step factor d_q = 1 - sum s_k 2**-e_k."""
        return 1.0 - sum(s * 2.0 ** -e for e, s in self.leak)

    @cached_property
    def theta_decay(self) -> tuple:
        """(shift, interval in images) of the homeostasis decay (module notes)."""
        g = self.golden
        per_image = (g.steps * g.dt + g.rest) / g.tau_theta

        def exact(s):
            return -math.log1p(-2.0 ** -s) / per_image

        if self.theta_shift is not None:
            return self.theta_shift, max(1, round(exact(self.theta_shift)))
        best = None
        for s in range(16, 0, -1):
            n_int = round(exact(s))
            err = abs(n_int / exact(s) - 1) if n_int >= 1 else math.inf
            if err <= 0.01:
                return s, n_int
            if best is None or err < best[0]:
                best = (err, s, max(1, n_int))
        return best[1], best[2]

    @property
    def rate_codes(self) -> np.ndarray:
        """q_r for attempts r = 0..max_retries, int64."""
        g = self.golden
        r = np.arange(g.max_retries + 1)
        return np.floor((g.max_rate + r * g.rate_step) * g.dt * 2 ** self.rate_bits + 0.5).astype(np.int64)

    @property
    def sig_codes(self) -> np.ndarray:
        g = self.golden
        return np.rint(np.asarray(g.significance) / min(g.significance)).astype(np.int64)

    def lfsr(self, gen: str) -> tuple:
        """The LfsrConfigs (one per width) of generator ``"input"``, ``"stdp"``, ``"init"`` or
        ``"eval"`` (module notes)."""
        kinds = ("input", "stdp", "init", "eval")
        if gen not in kinds:
            raise ValueError(f"generator must be one of {kinds}, not {gen!r}")
        x = kinds.index(gen)
        lanes, bits = ((self.input_lanes, self.input_bits + self.rate_bits) if x in (0, 3)
                       else (self.stdp_lanes, self.prob_bits))
        return tuple(LfsrConfig(w, lanes, bits, (self.seed + x + 4 * b) & _M64)
                     for b, w in enumerate(self.lfsr_widths))

    def tables(self) -> dict:
        """The ROM contents: ``pot``, ``dep``, ``dwd`` (arrays, sat + 1) and ``recip``
        (2**recip_bits + 1,), int64."""
        g = self.golden
        sat, p2 = self.age_sat, 2 ** self.prob_bits
        lag = np.arange(sat + 1) * g.dt          # as the golden kernel's table
        x = np.exp(-lag[None, :] / np.asarray(g.tau_plus)[:, None])
        x[:, sat] = 0.0                          # "never / too old"
        pp, pd = np.asarray(g.p_pot)[:, None], np.asarray(g.p_dep)[:, None]
        pot = np.floor(pp * x * p2 + 0.5).astype(np.int64)
        dep = np.floor(pd * (1 - x) * p2 + 0.5).astype(np.int64)
        dwd = np.rint((pp * x - pd * (1.0 - x)) * (g.levels - 1)).astype(np.int64)
        y = np.exp(-lag[None, :] / np.asarray(g.tau_minus)[:, None])
        y[:, sat] = 0.0
        pm = np.asarray(g.p_minus)[:, None]
        neg = (np.floor(pm * y * p2 + 0.5) if g.stochastic else np.rint(pm * y * (g.levels - 1))).astype(np.int64)
        idx = np.arange(2 ** self.recip_bits + 1)
        c = g.norm_target * 2.0 ** self.membrane_frac if self.allspin is None else self.allspin["recip_c"]
        recip = np.where(idx > 0, np.floor(c / np.maximum(idx, 1) + 0.5), 0).astype(np.int64)
        return {"pot": pot, "dep": dep, "dwd": dwd, "neg": neg, "recip": recip}

    def summary(self) -> dict:
        """JSON-ready formats and derived constants."""
        out = {k: (list(map(list, v)) if k == "golden_overrides" else v) for k, v in asdict(self).items()}
        g = self.golden
        out.update(leak=[list(t) for t in self.leak], leak_decay=self.leak_decay,
                   tau_m_effective=-g.dt / math.log(self.leak_decay), theta_decay=list(self.theta_decay),
                   rate_codes=self.rate_codes.tolist(), vth_code=self.vth_code,
                   theta_plus_code=self.theta_plus_code, sig_codes=self.sig_codes.tolist())
        if self.allspin is not None:
            out["allspin"] = self.allspin
        return out


class QuantStdpNetwork:
    """The integer STDP network: device states, column registers, theta and LFSR banks.

    Parameters
    ----------
    config : QuantStdpConfig
    n_inputs : int
        Input pixels (784 for MNIST, 64 for the 8x8 digits).

    Attributes
    ----------
    states : int8 (arrays, n_inputs, neurons)   device states (binary: 0 AP, 1 P; DW: level)
    colsum, scale : int64 (neurons,)            column code sums K_j and per-code increments
    winc : int64 (n_inputs, neurons)            membrane increment of each synapse, c_ij scale_j
    theta : int64 (neurons,)                    adaptive thresholds (membrane LSB)
    stats : int64 (arrays, 4)                   potentiations, depressions, pulses, DW notches
    counters : int64 (3,)                       theta-decay image counter, v and theta saturations
    banks : dict of uint64 (banks, lanes)       LFSR lane states ("input", "stdp")
    """

    def __init__(self, config: QuantStdpConfig, n_inputs: int):
        if not (isinstance(n_inputs, (int, np.integer)) and n_inputs >= 1):
            raise ValueError(f"n_inputs must be an integer >= 1, not {n_inputs!r}")
        self.config = c = config
        self.n_inputs = n = int(n_inputs)
        g = c.golden
        self.arrays = g.arrays
        t = c.tables()
        self._pot, self._dep, self._dwd, self._neg, self._recip = t["pot"], t["dep"], t["dwd"], t["neg"], t["recip"]
        self._sig = c.sig_codes
        self._leak = np.array(c.leak, np.int64).reshape(-1, 2)
        self._rates = c.rate_codes
        self._widths = np.array(c.lfsr_widths, np.int64)
        self._taps = np.zeros((len(c.lfsr_widths), 4), np.int64)
        for b, w in enumerate(c.lfsr_widths):
            self._taps[b, :len(TAPS[w])] = TAPS[w]
        ip = np.zeros(_k.IP_SIZE, np.int64)
        ip[_k.IP_STEPS], ip[_k.IP_REF] = g.steps, int(round(g.t_ref / g.dt))
        ip[_k.IP_MIN_SPIKES], ip[_k.IP_RETRIES] = g.min_spikes, g.max_retries
        ip[_k.IP_LEVELS], ip[_k.IP_STOCH] = g.levels, int(g.stochastic)
        ip[_k.IP_VTH], ip[_k.IP_THETA_PLUS] = c.vth_code, c.theta_plus_code
        ip[_k.IP_VMAX], ip[_k.IP_THETA_MAX] = 2 ** (c.membrane_bits - 1) - 1, 2 ** c.theta_bits - 1
        ip[_k.IP_AGE_SAT] = c.age_sat
        ip[_k.IP_IN_BITS], ip[_k.IP_IN_LANES] = c.input_bits + c.rate_bits, c.input_lanes
        ip[_k.IP_P_BITS], ip[_k.IP_S_LANES] = c.prob_bits, c.stdp_lanes
        ip[_k.IP_THETA_SHIFT], ip[_k.IP_THETA_INTERVAL] = c.theta_decay
        ip[_k.IP_RECIP_BITS], ip[_k.IP_NORMALISE] = c.recip_bits, int(g.normalise)
        ip[_k.IP_FIXED_SCALE] = c.fixed_scale
        ip[_k.IP_NEG] = int(any(p > 0 for p in g.p_minus))
        if c.allspin is not None:
            if n != c.n_inputs_model:
                raise ValueError(f"n_inputs must be config.n_inputs_model = {c.n_inputs_model} "
                                 f"(the all-spin crossbar's rows), not {n}")
            ip[_k.IP_NEURON] = _k.NEURON_DW
            ip[_k.IP_NORMALISE], ip[_k.IP_COL_OFFSET] = 1, c.allspin["col_offset"]
            ip[_k.IP_DW_LEAK] = c.allspin["leak_code"]
        self._ip = ip
        self.states = self._initial_states()
        self.theta = np.zeros(g.neurons, np.int64)
        self.stats = np.zeros((self.arrays, _k.ST_SIZE), np.int64)
        self.counters = np.zeros(_k.CT_SIZE, np.int64)
        self.colsum = np.zeros(g.neurons, np.int64)
        self.scale = np.zeros(g.neurons, np.int64)
        self.winc = np.zeros((n, g.neurons), np.int64)
        self.presentations = 0
        self.last_attempts = None
        self.last_trace = None
        self.reset_banks()
        self.refresh_weights()

    # set-up -------------------------------------------------------------------------------
    def _initial_states(self) -> np.ndarray:
        c, g, n = self.config, self.config.golden, self.n_inputs
        q = -(-n // c.stdp_lanes)
        words = 0
        for cfg in c.lfsr("init"):
            words = words ^ LfsrBank(cfg).run(self.arrays * g.neurons * q)      # (cycles, lanes)
        words = words.reshape(self.arrays, g.neurons, q * c.stdp_lanes)[:, :, :n]  # (a, j, i)
        if g.levels == 2:
            k = words < int(math.floor(g.init_p * 2 ** c.prob_bits + 0.5))
        else:
            m = int(math.floor(g.init_p * (g.levels - 1) * 256 + 0.5))
            sh = c.prob_bits + 8
            k = (words * m + (1 << (sh - 1))) >> sh
        return np.ascontiguousarray(k.transpose(0, 2, 1)).astype(np.int8)

    def _seeds(self, gen):
        return np.array([cfg.seeds for cfg in self.config.lfsr(gen)], np.uint64)

    def reset_banks(self) -> None:
        """Reload the input and STDP generators' seeds (the RTL's reseed)."""
        self.banks = {gen: self._seeds(gen) for gen in ("input", "stdp")}

    def eval_bank(self) -> np.ndarray:
        """Fresh lane states (banks, lanes) of the evaluation input generator."""
        return self._seeds("eval")

    def refresh_weights(self) -> None:
        """Recompute colsum, scale and winc from :attr:`states` (after editing the states)."""
        for j in range(self.config.neurons):
            _k.refresh_column(self.states, self._sig, self.winc, self.colsum, self.scale, self._ip,
                              self._recip, j)

    def pixel_codes(self, images) -> np.ndarray:
        """Images (n_img, ...) in [0, 1] -> pixel codes int64 (n_img, n_inputs)."""
        x = np.asarray(images)
        x = x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(1, -1)
        if x.shape[1] != self.n_inputs:
            raise ValueError(f"images must have {self.n_inputs} pixels each, not {x.shape[1]}")
        if x.size and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"image pixels must be in [0, 1], not [{x.min()!r}, {x.max()!r}]")
        b = self.config.input_bits
        return np.minimum(2 ** b - 1, np.floor(x.astype(np.float64) * 2 ** b + 0.5)).astype(np.int64)

    # running ------------------------------------------------------------------------------
    def present(self, images, *, learn: bool, record=False, bank=None, chunk: int = 1000, progress=None):
        """Present images in order; return spike counts int32 (n_img, neurons).

        ``learn``: STDP and homeostasis on. ``bank``: input-generator lane states (uint64
        (banks, lanes), updated in place) to use instead of the network's own. ``record``
        (True or ``"full"``) fills :attr:`last_trace`, the trace the RTL is compared with: per
        image, attempt (``retries + 1``) and step, ``winner`` int64 (-1: no spike),
        ``input_spikes``, ``updates`` (devices changed) and ``neg_updates`` (of them, by the
        negative window); ``"full"`` adds ``raster`` bool
        (.., steps, n_inputs) and ``membrane`` int64 (.., steps, neurons), the membranes
        before the threshold; ``attempts`` (n_img,) says how many attempts are used.
        """
        pix = self.pixel_codes(images)
        g = self.config.golden
        n_img, n = pix.shape[0], g.neurons
        counts = np.zeros((n_img, n), np.int32)
        attempts = np.zeros(n_img, np.int64)
        r_all = g.max_retries + 1
        full = record == "full"
        shp = (n_img, r_all, g.steps) if record else (0, 0, 0)
        rw = np.full(shp, -1, np.int64)
        rn, ru, rg = np.zeros(shp, np.int64), np.zeros(shp, np.int64), np.zeros(shp, np.int64)
        rr = np.zeros(shp + (self.n_inputs,) if full else (0, 0, 0, 0), np.bool_)
        rv = np.zeros(shp + (n,) if full else (0, 0, 0, 0), np.int64)
        in_state = self.banks["input"] if bank is None else bank
        for s in range(0, n_img, chunk):
            e = min(n_img, s + chunk)
            sl = slice(s, e) if record else slice(0, 0)
            _k.present_chunk(pix[s:e], self.states, self.winc, self.colsum, self.scale, self.theta,
                             self._ip, self._leak, self._rates, self._pot, self._dep, self._dwd,
                             self._neg, self._sig, self._recip, self._widths, self._taps, in_state, self.banks["stdp"],
                             bool(learn), counts[s:e], attempts[s:e], self.stats, self.counters,
                             rw[sl], rn[sl], ru[sl], rg[sl], rr[sl] if full else rr, rv[sl] if full else rv)
            if progress is not None:
                progress(e, n_img)
        self.presentations += int(attempts.sum())
        self.last_attempts = attempts
        self.last_trace = None
        if record:
            self.last_trace = {"winner": rw, "input_spikes": rn, "updates": ru, "neg_updates": rg,
                               "attempts": attempts}
            if full:
                self.last_trace.update(raster=rr, membrane=rv)
        return counts

    def train(self, images, progress=None):
        """Present with learning on; returns the spike counts (n_img, neurons)."""
        return self.present(images, learn=True, progress=progress)

    def evaluate(self, label_images, labels, test_images, test_labels, n_classes: int = 10) -> dict:
        """Frozen network: assign labels, classify the test images (one fresh eval bank, label
        images first). Returns accuracy, assignments, test counts and predictions."""
        bank = self.eval_bank()
        assignments = assign_labels(self.present(label_images, learn=False, bank=bank), labels, n_classes)
        counts = self.present(test_images, learn=False, bank=bank)
        pred = predict(counts, assignments, n_classes)
        return {"accuracy": float(np.mean(pred == np.asarray(test_labels))), "assignments": assignments,
                "test_counts": counts, "predictions": pred}

    def post_spike(self, j: int, ages) -> int:
        """Apply the STDP engine to column j for the given input ages (n_inputs,), ages >=
        ``age_sat`` meaning never; uses the STDP bank. Returns the devices changed."""
        ages = np.asarray(ages, np.int64).reshape(-1)
        if ages.size != self.n_inputs:
            raise ValueError(f"ages must have {self.n_inputs} values, not {ages.size}")
        sat = self.config.age_sat
        last = np.where(ages >= sat, -1, sat - np.minimum(ages, sat)).astype(np.int64)
        ls = self.config.stdp_lanes
        ch = _k.stdp_column(self.states, int(j), sat, last, self._ip, self._pot, self._dep, self._dwd,
                            self._sig, self.banks["stdp"], self._widths, self._taps, self.stats,
                            np.empty(-(-self.n_inputs // ls) * ls, np.int64), np.empty(ls, np.uint64))
        _k.refresh_column(self.states, self._sig, self.winc, self.colsum, self.scale, self._ip, self._recip,
                          int(j))
        return int(ch)

    def pre_spike(self, i: int, post_ages) -> int:
        """Apply the negative window (eq. 9, dt < 0) to row i for the given ages of each
        neuron's latest post spike (neurons,), ages < 0 meaning "not fired in this
        presentation"; uses the STDP bank. Returns the devices changed."""
        ages = np.asarray(post_ages, np.int64).reshape(-1)
        n = self.config.neurons
        if ages.size != n:
            raise ValueError(f"post_ages must have {n} values, not {ages.size}")
        t = self.config.age_sat
        last = np.where(ages < 0, -1, t - np.minimum(ages, t)).astype(np.int64)
        ls = self.config.stdp_lanes
        dirty = np.zeros(n, np.bool_)
        ch = _k.stdp_row(self.states, int(i), t, last, self._ip, self._neg, self.banks["stdp"], self._widths,
                         self._taps, self.stats, np.empty(-(-n // ls) * ls, np.int64), np.empty(ls, np.uint64),
                         dirty)
        for j in np.flatnonzero(dirty):
            _k.refresh_column(self.states, self._sig, self.winc, self.colsum, self.scale, self._ip, self._recip,
                              int(j))
        return int(ch)

    def switching_events(self) -> int:
        """Device state changes so far (binary switches; DW pulses that moved the wall)."""
        return int(self.stats[:, _k.ST_POT].sum() + self.stats[:, _k.ST_DEP].sum())

    def programming_energy(self) -> dict:
        """Programming energy so far, J (priced as the golden network's ``programming_energy``)."""
        from golden.devices import dw_synapse, mtj_neuron

        g = self.config.golden
        if g.levels == 2:
            e = float(mtj_neuron().write_energy(g.write_current))
            return {"energy_per_event_J": e, "energy_J": e * self.switching_events(),
                    "energy_all_pulses_J": e * int(self.stats[:, _k.ST_ATTEMPTS].sum())}
        dev = dw_synapse(g.levels)
        e = float(dev.write_energy(dev.traverse_current(2e-9), 2e-9 / (g.levels - 1)))
        steps = int(self.stats[:, _k.ST_LEVEL_STEPS].sum())
        return {"energy_per_event_J": e, "energy_J": e * steps, "energy_all_pulses_J": e * steps}


# read-out -----------------------------------------------------------------------------------
def assign_labels(counts, labels, n_classes: int = 10) -> np.ndarray:
    """Class of each neuron by exact integer comparison of mean counts (module notes).

    counts (n_img, N) int, labels (n_img,) -> (N,) int64, -1 for neurons that never fired.
    """
    counts = np.asarray(counts, np.int64)
    labels = np.asarray(labels)
    best = np.full(counts.shape[1], -1, np.int64)
    best_s = np.zeros(counts.shape[1], np.int64)
    best_n = np.ones(counts.shape[1], np.int64)     # current best mean best_s / best_n (0 / 1)
    for c in range(n_classes):
        sel = labels == c
        n_c = int(sel.sum())
        if n_c == 0:
            continue
        s_c = counts[sel].sum(axis=0)
        win = s_c * best_n > best_s * n_c
        best = np.where(win, c, best)
        best_s = np.where(win, s_c, best_s)
        best_n = np.where(win, n_c, best_n)
    return best


def predict(counts, assignments, n_classes: int = 10) -> np.ndarray:
    """Class whose assigned neurons have the largest mean count, exact integers (ties: lowest
    class; 0 if no neuron is assigned). (n_img, N) -> (n_img,) int64."""
    counts = np.asarray(counts, np.int64)
    assignments = np.asarray(assignments)
    best = np.full(counts.shape[0], -1, np.int64)
    best_s = np.zeros(counts.shape[0], np.int64)
    best_m = np.ones(counts.shape[0], np.int64)
    for c in range(n_classes):
        sel = assignments == c
        m_c = int(sel.sum())
        if m_c == 0:
            continue
        s_c = counts[:, sel].sum(axis=1)
        win = (best < 0) | (s_c * best_m > best_s * m_c)
        best = np.where(win, c, best)
        best_s = np.where(win, s_c, best_s)
        best_m = np.where(win, m_c, best_m)
    return np.maximum(best, 0)


# experiment ---------------------------------------------------------------------------------
def split_overrides(overrides: dict) -> tuple[dict, tuple]:
    """``overrides`` split into :class:`QuantStdpConfig` format fields (a dict) and golden
    ``StdpConfig`` fields (``golden_overrides``: a tuple of (name, value), lists as tuples);
    ValueError for a name that is neither."""
    qnames = {f.name for f in fields(QuantStdpConfig)} - {"variant", "neurons", "golden_overrides"}
    gnames = {f.name for f in fields(StdpConfig)} - {"neurons"}
    q, gl = {}, []
    for k, v in overrides.items():
        if k in qnames:
            q[k] = v
        elif k in gnames:
            gl.append((k, tuple(v) if isinstance(v, list) else v))
        else:
            raise ValueError(f"unknown QuantStdpConfig or StdpConfig field {k!r}")
    return q, tuple(gl)


def run_experiment(neurons: int = 225, variant: str = "binary", train_images: int = 60000,
                   test_images: int = 10000, seed: int = 0, *, label_images: int | None = None,
                   checkpoints=None, data=None, progress=None, **overrides) -> dict:
    """Train on MNIST (or ``data``), assign labels, test; as
    :func:`golden.stdp_network.run_experiment` (same image order for the same seed).

    ``overrides`` are :class:`QuantStdpConfig` format fields or golden ``StdpConfig`` fields;
    the LFSR master seed is ``seed``. Returns accuracy, timings, switching, energy, the
    curve at ``checkpoints``, saturation counts and the formats.
    """
    for name, v in (("train_images", train_images), ("test_images", test_images)):
        if not (isinstance(v, (int, np.integer)) and v >= 1):
            raise ValueError(f"{name} must be an integer >= 1, not {v!r}")
    qkw, gov = split_overrides(overrides)
    cfg = QuantStdpConfig(variant=variant, neurons=neurons, seed=seed, golden_overrides=gov, **qkw)
    if data is None:
        from spinbase.data import load_mnist  # the data loader sits above quantize in the flow

        (xt, yt), (xs, ys) = load_mnist()
    else:
        xt, yt, xs, ys = data
    if test_images > len(xs):
        raise ValueError(f"test_images must be <= {len(xs)}, not {test_images}")
    label_images = min(train_images, 10000) if label_images is None else label_images
    if not 1 <= label_images <= len(xt):
        raise ValueError(f"label_images must be in 1..{len(xt)}, not {label_images}")
    perm = np.random.default_rng(seed).permutation(len(xt))   # host-side order, as the golden's
    order = perm[np.arange(train_images) % len(xt)]
    marks = sorted({int(m) for m in (checkpoints or ())} | {train_images})
    if marks[0] < 1 or marks[-1] > train_images:
        raise ValueError(f"checkpoints must be in 1..train_images={train_images}, not {checkpoints!r}")
    net = QuantStdpNetwork(cfg, int(np.prod(xt.shape[1:])))
    lab = perm[:label_images]
    t_train, done, curve, spikes, pres = 0.0, 0, [], 0.0, 0
    for mark in marks:
        t0 = time.perf_counter()
        for b in range(done, mark, 10000):
            e = min(mark, b + 10000)
            spikes += float(net.train(xt[order[b:e]]).sum())
            pres += int(net.last_attempts.sum())
            if progress:
                progress("train", e, train_images)
        t_train += time.perf_counter() - t0
        done = mark
        t0 = time.perf_counter()
        ev = net.evaluate(xt[lab], yt[lab], xs[:test_images], ys[:test_images])
        t_eval = time.perf_counter() - t0
        energy = net.programming_energy()
        curve.append({"train_images": mark, "accuracy": ev["accuracy"],
                      "switching_events": net.switching_events(),
                      "energy_J": energy["energy_J"], "train_seconds": t_train})
        if progress:
            progress("evaluate", mark, train_images)
    acc = ev["accuracy"]
    return {
        "model": "quantize.stdp", "variant": variant, "neurons": neurons, "seed": seed,
        "train_images": train_images, "label_images": label_images, "test_images": test_images,
        "accuracy": acc, "accuracy_se": math.sqrt(acc * (1 - acc) / test_images),
        "train_seconds": t_train, "evaluate_seconds": t_eval, "train_presentations": pres,
        "mean_train_spikes": spikes / train_images,
        "mean_test_spikes": float(ev["test_counts"].sum(axis=1).mean()),
        "neurons_assigned": int((ev["assignments"] >= 0).sum()),
        "devices": int(net.states.size), "switching_events": net.switching_events(),
        "potentiations": int(net.stats[:, _k.ST_POT].sum()),
        "depressions": int(net.stats[:, _k.ST_DEP].sum()),
        "programming_pulses": int(net.stats[:, _k.ST_ATTEMPTS].sum()),
        "membrane_saturations": int(net.counters[_k.CT_V_SAT]),
        "theta_saturations": int(net.counters[_k.CT_THETA_SAT]),
        "theta_max": int(net.theta.max()), **energy, "curve": curve, "formats": cfg.summary(),
    }
