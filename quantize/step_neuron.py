"""The preset/evaluate step neuron (seed section IV.1, Ref. 101) on the integer macrospin datapath.

:class:`golden.devices.StepNeuron` is a PMA disk (easy axis z) with two current paths:

* channel 1, the heavy-metal current: spin-orbit torque with spins along the hard axis (+y),
  spin efficiency theta_SH W / t_HM (eq. 6); the preset pulse holds the magnet on the hard axis;
* channel 2, the MTJ current: spin-transfer torque from the pinned layer (+z), polarisation
  eta; the small signed evaluation current tips the magnet off the hard axis towards +-z.

The hardware twin carries both as the two drive channels of a two-drive magnet
(:class:`quantize.macrospin.MacrospinConstants` with ``nm2``: constants ``kb`` and ``kb2``, one drive
code each per beat) and the device's protocol as a drive *schedule* (:class:`Phase`): preset
(code = the preset current, code2 = 0), evaluation (code = 0, code2 = the evaluation current),
relaxation (both 0); the decision is the sign of m_z at the end. The golden reference is
:func:`golden.devices.step_neuron_probability`; :func:`decision_probability_quantised` runs the
same protocol on the compiled integer datapath, :func:`schedule_codes` expands a schedule into
the per-beat code streams the RTL integrator (hdl.macrospin) takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from golden.devices import StepNeuron
from golden.llg import equilibrium_sample

from .macrospin import MacrospinConfig, MacrospinConstants, MacrospinModel, current_codes, run_phases

__all__ = ["Phase", "step_neuron_constants", "step_neuron_model", "schedule", "schedule_codes", "schedule_stream",
           "decision_probability_quantised"]


@dataclass(frozen=True)
class Phase:
    """One phase of a drive schedule: constant codes on both channels for ``steps`` magnet-steps.

    Attributes
    ----------
    name : str
        "preset", "evaluate" or "relax".
    code, code2 : int
        Drive codes (LSB = ``current_lsb`` A) of channel 1 (heavy metal, SOT) and channel 2 (MTJ, STT).
    steps : int
        Length in integration steps (dt each).
    """

    name: str
    code: int
    code2: int
    steps: int


def step_neuron_constants(cfg: MacrospinConfig, neuron: StepNeuron, dt: float | None = None) -> MacrospinConstants:
    """The two-drive constants of ``neuron`` at step ``dt`` (s; default ``neuron.dt``): channel 1
    the preset magnet (SOT, +y), channel 2 :meth:`StepNeuron.evaluate_magnet` (STT, +z)."""
    return MacrospinConstants.from_params(cfg, neuron.magnet, neuron.dt if dt is None else dt,
                                          drive2=neuron.evaluate_magnet())


def step_neuron_model(cfg: MacrospinConfig, neuron: StepNeuron, noise_cfg, dt: float | None = None) -> MacrospinModel:
    """The integer model of ``neuron`` with ``noise_cfg``'s (quantize.noise.NoiseConfig) samples."""
    return MacrospinModel(cfg, step_neuron_constants(cfg, neuron, dt), noise_cfg.out_fmt, float(noise_cfg.variance))


def schedule(model: MacrospinModel, neuron: StepNeuron, eval_current: float) -> list[Phase]:
    """The step neuron's drive schedule on ``model`` for one evaluation current (A).

    Phase lengths are the golden protocol's durations over the model's step, rounded as
    :func:`golden.devices.step_neuron_probability` rounds them. Raises ValueError for a model
    without the second drive channel or a current outside the drive code's range.
    """
    if not model.two_drives:
        raise ValueError("the step neuron needs a two-drive model (quantize.step_neuron.step_neuron_constants)")
    dt = model.k.nm.dt
    pre, ev = (int(c) for c in current_codes(model, [neuron.preset_current, eval_current]))
    return [Phase("preset", pre, 0, int(round(neuron.preset_duration / dt))),
            Phase("evaluate", 0, ev, int(round(neuron.eval_duration / dt))),
            Phase("relax", 0, 0, int(round(neuron.relax / dt)))]


def schedule_codes(phases: list[Phase]) -> tuple[np.ndarray, np.ndarray]:
    """Per-step codes of a schedule: (code (S,), code2 (S,)) int64, S = the sum of the phases' steps."""
    code = np.concatenate([np.full(p.steps, p.code, np.int64) for p in phases])
    code2 = np.concatenate([np.full(p.steps, p.code2, np.int64) for p in phases])
    return code, code2


def schedule_stream(plans, beats: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-beat codes for the RTL integrator running ``plans`` (hdl.macrospin's beat order).

    ``plans[slot][lane]`` is the schedule (list of :class:`Phase`) of the magnet in that slot and
    lane, N slots by K lanes, all of the same total length S; beat t drives slot t mod N at step
    t // N of its schedule, which repeats (a new decision begins with the next preset: the
    step neuron needs no reset). Returns (codes, codes2), int64 (beats, K)."""
    n, k = len(plans), len(plans[0])
    per = np.array([[schedule_codes(plans[s][lane]) for lane in range(k)] for s in range(n)])  # (N, K, 2, S)
    t = np.arange(beats)
    step = (t // n) % per.shape[-1]
    sel = per[t % n, :, :, step]  # (T, K, 2)
    return np.ascontiguousarray(sel[:, :, 0]), np.ascontiguousarray(sel[:, :, 1])


def decision_probability_quantised(model: MacrospinModel, neuron: StepNeuron, eval_current, *, trials: int,
                                   seed: int, k: int = 12, bits: int = 5):
    """:func:`golden.devices.step_neuron_probability`'s protocol on the integer datapath.

    Trials start in the harmonic Boltzmann draw about -z (the golden model's, quantised to
    m_fmt), then run :func:`schedule` (preset, evaluate, relax) with the hardware's noise
    (:func:`quantize.macrospin.run_phases`); the decision is m_z > 0. ``eval_current``: A,
    scalar or (C,). Returns (p, stderr, saturations), p and stderr shaped like ``eval_current``,
    stderr = sqrt(p (1 - p) / trials).
    """
    if trials < 1:
        raise ValueError(f"trials must be >= 1, not {trials!r}")
    cur = np.atleast_1d(np.asarray(eval_current, dtype=float))
    n = cur.size * trials
    m = model.to_int_m(equilibrium_sample(neuron.magnet, n, np.random.default_rng(seed), sign=-1.0))
    plans = [schedule(model, neuron, c) for c in cur]
    phases = []
    for i in range(len(plans[0])):
        code = np.repeat([pl[i].code for pl in plans], trials)
        code2 = np.repeat([pl[i].code2 for pl in plans], trials)
        phases.append((code, code2, plans[0][i].steps))
    sat = run_phases(model, m, phases, seed=seed, k=k, bits=bits)
    ax, sg = model.k.nm.easy_axis, model.k.nm.easy_sign
    p = (sg * m[:, ax] > 0).reshape(cur.size, trials).mean(axis=1)
    se = np.sqrt(p * (1 - p) / trials)
    if np.ndim(eval_current) == 0:
        return float(p[0]), float(se[0]), sat
    return p, se, sat
