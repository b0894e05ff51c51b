"""One network description: layers with shapes, neuron models and trained weights, as data.

golden (the float simulation), quantize (the integer model and the core's layer tables), hdl
(the RTL core, within its limits) and the energy model read this description; the built-in
networks are instances of it (:func:`builtin`), and a NIR graph maps onto it node for node
(Conv2d, SumPool2d/AvgPool2d, Flatten, Linear/Affine, IF/LIF/Threshold).

Conventions
-----------
* Feature maps are channels-last ``(H, W, C)``; a flattened map is ordered ``(h, w, c)``
  (row-major over H, W, C: index ``(y W + x) C + c``). NIR's maps are channels-first
  ``(C, H, W)``: an importer permutes a Linear that follows a Flatten accordingly.
* Conv2d weights are ``(K, C, k, k)`` (out channels, in channels, kernel rows, kernel columns;
  cross-correlation, as NIR and torch); Dense weights ``(out, in)`` (a recurrent dense layer:
  ``(out, in + out)``, its own spikes of the previous step as extra rows; :class:`Dense`);
  biases ``(out,)``.
* A layer with a :class:`Neuron` feeds spiking neurons; a layer without one is linear and
  folds into the next weighted layer (network 2's pooling: the next layer sees the pooled
  counts). Flatten never has neurons. The last layer must have neurons (the classes).

Neuron models (:class:`Neuron`)
-------------------------------
``model``: ``"if"`` (integrate and fire), ``"lif"`` (the membrane leaks ``v >> leak_shift``
per step, a shift leak as the hardware does), ``"pbit"`` (a stochastic MTJ neuron: spikes
with probability sigmoid of its input each step, no state). ``threshold`` in the layer's
input units; ``reset``: ``"subtract"`` (v -= threshold) or ``"position"`` (v = 0, the reset
position; ``reset_position`` in [0, 1) is where the reset leaves a domain wall on its track,
which floors the membrane at ``-r / (1 - r)`` thresholds). ``device`` names the hardware
that realises it: ``"dw"`` (domain-wall crossbar and neuron), ``"cmos"`` (SRAM weights,
adder and comparator), ``"mtj"`` (stochastic MTJ p-bit). ``(model, device)`` gives the
integer model's kind (:attr:`Neuron.kind`): dw IF = ``"twin-if"``, cmos IF = ``"cmos-if"``,
mtj p-bit = ``"twin-stochastic"``.

Built-in networks (:data:`BUILTINS`; the names used everywhere)
---------------------------------------------------------------
``"cnn-if"``: network 1, the ReLU CNN at max normalisation on DW crossbars with DW IF neurons
(kind ``"twin-if"``); ``"cmos-if"``: the same CNN at the 99.9th percentile with CMOS IF
neurons (kind ``"cmos-if"``, the baseline); ``"cnn-stochastic"``: network 2, the sigmoid CNN
with stochastic MTJ neurons, pooling folded (kind ``"twin-stochastic"``). All three are
``28x28x1 - conv 6@5x5 - pool 2 - conv 12@5x5 - pool 2 - flatten - dense 10``. The old name
``"cnn-dw"`` (energy tables) is ``"cnn-if"``.

Files: :func:`save` writes one ``.npz`` whose ``header.json`` entry (UTF-8 JSON bytes) holds
the structure and whose ``<layer>.weight`` / ``<layer>.bias`` entries hold the arrays,
atomically (:func:`spinbase.fileio.atomic_write_bytes`); :func:`load` reads it back.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

__all__ = ["Input", "Neuron", "Conv2d", "Pool2d", "Flatten", "Dense", "Network", "NetworkError",
           "BUILTINS", "KIND_OF", "NETWORK_OF_KIND", "PERCENTILE", "NORMALISE_IMAGES", "builtin", "from_weights",
           "save", "load", "windows", "sum_pool", "layer_fanout", "recurrent_rows", "FORMAT_VERSION"]

FORMAT_VERSION = 1
#: The built-in networks, by the one name each has everywhere.
BUILTINS = ("cnn-if", "cnn-stochastic", "cmos-if")
#: Built-in network -> the integer model's kind (quantize.snn.QuantConfig.kind).
KIND_OF = {"cnn-if": "twin-if", "cnn-stochastic": "twin-stochastic", "cmos-if": "cmos-if"}
#: Kind -> the built-in network it runs.
NETWORK_OF_KIND = {v: k for k, v in KIND_OF.items()}
#: Normalisation percentile of the IF networks' ReLU CNN (100: max normalisation, the twin's).
PERCENTILE = {"twin-if": 100.0, "cmos-if": 99.9}
#: Training images the normalisation sees (the test set stays unseen).
NORMALISE_IMAGES = 10000

_MODELS = ("if", "lif", "pbit")
_RESETS = ("subtract", "position")
_DEVICES = ("dw", "cmos", "mtj", "ideal")


class NetworkError(ValueError):
    """A network description that does not hold (one line naming the layer)."""


def _pos_int(owner: str, name: str, v, lo: int = 1) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < lo:
        raise NetworkError(f"{owner}: {name} must be an integer >= {lo}, not {v!r}")
    return int(v)


def _array(owner: str, name: str, a, shape: tuple) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "fiu":
        raise NetworkError(f"{owner}: {name} must be numeric, not dtype {a.dtype}")
    if a.shape != tuple(shape):
        raise NetworkError(f"{owner}: {name} has shape {a.shape}, expected {tuple(shape)}")
    if not np.all(np.isfinite(a)):
        raise NetworkError(f"{owner}: {name} holds NaN or infinite values")
    return a


# Pieces ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Input:
    """The input map: ``height x width x channels`` (an MLP's feature vector: 1 x 1 x n)."""

    height: int
    width: int
    channels: int = 1

    def __post_init__(self):
        for f in ("height", "width", "channels"):
            _pos_int("input", f, getattr(self, f))

    @property
    def shape(self) -> tuple:
        return (self.height, self.width, self.channels)


@dataclass(frozen=True)
class Neuron:
    """The neurons a layer feeds (see the module docstring).

    Parameters
    ----------
    model : {"if", "lif", "pbit"}
    threshold : float
        Firing threshold (> 0), layer input units (p-bit: unused, the sigmoid is centred at 0).
    reset : {"subtract", "position"}
    reset_position : float
        In [0, 1): where a ``"position"`` reset leaves a domain wall (0 for other neurons).
    leak_shift : int or None
        LIF: the membrane loses ``v >> leak_shift`` per step (1..31); None for IF and p-bit.
    device : {"dw", "cmos", "mtj", "ideal"}
    """

    model: str = "if"
    threshold: float = 1.0
    reset: str = "subtract"
    reset_position: float = 0.0
    leak_shift: int | None = None
    device: str = "ideal"

    def __post_init__(self):
        if self.model not in _MODELS:
            raise NetworkError(f"neuron: model must be one of {', '.join(_MODELS)}, not {self.model!r}")
        if self.reset not in _RESETS:
            raise NetworkError(f"neuron: reset must be one of {', '.join(_RESETS)}, not {self.reset!r}")
        if self.device not in _DEVICES:
            raise NetworkError(f"neuron: device must be one of {', '.join(_DEVICES)}, not {self.device!r}")
        if not (isinstance(self.threshold, (int, float)) and np.isfinite(self.threshold) and self.threshold > 0):
            raise NetworkError(f"neuron: threshold must be a finite number > 0, not {self.threshold!r}")
        if not (isinstance(self.reset_position, (int, float)) and 0 <= self.reset_position < 1):
            raise NetworkError(f"neuron: reset_position must be in [0, 1), not {self.reset_position!r}")
        if self.model == "lif":
            if self.leak_shift is None:
                raise NetworkError("neuron: a LIF neuron needs leak_shift (1..31)")
            _pos_int("neuron", "leak_shift", self.leak_shift)
            if self.leak_shift > 31:
                raise NetworkError(f"neuron: leak_shift must be in 1..31, not {self.leak_shift!r}")
        elif self.leak_shift is not None:
            raise NetworkError(f"neuron: leak_shift is for LIF neurons only, not {self.model!r}")

    @property
    def kind(self) -> str | None:
        """The integer model's kind (quantize.snn.QuantConfig.kind), or None if it has none."""
        if self.model == "pbit" and self.device == "mtj":
            return "twin-stochastic"
        if self.model == "if" and self.device == "dw" and self.reset == "position":
            return "twin-if"
        if self.model == "if" and self.device == "cmos" and self.reset == "subtract":
            return "cmos-if"
        return None


@dataclass(frozen=True, eq=False)
class Conv2d:
    """A 2-D convolution (cross-correlation) with ``weight`` (K, C, k, k), any stride and
    zero padding (``padding`` pixels on every side), optional ``bias`` (K,)."""

    name: str
    weight: np.ndarray
    stride: int = 1
    padding: int = 0
    bias: np.ndarray | None = None
    neuron: Neuron | None = None

    @property
    def out_channels(self) -> int:
        return int(np.shape(self.weight)[0])

    @property
    def kernel(self) -> int:
        return int(np.shape(self.weight)[2])

    def out_shape(self, in_shape: tuple) -> tuple:
        w = np.shape(self.weight)
        if len(w) != 4 or w[2] != w[3] or min(w) < 1:
            raise NetworkError(f"layer {self.name!r}: weight must be (K, C, k, k) with a square kernel, not {w}")
        _pos_int(f"layer {self.name!r}", "stride", self.stride)
        _pos_int(f"layer {self.name!r}", "padding", self.padding, 0)
        if len(in_shape) != 3:
            raise NetworkError(f"layer {self.name!r}: a convolution needs an (H, W, C) input, not {in_shape}")
        h, wd, c = in_shape
        if w[1] != c:
            raise NetworkError(f"layer {self.name!r}: weight {w} expects {w[1]} input channels, the input is {in_shape}")
        k, s, p = w[2], self.stride, self.padding
        ho, wo = (h + 2 * p - k) // s + 1, (wd + 2 * p - k) // s + 1
        if h + 2 * p < k or wd + 2 * p < k:
            raise NetworkError(f"layer {self.name!r}: kernel {k} does not fit the padded input {in_shape}")
        return (ho, wo, w[0])


@dataclass(frozen=True, eq=False)
class Pool2d:
    """``size x size`` pooling with ``stride`` (default ``size``): ``"avg"`` (the mean, as fixed
    weights 1 / size**2) or ``"sum"``. The input must tile exactly (no partial windows)."""

    name: str
    size: int = 2
    stride: int | None = None
    mode: str = "avg"
    neuron: Neuron | None = None

    @property
    def step(self) -> int:
        return self.size if self.stride is None else self.stride

    @property
    def weight_value(self) -> float:
        """The fixed weight of each window input (avg: 1 / size**2, sum: 1)."""
        return 1.0 / self.size ** 2 if self.mode == "avg" else 1.0

    def out_shape(self, in_shape: tuple) -> tuple:
        _pos_int(f"layer {self.name!r}", "size", self.size)
        _pos_int(f"layer {self.name!r}", "stride", self.step)
        if self.mode not in ("avg", "sum"):
            raise NetworkError(f"layer {self.name!r}: pooling mode must be 'avg' or 'sum', not {self.mode!r}")
        if len(in_shape) != 3:
            raise NetworkError(f"layer {self.name!r}: pooling needs an (H, W, C) input, not {in_shape}")
        h, w, c = in_shape
        k, s = self.size, self.step
        if h < k or w < k or (h - k) % s or (w - k) % s:
            raise NetworkError(f"layer {self.name!r}: {k} x {k} pooling with stride {s} does not tile the input {in_shape}")
        return ((h - k) // s + 1, (w - k) // s + 1, c)


@dataclass(frozen=True, eq=False)
class Flatten:
    """(H, W, C) -> (H W C,) in (h, w, c) order."""

    name: str = "flatten"

    @property
    def neuron(self):
        return None

    def out_shape(self, in_shape: tuple) -> tuple:
        return (int(np.prod(in_shape)),)


@dataclass(frozen=True, eq=False)
class Dense:
    """A dense (Linear; with ``bias``: Affine) layer, ``weight`` (out, in) on a flat input.

    ``recurrent``: the layer's own output spikes of step t-1 are extra input rows at step t
    (seed sections III and V.1: the latched neuron outputs drive input rows of the same
    crossbar): ``weight`` is then ``(out, in + out)``, its last ``out`` columns the recurrent
    weights, and the layer computes ``W [x_t, s_{t-1}] (+ bias)`` with ``s_{-1} = 0``
    (:func:`recurrent_rows`). A recurrent layer must have neurons and a flat input of its own
    (no folded pooling in front).
    """

    name: str
    weight: np.ndarray
    bias: np.ndarray | None = None
    neuron: Neuron | None = None
    recurrent: bool = False

    @property
    def out_features(self) -> int:
        return int(np.shape(self.weight)[0])

    def out_shape(self, in_shape: tuple) -> tuple:
        w = np.shape(self.weight)
        if not isinstance(self.recurrent, (bool, np.bool_)):
            raise NetworkError(f"layer {self.name!r}: recurrent must be true or false, not {self.recurrent!r}")
        if len(w) != 2:
            raise NetworkError(f"layer {self.name!r}: weight must be (out, in), not {w}")
        if len(in_shape) != 1:
            raise NetworkError(f"layer {self.name!r}: a dense layer needs a flat input (add a Flatten), not {in_shape}")
        rec = w[0] if self.recurrent else 0
        if w[1] != in_shape[0] + rec:
            what = f"{w[1] - rec} inputs and {rec} recurrent rows" if rec else f"{w[1]} inputs"
            raise NetworkError(f"layer {self.name!r}: weight {w} expects {what}, the input has {in_shape[0]}"
                               + (f" (a recurrent layer's weight is (out, in + out) = ({w[0]}, {in_shape[0] + w[0]}))"
                                  if rec else ""))
        return (w[0],)


_LAYER_TYPES = {"conv2d": Conv2d, "pool2d": Pool2d, "flatten": Flatten, "dense": Dense}
_TYPE_NAME = {v: k for k, v in _LAYER_TYPES.items()}


@dataclass(frozen=True, eq=False)
class Network:
    """A feed-forward spiking network: an input and a sequence of layers.

    Shapes are derived and checked along the sequence on construction: a mismatch names both
    layers and shapes (:class:`NetworkError`, a ValueError, one line). Arrays are checked to
    be finite and of the right shapes.

    Attributes
    ----------
    name : str
    input : Input
    layers : tuple of Conv2d | Pool2d | Flatten | Dense
    shapes : tuple of (in_shape, out_shape), one per layer (derived)
    """

    name: str
    input: Input
    layers: tuple

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(self.layers))
        if not isinstance(self.input, Input):
            raise NetworkError(f"network {self.name!r}: input must be an Input, not {type(self.input).__name__}")
        if not self.layers:
            raise NetworkError(f"network {self.name!r} has no layers")
        shapes, shape, prev, seen = [], self.input.shape, "input", set()
        for layer in self.layers:
            if type(layer) not in _TYPE_NAME:
                raise NetworkError(f"network {self.name!r}: {layer!r} is not a layer (Conv2d, Pool2d, Flatten, Dense)")
            if not isinstance(layer.name, str) or not layer.name or layer.name in seen or layer.name == "input":
                raise NetworkError(f"network {self.name!r}: layer name {layer.name!r} is empty, 'input' or repeated")
            seen.add(layer.name)
            if layer.neuron is not None and not isinstance(layer.neuron, Neuron):
                raise NetworkError(f"layer {layer.name!r}: neuron must be a Neuron or None")
            if getattr(layer, "recurrent", False) and layer.neuron is None:
                raise NetworkError(f"layer {layer.name!r}: a recurrent layer needs neurons (its spikes are its "
                                   "recurrent input)")
            try:
                out = tuple(int(v) for v in layer.out_shape(shape))
            except NetworkError as e:
                raise NetworkError(f"{e} (after {prev!r}, output {shape})") from None
            if isinstance(layer, (Conv2d, Dense)):
                owner = f"layer {layer.name!r}"
                object.__setattr__(layer, "weight", _array(owner, "weight", layer.weight, np.shape(layer.weight)))
                if layer.bias is not None:
                    object.__setattr__(layer, "bias", _array(owner, "bias", layer.bias, (out[-1],)))
            shapes.append((shape, out))
            shape, prev = out, layer.name
        if self.layers[-1].neuron is None:
            raise NetworkError(f"layer {self.layers[-1].name!r}: the last layer must have neurons (the classes)")
        object.__setattr__(self, "shapes", tuple(shapes))

    # Views ----------------------------------------------------------------------------------------
    def __getitem__(self, name: str):
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    @property
    def out_shape(self) -> tuple:
        return self.shapes[-1][1]

    @property
    def classes(self) -> int:
        return int(np.prod(self.out_shape))

    def in_shape_of(self, name: str) -> tuple:
        return self.shapes[self._index(name)][0]

    def out_shape_of(self, name: str) -> tuple:
        return self.shapes[self._index(name)][1]

    def _index(self, name: str) -> int:
        for i, layer in enumerate(self.layers):
            if layer.name == name:
                return i
        raise KeyError(name)

    def spiking(self) -> list:
        """The stages that end in neurons: ``[(folded, layer)]`` with ``folded`` the linear
        pooling layers (no neurons) applied first, in order. Flatten is a view and is skipped."""
        out, pending = [], []
        for layer in self.layers:
            if isinstance(layer, Flatten):
                continue
            if layer.neuron is None:
                if not isinstance(layer, Pool2d):
                    raise NetworkError(f"layer {layer.name!r}: only pooling may be linear (no neurons) and fold"
                                       " into the next layer")
                pending.append(layer)
                continue
            if pending and getattr(layer, "recurrent", False):
                raise NetworkError(f"layer {layer.name!r}: a recurrent layer cannot take a folded (linear) pooling "
                                   f"{pending[-1].name!r}; give the pooling neurons")
            out.append((tuple(pending), layer))
            pending = []
        return out

    @property
    def kind(self) -> str | None:
        """The integer model's kind shared by every neuron, or None (mixed or none)."""
        kinds = {layer.neuron.kind for layer in self.layers if layer.neuron is not None}
        return kinds.pop() if len(kinds) == 1 else None

    def weights(self) -> dict:
        """{layer name: weight} of the weighted layers (the golden CNN's ``params`` form)."""
        return {layer.name: layer.weight for layer in self.layers if isinstance(layer, (Conv2d, Dense))}

    def with_weights(self, weights: dict) -> "Network":
        """The same structure with other weights (a dict as :meth:`weights` returns; checked)."""
        layers = []
        for layer in self.layers:
            if isinstance(layer, (Conv2d, Dense)) and layer.name in weights:
                w = np.asarray(weights[layer.name])
                if w.shape != np.shape(layer.weight):
                    raise NetworkError(f"layer {layer.name!r}: new weight has shape {w.shape}, expected "
                                       f"{np.shape(layer.weight)}")
                layer = replace(layer, weight=w)
            layers.append(layer)
        return Network(self.name, self.input, layers)

    def header(self) -> dict:
        """The JSON-ready structure (everything but the arrays)."""
        layers = []
        for layer in self.layers:
            d = {"type": _TYPE_NAME[type(layer)]}
            for f in fields(layer):
                v = getattr(layer, f.name)
                if f.name in ("weight", "bias"):
                    d[f.name] = None if v is None else list(np.shape(v))
                elif f.name == "neuron":
                    d[f.name] = None if v is None else {g.name: getattr(v, g.name) for g in fields(v)}
                else:
                    d[f.name] = v
            layers.append(d)
        return {"format": "spintwin-network", "version": FORMAT_VERSION, "name": self.name,
                "input": list(self.input.shape), "layers": layers}


# Files ----------------------------------------------------------------------------------------------
def save(network: Network, path) -> Path:
    """Write ``network`` to one ``.npz`` (``header.json`` + the arrays), atomically."""
    from spinbase.fileio import atomic_write_bytes

    arrays = {"header.json": np.frombuffer(json.dumps(network.header()).encode(), dtype=np.uint8)}
    for layer in network.layers:
        for f in ("weight", "bias"):
            v = getattr(layer, f, None)
            if v is not None:
                arrays[f"{layer.name}.{f}"] = np.asarray(v)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def load(path) -> Network:
    """Read a network written by :func:`save` (a one-line NetworkError names what is wrong)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise NetworkError(f"{path}: no such network file") from None
    except (OSError, ValueError) as e:
        raise NetworkError(f"{path}: not a network file ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    if "header.json" not in arrays:
        raise NetworkError(f"{path}: not a network file (no header.json entry)")
    try:
        h = json.loads(arrays.pop("header.json").tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise NetworkError(f"{path}: header.json is not JSON ({e})") from None
    if not isinstance(h, dict) or h.get("format") != "spintwin-network" or h.get("version") != FORMAT_VERSION:
        raise NetworkError(f"{path}: not a spintwin network of format version {FORMAT_VERSION}")
    try:
        layers = []
        for d in h["layers"]:
            d = dict(d)
            kind = d.pop("type")
            cls = _LAYER_TYPES[kind]
            if d.get("recurrent") and cls is not Dense:
                raise NetworkError(f"layer {d.get('name')!r}: only dense layers can be recurrent, not {kind}")
            for f in ("weight", "bias"):
                if f in d:
                    d[f] = None if d[f] is None else arrays[f"{d['name']}.{f}"]
            if d.get("neuron") is not None:
                d["neuron"] = Neuron(**d["neuron"])
            layers.append(cls(**d))
        return Network(h["name"], Input(*h["input"]), layers)
    except NetworkError as e:
        raise NetworkError(f"{path}: {e}") from None
    except (KeyError, TypeError) as e:
        raise NetworkError(f"{path}: malformed header or missing array ({type(e).__name__}: {e})") from None


# Layer arithmetic (shared by golden and quantize) ----------------------------------------------------
def windows(layer, s: np.ndarray) -> np.ndarray:
    """Input rows of every output position: (B, H, W, C) -> (B, Ho, Wo, m).

    Conv2d: the (channel, row, column)-ordered k x k patch of the zero-padded input at stride s
    (``m = C k k``, matching ``weight.reshape(K, -1)``); Pool2d: the (channel, row, column)
    window, ``m = C size**2`` (callers use the channel's own ``size**2`` entries). Same dtype.
    """
    if isinstance(layer, Conv2d):
        k, st, p = layer.kernel, layer.stride, layer.padding
    else:
        k, st, p = layer.size, layer.step, 0
    if p:
        s = np.pad(s, ((0, 0), (p, p), (p, p), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(s, (k, k), axis=(1, 2))  # (B, H', W', C, k, k)
    if st != 1:
        win = win[:, ::st, ::st]
    n, ho, wo = win.shape[:3]
    return win.reshape(n, ho, wo, -1)


def sum_pool(layer: Pool2d, s: np.ndarray) -> np.ndarray:
    """Sum over each pooling window: (B, H, W, C) -> (B, Ho, Wo, C) (the window sum, not scaled).

    A non-overlapping 2 x 2 window adds its four inputs in the order (0, 0), (1, 0), (0, 1),
    (1, 1), the order the golden networks always used (float sums of spikes are exact anyway).
    """
    k, st = layer.size, layer.step
    if k == 2 and st == 2:
        return s[:, 0::2, 0::2] + s[:, 1::2, 0::2] + s[:, 0::2, 1::2] + s[:, 1::2, 1::2]
    n, h, w, c = s.shape
    ho, wo = (h - k) // st + 1, (w - k) // st + 1
    out = 0
    for dy in range(k):
        for dx in range(k):
            out = out + s[:, dy:dy + st * (ho - 1) + 1:st, dx:dx + st * (wo - 1) + 1:st]
    return out


def recurrent_rows(layer, s: np.ndarray, prev: np.ndarray | None) -> np.ndarray:
    """The input rows a dense layer's weights see: the flat input ``s`` (B, ...) -> (B, in),
    followed, for a recurrent layer, by its own spikes of the previous step ``prev`` (B, out)
    (zeros at the first step); a non-recurrent layer gets ``s`` unchanged. The one place that
    extends a crossbar's input vector by its latched outputs (golden.snn and quantize.snn)."""
    if not getattr(layer, "recurrent", False):
        return s
    flat = s.reshape(len(s), -1)
    prev = np.zeros((len(s), layer.out_features), flat.dtype) if prev is None else prev.reshape(len(s), -1)
    return np.concatenate([flat, prev.astype(flat.dtype)], axis=1)


def layer_fanout(layer, in_shape: tuple, out_shape: tuple, lanes: int = 1) -> np.ndarray:
    """Synapses (for pooling: windows) each input position drives, int64 shaped like the input
    (H, W, C) or (n,): conv ``K x`` the output positions whose window covers it; pooling the
    windows containing it; dense ``out``. ``lanes`` > 1 counts each window row's output
    columns in groups of ``lanes`` (``ceil(columns / lanes)``: the RTL core's scatter cycles)."""
    if isinstance(layer, Dense):
        return np.full(in_shape, out_shape[0], np.int64)
    if isinstance(layer, Flatten):
        return np.ones(in_shape, np.int64)
    if isinstance(layer, Conv2d):
        k, st, p, mult = layer.kernel, layer.stride, layer.padding, out_shape[2]
    else:
        k, st, p, mult = layer.size, layer.step, 0, 1
    cover = []
    for n_in, n_out in ((in_shape[0], out_shape[0]), (in_shape[1], out_shape[1])):
        i = np.arange(n_in) + p                       # position in the padded input
        o = np.arange(n_out) * st                     # window starts
        cover.append(((o[None, :] <= i[:, None]) & (i[:, None] < o[None, :] + k)).sum(axis=1))
    f = cover[0][:, None] * (-(-cover[1] // lanes))[None, :] * mult
    return np.broadcast_to(f[..., None], in_shape).astype(np.int64)


# Built-in networks ----------------------------------------------------------------------------------
_NEURONS = {
    "cnn-if": Neuron("if", 1.0, "position", 0.5, None, "dw"),
    "cmos-if": Neuron("if", 1.0, "subtract", 0.0, None, "cmos"),
    "cnn-stochastic": Neuron("pbit", 1.0, "subtract", 0.0, None, "mtj"),
}


def from_weights(name: str, weights: dict) -> Network:
    """A built-in network's structure with ``weights`` (``conv1`` (6, 1, 5, 5), ``conv2``
    (12, 6, 5, 5), ``fc`` (10, 192); golden.cnn.PARAM_SHAPES): the one definition of the
    LeNet-like CNN the three built-ins share."""
    if name not in _NEURONS:
        raise NetworkError(f"network must be one of {', '.join(BUILTINS)}, not {name!r}")
    nrn = _NEURONS[name]
    pool_nrn = None if nrn.model == "pbit" else nrn   # network 2 folds its pooling
    missing = [k for k in ("conv1", "conv2", "fc") if k not in weights]
    if missing:
        raise NetworkError(f"network {name!r}: weights lack {', '.join(missing)}")
    return Network(name, Input(28, 28, 1), (
        Conv2d("conv1", weights["conv1"], neuron=nrn),
        Pool2d("pool1", 2, mode="avg", neuron=pool_nrn),
        Conv2d("conv2", weights["conv2"], neuron=nrn),
        Pool2d("pool2", 2, mode="avg", neuron=pool_nrn),
        Flatten("flatten"),
        Dense("fc", weights["fc"], neuron=nrn),
    ))


def builtin(name: str, *, data=None, norm_images: int = NORMALISE_IMAGES) -> Network:
    """A built-in network with its shipped trained weights (``golden/weights/``).

    ``cnn-if`` / ``cmos-if``: the ReLU CNN normalised for threshold-1 IF neurons at the
    :data:`PERCENTILE` of its kind over the first ``norm_images`` training images
    (:func:`golden.snn.normalised_cnn`); ``cnn-stochastic``: the sigmoid CNN as trained
    (:func:`golden.cnn.train_cnn`). ``data`` as those functions take (default MNIST).
    """
    from . import cnn, snn

    if name not in BUILTINS:
        raise NetworkError(f"network must be one of {', '.join(BUILTINS)}, not {name!r}")
    kind = KIND_OF[name]
    if kind == "twin-stochastic":
        w = cnn.train_cnn(cnn.SIGMOID_CONFIG, data=data)[0]
    else:
        w = snn.normalised_cnn(PERCENTILE[kind], norm_images=norm_images, data=data)[0]
    return from_weights(name, w)
