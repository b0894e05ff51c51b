"""Board platforms, pins and the bitstream build (boards.platforms, boards.build)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from boards.build import DESIGNS, add_build_arguments, build_board
from boards.platforms import BOARDS, BoardTop, board_spec, make_platform, tool_env, tools_missing
from hdl.link import FcEngine, HostLink
from spinbase.errors import SpintwinError


def _small_link(divisor=104):
    rng = np.random.default_rng(0)
    eng = FcEngine(rng.integers(-15, 16, (8, 2)), rng.integers(1, 99, (1, 2)), 4, 8, threshold=64,
                   floor=None, membrane_bits=10)
    return HostLink(eng, divisor)


@pytest.mark.parametrize("board,device,clock_hz,rx,tx", [("icebreaker", "iCE40UP5K", 12e6, "6", "9"),
                                                          ("ulx3s", "LFE5U-85F", 25e6, "M1", "L4")])
def test_platform_clock_and_uart_pins(board, device, clock_hz, rx, tx):
    p = make_platform(board)
    assert p.device == device
    assert p.default_clk_frequency == clock_hz == board_spec(board).clock_hz
    uart = p.lookup("uart", 0)
    pins = {sub.name: sub.ios[0].names for sub in uart.ios}
    assert pins["rx"] == [rx] and pins["tx"] == [tx]
    # the build needs only the YoWASP tools the board lists (not the ULX3S's programmer)
    assert list(p.required_tools) == list(board_spec(board).tools)


_PINS = {"icebreaker": {"clk12_0__io": "35", "uart_0__rx__io": "6", "uart_0__tx__io": "9", "led_0__io": "11"},
         "ulx3s": {"clk25_0__io": "G2", "uart_0__rx__io": "M1", "uart_0__tx__io": "L4", "led_0__io": "B2"}}


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_prepare_puts_the_link_on_the_uart_pins(board):
    """The build plan's constraints place exactly the clock, the UART and LED 0 (board schematics:
    iCEBreaker FTDI channel B on pins 6/9; ULX3S FTDI on M1/L4), with the board clock constrained."""
    import re

    plan = make_platform(board).prepare(BoardTop(_small_link()), "t")
    if board == "icebreaker":
        text = plan.files["t.pcf"]
        pins = dict(re.findall(r"^set_io (\S+) (\S+)$", text, re.M))
        assert "set_frequency clk12_0__io 12.0" in text
    else:
        text = plan.files["t.lpf"]
        pins = dict(re.findall(r'^LOCATE COMP "(\S+)" SITE "(\S+)";$', text, re.M))
        assert 'FREQUENCY PORT "clk25_0__io" 25000000' in text
    assert pins == _PINS[board]


def test_tool_env_names_the_yowasp_tools():
    for board in BOARDS:
        if tools_missing(board):
            continue
        env = tool_env(board)
        assert set(env) == {name.upper().replace("-", "_") for name in board_spec(board).tools}
        assert all("yowasp" in v for v in env.values())


def test_bad_requests_are_one_line_errors(tmp_path):
    with pytest.raises(SpintwinError, match="board must be one of icebreaker, ulx3s, not 'de0'"):
        build_board("de0", tmp_path, echo=None)
    with pytest.raises(SpintwinError, match="design must be one of"):
        build_board("icebreaker", tmp_path, design="huge", echo=None)
    with pytest.raises(SpintwinError, match="baud error"):
        build_board("icebreaker", tmp_path, baud=2_500_000, echo=None)   # 12 MHz / 5 = 2.4 Mbaud: 4 % off
    with pytest.raises(SpintwinError, match="engine must be"):
        build_board("icebreaker", tmp_path, engine=object(), echo=None)


def test_build_arguments():
    parser = argparse.ArgumentParser()
    add_build_arguments(parser)
    args = parser.parse_args(["--board", "ulx3s", "--design", "fc-cmos"])
    assert (args.board, args.design, args.baud) == ("ulx3s", "fc-cmos", 115200)
    assert set(DESIGNS) >= {"default"}
    with pytest.raises(SystemExit):
        parser.parse_args(["--board", "nexys"])


@pytest.mark.long
@pytest.mark.parametrize("board", ["icebreaker", "ulx3s"])
def test_board_bitstream(board, tmp_path):
    """The default design through YoWASP: a bitstream, a report, timing met at the board clock
    (about 4 minutes for the iCEBreaker and longer for the ULX3S on 2 loaded cores)."""
    missing = tools_missing(board)
    if missing:
        pytest.skip(missing)
    spec = board_spec(board)
    lines = []
    res = build_board(board, tmp_path, echo=lines.append)
    bit = tmp_path / f"spintwin_{board}{spec.bitstream}"
    assert bit.is_file() and bit.stat().st_size == res["bitstream"]["bytes"]
    if board == "icebreaker":
        # an iCE40 UP5K configuration image is always 104,090 bytes (833 kbit, device datasheet)
        assert bit.stat().st_size == 104090
    report = json.loads((tmp_path / f"spintwin_{board}.json").read_text())
    assert report["bitstream"]["sha256"] == res["bitstream"]["sha256"]
    r, cap = report["resources"], report["capacity"]
    assert all(0 < r[k] <= cap[k] for k in ("lut", "ff", "dsp"))
    assert r["io"] == 4                                     # clock, UART rx and tx, LED
    assert report["timing_met"] and report["fmax_mhz"] >= spec.clock_hz / 1e6
    assert report["engine"]["rows"] == 192 and report["engine"]["cols"] == 10
    assert lines and "fmax" in lines[-1]
