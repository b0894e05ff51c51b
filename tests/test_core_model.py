"""The SNN core's integer model (quantize.core) and the encoder's draw order (quantize.snn):
pair statistics of the two-bank encoder, the trace against quantize.snn.run, the scatter
address map against quantize.snn.layer_input, signatures and the cycle count."""

import numpy as np
import pytest

from quantize import core as qc
from quantize import snn as q
from quantize.lfsr import LfsrBank, LfsrConfig


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    return {"conv1": (rng.normal(0, 0.3, (6, 1, 5, 5)) + 0.05).astype(np.float32),
            "conv2": (rng.normal(0, 0.15, (12, 6, 5, 5)) + 0.03).astype(np.float32),
            "fc": (rng.normal(0, 0.2, (10, 192)) + 0.01).astype(np.float32)}


def _images(n=2, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28))
    x[:, 6:22, 6:22] = rng.random((n, 16, 16))
    return x


def _pair_excess(spikes: np.ndarray, lag: int, p: float) -> tuple[float, float]:
    """Joint spike rate of pixels ``lag`` apart (raster order) minus p**2, and its standard
    error under independence. Pairs sharing a pixel are correlated (p**3 - p**4 each, two
    neighbours per pair), which the variance includes: Var = N (q (1-q) + 2 (p**3 - p**4))."""
    s = spikes.reshape(-1, 784)
    joint = s[:, :-lag] & s[:, lag:]
    n = joint.size
    q2 = p * p
    se = np.sqrt((q2 * (1 - q2) + 2 * (p ** 3 - p ** 4)) / n)
    return float(joint.mean() - q2), float(se)


@pytest.mark.parametrize("code", [1, 16])
@pytest.mark.parametrize("lag", [1, 28, 112])
def test_encoder_pairs_are_independent_within_monte_carlo_bounds(lag, code):
    """Dim pixels (code 1: spike iff the 8-bit word is 0, P = 1/256; code 16: P = 1/16) at the
    former encoder's bad distances: the joint spike rate of pixels ``lag`` apart is p**2 within
    5 standard errors (normal approximation; at code 1 about 40 joint events are expected).
    The former encoder (one 31-bit bank, 28 lanes = columns, reseeded per image) fails the
    same check at lag 112 (4 words apart in a lane: taps 31, 28 force the top 4 bits of word
    c + 4 to zero when word c is 0, so the joint rate is 16x chance)."""
    steps = 2000 if code == 1 else 300
    cfg = q.QuantConfig(steps=steps, input_bits=8, seed=3)
    p = code / 256
    s = q.encode(cfg, np.full((2, 28, 28), p))                     # (steps, B, 28, 28)
    assert abs(s.mean() - p) < 5 * np.sqrt(p * (1 - p) / s.size)
    ex, se = _pair_excess(s.transpose(1, 0, 2, 3), lag, p)
    assert abs(ex) < 5 * se, (lag, ex / se)
    if lag == 112 and code == 1:
        old = LfsrBank(LfsrConfig(31, 28, 8, 3)).run(steps * 28).reshape(steps, 28, 28)
        ex_old, se_old = _pair_excess((code > old)[:, None], lag, p)
        assert ex_old > 10 * se_old                                # the flaw the two banks fix


def test_trace_agrees_with_run_and_counts_words():
    """trace() keeps every spike of the same computation as quantize.snn.run."""
    for kind in ("twin-if", "cmos-if", "twin-stochastic"):
        net = q.build_network(_weights(), q.QuantConfig(kind=kind, steps=4))
        x = _images()
        tr = qc.trace(net, x, first_image=3)
        res = q.run(net, x, first_image=3)
        for j, item in enumerate(tr):
            np.testing.assert_array_equal(item["counts"], res["counts"][j])
            np.testing.assert_array_equal(item["spikes"][net.layers[-1].name].sum(axis=(0, 1)), res["counts"][j])
            assert item["pred"] == res["pred"][j]
        for name in ["input"] + [L.name for L in net.layers]:
            assert sum(int(it["spikes"][name].sum()) for it in tr) == res["spikes"][name], (kind, name)
        layers = qc.core_layers(net)
        for layer in layers:
            assert sum(int(f.sum()) for f in (qc.fanouts(layers, it)[layer.name] for it in tr)) == \
                res["spikes"]["words." + layer.name], (kind, layer.name)


