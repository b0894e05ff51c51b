"""Fuzz test of the board side of the host link (hdl.link.LinkCore + FcEngine) in the Amaranth
simulator: random byte streams never hang it, every byte it sends belongs to a well-formed
response frame, and the valid requests that follow each stream are answered exactly as the
integer model says.

The bytes go straight into :class:`hdl.link.LinkCore`'s receive stream (one byte a clock cycle
at most, below the UART bit level, which ``tests/test_uart.py`` covers), so one stream of a few
hundred bytes costs a few thousand cycles: 120 streams (18,636 random bytes, noise, sync-heavy
noise, mutated and valid requests, UART error pulses, gaps past the receive timeout) and 480
checked requests (their 254 time steps name rows repeatedly, 36 of them a row more than the
engine's max_count times) take about 12 s of CPU. The frames are built here from the
documented format (``hdl/link.py``), not by the host driver, so the two sides are checked
against the document.
"""

from __future__ import annotations

import numpy as np
from amaranth.sim import Simulator

from hdl.link import (DEFAULT_MAX_COUNT, PROTOCOL_VERSION, REQ_SYNC, RESP_SYNC, STEP_END, Cmd, EngineStatus,
                      FcEngine, LinkCore, LinkStatus, crc8)
from quantize.snn import tile_output

CLK = 1e-6
TIMEOUT = 64            #: the link's receive timeout in cycles
STREAMS = 120           #: random streams per run (seed 20: 18,636 random bytes, 365 answers, 480 checked requests)
SEED = 20

# The engine of tests/test_uart.py's error cases: 40 rows (two 32-row tiles) x 3 columns.
_RNG = np.random.default_rng(3)
K = _RNG.integers(-15, 16, (40, 3))
C = _RNG.integers(1, 600, (2, 3))
SHIFT, TILE, THRESHOLD, FLOOR, MEMBRANE_BITS = 6, 32, 256, -256, 12
ROWS, COLS = K.shape
MAX_COUNT = DEFAULT_MAX_COUNT
INFO = bytes([ord("S"), ord("T"), PROTOCOL_VERSION, ROWS, 0, COLS, TILE, MEMBRANE_BITS, THRESHOLD & 0xFF,
              THRESHOLD >> 8, MAX_COUNT])


def _engine():
    return FcEngine(K, C, SHIFT, TILE, threshold=THRESHOLD, floor=FLOOR, membrane_bits=MEMBRANE_BITS)


def request(seq, cmd, args=b""):
    """A request frame (hdl/link.py): 0xA5 | SEQ | LEN | CMD | ARG | CRC8(SEQ .. ARG)."""
    body = bytes([seq, 1 + len(args), cmd]) + bytes(args)
    return bytes([REQ_SYNC]) + body + bytes([crc8(body)])


def response(seq, status, body):
    """A response frame: 0x5A | SEQ | N_lo | N_hi | STATUS | BODY | CRC8(SEQ .. BODY)."""
    n = 1 + len(body)
    head = bytes([seq, n & 0xFF, n >> 8, status])
    return bytes([RESP_SYNC]) + head + bytes(body) + bytes([crc8(head + bytes(body))])


def model(events_per_step):
    """The fc layer's integer model (quantize.snn.tile_output + the IF rule with reset to zero)
    from cleared state: (SPIKES response body, READ response body), status bytes included. A row
    named more than MAX_COUNT times in a step counts MAX_COUNT times, and the SPIKES status says
    COUNT_OVERFLOW."""
    vmax = (1 << (MEMBRANE_BITS - 1)) - 1
    v = np.zeros(COLS, np.int64)
    counts = np.zeros(COLS, np.int64)
    masks = b""
    status = 0
    for rows in events_per_step:
        s = np.bincount(np.asarray(rows, np.int64), minlength=ROWS)
        if s.max(initial=0) > MAX_COUNT:
            status |= EngineStatus.COUNT_OVERFLOW
        s = np.minimum(s, MAX_COUNT)
        y = sum(tile_output(K[r * TILE:(r + 1) * TILE], C[r], SHIFT, s[r * TILE:(r + 1) * TILE])
                for r in range(len(C)))
        v = np.clip(v + y, FLOOR, vmax)
        fire = v >= THRESHOLD
        v = np.where(fire, 0, v)
        counts += fire
        masks += bytes([int(np.sum(fire << np.arange(COLS)))])
    read = b"".join(int(c).to_bytes(2, "little") for c in counts)
    read += b"".join(int(x).to_bytes(2, "little", signed=True) for x in v)
    return masks + bytes([status]), read + b"\x00"


