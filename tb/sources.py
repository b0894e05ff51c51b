"""The Verilog a co-simulation build compiles, prepared per simulator, and its cache key.

:func:`design_sources` turns ``tb.runner.run_cocotb``'s ``design`` (Verilog text or paths) into
source entries; :func:`icarus_sources` applies the Icarus start-up fix (:func:`icarus_comb_kick`)
to them; :func:`cache_key` names the build they make (Amaranth's ``src`` attributes left out).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

__all__ = ["cache_key", "design_sources", "icarus_comb_kick", "icarus_sources"]

_SRC_ATTR = re.compile(r"\(\*\s*src\s*=\s*\"(?:[^\"\\]|\\.)*\"\s*\*\)")


def design_sources(design, copy_spaced: bool = False) -> list[tuple[str, str | None, Path | None]]:
    """[(hash_text, text_or_None, path_or_None)] for each source; ``copy_spaced``: a file whose
    path has a space is passed as text (written into the build), for GNU make's sake."""
    items = design if isinstance(design, (list, tuple)) else [design]
    out = []
    for item in items:
        if isinstance(item, os.PathLike) or (
            isinstance(item, str) and "\n" not in item and item.endswith((".v", ".sv"))
        ):
            path = Path(item).resolve()
            if not path.is_file():
                raise FileNotFoundError(f"Verilog source {path} does not exist")
            text = path.read_text()
            out.append((text, text, None) if copy_spaced and " " in str(path) else (text, None, path))
        elif isinstance(item, str):
            out.append((item, item, None))
        else:
            raise TypeError(f"design must be Verilog text or a path, not {type(item).__name__}")
    return out


# Yosys's write_verilog (Amaranth's backend) emits combinational processes as ``always @*``
# and, so that each runs once at time zero, declares ``reg \$auto$verilog_backend...$1 = 0;``
# and names it in every such block. Under -g2012 (the cocotb Icarus runner's mode) Icarus
# treats that declaration initialiser as SystemVerilog variable initialisation: no event, so
# a block whose inputs never change (a constant table indexed by a register that keeps its
# reset value, e.g. hdl.core's per-tile scale codes) keeps its variable at X. Verilator
# evaluates all combinational logic at start-up. For Icarus the trigger is toggled at #0,
# after every ``always @*`` has reached its event control.
_YOSYS_COMB_TRIGGER = re.compile(
    r"^(?P<indent>[ \t]*)reg (?P<name>\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+ ) = 0;[ \t]*$", re.M)


def icarus_comb_kick(text: str) -> str:
    """``text`` with Yosys's time-zero trigger of ``always @*`` blocks made to fire in Icarus."""
    return _YOSYS_COMB_TRIGGER.sub(
        lambda mt: f"{mt.group(0)}\n{mt.group('indent')}initial #0 {mt.group('name')}= 1'h1;", text)


def icarus_sources(sources):
    """``design_sources`` entries with ``icarus_comb_kick`` applied (changed files become text)."""
    out = []
    for hash_text, text, path in sources:
        kicked = icarus_comb_kick(hash_text)
        out.append((hash_text, text, path) if kicked == hash_text else (kicked, kicked, None))
    return out


def cache_key(sim, sim_version, toplevel, sources, waves, timescale, build_args) -> str:
    """The build cache key (sha256 hex) of ``sources`` (``design_sources`` entries) for ``sim``
    at ``sim_version`` with these options, the cocotb and Python versions."""
    import cocotb

    h = hashlib.sha256()
    # Amaranth's (* src = "file:line" *) attributes change with every unrelated edit of a
    # source file; they do not change the compiled model, so they do not invalidate it.
    # Whitespace runs are collapsed too, which only a change inside a string literal could
    # notice.
    texts = [" ".join(_SRC_ATTR.sub("", text).split()) for text, _, _ in sources]
    blob = json.dumps(
        [sim, sim_version, cocotb.__version__, sys.version_info[:2], toplevel, texts,
         bool(waves), list(timescale) if timescale else None, list(build_args)],
    )
    h.update(blob.encode())
    return h.hexdigest()
