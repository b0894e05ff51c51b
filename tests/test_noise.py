"""Gaussian noise source: exact config numbers, the model against an independent bit-level
reference, the Amaranth RTL against the model bit for bit, sample statistics with bounds
derived from the sample size, and config validation."""

import math
from fractions import Fraction

import numpy as np
import pytest
from amaranth.back import rtlil, verilog
from amaranth.sim import Simulator

from hdl.noise import GaussianNoise as RtlNoise
from quantize.fixed import Fixed
from quantize.lfsr import TAPS, LfsrBank
from quantize.noise import COMPONENTS, GaussianNoise, NoiseConfig

# Fixed draws so failures reproduce; the config (with its seed) is in every failure message.
_SEEDS = [int(s) for s in np.random.default_rng(20240612).integers(0, 2**63, size=8)]


def _first_mismatch(what, expected, got):
    """Assert (cycles, lanes, 3) arrays equal, naming the first differing cycle, lane, field."""
    expected, got = np.asarray(expected), np.asarray(got)
    assert expected.shape == got.shape, f"{what}: shape {got.shape}, expected {expected.shape}"
    bad = np.argwhere(expected != got)
    if bad.size:
        c, lane, comp = bad[0]
        raise AssertionError(
            f"{what}: {len(bad)} mismatches; first at cycle {c}, lane {lane}, component "
            f"{COMPONENTS[comp]}: model {int(expected[c, lane, comp])}, "
            f"RTL {int(got[c, lane, comp])}")


# --- exact numbers ---------------------------------------------------------------------------

def _pmf(cfg):
    """Exact pmf of the stored sample q over -max_abs..max_abs (step 1), by convolution."""
    p = np.ones(1 << cfg.uniform_bits, dtype=object)  # exact integer counts
    total = np.array([1], dtype=object)
    for _ in range(cfg.n_uniforms):
        total = np.convolve(total, p)
    scale = 2 if cfg.n_uniforms % 2 else 1  # q = scale * S - max_abs
    pmf = np.zeros(2 * cfg.max_abs + 1, dtype=object)
    pmf[::scale] = total
    return pmf / Fraction(1 << (cfg.uniform_bits * cfg.n_uniforms))


def _moments(cfg):
    """Exact central moments (mu2, mu4, mu6, mu8) of q in LSB powers, from cumulants.

    A uniform on n = 2**b unit-spaced levels has cumulants kappa_r = B_r (n**r - 1) / r for
    even r (Bernoulli numbers B_2 = 1/6, B_4 = -1/30, B_6 = 1/42, B_8 = -1/30) and zero odd
    ones; cumulants of a sum of k add, and scale by 2**r when q doubles (k odd).
    """
    n, k = 1 << cfg.uniform_bits, cfg.n_uniforms
    s = 2 if k % 2 else 1
    bern = {2: Fraction(1, 6), 4: Fraction(-1, 30), 6: Fraction(1, 42), 8: Fraction(-1, 30)}
    c2, c4, c6, c8 = (k * bern[r] * (n**r - 1) / r * s**r for r in (2, 4, 6, 8))
    return (c2, c4 + 3 * c2**2, c6 + 15 * c4 * c2 + 15 * c2**3,
            c8 + 28 * c6 * c2 + 35 * c4**2 + 210 * c4 * c2**2 + 105 * c2**4)


@pytest.mark.parametrize("k, b", [(1, 1), (2, 1), (3, 3), (4, 7), (5, 2), (12, 5), (12, 4)])
def test_exact_numbers_match_the_pmf(k, b):
    cfg = NoiseConfig(n_uniforms=k, uniform_bits=b)
    pmf = _pmf(cfg)
    q = np.arange(-cfg.max_abs, cfg.max_abs + 1)
    assert sum(pmf) == 1 and pmf[0] > 0 and pmf[-1] > 0 and list(pmf) == list(pmf[::-1])
    mu = [sum(pmf * q.astype(object) ** r) for r in (2, 4, 6, 8)]
    assert tuple(mu) == _moments(cfg)
    assert cfg.variance_lsb2 == mu[0]
    assert cfg.variance == pytest.approx(float(mu[0]) * 4.0**-cfg.out_frac, rel=1e-15)
    assert cfg.excess_kurtosis == pytest.approx(float(mu[1] / mu[0] ** 2 - 3), rel=1e-12)
    assert cfg.tail_sigma == pytest.approx(cfg.max_abs / math.sqrt(mu[0]))
    fmt = cfg.out_fmt
    assert fmt.min_int <= -cfg.max_abs and cfg.max_abs <= fmt.max_int < 2 * cfg.max_abs + 1


