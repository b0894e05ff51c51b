"""Benchmark: the seed's neuron devices (section IV.1) against the golden models (issue 19).

Rows "seed figure vs model":

* Ref. 100, STT-MTJ step neuron with bias and reset (golden.stt_neuron): energy per operation
  against golden.energy's digital CMOS neuron (seed: ~1.63x better), the junction resistance
  the seed's ratio needs, and the macrospin LLG's firing probability at zero input when biased
  at the analytic window critical current (should be 0.5) and at I_c0 itself.
* Ref. 101, SOT preset/evaluate step neuron (golden.devices.step_neuron, golden.sot_neuron): its
  energy per decision, preset + evaluate + read (seed ~15 fJ), and the ratio against the same
  CMOS neuron (seed ~3x), each with a verdict. No simulation: the energies are I^2 R t and
  golden.energy's sense constants. (Its decision curve on the twin's integer datapath against
  the golden LLG is tests/test_step_neuron_twin.py.)
* Ref. 103, LSV neuron (golden.lsv): the fan-in limit at 1 % decision error at a few input
  pitches for room-temperature Cu (350 nm) and Cu at 4.2 K (1 um); the seed gives no number.
* Non-step DW neuron circuit (golden.dw_neuron_circuit): linearity error of I_out(I_in) (seed:
  "approximately linear"), read-disturb margin, read energy; write + reset (seed ~0.1 fJ).

Run: ``python -m bench.devices_neuron`` (prints JSON; about 20 s, the LLG checks).
"""

from __future__ import annotations

import json

__all__ = ["run", "markdown"]

#: LSV points: (input pitch, spin-flip length), m.
LSV_POINTS = ((10e-9, 350e-9), (20e-9, 350e-9), (10e-9, 1e-6))
#: The seed's figures (section IV.1).
SEED_DW_WRITE_RESET = 0.1e-15
#: "Reproduced" when the model's energy is within this fraction of the seed's ~15 fJ (the seed
#: gives one significant figure: ~15 covers 14.5..15.5, i.e. about 3 %; 10 % allows for the
#: device parameters the seed cites without printing, golden.devices.step_neuron).
SOT_ENERGY_TOLERANCE = 0.10


def _stt(trials: int, rng: int) -> dict:
    from golden.stt_neuron import SEED_CMOS_RATIO, energy_per_operation, resistance_for_ratio, stt_neuron, switching_probability

    n = stt_neuron()
    e = energy_per_operation(n, fire_probability=0.5)
    p, se = switching_probability(n, [0.0], trials=trials, rng=rng, dt=2e-12)
    p0, se0 = switching_probability(n, [0.0], bias=n.critical_current, trials=trials, rng=rng + 1, dt=2e-12)
    return {"llg_p_at_ic0_bias": float(p0[0]), "llg_stderr_at_ic0_bias": float(se0[0]),"seed_cmos_ratio": SEED_CMOS_RATIO, "energy": e, "r_p": n.r_p,
            "r_p_for_seed_ratio": resistance_for_ratio(n, SEED_CMOS_RATIO),
            "write_duration": n.write_duration, "delta": n.magnet.delta,
            "llg_p_at_zero_input": float(p[0]), "llg_stderr": float(se[0]), "llg_trials": trials}


def _sot() -> dict:
    from golden.sot_neuron import SEED_CMOS_RATIO, SEED_ENERGY, energy_per_decision

    e = energy_per_decision(eval_current=5e-6)  # the decision curve's P = 0.2 / 0.8 point
    energy_ok = abs(e["total"] / SEED_ENERGY - 1) <= SOT_ENERGY_TOLERANCE
    # the ratio is reproduced if the seed's ~3x (one figure: 2.5..3.5) holds for both bounds
    ratio_ok = 2.5 <= e["cmos_ratio_lower"] and e["cmos_ratio"] <= 3.5
    return {"energy": e["total"], "parts": e, "cmos": e["cmos"], "cmos_ratio": e["cmos_ratio"],
            "seed_energy": SEED_ENERGY, "seed_cmos_ratio": SEED_CMOS_RATIO,
            "seed_ratio_implies_cmos": SEED_CMOS_RATIO * SEED_ENERGY,
            "energy_verdict": "reproduced" if energy_ok else "refuted",
            "ratio_verdict": "reproduced" if ratio_ok else "refuted"}


def _lsv() -> dict:
    from golden.lsv import continuum_fan_in_length, fan_in_limit

    pts = [{"pitch": L, "spin_flip_length": lam, "error": 0.01, "fan_in_limit": fan_in_limit(L, lam)}
           for L, lam in LSV_POINTS]
    return {"points": pts, "continuum_length_over_lambda": continuum_fan_in_length(0.01)}


def _dw() -> dict:
    from golden.dw_neuron_circuit import characterise

    r = characterise()
    r["seed_write_reset"] = SEED_DW_WRITE_RESET
    return r


def run(trials: int = 2000, rng: int = 20261207) -> dict:
    """All rows; ``trials`` LLG trials for the STT neuron's zero-input check."""
    return {"benchmark": "devices_neuron", "stt": _stt(trials, rng), "sot": _sot(), "lsv": _lsv(), "dw": _dw()}


