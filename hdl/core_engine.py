"""The SNN inference core (:class:`hdl.core.SnnCore`) as an engine behind the UART host link.

:class:`CoreEngine` has the link's byte-stream interface (:data:`hdl.link.ENGINE_MEMBERS`), so
``HostLink(CoreEngine(net), divisor)`` is a board design that classifies the host's images:
the host sends an image's input codes, its encoder seeds and the number of time steps; the
board runs the core and answers with the class counts, the decision and the cycle count. The
frames, CRC, sequence numbers and link status are the link's (``hdl/link.py``, protocol
version :data:`hdl.link.PROTOCOL_VERSION`); this module defines the engine's commands (the
first byte of a request; the fc engine's commands 0x01..0x03 are not among them, so a host
that talks to the wrong board gets BAD_CMD, never a misread answer). Multi-byte fields are
little endian. Host side: ``spintwin.core_board.CoreBoard``.

Commands (:class:`CoreCmd`)::

    INFO   (0x00)  -> "S" "C" version pixels[4] input_bits classes[2] net_id[4], status
                   pixels = H W C of the input, net_id = :func:`network_id` (CRC-32 of the
                   integer network: the host checks the board runs the network it computes
                   codes for)
    IMAGE  (0x10)  ARG = seed0[4] seed1[4] steps[2] codes...
                   starts a new image: the encoder banks' states (``quantize.snn.encoder_seeds``,
                   31 and 29 bits) and the time steps (1..65535), then the first pixel codes
    PIXELS (0x11)  ARG = codes...   more codes of the image an IMAGE started
    RESULT (0x12)  -> the result of the last image again (after a lost answer), status

A code is one byte (``input_bits`` <= 8) or two (low byte first; ``input_bits`` 9..16), its
``input_bits`` low bits used, in raster order ``(y, x, c)``, channel fastest (the order of
``quantize.snn.pixel_codes(cfg, image).reshape(-1)``). An image may straddle any number of
frames. The frame that brings the image's last code is answered, when the core is done, with
the result::

    counts[2 classes] pred[2] cycles[4], status

(counts: output spikes per class, 16 bits each; pred: the decided class; cycles: the core's
cycles for the image); every other IMAGE or PIXELS frame is answered with the status byte alone.
Codes after the image's last are ignored (EXTRA). The status byte (the response's last byte)
holds :class:`CoreStatus` flags; an IMAGE with fewer than 10 argument bytes or with steps = 0 is
BAD_ARG and starts nothing (an image in progress is abandoned), PIXELS with no image started is
NO_IMAGE, RESULT while the core holds no result (before the first image, or once the
next image's first beat went in) is NO_IMAGE (status alone). INFO and RESULT with
arguments answer BAD_ARG alone.

The engine hands a beat of :data:`hdl.core.PIX_PER_BEAT` codes to the core when it is full or
holds the image's last code, on the core's ``pix_ready``; it waits for ``done`` to fall (the
core clears it on a beat) and rise again, so it relies on the core's handshakes, not on its
latency. It keeps the seeds and steps on the core's ports from the IMAGE to the end of the run.
"""

from __future__ import annotations

import enum
import zlib

import numpy as np
from amaranth.hdl import Array, Cat, Const, Module, Signal

from hdl.checked import CheckedComponent
from hdl.core import COUNT_BITS, PIX_PER_BEAT, SnnCore, check_core, layer_widths
from hdl.link import ENGINE_MEMBERS, PROTOCOL_VERSION
from quantize.snn import ENCODER_WIDTHS, QuantNetwork

__all__ = ["CoreCmd", "CoreEngine", "CoreStatus", "HEADER_BYTES", "MAGIC", "code_bytes", "memory_bits", "network_id",
           "result_bytes"]

#: INFO's first two bytes: a core engine ("SC"; the fc engine answers "ST").
MAGIC = b"SC"
#: IMAGE's fixed arguments: seed0[4] seed1[4] steps[2].
HEADER_BYTES = 10
_SEED_BYTES = 4


class CoreCmd(enum.IntEnum):
    """Commands of :class:`CoreEngine` (the first byte of a request)."""

    INFO = 0x00
    IMAGE = 0x10
    PIXELS = 0x11
    RESULT = 0x12