def test_default_config():
    cfg = NoiseConfig()
    assert (cfg.uniform_bits, cfg.n_uniforms, cfg.out_frac, cfg.lfsr_width) == (5, 12, 5, 64)
    assert cfg.out_fmt == Fixed(9, 5, True)
    assert cfg.variance == 1 - 4.0**-5  # Irwin-Hall with 12 uniforms: N(0, 1 - 4**-b)
    assert (cfg.lfsrs_per_lane, cfg.bits_per_lfsr, cfg.latency) == (3, 60, 2)
    assert cfg.tail_sigma == pytest.approx(math.sqrt(36 * 31 / 33))
    assert NoiseConfig(n_uniforms=5, uniform_bits=3).out_frac == 4  # odd k: one more LSB
    assert NoiseConfig(out_frac=0).variance == 1023.0


@pytest.mark.parametrize("width", range(41, 65))
@pytest.mark.parametrize("k, b", [(12, 5), (4, 7), (64, 16), (1, 1)])
def test_lfsr_allocation_keeps_one_xor_level(width, k, b):
    cfg = NoiseConfig(lanes=2, n_uniforms=k, uniform_bits=b, lfsr_width=width)
    lc = cfg.lfsr_config
    assert lc.width == width and lc.lanes == 2 * cfg.lfsrs_per_lane
    assert cfg.bits_per_lfsr <= cfg.max_leap == min(TAPS[width])
    pool = cfg.lfsrs_per_lane * cfg.bits_per_lfsr
    assert 3 * k * b <= pool < 3 * k * b + cfg.lfsrs_per_lane  # waste < 1 bit per LFSR
    # every new state bit is a plain copy or the XOR of len(taps) old bits: one LUT level
    assert {bin(r).count("1") for r in lc.leap_masks} <= {1, len(TAPS[width])}


# --- model -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [
    dict(lanes=2, master_seed=_SEEDS[0]),
    dict(lanes=3, n_uniforms=5, uniform_bits=3, lfsr_width=41, master_seed=_SEEDS[1]),
    dict(lanes=1, n_uniforms=4, uniform_bits=7, lfsr_width=50, master_seed=_SEEDS[2]),
], ids=lambda kw: f"k{kw.get('n_uniforms', 12)}b{kw.get('uniform_bits', 5)}")
def test_model_matches_bit_level_reference(kw):
    """Unpack the LFSR words into each lane's pool, MSB first, cut b-bit uniforms, sum."""
    cfg = NoiseConfig(**kw)
    cycles, k, b = 3000, cfg.n_uniforms, cfg.uniform_bits
    words = LfsrBank(cfg.lfsr_config).run(cycles)  # (cycles, lanes * lfsrs_per_lane)
    shifts = np.arange(cfg.bits_per_lfsr - 1, -1, -1)
    bits = (words[:, :, None] >> shifts) & 1  # (cycles, lanes * G, bits_per_lfsr)
    pool = bits.reshape(cycles, cfg.lanes, -1)[:, :, :3 * k * b]
    u = (pool.reshape(cycles, cfg.lanes, 3, k, b) << np.arange(b - 1, -1, -1)).sum(axis=4)
    s = u.sum(axis=3)
    want = 2 * s - k * (2**b - 1) if k % 2 else s - k * (2**b - 1) // 2
    got = GaussianNoise(cfg).run(cycles + cfg.latency)
    assert not got[:cfg.latency].any()  # zero-reset pipeline
    _first_mismatch(f"model vs bit-level reference, {cfg}", want, got[cfg.latency:])