def _kernel_network(kind):
    """Conv 4@3x3 -> pool -> conv 6@4x4 -> pool -> flatten -> dense 10 (pooling folded for p-bits)."""
    from golden import network as nw

    rng = np.random.default_rng(2)
    nrn = nw.Neuron("pbit", device="mtj") if kind == "twin-stochastic" else nw.Neuron("if", 1.0, "position", 0.5,
                                                                                       None, "dw")
    pn = None if kind == "twin-stochastic" else nrn
    return nw.Network("kernels", nw.Input(28, 28, 1), (
        nw.Conv2d("c3", rng.normal(0.3, 1.0, (4, 1, 3, 3)), neuron=nrn), nw.Pool2d("p1", 2, neuron=pn),
        nw.Conv2d("c4", rng.normal(0.2, 0.5, (6, 4, 4, 4)), neuron=nrn), nw.Pool2d("p2", 2, neuron=pn),
        nw.Flatten("f"), nw.Dense("d", rng.normal(0.1, 1.0, (10, 150)), neuron=nrn)))


@pytest.mark.parametrize("kind, desc", [("twin-if", False), ("twin-stochastic", False), ("twin-if", True),
                                        ("twin-stochastic", True)])
def test_scatter_addresses_reproduce_layer_input(kind, desc):
    """Scattering spikes with CoreLayer.words (acc[addr] += k[row]) and reading out
    sum_r rshift_round(acc c_r) gives quantize.snn.layer_input for every layer, and a spike's
    fan-out is its number of words (the built-in CNN, and a description with 3 x 3 and 4 x 4
    kernels)."""
    net = q.build_network(_kernel_network(kind) if desc else _weights(), q.QuantConfig(kind=kind, steps=1))
    rng = np.random.default_rng(5)
    for qlayer, layer in zip(net.layers, qc.core_layers(net)):
        h, w, c = layer.in_shape
        s = rng.random((1, h, w, c)) < 0.2
        acc = np.zeros((layer.positions * layer.tiles, layer.n), np.int64)
        for y, x, ch in zip(*np.nonzero(s[0])):
            words = layer.words(int(y), int(x), int(ch))
            assert len(words) == int(layer.fanout(y, x))
            assert len({a for a, _ in words}) == len(words)        # one spike: distinct words
            for addr, row in words:
                acc[addr] += layer.k[row]
        acc = acc.reshape(layer.positions, layer.tiles, layer.n)
        y = sum(q.rshift_round(acc[:, r] * layer.c[r], layer.shift) for r in range(layer.tiles))
        want = q.layer_input(net, qlayer, s)[0]
        np.testing.assert_array_equal(y, want.reshape(y.shape), err_msg=layer.name)


def test_signature_is_the_rotate_xor_of_the_events():
    rng = np.random.default_rng(7)
    s = rng.random((3, 20, 6)) < 0.3
    sig = 0
    for t in range(3):
        for p in range(20):
            for c in range(6):
                if s[t, p, c]:
                    sig = (((sig << 1) | (sig >> 31)) & 0xFFFFFFFF) ^ (((t * 20 + p) * 6 + c) & 0xFFFFFFFF)
    assert qc.signature(s) == sig
    s2 = s.copy()
    s2[1, 3, 2] ^= True
    assert qc.signature(s2) != sig


def test_cycles_per_image_from_counts_is_the_mean_of_the_exact_count():
    """With run()'s scatter-word counts the analytical estimate is linear in the events, so it
    equals the mean of cycles_exact (up to float rounding); with the default mean fan-outs it is
    an estimate."""
    net = q.build_network(_weights(), q.QuantConfig(kind="twin-if", steps=3))
    x = _images(3)
    layers = qc.core_layers(net)
    exact = [qc.cycles_exact(layers, it) for it in qc.trace(net, x)]
    res = q.run(net, x)
    est = qc.cycles_per_image(net, {k: v / 3 for k, v in res["spikes"].items()})
    assert est == pytest.approx(np.mean(exact), rel=1e-12)
    counts_only = {k: v / 3 for k, v in res["spikes"].items() if not k.startswith("words.")}
    assert qc.cycles_per_image(net, counts_only) > 0


