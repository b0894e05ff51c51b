"""RTL for the Gaussian thermal-noise source (bit-exact with ``quantize.noise.GaussianNoise``).

See ``quantize/noise.py`` for the approximation, the LFSR bit allocation and the timing; this
module only builds hardware from a ``NoiseConfig``: an ``hdl.lfsr.LfsrBank``, then per lane
and component a pipelined adder tree with no multipliers.

The mean is removed for free: with ``d_i = u_i - 2**(b-1)`` (the uniform with its MSB
inverted, read as signed), ``(2 u_a - (2**b - 1)) + (2 u_b - (2**b - 1)) = 2 (d_a + d_b + 1)``,
so the first level adds uniform pairs with a carry-in of 1 and yields the centred sum
directly. An odd uniform out (k odd) enters as ``2 d + 1`` (a constant 1 appended below it),
the pairs doubled (a 0 appended), so every later node is a plain sum and the zero-reset
pipeline registers decode to a zero output.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hdl.lfsr import LfsrBank
from quantize.fixed import signed_width
from quantize.noise import COMPONENTS, NoiseConfig

__all__ = ["GaussianNoise", "sample_layout"]


def sample_layout(cfg: NoiseConfig) -> data.StructLayout:
    """``StructLayout`` of one lane's samples: fields x, y, z of ``signed(out_fmt.width)``."""
    return data.StructLayout({name: signed(cfg.out_fmt.width) for name in COMPONENTS})


