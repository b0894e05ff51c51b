"""Lint of generated Verilog: ``verilator --lint-only -Wall`` with the documented waivers."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from boards.tools import ToolError, verilator_env

__all__ = ["lint"]


def lint(verilog: str | os.PathLike, waivers: Sequence[str | os.PathLike] = (),
         extra: Sequence[str | os.PathLike] = (), *, top: str | None = None) -> dict:
    """Run ``verilator --lint-only -Wall`` on a design.

    Parameters
    ----------
    verilog : path of the design's Verilog (its stem names the top module).
    waivers : Verilator configuration files (``.vlt``) with the waivers, in order.
    extra : further sources of the design (e.g. the ECP5 blocks' simulation models).
    top : the top module; defaults to the file's stem when there are ``extra`` sources.

    Returns
    -------
    dict
        ``clean`` (no error and no ``%Warning``), ``log`` (its last 4,000 characters) and
        ``command`` (the command line, file names only).

    Raises
    ------
    boards.tools.ToolError
        Verilator is not usable here (one line).
    """
    vpath = Path(verilog)
    try:
        info = verilator_env()
    except ToolError as e:
        raise ToolError(f"lint needs Verilator: {e}") from None
    if top is None and extra:
        top = vpath.stem
    top_args = ["--top-module", top] if top else []
    files = [*map(Path, waivers), vpath, *map(Path, extra)]
    proc = subprocess.run([str(info.executable), "--lint-only", "-Wall", *top_args, *map(str, files)],
                          capture_output=True, text=True, env=info.env)
    log = (proc.stdout + proc.stderr).strip()
    return {"clean": proc.returncode == 0 and "%Warning" not in log, "log": log[-4000:],
            "command": " ".join(["verilator --lint-only -Wall", *top_args, *(f.name for f in files)])}
