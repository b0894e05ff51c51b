"""Design configuration files (TOML): loading, defaults and validation.

A config is a nested table; :data:`SCHEMA` gives each known key its type and default. Unknown
keys, wrong types and out-of-range values raise :class:`SpintwinError` with one line naming
the file, the key, the expectation and the value.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

from spinbase.errors import SpintwinError

__all__ = ["SCHEMA", "DEFAULT_CONFIG", "load_config"]

#: The embedded default design (configs/default.toml in the repository).
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "default.toml"


def _pos_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _num_list(v):
    return isinstance(v, list) and len(v) > 0 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fmt(v):
    return (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
            and 2 <= v[0] <= 64 and -64 <= v[1] <= 128)


_DEVICES = ("mtj_neuron", "volatile_synapse", "step_neuron")


def _pos_num_list(v):
    return _num_list(v) and all(x > 0 for x in v)


#: key path -> (check, expectation text, default)
SCHEMA = {
    "demo.seed": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer >= 0", 2026),
    "demo.trials": (_pos_int, "an integer > 0", 300),
    "demo.mtj_neuron.currents_uA": (_pos_num_list, "a non-empty list of currents > 0", [40, 50, 60, 66, 71, 76, 85, 100, 120, 140]),
    "demo.volatile_synapse.spacings_ns": (lambda v: _num_list(v) and all(x >= 1 for x in v), "a non-empty list of spacings >= 1 ns", [2, 3, 4, 5, 6, 7]),
    "demo.step_neuron.currents_uA": (_num_list, "a non-empty list of numbers", [-20, -10, -5, -2, 0, 2, 5, 10, 20]),
    "demo.dw.currents_uA": (_pos_num_list, "a non-empty list of currents > 0", [1, 2, 5, 10.6, 20, 50, 100, 200, 400]),
    # The system stages of the demo: twin against CMOS on MNIST, the core's Verilog, co-simulation, synthesis.
    "demo.system.images": (lambda v: _pos_int(v) and v <= 10000, "an integer in 1..10000", 200),
    "demo.system.steps": (lambda v: _pos_int(v) and v <= 1000, "an integer in 1..1000", 100),
    "demo.system.cosim_images": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100,
                                 "an integer in 0..100 (0 skips the co-simulation)", 3),
    "demo.system.synth_target": (lambda v: v in ("ecp5-85f", "ice40-up5k", "none"),
                                 "'ecp5-85f', 'ice40-up5k' or 'none'", "ecp5-85f"),
    "demo.system.synth_timeout_s": (lambda v: _num(v) and 10 <= v <= 7200, "seconds in 10..7200", 180),
    # The hardware twin's macrospin integrator (quantize.macrospin / hdl.macrospin).
    "twin.macrospin.device": (lambda v: v in _DEVICES, f"one of {', '.join(_DEVICES)}", "mtj_neuron"),
    "twin.macrospin.dt_ps": (lambda v: _num(v) and 0 < v <= 100, "a step in (0, 100] ps", 0.1),
    "twin.macrospin.lanes": (lambda v: _pos_int(v) and v <= 64, "an integer in 1..64", 2),
    "twin.macrospin.magnets": (lambda v: _pos_int(v) and v <= 65536, "an integer in 1..65536", 32),
    "twin.macrospin.dsp_per_lane": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 1024,
                                    "an integer in 0..1024 (products per lane on DSP blocks)", 64),
    "twin.macrospin.synth_seed": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 10**6,
                                  "an integer in 1..1000000 (nextpnr placement seed)", 1),
    "twin.macrospin.seed": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer >= 0", 1),
    "twin.macrospin.rounding": (lambda v: v in ("trunc", "round_half_up"), "'trunc' or 'round_half_up'", "round_half_up"),
    "twin.macrospin.m_format": (_fmt, "[width, frac] of a signed format", [18, 16]),
    "twin.macrospin.h_format": (_fmt, "[width, frac] of a signed format", [18, 9]),
    "twin.macrospin.dm_format": (_fmt, "[width, frac] of a signed format", [18, 22]),
    "twin.macrospin.norm_format": (_fmt, "[width, frac] of a signed format", [18, 16]),
    "twin.macrospin.drive_format": (_fmt, "[width, frac] of a signed format", [12, 0]),
    "twin.macrospin.const_width": (lambda v: _pos_int(v) and 8 <= v <= 32, "an integer in 8..32", 12),
    "twin.macrospin.current_lsb_uA": (lambda v: _num(v) and v > 0, "a current > 0 uA", 0.1),
    "twin.macrospin.noise_uniform_bits": (lambda v: _pos_int(v) and v <= 16, "an integer in 1..16", 5),
    "twin.macrospin.noise_uniforms": (lambda v: _pos_int(v) and v <= 32, "an integer in 1..32", 12),
}


def _flatten(table, prefix=""):
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, path + ".")
        else:
            yield path, value


def _set(tree, path, value):
    *parents, leaf = path.split(".")
    for p in parents:
        tree = tree.setdefault(p, {})
    tree[leaf] = value


def load_config(path=None) -> dict:
    """Load and validate a design config; missing keys take their defaults.

    Parameters
    ----------
    path : str or Path, optional
        TOML file; the embedded default when None.

    Returns
    -------
    dict
        Nested dict with every key of :data:`SCHEMA`.
    """
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpintwinError(f"config {path}: file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise SpintwinError(f"config {path}: not valid TOML ({e})") from None
    cfg = {}
    for key, (_, _, default) in SCHEMA.items():
        _set(cfg, key, copy.deepcopy(default))
    for key, value in _flatten(raw):
        if key not in SCHEMA:
            raise SpintwinError(f"config {path}: unknown key '{key}' (known: {', '.join(sorted(SCHEMA))})")
        check, expect, _ = SCHEMA[key]
        if not check(value):
            raise SpintwinError(f"config {path}: '{key}' must be {expect}, not {value!r}")
        _set(cfg, key, value)
    return cfg
