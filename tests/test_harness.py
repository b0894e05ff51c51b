"""The self-test harness model (quantize.harness): handshake statistics, the data words' order
and the signature's sensitivity. The RTL's equality with it is checked in
tests/test_macrospin_rtl.py (Amaranth) and tests/test_cosim_macrospin.py (cocotb)."""

import numpy as np
import pytest

from quantize import harness
from quantize.lfsr import LfsrBank


def test_handshake_probabilities():
    """valid and ready are set with P = 1 - 2**-bits each, independently (4 SE over 200k cycles)."""
    cfg = harness.HarnessConfig(lanes=2, data_bits=9, valid_bits=3, ready_bits=2, seed=4)
    n = 200_000
    valid, ready = harness.handshakes(cfg, n)
    for x, p in ((valid, 7 / 8), (ready, 3 / 4), (valid & ready, 21 / 32)):
        assert abs(x.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)
    acc = harness.accepted_cycles(valid, ready)
    assert not acc[0] and np.array_equal(acc[1:], (valid & ready)[1:])


def test_data_words_are_the_data_bank_in_order():
    cfg = harness.HarnessConfig(lanes=3, data_bits=17, seed=8)
    words = harness.data_words(cfg, 50)
    bank = LfsrBank(cfg.data_lfsr)
    for row in words:
        np.testing.assert_array_equal(row, bank.step())


def test_signature_detects_any_single_bit_error_and_order():
    rng = np.random.default_rng(0)
    width = 77
    words = [int(v) for v in rng.integers(0, 2 ** 62, 300)]
    ref = harness.signature(words, width)
    for beat in (0, 150, 299):
        for bit in (0, 40, 76):
            bad = list(words)
            bad[beat] ^= 1 << bit
            assert harness.signature(bad, width) != ref
    swapped = list(words)
    swapped[10], swapped[11] = swapped[11], swapped[10]
    assert harness.signature(swapped, width) != ref or words[10] == words[11]


def test_bad_config():
    with pytest.raises(ValueError, match="HarnessConfig.valid_bits must be 1..8, not 0"):
        harness.HarnessConfig(lanes=1, data_bits=4, valid_bits=0)
    with pytest.raises(ValueError, match="lfsr_width must be >= 20"):
        harness.HarnessConfig(lanes=1, data_bits=20, lfsr_width=19)
