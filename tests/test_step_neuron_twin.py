"""The SOT preset/evaluate step neuron (seed Ref. 101, golden.devices.step_neuron) on the twin's
integer datapath (quantize.step_neuron): two drive channels, the preset/evaluate schedule, and
the decision curve against the golden LLG (issue 19, item 2).

Protocol shortened in both models alike: the golden device relaxes 20 ns after the 2 ns
evaluation; here both the golden LLG and the twin relax 4 ns (2 small-angle relaxation times
t0 = (1 + alpha^2) / (alpha gamma mu0 H_K) = 2.0 ns) before the sign of m_z is read. The
comparison is between the same protocol on both sides, so the shortening cannot favour either.
"""

from dataclasses import replace

import numpy as np
import pytest

from golden import devices
from quantize.fixed import Fixed
from quantize.macrospin import MacrospinConfig, MacrospinConstants, MacrospinModel, reference_stream, run_fast
from quantize.noise import NoiseConfig
from quantize.step_neuron import decision_probability_quantised, schedule, schedule_codes, step_neuron_model

NOISE = NoiseConfig()
RELAX = 4e-9
#: configs/default.toml's demo.step_neuron.currents_uA (spintwin.config's default list).
CURRENTS_UA = [-20, -10, -5, -2, 0, 2, 5, 10, 20]


def _neuron():
    return replace(devices.step_neuron(), relax=RELAX)


def _model(cfg=None):
    return step_neuron_model(cfg or MacrospinConfig(), _neuron(), NOISE)


def test_schedule_is_the_golden_protocol():
    """Preset 0.4 ns of 200 uA on the heavy metal, evaluation 2 ns on the MTJ, then no current;
    phase lengths in 1 ps steps, codes in 0.1 uA LSBs; a current beyond the drive code is refused."""
    model = _model()
    ph = schedule(model, _neuron(), -5e-6)
    assert [(p.name, p.code, p.code2, p.steps) for p in ph] == [
        ("preset", 2000, 0, 400), ("evaluate", 0, -50, 2000), ("relax", 0, 0, 4000)]
    code, code2 = schedule_codes(ph)
    assert code.shape == code2.shape == (6400,)
    assert (code[:400] == 2000).all() and not code[400:].any() and (code2[400:2400] == -50).all()
    with pytest.raises(ValueError, match="exceeds the 16-bit drive code"):
        schedule(model, _neuron(), 4e-3)
    cfg = MacrospinConfig()
    one = MacrospinModel(cfg, MacrospinConstants.from_params(cfg, _neuron().magnet, 1e-12), NOISE.out_fmt)
    with pytest.raises(ValueError, match="two-drive model"):
        schedule(one, _neuron(), 0.0)


def test_channels_have_their_own_axes_and_efficiencies():
    """Channel 1 acts along +y with the SOT efficiency theta_SH W / t_HM = 4.0, channel 2 along +z
    with the STT polarisation 0.6: kb2 / kb = 0.6 / 4.0 to the constants' 12-bit precision
    (2^-11 relative each), and the two drives' b at the preset equals the hard-axis hold
    b = 1 (2e/hbar mu0 Ms V H_K spin current; the preset is 2x the 102 uA that gives 1/2)."""
    model = _model()
    assert (model.k.nm.p_axis, model.k.nm.p_sign, model.k.nm2.p_axis, model.k.nm2.p_sign) == (1, 1, 2, 1)
    ratio = model.k.value("kb2") / model.k.value("kb")
    assert abs(ratio / (0.6 / 4.0) - 1) < 2 * 2.0**-11
    b = model.k.nm.b_per_amp * 200e-6
    assert abs(b - 1.0) < 0.03  # H_K = 1.13e5 A/m and the 102 uA are rounded in golden.devices


@pytest.mark.parametrize("narrow", [False, True])
def test_two_drive_compiled_equals_numpy_model(narrow):
    """The compiled kernels equal the numpy model element for element with both channels driven
    (random codes on each, 6 steps of 300 magnets; and a 2-lane stream of 900 beats with resets),
    saturation counts included; the narrow formats force saturations."""
    cfg = MacrospinConfig(h_fmt=Fixed(14, 6), dm_fmt=Fixed(16, 22), lanes=2, magnets=3) if narrow else \
        MacrospinConfig(lanes=2, magnets=3)
    model, again = _model(cfg), _model(cfg)
    rng = np.random.default_rng(41)
    u = rng.standard_normal((300, 3))
    m = model.to_int_m(u / np.linalg.norm(u, axis=1, keepdims=True))
    g = rng.integers(NOISE.out_fmt.min_int, NOISE.out_fmt.max_int + 1, size=(6, 300, 3))
    code, code2 = rng.integers(-2500, 2500, 300), rng.integers(-2500, 2500, 300)
    ref = m.copy()
    for s in range(6):
        ref, _ = model.step(ref, g[s], code, code2=code2)
    fast = m.copy()
    _, sat = run_fast(model, fast, g, code, code2=code2)
    np.testing.assert_array_equal(fast, ref)
    assert int(sat.sum()) == sum(model.saturations.values())
    assert (sat.sum() > 0) == narrow
    gs = rng.integers(NOISE.out_fmt.min_int, NOISE.out_fmt.max_int + 1, size=(900, 2, 3))
    codes, codes2 = rng.integers(-2500, 2500, (900, 2)), rng.integers(-2500, 2500, (900, 2))
    resets = rng.random((900, 2)) < 0.01
    slow = reference_stream(model, gs, codes, resets, codes2=codes2)
    quick = reference_stream(again, gs, codes, resets, codes2=codes2, fast=True)
    for a, b in zip(slow, quick):
        np.testing.assert_array_equal(a, b)
    # the second channel matters: the same stream without it differs
    assert not np.array_equal(reference_stream(again, gs, codes, resets, fast=True)[0], slow[0])


