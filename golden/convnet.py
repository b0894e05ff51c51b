"""A small ReLU network of any description trained in numpy, normalised for IF neurons.

:mod:`golden.cnn` trains the seed's CNN (fixed shapes) and :mod:`golden.mlp` dense chains;
this trains any :class:`golden.network.Network` whose layers the core runs (Conv2d with any
kernel and zero padding, stride 1 or more; Pool2d average or sum, non-overlapping; Flatten;
Dense; optional biases) as the ANN it converts from: a weighted layer with neurons is followed
by a ReLU, the last layer gives the logits, a pooling layer takes the window mean (or sum),
with or without neurons. Softmax cross-entropy, Adam, He-normal initialisation (seeded), so a
small 2-conv CNN on MNIST trains in well under a minute on one core.

:func:`normalise` is the data-based normalisation (Diehl et al. 2015, seed Ref. 75;
:func:`golden.snn.normalise` for the seed's CNN): lambda_l, the ``percentile`` of the positive
activations of weighted layer l over training samples (the output layer: its positive logits),
and weights ``W_l lambda_prev / lambda_l`` (biases ``b_l / lambda_l``); pooling keeps the scale
of the layer before (a mean of rates is a rate).
"""

from __future__ import annotations

import numpy as np

from . import network as nw

__all__ = ["forward", "accuracy", "train", "normalise"]


def _as_maps(network: nw.Network, x) -> np.ndarray:
    return np.asarray(x, np.float32).reshape((len(x),) + tuple(network.input.shape))


def _pool(layer: nw.Pool2d, a: np.ndarray) -> np.ndarray:
    return nw.sum_pool(layer, a) * np.float32(layer.weight_value)


def forward(network: nw.Network, x, *, keep: bool = False):
    """Logits (N, classes) of samples ``x`` (N, H, W[, C]) in [0, 1]; with ``keep`` also the
    per-layer caches (input, pre-activation) for :func:`train`. A recurrent layer is refused
    (one line: :mod:`golden.recurrent` trains those)."""
    for layer in network.layers:
        if getattr(layer, "recurrent", False):
            raise nw.NetworkError(f"layer {layer.name!r} is recurrent: golden.convnet trains feed-forward networks "
                                  "(golden.recurrent trains a recurrent MLP)")
    a = _as_maps(network, x)
    last = network.layers[-1]
    caches = []
    for layer in network.layers:
        inp = a
        if isinstance(layer, nw.Conv2d):
            cols = nw.windows(layer, a)
            z = cols @ layer.weight.reshape(layer.out_channels, -1).T.astype(np.float32)
        elif isinstance(layer, nw.Dense):
            cols = None
            z = a.reshape(len(a), -1) @ layer.weight.T.astype(np.float32)
        elif isinstance(layer, nw.Pool2d):
            cols, z = None, _pool(layer, a)
        else:
            cols, z = None, a.reshape(len(a), -1)
        if getattr(layer, "bias", None) is not None:
            z = z + layer.bias.astype(np.float32)
        relu = isinstance(layer, (nw.Conv2d, nw.Dense)) and layer.neuron is not None and layer is not last
        a = np.maximum(z, 0) if relu else z
        caches.append((layer, inp, cols, z, relu))
    return (a, caches) if keep else a


def accuracy(network: nw.Network, x, y, batch: int = 1000) -> float:
    """Fraction of ``x`` whose largest logit is the label ``y``."""
    pred = np.concatenate([forward(network, x[i:i + batch]).argmax(axis=1) for i in range(0, len(x), batch)])
    return float(np.mean(pred == np.asarray(y)))


def _conv_input_grad(layer: nw.Conv2d, dcols: np.ndarray, in_shape: tuple) -> np.ndarray:
    """Scatter the window gradients (B, Ho, Wo, C k k) back onto the input (B, H, W, C)."""
    b, ho, wo, _ = dcols.shape
    h, w, c = in_shape
    k, s, p = layer.kernel, layer.stride, layer.padding
    d = dcols.reshape(b, ho, wo, c, k, k)
    dx = np.zeros((b, h + 2 * p, w + 2 * p, c), np.float32)
    for i in range(k):
        for j in range(k):
            dx[:, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s] += d[..., i, j]
    return dx[:, p:p + h, p:p + w]


