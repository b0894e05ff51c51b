"""The seed's deep CNN 28x28-6c5-2s-12c5-2s-10o in numpy: layers, backpropagation, training, cache.

Network 1 and network 2 of the seed (Sengupta & Roy, section "All-Spin Neural Networks";
REFERENCES.md section 5) start from this offline-trained ANN:

    input (28, 28, 1) -> conv 5x5, 6 maps -> act -> 2x2 average pool
                      -> conv 5x5, 12 maps -> act -> 2x2 average pool
                      -> fully connected 192 -> 10 (logits)

No biases anywhere (Diehl et al., IJCNN 2015, seed Ref. 75: biases have no clean spiking
counterpart, and average pooling instead of max pooling). ``act`` is ReLU for network 1 (the IF
neuron's firing rate is a ReLU, seed section III) and the logistic sigmoid for network 2 (the
spike probability per step of the stochastic MTJ neuron, seed Ref. 110).

Layout: activations are channels-last, ``(N, H, W, C)``; kernels are ``(K, C, 5, 5)``; the fully
connected weight is ``(10, 192)`` and its input is flattened in (row, column, channel) order of
the (4, 4, 12) map. Convolutions are "valid" cross-correlations done as im2col matmuls.

Trained weights ship in ``golden/weights/`` as ``cnn_<activation>_<hash>.npz`` plus a JSON
record (config, seed, accuracies, time); :func:`train_cnn` loads the file whose hash matches
the config and retrains (then writes both files atomically) only when none does.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from spinbase.fileio import atomic_write_bytes, atomic_write_json

__all__ = [
    "CnnConfig",
    "RELU_CONFIG",
    "SIGMOID_CONFIG",
    "PARAM_SHAPES",
    "WEIGHTS_DIR",
    "im2col",
    "conv2d",
    "avg_pool2",
    "activation",
    "init_params",
    "forward",
    "loss_and_grads",
    "moment_forward",
    "moment_loss_and_grads",
    "moment_logits",
    "predict_logits",
    "accuracy",
    "config_hash",
    "weights_path",
    "train",
    "train_cnn",
    "load_cnn",
    "blas_single_thread",
]

#: Kernel / weight shapes of the seed's CNN (5x5 kernels, 6 and 12 maps, 192 -> 10).
PARAM_SHAPES = {"conv1": (6, 1, 5, 5), "conv2": (12, 6, 5, 5), "fc": (10, 192)}

#: Folder of the shipped weights (next to this module).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

#: Bumped whenever the training code changes what a config produces (part of the hash).
TRAINING_VERSION = 1

_ACTIVATIONS = ("relu", "sigmoid")


@dataclass(frozen=True)
class CnnConfig:
    """Training configuration; its hash names the cached weights.

    Parameters
    ----------
    activation : str
        Hidden activation, ``"relu"`` (network 1) or ``"sigmoid"`` (network 2).
    epochs : int
        Passes over the 60,000 MNIST training images (>= 1).
    batch : int
        Mini-batch size (>= 1).
    lr : float
        Adam step size at the start (> 0); it decays by cosine to ``lr * lr_final``.
    lr_final : float
        Final step size as a fraction of ``lr`` (0..1).
    shift : int
        Random translation augmentation, pixels (0..4): each training image is shifted by an
        integer in [-shift, shift] along each axis with zero fill.
    moments : bool
        Sigmoid only: train the spike-noise model of network 2 (:func:`moment_forward`):
        each neuron's activation is its spike probability per step given spiking (Bernoulli)
        inputs, rather than the noise-free sigmoid of the analog ANN.
    seed : int
        Seed of the initialisation, shuffling and augmentation (numpy default_rng).
    """

    activation: str = "relu"
    epochs: int = 15
    batch: int = 64
    lr: float = 2e-3
    lr_final: float = 0.02
    shift: int = 1
    moments: bool = False
    seed: int = 0

    def __post_init__(self):
        if self.moments and self.activation != "sigmoid":
            raise ValueError(f"CnnConfig.moments needs activation 'sigmoid', not {self.activation!r}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"CnnConfig.activation must be one of {_ACTIVATIONS}, not {self.activation!r}")
        for name, lo in (("epochs", 1), ("batch", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < lo:
                raise ValueError(f"CnnConfig.{name} must be an integer >= {lo}, not {v!r}")
        if not (isinstance(self.shift, int) and 0 <= self.shift <= 4):
            raise ValueError(f"CnnConfig.shift must be an integer in 0..4, not {self.shift!r}")
        if not self.lr > 0:
            raise ValueError(f"CnnConfig.lr must be > 0, not {self.lr!r}")
        if not 0 <= self.lr_final <= 1:
            raise ValueError(f"CnnConfig.lr_final must be in [0, 1], not {self.lr_final!r}")


#: Network 1 (ReLU, converted to IF neurons).
RELU_CONFIG = CnnConfig(activation="relu")
#: Network 2 (sigmoid = spike probability of the stochastic MTJ neuron), trained on the
#: spike-noise model (:func:`moment_forward`); sigmoid units learn slower than ReLU, hence the
#: larger step size.
SIGMOID_CONFIG = CnnConfig(activation="sigmoid", lr=8e-3, moments=True)


# Layers -----------------------------------------------------------------------------------------
def im2col(x: np.ndarray, k: int) -> np.ndarray:
    """Patches of a channels-last batch for a "valid" k x k convolution.

    Parameters
    ----------
    x : ndarray, shape (N, H, W, C)
    k : int
        Kernel size.

    Returns
    -------
    ndarray, shape (N, H-k+1, W-k+1, C*k*k)
        Patch entries ordered (channel, row, column), matching ``w.reshape(K, C*k*k)``.
    """
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))  # (N, Ho, Wo, C, k, k)
    n, ho, wo = win.shape[:3]
    return win.reshape(n, ho, wo, -1)


def conv2d(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Valid cross-correlation, channels-last: (N, H, W, C) * (K, C, k, k) -> (N, H-k+1, W-k+1, K)."""
    if x.ndim != 4 or w.ndim != 4 or x.shape[3] != w.shape[1]:
        raise ValueError(f"conv2d: x must be (N, H, W, C) and w (K, C, k, k) with matching C, "
                         f"not {x.shape} and {w.shape}")
    cols = im2col(x, w.shape[2])
    # 2-D matmul: a 4-D @ 2-D product would run as many small stacked products
    out = cols.reshape(-1, cols.shape[-1]) @ w.reshape(w.shape[0], -1).T
    return out.reshape(cols.shape[:3] + (w.shape[0],))


