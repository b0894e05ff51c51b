"""Pipelined macrospin integrator RTL, bit-exact with ``quantize.macrospin.MacrospinModel``.

K lanes, each advancing N magnets time-multiplexed from an on-chip state memory, one
magnet-step per lane per cycle (initiation interval 1). Every node of the datapath is the
same :mod:`hdl.fixed` operation, in the same order, as the integer model's; a small pipeline
builder (:class:`_Pipe`) inserts the registers between stages and delays every value to the
stage that uses it.

Timing (what :func:`reference_stream` models): the n-th accepted input beat drives slot
``n mod N`` of every lane with its drive code (or reset), and the n-th output of the lane's
Gaussian noise source (``quantize.noise.GaussianNoise.run``); the result leaves on the output
stream ``latency`` accepted beats later, in order. The pipeline advances only on a beat where
the input is valid and the output is ready (``in.ready = out.ready``), so stalls hold every
register, the memories and the noise source.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from hdl import fixed as hf
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


class _Pipe:
    """Pipeline builder: values live at a stage; ``get`` delays them to the current stage."""

    def __init__(self, m: Module, en):
        self.m, self.en = m, en
        self.stage = 0
        self._at = {}
        self._delayed = {}
        self.count = 0

    def put(self, name, value):
        self._at[name] = (self.stage, value)
        return value

    def get(self, name):
        st, value = self._at[name]
        for s in range(st + 1, self.stage + 1):
            key = (name, s)
            if key not in self._delayed:
                prev = value
                reg = Signal(prev.shape(), name=f"{name}_s{s}")
                with self.m.If(self.en):
                    self.m.d.sync += reg.eq(prev)
                self._delayed[key] = reg
            value = self._delayed[key]
        return value

    def next(self):
        self.stage += 1


class _Datapath:
    """Builds one lane's datapath into a :class:`_Pipe` (mirrors MacrospinModel.step)."""

    def __init__(self, pipe: _Pipe, model: MacrospinModel, lane: int):
        self.p, self.model, self.cfg = pipe, model, model.cfg
        self.pre = f"l{lane}_"
        self.flags = []

    def n(self, name):
        return self.pre + name

    def _rz(self, value, frac, out_fmt):
        value = value.as_signed()
        v, flag = hf.resize(value, Fixed(len(value), frac), out_fmt, self.cfg.rounding, "saturate")
        self.flags.append(flag)
        return v

    def _const(self, name):
        f = self.model.fmts[name]
        return Const(self.model.ints[name], signed(f.width)), f.frac

    def _mulc(self, x, fx, name, out):
        c, fc = self._const(name)
        return self._rz(x * c, fx + fc, out)

    def _add(self, a, fa, b, fb, out):
        f = max(fa, fb)
        return self._rz(a.as_signed().shift_left(f - fa) + b.as_signed().shift_left(f - fb), f, out)

    def rhs(self, tag, m, h_th, u1, u2):
        """One RHS evaluation over several stages; returns the stage names of dm x/y/z."""
        p, c, k = self.p, self.cfg, self.model.k
        mf, hfm, df = c.m_fmt.frac, c.h_fmt, c.dm_fmt
        n = self.n
        # stage A: anisotropy products
        for i in range(3):
            p.put(n(f"{tag}hd{i}"), self._mulc(p.get(m[i]), mf, f"a{i}", hfm))
        p.next()
        # stage B: + h_ext, + h_th, drive offsets on the polarisation axis
        for i in range(3):
            cx, fx = self._const(f"hx{i}")
            hd = self._add(p.get(n(f"{tag}hd{i}")), hfm.frac, cx, fx, hfm)
            h = self._add(hd, hfm.frac, p.get(h_th[i]), hfm.frac, hfm)
            if i == k.nm.p_axis:
                s = k.nm.p_sign
                h1 = self._add(h, hfm.frac, -s * p.get(u1), hfm.frac, hfm)
                h2 = self._add(h, hfm.frac, s * p.get(u2), hfm.frac, hfm)
            else:
                h1 = h2 = h
            p.put(n(f"{tag}h1_{i}"), h1)
            p.put(n(f"{tag}h2_{i}"), h2)
        p.next()
        # stage C: cross product m x h1 and dot m.h2
        mv = [p.get(m[i]) for i in range(3)]
        a = [p.get(n(f"{tag}h1_{i}")) for i in range(3)]
        b = [p.get(n(f"{tag}h2_{i}")) for i in range(3)]
        pf = mf + hfm.frac
        for i in range(3):
            j, l = (i + 1) % 3, (i + 2) % 3
            p.put(n(f"{tag}x{i}"), self._rz(mv[j] * a[l] - mv[l] * a[j], pf, hfm))
        p.put(n(f"{tag}d"), self._rz(mv[0] * b[0] + mv[1] * b[1] + mv[2] * b[2], pf, hfm))
        p.next()
        # stage D: m d - h2
        d = p.get(n(f"{tag}d"))
        for i in range(3):
            md = self._rz(p.get(m[i]) * d, pf, hfm)
            p.put(n(f"{tag}y{i}"), self._add(md, hfm.frac, -p.get(n(f"{tag}h2_{i}")), hfm.frac, hfm))
        p.next()
        # stage E: c x and c alpha y
        for i in range(3):
            p.put(n(f"{tag}cx{i}"), self._mulc(p.get(n(f"{tag}x{i}")), hfm.frac, "c", df))
            p.put(n(f"{tag}cy{i}"), self._mulc(p.get(n(f"{tag}y{i}")), hfm.frac, "c_alpha", df))
        p.next()
        # stage F: dm = -c x - c alpha y
        out = []
        for i in range(3):
            v = self._add(-p.get(n(f"{tag}cx{i}")), df.frac, -p.get(n(f"{tag}cy{i}")), df.frac, df)
            p.put(n(f"{tag}dm{i}"), v)
            out.append(n(f"{tag}dm{i}"))
        p.next()
        return out

    def build(self, m_in, g_in, code_in):
        """m_in, g_in: 3 stage-0 values each; code_in: stage-0 value. Returns stage names."""
        p, c = self.p, self.cfg
        n = self.n
        mf = c.m_fmt.frac
        m = [n(f"m{i}") for i in range(3)]
        for i in range(3):
            p.put(m[i], m_in[i])
            p.put(n(f"g{i}"), g_in[i])
        p.put(n("code"), code_in)
        p.next()
        # drive and thermal field
        b = self._mulc(p.get(n("code")), c.drive_fmt.frac, "kb", c.h_fmt)
        p.put(n("b"), b)
        for i in range(3):
            p.put(n(f"th{i}"), self._mulc(p.get(n(f"g{i}")), self.model.noise_fmt.frac, "sigma", c.h_fmt))
        p.next()
        p.put(n("u1"), self._mulc(p.get(n("b")), c.h_fmt.frac, "alpha", c.h_fmt))
        p.put(n("u2"), self._mulc(p.get(n("b")), c.h_fmt.frac, "inv_alpha", c.h_fmt))
        p.next()
        th = [n(f"th{i}") for i in range(3)]
        k1 = self.rhs("k1", m, th, n("u1"), n("u2"))
        df = c.dm_fmt.frac
        for i in range(3):
            p.put(n(f"mp{i}"), self._add(p.get(m[i]), mf, p.get(k1[i]), df, c.m_fmt))
        p.next()
        k2 = self.rhs("k2", [n(f"mp{i}") for i in range(3)], th, n("u1"), n("u2"))
        for i in range(3):
            p.put(n(f"mn{i}"), self._add(p.get(m[i]), mf, p.get(k1[i]) + p.get(k2[i]), df + 1, c.m_fmt))
        p.next()
        mn = [p.get(n(f"mn{i}")) for i in range(3)]
        nf = c.norm_fmt
        s = self._rz(mn[0] * mn[0] + mn[1] * mn[1] + mn[2] * mn[2], 2 * mf, nf)
        p.put(n("s"), s)
        p.next()
        r = self._rz(Const(3 << nf.frac, signed(nf.width + 2)) - p.get(n("s")), nf.frac + 1, nf)
        p.put(n("r"), r)
        p.next()
        r = p.get(n("r"))
        for i in range(3):
            p.put(n(f"out{i}"), self._rz(p.get(n(f"mn{i}")) * r, mf + nf.frac, c.m_fmt))
        return [n(f"out{i}") for i in range(3)]


