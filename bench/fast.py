"""Benchmark: network 1's twin at FPGA speed (issue 17), the design of ``configs/fast.toml``.

The operating point bench/steps.py chose on the full test set (99.9th-percentile
normalisation, input rate 1.0, early decision at a lead of 2, at most 100 steps) on the core
with 5 scatter lanes (``QuantConfig.parallelism``: conv accumulators banked by output column,
the encoder 4 pixels per cycle), all measured in one run:

* accuracy of the bit-accurate model (= the RTL) on the full 10,000-image MNIST test set, with
  its binomial SE, mean steps per image and the exact cycles per image (``quantize.core``:
  the mean of ``cycles_exact`` over the 10,000 images, from the run's event counts);
* the CPU bit-accurate model's images/s on the same work (2 processes, one per core, each on
  half of the test set, start-up included; the early decision included: the vectorised model
  runs a batch to the configured steps and cuts each image at its stop, so the ratio is also
  given against the bound of a CPU that stopped every image at its stop for free,
  ``steps / mean steps`` faster), the reference of the ratio;
* the core's resources and routed fmax on the ECP5-85F (``spintwin synth core --config``) and
  images/s = fmax / cycles per image, against the CPU model and the issue's 2,000 images/s;
* co-simulation of the first 100 test images on Verilator, bit-exact, with its wall time (the
  issue's target: under 2 minutes; the Verilator build is cached per design and excluded);
* energy per inference of the twin from its own event counts (golden.energy) next to the CMOS
  baseline core running the same description and rule (``cmos-if``).

Run: ``python -m bench.fast`` (prints JSON); ``make bench`` runs all benchmarks.
"""

from __future__ import annotations

import json
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

__all__ = ["run", "markdown", "CONFIG", "TARGET_IMAGES_PER_S", "TARGET_ACCURACY"]

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "fast.toml"
TARGET_IMAGES_PER_S = 2000.0
TARGET_ACCURACY = 0.985
TARGET_COSIM_S = 120.0


def _design(kind: str | None = None):
    """(QuantNetwork, description path) of configs/fast.toml (``kind`` overrides its kind)."""
    from spintwin.block_core import core_network, core_quant_config, CoreDesign
    from spintwin.config import load_config

    table = dict(load_config(CONFIG)["core"])
    if kind:
        table["kind"] = kind
    network, qcfg = core_quant_config(table, path=CONFIG)
    return core_network(CoreDesign(network, qcfg, CONFIG, "mnist")), network


def _chunk(args) -> dict:
    """One process's share: ``quantize.snn.run`` on test images ``lo .. hi - 1``."""
    lo, hi, kind = args
    import numpy as np

    from quantize.snn import run
    from spinbase.data import load_mnist

    net, _ = _design(kind)
    _, (xs, ys) = load_mnist()
    t0 = time.perf_counter()
    r = run(net, xs[lo:hi], first_image=lo)
    return {"correct": int(np.sum(r["pred"] == ys[lo:hi])), "images": hi - lo, "spikes": r["spikes"],
            "seconds": time.perf_counter() - t0}


