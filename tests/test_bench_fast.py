"""bench/fast.py: the fast design's figures are the model's own: its two-process accuracy and
exact cycles per image equal quantize.snn.run and the mean of quantize.core.cycles_exact over
the same images, and configs/fast.toml builds the design the issue names."""

import numpy as np
import pytest


def test_fast_model_figures_equal_the_trace():
    from bench import fast
    from quantize import core as qc
    from quantize.snn import run
    from spinbase.data import load_mnist

    m = fast._model(12, workers=2)
    net, _ = fast._design()
    assert (net.cfg.kind, net.cfg.input_rate, net.cfg.early_margin, net.cfg.parallelism) == ("twin-if", 1.0, 2, 5)
    _, (xs, ys) = load_mnist()
    r = run(net, xs[:12])
    assert m["accuracy"] == np.mean(r["pred"] == ys[:12]) and m["mean_steps"] == r["stop"].mean()
    layers = qc.core_layers(net)
    want = np.mean([qc.cycles_exact(layers, it) for it in qc.trace(net, xs[:12])])
    assert m["cycles_per_image"] == pytest.approx(want, rel=1e-12)
    assert m["cpu_images_per_s_bound"] == pytest.approx(m["cpu_images_per_s"] * 100 / m["mean_steps"])
