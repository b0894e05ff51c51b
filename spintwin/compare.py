"""Twin against baseline: network 1 on the spintronic twin and on the CMOS baseline core.

Both cores run the same trained ReLU CNN (the shipped ``golden.cnn.RELU_CONFIG`` weights)
through their bit-accurate models (``quantize.snn``, what the RTL cores compute spike for
spike): the twin ("twin-if": 16-level DW crossbars, gamma-compensated, DW IF neurons, half-rate
input, max normalisation as ``golden.snn.run_dw``) and the CMOS baseline ("cmos-if": 8-bit SRAM
weights, adder + comparator IF neurons, 99.9th-percentile normalisation as ``golden.snn.run_if``).
Each is normalised the way its golden network is; the trained weights are the same.

Per image the table gives accuracy (with its binomial standard error), the agreement of the
two cores' classes, spikes per layer, cycles per image (``quantize.core`` when the core's
cycle model is present) and energy per inference from the measured event counts:
``golden.energy.spin_energy`` of the twin's events (``dw_spin_config``) and
``golden.energy.cmos_energy`` of the baseline's own events (``CmosConfig``: SRAM weights).
Event counts come from the integer runs: a layer's input spikes are the previous layer's output
spikes, its synaptic events are input spikes times the layer's mean fan-out
(``NETWORK_SHAPES``; border positions of a convolution drive fewer synapses, which this
mean ignores: an over-estimate of a few per cent for the conv layers, the same for both cores).
"""

from __future__ import annotations

import math
import time

import numpy as np

__all__ = ["twin_vs_cmos", "events_from_run"]

_IF_LAYERS = ("conv1", "pool1", "conv2", "pool2", "fc")


def events_from_run(res: dict, images: int, steps: int, network: str = "cnn-if"):
    """``golden.energy.NetworkEvents`` per image from a ``quantize.snn.run`` result.

    res : the run's dict (``spikes``: total output spikes per layer over the images, and
    ``"input"``); images : how many images it ran; steps : time steps per image; network : a
    built-in network's name (``golden.energy.NETWORK_SHAPES``).
    """
    from golden.energy import NETWORK_SHAPES, LayerEvents, NetworkEvents

    if images < 1:
        raise ValueError(f"images must be >= 1, not {images}")
    layers, prev = [], "input"
    for name, (inputs, neurons, fan_in, weights) in NETWORK_SHAPES[network].items():
        spikes_in = res["spikes"][prev] / images
        layers.append(LayerEvents(name=name, inputs=inputs, neurons=neurons, fan_in=fan_in, weights=weights,
                                  input_spikes=spikes_in, synaptic_events=spikes_in * neurons * fan_in / inputs,
                                  neuron_updates=float(neurons * steps), output_spikes=res["spikes"][name] / images))
        prev = name
    return NetworkEvents(layers, steps, network)


def _cycles(net, res: dict, images: int):
    """Cycles per image from the core's analytical model, or None if it is not available."""
    try:
        from quantize.core import cycles_per_image
    except ImportError:
        return None
    try:
        return float(cycles_per_image(net, {k: v / images for k, v in res["spikes"].items()}))
    except (TypeError, ValueError, KeyError):
        return None


def twin_vs_cmos(images: int = 200, *, steps: int = 100, data=None, echo=None) -> dict:
    """Run the twin and the CMOS baseline on the first ``images`` MNIST test images.

    Returns a JSON-ready dict: per core (``twin``, ``cmos``) accuracy, accuracy_se, spikes per
    image per layer, cycles_per_image (or None), energy_J (per inference) and its breakdown, and
    ``agreement`` (fraction of images both classify alike), ``energy_ratio`` (CMOS / twin).
    """
    from golden import cnn, energy
    from golden.network import NETWORK_OF_KIND
    from quantize import snn as q
    from quantize.trained import PERCENTILE, kind_weights
    from spinbase.data import load_mnist

    if images < 1:
        raise ValueError(f"images must be >= 1, not {images}")
    _, (xs, ys) = data or load_mnist()
    x, y = xs[:images], ys[:images]
    cores = {
        "twin": (q.QuantConfig(kind="twin-if", input_rate=0.5, steps=steps),
                 lambda ev: energy.spin_energy(ev, energy.dw_spin_config())),
        "cmos": (q.QuantConfig(kind="cmos-if", steps=steps),
                 lambda ev: energy.cmos_energy(ev, energy.CmosConfig())),
    }
    out = {"images": images, "steps": steps, "weights": cnn.config_hash(cnn.RELU_CONFIG)}
    preds = {}
    for name, (cfg, price) in cores.items():
        t0 = time.perf_counter()
        percentile = PERCENTILE[cfg.kind]
        net = q.build_network(kind_weights(cfg.kind, data=data), cfg)   # trained, then normalised at the kind's percentile
        res = q.run(net, x)
        acc = float(np.mean(res["pred"] == y))
        ev = events_from_run(res, images, steps, NETWORK_OF_KIND[cfg.kind])
        bd = price(ev)
        preds[name] = res["pred"]
        out[name] = {
            "kind": cfg.kind, "normalisation_percentile": percentile, "accuracy": acc,
            "accuracy_se": math.sqrt(acc * (1 - acc) / images),
            "spikes_per_image": {k: res["spikes"][k] / images for k in ("input",) + _IF_LAYERS},
            "scatter_words_per_image": {k.split(".", 1)[1]: v / images for k, v in res["spikes"].items()
                                        if k.startswith("words.")},
            "cycles_per_image": _cycles(net, res, images),
            "energy_J": bd.total, "energy_breakdown_J": {k: float(v) for k, v in bd.components.items()},
            "latency_s": float(bd.latency),
            "seconds": time.perf_counter() - t0,
        }
        if echo:
            echo(f"      {name}: accuracy {acc:.3f} on {images} images, {bd.total * 1e9:.2f} nJ per inference")
    out["agreement"] = float(np.mean(preds["twin"] == preds["cmos"]))
    out["energy_ratio"] = out["cmos"]["energy_J"] / out["twin"]["energy_J"]
    return out


def markdown_table(res: dict) -> str:
    """The twin-against-baseline table (Markdown) of a :func:`twin_vs_cmos` result."""
    rows = ["| core | accuracy | cycles / image | energy / inference | spikes / image (all layers) |",
            "|---|---|---|---|---|"]
    for name, label in (("twin", "spintronic twin (DW crossbars)"), ("cmos", "CMOS baseline (8-bit SRAM)")):
        r = res[name]
        cyc = f"{r['cycles_per_image']:,.0f}" if r.get("cycles_per_image") else "n/a"
        spikes = sum(r["spikes_per_image"][k] for k in _IF_LAYERS)
        rows.append(f"| {label} | {r['accuracy']:.3f} +- {r['accuracy_se']:.3f} | {cyc} | "
                    f"{r['energy_J'] * 1e9:.3g} nJ | {spikes:,.0f} |")
    rows.append("")
    rows.append(f"{res['images']} MNIST test images, {res['steps']} time steps; the cores agree on "
                f"{res['agreement'] * 100:.1f} % of the images; CMOS / twin energy = {res['energy_ratio']:.0f}x.")
    return "\n".join(rows)
