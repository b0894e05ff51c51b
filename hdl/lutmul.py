"""Pipelined, fixed-latency multipliers built from LUT logic only (no DSP block).

:func:`lut_multiply` generates ``p = a * b`` without the ``*`` operator, so Yosys
``synth_ecp5`` infers no ``MULT18X18D``: it is for an ECP5 design whose DSP blocks are all
used. Yosys's own soft multiplier (``$mul`` lowered to LUTs) is one combinational cloud,
and neither the ``synth_ecp5`` flow nor nextpnr retimes registers into it, so a wide one
limits the clock to a few tens of MHz; this one is pipelined by construction.

Structure
---------
1. Partial products, radix-4 Booth (default): ``b`` is recoded into ``ceil((nb+1)/2)``
   (unsigned ``b``) or ``ceil(nb/2)`` (signed ``b``) digits ``d_i`` in {-2..2}, from the bit
   triples ``b[2i+1], b[2i], b[2i-1]``. Row ``i`` is ``sel_i ^ neg_i`` at weight ``4**i``,
   where ``sel_i`` is 0, ``a`` or ``2a`` (one 5-input LUT function of ``a[j], a[j-1]`` and the
   triple per bit) and ``neg_i = b[2i+1]``; the ones' complement plus a ``neg_i`` bit at the
   row's LSB is the two's-complement ``d_i * a``. With ``booth=False`` the rows are the plain
   AND rows ``a & b[i]`` (one LUT4 per bit, twice as many rows); for signed ``b`` the top
   row is ``~a & b[nb-1]`` plus a ``b[nb-1]`` bit, i.e. ``-a * b[nb-1]``. Signed ``a`` is
   sign-extended into each row, so two's complement is exact without Baugh-Wooley constants.
2. The ``+neg_i`` bits cost no adder of their own: each goes into the empty low bits of a
   higher-weight row (row ``i+1`` starts two bits higher), or else into the carry-in of an
   adder of the tree whose LSB has the bit's weight (Yosys maps ``x + y + c`` onto one
   ``CCU2C`` chain with ``c`` as carry-in).
3. Adder tree: each pipeline stage sorts the terms by weight and adds them in groups of
   ``rows_per_stage`` (default 2: exactly one carry chain per stage, plus the partial-product
   LUT in front of the first one). Bits below the higher-weight operand pass straight
   through, and every sum is only as wide as the interval arithmetic on its operands' ranges
   says, so no adder carries dead sign-extension bits. Every stage is a register
   (``m.d.sync``, reset-less, no enable); a term left without a partner is only registered.

Latency is ``ceil(log_k(rows))`` for ``k = rows_per_stage`` (one more if a leftover
``+neg`` bit needs a term of its own, one more with ``register_rows=True``, which registers
the partial products before the first adder): 4 for an 18x18 Booth multiplier (9 rows,
9 -> 5 -> 3 -> 2 -> 1).

Measured once on a signed 18x18 instance between input and output registers (Yosys
``synth_ecp5``, nextpnr-ecp5 ``--85k --package CABGA381 --speed 6 --freq 200``; counts are
the multiplier's alone, the 72 wrapper FFs taken off; no MULT18X18D):

=====================================  =======  ====  =====  =====  =======  ========
variant                                latency  LUT4  PFUMX  CCU2C  FF       Fmax MHz
=====================================  =======  ====  =====  =====  =======  ========
Booth, ``rows_per_stage=2`` (default)  4        312   136    103    277      180
Booth, ``register_rows=True``          5        307   136    103    457      260
Booth, ``rows_per_stage=3``            3        310   136    103    148      135
Booth, ``rows_per_stage=4``            2        312   136    104    110      127
AND rows (``booth=False``)             5        324   0      175    450      212
=====================================  =======  ====  =====  =====  =======  ========

(A CCU2C holds two LUT4s: the default is about 518 LUT4 equivalents, the AND-row one 674.)
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Shape, Signal, Value, signed, unsigned

from quantize.fixed import signed_width

__all__ = ["lut_multiply", "product_shape"]


def product_shape(a_shape: Shape, b_shape: Shape) -> Shape:
    """Shape of the exact product: ``signed(na+nb)`` if either operand is signed, else
    ``unsigned(na+nb)``."""
    a_shape, b_shape = Shape.cast(a_shape), Shape.cast(b_shape)
    width = a_shape.width + b_shape.width
    return signed(width) if (a_shape.signed or b_shape.signed) else unsigned(width)


def _range_shape(lo: int, hi: int) -> Shape:
    """The narrowest shape holding every integer in ``[lo, hi]``."""
    if lo >= 0:
        return unsigned(max(hi.bit_length(), 1))
    return signed(signed_width(lo, hi))


def _bits_range(shape: Shape) -> tuple[int, int]:
    if shape.signed:
        return -(1 << (shape.width - 1)), (1 << (shape.width - 1)) - 1
    return 0, (1 << shape.width) - 1


@dataclass(eq=False)
class _Term:
    """``value << shift``, with ``value`` in ``[lo, hi]``; ``value`` is None in a dry run."""
    value: Value | None
    shift: int
    lo: int
    hi: int


@dataclass(eq=False)
class _Bit:
    """A loose 1-bit addend ``bit << pos``."""
    bit: Value | None
    pos: int


def _extend(v: Value, width: int) -> Value:
    """``v`` sign- or zero-extended (by its own signedness) to at least ``width`` bits."""
    if len(v) >= width:
        return v
    pad = width - len(v)
    if v.shape().signed:
        return Cat(v, v[-1].replicate(pad)).as_signed()
    return Cat(v, Const(0, pad))


def _add(t1: _Term, t2: _Term, cin: _Bit | None, build: bool) -> _Term:
    """``t1 + t2 (+ cin)`` as one carry chain; ``t1.shift <= t2.shift``; ``cin.pos`` must be
    the chain's LSB weight, ``t2.shift``."""
    d = t2.shift - t1.shift
    lo = t1.lo + (t2.lo << d)
    hi = t1.hi + (t2.hi << d) + ((1 << d) if cin is not None else 0)
    value = None
    if build:
        v1, v2 = _extend(t1.value, d + 1), t2.value
        high = (v1 >> d) + v2
        if cin is not None:
            high = high + cin.bit
        value = Cat(v1[:d], high).as_signed() if high.shape().signed else Cat(v1[:d], high)
        if d == 0:
            value = high
    return _Term(value, t1.shift, lo, hi)