def markdown(r: dict) -> str:
    """The BENCHMARKS.md section of a :func:`run` result."""
    s, o, lsv, dw = r["stt"], r["sot"], r["lsv"], r["dw"]
    op = o["parts"]
    e = s["energy"]
    fj = 1e15
    rows = [
        "## Neuron devices of the seed (section IV.1): seed figure vs model", "",
        "| device | quantity | seed | model | note |", "|---|---|---|---|---|",
        f"| STT step neuron (Ref. 100) | energy vs digital CMOS neuron | {s['seed_cmos_ratio']:.2f}x better | "
        f"{e['cmos_ratio']:.2f}x: {e['total'] * fj:.0f} fJ vs {e['cmos'] * fj:.0f} fJ | "
        f"write {e['write'] * fj:.0f} fJ at bias {e['bias_current'] * 1e6:.1f} uA for {s['write_duration'] * 1e9:g} ns, "
        f"reset {e['reset'] * fj:.0f} fJ (p = 0.5), read {e['read'] * fj:.1f} fJ; R_P {s['r_p'] / 1e3:g} kohm; "
        f"the seed's ratio needs R_P = {s['r_p_for_seed_ratio'] / 1e3:.2f} kohm |",
        f"| STT step neuron (Ref. 100) | P(fire) at zero input, bias = window critical current | 0.5 (by design) | "
        f"{s['llg_p_at_zero_input']:.3f} +- {s['llg_stderr']:.3f} | macrospin LLG, {s['llg_trials']} trials; "
        f"I_c0 = {e['critical_current'] * 1e6:.1f} uA, bias {e['bias_current'] / e['critical_current']:.2f} I_c0 |",
        f"| STT step neuron (Ref. 100) | P(fire) at zero input, bias = I_c0 (the seed's words) | - | "
        f"{s['llg_p_at_ic0_bias']:.3f} +- {s['llg_stderr_at_ic0_bias']:.3f} | a {s['write_duration'] * 1e9:g} ns window "
        f"needs more than the zero-temperature critical current |",
        f"| SOT step neuron (Ref. 101) | energy per decision | ~{o['seed_energy'] * fj:.0f} fJ | "
        f"{o['energy'] * fj:.1f} fJ | {o['energy_verdict']}: preset {op['preset'] * fj:.1f} fJ "
        f"({op['preset'] / o['energy']:.0%}) + evaluation at {op['eval_current'] * 1e6:g} uA "
        f"{op['evaluate'] * fj:.2f}-{op['evaluate_upper'] * fj:.2f} fJ (R_P-R_AP) + read {op['read'] * fj:.1f} fJ; "
        f"no reset (the next preset erases the state) |",
        f"| SOT step neuron (Ref. 101) | energy vs digital CMOS neuron | ~{o['seed_cmos_ratio']:.0f}x | "
        f"{o['cmos_ratio']:.1f}x | {o['ratio_verdict']}"
        + (f": the device matches the seed's energy, the gap is the CMOS baseline, golden.energy's digital neuron "
           f"update ({o['cmos'] * fj:.0f} fJ: 16-bit compare + 16-bit register at 45 nm) against the "
           f"~{o['seed_ratio_implies_cmos'] * fj:.0f} fJ the seed's 3x implies |"
           if o["ratio_verdict"] == "refuted" else
           f"; CMOS neuron {o['cmos'] * fj:.0f} fJ (golden.energy) |"),
    ]
    for p in lsv["points"]:
        rows.append(f"| LSV neuron (Ref. 103) | fan-in limit, {p['error']:.0%} decision error | limited (no number) | "
                    f"{p['fan_in_limit']} | input pitch {p['pitch'] * 1e9:g} nm, lambda_sf {p['spin_flip_length'] * 1e9:g} nm "
                    f"(inputs must fit within {lsv['continuum_length_over_lambda']:.3f} lambda) |")
    rd, re = dw["read_disturb"], dw["read_energy"]
    rows += [
        f"| DW neuron circuit | I_out(I_in) linearity error | approximately linear | "
        f"{dw['linearity_error_pct']:.1f} % of span | I_in 0-{dw['full_scale_input'] * 1e6:.1f} uA, I_out "
        f"{dw['output_min'] * 1e6:.1f}-{dw['output_max'] * 1e6:.1f} uA |",
        f"| DW neuron circuit | read-disturb margin | disturb-free read | {rd['margin']:.2f} | read "
        f"{rd['read_current'] * 1e6:.2f} uA vs {rd['critical_current'] * 1e6:.2f} uA (half a level in the read); "
        f"MgO {dw['t_mgo'] * 1e9:.2f} nm |",
        f"| DW neuron circuit | energy per read | - | {re['divider_mean'] * fj:.2f} fJ divider + "
        f"{re['output_mean'] * fj:.1f} fJ output | settling t_read / tau = {re['read_over_tau']:.1f} |",
        f"| DW neuron circuit | write + reset (full scale) | ~{dw['seed_write_reset'] * fj:.1f} fJ | "
        f"{dw['write_reset_energy_full_scale'] * fj:.2f} fJ | golden.dw calibrated device |",
        "",
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, default=str))
