"""A free-running-clock Verilog top for self-test harnesses, and the Verilator flags that make
batch co-simulation fast.

cocotb's clock drives a port through a simulator callback every half period; a clock generated
inside the design (``always #(T/2) clk = ~clk``, Verilator ``--timing``) costs nothing in the
simulator interface. Together with ``--no-public-flat-rw --public-depth 1`` (cocotb's runner
makes every signal of the design VPI-visible, which blocks Verilator's optimisations; only the
wrapper's ports and its clock are needed) the macrospin self-test runs ~4x faster on Verilator
than with cocotb's clock (measured by ``make bench``).
"""

from __future__ import annotations

from amaranth.hdl import Shape
from amaranth.lib.wiring import Flow

__all__ = ["clocked_top", "FAST_VERILATOR_ARGS", "PERIOD_NS"]

PERIOD_NS = 10

#: Verilator build arguments for a ``clocked_top`` design (documented above).
FAST_VERILATOR_ARGS = ("--no-public-flat-rw", "--public-depth", "1", "--timing", "-O3",
                       "--x-assign", "fast", "--x-initial", "fast",
                       "-CFLAGS", "-std=c++20 -fcoroutines -O2")


def clocked_top(component, inner: str, period_ns: int = PERIOD_NS) -> tuple[str, str]:
    """Verilog of ``{inner}_clocked``: instantiates module ``inner`` (the Amaranth export of
    *component*, ports ``clk``, ``rst`` and the component's flat members) with a clock
    generated inside. Returns (module name, Verilog text)."""
    if period_ns % 2:
        raise ValueError(f"period_ns must be even (two equal half periods), not {period_ns}")
    names, decls, conns = ["rst"], ["  input rst;"], [".clk(clk)", ".rst(rst)"]
    for name, member in component.signature.members.items():
        if not member.is_port:
            raise ValueError(f"clocked_top needs flat ports; member {name!r} is an interface")
        width = Shape.cast(member.shape).width
        rng = f"[{width - 1}:0] " if width > 1 else ""
        decls.append(f"  {'input' if member.flow == Flow.In else 'output'} {rng}{name};")
        names.append(name)
        conns.append(f".{name}({name})")
    top = f"{inner}_clocked"
    text = "\n".join([
        "`timescale 1ns/1ps",
        f"module {top}({', '.join(names)});",
        *decls,
        "  reg clk = 1'b0;",
        f"  always #{period_ns // 2} clk = ~clk;",
        f"  {inner} u_{inner}({', '.join(conns)});",
        "endmodule",
        "",
    ])
    return top, text
