"""cocotb co-simulation of the macrospin integrator against the integer model, bit for bit.

Two testbenches per simulator and configuration:

- batch (tb.macrospin_selftest_tb): stimulus, handshakes and an output signature on chip
  (hdl.harness), the simulator running free; >= 100,000 magnet-steps per configuration on
  Verilator and 10,000 on Icarus (100,000 in `make test-long`). A signature difference replays the run with a per-cycle trace
  and names the first differing beat, lane and field.
- per cycle (tb.macrospin_tb): Python-drawn stimulus and back-pressure written every cycle
  (a different random handshake process); 20,000 magnet-steps on Verilator, 6,000 on Icarus
  (100,000 in `make test-long`).

WAVES=1 writes a waveform (path printed by the runner).
"""

import pytest

from tb import macrospin_launch
from tb.macrospin_cases import CASES, DSP_BLOCK_CASE, build_case
from tb.runner import skip_unless_simulator
from spinbase.errors import MismatchError, SpintwinError


def _run(case, sim, magnet_steps, seed=11, **env):
    skip_unless_simulator(sim)
    model, noise, _ = build_case(case, seed=seed)
    return macrospin_launch.run_per_cycle(model, noise, sim=sim, seed=seed, magnet_steps=magnet_steps,
                                          env={"MS_CASE": case, **env})


def run_batch(case, sim, magnet_steps, seed=11, blocks="generic", **env):
    skip_unless_simulator(sim)
    model, noise, _ = build_case(case, seed=seed)
    return macrospin_launch.run_batch(model, noise, sim=sim, seed=seed, magnet_steps=magnet_steps,
                                      env={"MS_CASE": case, **env}, blocks=blocks)


# Icarus runs these designs at 40-1,200 cycles/s (BENCHMARKS.md): its 100,000-step batches
# (about 30 min of one core for the three cases) are `make test-long`; CI runs 10,000 each.
# odd_k3 (3 lanes x 10 LUT multipliers, odd widths) is the slowest design to build and run:
# 706 s per cycle on Verilator, 606 s / 233 s on Icarus in this machine's full run, about a
# third of `make test`. Its batch run on Verilator (100,000 magnet-steps, every output beat
# in the signature) and the Amaranth-simulator equality stay in every run; its per-cycle and
# Icarus runs are in `make test-long`.
def _cases(slow=("odd_k3",)):
    return [pytest.param(c, marks=pytest.mark.long) if c in slow else c for c in CASES]


def _batch_params():
    """(case, sim, magnet_steps): Verilator 100,000 for every case; Icarus 10,000 in every run
    and 100,000 in `make test-long`, but odd_k3's Icarus runs only there (see _cases)."""
    out = []
    for case in CASES:
        slow = [pytest.mark.long] if case == "odd_k3" else []
        out += [pytest.param(case, "verilator", 100_000, id=f"{case}-verilator-100000"),
                pytest.param(case, "icarus", 10_000, marks=slow, id=f"{case}-icarus-10000"),
                pytest.param(case, "icarus", 100_000, marks=pytest.mark.long, id=f"{case}-icarus-100000")]
    return out


@pytest.mark.parametrize(("case", "sim", "magnet_steps"), _batch_params())
def test_batch_magnet_steps(case, sim, magnet_steps):
    r = run_batch(case, sim, magnet_steps)
    assert r.metrics["magnet_steps"] >= magnet_steps
    print(f"{case}: {r.metrics['cycles_per_s']:.0f} cycles/s on {sim} (batch)")


# The ECP5 style (hdl.ecp5_blocks: every product a MULT18X18D and every deep delay line a DP16KD
# with their own registers, what the ECP5 synthesis places) against the same model; the block's behaviour is its simulation model.
# Icarus is ~100x slower on this design (BENCHMARKS.md), so it runs a shorter stretch.
@pytest.mark.parametrize(("sim", "magnet_steps"), [("verilator", 100_000), ("icarus", 10_000)])
def test_ecp5_blocks_batch(sim, magnet_steps):
    r = run_batch(DSP_BLOCK_CASE, sim, magnet_steps, seed=5, blocks="ecp5")
    assert r.metrics["magnet_steps"] >= magnet_steps


def test_ecp5_blocks_mismatch_is_named():
    """The ECP5 style's first-difference report works too (a corrupted beat is caught)."""
    with pytest.raises(MismatchError, match=r"^beat 31, lane 0, field x: expected"):
        run_batch(DSP_BLOCK_CASE, "verilator", 800, blocks="ecp5", MS_CORRUPT_BEAT=31)


