"""Fixed-point formats and the project's only rounding and overflow modes.

A value in format ``Fixed(width, frac, signed)`` is stored as an integer ``q`` of ``width`` bits
(two's complement when signed) and means ``q * 2**-frac``. Every integer model in ``quantize/``
computes with the functions below on numpy ``int64`` arrays, and every RTL block uses the
mirrors in ``hdl/fixed.py``; ``tests/test_fixed.py`` proves the two equal (exhaustively for
small widths).

Rounding modes (used when bits below the binary point are dropped):

``"trunc"``
    Arithmetic shift right, i.e. ``floor(x / 2**n)`` (towards minus infinity).
``"round_half_up"``
    ``floor((x + 2**(n-1)) / 2**n)``: nearest, ties towards plus infinity.

Overflow modes (used when a result does not fit the output format):

``"wrap"``
    Keep the low ``width`` bits (two's complement wrap-around), like an HDL assignment.
``"saturate"``
    Clamp to ``[min_int, max_int]`` of the output format.

Overflow is never silent: ``resize``, ``mul`` and ``add`` return the number of elements that
overflowed (wrapped or saturated) next to the values, and ``saturate`` returns the number of
clamped elements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Fixed",
    "ROUNDING_MODES",
    "OVERFLOW_MODES",
    "shift_right",
    "shift_left",
    "rescale",
    "out_of_range",
    "wrap",
    "saturate",
    "overflow_mask",
    "resize",
    "product_format",
    "sum_format",
    "mul",
    "add",
    "signed_width",
    "unsigned_width",
]

ROUNDING_MODES = ("trunc", "round_half_up")
OVERFLOW_MODES = ("wrap", "saturate")

# numpy shifts by >= 64 bits are undefined; for |x| < 2**63, x >> 63 already equals
# floor(x / 2**n) for every n >= 63, so shift amounts are clamped to this.
_MAX_SHIFT = 63


@dataclass(frozen=True)
class Fixed:
    """A fixed-point format: ``width`` bits, ``frac`` of them below the binary point.

    Parameters
    ----------
    width : int
        Total number of bits, 1..64 (signed) or 1..63 (unsigned, so that every value fits an
        ``int64``).
    frac : int
        Number of fractional bits; the value of the integer ``q`` is ``q * 2**-frac``. May be
        negative (coarser than 1) or larger than ``width`` (all bits fractional); -128..128.
    signed : bool
        Two's complement when True.
    """

    width: int
    frac: int
    signed: bool = True

    def __post_init__(self):
        if not isinstance(self.width, int) or isinstance(self.width, bool):
            raise ValueError(f"Fixed.width must be an int, not {self.width!r}")
        if not isinstance(self.frac, int) or isinstance(self.frac, bool):
            raise ValueError(f"Fixed.frac must be an int, not {self.frac!r}")
        if not isinstance(self.signed, bool):
            raise ValueError(f"Fixed.signed must be a bool, not {self.signed!r}")
        if not 1 <= self.width <= 64:
            raise ValueError(f"Fixed.width must be 1..64 bits, not {self.width}")
        if not self.signed and self.width > 63:
            raise ValueError(
                f"unsigned Fixed.width must be 1..63 bits (values are int64), not {self.width}"
            )
        if not -128 <= self.frac <= 128:
            raise ValueError(f"Fixed.frac must be -128..128 bits, not {self.frac}")

    @property
    def min_int(self) -> int:
        """Smallest stored integer: ``-2**(width-1)`` if signed, else 0."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_int(self) -> int:
        """Largest stored integer: ``2**(width-1) - 1`` if signed, else ``2**width - 1``."""
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def lsb(self) -> float:
        """Value of one least significant bit, ``2**-frac``."""
        return float(2.0**-self.frac)

    @property
    def min(self) -> float:
        """Smallest representable value, ``min_int * lsb``."""
        return float(np.ldexp(float(self.min_int), -self.frac))

    @property
    def max(self) -> float:
        """Largest representable value, ``max_int * lsb``."""
        return float(np.ldexp(float(self.max_int), -self.frac))

    def to_int(self, x, rounding: str = "round_half_up") -> np.ndarray:
        """Quantise real values to stored integers of this format.

        Parameters
        ----------
        x : array_like of float, any shape
            Values in real units.
        rounding : {"trunc", "round_half_up"}
            ``floor(x * 2**frac)`` or ``floor(x * 2**frac + 1/2)``.

        Returns
        -------
        numpy.ndarray of int64, same shape as ``x``

        Raises
        ------
        ValueError
            If an element is not finite or rounds outside ``[min, max]``: this is a host-side
            conversion (constants, stimuli), where an overflow is a user error.
        """
        _check_rounding(rounding)
        scaled = np.ldexp(np.asarray(x, dtype=np.float64), self.frac)
        if not np.all(np.isfinite(scaled)):
            raise ValueError(f"cannot quantise non-finite values to {self}")
        q = np.floor(scaled + 0.5) if rounding == "round_half_up" else np.floor(scaled)
        # 2**63 and -2**63 are exact floats; max_int + 1 is a power of two, so exact too.
        bad = (q < float(self.min_int)) | (q >= float(self.max_int + 1))
        if np.any(bad):
            first = np.asarray(x, dtype=np.float64)[bad].flat[0]
            raise ValueError(
                f"{np.count_nonzero(bad)} value(s) outside {self} range "
                f"[{self.min}, {self.max}], first {first}"
            )
        return q.astype(np.int64)

    def to_float(self, q) -> np.ndarray:
        """Real values ``q * 2**-frac`` of stored integers ``q`` (any shape), as float64 of the
        same shape (exact while ``width <= 53``)."""
        return np.ldexp(np.asarray(q).astype(np.float64), -self.frac)


