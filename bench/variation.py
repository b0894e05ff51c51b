"""Benchmark: accuracy of networks 1-3 against device variation and crossbar non-ideality (issue 18, item 3).

Every curve is :func:`golden.variation.accuracy_vs_variation`: mean accuracy over independent
device draws (Monte-Carlo trials) and its standard error, per value of one perturbation:
conductance spread sigma (lognormal, sigma of ln G, every device of the G+/G- pairs), stuck
devices (half at G_on, half at G_off), DW pinning (notches off, 16 levels), eq. 12's gamma
(uncompensated loading, layer-calibrated), IR drop (wire resistance per segment through the
Kirchhoff solve, eq. 12 compensated), MTJ sigmoid dispersion (network 2's neurons). Network 1
and 2 are the golden float models (golden.snn, 50 time steps) on the first ``images`` MNIST
test images; network 3 is the shipped trained binary STDP network (225 neurons), tested frozen
after the perturbation and again after on-line STDP on the perturbed devices.

Budgets are small by design (default 500 test images, 3 trials, 5-6 values; network 3:
1000 labelling and 1000 retraining images); a value's test-set binomial SE is common to all
its trials (same images), so the trial SE measures the device draws only.
Run: ``python -m bench.variation [--images N] [--trials T]`` (prints JSON, writes
bench/results/variation.json and docs/variation.png).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

__all__ = ["SWEEPS", "run", "markdown", "plot", "drop_point"]

#: (network, kind, values) of every curve.
SWEEPS = [
    ("cnn-if", "sigma", [0, 0.01, 0.02, 0.05, 0.1]),
    ("cnn-if", "stuck", [0, 0.001, 0.003, 0.01, 0.03]),
    ("cnn-if", "dw_pinning", [0, 0.25, 0.5, 1, 2]),
    ("cnn-if", "gamma", [0, 0.1, 0.3, 1, 3]),
    ("cnn-if", "ir_drop", [0, 0.1, 0.3, 1, 3, 10]),
    ("cnn-stochastic", "sigma", [0, 0.01, 0.02, 0.05, 0.1]),
    ("cnn-stochastic", "stuck", [0, 0.001, 0.003, 0.01, 0.03]),
    ("cnn-stochastic", "dw_pinning", [0, 0.25, 0.5, 1, 2]),
    ("cnn-stochastic", "gamma", [0, 0.1, 0.3, 1, 3]),
    ("cnn-stochastic", "ir_drop", [0, 0.1, 0.3, 1, 3, 10]),
    ("cnn-stochastic", "mtj_dispersion", [0, 0.05, 0.1, 0.2, 0.4]),
    ("stdp", "sigma", [0, 0.1, 0.3, 0.5, 1.0]),
    ("stdp", "stuck", [0, 0.01, 0.05, 0.1, 0.2]),
]

LABELS = {"cnn-if": "network 1 (IF CNN)", "cnn-stochastic": "network 2 (MTJ CNN)", "stdp": "network 3 (STDP)"}
COLORS = {"cnn-if": "tab:blue", "cnn-stochastic": "tab:orange", "stdp": "tab:green"}
UNITS = {"sigma": "sigma of ln G", "stuck": "stuck fraction", "dw_pinning": "notches (sigma)",
         "gamma": "mean eq. 12 gamma", "ir_drop": "ohm per wire segment", "mtj_dispersion": "relative sigma"}


def drop_point(values, means, drop: float = 0.01):
    """The value at which the mean accuracy first falls ``drop`` below the value-0 accuracy.

    Linear interpolation between the grid points around the crossing; None if it never falls
    that far on the grid.
    """
    ref = means[0] - drop
    for i in range(1, len(values)):
        if means[i] <= ref:
            a, b = means[i - 1], means[i]
            f = 1.0 if a == b else (a - ref) / (a - b)
            return float(values[i - 1] + f * (values[i] - values[i - 1]))
    return None


def run(images: int = 500, trials: int = 3, *, plot_path: Path | str | None = "docs/variation.png",
        sweeps=None) -> dict:
    """Every curve of :data:`SWEEPS` (or ``sweeps``); returns a JSON-ready dict (and plots it)."""
    from golden.variation import accuracy_vs_variation

    t0 = time.perf_counter()
    curves = []
    for network, kind, values in (sweeps or SWEEPS):
        t1 = time.perf_counter()
        r = accuracy_vs_variation(network, kind, values, trials=trials, images=images, seed=0)
        r["seconds"] = time.perf_counter() - t1
        means = [a["mean"] for a in r["accuracy"]]
        r["drop_1pt"] = drop_point(values, means)
        if "accuracy_retrained" in r:
            r["drop_1pt_retrained"] = drop_point(values, [a["mean"] for a in r["accuracy_retrained"]])
        curves.append(r)
    res = {"benchmark": "variation", "images": images, "trials": trials, "curves": curves,
           "wall_s": time.perf_counter() - t0}
    if plot_path is not None:
        plot(res, Path(plot_path))
        res["plot"] = str(plot_path)
    return res


def _fmt_value(v) -> str:
    return f"{v:g}"


def _acc(a) -> str:
    return f"{100 * a['mean']:.1f} +- {100 * a['se']:.1f}"


def markdown(r: dict) -> str:
    rows = ["## Variation and non-ideality: accuracy of networks 1-3 (issue 18, item 3)", "",
            f"golden.variation on the first {r['images']} MNIST test images, {r['trials']} independent device draws per "
            "value (value 0, gamma and IR drop: one deterministic run); accuracy in % as mean +- Monte-Carlo SE over "
            "the draws (the test set's own binomial SE, common to all values, is given per curve). Networks 1 and 2: "
            "golden float models (golden.snn), 50 steps; weights on the DW synapse's G+/G- pairs (72.7-160 uS). "
            "Network 3: the shipped binary STDP network (225 neurons), frozen after the perturbation, then after "
            "on-line STDP on the perturbed devices (bench/results/variation.json; plot docs/variation.png).", ""]
    for c in r["curves"]:
        head = f"**{LABELS[c['network']]}, {c['kind']}** ({UNITS[c['kind']]}; binomial SE {100 * c['binomial_se']:.1f}"
        head += f"; {c['seconds']:.0f} s)"
        rows += [head, ""]
        retr = "accuracy_retrained" in c
        extra = " | after STDP (%) |" if retr else " |"
        gam = c["kind"] in ("gamma", "ir_drop")
        rows.append("| value | accuracy (%)" + extra + (" gamma mean / IR gamma mean |" if gam else ""))
        rows.append("|---|---|" + ("---|" if retr else "") + ("---|" if gam else ""))
        for i, v in enumerate(c["values"]):
            line = f"| {_fmt_value(v)} | {_acc(c['accuracy'][i])} |"
            if retr:
                line += f" {_acc(c['accuracy_retrained'][i])} |"
            if gam:
                info = c["info"][i]
                gm = np.mean([x["gamma_mean"] for x in info.values()])
                gi = np.mean([x.get("gamma_ir_mean", 0.0) for x in info.values()])
                line += f" {gm:.2f} / {gi:.3f} |"
            rows.append(line)
        rows.append("")
    rows += ["**Resilience.** The value at which the mean accuracy is 1 point below the unperturbed one "
             "(linear interpolation on the grid; '>' = not reached):", "",
             "| network | perturbation | 1-point drop at | accuracy at the largest value (%) |", "|---|---|---|---|"]
    for c in r["curves"]:
        d = c["drop_1pt"]
        at = f"{d:.3g}" if d is not None else f"> {_fmt_value(c['values'][-1])}"
        last = _acc(c["accuracy"][-1])
        if "accuracy_retrained" in c:
            d2 = c["drop_1pt_retrained"]
            at += f" (after STDP: {f'{d2:.3g}' if d2 is not None else '> ' + _fmt_value(c['values'][-1])})"
            last += f" (after STDP: {_acc(c['accuracy_retrained'][-1])})"
        rows.append(f"| {LABELS[c['network']]} | {c['kind']} | {at} | {last} |")
    rows += ["", _verdict(r), ""]
    return "\n".join(rows)


def _verdict(r: dict) -> str:
    """One paragraph from the numbers: which networks tolerate what."""
    by = {(c["network"], c["kind"]): c for c in r["curves"]}
    parts = []
    for net in ("cnn-if", "cnn-stochastic"):
        s = by.get((net, "sigma"))
        st = by.get((net, "stuck"))
        if s and st:
            parts.append(f"{LABELS[net]} loses 1 point at a conductance spread of "
                         f"{_pt(s['drop_1pt'], s['values'])} (sigma of ln G) and at "
                         f"{_pt(st['drop_1pt'], st['values'], pct=True)} stuck devices")
    text = "; ".join(parts)
    s3, st3 = by.get(("stdp", "sigma")), by.get(("stdp", "stuck"))
    if s3 and st3:
        text += (f". {LABELS['stdp']} (binary devices, column-normalised) loses 1 point at "
                 f"{_pt(s3['drop_1pt'], s3['values'])} spread and {_pt(st3['drop_1pt'], st3['values'], pct=True)} "
                 f"stuck; on-line STDP moves the largest-value accuracies by "
                 f"{100 * (s3['accuracy_retrained'][-1]['mean'] - s3['accuracy'][-1]['mean']):+.1f} (spread) and "
                 f"{100 * (st3['accuracy_retrained'][-1]['mean'] - st3['accuracy'][-1]['mean']):+.1f} (stuck) points, "
                 f"against {100 * (s3['accuracy_retrained'][0]['mean'] - s3['accuracy'][0]['mean']):+.1f} for the "
                 "unperturbed network given the same images")
    return ("**Verdict on the seed's 'inherent resilience'.** " + text + ". The converted CNNs' weights live "
            "on the difference of two devices whose OFF conductance is 45 % of the ON one, so every device's "
            "spread lands on every weight, the many near-zero ones included: a weight's error is about "
            "sqrt(2) sigma g_min / (g_max - g_min) = 1.2 sigma of the layer's largest weight, against weights "
            "whose rms is a fraction of it; the tolerance comes from that ratio, not from the network.")


def _pt(d, values, pct: bool = False) -> str:
    if d is None:
        return f"more than {100 * values[-1]:g} %" if pct else f"more than {values[-1]:g}"
    return f"{100 * d:.2g} %" if pct else f"{d:.2g}"


def plot(res: dict, path: Path) -> None:
    """One panel per perturbation, one line per network, error bars = Monte-Carlo SE."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spinbase.fileio import atomic_write_bytes

    kinds = list(dict.fromkeys(c["kind"] for c in res["curves"]))
    cols = 3
    rows = math.ceil(len(kinds) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax, kind in zip(axes.flat, kinds):
        for c in (c for c in res["curves"] if c["kind"] == kind):
            v = np.array(c["values"], float)
            m = np.array([a["mean"] for a in c["accuracy"]]) * 100
            se = np.array([a["se"] for a in c["accuracy"]]) * 100
            col = COLORS[c["network"]]
            ax.errorbar(v, m, yerr=se, marker="o", capsize=3, color=col, label=LABELS[c["network"]])
            if "accuracy_retrained" in c:
                m2 = np.array([a["mean"] for a in c["accuracy_retrained"]]) * 100
                se2 = np.array([a["se"] for a in c["accuracy_retrained"]]) * 100
                ax.errorbar(v, m2, yerr=se2, marker="s", ls="--", capsize=3, color=col, mfc="white", label=LABELS[c["network"]] + " + STDP")
        ax.set_xlabel(f"{kind} ({UNITS[kind]})", fontsize=9)
        ax.set_ylabel("accuracy (%)")
        positive = [v for c in res["curves"] if c["kind"] == kind for v in c["values"] if v > 0]
        if positive:  # symlog: value 0 on a linear stretch, the rest logarithmic
            ax.set_xscale("symlog", linthresh=min(positive))
        ax.set_ylim(0, 101)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(kinds):]:
        ax.axis("off")
    fig.suptitle(f"Accuracy against device variation ({res['images']} MNIST test images, "
                 f"{res['trials']} device draws, mean +- SE)")
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())


def main(argv=None) -> int:
    from spinbase.fileio import atomic_write_json

    ap = argparse.ArgumentParser(prog="python -m bench.variation", description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--plot", default="docs/variation.png")
    a = ap.parse_args(argv)
    res = run(a.images, a.trials, plot_path=a.plot)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    atomic_write_json(Path(a.out) / "variation.json", res)
    print(json.dumps(res, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
