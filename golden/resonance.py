"""Thermally activated two-state MTJ: random telegraph switching, bursts and stochastic resonance.

Seed section IV ("Emergent neural behavior"): the back-hopping MTJ of ref. 99 (Krzysteczko
et al., Adv. Mater. 24, 762 (2012)) switches back and forth at random between two resistance
states (random telegraph switching, read as spike bursts), and spin-torque devices show
stochastic resonance (ref. 115, Cheng et al., PRL 105, 047202 (2010)). Float64, SI units.

Model. The free layer is a two-state system, s = +1 (parallel, P) or -1 (antiparallel, AP),
with Neel-Brown escape rates lowered or raised linearly by the spin-transfer current I
(the thermal-activation form of Koch, Katine & Sun, PRL 92, 088302 (2004)):

    W_{P->AP}(t)  = f0 exp(-Delta (1 + I(t) / I_c)),
    W_{AP->P}(t)  = f0 exp(-Delta (1 - I(t) / I_c)),     Delta = E_B / (kB T),

so a positive current favours P. The Kramers rate is ``r_K = f0 exp(-Delta)``. The process is
simulated exactly (thinning of a Poisson process of rate W_max, Lewis & Shedler 1979): no
time step. The output is the resistance, an affine function of s, so its SNR is that of s.

Stochastic resonance (McNamara & Wiesenfeld, PRA 39, 4854 (1989)). For a weak drive
I(t) = A cos(2 pi F t), delta = Delta A / I_c << 1, the rates are r_K (1 -/+ delta cos), the
mean state obeys d<s>/dt = 2 r_K delta cos - 2 r_K <s>, and the one-sided spectrum of s is

    S(f) = (m^2 / 2) delta_Dirac(f - F) + (1 - m^2/2) 8 r_K / (4 r_K^2 + (2 pi f)^2),
    m^2 = 4 r_K^2 delta^2 / (4 r_K^2 + (2 pi F)^2),

so the signal power over the noise density at F (the SNR in a 1 Hz bandwidth) is

    SNR = (r_K delta^2 / 4) / (1 - m^2/2)   [Hz]   (the MW result pi a^2 / (4 a0) per rad/s,
                                                   divided by 2 pi for a bandwidth in Hz).

With Delta = E_B / (kB T) and f0 fixed, SNR ~ f0 Delta^2 exp(-Delta) (A/I_c)^2 / 4 peaks at
Delta = 2, i.e. at ``T* = E_B / (2 kB)``, whatever the drive frequency (to this order the
two-state SNR does not depend on F). The time-scale matching 2 r_K = 2 pi F instead sets
where the output follows the drive with a pi/4 lag; :func:`matched_frequency` is the drive
for which both happen at T*, used by the tests and the benchmark. :func:`mtj_snr` reports
the SNR in dB re 1 Hz. Neglected: relative O(delta^2) terms of the exponential rates
(<= 1.5 delta^2).

Bursts (ref. 99): under a DC bias the record alternates long dwells in the favoured state with
short excursions to the other ("spikes"); :func:`burst_statistics` groups the spikes into
bursts separated by long dwells. What is modelled is the stationary telegraph regime; the
eventual settling into one state that ref. 99 reports (a slow drift of the barrier) is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numba as nb
import numpy as np

from .constants import KB


__all__ = [
    "ThermalMtj",
    "default_mtj",
    "Telegraph",
    "telegraph",
    "dwell_times",
    "burst_statistics",
    "snr_estimate",
    "mw_snr",
    "mtj_snr",
    "peak_temperature",
    "matched_frequency",
    "snr_scan",
    "fit_peak_temperature",
]


@dataclass(frozen=True)
class ThermalMtj:
    """A thermally activated two-state MTJ.

    Attributes
    ----------
    e_b : float
        Energy barrier E_B, J.
    f0 : float
        Attempt frequency, Hz.
    i_c : float
        Critical current I_c of the linear barrier reduction, A.
    r_p, r_ap : float
        Resistances of the P and AP states, ohm.
    """

    e_b: float
    f0: float
    i_c: float
    r_p: float = 5e3
    r_ap: float = 1e4

    def __post_init__(self):
        for name in ("e_b", "f0", "i_c", "r_p", "r_ap"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"ThermalMtj.{name} must be > 0, not {v!r}")

    def delta(self, temperature: float) -> float:
        """Thermal stability Delta = E_B / (kB T)."""
        _check_temperature(temperature)
        return self.e_b / (KB * temperature)

    def kramers_rate(self, temperature: float) -> float:
        """r_K = f0 exp(-Delta), 1/s: each state's escape rate without current."""
        return self.f0 * math.exp(-self.delta(temperature))

    def rates(self, current, temperature: float):
        """Escape rates (P -> AP, AP -> P) at current(s) I (A), 1/s."""
        d = self.delta(temperature)
        x = np.asarray(current, dtype=float) / self.i_c
        return self.f0 * np.exp(-d * (1 + x)), self.f0 * np.exp(-d * (1 - x))

    def mean_dwell(self, current, temperature: float):
        """Neel-Brown mean dwell times (P, AP) at a constant current, s."""
        w_p, w_ap = self.rates(current, temperature)
        return 1 / w_p, 1 / w_ap


