"""NIR in and out (golden/nir_io.py): the built-ins survive export -> import bit for bit (the
description, the integer model, the core's trace signatures), user graphs written with the
`nir` package map exactly (flatten order, padding, scale folding, LIF leak shifts), and every
refusal is one line naming the node."""

from __future__ import annotations

import math

import numpy as np
import pytest

nir = pytest.importorskip("nir")

from golden import network as nw  # noqa: E402
from golden import nir_io  # noqa: E402
from golden.nir_io import NirError  # noqa: E402
from spinbase.errors import SpintwinError  # noqa: E402


def _same_description(a: nw.Network, b: nw.Network):
    assert a.header() == b.header()
    for la, lb in zip(a.layers, b.layers):
        for f in ("weight", "bias"):
            x, y = getattr(la, f, None), getattr(lb, f, None)
            assert (x is None) == (y is None), (la.name, f)
            if x is not None:
                assert x.dtype == y.dtype and np.array_equal(x, y), (la.name, f)


@pytest.fixture(scope="module")
def mnist3():
    from spinbase.data import load_mnist

    return load_mnist()[1][0][:3]


@pytest.mark.parametrize("name", nw.BUILTINS)
def test_builtin_export_import_is_identical(name, tmp_path, mnist3):
    from quantize import core as qc

    net = nw.builtin(name)
    path = nir_io.write_nir(net, tmp_path / f"{name}.nir")
    assert nir.read(path).nodes["conv1"].weight.shape == (6, 1, 5, 5)        # a plain NIR file
    back, report = nir_io.read_nir(path)
    _same_description(net, back)
    assert set(report) == {L.name for L in net.layers if L.neuron is not None}
    qa, qb = qc.trained_network(net), qc.trained_network(back)
    assert qa.threshold == qb.threshold and qa.floor == qb.floor and qa.vmax == qb.vmax
    for la, lb in zip(qa.layers, qb.layers):
        assert la.name == lb.name and la.shift == lb.shift
        assert np.array_equal(la.k, lb.k) and np.array_equal(la.c, lb.c)
    if qa.lut is not None:
        assert np.array_equal(qa.lut, qb.lut)
    ta, tb = qc.trace(qa, mnist3), qc.trace(qb, mnist3)
    assert [qc.signatures(i) for i in ta] == [qc.signatures(i) for i in tb]
    assert [i["pred"] for i in ta] == [i["pred"] for i in tb]


def test_export_import_keeps_lif_bias_sum_pool_and_mlp(tmp_path):
    rng = np.random.default_rng(0)
    lif = nw.Neuron("lif", 0.75, "subtract", 0.0, 5, "ideal")
    net = nw.Network("mix", nw.Input(6, 6, 2), (
        nw.Conv2d("c", rng.normal(size=(3, 2, 3, 3)), stride=1, padding=1, bias=rng.normal(size=3), neuron=lif),
        nw.Pool2d("p", 2, mode="sum", neuron=nw.Neuron("if", 2.0)),
        nw.Flatten("f"),
        nw.Dense("d", rng.normal(size=(4, 27)), bias=rng.normal(size=4), neuron=lif),
    ))
    back, report = nir_io.read_nir(nir_io.write_nir(net, tmp_path / "m.nir"))
    _same_description(net, back)
    assert report["c"]["leak_shift"] == 5 and report["c"]["leak_error"] == 0.0
    mlp = nw.Network("mlp", nw.Input(1, 1, 4), (nw.Flatten("f"), nw.Dense("d", rng.normal(size=(3, 4)),
                                                                           neuron=nw.Neuron("if"))))
    _same_description(mlp, nir_io.read_nir(nir_io.write_nir(mlp, tmp_path / "mlp.nir"))[0])


def _graph(nodes, edges=None):
    if edges is None:
        names = list(nodes)
        edges = list(zip(names[:-1], names[1:]))
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def _lif(n, beta=0.9, vth=1.0, dt=1e-4):
    """An snnTorch Leaky as snnTorch exports it: tau = dt / (1 - beta), r = tau / dt."""
    tau = dt / (1 - beta)
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, tau / dt), v_leak=np.zeros(n), v_threshold=np.full(n, vth),
                   v_reset=np.zeros(n))


