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


# Any network description ------------------------------------------------------------------------
def _general_network(kind: str):
    """Conv 3 x 3 stride 2 padding 1 -> 2 x 2 sum pooling (IF, or linear and folded for the
    p-bits) -> conv 2 x 2 -> flatten -> dense 4, on an 11 x 11 input."""
    from golden import network as nw

    rng = np.random.default_rng(11)
    nrn = {"twin-if": nw.Neuron("if", 1.0, "position", 0.5, None, "dw"),
           "cmos-if": nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos"),
           "twin-stochastic": nw.Neuron("pbit", 1.0, "subtract", 0.0, None, "mtj")}[kind]
    return nw.Network("small", nw.Input(11, 11, 1), (
        nw.Conv2d("c1", rng.normal(0.3, 0.6, (3, 1, 3, 3)), stride=2, padding=1, neuron=nrn),
        nw.Pool2d("p1", 2, mode="sum", neuron=None if kind == "twin-stochastic" else nrn),
        nw.Conv2d("c2", rng.normal(0.2, 0.5, (5, 3, 2, 2)), neuron=nrn),
        nw.Flatten("f"),
        nw.Dense("d", rng.normal(0.1, 0.5, (4, 20)), neuron=nrn),
    ))


def _direct_layer_input(layer, s):
    """Integer input of a QuantLayer by loops over output positions and row tiles, from the
    description's geometry: windows (zero padding, stride) read straight off the input."""
    from golden import network as nw

    s = s.astype(np.int64)
    for pool in layer.pre_pool:                             # folded pooling: window sums
        k = pool.size
        h, w = s.shape[1] // k, s.shape[2] // k
        s = s[:, :h * k, :w * k].reshape(len(s), h, k, w, k, -1).sum(axis=(2, 4))
    geo, b = layer.geo, len(s)
    if isinstance(geo, nw.Dense):
        rows = s.reshape(b, 1, -1)
    else:
        k = geo.kernel if isinstance(geo, nw.Conv2d) else geo.size
        st = geo.stride if isinstance(geo, nw.Conv2d) else geo.step
        p = geo.padding if isinstance(geo, nw.Conv2d) else 0
        ho, wo = layer.out_shape[:2]
        rows = []
        for oy in range(ho):
            for ox in range(wo):
                r = []
                for c in range(s.shape[3]):
                    for dy in range(k):
                        for dx in range(k):
                            yy, xx = oy * st + dy - p, ox * st + dx - p
                            inside = 0 <= yy < s.shape[1] and 0 <= xx < s.shape[2]
                            r.append(s[:, yy, xx, c] if inside else np.zeros(b, np.int64))
                rows.append(np.stack(r, axis=1))
        rows = np.stack(rows, axis=1)                       # (b, P, C k k)
        if isinstance(geo, nw.Pool2d):                      # a channel sees its own window
            cnt = rows.reshape(b, ho * wo, s.shape[3], k * k).sum(axis=-1).reshape(b, -1)
            return q.rshift_round(cnt * int(layer.k[0, 0]) * int(layer.c[0, 0]), layer.shift)[..., None]
    y, t = 0, layer.tile
    for r in range(layer.row_tiles):
        acc = np.einsum("bpm,mn->bpn", rows[..., r * t:(r + 1) * t], layer.k[r * t:(r + 1) * t])
        y = y + q.rshift_round(acc * layer.c[r], layer.shift)
    return y


@pytest.mark.parametrize("kind", ["twin-if", "cmos-if", "twin-stochastic"])
def test_general_network_layer_input_equals_direct_loops(kind):
    """Any kernel, stride, padding and pooling: quantize.snn.layer_input (vectorised) equals
    loops over output positions on the description's geometry, layer by layer."""
    net = q.build_network(_general_network(kind), q.QuantConfig(kind=kind, steps=1, tile=4))
    assert [L.name for L in net.layers] == (["c1", "c2", "d"] if kind == "twin-stochastic" else ["c1", "p1", "c2", "d"])
    rng = np.random.default_rng(3)
    for layer in net.layers:
        s = rng.random((3,) + tuple(layer.in_shape)) < 0.4
        want = _direct_layer_input(layer, s)
        got = q.layer_input(net, layer, s)
        np.testing.assert_array_equal(got.reshape(want.shape), want, err_msg=layer.name)
        assert np.abs(want).max() > 0


