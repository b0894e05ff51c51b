"""LFSR bank: maximal-length taps, seed derivation, leap-ahead, and the Amaranth RTL against
the numpy model bit for bit."""

import math

import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

from hdl.lfsr import LfsrBank as RtlLfsrBank
from quantize.lfsr import TAPS, LfsrBank, LfsrConfig, derive_seeds, splitmix64

# Fixed draws so failures reproduce; the seeds are printed in every failure message.
_SEEDS = [int(s) for s in np.random.default_rng(20240611).integers(0, 2**63, size=8)]


def _first_mismatch(what, expected, got):
    """Assert (cycles, lanes) arrays equal, naming the first differing cycle and lane."""
    expected, got = np.asarray(expected), np.asarray(got)
    assert expected.shape == got.shape, f"{what}: shape {got.shape}, expected {expected.shape}"
    bad = np.argwhere(expected != got)
    if bad.size:
        c, lane = bad[0]
        raise AssertionError(
            f"{what}: {len(bad)} mismatches; first at cycle {c}, lane {lane}: "
            f"model {int(expected[c, lane]):#x}, RTL {int(got[c, lane]):#x}"
        )


# --- taps and period -------------------------------------------------------------------------

def _windows(bits, w, n):
    """The n states of a Fibonacci LFSR: windows of w consecutive stream bits, MSB first."""
    return sum(bits[j:j + n].astype(np.int64) << (w - 1 - j) for j in range(w))


@pytest.mark.parametrize("width", range(3, 17))
def test_model_period_is_maximal(width):
    period = 2**width - 1
    bank = LfsrBank(LfsrConfig(width, 1, 1, _SEEDS[0]))
    bits = bank.run(2 * period + width)[:, 0]
    assert np.array_equal(bits[:period], bits[period:2 * period])
    states = _windows(bits, width, period)
    # every nonzero state exactly once per period, so no shorter period exists
    assert states.min() == 1 and np.unique(states).size == period


def _polymulmod(a, b, p, deg):
    r = 0
    while b:
        if b & 1:
            r ^= a
        b >>= 1
        a <<= 1
        if a >> deg & 1:
            a ^= p
    return r


def _polypow(e, p, deg):
    result, base = 1, 2  # the polynomial "x"
    while e:
        if e & 1:
            result = _polymulmod(result, base, p, deg)
        base = _polymulmod(base, base, p, deg)
        e >>= 1
    return result


