"""The registered ECP5 multiplier (hdl.ecp5_blocks): its declarations agree, the synthesis flow
turns it into MULT18X18D cells with their registers (nextpnr times them as such), and the
flow refuses it on a target without the block. Its behaviour is checked bit-exact inside the
integrator (tests/test_cosim_macrospin.py::test_ecp5_blocks_batch)."""

import json
import re
from pathlib import Path

import pytest
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from boards.synth import SynthError, synthesize, tools_missing
from hdl import ecp5_blocks


def _module_ports(text: str, name: str) -> tuple[list[str], list[str]]:
    body = text[text.index(f"module {name}("):]
    body = body[:body.index("endmodule")]
    header = body[body.index("(") + 1:body.index(");")]
    ports = [p.strip() for p in header.split(",")]
    params = re.findall(r"parameter\s+(\w+)", body)
    return ports, params


@pytest.mark.parametrize("name", list(ecp5_blocks.STANDINS))
def test_blackbox_and_simulation_model_declare_the_same_ports(name):
    bb_ports, bb_params = _module_ports(ecp5_blocks.BLACKBOX_VERILOG[name], name)
    sim_ports, sim_params = _module_ports(ecp5_blocks.SIM_MODELS[name].read_text(), name)
    assert sorted(bb_ports) == sorted(sim_ports)
    assert set(bb_params) == set(sim_params) == set(ecp5_blocks.PARAMETERS[name])
    # the bit-level names of the real blocks (nextpnr looks them up)
    want = ({f"A{i}" for i in range(18)} | {f"P{i}" for i in range(36)} if name == ecp5_blocks.MULT
            else {f"ADA{i}" for i in range(14)} | {f"DOB{i}" for i in range(18)} | {"CLKA", "CLKB", "WEA"})
    assert want <= set(bb_ports)


def test_fits_and_rejects_wide_operands():
    assert ecp5_blocks.fits(Signal(signed(18)), Signal(signed(18)))
    assert ecp5_blocks.fits(Signal(unsigned(17)), Signal(signed(5)))
    assert not ecp5_blocks.fits(Signal(unsigned(18)), Signal(signed(18)))
    assert not ecp5_blocks.fits(Signal(signed(19)), Signal(signed(2)))
    with pytest.raises(ValueError, match="do not fit one 18x18 block"):
        # no module: the operands are refused before any logic is added to one
        ecp5_blocks.registered_multiply(None, Signal(signed(24)), Signal(signed(18)), "m")


def test_retype_netlist_renames_cells_and_drops_the_blackbox():
    netlist = {"modules": {
        "top": {"cells": {"a": {"type": ecp5_blocks.MULT}, "b": {"type": "LUT4"}, "c": {"type": ecp5_blocks.RAM}}},
        ecp5_blocks.MULT: {"attributes": {"blackbox": 1}}, ecp5_blocks.RAM: {"attributes": {"blackbox": 1}},
    }}
    assert ecp5_blocks.retype_netlist(netlist) == 2
    assert list(netlist["modules"]) == ["top"]
    assert [c["type"] for c in netlist["modules"]["top"]["cells"].values()] == ["MULT18X18D", "LUT4", "DP16KD"]


class _Chain(wiring.Component):
    """Three dependent products, each followed by an adder, then a 40-cycle delay line
    (circular buffer of 64 words): in fabric registers and Amaranth memory, or in blocks."""

    a: In(signed(18))
    b: In(signed(18))
    y: Out(signed(18))

    def __init__(self, registered: bool):
        self.registered = registered
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        a, b = Signal(signed(18)), Signal(signed(18))
        m.d.sync += [a.eq(self.a), b.eq(self.b)]
        x = a
        for i in range(3):
            if self.registered:
                p = ecp5_blocks.registered_multiply(m, x, b, f"mul{i}")
            else:
                a1, b1, p = Signal(signed(18)), Signal(signed(18)), Signal(signed(36))
                m.d.sync += [a1.eq(x), b1.eq(b), p.eq(a1 * b1)]
            s = Signal(signed(18), name=f"s{i}")
            m.d.sync += s.eq(p[17:35] + a)
            x = s
        wptr, rptr = Signal(6, name="wptr"), Signal(6, init=64 - 38, name="rptr")
        m.d.sync += [wptr.eq(wptr + 1), rptr.eq(rptr + 1)]
        if self.registered:
            y = ecp5_blocks.registered_ram(m, x, wptr, rptr, "dly")
        else:
            m.submodules.mem = mem = memory.Memory(shape=signed(18), depth=64, init=[], attrs={"ram_style": "block"})
            wr, rd = mem.write_port(), mem.read_port()
            y = Signal(signed(18))
            m.d.comb += [wr.addr.eq(wptr), wr.data.eq(x), wr.en.eq(1), rd.addr.eq(rptr)]
            m.d.sync += y.eq(rd.data)
        m.d.comb += self.y.eq(y)
        return m


@pytest.mark.skipif(tools_missing("ecp5-85f") is not None, reason="ECP5 tools absent")
def test_flow_places_registered_blocks_and_times_them(tmp_path):
    fabric = synthesize(_Chain(False), "chain", target="ecp5-85f", out_dir=tmp_path, freq_mhz=200)
    blocks = synthesize(_Chain(True), "chain", target="ecp5-85f", out_dir=tmp_path, freq_mhz=200)
    assert fabric["dsp"] == blocks["dsp"] == 3 and fabric["bram"] == blocks["bram"] == 1
    netlist = json.loads((Path(blocks["dir"]) / "netlist.json").read_text())
    cells = netlist["modules"]["chain"]["cells"].values()
    mults = [c for c in cells if c["type"] == "MULT18X18D"]
    rams = [c for c in cells if c["type"] == "DP16KD"]
    assert len(mults) == 3 and len(rams) == 1 and not set(ecp5_blocks.STANDINS) & set(netlist["modules"])
    assert all(c["parameters"]["REG_INPUTA_CLK"] == "CLK0" and c["parameters"]["REG_OUTPUT_CLK"] == "CLK0"
               for c in mults)
    assert rams[0]["parameters"]["REGMODE_B"] == "OUTREG"
    # the operand, product and delay-output registers moved into the blocks: the fabric keeps
    # a, b, the sums and the two 6-bit pointers
    assert blocks["ff"] == 2 * 18 + 3 * 18 + 2 * 6 < fabric["ff"]
    # nextpnr times the registered block: no path runs through a multiplier any more
    assert blocks["fmax_mhz"] > fabric["fmax_mhz"]


def test_flow_refuses_the_block_on_ice40(tmp_path):
    with pytest.raises(SynthError, match="ice40-up5k does not have"):
        synthesize(_Chain(True), "chain", target="ice40-up5k", out_dir=tmp_path)