def _check_rounding(mode):
    if mode not in ROUNDING_MODES:
        raise ValueError(f"rounding must be one of {ROUNDING_MODES}, not {mode!r}")


def _check_overflow(mode):
    if mode not in OVERFLOW_MODES:
        raise ValueError(f"overflow must be one of {OVERFLOW_MODES}, not {mode!r}")


def _as_int64(x):
    return np.asarray(x, dtype=np.int64)


def shift_right(x, n: int, mode: str = "trunc") -> np.ndarray:
    """Divide by ``2**n`` with the given rounding, exactly (no intermediate overflow).

    Parameters
    ----------
    x : array_like of int64, any shape
    n : int
        Shift amount, >= 0 (any size: shifts past the width give 0 or -1).
    mode : {"trunc", "round_half_up"}
        ``floor(x / 2**n)``, or ``floor((x + 2**(n-1)) / 2**n)`` computed as
        ``(x >> n) + ((x >> (n-1)) & 1)`` so that it cannot overflow int64.

    Returns
    -------
    numpy.ndarray of int64, same shape as ``x``
    """
    _check_rounding(mode)
    if n < 0:
        raise ValueError(f"shift amount must be >= 0, not {n}")
    x = _as_int64(x)
    if n == 0:
        return x.copy()
    out = x >> min(n, _MAX_SHIFT)
    if mode == "round_half_up":
        out = out + ((x >> min(n - 1, _MAX_SHIFT)) & 1)
    return out


def shift_left(x, n: int) -> np.ndarray:
    """Multiply by ``2**n`` modulo ``2**64`` (two's complement wrap of int64).

    ``x`` is int64 of any shape, ``n >= 0`` (``n >= 64`` gives 0); returns an int64 array of
    the same shape. The caller checks the range first (``resize`` does), since bits shifted
    past bit 63 are lost.
    """
    if n < 0:
        raise ValueError(f"shift amount must be >= 0, not {n}")
    x = _as_int64(x)
    if n >= 64:
        return np.zeros_like(x)
    # Shift as uint64 so the wrap-around is defined behaviour.
    return (x.view(np.uint64) << np.uint64(n)).view(np.int64)


def rescale(x, frac_from: int, frac_to: int, rounding: str = "trunc") -> np.ndarray:
    """Move the binary point from ``frac_from`` to ``frac_to`` fractional bits.

    Drops ``frac_from - frac_to`` bits with ``shift_right(x, ., rounding)`` when positive, or
    appends zeros when negative (``shift_left``: the caller checks the range). Returns an
    int64 array of ``x``'s shape.
    """
    d = frac_from - frac_to
    if d >= 0:
        return shift_right(x, d, rounding)
    _check_rounding(rounding)
    return shift_left(x, -d)


