"""cocotb testbench of the pipelined macrospin integrator (hdl.macrospin), bit for bit against
the integer model (quantize.macrospin.reference_stream).

Driver: a precomputed stream of drive beats (codes, resets) with random input-valid gaps and
random output-ready back-pressure, written at falling edges (tb.runner.run_cycles). Monitor:
the output stream and the input handshake, sampled every cycle. Scoreboard: the accepted
beats are replayed through the vectorised model and compared in order; a mismatch names the
first differing beat, lane and field with both values.

Parameters (environment, via run_cocotb(env=...)):
``MS_CASE`` (a tb.macrospin_cases name) or ``MS_MODEL`` (the model as data,
tb.macrospin_cases.model_to_json; the launcher makes it from a design), ``MS_BEATS``
(magnet-steps per lane to check, default 2000), ``MS_LFSR_SEED`` (master seed of the LFSRs,
default 1), ``MS_VALID_P`` / ``MS_READY_P`` (handshake probabilities, default 0.9),
``MS_CORRUPT_BEAT`` (self-test: corrupt the reference at that beat), ``MS_SCHEDULE`` (a
two-drive step neuron, quantize.step_neuron: "preset,evaluate,relax" phase lengths in steps;
every slot and lane runs the preset/evaluate schedule with its own evaluation current, repeated,
instead of random codes on both channels). Stimulus seed: cocotb's ``COCOTB_RANDOM_SEED``.
"""

from __future__ import annotations

import time

import cocotb
import numpy as np

from tb.cocotb_helpers import report_metrics, reset, run_cycles, start_clock, tb_param
from tb.mismatch import check, first_mismatch

FIELDS = ["x", "y", "z", "switched"]


def build_from_params():
    """(model, noise_cfg, code span) from MS_MODEL (the launcher's data) or MS_CASE."""
    seed = int(tb_param("MS_LFSR_SEED", 1))
    data = tb_param("MS_MODEL")
    from tb.macrospin_cases import build_case, model_from_json

    if data:
        return model_from_json(data, seed=seed)
    return build_case(str(tb_param("MS_CASE", "default_n103")), seed=seed)


def layout_fields(layout, prefix=""):
    """Flatten an Amaranth layout into [(path, offset, width, signed)].

    Paths join field names and array indices with dots (``"lanes.0.m.x"``); ``offset`` and
    ``width`` in bits of the packed value; ``signed`` from the leaf's shape."""
    from amaranth.lib import data

    out = []
    if isinstance(layout, data.StructLayout):
        for name, field in layout:
            sub = field.shape
            if isinstance(sub, (data.StructLayout, data.ArrayLayout)):
                out += [(f"{prefix}{name}.{p}", field.offset + o, w, s) for p, o, w, s in layout_fields(sub)]
            else:
                out.append((f"{prefix}{name}", field.offset, sub.width, sub.signed))
    elif isinstance(layout, data.ArrayLayout):
        for i in range(layout.length):
            elem = layout.elem_shape
            base = i * data.Layout.cast(elem).size if isinstance(elem, data.Layout) else i * elem.width
            if isinstance(elem, (data.StructLayout, data.ArrayLayout)):
                out += [(f"{prefix}{i}.{p}", base + o, w, s) for p, o, w, s in layout_fields(elem)]
            else:
                out.append((f"{prefix}{i}", base, elem.width, elem.signed))
    return out


def pack(layout, columns: dict) -> list:
    """Pack {field path: int array (T,)} into one Python int per beat."""
    fields = {p: (o, w) for p, o, w, _ in layout_fields(layout)}
    total = None
    for path, values in columns.items():
        o, w = fields[path]
        col = [(int(v) & ((1 << w) - 1)) << o for v in values]
        total = col if total is None else [a | b for a, b in zip(total, col)]
    return total


def unpack(layout, words) -> dict:
    """Unpack ints (T,) into {field path: int64 array (T,)} (signed fields sign-extended)."""
    out = {}
    words = [int(w) for w in words]
    for path, o, w, signed in layout_fields(layout):
        mask = (1 << w) - 1
        vals = np.array([(x >> o) & mask for x in words], dtype=np.int64)
        if signed:
            vals = np.where(vals >= 1 << (w - 1), vals - (1 << w), vals)
        out[path] = vals
    return out


def schedule_stimulus(model, lengths, beats: int, rng):
    """(codes, codes2) int64 (beats, K) of the step neuron's preset/evaluate/relax schedule with
    phase ``lengths`` (steps), golden.devices.step_neuron's currents, and an evaluation current per
    slot and lane drawn from -20..20 uA (quantize.step_neuron.schedule_stream)."""
    from dataclasses import replace

    from golden.devices import step_neuron
    from quantize.step_neuron import schedule, schedule_stream

    neuron = step_neuron()
    k, n = model.cfg.lanes, model.cfg.magnets
    plans = [[[replace(p, steps=s) for p, s in zip(schedule(model, neuron, float(rng.uniform(-20e-6, 20e-6))), lengths)]
              for _ in range(k)] for _ in range(n)]
    return schedule_stream(plans, beats)