def test_general_network_runs_as_a_direct_integer_simulation():
    """run() on an 11 x 11 CMOS IF network equals a loop simulation (direct layer inputs, reset
    by subtraction) fed the same encoder spikes: counts and membranes."""
    cfg = q.QuantConfig(kind="cmos-if", steps=6, tile=4, seed=4)
    net = q.build_network(_general_network("cmos-if"), cfg)
    x = np.random.default_rng(8).random((5, 11, 11))
    res = q.run(net, x)
    s_in = q.encode(cfg, x)
    assert s_in.shape == (6, 5, 11, 11)
    v = {L.name: np.zeros((5,) + tuple(L.out_shape), np.int64) for L in net.layers}
    counts = np.zeros((5, 4), np.int64)
    for t in range(cfg.steps):
        s = s_in[t][..., None]
        for L in net.layers:
            y = _direct_layer_input(L, s).reshape(v[L.name].shape)
            vv = np.clip(v[L.name] + y, -net.vmax - 1, net.vmax)
            s = vv >= net.threshold
            v[L.name] = vv - s * net.threshold
        counts += s.reshape(5, -1)
    np.testing.assert_array_equal(res["counts"], counts)
    np.testing.assert_array_equal(res["membrane"], v["d"])
    assert counts.sum() > 0


def test_description_and_weight_dict_build_the_same_network():
    """build_network(description) == build_network(weight dict) for all three kinds: codes,
    scales, shifts, geometry."""
    from golden import network as nw

    w = _weights()
    for name, kind in nw.KIND_OF.items():
        cfg = q.QuantConfig(kind=kind, steps=1)
        a, b = q.build_network(w, cfg), q.build_network(nw.from_weights(name, w), cfg)
        for la, lb in zip(a.layers, b.layers, strict=True):
            assert la.name == lb.name and la.shift == lb.shift and la.pool_input == lb.pool_input
            assert np.array_equal(la.k, lb.k) and np.array_equal(la.c, lb.c)
            assert la.in_shape == lb.in_shape and la.out_shape == lb.out_shape


def test_a_network_the_integer_model_cannot_run_is_refused_naming_the_layer():
    from golden import network as nw

    good = _general_network("cmos-if")
    with pytest.raises(ValueError, match=r"layer 'c1'.*'pbit'"):
        q.build_network(good, q.QuantConfig(kind="twin-stochastic"))
    pbits = _general_network("twin-stochastic")
    leaky = nw.Network("l", pbits.input, pbits.layers[:-1] + (
        nw.Dense("d", pbits["d"].weight, neuron=nw.Neuron("lif", leak_shift=3, device="mtj")),))
    with pytest.raises(ValueError, match=r"layer 'd'.*'lif'"):
        q.build_network(leaky, q.QuantConfig(kind="twin-stochastic"))
    huge = nw.Network("h", good.input, good.layers[:-1] + (
        nw.Dense("d", good["d"].weight, bias=np.full(4, 200.0), neuron=good["d"].neuron),))
    with pytest.raises(ValueError, match=r"layer 'd': a bias of 200 thresholds does not fit the 16-bit membrane"):
        q.build_network(huge, q.QuantConfig(kind="cmos-if"))


