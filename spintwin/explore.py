"""``spintwin explore``: accuracy x bit width x resources x energy design-space sweeps.

A space file (TOML) names the points; each point is evaluated by
:func:`spintwin.explore_eval.evaluate_point` (bit-accurate accuracy, energy from the run's
events, numerical profile, device fidelity, and with ``synth`` the FPGA resources, fmax and
throughput), cached, and summarised in ``out_dir``::

    [base]                  # every network point (scalars)
    kind = "twin-if"        # network: twin-if | cmos-if | twin-stochastic
    network = "cnn-if"      # a built-in network or a user's .npz / .nir file (as [core] network)
    dataset = "mnist"       # mnist, digits, iris, wine, breast_cancer or a user's .npz
    images = 200            # test samples of the data set per point
    seed = 1                # master seed of the LFSRs (QuantConfig.seed)
    profile_images = 5      # images of the numerical profile (0: none)
    synth = false           # synthesise each point's RTL (minutes; cached by boards.synth)
    target = "ecp5-85f"     # or "ice40-up5k"
    rtl = "blocks"          # what synth costs: "blocks" (one crossbar tile + the neurons of the
                            # largest layer, minutes) or "core" (hdl.core.SnnCore, the full core)

    [axes]                  # network points: the cartesian product of these lists
    kind = ["twin-if", "cmos-if"]
    levels = [4, 16]        # any quantize.snn.QuantConfig field: levels, weight_bits,
    membrane_bits = [10, 16]  # membrane_bits, input_bits, lut_bits, scale_bits, steps, ...

    [[points]]              # explicit extra network points (scalars over [base])
    kind = "cmos-if"
    weight_bits = 3

    [macrospin]             # device points: fidelity + integrator resources
    trials = 200            # Monte-Carlo trials per current
    currents_uA = [45, 55, 63, 71, 80, 95, 125]
    [macrospin.axes]        # any [twin.macrospin] key of the design config, as lists
    noise_uniform_bits = [3, 5]
    lanes = [1, 2]

``network`` and ``dataset`` may also be axes (``network = ["mlp.nir", "cnn-if"]``) or set per
[[points]]; they are the design file's ``[core] network`` and ``dataset`` (:mod:`spintwin.config`)
and checked the same way (``spintwin.block_core``): a relative file is relative to the space
file; a missing or foreign file, or a data set that does not fit the network
(``spinbase.data.check_fits``), is one line before any work. A built-in network runs with the
kind of its family (``cnn-if`` with ``twin-if`` or ``cmos-if``: each kind's own normalisation
of the ReLU CNN; ``cnn-stochastic`` with ``twin-stochastic``); a network file defaults to its
neurons' kind and to the first built-in data set that fits it.

Network point defaults: ``QuantConfig``'s, then ``quantize.trained.KIND_DEFAULTS``
per kind (the twin at half input rate, network 2 at 50 steps, as the network benchmark), then
[base], then the axes. ``membrane_frac`` defaults to ``min(8, membrane_bits - 4)`` (three
integer bits of headroom).
Fields a kind does not use (e.g. ``levels`` for the CMOS baseline) are dropped, so the product
never evaluates the same design twice. Macrospin points start from the design config's
[twin.macrospin] table.

Caching and resumption: a point's key is the SHA-256 of its canonical JSON (every field that
changes its result, ``synth`` and ``target`` included, the weights' hash (a network file's and a
data set file's content hash) and :data:`EXPLORE_VERSION`; a built-in network on MNIST keeps the
key it had before networks and data sets could be swept); its record is written atomically to ``out_dir/points/<key>.json`` as
soon as it completes, so an interrupted sweep resumes where it stopped. A cache entry (a
point's record or a golden curve in ``out_dir/golden/``) that cannot be read or does not hold
what it should (truncated, not JSON, ``null``, a list, another point) counts as missing: it is
recomputed and rewritten atomically. A point that raises is recorded as ``failed`` with its
error line (and ``<key>.traceback.txt``) and the sweep goes on; failed points are retried by
the next run.

Parallelism: local processes (``concurrent.futures`` with spawned workers, so a script that
calls :func:`run_explore` needs the usual ``if __name__ == "__main__":`` guard; ``workers=1``
runs in this process), or an existing Dask cluster (``scheduler="tcp://host:8786"``,
``dask.distributed.Client``; its workers need this project importable). Records are written
by this process only, so workers need no shared file system for their results (a point's
network or data set *file* is read by the worker at the absolute path the space resolved it to:
on a cluster, put it where every worker sees it at that path). Local workers die with this
process (``kill -9`` included) and ignore Ctrl-C, which stops the sweep with one line
(:mod:`spintwin.explore_workers`).

One sweep per output folder: ``out_dir/.explore.lock`` is held for the whole run, and a second
explore into the same folder stops at once with one line saying the folder is in use (it does
not wait: a sweep may take hours). The lock goes with its holder, so a killed run leaves
nothing to clean up.

Design files: every point's design, ``out_dir/points/<key>.toml`` (:mod:`spintwin.explore_design`:
every QuantConfig field, the network, the data set; user files copied to ``out_dir/inputs/``),
written when its record is, and kept (rewritten if missing) when a rerun finds it cached;
``spintwin generate core --config`` and ``spintwin verify core --config`` on it build and
check exactly that point.

Outputs: ``results.json`` and ``results.csv`` (one row per point: config, metrics, status, its
design file), ``pareto.md`` and ``pareto.json`` (the Pareto points with their design files;
also printed at the end of the run),
``pareto_luts.png`` and ``pareto_energy.png`` (accuracy against LUTs and against energy per
inference, the Pareto front highlighted), ``profile.csv``, ``profile.md`` and
``profile/<key>.png`` (the numerical profile, :mod:`spintwin.explore_profile`); see
:mod:`spintwin.explore_report`.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
import time
import traceback
from pathlib import Path

from spinbase.errors import SpintwinError
from .config import SCHEMA, check_key, check_table, read_toml
from .explore_report import pareto_front, pareto_lines, results_row, write_reports
from spinbase.fileio import atomic_write_json, atomic_write_text

__all__ = ["EXPLORE_VERSION", "load_space", "point_key", "pareto_front", "run_explore", "add_explore_arguments",
           "EXPLORE_EPILOG", "macro_schema"]

#: Part of every point's key: bump when a metric's definition changes.
EXPLORE_VERSION = 3   # 3: the CMOS register energy is Horowitz-derived (golden.energy)
_KINDS = ("twin-if", "cmos-if", "twin-stochastic")
#: QuantConfig fields each kind ignores (dropped from its points).
_UNUSED = {"twin-if": ("weight_bits", "lut_addr_bits", "lut_bits", "lut_range"),
           "cmos-if": ("levels", "reset_position", "lut_addr_bits", "lut_bits", "lut_range"),
           "twin-stochastic": ("weight_bits", "reset_position")}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


#: The schemas of a space file's tables, as :data:`spintwin.config.SCHEMA`: key -> (check,
#: expectation, default). Network keys default to None: not fixed, the kind's value.
_NET_KEYS = {
    "kind": (lambda v: v in _KINDS, f"one of {', '.join(_KINDS)}", None),
    # the [core] table's checks: a built-in network or a .npz / .nir file, a data set name or an .npz
    "network": (*SCHEMA["core.network"][:2], None),
    "dataset": (*SCHEMA["core.dataset"][:2], None),
    "encoding": (lambda v: v in ("lfsr", "deterministic"), "'lfsr' or 'deterministic'", None),
    **{k: (_is_int, "an integer", None) for k in ("levels", "weight_bits", "scale_bits", "membrane_bits",
                                                  "membrane_frac", "input_bits", "steps", "tile", "lut_addr_bits",
                                                  "lut_bits", "seed", "parallelism")},
    **{k: (_is_num, "a number", None) for k in ("input_rate", "reset_position", "lut_range")},
}
_BASE_KEYS = {
    "images": (lambda v: _is_int(v) and 1 <= v <= 10000, "an integer in 1..10000", 100),
    "profile_images": (lambda v: _is_int(v) and 0 <= v <= 10000, "an integer in 0..10000", 5),
    "synth": (lambda v: isinstance(v, bool), "true or false", False),
    "target": (lambda v: v in ("ecp5-85f", "ice40-up5k"), "'ecp5-85f' or 'ice40-up5k'", "ecp5-85f"),
    "rtl": (lambda v: v in ("blocks", "core"), "'blocks' or 'core'", "blocks"),
}
_MACRO_KEYS = {
    "trials": (lambda v: _is_int(v) and 1 <= v <= 100000, "an integer in 1..100000", 200),
    "currents_uA": (lambda v: isinstance(v, list) and len(v) > 0 and all(_is_num(x) and x > 0 for x in v),
                    "a non-empty list of currents > 0 uA", [45, 55, 63, 71, 80, 95, 125]),
    "fidelity_seed": (lambda v: _is_int(v) and v >= 0, "an integer >= 0", 21),
    "synth": _BASE_KEYS["synth"],   # default: [base]'s
}
#: How long to try to reach a Dask scheduler.
DASK_TIMEOUT = "10s"


def macro_schema():
    """The design config's [twin.macrospin] keys (:data:`spintwin.config.SCHEMA`), unprefixed."""
    from .config import SCHEMA

    pre = "twin.macrospin."
    return {k[len(pre):]: v for k, v in SCHEMA.items() if k.startswith(pre)}


