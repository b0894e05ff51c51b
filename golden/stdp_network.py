"""Unsupervised STDP network on spintronic synapses (seed section V.2, Fig. 5(b), Fig. 10).

Network 3 of the seed (Sengupta & Roy): the Diehl & Cook (2015) topology, an input layer of
Poisson spike trains fully connected to one excitatory layer with lateral inhibition and
homeostasis, learning by online STDP in the synaptic devices; REFERENCES.md section 5.
Three synapse variants share one compiled kernel (:mod:`golden._stdp_kernels`):

``binary``
    Single-bit MTJ synapses with probabilistic STDP (seed Fig. 8, Srinivasan et al., Sci.
    Rep. 6, 29545 (2016), the seed's Ref. 7): at a post spike an AP synapse switches to P
    with probability ``p_pot exp(-dt/tau_plus)`` (dt = t_post - t_pre of the latest pre spike,
    seed eq. 9 read as a switching probability; p_pot <= 0.1 keeps learning non-greedy,
    seed section IV.2), and a P synapse whose input was not recently active switches to AP
    with probability ``p_dep (1 - exp(-dt/tau_plus))`` (1 if the input never spiked).
``dw``
    Deterministic multi-level DW synapses (seed Fig. 7, eq. 11): the programming current,
    hence the wall displacement, is proportional to the window value; the same signed rule
    ``p_pot x - p_dep (1 - x)`` moves the wall by that fraction of the track, snapped to one
    of ``levels`` (16) notches.
``ltst``
    The seed's long-term/short-term split (section V.2, Ref. 7): two binary stochastic
    arrays per neuron column; the LT array learns with a shorter STDP time constant than the
    ST array and is read with a higher significance (row voltage). 2 x 784 x 225 = 352,800
    devices for 225 neurons. Optionally (``st_decay``, off by default; the seed's STM/LTM
    picture of section III.3, as in :class:`golden.stdp.LtStArray`) the ST bits are volatile
    and relax to AP between images; the seed's Ref. 7 arrays are both non-volatile.

All-spin option (``neuron="dw"``, ``config_for(..., all_spin=True)``; issue 18 item 4)
-----------------------------------------------------------------------------------
The hybrid network above keeps abstract LIF neurons in weight units and reads its columns as
an ideal, divisively normalised sum. The all-spin network replaces both with devices (seed
section V.1, Fig. 10(a); Refs. 6, 108, 124): each column's current is eq. 12 with the AP
reference rows and every device loading the neuron's node (:func:`allspin_operating_point`:
dv = 0.1 V, G_s = 1 / R_HM = 6.4 mS of the calibrated DW neuron, gamma = 17.9 for an all-AP
784-row column, 20.0 at a column sum of 150), and the neuron is the DW IF neuron of
:class:`golden.neurons.DwIfNeuron` on the calibrated 80 nm device: one write pulse (1.32 ns,
calibrated so that the track equals v_th at the reference column sum) per 1 ms step moves the
wall by the device's saturating steady velocity, a spike when it reaches the far edge, the
seed's reverse-current leak (dt / (2 tau_m) of the track per step without a spike), homeostasis
as a per-neuron shortening of the write pulses by v_th / (v_th + theta_j). Both signs of
eq. 9: the post-before-pre depression at ``p_minus`` = :data:`ALLSPIN_P_MINUS` (0.002; 10,000
images at 225 neurons, 2,000 test images, +-1 point: 0 / 0.001 / 0.002 / 0.005 gave 75.0 /
72.9 / 75.9 / 71.1 %, the hybrid 74.0 %). Measured against the hybrid network in
``bench/allspin.py`` (bench/results/allspin.json; one epoch, 10,000 test images): at 225
neurons the devices alone match it (without the negative window 80.5 +- 0.3 % over three
seeds against 81.1 +- 0.2 %), the negative window costs 1.2-4.5 points and spreads the seeds
(77.1 +- 1.3 %; the hybrid with it: 79.2 % at seed 0), and the ideal sum (gamma -> 0, no
normalisation at all) 73.7 %: eq. 12's residual normalisation (a 1.11x gain spread over the
trained columns against the hybrid's 3.0x) is worth ~6 points. 400 neurons: 80.7 against
83.6 %; 1600: 88.0 against 86.8 %.

Model choices (and their sources)
---------------------------------
* Input: pixel i spikes in each step with probability ``x_i * rate * dt``, peak rate 63.75 Hz
  for a white pixel, 350 steps of 1 ms per image; if fewer than 5 output spikes the image is
  shown again at a peak rate 31.875 Hz higher (Diehl & Cook 2015). The 150 ms rest is not
  simulated: membranes and traces are cleared (they decay in it), theta decays over it.
* Neurons: LIF of seed eq. 8 with delta synapses, ``v <- v exp(-dt/tau_m) + sum of the weight
  rows of the inputs that spiked`` (event-driven accumulation), tau_m = 100 ms, refractory
  5 ms (D&C), reset to 0. The potential is dimensionless, in units of the summed read
  weights (the crossbar current x time, eq. 12, divided by the current of one unit weight).
* Homeostasis: an adaptive threshold ``v_th + theta_j``, theta_j += theta_plus per spike and
  decaying with tau_theta = 1e4 s (D&C's 1e7 ms) over presentation + rest.
* Lateral inhibition, two modes. ``"wta"`` (default): D&C's inhibitory population is
  replaced by its limit of strong, fast inhibition, a hard winner-take-all: in each step
  only the neuron furthest above its threshold fires and every other membrane is reset
  (at most one spike per step). ``"direct"``: each spike subtracts ``w_inh`` from every
  other membrane at once (D&C's exc -> inh -> all-other-exc path without its 1-2 ms
  delay), floored at ``v_floor`` (the inhibitory reversal potential's role).
* Weight normalisation (``normalise=True``): the read weights of each neuron's column are
  scaled to sum to ``norm_target`` (D&C: 78 for 784 inputs). In hardware this is the
  crossbar's own loading, eq. 12 with gamma_j >> 1: ``I_j = sum_i G_ij V_i / (1 + gamma_j)``
  tends to ``G_s sum_active G_ij / sum_all G_ij``, so choosing the neuron's input
  conductance G_s small makes each column's current divisive-normalised; the stored device
  states are not touched.
* Binary weights: {0, 1} = (G - G_AP) / (G_P - G_AP), i.e. a reference column of AP devices
  subtracts the AP leakage (a standard crossbar offset); multi-level weights by eq. 11.
* Negative window (eq. 9, dt < 0): when an input spikes after neuron j fired in the same
  presentation, a P synapse depresses with probability ``p_minus exp(-dt/tau_minus)``
  (nearest spike; in hardware the seed programs it with the negative-window delay).
* Read-out (D&C): after training, with learning and theta frozen, each neuron is assigned
  the class for which its mean spike count over labelled training images is highest; a test
  image is classified by the class whose assigned neurons have the highest mean count.
* Energy: every state change of a binary device is one switching event, priced at
  :meth:`golden.devices.MtjNeuron.write_energy` at ``write_current`` (71 uA: the preset's
  P_sw ~ 0.5 point, 1.31 fJ); DW synapses are priced per notch moved,
  :meth:`golden.dw.DomainWallDevice.write_energy` at the 2 ns traverse current for
  2 ns / (levels - 1). Programming pulses that did not switch are counted separately
  (``energy_all_pulses_J`` prices them too).
* Timing convention: a pre spike in the same step as the post spike counts as causal
  (x = 1; it helped cross the threshold), where :func:`golden.stdp.window` gives 0 at dt = 0.

Measured (MNIST, one epoch of 60,000 presentations, labels from 10,000 training images,
all 10,000 test images; seed 0, seed 1 in brackets; one core of a shared 2-core machine)::

    variant  N    accuracy        train   switching events   energy
    binary   225  81.0 %          23 s    1.60 M             2.1 nJ
    binary   400  83.6 (84.6) %   34 s    2.00 M             2.6 nJ
    dw       225  81.2 %          25 s    73.9 M notch moves 0.18 nJ
    dw       400  86.0 %          40 s    88.2 M notch moves 0.22 nJ
    ltst     225  84.2 (84.5) %   18 s    3.11 M             4.1 nJ
    ltst     400  85.9 %          40 s    3.85 M             5.0 nJ

Test-set SE 0.4 points; checkpoint curves wander by 1-2 points after ~20,000 images and the
DW curves dip transiently (to 36-42 % at single checkpoints). Labelling + testing 20,000
images takes 5-9 s. LT-ST at 225 neurons matches the single array at 400 (the seed's
iso-accuracy pair) and gets there in fewer images (80 %: 12,000 against 17,600), but spends
1.15-1.45x *more* switching events to reach 78-83 % (both seeds) and 1.55x over the epoch:
per training image the switching is set by the post spikes (~12 per image whatever N) times
the arrays per column, so the doubled array costs more than the faster convergence saves.
The seed's ~2x saving is not reproduced here. Halving every probability (p_pot 0.025,
p_dep 0.005) keeps both at ~84 % (LT-ST 225: 84.1 %, 1.57 M events; single 400: 84.2 %,
1.01 M events) and LT-ST still spends 1.3-1.9x more to reach 78-84 %. A volatile ST array
(``st_decay`` = 50 s) gave 81.1 % with 4.5 M events.
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from spinbase.fileio import atomic_write_bytes

from . import _stdp_kernels as _k

__all__ = [
    "StdpConfig",
    "StdpNetwork",
    "config_for",
    "assign_labels",
    "predict",
    "switch_probability",
    "run_experiment",
    "energy_at_accuracy",
    "save_network",
    "load_network",
]

VARIANTS = ("binary", "dw", "ltst")
NEURONS = ("lif", "dw")
#: Post-before-pre depression of the all-spin network (eq. 9, dt < 0), per array.
ALLSPIN_P_MINUS = 0.002


@dataclass(frozen=True)
class StdpConfig:
    """Parameters of the STDP network (times in s, rates in Hz, potentials in weight units).

    Attributes
    ----------
    neurons : int
        Excitatory neurons N.
    steps, dt : int, float
        Presentation length in steps of ``dt`` s (350 x 1 ms, D&C).
    rest : float
        Rest between images, s (only its effect on theta is modelled).
    max_rate, rate_step : float
        Peak input rate of a white pixel and its increase per retry, Hz.
    min_spikes, max_retries : int
        Retry an image while the layer fires fewer than ``min_spikes``, at most
        ``max_retries`` times.
    tau_m, t_ref : float
        Membrane time constant and refractory period, s.
    v_th : float
        Base threshold (weight units).
    inhibition : str
        ``"wta"`` (hard winner-take-all) or ``"direct"``.
    w_inh, v_floor : float
        Direct inhibition per spike and the floor of the membrane (``"direct"`` only).
    theta_plus, tau_theta : float
        Homeostasis increment per spike (weight units) and decay time, s.
    levels : int
        Device levels: 2 for binary MTJs, 16 for DW synapses.
    stochastic : bool
        Probabilistic switching (MTJ) or deterministic notch moves (DW).
    tau_plus, tau_minus, p_pot, p_dep, p_minus, significance : tuple of float
        Per device array (1 array, or 2 for LT-ST): STDP time constants (s), potentiation,
        depression and negative-window probabilities (or fractions of the track for DW),
        and the read significance.
    normalise : bool
        Column normalisation of the read weights to ``norm_target``.
    init_p : float
        Initial fraction of P synapses (binary) or initial weights uniform in [0, init_p].
    write_current : float
        MTJ programming current for the energy estimate, A.
    st_decay : float
        LT-ST only: volatility time constant of the short-term array, s (inf: non-volatile,
        the seed's LT-ST; finite: each P bit of the ST array relaxes to AP with probability
        ``1 - exp(-(steps dt + rest) / st_decay)`` after each training image).
    neuron : str
        ``"lif"`` (the abstract LIF neuron of eq. 8 in weight units, the hybrid network) or
        ``"dw"`` (the all-spin network: domain-wall IF neurons driven by the column currents
        of eq. 12; see :func:`allspin_operating_point`; hard WTA only).
    read_voltage : float
        ``"dw"``: crossbar read voltage dv of a spiking row, V (the seed: below 100 mV).
    g_s : float or None
        ``"dw"``: the neuron's write (heavy-metal) conductance G_s, S; None: 1 / R_HM of the
        calibrated DW neuron (157 ohm). A huge value makes gamma -> 0 (the ideal sum).
    w_ref : float
        ``"dw"``: the reference column sum (level fractions over inputs and arrays) at which
        the write pulse is calibrated to the LIF network's threshold.
    dw_leak : float or None
        ``"dw"``: leak per step in fractions of the track (None: dt / (2 tau_m)).
    """

    neurons: int = 225
    steps: int = 350
    dt: float = 1e-3
    rest: float = 0.15
    max_rate: float = 63.75
    rate_step: float = 31.875
    min_spikes: int = 5
    max_retries: int = 4
    tau_m: float = 0.1
    t_ref: float = 5e-3
    v_th: float = 20.0
    inhibition: str = "wta"
    w_inh: float = 20.0
    v_floor: float = -20.0
    theta_plus: float = 0.05
    tau_theta: float = 1e4
    levels: int = 2
    stochastic: bool = True
    tau_plus: tuple = (0.02,)
    tau_minus: tuple = (0.02,)
    p_pot: tuple = (0.05,)
    p_dep: tuple = (0.01,)
    p_minus: tuple = (0.0,)
    significance: tuple = (1.0,)
    normalise: bool = True
    norm_target: float = 78.0
    init_p: float = 0.3
    write_current: float = 71e-6
    st_decay: float = math.inf
    neuron: str = "lif"
    read_voltage: float = 0.1
    g_s: float | None = None
    w_ref: float = 150.0
    dw_leak: float | None = None

    def __post_init__(self):
        def need(name, ok, bound):
            if not ok:
                raise ValueError(f"StdpConfig.{name} must be {bound}, not {getattr(self, name)!r}")

        for name in ("neurons", "steps", "levels", "min_spikes"):
            v = getattr(self, name)
            need(name, isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1,
                 "an integer >= 1")
        need("levels", 2 <= self.levels <= 127, "in 2..127 (int8 device states)")
        need("max_retries", isinstance(self.max_retries, (int, np.integer)) and self.max_retries >= 0,
             "an integer >= 0")
        for name in ("dt", "tau_m", "tau_theta", "max_rate"):
            need(name, math.isfinite(getattr(self, name)) and getattr(self, name) > 0, "> 0")
        for name in ("rest", "t_ref", "rate_step", "theta_plus", "w_inh", "write_current"):
            need(name, math.isfinite(getattr(self, name)) and getattr(self, name) >= 0, ">= 0")
        need("v_th", math.isfinite(self.v_th) and self.v_th > 0, "> 0")
        need("v_floor", self.v_floor <= 0, "<= 0")
        need("inhibition", self.inhibition in ("wta", "direct"), "'wta' or 'direct'")
        peak = (self.max_rate + self.max_retries * self.rate_step) * self.dt
        if peak > 1:
            raise ValueError(f"StdpConfig: the highest per-step input probability "
                             f"(max_rate + max_retries * rate_step) * dt must be <= 1, not {peak!r}")
        n_arr = len(self.p_pot)
        for name in ("tau_plus", "tau_minus", "p_pot", "p_dep", "p_minus", "significance"):
            need(name, len(getattr(self, name)) == n_arr, f"a tuple of {n_arr} (len(p_pot)) values")
        for name in ("tau_plus", "tau_minus"):
            need(name, all(t > 0 for t in getattr(self, name)), "all > 0")
        for name in ("p_pot", "p_dep", "p_minus"):
            need(name, all(0 <= p <= 1 for p in getattr(self, name)), "all in [0, 1]")
        need("significance", all(s > 0 for s in self.significance), "all > 0")
        need("init_p", 0 <= self.init_p <= 1, "in [0, 1]")
        need("norm_target", self.norm_target > 0, "> 0")
        need("st_decay", self.st_decay > 0, "> 0 (inf: non-volatile)")
        need("neuron", self.neuron in NEURONS, "'lif' or 'dw'")
        if self.neuron == "dw":
            need("inhibition", self.inhibition == "wta", "'wta' with DW neurons")
        need("read_voltage", math.isfinite(self.read_voltage) and self.read_voltage > 0, "> 0 V")
        need("g_s", self.g_s is None or (math.isfinite(self.g_s) and self.g_s > 0), "None or > 0 S")
        need("w_ref", math.isfinite(self.w_ref) and self.w_ref > 0, "> 0")
        need("dw_leak", self.dw_leak is None or (math.isfinite(self.dw_leak) and self.dw_leak >= 0),
             "None or >= 0")

    @property
    def arrays(self) -> int:
        """Number of device arrays per synapse (1, or 2 for LT-ST)."""
        return len(self.p_pot)


def config_for(variant: str, neurons: int = 225, all_spin: bool = False, **overrides) -> StdpConfig:
    """The default configuration of a variant (``"binary"``, ``"dw"`` or ``"ltst"``).

    Shared defaults are D&C's (350 ms at 1 ms, 63.75 Hz, tau_m 100 ms, 5 ms refractory,
    tau_theta 1e4 s, tau_plus 20 ms, column sum 78). Chosen by short sweeps (100 neurons,
    10,000 training and 2,000 test images, one seed each, so +-2 points of noise): binary
    p_pot = 0.05, p_dep = 0.01 (0.1 / 0.05 lost 5-10 points; p_dep / p_pot ~ 0.2 was best);
    v_th = 20 and theta_plus = 0.05 (10 and 0.2 were within noise); DW 0.1 / 0.04 of the
    track (a depression under half a notch, p_dep (levels - 1) < 0.5, never moves the
    wall: 0.01 gave 43 %); LT-ST tau_plus 10 / 40 ms, significance 1 / 0.5 (the seed gives
    only the order: LT shorter and more significant). p_minus = 0: D&C's pre-triggered
    depression is 100x weaker than its potentiation, and p_minus = 0.05 alone cost 25 points.

    ``all_spin``: the all-spin network 3 (issue 18): ``neuron="dw"`` (DW IF neurons on the
    eq. 12 column currents, :func:`allspin_operating_point`) and both signs of eq. 9, the
    post-before-pre depression at ``p_minus`` = :data:`ALLSPIN_P_MINUS` per array.

    ``overrides`` replace any :class:`StdpConfig` field.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {variant!r}")
    base = dict(neurons=neurons)
    if variant == "dw":
        base.update(levels=16, stochastic=False, p_pot=(0.1,), p_dep=(0.04,))
    elif variant == "ltst":
        base.update(tau_plus=(0.01, 0.04), tau_minus=(0.02, 0.02), p_pot=(0.05, 0.05),
                    p_dep=(0.01, 0.01), p_minus=(0.0, 0.0), significance=(1.0, 0.5))
    if all_spin:
        base.update(neuron="dw", p_minus=(ALLSPIN_P_MINUS,) * len(base.get("p_pot", (0,))))
    base.update(overrides)
    return StdpConfig(**base)


