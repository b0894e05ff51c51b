"""Gaussian thermal-noise source: configuration and bit-exact, cycle-accurate model.

Every clock cycle the block delivers, for each of ``lanes`` magnets, three approximately
Gaussian samples (the x, y and z components of the thermal field for one integrator step).

Approximation (Irwin-Hall, a central-limit sum of ``k = n_uniforms`` uniforms)
------------------------------------------------------------------------------
Each sample sums ``k`` independent ``b``-bit uniform integers ``u_i`` (``b = uniform_bits``)
and removes the mean exactly::

    S = u_1 + ... + u_k                      u_i uniform on 0 .. 2**b - 1
    q = S - k (2**b - 1) / 2                 k even  (an integer)
    q = 2 S - k (2**b - 1)                   k odd   (an odd integer; one more LSB)

so ``q`` is the sum of ``k`` centred uniforms in units of ``2**-sum_frac`` with
``sum_frac = b`` (k even) or ``b + 1`` (k odd). No multiplier is involved. Exact properties
(per sample, real units when ``out_frac == sum_frac``, i.e. each uniform spans [-1/2, 1/2)):

- mean 0 and a distribution symmetric about 0;
- variance ``k (1 - 4**-b) / 12`` (``variance``; in LSB**2 ``variance_lsb2``). For the
  classic ``k = 12`` this is ``1 - 4**-b``: N(0, 1) up to 4**-b with no scaling at all. For
  other ``k`` the integrator folds ``1 / sqrt(variance)`` into its noise-scale constant;
- excess kurtosis ``-(6/5) (4**b + 1) / ((4**b - 1) k)``, i.e. about ``-1.2 / k``
  (``excess_kurtosis``); odd cumulants vanish;
- tails bounded: ``|q| <= max_abs``, about ``sqrt(3 k)`` standard deviations (``tail_sigma``;
  6 sigma for k = 12, 3.5 for k = 4). Events beyond that never happen, and the density near
  the bound is far below Gaussian; for thermal noise summed over many integrator steps this
  matters little, but rare-event (switching-rate) studies should use k >= 12.

``out_frac`` only places the binary point of the output (``out_fmt``): the stored integers
are ``q`` exactly, never rounded; ``variance`` is reported in the units that implies.

Random bits
-----------
The uniforms come from a ``quantize.lfsr.LfsrBank`` (``lfsr_config``). Each lane owns
``lfsrs_per_lane = ceil(3 k b / max_leap)`` LFSRs of ``lfsr_width`` bits (LFSR index
``lane * lfsrs_per_lane + g``), all advancing ``bits_per_lfsr = ceil(3 k b /
lfsrs_per_lane)`` steps per cycle; the seeds come from ``master_seed`` through
``LfsrConfig``/``derive_seeds``. ``max_leap`` is the smallest tap of ``TAPS[lfsr_width]``
(60 for 64 bits): with a leap no larger than that, every new state bit is the XOR of
``len(taps)`` old bits, one LUT4 for the 4-tap polynomials, so the leap-ahead network is a
single logic level. A lane's *pool* is the concatenation of its LFSR words, LFSR 0 first,
each MSB (earliest bit) first; pool bits ``[j b, (j + 1) b)`` form uniform ``j`` (MSB first),
with ``j = component * k + i``, components x, y, z; unused trailing pool bits are dropped.
For the default (k = 12, b = 5, 64-bit LFSRs) that is exactly one LFSR of 60 bits per
component. Cost: ``k b`` random bits per sample; per lane ``lfsrs_per_lane * lfsr_width``
flip-flops and about ``3 k b`` LUT4 for the leap network.

Lanes and components use distinct LFSRs running the same m-sequence from pseudo-random
offsets. ``L`` LFSRs, each consuming ``N`` bits, overlap with probability about
``L**2 N / 2**lfsr_width``: negligible for 64 bits (12 LFSRs, 1e11 bits each: 1e-6), which
is why at least 41 bits are required and 64 are the default. Known limitation: an LFSR is
linear, so bit subsets of consecutive words obey XOR relations. The 64-bit polynomial has
no multiple of weight < 5 within a short span, so they only reach cross-cycle moments of
order >= 5: for the default, corr(x_t**2, x_(t+1)**3) is about -8e-4 (measured over 1.2e8
samples); every 2nd- to 4th-order statistic tested (tests/test_noise.py) is clean.

Timing
------
The adder tree has ``adder_levels = ceil(log2 k)`` levels (the first adds uniform pairs
with a carry-in that absorbs the mean), with a register after every ``levels_per_stage``
levels and always after the last, so ``latency = max(1, ceil(adder_levels /
levels_per_stage))`` cycles from an LFSR word to the output. The registers reset (and
``reseed``) to zero and hold partial sums with no constant added after the first level, so
the output is 0 during the first ``latency`` cycles after reset or reseed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np

from quantize.fixed import Fixed
from quantize.lfsr import TAPS, LfsrBank, LfsrConfig

__all__ = ["COMPONENTS", "NoiseConfig", "GaussianNoise", "uniform_pieces"]

#: Names of the three samples per lane, in pool order and output-struct order.
COMPONENTS = ("x", "y", "z")

_MAX_LANES = 1024


def _check_int(name, value, lo, hi, why=""):
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"NoiseConfig.{name} must be an int, not {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"NoiseConfig.{name} must be {lo}..{hi}{why}, not {value}")


@dataclass(frozen=True)
class NoiseConfig:
    """Configuration of the Gaussian noise source (model and RTL are built from it).

    Parameters
    ----------
    lanes : int
        Magnets served per cycle, 1..1024; three samples (x, y, z) per lane per cycle.
    uniform_bits : int
        Bits ``b`` of each uniform, 1..16.
    n_uniforms : int
        Uniforms ``k`` summed per sample, 1..64. 12 gives variance ``1 - 4**-b`` in real
        units with ``out_frac = b``; 4 or 6 are cheaper with a lighter tail (see module doc).
    out_frac : int or None
        Fractional bits of the output format, 0..64; None (default) means ``sum_frac`` (b,
        or b + 1 for odd k), so that each uniform spans [-1/2, 1/2) in real units. Only
        places the binary point: stored values never change.
    lfsr_width : int
        LFSR length, 41..64 bits (period ``2**lfsr_width - 1``); 64 by default.
    master_seed : int
        0..2**64 - 1; all LFSR seeds derive from it (``lfsr_config.seeds``).
    levels_per_stage : int
        Adder levels between pipeline registers, 1..8; 2 by default (two short ripple
        adders per stage keeps the tree off the critical path on iCE40 and ECP5).
    """

    lanes: int = 1
    uniform_bits: int = 5
    n_uniforms: int = 12
    out_frac: int | None = None
    lfsr_width: int = 64
    master_seed: int = 0
    levels_per_stage: int = 2

    def __post_init__(self):
        _check_int("lanes", self.lanes, 1, _MAX_LANES)
        _check_int("uniform_bits", self.uniform_bits, 1, 16, " bits")
        _check_int("n_uniforms", self.n_uniforms, 1, 64)
        if self.out_frac is None:
            object.__setattr__(self, "out_frac", self.sum_frac)
        _check_int("out_frac", self.out_frac, 0, 64, " bits")
        _check_int("lfsr_width", self.lfsr_width, 41, 64,
                   " bits (shorter LFSRs make lane streams overlap)")
        _check_int("master_seed", self.master_seed, 0, 2**64 - 1)
        _check_int("levels_per_stage", self.levels_per_stage, 1, 8)

    # --- numbers ------------------------------------------------------------------------------

    @property
    def sum_frac(self) -> int:
        """Fractional bits at which ``q`` is the exact centred sum: b (k even) or b + 1."""
        return self.uniform_bits + (self.n_uniforms % 2)

    @property
    def max_abs(self) -> int:
        """Largest ``|q|``: ``k (2**b - 1) / 2`` (k even) or ``k (2**b - 1)`` (k odd)."""
        k, b = self.n_uniforms, self.uniform_bits
        return k * ((1 << b) - 1) // (1 if k % 2 else 2)

    @property
    def out_fmt(self) -> Fixed:
        """Output format: the narrowest signed width holding ``+-max_abs``, ``out_frac``."""
        return Fixed(self.max_abs.bit_length() + 1, self.out_frac, True)

    @property
    def variance_lsb2(self) -> Fraction:
        """Exact variance of ``q`` in LSB**2: ``k (4**b - 1) / 12`` times 4 if k is odd."""
        k, b = self.n_uniforms, self.uniform_bits
        return Fraction(k * (4**b - 1) * (4 if k % 2 else 1), 12)

    @property
    def variance(self) -> float:
        """Exact variance of the output in real units, ``variance_lsb2 * 4**-out_frac``."""
        return float(self.variance_lsb2 / Fraction(4) ** self.out_frac)

    @property
    def excess_kurtosis(self) -> float:
        """Exact excess kurtosis, ``-(6/5)(4**b + 1) / ((4**b - 1) k)`` (about -1.2/k)."""
        n2 = 4**self.uniform_bits
        return -1.2 * (n2 + 1) / ((n2 - 1) * self.n_uniforms)

    @property
    def tail_sigma(self) -> float:
        """The tail bound in standard deviations, ``max_abs / sqrt(variance_lsb2)``."""
        return self.max_abs / math.sqrt(self.variance_lsb2)

    # --- random bits --------------------------------------------------------------------------

    @property
    def bits_per_sample(self) -> int:
        """Random bits consumed per sample, ``k b``."""
        return self.n_uniforms * self.uniform_bits

    @property
    def max_leap(self) -> int:
        """Largest leap keeping one XOR level per state bit: the smallest tap of the width."""
        return min(TAPS[self.lfsr_width])

    @property
    def lfsrs_per_lane(self) -> int:
        """LFSRs per lane, ``ceil(3 k b / max_leap)``."""
        return -(-3 * self.bits_per_sample // self.max_leap)

    @property
    def bits_per_lfsr(self) -> int:
        """Bits each LFSR emits per cycle, ``ceil(3 k b / lfsrs_per_lane)``."""
        return -(-3 * self.bits_per_sample // self.lfsrs_per_lane)

    @cached_property
    def lfsr_config(self) -> LfsrConfig:
        """The LFSR bank: ``lanes * lfsrs_per_lane`` LFSRs, ``bits_per_lfsr`` bits/cycle."""
        return LfsrConfig(self.lfsr_width, self.lanes * self.lfsrs_per_lane,
                          self.bits_per_lfsr, self.master_seed)

    # --- timing -------------------------------------------------------------------------------

    @property
    def adder_levels(self) -> int:
        """Depth of the adder tree, ``ceil(log2 k)``."""
        return (self.n_uniforms - 1).bit_length()

    @property
    def register_levels(self) -> tuple[int, ...]:
        """Adder levels followed by a pipeline register (level 0: the uniforms, k = 1)."""
        last = self.adder_levels
        return tuple(range(self.levels_per_stage, last, self.levels_per_stage)) + (last,)

    @property
    def latency(self) -> int:
        """Cycles from an LFSR word to its samples on the output."""
        return len(self.register_levels)


def uniform_pieces(cfg: NoiseConfig) -> list[list[tuple[int, int, int, int]]]:
    """Where each uniform's bits lie in the lane's LFSR words.

    Returns
    -------
    list, one per pool uniform ``j = component * k + i`` (length ``3 k``), of lists of
    ``(g, shift, nbits, lshift)``: the uniform is the sum over its pieces of
    ``((word[g] >> shift) & (2**nbits - 1)) << lshift``, ``word[g]`` the lane's g-th LFSR word.
    """
    b, w = cfg.uniform_bits, cfg.bits_per_lfsr
    out = []
    for j in range(3 * cfg.n_uniforms):
        pos, left, pieces = j * b, b, []
        while left:
            g, off = divmod(pos, w)
            n = min(left, w - off)
            pieces.append((g, w - off - n, n, left - n))
            pos, left = pos + n, left - n
        out.append(pieces)
    return out


class GaussianNoise:
    """Bit-exact, cycle-accurate model of ``hdl.noise.GaussianNoise``.

    Parameters
    ----------
    cfg : NoiseConfig

    Notes
    -----
    The output visible in a cycle is the sample triple computed from the LFSR words
    ``latency`` enabled cycles earlier, or 0 if fewer than ``latency`` enabled cycles have
    passed since reset or the last reseed.
    """

    def __init__(self, cfg: NoiseConfig):
        self.cfg = cfg
        self._lfsr = LfsrBank(cfg.lfsr_config)
        self._scale = 2 if cfg.n_uniforms % 2 else 1
        self._offset = cfg.max_abs
        self._pieces = uniform_pieces(cfg)
        self.reseed()

    def reseed(self) -> None:
        """Reload the LFSR seeds and clear the pipeline, like the RTL's reset or ``reseed``."""
        self._lfsr.reseed()
        self._pipe = np.zeros((self.cfg.latency, self.cfg.lanes, 3), dtype=np.int64)

    def samples(self, words: np.ndarray) -> np.ndarray:
        """Sample triples from LFSR words, without pipeline delay.

        Parameters
        ----------
        words : numpy.ndarray of int64, shape (cycles, lanes * lfsrs_per_lane)
            ``LfsrBank`` words of ``lfsr_config``.

        Returns
        -------
        numpy.ndarray of int64, shape (cycles, lanes, 3)
            Stored integers ``q`` in ``out_fmt``, components (x, y, z).
        """
        cfg = self.cfg
        words = np.asarray(words, dtype=np.int64).reshape(
            len(words), cfg.lanes, cfg.lfsrs_per_lane)
        s = np.zeros((len(words), cfg.lanes, 3), dtype=np.int64)
        for j, pieces in enumerate(self._pieces):
            comp = j // cfg.n_uniforms
            for g, shift, n, lshift in pieces:
                s[:, :, comp] += ((words[:, :, g] >> shift) & ((1 << n) - 1)) << lshift
        return self._scale * s - self._offset

    def step(self, en: bool = True, reseed: bool = False) -> np.ndarray:
        """One clock cycle: return the visible output, then apply the clock edge.

        Parameters
        ----------
        en : bool
            Advance the LFSRs and the pipeline at the edge (False: hold everything).
        reseed : bool
            Reload the seeds and clear the pipeline at the edge (takes priority over ``en``).

        Returns
        -------
        numpy.ndarray of int64, shape (lanes, 3)
        """
        out = self._pipe[0].copy()
        if reseed:
            self.reseed()
        elif en:
            new = self.samples(self._lfsr.step()[None])
            self._pipe = np.concatenate([self._pipe[1:], new])
        return out

    def run(self, cycles: int) -> np.ndarray:
        """Outputs of ``cycles`` enabled cycles (as ``cycles`` calls of ``step()``).

        Returns
        -------
        numpy.ndarray of int64, shape (cycles, lanes, 3)
        """
        if cycles < 0:
            raise ValueError(f"cycles must be >= 0, not {cycles}")
        both = np.concatenate([self._pipe, self.samples(self._lfsr.run(cycles))])
        self._pipe = both[cycles:]
        return both[:cycles]