def split_frames(data):
    """Cut the board's output into response frames; AssertionError on any byte outside a
    well-formed frame. Returns [(seq, status, body)]."""
    frames, i = [], 0
    while i < len(data):
        assert data[i] == RESP_SYNC, f"byte {i} of the board's output is 0x{data[i]:02X}, not a sync byte"
        seq, n, status = data[i + 1], data[i + 2] | data[i + 3] << 8, data[i + 4]
        assert 1 <= n <= 512, f"response length {n}"
        end = i + 5 + n
        assert end <= len(data), "a response frame cut short"
        assert crc8(data[i + 1:end - 1]) == data[end - 1], "response CRC mismatch"
        frames.append((seq, status, bytes(data[i + 5:end - 1])))
        i = end
    return frames


def random_stream(rng):
    """One random byte stream: noise, sync-heavy noise, mutated valid requests, or a mix."""
    def noise():
        return rng.integers(0, 256, int(rng.integers(1, 200))).astype(np.uint8).tobytes()

    def sync_heavy():
        b = rng.integers(0, 256, int(rng.integers(1, 120)))
        b[rng.random(len(b)) < 0.25] = REQ_SYNC
        b[rng.random(len(b)) < 0.1] = 0
        return b.astype(np.uint8).tobytes()

    def valid():
        cmd = int(rng.choice([Cmd.INFO, Cmd.CLEAR, Cmd.SPIKES, Cmd.READ, rng.integers(0, 256)]))
        args = rng.choice([*range(ROWS + 2), STEP_END], int(rng.integers(0, 40))).astype(np.uint8).tobytes()
        return request(int(rng.integers(0, 256)), cmd, args)

    def mutated():
        f = bytearray(valid())
        what = rng.integers(5)
        pos = int(rng.integers(1, len(f)))
        if what == 0:
            f[pos] ^= 1 << int(rng.integers(8))          # a flipped bit
        elif what == 1:
            del f[pos]                                    # a lost byte
        elif what == 2:
            f.insert(pos, int(rng.integers(256)))         # an extra byte
        elif what == 3:
            del f[pos:]                                   # cut short
        else:
            f[2] = 0                                      # LEN = 0
        return bytes(f)

    parts = [noise, sync_heavy, mutated, valid]
    n = int(rng.integers(1, 6))
    return b"".join(parts[int(rng.integers(len(parts)))]() for _ in range(n))


