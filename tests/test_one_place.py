"""Issue 15, "one concept in one place": the compatibility shims of the refactors stay gone.

Each test fails on the code before the clean-up (names re-exported from their old homes,
shims that took a built-in layer's name, components that had to be silenced with Amaranth's
private ``MustUse`` silence switch to refuse a config).
"""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent

#: Names that moved out of tb/runner.py, with their one home.
MOVED = {
    "boards.tools": ("MIN_VERILATOR", "SIMULATORS", "VerilatorInfo", "verilator_env", "simulator_available",
                     "ToolError", "verilator_probe"),
    "boards.export": ("export_verilog",),
    "spinbase.locks": ("file_lock",),
    "tb.cocotb_helpers": ("tb_param", "report_metrics", "start_clock", "reset", "run_cycles", "writer"),
    "tb.mismatch": ("first_mismatch", "check"),
    "tb.sources": ("design_sources", "icarus_sources", "icarus_comb_kick", "cache_key"),
}


def test_tb_runner_exports_only_the_run():
    import importlib

    import tb.runner as runner

    assert set(runner.__all__) == {"KEEP_RUNS", "CocotbRun", "CocotbTestResult", "build_root", "run_cocotb",
                                   "skip_unless_simulator"}
    for home, names in MOVED.items():
        mod = importlib.import_module(home)
        for name in names:
            assert hasattr(mod, name), (home, name)
            assert name not in runner.__all__, name
    assert not hasattr(runner, "_verilator_probe") and not hasattr(runner, "export_verilog")
    assert not hasattr(runner, "_icarus_comb_kick") and not hasattr(runner, "_cache_key")


def test_flow_has_one_lint():
    from spintwin import flow

    assert not hasattr(flow, "lint") and "lint" not in flow.__all__


def test_snn_shims_are_gone():
    from golden import network as nw
    from golden import snn
    from quantize import snn as q

    assert not hasattr(q, "_OUT_SHAPE") and not hasattr(snn, "_BUILTIN")
    with pytest.raises((TypeError, AttributeError)):
        snn.layer_fanouts(False)                      # the former folded-pooling flag: a network now
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (12, 6, 5, 5), "fc": (10, 192)}
    net = nw.from_weights("cnn-if", {k: np.zeros(v, np.float32) for k, v in shapes.items()})
    assert snn.layer_fanouts(net)["conv1"].sum() == 24 * 24 * 6 * 25
    with pytest.raises(ValueError, match="geo"):
        q.QuantLayer("conv1", np.zeros((25, 6), np.int64), np.zeros((1, 6), np.int64), 1, 32)


def _bad_core_net():
    from quantize import snn as q

    shapes = {"conv1": (6, 1, 5, 5), "conv2": (12, 6, 5, 5), "fc": (10, 192)}
    w = {k: np.random.default_rng(0).normal(0, 0.1, v).astype(np.float32) for k, v in shapes.items()}
    return q.build_network(w, q.QuantConfig(kind="cmos-if", steps=1, encoding="deterministic"))


def test_refused_components_leave_no_unused_elaboratable():
    """A config the core or a tile refuses raises before the component exists: no Amaranth
    UnusedElaboratable warning follows the error, and hdl/ never sets the private silence."""
    from amaranth.hdl import UnusedElaboratable

    from hdl.core import SnnCore, check_core
    from hdl.crossbar import CrossbarTile

    net = _bad_core_net()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="encoding must be 'lfsr'"):
            SnnCore(net)
        with pytest.raises(ValueError, match="encoding must be 'lfsr'"):
            check_core(net)
        with pytest.raises(ValueError, match="shift must be >= 1"):
            CrossbarTile(np.ones((2, 2)), np.ones(2), 0)
        gc.collect()
    assert not [w for w in seen if issubclass(w.category, UnusedElaboratable)]


def test_no_module_sets_amaranths_private_silence():
    """Amaranth's private ``MustUse`` switch is set nowhere (this file names it only in pieces)."""
    private = "_MustUse" + "__silence"
    users = [str(p.relative_to(REPO)) for pkg in ("spinbase", "golden", "quantize", "hdl", "boards", "tb", "spintwin",
                                                 "bench", "tests")
             for p in sorted((REPO / pkg).rglob("*.py")) if private in p.read_text()]
    assert users == []


def test_link_uart_neuron_and_integrator_refusals_leave_no_unused_elaboratable():
    """Each refused configuration is a ValueError before the component exists (hdl.checked), and
    the integrator's schedule (its latency, depth, hard blocks) is counted without building it:
    no UnusedElaboratable warning follows."""
    from amaranth.hdl import UnusedElaboratable

    from hdl.link import FcEngine, HostLink, LinkCore
    from hdl.macrospin import MacrospinIntegrator
    from hdl.neurons import IfNeuronBank, PbitLayer
    from hdl.uart import UartRx, UartTx
    from tb.macrospin_cases import build_case

    k, c = np.ones((40, 3), np.int64), np.ones((2, 3), np.int64)
    model, noise, _ = build_case("odd_k3", seed=11)
    refusals = [
        (lambda: UartRx(2), "divisor"), (lambda: UartTx(True), "divisor"),
        (lambda: IfNeuronBank(4, 8, 8, 500), "threshold"), (lambda: IfNeuronBank(4, 8, 8, 5, reset="x"), "reset"),
        (lambda: PbitLayer(2, 8, [0, 1, 2], 0, 4, 1), "lut"),
        (lambda: FcEngine(k, c[:1], 6, 32, threshold=256, floor=None, membrane_bits=12), "c must be"),
        (lambda: FcEngine(k, c, 6, 32, threshold=4096, floor=None, membrane_bits=12), "threshold"),
        (lambda: HostLink(object(), 4), "engine"), (lambda: LinkCore(object(), timeout_cycles=4), "engine"),
        (lambda: MacrospinIntegrator(model, noise, blocks="asic"), "blocks"),
    ]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for make, match in refusals:
            with pytest.raises(ValueError, match=match):
                make()
        sched = MacrospinIntegrator.check(model, noise)
        gc.collect()
    assert not [w for w in seen if issubclass(w.category, UnusedElaboratable)]
    # the counted schedule is the built integrator's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)   # built to compare, never elaborated
        dut = MacrospinIntegrator(model, noise)
        assert (dut.latency, dut.depth, dut.dsp_blocks, dut.ram_blocks) == (
            sched.latency, sched.depth, sched.dsp_blocks, sched.ram_blocks)
        del dut
        gc.collect()


def test_check_core_gives_the_layers_without_building():
    from amaranth.hdl import UnusedElaboratable

    from hdl.core import SnnCore, check_core
    from quantize import snn as q

    net = q.build_network(_bad_core_net().network, q.QuantConfig(kind="cmos-if", steps=1))
    layers = check_core(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)   # built to compare, never elaborated
        core = SnnCore(net)
        assert [(a.name, a.in_shape) for a in layers] == [(b.name, b.in_shape) for b in core.layers]
        del core