def test_snntorch_style_mlp_maps_with_leak_shift_and_report(tmp_path):
    rng = np.random.default_rng(1)
    w1, w2, w3 = rng.normal(size=(32, 64)), rng.normal(size=(10, 32)), rng.normal(size=(10, 10))
    g = _graph({"input": nir.Input(input_type={"input": np.array([64])}),
                "fc1": nir.Affine(weight=w1, bias=np.zeros(32)), "lif1": _lif(32, beta=0.9, vth=0.5),
                "fc2": nir.Linear(weight=w2), "lif2": _lif(10, beta=0.95),
                "fc3": nir.Linear(weight=w3), "if3": nir.IF(r=np.full(10, 2.0), v_threshold=np.full(10, 3.0)),
                "output": nir.Output(output_type={"output": np.array([10])})})
    nir.write(tmp_path / "mlp.nir", g)
    net, rep = nir_io.read_nir(tmp_path / "mlp.nir")
    assert net.input.shape == (1, 1, 64)
    assert [type(L).__name__ for L in net.layers] == ["Flatten", "Dense", "Dense", "Dense"]
    assert net["fc1"].bias is None                                  # all-zero bias: no bias
    assert np.array_equal(net["fc1"].weight, w1)
    # tau / dt = 10 -> shift round(log2 10) = 3: decay 1/8 for 1/10, +25 %
    r1 = rep["fc1"]
    assert r1["leak_shift"] == 3 and math.isclose(r1["decay_wanted"], 0.1) and r1["decay_got"] == 0.125
    assert math.isclose(r1["leak_error"], 0.25)
    assert math.isclose(net["fc1"].neuron.threshold, 0.5)             # gain dt r / tau = 1
    assert rep["fc2"]["leak_shift"] == 4                              # tau / dt = 20 -> log2 = 4.32
    assert net["fc3"].neuron.model == "if" and math.isclose(net["fc3"].neuron.threshold, 1.5)   # 3 / r
    assert rep["fc3"]["threshold_lsb"] == 256
    lines = nir_io.report_lines(rep)
    assert len(lines) == 3 and "+25.00 %" in lines[0]


def test_flatten_order_and_conv_padding_are_exact():
    """NIR flattens (c, h, w); the description (h, w, c): the Linear after a Flatten computes the
    same outputs on the same map either way."""
    rng = np.random.default_rng(2)
    wc = rng.normal(size=(3, 2, 3, 3))
    wl = rng.normal(size=(5, 3 * 3 * 3))
    g = _graph({"input": nir.Input(input_type={"input": np.array([2, 6, 6])}),
                "conv": nir.Conv2d(input_shape=(6, 6), weight=wc, stride=2, padding=1,
                                   dilation=1, groups=1, bias=np.zeros(3)),
                "if1": nir.IF(r=np.ones((3, 3, 3)), v_threshold=np.ones((3, 3, 3))),
                "flat": nir.Flatten(input_type={"input": np.array([3, 3, 3])}, start_dim=0),
                "fc": nir.Linear(weight=wl), "if2": nir.IF(r=np.ones(5), v_threshold=np.ones(5)),
                "output": nir.Output(output_type={"output": np.array([5])})})
    net, _ = nir_io.from_nir_graph(g)
    assert net.out_shape_of("conv") == (3, 3, 3) and net["conv"].padding == 1 and net["conv"].stride == 2
    s_chw = rng.normal(size=(3, 3, 3))
    s_hwc = s_chw.transpose(1, 2, 0)
    assert np.allclose(net["fc"].weight @ s_hwc.reshape(-1), wl @ s_chw.reshape(-1), rtol=0, atol=1e-12)
    same = _graph({"input": nir.Input(input_type={"input": np.array([2, 6, 6])}),
                   "conv": nir.Conv2d(input_shape=(6, 6), weight=wc, stride=1, padding="same", dilation=1, groups=1,
                                      bias=np.zeros(3)),
                   "if1": nir.IF(r=np.ones((3, 6, 6)), v_threshold=np.ones((3, 6, 6))),
                   "output": nir.Output(output_type={"output": np.array([3, 6, 6])})})
    assert nir_io.from_nir_graph(same)[0]["conv"].padding == 1


