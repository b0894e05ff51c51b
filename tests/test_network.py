"""The network description (golden/network.py): shapes, validation, files, built-ins, and the
general layer arithmetic against direct references."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from golden import network as nw

IF = nw.Neuron("if", 1.0, "subtract")


def _small(rng, *, k=3, stride=2, padding=1, pool=2, bias=False):
    w1 = rng.normal(0, 0.4, (4, 2, k, k))
    h = (11 + 2 * padding - k) // stride + 1
    pooled = (h - pool) // pool + 1
    return nw.Network("small", nw.Input(11, 11, 2), (
        nw.Conv2d("c1", w1, stride=stride, padding=padding, neuron=IF),
        nw.Pool2d("p1", pool, mode="sum", neuron=IF),
        nw.Flatten("f"),
        nw.Dense("d", rng.normal(0, 0.3, (3, pooled * pooled * 4)),
                 bias=rng.normal(0, 0.1, 3) if bias else None, neuron=IF),
    ))


def test_shapes_are_derived_along_the_sequence():
    net = _small(np.random.default_rng(0))
    assert [s[1] for s in net.shapes] == [(6, 6, 4), (3, 3, 4), (36,), (3,)]
    assert net.classes == 3 and net.in_shape_of("d") == (36,)


def test_builtin_structure_is_the_lenet_cnn():
    w = {k: np.zeros(v, np.float32) for k, v in {"conv1": (6, 1, 5, 5), "conv2": (12, 6, 5, 5),
                                                 "fc": (10, 192)}.items()}
    for name in nw.BUILTINS:
        net = nw.from_weights(name, w)
        assert [s[1] for s in net.shapes] == [(24, 24, 6), (12, 12, 6), (8, 8, 12), (4, 4, 12), (192,), (10,)]
        assert net.kind == nw.KIND_OF[name]
    folded = nw.from_weights("cnn-stochastic", w).spiking()
    assert [(tuple(p.name for p in f), L.name) for f, L in folded] == [((), "conv1"), (("pool1",), "conv2"),
                                                                        (("pool2",), "fc")]


@pytest.mark.parametrize("bad, words", [
    (lambda rng: nw.Network("n", nw.Input(8, 8, 1), (nw.Conv2d("a", rng.normal(size=(2, 3, 3, 3)), neuron=IF),)),
     ["'a'", "3 input channels", "(8, 8, 1)", "'input'"]),
    (lambda rng: nw.Network("n", nw.Input(8, 8, 1), (nw.Conv2d("a", rng.normal(size=(2, 1, 3, 3)), neuron=IF),
                                                      nw.Flatten("f"),
                                                      nw.Dense("b", rng.normal(size=(3, 71)), neuron=IF))),
     ["'b'", "71 inputs", "72", "after 'f'"]),
    (lambda rng: nw.Network("n", nw.Input(9, 9, 1), (nw.Pool2d("p", 2, neuron=IF),)), ["'p'", "does not tile"]),
    (lambda rng: nw.Network("n", nw.Input(4, 4, 1), (nw.Conv2d("a", rng.normal(size=(2, 1, 3, 3))),)),
     ["'a'", "last layer must have neurons"]),
    (lambda rng: nw.Network("n", nw.Input(4, 4, 1), (nw.Conv2d("a", np.full((2, 1, 3, 3), np.nan), neuron=IF),)),
     ["'a'", "NaN"]),
    (lambda rng: nw.Network("n", nw.Input(4, 4, 1), (nw.Flatten("a"), nw.Dense("a", np.ones((2, 16)), neuron=IF))),
     ["'a'", "repeated"]),
    (lambda rng: nw.Neuron("lif", 1.0), ["leak_shift"]),
    (lambda rng: nw.Neuron("if", -1.0), ["threshold"]),
])
def test_a_bad_description_is_one_line_naming_the_layer(bad, words):
    with pytest.raises(nw.NetworkError) as e:
        bad(np.random.default_rng(0))
    msg = str(e.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, (w, msg)


def test_save_and_load_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    net = _small(rng, bias=True)
    net = nw.Network(net.name, net.input, net.layers[:-1] + (
        nw.Dense("d", net["d"].weight, bias=net["d"].bias, neuron=nw.Neuron("lif", 0.5, "position", 0.25, 3, "dw")),))
    path = nw.save(net, tmp_path / "n.npz")
    back = nw.load(path)
    assert back.header() == net.header()
    for a, b in zip(net.layers, back.layers):
        for f in ("weight", "bias"):
            if getattr(a, f, None) is not None:
                assert np.array_equal(getattr(a, f), getattr(b, f)) and getattr(a, f).dtype == getattr(b, f).dtype
    assert back["d"].neuron == net["d"].neuron
    assert [p.name for p in tmp_path.iterdir()] == ["n.npz"]   # atomic: no temporary left


def test_load_refuses_what_is_not_a_network(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"not a zip")
    np.savez(tmp_path / "y.npz", a=np.zeros(3))
    for name, words in (("missing.npz", "no such network file"), ("x.npz", "not a network file"),
                        ("y.npz", "no header.json")):
        with pytest.raises(nw.NetworkError, match=words) as e:
            nw.load(tmp_path / name)
        assert "\n" not in str(e.value)


def _conv_reference(x, w, stride, padding):
    """Direct loops: out[n, i, j, k] = sum_{c, a, b} xpad[n, i s + a, j s + b, c] w[k, c, a, b]."""
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    kk = w.shape[2]
    ho = (xp.shape[1] - kk) // stride + 1
    wo = (xp.shape[2] - kk) // stride + 1
    out = np.zeros((x.shape[0], ho, wo, w.shape[0]))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, i * stride:i * stride + kk, j * stride:j * stride + kk, :]   # (n, k, k, c)
            out[:, i, j] = np.einsum("nabc,kcab->nk", patch, w)
    return out


@pytest.mark.parametrize("k, stride, padding", [(3, 1, 0), (3, 2, 1), (4, 3, 2), (1, 1, 0), (5, 1, 2)])
def test_windows_match_a_direct_convolution(k, stride, padding):
    rng = np.random.default_rng(k * 10 + stride)
    x = rng.integers(0, 3, (2, 9, 8, 3)).astype(np.float64)
    w = rng.integers(-3, 4, (4, 3, k, k)).astype(np.float64)
    layer = nw.Conv2d("c", w, stride=stride, padding=padding)
    cols = nw.windows(layer, x)
    got = cols @ w.reshape(4, -1).T
    assert np.array_equal(got, _conv_reference(x, w, stride, padding))
    assert got.shape[1:] == layer.out_shape((9, 8, 3))
    # fan-out: how many outputs each input feeds (summing a unit input's contributions)
    fo = nw.layer_fanout(layer, (9, 8, 3), got.shape[1:])
    ones = np.ones((1, 4, 3, k, k))
    for yy, xx in ((0, 0), (4, 5), (8, 7)):
        e = np.zeros((1, 9, 8, 3))
        e[0, yy, xx, 1] = 1
        assert fo[yy, xx, 1] == _conv_reference(e, ones[0], stride, padding).sum()


@pytest.mark.parametrize("size, stride", [(2, 2), (3, 3), (3, 1), (2, 1)])
def test_sum_pool_matches_direct_windows(size, stride):
    rng = np.random.default_rng(size + 7 * stride)
    x = rng.integers(0, 5, (2, 7 if (7 - size) % stride == 0 else 8, 7 if (7 - size) % stride == 0 else 8, 2))
    layer = nw.Pool2d("p", size, stride, "sum")
    ho = (x.shape[1] - size) // stride + 1
    ref = np.array([[[x[n, i * stride:i * stride + size, j * stride:j * stride + size].sum(axis=(0, 1))
                      for j in range(ho)] for i in range(ho)] for n in range(2)])
    assert np.array_equal(nw.sum_pool(layer, x), ref)


def test_energy_shape_table_is_derived_from_the_descriptions():
    """golden.energy.NETWORK_SHAPES (inputs, neurons, fan_in, stored weights) from the
    built-in descriptions equals the former hand-written table; a general network's too."""
    from golden.energy import NETWORK_SHAPES, network_shapes

    assert NETWORK_SHAPES["cnn-dw"] == NETWORK_SHAPES["cnn-if"] == NETWORK_SHAPES["cmos-if"] == {
        "conv1": (784, 3456, 25, 150), "pool1": (3456, 864, 4, 0), "conv2": (864, 768, 150, 1800),
        "pool2": (768, 192, 4, 0), "fc": (192, 10, 192, 1920)}
    assert NETWORK_SHAPES["cnn-stochastic"] == {"conv1": (784, 3456, 25, 150), "conv2": (3456, 768, 600, 1800),
                                                "fc": (768, 10, 768, 1920)}
    assert network_shapes(_small(np.random.default_rng(0))) == {"c1": (242, 144, 18, 72), "p1": (144, 36, 4, 0),
                                                                 "d": (36, 3, 36, 108)}