def _sum_group(group: list[_Term], bits: list[_Bit], build: bool) -> _Term:
    """Sum ``group`` (sorted by shift) as a balanced tree of 2-input chains, taking carry-ins
    from ``bits`` (removed from it when used)."""
    while len(group) > 1:
        nxt = []
        for i in range(0, len(group) - 1, 2):
            t1, t2 = group[i], group[i + 1]
            cin = next((b for b in bits if b.pos == t2.shift), None)
            if cin is not None:
                bits.remove(cin)
            nxt.append(_add(t1, t2, cin, build))
        if len(group) % 2:
            nxt.append(group[-1])
        group = sorted(nxt, key=lambda t: t.shift)
    return group[0]


def _tree(m: Module | None, terms: list[_Term], bits: list[_Bit], k: int, name: str,
          build: bool) -> tuple[list[_Term], int]:
    """Reduce ``terms`` to one, ``k`` per stage; returns ([final term], stages). Uses (and
    removes) carry-in bits from ``bits``; those left could not be placed."""
    stages = 0
    terms = sorted(terms, key=lambda t: t.shift)
    while len(terms) > 1:
        nxt = []
        for g in range(0, len(terms), k):
            group = terms[g:g + k]
            t = _sum_group(group, bits, build) if len(group) > 1 else group[0]
            if build:
                reg = Signal(_range_shape(t.lo, t.hi), name=f"{name}_s{stages}_{g // k}",
                             reset_less=True)
                m.d.sync += reg.eq(t.value)
                t = _Term(reg, t.shift, t.lo, t.hi)
            nxt.append(t)
        terms = sorted(nxt, key=lambda t: t.shift)
        if build:
            # Carry-in bits still to come are delayed along with the terms.
            for i, b in enumerate(bits):
                reg = Signal(name=f"{name}_s{stages}_c{b.pos}", reset_less=True)
                m.d.sync += reg.eq(b.bit)
                bits[i] = _Bit(reg, b.pos)
        stages += 1
    return terms, stages


