"""spintwin.experiments (the experiment command lines moved out of golden/ and quantize/) and
the one "train or load the CNN, then normalise" (golden.snn.normalised_cnn, quantize.trained)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from golden import cnn, snn
from quantize import trained
from spinbase.data import load_mnist
from spintwin import experiments


def test_normalised_cnn_is_train_then_normalise():
    """The shared helper returns exactly what the five inline copies computed."""
    (xt, _), _ = load_mnist()
    params, record = cnn.load_cnn(cnn.RELU_CONFIG)
    for pct in (99.9, 100.0):
        want, want_scales = snn.normalise(params, xt[:10000], pct)
        w, scales, p, rec = snn.normalised_cnn(pct)
        assert scales == want_scales and rec["config_hash"] == record["config_hash"]
        for k in want:
            assert np.array_equal(w[k], want[k]) and np.array_equal(p[k], params[k]), (pct, k)
    assert snn.normalised_cnn(100.0)[0] is snn.normalised_cnn(100.0)[0]  # computed once per process


def test_kind_weights_and_tags():
    for kind, pct in (("twin-if", 100.0), ("cmos-if", 99.9)):
        got, want = trained.kind_weights(kind), snn.normalised_cnn(pct)[0]
        assert set(got) == set(want) and all(np.array_equal(got[k], want[k]) for k in want), kind
    sig = trained.kind_weights("twin-stochastic")
    ref, _ = cnn.load_cnn(cnn.SIGMOID_CONFIG)
    assert all(np.array_equal(sig[k], ref[k]) for k in ref)
    assert trained.weights_tag("twin-if") == f"{cnn.config_hash(cnn.RELU_CONFIG)}-p100"
    assert trained.weights_tag("cmos-if") == f"{cnn.config_hash(cnn.RELU_CONFIG)}-p99.9"
    with pytest.raises(ValueError, match="kind must be one of"):
        trained.kind_weights("cnn-if")


def test_golden_and_quantize_have_no_command_lines():
    """The command lines live in spintwin.experiments now, not in golden/ or quantize/."""
    import golden.neurons
    import golden.stdp
    import golden.stdp_network
    import quantize.stdp

    for mod in (snn, golden.stdp_network, quantize.stdp, golden.neurons, golden.stdp):
        assert not hasattr(mod, "main") and not hasattr(mod, "_main"), mod.__name__
    assert not hasattr(snn, "run_if")


def test_dispatch(capsys):
    assert experiments.main([]) == 2
    assert "snn|stdp|quant-stdp|fit-mtj-neuron|fit-volatile" in capsys.readouterr().err
    assert experiments.main(["nope"]) == 2
    assert experiments.main(["stdp", "--set", "bogus=1", "--quiet"]) == 2
    assert "unknown StdpConfig field 'bogus'" in capsys.readouterr().err


def test_module_entry_point_one_line_error():
    r = subprocess.run([sys.executable, "-m", "spintwin.experiments", "snn", "--images", "0", "--quiet"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == ["error: images must be an integer in 1..10000, not 0"]


def test_jsonable():
    out = experiments.jsonable({1: np.arange(3), "a": (np.float32(0.5), None), "c": trained})
    assert out["1"] == [0, 1, 2] and out["a"] == [0.5, None] and isinstance(out["c"], str)
