"""Two-state thermally activated MTJ (golden.resonance): telegraph dwell times, bursts, stochastic resonance.

Bounds are derived in each docstring; the Monte-Carlo ones are standard errors of the
estimators, checked against the spread actually measured over independent seeds.
"""

import math

import numpy as np
import pytest
from scipy import stats

from golden import resonance as rs

MTJ = rs.default_mtj()
T_STAR = rs.peak_temperature()
F = rs.matched_frequency()
AMP = 0.04 * MTJ.i_c  # delta = Delta A / I_c <= 0.16 at Delta <= 4
SEEDS = 6


def _snr_runs(temperature, duration=1e-3):
    """SNR estimates and their analytic standard errors over SEEDS independent records."""
    vals, ses = [], []
    for seed in range(SEEDS):
        rec = rs.telegraph(temperature, duration=round(duration * F) / F, amplitude=AMP, frequency=F,
                           rng=1000 + seed, start=1 if seed % 2 else -1)
        snr, se = rs.snr_estimate(rec, F)
        vals.append(snr)
        ses.append(se)
    return np.array(vals), np.array(ses)


def test_dwell_times_are_exponential_with_neel_brown_mean():
    """Under a DC bias the P and AP dwell times are exponential with means 1/W (Neel-Brown).

    The simulation is exact (thinning), so the dwells are i.i.d. exponential with mean
    tau = 1 / (f0 exp(-Delta (1 +/- I/I_c))) (not fitted). KS test against that exponential at
    the 1e-3 level, and the sample mean within 3 SE = 3 tau / sqrt(n) (the exponential's sd is
    its mean). Two operating points: room temperature and a colder, higher-barrier bias.
    """
    for temperature, bias in ((300.0, 0.2 * MTJ.i_c), (200.0, -0.3 * MTJ.i_c)):
        rec = rs.telegraph(temperature, duration=2e-4, current=bias, rng=5)
        dp, dap = rs.dwell_times(rec)
        tau_p, tau_ap = MTJ.mean_dwell(bias, temperature)
        for d, tau in ((dp, tau_p), (dap, tau_ap)):
            assert d.size > 2000
            assert stats.kstest(d, "expon", args=(0, tau)).pvalue > 1e-3
            assert abs(d.mean() - tau) < 3 * tau / math.sqrt(d.size)
    # The bias favours P: longer P dwells for positive current, as the linear barrier says.
    assert MTJ.mean_dwell(0.2 * MTJ.i_c, 300.0)[0] > MTJ.mean_dwell(0.2 * MTJ.i_c, 300.0)[1]


def test_burst_lengths_follow_the_dwell_statistics():
    """Back-hopping bursts (ref. 99): AP spikes grouped by P gaps longer than g.

    A burst ends at the first P dwell longer than g, which happens with probability
    q = exp(-g / tau_P) per P dwell; the spikes per burst are geometric with mean 1/q and
    sd sqrt(1 - q) / q. Check the measured mean within 3 SE = 3 sqrt(1 - q) / (q sqrt(bursts)).
    """
    temperature, bias = 300.0, 0.3 * MTJ.i_c
    tau_p, _ = MTJ.mean_dwell(bias, temperature)
    gap = 2 * tau_p
    rec = rs.telegraph(temperature, duration=5e-4, current=bias, rng=11)
    b = rs.burst_statistics(rec, gap)
    q = math.exp(-gap / tau_p)
    assert b["bursts"] > 1000
    se = math.sqrt(1 - q) / (q * math.sqrt(b["bursts"]))
    assert abs(b["spikes_per_burst"] - 1 / q) < 3 * se


def test_snr_matches_mcnamara_wiesenfeld_and_peaks_at_t_star():
    """Stochastic resonance: simulated SNR = MW theory at T*/2, T*, 2 T*, with its maximum near T*.

    MW (module docstring): SNR = (r_K delta^2 / 4) / (1 - m^2/2) Hz, maximal at Delta = 2 (T*).
    Error bars: each estimate's analytic SE (snr_estimate: signal bin with complex-Gaussian
    noise plus the 800-ordinate noise average), the mean of SEEDS records has SE / sqrt(SEEDS).
    The measured spread over seeds must agree with that SE: sample sd / SE within the 99.8 %
    chi-square band for SEEDS - 1 = 5 degrees of freedom, [0.21, 2.02]. Agreement: |mean - MW|
    <= 3 SE_mean + 1.5 delta^2 MW (the neglected O(delta^2) terms of the exponential rates).
    Peak: SNR(T*) exceeds both neighbours by more than 3 combined SE (theory: x1.85 over T*/2
    and x1.47 over 2 T*).
    """
    means, sems = {}, {}
    for temperature in (0.5 * T_STAR, T_STAR, 2 * T_STAR):
        vals, ses = _snr_runs(temperature)
        se = ses.mean()
        ratio = vals.std(ddof=1) / se
        lo, hi = np.sqrt(stats.chi2.ppf([0.001, 0.999], SEEDS - 1) / (SEEDS - 1))
        assert lo < ratio < hi
        sem = se / math.sqrt(SEEDS)
        theory = rs.mw_snr(temperature, amplitude=AMP, frequency=F)
        delta = MTJ.delta(temperature) * AMP / MTJ.i_c
        assert abs(vals.mean() - theory) <= 3 * sem + 1.5 * delta**2 * theory
        means[temperature], sems[temperature] = vals.mean(), sem
    mid = means[T_STAR]
    for other in (0.5 * T_STAR, 2 * T_STAR):
        assert mid - means[other] > 3 * math.hypot(sems[T_STAR], sems[other])


def test_mtj_snr_api_and_theory_peak():
    """The public API returns dB re 1 Hz consistent with the estimator; the MW curve peaks at Delta = 2."""
    db = rs.mtj_snr(T_STAR, amplitude=AMP, frequency=F, duration=1e-3, rng=3)
    theory_db = 10 * math.log10(rs.mw_snr(T_STAR, amplitude=AMP, frequency=F))
    # one record: SE ~ 10 % of the SNR, i.e. ~0.45 dB; allow 4 SE (1.8 dB) plus O(delta^2)
    assert abs(db - theory_db) < 1.8
    temps = np.linspace(0.3, 3.0, 2701) * T_STAR
    curve = [rs.mw_snr(t, amplitude=AMP, frequency=F) for t in temps]
    assert temps[int(np.argmax(curve))] == pytest.approx(T_STAR, rel=0.01)
    # time-scale matching at the peak: 2 r_K(T*) = 2 pi F
    assert 2 * MTJ.kramers_rate(T_STAR) == pytest.approx(2 * math.pi * F, rel=1e-12)


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        rs.telegraph(300.0, duration=1e-6, current=MTJ.i_c)
    with pytest.raises(ValueError):
        rs.telegraph(-1.0, duration=1e-6)
    with pytest.raises(ValueError):
        rs.mtj_snr(300.0, amplitude=AMP, frequency=0.0, duration=1e-6)