def allspin_operating_point(config: StdpConfig, n_inputs: int) -> dict:
    """The electrical operating point of the all-spin network (``neuron="dw"``).

    Crossbar (seed eq. 12, :func:`golden.crossbar.column_currents`): each input i drives its
    device G_ij on a V+ row at ``read_voltage x significance`` when it spikes, and an AP
    reference device on a V- row at minus that (the AP offset cancels, as in the hybrid's
    weights ``(G - G_AP) / (G_P - G_AP)``); non-spiking rows sit at 0 V and still load the
    column. So ``I_j = sum_spiking sig dv (G_ij - G_AP) / (1 + gamma_j)``, ``gamma_j =
    sum_i (G_ij + G_AP) / G_s`` over every device of the column (both arrays for LT-ST).
    G_P, G_AP: the calibrated DW-MTJ's junction (160 uS, 72.7 uS; binary synapses use its
    two end states). With 784 inputs and G_s = 1 / R_HM = 6.4 mS, the AP floor alone gives
    gamma ~ 17.9: far from the seed's "low write resistance" ideal, and nearly constant
    across columns (1.4 % per 100 level fractions), so eq. 12's divisive normalisation of the
    hybrid's docstring is weak here.

    Neuron (:class:`golden.neurons.DwIfNeuron`, seed Fig. 6, Ref. 108): the calibrated
    80 nm DW device of :func:`golden.devices.dw_neuron`; one write pulse of ``pulse_s`` per
    1 ms network step moves the wall by the device's steady velocity (saturating in I,
    ``isat_A``); the pulse is chosen so that at the reference column sum ``w_ref`` the
    wall's full track equals the LIF neuron's v_th in the hybrid's normalised weight units
    (``pulse = norm_target / (w_ref v_th) x L isat / (v_sat I_unit)``, I_unit the
    current of one unit weight at ``w_ref``).

    Returns
    -------
    dict
        ``g_p``, ``g_ap``, ``g_s`` (S), ``gamma_floor`` (gamma of an all-AP column),
        ``gamma_ref`` (at ``w_ref``), ``i_unit_A``, ``pulse_s``, ``gain`` (saturation
        displacement per pulse over L), ``isat_A``, ``leak`` (track fraction per step).
    """
    from .crossbar import dw_conductance_range
    from .devices import dw_neuron, dw_synapse

    c = config
    g_ap, g_p = dw_conductance_range(dw_synapse())
    dev = dw_neuron()
    g_s = 1.0 / dev.r_hm if c.g_s is None else float(c.g_s)
    d_g = g_p - g_ap
    gamma_floor = 2 * c.arrays * n_inputs * g_ap / g_s
    gamma_ref = gamma_floor + d_g * c.w_ref / g_s
    i_unit = c.read_voltage * d_g / (1.0 + gamma_ref)
    prm = dev.params
    isat = prm.alpha * prm.b_dmi / abs(float(prm.b_sh(1.0))) * dev.width * dev.t_hm
    i1 = 1e-6
    v_sat = float(dev.velocity(i1)) * math.hypot(i1, isat) / i1
    pulse = c.norm_target / (c.w_ref * c.v_th) * dev.length * isat / (v_sat * i_unit)
    leak = c.dt / (2 * c.tau_m) if c.dw_leak is None else float(c.dw_leak)
    return {"g_p": g_p, "g_ap": g_ap, "g_s": g_s, "gamma_floor": gamma_floor,
            "gamma_ref": gamma_ref, "i_unit_A": i_unit, "pulse_s": pulse,
            "gain": v_sat * pulse / dev.length, "isat_A": isat, "leak": leak}


