"""The seed's CNN (golden.cnn): layers against direct loops, backpropagation against finite
differences, training and the weight cache, and the shipped weights' accuracy."""

import json

import numpy as np
import pytest

from golden import cnn


def _direct_conv(x, w):
    """Valid cross-correlation by explicit loops: x (N, H, W, C), w (K, C, k, k)."""
    n, h, wd, c = x.shape
    k_out, _, k, _ = w.shape
    out = np.zeros((n, h - k + 1, wd - k + 1, k_out))
    for b in range(n):
        for i in range(h - k + 1):
            for j in range(wd - k + 1):
                for o in range(k_out):
                    out[b, i, j, o] = sum(x[b, i + a, j + d, ch] * w[o, ch, a, d]
                                          for ch in range(c) for a in range(k) for d in range(k))
    return out


def test_conv2d_matches_direct_loop():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8, 9, 3))
    w = rng.standard_normal((4, 3, 5, 5))
    # float64, 75 products per output: rounding error ~ 75 * 1e-16 * |terms| << 1e-12
    np.testing.assert_allclose(cnn.conv2d(x, w), _direct_conv(x, w), rtol=0, atol=1e-12)


def test_avg_pool_matches_direct_loop():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 4, 3))
    ref = np.zeros((2, 3, 2, 3))
    for i in range(3):
        for j in range(2):
            ref[:, i, j, :] = x[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2, :].mean(axis=(1, 2))
    np.testing.assert_allclose(cnn.avg_pool2(x), ref, rtol=0, atol=1e-15)


def test_col2im_is_the_adjoint_of_im2col():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 12, 12, 6))
    g = rng.standard_normal((2, 8, 8, 150))
    lhs = np.sum(cnn.im2col(x, 5) * g)
    rhs = np.sum(x * cnn._col2im(g, 6, 5))
    assert abs(lhs - rhs) <= 1e-10 * np.sum(np.abs(g)) * np.abs(x).max()


@pytest.mark.parametrize("kind", ["relu", "sigmoid"])
def test_backprop_matches_finite_differences(kind):
    rng = np.random.default_rng(3)
    params = cnn.init_params(kind, rng, dtype=np.float64)
    x = rng.random((3, 28, 28))
    y = np.array([1, 7, 3])
    _, grads = cnn.loss_and_grads(params, x, y, kind)
    eps = 1e-6
    for name, p in params.items():
        for _ in range(6):
            idx = tuple(int(rng.integers(0, s)) for s in p.shape)
            old = p[idx]
            p[idx] = old + eps
            lp, _ = cnn.loss_and_grads(params, x, y, kind)
            p[idx] = old - eps
            lm, _ = cnn.loss_and_grads(params, x, y, kind)
            p[idx] = old
            fd = (lp - lm) / (2 * eps)
            # central difference: truncation ~ eps^2 |L'''| ~ 1e-12, rounding ~ 1e-16 |L| / eps
            # ~ 1e-10 (L ~ 2.3); a ReLU kink within eps of an input has probability ~ 1e-6.
            assert abs(fd - grads[name][idx]) <= 1e-7 + 1e-5 * abs(fd), (name, idx, fd, grads[name][idx])


def test_moment_model_backprop_matches_finite_differences():
    rng = np.random.default_rng(5)
    params = cnn.init_params("sigmoid", rng, dtype=np.float64)
    x = rng.random((3, 28, 28))
    y = np.array([4, 0, 9])
    _, grads = cnn.moment_loss_and_grads(params, x, y)
    eps = 1e-6
    for name, p in params.items():
        for _ in range(6):
            idx = tuple(int(rng.integers(0, s)) for s in p.shape)
            old = p[idx]
            p[idx] = old + eps
            lp, _ = cnn.moment_loss_and_grads(params, x, y)
            p[idx] = old - eps
            lm, _ = cnn.moment_loss_and_grads(params, x, y)
            p[idx] = old
            fd = (lp - lm) / (2 * eps)
            # smooth everywhere; same error budget as above
            assert abs(fd - grads[name][idx]) <= 1e-7 + 1e-5 * abs(fd), (name, idx, fd, grads[name][idx])


def test_moment_model_matches_monte_carlo_on_the_first_layer():
    """conv1 spike probability under Poisson input: the probit approximation against 4000
    sampled steps. For Gaussian z the approximation E[sigmoid(z)] ~ sigmoid(mu / sqrt(1 + pi
    nu / 8)) errs by at most 0.016 (Gauss-Hermite quadrature over mu in [-10, 10], sd in
    [0, 10]); the Monte-Carlo mean has a standard error <= sqrt(0.25 / 4000) = 0.0079, and 5 of
    them (0.040) bound all 3456 neurons at once with false-alarm probability < 0.2 %. The rest
    of the 0.06 allowance covers z being a sum of 25 weighted Bernoulli pixels, not Gaussian."""
    rng = np.random.default_rng(6)
    params = cnn.init_params("sigmoid", rng, dtype=np.float64)
    x = rng.random((1, 28, 28)) * 0.8
    _, c = cnn.moment_forward(params, x, keep=True)
    q1 = c["q1"][0]
    mc = np.zeros_like(q1)
    for _ in range(4000):
        s = (rng.random(x.shape) < x).astype(np.float64)
        mc += cnn.activation(cnn.conv2d(s[..., None], params["conv1"]), "sigmoid")[0]
    assert np.max(np.abs(mc / 4000 - q1)) <= 0.06


