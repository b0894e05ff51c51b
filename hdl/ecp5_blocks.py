"""ECP5 hard blocks with their own registers: MULT18X18D and DP16KD, for the synthesis flow.

Yosys maps ``a * b`` onto a purely combinational MULT18X18D and leaves the registers around it
in the fabric, so every product pays two long routes between the DSP column and the logic
(on the 5-lane twin that was the critical path: 3.9 ns in the block, about 8.5 ns of routing).
It maps a memory onto a DP16KD without its output register (REGMODE NOREG), whose 5.8 ns
clock-to-out (speed grade 6) caps any path out of a block RAM at about 135 MHz. The blocks'
own registers remove both limits. Yosys 0.70 packs neither register, and it does not accept a
hand-instantiated MULT18X18D (its ``abc9`` step fails on the cell's simulation model), so the
RTL instantiates stand-in modules with the real cells' bit-level ports and parameters:

* for synthesis, :data:`BLACKBOX_VERILOG` declares them and :func:`retype_netlist` renames
  the cells to MULT18X18D / DP16KD in Yosys's JSON netlist before nextpnr (which times the
  registered modes: clock-to-out 0.74 ns for the multiplier's output register);
* for simulation, :data:`SIM_MODELS` (``hdl/verilog/``) give the behaviour of the one mode
  used of each (Lattice TN1267 sysDSP, TN1264 sysMEM): the multiplier with A, B and the
  36-bit signed product registered; the RAM as 1024 x 18, written on port A, read on port B
  through the address and output registers (data two cycles after the address), zero at
  configuration.

Each replaces the same registers of the generic RTL in :class:`hdl.macrospin._Stages`, so the
two styles are cycle-for-cycle equal; the co-simulation tests run both.
"""

from __future__ import annotations

from pathlib import Path

from amaranth.hdl import ClockSignal, Const, Instance, Module, Signal, Value, signed, unsigned

__all__ = ["MULT", "RAM", "WIDTH", "MULT_LATENCY", "RAM_LATENCY", "RAM_DEPTH", "BLACKBOX_VERILOG",
           "SIM_MODELS", "registered_multiply", "registered_ram", "retype_netlist", "fits", "STANDINS"]

MULT = "SPINTWIN_MULT18X18D"  #: stand-in of MULT18X18D
RAM = "SPINTWIN_DP16KD"  #: stand-in of DP16KD
STANDINS = {MULT: "MULT18X18D", RAM: "DP16KD"}  #: stand-in -> ECP5 cell
WIDTH = 18  #: multiplier operand width (signed), and RAM word width
MULT_LATENCY = 2  #: cycles from A, B to P (input register, output register)
RAM_DEPTH = 1024  #: words of one RAM at 18 bits
RAM_LATENCY = 2  #: cycles from the read address to DOB (address register, output register)

#: Parameters of the one mode used of each (all others keep the cell's defaults).
MULT_PARAMETERS = {
    "REG_INPUTA_CLK": "CLK0", "REG_INPUTB_CLK": "CLK0", "REG_OUTPUT_CLK": "CLK0",
    "REG_PIPELINE_CLK": "NONE", "GSR": "DISABLED", "RESETMODE": "SYNC",
}
RAM_PARAMETERS = {
    "DATA_WIDTH_A": 18, "DATA_WIDTH_B": 18, "REGMODE_A": "NOREG", "REGMODE_B": "OUTREG",
    "WRITEMODE_A": "NORMAL", "WRITEMODE_B": "NORMAL", "RESETMODE": "SYNC", "ASYNC_RESET_RELEASE": "SYNC",
    "CSDECODE_A": "0b000", "CSDECODE_B": "0b000", "GSR": "DISABLED", "CLKAMUX": "CLKA", "CLKBMUX": "CLKB",
}
PARAMETERS = {MULT: MULT_PARAMETERS, RAM: RAM_PARAMETERS}

_VERILOG = Path(__file__).resolve().parent / "verilog"
SIM_MODELS = {MULT: _VERILOG / "spintwin_mult18x18d.v", RAM: _VERILOG / "spintwin_dp16kd.v"}


def _ports(name: str) -> list[tuple[str, str]]:
    bits = lambda p, n: [f"{p}{i}" for i in range(n)]  # noqa: E731
    if name == MULT:
        ins = bits("A", WIDTH) + bits("B", WIDTH) + bits("C", WIDTH)
        ins += ["SIGNEDA", "SIGNEDB", "SOURCEA", "SOURCEB", "CLK0", "CE0", "RST0"]
        return [(p, "input") for p in ins] + [(p, "output") for p in bits("P", 2 * WIDTH)]
    ins = []
    for s in "AB":
        ins += bits(f"DI{s}", WIDTH) + bits(f"AD{s}", 14) + [f"CLK{s}", f"CE{s}", f"OCE{s}", f"WE{s}", f"RST{s}"]
        ins += bits(f"CS{s}", 3)
    return [(p, "input") for p in ins] + [(p, "output") for p in bits("DOB", WIDTH)]


def _blackbox(name: str) -> str:
    ports = _ports(name)
    lines = ["(* blackbox *)", f"module {name}(" + ", ".join(p for p, _ in ports) + ");"]
    lines += [f'    parameter {k} = "NONE";' if isinstance(v, str) else f"    parameter {k} = 0;"
              for k, v in PARAMETERS[name].items()]
    lines += [f"    {d} {p};" for p, d in ports]
    return "\n".join(lines + ["endmodule", ""])


