"""Random valid design files for the random-design equivalence test (tests/test_random_designs.py).

A draw is a ``[twin.macrospin]`` or ``[core]`` table drawn from ``random.Random`` keyed by the
run's seed, the block and the draw's index (so any one draw reproduces on its own), written as
TOML and kept only when ``spintwin.config.load_config`` accepts it (reject sampling: every
refusal is counted with its one-line reason). The ranges are the schema's, narrowed where a
wider value only makes the Verilator build longer without reaching new logic (lanes 1..3,
widths up to 28 bits, 3-6 core steps).

The run's seed: ``$SPINTWIN_RANDOM_DESIGN_SEED`` when set, else a hash of the checked-out
commit and the UTC date (each commit, and each day, draws other designs; a rerun of one CI job
the same day draws the same ones).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from spinbase.errors import SpintwinError

__all__ = ["SEED_ENV", "PRODUCTS_PER_LANE", "Draw", "run_seed", "to_toml", "draw_macrospin", "draw_core", "pipeline_depth",
           "MAX_TRIES"]

SEED_ENV = "SPINTWIN_RANDOM_DESIGN_SEED"
#: Draws tried before a block's generator is declared out of step with the validator.
MAX_TRIES = 200
_REPO = Path(__file__).resolve().parent.parent


@dataclass
class Draw:
    """One accepted design: its TOML text, the loaded config and the refusals before it."""

    block: str
    index: int
    seed: int
    toml: str
    path: Path
    cfg: dict
    rejections: list = field(default_factory=list)
    #: What the generator knew of the accepted draw and of each rejected one (e.g. the depth).
    info: dict = field(default_factory=dict)
    rejected_info: list = field(default_factory=list)


def run_seed(environ=None, *, today=None, commit=None) -> tuple[int, str]:
    """(seed, where it came from) of this run's draws."""
    environ = os.environ if environ is None else environ
    given = environ.get(SEED_ENV, "").strip()
    if given:
        try:
            return int(given, 0), f"${SEED_ENV}"
        except ValueError:
            raise SpintwinError(f"${SEED_ENV} must be an integer, not {given!r}") from None
    if commit is None:
        try:
            commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=_REPO, capture_output=True, text=True,
                                    timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            commit = ""
    today = today or datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    digest = hashlib.sha256(f"{commit or 'no-git'}:{today}".encode()).digest()
    return int.from_bytes(digest[:4], "big"), f"commit {commit[:12] or '(none)'}, {today}"


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v + '"'
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return str(int(v))


def to_toml(table: str, values: dict, comment: str = "") -> str:
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    return head + f"[{table}]\n" + "".join(f"{k} = {_value(v)}\n" for k, v in values.items())


def pipeline_depth(cfg: dict) -> int:
    """The integrator's pipeline depth for a loaded config's formats and DSP mapping (asked of
    the RTL component's own schedule, with the largest magnet count; nothing is built)."""
    import copy

    from hdl.macrospin import MacrospinIntegrator
    from spintwin.twin import macrospin_from_config

    cfg = copy.deepcopy(cfg)
    cfg["twin"]["macrospin"]["magnets"] = 65536
    model, noise, _ = macrospin_from_config(cfg)
    return MacrospinIntegrator.check(model, noise).depth


def _signed(rng, widths, int_bits):
    w = rng.randint(*widths)
    return [w, w - 1 - rng.randint(*int_bits)]


#: Variable-by-variable products in one lane of the integrator (hdl.macrospin).
PRODUCTS_PER_LANE = 30


