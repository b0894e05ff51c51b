"""Energy per decision of the SOT preset/evaluate step neuron (seed section IV.1, Ref. 101).

Sengupta et al. (the seed's Ref. 101): a PMA magnet on a heavy metal is preset to its hard axis
by a spin-orbit-torque pulse, then a small signed synaptic current through the MTJ decides on
which side it falls; the seed quotes ~15 fJ per operation and ~3x less than a digital CMOS
neuron. The device is :func:`golden.devices.step_neuron` (its docstring gives the choices).
One decision costs

* ``preset``: I_preset^2 R_HM t_preset (heavy-metal Joule heat; 200 uA for 0.4 ns through the
  867 ohm beta-W strip),
* ``evaluate``: I_eval^2 R t_eval, the synaptic current through the junction: with R = R_P a
  lower bound, with R_AP = R_P (1 + TMR) an upper one (near the hard axis R lies between); the
  term is < 4 % of the total either way,
* ``read``: :func:`golden.stt_neuron.read_energy` of the junction (golden.energy's sense
  voltage, duration and latch),

and no reset: the next preset erases the state. The CMOS side is the same digital neuron
update as for Ref. 100 (:func:`golden.stt_neuron.cmos_neuron_energy`, golden.energy's 45 nm
constants).
"""

from __future__ import annotations

from .devices import StepNeuron, step_neuron
from .stt_neuron import TMR, cmos_neuron_energy, read_energy

__all__ = ["SEED_ENERGY", "SEED_CMOS_RATIO", "energy_per_decision"]

#: The seed's figures for Ref. 101's neuron (section IV.1): ~15 fJ per operation, ~3x below CMOS.
SEED_ENERGY, SEED_CMOS_RATIO = 15e-15, 3.0


def energy_per_decision(neuron: StepNeuron | None = None, *, eval_current: float = 5e-6) -> dict:
    """Energy of one preset + evaluate + read of the step neuron, J, with its parts.

    ``eval_current``: the synaptic current (A; 5 uA: the decision curve's P = 0.2 / 0.8 point,
    golden.devices.step_neuron). Returns ``preset``, ``evaluate`` (through R_P),
    ``evaluate_upper`` (through R_AP = R_P (1 + TMR)), ``read``, ``total`` (with ``evaluate``),
    ``total_upper``, ``cmos`` and ``cmos_ratio`` = cmos / total (> 1: the spintronic neuron uses
    less), ``cmos_ratio_lower`` = cmos / total_upper.
    """
    n = step_neuron() if neuron is None else neuron
    preset = n.preset_current ** 2 * n.r_hm * n.preset_duration
    evaluate = float(eval_current) ** 2 * n.r_mtj * n.eval_duration
    read = read_energy(n.r_mtj)
    total = preset + evaluate + read
    total_upper = total + evaluate * TMR
    cmos = cmos_neuron_energy()
    return {"preset": preset, "evaluate": evaluate, "evaluate_upper": evaluate * (1 + TMR), "read": read,
            "total": total, "total_upper": total_upper, "cmos": cmos, "cmos_ratio": cmos / total,
            "cmos_ratio_lower": cmos / total_upper, "eval_current": float(eval_current)}
