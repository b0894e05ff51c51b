"""Pipelined macrospin integrator RTL, bit-exact with ``quantize.macrospin.MacrospinModel``.

K lanes, each advancing N magnets time-multiplexed from an on-chip state memory, one
magnet-step per lane per cycle (initiation interval 1). Every node of the datapath is the
same :mod:`hdl.fixed` operation, in the same order, as the integer model's.

Deep, free-running pipeline (built by :class:`_Stages`): every operation is one stage, so a
stage holds one multiplier (four register stages: a copy of the operands of its own, the
operand and product registers, and one register to leave the DSP row; in the ``blocks="ecp5"``
style the operand and product registers are the MULT18X18D's own, :mod:`hdl.ecp5_blocks`), or one
carry-chain adder, or a rounding
increment with its saturation (a LUT-only range test). Products by device constants are
canonical-signed-digit shift-and-add trees (exact, no DSP). Operands are delayed to the stage
that uses them through flip-flops for short spans and small circular-buffer memories for long
ones (in the ``ecp5`` style, deep ones are DP16KD blocks read through their output
register, with a fabric register on each side of the block). There is no clock enable in the
datapath: a stall would have to reach every register in one cycle (nextpnr put that net on the
critical path). Instead each stage carries a valid bit and results enter a result buffer.

No control net spans the chip either: the accepted beat is registered once and then carried
to each lane by registers of its own (``IN_STAGES`` cycles in all); each lane keeps its own
slot counter, its own noise-source enables and its own valid bits, and its results reach the
lane's result buffer (block RAM on ECP5) through ``OUT_STAGES`` registers. An output controller by the
output port counts the buffered words and commands reads; the commands, the write count and
the words travel between it and the lanes through registers (``WRITE_HOPS``, ``READ_HOPS``,
``DATA_HOPS``) into a small output queue, sliced per lane. In the ``ecp5`` style the state memories are block
RAM read through the output register, two beats ahead (the lane's copies of the accept bit say
which beats come), storing the state XOR the reset state so that the zero-initialised blocks
start at the reset state.

Timing (what :func:`quantize.macrospin.reference_stream` models): the n-th accepted input
beat drives slot ``n mod N`` of every lane with its drive code (or reset), and the n-th output
of the lane's Gaussian noise source (``quantize.noise.GaussianNoise.run``); its result is
offered on the output stream, in order, ``latency = IN_STAGES + depth + OUT_STAGES +
OUTPUT_LATENCY`` cycles after acceptance at the earliest. A beat is accepted only while the
output is ready (``in.ready = out.ready``), so the result buffers (``IN_STAGES + depth +
OUT_STAGES`` words and the output side's round trip) never overflow (``overflow``, a sticky
flag, stays 0; the
equivalence tests check it under random stalls). The noise sources advance on accepted beats
only, so the stream of noise samples is the model's. A lane reads a slot again N beats after
its previous step, whose write-back came ``depth`` cycles after that read; N >= depth + 3
keeps every read after it in both styles.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, fifo, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from hdl import ecp5_blocks
from hdl.checked import CheckedComponent
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
    """Per beat: for each lane a drive code and a reset bit, and the second drive channel's code
    (``code2``) for a two-drive magnet (``MacrospinModel.two_drives``: the step neuron's preset
    and evaluation currents; a one-drive magnet's layout, and so its Verilog, is unchanged)."""
    fields = {"code": hf.shape_of(model.cfg.drive_fmt), "reset": unsigned(1)}
    if model.two_drives:
        fields["code2"] = hf.shape_of(model.cfg.drive_fmt)
    lane = data.StructLayout(fields)
    return data.StructLayout({"lanes": data.ArrayLayout(lane, model.cfg.lanes)})


def output_layout(model: MacrospinModel) -> data.StructLayout:
    """Per beat: the slot index and, for each lane, the new state and the switched flag."""
    lane = data.StructLayout({"m": state_layout(model), "switched": unsigned(1)})
    return data.StructLayout({"slot": unsigned(max(1, (model.cfg.magnets - 1).bit_length())),
                              "lanes": data.ArrayLayout(lane, model.cfg.lanes)})


def _state_bits(model: MacrospinModel, m) -> int:
    """The integer of a state's (x, y, z) bits as ``state_layout`` packs them."""
    w = model.cfg.m_fmt.width
    return sum((int(v) & ((1 << w) - 1)) << (i * w) for i, v in enumerate(m))


def _registers(m: Module, v, n: int, name: str, reset_less: bool = False):
    """``v`` through a chain of ``n`` registers named ``{name}_0`` .. ``{name}_{n-1}`` (a name
    holding ``_dup_`` makes the synthesis flow keep the copies apart); returns the last."""
    v = Value.cast(v)
    for k in range(n):
        r = Signal(v.shape(), name=f"{name}_{k}", reset_less=reset_less)
        m.d.sync += r.eq(v)
        v = r
    return v


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


class _Discard:
    """Stands in for the ``Module`` of a lane that is only scheduled and counted (``_Stages``
    with ``count_only=True``): it takes statements (``d.sync += ...``, ``d.comb += ...``) and
    submodules and keeps nothing. A throw-away ``Module`` would be an Elaboratable that is
    never elaborated (Amaranth's UnusedElaboratable)."""

    class _Domain:
        def __iadd__(self, statements):
            return self

    def __init__(self):
        self.d = SimpleNamespace(sync=self._Domain(), comb=self._Domain())
        self.submodules = {}


@dataclass(frozen=True)
class Schedule:
    """The integrator's pipeline, counted without building it (:meth:`MacrospinIntegrator.check`).

    Attributes
    ----------
    depth : int
        Register stages of one lane's datapath (stage 0 to the write-back).
    latency : int
        Accepted beats from an input to its output (``IN_STAGES + depth + OUT_STAGES +
        OUTPUT_LATENCY``).
    dsp_blocks, ram_blocks : int
        ECP5 MULT18X18D and DP16KD stand-ins, all lanes (0 in the generic style).
    """

    depth: int
    latency: int
    dsp_blocks: int
    ram_blocks: int


class _Stages:
    """Schedules one lane's datapath as a free-running pipeline (no clock enable).

    Every operation registers its result (one stage: one multiplier and a register next to it,
    or one carry-chain adder, or a rounding increment with its saturation); :meth:`at` delays an operand to the stage of
    the operation that uses it, through flip-flops for short spans and through a small
    circular-buffer memory (block or distributed RAM) for spans of ``mem_span`` stages or more.
    """

    def __init__(self, m: Module, prefix: str, rounding: str, mem_span: int = 4, dsp_products: int = 1 << 30,
                 reset_less: bool = True, blocks: str = "generic", count_only: bool = False):
        self.m, self.prefix, self.rounding, self.mem_span = m, prefix, rounding, mem_span
        # "generic": a * b between registers, Amaranth memories; "ecp5": hdl.ecp5_blocks's
        # registered MULT18X18D and DP16KD stand-ins
        self.blocks = blocks
        self.count_only = count_only  # schedule and count only: no delay memories built
        self.split_resize = True  # rounding and saturation in separate stages
        # Datapath registers need no reset (only the valid bits do): a reset net to every
        # register would also fold into their set/reset logic.
        self.reset_less = reset_less
        self.dsp_left = dsp_products  # variable products still to map onto DSP blocks
        self.lut_products = 0
        self.dsp_blocks = 0  # products placed in hdl.ecp5_blocks MULT18X18D stand-ins
        self.ram_blocks = 0  # delay lines in hdl.ecp5_blocks DP16KD stand-ins
        self._taps: dict[int, tuple[_T, dict]] = {}
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
        """``v`` delayed by ``n`` >= 3 cycles: a circular buffer (n - 1) and a register (block RAM,
        n >= 17: a register, the buffer through the block's two registers (n - 3), a register)."""
        depth = 1 << (n - 1).bit_length()
        # Free-running write and read pointers, n - 2 apart (registers: no subtractor on the
        # address path of the distributed RAM), each memory its own (_dup_: kept apart by the
        # synthesis flow), as a pointer shared by many memories was a high-fanout critical net.
        uid = self._n + 1
        block_ram = self.blocks == "ecp5" and depth > 16
        # Block RAM (below) reads 2 cycles after writing less than the distributed RAM does.
        gap = n - 4 if block_ram else n - 2
        wptr, rptr = (Signal(range(depth), init=init, name=f"{self.prefix}ptr_dup_{role}{uid}", reset_less=True)
                      for role, init in (("w", 0), ("r", (-gap) % depth)))
        self.m.d.sync += [wptr.eq(wptr + 1), rptr.eq(rptr + 1)]  # wrap: depth is a power of two
        if self.count_only:
            self.mem_delays.append((len(v), depth))
            if self.blocks == "ecp5" and depth > 16:
                self.ram_blocks += -(-len(v) // ecp5_blocks.WIDTH)
            return Signal(v.shape(), name=self._name("dlyq"))
        # Deeper than one distributed-RAM cell (16 words): block RAM, which the twin leaves
        # mostly unused, instead of LUT RAM with read multiplexers (LUTs are the scarce part).
        if block_ram:
            # The block rows are far from the logic: a fabric register on each side of the
            # block (the data written at t + 1, read at t + n - 3, through the block's address
            # and output registers at t + n - 1 and a register at t + n), so that no route to
            # or from a block shares its cycle with logic or with another long route.
            self.mem_delays.append((len(v), depth))
            self.ram_blocks += -(-len(v) // ecp5_blocks.WIDTH)
            vin = Signal(v.shape(), name=self._name("dlyin"), reset_less=True)
            self.m.d.sync += vin.eq(v)
            q = ecp5_blocks.registered_ram(self.m, vin, wptr, rptr, self._name("dlyram"))
            out = Signal(v.shape(), name=self._name("dlyq"), reset_less=self.reset_less)
            self.m.d.sync += out.eq(q)
            return out
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
            # The DSP columns are far from the logic: each DSP block gets a copy of its
            # operands of its own (an operand feeds several products; the name tag makes the
            # synthesis flow keep these duplicates, boards.synth.KEEP_DUPLICATE_TAG), then its
            # operand and product registers and one more register behind it, so that every
            # route to or from the block has a register next to it.
            a1, b1 = self.reg(va, s, name + "_dup_a"), self.reg(vb, s, name + "_dup_b")
            if self.blocks == "ecp5" and ecp5_blocks.fits(va, vb):
                # the block's own input and product registers (hdl.ecp5_blocks), fed by
                # operand registers of its own in the fabric: an operand shared by blocks
                # that the placer puts far apart was routed in one cycle from one register
                # to all of them (9.8 ns, the 5-lane twin's critical path once the output
                # FIFO was fixed)
                p = ecp5_blocks.registered_multiply(self.m, a1.v, b1.v, self._name(name + "_dsp"))
                self.dsp_blocks += 1
                self.depth = max(self.depth, a1.st + ecp5_blocks.MULT_LATENCY)
                q = self.reg(p, a1.st + ecp5_blocks.MULT_LATENCY, name + "_q")
            else:
                # the same stages in the fabric: operand copies, operand and product registers
                a2, b2 = self.reg(a1.v, a1.st, name + "_dup_a2"), self.reg(b1.v, b1.st, name + "_dup_b2")
                p = self.reg(a2.v * b2.v, a2.st, name)
                q = self.reg(p.v, p.st, name + "_q")
            return q
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
        if self.split_resize and frac > out.frac:
            # the rounding increment's carry chain in one stage, the range test in the next
            r = self.reg(v, s, name + "_rnd")
            sat, _ = hf.saturate(r.v, out)
            return self.reg(sat, r.st, name)
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

    def rhs(self, tag, m, h_th, u1, u2, v1=None, v2=None):
        """One RHS evaluation: dm (3 timed values in dm_fmt); ``v1``, ``v2``: the second drive
        channel's alpha b2 and b2 / alpha, applied on its axis after the first channel's."""
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
        if v1 is not None:
            a2, sg2 = k.nm2.p_axis, k.nm2.p_sign
            h1[a2] = self._add(h1[a2], hfm.frac, v1, hfm.frac, hfm, f"{tag}h1q", sb=-sg2)
            h2[a2] = self._add(h2[a2], hfm.frac, v2, hfm.frac, hfm, f"{tag}h2q", sb=sg2)
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

    def build(self, m, g, code, code2=None):
        """m, g: 3 timed inputs each; code (and code2, a two-drive magnet's second channel):
        timed inputs. Returns the 3 new components."""
        S, c = self.s, self.cfg
        mf, df = c.m_fmt.frac, c.dm_fmt.frac
        b = self._mulc(code, c.drive_fmt.frac, "kb", c.h_fmt, "b")
        th = [self._mulc(g[i], self.model.noise_fmt.frac, "sigma", c.h_fmt, f"th{i}") for i in range(3)]
        u1 = self._mulc(b, c.h_fmt.frac, "alpha", c.h_fmt, "u1")
        u2 = self._mulc(b, c.h_fmt.frac, "inv_alpha", c.h_fmt, "u2")
        v1 = v2 = None
        if code2 is not None:
            b2 = self._mulc(code2, c.drive_fmt.frac, "kb2", c.h_fmt, "b2")
            v1 = self._mulc(b2, c.h_fmt.frac, "alpha", c.h_fmt, "v1")
            v2 = self._mulc(b2, c.h_fmt.frac, "inv_alpha", c.h_fmt, "v2")
        k1 = self.rhs("k1", m, th, u1, u2, v1, v2)
        mp = [self._add(m[i], mf, k1[i], df, c.m_fmt, f"mp{i}") for i in range(3)]
        k2 = self.rhs("k2", mp, th, u1, u2, v1, v2)
        f = max(mf, df + 1)
        mn = [S.resize(S.lin([(m[i], f - mf, 1), (k1[i], f - df - 1, 1), (k2[i], f - df - 1, 1)], f"mns{i}"),
                       f, c.m_fmt, f"mn{i}") for i in range(3)]
        nf = c.norm_fmt
        sq = [(S.mul(mn[i], mn[i], f"sq{i}"), 0, 1) for i in range(3)]
        s = S.resize(S.lin(sq, "s2"), 2 * mf, nf, "s")
        r = S.resize(S.lin([(S.const(3 << nf.frac), 0, 1), (s, 0, -1)], "rs"), nf.frac + 1, nf, "r")
        return [S.resize(S.mul(mn[i], r, f"pm{i}"), mf + nf.frac, c.m_fmt, f"out{i}") for i in range(3)]


class _LaneBuffer(wiring.Component):
    """One lane's result buffer: a circular buffer whose write is never refused and whose
    reads are commanded (the integrator's output controller counts the words in it).

    Both ports are registered: a write (``w_en``, ``w_data``) reaches the memory through a
    register of the enable, address and data (cycle t + 1), and a read commanded in cycle c
    (``rd``) puts the word at the read pointer on ``r_data`` in cycle c + ``READ_LATENCY``
    only (the memory's registered read, then an output register) and advances the pointer. A
    read may be commanded from t + ``LATENCY``. ``blocks="ecp5"``: the memory is DP16KD block
    RAM (:func:`hdl.ecp5_blocks.registered_ram`, one block per 18 bits, its address and
    output registers being the read's two); else an Amaranth memory with a synchronous read
    port and a register. (A LUT-RAM buffer read through a bank multiplexer into a register was
    the 5-lane twin's critical path on ECP5 once the read was registered: 11.5 ns, 10 ns of it
    routing.)"""

    LATENCY = 2
    READ_LATENCY = 2

    def __init__(self, width: int, depth: int, blocks: str = "generic"):
        self.width, self.depth, self.blocks = width, depth, blocks
        if blocks == "ecp5" and depth > ecp5_blocks.RAM_DEPTH:
            raise ValueError(f"a result buffer of {depth} words exceeds one block's {ecp5_blocks.RAM_DEPTH}")
        super().__init__({"w_data": In(width), "w_en": In(1), "rd": In(1), "r_data": Out(width)})

    def elaborate(self, platform):
        m = Module()
        n = self.depth
        wptr, rptr = Signal(range(n)), Signal(range(n))
        we = Signal()
        wa = Signal(range(n), reset_less=True)
        wd = Signal(self.width, reset_less=True)
        m.d.sync += [we.eq(self.w_en), wa.eq(wptr), wd.eq(self.w_data)]
        if self.blocks == "ecp5":
            q = ecp5_blocks.registered_ram(m, wd, wa, rptr, "ram", we=we)
            m.d.comb += self.r_data.eq(q)
        else:
            mem = memory.Memory(shape=unsigned(self.width), depth=n, init=[])
            m.submodules.mem = mem
            wp, rp = mem.write_port(), mem.read_port()
            m.d.comb += [wp.addr.eq(wa), wp.data.eq(wd), wp.en.eq(we), rp.addr.eq(rptr)]
            r_data = Signal(self.width, reset_less=True)
            m.d.sync += r_data.eq(rp.data)
            m.d.comb += self.r_data.eq(r_data)
        with m.If(self.w_en):
            m.d.sync += wptr.eq(Mux(wptr == n - 1, 0, wptr + 1))
        with m.If(self.rd):
            m.d.sync += rptr.eq(Mux(rptr == n - 1, 0, rptr + 1))
        return m


class MacrospinIntegrator(CheckedComponent):
    """The pipelined stochastic macrospin integrator (see the module docstring).

    Parameters
    ----------
    model : MacrospinModel
        Formats, sizes and quantised device constants (the same object the reference uses).
    noise : NoiseConfig
        The on-chip Gaussian source; ``noise.lanes`` must equal ``model.cfg.lanes`` and its
        ``out_fmt`` must be ``model.noise_fmt``.
    blocks : {"generic", "ecp5"}
        How the DSP products are written: ``a * b`` between fabric registers (any tool and
        simulator), or ECP5 MULT18X18D blocks with their own registers (:mod:`hdl.ecp5_blocks`;
        simulate with its model, synthesise with :mod:`boards.synth`). Same cycle timing.

    Attributes
    ----------
    latency : int
        Accepted beats from an input to its output.
    depth : int
        Register stages of one lane's datapath.
    dsp_blocks, ram_blocks : int
        ECP5 stand-ins (:class:`Schedule`).
    lanes, magnets : int

    Members
    -------
    i_drive : In(stream.Signature(input_layout))
    o_state : Out(stream.Signature(output_layout))
    """

    BLOCK_STYLES = ("generic", "ecp5")

    @classmethod
    def check(cls, model: MacrospinModel, noise: NoiseConfig, *, blocks: str = "generic") -> Schedule:
        """The pipeline's :class:`Schedule` for ``model`` in the ``blocks`` style, counted without
        building the integrator; a ValueError (one line) for a design it refuses (a block style,
        noise lanes or format that do not match, fewer magnets per lane than ``depth + 3``)."""
        if blocks not in cls.BLOCK_STYLES:
            raise ValueError(f"blocks must be one of {', '.join(cls.BLOCK_STYLES)}, not {blocks!r}")
        if noise.lanes != model.cfg.lanes:
            raise ValueError(f"noise lanes ({noise.lanes}) must equal integrator lanes ({model.cfg.lanes})")
        if noise.out_fmt != model.noise_fmt:
            raise ValueError(f"noise format {noise.out_fmt} must equal the model's {model.noise_fmt}")
        sched = cls._schedule(model, blocks)
        if model.cfg.magnets < sched.depth + 3:
            raise ValueError(f"magnets per lane must be >= pipeline depth + 3 = {sched.depth + 3}, "
                             f"not {model.cfg.magnets}")
        return sched

    def __init__(self, model: MacrospinModel, noise: NoiseConfig, *, blocks: str = "generic"):
        sched: Schedule = self.checked
        self.blocks = blocks
        self.model, self.noise_cfg = model, noise
        self.lanes, self.magnets = model.cfg.lanes, model.cfg.magnets
        self.depth, self.latency = sched.depth, sched.latency
        self.dsp_blocks, self.ram_blocks = sched.dsp_blocks, sched.ram_blocks
        #: Sticky flag: a result buffer may have been overwritten (never, by the bound in the module doc).
        self.overflow = Signal()
        super().__init__({
            "i_drive": In(stream.Signature(input_layout(model))),
            "o_state": Out(stream.Signature(output_layout(model))),
        })

    @classmethod
    def _schedule(cls, model: MacrospinModel, blocks: str) -> Schedule:
        """One lane's datapath scheduled into a :class:`_Discard` (no hardware kept)."""
        cfg = model.cfg
        st = _Stages(_Discard(), "", cfg.rounding, dsp_products=cfg.dsp_per_lane, blocks=blocks, count_only=True)
        z = Const(0, signed(cfg.m_fmt.width))
        g = Const(0, signed(model.noise_fmt.width))
        mv = [st.inp(z, "m") for _ in range(3)]
        zc = Const(0, hf.shape_of(cfg.drive_fmt))
        _Datapath(st, model).build(mv, [st.inp(g, "g") for _ in range(3)], st.inp(zc, "code"),
                                   st.inp(zc, "code2") if model.two_drives else None)
        depth = st.depth
        # the delays that elaborate() adds beside the datapath: the reset bit and the old
        # easy-axis component, both to the write-back stage
        st.at(st.inp(Const(0, 1), "reset"), st.depth)
        st.at(mv[model.k.nm.easy_axis], st.depth)
        assert st.depth == depth
        # the state memory of each lane (ecp5 style: DP16KD blocks, one per 18 bits)
        state_blocks = -(-3 * cfg.m_fmt.width // ecp5_blocks.WIDTH) if blocks == "ecp5" else 0
        # and the result buffers
        buffer_blocks = (sum(-(-w // ecp5_blocks.WIDTH) for w in cls._buffer_widths(model))
                         if blocks == "ecp5" else 0)
        return Schedule(depth=depth, latency=cls.IN_STAGES + depth + cls.OUT_STAGES + cls.OUTPUT_LATENCY,
                        dsp_blocks=st.dsp_blocks * cfg.lanes,
                        ram_blocks=(st.ram_blocks + state_blocks) * cfg.lanes + buffer_blocks)

    @staticmethod
    def _buffer_widths(model: MacrospinModel) -> list[int]:
        """Bits of each lane's result buffer: m and the switched flag; lane 0's also holds the
        valid bit and the slot (the layout of ``res`` in :meth:`elaborate`)."""
        cfg = model.cfg
        w = 3 * cfg.m_fmt.width + 1
        return [w + 1 + (cfg.magnets - 1).bit_length()] + [w] * (cfg.lanes - 1)

    #: Register stages from the input port to each lane's pipeline (the first shared, then a
    #: copy per lane, so that no control net spans the chip in one cycle). Four, so that the
    #: state memory's read-ahead counter (enabled two beats ahead) takes a lane's own copy:
    #: with three it took the shared one, 7.6 ns of routing across the chip.
    IN_STAGES = 4
    #: Register stages from each lane's last pipeline stage to its result buffer.
    OUT_STAGES = 2
    #: Registers from lane 0's buffer write to the output controller, from the controller's
    #: read command to each buffer, and from each buffer's output to the output queue.
    WRITE_HOPS, READ_HOPS, DATA_HOPS = 2, 2, 2
    #: Words of the output queue (at least the round trip of a read command, so that a steady
    #: stream passes at one word a cycle).
    QUEUE = 16
    #: Cycles from a buffer write to the output stream: the write seen by the controller
    #: (WRITE_HOPS), counted (1), commanded (READ_HOPS), read (2), carried back (DATA_HOPS) and
    #: through the output queue's slice (2, SyncFIFOBuffered).
    OUTPUT_LATENCY = WRITE_HOPS + 1 + READ_HOPS + _LaneBuffer.READ_LATENCY + DATA_HOPS + 2

    def elaborate(self, platform):
        mdl, cfg = self.model, self.model.cfg
        m = Module()
        advance = Signal()
        # The state memories' synchronous read needs a cycle after reset before the first beat.
        primed = Signal()
        m.d.sync += primed.eq(1)
        m.d.comb += [
            advance.eq(self.i_drive.valid & self.i_drive.ready),
            self.i_drive.ready.eq(self.o_state.ready & primed),
        ]
        # Each lane's noise source advances on the lane's own copy of the accept bit.
        m.submodules.noise = noise = GaussianNoise(self.noise_cfg, lane_enables=True, enable_copies=True)

        # The accepted beat, registered once, then carried to each lane by registers of its own
        # (named _dup_: the synthesis flow keeps the copies apart): lane stage 0 is IN_STAGES
        # cycles after acceptance, and every control net of a lane stays inside the lane.
        acc_valid = Signal(name="acc_valid")
        acc_beat = Signal(input_layout(mdl), name="acc_beat", reset_less=True)
        m.d.sync += [acc_valid.eq(advance), acc_beat.eq(self.i_drive.payload)]

        reset_state = mdl.m_reset
        e, sgn = mdl.k.nm.easy_axis, mdl.k.nm.easy_sign
        depth = self.depth
        n_mag = cfg.magnets
        lanes_out = []
        for lane in range(cfg.lanes):
            valid_l, beat_l = acc_valid, acc_beat.lanes[lane]
            chain = [valid_l]  # the accept bit's copies, valid_l last
            for k in range(1, self.IN_STAGES):
                v = Signal(name=f"l{lane}_in_dup_{k}")
                b = Signal.like(beat_l, name=f"l{lane}_in_beat_{k}", reset_less=True)
                m.d.sync += [v.eq(valid_l), b.eq(beat_l)]
                valid_l, beat_l = v, b
                chain.append(v)
            # the noise source's copies of the lane's enable: registers of their own beside
            # valid_l (named _dup_: kept apart), one per LFSR and per adder tree
            for j in range(noise.copies):
                c = Signal(name=f"l{lane}_noise_en_dup_{j}")
                m.d.sync += c.eq(chain[-2])
                m.d.comb += noise.en[lane * noise.copies + j].eq(c)
            # the lane's slot counter: slot of its stage-0 beat
            slot = Signal(range(n_mag), name=f"l{lane}_slot")
            with m.If(valid_l):
                m.d.sync += slot.eq(Mux(slot == n_mag - 1, 0, slot + 1))
            next_slot = Mux(valid_l, Mux(slot == n_mag - 1, 0, slot + 1), slot)

            if self.blocks == "ecp5":
                # Block RAM through its output register: the read for the beat at stage 0 in
                # cycle T is issued at T - 2, from a register that runs two beats ahead (the
                # lane's accept-bit copies say which beats come). Stored XOR the reset state, so
                # the zero-initialised blocks start at the reset state. No read-during-write
                # bypass: the slot's previous beat wrote back at T - N + depth <= T - 3.
                ahead = Signal(range(n_mag), name=f"l{lane}_rd_slot")  # slot of the beat at T + 2
                with m.If(chain[-3]):
                    m.d.sync += ahead.eq(Mux(ahead == n_mag - 1, 0, ahead + 1))
                st = Signal(state_layout(mdl), name=f"l{lane}_state")
                wr = Signal(data.StructLayout({"addr": range(n_mag), "data": state_layout(mdl), "en": 1}),
                            name=f"l{lane}_wb")
                code = Const(_state_bits(mdl, reset_state), len(st.as_value()))
                q = ecp5_blocks.registered_ram(m, wr.data.as_value() ^ code, wr.addr, ahead,
                                               f"state{lane}", we=wr.en)
                m.d.comb += st.eq(q ^ code)
            else:
                mem = memory.Memory(shape=state_layout(mdl), depth=n_mag,
                                    init=[{"x": int(reset_state[0]), "y": int(reset_state[1]),
                                           "z": int(reset_state[2])}] * n_mag)
                m.submodules[f"state{lane}"] = mem
                wr = mem.write_port()
                rd = mem.read_port()
                # The read for the beat at stage 0 in cycle T is issued at T - 1 (address of
                # the slot that will be current then). It needs no read-during-write bypass:
                # the slot's previous beat wrote back at stage `depth`, at T - N + depth <= T - 3.
                m.d.comb += rd.addr.eq(next_slot)
                st = rd.data
            ctrl = _Stages(m, f"l{lane}_ctl_", cfg.rounding, reset_less=False)  # valid bits and slots: reset
            valid = ctrl.inp(valid_l, "valid")
            wslot = ctrl.inp(slot, "slot")
            S = _Stages(m, f"l{lane}_", cfg.rounding, dsp_products=cfg.dsp_per_lane, blocks=self.blocks)
            mold = [S.inp(st.x, "m0"), S.inp(st.y, "m1"), S.inp(st.z, "m2")]
            smp = noise.samples[lane]
            outs = _Datapath(S, mdl).build(mold, [S.inp(smp.x, "g0"), S.inp(smp.y, "g1"), S.inp(smp.z, "g2")],
                                           S.inp(beat_l.code, "code"),
                                           S.inp(beat_l.code2, "code2") if mdl.two_drives else None)
            assert S.depth == depth, (S.depth, depth)
            rst = S.at(S.inp(beat_l.reset, "reset"), depth)
            vals = [S.at(o, depth) for o in outs]
            old_e = S.at(mold[e], depth)
            new = [Mux(rst, int(reset_state[i]), vals[i]) for i in range(3)]
            if sgn > 0:
                sw = (old_e >= 0) & (vals[e] < 0)
            else:
                sw = (old_e <= 0) & (vals[e] > 0)
            out_valid, out_slot = ctrl.at(valid, depth), ctrl.at(wslot, depth)
            nv = Signal(state_layout(mdl), name=f"l{lane}_new")
            m.d.comb += [nv.x.eq(new[0]), nv.y.eq(new[1]), nv.z.eq(new[2]),
                         wr.addr.eq(out_slot), wr.data.eq(nv), wr.en.eq(out_valid)]
            # to the lane's result buffer through OUT_STAGES registers
            res = _registers(m, Cat(nv.as_value(), sw & ~rst, out_valid, out_slot), self.OUT_STAGES, f"l{lane}_out")
            lanes_out.append(res)
        # Results leave the free-running pipeline into a buffer per lane (next to the lane;
        # lane 0's also holds the valid bit and the slot). No net of the output side spans
        # the chip in one cycle either: a controller by the output port counts the words in the
        # buffers (lane 0's write enable reaches it through WRITE_HOPS registers), commands
        # reads (through READ_HOPS registers of each lane's own) while the output queue has
        # room for every word in flight, and the words come back through DATA_HOPS registers
        # into the output queue (a SyncFIFOBuffered of QUEUE words per lane). A beat is accepted only while
        # the output is ready, so the buffers never overflow (``overflow`` stays 0: a sticky
        # flag, set if the count ever exceeds a buffer less the words the controller cannot
        # see yet; tests/test_macrospin_rtl.py checks it with random stalls).
        in_flight = self.IN_STAGES + depth + self.OUT_STAGES
        w = 3 * cfg.m_fmt.width
        o = self.o_state
        hops = self.WRITE_HOPS + self.READ_HOPS + _LaneBuffer.READ_LATENCY + self.DATA_HOPS
        buf_depth = in_flight + 2 * _LaneBuffer.LATENCY + hops + 4
        seen = _registers(m, lanes_out[0][w + 1], self.WRITE_HOPS, "out_seen")
        avail = Signal(range(buf_depth + 1))  # words in the buffers not yet commanded out
        outstanding = Signal(range(self.QUEUE + 1))  # words commanded out, not yet sent
        issue = Signal()
        pop = Signal()
        m.d.comb += [issue.eq((avail != 0) & (outstanding != self.QUEUE)), pop.eq(o.valid & o.ready)]
        m.d.sync += [avail.eq(avail + seen - issue), outstanding.eq(outstanding + issue - pop)]
        words, slices = [], []
        for lane, (res, keep) in enumerate(zip(lanes_out, self._buffer_widths(self.model))):
            assert keep <= len(res)  # m, switched (, valid, slot)
            buf = _LaneBuffer(keep, buf_depth, blocks=self.blocks)
            m.submodules[f"out_buf{lane}"] = buf
            rd = _registers(m, issue, self.READ_HOPS, f"l{lane}_rd_dup")
            # the command's arrival at the lane's queue slice: its copy through as many
            # registers as the data (kept apart: each slice has its own write enable)
            arrive = _registers(m, rd, _LaneBuffer.READ_LATENCY + self.DATA_HOPS, f"l{lane}_arrive_dup")
            got = _registers(m, buf.r_data, self.DATA_HOPS, f"l{lane}_back", reset_less=True)
            m.d.comb += [buf.w_data.eq(res[:keep]), buf.w_en.eq(res[w + 1]), buf.rd.eq(rd)]
            # The output queue is sliced per lane: every slice has its own addresses, so no
            # address register drives more than one lane's memory cells (a single 282-bit
            # queue's read address to its 71 LUT-RAM cells was 8.8 ns of routing). The slices
            # are written and read in the same cycles, so they hold the same count.
            kept = Cat(got[:w + 1], got[w + 2:])  # m, switched (, slot): not the valid bit
            q = fifo.SyncFIFOBuffered(width=len(kept), depth=self.QUEUE)
            m.submodules[f"out_queue{lane}"] = q
            m.d.comb += [q.w_data.eq(kept), q.w_en.eq(arrive), q.r_en.eq(o.ready)]
            slices.append(q)
            words.append((q.r_data[:w], q.r_data[w], q.r_data[w + 1:] if lane == 0 else None))
        # The output's valid bit comes from the controller's own copy of a slice's control
        # state (a one-bit queue of constant data, whose memory synthesis removes), written
        # through its own copy of the command's delay: a slice's r_rdy, by its lane, was 5.4 ns
        # of routing from the controller's counter.
        arrive = _registers(m, issue, self.READ_HOPS + _LaneBuffer.READ_LATENCY + self.DATA_HOPS, "out_arrive_dup")
        m.submodules.out_valid = shadow = fifo.SyncFIFOBuffered(width=1, depth=self.QUEUE)
        m.d.comb += [shadow.w_data.eq(0), shadow.w_en.eq(arrive), shadow.r_en.eq(o.ready),
                     o.valid.eq(shadow.r_rdy)]
        # payload zero while not valid (the queues' memories are undefined where never written)
        for lane, (mv, sw, slot) in enumerate(words):
            m.d.comb += [o.payload.lanes[lane].m.as_value().eq(Mux(o.valid, mv, 0)),
                         o.payload.lanes[lane].switched.eq(o.valid & sw)]
            if slot is not None:
                m.d.comb += o.payload.slot.eq(Mux(o.valid, slot, 0))
        # words in a buffer <= avail + writes not yet counted (WRITE_HOPS + 1) + reads commanded
        # but not yet done (READ_HOPS)
        with m.If(avail > buf_depth - self.WRITE_HOPS - 1 - self.READ_HOPS):
            m.d.sync += self.overflow.eq(1)
        return m


def selftest_harness(model: MacrospinModel, noise_cfg: NoiseConfig, seed: int = 1, *, blocks: str = "generic"):
    """The integrator inside an on-chip self-test harness (``hdl.harness.StreamSelfTest``):
    stimulus as ``quantize.macrospin.selftest_drives`` maps the harness's data words."""
    from hdl.harness import StreamSelfTest
    from quantize.macrospin import SELFTEST_RESET_BITS, selftest_code_bits, selftest_harness_config

    cb, rb = selftest_code_bits(model), SELFTEST_RESET_BITS
    dw = model.cfg.drive_fmt.width

    def payload(words):
        lanes = []
        for w in words:
            # word, MSB first: code, (code2,) reset bits; packed in input_layout's field order
            code = w[rb + cb:] if model.two_drives else w[rb:]
            fields = [code, code[-1].replicate(dw - cb), w[:rb].all()]
            if model.two_drives:
                code2 = w[rb:rb + cb]
                fields += [code2, code2[-1].replicate(dw - cb)]
            lanes.append(Cat(*fields))
        return Cat(*lanes)

    return StreamSelfTest(MacrospinIntegrator(model, noise_cfg, blocks=blocks), selftest_harness_config(model, seed), payload)