class StdpNetwork:
    """The excitatory layer and its synaptic device arrays.

    Parameters
    ----------
    config : StdpConfig
    n_inputs : int
        Input pixels (784 for MNIST, 64 for the 8x8 digits).
    seed : int
        Seeds the initial states and the network's own generator (every spike and switch).

    Attributes
    ----------
    states : ndarray, int8, shape (arrays, n_inputs, neurons)
        Device level indices (binary: 0 = AP, 1 = P).
    weights : ndarray, float64, shape (n_inputs, neurons)
        Read weights (significance-weighted, column-normalised if configured); all-spin
        (``neuron="dw"``): the eq. 12 column current of each spiking input, A.
    theta : ndarray, float64, shape (neurons,)
        Homeostatic threshold offsets.
    stats : ndarray, int64, shape (arrays, 5)
        Per array: potentiations, depressions, programming attempts, DW notches moved,
        spontaneous relaxations of a volatile ST array.
    """

    def __init__(self, config: StdpConfig, n_inputs: int, seed: int = 0):
        if not (isinstance(n_inputs, (int, np.integer)) and n_inputs >= 1):
            raise ValueError(f"n_inputs must be an integer >= 1, not {n_inputs!r}")
        self.config = c = config
        self.n_inputs = int(n_inputs)
        self.rng = _k.rng_state(seed)
        rng = np.random.default_rng(seed)
        shape = (c.arrays, self.n_inputs, c.neurons)
        if c.levels == 2:
            self.states = (rng.random(shape) < c.init_p).astype(np.int8)
        else:
            top = c.levels - 1
            self.states = np.rint(rng.random(shape) * c.init_p * top).astype(np.int8)
        self.theta = np.zeros(c.neurons)
        self.stats = np.zeros((c.arrays, _k.ST_SIZE), np.int64)
        self.presentations = 0
        self._ip, self._fp, self._ap = self._pack()
        n_tab = c.steps + 1
        lag = np.arange(n_tab) * c.dt
        self._exp_plus = np.exp(-lag[None, :] / np.asarray(c.tau_plus)[:, None])
        self._exp_minus = np.exp(-lag[None, :] / np.asarray(c.tau_minus)[:, None])
        self.weights = np.zeros((self.n_inputs, c.neurons))
        self.refresh_weights()

    def refresh_weights(self) -> None:
        """Recompute :attr:`weights` from :attr:`states` (after editing the states)."""
        c = self.config
        for j in range(c.neurons):
            _k.refresh_column(self.states, self._ap, c.levels, self._ip[_k.IP_NORM], c.norm_target,
                              self.weights, j)

    def _pack(self):
        c = self.config
        ip = np.zeros(_k.IP_SIZE, np.int64)
        ip[_k.IP_STEPS] = c.steps
        ip[_k.IP_REF] = int(round(c.t_ref / c.dt))
        ip[_k.IP_MIN_SPIKES] = c.min_spikes
        ip[_k.IP_RETRIES] = c.max_retries
        ip[_k.IP_INHIB] = _k.WTA if c.inhibition == "wta" else _k.DIRECT
        ip[_k.IP_LEVELS] = c.levels
        ip[_k.IP_STOCH] = int(c.stochastic)
        ip[_k.IP_NORM] = _k.NORM_TARGET if c.normalise else _k.NORM_NONE
        ip[_k.IP_NEURON] = _k.NEURON_DW if c.neuron == "dw" else _k.NEURON_LIF
        fp = np.zeros(_k.FP_SIZE)
        fp[_k.FP_DT] = c.dt
        fp[_k.FP_DECAY] = math.exp(-c.dt / c.tau_m)
        fp[_k.FP_VTH] = c.v_th
        fp[_k.FP_RATE] = c.max_rate
        fp[_k.FP_RATE_STEP] = c.rate_step
        fp[_k.FP_WINH] = c.w_inh
        fp[_k.FP_VFLOOR] = c.v_floor
        fp[_k.FP_THETA_PLUS] = c.theta_plus
        fp[_k.FP_THETA_DECAY] = math.exp(-(c.steps * c.dt + c.rest) / c.tau_theta)
        fp[_k.FP_NORM_TARGET] = c.norm_target
        fp[_k.FP_ST_RELAX] = -math.expm1(-(c.steps * c.dt + c.rest) / c.st_decay)
        ap = np.zeros((c.arrays, _k.AP_SIZE))
        ap[:, _k.AP_PPOT] = c.p_pot
        ap[:, _k.AP_PDEP] = c.p_dep
        ap[:, _k.AP_PMINUS] = c.p_minus
        ap[:, _k.AP_SIG] = c.significance
        if c.neuron == "dw":
            op = allspin_operating_point(c, self.n_inputs)
            ip[_k.IP_NORM] = _k.NORM_EQ12
            fp[_k.FP_DW_GAIN], fp[_k.FP_DW_ISAT], fp[_k.FP_DW_LEAK] = op["gain"], op["isat_A"], op["leak"]
            d_g = op["g_p"] - op["g_ap"]
            ap[:, _k.AP_IREAD] = np.asarray(c.significance) * c.read_voltage * d_g
            ap[:, _k.AP_GAMMA] = d_g / op["g_s"]
            ap[:, _k.AP_GAMMA0] = 2 * self.n_inputs * op["g_ap"] / op["g_s"]
        return ip, fp, ap

    def _images(self, images):
        """Images as (n_img, n_inputs), validated; kept in their dtype (converted per chunk)."""
        x = np.asarray(images)
        x = x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(1, -1)
        if x.shape[1] != self.n_inputs:
            raise ValueError(f"images must have {self.n_inputs} pixels each, not {x.shape[1]}")
        if x.size and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"image pixels must be in [0, 1], not [{x.min()!r}, {x.max()!r}]")
        return x

    def present(self, images, *, learn: bool, chunk: int = 1000, progress=None,
                record: bool = False, rng=None):
        """Present images in order; return spike counts (n_img, neurons) int32.

        ``images``: (n_img, ...) in [0, 1], flattened to n_inputs pixels. With ``learn`` the
        devices and theta are updated online; without, both are frozen. ``progress(done,
        total)`` is called after each chunk. ``self.last_attempts`` holds the presentations
        used per image (retries included); with ``record``, ``self.last_raster`` (n_img, steps)
        int32 holds the layer's spike count in each step of each image's last presentation.
        ``rng``: a generator state (:func:`golden._stdp_kernels.rng_state`, updated in place)
        to draw from instead of the network's own.
        """
        x = self._images(images)
        n = x.shape[0]
        counts = np.zeros((n, self.config.neurons), np.int32)
        attempts = np.zeros(n, np.int64)
        raster = np.zeros((n, self.config.steps) if record else (0, 0), np.int32)
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            block = np.ascontiguousarray(x[s:e], dtype=np.float64)
            _k.present_chunk(block, self.states, self.weights, self.theta, self._ip, self._fp,
                             self._ap, self._exp_plus, self._exp_minus, bool(learn),
                             counts[s:e], attempts[s:e], self.stats,
                             raster[s:e] if record else raster,
                             self.rng if rng is None else rng)
            if progress is not None:
                progress(e, n)
        self.presentations += int(attempts.sum())
        self.last_attempts = attempts
        self.last_raster = raster if record else None
        return counts

    def switching_events(self) -> int:
        """Device state changes so far (binary: switches; DW: programming pulses that moved
        the wall), summed over arrays."""
        return int(self.stats[:, _k.ST_POT].sum() + self.stats[:, _k.ST_DEP].sum())

    def programming_energy(self) -> dict:
        """Programming energy of the training so far, J (see the module notes)."""
        from .devices import dw_synapse, mtj_neuron

        c = self.config
        if c.levels == 2:
            e_switch = float(mtj_neuron().write_energy(c.write_current))
            return {"energy_per_event_J": e_switch,
                    "energy_J": e_switch * self.switching_events(),
                    "energy_all_pulses_J": e_switch * int(self.stats[:, _k.ST_ATTEMPTS].sum())}
        dev = dw_synapse(c.levels)
        t_full = 2e-9
        i_w = dev.traverse_current(t_full)
        e_notch = float(dev.write_energy(i_w, t_full / (c.levels - 1)))
        return {"energy_per_event_J": e_notch,
                "energy_J": e_notch * int(self.stats[:, _k.ST_LEVEL_STEPS].sum()),
                "energy_all_pulses_J": e_notch * int(self.stats[:, _k.ST_LEVEL_STEPS].sum())}