class CoreStatus(enum.IntFlag):
    """The :class:`CoreEngine` status byte (the last byte of its response)."""

    OK = 0
    BAD_CMD = 0x01      #: unknown command (its arguments ignored)
    BAD_ARG = 0x02      #: IMAGE too short or steps = 0 (nothing started); INFO / RESULT with arguments
    NO_IMAGE = 0x04     #: PIXELS without an image started; RESULT while the core holds no result
    EXTRA = 0x08        #: codes after the image's last (ignored)


def code_bytes(input_bits: int) -> int:
    """Bytes per input code on the link: 1 up to 8 bits, else 2."""
    return 1 if input_bits <= 8 else 2


def result_bytes(classes: int) -> int:
    """Length of a result (counts, pred, cycles) in bytes, without the status byte."""
    return 2 * classes + 2 + 4


def network_id(net: QuantNetwork) -> int:
    """CRC-32 (zlib) of the integer network the core is built from: every core layer's kind,
    geometry, weight and scale codes, shift and bias codes, the neuron constants and the input
    format. Host and board compute it from the same ``QuantNetwork``; INFO reports the board's."""
    from quantize.core import core_layers

    crc = 0

    def add(*values):
        nonlocal crc
        for v in values:
            a = np.asarray(v if v is not None else -1, dtype=np.int64)
            crc = zlib.crc32(np.ascontiguousarray(a).tobytes(), zlib.crc32(str(a.shape).encode(), crc))

    cfg = net.cfg
    crc = zlib.crc32(cfg.kind.encode(), crc)
    add(net.input_shape, net.classes, cfg.input_bits, cfg.membrane_bits, net.threshold, net.floor, net.vmax)
    if net.lut is not None:
        add(net.lut, net.lut_shift, cfg.lut_addr_bits, cfg.lut_bits, cfg.seed)
    for L in core_layers(net):
        crc = zlib.crc32(L.kind.encode(), crc)
        add(L.in_shape, L.k, L.c, L.shift, L.bias, L.leak_shift)
    return crc & 0xFFFFFFFF


