"""Registry entry of the SNN inference core ([core]; quantize.snn / quantize.core, hdl.core,
tb.core_launch): networks ``cnn-if`` (network 1 on DW crossbars), ``cnn-stochastic`` (network
2, p-bit MTJ neurons) and ``cmos-if`` (the CMOS baseline), with any formats of the [core] table.

A user's network is a file: a network description (``.npz``, :func:`golden.network.save`, as
``spintwin import`` writes it) or a NIR graph (``.nir``, read by :func:`golden.nir_io.read_nir`),
named by ``[core] network`` (a relative path is relative to the design file) or ``--network``
(relative to the working directory). Its data set is ``[core] dataset``: a name of
:data:`spinbase.data.DATASETS` or a user's ``.npz`` (:func:`spinbase.data.load_dataset`); a data
set that does not fit the network's input or classes is one line (:func:`spinbase.data.check_fits`).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from spinbase.errors import SpintwinError
from spinbase.fileio import atomic_write_text

from .blocks import Block, Request
from .config import CORE_NETWORKS

__all__ = ["BLOCK", "CoreDesign", "core_quant_config", "core_network", "core_description", "core_dataset", "fitting_dataset",
           "is_network_file", "resolve_file", "data_spec", "check_network_fits", "TEST_IMAGES"]

_TOP = "snn_core"
#: MNIST test images: the bound of ``--images`` (and ``first + images``).
TEST_IMAGES = 10000
#: Each built-in network's own formats (quantize.core.trained_network): kind, steps, input rate.
_NETWORK_DEFAULTS = {"cnn-if": {"kind": "twin-if", "steps": 100, "input_rate": 0.5},
                     "cnn-stochastic": {"kind": "twin-stochastic", "steps": 50},
                     "cmos-if": {"kind": "cmos-if", "steps": 100}}
#: Trained weights behind each kind: the ReLU CNN (normalised per kind) or the sigmoid CNN.
_FAMILY = {"twin-if": "relu", "cmos-if": "relu", "twin-stochastic": "sigmoid"}


@dataclass(frozen=True)
class CoreDesign:
    """A core design: its network (a built-in name or the absolute path of a network file), the
    frozen QuantConfig, the design file and its data set (a name or an absolute ``.npz`` path)."""

    network: str
    cfg: object
    config_path: Path | None = None
    dataset: str = "mnist"


#: The built-in networks' input (H, W, C) and classes: MNIST's (checked without building them).
_BUILTIN_IO = ((28, 28, 1), 10)


def is_network_file(spec) -> bool:
    """A network given as a file (``.npz`` description or ``.nir`` graph), not a built-in name."""
    return isinstance(spec, str) and spec.lower().endswith((".npz", ".nir"))


def resolve_file(spec: str, path) -> str:
    """``spec`` relative to the design file's folder (``path``; the working directory without one)."""
    p = Path(spec).expanduser()
    if not p.is_absolute() and path is not None:
        p = Path(path).resolve().parent / p
    return str(p.resolve())


_DESCRIPTIONS: dict = {}


def core_description(network: str):
    """The description of a network file (cached per file and modification), or None for a
    built-in name. A file that is missing or not a network is one line (SpintwinError)."""
    if not is_network_file(network):
        return None
    from golden import network as nw

    p = Path(network)
    try:
        st = p.stat()
    except OSError as e:
        raise SpintwinError(f"network {network}: no such file ({type(e).__name__})") from None
    if not p.is_file():
        raise SpintwinError(f"network {network}: not a file")
    key = (str(p), st.st_mtime_ns, st.st_size)
    if key not in _DESCRIPTIONS:
        try:
            if network.lower().endswith(".nir"):
                from golden.nir_io import read_nir

                _DESCRIPTIONS[key] = read_nir(p)[0]
            else:
                _DESCRIPTIONS[key] = nw.load(p)
        except SpintwinError:
            raise
        except ValueError as e:    # golden.network.NetworkError: one line naming file and layer
            raise SpintwinError(f"network {' '.join(str(e).split())}") from None
        except Exception as e:     # a damaged .npz: zipfile.BadZipFile, EOFError, ... from numpy.load
            raise SpintwinError(f"network {network}: not a network file ({type(e).__name__}: "
                                f"{' '.join(str(e).split())})") from None
    return _DESCRIPTIONS[key]