def switch_probability(states, x, p_pot, p_dep, seed: int = 0):
    """Apply one probabilistic post-spike update to a column of binary devices (testing aid).

    ``states`` (n,) in {0, 1} and pre traces ``x`` (n,) in [0, 1]; returns the new states.
    Uses the network's own kernel (:func:`golden._stdp_kernels.post_update`).
    """
    s = np.asarray(states, dtype=np.int8).reshape(1, -1, 1).copy()
    xv = np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(-1))
    if xv.size != s.shape[1]:
        raise ValueError(f"x must have {s.shape[1]} values (one per state), not {xv.size}")
    stats = np.zeros((1, _k.ST_SIZE), np.int64)
    _k.post_update(s, 0, 0, xv, 2, True, float(p_pot), float(p_dep), stats, _k.rng_state(seed))
    return s.reshape(-1)


def assign_labels(counts, labels, n_classes: int = 10):
    """Class of each neuron: argmax over classes of its mean spike count (D&C).

    counts (n_img, N), labels (n_img,) -> (N,) int64; -1 for neurons that never fired.
    """
    counts = np.asarray(counts, dtype=np.float64)
    labels = np.asarray(labels)
    rates = np.zeros((n_classes, counts.shape[1]))
    for c in range(n_classes):
        sel = labels == c
        if sel.any():
            rates[c] = counts[sel].mean(axis=0)
    out = rates.argmax(axis=0)
    out[rates.max(axis=0) <= 0] = -1
    return out