def _axes(path, where: str, table, schema: dict) -> dict:
    if not isinstance(table, dict):
        raise SpintwinError(f"space {path}: '{where.rstrip('.')}' must be a table, not {table!r}")
    out = {}
    for key, values in table.items():
        if not isinstance(values, list) or not values:
            raise SpintwinError(f"space {path}: '{where}{key}' must be a non-empty list of values, not {values!r}")
        for v in values:
            check_key(schema, key, v, path, what="space", prefix=where)
        out[key] = values
    return out


def point_key(point: dict) -> str:
    """The cache key of a canonical point: 16 hex digits of SHA-256 over its sorted JSON."""
    return hashlib.sha256(json.dumps(point, sort_keys=True).encode()).hexdigest()[:16]


def _network_source(path, values: dict) -> tuple[str | None, str, str]:
    """``(network file or None, kind, data set)`` of a network point's values, checked as the
    core's [core] table is (``spintwin.block_core``): a network file relative to the space
    file, a built-in network's kind of its family, a data set that fits the network. A built-in
    network comes back as None: the network of its kind (``golden.network.NETWORK_OF_KIND``)."""
    from golden.network import NETWORK_OF_KIND

    from .block_core import check_network_fits, data_spec, resolve_file, core_description, core_quant_config, \
        is_network_file

    net, kind = values.get("network"), values.get("kind")
    if net is not None and is_network_file(net):
        net = resolve_file(net, path)
        desc = core_description(net)          # missing file, not a network: one line
        kind = kind or desc.kind
        if kind is None:
            raise SpintwinError(f"'kind' must be given for network {net} (its neurons name no hardware kind; "
                                f"one of {', '.join(_KINDS)})")
        _kind_runs(net, kind)
    elif net is not None:
        kind = core_quant_config({"network": net, "kind": kind})[1].kind     # the trained weights' family
        net = None
    kind = kind or "twin-if"
    name = net or NETWORK_OF_KIND[kind]
    dataset = data_spec(values.get("dataset"), path, name)
    check_network_fits(name, dataset, "")
    return net, kind, dataset


