"""The system stages of ``spintwin demo``: golden against quantised device, twin against CMOS,
the core's Verilog, its bit-exact co-simulation and a synthesis estimate.

Each stage returns a JSON-ready dict and the Markdown section of the report; a stage whose tool
is missing reports that in its section (the demo goes on) instead of failing the whole run.
The SNN core (``spintwin.core_flow``) is used when present; otherwise the stages fall back to
the macrospin integrator block, and the report says which design it shows.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from spinbase.errors import SpintwinError
from spinbase.fileio import atomic_savefig, atomic_write_json

__all__ = ["device_fidelity", "twin_against_cmos", "core_rtl", "synthesis"]


def device_fidelity(cfg: dict, golden_curve: dict, out: Path, plt) -> tuple[dict, str]:
    """The twin device's curve on the integer datapath against the golden LLG's ``golden_curve``.

    ``twin.macrospin.device = "step_neuron"``: the preset/evaluate step neuron's decision curve
    P(+z) against the evaluation current (quantize.step_neuron: the preset on the heavy-metal
    channel, then the evaluation current on the MTJ channel), ``golden_curve`` the demo's step
    neuron result; otherwise the MTJ neuron's switching curve against the demo's MTJ neuron."""
    from golden import devices
    from golden.llg import relaxation_time
    from quantize.macrospin import switching_probability_quantised
    from quantize.step_neuron import decision_probability_quantised

    from .twin import macrospin_from_config

    model = macrospin_from_config(cfg)[0]
    step = cfg["twin"]["macrospin"]["device"] == "step_neuron"
    cur = np.asarray(golden_curve["currents_uA"], dtype=float) * 1e-6
    trials = cfg["demo"]["trials"]
    if step:
        what = "SOT step neuron"
        pq, seq, sat = decision_probability_quantised(model, devices.step_neuron(), cur, trials=trials,
                                                      seed=cfg["demo"]["seed"])
    else:
        what = "MTJ neuron"
        n = devices.mtj_neuron()
        tr = relaxation_time(n.magnet)
        pq, seq, sat = switching_probability_quantised(model, n.magnet, cur, n.write_duration, trials=trials,
                                                       seed=cfg["demo"]["seed"], settle=2 * tr, relax=10 * tr)
    pg, seg = np.asarray(golden_curve["probability"]), np.asarray(golden_curve["stderr"])
    diff = np.abs(pq - pg)
    bound = 0.03 + 3 * np.sqrt(seg ** 2 + seq ** 2)   # the issue-3 fidelity criterion per current
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(cur * 1e6, pg, yerr=seg, fmt="o-", capsize=3, label="golden LLG (float)")
    ax.errorbar(cur * 1e6, pq, yerr=seq, fmt="s--", capsize=3,
                label="twin integer datapath (quantize.step_neuron)" if step else
                "twin integer datapath (quantize.macrospin)")
    if step:
        ax.set(xlabel="evaluation current (uA)", ylabel="P(final state +z)",
               title="SOT step neuron (preset / evaluate): golden against the twin")
    else:
        ax.set(xlabel="heavy-metal current (uA)", ylabel="switching probability",
               title="MTJ neuron: golden against the hardware twin")
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_savefig(fig, out / "twin_switching_curve.png", dpi=110)
    plt.close(fig)
    m = cfg["twin"]["macrospin"]
    res = {"device": "step_neuron" if step else "mtj_neuron",
           "currents_uA": (cur * 1e6).tolist(), "quantised": pq.tolist(), "quantised_stderr": seq.tolist(),
           "max_abs_difference": float(diff.max()), "within_bound": bool(np.all(diff < bound)),
           "saturations": int(sat), "formats": {k: m[k] for k in ("m_format", "h_format", "dm_format", "norm_format")}}
    md = "\n".join([
        "## Device fidelity: golden against quantised",
        "",
        f"The {'preset/evaluate ' + what if step else 'stochastic ' + what} on the twin's integer datapath "
        f"({m['m_format'][0]}-bit state, "
        f"{m['noise_uniforms']} x {m['noise_uniform_bits']}-bit LFSR uniforms per Gaussian) against the golden "
        f"LLG, {trials} trials per current: largest difference {diff.max():.3f} "
        f"({'within' if res['within_bound'] else 'OUTSIDE'} 0.03 + 3 combined standard errors at every current), "
        f"{sat} saturations.",
        "",
        "![twin switching curve](twin_switching_curve.png)",
        "",
    ])
    return res, md


def twin_against_cmos(cfg: dict, out: Path, plt, echo) -> tuple[dict, str]:
    """Network 1 on the twin and on the CMOS baseline (bit-accurate models, same trained weights)."""
    from .compare import markdown_table, twin_vs_cmos

    s = cfg["demo"]["system"]
    res = twin_vs_cmos(s["images"], steps=s["steps"], echo=echo)
    layers = [k for k in res["twin"]["spikes_per_image"] if k != "input" and "." not in k]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    x = np.arange(len(layers))
    for off, name in ((-0.2, "twin"), (0.2, "cmos")):
        a.bar(x + off, [res[name]["spikes_per_image"][k] for k in layers], 0.4, label=name)
    a.set_xticks(x, layers)
    a.set(ylabel="spikes per image", yscale="log", title="Spikes per layer")
    a.legend()
    for i, name in enumerate(("twin", "cmos")):
        comp = res[name]["energy_breakdown_J"]
        bottom = 0.0
        for k, v in comp.items():
            if v > 0:
                b.bar(i, v * 1e9, bottom=bottom, label=f"{name}: {k}")
                bottom += v * 1e9
    b.set_xticks([0, 1], ["twin (DW)", "CMOS"])
    b.set(ylabel="nJ per inference", yscale="log", title="Energy per inference")
    b.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    atomic_savefig(fig, out / "twin_vs_cmos.png", dpi=110)
    plt.close(fig)
    md = "\n".join(["## Twin against the CMOS baseline (network 1, MNIST)", "", markdown_table(res), "",
                    "Both are the bit-accurate models (`quantize.snn`) that the RTL cores match spike for spike. "
                    "The twin runs the golden DW mapping (16 levels, gamma pre-compensated, half-rate input); the "
                    "baseline 8-bit weights with full-rate input, so it spikes more. Energy: `golden.energy` from "
                    "each core's own event counts (the baseline's includes SRAM weight reads).", "",
                    "![twin vs CMOS](twin_vs_cmos.png)", ""])
    return res, md


def _core_flow():
    try:
        from . import core_flow
    except ImportError:
        return None
    return core_flow if hasattr(core_flow, "generate_core") else None


def core_rtl(cfg: dict, out: Path, echo) -> tuple[dict, str]:
    """The twin core's Verilog (lint-checked) and a bit-exact Verilator co-simulation."""
    from boards.tools import simulator_available

    s = cfg["demo"]["system"]
    cf = _core_flow()
    rtl = out / "rtl"
    res: dict = {"design": "snn-core cnn-if" if cf else "macrospin integrator"}
    if cf:
        manifest = cf.generate_core("cnn-if", rtl)
    else:
        from .flow import generate

        manifest = generate("macrospin", cfg, rtl)
    res["manifest"] = {k: manifest.get(k) for k in ("top", "ports", "latency", "lanes") if k in manifest}
    res["verilog"] = sorted(p.name for p in rtl.glob("*.v"))
    lint = (manifest.get("lint") or {}).get("clean")
    lines = ["## Verilog and bit-exact co-simulation", "",
             f"Design: {res['design']}. Verilog in `rtl/` ({', '.join(res['verilog'])}), "
             f"`verilator --lint-only -Wall`: {'clean' if lint else 'skipped' if lint is None else 'NOT clean'}."]
    n = s["cosim_images"]
    ok, why = simulator_available("verilator")
    if n == 0 or not ok:
        res["cosim"] = None
        lines += ["", f"Co-simulation skipped ({'cosim_images = 0' if n == 0 else why})."]
    else:
        t0 = time.perf_counter()
        if cf:
            echo(f"      co-simulating {n} image(s) on Verilator ...")
            run = cf.verify_core("cnn-if", sim="verilator", images=n, seed=cfg["demo"]["seed"], echo=lambda *_: None)
            what = f"{n} MNIST image(s) through the core, spike for spike against `quantize.snn`"
        else:
            from .config import DEFAULT_CONFIG
            from .flow import verify

            run = verify("macrospin", DEFAULT_CONFIG, sim="verilator", steps=20000, seed=1, echo=lambda *_: None)
            what = "20,000 magnet-steps per lane against `quantize.macrospin`"
        res["cosim"] = {**{k: v for k, v in run.items() if isinstance(v, (int, float, str, bool)) or v is None},
                        "seconds": time.perf_counter() - t0}
        cps = run.get("cycles_per_s")
        lines += ["", f"Verilator co-simulation: {what}: **bit-exact** "
                      f"({run.get('cycles', 'n/a')} cycles, {cps:,.0f} cycles/s, {res['cosim']['seconds']:.0f} s)."
                  if cps else f"Verilator co-simulation: {what}: **bit-exact** ({res['cosim']['seconds']:.0f} s)."]
    lines.append("")
    return res, "\n".join(lines)


