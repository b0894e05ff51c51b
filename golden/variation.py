"""Device variation and crossbar non-idealities applied to networks 1-3 (issue 18, item 3).

Float64, SI units (conductances in S, resistances in ohm, voltages in V). Every perturbation
acts on the device conductances of the bipolar crossbar mapping that :mod:`golden.crossbar`
uses (seed section V.1, Fig. 10(a)): a weight w of a layer with top weight ``w_max`` is the
pair ``G+ = g_min + dG max(w, 0) / w_max``, ``G- = g_min + dG max(-w, 0) / w_max``
(``dG = g_max - g_min``; one weight unit is ``G_o = dG / w_max``), and the weight a perturbed
pair realises is read back as ``w' = w + ((G+' - G+) - (G-' - G-)) / G_o``: with no
perturbation the difference is exactly 0.0 and ``w' = w`` bit for bit. The device range is
the calibrated DW synapse's (:func:`golden.devices.dw_synapse`, eq. 11 at the track ends:
72.7 and 160 uS, so an OFF device carries 45 % of an ON one and its spread counts).

Perturbations (``kind``; ``value`` is the swept parameter)
----------------------------------------------------------
``"sigma"``
    Device-to-device conductance spread, every device of the pair: ``G' = G exp(value z)``
    (lognormal, ``value`` = sigma of ln G, as :func:`golden.crossbar.map_weights`) or
    ``G' = G max(1 + value z, 0)`` (``dist="gaussian"``), z ~ N(0, 1) per device.
``"stuck"``
    A fraction ``value`` of the devices is stuck, half at G_on = g_max and half at
    G_off = g_min (``on_fraction``), whatever they were programmed to.
``"dw_pinning"``
    The 16-level DW mapping (:func:`golden.crossbar.map_weights`'s levels; eq. 11 is linear
    in the wall position, so a notch is ``w_max / (levels - 1)``): each device programmed to
    an interior notch (0 < k < levels - 1) lands ``round(value z)`` notches off (the wall stops
    at a pinning site, but maybe the wrong one; ``value`` in notches), clipped to the track;
    devices at the two ends are driven against the track end and land exactly. The
    reference (value 0) is the 16-level quantised network, not the float one.
``"gamma"``
    Eq. 12's loading, uncompensated: each 32 x 32 tile's column j gets
    ``1 / (1 + gamma_tj)``, ``gamma_tj = sum_tile (G+ + G-) / G_s``, with ``G_s`` set so that
    the layer's mean gamma equals ``value``; the designer's calibration divides the layer by
    its mean ``1 / (1 + gamma)`` (:func:`golden.snn.program_layer`'s ``calibrate_gamma``), so
    what remains is the column-to-column spread of gamma.
``"ir_drop"``
    Wire resistance ``value`` ohm per segment of row and column wire, through the Kirchhoff
    solve :func:`golden.crossbar.nodal_solve` of every tile at the DW neuron's input
    conductance (``1 / R_HM`` = 6.4 mS, gamma ~ 1 for a full tile); eq. 12's gamma of each tile
    column is compensated (as ``DW_CONFIG``'s pre-distortion does), so what remains is the IR
    drop. :func:`ir_effective_weights` also reports the IR drop as an extra effective gamma.
``"mtj_dispersion"`` (network 2)
    Per-neuron spread of the MTJ switching sigmoid ``P = sigmoid((I - I50_j) / w_j)``:
    ``I50_j = I50 (1 + value z1)``, ``w_j = w max(1 + value z2, 0.05)`` (relative sigma of both;
    at the golden fit w / I50 = 0.16, so a relative I50 spread of 5 % shifts a neuron by
    0.32 widths). Every neuron of a conv layer (position and channel) is its own device.

Network 1 runs as its description (:func:`perturb_network`, DW IF neurons, golden.snn.simulate):
its average-pooling layers are crossbars of fixed 1/4 devices (:func:`pool_as_conv`) and are
perturbed with the trained synapses. Network 2 folds its pooling into the next layer's synapses (four devices
of w / 4 per stored weight in the physical array): perturbing one pair per stored weight
overstates the spread of conv2 and fc by up to 2x (four independent errors average).

Network 3 (:mod:`golden.stdp_network`, binary MTJ synapses): a device's state k in {0, 1} is
read as ``(G - G_AP) / (G_P - G_AP)`` (a reference column subtracts the nominal AP leakage),
so a perturbed device reads ``(G_k f - G_AP) / (G_P - G_AP)``, f its spread factor, then the
column normalisation of the network is applied to these read weights (by the network's own
kernel, so an unperturbed network reads bit for bit as before). Stuck devices hold their
state through learning (forced back after every image). On-line STDP on the perturbed
devices: one image at a time, after which the read weights are recomputed from the states
through the perturbation. Within an image the kernel recomputes a column it updates without
the perturbation (it knows only the states): the winning neuron's column is ideal for the
rest of that image. The frozen evaluations (labelling, test) are exact.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from . import network as nw
from .crossbar import column_gamma, dw_conductance_range, nodal_solve

__all__ = [
    "KINDS",
    "perturb_network",
    "pool_as_conv",
    "network_accuracy_vs_variation",
    "device_range",
    "pair_conductances",
    "weights_from_pairs",
    "spread",
    "stick",
    "pin",
    "layer_matrices",
    "from_matrices",
    "perturb_matrix",
    "gamma_weights",
    "ir_effective_weights",
    "perturb_weights",
    "mtj_dispersion",
    "simulate_dispersed",
    "stage_shapes",
    "stdp_read_levels",
    "accuracy_vs_variation",
]

#: Kinds per network: networks 1 and 2 by golden.snn, network 3 ("stdp") by golden.stdp_network.
KINDS = {
    "cnn-if": ("sigma", "stuck", "dw_pinning", "gamma", "ir_drop"),
    "cnn-stochastic": ("sigma", "stuck", "dw_pinning", "gamma", "ir_drop", "mtj_dispersion"),
    "stdp": ("sigma", "stuck"),
}


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _nonneg(name: str, value) -> float:
    v = float(value)
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
    return v


def device_range() -> tuple[float, float]:
    """(g_min, g_max) of the calibrated DW synapse, S (:func:`golden.crossbar.dw_conductance_range`)."""
    from .devices import dw_synapse

    return dw_conductance_range(dw_synapse())


# Conductance pairs ------------------------------------------------------------------------------
def pair_conductances(w, g_min: float, g_max: float, w_max: float | None = None):
    """The continuous bipolar mapping of weights w (any shape) onto (G+, G-), S.

    ``G+ = g_min + (g_max - g_min) max(w, 0) / w_max`` and the mirror for G-; ``w_max``
    defaults to max |w| (1 if all zero). Returns (g_pos, g_neg, g_unit) with
    ``g_unit = (g_max - g_min) / w_max`` S per weight unit.
    """
    w = np.asarray(w, dtype=np.float64)
    if w_max is None:
        w_max = float(np.max(np.abs(w), initial=0.0)) or 1.0
    if not (g_max > g_min > 0 and w_max > 0):
        raise ValueError(f"need g_max > g_min > 0 S and w_max > 0, not {g_min!r}, {g_max!r}, {w_max!r}")
    unit = (g_max - g_min) / w_max
    return g_min + unit * np.maximum(w, 0.0), g_min + unit * np.maximum(-w, 0.0), unit


def weights_from_pairs(w, g_pos, g_neg, g_pos2, g_neg2, g_unit: float) -> np.ndarray:
    """Weights realised by perturbed pairs: ``w + ((G+' - G+) - (G-' - G-)) / g_unit``.

    Exactly ``w`` (as float64) when the pairs are unchanged.
    """
    return np.asarray(w, dtype=np.float64) + ((g_pos2 - g_pos) - (g_neg2 - g_neg)) / g_unit


def spread(g, sigma: float, rng=None, *, dist: str = "lognormal") -> np.ndarray:
    """Device-to-device spread of conductances g (any shape), S.

    ``dist="lognormal"``: ``g exp(sigma z)`` (median g, sigma of ln G = sigma);
    ``"gaussian"``: ``g max(1 + sigma z, 0)`` (relative sigma); z ~ N(0, 1) per device.
    sigma = 0 returns g unchanged (a copy).
    """
    g = np.asarray(g, dtype=np.float64)
    sigma = _nonneg("sigma", sigma)
    z = _rng(rng).standard_normal(g.shape)
    if dist == "lognormal":
        return g * np.exp(sigma * z)
    if dist == "gaussian":
        return g * np.maximum(1.0 + sigma * z, 0.0)
    raise ValueError(f"dist must be 'lognormal' or 'gaussian', not {dist!r}")


def stick(g, p: float, g_off: float, g_on: float, rng=None, *, on_fraction: float = 0.5):
    """Stuck-at faults: each device independently stuck with probability p; a stuck device
    reads g_on with probability ``on_fraction``, else g_off. Returns (g', stuck mask, on mask).

    The draws are two uniforms per device, compared with p and on_fraction, so for one rng
    state a larger p sticks a superset of the devices.
    """
    g = np.asarray(g, dtype=np.float64)
    p = _nonneg("p", p)
    if p > 1 or not 0 <= on_fraction <= 1:
        raise ValueError(f"p and on_fraction must be in [0, 1], not {p!r}, {on_fraction!r}")
    rng = _rng(rng)
    u, v = rng.random(g.shape), rng.random(g.shape)
    stuck, on = u < p, v < on_fraction
    return np.where(stuck, np.where(on, g_on, g_off), g), stuck, stuck & on


def pin(k, levels: int, sigma: float, rng=None, *, mode: str = "notch") -> np.ndarray:
    """DW pinning: the programmed notch k (integers 0..levels-1, any shape) lands off.

    ``mode="notch"``: ``k + round(sigma z)`` (the wall stops at a pinning site, the wrong one
    with probability ``2 Q(0.5 / sigma)``); ``"gaussian"``: ``k + sigma z`` (a continuous
    position error, in notches). Devices at k = 0 or levels - 1 (driven against a track end)
    are exact; the result is clipped to [0, levels - 1]. Returns float64 positions in notches.
    """
    k = np.asarray(k, dtype=np.float64)
    sigma = _nonneg("sigma", sigma)
    z = sigma * _rng(rng).standard_normal(k.shape)
    if mode == "notch":
        z = np.rint(z)
    elif mode != "gaussian":
        raise ValueError(f"mode must be 'notch' or 'gaussian', not {mode!r}")
    interior = (k > 0) & (k < levels - 1)
    return np.clip(np.where(interior, k + z, k), 0, levels - 1)


# Layer matrices ---------------------------------------------------------------------------------
def layer_matrices(weights: dict) -> dict:
    """The CNN's weights as crossbar matrices (inputs x outputs), float64: conv ``(K, C, k, k)``
    -> ``(C k k, K)``, dense ``(out, in)`` -> ``(in, out)`` (the layout of golden.snn)."""
    return {k: (np.asarray(v, np.float64).reshape(v.shape[0], -1).T) for k, v in weights.items()}


def from_matrices(mats: dict, like: dict) -> dict:
    """Inverse of :func:`layer_matrices`: back to the shapes and dtypes of ``like``."""
    return {k: mats[k].T.reshape(like[k].shape).astype(like[k].dtype) for k in like}


def perturb_matrix(w, kind: str, value: float, rng=None, *, g_min: float | None = None,
                   g_max: float | None = None, levels: int = 16, dist: str = "lognormal") -> np.ndarray:
    """One layer's (m, n) weights as the perturbed devices realise them (kinds sigma, stuck, dw_pinning).

    See the module docstring. ``rng`` draws the devices (both devices of every pair).
    """
    if g_min is None or g_max is None:
        g_min, g_max = device_range()
    w = np.asarray(w, dtype=np.float64)
    if kind == "dw_pinning":
        w_max = float(np.max(np.abs(w), initial=0.0)) or 1.0
        k = np.clip(np.rint(np.abs(w) / w_max * (levels - 1)), 0, levels - 1)
        kp, kn = np.where(w > 0, k, 0.0), np.where(w < 0, k, 0.0)
        rng = _rng(rng)
        kp2, kn2 = pin(kp, levels, value, rng), pin(kn, levels, value, rng)
        return (kp2 - kn2) * (w_max / (levels - 1))
    gp, gn, unit = pair_conductances(w, g_min, g_max)
    if kind == "sigma":
        rng = _rng(rng)
        gp2, gn2 = spread(gp, value, rng, dist=dist), spread(gn, value, rng, dist=dist)
    elif kind == "stuck":
        rng = _rng(rng)
        gp2 = stick(gp, value, g_min, g_max, rng)[0]
        gn2 = stick(gn, value, g_min, g_max, rng)[0]
    else:
        raise ValueError(f"kind must be 'sigma', 'stuck' or 'dw_pinning' here, not {kind!r}")
    return weights_from_pairs(w, gp, gn, gp2, gn2, unit)


def _tiles(m: int, tile: int):
    return [(s, min(m, s + tile)) for s in range(0, m, tile)]


def gamma_weights(w, gamma: float, *, tile: int = 32, g_min: float | None = None,
                  g_max: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Effective (m, n) weights under eq. 12's loading at a layer mean gamma, globally calibrated.

    The continuous pair mapping of w; per row tile t and column j
    ``S_tj = sum_tile (G+ + G-)``; ``G_s = mean(S) / gamma`` so that the mean of
    ``gamma_tj = S_tj / G_s`` (:func:`golden.crossbar.column_gamma`) is ``gamma``; the weights
    ``w_ij / (1 + gamma_tj)`` divided by the layer's mean ``1 / (1 + gamma_tj)``. gamma = 0
    returns w. Returns (weights, gamma_tj of shape (tiles, n)).
    """
    if g_min is None or g_max is None:
        g_min, g_max = device_range()
    w = np.asarray(w, dtype=np.float64)
    gamma = _nonneg("gamma", gamma)
    gp, gn, _ = pair_conductances(w, g_min, g_max)
    s = np.stack([(gp[a:b] + gn[a:b]).sum(axis=0) for a, b in _tiles(len(w), tile)])
    if gamma == 0:
        return w.copy(), np.zeros_like(s)
    g_s = float(s.mean()) / gamma
    gam = np.stack([column_gamma(gp[a:b], gn[a:b], g_s) for a, b in _tiles(len(w), tile)])
    factor = 1.0 / (1.0 + gam)
    factor = factor / factor.mean()
    rows = np.concatenate([np.full(b - a, i) for i, (a, b) in enumerate(_tiles(len(w), tile))])
    return w * factor[rows], gam


def ir_effective_weights(w, r_wire: float, *, tile: int = 32, g_min: float | None = None,
                         g_max: float | None = None, g_s: float | None = None, dv: float = 0.05,
                         compensate: bool = True) -> dict:
    """The (m, n) weights a tiled crossbar computes with wire resistance ``r_wire`` (ohm per segment).

    Each row tile (``tile`` inputs, all n columns: the column tiling changes no column's
    current) is solved by :func:`golden.crossbar.nodal_solve` with ``r_row = r_col = r_wire``,
    one unit spike vector per input (the circuit is linear with the inputs as ideal sources, so
    these columns give its response to any spike pattern); the current is converted to weight
    units by ``dv G_o``. With ``compensate`` each tile column is multiplied by its eq. 12
    ``1 + gamma_tj`` (known when programming). ``g_s`` defaults to the DW neuron's 1 / R_HM.

    Returns
    -------
    dict
        ``weights`` (m, n); ``gamma`` (tiles, n), eq. 12's gamma_tj; ``gamma_eff`` (tiles, n),
        the effective gamma of each tile column with the IR drop,
        ``sum_i |w_ij| / sum_i |w_eff,ij| - 1`` over the tile's rows (uncompensated currents;
        equals gamma_tj at r_wire = 0, NaN for an all-zero column); ``gamma_ir``, the IR drop's
        part ``(1 + gamma_eff) / (1 + gamma) - 1``.
    """
    if g_min is None or g_max is None:
        g_min, g_max = device_range()
    if g_s is None:
        from .devices import dw_neuron

        g_s = 1.0 / dw_neuron().r_hm
    r_wire = _nonneg("r_wire", r_wire)
    w = np.asarray(w, dtype=np.float64)
    gp, gn, unit = pair_conductances(w, g_min, g_max)
    out, gams, geffs = np.empty_like(w), [], []
    for a, b in _tiles(len(w), tile):
        cur = nodal_solve(gp[a:b], gn[a:b], np.eye(b - a), dv, g_s, r_row=r_wire, r_col=r_wire)
        raw = cur / (dv * unit)                                    # (rows, n) weight units
        gam = column_gamma(gp[a:b], gn[a:b], g_s)
        with np.errstate(divide="ignore", invalid="ignore"):
            geffs.append(np.abs(w[a:b]).sum(axis=0) / np.abs(raw).sum(axis=0) - 1.0)
        gams.append(gam)
        out[a:b] = raw * (1.0 + gam) if compensate else raw
    gam, geff = np.stack(gams), np.stack(geffs)
    return {"weights": out, "gamma": gam, "gamma_eff": geff, "gamma_ir": (1.0 + geff) / (1.0 + gam) - 1.0}


def _perturb(w, kind: str, value: float, rng, **kw) -> tuple[np.ndarray, dict]:
    """One crossbar matrix (inputs x outputs) as the perturbed devices realise it, and its info
    (rms weight error relative to the rms weight; for gamma / ir_drop the mean and max gamma)."""
    extra = {}
    if kind in ("sigma", "stuck", "dw_pinning"):
        w2 = perturb_matrix(w, kind, value, rng, **kw)
    elif kind == "gamma":
        w2, gam = gamma_weights(w, value)
        extra = {"gamma_mean": float(gam.mean()), "gamma_max": float(gam.max())}
    elif kind == "ir_drop":
        if _nonneg("r_wire", value) == 0:
            r = ir_effective_weights(w, 0.0)
            w2 = w.copy()       # compensated eq. 12 at ideal wires is w (to rounding: tests)
        else:
            r = ir_effective_weights(w, value)
            w2 = r["weights"]
        gi = r["gamma_ir"][np.isfinite(r["gamma_ir"])]
        extra = {"gamma_mean": float(r["gamma"].mean()), "gamma_max": float(r["gamma"].max()),
                 "gamma_ir_mean": float(gi.mean()), "gamma_ir_max": float(gi.max())}
    else:
        raise ValueError(f"kind must be one of sigma, stuck, dw_pinning, gamma, ir_drop, not {kind!r}")
    rms = math.sqrt(float(np.mean(w ** 2))) or 1.0
    return w2, {"weight_error_rms": math.sqrt(float(np.mean((w2 - w) ** 2))) / rms, **extra}


def perturb_weights(weights: dict, kind: str, value: float, rng=None, **kw) -> tuple[dict, dict]:
    """A CNN weight dict (conv1, conv2, fc) as the perturbed crossbars realise it.

    Kinds sigma, stuck, dw_pinning, gamma, ir_drop (see the module docstring); ``kw`` goes to
    :func:`perturb_matrix`. Returns (weights of the same shapes and dtypes, info) with info
    per layer: rms weight error relative to the rms weight, and for gamma / ir_drop the mean
    and max gamma (and gamma_ir).
    """
    mats = layer_matrices(weights)
    rng = _rng(rng)
    out, info = {}, {}
    for name, w in mats.items():
        out[name], info[name] = _perturb(w, kind, value, rng, **kw)
    return from_matrices(out, weights), info


def pool_as_conv(layer: nw.Pool2d, channels: int) -> nw.Conv2d:
    """A pooling layer with neurons as the crossbar that computes it: a stride-``step``
    convolution whose channel-diagonal ``size x size`` kernel holds the fixed window weight
    (avg: 1 / size**2), the off-diagonal devices programmed to zero weight (both devices of
    the pair at g_min). Without perturbation it computes the pooling exactly (to float rounding)."""
    k = layer.size
    w = np.zeros((channels, channels, k, k))
    w[np.arange(channels), np.arange(channels)] = layer.weight_value
    return nw.Conv2d(layer.name, w, stride=layer.step, neuron=layer.neuron)


def perturb_network(network: nw.Network, kind: str, value: float, rng=None, *, pooling: bool = True,
                    **kw) -> tuple[nw.Network, dict]:
    """Any network description as its perturbed crossbars realise it (kinds as
    :func:`perturb_weights`; ``kw`` to :func:`perturb_matrix`).

    Every Conv2d and Dense layer's weights are its crossbar (inputs x outputs: conv ``C k k``
    rows, dense ``in`` rows). With ``pooling``, a pooling layer with neurons (network 1's, a
    crossbar of fixed 1 / 4 devices, seed Fig. 10(a)) is replaced by that crossbar
    (:func:`pool_as_conv`) and perturbed too, its zero-weight off-diagonal pairs included (their
    spread leaks between channels); linear pooling folded into the next layer (network 2) has no
    devices of its own. Biases (a constant input row) stay ideal. Returns the perturbed
    description and the per-layer info.
    """
    rng = _rng(rng)
    layers, info = [], {}
    for L in network.layers:
        if isinstance(L, nw.Pool2d) and pooling and L.neuron is not None:
            L = pool_as_conv(L, network.in_shape_of(L.name)[-1])
        if isinstance(L, nw.Conv2d):
            w = np.asarray(L.weight, np.float64)
            w2, info[L.name] = _perturb(w.reshape(w.shape[0], -1).T, kind, value, rng, **kw)
            L = replace(L, weight=w2.T.reshape(w.shape))
        elif isinstance(L, nw.Dense):
            w2, info[L.name] = _perturb(np.asarray(L.weight, np.float64).T, kind, value, rng, **kw)
            L = replace(L, weight=w2.T)
        layers.append(L)
    return replace(network, layers=tuple(layers)), info


# Network 2: MTJ sigmoid dispersion --------------------------------------------------------------
def mtj_dispersion(shapes: dict, sigma: float, rng=None, *, i50: float | None = None,
                   width: float | None = None) -> dict:
    """Per-neuron switching sigmoids: {layer: (i50_j, width_j)} arrays of the layer's neuron shape.

    ``i50_j = I50 (1 + sigma z1)``, ``width_j = w max(1 + sigma z2, 0.05)``; defaults the golden
    fit (:data:`golden.neurons.I50_FIT`, :data:`golden.neurons.WIDTH_FIT`), A.
    """
    from .neurons import I50_FIT, WIDTH_FIT

    i50 = I50_FIT if i50 is None else float(i50)
    width = WIDTH_FIT if width is None else float(width)
    sigma = _nonneg("sigma", sigma)
    rng = _rng(rng)
    out = {}
    for name, shape in shapes.items():
        z1, z2 = rng.standard_normal(shape), rng.standard_normal(shape)
        out[name] = (i50 * (1.0 + sigma * z1), width * np.maximum(1.0 + sigma * z2, 0.05))
    return out


class _DispersedMtj:
    """A stage of stochastic MTJ neurons with per-neuron sigmoids, fed the ANN pre-activation z
    as ``I = I50 + w z`` (nominal I50, w: the bias source and gain are designed for the nominal
    device); fires with ``sigmoid((I - I50_j) / w_j)``, drawn as
    :class:`golden.neurons.StochasticMtjNeuron` draws (so nominal sigmoids reproduce
    :func:`golden.snn.simulate_stochastic` spike for spike). ``v`` sums z (the tie-break)."""

    def __init__(self, shape, i50_j, width_j, i50, width, rng):
        self.shape, self.i50_j, self.width_j, self.i50, self.width, self.rng = shape, i50_j, width_j, i50, width, rng
        self.v = np.zeros(shape)

    def step(self, z):
        from .neurons import sigmoid

        self.v += z
        current = self.i50 + self.width * z.astype(np.float64)
        p = np.broadcast_to(sigmoid((current - self.i50_j) / self.width_j), self.shape)
        return self.rng.random(self.shape) < p


def simulate_dispersed(params: dict, x, y, dispersion: dict, *, steps: int = 50, encoding: str = "poisson",
                       rng=None, batch: int = 500) -> dict:
    """Network 2 (:func:`golden.snn.simulate_stochastic`) with per-neuron sigmoids.

    ``dispersion``: from :func:`mtj_dispersion` over the network's stages (conv1 (24, 24, 6),
    conv2 (8, 8, 12), fc (10,)). Returns :func:`golden.snn.simulate_stochastic`'s dict.
    """
    from . import snn
    from .neurons import I50_FIT, WIDTH_FIT

    net = params if isinstance(params, nw.Network) else nw.from_weights("cnn-stochastic", params)

    def neuron(st, shape, r):
        i50_j, w_j = dispersion[st[0]]
        return _DispersedMtj(shape, i50_j, w_j, I50_FIT, WIDTH_FIT, r)

    return snn.simulate(net, x, y, steps=steps, encoding=encoding, input_rate=1.0, rng=rng, batch=batch,
                        neurons=neuron)


def stage_shapes(network: nw.Network) -> dict:
    """{stage name: neuron shape} of a description's spiking stages."""
    return {layer.name: network.out_shape_of(layer.name) for _, layer in network.spiking()}


# Network 3: STDP on perturbed binary devices ----------------------------------------------------
def stdp_read_levels(states, factor=None, *, g_p: float | None = None, g_ap: float | None = None) -> np.ndarray:
    """Read levels of binary devices with spread factors: ``(G_k f - G_AP) / (G_P - G_AP)``.

    ``states`` (arrays, n_in, N) in {0, 1} (AP, P); ``factor`` the same shape (None: 1).
    Float64 of the states' shape; exactly the states when factor is None or all ones.
    Defaults: the DW synapse's MTJ (golden.stdp.LtStArray's g_p, g_ap: 160 and 72.7 uS).
    """
    if g_p is None or g_ap is None:
        from .devices import dw_synapse

        dev = dw_synapse()
        g_p, g_ap = dev.g_p, dev.g_ap
    k = np.asarray(states, dtype=np.float64)
    if factor is None:
        return k
    g = np.where(k > 0, g_p, g_ap) * factor
    return (g - g_ap) / (g_p - g_ap)


class _PerturbedStdp:
    """A trained :class:`golden.stdp_network.StdpNetwork` whose binary devices are perturbed.

    ``factor`` (arrays, n_in, N) spread factors; ``stuck`` mask and ``stuck_state`` (the state
    a stuck device holds). :meth:`refresh` recomputes the read weights through the network's
    own column kernel (normalisation included) from the perturbed read levels.
    """

    def __init__(self, net, factor=None, stuck=None, stuck_state=None):
        self.net, self.factor, self.stuck, self.stuck_state = net, factor, stuck, stuck_state
        self.refresh()

    def refresh(self):
        from . import _stdp_kernels as k

        net, c = self.net, self.net.config
        if self.stuck is not None:
            net.states[self.stuck] = self.stuck_state[self.stuck]
        if self.factor is None:
            net.refresh_weights()
            return
        lv = stdp_read_levels(net.states, self.factor) * (c.levels - 1)
        for j in range(c.neurons):
            k.refresh_column(lv, net._ap, c.levels, c.normalise, c.norm_target, net.weights, j)

    def learn(self, images):
        for m in range(len(images)):
            self.net.present(images[m:m + 1], learn=True)
            self.refresh()


def _stdp_accuracy(net, xl, yl, xs, ys, eval_seed: int) -> float:
    from . import _stdp_kernels as k
    from .stdp_network import assign_labels, predict

    r = k.rng_state(eval_seed)
    assign = assign_labels(net.present(xl, learn=False, rng=r), yl)
    return float(np.mean(predict(net.present(xs, learn=False, rng=r), assign) == ys))


#: The trained network 3 shipped with the package (binary, 225 neurons, one epoch; 81.0 %).
STDP_WEIGHTS = "stdp_binary_225.npz"


def _stdp_trial(kind, value, rng, data, *, images, label_images, retrain_images, seed):
    from .cnn import WEIGHTS_DIR
    from .stdp_network import load_network

    xt, yt, xs, ys = data
    net, _, _ = load_network(WEIGHTS_DIR / STDP_WEIGHTS, seed=seed)
    shape = net.states.shape
    factor = stuck = stuck_state = None
    if kind == "sigma":
        factor = spread(np.ones(shape), value, rng)
    elif kind == "stuck":
        _, stuck, on = stick(np.zeros(shape), value, 0.0, 1.0, rng)
        stuck_state = on.astype(np.int8)
    else:
        raise ValueError(f"network 3 kinds are sigma and stuck, not {kind!r}")
    pert = _PerturbedStdp(net, factor, stuck, stuck_state)
    order = np.random.default_rng(seed).permutation(len(xt))
    xl, yl = xt[order[:label_images]], yt[order[:label_images]]
    eval_seed = seed + (1 << 40)
    before = _stdp_accuracy(net, xl, yl, xs[:images], ys[:images], eval_seed)
    pert.learn(xt[order[label_images:label_images + retrain_images]])
    after = _stdp_accuracy(net, xl, yl, xs[:images], ys[:images], eval_seed)
    return before, after


# Sweeps -----------------------------------------------------------------------------------------
def _summary(accs) -> dict:
    """Mean and standard error (sample std / sqrt(n)) of per-trial accuracies; one run (no
    device draw: value 0, or a deterministic kind) has se 0."""
    a = np.asarray(accs, dtype=np.float64)
    se = float(a.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else 0.0
    return {"mean": float(a.mean()), "se": se, "trials": a.tolist()}


def accuracy_vs_variation(network: str, kind: str, values, *, trials: int = 3, images: int = 300, seed: int = 0,
                          steps: int | None = None, label_images: int = 1000, retrain_images: int = 1000,
                          data=None) -> dict:
    """Mean accuracy and Monte-Carlo standard error over independent device draws, per value.

    Parameters
    ----------
    network : {"cnn-if", "cnn-stochastic", "stdp"}
        Network 1: the ReLU CNN at max normalisation (the twin's, :data:`golden.network.PERCENTILE`)
        as its description (:func:`golden.network.from_weights`: DW IF neurons, the pooling
        crossbars perturbed too; :func:`network_accuracy_vs_variation`, deterministic input,
        ``steps`` default 50). Network 2: the sigmoid CNN with stochastic MTJ neurons
        (:func:`golden.snn.simulate_stochastic`, Poisson input, default 50 steps; the spike
        draws use ``seed`` in every trial, so trials differ only in their devices). Network 3:
        the shipped trained binary STDP network (225 neurons): labels from ``label_images``
        training images, then the test; again after ``retrain_images`` more images of on-line
        STDP on the perturbed devices.
    kind : str
        One of :data:`KINDS` [network].
    values : sequence of float
        The swept parameter (see the module docstring).
    trials : int
        Independent device draws per value (trial t uses ``default_rng([seed, t])`` for every
        value: common random numbers, so the curve is smooth in the value).
    images : int
        The first ``images`` MNIST test images.

    Returns
    -------
    dict
        ``network``, ``kind``, ``values``, ``images``, ``trials``, ``steps``, ``accuracy`` (per
        value: ``mean``, ``se`` = sample std / sqrt(trials), ``trials``; value 0 and the
        deterministic kinds gamma and ir_drop are one run, se 0), ``binomial_se`` (the
        test set's sqrt(a (1 - a) / images) at value 0 or the first value), ``info`` per value
        (first trial's layer info); for network 3 ``accuracy`` is the frozen perturbed network
        and ``accuracy_retrained`` after on-line STDP, ``retrain_images``, ``label_images``.
    """
    if network not in KINDS:
        raise ValueError(f"network must be one of {', '.join(KINDS)}, not {network!r}")
    if kind not in KINDS[network]:
        raise ValueError(f"kind must be one of {', '.join(KINDS[network])} for {network}, not {kind!r}")
    if not (isinstance(trials, int) and trials >= 1 and isinstance(images, int) and images >= 1):
        raise ValueError(f"trials and images must be integers >= 1, not {trials!r}, {images!r}")
    values = [float(v) for v in values]
    user_data = data
    if data is None:
        from spinbase.data import load_mnist  # the data loader, as golden.snn does

        data = load_mnist()
    (xt, yt), (xs, ys) = data
    x, y = xs[:images], ys[:images]
    res = {"network": network, "kind": kind, "values": values, "images": images, "trials": trials}
    deterministic = kind in ("gamma", "ir_drop")      # no random draws: one trial suffices
    accs, info, accs2 = [], [], []
    if network == "stdp":
        for v in values:
            n_trials = 1 if deterministic or v == 0 else trials
            pairs = [_stdp_trial(kind, v, np.random.default_rng([seed, t]), (xt, yt, x, y), images=images,
                                 label_images=label_images, retrain_images=retrain_images, seed=seed)
                     for t in range(n_trials)]
            accs.append(_summary([p[0] for p in pairs]))
            accs2.append(_summary([p[1] for p in pairs]))
        res.update(accuracy=accs, accuracy_retrained=accs2, label_images=label_images,
                   retrain_images=retrain_images, steps=None)
    else:
        from . import cnn, snn

        steps = 50 if steps is None else int(steps)
        if network == "cnn-if":
            base = snn.normalised_cnn(nw.PERCENTILE["twin-if"], data=user_data)[0]
            curve = network_accuracy_vs_variation(nw.from_weights(network, base), x, y, kind, values, trials=trials,
                                                  seed=seed, steps=steps)
            accs, info = curve["accuracy"], curve["info"]
        else:
            base = cnn.train_cnn(cnn.SIGMOID_CONFIG, data=user_data)[0]
        for v in values if network != "cnn-if" else ():
            runs, first = [], None
            n_trials = 1 if deterministic or v == 0 else trials
            for t in range(n_trials):
                rng = np.random.default_rng([seed, t])
                if kind == "mtj_dispersion":
                    disp = mtj_dispersion(stage_shapes(nw.from_weights(network, base)), v, rng)
                    r = simulate_dispersed(base, x, y, disp, steps=steps, rng=seed)
                    lay = {}
                else:
                    w2, lay = perturb_weights(base, kind, v, rng)
                    r = snn.simulate_stochastic(w2, x, y, steps=steps, rng=seed)
                runs.append(r["accuracy"][steps])
                first = lay if first is None else first
            accs.append(_summary(runs))
            info.append(first)
        res.update(accuracy=accs, info=info, steps=steps)
    a0 = accs[0]["mean"]
    res["binomial_se"] = math.sqrt(a0 * (1 - a0) / images)
    return res


def network_accuracy_vs_variation(network: nw.Network, x, y, kind: str, values, *, trials: int = 3, seed: int = 0,
                                  steps: int = 50, input_rate: float = 1.0, pooling: bool = True) -> dict:
    """Accuracy of any network description against one perturbation (:func:`perturb_network`),
    run in float with its own neuron models (:func:`golden.snn.simulate`, deterministic input
    at ``input_rate``, ``steps`` steps) on ``x``, ``y``.

    Per value the mean over ``trials`` independent device draws (trial t: ``default_rng([seed,
    t])``, common random numbers across values; value 0 and the deterministic kinds gamma and
    ir_drop are one run) and its standard error (:func:`_summary`). Returns ``kind``,
    ``values``, ``images``, ``trials``, ``steps``, ``accuracy`` (per value ``mean``, ``se``,
    ``trials``), ``info`` (per value, the first draw's per-layer info) and ``binomial_se``
    (the test set's at the first value).
    """
    from . import snn

    if kind not in ("sigma", "stuck", "dw_pinning", "gamma", "ir_drop"):
        raise ValueError(f"kind must be one of sigma, stuck, dw_pinning, gamma, ir_drop, not {kind!r}")
    values = [float(v) for v in values]
    h, w, c = network.input.shape       # a flat (N, F) input as the description's (N, H, W[, C])
    x = np.asarray(x).reshape((len(x), h, w) + ((c,) if c > 1 else ()))
    deterministic = kind in ("gamma", "ir_drop")
    accs, info = [], []
    for v in values:
        runs, first = [], None
        for t in range(1 if deterministic or v == 0 else trials):
            net2, lay = perturb_network(network, kind, v, np.random.default_rng([seed, t]), pooling=pooling)
            r = snn.simulate(net2, x, y, steps=steps, input_rate=input_rate, rng=seed)
            runs.append(r["accuracy"][steps])
            first = lay if first is None else first
        accs.append(_summary(runs))
        info.append(first)
    a0 = accs[0]["mean"]
    return {"kind": kind, "values": values, "images": len(x), "trials": trials, "steps": steps, "accuracy": accs,
            "info": info, "binomial_se": math.sqrt(a0 * (1 - a0) / len(x))}