def _backward(network, caches, dlogits) -> dict:
    grads, d = {}, dlogits
    for j, (layer, inp, cols, z, relu) in reversed(list(enumerate(caches))):
        if relu:
            d = d * (z > 0)
        if isinstance(layer, nw.Conv2d):
            k = layer.out_channels
            grads[layer.name] = (d.reshape(-1, k).T @ cols.reshape(-1, cols.shape[-1])).reshape(layer.weight.shape)
            if layer.bias is not None:
                grads[layer.name + ".bias"] = d.reshape(-1, k).sum(axis=0)
            if j == 0:
                break                                  # no gradient for the input itself
            d = _conv_input_grad(layer, d @ layer.weight.reshape(k, -1).astype(np.float32), inp.shape[1:])
        elif isinstance(layer, nw.Dense):
            flat = inp.reshape(len(inp), -1)
            grads[layer.name] = d.T @ flat
            if layer.bias is not None:
                grads[layer.name + ".bias"] = d.sum(axis=0)
            d = (d @ layer.weight.astype(np.float32)).reshape(inp.shape)
        elif isinstance(layer, nw.Pool2d):
            s = layer.size
            up = np.repeat(np.repeat(d, s, axis=1), s, axis=2) * np.float32(layer.weight_value)
            full = np.zeros(inp.shape, np.float32)
            full[:, :up.shape[1], :up.shape[2]] = up
            d = full
        else:
            d = d.reshape(inp.shape)
    return grads


def _with_params(network: nw.Network, params: dict) -> nw.Network:
    from dataclasses import replace

    layers = []
    for layer in network.layers:
        if isinstance(layer, (nw.Conv2d, nw.Dense)):
            bias = params.get(layer.name + ".bias", layer.bias)
            layer = replace(layer, weight=params[layer.name], bias=bias)
        layers.append(layer)
    return nw.Network(network.name, network.input, layers)


def train(network: nw.Network, x, y, *, epochs: int = 2, batch: int = 64, lr: float = 2e-3, seed: int = 0,
          progress=None) -> nw.Network:
    """Train the weights (and the biases the description has) of ``network``'s structure on
    ``x`` (N, H, W[, C]) in [0, 1], labels ``y`` (N,); returns the description with the trained
    float32 weights (its given weights are only the shapes). ``progress(epoch, accuracy on the
    last 1000 samples)`` after each epoch."""
    x, y = _as_maps(network, x), np.asarray(y, np.int64)
    rng = np.random.default_rng(seed)
    params = {}
    for layer in network.layers:
        if isinstance(layer, (nw.Conv2d, nw.Dense)):
            shape = np.shape(layer.weight)
            fan_in = int(np.prod(shape[1:]))
            params[layer.name] = rng.normal(0, np.sqrt(2.0 / fan_in), shape).astype(np.float32)
            if layer.bias is not None:
                params[layer.name + ".bias"] = np.zeros(shape[0], np.float32)
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    t, net = 0, _with_params(network, params)
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            logits, caches = forward(net, x[idx], keep=True)
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(idx)), y[idx]] -= 1.0
            grads = _backward(net, caches, (p / len(idx)).astype(np.float32))
            t += 1
            for k, g in grads.items():
                m[k] = 0.9 * m[k] + 0.1 * g
                v[k] = 0.999 * v[k] + 0.001 * g * g
                params[k] = (params[k] - lr * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
                             ).astype(np.float32)
            net = _with_params(network, params)
        if progress is not None:
            progress(epoch + 1, accuracy(net, x[-1000:], y[-1000:]))
    return net


def normalise(network: nw.Network, x, percentile: float = 99.9) -> tuple[nw.Network, dict]:
    """Data-based normalisation for IF neurons of threshold 1 (module docstring) over samples
    ``x``; returns the normalised description and lambda per weighted layer."""
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], not {percentile!r}")
    acts: dict = {}
    for i in range(0, len(x), 1000):
        logits, caches = forward(network, x[i:i + 1000], keep=True)
        for layer, _, _, z, _ in caches:
            if isinstance(layer, (nw.Conv2d, nw.Dense)):
                a = z[z > 0]
                acts.setdefault(layer.name, []).append(a if a.size <= 200_000 else a[:: a.size // 200_000 + 1])
    lambdas = {k: float(np.percentile(np.concatenate(v), percentile)) if sum(a.size for a in v) else 1.0
               for k, v in acts.items()}
    params, prev = {}, 1.0
    for layer in network.layers:
        if isinstance(layer, (nw.Conv2d, nw.Dense)):
            lam = lambdas[layer.name]
            params[layer.name] = (layer.weight * (prev / lam)).astype(np.float32)
            if layer.bias is not None:
                params[layer.name + ".bias"] = (layer.bias / lam).astype(np.float32)
            prev = lam
    return _with_params(network, params), lambdas