def _baseline(block: str, target: str) -> dict | None:
    folder = Path(__file__).resolve().parent.parent / "boards" / "baselines"
    hits = sorted(folder.glob(f"{block}__*__{target}.json"))
    return json.loads(hits[0].read_text()) if hits else None


def synthesis(cfg: dict, out: Path, echo) -> tuple[dict, str]:
    """Resources and fmax of the design (YoWASP Yosys + nextpnr), or the committed baseline when
    the run exceeds its time budget or the tools are missing."""
    from boards.synth import SynthError, synthesize, tools_missing

    s = cfg["demo"]["system"]
    target = s["synth_target"]
    if target == "none":
        return {"target": None}, "## Synthesis\n\nSkipped (synth_target = none).\n"
    cf = _core_flow()
    block = "snn_core" if cf else "macrospin"
    res: dict = {"target": target, "block": block, "source": "run"}
    missing = tools_missing(target)
    try:
        if missing:
            raise SynthError(missing)
        if cf:
            r = cf.synth_core("cnn-if", target=target, timeout_s=s["synth_timeout_s"])
        else:
            from .flow import design_of

            b, d = design_of("macrospin", cfg)
            dut = b.component(d, "generic")
            r = synthesize(dut, "macrospin", target=target, timeout_s=s["synth_timeout_s"])
            r["lanes"] = dut.lanes
    except (SynthError, SpintwinError, TypeError) as e:
        r = _baseline(block, target)
        res["source"] = f"committed baseline ({str(e).splitlines()[0][:120]})" if r else "unavailable"
        echo(f"      synthesis not run here: {str(e).splitlines()[0][:120]}")
    if r:
        res.update({k: r.get(k) for k in ("lut", "ff", "dsp", "bram", "fmax_mhz", "fits", "lanes", "device",
                                          "images_per_s_at_fmax", "cycles_per_image")})
        if res["source"] == "run" and r.get("cached"):
            res["source"] = "run, from the build cache"
    lines = ["## Synthesis", ""]
    if r:
        lines += [f"{block} on {target} ({res['source']}):", "",
                  "| LUT | FF | DSP | BRAM | fmax (MHz) | fits |", "|---|---|---|---|---|---|",
                  f"| {res.get('lut')} | {res.get('ff')} | {res.get('dsp')} | {res.get('bram')} | "
                  f"{res.get('fmax_mhz')} | {res.get('fits')} |", ""]
        if res.get("images_per_s_at_fmax"):
            lines += [f"At fmax the core classifies {res['images_per_s_at_fmax']:.0f} images/s "
                      f"({res['cycles_per_image']:,.0f} cycles per image).", ""]
    else:
        lines += [f"No synthesis result for {block} on {target}.", ""]
    atomic_write_json(out / "synthesis.json", res)
    return res, "\n".join(lines)