def _kind_runs(net: str, kind: str) -> None:
    """One line when the integer model of ``kind`` cannot run the network file ``net`` (e.g.
    p-bit neurons for IF layers): the network built once at the kind's default formats, as
    ``spintwin.block_core.core_network`` builds it (cached there for the sweep)."""
    from quantize.snn import QuantConfig

    from .block_core import CoreDesign, core_network

    core_network(CoreDesign(net, QuantConfig(kind=kind)))


def _network_point(path, values: dict, base: dict, label: str) -> dict:
    from dataclasses import asdict

    from quantize.trained import KIND_DEFAULTS

    from .block_core import core_dataset
    from .explore_design import file_tag
    from .explore_eval import quant_config, weights_tag

    try:
        net, kind, dataset = _network_source(path, values)
        if dataset != "mnist" and base["images"] > len(core_dataset(dataset)[1][0]):
            raise SpintwinError(f"'base.images' {base['images']} is more than data set {dataset}'s "
                                f"{len(core_dataset(dataset)[1][0])} test samples")
    except SpintwinError as e:
        msg = str(e).replace("'core.", "'")         # the [core] table's messages, named as the space's keys
        raise SpintwinError(f"space {path}: {label}: {msg}") from None
    q = {**KIND_DEFAULTS[kind], **values, "kind": kind}
    q.setdefault("membrane_frac", min(8, q.get("membrane_bits", 16) - 4))
    q = {k: v for k, v in q.items() if k in _NET_KEYS}
    try:
        cfg = quant_config(q)
    except (ValueError, TypeError) as e:
        raise SpintwinError(f"space {path}: {label}: {e}") from None
    p = {k: v for k, v in asdict(cfg).items() if k not in _UNUSED[kind]}
    p.update(type="network", images=base["images"], profile_images=min(base["profile_images"], base["images"]),
             synth=base["synth"], target=base["target"], version=EXPLORE_VERSION)
    # the built-in networks on MNIST keep the keys they had before networks and data sets could be swept
    p["weights"] = weights_tag(kind) if net is None else "sha256:" + file_tag(net)
    if net is not None:
        p["network"] = net
    if dataset != "mnist":
        p["dataset"] = dataset
        if Path(dataset).is_absolute():
            p["dataset_hash"] = "sha256:" + file_tag(dataset)
    if base["rtl"] != "blocks":  # the default stays out of the key: caches of earlier sweeps stay valid
        p["rtl"] = base["rtl"]
    if p.get("parallelism") == 1:  # likewise (the core's scatter lanes, QuantConfig.parallelism)
        del p["parallelism"]
    return p