def out_of_range(x, fmt: Fixed) -> np.ndarray:
    """Bool array, shape of ``x`` (int64): elements outside ``[fmt.min_int, fmt.max_int]``."""
    x = _as_int64(x)
    return (x < fmt.min_int) | (x > fmt.max_int)


def wrap(x, fmt: Fixed) -> np.ndarray:
    """Keep the low ``fmt.width`` bits of int64 ``x`` and read them in ``fmt``'s signedness.

    Returns an int64 array of ``x``'s shape in ``[fmt.min_int, fmt.max_int]``, equal to ``x``
    where ``x`` was in range.
    """
    x = _as_int64(x)
    if fmt.width == 64:
        return x.copy()
    low = x & np.int64((1 << fmt.width) - 1)
    if not fmt.signed:
        return low
    sign = np.int64(1 << (fmt.width - 1))
    return (low ^ sign) - sign


def saturate(x, fmt: Fixed) -> tuple[np.ndarray, int]:
    """Clamp ``x`` to ``[fmt.min_int, fmt.max_int]``.

    Parameters
    ----------
    x : array_like of int64, any shape
    fmt : Fixed

    Returns
    -------
    values : numpy.ndarray of int64, same shape as ``x``
    count : int
        Number of elements that were clamped.
    """
    x = _as_int64(x)
    values = np.clip(x, np.int64(fmt.min_int), np.int64(fmt.max_int))
    return values, int(np.count_nonzero(values != x))


def overflow_mask(x, fmt_from: Fixed, fmt_to: Fixed, rounding: str = "trunc") -> np.ndarray:
    """Which elements ``resize`` would wrap or saturate: the per-element overflow flags.

    Bool array of ``x``'s shape; the reference for the flag ``hdl.fixed.resize`` returns, and
    ``resize``'s count is its number of True elements. Arguments as for ``resize``.
    """
    return _resize(x, fmt_from, fmt_to, rounding, "wrap")[1]


def resize(
    x, fmt_from: Fixed, fmt_to: Fixed, rounding: str = "trunc", overflow: str = "saturate"
) -> tuple[np.ndarray, int]:
    """Convert stored integers from ``fmt_from`` to ``fmt_to``.

    First the binary point moves (``rescale`` with ``rounding``; exact, the result may exceed
    ``fmt_to``'s range), then the range is enforced with ``overflow``. This is the reference
    for ``hdl.fixed.resize``.

    Parameters
    ----------
    x : array_like of int64, any shape
        Stored integers in ``fmt_from`` (not checked against its range).
    fmt_from, fmt_to : Fixed
    rounding : {"trunc", "round_half_up"}
    overflow : {"wrap", "saturate"}

    Returns
    -------
    values : numpy.ndarray of int64, same shape as ``x``, in ``fmt_to``
    count : int
        Number of elements that did not fit ``fmt_to`` after rounding (wrapped or saturated);
        ``overflow_mask`` gives them element by element.
    """
    values, mask = _resize(x, fmt_from, fmt_to, rounding, overflow)
    return values, int(np.count_nonzero(mask))


def _resize(x, fmt_from, fmt_to, rounding, overflow):
    _check_rounding(rounding)
    _check_overflow(overflow)
    x = _as_int64(x)
    s = fmt_to.frac - fmt_from.frac
    if s <= 0:
        y = shift_right(x, -s, rounding)
        over_hi, over_lo = y > fmt_to.max_int, y < fmt_to.min_int
    else:
        # Compare before shifting: x << s can exceed int64. x * 2**s <= max_int iff
        # x <= floor(max_int / 2**s), and >= min_int iff x >= ceil(min_int / 2**s).
        y = shift_left(x, s)
        over_hi = x > (fmt_to.max_int >> s)
        over_lo = x < -((-fmt_to.min_int) >> s)
    mask = over_hi | over_lo
    if overflow == "wrap":
        return wrap(y, fmt_to), mask
    values = np.where(over_hi, np.int64(fmt_to.max_int), y)
    values = np.where(over_lo, np.int64(fmt_to.min_int), values)
    return values, mask