# Any network: MLPs, biases, LIF -------------------------------------------------------------------
def _mlp(kind="cmos-if", seed=0, leak=(2, None), bias=True, shape=(8, 8, 1)):
    """Flatten -> dense 16 (LIF, biased) -> dense 5 (IF): random weights with a positive mean so
    spikes reach the output."""
    from golden import network as nw

    rng = np.random.default_rng(seed)
    dev, reset = ("cmos", "subtract") if kind == "cmos-if" else ("dw", "position")
    nrn = [nw.Neuron("lif" if lk else "if", 1.0 + 0.5 * j, reset, 0.5 if dev == "dw" else 0.0, lk, dev)
           for j, lk in enumerate(leak)]
    n_in = int(np.prod(shape))
    return nw.Network("mlp", nw.Input(*shape), (
        nw.Flatten("f"),
        nw.Dense("h", rng.normal(0.05, 0.2, (16, n_in)).astype(np.float32),
                 bias=rng.normal(0, 0.15, 16) if bias else None, neuron=nrn[0]),
        nw.Dense("o", rng.normal(0.1, 0.3, (5, 16)).astype(np.float32),
                 bias=rng.normal(0, 0.1, 5) if bias else None, neuron=nrn[1])))


def _direct_run(net, s_in):
    """The integer network written as loops over neurons from the module docstring: tile sums
    (``_direct_layer_input``), the bias, the LIF leak ``v - (v >> L)``, clamp, fire, the kind's reset. (counts, membranes)."""
    steps, b = s_in.shape[:2]
    lo = net.floor if net.floor is not None else -net.vmax - 1
    v = {L.name: np.zeros((b, int(np.prod(L.out_shape))), np.int64) for L in net.layers}
    counts = np.zeros((b, net.classes), np.int64)
    for t in range(steps):
        s = s_in[t].reshape((b,) + tuple(net.input_shape))
        for L in net.layers:
            y = _direct_layer_input(L, s[..., None] if s.ndim == 2 else s).reshape(b, -1)
            out = np.zeros_like(y, dtype=bool)
            for i in range(b):
                for j in range(y.shape[1]):
                    vv = int(v[L.name][i, j])
                    if L.leak_shift is not None:
                        vv -= vv // 2 ** L.leak_shift          # floor division: the arithmetic shift
                    vv += int(y[i, j]) + (int(L.bias[j % len(L.bias)]) if L.bias is not None else 0)
                    vv = min(max(vv, lo), net.vmax)
                    out[i, j] = vv >= net.threshold
                    if out[i, j]:
                        vv = vv - net.threshold if net.cfg.kind == "cmos-if" else 0
                    v[L.name][i, j] = vv
            s = out.reshape((b,) + tuple(L.out_shape))
        counts += s.reshape(b, -1)
    return counts, v


@pytest.mark.parametrize("kind", ["cmos-if", "twin-if"])
def test_mlp_with_biases_and_lif_runs_as_a_direct_loop(kind):
    """run() on an MLP (flat spikes into dense layers: crashed in the scatter-word count) with
    biases and a LIF layer equals the loop reference fed the same encoder spikes; the words
    counted are one per input spike of a dense layer."""
    cfg = q.QuantConfig(kind=kind, steps=8, tile=16, seed=3)
    net = q.build_network(_mlp(kind), cfg)
    h = net.layers[0]
    assert h.leak_shift == 2 and net.layers[1].leak_shift is None
    assert h.bias is not None and np.abs(h.bias).max() > 0
    x = np.random.default_rng(5).random((3, 8, 8))
    res = q.run(net, x)
    counts, v = _direct_run(net, q.encode(cfg, x))
    np.testing.assert_array_equal(res["counts"], counts)
    np.testing.assert_array_equal(res["membrane"], v["o"])
    assert counts.sum() > 0 and res["spikes"]["h"] > 0
    assert res["spikes"]["words.h"] == res["spikes"]["input"] and res["spikes"]["words.o"] == res["spikes"]["h"]



