"""The RTL SNN inference core as integers: memory images, constants, spike trace, signatures
and the cycle count (networks 1 and 2 and the CMOS baseline; ``quantize.snn`` kinds).

``hdl.core.SnnCore`` is built from the :class:`CoreLayer` list of :func:`core_layers`, and
``tb/core_tb.py`` checks it against :func:`trace` (spike for spike, through the per-layer
signatures) and :func:`cycles_exact` (cycle for cycle).

Architecture (event driven, time multiplexed; seed section V.1, REFERENCES.md sections 4-6)
-------------------------------------------------------------------------------------------
Per image the host writes the encoder seeds (``quantize.snn.encoder_seeds``) and streams the
``N = H W C`` pixel codes of the input map (784 for MNIST); per time step the core runs phases
in layer order, as the model (layer l at step t sees layer l-1's spikes of step t):

* ENC: pixels in raster order ``(y, x, c)``, channel fastest, one per cycle; pixel i spikes
  when ``p_i > r`` (``r`` the XOR of the two encoder banks' words). A spike is *scattered*
  into the first layer. With ``QuantConfig.parallelism`` P > 1 the encoder scans groups of
  ``E = quantize.snn.encoder_lanes`` pixels per cycle (the same words: lane i takes the banks'
  word i on) and hands out a group's spikes one per cycle.
* Scatter of an input spike (y, x, c) into a layer: for every output position it touches, the
  weight row ``k[i, :]`` (all output columns at once: the crossbar's parallel column read) is
  added to the accumulator word ``(position, row tile i >> tile_log2)``, one word per cycle.
  conv: k x k windows (k**2 positions, fewer at the border; k = 5 in the built-ins), row
  ``i = c k**2 + dy k + dx`` (the im2col order of golden.cnn); zero padding p moves the spike
  to ``(y + p, x + p)`` of the padded map first (the padding itself never spikes); pool: the
  2 x 2 window's one position, rows ``(c, dy, dx)`` of a channel-diagonal ``k``; dense: one
  word, the row tile of row ``(y W + x) C + c`` (a dense layer's own spikes come from its one
  position: row ``c``, so dense layers chain: an MLP). Network 2's folded pooling: the spike
  first moves to ``(y // 2, x // 2)`` (count x k = the sum of the spikes' k: exact).
  Lanes (``QuantConfig.parallelism`` P, issue 17): a conv layer's accumulator is split into
  ``B = min(P, k, Wo)`` banks by output column (``ox mod B``; word ``(oy ceil(Wo / B) + ox // B)
  R + tile`` of its bank), each with its own read-modify-write lane and weight ROM read port;
  the walk takes up to B consecutive columns of one window row per cycle (any B consecutive
  columns lie in distinct banks), so a spike's scatter takes ``sum_rows ceil(columns / B)``
  cycles instead of one per word; pooling and dense layers keep one memory.
* READ(l): per output position, the row tiles' words are read (one per cycle) and cleared,
  ``y_j = sum_r rshift_round(acc_rj c_rj, shift)`` (columns in parallel), then the position's
  neurons update (membrane word = all columns): DW IF, CMOS IF or p-bit, as quantize.snn,
  with the layer's bias added to ``y`` and a LIF layer's leak ``v - (v >> leak_shift)``
  applied to the stored membrane first.
  Each spike of the position is then handled in channel order: one cycle (signature, counter)
  plus its scatter into layer l+1 (the readout stalls meanwhile); the last layer's spikes
  count the classes.
* Recurrent dense layers (``golden.network.Dense.recurrent``; seed sections III and V.1): each
  spike a recurrent layer hands out is also a request to the layer's *own* scatter engine,
  which adds weight row ``in + c`` (the recurrent rows follow the input rows) to the layer's
  own accumulator word ``(in + c) >> tile_log2``, for the next step's READ; not in an image's
  last step (nothing reads it: the accumulator is all zero when the next image starts).
  Hazards: a dense layer has one position, so all its R words have been read and cleared
  before its first spike reaches ``rem`` (READ_STAGES advances after the last issue) and the
  recurrent writes follow every read and clear of the step; the readout takes the read port
  only while it issues, leaving it to the own engine afterwards; the next writes into those
  words are the next step's scatter from layer l-1 through the same engine (its forwarding
  orders them), and the next read is the next step's READ(l). Cycles: the own engine is
  another engine than the next layer's and a dense scatter is one word (an engine takes a
  request every cycle), so the recurrent scatter runs beside the hand-out and adds no cycle:
  the count below holds unchanged (tests check it cycle for cycle).
* After the last step: the decision (one cycle per class and one more, quantize.snn.decide's
  order).

Pipelines (timing only; the arithmetic is the model's, bit for bit): the encoder reads,
registers, selects and compares pixels in four register stages; a scatter engine walks a
spike's output positions one per cycle and turns each into its (word, row) pair in three more
stages (A1..A3, at most two adders each) before it registers the memories' outputs (E1) and
adds and writes back (E2, forwarding the two sums its read missed); a layer's readout streams
its words through seven register stages (word; word and scale; product; ``y`` over the tiles;
``y`` and the stored membrane; the membrane sum; the clamped sum) and a small result FIFO into
the pending-spike register ``rem``, whose lowest set bit is registered (``sel``) before it is
handed out. The encoder and the readout's control hold as a whole while the next layer's
scatter engine is busy or (readout) spikes are pending; the readout's datapath never holds
(its FIFO is popped in step with the control, ``READ_STAGES`` advances after the issue).

Cycles (exact; ``cycles_exact``): per step ``ceil(N / E) + ENC_TAIL + sum_{input spikes}
(F_1 - 1) + (input spikes - groups of E pixels with a spike) + sum_l [SCATTER_LATENCY + P_l R_l
+ READ_FLUSH + sum_{spikes of l} F_{l+1}] + 1`` (E = 1: ``N + ENC_TAIL + sum (F_1 - 1)``) and per
image ``+ 2 + classes`` (start, the two-stage decision; MNIST: ``N + ENC_TAIL = 789`` and
``+ 12``), with
``F`` a spike's fan-out (its scatter cycles: the words it touches, a window row's in groups of
B, ``CoreLayer.fanout``; 1 for an output spike), ``P`` positions, ``R`` row tiles (the readout
reads one word per cycle for every B). Where the terms come from: the encoder issues one pixel
(group) per advancing cycle and a spike's hand-out advances too, then holds for the other
``F - 1`` words of its scatter (a group with k spikes holds ``k - 1`` cycles more: one hand-out
per cycle, the last advancing); the phase ends ``ENC_TAIL`` cycles after the last issue when no spike is in flight (four stages
and the closing cycle). A layer's readout waits ``SCATTER_LATENCY`` cycles (LEAD) for the
scatter into it to write its last word, issues one word per advancing cycle, and ends on the
``READ_FLUSH``-th advance after its last issue; it holds one cycle per pending spike (the cycle
that moves the spike from ``rem`` to ``sel``) and ``F - 1`` cycles while the spike's scatter
walks its other words (the next layer's engine takes the next request in its last walking
cycle), so each spike costs exactly ``F`` held cycles. One cycle closes the step.

Signatures: for each layer (``input`` first) a 32-bit rotate-XOR over its spike events in the
core's order (step, position, channel): ``sig = rotl32(sig, 1) XOR ((t P + p) n + c mod 2**32)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from golden import network as _nw
from quantize import snn as q

__all__ = ["CoreLayer", "core_layers", "check_core_network", "trace", "signature", "signatures", "cycles_exact",
           "cycles_per_image", "fanouts", "trained_network", "network_from_config", "NETWORKS", "SIG_BITS"]

#: Flow network names -> quantize.snn kinds (golden.network.KIND_OF).
NETWORKS = dict(_nw.KIND_OF)
SIG_BITS = 32
#: Per-image overhead cycles outside the steps (start, one decision cycle per class and one to
#: close the two-stage decision) of the 10-class built-ins; any network: ``2 + classes``.
IMAGE_OVERHEAD = 12
#: Per-step overhead cycles (the step's closing cycle).
STEP_OVERHEAD = 1
#: Encoder cycles per step beyond one per pixel: four pipeline stages and the closing cycle.
ENC_TAIL = 5
#: Encoder cycles per step without spikes for MNIST: 784 pixels and ``ENC_TAIL``; any network:
#: ``H W C + ENC_TAIL``.
ENC_CYCLES = 784 + ENC_TAIL
#: Cycles from a scatter engine's last walked position to its write-back (stages A1..A3, E1,
#: E2): a layer's readout starts this many cycles after the previous phase (LEAD), so that its
#: first read follows the last write.
SCATTER_LATENCY = 5
#: Advances from a readout word's issue to its position's spikes in ``rem``: the datapath's
#: seven register stages (word; word and scale; product; y; y and membrane; sum; clamped sum)
#: and the result FIFO.
READ_STAGES = 8
#: Advances of the readout pipeline after a layer's last issued word: READ_STAGES to carry the
#: last position into ``rem``, one to hand out its last spike, one to end the phase.
READ_FLUSH = READ_STAGES + 2
#: Limits of the core's datapath: coordinates and channels in 8-bit registers, layers in the
#: 3-bit event port (with the input), counters of 16 bits.
MAX_COORD = 256
MAX_LAYERS = 7


@dataclass
class CoreLayer:
    """One layer of the core.

    Attributes
    ----------
    name : str
    kind : str            "conv" (k x k, stride 1), "pool" (2 x 2, stride 2) or "fc" (dense)
    in_shape : (H, W, C)  shape of the arriving spikes (before any input pooling)
    pool_input : bool     network 2: (y, x) -> (y // 2, x // 2) before the scatter
    out_hw : (Ho, Wo)     output positions (fc: (1, 1))
    k : int64 (rows, n)   weight codes (pool: channel diagonal)
    c : int64 (R, n)      scale codes per row tile and column
    shift : int           rshift_round of acc * c
    tile_log2 : int       rows per tile = 2**tile_log2 (R = ceil(rows / 2**tile_log2))
    ksize : int           conv kernel size k (5 in the built-ins)
    padding : int         conv zero padding p (0 in the built-ins)
    banks : int           accumulator banks B by output column (``ox mod B``; conv:
                          ``min(QuantConfig.parallelism, k, Wo)``, else 1): a spike's scatter
                          updates up to B words of one window row per cycle
    enc_lanes : int       first layer: pixels E the encoder scans per cycle
                          (``quantize.snn.encoder_lanes``; 1 elsewhere)
    bias : int64 (n,) or None
                          constant input per step (membrane units), added at the neuron update
    leak_shift : int or None
                          LIF: the stored membrane leaks ``v - (v >> leak_shift)`` first
    recurrent : bool      fc only: rows ``in .. in + n - 1`` of ``k`` take the layer's own spikes
                          of the previous step (the module docstring's recurrent scatter)
    """

    name: str
    kind: str
    in_shape: tuple
    pool_input: bool
    out_hw: tuple
    k: np.ndarray
    c: np.ndarray
    shift: int
    tile_log2: int
    ksize: int = 5
    padding: int = 0
    bias: np.ndarray | None = None
    leak_shift: int | None = None
    recurrent: bool = False
    banks: int = 1
    enc_lanes: int = 1

    @property
    def n(self) -> int:
        return self.k.shape[1]

    @property
    def rows(self) -> int:
        return self.k.shape[0]

    @property
    def tiles(self) -> int:
        return self.c.shape[0]

    @property
    def positions(self) -> int:
        return self.out_hw[0] * self.out_hw[1]

    @property
    def geo_shape(self) -> tuple:
        """(H, W, C) of the input after the optional input pooling."""
        h, w, c = self.in_shape
        return (h // 2, w // 2, c) if self.pool_input else (h, w, c)

    def max_count(self) -> int:
        """Most events one (position, row) receives per step: 4 with folded pooling, else 1."""
        return 4 if self.pool_input else 1

    def fanout(self, y, x) -> np.ndarray:
        """Scatter cycles of a spike at input (y, x) (arrays) (``cycles_exact``'s F): the words
        it touches, a window row's in groups of ``banks`` (``rows x ceil(columns / banks)``)."""
        y, x = np.asarray(y), np.asarray(x)
        if self.pool_input:
            y, x = y // 2, x // 2
        if self.kind != "conv":
            return np.ones(np.broadcast(y, x).shape, dtype=np.int64)
        y, x = y + self.padding, x + self.padding
        ho, wo = self.out_hw
        k1 = self.ksize - 1
        ny = np.minimum(ho - 1, y) - np.maximum(0, y - k1) + 1
        nx = np.minimum(wo - 1, x) - np.maximum(0, x - k1) + 1
        return (ny * -(-nx // self.banks)).astype(np.int64)

    def words(self, y: int, x: int, c: int) -> list[tuple[int, int]]:
        """The (accumulator address, weight row) pairs of a spike, in the core's order
        (output row, then column, ascending); the address is the word's in one memory of
        ``positions x tiles`` words (``banks`` > 1 splits it by column, the order holds)."""
        h, w, ch = self.geo_shape
        if self.pool_input:
            y, x = y // 2, x // 2
        if self.kind == "conv":
            y, x = y + self.padding, x + self.padding
            ho, wo = self.out_hw
            k = self.ksize
            out = []
            for oy in range(max(0, y - k + 1), min(ho - 1, y) + 1):
                for ox in range(max(0, x - k + 1), min(wo - 1, x) + 1):
                    row = c * k * k + (y - oy) * k + (x - ox)
                    out.append(((oy * wo + ox) * self.tiles + (row >> self.tile_log2), row))
            return out
        if self.kind == "pool":
            return [((y // 2) * self.out_hw[1] + x // 2, c * 4 + (y % 2) * 2 + (x % 2))]
        row = (y * w + x) * ch + c
        return [(row >> self.tile_log2, row)]


def check_core_network(network) -> None:
    """Refuse (ValueError, one line naming the layer and what is supported) a description the
    core's architecture cannot run. Supported: any input H x W x C (H, W, C <= 256); conv
    k x k (k >= 1) with stride 1 and any zero padding; 2 x 2 pooling with stride 2, with
    neurons or folded (linear) into the next weighted layer; Flatten; dense layers after the
    flatten, chained (an MLP), recurrent or not; biases; IF, LIF (shift leak) or p-bit neurons; up to
    ``MAX_LAYERS`` layers with neurons, each with at most 256 channels (outputs)."""
    layers = [L for L in network.layers if not isinstance(L, _nw.Flatten)]
    h, w, c = network.input.shape
    if max(h, w, c) > MAX_COORD:
        raise ValueError(f"layer 'input': the core runs inputs up to {MAX_COORD} x {MAX_COORD} x {MAX_COORD}, "
                         f"not {h} x {w} x {c}")
    for j, L in enumerate(layers):
        what = f"layer {L.name!r}"
        if isinstance(L, _nw.Conv2d):
            if L.stride != 1:
                raise ValueError(f"{what}: the core runs convolutions with stride 1 (any padding), not stride "
                                 f"{L.stride}")
        elif isinstance(L, _nw.Pool2d):
            if L.size != 2 or L.step != 2:
                raise ValueError(f"{what}: the core pools 2 x 2 with stride 2, not {L.size} x {L.size} stride {L.step}")
            if L.neuron is None and not isinstance(layers[j + 1] if j + 1 < len(layers) else None,
                                                    (_nw.Conv2d, _nw.Dense)):
                raise ValueError(f"{what}: linear pooling must fold into a following conv or dense layer")
        shape = network.out_shape_of(L.name)
        if max(shape[:2] if len(shape) == 3 else (1,)) > MAX_COORD or shape[-1] > MAX_COORD:
            raise ValueError(f"{what}: the core runs maps up to {MAX_COORD} x {MAX_COORD} x {MAX_COORD}, not {shape}")
    spiking = [L for L in layers if L.neuron is not None]
    if len(spiking) > MAX_LAYERS:
        raise ValueError(f"layer {spiking[MAX_LAYERS].name!r}: the core runs at most {MAX_LAYERS} layers with "
                         f"neurons, not {len(spiking)}")


def core_layers(net: q.QuantNetwork) -> list[CoreLayer]:
    """The core's layers from a bit-accurate network (``net.cfg.tile`` must be a power of two;
    its description within :func:`check_core_network`'s limits); a conv layer gets
    ``min(cfg.parallelism, k, Wo)`` accumulator banks (more lanes than a window row's columns
    would never work at once)."""
    tile = net.cfg.tile
    if tile & (tile - 1):
        raise ValueError(f"the core needs QuantConfig.tile to be a power of two, not {tile}")
    if net.network is not None:
        check_core_network(net.network)
    out = []
    for layer in net.layers:
        kind = {"conv": "conv", "pool": "pool", "dense": "fc"}[layer.op]
        in_shape = tuple(layer.in_shape)
        if len(in_shape) == 1:           # a dense layer after a Flatten: the map it flattens
            prev = _before_flatten(net.network, layer.name)
            in_shape = tuple(net.input_shape if prev == "input" else net.network.out_shape_of(prev))
            if len(in_shape) == 1:       # after a dense layer: its one position
                in_shape = (1, 1) + in_shape
        out_shape = tuple(layer.out_shape)
        out_hw = (1, 1) if kind == "fc" else out_shape[:2]
        k, c = np.asarray(layer.k, np.int64), np.asarray(layer.c, np.int64)
        tl = tile.bit_length() - 1
        if kind == "pool":
            ch = in_shape[2]
            kd = np.zeros((4 * ch, ch), np.int64)
            for j in range(ch):
                kd[4 * j:4 * j + 4, j] = k[0, 0]
            k, c = kd, np.full((1, ch), int(c[0, 0]), np.int64)
            tl = (4 * ch).bit_length()            # one tile
        ks = layer.geo.kernel if kind == "conv" else 5
        pad = layer.geo.padding if kind == "conv" else 0
        bias = None if layer.bias is None else np.asarray(layer.bias, np.int64)
        banks = min(net.cfg.parallelism, ks, out_hw[1]) if kind == "conv" else 1
        lanes = q.encoder_lanes(net.cfg, net.input_shape) if not out else 1
        out.append(CoreLayer(layer.name, kind, in_shape, layer.pool_input, out_hw, k, c, int(layer.shift), tl, ks,
                             pad, bias, layer.leak_shift, layer.recurrent, banks, lanes))
    return out


def _before_flatten(network, name: str) -> str:
    """The layer whose output the Flatten in front of ``name`` flattens (or the input)."""
    prev = "input"
    for L in network.layers:
        if L.name == name:
            return prev
        if not isinstance(L, _nw.Flatten):
            prev = L.name
    raise KeyError(name)


# Trace ---------------------------------------------------------------------------------------------
def trace(net: q.QuantNetwork, x, first_image: int = 0) -> list[dict]:
    """Run images x (B, H, W[, C]) through the model keeping every spike.

    Returns one dict per image: ``spikes`` {layer ("input" first): bool (steps, P, n)} in the
    core's (position, channel) order, ``counts`` int (classes,), ``membrane`` int (classes,),
    ``pred``.
    The same loop as ``quantize.snn.run`` (:func:`quantize.snn.step_loop`, keeping the spikes;
    tests/test_core_model.py checks they agree).
    """
    x = np.asarray(x)
    s_in = q.encode(net.cfg, x, first_image)                       # (steps, B, H, W)
    steps, b = net.cfg.steps, len(x)
    h, w, ch = net.input_shape
    spk = {"input": s_in.reshape(steps, b, h * w, ch)}
    for layer in net.layers:
        shape = tuple(layer.out_shape)
        spk[layer.name] = np.zeros((steps, b) + ((int(np.prod(shape[:-1])) if len(shape) > 1 else 1), shape[-1]), bool)
    counts, state = q.step_loop(net, s_in, _SpikeKeeper(spk))
    membrane = state[net.layers[-1].name]
    pred = q.decide(counts, membrane)
    items = [{"spikes": {k: v[:, j] for k, v in spk.items()}, "counts": counts[j],
              "membrane": membrane[j], "pred": int(pred[j])} for j in range(b)]
    if net.cfg.early_decision:
        _stop_early(net, items)
    return items


def early_scan_cycles(classes: int) -> int:
    """Cycles per step of the early-decision check (``QuantConfig.early_margin`` set): one per
    class to read the counters, one for the last class's compare, one to register the lead and
    the steps left, one to compare them."""
    return classes + 3


def _stop_early(net: q.QuantNetwork, items: list) -> None:
    """Cut traced images at their early-decision stop step (``quantize.early``): the spikes of
    later steps removed, counts at the stop, the leader as the prediction where the rule
    stopped the image; ``steps_run`` and the per-step ``scan_cycles`` for :func:`cycles_exact`."""
    from .early import config_rule, early_exit_steps

    last = net.layers[-1].name
    cum = np.cumsum(np.stack([it["spikes"][last][:, 0, :] for it in items], axis=1), axis=0)   # (T, B, C)
    stop, decided = early_exit_steps(cum, net.cfg.steps, config_rule(net.cfg))
    for j, it in enumerate(items):
        e = int(stop[j])
        for v in it["spikes"].values():
            v[e:] = False
        it["counts"] = cum[e - 1, j].astype(np.int64)
        if decided[j]:
            it["pred"] = int(cum[e - 1, j].argmax())
        it["steps_run"] = e
        it["scan_cycles"] = early_scan_cycles(net.classes)


class _SpikeKeeper(q.StepObserver):
    """Keeps every layer's output spikes in the core's (position, channel) order."""

    def __init__(self, spk: dict):
        self.spk = spk

    def layer_output(self, t, layer, s):
        out = self.spk[layer.name]
        out[t] = s.reshape(out.shape[1], out.shape[2], -1)


def signature(spikes: np.ndarray, bits: int = SIG_BITS) -> int:
    """Rotate-XOR signature of a layer's spikes bool (steps, P, n) in (step, position, channel)
    order: ``sig = rotl(sig, 1) XOR (event index mod 2**bits)``, event index ``(t P + p) n + c``."""
    idx = np.flatnonzero(np.asarray(spikes).reshape(-1)).astype(np.uint64)
    mask = np.uint64((1 << bits) - 1)
    ev = idx & mask
    rot = ((len(idx) - 1 - np.arange(len(idx))) % bits).astype(np.uint64)
    r = ((ev << rot) | (ev >> ((np.uint64(bits) - rot) % np.uint64(bits)))) & mask
    return int(np.bitwise_xor.reduce(r)) if len(r) else 0


def signatures(item: dict) -> dict:
    """{layer: signature} of one traced image."""
    return {k: signature(v) for k, v in item["spikes"].items()}


# Cycles --------------------------------------------------------------------------------------------
def fanouts(layers: list[CoreLayer], item: dict) -> dict:
    """Total scatter words per step of every layer's input spikes: {layer: int (steps,)}."""
    names = ["input"] + [L.name for L in layers]
    out = {}
    for prev, layer in zip(names, layers):
        s = item["spikes"][prev]                                    # (steps, P_prev, n_prev)
        h, w, _ = layer.in_shape
        pos = np.arange(s.shape[1])
        f = layer.fanout(pos // w, pos % w)                        # positions in raster order
        out[layer.name] = (s.sum(axis=2) * f[None, :]).sum(axis=1)
    return out


def cycles_exact(layers: list[CoreLayer], item: dict) -> int:
    """Cycles the core takes for one traced image (see the module docstring)."""
    f = fanouts(layers, item)
    s_in = item["spikes"]["input"]
    steps, positions, channels = s_in.shape
    steps = item.get("steps_run", steps)                    # early decision: the steps it ran
    e = layers[0].enc_lanes
    handouts = q.encoder_groups(s_in, e)                    # = the input spikes for E = 1
    total = (steps * (-(-positions * channels // e) + ENC_TAIL + STEP_OVERHEAD) + int(f[layers[0].name].sum())
             - handouts + 2 + layers[-1].n + steps * item.get("scan_cycles", 0))
    for j, layer in enumerate(layers):
        total += steps * (SCATTER_LATENCY + layer.positions * layer.tiles + READ_FLUSH)
        if j + 1 < len(layers):
            total += int(f[layers[j + 1].name].sum())
        else:
            total += int(item["spikes"][layer.name].sum())      # an output spike: one cycle
    return total


def mean_fanout(layer: CoreLayer) -> float:
    """Fan-out of a spike averaged over the input positions with a full window (the digit's
    interior) and the rest: the mean over input positions inside the central (H - 8) x (W - 8)
    region, where MNIST's strokes lie."""
    h, w, _ = layer.in_shape
    yy, xx = np.mgrid[4:h - 4, 4:w - 4] if h > 8 else np.mgrid[0:h, 0:w]
    return float(layer.fanout(yy.ravel(), xx.ravel()).mean())


def cycles_per_image(net: q.QuantNetwork, spikes: dict, fanout: dict | None = None) -> float:
    """Analytical cycles per image from the model's mean event counts per image:
    ``spikes`` as ``quantize.snn.run``'s ``spikes`` divided by the images ({"input": ...,
    layer: ..., "words.<layer>": ...}).

    The scatter words of a layer's input spikes are ``spikes["words.<layer>"]`` when given (then
    the result is the mean of ``cycles_exact`` over the images, exactly), else the spikes times
    ``fanout[layer]`` (default ``mean_fanout``: an estimate).
    """
    layers = core_layers(net)
    fanout = fanout or {L.name: mean_fanout(L) for L in layers}

    def words(j):
        name = layers[j].name
        if "words." + name in spikes:
            return spikes["words." + name]
        return spikes["input" if j == 0 else layers[j - 1].name] * fanout[name]

    steps = spikes.get("steps.run", net.cfg.steps)           # early decision: the mean steps run
    e = layers[0].enc_lanes
    groups = -(-int(np.prod(net.input_shape)) // e)
    handouts = spikes["input"] if e == 1 else spikes.get("groups.input", spikes["input"])
    scan = early_scan_cycles(layers[-1].n) if net.cfg.early_decision else 0
    total = steps * (groups + ENC_TAIL + STEP_OVERHEAD + scan) + 2 + layers[-1].n + words(0) - handouts
    for j, layer in enumerate(layers):
        total += steps * (SCATTER_LATENCY + layer.positions * layer.tiles + READ_FLUSH)
        total += words(j + 1) if j + 1 < len(layers) else spikes[layer.name]
    return float(total)


# Trained networks ----------------------------------------------------------------------------------
def trained_network(network, steps: int | None = None, seed: int = 1, data=None) -> q.QuantNetwork:
    """The bit-accurate network of a built-in network with the shipped trained weights.

    ``network``: a built-in name (``golden.network.BUILTINS``) or a ``golden.network.Network``
    whose neurons name a kind. ``cnn-if``: the twin of network 1 (max normalisation, half-rate
    input, 100 steps); ``cmos-if``: the CMOS baseline (99.9th percentile, 100 steps);
    ``cnn-stochastic``: network 2 (50 steps); formats as ``quantize.trained.KIND_DEFAULTS``.
    """
    if isinstance(network, _nw.Network):
        kind = network.kind
        if kind is None:
            raise ValueError(f"network {network.name!r}: its neurons name no single kind (twin-if, cmos-if or "
                             "twin-stochastic)")
    elif network not in NETWORKS:
        raise ValueError(f"network must be one of {sorted(NETWORKS)}, not {network!r}")
    else:
        kind = NETWORKS[network]
    if kind == "twin-stochastic":
        return network_from_config(q.QuantConfig(kind=kind, steps=steps or 50, seed=seed), data, network)
    extra = {"input_rate": 0.5} if kind == "twin-if" else {}
    return network_from_config(q.QuantConfig(kind=kind, steps=steps or 100, seed=seed, **extra), data, network)


def network_from_config(cfg: q.QuantConfig, data=None, network=None) -> q.QuantNetwork:
    """The bit-accurate network of any QuantConfig: ``network`` (a ``golden.network.Network``,
    or a built-in name), default the built-in network of ``cfg.kind`` with its shipped trained
    weights (``golden.network.builtin``: the sigmoid CNN for ``twin-stochastic``, else the ReLU
    CNN normalised for ``cfg.kind``); :func:`trained_network` is this with each built-in's formats."""
    if not isinstance(network, _nw.Network):
        name = _nw.NETWORK_OF_KIND[cfg.kind] if network is None else network
        if name not in NETWORKS:
            raise ValueError(f"network must be one of {sorted(NETWORKS)}, not {name!r}")
        network = _nw.builtin(name, data=data)
    return q.build_network(network, cfg)
