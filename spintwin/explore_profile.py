"""Numerical profiling of a bit-accurate network (in the spirit of hls4ml's profiling).

:func:`profile_network` runs ``quantize.snn``'s integer model through its one time-step loop
(``quantize.snn.step_loop``, as ``quantize.snn.run`` does) with an observer that records, per
layer, every value of:

``accumulator``
    a crossbar tile's integer sum ``acc = sum_i s_i k_ij`` (one per row tile, window and
    column; seed eq. 11, the column current of a crossbar), against the accumulator width
    ``hdl.crossbar.tile_widths`` gives the tile (sized to the worst case, so never overflows);
``pre-activation``
    the layer input ``y`` (sum over row tiles of the scaled, rounded tile outputs; eq. 12's
    1/(1 + gamma) scale), against the neuron input width of :func:`layer_y_bits` (the widest
    layer's, the bank's input port);
``membrane`` (IF kinds)
    ``v + y`` before the neuron clamps it (the DW wall position or CMOS register), against
    the ``membrane_bits`` register: values beyond ``[-2**(b-1), 2**(b-1) - 1]`` saturate (the
    DW near-edge floor is the device's behaviour, not an overflow, and is not flagged);
``lut address`` (network 2)
    ``(z >> lut_shift) + 2**(A-1)`` before it is clamped into the sigmoid LUT's ``2**A``
    entries (flag ``clamped``: the sigmoid's tails beyond +-lut_range, where P is ~0 or ~1).

Each row of the table holds count, min, max, percentiles (0.1, 1, 50, 99, 99.9; the
"inverted CDF" definition, so every percentile is an observed integer), the representable
[lo, hi] and width, the signed bits the observed range needs, the unused MSBs, the number of
values outside [lo, hi] and a flag. Values are kept as per-step histograms (np.unique), so
memory does not grow with the number of steps.
"""

from __future__ import annotations

import math

import numpy as np

from quantize import snn as qsnn
from quantize.fixed import signed_width

__all__ = ["PERCENTILES", "PROFILE_COLUMNS", "profile_network", "layer_y_bits", "histogram_percentile",
           "plot_profile", "profile_rows_csv"]

PERCENTILES = (0.1, 1.0, 50.0, 99.0, 99.9)
_ABS_PERCENTILES = (1.0, 25.0, 50.0, 75.0, 99.0)
#: The columns of profile.csv, in order (fixed: a cached record's keys come back sorted).
PROFILE_COLUMNS = ("point", "layer", "quantity", "flag", "count", "lo", "hi", "width", "min", "max",
                   *(f"p{q:g}" for q in PERCENTILES), *(f"abs_p{q:g}" for q in _ABS_PERCENTILES), "abs_max",
                   "used_bits", "unused_msbs", "saturated", "saturated_fraction")


