"""Host-side driver of the board's UART link (``hdl.link``): what a user runs against a real board.

The driver talks to any object with ``read(n) -> bytes`` and ``write(data)`` (a
``serial.Serial`` opened by :meth:`BoardLink.open`, or a simulated port in the tests); ``read``
may return fewer bytes than asked when its timeout expires, which ends in a :class:`HostError`.

Example (an iCEBreaker programmed by ``spintwin build --board icebreaker``)::

    from spintwin.host import FcBoard
    with FcBoard.open("/dev/ttyUSB1") as board:
        print(board.info())
        board.clear()
        out = board.run(spike_trains)          # bool (steps, 192) -> output spikes (steps, 10)
        counts, membranes = board.read()

The frame format (protocol version 3: a sequence number in every request, echoed in its
response; INFO reports the engine's ``max_count``), the commands and the status flags are
documented in ``hdl/link.py``. :meth:`FcBoard.run` refuses (ValueError, nothing sent) a count
above the board's ``max_count``, the most spikes per row per step its accumulators hold. After a
timeout or a damaged frame the driver flushes its input and discards answers that carry an
older sequence number, so a late answer is never taken for the answer to the next request.
"""

from __future__ import annotations

import numpy as np

from hdl.link import PROTOCOL_VERSION, REQ_SYNC, RESP_SYNC, STEP_END, Cmd, EngineStatus, LinkStatus, crc8
from spinbase.errors import SpintwinError

__all__ = ["BoardLink", "FcBoard", "HostError", "MAX_ARGS", "MAX_ROWS", "encode_request", "flag_names", "pack_steps"]

MAX_ARGS = 254          #: argument bytes per request (LEN = 1 + args <= 255)
MAX_ROWS = 255          #: input rows a SPIKES event byte can name (0..254; 0xFF = STEP_END)
_MAX_SKIP = 16384       #: bytes skipped (garbage and stale frames) while looking for the response
_FLUSH_READS = 64       #: reads of up to 4096 bytes when flushing a port without reset_input_buffer


class HostError(SpintwinError):
    """The board did not answer, answered a damaged frame, or reported an error (one line)."""


def encode_request(cmd: int, args: bytes = b"", seq: int = 1) -> bytes:
    """One request frame: ``0xA5 | SEQ | LEN | CMD | ARGS | CRC8(SEQ, LEN, CMD, ARGS)``."""
    args = bytes(args)
    if len(args) > MAX_ARGS:
        raise ValueError(f"args must be at most {MAX_ARGS} bytes, not {len(args)}")
    if not 0 <= int(cmd) <= 255:
        raise ValueError(f"cmd must be a byte 0..255, not {cmd!r}")
    if not 0 <= int(seq) <= 255:
        raise ValueError(f"seq must be a byte 0..255, not {seq!r}")
    body = bytes([int(seq), 1 + len(args), int(cmd)]) + args
    return bytes([REQ_SYNC]) + body + bytes([crc8(body)])


def pack_steps(spikes, rows: int, max_count: int | None = None) -> list[bytes]:
    """SPIKES argument blocks for input spike counts ``spikes`` (steps, rows).

    Every step becomes its active row indices (a row repeated ``count`` times) and an 0xFF;
    the byte string is cut into blocks of at most :data:`MAX_ARGS` bytes (a step may straddle
    two blocks: the board keeps its events accumulated until the 0xFF). A row index is one
    byte and 0xFF ends a step, so ``rows`` is at most :data:`MAX_ROWS` = 255 (rows 0..254).
    With ``max_count`` (the board's, from INFO) a larger count is a ValueError: the engine
    would ignore the spikes past it and flag the step.
    """
    if isinstance(rows, bool) or int(rows) != rows or not 1 <= rows <= MAX_ROWS:
        raise ValueError(f"rows must be 1..{MAX_ROWS} (a row index is one byte and 0x{STEP_END:02X} ends a step), "
                         f"not {rows!r}")
    s = np.asarray(spikes)
    if s.ndim != 2 or s.shape[1] != rows:
        raise ValueError(f"spikes must be (steps, rows={rows}), not shape {s.shape}")
    if s.size and (s.dtype.kind not in "biu" or s.min() < 0):
        raise ValueError("spikes must be non-negative integer (or bool) counts")
    if max_count is not None and s.size and s.max() > max_count:
        t, r = np.argwhere(s > max_count)[0]
        raise ValueError(f"spikes has a count of {int(s[t, r])} (step {t}, row {r}); the board takes at most "
                         f"max_count = {max_count} spikes per row per step")
    stream = bytearray()
    for step in s.astype(np.int64):
        stream += bytes(np.repeat(np.arange(rows), step).tolist())
        stream.append(STEP_END)
    return [bytes(stream[i:i + MAX_ARGS]) for i in range(0, len(stream), MAX_ARGS)]