def memory_bits(net: QuantNetwork) -> int:
    """Bits of the memories of ``net``'s core (pixel buffer, per layer the weight ROM, the
    accumulator RAM and, for IF layers of more than one position, the membrane RAM), as
    ``hdl.core`` sizes them: what block RAM or LUTs must hold (a lower bound of the design's
    storage). Computed from the network alone (``hdl.core.check_core``), no hardware built."""
    layers = check_core(net)
    b = net.cfg.input_bits
    bits = (-(-int(np.prod(net.input_shape)) // PIX_PER_BEAT) + 1) * PIX_PER_BEAT * b
    stochastic = net.lut is not None      # as hdl.core: p-bit layers keep no membrane RAM
    for L in layers:
        w = layer_widths(L)
        bits += max(2, L.rows) * L.n * w["kw"] + max(2, L.positions * L.tiles) * L.n * w["aw"]
        if not stochastic and L.positions > 1:
            bits += L.positions * L.n * net.cfg.membrane_bits
    return bits


class CoreEngine(CheckedComponent):
    """:class:`hdl.core.SnnCore` of ``net`` behind the :data:`hdl.link.ENGINE_MEMBERS` interface
    (commands and formats in the module docstring).

    Parameters
    ----------
    net : QuantNetwork
        Any network the core runs (``hdl.core.check_core``; a refusal is a ValueError, one line).
    max_response : int
        The link's response buffer (bytes); a result that does not fit is refused (ValueError).

    Attributes
    ----------
    core : SnnCore
    pixels, classes, input_bits, net_id : int
    """

    @classmethod
    def check(cls, net: QuantNetwork, *, max_response: int = 512):
        """Refuse (ValueError, one line) a network the core cannot run or whose answer does not
        fit the link's response buffer; before the object exists (``hdl.checked``)."""
        check_core(net)
        if 1 + result_bytes(net.classes) > max_response:
            raise ValueError(f"{net.classes} classes need a {1 + result_bytes(net.classes)}-byte answer; the "
                             f"link's response buffer holds {max_response}")

    def __init__(self, net: QuantNetwork, *, max_response: int = 512):
        self.net = net
        self.core = SnnCore(net)
        self.pixels = self.core.pixels
        self.classes = net.classes
        self.input_bits = net.cfg.input_bits
        self.net_id = network_id(net)
        super().__init__(dict(ENGINE_MEMBERS))

    def memory_bits(self) -> int:
        """Bits of the core's memories (pixel buffer, per layer the weight ROM, the accumulator
        RAM and, for IF layers of more than one position, the membrane RAM), as ``hdl.core``
        sizes them: what block RAM or LUTs must hold (a lower bound of the design's storage)."""
        return memory_bits(self.net)

    def multipliers(self) -> int:
        """Multipliers of the core's datapath: one per column of every layer (the accumulator
        times its column's scale code at the readout, ``hdl.core``), each by a constant when
        the layer has one row tile."""
        return sum(L.n for L in self.core.layers)

    def info_bytes(self) -> bytes:
        """INFO's answer without the status byte."""
        return (MAGIC + bytes([PROTOCOL_VERSION]) + self.pixels.to_bytes(4, "little") + bytes([self.input_bits])
                + self.classes.to_bytes(2, "little") + self.net_id.to_bytes(4, "little"))

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        req, resp = self.i_req, self.o_resp
        b, pixels = self.input_bits, self.pixels
        cb = code_bytes(b)

        byte = req.payload.data
        header = Signal(8 * HEADER_BYTES)
        hdr_n = Signal(range(HEADER_BYTES + 1))
        seed0, seed1 = Signal(ENCODER_WIDTHS[0]), Signal(ENCODER_WIDTHS[1])
        steps = Signal(COUNT_BITS)
        m.d.comb += [core.seed0.eq(seed0), core.seed1.eq(seed1), core.steps.eq(steps)]

        beat = Signal(PIX_PER_BEAT * b)
        lane = Signal(range(PIX_PER_BEAT))
        pix_n = Signal(range(pixels + 1))       # codes of the image received so far
        low = Signal(8)                         # a two-byte code's low byte
        half = Signal()                         # the low byte is in
        have_image = Signal()                   # an IMAGE started and its last code is still to come
        complete = Signal()                     # this request brought the image's last code
        req_over = Signal()                     # this request's last byte is consumed
        flags = Signal(8)
        idx = Signal(range(max(len(self.info_bytes()), result_bytes(self.classes)) + 1))

        info = Array(Const(v, 8) for v in self.info_bytes())
        pred16 = Cat(core.pred, Const(0, 16 - len(core.pred))) if len(core.pred) < 16 else core.pred[:16]
        result = Cat(core.counts, pred16, core.cycles)
        n_result = result_bytes(self.classes)

        def finish_request(last):
            """After a byte: the status alone on ``last``, else keep draining."""
            with m.If(last):
                m.next = "STATUS"
            with m.Else():
                m.next = "DRAIN"

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += req.ready.eq(1)
                with m.If(req.valid):
                    last = req.payload.last
                    m.d.sync += [flags.eq(0), complete.eq(0), req_over.eq(last), idx.eq(0), hdr_n.eq(0)]
                    with m.Switch(byte):
                        with m.Case(CoreCmd.INFO):
                            with m.If(last):
                                m.next = "INFO"
                            with m.Else():
                                m.d.sync += flags.eq(CoreStatus.BAD_ARG)
                                m.next = "DRAIN"
                        with m.Case(CoreCmd.RESULT):
                            with m.If(last & core.done):
                                m.next = "RESULT"
                            with m.Elif(last):
                                m.d.sync += flags.eq(CoreStatus.NO_IMAGE)
                                m.next = "STATUS"
                            with m.Else():
                                m.d.sync += flags.eq(CoreStatus.BAD_ARG)
                                m.next = "DRAIN"
                        with m.Case(CoreCmd.IMAGE):
                            m.d.sync += have_image.eq(0)     # a new image abandons one in progress
                            with m.If(last):
                                m.d.sync += flags.eq(CoreStatus.BAD_ARG)
                                m.next = "STATUS"
                            with m.Else():
                                m.next = "HEADER"
                        with m.Case(CoreCmd.PIXELS):
                            with m.If(~have_image):
                                m.d.sync += flags.eq(CoreStatus.NO_IMAGE)
                                finish_request(last)
                            with m.Elif(last):
                                m.next = "STATUS"
                            with m.Else():
                                m.next = "CODES"
                        with m.Default():
                            m.d.sync += flags.eq(CoreStatus.BAD_CMD)
                            finish_request(last)
            with m.State("HEADER"):
                m.d.comb += req.ready.eq(1)
                with m.If(req.valid):
                    new = Cat(header[8:], byte)
                    m.d.sync += [header.eq(new), hdr_n.eq(hdr_n + 1), req_over.eq(req.payload.last)]
                    with m.If(hdr_n == HEADER_BYTES - 1):
                        st = new[8 * 2 * _SEED_BYTES:]
                        with m.If(st == 0):
                            m.d.sync += flags.eq(CoreStatus.BAD_ARG)
                            finish_request(req.payload.last)
                        with m.Else():
                            m.d.sync += [seed0.eq(new[:ENCODER_WIDTHS[0]]),
                                         seed1.eq(new[8 * _SEED_BYTES:8 * _SEED_BYTES + ENCODER_WIDTHS[1]]),
                                         steps.eq(st), have_image.eq(1), pix_n.eq(0), lane.eq(0), half.eq(0),
                                         beat.eq(0)]
                            with m.If(req.payload.last):
                                m.next = "STATUS"
                            with m.Else():
                                m.next = "CODES"
                    with m.Elif(req.payload.last):
                        m.d.sync += flags.eq(CoreStatus.BAD_ARG)
                        m.next = "STATUS"
            with m.State("CODES"):
                m.d.comb += req.ready.eq(1)
                with m.If(req.valid):
                    last = req.payload.last
                    m.d.sync += req_over.eq(last)
                    if cb == 1:
                        code, got_code = byte[:b], Const(1)
                    else:
                        code, got_code = Cat(low, byte)[:b], half
                        m.d.sync += [low.eq(byte), half.eq(~half)]
                    with m.If(got_code):
                        m.d.sync += [beat.word_select(lane, b).eq(code), lane.eq(lane + 1), pix_n.eq(pix_n + 1)]
                        final = pix_n == pixels - 1
                        with m.If(final):
                            m.d.sync += [complete.eq(1), have_image.eq(0)]
                        with m.If(final | (lane == PIX_PER_BEAT - 1)):
                            m.next = "BEAT"
                        with m.Elif(last):
                            m.next = "STATUS"
                    with m.Elif(last):
                        m.next = "STATUS"
            with m.State("BEAT"):
                m.d.comb += [core.pix_valid.eq(1), core.pix_data.eq(beat)]
                with m.If(core.pix_ready):
                    m.d.sync += [beat.eq(0), lane.eq(0)]
                    with m.If(complete & req_over):
                        m.next = "RUN"
                    with m.Elif(complete):
                        m.next = "DRAIN"
                    with m.Elif(req_over):
                        m.next = "STATUS"
                    with m.Else():
                        m.next = "CODES"
            with m.State("DRAIN"):      # the rest of a request: ignored (flagged EXTRA after an image's last code)
                m.d.comb += req.ready.eq(1)
                with m.If(req.valid):
                    with m.If(complete):
                        m.d.sync += flags.eq(flags | CoreStatus.EXTRA)
                    with m.If(req.payload.last):
                        with m.If(complete):
                            m.next = "RUN"
                        with m.Else():
                            m.next = "STATUS"
            with m.State("RUN"):        # the core clears done on the image's first beat ...
                with m.If(~core.done):
                    m.next = "WAIT"
            with m.State("WAIT"):       # ... and sets it when the image's result is ready
                with m.If(core.done):
                    m.d.sync += idx.eq(0)
                    m.next = "RESULT"
            with m.State("RESULT"):
                m.d.comb += [resp.valid.eq(1), resp.payload.data.eq(result.word_select(idx, 8))]
                with m.If(resp.ready):
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == n_result - 1):
                        m.next = "STATUS"
            with m.State("INFO"):
                m.d.comb += [resp.valid.eq(1), resp.payload.data.eq(info[idx])]
                with m.If(resp.ready):
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == len(self.info_bytes()) - 1):
                        m.next = "STATUS"
            with m.State("STATUS"):
                m.d.comb += [resp.valid.eq(1), resp.payload.data.eq(flags), resp.payload.last.eq(1)]
                with m.If(resp.ready):
                    m.next = "IDLE"
        return m
