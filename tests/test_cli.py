"""The command line: --version, --help with examples, one-line errors, and a small demo run."""

import json
import re
import subprocess
import sys

import pytest

from spintwin import __version__
from spintwin.cli import main
from spintwin.config import SCHEMA, load_config


def _run(*args):
    return subprocess.run([sys.executable, "-m", "spintwin.cli", *args], capture_output=True, text=True)


def test_no_command_is_one_error_line():
    """Bare `spintwin`: the help on stdout and one error line on stderr, exit 2 (was: no error line)."""
    r = _run()
    assert r.returncode == 2 and "usage: spintwin" in r.stdout
    assert r.stderr.strip().splitlines() == ["spintwin: error: a command is required (one of the above)"]


def test_help_documents_the_exit_statuses():
    r = _run("--help")
    for line in ("0    success", "1    verify: MISMATCH", "2    a user error", "3    a tool or simulator failed",
                 "130  interrupted"):
        assert line in r.stdout, line


def test_version():
    r = _run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"spintwin {__version__}"


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"], ["generate", "--help"], ["verify", "--help"],
                                  ["synth", "--help"], ["explore", "--help"], ["build", "--help"],
                                  ["import", "--help"], ["export", "--help"], ["train", "--help"]])
def test_help_has_an_example(args):
    """Every command's --help ends with at least one example command line."""
    r = _run(*args)
    assert r.returncode == 0 and re.search(r"examples?:\s+spintwin ", r.stdout), r.stdout[-300:]


@pytest.mark.parametrize("args, message", [
    (["verify", "core", "--network", "cnn-if", "--images", "0"], "--images must be >= 1"),
    (["verify", "core", "--network", "stdp", "--sim", "modelsim"], "--sim must be verilator or icarus"),
    (["build", "--board", "icebreaker", "--baud", "0"], "baud"),
])
def test_bad_arguments_are_one_clear_line(args, message):
    r = _run(*args)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_default_config_loads_with_every_key():
    cfg = load_config()
    for key in SCHEMA:
        node = cfg
        for part in key.split("."):
            node = node[part]


@pytest.mark.parametrize("text, message", [
    ("[demo]\ntrials = -3\n", "'demo.trials' must be an integer > 0, not -3"),
    ("[demo]\ntrails = 3\n", "unknown key 'demo.trails'"),
    ("[demo\n", "not valid TOML"),
])
def test_bad_config_is_one_clear_line(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    r = _run("demo", "--config", str(path), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_missing_config_file(tmp_path):
    r = _run("demo", "--config", str(tmp_path / "nope.toml"))
    assert r.returncode == 2 and "file not found" in r.stderr


def test_small_demo_writes_report_and_plots(tmp_path, capsys):
    cfg = tmp_path / "small.toml"
    cfg.write_text(
        "[demo]\nseed = 1\ntrials = 24\n"
        "[demo.mtj_neuron]\ncurrents_uA = [40, 71, 140]\n"
        "[demo.volatile_synapse]\nspacings_ns = [3, 6]\n"
        "[demo.step_neuron]\ncurrents_uA = [-20, 20]\n"
        "[demo.dw]\ncurrents_uA = [5, 10.6]\n"
        "[demo.system]\nimages = 20\nsteps = 30\ncosim_images = 0\nsynth_target = \"none\"\n"
    )
    out = tmp_path / "demo"
    assert main(["demo", "--config", str(cfg), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[1/9]" in printed and "[9/9]" in printed
    for name in ("report.md", "report.html", "demo.json", "mtj_neuron_switching.png", "volatile_synapse.png",
                 "step_neuron.png", "dw_device.png", "twin_switching_curve.png", "twin_vs_cmos.png",
                 "stt_neuron_switching.png", "sot_step_neuron_twin.png", "lsv_decay_fan_in.png", "sto_locking.png",
                 "stochastic_resonance.png"):
        assert (out / name).stat().st_size > 0
    res = json.loads((out / "demo.json").read_text())
    assert res["dw"]["levels"] >= 15 > res["dw"]["levels_with_2pct_spread"]  # golden.levels: write-verified only
    assert "| stochastic MTJ neuron | P_sw at 71 uA" in (out / "report.md").read_text()
    assert 0 <= res["twin_vs_cmos"]["agreement"] <= 1 and res["twin_vs_cmos"]["twin"]["energy_J"] > 0
    page = (out / "report.html").read_text()
    # self-contained: every plot is embedded, none is linked
    assert page.count('src="data:image/png;base64,') == 13 and 'src="twin_vs_cmos.png"' not in page
    assert "<table>" in page
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporaries
