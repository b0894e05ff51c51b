"""Benchmark: magnet-steps per second of golden.llg.simulate with thermal noise.

Compares the compiled Heun kernel with a straightforward numpy reference (np.cross for each
term, same equation, same Heun scheme, noise from the same kind of generator), measured in
the same run on the same magnets. Before timing, the two are checked to agree at T = 0
(identical deterministic trajectories to 1e-12), so the reference is a fair one.
Run: ``python -m bench.llg`` (prints JSON); ``make bench`` runs all benchmarks.
"""

from __future__ import annotations

import json
import time

import numpy as np

from golden.constants import GAMMA, MU0
from golden.devices import mtj_neuron
from golden.llg import MacrospinParams, equilibrium_sample, simulate

__all__ = ["reference_simulate", "run"]


def reference_simulate(p: MacrospinParams, m, *, current, dt, steps, rng):
    """The same stochastic Heun integration written plainly with numpy array operations."""
    m = np.array(m, dtype=float)
    ch = GAMMA * MU0 / (1 + p.alpha**2)
    cb = p.torque_coefficient(current)
    e, pol = np.asarray(p.easy_axis), np.asarray(p.polarization)
    dms, hext = p.ms * np.asarray(p.demag), np.asarray(p.h_ext)
    sigma = p.thermal_sigma(dt)

    def rhs(m, hth):
        h = hext + p.hk * (m @ e)[:, None] * e - dms * m + hth
        mxh = np.cross(m, h)
        mxp = np.cross(m, pol)
        return -ch * (mxh + p.alpha * np.cross(m, mxh)) + cb * (p.alpha * mxp - np.cross(m, mxp))

    for _ in range(steps):
        hth = sigma * rng.standard_normal(m.shape) if sigma else 0.0
        k1 = rhs(m, hth)
        k2 = rhs(m + dt * k1, hth)
        m = m + 0.5 * dt * (k1 + k2)
        m /= np.linalg.norm(m, axis=1, keepdims=True)
    return m


def _rate(fn, n, steps, repeats=3):
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n * steps / best, best


def run(n: int = 100_000, steps: int = 200, ref_steps: int = 20) -> dict:
    """Measure both implementations on n magnets of the MTJ-neuron preset at 300 K, 71 uA."""
    neuron = mtj_neuron()
    p = neuron.magnet
    m0 = equilibrium_sample(p, n, rng=0)
    cold = MacrospinParams(**{**{k: getattr(p, k) for k in ("ms", "alpha", "volume", "hk", "easy_axis", "demag", "h_ext", "polarization", "spin_efficiency")}, "temperature": 0.0})
    agree = float(np.max(np.abs(simulate(cold, m0[:1000], current=71e-6, dt=neuron.dt, steps=50)
                                - reference_simulate(cold, m0[:1000], current=71e-6, dt=neuron.dt, steps=50, rng=None))))
    if agree > 1e-12:
        raise AssertionError(f"reference and kernel disagree at T = 0 by {agree:.3g}")
    simulate(p, m0[:10], current=71e-6, dt=neuron.dt, steps=2, rng=1)  # compile / load the cache
    golden_rate, golden_s = _rate(lambda: simulate(p, m0, current=71e-6, dt=neuron.dt, steps=steps, rng=1), n, steps)
    ref_rate, ref_s = _rate(lambda: reference_simulate(p, m0, current=71e-6, dt=neuron.dt, steps=ref_steps,
                                                       rng=np.random.default_rng(1)), n, ref_steps)
    import numba

    return {
        "benchmark": "llg",
        "magnets": n,
        "steps_golden": steps,
        "steps_reference": ref_steps,
        "golden_magnet_steps_per_s": golden_rate,
        "reference_magnet_steps_per_s": ref_rate,
        "speedup_vs_reference": golden_rate / ref_rate,
        "target_magnet_steps_per_s": 20e6,
        "target_speedup": 4.0,
        "meets_targets": bool(golden_rate >= 20e6 and golden_rate / ref_rate >= 4.0),
        "t0_agreement_max_abs": agree,
        "numba_threads": numba.get_num_threads(),
        "golden_best_s": golden_s,
        "reference_best_s": ref_s,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
