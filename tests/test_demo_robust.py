"""`spintwin demo` checks its whole config and its output folder before stage 1 (issue 20):
a bad --out or an invalid twin used to surface after stage 1 or at stage 5 (40 s in), leaving
the plots of stages 1-4 behind. Stage 1 is replaced by a tripwire here, so no test runs a stage.
"""

import copy

import pytest

from spinbase.errors import SpintwinError
from spintwin import demo
from spintwin.config import load_config


class StageOneRan(Exception):
    pass


@pytest.fixture
def tripwire(monkeypatch):
    def stage_one(*a, **k):
        raise StageOneRan

    monkeypatch.setattr(demo, "_mtj_neuron", stage_one)


@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.mark.parametrize("kind", ["file", "under-file", "too-long", "empty"])
def test_unusable_out_stops_before_stage_one(tmp_path, monkeypatch, tripwire, cfg, kind):
    monkeypatch.chdir(tmp_path)   # an empty --out must not become the current folder
    (tmp_path / "f").write_text("a file")
    out = {"file": "f", "under-file": "f/out", "too-long": "x" * 300, "empty": ""}[kind]
    with pytest.raises(SpintwinError, match="--out") as e:
        demo.run_demo(cfg, out, "default.toml", echo=lambda s: None)
    assert "\n" not in str(e.value)
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


@pytest.mark.parametrize("key, value, needle", [
    ("m_format", [40, 30], "state width must be 8..32 signed bits, not 40"),
    ("magnets", 3, r"magnets per lane must be >= pipeline depth \+ 3"),
    ("current_lsb_uA", float("inf"), "twin.macrospin"),
    ("lanes", 0, "lanes must be 1..64, not 0"),
])
def test_invalid_twin_stops_before_stage_one(tmp_path, tripwire, cfg, key, value, needle):
    bad = copy.deepcopy(cfg)
    bad["twin"]["macrospin"][key] = value
    out = tmp_path / "out"
    with pytest.raises(SpintwinError, match=needle) as e:
        demo.run_demo(bad, out, "bad.toml", echo=lambda s: None)
    assert "\n" not in str(e.value) and "bad.toml" in str(e.value)
    assert not out.exists()   # the config is checked before the folder is made


def test_valid_config_reaches_stage_one(tmp_path, tripwire, cfg):
    with pytest.raises(StageOneRan):
        demo.run_demo(cfg, tmp_path / "out", "default.toml", echo=lambda s: None)
    assert (tmp_path / "out").is_dir()
    assert demo.check_demo(cfg, tmp_path / "out2") == (tmp_path / "out2").resolve()


def test_cli_demo_bad_out_is_one_line(tmp_path, capsys):
    from spintwin.cli import main

    (tmp_path / "f").write_text("a file")
    assert main(["demo", "--out", str(tmp_path / "f" / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spintwin: error: --out") and err.count("\n") == 1