@pytest.mark.parametrize("lanes", [2, 3, 5, 8])
def test_banked_scatter_takes_a_window_row_in_groups_of_the_banks(lanes):
    """QuantConfig.parallelism P: a conv layer gets min(P, k, Wo) banks by output column; a
    spike's scatter cycles (fanout) are its window rows' words grouped in runs of that many
    consecutive columns, and each group's columns lie in distinct banks (ox mod B); the
    arithmetic is P's-independent; run()'s per-layer scatter cycles equal the trace's, and
    cycles_per_image from them equals the mean of cycles_exact."""
    from golden import network as nw

    desc = _kernel_network("twin-if")
    one = q.build_network(desc, q.QuantConfig(kind="twin-if", steps=2))
    net = q.build_network(desc, q.QuantConfig(kind="twin-if", steps=2, parallelism=lanes))
    layers = qc.core_layers(net)
    assert [L.banks for L in layers] == [min(lanes, 3), 1, min(lanes, 4), 1, 1]
    for layer in layers:
        h, w, c = layer.in_shape
        for y in range(h):
            for x in range(w):
                rows = {}
                for addr, _ in layer.words(y, x, 0):
                    oy, ox = divmod(addr // layer.tiles, layer.out_hw[1])
                    rows.setdefault(oy, []).append(ox)
                groups = [cols[i:i + layer.banks] for cols in rows.values() for i in range(0, len(cols), layer.banks)]
                assert all(len({ox % layer.banks for ox in g}) == len(g) for g in groups)
                assert int(layer.fanout(y, x)) == len(groups), (layer.name, y, x)
    x = _images(2)
    tr, tr1 = qc.trace(net, x), qc.trace(one, x)
    assert [qc.signatures(a) for a in tr] == [qc.signatures(a) for a in tr1]      # timing only
    res = q.run(net, x)
    for layer in layers:
        assert sum(int(qc.fanouts(layers, it)[layer.name].sum()) for it in tr) == res["spikes"]["words." + layer.name]
    exact = [qc.cycles_exact(layers, it) for it in tr]
    assert qc.cycles_per_image(net, {k: v / 2 for k, v in res["spikes"].items()}) == pytest.approx(np.mean(exact),
                                                                                                  rel=1e-12)
    assert np.mean(exact) < np.mean([qc.cycles_exact(qc.core_layers(one), it) for it in tr1])
    assert nw.layer_fanout(desc["c3"], (28, 28, 1), (26, 26, 4), lanes)[5, 5, 0] == 4 * 3 * -(-3 // lanes)


def test_encoder_seeds_and_tile_are_checked():
    with pytest.raises(ValueError, match="image index must be >= 0, not -1"):
        q.encoder_seeds(1, -1)
    net = q.build_network(_weights(), q.QuantConfig(tile=24, steps=1))
    with pytest.raises(ValueError, match="tile to be a power of two, not 24"):
        qc.core_layers(net)
    with pytest.raises(ValueError, match=r"QuantConfig.parallelism must be an integer in 1..64, not 0"):
        q.QuantConfig(parallelism=0)


#: Per-layer spike signatures ("input" first) and exact cycles (of the core before its
#: pipelining) of MNIST test images 0..2 (run indices 5..7) through the three built-in networks
#: (cnn-stochastic 4 steps, the IF networks 12), computed with the code before the network description (commit edba887): the
#: description-driven models must reproduce them bit for bit.
_REGRESSION = {
    "cnn-if": ([[3383255983, 2839926648, 842948810, 2741851269, 10, 0],
                [759960941, 3425172245, 3627570144, 2273905989, 9533, 0],
                [3716280423, 2388268602, 968924970, 1168219270, 1986, 0]], [34315, 41036, 29780],
               [-23, 36, 13, 13, 35, 24, -69, -11, 12, -35]),
    "cnn-stochastic": ([[2376165434, 969237211, 280439720, 15658103],
                        [3961816114, 2434736363, 2539193787, 1099227],
                        [157673584, 884238443, 3149393711, 727453]], [108950, 117157, 100514],
                       [-78, -3966, 5791, 5364, -11795, -2116, -17922, 18589, 95, 3907]),
    "cmos-if": ([[3963051283, 436204873, 2824116338, 3836698013, 2076724446, 7793],
                 [2726560390, 1914683322, 1564705573, 478406276, 3771338509, 68],
                 [409344571, 3555390678, 34181644, 2228308598, 913191234, 13]], [51435, 66286, 38708],
                [-638, -293, -120, -439, -1939, -1226, -2271, 193, -884, -304]),
}


@pytest.mark.parametrize("name", sorted(_REGRESSION))
def test_builtin_networks_reproduce_the_former_traces(name):
    from spinbase.data import load_mnist

    (_, _), (xs, _) = load_mnist()
    net = qc.trained_network(name, steps=4 if name == "cnn-stochastic" else 12)
    assert net.network is not None and net.network.name == name
    tr = qc.trace(net, xs[:3], first_image=5)
    layers = qc.core_layers(net)
    sigs, cycles, membrane = _REGRESSION[name]
    assert [list(qc.signatures(it).values()) for it in tr] == sigs
    # the pipelined core (issue 17) adds per step ENC_TAIL - 1 encoder cycles and, per layer,
    # SCATTER_LATENCY + READ_FLUSH - 1 readout cycles to the former count (1 each before), and
    # one cycle per image to the decision (IMAGE_OVERHEAD was 11); the event-dependent terms
    # (one cycle per pixel and word, F per spike) are unchanged
    extra = (net.cfg.steps * (qc.ENC_TAIL - 1 + len(layers) * (qc.SCATTER_LATENCY + qc.READ_FLUSH - 1))
             + qc.IMAGE_OVERHEAD - 11)
    assert [qc.cycles_exact(layers, it) for it in tr] == [c + extra for c in cycles]
    assert tr[0]["membrane"].tolist() == membrane
