"""The SNN core on the user's networks, not only the built-ins: an MLP on scikit-learn's 8 x 8
digits (golden.mlp, 64-32-10, IF, dense layers chained), a small multi-channel LIF conv net
with biases and zero padding, in the Amaranth simulator against quantize.core.trace
(every layer's spike signature and count, the class counts, the decision) and
quantize.core.cycles_exact (cycle for cycle); and the core's limits, refused naming the layer."""

import numpy as np
import pytest
from core_sim import check
from hdl.core import SnnCore
from quantize import core as qc
from quantize import snn as q


def _digits_mlp(hidden=32):
    """The 64-hidden-10 IF MLP of golden.mlp on scikit-learn digits (seed 0), normalised at the
    99.9th percentile; the test split's first images."""
    from golden import mlp
    from spinbase.data import load_dataset

    (x_tr, y_tr), (x_te, y_te), rec = load_dataset("digits")
    w = mlp.train_mlp(x_tr, y_tr, (hidden,), epochs=20, seed=0)
    wn, _ = mlp.normalise_mlp(w, x_tr, 99.9)
    return mlp.mlp_network(wn, "digits-mlp", tuple(rec["sample_shape"])), x_te, y_te


def test_digits_mlp_on_the_core_equals_the_model():
    """64-32-10 on 8 x 8 digits: flat input into a dense chain (each dense spike scatters one
    word), 10 classes from the description; two images, 12 steps."""
    desc, x, _ = _digits_mlp()
    net = q.build_network(desc, q.QuantConfig(kind="cmos-if", steps=12, seed=3))
    layers = qc.core_layers(net)
    assert [(L.kind, L.in_shape, L.n) for L in layers] == [("fc", (8, 8, 1), 32), ("fc", (1, 1, 32), 10)]
    items, _ = check(net, x[:2], first=4)
    assert all(it["spikes"]["fc1"].sum() > 0 and it["spikes"]["fc2"].sum() > 0 for it in items)


def _lif_conv(kind="cmos-if", seed=1):
    """10 x 10 x 2 input -> conv 4@3x3 padding 1 (biased, LIF shift 2) -> 2 x 2 pooling (IF)
    -> flatten -> dense 16 (biased, LIF shift 3) -> dense 3 (IF): padding, channels in the
    encoder, biases, leaks and a dense chain at once."""
    from golden import network as nw

    rng = np.random.default_rng(seed)
    dev, reset, r = ("cmos", "subtract", 0.0) if kind == "cmos-if" else ("dw", "position", 0.5)
    return nw.Network("lif-conv", nw.Input(10, 10, 2), (
        nw.Conv2d("c", rng.normal(0.15, 0.4, (4, 2, 3, 3)), padding=1, bias=rng.normal(0.1, 0.2, 4),
                  neuron=nw.Neuron("lif", 1.0, reset, r, 2, dev)),
        nw.Pool2d("p", 2, mode="avg", neuron=nw.Neuron("if", 1.0, reset, r, None, dev)),
        nw.Flatten("f"),
        nw.Dense("d", rng.normal(0.05, 0.3, (16, 100)), bias=rng.normal(0, 0.3, 16),
                 neuron=nw.Neuron("lif", 1.0, reset, r, 3, dev)),
        nw.Dense("o", rng.normal(0.1, 0.4, (3, 16)), neuron=nw.Neuron("if", 1.0, reset, r, None, dev))))


@pytest.mark.parametrize("kind, lanes", [("cmos-if", 1), ("twin-if", 1), ("cmos-if", 3)])
def test_lif_conv_net_with_bias_and_padding_on_the_core_equals_the_model(kind, lanes):
    """Also with 3 lanes (QuantConfig.parallelism): the padded 3 x 3 conv's whole window row per
    cycle, in 3 banks (the row's first bank from a table of the padded column)."""
    net = q.build_network(_lif_conv(kind), q.QuantConfig(kind=kind, steps=4, tile=16, seed=2, parallelism=lanes))
    layers = qc.core_layers(net)
    assert layers[0].padding == 1 and layers[0].leak_shift == 2 and layers[0].bias is not None
    assert layers[0].banks == lanes
    x = np.random.default_rng(7).random((2, 10, 10, 2))
    items, _ = check(net, x, first=1)
    assert all(it["spikes"]["o"].sum() > 0 for it in items)
    # the leak and the bias matter: without them the model's spikes differ
    from dataclasses import replace
    plain = q.build_network(_lif_conv(kind), q.QuantConfig(kind=kind, steps=4, tile=16, seed=2))
    plain.layers[0] = replace(plain.layers[0], leak_shift=None, bias=None)
    other = qc.trace(plain, x, first_image=1)
    assert any(qc.signatures(a) != qc.signatures(b) for a, b in zip(items, other))


