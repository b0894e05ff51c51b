"""Early decision on the RTL core (QuantConfig.early_margin; quantize.early): the traced model
cut at each image's stop step against quantize.early's rule, quantize.snn.run under the rule,
and SnnCore in the Amaranth simulator and on Verilator against them spike for spike and cycle
for cycle (tests/core_sim.check: signatures, counts, prediction and cycles_exact)."""

import dataclasses

import numpy as np
import pytest
from core_sim import check
from quantize import core as qc
from quantize import early
from quantize import snn as q
from test_core_general import _digits_mlp


def _net(margin, steps=24, kind="cmos-if"):
    desc, x, y = _digits_mlp()
    return q.build_network(desc, q.QuantConfig(kind=kind, steps=steps, seed=3, early_margin=margin)), x, y


@pytest.mark.parametrize("margin", [0, 3])
def test_trace_stops_each_image_where_the_rule_says(margin):
    """The trace under the rule equals the full trace cut at quantize.early's stop step: spikes of
    later steps gone, counts at the stop, the leader as prediction where the rule stopped it;
    lossless (0) keeps every full-run prediction. run() agrees with the trace image for image,
    and cycles_per_image of run's totals equals the mean of cycles_exact (exact, not an estimate)."""
    net, x, _ = _net(margin)
    full = dataclasses.replace(net.cfg, early_margin=-1)
    full_net = q.build_network(net.network, full)
    x = x[:30]
    cut, whole = qc.trace(net, x), qc.trace(full_net, x)
    rec = early.record_steps(full_net, x)
    pred, stop, decided = early.early_decision(rec, net.cfg.steps, None if margin == 0 else margin)
    assert decided.any() and stop.min() < net.cfg.steps           # the test exercises a real stop
    for j, (c, w) in enumerate(zip(cut, whole)):
        e = int(stop[j])
        assert c["steps_run"] == e and c["pred"] == int(pred[j])
        for name, s in c["spikes"].items():
            assert np.array_equal(s[:e], w["spikes"][name][:e]) and not s[e:].any(), name
        assert np.array_equal(c["counts"], w["spikes"][net.layers[-1].name][:e, 0].sum(axis=0))
        if margin == 0:
            assert c["pred"] == w["pred"]                           # lossless
    r = q.run(net, x)
    assert np.array_equal(r["pred"], [c["pred"] for c in cut]) and np.array_equal(r["stop"], stop)
    layers = qc.core_layers(net)
    want = np.mean([qc.cycles_exact(layers, c) for c in cut])
    got = qc.cycles_per_image(net, {k: v / len(x) for k, v in r["spikes"].items()})
    assert got == pytest.approx(want, rel=1e-12)
    # the check costs classes + 3 cycles per step run: fewer steps, fewer cycles only if it pays
    assert qc.cycles_exact(layers, cut[int(np.argmin(stop))]) < qc.cycles_exact(qc.core_layers(full_net),
                                                                                  whole[int(np.argmin(stop))])


def test_config_refuses_a_bad_margin():
    for bad in (-2, 1.5, True, 1 << 16, None):
        with pytest.raises(ValueError, match="early_margin"):
            q.QuantConfig(early_margin=bad)


@pytest.mark.parametrize("margin, kind", [(0, "cmos-if"), (2, "twin-if")])
def test_core_stops_early_as_the_model(margin, kind):
    """SnnCore with the early-decision check in the Amaranth simulator: four digits whose stop
    steps differ, equal to the cut trace (signatures, counts, prediction, cycles_exact)."""
    net, x, _ = _net(margin, steps=16, kind=kind)
    items, got = check(net, x[:4], first=2)
    assert min(it["steps_run"] for it in items) < net.cfg.steps


def test_core_with_early_decision_on_verilator():
    """The exported Verilog with the check, on Verilator: 12 digits (cocotb, tb.core_launch),
    bit-exact and cycle-exact, some stopping early."""
    from tb import core_launch
    from tb.runner import skip_unless_simulator

    skip_unless_simulator("verilator")
    net, x, _ = _net(0, steps=20)
    assert (q.run(net, x[:12])["stop"] < 20).any()
    r = core_launch.run("digits-mlp", sim="verilator", images=12, steps=20, net=net, x=x, case="digits-early")
    assert r.metrics["images"] == 12