def _a_bit(a: Value, j: int) -> Value:
    if j < 0:
        return Const(0, 1)
    if j >= len(a):
        return a[-1] if a.shape().signed else Const(0, 1)
    return a[j]


def _booth_rows(a: Value, b: Value) -> tuple[list[_Term], list[_Bit]]:
    nb = len(b)
    amin, amax = _bits_range(a.shape())
    ndig = (nb + 1) // 2 if b.shape().signed else (nb + 2) // 2
    smin, smax = min(0, 2 * amin), max(0, 2 * amax)
    terms, bits = [], []
    for i in range(ndig):
        x2, x1, x0 = (_a_bit(b, 2 * i + 1), _a_bit(b, 2 * i), _a_bit(b, 2 * i - 1))
        one = x1 ^ x0
        two = (x2 & ~x1 & ~x0) | (~x2 & x1 & x0)
        has_neg = 2 * i + 1 < nb or b.shape().signed
        lo, hi = (min(smin, -smax - 1), max(smax, -smin - 1)) if has_neg else (smin, smax)
        shape = _range_shape(lo, hi)
        sel = [(one & _a_bit(a, j)) | (two & _a_bit(a, j - 1)) for j in range(shape.width)]
        if has_neg:
            row = Cat(*[s ^ x2 for s in sel])
            bits.append(_Bit(x2, 2 * i))
        else:
            row = Cat(*sel)
        terms.append(_Term(row.as_signed() if shape.signed else row, 2 * i, lo, hi))
    return terms, bits


def _and_rows(a: Value, b: Value) -> tuple[list[_Term], list[_Bit]]:
    na, nb = len(a), len(b)
    amin, amax = _bits_range(a.shape())
    terms, bits = [], []
    for i in range(nb):
        if b.shape().signed and i == nb - 1:
            # -a*b[i] = (~a & b[i]) + b[i]: the ones' complement only where b[i] is set.
            lo, hi = min(0, -amax - 1), max(0, -amin - 1)
            row = Cat(*[~_a_bit(a, j) & b[i] for j in range(na + 1)]).as_signed()
            bits.append(_Bit(b[i], i))
        else:
            lo, hi = min(0, amin), max(0, amax)
            row = Cat(*[a[j] & b[i] for j in range(na)])
            row = row.as_signed() if a.shape().signed else row
        terms.append(_Term(row, i, lo, hi))
    return terms, bits


def _place_bits(terms: list[_Term], bits: list[_Bit], k: int) -> tuple[list[_Term], list[_Bit]]:
    """Put each loose bit into the empty low bits of the lowest-weight term above it, or
    leave it for a carry-in of the tree (checked by a dry run); a bit that neither takes
    becomes a 1-bit term of its own."""
    terms = list(terms)
    pending = []
    for b in sorted(bits, key=lambda b: -b.pos):
        above = [i for i, t in enumerate(terms) if t.shift > b.pos]
        if not above:
            pending.append(b)
            continue
        idx = min(above, key=lambda i: terms[i].shift)
        t = terms[idx]
        gap = t.shift - b.pos
        v = None
        if t.value is not None:
            v = Cat(b.bit, Const(0, gap - 1), t.value) if gap > 1 else Cat(b.bit, t.value)
            v = v.as_signed() if t.value.shape().signed else v
        terms[idx] = _Term(v, b.pos, t.lo << gap, (t.hi << gap) + 1)
    while True:
        left = list(pending)
        dry = [_Term(None, t.shift, t.lo, t.hi) for t in terms]
        _tree(None, dry, left, k, "", build=False)
        if not left:
            return terms, pending
        # A bit that found no carry-in becomes a term; re-plan, since the tree changed.
        b = left[0]
        pending.remove(b)
        terms.append(_Term(b.bit, b.pos, 0, 1))


