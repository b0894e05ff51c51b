"""Verdict kinds and the layering of the co-simulation code (no simulator needed):
:func:`tb.mismatch.replay_on_mismatch` replays only a real mismatch, a tool failure passes
through; tb/ and boards/ import downward only; the file lock's shared and exclusive modes;
the one lint function (with Verilator when it is installed)."""

import ast
import threading
import time
from pathlib import Path

import pytest

from spinbase.errors import MismatchError, ToolFailure
from spinbase.locks import file_lock
from tb.mismatch import check, first_line, replay_on_mismatch

REPO = Path(__file__).resolve().parent.parent
RUNNER_TEXT = "cocotb test tb.x.t failed on verilator (seed 3): {}\nlog: /x/sim.log\ntail"


def test_check_raises_a_mismatch_only_for_differences():
    check(None)
    check("")
    check([])
    with pytest.raises(MismatchError, match="^beat 3, lane 0$"):
        check("beat 3, lane 0")
    with pytest.raises(MismatchError, match=r"^a; b; c; d \(\+2 more\)$"):
        check(list("abcdef"))
    assert isinstance(MismatchError("x"), AssertionError)  # old `pytest.raises(AssertionError)` holds


def test_replay_names_the_trace_difference():
    calls = []

    def batch():
        raise MismatchError(RUNNER_TEXT.format("image 4: signature differs"))

    def trace(e):
        calls.append(first_line(e))
        raise MismatchError(RUNNER_TEXT.format("step 7, layer fc"))

    with pytest.raises(MismatchError, match=r"^image 4: step 7, layer fc \[batch: image 4: signature differs\]$"):
        replay_on_mismatch(batch, trace, label=lambda e: "image 4: ")
    assert calls == ["image 4: signature differs"]


def test_replay_agreeing_reraises_the_batch_mismatch():
    error = MismatchError(RUNNER_TEXT.format("signature"))

    def batch():
        raise error

    with pytest.raises(MismatchError) as info:
        replay_on_mismatch(batch, lambda e: None)
    assert info.value is error


def test_tool_failure_is_never_replayed_or_called_a_mismatch():
    def batch():
        raise ToolFailure("icarus run produced no results (FileNotFoundError: tb_metrics.tmp)")

    def trace(e):
        raise AssertionError("a tool failure must not be replayed")

    with pytest.raises(ToolFailure) as info:
        replay_on_mismatch(batch, trace)
    assert not isinstance(info.value, MismatchError)
    # and a replay that crashes is a tool failure too, not a verdict
    with pytest.raises(ToolFailure):
        replay_on_mismatch(lambda: (_ for _ in ()).throw(MismatchError("x")),
                           lambda e: (_ for _ in ()).throw(ToolFailure("crash")))


def test_replay_predicate():
    def batch():
        raise MismatchError(RUNNER_TEXT.format("theta[0] model 1, RTL 2"))

    with pytest.raises(MismatchError, match="theta"):
        replay_on_mismatch(batch, lambda e: pytest.fail("replayed"), replay=lambda first: first.startswith("weight"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize(("package", "forbidden"), [
    ("boards", {"tb", "spintwin", "bench"}),
    ("tb", {"spintwin", "bench"}),
])
def test_co_simulation_layers_import_downward(package, forbidden):
    """boards/ never imports tb/ (boards.synth took its lock from tb.runner), and no
    testbench re-reads a config through spintwin (tb/macrospin_tb.py did)."""
    bad = {p.name: sorted(_imports(p) & forbidden) for p in sorted((REPO / package).glob("*.py"))}
    assert {k: v for k, v in bad.items() if v} == {}


def test_shared_lock_admits_readers_and_excludes_a_writer(tmp_path):
    lock = tmp_path / "x.lock"
    events = []

    def writer():
        with file_lock(lock):
            events.append("write")

    with file_lock(lock, shared=True):
        with file_lock(lock, shared=True):  # a second reader (another open file) gets in at once
            events.append("read2")
        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.3)
        events.append("read-done")   # the writer is still waiting for the reader
    t.join(10)
    assert events == ["read2", "read-done", "write"]


def test_one_lint_function(tmp_path):
    from boards.lint import lint
    from boards.tools import simulator_available

    ok, why = simulator_available("verilator")
    if not ok:
        pytest.skip(why)
    good = tmp_path / "good.v"
    good.write_text("module good(input wire clk, input wire a, output reg q);\n"
                    "  always @(posedge clk) q <= a;\nendmodule\n")
    r = lint(good, [REPO / "hdl" / "verilator_waivers.vlt"])
    assert r["clean"], r["log"]
    assert r["command"] == "verilator --lint-only -Wall verilator_waivers.vlt good.v"
    bad = tmp_path / "bad.v"
    bad.write_text("module bad(input wire [7:0] a, output wire [3:0] q);\n  assign q = a;\nendmodule\n")
    r = lint(bad, [], [good])
    assert not r["clean"] and "WIDTH" in r["log"]
    assert r["command"] == "verilator --lint-only -Wall --top-module bad bad.v good.v"
