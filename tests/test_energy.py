"""Tests of golden.energy: the event-count energy model, spintronic vs 45 nm CMOS.

Anchors: Horowitz ISSCC 2014 (REFERENCES.md 6), the device presets (REFERENCES.md 4), the
seed's 60-80 % memory share (section III). Formulas are recomputed here by hand from the
configuration fields or the device objects; tolerances are float rounding (rtol 1e-12) unless
a comment says otherwise.
"""

import math

import numpy as np
import pytest

from golden import energy as en
from golden.devices import dw_neuron, dw_synapse, mtj_neuron
from golden.energy import (
    SEED_CNN,
    CmosConfig,
    LayerEvents,
    NetworkEvents,
    add_energy,
    calibrate_register_energy,
    cmos_ann_energy,
    cmos_energy,
    cnn_events,
    compare,
    dw_spin_config,
    mtj_spin_config,
    mult_energy,
    parse_architecture,
    seed_figures_report,
    spin_energy,
    sram_read_energy,
)

RT = 1e-12
KB = 1024


def net1_events(steps=100):
    """Network 1 defaults of seed_figures_report (input 0.13, hidden 0.05)."""
    return cnn_events(SEED_CNN, [0.13] + [0.05] * 5, steps)


def one_layer(**kw):
    base = dict(name="fc", inputs=10, neurons=4, fan_in=10, weights=40, input_spikes=30.0,
                synaptic_events=120.0, neuron_updates=20.0, output_spikes=3.0, stdp_events=7.0)
    return NetworkEvents([LayerEvents(**{**base, **kw})], timesteps=5)


# --- Horowitz primitives -------------------------------------------------------------------------

def test_adder_and_multiplier_hit_horowitz_points():
    assert add_energy(8) == pytest.approx(0.03e-12, rel=RT)
    assert add_energy(32) == pytest.approx(0.1e-12, rel=RT)
    assert add_energy(16) == pytest.approx(0.03e-12 + 8 * 0.07e-12 / 24, rel=RT)  # linear in width
    assert mult_energy(8) == pytest.approx(0.2e-12, rel=RT)
    assert mult_energy(32) == pytest.approx(3.1e-12, rel=RT)
    # Power law: the 16-bit value is the geometric mean of the 8- and 32-bit ones.
    assert mult_energy(16) == pytest.approx(math.sqrt(0.2e-12 * 3.1e-12), rel=RT)


def test_sram_interpolation_hits_anchors_and_is_log_log():
    anchors = {8 * KB: 10e-12, 32 * KB: 20e-12, 1024 * KB: 100e-12}
    for size, e in anchors.items():
        assert sram_read_energy(size) == pytest.approx(e, rel=1e-12)
    # Linear in log-log: at the geometric mean of two anchors the energy is their geometric mean.
    assert sram_read_energy(16 * KB) == pytest.approx(math.sqrt(10e-12 * 20e-12), rel=1e-12)
    assert sram_read_energy(math.sqrt(32 * 1024) * KB) == pytest.approx(math.sqrt(20e-12 * 100e-12), rel=1e-12)
    # Below 8 kB the 8-32 kB law (exponent 0.5) extends: 2 kB -> 10 pJ / 2.
    assert sram_read_energy(2 * KB) == pytest.approx(5e-12, rel=1e-12)
    sizes = np.geomspace(0.5 * KB, 4096 * KB, 50)
    assert np.all(np.diff(sram_read_energy(sizes)) > 0)


# --- events ---------------------------------------------------------------------------------------

def test_parse_seed_cnn_shapes():
    layers = parse_architecture(SEED_CNN)
    assert [x["out_shape"] for x in layers] == [(24, 24, 6), (12, 12, 6), (8, 8, 12), (4, 4, 12), (1, 1, 10)]
    assert [x["fan_in"] for x in layers] == [25, 4, 150, 4, 192]
    assert [x["weights"] for x in layers] == [150, 0, 1800, 0, 1920]
    assert [x["inputs"] for x in layers] == [784, 3456, 864, 768, 192]