def lut_multiply(m: Module, a: Value, b: Value, name: str, *, rows_per_stage: int = 2,
                 booth: bool = True, register_rows: bool = False) -> tuple[Signal, int]:
    """Pipelined LUT-only multiplier: returns ``(p, latency)``.

    ``p`` is a Signal of shape :func:`product_shape` (``signed(len(a)+len(b))`` if either
    operand is signed, else ``unsigned(len(a)+len(b))``) equal to the exact ``a * b`` of the
    operands presented ``latency`` cycles (of ``m.d.sync``) earlier. It is free running: a
    new operand pair every cycle, no clock enable, no reset (the pipeline registers are
    reset-less). ``a`` and ``b`` may be signed or unsigned Values of any width >= 1; present
    them from registers, since the partial-product LUT sits in front of the first adder.

    Parameters
    ----------
    m : Module
        Module the logic is added to (``m.d.comb`` / ``m.d.sync``).
    a, b : Value
        Operands (``len(a) = na``, ``len(b) = nb``). Booth recodes ``b``.
    name : str
        Prefix of the generated signal names (``p`` is named ``name``).
    rows_per_stage : int
        Terms summed per group per pipeline stage (2: one carry chain per stage; 3-4: two
        chains per stage, about half the latency, lower Fmax).
    booth : bool
        Radix-4 Booth rows (default; about half the rows, adders and flip-flops) or plain
        AND rows.
    register_rows : bool
        Register the partial products before the first adder (one more cycle, more FFs,
        shorter first stage).

    Returns
    -------
    (p, latency) : (Signal, int)
        Latency is 4 for signed 18x18 with the defaults (312 LUT4 + 136 PFUMX + 103 CCU2C,
        277 FF, 180 MHz on ECP5 speed 6; the module docstring has the other variants).
    """
    if rows_per_stage < 2:
        raise ValueError(f"rows_per_stage must be >= 2, not {rows_per_stage}")
    a, b = Value.cast(a), Value.cast(b)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("operands must be at least 1 bit wide")
    out_shape = product_shape(a.shape(), b.shape())
    terms, bits = (_booth_rows if booth else _and_rows)(a, b)
    latency = 0
    if register_rows:
        regs = []
        for i, t in enumerate(terms):
            reg = Signal(_range_shape(t.lo, t.hi), name=f"{name}_row{i}", reset_less=True)
            m.d.sync += reg.eq(t.value)
            regs.append(_Term(reg, t.shift, t.lo, t.hi))
        terms = regs
        new_bits = []
        for i, bt in enumerate(bits):
            reg = Signal(name=f"{name}_neg{i}", reset_less=True)
            m.d.sync += reg.eq(bt.bit)
            new_bits.append(_Bit(reg, bt.pos))
        bits = new_bits
        latency += 1
    terms, bits = _place_bits(terms, bits, rows_per_stage)
    p = Signal(out_shape, name=name, reset_less=True)
    if len(terms) == 1:
        t = terms[0]
        m.d.sync += p.eq(Cat(Const(0, t.shift), t.value) if t.shift else t.value)
        return p, latency + 1
    # All but the last stage register into their own signals; the last into p.
    final, stages = _tree(m, terms, bits, rows_per_stage, name, build=True)
    assert not bits, "loose bits left over"
    t = final[0]
    # The tree's last register holds the full product (mod 2**width); p is a wire copy.
    m.d.comb += p.eq(Cat(Const(0, t.shift), t.value) if t.shift else t.value)
    return p, latency + stages
