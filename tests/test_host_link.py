"""The host driver (spintwin.host) against fake ports: every malformed-frame path ends in one
HostError line, and a late answer is never taken for the answer to the next request.

:class:`FakeBoard` answers requests like the board's link and an fc engine of 4 rows x 3
columns (output neuron j fires in a step where input row j spikes) in the frame format of the
``hdl.link`` under test, so the desync tests also run against protocol version 1 (where they
fail: the old driver returned the late answer of the request it had given up on).
"""

from __future__ import annotations

import numpy as np
import pytest

from hdl.link import PROTOCOL_VERSION, REQ_SYNC, RESP_SYNC, STEP_END, Cmd, LinkStatus, crc8
from spintwin.host import BoardLink, FcBoard, HostError, encode_request, pack_steps

ROWS, COLS = 4, 3
MAX_COUNT = 2                         # spikes per row per step the fake engine accepts (INFO)
_SEQ = PROTOCOL_VERSION >= 2          # the frames carry a sequence number


def response_frame(seq, status, body=b""):
    """A response frame as the board sends it (``hdl.link`` docstring)."""
    n = 1 + len(body)
    head = (bytes([seq]) if _SEQ else b"") + bytes([n & 0xFF, n >> 8, status])
    return bytes([RESP_SYNC]) + head + body + bytes([crc8(head + body)])


def _info_body(version=PROTOCOL_VERSION):
    return bytes([ord("S"), ord("T"), version, ROWS, 0, COLS, ROWS, 12, 0, 1, MAX_COUNT])


class FakeBoard:
    """A byte port with a board behind it.

    ``hold`` = a command: its next answer is held back (the host times out) until
    :meth:`release`; ``late`` says when a held answer arrives by itself: "before" the next
    request is written (it waits in the input buffer), or "with_next" (in the same burst as the
    next answer, i.e. after any flush the host does before writing).
    """

    def __init__(self, *, resettable=True):
        self.buf = bytearray()
        self.held = b""
        self.hold = None
        self.late = "before"
        self.seqs = []
        self.flushes = 0
        if resettable:
            self.reset_input_buffer = self._reset

    def _reset(self):
        self.flushes += 1
        self.buf.clear()

    def release(self):
        self.buf += self.held
        self.held = b""

    def write(self, frame):
        frame = bytes(frame)
        assert frame[0] == REQ_SYNC and crc8(frame[1:-1]) == frame[-1]
        seq, rest = (frame[1], frame[2:-1]) if _SEQ else (None, frame[1:-1])
        assert rest[0] == len(rest) - 1
        cmd, args = rest[1], rest[2:]
        if cmd == Cmd.INFO:
            body = _info_body()
        elif cmd == Cmd.SPIKES:
            body, active = b"", 0
            for b in args:
                if b == STEP_END:
                    body += bytes([active & ((1 << COLS) - 1)])
                    active = 0
                else:
                    active |= 1 << b
        else:
            body = b""
        self.seqs.append(seq)
        answer = response_frame(seq, 0, body + b"\x00")
        if self.late == "with_next":
            self.release()
        if self.hold == cmd:
            self.hold, self.held = None, answer
        else:
            self.buf += answer
        return len(frame)

    def read(self, n):
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


class Drain(FakeBoard):
    """A FakeBoard without reset_input_buffer but with a pyserial-like ``timeout`` attribute."""

    def __init__(self):
        super().__init__(resettable=False)
        self.timeout = 2.0
        self.timeouts = []

    def read(self, n):
        self.timeouts.append(self.timeout)
        return super().read(n)


# The desync of issue 20 ------------------------------------------------------------------------------
A = np.array([[1, 0, 1, 0]])                # one step: output neurons 0 and 2 fire
A2 = np.array([[1, 0, 1, 0], [0, 1, 0, 0]])  # two steps: neurons 0 and 2, then 1


@pytest.mark.parametrize("late, port", [("before", FakeBoard), ("with_next", FakeBoard), ("before", Drain)],
                         ids=["flushed", "stale-seq", "drained"])
