"""explore -> Verilog (issue 16, item 5): a space that sweeps a user's network and data set, a
design TOML per evaluated point, the Pareto points with their TOMLs, and
``spintwin generate|verify core --config THAT.toml`` building and checking exactly that point
(spintwin/explore.py, explore_design.py, explore_report.py).

The network is a 64-16-10 IF MLP on scikit-learn digits, trained with numpy
(``spintwin.user_network.train_to_nir``, 20 epochs) and written as NIR; the sweep runs 20 test
samples at 8 time steps per point (the metrics' values are not judged here, only that the design
files rebuild the evaluated points).
"""

import json
import textwrap
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from spinbase.errors import SpintwinError
from spintwin.explore import load_space, point_key, run_explore
from spintwin.explore_eval import dataset_split, quant_config

SPACE = """
[base]
images = 20
profile_images = 0
steps = 8
network = "nets/m.nir"
dataset = "digits"

[axes]
kind = ["cmos-if", "twin-if"]
weight_bits = [3, 6]
levels = [4, 16]
"""


def _keyed(point):
    return {k: v for k, v in point.items() if k != "axes"}


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    """A folder with nets/m.nir: a 64-16-10 IF MLP trained on digits."""
    from spintwin.user_network import train_to_nir

    d = tmp_path_factory.mktemp("mlp")
    train_to_nir("digits", (16,), d / "nets" / "m.nir", epochs=20, seed=0, echo=lambda s: None)
    return d


@pytest.fixture(scope="module")
def swept(mlp):
    """The sweep of SPACE (4 points: cmos-if x weight_bits {3, 6}, twin-if x levels {4, 16})."""
    space = mlp / "space.toml"
    space.write_text(textwrap.dedent(SPACE))
    lines = []
    res = run_explore(None, space, mlp / "out", workers=1, echo=lines.append)
    points = {point_key(_keyed(p)): p for p in load_space(space, {})}
    return {"res": res, "lines": lines, "out": mlp / "out", "space": space, "points": points}


def _design(toml: Path):
    """The core design ``spintwin generate|verify core --config toml`` builds."""
    from spintwin.blocks import Request
    from spintwin.config import load_config
    from spintwin.flow import design_of

    return design_of("core", load_config(toml), Request(config_path=toml))[1]


def test_every_point_writes_the_design_of_exactly_that_point(swept, tmp_path, monkeypatch):
    from quantize.snn import run
    from spintwin.block_core import core_network
    from spintwin.explore_design import file_tag

    res, out = swept["res"], swept["out"]
    assert (res["points"], res["computed"], res["failed"]) == (4, 4, 0)
    monkeypatch.chdir(tmp_path)                   # the TOML's paths do not depend on the working folder
    for row in res["rows"]:
        point = swept["points"][row["id"]]
        assert row["toml"] == f"points/{row['id']}.toml"
        d = _design(out / row["toml"])
        assert d.cfg == quant_config(point)       # every QuantConfig field, not only the swept ones
        assert d.dataset == "digits"
        # the network the design names is a copy of the swept file, byte for byte (by its hash)
        assert Path(d.network).parent == (out / "inputs").resolve()
        assert file_tag(d.network) == file_tag(point["network"])
        # and it is the network the sweep evaluated: the same predictions, so the same accuracy
        x, y = dataset_split(point)
        pred = run(core_network(d), x[:point["images"]])["pred"]
        assert np.mean(pred == y[:point["images"]]) == row["accuracy"]


def test_report_lists_the_pareto_points_with_their_designs(swept):
    out, rows = swept["out"], swept["res"]["rows"]
    # the front by definition: no other point has energy <= and accuracy >= with one of them strict
    front = {r["id"] for r in rows if not any(
        o["energy_J"] <= r["energy_J"] and o["accuracy"] >= r["accuracy"]
        and (o["energy_J"] < r["energy_J"] or o["accuracy"] > r["accuracy"]) for o in rows)}
    listed = json.loads((out / "pareto.json").read_text())["energy_J"]
    assert {e["id"] for e in listed} == front and front
    md = (out / "pareto.md").read_text()
    for e in listed:
        assert e["toml"] == f"points/{e['id']}.toml" and (out / e["toml"]).is_file()
        assert f"`{e['toml']}`" in md
        # the console names the design with a path usable from anywhere
        assert any(str((out / e["toml"]).resolve()) in line for line in swept["lines"])
    assert "lut" not in json.loads((out / "pareto.json").read_text())     # synth = false: no LUT counts


