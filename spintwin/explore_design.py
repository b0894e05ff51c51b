"""The design file of every ``spintwin explore`` point: ``OUT/points/<key>.toml``.

A network point becomes a design whose ``[core]`` table spells out every
``quantize.snn.QuantConfig`` field of the point (nothing is left to a default), its network
and its data set, so that::

    spintwin generate core --config OUT/points/<key>.toml --out out/rtl
    spintwin verify core --config OUT/points/<key>.toml --images 10

build and check exactly the network the sweep evaluated (``spintwin.block_core`` reads the
table into the same ``QuantConfig``). A built-in network is named (``cnn-if``, ``cmos-if``,
``cnn-stochastic``: the network of the point's kind); a user's network file (``.npz`` / ``.nir``)
and a user's data set (``.npz``) are copied once into ``OUT/inputs/<sha16>-<name>`` (named by
the SHA-256 of their content, the hash in the point's cache key) and named relative to the
design file (``../inputs/...``, resolved against the design file's folder as every relative
``[core]`` path is), so the design works from any working folder, keeps working when the
output folder moves, and still builds the evaluated network after the user's own file changes.

A macrospin point becomes a design whose ``[twin.macrospin]`` table holds the point's device
keys (``spintwin generate macrospin --config ...``).

A network point that is no core design (``encoding = "deterministic"``, a ``tile`` that is not
a power of two: the ``[core]`` schema of :mod:`spintwin.config` refuses them) gets no file;
:func:`write_point_design` returns the schema's reason instead.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict
from pathlib import Path

from spinbase.errors import SpintwinError
from spinbase.fileio import atomic_write_bytes, atomic_write_text

__all__ = ["file_tag", "core_table", "design_text", "write_point_design", "INPUTS"]

#: Folder of the output folder that holds the copies of user files the designs name.
INPUTS = "inputs"


def file_tag(path) -> str:
    """16 hex digits of the SHA-256 of a file's content (part of a point's cache key)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def core_table(point: dict) -> tuple[dict | None, str | None]:
    """``([core] table, None)`` of a network point, or ``(None, reason)`` when the core's schema
    refuses one of its values. ``network`` and ``dataset`` are the point's (an absolute path for
    a user's file; a built-in network is the one of the point's kind)."""
    from golden.network import NETWORK_OF_KIND

    from .config import SCHEMA, check_key
    from .explore_eval import quant_config

    cfg = quant_config(point)
    table = {"network": point.get("network") or NETWORK_OF_KIND[cfg.kind], "dataset": point.get("dataset", "mnist"),
             **asdict(cfg)}
    for key, value in table.items():
        try:
            check_key(SCHEMA, f"core.{key}", value, "point", what="explore")
        except SpintwinError as e:
            return None, str(e).split(": ", 1)[-1]
    return table, None


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"a TOML design value must be finite, not {v!r}")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)      # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"no TOML form for {type(v).__name__} {v!r}")


def design_text(table: str, values: dict, header: list[str]) -> str:
    """A design file: ``header`` comment lines, then ``[table]`` with ``values`` in order."""
    lines = [f"# {h}" if h else "#" for h in header] + [f"[{table}]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def _copy_input(src: str, tag: str, out: Path) -> Path:
    """``src`` copied once (atomically) to ``out/inputs/<tag>-<name>``; refused in one line when
    its content no longer has the hash ``tag`` the sweep recorded."""
    dest = out / INPUTS / f"{tag}-{Path(src).name}"
    if dest.is_file() and file_tag(dest) == tag:
        return dest
    try:
        data = Path(src).read_bytes()
    except OSError as e:
        raise SpintwinError(f"{src}: cannot read ({type(e).__name__}) to copy it beside the designs") from None
    if hashlib.sha256(data).hexdigest()[:16] != tag:
        raise SpintwinError(f"{src} changed since the sweep read it (SHA-256 {tag}...); rerun explore")
    return atomic_write_bytes(dest, data)


def write_point_design(point: dict, key: str, label: str, out: Path) -> tuple[str | None, str | None]:
    """Write ``out/points/<key>.toml``, the design of one canonical point (module docstring).

    Returns ``(path relative to out, None)``, or ``(None, reason)`` for a network point the
    core cannot build."""
    path = out / "points" / f"{key}.toml"
    if point["type"] == "macrospin":
        from .explore import macro_schema

        values = {k: point[k] for k in macro_schema() if k in point}
        header = [f"spintwin explore point {key}: {label}",
                  "Build it: spintwin generate macrospin --config THIS_FILE --out out/rtl"]
        atomic_write_text(path, design_text("twin.macrospin", values, header))
        return f"points/{path.name}", None
    table, why = core_table(point)
    if table is None:
        return None, f"no core design: {why}"
    for field, tag_key in (("network", "weights"), ("dataset", "dataset_hash")):
        if field in point and os.path.isabs(str(table[field])):
            tag = str(point[tag_key]).removeprefix("sha256:")
            copy = _copy_input(table[field], tag, out)
            table[field] = Path(os.path.relpath(copy, path.parent)).as_posix()
    header = [f"spintwin explore point {key}: {label}",
              "Every QuantConfig field is given: this is exactly the point the sweep evaluated.",
              "Paths are relative to this file.",
              "Build it: spintwin generate core --config THIS_FILE --out out/rtl",
              "Check it: spintwin verify core --config THIS_FILE --images 10"]
    atomic_write_text(path, design_text("core", table, header))
    return f"points/{path.name}", None