def _curves(trials, seed):
    neuron = _neuron()
    cur = np.array(CURRENTS_UA) * 1e-6
    pg, seg = devices.step_neuron_probability(neuron, cur, trials=trials, rng=seed)
    pq, seq, sat = decision_probability_quantised(_model(), neuron, cur, trials=trials, seed=seed + 1)
    return pg, seg, pq, seq, sat


def _check_against_golden(pg, seg, pq, seq, sat):
    # Issue 19 criterion: |P_twin - P_golden| < 0.03 + 3 SE at every current, SE the combined
    # binomial standard error sqrt(p_g (1 - p_g) / n + p_q (1 - p_q) / n) of the two independent
    # estimates (each a mean of n Bernoulli trials; the returned stderrs are those terms).
    bound = 0.03 + 3 * np.sqrt(seg**2 + seq**2)
    assert np.all(np.abs(pq - pg) < bound), (pg, pq, bound)
    assert sat == 0
    assert pg[0] < 0.05 and pg[-1] > 0.95  # the currents span the whole curve


def _check_physics(p, se, n):
    """The decision curve is monotone and crosses 0.5 near zero current.

    Monotone: each step up in current may lower the estimate by at most 3 combined SE (a flat
    or falling true curve fails). Crossing: the device is invariant under the rotation by pi
    about y (the preset spins +y stay, the anisotropy axis z flips sign, so does the STT's +z
    polarisation: I -> -I), and the preset leaves the magnet on the hard axis whatever its
    start, so P(I) = 1 - P(-I) and P(0) = 1/2. Checked: P(0) within 3 SE of 1/2; P(-2 uA) < 1/2
    < P(+2 uA) (the golden slope, ~0.07 per uA, puts them 0.13 from 1/2, > 4 SE at 400 trials);
    and the symmetry P(I) + P(-I) = 1 within 3 SE of the sum. Where an estimate is 0 or 1 its SE
    is taken as one trial's, sqrt((1/n)(1 - 1/n)/n)."""
    se = np.sqrt(np.clip(p, 1 / n, 1 - 1 / n) * (1 - np.clip(p, 1 / n, 1 - 1 / n)) / n)
    step_se = np.sqrt(se[1:] ** 2 + se[:-1] ** 2)
    assert np.all(np.diff(p) > -3 * step_se), p
    i0, im, ip = CURRENTS_UA.index(0), CURRENTS_UA.index(-2), CURRENTS_UA.index(2)
    assert abs(p[i0] - 0.5) < 3 * se[i0], p[i0]
    assert p[im] < 0.5 < p[ip], (p[im], p[ip])
    lo = slice(0, i0)  # the pairs (-I, +I), I > 0: two independent estimates (P(0) is checked above)
    hi = slice(len(p) - 1, i0, -1)
    assert CURRENTS_UA[hi] == [-c for c in CURRENTS_UA[lo]]
    sym_se = np.sqrt(se[lo] ** 2 + se[hi] ** 2)
    assert np.all(np.abs(p[lo] + p[hi] - 1) < 3 * sym_se), p


@pytest.fixture(scope="module")
def curves_400():
    return _curves(400, 1907)


def test_decision_curve_matches_golden(curves_400):
    """9 evaluation currents (-20..20 uA), 400 trials each on both sides (SE <= 0.025 per curve);
    the wide Python formats (quantize.macrospin.MacrospinConfig defaults) at dt = 1 ps."""
    _check_against_golden(*curves_400)


def test_decision_curve_physics(curves_400):
    pg, seg, pq, seq, _ = curves_400
    _check_physics(pq, seq, 400)
    _check_physics(pg, seg, 400)


@pytest.mark.long
def test_decision_curve_matches_golden_2000_trials():
    """The same criterion at 2000 trials per point (SE <= 0.011): a tighter test of the twin."""
    pg, seg, pq, seq, sat = _curves(2000, 2207)
    _check_against_golden(pg, seg, pq, seq, sat)
    _check_physics(pq, seq, 2000)


def test_energy_per_decision_is_the_seeds_15_fJ():
    """Preset + evaluate + read from golden.energy's constants: the preset is the device's own
    I^2 R_HM t (golden.devices.StepNeuron.energy at zero evaluation current), the read is the
    same sense as the STT neuron's (golden.stt_neuron.read_energy), and the total lies within
    10 % of the seed's ~15 fJ (one significant figure, golden.devices' unprinted parameters);
    below the CMOS neuron update (golden.stt_neuron.cmos_neuron_energy) for either bound of
    the evaluation term."""
    from golden.sot_neuron import SEED_ENERGY, energy_per_decision
    from golden.stt_neuron import cmos_neuron_energy, read_energy

    n = devices.step_neuron()
    e = energy_per_decision(n, eval_current=5e-6)
    assert e["preset"] == pytest.approx(n.energy(0.0), rel=1e-12)
    assert e["preset"] + e["evaluate"] == pytest.approx(n.energy(5e-6), rel=1e-12)
    assert e["read"] == read_energy(n.r_mtj)
    assert e["evaluate"] < e["evaluate_upper"] < 0.04 * e["total"]
    assert abs(e["total"] / SEED_ENERGY - 1) < 0.10
    assert e["cmos"] == cmos_neuron_energy() and e["cmos_ratio_lower"] > 1