def _macrospin_values(rng: random.Random, lut_products: int | None = None) -> dict:
    # Integer bits (left of the point, sign excluded) per format: m holds +-1.5 (>= 1), fields a
    # few H_K, increments are small (dm's frac may exceed its width), |m|^2 and (3 - s) / 2 < 4.
    lanes = rng.randint(1, 3)
    if lut_products is None:
        dsp = rng.choice([0, PRODUCTS_PER_LANE, rng.randint(0, PRODUCTS_PER_LANE)])
    else:
        dsp = rng.randint(max(0, PRODUCTS_PER_LANE - lut_products // lanes), PRODUCTS_PER_LANE)
    return {
        "device": rng.choice(["mtj_neuron", "volatile_synapse", "step_neuron"]),
        "dt_ps": rng.choice([0.05, 0.1, 0.2, 0.5, 1.0]),
        "lanes": lanes,
        "dsp_per_lane": dsp,
        "seed": rng.randrange(2**32),
        "rounding": rng.choice(["trunc", "round_half_up"]),
        "m_format": _signed(rng, (10, 26), (1, 3)),
        "h_format": _signed(rng, (12, 28), (2, 10)),
        "dm_format": _signed(rng, (12, 28), (-8, 0)),
        "norm_format": _signed(rng, (12, 26), (1, 3)),
        "drive_format": [rng.randint(8, 16), 0],
        "const_width": rng.randint(10, 24),
        "current_lsb_uA": rng.choice([0.05, 0.1, 0.2, 0.5, 1.0]),
        "noise_uniform_bits": rng.randint(2, 8),
        "noise_uniforms": rng.randint(2, 16),
    }


def _core_values(rng: random.Random) -> dict:
    network = rng.choice(["cnn-if", "cnn-if", "cnn-stochastic"])
    kind = rng.choice(["twin-if", "cmos-if"]) if network == "cnn-if" else "twin-stochastic"
    mb = rng.randint(10, 24)
    v = {"network": network, "kind": kind, "scale_bits": rng.randint(4, 14), "membrane_bits": mb,
         "membrane_frac": rng.randint(2, mb - 2), "input_bits": rng.randint(2, 8),
         "input_rate": rng.choice([0.25, 0.5, 0.75, 1.0]), "steps": rng.randint(3, 6),
         "tile": rng.choice([16, 32, 64]), "seed": rng.randrange(2**32)}
    if kind == "cmos-if":
        v["weight_bits"] = rng.randint(3, 10)
    else:
        v["levels"] = rng.randint(2, 64)
    if kind == "twin-if":
        v["reset_position"] = rng.choice([0.0, 0.25, 0.5, 0.75])
    if kind == "twin-stochastic":
        v.update(lut_addr_bits=rng.randint(3, 8), lut_bits=rng.randint(4, 10), lut_range=rng.choice([2.0, 4.0, 8.0, 16.0]))
    return v


def _accept(block, index, seed, rng, folder: Path, make, extra_check=None) -> Draw:
    from spintwin.config import load_config

    folder.mkdir(parents=True, exist_ok=True)
    rejections, rejected_info = [], []
    for attempt in range(MAX_TRIES):
        table, values, info = make(rng)
        text = to_toml(table, values, f"random {block} design #{index} of run seed {seed} (attempt {attempt})")
        path = folder / f"{block}-{index}.toml"
        path.write_text(text)
        try:
            cfg = load_config(path)
            if extra_check is not None:
                extra_check(cfg, path)
        except SpintwinError as e:
            rejections.append(str(e).splitlines()[0])
            rejected_info.append(info)
            continue
        return Draw(block, index, seed, text, path, cfg, rejections, info, rejected_info)
    raise AssertionError(f"no valid {block} design in {MAX_TRIES} draws (seed {seed}, #{index}); the last refusals:\n"
                         + "\n".join(rejections[-5:]))


def draw_macrospin(seed: int, index: int, folder: Path, *, lut_products: int | None = None) -> Draw:
    """A valid random ``[twin.macrospin]`` design. ``magnets`` is drawn around the pipeline
    depth (the component's, for the drawn formats): offsets below 3 are refused by the
    validator (``magnets >= depth + 3``) and counted as rejections.

    ``lut_products`` bounds ``lanes * (30 - dsp_per_lane)``, the products built as LUT
    multipliers (``hdl.lutmul``): they dominate the Verilator build (one lane with every product
    on LUTs is ~10 MB of Verilog, 19x one with every product on DSP blocks, and each lane repeats
    it). None: any mapping, 0..90 LUT products."""
    rng = random.Random(f"{seed}:macrospin:{index}:{lut_products}")

    def make(rng):
        from spintwin.config import check_table, SCHEMA

        values = _macrospin_values(rng, lut_products)
        probe = check_table({"twin": {"macrospin": values}}, SCHEMA, "(draw)")
        try:
            depth = pipeline_depth(probe)
        except (ValueError, SpintwinError):
            depth = 0          # a format the quantize configs refuse: load_config says which
        offset = rng.randint(0, 40)
        values["magnets"] = depth + offset
        return "twin.macrospin", values, {"depth": depth, "offset": offset}

    return _accept("macrospin", index, seed, rng, folder, make)


def _core_limits(cfg: dict, path) -> None:
    """The checks ``verify core`` runs before its testbench (the network within the RTL's limits)."""
    from spintwin.block_core import within_limits
    from spintwin.blocks import Request
    from spintwin.flow import design_of

    _, design = design_of("core", cfg, Request(config_path=path))
    within_limits(design)


def draw_core(seed: int, index: int, folder: Path) -> Draw:
    """A valid random ``[core]`` design on a built-in network (its kind consistent with the
    network's trained weights), kept when the config and the bit-accurate network accept it."""
    rng = random.Random(f"{seed}:core:{index}")
    return _accept("core", index, seed, rng, folder, lambda rng: ("core", _core_values(rng), {}), _core_limits)
