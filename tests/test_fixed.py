"""Fixed-point formats: numpy reference against exact Python integers, and the Amaranth
helpers of hdl/fixed.py against the numpy ones (exhaustive for small widths, random for wide),
evaluated in the Amaranth simulator."""

import itertools

import numpy as np
import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import data
from amaranth.sim import Simulator

from hdl import fixed as hfx
from quantize import fixed as qfx
from quantize.fixed import Fixed

MODES = list(itertools.product(qfx.ROUNDING_MODES, qfx.OVERFLOW_MODES))


# --- exact Python-int references (independent of the numpy tricks) ---------------------------

def _ref_shift(x: int, n: int, mode: str) -> int:
    return (x + (1 << (n - 1) if n else 0)) >> n if mode == "round_half_up" else x >> n


def _ref_resize(x: int, ff: Fixed, ft: Fixed, rounding: str, overflow: str):
    s = ft.frac - ff.frac
    y = x << s if s >= 0 else _ref_shift(x, -s, rounding)
    over = not ft.min_int <= y <= ft.max_int
    if overflow == "saturate":
        return min(max(y, ft.min_int), ft.max_int), over
    return (y - ft.min_int) % (1 << ft.width) + ft.min_int, over


# --- simulator harness ---------------------------------------------------------------------

def _simulate(build, in_fmts, inputs, lanes=4):
    """Evaluate a combinational ``build(*values) -> [(value, expected_shape), ...]`` on vectors.

    ``lanes`` copies of the circuit see ``lanes`` input vectors per simulator step; returns
    one int64 array per output, shape (N,) like the ``inputs`` arrays.
    """
    n = len(inputs[0])
    lanes = min(lanes, n)
    ins = [Signal(data.ArrayLayout(hfx.shape_of(f), lanes)) for f in in_fmts]
    m = Module()
    outs = None
    for k in range(lanes):
        results = build(*[s[k] for s in ins])
        if outs is None:
            for value, shape in results:
                assert value.shape() == shape, f"helper returned {value.shape()}, not {shape}"
            outs = [Signal(data.ArrayLayout(shape, lanes)) for _, shape in results]
        for o, (value, _) in zip(outs, results):
            m.d.comb += o[k].eq(value)
    got = [np.zeros(n, dtype=np.int64) for _ in outs]

    async def bench(ctx):
        for start in range(0, n, lanes):
            idx = np.arange(start, start + lanes) % n
            for s, arr in zip(ins, inputs):
                ctx.set(s, [int(v) for v in arr[idx]])
            for o, g in zip(outs, got):
                c = ctx.get(o)
                g[idx] = [c[k] for k in range(lanes)]

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    return got


def _all_ints(fmt):
    return np.arange(fmt.min_int, fmt.max_int + 1, dtype=np.int64)


def _random_ints(fmt, n, rng):
    # the extremes always, then uniform values; Python ints so 64-bit ranges work
    vals = [fmt.min_int, fmt.max_int, 0, fmt.min_int + 1, fmt.max_int - 1]
    vals += [int(v) for v in rng.integers(fmt.min_int, fmt.max_int, size=n - len(vals),
                                          endpoint=True, dtype=np.int64)]
    return np.array(vals, dtype=np.int64)


def _assert_equal(what, inputs, expected, got):
    bad = np.flatnonzero(np.asarray(expected) != np.asarray(got))
    if bad.size:
        i = bad[0]
        args = ", ".join(str(int(a[i])) for a in inputs)
        raise AssertionError(
            f"{what}: {bad.size} mismatches, first for input ({args}): "
            f"model {int(np.asarray(expected)[i])}, RTL {int(np.asarray(got)[i])}"
        )


# --- Fixed format --------------------------------------------------------------------------

