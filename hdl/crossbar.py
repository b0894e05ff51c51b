"""RTL of one crossbar tile of the digital twin (bit-exact with ``quantize.snn.tile_output``).

A tile holds ``rows x cols`` signed weight codes (DW conductance-level differences
``k = G+ level - G- level``, or CMOS weights) in a memory of one word per row, and one unsigned
scale code per column (``c_j``: the eq. 12 factor ``1 / (1 + gamma_j)`` times the layer's
scale, see ``quantize/snn.py``). It is event driven, like the spintronic array it mirrors: each
input event names a row and a count (1 for a spike; up to 4 for network 2's folded pooling),
and adds ``count x k[row, :]`` to every column accumulator at once (the crossbar's parallel
read). An event with ``last`` set closes the input vector: the tile then emits, one column per
cycle, ``y_j = rshift_round(acc_j * c_j, shift)`` (round half up) and clears the accumulators.
An event with count 0 contributes nothing (a flush: ``last`` with no spikes).

Timing: the weight memory is read synchronously, so an accepted event is accumulated one cycle
later; ``i_event.ready`` is low while the tile emits (cols cycles, plus back-pressure) and for
the cycle that accumulates a ``last`` event.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Array, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream
from amaranth.lib.wiring import In, Out

from hdl.checked import CheckedComponent
from quantize.fixed import signed_width

__all__ = ["CrossbarTile", "tile_widths"]


def tile_widths(k: np.ndarray, c: np.ndarray, shift: int, count_bits: int,
                max_count: int | None = None) -> tuple[int, int, int]:
    """(weight code width, accumulator width, output width) that hold every reachable value when
    each row gets at most ``max_count`` spikes per vector (default ``2**count_bits - 1``: one event)."""
    k = np.asarray(k, dtype=np.int64)
    kw = signed_width(min(int(k.min()), 0), max(int(k.max()), 0))
    cmax = (1 << count_bits) - 1 if max_count is None else int(max_count)
    pos = int(np.clip(k, 0, None).sum(axis=0).max()) * cmax
    neg = int(np.clip(k, None, 0).sum(axis=0).min()) * cmax
    aw = signed_width(neg, pos)
    top = int(np.max(c))
    half = (1 << (shift - 1)) if shift > 0 else 0
    yw = signed_width((neg * top + half) >> shift, (pos * top + half) >> shift)
    return kw, aw, yw


def _tile_problem(k: np.ndarray, c: np.ndarray, shift: int, count_bits: int, max_count: int | None) -> str | None:
    """What is wrong with a tile's parameters (one line), or None."""
    if k.ndim != 2 or c.shape != (k.shape[1],):
        return f"k must be (rows, cols) and c (cols,), not {k.shape} and {c.shape}"
    if shift < 1:
        return f"shift must be >= 1, not {shift}"
    if c.min() < 0:
        return "scale codes c must be unsigned"
    if max_count is not None and max_count < (1 << count_bits) - 1:
        return f"max_count must be >= 2**count_bits - 1 = {(1 << count_bits) - 1}, not {max_count}"
    return None


class CrossbarTile(CheckedComponent):
    """One ``rows x cols`` crossbar tile.

    Parameters
    ----------
    k : int array (rows, cols)
        Signed weight codes.
    c : int array (cols,)
        Unsigned scale codes.
    shift : int
        Right shift (round half up) of ``acc * c``; >= 1.
    count_bits : int
        Width of an event's count (1: spikes).
    max_count : int, optional
        Most spikes one row receives per vector, summed over its events (a row may be named by
        several events); the accumulators are sized for it. Default ``2**count_bits - 1``.

    Members
    -------
    i_event : In(stream.Signature({row, count, last}))
    o_out : Out(stream.Signature({col, y, last}))
        ``last`` marks the last column of a vector.
    """

    @classmethod
    def check(cls, k, c, shift: int, count_bits: int = 1, *, max_count: int | None = None) -> None:
        """ValueError (one line) for codes, shift or counts the tile refuses (``_tile_problem``)."""
        problem = _tile_problem(np.asarray(k, dtype=np.int64), np.asarray(c, dtype=np.int64), shift, count_bits,
                                max_count)
        if problem:
            raise ValueError(problem)

    def __init__(self, k, c, shift: int, count_bits: int = 1, *, max_count: int | None = None):
        k = np.asarray(k, dtype=np.int64)
        c = np.asarray(c, dtype=np.int64)
        self.k, self.c, self.shift, self.count_bits = k, c, int(shift), int(count_bits)
        self.rows, self.cols = k.shape
        self.max_count = (1 << self.count_bits) - 1 if max_count is None else int(max_count)
        self.k_width, self.acc_width, self.y_width = tile_widths(k, c, shift, count_bits, self.max_count)
        self.c_width = max(1, int(c.max()).bit_length())
        row_w = max(1, (self.rows - 1).bit_length())
        col_w = max(1, (self.cols - 1).bit_length())
        super().__init__({
            "i_event": In(stream.Signature(data.StructLayout(
                {"row": unsigned(row_w), "count": unsigned(count_bits), "last": unsigned(1)}))),
            "o_out": Out(stream.Signature(data.StructLayout(
                {"col": unsigned(col_w), "y": signed(self.y_width), "last": unsigned(1)}))),
        })

    def _row_words(self) -> list[int]:
        kw = self.k_width
        mask = (1 << kw) - 1
        return [sum((int(v) & mask) << (kw * j) for j, v in enumerate(row)) for row in self.k]

    def elaborate(self, platform):
        m = Module()
        kw, aw = self.k_width, self.acc_width
        m.submodules.weights = mem = memory.Memory(shape=unsigned(kw * self.cols), depth=self.rows,
                                                    init=self._row_words())
        rd = mem.read_port()
        acc = Array(Signal(signed(aw), name=f"acc{j}") for j in range(self.cols))
        scale = Array(Const(int(v), unsigned(self.c_width)) for v in self.c)

        emitting = Signal()
        pending = Signal()               # an accepted event whose row word arrives this cycle
        p_count = Signal(self.count_bits)
        p_last = Signal()
        col = Signal(range(self.cols))

        ev = self.i_event
        m.d.comb += [ev.ready.eq(~emitting & ~(pending & p_last)), rd.addr.eq(ev.payload.row), rd.en.eq(1)]
        take = ev.valid & ev.ready
        m.d.sync += [pending.eq(take), p_count.eq(ev.payload.count), p_last.eq(ev.payload.last)]

        with m.If(pending):
            for j in range(self.cols):
                code = rd.data[kw * j:kw * (j + 1)].as_signed()
                # A 1-bit count is a select, not a product (a multiplier here costs a DSP per column).
                term = Mux(p_count, code, 0) if self.count_bits == 1 else code * p_count
                m.d.sync += acc[j].eq(acc[j] + term)
            with m.If(p_last):
                m.d.sync += [emitting.eq(1), col.eq(0)]

        # Emission: one column per cycle, y = (acc * c + 2**(shift-1)) >> shift.
        prod = Signal(signed(aw + self.c_width + 1))
        m.d.comb += prod.eq(acc[col] * scale[col])
        rounded = (prod + (1 << (self.shift - 1))) >> self.shift
        out = self.o_out
        m.d.comb += [out.valid.eq(emitting), out.payload.col.eq(col), out.payload.y.eq(rounded),
                     out.payload.last.eq(col == self.cols - 1)]
        with m.If(emitting & out.ready):
            m.d.sync += acc[col].eq(0)
            with m.If(col == self.cols - 1):
                m.d.sync += emitting.eq(0)
            with m.Else():
                m.d.sync += col.eq(col + 1)
        return m