def flag_names(kind, value: int) -> str:
    """The names of the flags of enum ``kind`` set in status byte ``value``, joined by "|" ("OK" for none)."""
    names = [f.name for f in kind if f.value and value & f.value]
    return "|".join(names) or "OK"


class BoardLink:
    """Request/response over a byte port.

    Every request carries a sequence number (1..255, then 1 again) that the board echoes;
    :meth:`request` discards responses with another number (late answers to requests it gave up
    on). After any error it flushes the port's input before the next request:
    ``reset_input_buffer()`` when the port has it, otherwise reads until nothing comes (with
    the port's ``timeout`` set to ``flush_timeout_s`` while it does, when it has one).

    Parameters
    ----------
    port : object
        With ``read(n) -> bytes`` and ``write(data)``; closed by :meth:`close` when it has
        ``close()``.
    max_response : int
        Largest response N (1 + engine bytes) accepted; a longer header is a damaged frame.
        The board's buffer (``hdl.link.HostLink``'s ``max_response``) is 512 by default.
    flush_timeout_s : float
        Read timeout while flushing a port without ``reset_input_buffer``.
    """

    def __init__(self, port, *, max_response: int = 4096, flush_timeout_s: float = 0.05):
        if not (hasattr(port, "read") and hasattr(port, "write")):
            raise ValueError(f"port must have read(n) and write(data), not {type(port).__name__}")
        self.port = port
        self.max_response = int(max_response)
        self.flush_timeout_s = float(flush_timeout_s)
        self.seq = 0                # the last sequence number sent
        self._stale = False         # an error happened: flush the input before the next request

    @classmethod
    def open(cls, device: str, baud: int = 115200, timeout_s: float = 2.0, **kwargs):
        """Open a serial device (pyserial) at ``baud`` 8N1 with a read timeout of ``timeout_s``."""
        try:
            import serial
        except ImportError:
            raise HostError("pyserial is not installed (pip install pyserial)") from None
        try:
            return cls(serial.Serial(device, baud, timeout=timeout_s), **kwargs)
        except (serial.SerialException, OSError, ValueError) as e:
            raise HostError(f"cannot open {device}: {' '.join(str(e).split())}") from None

    def close(self):
        close = getattr(self.port, "close", None)
        if close:
            close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _error(self, message: str) -> HostError:
        """A HostError; the input is flushed before the next request (late or partial frames)."""
        self._stale = True
        return HostError(message)

    def flush(self) -> None:
        """Discard every byte waiting in the port's input."""
        reset = getattr(self.port, "reset_input_buffer", None)
        if callable(reset):
            reset()
        else:
            old = getattr(self.port, "timeout", None)
            short = isinstance(old, (int, float)) and not isinstance(old, bool)
            if short:
                self.port.timeout = min(old, self.flush_timeout_s)
            try:
                for _ in range(_FLUSH_READS):
                    if not self.port.read(4096):
                        break
            finally:
                if short:
                    self.port.timeout = old
        self._stale = False

    def _read(self, n: int, what: str) -> bytes:
        got = b""
        while len(got) < n:
            chunk = self.port.read(n - len(got))
            if not chunk:
                raise self._error(f"no answer from the board while reading {what} ({len(got)} of {n} bytes)")
            got += chunk
        return got

    def request(self, cmd: int, args: bytes = b"", *, check: bool = True) -> tuple[int, bytes]:
        """Send one request and return ``(link_status, engine_bytes)`` of the response that
        carries its sequence number.

        With ``check`` a link status other than OK raises :class:`HostError` naming the flags.
        A damaged response (bad CRC, impossible length) always raises.
        """
        if self._stale:
            self.flush()
        self.seq = self.seq % 255 + 1
        self.port.write(encode_request(cmd, args, self.seq))
        status, body = self.read_response(self.seq)
        if check and status:
            raise self._error(f"the board reported link status 0x{status:02X} ({flag_names(LinkStatus, status)})")
        return status, body

    #: The engine's status flags (an ``enum.IntFlag``; the last byte of every engine answer).
    STATUS = None

    def command(self, cmd, args: bytes = b"") -> bytes:
        """One engine command (an ``enum.IntEnum`` member): its response bytes without the status
        byte (HostError on any link or engine status other than OK, named by :attr:`STATUS`)."""
        _, body = self.request(cmd, args)
        if not body:
            raise self._error(f"empty engine response to {cmd.name}")
        if body[-1]:
            raise self._error(f"the engine reported status 0x{body[-1]:02X} ({flag_names(self.STATUS, body[-1])}) "
                              f"for {cmd.name}")
        return body[:-1]

    def read_response(self, seq: int | None = None) -> tuple[int, bytes]:
        """Read one response frame; return ``(link_status, engine_bytes)`` (HostError if damaged
        or missing). With ``seq``, frames carrying another sequence number are discarded and
        reading goes on. For a request written to the port by hand."""
        skipped = 0
        while True:
            while self._read(1, "the response sync byte")[0] != RESP_SYNC:
                skipped += 1
                if skipped > _MAX_SKIP:
                    raise self._error(f"no response sync byte 0x{RESP_SYNC:02X} in {_MAX_SKIP} bytes")
            head = self._read(4, "the response header")
            n = head[1] | head[2] << 8
            if not 1 <= n <= self.max_response:
                raise self._error(f"response frame with length {n} (expected 1..{self.max_response})")
            rest = self._read(n - 1 + 1, "the response body")
            body, crc = rest[:-1], rest[-1]
            if crc8(head + body) != crc:
                raise self._error(f"response CRC mismatch (got 0x{crc:02X}, computed 0x{crc8(head + body):02X})")
            if seq is None or head[0] == seq:
                return head[3], body
            # a late answer to a request given up on: not ours
            skipped += 1 + len(head) + len(rest)
            if skipped > _MAX_SKIP:
                raise self._error(f"no response with sequence number {seq} in {_MAX_SKIP} bytes")


