"""Design files validated up front: every failure is one line naming file, key, expectation, value."""

import subprocess
import sys

import pytest

from spinbase.errors import SpintwinError
from spintwin.config import DT_PS_MAX, SCHEMA, load_config


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "spintwin.cli", *args], capture_output=True, text=True, cwd=cwd)


def _one_line(r, *needles):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert all(n in lines[0] for n in needles), lines[0]


def test_empty_config_is_the_default_design(tmp_path):
    """The schema's defaults form a valid design (magnets >= depth + 3): an empty file loads."""
    (tmp_path / "e.toml").write_text("")
    cfg = load_config(tmp_path / "e.toml")
    default = load_config()
    assert cfg["twin"] == default["twin"]


@pytest.mark.parametrize("name, content, needles", [
    ("dir", None, ["is a folder"]),
    ("bin.toml", bytes(range(256)), ["not UTF-8"]),
    ("latin.toml", "[demo]\n# caf\xe9\nseed = 1\n".encode("latin-1"), ["not UTF-8"]),
    ("inf.toml", b"[twin.macrospin]\ncurrent_lsb_uA = inf\n", ["'twin.macrospin.current_lsb_uA'", "inf"]),
    ("nan.toml", b"[core]\ninput_rate = nan\n", ["'core.input_rate'", "nan"]),
    ("dt.toml", b"[twin.macrospin]\ndt_ps = 100\n", ["'twin.macrospin.dt_ps'", "(0, 1] ps", "100"]),
    ("depth.toml", b"[twin.macrospin]\nmagnets = 32\n", ["'twin.macrospin.magnets'", "pipeline depth"]),
    ("net.toml", b"[core]\nnetwork = \"lenet\"\n", ["'core.network'", "lenet"]),
    ("data.toml", b"[core]\ndataset = \"cifar\"\n", ["'core.dataset'", "'iris'", ".npz file", "cifar"]),
    ("netfile.toml", b"[core]\nnetwork = \"missing.npz\"\n", ["'core.network'", "missing.npz", "no such file"]),
    ("netjunk.toml", b"[core]\nnetwork = \"netjunk.toml.npz\"\n", ["'core.network'", "not a network file"]),
    ("dataset.toml", b"[core]\ndataset = \"missing.npz\"\n", ["'core.dataset'", "missing.npz", "no such data"]),
    ("kind.toml", b"[core]\nkind = \"twin-stochastic\"\n", ["'core.kind'", "cnn-if"]),
    ("frac.toml", b"[core]\nmembrane_bits = 12\nmembrane_frac = 11\n", ["'core.membrane_frac'", "11"]),
    ("tile.toml", b"[core]\ntile = 24\n", ["'core.tile'", "power of two", "24"]),
    ("lanes.toml", b"[core]\nparallelism = 0\n", ["'core.parallelism'", "1..64", "0"]),
    ("type.toml", b"[core]\nlevels = \"8\"\n", ["'core.levels'", "integer", "'8'"]),
    ("unknown.toml", b"[core]\nlevles = 8\n", ["unknown key 'core.levles'"]),
])
def test_bad_config_is_one_line_before_any_work(tmp_path, name, content, needles):
    path = tmp_path / name
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
        (tmp_path / f"{name}.npz").write_bytes(b"PK\x03\x04 damaged")   # a file that is not a network
    r = _run("generate", "core" if b"core" in (content or b"") else "macrospin", "--config", str(path),
             "--out", str(tmp_path / "o"), "--no-lint")
    _one_line(r, *needles, *([str(path)] if content is not None else []))
    assert not (tmp_path / "o").exists()


def test_dt_bound_is_documented_and_the_default_inside():
    assert SCHEMA["twin.macrospin.dt_ps"][2] <= DT_PS_MAX == 1.0


def test_core_table_maps_onto_quantconfig(tmp_path):
    from quantize.snn import QuantConfig
    from spintwin.block_core import core_quant_config

    path = tmp_path / "d.toml"
    path.write_text('[core]\nnetwork = "cmos-if"\nweight_bits = 6\nmembrane_bits = 12\nsteps = 7\nseed = 9\n')
    net, q = core_quant_config(load_config(path)["core"])
    assert net == "cmos-if" and q == QuantConfig(kind="cmos-if", weight_bits=6, membrane_bits=12, steps=7, seed=9)
    path.write_text('[core]\nparallelism = 4\n')
    assert core_quant_config(load_config(path)["core"])[1] == QuantConfig(kind="twin-if", steps=100, input_rate=0.5,
                                                                          parallelism=4)
    # the built-in names keep their own formats (quantize.core.trained_network)
    assert core_quant_config({}, network="cnn-if")[1] == QuantConfig(kind="twin-if", steps=100, input_rate=0.5)
    with pytest.raises(SpintwinError, match="'core.levels' must be an integer in 2..256, not 300"):
        core_quant_config({"levels": 300}, path="x.toml")


