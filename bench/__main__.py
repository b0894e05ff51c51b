"""`python -m bench [--out DIR]`: run every benchmark, write JSON per benchmark, refresh BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path

from spintwin.fileio import atomic_write_json, atomic_write_text

from . import llg, twin


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


def _twin_table(t: dict) -> str:
    c = t["config"]
    rows = [
        "## Hardware twin: macrospin integrator (configs/default.toml)",
        "",
        f"Device `{c['device']}`, dt {c['dt_ps']} ps, {c['lanes']} lane(s) x {c['magnets']} magnets, formats m {c['m_format']}, "
        f"h {c['h_format']}, dm {c['dm_format']}, norm {c['norm_format']}, constants {c['const_width']} bits, noise "
        f"{c['noise_uniforms']} x {c['noise_uniform_bits']}-bit uniforms. Initiation interval 1.",
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
        f"Golden CPU reference in the same run: {t['golden_magnet_steps_per_s'] / 1e6:.1f} M magnet-steps/s. "
        f"Target: >= 20x on ECP5-85F ({'met' if t['meets_speedup_target'] else 'not met'}).",
        "",
        "| co-simulation (cocotb, integrator) | mode | cycles | cycles/s (wall) | cycles/s (CPU) | target |",
        "|---|---|---|---|---|---|",
    ]
    for r in t["cosim"]:
        if "skipped" in r:
            rows.append(f"| - | skipped: {r['skipped']} | | | | |")
            continue
        cpu = f"{r['cycles_per_cpu_s']:,.0f}" if r.get("cycles_per_cpu_s") else "-"
        target = ">= 200,000" if r["sim"] == "verilator" and r["mode"] == "batch" else ""
        rows.append(f"| {r['sim']} | {r['mode']} | {r['cycles']:,} | {r['cycles_per_s']:,.0f} | {cpu} | {target} |")
    return "\n".join(rows + [""])


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description="Run spintwin benchmarks.",
                                 epilog="example: python -m bench --out bench/results")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--no-markdown", action="store_true", help="do not rewrite BENCHMARKS.md")
    args = ap.parse_args(argv)
    out = Path(args.out)
    info = machine()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    results = {"llg": {**llg.run(), "machine": info, "date": stamp},
               "twin": {**twin.run(), "machine": info, "date": stamp}}
    for name, res in results.items():
        atomic_write_json(out / f"{name}.json", res)
        print(json.dumps(res, indent=2))
    if not args.no_markdown:
        md = "\n".join([
            "# Benchmarks",
            "",
            f"Measured by `make bench` on {stamp}: {info['cpu']}, {info['cores']} cores, Python {info['python']}.",
            "Every figure is a ratio against a reference measured in the same run; raw JSON in bench/results/.",
            "",
            _table(results),
            _twin_table(results["twin"]),
        ])
        atomic_write_text("BENCHMARKS.md", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
