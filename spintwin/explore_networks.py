"""What ``spintwin explore`` shares with the network benchmark, below bench/ (nothing imports
bench/): the per-kind network defaults and the plain-JSON conversion of metrics.

``bench/networks.py`` keeps its own copies until its owner moves them to a lower layer; the
values here must stay equal to its ``BASE`` (a test compares them while bench/ has one).
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["NETWORK_DEFAULTS", "jsonable"]

#: QuantConfig fields per network kind before a space's own: the twin mirrors golden.snn.run_dw
#: (half-rate input, max normalisation), network 2 runs 50 steps as the seed.
NETWORK_DEFAULTS = {"twin-if": {"input_rate": 0.5}, "cmos-if": {}, "twin-stochastic": {"steps": 50}}


def jsonable(x):
    """Plain JSON types: dataclasses as dicts, arrays as lists, numpy scalars as numbers,
    anything else as its text."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return jsonable(dataclasses.asdict(x))
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.integer, np.floating)):
        return x.item()
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    return str(x)
