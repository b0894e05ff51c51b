"""Benchmark: the recurrent mode (seed sections III and V.1; issue 19 item 7).

The network of ``configs/recurrent.toml`` (``configs/recurrent_digits.npz``): 64-16-10 IF
neurons on scikit-learn's 8 x 8 digits, its 16 hidden neurons a recurrent dense layer (their
spikes of step t-1 are 16 extra rows of their own crossbar at step t), trained as a rate model
by BPTT in numpy (:mod:`golden.recurrent`). Figures, each on the whole test split (360 digits)
with its binomial standard error ``sqrt(p (1 - p) / n)``:

* the rate model (float) with and without the recurrence (``W_rec`` zeroed);
* the float spiking network (``golden.snn.simulate``, Poisson input) and the bit-accurate
  model (``quantize.snn``, the core's LFSR encoder, kind ``cmos-if``), each with and without
  the recurrence, at the design's steps and at earlier checkpoints (the decision's speed);
* a feed-forward 64-16-10 MLP (:mod:`golden.mlp`, same data, seed and hidden width) on the
  bit-accurate model: what the same crossbar sizes give without recurrent rows;
* spikes per image per layer and the core's cycles per image (``quantize.core.cycles_per_image``
  from the scatter words: the mean of ``cycles_exact``, exactly; the recurrent scatter adds
  no cycle);
* unless ``quick``: the RTL core co-simulated on Verilator (bit-exact or a MismatchError).

Run: ``python -m bench.recurrent`` (writes ``bench/results/recurrent.json``);
``python -m bench.recurrent --write-network PATH`` retrains and writes the network file.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

__all__ = ["run", "markdown", "write_network", "NETWORK_FILE", "CONFIG_FILE"]

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / "configs" / "recurrent.toml"
NETWORK_FILE = ROOT / "configs" / "recurrent_digits.npz"


def write_network(path=NETWORK_FILE) -> dict:
    """Train the task (:func:`golden.recurrent.task_network`) and write its description."""
    from golden import network as nw
    from golden.recurrent import task_network

    net, info = task_network()
    nw.save(net, path)
    return {"path": str(path), "float": info["float"], "float_no_recurrence": info["float_no_recurrence"],
            "spectral_radius": info["spectral_radius"]}


def _acc(pred, y) -> dict:
    p = float(np.mean(np.asarray(pred) == np.asarray(y)))
    return {"accuracy": p, "se": math.sqrt(p * (1 - p) / len(y))}


def _design():
    from spintwin.block_core import core_quant_config
    from spintwin.config import load_config

    cfg = load_config(CONFIG_FILE)
    return core_quant_config(cfg["core"], path=CONFIG_FILE)


def run(out_dir=None, quick: bool = False) -> dict:
    """Every figure of the module docstring; writes ``recurrent.json`` under ``out_dir``
    (default ``bench/results``). ``quick``: fewer test images (120), no RTL run."""
    from golden import mlp, snn
    from golden import network as nw
    from golden import recurrent as rnn
    from quantize import core as qc
    from quantize import snn as q
    from spinbase.data import load_dataset
    from spinbase.fileio import atomic_write_json

    t0 = time.perf_counter()
    _, cfg = _design()
    net = nw.load(NETWORK_FILE)
    params = rnn.params_of(net)
    (x_tr, y_tr), (x_te, y_te), rec = load_dataset("digits")
    if quick:
        x_te, y_te = x_te[:120], y_te[:120]
    it = rnn.TASK["iterations"]
    plain = rnn.recurrent_network(rnn.without_recurrence(params), net.name + "-no-rec", net.input.shape)
    checkpoints = sorted({max(1, cfg.steps // 4), max(1, cfg.steps // 2), cfg.steps})
    out = {"benchmark": "recurrent", "network": str(NETWORK_FILE.relative_to(ROOT)), "dataset": "digits",
           "test_images": int(len(y_te)), "steps": cfg.steps, "kind": cfg.kind, "hidden": net.layers[1].out_features,
           "iterations": it, "spectral_radius_w_rec": float(np.max(np.abs(np.linalg.eigvals(params[0][1])))),
           "rate_model": {"recurrent": _acc(np.argmax(rnn.rate_forward(params, x_te, it), 1), y_te),
                          "no_recurrence": _acc(np.argmax(rnn.rate_forward(rnn.without_recurrence(params), x_te, it),
                                                          1), y_te)}}
    for label, desc in (("recurrent", net), ("no_recurrence", plain)):
        g = snn.simulate(desc, x_te, y_te, steps=cfg.steps, checkpoints=checkpoints, encoding="poisson", rng=0)
        out.setdefault("golden_snn", {})[label] = {str(t): _acc(g["predictions"][t], y_te) for t in checkpoints}
        qnet = q.build_network(desc, cfg)
        r = q.run(qnet, x_te, checkpoints=checkpoints)
        out.setdefault("bit_accurate", {})[label] = {str(t): _acc(r["pred_at"][t], y_te) for t in checkpoints}
        spikes = {k: v / len(y_te) for k, v in r["spikes"].items()}
        out.setdefault("spikes_per_image", {})[label] = {k: v for k, v in spikes.items() if not k.startswith("words.")}
        out.setdefault("cycles_per_image", {})[label] = qc.cycles_per_image(qnet, spikes)
    ff = mlp.train_mlp(x_tr, y_tr, (out["hidden"],), epochs=rnn.TASK["epochs"], seed=rnn.TASK["seed"])
    ffn = mlp.mlp_network(mlp.normalise_mlp(ff, x_tr, rnn.TASK["percentile"])[0], "digits-ff", net.input.shape)
    r = q.run(q.build_network(ffn, cfg), x_te, checkpoints=checkpoints)
    out["feed_forward_mlp"] = {"float": _acc(np.argmax(mlp.forward(ff, x_te), 1), y_te),
                               "bit_accurate": {str(t): _acc(r["pred_at"][t], y_te) for t in checkpoints}}
    if not quick:
        out["rtl"] = _rtl(cfg, x_te)
    out["wall_s"] = time.perf_counter() - t0
    target = Path(out_dir) if out_dir is not None else ROOT / "bench" / "results"
    atomic_write_json(target / "recurrent.json", out)
    return out


def _rtl(cfg, x, images: int = 5) -> dict:
    """The core on Verilator against the model (tb.core_launch; bit-exact or MismatchError)."""
    from spintwin.block_core import CoreDesign, core_network
    from tb import core_launch
    from tb.runner import simulator_available

    ok, why = simulator_available("verilator")
    if not ok:
        return {"skipped": why}
    net = core_network(CoreDesign(str(NETWORK_FILE), cfg, CONFIG_FILE, "digits"))
    t0 = time.perf_counter()
    r = core_launch.run(str(NETWORK_FILE), sim="verilator", images=images, steps=cfg.steps, net=net, x=x)
    return {"sim": "verilator", "images": images, "bit_exact": True, "cycles_per_image": r.metrics.get("cycles_per_image"),
            "seconds": time.perf_counter() - t0}


def markdown(r: dict) -> str:
    def f(a):
        return f"{a['accuracy']:.3f} +- {a['se']:.3f}"

    t = str(r["steps"])
    rows = ["## Recurrent mode (seed III, V.1): a recurrent dense layer on the core", "",
            f"{r['network']}: 64-{r['hidden']}-10 IF ({r['kind']}) on scikit-learn digits, the hidden layer's spikes "
            f"of step t-1 fed back as {r['hidden']} extra rows of its own crossbar; {r['test_images']} test digits, "
            f"{r['steps']} steps (bench/results/recurrent.json).", "",
            "| model | with recurrence | recurrence removed |", "|---|---|---|",
            f"| rate model (float) | {f(r['rate_model']['recurrent'])} | {f(r['rate_model']['no_recurrence'])} |",
            f"| spiking, float (Poisson input) | {f(r['golden_snn']['recurrent'][t])} | "
            f"{f(r['golden_snn']['no_recurrence'][t])} |",
            f"| bit-accurate (core's arithmetic, LFSR input) | {f(r['bit_accurate']['recurrent'][t])} | "
            f"{f(r['bit_accurate']['no_recurrence'][t])} |",
            f"| cycles / image | {r['cycles_per_image']['recurrent']:.0f} | {r['cycles_per_image']['no_recurrence']:.0f} |",
            "", f"Feed-forward 64-{r['hidden']}-10 MLP, same data and width: float {f(r['feed_forward_mlp']['float'])}, "
            f"bit-accurate {f(r['feed_forward_mlp']['bit_accurate'][t])}."]
    if r.get("rtl", {}).get("bit_exact"):
        rows.append(f"The RTL core ran {r['rtl']['images']} digits bit-exact on {r['rtl']['sim']}.")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write-network", metavar="PATH", help="retrain and write the task's network file")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if a.write_network:
        print(json.dumps(write_network(a.write_network), indent=2))
    else:
        print(markdown(run(quick=a.quick)))