def default_mtj() -> ThermalMtj:
    """The default low-barrier (superparamagnetic) MTJ, chosen so the resonance peaks at 300 K.

    E_B = 2 kB (300 K) (Delta = 2 at room temperature, the regime of the stochastic MTJs used
    for p-bits), attempt frequency f0 = 1 GHz (the usual 1 ns attempt time), I_c = 50 uA,
    R_P = 5 kOhm, TMR = 100 %. Chosen, not from the seed (which gives no numbers for refs.
    99 and 115); the checks in tests/test_resonance.py hold for any values.
    """
    return ThermalMtj(e_b=2 * KB * 300.0, f0=1e9, i_c=50e-6)


def _check_temperature(t):
    if not (isinstance(t, (int, float, np.floating)) and math.isfinite(t) and t > 0):
        raise ValueError(f"temperature must be > 0 K, not {t!r}")


# Exact simulation -----------------------------------------------------------------------------
@nb.njit(cache=True)
def _scan(times, u, s0, f0, d, i_dc, amp, omega, ic, wmax):
    """Thinning: accept candidate k if u_k W_max < W_s(t_k); returns a boolean flip mask and the final state."""
    n = times.shape[0]
    flips = np.zeros(n, dtype=np.bool_)
    s = s0
    for k in range(n):
        i = i_dc + amp * np.cos(omega * times[k])
        w = f0 * np.exp(-d * (1.0 + s * i / ic))
        if u[k] * wmax < w:
            flips[k] = True
            s = -s
    return flips, s


class Telegraph(NamedTuple):
    """A simulated telegraph record: ``flips`` (switching times, s), ``start`` state (+1 P, -1 AP), ``duration`` (s)."""

    flips: np.ndarray
    start: int
    duration: float

    def states_after(self) -> np.ndarray:
        """State just after each flip, shape like ``flips``."""
        k = np.arange(1, self.flips.size + 1)
        return self.start * np.where(k % 2 == 1, -1, 1)


