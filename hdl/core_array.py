"""Image-level parallelism: ``copies`` independent SNN cores behind one pixel stream and one
result port (issue 17).

Each copy is an unchanged :class:`hdl.core.SnnCore` of the same network (its own pixel memory,
encoder banks, weight ROMs, accumulators and membranes), so each stays bit-exact with the model
spike for spike and cycle for cycle (``quantize.core``); the array adds only a dispatcher:

* Input (round robin): the host streams an image's beats (``pix_valid``/``pix_data``, as
  ``SnnCore``'s port) with its ``seed0``/``seed1``/``steps``; they go to core ``wr``, which is
  the next core in turn. ``pix_ready`` is low while core ``wr`` holds an image whose result has
  not been taken (running, or done and waiting). The seeds and steps are registered per core
  with every accepted beat (a core reads them at its start, the cycle after its last beat), so
  the host may present the next image's seeds as soon as the last beat is accepted. After the
  ``ceil(H W C / 8)``-th beat of an image, ``wr`` moves to the next core.
* Output (in order): ``res_valid`` when core ``rd`` (the oldest image's) is done; ``res_core``
  names it and ``counts``, ``pred``, ``cycles``, ``sigs``, ``spikes`` are its results (as
  ``SnnCore``'s ports). The host takes a result with ``res_ready`` (a handshake:
  ``res_valid & res_ready`` at a clock edge frees the core and moves ``rd`` on), so results
  come back in the order the images went in, whatever each image's step count.

Throughput: up to ``copies`` times one core's images/s (the stream takes one beat per cycle,
98 cycles per MNIST image against ~10**5 cycles of a core's run); resources: ``copies`` times
one core's plus the dispatcher's registers. :func:`check_copies` refuses an array that does not
fit a device, from one core's measured resources and the device's capacity.

Ports: ``SnnCore``'s (less its trace-mode event port and ``done``) and ``res_valid``,
``res_ready``, ``res_core``; ``busy`` is high while any core runs.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Array, Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hdl.core import COUNT_BITS, PIX_PER_BEAT, SnnCore, check_core
from quantize.core import SIG_BITS
from quantize.snn import ENCODER_WIDTHS, QuantNetwork

__all__ = ["CoreArray", "check_copies", "RESOURCES"]

#: Resources :func:`check_copies` compares (those ``boards.synth`` reports and bounds).
RESOURCES = ("lut", "ff", "dsp", "bram")


def check_copies(copies: int, per_core: dict | None = None, capacity: dict | None = None, name: str = "core") -> None:
    """Refuse (ValueError, one line) an array of ``copies`` cores that cannot fit a device.

    ``per_core``: one core's resources (``lut``, ``ff``, ``dsp``, ``bram``, as a synthesis of
    ``SnnCore`` reports; cnn-if on the ECP5-85F: 53 DSP, 29 BRAM); ``capacity``: the device's
    (``boards.synth`` targets' ``capacity``; ECP5-85F: 156 DSP, 208 BRAM). The array needs
    ``copies`` times each resource of one core (the copies share nothing; the dispatcher's few
    registers are not counted, so a refusal is certain, a pass is necessary only). Without both
    dicts only ``copies`` is checked.
    """
    if isinstance(copies, bool) or not isinstance(copies, (int, np.integer)) or copies < 1:
        raise ValueError(f"copies must be an integer >= 1, not {copies!r}")
    if not per_core or not capacity:
        return
    for k in RESOURCES:
        one, cap = per_core.get(k), capacity.get(k)
        if one is None or cap is None:
            continue
        if copies * int(one) > int(cap):
            most = int(cap) // int(one) if one else copies
            raise ValueError(f"{copies} copies of {name} need {copies * int(one)} {k.upper()} ({copies} x {one}), "
                             f"more than the device's {cap}: at most {most} fit")


class CoreArray(wiring.Component):
    """``copies`` :class:`hdl.core.SnnCore` instances of ``net`` behind a round-robin dispatcher.

    Parameters
    ----------
    net : QuantNetwork
        Any network the core runs (``hdl.core.check_core``).
    copies : int
        Number of cores, >= 1.
    per_core, capacity : dict, optional
        One core's resources and the device's capacity: a design that cannot fit is refused
        (:func:`check_copies`) before any hardware is built.

    Attributes
    ----------
    cores : list of SnnCore
    """

    def __new__(cls, net: QuantNetwork, copies: int, *args, per_core: dict | None = None,
                capacity: dict | None = None, src_loc_at: int = 0, **kwargs):
        # checked before the object exists: a refused design leaves no unused Elaboratable
        check_core(net)
        check_copies(copies, per_core, capacity, name=f"the {net.cfg.kind} core")
        return super().__new__(cls, net, copies, *args, src_loc_at=src_loc_at + 1, **kwargs)

    def __init__(self, net: QuantNetwork, copies: int, *, per_core: dict | None = None, capacity: dict | None = None):
        self.net, self.copies = net, int(copies)
        self.cores = [SnnCore(net) for _ in range(self.copies)]
        c0 = self.cores[0]
        self.beats = -(-c0.pixels // PIX_PER_BEAT)
        nl = len(c0.layers) + 1
        super().__init__({
            "pix_valid": In(1), "pix_data": In(PIX_PER_BEAT * net.cfg.input_bits), "pix_ready": Out(1),
            "seed0": In(ENCODER_WIDTHS[0]), "seed1": In(ENCODER_WIDTHS[1]), "steps": In(COUNT_BITS),
            "busy": Out(1), "res_valid": Out(1), "res_ready": In(1), "res_core": Out(max(1, (self.copies - 1).bit_length())),
            "counts": Out(c0.classes * COUNT_BITS), "pred": Out(c0.pred_bits), "cycles": Out(32),
            "sigs": Out(nl * SIG_BITS), "spikes": Out(nl * 32),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.copies
        wr = Signal(range(max(2, n)))             # core the stream loads
        rd = Signal(range(max(2, n)))             # core whose result is next
        beat = Signal(range(self.beats + 1))
        loaded = Signal(n)                        # core holds an image whose result is not taken
        held = Array(loaded[k] for k in range(n))
        take = Signal()
        m.d.comb += take.eq(self.res_valid & self.res_ready)
        accept = Signal()
        m.d.comb += [accept.eq(self.pix_valid & self.pix_ready),
                     self.pix_ready.eq(~held[wr])]
        busy = []
        for k, core in enumerate(self.cores):
            m.submodules[f"core{k}"] = core
            s0, s1, st = (Signal(len(p), name=f"{p.name}_{k}") for p in (self.seed0, self.seed1, self.steps))
            mine = Signal(name=f"load_{k}")
            m.d.comb += [mine.eq(accept & (wr == k)),
                         core.pix_valid.eq(mine), core.pix_data.eq(self.pix_data),
                         core.seed0.eq(s0), core.seed1.eq(s1), core.steps.eq(st)]
            with m.If(mine):
                m.d.sync += [s0.eq(self.seed0), s1.eq(self.seed1), st.eq(self.steps)]
            busy.append(core.busy)
        m.d.comb += self.busy.eq(Cat(*busy).any())

        # input side: count the beats, hand the next image to the next core
        last = Signal()
        m.d.comb += last.eq(accept & (beat == self.beats - 1))
        with m.If(accept):
            m.d.sync += beat.eq(Mux(last, 0, beat + 1))
        with m.If(last):
            m.d.sync += wr.eq(Mux(wr == n - 1, 0, wr + 1))

        # output side: the oldest image's core, in order
        done = Array(core.done for core in self.cores)
        m.d.comb += [self.res_valid.eq(held[rd] & done[rd]), self.res_core.eq(rd)]
        for port in ("counts", "pred", "cycles", "sigs", "spikes"):
            m.d.comb += getattr(self, port).eq(Array(getattr(core, port) for core in self.cores)[rd])
        with m.If(take):
            m.d.sync += rd.eq(Mux(rd == n - 1, 0, rd + 1))
        for k in range(n):
            with m.If(last & (wr == k)):
                m.d.sync += loaded[k].eq(1)
            with m.Elif(take & (rd == k)):
                m.d.sync += loaded[k].eq(0)
        return m