def test_random_byte_streams_never_hang_the_link_and_valid_requests_follow():
    rng = np.random.default_rng(SEED)
    core = LinkCore(_engine(), timeout_cycles=TIMEOUT)
    out = bytearray()
    cycle = [0]
    stats = {"streams": 0, "bytes": 0, "responses": 0, "executed": 0, "timeouts": 0, "crc_errors": 0,
             "checked_requests": 0, "cycles": 0, "steps": 0, "over_steps": 0}

    async def monitor(ctx):
        # the transmitter takes a byte on two cycles of three (a slow sink exercises the stalls)
        async for _, _, valid, ready, payload in ctx.tick().sample(core.o_tx.valid, core.o_tx.ready,
                                                                   core.o_tx.payload):
            cycle[0] += 1
            if valid and ready:         # the values at the clock edge: a transfer
                out.append(payload)
            ctx.set(core.o_tx.ready, cycle[0] % 3 != 0)

    async def bench(ctx):
        async def send(data, noisy):
            for b in data:
                ctx.set(core.i_rx.payload, b)
                ctx.set(core.i_rx.valid, 1)
                if noisy and rng.random() < 0.01:       # a UART framing error or overrun
                    ctx.set(core.rx_framing if rng.random() < 0.5 else core.rx_overrun, 1)
                await ctx.tick()
                ctx.set(core.i_rx.valid, 0)
                ctx.set(core.rx_framing, 0)
                ctx.set(core.rx_overrun, 0)
                r = rng.random()
                if r < 0.7:
                    gap = 0
                elif r < 0.97 or not noisy:
                    gap = int(rng.integers(1, 9))
                else:                          # a gap that times the parser out
                    gap = int(rng.integers(TIMEOUT, TIMEOUT + 20))
                for _ in range(gap):
                    await ctx.tick()

        async def settle(bound):
            """Cycles until the link is idle (back in IDLE, its response sent); fails past bound."""
            for n in range(bound + 1):
                if not ctx.get(core.busy):
                    await ctx.tick()           # the monitor records the last byte
                    return n
                await ctx.tick()
            raise AssertionError(f"the link is still busy {bound} cycles after the stream ended")

        async def exchange(frame):
            start = len(out)
            await send(frame, noisy=False)          # no timeout gaps inside a valid request
            await settle(bound)
            return bytes(out[start:])

        # The slowest request (254 time steps in one SPIKES frame, a 255-byte answer) bounds how
        # long the link may stay busy after a stream: at most one receive timeout (then a short
        # error answer) plus one request's execution and answer.
        start = len(out)
        await send(request(1, Cmd.SPIKES, bytes([STEP_END] * 254)), noisy=False)
        worst = await settle(1_000_000)            # a sanity limit only: measured here
        spikes, _ = model([[]] * 254)
        assert bytes(out[start:]) == response(1, 0, spikes)
        bound = TIMEOUT + 2 * worst
        stats["worst_request_cycles"] = worst

        for i in range(STREAMS):
            data = random_stream(rng)
            start = len(out)
            await send(data, noisy=True)
            await settle(bound)
            frames = split_frames(out[start:])
            stats["streams"] += 1
            stats["bytes"] += len(data)
            stats["responses"] += len(frames)
            stats["executed"] += sum(1 for _, st, body in frames if body)
            stats["timeouts"] += sum(1 for _, st, _ in frames if st & LinkStatus.TIMEOUT)
            stats["crc_errors"] += sum(1 for _, st, _ in frames if st & LinkStatus.CRC)

            # Valid requests: INFO (its STATUS may report the stream's dropped bytes and UART
            # errors, nothing else), then CLEAR, SPIKES and READ exactly as the model says.
            seq = int(rng.integers(1, 256))
            got = split_frames(await exchange(request(seq, Cmd.INFO)))
            assert len(got) == 1, f"stream {i}: {len(got)} answers to INFO"
            (s, st, body), = got
            assert s == seq and st & ~(LinkStatus.DROPPED | LinkStatus.FRAMING) == 0, f"stream {i}: {got}"
            assert body == INFO + b"\x00", f"stream {i}: INFO answered {body.hex()}"
            assert await exchange(request(seq ^ 1, Cmd.CLEAR)) == response(seq ^ 1, 0, b"\x00")
            # rows repeat within a step in any order, drawn from a random subset of the rows so
            # that some steps name a row more than MAX_COUNT times (the engine flags those)
            steps = []
            for _ in range(int(rng.integers(1, 5))):
                subset = rng.choice(ROWS, int(rng.integers(1, ROWS + 1)), replace=False)
                steps.append(rng.choice(subset, int(rng.integers(0, 25))).tolist())
                over = np.bincount(steps[-1], minlength=ROWS).max() > MAX_COUNT
                stats["over_steps" if over else "steps"] += 1
            args = b"".join(bytes(s) + bytes([STEP_END]) for s in steps)
            want_spikes, want_read = model(steps)
            assert await exchange(request(seq ^ 2, Cmd.SPIKES, args)) == response(seq ^ 2, 0, want_spikes), \
                f"stream {i}: SPIKES {args.hex()}"
            assert await exchange(request(seq ^ 3, Cmd.READ)) == response(seq ^ 3, 0, want_read), f"stream {i}"
            stats["checked_requests"] += 4
        stats["cycles"] = cycle[0]

    sim = Simulator(core)
    sim.add_clock(CLK)
    sim.add_testbench(bench)
    sim.add_testbench(monitor, background=True)
    sim.run()
    print(stats)
    assert stats["streams"] == STREAMS
    # the streams did reach the interesting paths (else the fuzz proves little)
    assert stats["timeouts"] >= 5 and stats["crc_errors"] >= 5 and stats["executed"] >= 5, stats
    assert stats["steps"] >= 50 and stats["over_steps"] >= 20, stats

