"""UART host link: checked frames in, one response frame out, and the fc-layer engine behind it.

The link (:class:`HostLink`) turns the UART byte stream into checked request frames, hands each
valid request to an *engine* as a byte stream, buffers the engine's response and sends it back
as a response frame. Any ``wiring.Component`` with the :data:`ENGINE_MEMBERS` interface can be
the engine (the full SNN core can be plugged in the same way as the fc layer here).

Frames (CRC-8: polynomial 0x07, initial value 0, no reflection, no final XOR, "CRC-8/SMBUS";
protocol version :data:`PROTOCOL_VERSION` = 3)::

    request  (host -> board): 0xA5 | SEQ | LEN | CMD | ARG[LEN-1] | CRC8(SEQ, LEN, CMD, ARG)
                              LEN = 1..255 bytes of CMD + ARG
    response (board -> host): 0x5A | SEQ | N_lo | N_hi | STATUS | BODY[N-1] | CRC8(SEQ .. BODY)
                              N = 1 + len(BODY), BODY = the engine's response bytes

SEQ is the host's sequence number (any byte; the host driver counts 1..255 and wraps), echoed
in the response, so that a host that gave up on a request (a timeout) recognises the late
answer as stale and discards it instead of taking it for the answer to its next request. A
response with SEQ 0 answers a request cut short before its SEQ byte (the link never saw one).

Bytes before a sync byte 0xA5 are skipped; after LEN = 0 nothing else is read. A request is
executed only when its CRC matches; otherwise (or when it is cut short, see ``timeout_cycles``,
or has LEN = 0) the board answers with an empty BODY and the reason in STATUS
(:class:`LinkStatus`). A gap of ``timeout_cycles`` inside a request always returns the parser
to looking for a sync byte, so no byte stream can leave it stuck. Bytes that arrive while a
request executes or its response is sent are dropped and flagged in the next STATUS, as are
UART framing errors; the host sends one request and waits for its response (after an error or
a timeout it flushes its input before the next request).

Engine interface (:data:`ENGINE_MEMBERS`)::

    i_req  : In(stream.Signature({data: 8, last: 1}))    CMD, then ARG; last on the final byte
    o_resp : Out(stream.Signature({data: 8, last: 1}))   the engine's response, last on its final byte

The engine must consume the whole request and then end its response (``last``) exactly once per
request; the link accepts response bytes at any time (up to ``max_response`` bytes, more are
dropped and flagged).

The fc-layer engine (:class:`FcEngine`): network 1's fully connected layer (the seed's
28x28-6c5-2s-12c5-2s-10o CNN on DW crossbars, REFERENCES.md section 5: 192 inputs x 10 IF
outputs, ``quantize.snn``) as ``ceil(rows / tile)`` :class:`hdl.crossbar.CrossbarTile` s (the
seed's 32 x 32 arrays) whose column outputs are summed, ``y_j = sum_r rshift_round(acc_rj c_rj,
shift)`` with ``c_rj`` the eq. 12 factor ``1 / (1 + gamma)`` in fixed point, into an
:class:`hdl.neurons.IfNeuronBank` (eq. 8 without the leak, R_mem -> infinity: the DW neuron's
wall position as an integer membrane), with 16-bit saturating spike counters.
Commands (:class:`Cmd`)::

    INFO   (0x00)  -> "S" "T" version rows_lo rows_hi cols tile membrane_bits thr_lo thr_hi max_count, status
    CLEAR  (0x01)  -> status                 zero the accumulators, membranes and counters
    SPIKES (0x02)  ARG = input events: a row index 0..rows-1 is one input spike of the current
                   time step (a row named n times spikes n times; at most max_count times a
                   step, more are ignored and flagged COUNT_OVERFLOW); 0xFF ends the step (the
                   layer integrates it, its IF neurons fire)
                   -> for every 0xFF, the step's output spikes as ceil(cols/8) bytes (bit j =
                   neuron j, little endian), then status. Events after the last 0xFF stay
                   accumulated for the step a later frame ends.
    READ   (0x03)  -> counts (cols x 2 bytes LE, unsigned), membranes (cols x ceil(membrane_bits/8)
                   bytes LE, two's complement), status

The engine's status byte (always its last response byte) holds :class:`EngineStatus` flags.
"""

from __future__ import annotations

import enum

import numpy as np
from amaranth.hdl import Array, Cat, Const, Module, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.checked import CheckedComponent
from hdl.crossbar import CrossbarTile, tile_widths
from hdl.neurons import IfNeuronBank
from hdl.uart import UartRx, UartTx