@pytest.mark.parametrize("kind", ["cmos-if", "twin-if"])
def test_conv_network_with_biases_and_lif_runs_as_a_direct_loop(kind):
    """A 9 x 9 x 2 input, conv 4@3x3 padding 1 (biased, LIF) -> 3 x 3 sum pooling (IF) ->
    dense 3 (biased, LIF): run() equals the loop reference, counts and membranes."""
    from golden import network as nw

    rng = np.random.default_rng(11)
    dev, reset, r = ("cmos", "subtract", 0.0) if kind == "cmos-if" else ("dw", "position", 0.5)
    desc = nw.Network("lifconv", nw.Input(9, 9, 2), (
        nw.Conv2d("c", rng.normal(0.1, 0.4, (4, 2, 3, 3)), padding=1, bias=rng.normal(0, 0.2, 4),
                  neuron=nw.Neuron("lif", 1.0, reset, r, 3, dev)),
        nw.Pool2d("p", 3, mode="sum", neuron=nw.Neuron("if", 2.0, reset, r, None, dev)),
        nw.Flatten("f"),
        nw.Dense("d", rng.normal(0.1, 0.4, (3, 36)), bias=rng.normal(0, 0.2, 3),
                 neuron=nw.Neuron("lif", 1.0, reset, r, 1, dev))))
    cfg = q.QuantConfig(kind=kind, steps=6, tile=8, seed=2)
    net = q.build_network(desc, cfg)
    assert [L.leak_shift for L in net.layers] == [3, None, 1]
    x = rng.random((3, 9, 9, 2))
    res = q.run(net, x)
    counts, v = _direct_run(net, q.encode(cfg, x))
    np.testing.assert_array_equal(res["counts"], counts)
    np.testing.assert_array_equal(res["membrane"], v["d"])
    assert counts.sum() > 0


def test_biased_network_is_within_the_derived_bound_of_golden_simulate():
    """cmos-if against golden.snn.simulate (float) on one biased dense layer, same deterministic
    input spikes (pixel values on the encoder's 2**-8 grid: both encoders then spike alike).

    Non-negative weights and biases with a per-step input below the threshold keep every
    membrane in [0, threshold): then an IF neuron with reset by subtraction has fired exactly
    floor(S / threshold) times, S its summed input, in either model. So the counts differ by at
    most ceil(|S_int - S_float|), bounded per step by the codes' weight error over the spiking
    inputs, half an LSB per row tile (the rounding shifts), the bias's rounding and float32's
    rounding (2**-24 relative per operation, m + 3 operations on values below sum|w| + |b| + 2).
    """
    from golden import network as nw
    from golden.snn import simulate

    rng = np.random.default_rng(4)
    m, n, steps = 16, 6, 20
    w = (rng.random((n, m)) * 0.9 / m).astype(np.float32)
    b = (rng.random(n) * 0.09).astype(np.float32)
    desc = nw.Network("one", nw.Input(4, 4, 1), (nw.Flatten("f"), nw.Dense(
        "d", w, bias=b, neuron=nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos"))))
    cfg = q.QuantConfig(kind="cmos-if", steps=steps, tile=4, encoding="deterministic", weight_bits=5,
                        membrane_frac=8)
    net = q.build_network(desc, cfg)
    L = net.layers[0]
    x = rng.integers(0, 256, (40, 4, 4)) / 256.0
    res = q.run(net, x)
    gold = simulate(desc, x, np.zeros(40, int), steps=steps, encoding="deterministic")
    s_in = q.encode(cfg, x).reshape(steps, 40, m).astype(np.float64)
    lsb = 2.0 ** -cfg.membrane_frac
    w_eff = (L.k * np.repeat(L.c, L.tile, axis=0)[:m]) * 2.0 ** -L.shift * lsb   # (m, n) the codes' weights
    assert (L.k >= 0).all() and L.bias.min() >= 0
    assert (w_eff.sum(axis=0) + L.bias * lsb).max() < 1 and (w.sum(axis=1) + b).max() < 1   # below threshold
    per_step = (s_in @ np.abs(w_eff - w.T.astype(np.float64))                  # (steps, B, n)
                + L.row_tiles * 0.5 * lsb + np.abs(L.bias * lsb - b.astype(np.float64))
                + (m + 3) * 2.0 ** -24 * (np.abs(w).sum(axis=1) + b + 2))
    bound = np.ceil(per_step.sum(axis=0)).astype(int)                             # (B, n)
    assert bound.max() < steps / 2                                                # the bound says something
    n_int = int(res["counts"].sum())
    n_float = gold["events"]["d"]["output_spikes"] * 40
    assert abs(n_int - n_float) <= bound.sum(), (n_int, n_float, bound.sum())
    assert n_int > 0
