"""The recurrent mode (seed sections III and V.1): a dense layer whose own spikes of step t-1 are
extra input rows at step t, in the description (golden.network), the float simulation
(golden.snn), the bit-accurate model (quantize.snn), the RTL core (hdl.core, against
quantize.core's trace and cycle count) and the trained task (golden.recurrent,
configs/recurrent.toml)."""

import json

import numpy as np
import pytest
from core_sim import check

from golden import network as nw
from golden import recurrent as rnn
from golden import snn
from quantize import core as qc
from quantize import snn as q

CMOS = nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos")


def _latch(recurrent=True):
    """One IF neuron (threshold 1, reset by subtraction) with a bias of 0.5 and, recurrent, a
    weight 0.5 from its own last spike; its one input has weight 0 (the input never matters)."""
    w = np.array([[0.0, 0.5]]) if recurrent else np.array([[0.5]])
    return nw.Network("latch", nw.Input(1, 1, 1), (
        nw.Flatten("f"), nw.Dense("r", w, bias=np.array([0.5]), neuron=CMOS, recurrent=recurrent)))


def test_latch_spike_train_is_the_analytic_one():
    """The latch's membrane: step 0: 0.5; step 1: 1.0 -> spike, 0; from then on 0.5 (bias) + 0.5
    (its spike of the step before) = 1.0 -> a spike every step: 7 spikes in 8 steps. Without the
    recurrent row (the input weight 0.5 on a pixel of value 0 never drives it) it fires every
    other step: 4 spikes. Every value is a multiple of 2**-8, so float and integer model are
    exact: the integer model's weight code 127 (w_max 0.5) scaled by c = 516 and shifted by 9
    gives (127 * 516 + 256) >> 9 = 128 = 0.5 threshold, the bias round(0.5 * 2**8) = 128."""
    x = np.zeros((1, 1, 1))
    for rec, want in ((True, 7), (False, 4)):
        desc = _latch(rec)
        ev = snn.simulate(desc, x, np.zeros(1, int), steps=8)["events"]
        assert ev["r"]["output_spikes"] == want
        # the recurrent row receives the spikes of steps 1..6 (step 7's is never fed back), each
        # driving the one neuron; the input pixel (value 0) never spikes
        assert ev["r"]["input_spikes"] == ev["r"]["synaptic_events"] == (6 if rec else 0)
        net = q.build_network(desc, q.QuantConfig(kind="cmos-if", steps=8, tile=2))
        assert int(q.run(net, x)["counts"].sum()) == want


def test_energy_events_count_the_recurrent_rows():
    """golden.energy.network_shapes: a recurrent layer's crossbar has in + n rows and fan-in
    in + n; spintwin.explore_eval.network_events adds the layer's own spikes to its row
    activations, each driving n synapses (the latch: 7 spikes, one neuron -> 7 events, one of
    them the last step's, the documented overcount of at most n per image)."""
    from golden import energy
    from spintwin.explore_eval import network_events

    desc = _latch()
    assert energy.network_shapes(desc) == {"r": (2, 1, 2, 2)}
    net = q.build_network(desc, q.QuantConfig(kind="cmos-if", steps=8, tile=2))
    ev = network_events(net, q.run(net, np.zeros((1, 1, 1)))["spikes"], 1)
    assert ev.layers[0].input_spikes == ev.layers[0].synaptic_events == 7


def test_description_round_trip_and_refusals(tmp_path):
    rng = np.random.default_rng(0)
    net = nw.Network("r", nw.Input(2, 2, 1), (
        nw.Flatten("f"), nw.Dense("h", rng.normal(size=(3, 7)), bias=rng.normal(size=3), neuron=CMOS, recurrent=True),
        nw.Dense("o", rng.normal(size=(2, 3)), neuron=CMOS)))
    from golden import convnet

    with pytest.raises(nw.NetworkError, match="^layer 'h' is recurrent: golden.convnet trains feed-forward"):
        convnet.forward(net, np.zeros((1, 2, 2)))
    back = nw.load(nw.save(net, tmp_path / "r.npz"))
    assert back["h"].recurrent and not back["o"].recurrent
    assert np.array_equal(back["h"].weight, net["h"].weight)
    with pytest.raises(nw.NetworkError, match=r"^layer 'h': weight \(3, 4\) expects 1 inputs and 3 recurrent rows.*"
                                              r"\(out, in \+ out\) = \(3, 7\)"):
        nw.Network("r", nw.Input(2, 2, 1), (nw.Flatten("f"), nw.Dense("h", np.ones((3, 4)), neuron=CMOS,
                                                                        recurrent=True)))
    with pytest.raises(nw.NetworkError, match="^layer 'h': a recurrent layer needs neurons"):
        nw.Network("r", nw.Input(1, 1, 2), (nw.Flatten("f"), nw.Dense("h", np.ones((2, 4)), recurrent=True),
                                            nw.Dense("o", np.ones((1, 2)), neuron=CMOS)))
    folded = nw.Network("p", nw.Input(4, 4, 1), (
        nw.Pool2d("pool", 2), nw.Flatten("f"), nw.Dense("h", np.ones((2, 6)), neuron=CMOS, recurrent=True)))
    with pytest.raises(nw.NetworkError, match="^layer 'h': a recurrent layer cannot take a folded .*'pool'"):
        q.build_network(folded, q.QuantConfig(kind="cmos-if"))
    # a file that makes a convolution recurrent: one line naming the layer
    header = net.header()
    header["layers"].insert(0, {"type": "conv2d", "name": "c", "weight": [1, 1, 1, 1], "stride": 1, "padding": 0,
                                "bias": None, "neuron": None, "recurrent": True})
    arrays = {"header.json": np.frombuffer(json.dumps(header).encode(), np.uint8), "c.weight": np.ones((1, 1, 1, 1)),
              "h.weight": net["h"].weight, "h.bias": net["h"].bias, "o.weight": net["o"].weight}
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(nw.NetworkError, match=r"bad.npz: layer 'c': only dense layers can be recurrent, not conv2d$"):
        nw.load(tmp_path / "bad.npz")


