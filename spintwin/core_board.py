"""Host-side driver of a board that runs the SNN core behind the UART link (``hdl.core_engine``):
the host sends each image's input codes, encoder seeds and time steps; the board answers with
the class counts, the decision and the core's cycle count.

The codes and seeds come from the integer model the bitstream was built from
(``quantize.snn.pixel_codes`` and ``quantize.snn.encoder_seeds``), so the board's answer for
image ``first_image + j`` is exactly ``quantize.snn.run(net, x, first_image=...)``'s counts
and pred (tests/test_core_board.py checks this through the byte protocol in simulation).

Example (an iCEBreaker programmed by ``spintwin build --board icebreaker --config design.toml``)::

    from spintwin.core_board import CoreBoard
    net = ...                               # the design's QuantNetwork (spintwin.block_core.core_network)
    with CoreBoard.open("/dev/ttyUSB1", net=net) as board:
        board.check_network()               # INFO: the board runs this network (shape and CRC-32)
        out = board.classify(x_test[:10])   # {"counts" (10, classes), "pred" (10,), "cycles" (10,)}

Frames, sequence numbers and the link status: ``hdl/link.py`` and :class:`spintwin.host.BoardLink`;
the commands, formats and the engine status: ``hdl/core_engine.py``.
"""

from __future__ import annotations

import numpy as np

from hdl.core_engine import HEADER_BYTES, MAGIC, CoreCmd, CoreStatus, code_bytes, network_id, result_bytes
from hdl.link import PROTOCOL_VERSION

from .host import MAX_ARGS, BoardLink

__all__ = ["CoreBoard", "config_engine", "image_frames"]

_INFO_BYTES = 2 + 1 + 4 + 1 + 2 + 4


def image_frames(codes, seeds, steps: int, input_bits: int) -> list[tuple[int, bytes]]:
    """``[(command, args), ...]`` that send one image: an IMAGE with the seeds, the steps and the
    first codes, then PIXELS with the rest, each at most :data:`spintwin.host.MAX_ARGS` bytes
    (a two-byte code never straddles two frames)."""
    c = np.asarray(codes, dtype=np.int64).reshape(-1)
    if c.size and (c.min() < 0 or c.max() >= 1 << input_bits):
        raise ValueError(f"codes must be in 0..{(1 << input_bits) - 1} ({input_bits}-bit), not {int(c.min())}.."
                         f"{int(c.max())}")
    if not 1 <= int(steps) <= 0xFFFF:
        raise ValueError(f"steps must be 1..65535, not {steps!r}")
    cb = code_bytes(input_bits)
    data = c.astype("<u2").tobytes() if cb == 2 else c.astype(np.uint8).tobytes()
    head = b"".join(int(s).to_bytes(4, "little") for s in seeds) + int(steps).to_bytes(2, "little")
    assert len(head) == HEADER_BYTES
    first = (MAX_ARGS - HEADER_BYTES) // cb * cb
    frames = [(CoreCmd.IMAGE, head + data[:first])]
    step = MAX_ARGS // cb * cb
    frames += [(CoreCmd.PIXELS, data[i:i + step]) for i in range(first, len(data), step)]
    return frames


