"""Pipelined macrospin integrator RTL, bit-exact with ``quantize.macrospin.MacrospinModel``.

K lanes, each advancing N magnets time-multiplexed from an on-chip state memory, one
magnet-step per lane per cycle (initiation interval 1). Every node of the datapath is the
same :mod:`hdl.fixed` operation, in the same order, as the integer model's.

Deep, free-running pipeline (built by :class:`_Stages`): every operation is one stage, so a
stage holds one multiplier (``a * b`` between operand and product registers, plus one register
stage to leave the DSP column; in the ``dsp="ecp5"`` style the operand and product registers
are the MULT18X18D's own, :mod:`hdl.ecp5_dsp`), or one carry-chain adder, or a rounding
increment with its saturation (a LUT-only range test). Products by device constants are
canonical-signed-digit shift-and-add trees (exact, no DSP). Operands are delayed to the stage
that uses them through flip-flops for short spans and small circular-buffer memories for long
ones. There is no clock enable in the datapath: a stall would have to reach every register in
one cycle (nextpnr put that net on the critical path). Instead each stage carries a valid
bit and results enter an output FIFO.

Timing (what :func:`quantize.macrospin.reference_stream` models): the n-th accepted input
beat drives slot ``n mod N`` of every lane with its drive code (or reset), and the n-th output
of the lane's Gaussian noise source (``quantize.noise.GaussianNoise.run``); its result is
offered on the output stream, in order, ``latency`` cycles after acceptance at the earliest.
A beat is accepted only while the output is ready (``in.ready = out.ready``), so at most
``depth + 3`` beats are ever in flight or queued and the FIFO (``depth + 6`` entries) never
overflows (``overflow``, a sticky flag, stays 0; the equivalence tests check it). The noise
source advances on accepted beats only, so the stream of noise samples is the model's.
The same slot is read again N accepted beats later, so N >= latency + 2 keeps every read
after the write-back of the slot's previous step.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, fifo, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from hdl import ecp5_dsp
from hdl import fixed as hf
from hdl.lutmul import lut_multiply
from hdl.noise import GaussianNoise
from quantize.fixed import Fixed
from quantize.macrospin import MacrospinModel
from quantize.noise import NoiseConfig

__all__ = ["MacrospinIntegrator", "input_layout", "output_layout", "state_layout"]


def state_layout(model: MacrospinModel) -> data.StructLayout:
    w = model.cfg.m_fmt.width
    return data.StructLayout({"x": signed(w), "y": signed(w), "z": signed(w)})


def input_layout(model: MacrospinModel) -> data.StructLayout:
    """Per beat: for each lane a drive code and a reset bit."""
    lane = data.StructLayout({"code": hf.shape_of(model.cfg.drive_fmt), "reset": unsigned(1)})
    return data.StructLayout({"lanes": data.ArrayLayout(lane, model.cfg.lanes)})


def output_layout(model: MacrospinModel) -> data.StructLayout:
    """Per beat: the slot index and, for each lane, the new state and the switched flag."""
    lane = data.StructLayout({"m": state_layout(model), "switched": unsigned(1)})
    return data.StructLayout({"slot": unsigned(max(1, (model.cfg.magnets - 1).bit_length())),
                              "lanes": data.ArrayLayout(lane, model.cfg.lanes)})


class _T:
    """A value of the datapath and the pipeline stage at which it is valid (``st``)."""

    __slots__ = ("v", "st", "const")

    def __init__(self, v, st, const=None):
        self.v, self.st, self.const = v, st, const


def _csd(c: int) -> list[tuple[int, int]]:
    """Canonical signed digits of ``c``: [(shift, +1 | -1)], fewest non-zero digits."""
    out, i = [], 0
    while c:
        if c & 1:
            d = 2 - (c & 3)  # +1 when c = 1 mod 4, -1 when c = 3 mod 4
            out.append((i, d))
            c -= d
        c >>= 1
        i += 1
    return out


class _Stages:
    """Schedules one lane's datapath as a free-running pipeline (no clock enable).

    Every operation registers its result (one stage: one multiplier and a register next to it,
    or one carry-chain adder, or a rounding increment with its saturation); :meth:`at` delays an operand to the stage of
    the operation that uses it, through flip-flops for short spans and through a small
    circular-buffer memory (block or distributed RAM) for spans of ``mem_span`` stages or more.
    """

    def __init__(self, m: Module, prefix: str, rounding: str, mem_span: int = 4, dsp_products: int = 1 << 30,
                 reset_less: bool = True, dsp: str = "generic"):
        self.m, self.prefix, self.rounding, self.mem_span = m, prefix, rounding, mem_span
        self.dsp = dsp  # "generic": a * b between registers; "ecp5": hdl.ecp5_dsp's registered block
        # Datapath registers need no reset (only the valid bits do): a reset net to every
        # register would also fold into their set/reset logic.
        self.reset_less = reset_less
        self.dsp_left = dsp_products  # variable products still to map onto DSP blocks
        self.lut_products = 0
        self.dsp_blocks = 0  # products placed in hdl.ecp5_dsp blocks
        self._taps: dict[int, tuple[_T, dict]] = {}
        self._ptrs: dict[tuple[int, int], Signal] = {}
        self.mem_delays: list[tuple[int, int]] = []  # (width, depth) of each delay memory
        self.depth = 0
        self.delay_bits = {"ff": 0, "mem": 0}
        self._n = 0

    def _name(self, name):
        self._n += 1
        return f"{self.prefix}{name}_{self._n}"

    # -- values --------------------------------------------------------------------------
    def inp(self, v, name) -> _T:
        """A stage-0 input, registered once (stage 1)."""
        return self.reg(Value.cast(v), 0, name)

    def const(self, q: int) -> _T:
        q = int(q)
        return _T(Const(q, signed(max(2, q.bit_length() + 1))), 0, q)

    def reg(self, expr, st: int, name: str) -> _T:
        expr = Value.cast(expr)
        sig = Signal(expr.shape(), name=self._name(name), reset_less=self.reset_less)
        self.m.d.sync += sig.eq(expr)
        self.depth = max(self.depth, st + 1)
        return _T(sig, st + 1)

    def at(self, t: _T, st: int):
        """``t``'s value delayed to stage ``st`` (>= t.st)."""
        if t.const is not None:
            return t.v
        if st < t.st:
            raise AssertionError(f"value of stage {t.st} requested at stage {st}")
        _, taps = self._taps.setdefault(id(t), (t, {t.st: t.v}))
        if st in taps:
            return taps[st]
        base = max(s for s in taps if s < st)
        v = taps[base]
        gap = st - base
        if gap >= self.mem_span and len(v) >= 8:
            out = self._mem_delay(v, gap)
            self.delay_bits["mem"] += len(v) * gap
        else:
            for s in range(base + 1, st + 1):
                sig = Signal(v.shape(), name=self._name("dly"), reset_less=self.reset_less)
                self.m.d.sync += sig.eq(v)
                taps[s] = v = sig
            self.delay_bits["ff"] += len(v) * gap
            out = v
        taps[st] = out
        return out

    def _mem_delay(self, v, n: int):
        """``v`` delayed by ``n`` >= 3 cycles: a circular buffer (n - 1) and a register."""
        depth = 1 << (n - 1).bit_length()
        # Free-running write and read pointers, n - 2 apart (registers: no subtractor on the
        # address path of the distributed RAM).
        for key, init in (((depth, 0), 0), ((depth, n), (-(n - 2)) % depth)):
            if key not in self._ptrs:
                ptr = Signal(range(depth), init=init, name=f"{self.prefix}ptr{depth}_{key[1]}", reset_less=True)
                self.m.d.sync += ptr.eq(ptr + 1)  # wraps: depth is a power of two
                self._ptrs[key] = ptr
        wptr, rptr = self._ptrs[depth, 0], self._ptrs[depth, n]
        # Deeper than one distributed-RAM cell (16 words): block RAM, which the twin leaves
        # mostly unused, instead of LUT RAM with read multiplexers (LUTs are the scarce part).
        mem = memory.Memory(shape=unsigned(len(v)), depth=depth, init=[],
                            attrs={"ram_style": "block"} if depth > 16 else None)
        self.mem_delays.append((len(v), depth))
        self.m.submodules[self._name("dlymem")] = mem
        wr, rd = mem.write_port(), mem.read_port()
        # written at cycle t, read (address at t + n - 2, data at t + n - 1), registered at t + n
        self.m.d.comb += [wr.addr.eq(wptr), wr.data.eq(v), wr.en.eq(1), rd.addr.eq(rptr)]
        out = Signal(v.shape(), name=self._name("dlyq"), reset_less=self.reset_less)
        self.m.d.sync += out.eq(rd.data)
        return out

    # -- operations ----------------------------------------------------------------------
    def mul(self, a: _T, b: _T, name: str) -> _T:
        """Product of two variables: a DSP block (one stage) while the lane's DSP budget
        lasts, then a pipelined LUT multiplier (:func:`hdl.lutmul.lut_multiply`)."""
        s = max(a.st, b.st)
        va, vb = self.at(a, s), self.at(b, s)
        if self.dsp_left > 0:
            self.dsp_left -= 1
            # The DSP columns are far from the logic: each DSP block gets operand registers
            # of its own (an operand feeds several products; the name tag makes the synthesis
            # flow keep these duplicates, boards.synth.KEEP_DUPLICATE_TAG) and two registers
            # behind it, so that every route to or from the block has a register next to it.
            if self.dsp == "ecp5" and ecp5_dsp.fits(va, vb):
                # the same two register stages, inside the block (hdl.ecp5_dsp)
                p = ecp5_dsp.registered_multiply(self.m, va, vb, self._name(name + "_dsp"))
                self.dsp_blocks += 1
                self.depth = max(self.depth, s + ecp5_dsp.LATENCY)
                return self.reg(p, s + ecp5_dsp.LATENCY, name + "_q")
            a1, b1 = self.reg(va, s, name + "_dspop_a"), self.reg(vb, s, name + "_dspop_b")
            p = self.reg(a1.v * b1.v, s + 1, name)
            return self.reg(p.v, p.st, name + "_q")
        p, lat = lut_multiply(self.m, va, vb, self._name(name))
        self.lut_products += 1
        self.depth = max(self.depth, s + lat)
        return _T(p, s + lat)

    def mulc(self, a: _T, c: int, name: str) -> _T:
        """``a * c`` for a constant ``c``: canonical signed digits summed by a tree of adders."""
        if c == 0:
            return self.const(0)
        s = a.st
        v = self.at(a, s).as_signed()
        terms = [(v.shift_left(sh), sg) for sh, sg in _csd(int(c))]
        return self._tree(terms, s, name)

    def _tree(self, terms, s, name):
        """Sum of signed terms [(Value at stage s, +1 | -1)], two per adder, one level a stage."""
        if len(terms) == 1:
            v, sg = terms[0]
            if sg > 0:
                return _T(v, s)
            return self.reg(-v, s, name)
        while len(terms) > 1:
            nxt = []
            for i in range(0, len(terms) - 1, 2):
                (x, sx), (y, sy) = terms[i], terms[i + 1]
                if sx > 0 and sy > 0:
                    e, sg = x + y, 1
                elif sx > 0:
                    e, sg = x - y, 1
                elif sy > 0:
                    e, sg = y - x, 1
                else:
                    e, sg = x + y, -1
                nxt.append((self.reg(e, s, name).v, sg))
            if len(terms) % 2:
                x, sx = terms[-1]
                nxt.append((self.reg(x, s, "hold").v, sx))
            terms = nxt
            s += 1
        v, sg = terms[0]
        if sg < 0:
            return self.reg(-v, s, name)
        return _T(v, s)

    def lin(self, parts, name: str) -> _T:
        """Exact sum of ``[(T, left_shift, sign)]``; constants fold in."""
        consts = sum(sg * (p.const << sh) for p, sh, sg in parts if p.const is not None)
        var = [(p, sh, sg) for p, sh, sg in parts if p.const is None]
        if not var:
            return self.const(consts)
        s = max(p.st for p, _, _ in var)
        terms = [(self.at(p, s).as_signed().shift_left(sh), sg) for p, sh, sg in var]
        if consts:
            # the constant joins the first adder
            x, sx = terms[0]
            k = Const(consts, signed(max(2, abs(consts).bit_length() + 1)))
            terms[0] = (x + k, 1) if sx > 0 else (x - k, -1)
            if len(terms) == 1:
                v, sg = terms[0]
                return self.reg(v if sg > 0 else -v, s, name)
        return self._tree(terms, s, name)

    def resize(self, t: _T, frac: int, out: Fixed, name: str) -> _T:
        """``t`` (an integer at ``frac`` fractional bits) rounded then saturated into ``out``
        (``hdl.fixed.resize``): one stage, the rounding increment's carry chain followed by
        the LUT-only range test of :func:`hdl.fixed.saturate`."""
        if t.const is not None:
            from quantize.fixed import resize as qresize

            q, _ = qresize(np.array([t.const]), Fixed(max(2, abs(t.const).bit_length() + 1), frac), out,
                           self.rounding)
            return self.const(int(q[0]))
        s = t.st
        v = hf.rescale(self.at(t, s).as_signed(), frac, out.frac, self.rounding)
        sat, _ = hf.saturate(v, out)
        return self.reg(sat, s, name)