class _Hist:
    """Exact histogram of integers: (values, counts) merged from per-step np.unique."""

    def __init__(self):
        self._v, self._c = [], []

    def add(self, x):
        u, c = np.unique(np.asarray(x, dtype=np.int64).ravel(), return_counts=True)
        self._v.append(u)
        self._c.append(c)
        if len(self._v) > 64:  # merge now and then: the lists stay short
            self.values_counts()

    def values_counts(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._v:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        v = np.concatenate(self._v)
        u, inv = np.unique(v, return_inverse=True)
        c = np.bincount(inv, weights=np.concatenate(self._c)).astype(np.int64)
        self._v, self._c = [u], [c]
        return u, c


def histogram_percentile(values: np.ndarray, counts: np.ndarray, q: float) -> int:
    """Percentile ``q`` (0..100) of integers given as sorted unique ``values`` with ``counts``,
    numpy's ``method="inverted_cdf"``: the smallest value whose cumulative count reaches q N / 100."""
    cum = np.cumsum(counts)
    idx = int(np.searchsorted(cum, q / 100.0 * cum[-1], side="left"))
    return int(values[min(idx, len(values) - 1)])


def layer_y_bits(layer) -> int:
    """Signed width of a layer's summed tile outputs y (every reachable value; hdl.crossbar.tile_widths)."""
    from hdl.crossbar import tile_widths

    t = layer.tile
    count_bits = 3 if layer.pool_input else 1          # folded pooling: counts 0..4
    lo = hi = 0
    cmax = (1 << count_bits) - 1
    for r in range(layer.row_tiles):
        k = layer.k[r * t:(r + 1) * t]
        c = layer.c[r]
        tile_widths(k, c, layer.shift, count_bits)      # validates the tile as the RTL builds it
        pos = np.clip(k, 0, None).sum(axis=0) * cmax * c
        neg = np.clip(k, None, 0).sum(axis=0) * cmax * c
        half = (1 << (layer.shift - 1)) if layer.shift > 0 else 0
        hi += int(((pos + half) >> layer.shift).max())
        lo += int(((neg + half) >> layer.shift).min())
    return signed_width(lo, hi)


def _acc_bits(layer) -> int:
    from hdl.crossbar import tile_widths

    t = layer.tile
    count_bits = 3 if layer.pool_input else 1
    return max(tile_widths(layer.k[r * t:(r + 1) * t], layer.c[r], layer.shift, count_bits)[1]
               for r in range(layer.row_tiles))


def _formats(net) -> dict:
    """{(layer, quantity): (lo, hi, width)} of the chosen formats."""
    y_bits = max(layer_y_bits(layer) for layer in net.layers)
    out = {}
    for layer in net.layers:
        aw = _acc_bits(layer)
        out[layer.name, "accumulator"] = (-(1 << (aw - 1)), (1 << (aw - 1)) - 1, aw)
        out[layer.name, "pre-activation"] = (-(1 << (y_bits - 1)), (1 << (y_bits - 1)) - 1, y_bits)
        if net.lut is None:
            b = net.cfg.membrane_bits
            out[layer.name, "membrane"] = (-(1 << (b - 1)), (1 << (b - 1)) - 1, b)
        else:
            a = net.cfg.lut_addr_bits
            out[layer.name, "lut address"] = (0, (1 << a) - 1, a)
    return out


class _Profiler(qsnn.StepObserver):
    """Records every accumulator, pre-activation and membrane (IF) or LUT address (p-bit) value."""

    def __init__(self, net, hists: dict):
        self.net, self.hists = net, hists

    def accumulator(self, t, layer, acc):
        self.hists[layer.name, "accumulator"].add(acc)

    def pre_activation(self, t, layer, y, state):
        net, hists = self.net, self.hists
        hists[layer.name, "pre-activation"].add(y)
        if net.lut is not None:
            a = net.cfg.lut_addr_bits
            hists[layer.name, "lut address"].add((y >> net.lut_shift) + (1 << (a - 1)))
            return
        v = state
        if getattr(layer, "leak_shift", None) is not None:   # LIF: the leak comes first
            v = v - (v >> layer.leak_shift)
        hists[layer.name, "membrane"].add(v + y)              # before the clamp


def profile_network(net, x, *, batch: int = 50, first_image: int = 0) -> dict:
    """Observed value ranges of a ``quantize.snn.QuantNetwork`` on images ``x`` (B, 28, 28)
    (x[j] is image ``first_image + j`` of the run, as in ``quantize.snn.run``).

    Runs ``quantize.snn.step_loop`` (the model's one time-step loop) with an observer.

    Returns
    -------
    dict with ``table`` (list of row dicts, see the module docstring), ``values``
    {(layer, quantity): (sorted unique int64 values, int64 counts)}, and the run's ``counts``
    (B, 10), ``membrane`` (B, 10) and ``pred`` (B,) (equal to ``quantize.snn.run``'s).
    """
    x = np.asarray(x)
    fmts = _formats(net)
    hists = {key: _Hist() for key in fmts}
    profiler = _Profiler(net, hists)
    all_counts, all_membrane = [], []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch]
        counts, state = qsnn.step_loop(net, qsnn.encode(net.cfg, xb, first_image + i), profiler)   # p-bit draws: step_loop's own (~30 ms a batch)
        all_counts.append(counts)
        all_membrane.append(state[net.layers[-1].name].copy())
    counts = np.concatenate(all_counts)
    membrane = np.concatenate(all_membrane)
    values = {key: h.values_counts() for key, h in hists.items()}
    table = [_row(key, values[key], fmts[key]) for key in fmts]
    return {"table": table, "values": values, "counts": counts, "membrane": membrane,
            "pred": qsnn.decide(counts, membrane)}


