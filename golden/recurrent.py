"""A recurrent spiking MLP (seed sections III and V.1: the latched outputs of a crossbar drive
its own input rows at the next time step), its rate model and a numpy trainer.

Network: ``F - hidden (recurrent) - classes``. The hidden layer is a recurrent dense layer
(:class:`golden.network.Dense` with ``recurrent=True``): at step t its IF neurons receive
``W_in x_t + W_rec s_{t-1} + b`` with ``s_{t-1}`` its own spikes of the step before; the output
layer is an ordinary dense IF layer. All neurons are IF of threshold 1 (CMOS, reset by
subtraction: kind ``cmos-if``).

Rate model (what is trained): an IF neuron of threshold 1 fed a constant current I spikes at
the rate ``clip(I, 0, 1)`` per step (reset by subtraction; a negative current never fires), so
the hidden rates of a static input are the fixed point of ``r = clip(W_in x + W_rec r + b, 0, 1)``
(the spike trains' one-step delay does not change a fixed point). Training unrolls
``iterations`` fixed-point iterations from ``r_0 = 0`` (the network's first steps) and takes
softmax cross-entropy of ``W_out r_K + b_out``, back-propagated through the iterations (BPTT),
with Adam (:func:`golden.mlp.adam_step`) and an L2 penalty on ``W_rec`` that keeps the
recurrence contractive (so the spiking network settles where the rate model does). The output
layer is then scaled for threshold-1 IF neurons by the ``percentile`` of its positive logits
over the training set (Diehl et al. 2015, as :func:`golden.mlp.normalise_mlp`); the hidden
rates already are in threshold units (the clip at 1 is the neuron's top rate).

Parameters: ``[(w_in (h, F), w_rec (h, h), b (h,)), (w_out (C, h), b_out (C,))]`` float32.
"""

from __future__ import annotations

import numpy as np

from . import network as nw
from .mlp import adam_step

__all__ = ["rate_forward", "train_recurrent", "normalise_recurrent", "recurrent_network", "accuracy",
           "without_recurrence", "task_network", "params_of", "loss_and_gradients", "TASK"]


def rate_forward(params: list, x, iterations: int, *, keep: bool = False):
    """Logits (N, classes) of samples x (N, ...) after ``iterations`` fixed-point iterations of
    the hidden rates; with ``keep`` also the pre-activations and rates of every iteration."""
    (w_in, w_rec, b), (w_out, b_out) = params
    x = np.asarray(x, np.float32).reshape(len(x), -1)
    drive = x @ w_in.T + b
    r = np.zeros((len(x), w_in.shape[0]), np.float32)
    zs, rs = [], [r]
    for _ in range(int(iterations)):
        z = drive + r @ w_rec.T
        r = np.clip(z, 0.0, 1.0)
        zs.append(z)
        rs.append(r)
    logits = r @ w_out.T + b_out
    return (logits, zs, rs) if keep else logits


def accuracy(params: list, x, y, iterations: int) -> float:
    return float(np.mean(np.argmax(rate_forward(params, x, iterations), axis=1) == np.asarray(y)))


