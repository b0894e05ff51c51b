"""NIR in and out: a NIR graph (the neuromorphic interchange format, the ``nir`` package) mapped
onto the network description (:mod:`golden.network`) node for node, and back.

The ``nir`` package is imported lazily (only these functions need it; it needs h5py, not torch).

Mapping (NIR node -> description)
---------------------------------
===============  ================================================================================
NIR              description
===============  ================================================================================
Input            :class:`~golden.network.Input`: ``(C, H, W)`` -> ``Input(H, W, C)``; a feature
                 vector ``(F,)`` -> ``Input(1, 1, F)`` and a Flatten (``"flatten"``) in front of
                 the first Linear/Affine. A leading batch dimension of 1 is dropped.
Output           the end of the chain (its shape, when given, is checked)
Conv2d           :class:`~golden.network.Conv2d`: weight ``(K, C, k, k)`` as it is (the same
                 layout), square kernel, equal strides and paddings (``"valid"``: 0, ``"same"``:
                 ``(k - 1) / 2`` for odd k at stride 1), dilation 1, groups 1. An all-zero bias
                 (what exporters write for "no bias") becomes no bias: the same arithmetic.
SumPool2d        :class:`~golden.network.Pool2d` ``mode="sum"`` (square, padding 0)
AvgPool2d        :class:`~golden.network.Pool2d` ``mode="avg"``
Flatten          :class:`~golden.network.Flatten` (the whole map; ``start_dim`` 0, or 1 as torch
                 exporters write it for a batch-first tensor). The description flattens in
                 ``(h, w, c)`` order, NIR in ``(c, h, w)``: the Linear/Affine after it has its
                 columns permuted accordingly (exact: a permutation).
Linear, Affine   :class:`~golden.network.Dense` (Affine's all-zero bias: no bias, as Conv2d)
Scale            folded exactly into the weights and bias of the Conv2d/Linear/Affine before it
                 (one factor per output channel); after a SumPool2d a uniform ``1 / k**2`` makes
                 it an average pooling. Elsewhere refused.
IF               :class:`~golden.network.Neuron` ``"if"`` on the layer before it; NIR's ``R I``
                 per step (the convention of Sinabs/Norse/snnTorch exports) with ``v_reset = 0``:
                 ``threshold = v_threshold / r``, reset to 0 (``"position"``, no floor).
LIF              :class:`~golden.network.Neuron` ``"lif"``: Euler at step ``dt`` (snnTorch's
                 1e-4 s by default), ``v += dt / tau (v_leak - v + r I)``: the decay ``dt / tau``
                 becomes the hardware's shift leak ``2**-leak_shift`` with
                 ``leak_shift = round(log2(tau / dt))`` (reported: the decay per step wanted and
                 got, and its relative error), the input gain ``g = dt r / tau`` divides the
                 threshold (``threshold = v_threshold / g``, exact). ``v_leak = 0`` and
                 ``v_reset = 0`` are required.
Threshold        only as spintwin writes a p-bit neuron (node metadata ``spintwin.model = pbit``);
                 a plain, stateless Threshold has no hardware neuron and is refused.
recurrence       NIR's recurrent form (the graph cycle that snnTorch's RLeaky/RSynaptic exports
                 and the NIR paper's figure 3 draw): a Linear/Affine node whose one edge in
                 comes from a neuron node and whose one edge out goes back into it, beside the
                 neuron's feed-forward edge, is the recurrent rows of a recurrent
                 :class:`~golden.network.Dense` (``recurrent=True``, weight ``[W, W_rec]``; an
                 Affine's bias adds to the layer's). Discrete-time simulators apply the edge one
                 step late, as the description does (``s_{t-1}``). Only around a Linear/Affine
                 layer's neurons; any other cycle is refused. Export writes the same form (the
                 node ``<layer>_rec``).
===============  ================================================================================

Neuron parameters must be one value per node (the hardware has one threshold and one leak
per layer). NIR fires on ``v > v_threshold``, the hardware on ``v >= threshold``: they differ
only when the membrane equals the threshold exactly, one membrane LSB. The integer model
divides a layer's weights by its threshold, so every threshold is ``2**membrane_frac``
membrane LSBs there (:func:`quantize.snn.build_network`); the report says so per layer.

What spintwin's own description holds and NIR does not (reset by subtraction, a domain wall's
reset position, the device, the network's name, p-bit neurons) travels as node and graph
metadata (keys ``spintwin.*``), so export -> import gives back the same description; another
tool reading the file sees plain IF (reset to 0) and Threshold nodes.

Refused with one line (:class:`NirError`, a :class:`~spinbase.errors.SpintwinError`: the CLI
exits 2) naming the node's id and type and what is supported: CubaLIF, CubaLI, LI, I, Delay,
Conv1d, Identity, subgraphs, recurrent edges other than the recurrent form above, branches, several inputs or outputs, non-finite
weights, shapes that do not follow along the edges (both nodes and shapes named), an empty
graph, a missing file, a file that is not NIR.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from spinbase.errors import SpintwinError

from . import network as nw

__all__ = ["NirError", "SUPPORTED", "DEFAULT_DT", "read_nir", "from_nir_graph", "to_nir_graph", "write_nir",
           "report_lines"]

#: NIR node types the importer maps.
SUPPORTED = ("Input", "Output", "Affine", "Linear", "Conv2d", "SumPool2d", "AvgPool2d", "Flatten", "Scale", "IF",
             "LIF", "Threshold")
#: Step of the LIF Euler discretisation when the caller names none (snnTorch's export uses 1e-4 s).
DEFAULT_DT = 1e-4
_SUPPORTED_TEXT = "supported: " + ", ".join(SUPPORTED)
_META = "spintwin."


class NirError(SpintwinError, ValueError):
    """A NIR file or graph that cannot be mapped onto the description (one line)."""


def _nir():
    try:
        import nir
    except ImportError:  # pragma: no cover - nir is a dependency; this names the fix if it is missing
        raise NirError("the nir package is not installed (pip install nir)") from None
    return nir


def _meta(node) -> dict:
    """A node's metadata with bytes decoded and numpy scalars made Python (as h5py returns them)."""
    out = {}
    for k, v in (getattr(node, "metadata", None) or {}).items():
        if isinstance(v, bytes):
            v = v.decode("utf8")
        elif isinstance(v, np.ndarray) and v.shape == ():
            v = v.item()
        elif isinstance(v, np.generic):
            v = v.item()
        out[str(k)] = v
    return out


