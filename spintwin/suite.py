"""The seed's system-level suite (section V.3, Fig. 11; Ref. 129): six recognition problems on
the tiled All-Spin architecture against the CMOS baseline (``spintwin suite --out DIR``).

The problems are configs (``configs/suite.toml``, :func:`load_problems`): per problem a data
set (spinbase.data; where the problem's own data is not shipped by any wheel, the nearest
shipped set through a ``transform``, named in ``data_source``) and an MLP topology. For each:

1. train the ReLU MLP in numpy (:func:`golden.mlp.train_mlp`), normalise it for threshold-1 IF
   neurons (:func:`golden.mlp.normalise_mlp`, 99.9th percentile) and cache the description under
   ``DIR/weights/`` (:func:`golden.network.save`);
2. run the first ``inputs`` test inputs through the float ANN (``acc_float``), the bit-accurate
   twin (``quantize.snn`` kind ``twin-if``: DW crossbars in 32-row tiles with eq. 12 scaling, DW
   IF neurons) and the CMOS baseline (kind ``cmos-if``: 8-bit SRAM weights, adder + comparator
   IF neurons), each with its own measured spike counts;
3. price the twin's events on the tiled chip (:func:`golden.tiles.spin_system`, 32 x 32 tiles,
   time multiplexing and global control) and the baseline's on the SRAM + core
   (:func:`golden.tiles.cmos_system`, SRAM sized to the weights), with the Fig. 11(a) profile.

``DIR/suite.json`` (atomic) is a list with one entry per problem: ``name``, ``data_source``,
``synapses``, ``neurons``, ``acc_float``, ``acc_twin``, ``acc_cmos``, ``energy_spin_J``,
``energy_cmos_J``, ``latency_spin_s``, ``latency_cmos_s``, ``energy_ratio``, ``latency_ratio``,
``cmos_profile`` (J and shares of memory access, leakage, compute) and details (topology,
tiles and schedule, components, accuracies' standard errors, timings). Each finished problem is
also written to ``DIR/problems/<name>.json`` with a key of its spec and the run's settings: a
rerun reuses it (resume). Plots (matplotlib Agg): ``fig11a_profile.png``,
``fig11b_energy.png`` and ``fig11c_speedup.png`` (ratios against synapses, with the seed's bands).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np

from spinbase.errors import SpintwinError
from spinbase.fileio import atomic_savefig, atomic_write_json, prepare_out_dir

__all__ = ["DEFAULT_INPUTS", "SEED_ENERGY_RANGE", "SEED_SPEEDUP_RANGE", "SEED_SYNAPSES", "SEED_NEURONS",
           "TRANSFORMS", "load_problems", "problem_data", "problem_network", "run_problem", "run_suite", "plot_suite"]

#: Test inputs per problem by default (IRIS's test split has 30: all of them).
DEFAULT_INPUTS = 200
#: The seed's figures (section V.3): energy improvement, speed-up, synapse and neuron ranges.
SEED_ENERGY_RANGE = (204.0, 2759.0)
SEED_SPEEDUP_RANGE = (3.0, 665.0)
SEED_SYNAPSES = (10e3, 7.4e6)
SEED_NEURONS = (195, 9.2e3)
#: Spec fields: name -> type (all required).
_FIELDS = {"name": str, "title": str, "dataset": str, "transform": str, "data_source": str, "hidden": list,
           "classes": int, "epochs": int, "lr": float, "batch": int, "train_samples": int, "steps": int,
           "input_rate": float, "why": str}
#: Bump when the outputs' meaning changes (invalidates finished problems in DIR).
_VERSION = 1


def _upsample4(x):
    return np.kron(np.asarray(x, np.float32), np.ones((1, 4, 4), np.float32))


def _pad32rgb(x):
    x = np.pad(np.asarray(x, np.float32), ((0, 0), (2, 2), (2, 2)))
    return np.repeat(x[..., None], 3, axis=-1)


#: Data transforms a problem may name: nearest shipped data -> the problem's input shape.
TRANSFORMS = {"none": lambda x: np.asarray(x, np.float32), "upsample4": _upsample4, "pad32rgb": _pad32rgb}


def _config_path() -> Path:
    try:
        from importlib import resources

        found = resources.files("spintwin.configs") / "suite.toml"
        if found.is_file():
            return Path(str(found))
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "configs" / "suite.toml"


def _check(spec: dict, where: str) -> dict:
    missing = [k for k in _FIELDS if k not in spec]
    if missing:
        raise SpintwinError(f"{where}: problem {spec.get('name', '?')!r} lacks {', '.join(missing)}")
    out = dict(spec)
    for k, t in _FIELDS.items():
        v = spec[k]
        if t is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, t) or isinstance(v, bool):
            raise SpintwinError(f"{where}: problem {spec['name']!r}: {k} must be {t.__name__}, not {v!r}")
        out[k] = v
    if out["transform"] not in TRANSFORMS:
        raise SpintwinError(f"{where}: problem {out['name']!r}: transform must be one of {', '.join(TRANSFORMS)}")
    if not out["hidden"] or not all(isinstance(h, int) and h >= 1 for h in out["hidden"]):
        raise SpintwinError(f"{where}: problem {out['name']!r}: hidden must be a list of widths >= 1")
    for k in ("classes", "epochs", "batch", "steps"):
        if out[k] < 1:
            raise SpintwinError(f"{where}: problem {out['name']!r}: {k} must be >= 1, not {out[k]}")
    if not 0 < out["input_rate"] <= 1 or not out["lr"] > 0 or out["train_samples"] < 0:
        raise SpintwinError(f"{where}: problem {out['name']!r}: input_rate in (0, 1], lr > 0, train_samples >= 0")
    return out


def load_problems(path=None, names=None) -> list[dict]:
    """The problem specs of a suite TOML (default ``configs/suite.toml``), checked; ``names``
    keeps those problems (in the file's order)."""
    import tomllib

    path = Path(path) if path is not None else _config_path()
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise SpintwinError(f"{path}: cannot read the suite ({e})") from None
    specs = [_check(p, str(path)) for p in doc.get("problem", [])]
    if names:
        known = {p["name"] for p in specs}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise SpintwinError(f"problem(s) {', '.join(unknown)} not in the suite ({', '.join(sorted(known))})")
        specs = [p for p in specs if p["name"] in names]
    return specs


def problem_data(spec: dict):
    """``((x_train, y_train), (x_test, y_test))`` of a problem: its data set through its transform,
    ``x`` float32 in [0, 1] shaped (N, H, W[, C]) or (N, F)."""
    from spinbase.data import load_dataset

    (x_tr, y_tr), (x_te, y_te), _ = load_dataset(spec["dataset"])
    f = TRANSFORMS[spec["transform"]]
    if int(max(y_tr.max(), y_te.max())) + 1 > spec["classes"]:
        raise SpintwinError(f"problem {spec['name']!r}: data set {spec['dataset']!r} has more classes than the "
                            f"network's {spec['classes']}")
    return (f(x_tr), np.asarray(y_tr)), (f(x_te), np.asarray(y_te))


def _input_shape(x) -> tuple:
    from spinbase.data import sample_shape

    return sample_shape(x)


def _train(spec: dict, x, y):
    """Train, normalise: the normalised parameters and the training facts."""
    import inspect

    from golden import mlp

    n = spec["train_samples"] or len(x)
    xt, yt = x[:n], y[:n]
    kw = {}
    if "min_steps" in inspect.signature(mlp.train_mlp).parameters:
        kw["min_steps"] = 0                 # the spec's epochs are the training length
    t0 = time.perf_counter()
    params = mlp.train_mlp(xt, yt, tuple(spec["hidden"]), classes=spec["classes"], epochs=spec["epochs"],
                           batch=spec["batch"], lr=spec["lr"], seed=0, **kw)
    norm, _ = mlp.normalise_mlp(params, xt[:5000], 99.9)
    return norm, {"train_samples": int(n), "train_accuracy": mlp.accuracy(params, xt, yt),
                  "train_seconds": time.perf_counter() - t0}


def _key(spec: dict, inputs: int) -> str:
    blob = json.dumps({"spec": spec, "inputs": inputs, "version": _VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def problem_network(spec: dict, out: Path, x_tr, y_tr, echo=print) -> tuple:
    """The problem's trained description (cached under ``out/weights``, trained on ``x_tr``,
    ``y_tr`` when missing) and the training facts."""
    from golden import mlp
    from golden import network as nw

    key = _key(spec, 0)
    path = out / "weights" / f"{spec['name']}-{key}.npz"
    facts_path = path.with_suffix(".json")
    if path.is_file() and facts_path.is_file():
        return nw.load(path), {**json.loads(facts_path.read_text()), "cached": True}
    echo(f"  {spec['name']}: training {spec['hidden']} on {spec['train_samples'] or len(x_tr)} samples")
    params, facts = _train(spec, x_tr, y_tr)
    net = mlp.mlp_network(params, spec["name"], _input_shape(x_tr))
    path.parent.mkdir(parents=True, exist_ok=True)
    nw.save(net, path)
    atomic_write_json(facts_path, facts)
    return net, {**facts, "cached": False}


def _model(net_desc, kind: str, spec: dict, x, y) -> dict:
    """One integer model on ``x``: accuracy, measured events per inference, the QuantNetwork."""
    from quantize.snn import QuantConfig, build_network, run

    from .explore_eval import network_events

    t0 = time.perf_counter()
    cfg = QuantConfig(kind=kind, steps=spec["steps"], input_rate=spec["input_rate"])
    q = build_network(net_desc, cfg)
    res = run(q, x)
    n = len(x)
    acc = float(np.mean(res["pred"] == y))
    return {"net": q, "accuracy": acc, "accuracy_se": math.sqrt(acc * (1 - acc) / n),
            "events": network_events(q, res["spikes"], n), "seconds": time.perf_counter() - t0,
            "spikes_per_input": {k: v / n for k, v in res["spikes"].items() if not k.startswith("words.")}}


def _topology(net_desc) -> str:
    dims = [int(np.prod(net_desc.input.shape))] + [int(L.out_features) for L in net_desc.layers if hasattr(L, "out_features")]
    return "-".join(str(d) for d in dims)


def run_problem(spec: dict, out: Path, inputs: int = DEFAULT_INPUTS, echo=print, chip=None) -> dict:
    """One problem end to end (module docstring); JSON-ready."""
    from golden import energy, mlp, tiles

    t0 = time.perf_counter()
    (x_tr, y_tr), (x_te, y_te) = problem_data(spec)
    net, facts = problem_network(spec, out, x_tr, y_tr, echo)
    n = min(int(inputs), len(x_te))
    x, y = x_te[:n], y_te[:n]
    params = [(L.weight, L.bias) for L in net.layers if hasattr(L, "out_features")]
    acc_float = mlp.accuracy(params, x, y)
    echo(f"  {spec['name']}: twin and CMOS on {n} test inputs, {spec['steps']} steps")
    twin, cmos = _model(net, "twin-if", spec, x, y), _model(net, "cmos-if", spec, x, y)
    maps = tiles.map_network(net)
    chip = chip or tiles.Chip()
    spin_bd = tiles.spin_system(twin["events"], maps, energy.dw_spin_config(), chip)
    ccfg = energy.CmosConfig(weight_bits=cmos["net"].cfg.weight_bits, state_bits=cmos["net"].cfg.membrane_bits)
    cmos_bd = tiles.cmos_system(cmos["events"], ccfg)
    prof = tiles.profile(cmos_bd)
    synapses = int(sum(x_.synapses for x_ in twin["events"].layers))
    neurons = int(twin["events"].neurons)
    row = {"name": spec["name"], "title": spec["title"], "data_source": spec["data_source"],
           "dataset": spec["dataset"], "transform": spec["transform"], "topology": _topology(net), "why": spec["why"],
           "synapses": synapses, "neurons": neurons, "inputs": n, "steps": spec["steps"],
           "acc_float": acc_float, "acc_twin": twin["accuracy"], "acc_cmos": cmos["accuracy"],
           "acc_se": {"float": math.sqrt(acc_float * (1 - acc_float) / n), "twin": twin["accuracy_se"],
                      "cmos": cmos["accuracy_se"]},
           "energy_spin_J": spin_bd.total, "energy_cmos_J": cmos_bd.total,
           "latency_spin_s": spin_bd.latency, "latency_cmos_s": cmos_bd.latency,
           "energy_ratio": cmos_bd.total / spin_bd.total, "latency_ratio": cmos_bd.latency / spin_bd.latency,
           "cmos_profile": prof,
           "spin_components_J": {k: float(v) for k, v in spin_bd.components.items()},
           "cmos_components_J": {k: float(v) for k, v in cmos_bd.components.items()},
           "tiles": {"per_layer": [{"name": m.name, "kind": m.kind, "rows": m.rows, "cols": m.cols,
                                    "positions": m.positions, "weight_tiles": m.weight_tiles} for m in maps],
                     **{k: v for k, v in spin_bd.extras.items()}},
           "cmos_cycles": {k: cmos_bd.extras[k] for k in ("cycles", "compute_cycles", "access_cycles", "weight_bytes")},
           "spikes_per_input": {"twin": twin["spikes_per_input"], "cmos": cmos["spikes_per_input"]},
           "training": facts,
           "seconds": {"twin": twin["seconds"], "cmos": cmos["seconds"], "total": time.perf_counter() - t0}}
    return row


def plot_suite(rows: list, out: Path) -> list[Path]:
    """Fig. 11 (a-c) of the suite: the CMOS profile per problem, the energy ratio and the speed-up
    against synapses with the seed's ranges as bands. Returns the PNG paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    names = [r["name"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    bottom = np.zeros(len(rows))
    for part, colour in (("memory_access", "#4c72b0"), ("leakage", "#dd8452"), ("compute", "#55a868")):
        v = np.array([r["cmos_profile"]["shares"][part] * 100 for r in rows])
        ax.bar(names, v, bottom=bottom, label=part.replace("_", " "), color=colour)
        bottom += v
    ax.set_ylabel("share of CMOS energy (%)")
    ax.set_title("Fig. 11(a): CMOS baseline energy profile")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(atomic_savefig(fig, out / "fig11a_profile.png", dpi=110))
    plt.close(fig)
    syn = np.array([r["synapses"] for r in rows], float)
    for key, band, fname, label in (("energy_ratio", SEED_ENERGY_RANGE, "fig11b_energy.png", "energy CMOS / spin"),
                                    ("latency_ratio", SEED_SPEEDUP_RANGE, "fig11c_speedup.png",
                                     "speed-up (CMOS latency / spin)")):
        fig, ax = plt.subplots(figsize=(6, 3.8))
        ax.axhspan(*band, color="#cccccc", alpha=0.5, label=f"seed {band[0]:g}-{band[1]:g}x")
        v = np.array([r[key] for r in rows])
        ax.loglog(syn, v, "o-", color="#c44e52", label="this model")
        for s, val, name in zip(syn, v, names):
            ax.annotate(name, (s, val), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_xlabel("synapses")
        ax.set_ylabel(label)
        ax.set_title(f"Fig. 11({'b' if key == 'energy_ratio' else 'c'}): {label}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        paths.append(atomic_savefig(fig, out / fname, dpi=110))
        plt.close(fig)
    return paths


def run_suite(out, inputs: int = DEFAULT_INPUTS, *, problems=None, config=None, echo=print, plots: bool = True) -> list:
    """Every problem (or the ``problems`` named) of the suite ``config`` (default
    ``configs/suite.toml``), resuming from ``out``; writes ``out/suite.json`` and the plots;
    returns the rows."""
    if isinstance(inputs, bool) or not isinstance(inputs, int) or inputs < 1:
        raise SpintwinError(f"--inputs must be an integer >= 1, not {inputs!r}")
    out = prepare_out_dir(out)
    specs = load_problems(config, problems)
    rows = []
    for spec in specs:
        key = _key(spec, inputs)
        done = out / "problems" / f"{spec['name']}.json"
        if done.is_file():
            try:
                prev = json.loads(done.read_text())
            except ValueError:
                prev = {}
            if prev.get("key") == key:
                echo(f"  {spec['name']}: finished before, reused")
                rows.append(prev["row"])
                continue
        row = run_problem(spec, out, inputs, echo)
        done.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(done, {"key": key, "row": row})
        echo(f"  {spec['name']}: acc float/twin/CMOS {row['acc_float']:.3f}/{row['acc_twin']:.3f}/"
             f"{row['acc_cmos']:.3f}, energy ratio {row['energy_ratio']:.0f}x, speed-up {row['latency_ratio']:.0f}x")
        rows.append(row)
    atomic_write_json(out / "suite.json", rows)
    if plots and rows:
        plot_suite(rows, out)
    return rows
