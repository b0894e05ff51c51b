"""Figures of the seed's section IV.1 neuron devices (issue 19): PNGs written into a folder.

* :func:`stt_switching_figure`: the STT step neuron's firing probability against the synaptic
  input (macrospin LLG with error bars, and the analytic precessional law), golden.stt_neuron.
* :func:`lsv_figure`: the LSV neuron's absorbed spin current against the input's distance
  (finite-difference spin diffusion and exp(-L/lambda)) and the fan-in limit against the input
  pitch for several spin-flip lengths, golden.lsv.
* :func:`dw_circuit_figure`: the DW neuron circuit's I_out(I_in) with its least-squares line and
  the residual, golden.dw_neuron_circuit.
* :func:`sot_twin_figure`: the SOT preset/evaluate step neuron's decision curve (seed Ref. 101)
  on the hardware twin of configs/step_neuron.toml (quantize.step_neuron: preset, evaluation
  and relaxation as the drive schedule of two drive channels) against the golden LLG, with its
  energy per decision (golden.sot_neuron).

Each returns the plotted numbers (plain lists, for a report's JSON) and the PNG's path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spinbase.fileio import atomic_savefig

__all__ = ["stt_switching_figure", "lsv_figure", "dw_circuit_figure", "sot_twin_figure", "write_all"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def stt_switching_figure(out, *, trials: int = 1000, rng=20261207, fractions=(-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3)) -> dict:
    """``stt_neuron_switching.png``: P(fire) against input / bias (LLG, ``trials`` per point) and the
    analytic law; about 2 x 10^7 magnet-steps per 1000 trials and point at dt = 2 ps."""
    from golden.stt_neuron import analytic_switching_probability, stt_neuron, switching_probability

    plt = _plt()
    n = stt_neuron()
    b = n.bias_current
    frac = np.asarray(fractions, dtype=float)
    p, se = switching_probability(n, frac * b, trials=trials, rng=rng, dt=2e-12)
    fine = np.linspace(frac.min(), frac.max(), 61)
    pa = [analytic_switching_probability(n.magnet, b * (1 + f), n.write_duration) for f in fine]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(frac * b * 1e6, p, yerr=se, fmt="o", capsize=3, label=f"macrospin LLG, {trials} trials")
    ax.plot(fine * b * 1e6, pa, "-", label="analytic precessional law")
    ax.axhline(0.5, color="gray", ls=":")
    ax.set(xlabel=f"synaptic input current (uA), bias {b * 1e6:.1f} uA", ylabel="P(AP -> P)",
           title=f"STT step neuron, {n.write_duration * 1e9:g} ns window, 300 K")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out) / "stt_neuron_switching.png"
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return {"input_uA": (frac * b * 1e6).tolist(), "probability": p.tolist(), "stderr": se.tolist(),
            "bias_uA": b * 1e6, "png": str(path)}


def lsv_figure(out, *, pitches=None, lambdas=(110e-9, 350e-9, 1e-6)) -> dict:
    """``lsv_decay_fan_in.png``: absorbed spin current vs distance and fan-in limit vs pitch (1 %)."""
    from golden.lsv import copper_channel, fan_in_limit, spin_accumulation, transfer

    plt = _plt()
    ch = copper_channel()
    lam = ch.spin_flip_length
    dist = np.linspace(0.25, 4.0, 16) * lam
    fd = np.array([spin_accumulation(ch, [d], [1e-6])[2] for d in dist])
    pitches = np.geomspace(1e-9, 100e-9, 25) if pitches is None else np.asarray(pitches, dtype=float)
    limits = {lm: [fan_in_limit(p_, lm) for p_ in pitches] for lm in lambdas}
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.semilogy(dist * 1e9, fd * 1e6, "o", label="finite-difference spin diffusion")
    a.semilogy(dist * 1e9, transfer(ch, dist), "-", label="P exp(-L/lambda) / (1 + R_F/R_N)")
    a.set(xlabel="input-to-neuron distance (nm)", ylabel="absorbed spin current per uA injected (uA)",
          title=f"Cu channel, lambda_sf = {lam * 1e9:g} nm")
    a.legend(fontsize=8)
    for lm, lim in limits.items():
        b.loglog(pitches * 1e9, lim, "o-", ms=3, label=f"lambda_sf = {lm * 1e9:g} nm")
    b.set(xlabel="input pitch (nm)", ylabel="fan-in limit (1 % decision error)", title="LSV neuron fan-in")
    b.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out) / "lsv_decay_fan_in.png"
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return {"distance_nm": (dist * 1e9).tolist(), "absorbed_per_A": (fd / 1e-6).tolist(),
            "pitch_nm": (pitches * 1e9).tolist(), "fan_in_limit": {f"{lm:g}": v for lm, v in limits.items()},
            "png": str(path)}


def dw_circuit_figure(out) -> dict:
    """``dw_neuron_circuit.png``: I_out(I_in), its least-squares line, and the residual (% of span)."""
    from golden.dw_neuron_circuit import DwNeuronCircuit, linearity_error, transfer_curve

    plt = _plt()
    c = DwNeuronCircuit()
    i_in, i_out = transfer_curve(c, 101)
    slope, icpt = np.polyfit(i_in, i_out, 1)
    resid = (i_out - (slope * i_in + icpt)) / (i_out.max() - i_out.min()) * 100
    err = linearity_error(i_in, i_out)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.plot(i_in * 1e6, i_out * 1e6, "-", label="divider + saturated NMOS")
    a.plot(i_in * 1e6, (slope * i_in + icpt) * 1e6, "--", label="least-squares line")
    a.set(xlabel="input (write) current (uA)", ylabel="output current (uA)", title="Non-step DW neuron circuit")
    a.legend(fontsize=8)
    b.plot(i_in * 1e6, resid)
    b.axhline(0, color="gray", ls=":")
    b.set(xlabel="input (write) current (uA)", ylabel="deviation from the line (% of span)",
          title=f"linearity error {err:.1f} %")
    fig.tight_layout()
    path = Path(out) / "dw_neuron_circuit.png"
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return {"input_uA": (i_in * 1e6).tolist(), "output_uA": (i_out * 1e6).tolist(), "linearity_error_pct": err,
            "png": str(path)}


def sot_twin_figure(out, *, trials: int = 300, rng: int = 20261207,
                    currents_uA=(-10, -5, -2, 0, 2, 5, 10)) -> dict:
    """``sot_step_neuron_twin.png``: P(+z) against the evaluation current, golden LLG and the twin's
    integer datapath (the design of configs/step_neuron.toml), ``trials`` per point each, on the
    device's whole protocol (preset 0.4 ns, evaluation 2 ns, 20 ns relaxation; 22,400 steps of
    1 ps per trial). Returns the curves, the largest difference and whether every point lies
    within 0.03 + 3 combined standard errors (issue 19), and the energy per decision."""
    from golden.devices import step_neuron, step_neuron_probability
    from golden.sot_neuron import energy_per_decision
    from quantize.step_neuron import decision_probability_quantised

    from .config import DEFAULT_CONFIG, load_config
    from .twin import macrospin_from_config

    plt = _plt()
    n = step_neuron()
    cur = np.asarray(currents_uA, dtype=float) * 1e-6
    design = DEFAULT_CONFIG.parent / "step_neuron.toml"
    model = macrospin_from_config(load_config(design), design)[0]
    pg, seg = step_neuron_probability(n, cur, trials=trials, rng=rng)
    pq, seq, sat = decision_probability_quantised(model, n, cur, trials=trials, seed=rng + 1)
    diff = np.abs(pq - pg)
    bound = 0.03 + 3 * np.sqrt(seg**2 + seq**2)
    e = energy_per_decision(n)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(cur * 1e6, pg, yerr=seg, fmt="o-", capsize=3, label=f"golden LLG (float), {trials} trials")
    ax.errorbar(cur * 1e6, pq, yerr=seq, fmt="s--", capsize=3,
                label=f"twin integer datapath ({model.cfg.m_fmt.width}-bit, configs/step_neuron.toml)")
    ax.axhline(0.5, color="gray", ls=":")
    ax.set(xlabel="evaluation current (uA)", ylabel="P(final state +z)",
           title=f"SOT step neuron: preset / evaluate, {e['total'] * 1e15:.1f} fJ per decision")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out) / "sot_step_neuron_twin.png"
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return {"currents_uA": (cur * 1e6).tolist(), "golden": pg.tolist(), "golden_stderr": seg.tolist(),
            "twin": pq.tolist(), "twin_stderr": seq.tolist(), "max_abs_difference": float(diff.max()),
            "within_bound": bool(np.all(diff < bound)), "saturations": int(sat),
            "energy_fJ": e["total"] * 1e15, "cmos_ratio": e["cmos_ratio"], "png": str(path)}


def write_all(out, *, trials: int = 1000, rng=20261207) -> dict:
    """All four figures into folder ``out`` (created); returns their data by name."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return {"stt": stt_switching_figure(out, trials=trials, rng=rng), "lsv": lsv_figure(out),
            "dw_circuit": dw_circuit_figure(out), "sot_twin": sot_twin_figure(out, trials=trials, rng=rng)}
