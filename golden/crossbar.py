"""Spintronic crossbar arrays: the seed's eq. 12, a Kirchhoff (nodal) solve, weight mapping, tiling.

Float64, SI units (conductances in S, voltages in V, currents in A, resistances in ohm).

The array (seed section V.1, Fig. 10(a), REFERENCES.md section 4)
-----------------------------------------------------------------
An m x n layer uses 2m physical rows: input i drives the row pair (V_i+, V_i-). When input i
spikes, ``+dv`` is applied to its V+ row and ``-dv`` to its V- row; otherwise both are held at
0 V. A positive weight sits on the V+ device (G_ij+) with the V- device at its OFF (lowest)
conductance, and vice versa. Column j ends in the neuron's write (heavy-metal) input, a
conductance G_s to ground at potential V_s. Kirchhoff's current law at that node,
``sum_i G_ij+ (V_i+ - V_s) + G_ij- (V_i- - V_s) = G_s V_s``, gives eq. 12::

    I_j = G_s V_s = sum_i (G_ij+ V_i+ + G_ij- V_i-) / (1 + gamma_j),
    gamma_j = sum_i (G_ij+ + G_ij-) / G_s.

**Which devices count in gamma.** The sum runs over *every* device of the column, both
devices of every input, spiking or not: the seed holds non-spiking rows at 0 V (they are
driven, not floating), so each of their devices still conducts from V_s to ground and loads
the node. gamma therefore depends on the programmed conductances only, not on the input.
:func:`nodal_solve` with ideal wires reproduces this to rounding (tests/test_crossbar.py).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .mtj import MtjStack

__all__ = [
    "column_currents",
    "column_gamma",
    "nodal_solve",
    "dw_conductance_range",
    "ap_bias_factor",
    "map_weights",
    "weights_from_conductance",
    "quantize_weights",
    "TiledCrossbar",
]


# Validation -------------------------------------------------------------------------------------
def _positive(name: str, value, unit: str, *, allow_zero: bool = False) -> float:
    v = float(value)
    ok = (v >= 0) if allow_zero else (v > 0)
    if not (math.isfinite(v) and ok):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound} {unit}, not {value!r}")
    return v


def _conductances(g_pos, g_neg):
    g_pos = np.asarray(g_pos, dtype=np.float64)
    g_neg = np.asarray(g_neg, dtype=np.float64)
    if g_pos.ndim != 2 or g_pos.shape != g_neg.shape:
        raise ValueError(f"g_pos and g_neg must be 2-D arrays of one shape (m, n), not {g_pos.shape} and {g_neg.shape}")
    if not (np.all(np.isfinite(g_pos)) and np.all(np.isfinite(g_neg))) or g_pos.min(initial=0) < 0 or g_neg.min(initial=0) < 0:
        raise ValueError(f"g_pos and g_neg must be finite and >= 0 S, not min {min(g_pos.min(initial=0), g_neg.min(initial=0))!r}")
    return g_pos, g_neg


def _spikes(spikes, m: int) -> np.ndarray:
    s = np.asarray(spikes)
    if s.ndim not in (1, 2) or s.shape[-1] != m:
        raise ValueError(f"spikes must have shape ({m},) or (B, {m}), not {s.shape}")
    return s.astype(np.float64)


def _g_s(g_s, n: int) -> np.ndarray:
    g = np.broadcast_to(np.asarray(g_s, dtype=np.float64), (n,))
    if not np.all(np.isfinite(g)) or np.any(g <= 0):
        raise ValueError(f"g_s must be > 0 S (scalar or shape ({n},)), not {g_s!r}")
    return g


# Eq. 12 -----------------------------------------------------------------------------------------
def column_gamma(g_pos, g_neg, g_s) -> np.ndarray:
    """The seed's non-ideality gamma_j = sum_i (G_ij+ + G_ij-) / G_s (eq. 12), shape (n,).

    Parameters
    ----------
    g_pos, g_neg : ndarray, shape (m, n)
        Device conductances on the V+ and V- rows, S.
    g_s : float or ndarray of shape (n,)
        Write (input) conductance of each column's neuron, S.
    """
    g_pos, g_neg = _conductances(g_pos, g_neg)
    return (g_pos + g_neg).sum(axis=0) / _g_s(g_s, g_pos.shape[1])


def column_currents(g_pos, g_neg, spikes, dv, g_s) -> np.ndarray:
    """Column currents of a bipolar crossbar by the seed's eq. 12, A.

    ``I_j = sum_i (G_ij+ - G_ij-) dv s_i / (1 + gamma_j)``, gamma_j from :func:`column_gamma`
    (every device of the column counts; see the module docstring).

    Parameters
    ----------
    g_pos, g_neg : ndarray, shape (m, n)
        Conductances of the devices on the V+ and V- rows, S.
    spikes : ndarray of bool (or 0/1), shape (m,) or (B, m)
        Which inputs spike this time step.
    dv : float
        Read voltage, V (> 0; the seed keeps it below 100 mV).
    g_s : float or ndarray of shape (n,)
        Neuron write conductance, S.

    Returns
    -------
    ndarray, shape (n,) or (B, n)
        Current into each column's neuron, A.
    """
    g_pos, g_neg = _conductances(g_pos, g_neg)
    dv = _positive("dv", dv, "V")
    s = _spikes(spikes, g_pos.shape[0])
    gamma = column_gamma(g_pos, g_neg, g_s)
    return (s @ (g_pos - g_neg)) * dv / (1.0 + gamma)


# Kirchhoff solve -------------------------------------------------------------------------------
def nodal_solve(g_pos, g_neg, spikes, dv, g_s, *, r_row: float = 0.0, r_col: float = 0.0) -> np.ndarray:
    """Column currents from a direct Kirchhoff (nodal-analysis) solve of the crossbar, A.

    Layout: the 2m physical rows are interleaved (row 2i is input i's V+ row, 2i+1 its V-
    row). Each row is driven from its left end (before column 0) by an ideal source; each
    column runs from row 0 down to its neuron, a conductance ``g_s`` to ground below the last
    row. The device at (row r, column j) joins row node (r, j) to column node (r, j). Wire
    segments: ``r_row`` ohm between the driver and column 0 and between adjacent columns on a
    row; ``r_col`` ohm between adjacent rows on a column and from the last row to the neuron.
    A zero resistance merges the nodes it joins (ideal wire), so with ``r_row = r_col = 0``
    the only unknowns are the n neuron nodes and the result is eq. 12 exactly.

    The conductance matrix (a graph Laplacian restricted to the unknown nodes) is assembled
    with scipy.sparse and factorised once (SuperLU); a batch of spike vectors is solved as
    multiple right-hand sides. Size: 4 m n + n unknowns with both wire resistances.

    Parameters
    ----------
    g_pos, g_neg, spikes, dv, g_s
        As in :func:`column_currents`.
    r_row, r_col : float
        Wire resistance per segment along the rows and along the columns, ohm (>= 0).

    Returns
    -------
    ndarray, shape (n,) or (B, n)
        Current through each neuron conductance g_s, A.
    """
    g_pos, g_neg = _conductances(g_pos, g_neg)
    dv = _positive("dv", dv, "V")
    r_row = _positive("r_row", r_row, "ohm", allow_zero=True)
    r_col = _positive("r_col", r_col, "ohm", allow_zero=True)
    m, n = g_pos.shape
    s = _spikes(spikes, m)
    single = s.ndim == 1
    s = np.atleast_2d(s)
    g_s = _g_s(g_s, n)
    rows = 2 * m

    # Node numbering: unknowns first, then the 2m driver nodes (known voltages); -1 is ground.
    n_unknown = 0

    def new(count):
        nonlocal n_unknown
        idx = np.arange(n_unknown, n_unknown + count)
        n_unknown += count
        return idx

    neuron = new(n)                                               # (n,)
    col_node = (np.broadcast_to(neuron, (rows, n)) if r_col == 0
                else new(rows * n).reshape(rows, n))              # (2m, n)
    row_node = None if r_row == 0 else new(rows * n).reshape(rows, n)
    driver = n_unknown + np.arange(rows)                          # known nodes
    if row_node is None:
        row_node = np.broadcast_to(driver[:, None], (rows, n))

    g_dev = np.empty((rows, n))
    g_dev[0::2], g_dev[1::2] = g_pos, g_neg
    a = [row_node.ravel(), neuron]
    b = [col_node.ravel(), np.full(n, -1)]
    g = [g_dev.ravel(), g_s]
    if r_row > 0:
        a += [driver, row_node[:, :-1].ravel()]
        b += [row_node[:, 0], row_node[:, 1:].ravel()]
        g += [np.full(rows, 1 / r_row), np.full(rows * (n - 1), 1 / r_row)]
    if r_col > 0:
        a += [col_node[:-1].ravel(), col_node[-1]]
        b += [col_node[1:].ravel(), neuron]
        g += [np.full((rows - 1) * n, 1 / r_col), np.full(n, 1 / r_col)]
    a, b, g = (np.concatenate(x) for x in (a, b, g))

    # Laplacian over all non-ground nodes: L[a,a] += g, L[b,b] += g, L[a,b] = L[b,a] -= g.
    total = n_unknown + rows
    keep_b = b >= 0
    ii = np.concatenate([a, b[keep_b], a[keep_b], b[keep_b]])
    jj = np.concatenate([a, b[keep_b], b[keep_b], a[keep_b]])
    vv = np.concatenate([g, g[keep_b], -g[keep_b], -g[keep_b]])
    lap = sp.csr_matrix((vv, (ii, jj)), shape=(total, total))
    l_uu = lap[:n_unknown, :n_unknown].tocsc()
    l_uk = lap[:n_unknown, n_unknown:]

    v_drive = np.empty((s.shape[0], rows))
    v_drive[:, 0::2], v_drive[:, 1::2] = dv * s, -dv * s
    rhs = -(l_uk @ v_drive.T)                                     # (n_unknown, B)
    v = spla.splu(l_uu).solve(np.ascontiguousarray(rhs))
    currents = (g_s[:, None] * v[neuron]).T                        # (B, n)
    return currents[0] if single else currents


# Weight mapping -------------------------------------------------------------------------------
def dw_conductance_range(device) -> tuple[float, float]:
    """(g_min, g_max) of a domain-wall synapse: eq. 11 at the two ends of the track, S.

    g_min = G_AP + G_DW (wall at x = 0), g_max = G_P + G_DW (x = L).

    Parameters
    ----------
    device : golden.dw.DomainWallDevice
        E.g. :func:`golden.devices.dw_synapse`.
    """
    return float(device.conductance(0.0)), float(device.conductance(device.length))


def ap_bias_factor(dv, g_min: float, g_max: float, *, stack: MtjStack | None = None):
    """G_AP(dv) / G_AP(0): how much the antiparallel conductance grows at read bias dv.

    The seed (section IV.2) notes that R_AP falls with bias much more than R_P, shrinking
    the ON/OFF ratio; eq. 3 (via :class:`golden.mtj.MtjStack`, whose default coefficients
    halve the TMR at 0.5 V and keep R_P bias independent) gives the factor. The default stack
    has R_P = 1/g_max and R_AP = 1/g_min.

    Parameters
    ----------
    dv : float or ndarray
        Voltage across the device, V.
    g_min, g_max : float
        Zero-bias AP and P conductances, S.
    stack : MtjStack, optional
        Junction whose eq. 3 coefficients to use.

    Returns
    -------
    float or ndarray
        Factor (>= 1 for the default stack), shaped like dv.
    """
    if stack is None:
        stack = MtjStack(r_p=1.0 / _positive("g_max", g_max, "S"), r_ap=1.0 / _positive("g_min", g_min, "S"))
    return (stack.r_ap / stack.r_ap_at(np.asarray(dv, dtype=np.float64)))[()]


def _levels(levels) -> int:
    if isinstance(levels, bool) or int(levels) != levels or levels < 2:
        raise ValueError(f"levels must be an integer >= 2, not {levels!r}")
    return int(levels)


def _range(g_min, g_max):
    g_min = _positive("g_min", g_min, "S")
    g_max = float(g_max)
    if not (math.isfinite(g_max) and g_max > g_min):
        raise ValueError(f"g_max must be > g_min = {g_min!r} S, not {g_max!r}")
    return g_min, g_max


def _w_max(w, w_max):
    if w_max is None:
        w_max = float(np.max(np.abs(w), initial=0.0)) or 1.0
    return _positive("w_max", w_max, "(weight units)")


def map_weights(w, g_min: float, g_max: float, levels: int, *, w_max: float | None = None,
                variation: float = 0.0, rng=None, read_voltage: float | None = None,
                stack: MtjStack | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Map real weights onto device pairs (G+, G-), each quantised to `levels` levels, S.

    Level k (0 .. levels-1) is ``g_min + k (g_max - g_min) / (levels - 1)``; the weight
    magnitude |w| / w_max (clipped to 1) is rounded to the nearest level. A positive weight
    programs G+ to that level and leaves G- at g_min (OFF), a negative one the reverse (seed
    section V.1), so ``G+ - G- = sign(w) k (g_max - g_min) / (levels - 1)`` and one weight
    unit is ``G_o = (g_max - g_min) / w_max`` (:func:`weights_from_conductance` inverts).

    Parameters
    ----------
    w : ndarray, shape (m, n)
        Real weights (rows: inputs, columns: output neurons).
    g_min, g_max : float
        Lowest (OFF, all-AP) and highest (all-P) device conductance, S; see
        :func:`dw_conductance_range`.
    levels : int
        Programmable levels per device (>= 2).
    w_max : float, optional
        Weight mapped to g_max; default max |w| (1 if w is all zero).
    variation : float
        Device-to-device variation: every device is multiplied by ``exp(variation z)``,
        z ~ N(0, 1) independent, i.e. lognormal with median 1 and sigma(ln G) = `variation`.
    rng : numpy.random.Generator, int or None
        Source of the variation.
    read_voltage : float, optional
        If given, the read bias dv (V): the AP part of each device, G_AP (1 - x/L) in eq. 11,
        is scaled by :func:`ap_bias_factor` (the P part is bias independent). Applied before
        the variation.
    stack : MtjStack, optional
        Passed to :func:`ap_bias_factor`.

    Returns
    -------
    (g_pos, g_neg) : ndarrays, shape (m, n)
    """
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2 or not np.all(np.isfinite(w)):
        raise ValueError(f"w must be a finite 2-D array (m, n), not shape {w.shape}")
    g_min, g_max = _range(g_min, g_max)
    levels = _levels(levels)
    w_max = _w_max(w, w_max)
    variation = _positive("variation", variation, "(sigma of ln G)", allow_zero=True)
    k = np.clip(np.rint(np.abs(w) / w_max * (levels - 1)), 0, levels - 1)
    frac_on = k / (levels - 1)                       # x/L of the programmed device
    frac = np.stack([np.where(w > 0, frac_on, 0.0), np.where(w < 0, frac_on, 0.0)])
    ap = g_min
    if read_voltage is not None:
        ap = g_min * ap_bias_factor(read_voltage, g_min, g_max, stack=stack)
    g = g_max * frac + ap * (1.0 - frac)
    if variation > 0:
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        g = g * np.exp(variation * rng.standard_normal(g.shape))
    return g[0], g[1]