def load_space(space_path, design: dict, *, images: int | None = None) -> list[dict]:
    """Canonical points of a space file (see the module docstring), duplicates removed.

    Each point is a flat JSON-ready dict with ``type`` ("network" or "macrospin") and an
    ``axes`` list naming the swept keys (for labels; not part of its key). Raises
    :class:`SpintwinError` (one line naming the file, key and value) on any problem.
    """
    path = Path(space_path)
    raw = read_toml(path, "space")
    for key in raw:
        if key not in ("base", "axes", "points", "macrospin"):
            raise SpintwinError(f"space {path}: unknown table '{key}' (known: axes, base, macrospin, points)")
    base_raw = raw.get("base", {})
    if not isinstance(base_raw, dict):
        raise SpintwinError(f"space {path}: 'base' must be a table, not {base_raw!r}")
    checked = check_table(base_raw, {**_BASE_KEYS, **_NET_KEYS}, path, what="space", prefix="base.")
    base = {k: checked[k] for k in _BASE_KEYS}
    fixed = {k: v for k, v in base_raw.items() if k in _NET_KEYS}
    if images is not None:
        if not (_is_int(images) and 1 <= images <= 10000):
            raise SpintwinError(f"images must be an integer in 1..10000, not {images!r}")
        base["images"] = images

    points = []
    if "axes" in raw or not ("points" in raw or "macrospin" in raw):
        axes = _axes(path, "axes.", raw.get("axes", {}), _NET_KEYS)
        names = list(axes)
        for combo in itertools.product(*axes.values()):
            values = {**fixed, **dict(zip(names, combo))}
            label = "point " + ", ".join(f"{k}={v!r}" for k, v in zip(names, combo)) if names else "base point"
            p = _network_point(path, values, base, label)
            p["axes"] = [k for k in names if k in p]
            points.append(p)
    explicit = raw.get("points", [])
    if not isinstance(explicit, list) or not all(isinstance(t, dict) for t in explicit):
        raise SpintwinError(f"space {path}: 'points' must be an array of tables ([[points]]), not {explicit!r}")
    for i, table in enumerate(explicit):
        check_table(table, _NET_KEYS, path, what="space", prefix=f"points[{i}].")
        p = _network_point(path, {**fixed, **table}, base, f"points[{i}]")
        p["axes"] = [k for k in table if k in p]
        points.append(p)
    if "macrospin" in raw:
        points += _macrospin_points(path, raw["macrospin"], design, base)
    seen, out = set(), []
    for p in points:
        k = point_key(_keyed(p))
        if k not in seen:
            seen.add(k)
            out.append(p)
    return out


