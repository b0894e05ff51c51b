"""cocotb co-simulation of the STDP learning core (hdl.stdp_core) against quantize.stdp, bit
for bit: every step's winner of every attempt, attempts, counts and theta of every image, and
every device state, column sum and scale after the last one (tb.stdp_core_tb, batch style).

Ordinary suite (``SMALL``): 16 neurons in 4 lanes, 8 generator lanes (the LFSR leap networks
are most of the Verilog: 8 lanes build ~3x faster than the default 28), MNIST, network 3's
defaults otherwise (784 inputs, 350 steps, binary devices, D&C homeostasis): Verilator over 20
training images, the checker's self-tests on the same build, Icarus over one image of 100
steps. ``make test-long``: the default network (225 neurons in 15 lanes, 28 generator lanes)
over 20 images, the small network at the default 28 generator lanes, the DW variant, and
Icarus over two full images, and the negative window of eq. 9 (p_minus > 0) and LT-ST over
5 images each (their own builds; tests/test_stdp_core_rtl.py checks it on the Amaranth simulator in the
ordinary suite).
"""

import pytest

from spinbase.errors import MismatchError
from tb.runner import skip_unless_simulator
from tb.stdp_core_launch import verify_stdp_core


SMALL = dict(neurons=16, neuron_lanes=4, input_lanes=8, stdp_lanes=8)


def _verify(sim, images, **kw):
    skip_unless_simulator(sim)
    return verify_stdp_core(sim, images, kw.pop("seed", 0), **kw)


def test_verilator_20_images_bit_exact():
    m = _verify("verilator", 20, **SMALL)
    assert m["images"] == 20 and m["post_spikes"] >= 20 * 5 and m["switches"] > 0
    print(f"16 neurons: {m['cycles_per_image']:.0f} cycles/image, {m['cycles_per_s']:.0f} cycles/s on Verilator")


@pytest.mark.long
def test_verilator_negative_window_bit_exact():
    # both signs of eq. 9: the negative window's row sweeps (p_minus 0.05, a strong setting
    # so that a few images switch devices by it) bit for bit, with the cycle formula
    m = _verify("verilator", 5, **SMALL, p_minus=(0.05,))
    assert m["images"] == 5 and m["switches"] > 0


@pytest.mark.long
def test_verilator_ltst_bit_exact():
    # LT-ST in the learning core: two arrays in one lane field, one STDP pass per array, both
    # signs of eq. 9 (p_minus 0.05 per array)
    m = _verify("verilator", 5, **SMALL, variant="ltst", p_minus=(0.05, 0.05))
    assert m["images"] == 5 and m["switches"] > 0


def test_mismatch_names_image_attempt_step_and_field():
    with pytest.raises(MismatchError, match=r"^image 1, attempt 0, step 175: winner model .*, RTL "):
        _verify("verilator", 2, **SMALL, corrupt="winner")


def test_weight_mismatch_is_replayed_to_name_the_image():
    with pytest.raises(MismatchError, match=r"^weight \(input 3, neuron 0\): model .* after image 1 \[batch: weight"):
        _verify("verilator", 2, **SMALL, corrupt="weight")


def test_icarus_short_bit_exact():
    # Icarus runs this core at ~800-2,000 cycles/s (vs ~1e5 on Verilator): one image of 100
    # steps here, two full images under `make test-long`.
    m = _verify("icarus", 1, **SMALL, steps=100)
    assert m["images"] == 1 and m["post_spikes"] >= 1
    print(f"16 neurons: {m['cycles_per_s']:.0f} cycles/s on Icarus")


@pytest.mark.long
def test_icarus_2_images_bit_exact():
    m = _verify("icarus", 2, **SMALL)
    assert m["images"] == 2 and m["post_spikes"] >= 2 * 5


@pytest.mark.long
def test_verilator_default_network_20_images():
    m = _verify("verilator", 20, neurons=225)
    assert m["images"] == 20 and m["switches"] > 0
    print(f"225 neurons: {m['cycles_per_image']:.0f} cycles/image, {m['cycles_per_s']:.0f} cycles/s on Verilator")


@pytest.mark.long
def test_verilator_small_default_lanes_20_images():
    m = _verify("verilator", 20, neurons=16, neuron_lanes=4)
    assert m["images"] == 20 and m["switches"] > 0


@pytest.mark.long
def test_verilator_dw_20_images():
    m = _verify("verilator", 20, **SMALL, variant="dw")
    assert m["images"] == 20 and m["switches"] > 0
