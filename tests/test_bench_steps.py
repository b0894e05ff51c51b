"""bench/steps.py: the chunked sweep resumes from its cached chunks, its figures equal the
model's, and the operating point is the fewest cycles at the target accuracy."""

import numpy as np
import pytest

from bench import steps as bs


def test_sweep_figures_and_resume(tmp_path, monkeypatch):
    """12 test images in chunks of 5 at 20 steps: the accuracy per step and the cycles at each
    checkpoint equal quantize.snn.run's and quantize.core.cycles_per_image's on all 12 images
    at once; a second call reads every chunk from the cache (running one would fail)."""
    from quantize.core import cycles_per_image
    from quantize.snn import run
    from spinbase.data import load_mnist

    monkeypatch.setattr(bs, "CHUNK", 5)
    _, (xs, ys) = load_mnist()
    x, y = xs[:12], ys[:12]
    o = bs._option("max-rate0.5", x, y, tmp_path, 20, 100.0, None)
    assert [c["steps"] for c in o["curve"]] == [8, 12, 16, 20] and o["images"] == 12
    net = bs._net("max-rate0.5", 20)
    for c in o["curve"]:
        r = run(bs._at_steps(net, c["steps"]), x)
        assert c["accuracy"] == np.mean(r["pred"] == y)
        want = cycles_per_image(bs._at_steps(net, c["steps"]), {k: v / 12 for k, v in r["spikes"].items()})
        assert c["cycles_per_image"] == pytest.approx(want, rel=1e-12)
        assert c["images_per_s"] == pytest.approx(100e6 / want, rel=1e-12)
    lossless = next(e for e in o["early"] if e["rule"] == "lossless@20")
    full = o["curve"][-1]
    assert lossless["accuracy"] == full["accuracy"] and lossless["agreement_with_full"] == 1.0
    assert lossless["mean_steps"] <= 20 and lossless["cycles_per_image"] <= full["cycles_per_image"]

    def no_run(*a, **k):
        raise AssertionError("a cached chunk was recomputed")

    monkeypatch.setattr(bs, "_chunk", no_run)
    assert bs._option("max-rate0.5", x, y, tmp_path, 20, 100.0, None) == o


def test_operating_point_is_the_cheapest_at_the_target():
    def pt(steps, acc, cyc):
        return {"steps": steps, "accuracy": acc, "accuracy_se": 0.001, "cycles_per_image": cyc,
                "images_per_s": 1e8 / cyc}

    options = {"a": {"curve": [pt(10, 0.98, 10), pt(20, 0.986, 20), pt(40, 0.99, 40)], "early": []},
               "b": {"curve": [pt(10, 0.9, 5)], "early": [{**pt(100, 0.9855, 15), "rule": "margin2@100",
                                                             "mean_steps": 12.0}]}}
    op = bs._operating_points(options)
    assert (op["chosen"]["option"], op["chosen"]["rule"]) == ("b", "margin2@100")
    # 95 % interval's lower end: 0.986 - 0.00196 < 0.985, 0.99 - 0.00196 >= 0.985
    assert (op["cautious"]["option"], op["cautious"]["rule"]) == ("a", "fixed@40")
