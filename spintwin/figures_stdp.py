"""Figures of network 3, the unsupervised STDP network (seed section V.2, Fig. 10(c)).

:func:`plot_receptive_fields` draws the learned conductances of each neuron's crossbar column
as an image tile (28 x 28 for MNIST), the seed's Fig. 10(c) ("learnt digit patterns in the
MTJ synaptic weights ... for 400 neurons at the end of the training phase").
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from spinbase.fileio import atomic_savefig

__all__ = ["column_conductances", "plot_receptive_fields"]


def column_conductances(net) -> np.ndarray:
    """Read conductance of every crossbar column of a :class:`golden.stdp_network.StdpNetwork`, S.

    Each device at level k of ``levels`` conducts ``G_AP + (G_P - G_AP) k / (levels - 1)``
    (eq. 11; binary MTJs at their two states), G_P and G_AP of the calibrated DW-MTJ
    junction (:func:`golden.crossbar.dw_conductance_range`); LT-ST arrays are combined with
    their read significance, ``sum_a sig_a G_a / sum_a sig_a``. Shape (n_inputs, neurons).
    """
    from golden.crossbar import dw_conductance_range
    from golden.devices import dw_synapse

    c = net.config
    g_ap, g_p = dw_conductance_range(dw_synapse())
    sig = np.asarray(c.significance, dtype=np.float64)
    frac = np.tensordot(sig, net.states.astype(np.float64), axes=1) / sig.sum() / (c.levels - 1)
    return g_ap + (g_p - g_ap) * frac


def plot_receptive_fields(conductance, path, *, shape=(28, 28), title: str | None = None,
                          max_tiles: int | None = None) -> Path:
    """Write the columns of ``conductance`` (n_inputs, N), S, as a grid of image tiles (PNG).

    Tiles are laid out in a near-square grid, neuron 0 top left, one shared grey scale in uS
    (white = G_P, black = G_AP for binary synapses). ``max_tiles`` keeps the first neurons only.
    Returns the path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = np.asarray(conductance, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] != shape[0] * shape[1]:
        raise ValueError(f"conductance must have shape ({shape[0] * shape[1]}, N), not {g.shape}")
    n = g.shape[1] if max_tiles is None else min(int(max_tiles), g.shape[1])
    cols = int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    h, w = shape
    canvas = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
    for j in range(n):
        r, c = divmod(j, cols)
        canvas[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = g[:, j].reshape(shape) * 1e6
    fig, ax = plt.subplots(figsize=(7, 7 * rows / cols + 0.4))
    cmap = matplotlib.colormaps["gray"].with_extremes(bad="#3060a0")
    im = ax.imshow(canvas, cmap=cmap, interpolation="nearest")
    ax.set_axis_off()
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label="column conductance (uS)")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    out = atomic_savefig(fig, Path(path), dpi=120)
    plt.close(fig)
    return out
