"""A small ReLU MLP trained in numpy, normalised for IF neurons, as a network description (and
so as NIR, :func:`golden.nir_io.write_nir`): the whole path without a deep-learning framework.

As the seed's CNN (:mod:`golden.cnn`): no biases (the integer model and the core have none),
softmax cross-entropy, Adam, then data-based normalisation for threshold-1 IF neurons
(Diehl et al. 2015; :func:`golden.snn.normalise`): ``W_l lambda_{l-1} / lambda_l`` with
``lambda_l`` the ``percentile`` of layer l's positive activations over the training samples
(the output layer: its positive logits), ``lambda_0 = 1`` (inputs in [0, 1]).
"""

from __future__ import annotations

import numpy as np

from . import network as nw

__all__ = ["train_mlp", "normalise_mlp", "mlp_network", "forward", "accuracy"]


def forward(weights: list, x: np.ndarray, *, keep: bool = False):
    """Logits (N, classes) of samples ``x`` (N, ...) flattened in (h, w, c) order; with ``keep``
    also the hidden activations (list)."""
    a = np.asarray(x, np.float32).reshape(len(x), -1)
    acts = []
    for w in weights[:-1]:
        a = np.maximum(a @ w.T, 0.0)
        acts.append(a)
    out = a @ weights[-1].T
    return (out, acts) if keep else out


def accuracy(weights: list, x, y) -> float:
    return float(np.mean(np.argmax(forward(weights, x), axis=1) == np.asarray(y)))


def train_mlp(x, y, hidden=(32,), *, classes: int | None = None, epochs: int = 60, batch: int = 32,
              lr: float = 3e-3, seed: int = 0) -> list:
    """Train a bias-free ReLU MLP ``F - hidden... - classes`` with Adam; returns float32 weights
    ``[(out, in), ...]``. ``x`` (N, ...) in [0, 1] (flattened in (h, w, c) order), ``y`` (N,)."""
    x = np.asarray(x, np.float32).reshape(len(x), -1)
    y = np.asarray(y, np.int64)
    classes = int(classes or y.max() + 1)
    sizes = [x.shape[1], *[int(h) for h in hidden], classes]
    rng = np.random.default_rng(seed)
    ws = [(rng.normal(0, np.sqrt(2.0 / i), (o, i))).astype(np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
    m = [np.zeros_like(w) for w in ws]
    v = [np.zeros_like(w) for w in ws]
    t = 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            logits, acts = forward(ws, x[idx], keep=True)
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            d = p
            d[np.arange(len(idx)), y[idx]] -= 1.0
            d /= len(idx)
            ins = [x[idx], *acts]
            grads = [None] * len(ws)
            for j in range(len(ws) - 1, -1, -1):
                grads[j] = d.T @ ins[j]
                if j:
                    d = (d @ ws[j]) * (ins[j] > 0)
            t += 1
            for j, g in enumerate(grads):
                m[j] = 0.9 * m[j] + 0.1 * g
                v[j] = 0.999 * v[j] + 0.001 * g * g
                step = lr * (m[j] / (1 - 0.9 ** t)) / (np.sqrt(v[j] / (1 - 0.999 ** t)) + 1e-8)
                ws[j] = (ws[j] - step).astype(np.float32)
    return ws


def normalise_mlp(weights: list, x, percentile: float = 99.9) -> tuple[list, list]:
    """Data-based normalisation for IF neurons of threshold 1 (module docstring); returns the
    normalised float32 weights and the lambdas."""
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], not {percentile!r}")
    logits, acts = forward(weights, x, keep=True)
    lambdas = []
    for a in [*acts, logits]:
        pos = a[a > 0]
        lambdas.append(float(np.percentile(pos, percentile)) if pos.size else 1.0)
    out, prev = [], 1.0
    for w, lam in zip(weights, lambdas):
        out.append((w * (prev / lam)).astype(np.float32))
        prev = lam
    return out, lambdas


def mlp_network(weights: list, name: str, input_shape: tuple, neuron: nw.Neuron | None = None) -> nw.Network:
    """The description ``Input(input_shape) - Flatten - Dense ...`` with ``neuron`` on every
    layer (default: CMOS IF neurons, threshold 1, reset by subtraction: kind ``cmos-if``)."""
    neuron = neuron or nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos")
    layers = [nw.Flatten("flatten")]
    for j, w in enumerate(weights):
        layers.append(nw.Dense(f"fc{j + 1}", np.asarray(w), neuron=neuron))
    return nw.Network(name, nw.Input(*input_shape), layers)