def _shape(a) -> tuple:
    return tuple(int(v) for v in np.asarray(a).reshape(-1))


def _pair(node_id: str, name: str, v) -> int:
    """A square pair (or a scalar) as one int."""
    a = np.asarray(v).reshape(-1)
    if a.size == 0 or not np.all(a == a[0]) or a.dtype.kind not in "iuf" or a[0] != int(a[0]):
        raise NirError(f"node {node_id!r}: {name} must be one integer or an equal pair, not {np.asarray(v).tolist()}")
    return int(a[0])


def _finite(node_id: str, kind: str, name: str, a) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "fiu":
        raise NirError(f"node {node_id!r} ({kind}): {name} must be numeric, not dtype {a.dtype}")
    if not np.all(np.isfinite(a)):
        raise NirError(f"node {node_id!r} ({kind}): {name} holds NaN or infinite values")
    return a


def _uniform(node_id: str, kind: str, name: str, a, shape: tuple, prev: str) -> float:
    """One value per node: ``a`` sized like the map it acts on (or a scalar)."""
    a = _finite(node_id, kind, name, a)
    if a.size != 1 and int(np.prod(shape)) != a.size:
        raise NirError(f"node {node_id!r} ({kind}): {name} has shape {a.shape}, but {prev!r} outputs {shape}")
    if a.size and not np.all(a == a.reshape(-1)[0]):
        raise NirError(f"node {node_id!r} ({kind}): {name} varies from {a.min()} to {a.max()}; the hardware has one "
                       "value per layer (supported: a uniform value)")
    return float(a.reshape(-1)[0])


# Import ---------------------------------------------------------------------------------------------
def read_nir(path, *, dt: float = DEFAULT_DT, membrane_frac: int = 8, name: str | None = None):
    """Read a NIR file and map it onto a description.

    Parameters
    ----------
    path : str or Path
        A ``.nir`` file (HDF5, as ``nir.write`` writes it).
    dt : float
        The step (s) of the LIF Euler discretisation (see the module docstring).
    membrane_frac : int
        Fractional membrane bits of the integer model (for the report's thresholds in LSBs).
    name : str, optional
        The network's name (default: the graph's ``spintwin.name`` metadata, else the file stem).

    Returns
    -------
    network : golden.network.Network
    report : dict
        ``{layer name: {...}}`` per neuron layer: the NIR node, its model, threshold, gain,
        leak shift and the leak's rounding error (:func:`report_lines` prints it).
    """
    path = Path(path)
    if not path.is_file():
        raise NirError(f"{path}: no such NIR file")
    nir = _nir()
    try:
        import h5py

        with h5py.File(path, "r") as f:
            if "node" not in f:
                raise NirError(f"{path}: not a NIR file (no 'node' group)")
        graph = nir.read(path, type_check=False)
    except NirError:
        raise
    except Exception as e:  # h5py/nir raise OSError, KeyError, AssertionError, ValueError, TypeError ...
        first = (str(e).splitlines() or [""])[0]
        raise NirError(f"{path}: not a NIR file nir can read ({type(e).__name__}: {first})") from None
    return from_nir_graph(graph, dt=dt, membrane_frac=membrane_frac, name=name or path.stem)