def _row(key, vc, fmt) -> dict:
    (layer, quantity), (v, c), (lo, hi, width) = key, vc, fmt
    row = {"layer": layer, "quantity": quantity, "count": int(c.sum()), "lo": lo, "hi": hi, "width": width}
    if len(v) == 0:
        return {**row, "flag": "no values"}
    row.update(min=int(v[0]), max=int(v[-1]))
    for q in PERCENTILES:
        row[f"p{q:g}"] = histogram_percentile(v, c, q)
    nz = v != 0
    if nz.any():  # |x| of the non-zero values, for the log2 box plot
        av = np.abs(v[nz])
        order = np.argsort(av, kind="stable")
        av, ac = av[order], c[nz][order]
        for q in _ABS_PERCENTILES:
            row[f"abs_p{q:g}"] = histogram_percentile(av, ac, q)
        row["abs_max"] = int(av[-1])
    sat = int(c[(v < lo) | (v > hi)].sum())
    used = signed_width(min(int(v[0]), 0), max(int(v[-1]), 0)) if lo < 0 else max(1, int(max(v[-1], 0)).bit_length())
    row.update(used_bits=used, unused_msbs=max(0, width - used), saturated=sat,
               saturated_fraction=sat / row["count"])
    if sat:
        # a clamped LUT address is the sigmoid's tail (P near 0 or 1): reported, by design
        row["flag"] = {"membrane": "saturation", "lut address": "clamped"}.get(quantity, "overflow")
    elif row["unused_msbs"] > 0:
        row["flag"] = f"{row['unused_msbs']} unused MSB" + ("s" if row["unused_msbs"] > 1 else "")
    else:
        row["flag"] = "ok"
    return row


def profile_rows_csv(point_id: str, table: list) -> list[dict]:
    """Flat rows for profile.csv, every one with the :data:`PROFILE_COLUMNS` in that order
    (None where a row has no value, e.g. a quantity that saw no values)."""
    return [{"point": point_id, **{k: r.get(k) for k in PROFILE_COLUMNS[1:]}} for r in table]


def plot_profile(table: list, path, title: str = "") -> None:
    """hls4ml-style box plot: log2 |value| per (layer, quantity), with the representable
    magnitude [LSB, MSB] of the format shaded behind each box; saturating rows in red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spinbase.fileio import atomic_savefig

    rows = [r for r in table if "abs_max" in r]
    fig, ax = plt.subplots(figsize=(8, 0.42 * max(len(rows), 3) + 1.2))
    stats = []
    for i, r in enumerate(rows):
        msb = math.log2(max(abs(r["lo"]), abs(r["hi"]), 1))
        ax.barh(i, msb, left=0, height=0.8, color="0.88", zorder=0)
        lg = {k: math.log2(r[k]) for k in ("abs_p1", "abs_p25", "abs_p50", "abs_p75", "abs_p99", "abs_max")}
        stats.append({"med": lg["abs_p50"], "q1": lg["abs_p25"], "q3": lg["abs_p75"], "whislo": lg["abs_p1"],
                      "whishi": lg["abs_p99"], "fliers": [lg["abs_max"]], "label": f"{r['layer']} {r['quantity']}"})
    if stats:
        bp = ax.bxp(stats, positions=range(len(stats)), orientation="horizontal", widths=0.5, patch_artist=True,
                    flierprops={"marker": "x", "markersize": 5})
        for patch, r in zip(bp["boxes"], rows):
            patch.set_facecolor("tab:red" if r.get("saturated") else "tab:blue")
            patch.set_alpha(0.7)
    ax.set_xlabel("log2 |integer value|  (grey: representable magnitude; x: max; whiskers 1-99 %)")
    ax.set_title(title or "numerical profile", fontsize=10)
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=100)
    plt.close(fig)