class _Datapath:
    """Builds one lane's datapath (mirrors ``MacrospinModel.step`` node by node)."""

    def __init__(self, st: _Stages, model: MacrospinModel):
        self.s, self.model, self.cfg = st, model, model.cfg

    def _ci(self, name):
        return self.model.ints[name], self.model.fmts[name].frac

    def _mulc(self, x: _T, fx: int, name: str, out: Fixed, node: str) -> _T:
        c, fc = self._ci(name)
        return self.s.resize(self.s.mulc(x, c, node), fx + fc, out, node)

    def _add(self, a: _T, fa: int, b: _T, fb: int, out: Fixed, node: str, sb: int = 1) -> _T:
        f = max(fa, fb)
        return self.s.resize(self.s.lin([(a, f - fa, 1), (b, f - fb, sb)], node), f, out, node)

    def rhs(self, tag, m, h_th, u1, u2):
        """One RHS evaluation: dm (3 timed values in dm_fmt)."""
        S, c, k = self.s, self.cfg, self.model.k
        mf, hfm, df = c.m_fmt.frac, c.h_fmt, c.dm_fmt
        h1, h2 = [], []
        for i in range(3):
            hd = self._mulc(m[i], mf, f"a{i}", hfm, f"{tag}hanis{i}")
            cx, fx = self._ci(f"hx{i}")
            hd = self._add(hd, hfm.frac, S.const(cx), fx, hfm, f"{tag}hdet{i}")
            h = self._add(hd, hfm.frac, h_th[i], hfm.frac, hfm, f"{tag}h{i}")
            if i == k.nm.p_axis:
                sg = k.nm.p_sign
                h1.append(self._add(h, hfm.frac, u1, hfm.frac, hfm, f"{tag}h1p", sb=-sg))
                h2.append(self._add(h, hfm.frac, u2, hfm.frac, hfm, f"{tag}h2p", sb=sg))
            else:
                h1.append(h)
                h2.append(h)
        pf = mf + hfm.frac
        x = []
        for i in range(3):
            j, l = (i + 1) % 3, (i + 2) % 3
            p1 = S.mul(m[j], h1[l], f"{tag}px{i}a")
            p2 = S.mul(m[l], h1[j], f"{tag}px{i}b")
            x.append(S.resize(S.lin([(p1, 0, 1), (p2, 0, -1)], f"{tag}cr{i}"), pf, hfm, f"{tag}x{i}"))
        dots = [(S.mul(m[i], h2[i], f"{tag}pd{i}"), 0, 1) for i in range(3)]
        d = S.resize(S.lin(dots, f"{tag}dot"), pf, hfm, f"{tag}d")
        dm = []
        for i in range(3):
            md = S.resize(S.mul(m[i], d, f"{tag}pmd{i}"), pf, hfm, f"{tag}md{i}")
            y = self._add(md, hfm.frac, h2[i], hfm.frac, hfm, f"{tag}y{i}", sb=-1)
            t1 = self._mulc(x[i], hfm.frac, "c", df, f"{tag}cx{i}")
            t2 = self._mulc(y, hfm.frac, "c_alpha", df, f"{tag}cy{i}")
            dm.append(S.resize(S.lin([(t1, 0, -1), (t2, 0, -1)], f"{tag}dms{i}"), df.frac, df, f"{tag}dm{i}"))
        return dm

    def build(self, m, g, code):
        """m, g: 3 timed inputs each; code: timed input. Returns the 3 new components."""
        S, c = self.s, self.cfg
        mf, df = c.m_fmt.frac, c.dm_fmt.frac
        b = self._mulc(code, c.drive_fmt.frac, "kb", c.h_fmt, "b")
        th = [self._mulc(g[i], self.model.noise_fmt.frac, "sigma", c.h_fmt, f"th{i}") for i in range(3)]
        u1 = self._mulc(b, c.h_fmt.frac, "alpha", c.h_fmt, "u1")
        u2 = self._mulc(b, c.h_fmt.frac, "inv_alpha", c.h_fmt, "u2")
        k1 = self.rhs("k1", m, th, u1, u2)
        mp = [self._add(m[i], mf, k1[i], df, c.m_fmt, f"mp{i}") for i in range(3)]
        k2 = self.rhs("k2", mp, th, u1, u2)
        f = max(mf, df + 1)
        mn = [S.resize(S.lin([(m[i], f - mf, 1), (k1[i], f - df - 1, 1), (k2[i], f - df - 1, 1)], f"mns{i}"),
                       f, c.m_fmt, f"mn{i}") for i in range(3)]
        nf = c.norm_fmt
        sq = [(S.mul(mn[i], mn[i], f"sq{i}"), 0, 1) for i in range(3)]
        s = S.resize(S.lin(sq, "s2"), 2 * mf, nf, "s")
        r = S.resize(S.lin([(S.const(3 << nf.frac), 0, 1), (s, 0, -1)], "rs"), nf.frac + 1, nf, "r")
        return [S.resize(S.mul(mn[i], r, f"pm{i}"), mf + nf.frac, c.m_fmt, f"out{i}") for i in range(3)]