def predict(counts, assignments, n_classes: int = 10):
    """Class-averaged response: (n_img, N) counts -> (n_img,) predicted classes (D&C)."""
    counts = np.asarray(counts, dtype=np.float64)
    score = np.full((counts.shape[0], n_classes), -1.0)
    for c in range(n_classes):
        sel = assignments == c
        if sel.any():
            score[:, c] = counts[:, sel].mean(axis=1)
    return score.argmax(axis=1)


def _config_dict(cfg: StdpConfig) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else
                "inf" if isinstance(v, float) and math.isinf(v) else v)
            for k, v in asdict(cfg).items()}


def save_network(path, net: StdpNetwork, assignments, meta: dict | None = None) -> None:
    """Write a trained network to ``path`` (.npz, written atomically).

    Stores the device states (uint8, shape (arrays, n_inputs, neurons)), theta, the neuron
    labels, the configuration and ``meta`` (JSON); the read weights are recomputed on load.
    """
    payload = {"config": _config_dict(net.config), "n_inputs": net.n_inputs, "meta": meta or {}}
    buf = io.BytesIO()
    np.savez_compressed(buf, states=net.states.astype(np.uint8), theta=net.theta,
                        assignments=np.asarray(assignments, np.int64), info=np.array(json.dumps(payload)))
    atomic_write_bytes(path, buf.getvalue())


