"""Bench section: the all-spin network 3 against the hybrid one (issue 18 item 4; seed section V.2).

Network 3 on MNIST through :func:`golden.stdp_network.run_experiment`, binary probabilistic
MTJ synapses, one epoch of 60,000 training images, labels from 10,000 training images, all
10,000 test images (``quick``: 225 neurons only, 10,000 / 5,000 / 2,000):

* **hybrid**: abstract LIF neurons in weight units, columns normalised to a fixed sum, the
  positive half of eq. 9 only (the network the other benchmarks report);
* **all-spin**: DW IF neurons on the calibrated device driven by the eq. 12 column currents,
  both signs of eq. 9 (``config_for(..., all_spin=True)``; operating point in the JSON);
* three seeds at 225 neurons; ablations at 225 neurons: all-spin with gamma -> 0 (G_s = 1 kS: the ideal sum), all-spin
  without the negative window, the hybrid with it.

Writes ``out_dir/allspin.json``; the learned receptive fields of the 400-neuron networks
(the seed's Fig. 10(c)) go to ``docs/allspin_fields.png`` and ``docs/hybrid_fields.png``.
Points are cached in ``out_dir/allspin-points`` by their configuration.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict
from pathlib import Path

__all__ = ["run", "markdown", "POINTS"]

#: (label, neurons, seed, config_for keywords)
POINTS = [
    ("hybrid", 225, 0, {}),
    ("all-spin", 225, 0, {"all_spin": True}),
    ("hybrid", 225, 1, {}),
    ("all-spin", 225, 1, {"all_spin": True}),
    ("hybrid", 225, 2, {}),
    ("all-spin", 225, 2, {"all_spin": True}),
    ("all-spin, gamma -> 0", 225, 0, {"all_spin": True, "g_s": 1e3}),
    ("all-spin, p_minus = 0", 225, 0, {"all_spin": True, "p_minus": (0.0,)}),
    ("all-spin, p_minus = 0", 225, 1, {"all_spin": True, "p_minus": (0.0,)}),
    ("all-spin, p_minus = 0", 225, 2, {"all_spin": True, "p_minus": (0.0,)}),
    ("hybrid + negative window", 225, 0, {"p_minus": None}),
    ("hybrid", 400, 0, {}),
    ("all-spin", 400, 0, {"all_spin": True}),
    ("hybrid", 1600, 0, {}),
    ("all-spin", 1600, 0, {"all_spin": True}),
]
QUICK_POINTS = [POINTS[0], POINTS[1], POINTS[6], POINTS[7]]
FIELDS_NEURONS = 400


def _kw(kw: dict) -> dict:
    from golden.stdp_network import ALLSPIN_P_MINUS

    return {k: ((ALLSPIN_P_MINUS,) if (k == "p_minus" and v is None) else v) for k, v in kw.items()}


def _point(cache: Path, label, neurons, seed, kw, sizes, data) -> dict:
    from golden import stdp_network as G
    from spinbase.fileio import atomic_write_json

    kw = _kw(kw)
    cfg = G.config_for("binary", neurons, **kw)
    key = hashlib.sha256(json.dumps({"cfg": asdict(cfg), "seed": seed, "sizes": sizes}, sort_keys=True,
                                    default=str).encode()).hexdigest()[:16]
    path = cache / f"{key}.json"
    if path.is_file():
        return json.loads(path.read_text())
    train, label_n, test = sizes
    save = cache / f"{key}.npz" if neurons == FIELDS_NEURONS else None
    r = G.run_experiment(neurons, "binary", train, test, seed, label_images=label_n, data=data,
                         save=str(save) if save else None, **kw)
    out = {"label": label, "seed": seed, "network": str(save.name) if save else None,
           **{k: r[k] for k in ("neurons", "train_images", "label_images", "test_images", "accuracy",
                                "accuracy_se", "train_seconds", "mean_train_spikes", "mean_test_spikes",
                                "neurons_assigned", "switching_events", "potentiations", "depressions",
                                "energy_J")},
           "config": r["config"]}
    if cfg.neuron == "dw":
        out["operating_point"] = G.allspin_operating_point(cfg, 784)
    atomic_write_json(path, out)
    return out


def _compare(points, neurons, label: str = "all-spin") -> dict | None:
    """``label`` (the all-spin network) minus the hybrid at ``neurons``: the means over seeds
    and their standard errors (the larger of the test-set binomial SE and the seed-to-seed
    standard error where there are two or more seeds), with the verdict on the issue's
    2-point criterion."""
    h = [p for p in points if p["label"] == "hybrid" and p["neurons"] == neurons]
    a = [p for p in points if p["label"] == label and p["neurons"] == neurons]
    if not h or not a:
        return None

    def stats(ps):
        acc = [p["accuracy"] for p in ps]
        m = sum(acc) / len(acc)
        se_bin = math.sqrt(sum(p["accuracy_se"] ** 2 for p in ps)) / len(ps)
        se_seed = (math.sqrt(sum((x - m) ** 2 for x in acc) / (len(acc) - 1) / len(acc))
                   if len(acc) > 1 else 0.0)
        return m, max(se_bin, se_seed)

    (mh, sh), (ma, sa) = stats(h), stats(a)
    d, se = ma - mh, math.hypot(sh, sa)
    return {"label": label, "neurons": neurons, "hybrid": mh, "hybrid_se": sh, "all_spin": ma, "all_spin_se": sa,
            "difference": d, "difference_se": se, "seeds": len(h), "within_2_points": abs(d) <= 0.02}


def _normalisation(cache: Path, p: dict) -> dict:
    """How strongly the read normalises a trained network's columns: the column sums W_j
    (level fractions) and the spread (max / min over columns) of the per-unit-weight gain,
    ``norm_target / W_j`` for the hybrid read, ``1 / (1 + gamma_j)`` for eq. 12."""
    from golden import stdp_network as G

    net, _, _ = G.load_network(cache / p["network"])
    c = net.config
    w = net.states.sum(axis=(0, 1)) / (c.levels - 1)
    if c.neuron == "dw":
        op = G.allspin_operating_point(c, net.n_inputs)
        gain = 1.0 / (1.0 + op["gamma_floor"] + (op["g_p"] - op["g_ap"]) * w / op["g_s"])
    else:
        gain = c.norm_target / w
    return {"label": p["label"], "neurons": p["neurons"], "column_sum_mean": float(w.mean()),
            "column_sum_min": float(w.min()), "column_sum_max": float(w.max()),
            "gain_spread": float(gain.max() / gain.min())}


def run(out_dir, quick: bool = False, *, fields_dir: Path | str | None = "docs") -> dict:
    """Train and test every point (cached), plot the receptive fields, write allspin.json."""
    from golden import stdp_network as G
    from spinbase.data import load_mnist
    from spinbase.fileio import atomic_write_json

    out = Path(out_dir)
    cache = out / "allspin-points"
    cache.mkdir(parents=True, exist_ok=True)
    (xt, yt), (xs, ys) = load_mnist()
    sizes = (10000, 5000, 2000) if quick else (60000, 10000, 10000)
    t0 = time.perf_counter()
    points = [_point(cache, *p, sizes, (xt, yt, xs, ys)) for p in (QUICK_POINTS if quick else POINTS)]
    res = {"benchmark": "allspin", "quick": quick, "variant": "binary",
           "train_images": sizes[0], "label_images": sizes[1], "test_images": sizes[2],
           "p_minus": G.ALLSPIN_P_MINUS, "points": points,
           "comparison": [c for c in [_compare(points, n) for n in (225, 400, 1600)]
                          + [_compare(points, 225, "all-spin, p_minus = 0")] if c]}
    res["normalisation"] = [_normalisation(cache, p) for p in points if p["network"]]
    if fields_dir is not None:
        from spintwin.figures_stdp import column_conductances, plot_receptive_fields

        res["fields"] = {}
        for p in points:
            if p["network"] and p["label"] in ("hybrid", "all-spin"):
                net, _, _ = G.load_network(cache / p["network"])
                name = "allspin" if p["label"] == "all-spin" else "hybrid"
                path = Path(fields_dir) / f"{name}_fields.png"
                plot_receptive_fields(column_conductances(net), path,
                                      title=f"{p['label']} network 3, {p['neurons']} neurons: learned column "
                                            f"conductances after {p['train_images']} images")
                res["fields"][p["label"]] = str(path)
    res["wall_s"] = time.perf_counter() - t0
    atomic_write_json(out / "allspin.json", res)
    return res


def markdown(r: dict) -> str:
    """The BENCHMARKS.md section."""
    rows = ["## All-spin network 3 (issue 18, item 4)", "",
            f"Binary MTJ synapses, MNIST: {r['train_images']} training images, labels from {r['label_images']}, "
            f"{r['test_images']} test images; accuracy in % +- the test set's binomial SE. All-spin: DW IF neurons "
            "on the eq. 12 column currents and both signs of eq. 9 (p_minus "
            f"{r['p_minus']}); hybrid: LIF neurons on normalised columns, positive window only "
            "(bench/results/allspin.json).", "",
            "| network | neurons | seed | accuracy (%) | spikes / training image | depressions |",
            "|---|---|---|---|---|---|"]
    for p in r["points"]:
        rows.append(f"| {p['label']} | {p['neurons']} | {p['seed']} | {100 * p['accuracy']:.1f} +- "
                    f"{100 * p['accuracy_se']:.1f} | {p['mean_train_spikes']:.1f} | {p['depressions']:,} |")
    rows += ["", "| network | neurons | seeds | hybrid (%) | all-spin (%) | all-spin - hybrid (points) | "
             "within 2 points |", "|---|---|---|---|---|---|---|"]
    for c in r["comparison"]:
        rows.append(f"| {c.get('label', 'all-spin')} | {c['neurons']} | {c['seeds']} | "
                    f"{100 * c['hybrid']:.1f} +- {100 * c['hybrid_se']:.1f} | "
                    f"{100 * c['all_spin']:.1f} +- {100 * c['all_spin_se']:.1f} | {100 * c['difference']:+.1f} +- "
                    f"{100 * c['difference_se']:.1f} | {'yes' if c['within_2_points'] else 'no'} |")
    if r.get("normalisation"):
        rows += ["", "Column normalisation of the trained 400-neuron networks (max / min over columns of the gain "
                 "per unit weight: norm_target / W_j for the hybrid read, 1 / (1 + gamma_j) for eq. 12):", ""]
        rows += [f"- {n['label']}: column sums {n['column_sum_min']:.0f}-{n['column_sum_max']:.0f} "
                 f"(mean {n['column_sum_mean']:.0f}), gain spread {n['gain_spread']:.2f}x" for n in r["normalisation"]]
    if r.get("fields"):
        rows += ["", "Learned receptive fields (seed Fig. 10(c)): " +
                 ", ".join(f"{k}: {v}" for k, v in r["fields"].items()) + "."]
    return "\n".join(rows) + "\n"
