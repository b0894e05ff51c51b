"""UART (8N1) receiver and transmitter for the board host link.

Written here because the Amaranth project's ``amaranth-stdio`` has no release on PyPI (the name
there is only a placeholder package). Both blocks run from the design's ``sync`` domain; the
bit time is ``divisor`` clock cycles (:func:`baud_divisor` picks it from the clock frequency and
the baud rate). Frames are 8N1: a start bit (0), eight data bits LSB first, one stop bit (1);
the idle line is 1.

``UartRx`` synchronises the line with two flip-flops, finds the falling edge of a start bit,
checks the start bit again half a bit later (a shorter low pulse is a glitch and is ignored),
then samples every data bit and the stop bit in the middle of its bit time. A low stop bit is a
framing error: ``framing_error`` pulses, the byte is dropped, and the receiver waits for the line
to go high again (so a held-low line, a "break", gives one error, not one per bit time). A UART
cannot wait, so the received byte is offered on ``o_data`` and replaced by the next one if it is
not taken within a byte time; ``overrun`` pulses when that happens.

``UartTx`` sends each byte it accepts on ``i_data``; ``i_data.ready`` is high while it is idle.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import stream
from amaranth.lib.wiring import In, Out

from hdl.checked import CheckedComponent

__all__ = ["UartRx", "UartTx", "baud_divisor"]

MIN_DIVISOR = 4   #: fewest clock cycles per bit: the receiver samples at divisor // 2


def _check_divisor(divisor) -> int:
    """``divisor`` as an int; a ValueError unless it is an integer >= :data:`MIN_DIVISOR`."""
    if isinstance(divisor, bool) or int(divisor) != divisor or divisor < MIN_DIVISOR:
        raise ValueError(f"divisor (clock cycles per bit) must be an integer >= {MIN_DIVISOR}, not {divisor!r}")
    return int(divisor)


def baud_divisor(clk_hz: float, baud: float, max_error: float = 0.02) -> int:
    """Clock cycles per bit, ``round(clk_hz / baud)``.

    Parameters
    ----------
    clk_hz : float
        Design clock frequency in Hz.
    baud : float
        Line rate in bits per second.
    max_error : float
        Largest accepted relative baud error. Both ends resynchronise on each start bit and
        sample the stop bit 9.5 bit times later, so half a bit of drift over 9.5 bits (5 %) is
        the hard limit; 2 % leaves room for the host's own clock error.

    Raises
    ------
    ValueError
        The divisor is below :data:`MIN_DIVISOR` or the rate error exceeds ``max_error``.
    """
    if not clk_hz > 0 or not baud > 0:
        raise ValueError(f"clk_hz and baud must be > 0, not {clk_hz!r} and {baud!r}")
    div = int(round(clk_hz / baud))
    if div < MIN_DIVISOR:
        raise ValueError(f"clk_hz / baud must be >= {MIN_DIVISOR} clock cycles per bit, not {clk_hz / baud:g}")
    err = abs(clk_hz / div - baud) / baud
    if err > max_error:
        raise ValueError(f"baud error must be <= {max_error:g}, not {err:.4f} ({clk_hz:g} Hz / {div} "
                         f"= {clk_hz / div:g} baud for {baud:g})")
    return div


class UartRx(CheckedComponent):
    """8N1 receiver.

    Parameters
    ----------
    divisor : int
        Clock cycles per bit (>= 4).

    Members
    -------
    rx : In(1)
        The serial line (asynchronous; synchronised inside).
    o_data : Out(stream.Signature(8))
        Received bytes (held until taken or replaced by the next byte).
    framing_error : Out(1)
        One-cycle pulse: a byte's stop bit was 0 (the byte is dropped).
    overrun : Out(1)
        One-cycle pulse: a byte arrived while the previous one was still not taken.
    """

    @classmethod
    def check(cls, divisor: int) -> int:
        return _check_divisor(divisor)

    def __init__(self, divisor: int):
        self.divisor = self.checked
        super().__init__({
            "rx": In(1, init=1),
            "o_data": Out(stream.Signature(8)),
            "framing_error": Out(1),
            "overrun": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        d = self.divisor
        sync1 = Signal(init=1)
        line = Signal(init=1)
        m.d.sync += [sync1.eq(self.rx), line.eq(sync1)]

        timer = Signal(range(d))
        bit = Signal(range(8))
        shreg = Signal(8)
        out = self.o_data
        with m.If(out.valid & out.ready):
            m.d.sync += out.valid.eq(0)

        with m.FSM():
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += timer.eq(d // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(line):
                    m.next = "IDLE"                   # a glitch, not a start bit
                with m.Else():
                    m.d.sync += [timer.eq(d - 1), bit.eq(0)]
                    m.next = "DATA"
            with m.State("DATA"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [shreg.eq(Cat(shreg[1:], line)), timer.eq(d - 1), bit.eq(bit + 1)]
                    with m.If(bit == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(line):
                    m.d.sync += [out.payload.eq(shreg), out.valid.eq(1)]
                    m.d.comb += self.overrun.eq(out.valid & ~out.ready)
                    m.next = "IDLE"
                with m.Else():
                    m.d.comb += self.framing_error.eq(1)
                    m.next = "BREAK"
            with m.State("BREAK"):
                with m.If(line):
                    m.next = "IDLE"
        return m


class UartTx(CheckedComponent):
    """8N1 transmitter.

    Parameters
    ----------
    divisor : int
        Clock cycles per bit (>= 4).

    Members
    -------
    i_data : In(stream.Signature(8))
        Bytes to send; ``ready`` while idle.
    tx : Out(1)
        The serial line (idle high).
    """

    @classmethod
    def check(cls, divisor: int) -> int:
        return _check_divisor(divisor)

    def __init__(self, divisor: int):
        self.divisor = self.checked
        super().__init__({
            "i_data": In(stream.Signature(8)),
            "tx": Out(1, init=1),
        })

    def elaborate(self, platform):
        m = Module()
        d = self.divisor
        frame = Signal(10, init=0x3FF)        # stop, data[7:0], start; shifted out LSB first
        left = Signal(range(11))               # bits still to send
        timer = Signal(range(d))
        m.d.comb += [self.tx.eq(frame[0]), self.i_data.ready.eq(left == 0)]
        with m.If(self.i_data.valid & self.i_data.ready):
            m.d.sync += [frame.eq(Cat(Const(0, 1), self.i_data.payload, Const(1, 1))),
                         left.eq(10), timer.eq(d - 1)]
        with m.Elif(left != 0):
            with m.If(timer != 0):
                m.d.sync += timer.eq(timer - 1)
            with m.Else():
                m.d.sync += [frame.eq(Cat(frame[1:], Const(1, 1))), left.eq(left - 1), timer.eq(d - 1)]
        return m
