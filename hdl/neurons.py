"""RTL of the twin's neuron banks (bit-exact with the neuron rules of ``quantize.snn``).

``IfNeuronBank``: ``n`` integrate-and-fire neurons time-multiplexed over one membrane memory.
Each input beat names a neuron and its input ``y`` (the crossbar's scaled column output); the
bank reads the membrane, applies the rule of ``quantize.snn`` and writes it back::

    v = clamp(v + y, floor, vmax)        (floor = -2**(w-1) when the rule has none)
    fire = v >= threshold
    v = 0 if fire (DW neuron: back to the reset position)   or   v - threshold (CMOS baseline)

and emits the neuron's index and spike. ``clear`` zeroes every membrane (one neuron per cycle,
``n`` cycles; input is not accepted meanwhile). Beats for the same neuron may follow each other
directly: the read of the next beat sees the previous write (a one-entry forwarding path).
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream
from amaranth.lib.wiring import In, Out

from hdl.checked import CheckedComponent

__all__ = ["IfNeuronBank", "PbitLayer"]


class IfNeuronBank(CheckedComponent):
    """``n`` IF neurons with a ``membrane_bits`` signed membrane.

    Parameters
    ----------
    n : int
        Neurons.
    membrane_bits : int
        Signed membrane width; ``vmax = 2**(membrane_bits-1) - 1``.
    y_bits : int
        Signed input width.
    threshold : int
        Firing threshold (> 0).
    floor : int or None
        Lower clamp (DW neuron near edge); None: the register minimum.
    reset : {"zero", "subtract"}

    Members
    -------
    i_in : In(stream.Signature({neuron, y}))
    o_spike : Out(stream.Signature({neuron, spike, v}))
        ``v``: the membrane after the update (for tie-breaks and debugging).
    clear : In(1)
        Start zeroing every membrane (busy for ``n`` cycles).
    """

    @classmethod
    def check(cls, n: int, membrane_bits: int, y_bits: int, threshold: int, floor: int | None = None,
              reset: str = "zero") -> None:
        """ValueError (one line) for a reset rule, threshold or floor the bank cannot hold."""
        vmax = (1 << (membrane_bits - 1)) - 1
        if reset not in ("zero", "subtract"):
            raise ValueError(f"reset must be 'zero' or 'subtract', not {reset!r}")
        if not 0 < threshold <= vmax:
            raise ValueError(f"threshold must be in 1..{vmax}, not {threshold}")
        if floor is not None and not -vmax - 1 <= floor <= 0:
            raise ValueError(f"floor must be in {-vmax - 1}..0, not {floor}")

    def __init__(self, n: int, membrane_bits: int, y_bits: int, threshold: int, floor: int | None = None,
                 reset: str = "zero"):
        vmax = (1 << (membrane_bits - 1)) - 1
        self.n, self.membrane_bits, self.y_bits = n, membrane_bits, y_bits
        self.threshold, self.floor, self.reset = threshold, (-vmax - 1 if floor is None else floor), reset
        self.vmax = vmax
        idx = unsigned(max(1, (n - 1).bit_length()))
        super().__init__({
            "i_in": In(stream.Signature(data.StructLayout({"neuron": idx, "y": signed(y_bits)}))),
            "o_spike": Out(stream.Signature(data.StructLayout(
                {"neuron": idx, "spike": unsigned(1), "v": signed(membrane_bits)}))),
            "clear": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        w = self.membrane_bits
        m.submodules.mem = mem = memory.Memory(shape=signed(w), depth=self.n, init=[])
        rd = mem.read_port(transparent_for=())
        wr = mem.write_port()

        clearing = Signal()
        clear_idx = Signal(range(self.n))
        with m.If(self.clear & ~clearing):
            m.d.sync += [clearing.eq(1), clear_idx.eq(0)]
        with m.If(clearing):
            m.d.comb += [wr.addr.eq(clear_idx), wr.data.eq(0), wr.en.eq(1)]
            m.d.sync += clear_idx.eq(clear_idx + 1)
            with m.If(clear_idx == self.n - 1):
                m.d.sync += clearing.eq(0)

        # Stage 0: accept a beat, read its membrane. Stage 1: update, write back, emit.
        st1_valid = Signal()
        st1_neuron = Signal.like(self.i_in.payload.neuron)
        st1_y = Signal(signed(self.y_bits))
        out = self.o_spike
        stall = st1_valid & ~out.ready
        m.d.comb += self.i_in.ready.eq(~clearing & ~self.clear & ~stall)
        take = self.i_in.valid & self.i_in.ready
        m.d.comb += [rd.addr.eq(Mux(stall, st1_neuron, self.i_in.payload.neuron)), rd.en.eq(1)]
        with m.If(~stall):
            m.d.sync += [st1_valid.eq(take), st1_neuron.eq(self.i_in.payload.neuron), st1_y.eq(self.i_in.payload.y)]

        # Forwarding: the previous update's result, when it wrote the neuron now read.
        last_neuron = Signal.like(st1_neuron)
        last_v = Signal(signed(w))
        last_valid = Signal()
        v_old = Mux(last_valid & (last_neuron == st1_neuron), last_v, rd.data)

        total = Signal(signed(max(w, self.y_bits) + 1))   # y may be wider than the membrane
        m.d.comb += total.eq(v_old + st1_y)
        clamped = Signal(signed(w))
        m.d.comb += clamped.eq(Mux(total > self.vmax, self.vmax, Mux(total < self.floor, self.floor, total)))
        fire = Signal()
        m.d.comb += fire.eq(clamped >= self.threshold)
        v_new = Signal(signed(w))
        if self.reset == "zero":
            m.d.comb += v_new.eq(Mux(fire, 0, clamped))
        else:
            m.d.comb += v_new.eq(Mux(fire, clamped - self.threshold, clamped))

        fire_step = st1_valid & out.ready
        with m.If(fire_step & ~clearing):
            m.d.comb += [wr.addr.eq(st1_neuron), wr.data.eq(v_new), wr.en.eq(1)]
        m.d.sync += last_valid.eq(0)
        with m.If(fire_step):
            m.d.sync += [last_valid.eq(1), last_neuron.eq(st1_neuron), last_v.eq(v_new)]
        with m.Elif(stall):
            m.d.sync += last_valid.eq(last_valid)
        with m.If(clearing):
            m.d.sync += last_valid.eq(0)  # the forwarded value predates the clear
        m.d.comb += [out.valid.eq(st1_valid), out.payload.neuron.eq(st1_neuron), out.payload.spike.eq(fire),
                     out.payload.v.eq(v_new)]
        return m


class PbitLayer(CheckedComponent):
    """Stochastic MTJ neurons as p-bits (network 2; ``quantize.snn._pbit``), ``channels`` wide.

    Each beat carries the pre-activations ``z`` of one output position for every channel; the
    neuron of channel c spikes when ``LUT[addr(z_c)] > r_c``, ``r_c`` the current word of lane c
    of an LFSR bank (width 31, ``lut_bits`` bits per step), which advances once per beat, so
    word ``t * P + p`` of lane c meets position p at step t (the model's draw order). ``reseed``
    restarts the bank (at every image). ``addr(z) = clamp((z >> lut_shift) + 2**(A-1), 0, 2**A - 1)``.

    Members
    -------
    i_z : In(stream.Signature(ArrayLayout(signed(z_bits), channels)))
    o_spikes : Out(stream.Signature(unsigned(channels)))   (combinational: ready passes through)
    reseed : In(1)
    """

    @classmethod
    def check(cls, channels: int, z_bits: int, lut, lut_shift: int, lut_bits: int, seed: int) -> None:
        """ValueError unless ``lut`` has a power-of-two length and entries in ``0..2**lut_bits - 1``."""
        import numpy as np

        lut = np.asarray(lut, dtype=np.int64)
        if len(lut) != 1 << (int(len(lut)).bit_length() - 1) or lut.min() < 0 or lut.max() >= 1 << lut_bits:
            raise ValueError(f"lut must have 2**A entries in 0..2**lut_bits - 1 = {(1 << lut_bits) - 1}")

    def __init__(self, channels: int, z_bits: int, lut, lut_shift: int, lut_bits: int, seed: int):
        import numpy as np

        from quantize.lfsr import LfsrConfig

        lut = np.asarray(lut, dtype=np.int64)
        a = int(len(lut)).bit_length() - 1
        self.channels, self.z_bits, self.lut, self.lut_shift, self.lut_bits = channels, z_bits, lut, lut_shift, lut_bits
        self.addr_bits = a
        self.lfsr = LfsrConfig(31, channels, lut_bits, seed)
        super().__init__({
            "i_z": In(stream.Signature(data.ArrayLayout(signed(z_bits), channels))),
            "o_spikes": Out(stream.Signature(unsigned(channels))),
            "reseed": In(1),
        })

    def elaborate(self, platform):
        from amaranth.hdl import Array, Cat, Const

        from hdl.lfsr import LfsrBank

        m = Module()
        m.submodules.bank = bank = LfsrBank(self.lfsr)
        a = self.addr_bits
        table = Array(Const(int(v), unsigned(self.lut_bits)) for v in self.lut)
        spikes = []
        for ch in range(self.channels):
            z = self.i_z.payload[ch]
            shifted = z >> self.lut_shift if self.lut_shift >= 0 else z << (-self.lut_shift)
            biased = Signal(signed(self.z_bits + 2), name=f"biased{ch}")
            m.d.comb += biased.eq(shifted + (1 << (a - 1)))
            addr = Signal(unsigned(a), name=f"addr{ch}")
            m.d.comb += addr.eq(Mux(biased < 0, 0, Mux(biased > (1 << a) - 1, (1 << a) - 1, biased)))
            spikes.append(table[addr] > bank.bits[ch])
        take = self.i_z.valid & self.o_spikes.ready
        m.d.comb += [self.o_spikes.valid.eq(self.i_z.valid), self.o_spikes.payload.eq(Cat(*spikes)),
                     self.i_z.ready.eq(self.o_spikes.ready), bank.en.eq(take), bank.reseed.eq(self.reseed)]
        return m