def load_network(path, seed: int = 0):
    """Read :func:`save_network` output: returns (StdpNetwork, assignments (N,), meta dict).

    ``seed`` seeds the input spike trains of later presentations.
    """
    with np.load(path) as z:
        info = json.loads(str(z["info"]))
        states, theta, assignments = z["states"], z["theta"], z["assignments"]
    cfg = {k: (tuple(v) if isinstance(v, list) else math.inf if v == "inf" else v)
           for k, v in info["config"].items()}
    net = StdpNetwork(StdpConfig(**cfg), info["n_inputs"], seed=seed)
    if states.shape != net.states.shape:
        raise ValueError(f"{path}: states must have shape {net.states.shape}, not {states.shape}")
    net.states[...] = states
    net.theta[...] = theta
    net.refresh_weights()
    return net, assignments, info["meta"]


def energy_at_accuracy(curve, target: float):
    """Switching events and energy (J) when a training curve first reaches ``target`` accuracy.

    ``curve``: the ``run_experiment`` list of checkpoints (ascending ``train_images``). Linear
    interpolation between the last checkpoint below the target and the first at or above it
    (from zero events at zero images before the first). Returns a dict with
    ``train_images``, ``switching_events`` and ``energy_J`` (floats), or None if the curve
    never reaches the target.
    """
    prev = {"train_images": 0, "accuracy": 0.0, "switching_events": 0, "energy_J": 0.0}
    for pt in curve:
        if pt["accuracy"] >= target:
            f = (target - prev["accuracy"]) / (pt["accuracy"] - prev["accuracy"])
            return {key: prev[key] + f * (pt[key] - prev[key])
                    for key in ("train_images", "switching_events", "energy_J")}
        prev = pt
    return None