def _relu_weights():
    from golden import snn

    return snn.normalised_cnn(100.0)[0]


@pytest.mark.parametrize("encoding", ["deterministic", "poisson"])
def test_simulate_with_ideal_if_neurons_is_simulate_if(encoding):
    """golden.snn.simulate on the built-in CNN with ideal IF neurons (threshold 1, reset by
    subtraction) equals simulate_if exactly: predictions at every checkpoint and all events."""
    from golden import snn
    from spinbase.data import load_mnist

    (_, _), (xs, ys) = load_mnist()
    w = _relu_weights()
    ideal = nw.Neuron("if", 1.0, "subtract")
    base = nw.from_weights("cnn-if", w)
    net = nw.Network("ideal", base.input, [layer if layer.neuron is None else replace(layer, neuron=ideal)
                                           for layer in base.layers])
    a = snn.simulate(net, xs[:12], ys[:12], steps=15, checkpoints=(5,), encoding=encoding, input_rate=0.5, rng=2)
    b = snn.simulate_if(w, xs[:12], ys[:12], steps=15, checkpoints=(5,), encoding=encoding, input_rate=0.5, rng=2)
    for t in (5, 15):
        assert np.array_equal(a["predictions"][t], b["predictions"][t])
    assert a["events"] == b["events"]
    assert a["events"]["fc"]["output_spikes"] > 0