@cocotb.test()
async def integrator_matches_model(dut):
    from hdl.macrospin import input_layout, output_layout
    from quantize.macrospin import reference_stream
    from quantize.noise import GaussianNoise

    model, noise_cfg, span = build_from_params()
    k = model.cfg.lanes
    beats = int(tb_param("MS_BEATS", 2000))
    p_valid = float(tb_param("MS_VALID_P", 0.9))
    p_ready = float(tb_param("MS_READY_P", 0.9))
    corrupt = tb_param("MS_CORRUPT_BEAT")
    rng = np.random.default_rng(cocotb.RANDOM_SEED)

    from hdl.macrospin import MacrospinIntegrator

    latency = MacrospinIntegrator.check(model, noise_cfg).latency   # counted, nothing built
    cycles = int((beats + latency + 8) / (p_valid * p_ready)) + 4 * latency + 64
    valid = (rng.random(cycles) < p_valid).astype(np.int64)
    valid[:2] = 0  # the state memories' first read completes in the first cycle after reset
    ready = (rng.random(cycles) < p_ready).astype(np.int64)
    codes = rng.integers(-span, span, (cycles, k))
    codes2 = rng.integers(-span, span, (cycles, k)) if model.two_drives else None
    resets = rng.random((cycles, k)) < 0.01
    sched = tb_param("MS_SCHEDULE")
    if sched:
        codes, codes2 = schedule_stimulus(model, [int(x) for x in str(sched).split(",")], cycles, rng)
        resets[:] = False
    # The beat offered at cycle i is the next one not yet accepted: precompute the sequence
    # of offered beats, indexed by the number accepted before cycle i.
    accepted_before = np.concatenate([[0], np.cumsum(valid & ready)[:-1]])
    in_layout, out_layout = input_layout(model), output_layout(model)
    cols = {}
    for lane in range(k):
        cols[f"lanes.{lane}.code"] = codes[accepted_before, lane]
        cols[f"lanes.{lane}.reset"] = resets[accepted_before, lane]
        if codes2 is not None:
            cols[f"lanes.{lane}.code2"] = codes2[accepted_before, lane]
    payload = pack(in_layout, cols)

    dut.i_drive__valid.value = 0
    dut.o_state__ready.value = 0
    start_clock(dut.clk)
    await reset(dut, dut.clk, dut.rst)
    t0, c0 = time.perf_counter(), time.process_time()
    samples = await run_cycles(
        dut.clk,
        {dut.i_drive__valid: valid, dut.o_state__ready: ready, dut.i_drive__payload: np.array(payload, dtype=object)},
        [dut.o_state__valid, dut.o_state__payload],
    )
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0

    # Outputs transferred at rising edge i: o_state.valid and payload before the edge (row
    # i - 1) with ready[i]. Inputs accepted at edge i: valid[i] (ready: primed after cycle 0).
    o_valid = samples[:, 0].astype(np.int64)
    took = np.nonzero(o_valid[:-1].astype(bool) & ready[1:].astype(bool))[0]
    out = unpack(out_layout, samples[took, 1])
    n_acc = int((valid & ready).sum())
    got = np.stack([np.stack([out[f"lanes.{lane}.m.{c}"] for c in "xyz"] + [out[f"lanes.{lane}.switched"]], axis=1)
                    for lane in range(k)], axis=1)
    n_out = min(len(got), beats)
    if n_out < beats:
        check(f"only {n_out} of {beats} beats came out in {cycles} cycles")
    ref_m, ref_sw, slots = reference_stream(model, GaussianNoise(noise_cfg).run(n_acc), codes[:n_acc], resets[:n_acc],
                                            codes2=None if codes2 is None else codes2[:n_acc])
    expected = np.concatenate([ref_m, ref_sw[:, :, None].astype(np.int64)], axis=2)[:n_out]
    if corrupt is not None:
        expected[int(corrupt), 0, 0] += 1
    report_metrics(cycles=cycles, seconds=seconds, cycles_per_s=cycles / seconds,
                   cycles_per_cpu_s=cycles / cpu_seconds, magnet_steps=n_out * k, latency=latency)
    dut._log.info("%d cycles, %d beats x %d lanes in %.2f s: %.0f cycles/s", cycles, n_out, k, seconds,
                  cycles / seconds)
    msg = first_mismatch(expected, got[:n_out], FIELDS)
    check(msg and "beat " + msg[len("cycle "):])
    check(None if np.array_equal(out["slot"][:n_out], slots[:n_out]) else "slot order differs")
    # Not a verdict on the RTL: the configuration under test overflows its own formats.
    assert not model.saturations, f"model saturated: {model.saturations}"
