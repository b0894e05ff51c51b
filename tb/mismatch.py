"""Mismatch reporting, on both sides of a co-simulation.

* cocotb side: a scoreboard that finds a difference between the model and the RTL raises
  :class:`spinbase.errors.MismatchError` (:func:`check`), never a bare ``assert``: cocotb
  records the exception's class in the results XML (``<failure type="MismatchError">``) and
  :func:`tb.runner.run_cocotb` turns exactly those failures, and no others, into a
  MismatchError; any other exception of a testbench (a missing file, an import error, an
  ``assert`` about the testbench itself) is a :class:`spinbase.errors.ToolFailure`.
* pytest side: :func:`first_mismatch` names the first differing cycle, lane and field with
  both values; :func:`replay_on_mismatch` reruns a batch co-simulation that differed in a
  per-cycle (trace) mode to name the first differing beat; :func:`first_line` keeps the
  testbench's own message of a runner error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from spinbase.errors import MismatchError

__all__ = ["check", "first_line", "first_mismatch", "replay_on_mismatch"]


def check(problems: str | Sequence[str] | None, *, limit: int = 4) -> None:
    """Raise :class:`MismatchError` when a scoreboard found differences (call from a testbench).

    Parameters
    ----------
    problems : None or "" (no difference), one message, or a list of messages (empty: none);
        each message names the first differing cycle/beat, lane and field with both values.
    limit : how many messages of a list to keep (the count of the rest is appended).
    """
    if not problems:
        return
    if isinstance(problems, str):
        raise MismatchError(problems)
    problems = list(problems)
    more = f" (+{len(problems) - limit} more)" if len(problems) > limit else ""
    raise MismatchError("; ".join(problems[:limit]) + more)


def first_line(error: BaseException) -> str:
    """The testbench's own message of a :func:`tb.runner.run_cocotb` error, first line only
    (the runner's text is "cocotb test T failed on SIM (seed S): MESSAGE" and a log tail)."""
    text = str(error)
    if "failed on " in text and "): " in text:
        text = text.split("): ", 1)[-1]
    return text.splitlines()[0] if text else type(error).__name__


def replay_on_mismatch(batch: Callable[[], Any], trace: Callable[[MismatchError], Any], *,
                       label: Callable[[MismatchError], str] | None = None,
                       replay: Callable[[str], bool] | None = None) -> Any:
    """Run ``batch()``; when it raises :class:`MismatchError`, replay the same stimulus in a
    trace (per-cycle) mode to name the first difference.

    Parameters
    ----------
    batch : runs the batch co-simulation and returns its result.
    trace : ``trace(batch_error)`` runs the replay. A MismatchError it raises becomes
        ``MismatchError("<label><its first line> [batch: <batch's first line>]")``; when the
        replay agrees, the batch error is raised again.
    label : ``label(batch_error)``, a prefix of the replay's message (e.g. ``"image 3: "``).
    replay : ``replay(first line of the batch error)``: whether to replay at all; when not,
        the batch error is raised again.

    Only a MismatchError is replayed: a :class:`spinbase.errors.ToolFailure` of either run
    propagates unchanged (a crash gives no verdict, and a replay would only repeat it).
    """
    try:
        return batch()
    except MismatchError as batch_error:
        first = first_line(batch_error)
        if replay is not None and not replay(first):
            raise
        try:
            trace(batch_error)
        except MismatchError as trace_error:
            prefix = label(batch_error) if label is not None else ""
            raise MismatchError(f"{prefix}{first_line(trace_error)} [batch: {first}]") from None
        raise


def first_mismatch(expected: np.ndarray, actual: np.ndarray,
                   fields: Sequence[str] | None = None) -> str | None:
    """Describe the first element where *actual* differs from *expected*, or None.

    Arrays are shaped (cycles, lanes, fields) or (cycles, lanes); "first" is in
    (cycle, lane, field) order. Returns e.g. ``"cycle 17, lane 3, field v: expected 12,
    got 13"``; a shape mismatch is reported as such.
    """
    exp = np.asarray(expected)
    act = np.asarray(actual)
    if exp.shape != act.shape:
        return f"shape mismatch: expected {exp.shape}, got {act.shape}"
    if exp.ndim not in (2, 3):
        raise ValueError(f"arrays must be (cycles, lanes[, fields]), not shape {exp.shape}")
    diff = exp != act
    if not diff.any():
        return None
    idx = np.unravel_index(int(np.argmax(diff.reshape(-1))), diff.shape)
    cycle, lane = int(idx[0]), int(idx[1])
    if exp.ndim == 3:
        f = int(idx[2])
        name = fields[f] if fields is not None and f < len(fields) else str(f)
    else:
        name = fields[0] if fields else "value"
    count = int(diff.sum())
    return (f"cycle {cycle}, lane {lane}, field {name}: expected {exp[idx].item()}, "
            f"got {act[idx].item()} ({count} differing element{'s' if count != 1 else ''})")