__all__ = ["BYTE_LAYOUT", "Cmd", "DEFAULT_MAX_COUNT", "ENGINE_MEMBERS", "EngineStatus", "FcEngine", "HostLink",
           "LinkCore", "LinkStatus", "PROTOCOL_VERSION", "REQ_SYNC", "RESP_SYNC", "STEP_END", "crc8", "check_engine"]

PROTOCOL_VERSION = 3   #: 3: max_count in INFO; 2: SEQ in every request and response (1: none)
REQ_SYNC = 0xA5
RESP_SYNC = 0x5A
STEP_END = 0xFF
COUNTER_BITS = 16
#: FcEngine's default ``max_count``: the most spikes per row per step the seed's networks send,
#: 4 with network 2's folded 2 x 2 pooling (``quantize.core.CoreLayer.max_count``), else 1.
DEFAULT_MAX_COUNT = 4

#: One byte of a request or response stream.
BYTE_LAYOUT = data.StructLayout({"data": unsigned(8), "last": unsigned(1)})

#: The members every engine behind :class:`HostLink` has.
ENGINE_MEMBERS = {"i_req": In(stream.Signature(BYTE_LAYOUT)), "o_resp": Out(stream.Signature(BYTE_LAYOUT))}


class Cmd(enum.IntEnum):
    """Commands of :class:`FcEngine` (the first byte of a request)."""

    INFO = 0x00
    CLEAR = 0x01
    SPIKES = 0x02
    READ = 0x03


class LinkStatus(enum.IntFlag):
    """The response frame's STATUS byte (set by :class:`HostLink`)."""

    OK = 0
    CRC = 0x01          #: the request's CRC did not match; not executed
    TIMEOUT = 0x02      #: the request was cut short (a gap longer than timeout_cycles)
    BAD_LENGTH = 0x04   #: LEN = 0
    FRAMING = 0x08      #: a UART stop bit was low since the last response
    DROPPED = 0x10      #: bytes arrived while busy (or a UART overrun) since the last response
    OVERFLOW = 0x20     #: the engine's response exceeded max_response bytes (truncated)


class EngineStatus(enum.IntFlag):
    """The :class:`FcEngine` status byte (the last byte of its response)."""

    OK = 0
    BAD_CMD = 0x01      #: unknown command
    BAD_ARG = 0x02      #: arguments where the command takes none (ignored)
    BAD_ROW = 0x04      #: an event row >= rows and != 0xFF (ignored)
    SATURATED = 0x08    #: a spike counter reached 2**16 - 1 and stopped
    COUNT_OVERFLOW = 0x10   #: a row got more than max_count events in one step (the extra ones ignored)


def crc8(data: bytes, crc: int = 0) -> int:
    """CRC-8/SMBUS (polynomial x^8 + x^2 + x + 1, init 0, MSB first) of ``data``."""
    for b in bytes(data):
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc8_next(crc, byte):
    """The hardware CRC-8 update of one byte (combinational, equal to :func:`crc8`).

    The update is linear over GF(2) in ``c = crc ^ byte``: output bit i is the XOR of the bits
    j of c whose single-bit CRC has bit i set (eight XOR trees, no chain of eight muxes)."""
    c = crc ^ byte
    cols = [_crc8_register(1 << j) for j in range(8)]
    return Cat(*[Cat(*[c[j] for j in range(8) if cols[j] >> i & 1]).xor() for i in range(8)])


def _crc8_register(value: int) -> int:
    """Eight shift-and-reduce steps of the CRC register holding ``value`` (no new input byte)."""
    for _ in range(8):
        value = ((value << 1) ^ 0x07) & 0xFF if value & 0x80 else (value << 1) & 0xFF
    return value


def check_engine(engine) -> None:
    """Raise ValueError unless ``engine`` is a component with the :data:`ENGINE_MEMBERS` interface."""
    members = getattr(getattr(engine, "signature", None), "members", None)
    ok = members is not None and all(name in members and members[name] == want
                                     for name, want in ENGINE_MEMBERS.items())
    if not ok:
        raise ValueError(f"engine must be a wiring.Component with members i_req: In(stream of {{data: 8, last: 1}}) "
                         f"and o_resp: Out(the same), not {type(engine).__name__}")