def test_a_late_answer_is_never_the_next_answer(late, port):
    """run(A) times out, A's answer arrives, then run of a silent step must return silence (the
    old driver returned A's spikes): the flush removes an answer that arrived before the next
    request, the sequence number one that arrives after the flush."""
    p = port()
    board = FcBoard(p)
    assert board.info()["rows"] == ROWS
    p.hold, p.late = Cmd.SPIKES, late
    with pytest.raises(HostError, match="no answer from the board") as e:
        board.run(A)
    assert "\n" not in str(e.value)
    if late == "before":
        p.release()
    got = board.run([[0, 0, 0, 0]])
    np.testing.assert_array_equal(got, [[False, False, False]])
    # and the link goes on working normally
    np.testing.assert_array_equal(board.run(A2), [[True, False, True], [False, True, False]])
    if isinstance(p, Drain):
        assert 0.05 in p.timeouts and p.timeout == 2.0        # drained with a short timeout, restored
    else:
        assert p.flushes == 1                                 # one flush, after the timeout only


def test_sequence_numbers_count_1_to_255_and_wrap():
    p = FakeBoard()
    link = BoardLink(p)
    for _ in range(300):
        link.request(Cmd.CLEAR)
    assert p.seqs[:3] == [1, 2, 3] and p.seqs[254:257] == [255, 1, 2]
    assert 0 not in p.seqs          # SEQ 0 is the board's "cut short before SEQ"


def test_encode_request_frame():
    f = encode_request(Cmd.SPIKES, b"\x01\xff", seq=9)
    assert f[:5] == bytes([REQ_SYNC, 9, 3, Cmd.SPIKES, 1]) and f[-1] == crc8(f[1:-1])
    with pytest.raises(ValueError, match="seq must be a byte"):
        encode_request(Cmd.INFO, seq=256)


# Malformed frames: one HostError line each ----------------------------------------------------------
class Script:
    """A port that answers any request with fixed bytes (then silence, or ``fill`` forever)."""

    def __init__(self, *answers, fill=None):
        self.answers = list(answers)
        self.buf = bytearray()
        self.fill = fill

    def write(self, frame):
        if self.answers:
            self.buf += self.answers.pop(0)
        return len(frame)

    def read(self, n):
        if not self.buf and self.fill is not None:
            return bytes([self.fill]) * n
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


INFO = response_frame(1, 0, _info_body() + b"\x00")
_GOOD_HEAD = (bytes([1]) if _SEQ else b"") + bytes([2, 0, 0])


def _bad_crc():
    f = bytearray(response_frame(1, 0, b"\x00"))
    f[-1] ^= 0x40
    return bytes(f)


def _len_frame(n):
    head = (bytes([1]) if _SEQ else b"") + bytes([n & 0xFF, n >> 8, 0])
    return bytes([RESP_SYNC]) + head + bytes([crc8(head)])


GARBAGE = bytes(b for b in range(256) if b != RESP_SYNC) * 2


@pytest.mark.parametrize("answers, fill, action, message", [
    ([b""], None, "info", "no answer from the board while reading the response sync byte"),
    ([GARBAGE], None, "info", "no answer from the board while reading the response sync byte"),
    ([b""], 0x00, "info", "no response sync byte 0x5A in 16384 bytes"),
    ([_len_frame(0)], None, "info", "response frame with length 0 "),
    ([_len_frame(0xFFFF)], None, "info", r"response frame with length 65535 \(expected 1..4096\)"),
    ([bytes([RESP_SYNC]) + _GOOD_HEAD[:2]], None, "info", "while reading the response header"),
    ([response_frame(1, 0, b"\x00")[:-2]], None, "info", "while reading the response body"),
    ([_bad_crc()], None, "info", "response CRC mismatch"),
    ([response_frame(1, LinkStatus.CRC)], None, "info", r"link status 0x01 \(CRC\)"),
    ([response_frame(1, 0)], None, "info", "empty engine response to INFO"),
    ([response_frame(1, 0, b"\x04")], None, "info", r"engine reported status 0x04 \(BAD_ROW\) for INFO"),
    ([response_frame(1, 0, _info_body()[:8] + b"\x00")], None, "info", "unexpected INFO answer"),
    ([response_frame(1, 0, _info_body()[:10] + b"\x00")], None, "info", r"\(10 bytes, expected 11\)"),
    ([response_frame(1, 0, _info_body(2)[:10] + b"\x00")], None, "info", "protocol version 2, this driver 3"),
    ([response_frame(1, 0, _info_body(PROTOCOL_VERSION + 1) + b"\x00")], None, "info",
     f"protocol version {PROTOCOL_VERSION + 1}, this driver {PROTOCOL_VERSION}"),
    ([INFO, response_frame(2, 0, b"\x05\x00")], None, "run", r"SPIKES answered 1 bytes for 2 steps \(expected 2\)"),
    ([INFO, response_frame(2, 0, b"\x00" * 8 + b"\x00")], None, "read", r"READ answered 8 bytes \(expected 12\)"),
], ids=["silence", "garbage-no-sync", "endless-garbage", "len-0", "huge-len", "short-header", "short-body",
        "bad-crc", "link-status", "empty-engine", "engine-status", "short-info", "v2-info-length",
        "v2-board", "version", "short-spikes",
        "short-read"])
