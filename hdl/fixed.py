"""Amaranth mirrors of ``quantize.fixed``: rounding, overflow and fixed-point arithmetic.

Each function builds a combinational Amaranth expression from a value whose shape is the
``Fixed`` format's (``shape_of(fmt)``) and computes, bit for bit, what the numpy function of
the same name in ``quantize.fixed`` computes on the stored integers. The overflow flags are
1-bit values, the per-element version of the counts the numpy functions return, so an RTL
block can count saturations exactly as its model does. ``tests/test_fixed.py`` proves the
equality exhaustively for small widths and on random vectors for wide ones.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Mux, Shape, Value, signed, unsigned

from quantize.fixed import (
    OVERFLOW_MODES,
    ROUNDING_MODES,
    Fixed,
    product_format,
    sum_format,
)

__all__ = [
    "shape_of",
    "const",
    "cast",
    "shift_right",
    "rescale",
    "out_of_range",
    "wrap",
    "saturate",
    "resize",
    "mul",
    "add",
]


def shape_of(fmt: Fixed) -> Shape:
    """The Amaranth shape of ``fmt``'s stored integer: ``signed(width)`` or ``unsigned(width)``."""
    return signed(fmt.width) if fmt.signed else unsigned(fmt.width)


def const(q: int, fmt: Fixed) -> Const:
    """A constant stored integer ``q`` of shape ``shape_of(fmt)``.

    Raises
    ------
    ValueError
        If ``q`` is outside ``[fmt.min_int, fmt.max_int]``.
    """
    if not fmt.min_int <= q <= fmt.max_int:
        raise ValueError(f"constant {q} is outside {fmt} range [{fmt.min_int}, {fmt.max_int}]")
    return Const(q, shape_of(fmt))


def cast(value, shape) -> Value:
    """``value`` sign- or zero-extended (by its own signedness) or truncated to ``shape``.

    The result has exactly ``shape``; truncation keeps the low bits (two's complement wrap).
    """
    value = Value.cast(value)
    shape = Shape.cast(shape)
    width = len(value)
    if width < shape.width:
        fill = value[-1] if (value.shape().signed and width > 0) else Const(0, 1)
        value = Cat(value, fill.replicate(shape.width - width))
    bits = value[: shape.width]
    return bits.as_signed() if shape.signed else bits.as_unsigned()


def _check_value(value, fmt: Fixed, name: str = "value") -> Value:
    value = Value.cast(value)
    if value.shape() != shape_of(fmt):
        raise ValueError(f"{name} has shape {value.shape()!r}, but {fmt} needs {shape_of(fmt)!r}")
    return value


def _bit(value: Value, i: int) -> Value:
    """Bit ``i`` of the infinitely sign/zero-extended ``value``."""
    if i < len(value):
        return value[i]
    return value[-1] if value.shape().signed else Const(0, 1)


def shift_right(value, n: int, mode: str = "trunc") -> Value:
    """Divide by ``2**n`` with rounding; mirrors ``quantize.fixed.shift_right``.

    ``"trunc"`` is the arithmetic shift (floor); ``"round_half_up"`` adds bit ``n-1`` of the
    input to it, i.e. ``floor((x + 2**(n-1)) / 2**n)`` without widening the input first.

    Parameters
    ----------
    value : Value-castable
        Signed or unsigned.
    n : int
        Shift amount, >= 0.
    mode : {"trunc", "round_half_up"}

    Returns
    -------
    Value
        Wide enough to hold the exact result (``round_half_up`` may add one bit).
    """
    if mode not in ROUNDING_MODES:
        raise ValueError(f"rounding must be one of {ROUNDING_MODES}, not {mode!r}")
    if n < 0:
        raise ValueError(f"shift amount must be >= 0, not {n}")
    value = Value.cast(value)
    if n == 0:
        return value
    shifted = value.shift_right(n)
    if len(shifted) == 0:  # unsigned shifted past its width
        shifted = Const(0, 1)
    if mode == "trunc":
        return shifted
    return shifted + _bit(value, n - 1)


def rescale(value, frac_from: int, frac_to: int, rounding: str = "trunc") -> Value:
    """Move the binary point; mirrors ``quantize.fixed.rescale`` (exact, widens as needed)."""
    d = frac_from - frac_to
    if d >= 0:
        return shift_right(value, d, rounding)
    if rounding not in ROUNDING_MODES:
        raise ValueError(f"rounding must be one of {ROUNDING_MODES}, not {rounding!r}")
    return Value.cast(value).shift_left(-d)


def out_of_range(value, fmt: Fixed) -> Value:
    """1 when ``value`` lies outside ``[fmt.min_int, fmt.max_int]``; mirrors the numpy one."""
    hi, lo = _out_of_range_split(Value.cast(value), fmt)
    return hi | lo