@pytest.mark.parametrize("shape, lanes, enc", [((7, 7, 1), 4, 4), ((5, 6, 3), 8, 8), ((8, 8, 1), 8, 8)])
def test_encoder_lanes_on_the_core_equal_the_model(shape, lanes, enc):
    """The encoder scanning E pixels per cycle (QuantConfig.parallelism): groups that wrap into
    the next row (7 wide, E = 4; 3 channels, E = 8 = 2 columns and 2 channels), a last group
    of fewer pixels (49 = 12 x 4 + 1; 90 = 11 x 8 + 2: the LFSRs leap the pixels left), one
    group per beat (E = 8), with a conv (banked) and a dense tail; 2 inputs x 3 steps, spike
    and cycle exact; several spikes per group, so the pipeline holds for their hand-outs."""
    from golden import network as nw

    rng = np.random.default_rng(5)
    h, w, c = shape
    n = nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos")
    desc = nw.Network("lanes", nw.Input(h, w, c), (
        nw.Conv2d("c", rng.normal(0.2, 0.5, (4, c, 3, 3)), padding=1, neuron=n), nw.Flatten("f"),
        nw.Dense("o", rng.normal(0.1, 0.4, (3, 4 * h * w)), neuron=n)))
    net = q.build_network(desc, q.QuantConfig(kind="cmos-if", steps=3, seed=2, parallelism=lanes))
    layers = qc.core_layers(net)
    assert layers[0].enc_lanes == enc and layers[0].banks == 3
    x = 0.3 + 0.7 * rng.random((2,) + shape)
    items, _ = check(net, x, first=0)
    s = np.concatenate([it["spikes"]["input"] for it in items])
    assert q.encoder_groups(s, enc) < s.sum()                          # groups with several spikes
    assert all(it["spikes"]["o"].sum() > 0 for it in items)


def test_stochastic_core_with_bias_and_another_input():
    """p-bits (network 2's neurons) on a 12 x 12 x 1 input with biases and 4 classes."""
    from golden import network as nw

    rng = np.random.default_rng(3)
    nrn = nw.Neuron("pbit", 1.0, "subtract", 0.0, None, "mtj")
    desc = nw.Network("pb", nw.Input(12, 12, 1), (
        nw.Conv2d("c", rng.normal(0.2, 1.0, (3, 1, 3, 3)), bias=rng.normal(0, 0.5, 3), neuron=nrn),
        nw.Pool2d("p", 2, neuron=None), nw.Flatten("f"),
        nw.Dense("o", rng.normal(0.1, 0.5, (4, 75)), bias=rng.normal(0, 0.5, 4), neuron=nrn)))
    net = q.build_network(desc, q.QuantConfig(kind="twin-stochastic", steps=2, seed=4))
    items, _ = check(net, rng.random((1, 12, 12)), first=0)
    assert items[0]["spikes"]["o"].sum() > 0