def test_bptt_gradients_match_central_differences():
    """loss_and_gradients against central differences of the loss in float64 (h = 1e-6: the
    truncation error is O(h**2 |f'''|) ~ 1e-12 and the rounding error ~ 1e-16 / h = 1e-10, both far
    below the 1e-6 relative tolerance), on parameters whose pre-activations keep clear of the
    clip's corners 0 and 1 by more than h times the largest input (checked), where the loss is
    smooth."""
    rng = np.random.default_rng(3)
    x = rng.random((5, 6))
    y = rng.integers(0, 3, 5)
    params = [(rng.normal(0, 0.3, (4, 6)), rng.normal(0, 0.3, (4, 4)), rng.normal(0.3, 0.1, 4)),
              (rng.normal(0, 0.5, (3, 4)), rng.normal(0, 0.1, 3))]
    _, zs, _ = rnn.rate_forward(params, x, 3, keep=True)
    z = np.concatenate([a.ravel() for a in zs])
    assert min(np.abs(z).min(), np.abs(z - 1).min()) > 1e-4
    flat = [params[0][0], params[0][1], params[0][2], params[1][0], params[1][1]]
    _, grads = rnn.loss_and_gradients(params, x, y, 3, rec_decay=0.01)

    def loss(ps):
        return rnn.loss_and_gradients([(ps[0], ps[1], ps[2]), (ps[3], ps[4])], x, y, 3, rec_decay=0.01)[0]

    h = 1e-6
    for j, (p, g) in enumerate(zip(flat, grads)):
        for idx in list(np.ndindex(p.shape))[:6]:
            up = [a.copy() for a in flat]
            dn = [a.copy() for a in flat]
            up[j][idx] += h
            dn[j][idx] -= h
            assert (loss(up) - loss(dn)) / (2 * h) == pytest.approx(g[idx], rel=1e-6, abs=1e-9), (j, idx)


def _two_layer(kind, seed=1):
    """4 x 4 input -> dense 6 (recurrent, biased) -> dense 3 (recurrent): both recurrent layers
    span several row tiles at tile = 8 (22 and 9 rows), the second is the class layer."""
    rng = np.random.default_rng(seed)
    nrn = {"cmos-if": CMOS, "twin-if": nw.Neuron("if", 1.0, "position", 0.5, None, "dw"),
           "twin-stochastic": nw.Neuron("pbit", 1.0, "subtract", 0.0, None, "mtj")}[kind]
    return nw.Network("rnn", nw.Input(4, 4, 1), (
        nw.Flatten("f"),
        nw.Dense("r", np.concatenate([rng.normal(0.1, 0.5, (6, 16)), rng.normal(0, 0.6, (6, 6))], 1),
                 bias=rng.normal(0, 0.2, 6), neuron=nrn, recurrent=True),
        nw.Dense("o", rng.normal(0.1, 0.6, (3, 9)), neuron=nrn, recurrent=True)))


@pytest.mark.parametrize("kind", ["cmos-if", "twin-if", "twin-stochastic"])
def test_recurrent_core_equals_the_model(kind):
    """Two images, 6 steps, in the Amaranth simulator: every layer's signature and count, the
    class counts, the decision and the cycle count (cycles_exact, which has no recurrent term)
    equal the model's; and the recurrent rows matter: the model with them zeroed differs."""
    desc = _two_layer(kind)
    cfg = q.QuantConfig(kind=kind, steps=6, tile=8, seed=2)
    net = q.build_network(desc, cfg)
    layers = qc.core_layers(net)
    assert [(L.rows, L.tiles, L.recurrent) for L in layers] == [(22, 3, True), (9, 2, True)]
    x = np.random.default_rng(7).random((2, 4, 4))
    items, _ = check(net, x, first=0)
    assert all(it["spikes"]["r"].sum() > 0 for it in items)
    for L in net.layers:
        L.k = L.k.copy()
        L.k[-L.k.shape[1]:] = 0
    other = qc.trace(net, x, first_image=0)
    assert any(qc.signatures(a) != qc.signatures(b) for a, b in zip(items, other))