class MacrospinIntegrator(wiring.Component):
    """The pipelined stochastic macrospin integrator (see the module docstring).

    Parameters
    ----------
    model : MacrospinModel
        Formats, sizes and quantised device constants (the same object the reference uses).
    noise : NoiseConfig
        The on-chip Gaussian source; ``noise.lanes`` must equal ``model.cfg.lanes`` and its
        ``out_fmt`` must be ``model.noise_fmt``.
    dsp : {"generic", "ecp5"}
        How the DSP products are written: ``a * b`` between fabric registers (any tool and
        simulator), or ECP5 MULT18X18D blocks with their own registers (:mod:`hdl.ecp5_dsp`;
        simulate with its model, synthesise with :mod:`boards.synth`). Same cycle timing.

    Attributes
    ----------
    latency : int
        Accepted beats from an input to its output.
    lanes, magnets : int

    Members
    -------
    i_drive : In(stream.Signature(input_layout))
    o_state : Out(stream.Signature(output_layout))
    """

    DSP_STYLES = ("generic", "ecp5")

    def __init__(self, model: MacrospinModel, noise: NoiseConfig, *, dsp: str = "generic"):
        if dsp not in self.DSP_STYLES:
            raise ValueError(f"dsp must be one of {', '.join(self.DSP_STYLES)}, not {dsp!r}")
        self.dsp = dsp
        if noise.lanes != model.cfg.lanes:
            raise ValueError(f"noise lanes ({noise.lanes}) must equal integrator lanes ({model.cfg.lanes})")
        if noise.out_fmt != model.noise_fmt:
            raise ValueError(f"noise format {noise.out_fmt} must equal the model's {model.noise_fmt}")
        self.model, self.noise_cfg = model, noise
        self.lanes, self.magnets = model.cfg.lanes, model.cfg.magnets
        self.latency = self._measure_latency()
        #: Sticky flag: a result found the output FIFO full (never, by the bound in the module doc).
        self.overflow = Signal()
        if self.magnets < self.latency + 2:
            raise ValueError(f"magnets per lane must be >= latency + 2 = {self.latency + 2}, not {self.magnets}")
        super().__init__({
            "i_drive": In(stream.Signature(input_layout(model))),
            "o_state": Out(stream.Signature(output_layout(model))),
        })

    def _measure_latency(self) -> int:
        m = Module()
        m._MustUse__silence = True
        st = _Stages(m, "", self.model.cfg.rounding, mem_span=1 << 30,  # counts stages only
                     dsp_products=self.model.cfg.dsp_per_lane, dsp=self.dsp)
        cfg = self.model.cfg
        z = Const(0, signed(cfg.m_fmt.width))
        g = Const(0, signed(self.model.noise_fmt.width))
        mv = [st.inp(z, "m") for _ in range(3)]
        _Datapath(st, self.model).build(mv, [st.inp(g, "g") for _ in range(3)],
                                        st.inp(Const(0, hf.shape_of(cfg.drive_fmt)), "code"))
        self.depth = st.depth
        #: ECP5 MULT18X18D blocks with their own registers (all lanes; 0 in the generic style)
        self.dsp_blocks = st.dsp_blocks * self.model.cfg.lanes
        return st.depth + self.FIFO_LATENCY

    #: Cycles from the pipeline's last stage to the output stream (the output FIFO's).
    FIFO_LATENCY = 2

    def elaborate(self, platform):
        mdl, cfg = self.model, self.model.cfg
        m = Module()
        advance = Signal()
        # The state memories' synchronous read needs one cycle after reset before the first beat.
        primed = Signal()
        m.d.sync += primed.eq(1)
        m.d.comb += [
            advance.eq(self.i_drive.valid & self.i_drive.ready),
            self.i_drive.ready.eq(self.o_state.ready & primed),
        ]
        m.submodules.noise = noise = GaussianNoise(self.noise_cfg)
        m.d.comb += noise.en.eq(advance)

        slot = Signal(range(cfg.magnets))  # slot of the beat being accepted now
        with m.If(advance):
            m.d.sync += slot.eq(Mux(slot == cfg.magnets - 1, 0, slot + 1))
        next_slot = Mux(advance, Mux(slot == cfg.magnets - 1, 0, slot + 1), slot)

        reset_state = mdl.m_reset
        e, sgn = mdl.k.nm.easy_axis, mdl.k.nm.easy_sign
        ctrl = _Stages(m, "ctl_", cfg.rounding, reset_less=False)  # valid bits and slots: reset
        valid = ctrl.inp(advance, "valid")
        wslot = ctrl.inp(slot, "slot")
        lanes_out = []
        depth = self.depth
        for lane in range(cfg.lanes):
            mem = memory.Memory(shape=state_layout(mdl), depth=cfg.magnets,
                                init=[{"x": int(reset_state[0]), "y": int(reset_state[1]), "z": int(reset_state[2])}] * cfg.magnets)
            m.submodules[f"state{lane}"] = mem
            wr = mem.write_port()
            rd = mem.read_port()
            # The read for the beat accepted at cycle t is issued at t - 1 (address of the slot
            # that will be current then). It needs no read-during-write bypass: the slot's last
            # write-back came depth + 1 <= N - 3 cycles after its previous read.
            m.d.comb += rd.addr.eq(next_slot)
            beat = self.i_drive.payload.lanes[lane]
            S = _Stages(m, f"l{lane}_", cfg.rounding, dsp_products=cfg.dsp_per_lane, dsp=self.dsp)
            st = rd.data
            mold = [S.inp(st.x, "m0"), S.inp(st.y, "m1"), S.inp(st.z, "m2")]
            smp = noise.samples[lane]
            outs = _Datapath(S, mdl).build(mold, [S.inp(smp.x, "g0"), S.inp(smp.y, "g1"), S.inp(smp.z, "g2")],
                                           S.inp(beat.code, "code"))
            assert S.depth == depth, (S.depth, depth)
            rst = S.at(S.inp(beat.reset, "reset"), depth)
            vals = [S.at(o, depth) for o in outs]
            old_e = S.at(mold[e], depth)
            new = [Mux(rst, int(reset_state[i]), vals[i]) for i in range(3)]
            if sgn > 0:
                sw = (old_e >= 0) & (vals[e] < 0)
            else:
                sw = (old_e <= 0) & (vals[e] > 0)
            lanes_out.append((new, sw & ~rst, wr))
        out_valid = ctrl.at(valid, depth)
        out_slot = ctrl.at(wslot, depth)
        # Results leave the free-running pipeline into a FIFO. It cannot overflow: a beat is
        # accepted only while the output is ready, so at most depth + FIFO_LATENCY beats are
        # ever unsent (tests/test_macrospin_rtl.py checks the bound with random stalls).
        m.submodules.out_fifo = q = fifo.SyncFIFOBuffered(width=len(self.o_state.payload.as_value()),
                                                          depth=depth + 2 * self.FIFO_LATENCY + 2)
        word = Signal(output_layout(mdl))
        m.d.comb += [q.w_data.eq(word), q.w_en.eq(out_valid), word.slot.eq(out_slot)]
        for lane, (new, sw, wr) in enumerate(lanes_out):
            ol = word.lanes[lane]
            m.d.comb += [wr.addr.eq(out_slot), wr.data.x.eq(new[0]), wr.data.y.eq(new[1]), wr.data.z.eq(new[2]),
                         wr.en.eq(out_valid),
                         ol.m.x.eq(new[0]), ol.m.y.eq(new[1]), ol.m.z.eq(new[2]), ol.switched.eq(sw)]
        o = self.o_state
        # payload zero while not valid (the FIFO's memory output is undefined before its first read)
        m.d.comb += [o.valid.eq(q.r_rdy), o.payload.eq(Mux(q.r_rdy, q.r_data, 0)), q.r_en.eq(o.ready)]
        with m.If(out_valid & ~q.w_rdy):
            m.d.sync += self.overflow.eq(1)
        return m



def selftest_harness(model: MacrospinModel, noise_cfg: NoiseConfig, seed: int = 1, *, dsp: str = "generic"):
    """The integrator inside an on-chip self-test harness (``hdl.harness.StreamSelfTest``):
    stimulus as ``quantize.macrospin.selftest_stimulus`` maps the harness's data words."""
    from hdl.harness import StreamSelfTest
    from quantize.macrospin import SELFTEST_RESET_BITS, selftest_code_bits, selftest_harness_config

    cb, rb = selftest_code_bits(model), SELFTEST_RESET_BITS
    dw = model.cfg.drive_fmt.width

    def payload(words):
        lanes = []
        for w in words:
            code = w[rb:]
            lanes.append(Cat(code, code[-1].replicate(dw - cb), w[:rb].all()))
        return Cat(*lanes)

    return StreamSelfTest(MacrospinIntegrator(model, noise_cfg, dsp=dsp), selftest_harness_config(model, seed), payload)
