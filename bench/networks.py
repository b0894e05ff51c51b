"""Benchmark: the seed's networks 1 and 2 on MNIST, golden and bit-accurate, and their energy.

* Golden accuracies (golden.snn through spintwin.experiments): the ANN, the IF SNN, the SNN on DW crossbars, the stochastic
  MTJ network; each with its binomial standard error on the images used.
* Accuracy versus bit width (quantize.snn, the integer models the RTL core implements): weight
  levels / bits, membrane bits, time steps, LUT bits, for the twin and the CMOS baseline.
* Energy per inference from the golden runs' measured event counts (golden.energy.compare).

Sweeps are cached point by point in the output folder (a point's key is its config), so an
interrupted run resumes without recomputing. Run: ``python -m bench.networks [--images N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from golden.energy import NETWORK_SHAPES as SHAPES  # (inputs, neurons, fan_in, stored weights) per layer
from quantize.trained import KIND_DEFAULTS
from spintwin.experiments import jsonable as _jsonable

__all__ = ["run", "SWEEPS"]

#: (kind, parameter, values); every other field is the QuantConfig default of the kind.
SWEEPS = [
    ("twin-if", "levels", [2, 4, 8, 16, 64, 256]),
    ("twin-if", "membrane_bits", [8, 10, 12, 16]),
    ("twin-if", "steps", [25, 50, 100, 200]),
    ("cmos-if", "weight_bits", [2, 3, 4, 6, 8]),
    ("twin-stochastic", "levels", [2, 4, 16, 256]),
    ("twin-stochastic", "lut_bits", [2, 4, 8]),
    ("twin-stochastic", "lut_addr_bits", [2, 4, 6, 8]),
]

#: Defaults per kind (quantize.trained.KIND_DEFAULTS): the twin mirrors run_dw (half-rate input,
#: max normalisation), network 2 runs 50 steps as the seed.
BASE = KIND_DEFAULTS


def _config(kind: str, param: str, value):
    from quantize.snn import QuantConfig

    kw = {"kind": kind, **BASE[kind], param: value}
    if param == "membrane_bits":
        kw["membrane_frac"] = max(0, value - 4)  # 3 integer bits of headroom: +-8 thresholds
    return QuantConfig(**kw)


def _key(cfg, images: int, weights: str) -> str:
    blob = json.dumps({"cfg": asdict(cfg), "images": images, "weights": weights}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _points(cache: Path, cfg, weights, tag, x, y, ats=None) -> list[dict]:
    """Accuracy of one quantised config at each step count in ``ats`` (default: its steps)
    from one run (the LFSR draws of a shorter run are a prefix of a longer one's, so a
    checkpoint is the shorter run). Each result is cached as cache/<key>-<steps>.json
    (written atomically); a run happens only when one is missing."""
    from quantize.snn import build_network, run
    from spinbase.fileio import atomic_write_json

    ats = list(ats or [cfg.steps])
    paths = [cache / f"{_key(cfg, len(x), tag)}-{a}.json" for a in ats]
    if all(p.is_file() for p in paths):
        return [json.loads(p.read_text()) for p in paths]
    t0 = time.perf_counter()
    res = run(build_network(weights, cfg), x, checkpoints=ats)
    seconds = time.perf_counter() - t0
    out = []
    for a, path in zip(ats, paths):
        acc = float(np.mean(res["pred_at"][a] == y))
        item = {"config": {**asdict(cfg), "steps": a}, "images": len(x), "accuracy": acc,
                "accuracy_se": math.sqrt(acc * (1 - acc) / len(x)), "seconds": seconds,
                "spikes_per_image": {k: v / len(x) for k, v in res["spikes"].items()}}
        atomic_write_json(path, item)
        out.append(item)
    return out


def _events(golden_res: dict, network: str, timesteps: int):
    """NetworkEvents from a golden.snn run's measured per-image counts (run to ``timesteps``)."""
    from golden import energy

    layers = []
    for name, (inputs, neurons, fan_in, weights) in SHAPES[network].items():
        ev = golden_res["events"][name]
        layers.append(energy.LayerEvents(name=name, inputs=inputs, neurons=neurons, fan_in=fan_in, weights=weights,
                                         input_spikes=ev["input_spikes"], synaptic_events=ev["synaptic_events"],
                                         neuron_updates=ev["neuron_updates"], output_spikes=ev["output_spikes"]))
    return energy.NetworkEvents(layers, timesteps, network)


