"""Experiment runners and their command lines: MNIST in, figures out, as JSON.

golden/ and quantize/ take arrays and return arrays; the runs that load a data set, train or
load weights and report figures live here, in the flow (DESIGN.md section 1):

* ``python -m spintwin.experiments snn --network cnn-if|cnn-dw|cnn-stochastic --images N``:
  networks 1 and 2 of the seed on the golden models (:func:`run_if`, :func:`run_dw`,
  :func:`run_stochastic`);
* ``python -m spintwin.experiments stdp --neurons 225 --variant binary|dw|ltst``: network 3,
  golden (:func:`golden.stdp_network.run_experiment`);
* ``python -m spintwin.experiments quant-stdp --neurons N``: network 3, bit-accurate
  (:func:`quantize.stdp.run_experiment`);
* ``fit-mtj-neuron`` and ``fit-volatile``: refit the device constants of golden.neurons and
  golden.stdp (minutes of Monte Carlo) and print them as code to paste.

Each prints its figures as JSON and exits 0, or prints one ``error: ...`` line and exits 2 on a
user error (:func:`spinbase.errors.json_cli`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from golden import cnn, snn
from spinbase.errors import json_cli

__all__ = ["run_if", "run_dw", "run_stochastic", "jsonable", "snn_main", "stdp_main", "quant_stdp_main",
           "fit_mtj_main", "fit_volatile_main", "main"]


def jsonable(x):
    """Plain JSON types: dataclasses as dicts, arrays as lists, anything else as its text."""
    import dataclasses

    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return jsonable(dataclasses.asdict(x))
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.integer, np.floating)):
        return x.item()
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    return str(x)


# Networks 1 and 2 (golden.snn) --------------------------------------------------------------------
def _subset(images, data):
    if data is None:
        from spinbase.data import load_mnist

        data = load_mnist()
    (xt, yt), (xs, ys) = data
    if isinstance(images, bool) or int(images) != images or not 1 <= images <= len(xs):
        raise ValueError(f"images must be an integer in 1..{len(xs)}, not {images!r}")
    return xt, (xs[:images], ys[:images])


def _figures(res: dict, ann_pred, y, extra: dict) -> dict:
    out = {k: v for k, v in res.items() if k != "predictions"}
    n = len(y)
    out["accuracy"] = {str(t): a for t, a in res["accuracy"].items()}
    out["accuracy_se"] = {str(t): math.sqrt(a * (1 - a) / n) for t, a in res["accuracy"].items()}
    out["agreement_with_ann"] = {str(t): float(np.mean(p == ann_pred)) for t, p in res["predictions"].items()}
    out["ann_accuracy"] = float(np.mean(ann_pred == y))
    out.update(extra)
    return out


def run_if(images: int = 10000, *, steps: int = 200, checkpoints=(25, 50, 100, 150), encoding: str = "deterministic",
           input_rate: float = 1.0, percentile: float = 99.9, norm_images: int = 10000, seed: int = 0, data=None,
           dw: snn.DwCrossbarConfig | None = None, progress=None) -> dict:
    """Network 1 with float weights and IF neurons on the first ``images`` MNIST test images.

    The ReLU CNN comes from :func:`golden.snn.normalised_cnn` (cached weights, normalised on
    the first ``norm_images`` training images). ``dw`` maps the network onto DW crossbars
    (:func:`golden.snn.dw_layers`). Returns a JSON-ready dict: ``accuracy`` and its binomial standard
    error per time-step count, ``agreement_with_ann``, ``ann_accuracy``, ``events`` per layer
    per image, ``scales`` (lambda per layer), ``seconds``, and with ``dw`` the ``crossbar``
    sizing (gamma, write durations, arrays per layer).
    """
    _, (x, y) = _subset(images, data)
    weights, scales, params, record = snn.normalised_cnn(percentile, norm_images=norm_images, data=data)
    ann_pred = cnn.predict_logits(params, x).argmax(axis=1)
    layers = None if dw is None else snn.dw_layers(weights, dw)
    res = snn.simulate_if(weights, x, y, steps=steps, checkpoints=checkpoints, encoding=encoding, rng=seed,
                      input_rate=input_rate, layers=layers, progress=progress)
    extra = {"network": "cnn-if" if dw is None else "cnn-dw", "percentile": percentile, "input_rate": input_rate,
             "scales": scales, "weights": record["config_hash"]}
    if layers is not None:
        extra["crossbar"] = {k: layers[k] for k in ("layers", "config", "g_min_S", "g_max_S", "g_s_S")}
    return _figures(res, ann_pred, y, extra)


def run_dw(images: int = 10000, *, steps: int = 200, checkpoints=(25, 50, 100, 150),
           config: snn.DwCrossbarConfig = snn.DW_CONFIG, input_rate: float = 0.5, percentile: float = 100.0,
           **kw) -> dict:
    """Network 1 on DW crossbars; otherwise as :func:`run_if`.

    Defaults differ from the float network where the DW neuron asks for it: the wall is
    pinned at the far edge, so the charge beyond the threshold is lost at each spike (reset
    to a position, not by subtraction); max normalisation (percentile 100) and half-rate input
    keep per-step inputs small, at the price of more steps.
    """
    return run_if(images, steps=steps, checkpoints=checkpoints, input_rate=input_rate, percentile=percentile,
                  dw=config, **kw)


def run_stochastic(images: int = 10000, *, steps: int = 50, checkpoints=(10, 20, 30, 40), encoding: str = "poisson",
                   seed: int = 0, data=None, config: cnn.CnnConfig = cnn.SIGMOID_CONFIG, progress=None) -> dict:
    """Network 2: the sigmoid CNN with stochastic MTJ neurons; figures as :func:`run_if`.

    ``ann_accuracy`` is the noise-free sigmoid ANN's, ``moment_accuracy`` that of the
    spike-noise model the weights were trained on (:func:`golden.cnn.moment_forward`).
    """
    _, (x, y) = _subset(images, data)
    params, record = cnn.train_cnn(config, data=data)
    ann_pred = cnn.predict_logits(params, x, "sigmoid").argmax(axis=1)
    mom = cnn.moment_logits(params, x)
    res = snn.simulate_stochastic(params, x, y, steps=steps, checkpoints=checkpoints, encoding=encoding, rng=seed,
                              progress=progress)
    return _figures(res, ann_pred, y, {"network": "cnn-stochastic", "weights": record["config_hash"],
                                       "moment_accuracy": float(np.mean(mom.argmax(axis=1) == y))})


# Command lines -------------------------------------------------------------------------------------
_PROG = "python -m spintwin.experiments"


def _set_values(val: str) -> tuple:
    """A ``--set FIELD=VALUE`` value: a JSON list's items, else floats, else the bare words."""
    try:
        return tuple(json.loads(f"[{val}]"))
    except json.JSONDecodeError:  # bare words ("direct") or inf
        try:
            return tuple(float(v) for v in val.split(","))
        except ValueError:
            return tuple(val.split(","))


