"""golden.tiles: the seed's 32 x 32 tiled architecture and CMOS baseline (section V.3, Fig. 11),
each formula against a hand computation on tiny networks with round numbers."""

import math

import numpy as np
import pytest

from golden import energy, tiles
from golden import network as nw


def _spin(**kw):
    """A SpinConfig with round numbers, so that each term below is computed by hand."""
    base = dict(neuron="dw", write_duration=2e-9, read_voltage=0.1, g_on=1e-4, g_off=1e-4, r_write=100.0,
                write_current=1e-5, reset_current=2e-5, reset_duration=1e-9, bias_current=0.0,
                sense_voltage=0.1, sense_resistance=1e4, sense_duration=1e-9, latch_energy=1e-15,
                driver_energy=2e-15, row_capacitance=1e-16, control_energy=1e-12, stdp_current=1e-5,
                stdp_duration=1e-9, stdp_resistance=100.0)
    base.update(kw)
    return energy.SpinConfig(**base)


def _events():
    """Two dense layers 40 -> 40 -> 3, T = 10 steps: 100 input spikes into layer 1 (4000 synaptic
    events), 50 spikes into layer 2 (150 events), 20 output spikes."""
    l1 = energy.LayerEvents("fc1", 40, 40, 40, 1600, input_spikes=100, synaptic_events=4000,
                            neuron_updates=400, output_spikes=50)
    l2 = energy.LayerEvents("fc2", 40, 3, 40, 120, input_spikes=50, synaptic_events=150,
                            neuron_updates=30, output_spikes=20)
    return energy.NetworkEvents([l1, l2], 10)


def _maps():
    return [tiles.layer_tiles("fc1", "dense", 40, 40), tiles.layer_tiles("fc2", "dense", 40, 3)]


def test_dense_and_conv_mapping_counts_tiles_by_hand():
    """Dense 40 -> 40: ceil(40/32) x ceil(40/32) = 2 x 2 tiles; 40 -> 3: 2 x 1. A 3 x 3 conv from 2 to
    3 channels on a 6 x 6 map: one 18-row x 3-column tile re-used at 4 x 4 = 16 positions."""
    z = np.zeros
    nrn = nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos")
    net = nw.Network("t", nw.Input(6, 6, 2), (
        nw.Conv2d("c1", z((3, 2, 3, 3), np.float32), neuron=nrn), nw.Flatten("f"),
        nw.Dense("fc1", z((40, 48), np.float32), neuron=nrn), nw.Dense("fc2", z((3, 40), np.float32), neuron=nrn)))
    m = {x.name: x for x in tiles.map_network(net)}
    assert (m["c1"].rows, m["c1"].cols, m["c1"].positions, m["c1"].weight_tiles, m["c1"].evaluations) == (18, 3, 16, 1, 16)
    assert (m["fc1"].row_tiles, m["fc1"].col_tiles, m["fc1"].weight_tiles) == (2, 2, 4)
    assert (m["fc2"].row_tiles, m["fc2"].col_tiles, m["fc2"].weight_tiles) == (2, 1, 2)
    assert m["c1"].utilisation == pytest.approx(18 * 3 / 1024)
    s = tiles.schedule(m.values(), tiles.Chip(tiles=4))
    # 7 weight tiles, 16 + 4 + 2 = 22 evaluations per step: 6 slots on 4 tiles, 2 rounds, 3 reloaded
    assert (s["weight_tiles"], s["evaluations"], s["slots"], s["rounds"], s["reload_tiles"]) == (7, 22, 6, 2, 3)
    assert tiles.schedule(m.values(), tiles.Chip(tiles=64))["slots"] == 1


def test_spin_system_terms_by_hand():
    """Every component for _events() on a 100-tile chip (6 weight tiles = 6 evaluations: 1 slot):
    crossbar 4150 x 0.1^2 x 2e-4 x 2e-9 = 1.66e-14 J; write 430 x (1e-5)^2 x 100 x 2e-9 = 8.6e-18;
    reset 70 x (2e-5)^2 x 100 x 1e-9 = 2.8e-18; sense 430 x (0.01 / 1e4 x 1e-9 + 1e-15) = 4.304e-13;
    row activations 4000 x 2 / 40 + 150 x 1 / 3 = 250, drivers 250 x 2e-15 + 4150 x 2e-16 x 0.01 = 5.083e-13;
    control 10 x (1 x 1e-12 + 6 x tile_control) ; latency (10 + 1) x (2 + 1 + 1) ns = 44 ns."""
    spin, chip = _spin(), tiles.Chip(tiles=100, tile_control_energy=1e-13)
    bd = tiles.spin_system(_events(), _maps(), spin, chip)
    c = bd.components
    assert c["crossbar"] == pytest.approx(4150 * 0.01 * 2e-4 * 2e-9)
    assert c["neuron_write"] == pytest.approx(430 * 1e-10 * 100 * 2e-9)
    assert c["neuron_reset"] == pytest.approx(70 * 4e-10 * 100 * 1e-9)
    assert c["sense"] == pytest.approx(430 * (0.01 / 1e4 * 1e-9 + 1e-15))
    assert bd.extras["row_activations"] == pytest.approx(250.0)
    assert c["drivers"] == pytest.approx(250 * 2e-15 + 4150 * 2e-16 * 0.01)
    assert c["control"] == pytest.approx(10 * (1e-12 + 6 * 1e-13))
    assert c["reload"] == 0.0 and c["bias"] == 0.0
    assert bd.latency == pytest.approx(11 * 4e-9)
    # with one slot and one round the tiled latency is golden.energy.spin_energy's pipeline
    assert bd.latency == pytest.approx(energy.spin_energy(_events(), spin).latency)


