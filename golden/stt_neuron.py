"""STT-MTJ step neuron with bias and reset (seed section IV.1 "Step Neurons", Ref. 100).

Sengupta & Roy (IJCNN 2015, the seed's Ref. 100): an MTJ is initialised in the AP state and
biased at the current that switches it to P, so that a small signed synaptic current decides
whether it switches (output 1) or stays AP (output 0); a read follows and a reset pulse
returns a switched neuron to AP. The seed quotes ~1.63x less energy than a digital CMOS
neuron, limited by the bias and reset currents.

The device here is the CoFeB/MgO junction of :func:`golden.devices.step_neuron` (PMA
pi/4 x 40 x 40 x 1.5 nm, Ms = 1.0e6 A/m, alpha = 0.02, H_K = 1.13e5 A/m, Delta = 32 at
300 K) written by spin-transfer torque from the pinned layer (polarisation 0.6), i.e. its
``evaluate_magnet()``: pinned layer along +z, P = +z, AP = -z, and a positive current
switches AP -> P. The pinned layer's polarisation lies along the easy axis, so the problem is
axisymmetric and the zero-temperature critical current is exact (REFERENCES.md 2.3):

    I_c0 = (2 e / hbar) alpha mu0 Ms V H_K / eta         (27.1 uA here).

A window of finite length t_w needs more: a magnet at initial angle theta_0 from the AP axis
reaches the equator under u = I / I_c0 > 1 in (REFERENCES.md 2.4, exact at T = 0)

    t_sw = t0 [ -ln(1 - z0) / (2 (u - 1)) + ln(1 + z0) / (2 (u + 1)) + ln((u - z0) / u) / (u^2 - 1) ],

z0 = cos theta_0, t0 = (1 + alpha^2) / (alpha gamma mu0 H_K) = 2.0 ns. Thermal equilibrium
makes sin^2 theta_0 exponential with mean 1 / Delta (two Gaussian transverse components of
variance 1 / (2 Delta)). Noise during the window counts through the variational equation
of the marginal trajectory theta(t) (the one from theta* that reaches the equator exactly at
t_w): a kick d theta at time s moves the arrival like a kick f(theta*) / f(theta(s)) d theta
at t = 0, with f(theta) = sin theta (u - cos theta) / t0 = d theta / dt (for a 1-D autonomous
flow the variational solution is f(theta(t)) / f(theta(s))). The thermal kicks (variance
2 v ds / t0 per component, v = 1 / (2 Delta), the equilibrium balance) so add to the initial
variance the fraction

    g - 1 = (2 / t0) int_0^t_w (f(theta*) / f(theta(s)))^2 ds = 2 f*^2 int_theta*^(pi/2) d theta / f^3

(f in units of 1 / t0), which is 1 / (u - 1) in the linear (small-angle) limit, the
Ornstein-Uhlenbeck result for transverse components growing at (u - 1) / t0. So

    P_sw(u, t_w) = exp(-Delta sin^2 theta* / g)

(the precessional regime; Sun, PRB 62, 570 (2000) for the switching time, the thermal
initial-angle average as in Koch et al., PRL 92, 088302 (2004)). Both components carry the
radial weight, exact in the linear phase; the neglected terms (the tangential kicks' weight in
the non-linear phase, the harmonic initial distribution, the noise-induced drift, sin theta vs
theta) are O(1 / Delta) in P. Against the LLG (3000 trials, 5 ns): 0.031 vs 0.034 at
u = 1.12, 0.125 vs 0.141 at 1.3, 0.457 vs 0.478 at 1.6, i.e. within 0.02 = 0.6 / Delta down to
u = 1.1; without the in-window noise (g = 1) the LLG gives 0.17 vs 0.164 at u = 1.6. Thermal
activation over the barrier Delta (1 - u)^2 (Neel-Brown) is neglected: u > 1.05 only.
:func:`switching_probability` measures the same with the stochastic macrospin LLG (golden.llg, Heun, thermal field).

The neuron's critical current for its window, :meth:`SttNeuron.window_critical_current`, is
the current with P_sw = 0.5 from this formula; the neuron is biased there, and its t_w -> inf
limit is I_c0. Energy per operation (:func:`energy_per_operation`): the write (bias + input
through the AP junction, I^2 R_AP t_w), the read (a divider at golden.energy's sense voltage
and duration, plus its latch) and the reset of a neuron that fired (the P -> AP pulse whose
analytic failure probability is ``reset_error``, through R_P); the CMOS side is golden.energy's
digital neuron update (a 16-bit compare plus the 16-bit state register,
:func:`cmos_neuron_energy`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq

from .devices import step_neuron
from .energy import LATCH_ENERGY, SENSE_DURATION, SENSE_VOLTAGE, CmosConfig, LayerEvents, NetworkEvents, cmos_energy
from .llg import MacrospinParams, critical_spin_current, equilibrium_sample, simulate

__all__ = [
    "SttNeuron", "stt_neuron", "switching_time", "analytic_switching_probability",
    "switching_probability", "energy_per_operation", "read_energy", "cmos_neuron_energy", "resistance_for_ratio",
    "SEED_CMOS_RATIO", "TMR",
]

#: The seed's energy improvement of Ref. 100's STT step neuron over a digital CMOS neuron.
SEED_CMOS_RATIO = 1.63
#: TMR of the CoFeB/MgO junction (Ikeda et al., Nat. Mater. 9, 721 (2010): ~120 % for
#: perpendicular CoFeB/MgO [recalled]; the value golden.dw's calibrated device uses).
TMR = 1.2
#: Lowest u = I / I_c0 at which the analytic law is used.
_U_MIN = 1.05


@dataclass(frozen=True)
class SttNeuron:
    """An AP-initialised STT-MTJ step neuron (seed Ref. 100), SI units.

    Attributes
    ----------
    magnet : MacrospinParams
        Free layer with the STT drive: ``polarization`` +z (the pinned layer), ``spin_efficiency``
        the junction's spin polarisation eta; AP = -z, P = +z; a positive current switches AP -> P.
    write_duration : float
        Write (evaluation) window t_w, s.
    relax : float
        Current-free settling after the window before the state is read, s.
    reset_duration : float
        Reset pulse length, s.
    reset_error : float
        Allowed probability that the reset pulse leaves a fired neuron in P.
    r_p : float
        Parallel resistance, ohm; R_AP = R_P (1 + TMR).
    dt : float
        Integration step for the LLG, s.
    """

    magnet: MacrospinParams
    write_duration: float = 5e-9
    relax: float = 4e-9
    reset_duration: float = 5e-9
    reset_error: float = 1e-3
    r_p: float = 5e3
    dt: float = 1e-12

    def __post_init__(self):
        for name in ("write_duration", "reset_duration", "r_p", "dt"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"SttNeuron.{name} must be > 0, not {v!r}")
        if not (isinstance(self.relax, (int, float)) and self.relax >= 0):
            raise ValueError(f"SttNeuron.relax must be >= 0 s, not {self.relax!r}")
        if not 0 < self.reset_error < 0.5:
            raise ValueError(f"SttNeuron.reset_error must be in (0, 0.5), not {self.reset_error!r}")

    @property
    def r_ap(self) -> float:
        """Antiparallel resistance R_P (1 + TMR), ohm."""
        return self.r_p * (1 + TMR)

    @property
    def critical_current(self) -> float:
        """Zero-temperature critical charge current I_c0 = I_s,c / eta, A (exact here, axisymmetric)."""
        return critical_spin_current(self.magnet) / self.magnet.spin_efficiency

    def window_critical_current(self, duration: float | None = None) -> float:
        """Charge current with analytic P_sw = 0.5 in a window of ``duration`` (default t_w), A.

        The bias of the neuron: at zero synaptic input it switches with probability 0.5.
        """
        t = self.write_duration if duration is None else duration
        return self.current_for_probability(0.5, t)

    def current_for_probability(self, p: float, duration: float) -> float:
        """Charge current (A) whose analytic switching probability in ``duration`` (s) is ``p``."""
        if not 0 < p < 1:
            raise ValueError(f"p must be in (0, 1), not {p!r}")
        ic = self.critical_current

        def f(u):
            return analytic_switching_probability(self.magnet, u * ic, duration) - p

        hi = 2.0
        while f(hi) < 0:
            hi *= 2
            if hi > 1e4:
                raise ValueError(f"no current reaches P_sw = {p} in {duration!r} s")
        # Below u ~ 1.05 the precessional model is outside its range (module docstring).
        if f(_U_MIN) > 0:
            raise ValueError(f"P_sw = {p} needs a current below {_U_MIN} I_c0 in {duration!r} s, outside the "
                             "precessional model (thermal activation dominates): use a shorter window")
        return brentq(f, _U_MIN, hi, xtol=1e-10) * ic

    @property
    def bias_current(self) -> float:
        """The bias: :meth:`window_critical_current` for the write window, A."""
        return self.window_critical_current()

    @property
    def reset_current(self) -> float:
        """Magnitude of the P -> AP reset current that fails with probability ``reset_error``, A.

        The macrospin is symmetric: the same analytic law as the write with P_sw = 1 - reset_error.
        """
        return self.current_for_probability(1 - self.reset_error, self.reset_duration)


def stt_neuron(temperature: float = 300.0, **kw) -> SttNeuron:
    """The STT step neuron on golden.devices.step_neuron's CoFeB/MgO junction.

    The magnet is ``step_neuron(temperature).evaluate_magnet()`` (STT from the pinned layer +z,
    eta = 0.6) and R_P its ``r_mtj`` (5 kohm); TMR :data:`TMR`. Defaults: 5 ns write window
    (bias 44.3 uA = 1.64 I_c0; the write energy I^2 R_AP t_w is 162 / 108 / 105 / 116 fJ for
    2 / 5 / 8 / 12 ns windows, flat from 5 to 8 ns, where the bias nears I_c0 and thermal
    activation enters), 4 ns settling, 5 ns reset at 1e-3 failure. ``kw`` overrides any field.

    Measured (LLG, 3000 trials per point, dt = 1 ps, 300 K): P_sw = 0.14 / 0.30 / 0.51 / 0.68 /
    0.81 at input -20 / -10 / 0 / +10 / +20 % of the bias; the analytic law gives 0.13 / 0.30 /
    0.50 / 0.68 / 0.82. Energy (:func:`energy_per_operation`, fire probability 0.5): write
    108 fJ, read 1.3 fJ, reset 86 uA x 5 ns through R_P 93 fJ, total 202 fJ against the CMOS
    neuron's 103 fJ: 0.51x, i.e. the STT neuron costs 2.0x *more*; the seed's 1.63x better
    needs R_P = 1.53 kohm (:func:`resistance_for_ratio`), RA 1.9 ohm um^2 instead of the
    preset's 6.3.
    """
    dev = step_neuron(temperature)
    base = dict(magnet=dev.evaluate_magnet(), r_p=dev.r_mtj, dt=dev.dt)
    return SttNeuron(**{**base, **kw})


def switching_time(magnet: MacrospinParams, current, theta0) -> np.ndarray:
    """Zero-temperature time (s) for the axisymmetric macrospin to go from theta0 to the equator.

    REFERENCES.md 2.4 with u = I / I_c0 (> 1) and ``1 -+ cos theta0`` written as
    ``2 sin^2(theta0/2)``, ``2 cos^2(theta0/2)`` so that small angles keep their precision.
    Broadcasts over current (A) and theta0 (rad); inf where u <= 1.
    """
    ic = critical_spin_current(magnet) / magnet.spin_efficiency
    u = np.asarray(current, dtype=float) / ic
    th = np.asarray(theta0, dtype=float)
    z0 = np.cos(th)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = magnet.time_unit() * (-np.log(2 * np.sin(th / 2) ** 2) / (2 * (u - 1))
                                  + np.log(2 * np.cos(th / 2) ** 2) / (2 * (u + 1))
                                  + np.log((u - z0) / u) / (u * u - 1))
    return np.where(u > 1, t, np.inf)[()]


def analytic_switching_probability(magnet: MacrospinParams, current: float, duration: float) -> float:
    """P_sw(u, t_w) = exp(-Delta sin^2 theta* / g) of the module docstring (0 for u <= 1).

    ``current`` in A, ``duration`` in s; ``magnet.temperature`` must be > 0.
    """
    if not magnet.temperature > 0:
        raise ValueError("the analytic switching probability needs temperature > 0 K")
    ic = critical_spin_current(magnet) / magnet.spin_efficiency
    u = float(current) / ic
    if u <= 1:
        return 0.0

    def f(th):
        return float(switching_time(magnet, current, th)) - duration

    lo = 1e-12
    if f(lo) <= 0:  # even a magnet on the axis (to 1e-12 rad) switches in time
        return 1.0
    th = brentq(f, lo, math.pi / 2 - 1e-12, xtol=1e-14)
    return math.exp(-magnet.delta * math.sin(th) ** 2 / _noise_gain(u, th))


def _noise_gain(u: float, theta_star: float) -> float:
    """g = 1 + 2 f*^2 int_theta*^(pi/2) d theta / f^3, f = sin theta (u - cos theta) (module docstring).

    Integrated in y = ln theta, where the integrand theta f*^2 / f^3 stays O(1 / (u - 1)).
    """
    def f(x):
        return math.sin(x) * (u - math.cos(x))

    fs = f(theta_star)

    def w(y):
        x = math.exp(y)
        r = fs / f(x)
        return r * r * x / f(x)

    integral = quad(w, math.log(theta_star), math.log(math.pi / 2), limit=200, epsrel=1e-10)[0]
    return 1.0 + 2.0 * integral


def switching_probability(neuron: SttNeuron, input_current, *, bias: float | None = None, trials: int,
                          rng=None, dt: float | None = None):
    """Probability that the biased neuron switches AP -> P, from the stochastic macrospin LLG.

    Each trial starts in the harmonic Boltzmann distribution about AP (-z), gets
    ``bias + input_current`` (A) for the write window and then ``relax`` without current; it
    fired if it ends with m_z > 0. ``bias`` defaults to :attr:`SttNeuron.bias_current`.
    All len(input_current) x trials magnets run together.

    Returns
    -------
    (p, stderr) : arrays shaped like ``input_current``; stderr = sqrt(p (1 - p) / trials).
    """
    if trials < 1:
        raise ValueError(f"trials must be >= 1, not {trials!r}")
    rng = np.random.default_rng(rng)
    dt = neuron.dt if dt is None else dt
    b = neuron.bias_current if bias is None else float(bias)
    cur = np.atleast_1d(np.asarray(input_current, dtype=float))
    m = equilibrium_sample(neuron.magnet, cur.size * trials, rng, sign=-1.0)
    m = simulate(neuron.magnet, m, current=np.repeat(b + cur, trials), dt=dt,
                 steps=int(round(neuron.write_duration / dt)), rng=rng)
    if neuron.relax > 0:
        m = simulate(neuron.magnet, m, current=0.0, dt=dt, steps=int(round(neuron.relax / dt)), rng=rng)
    p = (m[:, 2] > 0).reshape(cur.size, trials).mean(axis=1)
    se = np.sqrt(p * (1 - p) / trials)
    shape = np.shape(input_current)
    return p.reshape(shape), se.reshape(shape)


def cmos_neuron_energy(cfg: CmosConfig | None = None) -> float:
    """One digital step-neuron update of golden.energy's 45 nm baseline, J.

    The ``neuron`` component of :func:`golden.energy.cmos_energy` for one neuron update and
    no spike: a ``state_bits`` compare (Horowitz add) plus the state register write
    (``state_bits x register_energy``); 103 fJ with the defaults. Memory and synaptic
    accumulation are left out (the spintronic neuron's crossbar does that part).
    """
    ev = NetworkEvents([LayerEvents("neuron", inputs=1, neurons=1, fan_in=1, weights=0, input_spikes=0,
                                    synaptic_events=0, neuron_updates=1, output_spikes=0)], timesteps=1)
    return cmos_energy(ev, replace(cfg or CmosConfig(), include_memory=False)).components["neuron"]


def read_energy(r_p: float) -> float:
    """One read of an MTJ neuron's state, J: SENSE_VOLTAGE^2 / (R_AP + sqrt(R_P R_AP)) SENSE_DURATION
    (a divider with a mid-point reference, the worst state; R_AP = R_P (1 + TMR)) plus
    LATCH_ENERGY, golden.energy's sense constants. ``r_p``: parallel resistance, ohm."""
    r_ap = r_p * (1 + TMR)
    return SENSE_VOLTAGE ** 2 / (r_ap + math.sqrt(r_p * r_ap)) * SENSE_DURATION + LATCH_ENERGY


def energy_per_operation(neuron: SttNeuron, *, input_current: float = 0.0, fire_probability: float = 0.5) -> dict:
    """Energy of one write + read (+ reset if fired) of the STT neuron, J, with its parts.

    * ``write``: (bias + input)^2 R_AP t_w (the junction is AP until it switches: an upper
      bound, R_P would give a lower one, ``write_lower``);
    * ``read``: SENSE_VOLTAGE^2 / (R_AP + sqrt(R_P R_AP)) SENSE_DURATION (a divider with a
      mid-point reference, worst state) plus LATCH_ENERGY, golden.energy's sense constants;
    * ``reset``: fire_probability x I_reset^2 R_P t_reset.

    Also ``cmos`` (:func:`cmos_neuron_energy`) and ``cmos_ratio`` = cmos / total (> 1: the
    STT neuron uses less).
    """
    if not 0 <= fire_probability <= 1:
        raise ValueError(f"fire_probability must be in [0, 1], not {fire_probability!r}")
    i_w = neuron.bias_current + float(input_current)
    write = i_w ** 2 * neuron.r_ap * neuron.write_duration
    read = read_energy(neuron.r_p)
    i_r = neuron.reset_current
    reset = fire_probability * i_r ** 2 * neuron.r_p * neuron.reset_duration
    total = write + read + reset
    cmos = cmos_neuron_energy()
    return {"write": write, "write_lower": i_w ** 2 * neuron.r_p * neuron.write_duration, "read": read,
            "reset": reset, "total": total, "bias_current": neuron.bias_current, "reset_current": i_r,
            "critical_current": neuron.critical_current, "cmos": cmos, "cmos_ratio": cmos / total}


def resistance_for_ratio(neuron: SttNeuron, target: float = SEED_CMOS_RATIO, *, fire_probability: float = 0.5) -> float:
    """R_P (ohm) at which :func:`energy_per_operation`'s ``cmos_ratio`` equals ``target``.

    Write and reset scale as R (the currents are set by the magnet, not the junction), the read
    as 1 / R (plus the latch); the ratio falls monotonically with R on [R_P / 10, 10 R_P] (its
    maximum, where the read starts to dominate, lies near R_P / 15), where it is solved.
    5 kohm -> 1.53 kohm for 1.63x (RA 1.9 ohm um^2 over the 40 nm disk).
    Raises ValueError if ``target`` is not reached there.
    """
    def gap(r):
        return energy_per_operation(replace(neuron, r_p=r), fire_probability=fire_probability)["cmos_ratio"] - target

    lo, hi = neuron.r_p / 10, neuron.r_p * 10
    if not gap(lo) > 0 > gap(hi):
        raise ValueError(f"cmos_ratio {target!r} is not reached for R_P in [{lo:.3g}, {hi:.3g}] ohm")
    return brentq(gap, lo, hi, rtol=1e-10)
