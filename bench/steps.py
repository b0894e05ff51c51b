"""Benchmark: fewer time steps for network 1's twin (issue 17), on the full MNIST test set.

Accuracy against time steps of the bit-accurate model (``quantize.snn``, what the RTL core
computes spike for spike) of ``cnn-if``'s twin for these options:

* (a) today's: max normalisation (percentile 100), input rate 0.5 (``quantize.core.trained_network``);
* (b) max normalisation, input rate 1.0;
* (c) percentile normalisation (99.9th and 99.99th, threshold balancing as
  ``golden.snn.normalise``) with input rate 1.0;
* (d) early decision (``quantize.early``) on each of them: the lossless rule (stop once the
  leader's lead exceeds the steps left: the prediction equals the full run's) at each step
  count, and margin rules (stop once the lead reaches M) at the longest.

Every accuracy comes with its binomial standard error on the images used; every point with the
mean cycles per image of today's core (``quantize.core.cycles_per_image`` from the measured event
counts, exact: the mean of ``cycles_exact``) and the images/s that gives at the core's routed
fmax (``core.json``'s, when present, else :data:`FMAX_MHZ_DEFAULT`). An early-decided image
costs the cycles of a run of its steps (the stop compare assumed to fit the step's closing cycle).
The operating point: the fewest cycles with accuracy >= :data:`TARGET` (and, more cautious, the
fewest whose 95 % interval's lower end is >= the target).

The CPU models' throughput in the same run: the bit-accurate model (``quantize.snn.run``, numpy,
batches of 250 images) and the float golden twin (``golden.snn.simulate_if`` on DW crossbars,
``spintwin.experiments.run_dw``'s network), each at 100 steps with one single-threaded process
per CPU core working on its own share of the images, all started together (a barrier):
images/s = images / (last finish - first start).

The sweep runs in chunks of :data:`CHUNK` images, each cached as ``steps-points/<key>.json`` in
the output folder (written atomically): an interrupted run resumes. Run:
``python -m bench.steps [--out DIR] [--quick]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

__all__ = ["run", "markdown", "OPTIONS", "CHECKPOINTS", "MARGINS", "TARGET"]

#: Option name -> (label, normalisation percentile, input rate); all of cnn-if's twin, 100 steps.
OPTIONS = {
    "max-rate0.5": ("(a) max normalisation, input rate 0.5 (today's)", 100.0, 0.5),
    "max-rate1": ("(b) max normalisation, input rate 1.0", 100.0, 1.0),
    "p99.9-rate1": ("(c) 99.9th percentile, input rate 1.0", 99.9, 1.0),
    "p99.99-rate1": ("(c) 99.99th percentile, input rate 1.0", 99.99, 1.0),
}
#: Step counts reported (the run goes to the last; a shorter run is a prefix of it).
CHECKPOINTS = (8, 12, 16, 20, 25, 32, 40, 50, 64, 80, 100)
#: Margins M of the lossy early-decision rule (at the longest run).
MARGINS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20)
#: Step counts at which the lossless early decision is reported.
LOSSLESS_AT = (25, 32, 40, 50, 64, 80, 100)
#: Accuracy the operating point must reach (the seed's network 1 figure).
TARGET = 0.985
#: Images per cached chunk.
CHUNK = 500
#: Routed fmax used when the output folder has no core.json (the pipelined cnn-if core, ECP5-85F).
FMAX_MHZ_DEFAULT = 95.238
NETWORK = "cnn-if"
_VERSION = 1     # bumped when a chunk's contents change


def _net(option: str, steps: int):
    """The bit-accurate twin of cnn-if for an option."""
    from golden import network as nw
    from golden import snn
    from quantize import snn as q

    _, pct, rate = OPTIONS[option]
    network = nw.from_weights(NETWORK, snn.normalised_cnn(pct)[0])
    return q.build_network(network, q.QuantConfig(kind=nw.KIND_OF[NETWORK], input_rate=rate, steps=steps, seed=1))


def _at_steps(net, steps: int):
    """``net`` with ``steps`` time steps (the cycle model reads ``net.cfg.steps``)."""
    return replace(net, cfg=replace(net.cfg, steps=int(steps)))


def _rules(steps: int) -> list[tuple[str, int, int | None]]:
    """(name, T, margin) of the early-decision rules reported."""
    out = [(f"lossless@{t}", t, None) for t in sorted({t for t in LOSSLESS_AT if t <= steps} | {steps})]
    return out + [(f"margin{m}@{steps}", steps, m) for m in MARGINS]


def _chunk(net, x, y, lo: int) -> dict:
    """One chunk's figures: correct decisions at every step, events at every checkpoint, and
    per early-decision rule its correct decisions, steps used, cycles and agreement."""
    from quantize.core import cycles_per_image
    from quantize.early import early_decision, record_steps

    steps = net.cfg.steps
    t0 = time.perf_counter()
    rec = record_steps(net, x, first_image=lo)
    seconds = time.perf_counter() - t0
    correct = (rec.pred == y[None]).sum(axis=1)
    cps = [c for c in CHECKPOINTS if c <= steps]
    events = {str(c): rec.totals(c) for c in cps}
    nets = {}
    early = {}
    for name, total, margin in _rules(steps):
        pred, stop, decided = early_decision(rec, total, margin)
        cyc = 0.0
        for s in np.unique(stop):   # images stopping after step s cost a run of s steps
            sel = stop == s
            n = int(sel.sum())
            ev = {k: v / n for k, v in rec.totals(int(s), sel).items()}
            net_s = nets.setdefault(int(s), _at_steps(net, int(s)))
            cyc += n * cycles_per_image(net_s, ev)
        early[name] = {"steps": total, "margin": margin, "correct": int((pred == y).sum()),
                       "agree_full": int((pred == rec.pred[total - 1]).sum()), "decided": int(decided.sum()),
                       "steps_used": int(stop.sum()), "cycles": cyc}
    return {"images": len(x), "seconds": seconds, "correct": correct.tolist(), "events": events, "early": early}


def _key(option: str, steps: int, lo: int, hi: int) -> str:
    blob = json.dumps({"option": OPTIONS[option], "steps": steps, "lo": lo, "hi": hi, "version": _VERSION,
                       "checkpoints": CHECKPOINTS, "margins": MARGINS, "lossless": LOSSLESS_AT}, sort_keys=True)
    return f"{option}-{lo}-{hi}-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def _se(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


def _option(option: str, x, y, cache: Path, steps: int, fmax_mhz: float, echo) -> dict:
    """Figures of one option over all images, from cached or freshly run chunks."""
    from quantize.core import cycles_per_image
    from spinbase.fileio import atomic_write_json

    net = _net(option, steps)
    parts = []
    for lo in range(0, len(x), CHUNK):
        hi = min(len(x), lo + CHUNK)
        path = cache / (_key(option, steps, lo, hi) + ".json")
        if path.is_file():
            parts.append(json.loads(path.read_text()))
            continue
        part = _chunk(net, x[lo:hi], y[lo:hi], lo)
        atomic_write_json(path, part)
        parts.append(part)
        if echo:
            echo(f"steps: {option} images {lo}..{hi - 1} ({part['seconds']:.1f} s)")
    n = sum(p["images"] for p in parts)
    acc_all = (np.sum([p["correct"] for p in parts], axis=0) / n).tolist()
    curve = []
    for c in (c for c in CHECKPOINTS if c <= steps):
        ev = {k: sum(p["events"][str(c)][k] for p in parts) / n for k in parts[0]["events"][str(c)]}
        cyc = cycles_per_image(_at_steps(net, c), ev)
        a = acc_all[c - 1]
        curve.append({"steps": c, "accuracy": a, "accuracy_se": _se(a, n), "cycles_per_image": cyc,
                      "images_per_s": fmax_mhz * 1e6 / cyc, "events_per_image": ev})
    early = []
    for name, _, _ in _rules(steps):     # in the rules' order (a cached chunk's keys are sorted)
        e0 = parts[0]["early"][name]
        tot = {k: sum(p["early"][name][k] for p in parts) for k in ("correct", "agree_full", "decided", "steps_used",
                                                                      "cycles")}
        a = tot["correct"] / n
        cyc = tot["cycles"] / n
        early.append({"rule": name, "steps": e0["steps"], "margin": e0["margin"], "accuracy": a,
                      "accuracy_se": _se(a, n), "mean_steps": tot["steps_used"] / n,
                      "decided_fraction": tot["decided"] / n, "agreement_with_full": tot["agree_full"] / n,
                      "cycles_per_image": cyc, "images_per_s": fmax_mhz * 1e6 / cyc})
    seconds = sum(p["seconds"] for p in parts)
    label, pct, rate = OPTIONS[option]
    return {"label": label, "percentile": pct, "input_rate": rate, "steps": steps, "images": n,
            "accuracy_per_step": acc_all, "curve": curve, "early": early,
            "model_seconds": seconds, "model_images_per_s_one_process": n / seconds if seconds else None}


def _operating_points(options: dict) -> dict:
    """The fewest cycles per image with accuracy >= TARGET (point estimate; and with the 95 %
    interval's lower end >= TARGET), over every option's fixed-step and early-decision points."""
    pts = []
    for name, o in options.items():
        for c in o["curve"]:
            pts.append({"option": name, "rule": f"fixed@{c['steps']}", **{k: c[k] for k in (
                "steps", "accuracy", "accuracy_se", "cycles_per_image", "images_per_s")}, "mean_steps": c["steps"]})
        for e in o["early"]:
            pts.append({"option": name, **{k: e[k] for k in ("rule", "steps", "accuracy", "accuracy_se",
                                                              "cycles_per_image", "images_per_s", "mean_steps")}})
    for p in pts:
        p["ci95_low"] = p["accuracy"] - 1.96 * p["accuracy_se"]
    ok = [p for p in pts if p["accuracy"] >= TARGET]
    safe = [p for p in pts if p["ci95_low"] >= TARGET]
    best = min(ok, key=lambda p: p["cycles_per_image"]) if ok else None
    cautious = min(safe, key=lambda p: p["cycles_per_image"]) if safe else None
    return {"target": TARGET, "chosen": best, "cautious": cautious}


def _cpu_worker(model: str, lo: int, hi: int, barrier, queue) -> None:
    """One process of the CPU throughput measurement: build, wait for the others, time."""
    from golden.cnn import blas_single_thread
    from spinbase.data import load_mnist

    _, (xs, ys) = load_mnist()
    x, y = xs[lo:hi], ys[lo:hi]
    if model == "bit-accurate":
        from quantize.core import trained_network
        from quantize.snn import run as qrun

        net = trained_network(NETWORK)

        def work():
            qrun(net, x, first_image=lo)
    else:
        from golden import snn

        w = snn.normalised_cnn(100.0)[0]
        layers = snn.dw_layers(w, snn.DW_CONFIG)

        def work():
            snn.simulate_if(w, x, y, steps=100, input_rate=0.5, layers=layers)
    barrier.wait()
    with blas_single_thread():
        t0 = time.monotonic()
        work()
        queue.put((t0, time.monotonic(), hi - lo))


def cpu_images_per_s(model: str, images: int, workers: int | None = None) -> dict:
    """Images/s of a CPU model of cnn-if's twin at 100 steps with ``workers`` processes (default:
    every CPU core), each single-threaded on its share of the first ``images`` test images;
    ``model``: ``"bit-accurate"`` (quantize.snn) or ``"golden"`` (golden.snn on DW crossbars)."""
    import multiprocessing as mp

    workers = workers or os.cpu_count() or 1
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(workers), ctx.Queue()
    cuts = np.linspace(0, images, workers + 1).astype(int)
    procs = [ctx.Process(target=_cpu_worker, args=(model, int(cuts[j]), int(cuts[j + 1]), barrier, queue))
             for j in range(workers)]
    for p in procs:
        p.start()
    got = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    wall = max(g[1] for g in got) - min(g[0] for g in got)
    return {"model": model, "images": images, "steps": 100, "workers": workers, "seconds": wall,
            "images_per_s": images / wall}


def _fmax(out_dir: Path) -> tuple[float, str]:
    """Routed fmax of cnn-if's core on the ECP5-85F from the core benchmark's JSON, if present."""
    p = out_dir / "core.json"
    try:
        f = json.loads(p.read_text())["synth"][NETWORK]["ecp5-85f"]["fmax_mhz"]
        if f:
            return float(f), "core.json"
    except (OSError, KeyError, TypeError, ValueError):
        pass
    return FMAX_MHZ_DEFAULT, "default"


def run(out_dir="bench/results", quick: bool = False, echo=print) -> dict:
    """Run the benchmark and write ``steps.json`` in ``out_dir`` (atomically); returns its dict.

    ``quick``: the first 500 test images and 200 for the CPU timing (a check, not the figures)."""
    from spinbase.data import load_mnist
    from spinbase.fileio import atomic_write_json

    out_dir = Path(out_dir)
    cache = out_dir / "steps-points"
    cache.mkdir(parents=True, exist_ok=True)
    _, (xs, ys) = load_mnist()
    n = 500 if quick else len(xs)
    x, y = xs[:n], ys[:n]
    fmax, fmax_src = _fmax(out_dir)
    steps = max(CHECKPOINTS)
    t0 = time.perf_counter()
    options = {o: _option(o, x, y, cache, steps, fmax, echo) for o in OPTIONS}
    cpu_n = 200 if quick else 1000
    cpu = {m: cpu_images_per_s(m, cpu_n) for m in ("bit-accurate", "golden")}
    res = {"benchmark": "steps", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "cores": os.cpu_count(), "load_average_before": list(os.getloadavg()), "network": NETWORK, "images": n, "quick": quick, "target": TARGET,
           "fmax_mhz": fmax, "fmax_source": fmax_src, "options": options,
           "operating_point": _operating_points(options), "cpu": cpu, "seconds": time.perf_counter() - t0}
    best = res["operating_point"]["chosen"]
    if best:
        res["operating_point"]["speedup_vs_cpu_bit_accurate"] = best["images_per_s"] / cpu["bit-accurate"]["images_per_s"]
        res["operating_point"]["speedup_vs_cpu_golden"] = best["images_per_s"] / cpu["golden"]["images_per_s"]
    atomic_write_json(out_dir / "steps.json", res)
    return res


def markdown(r: dict) -> str:
    """The BENCHMARKS.md section of a :func:`run` result."""
    f = r["fmax_mhz"]
    rows = ["## Fewer time steps: network 1's twin (cnn-if), accuracy against steps and cycles", "",
            f"Bit-accurate model (= the RTL core) on {r['images']:,} MNIST test images; accuracy +- its binomial "
            f"standard error; cycles per image of today's core from the measured event counts "
            f"(quantize.core.cycles_per_image); images/s at {f:.1f} MHz ({r['fmax_source']}).", "",
            "| option | steps | accuracy (%) | cycles / image | images/s |", "|---|---|---|---|---|"]
    for o in r["options"].values():
        for c in o["curve"]:
            rows.append(f"| {o['label']} | {c['steps']} | {100 * c['accuracy']:.2f} +- {100 * c['accuracy_se']:.2f} | "
                        f"{c['cycles_per_image']:,.0f} | {c['images_per_s']:,.0f} |")
    rows += ["", "Early decision (lossless: stop once the lead exceeds the steps left; marginM: once the lead "
                 "reaches M):", "",
             "| option | rule | mean steps | accuracy (%) | agrees with full run (%) | cycles / image | images/s |",
             "|---|---|---|---|---|---|---|"]
    for o in r["options"].values():
        for e in o["early"]:
            rows.append(f"| {o['label']} | {e['rule']} | {e['mean_steps']:.1f} | {100 * e['accuracy']:.2f} +- "
                        f"{100 * e['accuracy_se']:.2f} | {100 * e['agreement_with_full']:.2f} | "
                        f"{e['cycles_per_image']:,.0f} | {e['images_per_s']:,.0f} |")
    op = r["operating_point"]
    for what, p in (("Operating point (fewest cycles at >= {t} %)", op["chosen"]),
                    ("Cautious (95 % interval's lower end >= {t} %)", op["cautious"])):
        title = what.format(t=100 * op["target"])
        if p:
            rows += ["", f"{title}: {r['options'][p['option']]['label']}, {p['rule']} ({p['mean_steps']:.1f} mean "
                         f"steps): {100 * p['accuracy']:.2f} +- {100 * p['accuracy_se']:.2f} % (95 % interval from "
                         f"{100 * p['ci95_low']:.2f} %), {p['cycles_per_image']:,.0f} cycles, "
                         f"{p['images_per_s']:,.0f} images/s."]
        else:
            rows += ["", f"{title}: none of the points."]
    c = r["cpu"]
    rows += ["", f"CPU models in the same run ({c['bit-accurate']['workers']} processes, 100 steps): bit-accurate "
                 f"{c['bit-accurate']['images_per_s']:,.1f} images/s, float golden twin "
                 f"{c['golden']['images_per_s']:,.1f} images/s."]
    if op.get("speedup_vs_cpu_bit_accurate"):
        rows[-1] += (f" The operating point on the core is {op['speedup_vs_cpu_bit_accurate']:.1f}x the bit-accurate "
                     f"model and {op['speedup_vs_cpu_golden']:.1f}x the golden.")
    return "\n".join(rows + [""])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.steps", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--quick", action="store_true", help="500 test images (a check)")
    args = ap.parse_args(argv)
    r = run(args.out, args.quick)
    print(markdown(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
