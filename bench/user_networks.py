"""Benchmark: the seed's networks and user-style networks side by side (issue 16).

Rows: network 1 (``cnn-if``, DW crossbars and DW IF neurons), network 2 (``cnn-stochastic``,
p-bit MTJ neurons), the CMOS baseline (``cmos-if``), all on MNIST; and networks a user brings,
each through the user's path (train in numpy -> NIR -> ``spintwin import`` -> a design file):

* ``iris-mlp``: a 4-8-3 IF MLP on scikit-learn's iris (``spintwin train``, :mod:`golden.mlp`);
* ``digits-mlp``: a 64-32-10 IF MLP on scikit-learn's 8 x 8 digits (``spintwin train``);
* ``small-cnn``: 28x28x1 - conv 4@3x3 pad 1 - avg pool 2 - conv 8@3x3 pad 1 - avg pool 2 -
  dense 10 on MNIST (:mod:`golden.convnet`, 2 epochs over 10,000 training images), written as
  NIR with the ``nir`` package and imported.

Each user network runs on the twin as kind ``twin-if`` (the design file gets ``kind =
"twin-if"``) against the CMOS baseline ``cmos-if`` on the same description. Per row
(:func:`spintwin.network_report.measure`): accuracy of the float network, the twin and the CMOS
baseline on the first ``images`` test inputs (all of a scikit-learn test split), cycles per image
of the row's core, energy per inference of twin and CMOS (golden.energy from each model's own
events); and LUT / FF / DSP / BRAM / fmax of the row's core on the ECP5-85F (YoWASP Yosys +
nextpnr, cached per Verilog under ``build/synth``; the built-in cores' figures are read from
``bench/results/core.json``, which ``python -m bench.core`` writes; network 2's core is not
synthesised there) and images/s = fmax / cycles per image.

Run: ``python -m bench.user_networks`` (prints JSON); the designs are written under
``build/user_networks``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

__all__ = ["run", "markdown", "USER_NETWORKS", "BUILTINS"]

ROOT = Path(__file__).resolve().parent.parent
#: The built-in rows: network, label.
BUILTINS = (("cnn-if", "network 1 (DW IF)"), ("cnn-stochastic", "network 2 (MTJ p-bit)"),
            ("cmos-if", "CMOS baseline"))
#: The user-style rows: name -> (data set, what it is).
USER_NETWORKS = {"iris-mlp": ("iris", "4-8-3 IF MLP"), "digits-mlp": ("digits", "64-32-10 IF MLP"),
                 "small-cnn": ("mnist", "2-conv CNN 3x3 pad 1, avg pool")}
TARGET = "ecp5-85f"


def _small_cnn(x, y):
    """The small CNN's structure with weights trained by :mod:`golden.convnet` and normalised
    at the 99.9th percentile (CMOS IF neurons, pooling linear: folded into the next layer)."""
    import numpy as np

    from golden import convnet
    from golden import network as nw

    nrn = nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos")
    z = np.zeros
    net = nw.Network("small-cnn", nw.Input(28, 28, 1), (
        nw.Conv2d("conv1", z((4, 1, 3, 3), np.float32), padding=1, neuron=nrn), nw.Pool2d("pool1", 2),
        nw.Conv2d("conv2", z((8, 4, 3, 3), np.float32), padding=1, neuron=nrn), nw.Pool2d("pool2", 2),
        nw.Flatten("flatten"), nw.Dense("fc", z((10, 392), np.float32), neuron=nrn)))
    trained = convnet.train(net, x[:10000], y[:10000], epochs=2, batch=64, seed=0)
    return convnet.normalise(trained, x[:5000], 99.9)[0], convnet.accuracy(trained, x[:10000], y[:10000])


def _design(name: str, work: Path) -> tuple[Path, dict]:
    """Train, write NIR, import: the design file of a user-style row (and training facts)."""
    from golden.nir_io import DEFAULT_DT, write_nir
    from spintwin.user_network import import_nir, train_to_nir

    dataset, _ = USER_NETWORKS[name]
    model, design = work / f"{name}.nir", work / f"{name}.toml"
    t0 = time.perf_counter()
    quiet = lambda *_: None  # noqa: E731
    if name == "small-cnn":
        from spinbase.data import load_mnist

        (x, y), _ = load_mnist()
        network, train_acc = _small_cnn(x, y)
        write_nir(network, model, dt=DEFAULT_DT)
        facts = {"trained_on": 10000, "epochs": 2, "train_accuracy_ann": train_acc}
    else:
        hidden = (8,) if name == "iris-mlp" else (32,)
        r = train_to_nir(dataset, hidden, model, epochs=60, seed=0, echo=quiet)
        facts = {"epochs": 60, "hidden": list(hidden), **{k: v for k, v in (r or {}).items() if k != "nir"}}
    import_nir(model, design, dt=DEFAULT_DT, dataset=dataset, echo=quiet)
    with open(design, "a") as f:
        f.write('kind = "twin-if"                 # bench.user_networks: the twin of the imported network\n')
    facts["train_seconds"] = time.perf_counter() - t0
    return design, facts


def _builtin_synth(network: str) -> dict | None:
    path = ROOT / "bench" / "results" / "core.json"
    try:
        s = json.loads(path.read_text())["synth"][network][TARGET]
    except (OSError, KeyError, ValueError):
        return None
    return {**{k: s.get(k) for k in ("lut", "ff", "dsp", "bram", "fmax_mhz", "fits")}, "source": "bench/results/core.json"}


def _row(label: str, cfg: dict, path, images, synth: dict | None) -> dict:
    from spintwin.network_report import measure

    t0 = time.perf_counter()
    r = measure(cfg, path, images=images)
    own = r["cmos"] if r["design_kind"] == "cmos-if" and r["network"] == "cmos-if" else r["twin"]
    cycles = own.get("cycles_per_image")
    row = {"label": label, "network": r["network_name"], "dataset": r["dataset_record"]["name"],
           "images": r["images"], "test_split": r["test_split"], "split": r["dataset_record"]["split"],
           "core_kind": own["kind"], "layers": r["layers"],
           "accuracy": {k: (None if r[k] is None else r[k]["accuracy"]) for k in ("float", "twin", "cmos")},
           "accuracy_se": {k: (None if r[k] is None else r[k]["accuracy_se"]) for k in ("float", "twin", "cmos")},
           "kinds": {"twin": r["twin"]["kind"], "cmos": None if r["cmos"] is None else r["cmos"]["kind"]},
           "cycles_per_image": cycles,
           "energy_J": {"twin": r["twin"]["energy_J"], "cmos": None if r["cmos"] is None else r["cmos"]["energy_J"]},
           "spikes_per_input": {"twin": r["twin"]["spikes_per_input"],
                                "cmos": None if r["cmos"] is None else r["cmos"]["spikes_per_input"]},
           "synth": synth, "measure_seconds": time.perf_counter() - t0}
    if own is r["cmos"]:     # the baseline's own row: its float and twin sides are network 1's row
        row["accuracy"].update(float=None, twin=None)
        row["energy_J"]["twin"] = None
    fmax = (synth or {}).get("fmax_mhz")
    row["images_per_s"] = fmax * 1e6 / cycles if fmax and cycles else None
    return row


def run(images: int = 200, *, synth: bool = True, synth_timeout_s: float = 3600.0, work=None) -> dict:
    """Every row (module docstring); ``images``: MNIST test images per row (the scikit-learn
    sets use their whole test split); ``synth=False`` leaves the user networks' synthesis out."""
    from spintwin.config import load_config
    from spintwin.network_report import synthesise

    t0 = time.perf_counter()
    work = Path(work) if work is not None else ROOT / "build" / "user_networks"
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for network, label in BUILTINS:
        cfg = load_config(None)
        cfg["core"]["network"] = network
        rows.append(_row(label, cfg, None, images, _builtin_synth(network)))
    for name, (dataset, what) in USER_NETWORKS.items():
        design, facts = _design(name, work)
        cfg = load_config(design)
        s = synthesise(cfg, design, target=TARGET, timeout_s=synth_timeout_s) if synth else None
        if s is not None and not s.get("error"):
            s["source"] = "run (cached)" if s.get("cached") else "run"
        row = _row(f"{name} ({what})", cfg, design, images if dataset == "mnist" else None, s)
        row["training"] = facts
        row["design"] = str(design.relative_to(ROOT)) if design.is_relative_to(ROOT) else str(design)
        rows.append(row)
    return {"benchmark": "user_networks", "target": TARGET, "mnist_images": images, "rows": rows,
            "seconds": time.perf_counter() - t0}


