"""A bank of leap-ahead Fibonacci LFSRs: configuration, seed derivation and bit-exact model.

Every lane is a ``width``-bit maximal-length Fibonacci LFSR (XOR feedback, so the all-zeros
state is the lock-up state and seeds are nonzero). With state bits ``s[0..width-1]`` and the
1-based taps ``T`` of ``TAPS[width]``, one step is::

    feedback = XOR of s[t - 1] for t in T
    s        = ((s << 1) | feedback) mod 2**width      # emits the old s[width - 1]

The emitted bits form the m-sequence ``u`` with ``u[n] = XOR of u[n - t] for t in T``; the state
at step ``n`` is the window ``u[n .. n+width-1]`` with ``u[n]`` in its MSB, and the period is
``2**width - 1``.

Leap-ahead: each clock cycle a lane advances ``bits_per_cycle`` (= k) steps at once,
``s <- L s`` over GF(2) with the precomputed leap matrix ``L = A**k`` (``A`` the one-step
matrix), and emits the k bits those steps shift out. Bit order: the word emitted in a cycle
is the top k bits of the state at the start of the cycle, ``s >> (width - k)``, so the
earliest bit of the stream is the word's MSB; word ``c`` holds ``u[c*k .. c*k+k-1]``.
``hdl.lfsr.LfsrBank`` builds exactly ``L`` as an XOR network (``LfsrConfig.leap_masks``).

All lanes run the same m-sequence from different, pseudo-random offsets (their seeds); for
widths much wider than ``log2(lanes * cycles)`` the lanes' windows do not overlap in practice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["TAPS", "LfsrConfig", "LfsrBank", "splitmix64", "derive_seeds", "leap_rows"]

#: Maximal-length taps for widths 3..64, from Xilinx XAPP052 (P. Alfke, "Efficient Shift
#: Registers, LFSR Counters, and Long Pseudo-Random Sequence Generators", 1996), Table 3.
#: Tap ``t`` is register bit ``t`` numbered from 1; the characteristic polynomial is
#: ``1 + sum(x**t for t in taps)`` (primitive; checked by tests/test_lfsr.py).
TAPS: dict[int, tuple[int, ...]] = {
    3: (3, 2), 4: (4, 3), 5: (5, 3), 6: (6, 5), 7: (7, 6), 8: (8, 6, 5, 4), 9: (9, 5),
    10: (10, 7), 11: (11, 9), 12: (12, 6, 4, 1), 13: (13, 4, 3, 1), 14: (14, 5, 3, 1),
    15: (15, 14), 16: (16, 15, 13, 4), 17: (17, 14), 18: (18, 11), 19: (19, 6, 2, 1),
    20: (20, 17), 21: (21, 19), 22: (22, 21), 23: (23, 18), 24: (24, 23, 22, 17),
    25: (25, 22), 26: (26, 6, 2, 1), 27: (27, 5, 2, 1), 28: (28, 25), 29: (29, 27),
    30: (30, 6, 4, 1), 31: (31, 28), 32: (32, 22, 2, 1), 33: (33, 20), 34: (34, 27, 2, 1),
    35: (35, 33), 36: (36, 25), 37: (37, 5, 4, 3, 2, 1), 38: (38, 6, 5, 1), 39: (39, 35),
    40: (40, 38, 21, 19), 41: (41, 38), 42: (42, 41, 20, 19), 43: (43, 42, 38, 37),
    44: (44, 43, 18, 17), 45: (45, 44, 42, 41), 46: (46, 45, 26, 25), 47: (47, 42),
    48: (48, 47, 21, 20), 49: (49, 40), 50: (50, 49, 24, 23), 51: (51, 50, 36, 35),
    52: (52, 49), 53: (53, 52, 38, 37), 54: (54, 53, 18, 17), 55: (55, 31),
    56: (56, 55, 35, 34), 57: (57, 50), 58: (58, 39), 59: (59, 58, 38, 37), 60: (60, 59),
    61: (61, 60, 46, 45), 62: (62, 61, 6, 5), 63: (63, 62), 64: (64, 63, 61, 60),
}

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MAX_LANES = 65536


def splitmix64(x: int) -> int:
    """The splitmix64 output function (Steele, Lea and Flood 2014; Vigna's reference code).

    Returns ``mix(x + 0x9E3779B97F4A7C15 mod 2**64)``: the first output of a splitmix64
    generator whose state is ``x``. ``splitmix64(0) == 0xE220A8397B1DCDAF``.
    """
    z = (x + _GOLDEN) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def derive_seeds(master_seed: int, width: int, lanes: int) -> tuple[int, ...]:
    """Per-lane LFSR seeds from one master seed.

    Candidate ``j`` (j = 0, 1, ...) is ``splitmix64(master_seed + j * 0x9E3779B97F4A7C15 mod
    2**64) mod 2**width``, i.e. the ``j``-th output of a splitmix64 generator seeded with
    ``master_seed``, masked to ``width`` bits. Lane ``i`` takes the ``i``-th candidate that is
    nonzero and not already taken, so seeds are nonzero and distinct per lane.

    Returns
    -------
    tuple of int, length ``lanes``, each in ``1 .. 2**width - 1``
    """
    if lanes > (1 << width) - 1:
        raise ValueError(f"{lanes} lanes need distinct nonzero {width}-bit seeds; at most "
                         f"{(1 << width) - 1} exist")
    mask = (1 << width) - 1
    seeds, taken, j = [], set(), 0
    while len(seeds) < lanes:
        s = splitmix64((master_seed + j * _GOLDEN) & _M64) & mask
        j += 1
        if s and s not in taken:
            taken.add(s)
            seeds.append(s)
    return tuple(seeds)


def _check_int(name, value, lo, hi, unit=""):
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"LfsrConfig.{name} must be an int, not {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"LfsrConfig.{name} must be {lo}..{hi}{unit}, not {value}")


@dataclass(frozen=True)
class LfsrConfig:
    """Configuration of a bank of leap-ahead LFSRs (model and RTL are built from it).

    Parameters
    ----------
    width : int
        LFSR length in bits, 3..64 (taps from ``TAPS``); period ``2**width - 1`` steps.
    lanes : int
        Number of independent LFSRs, 1..min(65536, 2**width - 1).
    bits_per_cycle : int
        Steps (and emitted bits) per lane per cycle, 1..min(width, 63): more bits than the
        state holds would be linearly dependent within one word.
    master_seed : int
        0..2**64 - 1; the lane seeds are ``derive_seeds(master_seed, width, lanes)``.
    """

    width: int
    lanes: int
    bits_per_cycle: int
    master_seed: int

    def __post_init__(self):
        _check_int("width", self.width, 3, 64, " bits")
        _check_int("lanes", self.lanes, 1, min(_MAX_LANES, (1 << self.width) - 1),
                   f" (distinct nonzero seeds of {self.width} bits)" if self.width < 17 else "")
        _check_int("bits_per_cycle", self.bits_per_cycle, 1, min(self.width, 63),
                   f" (at most width={self.width} and 63)")
        _check_int("master_seed", self.master_seed, 0, _M64)

    @property
    def taps(self) -> tuple[int, ...]:
        """The 1-based feedback taps, ``TAPS[width]``."""
        return TAPS[self.width]

    @cached_property
    def seeds(self) -> tuple[int, ...]:
        """Per-lane seeds, ``derive_seeds(master_seed, width, lanes)``."""
        return derive_seeds(self.master_seed, self.width, self.lanes)

    @cached_property
    def leap_masks(self) -> tuple[int, ...]:
        """Rows of the leap matrix ``L = A**bits_per_cycle`` over GF(2) as bit masks.

        After one cycle, state bit ``i`` is the XOR (parity) of the old state bits selected by
        ``leap_masks[i]``. Length ``width``.
        """
        return leap_rows(self.width, self.bits_per_cycle)


def leap_rows(width: int, steps: int) -> tuple[int, ...]:
    """Rows of ``A**steps`` over GF(2) as bit masks (``A`` the one-step matrix of ``TAPS[width]``),
    any ``steps >= 0``: after ``steps`` steps, state bit ``i`` is the parity of the old state
    bits selected by row ``i`` (``LfsrConfig.leap_masks`` for ``steps = bits_per_cycle``)."""
    fb = 0
    for t in TAPS[width]:
        fb |= 1 << (t - 1)
    step = (fb,) + tuple(1 << (i - 1) for i in range(1, width))  # rows of A
    rows = tuple(1 << i for i in range(width))  # identity
    for _ in range(steps):
        rows = tuple(_compose(r, rows) for r in step)  # A @ rows
    return rows


def _compose(row: int, rows: tuple[int, ...]) -> int:
    """Row of ``B @ M`` over GF(2), given row ``row`` of B and the rows of M."""
    out, j = 0, 0
    while row:
        if row & 1:
            out ^= rows[j]
        row >>= 1
        j += 1
    return out


# run() works in chunks of at most this many stream bits, to bound its memory.
_CHUNK_BITS = 1 << 23
# Block length the stream recurrence is doubled up to (see _extend_stream).
_BLOCK = 4096


class LfsrBank:
    """Bit-exact, cycle-accurate model of ``hdl.lfsr.LfsrBank``.

    Parameters
    ----------
    cfg : LfsrConfig

    Notes
    -----
    ``step()`` applies the leap matrix exactly as the RTL does; ``run()`` produces the same
    words from the m-sequence recurrence, vectorised over lanes and bits (tests check that
    the two agree).
    """

    def __init__(self, cfg: LfsrConfig):
        self.cfg = cfg
        self._masks = np.array(cfg.leap_masks, dtype=np.uint64)
        self.reseed()

    def reseed(self) -> None:
        """Reload the derived seeds, like the RTL's ``reseed`` input (and its reset)."""
        self.state = np.array(self.cfg.seeds, dtype=np.uint64)

    @property
    def state(self) -> np.ndarray:
        """Current lane states, numpy.ndarray of uint64, shape (lanes,)."""
        return self._state

    @state.setter
    def state(self, value) -> None:
        value = np.array(value, dtype=np.uint64).reshape(self.cfg.lanes)
        if np.any(value == 0) or np.any(value >> np.uint64(self.cfg.width - 1) > 1):
            raise ValueError(f"LFSR states must be nonzero {self.cfg.width}-bit values")
        self._state = value

    def step(self) -> np.ndarray:
        """Emit one cycle's words and advance every lane by the leap matrix.

        Returns
        -------
        numpy.ndarray of int64, shape (lanes,)
            ``bits_per_cycle``-bit words, earliest bit in the MSB.
        """
        w, k = self.cfg.width, self.cfg.bits_per_cycle
        words = (self._state >> np.uint64(w - k)).astype(np.int64)
        sel = self._state[:, None] & self._masks[None, :]  # (lanes, width)
        parity = (np.bitwise_count(sel) & 1).astype(np.uint64)
        self._state = (parity << np.arange(w, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)
        return words

    def run(self, cycles: int) -> np.ndarray:
        """Emit ``cycles`` cycles of words (as ``cycles`` calls of ``step``), advancing state.

        Returns
        -------
        numpy.ndarray of int64, shape (cycles, lanes)
        """
        if cycles < 0:
            raise ValueError(f"cycles must be >= 0, not {cycles}")
        cfg = self.cfg
        k = cfg.bits_per_cycle
        out = np.empty((cycles, cfg.lanes), dtype=np.int64)
        per_chunk = max(1, _CHUNK_BITS // (k * cfg.lanes))
        for start in range(0, cycles, per_chunk):
            n = min(per_chunk, cycles - start)
            out[start:start + n] = self._run_chunk(n).T
        return out

    def _run_chunk(self, cycles: int) -> np.ndarray:
        cfg = self.cfg
        w, k = cfg.width, cfg.bits_per_cycle
        u = np.empty((cfg.lanes, cycles * k + w), dtype=np.uint8)
        shifts = np.arange(w - 1, -1, -1, dtype=np.uint64)  # u[n] is the state's MSB
        u[:, :w] = (self._state[:, None] >> shifts[None, :]) & np.uint64(1)
        _extend_stream(u, cfg.taps, w)
        words = np.zeros((cfg.lanes, cycles), dtype=np.int64)
        for j in range(k):
            words <<= 1
            words |= u[:, j:cycles * k:k]
        tail = u[:, cycles * k:].astype(np.uint64)
        self._state = (tail << shifts[None, :]).sum(axis=1, dtype=np.uint64)
        return words


def _extend_stream(u: np.ndarray, taps: tuple[int, ...], width: int) -> None:
    """Fill ``u[:, width:]`` from ``u[:, :width]`` with ``u[n] = XOR u[n - t], t in taps``.

    Over GF(2), ``p(x)**(2**j) = p(x**(2**j))``, so the sequence also obeys the recurrence
    with every lag scaled by ``2**j`` for ``n >= width * 2**j``. The smallest lag bounds the
    block of bits computable at once; doubling the lags as the stream grows lets one numpy
    XOR produce blocks of up to ``_BLOCK`` bits for every lane at once.
    """
    total = u.shape[1]
    min_lag = min(taps)
    n, scale = width, 1
    while n < total:
        while n >= 2 * width * scale and min_lag * scale < _BLOCK:
            scale *= 2
        end = min(n + min_lag * scale, total)
        acc = u[:, n - taps[0] * scale:end - taps[0] * scale].copy()
        for t in taps[1:]:
            acc ^= u[:, n - t * scale:end - t * scale]
        u[:, n:end] = acc
        n = end