def _model(images: int, kind: str | None = None, workers: int = 2) -> dict:
    """The bit-accurate model on the first ``images`` test images in ``workers`` processes."""
    from quantize.core import cycles_per_image

    edges = [images * i // workers for i in range(workers + 1)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_chunk, [(edges[i], edges[i + 1], kind) for i in range(workers)]))
    wall = time.perf_counter() - t0
    spikes = {k: sum(p["spikes"][k] for p in parts) for k in parts[0]["spikes"]}
    net, _ = _design(kind)
    acc = sum(p["correct"] for p in parts) / images
    return {"kind": net.cfg.kind, "images": images, "accuracy": acc, "accuracy_se": math.sqrt(acc * (1 - acc) / images),
            "mean_steps": spikes["steps.run"] / images,
            "cycles_per_image": cycles_per_image(net, {k: v / images for k, v in spikes.items()}),
            "spikes_per_image": {k: v / images for k, v in spikes.items()}, "workers": workers,
            "wall_s": wall, "cpu_images_per_s": images / wall,
            # the vectorised model runs a batch of images to the configured steps and cuts each at
            # its stop afterwards; a CPU that stopped every image at its stop for free would be
            # at most steps / mean_steps faster: the bound the hardware is also compared with
            "cpu_images_per_s_bound": images / wall * net.cfg.steps / (spikes["steps.run"] / images)}


def _energy(model: dict) -> dict:
    """Energy per inference from the model's own event counts (golden.energy, as the core bench)."""
    from spintwin.explore_eval import energy_per_inference, network_events

    net, _ = _design(None if model["kind"] == "twin-if" else model["kind"])
    ev = network_events(net, {k: v * model["images"] for k, v in model["spikes_per_image"].items()}, model["images"])
    return energy_per_inference(net, ev)


def _synth() -> dict:
    from spinbase.errors import SpintwinError
    from spintwin.flow import synth
    from spintwin.config import load_config
    from spintwin.blocks import Request

    try:
        return synth("core", load_config(CONFIG), target="ecp5-85f", req=Request(config_path=CONFIG))
    except SpintwinError as e:             # one line, without the log's path
        return {"error": str(e).split(" [log:")[0]}


def _cosim(images: int) -> dict:
    from spinbase.errors import SpintwinError
    from spintwin.blocks import Request
    from spintwin.flow import verify

    try:
        r = verify("core", CONFIG, sim="verilator", echo=None, req=Request(images=images))
    except SpintwinError as e:
        return {"error": str(e)}
    return {**r, "network": str(Path(r["network"]).relative_to(ROOT)) if Path(r["network"]).is_relative_to(ROOT)
            else Path(r["network"]).name}


def run(images: int = 10000, cosim_images: int = 100) -> dict:
    """Every figure of the module docstring, measured in one run."""
    t0 = time.perf_counter()
    load = os.getloadavg()[0]
    twin = _model(images)
    cmos = _model(min(images, 2000), "cmos-if")
    res = {"benchmark": "fast", "config": str(CONFIG.relative_to(ROOT)), "load_average_before": load,
           "twin": twin, "cmos": cmos}
    res["energy"] = {"twin": _energy(twin), "cmos": _energy(cmos)}
    res["synth"] = s = _synth()
    if s.get("fmax_mhz"):
        s["images_per_s"] = s["fmax_mhz"] * 1e6 / twin["cycles_per_image"]
        s["speedup_vs_cpu_bit_accurate"] = s["images_per_s"] / twin["cpu_images_per_s"]
        s["speedup_vs_cpu_bound"] = s["images_per_s"] / twin["cpu_images_per_s_bound"]
    res["cosim"] = _cosim(cosim_images)
    res["targets"] = {"images_per_s": TARGET_IMAGES_PER_S, "accuracy": TARGET_ACCURACY, "cosim_100_s": TARGET_COSIM_S,
                      "speedup_vs_cpu": 10.0}
    res["seconds"] = time.perf_counter() - t0
    return res


def markdown(r: dict) -> str:
    """The BENCHMARKS.md section of a :func:`run` result."""
    t, c, s, v = r["twin"], r["cmos"], r.get("synth", {}), r.get("cosim", {})
    out = ["## Network 1 at FPGA speed (issue 17): `configs/fast.toml`", "",
           "The twin of network 1 at the operating point of bench/steps.py (the same trained CNN normalised at the "
           "99.9th percentile, white pixels at rate 1.0, early decision at a lead of 2 spikes, at most 100 steps) on "
           "the core with 5 scatter lanes (conv accumulators banked by output column, the encoder 4 pixels a "
           "cycle). Accuracy of the bit-accurate model (equal to the RTL spike for spike) on the MNIST test images; "
           "cycles per image exact (quantize.core, the mean of cycles_exact over those images); images/s = routed "
           f"fmax / cycles; CPU: the same model and rule in {t['workers']} processes on this machine, same run "
           f"(load average {r['load_average_before']:.1f} before it).", "",
           "| core | test images | accuracy (%) | mean steps | cycles / image | CPU images/s |",
           "|---|---|---|---|---|---|"]
    for m in (t, c):
        out.append(f"| {m['kind']} | {m['images']:,} | {100 * m['accuracy']:.2f} +- {100 * m['accuracy_se']:.2f} | "
                   f"{m['mean_steps']:.1f} | {m['cycles_per_image']:,.0f} | {m['cpu_images_per_s']:.1f} |")
    out.append("")
    if s.get("fmax_mhz"):
        ok = s["images_per_s"] >= TARGET_IMAGES_PER_S and t["accuracy"] >= TARGET_ACCURACY
        out += ["| ECP5-85F | LUT | FF | DSP | BRAM | fmax (MHz) | images/s | vs CPU bit-accurate | vs its "
                "early-stop bound |", "|---|---|---|---|---|---|---|---|---|",
                f"| twin core, 5 lanes | {s['lut']} | {s['ff']} | {s['dsp']} | {s['bram']} | {s['fmax_mhz']:.1f} | "
                f"{s['images_per_s']:,.0f} | {s['speedup_vs_cpu_bit_accurate']:.0f}x | {s['speedup_vs_cpu_bound']:.1f}x |",
                "", f"Target >= {TARGET_IMAGES_PER_S:,.0f} images/s at >= {100 * TARGET_ACCURACY:.1f} % and >= 10x the "
                f"CPU model: {'met' if ok and s['speedup_vs_cpu_bit_accurate'] >= 10 else 'not met'} (against the "
                f"CPU's early-stop bound: {s['speedup_vs_cpu_bound']:.1f}x)."]
    else:
        out.append(f"Synthesis: {s.get('error', 'no figure')}.")
    if v.get("bit_exact"):
        out.append(f"Co-simulation of the first {v['images']} test images on Verilator: bit-exact, "
                   f"{v['seconds']:.0f} s (target < {TARGET_COSIM_S:.0f} s: "
                   f"{'met' if v['seconds'] < TARGET_COSIM_S else 'not met'}; build cached).")
    elif v:
        out.append(f"Co-simulation: {v.get('error')}.")
    e = r.get("energy", {})
    if "twin" in e:
        out.append(f"Energy per inference from each core's own events: twin {e['twin']['energy_J'] * 1e9:.2f} nJ, "
                   f"CMOS baseline {e['cmos']['energy_J'] * 1e9:.0f} nJ "
                   f"({e['cmos']['energy_J'] / e['twin']['energy_J']:.0f}x).")
    return "\n".join(out + [""])


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, default=str))