def wrap(value, fmt: Fixed) -> Value:
    """Low ``fmt.width`` bits of ``value`` read in ``fmt``'s signedness; mirrors ``wrap``.

    Returns
    -------
    Value
        Of shape ``shape_of(fmt)``.
    """
    return cast(value, shape_of(fmt))


def saturate(value, fmt: Fixed) -> tuple[Value, Value]:
    """Clamp ``value`` to ``fmt``'s range; mirrors ``quantize.fixed.saturate``.

    The range test looks at the bits above the format only (all equal to the sign for a
    signed format, all zero for an unsigned one): plain LUT logic, where a magnitude compare
    against the limits would build carry chains.

    Returns
    -------
    result : Value of shape ``shape_of(fmt)``
    flag : Value, unsigned(1)
        1 when the input was clamped (sum these to get the model's count).
    """
    value = Value.cast(value)
    hi, lo = _out_of_range_split(value, fmt)
    result = Mux(hi, const(fmt.max_int, fmt), Mux(lo, const(fmt.min_int, fmt), wrap(value, fmt)))
    return result, hi | lo


def _out_of_range_split(value: Value, fmt: Fixed) -> tuple[Value, Value]:
    """(above max, below min) of ``value`` against ``fmt``, from its top bits alone."""
    n, w = len(value), fmt.width
    vs = value.shape().signed
    zero = Const(0, 1)
    if vs and n == 0:
        return zero, zero
    sign = value[-1] if vs else zero
    if fmt.signed:
        # in range iff bits [w-1, n) all equal the sign (bits >= n are sign copies)
        if n <= w - 1 or (vs and n <= w):
            return zero, zero
        top = value[w - 1:]
        if vs:
            off = ~(top.all() | ~top.any())
            return off & ~sign, off & sign
        return top.any(), zero
    # unsigned target: below 0 iff negative; above iff any bit >= w is set (non-negative)
    lo = sign if vs else zero
    stop = n - 1 if vs else n
    hi = (value[w:stop].any() & ~sign) if stop > w else zero
    return hi, lo


def resize(
    value, fmt_from: Fixed, fmt_to: Fixed, rounding: str = "trunc", overflow: str = "saturate"
) -> tuple[Value, Value]:
    """Convert ``value`` from ``fmt_from`` to ``fmt_to``; mirrors ``quantize.fixed.resize``.

    Parameters
    ----------
    value : Value-castable of shape ``shape_of(fmt_from)``
    fmt_from, fmt_to : Fixed
    rounding : {"trunc", "round_half_up"}
    overflow : {"wrap", "saturate"}

    Returns
    -------
    result : Value of shape ``shape_of(fmt_to)``
    flag : Value, unsigned(1)
        1 when the rounded value did not fit ``fmt_to`` (and was wrapped or saturated).
    """
    if overflow not in OVERFLOW_MODES:
        raise ValueError(f"overflow must be one of {OVERFLOW_MODES}, not {overflow!r}")
    value = _check_value(value, fmt_from)
    exact = rescale(value, fmt_from.frac, fmt_to.frac, rounding)
    if overflow == "saturate":
        return saturate(exact, fmt_to)
    return wrap(exact, fmt_to), out_of_range(exact, fmt_to)


def mul(
    a, fa: Fixed, b, fb: Fixed, out_fmt: Fixed, rounding: str = "trunc",
    overflow: str = "saturate",
) -> tuple[Value, Value]:
    """Fixed-point product with rounding and overflow; mirrors ``quantize.fixed.mul``.

    The full-precision product (``product_format(fa, fb)``) is formed, then ``resize``d.

    Returns
    -------
    result : Value of shape ``shape_of(out_fmt)``
    flag : Value, unsigned(1)
    """
    a = _check_value(a, fa, "a")
    b = _check_value(b, fb, "b")
    pf = product_format(fa, fb)
    return resize(wrap(a * b, pf), pf, out_fmt, rounding, overflow)


def add(
    a, fa: Fixed, b, fb: Fixed, out_fmt: Fixed, rounding: str = "trunc",
    overflow: str = "saturate",
) -> tuple[Value, Value]:
    """Fixed-point sum with rounding and overflow; mirrors ``quantize.fixed.add``.

    Operands are aligned to the finer binary point, summed exactly (``sum_format(fa, fb)``),
    then ``resize``d.

    Returns
    -------
    result : Value of shape ``shape_of(out_fmt)``
    flag : Value, unsigned(1)
    """
    a = _check_value(a, fa, "a")
    b = _check_value(b, fb, "b")
    sf = sum_format(fa, fb)
    total = a.shift_left(sf.frac - fa.frac) + b.shift_left(sf.frac - fb.frac)
    return resize(wrap(total, sf), sf, out_fmt, rounding, overflow)
