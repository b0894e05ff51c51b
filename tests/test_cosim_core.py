"""cocotb co-simulation of the SNN inference core (tb.core_tb, batch mode) against the model,
spike for spike, on MNIST test images with the shipped trained weights.

Ordinary suite: network 1's twin (cnn-if) on Verilator, 3 images at 5 steps (one Verilator
build, about 100 s on a loaded 2-core machine; cached afterwards), the checker's self-test
(a corrupted model spike must be named with its step, layer, position and channel), and
Icarus on 1 image at 1 step. `make test-long`: the CMOS baseline and network 2 on a few
images, and 100 images of each network at its default steps (100; 50 for network 2).
WAVES=1 writes a waveform (path printed by the runner).
"""

import pytest

from spinbase.errors import MismatchError, SpintwinError
from tb import core_launch
from tb.runner import skip_unless_simulator


def _run(network, sim, images, steps, first=0, net=None, **env):
    skip_unless_simulator(sim)
    return core_launch.run(network, sim=sim, images=images, steps=steps, first=first, env=env, net=net)


def test_verilator_cnn_if_three_images():
    r = _run("cnn-if", "verilator", 3, 5, first=10)
    assert r.metrics["images"] == 3
    print(f"cnn-if: {r.metrics['cycles_per_s']:.0f} cycles/s on Verilator, {r.metrics['cycles_per_image']:.0f} "
          "cycles per image at 5 steps")


def test_mismatch_names_first_step_layer_position_and_channel():
    """Toggle the model's 3rd conv1 spike of image 10: the batch signature differs and the replay
    names where (the step and position of that spike, channel too, RTL 1 and model 0)."""
    with pytest.raises(MismatchError, match=r"^image 10: step \d+, layer conv1, position \d+, channel \d: "
                                             r"model 0, RTL 1 \[batch: image 10: conv1 spikes model"):
        _run("cnn-if", "verilator", 1, 5, first=10, CORE_CORRUPT="conv1:2")


def test_inputs_out_of_range_refused_before_any_build(monkeypatch):
    """Steps beyond the core's 16-bit step counter and images beyond the MNIST test set are one
    SpintwinError line, before the network is built or anything exported (not a MISMATCH)."""
    from hdl.core import COUNT_BITS

    def no_build(*a, **k):
        raise AssertionError("the launcher built before checking its inputs")

    monkeypatch.setattr(core_launch, "core_verilog", no_build)
    monkeypatch.setattr(core_launch, "run_cocotb", no_build)
    import quantize.core

    monkeypatch.setattr(quantize.core, "trained_network", no_build)
    top = (1 << COUNT_BITS) - 1
    for kw, words in (({"steps": top + 1}, f"1..{top}"), ({"steps": 10**30}, f"{COUNT_BITS}-bit"),
                      ({"steps": 0}, "steps"), ({"images": 0}, "images"),
                      ({"images": 2, "first": core_launch.MNIST_TEST_IMAGES - 1}, "test set has 10000"),
                      ({"first": -1}, "first image")):
        args = {"images": 1, "steps": 5, "first": 0, **kw}
        with pytest.raises(SpintwinError, match=words) as info:
            core_launch.run("cnn-if", sim="verilator", **args)
        assert not isinstance(info.value, MismatchError)
    core_launch.check_inputs(images=1, steps=top, first=core_launch.MNIST_TEST_IMAGES - 1)  # the limits hold


def test_generate_core_writes_lint_clean_verilog_and_a_manifest(tmp_path):
    from spintwin.core_flow import generate_core

    skip_unless_simulator("verilator")
    m = generate_core("cnn-if", tmp_path)
    assert m["lint"]["clean"] and (tmp_path / "snn_core.v").is_file()
    assert [L["name"] for L in m["layers"]] == ["conv1", "pool1", "conv2", "pool2", "fc"]
    assert m["layers"][2]["row_tiles"] == 5 and m["neuron"]["threshold"] == 2 ** m["config"]["membrane_frac"]


def test_flow_arguments_are_one_clear_error():
    from spintwin.core_flow import synth_core, verify_core
    from spinbase.errors import SpintwinError

    with pytest.raises(SpintwinError, match="--network must be one of cnn-if, cnn-stochastic, cmos-if, not 'stdp'"):
        verify_core("stdp")
    with pytest.raises(SpintwinError, match="--sim must be verilator or icarus, not 'xsim'"):
        verify_core("cnn-if", "xsim")
    with pytest.raises(SpintwinError, match="--images must be in 1..10000"):
        verify_core("cnn-if", images=0)
    with pytest.raises(SpintwinError, match="--target must be one of ecp5-85f, ice40-up5k, not 'xc7'"):
        synth_core("cnn-if", "xc7")


def test_icarus_cnn_if_one_image():
    """Three steps, so conv1 spikes in the model (asserted: a run without conv1 spikes
    compares nothing; at one step conv1 is silent, which hid an Icarus start-up bug, see
    tb.sources.icarus_comb_kick)."""
    from quantize import snn as q
    from quantize.core import trained_network
    from spinbase.data import load_mnist

    skip_unless_simulator("icarus")
    model = q.run(trained_network("cnn-if", steps=3), load_mnist()[1][0][:1])
    assert model["spikes"]["conv1"] > 0
    r = _run("cnn-if", "icarus", 1, 3, first=0)
    print(f"cnn-if: {r.metrics['cycles_per_s']:.0f} cycles/s on Icarus")


def _lanes_net(lanes: int, steps: int):
    """cnn-if's twin (trained_network's formats) with ``lanes`` scatter lanes."""
    from quantize import snn as q
    from quantize.core import network_from_config

    return network_from_config(q.QuantConfig(kind="twin-if", steps=steps, seed=1, input_rate=0.5,
                                             parallelism=lanes))


@pytest.mark.long
@pytest.mark.parametrize("lanes", [2, 5])
def test_verilator_cnn_if_lanes(lanes):
    """cnn-if with conv1 and conv2 in ``lanes`` banks (QuantConfig.parallelism) on Verilator: 3
    images at 5 steps, spike, prediction and cycle exact (a Verilator build each, ~2 min)."""
    r = _run("cnn-if", "verilator", 3, 5, first=10, net=_lanes_net(lanes, 5))
    assert r.metrics["images"] == 3


@pytest.mark.long
def test_icarus_cnn_if_lanes_one_image():
    """cnn-if with 4 lanes on Icarus: 1 image at 3 steps (conv1 spikes there, see
    test_icarus_cnn_if_one_image), spike and cycle exact (~30 s)."""
    from quantize.core import core_layers

    net = _lanes_net(4, 3)
    assert [L.banks for L in core_layers(net)][::2] == [4, 4, 1]
    r = _run("cnn-if", "icarus", 1, 3, first=0, net=net)
    assert r.metrics["images"] == 1


@pytest.mark.long
@pytest.mark.parametrize("network", ["cmos-if", "cnn-stochastic"])
def test_verilator_few_images(network):
    _run(network, "verilator", 3, 5, first=10)


@pytest.mark.long
@pytest.mark.parametrize("network,steps", [("cnn-if", 100), ("cmos-if", 100), ("cnn-stochastic", 50)])
def test_verilator_100_images(network, steps):
    r = _run(network, "verilator", 100, steps)
    m = r.metrics
    print(f"{network}: 100 images x {steps} steps bit-exact, {m['cycles_per_image']:.0f} cycles/image, "
          f"{m['cycles_per_s']:.0f} cycles/s, {m['seconds_per_image']:.2f} s/image, run {r.run_s:.0f} s")
