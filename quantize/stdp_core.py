"""Host-side view of the RTL STDP learning core (``hdl.stdp_core``): memory layout, memory
images, readback decoding and a cycle estimate.

The core (network 3 of the seed, section V.2; REFERENCES.md section 5) is built from a
:class:`quantize.stdp.QuantStdpConfig` and reproduces :class:`quantize.stdp.QuantStdpNetwork`
bit for bit. Its memories are addressed by bit concatenation (no multipliers in the address
path), so the host must use the same packing, given here:

* neurons are processed ``neuron_lanes`` (NL) at a time in ``G = ceil(N / NL)`` groups; neuron
  ``j`` is group ``g = j // NL``, lane ``l = j % NL``, neuron address ``(g << LB) | l`` with
  ``LB = bitlen(NL - 1)``;
* the device-state memory holds one word of NL states (``KB`` bits each, lane 0 in the LSBs)
  per input row ``i`` and group ``g`` at address ``(i << GB) | g``, ``GB = bitlen(G - 1)``;
* pixel codes sit ``L = input_lanes`` per row, pixel ``i`` at ``((i // L) << bitlen(L - 1)) |
  (i % L)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from quantize.fixed import unsigned_width
from quantize.stdp import QuantStdpConfig

__all__ = ["CoreLayout", "default_neuron_lanes", "model_run", "first_difference", "first_state_difference",
           "synthetic_images", "WR_PIX", "WR_WEIGHT", "WR_THETA", "WR_COLSUM", "WR_SCALE",
           "RD_WEIGHT", "RD_THETA", "RD_COUNT", "RD_WINNER", "RD_COLSUM", "RD_SCALE"]

# host write selectors (``wr_sel``) and read selectors (``rd_sel``) of the core's debug port
WR_PIX, WR_WEIGHT, WR_THETA, WR_COLSUM, WR_SCALE = range(5)
RD_WEIGHT, RD_THETA, RD_COUNT, RD_WINNER, RD_COLSUM, RD_SCALE = range(6)


@dataclass(frozen=True)
class CoreLayout:
    """Sizes and widths of the core for a configuration.

    Parameters
    ----------
    config : QuantStdpConfig
        binary, DW or LT-ST variant; ``input_lanes == stdp_lanes``. LT-ST keeps both arrays'
        bits of a synapse in one lane field (LT in the high bit, :meth:`pack_states`).
    n_inputs : int
        Input pixels (784 for MNIST).
    neuron_lanes : int
        Neurons updated per cycle (1..neurons).
    """

    config: QuantStdpConfig
    n_inputs: int
    neuron_lanes: int

    def __post_init__(self):
        c = self.config
        if not isinstance(c, QuantStdpConfig):
            raise ValueError(f"config must be a QuantStdpConfig, not {type(c).__name__}")
        if c.golden.neuron != "lif":
            raise ValueError(f"config: the RTL core has LIF neurons (neuron 'lif'), not {c.golden.neuron!r}")
        if c.input_lanes != c.stdp_lanes:
            raise ValueError(f"config.stdp_lanes must equal input_lanes = {c.input_lanes}, not {c.stdp_lanes}")
        if not (isinstance(self.n_inputs, (int, np.integer)) and 1 <= self.n_inputs <= 65536):
            raise ValueError(f"n_inputs must be an integer in 1..65536, not {self.n_inputs!r}")
        nl = self.neuron_lanes
        if not (isinstance(nl, (int, np.integer)) and 1 <= nl <= c.neurons):
            raise ValueError(f"neuron_lanes must be an integer in 1..neurons = {c.neurons}, not {nl!r}")

    # sizes ------------------------------------------------------------------------------
    @property
    def neurons(self) -> int:
        return self.config.neurons

    @property
    def groups(self) -> int:
        """G = ceil(N / NL)."""
        return -(-self.neurons // self.neuron_lanes)

    @property
    def group_bits(self) -> int:
        return (self.groups - 1).bit_length()

    @property
    def lane_bits(self) -> int:
        return (self.neuron_lanes - 1).bit_length()

    @property
    def lanes(self) -> int:
        """LFSR lanes L of the input and STDP generators (equal)."""
        return self.config.input_lanes

    @property
    def rows(self) -> int:
        """Q = ceil(n_inputs / L): generator cycles per step (and per post spike)."""
        return -(-self.n_inputs // self.lanes)

    @property
    def pix_lane_bits(self) -> int:
        return (self.lanes - 1).bit_length()

    @property
    def device_bits(self) -> int:
        """Bits of one device state (1 binary, 4 for 16 DW levels)."""
        return unsigned_width(self.config.golden.levels - 1)

    @property
    def arrays(self) -> int:
        """Device arrays (1, or 2 for LT-ST)."""
        return self.config.golden.arrays

    @property
    def state_bits(self) -> int:
        """KB: bits of one synapse's lane field, arrays x device bits (array 0 highest)."""
        return self.arrays * self.device_bits

    def pack_states(self, states) -> np.ndarray:
        """Device states (arrays, n_inputs, neurons) -> lane fields (n_inputs, neurons),
        ``sum_a k_a << (device_bits (arrays - 1 - a))`` (LT-ST: 2 k_LT + k_ST, which is the
        synapse's code for the significance codes (2, 1))."""
        k = np.asarray(states, np.int64)
        b = self.device_bits
        return sum(k[a] << (b * (self.arrays - 1 - a)) for a in range(self.arrays))

    def unpack_states(self, fields) -> np.ndarray:
        """Inverse of :meth:`pack_states`: int8 (arrays, n_inputs, neurons)."""
        f = np.asarray(fields, np.int64)
        b = self.device_bits
        return np.stack([(f >> (b * (self.arrays - 1 - a))) & ((1 << b) - 1)
                         for a in range(self.arrays)]).astype(np.int8)

    @property
    def steps(self) -> int:
        return self.config.golden.steps

    @property
    def attempts_max(self) -> int:
        return self.config.golden.max_retries + 1

    @property
    def colsum_max(self) -> int:
        return self.n_inputs * int(self.config.sig_codes.sum()) * (self.config.golden.levels - 1)

    @property
    def scale_max(self) -> int:
        c = self.config
        return max(int(c.tables()["recip"].max()), c.fixed_scale) if c.golden.normalise else c.fixed_scale

    # host packing -----------------------------------------------------------------------
    def neuron_addr(self, j) -> np.ndarray:
        """Neuron address ``(g << LB) | l`` of neuron(s) j."""
        j = np.asarray(j, np.int64)
        return ((j // self.neuron_lanes) << self.lane_bits) | (j % self.neuron_lanes)

    def pix_addr(self, i) -> np.ndarray:
        i = np.asarray(i, np.int64)
        return ((i // self.lanes) << self.pix_lane_bits) | (i % self.lanes)

    def weight_words(self, states) -> tuple[np.ndarray, list]:
        """Lane fields (n_inputs, neurons) (:meth:`pack_states`; the states themselves for one
        array) -> (addresses (n_inputs * G,), words as Python ints), the weight memory image."""
        k = np.asarray(states, np.int64).reshape(self.n_inputs, self.neurons)
        nl, kb, g = self.neuron_lanes, self.state_bits, self.groups
        pad = np.zeros((self.n_inputs, g * nl), np.int64)
        pad[:, :self.neurons] = k
        lanes = pad.reshape(self.n_inputs, g, nl)
        words = []
        for i in range(self.n_inputs):
            for gg in range(g):
                words.append(sum(int(v) << (kb * lane) for lane, v in enumerate(lanes[i, gg])))
        addr = (np.arange(self.n_inputs)[:, None] << self.group_bits) | np.arange(g)[None, :]
        return addr.reshape(-1), words

    def states_from_words(self, words) -> np.ndarray:
        """Inverse of :meth:`weight_words`: words in address order (i, g) -> int8 (n_inputs,
        neurons)."""
        nl, kb, g = self.neuron_lanes, self.state_bits, self.groups
        words = list(words)
        if len(words) != self.n_inputs * g:
            raise ValueError(f"words must have n_inputs * groups = {self.n_inputs * g} entries, not {len(words)}")
        out = np.zeros((self.n_inputs, g * nl), np.int8)
        mask = (1 << kb) - 1
        for idx, w in enumerate(words):
            i, gg = divmod(idx, g)
            for lane in range(nl):
                out[i, gg * nl + lane] = (int(w) >> (kb * lane)) & mask
        return out[:, :self.neurons]

    @property
    def tree_levels(self) -> int:
        """Register levels of the pipelined group-winner tree: bitlen(NL - 1)."""
        return (self.neuron_lanes - 1).bit_length()

    def step_cycles(self) -> int:
        """Cycles of one time step without its input spikes and STDP: ``Q + 2 G + levels +
        6``."""
        return self.rows + 2 * self.groups + self.tree_levels + 6

    @property
    def negative_window(self) -> bool:
        """The core has the negative window of eq. 9 (some ``p_minus > 0``)."""
        return any(p > 0 for p in self.config.golden.p_minus)

    def image_cycles(self, input_spikes: int, attempts: int, post_spikes: int, decay: bool = False,
                     neg_rows: int = 0, neg_changes: int = 0) -> int:
        """Exact clock cycles of one presentation (the core's ``cycles`` output).

        ``input_spikes``: input spikes over all steps of all attempts; ``post_spikes``: layer
        spikes with learning on (each runs the STDP engine); ``decay``: the theta decay ran.
        Per attempt ``max(Q, G) + 3`` (clear and threshold pipeline, retry decision); per
        step :meth:`step_cycles` (generator rows; first load; per group one add beyond the
        spikes and the end (which loads the next group); margin stage and winner-tree drain;
        winner and state update); per input spike ``1 + G``
        (serialisation, one add per group); per learning post spike ``arrays n_inputs + 7`` (one row
        per cycle and array, four pipeline stages to drain, three for the scale refresh); per image 1,
        plus G for a decay. Negative window: ``neg_rows`` input spikes swept (learning, after
        the attempt's first post spike) cost ``2 + 2 N arrays`` each (spike-list read and row
        load; two cycles per column and array: reads, then compare and write), ``neg_changes`` devices
        switched 3 each (column-sum write and scale refresh).
        """
        q, g = self.rows, self.groups
        return int(attempts * (max(q, g) + 3 + self.steps * self.step_cycles()) + input_spikes * (1 + g)
                   + post_spikes * (self.arrays * self.n_inputs + 7) + 1 + (g if decay else 0)
                   + neg_rows * (2 + 2 * self.arrays * self.neurons) + 3 * neg_changes)

    def cycles_estimate(self, mean_input_spikes: float, post_spikes: float, attempts: float = 1.0) -> float:
        """Mean cycles of one image (:meth:`image_cycles` without decays) for a mean of
        ``mean_input_spikes`` input spikes per step."""
        q, g = self.rows, self.groups
        per_attempt = max(q, g) + 3 + self.steps * (self.step_cycles() + mean_input_spikes * (1 + g))
        return attempts * per_attempt + post_spikes * (self.arrays * self.n_inputs + 7) + 1


def default_neuron_lanes(neurons: int) -> int:
    """The lane count the long runs use: the divisor of N nearest sqrt(N) from above (225 ->
    15), so groups are full and per-step cycles ~ G S stay near the serial input cost."""
    r = math.isqrt(neurons)
    for nl in range(max(1, r), neurons + 1):
        if neurons % nl == 0:
            return nl
    return neurons


def model_run(net, images, *, learn: bool = True) -> list[dict]:
    """Present ``images`` one at a time to a :class:`quantize.stdp.QuantStdpNetwork` (in
    place) and return, per image, what the core exposes: ``log`` int64 (attempts * steps,)
    the winner + 1 of every step of every attempt used (0: none), ``attempts``, ``counts``
    (N,) of the last attempt, ``theta`` (N,) after the image and ``spikes`` of the last
    attempt, ``input_spikes`` over all attempts, and for the negative window ``neg_rows``
    (input spikes swept: learning, after the attempt's first post spike) and ``neg_changes``
    (devices it switched). The final device states are ``net.states`` (packed for the core
    by :meth:`CoreLayout.pack_states`)."""
    out = []
    neg = learn and any(p > 0 for p in net.config.golden.p_minus)
    for x in np.asarray(images):
        counts = net.present(x[None], learn=learn, record=True)[0]
        tr = net.last_trace
        a = int(tr["attempts"][0])
        win, nin = tr["winner"][0, :a], tr["input_spikes"][0, :a]
        # a step's spikes are swept when some earlier step of the attempt had a post spike
        posted = np.cumsum(win >= 0, axis=1) - (win >= 0) > 0
        out.append({"log": (win + 1).reshape(-1), "attempts": a, "counts": counts.astype(np.int64),
                    "theta": net.theta.copy(), "spikes": int(counts.sum()),
                    "input_spikes": int(nin.sum()),
                    "neg_rows": int((nin * posted).sum()) if neg else 0,
                    "neg_changes": int(tr["neg_updates"][0, :a].sum())})
    return out


def first_difference(model: list, core: list, steps: int) -> str | None:
    """The first difference between per-image results of :func:`model_run` and of the core
    (same keys), in presentation order: attempts, then each step's winner, counts, theta,
    spikes of the image. Returns a one-line message naming image, attempt, step and field
    with both values, or None."""
    for m, (w, g) in enumerate(zip(model, core)):
        if int(w["attempts"]) != int(g["attempts"]):
            return f"image {m}: attempts model {w['attempts']}, RTL {g['attempts']}"
        bad = np.flatnonzero(np.asarray(w["log"]) != np.asarray(g["log"])[:len(w["log"])])
        if bad.size:
            r, t = divmod(int(bad[0]), steps)
            return (f"image {m}, attempt {r}, step {t}: winner model {int(w['log'][bad[0]]) - 1}, "
                    f"RTL {int(g['log'][bad[0]]) - 1}")
        for f in ("counts", "theta"):
            bad = np.flatnonzero(np.asarray(w[f]) != np.asarray(g[f]))
            if bad.size:
                j = int(bad[0])
                return f"image {m}: {f}[{j}] model {int(w[f][j])}, RTL {int(g[f][j])}"
        if int(w["spikes"]) != int(g["spikes"]):
            return f"image {m}: spikes model {w['spikes']}, RTL {g['spikes']}"
    return None


def first_state_difference(model_states, core_states) -> str | None:
    """``"weight (input i, neuron j): model a, RTL b"`` for the first differing device state
    (row-major), or None."""
    bad = np.argwhere(np.asarray(model_states) != np.asarray(core_states))
    if bad.size == 0:
        return None
    i, j = (int(x) for x in bad[0])
    return f"weight (input {i}, neuron {j}): model {int(model_states[i, j])}, RTL {int(core_states[i, j])}"


def synthetic_images(n: int, n_inputs: int, seed: int = 0, dim=()) -> np.ndarray:
    """Seeded test images (n, n_inputs) in [0, 1]: bright pixels (value 1.0, the top pixel
    code) at 30 % of the positions on a dim floor (< 0.2); images listed in ``dim`` are scaled
    by 0.05 so that the layer needs retries."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, n_inputs)) * 0.2
    x[rng.random((n, n_inputs)) < 0.3] = 1.0
    x[list(dim)] *= 0.05
    return x