def train_recurrent(x, y, hidden: int = 16, *, classes: int | None = None, iterations: int = 6,
                    epochs: int = 40, batch: int = 32, lr: float = 5e-3, rec_decay: float = 1e-3,
                    seed: int = 0) -> list:
    """Train the rate model (module docstring) with BPTT through ``iterations`` steps.

    ``x`` (N, ...) in [0, 1], ``y`` (N,). ``rec_decay``: the L2 penalty's weight on ``W_rec``.
    Returns the float32 parameters (module docstring)."""
    x = np.asarray(x, np.float32).reshape(len(x), -1)
    y = np.asarray(y, np.int64)
    classes = int(classes or y.max() + 1)
    rng = np.random.default_rng(seed)
    f = x.shape[1]
    params = [rng.normal(0, np.sqrt(2.0 / f), (hidden, f)).astype(np.float32),
              rng.normal(0, 0.1 / np.sqrt(hidden), (hidden, hidden)).astype(np.float32),
              np.full(hidden, 0.1, np.float32),
              rng.normal(0, np.sqrt(2.0 / hidden), (classes, hidden)).astype(np.float32),
              np.zeros(classes, np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = 0
    for _ in range(int(epochs)):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            w_in, w_rec, b, w_out, b_out = params
            _, grads = loss_and_gradients([(w_in, w_rec, b), (w_out, b_out)], x[idx], y[idx], iterations, rec_decay)
            t += 1
            adam_step(params, grads, m, v, t, lr)
    w_in, w_rec, b, w_out, b_out = params
    return [(w_in, w_rec, b), (w_out, b_out)]


def loss_and_gradients(params: list, x, y, iterations: int, rec_decay: float = 0.0) -> tuple[float, list]:
    """Mean softmax cross-entropy of the rate model on (x, y) plus ``rec_decay |W_rec|^2``, and
    its gradients ``[W_in, W_rec, b, W_out, b_out]`` by BPTT through the iterations (the clip's
    derivative is 1 strictly inside (0, 1), else 0)."""
    (w_in, w_rec, b), (w_out, _) = params
    x = np.asarray(x, np.float32).reshape(len(x), -1)
    y = np.asarray(y, np.int64)
    logits, zs, rs = rate_forward(params, x, iterations, keep=True)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = float(-np.mean(np.log(p[np.arange(len(y)), y])) + rec_decay * np.sum(w_rec.astype(np.float64) ** 2))
    d = p
    d[np.arange(len(y)), y] -= 1.0
    d /= len(y)
    g_out, gb_out = d.T @ rs[-1], d.sum(axis=0)
    dr = d @ w_out
    g_in, g_rec, gb = np.zeros_like(w_in), rec_decay * 2 * w_rec, np.zeros_like(b)
    for k in range(len(zs) - 1, -1, -1):       # z_k = drive + W_rec r_k, r_{k+1} = clip(z_k)
        dz = dr * ((zs[k] > 0) & (zs[k] < 1))
        g_in += dz.T @ x
        g_rec += dz.T @ rs[k]
        gb += dz.sum(axis=0)
        dr = dz @ w_rec
    return loss, [g_in, g_rec, gb, g_out, gb_out]


def normalise_recurrent(params: list, x, iterations: int, percentile: float = 99.9) -> tuple[list, float]:
    """The output layer scaled for threshold-1 IF neurons (module docstring): (params, lambda)."""
    logits = rate_forward(params, x, iterations)
    pos = logits[logits > 0]
    lam = float(np.percentile(pos, percentile)) if pos.size else 1.0
    hid, (w_out, b_out) = params
    return [hid, ((w_out / lam).astype(np.float32), (b_out / lam).astype(np.float32))], lam


def without_recurrence(params: list) -> list:
    """The same parameters with ``W_rec`` zeroed (the recurrence removed, for comparison)."""
    (w_in, w_rec, b), out = params
    return [(w_in, np.zeros_like(w_rec), b), out]


def recurrent_network(params: list, name: str, input_shape: tuple, neuron: nw.Neuron | None = None) -> nw.Network:
    """The description ``Input - Flatten - Dense(hidden, recurrent) - Dense(classes)`` with
    ``neuron`` on both layers (default CMOS IF, threshold 1, reset by subtraction: ``cmos-if``)."""
    neuron = neuron or nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos")
    (w_in, w_rec, b), (w_out, b_out) = params
    return nw.Network(name, nw.Input(*input_shape), (
        nw.Flatten("flatten"),
        nw.Dense("rec", np.concatenate([w_in, w_rec], axis=1), bias=b, neuron=neuron, recurrent=True),
        nw.Dense("out", w_out, bias=b_out, neuron=neuron)))


def params_of(network: nw.Network) -> list:
    """The rate model's parameters back from a description :func:`recurrent_network` wrote
    (``Flatten - Dense(recurrent) - Dense``); one NetworkError line for any other structure."""
    dense = [L for L in network.layers if isinstance(L, nw.Dense)]
    if len(dense) != 2 or not dense[0].recurrent or dense[1].recurrent:
        raise nw.NetworkError(f"network {network.name!r} is not a recurrent MLP (Flatten - recurrent Dense - Dense)")
    rec, out = dense
    n = rec.out_features
    w = np.asarray(rec.weight, np.float32)
    zeros = lambda k: np.zeros(k, np.float32)  # noqa: E731
    return [(w[:, :-n], w[:, -n:], zeros(n) if rec.bias is None else np.asarray(rec.bias, np.float32)),
            (np.asarray(out.weight, np.float32),
             zeros(out.out_features) if out.bias is None else np.asarray(out.bias, np.float32))]


#: The recurrent task's defaults (bench/recurrent.py, configs/recurrent.toml): scikit-learn's
#: 8 x 8 digits, 16 recurrent hidden IF neurons, 6 unrolled iterations.
TASK = {"dataset": "digits", "hidden": 16, "iterations": 6, "epochs": 40, "seed": 0, "percentile": 99.9}


def task_network(dataset: str = TASK["dataset"], *, hidden: int = TASK["hidden"],
                 iterations: int = TASK["iterations"], epochs: int = TASK["epochs"], seed: int = TASK["seed"],
                 percentile: float = TASK["percentile"]) -> tuple[nw.Network, dict]:
    """The recurrent task: train the rate model on ``dataset``'s training split
    (:func:`spinbase.data.load_dataset`), normalise it for IF neurons and describe it.

    Returns ``(network, info)``: the description (named ``"<dataset>-rnn"``, the hidden layer
    ``"rec"`` recurrent) and ``info`` with the rate model's float test accuracy with and without
    the recurrence (``float``, ``float_no_recurrence``), the output scale ``lambda``, the
    spectral radius of ``W_rec`` and the data split (``x_train``, ``y_train``, ``x_test``,
    ``y_test``, ``record``)."""
    from spinbase.data import load_dataset

    (x_tr, y_tr), (x_te, y_te), rec = load_dataset(dataset)
    params = train_recurrent(x_tr, y_tr, hidden, classes=rec["classes"], iterations=iterations, epochs=epochs,
                             seed=seed)
    params, lam = normalise_recurrent(params, x_tr, iterations, percentile)
    net = recurrent_network(params, f"{dataset}-rnn", tuple(rec["sample_shape"]))
    info = {"float": accuracy(params, x_te, y_te, iterations),
            "float_no_recurrence": accuracy(without_recurrence(params), x_te, y_te, iterations),
            "lambda": lam, "spectral_radius": float(np.max(np.abs(np.linalg.eigvals(params[0][1])))),
            "x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te, "record": rec}
    return net, info
