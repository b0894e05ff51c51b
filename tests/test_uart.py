"""UART, framing link and host driver in the Amaranth simulator (hdl.uart, hdl.link, spintwin.host).

The UART runs at a few clock cycles per bit so that every byte costs tens of cycles; the host
driver talks to the simulated design through :class:`SimPort`, which bit-bangs the RX line and
decodes the TX line as a USB-serial adapter would.
"""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import Fragment, Module
from amaranth.sim import Simulator

from hdl.link import DEFAULT_MAX_COUNT, REQ_SYNC, STEP_END, Cmd, EngineStatus, FcEngine, HostLink, LinkStatus, crc8
from hdl.uart import UartRx, UartTx, baud_divisor
from quantize.snn import tile_output
from spintwin.host import FcBoard, HostError, encode_request, pack_steps

CLK = 1e-6  # simulated clock period (s); only ratios matter


# A simulated serial port ---------------------------------------------------------------------------
class SimPort:
    """A serial port wired to a simulated design's ``rx``/``tx`` lines.

    ``write`` queues bytes for the RX line; ``read(n)`` runs the simulation until n bytes have
    come out of the TX line or ``timeout_cycles`` pass (then it returns what it has, like a
    pyserial read timeout). ``corrupt`` maps a byte index of the outgoing stream to a stop bit
    of 0 (a framing error) for the error tests.
    """

    def __init__(self, dut, divisor: int, *, timeout_cycles: int = 200_000):
        self.dut, self.d, self.timeout_cycles = dut, divisor, timeout_cycles
        self.to_board: list[int] = []
        self.from_board = bytearray()
        self.bad_stop: set[int] = set()
        self.sent = 0
        self.cycles = 0
        self.sim = Simulator(dut)
        self.sim.add_clock(CLK)
        self.sim.add_testbench(self._drive, background=True)
        self.sim.add_testbench(self._listen, background=True)

    async def _drive(self, ctx):
        ctx.set(self.dut.rx, 1)
        while True:
            if not self.to_board:
                await ctx.delay(self.d * CLK)
                continue
            byte = self.to_board.pop(0)
            stop = 0 if self.sent in self.bad_stop else 1
            self.sent += 1
            for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [stop]:
                ctx.set(self.dut.rx, bit)
                await ctx.delay(self.d * CLK)
            if not stop:
                ctx.set(self.dut.rx, 1)
                await ctx.delay(self.d * CLK)

    async def _listen(self, ctx):
        d = self.d
        while True:
            await ctx.negedge(self.dut.tx)
            await ctx.delay((d + d // 2) * CLK)           # the middle of data bit 0
            byte = 0
            for i in range(8):
                byte |= ctx.get(self.dut.tx) << i
                await ctx.delay(d * CLK)
            assert ctx.get(self.dut.tx) == 1, "stop bit low on the board's TX line"
            self.from_board.append(byte)

    def write(self, data: bytes) -> int:
        self.to_board += list(bytes(data))
        return len(data)

    def read(self, n: int) -> bytes:
        start = self.cycles
        while len(self.from_board) < n and self.cycles - start < self.timeout_cycles:
            self.cycles += 10 * self.d
            self.sim.run_until(self.cycles * CLK)
        out = bytes(self.from_board[:n])
        del self.from_board[:n]
        return out


# UART ----------------------------------------------------------------------------------------------
def _loopback(divisor, data):
    """Bytes through UartTx -> line -> UartRx with random gaps and a receiver that takes each
    byte late (within a byte time); returns the bytes received and the error pulses counted."""
    rng = np.random.default_rng(divisor)
    tx, rx = UartTx(divisor), UartRx(divisor)
    m = Module()
    m.submodules.tx, m.submodules.rx = tx, rx
    m.d.comb += rx.rx.eq(tx.tx)
    received, errors = [], {"framing": 0, "overrun": 0}

    async def bench(ctx):
        for byte in data:
            for _ in range(int(rng.integers(0, 3 * divisor))):    # idle line between bytes
                await ctx.tick()
            ctx.set(tx.i_data.valid, 1)
            ctx.set(tx.i_data.payload, byte)
            await ctx.tick().until(tx.i_data.ready)
            ctx.set(tx.i_data.valid, 0)
        for _ in range(16 * divisor):                             # the last byte's bits and its take
            await ctx.tick()

    async def monitor(ctx):
        waited = 0
        # values sampled at each clock edge: a transfer is valid & ready there
        async for _, _, valid, ready, payload, ferr, ovr in ctx.tick().sample(
                rx.o_data.valid, rx.o_data.ready, rx.o_data.payload, rx.framing_error, rx.overrun):
            errors["framing"] += ferr
            errors["overrun"] += ovr
            if valid and ready:
                received.append(payload)
            # take a waiting byte after a random delay of at most 4 bit times (a byte lasts 10)
            waited = waited + 1 if valid and not ready else 0
            ctx.set(rx.o_data.ready, bool(waited >= 4 * divisor or rng.random() < 1 / (2 * divisor)))

    sim = Simulator(m)
    sim.add_clock(CLK)
    sim.add_testbench(bench)
    sim.add_testbench(monitor, background=True)
    sim.run()
    return received, errors


def _rx_bits(divisor, frames):
    """Drive UartRx's line with raw 10-bit frames (start, 8 data, stop as given), each followed by
    two idle bit times; return (bytes, framing error pulses)."""
    rx = UartRx(divisor)
    got, ferr = [], []

    async def bench(ctx):
        ctx.set(rx.o_data.ready, 1)
        for bits in frames:
            for bit in bits + [1, 1]:
                ctx.set(rx.rx, bit)
                for _ in range(divisor):
                    await ctx.tick()
                    if ctx.get(rx.o_data.valid):
                        got.append(ctx.get(rx.o_data.payload))
                    if ctx.get(rx.framing_error):
                        ferr.append(len(got))

    sim = Simulator(rx)
    sim.add_clock(CLK)
    sim.add_testbench(bench)
    sim.run()
    return got, ferr


def _frame(byte, stop=1):
    return [0] + [(byte >> i) & 1 for i in range(8)] + [stop]


@pytest.mark.parametrize("divisor", [4, 7])
def test_uart_loopback_random_bytes(divisor):
    rng = np.random.default_rng(divisor)
    data = [0x00, 0xFF, 0x55, 0xAA] + rng.integers(0, 256, 40).tolist()
    received, errors = _loopback(divisor, data)
    assert received == data
    assert errors == {"framing": 0, "overrun": 0}


def test_uart_framing_error_drops_the_byte():
    # a low stop bit: the byte is dropped and one error pulses; the next byte still arrives
    got, ferr = _rx_bits(5, [_frame(0x3C), _frame(0x81, stop=0), _frame(0x7E)])
    assert got == [0x3C, 0x7E]
    assert ferr == [1]
    # a held-low line (a break) is one framing error, then the receiver waits for the line to rise
    got, ferr = _rx_bits(5, [[0] * 25, _frame(0x42)])
    assert got == [0x42] and ferr == [0]
    # a low pulse shorter than half a bit is a glitch, not a start bit
    got, ferr = _rx_bits(8, [[1] * 3, _frame(0x99)])
    assert got == [0x99] and ferr == []


@pytest.mark.parametrize("rate_error", [-0.03, 0.03])
def test_uart_rx_tolerates_a_sender_clock_error(rate_error):
    """A sender 3 % slow or fast: the stop bit is sampled 9.5 bit times after the start edge, so
    the sampling point drifts by 0.29 bit (plus up to 2 cycles of synchroniser and edge-detect
    delay = 0.125 bit at 16 cycles per bit), still inside the bit."""
    divisor = 16
    rng = np.random.default_rng(17)
    data = rng.integers(0, 256, 20).tolist()
    rx = UartRx(divisor)
    got, ferr = [], []
    bit_time = divisor * CLK * (1 + rate_error)

    async def sender(ctx):
        for byte in data:
            for bit in _frame(byte):
                ctx.set(rx.rx, bit)
                await ctx.delay(bit_time)
        await ctx.delay(2 * bit_time)

    async def monitor(ctx):
        ctx.set(rx.o_data.ready, 1)
        async for _, _, valid, payload, fe in ctx.tick().sample(rx.o_data.valid, rx.o_data.payload,
                                                                rx.framing_error):
            if valid:
                got.append(payload)
            if fe:
                ferr.append(len(got))

    sim = Simulator(rx)
    sim.add_clock(CLK)
    sim.add_testbench(sender)
    sim.add_testbench(monitor, background=True)
    sim.run()
    assert got == data and ferr == []


def test_baud_divisor():
    assert baud_divisor(12e6, 115200) == 104           # 0.16 % fast
    assert baud_divisor(25e6, 115200) == 217
    with pytest.raises(ValueError, match="baud error"):
        baud_divisor(1e6, 115200 * 1.5 / 1.0 * 1.0, max_error=0.01)   # 5.79 cycles -> 6: 3.5 % off
    with pytest.raises(ValueError, match=">= 4"):
        baud_divisor(1e6, 400e3)
    with pytest.raises(ValueError, match="divisor"):
        UartRx(3)


# Link and host driver --------------------------------------------------------------------------------
DIV = 4   # clock cycles per bit in the simulated link


@pytest.fixture(scope="module")
def fc_net():
    """Network 1's fc layer on the shipped ReLU-CNN weights, as the board's default design but
    normalised over 2,000 training images instead of 10,000 (a few seconds less; the scale
    codes differ slightly, the structure and the equivalence being tested do not)."""
    from boards.build import fc_network

    return fc_network(norm_images=2000)


@pytest.fixture(scope="module")
def fc_net_full():
    """Exactly the board's default design (``boards.build.make_design("default")``)."""
    from boards.build import fc_network

    return fc_network()


def _fc_model(net, spikes):
    """quantize.snn's fc layer: per step y = sum_r tile_output(k_r, c_r, shift, s_r) and the IF
    rule of ``quantize.snn._if_step`` (clamp to [floor, vmax], fire at >= threshold, reset)."""
    fc = net.layers[-1]
    t = fc.tile
    v = np.zeros(fc.k.shape[1], np.int64)
    lo = net.floor if net.floor is not None else -net.vmax - 1
    out = []
    for s in np.asarray(spikes, np.int64):
        y = sum(tile_output(fc.k[r * t:(r + 1) * t], fc.c[r], fc.shift, s[r * t:(r + 1) * t])
                for r in range(fc.row_tiles))
        v = np.clip(v + y, lo, net.vmax)
        fire = v >= net.threshold
        v = np.where(fire, v - net.threshold if net.cfg.kind == "cmos-if" else 0, v)
        out.append(fire)
    return np.array(out), v


def _engine_for(net):
    fc = net.layers[-1]
    return FcEngine(fc.k, fc.c, fc.shift, fc.tile, threshold=net.threshold, floor=net.floor,
                    membrane_bits=net.cfg.membrane_bits, reset="subtract" if net.cfg.kind == "cmos-if" else "zero")


def test_host_driver_runs_the_fc_layer_like_the_model(fc_net):
    rng = np.random.default_rng(6)
    board = FcBoard(SimPort(HostLink(_engine_for(fc_net), DIV), DIV))
    info = board.info()
    assert (info["rows"], info["cols"], info["threshold"]) == (192, 10, fc_net.threshold)
    board.clear()
    # 16 steps at ~9 % input activity (~17 events + one 0xFF a step, ~290 bytes): two SPIKES
    # frames, with a step straddling the frame boundary; some rows spike twice in a step.
    spikes = (rng.random((16, 192)) < 0.08).astype(np.int64)
    spikes[rng.random((16, 192)) < 0.01] = 2
    blocks = pack_steps(spikes, 192)
    assert len(blocks) >= 2 and blocks[0][-1] != 0xFF
    want, v = _fc_model(fc_net, spikes)
    assert want.sum() >= 5                       # the comparison sees spikes, not only silence
    got = board.run(spikes)
    np.testing.assert_array_equal(got, want)
    counts, membranes = board.read()
    np.testing.assert_array_equal(counts, want.sum(axis=0))
    np.testing.assert_array_equal(membranes, v)
    # CLEAR zeroes the state; the same input then gives the same output again
    board.clear()
    counts, membranes = board.read()
    assert not counts.any() and not membranes.any()
    np.testing.assert_array_equal(board.run(spikes[:5]), want[:5])


def _small_kc():
    rng = np.random.default_rng(3)
    return rng.integers(-15, 16, (40, 3)), rng.integers(1, 600, (2, 3))


SMALL = {"shift": 6, "tile": 32, "threshold": 256, "floor": -256, "membrane_bits": 12}


def _small_engine(max_count=DEFAULT_MAX_COUNT, k=None):
    kk, c = _small_kc()
    return FcEngine(kk if k is None else k, c, SMALL["shift"], SMALL["tile"], threshold=SMALL["threshold"],
                    floor=SMALL["floor"], membrane_bits=SMALL["membrane_bits"], max_count=max_count)


def _small_model(spikes, max_count, k=None):
    """The small engine's integer model from cleared state: quantize.snn.tile_output per tile and
    the IF rule (reset to zero) with each count clipped to ``max_count``. Returns (output spikes
    (steps, 3), counts, membranes, any count clipped)."""
    kk, c = _small_kc()
    k = kk if k is None else k
    t, vmax = SMALL["tile"], (1 << (SMALL["membrane_bits"] - 1)) - 1
    s = np.asarray(spikes, np.int64)
    v, out = np.zeros(3, np.int64), []
    for step in np.minimum(s, max_count):
        y = sum(tile_output(k[r * t:(r + 1) * t], c[r], SMALL["shift"], step[r * t:(r + 1) * t]) for r in range(2))
        v = np.clip(v + y, SMALL["floor"], vmax)
        fire = v >= SMALL["threshold"]
        v = np.where(fire, 0, v)
        out.append(fire)
    out = np.array(out)
    return out, out.sum(axis=0), v, bool((s > max_count).any())


def _engine_session(engine, requests):
    """Request byte strings straight into an engine's i_req stream (Amaranth simulator, no
    link); returns each request's response bytes (status byte last)."""
    answers, cur = [], []

    async def monitor(ctx):
        ctx.set(engine.o_resp.ready, 1)
        async for _, _, valid, byte, last in ctx.tick().sample(engine.o_resp.valid, engine.o_resp.payload.data,
                                                              engine.o_resp.payload.last):
            if valid:
                cur.append(byte)
                if last:
                    answers.append(bytes(cur))
                    cur.clear()

    async def bench(ctx):
        for n, req in enumerate(requests):
            for i, b in enumerate(req):
                ctx.set(engine.i_req.valid, 1)
                ctx.set(engine.i_req.payload.data, b)
                ctx.set(engine.i_req.payload.last, i == len(req) - 1)
                await ctx.tick().until(engine.i_req.ready)
            ctx.set(engine.i_req.valid, 0)
            for _ in range(100_000):
                if len(answers) > n:
                    break
                await ctx.tick()
            assert len(answers) > n, f"no answer to request {n}"

    sim = Simulator(engine)
    sim.add_clock(CLK)
    sim.add_testbench(bench)
    sim.add_testbench(monitor, background=True)
    sim.run()
    return answers


def _spikes_request(spikes, shuffle=None):
    """One SPIKES request: each step's rows, a row named ``count`` times, then 0xFF (in a random
    order of the step's events when ``shuffle`` is a Generator: repeats need not be adjacent)."""
    args = b""
    for step in np.asarray(spikes, np.int64):
        ev = np.repeat(np.arange(len(step)), step)
        if shuffle is not None:
            ev = shuffle.permutation(ev)
        args += bytes(ev.tolist()) + bytes([STEP_END])
    return bytes([Cmd.SPIKES]) + args


def _read_body(counts, v):
    return b"".join(int(x).to_bytes(2, "little") for x in counts) + \
        b"".join(int(x).to_bytes(2, "little", signed=True) for x in v)


@pytest.fixture(scope="module")
def small():
    """A 40-row, 3-column engine (two tiles) behind a link with a short timeout, for error cases."""
    eng = _small_engine()
    port = SimPort(HostLink(eng, DIV, timeout_cycles=40 * DIV), DIV, timeout_cycles=4000)
    return FcBoard(port), port


def test_crc8_check_value_and_hardware_update():
    assert crc8(b"123456789") == 0xF4          # the CRC-8/SMBUS catalogue check value
    assert crc8(b"") == 0
    # the link's combinational update (XOR trees) against the bitwise definition: every byte
    # with 16 register values (the update is linear, so the 8 + 8 unit inputs would already prove it)
    from amaranth.hdl import Signal

    from hdl.link import _crc8_next

    crc, byte = Signal(8), Signal(8)
    out = Signal(8)
    m = Module()
    m.d.comb += out.eq(_crc8_next(crc, byte))
    bad = []

    async def bench(ctx):
        for c in [0, 0xFF] + [1 << i for i in range(8)] + [0x5A, 0xA5, 0x3C, 0x81, 0x17, 0xE2]:
            ctx.set(crc, c)
            for b in range(256):
                ctx.set(byte, b)
                if ctx.get(out) != crc8(bytes([b]), c):
                    bad.append((c, b))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert bad == []


def test_link_rejects_damaged_frames(small):
    board, port = small
    board.clear()
    good = encode_request(Cmd.SPIKES, bytes([1, 2, 3, 0xFF]))
    bad = bytearray(good)
    bad[-1] ^= 0x01
    port.write(bad)
    status, body = board.read_response()
    assert status == LinkStatus.CRC and body == b""
    # not executed: the membranes did not move (a step of three spikes would have)
    assert not board.read()[1].any()
    # LEN = 0 (the link answers at once; nothing follows LEN)
    port.write(bytes([REQ_SYNC, 7, 0]))
    assert board.read_response(7) == (LinkStatus.BAD_LENGTH, b"")   # SEQ echoed
    # a frame cut short: the link gives up after timeout_cycles and says so
    port.write(good[:5])
    assert board.read_response(1) == (LinkStatus.TIMEOUT, b"")
    # cut short before its SEQ byte: the answer carries SEQ 0 (which the host driver never sends)
    port.write(bytes([REQ_SYNC]))
    assert board.read_response(0) == (LinkStatus.TIMEOUT, b"")
    # a UART framing error in a request: flagged (the byte is lost, so the frame times out)
    port.bad_stop.add(port.sent + 3)       # CMD: LEN bytes follow, the CRC never comes
    port.write(good)
    status, _ = board.read_response()
    assert status & LinkStatus.FRAMING
    # bytes before a sync byte are skipped, and the link works normally afterwards
    port.write(b"\x00\x13")
    assert board.info()["rows"] == 40


def test_engine_reports_bad_commands_and_rows(small):
    board, _ = small
    assert board.request(0x7E) == (0, bytes([EngineStatus.BAD_CMD]))
    assert board.request(Cmd.INFO, b"\x01")[1][-1] == EngineStatus.BAD_ARG
    board.clear()
    status, body = board.request(Cmd.SPIKES, bytes([0, 40, 200, 0xFF]))   # rows 40 and 200 do not exist
    assert status == 0 and body[-1] == EngineStatus.BAD_ROW and len(body) == 2
    with pytest.raises(HostError, match="BAD_ROW"):
        board.command(Cmd.SPIKES, bytes([41, 0xFF]))


def test_host_errors_are_one_line():
    class Silent:
        def write(self, data):
            return len(data)

        def read(self, n):
            return b""

    with pytest.raises(HostError, match="no answer from the board"):
        FcBoard(Silent()).info()

    class Garbled(Silent):
        def __init__(self):
            self.buf = bytearray([0x5A, 1, 2, 0, 0, 0x00, 0x00])    # CRC byte wrong

        def read(self, n):
            out, self.buf[:] = bytes(self.buf[:n]), self.buf[n:]
            return out

    with pytest.raises(HostError, match="CRC mismatch"):
        FcBoard(Garbled()).info()
    with pytest.raises(ValueError, match="spikes must be"):
        pack_steps(np.zeros((3, 5)), 6)
    with pytest.raises(ValueError, match="args must be at most 254"):
        encode_request(Cmd.SPIKES, bytes(255))


@pytest.mark.long
def test_one_mnist_image_through_the_simulated_board(fc_net_full):
    """An MNIST test image: conv1 .. pool2 in quantize.snn give the fc layer's input spikes for
    100 steps; the simulated board's output counts and membranes equal quantize.snn.run's."""
    import quantize.snn as q
    from spinbase.data import load_mnist

    _, (xs, _) = load_mnist()
    x = xs[:1]
    net = fc_net_full
    fc_in = []

    class FcInput(q.StepObserver):
        def layer_input(self, t, layer, s):
            if layer is net.layers[-1]:
                fc_in.append(s.reshape(-1).copy())      # the fc rows in (h, w, c) order, as _windows

    q.step_loop(net, q.encode(net.cfg, x), FcInput())
    ref = q.run(net, x)
    assert ref["counts"][0].sum() >= 5              # the image drives the output layer
    board = FcBoard(SimPort(HostLink(_engine_for(net), DIV), DIV))
    board.clear()
    out = board.run(np.array(fc_in))
    counts, membranes = board.read()
    np.testing.assert_array_equal(out.sum(axis=0), ref["counts"][0])
    np.testing.assert_array_equal(counts, ref["counts"][0])
    np.testing.assert_array_equal(membranes, ref["membrane"][0])


def test_bad_engine_and_link_arguments():
    k, c = np.ones((40, 3), np.int64), np.ones((2, 3), np.int64)
    with pytest.raises(ValueError, match=r"c must be \(ceil\(rows / tile\), cols\) = \(2, 3\)"):
        FcEngine(k, c[:1], 6, 32, threshold=256, floor=None, membrane_bits=12)
    with pytest.raises(ValueError, match="threshold must be in 1..2047, not 4096"):
        FcEngine(k, c, 6, 32, threshold=4096, floor=None, membrane_bits=12)
    for bad in (0, 256, 2.5, True):
        with pytest.raises(ValueError, match=r"max_count must be an integer 1..255 \(one INFO byte\)"):
            FcEngine(k, c, 6, 32, threshold=256, floor=None, membrane_bits=12, max_count=bad)
    with pytest.raises(ValueError, match="engine must be a wiring.Component"):
        HostLink(object(), 4)
    from amaranth.lib import wiring

    from hdl.link import ENGINE_MEMBERS

    class Stub(wiring.Component):        # any component with the engine members is accepted
        def elaborate(self, platform):
            return Module()

    eng = Stub(ENGINE_MEMBERS)
    with pytest.raises(ValueError, match="timeout_cycles must be >= 12 bit times = 48, not 10"):
        HostLink(eng, 4, timeout_cycles=10)
    Fragment.get(eng, None)              # the stub elaborates (and so is used); the refused link never existed


# Repeated rows (a count > 1 is the row sent count times) -----------------------------------------------
# Found with the old engine, whose tile accumulators held one spike per row: rows 21 and 30 twice
# and rows 35 and 39 three times in one step; tile 1's 7-bit column-1 accumulator wrapped.
REPEAT_STEP = np.zeros((1, 40), np.int64)
REPEAT_STEP[0, [21, 30, 35, 39]] = [2, 2, 3, 3]


def test_repeated_rows_give_the_models_membrane_not_a_wrapped_one(small):
    """The old board answered a membrane of -69 for neuron 1 where the integer model gives 149."""
    board, _ = small
    assert board.info()["max_count"] == DEFAULT_MAX_COUNT
    _, _, v, clipped = _small_model(REPEAT_STEP, DEFAULT_MAX_COUNT)
    assert v[1] == 149 and not clipped
    board.clear()
    board.run(REPEAT_STEP)
    counts, membranes = board.read()
    np.testing.assert_array_equal(membranes, v)
    assert not counts.any()


def test_default_max_count_is_what_the_seeds_networks_send():
    from quantize.core import CoreLayer

    one = np.zeros((1, 1), np.int64)
    sends = [CoreLayer("fc", "fc", (4, 4, 12), pool, (1, 1), one, one, 1, 0).max_count() for pool in (False, True)]
    assert DEFAULT_MAX_COUNT == max(sends) == 4


@pytest.mark.parametrize("max_count", [1, 3, DEFAULT_MAX_COUNT])
def test_counts_up_to_max_count_are_bit_exact(max_count):
    """Extreme steps (every row with k > 0 in a column at max_count: that tile column's
    accumulator reaches its bound; then every row with k < 0) and random counts 0..max_count in
    a random event order: spikes, counts and membranes equal the model's, status OK. The
    accumulators are exactly as wide as the bound needs (one bit less would not hold it)."""
    k, c = _small_kc()
    eng = _small_engine(max_count)
    for r, t in enumerate(eng.tiles):
        kt = k[r * 32:(r + 1) * 32]
        hi = int(np.clip(kt, 0, None).sum(axis=0).max()) * max_count
        lo = int(np.clip(kt, None, 0).sum(axis=0).min()) * max_count
        assert t.acc_width == max(hi.bit_length(), (-lo - 1).bit_length()) + 1
    rng = np.random.default_rng(max_count)
    steps = [np.where(k[:, j] > 0, max_count, 0) for j in range(3)]
    steps += [np.where(k[:, j] < 0, max_count, 0) for j in range(3)]
    steps += list(rng.integers(0, max_count + 1, (6, 40)) * (rng.random((6, 40)) < 0.3))
    steps = np.array(steps)
    want, counts, v, clipped = _small_model(steps, max_count)
    assert not clipped and want.any() and (v != 0).any()
    answers = _engine_session(eng, [bytes([Cmd.CLEAR]), _spikes_request(steps, rng), bytes([Cmd.READ])])
    masks = bytes(int(np.sum(f << np.arange(3))) for f in want)
    assert answers == [b"\x00", masks + b"\x00", _read_body(counts, v) + b"\x00"]


def test_a_count_above_max_count_is_flagged_and_refused_by_the_host(small):
    """The engine ignores the events past max_count (the step equals the model with the count
    clipped) and says COUNT_OVERFLOW; the host driver refuses such counts before sending."""
    eng = _small_engine(2)
    s = REPEAT_STEP.copy()                      # rows 35 and 39 three times: one too many each
    want, counts, v, clipped = _small_model(s, 2)
    assert clipped
    answers = _engine_session(eng, [_spikes_request(s, np.random.default_rng(1)), bytes([Cmd.READ]),
                                    _spikes_request(np.minimum(s, 2)), bytes([Cmd.READ])])
    assert answers[0][-1] == EngineStatus.COUNT_OVERFLOW
    assert answers[1] == _read_body(counts, v) + b"\x00"
    # the count is per step: the same counts clipped to 2 in the next step are fine
    assert answers[2][-1] == EngineStatus.OK
    board, port = small
    board.clear()
    sent = port.sent
    s[0, 7] = DEFAULT_MAX_COUNT + 1
    with pytest.raises(ValueError, match=r"count of 5 \(step 0, row 7\); the board takes at most max_count = 4"):
        board.run(s)
    assert port.sent == sent and not port.to_board       # nothing sent
    with pytest.raises(HostError, match="COUNT_OVERFLOW"):
        board.command(Cmd.SPIKES, bytes([7] * (DEFAULT_MAX_COUNT + 1) + [STEP_END]))