def _energy(v) -> str:
    if v is None:
        return "-"
    return f"{v * 1e6:.3g} uJ" if v >= 1e-6 else f"{v * 1e9:.3g} nJ"


def _pct(v) -> str:
    return "-" if v is None else f"{v * 100:.1f}"


def markdown(r: dict) -> str:
    """The BENCHMARKS.md section of a :func:`run` result."""
    rows = ["## Your networks on the twin: the seed's networks and user-style networks", "",
            "Accuracy (%) of the float network, the bit-accurate twin and the CMOS baseline (`cmos-if` on the same "
            "description; for network 2 the built-in CMOS baseline) on the first "
            f"{r['mnist_images']} MNIST test images or the whole test split of a scikit-learn set (stratified "
            "80/20, seed 0); cycles per image of the row's core (quantize.core, exact for these inputs); energy per "
            "inference from each model's own event counts (golden.energy); resources of the row's core on the "
            f"{r['target'].upper()} (YoWASP Yosys + nextpnr) and images/s = fmax / cycles per image. User networks "
            "come through the user's path: trained in numpy, written as NIR, `spintwin import`ed.", "",
            "| network | data set (test inputs) | float | twin | CMOS | core | cycles / image | energy twin | "
            "energy CMOS | LUT | FF | DSP | BRAM | fmax (MHz) | images/s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        a, e, s = row["accuracy"], row["energy_J"], row.get("synth") or {}
        cyc = f"{row['cycles_per_image']:,.0f}" if row.get("cycles_per_image") else "-"
        en = [_energy(v) for v in (e["twin"], e["cmos"])]
        if s.get("error") or not s:
            res = [s.get("error", "not synthesised")[:60], "", "", "", ""]
        else:
            res = [str(s.get(k)) for k in ("lut", "ff", "dsp", "bram", "fmax_mhz")]
        ips = f"{row['images_per_s']:,.0f}" if row.get("images_per_s") else "-"
        rows.append(f"| {row['label']} | {row['dataset']} ({row['images']}) | {_pct(a['float'])} | {_pct(a['twin'])} | "
                    f"{_pct(a['cmos'])} | {row['core_kind']} | {cyc} | {en[0]} | {en[1]} | {' | '.join(res)} | {ips} |")
    rows += ["", "The built-in cores' resources come from `bench/results/core.json` (`python -m bench.core`); network "
                 "2's core is not synthesised there. Accuracy standard errors: sqrt(a (1 - a) / N) (30 iris inputs: "
                 "up to 9 points).", ""]
    return "\n".join(rows)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, default=str))
