"""Bit-accurate integer models of the seed's networks 1 and 2 and of the CMOS baseline.

These are the references the RTL SNN core must match exactly; every quantity is an integer
and every operation is written the way the hardware computes it. Floats appear only when a
model is built from a golden network (weights, gamma) and for exact integer dot products
(float64 matmuls of integers below 2**53, which BLAS runs fast; checked by the tests).

The network (input shape, layers with their geometry, which layers have neurons, the float
weights) is a ``golden.network.Network`` description; :func:`build_network` takes one (or the
built-in CNN's weight dict, standing for the built-in network of the kind) and
``QuantConfig.kind`` chooses the hardware that runs it: its weight codes and neuron rule. The
built-ins: kind ``twin-if`` runs ``"cnn-if"``, ``cmos-if`` runs ``"cmos-if"``,
``twin-stochastic`` runs ``"cnn-stochastic"`` (``golden.network.KIND_OF``). Any conv kernel,
stride and zero padding, and any non-overlapping or overlapping pooling with neurons run here;
a pooling layer without neurons folds into the next weighted layer (non-overlapping only).
A network may be a chain of dense layers (an MLP on a flat or image input).

Biases: a layer's bias is a constant input current added every step after the row tiles'
scaled sums, ``y_j = sum_r rshift_round(acc_rj c_rj, shift) + b_j``, quantised to the grid the
sum lands on (the membrane LSB, ``2**-V`` thresholds; p-bit layers: ``2**-V`` ANN units):
``b_j = round(bias_j / threshold 2**V)`` (numpy's round half to even; the float bias is
divided by the neuron's threshold as the weights are, and is not touched by a folded average
pooling, which scales spikes only); a bias beyond the membrane's range is refused naming the
layer, never clipped silently.

LIF neurons (``golden.network.Neuron`` model ``"lif"``, on the IF kinds ``twin-if`` and
``cmos-if``): before the input is added, the membrane leaks ``v <- v - (v >> leak_shift)``,
``>>`` the arithmetic shift right (floor division by ``2**leak_shift``; so a positive membrane
below ``2**leak_shift`` LSBs no longer leaks and a negative one leaks by at least one LSB,
``-1 -> 0``); then ``v <- clamp(v + y)``, fire, reset as for IF. ``hdl.core`` computes the same
expression. Each layer keeps its own ``leak_shift`` (IF layers: none).

Networks (``kind``), as the built-ins use them:

``"twin-if"`` (network 1 on DW crossbars, seed V.1)
    conv1 -> IF, pool1 -> IF, conv2 -> IF, pool2 -> IF, fc -> IF, as ``golden.snn.dw_layers``.
    Weights are signed conductance-level differences ``k = G+ level - G- level`` in
    [-(L-1), L-1]. A layer's rows are cut into crossbar tiles of ``tile`` rows; tile r of
    column j computes the integer ``acc_rj = sum_i s_i k_ij`` and scales it by its eq. 12 factor
    in fixed point: ``y_j = sum_r rshift_round(acc_rj * c_rj, shift)`` with the unsigned
    ``scale_bits``-bit code ``c_rj = round(2**F a_rj)``, ``a_rj = w_max / ((L-1) (1 + gamma_rj) gain)``
    (threshold units per level; ``F`` per layer so the largest code fits, ``shift = F - V``).
    The DW IF neuron's wall position is the membrane ``v`` in units of ``2**-V`` thresholds
    (``V = membrane_frac``): ``v <- clamp(v + y, floor, vmax)``; it fires at ``v >= 2**V`` and
    is reset to 0 (the reset position). ``floor = -round(r / (1 - r) 2**V)`` is the near edge
    (``r`` the reset position), ``vmax = 2**(membrane_bits - 1) - 1``.
``"cmos-if"`` (the CMOS baseline: SRAM weights, adder + comparator IF neurons)
    The same layers with signed ``weight_bits``-bit weights ``k = round(w / w_max (2**(b-1)-1))``,
    one scale code per layer (no gamma), reset by subtraction, no floor.
``"twin-stochastic"`` (network 2, stochastic MTJ neurons as p-bits)
    conv1, conv2 (pool1 folded in), fc (pool2 folded in), weights as for ``twin-if``; the
    pre-activation ``z`` (units ``2**-V``) addresses a sigmoid LUT of ``2**lut_addr_bits`` entries
    over [-zr, zr) with ``lut_bits``-bit probabilities; the neuron spikes when the LUT value
    exceeds its LFSR word (``P = LUT / 2**lut_bits``).

Input encoding (every network): the pixel code ``p = min(2**input_bits - 1, round(x rate 2**input_bits))``
spikes when ``p > r`` with ``r`` an ``input_bits``-bit LFSR word (``"lfsr"``, P = p / 2**bits)
or from an integrate-and-fire encoder ``e += p; spike if e >= 2**bits; e -= 2**bits``
(``"deterministic"``).

LFSR draw order (what the RTL reproduces)
-----------------------------------------
Encoder: the RTL scans the pixels in raster order (i = 28 row + col) once per step and draws
one ``input_bits``-bit word per pixel: word ``t * 784 + i`` of image ``n`` is pixel i's at
step t. The word is the XOR of the words of two one-lane banks of widths ``ENCODER_WIDTHS``
= (31, 29) (coprime periods ``2**31 - 1`` and ``2**29 - 1``), clocked together, as
``quantize/stdp.py`` does. The former order (one 31-bit bank of 28 lanes, lane = column, word
``t * 28 + row``, reseeded per image) tied pixels 112 apart (4 words apart in a lane): with
taps 31, 28 a zero word c forces the top 4 bits of word c + 4 to zero, so the dimmest pixels
(code 1) 4 rows apart spiked together 16x as often as chance, and every image saw the same
noise; the XOR of two sequences of different polynomials has no such short relation
(tests/test_core_model.py measures the pair statistics at lags 1, 28 and 112). The banks are loaded per image with the states
``encoder_seeds(seed, n)`` (n = the image's index in the run, ``first_image`` + its position
in ``x``), which the host writes to the core with the image: every image sees its own noise,
an image's spikes do not depend on the others or on ``steps`` (a shorter run is a prefix of
a longer one), and one image can be replayed alone.
Stochastic layers: one 31-bit bank per layer with one lane per output channel, reseeded at
the start of every image (``LfsrConfig(31, channels, lut_bits, seed + 1 + layer index)``);
word ``t * P + p`` of lane c is for output position p (row-major) of channel c at step t.

Recurrent layers (seed sections III and V.1; ``golden.network.Dense.recurrent``): a recurrent
dense layer's input vector is its input spikes followed by its own output spikes of the
previous step (zeros at step 0 of every image; ``golden.network.recurrent_rows``), so its
weight codes ``k`` have ``in + n`` rows quantised by the same rules as any layer's (one
``w_max`` per layer, the same tiles, scale codes and rounding), and ``y`` is the ordinary
tiled sum over all of them. ``layer_input``, the observers and ``scatter_words`` see the layer's
feed-forward input only.

Decision: the most output spikes; ties go to the largest membrane (IF) or accumulated input
(stochastic); remaining ties to the lowest class index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from golden.network import recurrent_rows
from quantize.fixed import shift_right
from quantize.lfsr import LfsrBank, LfsrConfig, derive_seeds, splitmix64

__all__ = ["QuantConfig", "QuantLayer", "QuantNetwork", "build_network", "encode", "encoder_seeds", "encoder_words",
           "run", "step_loop", "StepObserver", "rshift_round", "tile_output", "scatter_words", "ENCODER_WIDTHS",
           "ENCODER_MAX_LANES", "encoder_lanes", "encoder_groups"]

KINDS = ("twin-if", "cmos-if", "twin-stochastic")
#: Widths of the encoder's two LFSR banks (coprime periods; see "LFSR draw order").
ENCODER_WIDTHS = (31, 29)
_PIXELS = 784
_M64 = (1 << 64) - 1
#: Neuron model each kind runs (golden.network.Neuron.model).
_KIND_MODEL = {"twin-if": "if", "cmos-if": "if", "twin-stochastic": "pbit"}


@dataclass(frozen=True)
class QuantConfig:
    """Formats and choices of a bit-accurate network (model and RTL are built from it).

    Parameters
    ----------
    kind : str
        ``"twin-if"``, ``"cmos-if"`` or ``"twin-stochastic"``.
    levels : int
        Conductance levels per DW device (twin), 2..256.
    weight_bits : int
        Signed weight width of the CMOS baseline, 2..16.
    scale_bits : int
        Width of the unsigned per-tile-column (twin) or per-layer (CMOS) scale codes, 2..18.
    membrane_bits, membrane_frac : int
        Membrane (wall position) register width (signed) and fractional bits of a threshold.
    input_bits : int
        Pixel code and encoder LFSR word width, 1..16.
    input_rate : float
        Spike probability per step of a white pixel, (0, 1] (spintwin.experiments.run_dw uses 0.5).
    steps : int
        Time steps per image.
    encoding : str
        ``"lfsr"`` or ``"deterministic"``.
    tile : int
        Crossbar rows per tile (32: the seed's 32 x 32 arrays).
    reset_position : float
        DW neuron reset position as a fraction of the track (twin-if floor).
    lut_addr_bits, lut_bits, lut_range : stochastic neuron LUT: address bits, probability bits,
        and the z range covered (+-lut_range, ANN pre-activation units).
    seed : int
        Master seed of the LFSR banks.
    parallelism : int
        The RTL core's scatter lanes P, 1..64 (``quantize.core``): a conv layer's accumulator
        in P banks by output column, so a spike updates up to P words of a window row per
        cycle. Timing only: the arithmetic is the same for every P.
    early_margin : int
        Early decision (``quantize.early``): -1 (off) runs every image all ``steps`` steps; 0 stops
        an image after the first step whose leading class leads every other by more than the
        steps left (lossless: the prediction is the full run's); M >= 1 also stops it once the
        lead reaches M (lossy). A stopped image's prediction is its leader at that step; the
        RTL core checks the rule after every step (``quantize.core``).
    """

    kind: str = "twin-if"
    levels: int = 16
    weight_bits: int = 8
    scale_bits: int = 10
    membrane_bits: int = 16
    membrane_frac: int = 8
    input_bits: int = 8
    input_rate: float = 1.0
    steps: int = 100
    encoding: str = "lfsr"
    tile: int = 32
    reset_position: float = 0.5
    lut_addr_bits: int = 6
    lut_bits: int = 8
    lut_range: float = 8.0
    seed: int = 1
    parallelism: int = 1
    early_margin: int = -1

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"QuantConfig.kind must be one of {KINDS}, not {self.kind!r}")
        if self.encoding not in ("lfsr", "deterministic"):
            raise ValueError(f"QuantConfig.encoding must be 'lfsr' or 'deterministic', not {self.encoding!r}")
        for name, lo, hi in (("levels", 2, 256), ("weight_bits", 2, 16), ("scale_bits", 2, 18),
                             ("membrane_bits", 4, 40), ("input_bits", 1, 16), ("steps", 1, 100000),
                             ("tile", 1, 4096), ("lut_addr_bits", 1, 16), ("lut_bits", 1, 16),
                             ("parallelism", 1, 64)):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or not lo <= v <= hi:
                raise ValueError(f"QuantConfig.{name} must be an integer in {lo}..{hi}, not {v!r}")
        if not 0 <= self.membrane_frac <= self.membrane_bits - 2:
            raise ValueError(f"QuantConfig.membrane_frac must be in 0..membrane_bits-2 = {self.membrane_bits - 2},"
                             f" not {self.membrane_frac!r}")
        if not 0 <= self.reset_position < 1:
            raise ValueError(f"QuantConfig.reset_position must be in [0, 1), not {self.reset_position!r}")
        if not 0 < self.input_rate <= 1:
            raise ValueError(f"QuantConfig.input_rate must be in (0, 1], not {self.input_rate!r}")
        if not self.lut_range > 0:
            raise ValueError(f"QuantConfig.lut_range must be > 0, not {self.lut_range!r}")
        m = self.early_margin
        if isinstance(m, bool) or not isinstance(m, int) or not -1 <= m < 1 << 16:
            raise ValueError(f"QuantConfig.early_margin must be an integer in -1..65535 (-1: off, 0: lossless), not {m!r}")

    @property
    def early_decision(self) -> bool:
        """The core stops images early (``early_margin`` >= 0)."""
        return self.early_margin >= 0


@dataclass
class QuantLayer:
    """One layer as integers.

    Attributes
    ----------
    name : str
    k : int64 (m, n)      signed weight codes (rows: inputs of one window / fan-in, columns: outputs)
    c : int64 (R, n)      unsigned scale codes per row tile and column (CMOS: all equal)
    shift : int           right shift (round half up) of acc * c into membrane units
    tile : int            rows per tile (R = ceil(m / tile))
    pool_input : bool     sum-pool the input spikes first (network 2's folded pooling)
    geo : golden.network layer
                          the description's layer (conv, pool or dense: its geometry)
    pre_pool : tuple      the description's linear pooling layers folded into this one, in order
    in_shape, out_shape : tuple
                          arriving spikes (before pre_pool) and the neurons, (H, W, C) or (n,)
    bias : int64 (n,) or None
                          constant input per step in membrane units (module docstring)
    leak_shift : int or None
                          LIF leak ``v -= v >> leak_shift`` before the input; None for IF and p-bit
    recurrent : bool      a recurrent dense layer: ``k``'s last n rows take the layer's own spikes of
                          the previous step (module docstring, "Recurrent layers")
    """

    name: str
    k: np.ndarray
    c: np.ndarray
    shift: int
    tile: int
    pool_input: bool = False   # network 2: the input is 2 x 2 sum-pooled first (counts 0..4)
    geo: object = None
    pre_pool: tuple = ()
    in_shape: tuple = ()
    out_shape: tuple = ()
    bias: np.ndarray | None = None
    leak_shift: int | None = None
    recurrent: bool = False

    def __post_init__(self):
        if self.geo is None:   # the geometry is the description's (build_network gives it)
            raise ValueError(f"layer {self.name!r}: geo (its golden.network layer) is required")

    @property
    def row_tiles(self) -> int:
        return self.c.shape[0]

    @property
    def op(self) -> str:
        """``"conv"``, ``"pool"`` or ``"dense"``."""
        from golden import network as nw

        return "conv" if isinstance(self.geo, nw.Conv2d) else "pool" if isinstance(self.geo, nw.Pool2d) else "dense"


@dataclass
class QuantNetwork:
    """A bit-accurate network: its config, integer layers and neuron constants."""

    cfg: QuantConfig
    layers: list[QuantLayer]
    threshold: int
    floor: int | None
    vmax: int
    lut: np.ndarray | None = None          # int64 (2**lut_addr_bits,) for stochastic networks
    lut_shift: int = 0                      # z >> lut_shift, then + 2**(A-1), addresses the LUT
    info: dict = field(default_factory=dict)
    network: object = None                  # the golden.network.Network it was built from

    @property
    def input_shape(self) -> tuple:
        """(H, W, C) of the input map."""
        return self.network.input.shape if self.network is not None else (28, 28, 1)

    @property
    def classes(self) -> int:
        return int(np.prod(self.layers[-1].out_shape))


def rshift_round(x, shift: int):
    """Arithmetic right shift with round half up: floor((x + 2**(shift-1)) / 2**shift).

    The project's one rounding shift, :func:`quantize.fixed.shift_right` in ``"round_half_up"``
    mode; a negative ``shift`` shifts left by ``-shift`` (a tile whose scale needs no rounding).
    """
    if shift <= 0:
        return np.asarray(x, dtype=np.int64) << (-shift)
    return shift_right(x, shift, "round_half_up")


def tile_output(k, c, shift: int, counts) -> np.ndarray:
    """One crossbar tile (``hdl.crossbar.CrossbarTile``): ``rshift_round((counts @ k) * c, shift)``.

    k int (rows, cols), c int (cols,), counts int (rows,) or (B, rows) -> int64 (cols,) or (B, cols).
    """
    acc = np.asarray(counts, dtype=np.int64) @ np.asarray(k, dtype=np.int64)
    return rshift_round(acc * np.asarray(c, dtype=np.int64), shift)


# Building ------------------------------------------------------------------------------------------
def _scale_codes(a: np.ndarray, scale_bits: int, membrane_frac: int) -> tuple[np.ndarray, int]:
    """Codes c = round(a 2**F) < 2**scale_bits with the largest F; shift = F - membrane_frac."""
    top = float(np.max(a))
    if not top > 0:
        raise ValueError("a layer has no positive scale (all-zero weights?)")
    f = int(np.floor(np.log2((2 ** scale_bits - 1) / top)))
    c = np.rint(a * 2.0 ** f).astype(np.int64)
    while c.max() >= 2 ** scale_bits:  # rounding up at the top
        f -= 1
        c = np.rint(a * 2.0 ** f).astype(np.int64)
    return c, f - membrane_frac


def _stage_matrices(network, kind: str) -> list:
    """``[(folded pools, layer, matrix)]`` of a description for the integer model of ``kind``:
    the golden orientation (rows: one window's inputs, float32), a folded average pooling
    dividing the next layer's weights by its window size, a threshold other than 1 dividing
    them by the threshold. A layer the integer model cannot run is refused with one line."""
    from golden import network as nw

    model = _KIND_MODEL[kind]
    models = ("if", "lif") if model == "if" else (model,)
    out = []
    for folded, layer in network.spiking():
        nrn = layer.neuron
        if nrn.model not in models:
            raise ValueError(f"layer {layer.name!r}: quantize.snn kind {kind!r} runs {' or '.join(repr(m) for m in models)} neurons, "
                             f"not {nrn.model!r} (supported: IF/LIF for twin-if/cmos-if, p-bit for twin-stochastic)")
        for pool in folded:
            if pool.step != pool.size:
                raise ValueError(f"layer {pool.name!r}: folded pooling must not overlap (stride = size = {pool.size})")
        if isinstance(layer, nw.Conv2d):
            mat = layer.weight.reshape(layer.out_channels, -1).T.astype(np.float32)
        elif isinstance(layer, nw.Dense):
            mat = layer.weight.T.astype(np.float32)
        else:
            mat = np.full((layer.size ** 2, 1), layer.weight_value, np.float32)
        for pool in folded:
            if pool.mode == "avg":
                mat = mat / float(pool.size ** 2)
        bias = getattr(layer, "bias", None)
        bias = None if bias is None else np.asarray(bias, np.float64)
        if model == "if" and nrn.threshold != 1.0:
            mat = mat / float(nrn.threshold)
            bias = None if bias is None else bias / float(nrn.threshold)
        out.append((folded, layer, mat, bias, nrn.leak_shift if nrn.model == "lif" else None))
    return out


def _bias_codes(name: str, bias, cfg: QuantConfig):
    """A float bias (threshold units) as membrane LSBs; one that the membrane cannot hold is
    refused naming the layer."""
    if bias is None:
        return None
    top = 2 ** (cfg.membrane_bits - 1)
    b = np.rint(bias * 2.0 ** cfg.membrane_frac)
    if not (b >= -top).all() or not (b < top).all():
        raise ValueError(f"layer {name!r}: a bias of {float(np.abs(bias).max()):g} thresholds does not fit the "
                         f"{cfg.membrane_bits}-bit membrane ({cfg.membrane_frac} fractional bits)")
    return b.astype(np.int64)


def build_network(weights, cfg: QuantConfig = QuantConfig(), *, crossbar=None) -> QuantNetwork:
    """Integer network from a network description or normalised golden weights.

    Parameters
    ----------
    weights : golden.network.Network or dict
        The description (its layers and weights; ``cfg.kind`` says which hardware runs it and
        must match its neuron model), or the built-in CNN's weight dict ``conv1`` (6, 1, 5, 5),
        ``conv2`` (12, 6, 5, 5), ``fc`` (10, 192) in threshold-1 units (network 2: the sigmoid
        CNN's weights, ANN units), which stands for the built-in network of ``cfg.kind``
        (``golden.network.from_weights``).
    cfg : QuantConfig
    crossbar : golden.snn.DwCrossbarConfig, optional
        Device mapping for the twin (default ``golden.snn.DW_CONFIG`` with ``cfg.levels`` and
        ``cfg.tile``: top level at the 99.9th-percentile weight, per-tile gamma pre-compensated),
        programmed by ``golden.snn.program_layer`` exactly as the golden DW network.
    """
    from dataclasses import replace

    from golden import network as nw
    from golden.crossbar import dw_conductance_range
    from golden.devices import dw_neuron, dw_synapse
    from golden.snn import DW_CONFIG, program_layer

    network = weights if isinstance(weights, nw.Network) else nw.from_weights(nw.NETWORK_OF_KIND[cfg.kind], weights)
    v_frac = cfg.membrane_frac
    stochastic = cfg.kind == "twin-stochastic"
    stages = _stage_matrices(network, cfg.kind)

    def geometry(folded, layer, bias, leak):
        first = folded[0] if folded else layer
        return dict(pool_input=bool(folded), geo=layer, pre_pool=tuple(folded),
                    in_shape=network.in_shape_of(first.name), out_shape=network.out_shape_of(layer.name),
                    bias=_bias_codes(layer.name, bias, cfg), leak_shift=leak,
                    recurrent=bool(getattr(layer, "recurrent", False)))

    layers, info = [], {}
    if cfg.kind == "cmos-if":
        q = 2 ** (cfg.weight_bits - 1) - 1
        for folded, layer, w, bias, leak in stages:
            w_max = float(np.max(np.abs(w))) or 1.0
            k = np.clip(np.rint(w / w_max * q), -q, q).astype(np.int64)
            rows = -(-w.shape[0] // cfg.tile)
            c, shift = _scale_codes(np.full((rows, w.shape[1]), w_max / q), cfg.scale_bits, v_frac)
            layers.append(QuantLayer(layer.name, k, c, shift, cfg.tile, **geometry(folded, layer, bias, leak)))
            info[layer.name] = {"w_max": w_max}
        return QuantNetwork(cfg, layers, 1 << v_frac, None, 2 ** (cfg.membrane_bits - 1) - 1, info=info,
                            network=network)

    xcfg = crossbar or replace(DW_CONFIG, levels=cfg.levels, tile=cfg.tile)
    if xcfg.variation:
        raise ValueError("quantize.snn models ideal devices: DwCrossbarConfig.variation must be 0")
    syn = dw_synapse(xcfg.levels)
    g_min, g_max = (g * xcfg.g_scale for g in dw_conductance_range(syn))
    g_s = 1.0 / dw_neuron().r_hm
    lv = cfg.levels - 1
    for folded, layer, w, bias, leak in stages:
        xb, gain = program_layer(np.asarray(w, np.float64), xcfg, g_min, g_max, g_s)
        wp = xb.programmed                                   # gamma-compensated when configured
        k = (np.sign(wp) * np.clip(np.rint(np.abs(wp) / xb.w_max * lv), 0, lv)).astype(np.int64)
        a = xb.w_max / (lv * (1.0 + xb.gamma) * gain)          # threshold units per level, (R, n)
        c, shift = _scale_codes(a, cfg.scale_bits, v_frac)
        layers.append(QuantLayer(layer.name, k, c, shift, cfg.tile, **geometry(folded, layer, bias, leak)))
        info[layer.name] = {"w_max": xb.w_max, "gamma_mean": float(xb.gamma.mean()), "gain": gain}
    vmax = 2 ** (cfg.membrane_bits - 1) - 1
    if not stochastic:
        r = cfg.reset_position
        floor = -int(round(r / (1 - r) * (1 << v_frac)))
        return QuantNetwork(cfg, layers, 1 << v_frac, max(floor, -vmax - 1), vmax, info=info, network=network)
    lut, lut_shift = _sigmoid_lut(cfg)
    return QuantNetwork(cfg, layers, 1 << v_frac, None, vmax, lut=lut, lut_shift=lut_shift, info=info,
                        network=network)


def _sigmoid_lut(cfg: QuantConfig) -> tuple[np.ndarray, int]:
    """LUT of round(sigmoid(z) 2**lut_bits) (clipped to 2**lut_bits - 1) at the centres of
    2**A cells over [-zr, zr); zr is rounded up to a power of two (cells are a shift of z)."""
    a = cfg.lut_addr_bits
    zr = 2.0 ** np.ceil(np.log2(cfg.lut_range))
    cell = 2 * zr / 2 ** a                                # z per LUT cell, a power of two
    lut_shift = int(round(np.log2(cell))) + cfg.membrane_frac
    centres = (np.arange(2 ** a) - 2 ** (a - 1) + 0.5) * cell
    lut = np.minimum(np.rint(2 ** cfg.lut_bits / (1 + np.exp(-centres))), 2 ** cfg.lut_bits - 1).astype(np.int64)
    return lut, lut_shift


# Running -------------------------------------------------------------------------------------------
def _words(width: int, lanes: int, bits: int, seed: int, cycles: int) -> np.ndarray:
    return LfsrBank(LfsrConfig(width, lanes, bits, seed)).run(cycles)


def encoder_seeds(master_seed: int, image: int) -> tuple[int, ...]:
    """States of the encoder banks for image number ``image`` of a run (what the host writes).

    Bank b (width ``ENCODER_WIDTHS[b]``) starts from ``derive_seeds(key, width, 1)[0]`` with
    ``key = splitmix64(master_seed XOR splitmix64(2 image + b))`` (64-bit arithmetic): nonzero,
    a different pseudo-random point of the sequence for every image and bank.
    """
    if image < 0:
        raise ValueError(f"image index must be >= 0, not {image}")
    return tuple(derive_seeds(splitmix64((int(master_seed) ^ splitmix64((2 * image + b) & _M64)) & _M64), w, 1)[0]
                 for b, w in enumerate(ENCODER_WIDTHS))


def encoder_words(cfg: QuantConfig, images, first_image: int = 0, pixels: int = _PIXELS) -> np.ndarray:
    """Encoder words int64 (images, steps, pixels): word ``t * pixels + i`` of each image's banks.

    ``images`` is a count; image j of the result has run index ``first_image + j``.
    """
    n = int(images)
    out = np.empty((n, cfg.steps * pixels), dtype=np.int64)
    chunk = 16  # images per bank run: bounds the int64 temporaries to ~10 MB per 100 steps
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        seeds = [encoder_seeds(cfg.seed, first_image + j) for j in range(lo, hi)]
        r = 0
        for b, w in enumerate(ENCODER_WIDTHS):
            bank = LfsrBank(LfsrConfig(w, hi - lo, cfg.input_bits, 1))
            bank.state = [s[b] for s in seeds]
            r = r ^ bank.run(cfg.steps * pixels)        # (cycles, lanes): lane = image
        out[lo:hi] = r.T
    return out.reshape(n, cfg.steps, pixels)


#: Most pixels the core's encoder scans per cycle: one beat of its pixel memory (hdl.core.PIX_PER_BEAT).
ENCODER_MAX_LANES = 8


def encoder_lanes(cfg: QuantConfig, input_shape) -> int:
    """Pixels E the core's encoder scans per cycle for ``cfg.parallelism`` P: the largest power
    of two <= P, ``ENCODER_MAX_LANES`` and one input row ``W C`` (so a group of E pixels lies
    in one beat of the pixel memory and wraps at most once into the next row)."""
    h, w, c = (tuple(input_shape) + (1, 1, 1))[:3]
    return 1 << (min(cfg.parallelism, ENCODER_MAX_LANES, w * c).bit_length() - 1)


def encoder_groups(s: np.ndarray, lanes: int) -> int:
    """Groups of ``lanes`` consecutive pixels (raster order, per image and step) with at least
    one spike: input spikes s (B, H, W[, C]) of one step (the core's encoder hands out a
    group's spikes in as many cycles, the last one advancing)."""
    flat = np.asarray(s).reshape(len(s), -1)
    pad = -flat.shape[1] % lanes
    flat = np.pad(flat, ((0, 0), (0, pad)))
    return int(flat.reshape(len(s), -1, lanes).any(axis=2).sum())


def pixel_codes(cfg: QuantConfig, x) -> np.ndarray:
    """Pixel codes int64 ``min(2**input_bits - 1, round(x input_rate 2**input_bits))``, x's shape."""
    b = cfg.input_bits
    x = np.asarray(x, dtype=np.float64)
    return np.minimum(2 ** b - 1, np.rint(x * cfg.input_rate * 2 ** b)).astype(np.int64)


def encode(cfg: QuantConfig, x, first_image: int = 0) -> np.ndarray:
    """Input spikes of every step: bool (steps, *x.shape) for images x (B, H, W) or (B, H, W, C)
    in [0, 1] (MNIST: (steps, B, 28, 28)); the encoder scans each image's values in raster order.

    ``first_image``: run index of x[0] (the LFSR encoder's per-image seeds, ``encoder_seeds``).
    """
    b = cfg.input_bits
    p = pixel_codes(cfg, x)
    if cfg.encoding == "lfsr":
        r = encoder_words(cfg, len(p), first_image, int(np.prod(p.shape[1:]))).reshape(
            (len(p), cfg.steps) + p.shape[1:])
        return p[None] > np.moveaxis(r, 1, 0)                        # (steps, B, H, W[, C])
    out = np.empty((cfg.steps,) + p.shape, dtype=bool)
    e = np.zeros_like(p)
    for t in range(cfg.steps):
        e += p
        out[t] = e >= 2 ** b
        e -= out[t] * 2 ** b
    return out


def _windows(layer: QuantLayer, s: np.ndarray) -> np.ndarray:
    """Input spikes (B, H, W, C) -> per-output-position rows (B, P, m) as float64 integers.

    ``layer``: its description geometry and folded pooling. Pooling layers give one row per
    (position, channel) holding that channel's window.
    """
    from golden import network as nw

    b = len(s)
    s = s.astype(np.float64)
    for pool in layer.pre_pool:
        s = nw.sum_pool(pool, s)
    geo = layer.geo
    if isinstance(geo, nw.Conv2d):
        cols = nw.windows(geo, s)
        return cols.reshape(b, -1, cols.shape[-1])
    if isinstance(geo, nw.Pool2d):
        win = nw.windows(geo, s)                                      # (b, Ho, Wo, C k k)
        return win.reshape(b, -1, geo.size ** 2)
    return s.reshape(b, 1, -1)


def layer_input(net: QuantNetwork, layer: QuantLayer, s: np.ndarray, observe=None) -> np.ndarray:
    """Integer input y (B, positions, n) of a layer for input spikes s (B, *in_shape);
    ``observe(acc)``, if given, sees each row tile's int64 accumulator."""
    from golden import network as nw

    if layer.op == "pool":
        # each pooled output (one per channel) sees only its own window: acc = count x k
        t = s.astype(np.float64)
        for pool in layer.pre_pool:
            t = nw.sum_pool(pool, t)
        acc = nw.sum_pool(layer.geo, t).reshape(len(s), -1).astype(np.int64) * int(layer.k[0, 0])
        if observe is not None:
            observe(acc)
        return rshift_round(acc * int(layer.c[0, 0]), layer.shift)[..., None]
    rows = _windows(layer, s)
    y = 0
    t = layer.tile
    for r in range(layer.row_tiles):
        acc = (rows[..., r * t:(r + 1) * t] @ layer.k[r * t:(r + 1) * t].astype(np.float64)).astype(np.int64)
        if observe is not None:  # exact integers: the float64 product stays below 2**53
            observe(acc)
        y = y + rshift_round(acc * layer.c[r], layer.shift)
    if layer.bias is not None:   # a constant current per step, after the tiles (module docstring)
        y = y + layer.bias
    return y


def scatter_words(layer: QuantLayer, s: np.ndarray, lanes: int = 1, per_image: bool = False):
    """Scatter cycles of the core for input spikes s (B, *in_shape): the accumulator words it
    touches, ``lanes`` (``QuantConfig.parallelism``) words of one window row per cycle: a conv
    spike's k x k window positions (fewer at the border; ``rows x ceil(columns / lanes)``
    cycles), one word for pooling and dense. The total over the batch (int), or with
    ``per_image`` each image's, int64 (B,)."""
    b = len(s)
    if layer.op == "conv":
        s = s * _fanout_map(layer, s.shape[1:3], lanes)[..., None]
    if per_image:
        return np.asarray(s, np.int64).reshape(b, -1).sum(axis=1)
    return int(s.sum())


def _fanout_map(layer: QuantLayer, hw: tuple, lanes: int = 1) -> np.ndarray:
    """Accumulator words (output positions) each input position (H, W) of a layer reaches, a
    window row's words counted in groups of ``lanes``."""
    from golden import network as nw

    h, w = hw
    if layer.op != "conv":
        return np.ones((h, w), np.int64)
    shape = layer.in_shape
    for pool in layer.pre_pool:
        shape = pool.out_shape(shape)
    geo_in = shape
    f = nw.layer_fanout(layer.geo, geo_in, layer.out_shape, lanes)[..., 0] // layer.out_shape[2]
    for pool in reversed(layer.pre_pool):
        f = np.repeat(np.repeat(f, pool.size, axis=0), pool.size, axis=1)
    return np.pad(f, ((0, h - f.shape[0]), (0, w - f.shape[1])))


def _to_shape(layer: QuantLayer, y: np.ndarray, b: int) -> np.ndarray:
    return y.reshape((b,) + tuple(layer.out_shape))


class StepObserver:
    """Hooks into :func:`step_loop`, the SNN's one time-step loop; each does nothing here.

    Subclass and override what you need (``run`` counts spikes and takes decisions at
    checkpoints, ``quantize.core.trace`` keeps every spike, explore's profiler records value
    ranges). Arrays passed in belong to the loop: copy what you keep beyond the call.
    ``t`` counts from 0; ``layer`` is a :class:`QuantLayer`.
    """

    def layer_input(self, t: int, layer, s: np.ndarray) -> None:
        """Input spikes of ``layer`` in step ``t``: int/bool (B, *in_shape, 1)."""

    def accumulator(self, t: int, layer, acc: np.ndarray) -> None:
        """One row tile's integer accumulator (before the scale and the rounding shift)."""

    def pre_activation(self, t: int, layer, y: np.ndarray, state: np.ndarray) -> None:
        """The layer's integer input ``y`` (B, *out_shape) and its neuron state before the update
        (IF: membrane, which becomes ``clip(state + y)``; stochastic: the summed input)."""

    def layer_output(self, t: int, layer, s: np.ndarray) -> None:
        """Output spikes of ``layer`` in step ``t``: bool (B, *out_shape)."""

    def step_end(self, t: int, counts: np.ndarray, state: dict) -> None:
        """End of step ``t``: output spike ``counts`` (B, classes) so far, every layer's ``state``."""


_NO_OBSERVER = StepObserver()


def step_loop(net: QuantNetwork, s_in: np.ndarray, observer: StepObserver | None = None, *,
              draws: dict | None = None) -> tuple[np.ndarray, dict]:
    """Run one batch through every time step: the arithmetic the RTL core computes.

    Parameters
    ----------
    net : QuantNetwork
    s_in : ndarray, shape (steps, B, H, W[, C])
        Input spikes (:func:`encode`; MNIST: (steps, B, 28, 28)).
    observer : StepObserver, optional
        Called at each stage of each step and layer.
    draws : dict, optional
        The stochastic kinds' LFSR words (:func:`_neuron_words`), when the caller has them.

    Returns
    -------
    (counts, state)
        Output spikes int64 (B, classes) over all steps; each layer's final state (B, *out_shape).
    """
    obs = _NO_OBSERVER if observer is None else observer
    b = s_in.shape[1]
    stochastic = net.lut is not None
    if stochastic and draws is None:
        draws = _neuron_words(net)
    acc_hook = None
    state = {layer.name: np.zeros((b,) + tuple(layer.out_shape), np.int64) for layer in net.layers}
    counts = np.zeros((b, net.classes), np.int64)
    in_shape = (b,) + tuple(net.input_shape)
    latched = {layer.name: None for layer in net.layers if layer.recurrent}    # s_{t-1}, None at t = 0
    for t in range(net.cfg.steps):
        s = s_in[t].reshape(in_shape)
        for layer in net.layers:
            obs.layer_input(t, layer, s)
            if type(obs).accumulator is not StepObserver.accumulator:
                acc_hook = (lambda acc, _t=t, _layer=layer: obs.accumulator(_t, _layer, acc))
            rows = recurrent_rows(layer.geo, s, latched.get(layer.name))
            y = _to_shape(layer, layer_input(net, layer, rows, acc_hook), b)
            obs.pre_activation(t, layer, y, state[layer.name])
            if stochastic:
                state[layer.name] += y
                s = _pbit(net, y, draws[layer.name][t])
            else:
                s = _if_step(net, state, layer.name, y)
            if layer.recurrent:
                latched[layer.name] = s
            obs.layer_output(t, layer, s)
        counts += s.reshape(b, -1)
        obs.step_end(t, counts, state)
    return counts, state


class _RunObserver(StepObserver):
    """What :func:`run` reports: spike and scatter-word totals, decisions at checkpoints."""

    def __init__(self, net: QuantNetwork, spikes: dict, pred_at: dict):
        self.net, self.spikes, self.pred_at = net, spikes, pred_at

    def layer_input(self, t, layer, s):
        if layer is self.net.layers[0]:
            self.spikes["input"] += int(s.sum())
            if "groups.input" in self.spikes:
                self.spikes["groups.input"] += encoder_groups(s, encoder_lanes(self.net.cfg, self.net.input_shape))
        self.spikes["words." + layer.name] += scatter_words(layer, s, self.net.cfg.parallelism)

    def layer_output(self, t, layer, s):
        self.spikes[layer.name] += int(s.sum())

    def step_end(self, t, counts, state):
        if t + 1 in self.pred_at:
            self.pred_at[t + 1].append(decide(counts, state[self.net.layers[-1].name]))


def run(net: QuantNetwork, x, *, checkpoints=(), batch: int = 250, first_image: int = 0) -> dict:
    """Run images x (B, H, W[, C]) through the network (x[j] is image ``first_image + j`` of the
    run: it selects the encoder's per-image seeds).

    Returns
    -------
    dict with ``counts`` int64 (B, classes) output spikes, ``membrane`` int64 (B, classes) (IF: final
    membrane; stochastic: accumulated input), ``pred`` (B,), ``spikes`` per layer (total output
    spikes over the batch; ``"input"`` the encoder's) and, as ``"words.<layer>"``, the
    accumulator words the RTL core's scatter touches for the layer's input spikes (a spike's
    fan-out: 25 positions of a 5 x 5 window, fewer at the border, 1 for pooling and fc; see
    quantize/core.py; with ``cfg.parallelism`` P > 1 its cycles: a window row's words in
    groups of P; and, where the core's encoder scans E > 1 pixels per cycle
    (``encoder_lanes``), ``"groups.input"``: the groups of E pixels with spikes), and ``pred_at`` {step: (B,)} for the checkpoints.
    With ``cfg.early_margin`` set, each image stops early by that rule (:func:`quantize.early.run_early`:
    the same keys at each image's stop step, ``stop`` the steps it ran, ``spikes["steps.run"]`` their sum).
    """
    if net.cfg.early_decision:                   # early decision: each image to its stop step
        from .early import run_early

        return run_early(net, x, checkpoints=checkpoints, batch=batch, first_image=first_image)
    x = np.asarray(x)
    cps = sorted({int(c) for c in checkpoints if 0 < int(c) <= net.cfg.steps} | {net.cfg.steps})
    out = {"counts": [], "membrane": [], "pred_at": {c: [] for c in cps}}
    spikes = {layer.name: 0 for layer in net.layers}
    spikes["input"] = 0
    spikes.update({"words." + layer.name: 0 for layer in net.layers})
    if encoder_lanes(net.cfg, net.input_shape) > 1:
        spikes["groups.input"] = 0
    draws = _neuron_words(net) if net.lut is not None else None
    observer = _RunObserver(net, spikes, out["pred_at"])
    for i in range(0, len(x), batch):
        counts, state = step_loop(net, encode(net.cfg, x[i:i + batch], first_image + i), observer, draws=draws)
        out["counts"].append(counts)
        out["membrane"].append(state[net.layers[-1].name].copy())
    res = {k: np.concatenate(out[k]) for k in ("counts", "membrane")}
    res["pred_at"] = {c: np.concatenate(v) for c, v in out["pred_at"].items()}
    res["pred"] = res["pred_at"][net.cfg.steps]
    res["spikes"] = spikes
    return res


def _if_step(net: QuantNetwork, state: dict, name: str, y: np.ndarray) -> np.ndarray:
    """IF/LIF update of layer ``name``: leak (LIF), add, clamp, fire, reset (module docstring)."""
    v = state[name]
    leak = next((L.leak_shift for L in net.layers if L.name == name), None)
    if leak is not None:
        v = v - (v >> leak)
    v = v + y
    lo = net.floor if net.floor is not None else -net.vmax - 1
    v = np.clip(v, lo, net.vmax)
    fire = v >= net.threshold
    if net.cfg.kind == "cmos-if":
        v = v - fire * net.threshold       # reset by subtraction
    else:
        v = np.where(fire, 0, v)           # DW neuron: back to the reset position
    state[name] = v
    return fire


def _neuron_words(net: QuantNetwork) -> dict:
    """LFSR words of every stochastic layer: int64 (steps, *out_shape) per layer."""
    cfg = net.cfg
    words = {}
    for j, layer in enumerate(net.layers):
        shape = tuple(layer.out_shape)
        ch = shape[-1]
        pos = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        w = _words(31, ch, cfg.lut_bits, (cfg.seed + 1 + j) & ((1 << 64) - 1), cfg.steps * pos)
        words[layer.name] = w.reshape((cfg.steps,) + shape)
    return words


def _pbit(net: QuantNetwork, z: np.ndarray, r: np.ndarray) -> np.ndarray:
    a = net.cfg.lut_addr_bits
    addr = np.clip((z >> net.lut_shift) + (1 << (a - 1)), 0, (1 << a) - 1)
    return net.lut[addr] > r


def decide(counts: np.ndarray, membrane: np.ndarray) -> np.ndarray:
    """Most spikes, then largest membrane, then lowest index. (B, 10) int -> (B,)."""
    best = counts.max(axis=1, keepdims=True)
    return np.where(counts == best, membrane, np.iinfo(np.int64).min).argmax(axis=1)
