"""`python -m bench [--out DIR]`: run every benchmark, write JSON per benchmark, refresh BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from spinbase.fileio import atomic_write_json, atomic_write_text

from . import (allspin, core, devices_dyn, devices_neuron, fast, llg, networks, recurrent, seed_figures, steps, suite,
               twin, user_networks, variation)

#: Benchmarks with their own ``run() -> dict`` and ``markdown(dict) -> str``, in BENCHMARKS.md's
#: order after the four above: name -> module.
SECTIONS = {"steps": steps, "fast": fast, "user_networks": user_networks, "seed": seed_figures, "variation": variation,
            "suite": suite, "devices_neuron": devices_neuron, "devices_dyn": devices_dyn, "recurrent": recurrent,
            "allspin": allspin}


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()}


def _twin_table(t: dict, llg_res: dict | None = None) -> str:
    c = t["config"]
    rows = [
        "## Hardware twin: macrospin integrator (configs/default.toml)",
        "",
        f"Device `{c['device']}`, dt {c['dt_ps']} ps, {c['lanes']} lane(s) x {c['magnets']} magnets, formats m {c['m_format']}, "
        f"h {c['h_format']}, dm {c['dm_format']}, norm {c['norm_format']}, constants {c['const_width']} bits, noise "
        f"{c['noise_uniforms']} x {c['noise_uniform_bits']}-bit uniforms, {c.get('dsp_per_lane', 30)} of 30 products per "
        f"lane on DSP blocks (the rest pipelined LUT multipliers). Initiation interval 1; ECP5 place-and-route "
        f"with nextpnr router2 at a {t['ecp5-85f'].get('freq_target_mhz') or 125:g} MHz target, placement seed "
        f"{t.get('synth_seed', 1)} (configs/default.toml). The fmax covers every register-to-register path "
        f"of the integrator, its output queue's registered read included (the output ports themselves are "
        f"left unplaced by the flow).",
        "",
        "| target | LUT | FF | DSP | BRAM | fmax (MHz) | fits | magnet-steps/s | vs golden CPU |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for target in ("ecp5-85f", "ice40-up5k"):
        r = t[target]
        hw = r.get("hardware_magnet_steps_per_s")
        rate = f"{hw / 1e6:.1f} M" if hw else "-"
        ratio = f"{r['speedup_vs_golden']:.2f}x" if hw else (r.get("fits_reason") or "-")
        rows.append(f"| {target} | {r.get('lut')} | {r.get('ff')} | {r.get('dsp')} | {r.get('bram')} | "
                    f"{r.get('fmax_mhz') or '-'} | {r.get('fits')} | {rate} | {ratio} |")
    rows += [
        "",
        f"Golden CPU reference in the same run ({t.get('date', '')}, {t.get('machine', {}).get('cpu', '')}): "
        f"{t['golden_magnet_steps_per_s'] / 1e6:.1f} M magnet-steps/s. "
        f"Target: >= 20x on ECP5-85F ({'met' if t['meets_speedup_target'] else 'not met'})."
        + (f" CPU use by other work just before it: {t['cpu_busy_before_golden_pct']:.0f} %."
           if "cpu_busy_before_golden_pct" in t else ""),
        *_loaded_note(t, llg_res),
        *(["", f"The co-simulation rows below were measured on {t['cosim_date']} (kept by --twin-reuse-cosim)."]
          if t.get("cosim_date") else []),
        "",
        "| co-simulation (cocotb, integrator) | design | mode | cycles | cycles/s (wall) | cycles/s (CPU) | "
        "magnet-steps/s (wall) | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in t["cosim"]:
        if "skipped" in r:
            rows.append(f"| - | {r.get('design', '')} | skipped: {r['skipped']} | | | | | |")
            continue
        cpu = f"{r['cycles_per_cpu_s']:,.0f}" if r.get("cycles_per_cpu_s") else "-"
        design = r.get("design", "twin-default")
        lanes = f" ({r['lanes']} lanes)" if r.get("lanes") else ""
        target = (">= 200,000 (CPU)" if r["sim"] == "verilator" and r["mode"] == "batch" and design != "twin-default"
                  else "")
        steps = f"{r['magnet_steps_per_s']:,.0f}" if r.get("magnet_steps_per_s") else "-"
        rows.append(f"| {r['sim']} | {design}{lanes} | {r['mode']} | {r['cycles']:,} | {r['cycles_per_s']:,.0f} | "
                    f"{cpu} | {steps} | {target} |")
    return "\n".join(rows + [""])


def _loaded_note(t: dict, llg_res: dict | None) -> list:
    """A warning when this run's golden reference is far below the LLG benchmark's (a loaded machine)."""
    if not llg_res:
        return []
    ref, here = llg_res["golden_magnet_steps_per_s"], t["golden_magnet_steps_per_s"]
    hw = t["ecp5-85f"].get("hardware_magnet_steps_per_s")
    if here >= ref / 1.1 or not hw:
        return []
    return ["", f"Note: the golden reference of this run ({here / 1e6:.1f} M/s) is more than 10 % below the LLG "
                f"benchmark's ({ref / 1e6:.1f} M/s, {llg_res.get('date', '')}): a loaded machine slows "
                f"only the CPU side. Against {ref / 1e6:.1f} M/s the twin is {hw / ref:.1f}x."]


def _table(results: dict) -> str:
    r = results["llg"]
    return "\n".join([
        "## golden.llg.simulate (macrospin LLG, Heun, thermal noise)",
        "",
        f"{r['magnets']:,} magnets of the MTJ-neuron preset at 300 K and 71 uA; reference = the same",
        "Heun scheme written with np.cross per term (checked equal at T = 0), same run.",
        "",
        "| implementation | magnet-steps/s | ratio | target |",
        "|---|---|---|---|",
        f"| golden (numba kernel, {r['numba_threads']} threads) | {r['golden_magnet_steps_per_s'] / 1e6:.1f} M | "
        f"{r['speedup_vs_reference']:.1f}x | >= 20 M/s and >= 4x |",
        f"| numpy reference | {r['reference_magnet_steps_per_s'] / 1e6:.2f} M | 1x | |",
        "",
    ])


def _networks_table(r: dict) -> str:
    g = r["golden"]
    rows = [
        "## Networks 1 and 2 on MNIST (golden and bit-accurate)",
        "",
        f"First {r['images']:,} MNIST test images; +- is the binomial standard error. Golden: golden.snn "
        "(float weights, IF or stochastic MTJ neurons); DW: the same network on 16-level DW crossbars with "
        "eq. 12's per-tile gamma and DW IF neurons.",
        "",
        "| network | ANN | spiking, accuracy by time steps |",
        "|---|---|---|",
    ]
    for name in ("cnn-if", "cnn-dw", "cnn-stochastic"):
        x = g[name]
        acc = ", ".join(f"{t}: {a * 100:.2f} +- {x['accuracy_se'][t] * 100:.2f}"
                        for t, a in sorted(x["accuracy"].items(), key=lambda kv: int(kv[0])))
        rows.append(f"| {name} | {x['ann_accuracy'] * 100:.2f} % | {acc} |")
    rows += ["", "The full 10,000-image test set (golden.snn, measured once, `make test-long` checks it): ANN 99.18 %; "
             "IF SNN 99.11 % at 100 steps, 99.18 % at 150; DW crossbars 98.85 % at 100 steps (within 0.5 % of the "
             "ANN), 99.08 % at 200; stochastic MTJ network 98.49 % at 50 steps (sigmoid ANN 98.63 %)."]
    rows += ["", "Bit-accurate models (quantize.snn, what the RTL core computes), one parameter swept from "
             "the defaults (16 levels, 10-bit scale codes, 16-bit membrane with 8 fraction bits, 8-bit LFSR "
             "input encoding, 100 steps; twin-if: the golden DW mapping with gamma pre-compensation and "
             "half-rate input; stochastic: 50 steps, 6-bit LUT address, 8-bit LUT):", "",
             "| model | parameter | accuracy (%) per value |", "|---|---|---|"]
    for sw in r["sweeps"]:
        cells = ", ".join(f"{v}: {a * 100:.1f}" for v, a in zip(sw["values"], sw["accuracy"]))
        rows.append(f"| {sw['kind']} | {sw['param']} | {cells} |")
    rows += ["", "![accuracy versus bit width](docs/accuracy_vs_bits.png)", "",
             "Energy per inference from the golden runs' measured event counts (golden.energy; constants and "
             "their sources in the module):", "",
             "| network | spintronic | CMOS baseline | energy ratio (CMOS / spin) | latency spin / CMOS | EDP ratio |", "|---|---|---|---|---|---|"]
    for name, e in r["energy"].items():
        rows.append(f"| {name} | {e['spin_J'] * 1e9:.3g} nJ | {e['cmos_J'] * 1e9:.3g} nJ | "
                    f"{e['energy_ratio']:.0f}x | {e['spin_latency_s'] / e['cmos_latency_s']:.3g} | {e['edp_ratio']:.3g} |")
    if r.get("stdp"):
        rows += ["", "Network 3, unsupervised STDP (golden.stdp_network; one epoch of 60,000 images, one core):", "",
                 "| synapses | neurons | accuracy | training time | switching events | programming energy |",
                 "|---|---|---|---|---|---|"]
        for x in r["stdp"]:
            rows.append(f"| {x['variant']} | {x['neurons']} | {x['accuracy'] * 100:.1f} +- {x['accuracy_se'] * 100:.1f} % | "
                        f"{x['train_seconds']:.0f} s | {x['switching_events'] / 1e6:.2f} M | {x.get('energy_J', 0) * 1e9:.2f} nJ |")
    rows += ["", "Against the seed's figures (250x energy and 56x EDP for network 1, 20x for network 2): "
             + r["seed_report"]["explanation"].replace("\n", " "), ""]
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description="Run spintwin benchmarks.",
                                 epilog="example: python -m bench --out bench/results --only networks")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--only", nargs="+", choices=("llg", "twin", "networks", "core", *SECTIONS, "none"),
                    help="run only these; the others are read from their JSON in --out")
    ap.add_argument("--images", type=int, default=1000, help="MNIST test images for the networks benchmark")
    ap.add_argument("--no-markdown", action="store_true", help="do not rewrite BENCHMARKS.md")
    ap.add_argument("--twin-reuse-cosim", action="store_true",
                    help="twin: keep the co-simulation rows of the twin JSON in --out (with their date); "
                         "measure the golden reference and read the synthesis anew")
    ap.add_argument("--markdown-only", action="store_true",
                    help="run nothing: rewrite BENCHMARKS.md (and the plot) from the JSON in --out")
    args = ap.parse_args(argv)
    if args.markdown_only:
        args.only = ["none"]
    out = Path(args.out)
    info = machine()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    old_twin = out / "twin.json"
    if args.twin_reuse_cosim and not old_twin.is_file():
        print(f"error: --twin-reuse-cosim needs {old_twin}", file=sys.stderr)
        return 2
    reuse = json.loads(old_twin.read_text()) if args.twin_reuse_cosim else None
    runners = {"llg": llg.run, "twin": lambda: twin.run(reuse),
               "networks": lambda: networks.run(args.images, out),
               "core": lambda: core.run(min(args.images, 500)),
               "seed": lambda: seed_figures.run(out),
               "allspin": lambda: allspin.run(out),   # its training points cached under out/allspin-points
               "steps": lambda: steps.run(out),       # its chunks cached under out/steps-points
               **{name: module.run for name, module in SECTIONS.items() if name not in ("seed", "allspin", "steps")}}
    results = {}
    for name, fn in runners.items():
        if args.only and name not in args.only:
            path = out / f"{name}.json"
            if path.is_file():
                results[name] = json.loads(path.read_text())
            continue
        results[name] = {**fn(), "machine": info, "date": stamp}
        atomic_write_json(out / f"{name}.json", results[name])
        print(json.dumps(results[name], indent=2, default=str))
    if "networks" in results:
        networks.plot(results["networks"], Path("docs/accuracy_vs_bits.png"))
    if not args.no_markdown:
        parts = ["# Benchmarks", "",
                 (f"Written by `make bench` on {stamp}: {info['cpu']}, {info['cores']} cores, Python {info['python']}."
                  if not args.only else
                  f"Assembled by `python -m bench --markdown-only` on {stamp} from bench/results/*.json; each "
                  f"section was measured on its own date and machine (in its JSON)."
                  if args.markdown_only else
                  f"Written by `python -m bench --only {' '.join(args.only)}` on {stamp} ({info['cpu']}, "
                  f"{info['cores']} cores); the other sections are read from their JSON, each with its own date "
                  f"and machine."),
                 "Every figure is a ratio against a reference measured in the same run; raw JSON (with each "
                 "benchmark's own date) in bench/results/.", ""]
        if "llg" in results:
            parts.append(_table(results))
        if "twin" in results:
            parts.append(_twin_table(results["twin"], results.get("llg")))
        if "networks" in results:
            parts.append(_networks_table(results["networks"]))
        if "core" in results:
            parts.append(core.markdown(results["core"]))
        for name, module in SECTIONS.items():
            if name in results:
                parts.append(module.markdown(results[name]))
        atomic_write_text("BENCHMARKS.md", "\n".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
