"""On-chip self-test harness around a stream DUT, bit-exact with ``quantize.harness``.

The harness drives a DUT with one input stream and one output stream (``amaranth.lib.stream``
signatures) from LFSRs, compresses the output into a signature, and counts; see
``quantize/harness.py`` for the protocol and the model. It is testbench hardware: it lets a
simulator run without Python in the loop (tb.macrospin_tb batch mode), and on a board it is a
built-in self-test.
"""

from __future__ import annotations

from typing import Callable

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hdl.lfsr import LfsrBank
from quantize.harness import HarnessConfig

__all__ = ["StreamSelfTest"]


class StreamSelfTest(wiring.Component):
    """Self-test harness: LFSR stimulus, rotate-XOR signature, counters.

    Parameters
    ----------
    dut : wiring.Component
        Has an input stream ``in_name`` and an output stream ``out_name``.
    cfg : HarnessConfig
    payload : callable(words) -> Value
        Builds the DUT's input payload (any Value castable to its width) from the data words,
        a list of ``cfg.lanes`` unsigned(``cfg.data_bits``) values; the model applies the same
        mapping to ``quantize.harness.data_words``.

    Members
    -------
    cycles : In(32)
        Cycle budget, counted from reset; hold it constant during a run.
    done : Out(1)
        The budget is spent (stimulus stopped).
    sig : Out(payload width)
        Signature of every output beat taken.
    beats_in, beats_out : Out(32)
        Accepted input beats, taken output beats.
    out_valid, out_ready, out_payload : Out
        The DUT's output handshake and payload, for a per-cycle trace when a signature differs.
    """

    def __init__(self, dut, cfg: HarnessConfig, payload: Callable, *, in_name="i_drive", out_name="o_state"):
        self.dut, self.cfg, self._payload = dut, cfg, payload
        self._in_name, self._out_name = in_name, out_name
        width = len(getattr(dut, out_name).payload.as_value())
        self.payload_width = width
        super().__init__({
            "cycles": In(32),
            "done": Out(1),
            "sig": Out(width),
            "beats_in": Out(32),
            "beats_out": Out(32),
            "out_valid": Out(1),
            "out_ready": Out(1),
            "out_payload": Out(width),
        })

    def elaborate(self, platform):
        cfg = self.cfg
        m = Module()
        m.submodules.dut = dut = self.dut
        m.submodules.ctrl = ctrl = LfsrBank(cfg.control_lfsr)
        m.submodules.data = data = LfsrBank(cfg.data_lfsr)
        d_in, d_out = getattr(dut, self._in_name), getattr(dut, self._out_name)

        cycle = Signal(32)
        run = Signal()
        m.d.comb += [run.eq(cycle < self.cycles), self.done.eq(~run), ctrl.en.eq(run)]
        with m.If(run):
            m.d.sync += cycle.eq(cycle + 1)

        word = ctrl.bits[0]
        rb = cfg.ready_bits
        m.d.comb += [
            d_in.valid.eq(run & (word[rb:] != 0)),
            d_out.ready.eq(run & (word[:rb] != 0)),
            d_in.payload.eq(self._payload([data.bits[i] for i in range(cfg.lanes)])),
        ]
        took_in = d_in.valid & d_in.ready
        took_out = d_out.valid & d_out.ready
        m.d.comb += data.en.eq(took_in)

        sig = Signal(self.payload_width)
        rot = sig.rotate_left(1) if self.payload_width > 1 else sig
        with m.If(took_out):
            m.d.sync += [sig.eq(rot ^ d_out.payload.as_value()), self.beats_out.eq(self.beats_out + 1)]
        with m.If(took_in):
            m.d.sync += self.beats_in.eq(self.beats_in + 1)
        m.d.comb += [self.sig.eq(sig), self.out_valid.eq(d_out.valid), self.out_ready.eq(d_out.ready),
                     self.out_payload.eq(d_out.payload.as_value())]
        return m

