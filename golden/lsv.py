"""Lateral spin valve (LSV) neuron (seed sections II.4 and IV.1, Sharad et al., the seed's Ref. 103).

Input magnets inject spin into a non-magnetic channel through tunnel barriers (the seed: MgO
"to increase spin-current injection"); the spin accumulation diffuses along the channel,
decays by spin flips and is absorbed by the neuron magnet, whose final state (after a preset
along its hard axis) follows the sign of the absorbed spin current. Excitatory inputs inject
one spin direction, inhibitory ones (magnetised antiparallel) the other, so a signed synaptic
current I_k injects ``P I_k``. SI units; spin accumulation mu_s in volts (the spin-dependent
electrochemical potential difference over 2e), spin currents in A.

1-D spin diffusion (Valet-Fert; Takahashi & Maekawa, PRB 67, 052409 (2003)) in a channel of
resistivity rho, cross-section A_N and spin-flip length lambda:

    (A_N / rho) (d^2 mu_s / dx^2 - mu_s / lambda^2) = -sum_k P I_k delta(x - x_k),
    spin current I_s(x) = -(A_N / rho) d mu_s / dx,   spin resistance R_N = rho lambda / A_N.

Geometry: the neuron magnet at x = 0, the end of the channel, absorbs the spin current
``mu_s(0) / R_F`` (R_F its contact's spin resistance); the channel runs on past the inputs
(semi-infinite). For one non-absorbing injector at distance L the absorbed spin current is
then exactly (derivation: the x < L solution is fixed by the sink up to a factor, which the
source's jump condition sets to P I R_N e^{-L/lambda} / 2):

    I_abs = P I exp(-L / lambda) / (1 + R_F / R_N)                         (:func:`transfer`)

and inputs add linearly. :func:`spin_accumulation` solves the same equations by finite
differences (second order, reflecting far end many lambda away) to check that law; its
discrete decay constant is ``arccosh(1 + h^2 / (2 lambda^2)) / h`` = (1 - h^2/(24 lambda^2)) / lambda.

Fan-in (:func:`fan_in_limit`): n inputs sit at the channel pitch L, input k at distance k L
(k = 1..n), so the far inputs reach the neuron weaker than the near ones by e^{-(k-1) L/lambda}
(the seed: "the spin-flip process ... constrains the fan-in capability of each neuron"). The
**decision error** is the probability that the neuron's decision, sign(sum_k a_k s_k), differs
from the ideal sign(sum_k s_k) when the weighted inputs s_k are independent zero-mean Gaussians
of equal variance, a_k the attenuation of input k. For jointly Gaussian sums with correlation
rho this is arccos(rho) / pi (Sheppard 1899); with a_k = q^k, q = e^{-L/lambda},

    rho_n^2 = (sum a_k)^2 / (n sum a_k^2) = tanh(n L / (2 lambda)) / (n tanh(L / (2 lambda))),

which falls with n, so the error rises with n and the limit is the largest n with error below
the bound. The neuron's own thermal noise and device variation are left out (they only add
error); the magnitude of the absorbed current against the neuron's threshold is
:func:`decision_probability`'s business (the macrospin preset/evaluate magnet of
golden.devices.step_neuron). For L << lambda, n L -> s* with
``arccos(sqrt(tanh(s*/2) / (s*/2))) = pi error`` (:func:`continuum_fan_in_length`; s* = 0.109
at 1 %, so the inputs must fit within ~0.11 lambda). Room-temperature Cu (350 nm) at 1 %:
fan-in 3 at a 10 nm pitch, 2 at 20 nm, 1 from ~25 nm; lambda = 1 um (Cu at 4.2 K): 10 at
10 nm. Uncompensated, the attenuation allows almost no fan-in at a realistic magnet pitch:
the seed's Fig. 6 layout sums the synaptic charge currents on one excitatory and one
inhibitory magnet instead (their attenuations then differ by e^{-Delta L / lambda}, a bias).

Copper at room temperature (:func:`copper_channel`): lambda = 350 nm (Jedema, Filip & van Wees,
Nature 410, 345 (2001): 1 um at 4.2 K, 350 nm at room temperature [recalled]; Ji et al., APL 88,
052509 (2006) report >= 110 nm at 300 K in less pure Cu), rho = 2.0 uOhm cm (thin film; bulk
1.68 uOhm cm, CRC Handbook) [recalled].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_banded
from scipy.optimize import brentq

__all__ = [
    "LsvChannel", "copper_channel", "CU_SPIN_FLIP_LENGTH_RT", "CU_RESISTIVITY_RT",
    "transfer", "spin_accumulation", "decision_error", "fan_in_limit", "continuum_fan_in_length",
    "decision_probability", "input_current_for",
]

#: Spin-flip length of Cu at room temperature, m (Jedema et al., Nature 410, 345 (2001)) [recalled].
CU_SPIN_FLIP_LENGTH_RT = 350e-9
#: Resistivity of a thin Cu film at room temperature, ohm m (bulk 1.68e-8, CRC Handbook) [recalled].
CU_RESISTIVITY_RT = 2.0e-8


def _pos(name, v):
    if not (isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be > 0, not {v!r}")
    return float(v)


@dataclass(frozen=True)
class LsvChannel:
    """A non-magnetic spin channel with its injectors and the neuron magnet's contact.

    Parameters
    ----------
    resistivity : float
        Channel resistivity rho, ohm m.
    spin_flip_length : float
        lambda_sf, m.
    width, thickness : float
        Channel cross-section, m (A_N = width x thickness).
    injector_polarization : float
        Spin polarisation P of the tunnel injectors, in (0, 1].
    sink_spin_resistance : float
        Spin resistance R_F of the neuron magnet's contact, ohm (> 0; 0 would be a perfect sink).
    """

    resistivity: float
    spin_flip_length: float
    width: float = 100e-9
    thickness: float = 20e-9
    injector_polarization: float = 0.3
    sink_spin_resistance: float = 0.5

    def __post_init__(self):
        for f in ("resistivity", "spin_flip_length", "width", "thickness", "sink_spin_resistance"):
            _pos(f"LsvChannel.{f}", getattr(self, f))
        if not 0 < self.injector_polarization <= 1:
            raise ValueError(f"LsvChannel.injector_polarization must be in (0, 1], not {self.injector_polarization!r}")

    @property
    def area(self) -> float:
        """Cross-section A_N, m^2."""
        return self.width * self.thickness

    @property
    def spin_resistance(self) -> float:
        """R_N = rho lambda / A_N, ohm."""
        return self.resistivity * self.spin_flip_length / self.area

    @property
    def sink_efficiency(self) -> float:
        """Fraction 1 / (1 + R_F / R_N) of the arriving spin current that the neuron absorbs."""
        return 1.0 / (1.0 + self.sink_spin_resistance / self.spin_resistance)


def copper_channel(spin_flip_length: float = CU_SPIN_FLIP_LENGTH_RT, **kw) -> LsvChannel:
    """Room-temperature Cu channel, 100 nm x 20 nm (assumption), MgO tunnel injectors with P = 0.3
    (assumption; Al2O3 barriers on Cu/Al give 0.1-0.3), neuron contact R_F = 0.5 ohm (assumption:
    rho_F lambda_F / ((1 - p_F^2) A_J) for a CoFe-like magnet, ~15 uOhm cm x 5 nm / (0.9 x 40 x 40
    nm^2)). R_N = 3.5 ohm, sink efficiency 0.875. ``kw`` overrides any field."""
    return LsvChannel(**{**dict(resistivity=CU_RESISTIVITY_RT, spin_flip_length=spin_flip_length), **kw})


def transfer(channel: LsvChannel, distance) -> np.ndarray:
    """Absorbed spin current per injected charge current for an input at ``distance`` (m).

    ``P exp(-L / lambda) / (1 + R_F / R_N)`` (module docstring); any shape.
    """
    d = np.asarray(distance, dtype=float)
    if np.any(d < 0):
        raise ValueError("distance must be >= 0 m")
    return (channel.injector_polarization * np.exp(-d / channel.spin_flip_length) * channel.sink_efficiency)[()]


def spin_accumulation(channel: LsvChannel, positions, currents, *, step: float | None = None,
                      tail: float = 12.0):
    """Finite-difference solution of the 1-D spin-diffusion equation on the channel.

    Parameters
    ----------
    positions : sequence of float
        Injector distances from the neuron magnet, m (> 0); each is moved to the nearest node.
    currents : sequence of float
        Charge currents through the injectors, A, signed (inhibitory < 0).
    step : float, optional
        Grid step h, m (default lambda / 20: discrete decay constant 1.0001 / lambda).
    tail : float
        The channel extends ``tail`` lambda past the farthest injector, where it ends (zero
        spin current); the end's reflection changes the absorbed current by ~e^{-2 tail}.

    Returns
    -------
    x : array (M,)
        Node positions, m.
    mu : array (M,)
        Spin accumulation, V.
    absorbed : float
        Spin current absorbed by the neuron magnet mu(0) / R_F, A.
    """
    lam = channel.spin_flip_length
    h = lam / 20 if step is None else _pos("step", step)
    pos = np.atleast_1d(np.asarray(positions, dtype=float))
    cur = np.atleast_1d(np.asarray(currents, dtype=float))
    if pos.shape != cur.shape or pos.ndim != 1 or np.any(pos <= 0):
        raise ValueError("positions (> 0 m) and currents must be 1-D sequences of equal length")
    m = int(math.ceil((pos.max() + tail * lam) / h)) + 1
    x = np.arange(m) * h
    g = channel.area / channel.resistivity  # A_N / rho, S m
    rhs = np.zeros(m)
    for p_, i_ in zip(pos, cur):
        rhs[int(round(p_ / h))] -= channel.injector_polarization * i_ / (g * h)
    # (mu_{i+1} - 2 mu_i + mu_{i-1}) / h^2 - mu_i / lam^2 = rhs_i
    main = np.full(m, -2.0 / h**2 - 1.0 / lam**2)
    upper = np.full(m, 1.0 / h**2)
    lower = np.full(m, 1.0 / h**2)
    # x = 0: ghost node from the sink condition g mu'(0) = mu(0) / R_F (central difference).
    c = 1.0 / (g * channel.sink_spin_resistance)
    main[0] -= 2.0 * c / h
    upper[1] = 2.0 / h**2  # the row-0 coupling to mu_1 (upper[j] sits in column j)
    # far end: zero spin current, mu_{M} = mu_{M-2}.
    lower[m - 2] = 2.0 / h**2
    ab = np.zeros((3, m))
    ab[0, 1:] = upper[1:]
    ab[1] = main
    ab[2, :-1] = lower[:-1]
    mu = solve_banded((1, 1), ab, rhs)
    return x, mu, float(mu[0] / channel.sink_spin_resistance)


def _check_error(error):
    if not (isinstance(error, (int, float)) and 0 < error < 0.5):
        raise ValueError(f"error must be in (0, 0.5), not {error!r}")
    return float(error)


def decision_error(n, channel_length: float, spin_flip_length: float) -> np.ndarray:
    """Probability that the LSV neuron's decision differs from sign(sum of inputs), fan-in n.

    ``arccos(rho_n) / pi`` with ``rho_n^2 = tanh(n x / 2) / (n tanh(x / 2))``, x = L / lambda
    (module docstring; n >= 1, any shape). 0 at n = 1.
    """
    x = _pos("channel_length", channel_length) / _pos("spin_flip_length", spin_flip_length)
    n = np.asarray(n, dtype=float)
    if np.any(n < 1):
        raise ValueError("fan-in n must be >= 1")
    rho2 = np.tanh(n * x / 2) / (n * np.tanh(x / 2))
    return (np.arccos(np.sqrt(np.clip(rho2, 0.0, 1.0))) / np.pi)[()]


def fan_in_limit(channel_length: float, spin_flip_length: float, *, error: float = 0.01) -> int:
    """Largest fan-in at which the LSV neuron's decision error stays below ``error``.

    Parameters
    ----------
    channel_length : float
        Channel length per input, m: the pitch of the input magnets, input k (k = 1..n) at
        k x channel_length from the neuron magnet.
    spin_flip_length : float
        lambda_sf of the channel, m.
    error : float
        Bound on the decision error, in (0, 0.5).

    The decision error (:func:`decision_error`) is the probability that sign(sum_k a_k s_k)
    differs from sign(sum_k s_k) for independent zero-mean Gaussian weighted inputs s_k, with
    a_k = exp(-k L / lambda) the spin-diffusion attenuation of input k (:func:`transfer`; the
    common factor P / (1 + R_F / R_N) cancels). It depends on L / lambda only, rises with n and
    is 0 at n = 1, so the limit is >= 1; it falls with L and grows with lambda. Raises
    ValueError if the limit exceeds 1e12 (L / lambda below ~1e-13).
    """
    err = _check_error(error)
    ok = lambda n: decision_error(n, channel_length, spin_flip_length) < err  # noqa: E731
    lo, hi = 1, 2
    while ok(hi):
        lo, hi = hi, hi * 2
        if hi > 1e12:
            raise ValueError("fan-in limit above 1e12: channel_length / spin_flip_length is too small")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def continuum_fan_in_length(error: float = 0.01) -> float:
    """s* = lim n L / lambda of the fan-in limit as L / lambda -> 0 (a dimensionless length).

    Solves ``arccos(sqrt(tanh(s/2) / (s/2))) = pi error``: the inputs spread uniformly over a
    channel of s* lambda (0.1095 at error 0.01).
    """
    err = _check_error(error)
    f = lambda s: math.acos(math.sqrt(math.tanh(s / 2) / (s / 2))) - math.pi * err  # noqa: E731
    return brentq(f, 1e-9, 1e3, xtol=1e-15, rtol=1e-14)


def input_current_for(channel: LsvChannel, spin_current: float, distance: float) -> float:
    """Charge current (A) an input at ``distance`` (m) needs to deliver ``spin_current`` (A) to the neuron."""
    return float(spin_current) / float(transfer(channel, distance))


def decision_probability(spin_current, *, trials: int, rng=None, temperature: float = 300.0):
    """Probability that the neuron magnet ends up (+z) for an absorbed spin current (A).

    The neuron magnet is golden.devices.step_neuron's PMA disk with its preset along the hard
    axis; during evaluation the absorbed non-local spin current acts as a damping-like torque
    along +z, i.e. the step neuron's MTJ current ``spin_current / stt_efficiency`` (the same
    torque). Macrospin LLG with thermal noise (:func:`golden.devices.step_neuron_probability`).
    Returns (p, stderr) shaped like ``spin_current``.
    """
    from .devices import step_neuron, step_neuron_probability

    neuron = step_neuron(temperature)
    cur = np.asarray(spin_current, dtype=float) / neuron.stt_efficiency
    return step_neuron_probability(neuron, cur, trials=trials, rng=rng)
