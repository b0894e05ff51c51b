"""golden.convnet: a network description trained in numpy. Its forward pass equals the seed
CNN's (golden.cnn) and the MLP's (golden.mlp), two independent implementations; its gradients
equal central differences; normalisation keeps every decision; a small CNN learns digits."""

import numpy as np
import pytest

from golden import cnn, convnet, mlp
from golden import network as nw

IF = nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos")


def test_forward_equals_the_seed_cnn_and_the_mlp():
    """The seed CNN (valid 5x5 convs, average pooling with neurons, dense 10) and a 64-16-10
    MLP: the same logits as golden.cnn.forward and golden.mlp.forward, up to float32 summation
    order (relative 1e-5 of the largest logit)."""
    rng = np.random.default_rng(0)
    x = rng.random((5, 28, 28), np.float32)
    params = {k: rng.normal(0, 0.3, s).astype(np.float32) for k, s in cnn.PARAM_SHAPES.items()}
    want = cnn.forward(params, x, "relu")
    got = convnet.forward(nw.from_weights("cmos-if", params), x)
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()
    w = [rng.normal(0, 0.3, (16, 64)).astype(np.float32), rng.normal(0, 0.3, (10, 16)).astype(np.float32)]
    xd = rng.random((7, 8, 8), np.float32)
    want = mlp.forward(w, xd)
    got = convnet.forward(mlp.mlp_network(w, "m", (8, 8, 1)), xd)
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()


def _small(rng, bias=True):
    return nw.Network("t", nw.Input(6, 6, 2), (
        nw.Conv2d("c1", rng.normal(0, 0.5, (3, 2, 3, 3)).astype(np.float32), padding=1,
                  bias=rng.normal(0, 0.1, 3).astype(np.float32) if bias else None, neuron=IF),
        nw.Pool2d("p1", 2),
        nw.Conv2d("c2", rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), padding=1, stride=2, neuron=IF),
        nw.Flatten("f"), nw.Dense("fc", rng.normal(0, 0.5, (3, 16)).astype(np.float32),
                                  bias=rng.normal(0, 0.1, 3).astype(np.float32), neuron=IF)))


def test_gradients_equal_central_differences():
    """d loss / d w of 13 weights and biases (padding, stride 2, pooling, a flatten) against
    (L(w + e) - L(w - e)) / 2e with e = 1e-3. Where no ReLU input changes sign between w - e and
    w + e (checked: the on/off pattern is the same at both ends) the loss is smooth there and
    the truncation error is O(e**2 L3) ~ 1e-6 (L3 the third derivative, O(1)); the rounding
    error of the float32 logits (~1e-7 relative: a loss difference good to ~2e-7) over 2e is
    ~1e-4; so 5e-4 absolute bounds both (the gradients themselves are ~1e-2..1)."""
    rng = np.random.default_rng(1)
    net = _small(rng)
    x = rng.random((4, 6, 6, 2), np.float32)
    y = np.array([0, 1, 2, 1])

    def loss(n):
        z = convnet.forward(n, x).astype(np.float64)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(4), y]))

    logits, caches = convnet.forward(net, x, keep=True)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(4), y] -= 1
    grads = convnet._backward(net, caches, (p / 4).astype(np.float32))
    params = {L.name: L.weight for L in net.layers if isinstance(L, (nw.Conv2d, nw.Dense))}
    params.update({L.name + ".bias": L.bias for L in net.layers if getattr(L, "bias", None) is not None})
    checked = 0
    for key in ("c1", "c1.bias", "c2", "fc", "fc.bias"):
        for flat in rng.choice(params[key].size, 3, replace=False)[: 2 if key.endswith("bias") else 3]:
            idx = np.unravel_index(flat, params[key].shape)
            num, masks = [], []
            for sign in (1, -1):
                q = {k: v.copy() for k, v in params.items()}
                q[key][idx] += sign * 1e-3
                moved = convnet._with_params(net, q)
                num.append(loss(moved))
                masks.append([c[3] > 0 for c in convnet.forward(moved, x, keep=True)[1] if c[4]])
            assert all((a == b).all() for a, b in zip(*masks))
            assert grads[key][idx] == pytest.approx((num[0] - num[1]) / 2e-3, abs=5e-4)
            checked += 1
    assert checked == 13


def test_normalise_keeps_every_decision():
    """Each weighted layer scaled by lambda_prev / lambda_l > 0: ReLU is positively homogeneous,
    so the logits are the originals / lambda_last and the argmax is unchanged."""
    rng = np.random.default_rng(2)
    net = _small(rng, bias=False)
    x = rng.random((50, 6, 6, 2), np.float32)
    normed, lam = convnet.normalise(net, x, 99.0)
    assert set(lam) == {"c1", "c2", "fc"} and all(v > 0 for v in lam.values())
    a, b = convnet.forward(net, x), convnet.forward(normed, x)
    assert np.allclose(b * lam["fc"], a, rtol=1e-4, atol=1e-5 * np.abs(a).max())


def test_a_small_cnn_learns_digits():
    """8 x 8 digits, conv 4@3x3 pad 1 - avg pool - dense 10, 10 epochs: test accuracy well
    above chance (0.1; a linear classifier alone reaches ~0.9)."""
    from spinbase.data import load_dataset

    (x, y), (xt, yt), _ = load_dataset("digits")
    net = nw.Network("d", nw.Input(8, 8, 1), (
        nw.Conv2d("c", np.zeros((4, 1, 3, 3), np.float32), padding=1, neuron=IF), nw.Pool2d("p", 2),
        nw.Flatten("f"), nw.Dense("fc", np.zeros((10, 64), np.float32), neuron=IF)))
    trained = convnet.train(net, x, y, epochs=10, seed=0)
    assert convnet.accuracy(trained, xt, yt) > 0.8