def _is_prime(n):
    if n < 2:
        return False
    for q in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % q == 0:
            return n == q
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):  # deterministic below 3.3e24
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime_factors(n):
    factors, stack = set(), [n]
    while stack:
        m = stack.pop()
        if m == 1:
            continue
        if _is_prime(m):
            factors.add(m)
            continue
        for c in range(1, 100):  # Pollard's rho
            x = y = 2
            d = 1
            while d == 1:
                x = (x * x + c) % m
                y = (y * y + c) % m
                y = (y * y + c) % m
                d = math.gcd(abs(x - y), m)
            if d != m:
                stack += [d, m // d]
                break
    return factors


@pytest.mark.parametrize("width", range(3, 65))
def test_taps_give_primitive_polynomials(width):
    # x has order exactly 2**w - 1 modulo p(x) = 1 + sum x**t, which implies p is primitive
    p = 1
    for t in TAPS[width]:
        p |= 1 << t
    order = 2**width - 1
    assert _polypow(order, p, width) == 1
    for q in _prime_factors(order):
        assert _polypow(order // q, p, width) != 1, f"width {width}: order divides {order // q}"


# --- seeds and config ----------------------------------------------------------------------

def test_splitmix64_reference_value():
    assert splitmix64(0) == 0xE220A8397B1DCDAF  # first output of splitmix64 seeded with 0


@pytest.mark.parametrize("width, lanes", [(3, 7), (8, 200), (17, 64), (64, 16)])
def test_seeds_nonzero_distinct_and_deterministic(width, lanes):
    cfg = LfsrConfig(width, lanes, 1, _SEEDS[1])
    assert len(cfg.seeds) == lanes == len(set(cfg.seeds))
    assert all(0 < s < 2**width for s in cfg.seeds)
    assert cfg.seeds == derive_seeds(_SEEDS[1], width, lanes)
    assert LfsrConfig(width, lanes, 1, _SEEDS[2]).seeds != cfg.seeds
    if width == 64:  # unmasked: the splitmix64 outputs themselves
        golden = 0x9E3779B97F4A7C15
        assert cfg.seeds[:2] == tuple(splitmix64((_SEEDS[1] + j * golden) % 2**64)
                                      for j in range(2))


@pytest.mark.parametrize("kwargs, message", [
    (dict(width=2, lanes=1, bits_per_cycle=1, master_seed=0), "LfsrConfig.width must be 3..64 bits, not 2"),
    (dict(width=65, lanes=1, bits_per_cycle=1, master_seed=0), "LfsrConfig.width must be 3..64 bits, not 65"),
    (dict(width=3, lanes=8, bits_per_cycle=1, master_seed=0), "LfsrConfig.lanes must be 1..7"),
    (dict(width=8, lanes=0, bits_per_cycle=1, master_seed=0), "LfsrConfig.lanes must be 1..255"),
    (dict(width=8, lanes=1, bits_per_cycle=9, master_seed=0), "LfsrConfig.bits_per_cycle must be 1..8"),
    (dict(width=64, lanes=1, bits_per_cycle=64, master_seed=0), "LfsrConfig.bits_per_cycle must be 1..63"),
    (dict(width=8, lanes=1, bits_per_cycle=0, master_seed=0), "LfsrConfig.bits_per_cycle must be 1..8"),
    (dict(width=8, lanes=1, bits_per_cycle=1, master_seed=-1), "LfsrConfig.master_seed must be 0.."),
    (dict(width=8, lanes=1, bits_per_cycle=1, master_seed=2**64), "LfsrConfig.master_seed must be 0.."),
    (dict(width=8.0, lanes=1, bits_per_cycle=1, master_seed=0), "LfsrConfig.width must be an int"),
    (dict(width=8, lanes=True, bits_per_cycle=1, master_seed=0), "LfsrConfig.lanes must be an int"),
])
def test_bad_configs_raise(kwargs, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        LfsrConfig(**kwargs)


# --- leap-ahead ----------------------------------------------------------------------------

@pytest.mark.parametrize("width, lanes, k", [(5, 3, 5), (13, 4, 7), (37, 2, 11), (64, 3, 63)])
def test_leap_ahead_equals_single_stepping(width, lanes, k):
    cycles = 200
    single = LfsrBank(LfsrConfig(width, lanes, 1, _SEEDS[3])).run(cycles * k)  # (cycles*k, lanes)
    weights = 1 << np.arange(k - 1, -1, -1, dtype=np.int64)  # earliest bit is the MSB
    packed = (single.reshape(cycles, k, lanes) * weights[None, :, None]).sum(axis=1)
    cfg = LfsrConfig(width, lanes, k, _SEEDS[3])
    stepped = LfsrBank(cfg)
    words = np.array([stepped.step() for _ in range(cycles)])  # leap matrix path
    _first_mismatch(f"leap matrix vs single steps, {cfg}", packed, words)
    bank = LfsrBank(cfg)
    _first_mismatch(f"run() vs step(), {cfg}", words, bank.run(cycles))  # recurrence path
    assert np.array_equal(bank.state, stepped.state)
    bank.reseed()
    assert tuple(int(s) for s in bank.state) == cfg.seeds


def test_run_is_chunk_independent_and_step_matches_run():
    cfg = LfsrConfig(19, 5, 3, _SEEDS[4])
    whole = LfsrBank(cfg).run(3000)
    bank = LfsrBank(cfg)
    parts = np.concatenate([bank.run(1000), bank.run(0), bank.run(1999), bank.step()[None]])
    _first_mismatch(f"run in pieces, {cfg}", whole, parts)
    with pytest.raises(ValueError, match="nonzero 19-bit"):
        bank.state = [1, 2, 0, 3, 4]
    with pytest.raises(ValueError, match="nonzero 19-bit"):
        bank.state = [1, 2, 2**19, 3, 4]


# --- RTL -----------------------------------------------------------------------------------

def _simulate_rtl(cfg, en, reseed):
    """Words on ``bits`` in each cycle, (cycles, lanes), driving ``en``/``reseed`` per cycle."""
    dut = RtlLfsrBank(cfg)
    cycles = len(en)
    got = np.zeros((cycles, cfg.lanes), dtype=np.int64)

    async def bench(ctx):
        for c in range(cycles):
            ctx.set(dut.en, int(en[c]))
            ctx.set(dut.reseed, int(reseed[c]))
            word = ctx.get(dut.bits)
            got[c] = [word[lane] for lane in range(cfg.lanes)]
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return got


def _expected(cfg, en, reseed):
    """The model's words per cycle under the same en/reseed drive (latency 0)."""
    index = np.zeros(len(en), dtype=np.int64)
    for c in range(1, len(en)):
        index[c] = 0 if reseed[c - 1] else index[c - 1] + en[c - 1]
    words = LfsrBank(cfg).run(int(index.max()) + 1)
    return words[index]


@pytest.mark.parametrize("width, lanes, k, seed", [
    (13, 3, 5, _SEEDS[5]), (31, 4, 8, _SEEDS[6]), (64, 2, 63, _SEEDS[7]),
], ids=lambda v: str(v))
def test_rtl_matches_model(width, lanes, k, seed):
    cfg = LfsrConfig(width, lanes, k, seed)
    cycles = 2500
    rng = np.random.default_rng(seed % 2**32)
    en = np.ones(cycles, dtype=np.int64)
    en[:500] = rng.random(500) < 0.7  # stalls, then free running
    reseed = np.zeros(cycles, dtype=np.int64)
    reseed[[300, 301, 450]] = 1
    _first_mismatch(f"RTL vs model, {cfg}", _expected(cfg, en, reseed),
                    _simulate_rtl(cfg, en, reseed))


@pytest.mark.parametrize("width", [4, 5, 7])
def test_rtl_period(width):
    # bits_per_cycle = width, coprime with 2**w - 1: the word is the whole state, and it visits
    # every nonzero state once before returning to the seed
    period = 2**width - 1
    cfg = LfsrConfig(width, 2, width, _SEEDS[0])
    ones = np.ones(period + 1, dtype=np.int64)
    got = _simulate_rtl(cfg, ones, 0 * ones)
    for lane in range(cfg.lanes):
        assert got[0, lane] == got[period, lane] == cfg.seeds[lane]
        assert sorted(got[:period, lane]) == list(range(1, period + 1))


def test_rtl_interface_and_verilog_export():
    cfg = LfsrConfig(11, 3, 4, 1)
    dut = RtlLfsrBank(cfg)
    assert dut.latency == 0
    assert dut.bits.shape().size == 12 and dut.bits.shape().length == 3
    text = verilog.convert(dut, name="lfsr_bank")
    assert "module lfsr_bank" in text and "reseed" in text
