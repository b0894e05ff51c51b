"""Fewer time steps per image: per-step records of the bit-accurate model and early decision.

:func:`record_steps` runs images through :func:`quantize.snn.step_loop` (the arithmetic the RTL
core computes) and keeps, for every image and step, the output spike counts, the decision
(:func:`quantize.snn.decide`) and the events the core's cycle count depends on (the encoder's
input spikes, each layer's output spikes and the scatter words of each layer's input spikes,
the ``quantize.snn.run`` keys). A run of ``T`` steps is a prefix of any longer run (the
encoder's draws are per image and step, ``quantize.snn`` "LFSR draw order"), so one record at
the longest step count gives every shorter one.

Early decision (:func:`early_exit_steps`) stops an image before the last step:

* lossless: stop after step ``t`` (of ``T``) once the leading class's count exceeds every
  other class's by more than the steps left, ``lead_t > T - t``; the prediction is then the
  one the full run gives (proof in :func:`early_exit_steps`);
* margin ``M`` (lossy): stop as soon as ``lead_t >= M`` (or the lossless rule holds, which
  stops no later); the prediction is the leader at that step, which may differ from the full
  run's.

An image that never meets its rule runs all ``T`` steps and takes the full run's decision.
``QuantConfig.early_margin`` selects the rule for the bit-accurate model and the RTL core
(:func:`config_rule`; ``quantize.snn.run`` runs :func:`run_early`): after every step the core
scans the class counters for the top two counts and stops the image when the rule holds
(``quantize.core``: ``classes + 3`` cycles per step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantize import snn as q

__all__ = ["StepRecord", "record_steps", "lead", "early_exit_steps", "early_decision", "event_keys", "config_rule",
           "run_early"]


def event_keys(net: q.QuantNetwork) -> list[str]:
    """The event counters of :class:`StepRecord` ``events``, as ``quantize.snn.run``'s
    ``spikes`` keys: ``"input"``, each layer's name, ``"words.<layer>"`` for each layer."""
    names = [L.name for L in net.layers]
    groups = ["groups.input"] if q.encoder_lanes(net.cfg, net.input_shape) > 1 else []
    return ["input", *names, *("words." + n for n in names), *groups]


@dataclass
class StepRecord:
    """Per image and step figures of one run (``T`` steps, ``B`` images, ``C`` classes).

    Attributes
    ----------
    counts : int16 (T, B, C)   output spikes of each class after steps 1..T (cumulative)
    pred : int64 (T, B)        ``quantize.snn.decide`` after steps 1..T (ties: membrane, index)
    membrane : int64 (T, B, C) the output layer's state after steps 1..T
    events : int64 (T, B, K)   events in each step (not cumulative), K = ``len(keys)``
    keys : list of str         :func:`event_keys` (the columns of ``events``)
    """

    counts: np.ndarray
    pred: np.ndarray
    events: np.ndarray
    keys: list
    membrane: np.ndarray | None = None

    def totals(self, steps: int, images=None) -> dict:
        """Events summed over steps 1..``steps`` and the ``images`` (index or bool mask; default
        all): a ``quantize.snn.run`` ``spikes`` dict of a ``steps``-step run."""
        ev = self.events[:steps] if images is None else self.events[:steps, images]
        tot = ev.sum(axis=(0, 1))
        return {k: int(v) for k, v in zip(self.keys, tot)}


class _Recorder(q.StepObserver):
    def __init__(self, net: q.QuantNetwork, b: int):
        steps = net.cfg.steps
        self.net, self.b = net, b
        self.col = {k: j for j, k in enumerate(event_keys(net))}
        self.events = np.zeros((steps, b, len(self.col)), np.int64)
        self.counts = np.zeros((steps, b, net.classes), np.int16)
        self.pred = np.zeros((steps, b), np.int64)
        self.membrane = np.zeros((steps, b, net.classes), np.int64)
        self.lanes = q.encoder_lanes(net.cfg, net.input_shape)

    def layer_input(self, t, layer, s):
        if layer is self.net.layers[0]:
            self.events[t, :, self.col["input"]] = np.asarray(s).reshape(self.b, -1).sum(axis=1)
            if self.lanes > 1:
                self.events[t, :, self.col["groups.input"]] = [q.encoder_groups(s[i:i + 1], self.lanes)
                                                              for i in range(self.b)]
        self.events[t, :, self.col["words." + layer.name]] = q.scatter_words(layer, s, self.net.cfg.parallelism, per_image=True)

    def layer_output(self, t, layer, s):
        self.events[t, :, self.col[layer.name]] = np.asarray(s).reshape(self.b, -1).sum(axis=1)

    def step_end(self, t, counts, state):
        self.counts[t] = counts
        v = state[self.net.layers[-1].name]
        self.membrane[t] = v.reshape(self.b, -1)
        self.pred[t] = q.decide(counts, v)


def record_steps(net: q.QuantNetwork, x, first_image: int = 0, batch: int = 250) -> StepRecord:
    """Run images x (B, H, W[, C]) for ``net.cfg.steps`` steps, keeping every step's counts,
    decision and events (x[j] is image ``first_image + j`` of the run, as ``quantize.snn.run``:
    the same encoder seeds, so the figures equal a ``run`` of those images)."""
    x = np.asarray(x)
    parts = []
    for i in range(0, len(x), batch):
        rec = _Recorder(net, len(x[i:i + batch]))
        q.step_loop(net, q.encode(net.cfg, x[i:i + batch], first_image + i), rec)
        parts.append(rec)
    return StepRecord(np.concatenate([p.counts for p in parts], axis=1),
                      np.concatenate([p.pred for p in parts], axis=1),
                      np.concatenate([p.events for p in parts], axis=1), event_keys(net),
                      np.concatenate([p.membrane for p in parts], axis=1))