def core_dataset(name: str):
    """``(train, test, record)`` of a data set name or ``.npz`` path (spinbase.data.load_dataset)."""
    from spinbase.data import load_dataset

    return load_dataset(name)


def fitting_dataset(network) -> str:
    """The first built-in data set (:data:`spinbase.data.DATASETS` order) that fits a
    description's input and classes; one line when none does."""
    from spinbase.data import DATASETS, check_fits

    for name in DATASETS:
        try:
            check_fits(network, core_dataset(name)[2])
        except SpintwinError:
            continue
        return name
    shape = " x ".join(str(v) for v in network.input.shape)
    raise SpintwinError(f"no built-in data set ({', '.join(DATASETS)}) fits network {network.name!r} (input "
                        f"{shape}, {network.classes} classes): name one in [core] dataset (an .npz with x, y)")


def data_spec(spec, path, network: str) -> str:
    """The design's data set: a built-in name, or an ``.npz`` made absolute (relative to the
    design file); left out, MNIST for a built-in network, else the first built-in that fits."""
    from spinbase.data import DATASETS

    if spec is None:
        return "mnist" if not is_network_file(network) else fitting_dataset(core_description(network))
    key = spec.lower().replace("-", "_")
    return key if key in DATASETS else resolve_file(spec, path)


def check_network_fits(network: str, dataset: str, where: str) -> None:
    """One line when ``dataset`` does not fit ``network`` (a built-in runs MNIST's 28 x 28 x 1, 10 classes)."""
    from types import SimpleNamespace

    from spinbase.data import check_fits

    if not is_network_file(network) and dataset == "mnist":
        return                              # the built-ins were trained on it
    desc = core_description(network)
    if desc is None:
        desc = SimpleNamespace(name=network, input=SimpleNamespace(shape=_BUILTIN_IO[0]), classes=_BUILTIN_IO[1])
    try:
        check_fits(desc, core_dataset(dataset)[2])
    except SpintwinError as e:
        raise SpintwinError(f"{where}'core.dataset' {dataset}: {e}") from None


def core_quant_config(table: dict, *, network: str | None = None, steps: int | None = None,
                      seed: int | None = None, path=None):
    """``(network, quantize.snn.QuantConfig)`` of a [core] table; keys left out (None) take the
    network's value; ``network``, ``steps``, ``seed`` (the command line's) override the table.
    A network file (``.npz`` / ``.nir``) comes back as its absolute path (a relative one in the
    table is relative to the design file ``path``; ``network`` relative to the working
    directory); its kind is ``core.kind`` or its neurons' own. A refusal is one line naming the
    file and the key."""
    from quantize.snn import QuantConfig

    where = f"config {path}: " if path is not None else ""
    option = "--network" if network is not None else f"{where}'core.network'"
    if network is not None and is_network_file(network):
        network = resolve_file(network, None)
    elif network is None and is_network_file(table.get("network")):
        network = resolve_file(table["network"], path)
    network = network or table.get("network") or "cnn-if"
    names = {f.name for f in fields(QuantConfig)}
    if is_network_file(network):
        try:
            desc = core_description(network)
        except SpintwinError as e:
            raise SpintwinError(f"{option}: {e}") from None
        kind = table.get("kind") or desc.kind
        if kind is None:
            raise SpintwinError(f"{where}'core.kind' must be given for network {network} (its neurons name no "
                                f"hardware kind; one of twin-if, twin-stochastic, cmos-if)")
        values = {"kind": kind, "seed": 1}
        # The integer model has one reset position (QuantConfig.reset_position); a network file's
        # DW neurons carry their own: theirs is the default, one value for the whole network.
        positions = sorted({layer.neuron.reset_position for _, layer in desc.spiking()
                            if layer.neuron.reset == "position"})
        if len(positions) > 1 and table.get("reset_position") is None:
            raise SpintwinError(f"{option}: network {network} resets its layers to different positions "
                                f"{positions}; the core has one: set 'core.reset_position'")
        if positions:
            values["reset_position"] = positions[0]
    else:
        if network not in CORE_NETWORKS:
            raise SpintwinError(f"--network must be one of {', '.join(CORE_NETWORKS)} or a .npz / .nir network "
                                f"file, not {network!r}")
        kind = table.get("kind") or _NETWORK_DEFAULTS[network]["kind"]
        if _FAMILY[kind] != _FAMILY[_NETWORK_DEFAULTS[network]["kind"]]:
            ok = [k for k, f in _FAMILY.items() if f == _FAMILY[_NETWORK_DEFAULTS[network]["kind"]]]
            raise SpintwinError(f"{where}'core.kind' must be {' or '.join(map(repr, ok))} for network {network!r} "
                                f"(its trained weights), not {kind!r}")
        canonical = next(n for n, d in _NETWORK_DEFAULTS.items() if d["kind"] == kind)
        values = {**_NETWORK_DEFAULTS[canonical], "seed": 1}
    values.update({k: v for k, v in table.items() if k in names and v is not None})
    if steps is not None:
        values["steps"] = steps
    if seed is not None:
        values["seed"] = seed
    try:
        return network, QuantConfig(**values)
    except ValueError as e:
        found = re.match(r"QuantConfig\.(\w+) (.*)", str(e))
        if found:
            raise SpintwinError(f"{where}'core.{found.group(1)}' {found.group(2)}") from None
        raise SpintwinError(f"{where}core: {e}") from None