class CoreBoard(BoardLink):
    """Driver of the core engine: INFO, IMAGE / PIXELS, RESULT.

    Parameters
    ----------
    port : object
        As :class:`spintwin.host.BoardLink`.
    net : quantize.snn.QuantNetwork, optional
        The network the board was built from: the input codes, the seeds (``net.cfg.seed``)
        and the steps (``net.cfg.steps``) come from it; needed by :meth:`classify`.
    """

    _info = None

    def __init__(self, port, net=None, **kwargs):
        super().__init__(port, **kwargs)
        self.net = net

    STATUS = CoreStatus

    def info(self) -> dict:
        """``{"version", "pixels", "input_bits", "classes", "net_id"}`` of the board's core."""
        b = self.command(CoreCmd.INFO)
        if len(b) < 3 or b[:2] != MAGIC:
            raise self._error(f"unexpected INFO answer {b.hex()} (not a spintwin core engine?)")
        if b[2] != PROTOCOL_VERSION:
            raise self._error(f"the board speaks link protocol version {b[2]}, this driver {PROTOCOL_VERSION} "
                              f"(rebuild the bitstream with this spintwin)")
        if len(b) != _INFO_BYTES:
            raise self._error(f"unexpected INFO answer {b.hex()} ({len(b)} bytes, expected {_INFO_BYTES})")
        self._info = {"version": b[2], "pixels": int.from_bytes(b[3:7], "little"), "input_bits": b[7],
                      "classes": int.from_bytes(b[8:10], "little"), "net_id": int.from_bytes(b[10:14], "little")}
        return dict(self._info)

    def check_network(self) -> dict:
        """INFO, checked against :attr:`net` (pixels, input bits, classes, network CRC-32); a
        board built from another network is a HostError naming the difference."""
        got = self.info()
        net = self._net()
        want = {"pixels": int(np.prod(net.input_shape)), "input_bits": net.cfg.input_bits, "classes": net.classes,
                "net_id": network_id(net)}
        diff = [f"{k} {got[k]} (host {v})" for k, v in want.items() if got[k] != v]
        if diff:
            raise self._error(f"the board runs another network: {', '.join(diff)}")
        return got

    def _net(self):
        if self.net is None:
            raise ValueError("CoreBoard needs net= (the QuantNetwork the board was built from)")
        return self.net

    def _parse_result(self, b: bytes, classes: int) -> dict:
        if len(b) != result_bytes(classes):
            raise self._error(f"the result has {len(b)} bytes (expected {result_bytes(classes)} for {classes} classes)")
        counts = np.frombuffer(b[:2 * classes], "<u2").astype(np.int64)
        return {"counts": counts, "pred": int.from_bytes(b[2 * classes:2 * classes + 2], "little"),
                "cycles": int.from_bytes(b[2 * classes + 2:], "little")}

    def run_codes(self, codes, seeds, steps: int) -> dict:
        """One image from its input codes (H W C, raster order), encoder seeds (two ints) and
        steps: ``{"counts" int64 (classes,), "pred", "cycles"}``."""
        net = self._net()
        classes, bits = net.classes, net.cfg.input_bits
        c = np.asarray(codes).reshape(-1)
        if c.size != int(np.prod(net.input_shape)):
            raise ValueError(f"codes must hold {int(np.prod(net.input_shape))} values (the input "
                             f"{' x '.join(map(str, net.input_shape))}), not {c.size}")
        frames = image_frames(c, seeds, steps, bits)
        for j, (cmd, args) in enumerate(frames):
            body = self.command(cmd, args)
            if j < len(frames) - 1 and body:
                raise self._error(f"{cmd.name} answered {len(body)} bytes before the image's last code")
        return self._parse_result(body, classes)

    def result(self) -> dict:
        """The last image's result again (after a lost answer)."""
        return self._parse_result(self.command(CoreCmd.RESULT), self._net().classes)

    def classify(self, x, first_image: int = 0) -> dict:
        """Images ``x`` (B, H, W[, C]) on the board, image j with run index ``first_image + j``
        (its encoder seeds): ``{"counts" (B, classes), "pred" (B,), "cycles" (B,)}`` int64,
        equal to ``quantize.snn.run(net, x, first_image=first_image)``'s counts and pred."""
        from quantize.snn import encoder_seeds, pixel_codes

        net = self._net()
        x = np.asarray(x)
        out = [self.run_codes(pixel_codes(net.cfg, img), encoder_seeds(net.cfg.seed, first_image + j), net.cfg.steps)
               for j, img in enumerate(x)]
        return {"counts": np.array([o["counts"] for o in out], np.int64).reshape(len(x), net.classes),
                "pred": np.array([o["pred"] for o in out], np.int64),
                "cycles": np.array([o["cycles"] for o in out], np.int64)}


def config_engine(path, board: str | None = None) -> tuple:
    """``(CoreEngine, QuantNetwork, name)`` of a design file's [core] table (``spintwin build
    --config``): its network (a built-in or a ``.npz`` / ``.nir`` file) with its formats, checked
    against the core's limits; a refusal is one line (SpintwinError) naming the file or layer.
    With ``board`` (a ``spintwin build`` board name), a design whose memories cannot fit that
    board's device is refused before the engine is built (``boards.build.check_memory_fits``)."""
    from pathlib import Path

    from hdl.core_engine import CoreEngine
    from spinbase.errors import SpintwinError

    from .block_core import BLOCK, within_limits
    from .blocks import Request
    from .config import load_config

    path = Path(path)
    design = BLOCK.design(load_config(path), Request(config_path=path))
    net = within_limits(design)
    name = f"core {Path(design.network).name} ({design.cfg.kind}, config {path.name})"
    try:
        if board is not None:                     # refused before any hardware is built
            from boards.build import check_memory_fits
            from hdl.core_engine import memory_bits

            check_memory_fits(memory_bits(net), board, name)
        engine = CoreEngine(net)
    except ValueError as e:
        raise SpintwinError(f"config {path}: core: {e}") from None
    return engine, net, name