def test_scale_folds_into_weights_and_makes_sum_pool_an_average():
    rng = np.random.default_rng(3)
    w, b = rng.normal(size=(4, 3)), rng.normal(size=4)
    s = np.array([0.5, 2.0, 1.0, -1.0])
    g = _graph({"input": nir.Input(input_type={"input": np.array([3])}), "fc": nir.Affine(weight=w, bias=b),
                "sc": nir.Scale(scale=s), "if": nir.IF(r=np.ones(4), v_threshold=np.ones(4)),
                "output": nir.Output(output_type={"output": np.array([4])})})
    net, _ = nir_io.from_nir_graph(g)
    assert np.array_equal(net["fc"].weight, w * s[:, None]) and np.array_equal(net["fc"].bias, b * s)
    wc = rng.normal(size=(2, 1, 3, 3))
    g = _graph({"input": nir.Input(input_type={"input": np.array([1, 6, 6])}),
                "c": nir.Conv2d(input_shape=(6, 6), weight=wc, stride=1, padding=0, dilation=1, groups=1,
                                bias=np.zeros(2)),
                "i1": nir.IF(r=np.ones((2, 4, 4)), v_threshold=np.ones((2, 4, 4))),
                "p": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
                "sc": nir.Scale(scale=np.full((2, 2, 2), 0.25)),
                "i2": nir.IF(r=np.ones((2, 2, 2)), v_threshold=np.ones((2, 2, 2))),
                "output": nir.Output(output_type={"output": np.array([2, 2, 2])})})
    assert nir_io.from_nir_graph(g)[0]["p"].mode == "avg"


def _mlp_nodes(w=None):
    w = np.ones((3, 4)) if w is None else w
    return {"input": nir.Input(input_type={"input": np.array([4])}), "fc": nir.Linear(weight=w),
            "if": nir.IF(r=np.ones(w.shape[0]), v_threshold=np.ones(w.shape[0])),
            "output": nir.Output(output_type={"output": np.array([w.shape[0]])})}


def _with(extra, at="if"):
    nodes = _mlp_nodes()
    out = {}
    for k, v in nodes.items():
        out[k] = v
        if k == at:
            out.update(extra)
    return out


