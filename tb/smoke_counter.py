"""Smoke design for the co-simulation infrastructure: an 8-bit counter and a 16-bit
maximal-length Galois LFSR that both step when ``en`` is high.

Small enough to build in seconds, rich enough to catch the classic testbench bugs: an
off-by-one between drive and sample (the counter), a wrong bit order (the LFSR), and X
propagation out of reset (both). Its cocotb test is :mod:`tb.smoke_counter_tb`.
"""

from functools import lru_cache

import numpy as np
from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["LFSR_INIT", "LFSR_TAPS", "SmokeCounter", "lfsr_table", "smoke_model"]

#: x^16 + x^14 + x^13 + x^11 + 1 in right-shift Galois form: period 2^16 - 1.
LFSR_TAPS = 0xB400
LFSR_INIT = 0x0001

# No `from __future__ import annotations` here: wiring reads the port annotations as objects.
class SmokeCounter(wiring.Component):
    """Counter and LFSR with a shared enable; both registered, synchronous reset.

    Ports: ``en`` (in, 1), ``count`` (out, 8), ``lfsr`` (out, 16), plus the sync domain's
    ``clk``/``rst``. Latency: an enable at rising edge ``t`` is visible right after it.
    """

    latency = 1

    en: In(1)
    count: Out(8)
    lfsr: Out(16)

    def elaborate(self, platform):
        m = Module()
        state = Signal(16, init=LFSR_INIT)
        with m.If(self.en):
            m.d.sync += self.count.eq(self.count + 1)
            m.d.sync += state.eq(Cat(state[1:], 0) ^ Mux(state[0], LFSR_TAPS, 0))
        m.d.comb += self.lfsr.eq(state)
        return m

@lru_cache(maxsize=1)
def lfsr_table() -> np.ndarray:
    """State after ``j`` steps from :data:`LFSR_INIT`, j = 0 .. 2^16 - 2 (one full period)."""
    out = np.empty(0xFFFF, dtype=np.int64)
    s = LFSR_INIT
    for j in range(0xFFFF):
        out[j] = s
        s = (s >> 1) ^ (LFSR_TAPS if s & 1 else 0)
    assert s == LFSR_INIT, "LFSR_TAPS is not maximal-length"
    out.flags.writeable = False
    return out

def smoke_model(en: np.ndarray) -> np.ndarray:
    """Bit-exact outputs for enable sequence *en* applied from reset.

    Parameters
    ----------
    en : array (cycles,) of 0/1

    Returns
    -------
    array (cycles, 2) int64: columns (count, lfsr), row ``t`` the state right after rising
    edge ``t`` (the :func:`tb.runner.run_cycles` convention).
    """
    steps = np.cumsum(np.asarray(en, dtype=np.int64) & 1)
    return np.stack([steps & 0xFF, lfsr_table()[steps % 0xFFFF]], axis=1)
