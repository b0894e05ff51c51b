"""cocotb batch-mode testbench of the macrospin integrator: the stimulus runs on chip.

The toplevel is ``hdl.macrospin.selftest_harness`` (integrator + ``hdl.harness.StreamSelfTest``)
inside ``tb.harness_top.clocked_top`` (the clock runs inside the design):
LFSR-drawn input beats and handshakes, a signature of every output beat. The testbench sets the
cycle budget, lets the simulator run free for that many cycles (one timer, no Python per cycle),
then reads four numbers back and checks them against the models (``quantize.harness`` for the
stimulus, ``quantize.macrospin.reference_stream`` for the integrator):

- accepted input beats equal the model's count;
- emitted output beats lie in [accepted - latency - 1, accepted] (the pipeline's fill);
- the signature equals the signature of the model's first ``emitted`` output beats.

``MS_MODE=trace`` runs the same stimulus with the output stream sampled every cycle and names
the first differing beat, lane and field with both values; ``tb.macrospin_launch.run_batch``
relaunches in that mode (a fresh simulator: the state memories have no reset) when a batch
run differs.

Parameters (environment): ``MS_CASE`` / ``MS_MODEL``, ``MS_LFSR_SEED`` (seeds the noise LFSRs
and the harness), ``MS_CYCLES`` (cycle budget), ``MS_CORRUPT_BEAT`` (self-test of the checker:
corrupt the model's beat), ``MS_MODE`` (``batch`` or ``trace``).
"""

from __future__ import annotations

import time

import cocotb
import numpy as np

from hdl.macrospin import MacrospinIntegrator
from tb.macrospin_tb import FIELDS, build_from_params, pack
from tb.harness_top import PERIOD_NS
from tb.cocotb_helpers import report_metrics, reset, run_cycles, tb_param
from tb.mismatch import check, first_mismatch


def expected_run(model, noise_cfg, seed: int, cycles: int):
    """Model of a harness run: (accepted beats, expected outputs (T, K, 4), payload ints (T,))."""
    from hdl.macrospin import output_layout
    from quantize import harness
    from quantize.macrospin import reference_stream, selftest_drives, selftest_harness_config
    from quantize.noise import GaussianNoise

    hcfg = selftest_harness_config(model, seed)
    valid, ready = harness.handshakes(hcfg, cycles)
    n_acc = int(harness.accepted_cycles(valid, ready).sum())
    codes, resets, codes2 = selftest_drives(model, harness.data_words(hcfg, n_acc))
    ref_m, ref_sw, slots = reference_stream(model, GaussianNoise(noise_cfg).run(n_acc), codes, resets, fast=True,
                                            codes2=codes2)
    expected = np.concatenate([ref_m, ref_sw[:, :, None].astype(np.int64)], axis=2)
    cols = {"slot": slots}
    for lane in range(model.cfg.lanes):
        for i, c in enumerate("xyz"):
            cols[f"lanes.{lane}.m.{c}"] = ref_m[:, lane, i]
        cols[f"lanes.{lane}.switched"] = ref_sw[:, lane]
    return n_acc, expected, pack(output_layout(model), cols)


@cocotb.test()
async def selftest_matches_model(dut):
    from cocotb.triggers import Timer

    from hdl.macrospin import output_layout
    from quantize.harness import signature
    from tb.macrospin_tb import unpack

    model, noise_cfg, _ = build_from_params()
    seed = int(tb_param("MS_LFSR_SEED", 1))
    cycles = int(tb_param("MS_CYCLES", 10_000))
    corrupt = tb_param("MS_CORRUPT_BEAT")
    trace = tb_param("MS_MODE", "batch") == "trace"
    k = model.cfg.lanes
    latency = MacrospinIntegrator.check(model, noise_cfg).latency   # counted, nothing built

    dut.cycles.value = cycles
    await reset(dut, dut.clk, dut.rst)
    n_acc, expected, words = expected_run(model, noise_cfg, seed, cycles) if trace else (None, None, None)
    t0, c0 = time.perf_counter(), time.process_time()
    if trace:
        rows = await run_cycles(dut.clk, {}, [dut.out_valid, dut.out_ready, dut.out_payload], cycles=cycles + 1)
    else:
        await Timer((cycles + 2) * PERIOD_NS, unit="ns")
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    check(None if int(dut.done.value) == 1 else "cycle budget not spent (the harness's done flag is low)")
    beats_in, beats_out = int(dut.beats_in.value), int(dut.beats_out.value)
    sig = int(dut.sig.value)

    t1 = time.perf_counter()
    if not trace:
        n_acc, expected, words = expected_run(model, noise_cfg, seed, cycles)
    model_s = time.perf_counter() - t1
    if corrupt is not None:
        expected[int(corrupt), 0, 0] += 1
        words[int(corrupt)] ^= 1 << _x_offset(model)
    report_metrics(mode="trace" if trace else "batch", cycles=cycles, seconds=seconds, cycles_per_s=cycles / seconds,
                   cpu_seconds=cpu_seconds, cycles_per_cpu_s=cycles / cpu_seconds, model_seconds=model_s,
                   magnet_steps=beats_out * k, latency=latency, beats_in=beats_in)
    dut._log.info("%s: %d cycles in %.2f s (%.0f cycles/s): %d beats in, %d out, x %d lanes",
                  "trace" if trace else "free-running", cycles, seconds, cycles / seconds, beats_in, beats_out, k)

    problems = []
    if trace:
        took = (rows[:, 0] == 1) & (rows[:, 1] == 1)
        out = unpack(output_layout(model), rows[took, 2])
        got = np.stack([np.stack([out[f"lanes.{lane}.m.{c}"] for c in "xyz"] + [out[f"lanes.{lane}.switched"]],
                                 axis=1) for lane in range(k)], axis=1)
        n = min(len(got), len(expected))
        msg = first_mismatch(expected[:n], got[:n], FIELDS)
        if msg is not None:
            problems.append("beat " + msg[len("cycle "):])
        if len(got) != beats_out:
            problems.append(f"trace took {len(got)} beats, the counter {beats_out}")
    if beats_in != n_acc:
        problems.append(f"accepted input beats: model {n_acc}, RTL {beats_in}")
    if not n_acc - latency - 1 <= beats_out <= n_acc:
        problems.append(f"emitted beats {beats_out} outside [{n_acc - latency - 1}, {n_acc}]")
    want = signature(words[:beats_out], len(dut.sig))
    if want != sig:
        problems.append(f"signature over {beats_out} beats: model {want:#x}, RTL {sig:#x}")
    check(problems, limit=len(problems))


def _x_offset(model) -> int:
    """Bit offset of lane 0's m.x in the output payload (for the corruption self-test)."""
    from hdl.macrospin import output_layout
    from tb.macrospin_tb import layout_fields

    return next(o for p, o, _, _ in layout_fields(output_layout(model)) if p == "lanes.0.m.x")