#: Declarations of the stand-ins for Yosys (boards.synth appends those a design uses).
BLACKBOX_VERILOG = {name: _blackbox(name) for name in STANDINS}


def fits(a: Value, b: Value) -> bool:
    """Whether ``a * b`` fits one block (both operands at most 18 bits, signed or narrower)."""
    def ok(v):
        s = Value.cast(v).shape()
        return s.width + (0 if s.signed else 1) <= WIDTH
    return ok(a) and ok(b)


def _params(name):
    return {f"p_{k}": v for k, v in PARAMETERS[name].items()}


def registered_multiply(m: Module, a: Value, b: Value, name: str, domain: str = "sync") -> Value:
    """``a * b`` (signed) through one registered MULT18X18D: the product ``MULT_LATENCY``
    cycles after the operands, shape ``signed(len(a) + len(b))`` as Amaranth's ``a * b``."""
    a, b = Value.cast(a), Value.cast(b)
    if not fits(a, b):
        raise ValueError(f"{name}: operands of {a.shape()} and {b.shape()} do not fit one 18x18 block")
    width = len(a) + len(b) if a.shape().signed and b.shape().signed else len(a) + len(b) + 1
    av, bv = a.as_signed() if a.shape().signed else a, b.as_signed() if b.shape().signed else b
    ax, bx = Signal(signed(WIDTH), name=f"{name}_a"), Signal(signed(WIDTH), name=f"{name}_b")
    p = Signal(signed(2 * WIDTH), name=f"{name}_p")
    m.d.comb += [ax.eq(av), bx.eq(bv)]
    ports = _params(MULT)
    ports.update({f"i_A{i}": ax[i] for i in range(WIDTH)})
    ports.update({f"i_B{i}": bx[i] for i in range(WIDTH)})
    ports.update({f"i_C{i}": Const(0, 1) for i in range(WIDTH)})
    ports.update({f"o_P{i}": p[i] for i in range(2 * WIDTH)})
    ports.update(i_SIGNEDA=Const(1, 1), i_SIGNEDB=Const(1, 1), i_SOURCEA=Const(0, 1), i_SOURCEB=Const(0, 1),
                 i_CLK0=ClockSignal(domain), i_CE0=Const(1, 1), i_RST0=Const(0, 1))
    m.submodules[name] = Instance(MULT, **ports)
    return p[:min(width, 2 * WIDTH)].as_signed()


def registered_ram(m: Module, data: Value, waddr: Value, raddr: Value, name: str, we: Value = 1,
                   domain: str = "sync") -> Value:
    """A memory in DP16KD blocks (one per 18 bits of ``data``, contents zero at start):
    ``data`` written at ``waddr`` when ``we``; the word at ``raddr`` appears ``RAM_LATENCY``
    cycles after the address (through the block's output register). Returns a value of
    ``data``'s shape."""
    data = Value.cast(data)
    if len(waddr) > 10 or len(raddr) > 10:
        raise ValueError(f"{name}: addresses of {len(waddr)}/{len(raddr)} bits exceed one block's 1024 words")
    out = Signal(unsigned(len(data)), name=f"{name}_q")
    clk = ClockSignal(domain)
    wen = Signal(name=f"{name}_we")
    m.d.comb += wen.eq(we)
    for k, lo in enumerate(range(0, len(data), WIDTH)):
        hi = min(lo + WIDTH, len(data))
        din, dout = Signal(WIDTH, name=f"{name}_d{k}"), Signal(WIDTH, name=f"{name}_o{k}")
        m.d.comb += [din.eq(data[lo:hi]), out[lo:hi].eq(dout[:hi - lo])]
        ports = _params(RAM)
        for s, addr in (("A", waddr), ("B", raddr)):
            a = Signal(10, name=f"{name}_ad{s.lower()}{k}")
            m.d.comb += a.eq(addr)
            # x18 mode: AD*4..AD*13 address the word, AD*0..1 are the byte write enables
            ports.update({f"i_AD{s}{i + 4}": a[i] for i in range(10)})
            ports.update({f"i_AD{s}{i}": wen if s == "A" and i < 2 else Const(0, 1) for i in range(4)})
            ports.update({f"i_CLK{s}": clk, f"i_CE{s}": Const(1, 1), f"i_OCE{s}": Const(1, 1),
                          f"i_WE{s}": wen if s == "A" else Const(0, 1), f"i_RST{s}": Const(0, 1)})
            ports.update({f"i_CS{s}{i}": Const(0, 1) for i in range(3)})
        ports.update({f"i_DIA{i}": din[i] for i in range(WIDTH)})
        ports.update({f"i_DIB{i}": Const(0, 1) for i in range(WIDTH)})
        ports.update({f"o_DOB{i}": dout[i] for i in range(WIDTH)})
        m.submodules[f"{name}_{k}"] = Instance(RAM, **ports)
    return out.as_signed() if data.shape().signed else out


def retype_netlist(netlist: dict) -> int:
    """Rename the stand-in cells of a Yosys JSON netlist (in place) to their ECP5 cells and
    drop the blackbox modules; returns the number of cells renamed."""
    n = 0
    for name in STANDINS:
        netlist.get("modules", {}).pop(name, None)
    for mod in netlist.get("modules", {}).values():
        for cell in mod.get("cells", {}).values():
            if cell.get("type") in STANDINS:
                cell["type"] = STANDINS[cell["type"]]
                n += 1
    return n
