"""Spike-timing-dependent plasticity on spintronic synapses (seed eq. 9, sections III.2-3, IV.2-3, V.2).

Float64, SI units (times in s, currents in A, positions in m, conductances in S).

* :func:`window` is the seed's eq. 9 with ``dt = t_post - t_pre``: potentiation ``A+ exp(-dt/tau+)``
  for dt > 0 (pre before post), depression ``-A- exp(dt/tau-)`` for dt < 0. The seed defines
  the two strict inequalities only; dt = 0 gives 0 here.
* :class:`DwStdp`: deterministic multi-level STDP on domain-wall synapses (seed Fig. 7): the
  programming current is proportional to the window value, the wall moves by the device model
  for the POST pulse, the conductance follows eq. 11 (clipped at the track ends, quantised).
* :class:`ProbabilisticStdp`: single-bit MTJ synapses (seed Fig. 8, Ref. 7): switching
  probability ``p_max exp(-|dt|/tau)`` towards P (causal) or AP (acausal), p_max <= 0.1.
* :class:`StdpTraces`: the online (trace) form of both rules for network simulations.
* :class:`VolatileSynapseArray`: behavioural STP/LTP synapse calibrated to
  :func:`golden.devices.ltp_probability`; :class:`LtStArray`: long-term / short-term arrays.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import NamedTuple

import numpy as np

__all__ = [
    "window",
    "window_integral",
    "DwStdp",
    "ProbabilisticStdp",
    "StdpTraces",
    "VolatileSynapseArray",
    "VolatileFit",
    "calibrate_volatile",
    "train_ltp_probability",
    "LtStArray",
    "VOLATILE_U50",
    "VOLATILE_WIDTH",
    "VOLATILE_TAU",
    "VOLATILE_U50_SE",
    "VOLATILE_WIDTH_SE",
    "VOLATILE_TAU_SE",
    "VOLATILE_TRAINS",
]


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _num(cls: str, name: str, value, bound: str, unit: str = "", *, allow_inf: bool = False) -> float:
    """``float(value)`` if it meets ``bound`` ("> 0", ">= 0", "finite"), else a ValueError naming
    ``cls.name``, the bound and the value. Infinity only with ``allow_inf``."""
    v = float(value)
    ok = {"> 0": v > 0, ">= 0": v >= 0, "finite": True}[bound]
    if math.isnan(v) or not ok or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{cls}.{name} must be {bound}{(' ' + unit) if unit else ''}, not {value!r}")
    return v


# Eq. 9 --------------------------------------------------------------------------------------------
def window(dt, a_plus: float, a_minus: float, tau_plus: float, tau_minus: float):
    """The seed's STDP window, eq. 9: weight change for one spike pair.

    Parameters
    ----------
    dt : float or ndarray
        ``t_post - t_pre``, s (any shape).
    a_plus, a_minus : float
        Amplitudes (>= 0) of potentiation (dt > 0) and depression (dt < 0).
    tau_plus, tau_minus : float
        Time constants, s (> 0).

    Returns
    -------
    float or ndarray
        ``a_plus exp(-dt/tau_plus)`` for dt > 0, ``-a_minus exp(dt/tau_minus)`` for dt < 0,
        0 at dt = 0; shaped like dt.
    """
    a_plus = _num("window", "a_plus", a_plus, ">= 0")
    a_minus = _num("window", "a_minus", a_minus, ">= 0")
    tau_plus = _num("window", "tau_plus", tau_plus, "> 0", "s")
    tau_minus = _num("window", "tau_minus", tau_minus, "> 0", "s")
    dt = np.asarray(dt, dtype=np.float64)
    with np.errstate(over="ignore"):
        pot = a_plus * np.exp(-np.abs(dt) / tau_plus)
        dep = -a_minus * np.exp(-np.abs(dt) / tau_minus)
    return np.where(dt > 0, pot, np.where(dt < 0, dep, 0.0))[()]


def window_integral(a_plus: float, a_minus: float, tau_plus: float, tau_minus: float) -> float:
    """Integral of eq. 9 over all dt: ``a_plus tau_plus - a_minus tau_minus`` (s x amplitude)."""
    return a_plus * tau_plus - a_minus * tau_minus


# Deterministic multi-level STDP on DW synapses -------------------------------------------------
class DwStdp:
    """Deterministic multi-level STDP on domain-wall synapses (seed section IV.2, Fig. 7).

    When the post-neuron fires, the POST signal opens the write path for ``pulse`` seconds and
    the M_STDP transistor supplies a heavy-metal current proportional to the window value,
    ``I = i_unit * window(dt)`` (the seed's subthreshold transistor gives the exponential;
    the STDP time constants are much longer than the pulse, so I is constant during it). The
    wall moves by the device model, ``x <- clip(x + v(I) pulse, 0, L)``
    (:meth:`DomainWallDevice.advance`, linear in I below saturation: dG ~ dx ~ J), and is then
    snapped to the nearest of the device's ``levels`` positions (``quantize=True``; updates
    under half a level are lost, as in a notched track). Conductance by eq. 11.

    Parameters
    ----------
    device : golden.dw.DomainWallDevice, optional
        Default :func:`golden.devices.dw_synapse` (16 levels).
    a_plus, a_minus : float
        Window amplitudes in level steps (>= 0): with the default ``i_unit`` a window value of
        1 moves the wall by one level spacing L/(levels - 1).
    tau_plus, tau_minus : float
        Window time constants, s (the seed's Ref. 5: ~ us).
    pulse : float
        POST (programming) pulse length, s (default 1 ns, as in the seed's Ref. 5).
    i_unit : float, optional
        Programming current per unit window value, A; default the current that moves the
        wall one level spacing in ``pulse`` (exact inversion of the velocity formula).
    quantize : bool
        Snap the wall to the programmable levels after each update.
    """

    def __init__(self, device=None, *, a_plus: float = 1.0, a_minus: float = 1.0, tau_plus: float,
                 tau_minus: float, pulse: float = 1e-9, i_unit: float | None = None, quantize: bool = True):
        if device is None:
            from .devices import dw_synapse

            device = dw_synapse()
        c = "DwStdp"
        self.device = device
        self.a_plus = _num(c, "a_plus", a_plus, ">= 0")
        self.a_minus = _num(c, "a_minus", a_minus, ">= 0")
        self.tau_plus = _num(c, "tau_plus", tau_plus, "> 0", "s")
        self.tau_minus = _num(c, "tau_minus", tau_minus, "> 0", "s")
        self.pulse = _num(c, "pulse", pulse, "> 0", "s")
        if i_unit is None:
            step = device.length / (device.levels - 1)
            i_unit = abs(replace(device, length=step).traverse_current(self.pulse))
        self.i_unit = _num(c, "i_unit", i_unit, "> 0", "A")
        self.quantize = bool(quantize)

    def window(self, dt):
        """Eq. 9 with this rule's parameters (level steps), dt = t_post - t_pre in s."""
        return window(dt, self.a_plus, self.a_minus, self.tau_plus, self.tau_minus)

    def current(self, dw):
        """Programming current for window value(s) ``dw``, A (signed: < 0 depresses)."""
        return self.i_unit * np.asarray(dw, dtype=np.float64)

    def apply(self, x, dw):
        """Move walls at ``x`` (m) by the programming pulse for window values ``dw`` (broadcast).

        Pairs with dw = 0 are not programmed (no pulse). Returns the new positions, m.
        """
        x = np.asarray(x, dtype=np.float64)
        dw = np.asarray(dw, dtype=np.float64)
        x_new = self.device.advance(x, self.current(dw), self.pulse)
        if self.quantize:
            x_new = self.device.quantize_position(x_new)
        return np.where(dw != 0, x_new, x)[()]

    def update(self, x, dt):
        """Pair-based update: ``apply(x, window(dt))`` with dt = t_post - t_pre (s)."""
        return self.apply(x, self.window(dt))

    def conductance(self, x):
        """Eq. 11 read conductance at wall positions x (m), S."""
        return self.device.conductance(x)

    def energy(self, dw):
        """Heavy-metal Joule energy of the programming pulses, I^2 R_HM pulse, J (shaped like dw)."""
        return self.device.write_energy(self.current(dw), self.pulse)


# Probabilistic STDP on binary MTJ synapses ------------------------------------------------------
class ProbabilisticStdp:
    """Single-bit probabilistic STDP on mono-domain MTJ synapses (seed section III.2, IV.2, Fig. 8).

    For a pair with dt = t_post - t_pre the synapse switches with probability
    ``p_max exp(-|dt| / tau)``: to P (state True, high conductance) for dt > 0, to AP (False)
    for dt < 0 (tau = tau_plus / tau_minus). The seed keeps the update probability below 0.1
    for "non-greedy" learning (Ref. 7): p_max <= 0.1 is enforced.

    Parameters
    ----------
    p_max : float
        Peak switching probability, in (0, 0.1] (also used for depression unless
        ``p_max_minus`` is given).
    tau_plus, tau_minus : float
        Time constants, s.
    p_max_minus : float, optional
        Peak depression probability, in [0, 0.1].
    """

    P_LIMIT = 0.1

    def __init__(self, *, p_max: float = 0.1, tau_plus: float, tau_minus: float, p_max_minus: float | None = None):
        c = "ProbabilisticStdp"
        for name, value in (("p_max", p_max), ("p_max_minus", p_max if p_max_minus is None else p_max_minus)):
            v = float(value)
            if not (0 <= v <= self.P_LIMIT) or (name == "p_max" and v == 0):
                raise ValueError(f"{c}.{name} must be in {'(0' if name == 'p_max' else '[0'}, {self.P_LIMIT}] "
                                 f"(non-greedy learning), not {value!r}")
        self.p_max = float(p_max)
        self.p_max_minus = self.p_max if p_max_minus is None else float(p_max_minus)
        self.tau_plus = _num(c, "tau_plus", tau_plus, "> 0", "s")
        self.tau_minus = _num(c, "tau_minus", tau_minus, "> 0", "s")

    def window(self, dt):
        """Signed switching probability: +p (towards P) for dt > 0, -p (towards AP) for dt < 0."""
        return window(dt, self.p_max, self.p_max_minus, self.tau_plus, self.tau_minus)

    def probability(self, dt):
        """Switching probability of one pair, ``p_max exp(-|dt|/tau)`` (0 at dt = 0)."""
        return np.abs(self.window(dt))

    def apply(self, state, dw, rng=None):
        """Switch each synapse with probability |dw| towards P (dw > 0) or AP (dw < 0).

        ``dw`` broadcasts to ``state`` (bool, True = P). Probabilities are capped at the rule's
        p_max (p_max_minus) so summed trace contributions keep the non-greedy limit.
        Returns the new state (bool array).
        """
        rng = _rng(rng)
        state = np.asarray(state, dtype=bool)
        dw = np.broadcast_to(np.asarray(dw, dtype=np.float64), state.shape)
        p = np.where(dw > 0, np.minimum(dw, self.p_max), np.minimum(-dw, self.p_max_minus))
        p = np.where(dw == 0, 0.0, p)
        flip = rng.random(state.shape) < p
        return np.where(flip, dw > 0, state)

    def update(self, state, dt, rng=None):
        """Pair-based update: ``apply(state, window(dt))``."""
        return self.apply(state, self.window(dt), rng)

    def write_current(self, dt, neuron=None):
        """Heavy-metal write current giving the pair's switching probability on the golden MTJ, A.

        Inverts the fitted sigmoid of the stochastic MTJ (:class:`golden.neurons.StochasticMtjNeuron`,
        0.5 ns write): ``I = I50 + w ln(p / (1 - p))``. For p << 1 this is
        ``I50 + w (ln p_max - |dt|/tau)`` - the write current falls *linearly* with |dt|, as
        the seed's Fig. 8 describes (M_STDP in saturation with a linearly rising gate).
        """
        from .neurons import StochasticMtjNeuron

        neuron = StochasticMtjNeuron(1) if neuron is None else neuron
        p = self.probability(dt)
        return neuron.current_for_probability(np.clip(p, 1e-300, None))


# Trace (online) form ----------------------------------------------------------------------------
class StdpTraces:
    """Online STDP with exponential pre/post traces (the form network simulations use).

    Each step (length dt): both traces decay (``x <- x exp(-dt/tau)``); the window values of
    this step are ``dw = a_plus outer(x_pre, post) - a_minus outer(pre, x_post)`` (potentiation
    on a post spike from earlier pre spikes, depression on a pre spike from earlier post
    spikes); then the traces of this step's spikes are bumped (``x += 1``, or ``x = 1`` with
    ``nearest=True``). A pre spike at step k_pre and a post spike at k_post > k_pre give
    ``dw = a_plus exp(-(k_post - k_pre) dt / tau_plus)`` = eq. 9; spikes in the same step give
    0, like :func:`window` at dt = 0. Feed ``dw`` to :meth:`DwStdp.apply` (level steps) or
    :meth:`ProbabilisticStdp.apply` (probabilities; use a_plus = p_max, a_minus = p_max_minus).

    Parameters
    ----------
    n_pre, n_post : int
        Layer sizes.
    tau_plus, tau_minus : float
        Trace time constants, s.
    dt : float
        Step, s.
    a_plus, a_minus : float
        Window amplitudes.
    nearest : bool
        Nearest-spike (reset to 1) instead of all-to-all (add 1) traces.
    """

    def __init__(self, n_pre: int, n_post: int, *, tau_plus: float, tau_minus: float, dt: float,
                 a_plus: float = 1.0, a_minus: float = 1.0, nearest: bool = False):
        c = "StdpTraces"
        for name, v in (("n_pre", n_pre), ("n_post", n_post)):
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValueError(f"{c}.{name} must be an integer >= 1, not {v!r}")
        self.tau_plus = _num(c, "tau_plus", tau_plus, "> 0", "s")
        self.tau_minus = _num(c, "tau_minus", tau_minus, "> 0", "s")
        self.dt = _num(c, "dt", dt, "> 0", "s")
        self.a_plus = _num(c, "a_plus", a_plus, ">= 0")
        self.a_minus = _num(c, "a_minus", a_minus, ">= 0")
        self.nearest = bool(nearest)
        self.decay_pre = math.exp(-self.dt / self.tau_plus)
        self.decay_post = math.exp(-self.dt / self.tau_minus)
        self.x_pre = np.zeros(int(n_pre))
        self.x_post = np.zeros(int(n_post))

    def reset(self) -> None:
        """Zero both traces."""
        self.x_pre[:] = 0.0
        self.x_post[:] = 0.0

    def step(self, pre, post) -> np.ndarray:
        """Advance one step with this step's spikes; returns dw, shape (n_pre, n_post)."""
        pre = np.asarray(pre, dtype=np.float64)
        post = np.asarray(post, dtype=np.float64)
        if pre.shape != self.x_pre.shape or post.shape != self.x_post.shape:
            raise ValueError(f"pre and post must have shapes {self.x_pre.shape} and {self.x_post.shape}, "
                             f"not {pre.shape} and {post.shape}")
        self.x_pre *= self.decay_pre
        self.x_post *= self.decay_post
        dw = self.a_plus * np.outer(self.x_pre, post) - self.a_minus * np.outer(pre, self.x_post)
        if self.nearest:
            self.x_pre = np.where(pre > 0, 1.0, self.x_pre)
            self.x_post = np.where(post > 0, 1.0, self.x_post)
        else:
            self.x_pre += pre
            self.x_post += post
        return dw


# Volatile STP / LTP synapse -----------------------------------------------------------------------
#: Behavioural fit of golden.devices.volatile_synapse() (see :class:`VolatileSynapseArray`):
#: threshold centre and logistic width (pulse units) and the effective leak time (s).
#: Regenerate with ``python -m spintwin.experiments fit-volatile`` (calibrate_volatile() defaults: 1000 trials at
#: each of 8 trains, rng 20240612; about 3 minutes on two cores). Standard errors 0.025, 0.0066
#: and 0.15 ns; chi2 = 14.8 for 5 degrees of freedom. Golden vs model P_LTP, 5 pulses at 3 / 3.5
#: / 4 / 5 / 6 ns: 0.868 / 0.711 / 0.574 / 0.280 / 0.134 vs 0.869 / 0.723 / 0.548 / 0.277 /
#: 0.146; 1 / 2 / 3 pulses at 3 ns: 0.007 / 0.214 / 0.541 vs 0.012 / 0.186 / 0.564 (SE <= 0.016).
VOLATILE_U50: float = 1.8925
VOLATILE_WIDTH: float = 0.20259
VOLATILE_TAU: float = 5.7398e-09
VOLATILE_U50_SE: float = 0.025
VOLATILE_WIDTH_SE: float = 0.0066
VOLATILE_TAU_SE: float = 1.5e-10

#: The trains :func:`calibrate_volatile` fits: (onset-to-onset spacing in s, pulses), 1 ns pulses.
VOLATILE_TRAINS = ((3e-9, 5), (3.5e-9, 5), (4e-9, 5), (5e-9, 5), (6e-9, 5), (3e-9, 1), (3e-9, 2), (3e-9, 3))


class VolatileFit(NamedTuple):
    """Result of :func:`calibrate_volatile`: parameters with standard errors, the golden data
    (LTP probability and standard error per train) and the weighted residual chi2."""

    u50: float
    width: float
    tau: float
    u50_se: float
    width_se: float
    tau_se: float
    trains: tuple
    probability: np.ndarray
    stderr: np.ndarray
    trials: int
    chi2: float


def _train_u(spacing: float, n_pulses: int, tau: float) -> float:
    """Leaky pulse count just after the last pulse of a regular train: sum_k exp(-k s / tau)."""
    return float(np.sum(np.exp(-np.arange(n_pulses) * spacing / tau)))


def train_ltp_probability(spacing: float, n_pulses: int = 5, *, u50: float | None = None,
                          width: float | None = None, tau: float | None = None) -> float:
    """Model LTP probability of a regular train: ``sigmoid((u_n - u50) / width)``, u_n from
    :func:`_train_u` (defaults: the module constants)."""
    from .neurons import sigmoid

    u50 = VOLATILE_U50 if u50 is None else u50
    width = VOLATILE_WIDTH if width is None else width
    tau = VOLATILE_TAU if tau is None else tau
    return float(sigmoid((_train_u(spacing, n_pulses, tau) - u50) / width))


class VolatileSynapseArray:
    """Behavioural volatile STP/LTP synapses (seed section III.3, IV.3, Fig. 9; Ref. 121).

    A mono-domain MTJ tilts towards the opposite state during each current pulse and leaks
    back in between (a leaky integrator: the seed's eq. 10 read like eq. 8). Here each synapse
    carries a leaky pulse count u (dimensionless; the short-term, STP, strength):
    ``u <- u exp(-t / tau)`` between pulses and ``u += 1`` per pulse. It switches to the
    long-term state (LTP, permanent) when u reaches a threshold u_th drawn from a logistic
    distribution (centre u50, scale width) - the thermal state of the magnet; the threshold is
    redrawn at a pulse that finds the synapse at rest (u < ``u_rest``, i.e. about three leak
    times after the last pulse), when the magnet has forgotten its earlier thermal history.
    For a regular train u only grows, so ``P(LTP) = sigmoid((u_n - u50) / width)``
    (:func:`train_ltp_probability`).

    Calibration (:func:`calibrate_volatile`): u50, width and tau fitted to the golden
    :func:`golden.devices.ltp_probability` at 8 trains (5 pulses of 1 ns at 3-6 ns spacing and
    1-3 pulses at 3 ns). The fitted tau (~6 ns) is longer than the magnet's small-angle
    relaxation time (2.0 ns): the restoring torque is weak at large tilt. A hazard form (a new
    switching chance at every pulse) fitted the same data much worse.

    Parameters
    ----------
    shape : int or tuple
        Array shape.
    u50, width, tau : float, optional
        Defaults :data:`VOLATILE_U50`, :data:`VOLATILE_WIDTH`, :data:`VOLATILE_TAU` (s).
    u_rest : float
        Rest level below which the threshold is redrawn (default exp(-3)).
    rng : int or Generator

    Attributes
    ----------
    u : ndarray
        Short-term strength.
    ltp : ndarray of bool
        Switched to the long-term state.
    """

    def __init__(self, shape, *, u50: float | None = None, width: float | None = None, tau: float | None = None,
                 u_rest: float = math.exp(-3.0), rng=None):
        from .neurons import as_shape

        c = "VolatileSynapseArray"
        self.u50 = _num(c, "u50", VOLATILE_U50 if u50 is None else u50, "finite")
        self.width = _num(c, "width", VOLATILE_WIDTH if width is None else width, "> 0")
        self.tau = _num(c, "tau", VOLATILE_TAU if tau is None else tau, "> 0", "s")
        self.u_rest = _num(c, "u_rest", u_rest, ">= 0")
        self.shape = as_shape(shape)
        self.rng = _rng(rng)
        self.u = np.zeros(self.shape)
        self.ltp = np.zeros(self.shape, dtype=bool)
        self.u_th = self._draw(np.ones(self.shape, dtype=bool), np.zeros(self.shape))

    def _draw(self, where, old):
        z = self.rng.random(self.shape)
        return np.where(where, self.u50 + self.width * np.log(z / (1 - z)), old)

    def advance(self, duration: float) -> None:
        """Let ``duration`` seconds pass without pulses (u decays)."""
        self.u = self.u * math.exp(-_num("VolatileSynapseArray", "duration", duration, ">= 0", "s") / self.tau)

    def pulse(self, mask=True) -> np.ndarray:
        """Apply one input pulse to the synapses in ``mask``; returns the LTP state."""
        mask = np.broadcast_to(np.asarray(mask, dtype=bool), self.shape)
        self.u_th = self._draw(mask & (self.u < self.u_rest), self.u_th)
        self.u = self.u + mask
        self.ltp = self.ltp | (mask & (self.u >= self.u_th))
        return self.ltp

    def train(self, spacing: float, n_pulses: int = 5) -> np.ndarray:
        """Apply a regular train (onset-to-onset ``spacing``, s) to every synapse; returns LTP."""
        for k in range(n_pulses):
            if k:
                self.advance(spacing)
            self.pulse()
        return self.ltp

    def ltp_probability(self, spacing: float, n_pulses: int = 5) -> float:
        """Model probability that a regular train switches a fresh synapse."""
        return train_ltp_probability(spacing, n_pulses, u50=self.u50, width=self.width, tau=self.tau)


def calibrate_volatile(device=None, *, trains=VOLATILE_TRAINS, trials: int = 1000, rng=20240612) -> VolatileFit:
    """Fit (u50, width, tau) of :class:`VolatileSynapseArray` to golden LTP probabilities.

    Runs :func:`golden.devices.ltp_probability` for each (spacing, pulses) train, then weighted
    least squares (:func:`scipy.optimize.least_squares`) of :func:`train_ltp_probability`,
    weights from the Agresti-Coull binomial standard error; parameter standard errors from
    the Jacobian (statistical only).
    """
    from scipy.optimize import least_squares

    from .devices import ltp_probability, volatile_synapse

    device = volatile_synapse() if device is None else device
    rng = _rng(rng)
    res = [ltp_probability(device, s, n_pulses=n, trials=trials, rng=rng) for s, n in trains]
    p = np.array([r[0] for r in res])
    p_ac = (p * trials + 1) / (trials + 2)
    sigma = np.sqrt(p_ac * (1 - p_ac) / trials)

    def resid(z):
        u50, width, tau_ns = z
        q = [train_ltp_probability(s, n, u50=u50, width=width, tau=tau_ns * 1e-9) for s, n in trains]
        return (np.array(q) - p) / sigma

    best = min((least_squares(resid, (u0, 0.1, t0), bounds=([0, 1e-3, 0.1], [10, 5, 100]))
                for u0 in (1.3, 2.0, 3.0) for t0 in (2.0, 6.0)), key=lambda r: r.cost)
    cov = np.linalg.inv(best.jac.T @ best.jac)
    se = np.sqrt(np.diag(cov))
    u50, width, tau_ns = best.x
    return VolatileFit(float(u50), float(width), float(tau_ns) * 1e-9, float(se[0]), float(se[1]),
                       float(se[2]) * 1e-9, tuple(trains), p, np.array([r[1] for r in res]), int(trials),
                       float(2 * best.cost))


# Long-term / short-term arrays ----------------------------------------------------------------------
class LtStArray:
    """Long-term / short-term (LT-ST) binary synapse arrays (seed section V.2; Ref. 7).

    The seed's description: each neuron's input is split over two crossbars of binary MTJ
    synapses, a long-term (LT) and a short-term (ST) array. The LT array's STDP time
    constants are smaller than the ST array's (set by the capacitor of its learning
    circuit), so it learns only strongly time-correlated inputs while the ST array picks up
    moderately correlated features. At inference the LT rows are driven at a higher voltage
    than the ST rows (higher significance). Ref. 7 reports 225 neurons / 352,800 synapses
    matching 400 neurons / 313,600 synapses of one array at ~2x less programming energy.

    Short-term volatility and consolidation (the seed's STM -> LTM picture, section III.3,
    Fig. 4(c); an abstraction of this project, off by default): with a finite ``st_decay``
    each potentiated ST bit relaxes to AP with probability ``1 - exp(-dt / st_decay)`` per
    step, and :meth:`consolidate` moves potentiated ST bits into the LT array.

    Parameters
    ----------
    n_pre, n_post : int
        Array size.
    lt_rule, st_rule : ProbabilisticStdp
        STDP rules of the two arrays (LT with the smaller time constants).
    dt : float
        Step, s (for the traces and the ST decay).
    v_lt, v_st : float
        Read voltages of the LT and ST rows, V (v_lt > v_st: LT more significant).
    g_p, g_ap : float
        Binary MTJ conductances, S; default those of the calibrated DW device's MTJ
        (RA 10 ohm um^2, TMR 120 % over 80 x 20 nm: 160 uS and 72.7 uS), a chosen stack.
    st_decay : float
        ST volatility time constant, s (inf: non-volatile).
    rng : int or Generator
    """

    def __init__(self, n_pre: int, n_post: int, *, lt_rule: ProbabilisticStdp, st_rule: ProbabilisticStdp,
                 dt: float, v_lt: float = 0.1, v_st: float = 0.05, g_p: float | None = None,
                 g_ap: float | None = None, st_decay: float = math.inf, rng=None):
        c = "LtStArray"
        if g_p is None or g_ap is None:
            from .devices import dw_synapse

            dev = dw_synapse()
            g_p = dev.g_p if g_p is None else g_p
            g_ap = dev.g_ap if g_ap is None else g_ap
        self.g_p = _num(c, "g_p", g_p, "> 0", "S")
        self.g_ap = _num(c, "g_ap", g_ap, "> 0", "S")
        if not self.g_p > self.g_ap:
            raise ValueError(f"{c}.g_p must be > g_ap = {self.g_ap!r} S, not {self.g_p!r}")
        self.v_lt = _num(c, "v_lt", v_lt, "> 0", "V")
        self.v_st = _num(c, "v_st", v_st, "> 0", "V")
        self.dt = _num(c, "dt", dt, "> 0", "s")
        self.st_decay = _num(c, "st_decay", st_decay, "> 0", "s", allow_inf=True)
        self.lt_rule, self.st_rule = lt_rule, st_rule
        self.rng = _rng(rng)
        kw = dict(dt=self.dt)
        self.lt_traces = StdpTraces(n_pre, n_post, tau_plus=lt_rule.tau_plus, tau_minus=lt_rule.tau_minus,
                                    a_plus=lt_rule.p_max, a_minus=lt_rule.p_max_minus, **kw)
        self.st_traces = StdpTraces(n_pre, n_post, tau_plus=st_rule.tau_plus, tau_minus=st_rule.tau_minus,
                                    a_plus=st_rule.p_max, a_minus=st_rule.p_max_minus, **kw)
        self.lt = np.zeros((int(n_pre), int(n_post)), dtype=bool)
        self.st = np.zeros_like(self.lt)

    def step(self, pre, post) -> None:
        """One time step of learning with the pre (n_pre,) and post (n_post,) spikes."""
        self.lt = self.lt_rule.apply(self.lt, self.lt_traces.step(pre, post), self.rng)
        self.st = self.st_rule.apply(self.st, self.st_traces.step(pre, post), self.rng)
        if math.isfinite(self.st_decay):
            relax = self.rng.random(self.st.shape) < -math.expm1(-self.dt / self.st_decay)
            self.st = self.st & ~relax

    def consolidate(self, mask=True) -> None:
        """Move potentiated ST bits (where ``mask``) into the LT array and clear them in ST."""
        move = self.st & np.broadcast_to(np.asarray(mask, dtype=bool), self.st.shape)
        self.lt = self.lt | move
        self.st = self.st & ~move

    def conductance(self, array: str = "lt") -> np.ndarray:
        """Conductances of the "lt" or "st" array, S, shape (n_pre, n_post)."""
        bits = {"lt": self.lt, "st": self.st}.get(array)
        if bits is None:
            raise ValueError(f"array must be 'lt' or 'st', not {array!r}")
        return np.where(bits, self.g_p, self.g_ap)

    def currents(self, spikes) -> np.ndarray:
        """Ideal (gamma -> 0) read current per post neuron, A: both arrays summed,
        ``s @ (v_lt G_lt + v_st G_st)``; spikes (n_pre,) or (B, n_pre)."""
        s = np.asarray(spikes, dtype=np.float64)
        return s @ (self.v_lt * self.conductance("lt") + self.v_st * self.conductance("st"))