def telegraph(temperature: float, *, duration: float, current: float = 0.0, amplitude: float = 0.0,
              frequency: float = 0.0, start: int = 1, rng=None, mtj: ThermalMtj | None = None) -> Telegraph:
    """Simulate the two-state MTJ exactly under I(t) = current + amplitude cos(2 pi frequency t).

    Parameters
    ----------
    temperature : float
        K (> 0).
    duration : float
        Record length, s.
    current, amplitude : float
        DC bias and drive amplitude, A; |current| + |amplitude| must stay below I_c.
    frequency : float
        Drive frequency F, Hz.
    start : {+1, -1}
        Initial state (P or AP).
    """
    p = default_mtj() if mtj is None else mtj
    d = p.delta(temperature)
    if not (math.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be > 0 s, not {duration!r}")
    if start not in (1, -1):
        raise ValueError(f"start must be +1 (P) or -1 (AP), not {start!r}")
    peak = abs(current) + abs(amplitude)
    if not peak < p.i_c:
        raise ValueError(f"|current| + |amplitude| = {peak:.3g} A must stay below I_c = {p.i_c:.3g} A")
    if not (math.isfinite(frequency) and frequency >= 0):
        raise ValueError(f"frequency must be >= 0 Hz, not {frequency!r}")
    gen = np.random.default_rng(rng)
    wmax = p.f0 * math.exp(-d * (1 - peak / p.i_c))
    omega = 2 * math.pi * frequency
    out, t0, s = [], 0.0, start
    chunk = int(min(max(1.2 * wmax * duration + 100, 1000), 2_000_000))
    while t0 < duration:
        times = t0 + np.cumsum(gen.exponential(1 / wmax, chunk))
        u = gen.random(chunk)
        keep = times < duration
        flips, s = _scan(times[keep], u[keep], s, p.f0, d, current, amplitude, omega, p.i_c, wmax)
        out.append(times[keep][flips])
        t0 = times[-1]
    return Telegraph(np.concatenate(out), start, float(duration))


def dwell_times(record: Telegraph):
    """Complete dwell times (s) in P and in AP: intervals between successive flips.

    The first (started at t = 0) and last (cut at the end) intervals are left out, so each
    dwell is a full Neel-Brown waiting time. Returns (dwell_p, dwell_ap).
    """
    d = np.diff(record.flips)
    states = record.states_after()[:-1]  # state during each interval
    return d[states == 1], d[states == -1]


def burst_statistics(record: Telegraph, gap: float):
    """Group the AP excursions ("spikes", ref. 99) into bursts separated by P dwells longer than ``gap`` (s).

    Returns a dict: spikes (AP dwells), bursts, mean spikes per burst, and the Poisson
    expectation of a long P dwell, P(dwell_P > gap) = exp(-gap / tau_P) estimated from the data.
    """
    dp, dap = dwell_times(record)
    long_gaps = int((dp > gap).sum())
    bursts = long_gaps + 1 if dap.size else 0
    return {"spikes": int(dap.size), "bursts": bursts,
            "spikes_per_burst": dap.size / bursts if bursts else 0.0,
            "p_long_gap": float(np.exp(-gap / dp.mean())) if dp.size else float("nan")}


# Spectrum and SNR -----------------------------------------------------------------------------
def _integrated(record: Telegraph, grid: np.ndarray) -> np.ndarray:
    """Exact integral of s(t) from 0 to each grid time (piecewise-constant s)."""
    tf = record.flips
    s_seg = np.concatenate([[record.start], record.states_after()])  # state on each segment
    edges = np.concatenate([[0.0], tf])
    cum = np.concatenate([[0.0], np.cumsum(s_seg[:-1] * np.diff(edges))])  # integral at each edge
    k = np.searchsorted(edges, grid, side="right") - 1
    return cum[k] + s_seg[k] * (grid - edges[k])


def snr_estimate(record: Telegraph, frequency: float, *, neighbours: int = 400, oversample: int = 16):
    """SNR (Hz) of the drive line at ``frequency`` in a telegraph record, and its standard error.

    s(t) is averaged exactly over bins of T / n (n = oversample x F T, so F is a Fourier bin
    and the bin-average filter multiplies signal and noise alike); X_k its DFT times the bin
    width. Noise density (one-sided) N = 2 <|X|^2> / T over ``neighbours`` bins on each side of
    F; signal power P = 2 |X_F|^2 / T^2 - N / T (the noise share of the F bin removed);
    SNR = P / N. Standard error (complex-Gaussian noise in each bin, 2 x neighbours exponential
    ordinates in N): sqrt(2 SNR / T + 1 / T^2 + SNR^2 / (2 neighbours)).
    Requires F T to be an integer (:func:`mtj_snr` rounds the duration).
    """
    t_total = record.duration
    cycles = frequency * t_total
    if abs(cycles - round(cycles)) > 1e-6 or round(cycles) < 1:
        raise ValueError(f"the record must hold a whole number of drive periods, not {cycles}")
    cycles = int(round(cycles))
    n = oversample * cycles
    if neighbours >= cycles * (oversample // 2 - 1):
        raise ValueError("too many neighbour bins for this record")
    grid = np.linspace(0.0, t_total, n + 1)
    x = np.fft.rfft(np.diff(_integrated(record, grid)))  # = integral of s e^{-i 2 pi f t} per bin
    power = np.abs(x) ** 2
    k0 = cycles
    idx = np.r_[k0 - neighbours:k0, k0 + 1:k0 + neighbours + 1]
    idx = idx[idx > 0]
    noise = 2 * power[idx].mean() / t_total
    signal = 2 * power[k0] / t_total**2 - noise / t_total
    snr = signal / noise
    se_signal = math.sqrt(2 * max(signal, 0.0) * noise / t_total + (noise / t_total) ** 2)
    se = math.sqrt((se_signal / noise) ** 2 + snr**2 / idx.size)
    return float(snr), float(se)


def mw_snr(temperature: float, *, amplitude: float, frequency: float, mtj: ThermalMtj | None = None) -> float:
    """McNamara-Wiesenfeld two-state SNR (Hz): (r_K delta^2 / 4) / (1 - m^2 / 2) (module docstring)."""
    p = default_mtj() if mtj is None else mtj
    r = p.kramers_rate(temperature)
    delta = p.delta(temperature) * amplitude / p.i_c
    m2 = 4 * r * r * delta * delta / (4 * r * r + (2 * math.pi * frequency) ** 2)
    return r * delta * delta / 4 / (1 - m2 / 2)


def peak_temperature(mtj: ThermalMtj | None = None) -> float:
    """Temperature of the MW SNR maximum, T* = E_B / (2 kB) (Delta = 2), K."""
    p = default_mtj() if mtj is None else mtj
    return p.e_b / (2 * KB)


def matched_frequency(mtj: ThermalMtj | None = None) -> float:
    """Drive frequency F with 2 pi F = 2 r_K(T*): the time-scale matching at the SNR peak, Hz."""
    p = default_mtj() if mtj is None else mtj
    return 2 * p.kramers_rate(peak_temperature(p)) / (2 * math.pi)


def mtj_snr(temperature, *, amplitude, frequency, duration, rng=None) -> float:
    """Output SNR (dB re 1 Hz) at the drive frequency of the default thermally activated MTJ.

    A weak periodic current ``amplitude`` cos(2 pi ``frequency`` t) (A, Hz) drives the
    default MTJ (:func:`default_mtj`) at ``temperature`` (K) for ``duration`` (s, rounded to a
    whole number of drive periods). SNR = signal power of the drive line over the noise power
    density at the drive frequency, from the exact telegraph record (:func:`snr_estimate`);
    theory: :func:`mw_snr`. Returns 10 log10(SNR / 1 Hz); -inf where the line is below the noise.
    """
    if not (math.isfinite(frequency) and frequency > 0):
        raise ValueError(f"frequency must be > 0 Hz, not {frequency!r}")
    cycles = max(1, round(duration * frequency))
    gen = np.random.default_rng(rng)
    rec = telegraph(temperature, duration=cycles / frequency, amplitude=amplitude, frequency=frequency,
                    start=1 if gen.random() < 0.5 else -1, rng=gen)
    snr, _ = snr_estimate(rec, frequency, neighbours=min(400, cycles * 7 - 1))
    return 10 * math.log10(snr) if snr > 0 else -math.inf


def snr_scan(temperatures, *, amplitude: float, frequency: float, duration: float, seeds: int = 6, rng=0,
             mtj: ThermalMtj | None = None):
    """SNR (Hz) against temperature: mean over ``seeds`` records and its standard error, arrays like temperatures.

    The standard error is the analytic one of :func:`snr_estimate` divided by sqrt(seeds).
    """
    p = default_mtj() if mtj is None else mtj
    gen = np.random.default_rng(rng)
    temps = np.atleast_1d(np.asarray(temperatures, dtype=float))
    cycles = max(1, round(duration * frequency))
    mean, sem = np.empty(temps.size), np.empty(temps.size)
    for k, t in enumerate(temps):
        vals, ses = [], []
        for _ in range(seeds):
            rec = telegraph(float(t), duration=cycles / frequency, amplitude=amplitude, frequency=frequency,
                            start=1 if gen.random() < 0.5 else -1, rng=gen, mtj=p)
            v, se = snr_estimate(rec, frequency, neighbours=min(400, cycles * 7 - 1))
            vals.append(v)
            ses.append(se)
        mean[k], sem[k] = np.mean(vals), np.mean(ses) / math.sqrt(seeds)
    return mean, sem


def fit_peak_temperature(temperatures, snr, sem, mtj: ThermalMtj | None = None):
    """Peak temperature (K) and its standard error from an SNR scan.

    Weighted least squares of ln SNR = a + b ln Delta + c Delta (the MW form has b = 2, c = -1)
    with weights from the standard errors; the peak is at Delta* = -b / c, T* = E_B / (kB Delta*),
    its error by the delta method from the fit covariance.
    """
    p = default_mtj() if mtj is None else mtj
    d = p.e_b / (KB * np.asarray(temperatures, dtype=float))
    y = np.log(np.asarray(snr, dtype=float))
    w = np.asarray(snr, dtype=float) / np.asarray(sem, dtype=float)  # 1 / SE of ln SNR
    a = np.stack([np.ones_like(d), np.log(d), d], axis=1)
    coef, *_ = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)
    cov = np.linalg.inv((a * w[:, None]).T @ (a * w[:, None]))
    _, b, c = coef
    ds = -b / c
    grad = np.array([0.0, -1 / c, b / c**2])
    ds_se = math.sqrt(grad @ cov @ grad)
    t_star = p.e_b / (KB * ds)
    return float(t_star), float(t_star * ds_se / ds)
