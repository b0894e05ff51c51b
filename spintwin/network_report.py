"""A design's network on the twin, in one report: float against bit-accurate twin against the
CMOS baseline (``spintwin demo --config design.toml`` for any ``[core]`` network, issue 16).

For the design's network (a built-in name or a ``.npz`` / ``.nir`` file) and data set
(``[core] dataset``; :func:`spinbase.data.load_dataset`, its own train/test split), on the first
``N`` inputs of the test split:

* accuracy of the float network (:func:`golden.snn.simulate`: the description with its own
  neuron models, Poisson input at the design's input rate and steps), of the twin (the
  integer model :func:`quantize.snn.run` of the design's kind; a design of kind ``cmos-if`` is
  run on the twin as ``twin-if``) and of the CMOS baseline (kind ``cmos-if`` on the same
  description; for the built-in CNNs the baseline is the built-in ``cmos-if`` network, the
  ReLU CNN at its own 99.9th-percentile normalisation, as ``spintwin.compare``; a p-bit
  network has none), each with its binomial standard error ``sqrt(a (1 - a) / N)``;
* spikes per layer, mean per input (float, twin, CMOS);
* cycles per image on the core (:func:`quantize.core.cycles_per_image` from the run's scatter
  words: the mean of :func:`quantize.core.cycles_exact` over the inputs);
* energy per inference from each model's own event counts
  (:func:`spintwin.explore_eval.network_events` -> :func:`golden.energy.spin_energy` with the
  DW or MTJ device figures, :func:`golden.energy.cmos_energy` for the baseline), as
  ``spintwin.compare`` prices the built-ins;
* optionally resources, fmax and images/s at fmax of the design's core (:func:`synthesise`,
  ``spintwin.flow.synth``, cached per Verilog);
* the network drawn as a layer diagram (:func:`draw_network`, a PNG).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from spinbase.errors import SpintwinError
from spinbase.fileio import atomic_savefig

__all__ = ["is_user_design", "core_design", "test_inputs", "measure", "synthesise", "core_rtl", "draw_network",
           "markdown", "neuron_label"]

#: The baseline of each built-in network (``spintwin.compare``): the twin and the CMOS network.
_BUILTIN_PAIR = {"cnn-if": ("cnn-if", "cmos-if"), "cmos-if": ("cnn-if", "cmos-if"),
                 "cnn-stochastic": ("cnn-stochastic", "cmos-if")}


def is_user_design(cfg: dict) -> bool:
    """A design whose ``[core]`` names a network file or a data set other than MNIST (what the
    demo reports with :func:`measure` instead of network 1 on MNIST)."""
    from .block_core import is_network_file

    core = cfg.get("core") or {}
    data = core.get("dataset")
    return is_network_file(core.get("network")) or (data is not None and str(data).lower() != "mnist")


def core_design(cfg: dict, cfg_path=None):
    """The design's ``spintwin.block_core.CoreDesign`` (network file resolved relative to the
    design file, data set checked against the network; one line when it does not hold)."""
    from .blocks import Request
    from .flow import design_of

    return design_of("core", cfg, Request(config_path=Path(cfg_path) if cfg_path is not None else None))[1]


def test_inputs(dataset: str, shape: tuple, images: int | None = None):
    """``(x, y, record)``: the first ``images`` inputs of ``dataset``'s test split (all when
    None), ``x`` shaped for the models: (N, H, W) for one channel, else (N, H, W, C)."""
    from .block_core import core_dataset

    _, (x, y), rec = core_dataset(dataset)
    n = len(x) if images is None else min(int(images), len(x))
    h, w, c = (int(v) for v in shape)
    x = np.asarray(x[:n], np.float32).reshape((n, h, w) if c == 1 else (n, h, w, c))
    return x, np.asarray(y[:n]), rec


def neuron_label(neuron) -> str:
    """``"IF, DW (reset to 0.5)"``, ``"LIF >>4, CMOS"``, ``"p-bit, MTJ"``; ``"linear"`` for None."""
    if neuron is None:
        return "linear"
    model = {"if": "IF", "lif": f"LIF >>{neuron.leak_shift}", "pbit": "p-bit"}[neuron.model]
    device = {"dw": "DW", "cmos": "CMOS", "mtj": "MTJ", "ideal": "ideal"}[neuron.device]
    reset = (f", reset to {neuron.reset_position:g}" if neuron.reset == "position" else "") if neuron.model != "pbit" else ""
    thr = f", thr {neuron.threshold:g}" if neuron.model != "pbit" and neuron.threshold != 1.0 else ""
    return f"{model}, {device}{reset}{thr}"


def _layer_text(layer) -> str:
    from golden import network as nw

    if isinstance(layer, nw.Conv2d):
        pad = f" pad {layer.padding}" if layer.padding else ""
        stride = f" stride {layer.stride}" if layer.stride != 1 else ""
        return f"conv {layer.out_channels}@{layer.kernel}x{layer.kernel}{pad}{stride}" + (" +b" if layer.bias is not None else "")
    if isinstance(layer, nw.Pool2d):
        return f"{layer.mode} pool {layer.size}x{layer.size}"
    if isinstance(layer, nw.Dense):
        return f"dense {layer.out_features}" + (" +b" if layer.bias is not None else "")
    return "flatten"


def _shape(s) -> str:
    return " x ".join(str(int(v)) for v in s)


def draw_network(network, path, plt=None, title: str | None = None) -> Path:
    """The network as a layer diagram (PNG, matplotlib Agg): one box per layer, left to right,
    with its operation, output shape and neurons; returns the path."""
    if plt is None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    boxes = [("input", "", _shape(network.input.shape), "encoder", "#e8eef7")]
    for layer, (_, out) in zip(network.layers, network.shapes):
        nrn = getattr(layer, "neuron", None)
        colour = "#f2f2f2" if nrn is None else {"dw": "#d9f0d3", "mtj": "#fde0c5", "cmos": "#dbe4f3"}.get(
            nrn.device, "#eeeeee")
        boxes.append((layer.name, _layer_text(layer), _shape(out),
                      "view" if _layer_text(layer) == "flatten" else
                      "linear, folds into the next" if nrn is None else neuron_label(nrn), colour))
    n = len(boxes)
    w, gap = 2.0, 0.6
    fig, ax = plt.subplots(figsize=(max(6.0, 0.95 * n * (w + gap)), 2.6))
    for i, (name, op, shape, nrn, colour) in enumerate(boxes):
        x0 = i * (w + gap)
        ax.add_patch(FancyBboxPatch((x0, 0), w, 2, boxstyle="round,pad=0.05", fc=colour, ec="#444444"))
        ax.text(x0 + w / 2, 1.65, name, ha="center", va="center", fontsize=9, weight="bold")
        ax.text(x0 + w / 2, 1.25, op, ha="center", va="center", fontsize=8)
        ax.text(x0 + w / 2, 0.85, shape, ha="center", va="center", fontsize=8, family="monospace")
        ax.text(x0 + w / 2, 0.4, nrn, ha="center", va="center", fontsize=7, style="italic")
        if i:
            ax.annotate("", xy=(x0 - 0.05, 1), xytext=(x0 - gap + 0.05, 1),
                        arrowprops={"arrowstyle": "->", "color": "#444444"})
    ax.set_xlim(-0.2, n * (w + gap) - gap + 0.2)
    ax.set_ylim(-0.2, 2.3)
    ax.axis("off")
    ax.set_title(title or f"network {network.name!r}", fontsize=10)
    fig.tight_layout()
    out = atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return out


def _models(d):
    """``(description, twin QuantNetwork, CMOS QuantNetwork or None, why none)`` of a design."""
    from quantize.core import network_from_config

    from .block_core import CoreDesign, core_description, core_network, core_quant_config

    desc = core_description(d.network)
    if desc is None:                                       # a built-in: the pair spintwin.compare runs
        twin_name, cmos_name = _BUILTIN_PAIR[d.network]
        twin_d = d if d.network == twin_name else CoreDesign(twin_name, core_quant_config(
            {}, network=twin_name, steps=d.cfg.steps, seed=d.cfg.seed)[1])
        cmos_d = d if d.network == cmos_name else CoreDesign(cmos_name, core_quant_config(
            {}, network=cmos_name, steps=d.cfg.steps, seed=d.cfg.seed)[1])
        twin = core_network(twin_d)
        return twin.network, twin, core_network(cmos_d), None
    twin_cfg = d.cfg if d.cfg.kind != "cmos-if" else replace(d.cfg, kind="twin-if")
    twin = core_network(d) if twin_cfg == d.cfg else _build(network_from_config, twin_cfg, desc, d)
    models = {layer.neuron.model for layer in desc.layers if layer.neuron is not None}
    if not models <= {"if", "lif"}:
        return desc, twin, None, "its p-bit neurons have no CMOS IF counterpart"
    cmos_cfg = replace(d.cfg, kind="cmos-if")
    cmos = core_network(d) if cmos_cfg == d.cfg else _build(network_from_config, cmos_cfg, desc, d)
    return desc, twin, cmos, None


def _build(fn, cfg, desc, d):
    try:
        return fn(cfg, network=desc)
    except ValueError as e:
        raise SpintwinError(f"network {d.network}: {' '.join(str(e).split())}") from None


def _run_model(net, x, y, price) -> dict:
    """One integer model on ``x``: accuracy, spikes and scatter words per input, cycles, energy."""
    from quantize.core import cycles_per_image
    from quantize.snn import run

    from .explore_eval import network_events

    t0 = time.perf_counter()
    res = run(net, x)
    n = len(x)
    acc = float(np.mean(res["pred"] == y))
    mean = {k: v / n for k, v in res["spikes"].items()}
    try:
        cycles = float(cycles_per_image(net, mean))
    except ValueError:                                    # beyond the core's limits: no cycle count
        cycles = None
    bd = price(network_events(net, res["spikes"], n))
    return {"kind": net.cfg.kind, "accuracy": acc, "accuracy_se": math.sqrt(acc * (1 - acc) / n),
            "pred": res["pred"],
            "spikes_per_input": {k: v for k, v in mean.items() if not k.startswith("words.")},
            "scatter_words_per_input": {k.split(".", 1)[1]: v for k, v in mean.items() if k.startswith("words.")},
            "cycles_per_image": cycles, "energy_J": float(bd.total),
            "energy_breakdown_J": {k: float(v) for k, v in bd.components.items()},
            "config": {"steps": net.cfg.steps, "input_rate": net.cfg.input_rate, "seed": net.cfg.seed,
                       "levels": net.cfg.levels, "weight_bits": net.cfg.weight_bits,
                       "membrane_bits": net.cfg.membrane_bits},
            "seconds": time.perf_counter() - t0}


def measure(cfg: dict, cfg_path=None, *, images: int | None = None, echo=None, diagram=None, plt=None) -> dict:
    """Float, twin and CMOS baseline of a design's network on the first ``images`` test inputs
    of its data set (all when None); JSON-ready (module docstring). Predictions are kept as
    lists (``pred``) so that callers can compare them. ``diagram``: a PNG path to draw the
    network at (:func:`draw_network`)."""
    from golden import energy
    from golden.snn import simulate
    from quantize.core import check_core_network

    d = core_design(cfg, cfg_path)
    desc, twin, cmos, no_cmos = _models(d)
    x, y, rec = test_inputs(d.dataset, desc.input.shape, images)
    if diagram is not None:
        draw_network(desc, diagram, plt)
    n = len(x)
    out = {"network": d.network, "network_name": desc.name, "design_kind": d.cfg.kind, "dataset": d.dataset,
           "dataset_record": rec, "images": n, "test_split": rec["test"],
           "layers": [{"name": L.name, "op": _layer_text(L), "out_shape": list(s[1]),
                       "neurons": None if getattr(L, "neuron", None) is None else neuron_label(L.neuron)}
                      for L, s in zip(desc.layers, desc.shapes)]}
    try:
        check_core_network(desc)
        out["core_limits"] = None
    except ValueError as e:
        out["core_limits"] = str(e)
    t0 = time.perf_counter()
    fl = simulate(desc, x, y, steps=twin.cfg.steps, encoding="poisson", input_rate=twin.cfg.input_rate,
                  rng=twin.cfg.seed)
    acc = fl["accuracy"][twin.cfg.steps]
    out["float"] = {"accuracy": acc, "accuracy_se": math.sqrt(acc * (1 - acc) / n),
                    "pred": fl["predictions"][twin.cfg.steps],
                    "spikes_per_input": {"input": fl["events"][next(iter(fl["events"]))]["input_spikes"],
                                         **{k: v["output_spikes"] for k, v in fl["events"].items() if k != "total"}},
                    "encoding": "poisson", "seconds": time.perf_counter() - t0}
    if echo:
        echo(f"      float: accuracy {acc:.3f} on {n} {rec['name']} test inputs")
    spin = energy.mtj_spin_config() if twin.cfg.kind == "twin-stochastic" else energy.dw_spin_config()
    out["twin"] = _run_model(twin, x, y, lambda ev: energy.spin_energy(ev, spin))
    if echo:
        echo(f"      twin ({twin.cfg.kind}): accuracy {out['twin']['accuracy']:.3f}, "
             f"{out['twin']['energy_J'] * 1e9:.3g} nJ per inference")
    if cmos is not None:
        cc = energy.CmosConfig(weight_bits=cmos.cfg.weight_bits, state_bits=cmos.cfg.membrane_bits)
        out["cmos"] = _run_model(cmos, x, y, lambda ev: energy.cmos_energy(ev, cc))
        out["cmos"]["network"] = "cmos-if" if cmos.network is not desc else d.network
        if echo:
            echo(f"      CMOS baseline: accuracy {out['cmos']['accuracy']:.3f}, "
                 f"{out['cmos']['energy_J'] * 1e9:.3g} nJ per inference")
        out["agreement_twin_cmos"] = float(np.mean(out["twin"]["pred"] == out["cmos"]["pred"]))
        out["energy_ratio"] = out["cmos"]["energy_J"] / out["twin"]["energy_J"] if out["twin"]["energy_J"] else None
    else:
        out["cmos"] = None
        out["no_cmos"] = no_cmos
    out["agreement_twin_float"] = float(np.mean(out["twin"]["pred"] == out["float"]["pred"]))
    for k in ("float", "twin", "cmos"):
        if out[k] is not None:
            out[k]["pred"] = np.asarray(out[k]["pred"]).tolist()
    return out


def synthesise(cfg: dict, cfg_path=None, *, target: str = "ecp5-85f", timeout_s: float = 3600.0) -> dict:
    """Resources, fmax and images/s at fmax of the design's core (``spintwin.flow.synth``,
    cached per Verilog under ``build/synth``); a failure or timeout comes back as
    ``{"error": line}``, never raised."""
    from .blocks import Request
    from .flow import synth

    try:
        r = synth("core", cfg, target=target, req=Request(config_path=Path(cfg_path) if cfg_path else None),
                  overrides={"timeout_s": timeout_s})
    except SpintwinError as e:
        return {"target": target, "error": str(e).splitlines()[0][:200]}
    return {k: r.get(k) for k in ("target", "device", "lut", "ff", "dsp", "bram", "fmax_mhz", "fits", "fits_reason",
                                  "cycles_per_image", "images_per_s_at_fmax", "cached")}


def core_rtl(cfg: dict, cfg_path, out: Path, images: int, echo) -> tuple[dict, str]:
    """The design's core as Verilog (``rtl/``, lint-checked) and, for ``images`` > 0 with
    Verilator present, its bit-exact co-simulation on the first test inputs."""
    from boards.tools import simulator_available

    from .blocks import Request
    from .flow import generate, verify

    path = Path(cfg_path) if cfg_path is not None else None
    manifest = generate("core", cfg, out / "rtl", req=Request(config_path=path))
    lint = (manifest.get("lint") or {}).get("clean")
    res: dict = {"design": f"snn-core {Path(str(manifest.get('network', ''))).name} ({manifest.get('kind')})",
                 "verilog": sorted(p.name for p in (out / "rtl").glob("*.v")), "lint_clean": lint}
    lines = ["## Verilog and bit-exact co-simulation", "",
             f"Design: {res['design']}. Verilog in `rtl/` ({', '.join(res['verilog'])}), "
             f"`verilator --lint-only -Wall`: {'clean' if lint else 'skipped' if lint is None else 'NOT clean'}."]
    ok, why = simulator_available("verilator")
    if images == 0 or not ok:
        res["cosim"] = None
        lines += ["", f"Co-simulation skipped ({'cosim_images = 0' if images == 0 else why})."]
    else:
        t0 = time.perf_counter()
        r = verify("core", path, sim="verilator", cfg=cfg, echo=None, req=Request(images=images))
        res["cosim"] = {**{k: v for k, v in r.items() if isinstance(v, (int, float, str, bool)) or v is None},
                        "seconds": time.perf_counter() - t0}
        lines += ["", f"Verilator co-simulation: {images} test input(s) through the core, spike for spike against "
                      f"`quantize.snn`: **bit-exact** ({r.get('cycles', 'n/a')} cycles, "
                      f"{res['cosim']['seconds']:.0f} s)."]
    lines.append("")
    return res, "\n".join(lines)


def _acc(r) -> str:
    return f"{r['accuracy']:.3f} +- {r['accuracy_se']:.3f}" if r else "n/a"


def markdown(res: dict, *, diagram: str | None = "network_layers.png", synthesis: dict | None = None) -> str:
    """The report's section for a :func:`measure` result (``synthesis``: :func:`synthesise`'s)."""
    rec, tw, cm, fl = res["dataset_record"], res["twin"], res.get("cmos"), res["float"]
    cfg = tw["config"]
    net = Path(res["network"]).name
    lines = [f"## Your network on the twin: {res['network_name']} on {rec['name']}", "",
             f"Network `{net}` ({len(res['layers'])} layers, design kind {res['design_kind']}), data set "
             f"{rec['name']}: {rec['train']} training / {rec['test']} test inputs ({rec['split']}; scaling "
             f"{rec['scaling'].get('how') or rec['scaling'].get('mode')}). Scored on the first {res['images']} of the "
             f"{rec['test']} test inputs, {cfg['steps']} time steps, input rate {cfg['input_rate']:g}, seed "
             f"{cfg['seed']}. Float: the description in float with its own neurons and Poisson input; twin and "
             f"CMOS: the bit-accurate integer models (`quantize.snn`) that the RTL core matches spike for spike.", ""]
    if diagram:
        lines += [f"![layer diagram]({diagram})", ""]
    if res.get("core_limits"):
        lines += [f"The RTL core cannot run this network: {res['core_limits']}.", ""]
    cyc = [f"{r['cycles_per_image']:,.0f}" if r and r.get("cycles_per_image") else "n/a" for r in (tw, cm)]
    en = [f"{r['energy_J'] * 1e9:.3g} nJ" if r else "n/a" for r in (tw, cm)]
    lines += ["| | float (golden) | twin (" + tw["kind"] + ") | CMOS baseline (cmos-if) |", "|---|---|---|---|",
              f"| accuracy | {_acc(fl)} | {_acc(tw)} | {_acc(cm)} |",
              f"| cycles per image (core) | - | {cyc[0]} | {cyc[1]} |",
              f"| energy per inference | - | {en[0]} | {en[1]} |", ""]
    notes = [f"twin and float agree on {res['agreement_twin_float'] * 100:.1f} % of the inputs"]
    if cm:
        notes.append(f"twin and CMOS on {res['agreement_twin_cmos'] * 100:.1f} %")
        if res.get("energy_ratio"):
            notes.append(f"CMOS / twin energy = {res['energy_ratio']:.0f}x")
        if cm.get("network") == "cmos-if" and res["network"] != "cmos-if":
            notes.append("the baseline is the built-in cmos-if network (the same trained CNN at its own "
                         "99.9th-percentile normalisation)")
    else:
        notes.append(f"no CMOS baseline: {res.get('no_cmos')}")
    text = "; ".join(notes)
    lines += [text[0].upper() + text[1:] + ".", "", "Spikes per layer, mean per input:", "",
              "| layer | operation | output | neurons | float | twin | CMOS |", "|---|---|---|---|---|---|---|"]

    def spk(r, k):
        v = (r or {}).get("spikes_per_input", {}).get(k)
        return "-" if v is None else f"{v:,.1f}"

    lines.append(f"| input | encoder | - | - | {spk(fl, 'input')} | {spk(tw, 'input')} | {spk(cm, 'input')} |")
    for L in res["layers"]:
        if L["neurons"] is None:
            continue
        lines.append(f"| {L['name']} | {L['op']} | {_shape(L['out_shape'])} | {L['neurons']} | {spk(fl, L['name'])} | "
                     f"{spk(tw, L['name'])} | {spk(cm, L['name'])} |")
    lines.append("")
    if synthesis is None:
        lines += ["Resources: synthesis not run (`demo.system.synth_target = \"none\"`).", ""]
    elif synthesis.get("error"):
        lines += [f"Resources ({synthesis.get('target')}): not available ({synthesis['error']}).", ""]
    else:
        ips = synthesis.get("images_per_s_at_fmax")
        lines += [f"Resources of the design's core ({res['design_kind']}) on {synthesis.get('target')}"
                  f"{' (from the build cache)' if synthesis.get('cached') else ''}:", "",
                  "| LUT | FF | DSP | BRAM | fmax (MHz) | fits | images/s at fmax |", "|---|---|---|---|---|---|---|",
                  f"| {synthesis.get('lut')} | {synthesis.get('ff')} | {synthesis.get('dsp')} | {synthesis.get('bram')} | "
                  f"{synthesis.get('fmax_mhz')} | {synthesis.get('fits')} | {f'{ips:,.0f}' if ips else '-'} |", ""]
    return "\n".join(lines)
