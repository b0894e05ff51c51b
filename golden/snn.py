"""Networks 1 and 2 of the seed: the CNN of :mod:`golden.cnn` run as spiking networks.

Network 1 (seed section V.1, Ref. 108; REFERENCES.md 5): the ReLU CNN converted to an
integrate-and-fire (IF) SNN by data-based weight normalisation (Diehl et al., IJCNN 2015, seed
Ref. 75), first with float weights and ideal IF neurons, then mapped onto domain-wall (DW)
crossbars: weights as 16-level DW-synapse conductance pairs, column currents by eq. 12 with the
gamma non-ideality of every 32 x 32 tile, and DW IF neurons (the wall position is the membrane,
the far edge of the track the threshold).

DW neuron (:class:`golden.neurons.DwIfNeuron`): the wall integrates the column current and
fires on reaching the far edge, where it is pinned, so charge beyond the threshold is lost
(reset to a position, not by subtraction) and the near edge floors the membrane. The reset
position is mid-track (one threshold of headroom below it); max normalisation and half-rate
input keep per-step inputs small (:func:`spintwin.experiments.run_dw`).

Network 2 (Ref. 110): the sigmoid CNN with stochastic MTJ neurons that spike with probability
sigmoid((I - I50)/w) in each step; the ANN's pre-activation z is the current I = I50 + w z.
Its weights are trained on the network's spike-noise model (:func:`golden.cnn.moment_forward`).

Time step t for a batch of images (all layers in the same step, input to output):

* input: a spike per pixel, deterministic (an IF encoder fed the pixel value, threshold 1) or
  Poisson (Bernoulli with p = pixel);
* network 1: conv1 -> IF, pool1 -> IF, conv2 -> IF, pool2 -> IF, fc -> IF. Average pooling
  is a layer of fixed weights 1/4 with IF neurons of threshold 1 (Diehl 2015), so a pooling
  neuron's rate is the mean rate of its four inputs;
* network 2: conv1 -> MTJ, conv2 -> MTJ, fc -> MTJ; each pooling stage is linear and is
  folded into the next layer's synapses (weights w/4 on the four pooled rows), so every
  neuron is a device neuron and the expected input equals the ANN's;
* output: the class with the most output spikes; a tie goes to the larger membrane (network
  1: IF potential or wall position; network 2: input summed over the steps).

Event counts per image (for the energy model), per layer: ``input_spikes`` (spikes arriving
at the layer), ``synaptic_events`` (each arriving spike times its fan-out, i.e. the synapses it
drives), ``neuron_updates`` (neurons x time steps), ``output_spikes``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from . import cnn
from . import network as nw
from .crossbar import TiledCrossbar, dw_conductance_range
from .neurons import DwIfNeuron, StochasticMtjNeuron

__all__ = [
    "normalise",
    "layer_fanouts",
    "decide",
    "DwCrossbarConfig",
    "DW_CONFIG",
    "dw_layers",
    "simulate_if",
    "simulate_stochastic",
    "simulate",
    "normalised_cnn",
]

def _as_network(weights, name: str) -> nw.Network:
    """A network description, or the built-in ``name``'s structure with a weight dict."""
    return weights if isinstance(weights, nw.Network) else nw.from_weights(name, weights)


def _stages(net: nw.Network) -> list:
    """``[(name, in_shape, out_shape, folded pools, layer)]`` of the spiking stages: in_shape is
    what arrives (before any folded pooling), out_shape the neurons'."""
    out = []
    for folded, layer in net.spiking():
        first = folded[0] if folded else layer
        out.append((layer.name, net.in_shape_of(first.name), net.out_shape_of(layer.name), folded, layer))
    return out


def _stage_fanout(net: nw.Network, stage) -> np.ndarray:
    """Synapses each input of a stage drives (folded pooling: those of its pooled position)."""
    name, in_shape, _, folded, layer = stage
    fo = nw.layer_fanout(layer, net.in_shape_of(layer.name), net.out_shape_of(layer.name))
    if folded:
        fo = fo.reshape(net.out_shape_of(folded[-1].name))
        for pool in reversed(folded):
            if pool.step != pool.size:
                raise nw.NetworkError(f"layer {pool.name!r}: folded pooling must not overlap (stride = size)")
            fo = np.repeat(np.repeat(fo, pool.size, axis=0), pool.size, axis=1)
            ih, iw, _ = net.in_shape_of(pool.name)
            if fo.shape[:2] != (ih, iw):
                fo = np.pad(fo, ((0, ih - fo.shape[0]), (0, iw - fo.shape[1]), (0, 0)))
    return fo.reshape(in_shape)


