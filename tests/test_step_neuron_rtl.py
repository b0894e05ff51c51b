"""The step neuron's two-drive integrator RTL (hdl.macrospin with ``code2``) bit for bit against
the integer model (quantize.macrospin.reference_stream), on the preset/evaluate schedule.

Case tb.macrospin_cases.STEP_NEURON_CASE: golden.devices.step_neuron at 1 ps, two lanes of 97
magnets. The schedule's phase lengths are shortened (what changes the datapath's inputs is the
phase boundaries, which every run crosses many times); each slot and lane has its own evaluation
current in -20..20 uA, and the schedule repeats (preset again after the relaxation).
"""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hdl.macrospin import MacrospinIntegrator, input_layout
from quantize.macrospin import reference_stream
from quantize.noise import GaussianNoise
from spinbase.errors import MismatchError
from tb import macrospin_launch
from tb.macrospin_cases import CASES, STEP_NEURON_CASE, build_case
from tb.macrospin_tb import schedule_stimulus
from tb.mismatch import first_mismatch
from tb.runner import skip_unless_simulator


def test_one_drive_layout_is_unchanged_and_two_drive_has_code2():
    """Only a two-drive magnet's beat carries ``code2`` (one-drive designs keep their ports; their
    Verilog is the same as before the second channel existed)."""
    for case in CASES:
        model, _, _ = build_case(case)
        assert [n for n, _ in input_layout(model).members["lanes"].elem_shape] == ["code", "reset"]
    model, _, _ = build_case(STEP_NEURON_CASE)
    assert [n for n, _ in input_layout(model).members["lanes"].elem_shape] == ["code", "reset", "code2"]


def _simulate(dut, codes, codes2, stall_rng, beats):
    k = dut.lanes
    got = []

    async def bench(ctx):
        n = 0
        while len(got) < beats:
            valid = n < len(codes) and stall_rng.random() < 0.8
            ready = stall_rng.random() < 0.85
            ctx.set(dut.o_state.ready, ready)
            ctx.set(dut.i_drive.valid, valid)
            if n < len(codes):
                for lane in range(k):
                    ctx.set(dut.i_drive.payload.lanes[lane].code, int(codes[n, lane]))
                    ctx.set(dut.i_drive.payload.lanes[lane].code2, int(codes2[n, lane]))
            accepted = valid and ctx.get(dut.i_drive.ready)
            if ctx.get(dut.o_state.valid) and ready:
                pl = ctx.get(dut.o_state.payload)
                got.append([[pl.lanes[l].m.x, pl.lanes[l].m.y, pl.lanes[l].m.z] for l in range(k)])
            await ctx.tick()
            n += int(accepted)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got)


def test_rtl_equals_model_on_the_schedule():
    """Amaranth simulator, random input and output stalls: preset 3, evaluate 4, relax 2 steps,
    repeated (12 steps per slot, about 1,200 beats per lane), exact in every component."""
    model, noise_cfg, _ = build_case(STEP_NEURON_CASE, seed=7)
    dut = MacrospinIntegrator(model, noise_cfg)
    beats = 12 * model.cfg.magnets
    total = beats + dut.latency + 2
    codes, codes2 = schedule_stimulus(model, [3, 4, 2], total, np.random.default_rng(8))
    assert (codes == 2000).any() and (codes2 != 0).any()  # both channels driven
    resets = np.zeros_like(codes, dtype=bool)
    ref_m, _, _ = reference_stream(model, GaussianNoise(noise_cfg).run(total), codes, resets, codes2=codes2)
    got = _simulate(dut, codes, codes2, np.random.default_rng(3), beats)
    assert first_mismatch(ref_m[:beats], got, ["x", "y", "z"]) is None
    assert not model.saturations, model.saturations


def _per_cycle(sim, schedule, magnet_steps, seed=11, **env):
    skip_unless_simulator(sim)
    model, noise, _ = build_case(STEP_NEURON_CASE, seed=seed)
    return macrospin_launch.run_per_cycle(model, noise, sim=sim, seed=seed, magnet_steps=magnet_steps,
                                          env={"MS_CASE": STEP_NEURON_CASE, "MS_SCHEDULE": schedule, **env})


def test_verilator_per_cycle_schedule_short():
    """Verilator, per cycle, a short schedule (preset 4, evaluate 6, relax 4): 2,716 magnet-steps,
    every magnet through one decision and into the next preset."""
    r = _per_cycle("verilator", "4,6,4", 2_716)
    assert r.metrics["magnet_steps"] >= 2_716


@pytest.mark.long
def test_verilator_per_cycle_schedule():
    """Verilator, per cycle: preset 40, evaluate 60, relax 40 steps: one whole decision of every
    magnet (140 steps x 97 slots x 2 lanes = 27,160 magnet-steps; about 3 min)."""
    r = _per_cycle("verilator", "40,60,40", 27_160)
    assert r.metrics["magnet_steps"] >= 27_160


def test_icarus_per_cycle_schedule_short():
    """Icarus (slow on this design), per cycle, a shorter schedule (preset 2, evaluate 3, relax
    2): 8 steps a slot, 1,552 magnet-steps, every magnet through one decision and into the next
    preset."""
    r = _per_cycle("icarus", "2,3,2", 1_552)
    assert r.metrics["magnet_steps"] >= 1_552


def test_schedule_mismatch_is_named():
    """The checker is live on this case: a corrupted reference beat is named."""
    with pytest.raises(MismatchError, match=r"beat 57, lane 0, field x: expected"):
        _per_cycle("verilator", "4,6,4", 400, MS_CORRUPT_BEAT=57)


@pytest.mark.long
def test_verilator_batch_both_channels():
    """Verilator, batch (on-chip self-test harness): random codes on both channels and resets,
    100,000 magnet-steps (about 5 min with the build)."""
    skip_unless_simulator("verilator")
    model, noise, _ = build_case(STEP_NEURON_CASE, seed=11)
    r = macrospin_launch.run_batch(model, noise, sim="verilator", seed=11, magnet_steps=100_000,
                                   env={"MS_CASE": STEP_NEURON_CASE})
    assert r.metrics["magnet_steps"] >= 100_000