def signed_width(lo: int, hi: int) -> int:
    """Bits of the narrowest two's-complement word holding every integer of ``[lo, hi]``.

    ``max(bitlen(hi), bitlen(-lo - 1)) + 1``: the magnitude bits of the larger end plus the
    sign (``-lo - 1`` because -2**k needs only k magnitude bits). Narrowest for ``lo < 0 <= hi``;
    with ``lo >= 0`` Python's ``bitlen(-lo - 1)`` counts the magnitude of ``-lo - 1`` (one bit
    more than the range needs, e.g. 2 for ``[0, 0]``), which every former copy of this formula
    relied on, so it stays (the generated Verilog does not change).
    """
    return max(int(hi).bit_length(), int(-lo - 1).bit_length()) + 1


def unsigned_width(hi: int) -> int:
    """Bits of an unsigned field that holds ``0 .. hi`` (at least 1)."""
    return max(1, int(hi).bit_length())


def _fit(lo: int, hi: int, frac: int, what: str) -> Fixed:
    """The narrowest format holding every integer in ``[lo, hi]``."""
    signed = lo < 0
    width = signed_width(lo, hi) if signed else max(hi.bit_length(), 1)
    if width > (64 if signed else 63):
        raise ValueError(f"full-precision {what} needs {width} bits, more than int64 holds")
    return Fixed(width, frac, signed)


def product_format(fa: Fixed, fb: Fixed) -> Fixed:
    """Format that holds every exact product of an ``fa`` and an ``fb`` value.

    ``frac = fa.frac + fb.frac``; the width is the narrowest that holds the extreme products.

    Raises
    ------
    ValueError
        If the full-precision product would not fit in int64.
    """
    corners = [a * b for a in (fa.min_int, fa.max_int) for b in (fb.min_int, fb.max_int)]
    return _fit(min(corners), max(corners), fa.frac + fb.frac, "product")


def sum_format(fa: Fixed, fb: Fixed) -> Fixed:
    """Format that holds every exact sum of an ``fa`` and an ``fb`` value.

    ``frac = max(fa.frac, fb.frac)`` (the operand with fewer fractional bits is shifted left).

    Raises
    ------
    ValueError
        If the full-precision sum would not fit in int64.
    """
    frac = max(fa.frac, fb.frac)
    sa, sb = frac - fa.frac, frac - fb.frac
    lo = (fa.min_int << sa) + (fb.min_int << sb)
    hi = (fa.max_int << sa) + (fb.max_int << sb)
    return _fit(lo, hi, frac, "sum")


def mul(
    a, fa: Fixed, b, fb: Fixed, out_fmt: Fixed, rounding: str = "trunc",
    overflow: str = "saturate",
) -> tuple[np.ndarray, int]:
    """Fixed-point product: exact product in ``product_format(fa, fb)``, then ``resize``.

    Parameters
    ----------
    a, b : array_like of int64, broadcastable shapes
        Stored integers in ``fa`` and ``fb``.
    fa, fb, out_fmt : Fixed
    rounding : {"trunc", "round_half_up"}
    overflow : {"wrap", "saturate"}

    Returns
    -------
    values : numpy.ndarray of int64, broadcast shape, in ``out_fmt``
    count : int
        Number of elements that overflowed ``out_fmt``.
    """
    pf = product_format(fa, fb)
    return resize(_as_int64(a) * _as_int64(b), pf, out_fmt, rounding, overflow)


def add(
    a, fa: Fixed, b, fb: Fixed, out_fmt: Fixed, rounding: str = "trunc",
    overflow: str = "saturate",
) -> tuple[np.ndarray, int]:
    """Fixed-point sum: operands aligned to the finer binary point, exact sum in
    ``sum_format(fa, fb)``, then ``resize``. Parameters and returns as for ``mul``."""
    sf = sum_format(fa, fb)
    s = shift_left(a, sf.frac - fa.frac) + shift_left(b, sf.frac - fb.frac)
    return resize(s, sf, out_fmt, rounding, overflow)