def _col2im(dcols: np.ndarray, c: int, k: int) -> np.ndarray:
    """Adjoint of :func:`im2col`: (N, Ho, Wo, C*k*k) -> (N, Ho+k-1, Wo+k-1, C)."""
    n, ho, wo, _ = dcols.shape
    d = dcols.reshape(n, ho, wo, c, k, k)
    out = np.zeros((n, ho + k - 1, wo + k - 1, c), dtype=dcols.dtype)
    for a in range(k):
        for b in range(k):
            out[:, a:a + ho, b:b + wo, :] += d[..., a, b]
    return out


def avg_pool2(x: np.ndarray) -> np.ndarray:
    """2x2 average pooling with stride 2, channels-last: (N, H, W, C) -> (N, H/2, W/2, C)."""
    n, h, w, c = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"avg_pool2: H and W must be even, not {h} x {w}")
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def _pool_backward(d: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(d, 2, axis=1), 2, axis=2) * 0.25


def activation(z: np.ndarray, kind: str) -> np.ndarray:
    """ReLU max(z, 0) or logistic 1 / (1 + exp(-z)), elementwise (any shape)."""
    if kind == "relu":
        return np.maximum(z, 0)
    if kind == "sigmoid":
        return 0.5 * (1 + np.tanh(0.5 * z))  # overflow-free logistic
    raise ValueError(f"activation kind must be one of {_ACTIVATIONS}, not {kind!r}")


def _activation_grad(z, a, kind):
    return (z > 0).astype(z.dtype) if kind == "relu" else a * (1 - a)


# Network ----------------------------------------------------------------------------------------
def init_params(kind: str = "relu", rng=None, dtype=np.float32) -> dict[str, np.ndarray]:
    """Random weights: He normal (std sqrt(2 / fan_in)) for ReLU, LeCun (sqrt(1 / fan_in)) for sigmoid.

    Returns a dict with the shapes of :data:`PARAM_SHAPES`.
    """
    rng = np.random.default_rng(rng)
    gain = 2.0 if kind == "relu" else 1.0
    out = {}
    for name, shape in PARAM_SHAPES.items():
        fan_in = int(np.prod(shape[1:]))
        out[name] = (rng.standard_normal(shape) * math.sqrt(gain / fan_in)).astype(dtype)
    return out


