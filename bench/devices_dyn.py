"""Benchmark: the seed's emergent device dynamics (issue 19 items 5 and 6), model against theory.

Spin-torque oscillators (golden.sto): the threshold current measured from the small-cone growth
rate against the analytic Slonczewski I_c0; the cone frequency against gamma mu0 b_J / (2 pi alpha);
the weak-coupling locking strength against the Adler equation (slope of 2 K_eff over kappa);
kappa = 1 locking of two oscillators 10 % apart and of nine over 10 %; nine oscillators against the
Kuramoto locking threshold. Thermally activated MTJ (golden.resonance): the stochastic-resonance
peak temperature against McNamara-Wiesenfeld (T* = E_B / 2 kB), the SNR at T* against MW, and the
Neel-Brown mean dwell time. Takes about a minute on one core.
Run: ``python -m bench.devices_dyn`` (prints JSON).
"""

from __future__ import annotations

import json
import math
import time

import numpy as np

__all__ = ["run", "markdown"]


def _sto() -> dict:
    from golden import sto

    p = sto.default_sto()
    ic = p.threshold_current()
    ratios = np.array([0.9, 0.95, 1.05, 1.1])
    sigma = sto.growth_rates(ratios * ic)
    slope, icept = np.polyfit(ratios * ic, sigma, 1)
    cur = ic * np.array([1.5, 2.0, 3.0, 4.0])
    f = sto.coupled_frequencies(cur, 0.0, duration=30e-9, dt=0.25e-12)
    fslope = np.polyfit(cur, f, 1)[0]
    a = sto.adler_measurement([5e-6, 1e-5])
    k_slope_model = float(np.polyfit(a["kappa"], a["measured"], 1)[0] if a["kappa"].size > 1 else 0.0)
    k_slope_theory = float(np.polyfit(a["kappa"], a["theory"], 1)[0])
    pair = sto.coupled_frequencies([4 * ic, 4.4 * ic], 1.0, duration=100e-9, dt=0.5e-12)
    nine = 4 * ic * np.linspace(1.0, 1.1, 9)
    f9 = sto.coupled_frequencies(nine, 1.0, duration=100e-9, dt=0.5e-12)
    i_eq = ic * p.h_ext / (p.h_ext - p.m_eff)
    spread = i_eq * np.linspace(1 - 3e-4, 1 + 3e-4, 9)
    f0 = sto.group_frequencies(spread[None, :], 0.0, duration=1.5e-6, dt=1e-12)[0]
    kc = sto.kuramoto_threshold(2 * math.pi * f0) * 8 / 9 / sto.adler_strength(1.0)
    fk = sto.group_frequencies(np.tile(spread, (2, 1)), np.array([1.3, 0.7]) * kc, duration=1.5e-6, dt=1e-12)
    return {
        "sto_ic_analytic_A": ic,
        "sto_ic_model_A": float(-icept / slope),
        "sto_freq_slope_analytic_Hz_per_A": float(p.frequency(1.0)),
        "sto_freq_slope_model_Hz_per_A": float(fslope),
        "sto_freq_at_2ic_GHz": float(f[1] / 1e9),
        "adler_slope_theory_rad_s": k_slope_theory,
        "adler_slope_model_rad_s": k_slope_model,
        "adler_rel_bound": float(np.max(a["measurement"] + a["weak_coupling"])),
        "pair_kappa1_10pct_df_Hz": float(abs(pair[1] - pair[0])),
        "nine_kappa1_10pct_spread_Hz": float(np.ptp(f9)),
        "lock_resolution_Hz": 1.25 / 100e-9,
        "nine_kuramoto_kappa_c": float(kc),
        "nine_locked_at_1p3_kc": bool(np.ptp(fk[0]) < 1.25 / 1.5e-6),
        "nine_locked_at_0p7_kc": bool(np.ptp(fk[1]) < 1.25 / 1.5e-6),
    }


def _resonance() -> dict:
    from golden import resonance as rs

    mtj = rs.default_mtj()
    t_star = rs.peak_temperature()
    freq = rs.matched_frequency()
    amp = 0.04 * mtj.i_c
    temps = t_star * np.array([0.5, 0.625, 0.8, 1.0, 1.25, 1.6, 2.0])
    mean, sem = rs.snr_scan(temps, amplitude=amp, frequency=freq, duration=1e-3, seeds=6, rng=2024)
    t_fit, t_se = rs.fit_peak_temperature(temps, mean, sem)
    mw = np.array([rs.mw_snr(t, amplitude=amp, frequency=freq) for t in temps])
    k = int(np.argmin(np.abs(temps - t_star)))
    bias, temp = 0.2 * mtj.i_c, 300.0
    dp, dap = rs.dwell_times(rs.telegraph(temp, duration=2e-4, current=bias, rng=5))
    tau_p, tau_ap = mtj.mean_dwell(bias, temp)
    return {
        "mtj_e_b_J": mtj.e_b, "mtj_f0_Hz": mtj.f0, "drive_frequency_Hz": freq, "drive_amplitude_A": amp,
        "snr_temperatures_K": temps.tolist(), "snr_model_Hz": mean.tolist(), "snr_model_se_Hz": sem.tolist(),
        "snr_mw_Hz": mw.tolist(),
        "snr_peak_T_theory_K": t_star, "snr_peak_T_model_K": t_fit, "snr_peak_T_model_se_K": t_se,
        "snr_at_t_star_model_dB": 10 * math.log10(mean[k]), "snr_at_t_star_mw_dB": 10 * math.log10(mw[k]),
        "snr_at_t_star_se_dB": 10 / math.log(10) * sem[k] / mean[k],
        "dwell_bias_A": bias, "dwell_temperature_K": temp,
        "dwell_p_mean_model_s": float(dp.mean()), "dwell_p_se_s": float(dp.std() / math.sqrt(dp.size)),
        "dwell_p_neel_brown_s": tau_p,
        "dwell_ap_mean_model_s": float(dap.mean()), "dwell_ap_se_s": float(dap.std() / math.sqrt(dap.size)),
        "dwell_ap_neel_brown_s": tau_ap,
    }


