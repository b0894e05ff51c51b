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


#: The suite's networks (configs/suite.toml, trained by bench.suite into build/suite): kinds and
#: values, draws per value, test inputs per problem (fewer when the split is smaller) and steps.
SUITE_SWEEPS = [("sigma", [0, 0.05, 0.1]), ("stuck", [0, 0.01, 0.03])]
SUITE_TRIALS = 2
SUITE_INPUTS = 200
SUITE_STEPS = 50


def suite_curves(*, work=None, problems=None, sweeps=None, trials: int = SUITE_TRIALS, inputs: int = SUITE_INPUTS,
                 steps: int = SUITE_STEPS) -> list:
    """Accuracy of each suite problem's float IF network (golden.snn, its own input rate) against
    device spread and stuck devices (:func:`golden.variation.network_accuracy_vs_variation`)."""
    from golden.variation import network_accuracy_vs_variation
    from spintwin import suite

    work = Path(work) if work is not None else Path(__file__).resolve().parent.parent / "build" / "suite"
    out = []
    for spec in suite.load_problems(names=problems):
        (x_tr, y_tr), (x_te, y_te) = suite.problem_data(spec)
        desc, _ = suite.problem_network(spec, work, x_tr, y_tr, echo=lambda *_: None)
        n = min(inputs, len(x_te))
        for kind, values in (sweeps or SUITE_SWEEPS):
            t1 = time.perf_counter()
            r = network_accuracy_vs_variation(desc, x_te[:n], y_te[:n], kind, values, trials=trials, steps=steps,
                                              input_rate=spec["input_rate"])
            r.update(problem=spec["name"], data_source=spec["data_source"], seconds=time.perf_counter() - t1,
                     drop_1pt=drop_point(values, [a["mean"] for a in r["accuracy"]]))
            out.append(r)
    return out


def run(images: int = 500, trials: int = 3, *, plot_path: Path | str | None = "docs/variation.png",
        sweeps=None, suite: bool = True) -> dict:
    """Every curve of :data:`SWEEPS` (or ``sweeps``) and, with ``suite``, the suite's networks
    (:func:`suite_curves`); returns a JSON-ready dict (and plots it)."""
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
           "suite": suite_curves() if suite else [], "wall_s": time.perf_counter() - t0}
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
        extra = " | after STDP (%) | STDP gain over control (points) |" if retr else " |"
        gam = c["kind"] in ("gamma", "ir_drop")
        rows.append("| value | accuracy (%)" + extra + (" gamma mean / IR gamma mean |" if gam else ""))
        rows.append("|---|---|" + ("---|---|" if retr else "") + ("---|" if gam else ""))
        for i, v in enumerate(c["values"]):
            line = f"| {_fmt_value(v)} | {_acc(c['accuracy'][i])} |"
            if retr:
                g, se = _gain(c, i)
                line += f" {_acc(c['accuracy_retrained'][i])} | {g:+.1f} +- {se:.1f} |"
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
    rows += ["", "(Network 3 after STDP: against the unperturbed network given the same STDP images.)", "",
             _verdict(r), ""]
    if r.get("suite"):
        rows += _suite_markdown(r["suite"])
    return "\n".join(rows)


def _suite_markdown(curves) -> list:
    """The suite's networks against spread and stuck devices: one row per problem and kind."""
    c0 = curves[0]
    rows = ["**The suite's networks** (configs/suite.toml; golden float IF MLPs, "
            f"{c0['steps']} steps, the first {SUITE_INPUTS} test inputs or the whole smaller split, {c0['trials']} "
            "device draws per value; accuracy in % as mean +- Monte-Carlo SE):", "",
            "| problem | data source | perturbation | " + " | ".join("value / accuracy" for _ in c0["values"])
            + " | 1-point drop at |", "|---|---|---|" + "---|" * len(c0["values"]) + "---|"]
    for c in curves:
        cells = " | ".join(f"{_fmt_value(v)}: {_acc(a)}" for v, a in zip(c["values"], c["accuracy"]))
        d = c["drop_1pt"]
        at = f"{d:.3g}" if d is not None else f"> {_fmt_value(c['values'][-1])}"
        rows.append(f"| {c['problem']} | {c['data_source'].split(' (')[0]} | {c['kind']} ({UNITS[c['kind']]}) | "
                    f"{cells} | {at} (binomial SE {100 * c['binomial_se']:.1f}) |")
    return rows + [""]