def _check_link_args(engine, timeout_cycles: int, min_timeout: int, max_response: int) -> None:
    """ValueError (one line) for an engine, timeout or response buffer the link refuses."""
    check_engine(engine)
    if max_response < 2 or max_response & (max_response - 1):
        raise ValueError(f"max_response must be a power of two >= 2, not {max_response!r}")
    if timeout_cycles < min_timeout:
        unit = f"12 bit times = {min_timeout}" if min_timeout > 1 else "1"
        raise ValueError(f"timeout_cycles must be >= {unit}, not {timeout_cycles}")


class LinkCore(CheckedComponent):
    """The link below the UART: request bytes in, response bytes out, the engine behind them.

    :class:`HostLink` is this core between a :class:`hdl.uart.UartRx` and a :class:`hdl.uart.UartTx`;
    the core alone lets a test drive the byte stream directly (one byte a cycle if it likes).

    Parameters
    ----------
    engine : wiring.Component
        With the :data:`ENGINE_MEMBERS` interface.
    timeout_cycles : int
        A request with a gap this long (clock cycles) between two of its bytes is abandoned
        (TIMEOUT) and the parser is back to looking for a sync byte.
    max_response : int
        Response buffer in bytes (a power of two; 512 = one iCE40 block RAM).

    Members
    -------
    i_rx : In(stream.Signature(8))
        Received bytes; always ready (a UART cannot wait).
    rx_framing, rx_overrun : In(1)
        Pulses from the UART receiver, reported as FRAMING / DROPPED in the next STATUS.
    o_tx : Out(stream.Signature(8))
        Response bytes.
    busy : Out(1)
        High from a request's sync byte to the end of its response.
    """

    @classmethod
    def check(cls, engine, *, timeout_cycles: int, max_response: int = 512) -> None:
        _check_link_args(engine, int(timeout_cycles), 1, max_response)

    def __init__(self, engine, *, timeout_cycles: int, max_response: int = 512):
        self.timeout_cycles = int(timeout_cycles)
        self.engine = engine
        self.max_response = int(max_response)
        super().__init__({"i_rx": In(stream.Signature(8)), "rx_framing": In(1), "rx_overrun": In(1),
                          "o_tx": Out(stream.Signature(8)), "busy": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = eng = self.engine

        m.submodules.req_mem = req_mem = memory.Memory(shape=unsigned(8), depth=256, init=[])
        m.submodules.resp_mem = resp_mem = memory.Memory(shape=unsigned(8), depth=self.max_response, init=[])
        req_wr, req_rd = req_mem.write_port(), req_mem.read_port(transparent_for=())
        resp_wr, resp_rd = resp_mem.write_port(), resp_mem.read_port(transparent_for=())
        # Read ports hold their data unless enabled (their enable's reset value is 1).
        m.d.comb += [req_rd.en.eq(0), resp_rd.en.eq(0)]

        seq = Signal(8)               # SEQ of the request, echoed in its response
        length = Signal(8)            # LEN of the request
        idx = Signal(range(self.max_response + 1))
        crc = Signal(8)
        status = Signal(8)            # LinkStatus of the response being built
        sticky = Signal(8)            # FRAMING / DROPPED seen since the last response
        gap = Signal(range(self.timeout_cycles + 1))
        n_resp = Signal(range(self.max_response + 1))
        resp_done = Signal()
        hdr = Signal(range(5))

        byte = self.i_rx.payload
        got = self.i_rx.valid         # the link always takes a received byte at once
        m.d.comb += self.i_rx.ready.eq(1)
        with m.If(self.rx_framing):
            m.d.sync += sticky.eq(sticky | LinkStatus.FRAMING)
        with m.If(self.rx_overrun):
            m.d.sync += sticky.eq(sticky | LinkStatus.DROPPED)

        # The response engine bytes are captured in every state (only EXEC produces them).
        resp = eng.o_resp
        m.d.comb += resp.ready.eq(1)
        with m.If(resp.valid):
            with m.If(n_resp < self.max_response):
                m.d.comb += [resp_wr.addr.eq(n_resp), resp_wr.data.eq(resp.payload.data), resp_wr.en.eq(1)]
                m.d.sync += n_resp.eq(n_resp + 1)
            with m.Else():
                m.d.sync += status.eq(status | LinkStatus.OVERFLOW)
            with m.If(resp.payload.last):
                m.d.sync += resp_done.eq(1)

        tx = self.o_tx
        sending_crc = Signal(8)

        def start_response(flags):
            m.d.sync += [status.eq(sticky | flags), sticky.eq(0), hdr.eq(0)]

        def receive():
            """The gap timer of a receiving state: a request cut short is answered TIMEOUT."""
            m.d.comb += self.busy.eq(1)
            m.d.sync += gap.eq(gap + 1)
            with m.If(~got & (gap == self.timeout_cycles)):
                start_response(LinkStatus.TIMEOUT)
                m.next = "EMPTY"
            with m.If(got):
                m.d.sync += gap.eq(0)

        with m.FSM() as fsm:
            with m.State("IDLE"):
                with m.If(got & (byte == REQ_SYNC)):
                    # SEQ 0 in a response: the request was cut short before its SEQ byte.
                    m.d.sync += [gap.eq(0), seq.eq(0)]
                    m.next = "SEQ"
            with m.State("SEQ"):
                receive()
                with m.If(got):
                    m.d.sync += [seq.eq(byte), crc.eq(_crc8_next(Const(0, 8), byte))]
                    m.next = "LEN"
            with m.State("LEN"):
                receive()
                with m.If(got):
                    m.d.sync += [length.eq(byte), crc.eq(_crc8_next(crc, byte)), idx.eq(0)]
                    with m.If(byte == 0):
                        start_response(LinkStatus.BAD_LENGTH)
                        m.next = "EMPTY"
                    with m.Else():
                        m.next = "BODY"
            with m.State("BODY"):
                receive()
                with m.If(got):
                    m.d.comb += [req_wr.addr.eq(idx), req_wr.data.eq(byte), req_wr.en.eq(1)]
                    m.d.sync += [crc.eq(_crc8_next(crc, byte)), idx.eq(idx + 1)]
                    with m.If(idx == length - 1):
                        m.next = "CRC"
            with m.State("CRC"):
                receive()
                with m.If(got):
                    with m.If(byte == crc):
                        m.d.sync += [idx.eq(0), n_resp.eq(0), resp_done.eq(0), status.eq(0)]
                        m.next = "FETCH"
                    with m.Else():
                        start_response(LinkStatus.CRC)
                        m.next = "EMPTY"
            # Replay the stored request to the engine (a synchronous read: fetch, then offer).
            with m.State("FETCH"):
                m.d.comb += [self.busy.eq(1), req_rd.addr.eq(idx), req_rd.en.eq(1)]
                m.next = "OFFER"
            with m.State("OFFER"):
                m.d.comb += [self.busy.eq(1), eng.i_req.valid.eq(1), eng.i_req.payload.data.eq(req_rd.data),
                             eng.i_req.payload.last.eq(idx == length - 1)]
                with m.If(eng.i_req.ready):
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == length - 1):
                        m.next = "WAIT"
                    with m.Else():
                        m.next = "FETCH"
            with m.State("WAIT"):
                m.d.comb += self.busy.eq(1)
                with m.If(resp_done):
                    m.d.sync += [status.eq(status | sticky), sticky.eq(0), hdr.eq(0)]
                    m.next = "HEADER"
            with m.State("EMPTY"):    # a link error: no engine bytes
                m.d.comb += self.busy.eq(1)
                m.d.sync += n_resp.eq(0)
                m.next = "HEADER"
            # Response: sync, SEQ, N_lo, N_hi, STATUS, then the stored engine bytes, then the CRC.
            with m.State("HEADER"):
                m.d.comb += self.busy.eq(1)
                n = Signal(16)
                m.d.comb += n.eq(n_resp + 1)
                hbyte = Array([Const(RESP_SYNC, 8), seq, n[:8], n[8:16], status])[hdr]
                m.d.comb += [tx.valid.eq(1), tx.payload.eq(hbyte)]
                with m.If(tx.ready):
                    m.d.sync += hdr.eq(hdr + 1)
                    with m.If(hdr == 1):
                        m.d.sync += sending_crc.eq(_crc8_next(Const(0, 8), hbyte))
                    with m.Elif(hdr != 0):
                        m.d.sync += sending_crc.eq(_crc8_next(sending_crc, hbyte))
                    with m.If(hdr == 4):
                        m.d.sync += idx.eq(0)
                        m.next = "SEND_FETCH"
            with m.State("SEND_FETCH"):
                m.d.comb += [self.busy.eq(1), resp_rd.addr.eq(idx), resp_rd.en.eq(1)]
                with m.If(idx == n_resp):
                    m.next = "SEND_CRC"
                with m.Else():
                    m.next = "SEND_BYTE"
            with m.State("SEND_BYTE"):
                m.d.comb += [self.busy.eq(1), tx.valid.eq(1), tx.payload.eq(resp_rd.data)]
                with m.If(tx.ready):
                    m.d.sync += [sending_crc.eq(_crc8_next(sending_crc, resp_rd.data)), idx.eq(idx + 1)]
                    m.next = "SEND_FETCH"
            with m.State("SEND_CRC"):
                m.d.comb += [self.busy.eq(1), tx.valid.eq(1), tx.payload.eq(sending_crc)]
                with m.If(tx.ready):
                    m.next = "IDLE"
        # Bytes received while a request executes or its response is sent are dropped.
        receiving = fsm.ongoing("IDLE") | fsm.ongoing("SEQ") | fsm.ongoing("LEN") | fsm.ongoing("BODY") \
            | fsm.ongoing("CRC")
        with m.If(got & ~receiving):
            m.d.sync += sticky.eq(sticky | LinkStatus.DROPPED)
        return m


class HostLink(CheckedComponent):
    """UART + :class:`LinkCore` + an engine: the board's whole design behind the two UART pins.

    Parameters
    ----------
    engine : wiring.Component
        With the :data:`ENGINE_MEMBERS` interface.
    divisor : int
        Clock cycles per UART bit (:func:`hdl.uart.baud_divisor`).
    timeout_cycles : int, optional
        A request with a gap this long between two of its bytes is abandoned (TIMEOUT); default
        32 byte times (320 bit times).
    max_response : int
        Response buffer in bytes (a power of two; 512 = one iCE40 block RAM).

    Members
    -------
    rx : In(1), tx : Out(1)
        The UART lines.
    busy : Out(1)
        High from a request's sync byte to the end of its response (e.g. for an LED).
    """

    @staticmethod
    def _timeout(divisor: int, timeout_cycles: int | None) -> int:
        """``timeout_cycles``, by default 32 byte times (320 bit times of ``divisor`` cycles)."""
        return int(timeout_cycles if timeout_cycles is not None else 320 * int(divisor))

    @classmethod
    def check(cls, engine, divisor: int, *, timeout_cycles: int | None = None, max_response: int = 512) -> None:
        _check_link_args(engine, cls._timeout(divisor, timeout_cycles), 12 * int(divisor), max_response)

    def __init__(self, engine, divisor: int, *, timeout_cycles: int | None = None, max_response: int = 512):
        self.divisor = int(divisor)
        self.timeout_cycles = self._timeout(divisor, timeout_cycles)
        self.engine = engine
        self.max_response = int(max_response)
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1), "busy": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.uart_rx = urx = UartRx(self.divisor)
        m.submodules.uart_tx = utx = UartTx(self.divisor)
        m.submodules.core = core = LinkCore(self.engine, timeout_cycles=self.timeout_cycles,
                                            max_response=self.max_response)
        m.d.comb += [urx.rx.eq(self.rx), self.tx.eq(utx.tx), self.busy.eq(core.busy),
                     core.rx_framing.eq(urx.framing_error), core.rx_overrun.eq(urx.overrun)]
        wiring.connect(m, urx.o_data, core.i_rx)
        wiring.connect(m, core.o_tx, utx.i_data)
        return m


