"""Design configuration files (TOML): loading, defaults and validation.

A config is a nested table; :data:`SCHEMA` gives each known key its check, expectation and
default (one schema for every table of the design file). Unknown keys, wrong types and
out-of-range values raise :class:`SpintwinError` with one line naming the file, the key, the
expectation and the value; so do the semantic checks of the blocks a table describes (the
twin's format widths and ``magnets >= depth + 3``, the core's QuantConfig), all before any
work starts.

The ``[core]`` table maps 1:1 onto :class:`quantize.snn.QuantConfig`; a key left out takes
the value of its network. ``network`` is a built-in name (:data:`CORE_NETWORKS`) or a network
file (``.npz`` description or ``.nir`` graph, relative to the design file); ``dataset`` a name of
:data:`spinbase.data.DATASETS` or a user's ``.npz`` (also relative to the design file). Whether
the file exists, is a network, and whether the data set fits it, is checked by the core's
semantic check (``spintwin.block_core``), still before any work.
"""

from __future__ import annotations

import copy
import math
import tomllib
from importlib import resources
from pathlib import Path

from spinbase.data import DATASETS
from spinbase.errors import SpintwinError

__all__ = ["SCHEMA", "DEFAULT_CONFIG", "DT_PS_MAX", "load_config", "read_toml", "check_table", "check_key"]


def _default_config() -> Path:
    """configs/default.toml: package data when installed (``spintwin.configs``), else the checkout's."""
    try:
        found = resources.files("spintwin.configs") / "default.toml"
        if found.is_file():
            return Path(str(found))
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "configs" / "default.toml"


#: The embedded default design (configs/default.toml; installed as package data spintwin.configs).
DEFAULT_CONFIG = _default_config()

#: Largest integration step (ps). The Heun scheme is second order: its zero-temperature gap to
#: the golden integrator is < 1e-3 at 0.1 ps (tests/test_macrospin_model.py, converged P_sw at
#: 0.05 ps), so at 1 ps it is ~100x that, ~0.1 of |m| = 1; 1 ps is also the largest step any
#: golden device preset uses (step_neuron). A longer step is not a simulation of the device.
DT_PS_MAX = 1.0


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _pos_int(v):
    return _int(v) and v > 0


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _num_list(v):
    return isinstance(v, list) and len(v) > 0 and all(_num(x) for x in v)


def _pos_num_list(v):
    return _num_list(v) and all(x > 0 for x in v)


def _fmt(v):
    return (isinstance(v, list) and len(v) == 2 and all(_int(x) for x in v)
            and 2 <= v[0] <= 64 and -64 <= v[1] <= 128)


def _int_in(lo, hi):
    return (lambda v: _int(v) and lo <= v <= hi), f"an integer in {lo}..{hi}"


def _one_of(*names):
    return (lambda v: v in names), "one of " + ", ".join(repr(n) for n in names)


def _file_or(names, suffixes):
    """A name of ``names`` or a file name ending in one of ``suffixes`` (a non-empty string)."""
    def check(v):
        return isinstance(v, str) and (v in names or (len(v) > len(min(suffixes, key=len))
                                                      and v.lower().endswith(suffixes) and "\0" not in v))
    return check, (f"one of {', '.join(repr(n) for n in names)} or a {' / '.join(suffixes)} file")


_DEVICES = ("mtj_neuron", "volatile_synapse", "step_neuron")
#: Built-in networks of the SNN core (quantize.core.NETWORKS).
CORE_NETWORKS = ("cnn-if", "cnn-stochastic", "cmos-if")
CORE_KINDS = ("twin-if", "twin-stochastic", "cmos-if")


def _core(check_expect, unit=""):
    check, expect = check_expect
    return check, expect + unit, None   # None: the network's own value