def run() -> dict:
    t0 = time.perf_counter()
    out = {"benchmark": "devices_dyn", **_sto(), **_resonance()}
    out["wall_s"] = time.perf_counter() - t0
    return out


def markdown(r: dict) -> str:
    rows = ["## Emergent device dynamics: oscillators and stochastic resonance (seed IV)", "",
            "Spin-torque oscillators (golden.sto) and a thermally activated MTJ (golden.resonance), each model "
            "figure beside its theory (bench/results/devices_dyn.json).", "",
            "| quantity | theory | model |", "|---|---|---|"]
    rows.append(f"| STO threshold current I_c0 (Slonczewski, perpendicular polariser) | "
                f"{r['sto_ic_analytic_A'] * 1e6:.2f} uA | {r['sto_ic_model_A'] * 1e6:.2f} uA (growth-rate zero) |")
    rows.append(f"| STO frequency slope df/dI = gamma hbar eta / (4 pi e alpha Ms V) | "
                f"{r['sto_freq_slope_analytic_Hz_per_A'] * 1e-12:.2f} MHz/uA | "
                f"{r['sto_freq_slope_model_Hz_per_A'] * 1e-12:.2f} MHz/uA |")
    rows.append(f"| Adler locking strength 2 K_eff / kappa (weak coupling) | {r['adler_slope_theory_rad_s']:.4g} rad/s | "
                f"{r['adler_slope_model_rad_s']:.4g} rad/s (bound {r['adler_rel_bound'] * 100:.1f} %) |")
    rows.append(f"| two STOs 10 % apart, kappa = 1: frequency difference | < {r['lock_resolution_Hz'] / 1e6:.1f} MHz "
                f"(locked) | {r['pair_kappa1_10pct_df_Hz']:.3g} Hz |")
    rows.append(f"| nine STOs over 10 %, kappa = 1: frequency spread | < {r['lock_resolution_Hz'] / 1e6:.1f} MHz "
                f"(locked) | {r['nine_kappa1_10pct_spread_Hz']:.3g} Hz |")
    rows.append(f"| nine STOs, Kuramoto threshold kappa_c = {r['nine_kuramoto_kappa_c']:.3g} | locked at 1.3 kappa_c, "
                f"not at 0.7 kappa_c | {'locked' if r['nine_locked_at_1p3_kc'] else 'not locked'} / "
                f"{'locked' if r['nine_locked_at_0p7_kc'] else 'not locked'} |")
    rows.append(f"| stochastic-resonance peak temperature (McNamara-Wiesenfeld, E_B / 2 kB) | "
                f"{r['snr_peak_T_theory_K']:.0f} K | {r['snr_peak_T_model_K']:.0f} +- {r['snr_peak_T_model_se_K']:.0f} K |")
    rows.append(f"| SNR at T* (dB re 1 Hz) | {r['snr_at_t_star_mw_dB']:.2f} | {r['snr_at_t_star_model_dB']:.2f} +- "
                f"{r['snr_at_t_star_se_dB']:.2f} |")
    rows.append(f"| mean P dwell at {r['dwell_bias_A'] * 1e6:.0f} uA, {r['dwell_temperature_K']:.0f} K (Neel-Brown) | "
                f"{r['dwell_p_neel_brown_s'] * 1e9:.3f} ns | {r['dwell_p_mean_model_s'] * 1e9:.3f} +- "
                f"{r['dwell_p_se_s'] * 1e9:.3f} ns |")
    rows.append(f"| mean AP dwell (Neel-Brown) | {r['dwell_ap_neel_brown_s'] * 1e9:.3f} ns | "
                f"{r['dwell_ap_mean_model_s'] * 1e9:.3f} +- {r['dwell_ap_se_s'] * 1e9:.3f} ns |")
    rows += ["", f"The seed (section IV) gives no numbers for these behaviours; it cites nine synchronised spin-Hall "
             f"oscillators (ref. 114), which the nine-oscillator rows model. Run time {r['wall_s']:.0f} s."]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
