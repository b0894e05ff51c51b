"""One design point of ``spintwin explore``: accuracy, energy, cycles, resources, device fidelity.

A point is a plain dict (see :mod:`spintwin.explore`): ``type`` ``"network"`` (a bit-accurate
network of :mod:`quantize.snn`) or ``"macrospin"`` (the hardware macrospin integrator of
:mod:`quantize.macrospin`). :func:`evaluate_point` returns its metrics as JSON-ready numbers.

Network points
    accuracy on the first ``images`` test samples of the point's data set (MNIST unless the
    point names one; :func:`dataset_split`) through ``quantize.snn.run`` (the
    integer model the RTL core matches bit for bit), with its binomial standard error;
    per-image event counts from the run's spike totals, priced by ``golden.energy.compare``
    (the twin's spintronic technology against the 45 nm CMOS baseline; seed section V.1,
    REFERENCES.md 5 and 6); the numerical profile (:mod:`spintwin.explore_profile`);
    with ``synth`` the resources of :func:`point_resources` and the throughput at its fmax
    from the cycles per image (:func:`cycles_per_image` for the representative blocks,
    ``quantize.core.cycles_per_image`` for the full core).
Macrospin points
    device fidelity: the quantised switching curve of the MTJ neuron (seed eq. 8-9, the
    stochastic LLG switching of section IV) against the golden one on the same currents, as in
    tests/test_macrospin_model.py: the largest |P_q - P_g|, that deviation in combined
    standard errors, and whether every current is within 0.03 + 3 standard errors; with
    ``synth`` the resources of the integrator and its magnet-steps per second.

Weights of the built-in networks come from ``quantize.trained`` (as the network benchmark's):
the twin IF network uses the ReLU CNN normalised at the maximum activation, the CMOS baseline at
the 99.9th percentile, network 2 the sigmoid CNN. A point with a ``network`` file (a user's
``.npz`` / ``.nir``) is built as the SNN core builds it (``spintwin.block_core.core_network``).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import fields

import numpy as np

from .explore_profile import layer_y_bits  # re-exported: explore_profile is the lower module

__all__ = ["QUANT_FIELDS", "quant_config", "weights_tag", "network_for", "dataset_split", "network_blocks", "layer_y_bits", "network_events", "cycles_per_image",
           "point_resources", "evaluate_point", "golden_switching_curve"]

#: The QuantConfig fields a network point may set.
QUANT_FIELDS = ("kind", "levels", "weight_bits", "scale_bits", "membrane_bits", "membrane_frac", "input_bits",
                "input_rate", "steps", "encoding", "tile", "reset_position", "lut_addr_bits", "lut_bits",
                "lut_range", "seed", "parallelism")

def quant_config(point: dict):
    """The ``quantize.snn.QuantConfig`` of a network point (ValueError names a bad field)."""
    from quantize.snn import QuantConfig

    known = {f.name for f in fields(QuantConfig)}
    return QuantConfig(**{k: v for k, v in point.items() if k in known})


def _weights(kind: str):
    """Weights of a network kind (:func:`weights_tag` names them; ``quantize.trained``, which
    normalises once per process)."""
    from quantize.trained import kind_weights

    return kind_weights(kind)


def weights_tag(kind: str) -> str:
    """Names the trained weights and normalisation of ``kind`` (part of a point's cache key)."""
    from quantize.trained import weights_tag as tag

    return tag(kind)


def network_for(point: dict):
    """``quantize.snn.QuantNetwork`` of a network point: the built-in network of its kind, or
    its ``network`` file built as the core builds it (``spintwin.block_core.core_network``)."""
    cfg = quant_config(point)
    if point.get("network") is not None:
        from .block_core import CoreDesign, core_network

        return core_network(CoreDesign(point["network"], cfg, None, point.get("dataset", "mnist")))
    from quantize.snn import build_network

    return build_network(_weights(cfg.kind), cfg)


def dataset_split(point: dict):
    """``(x_test, y_test)`` of a network point's data set (``dataset``, default MNIST;
    ``spinbase.data.load_dataset``: the split and scaling the core's verification uses)."""
    from spinbase.data import load_dataset

    return load_dataset(point.get("dataset", "mnist"))[1]


# Events and energy ---------------------------------------------------------------------------------
def network_events(net, spikes: dict, images: int):
    """``golden.energy.NetworkEvents`` per image from ``quantize.snn.run``'s spike totals.

    Layer shapes come from the network's description (``golden.energy.network_shapes``); a
    layer's input spikes are the previous layer's output spikes (the encoder's for the first
    layer). Synaptic events use the layer's mean
    fan-out (synapses / inputs); the golden simulators count each input position's own
    fan-out, which differs only at the image borders of the convolutions.
    """
    from golden import energy

    shapes = energy.network_shapes(net.network)
    steps = spikes.get("steps.run", net.cfg.steps * images) / images     # early decision: the mean steps run
    layers, prev = [], "input"
    for layer in net.layers:
        inputs, neurons, fan_in, weights = shapes[layer.name]
        s_in = spikes[prev] / images
        if getattr(layer, "recurrent", False):
            # a recurrent dense layer's rows also take its own spikes fed back (every spike
            # counted: the last step's, which the core does not feed back, overcount by at most
            # ``neurons`` per image)
            s_in += spikes[layer.name] / images
        layers.append(energy.LayerEvents(
            name=layer.name, inputs=inputs, neurons=neurons, fan_in=fan_in, weights=weights, input_spikes=s_in,
            synaptic_events=s_in * neurons * fan_in / inputs, neuron_updates=float(neurons * steps),
            output_spikes=spikes[layer.name] / images))
        prev = layer.name
    # the latency and leakage count whole steps: early decision's mean steps rounded
    return energy.NetworkEvents(layers, max(1, round(steps)), net.cfg.kind)


def energy_per_inference(net, events) -> dict:
    """Energy per inference, J: the point's own technology (``energy_J``), and both sides."""
    from golden import energy

    cfg = net.cfg
    spin = energy.mtj_spin_config() if cfg.kind == "twin-stochastic" else energy.dw_spin_config()
    wb = cfg.weight_bits if cfg.kind == "cmos-if" else energy.CmosConfig().weight_bits
    cmp = energy.compare(events, spin, energy.CmosConfig(weight_bits=wb, state_bits=cfg.membrane_bits))
    own = cmp.cmos.total if cfg.kind == "cmos-if" else cmp.spin.total
    return {"energy_J": own, "spin_J": cmp.spin.total, "cmos_J": cmp.cmos.total, "energy_ratio": cmp.energy_ratio,
            "spin_latency_s": cmp.spin.latency, "cmos_latency_s": cmp.cmos.latency}


def cycles_per_image(net, events) -> float:
    """Clock cycles per image of the representative engine (:func:`point_resources`).

    One crossbar tile, time-multiplexed over every layer, row tile and output position, feeds
    one neuron bank (pipelined, so the bank adds no cycles). For each layer with ``cols``
    output channels, ``m`` fan-in rows, ``R = ceil(m / tile)`` row tiles and
    ``W = neurons / cols`` windows per step, a step costs one event cycle per input spike and
    window it falls in (synaptic events / cols) plus, per window and row tile, one ``last``
    cycle and ``cols`` output cycles (``hdl.crossbar.CrossbarTile``'s timing)::

        cycles = sum_l  syn_l / cols_l + steps W_l R_l (1 + cols_l)

    A full SNN core (hdl/core.py) would replace this with its own analytical count.
    """
    total = 0.0
    for layer, ev in zip(net.layers, events.layers):
        cols = layer.k.shape[1]
        windows = ev.neurons / cols
        total += ev.synaptic_events / cols + net.cfg.steps * windows * layer.row_tiles * (1 + cols)
    return float(total)


# Resources -----------------------------------------------------------------------------------------
def network_blocks(net) -> dict:
    """The representative RTL of a network point: {name: Amaranth component}.

    Until the full SNN core exists, a point is costed as one crossbar tile of the widest layer
    (most output channels; its first row tile, ``hdl.crossbar.CrossbarTile`` at the point's
    codes and scale) plus the neurons of the largest layer: ``hdl.neurons.IfNeuronBank`` of
    ``neurons`` membranes of ``membrane_bits`` (IF kinds) or a ``hdl.neurons.PbitLayer`` of the
    widest layer's channels (network 2) behind the column registers that collect the tile's
    outputs (the tile emits one column per cycle, the p-bits take every channel at once; as a
    side effect the block's input port stays narrow enough for the FPGA's pins).
    """
    from hdl.crossbar import CrossbarTile
    from hdl.neurons import IfNeuronBank, PbitLayer

    wide = max(net.layers, key=lambda layer: layer.k.shape[1])
    t = wide.tile
    y_bits = max(layer_y_bits(layer) for layer in net.layers)
    count_bits = 3 if wide.pool_input else 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        blocks = {"crossbar": CrossbarTile(wide.k[:t], wide.c[0], wide.shift, count_bits)}
        if net.lut is not None:
            blocks["neurons"] = _pbit_columns(PbitLayer(wide.k.shape[1], y_bits, net.lut, net.lut_shift,
                                                        net.cfg.lut_bits, net.cfg.seed))
        else:
            neurons = max(int(np.prod(layer.out_shape)) for layer in net.layers)
            reset = "subtract" if net.cfg.kind == "cmos-if" else "zero"
            blocks["neurons"] = IfNeuronBank(neurons, net.cfg.membrane_bits, y_bits, net.threshold, net.floor, reset)
    return blocks


def _pbit_columns(pbit):
    """``pbit`` (hdl.neurons.PbitLayer) fed by ``channels`` registers of ``z_bits``, loaded one
    column per beat from the crossbar tile's output stream ({col, z, last}); ``last`` hands
    the collected vector to the p-bits."""
    from amaranth.hdl import Module, Signal, signed, unsigned
    from amaranth.lib import data, stream, wiring
    from amaranth.lib.wiring import In, Out

    class PbitColumns(wiring.Component):
        def __init__(self):
            self.pbit = pbit
            cb = unsigned(max(1, (pbit.channels - 1).bit_length()))
            super().__init__({
                "i_col": In(stream.Signature(data.StructLayout({"col": cb, "z": signed(pbit.z_bits), "last": 1}))),
                "o_spikes": Out(stream.Signature(unsigned(pbit.channels))),
                "reseed": In(1),
            })

        def elaborate(self, platform):
            m = Module()
            m.submodules.pbit = p = self.pbit
            regs = [Signal(signed(p.z_bits), name=f"z{c}") for c in range(p.channels)]
            full = Signal()
            with m.If(self.i_col.valid & self.i_col.ready):
                with m.Switch(self.i_col.payload.col):
                    for c in range(p.channels):
                        with m.Case(c):
                            m.d.sync += regs[c].eq(self.i_col.payload.z)
                m.d.sync += full.eq(self.i_col.payload.last)
            with m.If(full & p.i_z.ready):
                m.d.sync += full.eq(0)
            m.d.comb += [self.i_col.ready.eq(~full), p.i_z.valid.eq(full), p.reseed.eq(self.reseed),
                         self.o_spikes.valid.eq(p.o_spikes.valid), self.o_spikes.payload.eq(p.o_spikes.payload),
                         p.o_spikes.ready.eq(self.o_spikes.ready)]
            m.d.comb += [p.i_z.payload[c].eq(regs[c]) for c in range(p.channels)]
            return m

    return PbitColumns()


def macrospin_model(point: dict, design: dict):
    """(MacrospinModel, NoiseConfig, params) of a macrospin point over the design config."""
    import copy

    from spintwin.twin import macrospin_from_config

    cfg = copy.deepcopy(design)
    for k, v in point.items():
        if k in cfg["twin"]["macrospin"]:
            cfg["twin"]["macrospin"][k] = v
    return macrospin_from_config(cfg)


def point_resources(point: dict, *, design: dict | None = None, net=None, synthesize=None) -> dict:
    """LUT/FF/DSP/BRAM/fmax of the RTL a point configures, via ``boards.synth.synthesize``.

    Network points with ``rtl = "blocks"`` synthesise the representative blocks of
    :func:`network_blocks` separately and add their counts (fmax: the slowest block); with
    ``rtl = "core"`` the full inference core ``hdl.core.SnnCore`` of the point's network.
    Macrospin points synthesise ``hdl.macrospin.MacrospinIntegrator``.

    Parameters
    ----------
    point : dict
        A point of :func:`spintwin.explore.expand_space` (``target`` names the FPGA).
    design : dict, optional
        Design config (``spintwin.config.load_config``) for macrospin points.
    net : QuantNetwork, optional
        The point's network if already built.
    synthesize : callable, optional
        Replaces ``boards.synth.synthesize`` (tests).

    Returns
    -------
    dict with ``lut, ff, dsp, bram`` (int), ``fmax_mhz`` (float or None), ``fits`` (bool),
    ``blocks`` {name: the same counts}.
    """
    if synthesize is None:
        from boards.synth import synthesize
    target = point.get("target", "ecp5-85f")
    if point["type"] == "macrospin":
        from hdl.macrospin import MacrospinIntegrator

        from spintwin.config import load_config

        model, noise, _ = macrospin_model(point, design or load_config())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            blocks = {"macrospin": MacrospinIntegrator(model, noise)}
    elif point.get("rtl", "blocks") == "core":
        from hdl.core import SnnCore

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            blocks = {"snn_core": SnnCore(net if net is not None else network_for(point))}
    else:
        blocks = network_blocks(net if net is not None else network_for(point))
    per = {}
    for name, comp in blocks.items():
        r = synthesize(comp, name, target=target)
        per[name] = {k: r.get(k) for k in ("lut", "ff", "dsp", "bram", "fmax_mhz", "fits", "fits_reason")}
    fm = [b["fmax_mhz"] for b in per.values()]
    out = {k: int(sum(b[k] or 0 for b in per.values())) for k in ("lut", "ff", "dsp", "bram")}
    out["fmax_mhz"] = None if any(f is None for f in fm) else float(min(fm))
    out["fits"] = all(b["fits"] is not False for b in per.values())
    out["blocks"] = per
    return out


# Device fidelity -----------------------------------------------------------------------------------
def golden_switching_curve(currents_uA, trials: int, seed: int) -> dict:
    """The golden MTJ neuron's switching probabilities (golden.llg.switching_probability)
    at ``currents_uA`` for its write pulse; settle 2, relax 4 relaxation times (as the
    fidelity test). Returns {"p": [...], "se": [...]}."""
    from golden.devices import mtj_neuron
    from golden.llg import relaxation_time, switching_probability

    n = mtj_neuron()
    tr = relaxation_time(n.magnet)
    cur = np.asarray(currents_uA, dtype=float) * 1e-6
    p, se = switching_probability(n.magnet, cur, n.write_duration, trials=trials, dt=n.dt, rng=seed,
                                  settle=2 * tr, relax=4 * tr)
    return {"p": [float(v) for v in p], "se": [float(v) for v in se]}


def _fidelity(point: dict, model, noise, golden: dict) -> dict:
    from golden.devices import mtj_neuron
    from golden.llg import relaxation_time
    from quantize.macrospin import switching_probability_quantised

    if point.get("device", "mtj_neuron") != "mtj_neuron":
        return {"fidelity_max_dev": None, "fidelity_note": "switching curve defined for the mtj_neuron device only"}
    n = mtj_neuron()
    tr = relaxation_time(n.magnet)
    cur = np.asarray(point["currents_uA"], dtype=float) * 1e-6
    pq, seq, sat = switching_probability_quantised(
        model, n.magnet, cur, n.write_duration, trials=point["trials"], seed=point["fidelity_seed"] + 1,
        settle=2 * tr, relax=4 * tr, k=noise.n_uniforms, bits=noise.uniform_bits)
    pg, seg = np.asarray(golden["p"]), np.asarray(golden["se"])
    dev = np.abs(pq - pg)
    se = np.sqrt(seg ** 2 + seq ** 2)
    # a zero combined error (both 0 or both 1) with equal p is no deviation at all
    z = np.where(se > 0, dev / np.where(se > 0, se, 1.0), np.where(dev > 0, np.inf, 0.0))
    return {"fidelity_max_dev": float(dev.max()), "fidelity_max_z": float(z.max()),
            "fidelity_pass": bool(np.all(dev < 0.03 + 3 * se)), "saturations": int(sat),
            "p_quantised": [float(v) for v in pq], "p_golden": [float(v) for v in pg]}


# One point -----------------------------------------------------------------------------------------
def evaluate_point(point: dict, *, design: dict | None = None, golden: dict | None = None,
                   synthesize=None) -> dict:
    """Every metric of one point (JSON-ready); exceptions propagate to the sweep, which records them.

    Parameters
    ----------
    point : dict
        A canonical point (``spintwin.explore.expand_space``).
    design : dict, optional
        Design config for macrospin points (default: the embedded one).
    golden : dict, optional
        :func:`golden_switching_curve` of the point's currents (computed here if missing).
    synthesize : callable, optional
        Replaces ``boards.synth.synthesize``.
    """
    t0 = time.perf_counter()
    if point["type"] == "macrospin":
        from spintwin.config import load_config

        design = design or load_config()
        model, noise, _ = macrospin_model(point, design)
        golden = golden or golden_switching_curve(point["currents_uA"], point["trials"], point["fidelity_seed"])
        out = _fidelity(point, model, noise, golden)
        if point.get("synth"):
            res = point_resources(point, design=design, synthesize=synthesize)
            out.update(res)
            if res["fmax_mhz"]:
                out["throughput_magnet_steps_per_s"] = model.cfg.lanes * res["fmax_mhz"] * 1e6
        out["seconds"] = time.perf_counter() - t0
        return out

    from quantize.snn import run
    from spintwin.explore_profile import profile_network

    net = network_for(point)
    xs, ys = dataset_split(point)
    n = point["images"]
    if n > len(xs):
        raise ValueError(f"images must be <= {len(xs)}, not {n}")
    res = run(net, xs[:n])
    acc = float(np.mean(res["pred"] == ys[:n]))
    events = network_events(net, res["spikes"], n)
    out = {"accuracy": acc, "accuracy_se": math.sqrt(acc * (1 - acc) / n),
           "spikes_per_image": {k: v / n for k, v in res["spikes"].items()}}
    out.update(energy_per_inference(net, events))
    if point.get("rtl", "blocks") == "core":
        from quantize.core import cycles_per_image as core_cycles

        out["cycles_per_image"] = float(core_cycles(net, {k: v / n for k, v in res["spikes"].items()}))
    else:
        out["cycles_per_image"] = cycles_per_image(net, events)
    if point.get("profile_images", 0) > 0:
        out["profile"] = profile_network(net, xs[:point["profile_images"]])["table"]
    if point.get("synth"):
        res_hw = point_resources(point, net=net, synthesize=synthesize)
        out.update(res_hw)
        if res_hw["fmax_mhz"]:
            out["throughput_ips"] = res_hw["fmax_mhz"] * 1e6 / out["cycles_per_image"]
    out["seconds"] = time.perf_counter() - t0
    return out
