"""`python -m bench [--out DIR]`: run every benchmark, write JSON per benchmark, refresh BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path

from spintwin.fileio import atomic_write_json, atomic_write_text

from . import llg


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
    results = {"llg": {**llg.run(), "machine": info, "date": stamp}}
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
        ])
        atomic_write_text("BENCHMARKS.md", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