def _connectivity(h, w, c, k, maps):
    """Explicit 0/1 input->output matrix of a valid k x k convolution (independent of energy.py)."""
    oh, ow = h - k + 1, w - k + 1
    m = np.zeros((h * w * c, oh * ow * maps), dtype=int)
    for y in range(oh):
        for x in range(ow):
            for o in range(maps):
                for dy in range(k):
                    for dx in range(k):
                        for ch in range(c):
                            m[((y + dy) * w + (x + dx)) * c + ch, (y * ow + x) * maps + o] = 1
    return m


def test_cnn_events_count_spikes_times_fan_out():
    # Uniform rate r: expected synaptic events = r T sum_i fan_out_i, fan-outs from the explicit
    # connectivity of conv 3x3 (2 maps) on 6x6x1.
    r, t = 0.2, 7
    ev = cnn_events("6x6-2c3-2s-3o", [r, 0.1, 0.3, 0.4], t)
    fan_outs = _connectivity(6, 6, 1, 3, 2).sum(axis=1)
    assert ev.layers[0].synaptic_events == pytest.approx(r * t * fan_outs.sum(), rel=RT)
    assert ev.layers[0].input_spikes == pytest.approx(r * t * 36, rel=RT)
    assert ev.layers[1].synaptic_events == pytest.approx(0.1 * t * 32, rel=RT)  # 4x4x2 inputs, fan-out 1
    assert ev.layers[2].synaptic_events == pytest.approx(0.3 * t * 8 * 3, rel=RT)  # 2x2x2 -> 3 dense
    assert ev.layers[2].output_spikes == pytest.approx(0.4 * t * 3, rel=RT)
    assert ev.neuron_updates == pytest.approx(t * (32 + 8 + 3), rel=RT)
    assert ev.synaptic_events == pytest.approx(sum(x.synaptic_events for x in ev.layers), rel=RT)


# --- component formulas ---------------------------------------------------------------------------

def test_spin_components_match_hand_formulas_and_sum_to_total():
    ev, c = one_layer(), dw_spin_config()
    b = spin_energy(ev, c)
    dv, t = c.read_voltage, c.write_duration
    hand = {
        "crossbar": 120 * dv ** 2 * (c.g_on + c.g_off) * t,
        "neuron_write": 20 * c.write_current ** 2 * c.r_write * t,
        "bias": 0.0,
        "neuron_reset": 3 * c.reset_current ** 2 * c.r_write * c.reset_duration,
        "sense": 20 * (c.sense_voltage ** 2 / c.sense_resistance * c.sense_duration + c.latch_energy),
        "drivers": 30 * (c.driver_energy + 2 * c.row_capacitance * 4 * dv ** 2),  # fan-out 40/10
        "control": 5 * c.control_energy,
        "stdp": 7 * c.stdp_current ** 2 * c.stdp_resistance * c.stdp_duration,
    }
    assert b.components.keys() == hand.keys()
    for k, v in hand.items():
        assert b.components[k] == pytest.approx(v, rel=RT, abs=0), k
    assert b.total == pytest.approx(sum(hand.values()), rel=RT)
    assert b.latency == pytest.approx(5 * (t + c.sense_duration + c.reset_duration), rel=RT)  # 1 layer
    assert sum(b.shares().values()) == pytest.approx(1.0, rel=RT)
    assert b.extras["gamma"] == [pytest.approx(10 * (c.g_on + c.g_off) * dw_neuron().r_hm, rel=RT)]  # eq. 12


