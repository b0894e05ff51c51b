"""A small ReLU MLP trained in numpy, normalised for IF neurons, as a network description (and
so as NIR, :func:`golden.nir_io.write_nir`): the whole path without a deep-learning framework.

Softmax cross-entropy, Adam, then data-based normalisation for threshold-1 IF neurons
(Diehl et al. 2015; Rueckauer et al. 2017 for the biases; :func:`golden.snn.normalise`):
``W_l lambda_{l-1} / lambda_l`` and ``b_l / lambda_l`` with ``lambda_l`` the ``percentile`` of
layer l's positive activations over the training samples (the output layer: its positive
logits), ``lambda_0 = 1`` (inputs in [0, 1]). The biases become the integer model's and the
core's per-column constants (``quantize.snn`` bias codes, added at every neuron update).

Parameters are a list with one entry per layer: a ``(weight (out, in), bias (out,) or None)``
pair (what :func:`train_mlp` returns), or a bare weight matrix for a bias-free layer.

Why biases by default: a bias-free ReLU MLP is positively homogeneous (``f(a x) = a f(x)``),
so it can only separate classes by the direction of ``x``, never by its size. On iris (per-feature
min-max to [0, 1]) versicolor and virginica lie along similar directions and differ mainly in
petal size: the bias-free 4-8-3 net stops near 0.83 training accuracy however long it trains,
with biases it reaches > 0.95. And a training length counted in epochs is too short for the
small tabular sets: 60 epochs of iris's 120 samples are only 240 Adam updates (a 4-5-3 net
stopped anywhere from 0.33 to 1.0 depending on the seed), so training runs at least
``min_steps`` updates (1000: 250 epochs of iris; digits' 60 epochs are 2,700) at a learning
rate of 1e-2.
"""

from __future__ import annotations

import numpy as np

from . import network as nw

__all__ = ["adam_step", "train_mlp", "normalise_mlp", "mlp_network", "forward", "accuracy", "layer_params"]


def layer_params(weights: list) -> list[tuple]:
    """``[(w float32 (out, in), b float32 (out,) or None), ...]`` of either parameter form."""
    out = []
    for entry in weights:
        w, b = entry if isinstance(entry, tuple) else (entry, None)
        out.append((np.asarray(w, np.float32), None if b is None else np.asarray(b, np.float32)))
    return out


def forward(weights: list, x: np.ndarray, *, keep: bool = False):
    """Logits (N, classes) of samples ``x`` (N, ...) flattened in (h, w, c) order; with ``keep``
    also the hidden activations (list)."""
    a = np.asarray(x, np.float32).reshape(len(x), -1)
    layers = layer_params(weights)
    acts = []
    for j, (w, b) in enumerate(layers):
        a = a @ w.T + (0.0 if b is None else b)
        if j < len(layers) - 1:
            a = np.maximum(a, 0.0)
            acts.append(a)
    return (a, acts) if keep else a


def accuracy(weights: list, x, y) -> float:
    return float(np.mean(np.argmax(forward(weights, x), axis=1) == np.asarray(y)))


def adam_step(params: list, grads: list, m: list, v: list, t: int, lr: float) -> None:
    """One Adam update (beta1 0.9, beta2 0.999, eps 1e-8) of the float32 arrays ``params`` in
    place, with their gradients ``grads`` and moment lists ``m``, ``v``; ``t`` counts updates from 1."""
    for j, g in enumerate(grads):
        m[j] = 0.9 * m[j] + 0.1 * g
        v[j] = 0.999 * v[j] + 0.001 * g * g
        step = lr * (m[j] / (1 - 0.9 ** t)) / (np.sqrt(v[j] / (1 - 0.999 ** t)) + 1e-8)
        params[j] = (params[j] - step).astype(np.float32)


def train_mlp(x, y, hidden=(32,), *, classes: int | None = None, epochs: int = 60, batch: int = 32,
              lr: float = 1e-2, seed: int = 0, bias: bool = True, min_steps: int = 1000) -> list:
    """Train a ReLU MLP ``F - hidden... - classes`` with Adam (He-normal weights, zero biases)
    for ``epochs`` epochs, or more: as many as give at least ``min_steps`` updates.

    ``x`` (N, ...) in [0, 1] (flattened in (h, w, c) order), ``y`` (N,). Returns float32
    ``[(weight (out, in), bias (out,) or None), ...]`` (None everywhere with ``bias=False``)."""
    x = np.asarray(x, np.float32).reshape(len(x), -1)
    y = np.asarray(y, np.int64)
    classes = int(classes or y.max() + 1)
    sizes = [x.shape[1], *[int(h) for h in hidden], classes]
    rng = np.random.default_rng(seed)
    ws = [(rng.normal(0, np.sqrt(2.0 / i), (o, i))).astype(np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(o, np.float32) for o in sizes[1:]]
    params = ws + bs if bias else ws
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = 0
    per_epoch = -(-len(x) // batch)
    for _ in range(max(int(epochs), -(-int(min_steps) // per_epoch))):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            current = list(zip(ws, bs)) if bias else ws
            logits, acts = forward(current, x[idx], keep=True)
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            d = p
            d[np.arange(len(idx)), y[idx]] -= 1.0
            d /= len(idx)
            ins = [x[idx], *acts]
            gw, gb = [None] * len(ws), [None] * len(ws)
            for j in range(len(ws) - 1, -1, -1):
                gw[j], gb[j] = d.T @ ins[j], d.sum(axis=0)
                if j:
                    d = (d @ ws[j]) * (ins[j] > 0)
            t += 1
            adam_step(params, gw + gb if bias else gw, m, v, t, lr)
            ws = params[:len(ws)]
            if bias:
                bs = params[len(ws):]
    return [(w, b if bias else None) for w, b in zip(ws, bs)]


def normalise_mlp(weights: list, x, percentile: float = 99.9) -> tuple[list, list]:
    """Data-based normalisation for IF neurons of threshold 1 (module docstring); returns the
    normalised float32 ``[(weight, bias or None), ...]`` and the lambdas."""
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], not {percentile!r}")
    logits, acts = forward(weights, x, keep=True)
    lambdas = []
    for a in [*acts, logits]:
        pos = a[a > 0]
        lambdas.append(float(np.percentile(pos, percentile)) if pos.size else 1.0)
    out, prev = [], 1.0
    for (w, b), lam in zip(layer_params(weights), lambdas):
        out.append(((w * (prev / lam)).astype(np.float32), None if b is None else (b / lam).astype(np.float32)))
        prev = lam
    return out, lambdas


def mlp_network(weights: list, name: str, input_shape: tuple, neuron: nw.Neuron | None = None) -> nw.Network:
    """The description ``Input(input_shape) - Flatten - Dense ...`` with ``neuron`` on every
    layer (default: CMOS IF neurons, threshold 1, reset by subtraction: kind ``cmos-if``)."""
    neuron = neuron or nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos")
    layers = [nw.Flatten("flatten")]
    for j, (w, b) in enumerate(layer_params(weights)):
        layers.append(nw.Dense(f"fc{j + 1}", w, bias=b, neuron=neuron))
    return nw.Network(name, nw.Input(*input_shape), layers)