def test_every_malformed_answer_is_one_host_error_line(answers, fill, action, message):
    board = FcBoard(Script(*answers, fill=fill))
    with pytest.raises(HostError, match=message) as e:
        if action == "info":
            board.info()
        elif action == "run":
            board.run(A2)
        else:
            board.read()
    assert "\n" not in str(e.value) and len(str(e.value)) < 200


def test_open_failure_is_one_line(tmp_path):
    pytest.importorskip("serial", reason="pyserial is not installed")
    missing = tmp_path / "no-such-tty"
    with pytest.raises(HostError, match=f"cannot open {missing}") as e:
        FcBoard.open(str(missing))
    assert "\n" not in str(e.value)
    with pytest.raises(HostError, match="cannot open"):
        FcBoard.open(str(tmp_path))           # a directory, not a device


def test_bad_port_is_a_value_error():
    with pytest.raises(ValueError, match="port must have read"):
        BoardLink(object())


# pack_steps --------------------------------------------------------------------------------------------
def test_pack_steps_rows_are_limited_to_255():
    """Row 255 would be the byte 0xFF = STEP_END: the old pack_steps encoded it as the end of a step."""
    s = np.zeros((1, 256), np.int64)
    s[0, 255] = 1
    with pytest.raises(ValueError, match=r"rows must be 1..255 \(a row index is one byte and 0xFF ends a step\)"):
        pack_steps(s, 256)
    with pytest.raises(ValueError, match="rows must be 1..255"):
        pack_steps(np.zeros((1, 0)), 0)
    # the largest allowed: row 254 is an event byte, and each step still ends in exactly one 0xFF
    s = np.zeros((3, 255), np.int64)
    s[:, 254] = [1, 0, 2]
    blocks = pack_steps(s, 255)
    assert b"".join(blocks) == bytes([254, STEP_END, STEP_END, 254, 254, STEP_END])
    with pytest.raises(ValueError, match="non-negative integer"):
        pack_steps(np.full((1, 3), 0.5), 3)


# max_count ---------------------------------------------------------------------------------------------
def test_run_refuses_counts_above_the_boards_max_count_before_sending():
    """INFO reports the engine's max_count (protocol 3); a larger count would be ignored and
    flagged by the engine, so the driver raises ValueError and sends nothing (the old driver
    sent it: its board then wrapped an accumulator silently)."""
    p = FakeBoard()
    board = FcBoard(p)
    assert board.info()["max_count"] == MAX_COUNT
    sent = len(p.seqs)
    s = np.array([[0, MAX_COUNT, 0, 1], [0, 0, MAX_COUNT + 1, 0]])
    with pytest.raises(ValueError, match=r"count of 3 \(step 1, row 2\); the board takes at most max_count = 2"):
        board.run(s)
    assert len(p.seqs) == sent                       # nothing was sent
    # counts up to max_count go through (the row repeated count times)
    np.testing.assert_array_equal(board.run(s[:1]), [[False, True, False]])
    assert b"".join(pack_steps(s[:1], ROWS, MAX_COUNT)) == bytes([1, 1, 3, STEP_END])