#: key path -> (check, expectation text, default)
SCHEMA = {
    "demo.seed": (lambda v: _int(v) and v >= 0, "an integer >= 0", 2026),
    "demo.trials": (_pos_int, "an integer > 0", 300),
    "demo.mtj_neuron.currents_uA": (_pos_num_list, "a non-empty list of currents > 0", [40, 50, 60, 66, 71, 76, 85, 100, 120, 140]),
    "demo.volatile_synapse.spacings_ns": (lambda v: _num_list(v) and all(x >= 1 for x in v), "a non-empty list of spacings >= 1 ns", [2, 3, 4, 5, 6, 7]),
    "demo.step_neuron.currents_uA": (_num_list, "a non-empty list of numbers", [-20, -10, -5, -2, 0, 2, 5, 10, 20]),
    "demo.dw.currents_uA": (_pos_num_list, "a non-empty list of currents > 0", [1, 2, 5, 10.6, 20, 50, 100, 200, 400]),
    # The system stages of the demo: twin against CMOS on MNIST, the core's Verilog, co-simulation, synthesis.
    "demo.system.images": (lambda v: _pos_int(v) and v <= 10000, "an integer in 1..10000", 200),
    "demo.system.steps": (lambda v: _pos_int(v) and v <= 1000, "an integer in 1..1000", 100),
    "demo.system.cosim_images": (lambda v: _int(v) and 0 <= v <= 100,
                                 "an integer in 0..100 (0 skips the co-simulation)", 3),
    "demo.system.synth_target": (lambda v: v in ("ecp5-85f", "ice40-up5k", "none"),
                                 "'ecp5-85f', 'ice40-up5k' or 'none'", "ecp5-85f"),
    "demo.system.synth_timeout_s": (lambda v: _num(v) and 10 <= v <= 7200, "seconds in 10..7200", 180),
    # The hardware twin's macrospin integrator (quantize.macrospin / hdl.macrospin). The defaults
    # form a valid design (magnets >= pipeline depth + 3): an empty file is the default twin.
    "twin.macrospin.device": (lambda v: v in _DEVICES, f"one of {', '.join(_DEVICES)}", "mtj_neuron"),
    "twin.macrospin.dt_ps": (lambda v: _num(v) and 0 < v <= DT_PS_MAX,
                             f"a step in (0, {DT_PS_MAX:g}] ps (the integrator's accuracy bound)", 0.1),
    "twin.macrospin.lanes": (lambda v: _pos_int(v) and v <= 64, "an integer in 1..64", 5),
    "twin.macrospin.magnets": (lambda v: _pos_int(v) and v <= 65536, "an integer in 1..65536", 100),
    "twin.macrospin.dsp_per_lane": (lambda v: _int(v) and 0 <= v <= 1024,
                                    "an integer in 0..1024 (products per lane on DSP blocks)", 30),
    "twin.macrospin.synth_seed": (lambda v: _int(v) and 1 <= v <= 10**6,
                                  "an integer in 1..1000000 (nextpnr placement seed)", 6),
    "twin.macrospin.seed": (lambda v: _int(v) and 0 <= v < 2**32, "an integer in 0..2**32-1", 1),
    "twin.macrospin.rounding": (lambda v: v in ("trunc", "round_half_up"), "'trunc' or 'round_half_up'", "round_half_up"),
    "twin.macrospin.m_format": (_fmt, "[width, frac] of a signed format", [18, 16]),
    "twin.macrospin.h_format": (_fmt, "[width, frac] of a signed format", [18, 9]),
    "twin.macrospin.dm_format": (_fmt, "[width, frac] of a signed format", [18, 22]),
    "twin.macrospin.norm_format": (_fmt, "[width, frac] of a signed format", [18, 16]),
    "twin.macrospin.drive_format": (_fmt, "[width, frac] of a signed format", [12, 0]),
    "twin.macrospin.const_width": (lambda v: _pos_int(v) and 8 <= v <= 32, "an integer in 8..32", 12),
    "twin.macrospin.current_lsb_uA": (lambda v: _num(v) and 0 < v <= 1e6, "a finite current in (0, 1e6] uA", 0.1),
    "twin.macrospin.noise_uniform_bits": (lambda v: _pos_int(v) and v <= 16, "an integer in 1..16", 5),
    "twin.macrospin.noise_uniforms": (lambda v: _pos_int(v) and v <= 32, "an integer in 1..32", 12),
    # The SNN core (quantize.snn.QuantConfig field for field; hdl.core). Left out: the network's value.
    "core.network": (*_file_or(CORE_NETWORKS, (".npz", ".nir")), "cnn-if"),
    # None: MNIST for a built-in network, else the first built-in data set that fits it.
    "core.dataset": (*_file_or(tuple(DATASETS), (".npz",)), None),
    "core.kind": _core(_one_of(*CORE_KINDS)),
    "core.levels": _core(_int_in(2, 256), " (DW conductance levels)"),
    "core.weight_bits": _core(_int_in(2, 16), " (CMOS weight width)"),
    "core.scale_bits": _core(_int_in(2, 18)),
    "core.membrane_bits": _core(_int_in(4, 40)),
    "core.membrane_frac": _core(_int_in(0, 38), " and <= membrane_bits - 2"),
    "core.input_bits": _core(_int_in(1, 16)),
    "core.input_rate": _core(((lambda v: _num(v) and 0 < v <= 1), "a spike probability in (0, 1]")),
    "core.steps": _core(_int_in(1, 100000)),
    "core.encoding": _core(((lambda v: v == "lfsr"), "'lfsr' (the core encodes with LFSRs)")),
    "core.tile": _core(((lambda v: _int(v) and 1 <= v <= 4096 and not v & (v - 1)),
                        "a power of two in 1..4096 (crossbar rows per tile)")),
    "core.reset_position": _core(((lambda v: _num(v) and 0 <= v < 1), "a fraction of the track in [0, 1)")),
    "core.lut_addr_bits": _core(_int_in(1, 16)),
    "core.lut_bits": _core(_int_in(1, 16)),
    "core.lut_range": _core(((lambda v: _num(v) and 0 < v <= 1e6), "a finite z range > 0")),
    "core.seed": _core(_int_in(0, 2**32 - 1)),
    "core.parallelism": _core(_int_in(1, 64), " (scatter lanes: a conv layer's accumulator banks)"),
    "core.early_margin": _core(_int_in(-1, 65535), " (early decision: -1 off, 0 lossless, M: stop at a lead "
                                                   "of M)"),
}