def snn_main(argv=None) -> int:
    """``snn --network cnn-if|cnn-dw|cnn-stochastic --images N``: print figures as JSON."""
    ap = argparse.ArgumentParser(prog=f"{_PROG} snn", description="Networks 1 and 2 of the seed on MNIST (golden.snn).")
    ap.add_argument("--network", choices=("cnn-if", "cnn-dw", "cnn-stochastic"), default="cnn-if")
    ap.add_argument("--images", type=int, default=10000, help="first N MNIST test images")
    ap.add_argument("--steps", type=int, default=None, help="time steps (default 200; 50 stochastic)")
    ap.add_argument("--encoding", choices=("deterministic", "poisson"), default=None)
    ap.add_argument("--input-rate", type=float, default=None,
                    help="spikes per step of a white pixel (default 1; 0.5 for cnn-dw)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args(argv)

    def progress(done, total):
        if not args.quiet:
            print(f"{args.network}: {done}/{total} images", file=sys.stderr, flush=True)

    def compute():
        if args.network == "cnn-stochastic":
            steps = args.steps or 50
            return run_stochastic(args.images, steps=steps, encoding=args.encoding or "poisson", seed=args.seed,
                                  checkpoints=[t for t in (10, 20, 30, 40) if t < steps], progress=progress)
        steps = args.steps or 200
        fn = run_if if args.network == "cnn-if" else run_dw
        kw = {} if args.input_rate is None else {"input_rate": args.input_rate}
        return fn(args.images, steps=steps, checkpoints=[t for t in (25, 50, 100, 150) if t < steps],
                  encoding=args.encoding or "deterministic", seed=args.seed, progress=progress, **kw)

    return json_cli(compute, (ValueError, FileNotFoundError))


def _stdp_parser(name: str, description: str, set_help: str, seed_help: str | None = None):
    from golden.stdp_network import VARIANTS

    ap = argparse.ArgumentParser(prog=f"{_PROG} {name}", description=description)
    ap.add_argument("--neurons", type=int, default=225)
    ap.add_argument("--variant", choices=VARIANTS, default="binary")
    ap.add_argument("--train", type=int, default=60000, help="training presentations")
    ap.add_argument("--test", type=int, default=10000, help="test images")
    ap.add_argument("--label", type=int, default=None, help="labelling images (default min(train, 10000))")
    ap.add_argument("--seed", type=int, default=0, help=seed_help)
    ap.add_argument("--checkpoints", type=str, default="",
                    help="comma list of training counts to evaluate at as well")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help=set_help)
    return ap


def _progress(quiet: bool):
    def progress(phase, done, total):
        if not quiet:
            print(f"{phase}: {done}/{total}", file=sys.stderr, flush=True)

    return progress