def test_batch_mismatch_names_first_beat_lane_and_field():
    with pytest.raises(MismatchError, match=r"^beat 57, lane 0, field x: expected .* \[batch: signature over"):
        run_batch("default_n103", "verilator", 2000, MS_CORRUPT_BEAT=57)


@pytest.mark.parametrize("case", _cases())
def test_verilator_per_cycle(case):
    r = _run(case, "verilator", 20_000)
    assert r.metrics["magnet_steps"] >= 20_000
    print(f"{case}: {r.metrics['cycles_per_s']:.0f} cycles/s on Verilator (per cycle)")


@pytest.mark.parametrize("case", _cases())
def test_icarus_short(case):
    r = _run(case, "icarus", 6_000)
    assert r.metrics["magnet_steps"] >= 6_000


@pytest.mark.long
@pytest.mark.parametrize("case", CASES)
def test_icarus_100k_magnet_steps(case):
    r = _run(case, "icarus", 100_000)
    assert r.metrics["magnet_steps"] >= 100_000


def test_mismatch_names_first_beat_lane_and_field():
    with pytest.raises(MismatchError, match=r"beat 57, lane 0, field x: expected"):
        _run("default_n103", "verilator", 500, MS_CORRUPT_BEAT=57)


def _no_build(*args, **kwargs):
    raise AssertionError("the launcher exported or built before checking its inputs")


@pytest.mark.parametrize("launch", ["run_batch", "run_per_cycle"])
def test_oversized_steps_refused_before_any_build(launch, monkeypatch):
    """Issue 20: `verify macrospin --steps 10**30` was reported as MISMATCH (a 32-bit range
    error inside the testbench). Now one SpintwinError line, before any export or build."""
    monkeypatch.setattr(macrospin_launch, "export_verilog", _no_build)
    monkeypatch.setattr(macrospin_launch, "run_cocotb", _no_build)
    model, noise, _ = build_case("default_n103", seed=11)
    fn = getattr(macrospin_launch, launch)
    for bad in (10**30, 0, -5, 2.5, True):
        with pytest.raises(SpintwinError) as info:
            fn(model, noise, sim="verilator", seed=11, magnet_steps=bad, env={"MS_CASE": "default_n103"})
        assert not isinstance(info.value, MismatchError) and "\n" not in str(info.value)


def test_batch_steps_bound_is_the_harness_counter():
    """The largest accepted batch run fits the harness's 32-bit cycle budget; one more lane's
    step does not (the bound derives from hdl.harness, not a tuned constant)."""
    import warnings

    from amaranth.hdl import Shape

    from hdl.macrospin import selftest_harness

    model, noise, _ = build_case("odd_k3", seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # built only to read its port width (Amaranth's MustUse)
        harness = selftest_harness(model, noise, 11)
    width = Shape.cast(harness.signature.members["cycles"].shape).width
    assert width == macrospin_launch.HARNESS_CYCLE_BITS
    k = model.cfg.lanes
    limit = (1 << width) - 1
    lo, hi = 1, 10**12  # largest magnet_steps with batch_cycles <= limit, by bisection
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if macrospin_launch.batch_cycles(model, mid) <= limit else (lo, mid - 1)
    macrospin_launch.check_steps(model, lo, mode="batch")
    with pytest.raises(SpintwinError, match="32-bit cycle counter"):
        macrospin_launch.check_steps(model, lo + k, mode="batch")


@pytest.mark.parametrize("case", [*CASES, DSP_BLOCK_CASE])
def test_model_travels_as_data(case):
    """The testbench gets its model as JSON data (no config file to parse again): the round
    trip rebuilds the same integer model, bit for bit over a short stream."""
    import json

    import numpy as np

    from quantize.macrospin import reference_stream
    from quantize.noise import GaussianNoise
    from tb.macrospin_cases import model_from_json, model_to_json

    model, noise, _ = build_case(case, seed=3)
    again, noise2, _ = model_from_json(json.loads(json.dumps(model_to_json(model, noise))), seed=3)
    assert again.cfg == model.cfg and noise2 == noise and again.ints == model.ints and again.fmts == model.fmts
    rng = np.random.default_rng(0)
    n, k = 300, model.cfg.lanes
    codes, resets = rng.integers(-1500, 1500, (n, k)), rng.random((n, k)) < 0.01
    a = reference_stream(model, GaussianNoise(noise).run(n), codes, resets)
    b = reference_stream(again, GaussianNoise(noise2).run(n), codes, resets)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
