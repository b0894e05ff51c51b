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
* dense layers on the flattened map, chained (an MLP: a dense spike scatters one word),
  recurrent or not (a recurrent layer's spikes also scatter into its own accumulator for the
  next step through its own engine: ``quantize.core``'s docstring argues the ordering);
* biases (a constant per column added at the neuron update); neurons IF (DW or CMOS), LIF
  (the shift leak ``v - (v >> leak_shift)`` of the stored membrane, per layer) or p-bit, one
  kind for the whole network (``QuantConfig.kind``); up to 7 layers with neurons, up to 256
  channels each.

Memories per layer: the weight ROM (one word per row: all columns' codes, the crossbar's
parallel column read), the accumulator RAM (one word per (position, row tile): all columns)
and, for IF layers with more than one position, the membrane RAM (one word per position).

Pipelining (issue 17; timing only, the arithmetic is ``quantize.snn``'s): the encoder, each
scatter engine and the readout are register pipelines (``quantize.core``'s docstring lists
the stages and the exact cycle count). A pipeline that must wait for the next layer's scatter
engine holds as a whole, driven from flip-flops only (the engine's registered ``last``, the
readout's registered ``rem_zero``); the readout's datapath itself never holds: its results
land in a small FIFO popped in step with the held control, so ``rem`` sees exactly what a
held pipeline would give it.

Read-modify-write hazards: a scatter reads an accumulator word (its address registered by
stage A3) and writes the sum in the next cycle. Words of one spike are distinct positions;
the first word of the next spike can be the last word of the previous one (e.g. two channels
of one conv1 position both land in one pool1 word), read in the very cycle that word is
written: the accumulator's read port is transparent to its write port (a forwarding path), so
the read returns the new sum (tests/test_core_rtl.py runs such back-to-back updates and counts
them). A layer's readout starts ``SCATTER_LATENCY`` cycles after the scatter into it issued
its last word, so that word is written in the cycle of the readout's first read (forwarded
likewise); the readout clears each word the cycle after reading it, and leaves the write port
to the scatter otherwise.

Lanes (``QuantConfig.parallelism`` P; issue 17; timing and size only): a conv layer's
accumulator in ``CoreLayer.banks`` banks by output column, each with its own scatter lane
(``_scatter``), and the encoder scanning ``CoreLayer.enc_lanes`` pixels per cycle
(``_encoder_lanes``); P = 1 builds the single-lane core.

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

from quantize.core import (READ_FLUSH, READ_STAGES, SCATTER_LATENCY, SIG_BITS, CoreLayer, check_core_network,
                           core_layers)
from quantize.fixed import signed_width
from quantize.lfsr import LfsrConfig, leap_rows
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

    def lane_words(self, lanes: int) -> list:
        """The next ``lanes`` words of the sequence: word i is the top ``bits`` of the state
        ``i`` words on (rows of ``quantize.lfsr.leap_rows``: an XOR network per bit)."""
        w, k, s = self.cfg.width, self.cfg.bits_per_cycle, self.state
        return [self.word] + [Cat(*[(s & row).xor() for row in leap_rows(w, i * k)[w - k:]]) for i in range(1, lanes)]

    def leap(self, words: int):
        """Advance ``words`` words at once (the leap matrix ``A**(words bits)`` as XOR networks)."""
        s = self.state
        self.m.d.sync += s.eq(Cat(*[(s & row).xor() for row in leap_rows(self.cfg.width, words * self.cfg.bits_per_cycle)]))


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
        #: (layer, forwarded from the last write, from the one before): per-cycle flags of the
        #: scatter engines' forwarding (tests/test_core_rtl.py counts them)
        self.forwarding = []
        acc_rd, acc_wr, eng = [], [], []
        for j, (L, w) in enumerate(zip(layers, widths)):
            n, aw, kw = L.n, w["aw"], w["kw"]
            # at least two words: a one-word memory has a zero-width address, which Verilog cannot
            # declare (an MLP layer within one row tile); the spare word is never addressed
            # B > 1 banks (conv, quantize.core.CoreLayer.banks): one memory per bank of
            # ``Ho ceil(Wo / B) R`` words, and one weight ROM read port per bank (the
            # synthesis copies the ROM where a block RAM has too few ports)
            nb = L.banks
            km = memory.Memory(shape=unsigned(n * kw), depth=max(2, L.rows), init=[_pack(row, kw) for row in L.k])
            depth = L.positions * L.tiles if nb == 1 else L.out_hw[0] * -(-L.out_hw[1] // nb) * L.tiles
            rds, wrs = [], []
            for bank in range(nb):
                am = memory.Memory(shape=unsigned(n * aw), depth=max(2, depth), init=[])
                m.submodules[f"acc_{L.name}" if nb == 1 else f"acc_{L.name}_b{bank}"] = am
                wrs.append(am.write_port())
                rds.append(am.read_port(transparent_for=()))
            m.submodules[f"w_{L.name}"] = km
            acc_wr.append(wrs)
            acc_rd.append(rds)
            eng.append(self._scatter(m, j, L, w, rds, wrs, [km.read_port(transparent_for=()) for _ in range(nb)]))

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
        # early decision: the top two counts, the lead and the steps left
        top1, top2, lead_r, left_r = (Signal(COUNT_BITS, name=nm) for nm in ("top1", "top2", "lead", "left"))
        best_v = Signal(signed(len(v_regs[-1][0])))
        best_i = Signal(pw)
        dq_valid = Signal()
        dq_cnt, dq_v, dq_i = Signal.like(best_cnt), Signal.like(best_v), Signal.like(best_i)

        encoder = self._encoder if layers[0].enc_lanes == 1 else self._encoder_lanes
        enc = encoder(m, lf=[_Lfsr(m, wd, b, f"enc{i}") for i, wd in enumerate(ENCODER_WIDTHS)],
                      pix_rd=pix_rd, base=bases[0], spike_event=spike_event, eng0=eng[0])
        rd = self._readout_control(m)
        ph = [Signal(name=f"ph_{L.name}") for L in layers]   # registered: layer j's readout runs
        for j, L in enumerate(layers):
            self._handout(m, j, L, rd, ph[j], eng[j + 1] if j + 1 < nl else None, spike_event, counts, bases[j + 1],
                          own=eng[j] if L.recurrent else None, last_step=t + 1 == steps)
            self._datapath(m, j, L, widths[j], rd, ph[j], dict(
                acc_rd=acc_rd[j], acc_wr=acc_wr[j], t=t, mem_rd=mem_rd[j], mem_wr=mem_wr[j],
                v_regs=v_regs[j], pbank=pbanks[j] if pbanks else None))

        # Control FSM ---------------------------------------------------------------------------
        m.d.comb += self.pix_ready.eq(~busy)
        lead = Signal(range(SCATTER_LATENCY + 1))
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
                m.d.sync += [t.eq(0), steps.eq(self.steps)]
                enc["restart"]()
                enc["lf"][0].load(self.seed0)
                enc["lf"][1].load(self.seed1)
                for j in range(nl + 1):
                    m.d.sync += [sigs[j].eq(0), nspk[j].eq(0), bases[j].eq(0)]
                for c in range(classes):
                    m.d.sync += counts[c].eq(0)
                    if self.stochastic:
                        m.d.sync += v_regs[-1][c].eq(0)
                for bank in pbanks:
                    m.d.comb += bank.reseed.eq(1)
                m.next = "ENC"
            with m.State("ENC"):
                m.d.comb += enc["run"].eq(1)
                with m.If(enc["done"]):
                    m.d.sync += lead.eq(0)
                    m.next = f"LEAD_{layers[0].name}"
            for j, L in enumerate(layers):
                nxt = f"LEAD_{layers[j + 1].name}" if j + 1 < nl else "STEP_END"
                with m.State(f"LEAD_{L.name}"):
                    # the scatter into this layer writes its last word SCATTER_LATENCY cycles
                    # after its last issue (the previous phase's last cycle): wait for it
                    rd["restart"]()
                    m.d.sync += lead.eq(lead + 1)
                    with m.If(lead == SCATTER_LATENCY - 1):
                        m.d.sync += ph[j].eq(1)
                        m.next = f"READ_{L.name}"
                with m.State(f"READ_{L.name}"):
                    with m.If(rd["exit"]):
                        m.d.sync += [lead.eq(0), ph[j].eq(0)]
                        m.next = nxt
            with m.State("STEP_END"):
                m.d.sync += t.eq(t + 1)
                enc["restart"]()
                if not cfg.early_decision:
                    with m.If(t + 1 == steps):
                        m.d.sync += [dec_c.eq(0), dq_valid.eq(0)]
                        m.next = "DECIDE"
                    with m.Else():
                        m.next = "ENC"
                else:
                    m.d.sync += [dec_c.eq(0), dq_valid.eq(0), top1.eq(0), top2.eq(0)]
                    m.next = "EARLY"
            if cfg.early_decision:
                # early decision (quantize.early; quantize.core.early_scan_cycles): the counters
                # read one per cycle into the top two counts, then the lead and the steps left
                # registered, then the rule: stop (DECIDE; a lead >= 1 is a unique leader, which
                # DECIDE returns) or run the next step
                with m.State("EARLY"):
                    m.d.sync += [dq_valid.eq(1), dq_cnt.eq(counts[dec_c[:pw]]), dec_c.eq(dec_c + 1)]
                    with m.If(dq_valid):
                        with m.If(dq_cnt > top1):
                            m.d.sync += [top1.eq(dq_cnt), top2.eq(top1)]
                        with m.Elif(dq_cnt > top2):
                            m.d.sync += top2.eq(dq_cnt)
                    with m.If(dec_c == classes):     # the last class is in the second stage
                        m.next = "EARLY_LEAD"
                with m.State("EARLY_LEAD"):
                    m.d.sync += [lead_r.eq(top1 - top2), left_r.eq(steps - t)]
                    m.next = "EARLY_RULE"
                with m.State("EARLY_RULE"):
                    stop = (left_r == 0) | (lead_r > left_r)
                    if cfg.early_margin > 0:
                        stop = stop | (lead_r >= cfg.early_margin)
                    with m.If(stop):
                        m.d.sync += [dec_c.eq(0), dq_valid.eq(0)]
                        m.next = "DECIDE"
                    with m.Else():
                        m.next = "ENC"
            with m.State("DECIDE"):
                # two stages: class dec_c's count and membrane registered, then compared with
                # the best so far (quantize.snn.decide: most spikes, then the higher membrane,
                # then the lower class)
                m.d.sync += [dq_valid.eq(1), dq_cnt.eq(counts[dec_c[:pw]]), dq_v.eq(v_regs[-1][dec_c[:pw]]),
                             dq_i.eq(dec_c[:pw]), dec_c.eq(dec_c + 1)]
                better = dq_valid & ((dq_i == 0) | (dq_cnt > best_cnt) | ((dq_cnt == best_cnt) & (dq_v > best_v)))
                with m.If(better):
                    m.d.sync += [best_cnt.eq(dq_cnt), best_v.eq(dq_v), best_i.eq(dq_i)]
                with m.If(dec_c == classes):     # the last class is in the second stage
                    m.d.sync += [pred.eq(Mux(better, dq_i, best_i)), busy.eq(0), done.eq(1)]
                    m.next = "IDLE"
        return m

    # ------------------------------------------------------------------------------------------
    def _encoder(self, m: Module, lf, pix_rd, base, spike_event, eng0) -> dict:
        """The raster encoder as a four-stage pipeline (quantize.core: ENC): the pixel memory
        read (stage 1), its output registered (stage 2), the pixel's field of the beat (stage
        3), the comparison with the encoder word (stage 4, which also advances the LFSRs and
        the raster) and the hand-out
        of a spike to the first layer's scatter engine. The whole pipeline holds while that
        engine is busy (``busy_next``); a spike's hand-out is an advancing cycle, so a spike
        costs ``F - 1`` held cycles. ``run``: the ENC state; ``done``: the phase's last cycle
        (nothing left in flight, the engine at its last issue or idle)."""
        b, pixels = self.net.cfg.input_bits, self.pixels
        ih, iw, ic = self.net.input_shape
        run, done = Signal(name="enc_run"), Signal(name="enc_done")
        pix_i = Signal(range(pixels + 1))
        v1, v2, v3, v4 = (Signal(name=f"enc_v{i}") for i in range(1, 5))
        sel1, sel2 = Signal(range(PIX_PER_BEAT)), Signal(range(PIX_PER_BEAT))
        beat2 = Signal(PIX_PER_BEAT * b, name="enc_beat2")
        p3 = Signal(b, name="enc_p3")
        s4 = Signal(name="enc_s4")
        # At least one bit each: a 1-wide (or 1-high) input would give a zero-width counter,
        # which Verilator refuses (iris, wine: 1 x 1 x F feature vectors).
        prow, pcol = Signal(range(max(2, ih))), Signal(range(max(2, iw)))
        pch = Signal(range(ic), name="pch") if ic > 1 else None
        y4, x4, c4 = Signal(8, name="enc_y4"), Signal(8, name="enc_x4"), Signal(8, name="enc_c4")
        b4 = Signal(32, name="enc_b4")
        fields = Array(beat2[b * q:b * (q + 1)] for q in range(PIX_PER_BEAT))
        r_word = lf[0].word ^ lf[1].word
        adv = Signal(name="enc_adv")
        issuing = pix_i != pixels
        m.d.comb += [adv.eq(run & ~eng0["busy_next"]), pix_rd.addr.eq(pix_i >> 3), pix_rd.en.eq(adv),
                     done.eq(run & ~eng0["busy_next"] & ~issuing & ~v1 & ~v2 & ~v3 & ~v4)]
        with m.If(adv):
            m.d.sync += [v1.eq(issuing), sel1.eq(pix_i[:3]), v2.eq(v1), beat2.eq(pix_rd.data), sel2.eq(sel1),
                         v3.eq(v2), p3.eq(fields[sel2]), v4.eq(v3),
                         s4.eq(p3 > r_word), y4.eq(prow), x4.eq(pcol), c4.eq(0 if pch is None else pch), b4.eq(base)]
            with m.If(issuing):
                m.d.sync += pix_i.eq(pix_i + 1)
            with m.If(v3):
                lf[0].advance()
                lf[1].advance()
                self._raster(m, prow, pcol, pch, iw, ic)
                m.d.sync += base.eq(base + 1)
            with m.If(v4 & s4):
                spike_event(0, b4)
                m.d.comb += [eng0["req"].eq(1), eng0["y"].eq(y4), eng0["x"].eq(x4), eng0["c"].eq(c4)]

        def restart():
            m.d.sync += [pix_i.eq(0), prow.eq(0), pcol.eq(0), v1.eq(0), v2.eq(0), v3.eq(0), v4.eq(0)]
            if pch is not None:
                m.d.sync += pch.eq(0)
        return {"run": run, "done": done, "restart": restart, "lf": lf}

    def _encoder_lanes(self, m: Module, lf, pix_rd, base, spike_event, eng0) -> dict:
        """The encoder scanning E = ``layers[0].enc_lanes`` pixels per cycle (a power of two
        dividing ``PIX_PER_BEAT``, so a group of E lies in one beat): the same four stages as
        :meth:`_encoder` on groups (stage 3: the group's E fields; stage 4: E comparisons with
        the next E encoder words, lane i's the word i on of each bank, the banks leaping E
        words (the last group: the pixels left) as the group leaves stage 3). Stage 4 keeps the
        group's spikes pending (``m4``) and hands out the lowest one per cycle the engine takes
        a request; the pipeline advances in the cycle that hands out the last (or none), so a
        group with k > 0 spikes holds k - 1 cycles beyond the spikes' ``F - 1`` each. Each
        lane keeps its pixel's (row, column, channel), advanced by E pixels per group."""
        e = self.layers[0].enc_lanes
        b, pixels = self.net.cfg.input_bits, self.pixels
        ih, iw, ic = self.net.input_shape
        groups = -(-pixels // e)
        last_n = pixels - (groups - 1) * e             # pixels of the last group
        gpb = PIX_PER_BEAT // e                        # groups per beat
        run, done = Signal(name="enc_run"), Signal(name="enc_done")
        g = Signal(range(groups + 1), name="enc_g")
        v1, v2, v3, v4 = (Signal(name=f"enc_v{i}") for i in range(1, 5))
        l1, l2, l3 = (Signal(name=f"enc_last{i}") for i in range(1, 4))      # the last group
        sel1, sel2 = Signal(range(max(2, gpb)), name="enc_sel1"), Signal(range(max(2, gpb)), name="enc_sel2")
        beat2 = Signal(PIX_PER_BEAT * b, name="enc_beat2")
        p3 = Signal(e * b, name="enc_p3")
        m4 = Signal(e, name="enc_m4")                  # the group's spikes not handed out yet
        lanes = []
        for i in range(e):
            prow, pcol = Signal(range(max(2, ih)), name=f"enc_row{i}"), Signal(range(max(2, iw)), name=f"enc_col{i}")
            pch = Signal(range(ic), name=f"enc_ch{i}") if ic > 1 else None
            lanes.append((prow, pcol, pch, Signal(8, name=f"enc_y4_{i}"), Signal(8, name=f"enc_x4_{i}"),
                          Signal(8, name=f"enc_c4_{i}")))
        b4 = Signal(32, name="enc_b4")
        gfields = Array(beat2[e * b * q:e * b * (q + 1)] for q in range(gpb))
        words = [w0 ^ w1 for w0, w1 in zip(lf[0].lane_words(e), lf[1].lane_words(e))]
        free, adv = Signal(name="enc_free"), Signal(name="enc_adv")
        issuing = g != groups
        m.d.comb += [free.eq(run & ~eng0["busy_next"]), adv.eq(free & ((m4 & (m4 - 1)) == 0)),
                     pix_rd.addr.eq(g >> (gpb.bit_length() - 1)), pix_rd.en.eq(adv),
                     done.eq(free & ~issuing & ~v1 & ~v2 & ~v3 & ~v4)]
        fires = [v3 & (p3[b * i:b * (i + 1)] > words[i]) & (~l3 if i >= last_n else 1) for i in range(e)]
        with m.If(adv):
            m.d.sync += [v1.eq(issuing), sel1.eq(g[:gpb.bit_length() - 1] if gpb > 1 else 0), l1.eq(g == groups - 1),
                         v2.eq(v1), beat2.eq(pix_rd.data), sel2.eq(sel1), l2.eq(l1),
                         v3.eq(v2), p3.eq(gfields[sel2]), l3.eq(l2),
                         v4.eq(v3), m4.eq(Cat(*fires)), b4.eq(base)]
            m.d.sync += [r.eq(v) for prow, pcol, pch, y4, x4, c4 in lanes
                         for r, v in ((y4, prow), (x4, pcol), (c4, 0 if pch is None else pch))]
            with m.If(issuing):
                m.d.sync += g.eq(g + 1)
            with m.If(v3):
                for bank in lf:
                    if last_n == e:
                        bank.leap(e)
                    else:
                        with m.If(l3):
                            bank.leap(last_n)
                        with m.Else():
                            bank.leap(e)
                for prow, pcol, pch, *_ in lanes:
                    self._raster_add(m, prow, pcol, pch, iw, ic, e)
                m.d.sync += base.eq(base + Mux(l3, last_n, e))
        with m.Elif(free & (m4 != 0)):
            m.d.sync += m4.eq(m4 & (m4 - 1))
        with m.If(free & (m4 != 0)):
            idx = _lowest_set_bit(m, m4)
            spike_event(0, b4 + idx)
            m.d.comb += [eng0["req"].eq(1), eng0["y"].eq(Array(ln[3] for ln in lanes)[idx]),
                         eng0["x"].eq(Array(ln[4] for ln in lanes)[idx]), eng0["c"].eq(Array(ln[5] for ln in lanes)[idx])]

        def restart():
            m.d.sync += [g.eq(0), v1.eq(0), v2.eq(0), v3.eq(0), v4.eq(0), m4.eq(0)]
            for i, (prow, pcol, pch, *_) in enumerate(lanes):   # lane i: pixel i
                m.d.sync += [prow.eq(i // (iw * ic)), pcol.eq(i // ic % iw)]
                if pch is not None:
                    m.d.sync += pch.eq(i % ic)
        return {"run": run, "done": done, "restart": restart, "lf": lf}

    @staticmethod
    def _raster_add(m: Module, prow, pcol, pch, iw: int, ic: int, e: int):
        """Advance a (row, column[, channel]) by ``e <= iw ic`` pixels, channel fastest (at most
        one carry into the column and one into the row)."""
        if pch is None:
            col = pcol + e
        else:
            ch = pch + e % ic
            m.d.sync += pch.eq(Mux(ch >= ic, ch - ic, ch))
            col = pcol + e // ic + (ch >= ic)
        m.d.sync += [pcol.eq(Mux(col >= iw, col - iw, col)), prow.eq(prow + (col >= iw))]

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
        """The scatter engine of layer ``j``: a request (y, x, c) in the source raster walks the
        spike's output positions (stage W, one per cycle from the next cycle on); stages A1..A3
        turn a position into the (accumulator word, weight row) pair (two adders at most per
        stage), A3's registers address both memories, E1 registers their outputs and E2 adds
        the row to the word and writes it back (``SCATTER_LATENCY`` cycles after W), forwarding
        the sums of the two writes a read misses (consecutive words of one address: the last
        word of a spike and the first of the next).

        ``acc_rd``, ``acc_wr``, ``k_rd``: one port per bank (``L.banks`` = B). With B > 1 (conv)
        the walk steps B output columns of a window row per cycle (a chunk starting at ``ox``):
        bank b (the columns ``ox mod B = b``, word ``((oy ceil(Wo / B) + ox // B) R + tile``)
        takes the chunk's one column of its own, ``ox + ((b - ox mod B) mod B)``, when that is
        in the window; each bank has its own A1..E2 lane, weight ROM read port and forwarding
        (any B consecutive columns lie in distinct banks, so one chunk never updates a bank
        twice, and the hazards are a bank's own, as with one memory)."""
        nb = L.banks
        req = Signal(name=f"req_{L.name}")
        rec = Signal(name=f"rec_{L.name}")       # the request is a recurrent layer's own spike
        ry, rx = Signal(8, name=f"ry_{L.name}"), Signal(8, name=f"rx_{L.name}")
        rc = Signal(8, name=f"rc_{L.name}")
        active = Signal(name=f"active_{L.name}")
        yy, xx, cc = Signal(8, name=f"y_{L.name}"), Signal(8, name=f"x_{L.name}"), Signal(8, name=f"c_{L.name}")
        oy, ox = Signal(8, name=f"oy_{L.name}"), Signal(8, name=f"ox_{L.name}")
        oy_hi, ox_lo, ox_hi = Signal(8), Signal(8), Signal(8)
        dy, dx, dx0 = Signal(8, name=f"dy_{L.name}"), Signal(8, name=f"dx_{L.name}"), Signal(8)
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

        def row_last(a, top):
            """The chunk starting at column ``a`` is its window row's last (``top`` the row's last column)."""
            return a == top if nb == 1 else a + nb > top

        # banks: the chunk's start column as (ox // B, ox mod B) = (q0, b0), and the row's first
        # (q_lo, b_lo); at the request from a table of the raw column (B not a power of two)
        wb = -(-wo // nb)                                  # groups (B columns) per output row
        if nb > 1:
            q0, q_lo = Signal(8, name=f"q0_{L.name}"), Signal(8)
            b0, b_lo = Signal(range(nb), name=f"b0_{L.name}"), Signal(range(nb))
            if nb & (nb - 1) == 0:
                lo_x = lo(px_)
                q_req, b_req = lo_x >> (nb.bit_length() - 1), lo_x[:nb.bit_length() - 1]
            else:
                def col(v):
                    v = (v >> 1 if L.pool_input else v) + L.padding
                    return divmod(max(0, v - k1), nb)
                bb = (nb - 1).bit_length()
                table = Array(Const(col(v)[0] << bb | col(v)[1], 8 + bb) for v in range(256))
                qb_req = Signal(8 + bb, name=f"qb_req_{L.name}")
                m.d.comb += qb_req.eq(table[rx])
                q_req, b_req = qb_req[bb:], qb_req[:bb]
        # last_w: the walked position is the spike's last (a register, so busy_next, which holds
        # the feeding pipeline, comes straight from flip-flops)
        last_w = Signal(name=f"lastw_{L.name}")
        last = Signal(name=f"last_{L.name}")
        m.d.comb += last.eq(active & last_w)
        with m.If(req):
            m.d.sync += [active.eq(1), yy.eq(py_), xx.eq(px_), cc.eq(rc)]
            if L.kind == "conv":   # dy, dx: the spike's offset in the window of (oy, ox)
                m.d.sync += [oy.eq(lo(py_)), oy_hi.eq(hi(py_, ho - 1)), ox.eq(lo(px_)), ox_lo.eq(lo(px_)),
                             ox_hi.eq(hi(px_, wo - 1)), dy.eq(hi(py_, k1)), dx.eq(hi(px_, k1)),
                             dx0.eq(hi(px_, k1)),
                             last_w.eq((lo(py_) == hi(py_, ho - 1)) & row_last(lo(px_), hi(px_, wo - 1)))]
                if nb > 1:
                    m.d.sync += [q0.eq(q_req), q_lo.eq(q_req), b0.eq(b_req), b_lo.eq(b_req)]
            else:
                m.d.sync += last_w.eq(1)
        with m.Elif(last):
            m.d.sync += active.eq(0)
        with m.Elif(active):
            with m.If(row_last(ox, ox_hi)):
                m.d.sync += [ox.eq(ox_lo), oy.eq(oy + 1), dx.eq(dx0), dy.eq(dy - 1),
                             last_w.eq((oy + 1 == oy_hi) & row_last(ox_lo, ox_hi))]
                if nb > 1:
                    m.d.sync += [q0.eq(q_lo), b0.eq(b_lo)]
            with m.Else():
                m.d.sync += [ox.eq(ox + nb), dx.eq(dx - nb), last_w.eq((oy == oy_hi) & row_last(ox + nb, ox_hi))]
                if nb > 1:
                    m.d.sync += q0.eq(q0 + 1)

        # A1..A3: the word address and weight row of the walked position (per bank).
        rows, words = L.rows, L.positions * L.tiles
        bwords = ho * wb * L.tiles                         # words per bank
        if L.kind == "conv":
            crow1 = Signal(range(rows + 1), name=f"crow1_{L.name}")   # c k**2
            dyk1 = Signal(range(k * k + 1), name=f"dyk1_{L.name}")     # dy k + dx
            oyw1 = Signal(range(L.positions + 1), name=f"oyw1_{L.name}")
            m.d.sync += [crow1.eq(cc * (k * k)), dyk1.eq(dy * k + dx), oyw1.eq(oy * wb)]
        out = {"req": req, "y": ry, "x": rx, "c": rc, "rec": rec, "busy_next": active & ~last}
        for b in range(nb):
            sfx = L.name if nb == 1 else f"{L.name}_b{b}"
            self._scatter_lane(m, L, w, sfx, acc_rd[b], acc_wr[b], k_rd[b], dict(
                req=req, rec=rec, active=active, yy=yy, xx=xx, cc=cc, ox=ox, ox_hi=ox_hi, b=b,
                b0=b0 if nb > 1 else None, q0=q0 if nb > 1 else None,
                conv=(crow1, dyk1, oyw1) if L.kind == "conv" else None, words=bwords if nb > 1 else words))
        return out

    def _scatter_lane(self, m: Module, L: CoreLayer, w: dict, sfx: str, acc_rd, acc_wr, k_rd, e: dict):
        """One bank's lane of a scatter engine: A1 (its column of the walked chunk: valid, column
        offset and group), A2, A3 (the word address and weight row), E1, E2 (the add and the
        write-back with forwarding). One bank: the walked position itself."""
        n, aw, kw = L.n, w["aw"], w["kw"]
        nb, rows, words = L.banks, L.rows, e["words"]
        yy, xx, cc, ox = e["yy"], e["xx"], e["cc"], e["ox"]
        v1, v2, v3, v4, v5 = (Signal(name=f"s{i}v_{sfx}") for i in range(1, 6))
        m.d.sync += [v2.eq(v1), v3.eq(v2), v4.eq(v3), v5.eq(v4)]
        row2 = Signal(range(rows + 1), name=f"row2_{sfx}")
        row3 = Signal(range(rows + 1), name=f"row3_{sfx}")
        addr3 = Signal(range(words + 1), name=f"addr3_{sfx}")
        addr4 = Signal(range(words + 1), name=f"addr4_{sfx}")
        addr5 = Signal(range(words + 1), name=f"addr5_{sfx}")
        if L.kind == "conv" and nb == 1:
            crow1, dyk1, oyw1 = e["conv"]
            ox1 = Signal(8, name=f"ox1_{sfx}")
            pos2 = Signal(range(L.positions + 1), name=f"pos2_{sfx}")
            m.d.sync += [v1.eq(e["active"]), ox1.eq(ox), row2.eq(crow1 + dyk1), pos2.eq(oyw1 + ox1),
                         row3.eq(row2), addr3.eq(pos2 * L.tiles + (row2 >> L.tile_log2))]
        elif L.kind == "conv":
            crow1, dyk1, oyw1 = e["conv"]
            b, b0, q0 = e["b"], e["b0"], e["q0"]
            off = Signal(range(nb), name=f"off_{sfx}")    # the bank's column: ox + off
            # b0 > b: the bank's column lies in the next group (never for the last bank; no
            # comparison that is constant, which Verilator's lint refuses)
            later = Const(0) if b == nb - 1 else b0 > b
            m.d.comb += off.eq(Mux(later, b - b0 + nb, b - b0))
            off1 = Signal(range(nb), name=f"off1_{sfx}")
            q1 = Signal(8, name=f"q1_{sfx}")
            pos2 = Signal(range(L.positions + 1), name=f"pos2_{sfx}")
            m.d.sync += [v1.eq(e["active"] & (ox + off <= e["ox_hi"])), off1.eq(off), q1.eq(q0 + later),
                         row2.eq(crow1 + dyk1 - off1), pos2.eq(oyw1 + q1),
                         row3.eq(row2), addr3.eq(pos2 * L.tiles + (row2 >> L.tile_log2))]
        elif L.kind == "pool":
            wo = L.out_hw[1]
            row1 = Signal(range(rows + 1), name=f"row1_{sfx}")
            a1 = Signal(range(words + 1), name=f"a1_{sfx}")
            x1 = Signal(8, name=f"x1_{sfx}")
            a2 = Signal(range(words + 1), name=f"a2_{sfx}")
            m.d.sync += [v1.eq(e["active"]), row1.eq(Cat(xx[0], yy[0], cc)), a1.eq((yy >> 1) * wo), x1.eq(xx >> 1),
                         row2.eq(row1), a2.eq(a1 + x1), row3.eq(row2), addr3.eq(a2)]
        else:
            ghw = L.geo_shape
            yx1 = Signal(range(ghw[0] * ghw[1] + 1), name=f"yx1_{sfx}")
            c1 = Signal(8, name=f"c1_{sfx}")
            row_ff = yx1 * ghw[2] + c1
            if L.recurrent:    # a request of the layer's own spike: recurrent row in + c
                rec_w, rec1 = Signal(name=f"recw_{sfx}"), Signal(name=f"rec1_{sfx}")
                with m.If(e["req"]):
                    m.d.sync += rec_w.eq(e["rec"])
                m.d.sync += rec1.eq(rec_w)
                row_ff = Mux(rec1, int(np.prod(ghw)) + c1, row_ff)
            m.d.sync += [v1.eq(e["active"]), yx1.eq(yy * ghw[1] + xx), c1.eq(cc), row2.eq(row_ff),
                         row3.eq(row2), addr3.eq(row2 >> L.tile_log2)]
        m.d.sync += [addr4.eq(addr3), addr5.eq(addr4)]
        m.d.comb += [k_rd.addr.eq(row3), k_rd.en.eq(1), acc_rd.addr.eq(addr3), acc_rd.en.eq(1)]
        # E1 (v4): the memories' outputs, registered as they are (a block RAM's output is slow);
        # E2 (v5): add the row to the word and write it back. The read of a word misses the
        # writes of the two E2 cycles at and after its read edge (the read port is not
        # transparent): E1 compares its address with those two writes' and E2 takes the newer
        # matching sum instead of the word read (forwarding).
        d5 = Signal(n * aw, name=f"d5_{sfx}")
        k5 = Signal(n * kw, name=f"k5_{sfx}")
        s_prev = Signal(n * aw, name=f"sp_{sfx}")       # the sum written at the last edge
        s_prev2 = Signal(n * aw, name=f"sp2_{sfx}")     # the one before
        wa_prev = Signal.like(addr5, name=f"wap_{sfx}")
        wv_prev = Signal(name=f"wvp_{sfx}")
        hit1, hit2 = Signal(name=f"hit1_{sfx}"), Signal(name=f"hit2_{sfx}")
        m.d.sync += [d5.eq(acc_rd.data), k5.eq(k_rd.data),
                     hit1.eq(v5 & (addr4 == addr5)), hit2.eq(wv_prev & (addr4 == wa_prev)),
                     wa_prev.eq(addr5), wv_prev.eq(v5), s_prev2.eq(s_prev)]
        word = Mux(hit1, s_prev, Mux(hit2, s_prev2, d5))
        summed = Cat(*[(word[aw * c:aw * (c + 1)].as_signed() + k5[kw * c:kw * (c + 1)].as_signed())[:aw]
                       for c in range(n)])
        m.d.sync += s_prev.eq(summed)
        with m.If(v5):
            m.d.comb += [acc_wr.addr.eq(addr5), acc_wr.data.eq(summed), acc_wr.en.eq(1)]
        fwd1, fwd2 = Signal(name=f"fwd1_{sfx}"), Signal(name=f"fwd2_{sfx}")
        m.d.comb += [fwd1.eq(v5 & hit1), fwd2.eq(v5 & ~hit1 & hit2)]
        self.forwarding.append((L.name, fwd1, fwd2))


    # ------------------------------------------------------------------------------------------
    def _readout_control(self, m: Module) -> dict:
        """The readout's shared control (one layer's readout runs at a time, ``ph``).

        Issue: the words ``ra = pos R + r`` in order, one per advancing cycle (``adv``). The
        datapath (``_datapath``) is a fixed pipeline of ``READ_STAGES - 1`` register stages
        that never holds; every advancing cycle sends a slot down it (a word, or a bubble once
        the words are issued) and each slot's result (``fires``: the fire vector of a completed
        position, else nothing) lands in a small FIFO. The FIFO is popped on every advancing
        cycle into ``rem`` (the pending spikes), the first ``READ_STAGES`` pops of a phase
        giving bubbles (``skip``): so ``rem`` takes exactly what a pipeline of ``READ_STAGES``
        stages holding as a whole would give it, while the holding itself (``adv``, from
        registers only: the next engine's ``busy_next`` and ``rem_zero``) drives few flip-flops.

        Hand-out: the spike in ``sel`` goes to the next layer's scatter engine (or the class
        counters) while the lowest set bit of ``rem`` is registered into ``sel`` (the search
        and the hand-out in separate cycles); ``adv`` when ``rem`` is empty and the engine takes
        a request. The phase ends on the ``READ_FLUSH``-th advance after its last issue."""
        layers = self.layers
        nmax = max(L.n for L in layers)
        words = max(L.positions * L.tiles for L in layers)
        pmax = max(L.positions for L in layers)
        rmax = max(L.tiles for L in layers)
        depth = 1 << (READ_STAGES - 1).bit_length()
        s = {"adv": Signal(name="rd_adv"), "issuing": Signal(name="rd_issuing"), "exit": Signal(name="rd_exit"),
             "run": Signal(name="rd_run"), "wait": Signal(name="rd_wait"), "pop_v": Signal(name="rd_pop_v"),
             "fires": Signal(nmax, name="rd_fires"),
             "ra": Signal(range(words + 1), name="rd_ra"), "r0": Signal(range(rmax + 1), name="rd_r0"),
             "pos0": Signal(range(pmax + 1), name="rd_pos0"), "flush": Signal(range(READ_FLUSH + 1), name="rd_flush"),
             "skip": Signal(range(READ_STAGES + 1), name="rd_skip"),
             "wr": Signal(range(depth), name="fifo_wr"), "rd": Signal(range(depth), name="fifo_rd"),
             "rem": Signal(nmax, name="rem"), "rem_zero": Signal(name="rem_zero", init=1),
             "rem_y": Signal(8, name="rem_y"), "rem_x": Signal(8, name="rem_x"), "rem_base": Signal(32, name="rem_base"),
             "ny": Signal(8, name="rd_ny"), "nx": Signal(8, name="rd_nx"),
             "sel_v": Signal(name="sel_v"), "sel_ch": Signal(range(max(2, nmax)), name="sel_ch"),
             "sel_y": Signal(8, name="sel_y"), "sel_x": Signal(8, name="sel_x"), "sel_idx": Signal(32, name="sel_idx")}
        last_stage = READ_STAGES - 1
        for i in range(1, last_stage + 1):
            s[f"slot{i}"] = Signal(name=f"rd_slot{i}")
            s[f"v{i}"] = Signal(name=f"rd_v{i}")
            s[f"first{i}"] = Signal(name=f"rd_first{i}")
            s[f"last{i}"] = Signal(name=f"rd_last{i}")
            s[f"pos{i}"] = Signal(range(pmax + 1), name=f"rd_pos{i}")
        s["ra1"] = Signal(range(words + 1), name="rd_ra1")
        s["r1"] = Signal(range(rmax + 1), name="rd_r1")
        s["last_stage"] = last_stage
        adv, rem = s["adv"], s["rem"]
        m.d.comb += adv.eq(s["run"] & ~s["wait"] & s["rem_zero"])
        # the fixed pipeline's tags (never held)
        m.d.sync += [s["slot1"].eq(adv), s["v1"].eq(adv & s["issuing"]), s["ra1"].eq(s["ra"]), s["r1"].eq(s["r0"]),
                     s["pos1"].eq(s["pos0"]), s["first1"].eq(s["r0"] == 0)]          # last1: per layer
        for i in range(2, last_stage + 1):
            # stage 4 onwards carries complete positions only (y is summed over the tiles)
            v = s[f"v{i - 1}"] & s[f"last{i - 1}"] if i == 4 else s[f"v{i - 1}"]
            m.d.sync += [s[f"slot{i}"].eq(s[f"slot{i - 1}"]), s[f"v{i}"].eq(v), s[f"first{i}"].eq(s[f"first{i - 1}"]),
                         s[f"last{i}"].eq(s[f"last{i - 1}"]), s[f"pos{i}"].eq(s[f"pos{i - 1}"])]
        # the FIFO of results (fire vector and "a completed position" flag)
        fifo = Array(Signal(nmax + 2, name=f"fifo{k}") for k in range(depth))
        with m.If(s[f"slot{last_stage}"]):
            vl = s[f"v{last_stage}"]
            m.d.sync += [fifo[s["wr"]].eq(Cat(s["fires"], vl, vl & (s["fires"] != 0))), s["wr"].eq(s["wr"] + 1)]
        head = fifo[s["rd"]]
        head_v, head_any = head[nmax], head[nmax + 1]
        # hand-out: sel -> the engine (per layer, _handout); rem -> sel
        lowest = _lowest_set_bit(m, rem)
        with m.If(s["run"] & ~s["wait"]):
            m.d.sync += [s["sel_v"].eq(~s["rem_zero"]), s["sel_ch"].eq(lowest), s["sel_y"].eq(s["rem_y"]),
                         s["sel_x"].eq(s["rem_x"]), s["sel_idx"].eq(s["rem_base"] + lowest)]
            with m.If(~s["rem_zero"]):
                after = rem & (rem - 1)
                m.d.sync += [rem.eq(after), s["rem_zero"].eq(after == 0)]
        with m.If(adv):
            with m.If(s["skip"] != 0):
                m.d.sync += [s["skip"].eq(s["skip"] - 1), rem.eq(0), s["rem_zero"].eq(1)]
            with m.Else():
                m.d.sync += [s["rd"].eq(s["rd"] + 1), rem.eq(Mux(head_v, head[:nmax], 0)), s["rem_zero"].eq(~head_any)]
                m.d.comb += s["pop_v"].eq(head_v)
            with m.If(~s["issuing"]):
                m.d.sync += s["flush"].eq(s["flush"] + 1)

        def restart():
            # the previous phase's last slots (bubbles) still in the pipeline are dropped
            m.d.sync += [s["ra"].eq(0), s["r0"].eq(0), s["pos0"].eq(0), s["flush"].eq(0), s["skip"].eq(READ_STAGES),
                         s["wr"].eq(0), s["rd"].eq(0), s["ny"].eq(0), s["nx"].eq(0)]
            m.d.sync += [s[f"slot{i}"].eq(0) for i in range(1, last_stage + 1)]
        s["restart"] = restart
        m.d.comb += s["exit"].eq(adv & ~s["issuing"] & (s["flush"] == READ_FLUSH - 1))
        return s

    def _handout(self, m: Module, j: int, L: CoreLayer, s: dict, ph, e, spike_event, counts, base, *, own=None,
                 last_step=None):
        """Layer ``j``'s part of the readout control while it runs (``ph``): its word count and
        tile wrap, its engine's ``busy_next`` as the hold, the hand-out of ``sel`` (the scatter
        request, or the class counters of the last layer) and the event base and (y, x) of
        each completed position popped into ``rem``. A recurrent layer (``own``: its own scatter
        engine) also requests its own engine with each spike it hands out, except in the last
        step (``last_step``); a dense scatter is one word, so ``own["busy_next"]`` never holds."""
        words = L.positions * L.tiles
        wait = e["busy_next"] if e is not None else Const(0)
        if own is not None:
            wait = wait | own["busy_next"]
        with m.If(ph):
            m.d.comb += [s["run"].eq(1), s["wait"].eq(wait), s["issuing"].eq(s["ra"] != words)]
            m.d.sync += s["last1"].eq(s["r0"] == L.tiles - 1)
            with m.If(~wait & s["sel_v"]):
                spike_event(j + 1, s["sel_idx"])
                if own is not None:
                    with m.If(~last_step):
                        m.d.comb += [own["req"].eq(1), own["rec"].eq(1), own["c"].eq(s["sel_ch"])]
                if e is not None:
                    m.d.comb += [e["req"].eq(1), e["y"].eq(s["sel_y"]), e["x"].eq(s["sel_x"]), e["c"].eq(s["sel_ch"])]
                else:
                    for c in range(L.n):
                        with m.If(s["sel_ch"] == c):
                            m.d.sync += counts[c].eq(counts[c] + 1)
            with m.If(s["adv"] & s["issuing"]):
                m.d.sync += s["ra"].eq(s["ra"] + 1)
                with m.If(s["r0"] == L.tiles - 1):
                    m.d.sync += [s["r0"].eq(0), s["pos0"].eq(s["pos0"] + 1)]
                with m.Else():
                    m.d.sync += s["r0"].eq(s["r0"] + 1)
            with m.If(s["pop_v"]):
                wo = L.out_hw[1]
                m.d.sync += [s["rem_base"].eq(base), base.eq(base + L.n), s["rem_y"].eq(s["ny"]), s["rem_x"].eq(s["nx"])]
                with m.If(s["nx"] == wo - 1):
                    m.d.sync += [s["nx"].eq(0), s["ny"].eq(s["ny"] + 1)]
                with m.Else():
                    m.d.sync += s["nx"].eq(s["nx"] + 1)

    @staticmethod
    def _bank_readout(m: Module, L: CoreLayer, s: dict, ph, acc_rd, acc_wr):
        """The readout's reads of a banked layer's words (``L.banks`` = B > 1) in the issue order
        (position, tile): position (oy, ox) lies in bank ``ox mod B``, word ``g R + r`` of its
        group ``g = oy ceil(Wo / B) + ox // B``; the group advances after the last bank of a
        group and after a row's last column (one group per B columns, ``ceil(Wo / B)`` per row),
        so one address ``rab`` serves every bank. Returns the read word: the banks' outputs
        AND-ed with the issue's bank as one-hot flags registered with the issue, and OR-ed (two
        logic levels behind the block RAMs' slow outputs); the word is cleared behind the read
        as with one memory."""
        nb, R, wo = L.banks, L.tiles, L.out_hw[1]
        bwords = L.out_hw[0] * -(-wo // nb) * R
        rab = Signal(range(bwords + R + 1), name=f"rab_{L.name}")      # the word issued
        rgrp = Signal(range(bwords + R + 1), name=f"rgrp_{L.name}")    # its group's first word
        rb, rcol = Signal(range(nb), name=f"rb_{L.name}"), Signal(range(max(2, wo)), name=f"rcol_{L.name}")
        rb1, rab1 = Signal(range(nb), name=f"rb1_{L.name}"), Signal.like(rab, name=f"rab1_{L.name}")
        with m.If(~ph):
            m.d.sync += [rab.eq(0), rgrp.eq(0), rb.eq(0), rcol.eq(0)]
        with m.Else():
            m.d.comb += [p.addr.eq(rab) for p in acc_rd] + [p.en.eq(1) for p in acc_rd]
            m.d.sync += [rb1.eq(rb), rab1.eq(rab)]
            hot1 = [Signal(name=f"rbh1_{L.name}{bk}") for bk in range(nb)]   # rb1 == bank, one-hot
            m.d.sync += [h.eq(rb == bk) for bk, h in enumerate(hot1)]
            with m.If(s["adv"] & s["issuing"]):
                with m.If(s["r0"] == R - 1):                    # the next position
                    with m.If((rb == nb - 1) | (rcol == wo - 1)):
                        m.d.sync += [rgrp.eq(rgrp + R), rab.eq(rgrp + R), rb.eq(0)]
                    with m.Else():
                        m.d.sync += [rab.eq(rgrp), rb.eq(rb + 1)]
                    m.d.sync += rcol.eq(Mux(rcol == wo - 1, 0, rcol + 1))
                with m.Else():
                    m.d.sync += rab.eq(rab + 1)
            for b, p in enumerate(acc_wr):
                with m.If(s["v1"] & (rb1 == b)):
                    m.d.comb += [p.addr.eq(rab1), p.data.eq(0), p.en.eq(1)]
        word = 0
        for h, p in zip(hot1, acc_rd):
            word = word | Mux(h, p.data, 0)
        return word

    def _datapath(self, m: Module, j: int, L: CoreLayer, w: dict, s: dict, ph, d: dict):
        """Layer ``j``'s readout datapath, a fixed pipeline (``quantize.core``: READ): 1 the
        accumulator word (read port), cleared behind the read; 2 the word and its tile's scale
        code; 3 their product (DSP); 4 ``y`` summed over the row tiles (round-shifted products,
        plus the bias); 5 ``y`` and the stored membrane (read at stage 3); 6 the membrane sum
        (leaked first for LIF) or, for p-bits, the sigmoid LUT address; 7 the clamped membrane and
        the fire flags (p-bits: the LUT value against the bank's word); then the fire vector
        goes into the FIFO and the reset membrane is written back."""
        net, cfg = self.net, self.net.cfg
        n, aw, yw, mw = L.n, w["aw"], w["yw"], cfg.membrane_bits
        acc_rd, acc_wr = d["acc_rd"], d["acc_wr"]
        mem_rd, mem_wr, v_regs = d["mem_rd"], d["mem_wr"], d["v_regs"]
        cw = w["cw"]
        st = s["last_stage"]
        scale = [Array(Const(int(L.c[rr, c]), unsigned(cw)) for rr in range(L.tiles)) for c in range(n)]
        if L.banks == 1:
            acc_rd, acc_wr = acc_rd[0], acc_wr[0]
            word1 = acc_rd.data
        else:
            word1 = self._bank_readout(m, L, s, ph, acc_rd, acc_wr)
        with m.If(ph):
            # the read port is the readout's; the write port clears the word behind the read, and
            # is otherwise left to the scatter into this layer (its last word is written in the
            # cycle of the first issue, which the transparent read port forwards)
            if L.banks == 1:
                if L.recurrent:    # once the words are issued the read port is the recurrent scatter's
                    with m.If(s["issuing"]):
                        m.d.comb += [acc_rd.addr.eq(s["ra"]), acc_rd.en.eq(1)]
                else:
                    m.d.comb += [acc_rd.addr.eq(s["ra"]), acc_rd.en.eq(1)]
                with m.If(s["v1"]):
                    m.d.comb += [acc_wr.addr.eq(s["ra1"]), acc_wr.data.eq(0), acc_wr.en.eq(1)]
            if mem_rd is not None:
                m.d.comb += [mem_rd.addr.eq(s["pos3"]), mem_rd.en.eq(1)]
        fires, new_v = [], []
        for c in range(n):
            a2 = Signal(signed(aw), name=f"a2_{L.name}{c}")
            sc2 = Signal(unsigned(cw), name=f"sc2_{L.name}{c}")
            prod3 = Signal(signed(aw + cw + 1), name=f"prod3_{L.name}{c}")
            y4 = Signal(signed(yw), name=f"y4_{L.name}{c}")
            y5 = Signal(signed(yw), name=f"y5_{L.name}{c}")
            contrib = ((prod3 + (1 << (L.shift - 1))) >> L.shift) if L.shift > 0 else (prod3 << (-L.shift))
            bias = int(L.bias[c]) if L.bias is not None else 0
            m.d.sync += [a2.eq(word1[aw * c:aw * (c + 1)].as_signed()), sc2.eq(scale[c][s["r1"]]),
                         prod3.eq(a2 * sc2), y5.eq(y4)]
            with m.If(ph & s["v3"]):
                m.d.sync += y4.eq(Mux(s["first3"], bias, y4) + contrib)
            if self.stochastic:
                a = cfg.lut_addr_bits
                sh = (y5 >> net.lut_shift) if net.lut_shift >= 0 else (y5 << (-net.lut_shift))
                biased = Signal(signed(yw + 3 + max(0, -net.lut_shift)), name=f"lb_{L.name}{c}")
                m.d.comb += biased.eq(sh + (1 << (a - 1)))
                la6 = Signal(unsigned(a), name=f"la6_{L.name}{c}")
                fire7 = Signal(name=f"fire7_{L.name}{c}")
                table = Array(Const(int(v), unsigned(cfg.lut_bits)) for v in net.lut)
                # the bank's word of this position: it advances as the position leaves stage 6
                m.d.sync += [la6.eq(Mux(biased < 0, 0, Mux(biased > (1 << a) - 1, (1 << a) - 1, biased))),
                             fire7.eq(table[la6] > d["pbank"].bits[c])]
                if v_regs is not None:
                    with m.If(ph & s["v5"]):
                        m.d.sync += v_regs[c].eq(v_regs[c] + y5)
                fires.append(fire7)
                continue
            vm5 = Signal(signed(mw), name=f"vm5_{L.name}{c}")
            stored = mem_rd.data[mw * c:mw * (c + 1)].as_signed() if mem_rd is not None else v_regs[c]
            v_old = Mux(d["t"] == 0, 0, vm5)
            if L.leak_shift is not None:         # LIF: v - (v >> leak_shift), an arithmetic shift
                v_leak = Signal(signed(mw), name=f"vl_{L.name}{c}")
                m.d.comb += v_leak.eq(v_old - (v_old >> L.leak_shift))
                v_old = v_leak
            total6 = Signal(signed(max(mw, yw + 1) + 1), name=f"vt6_{L.name}{c}")
            lo = net.floor if net.floor is not None else -net.vmax - 1
            cl7 = Signal(signed(mw), name=f"vc7_{L.name}{c}")
            # fire7: clamp(total6) >= threshold, decided from total6 beside the clamp (so the
            # fire vector leaves the layer from flip-flops)
            fire = Signal(name=f"fire7_{L.name}{c}")
            th = net.threshold
            m.d.sync += [vm5.eq(stored), total6.eq(v_old + y5),
                         cl7.eq(Mux(total6 > net.vmax, net.vmax, Mux(total6 < lo, lo, total6))),
                         fire.eq(Mux(total6 > net.vmax, int(net.vmax >= th), Mux(total6 < lo, int(lo >= th),
                                                                                   total6 >= th)))]
            nv = Signal(signed(mw), name=f"vn_{L.name}{c}")
            if cfg.kind == "cmos-if":
                m.d.comb += nv.eq(Mux(fire, cl7 - net.threshold, cl7))
            else:
                m.d.comb += nv.eq(Mux(fire, 0, cl7))
            fires.append(fire)
            new_v.append(nv)
            if v_regs is not None:
                with m.If(ph & s[f"v{st}"]):
                    m.d.sync += v_regs[c].eq(nv)
        with m.If(ph):
            m.d.comb += s["fires"].eq(Cat(*fires))
            if mem_wr is not None:
                m.d.comb += [mem_wr.addr.eq(s[f"pos{st}"]), mem_wr.data.eq(Cat(*new_v)), mem_wr.en.eq(s[f"v{st}"])]
            if d["pbank"] is not None:
                m.d.comb += d["pbank"].en.eq(s[f"v{st - 1}"])


def _lowest_set_bit(m: Module, x) -> Signal:
    """Index of the lowest set bit of ``x`` (0 when none) as a balanced tree of 2:1 choices
    (``log2 len(x)`` levels, not a chain of ``len(x)`` priority muxes)."""
    nodes = [(x[i], Const(i, range(max(2, len(x))))) for i in range(len(x))]
    while len(nodes) > 1:
        nxt = []
        for i in range(0, len(nodes) - 1, 2):
            (va, ia), (vb, ib) = nodes[i], nodes[i + 1]
            nxt.append((va | vb, Mux(va, ia, ib)))
        if len(nodes) % 2:
            nxt.append(nodes[-1])
        nodes = nxt
    out = Signal(range(max(2, len(x))), name="lowest")
    m.d.comb += out.eq(nodes[0][1])
    return out
