"""``spintwin synth core --network NET`` prints, besides the resources and fmax, the mean cycles
per image over the test images it used (``cycles_per_image``, their number ``cycles_images``)
and ``images_per_s_at_fmax`` (issue 17); checked without a synthesis run (the tools are
replaced by a stand-in returning fixed resources and fmax)."""

import json

import numpy as np
import pytest

from spintwin.cli import main


def test_synth_core_prints_cycles_and_images_per_s(monkeypatch, capsys):
    """The printed cycle count equals the mean of quantize.core.cycles_exact over the first
    ``cycles_images`` MNIST test images (the RTL's count, image by image), and images/s is
    fmax / that mean."""
    import boards.synth
    from quantize.core import core_layers, cycles_exact, trace, trained_network
    from spinbase.data import load_mnist

    calls = []

    def fake(component, top, *, target, **kw):
        calls.append((type(component).__name__, top, target))
        return {"target": target, "device": "stand-in", "lut": 1000, "ff": 2000, "dsp": 53, "bram": 29,
                "fmax_mhz": 95.0, "fits": True, "fits_reason": None, "timing_met": False, "cached": False}

    monkeypatch.setattr(boards.synth, "synthesize", fake)
    assert main(["synth", "core", "--network", "cnn-if", "--target", "ecp5-85f"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert calls == [("SnnCore", "snn_core", "ecp5-85f")]
    assert {k: out[k] for k in ("lut", "ff", "dsp", "bram", "fmax_mhz")} == {
        "lut": 1000, "ff": 2000, "dsp": 53, "bram": 29, "fmax_mhz": 95.0}
    n = out["cycles_images"]
    assert n >= 1
    net = trained_network("cnn-if")
    layers = core_layers(net)
    want = np.mean([cycles_exact(layers, it) for it in trace(net, load_mnist()[1][0][:n])])
    # equal up to float rounding: the report sums per-key means (each within 1 ulp), not integers
    assert out["cycles_per_image"] == pytest.approx(want, rel=1e-12, abs=0)
    assert out["images_per_s_at_fmax"] == pytest.approx(95.0e6 / want, rel=1e-12, abs=0)
