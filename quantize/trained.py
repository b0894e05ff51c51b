"""The trained weights and per-kind defaults of the bit-accurate networks (``quantize.snn`` kinds).

One place for what bench, explore, the core flow and the boards all need: which float weights
a ``QuantConfig.kind`` runs on, how they are normalised, what names them in a cache key, and the
``QuantConfig`` fields each kind departs from the dataclass defaults with.

* ``twin-if``: the ReLU CNN at max normalisation (percentile 100; the DW neuron loses the charge
  beyond its threshold, so no activation may exceed it), half-rate input, as
  :func:`spintwin.experiments.run_dw`;
* ``cmos-if``: the ReLU CNN at the 99.9th percentile (Diehl et al. 2015), full-rate input;
* ``twin-stochastic``: the sigmoid CNN trained on the spike-noise model, 50 steps (network 2).

The networks themselves (layers, neurons, weights) are ``golden.network.builtin(name)``, one
name each: kind ``twin-if`` runs ``"cnn-if"``, ``cmos-if`` runs ``"cmos-if"``,
``twin-stochastic`` runs ``"cnn-stochastic"`` (``golden.network.KIND_OF``).

Normalisation uses the first :data:`NORMALISE_IMAGES` training images
(:func:`golden.snn.normalised_cnn`, computed once per process).
"""

from __future__ import annotations

__all__ = ["KINDS", "KIND_DEFAULTS", "PERCENTILE", "NORMALISE_IMAGES", "kind_weights", "weights_tag"]

#: The network kinds of ``quantize.snn.QuantConfig``.
KINDS = ("twin-if", "cmos-if", "twin-stochastic")
#: ``QuantConfig`` fields per kind that differ from the dataclass defaults (bench's sweeps and
#: explore's network points start from these).
KIND_DEFAULTS = {"twin-if": {"input_rate": 0.5}, "cmos-if": {}, "twin-stochastic": {"steps": 50}}
from golden.network import NORMALISE_IMAGES, PERCENTILE  # noqa: E402  (one definition, in golden)


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")


def kind_weights(kind: str, *, data=None, norm_images: int = NORMALISE_IMAGES) -> dict:
    """The float weights ``quantize.snn.build_network`` takes for ``kind``.

    Parameters
    ----------
    kind : {"twin-if", "cmos-if", "twin-stochastic"}
    data : ((x_train, y_train), (x_test, y_test)), optional
        Default: MNIST. Training images for the normalisation (and for training, should the
        weight cache be missing).
    norm_images : int
        Training images the IF kinds are normalised on.

    Returns
    -------
    dict
        ``conv1``, ``conv2``, ``fc`` float32 arrays (:data:`golden.cnn.PARAM_SHAPES`); shared
        with other callers when cached: do not modify.
    """
    from golden import network as nw

    _check(kind)
    return nw.builtin(nw.NETWORK_OF_KIND[kind], data=data, norm_images=norm_images).weights()


def weights_tag(kind: str) -> str:
    """Names the trained weights and normalisation of ``kind`` (part of a result's cache key):
    the CNN config hash, and for the IF kinds ``-p<percentile>``."""
    from golden import cnn

    _check(kind)
    if kind == "twin-stochastic":
        return cnn.config_hash(cnn.SIGMOID_CONFIG)
    return f"{cnn.config_hash(cnn.RELU_CONFIG)}-p{PERCENTILE[kind]:g}"