class FcBoard(BoardLink):
    """Driver of the fc-layer engine (``hdl.link.FcEngine``): INFO, CLEAR, SPIKES, READ."""

    _info = None
    STATUS = EngineStatus

    def info(self) -> dict:
        """``{"version", "rows", "cols", "tile", "membrane_bits", "threshold", "max_count"}`` of the engine."""
        b = self.command(Cmd.INFO)
        if len(b) < 3 or b[:2] != b"ST":
            raise self._error(f"unexpected INFO answer {b.hex()} (not a spintwin fc engine?)")
        # the version first: another version's INFO may have another length
        if b[2] != PROTOCOL_VERSION:
            raise self._error(f"the board speaks link protocol version {b[2]}, this driver {PROTOCOL_VERSION} "
                              f"(rebuild the bitstream with this spintwin)")
        if len(b) != 11:
            raise self._error(f"unexpected INFO answer {b.hex()} ({len(b)} bytes, expected 11)")
        self._info = {"version": b[2], "rows": b[3] | b[4] << 8, "cols": b[5], "tile": b[6],
                      "membrane_bits": b[7], "threshold": b[8] | b[9] << 8, "max_count": b[10]}
        return dict(self._info)

    def _shape(self) -> dict:
        return self._info or self.info()

    def clear(self) -> None:
        """Zero the accumulators, membranes and spike counters."""
        self.command(Cmd.CLEAR)

    def run(self, spikes) -> np.ndarray:
        """Run input spike counts (steps, rows) through the layer; return output spikes bool (steps, cols).

        A count above the board's ``max_count`` (INFO) is a ValueError before anything is sent."""
        shape = self._shape()
        cols, nbytes = shape["cols"], -(-shape["cols"] // 8)
        out = []
        for block in pack_steps(spikes, shape["rows"], shape["max_count"]):
            b = self.command(Cmd.SPIKES, block)
            steps = block.count(STEP_END)
            if len(b) != steps * nbytes:
                raise self._error(f"SPIKES answered {len(b)} bytes for {steps} steps (expected {steps * nbytes})")
            bits = np.unpackbits(np.frombuffer(b, np.uint8).reshape(steps, nbytes), axis=1, bitorder="little")
            out.append(bits[:, :cols].astype(bool))
        return np.concatenate(out) if out else np.zeros((0, cols), bool)

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        """Spike counts int64 (cols,) and membranes int64 (cols,) (membrane units)."""
        shape = self._shape()
        cols, vb = shape["cols"], -(-shape["membrane_bits"] // 8)
        b = self.command(Cmd.READ)
        if len(b) != cols * (2 + vb):
            raise self._error(f"READ answered {len(b)} bytes (expected {cols * (2 + vb)})")
        counts = np.frombuffer(b[:2 * cols], "<u2").astype(np.int64)
        v = [int.from_bytes(b[2 * cols + vb * j: 2 * cols + vb * (j + 1)], "little", signed=True) for j in range(cols)]
        return counts, np.array(v, dtype=np.int64)
