"""Bit-exact integer model of the pipelined macrospin integrator (the RTL's reference).

One magnet-step is a stochastic Heun step of the normalised LLG equation
(:mod:`quantize.normalise`) in fixed point, with divider-free renormalisation:

1. ``h_th = sigma * g``                           (g: three Gaussian noise samples)
2. RHS ``f(m)``: ``h = a*m + h_ext + h_th``; ``b = kb * code``; ``h1 = h - alpha b p``,
   ``h2 = h + (1/alpha) b p``; ``x = m x h1``; ``d = m.h2``; ``y = m d - h2``;
   ``dm = -c x - (c alpha) y``
3. ``k1 = f(m)``; ``m~ = m + k1``; ``k2 = f(m~)`` (same noise: Stratonovich);
   ``m' = m + (k1 + k2) / 2``
4. renormalise: ``s = |m'|^2``, ``m'' = m' (3 - s) / 2`` (one Newton step towards 1/sqrt(s)).

Every product and sum is followed by a :func:`quantize.fixed.resize` with the config's
rounding and saturation, in exactly the order listed in :meth:`MacrospinModel.step`; the RTL
mirrors each one with :mod:`hdl.fixed`. Saturations are counted per named node.

Arrays: magnetisations (N, 3) int64 in ``cfg.m_fmt``; noise (N, 3) int64 in the noise
format; drive codes (N,) int64 in ``cfg.drive_fmt`` (one LSB = ``cfg.current_lsb`` amperes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from golden.llg import MacrospinParams

from .fixed import Fixed, add, mul, resize
from .normalise import NormalisedMacrospin, normalise

__all__ = ["MacrospinConfig", "MacrospinConstants", "MacrospinModel", "const_format", "run_fast", "run_phases",
           "current_codes", "switching_probability_quantised", "reference_stream"]


def const_format(value: float, width: int) -> Fixed:
    """Signed format of ``width`` bits with the most fractional bits that still hold ``value``."""
    mag = abs(value)
    if mag == 0:
        return Fixed(width, width - 2)
    int_bits = math.floor(math.log2(mag)) + 1  # bits left of the point (negative for |value| < 1/2)
    frac = width - 1 - int_bits
    f = Fixed(width, frac)
    if round(value * 2.0**frac) > f.max_int or round(value * 2.0**frac) < f.min_int:
        f = Fixed(width, frac - 1)
    return f


@dataclass(frozen=True)
class MacrospinConfig:
    """Formats and sizes of the hardware macrospin integrator.

    Parameters
    ----------
    m_fmt : Fixed
        Magnetisation components (range must cover [-1, 1] with margin).
    h_fmt : Fixed
        Fields in units of H_N (deterministic + thermal + drive), and the drive b.
    dm_fmt : Fixed
        Per-RHS increments c * (...).
    norm_fmt : Fixed
        |m|^2 and the renormalisation factor (3 - s) / 2.
    const_width : int
        Width of every constant (a_i, h_ext_i, sigma, kb, alpha, 1/alpha, c, c alpha); each gets
        the most fractional bits its value allows (:func:`const_format`).
    drive_fmt : Fixed
        Drive-current code (signed integer), one LSB = ``current_lsb`` A.
    current_lsb : float
        Amperes per drive-code LSB.
    rounding : str
        Rounding of every resize ("round_half_up": unbiased except for exact ties).
    lanes : int
        Parallel integrator lanes K.
    magnets : int
        Magnets time-multiplexed per lane N (>= the pipeline latency).
    dsp_per_lane : int
        RTL mapping only (the arithmetic is the same): at most this many of a lane's 30
        variable-by-variable products become DSP multipliers (one ECP5 MULT18X18D each at
        18-bit formats); the rest are pipelined LUT multipliers (``hdl.lutmul``), in datapath
        order (the renormalisation's last). The default puts every product on a DSP block.
    """

    m_fmt: Fixed = Fixed(24, 22)
    h_fmt: Fixed = Fixed(26, 16)
    dm_fmt: Fixed = Fixed(28, 30)
    norm_fmt: Fixed = Fixed(26, 23)
    const_width: int = 18
    drive_fmt: Fixed = Fixed(16, 0)
    current_lsb: float = 0.1e-6
    rounding: str = "round_half_up"
    lanes: int = 1
    magnets: int = 16
    dsp_per_lane: int = 64

    def __post_init__(self):
        if not 8 <= self.m_fmt.width <= 32 or not self.m_fmt.signed:
            raise ValueError(f"state width must be 8..32 signed bits, not {self.m_fmt.width}")
        if self.m_fmt.max < 1.5:
            raise ValueError(f"m_fmt must hold +-1.5 for headroom, not max {self.m_fmt.max}")
        if not 8 <= self.const_width <= 32:
            raise ValueError(f"constant width must be 8..32 bits, not {self.const_width}")
        if self.rounding not in ("trunc", "round_half_up"):
            raise ValueError(f"rounding must be 'trunc' or 'round_half_up', not {self.rounding!r}")
        if not 1 <= self.lanes <= 64:
            raise ValueError(f"lanes must be 1..64, not {self.lanes}")
        if not 1 <= self.magnets <= 65536:
            raise ValueError(f"magnets per lane must be 1..65536, not {self.magnets}")
        if not 0 <= self.dsp_per_lane <= 1024:
            raise ValueError(f"DSP products per lane must be 0..1024, not {self.dsp_per_lane}")
        if not self.current_lsb > 0:
            raise ValueError(f"current_lsb must be > 0 A, not {self.current_lsb}")


@dataclass(frozen=True)
class MacrospinConstants:
    """The quantised constants of one device and step, with their formats.

    Build with :meth:`from_params`; ``ints[name]`` and ``fmts[name]`` for name in
    ``("a0", "a1", "a2", "hx0", "hx1", "hx2", "sigma", "kb", "alpha", "inv_alpha", "c", "c_alpha")``,
    plus ``"kb2"`` for a magnet with a second drive channel (``nm2`` set).

    Second drive channel (the preset/evaluate step neuron, seed Ref. 101): a second charge
    current through another terminal whose spins lie along another axis, e.g. the heavy-metal
    preset current (SOT, spins +y) and the MTJ evaluation current (STT, spins +z) of
    :class:`golden.devices.StepNeuron`. ``nm2`` is the normalisation of the same magnet with
    the second channel's polarisation and spin efficiency: its ``p_axis``, ``p_sign`` and
    ``b_per_amp`` (constant ``kb2``) are the channel's; every other field equals ``nm``'s.
    """

    nm: NormalisedMacrospin
    ints: dict = field(compare=False)
    fmts: dict = field(compare=False)
    nm2: NormalisedMacrospin | None = None

    @classmethod
    def from_params(cls, cfg: MacrospinConfig, params: MacrospinParams, dt: float,
                    drive2: MacrospinParams | None = None) -> "MacrospinConstants":
        """Quantise ``params`` at step ``dt`` (s); ``drive2``: the same magnet as seen by a second
        drive channel (only its polarisation and spin efficiency may differ), or None."""
        nm = normalise(params, dt)
        values = {
            "a0": nm.a[0], "a1": nm.a[1], "a2": nm.a[2],
            "hx0": nm.h_ext[0], "hx1": nm.h_ext[1], "hx2": nm.h_ext[2],
            "sigma": nm.sigma_h, "kb": nm.b_per_amp * cfg.current_lsb,
            "alpha": nm.alpha, "inv_alpha": 1.0 / nm.alpha, "c": nm.c, "c_alpha": nm.c * nm.alpha,
        }
        nm2 = None
        if drive2 is not None:
            nm2 = normalise(drive2, dt)
            same = ("h_norm", "a", "h_ext", "easy_axis", "easy_sign", "alpha", "dtau", "c", "sigma_h", "dt")
            diff = [k for k in same if getattr(nm2, k) != getattr(nm, k)]
            if diff:
                raise ValueError("the second drive channel must act on the same magnet (only the polarization and "
                                 f"spin efficiency may differ), not one that differs in {', '.join(diff)}")
            values["kb2"] = nm2.b_per_amp * cfg.current_lsb
        fmts = {k: const_format(v, cfg.const_width) for k, v in values.items()}
        ints = {k: int(fmts[k].to_int(v)) for k, v in values.items()}
        return cls(nm=nm, ints=ints, fmts=fmts, nm2=nm2)

    def value(self, name: str) -> float:
        """The quantised value of a constant, as a float."""
        return float(self.fmts[name].to_float(self.ints[name]))


class MacrospinModel:
    """Integer reference of the integrator datapath for one device preset.

    Parameters
    ----------
    cfg : MacrospinConfig
    consts : MacrospinConstants
    noise_fmt : Fixed
        Format of the Gaussian noise samples fed to :meth:`step`.
    noise_variance : float
        Exact variance of those samples in real units (the approximation's, e.g. 1 - 4^-b);
        sigma is divided by its square root so the thermal field has the golden variance.
    """

    def __init__(self, cfg: MacrospinConfig, consts: MacrospinConstants, noise_fmt: Fixed, noise_variance: float = 1.0):
        self.cfg = cfg
        self.k = consts
        self.noise_fmt = noise_fmt
        self.ints, self.fmts = dict(consts.ints), dict(consts.fmts)
        if noise_variance != 1.0:
            sig = consts.nm.sigma_h / math.sqrt(noise_variance)
            f = const_format(sig, cfg.const_width)
            self.ints["sigma"], self.fmts["sigma"] = int(f.to_int(sig)), f
        self.saturations: dict[str, int] = {}
        e = np.zeros(3, dtype=np.int64)
        e[consts.nm.easy_axis] = consts.nm.easy_sign * (1 << cfg.m_fmt.frac)
        self.m_reset = e

    # -- helpers ------------------------------------------------------------------------------
    def _count(self, name, n):
        if n:
            self.saturations[name] = self.saturations.get(name, 0) + n

    def _mulc(self, x, fx, name, out, node):
        v, n = mul(x, fx, self.ints[name], self.fmts[name], out, self.cfg.rounding)
        self._count(node, n)
        return v

    def _mul(self, x, fx, y, fy, out, node):
        v, n = mul(x, fx, y, fy, out, self.cfg.rounding)
        self._count(node, n)
        return v

    def _add(self, x, fx, y, fy, out, node):
        v, n = add(x, fx, y, fy, out, self.cfg.rounding)
        self._count(node, n)
        return v

    def _sub(self, x, fx, y, fy, out, node):
        return self._add(x, fx, -np.asarray(y, dtype=np.int64), fy, out, node)

    @property
    def two_drives(self) -> bool:
        """True if the magnet has a second drive channel (``code2``; :class:`MacrospinConstants`)."""
        return self.k.nm2 is not None

    # -- datapath ----------------------------------------------------------------------------
    def drive(self, code, const: str = "kb", tag: str = ""):
        """b = kb * code in h_fmt, and the two axis offsets alpha b and b / alpha. Shapes (N,).

        ``const="kb2"``, ``tag="2"``: the same for the second drive channel (nodes ``b2``, ...)."""
        c = self.cfg
        b = self._mulc(code, c.drive_fmt, const, c.h_fmt, "b" + tag)
        u1 = self._mulc(b, c.h_fmt, "alpha", c.h_fmt, "alpha_b" + tag)
        u2 = self._mulc(b, c.h_fmt, "inv_alpha", c.h_fmt, "b_over_alpha" + tag)
        return u1, u2

    def thermal(self, g):
        """h_th = sigma g in h_fmt, shape (N, 3)."""
        return self._mulc(g, self.noise_fmt, "sigma", self.cfg.h_fmt, "h_th")

    def rhs(self, m, h_th, u1, u2, v1=None, v2=None):
        """One RHS evaluation: the increment dm (N, 3) in dm_fmt (see the module docstring).

        ``v1``, ``v2``: the second drive channel's alpha b2 and b2 / alpha (two-drive magnets),
        applied on its axis after the first channel's: h1 -= alpha b2 p2, h2 += (b2 / alpha) p2."""
        c, k = self.cfg, self.k
        mf, hf = c.m_fmt, c.h_fmt
        h = np.empty_like(m)
        for i in range(3):
            hd = self._mulc(m[:, i], mf, f"a{i}", hf, f"h_anis{i}")
            hd = self._add(hd, hf, self.ints[f"hx{i}"], self.fmts[f"hx{i}"], hf, f"h_det{i}")
            h[:, i] = self._add(hd, hf, h_th[:, i], hf, hf, f"h{i}")
        ax, sgn = k.nm.p_axis, k.nm.p_sign
        h1 = h.copy()
        h2 = h.copy()
        h1[:, ax] = self._sub(h[:, ax], hf, sgn * u1, hf, hf, "h1p")
        h2[:, ax] = self._add(h[:, ax], hf, sgn * u2, hf, hf, "h2p")
        if v1 is not None:
            ax2, sgn2 = k.nm2.p_axis, k.nm2.p_sign
            h1[:, ax2] = self._sub(h1[:, ax2], hf, sgn2 * v1, hf, hf, "h1q")
            h2[:, ax2] = self._add(h2[:, ax2], hf, sgn2 * v2, hf, hf, "h2q")
        pf = Fixed(mf.width + hf.width, mf.frac + hf.frac)  # exact m*h products
        x = np.empty_like(m)
        for i in range(3):
            j, l = (i + 1) % 3, (i + 2) % 3
            p1 = m[:, j] * h1[:, l]
            p2 = m[:, l] * h1[:, j]
            x[:, i], n = resize(p1 - p2, pf, hf, c.rounding)
            self._count(f"cross{i}", n)
        dot = m[:, 0] * h2[:, 0] + m[:, 1] * h2[:, 1] + m[:, 2] * h2[:, 2]
        d, n = resize(dot, pf, hf, c.rounding)
        self._count("dot", n)
        dm = np.empty_like(m)
        for i in range(3):
            md = self._mul(m[:, i], mf, d, hf, hf, f"md{i}")
            y = self._sub(md, hf, h2[:, i], hf, hf, f"damp{i}")
            t1 = self._mulc(x[:, i], hf, "c", c.dm_fmt, f"cx{i}")
            t2 = self._mulc(y, hf, "c_alpha", c.dm_fmt, f"cay{i}")
            dm[:, i] = self._add(-t1, c.dm_fmt, -t2, c.dm_fmt, c.dm_fmt, f"dm{i}")
        return dm

    def step(self, m, g, code, reset=None, code2=None):
        """Advance magnets by one Heun step.

        Parameters
        ----------
        m : int64 (N, 3) in m_fmt
        g : int64 (N, 3) in noise_fmt
        code : int64 (N,) in drive_fmt
        reset : bool (N,), optional
            Where set, the magnet is loaded with +easy axis instead of stepping.
        code2 : int64 (N,) in drive_fmt, optional
            The second drive channel's code (two-drive magnets only; default 0).

        Returns
        -------
        m_new : int64 (N, 3)
        switched : bool (N,)
            The easy-axis component crossed from >= 0 to < 0 (towards -easy) in this step.
        """
        c = self.cfg
        mf = c.m_fmt
        m = np.asarray(m, dtype=np.int64)
        u1, u2 = self.drive(np.asarray(code, dtype=np.int64))
        v1 = v2 = None
        if self.two_drives:
            code2 = np.zeros(m.shape[0], np.int64) if code2 is None else np.asarray(code2, dtype=np.int64)
            v1, v2 = self.drive(code2, "kb2", "2")
        elif code2 is not None:
            raise ValueError("code2 given to a magnet with one drive channel")
        h_th = self.thermal(np.asarray(g, dtype=np.int64))
        k1 = self.rhs(m, h_th, u1, u2, v1, v2)
        mp = np.empty_like(m)
        for i in range(3):
            mp[:, i] = self._add(m[:, i], mf, k1[:, i], c.dm_fmt, mf, f"pred{i}")
        k2 = self.rhs(mp, h_th, u1, u2, v1, v2)
        half = Fixed(c.dm_fmt.width + 1, c.dm_fmt.frac + 1)  # (k1 + k2) / 2: same integer, one more frac bit
        mn = np.empty_like(m)
        for i in range(3):
            mn[:, i] = self._add(m[:, i], mf, k1[:, i] + k2[:, i], half, mf, f"corr{i}")
        # Renormalisation: s = |m|^2, r = (3 - s) / 2, m'' = m' r.
        sq = Fixed(2 * mf.width, 2 * mf.frac)
        s, n = resize(mn[:, 0] * mn[:, 0] + mn[:, 1] * mn[:, 1] + mn[:, 2] * mn[:, 2], sq, c.norm_fmt, c.rounding)
        self._count("norm2", n)
        three = 3 << c.norm_fmt.frac
        r, n = resize(three - s, Fixed(c.norm_fmt.width + 1, c.norm_fmt.frac + 1), c.norm_fmt, c.rounding)
        self._count("renorm", n)
        out = np.empty_like(m)
        for i in range(3):
            out[:, i] = self._mul(mn[:, i], mf, r, c.norm_fmt, mf, f"m{i}")
        ax, sgn = self.k.nm.easy_axis, self.k.nm.easy_sign
        switched = (sgn * m[:, ax] >= 0) & (sgn * out[:, ax] < 0)
        if reset is not None:
            reset = np.asarray(reset, dtype=bool)
            out = np.where(reset[:, None], self.m_reset, out)
            switched &= ~reset
        return out, switched

    def to_int_m(self, m):
        """Quantise float unit vectors (N, 3) to m_fmt."""
        return self.cfg.m_fmt.to_int(np.asarray(m, dtype=float))

    def to_float_m(self, m):
        return self.cfg.m_fmt.to_float(m)


def _fast_args(model: "MacrospinModel", noise_frac: int):
    from ._macrospin_fast import CONST_ORDER

    c = model.cfg
    # a magnet with one drive channel: kb2 = 0 (the kernel's second channel adds nothing)
    ci = np.array([model.ints.get(k, 0) for k in CONST_ORDER], dtype=np.int64)
    cf = np.array([model.fmts[k].frac if k in model.fmts else 0 for k in CONST_ORDER], dtype=np.int64)
    fmts = np.array([c.m_fmt.frac, c.m_fmt.width, c.h_fmt.frac, c.h_fmt.width, c.dm_fmt.frac, c.dm_fmt.width,
                     c.norm_fmt.frac, c.norm_fmt.width, noise_frac, c.drive_fmt.frac], dtype=np.int64)
    nm, nm2 = model.k.nm, model.k.nm2 or model.k.nm
    pol = np.array([nm.p_axis, nm.p_sign, nm2.p_axis, nm2.p_sign], dtype=np.int64)
    return ci, cf, fmts, pol, nm.easy_axis, nm.easy_sign, c.rounding == "round_half_up"


def _check_code2(model: "MacrospinModel", code2):
    if code2 is not None and not model.two_drives:
        raise ValueError("code2 given to a magnet with one drive channel")


def run_fast(model: "MacrospinModel", m, noise, code, code2=None):
    """Advance ``m`` (N, 3) in place by ``noise.shape[0]`` steps with the compiled twin of
    :meth:`MacrospinModel.step` (constant drive ``code`` (N,), and ``code2`` (N,) on a two-drive
    magnet's second channel). Returns (switch counts, saturations)."""
    from ._macrospin_fast import fast_steps

    _check_code2(model, code2)
    return fast_steps(m, np.ascontiguousarray(noise, dtype=np.int64), np.asarray(code, dtype=np.int64),
                      *_fast_args(model, model.noise_fmt.frac), code2=code2)


def current_codes(model: "MacrospinModel", current) -> np.ndarray:
    """Drive codes (int64, shaped like ``current``) of currents in A: round(I / current_lsb).

    Raises ValueError for a current outside the drive format's range."""
    codes = np.rint(np.asarray(current, dtype=float) / model.cfg.current_lsb).astype(np.int64)
    f = model.cfg.drive_fmt
    if codes.size and (codes.min() < f.min_int or codes.max() > f.max_int):
        lsb = model.cfg.current_lsb * 1e6
        raise ValueError(f"a drive current of {np.abs(codes).max() * lsb:g} uA exceeds the {f.width}-bit drive code's "
                         f"+-{f.max_int * lsb:g} uA")
    return codes


def run_phases(model: "MacrospinModel", m, phases, *, seed: int, k: int = 12, bits: int = 5, step0: int = 0) -> int:
    """Advance ``m`` (N, 3) in place through a drive schedule on the compiled integer datapath.

    ``phases``: [(code (N,), code2 (N,) or None, steps)], one constant drive per phase (code2: the
    second channel of a two-drive magnet). Noise: the hardware's approximation (the centred sum
    of ``k`` uniform ``bits``-bit integers, as quantize.noise produces from LFSRs) drawn from
    counter-based splitmix64 hashes keyed by ``seed``, steps numbered on from ``step0``.
    ``model.noise_fmt`` must have ``frac == bits`` (``bits + 1`` for odd k). Returns the
    number of saturations.
    """
    from ._macrospin_fast import hashed_steps

    want = bits + (k % 2)
    if model.noise_fmt.frac != want:
        raise ValueError(f"noise format must have {want} fractional bits for k={k}, bits={bits}, not {model.noise_fmt.frac}")
    args = _fast_args(model, model.noise_fmt.frac)
    sat = 0
    for code, code2, steps in phases:
        _check_code2(model, code2)
        _, sn = hashed_steps(m, int(steps), step0, seed, np.ascontiguousarray(code, dtype=np.int64), k, bits, *args,
                             code2=code2)
        sat += int(sn.sum())
        step0 += int(steps)
    return sat


def switching_probability_quantised(model: "MacrospinModel", params: MacrospinParams, current, duration: float, *,
                                    trials: int, seed: int, settle: float, relax: float, k: int = 12,
                                    bits: int = 5):
    """:func:`golden.llg.switching_probability`'s protocol on the integer datapath.

    Trials start from the same harmonic Boltzmann draw as the golden model (quantised to
    m_fmt), settle without current, get ``current`` (A, scalar or (C,)) for ``duration`` s,
    relax; switched = ends with m_easy < 0. Noise: the hardware's approximation (the centred
    sum of ``k`` uniform ``bits``-bit integers, as quantize.noise produces from LFSRs) drawn
    from counter-based splitmix64 hashes keyed by ``seed`` inside the compiled kernel.
    ``model.noise_fmt`` must have ``frac == bits`` (``bits + 1`` for odd k).
    Returns (p, stderr, saturations) with p, stderr shaped like ``current``.
    """
    from golden.llg import equilibrium_sample

    dt = model.k.nm.dt
    cur = np.atleast_1d(np.asarray(current, dtype=float))
    n = cur.size * trials
    m = model.to_int_m(equilibrium_sample(params, n, np.random.default_rng(seed)))
    codes = np.repeat(current_codes(model, cur), trials)
    zero = np.zeros(n, np.int64)
    sat = run_phases(model, m, [(zero, None, int(round(settle / dt))), (codes, None, int(round(duration / dt))),
                                (zero, None, int(round(relax / dt)))], seed=seed, k=k, bits=bits)
    ax, sg = model.k.nm.easy_axis, model.k.nm.easy_sign
    p = (sg * m[:, ax] < 0).reshape(cur.size, trials).mean(axis=1)
    se = np.sqrt(p * (1 - p) / trials)
    if np.ndim(current) == 0:
        return float(p[0]), float(se[0]), sat
    return p, se, sat


def reference_stream(model: "MacrospinModel", noise_samples, codes, resets, *, fast: bool = False, codes2=None):
    """What the RTL integrator emits for a stream of input beats (cycle-accurate order).

    Beat n drives slot ``n mod N`` of every lane with ``codes[n]``/``resets[n]`` and noise
    ``noise_samples[n]``; every slot starts at +easy axis. Vectorised over one sweep of N beats;
    ``fast=True`` runs the compiled twin instead (proven equal by tests/test_macrospin_model.py;
    it adds its saturations to ``model.saturations["total"]`` instead of per node).

    Parameters
    ----------
    noise_samples : int64 (T, K, 3)   (``quantize.noise.GaussianNoise(cfg).run(T)``)
    codes : int64 (T, K)
    resets : bool (T, K)
    codes2 : int64 (T, K), optional
        The second drive channel's codes (a two-drive magnet; default 0).

    Returns
    -------
    m : int64 (T, K, 3) the new state of each beat's slot;  switched : bool (T, K);
    slots : int64 (T,)
    """
    codes = np.asarray(codes, dtype=np.int64)
    resets = np.asarray(resets, dtype=bool)
    _check_code2(model, codes2)
    codes2 = np.zeros_like(codes) if codes2 is None else np.asarray(codes2, dtype=np.int64)
    t_total, k = codes.shape
    n = model.cfg.magnets
    state = np.tile(model.m_reset, (n * k, 1))  # index slot * K + lane
    if fast:
        from ._macrospin_fast import stream_steps

        out_m, out_sw, sat = stream_steps(state, np.ascontiguousarray(noise_samples, dtype=np.int64), codes,
                                          np.ascontiguousarray(codes2), resets, np.asarray(model.m_reset, dtype=np.int64),
                                          *_fast_args(model, model.noise_fmt.frac))
        if sat:
            model.saturations["total"] = model.saturations.get("total", 0) + int(sat)
        return out_m, out_sw, np.arange(t_total) % n
    out_m = np.empty((t_total, k, 3), dtype=np.int64)
    out_sw = np.empty((t_total, k), dtype=bool)
    for start in range(0, t_total, n):
        stop = min(t_total, start + n)
        rows = (stop - start) * k
        sel = slice(0, rows)
        new, sw = model.step(state[sel], np.asarray(noise_samples[start:stop]).reshape(rows, 3),
                             codes[start:stop].reshape(rows), resets[start:stop].reshape(rows),
                             codes2[start:stop].reshape(rows) if model.two_drives else None)
        state[sel] = new
        out_m[start:stop] = new.reshape(stop - start, k, 3)
        out_sw[start:stop] = sw.reshape(stop - start, k)
    return out_m, out_sw, np.arange(t_total) % n


# On-chip self-test stimulus (hdl.macrospin.selftest_harness) --------------------------------
#: Reset bits per lane and beat: a lane's slot is reset when all are ones (P = 2**-7).
SELFTEST_RESET_BITS = 7


def selftest_code_bits(model: "MacrospinModel") -> int:
    """Drive-code bits the self-test draws: the drive width, at most 11 (+-1024 codes)."""
    return min(model.cfg.drive_fmt.width, 11)


def selftest_harness_config(model: "MacrospinModel", seed: int = 1, **kw):
    """The ``quantize.harness.HarnessConfig`` of the integrator self-test."""
    from quantize.harness import HarnessConfig

    codes = 2 if model.two_drives else 1
    return HarnessConfig(lanes=model.cfg.lanes, data_bits=codes * selftest_code_bits(model) + SELFTEST_RESET_BITS,
                         seed=seed, **kw)


def selftest_stimulus(model: "MacrospinModel", words):
    """Map harness data words (beats, K) to (codes int64 (beats, K), resets bool (beats, K)).

    Word layout, MSB first: a two's-complement drive code of ``selftest_code_bits`` bits, then
    (a two-drive magnet) the second channel's code of as many bits, then
    ``SELFTEST_RESET_BITS`` reset bits (reset when all are ones). :func:`selftest_drives`
    also returns the second channel's codes.
    """
    codes, resets, _ = selftest_drives(model, words)
    return codes, resets


def selftest_drives(model: "MacrospinModel", words):
    """:func:`selftest_stimulus` with the second drive channel: (codes, resets, codes2), codes2
    int64 (beats, K) for a two-drive magnet, else None."""
    words = np.asarray(words, dtype=np.int64)
    cb, rb = selftest_code_bits(model), SELFTEST_RESET_BITS

    def signed(raw):
        raw = raw & ((1 << cb) - 1)
        return np.where(raw >= 1 << (cb - 1), raw - (1 << cb), raw)

    resets = (words & ((1 << rb) - 1)) == (1 << rb) - 1
    if model.two_drives:
        return signed(words >> (rb + cb)), resets, signed(words >> rb)
    return signed(words >> rb), resets, None