def stdp_main(argv=None) -> int:
    """``stdp --neurons 225 --variant binary --train N --test M``: network 3, golden; JSON."""
    from golden.stdp_network import StdpConfig, run_experiment

    ap = _stdp_parser("stdp", "Network 3 of the seed: unsupervised STDP on MNIST (golden.stdp_network).",
                      "override a StdpConfig field (tuples as comma lists), repeatable")
    ap.add_argument("--save", default=None, metavar="PATH", help="write the trained network (.npz)")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args(argv)
    overrides = {}
    for item in args.set:
        name, _, val = item.partition("=")
        if name not in StdpConfig.__dataclass_fields__:
            print(f"error: unknown StdpConfig field {name!r}", file=sys.stderr)
            return 2
        vals = _set_values(val)
        overrides[name] = vals if isinstance(getattr(StdpConfig, name), tuple) else vals[0]
    return json_cli(lambda: run_experiment(
        args.neurons, args.variant, args.train, args.test, args.seed, label_images=args.label,
        progress=_progress(args.quiet), checkpoints=[int(c) for c in args.checkpoints.split(",") if c],
        save=args.save, **overrides))


def quant_stdp_main(argv=None) -> int:
    """``quant-stdp --neurons N --train N --test M``: network 3, bit-accurate; JSON."""
    from golden.stdp_network import StdpConfig
    from quantize.stdp import QuantStdpConfig, run_experiment

    ap = _stdp_parser("quant-stdp", "Network 3 on the bit-accurate STDP model (quantize.stdp).",
                      "QuantStdpConfig or StdpConfig field (tuples as comma lists), repeatable",
                      "image order and LFSR master seed")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args(argv)
    overrides = {}
    for item in args.set:
        name, _, val = item.partition("=")
        try:
            vals = tuple(json.loads(f"[{val}]"))
        except json.JSONDecodeError:
            vals = (val,)
        default = getattr(StdpConfig, name, getattr(QuantStdpConfig, name, None))
        overrides[name] = vals if isinstance(default, tuple) else vals[0]
    return json_cli(lambda: run_experiment(
        args.neurons, args.variant, args.train, args.test, args.seed, label_images=args.label,
        progress=_progress(args.quiet), checkpoints=[int(c) for c in args.checkpoints.split(",") if c],
        **overrides))


def fit_mtj_main(argv=None) -> int:  # pragma: no cover - minutes of Monte Carlo
    """``fit-mtj-neuron``: refit golden.neurons' I50_FIT, WIDTH_FIT, ... and print them as code."""
    from golden.neurons import fit_sigmoid, fit_switching_curve

    argparse.ArgumentParser(prog=f"{_PROG} fit-mtj-neuron", description=fit_mtj_main.__doc__).parse_args(argv)
    lin = fit_switching_curve()
    log = fit_sigmoid(lin.currents, lin.probability, lin.trials, form="log")
    dof = lin.currents.size - 2
    for fit, tag in ((lin, ""), (log, "_LOG")):
        print(f"I50{tag}_FIT: float = {fit.i50:.5g}\nWIDTH{tag}_FIT: float = {fit.width:.5g}\n"
              f"I50{tag}_SE: float = {fit.i50_se:.2g}\nWIDTH{tag}_SE: float = {fit.width_se:.2g}\n"
              f"# chi2 = {fit.chi2:.2f} for {dof} degrees of freedom")
    for i, p, se in zip(lin.currents, lin.probability, lin.stderr):
        print(f"  {i * 1e6:6.1f} uA: P = {p:.4f} +- {se:.4f}   linear {float(lin(i)):.4f}   log {float(log(i)):.4f}")
    return 0


def fit_volatile_main(argv=None) -> int:  # pragma: no cover - minutes of Monte Carlo
    """``fit-volatile``: refit golden.stdp's VOLATILE_U50, VOLATILE_WIDTH, VOLATILE_TAU; print them as code."""
    from golden.stdp import calibrate_volatile, train_ltp_probability

    argparse.ArgumentParser(prog=f"{_PROG} fit-volatile", description=fit_volatile_main.__doc__).parse_args(argv)
    fit = calibrate_volatile()
    print(f"VOLATILE_U50: float = {fit.u50:.5g}\nVOLATILE_WIDTH: float = {fit.width:.5g}\n"
          f"VOLATILE_TAU: float = {fit.tau:.5g}\n# SE: {fit.u50_se:.2g}, {fit.width_se:.2g}, {fit.tau_se:.2g}; "
          f"chi2 = {fit.chi2:.2f} for {len(fit.trains) - 3} degrees of freedom")
    for (s, n), p, se in zip(fit.trains, fit.probability, fit.stderr):
        q = train_ltp_probability(s, n, u50=fit.u50, width=fit.width, tau=fit.tau)
        print(f"  {n} pulses at {s * 1e9:.1f} ns: golden P_LTP = {p:.4f} +- {se:.4f}   model {q:.4f}")
    return 0


_COMMANDS = {"snn": snn_main, "stdp": stdp_main, "quant-stdp": quant_stdp_main, "fit-mtj-neuron": fit_mtj_main,
             "fit-volatile": fit_volatile_main}


def main(argv=None) -> int:
    """``python -m spintwin.experiments {snn|stdp|quant-stdp} [options]``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in _COMMANDS:
        print(f"usage: {_PROG} {{{'|'.join(_COMMANDS)}}} [options] (--help after a command lists them)",
              file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    return _COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