def _macrospin_points(path, table, design: dict, base: dict) -> list[dict]:
    from .explore_eval import macrospin_model

    if not isinstance(table, dict):
        raise SpintwinError(f"space {path}: 'macrospin' must be a table, not {table!r}")
    schema = macro_schema()
    given = {k: v for k, v in table.items() if k != "axes"}
    checked = check_table(given, {**_MACRO_KEYS, **schema}, path, what="space", prefix="macrospin.")
    fixed = {k: checked[k] for k in _MACRO_KEYS} | {"synth": given.get("synth", base["synth"])}
    dev = copy.deepcopy(design["twin"]["macrospin"])
    dev.update((k, v) for k, v in given.items() if k in schema)
    axes = _axes(path, "macrospin.axes.", table.get("axes", {}), schema)
    out = []
    for combo in itertools.product(*axes.values()):
        p = {**dev, **dict(zip(axes, combo)), **fixed, "type": "macrospin", "target": base["target"],
             "version": EXPLORE_VERSION}
        try:
            macrospin_model(p, design)
        except SpintwinError as e:
            label = ", ".join(f"{k}={v!r}" for k, v in zip(axes, combo)) or "base"
            raise SpintwinError(f"space {path}: macrospin point {label}: {e}") from None
        p["axes"] = list(axes)
        out.append(p)
    return out


def _keyed(point: dict) -> dict:
    """The part of a point its key covers (labels excluded)."""
    return {k: v for k, v in point.items() if k != "axes"}


def _label(point: dict) -> str:
    head = point.get("kind", "macrospin") if point["type"] == "network" else "macrospin"
    rest = " ".join(f"{k}={_fmt(point[k])}" for k in point.get("axes", []) if k != "kind")
    return f"{head} {rest}".strip()


def _fmt(v) -> str:
    if isinstance(v, str) and Path(v).is_absolute():
        return Path(v).name                 # a network or data set file
    return "/".join(str(x) for x in v) if isinstance(v, list) else str(v)


# Running -------------------------------------------------------------------------------------------
def _task(point: dict, design: dict, golden: dict | None) -> dict:
    """Evaluate one point; any exception becomes a ``failed`` record (the sweep goes on)."""
    from . import explore_eval

    t0 = time.perf_counter()
    try:
        metrics = explore_eval.evaluate_point(_keyed(point), design=design, golden=golden)
        return {"status": "ok", "metrics": _jsonable(metrics), "seconds": time.perf_counter() - t0}
    except Exception as e:  # recorded with its traceback; KeyboardInterrupt still stops the sweep
        line = (str(e).splitlines() or [""])[0]
        return {"status": "failed", "error": f"{type(e).__name__}: {line}", "traceback": traceback.format_exc(),
                "seconds": time.perf_counter() - t0}


def _jsonable(x):
    from .experiments import jsonable

    return jsonable(x)


def _golden_for(points, out: Path, echo) -> dict:
    """Golden switching curves the macrospin points need, cached in out/golden/<key>.json."""
    from .explore_eval import golden_switching_curve

    curves = {}
    for p in points:
        if p["type"] != "macrospin":
            continue
        spec = {"currents_uA": p["currents_uA"], "trials": p["trials"], "seed": p["fidelity_seed"]}
        k = point_key(spec)
        if k in curves:
            continue
        f = out / "golden" / f"{k}.json"
        curve = _cached_curve(f, spec)
        if curve is not None:
            curves[k] = curve
            continue
        echo(f"explore: golden switching curve ({len(p['currents_uA'])} currents x {p['trials']} trials)")
        curves[k] = golden_switching_curve(p["currents_uA"], p["trials"], p["fidelity_seed"])
        _replace(f, {"spec": spec, "curve": curves[k]})
    return curves


