"""Figures of the seed's emergent device dynamics (section IV) for the demo report.

Each function takes an output folder, writes one PNG there (matplotlib, Agg backend, atomic
write) and returns the plotted numbers as a dict. Models: :mod:`golden.sto` (spin-torque
oscillators) and :mod:`golden.resonance` (thermally activated MTJ). About 15 s in all.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from golden import resonance as rs
from golden import sto
from spinbase.fileio import atomic_savefig

__all__ = ["sto_frequency_figure", "sto_locking_figure", "snr_figure", "write_all"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def sto_frequency_figure(out) -> dict:
    """``sto_frequency.png``: STO frequency against current, model points over the analytic line."""
    plt = _plt()
    p = sto.default_sto()
    ic, iu = p.threshold_current(), p.upper_current()
    cur = np.linspace(1.05 * ic, 0.97 * iu, 12)
    f = sto.coupled_frequencies(cur, 0.0, duration=20e-9, dt=0.25e-12)
    line = np.linspace(ic, iu, 100)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(line * 1e6, p.frequency(line) / 1e9, "-", color="gray", label="analytic gamma mu0 b_J / (2 pi alpha)")
    ax.plot(cur * 1e6, f / 1e9, "o", label="golden.sto macrospin (Heun, 0.25 ps)")
    ax.axvline(ic * 1e6, color="C3", ls="--", label=f"threshold I_c0 = {ic * 1e6:.1f} uA")
    ax.set(xlabel="current (uA)", ylabel="frequency (GHz)", title="Spin-torque oscillator: frequency vs current")
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_savefig(fig, Path(out) / "sto_frequency.png", dpi=110)
    plt.close(fig)
    return {"currents_uA": (cur * 1e6).tolist(), "frequency_GHz": (f / 1e9).tolist(),
            "analytic_GHz": (p.frequency(cur) / 1e9).tolist(), "threshold_uA": ic * 1e6}


def sto_locking_figure(out) -> dict:
    """``sto_locking.png``: (a) two STOs 0.1 % apart against weak coupling, with the Adler prediction;
    (b) nine STOs spread over 10 % against coupling up to 1."""
    plt = _plt()
    p = sto.default_sto()
    ic = p.threshold_current()
    i_eq = ic * p.h_ext / (p.h_ext - p.m_eff)
    pair = np.array([i_eq, 1.001 * i_eq])
    kappas = np.geomspace(1e-6, 3e-5, 10)
    cur = np.vstack([pair] * (kappas.size + 1))
    f = sto.group_frequencies(cur, np.r_[0.0, kappas], duration=2e-6, dt=1e-12)
    dw0 = 2 * math.pi * (f[0, 1] - f[0, 0])
    s = np.sqrt(1 - p.cone_cos(pair) ** 2)
    k_eff = np.array([sto.adler_strength(k) for k in np.geomspace(1e-6, 3e-5, 200)]) * (s[0] / s[1] + s[1] / s[0])
    beat = np.sqrt(np.clip(dw0**2 - k_eff**2, 0, None)) / (2 * math.pi)

    nine = 4 * ic * np.linspace(1.0, 1.1, 9)
    k9 = np.r_[0.0, np.geomspace(1e-4, 1.0, 9)]
    f9 = sto.group_frequencies(np.tile(nine, (k9.size, 1)), k9, duration=100e-9, dt=0.5e-12)

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.semilogx(np.geomspace(1e-6, 3e-5, 200), beat / 1e6, "-", color="gray", label="Adler: sqrt(dw0^2 - (2K)^2)")
    a.semilogx(kappas, (f[1:, 1] - f[1:, 0]) / 1e6, "o", label="golden.sto: f2 - f1")
    a.set(xlabel="coupling kappa (units of H_K)", ylabel="frequency difference (MHz)",
          title="Two STOs 0.1 % apart: weak-coupling locking")
    a.legend(fontsize=8)
    for j in range(9):
        b.semilogx(np.r_[3e-5, k9[1:]], f9[:, j] / 1e9, "o-", ms=3)
    b.set(xlabel="coupling kappa (units of H_K; leftmost: uncoupled)", ylabel="frequency (GHz)",
          title="Nine STOs over 10 %: mutual locking")
    fig.tight_layout()
    atomic_savefig(fig, Path(out) / "sto_locking.png", dpi=110)
    plt.close(fig)
    return {"pair_kappa": kappas.tolist(), "pair_df_MHz": ((f[1:, 1] - f[1:, 0]) / 1e6).tolist(),
            "pair_df0_MHz": dw0 / (2 * math.pi) / 1e6,
            "nine_kappa": k9.tolist(), "nine_spread_MHz": (np.ptp(f9, axis=1) / 1e6).tolist()}


def snr_figure(out, *, rng=0) -> dict:
    """``stochastic_resonance.png``: output SNR of the driven MTJ against temperature, with MW theory."""
    plt = _plt()
    mtj = rs.default_mtj()
    t_star, freq = rs.peak_temperature(), rs.matched_frequency()
    amp = 0.04 * mtj.i_c
    temps = t_star * np.array([0.4, 0.5, 0.625, 0.8, 1.0, 1.25, 1.6, 2.0, 2.5])
    mean, sem = rs.snr_scan(temps, amplitude=amp, frequency=freq, duration=1e-3, seeds=4, rng=rng)
    line = np.linspace(temps[0], temps[-1], 200)
    mw = np.array([rs.mw_snr(t, amplitude=amp, frequency=freq) for t in line])
    db = 10 * np.log10(mean)
    db_err = 10 / math.log(10) * sem / mean
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(line, 10 * np.log10(mw), "-", color="gray", label="McNamara-Wiesenfeld two-state theory")
    ax.errorbar(temps, db, yerr=db_err, fmt="o", capsize=3, label="exact telegraph simulation (4 records/point)")
    ax.axvline(t_star, color="C3", ls="--", label=f"T* = E_B / 2 kB = {t_star:.0f} K")
    ax.set(xlabel="temperature (K)", ylabel="SNR (dB re 1 Hz)",
           title=f"Stochastic resonance: {amp * 1e6:.0f} uA drive at {freq / 1e6:.0f} MHz")
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_savefig(fig, Path(out) / "stochastic_resonance.png", dpi=110)
    plt.close(fig)
    return {"temperatures_K": temps.tolist(), "snr_dB": db.tolist(), "snr_dB_se": db_err.tolist(),
            "peak_temperature_K": t_star}


def write_all(out, *, rng=0) -> dict:
    """Write the three PNGs into ``out`` (created if missing); returns their numbers by figure name."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return {"sto_frequency": sto_frequency_figure(out), "sto_locking": sto_locking_figure(out),
            "stochastic_resonance": snr_figure(out, rng=rng)}