_NETS: dict = {}


def core_network(d: CoreDesign):
    """The bit-accurate network of a design (built once per process and config)."""
    from quantize.core import network_from_config

    desc = core_description(d.network)
    key = (d.cfg, d.network if desc is None else id(desc))
    if key not in _NETS:
        try:
            _NETS[key] = network_from_config(d.cfg, network=desc)
        except FileNotFoundError as e:
            raise SpintwinError(f"no trained weights for {d.network}: {e}") from None
        except ValueError as e:    # the description does not suit the kind (one line naming the layer)
            raise SpintwinError(f"network {d.network}: {' '.join(str(e).split())}") from None
    return _NETS[key]


def _design(cfg: dict, req: Request) -> CoreDesign:
    network, qcfg = core_quant_config(cfg["core"], network=req.network, steps=req.steps, seed=req.seed,
                                      path=req.config_path)
    dataset = data_spec(cfg["core"].get("dataset"), req.config_path, network)
    check_network_fits(network, dataset, f"config {req.config_path}: " if req.config_path is not None else "")
    return CoreDesign(network, qcfg, req.config_path, dataset)


def _check(cfg: dict, path) -> None:
    network, _ = core_quant_config(cfg["core"], path=path)
    check_network_fits(network, data_spec(cfg["core"].get("dataset"), path, network), f"config {path}: ")


def within_limits(d: CoreDesign):
    """The design's bit-accurate network, refused in one line (naming the layer) when the RTL
    core cannot run it (``quantize.core.check_core_network``) before a testbench or synthesis starts."""
    from quantize.core import check_core_network

    net = core_network(d)
    if net.network is not None:
        try:
            check_core_network(net.network)
        except ValueError as e:
            raise SpintwinError(f"core: {e}") from None
    return net


def _component(d: CoreDesign, style: str = "generic"):
    from hdl.core import SnnCore

    try:
        return SnnCore(core_network(d))
    except ValueError as e:
        raise SpintwinError(f"core: {e}") from None


def _verilog(d: CoreDesign, style: str, out: Path):
    from tb.core_launch import CORE_WAIVERS, WAIVERS, core_verilog

    vpath = atomic_write_text(out / f"{_TOP}.v", core_verilog(core_network(d))[0])
    waivers = [Path(WAIVERS), Path(CORE_WAIVERS)]
    for w in waivers:
        shutil.copyfile(w, out / w.name)
    return _TOP, vpath, [], waivers