def test_simulate_runs_lif_position_reset_and_bias_as_documented():
    """A dense LIF layer with a bias, a DW wall floor and reset to the position, on constant
    input: simulate's spikes equal a direct float loop of the documented update."""
    from golden import snn

    rng = np.random.default_rng(4)
    w, bias = rng.normal(0.2, 0.6, (3, 4)).astype(np.float32), np.float32([0.05, -0.3, 0.1])
    nrn = nw.Neuron("lif", 0.8, "position", 0.5, 2, "dw")
    net = nw.Network("lif", nw.Input(1, 1, 4), (nw.Flatten("f"), nw.Dense("d", w, bias=bias, neuron=nrn)))
    x = rng.random((6, 1, 1, 4)).astype(np.float32)
    res = snn.simulate(net, x, np.zeros(6), steps=9, encoding="poisson", rng=7)
    # the reference: the same Poisson draws, then the update written out
    r = np.random.default_rng(7)
    v = np.zeros((6, 3), np.float32)
    counts = np.zeros((6, 3))
    floor = np.float32(-0.5 / 0.5 * 0.8)
    for _ in range(9):
        s = (r.random(x[..., None].shape, dtype=np.float32) < x[..., None]).astype(np.float32)
        current = s.reshape(6, -1) @ w.T + bias
        v = v - v * np.float32(0.25)
        v = np.maximum(v + current, floor)
        fire = v >= np.float32(0.8)
        v[fire] = 0
        counts += fire
    assert res["events"]["d"]["output_spikes"] == pytest.approx(counts.sum() / 6)
    assert np.array_equal(res["predictions"][9], snn.decide(counts, v))
    assert counts.sum() > 0 and (v < 0).any()