def test_config_validation_names_the_parameter():
    with pytest.raises(ValueError, match="CnnConfig.activation"):
        cnn.CnnConfig(activation="tanh")
    with pytest.raises(ValueError, match="CnnConfig.epochs must be an integer >= 1, not 0"):
        cnn.CnnConfig(epochs=0)
    with pytest.raises(ValueError, match="CnnConfig.shift"):
        cnn.CnnConfig(shift=7)
    with pytest.raises(ValueError, match="CnnConfig.moments needs activation 'sigmoid'"):
        cnn.CnnConfig(moments=True)


def test_config_hash_names_the_file_and_changes_with_the_config():
    a, b = cnn.RELU_CONFIG, cnn.CnnConfig(activation="relu", seed=1)
    assert cnn.config_hash(a) == cnn.config_hash(cnn.CnnConfig())
    assert cnn.config_hash(a) != cnn.config_hash(b)
    assert cnn.weights_path(a).name == f"cnn_relu_{cnn.config_hash(a)}.npz"


def test_train_cnn_trains_caches_and_reloads(tmp_path, monkeypatch):
    rng = np.random.default_rng(4)
    # a learnable toy set: class = which 7x7 block of a 4x4 grid is lit (10 of 16 blocks)
    y = rng.integers(0, 10, 640)
    x = np.zeros((640, 28, 28), np.float32)
    for i, c in enumerate(y):
        x[i, 7 * (c // 4):7 * (c // 4) + 7, 7 * (c % 4):7 * (c % 4) + 7] = 1.0
    cfg = cnn.CnnConfig(epochs=2, batch=32, lr=5e-3, shift=1, seed=3)
    data = ((x[:512], y[:512]), (x[512:], y[512:]))
    params, record = cnn.train_cnn(cfg, folder=tmp_path, data=data)
    # before training the loss is ~ ln 10 = 2.3; 32 Adam steps on a separable toy set get far below
    loss, _ = cnn.loss_and_grads(params, x[512:], y[512:])
    assert loss < 0.5 * np.log(10)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"cnn_relu_{cnn.config_hash(cfg)}.json", f"cnn_relu_{cnn.config_hash(cfg)}.npz"]
    stored = json.loads((tmp_path / files[0]).read_text())
    assert stored["config"]["seed"] == 3 and stored["config_hash"] == cnn.config_hash(cfg)
    assert stored["test_accuracy"] == record["test_accuracy"]

    def no_training(*a, **k):
        raise AssertionError("train() called although a cached file matches")

    monkeypatch.setattr(cnn, "train", no_training)
    again, _ = cnn.train_cnn(cfg, folder=tmp_path, data=data)
    for k in params:
        np.testing.assert_array_equal(again[k], params[k])
    with pytest.raises(FileNotFoundError, match="no trained weights"):
        cnn.load_cnn(cnn.CnnConfig(seed=99), folder=tmp_path)


@pytest.fixture(scope="module")
def mnist():
    from spinbase.data import load_mnist

    return load_mnist()


@pytest.mark.parametrize("config", [cnn.RELU_CONFIG, cnn.SIGMOID_CONFIG], ids=["relu", "sigmoid"])
def test_shipped_weights_reproduce_their_recorded_accuracy(config, mnist):
    params, record = cnn.load_cnn(config)
    assert record["config_hash"] == cnn.config_hash(config)
    assert {k: v.shape for k, v in params.items()} == cnn.PARAM_SHAPES
    _, (x_test, y_test) = mnist
    # The whole test set is a forward pass of a few seconds. The recorded figure came from
    # the same float32 computation; a different BLAS may sum in another order and flip an
    # image whose two top logits tie to ~1e-6, so allow 3 of 10,000 images.
    acc = cnn.accuracy(params, x_test, y_test, config.activation)
    assert abs(acc - record["test_accuracy"]) <= 3e-4
    if config.activation == "relu":
        assert record["test_accuracy"] >= 0.985   # the seed's network-1 ANN target
    else:
        # the spike-noise model on a random subset of n = 2000 of the N = 10,000 images: sampling
        # without replacement, sd = sqrt(p (1 - p) / n (N - n) / (N - 1)); 4 sd (false alarm 6e-5)
        p, n, big_n = record["moment_test_accuracy"], 2000, len(x_test)
        idx = np.random.default_rng(11).choice(big_n, n, replace=False)
        sub = np.mean(cnn.moment_logits(params, x_test[idx]).argmax(axis=1) == y_test[idx])
        assert abs(sub - p) <= 4 * np.sqrt(p * (1 - p) / n * (big_n - n) / (big_n - 1))