@pytest.mark.parametrize("change, words", [
    (lambda nw, n: (nw.Conv2d("c", np.ones((2, 1, 3, 3)), stride=2, neuron=n), nw.Flatten("f"),
                    nw.Dense("d", np.ones((3, 2 * 3 * 3)), neuron=n)), ["'c'", "stride 1"]),
    (lambda nw, n: (nw.Conv2d("c", np.ones((2, 1, 2, 2)), neuron=n), nw.Pool2d("p", 3, neuron=n),
                    nw.Flatten("f"), nw.Dense("d", np.ones((3, 2 * 2 * 2)), neuron=n)), ["'p'", "2 x 2"]),
    (lambda nw, n: (nw.Flatten("f"),) + tuple(nw.Dense(f"d{j}", np.ones((3, 49 if j == 0 else 3)), neuron=n)
                                             for j in range(8)), ["'d7'", "at most 7"]),
    (lambda nw, n: (nw.Flatten("f"), nw.Dense("wide", np.ones((300, 49)), neuron=n),
                    nw.Dense("d", np.ones((3, 300)), neuron=n)), ["'wide'", "256"]),
])
def test_core_refuses_what_it_cannot_run_naming_the_layer(change, words):
    from golden import network as nw

    n = nw.Neuron("if", device="cmos")
    desc = nw.Network("bad", nw.Input(7, 7, 1), change(nw, n))
    net = q.build_network(desc, q.QuantConfig(kind="cmos-if", steps=1))
    with pytest.raises(ValueError) as e:
        SnnCore(net)
    assert "\n" not in str(e.value)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_digits_mlp_on_verilator_equals_the_model():
    """The exported Verilog of the digits MLP under cocotb on Verilator (tb.core_launch with the
    user's network and inputs as files): 20 test images at 20 steps, spike for spike and cycle
    for cycle; a corrupted model spike is named (layer fc1) by the trace replay."""
    from spinbase.errors import MismatchError
    from tb import core_launch
    from tb.runner import skip_unless_simulator

    skip_unless_simulator("verilator")
    desc, x, _ = _digits_mlp()
    net = q.build_network(desc, q.QuantConfig(kind="cmos-if", steps=20, seed=1))
    r = core_launch.run(desc.name, sim="verilator", images=20, steps=20, net=net, x=x, case="digits-mlp")
    assert r.metrics["images"] == 20
    with pytest.raises(MismatchError, match=r"image 3: step \d+, layer fc1, position 0, channel \d+"):
        core_launch.run(desc.name, sim="verilator", images=1, steps=20, first=3, net=net, x=x, case="digits-mlp",
                        env={"CORE_CORRUPT": "fc1:0"})


@pytest.mark.long
@pytest.mark.parametrize("kind, lanes", [("cmos-if", 1), ("twin-if", 1), ("cmos-if", 3)])
def test_lif_conv_net_on_verilator_equals_the_model(kind, lanes):
    """The padded multi-channel LIF conv net with biases (and its dense tail) as exported
    Verilog on Verilator, 8 inputs at 10 steps (a Verilator build per case); also with the
    conv in 3 banks (QuantConfig.parallelism)."""
    from tb import core_launch
    from tb.runner import skip_unless_simulator

    skip_unless_simulator("verilator")
    net = q.build_network(_lif_conv(kind), q.QuantConfig(kind=kind, steps=10, tile=16, seed=2, parallelism=lanes))
    x = np.random.default_rng(7).random((8, 10, 10, 2))
    r = core_launch.run("lif-conv", sim="verilator", images=8, steps=10, net=net, x=x,
                        case=f"lif-conv-{kind}" + (f"-{lanes}" if lanes > 1 else ""))
    assert r.metrics["images"] == 8


def test_digits_mlp_on_icarus_equals_the_model():
    """The digits MLP's Verilog on Icarus: 3 test images at 20 steps (about 15 s)."""
    from tb import core_launch
    from tb.runner import skip_unless_simulator

    skip_unless_simulator("icarus")
    desc, x, _ = _digits_mlp()
    net = q.build_network(desc, q.QuantConfig(kind="cmos-if", steps=20, seed=1))
    r = core_launch.run(desc.name, sim="icarus", images=3, steps=20, net=net, x=x, case="digits-mlp")
    assert r.metrics["images"] == 3


def test_feature_vector_mlp_on_verilator_equals_the_model():
    """A 1 x 1 x 4 input (iris-like feature vectors) into a 4-8-3 IF MLP: the encoder's row and
    column counters of a one-pixel-wide image must still have a bit (a zero-width signal made
    the Verilog unbuildable on Verilator); 3 random inputs at 10 steps, spike and cycle exact."""
    from golden import network as nw
    from tb import core_launch
    from tb.runner import skip_unless_simulator

    skip_unless_simulator("verilator")
    rng = np.random.default_rng(4)
    n = nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos")
    desc = nw.Network("feat-mlp", nw.Input(1, 1, 4), (
        nw.Flatten("f"),
        nw.Dense("h", rng.normal(0.3, 0.4, (8, 4)), neuron=n),
        nw.Dense("o", rng.normal(0.2, 0.4, (3, 8)), neuron=n)))
    net = q.build_network(desc, q.QuantConfig(kind="cmos-if", steps=10, seed=2))
    x = rng.random((3, 1, 1, 4))
    r = core_launch.run(desc.name, sim="verilator", images=3, steps=10, net=net, x=x, case="feat-mlp")
    assert r.metrics["images"] == 3
