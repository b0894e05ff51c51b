"""Bit-accurate network models (quantize.snn): each integer operation against an independent
slow implementation, the encoders' LFSR order, the neuron rules, and the mapping from golden."""

from fractions import Fraction

import numpy as np
import pytest

from quantize import snn as q
from quantize.lfsr import LfsrBank, LfsrConfig


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    return {"conv1": rng.normal(0, 0.3, (6, 1, 5, 5)).astype(np.float32),
            "conv2": rng.normal(0, 0.1, (12, 6, 5, 5)).astype(np.float32),
            "fc": rng.normal(0, 0.1, (10, 192)).astype(np.float32)}


def test_rshift_round_is_round_half_up():
    rng = np.random.default_rng(1)
    x = rng.integers(-10 ** 9, 10 ** 9, 2000)
    for shift in (0, 1, 3, 9):
        got = q.rshift_round(x, shift)
        want = [int(np.floor(Fraction(int(v), 2 ** shift) + Fraction(1, 2))) for v in x]
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", ["twin-if", "cmos-if", "twin-stochastic"])
def test_layer_input_equals_a_direct_loop(kind):
    """y_j = sum_r round(acc_rj c_rj / 2**shift) for conv2 (150 rows: 5 tiles) and fc, against
    loops over output positions, rows and tiles written from the module docstring."""
    from golden.cnn import im2col

    net = q.build_network(_weights(), q.QuantConfig(kind=kind, steps=1))
    rng = np.random.default_rng(2)
    by_name = {layer.name: layer for layer in net.layers}
    in_shape = {"conv2": (24, 24, 6) if kind == "twin-stochastic" else (12, 12, 6),
                "fc": (8, 8, 12) if kind == "twin-stochastic" else (4, 4, 12)}
    for name in ("conv2", "fc"):
        layer = by_name[name]
        s = rng.random((2,) + in_shape[name]) < 0.3
        got = q.layer_input(net, layer, s)
        x = s.astype(np.int64)
        if layer.pool_input:
            x = x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2]
        rows = im2col(x.astype(np.float64), 5).reshape(2, -1, 150) if name == "conv2" else x.reshape(2, 1, -1)
        rows = rows.astype(np.int64)
        m, n = layer.k.shape
        for b in range(2):
            for p in range(rows.shape[1]):
                for j in range(n):
                    total = 0
                    for r in range(layer.row_tiles):
                        acc = sum(int(rows[b, p, i]) * int(layer.k[i, j])
                                  for i in range(r * layer.tile, min(m, (r + 1) * layer.tile)))
                        total += (acc * int(layer.c[r, j]) + (1 << (layer.shift - 1))) >> layer.shift
                    assert got[b, p, j] == total, (name, b, p, j)


def test_lfsr_encoder_draw_order():
    """Pixel i = 28 row + col of run image n at step t compares with word t*784 + i of the XOR of
    two one-lane banks (widths 31, 29) loaded with encoder_seeds(seed, n); P(spike) = p/2**bits.
    The words come from LfsrBank.step (the leap matrix) here, from LfsrBank.run in the model."""
    cfg = q.QuantConfig(steps=3, input_bits=6, seed=9)
    x = np.random.default_rng(3).random((2, 28, 28))
    spikes = q.encode(cfg, x, first_image=5)
    p = np.minimum(63, np.rint(x * 64)).astype(np.int64).reshape(2, 784)
    for j in range(2):
        banks = []
        for width, seed in zip(q.ENCODER_WIDTHS, q.encoder_seeds(9, 5 + j)):
            bank = LfsrBank(LfsrConfig(width, 1, 6, 1))
            bank.state = [seed]
            banks.append(bank)
        for t in range(3):
            words = np.array([banks[0].step()[0] ^ banks[1].step()[0] for _ in range(784)])
            np.testing.assert_array_equal(spikes[t, j].reshape(784), p[j] > words)
    # images differ in noise and an image's spikes do not depend on its neighbours in x
    np.testing.assert_array_equal(q.encode(cfg, x[1:], first_image=6)[:, 0], spikes[:, 1])
    assert q.encoder_seeds(9, 5) != q.encoder_seeds(9, 6)


