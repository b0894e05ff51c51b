"""cocotb-side helpers: they run inside the simulator's embedded Python (tb/runner.py has the
pytest side). Parameters arrive as data (:func:`tb_param`), figures leave through
:func:`report_metrics`; :func:`start_clock`, :func:`reset`, :func:`run_cycles` and
:func:`writer` are the fast cycle loop that tb/runner.py's docstring explains.

Nothing here imports Amaranth or the boards layer: the simulator process stays light.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spinbase.errors import MismatchError
from spinbase.fileio import atomic_write_text

__all__ = ["METRICS_FILE", "report_metrics", "reset", "run_cycles", "start_clock", "tb_param", "writer"]

#: The file :func:`report_metrics` writes in the run's directory (tb.runner reads it back).
METRICS_FILE = "tb_metrics.json"
_METRICS_FILE = METRICS_FILE



def tb_param(name: str, default: Any = None) -> Any:
    """A testbench parameter passed through ``run_cocotb(env=...)`` (JSON-decoded)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def report_metrics(**values: Any) -> None:
    """Record figures (e.g. cycles/s) for :attr:`CocotbRun.metrics`. Call from a cocotb test."""
    path = Path(_METRICS_FILE)  # the simulator runs in the run's test_dir
    data = json.loads(path.read_text()) if path.is_file() else {}
    data.update(values)
    atomic_write_text(path, json.dumps(data, indent=1, default=float))


def start_clock(clk, period_ns: float = 10.0):
    """Start a C-level (GPI) clock on *clk*: no Python runs per edge, on every simulator."""
    from cocotb.clock import Clock

    clock = Clock(clk, period_ns, unit="ns", impl="gpi")
    clock.start()
    return clock


def writer(handle):
    """A fast ``write(int)`` for *handle*: the raw GPI setter, applied at once (no
    ``LogicArray``, no ReadWrite round trip that cocotb schedules on Icarus)."""
    from functools import partial

    raw = getattr(handle, "_handle", None)
    width = len(handle)
    if raw is None or not hasattr(raw, "set_signal_val_int"):
        from cocotb.handle import Immediate

        def write(v):
            handle.value = Immediate(int(v))

        return write
    if width <= 32:
        return partial(raw.set_signal_val_int, 0)  # 0: deposit; C-level call, no frame
    set_bin = partial(raw.set_signal_val_binstr, 0)
    return lambda v: set_bin(format(v, f"0{width}b"))


async def reset(dut, clk, rst, cycles: int = 2) -> None:
    """Hold *rst* high for *cycles* rising edges; returns just after a falling edge."""
    from cocotb.triggers import FallingEdge

    await FallingEdge(clk)
    w = writer(rst)
    w(1)
    for _ in range(cycles):
        await FallingEdge(clk)
    w(0)


def _input_column(handle, values, cycles: int) -> list:
    width = len(handle)
    v = np.asarray(values)
    if v.ndim != 1 or len(v) < cycles:
        raise ValueError(f"input for {handle._name} must be 1-D with >= {cycles} entries, "
                         f"not shape {v.shape}")
    v = v[:cycles]
    if v.dtype == object or width > 63:
        vals = [int(x) for x in v]
        lo, hi = (min(vals), max(vals)) if vals else (0, 0)
    else:
        v = v.astype(np.int64)
        lo, hi = (int(v.min()), int(v.max())) if len(v) else (0, 0)
    # Signed values are accepted down to -2^(w-1) and written in two's complement; the
    # simulator would otherwise truncate silently.
    if lo < -(1 << (width - 1)) or hi >= (1 << width):
        raise ValueError(f"input for {handle._name} ({width} bits) has values in "
                         f"[{lo}, {hi}], outside [-2^{width - 1}, 2^{width})")
    mask = (1 << width) - 1
    if isinstance(v, np.ndarray) and v.dtype != object and width <= 63:
        return (v & mask).tolist()  # plain Python ints: the fastest to index and write
    return [x & mask for x in vals]


def _samples_to_array(name: str, samples: list[str], width: int) -> np.ndarray:
    try:
        vals = [int(s, 2) for s in samples]
    except ValueError:
        bad = next(i for i, s in enumerate(samples) if set(s) - {"0", "1"})
        raise MismatchError(
            f"cycle {bad}: output {name} is {samples[bad]!r} (X/Z; uninitialised or "
            f"undriven)") from None
    return np.array(vals, dtype=np.int64 if width <= 63 else object)


async def run_cycles(clk, inputs: Mapping[Any, Any], outputs: Sequence[Any],
                     cycles: int | None = None) -> np.ndarray:
    """Drive *inputs* and sample *outputs* for *cycles* cycles, one await per cycle.

    Call right after a falling edge (e.g. after :func:`reset`). For cycle ``i`` the value
    ``inputs[h][i]`` is written at a falling edge, held across rising edge ``i``, and every
    output is read at the next falling edge. So row ``i`` of the result is the state after
    rising edge ``i`` (registered outputs) with ``inputs[i]`` still applied (combinational
    outputs): the convention of a cycle-accurate quantize/ model ``out[i] = f(s_i, in[i])``
    where ``s_i`` already includes the update made by ``in[i]``.

    Reads go through the raw GPI handle as bit strings (so X/Z is caught, and reported
    with its cycle) and are converted once at the end; writes are immediate GPI deposits.
    This is safe because nothing samples at a falling edge. Use ``start_clock`` (a
    C-level clock): cocotb's default Python clock on Icarus costs ~4x in speed.

    Parameters
    ----------
    clk : cocotb handle of the clock
    inputs : {handle: array (cycles,)} of ints, unsigned or two's-complement signed
    outputs : sequence of handles (any width; > 63 bits gives an object array)
    cycles : int, optional; defaults to the length of the input arrays.

    Returns
    -------
    np.ndarray, shape (cycles, len(outputs)), int64 (unsigned bit patterns)
    """
    import gc

    from cocotb.triggers import FallingEdge

    if cycles is None:
        if not inputs:
            raise ValueError("give cycles when there are no inputs")
        cycles = min(len(v) for v in inputs.values())
    pairs = [(writer(h), _input_column(h, v, cycles)) for h, v in inputs.items()]
    getters = []
    for h in outputs:
        raw = getattr(h, "_handle", None)
        getters.append(raw.get_signal_val_binstr if raw is not None
                       else (lambda h=h: str(h.value)))
    samples = [[] for _ in outputs]
    reads = list(zip([s.append for s in samples], getters))
    edge = FallingEdge(clk)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the loop allocates only short strings; a collection pause is pure loss
    try:
        for i in range(cycles):
            for write, column in pairs:
                write(column[i])
            await edge
            for append, get in reads:
                append(get())
    finally:
        if gc_was_enabled:
            gc.enable()
    cols = [_samples_to_array(h._name, s, len(h)) for h, s in zip(outputs, samples)]
    if not cols:
        return np.zeros((cycles, 0), dtype=np.int64)
    dtype = object if any(c.dtype == object for c in cols) else np.int64
    return np.stack(cols, axis=1).astype(dtype, copy=False)
