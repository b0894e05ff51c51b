"""ECP5 MULT18X18D with its own input and output registers, for the synthesis flow.

Yosys maps ``a * b`` onto a purely combinational MULT18X18D and leaves the registers around it
in the fabric, so every product pays two long routes between the DSP column and the logic
(on the 5-lane twin that was the critical path: 3.9 ns in the block, about 8.5 ns of routing).
The block's own registers remove both routes from the timing paths. Yosys 0.70 neither packs
registers into the block nor accepts a hand-instantiated MULT18X18D (its ``abc9`` step fails
on the cell's simulation model), so the RTL instantiates a stand-in module,
:data:`PRIMITIVE`, with the MULT18X18D's bit-level ports and parameters:

* for synthesis, :data:`BLACKBOX_VERILOG` declares it and :func:`retype_netlist` renames the
  cells to MULT18X18D in Yosys's JSON netlist before nextpnr (which models the registered
  block's timing: clock-to-out 0.74 ns at speed grade 6);
* for simulation, :data:`SIM_MODEL` (``hdl/verilog/spintwin_mult18x18d.v``) is the
  behaviour of the one mode used here (Lattice TN1267, sysDSP): A and B registered, the 36-bit
  signed product registered, no pipeline register, CE always on, no reset.

The timing is that of the fabric version in :class:`hdl.macrospin._Stages` (operand registers,
product register), so the two are cycle-for-cycle equal; the co-simulation tests run both.
"""

from __future__ import annotations

from pathlib import Path

from amaranth.hdl import ClockSignal, Const, Instance, Module, Signal, Value, signed

__all__ = ["PRIMITIVE", "TARGET_CELL", "WIDTH", "LATENCY", "BLACKBOX_VERILOG", "SIM_MODEL",
           "registered_multiply", "retype_netlist", "fits"]

PRIMITIVE = "SPINTWIN_MULT18X18D"
TARGET_CELL = "MULT18X18D"
WIDTH = 18  #: operand width (signed)
LATENCY = 2  #: cycles from A, B to P (input register, output register)

#: Parameters of the one mode used (all others keep the primitive's defaults).
PARAMETERS = {
    "REG_INPUTA_CLK": "CLK0", "REG_INPUTB_CLK": "CLK0", "REG_OUTPUT_CLK": "CLK0",
    "REG_PIPELINE_CLK": "NONE", "GSR": "DISABLED", "RESETMODE": "SYNC",
}

SIM_MODEL = Path(__file__).resolve().parent / "verilog" / "spintwin_mult18x18d.v"


def _ports() -> list[tuple[str, str]]:
    ins = [f"A{i}" for i in range(WIDTH)] + [f"B{i}" for i in range(WIDTH)] + [f"C{i}" for i in range(WIDTH)]
    ins += ["SIGNEDA", "SIGNEDB", "SOURCEA", "SOURCEB", "CLK0", "CE0", "RST0"]
    return [(p, "input") for p in ins] + [(f"P{i}", "output") for i in range(2 * WIDTH)]


def _blackbox() -> str:
    ports = _ports()
    lines = ["(* blackbox *)", f"module {PRIMITIVE}(" + ", ".join(p for p, _ in ports) + ");"]
    lines += [f'    parameter {k} = "NONE";' for k in PARAMETERS]
    lines += [f"    {d} {p};" for p, d in ports]
    return "\n".join(lines + ["endmodule", ""])


#: Declaration of :data:`PRIMITIVE` for Yosys (appended to the design by boards.synth).
BLACKBOX_VERILOG = _blackbox()


def fits(a: Value, b: Value) -> bool:
    """Whether ``a * b`` fits one block (both operands at most 18 bits, signed or narrower)."""
    def ok(v):
        s = Value.cast(v).shape()
        return s.width + (0 if s.signed else 1) <= WIDTH
    return ok(a) and ok(b)


def registered_multiply(m: Module, a: Value, b: Value, name: str, domain: str = "sync") -> Value:
    """``a * b`` (signed) through one registered MULT18X18D: the product ``LATENCY`` cycles
    after the operands, shape ``signed(len(a) + len(b))`` as Amaranth's ``a * b``."""
    a, b = Value.cast(a), Value.cast(b)
    if not fits(a, b):
        raise ValueError(f"{name}: operands of {a.shape()} and {b.shape()} do not fit one 18x18 block")
    width = len(a) + len(b) if a.shape().signed and b.shape().signed else len(a) + len(b) + 1
    av, bv = a.as_signed() if a.shape().signed else a, b.as_signed() if b.shape().signed else b
    ax, bx = Signal(signed(WIDTH), name=f"{name}_a"), Signal(signed(WIDTH), name=f"{name}_b")
    p = Signal(signed(2 * WIDTH), name=f"{name}_p")
    m.d.comb += [ax.eq(av), bx.eq(bv)]
    ports = {f"p_{k}": v for k, v in PARAMETERS.items()}
    ports.update({f"i_A{i}": ax[i] for i in range(WIDTH)})
    ports.update({f"i_B{i}": bx[i] for i in range(WIDTH)})
    ports.update({f"i_C{i}": Const(0, 1) for i in range(WIDTH)})
    ports.update({f"o_P{i}": p[i] for i in range(2 * WIDTH)})
    ports.update(i_SIGNEDA=Const(1, 1), i_SIGNEDB=Const(1, 1), i_SOURCEA=Const(0, 1), i_SOURCEB=Const(0, 1),
                 i_CLK0=ClockSignal(domain), i_CE0=Const(1, 1), i_RST0=Const(0, 1))
    m.submodules[name] = Instance(PRIMITIVE, **ports)
    return p[:min(width, 2 * WIDTH)].as_signed()


def retype_netlist(netlist: dict) -> int:
    """Rename :data:`PRIMITIVE` cells of a Yosys JSON netlist (in place) to MULT18X18D and
    drop the blackbox module; returns the number of cells renamed."""
    n = 0
    netlist.get("modules", {}).pop(PRIMITIVE, None)
    for mod in netlist.get("modules", {}).values():
        for cell in mod.get("cells", {}).values():
            if cell.get("type") == PRIMITIVE:
                cell["type"] = TARGET_CELL
                n += 1
    return n