# Register widths: quantize.fixed.signed_width, the project's one signed width of a range.
# The exported Verilog's src attributes carry this file's line numbers: an edit above the
# signals changes the twin's Verilog bytes (not its logic), so this note keeps the count
# that the former local width helper had (the default twin's Verilog stays byte-identical).
class GaussianNoise(wiring.Component):
    """``cfg.lanes`` x 3 approximately Gaussian samples per enabled cycle.

    Parameters
    ----------
    cfg : NoiseConfig
    lane_enables : bool
        One enable per lane (``en`` is ``In(cfg.lanes)``) instead of one for all: each lane's
        LFSRs and adder trees then advance on their own enable (for a lane-local, low-fanout
        enable net).
    enable_copies : bool
        With ``lane_enables``: ``en`` carries ``copies = cfg.lfsrs_per_lane + 3`` equal copies
        of each lane's enable (``en[lane * copies + j]``): one for each LFSR of the lane, then
        one for each component's adder tree (x, y, z), so that no enable net reaches the
        several hundred registers of a lane at once (on the 5-lane ECP5 twin such a net was
        the critical path, 9.1 ns of routing). The driver must keep the copies equal.

    Attributes
    ----------
    cfg : NoiseConfig
    latency : int
        ``cfg.latency``: the samples of the LFSR words present in cycle ``c`` appear on
        ``samples`` after ``latency`` enabled clock edges (zeros before that, after reset or
        reseed). Matches ``quantize.noise.GaussianNoise.step``.

    Members
    -------
    samples : Out(ArrayLayout(sample_layout(cfg), lanes))
        Per lane, stored integers of ``cfg.out_fmt`` for x, y, z; driven by registers.
    en : In(1) or In(lanes)
        Advance the LFSRs and the pipeline (of lane ``l`` for ``en[l]``) at the next edge;
        low stalls (state and output hold).
    reseed : In(1)
        Synchronous: reload the LFSR seeds and clear the pipeline at the next edge, exactly
        like a reset (takes priority over ``en``).
    """

    def __init__(self, cfg: NoiseConfig, lane_enables: bool = False, enable_copies: bool = False):
        if enable_copies and not lane_enables:
            raise ValueError("enable_copies needs lane_enables")
        self.cfg, self.lane_enables = cfg, lane_enables
        #: copies of each lane's enable in ``en`` (1 unless ``enable_copies``)
        self.copies = cfg.lfsrs_per_lane + len(COMPONENTS) if enable_copies else 1
        self.latency = cfg.latency
        super().__init__({
            "samples": Out(data.ArrayLayout(sample_layout(cfg), cfg.lanes)),
            "en": In(cfg.lanes * self.copies if lane_enables else 1),
            "reseed": In(1),
        })

    def elaborate(self, platform):
        cfg = self.cfg
        m = Module()
        g_count, b, k = cfg.lfsrs_per_lane, cfg.uniform_bits, cfg.n_uniforms
        copies = self.copies
        if copies > 1:
            # each LFSR on its own copy; each component's tree (below) on its own
            m.submodules.lfsr = lfsr = LfsrBank(cfg.lfsr_config, enables=cfg.lanes * g_count)
            m.d.comb += lfsr.en.eq(Cat(self.en[lane * copies + g] for lane in range(cfg.lanes)
                                       for g in range(g_count)))
        else:
            m.submodules.lfsr = lfsr = LfsrBank(cfg.lfsr_config, enables=len(self.en))
            m.d.comb += lfsr.en.eq(self.en)
        m.d.comb += lfsr.reseed.eq(self.reseed)
        pool_bits = g_count * cfg.bits_per_lfsr
        groups = []  # (enable, [(register, next value)]) of the pipeline stages
        for lane in range(cfg.lanes):
            regs = []
            groups.append((self.en[lane] if self.lane_enables and copies == 1 else None, regs))
            # LFSR 0's word is most significant: pool bit 0 (earliest) is the top bit.
            pool = Cat(*(lfsr.bits[lane * g_count + g] for g in reversed(range(g_count))))
            for c, name in enumerate(COMPONENTS):
                first = c * k
                uniforms = [pool[pool_bits - (j + 1) * b:pool_bits - j * b]
                             for j in range(first, first + k)]
                if copies > 1:
                    regs = []
                    groups.append((self.en[lane * copies + g_count + c], regs))
                out = self._tree(uniforms, f"l{lane}_{name}", regs)
                m.d.comb += self.samples[lane][name].eq(out)
        groups = [(en, regs) for en, regs in groups if regs]
        if not self.lane_enables:  # one If over all (see hdl.lfsr: the per-lane form tripped Yosys)
            groups = [(self.en[0], [r for _, regs in groups for r in regs])]
        for en, regs in groups:
            with m.If(self.reseed):
                m.d.sync += [r.eq(0) for r, _ in regs]
            with m.Elif(en):
                m.d.sync += [r.eq(v) for r, v in regs]
        return m

    def _tree(self, uniforms, prefix, regs):
        """The adder tree of one sample; appends its registers to ``regs``, returns the last."""
        cfg = self.cfg
        b, k = cfg.uniform_bits, cfg.n_uniforms
        stops = cfg.register_levels
        top = (1 << b) - 1
        # Nodes are (value, lo, hi): the exact range sizes every register.
        d = [Cat(u[:b - 1], ~u[b - 1]).as_signed() for u in uniforms]
        if k == 1:
            nodes = [(Cat(Const(1, 1), d[0]).as_signed(), -top, top)]
            level = 0
        else:
            dbl = k % 2  # k odd: pairs doubled, the odd one is 2 d + 1
            nodes = [((d[i] + d[i + 1] + 1).shift_left(dbl), -top << dbl, top << dbl)
                     for i in range(0, k - 1, 2)]
            if dbl:
                nodes.append((Cat(Const(1, 1), d[-1]).as_signed(), -top, top))
            level = 1
        while True:
            if level in stops:
                staged = []
                for i, (v, lo, hi) in enumerate(nodes):
                    r = Signal(signed(signed_width(lo, hi)), name=f"{prefix}_s{level}_{i}")
                    regs.append((r, v))
                    staged.append((r, lo, hi))
                nodes = staged
            if len(nodes) == 1:
                return nodes[0][0]
            pairs = [(a + c, alo + clo, ahi + chi)
                     for (a, alo, ahi), (c, clo, chi) in zip(nodes[0::2], nodes[1::2])]
            nodes = pairs + nodes[len(pairs) * 2:]
            level += 1