def test_deterministic_encoder_counts_are_exact():
    cfg = q.QuantConfig(steps=37, input_bits=8, encoding="deterministic", input_rate=0.5)
    x = np.random.default_rng(4).random((3, 28, 28))
    counts = q.encode(cfg, x).sum(axis=0)
    p = np.minimum(255, np.rint(x * 0.5 * 256)).astype(np.int64)
    np.testing.assert_array_equal(counts, (37 * p) // 256)


def test_if_neuron_rules():
    net = q.build_network(_weights(), q.QuantConfig(kind="twin-if", membrane_bits=12, membrane_frac=6))
    th, fl = net.threshold, net.floor
    assert th == 64 and fl == -64  # reset position 0.5: one threshold of headroom below reset
    state = {"fc": np.array([[0, 10, 63, -60, 2000]])}
    fire = q._if_step(net, state, "fc", np.array([[64, 10, 1, -30, 100]]))
    np.testing.assert_array_equal(fire, [[True, False, True, False, True]])
    np.testing.assert_array_equal(state["fc"], [[0, 20, 0, -64, 0]])          # reset to 0, floor
    cmos = q.build_network(_weights(), q.QuantConfig(kind="cmos-if", membrane_bits=12, membrane_frac=6))
    state = {"fc": np.array([[0, 100, -2040, 2040]])}
    fire = q._if_step(cmos, state, "fc", np.array([[70, 40, -100, 100]]))
    np.testing.assert_array_equal(fire, [[True, True, False, True]])
    np.testing.assert_array_equal(state["fc"], [[6, 76, -2048, 2047 - 64]])  # subtraction, saturation


def test_pbit_probability_follows_the_sigmoid_lut():
    """Constant z: the spike fraction over 20,000 LFSR words is LUT/2**bits within 4 SE, and
    the LUT is within the sigmoid's slope (1/4) x half a cell + 2**-bits of sigmoid(z)."""
    cfg = q.QuantConfig(kind="twin-stochastic", lut_addr_bits=6, lut_bits=8, lut_range=8.0)
    net = q.build_network(_weights(), cfg)
    words = LfsrBank(LfsrConfig(31, 1, 8, 5)).run(20000)[:, 0]
    cell = 16.0 / 64
    for zf in (-3.0, -0.7, 0.0, 1.3, 4.0):
        z = np.full(words.shape, int(round(zf * 2 ** cfg.membrane_frac)))
        frac = q._pbit(net, z, words).mean()
        addr = int(np.clip((z[0] >> net.lut_shift) + 32, 0, 63))
        p = net.lut[addr] / 256
        assert abs(frac - p) < 4 * np.sqrt(p * (1 - p) / 20000) + 1e-9
        assert abs(p - 1 / (1 + np.exp(-zf))) <= 0.25 * cell / 2 + 2 ** -8 + 1e-12


def test_twin_codes_reproduce_the_golden_crossbar_map():
    """k c 2**-F equals golden.snn.dw_layers' effective matrix (DW_CONFIG) (weight units / gain, per tile)
    within the scale code's rounding: |k| x 2**-(F+1) per tile, summed over no tiles (one row)."""
    from golden.snn import DW_CONFIG, dw_layers

    w = _weights()
    cfg = q.QuantConfig(kind="twin-if", levels=16, scale_bits=14)
    net = q.build_network(w, cfg)
    gold = dw_layers(w, DW_CONFIG)["matrices"]  # the same programming (gamma pre-compensated)
    for layer in net.layers:
        if layer.name.startswith("pool"):
            continue
        f = layer.shift + cfg.membrane_frac
        rows = np.arange(layer.k.shape[0]) // layer.tile
        eff = layer.k * layer.c[rows] / 2.0 ** f
        bound = np.abs(layer.k) * 2.0 ** -(f + 1) + 1e-6 * np.abs(gold[layer.name])
        assert np.all(np.abs(eff - gold[layer.name]) <= bound), layer.name
        assert np.abs(layer.k).max() <= 15 and layer.c.max() < 2 ** 14


def test_bad_config_is_one_clear_error():
    with pytest.raises(ValueError, match=r"QuantConfig.levels must be an integer in 2..256, not 1"):
        q.QuantConfig(levels=1)
    with pytest.raises(ValueError, match=r"QuantConfig.kind must be one of"):
        q.QuantConfig(kind="analog")


# The one time-step loop and its observer hook (issue 15) ----------------------------------------
@pytest.mark.parametrize("kind", ["twin-if", "cmos-if", "twin-stochastic"])
def test_step_loop_observer_sees_what_run_computes(kind):
    """An observer of step_loop sees every tile accumulator, pre-activation and spike of the
    computation run() reports: its spike totals, counts and final membranes equal run's, and
    the tile accumulators, scaled and rounded, sum to each layer's input."""
    net = q.build_network(_weights(3), q.QuantConfig(kind=kind, steps=6))
    x = np.random.default_rng(4).random((7, 28, 28))
    ref = q.run(net, x, batch=3, first_image=2)

    class Recorder(q.StepObserver):
        def __init__(self):
            self.spikes = {layer.name: 0 for layer in net.layers}
            self.accs, self.bad = [], []

        def accumulator(self, t, layer, acc):
            self.accs.append(acc.copy())

        def pre_activation(self, t, layer, y, state):
            # y is the tiles' scaled, rounded accumulators summed (pooling: one tile)
            ys = [q.rshift_round(a * (int(layer.c[0, 0]) if layer.name.startswith("pool") else layer.c[r]),
                                 layer.shift) for r, a in enumerate(self.accs)]
            total = sum(ys)[..., None] if layer.name.startswith("pool") else sum(ys)
            if not np.array_equal(total.reshape(y.shape), y):
                self.bad.append((t, layer.name))
            self.accs = []

        def layer_output(self, t, layer, s):
            self.spikes[layer.name] += int(s.sum())

    rec = Recorder()
    counts, state = q.step_loop(net, q.encode(net.cfg, x, 2), rec)
    assert rec.bad == []
    assert np.array_equal(counts, ref["counts"])
    assert np.array_equal(state[net.layers[-1].name], ref["membrane"])
    assert rec.spikes == {layer.name: ref["spikes"][layer.name] for layer in net.layers}
    assert sum(rec.spikes.values()) > 0
