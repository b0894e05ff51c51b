"""`spintwin import | export | train` and networks as files in [core] (issue 16's CLI side):
export a built-in, import it back, generate the design it writes; one-line refusals (exit 2)
for a node NIR cannot map, a network the RTL core cannot run, a data set that does not fit."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spintwin.blocks  # noqa: F401  (the registry before block_core: block_core imported alone is a cycle)
from golden import network as nw
from spintwin.cli import main


def _one_line(capsys, code, *needles):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("spintwin: error: ") and all(n in lines[0] for n in needles), lines[0]
    return lines[0]


def _same(a: nw.Network, b: nw.Network):
    assert a.header()["layers"] == b.header()["layers"] and a.input.shape == b.input.shape
    for la, lb in zip(a.layers, b.layers):
        for f in ("weight", "bias"):
            x, y = getattr(la, f, None), getattr(lb, f, None)
            assert (x is None) == (y is None) and (x is None or np.array_equal(x, y)), (la.name, f)


def test_export_import_generate_a_builtin(tmp_path, capsys):
    """cnn-if -> NIR -> design TOML + .npz: the same description, and the design built from the
    file (with cnn-if's own formats) is the built-in's Verilog byte for byte."""
    nir_file = tmp_path / "cnn-if.nir"
    assert main(["export", "--network", "cnn-if", "--out", str(nir_file)]) == 0
    assert main(["import", str(nir_file), "--out", str(tmp_path / "d" / "design.toml")]) == 0
    printed = capsys.readouterr().out
    assert "conv1: IF node" in printed and "membrane LSBs" in printed      # the per-layer report
    _same(nw.builtin("cnn-if"), nw.load(tmp_path / "d" / "design.npz"))
    design = (tmp_path / "d" / "design.toml").read_text()
    assert 'network = "design.npz"' in design and 'dataset = "mnist"' in design
    # the built-in's formats (block_core._NETWORK_DEFAULTS): a file network takes QuantConfig's defaults
    (tmp_path / "d" / "design.toml").write_text(design + "steps = 100\ninput_rate = 0.5\n")
    assert main(["generate", "core", "--config", str(tmp_path / "d" / "design.toml"), "--no-lint",
                 "--out", str(tmp_path / "rtl")]) == 0
    assert main(["generate", "core", "--network", "cnn-if", "--no-lint", "--out", str(tmp_path / "ref")]) == 0
    assert (tmp_path / "rtl" / "snn_core.v").read_bytes() == (tmp_path / "ref" / "snn_core.v").read_bytes()
    m = json.loads((tmp_path / "rtl" / "snn_core.manifest.json").read_text())
    assert m["network"] == str((tmp_path / "d" / "design.npz").resolve()) and m["kind"] == "twin-if"
    assert m["dataset"] == "mnist" and m["dataset_record"]["test"] == 10000


def _cuba_nir(path):
    import nir

    n = 3
    graph = nir.NIRGraph(nodes={
        "input": nir.Input(input_type={"input": np.array([4])}),
        "fc": nir.Affine(weight=np.ones((n, 4)), bias=np.zeros(n)),
        "syn": nir.CubaLIF(tau_syn=np.ones(n), tau_mem=np.ones(n), r=np.ones(n), v_leak=np.zeros(n),
                           v_threshold=np.ones(n)),
        "output": nir.Output(output_type={"output": np.array([n])}),
    }, edges=[("input", "fc"), ("fc", "syn"), ("syn", "output")], type_check=False)
    nir.write(str(path), graph)
    return path


def test_a_node_nir_cannot_map_is_one_line(tmp_path, capsys):
    model = _cuba_nir(tmp_path / "cuba.nir")
    code = main(["import", str(model), "--out", str(tmp_path / "o" / "design.toml")])
    _one_line(capsys, code, "'syn'", "CubaLIF")
    assert not (tmp_path / "o" / "design.toml").exists() and not (tmp_path / "o" / "design.npz").exists()
    # ... and the same file given as the core's network
    code = main(["generate", "core", "--network", str(model), "--no-lint", "--out", str(tmp_path / "rtl")])
    _one_line(capsys, code, "'syn'", "CubaLIF")


def _strided(path):
    cmos = nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos")
    rng = np.random.default_rng(0)
    net = nw.Network("strided", nw.Input(8, 8, 1), (
        nw.Conv2d("c1", rng.normal(size=(4, 1, 3, 3)), stride=2, neuron=cmos),
        nw.Flatten("flat"),
        nw.Dense("fc", rng.normal(size=(10, 36)), neuron=cmos)))
    return nw.save(net, path)


def test_a_network_the_core_cannot_run_is_one_line(tmp_path, capsys):
    """hdl/quantize refuse a stride-2 convolution naming the layer: generate says that, exit 2."""
    net = _strided(tmp_path / "strided.npz")
    code = main(["generate", "core", "--network", str(net), "--no-lint", "--out", str(tmp_path / "rtl")])
    _one_line(capsys, code, "'c1'", "stride")
    assert not (tmp_path / "rtl" / "snn_core.v").exists()
    design = tmp_path / "strided.toml"
    design.write_text('[core]\nnetwork = "strided.npz"\ndataset = "digits"\n')
    code = main(["verify", "core", "--config", str(design), "--images", "1"])
    _one_line(capsys, code, "'c1'", "stride")


def test_train_import_generate_on_iris(tmp_path, capsys):
    model = tmp_path / "iris.nir"
    assert main(["train", "--dataset", "iris", "--hidden", "8", "--epochs", "40", "--out", str(model)]) == 0
    out = capsys.readouterr().out
    acc = float(out.split("float accuracy ")[1].split()[0])
    assert 1 / 3 < acc <= 1 and "4-8-3 MLP on iris" in out     # better than chance on 3 balanced classes
    assert main(["import", str(model), "--out", str(tmp_path / "iris.toml")]) == 0
    capsys.readouterr()
    assert 'dataset = "iris"' in (tmp_path / "iris.toml").read_text()
    assert main(["generate", "core", "--config", str(tmp_path / "iris.toml"), "--no-lint",
                 "--out", str(tmp_path / "rtl")]) == 0
    m = json.loads((tmp_path / "rtl" / "snn_core.manifest.json").read_text())
    assert m["kind"] == "cmos-if" and m["dataset"] == "iris" and m["dataset_record"]["sample_shape"] == [1, 1, 4]
    assert [L["columns"] for L in m["layers"]] == [8, 3]
    # the same network on a data set it does not fit: one line naming the key, before any work
    bad = tmp_path / "bad.toml"
    bad.write_text('[core]\nnetwork = "iris.npz"\ndataset = "digits"\n')
    code = main(["generate", "core", "--config", str(bad), "--no-lint", "--out", str(tmp_path / "rtl2")])
    _one_line(capsys, code, str(bad), "'core.dataset'", "digits", "1 x 1 x 4")
    assert not (tmp_path / "rtl2").exists()


def test_a_users_npz_data_set_travels_relative_to_the_design(tmp_path, monkeypatch, capsys):
    """train and import with --dataset FILE.npz: the design names the file relative to itself, and
    generate from another working directory finds it (manifest: its split and scaling)."""
    rng = np.random.default_rng(1)
    y = np.arange(60) % 3
    np.savez(tmp_path / "feat.npz", x=rng.normal(size=(60, 5)) + y[:, None] * 2.0, y=y)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "feat.npz", "--hidden", "6", "--epochs", "30", "--out", "f.nir"]) == 0
    assert main(["import", "f.nir", "--dataset", "feat.npz", "--out", "sub/f.toml"]) == 0
    capsys.readouterr()
    assert 'dataset = "../feat.npz"' in (tmp_path / "sub" / "f.toml").read_text()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["generate", "core", "--config", "../sub/f.toml", "--no-lint", "--out", "rtl"]) == 0
    m = json.loads((tmp_path / "elsewhere" / "rtl" / "snn_core.manifest.json").read_text())
    rec = m["dataset_record"]
    assert m["dataset"] == str(tmp_path / "feat.npz") and rec["sample_shape"] == [1, 1, 5]
    assert rec["train"] + rec["test"] == 60 and rec["scaling"]["mode"] == "feature"


@pytest.mark.parametrize("args, needles", [
    (["export", "--network", "lenet", "--out", "m.nir"], ["--network", "lenet"]),
    (["export", "--network", "missing.npz", "--out", "m.nir"], ["missing.npz"]),
    (["export", "--network", "junk.npz", "--out", "m.nir"], ["junk.npz", "not a network file"]),
    (["export", "--network", "cnn-if", "--out", "m.txt"], ["--out", ".nir"]),
    (["import", "missing.nir", "--out", "d.toml"], ["missing.nir", "no such NIR file"]),
    (["import", "junk.npz", "--out", "d.toml"], ["junk.npz", "not a NIR file"]),
    (["import", "junk.npz", "--out", "d.v"], ["--out", ".toml or .npz"]),
    (["train", "--dataset", "cifar", "--out", "m.nir"], ["cifar"]),
    (["train", "--dataset", "iris", "--hidden", "0", "--out", "m.nir"], ["--hidden"]),
    (["train", "--dataset", "iris", "--hidden", "300", "--out", "m.nir"], ["--hidden", "1..256"]),
    (["generate", "core", "--network", "junk.npz", "--no-lint"], ["junk.npz", "not a network file"]),
    (["generate", "macrospin", "--network", "net.nir", "--no-lint"], ["net.nir", "core"]),
])
def test_user_errors_are_one_line(tmp_path, monkeypatch, capsys, args, needles):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really")
    (tmp_path / "net.nir").write_bytes(b"")
    before = sorted(p.name for p in tmp_path.iterdir())
    try:
        code = main(args)
    except SystemExit as e:      # argparse's own errors exit from parse_args
        code = e.code
    _one_line(capsys, code, *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_trained_digits_mlp_verifies_bit_exact_through_the_cli(tmp_path, capsys):
    """train -> import -> verify core --config: the RTL's decisions on digits test images are the
    integer model's (checked spike for spike by the testbench); ~25 s (a Verilator build).
    (iris / wine, 1 x 1 x F inputs, do not build on Verilator yet: zero-width row/column counters.)"""
    from boards.tools import simulator_available

    if not simulator_available("verilator")[0]:
        pytest.skip("verilator not usable here")
    from quantize.snn import run
    from spinbase.data import load_dataset
    from spintwin.block_core import CoreDesign, core_network, core_quant_config
    from spintwin.config import load_config

    assert main(["train", "--dataset", "digits", "--hidden", "16", "--epochs", "20", "--out",
                 str(tmp_path / "d.nir")]) == 0
    assert main(["import", str(tmp_path / "d.nir"), "--out", str(tmp_path / "d.toml")]) == 0
    with open(tmp_path / "d.toml", "a") as f:
        f.write("steps = 10\n")
    capsys.readouterr()
    assert main(["verify", "core", "--config", str(tmp_path / "d.toml"), "--images", "3"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["bit_exact"] and res["images"] == 3 and res["steps"] == 10
    path = tmp_path / "d.toml"
    net = core_network(CoreDesign(*core_quant_config(load_config(path)["core"], path=path)))
    x = load_dataset("digits")[1][0][:3]
    assert [int(p) for p in run(net, x)["pred"]] == res["rtl_pred"]