def test_latch_on_the_core():
    """The analytic latch (7 spikes in 8 steps) on the RTL, one class."""
    net = q.build_network(_latch(), q.QuantConfig(kind="cmos-if", steps=8, tile=2))
    _, got = check(net, np.zeros((1, 1, 1)))
    assert got[0]["counts"] == [7]


def test_task_network_and_design_file():
    """The committed network of configs/recurrent.toml: a recurrent 64-16-10 MLP whose rate
    model is far above chance (0.1) on the digits test split; its design resolves to kind
    cmos-if at 32 steps; the recurrence carries weight (zeroing it changes the rate model's
    decisions)."""
    from bench.recurrent import CONFIG_FILE, NETWORK_FILE
    from spinbase.data import load_dataset
    from spintwin.block_core import core_quant_config
    from spintwin.config import load_config

    net = nw.load(NETWORK_FILE)
    assert net["rec"].recurrent and np.shape(net["rec"].weight) == (16, 64 + 16)
    _, (x, y), _ = load_dataset("digits")
    params = rnn.params_of(net)
    it = rnn.TASK["iterations"]
    assert rnn.accuracy(params, x, y, it) > 0.8
    assert np.any(np.argmax(rnn.rate_forward(params, x, it), 1)
                  != np.argmax(rnn.rate_forward(rnn.without_recurrence(params), x, it), 1))
    network, cfg = core_quant_config(load_config(CONFIG_FILE)["core"], path=CONFIG_FILE)
    assert network == str(NETWORK_FILE) and cfg.kind == "cmos-if" and cfg.steps == 32


def _cosim(sim, images, steps):
    """The task's network (configs/recurrent.toml) co-simulated by tb.core_launch on ``sim``:
    bit-exact (signatures, counts, decision, cycles against quantize.core) or MismatchError."""
    from bench.recurrent import CONFIG_FILE, NETWORK_FILE
    from spinbase.data import load_dataset
    from spintwin.block_core import core_quant_config
    from spintwin.config import load_config
    from tb import core_launch
    from tb.runner import skip_unless_simulator

    skip_unless_simulator(sim)
    _, cfg = core_quant_config(load_config(CONFIG_FILE)["core"], path=CONFIG_FILE, steps=steps)
    net = q.build_network(nw.load(NETWORK_FILE), cfg)
    x = load_dataset("digits")[1][0]
    model = q.run(net, x[:images])
    assert model["spikes"]["rec"] > 0 and model["spikes"]["out"] > 0   # there is something to compare
    r = core_launch.run(str(NETWORK_FILE), sim=sim, images=images, steps=steps, net=net, x=x)
    assert r.metrics["images"] == images
    return r


def test_icarus_recurrent_task_one_image():
    """One digit, 8 steps, on Icarus (about 20 s)."""
    _cosim("icarus", 1, 8)


@pytest.mark.long
def test_verilator_recurrent_task_three_images():
    """Three digits at the design's 32 steps on Verilator (one build, about 100 s)."""
    r = _cosim("verilator", 3, 32)
    print(f"recurrent digits: {r.metrics['cycles_per_image']:.0f} cycles per image at 32 steps")


def test_bench_section_quick(tmp_path):
    """bench.recurrent.run(quick=True) writes recurrent.json; its cycles per image (from the
    run's scatter words) equal the mean of quantize.core.cycles_exact over the traced images,
    and its standard errors are the binomial sqrt(p (1 - p) / n)."""
    from bench import recurrent as bench_rec
    from spinbase.data import load_dataset

    r = bench_rec.run(tmp_path, quick=True)
    assert json.loads((tmp_path / "recurrent.json").read_text())["test_images"] == r["test_images"] == 120
    _, cfg = bench_rec._design()
    net = q.build_network(nw.load(bench_rec.NETWORK_FILE), cfg)
    x = load_dataset("digits")[1][0][:120]
    layers = qc.core_layers(net)
    exact = np.mean([qc.cycles_exact(layers, it) for it in qc.trace(net, x)])
    assert r["cycles_per_image"]["recurrent"] == pytest.approx(exact, rel=1e-12)
    a = r["bit_accurate"]["recurrent"][str(cfg.steps)]
    assert a["se"] == pytest.approx(np.sqrt(a["accuracy"] * (1 - a["accuracy"]) / 120))
    assert "## Recurrent mode" in bench_rec.markdown(r)