def test_generate_core_from_a_pareto_design_builds_that_point(swept, tmp_path, monkeypatch):
    from spintwin.cli import main

    out = swept["out"]
    entry = json.loads((out / "pareto.json").read_text())["energy_J"][-1]      # the most accurate
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "core", "--config", str(out / entry["toml"]), "--out", "rtl"]) == 0  # lint clean
    manifest = json.loads((tmp_path / "rtl" / "snn_core.manifest.json").read_text())
    assert manifest["config"] == asdict(quant_config(swept["points"][entry["id"]]))
    assert manifest["dataset"] == "digits" and Path(manifest["network"]).parent == (out / "inputs").resolve()


@pytest.mark.long
def test_verify_core_from_a_pareto_design_is_bit_exact(swept, tmp_path, monkeypatch):
    """The loop closed on Verilator: a Pareto point's TOML -> verify core, 5 digits test samples
    (verify raises MismatchError, exit 1, on any differing spike or count)."""
    from spintwin.cli import main

    out = swept["out"]
    for entry in json.loads((out / "pareto.json").read_text())["energy_J"][-1:]:
        monkeypatch.chdir(tmp_path)
        assert main(["verify", "core", "--config", str(out / entry["toml"]), "--images", "5"]) == 0


def test_rerun_reuses_the_points_and_keeps_their_designs(swept, monkeypatch):
    from spintwin import explore_eval

    out = swept["out"]
    tomls = {p.name: p.read_text() for p in (out / "points").glob("*.toml")}
    assert len(tomls) == 4
    lost = sorted(tomls)[0]
    (out / "points" / lost).unlink()
    monkeypatch.setattr(explore_eval, "evaluate_point", lambda *a, **k: pytest.fail("a cached point was recomputed"))
    res = run_explore(None, swept["space"], out, workers=1, echo=lambda s: None)
    assert (res["computed"], res["cached"]) == (0, 4)
    assert {p.name: p.read_text() for p in (out / "points").glob("*.toml")} == tomls     # rewritten, identical
    assert [r["toml"] for r in res["rows"]] == [r["toml"] for r in swept["res"]["rows"]]


# Validation of the space's network and dataset -------------------------------------------------------
@pytest.mark.parametrize("base, needle", [
    ('network = "tpu"', "'base.network' must be one of 'cnn-if', 'cnn-stochastic', 'cmos-if' or a .npz / .nir file"),
    ('network = "nets/missing.nir"', "missing.nir: no such file"),
    ('network = "nets/bogus.nir"', "bogus.nir"),
    ('network = "nets/m.nir"\ndataset = "iris"', "iris: samples are 1 x 1 x 4 (H x W x C), but network 'm' takes 8 x 8 x 1"),
    ('dataset = "digits"', "digits: samples are 8 x 8 x 1 (H x W x C), but network 'cnn-if' takes 28 x 28 x 1"),
    ('network = "cnn-stochastic"\nkind = "twin-if"', "'kind' must be 'twin-stochastic' for network 'cnn-stochastic'"),
    ('network = "nets/m.nir"\ndataset = "digits"\nimages = 400', "'base.images' 400 is more than data set digits's 360"),
    ('dataset = "nets/none.npz"', "none.npz"),
    ('network = "nets/m.nir"\nkind = "twin-stochastic"', "kind 'twin-stochastic' runs 'pbit' neurons, not 'if'"),
])
def test_bad_network_or_dataset_is_one_line(mlp, tmp_path, base, needle):
    (mlp / "nets" / "bogus.nir").write_text("not a NIR file")
    space = mlp / "bad_space.toml"
    space.write_text(f"[base]\n{base}\n")
    with pytest.raises(SpintwinError) as e:
        load_space(space, {})
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"space {space}") and needle in msg, msg


def test_relative_paths_are_relative_to_the_space_file(mlp, tmp_path, monkeypatch):
    sub = mlp / "spaces"
    sub.mkdir(exist_ok=True)
    space = sub / "s.toml"
    space.write_text('[axes]\nnetwork = ["../nets/m.nir", "cnn-if"]\n')
    monkeypatch.chdir(tmp_path)
    pts = load_space(space, {})
    user = [p for p in pts if "network" in p]
    assert len(pts) == 2 and len(user) == 1
    assert user[0]["network"] == str((mlp / "nets" / "m.nir").resolve())
    assert user[0]["dataset"] == "digits" and user[0]["kind"] == "cmos-if"   # the first data set that fits; its neurons' kind