def test_cmos_components_match_hand_formulas_and_sum_to_total():
    ev, c = one_layer(), CmosConfig()
    b = cmos_energy(ev, c)
    cycles = (120 + 20) / c.lanes + c.pipeline_depth * 1 * 5
    e_w = sram_read_energy(40 * 8 / 8)
    add16 = 0.03e-12 + 8 * 0.07e-12 / 24
    hand = {
        "weight_sram": 120 * 8 / 64 * e_w,
        "state_sram": 0.0,
        "leakage": cycles * (40 + 4 * 2) / KB * c.leakage_per_kb_cycle,
        "accumulate": 120 * add16,
        "neuron": (20 + 3) * add16 + 20 * 16 * c.register_energy,
        "registers": cycles * c.lanes * c.register_bits * c.register_energy,
        "stdp_sram": 7 * 2 * 8 / 64 * e_w,
        "stdp_add": 7 * 0.03e-12,
    }
    assert b.components.keys() == hand.keys()
    for k, v in hand.items():
        assert b.components[k] == pytest.approx(v, rel=RT, abs=0), k
    assert b.total == pytest.approx(sum(hand.values()), rel=RT)
    assert b.latency == pytest.approx(cycles / c.clock_hz, rel=RT)
    mem = hand["weight_sram"] + hand["leakage"] + hand["stdp_sram"]
    assert b.memory_share == pytest.approx(mem / sum(hand.values()), rel=RT)


def test_comparison_ratios_and_dict_are_consistent():
    r = compare(net1_events())
    d = r.as_dict()
    assert sum(d["spin_components_J"].values()) == pytest.approx(d["spin_J"], rel=RT)
    assert sum(d["cmos_components_J"].values()) == pytest.approx(d["cmos_J"], rel=RT)
    assert r.edp_ratio == pytest.approx(r.energy_ratio * r.latency_ratio, rel=RT)
    assert r.energy_ratio == pytest.approx(d["cmos_J"] / d["spin_J"], rel=RT)


# --- scaling ----------------------------------------------------------------------------------------

def test_doubling_time_steps_doubles_event_energies():
    a, b = compare(net1_events(100)), compare(net1_events(200))
    for k, v in a.spin.components.items():
        assert b.spin.components[k] == pytest.approx(2 * v, rel=1e-12, abs=0), k
    # Every CMOS term is linear in the counts and cycles, and the cycles (fill included) are linear in T.
    for k, v in a.cmos.components.items():
        assert b.cmos.components[k] == pytest.approx(2 * v, rel=1e-12, abs=0), k
    assert b.cmos.latency == pytest.approx(2 * a.cmos.latency, rel=RT)
    # The spin pipeline adds layers - 1 = 4 steps once: latency (2T + 4) / (T + 4).
    assert b.spin.latency / a.spin.latency == pytest.approx(204 / 104, rel=RT)


def test_scaled_events_scale_event_terms_only():
    ev = net1_events()
    a, b = spin_energy(ev, dw_spin_config()), spin_energy(ev.scaled(3.0), dw_spin_config())
    for k, v in a.components.items():
        want = v if k == "control" else 3 * v  # control is per time step, not per event
        assert b.components[k] == pytest.approx(want, rel=1e-12, abs=0), k
    assert b.latency == a.latency


def test_leakage_scales_with_cycles_and_memory():
    ev = net1_events()
    base = cmos_energy(ev, CmosConfig())
    for lanes in (1, 4, 32):
        b = cmos_energy(ev, CmosConfig(lanes=lanes))
        kb = (b.extras["weight_bytes"] + b.extras["state_bytes"]) / KB
        assert b.components["leakage"] == pytest.approx(b.extras["cycles"] * kb * en.LEAKAGE_PER_KB_CYCLE, rel=RT)
        # Fewer lanes: more cycles, more leakage, in proportion.
        assert b.components["leakage"] / base.components["leakage"] == pytest.approx(
            b.extras["cycles"] / base.extras["cycles"], rel=RT)
    wider = cmos_energy(ev, CmosConfig(weight_bits=16))
    assert wider.components["leakage"] / wider.extras["cycles"] > base.components["leakage"] / base.extras["cycles"]


