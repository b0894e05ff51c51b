"""Stored synthesis baselines and the regression check against them.

One JSON file per (block, config, target) sits next to this module, named
``<block>__<config>__<target>.json``. It holds the metrics of :func:`boards.synth.synthesize`
(``lut, ff, dsp, bram, fmax_mhz, fits``), the tool versions and the date it was made.
:func:`check_regression` lists every metric that got worse by more than the tolerance.

The reference designs are in :data:`CASES`; regenerate every baseline (after a deliberate
change, or a tool upgrade) with::

    python -m boards.baselines --update
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["BASELINE_DIR", "CASES", "SLOW_CASES", "METRICS", "baseline_path", "check_regression",
           "load_baseline", "save_baseline", "update_baselines"]

BASELINE_DIR = Path(__file__).resolve().parent

#: metric -> the direction that is better.
METRICS: dict[str, str] = {"lut": "lower", "ff": "lower", "dsp": "lower", "bram": "lower",
                           "fmax_mhz": "higher"}

_STORED = ("top", "target", "device", "lut", "ff", "dsp", "bram", "fmax_mhz", "fits",
           "fits_reason", "lanes", "seed", "freq_target_mhz", "io", "hash", "tool_versions")


def _lfsr_bank():
    from hdl.lfsr import LfsrBank
    from quantize.lfsr import LfsrConfig

    return LfsrBank(LfsrConfig(width=31, lanes=4, bits_per_cycle=8, master_seed=0))


def _gaussian_noise():
    from hdl.noise import GaussianNoise
    from quantize.noise import NoiseConfig

    return GaussianNoise(NoiseConfig(lanes=2))


def _snn_core(network: str):
    def build():
        from hdl.core import SnnCore
        from quantize.core import trained_network

        return SnnCore(trained_network(network))
    return build


#: (block, config) -> a function building the component; the block name is the top name.
CASES: dict[tuple[str, str], Callable[[], Any]] = {
    ("lfsr_bank", "w31-l4-k8"): _lfsr_bank,
    ("gaussian_noise", "lanes2"): _gaussian_noise,
}

#: Slow cases (minutes of place-and-route each): stored like the others, checked by the long
#: test of tests/test_synth_core.py (`make test-long`), not by the ordinary suite.
SLOW_CASES: dict[tuple[str, str], Callable[[], Any]] = {
    ("snn_core", "cnn-if"): _snn_core("cnn-if"),
    ("snn_core", "cmos-if"): _snn_core("cmos-if"),
}


def baseline_path(block: str, config: str, target: str) -> Path:
    """``boards/baselines/<block>__<config>__<target>.json``."""
    return BASELINE_DIR / f"{block}__{config}__{target}.json"


def load_baseline(block: str, config: str, target: str) -> dict[str, Any]:
    """The stored baseline; FileNotFoundError (one line) when there is none."""
    path = baseline_path(block, config, target)
    if not path.is_file():
        raise FileNotFoundError(f"no baseline {path.name} in {BASELINE_DIR} "
                                "(make one with `python -m boards.baselines --update`)")
    return json.loads(path.read_text())


def save_baseline(result: dict[str, Any], block: str, config: str, target: str | None = None,
                  *, date: str | None = None) -> Path:
    """Store the metrics of a :func:`boards.synth.synthesize` result, with its tool versions
    and *date* (ISO, default today), atomically. Returns the path."""
    target = target or result["target"]
    if result["target"] != target:
        raise ValueError(f"result is for {result['target']}, not {target}")
    data = {"block": block, "config": config,
            **{k: result.get(k) for k in _STORED},
            "date": date or datetime.date.today().isoformat()}
    path = baseline_path(block, config, target)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def check_regression(result: dict[str, Any], baseline: dict[str, Any],
                     tolerance: float = 0.10) -> list[str]:
    """Every metric of *result* worse than *baseline* by more than *tolerance* (a fraction).

    Worse means more LUT, FF, DSP or BRAM (a count rising from 0 always counts), a lower
    ``fmax_mhz`` (or none at all), or ``fits`` turning false. Metrics the baseline lacks are
    not checked. Returns one line per regression, e.g.
    ``"lut: 98 -> 120 (+22.4 %, limit +10 %)"``; an empty list means no regression.
    """
    if not 0 <= tolerance:
        raise ValueError(f"tolerance must be >= 0, not {tolerance}")
    if baseline.get("target") and result.get("target") and \
            baseline["target"] != result["target"]:
        raise ValueError(f"baseline is for {baseline['target']}, result for {result['target']}")
    out = []
    if baseline.get("fits") and result.get("fits") is False:
        out.append(f"fits: true -> false ({result.get('fits_reason')})")
    limit = f"{tolerance * 100:g} %"
    for name, better in METRICS.items():
        old, new = baseline.get(name), result.get(name)
        if old is None:
            continue
        if new is None:
            out.append(f"{name}: {old} -> none")
            continue
        if better == "lower":
            if new > old * (1 + tolerance):
                rel = f"+{(new - old) / old * 100:.1f} %" if old else "was 0"
                out.append(f"{name}: {old} -> {new} ({rel}, limit +{limit})")
        elif new < old * (1 - tolerance):
            out.append(f"{name}: {old} -> {new} ({(new - old) / old * 100:.1f} %, "
                       f"limit -{limit})")
    return out


def update_baselines(targets: Iterable[str] | None = None,
                     cases: Iterable[tuple[str, str]] | None = None, *,
                     out_dir=None) -> list[Path]:
    """Synthesise every case in :data:`CASES` (and :data:`SLOW_CASES`) for every target and
    store the baselines."""
    from boards.synth import TARGETS, synthesize

    every = {**CASES, **SLOW_CASES}
    paths = []
    for block, config in (cases or every):
        for target in (targets or TARGETS):
            result = synthesize(every[block, config](), block, target=target, out_dir=out_dir)
            paths.append(save_baseline(result, block, config, target))
    return paths


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    from boards.synth import SynthError

    parser = argparse.ArgumentParser(prog="python -m boards.baselines",
                                     description="Show or regenerate synthesis baselines.")
    parser.add_argument("--update", action="store_true",
                        help="synthesise every reference case and rewrite its baseline")
    args = parser.parse_args(argv)
    if args.update:
        try:
            paths = update_baselines()
        except SynthError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        for p in paths:
            print(f"wrote {p}")
        return 0
    for path in sorted(BASELINE_DIR.glob("*.json")):
        b = json.loads(path.read_text())
        print(f"{path.stem:45s} lut {b['lut']:6} ff {b['ff']:6} dsp {b['dsp']:3} "
              f"bram {b['bram']:3} fmax {b['fmax_mhz']} MHz  ({b['date']})")
    return 0