def _flatten(table, prefix=""):
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _flatten(value, path + ".")
        elif isinstance(value, dict):
            yield path + ".", None       # an empty table: known if it is a prefix of a key
        else:
            yield path, value


def _set(tree, path, value):
    *parents, leaf = path.split(".")
    for p in parents:
        tree = tree.setdefault(p, {})
    tree[leaf] = value


def read_toml(path, what: str = "config") -> dict:
    """Parse a TOML file; every failure (missing, a folder, unreadable, not UTF-8, not TOML) is
    one line naming the file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
        return tomllib.loads(text)
    except FileNotFoundError:
        raise SpintwinError(f"{what} {path}: file not found") from None
    except IsADirectoryError:
        raise SpintwinError(f"{what} {path}: is a folder, not a TOML file") from None
    except UnicodeDecodeError as e:
        raise SpintwinError(f"{what} {path}: not UTF-8 text (byte {e.start}); TOML files are UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise SpintwinError(f"{what} {path}: not valid TOML ({' '.join(str(e).split())})") from None
    except (OSError, ValueError) as e:
        raise SpintwinError(f"{what} {path}: cannot read ({type(e).__name__}: {' '.join(str(e).split())})") from None


def check_key(schema: dict, key: str, value, where, *, what: str = "config", prefix: str = "") -> None:
    """One value against ``schema`` (key -> (check, expectation, default)): an unknown key or a
    value its check refuses -> SpintwinError, one line ``"<what> <where>: '<prefix><key>' must be
    <expectation>, not <value>"`` (``prefix``: the table the schema's keys sit in, for the message)."""
    if key not in schema:
        raise SpintwinError(f"{what} {where}: unknown key '{prefix}{key}' (known: {', '.join(sorted(schema))})")
    check, expect, _ = schema[key]
    if not check(value):
        raise SpintwinError(f"{what} {where}: '{prefix}{key}' must be {expect}, not {value!r}")


def check_table(raw: dict, schema: dict, where, *, what: str = "config", prefix: str = "") -> dict:
    """Defaults of ``schema`` overlaid with ``raw``'s values, each checked by :func:`check_key`:
    unknown key or table, wrong type, out of range -> SpintwinError
    ``"<what> <where>: '<prefix><key>' must be <expectation>, not <value>"``."""
    cfg: dict = {}
    for key, (_, _, default) in schema.items():
        _set(cfg, key, copy.deepcopy(default))
    for key, value in _flatten(raw):
        if key.endswith("."):
            if not any(k.startswith(key) for k in schema):
                raise SpintwinError(f"{what} {where}: unknown table '{prefix}{key[:-1]}'")
            continue
        check_key(schema, key, value, where, what=what, prefix=prefix)
        _set(cfg, key, value)
    return cfg


def load_config(path=None, *, semantic: bool = True) -> dict:
    """Load and validate a design config; missing keys take their defaults.

    Parameters
    ----------
    path : str or Path, optional
        TOML file; the embedded default when None.
    semantic : bool
        Also run the blocks' own checks (``spintwin.blocks.check_design``): the twin's formats
        and pipeline depth, the core's QuantConfig. Cheap (no network is built).

    Returns
    -------
    dict
        Nested dict with every key of :data:`SCHEMA` (``core`` keys left out are None: the
        network's value).
    """
    path = Path(path) if path is not None else DEFAULT_CONFIG
    if str(path) in ("", "."):
        raise SpintwinError(f"config {str(path)!r}: not a file name")
    cfg = check_table(read_toml(path), SCHEMA, path)
    if semantic:
        from .blocks import check_design

        check_design(cfg, path)
    return cfg