class FcEngine(CheckedComponent):
    """Network 1's fc layer as an engine for :class:`HostLink` (see the module docstring).

    A SPIKES count n > 1 for a row is the row's index sent n times (``spintwin.host.pack_steps``),
    so the tile accumulators must hold ``max_count`` events per row per step, not one: they are
    sized exactly for it (``hdl.crossbar.tile_widths``: ``max_count x`` the largest positive and
    negative column sums of ``k``, every partial sum lies between them), and the engine counts
    each row's events in the current step (a ``rows x bit_length(max_count)`` memory, zeroed
    after each step in ``rows`` cycles) and ignores and flags (:attr:`EngineStatus.COUNT_OVERFLOW`)
    any event past ``max_count``. So no input can wrap an accumulator silently: a step either
    equals the integer model or is flagged (its result is then the model's with the row's count
    clipped to ``max_count``). A saturating accumulator instead would need a saturation check
    per column per event and its flagged results would match no model; counting a row's events
    costs one small memory and keeps every unflagged step bit-exact. The host driver checks counts
    against the ``max_count`` that INFO reports before it sends anything.

    Parameters
    ----------
    k : int array (rows, cols)
        Signed weight codes (``quantize.snn.QuantLayer.k``); rows <= 255.
    c : int array (R, cols)
        Unsigned scale codes per row tile and column, ``R = ceil(rows / tile)``.
    shift : int
        Right shift (round half up) of each tile's ``acc * c``.
    tile : int
        Crossbar rows per tile.
    threshold : int
        IF threshold (membrane units).
    floor : int or None
        Lower membrane clamp (DW neuron near edge); None: the register minimum.
    membrane_bits : int
        Signed membrane width.
    reset : {"zero", "subtract"}
        DW neuron (back to 0) or CMOS baseline (subtract the threshold).
    max_count : int
        Spikes per row per time step the engine accepts (1..255), :data:`DEFAULT_MAX_COUNT` = 4
        by default (network 2's folded pooling sends counts up to 4; network 1's fc input is
        binary, so 1 would be enough there). Each doubling adds one bit to the tile accumulators.

    Members
    -------
    i_req, o_resp : the :data:`ENGINE_MEMBERS`.
    """

    @classmethod
    def check(cls, k, c, shift: int, tile: int, *, threshold: int, floor: int | None, membrane_bits: int,
              reset: str = "zero", max_count: int = DEFAULT_MAX_COUNT) -> None:
        """ValueError (one line) for weights, tiling, neuron rule or ``max_count`` the engine refuses."""
        k = np.asarray(k, dtype=np.int64)
        c = np.asarray(c, dtype=np.int64)
        problem = None
        if k.ndim != 2 or not 1 <= k.shape[0] <= 255:
            problem = f"k must be (rows, cols) with rows in 1..255, not shape {k.shape}"
        elif not 1 <= tile <= k.shape[0]:
            problem = f"tile must be in 1..rows = {k.shape[0]}, not {tile}"
        elif c.shape != (-(-k.shape[0] // tile), k.shape[1]):
            problem = f"c must be (ceil(rows / tile), cols) = {(-(-k.shape[0] // tile), k.shape[1])}, not {c.shape}"
        elif not 1 <= k.shape[1] <= 64:
            problem = f"cols must be in 1..64, not {k.shape[1]}"
        elif isinstance(max_count, bool) or int(max_count) != max_count or not 1 <= max_count <= 255:
            problem = f"max_count must be an integer 1..255 (one INFO byte), not {max_count!r}"
        if problem:
            raise ValueError(problem)
        # the neuron bank's own rule (its input width does not enter the check)
        IfNeuronBank.check(k.shape[1], membrane_bits, 1, threshold, floor, reset)

    def __init__(self, k, c, shift: int, tile: int, *, threshold: int, floor: int | None, membrane_bits: int,
                 reset: str = "zero", max_count: int = DEFAULT_MAX_COUNT):
        k = np.asarray(k, dtype=np.int64)
        c = np.asarray(c, dtype=np.int64)
        self.k, self.c, self.shift, self.tile = k, c, int(shift), int(tile)
        self.rows, self.cols = k.shape
        self.threshold, self.floor, self.membrane_bits, self.reset = int(threshold), floor, int(membrane_bits), reset
        self.max_count = int(max_count)
        n_tiles = c.shape[0]
        y_width = max(tile_widths(k[r * tile:(r + 1) * tile], c[r], shift, 1, self.max_count)[2]
                      for r in range(n_tiles))
        self.y_bits = y_width + max(0, (n_tiles - 1).bit_length())   # the sum of n_tiles outputs
        self.bank = IfNeuronBank(self.cols, membrane_bits, self.y_bits, threshold, floor, reset)
        # Events carry a count of 1 (a select, no multiplier); repeats of a row add up in the accumulators.
        self.tiles = [CrossbarTile(k[r * tile:(r + 1) * tile], c[r], shift, max_count=self.max_count)
                      for r in range(n_tiles)]
        self.mask_bytes = -(-self.cols // 8)
        self.v_bytes = -(-membrane_bits // 8)
        super().__init__(ENGINE_MEMBERS)

    def info_bytes(self) -> bytes:
        """The INFO response body without the status byte."""
        return bytes([ord("S"), ord("T"), PROTOCOL_VERSION, self.rows & 0xFF, self.rows >> 8, self.cols, self.tile,
                      self.membrane_bits, self.threshold & 0xFF, (self.threshold >> 8) & 0xFF, self.max_count])

    def elaborate(self, platform):
        m = Module()
        tiles = self.tiles
        for r, t in enumerate(tiles):
            m.submodules[f"tile{r}"] = t
        m.submodules.bank = bank = self.bank
        cols, tile = self.cols, self.tile

        req, resp = self.i_req, self.o_resp
        b, last = req.payload.data, req.payload.last
        cmd = Signal(8)
        flags = Signal(8)
        was_last = Signal()       # the 0xFF being processed was the request's last byte
        discard = Signal()        # the tiles' outputs are a flush (CLEAR), not a time step
        idx = Signal(range(max(2 * cols + self.v_bytes * cols, len(self.info_bytes()), self.mask_bytes) + 1))
        mask = Signal(cols)
        counts = Array(Signal(COUNTER_BITS, name=f"count{j}") for j in range(cols))
        vs = Array(Signal(signed(self.membrane_bits), name=f"v{j}") for j in range(cols))

        # Bank results: spikes into the mask and counters, membranes into the shadow registers.
        out = bank.o_spike
        m.d.comb += out.ready.eq(1)
        with m.If(out.valid):
            j = out.payload.neuron
            m.d.sync += vs[j].eq(out.payload.v)
            with m.If(out.payload.spike):
                m.d.sync += mask.eq(mask | (Const(1, cols) << j))
                with m.If(counts[j] == (1 << COUNTER_BITS) - 1):
                    m.d.sync += flags.eq(flags | EngineStatus.SATURATED)
                with m.Else():
                    m.d.sync += counts[j].eq(counts[j] + 1)

        # Tile outputs summed column by column (the tiles run in lockstep; the join is exact anyway).
        all_valid = Cat(t.o_out.valid for t in tiles).all()
        total = Signal(signed(self.y_bits))
        m.d.comb += total.eq(sum(t.o_out.payload.y for t in tiles))
        m.d.comb += [bank.i_in.payload.neuron.eq(tiles[0].o_out.payload.col), bank.i_in.payload.y.eq(total)]
        all_ready = Cat(t.i_event.ready for t in tiles).all()

        # Routing of one event byte to its tile.
        sel = Signal(range(len(tiles)))
        local = Signal(range(tile))
        for r in range(len(tiles)):
            with m.If(b >= r * tile):
                m.d.comb += [sel.eq(r), local.eq(b - r * tile)]
        sel_ready = Array(t.i_event.ready for t in tiles)[sel]

        info = Array(Const(v, 8) for v in self.info_bytes())
        read_bytes = []
        for j in range(cols):
            read_bytes += [counts[j][:8], counts[j][8:16]]
        for j in range(cols):
            wide = vs[j].as_signed()
            ext = Cat(wide, wide[-1].replicate(8 * self.v_bytes - self.membrane_bits))
            read_bytes += [ext[8 * i:8 * (i + 1)] for i in range(self.v_bytes)]
        read_arr = Array(read_bytes)

        # Events of each row in the current step (saturating at max_count), zeroed by a sweep
        # over the rows after every step end and CLEAR; no event is taken while it runs.
        m.submodules.row_counts = cnt_mem = memory.Memory(shape=unsigned(self.max_count.bit_length()),
                                                          depth=self.rows, init=[])
        cnt_wr, cnt_rd = cnt_mem.write_port(), cnt_mem.read_port(transparent_for=())
        m.d.comb += cnt_rd.en.eq(0)       # the read data holds while an event waits for its tile
        looked = Signal()                 # cnt_rd.data is the offered event's row count
        sweeping = Signal()
        sweep_row = Signal(range(self.rows))
        with m.If(sweeping):
            m.d.comb += [cnt_wr.addr.eq(sweep_row), cnt_wr.data.eq(0), cnt_wr.en.eq(1)]
            m.d.sync += sweep_row.eq(sweep_row + 1)
            with m.If(sweep_row == self.rows - 1):
                m.d.sync += sweeping.eq(0)
        full = Signal()
        m.d.comb += full.eq(cnt_rd.data >= self.max_count)

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += req.ready.eq(1)
                with m.If(req.valid):
                    m.d.sync += [cmd.eq(b), flags.eq(0), idx.eq(0)]
                    with m.If(b == Cmd.SPIKES):
                        m.next = "SPIKE_IN"
                        with m.If(last):
                            m.next = "STATUS"
                    with m.Elif(last):
                        m.next = "ACTION"
                    with m.Else():
                        m.next = "DRAIN"
                    with m.If((b != Cmd.SPIKES) & (b != Cmd.INFO) & (b != Cmd.CLEAR) & (b != Cmd.READ)):
                        m.d.sync += flags.eq(EngineStatus.BAD_CMD)
            with m.State("DRAIN"):
                m.d.comb += req.ready.eq(1)
                with m.If(req.valid):
                    with m.If((cmd == Cmd.INFO) | (cmd == Cmd.CLEAR) | (cmd == Cmd.READ)):
                        m.d.sync += flags.eq(flags | EngineStatus.BAD_ARG)
                    with m.If(last):
                        m.next = "ACTION"
            with m.State("ACTION"):
                with m.Switch(cmd):
                    with m.Case(Cmd.INFO):
                        m.next = "INFO"
                    with m.Case(Cmd.READ):
                        m.next = "READ"
                    with m.Case(Cmd.CLEAR):
                        m.d.sync += discard.eq(1)
                        m.next = "CLOSE"
                    with m.Default():
                        m.next = "STATUS"
            with m.State("SPIKE_IN"):
                with m.If(b == STEP_END):
                    m.d.comb += req.ready.eq(1)
                    with m.If(req.valid):
                        m.d.sync += [was_last.eq(last), discard.eq(0)]
                        m.next = "CLOSE"
                with m.Elif(b < self.rows):
                    # First look up the row's count (one cycle), then offer the event: count 0 past max_count.
                    with m.If(req.valid & ~looked & ~sweeping):
                        m.d.comb += [cnt_rd.addr.eq(b), cnt_rd.en.eq(1)]
                        m.d.sync += looked.eq(1)
                    with m.If(looked):
                        m.d.comb += req.ready.eq(sel_ready)
                        for r, t in enumerate(tiles):
                            m.d.comb += [t.i_event.valid.eq(req.valid & (sel == r)),
                                         t.i_event.payload.row.eq(local), t.i_event.payload.count.eq(~full)]
                        with m.If(req.valid & sel_ready):
                            m.d.sync += looked.eq(0)
                            with m.If(full):
                                m.d.sync += flags.eq(flags | EngineStatus.COUNT_OVERFLOW)
                            with m.Else():
                                m.d.comb += [cnt_wr.addr.eq(b), cnt_wr.data.eq(cnt_rd.data + 1), cnt_wr.en.eq(1)]
                            with m.If(last):
                                m.next = "STATUS"
                with m.Else():
                    m.d.comb += req.ready.eq(1)
                    with m.If(req.valid):
                        m.d.sync += flags.eq(flags | EngineStatus.BAD_ROW)
                        with m.If(last):
                            m.next = "STATUS"
            with m.State("CLOSE"):      # a count-0 'last' event to every tile at once
                for t in tiles:
                    m.d.comb += [t.i_event.valid.eq(all_ready), t.i_event.payload.last.eq(1),
                                 t.i_event.payload.count.eq(0)]
                with m.If(all_ready):
                    m.d.sync += [mask.eq(0), sweeping.eq(1), sweep_row.eq(0)]
                    m.next = "COLLECT"
            with m.State("COLLECT"):
                with m.If(discard):     # CLEAR: drain the tiles, then zero everything
                    for t in tiles:
                        m.d.comb += t.o_out.ready.eq(all_valid)
                    with m.If(all_valid & tiles[0].o_out.payload.last):
                        m.d.comb += bank.clear.eq(1)
                        m.d.sync += [c.eq(0) for c in counts]
                        m.d.sync += [v.eq(0) for v in vs]
                        m.next = "STATUS"
                with m.Else():
                    m.d.comb += bank.i_in.valid.eq(all_valid)
                    for t in tiles:
                        m.d.comb += t.o_out.ready.eq(all_valid & bank.i_in.ready)
                    with m.If(out.valid & (out.payload.neuron == cols - 1)):
                        m.d.sync += idx.eq(0)
                        m.next = "MASK"
            with m.State("MASK"):
                padded = Cat(mask, Const(0, 8 * self.mask_bytes - cols))
                m.d.comb += [resp.valid.eq(1), resp.payload.data.eq(padded.word_select(idx, 8))]
                with m.If(resp.ready):
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == self.mask_bytes - 1):
                        m.next = "SPIKE_END"
            with m.State("SPIKE_END"):
                with m.If(was_last):
                    m.next = "STATUS"
                with m.Else():
                    m.next = "SPIKE_IN"
            with m.State("INFO"):
                m.d.comb += [resp.valid.eq(1), resp.payload.data.eq(info[idx])]
                with m.If(resp.ready):
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == len(self.info_bytes()) - 1):
                        m.next = "STATUS"
            with m.State("READ"):
                m.d.comb += [resp.valid.eq(1), resp.payload.data.eq(read_arr[idx])]
                with m.If(resp.ready):
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == len(read_bytes) - 1):
                        m.next = "STATUS"
            with m.State("STATUS"):
                m.d.comb += [resp.valid.eq(1), resp.payload.data.eq(flags), resp.payload.last.eq(1)]
                with m.If(resp.ready):
                    m.next = "IDLE"
        return m