def _verdict(r: dict) -> str:
    """The seed's two claims (end of section V) against the curves, every figure from ``r``."""
    by = {(c["network"], c["kind"]): c for c in r["curves"]}

    def at(net, kind, pct=False):
        c = by.get((net, kind))
        return "-" if c is None else _pt(c["drop_1pt"], c["values"], pct)

    text = ["**Verdict on the seed's claims** (end of section V: the algorithms are \"inherently resilient to "
            "reasonable approximations/errors in the neuron and synaptic units\", and unsupervised learning \"is "
            "expected to enable adaptive learning ... taking into account the inherent non-idealities\")."]
    if ("cnn-stochastic", "mtj_dispersion") in by:
        d = by[("cnn-stochastic", "mtj_dispersion")]["drop_1pt"]
        word = "resilient" if d is None or d >= 0.1 else "sensitive"
        text.append(f"*Neurons: {word}.* Network 2 loses 1 point only at a {at('cnn-stochastic', 'mtj_dispersion')} "
                    "relative spread of every neuron's I50 and sigmoid width.")
    if ("cnn-if", "sigma") in by and ("cnn-stochastic", "sigma") in by:
        worst = min((by[(n, "sigma")]["drop_1pt"] or math.inf) for n in ("cnn-if", "cnn-stochastic"))
        word = "not resilient" if worst < 0.05 else "tolerant"
        text.append(
            f"*Synapses of the converted CNNs: {word}.* Networks 1 / 2 lose 1 point at a conductance spread "
            f"of {at('cnn-if', 'sigma')} / {at('cnn-stochastic', 'sigma')} (sigma of ln G), "
            f"{at('cnn-if', 'stuck', True)} / {at('cnn-stochastic', 'stuck', True)} stuck devices, DW pinning of "
            f"{at('cnn-if', 'dw_pinning')} / {at('cnn-stochastic', 'dw_pinning')} notches (sigma) and a wire resistance "
            f"of {at('cnn-if', 'ir_drop')} / {at('cnn-stochastic', 'ir_drop')} ohm per segment (eq. 12 compensated); "
            f"uncompensated eq. 12 loading costs 1 point at a mean gamma of {at('cnn-if', 'gamma')} / "
            f"{at('cnn-stochastic', 'gamma')} (an IF neuron's rate scales with its column's gain, a sigmoid "
            "neuron's does not). The weights live on the difference of two devices whose OFF conductance is "
            "45 % of the ON one, so every device's spread lands on every weight, the many near-zero ones "
            "included (about sqrt(2) sigma g_min / (g_max - g_min) = 1.2 sigma of the layer's largest weight, "
            "against weights whose rms is a fraction of it). "
            "The IR drop is large because the DW neuron's input is a 157 ohm heavy metal: a 32-row tile's "
            "64 column segments of r ohm sit in series with it.")
    s3, st3 = by.get(("stdp", "sigma")), by.get(("stdp", "stuck"))
    if s3 and st3:
        g = [_gain(s3, i) for i in range(len(s3["values"]))]
        gs = [_gain(st3, i) for i in range(len(st3["values"]))]
        text.append(
            f"*Network 3 (binary devices, column-normalised)* loses 1 point at {at('stdp', 'sigma')} "
            f"spread and {at('stdp', 'stuck', True)} stuck. *On-line STDP:* "
            f"{s3['retrain_images']} more images of STDP on the perturbed "
            f"devices gain {g[-2][0]:+.1f} +- {g[-2][1]:.1f} and {g[-1][0]:+.1f} +- {g[-1][1]:.1f} points at spreads "
            f"{s3['values'][-2]:g} and {s3['values'][-1]:g} over what the same images do to the unperturbed network "
            f"({100 * (s3['accuracy_retrained'][0]['mean'] - s3['accuracy'][0]['mean']):+.1f} points), and "
            f"{gs[-2][0]:+.1f} +- {gs[-2][1]:.1f} / {gs[-1][0]:+.1f} +- {gs[-1][1]:.1f} at "
            f"{100 * st3['values'][-2]:g} / {100 * st3['values'][-1]:g} % stuck (recovery under the "
            "approximation of the module notes: within an image the winner's column reads ideal after its "
            "first update).")
    return " ".join(text)


def _gain(c: dict, i: int) -> tuple[float, float]:
    """STDP's gain at value i over the unperturbed control, points, and its SE (draws only)."""
    d = (c["accuracy_retrained"][i]["mean"] - c["accuracy"][i]["mean"]
         - (c["accuracy_retrained"][0]["mean"] - c["accuracy"][0]["mean"]))
    se = math.hypot(c["accuracy_retrained"][i]["se"], c["accuracy"][i]["se"])
    return 100 * d, 100 * se


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