def test_time_multiplexing_and_reload_by_hand():
    """On a 4-tile chip the 6 weight tiles (6 evaluations) take 2 slots and 2 rounds: step =
    2 x 2 + 1 + 1 = 6 ns, latency 11 x 6 ns + 1 reload of 32 rows x 7.5 pulses x 1 ns = 306 ns;
    2 tiles reloaded x 1024 cross-points x 7.5 pulses x (1e-5)^2 x 100 x 1e-9 J."""
    spin, chip = _spin(), tiles.Chip(tiles=4, tile_control_energy=1e-13)
    bd = tiles.spin_system(_events(), _maps(), spin, chip)
    assert (bd.extras["slots"], bd.extras["rounds"], bd.extras["reload_tiles"]) == (2, 2, 2)
    assert bd.components["control"] == pytest.approx(10 * (2 * 1e-12 + 6 * 1e-13))
    assert bd.components["reload"] == pytest.approx(2 * 1024 * 7.5 * 1e-10 * 100 * 1e-9)
    assert bd.latency == pytest.approx(11 * 6e-9 + 32 * 7.5 * 1e-9)


def test_spin_system_refuses_maps_that_do_not_match():
    with pytest.raises(ValueError, match="do not match"):
        tiles.spin_system(_events(), _maps()[:1])


def test_sram_access_cycles_grow_as_sqrt_size():
    """1 ns at 32 kB and 1 GHz: 1 cycle up to 32 kB, 2 cycles at 128 kB (sqrt 4 = 2), 4 at 512 kB,
    ceil(sqrt(32)) = 6 at 1 MB; 2 GHz doubles the cycles."""
    kb = 1024
    assert [tiles.sram_access_cycles(s * kb) for s in (1, 32, 128, 512, 1024)] == [1, 1, 2, 4, 6]
    assert tiles.sram_access_cycles(128 * kb, 2e9) == 4
    with pytest.raises(ValueError):
        tiles.sram_access_cycles(0)


def test_cmos_system_memory_bound_cycles_and_leakage_by_hand():
    """A 40 -> 40 -> 3 layer pair with weights of 8 bits: 1720 B (1 access cycle) -> compute-bound,
    the same cycles and leakage as golden.energy.cmos_energy. Inflate the weights to 600 kB (5 cycles
    per access: sqrt(600 / 32) = 4.33): words = 4150 x 8 / 64 = 518.75, memory cycles 2593.75 >
    compute (4150 + 430) / 8 + 4 x 2 x 10 = 652.5; leakage scales by 2593.75 / 652.5."""
    ev = _events()
    base = energy.cmos_energy(ev, energy.CmosConfig())
    small = tiles.cmos_system(ev)
    assert small.extras["access_cycles"] == 1
    assert small.extras["cycles"] == pytest.approx((4150 + 430) / 8 + 4 * 2 * 10)
    assert small.total == pytest.approx(base.total)
    big_layers = [energy.LayerEvents(x.name, x.inputs, x.neurons, x.fan_in, 300 * 1024 if i == 0 else 300 * 1024,
                                     x.input_spikes, x.synaptic_events, x.neuron_updates, x.output_spikes)
                  for i, x in enumerate(ev.layers)]
    big_ev = energy.NetworkEvents(big_layers, 10)
    b0, b1 = energy.cmos_energy(big_ev, energy.CmosConfig()), tiles.cmos_system(big_ev)
    assert b1.extras["access_cycles"] == math.ceil(math.sqrt(600 / 32))
    assert b1.extras["cycles"] == pytest.approx(4150 * 8 / 64 * 5)
    assert b1.components["leakage"] == pytest.approx(b0.components["leakage"] * (4150 * 8 / 64 * 5) / 652.5)
    assert b1.latency == pytest.approx(4150 * 8 / 64 * 5 / 1e9)
    assert b1.components["weight_sram"] == pytest.approx(b0.components["weight_sram"])


def test_profile_splits_memory_access_leakage_compute():
    """Fig. 11(a): memory access = weight_sram + state_sram + stdp_sram, leakage, compute = the rest;
    the three add up to the total and the shares to 1."""
    bd = tiles.cmos_system(_events())
    p = tiles.profile(bd)
    c = bd.components
    assert p["memory_access"] == pytest.approx(c["weight_sram"] + c["state_sram"] + c["stdp_sram"])
    assert p["leakage"] == pytest.approx(c["leakage"])
    assert p["compute"] == pytest.approx(c["accumulate"] + c["neuron"] + c["registers"] + c["stdp_add"])
    assert sum(p["shares"].values()) == pytest.approx(1.0)