# Conversion ---------------------------------------------------------------------------------------
def normalise(params: dict, x: np.ndarray, percentile: float = 99.9) -> tuple[dict, dict]:
    """Data-based weight normalisation (Diehl et al. 2015) of the ReLU CNN for IF neurons of threshold 1.

    lambda_l is the ``percentile`` of the positive ReLU activations of layer l over the images
    ``x`` (100 = the maximum; the output layer uses its positive logits); the weights become
    ``W_l lambda_{l-1} / lambda_l`` with lambda_0 = 1 (pixels are in [0, 1]). Pooling layers
    average, so their activations keep the scale of the layer before.

    Parameters
    ----------
    params : dict
        ReLU CNN weights (:data:`golden.cnn.PARAM_SHAPES`).
    x : ndarray, shape (N, 28, 28)
        Images (training images, so the test set stays unseen).
    percentile : float
        In (0, 100].

    Returns
    -------
    (weights, scales)
        ``weights``: the same keys, float32; ``scales``: lambda of conv1, conv2, fc.
    """
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], not {percentile!r}")
    acts = {"conv1": [], "conv2": [], "fc": []}
    with cnn.blas_single_thread():
        for i in range(0, len(x), 2000):
            logits, c = cnn.forward(params, x[i:i + 2000], "relu", keep=True)
            for name, a in (("conv1", c["a1"]), ("conv2", c["a2"]), ("fc", logits)):
                a = a[a > 0]
                # a subsample keeps memory flat; 2e5 values per chunk fix the 99.9th percentile well
                acts[name].append(a if a.size <= 200_000 else a[:: a.size // 200_000 + 1])
    scales = {k: float(np.percentile(np.concatenate(v), percentile)) for k, v in acts.items()}
    prev = 1.0
    out = {}
    for k in ("conv1", "conv2", "fc"):
        out[k] = (params[k] * (prev / scales[k])).astype(np.float32)
        prev = scales[k]
    return out, scales


def _conv_fanout_1d(n_in: int, k: int) -> np.ndarray:
    n_out = n_in - k + 1
    i = np.arange(n_in)
    return np.minimum(i, n_out - 1) - np.maximum(i - k + 1, 0) + 1


_NORMALISED: dict = {}


def normalised_cnn(percentile: float = 99.9, *, norm_images: int = 10000, data=None):
    """The ReLU CNN, trained (or loaded from its cache), then normalised for IF neurons.

    The one place that does "train or load the CNN, then normalise": :func:`golden.cnn.train_cnn`
    on :data:`golden.cnn.RELU_CONFIG`, then :func:`normalise` over the first ``norm_images``
    training images at ``percentile`` (100 = max normalisation, the twin's; 99.9 the CMOS
    baseline's). Without ``data`` (MNIST) the result is computed once per process.

    Parameters
    ----------
    percentile : float
        In (0, 100].
    norm_images : int
        Training images the activations are measured on.
    data : ((x_train, y_train), (x_test, y_test)), optional
        Default: MNIST (:func:`spinbase.data.load_mnist`).

    Returns
    -------
    (weights, scales, params, record)
        Normalised float32 weights and lambda per layer (as :func:`normalise`), the trained
        float weights and their record (as :func:`golden.cnn.train_cnn`). Shared when cached:
        do not modify the arrays.
    """
    key = (float(percentile), int(norm_images))
    if data is None and key in _NORMALISED:
        return _NORMALISED[key]
    if data is None:
        from spinbase.data import load_mnist

        data = load_mnist()
        cache = True
    else:
        cache = False
    (xt, _), _ = data
    params, record = cnn.train_cnn(cnn.RELU_CONFIG, data=data)
    weights, scales = normalise(params, xt[:norm_images], percentile)
    out = (weights, scales, params, record)
    if cache:
        _NORMALISED[key] = out
    return out


def layer_fanouts(network: nw.Network) -> dict[str, np.ndarray]:
    """Synapses each input of a layer drives (the fan-out), per input position.

    Parameters
    ----------
    network : golden.network.Network
        Any description; its linear pooling layers fold into the next layer (network 2,
        ``"cnn-stochastic"``: conv2's inputs are conv1's 24 x 24 x 6 spikes, each driving the
        synapses of its pooling cell; fc's inputs are conv2's 8 x 8 x 12 spikes).

    Returns
    -------
    dict
        Layer -> integer array shaped like that layer's input (e.g. conv1: (28, 28, 1) with
        values 6 x (1..5) x (1..5)).
    """
    return {st[0]: _stage_fanout(network, st) for st in _stages(network)}


def decide(counts: np.ndarray, membrane: np.ndarray) -> np.ndarray:
    """Class with the most output spikes; ties go to the largest membrane. (B, 10) -> (B,)."""
    best = counts.max(axis=1, keepdims=True)
    return np.where(counts == best, membrane, -np.inf).argmax(axis=1)


# Layer operators ----------------------------------------------------------------------------------
def _matrices(weights) -> dict:
    """Each spiking layer as a crossbar matrix (inputs x outputs), float32: the weighted layers
    in order, then the pooling layers ((size**2, 1) of the fixed weight, 1/4 for 2 x 2 average).
    ``weights``: a description or the built-in CNN's weight dict (conv1, conv2, fc)."""
    net = _as_network(weights, "cnn-if")
    mats, pools = {}, {}
    for _, layer in net.spiking():
        if isinstance(layer, nw.Conv2d):
            mats[layer.name] = layer.weight.reshape(layer.out_channels, -1).T.astype(np.float32)
        elif isinstance(layer, nw.Dense):
            mats[layer.name] = layer.weight.T.astype(np.float32)
        else:
            pools[layer.name] = np.full((layer.size ** 2, 1), layer.weight_value, np.float32)
    mats.update(pools)
    return mats


def _apply(layer, mat: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Input current of ``layer`` (a description's layer) for input spikes s (B, *in_shape)
    through matrix ``mat``."""
    b = len(s)
    if isinstance(layer, nw.Conv2d):
        cols = nw.windows(layer, s)
        return (cols.reshape(-1, cols.shape[-1]) @ mat).reshape(cols.shape[:3] + (mat.shape[1],))
    if isinstance(layer, nw.Pool2d):
        # the devices of a pooling column are equal: the column sums its window's inputs
        return nw.sum_pool(layer, s) * float(mat[0, 0])
    return s.reshape(b, -1) @ mat


class _IfLayer:
    """IF neurons of threshold 1 with reset by subtraction, float32, updated in place.

    The same update as :class:`golden.neurons.IFNeuron` with its defaults (tests/test_snn.py
    checks the spike trains are identical), without its refractory and homeostasis
    bookkeeping, which the converted network does not use (3x faster).
    """

    def __init__(self, shape):
        self.v = np.zeros(shape, np.float32)

    def step(self, current):
        self.v += current
        spikes = self.v >= 1.0
        self.v -= spikes
        return spikes


def _encode(x, steps, encoding, rng):
    """Yield input spikes (B, 28, 28, 1) float32 for ``steps`` steps."""
    x = np.asarray(x, np.float32)[..., None]
    if encoding == "poisson":
        for _ in range(steps):
            yield (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32)
    elif encoding == "deterministic":
        enc = _IfLayer(x.shape)
        for _ in range(steps):
            yield enc.step(x).astype(np.float32)
    else:
        raise ValueError(f"encoding must be 'deterministic' or 'poisson', not {encoding!r}")


def _checkpoints(steps, checkpoints):
    if isinstance(steps, bool) or int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, not {steps!r}")
    cps = sorted({int(t) for t in (checkpoints or ())} | {int(steps)})
    if cps[0] < 1 or cps[-1] > steps:
        raise ValueError(f"checkpoints must lie in 1..{steps}, not {checkpoints!r}")
    return cps


def _images(x, y, shape=(28, 28, 1)):
    x = np.asarray(x)
    want = tuple(shape[:2]) if shape[2] == 1 else tuple(shape)
    if x.shape[1:] != want:
        raise ValueError(f"x must have shape (N, {', '.join(map(str, want))}), not {x.shape}")
    y = np.asarray(y)
    if y.shape != (len(x),):
        raise ValueError(f"y must have shape ({len(x)},), not {y.shape}")
    return x, y


def _event_summary(names, in_counts, out_counts, fanouts, n_images, steps, out_shape, rec_rows=None):
    """Per layer per image: input spikes (a recurrent layer's: its feed-forward input spikes and
    the latched spikes its recurrent rows receive, ``rec_rows``), synaptic events (each recurrent
    row drives the layer's every neuron), neuron updates and output spikes."""
    ev = {}
    rec_rows = rec_rows or {}
    for k in names:
        n_neurons = int(np.prod(out_shape[k])) if k in out_shape else 0
        r = float(rec_rows.get(k, 0.0))
        ev[k] = {"input_spikes": float((in_counts[k].sum() + r) / n_images),
                 "synaptic_events": float(((in_counts[k] * fanouts[k]).sum() + r * n_neurons) / n_images),
                 "neuron_updates": float(n_neurons * steps),
                 "output_spikes": float(out_counts[k] / n_images)}
    ev["total"] = {key: float(sum(ev[k][key] for k in names)) for key in ev[names[0]]}
    return ev


# Network 1: IF (float or DW crossbar) --------------------------------------------------------------
def simulate_if(weights: dict, x, y, *, steps: int = 100, checkpoints=(), encoding: str = "deterministic",
                input_rate: float = 1.0, rng=None, batch: int = 500, layers: dict | None = None,
                progress=None) -> dict:
    """Run the converted IF network on images and score it at each checkpoint.

    Parameters
    ----------
    weights : dict
        Normalised weights from :func:`normalise` (threshold 1).
    x : ndarray, shape (N, 28, 28); y : ndarray, shape (N,)
    steps : int
        Time steps per image.
    checkpoints : iterable of int
        Extra step counts at which to score (``steps`` is always one).
    encoding : {"deterministic", "poisson"}
    input_rate : float
        Spikes per step of a white pixel (0 < r <= 1): pixels are scaled by r, so every
        layer's rates scale by r (the network is positively homogeneous). Below 1 it trades
        time steps for smaller per-step inputs, i.e. less charge lost when a wall pinned at
        the far edge resets.
    rng : seed or Generator (Poisson input)
    batch : int
        Images simulated together.
    layers : dict, optional
        From :func:`dw_layers`: crossbar matrices and DW neuron factories replacing the
        float matrices and IF neurons (any ``{"matrices": ..., "neuron": factory}`` works, the
        factory ``(layer name, shape)`` returning an object with ``step(current) -> spikes``
        and a membrane ``v`` in threshold units, used to break output ties).
    progress : callable, optional
        ``progress(done, total)`` after each batch of images.

    Returns
    -------
    dict
        ``accuracy`` {T: fraction}, ``predictions`` {T: (N,) int}, ``events`` per layer per image
        (see the module docstring), ``steps``, ``images``, ``seconds``.
    """
    net = _as_network(weights, "cnn-if")
    mats = _matrices(net) if layers is None else layers["matrices"]
    make = (lambda name, shape: _IfLayer(shape)) if layers is None else layers["neuron"]
    return _run(net, x, y, steps=steps, checkpoints=checkpoints, encoding=encoding, input_rate=input_rate,
                rng=rng, batch=batch, progress=progress, op=lambda st: _matrix_op(st, mats[st[0]]),
                neuron=lambda st, shape, rng: make(st[0], shape))


@dataclass(frozen=True)
class DwCrossbarConfig:
    """How network 1 is mapped onto DW crossbars (seed section V.1).

    Parameters
    ----------
    levels : int
        Conductance levels per DW synapse (seed: 15-20 distinguishable; default 16).
    tile : int
        Crossbar array size (32 x 32, Ref. 129).
    dv : float
        Read voltage, V (< 0.1 V in the seed).
    g_scale : float
        Factor on the preset DW synapse's conductances (1: RA = 10 ohm um^2; smaller is a
        thicker MgO barrier, lowering gamma and needing longer writes).
    calibrate_gamma : bool
        Choose each layer's write duration so that one weight unit through the layer's mean
        1/(1 + gamma) moves the wall from its reset position to the far edge (the seed's
        tuning of the write cycle); False ignores gamma when choosing it.
    reset_position : float
        Where the reset pulse leaves the wall, as a fraction of the track (0 <= r < 1). The
        pinned near edge is a floor on the membrane at ``-r / (1 - r)`` thresholds: with r = 0
        every negative input is lost (a rectifying IF neuron). 0.5 gives one threshold of
        headroom below the reset potential.
    variation : float
        Device-to-device conductance variation, sigma of ln G (:func:`golden.crossbar.map_weights`).
    w_max_percentile : float
        Percentile of a layer's |weights| mapped to the top level (100: the largest; lower
        clips the few largest weights for finer levels below).
    compensate_gamma : bool
        Pre-distort the programmed weights so that every tile column's 1/(1 + gamma) is
        cancelled: ``w_prog = w (1 + gamma_tj) c`` with c the layer's mean 1/(1 + gamma),
        iterated because gamma depends on w_prog (the designer knows both when programming).
    seed : int
        Seed of the variation.
    """

    levels: int = 16
    tile: int = 32
    dv: float = 0.05
    g_scale: float = 1.0
    calibrate_gamma: bool = True
    variation: float = 0.0
    reset_position: float = 0.5
    w_max_percentile: float = 100.0
    compensate_gamma: bool = False
    seed: int = 0

    def __post_init__(self):
        if not 0 <= self.reset_position < 1:
            raise ValueError(f"DwCrossbarConfig.reset_position must be in [0, 1), not {self.reset_position!r}")
        if not 0 < self.dv <= 0.1:
            raise ValueError(f"DwCrossbarConfig.dv must be in (0, 0.1] V, not {self.dv!r}")
        if not 0 < self.w_max_percentile <= 100:
            raise ValueError(f"DwCrossbarConfig.w_max_percentile must be in (0, 100], not {self.w_max_percentile!r}")
        if not self.g_scale > 0:
            raise ValueError(f"DwCrossbarConfig.g_scale must be > 0, not {self.g_scale!r}")


#: The mapping behind the network-1 figures (:func:`run_dw`): the raw defaults plus the two
#: programming-time corrections a designer has, gamma pre-distortion and clipping the 0.1 % largest
#: weights so that the 16 levels resolve the rest.
DW_CONFIG = DwCrossbarConfig(w_max_percentile=99.9, compensate_gamma=True)


def program_layer(target: np.ndarray, config: DwCrossbarConfig, g_min: float, g_max: float, g_s: float, rng=None):
    """Program one layer's (m, n) weights onto a :class:`TiledCrossbar` as ``config`` says.

    The top level is the ``w_max_percentile`` of |w|; with ``compensate_gamma`` the programmed
    weights are pre-scaled by each tile's ``(1 + gamma_tj) c`` (c the layer's mean
    1/(1 + gamma)) so the tile factors cancel (four fixed-point passes: gamma depends weakly
    on what is programmed). Returns (crossbar, gain) with gain the layer's mean 1/(1 + gamma)
    (1 without ``calibrate_gamma``). Shared by :func:`dw_layers` and ``quantize.snn``.
    """
    w = target

    def program(w_prog, variation):
        w_max = float(np.percentile(np.abs(w_prog), config.w_max_percentile))
        return TiledCrossbar(w_prog, config.tile, g_min=g_min, g_max=g_max, levels=config.levels,
                             dv=config.dv, g_s=g_s, w_max=w_max, variation=variation, rng=rng)

    if config.compensate_gamma:
        for _ in range(4):
            xb = program(w, 0.0)
            c = float(np.mean(1.0 / (1.0 + xb.gamma)))
            w = target * np.repeat((1.0 + xb.gamma) * c, config.tile, axis=0)[:len(target)]
    xb = program(w, config.variation)
    xb.programmed = w
    gain = float(np.mean(1.0 / (1.0 + xb.gamma))) if config.calibrate_gamma else 1.0
    return xb, gain


def dw_layers(weights: dict, config: DwCrossbarConfig = DwCrossbarConfig(), *, synapse=None, neuron=None) -> dict:
    """Map the normalised IF network onto DW crossbars and size each layer's DW neurons.

    Every layer (pooling too: four equal devices of weight 1/4) becomes a
    :class:`golden.crossbar.TiledCrossbar` with one w_max per layer (the ``w_max_percentile``
    of its |weights|), ``levels`` conductance levels and eq. 12's per-tile gamma. Because gamma depends only on
    the programmed conductances, the crossbar is a fixed linear map; its effective matrix
    (weight units, each tile's rows divided by that tile's 1 + gamma_j) is read once through
    ``TiledCrossbar.currents`` on unit spike vectors. A layer's current in amperes is that
    map's output times dv G_o (G_o: conductance per weight unit). Each DW neuron's write
    duration is the time in which the current of one weight unit (times the layer's mean
    1/(1 + gamma) with ``calibrate_gamma``) carries the wall from its reset position to the far
    edge; the partial currents of a column's row tiles are summed into one write pulse.

    Returns
    -------
    dict
        ``matrices`` (effective, weight units), ``neuron`` (factory ``(name, shape) -> DwIfNeuron``
        taking weight-unit input), ``layers`` (per layer: w_max, g_unit S, gamma mean / max,
        write duration s, unit current A, arrays, rows, columns, and weight_error_rms, the rms
        of realised minus target weights relative to the rms weight), ``g_min_S``, ``g_max_S``,
        ``g_s_S``, ``config``.
    """
    from .devices import dw_neuron, dw_synapse

    synapse = dw_synapse(config.levels) if synapse is None else synapse
    device = dw_neuron() if neuron is None else neuron
    g_min, g_max = (g * config.g_scale for g in dw_conductance_range(synapse))
    g_s = 1.0 / device.r_hm
    rng = np.random.default_rng(config.seed)
    mats, info = {}, {}
    for name, w in _matrices(weights).items():
        target = w.astype(np.float64)
        xb, gain = program_layer(target, config, g_min, g_max, g_s, rng)
        w = xb.weights
        eff = xb.currents(np.eye(w.shape[0]))                     # (m, n) weight units
        unit_current = config.dv * xb.g_unit * gain               # A for one weight unit
        write = (1.0 - config.reset_position) * device.length / float(device.velocity(unit_current))
        mats[name] = (eff / gain).astype(np.float32)
        info[name] = {"w_max": xb.w_max, "g_unit_S": xb.g_unit, "gamma_mean": float(xb.gamma.mean()),
                      "gamma_max": float(xb.gamma.max()), "write_duration_s": write,
                      "unit_current_A": unit_current, "arrays": xb.n_arrays, "rows": int(w.shape[0]),
                      "columns": int(w.shape[1]),
                      "weight_error_rms": float(np.sqrt(np.mean((eff / gain - target) ** 2))
                                                / max(np.sqrt(np.mean(target ** 2)), 1e-30))}

    x0 = config.reset_position * device.length

    class _Neuron(DwIfNeuron):
        """DW IF neuron fed in weight units (scaled to amperes for its layer), reset to x0."""

        def __init__(self, name, shape):
            super().__init__(shape, device=device, dt=info[name]["write_duration_s"])
            self._amps = info[name]["unit_current_A"]
            self.x = np.full(self.shape, x0)
            self.v = np.zeros(self.shape)

        def step(self, current):
            spikes = super().step(np.asarray(current, np.float64) * self._amps)
            self.x = np.where(spikes, x0, self.x)
            self.v = (self.x - x0) / (self.device.length - x0)   # threshold units, for the tie-break
            return spikes

    return {"matrices": mats, "neuron": _Neuron, "layers": info, "config": asdict(config),
            "g_min_S": g_min, "g_max_S": g_max, "g_s_S": g_s}


# Network 2: stochastic MTJ neurons -------------------------------------------------------------------
def simulate_stochastic(params: dict, x, y, *, steps: int = 50, checkpoints=(), encoding: str = "poisson",
                        rng=None, batch: int = 500, neuron_kw: dict | None = None, progress=None) -> dict:
    """Run the sigmoid CNN with stochastic MTJ neurons (seed Ref. 110).

    Each step: input spikes -> conv1 -> MTJ neurons -> (pool folded) conv2 -> MTJ neurons ->
    (pool folded) fc -> MTJ neurons. A neuron receiving the ANN pre-activation z gets the
    heavy-metal current ``I = I50 + w z`` (the bias I50 is a constant current source) and
    spikes with :class:`golden.neurons.StochasticMtjNeuron` probability sigmoid((I - I50)/w)
    = sigmoid(z). Neurons keep no state between steps.

    Parameters
    ----------
    params : dict
        Sigmoid CNN weights.
    neuron_kw : dict, optional
        ``i50``/``width`` for :class:`StochasticMtjNeuron` (default: the golden fit).
    Other parameters as :func:`simulate_if` (default Poisson input).

    Returns
    -------
    dict
        As :func:`simulate_if`, plus ``i50_A`` and ``width_A``.
    """
    net = _as_network(params, "cnn-stochastic")
    kw = dict(neuron_kw or {})
    probe = StochasticMtjNeuron(1, **kw)
    res = _run(net, x, y, steps=steps, checkpoints=checkpoints, encoding=encoding, input_rate=1.0, rng=rng,
               batch=batch, progress=progress, op=_ann_op,
               neuron=lambda st, shape, rng: _MtjStage(StochasticMtjNeuron(shape, rng=rng, **kw), shape, probe))
    res.update(i50_A=probe.i50, width_A=probe.width)
    return res


class _MtjStage:
    """A stage's MTJ neurons fed the ANN pre-activation z as the current ``I50 + w z``; ``v``
    sums z over the steps (float64), the output layer's tie-break."""

    def __init__(self, neurons, shape, probe):
        self.neurons, self.i50, self.width = neurons, probe.i50, probe.width
        self.v = np.zeros(shape)

    def step(self, z):
        self.v += z
        return self.neurons.step(self.i50 + self.width * z.astype(np.float64))


def _fold(folded, s):
    """Folded linear pooling: each pool's window sum times its fixed weight (float32)."""
    for pool in folded:
        s = nw.sum_pool(pool, s) * np.float32(pool.weight_value)
    return s


def _matrix_op(stage, mat):
    """A stage's input current through crossbar matrix ``mat`` (float or DW), after its folded pooling."""
    _, _, _, folded, layer = stage
    return lambda s: _apply(layer, mat, _fold(folded, s))


def _ann_op(stage):
    """The ANN pre-activation of a stage (float32, as golden.cnn computes it): folded average
    pooling (the window mean), then the layer's weights (plus its bias, if any)."""
    _, _, _, folded, layer = stage

    def op(s):
        b = len(s)
        s = _fold(folded, s)
        if isinstance(layer, nw.Conv2d):
            cols = nw.windows(layer, s)
            z = (cols.reshape(-1, cols.shape[-1]) @ layer.weight.reshape(layer.out_channels, -1).T)
            z = z.reshape(cols.shape[:3] + (layer.out_channels,))
        elif isinstance(layer, nw.Dense):
            z = s.reshape(b, -1) @ layer.weight.T
        else:
            z = nw.sum_pool(layer, s) * np.float32(layer.weight_value)
        return z if getattr(layer, "bias", None) is None else z + layer.bias
    return op


# Any description, its own neuron models ------------------------------------------------------------
class _ModelNeurons:
    """Float neurons of a :class:`golden.network.Neuron` (float32 state, updated in place).

    IF / LIF: ``v <- v - v 2**-leak_shift`` (LIF only), ``v += I``; a DW wall (device ``"dw"``)
    cannot pass its near edge: ``v >= -r / (1 - r) threshold``; fire at ``v >= threshold``;
    reset by subtraction or to 0 (the reset position). p-bit: fire with probability
    sigmoid(I) (``rng``), no state; ``v`` accumulates I for the decision's tie-break.
    """

    def __init__(self, neuron, shape, rng):
        self.n, self.rng = neuron, rng
        self.v = np.zeros(shape, np.float32)
        self.theta = np.float32(neuron.threshold)
        r = neuron.reset_position
        self.floor = np.float32(-r / (1 - r) * neuron.threshold) if neuron.device == "dw" else None

    def step(self, current):
        n = self.n
        if n.model == "pbit":
            self.v += current
            p = 0.5 * (1 + np.tanh(0.5 * np.asarray(current, np.float64)))
            return self.rng.random(p.shape) < p
        if n.model == "lif":
            self.v -= self.v * np.float32(2.0 ** -n.leak_shift)
        self.v += current
        if self.floor is not None:
            np.maximum(self.v, self.floor, out=self.v)
        spikes = self.v >= self.theta
        if n.reset == "subtract":
            self.v -= spikes * self.theta
        else:
            self.v[spikes] = 0
        return spikes


def simulate(network, x, y, *, steps: int = 100, checkpoints=(), encoding: str = "deterministic",
             input_rate: float = 1.0, rng=None, batch: int = 500, progress=None, neurons=None) -> dict:
    """Run any network description in float with its own neuron models and score it.

    Each step: input spikes (as :func:`simulate_if`), then every stage in order: its folded
    linear pooling (the window mean or sum), the layer's weights (plus bias), its neurons
    (:class:`_ModelNeurons`). :func:`simulate_if` is this for ideal IF neurons of threshold 1
    with reset by subtraction (tests/test_network.py checks they agree exactly);
    :func:`simulate_stochastic` runs network 2 with the device's fitted MTJ neuron instead.

    Parameters
    ----------
    network : golden.network.Network
    x : ndarray, shape (N, H, W) or (N, H, W, C); y : ndarray, shape (N,)
    neurons : callable, optional
        ``neurons(stage, shape, rng)`` -> the neurons of a spiking stage (an object with
        ``step(current) -> spikes`` and a membrane ``v``; a stage is ``(index, name, ...)``), in
        place of the description's own (e.g. golden.variation's dispersed MTJ neurons).
    Other parameters as :func:`simulate_if`.

    Returns
    -------
    dict
        As :func:`simulate_if`.
    """
    if neurons is None:
        def neurons(st, shape, rng):
            return _ModelNeurons(st[4].neuron, shape, rng)
    return _run(network, x, y, steps=steps, checkpoints=checkpoints, encoding=encoding, input_rate=input_rate,
                rng=rng, batch=batch, progress=progress, op=_ann_op, neuron=neurons)


def _run(net, x, y, *, steps, checkpoints, encoding, input_rate, rng, batch, progress, op, neuron) -> dict:
    """The one time-step loop behind :func:`simulate`, :func:`simulate_if` and :func:`simulate_stochastic`.

    ``op(stage)`` gives the stage's input operator (spikes (B, *in_shape) -> current),
    ``neuron(stage, shape, rng)`` its neurons, an object with ``step(current) -> spikes`` and a
    membrane ``v`` (the output layer's ``v`` breaks ties in :func:`decide`); a stage is an entry
    of :func:`_stages`. Per batch, per step: encode the input, then each stage in order, counting
    the spikes that arrive and leave; score at every checkpoint. A recurrent dense layer sees
    its input followed by its own spikes of the previous step (:func:`golden.network.recurrent_rows`).
    """
    x, y = _images(x, y, net.input.shape)
    cps = _checkpoints(steps, checkpoints)
    if not 0 < input_rate <= 1:
        raise ValueError(f"input_rate must be in (0, 1], not {input_rate!r}")
    rng = np.random.default_rng(rng)
    stages = _stages(net)
    names = tuple(st[0] for st in stages)
    in_shape = {st[0]: st[1] for st in stages}
    out_shape = {st[0]: st[2] for st in stages}
    ops = {st[0]: op(st) for st in stages}
    layer_of = {st[0]: st[4] for st in stages}
    rec_rows = {st[0]: 0.0 for st in stages if getattr(st[4], "recurrent", False)}   # latched spikes fed back
    fanouts = layer_fanouts(network=net)
    in_counts = {k: np.zeros(in_shape[k]) for k in names}
    out_counts = dict.fromkeys(names, 0.0)
    last = names[-1]
    preds = {t: [] for t in cps}
    t0 = time.perf_counter()
    with cnn.blas_single_thread():
        for i in range(0, len(x), batch):
            xb = x[i:i + batch]
            nb = len(xb)
            neurons = {st[0]: neuron(st, (nb,) + st[2], rng) for st in stages}
            latched = {st[0]: None for st in stages if getattr(st[4], "recurrent", False)}  # s_{t-1}
            counts = np.zeros((nb, net.classes))
            for t, s in enumerate(_encode(xb * np.float32(input_rate), steps, encoding, rng), start=1):
                for k in names:
                    in_counts[k] += s.sum(axis=0).reshape(in_shape[k])
                    rows = nw.recurrent_rows(layer_of[k], s.reshape((nb,) + in_shape[k]), latched.get(k))
                    if latched.get(k) is not None:
                        rec_rows[k] += float(latched[k].sum())
                    s = neurons[k].step(ops[k](rows)).astype(np.float32)
                    if k in latched:
                        latched[k] = s
                    out_counts[k] += float(s.sum())
                counts += s.reshape(nb, -1)
                if t in preds:
                    preds[t].append(decide(counts, neurons[last].v.reshape(nb, -1)))
            if progress is not None:
                progress(i + nb, len(x))
    preds = {t: np.concatenate(p) for t, p in preds.items()}
    return {"images": int(len(x)), "steps": int(steps), "encoding": encoding,
            "accuracy": {t: float(np.mean(p == y)) for t, p in preds.items()},
            "predictions": preds,
            "events": _event_summary(names, in_counts, out_counts, fanouts, len(x), steps, out_shape, rec_rows),
            "seconds": time.perf_counter() - t0}
