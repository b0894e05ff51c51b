"""The SNN core RTL (hdl.core.SnnCore) in the Amaranth simulator against quantize.core.trace:
every layer's spike signature and count, the class counts, the decision and the cycle count,
for the twin (network 1), the CMOS baseline and network 2 (p-bits), on small random networks
(biased so spikes reach the output in the first step and the decision's tie-break is used;
about 6,000 cycles per image, which the Amaranth simulator runs in a few seconds)."""

import numpy as np
import pytest
from amaranth.hdl import Fragment
from core_sim import check
from hdl.core import SnnCore
from quantize import core as qc
from quantize import snn as q


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    return {"conv1": (rng.normal(0, 1.0, (6, 1, 5, 5)) + 0.5).astype(np.float32),
            "conv2": (rng.normal(0, 0.5, (12, 6, 5, 5)) + 0.3).astype(np.float32),
            "fc": (rng.normal(0, 1.0, (10, 192)) + 0.1).astype(np.float32)}


def _image(seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((1, 28, 28))
    x[:, 10:16, 9:15] = 0.5 + 0.5 * rng.random((1, 6, 6))
    return x


def _back_to_back(layers, item) -> int:
    """Scatter updates of one word issued in consecutive cycles (the last word of a spike and
    the first of the next spike of the same source position): the read-modify-write hazard
    the accumulator's transparent read port forwards."""
    names = ["input"] + [L.name for L in layers]
    hits = 0
    for prev, layer in zip(names, layers):
        s = item["spikes"][prev]
        w = 28 if prev == "input" else layers[names.index(prev) - 1].out_hw[1]
        for t in range(s.shape[0]):
            for p in np.flatnonzero(s[t].sum(axis=1) > 1):
                chans = np.flatnonzero(s[t, p])
                for a, b in zip(chans[:-1], chans[1:]):
                    hits += layer.words(p // w, p % w, a)[-1][0] == layer.words(p // w, p % w, b)[0][0]
    return hits


@pytest.mark.parametrize("kind", ["twin-if", "cmos-if"])
def test_if_cores_equal_the_model_spike_for_spike(kind):
    """Bit-exact and cycle-exact, with the output layer, the decision's tie-break and both of
    the scatter engines' forwarding paths exercised: a word read misses the writes of the two
    cycles at and after its read edge, so a same-word update 1 cycle later (back-to-back
    spikes of one source position) and 2 cycles later (one cycle apart, e.g. adjacent conv1
    positions into one pool1 word) each take a forwarded sum."""
    net = q.build_network(_weights(), q.QuantConfig(kind=kind, steps=1, seed=5))
    fwd = {}
    items, got = check(net, _image(), first=7, forwarding=fwd)
    item = items[0]
    assert item["spikes"]["fc"].sum() > 0 and len(set(item["counts"])) > 1   # the output layer is exercised
    assert sorted(item["counts"]).count(max(item["counts"])) > 1              # and the tie-break
    assert _back_to_back(qc.core_layers(net), item) > 0                      # and the forwarding paths
    assert sum(v for (_, d), v in fwd.items() if d == 1) > 0, fwd
    assert sum(v for (_, d), v in fwd.items() if d == 2) > 0, fwd


@pytest.mark.parametrize("lanes", [2, 5])
def test_banked_if_core_equals_the_model_spike_for_spike(lanes):
    """QuantConfig.parallelism: conv1 and conv2 in ``lanes`` banks (5: the whole 5-column window
    row per cycle; not a power of two, so the row's first bank comes from a table), bit-exact
    and cycle-exact, with fewer cycles than one bank (the same network and image)."""
    net = q.build_network(_weights(), q.QuantConfig(kind="twin-if", steps=1, seed=5, parallelism=lanes))
    assert [L.banks for L in qc.core_layers(net)] == [lanes, 1, lanes, 1, 1]
    items, got = check(net, _image(), first=7)
    assert items[0]["spikes"]["fc"].sum() > 0
    one = qc.core_layers(q.build_network(_weights(), q.QuantConfig(kind="twin-if", steps=1, seed=5)))
    assert got[0]["cycles"] < qc.cycles_exact(one, items[0])


def _chunks(layer, y, x, c) -> list[set]:
    """The words a spike's scatter updates in each cycle: its window rows' words in runs of
    ``layer.banks`` consecutive columns (quantize.core's walk)."""
    out = []
    for addr, _ in layer.words(y, x, c):
        oy = addr // layer.tiles // layer.out_hw[1]
        if out and out[-1][0] == oy and len(out[-1][1]) < layer.banks:
            out[-1][1].add(addr)
        else:
            out.append((oy, {addr}))
    return [words for _, words in out]


def test_banked_core_forwards_in_several_banks_at_once():
    """The read-modify-write forwarding per bank: consecutive channels of one pool p1 position
    on the map's top row scatter into a one-row window of c4 (4 x 4 kernel, 4 banks: one cycle
    updates the row's 4 words), so the next spike's first cycle updates the words the previous
    spike's last cycle wrote, in all its banks at once (2 cycles later: the hand-out's gap).
    The RTL's forwarding of c4 covers at least those words (the model counts them: more than
    one per spike pair), and the results are bit- and cycle-exact."""
    net = q.build_network(_kernel_network("cmos-if"), q.QuantConfig(kind="cmos-if", steps=2, seed=5, parallelism=4))
    layers = qc.core_layers(net)
    x = np.zeros((1, 28, 28))
    x[:, 0:5, 4:20] = 0.9                                          # strokes on the top rows
    x[:, 10:16, 9:15] = 0.7
    fwd = {}
    items, _ = check(net, x, first=1, forwarding=fwd)
    c4, w = layers[2], layers[1].out_hw[1]
    s = items[0]["spikes"]["p1"]
    shared = pairs = 0
    for t in range(s.shape[0]):
        for p in np.flatnonzero(s[t].sum(axis=1) > 1):
            chans = np.flatnonzero(s[t, p])
            for a, b in zip(chans[:-1], chans[1:]):
                n = len(_chunks(c4, p // w, p % w, a)[-1] & _chunks(c4, p // w, p % w, b)[0])
                shared, pairs = shared + n, pairs + (n > 0)
    assert c4.banks == 4 and pairs > 0 and shared > pairs               # several banks in one cycle
    assert fwd.get(("c4", 2), 0) >= shared, (fwd, shared)


def test_stochastic_core_equals_the_model_spike_for_spike():
    """Network 2, one step (about 28,000 cycles: conv1's p-bits fire half the time on the blank
    background, each spike scattering up to 25 words into conv2; ~7 s on an idle core)."""
    net = q.build_network(_weights(), q.QuantConfig(kind="twin-stochastic", steps=1, seed=5))
    items, _ = check(net, _image(), first=2)
    assert items[0]["spikes"]["fc"].sum() > 0


def test_bad_configs_are_one_clear_error():
    net = q.build_network(_weights(), q.QuantConfig(kind="twin-if", steps=1, encoding="deterministic"))
    with pytest.raises(ValueError, match="QuantConfig.encoding must be 'lfsr', not 'deterministic'"):
        SnnCore(net)


def _kernel_network(kind="cmos-if", seed=3):
    """A description with other kernels than the built-ins': conv 4@3x3 -> pool -> conv 6@4x4
    -> pool -> flatten -> dense 10 (28 -> 26 -> 13 -> 10 -> 5), biased like ``_weights``."""
    from golden import network as nw

    rng = np.random.default_rng(seed)
    nrn = (nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos") if kind == "cmos-if"
           else nw.Neuron("pbit", 1.0, "subtract", 0.0, None, "mtj"))
    pool_nrn = None if kind == "twin-stochastic" else nrn
    return nw.Network("kernels", nw.Input(28, 28, 1), (
        nw.Conv2d("c3", (rng.normal(0, 1.0, (4, 1, 3, 3)) + 0.6).astype(np.float32), neuron=nrn),
        nw.Pool2d("p1", 2, neuron=pool_nrn),
        nw.Conv2d("c4", (rng.normal(0, 0.5, (6, 4, 4, 4)) + 0.3).astype(np.float32), neuron=nrn),
        nw.Pool2d("p2", 2, neuron=pool_nrn),
        nw.Flatten("f"),
        nw.Dense("d", (rng.normal(0, 1.0, (10, 150)) + 0.1).astype(np.float32), neuron=nrn),
    ))


@pytest.mark.parametrize("kind, lanes", [("cmos-if", 1), ("twin-stochastic", 1), ("twin-stochastic", 3)])
def test_core_from_a_description_with_other_kernels_equals_the_model(kind, lanes):
    """SnnCore built from a description with 3 x 3 and 4 x 4 kernels (IF pooling layers, or
    folded pooling for p-bits) equals quantize.core.trace spike for spike and cycle for cycle;
    also with 3 lanes (c4 takes its spikes through the folded pooling: the first bank's table
    halves the column)."""
    net = q.build_network(_kernel_network(kind), q.QuantConfig(kind=kind, steps=1, seed=5, parallelism=lanes))
    assert [L.ksize for L in qc.core_layers(net) if L.kind == "conv"] == [3, 4]
    items, _ = check(net, _image(), first=1)
    assert items[0]["spikes"]["d"].sum() > 0


@pytest.mark.parametrize("change, words", [
    (lambda nw, net: net.layers[:1] + (nw.Pool2d("p1", 2, neuron=net["p1"].neuron), nw.Conv2d(
        "c4", net["c4"].weight, stride=2, neuron=net["c4"].neuron), nw.Flatten("f"),
        nw.Dense("d", np.ones((10, 6 * 5 * 5)), neuron=net["d"].neuron)), ["'c4'", "stride 1"]),
    (lambda nw, net: net.layers[:3] + (nw.Pool2d("p2", 5, neuron=net["p2"].neuron), nw.Flatten("f"),
                                       nw.Dense("d", np.ones((10, 24)), neuron=net["d"].neuron)), ["'p2'", "2 x 2"]),
])
def test_core_refuses_what_it_cannot_run_naming_the_layer(change, words):
    from golden import network as nw

    base = _kernel_network()
    desc = nw.Network("bad", base.input, change(nw, base))
    net = q.build_network(desc, q.QuantConfig(kind="cmos-if", steps=1))
    with pytest.raises(ValueError) as e:
        SnnCore(net)
    assert "\n" not in str(e.value)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


@pytest.mark.parametrize("change", [
    lambda nw, net: (nw.Conv2d("c3", net["c3"].weight, padding=1, neuron=net["c3"].neuron),) + net.layers[1:2]
    + (nw.Conv2d("c4", np.ones((6, 4, 3, 3)), neuron=net["c4"].neuron),) + net.layers[3:5]
    + (nw.Dense("d", np.ones((10, 6 * 6 * 6)), neuron=net["d"].neuron),),
    lambda nw, net: net.layers[:5] + (nw.Dense("d0", np.ones((12, 150)), neuron=net["d"].neuron),
                                      nw.Dense("d", np.ones((10, 12)), neuron=net["d"].neuron)),
    lambda nw, net: net.layers[:5] + (nw.Dense("d", np.ones((3, 150)), neuron=net["d"].neuron),),
])
def test_core_builds_what_it_once_refused(change):
    """Padding, dense chains and other class counts (refused before the core was generalised;
    tests/test_core_general.py runs such networks against the model)."""
    from golden import network as nw

    base = _kernel_network()
    desc = nw.Network("now", base.input, change(nw, base))
    core = SnnCore(q.build_network(desc, q.QuantConfig(kind="cmos-if", steps=1)))
    assert core.classes == desc.classes and len(core.counts) == 16 * desc.classes
    Fragment.get(core, None)   # and it elaborates


def test_core_takes_another_input_size():
    from golden import network as nw

    desc = nw.Network("small", nw.Input(8, 8, 1), (
        nw.Conv2d("c", np.ones((2, 1, 3, 3)), neuron=nw.Neuron("if", device="cmos")), nw.Flatten("f"),
        nw.Dense("d", np.ones((10, 72)), neuron=nw.Neuron("if", device="cmos"))))
    core = SnnCore(q.build_network(desc, q.QuantConfig(kind="cmos-if", steps=1)))
    assert core.pixels == 64 and [L.in_shape for L in core.layers] == [(8, 8, 1), (6, 6, 2)]
    Fragment.get(core, None)   # and it elaborates