def test_step_run_en_and_reseed():
    cfg = NoiseConfig(lanes=3, n_uniforms=6, uniform_bits=4, levels_per_stage=1,
                      master_seed=_SEEDS[3])
    assert cfg.latency == 3
    ref = GaussianNoise(cfg).run(500)
    m = GaussianNoise(cfg)
    parts = np.concatenate([m.run(200), m.run(0), m.run(299), m.step()[None]])
    _first_mismatch(f"run in pieces, {cfg}", ref, parts)
    m.reseed()
    held = [m.step() for _ in range(5)] + [m.step(en=False) for _ in range(4)]
    assert np.array_equal(np.array(held), ref[[0, 1, 2, 3, 4, 5, 5, 5, 5]])
    m.step(reseed=True)  # reseed wins over en and clears the pipeline
    _first_mismatch(f"after reseed, {cfg}", ref[:50], m.run(50))
    with pytest.raises(ValueError, match="cycles must be >= 0"):
        m.run(-1)


# --- RTL -------------------------------------------------------------------------------------

def _simulate_rtl(cfg, en, reseed, dut=None):
    """Samples on the RTL output in each cycle, (cycles, lanes, 3), driving ``en`` (the integer
    on the ``en`` port each cycle) and ``reseed``; ``dut`` defaults to ``RtlNoise(cfg)``."""
    dut = dut if dut is not None else RtlNoise(cfg)
    w = cfg.out_fmt.width
    raw = []

    async def bench(ctx):
        for c in range(len(en)):
            ctx.set(dut.en, int(en[c]))
            ctx.set(dut.reseed, int(reseed[c]))
            raw.append(ctx.get(dut.samples.as_value()))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    # lane-major, then x, y, z from the LSB (ArrayLayout of StructLayout)
    fields = np.array([[(r >> (i * w)) & ((1 << w) - 1) for i in range(3 * cfg.lanes)]
                       for r in raw], dtype=np.int64)
    fields -= (fields >> (w - 1)) << w  # two's complement
    return fields.reshape(len(en), cfg.lanes, 3)


def _expected(cfg, en, reseed):
    model = GaussianNoise(cfg)
    return np.array([model.step(bool(e), bool(r)) for e, r in zip(en, reseed)])