def _as_batch(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
        raise ValueError(f"images must have shape (N, 28, 28) or (N, 28, 28, 1), not {x.shape}")
    return x


def forward(params: dict, x: np.ndarray, kind: str = "relu", *, keep: bool = False):
    """Forward pass.

    Parameters
    ----------
    params : dict
        ``conv1`` (6, 1, 5, 5), ``conv2`` (12, 6, 5, 5), ``fc`` (10, 192).
    x : ndarray, shape (N, 28, 28) or (N, 28, 28, 1)
        Images in [0, 1].
    kind : str
        Hidden activation (``"relu"`` or ``"sigmoid"``).
    keep : bool
        Also return the intermediate arrays (for backpropagation and for the SNN's
        data-based normalisation).

    Returns
    -------
    logits : ndarray, shape (N, 10)
    cache : dict (only with ``keep``)
        ``x`` (N,28,28,1), ``z1``/``a1`` (N,24,24,6), ``p1`` (N,12,12,6), ``z2``/``a2`` (N,8,8,12),
        ``p2`` (N,4,4,12), ``h`` (N,192).
    """
    x = _as_batch(x).astype(params["conv1"].dtype, copy=False)
    z1 = conv2d(x, params["conv1"])
    a1 = activation(z1, kind)
    p1 = avg_pool2(a1)
    z2 = conv2d(p1, params["conv2"])
    a2 = activation(z2, kind)
    p2 = avg_pool2(a2)
    h = p2.reshape(len(x), -1)
    logits = h @ params["fc"].T
    if not keep:
        return logits
    return logits, dict(x=x, z1=z1, a1=a1, p1=p1, z2=z2, a2=a2, p2=p2, h=h)


def _softmax_xent(logits, y):
    """Mean cross-entropy and its gradient with respect to the logits (N, 10)."""
    n = len(logits)
    zmax = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - zmax)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(s[:, 0]) + zmax[:, 0] - logits[np.arange(n), y]))
    d = e / s
    d[np.arange(n), y] -= 1
    return loss, d / n


def loss_and_grads(params: dict, x: np.ndarray, y: np.ndarray, kind: str = "relu"):
    """Mean softmax cross-entropy and its gradient with respect to every weight (backpropagation).

    Parameters
    ----------
    x : ndarray, shape (N, 28, 28)
    y : ndarray of int, shape (N,)
        Labels 0..9.

    Returns
    -------
    loss : float
    grads : dict
        Same keys and shapes as ``params``.
    """
    logits, c = forward(params, x, kind, keep=True)
    loss, d = _softmax_xent(logits, y)                        # d: dL/dlogits (N, 10)
    g_fc = d.T @ c["h"]
    dp2 = (d @ params["fc"]).reshape(c["p2"].shape)
    dz2 = _pool_backward(dp2) * _activation_grad(c["z2"], c["a2"], kind)
    cols2 = im2col(c["p1"], 5)
    g2 = dz2.reshape(-1, 12).T @ cols2.reshape(-1, cols2.shape[-1])
    dcols2 = (dz2.reshape(-1, 12) @ params["conv2"].reshape(12, -1)).reshape(cols2.shape)
    dp1 = _col2im(dcols2, 6, 5)
    dz1 = _pool_backward(dp1) * _activation_grad(c["z1"], c["a1"], kind)
    cols1 = im2col(c["x"], 5)
    g1 = dz1.reshape(-1, 6).T @ cols1.reshape(-1, 25)
    return loss, {"conv1": g1.reshape(PARAM_SHAPES["conv1"]), "conv2": g2.reshape(PARAM_SHAPES["conv2"]),
                  "fc": g_fc}


# Spike-noise (moment) model of network 2 -----------------------------------------------------------
_PROBIT = math.pi / 8  # E[sigmoid(z)] ~ sigmoid(mu / sqrt(1 + pi var / 8)) for z ~ N(mu, var)