@pytest.mark.parametrize("node, words", [
    (nir.CubaLIF(tau_syn=np.ones(3), tau_mem=np.ones(3), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3)),
     ["'x'", "CubaLIF", "supported: Input"]),
    (nir.CubaLI(tau_syn=np.ones(3), tau_mem=np.ones(3), r=np.ones(3), v_leak=np.zeros(3)), ["'x'", "CubaLI"]),
    (nir.LI(tau=np.ones(3), r=np.ones(3), v_leak=np.zeros(3)), ["'x'", "LI,", "supported"]),
    (nir.I(r=np.ones(3)), ["'x'", "type I,"]),
    (nir.Delay(delay=np.ones(3)), ["'x'", "Delay"]),
    (nir.Conv1d(input_shape=3, weight=np.ones((1, 1, 1)), stride=1, padding=0, dilation=1, groups=1,
                bias=np.zeros(1)), ["'x'", "Conv1d"]),
    (nir.Threshold(threshold=np.ones(3)), ["'x'", "Threshold", "stateless"]),
])
def test_unsupported_nodes_are_one_line_naming_the_node(node, words):
    with pytest.raises(NirError) as e:
        nir_io.from_nir_graph(_graph(_with({"x": node})))
    msg = str(e.value)
    assert "\n" not in msg and isinstance(e.value, SpintwinError)
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.parametrize("make, words", [
    (lambda: _graph(_mlp_nodes(np.ones((3, 5)))), ["'fc'", "(3, 5)", "5 inputs", "'input'", "(4,)"]),
    (lambda: _graph(_mlp_nodes(np.full((3, 4), np.nan))), ["'fc'", "NaN or infinite"]),
    (lambda: _graph(_mlp_nodes(np.full((3, 4), np.inf))), ["'fc'", "NaN or infinite"]),
    (lambda: _graph({**_mlp_nodes(), "if": nir.IF(r=np.ones(7), v_threshold=np.ones(7))}),
     ["'if'", "(7,)", "'fc'", "(3,)"]),
    (lambda: _graph({}, []), ["empty"]),
    (lambda: _graph({**_mlp_nodes(), "fc2": nir.Linear(weight=np.ones((3, 3)))},
                    [("input", "fc"), ("fc", "if"), ("if", "output"), ("if", "fc2")]), ["'if'", "(IF)", "branches"]),
    (lambda: _graph({**_mlp_nodes(), "in2": nir.Input(input_type={"input": np.array([4])})},
                    [("input", "fc"), ("in2", "fc"), ("fc", "if"), ("if", "output")]), ["'fc'", "joins"]),
    (lambda: _graph({**_mlp_nodes(), "lif": nir.LIF(tau=np.full(3, 1e-4), r=np.ones(3), v_leak=np.zeros(3),
                                                     v_threshold=np.ones(3))},
                    [("input", "fc"), ("fc", "lif"), ("lif", "output")]), ["'if'", "not on the chain"]),
    (lambda: _graph({**_mlp_nodes(), "if": nir.LIF(tau=np.full(3, 1e-4), r=np.ones(3), v_leak=np.zeros(3),
                                                    v_threshold=np.ones(3))}), ["'if'", "leak shift of 0"]),
    (lambda: _graph({**_mlp_nodes(), "if": nir.IF(r=np.ones(3), v_threshold=np.array([1.0, 2.0, 1.0]))}),
     ["'if'", "v_threshold varies"]),
])
def test_bad_graphs_are_one_line(make, words):
    with pytest.raises(NirError) as e:
        nir_io.from_nir_graph(make())
    msg = str(e.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, (w, msg)


def test_the_recurrent_form_is_a_recurrent_dense_and_other_cycles_are_refused():
    """snnTorch's RLeaky exports lif -> w_rec -> lif: a recurrent Dense whose weight is [W, W_rec]
    (an Affine's bias adds to the layer's); a cycle of another shape (the neuron back into the
    Linear before it) is refused, the line naming the edge into the node; recurrence around a
    convolution's neurons is refused naming both nodes."""
    nodes = _mlp_nodes()
    nodes["rec"] = nir.Affine(weight=2 * np.eye(3), bias=np.array([0.5, 0.0, 0.0]))
    g = _graph(nodes, [("input", "fc"), ("fc", "if"), ("if", "rec"), ("rec", "if"), ("if", "output")])
    net = nir_io.from_nir_graph(g)[0]
    assert net["fc"].recurrent and np.array_equal(net["fc"].weight, np.hstack([np.ones((3, 4)), 2 * np.eye(3)]))
    assert np.array_equal(net["fc"].bias, [0.5, 0.0, 0.0])
    g = _graph(_mlp_nodes(), [("input", "fc"), ("fc", "if"), ("if", "fc"), ("if", "output")])
    with pytest.raises(NirError) as e:
        nir_io.from_nir_graph(g)
    assert "recurrent" in str(e.value) and "'fc'" in str(e.value) and "(Linear)" in str(e.value)
    conv = {"input": nir.Input(input_type={"input": np.array([1, 3, 3])}),
            "c": nir.Conv2d(input_shape=(3, 3), weight=np.ones((1, 1, 3, 3)), stride=1, padding=0, dilation=1,
                            groups=1, bias=np.zeros(1)),
            "if": nir.IF(r=np.ones((1, 1, 1)), v_threshold=np.ones((1, 1, 1))),
            "rec": nir.Linear(weight=np.eye(1)), "output": nir.Output(output_type={"output": np.array([1, 1, 1])})}
    g = _graph(conv, [("input", "c"), ("c", "if"), ("if", "rec"), ("rec", "if"), ("if", "output")])
    with pytest.raises(NirError, match=r"^node 'rec' \(Linear\) feeds 'if' back into itself, but 'if' closes a "
                                       r"Conv2d; supported: recurrence around a Linear/Affine layer's neurons$"):
        nir_io.from_nir_graph(g)


def test_a_recurrent_network_round_trips_through_nir(tmp_path):
    """Export writes the recurrent rows as the node '<layer>_rec' in NIR's recurrent form;
    reading the file back gives the same description (weights, bias, neurons, the flag)."""
    rng = np.random.default_rng(2)
    nrn = nw.Neuron("lif", 1.0, "subtract", 0.0, 3, "cmos")
    net = nw.Network("r", nw.Input(2, 2, 2), (
        nw.Flatten("f"), nw.Dense("h", rng.normal(size=(5, 13)), bias=rng.normal(size=5), neuron=nrn, recurrent=True),
        nw.Dense("o", rng.normal(size=(3, 5)), neuron=nrn)))
    g = nir_io.to_nir_graph(net)
    assert ("h_neuron", "h_rec") in g.edges and ("h_rec", "h_neuron") in g.edges
    back = nir_io.read_nir(nir_io.write_nir(net, tmp_path / "r.nir"))[0]
    _same_description(net, back)
    assert back["h"].recurrent and not back["o"].recurrent


def test_missing_file_and_not_nir_are_one_line(tmp_path):
    with pytest.raises(NirError, match="no such NIR file"):
        nir_io.read_nir(tmp_path / "missing.nir")
    junk = tmp_path / "junk.nir"
    junk.write_bytes(b"not hdf5 at all\n")
    with pytest.raises(NirError, match="not a NIR file") as e:
        nir_io.read_nir(junk)
    assert "\n" not in str(e.value)
    import h5py

    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(NirError, match="not a NIR file"):
        nir_io.read_nir(tmp_path / "other.h5")


def test_numpy_mlp_on_digits_as_nir_runs_on_the_integer_model(tmp_path):
    """The framework-free path: a 64-32-10 ReLU MLP trained in numpy on scikit-learn digits
    (stratified 80/20, seed 0: 360 test images), normalised for IF neurons, written as NIR, read
    back identical; the CMOS-IF integer model (100 steps) is within 1 point of the float network on
    the whole test split (the issue's criterion), and the core's trace runs on it."""
    from golden import mlp
    from quantize import core as qc
    from quantize import snn as q
    from spinbase.data import check_fits, load_dataset

    (x_tr, y_tr), (x_te, y_te), rec = load_dataset("digits")
    w = mlp.train_mlp(x_tr, y_tr, (32,), epochs=60, seed=0)
    wn, _ = mlp.normalise_mlp(w, x_tr, 99.9)
    net = mlp.mlp_network(wn, "digits-mlp", tuple(rec["sample_shape"]))
    check_fits(net, rec)
    back, _ = nir_io.read_nir(nir_io.write_nir(net, tmp_path / "mlp.nir"))
    _same_description(net, back)
    assert [n.weight.shape for n in nir.read(tmp_path / "mlp.nir").nodes.values() if hasattr(n, "weight")] == \
        [(32, 64), (10, 32)]
    cfg = q.QuantConfig(kind="cmos-if", steps=100)
    qn = q.build_network(back, cfg)
    counts, state = q.step_loop(qn, q.encode(cfg, x_te))
    twin = float(np.mean(q.decide(counts, state[qn.layers[-1].name]) == y_te))
    flt = mlp.accuracy(w, x_te, y_te)
    assert abs(twin - flt) <= 0.01, (twin, flt)
    assert set(qc.signatures(qc.trace(qn, x_te[:1])[0])) == {"input", "fc1", "fc2"}
