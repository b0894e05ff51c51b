"""Neuron models for the seed's networks: IF/LIF, the domain-wall IF neuron, the stochastic MTJ
neuron, the step neuron, homeostasis and lateral inhibition.

All models hold vectorised state (any array shape, e.g. (n,) or (B, n)) and advance by an
explicit time step ``dt``; ``step(current)`` consumes one step of input and returns a bool
spike array of the state's shape. Units are stated per class: the abstract IF/LIF neurons
work in any consistent units (the defaults C = R = dt = 1 make the input "threshold units per
step"); the device neurons take the heavy-metal write current in A and dt in s.

Seed references: eq. 8 (LIF), section III.1 (IF as rate-coded ReLU, homeostasis), section
IV.1 (DW IF neuron, stochastic MTJ neuron, step neuron), section III.4 (lateral inhibition);
REFERENCES.md section 4 for the device operating points.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = [
    "as_shape",
    "IFNeuron",
    "LIFNeuron",
    "DwIfNeuron",
    "StochasticMtjNeuron",
    "StepMtjNeuron",
    "Homeostasis",
    "SwitchingFit",
    "fit_sigmoid",
    "fit_switching_curve",
    "sigmoid",
    "lif_rate",
    "lateral_inhibition",
    "winner_take_all",
    "I50_FIT",
    "WIDTH_FIT",
    "I50_SE",
    "WIDTH_SE",
    "I50_LOG_FIT",
    "WIDTH_LOG_FIT",
    "I50_LOG_SE",
    "WIDTH_LOG_SE",
]


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def as_shape(shape) -> tuple:
    """``shape`` (an int or a sequence of them, each >= 0) as a tuple of ints; ValueError otherwise."""
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    if not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 0 for k in shape):
        raise ValueError(f"shape must be a non-negative int or a tuple of them, not {shape!r}")
    return tuple(int(k) for k in shape)


def _num(cls: str, name: str, value, bound: str, unit: str = "", *, allow_inf: bool = False) -> float:
    """``float(value)`` if it is a number meeting ``bound`` ("> 0", ">= 0" or "finite"), else a
    ValueError naming ``cls.name``, the bound and the value. Infinity only with ``allow_inf``."""
    v = float(value)
    ok = {"> 0": v > 0, ">= 0": v >= 0, "finite": True}[bound]
    if math.isnan(v) or not ok or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{cls}.{name} must be {bound}{(' ' + unit) if unit else ''}, not {value!r}")
    return v


def sigmoid(x):
    """Logistic function 1 / (1 + exp(-x)), numerically safe for large |x|."""
    x = np.asarray(x, dtype=np.float64)
    return (0.5 * (1.0 + np.tanh(0.5 * x)))[()]


# Homeostasis ---------------------------------------------------------------------------------------
class Homeostasis:
    """Adaptive threshold (seed section III.1; Diehl & Cook 2015).

    Each spike raises the neuron's threshold offset theta by ``theta_plus``; between spikes
    theta decays to 0 with time constant ``tau_theta``: per step
    ``theta <- theta exp(-dt / tau_theta) + theta_plus * spikes``.

    Parameters
    ----------
    shape : int or tuple
        State shape.
    theta_plus : float
        Increment per spike (threshold units, >= 0).
    tau_theta : float
        Decay time constant (units of dt, > 0; ``inf`` for no decay).
    dt : float
        Time step (> 0).
    """

    def __init__(self, shape, *, theta_plus: float, tau_theta: float, dt: float = 1.0):
        c = "Homeostasis"
        self.theta_plus = _num(c, "theta_plus", theta_plus, ">= 0")
        self.tau_theta = _num(c, "tau_theta", tau_theta, "> 0", allow_inf=True)
        self.dt = _num(c, "dt", dt, "> 0")
        self.decay = math.exp(-self.dt / self.tau_theta)
        self.theta = np.zeros(as_shape(shape))

    def update(self, spikes) -> np.ndarray:
        """Advance one step with this step's spikes (bool, the state's shape); returns theta."""
        self.theta = self.theta * self.decay + self.theta_plus * np.asarray(spikes, dtype=np.float64)
        return self.theta


# IF / LIF --------------------------------------------------------------------------------------------
class _MembraneNeuron:
    """Common threshold / reset / refractory / homeostasis logic of IF and LIF."""

    _name = "neuron"

    def __init__(self, shape, *, threshold, reset, v_reset, t_ref, dt, theta_plus, tau_theta):
        c = self._name
        self.shape = as_shape(shape)
        self.threshold = _num(c, "threshold", threshold, "> 0")
        if reset not in ("zero", "subtract"):
            raise ValueError(f"{c}.reset must be 'zero' or 'subtract', not {reset!r}")
        self.reset_mode = reset
        self.v_reset = _num(c, "v_reset", v_reset, "finite")
        self.dt = _num(c, "dt", dt, "> 0")
        self.t_ref = _num(c, "t_ref", t_ref, ">= 0")
        # Refractory steps: the period rounded to whole steps (t_ref = k dt exactly -> k).
        self.ref_steps = int(round(self.t_ref / self.dt))
        self.homeostasis = (Homeostasis(self.shape, theta_plus=theta_plus, tau_theta=tau_theta, dt=self.dt)
                            if theta_plus else None)
        self.reset_state()

    def reset_state(self, shape=None) -> None:
        """Zero the state (v = v_reset, no refractory, theta = 0), optionally with a new shape."""
        if shape is not None:
            self.shape = as_shape(shape)
        self.v = np.full(self.shape, self.v_reset)
        self.v_pre = self.v.copy()
        self.refractory = np.zeros(self.shape, dtype=np.int64)
        if self.homeostasis is not None:
            self.homeostasis.theta = np.zeros(self.shape)

    @property
    def theta(self) -> np.ndarray:
        """Homeostatic threshold offset (zeros without homeostasis)."""
        return self.homeostasis.theta if self.homeostasis is not None else np.zeros(self.shape)

    def _integrate(self, v, current):
        raise NotImplementedError

    def step(self, current) -> np.ndarray:
        """Advance one step of length dt with input ``current`` (broadcast to the state shape).

        A neuron spikes when its potential reaches ``threshold + theta``; it is then reset (to
        ``v_reset``, or by subtracting that threshold) and holds its potential, ignoring
        input, for ``round(t_ref / dt)`` steps (seed, after eq. 8). ``v_pre`` keeps the
        potential before the reset (for :func:`winner_take_all`). Returns the spikes (bool).
        """
        current = np.broadcast_to(np.asarray(current, dtype=np.float64), self.shape)
        active = self.refractory == 0
        v = np.where(active, self._integrate(self.v, current), self.v)
        thr = self.threshold + self.theta
        spikes = active & (v >= thr)
        self.v_pre = v
        if self.reset_mode == "zero":
            v = np.where(spikes, self.v_reset, v)
        else:
            v = np.where(spikes, v - thr, v)
        self.v = v
        self.refractory = np.where(spikes, self.ref_steps, np.maximum(self.refractory - 1, 0))
        if self.homeostasis is not None:
            self.homeostasis.update(spikes)
        return spikes

    def suppress(self, mask) -> None:
        """Hard lateral inhibition: reset the potential of the neurons in ``mask`` to v_reset."""
        self.v = np.where(np.asarray(mask, dtype=bool), self.v_reset, self.v)

    def run(self, currents) -> np.ndarray:
        """Step through ``currents`` of shape (T,) + broadcastable state shape; spikes (T,) + shape."""
        return np.stack([self.step(c) for c in np.asarray(currents, dtype=np.float64)])


class IFNeuron(_MembraneNeuron):
    """Integrate-and-fire neuron: eq. 8 without the leak, ``C dv/dt = I``.

    Per step ``v <- v + I dt / C``. With the defaults (C = dt = 1, threshold 1, reset by
    subtraction, no refractory period) the input is in threshold units per step and the
    firing rate is ReLU(I) / threshold spikes per step, clipped at 1 (seed section III.1:
    the IF neuron as a rate approximation of ReLU in converted networks).

    Parameters
    ----------
    shape : int or tuple
        State shape, e.g. (n,) or (B, n).
    threshold : float
        Firing threshold (units of v, > 0).
    reset : {"subtract", "zero"}
        Reset by subtracting the threshold (keeps the residue; the usual choice for
        conversion) or to ``v_reset``.
    v_reset : float
        Reset and initial potential.
    t_ref : float
        Refractory period (units of dt, >= 0).
    dt, capacitance : float
        Time step and membrane capacitance C (> 0).
    theta_plus, tau_theta : float
        Homeostasis (:class:`Homeostasis`); theta_plus = 0 disables it.
    """

    _name = "IFNeuron"

    def __init__(self, shape, *, threshold: float = 1.0, reset: str = "subtract", v_reset: float = 0.0,
                 t_ref: float = 0.0, dt: float = 1.0, capacitance: float = 1.0,
                 theta_plus: float = 0.0, tau_theta: float = math.inf):
        self.capacitance = _num(self._name, "capacitance", capacitance, "> 0")
        super().__init__(shape, threshold=threshold, reset=reset, v_reset=v_reset, t_ref=t_ref, dt=dt,
                         theta_plus=theta_plus, tau_theta=tau_theta)

    def _integrate(self, v, current):
        return v + current * (self.dt / self.capacitance)


class LIFNeuron(_MembraneNeuron):
    """Leaky integrate-and-fire neuron, seed eq. 8: ``tau dv/dt = -(v - v_rest) + R I``.

    (eq. 8 with tau = R_mem C_mem.) The input is held constant over a step and the step is
    integrated exactly: ``v <- v_inf + (v - v_inf) exp(-dt/tau)``, v_inf = v_rest + R I, so
    the only discretisation error is that spikes are detected at step ends (see
    :func:`lif_rate`).

    Parameters
    ----------
    shape : int or tuple
        State shape.
    tau : float
        Membrane time constant, s (> 0).
    r : float
        Membrane resistance, ohm (v in V for I in A); 1 for abstract units.
    v_rest : float
        Resting potential.
    threshold, reset, v_reset, t_ref, theta_plus, tau_theta
        As in :class:`IFNeuron` (reset default "zero", v_reset default v_rest; times in s).
    dt : float
        Time step, s.
    """

    _name = "LIFNeuron"

    def __init__(self, shape, *, tau: float, dt: float, r: float = 1.0, v_rest: float = 0.0,
                 threshold: float = 1.0, reset: str = "zero", v_reset: float | None = None,
                 t_ref: float = 0.0, theta_plus: float = 0.0, tau_theta: float = math.inf):
        self.tau = _num(self._name, "tau", tau, "> 0", "s")
        self.r = _num(self._name, "r", r, "> 0", "ohm")
        self.v_rest = _num(self._name, "v_rest", v_rest, "finite")
        super().__init__(shape, threshold=threshold, reset=reset,
                         v_reset=self.v_rest if v_reset is None else v_reset, t_ref=t_ref, dt=dt,
                         theta_plus=theta_plus, tau_theta=tau_theta)
        self._decay = math.exp(-self.dt / self.tau)

    def _integrate(self, v, current):
        v_inf = self.v_rest + self.r * current
        return v_inf + (v - v_inf) * self._decay


def lif_rate(current, *, tau: float, r: float = 1.0, threshold: float = 1.0, t_ref: float = 0.0):
    """Analytic LIF firing rate for a constant input, reset to v_rest = 0 (spikes per unit time).

    ``1 / (t_ref + tau ln(R I / (R I - v_th)))`` for R I > v_th, else 0. A simulation with
    step dt detects the crossing at the next step end, so its inter-spike interval lies in
    ``[t_ref + t_c, t_ref + t_c + dt]`` with t_c = tau ln(R I / (R I - v_th)) (t_ref a
    multiple of dt).
    """
    ri = r * np.asarray(current, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_c = tau * np.log(ri / (ri - threshold))
        rate = np.where(ri > threshold, 1.0 / (t_ref + t_c), 0.0)
    return rate[()]


# Domain-wall IF neuron -------------------------------------------------------------------------------
class DwIfNeuron:
    """Domain-wall integrate-and-fire neuron (seed section IV.1, "Spiking Neurons", Fig. 6).

    The wall position x in [0, L] (m) is the membrane potential. Each time step is one write
    pulse of length ``dt`` (s): the input current I (A, through the heavy metal) moves the
    wall by ``v(I) dt`` with the device's steady velocity (:meth:`DomainWallDevice.velocity`,
    linear in I below saturation; negative currents move it back, the edges pin it). The
    neuron fires in the step in which the wall reaches the far edge x = L (the read MTJ sits
    there) and is reset to x = 0 (the seed's reverse reset current, idealised). The leak is a
    reverse current ``leak_current`` (A) for ``leak_duration`` (s, default dt) applied to the
    neurons that did not fire (seed: "passing a current through the HM in the opposite
    direction at every time-step").

    Parameters
    ----------
    shape : int or tuple
        State shape.
    device : golden.dw.DomainWallDevice, optional
        Default :func:`golden.devices.dw_neuron` (80 nm in 2 ns at 10.6 uA).
    dt : float
        Write-pulse length per time step, s (default 2 ns, the seed's write cycle).
    leak_current : float
        Magnitude of the leak current, A (>= 0).
    leak_duration : float, optional
        Length of the leak pulse, s.

    Attributes
    ----------
    x : ndarray
        Wall positions, m.
    """

    def __init__(self, shape, *, device=None, dt: float = 2e-9, leak_current: float = 0.0,
                 leak_duration: float | None = None):
        if device is None:
            from .devices import dw_neuron

            device = dw_neuron()
        c = "DwIfNeuron"
        self.device = device
        self.dt = _num(c, "dt", dt, "> 0", "s")
        self.leak_current = _num(c, "leak_current", leak_current, ">= 0", "A")
        self.leak_duration = self.dt if leak_duration is None else _num(c, "leak_duration", leak_duration, ">= 0", "s")
        self.leak_step = abs(float(device.displacement(self.leak_current, self.leak_duration)))
        self.shape = as_shape(shape)
        self.reset_state()

    def reset_state(self, shape=None) -> None:
        """Walls to x = 0, optionally with a new shape."""
        if shape is not None:
            self.shape = as_shape(shape)
        self.x = np.zeros(self.shape)

    def step(self, current) -> np.ndarray:
        """One write pulse of ``current`` (A, broadcast to the state shape); returns spikes."""
        current = np.broadcast_to(np.asarray(current, dtype=np.float64), self.shape)
        length = self.device.length
        x = self.x + self.device.displacement(current, self.dt)
        spikes = x >= length
        x = np.where(spikes, 0.0, np.clip(x - self.leak_step, 0.0, length))
        self.x = x
        return spikes

    def run(self, currents) -> np.ndarray:
        """Step through ``currents`` (T,) + shape; spikes (T,) + shape."""
        return np.stack([self.step(c) for c in np.asarray(currents, dtype=np.float64)])


# Stochastic MTJ neuron -------------------------------------------------------------------------------
#: Fits of the golden macrospin model of golden.devices.mtj_neuron() (0.5 ns write, 300 K),
#: regenerated by ``python -m spintwin.experiments fit-mtj-neuron`` (fit_switching_curve() with its defaults: 9
#: currents 40-120 uA, 2000 trials each, rng 20240611; about 3 minutes on two cores).
#:
#: Linear form P = sigmoid((I - I50) / w), the seed's sigmoid neuron: I50 (A), w (A) and their
#: standard errors. The golden curve is skewed (a long tail towards high current) and this form
#: misses it by up to 0.07 (at 70 uA; chi2/dof = 26): the SEs are statistical only.
I50_FIT: float = 7.4602e-05
WIDTH_FIT: float = 1.1838e-05
I50_SE: float = 2.5e-07
WIDTH_SE: float = 1.6e-07
#: Log form P = sigmoid(ln(I / I50) / w) (w dimensionless; P = 0 for I <= 0), which follows
#: the golden curve within 0.023 (chi2/dof = 1.7) over the same currents. Measured golden
#: P: 0.0245, 0.101, 0.240, 0.476, 0.647, 0.781, 0.877, 0.912, 0.958 at 40, 50, ..., 120 uA
#: (SE <= 0.011); linear fit 0.051, 0.111, 0.226, 0.404, 0.612, 0.786, 0.895, 0.952, 0.979.
I50_LOG_FIT: float = 7.2272e-05
WIDTH_LOG_FIT: float = 0.16761
I50_LOG_SE: float = 2.5e-07
WIDTH_LOG_SE: float = 0.0023

_FORMS = ("linear", "log")


def _sigmoid_model(form: str):
    if form not in _FORMS:
        raise ValueError(f"form must be 'linear' or 'log', not {form!r}")
    if form == "linear":
        return lambda i, i50, w: sigmoid((np.asarray(i, dtype=np.float64) - i50) / w)

    def log_model(i, i50, w):
        i = np.asarray(i, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(i > 0, np.log(np.where(i > 0, i, 1.0) / i50) / w, -np.inf)
        return sigmoid(z)

    return log_model


class SwitchingFit(NamedTuple):
    """A sigmoid fit of a switching curve (currents in A; width in A, or dimensionless for
    the log form) and the data it was fitted to."""

    form: str
    i50: float
    width: float
    i50_se: float
    width_se: float
    currents: np.ndarray
    probability: np.ndarray
    stderr: np.ndarray
    trials: int
    chi2: float

    def __call__(self, current):
        """The fitted probability at ``current`` (A)."""
        return _sigmoid_model(self.form)(current, self.i50, self.width)


def fit_sigmoid(currents, probability, trials: int, *, form: str = "linear") -> SwitchingFit:
    """Weighted least-squares sigmoid fit to Monte-Carlo switching probabilities.

    :func:`scipy.optimize.curve_fit` with absolute sigma; each point's sigma is the binomial
    standard error with the Agresti-Coull estimate p~ = (k + 1)/(N + 2), so points at 0 or 1
    keep a finite weight. Parameter standard errors from the covariance matrix (statistical
    only: they do not include the model's misfit, which ``chi2`` measures; a good fit has
    chi2 ~ C - 2).

    Parameters
    ----------
    currents : array, shape (C,)
        Currents, A (> 0 for the log form).
    probability : array, shape (C,)
        Switched fractions.
    trials : int
        Trials per current.
    form : {"linear", "log"}
        sigmoid((I - I50)/w) or sigmoid(ln(I/I50)/w).
    """
    from scipy.optimize import curve_fit

    currents = np.asarray(currents, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    if currents.ndim != 1 or currents.size < 3 or p.shape != currents.shape:
        raise ValueError(f"currents must be 1-D with at least 3 values and match probability, "
                         f"not shapes {currents.shape} and {p.shape}")
    model = _sigmoid_model(form)
    p_ac = (p * trials + 1) / (trials + 2)
    sigma = np.sqrt(p_ac * (1 - p_ac) / trials)
    scale = 1e-6  # fit in uA so that both parameters are O(1-100)
    i0 = currents[np.argmin(np.abs(p - 0.5))] / scale
    w0 = 10.0 if form == "linear" else 0.2
    popt, pcov = curve_fit(lambda i, a, w: model(i, a, w), currents / scale, p, p0=(i0, w0),
                           sigma=sigma, absolute_sigma=True)
    perr = np.sqrt(np.diag(pcov))
    chi2 = float(np.sum(((p - model(currents / scale, *popt)) / sigma) ** 2))
    wscale = scale if form == "linear" else 1.0
    return SwitchingFit(form, popt[0] * scale, popt[1] * wscale, perr[0] * scale, perr[1] * wscale,
                        currents, p, np.sqrt(p * (1 - p) / trials), int(trials), chi2)


def fit_switching_curve(neuron=None, currents=None, *, trials: int = 2000, rng=20240611,
                        dt: float | None = None, form: str = "linear") -> SwitchingFit:
    """Fit a sigmoid to the golden switching probability of the stochastic MTJ neuron.

    Runs :func:`golden.llg.switching_probability` (thermal-equilibrium start, the neuron's
    write pulse, relaxation) at each current, then :func:`fit_sigmoid`. The other form can be
    fitted to the same data with ``fit_sigmoid(fit.currents, fit.probability, fit.trials,
    form=...)``.

    Parameters
    ----------
    neuron : golden.devices.MtjNeuron, optional
        Default :func:`golden.devices.mtj_neuron` (0.5 ns write).
    currents : array of shape (C,), optional
        Heavy-metal currents, A; default 9 from 40 to 120 uA (P ~ 0.02-0.96).
    trials : int
        Monte-Carlo trials per current.
    rng : int or Generator
    dt : float, optional
        Integration step, s (default the neuron's).
    form : {"linear", "log"}
    """
    from .devices import mtj_neuron
    from .llg import switching_probability

    neuron = mtj_neuron() if neuron is None else neuron
    currents = np.linspace(40e-6, 120e-6, 9) if currents is None else np.asarray(currents, dtype=np.float64)
    _sigmoid_model(form)
    p, _ = switching_probability(neuron.magnet, currents, neuron.write_duration, trials=trials,
                                 dt=neuron.dt if dt is None else dt, rng=_rng(rng))
    return fit_sigmoid(currents, p, trials, form=form)


class StochasticMtjNeuron:
    """Stochastic MTJ "spiking" neuron (seed section IV.1; Ref. 110): fires with probability
    ``sigmoid((I - I50) / w)`` in each time step (one 0.5 ns write of HM current I, A).

    After a spike the magnet is reset, so steps are independent. The defaults are the fit
    :data:`I50_FIT`, :data:`WIDTH_FIT` of the golden macrospin model
    (:func:`fit_switching_curve`); ``form="log"`` uses ``sigmoid(ln(I / I50) / w)`` with
    :data:`I50_LOG_FIT`, :data:`WIDTH_LOG_FIT`, which follows the device more closely.

    Parameters
    ----------
    shape : int or tuple
        State shape.
    i50, width : float, optional
        Half-switching current (A) and sigmoid width (A; dimensionless for the log form).
    form : {"linear", "log"}
    rng : int or Generator
    """

    def __init__(self, shape, *, i50: float | None = None, width: float | None = None,
                 form: str = "linear", rng=None):
        self._model = _sigmoid_model(form)
        self.form = form
        d_i50, d_w = (I50_FIT, WIDTH_FIT) if form == "linear" else (I50_LOG_FIT, WIDTH_LOG_FIT)
        self.shape = as_shape(shape)
        self.i50 = _num("StochasticMtjNeuron", "i50", d_i50 if i50 is None else i50,
                        "finite" if form == "linear" else "> 0", "A")
        self.width = _num("StochasticMtjNeuron", "width", d_w if width is None else width, "> 0")
        self.rng = _rng(rng)

    def probability(self, current):
        """Spike probability per step for HM current ``current`` (A), any shape."""
        return self._model(current, self.i50, self.width)

    def current_for_probability(self, p):
        """Inverse of :meth:`probability` for p in (0, 1), A."""
        p = np.asarray(p, dtype=np.float64)
        if np.any((p <= 0) | (p >= 1)):
            raise ValueError(f"p must be in (0, 1), not min {p.min()!r}, max {p.max()!r}")
        logit = np.log(p / (1 - p))
        if self.form == "linear":
            return (self.i50 + self.width * logit)[()]
        return (self.i50 * np.exp(self.width * logit))[()]

    def step(self, current) -> np.ndarray:
        """One write cycle; spikes (bool, state shape)."""
        p = np.broadcast_to(self.probability(current), self.shape)
        return self.rng.random(self.shape) < p

    def run(self, currents) -> np.ndarray:
        """Step through ``currents`` (T,) + shape; spikes (T,) + shape."""
        return np.stack([self.step(c) for c in np.asarray(currents, dtype=np.float64)])


class StepMtjNeuron:
    """Preset/evaluate step neuron (seed section IV.1, Ref. 101) as a deterministic sign.

    The golden device (:func:`golden.devices.step_neuron`) ends in +z for an evaluation current
    above about +20 uA and in -z below -20 uA in every trial (tests/test_devices.py); closer
    to 0 it is stochastic. This wrapper is the perceptron abstraction: the output is
    ``I > threshold`` (A).
    """

    def __init__(self, shape, *, threshold: float = 0.0):
        self.shape = as_shape(shape)
        self.threshold = _num("StepMtjNeuron", "threshold", threshold, "finite", "A")

    def step(self, current) -> np.ndarray:
        """Output for evaluation current ``current`` (A): True for +z."""
        return np.broadcast_to(np.asarray(current, dtype=np.float64) > self.threshold, self.shape).copy()

    def sign(self, current) -> np.ndarray:
        """+1 / -1 output (int8)."""
        return np.where(self.step(current), 1, -1).astype(np.int8)


# Lateral inhibition --------------------------------------------------------------------------------
def lateral_inhibition(spikes, strength: float) -> np.ndarray:
    """Soft lateral inhibition current: each spike inhibits every *other* neuron of its layer.

    ``I_j = -strength * (sum_k s_k - s_j)`` over the last axis (the layer); feed it to the
    neurons in the next step (seed section III.4: an extra crossbar row driven by a negative
    voltage whenever a neuron of the layer spikes). Shape like ``spikes``.
    """
    s = np.asarray(spikes, dtype=np.float64)
    strength = _num("lateral_inhibition", "strength", strength, ">= 0")
    return -strength * (s.sum(axis=-1, keepdims=True) - s)


def winner_take_all(spikes, potential, *, rng=None) -> np.ndarray:
    """Hard winner-take-all: of the neurons spiking this step keep only the one with the largest
    ``potential`` (e.g. :attr:`LIFNeuron.v_pre` minus the threshold), per row of the last axis.

    Ties go to the lowest index, or to a uniformly random one of the tied neurons if ``rng`` is
    given. Returns a bool mask shaped like ``spikes`` with at most one True per layer; use
    ``suppress(~mask)`` on the neurons to reset the losers.
    """
    s = np.asarray(spikes, dtype=bool)
    pot = np.broadcast_to(np.asarray(potential, dtype=np.float64), s.shape)
    score = np.where(s, pot, -np.inf)
    if rng is not None:
        # Random tie-break: among maxima pick by a random key.
        best = score.max(axis=-1, keepdims=True)
        tied = s & (score == best)
        key = np.where(tied, _rng(rng).random(s.shape), -1.0)
        win = np.argmax(key, axis=-1)
    else:
        win = np.argmax(score, axis=-1)
    mask = np.zeros(s.shape, dtype=bool)
    np.put_along_axis(mask, win[..., None], True, axis=-1)
    return mask & s.any(axis=-1, keepdims=True)