def moment_forward(params: dict, x: np.ndarray, *, keep: bool = False):
    """Per-step spike probabilities of the stochastic sigmoid network, by moment matching.

    In network 2 every step carries Bernoulli spikes: pixels with p = x (Poisson input),
    neurons with p = E[sigmoid(z)] where z, a weighted sum of the previous layer's spikes,
    has mean mu = W m and variance nu = W^2 v (m, v: the inputs' means and variances,
    independent). With the probit approximation (MacKay 1992) E[sigmoid(z)] ~
    sigmoid(kappa), kappa = mu / sqrt(1 + pi nu / 8). Pooling averages four spikes: mean
    pool(q), variance pool(q (1 - q)) / 4. Training on the output kappa (:class:`CnnConfig`
    ``moments``) fits the weights to the noisy network the MTJ neurons realise, not to the
    noise-free sigmoid ANN. Shared inputs correlate neighbouring spikes; that is neglected.

    Returns
    -------
    kappa : ndarray, shape (N, 10)
        Output "logits"; sigmoid(kappa) is each output neuron's spike probability per step.
    cache : dict (only with ``keep``)
    """
    w1, w2, wf = params["conv1"], params["conv2"], params["fc"]
    m0 = _as_batch(x).astype(w1.dtype, copy=False)
    v0 = m0 * (1 - m0)
    c = {"m0": m0, "v0": v0}

    def neuron(tag, mu, nu):
        s = 1.0 / np.sqrt(1.0 + _PROBIT * nu)
        q = activation(mu * s, "sigmoid")
        c.update({f"mu{tag}": mu, f"s{tag}": s, f"q{tag}": q})
        return avg_pool2(q), avg_pool2(q * (1 - q)) * 0.25

    m1, v1 = neuron(1, conv2d(m0, w1), conv2d(v0, w1 * w1))
    m2, v2 = neuron(2, conv2d(m1, w2), conv2d(v1, w2 * w2))
    hm, hv = m2.reshape(len(m0), -1), v2.reshape(len(m0), -1)
    mu3, nu3 = hm @ wf.T, hv @ (wf * wf).T
    s3 = 1.0 / np.sqrt(1.0 + _PROBIT * nu3)
    c.update(m1=m1, v1=v1, hm=hm, hv=hv, mu3=mu3, s3=s3)
    return (mu3 * s3, c) if keep else mu3 * s3


def moment_loss_and_grads(params: dict, x: np.ndarray, y: np.ndarray):
    """Cross-entropy on :func:`moment_forward`'s kappa and its exact gradient: (loss, grads)."""
    w1, w2, wf = params["conv1"], params["conv2"], params["fc"]
    kappa, c = moment_forward(params, x, keep=True)
    loss, d = _softmax_xent(kappa, y)

    def through_kappa(dk, mu, s):       # kappa = mu s, s = (1 + a nu)^(-1/2)
        return dk * s, -0.5 * _PROBIT * dk * mu * s ** 3

    def linear(w, cols_m, cols_v, g_mu, g_nu):   # mu = W m, nu = W^2 v
        k = w.shape[0]
        gm, gv = g_mu.reshape(-1, k), g_nu.reshape(-1, k)
        cm, cv = cols_m.reshape(-1, cols_m.shape[-1]), cols_v.reshape(-1, cols_v.shape[-1])
        return (gm.T @ cm + 2 * w.reshape(k, -1) * (gv.T @ cv)).reshape(w.shape)

    def back_pool(dm, dv, q):            # m = pool(q), v = pool(q (1 - q)) / 4
        dq = _pool_backward(dm) + 0.25 * _pool_backward(dv) * (1 - 2 * q)
        return dq * q * (1 - q)          # d/dkappa through q = sigmoid(kappa)

    g_mu3, g_nu3 = through_kappa(d, c["mu3"], c["s3"])
    g_fc = g_mu3.T @ c["hm"] + 2 * wf * (g_nu3.T @ c["hv"])
    dm2 = (g_mu3 @ wf).reshape(len(kappa), 4, 4, 12)
    dv2 = (g_nu3 @ (wf * wf)).reshape(len(kappa), 4, 4, 12)
    g_mu2, g_nu2 = through_kappa(back_pool(dm2, dv2, c["q2"]), c["mu2"], c["s2"])
    cm1, cv1 = im2col(c["m1"], 5), im2col(c["v1"], 5)
    g2 = linear(w2, cm1, cv1, g_mu2, g_nu2)
    w2m = w2.reshape(12, -1)
    dm1 = _col2im((g_mu2.reshape(-1, 12) @ w2m).reshape(cm1.shape), 6, 5)
    dv1 = _col2im((g_nu2.reshape(-1, 12) @ (w2m * w2m)).reshape(cv1.shape), 6, 5)
    g_mu1, g_nu1 = through_kappa(back_pool(dm1, dv1, c["q1"]), c["mu1"], c["s1"])
    g1 = linear(w1, im2col(c["m0"], 5), im2col(c["v0"], 5), g_mu1, g_nu1)
    return loss, {"conv1": g1, "conv2": g2, "fc": g_fc}