def test_crossbar_energy_is_quadratic_in_read_voltage_up_to_the_ap_bias_law():
    a, b = dw_spin_config(read_voltage=0.025), dw_spin_config(read_voltage=0.05)
    ratio = b.synaptic_event_energy / a.synaptic_event_energy
    # dV^2 gives 4; eq. 3's bias law raises G_AP by (1 + k V^2) with k = 1.5 / V^2 at the
    # default MtjStack (TMR 120 % halves at 0.5 V): < 0.4 % at 50 mV, so 4 <= ratio <= 4.02.
    assert 4.0 <= ratio <= 4.02
    syn = dw_synapse()
    g_p, g_ap = 1 / 6250, 1 / 13750
    assert float(syn.conductance(syn.length)) == pytest.approx(g_p, rel=1e-9)
    # Bounds: between both devices OFF and the programmed one fully ON.
    e = b.synaptic_event_energy
    assert 0.05 ** 2 * 2 * g_ap * 2e-9 < e < 0.05 ** 2 * (g_p + g_ap) * 2e-9 * 1.004


# --- the seed's numbers -------------------------------------------------------------------------

def test_memory_share_in_the_seeds_band_for_default_baseline():
    """The share follows from independent constants (Horowitz's adds and SRAM reads, the register
    energy set to Horowitz's 32-bit add per bit, 1 nA/bit leakage), none calibrated to it: it can
    leave the seed's band (a register energy above 3.9 fJ or below 1.1 fJ would)."""
    assert en.REGISTER_ENERGY == en.HOROWITZ_ADD[32] / 32
    share = compare(net1_events()).cmos.memory_share
    assert 0.6 <= share <= 0.8  # seed section III: memory access + leakage ~60-80 %
    # Membrane potentials in SRAM (the time-multiplexed alternative) push it above the band.
    assert cmos_energy(net1_events(), CmosConfig(state_in_sram=True)).memory_share > 0.8


@pytest.mark.parametrize("target", [0.65, 0.7, 0.75])
def test_calibrate_register_energy_hits_target(target):
    ev = net1_events()
    e = calibrate_register_energy(ev, target)
    assert cmos_energy(ev, CmosConfig(register_energy=e)).memory_share == pytest.approx(target, rel=1e-9)
    # Without register energy memory is 92.5 % (Horowitz add vs 8-bit reads): no e >= 0 gives more.
    zero = cmos_energy(ev, CmosConfig(register_energy=0.0)).memory_share
    with pytest.raises(ValueError, match=rf"target_share must be in \(0, {zero:.4g}\] for these events, not 0.95"):
        calibrate_register_energy(ev, 0.95)


def test_device_energies_are_the_presets():
    dw, c = dw_neuron(), dw_spin_config()
    i = dw.traverse_current(2e-9)
    write_reset = 2 * float(dw.write_energy(i, 2e-9))
    assert c.neuron_write_energy + c.neuron_reset_energy == pytest.approx(write_reset, rel=1e-9)
    # Seed: DW write + reset "about 0.1 fJ"; MTJ neuron write "about 1 fJ". Order-of-magnitude
    # bounds (factor 3 and 2): the presets are calibrated to 0.07 and 1.31 fJ.
    assert 0.1e-15 / 3 < write_reset < 3 * 0.1e-15
    m = mtj_spin_config()
    e_mtj = float(mtj_neuron().write_energy(71e-6))
    assert m.neuron_write_energy == pytest.approx(e_mtj, rel=1e-9)
    assert 0.5e-15 < e_mtj < 2e-15
    assert m.write_duration == 0.5e-9 and c.write_duration == 2e-9
    # STDP: a DW synapse level step (golden.stdp_network's convention) and an MTJ switch.
    syn = dw_synapse()
    assert c.stdp_energy == pytest.approx(float(syn.write_energy(syn.traverse_current(2e-9), 2e-9 / 15)), rel=1e-9)
    assert m.stdp_energy == pytest.approx(e_mtj, rel=1e-9)
    # The MTJ bias: the rail at dV gives dV I t, minus the write energy counted already.
    assert m.bias_energy == pytest.approx(0.05 * 71e-6 * 0.5e-9 - e_mtj, rel=1e-9)


