"""RTL of the SNN inference core (networks 1 and 2, and the CMOS baseline), bit-exact with
``quantize.snn`` through ``quantize.core`` (architecture, cycle count and signatures are
described there; seed section V.1, REFERENCES.md sections 4-6).

One engine serves the three kinds: the weight codes, scale codes and the neuron rule are
build-time parameters (DW IF: clamp at the near edge and reset to the reset position; CMOS IF:
reset by subtraction; p-bit: sigmoid LUT against an LFSR word).

The core is built from the network description (``golden.network``) the QuantNetwork was built
from, within these limits (anything else is refused with one line naming the layer):

* any input H x W x C up to 256 x 256 x 256 (the pixel stream and the raster encoder scan
  ``H W C`` pixels, channel fastest), any number of classes (the counters and the decision);
* conv k x k (any k >= 1), stride 1, any zero padding (the scatter offsets the spike);
* 2 x 2 pooling with stride 2, with IF neurons (a layer of its own) or linear (folded into the
  next conv or dense layer, network 2's way);
* dense layers on the flattened map, chained (an MLP: a dense spike scatters one word);
* biases (a constant per column added at the neuron update); neurons IF (DW or CMOS), LIF
  (the shift leak ``v - (v >> leak_shift)`` of the stored membrane, per layer) or p-bit, one
  kind for the whole network (``QuantConfig.kind``); up to 7 layers with neurons, up to 256
  channels each.

Memories per layer: the weight ROM (one word per row: all columns' codes, the crossbar's
parallel column read), the accumulator RAM (one word per (position, row tile): all columns)
and, for IF layers with more than one position, the membrane RAM (one word per position).

Read-modify-write hazards: a scatter reads an accumulator word in one cycle and writes the sum
in the next. Words of one spike are distinct positions; the first word of the next spike can be
the last word of the previous one (e.g. two channels of one conv1 position both land in one
pool1 word), read in the very cycle that word is written: the accumulator's read port is
transparent to its write port (a forwarding path), so the read returns the new sum
(tests/test_core_rtl.py runs such back-to-back updates and counts them). The readout addresses
its read ports one cycle ahead (``pos_n``, ``r_n``), so it consumes and clears one word per
cycle; the scatter into a layer has ended before that layer's one-cycle PHASE state, whose
read meets the scatter's last write and is forwarded likewise.

Ports (flat, for ``tb.harness_top.clocked_top``; the control/status block)
--------------------------------------------------------------------------
pix_valid, pix_data, pix_ready : the pixel stream, ``PIX_PER_BEAT`` codes per beat (pixel
    ``8 b + j`` in bits ``[j input_bits, (j + 1) input_bits)`` of beat b); the last of the
    ``ceil(H W C / 8)`` beats (98 for MNIST) starts the image.
seed0, seed1 : the encoder banks' states for this image (``quantize.snn.encoder_seeds``).
steps : time steps per image (1 .. 2**16 - 1), read at the start.
busy, done : running; results valid (cleared by the next pixel beat).
counts : classes x 16 bits output spikes; pred : the decided class; cycles : cycles of the image.
sigs, spikes : per layer (``input`` first) the 32-bit spike signature and spike count.
ev_valid, ev_layer, ev_index : the spike event of this cycle (trace mode of tb/core_tb.py).
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from quantize.core import SIG_BITS, CoreLayer, check_core_network, core_layers
from quantize.fixed import signed_width
from quantize.lfsr import LfsrConfig
from quantize.snn import ENCODER_WIDTHS, QuantNetwork

__all__ = ["SnnCore", "COUNT_BITS", "PIX_PER_BEAT", "check_core", "layer_widths"]

PIX_PER_BEAT = 8
COUNT_BITS = 16   #: width of the steps port and of each class's spike counter


def _sw(lo: int, hi: int) -> int:
    """Signed width holding lo..hi, at least 2 bits (a one-bit signed word would hold only -1 and 0)."""
    return max(2, signed_width(lo, hi))


def _rr(x: int, shift: int) -> int:
    return (x + (1 << (shift - 1))) >> shift if shift > 0 else x << (-shift)


def layer_widths(layer: CoreLayer) -> dict:
    """Widths of a layer's datapath: weight code ``kw``, accumulator ``aw``, scale ``cw``,
    scaled sum ``yw``; each holds every reachable value (bounds from the codes and the most
    events a (position, row) receives per step)."""
    k, c, t = layer.k, layer.c, 1 << layer.tile_log2
    cnt = layer.max_count()
    kw = _sw(min(int(k.min()), 0), max(int(k.max()), 0))
    lo_y = np.zeros(layer.n, np.int64)
    hi_y = np.zeros(layer.n, np.int64)
    alo = ahi = 0
    for r in range(layer.tiles):
        blk = k[r * t:(r + 1) * t]
        pos = np.clip(blk, 0, None).sum(axis=0) * cnt
        neg = np.clip(blk, None, 0).sum(axis=0) * cnt
        alo, ahi = min(alo, int(neg.min())), max(ahi, int(pos.max()))
        lo_y += [_rr(int(v) * int(cc), layer.shift) for v, cc in zip(neg, c[r])]
        hi_y += [_rr(int(v) * int(cc), layer.shift) for v, cc in zip(pos, c[r])]
    if layer.bias is not None:
        lo_y += layer.bias
        hi_y += layer.bias
    return {"kw": kw, "aw": _sw(alo, ahi), "cw": max(1, int(c.max()).bit_length()),
            "yw": _sw(int(lo_y.min()), int(hi_y.max()))}


def _pack(values, width: int) -> int:
    mask = (1 << width) - 1
    return sum((int(v) & mask) << (width * j) for j, v in enumerate(values))


class _Lfsr:
    """A one-lane leap-ahead LFSR (``quantize.lfsr``'s XOR network) whose state the host loads."""

    def __init__(self, m: Module, width: int, bits: int, name: str):
        self.cfg = LfsrConfig(width, 1, bits, 1)
        self.state = Signal(width, name=f"{name}_state", init=1)
        self.word = self.state[width - bits:]
        self.m = m

    def load(self, seed):
        self.m.d.sync += self.state.eq(seed)

    def advance(self):
        s = self.state
        self.m.d.sync += s.eq(Cat(*[(s & mask).xor() for mask in self.cfg.leap_masks]))


def _check_limits(net: QuantNetwork) -> None:
    """Refuse a network the core cannot run (ValueError, one line naming the layer)."""
    if net.network is not None:
        check_core_network(net.network)


def check_core(net: QuantNetwork) -> list[CoreLayer]:
    """The core's layers for ``net``, without building any hardware; a config or network the
    core cannot run is a ValueError (one line, naming the field or layer)."""
    cfg = net.cfg
    if cfg.encoding != "lfsr":
        raise ValueError(f"the core encodes with LFSRs: QuantConfig.encoding must be 'lfsr', not {cfg.encoding!r}")
    if cfg.input_bits > 16:
        raise ValueError(f"QuantConfig.input_bits must be <= 16 for the core, not {cfg.input_bits}")
    _check_limits(net)
    return core_layers(net)


class SnnCore(wiring.Component):
    """The inference core of a ``quantize.snn.QuantNetwork`` (any kind).

    Parameters
    ----------
    net : QuantNetwork

    Attributes
    ----------
    layers : list of quantize.core.CoreLayer
    widths : list of dict (``layer_widths``)
    """

    def __new__(cls, net: QuantNetwork, *args, src_loc_at: int = 0, **kwargs):
        # Checked before the object exists: a refused network leaves no unused Elaboratable
        # (and so no UnusedElaboratable warning on top of the error).
        layers = check_core(net)
        self = super().__new__(cls, net, *args, src_loc_at=src_loc_at + 1, **kwargs)
        self.layers = layers
        return self

    def __init__(self, net: QuantNetwork):
        cfg = net.cfg
        self.net = net
        self.widths = [layer_widths(L) for L in self.layers]
        self.stochastic = net.lut is not None
        self.pixels = int(np.prod(net.input_shape))
        self.classes = net.classes
        self.pred_bits = max(1, (self.classes - 1).bit_length())
        nl = len(self.layers) + 1
        b = cfg.input_bits
        super().__init__({
            "pix_valid": In(1), "pix_data": In(PIX_PER_BEAT * b), "pix_ready": Out(1),
            "seed0": In(ENCODER_WIDTHS[0]), "seed1": In(ENCODER_WIDTHS[1]), "steps": In(COUNT_BITS),
            "busy": Out(1), "done": Out(1),
            "counts": Out(self.classes * COUNT_BITS), "pred": Out(self.pred_bits), "cycles": Out(32),
            "sigs": Out(nl * SIG_BITS), "spikes": Out(nl * 32),
            "ev_valid": Out(1), "ev_layer": Out(3), "ev_index": Out(32),
        })

    # ------------------------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        cfg = self.net.cfg
        layers, widths = self.layers, self.widths
        nl = len(layers)
        b = cfg.input_bits
        pixels, classes, pw = self.pixels, self.classes, self.pred_bits
        ih, iw, ic = self.net.input_shape
        beats = -(-pixels // PIX_PER_BEAT)

        # Pixel memory, loaded by the stream while idle.
        m.submodules.pix_mem = pix_mem = memory.Memory(shape=unsigned(PIX_PER_BEAT * b), depth=beats + 1, init=[])
        pix_wr, pix_rd = pix_mem.write_port(), pix_mem.read_port(transparent_for=())
        load_idx = Signal(range(beats + 1))

        # Status / counters.
        t = Signal(COUNT_BITS)
        steps = Signal(COUNT_BITS)
        busy, done = Signal(), Signal()
        cycles = Signal(32)
        counts = Array(Signal(COUNT_BITS, name=f"count{j}") for j in range(classes))
        sigs = Array(Signal(SIG_BITS, name=f"sig{j}") for j in range(nl + 1))
        nspk = Array(Signal(32, name=f"nspk{j}") for j in range(nl + 1))
        bases = [Signal(32, name=f"base{j}") for j in range(nl + 1)]
        pred = Signal(pw)
        m.d.comb += [self.busy.eq(busy), self.done.eq(done), self.pred.eq(pred), self.cycles.eq(cycles),
                     self.counts.eq(Cat(*counts)), self.sigs.eq(Cat(*sigs)), self.spikes.eq(Cat(*nspk))]
        with m.If(busy):
            m.d.sync += cycles.eq(cycles + 1)

        def spike_event(layer_idx: int, index):
            """Signature, counter and event port of one spike of layer ``layer_idx`` (0 = input)."""
            s = sigs[layer_idx]
            m.d.sync += [s.eq(Cat(s[SIG_BITS - 1], s[:SIG_BITS - 1]) ^ index[:SIG_BITS]),
                         nspk[layer_idx].eq(nspk[layer_idx] + 1)]
            m.d.comb += [self.ev_valid.eq(1), self.ev_layer.eq(layer_idx), self.ev_index.eq(index)]

        # Per-layer memories and scatter engines ------------------------------------------------
        acc_rd, acc_wr, eng = [], [], []
        for j, (L, w) in enumerate(zip(layers, widths)):
            n, aw, kw = L.n, w["aw"], w["kw"]
            # at least two words: a one-word memory has a zero-width address, which Verilog cannot
            # declare (an MLP layer within one row tile); the spare word is never addressed
            am = memory.Memory(shape=unsigned(n * aw), depth=max(2, L.positions * L.tiles), init=[])
            km = memory.Memory(shape=unsigned(n * kw), depth=max(2, L.rows), init=[_pack(row, kw) for row in L.k])
            m.submodules[f"acc_{L.name}"] = am
            m.submodules[f"w_{L.name}"] = km
            wr = am.write_port()
            acc_wr.append(wr)
            acc_rd.append(am.read_port(transparent_for=(wr,)))
            eng.append(self._scatter(m, j, L, w, acc_rd[j], wr, km.read_port(transparent_for=())))

        # Encoder --------------------------------------------------------------------------------
        lf = [_Lfsr(m, wd, b, f"enc{i}") for i, wd in enumerate(ENCODER_WIDTHS)]
        pix_i = Signal(range(pixels + 1))
        pix_next = Signal.like(pix_i)
        # At least one bit each: a 1-wide (or 1-high) input would give a zero-width counter,
        # which Verilator refuses (iris, wine: 1 x 1 x F feature vectors).
        prow, pcol = Signal(range(max(2, ih))), Signal(range(max(2, iw)))
        pch = Signal(range(ic), name="pch") if ic > 1 else None
        pix_sel = Signal(range(PIX_PER_BEAT))
        m.d.comb += [pix_next.eq(pix_i), pix_rd.addr.eq(pix_next >> 3), pix_rd.en.eq(1)]
        m.d.sync += [pix_i.eq(pix_next), pix_sel.eq(pix_next[:3])]
        fields = Array(pix_rd.data[b * q:b * (q + 1)] for q in range(PIX_PER_BEAT))
        pixel = fields[pix_sel]
        r_word = lf[0].word ^ lf[1].word

        # Readout state -------------------------------------------------------------------------
        # pos, r: the (position, row tile) whose words the memories present this cycle; pos_n,
        # r_n: next cycle's, which address the synchronous read ports (look-ahead addressing).
        pos = Signal(range(max(L.positions for L in layers) + 1))
        pos_n = Signal.like(pos)
        py, px = Signal(8), Signal(8)
        r = Signal(range(max(L.tiles for L in layers) + 1))
        r_n = Signal.like(r)
        m.d.comb += [pos_n.eq(pos), r_n.eq(r)]
        m.d.sync += [pos.eq(pos_n), r.eq(r_n)]
        nmax = max(L.n for L in layers)
        spk_rem = Signal(nmax)             # spikes of the position still to hand out
        rem_cur = Signal(nmax)             # this cycle's pending spikes (UPDATE: all that fired)
        cur_base = Signal(32)
        ch_idx = Signal(range(nmax + 1))
        for c in reversed(range(nmax)):  # lowest set bit
            with m.If(rem_cur[c]):
                m.d.comb += ch_idx.eq(c)
        rem_after = rem_cur & (rem_cur - 1)

        # Neuron state.
        mw = cfg.membrane_bits
        mem_rd, mem_wr, v_regs = [], [], []
        for j, L in enumerate(layers):
            if self.stochastic or L.positions == 1:
                mem_rd.append(None)
                mem_wr.append(None)
                v_regs.append(Array(Signal(signed(mw + (COUNT_BITS + widths[j]["yw"] if self.stochastic else 0)),
                                           name=f"v_{L.name}{c}") for c in range(L.n))
                              if L.positions == 1 else None)
            else:
                mm = memory.Memory(shape=unsigned(L.n * mw), depth=L.positions, init=[])
                m.submodules[f"v_{L.name}"] = mm
                mem_wr.append(mm.write_port())
                mem_rd.append(mm.read_port(transparent_for=()))
                v_regs.append(None)
        pbanks = []
        if self.stochastic:
            from hdl.lfsr import LfsrBank

            for j, L in enumerate(layers):
                bank = LfsrBank(LfsrConfig(31, L.n, cfg.lut_bits, (cfg.seed + 1 + j) & ((1 << 64) - 1)))
                m.submodules[f"pbank_{L.name}"] = bank
                pbanks.append(bank)

        # Decision.
        dec_c = Signal(range(classes + 1))
        best_cnt = Signal(COUNT_BITS)
        best_v = Signal(signed(len(v_regs[-1][0])))
        best_i = Signal(pw)

        # Control FSM ---------------------------------------------------------------------------
        post = []
        m.d.comb += self.pix_ready.eq(~busy)
        with m.FSM(name="core"):
            with m.State("IDLE"):
                m.d.comb += [pix_wr.addr.eq(load_idx), pix_wr.data.eq(self.pix_data),
                             pix_wr.en.eq(self.pix_valid)]
                with m.If(self.pix_valid):
                    m.d.sync += [done.eq(0), load_idx.eq(load_idx + 1)]
                    with m.If(load_idx == beats - 1):
                        m.d.sync += [load_idx.eq(0), busy.eq(1), cycles.eq(0)]
                        m.next = "START"
            with m.State("START"):
                m.d.sync += [t.eq(0), steps.eq(self.steps), prow.eq(0), pcol.eq(0)]
                if pch is not None:
                    m.d.sync += pch.eq(0)
                lf[0].load(self.seed0)
                lf[1].load(self.seed1)
                for j in range(nl + 1):
                    m.d.sync += [sigs[j].eq(0), nspk[j].eq(0), bases[j].eq(0)]
                for c in range(classes):
                    m.d.sync += counts[c].eq(0)
                    if self.stochastic:
                        m.d.sync += v_regs[-1][c].eq(0)
                for bank in pbanks:
                    m.d.comb += bank.reseed.eq(1)
                m.d.comb += pix_next.eq(0)
                m.next = "ENC"
            with m.State("ENC"):
                e0 = eng[0]
                with m.If(e0["busy_next"]):
                    pass
                with m.Elif(pix_i == pixels):
                    m.next = f"PHASE_{layers[0].name}"
                with m.Else():
                    m.d.comb += pix_next.eq(pix_i + 1)
                    lf[0].advance()
                    lf[1].advance()
                    self._raster(m, prow, pcol, pch, iw, ic)
                    m.d.sync += bases[0].eq(bases[0] + 1)
                    with m.If(pixel > r_word):
                        spike_event(0, bases[0])
                        m.d.comb += [e0["req"].eq(1), e0["y"].eq(prow), e0["x"].eq(pcol),
                                     e0["c"].eq(0 if pch is None else pch)]
            for j, L in enumerate(layers):
                self._readout(m, j, L, widths[j], dict(
                    acc_rd=acc_rd[j], acc_wr=acc_wr[j], eng_next=eng[j + 1] if j + 1 < nl else None,
                    pos=pos, pos_n=pos_n, py=py, px=px, r=r, r_n=r_n, t=t,
                    spk_rem=spk_rem, rem_cur=rem_cur, ch_idx=ch_idx, rem_after=rem_after, cur_base=cur_base,
                    base=bases[j + 1],
                    mem_rd=mem_rd[j], mem_wr=mem_wr[j], v_regs=v_regs[j], pbank=pbanks[j] if pbanks else None,
                    spike_event=spike_event, counts=counts, post=post,
                    next_state=f"PHASE_{layers[j + 1].name}" if j + 1 < nl else "STEP_END"))
            with m.State("STEP_END"):
                m.d.comb += pix_next.eq(0)
                m.d.sync += [t.eq(t + 1), prow.eq(0), pcol.eq(0)]
                if pch is not None:
                    m.d.sync += pch.eq(0)
                with m.If(t + 1 == steps):
                    m.d.sync += dec_c.eq(0)
                    m.next = "DECIDE"
                with m.Else():
                    m.next = "ENC"
            with m.State("DECIDE"):
                cnt = counts[dec_c[:pw]]
                v = v_regs[-1][dec_c[:pw]]
                with m.If((dec_c == 0) | (cnt > best_cnt) | ((cnt == best_cnt) & (v > best_v))):
                    m.d.sync += [best_cnt.eq(cnt), best_v.eq(v), best_i.eq(dec_c)]
                m.d.sync += dec_c.eq(dec_c + 1)
                with m.If(dec_c == classes - 1):
                    with m.If((dec_c == 0) | (cnt > best_cnt) | ((cnt == best_cnt) & (v > best_v))
                              if classes == 1 else (cnt > best_cnt) | ((cnt == best_cnt) & (v > best_v))):
                        m.d.sync += pred.eq(classes - 1)
                    with m.Else():
                        m.d.sync += pred.eq(best_i)
                    m.d.sync += [busy.eq(0), done.eq(1)]
                    m.next = "IDLE"
        for cond, acc_rd, mem_rd, addr, maddr in post:   # look-ahead read addresses of a readout
            with m.If(cond):
                m.d.comb += [acc_rd.addr.eq(addr), acc_rd.en.eq(1)]
                if mem_rd is not None:
                    m.d.comb += [mem_rd.addr.eq(maddr), mem_rd.en.eq(1)]
        return m

    @staticmethod
    def _raster(m: Module, prow, pcol, pch, iw: int, ic: int):
        """Advance the encoder's (row, column[, channel]) to the next pixel, channel fastest."""
        def col_row():
            with m.If(pcol == iw - 1):
                m.d.sync += [pcol.eq(0), prow.eq(prow + 1)]
            with m.Else():
                m.d.sync += pcol.eq(pcol + 1)
        if pch is None:
            col_row()
            return
        with m.If(pch == ic - 1):
            m.d.sync += pch.eq(0)
            col_row()
        with m.Else():
            m.d.sync += pch.eq(pch + 1)

    # ------------------------------------------------------------------------------------------
    def _scatter(self, m: Module, j: int, L: CoreLayer, w: dict, acc_rd, acc_wr, k_rd) -> dict:
        """The scatter engine of layer ``j``: a request (y, x, c) in the source raster issues the
        spike's (accumulator word, weight row) pairs, one per cycle from the next cycle on, and
        each pair's sum is written one cycle after its read (see the module docstring)."""
        n, aw, kw = L.n, w["aw"], w["kw"]
        req = Signal(name=f"req_{L.name}")
        ry, rx = Signal(8, name=f"ry_{L.name}"), Signal(8, name=f"rx_{L.name}")
        rc = Signal(8, name=f"rc_{L.name}")
        active = Signal(name=f"active_{L.name}")
        yy, xx, cc = Signal(8, name=f"y_{L.name}"), Signal(8, name=f"x_{L.name}"), Signal(8, name=f"c_{L.name}")
        oy, ox = Signal(8, name=f"oy_{L.name}"), Signal(8, name=f"ox_{L.name}")
        oy_hi, ox_lo, ox_hi = Signal(8), Signal(8), Signal(8)
        ho, wo = L.out_hw
        k, k1 = L.ksize, L.ksize - 1
        py_ = ry >> 1 if L.pool_input else ry
        px_ = rx >> 1 if L.pool_input else rx
        if L.kind == "conv" and L.padding:   # the spike's place in the zero-padded map
            py_, px_ = py_ + L.padding, px_ + L.padding

        def lo(v):
            return Mux(v > k1, v - k1, 0)

        def hi(v, top):
            return Mux(v > top, top, v)

        last = Signal(name=f"last_{L.name}")
        if L.kind == "conv":
            m.d.comb += last.eq(active & (oy == oy_hi) & (ox == ox_hi))
        else:
            m.d.comb += last.eq(active)
        with m.If(req):
            m.d.sync += [active.eq(1), yy.eq(py_), xx.eq(px_), cc.eq(rc)]
            if L.kind == "conv":
                m.d.sync += [oy.eq(lo(py_)), oy_hi.eq(hi(py_, ho - 1)), ox.eq(lo(px_)), ox_lo.eq(lo(px_)),
                             ox_hi.eq(hi(px_, wo - 1))]
        with m.Elif(last):
            m.d.sync += active.eq(0)
        with m.Elif(active):
            with m.If(ox == ox_hi):
                m.d.sync += [ox.eq(ox_lo), oy.eq(oy + 1)]
            with m.Else():
                m.d.sync += ox.eq(ox + 1)

        # Issue: the word address and weight row of the current (oy, ox).
        row = Signal(range(L.rows + 1), name=f"row_{L.name}")
        addr = Signal(range(L.positions * L.tiles + 1), name=f"addr_{L.name}")
        if L.kind == "conv":
            m.d.comb += row.eq(cc * (k * k) + (yy - oy) * k + (xx - ox))
            m.d.comb += addr.eq((oy * wo + ox) * L.tiles + (row >> L.tile_log2))
        elif L.kind == "pool":
            m.d.comb += row.eq(cc * 4 + yy[0] * 2 + xx[0])
            m.d.comb += addr.eq((yy >> 1) * wo + (xx >> 1))
        else:
            ghw = L.geo_shape
            m.d.comb += row.eq((yy * ghw[1] + xx) * ghw[2] + cc)
            m.d.comb += addr.eq(row >> L.tile_log2)
        s1_valid = Signal(name=f"s1v_{L.name}")
        s1_addr = Signal.like(addr, name=f"s1a_{L.name}")
        m.d.sync += [s1_valid.eq(active), s1_addr.eq(addr)]
        m.d.comb += [k_rd.addr.eq(row), k_rd.en.eq(1)]
        with m.If(active):
            m.d.comb += [acc_rd.addr.eq(addr), acc_rd.en.eq(1)]
        # Stage 1: add the row to the word, write back.
        with m.If(s1_valid):
            summed = [(acc_rd.data[aw * c:aw * (c + 1)].as_signed() + k_rd.data[kw * c:kw * (c + 1)].as_signed())[:aw]
                      for c in range(n)]
            m.d.comb += [acc_wr.addr.eq(s1_addr), acc_wr.data.eq(Cat(*summed)), acc_wr.en.eq(1)]
        return {"req": req, "y": ry, "x": rx, "c": rc, "busy_next": active & ~last}

    # ------------------------------------------------------------------------------------------
    def _readout(self, m: Module, j: int, L: CoreLayer, w: dict, s: dict):
        """States PHASE_/TILE_/SPIKES_<layer> of layer ``j`` (see quantize.core's docstring).

        PHASE (one cycle) addresses the first word; TILE consumes the word of (pos, r) that the
        read ports present, clears it and, at the last tile, updates the position's neurons
        and hands out its first spike (or moves on); SPIKES hands out the rest."""
        n, aw, yw = L.n, w["aw"], w["yw"]
        acc_rd, acc_wr = s["acc_rd"], s["acc_wr"]
        pos, pos_n, r, r_n = s["pos"], s["pos_n"], s["r"], s["r_n"]
        y_reg = [Signal(signed(yw), name=f"y_{L.name}{c}") for c in range(n)]
        scale = [Array(Const(int(L.c[rr, c]), unsigned(w["cw"])) for rr in range(L.tiles)) for c in range(n)]
        contrib = []
        for c in range(n):
            prod = Signal(signed(aw + w["cw"] + 1), name=f"prod_{L.name}{c}")
            m.d.comb += prod.eq(acc_rd.data[aw * c:aw * (c + 1)].as_signed() * scale[c][r])
            contrib.append(((prod + (1 << (L.shift - 1))) >> L.shift) if L.shift > 0 else (prod << (-L.shift)))
        reading = Signal(name=f"reading_{L.name}")   # this layer's readout owns the read ports
        s["post"].append((reading, acc_rd, s["mem_rd"], pos_n * L.tiles + r_n, pos_n))

        with m.State(f"PHASE_{L.name}"):
            m.d.comb += [reading.eq(1), pos_n.eq(0), r_n.eq(0)]
            m.d.sync += [s["py"].eq(0), s["px"].eq(0)]
            m.next = f"TILE_{L.name}"
        with m.State(f"TILE_{L.name}"):
            m.d.comb += [reading.eq(1), acc_wr.addr.eq(pos * L.tiles + r), acc_wr.data.eq(0), acc_wr.en.eq(1)]
            with m.If(r == 0):
                m.d.sync += [y_reg[c].eq(contrib[c]) for c in range(n)]
            with m.Else():
                m.d.sync += [y_reg[c].eq(y_reg[c] + contrib[c]) for c in range(n)]
            with m.If(r != L.tiles - 1):
                m.d.comb += r_n.eq(r + 1)
            with m.Else():
                m.d.comb += r_n.eq(0)
                self._update(m, j, L, w, s, y_reg, contrib)
        with m.State(f"SPIKES_{L.name}"):
            e = s["eng_next"]
            m.d.comb += [reading.eq(1), s["rem_cur"].eq(s["spk_rem"])]
            self._spikes(m, j, L, s, s["cur_base"], e["busy_next"] if e is not None else Const(0))

    def _update(self, m: Module, j: int, L: CoreLayer, w: dict, s: dict, y_reg, contrib):
        """The neurons of position ``pos``: input ``y = y_reg + contrib`` (the last tile's)."""
        net, cfg = self.net, self.net.cfg
        n, yw, mw = L.n, w["yw"], cfg.membrane_bits
        mem_rd, mem_wr, v_regs, r = s["mem_rd"], s["mem_wr"], s["v_regs"], s["r"]
        fires, new_v = [], []
        for c in range(n):
            y = Signal(signed(yw + 1), name=f"ytot_{L.name}{c}")
            if L.bias is not None and int(L.bias[c]):   # a constant current per step
                m.d.comb += y.eq(Mux(r == 0, 0, y_reg[c]) + contrib[c] + int(L.bias[c]))
            else:
                m.d.comb += y.eq(Mux(r == 0, 0, y_reg[c]) + contrib[c])
            if self.stochastic:
                a = cfg.lut_addr_bits
                sh = (y >> net.lut_shift) if net.lut_shift >= 0 else (y << (-net.lut_shift))
                biased = Signal(signed(yw + 3 + max(0, -net.lut_shift)), name=f"lb_{L.name}{c}")
                m.d.comb += biased.eq(sh + (1 << (a - 1)))
                la = Signal(unsigned(a), name=f"la_{L.name}{c}")
                m.d.comb += la.eq(Mux(biased < 0, 0, Mux(biased > (1 << a) - 1, (1 << a) - 1, biased)))
                table = Array(Const(int(v), unsigned(cfg.lut_bits)) for v in net.lut)
                fires.append(table[la] > s["pbank"].bits[c])
                if v_regs is not None:
                    m.d.sync += v_regs[c].eq(v_regs[c] + y)
                continue
            stored = mem_rd.data[mw * c:mw * (c + 1)].as_signed() if mem_rd is not None else v_regs[c]
            v_old = Mux(s["t"] == 0, 0, stored)
            if L.leak_shift is not None:         # LIF: v - (v >> leak_shift), an arithmetic shift
                v_leak = Signal(signed(mw), name=f"vl_{L.name}{c}")
                m.d.comb += v_leak.eq(v_old - (v_old >> L.leak_shift))
                v_old = v_leak
            total = Signal(signed(max(mw, yw + 1) + 1), name=f"vt_{L.name}{c}")
            m.d.comb += total.eq(v_old + y)
            lo = net.floor if net.floor is not None else -net.vmax - 1
            cl = Signal(signed(mw), name=f"vc_{L.name}{c}")
            m.d.comb += cl.eq(Mux(total > net.vmax, net.vmax, Mux(total < lo, lo, total)))
            fire = Signal(name=f"fire_{L.name}{c}")
            m.d.comb += fire.eq(cl >= net.threshold)
            nv = Signal(signed(mw), name=f"vn_{L.name}{c}")
            if cfg.kind == "cmos-if":
                m.d.comb += nv.eq(Mux(fire, cl - net.threshold, cl))
            else:
                m.d.comb += nv.eq(Mux(fire, 0, cl))
            fires.append(fire)
            new_v.append(nv)
            if v_regs is not None:
                m.d.sync += v_regs[c].eq(nv)
        if mem_wr is not None:
            m.d.comb += [mem_wr.addr.eq(s["pos"]), mem_wr.data.eq(Cat(*new_v)), mem_wr.en.eq(1)]
        if s["pbank"] is not None:
            m.d.comb += s["pbank"].en.eq(1)
        m.d.sync += [s["cur_base"].eq(s["base"]), s["base"].eq(s["base"] + n)]
        m.d.comb += s["rem_cur"].eq(Cat(*fires))
        self._spikes(m, j, L, s, s["base"], Const(0))

    def _spikes(self, m: Module, j: int, L: CoreLayer, s: dict, base, wait):
        """Hand out the lowest pending spike of the position (``rem_cur``) to the next layer's
        scatter engine (or the class counters), else move to the next position or phase."""
        e, ch, pos = s["eng_next"], s["ch_idx"], s["pos"]
        wo = L.out_hw[1]
        with m.If(wait):
            pass
        with m.Elif(s["rem_cur"] != 0):
            s["spike_event"](j + 1, base + ch)
            m.d.sync += s["spk_rem"].eq(s["rem_after"])
            if e is not None:
                m.d.comb += [e["req"].eq(1), e["y"].eq(s["py"]), e["x"].eq(s["px"]), e["c"].eq(ch)]
            else:
                pw = self.pred_bits
                m.d.sync += s["counts"][ch[:pw]].eq(s["counts"][ch[:pw]] + 1)
            m.next = f"SPIKES_{L.name}"
        with m.Else():
            with m.If(pos == L.positions - 1):
                m.next = s["next_state"]
            with m.Else():
                m.d.comb += s["pos_n"].eq(pos + 1)
                with m.If(s["px"] == wo - 1):
                    m.d.sync += [s["px"].eq(0), s["py"].eq(s["py"] + 1)]
                with m.Else():
                    m.d.sync += s["px"].eq(s["px"] + 1)
                m.next = f"TILE_{L.name}"