def _read_json(path: Path):
    """The JSON value in ``path``, or None when it is missing, unreadable or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # ValueError: JSONDecodeError and UnicodeDecodeError
        return None


def _replace(path: Path, obj) -> None:
    """Write a cache entry atomically, first removing whatever non-file sits at its name."""
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path)
    atomic_write_json(path, obj)


def _numbers(v, n: int) -> bool:
    return isinstance(v, list) and len(v) == n and all(_is_num(x) for x in v)


def _cached_curve(path: Path, spec: dict):
    """A golden curve cached by :func:`_golden_for`, or None when it is missing or invalid in
    any way (truncated, not JSON, another spec, wrong lengths): then it is recomputed."""
    rec = _read_json(path)
    if not (isinstance(rec, dict) and rec.get("spec") == spec and isinstance(rec.get("curve"), dict)):
        return None
    n = len(spec["currents_uA"])
    curve = rec["curve"]
    if not all(_numbers(curve.get(k), n) for k in ("p", "se")):
        return None
    return curve


def _golden_key(p: dict) -> str:
    return point_key({"currents_uA": p["currents_uA"], "trials": p["trials"], "seed": p["fidelity_seed"]})


def _cached(path: Path, point: dict, key: str):
    """A point's cached ``ok`` record, or None when it is missing or invalid in any way (not
    JSON, not an object, another point, fields of the wrong type): then it is recomputed."""
    rec = _read_json(path)
    if not (isinstance(rec, dict) and rec.get("status") == "ok" and rec.get("point") == _keyed(point)
            and rec.get("id") == key and isinstance(rec.get("label"), str) and isinstance(rec.get("metrics"), dict)
            and _is_num(rec.get("seconds"))):
        return None
    prof = rec["metrics"].get("profile")
    if prof is not None and not (isinstance(prof, list) and all(
            isinstance(r, dict) and isinstance(r.get("layer"), str) and isinstance(r.get("quantity"), str)
            for r in prof)):
        return None
    return rec


def _local_runner(todo, design, curves, workers: int):
    """Yield (point, record) as points complete, on ``workers`` local processes (1: here) that
    die with this one (:mod:`spintwin.explore_workers`)."""
    if workers <= 1:
        for p in todo:
            yield p, _task(p, design, curves.get(_golden_key(p)) if p["type"] == "macrospin" else None)
        return
    from .explore_workers import local_runner

    jobs = [(i, (p, design, curves.get(_golden_key(p)) if p["type"] == "macrospin" else None))
            for i, p in enumerate(todo)]
    for i, rec in local_runner(_task, jobs, workers):
        yield todo[i], rec


def _dask_runner(todo, design, curves, address: str):
    try:
        from dask.distributed import Client, as_completed
    except ImportError:  # pragma: no cover - dask is a dependency
        raise SpintwinError("--scheduler needs dask.distributed (pip install 'dask[distributed]')") from None
    try:
        client = Client(address, timeout=DASK_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as e:
        raise SpintwinError(f"cannot reach the Dask scheduler at {address}: {str(e).splitlines()[0]}") from None
    try:
        futs = {}
        for p in todo:
            g = curves.get(_golden_key(p)) if p["type"] == "macrospin" else None
            futs[client.submit(_task, p, design, g, pure=False, key=f"explore-{point_key(_keyed(p))}")] = p
        for f in as_completed(futs):
            yield futs[f], f.result()
    finally:
        client.close()


def run_explore(config_path, space_path, out_dir, *, scheduler=None, workers=None, images=None, echo=print) -> dict:
    """Run (or resume) the sweep of ``space_path`` and write its reports to ``out_dir``.

    Parameters
    ----------
    config_path : path or None
        Design config (``spintwin.config.load_config``; None: the embedded default); gives
        macrospin points their base [twin.macrospin] table.
    space_path : path
        Space TOML (module docstring).
    out_dir : path
        Output folder: points/ (records and design TOMLs), inputs/ (copies of user files),
        results.json, results.csv, pareto.md, pareto.json, pareto_*.png, profile.csv, profile/.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); local processes if None.
    workers : int, optional
        Local processes (default: CPU count, at most the points to run; 1 runs in this process).
    images : int, optional
        Overrides the space's ``base.images``.
    echo : callable
        Receives one progress line per event.

    Returns
    -------
    dict with ``points`` (total), ``computed``, ``cached``, ``failed`` (counts), ``out``, ``rows``
    (the results table as dicts) and ``files`` (written paths).
    """
    from spinbase.fileio import prepare_out_dir

    from .config import load_config
    from .explore_workers import OutLock

    # everything is checked before any work: the config, the space, the arguments, the folder
    design = load_config(config_path)
    points = load_space(space_path, design, images=images)
    if not points:
        raise SpintwinError(f"space {space_path}: defines no points")
    if workers is not None and not (_is_int(workers) and workers >= 1):
        raise SpintwinError(f"workers must be an integer >= 1, not {workers!r}")
    out = prepare_out_dir(out_dir)
    pdir = prepare_out_dir(out / "points", "--out")
    if any(p["type"] == "macrospin" for p in points):
        prepare_out_dir(out / "golden", "--out")  # the golden curves' cache
    with OutLock(out):
        return _sweep(points, design, out, pdir, scheduler, workers, echo)


def _sweep(points, design, out: Path, pdir: Path, scheduler, workers, echo) -> dict:
    """:func:`run_explore` once its inputs are checked and the output folder is locked."""
    from .explore_design import write_point_design

    records, todo, designs = {}, [], {}
    for p in points:
        k = point_key(_keyed(p))
        rec = _cached(pdir / f"{k}.json", p, k)
        if rec is None:
            todo.append(p)
        else:
            records[k] = rec
            designs[k] = write_point_design(_keyed(p), k, rec["label"], out)   # kept (or rewritten) on resume
    n_cached = len(records)
    where = f"Dask scheduler {scheduler}" if scheduler else None
    if where is None:
        workers = workers or max(1, min(os.cpu_count() or 1, len(todo)))
        where = "this process" if workers == 1 else f"{workers} local processes"
    echo(f"explore: {len(points)} points, {n_cached} cached, {len(todo)} to run on {where}")
    curves = _golden_for(todo, out, echo) if todo else {}
    runner = _dask_runner(todo, design, curves, scheduler) if scheduler else _local_runner(todo, design, curves,
                                                                                          workers)
    done = failed = 0
    try:
        for p, res in runner:
            k = point_key(_keyed(p))
            rec = {"id": k, "label": _label(p), "point": _keyed(p), "axes": p.get("axes", []), **res}
            tb = rec.pop("traceback", None)
            if tb:
                atomic_write_text(pdir / f"{k}.traceback.txt", tb)
                rec["traceback_file"] = f"points/{k}.traceback.txt"
                failed += 1
            _replace(pdir / f"{k}.json", rec)
            records[k] = rec
            designs[k] = write_point_design(_keyed(p), k, rec["label"], out)
            done += 1
            echo(f"[{n_cached + done}/{len(points)}] {rec['label']}: {_summary(rec)}")
    except KeyboardInterrupt:
        echo(f"explore: interrupted after {done} new point(s); their results are saved in {pdir} (rerun to resume)")
        raise
    rows = [results_row(records[k], p, *designs[k]) for p, k in ((p, point_key(_keyed(p))) for p in points)]
    files = write_reports(out, records, rows)
    for line in pareto_lines(rows, out):
        echo(line)
    echo(f"explore: {len(points)} points ({done} computed, {n_cached} cached, {failed} failed); results in {out}")
    return {"points": len(points), "computed": done, "cached": n_cached, "failed": failed, "out": str(out),
            "rows": rows, "files": [str(f) for f in files]}


def _summary(rec: dict) -> str:
    if rec["status"] != "ok":
        return f"FAILED ({rec['error']})"
    m = rec["metrics"]
    parts = []
    if m.get("accuracy") is not None:
        parts.append(f"accuracy {100 * m['accuracy']:.1f} %")
    if m.get("fidelity_max_dev") is not None:
        parts.append(f"max |dP| {m['fidelity_max_dev']:.3f}")
    if m.get("energy_J") is not None:
        parts.append(f"{m['energy_J']:.3g} J")
    if m.get("lut") is not None:
        fm = m.get("fmax_mhz")
        parts.append(f"{m['lut']} LUT {m.get('dsp')} DSP " + (f"{fm:.0f} MHz" if fm else "no fmax"))
    return ", ".join(parts) + f" ({rec['seconds']:.1f} s)"


# Command line --------------------------------------------------------------------------------------
EXPLORE_EPILOG = """examples:
  spintwin explore --space configs/space.toml --out out/explore
  spintwin generate core --config out/explore/points/<id>.toml --out out/rtl   (a Pareto point of pareto.md)
  spintwin explore --space configs/space.toml --images 500 --workers 2
  spintwin explore --space configs/space.toml --scheduler tcp://10.0.0.5:8786

Rerunning resumes: points already in OUT/points/ are not recomputed."""


def add_explore_arguments(parser) -> None:
    """Add the ``explore`` options (--config, --space, --out, --scheduler, --workers, --images)."""
    parser.add_argument("--config", default=None, help="design TOML (default: the embedded configs/default.toml)")
    parser.add_argument("--space", default="configs/space.toml",
                        help="space TOML: base, axes, points, macrospin (default: configs/space.toml)")
    parser.add_argument("--out", default="out/explore", help="output folder (default: out/explore)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run on an existing Dask cluster, e.g. tcp://host:8786 (default: local processes)")
    parser.add_argument("--workers", type=int, default=None,
                        help="local worker processes (default: the CPU count; 1 runs in this process)")
    parser.add_argument("--images", type=int, default=None, help="test samples per point (overrides the space)")
    if parser.epilog is None:
        parser.epilog = EXPLORE_EPILOG
