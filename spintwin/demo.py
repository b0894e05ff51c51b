"""`spintwin demo`: the main job on a config (the embedded default by default).

Runs the golden device presets at the seed's operating points, the twin's integer datapath
against them, the twin against the CMOS baseline on MNIST, the core's Verilog with a bit-exact
co-simulation, and a synthesis estimate (``spintwin.demo_system``); writes PNG plots,
``demo.json``, ``report.md`` and a self-contained ``report.html`` into the output folder.
"""

from __future__ import annotations

import math
import platform
import time
from pathlib import Path

import numpy as np

from golden import devices
from golden.dw import simulate_wall, wall_velocity
from golden.levels import distinguishable_levels
from golden.llg import critical_spin_current, simulate, switching_probability

from . import __version__, network_report
from spinbase.fileio import atomic_savefig, atomic_write_json, atomic_write_text

__all__ = ["check_demo", "run_demo"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class _Progress:
    def __init__(self, total: int, echo):
        self.total, self.k, self.echo = total, 0, echo
        self.t0 = time.perf_counter()

    def step(self, what: str):
        self.k += 1
        self._t = time.perf_counter()
        self.echo(f"[{self.k}/{self.total}] {what} ...")

    def done(self, summary: str):
        self.echo(f"      {summary} ({time.perf_counter() - self._t:.1f} s)")


def _mtj_neuron(cfg, rng, out, plt):
    n = devices.mtj_neuron()
    cur = np.asarray(cfg["demo"]["mtj_neuron"]["currents_uA"], dtype=float) * 1e-6
    trials = cfg["demo"]["trials"]
    p, se = switching_probability(n.magnet, cur, n.write_duration, trials=trials, dt=n.dt, rng=rng)
    # Interpolated 50 % point (monotone part of the curve).
    i50 = float(np.interp(0.5, np.maximum.accumulate(p), cur)) if p.max() >= 0.5 > p.min() else math.nan
    p71, se71 = switching_probability(n.magnet, 71e-6, n.write_duration, trials=max(trials, 1000), dt=n.dt, rng=rng)

    t, traj = simulate(n.magnet, [0, 1, 0], current=lambda t: 71e-6 if t < n.write_duration else 0.0,
                       dt=n.dt, steps=int(3e-9 / n.dt), rng=rng, record_every=10)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.errorbar(cur * 1e6, p, yerr=se, fmt="o-", capsize=3, label=f"golden LLG, {trials} trials/point")
    a.axvline(71, color="gray", ls="--", label="seed: P = 0.5 at ~71 uA")
    a.axhline(0.5, color="gray", ls=":")
    a.set(xlabel="heavy-metal current (uA)", ylabel="switching probability", title="Stochastic MTJ neuron, 0.5 ns write")
    a.legend(fontsize=8)
    for k, lab in enumerate("xyz"):
        b.plot(t * 1e9, traj[:, 0, k], label=f"m_{lab}")
    b.axvspan(0, n.write_duration * 1e9, color="orange", alpha=0.2, label="71 uA pulse")
    b.set(xlabel="time (ns)", ylabel="magnetisation", title="One trajectory at 300 K")
    b.legend(fontsize=8)
    fig.tight_layout()
    atomic_savefig(fig, out / "mtj_neuron_switching.png", dpi=110)
    plt.close(fig)
    return {
        "currents_uA": (cur * 1e6).tolist(), "probability": p.tolist(), "stderr": se.tolist(),
        "i50_uA": i50 * 1e6, "p_at_71uA": p71, "stderr_at_71uA": se71,
        "write_energy_fJ_at_71uA": float(n.write_energy(71e-6)) * 1e15,
        "delta": n.magnet.delta,
        "critical_charge_current_uA": critical_spin_current(n.magnet) / n.magnet.spin_efficiency * 1e6,
    }


def _volatile(cfg, rng, out, plt):
    syn = devices.volatile_synapse()
    spacings = np.asarray(cfg["demo"]["volatile_synapse"]["spacings_ns"], dtype=float) * 1e-9
    trials = cfg["demo"]["trials"]
    res = [devices.ltp_probability(syn, s, trials=trials, rng=rng) for s in spacings]
    p = np.array([r[0] for r in res])
    se = np.array([r[1] for r in res])
    # Example trajectories: the mean m_z under the two trains of the seed's Fig. 9.
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.errorbar(spacings * 1e9, p, yerr=se, fmt="o-", capsize=3)
    a.axhline(0.8, color="green", ls=":", label="LTP bound 0.8")
    a.axhline(0.2, color="red", ls=":", label="STP bound 0.2")
    a.set(xlabel="pulse spacing (ns)", ylabel="LTP probability", title="Volatile synapse: 5 pulses of 1 ns, 90 uA")
    a.legend(fontsize=8)
    for spacing, color in ((3e-9, "green"), (6e-9, "red")):
        def pulse(t, s=spacing):
            return syn.pulse_current if (t % s) < syn.pulse_width and t < 5 * s else 0.0
        t, traj = simulate(syn.magnet, np.tile([0, 0, 1.0], (64, 1)), current=pulse, dt=syn.dt,
                           steps=int(40e-9 / syn.dt), rng=rng, record_every=50)
        b.plot(t * 1e9, traj[:, :, 2].mean(axis=1), color=color, label=f"spacing {spacing * 1e9:.0f} ns (mean of 64)")
    b.set(xlabel="time (ns)", ylabel="<m_z>", title="Leaky integration of the pulse train")
    b.legend(fontsize=8)
    fig.tight_layout()
    atomic_savefig(fig, out / "volatile_synapse.png", dpi=110)
    plt.close(fig)
    return {"spacings_ns": (spacings * 1e9).tolist(), "ltp_probability": p.tolist(), "stderr": se.tolist(),
            "pulse_uA": syn.pulse_current * 1e6}


def _step(cfg, rng, out, plt):
    s = devices.step_neuron()
    cur = np.asarray(cfg["demo"]["step_neuron"]["currents_uA"], dtype=float) * 1e-6
    p, se = devices.step_neuron_probability(s, cur, trials=cfg["demo"]["trials"], rng=rng)
    fig, a = plt.subplots(figsize=(5.5, 4))
    a.errorbar(cur * 1e6, p, yerr=se, fmt="o-", capsize=3)
    a.set(xlabel="evaluation current (uA)", ylabel="P(final state +z)", title="Step neuron (preset / evaluate)")
    fig.tight_layout()
    atomic_savefig(fig, out / "step_neuron.png", dpi=110)
    plt.close(fig)
    return {"currents_uA": (cur * 1e6).tolist(), "probability": p.tolist(), "stderr": se.tolist(),
            "energy_fJ": s.energy(5e-6) * 1e15}


def _dw(cfg, out, plt):
    dev = devices.dw_synapse()
    cur = np.asarray(cfg["demo"]["dw"]["currents_uA"], dtype=float) * 1e-6
    j = dev.current_density(cur)
    v_1d = np.asarray(wall_velocity(dev.params, j, duration=4e-9, dt=2e-13))
    v_beh = np.asarray(dev.velocity(cur))
    t, q, _ = simulate_wall(dev.params, dev.current_density(10.6e-6), duration=3e-9, dt=2e-13, record_every=10)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.loglog(cur * 1e6, v_1d, "o-", label="1D (q, psi) model with B_K")
    a.loglog(cur * 1e6, v_beh, "s--", label="behavioural (analytic steady state)")
    a.axhline(dev.params.saturation_velocity, color="gray", ls=":", label="v_sat = pi gamma D / 2 Ms")
    a.axvline(10.6, color="gray", ls="--")
    a.set(xlabel="heavy-metal current (uA)", ylabel="wall velocity (m/s)", title="Domain-wall device")
    a.legend(fontsize=8)
    b.plot(t * 1e9, np.asarray(q) * 1e9, label="1D model at 10.6 uA")
    b.axhline(80, color="gray", ls="--", label="80 nm track")
    b.axvline(2, color="gray", ls=":", label="seed: 2 ns")
    b.set(xlabel="time (ns)", ylabel="wall position (nm)", title="Full traverse")
    b.legend(fontsize=8)
    fig.tight_layout()
    atomic_savefig(fig, out / "dw_device.png", dpi=110)
    plt.close(fig)
    g = dev.level_conductances()
    return {"currents_uA": (cur * 1e6).tolist(), "v_1d_m_s": v_1d.tolist(), "v_behavioural_m_s": v_beh.tolist(),
            "traverse_ns_behavioural": dev.length / float(dev.velocity(10.6e-6)) * 1e9,
            "traverse_ns_1d": dev.length / float(wall_velocity(dev.params, dev.current_density(10.6e-6), duration=4e-9, dt=2e-13)) * 1e9,
            "levels": distinguishable_levels(dev.g_ap, dev.g_p), "levels_programmed": int(len(np.unique(g))),
            "levels_with_2pct_spread": distinguishable_levels(dev.g_ap, dev.g_p, sigma_rel=0.02), "g_min_uS": float(g.min()) * 1e6, "g_max_uS": float(g.max()) * 1e6,
            "write_reset_energy_fJ": 2 * float(dev.write_energy(10.6e-6, 2e-9)) * 1e15}


def _more_devices(out) -> tuple[dict, str]:
    """The seed's further neuron devices and emergent dynamics (section IV; issue 19): figures from
    spintwin.figures_neurons and spintwin.figures_dynamics, with a short table (about 50 s: 30 s of it the SOT
    step neuron on the golden LLG and on the twin, 300 trials at 7 currents on its whole 22 ns protocol)."""
    from golden.lsv import fan_in_limit

    from . import figures_dynamics, figures_neurons

    neu = figures_neurons.write_all(out, trials=300)
    dyn = figures_dynamics.write_all(out)
    stt = neu["stt"]
    i0 = stt["input_uA"].index(0.0)
    fan = fan_in_limit(10e-9, 350e-9)
    sot = neu["sot_twin"]
    res = {"stt_p_at_zero_input": stt["probability"][i0], "stt_bias_uA": stt["bias_uA"], "lsv_fan_in": fan,
           "sot_twin_max_abs_difference": sot["max_abs_difference"], "sot_twin_within_bound": sot["within_bound"],
           "sot_energy_fJ": sot["energy_fJ"],
           "dw_circuit_linearity_pct": neu["dw_circuit"]["linearity_error_pct"],
           "sto_threshold_uA": dyn["sto_frequency"]["threshold_uA"],
           "snr_peak_K": dyn["stochastic_resonance"]["peak_temperature_K"]}
    md = "\n".join([
        "## More devices of the seed (section IV)", "",
        "| device | quantity | seed | golden model |", "|---|---|---|---|",
        f"| STT-MTJ step neuron (ref. 100) | P(switch) at zero input, biased at {stt['bias_uA']:.1f} uA | 0.5 | "
        f"{stt['probability'][i0]:.3f} +- {stt['stderr'][i0]:.3f} |",
        f"| SOT preset/evaluate step neuron (ref. 101) | energy per decision | ~15 fJ | {sot['energy_fJ']:.1f} fJ |",
        f"| SOT preset/evaluate step neuron (ref. 101) | decision curve, hardware twin against golden | - | "
        f"largest difference {sot['max_abs_difference']:.3f} "
        f"({'within' if sot['within_bound'] else 'OUTSIDE'} 0.03 + 3 SE) |",
        f"| lateral spin valve neuron (ref. 103) | fan-in at 1 % decision error, 10 nm pitch, Cu lambda_sf 350 nm | "
        f"limited | {fan} |",
        f"| non-step DW neuron circuit | linearity error of I_out(I_in) | approximately linear | "
        f"{res['dw_circuit_linearity_pct']:.1f} % of span |",
        f"| spin-torque oscillator | threshold current | - | {res['sto_threshold_uA']:.1f} uA |",
        f"| thermally activated MTJ | stochastic-resonance peak | - | {res['snr_peak_K']:.0f} K |",
        "", "Seed figures against the model: BENCHMARKS.md (bench.devices_neuron, bench.devices_dyn).", "",
        "![STT neuron](stt_neuron_switching.png)", "", "![SOT step neuron on the twin](sot_step_neuron_twin.png)", "",
        "![LSV neuron](lsv_decay_fan_in.png)", "",
        "![DW neuron circuit](dw_neuron_circuit.png)", "", "![STO frequency](sto_frequency.png)", "",
        "![STO locking](sto_locking.png)", "", "![Stochastic resonance](stochastic_resonance.png)", ""])
    return res, md


def _report(res, cfg_path, elapsed) -> str:
    m, v, s, d = res["mtj_neuron"], res["volatile_synapse"], res["step_neuron"], res["dw"]
    def at(ns):
        hits = [i for i, s in enumerate(v["spacings_ns"]) if abs(s - ns) < 1e-6]
        return hits[0] if hits else None

    i3, i6 = at(3.0), at(6.0)
    fmt = lambda i: f"{v['ltp_probability'][i]:.3f} +- {v['stderr'][i]:.3f}" if i is not None else "n/a"
    lines = [
        "# spintwin demo: from the seed's devices to verified hardware",
        "",
        f"spintwin {__version__}, config `{cfg_path}`, {platform.machine()} / Python {platform.python_version()}, "
        f"{elapsed:.0f} s.",
        "",
        "## Operating points against the seed",
        "",
        "| device | quantity | seed | golden model |",
        "|---|---|---|---|",
        f"| stochastic MTJ neuron | P_sw at 71 uA, 0.5 ns | 0.5 | {m['p_at_71uA']:.3f} +- {m['stderr_at_71uA']:.3f} |",
        f"| stochastic MTJ neuron | 50 % current | ~71 uA | {m['i50_uA']:.1f} uA |",
        f"| stochastic MTJ neuron | write energy | ~1 fJ | {m['write_energy_fJ_at_71uA']:.2f} fJ |",
        f"| step neuron | energy per operation | ~15 fJ | {s['energy_fJ']:.1f} fJ |",
        f"| DW neuron/synapse | 80 nm traverse at 10.6 uA | 2 ns | {d['traverse_ns_behavioural']:.3f} ns (behavioural), {d['traverse_ns_1d']:.3f} ns (1D model) |",
        f"| DW neuron/synapse | distinguishable levels (50 mV, 1 ns read, 1e-3 misreads) | 15-20 | {d['levels']} "
        f"write-verified, {d['levels_with_2pct_spread']} with a 2 % device spread (golden.levels) |",
        f"| DW neuron/synapse | write + reset energy | ~0.1 fJ | {d['write_reset_energy_fJ']:.3f} fJ |",
        f"| volatile synapse | LTP probability, 3 ns spacing | switches | {fmt(i3)} |",
        f"| volatile synapse | LTP probability, 6 ns spacing | does not | {fmt(i6)} |",
        "",
        f"MTJ neuron: Delta = {m['delta']:.1f}, zero-temperature critical current "
        f"{m['critical_charge_current_uA']:.1f} uA.",
        "",
        "## Plots",
        "",
        "![MTJ neuron](mtj_neuron_switching.png)",
        "",
        "![Volatile synapse](volatile_synapse.png)",
        "",
        "![Step neuron](step_neuron.png)",
        "",
        "![Domain-wall device](dw_device.png)",
        "",
        "Raw numbers: `demo.json`.",
        "",
    ]
    return "\n".join(lines)


def _user_network_stages(cfg, cfg_path, out, plt, res, prog, echo) -> list:
    """Stages 6-8 for a design whose ``[core]`` names a network file or a data set other than
    MNIST (``spintwin.network_report``): its float / twin / CMOS report with the layer diagram,
    its core's Verilog and co-simulation, and its synthesis (``demo.system.synth_target``,
    ``"none"`` skips it; cached per Verilog). Returns the report's sections."""
    from spinbase.errors import SpintwinError

    s = cfg["demo"]["system"]
    prog.step(f"your network: float, twin and CMOS baseline (up to {s['images']} test inputs)")
    r = network_report.measure(cfg, cfg_path, images=s["images"], echo=echo, diagram=out / "network_layers.png",
                               plt=plt)
    res["network"] = r
    prog.done(f"accuracy float {r['float']['accuracy']:.3f}, twin {r['twin']['accuracy']:.3f}"
              + (f", CMOS {r['cmos']['accuracy']:.3f}" if r.get("cmos") else ""))
    prog.step("Verilog of your network's core and bit-exact co-simulation")
    try:
        res["rtl"], rtl_md = network_report.core_rtl(cfg, cfg_path, out, s["cosim_images"], echo)
        prog.done(f"{res['rtl']['design']}: " + ("bit-exact" if res["rtl"].get("cosim") else "co-simulation skipped"))
    except SpintwinError as e:
        res["rtl"] = {"error": str(e)}
        rtl_md = f"## Verilog and bit-exact co-simulation\n\nNot built: {e}\n"
        prog.done(f"not built: {e}")
    target = s["synth_target"]
    prog.step(f"synthesis of your network's core ({target})")
    syn = None if target == "none" else network_report.synthesise(cfg, cfg_path, target=target,
                                                                  timeout_s=s["synth_timeout_s"])
    res["synthesis"] = syn or {"target": None}
    prog.done("skipped" if syn is None else syn.get("error") or f"{syn.get('lut')} LUT, {syn.get('fmax_mhz')} MHz")
    return [network_report.markdown(r, synthesis=syn), rtl_md]


def check_demo(cfg: dict, out, cfg_path=None) -> Path:
    """Everything the demo's stages will need, checked before stage 1 (they take minutes).

    The output folder (``spinbase.fileio.prepare_out_dir``: an empty name, an existing file, a
    path under a file, a name too long or a folder that cannot be written), the twin's
    semantic checks (``spintwin.twin.macrospin_from_config``: formats, constants; what stage 5
    builds) and every block's checks of the design (``spintwin.blocks.check_design``: e.g.
    magnets >= pipeline depth + 3). Raises :class:`SpintwinError` (one line); returns the
    output folder.
    """
    from spinbase.errors import SpintwinError
    from spinbase.fileio import prepare_out_dir

    from .twin import macrospin_from_config

    where = f"config {cfg_path}: " if cfg_path is not None else ""
    try:
        macrospin_from_config(cfg)
        try:
            from .blocks import check_design
        except ImportError:  # a tree without the block registry: the twin's own checks above
            check_design = None
        if check_design is not None:
            check_design(cfg, cfg_path)
    except SpintwinError as e:
        msg = str(e)
        raise SpintwinError(msg if msg.startswith("config ") else where + msg) from None
    except (ValueError, TypeError, KeyError, OverflowError, ZeroDivisionError) as e:
        raise SpintwinError(f"{where}twin: {type(e).__name__}: {(str(e).splitlines() or [''])[0]}") from None
    return prepare_out_dir(out)


def run_demo(cfg: dict, out: Path, cfg_path, echo=print, *, devices: bool = True) -> dict:
    """Run the demo; returns the results dict also written to ``out/demo.json``.

    Stages: four golden device studies, the twin's switching curve against the golden one, the
    twin against the CMOS baseline on MNIST, the core's Verilog and its bit-exact Verilator
    co-simulation, and a synthesis estimate (a design whose ``[core]`` names a network file or
    another data set: the last three for that network, :func:`_user_network_stages`); then ``report.md`` and the self-contained
    ``report.html``. Every file is written atomically. The config and the output folder are
    checked first (:func:`check_demo`), so a bad one stops the demo before stage 1.
    ``devices=False`` leaves out the five device stages (minutes): the network stages alone.
    """
    from . import demo_system as ds
    from .report import markdown_to_html

    out = check_demo(cfg, out, cfg_path)
    plt = _plt()
    rng = np.random.default_rng(cfg["demo"]["seed"])
    t0 = time.perf_counter()
    prog = _Progress(9 if devices else 3, echo)
    res = {}
    sections = []
    if devices:
        prog.step("stochastic MTJ neuron: switching curve (golden LLG, 300 K)")
        res["mtj_neuron"] = _mtj_neuron(cfg, rng, out, plt)
        prog.done(f"P(71 uA) = {res['mtj_neuron']['p_at_71uA']:.3f}, I50 = {res['mtj_neuron']['i50_uA']:.1f} uA")
        prog.step("volatile STP/LTP synapse: pulse-spacing sweep")
        res["volatile_synapse"] = _volatile(cfg, rng, out, plt)
        prog.done("LTP probabilities " + ", ".join(f"{p:.2f}" for p in res["volatile_synapse"]["ltp_probability"]))
        prog.step("step neuron: preset / evaluate")
        res["step_neuron"] = _step(cfg, rng, out, plt)
        prog.done(f"energy {res['step_neuron']['energy_fJ']:.1f} fJ")
        prog.step("domain-wall device: velocity and traverse")
        res["dw"] = _dw(cfg, out, plt)
        prog.done(f"traverse {res['dw']['traverse_ns_1d']:.3f} ns at 10.6 uA")
        prog.step("more devices of section IV: STT, SOT (on the twin) and LSV neurons, DW neuron circuit, oscillators, "
                  "resonance")
        res["more_devices"], md = _more_devices(out)
        sections.append(md)
        prog.done(f"LSV fan-in {res['more_devices']['lsv_fan_in']}, STO locking at kappa 1, "
                  f"SNR peak {res['more_devices']['snr_peak_K']:.0f} K")
        twin_device = "step_neuron" if cfg["twin"]["macrospin"]["device"] == "step_neuron" else "mtj_neuron"
        prog.step(f"{twin_device.replace('_', ' ')} on the twin's integer datapath against the golden model")
        res["device_fidelity"], md = ds.device_fidelity(cfg, res[twin_device], out, plt)
        sections.append(md)
        prog.done(f"largest difference {res['device_fidelity']['max_abs_difference']:.3f}")
    if network_report.is_user_design(cfg):
        sections += _user_network_stages(cfg, cfg_path, out, plt, res, prog, echo)
    else:
        prog.step(f"network 1 on the twin and on the CMOS baseline ({cfg['demo']['system']['images']} MNIST images)")
        res["twin_vs_cmos"], md = ds.twin_against_cmos(cfg, out, plt, echo)
        sections.append(md)
        prog.done(f"agreement {res['twin_vs_cmos']['agreement'] * 100:.1f} %, "
                  f"energy CMOS / twin {res['twin_vs_cmos']['energy_ratio']:.0f}x")
        prog.step("Verilog of the twin and bit-exact co-simulation on Verilator")
        res["rtl"], md = ds.core_rtl(cfg, out, echo)
        sections.append(md)
        prog.done(f"{res['rtl']['design']}: " + ("bit-exact" if res["rtl"].get("cosim") else "co-simulation skipped"))
        prog.step(f"synthesis estimate ({cfg['demo']['system']['synth_target']})")
        res["synthesis"], md = ds.synthesis(cfg, out, echo)
        sections.append(md)
        syn = res["synthesis"]
        prog.done(f"{syn.get('lut')} LUT, {syn.get('fmax_mhz')} MHz ({syn.get('source', 'skipped')})" if syn.get("target")
                  else "skipped")
    elapsed = time.perf_counter() - t0
    res["elapsed_s"] = elapsed
    atomic_write_json(out / "demo.json", res)
    head = _report(res, cfg_path, elapsed) if devices else (
        f"# spintwin demo: your network on the twin\n\nspintwin {__version__}, config `{cfg_path}`, {elapsed:.0f} s "
        "(device stages left out).\n")
    report = head + "\n" + "\n".join(sections)
    atomic_write_text(out / "report.md", report)
    page, missing = markdown_to_html(report, out, title="spintwin demo report")
    atomic_write_text(out / "report.html", page)
    if missing:
        echo(f"warning: report images not found: {', '.join(missing)}")
    echo(f"wrote {out / 'report.md'}, {out / 'report.html'} and the plots in {elapsed:.0f} s")
    return res