def lead(counts) -> np.ndarray:
    """Leading class's count minus the runner-up's: int (..., C) -> int64 (...) (0 on a tie)."""
    c = np.sort(np.asarray(counts, np.int64), axis=-1)
    return c[..., -1] - c[..., -2]


def early_exit_steps(counts_per_step, steps: int | None = None, margin: int | None = None):
    """The step after which each image stops, under the lossless rule or a margin rule.

    Parameters
    ----------
    counts_per_step : int (T', B, C)
        Cumulative output spike counts after steps 1..T' (``StepRecord.counts``), T' >= ``steps``.
    steps : int, optional
        The run's step count T (default T'): the image stops at the latest after step T.
    margin : int, optional
        None: the lossless rule, stop after the first step t with ``lead_t > T - t``. An integer
        M >= 1: stop after the first step t with ``lead_t >= min(M, T - t + 1)`` (the margin
        rule, or the lossless rule where that comes first).

    Returns
    -------
    (stop, decided)
        ``stop`` int64 (B,) in 1..T, the steps the image uses; ``decided`` bool (B,), True where
        the rule stopped it (its prediction is then ``argmax counts[stop - 1]``, a unique leader
        since the lead is >= 1), False where it ran all T steps (its prediction: the full run's).

    Why the lossless rule cannot change the prediction
    --------------------------------------------------
    Every output neuron fires at most once per step (IF: ``v >= threshold`` fires and resets;
    p-bit: one comparison per step), so in the ``T - t`` steps left each class's count grows by
    at most ``T - t`` and by at least 0. Let class a lead after step t with ``n_a - n_b > T - t``
    for every other class b. After step T: ``N_a >= n_a > n_b + (T - t) >= N_b`` for every b,
    so class a has strictly the most spikes and ``quantize.snn.decide`` (most spikes first;
    the membrane and index only break ties of the top count) returns a; the decision after step
    t returns a as well, since ``n_a > n_b``. With ``lead_t = T - t`` instead, b could tie a at T
    and win on its membrane, so the inequality must be strict. Both sides of the comparison are
    integers, so the rule is exact (no rounding).
    """
    c = np.asarray(counts_per_step)
    total = c.shape[0] if steps is None else int(steps)
    if not 1 <= total <= c.shape[0]:
        raise ValueError(f"steps must be in 1..{c.shape[0]} (the recorded steps), not {steps!r}")
    if margin is not None and (isinstance(margin, bool) or int(margin) != margin or margin < 1):
        raise ValueError(f"margin must be an integer >= 1 or None, not {margin!r}")
    t = np.arange(1, total + 1)[:, None]                  # (T, 1) step index
    d = lead(c[:total])                                   # (T, B)
    left = total - t
    hit = d > left if margin is None else d >= np.minimum(int(margin), left + 1)
    decided = hit[:-1].any(axis=0)                        # stopping after step T is no saving
    stop = np.where(decided, hit.argmax(axis=0) + 1, total)
    return stop.astype(np.int64), decided


def early_decision(rec: StepRecord, steps: int | None = None, margin: int | None = None):
    """Predictions and steps used under an early-decision rule (:func:`early_exit_steps`).

    Returns (pred int64 (B,), stop int64 (B,), decided bool (B,)): a stopped image's leader at
    its stop step, else the decision of the ``steps``-step run (``rec.pred[steps - 1]``).
    """
    total = rec.counts.shape[0] if steps is None else int(steps)
    stop, decided = early_exit_steps(rec.counts, total, margin)
    b = np.arange(rec.counts.shape[1])
    leader = rec.counts[stop - 1, b].argmax(axis=1)
    return np.where(decided, leader, rec.pred[total - 1]), stop, decided


def config_rule(cfg: q.QuantConfig):
    """The rule of ``cfg.early_margin`` as :func:`early_exit_steps`' ``margin``: 0 (lossless)
    -> None, M -> M; a config without early decision (-1) is a ValueError."""
    if not cfg.early_decision:
        raise ValueError("QuantConfig.early_margin is -1: no early decision")
    return None if cfg.early_margin == 0 else int(cfg.early_margin)


def run_early(net: q.QuantNetwork, x, *, checkpoints=(), batch: int = 250, first_image: int = 0) -> dict:
    """``quantize.snn.run`` under the config's early decision (``net.cfg.early_margin``): the
    same keys, each image's figures at its stop step (counts, membrane, prediction: its leader
    where the rule stopped it, else the full run's decision; events summed over the steps it
    ran), ``pred_at`` {c: the predictions of a c-step run under the rule}, and ``stop`` int64
    (B,) the steps each image ran; ``spikes["steps.run"]`` their sum (the core's per-step
    cycles count only the steps run)."""
    rule = config_rule(net.cfg)
    rec = record_steps(net, x, first_image, batch)
    steps = net.cfg.steps
    pred, stop, _ = early_decision(rec, steps, rule)
    b = np.arange(rec.counts.shape[1])
    ran = np.arange(steps)[:, None] < stop[None, :]                      # (T, B)
    spikes = {k: int(v) for k, v in zip(rec.keys, (rec.events * ran[..., None]).sum(axis=(0, 1)))}
    spikes["steps.run"] = int(stop.sum())
    cps = sorted({int(c) for c in checkpoints if 0 < int(c) <= steps} | {steps})
    return {"counts": rec.counts[stop - 1, b].astype(np.int64), "membrane": rec.membrane[stop - 1, b],
            "pred": pred, "pred_at": {c: early_decision(rec, c, rule)[0] for c in cps}, "spikes": spikes,
            "stop": stop}