def weights_from_conductance(g_pos, g_neg, g_min: float, g_max: float, w_max: float) -> np.ndarray:
    """Inverse of :func:`map_weights`: ``w = (G+ - G-) w_max / (g_max - g_min)``, shape (m, n)."""
    g_min, g_max = _range(g_min, g_max)
    w_max = _positive("w_max", w_max, "(weight units)")
    return (np.asarray(g_pos, dtype=np.float64) - np.asarray(g_neg, dtype=np.float64)) * (w_max / (g_max - g_min))


def quantize_weights(w, levels: int, *, w_max: float | None = None) -> np.ndarray:
    """The weights a `levels`-level bipolar mapping realises: sign(w) round(|w|/w_max (levels-1)) w_max/(levels-1), clipped."""
    w = np.asarray(w, dtype=np.float64)
    levels = _levels(levels)
    w_max = _w_max(w, w_max)
    k = np.clip(np.rint(np.abs(w) / w_max * (levels - 1)), 0, levels - 1)
    return np.sign(w) * k * (w_max / (levels - 1))


# Tiling -----------------------------------------------------------------------------------------
class TiledCrossbar:
    """An (m, n) layer on ceil(m/tile) x ceil(n/tile) crossbar arrays of tile x tile inputs.

    The seed's system (Ref. 129, REFERENCES.md 5) uses 32 x 32 arrays, time-multiplexed. Each
    array has its own eq. 12 factor 1/(1 + gamma_j) over the rows it holds (its neurons see
    only its devices); the partial column currents of the row tiles are scaled back to weight
    units (divided by dv G_o, G_o = (g_max - g_min)/w_max) and summed. Rows and columns of the
    last tiles beyond the layer are left unprogrammed and disconnected (they do not load
    gamma). Column tiling does not change any column's current; it sets the array count.

    Parameters
    ----------
    w : ndarray, shape (m, n)
        Layer weights (inputs x outputs).
    tile : int
        Inputs (rows pairs) and outputs per array (default 32).
    g_min, g_max, levels : optional
        Device range (S) and levels; default: :func:`golden.devices.dw_synapse` through
        :func:`dw_conductance_range` and its ``levels`` (16).
    dv : float
        Read voltage, V (default 50 mV, below the seed's 100 mV).
    g_s : float, optional
        Neuron write conductance, S; default 1 / R_HM of :func:`golden.devices.dw_neuron`
        (6.4 mS). With the default devices a full 32-row tile has gamma = 0.73-1.17: the seed's
        gamma << 1 needs smaller synaptic conductances (thicker MgO, longer writes).
    w_max, variation, rng, read_voltage
        Passed to :func:`map_weights` (one w_max for the whole layer).

    Attributes
    ----------
    g_pos, g_neg : ndarray, shape (m, n)
        Programmed conductances, S.
    gamma : ndarray, shape (row_tiles, n)
        Eq. 12 gamma of each column within each row tile.
    weights : ndarray, shape (m, n)
        The realised weights (G+ - G-)/G_o (quantised, with variation).
    g_unit : float
        G_o, S per weight unit.
    """

    def __init__(self, w, tile: int = 32, *, g_min: float | None = None, g_max: float | None = None,
                 levels: int | None = None, dv: float = 0.05, g_s: float | None = None,
                 w_max: float | None = None, variation: float = 0.0, rng=None,
                 read_voltage: float | None = None):
        if isinstance(tile, bool) or int(tile) != tile or tile < 1:
            raise ValueError(f"tile must be an integer >= 1, not {tile!r}")
        self.tile = int(tile)
        if g_min is None or g_max is None or levels is None or g_s is None:
            from .devices import dw_neuron, dw_synapse

            syn = dw_synapse()
            lo, hi = dw_conductance_range(syn)
            g_min = lo if g_min is None else g_min
            g_max = hi if g_max is None else g_max
            levels = syn.levels if levels is None else levels
            g_s = 1.0 / dw_neuron().r_hm if g_s is None else g_s
        w = np.asarray(w, dtype=np.float64)
        self.g_min, self.g_max = _range(g_min, g_max)
        self.levels = _levels(levels)
        self.dv = _positive("dv", dv, "V")
        self.g_s = _positive("g_s", g_s, "S")
        self.w_max = _w_max(w, w_max)
        self.g_pos, self.g_neg = map_weights(w, self.g_min, self.g_max, self.levels, w_max=self.w_max,
                                             variation=variation, rng=rng, read_voltage=read_voltage)
        self.shape = w.shape
        m, n = w.shape
        self.row_tiles, self.col_tiles = -(-m // self.tile), -(-n // self.tile)
        self.g_unit = (self.g_max - self.g_min) / self.w_max
        self.weights = weights_from_conductance(self.g_pos, self.g_neg, self.g_min, self.g_max, self.w_max)
        bounds = np.arange(0, m, self.tile)
        self.gamma = np.add.reduceat(self.g_pos + self.g_neg, bounds, axis=0) / self.g_s  # (row_tiles, n)

    @property
    def n_arrays(self) -> int:
        """Number of tile x tile arrays: row_tiles * col_tiles."""
        return self.row_tiles * self.col_tiles

    def tile_currents(self, spikes) -> np.ndarray:
        """Eq. 12 column currents of every row tile, A, shape (row_tiles, n) or (B, row_tiles, n)."""
        m, n = self.shape
        s = _spikes(spikes, m)
        single = s.ndim == 1
        s = np.atleast_2d(s)
        pad = self.row_tiles * self.tile - m
        diff = np.pad(self.g_pos - self.g_neg, ((0, pad), (0, 0))).reshape(self.row_tiles, self.tile, n)
        s = np.pad(s, ((0, 0), (0, pad))).reshape(s.shape[0], self.row_tiles, self.tile)
        out = np.einsum("btk,tkn->btn", s, diff) * self.dv / (1.0 + self.gamma)
        return out[0] if single else out

    def currents(self, spikes) -> np.ndarray:
        """Summed column input in weight units: sum over row tiles of I_tile / (dv G_o).

        Equals ``spikes @ weights`` when every gamma -> 0; each tile's share is divided by its
        own (1 + gamma). Shape (n,) for spikes (m,), (B, n) for spikes (B, m).
        """
        return self.tile_currents(spikes).sum(axis=-2) / (self.dv * self.g_unit)