def run(images: int = 1000, out: Path | str = "bench/results", golden_images: int | None = None) -> dict:
    from golden import cnn, energy
    from quantize.trained import kind_weights
    from spinbase.data import load_mnist
    from spintwin import experiments as ex

    out = Path(out)
    cache = out / "networks-points"
    cache.mkdir(parents=True, exist_ok=True)
    data = load_mnist()
    _, (xs, ys) = data
    x, y = xs[:images], ys[:images]
    gi = golden_images or images
    t0 = time.perf_counter()
    res = {"benchmark": "networks", "images": images}
    g1 = _cached(cache, "golden-if", gi, lambda: ex.run_if(gi, steps=200, checkpoints=(25, 50, 100), data=data))
    g1dw = _cached(cache, "golden-dw", gi, lambda: ex.run_dw(gi, steps=200, checkpoints=(25, 50, 100), data=data))
    g2 = _cached(cache, "golden-stochastic", gi,
                 lambda: ex.run_stochastic(gi, steps=50, checkpoints=(10, 20, 30, 40), data=data))
    res["golden"] = {"cnn-if": _strip(g1), "cnn-dw": _strip(g1dw), "cnn-stochastic": _strip(g2)}
    res["golden_seconds"] = time.perf_counter() - t0

    # Point cache tags (unchanged from earlier runs): the CNN's config hash, "-max" for the twin.
    relu_hash, sig_hash = cnn.config_hash(cnn.RELU_CONFIG), cnn.config_hash(cnn.SIGMOID_CONFIG)
    tags = {"twin-stochastic": sig_hash, "cmos-if": relu_hash, "twin-if": relu_hash + "-max"}
    sweeps = []
    for kind, param, values in SWEEPS:
        w, tag = kind_weights(kind, data=data), tags[kind]
        if param == "steps":  # one run to the longest, read at every checkpoint
            pts = _points(cache, _config(kind, param, max(values)), w, tag, x, y, ats=values)
        else:
            pts = [_points(cache, _config(kind, param, v), w, tag, x, y)[0] for v in values]
        sweeps.append({"kind": kind, "param": param, "values": values,
                       "accuracy": [p["accuracy"] for p in pts], "accuracy_se": [p["accuracy_se"] for p in pts]})
    res["sweeps"] = sweeps

    # "cnn-dw" labels the DW-neuron golden run (run_dw) in the results; its network is "cnn-if"
    e1 = energy.compare(_events(g1dw, "cnn-if", g1dw["steps"]), energy.dw_spin_config())
    e2 = energy.compare(_events(g2, "cnn-stochastic", 50), energy.mtj_spin_config())
    res["energy"] = {"cnn-dw": e1.as_dict(), "cnn-stochastic": e2.as_dict()}
    res["seed_report"] = _jsonable(energy.seed_figures_report())
    res["stdp"] = [_stdp_point(cache, n, v, data) for n, v in STDP_RUNS]
    return res


#: Network 3 runs (neurons, variant): one epoch of 60,000 training images, all test images.
STDP_RUNS = [(225, "binary"), (400, "binary"), (225, "dw"), (225, "ltst")]


def _stdp_point(cache: Path, neurons: int, variant: str, data) -> dict:
    """golden.stdp_network.run_experiment, cached by (neurons, variant) and the module's config."""
    from golden import stdp_network
    from spinbase.fileio import atomic_write_json

    cfg = asdict(stdp_network.config_for(variant, neurons))
    key = hashlib.sha256(json.dumps({"stdp": cfg, "v": variant}, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = cache / f"stdp-{key}.json"
    if path.is_file():
        return json.loads(path.read_text())
    (xt, yt), (xs, ys) = data
    r = stdp_network.run_experiment(neurons, variant, 60000, 10000, 0, label_images=10000,
                                    checkpoints=[10000, 20000, 40000, 60000], data=(xt, yt, xs, ys))
    out = {k: r[k] for k in ("variant", "neurons", "train_images", "test_images", "accuracy", "accuracy_se",
                             "train_seconds", "switching_events", "energy_J", "curve") if k in r}
    atomic_write_json(path, out)
    return out


def _cached(cache: Path, name: str, images: int, fn) -> dict:
    """A golden run's JSON-ready figures, cached as cache/<name>-<images>-<code hash>.json."""
    from golden import cnn, snn
    from spinbase.fileio import atomic_write_json
    from spintwin import experiments

    code = hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in (snn, cnn, experiments))).hexdigest()[:12]
    path = cache / f"{name}-{images}-{code}.json"
    if path.is_file():
        return json.loads(path.read_text())
    out = _jsonable(fn())
    atomic_write_json(path, out)
    return out


def _strip(r: dict) -> dict:
    return {k: v for k, v in r.items() if k not in ("crossbar",)}


def plot(res: dict, path: Path) -> None:
    """Accuracy against each swept parameter, one panel per sweep, golden references dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweeps = res["sweeps"]
    fig, axes = plt.subplots(2, math.ceil(len(sweeps) / 2), figsize=(4 * math.ceil(len(sweeps) / 2), 6.5))
    for ax, s in zip(axes.flat, sweeps):
        acc = np.array(s["accuracy"]) * 100
        se = np.array(s["accuracy_se"]) * 100
        ax.errorbar(s["values"], acc, yerr=se, marker="o", capsize=3)
        ref = res["golden"]["cnn-stochastic" if s["kind"] == "twin-stochastic" else "cnn-dw"]
        ax.axhline(ref["ann_accuracy"] * 100, ls="--", c="gray", lw=1, label="ANN")
        if s["param"] == "levels":
            ax.set_xscale("log", base=2)
        ax.set_xlabel(s["param"])
        ax.set_ylabel("accuracy (%)")
        ax.set_title(s["kind"], fontsize=10)
        ax.set_ylim(max(0, acc.min() - 5), 100)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(sweeps):]:
        ax.axis("off")
    fig.suptitle(f"Bit-accurate networks on {res['images']} MNIST test images (quantize.snn)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.networks", description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--out", default="bench/results")
    a = ap.parse_args(argv)
    res = run(a.images, a.out)
    print(json.dumps(res, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