def test_verify_keeps_the_config_seed_unless_given(tmp_path):
    """`verify --config X` checks the seeding `generate --config X` wrote (was: --seed 1 always)."""
    from spintwin.blocks import Request
    from spintwin.flow import design_of

    path = tmp_path / "s.toml"
    path.write_text("[twin.macrospin]\nseed = 77\n")
    cfg = load_config(path)
    assert design_of("macrospin", cfg, Request())[1].seed == 77
    assert design_of("macrospin", cfg, Request(seed=3))[1].seed == 3
    assert design_of("macrospin", cfg, Request())[1].noise.master_seed == 77
    from spintwin.cli import build_parser

    assert build_parser().parse_args(["verify", "macrospin"]).seed is None


@pytest.mark.parametrize("args, needles", [
    (["verify", "macrospin", "--steps", "0"], ["--steps", "not 0"]),
    (["verify", "core", "--steps", "-5"], ["--steps", "not -5"]),
    (["verify", "core", "--images", "100000"], ["--images", "10000", "100000"]),
    (["verify", "core", "--network", "stdp", "--neurons", "0"], ["--neurons", "not 0"]),
    (["generate", "core", "--out", ""], ["--out", "empty"]),
    (["generate", "macrospin", "--config", ""], ["config"]),
])
def test_bad_arguments_are_one_line(args, needles):
    _one_line(_run(*args), *needles)


def test_default_core_table_documents_every_key_with_its_true_default():
    """configs/default.toml's [core] lists every schema key; uncommenting the documented values
    gives exactly the design of the table as shipped (cnn-if's own formats), and the same Verilog
    inputs: the QuantConfig is equal."""
    import tomllib

    import spintwin.blocks  # noqa: F401  (the registry first: block_core imported alone is a cycle)
    from spintwin.block_core import core_quant_config
    from spintwin.config import DEFAULT_CONFIG

    text = DEFAULT_CONFIG.read_text()
    core = text[text.index("\n[core]"):]
    uncommented = "\n".join(line[2:] if line.startswith("# ") and " = " in line.split("#")[1] else line
                            for line in core.splitlines())
    table = tomllib.loads(uncommented)["core"]
    keys = {k.split(".", 1)[1] for k in SCHEMA if k.startswith("core.")}
    assert set(table) == keys
    shipped = load_config()["core"]
    assert core_quant_config(table) == core_quant_config(shipped)


def test_network_file_reset_position_reaches_the_integer_model(tmp_path):
    """A network file's DW neurons (reset to a position) set QuantConfig.reset_position when
    [core] leaves it out, so the integer model's membrane floor -r/(1-r) follows the network as
    golden does (it used to stay at the default 0.5 whatever the file said); an explicit key
    wins; layers with different positions need the key (one line)."""
    import numpy as np

    from golden import network as nw
    from spintwin.block_core import core_quant_config

    def net_file(name, positions):
        rng = np.random.default_rng(0)
        layers, n_in = [nw.Flatten("f")], 4
        for i, r in enumerate(positions):
            layers.append(nw.Dense(f"d{i}", rng.normal(0.2, 0.3, (3, n_in)),
                                   neuron=nw.Neuron("if", 1.0, "position", r, None, "dw")))
            n_in = 3
        return str(nw.save(nw.Network(name, nw.Input(1, 1, 4), tuple(layers)), tmp_path / f"{name}.npz"))

    one = net_file("quarter", [0.25, 0.25])
    assert core_quant_config({"kind": "twin-if"}, network=one)[1].reset_position == 0.25
    assert core_quant_config({"kind": "twin-if", "reset_position": 0.125}, network=one)[1].reset_position == 0.125
    mixed = net_file("mixed", [0.25, 0.5])
    with pytest.raises(SpintwinError) as e:
        core_quant_config({"kind": "twin-if"}, network=mixed)
    assert "different positions [0.25, 0.5]" in str(e.value) and "\n" not in str(e.value)
    assert core_quant_config({"kind": "twin-if", "reset_position": 0.5}, network=mixed)[1].reset_position == 0.5
