"""RTL for a bank of leap-ahead Fibonacci LFSRs (bit-exact with ``quantize.lfsr.LfsrBank``).

See ``quantize/lfsr.py`` for the taps table, the seed derivation, the leap matrix and the bit
order; this module only builds hardware from an ``LfsrConfig``.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from quantize.lfsr import LfsrConfig

__all__ = ["LfsrBank"]


class LfsrBank(wiring.Component):
    """``cfg.lanes`` LFSRs of ``cfg.width`` bits, each advancing ``cfg.bits_per_cycle`` steps
    per enabled cycle through an XOR network built from ``cfg.leap_masks``.

    Parameters
    ----------
    cfg : LfsrConfig

    Attributes
    ----------
    cfg : LfsrConfig
    latency : int
        0: ``bits`` is a combinational function of the state registers, so the word for
        cycle ``c`` is visible during cycle ``c``; ``en`` high in that cycle moves to word
        ``c + 1`` at the clock edge. Matches ``quantize.lfsr.LfsrBank.step``, which returns
        the current word and then advances.

    Members
    -------
    bits : Out(ArrayLayout(unsigned(bits_per_cycle), lanes))
        The current word of every lane: the top ``bits_per_cycle`` bits of its state, the
        earliest stream bit in the MSB.
    en : In(1)
        Advance every lane at the next clock edge.
    reseed : In(1)
        Synchronous: reload every lane with its derived seed at the next clock edge (takes
        priority over ``en``). The registers also reset to the seeds.
    """

    def __init__(self, cfg: LfsrConfig):
        self.cfg = cfg
        self.latency = 0
        super().__init__({
            "bits": Out(data.ArrayLayout(unsigned(cfg.bits_per_cycle), cfg.lanes)),
            "en": In(1),
            "reseed": In(1),
        })

    def elaborate(self, platform):
        cfg = self.cfg
        w, k = cfg.width, cfg.bits_per_cycle
        m = Module()
        state = Signal(data.ArrayLayout(unsigned(w), cfg.lanes), init=list(cfg.seeds))
        for lane in range(cfg.lanes):
            m.d.comb += self.bits[lane].eq(state[lane][w - k:])
        with m.If(self.reseed):
            for lane, seed in enumerate(cfg.seeds):
                m.d.sync += state[lane].eq(seed)
        with m.Elif(self.en):
            for lane in range(cfg.lanes):
                s = state[lane]
                # New bit i is the parity of the old bits selected by row i of the leap matrix.
                m.d.sync += s.eq(Cat(*[(s & mask).xor() for mask in cfg.leap_masks]))
        return m
