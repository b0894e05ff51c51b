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
    enables : int
        Width of ``en``: the lanes fall into this many equal groups of consecutive lanes,
        group ``j`` advanced by ``en[j]`` (default 1: one enable for all).

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
    en : In(enables)
        Advance every lane (of group ``j`` for ``en[j]``) at the next clock edge.
    reseed : In(1)
        Synchronous: reload every lane with its derived seed at the next clock edge (takes
        priority over ``en``). The registers also reset to the seeds.
    """

    def __init__(self, cfg: LfsrConfig, enables: int = 1):
        if enables < 1 or cfg.lanes % enables:
            raise ValueError(f"enables ({enables}) must divide the {cfg.lanes} lanes")
        self.cfg, self.enables = cfg, enables
        self.latency = 0
        super().__init__({
            "bits": Out(data.ArrayLayout(unsigned(cfg.bits_per_cycle), cfg.lanes)),
            "en": In(enables),
            "reseed": In(1),
        })

    def elaborate(self, platform):
        cfg = self.cfg
        w, k = cfg.width, cfg.bits_per_cycle
        m = Module()
        state = Signal(data.ArrayLayout(unsigned(w), cfg.lanes), init=list(cfg.seeds))
        for lane in range(cfg.lanes):
            m.d.comb += self.bits[lane].eq(state[lane][w - k:])
        group = cfg.lanes // self.enables
        if self.enables == 1:
            # one If over all lanes (the same netlist as before per-group enables: Yosys 0.70's
            # ABC reintegration failed on the per-lane form of the small gaussian_noise block)
            with m.If(self.reseed):
                for lane, seed in enumerate(cfg.seeds):
                    m.d.sync += state[lane].eq(seed)
            with m.Elif(self.en):
                for lane in range(cfg.lanes):
                    s = state[lane]
                    m.d.sync += s.eq(Cat(*[(s & mask).xor() for mask in cfg.leap_masks]))
            return m
        for lane, seed in enumerate(cfg.seeds):
            s = state[lane]
            with m.If(self.reseed):
                m.d.sync += s.eq(seed)
            with m.Elif(self.en[lane // group]):
                # New bit i is the parity of the old bits selected by row i of the leap matrix.
                m.d.sync += s.eq(Cat(*[(s & mask).xor() for mask in cfg.leap_masks]))
        return m
