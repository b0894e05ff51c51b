"""Bit-exact model of the on-chip self-test harness (``hdl.harness.StreamSelfTest``).

Co-simulation with one Python call per clock cycle is bounded by the simulator interface
(~20k cycles/s on Verilator). The harness moves the testbench onto the chip so the simulator
runs free: a control LFSR draws the input-valid and output-ready handshakes every cycle, a data
LFSR draws the payload of every input beat (it advances only when a beat is accepted, so an
offered beat is held until taken, as a stream requires), a signature register compresses every
output beat taken, and counters record cycles, accepted and emitted beats. The testbench only
sets the cycle budget, waits, and reads four numbers back; this module predicts them.

Handshake (per cycle ``c`` after reset, while ``c < cycles``)::

    ctrl       = control LFSR word (valid_bits + ready_bits bits, valid field in the MSBs)
    in.valid   = (valid field != 0)        -> P = 1 - 2**-valid_bits
    out.ready  = (ready field != 0)        -> P = 1 - 2**-ready_bits

After the budget both are held low and no LFSR advances. The data word of the n-th accepted
beat is the n-th word of the data LFSR bank (one lane per DUT lane, ``data_bits`` bits each).

Signature: a rotate-and-XOR register as wide as the output payload, ``S <- rotl(S, 1) ^ word``
for every output beat taken (invertible per beat, so one wrong beat is never forgotten; two
errors can cancel only if the second equals the first rotated by their distance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantize.lfsr import LfsrBank, LfsrConfig

__all__ = ["HarnessConfig", "handshakes", "data_words", "signature", "accepted_cycles"]


@dataclass(frozen=True)
class HarnessConfig:
    """Configuration shared by the harness model and RTL.

    Parameters
    ----------
    lanes : int
        Data lanes (one data LFSR per DUT lane).
    data_bits : int
        Bits drawn per lane per accepted beat, 1..63.
    valid_bits, ready_bits : int
        Input-valid / output-ready probability ``1 - 2**-bits`` (1..8 each).
    seed : int
        Master seed: the control bank uses ``seed``, the data bank ``seed + 1`` (mod 2**64).
    lfsr_width : int
        LFSR width for both banks (>= every word width; default 41).
    """

    lanes: int
    data_bits: int
    valid_bits: int = 3
    ready_bits: int = 3
    seed: int = 1
    lfsr_width: int = 41

    def __post_init__(self):
        for name, lo, hi in (("lanes", 1, 64), ("data_bits", 1, 63), ("valid_bits", 1, 8),
                             ("ready_bits", 1, 8), ("lfsr_width", 3, 64)):
            v = getattr(self, name)
            if not lo <= v <= hi:
                raise ValueError(f"HarnessConfig.{name} must be {lo}..{hi}, not {v}")
        if self.lfsr_width < max(self.data_bits, self.valid_bits + self.ready_bits):
            raise ValueError(f"HarnessConfig.lfsr_width must be >= {max(self.data_bits, self.valid_bits + self.ready_bits)}"
                             f" (the widest word), not {self.lfsr_width}")

    @property
    def control_lfsr(self) -> LfsrConfig:
        return LfsrConfig(self.lfsr_width, 1, self.valid_bits + self.ready_bits, self.seed)

    @property
    def data_lfsr(self) -> LfsrConfig:
        return LfsrConfig(self.lfsr_width, self.lanes, self.data_bits, (self.seed + 1) & ((1 << 64) - 1))


def handshakes(cfg: HarnessConfig, cycles: int) -> tuple[np.ndarray, np.ndarray]:
    """(in_valid, out_ready), bool arrays of shape (cycles,), for cycles 0..cycles-1 after reset."""
    words = LfsrBank(cfg.control_lfsr).run(cycles)[:, 0]
    valid = (words >> cfg.ready_bits) != 0
    ready = (words & ((1 << cfg.ready_bits) - 1)) != 0
    return valid, ready


def accepted_cycles(valid: np.ndarray, ready: np.ndarray, first_ready_cycle: int = 1) -> np.ndarray:
    """Bool (cycles,): an input beat is accepted where valid and ready and the DUT accepts.

    ``first_ready_cycle``: a DUT whose input ready is its output ready gated by a flag set one
    cycle after reset (``hdl.macrospin``) accepts from cycle 1.
    """
    acc = valid & ready
    acc[:first_ready_cycle] = False
    return acc


def data_words(cfg: HarnessConfig, beats: int) -> np.ndarray:
    """Data words of the first ``beats`` accepted beats, int64 (beats, lanes)."""
    return LfsrBank(cfg.data_lfsr).run(beats)


def signature(words, width: int, start: int = 0) -> int:
    """Fold payload ints (each < 2**width) into the harness signature, from ``start``."""
    mask = (1 << width) - 1
    s = start
    top = width - 1
    for w in words:
        s = (((s << 1) & mask) | (s >> top)) ^ int(w)
    return s