def test_format_properties():
    f = Fixed(8, 4)
    assert (f.min_int, f.max_int, f.lsb, f.min, f.max) == (-128, 127, 1 / 16, -8.0, 127 / 16)
    u = Fixed(6, -2, signed=False)
    assert (u.min_int, u.max_int, u.lsb, u.min, u.max) == (0, 63, 4.0, 0.0, 252.0)
    assert (Fixed(64, 0).min_int, Fixed(64, 0).max_int) == (-(2**63), 2**63 - 1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(width=70, frac=0), "Fixed.width must be 1..64 bits, not 70"),
    (dict(width=0, frac=0), "Fixed.width must be 1..64 bits, not 0"),
    (dict(width=64, frac=0, signed=False), "unsigned Fixed.width must be 1..63 bits"),
    (dict(width=8, frac=200), "Fixed.frac must be -128..128 bits, not 200"),
    (dict(width=8.0, frac=0), "Fixed.width must be an int"),
    (dict(width=8, frac=0, signed=1), "Fixed.signed must be a bool"),
])
def test_bad_formats_raise(kwargs, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        Fixed(**kwargs)


def test_to_int_rounding_and_to_float():
    f = Fixed(8, 2)
    x = np.array([0.125, -0.125, 0.375, -0.375, 1.0, 31.75, -32.0])
    assert f.to_int(x).tolist() == [1, 0, 2, -1, 4, 127, -128]  # ties go up
    assert f.to_int(x, rounding="trunc").tolist() == [0, -1, 1, -2, 4, 127, -128]
    q = _all_ints(f)
    assert np.array_equal(f.to_int(f.to_float(q)), q)  # every code round-trips


@pytest.mark.parametrize("x", [32.0, -32.2, np.nan, np.inf])
def test_to_int_out_of_range_is_an_error(x):
    with pytest.raises(ValueError):
        Fixed(8, 2).to_int([0.0, x])


def test_product_and_sum_formats():
    assert qfx.product_format(Fixed(8, 4), Fixed(6, 2)) == Fixed(14, 6)
    assert qfx.product_format(Fixed(8, 4, False), Fixed(6, 2, False)) == Fixed(14, 6, False)
    assert qfx.product_format(Fixed(8, 0), Fixed(6, 0, False)) == Fixed(14, 0)
    assert qfx.sum_format(Fixed(8, 4), Fixed(6, 2)) == Fixed(9, 4)
    assert qfx.sum_format(Fixed(8, 0, False), Fixed(8, 0)) == Fixed(10, 0)
    with pytest.raises(ValueError, match="product needs 65 bits"):
        qfx.product_format(Fixed(40, 0), Fixed(25, 0))


def test_bad_modes_raise():
    with pytest.raises(ValueError, match="rounding must be one of"):
        qfx.shift_right([1], 1, "nearest")
    with pytest.raises(ValueError, match="overflow must be one of"):
        qfx.resize([1], Fixed(8, 0), Fixed(4, 0), "trunc", "clip")


# --- numpy reference against exact integers -----------------------------------------------

def test_shift_right_matches_exact_integers_including_int64_extremes():
    x = np.array([-(2**63), 2**63 - 1, -1, 0, 1, -5, 5, -6, 6, 7, -7], dtype=np.int64)
    for n, mode in itertools.product([0, 1, 2, 3, 62, 63, 64, 100], qfx.ROUNDING_MODES):
        got = qfx.shift_right(x, n, mode)
        assert got.tolist() == [_ref_shift(int(v), n, mode) for v in x], (n, mode)


SMALL_FORMATS = [Fixed(8, 3), Fixed(8, 0, False), Fixed(6, 5), Fixed(7, -1, False), Fixed(1, 0)]
TARGETS = [Fixed(4, 1), Fixed(5, 3, False), Fixed(10, 6), Fixed(6, 0), Fixed(3, 4, False),
           Fixed(8, -2), Fixed(12, 9, False), Fixed(1, 0)]


def test_resize_matches_exact_integers_exhaustively():
    for ff, ft, (rnd, ovf) in itertools.product(SMALL_FORMATS, TARGETS, MODES):
        x = _all_ints(ff)
        ref = [_ref_resize(int(v), ff, ft, rnd, ovf) for v in x]
        got, count = qfx.resize(x, ff, ft, rnd, ovf)
        assert got.tolist() == [r[0] for r in ref], (ff, ft, rnd, ovf)
        assert count == sum(r[1] for r in ref), (ff, ft, rnd, ovf)
        assert qfx.overflow_mask(x, ff, ft, rnd).tolist() == [r[1] for r in ref]


def test_resize_wide_and_huge_shifts():
    rng = np.random.default_rng(1)
    ff = Fixed(64, 10)
    x = _random_ints(ff, 500, rng)
    for ft, (rnd, ovf) in itertools.product(
            [Fixed(64, 40), Fixed(20, 0), Fixed(63, 90, False), Fixed(16, -60), Fixed(64, 10)],
            MODES):
        ref = [_ref_resize(int(v), ff, ft, rnd, ovf) for v in x]
        got, count = qfx.resize(x, ff, ft, rnd, ovf)
        assert got.tolist() == [r[0] for r in ref], (ft, rnd, ovf)
        assert count == sum(r[1] for r in ref), (ft, rnd, ovf)
        assert qfx.overflow_mask(x, ff, ft, rnd).tolist() == [r[1] for r in ref]


def test_saturate_counts_and_wrap():
    f = Fixed(4, 0)
    v, count = qfx.saturate([-20, -8, 0, 7, 8, 100], f)
    assert v.tolist() == [-8, -8, 0, 7, 7, 7] and count == 3
    assert qfx.wrap([-9, 8, 15, 16], f).tolist() == [7, -8, -1, 0]
    assert qfx.wrap([-1, 16, 17], Fixed(4, 0, False)).tolist() == [15, 0, 1]
    assert qfx.out_of_range([-9, -8, 7, 8], f).tolist() == [True, False, False, True]


def test_mul_and_add_match_exact_integers():
    fa, fb, fo = Fixed(6, 3), Fixed(5, 2, False), Fixed(6, 2)
    a, b = np.meshgrid(_all_ints(fa), _all_ints(fb), indexing="ij")
    a, b = a.ravel(), b.ravel()
    pf, sf = Fixed(11, 5), Fixed(8, 3)
    for rnd, ovf in MODES:
        ref = [_ref_resize(int(x) * int(y), pf, fo, rnd, ovf) for x, y in zip(a, b)]
        got, count = qfx.mul(a, fa, b, fb, fo, rnd, ovf)
        assert got.tolist() == [r[0] for r in ref] and count == sum(r[1] for r in ref)
        ref = [_ref_resize(int(x) + (int(y) << 1), sf, fo, rnd, ovf) for x, y in zip(a, b)]
        got, count = qfx.add(a, fa, b, fb, fo, rnd, ovf)
        assert got.tolist() == [r[0] for r in ref] and count == sum(r[1] for r in ref)


# --- Amaranth helpers equal the numpy reference --------------------------------------------

@pytest.mark.parametrize("fmt", [Fixed(8, 0), Fixed(8, 0, signed=False)], ids=str)
def test_hdl_shift_right_exhaustive(fmt):
    cases = list(itertools.product(range(0, 11), qfx.ROUNDING_MODES))

    def build(x):
        outs = [hfx.shift_right(x, n, mode) for n, mode in cases]
        return [(v, v.shape()) for v in outs]

    x = _all_ints(fmt)
    got = _simulate(build, [fmt], [x])
    for (n, mode), g in zip(cases, got):
        _assert_equal(f"shift_right({fmt}, {n}, {mode})", [x], qfx.shift_right(x, n, mode), g)


def _check_resize(ff, targets, x):
    cases = list(itertools.product(targets, MODES))

    def build(v):
        outs = []
        for ft, (rnd, ovf) in cases:
            value, flag = hfx.resize(v, ff, ft, rnd, ovf)
            outs += [(value, hfx.shape_of(ft)), (flag, flag.shape())]
        return outs

    got = _simulate(build, [ff], [x])
    for i, (ft, (rnd, ovf)) in enumerate(cases):
        what = f"resize({ff} -> {ft}, {rnd}, {ovf})"
        expected, count = qfx.resize(x, ff, ft, rnd, ovf)
        _assert_equal(what, [x], expected, got[2 * i])
        flags = got[2 * i + 1]
        _assert_equal(what + " flag", [x], qfx.overflow_mask(x, ff, ft, rnd), flags)
        assert count == flags.sum(), what


@pytest.mark.parametrize("ff", SMALL_FORMATS, ids=str)
def test_hdl_resize_exhaustive(ff):
    _check_resize(ff, TARGETS, _all_ints(ff))


@pytest.mark.parametrize("ff, targets", [
    (Fixed(32, 16), [Fixed(16, 8), Fixed(40, 20), Fixed(20, 0, False), Fixed(24, 30)]),
    (Fixed(64, 20), [Fixed(64, 30), Fixed(33, 1), Fixed(63, 20, False), Fixed(16, -40)]),
    (Fixed(48, 0, False), [Fixed(24, -20), Fixed(40, 0), Fixed(50, 4)]),
], ids=str)
def test_hdl_resize_random_wide(ff, targets):
    _check_resize(ff, targets, _random_ints(ff, 1024, np.random.default_rng(ff.width)))


def _check_binary(op, fa, fb, out_fmts, a, b):
    cases = list(itertools.product(out_fmts, MODES))
    hop, qop = getattr(hfx, op), getattr(qfx, op)

    def build(x, y):
        outs = []
        for fo, (rnd, ovf) in cases:
            value, flag = hop(x, fa, y, fb, fo, rnd, ovf)
            outs += [(value, hfx.shape_of(fo)), (flag, flag.shape())]
        return outs

    got = _simulate(build, [fa, fb], [a, b])
    for i, (fo, (rnd, ovf)) in enumerate(cases):
        what = f"{op}({fa}, {fb} -> {fo}, {rnd}, {ovf})"
        expected, count = qop(a, fa, b, fb, fo, rnd, ovf)
        _assert_equal(what, [a, b], expected, got[2 * i])
        _assert_equal(what + " flag", [a, b], _binary_overflow(op, a, fa, b, fb, fo, rnd),
                      got[2 * i + 1])
        assert count == got[2 * i + 1].sum(), what


def _binary_overflow(op, a, fa, b, fb, fo, rnd):
    if op == "mul":
        return qfx.overflow_mask(a * b, qfx.product_format(fa, fb), fo, rnd)
    sf = qfx.sum_format(fa, fb)
    total = qfx.shift_left(a, sf.frac - fa.frac) + qfx.shift_left(b, sf.frac - fb.frac)
    return qfx.overflow_mask(total, sf, fo, rnd)


def _grid(fa, fb):
    a, b = np.meshgrid(_all_ints(fa), _all_ints(fb), indexing="ij")
    return a.ravel(), b.ravel()


@pytest.mark.parametrize("op", ["mul", "add"])
@pytest.mark.parametrize("fa, fb", [
    (Fixed(6, 3), Fixed(6, 2)),
    (Fixed(6, 4, False), Fixed(5, 1)),
    (Fixed(6, 0, False), Fixed(6, 6, False)),
], ids=str)
def test_hdl_binary_exhaustive(op, fa, fb):
    outs = [Fixed(6, 3), Fixed(4, 0, False), Fixed(8, 5)]
    _check_binary(op, fa, fb, outs, *_grid(fa, fb))


@pytest.mark.parametrize("op", ["mul", "add"])
def test_hdl_binary_random_wide(op):
    fa, fb = Fixed(32, 20), Fixed(24, 8, False)
    rng = np.random.default_rng(7)
    a, b = _random_ints(fa, 512, rng), _random_ints(fb, 512, rng)
    outs = [Fixed(32, 16), Fixed(18, 10, False), Fixed(56, 28)]
    _check_binary(op, fa, fb, outs, a, b)


def test_hdl_resize_rejects_wrong_shape():
    with pytest.raises(ValueError, match="needs signed"):
        hfx.resize(Signal(8), Fixed(8, 0), Fixed(4, 0))


# One rounding shift, one signed width (issue 15) ----------------------------------------------------
def test_rshift_round_is_shift_right_half_up():
    """quantize.snn.rshift_round (the crossbar tiles' rounding) is fixed.shift_right's
    round-half-up, and equals the tile formula floor((x + 2**(s-1)) / 2**s) wherever that does
    not overflow; negative shifts shift left."""
    from quantize.snn import rshift_round

    rng = np.random.default_rng(5)
    x = np.concatenate([np.arange(-300, 300), rng.integers(-(1 << 40), 1 << 40, 4000)]).astype(np.int64)
    for s in range(0, 20):
        want = (x + (np.int64(1) << (s - 1))) >> s if s else x
        assert np.array_equal(rshift_round(x, s), want), s
        assert np.array_equal(rshift_round(x, s), qfx.shift_right(x, s, "round_half_up")), s
    assert np.array_equal(rshift_round(x[:50], -3), x[:50] << 3)
    # no intermediate overflow at the top of int64 (the textbook formula would wrap here)
    top = np.array([np.iinfo(np.int64).max], np.int64)
    assert rshift_round(top, 1)[0] == 1 << 62


def test_signed_width_is_the_narrowest_word():
    """signed_width(lo, hi) bits hold every integer of [lo, hi] and, for lo < 0, one bit fewer
    does not; the former copies' value for lo >= 0 (one bit more) is kept."""
    from quantize.fixed import signed_width

    for lo in range(-70, 0):
        for hi in range(0, 70):
            w = signed_width(lo, hi)
            assert -(1 << (w - 1)) <= lo and hi <= (1 << (w - 1)) - 1, (lo, hi, w)
            if w > 1:
                assert lo < -(1 << (w - 2)) or hi > (1 << (w - 2)) - 1, (lo, hi, w)
    assert signed_width(-1, 0) == 1 and signed_width(-128, 127) == 8
    assert signed_width(0, 0) == 2 and signed_width(0, 1) == 2 and signed_width(0, 127) == 8
    assert signed_width(np.int64(-129), np.int64(0)) == 9
