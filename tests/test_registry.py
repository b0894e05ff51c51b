"""The block registry: one flow over every block, choices from the registry, a [core] design
with its own formats bit-exact on Verilator, and no false MISMATCH verdicts."""

import json

import numpy as np
import pytest

from spinbase.errors import MismatchError, SpintwinError, ToolFailure
from spintwin import blocks, flow
from spintwin.blocks import REGISTRY, Request, resolve
from spintwin.cli import build_parser, main


def test_registry_lists_the_blocks_and_the_cli_offers_them():
    assert list(REGISTRY) == ["macrospin", "core", "stdp"]
    assert blocks.network_choices() == ["cnn-if", "cnn-stochastic", "cmos-if", "stdp"]
    assert resolve("core", "stdp").name == "stdp" and resolve("core", None).name == "core"
    ver = build_parser().parse_args(["verify", "stdp"])
    assert ver.block == "stdp"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["generate", "nosuchblock"])


@pytest.mark.parametrize("exc, kind", [(AssertionError("tb_metrics.tmp lost"), ToolFailure),
                                       (RuntimeError("simulator crashed"), ToolFailure),
                                       (MismatchError("beat 3 lane 1 m_x: 5 != 6"), MismatchError)])
def test_only_a_mismatch_is_a_mismatch(monkeypatch, exc, kind):
    """A launcher's plain AssertionError / RuntimeError gives no verdict: ToolFailure (exit 3)."""
    from dataclasses import replace

    def boom(*a, **k):
        raise exc

    monkeypatch.setitem(REGISTRY, "macrospin", replace(REGISTRY["macrospin"], verify=boom))
    monkeypatch.setattr("boards.tools.simulator_available", lambda sim: (True, ""))
    with pytest.raises(kind) as info:
        flow.verify("macrospin", sim="verilator", steps=10, echo=lambda *_: None)
    assert type(info.value) is kind
    code = main(["verify", "macrospin", "--steps", "10"])
    assert code == kind.exit_code


def test_unknown_style_and_target_are_user_errors():
    with pytest.raises(SpintwinError, match="not a style of core"):
        flow.design_of("core", {"core": {}}, Request(style="ecp5"))


def test_nondefault_core_design_verifies_bit_exact_and_matches_quantize(tmp_path, capsys):
    """8 DW levels, a 12-bit membrane, 6 steps: generate, verify 3 MNIST images bit-exact on
    Verilator, and the RTL's decisions are the integer model's (accuracy equal on those images)."""
    from boards.tools import simulator_available

    if not simulator_available("verilator")[0]:
        pytest.skip("verilator not usable here")
    from quantize.snn import run
    from spinbase.data import load_mnist
    from spintwin.block_core import CoreDesign, core_network
    from spintwin.config import load_config

    design = tmp_path / "design.toml"
    design.write_text("[core]\nnetwork = \"cnn-if\"\nlevels = 8\nmembrane_bits = 12\nmembrane_frac = 6\nsteps = 6\n"
                      "seed = 5\n")
    assert main(["generate", "core", "--config", str(design), "--out", str(tmp_path / "rtl"), "--no-lint"]) == 0
    m = json.loads((tmp_path / "rtl" / "snn_core.manifest.json").read_text())
    assert (m["config"]["levels"], m["config"]["membrane_bits"], m["config"]["steps"]) == (8, 12, 6)
    capsys.readouterr()
    assert main(["verify", "core", "--config", str(design), "--images", "3"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["bit_exact"] and res["images"] == 3 and res["steps"] == 6 and res["seed"] == 5
    # the RTL was checked spike for spike against this model, so its accuracy is the model's
    cfg = load_config(design)
    from spintwin.block_core import core_quant_config

    net = core_network(CoreDesign(*core_quant_config(cfg["core"])))
    assert net.cfg.levels == 8 and net.cfg.membrane_bits == 12
    (_, _), (x, y) = load_mnist()[0], load_mnist()[1]
    pred = run(net, x[:3])["pred"]
    assert [int(p) for p in pred] == res["rtl_pred"]
    assert np.mean(pred == y[:3]) == np.mean(np.array(res["rtl_pred"]) == y[:3])