@pytest.mark.parametrize("kw, cycles", [
    (dict(lanes=3, uniform_bits=5, n_uniforms=12, master_seed=_SEEDS[4]), 5000),
    (dict(lanes=2, uniform_bits=3, n_uniforms=5, lfsr_width=41, levels_per_stage=1,
          master_seed=_SEEDS[5]), 5000),
    (dict(lanes=5, uniform_bits=7, n_uniforms=4, lfsr_width=50, levels_per_stage=3,
          out_frac=3, master_seed=_SEEDS[6]), 5000),
    (dict(lanes=2, uniform_bits=1, n_uniforms=1, master_seed=_SEEDS[7]), 400),
    (dict(lanes=1, uniform_bits=1, n_uniforms=2, lfsr_width=47, master_seed=_SEEDS[7]), 400),
], ids=["k12b5", "k5b3", "k4b7", "k1b1", "k2b1"])
def test_rtl_matches_model(kw, cycles):
    cfg = NoiseConfig(**kw)
    rng = np.random.default_rng(cfg.master_seed % 2**32)
    en = (rng.random(cycles) < 0.75).astype(np.int64)  # random stalls throughout
    reseed = np.zeros(cycles, dtype=np.int64)
    reseed[[cycles // 10, cycles // 10 + 1, cycles // 3]] = 1
    got = _simulate_rtl(cfg, en, reseed)
    _first_mismatch(f"RTL vs model, {cfg}", _expected(cfg, en, reseed), got)
    assert np.abs(got).max() <= cfg.max_abs


@pytest.mark.parametrize("copies", [False, True], ids=["lane-enables", "enable-copies"])
def test_rtl_lane_enables_match_the_model_per_lane(copies):
    """Per-lane enables (and their per-LFSR / per-tree copies, as the integrator drives them):
    each lane, stalled on its own, gives the model's samples for that lane's enables."""
    cfg = NoiseConfig(lanes=3, uniform_bits=5, n_uniforms=12, master_seed=_SEEDS[3])
    dut = RtlNoise(cfg, lane_enables=True, enable_copies=copies)
    assert dut.copies == (cfg.lfsrs_per_lane + 3 if copies else 1)
    cycles = 1500
    rng = np.random.default_rng(17)
    en = (rng.random((cycles, cfg.lanes)) < 0.7).astype(np.int64)
    words = [sum(int(en[c, lane]) << (lane * dut.copies + j) for lane in range(cfg.lanes) for j in range(dut.copies))
             for c in range(cycles)]
    got = _simulate_rtl(cfg, words, np.zeros(cycles, dtype=np.int64), dut)
    for lane in range(cfg.lanes):
        want = _expected(cfg, en[:, lane], np.zeros(cycles, dtype=np.int64))[:, lane]
        _first_mismatch(f"lane {lane} ({'copies' if copies else 'one enable'})", want[:, None], got[:, lane:lane + 1])
    with pytest.raises(ValueError, match="enable_copies needs lane_enables"):
        RtlNoise(cfg, enable_copies=True)


def test_rtl_interface_and_export():
    cfg = NoiseConfig(lanes=3, n_uniforms=5, uniform_bits=3)
    dut = RtlNoise(cfg)
    assert dut.latency == cfg.latency == 2
    layout = dut.samples.shape()
    assert layout.length == 3 and layout.elem_shape.size == 3 * cfg.out_fmt.width
    assert list(dict(layout.elem_shape).keys()) == list(COMPONENTS)
    assert "$mul" not in rtlil.convert(RtlNoise(NoiseConfig(lanes=2)))  # no multipliers
    text = verilog.convert(dut, name="gaussian_noise")
    assert "module gaussian_noise" in text and "reseed" in text


# --- statistics ------------------------------------------------------------------------------

def _corr(a, b):
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


@pytest.mark.parametrize("kw", [dict(master_seed=_SEEDS[0]),
                                dict(n_uniforms=4, uniform_bits=7, master_seed=_SEEDS[1])],
                         ids=["k12b5", "k4b7"])
def test_statistics(kw):
    """Moments and correlations of 200,000 cycles x 4 lanes, with bounds from the sample size.

    All bounds are 4 standard errors, computed from the exact moments mu_r of the sample
    distribution (``_moments``, checked against the pmf) and the number n of samples:

    - mean (n = 800,000 per component, lanes pooled): sd = sqrt(mu2 / n);
    - variance: Var(s^2) = (mu4 - mu2^2) / n;
    - excess kurtosis g2 = m4 / m2^2 - 3, delta method with influence function
      IF(z) = (z^4 - mu4) / mu2^2 - 2 mu4 (z^2 - mu2) / mu2^3 (the mean-estimation terms
      carry mu3 = 0): Var(g2) = [mu8 - mu4^2 - 4 (mu4/mu2)(mu6 - mu4 mu2)
      + 4 (mu4/mu2)^2 (mu4 - mu2^2)] / (mu2^4 n); 24/n for a Gaussian;
    - Pearson correlation r of two independent series of length n: Var(r) = 1/n + O(n^-2)
      (E[a^2 b^2] = E[a^2] E[b^2]), so |r| < 4/sqrt(n): lags 1..4 per lane and component
      (of the samples and of their squares, which sees dependence the linear one misses),
      x/y/z per lane, and each pair of lanes per component, at lag 0.

    Each bound is exceeded by chance with probability 6e-5; with the ~100 bounds here a
    random seed would fail about 0.6% of the time, and the seeds are fixed.
    """
    cfg = NoiseConfig(lanes=4, **kw)
    cycles = 200_000
    x = GaussianNoise(cfg).run(cycles + cfg.latency)[cfg.latency:].astype(np.float64)
    mu2, mu4, mu6, mu8 = (float(v) for v in _moments(cfg))
    assert mu2 == float(cfg.variance_lsb2)
    gamma = mu4 / mu2**2 - 3
    assert gamma == pytest.approx(cfg.excess_kurtosis)
    var_g2 = (mu8 - mu4**2 - 4 * mu4 / mu2 * (mu6 - mu4 * mu2)
              + 4 * (mu4 / mu2) ** 2 * (mu4 - mu2**2)) / mu2**4
    fails = []

    def check(what, value, target, sd):
        if not abs(value - target) < 4 * sd:
            fails.append(f"{what} = {value:.6g}, expected {target:.6g} +- {4 * sd:.3g}")

    for c, name in enumerate(COMPONENTS):
        v = x[:, :, c].ravel()
        n = v.size
        d = v - v.mean()
        m2, m4 = (d**2).mean(), (d**4).mean()
        check(f"{name} mean", v.mean(), 0.0, math.sqrt(mu2 / n))
        check(f"{name} variance", v.var(ddof=1), mu2, math.sqrt((mu4 - mu2**2) / n))
        check(f"{name} excess kurtosis", m4 / m2**2 - 3, gamma, math.sqrt(var_g2 / n))
        for lane in range(cfg.lanes):
            s = x[:, lane, c]
            for lag in range(1, 5):
                bound = 1 / math.sqrt(cycles - lag)
                check(f"lane {lane} {name} lag-{lag} autocorrelation",
                      _corr(s[:-lag], s[lag:]), 0.0, bound)
                check(f"lane {lane} {name}^2 lag-{lag} autocorrelation",
                      _corr(s[:-lag] ** 2, s[lag:] ** 2), 0.0, bound)
        for a in range(cfg.lanes):
            for b in range(a + 1, cfg.lanes):
                check(f"{name} lane {a} vs lane {b} correlation",
                      _corr(x[:, a, c], x[:, b, c]), 0.0, 1 / math.sqrt(cycles))
    for lane in range(cfg.lanes):
        for a, b in ((0, 1), (0, 2), (1, 2)):
            check(f"lane {lane} {COMPONENTS[a]} vs {COMPONENTS[b]} correlation",
                  _corr(x[:, lane, a], x[:, lane, b]), 0.0, 1 / math.sqrt(cycles))
    assert not fails, f"{cfg}: " + "; ".join(fails)


# --- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(lanes=0), "NoiseConfig.lanes must be 1..1024, not 0"),
    (dict(lanes=True), "NoiseConfig.lanes must be an int, not True"),
    (dict(uniform_bits=17), "NoiseConfig.uniform_bits must be 1..16 bits, not 17"),
    (dict(uniform_bits=5.0), "NoiseConfig.uniform_bits must be an int, not 5.0"),
    (dict(n_uniforms=0), "NoiseConfig.n_uniforms must be 1..64, not 0"),
    (dict(n_uniforms=65), "NoiseConfig.n_uniforms must be 1..64, not 65"),
    (dict(out_frac=-1), "NoiseConfig.out_frac must be 0..64 bits, not -1"),
    (dict(lfsr_width=32), "NoiseConfig.lfsr_width must be 41..64 bits (shorter LFSRs make "
                          "lane streams overlap), not 32"),
    (dict(lfsr_width=65), "NoiseConfig.lfsr_width must be 41..64 bits"),
    (dict(master_seed=-1), "NoiseConfig.master_seed must be 0..18446744073709551615, not -1"),
    (dict(master_seed=2**64), "NoiseConfig.master_seed must be 0..18446744073709551615"),
    (dict(levels_per_stage=0), "NoiseConfig.levels_per_stage must be 1..8, not 0"),
])
def test_bad_configs_raise(kwargs, message):
    with pytest.raises(ValueError) as info:
        NoiseConfig(**kwargs)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