def _manifest(d: CoreDesign, core, style: str) -> dict:
    from hdl.core import PIX_PER_BEAT
    from quantize.core import ENC_CYCLES, IMAGE_OVERHEAD, STEP_OVERHEAD

    net, cfg = core_network(d), d.cfg
    pixels = 1
    for v in net.input_shape:
        pixels *= int(v)
    return {
        "network": d.network, "kind": cfg.kind, "dataset": d.dataset, "dataset_record": core_dataset(d.dataset)[2],
        "pixels_per_beat": PIX_PER_BEAT, "beats_per_image": -(-pixels // PIX_PER_BEAT),
        "layers": [{"name": L.name, "kind": L.kind, "in_shape": list(L.in_shape), "pool_input": L.pool_input,
                    "out_hw": list(L.out_hw), "rows": L.rows, "columns": L.n, "row_tiles": L.tiles,
                    "shift": L.shift, "recurrent": L.recurrent, **w} for L, w in zip(core.layers, core.widths)],
        "neuron": {"threshold": net.threshold, "floor": net.floor, "vmax": net.vmax,
                   "lut": None if net.lut is None else [int(v) for v in net.lut], "lut_shift": net.lut_shift},
        "config": asdict(cfg),
        "cycle_model": {"enc_cycles": ENC_CYCLES, "step_overhead": STEP_OVERHEAD, "image_overhead": IMAGE_OVERHEAD,
                        "doc": "quantize.core.cycles_exact"},
    }


def _verify(d: CoreDesign, req: Request, echo, first: int = 0) -> dict:
    import time

    from tb import core_launch

    own = is_network_file(d.network) or d.dataset != "mnist"
    x_test = core_dataset(d.dataset)[1][0] if own else None
    n_test = TEST_IMAGES if x_test is None else len(x_test)
    if not 1 <= req.images <= n_test - first:
        raise SpintwinError(f"--images must be in 1..{n_test - first} ({d.dataset} has {n_test} test images), "
                            f"not {req.images}")
    net = within_limits(d)
    t0 = time.perf_counter()
    kw = {"x": x_test} if own else {}
    r = core_launch.run(d.network, sim=req.sim, images=req.images, steps=d.cfg.steps, seed=d.cfg.seed, first=first,
                        net=net, **kw)
    out = {"network": d.network, "sim": req.sim, "images": req.images, "steps": d.cfg.steps, "seed": d.cfg.seed,
           "bit_exact": True, "seconds": time.perf_counter() - t0,
           **{k: r.metrics.get(k) for k in ("cycles", "cycles_per_s", "seconds_per_image", "cycles_per_image")},
           "rtl_pred": r.metrics.get("accuracy_pred")}
    if echo:
        echo(f"core {d.network}: {req.images} images x {d.cfg.steps} steps bit-exact on {req.sim} "
             f"({out['cycles_per_s'] or 0:.0f} cycles/s)")
    return out


def _synth(d: CoreDesign, target: str) -> dict:
    within_limits(d)
    return {"component": _component(d), "top": _TOP, "timeout_s": 3600.0}


#: Test images whose mean cycle count the synthesis report gives (``cycles_images``).
SYNTH_CYCLE_IMAGES = 20


def _synth_report(d: CoreDesign, res: dict) -> dict:
    """Images/s at fmax from the cycle count: the mean of ``quantize.core.cycles_exact`` over
    the first ``SYNTH_CYCLE_IMAGES`` test images (``cycles_per_image`` from the run's event
    counts, which equals that mean; ``cycles_images`` says how many)."""
    from quantize.core import cycles_per_image
    from quantize.snn import run

    net = core_network(d)
    x = core_dataset(d.dataset)[1][0][:SYNTH_CYCLE_IMAGES]
    spikes = run(net, x)["spikes"]
    cyc = cycles_per_image(net, {k: v / len(x) for k, v in spikes.items()})
    keep = ("target", "device", "lut", "ff", "dsp", "bram", "fmax_mhz", "fits", "fits_reason", "capacity", "io",
            "timing_met", "runtime_s", "cached")
    return {"network": d.network, **{k: res.get(k) for k in keep}, "cycles_per_image": cyc, "cycles_images": len(x),
            "images_per_s_at_fmax": (res["fmax_mhz"] * 1e6 / cyc) if res.get("fmax_mhz") else None}


def _summary(m: dict) -> str:
    return f"network {m['network']}, {m['kind']}"


BLOCK = Block(
    name="core", help="the SNN inference core ([core]: cnn-if, cnn-stochastic, cmos-if with any formats)",
    table="core", design=_design, component=_component, verilog=_verilog, manifest=_manifest, verify=_verify,
    synth=_synth, summary=_summary, networks=CORE_NETWORKS, check=_check, extras={"synth_report": _synth_report},
)