def _chain(graph) -> list:
    """The node ids from the Input to the Output, refusing anything but one straight chain."""
    nir = _nir()
    nodes, edges = graph.nodes, [(str(a), str(b)) for a, b in graph.edges]
    if not nodes:
        raise NirError("the NIR graph is empty (no nodes)")
    for nid, node in nodes.items():
        kind = type(node).__name__
        if kind not in SUPPORTED:
            what = "a subgraph" if isinstance(node, nir.NIRGraph) else f"type {kind}"
            raise NirError(f"node {nid!r} is {what}, which spintwin does not map ({_SUPPORTED_TEXT})")
    for a, b in edges:
        for end in (a, b):
            if end not in nodes:
                raise NirError(f"edge ({a!r}, {b!r}) names node {end!r}, which the graph does not have")
    succ, pred = {}, {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        pred.setdefault(b, []).append(a)
    def reaches(a, b):
        todo, seen = [a], set()
        while todo:
            x = todo.pop()
            if x == b:
                return True
            if x not in seen:
                seen.add(x)
                todo.extend(succ.get(x, []))
        return False

    depth, todo = {}, [(k, 0) for k, v in nodes.items() if type(v).__name__ == "Input"]
    while todo:                            # breadth-first distance from the Input(s)
        x, d = todo.pop(0)
        if x not in depth:
            depth[x] = d
            todo.extend((y, d + 1) for y in succ.get(x, []))
    back = [(a, b) for a, b in edges if reaches(b, a)]
    back.sort(key=lambda e: depth.get(e[1], 1 << 30) > depth.get(e[0], -1))   # the edge back upstream first
    for a, b in back[:1]:                  # an edge back to a node upstream of it: recurrence
            raise NirError(f"edge ({a!r}, {b!r}) into node {b!r} ({type(nodes[b]).__name__}) is recurrent (a cycle); "
                           "the core runs feed-forward chains and recurrent dense layers only (a Linear/Affine from a "
                           "neuron node back into it)")
    for nid in nodes:
        kind = type(nodes[nid]).__name__
        if len(succ.get(nid, [])) > 1:
            raise NirError(f"node {nid!r} ({kind}) branches to {sorted(succ[nid])}; the core runs one feed-forward "
                           "chain (supported: one edge out of each node)")
        if len(pred.get(nid, [])) > 1:
            raise NirError(f"node {nid!r} ({kind}) joins {sorted(pred[nid])}; the core runs one feed-forward chain "
                           "(supported: one edge into each node)")
    inputs = [k for k, v in nodes.items() if type(v).__name__ == "Input"]
    outputs = [k for k, v in nodes.items() if type(v).__name__ == "Output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise NirError(f"the graph has {len(inputs)} Input and {len(outputs)} Output nodes (supported: one of each)")
    order, seen, nid = [], set(), inputs[0]
    while True:                            # no cycles and one edge out: this ends
        seen.add(nid)
        order.append(nid)
        nxt = succ.get(nid, [])
        if not nxt:
            break
        nid = nxt[0]
    if order[-1] != outputs[0]:
        raise NirError(f"node {order[-1]!r} ({type(nodes[order[-1]]).__name__}) leads nowhere: the chain from "
                       f"{inputs[0]!r} does not reach the Output {outputs[0]!r}")
    left = [k for k in nodes if k not in seen]
    if left:
        raise NirError(f"node {left[0]!r} ({type(nodes[left[0]]).__name__}) is not on the chain from the Input to "
                       "the Output (supported: one feed-forward chain)")
    return order


def from_nir_graph(graph, *, dt: float = DEFAULT_DT, membrane_frac: int = 8, name: str | None = None):
    """Map an in-memory ``nir.NIRGraph`` onto a description: ``(network, report)`` as
    :func:`read_nir` returns."""
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise NirError(f"dt must be a finite number of seconds > 0, not {dt!r}")
    graph, loops = _recurrent_loops(graph)
    order = _chain(graph)
    nodes = graph.nodes
    gmeta = _meta(graph)
    name = str(gmeta.get(_META + "name", name or "nir"))
    st = _Walk(nodes, dt, membrane_frac)
    for nid in order:
        st.visit(nid, nodes[nid])
        if nid in loops:
            st.recurrent(nid, *loops[nid])
    st.close()
    try:
        net = nw.Network(name, st.input, st.layers)
    except nw.NetworkError as e:
        raise NirError(f"the mapped network does not hold: {e}") from None
    return net, st.report


def _recurrent_loops(graph):
    """``(graph without them, {neuron id: (loop node id, loop node)})``: NIR's recurrent form
    (module docstring), a Linear/Affine whose only edge in comes from a neuron node and whose
    only edge out returns to it, where that neuron has exactly one other edge in."""
    nodes, edges = graph.nodes, [(str(a), str(b)) for a, b in graph.edges]
    succ, pred = {}, {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        pred.setdefault(b, []).append(a)
    loops = {}
    for rid, node in nodes.items():
        if type(node).__name__ not in ("Linear", "Affine") or len(succ.get(rid, [])) != 1:
            continue
        nid = succ[rid][0]
        if (pred.get(rid) == [nid] and type(nodes.get(nid)).__name__ in ("IF", "LIF", "Threshold")
                and len(pred.get(nid, [])) == 2 and nid not in loops):
            loops[nid] = (rid, node)
    if not loops:
        return graph, loops
    gone = {rid for rid, _ in loops.values()}
    kept = [(a, b) for a, b in edges if a not in gone and b not in gone]
    return _nir().NIRGraph(nodes={k: v for k, v in nodes.items() if k not in gone}, edges=kept,
                           metadata=getattr(graph, "metadata", {}) or {}, type_check=False), loops


class _Walk:
    """The state of the walk along the chain: the map's NIR shape (channels-first) and the
    description's layers so far."""

    def __init__(self, nodes, dt, membrane_frac):
        self.nodes, self.dt, self.frac = nodes, float(dt), int(membrane_frac)
        self.input, self.layers, self.report = None, [], {}
        self.shape, self.prev = None, None          # NIR shape after the previous node, its id
        self.flat_from = None                       # (C, H, W) a Flatten flattened, until a Dense uses it
        self.implicit_flatten = False

    # helpers
    def _names(self):
        return {L.name for L in self.layers}

    def _last(self):
        return self.layers[-1] if self.layers else None

    def _replace_last(self, layer):
        self.layers[-1] = layer

    def visit(self, nid, node):
        kind = type(node).__name__
        if kind != "Input" and self.input is None:
            raise NirError(f"node {nid!r} ({kind}) comes before the Input")
        getattr(self, "_" + kind.lower())(nid, node, kind)
        self.prev = nid

    def close(self):
        if self.input is None or not self.layers:
            raise NirError("the NIR graph has no layers between its Input and Output")

    # nodes
    def _input(self, nid, node, kind):
        shape = _shape(node.input_type["input"]) if node.input_type.get("input") is not None else ()
        if len(shape) in (2, 4) and shape[0] == 1:
            shape = shape[1:]                              # a batch dimension of 1
        if len(shape) == 3:
            c, h, w = shape
            self.input = nw.Input(h, w, c)
        elif len(shape) == 1:
            self.input = nw.Input(1, 1, shape[0])
            self.implicit_flatten = True
        else:
            raise NirError(f"node {nid!r} (Input): shape {shape} is not (C, H, W) or (F,)")
        if min(shape) < 1:
            raise NirError(f"node {nid!r} (Input): shape {shape} has an empty dimension")
        self.shape = shape

    def _output(self, nid, node, kind):
        out = node.output_type.get("output") if node.output_type else None
        if out is not None and _shape(out) and int(np.prod(_shape(out))) != int(np.prod(self.shape)):
            raise NirError(f"node {nid!r} (Output): shape {_shape(out)}, but {self.prev!r} outputs {self.shape}")

    def _need_map(self, nid, kind):
        if len(self.shape) != 3:
            raise NirError(f"node {nid!r} ({kind}) needs a (C, H, W) map, but {self.prev!r} outputs {self.shape}")

    def _bias(self, nid, kind, node, n):
        b = getattr(node, "bias", None)
        if b is None:
            return None
        b = _finite(nid, kind, "bias", b)
        if b.size == 1 and n != 1:
            b = np.full(n, b.reshape(-1)[0], b.dtype)
        if b.shape != (n,):
            raise NirError(f"node {nid!r} ({kind}): bias has shape {b.shape}, expected ({n},)")
        return None if not np.any(b) else b

    def recurrent(self, nid, rid, node):
        """Neuron node ``nid`` feeds itself back through ``rid``: the layer it closes becomes a
        recurrent Dense with ``rid``'s weight as its recurrent rows (module docstring)."""
        from dataclasses import replace

        kind, last = type(node).__name__, self._last()
        if not isinstance(last, nw.Dense):
            raise NirError(f"node {rid!r} ({kind}) feeds {nid!r} back into itself, but {nid!r} closes a "
                           f"{type(last).__name__}; supported: recurrence around a Linear/Affine layer's neurons")
        n = last.out_features
        w = _finite(rid, kind, "weight", node.weight)
        if w.shape != (n, n):
            raise NirError(f"node {rid!r} ({kind}): recurrent weight {w.shape}, expected ({n}, {n}) (the "
                           f"{n} neurons of {nid!r})")
        bias, extra = last.bias, self._bias(rid, kind, node, n)
        if extra is not None:
            bias = extra if bias is None else bias + extra
        self._replace_last(replace(last, weight=np.concatenate([last.weight, w.astype(last.weight.dtype)], axis=1),
                                   bias=bias, recurrent=True))
        self.report.setdefault(last.name, {})["recurrent_node"] = rid

    def _conv2d(self, nid, node, kind):
        self._need_map(nid, kind)
        w = _finite(nid, kind, "weight", node.weight)
        if w.ndim != 4 or w.shape[2] != w.shape[3]:
            raise NirError(f"node {nid!r} (Conv2d): weight {w.shape} is not (K, C, k, k) with a square kernel")
        if int(node.groups) != 1:
            raise NirError(f"node {nid!r} (Conv2d): groups {int(node.groups)} (supported: groups = 1)")
        if _pair(nid, "dilation", node.dilation) != 1:
            raise NirError(f"node {nid!r} (Conv2d): dilation {np.asarray(node.dilation).tolist()} (supported: 1)")
        c, h, wd = self.shape
        if w.shape[1] != c:
            raise NirError(f"node {nid!r} (Conv2d): weight {w.shape} expects {w.shape[1]} input channels, but "
                           f"{self.prev!r} outputs {self.shape}")
        stride = _pair(nid, "stride", node.stride)
        pad = node.padding
        if isinstance(pad, (bytes, str)):
            pad = pad.decode() if isinstance(pad, bytes) else pad
            if pad == "valid":
                pad = 0
            elif pad == "same" and w.shape[2] % 2 == 1 and stride == 1:
                pad = (w.shape[2] - 1) // 2
            else:
                raise NirError(f"node {nid!r} (Conv2d): padding {pad!r} with kernel {w.shape[2]} and stride {stride} "
                               "(supported: integers, 'valid', 'same' for odd kernels at stride 1)")
        else:
            pad = _pair(nid, "padding", pad)
        ins = getattr(node, "input_shape", None)
        if ins is not None and _shape(ins) and _shape(ins) != (h, wd):
            raise NirError(f"node {nid!r} (Conv2d): input_shape {_shape(ins)}, but {self.prev!r} outputs {self.shape}")
        layer = nw.Conv2d(nid, w, stride=stride, padding=pad, bias=self._bias(nid, kind, node, w.shape[0]))
        ho, wo, k = self._append(nid, "Conv2d", layer, (h, wd, c))
        self.shape = (k, ho, wo)

    def _pool(self, nid, node, kind, mode):
        self._need_map(nid, kind)
        k = _pair(nid, "kernel_size", node.kernel_size)
        s = _pair(nid, "stride", node.stride if node.stride is not None else node.kernel_size)
        if _pair(nid, "padding", node.padding if node.padding is not None else 0) != 0:
            raise NirError(f"node {nid!r} ({kind}): padding {np.asarray(node.padding).tolist()} (supported: 0)")
        layer = nw.Pool2d(nid, k, None if s == k else s, mode)
        c, h, w = self.shape
        ho, wo, _ = self._append(nid, kind, layer, (h, w, c))
        self.shape = (c, ho, wo)

    def _append(self, nid, kind, layer, hwc):
        """Append a map layer; its output (H, W, C), or one NirError line naming the node."""
        try:
            out = layer.out_shape(hwc)
        except nw.NetworkError as e:
            raise NirError(f"node {nid!r} ({kind}) after {self.prev!r}: {e}") from None
        self.layers.append(layer)
        return out

    def _sumpool2d(self, nid, node, kind):
        self._pool(nid, node, kind, "sum")

    def _avgpool2d(self, nid, node, kind):
        self._pool(nid, node, kind, "avg")

    def _flatten(self, nid, node, kind):
        ins = node.input_type.get("input") if node.input_type else None
        if ins is not None and int(np.prod(_shape(ins))) != int(np.prod(self.shape)):
            raise NirError(f"node {nid!r} (Flatten): input_type {_shape(ins)}, but {self.prev!r} outputs {self.shape}")
        start, end = int(node.start_dim), int(node.end_dim)
        full = len(_shape(ins)) if ins is not None else len(self.shape)
        if start not in (0, 1) or end not in (-1, full - 1):
            raise NirError(f"node {nid!r} (Flatten): start_dim {start}, end_dim {end} (supported: the whole map, "
                           "start_dim 0, or 1 for a batch-first exporter, end_dim -1)")
        if nid in self._names() or nid == "input":
            raise NirError(f"node {nid!r} (Flatten): the name is taken")
        if len(self.shape) == 3:
            self.flat_from = self.shape
        self.layers.append(nw.Flatten(nid))
        self.shape = (int(np.prod(self.shape)),)

    def _dense(self, nid, node, kind):
        w = _finite(nid, kind, "weight", node.weight)
        if w.ndim != 2:
            raise NirError(f"node {nid!r} ({kind}): weight {w.shape} is not (out, in)")
        if self.implicit_flatten and not any(isinstance(L, nw.Flatten) for L in self.layers):
            fname = "flatten" if "flatten" not in {*self.nodes} else "flatten_input"
            self.layers.append(nw.Flatten(fname))
        if len(self.shape) != 1:
            raise NirError(f"node {nid!r} ({kind}) needs a flat input (add a Flatten), but {self.prev!r} outputs "
                           f"{self.shape}")
        if w.shape[1] != self.shape[0]:
            raise NirError(f"node {nid!r} ({kind}): weight {w.shape} expects {w.shape[1]} inputs, but {self.prev!r} "
                           f"outputs {self.shape}")
        if self.flat_from is not None:
            c, h, wd = self.flat_from              # NIR flattens (c, h, w); the description (h, w, c)
            w = w.reshape(w.shape[0], c, h, wd).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
            self.flat_from = None
        self.layers.append(nw.Dense(nid, np.ascontiguousarray(w), bias=self._bias(nid, kind, node, w.shape[0])))
        self.shape = (w.shape[0],)

    def _linear(self, nid, node, kind):
        self._dense(nid, node, kind)

    def _affine(self, nid, node, kind):
        self._dense(nid, node, kind)

    def _scale(self, nid, node, kind):
        from dataclasses import replace

        s = _finite(nid, kind, "scale", node.scale)
        last = self._last()
        if s.size != 1 and s.size != int(np.prod(self.shape)):
            raise NirError(f"node {nid!r} (Scale): scale has shape {s.shape}, but {self.prev!r} outputs {self.shape}")
        if isinstance(last, nw.Pool2d) and last.neuron is None and last.mode == "sum":
            v = _uniform(nid, kind, "scale", s, self.shape, self.prev)
            if v != 1.0 / last.size ** 2:
                raise NirError(f"node {nid!r} (Scale): {v} after the sum pooling {last.name!r} (supported there: "
                               f"1/{last.size ** 2}, an average pooling)")
            self._replace_last(replace(last, mode="avg"))
            return
        if not isinstance(last, (nw.Conv2d, nw.Dense)) or last.neuron is not None or self.prev != last.name:
            raise NirError(f"node {nid!r} (Scale) follows {self.prev!r}; it folds only into a Conv2d, Linear or Affine "
                           "directly before it (or makes a SumPool2d an average)")
        n = last.weight.shape[0]
        if s.size == 1:
            per = np.full(n, s.reshape(-1)[0], np.float64)
        elif len(self.shape) == 3:
            per_map = s.reshape(self.shape)
            if not np.all(per_map == per_map[:, :1, :1]):
                raise NirError(f"node {nid!r} (Scale): the scale varies within a channel (supported: one factor per "
                               "channel after a Conv2d)")
            per = per_map[:, 0, 0].astype(np.float64)
        else:
            per = s.reshape(-1).astype(np.float64)
        shape = (n,) + (1,) * (last.weight.ndim - 1)
        w = (last.weight * per.reshape(shape)).astype(last.weight.dtype)
        b = None if last.bias is None else (last.bias * per).astype(last.bias.dtype)
        self._replace_last(replace(last, weight=w, bias=b))

    def _neuron_target(self, nid, kind):
        last = self._last()
        if last is None or isinstance(last, nw.Flatten) or last.neuron is not None:
            raise NirError(f"node {nid!r} ({kind}) follows {self.prev!r}; neurons follow a Conv2d, Linear, Affine, "
                           "SumPool2d or AvgPool2d (one neuron node per layer)")
        return last

    def _attach(self, nid, kind, neuron, row):
        from dataclasses import replace

        last = self._neuron_target(nid, kind)
        self._replace_last(replace(last, neuron=neuron))
        row = {"node": nid, "type": kind, "model": neuron.model, "reset": neuron.reset, "device": neuron.device,
               **row, "threshold": neuron.threshold, "threshold_lsb": 1 << self.frac,
               "note": "the integer model divides the layer's weights by the threshold: it fires at 2**membrane_frac"
                       " LSBs (>=; NIR: >, one LSB apart)"}
        self.report[last.name] = row

    def _reset(self, nid, kind, node, meta):
        v_reset = _uniform(nid, kind, "v_reset", node.v_reset, self.shape, self.prev) if node.v_reset is not None \
            else 0.0
        if v_reset != 0.0:
            raise NirError(f"node {nid!r} ({kind}): v_reset {v_reset} (supported: 0, the reset position)")
        reset = meta.get(_META + "reset", "position")
        return dict(reset=reset, reset_position=float(meta.get(_META + "reset_position", 0.0)),
                    device=meta.get(_META + "device", "ideal"))

    def _make(self, nid, kind, **kw):
        try:
            return nw.Neuron(**kw)
        except nw.NetworkError as e:
            raise NirError(f"node {nid!r} ({kind}): {e}") from None

    def _if(self, nid, node, kind):
        meta = _meta(node)
        r = _uniform(nid, kind, "r", node.r, self.shape, self.prev)
        vth = _uniform(nid, kind, "v_threshold", node.v_threshold, self.shape, self.prev)
        if not (r > 0 and vth > 0):
            raise NirError(f"node {nid!r} (IF): r {r} and v_threshold {vth} must be > 0")
        nrn = self._make(nid, kind, model="if", threshold=vth / r, leak_shift=None, **self._reset(nid, kind, node, meta))
        self._attach(nid, kind, nrn, {"v_threshold": vth, "gain": r})

    def _lif(self, nid, node, kind):
        meta = _meta(node)
        tau = _uniform(nid, kind, "tau", node.tau, self.shape, self.prev)
        r = _uniform(nid, kind, "r", node.r, self.shape, self.prev)
        vth = _uniform(nid, kind, "v_threshold", node.v_threshold, self.shape, self.prev)
        v_leak = _uniform(nid, kind, "v_leak", node.v_leak, self.shape, self.prev)
        if v_leak != 0.0:
            raise NirError(f"node {nid!r} (LIF): v_leak {v_leak} (supported: 0)")
        if not (tau > 0 and r > 0 and vth > 0):
            raise NirError(f"node {nid!r} (LIF): tau {tau}, r {r} and v_threshold {vth} must be > 0")
        dt = float(meta.get(_META + "dt", self.dt))
        shift = int(round(math.log2(tau / dt)))
        if not 1 <= shift <= 31:
            raise NirError(f"node {nid!r} (LIF): tau / dt = {tau / dt:.4g} gives a leak shift of {shift} (supported: "
                           "1..31, tau / dt from 1.5 to 3e9; give the step with dt)")
        gain = dt * r / tau
        want, got = dt / tau, 2.0 ** -shift
        nrn = self._make(nid, kind, model="lif", threshold=vth / gain, leak_shift=shift,
                         **self._reset(nid, kind, node, meta))
        self._attach(nid, kind, nrn, {"v_threshold": vth, "gain": gain, "tau": tau, "dt": dt, "leak_shift": shift,
                                      "decay_wanted": want, "decay_got": got, "leak_error": got / want - 1.0})

    def _threshold(self, nid, node, kind):
        meta = _meta(node)
        if meta.get(_META + "model") != "pbit":
            raise NirError(f"node {nid!r} (Threshold): a stateless threshold has no hardware neuron (supported: IF, "
                           "LIF; Threshold only as spintwin writes a p-bit neuron)")
        _uniform(nid, kind, "threshold", node.threshold, self.shape, self.prev)
        nrn = self._make(nid, kind, model="pbit", threshold=float(meta.get(_META + "threshold", 1.0)),
                         reset=meta.get(_META + "reset", "subtract"), reset_position=0.0, leak_shift=None,
                         device=meta.get(_META + "device", "mtj"))
        self._attach(nid, kind, nrn, {"gain": 1.0})


def report_lines(report: dict) -> list[str]:
    """The per-layer report as text lines (what the CLI prints)."""
    out = []
    for layer, r in report.items():
        line = (f"{layer}: {r['type']} node {r['node']!r} -> {r['model']} (reset {r['reset']}, device {r['device']}), "
                f"threshold {r['threshold']:.6g} (= {r.get('v_threshold', 'n/a')} / gain {r['gain']:.6g}; "
                f"{r['threshold_lsb']} membrane LSBs)")
        if r["model"] == "lif":
            line += (f", leak shift {r['leak_shift']} for tau/dt {r['tau'] / r['dt']:.6g}: decay per step "
                     f"{r['decay_got']:.6g} for {r['decay_wanted']:.6g} ({100 * r['leak_error']:+.2f} %)")
        out.append(line)
    return out


# Export ---------------------------------------------------------------------------------------------
def to_nir_graph(network: nw.Network, *, dt: float = DEFAULT_DT):
    """The description as a ``nir.NIRGraph`` (channels-first; see the module docstring).

    A LIF neuron is written with ``tau = dt 2**leak_shift`` and ``r = tau / dt`` (gain 1), so
    reading it back with the same ``dt`` gives the same shift exactly."""
    nir = _nir()
    nodes, edges = {}, []
    h, w, c = network.input.shape
    nodes["input"] = nir.Input(input_type={"input": np.array([c, h, w])})
    prev = "input"

    def add(nid, node):
        nonlocal prev
        if nid in nodes:
            raise NirError(f"layer {nid!r}: NIR node id taken")
        nodes[nid] = node
        edges.append((prev, nid))
        prev = nid

    for layer, (ins, outs) in zip(network.layers, network.shapes):
        nir_in = (ins[2], ins[0], ins[1]) if len(ins) == 3 else ins
        nir_out = (outs[2], outs[0], outs[1]) if len(outs) == 3 else outs
        if isinstance(layer, nw.Conv2d):
            b = layer.bias if layer.bias is not None else np.zeros(layer.out_channels, layer.weight.dtype)
            add(layer.name, nir.Conv2d(input_shape=(ins[0], ins[1]), weight=np.asarray(layer.weight),
                                       stride=layer.stride, padding=layer.padding, dilation=1, groups=1, bias=b))
        elif isinstance(layer, nw.Pool2d):
            cls = nir.AvgPool2d if layer.mode == "avg" else nir.SumPool2d
            add(layer.name, cls(kernel_size=np.array([layer.size] * 2), stride=np.array([layer.step] * 2),
                                padding=np.array([0, 0])))
        elif isinstance(layer, nw.Flatten):
            add(layer.name, nir.Flatten(input_type={"input": np.array(nir_in)}, start_dim=0, end_dim=-1))
        else:
            wt = np.asarray(layer.weight)
            if layer.recurrent:                          # the recurrent rows: a node of their own
                wt, w_rec = wt[:, :-layer.out_features], wt[:, -layer.out_features:]
            src = _flattened_map(network, layer.name)
            if src is not None:                          # description (h, w, c) -> NIR (c, h, w) columns
                hh, ww, cc = src
                wt = wt.reshape(wt.shape[0], hh, ww, cc).transpose(0, 3, 1, 2).reshape(wt.shape[0], -1)
            wt = np.ascontiguousarray(wt)
            add(layer.name, nir.Linear(weight=wt) if layer.bias is None else nir.Affine(weight=wt, bias=layer.bias))
        if layer.neuron is not None:
            add(f"{layer.name}_neuron", _neuron_node(nir, layer.neuron, nir_out, dt))
        if getattr(layer, "recurrent", False):         # NIR's recurrent form: neuron -> rec -> neuron
            rid = f"{layer.name}_rec"
            if rid in nodes:
                raise NirError(f"layer {rid!r}: NIR node id taken")
            nodes[rid] = nir.Linear(weight=np.ascontiguousarray(w_rec))
            edges.extend([(prev, rid), (rid, prev)])
    nodes["output"] = nir.Output(output_type={"output": np.array(network.out_shape)})
    edges.append((prev, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={_META + "name": network.name, _META + "format": 1},
                        type_check=False)


def _flattened_map(network, name):
    """The (H, W, C) map a Flatten turned into the input of Dense ``name`` (None if none)."""
    prev_shape = None
    for layer, (ins, _) in zip(network.layers, network.shapes):
        if layer.name == name:
            return prev_shape
        if isinstance(layer, nw.Flatten) and len(ins) == 3:
            prev_shape = ins
        elif not isinstance(layer, nw.Flatten):
            prev_shape = None
    return None


def _neuron_node(nir, n: nw.Neuron, shape: tuple, dt: float):
    meta = {_META + "reset": n.reset, _META + "reset_position": float(n.reset_position), _META + "device": n.device}
    ones = np.ones(shape)
    if n.model == "pbit":
        # stateless and stochastic: NIR has no such node; a Threshold at 0 is its most likely
        # deterministic reading, the metadata makes it a p-bit again here
        meta.update({_META + "model": "pbit", _META + "threshold": float(n.threshold)})
        return nir.Threshold(threshold=np.zeros(shape), metadata=meta)
    if n.model == "if":
        return nir.IF(r=ones, v_threshold=ones * n.threshold, v_reset=np.zeros(shape), metadata=meta)
    tau = dt * 2.0 ** n.leak_shift
    meta[_META + "dt"] = float(dt)
    return nir.LIF(tau=ones * tau, r=ones * (tau / dt), v_leak=np.zeros(shape), v_threshold=ones * n.threshold,
                   v_reset=np.zeros(shape), metadata=meta)


def write_nir(network: nw.Network, path, *, dt: float = DEFAULT_DT) -> Path:
    """Write the description as a NIR file (HDF5), atomically."""
    from spinbase.fileio import atomic_write_bytes

    nir = _nir()
    buf = io.BytesIO()
    nir.write(buf, to_nir_graph(network, dt=dt))
    return atomic_write_bytes(path, buf.getvalue())