def test_builtin_points_keep_their_keys_and_name_their_network(tmp_path):
    """Naming the defaults (a built-in network, MNIST) gives the same points, so the caches of
    sweeps written before networks could be swept stay valid; their designs name the network of
    the kind (cmos-if runs the ReLU CNN normalised for the CMOS baseline)."""
    from spintwin.explore_design import write_point_design

    plain = tmp_path / "a.toml"
    plain.write_text('[base]\nsteps = 5\n[axes]\nkind = ["twin-if", "cmos-if"]\n')
    named = tmp_path / "b.toml"
    named.write_text('[base]\nsteps = 5\nnetwork = "cnn-if"\ndataset = "mnist"\n[axes]\nkind = ["twin-if", "cmos-if"]\n')
    a, b = load_space(plain, {}), load_space(named, {})
    assert [_keyed(p) for p in a] == [_keyed(p) for p in b]
    assert all("network" not in p and "dataset" not in p for p in a)
    for p in a:
        k = point_key(_keyed(p))
        toml, note = write_point_design(_keyed(p), k, p["kind"], tmp_path)
        assert note is None
        d = _design(tmp_path / toml)
        assert d.cfg == quant_config(p) and d.dataset == "mnist"
        assert d.network == {"twin-if": "cnn-if", "cmos-if": "cmos-if"}[p["kind"]]


def test_a_point_the_core_cannot_build_gets_no_design(tmp_path):
    from spintwin.explore_design import write_point_design

    space = tmp_path / "s.toml"
    space.write_text('[base]\nencoding = "deterministic"\n')
    (p,) = load_space(space, {})
    toml, note = write_point_design(_keyed(p), "k", "deterministic", tmp_path)
    assert toml is None and "'core.encoding' must be 'lfsr'" in note
    assert not (tmp_path / "points" / "k.toml").exists()


def test_a_user_dataset_file_is_copied_beside_the_design(mlp, tmp_path, monkeypatch):
    """A data set given as an .npz is part of the key (its content hash) and copied to
    OUT/inputs; the design reads the copy, with the split and scaling the sweep used."""
    from spinbase.data import load_digits
    from spintwin.explore_design import write_point_design

    (x_tr, y_tr), (x_te, y_te) = load_digits()
    data = mlp / "data"
    data.mkdir(exist_ok=True)
    np.savez(data / "d.npz", x=np.concatenate([x_tr, x_te]), y=np.concatenate([y_tr, y_te]))
    space = mlp / "npz_space.toml"
    space.write_text('[base]\nnetwork = "nets/m.nir"\ndataset = "data/d.npz"\nimages = 20\n')
    (p,) = load_space(space, {})
    assert p["dataset"] == str((data / "d.npz").resolve()) and p["dataset_hash"].startswith("sha256:")
    k = point_key(_keyed(p))
    out = tmp_path / "out"
    toml, note = write_point_design(_keyed(p), k, "npz", out)
    monkeypatch.chdir(tmp_path)
    d = _design(out / toml)
    assert d.cfg == quant_config(p) and Path(d.dataset).parent == (out / "inputs").resolve()
    assert (Path(d.dataset).read_bytes() == (data / "d.npz").read_bytes())
    for a, b in zip(dataset_split(p), dataset_split({"dataset": d.dataset})):
        assert np.array_equal(a, b)


def test_a_macrospin_point_writes_its_twin_table(tmp_path):
    from spintwin.config import load_config
    from spintwin.explore_design import write_point_design

    space = tmp_path / "s.toml"
    space.write_text("[macrospin]\ntrials = 10\n[macrospin.axes]\nnoise_uniform_bits = [3, 5]\nlanes = [2]\n")
    pts = load_space(space, load_config())
    assert len(pts) == 2
    for p in pts:
        toml, note = write_point_design(_keyed(p), point_key(_keyed(p)), "m", tmp_path)
        twin = load_config(tmp_path / toml)["twin"]["macrospin"]
        assert twin == {k: p[k] for k in twin}          # every key of the table is the point's
        assert (twin["noise_uniform_bits"], twin["lanes"]) == (p["noise_uniform_bits"], 2)