def _load_mnist():
    from spinbase.data import load_mnist  # the data loader sits above golden in the flow

    (xt, yt), (xs, ys) = load_mnist()
    return xt, yt, xs, ys


def run_experiment(neurons: int = 225, variant: str = "binary", train_images: int = 60000,
                   test_images: int = 10000, seed: int = 0, *, label_images: int | None = None,
                   checkpoints=None, data=None, progress=None, save=None, **overrides) -> dict:
    """Train on MNIST, assign labels, test; return accuracy, timings, switching and energy.

    Parameters
    ----------
    neurons, variant : int, str
        Layer size and synapse variant (see :func:`config_for`).
    train_images : int
        Training presentations: the first ``train_images`` of a seeded permutation of the
        60,000 training images (cycled for more than one epoch).
    test_images : int
        The first ``test_images`` of the 10,000 test images.
    label_images : int, optional
        Training images used (frozen network) to assign labels; default
        ``min(train_images, 10000)``, taken from the same permutation.
    checkpoints : sequence of int, optional
        Training counts at which the network is also evaluated (labels and test, frozen);
        the ``curve`` entry lists accuracy, switching events and energy at each.
    data : tuple, optional
        ``(x_train, y_train, x_test, y_test)`` instead of MNIST.
    progress : callable, optional
        ``progress(phase, done, total)``.
    save : str, optional
        Write the trained network there (:func:`save_network`).
    overrides
        :class:`StdpConfig` fields.

    Returns
    -------
    dict
        accuracy, label/test counts, train/label/test seconds, switching events, energies,
        presentations, the curve, config.
    """
    for name, v, lo in (("train_images", train_images, 1), ("test_images", test_images, 1)):
        if not (isinstance(v, (int, np.integer)) and v >= lo):
            raise ValueError(f"{name} must be an integer >= {lo}, not {v!r}")
    cfg = config_for(variant, neurons, **overrides)
    xt, yt, xs, ys = _load_mnist() if data is None else data
    if test_images > len(xs):
        raise ValueError(f"test_images must be <= {len(xs)}, not {test_images}")
    label_images = min(train_images, 10000) if label_images is None else label_images
    if not 1 <= label_images <= len(xt):
        raise ValueError(f"label_images must be in 1..{len(xt)}, not {label_images}")
    perm = np.random.default_rng(seed).permutation(len(xt))
    order = perm[np.arange(train_images) % len(xt)]
    marks = sorted({int(c) for c in (checkpoints or ())} | {train_images})
    if marks[0] < 1 or marks[-1] > train_images:
        raise ValueError(f"checkpoints must be in 1..train_images={train_images}, not {checkpoints!r}")
    net = StdpNetwork(cfg, int(np.prod(xt.shape[1:])), seed=seed)
    cb = (lambda phase: (lambda d, n: progress(phase, d, n))) if progress else (lambda phase: None)
    lab_idx = perm[:label_images]

    def evaluate():
        # A generator of its own, restarted at each checkpoint: evaluations neither perturb
        # the training stream nor differ between checkpoints in their input spike trains.
        eval_rng = _k.rng_state(seed + (1 << 40))
        t0 = time.perf_counter()
        assignments = assign_labels(net.present(xt[lab_idx], learn=False, progress=cb("label"),
                                                rng=eval_rng), yt[lab_idx])
        t1 = time.perf_counter()
        test_counts = net.present(xs[:test_images], learn=False, progress=cb("test"), rng=eval_rng)
        t2 = time.perf_counter()
        acc = float((predict(test_counts, assignments) == ys[:test_images]).mean())
        return acc, assignments, test_counts, t1 - t0, t2 - t1

    t_train, done, curve, train_spikes, train_presentations = 0.0, 0, [], 0.0, 0
    for mark in marks:
        t0 = time.perf_counter()
        for b in range(done, mark, 10000):  # blocks bound the copies of the images
            e = min(mark, b + 10000)
            train_spikes += float(net.present(xt[order[b:e]], learn=True).sum())
            train_presentations += int(net.last_attempts.sum())
            if progress:
                progress("train", e, train_images)
        t_train += time.perf_counter() - t0
        done = mark
        energy = net.programming_energy()
        events = net.switching_events()
        acc, assignments, test_counts, t_label, t_test = evaluate()
        curve.append({"train_images": mark, "accuracy": acc, "switching_events": events,
                      "energy_J": energy["energy_J"], "train_seconds": t_train})
    res = {
        "variant": variant, "neurons": neurons, "seed": seed,
        "train_images": train_images, "label_images": label_images, "test_images": test_images,
        "accuracy": acc,
        "accuracy_se": math.sqrt(acc * (1 - acc) / test_images),
        "train_seconds": t_train, "label_seconds": t_label, "test_seconds": t_test,
        "train_presentations": train_presentations,
        "mean_train_spikes": train_spikes / train_images,
        "mean_test_spikes": float(test_counts.sum(axis=1).mean()),
        "neurons_assigned": int((assignments >= 0).sum()),
        "devices": int(net.states.size),
        "switching_events": net.switching_events(),
        "potentiations": int(net.stats[:, _k.ST_POT].sum()),
        "depressions": int(net.stats[:, _k.ST_DEP].sum()),
        "programming_pulses": int(net.stats[:, _k.ST_ATTEMPTS].sum()),
        "st_relaxations": int(net.stats[:, _k.ST_RELAX].sum()),
        **energy,
        "curve": curve,
        "config": _config_dict(cfg),
    }
    if save:
        meta = {k: v for k, v in res.items() if k not in ("config", "curve")}
        save_network(save, net, assignments, meta)
    return res
