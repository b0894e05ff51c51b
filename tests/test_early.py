"""Early decision and per-step records (quantize.early)."""

import numpy as np
import pytest

from quantize import early
from quantize import snn as q


def _walks(rng, b, steps, classes=10, p=None):
    """Random cumulative output counts (steps, b, classes): each class fires at most once per
    step (as an IF or p-bit output neuron), with its own rate."""
    p = rng.uniform(0.0, 0.6, (1, b, classes)) if p is None else p
    return np.cumsum(rng.random((steps, b, classes)) < p, axis=0).astype(np.int16)


def test_lossless_rule_never_changes_the_decision():
    """Adversarial check of the docstring's proof: on 20,000 random count walks (many close
    races, membrane tie-breaks random), every image the lossless rule stops early gets the
    full run's quantize.snn.decide; with the non-strict rule (lead >= steps left) some would
    not, which the second half shows on the same walks (so the check has teeth)."""
    rng = np.random.default_rng(7)
    steps, b = 30, 20000
    p = np.repeat(rng.uniform(0.2, 0.6, (1, b, 1)), 10, axis=2) + rng.normal(0, 0.05, (1, b, 10))
    c = _walks(rng, b, steps, p=np.clip(p, 0, 1))
    membrane = rng.integers(-100, 100, (b, 10))
    full = q.decide(c[-1].astype(np.int64), membrane)
    stop, decided = early.early_exit_steps(c, steps)
    assert decided.sum() > 1000                      # the rule does stop many images early
    leader = c[stop - 1, np.arange(b)].argmax(axis=1)
    assert np.array_equal(leader[decided], full[decided])
    # the weak rule (lead >= steps left) stops images whose decision then changes
    t = np.arange(1, steps + 1)[:, None]
    hit = early.lead(c) >= steps - t
    weak = hit[:-1].any(axis=0)
    wstop = hit.argmax(axis=0) + 1
    wlead = c[wstop - 1, np.arange(b)].argmax(axis=1)
    assert (wlead[weak] != full[weak]).any()


def test_exit_steps_by_hand():
    """Three images of 6 steps, 3 classes: the stop steps follow from the rule's definition."""
    c = np.zeros((6, 3, 3), np.int16)
    c[:, 0, 0] = [1, 2, 3, 4, 5, 6]        # lead t against steps left 6 - t
    c[:, 1, 1] = [1, 1, 1, 1, 1, 1]        # lead 1 throughout: lossless only at the last step
    c[:, 2, :] = 0                          # no spikes: runs to the end
    stop, decided = early.early_exit_steps(c)
    # image 0: lead_t = t, left = 6 - t: t > 6 - t first at t = 4
    assert stop.tolist() == [4, 6, 6] and decided.tolist() == [True, False, False]
    stop, decided = early.early_exit_steps(c, margin=1)
    assert stop.tolist() == [1, 1, 6] and decided.tolist() == [True, True, False]
    stop, _ = early.early_exit_steps(c, steps=4)         # a 4-step run: left = 4 - t
    assert stop.tolist() == [3, 4, 4]
    with pytest.raises(ValueError):
        early.early_exit_steps(c, margin=0)
    with pytest.raises(ValueError):
        early.early_exit_steps(c, steps=7)


def test_margin_stops_no_later_than_lossless():
    rng = np.random.default_rng(3)
    c = _walks(rng, 500, 40)
    lossless, _ = early.early_exit_steps(c)
    for m in (1, 2, 5, 40):
        stop, _ = early.early_exit_steps(c, margin=m)
        assert (stop <= lossless).all()
    assert (early.early_exit_steps(c, margin=1)[0] <= early.early_exit_steps(c, margin=3)[0]).all()


@pytest.fixture(scope="module")
def small_run():
    from quantize.core import trained_network
    from spinbase.data import load_mnist

    net = trained_network("cnn-if", steps=30)
    x = load_mnist()[1][0][:12]
    return net, x, early.record_steps(net, x, first_image=5, batch=5)


def test_record_equals_run(small_run):
    """The per-step record of 12 images in batches of 5 gives quantize.snn.run's spike and
    scatter-word totals and decisions (at 10 and 30 steps) exactly."""
    net, x, rec = small_run
    res = q.run(net, x, checkpoints=(10,), first_image=5)
    assert rec.totals(30) == res["spikes"]
    assert np.array_equal(rec.pred[9], res["pred_at"][10]) and np.array_equal(rec.pred[29], res["pred"])
    assert np.array_equal(rec.counts[-1], res["counts"])


def test_early_decision_on_the_model(small_run):
    """On the twin, lossless early decision keeps every full-run decision and uses no more steps."""
    net, x, rec = small_run
    pred, stop, decided = early.early_decision(rec)
    assert np.array_equal(pred, rec.pred[-1])
    assert (stop <= 30).all() and np.array_equal(stop[~decided], np.full((~decided).sum(), 30))