def test_seed_figures_report_is_self_consistent():
    r = seed_figures_report()
    n1, n2 = r["network1"], r["network2"]
    for n in (n1, n2):
        assert n["circuit_level"]["energy_ratio"] < n["with_sram"]["energy_ratio"]
    # The row voltage it reports does give the seed's 250x at circuit level.
    v = n1["read_voltage_needed_V"]
    assert 0 < v <= 0.1
    got = compare(n1["events"], dw_spin_config(read_voltage=v), CmosConfig(include_memory=False)).energy_ratio
    assert got == pytest.approx(250.0, rel=1e-4)  # brentq xtol 1e-6 V on a ~1/V^2 curve
    # 56x EDP with 250x energy: CMOS latency = spin latency x 56 / 250.
    assert n1["cmos_latency_needed_s"] == pytest.approx(n1["with_sram"]["spin_latency_s"] * 56 / 250, rel=RT)
    assert n1["cmos_per_event_needed_J"] * n1["events"].synaptic_events == pytest.approx(
        250 * n1["circuit_level"]["spin_J"], rel=RT)
    ann = cmos_ann_energy(n2["events"])
    assert n2["ann_with_sram_ratio"] == pytest.approx(ann.total / n2["with_sram"]["spin_J"], rel=RT)
    assert "Network 1" in r["explanation"] and "Network 2" in r["explanation"]


# --- validation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("call, text", [
    (lambda: cnn_events(SEED_CNN, [0.1, 0.2], 10), "spike_rates must have 6 values (input + one per layer), not 2"),
    (lambda: cnn_events(SEED_CNN, 1.5, 10), "spike_rates must be in [0, 1], not 1.5"),
    (lambda: cnn_events(SEED_CNN, 0.1, 0), "timesteps must be an integer >= 1, not 0"),
    (lambda: parse_architecture("28x28-6q5"), "layer '6q5' of spec '28x28-6q5' is not one of Kck, ps, No"),
    (lambda: parse_architecture("28x28-3s"), "layer '3s' of spec '28x28-3s': 28x28 is not divisible by 3"),
    (lambda: dw_spin_config(read_voltage=0.2), "read_voltage must be in (0, 0.1] V, not 0.2"),
    (lambda: mtj_spin_config(read_voltage=0.03),
     "SpinConfig.read_voltage must be >= bias_current * r_write = 0.03692 V to supply the bias, not 0.03"),
    (lambda: CmosConfig(lanes=0), "CmosConfig.lanes must be an integer >= 1, not 0"),
    (lambda: CmosConfig(weight_bits=65), "CmosConfig.weight_bits must be an integer in 1..64, not 65"),
    (lambda: CmosConfig(register_energy=-1.0), "CmosConfig.register_energy must be >= 0 J, not -1.0"),
    (lambda: sram_read_energy(0), "size_bytes must be > 0 B, not 0"),
    (lambda: add_energy(0), "bits must be an integer in 1..64, not 0"),
    (lambda: one_layer(output_spikes=-1.0), "LayerEvents('fc').output_spikes must be >= 0, not -1.0"),
    (lambda: NetworkEvents([], 3), "layers must be a non-empty sequence of LayerEvents, not ()"),
    (lambda: compare("events"), "events must be a NetworkEvents, not str"),
    (lambda: compare(one_layer(), CmosConfig()), "spin_cfg must be a SpinConfig, not CmosConfig"),
])
def test_bad_inputs_raise_one_clear_value_error(call, text):
    with pytest.raises(ValueError) as e:
        call()
    assert str(e.value) == text