class MacrospinIntegrator(wiring.Component):
    """The pipelined stochastic macrospin integrator (see the module docstring).

    Parameters
    ----------
    model : MacrospinModel
        Formats, sizes and quantised device constants (the same object the reference uses).
    noise : NoiseConfig
        The on-chip Gaussian source; ``noise.lanes`` must equal ``model.cfg.lanes`` and its
        ``out_fmt`` must be ``model.noise_fmt``.

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

    def __init__(self, model: MacrospinModel, noise: NoiseConfig):
        if noise.lanes != model.cfg.lanes:
            raise ValueError(f"noise lanes ({noise.lanes}) must equal integrator lanes ({model.cfg.lanes})")
        if noise.out_fmt != model.noise_fmt:
            raise ValueError(f"noise format {noise.out_fmt} must equal the model's {model.noise_fmt}")
        self.model, self.noise_cfg = model, noise
        self.lanes, self.magnets = model.cfg.lanes, model.cfg.magnets
        self.latency = self._measure_latency()
        if self.magnets < self.latency + 2:
            raise ValueError(f"magnets per lane must be >= latency + 2 = {self.latency + 2}, not {self.magnets}")
        super().__init__({
            "i_drive": In(stream.Signature(input_layout(model))),
            "o_state": Out(stream.Signature(output_layout(model))),
        })

    def _measure_latency(self) -> int:
        m = Module()
        m._MustUse__silence = True
        pipe = _Pipe(m, Const(1))
        dp = _Datapath(pipe, self.model, 0)
        z = Const(0, signed(self.model.cfg.m_fmt.width))
        g = Const(0, signed(self.model.noise_fmt.width))
        dp.build([z, z, z], [g, g, g], Const(0, hf.shape_of(self.model.cfg.drive_fmt)))
        return pipe.stage + 1  # + the output register

    def elaborate(self, platform):
        mdl, cfg = self.model, self.model.cfg
        m = Module()
        advance = Signal()
        # The state memories' synchronous read needs one cycle after reset before the first beat.
        primed = Signal()
        m.d.sync += primed.eq(1)
        m.d.comb += [
            advance.eq(self.i_drive.valid & self.o_state.ready & primed),
            self.i_drive.ready.eq(self.o_state.ready & primed),
        ]
        m.submodules.noise = noise = GaussianNoise(self.noise_cfg)
        m.d.comb += noise.en.eq(advance)

        slot = Signal(range(cfg.magnets))  # slot of the beat being accepted now
        with m.If(advance):
            m.d.sync += slot.eq(Mux(slot == cfg.magnets - 1, 0, slot + 1))
        next_slot = Mux(advance, Mux(slot == cfg.magnets - 1, 0, slot + 1), slot)

        reset_state = mdl.m_reset
        lanes_out = []
        for lane in range(cfg.lanes):
            mem = memory.Memory(shape=state_layout(mdl), depth=cfg.magnets,
                                init=[{"x": int(reset_state[0]), "y": int(reset_state[1]), "z": int(reset_state[2])}] * cfg.magnets)
            m.submodules[f"state{lane}"] = mem
            wr = mem.write_port()
            rd = mem.read_port(transparent_for=(wr,))
            # The read for the beat accepted at cycle t is issued at t - 1 (address of the slot
            # that will be current then); holding the address during stalls holds the data.
            m.d.comb += rd.addr.eq(next_slot)
            beat = self.i_drive.payload.lanes[lane]
            st = rd.data
            pipe = _Pipe(m, advance)  # one per lane: every lane's datapath starts at stage 0
            dp = _Datapath(pipe, mdl, lane)
            pre = dp.pre
            pipe.put(pre + "reset", beat.reset)
            pipe.put(pre + "slot", slot)
            mold = [st.x, st.y, st.z]
            pipe.put(pre + "old_e", mold[mdl.k.nm.easy_axis])
            smp = noise.samples[lane]
            outs = dp.build(mold, [smp.x, smp.y, smp.z], beat.code)
            # final stage: apply reset, switched flag, write back
            vals = [pipe.get(o) for o in outs]
            rst = pipe.get(pre + "reset")
            new = [Mux(rst, int(reset_state[i]), vals[i]) for i in range(3)]
            e, sgn = mdl.k.nm.easy_axis, mdl.k.nm.easy_sign
            old_e = pipe.get(pre + "old_e")
            if sgn > 0:
                sw = (old_e >= 0) & (vals[e] < 0)
            else:
                sw = (old_e <= 0) & (vals[e] > 0)
            wslot = pipe.get(pre + "slot")
            lanes_out.append((new, sw & ~rst, wslot, wr))
        last = pipe.stage
        # vbits[s]: stage s holds an accepted beat (stage 0 is the beat being accepted).
        vbits = Signal(last + 1)
        with m.If(advance):
            m.d.sync += vbits.eq(Cat(Const(1, 1), Const(1, 1), vbits[1:last]) if last > 1 else Const((1 << (last + 1)) - 1))
        out_valid = Signal()
        m.d.comb += out_valid.eq(vbits[last])
        # Output register (one more stage): a beat is offered until taken; write-back on advance.
        o = self.o_state
        with m.If(advance):
            m.d.sync += o.valid.eq(out_valid)
        with m.Elif(o.ready):
            m.d.sync += o.valid.eq(0)
        for lane, (new, sw, wslot, wr) in enumerate(lanes_out):
            m.d.comb += [wr.addr.eq(wslot), wr.data.x.eq(new[0]), wr.data.y.eq(new[1]), wr.data.z.eq(new[2]),
                         wr.en.eq(advance & out_valid)]
            ol = o.payload.lanes[lane]
            with m.If(advance):
                m.d.sync += [ol.m.x.eq(new[0]), ol.m.y.eq(new[1]), ol.m.z.eq(new[2]), ol.switched.eq(sw)]
                if lane == 0:
                    m.d.sync += o.payload.slot.eq(wslot)
        return m



def selftest_harness(model: MacrospinModel, noise_cfg: NoiseConfig, seed: int = 1):
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

    return StreamSelfTest(MacrospinIntegrator(model, noise_cfg), selftest_harness_config(model, seed), payload)
