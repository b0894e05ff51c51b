"""The non-step domain-wall neuron as a circuit (seed section IV.1 "Non-Step Neurons", Fig. 6).

Write: the input current I_in flows through the heavy metal for t_w and moves the wall from
the reset edge (x = 0, all AP) to x = v(I_in) t_w (golden.dw.DomainWallDevice.advance, the
analytic 1-D steady velocity). Read: the neuron MTJ (eq. 11, its P and AP domains in parallel)
and a reference MTJ fixed in AP form a divider across the read voltage; the mid-point drives
the gate of a transistor in saturation, whose drain current I_out feeds the fan-out synapses
(the seed: "approximately linear" I_out(I_in), Ref. 107). Reset: the write pulse reversed.

    V_node solves  I_MTJ,n(V_read - V_node; x) = I_MTJ,ref(V_node),   I = V / R(V),
    I_out = k (V_node - V_th)^a   (alpha-power law, Sakurai & Newton, IEEE JSSC 25, 584 (1990)).

Junctions: golden.dw's calibrated device (RA 10 ohm um^2 and TMR 120 % at the reference MgO
thickness 1.0 nm) through golden.mtj.MtjStack, which adds eq. 3's oxide-thickness law (10x
per 0.3 nm) and the AP bias dependence (TMR halves at 0.5 V). The seed keeps the read current
low "by ensuring proper oxide thickness": :func:`oxide_for_margin` finds that thickness.

Read disturb: the read current leaves the free layer through the heavy metal (terminals
T1 -> T3), so in the worst case all of it flows along the track past the wall, which has no
intrinsic pinning in this model (a uniform track): any current moves it, at the same analytic
velocity as a write. The read is disturb-free if the wall moves less than half a level
spacing, L / (2 (levels - 1)), in t_read; the critical read current is therefore
``|traverse_current(2 (levels - 1) t_read)|`` and the margin is that over the largest read
current (wall at x = L, the divider's lowest resistance). :func:`check_read_disturb` raises a
SpintwinError below margin 1.

Energy per read: V_read x I_read(x) x t_read of the divider (mean over the input range) and
the output stage's V_DD x I_out x t_read (the current delivered to the fan-out). The divider's
node must also settle: tau = C_node (R_n || R_ref) is reported against t_read. The two pull
against each other: the critical read charge Q = I_c t_read is fixed by the wall (7.1e-16 C for
16 levels), R ~ V_read margin t_read / Q, so t_read / tau ~ 4 Q / (C_node V_read margin)
whatever t_read is.

Defaults (:func:`characterise`): input 0-10.6 uA (2 ns write), I_out 2.0-6.9 uA, linearity
error 3.7 % of the output span (5.6 % without the AP bias law: the divider's compression is
partly undone by the falling TMR), MgO 1.57 nm (R_P 490 kohm), read current 0.35 uA against
the 0.71 uA critical one (margin 2.0), read energy 0.15 fJ in the divider plus 4.2 fJ
delivered by the output stage, tau = 0.25 ns (t_read / tau = 4.0); write + reset at full
scale 0.07 fJ (golden.dw).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import brentq

from spinbase.errors import SpintwinError

from .dw import DomainWallDevice, calibrated_device
from .mtj import MtjStack

__all__ = ["DwNeuronCircuit", "transfer_curve", "linearity_error", "read_disturb", "check_read_disturb",
           "read_energy", "oxide_for_margin", "characterise", "DEFAULT_T_MGO"]

#: MgO thickness of both junctions, m: :func:`oxide_for_margin` (margin 2) for the defaults gives
#: 1.568 nm; rounded up to 1.57 nm (R_P 78 x the 1.0 nm junction's 6.25 kohm: 490 kohm).
DEFAULT_T_MGO = 1.57e-9


@dataclass(frozen=True)
class DwNeuronCircuit:
    """DW neuron MTJ + AP reference MTJ divider driving a saturated NMOS (SI units).

    Parameters
    ----------
    device : DomainWallDevice
        The neuron (default golden.dw.calibrated_device(): 80 x 20 nm, 16 levels).
    write_duration : float
        Write pulse t_w, s; the input range is [0, traverse_current(t_w)] (full scale: the wall
        crosses the track).
    read_voltage : float
        Divider supply, V (> v_th).
    read_duration : float
        Read window, s.
    t_mgo : float
        MgO thickness of both junctions, m.
    bias_dependence : bool
        Use MtjStack's AP bias law (True) or the zero-bias resistances.
    v_th, alpha_power, k_out : float
        Output transistor: threshold (V), alpha-power exponent, and I = k (V_gs - V_th)^a
        prefactor (A / V^a). Assumptions for a low-V_th 45 nm NMOS: 0.2 V, 1.3 (short channel,
        Sakurai-Newton), 100 uA / V^1.3.
    vdd : float
        Drain supply of the output stage, V (0.9 V, golden.energy's CMOS supply).
    node_capacitance : float
        Divider node capacitance (gate + wire), F (assumption: 0.5 fF).
    """

    device: DomainWallDevice = field(default_factory=calibrated_device)
    write_duration: float = 2e-9
    read_voltage: float = 0.5
    read_duration: float = 1e-9
    t_mgo: float = DEFAULT_T_MGO
    bias_dependence: bool = True
    v_th: float = 0.2
    alpha_power: float = 1.3
    k_out: float = 100e-6
    vdd: float = 0.9
    node_capacitance: float = 0.5e-15

    def __post_init__(self):
        for f in ("write_duration", "read_voltage", "read_duration", "t_mgo", "alpha_power", "k_out", "vdd",
                  "node_capacitance"):
            v = getattr(self, f)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise ValueError(f"DwNeuronCircuit.{f} must be > 0, not {v!r}")
        if not 0 <= self.v_th < self.read_voltage:
            raise ValueError(f"DwNeuronCircuit.v_th must be in [0, read_voltage), not {self.v_th!r}")

    @property
    def stack(self) -> MtjStack:
        """The junction (both MTJs): the device's R_P, R_AP at the reference 1.0 nm MgO."""
        return MtjStack(r_p=1 / self.device.g_p, r_ap=1 / self.device.g_ap)

    @property
    def full_scale_input(self) -> float:
        """Input current that moves the wall across the track in t_w, A."""
        return abs(self.device.traverse_current(self.write_duration))

    def _g(self, v):
        """(G_P, G_AP) chord conductances at bias |v| (V), S."""
        s = self.stack
        v = np.abs(v) if self.bias_dependence else 0.0 * np.asarray(v)
        return 1 / s.r_p_at(v, self.t_mgo), 1 / s.r_ap_at(v, self.t_mgo)

    def position(self, i_in) -> np.ndarray:
        """Wall position after the write from the reset edge, m (clipped to the track)."""
        return self.device.advance(0.0, i_in, self.write_duration)

    def node_voltage(self, x) -> np.ndarray:
        """Divider mid-point voltage for wall position(s) x (m), V; bisection, 1e-12 V."""
        f = np.asarray(x, dtype=float) / self.device.length
        lo = np.zeros_like(f)
        hi = np.full_like(f, self.read_voltage)
        for _ in range(45):
            mid = 0.5 * (lo + hi)
            vn = self.read_voltage - mid
            gp_n, gap_n = self._g(vn)
            _, gap_r = self._g(mid)
            excess = (f * gp_n + (1 - f) * gap_n) * vn - gap_r * mid  # > 0: node must rise
            lo, hi = np.where(excess > 0, mid, lo), np.where(excess > 0, hi, mid)
        return (0.5 * (lo + hi))[()]

    def read_current(self, x) -> np.ndarray:
        """Divider (read) current at wall position(s) x, A."""
        vn = self.node_voltage(x)
        _, gap_r = self._g(vn)
        return (gap_r * vn)[()]

    def output_current(self, i_in) -> np.ndarray:
        """I_out(I_in): the saturated transistor's drain current for input current(s) I_in (A), A."""
        vg = self.node_voltage(self.position(i_in))
        return (self.k_out * np.clip(vg - self.v_th, 0.0, None) ** self.alpha_power)[()]


def transfer_curve(circuit: DwNeuronCircuit, points: int = 101):
    """(I_in, I_out) on ``points`` equally spaced inputs over [0, full scale], A."""
    i_in = np.linspace(0.0, circuit.full_scale_input, points)
    return i_in, circuit.output_current(i_in)


def linearity_error(i_in, i_out) -> float:
    """Max |I_out - least-squares line| over the range, in % of the output span."""
    i_in, i_out = np.asarray(i_in, dtype=float), np.asarray(i_out, dtype=float)
    slope, icpt = np.polyfit(i_in, i_out, 1)
    span = i_out.max() - i_out.min()
    if not span > 0:
        raise ValueError("the output does not vary over the input range")
    return float(np.max(np.abs(i_out - (slope * i_in + icpt))) / span * 100)


def read_disturb(circuit: DwNeuronCircuit) -> dict:
    """Read current against the disturb-free limit (module docstring).

    Returns ``read_current`` (largest, wall at L), ``critical_current`` (moves the wall half a
    level in t_read), ``margin`` = critical / read, and the heavy-metal current densities
    ``read_density``, ``critical_density`` (A/m^2).
    """
    dev = circuit.device
    i_r = float(circuit.read_current(dev.length))
    i_c = abs(dev.traverse_current(2 * (dev.levels - 1) * circuit.read_duration))
    area = dev.width * dev.t_hm
    return {"read_current": i_r, "critical_current": i_c, "margin": i_c / i_r,
            "read_density": i_r / area, "critical_density": i_c / area}


def check_read_disturb(circuit: DwNeuronCircuit) -> float:
    """The read-disturb margin; raises SpintwinError if it is below 1 (the read moves the wall)."""
    r = read_disturb(circuit)
    if not r["margin"] >= 1:
        raise SpintwinError(
            f"DW neuron read disturbs the wall: read current {r['read_current'] * 1e6:.3g} uA exceeds the "
            f"{r['critical_current'] * 1e6:.3g} uA that moves it half a level in {circuit.read_duration * 1e9:g} ns "
            f"(margin {r['margin']:.2f}); use a thicker MgO (t_mgo), a lower read voltage or a shorter read")
    return r["margin"]


def read_energy(circuit: DwNeuronCircuit, points: int = 101) -> dict:
    """Energy per read over the input range, J: divider mean and max, output stage mean, and the
    settling time constant tau = C_node (R_n || R_ref) (s) at the slowest point."""
    i_in = np.linspace(0.0, circuit.full_scale_input, points)
    x = circuit.position(i_in)
    i_r = circuit.read_current(x)
    div = circuit.read_voltage * i_r * circuit.read_duration
    out = circuit.vdd * circuit.output_current(i_in) * circuit.read_duration
    vn = circuit.node_voltage(x)
    r_ref = vn / i_r
    r_n = (circuit.read_voltage - vn) / i_r
    tau = circuit.node_capacitance * np.max(r_n * r_ref / (r_n + r_ref))
    return {"divider_mean": float(div.mean()), "divider_max": float(div.max()), "output_mean": float(out.mean()),
            "total_mean": float(div.mean() + out.mean()), "tau": float(tau),
            "read_over_tau": circuit.read_duration / float(tau)}


def oxide_for_margin(margin: float = 2.0, circuit: DwNeuronCircuit | None = None) -> float:
    """MgO thickness (m) at which the read-disturb margin equals ``margin`` (other fields from ``circuit``)."""
    base = circuit or DwNeuronCircuit()

    def gap(t):
        return np.log(read_disturb(replace(base, t_mgo=t))["margin"] / margin)

    return brentq(gap, 0.5e-9, 3e-9, xtol=1e-15)


def characterise(circuit: DwNeuronCircuit | None = None, points: int = 101) -> dict:
    """The circuit's figures: linearity error (%), read disturb, read energy, output range, write energy."""
    c = circuit or DwNeuronCircuit()
    i_in, i_out = transfer_curve(c, points)
    fs = c.full_scale_input
    write = float(c.device.write_energy(fs, c.write_duration))
    return {"linearity_error_pct": linearity_error(i_in, i_out), "full_scale_input": fs,
            "output_min": float(i_out.min()), "output_max": float(i_out.max()),
            "read_disturb": read_disturb(c), "read_energy": read_energy(c, points),
            "write_reset_energy_full_scale": 2 * write, "t_mgo": c.t_mgo}