def predict_logits(params: dict, x: np.ndarray, kind: str = "relu", batch: int = 2000) -> np.ndarray:
    """Logits (N, 10) computed in batches of ``batch`` images."""
    with blas_single_thread():
        return np.concatenate([forward(params, x[i:i + batch], kind) for i in range(0, len(x), batch)])


def moment_logits(params: dict, x: np.ndarray, batch: int = 2000) -> np.ndarray:
    """:func:`moment_forward`'s kappa (N, 10) computed in batches of ``batch`` images."""
    with blas_single_thread():
        return np.concatenate([moment_forward(params, x[i:i + batch]) for i in range(0, len(x), batch)])


def accuracy(params: dict, x: np.ndarray, y: np.ndarray, kind: str = "relu") -> float:
    """Fraction of images whose largest logit is the label."""
    return float(np.mean(predict_logits(params, x, kind).argmax(axis=1) == y))


# Training ---------------------------------------------------------------------------------------
def blas_single_thread():
    """Context manager limiting BLAS to one thread.

    The matmuls here are tall and thin (e.g. 4096 x 150 @ 150 x 12); multi-threaded OpenBLAS
    ran them 10x slower than one thread on a 2-core machine (118 ms against 10 ms for a
    64-image training step). A no-op when threadpoolctl is not installed.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _shift_batch(x: np.ndarray, shift: int, rng) -> np.ndarray:
    """Translate each (28, 28) image by integers in [-shift, shift] with zero fill."""
    if shift == 0:
        return x
    n = len(x)
    pad = np.pad(x, ((0, 0), (shift, shift), (shift, shift)))
    dy, dx = rng.integers(0, 2 * shift + 1, size=(2, n))
    rows = dy[:, None] + np.arange(28)[None, :]
    cols = dx[:, None] + np.arange(28)[None, :]
    return pad[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def train(config: CnnConfig, x_train, y_train, *, progress: Callable[[str], None] | None = None):
    """Mini-batch Adam on softmax cross-entropy (float32), cosine step-size decay.

    Adam (Kingma & Ba 2015) with beta1 = 0.9, beta2 = 0.999, eps = 1e-8; the step size at
    update t of T is ``lr (lr_final + (1 - lr_final) (1 + cos(pi t / T)) / 2)``.

    Parameters
    ----------
    x_train : ndarray, shape (N, 28, 28), float in [0, 1]
    y_train : ndarray of int, shape (N,)
    progress : callable, optional
        Called with one line per epoch.

    Returns
    -------
    dict
        Trained weights (float32, :data:`PARAM_SHAPES`).
    """
    rng = np.random.default_rng(config.seed)
    params = init_params(config.activation, rng)
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(v) for k, v in params.items()}
    x_train = np.asarray(x_train, dtype=np.float32)
    with blas_single_thread():
        _train_loop(config, params, m, v, x_train, y_train, rng, progress)
    return params


def _train_loop(config, params, m, v, x_train, y_train, rng, progress):
    n = len(x_train)
    steps_per_epoch = n // config.batch
    total = steps_per_epoch * config.epochs
    b1, b2, eps = 0.9, 0.999, 1e-8
    t = 0
    for epoch in range(config.epochs):
        order = rng.permutation(n)
        run_loss = 0.0
        for s in range(steps_per_epoch):
            idx = order[s * config.batch:(s + 1) * config.batch]
            xb = _shift_batch(x_train[idx], config.shift, rng)
            if config.moments:
                loss, g = moment_loss_and_grads(params, xb, y_train[idx])
            else:
                loss, g = loss_and_grads(params, xb, y_train[idx], config.activation)
            run_loss += loss
            t += 1
            lr = config.lr * (config.lr_final + (1 - config.lr_final) * 0.5 * (1 + math.cos(math.pi * t / total)))
            corr = math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            for k in params:
                m[k] = b1 * m[k] + (1 - b1) * g[k]
                v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k]
                params[k] -= (lr * corr) * m[k] / (np.sqrt(v[k]) + eps)
        if progress is not None:
            progress(f"epoch {epoch + 1}/{config.epochs}: mean loss {run_loss / steps_per_epoch:.4f}")


def config_hash(config: CnnConfig) -> str:
    """First 12 hex digits of the SHA-256 of the config (and :data:`TRAINING_VERSION`) as JSON."""
    blob = json.dumps({"config": asdict(config), "training_version": TRAINING_VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def weights_path(config: CnnConfig, folder: Path | str | None = None) -> Path:
    """``<folder>/cnn_<activation>_<hash>.npz`` (the JSON record has the same stem)."""
    folder = WEIGHTS_DIR if folder is None else Path(folder)
    return folder / f"cnn_{config.activation}_{config_hash(config)}.npz"


def load_cnn(config: CnnConfig = RELU_CONFIG, folder: Path | str | None = None):
    """Load cached weights for ``config``: (params dict of float32 arrays, record dict).

    Raises
    ------
    FileNotFoundError
        If no file matches the config's hash (call :func:`train_cnn` to create it).
    """
    path = weights_path(config, folder)
    if not path.is_file():
        raise FileNotFoundError(f"no trained weights for config hash {config_hash(config)} "
                                f"({path.name}); run golden.cnn.train_cnn(config)")
    with np.load(path) as f:
        params = {k: f[k].astype(np.float32) for k in PARAM_SHAPES}
    record = json.loads(path.with_suffix(".json").read_text())
    if record.get("config_hash") != config_hash(config):
        raise ValueError(f"{path.with_suffix('.json').name}: config_hash {record.get('config_hash')!r} "
                         f"does not match {config_hash(config)!r}")
    return params, record


def train_cnn(config: CnnConfig = RELU_CONFIG, *, folder: Path | str | None = None, retrain: bool = False,
              data=None, progress: Callable[[str], None] | None = None):
    """Weights for ``config``: the cached file when its hash matches, else train and cache.

    Parameters
    ----------
    config : CnnConfig
    folder : path, optional
        Cache folder (default :data:`WEIGHTS_DIR`).
    retrain : bool
        Train even when a cached file exists (and overwrite it).
    data : ((x_train, y_train), (x_test, y_test)), optional
        Default: MNIST from :func:`spinbase.data.load_mnist`.
    progress : callable, optional
        Receives one line per epoch.

    Returns
    -------
    (params, record)
        ``record`` holds the config, its hash, the seed, train/test accuracy, the training time
        (s) and the number of training images.
    """
    path = weights_path(config, folder)
    if path.is_file() and not retrain:
        return load_cnn(config, folder)
    if data is None:
        from spinbase.data import load_mnist  # the dataset loader lives with the flow
        data = load_mnist()
    (x_tr, y_tr), (x_te, y_te) = data
    t0 = time.perf_counter()
    params = train(config, x_tr, y_tr, progress=progress)
    seconds = time.perf_counter() - t0
    record = {
        "config": asdict(config),
        "config_hash": config_hash(config),
        "training_version": TRAINING_VERSION,
        "seed": config.seed,
        "train_images": int(len(x_tr)),
        "test_images": int(len(x_te)),
        "train_accuracy": accuracy(params, x_tr, y_tr, config.activation),
        "test_accuracy": accuracy(params, x_te, y_te, config.activation),
        "train_seconds": round(seconds, 1),
        "parameters": int(sum(p.size for p in params.values())),
    }
    if config.moments:
        record["moment_test_accuracy"] = float(np.mean(moment_logits(params, x_te).argmax(axis=1) == y_te))
    buf = io.BytesIO()
    np.savez_compressed(buf, **params)
    atomic_write_bytes(path, buf.getvalue())
    atomic_write_json(path.with_suffix(".json"), record)
    return params, record
