"""spintwin.network_report (issue 16 item 6): a design's network on the twin, float against
twin against CMOS baseline. Every number of the report is recomputed here independently, from
the integer model (quantize.snn.run / quantize.core.trace with QuantConfigs written out by
hand), the energy model (golden.energy from the description's shapes) and the float simulator;
and `spintwin demo` on an imported MLP writes the section and the diagram."""

import math

import numpy as np
import pytest

from golden import energy
from golden import network as nw
from quantize import core as qc
from quantize import snn as q
from spintwin import network_report as nr
from spintwin.config import load_config

STEPS, SEED, RATE = 20, 3, 0.75


def _mlp(neuron):
    """A 4-8-3 IF MLP on iris (golden.mlp, 30 epochs, seed 0), normalised at the 99.9th percentile."""
    from golden import mlp
    from spinbase.data import load_dataset

    (x_tr, y_tr), _, _ = load_dataset("iris")
    w, _ = mlp.normalise_mlp(mlp.train_mlp(x_tr, y_tr, (8,), epochs=30, seed=0), x_tr, 99.9)
    return mlp.mlp_network(w, "iris-mlp", (1, 1, 4), neuron)


def _design(tmp_path, network, extra=""):
    nw.save(network, tmp_path / "net.npz")
    path = tmp_path / "design.toml"
    path.write_text(f'[core]\nnetwork = "net.npz"\ndataset = "iris"\nsteps = {STEPS}\nseed = {SEED}\n'
                    f'input_rate = {RATE}\n{extra}')
    return load_config(path), path


@pytest.fixture(scope="module")
def cmos_design(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cmos")
    cfg, path = _design(tmp, _mlp(None))           # CMOS IF neurons: design kind cmos-if
    return cfg, path, nw.load(tmp / "net.npz"), nr.measure(cfg, path, images=24)


def _inputs():
    from spinbase.data import load_dataset

    _, (x, y), _ = load_dataset("iris")
    return x[:24].reshape(24, 1, 1, 4), y[:24]


def test_accuracies_equal_the_models_run_alone(cmos_design):
    """Twin = kind twin-if, CMOS = kind cmos-if on the same description with the design's formats,
    each run by quantize.snn.run on the same 24 test inputs; float = golden.snn.simulate with the
    design's steps, input rate and seed (Poisson input). The standard errors are binomial."""
    from golden.snn import simulate

    _, _, desc, r = cmos_design
    x, y = _inputs()
    assert r["images"] == 24 and r["test_split"] == 30 and r["design_kind"] == "cmos-if"
    for side, kind in (("twin", "twin-if"), ("cmos", "cmos-if")):
        net = q.build_network(desc, q.QuantConfig(kind=kind, steps=STEPS, seed=SEED, input_rate=RATE))
        pred = q.run(net, x)["pred"]
        acc = float(np.mean(pred == y))
        assert r[side]["kind"] == kind
        assert r[side]["accuracy"] == acc and r[side]["pred"] == pred.tolist()
        assert r[side]["accuracy_se"] == pytest.approx(math.sqrt(acc * (1 - acc) / 24), abs=1e-15)
    fl = simulate(desc, x, y, steps=STEPS, encoding="poisson", input_rate=RATE, rng=SEED)
    assert r["float"]["accuracy"] == fl["accuracy"][STEPS]
    assert r["agreement_twin_cmos"] == float(np.mean(np.array(r["twin"]["pred"]) == np.array(r["cmos"]["pred"])))


def test_spikes_cycles_and_energy_equal_the_trace(cmos_design):
    """Spikes per layer = the trace's spike counts / inputs; cycles per image = the mean of
    quantize.core.cycles_exact over the traced inputs (the core's cycle model, exact); energy =
    golden.energy priced from LayerEvents built here from golden.energy.network_shapes and the
    trace's counts (a layer's input spikes are the layer before's outputs; synaptic events =
    input spikes x fan-out). Equal up to float summation order (relative 1e-12)."""
    _, _, desc, r = cmos_design
    x, _ = _inputs()
    shapes = energy.network_shapes(desc)
    for side, kind in (("twin", "twin-if"), ("cmos", "cmos-if")):
        cfg = q.QuantConfig(kind=kind, steps=STEPS, seed=SEED, input_rate=RATE)
        net = q.build_network(desc, cfg)
        items = qc.trace(net, x)
        counts = {k: sum(int(it["spikes"][k].sum()) for it in items) / len(items) for k in items[0]["spikes"]}
        assert counts["fc2"] > 0 and r[side]["spikes_per_input"] == pytest.approx(counts, rel=1e-12)
        cyc = np.mean([qc.cycles_exact(qc.core_layers(net), it) for it in items])
        assert r[side]["cycles_per_image"] == pytest.approx(cyc, rel=1e-12)
        layers, prev = [], "input"
        for name, (inputs, neurons, fan_in, weights) in shapes.items():
            layers.append(energy.LayerEvents(name, inputs, neurons, fan_in, weights, counts[prev],
                                             counts[prev] * neurons * fan_in / inputs, float(neurons * STEPS),
                                             counts[name]))
            prev = name
        ev = energy.NetworkEvents(layers, STEPS)
        want = (energy.spin_energy(ev, energy.dw_spin_config()) if side == "twin"
                else energy.cmos_energy(ev, energy.CmosConfig(weight_bits=8, state_bits=16))).total
        assert r[side]["energy_J"] == pytest.approx(want, rel=1e-12)
    assert r["energy_ratio"] == pytest.approx(r["cmos"]["energy_J"] / r["twin"]["energy_J"], rel=1e-12)


def test_markdown_states_the_split_and_the_numbers(cmos_design):
    _, _, _, r = cmos_design
    md = nr.markdown(r)
    assert "first 24 of the 30 test inputs" in md and "stratified 80/20" in md
    assert f"{r['twin']['accuracy']:.3f} +- {r['twin']['accuracy_se']:.3f}" in md
    assert f"{r['cmos']['energy_J'] * 1e9:.3g} nJ" in md and f"{r['twin']['cycles_per_image']:,.0f}" in md
    bias = " +b" if nw.load(r["network"])["fc1"].bias is not None else ""
    assert f"| fc1 | dense 8{bias} | 8 | IF, CMOS | {r['float']['spikes_per_input']['fc1']:,.1f} |" in md
    assert "synthesis not run" in md
    syn = {"target": "ecp5-85f", "lut": 123, "ff": 45, "dsp": 1, "bram": 2, "fmax_mhz": 50.5, "fits": True,
           "images_per_s_at_fmax": 9876.0}
    assert "| 123 | 45 | 1 | 2 | 50.5 | True | 9,876 |" in nr.markdown(r, synthesis=syn)


def test_a_pbit_network_has_no_cmos_baseline(tmp_path):
    """p-bit MTJ neurons (twin-stochastic) have no CMOS IF counterpart: the report says so; the
    twin's accuracy is still its integer model's."""
    desc = _mlp(nw.Neuron("pbit", 1.0, "subtract", 0.0, None, "mtj"))
    cfg, path = _design(tmp_path, desc)
    r = nr.measure(cfg, path, images=10)
    x, y = _inputs()
    net = q.build_network(desc, q.QuantConfig(kind="twin-stochastic", steps=STEPS, seed=SEED, input_rate=RATE))
    assert r["twin"]["accuracy"] == float(np.mean(q.run(net, x[:10])["pred"] == y[:10]))
    assert r["cmos"] is None and "p-bit" in r["no_cmos"]
    assert "no CMOS baseline: its p-bit neurons" in nr.markdown(r)


def test_layer_diagram_of_a_cnn(tmp_path):
    """One box per layer (and the input): the PNG exists and its width grows with the layers."""
    from PIL import Image

    rng = np.random.default_rng(0)
    nrn = nw.Neuron("if", 1.0, "position", 0.5, None, "dw")
    cnn = nw.Network("small-cnn", nw.Input(8, 8, 1), (
        nw.Conv2d("c1", rng.normal(size=(4, 1, 3, 3)), padding=1, neuron=nrn), nw.Pool2d("p1", 2, neuron=nrn),
        nw.Conv2d("c2", rng.normal(size=(8, 4, 3, 3)), padding=1, neuron=nrn), nw.Pool2d("p2", 2),
        nw.Flatten("flat"), nw.Dense("fc", rng.normal(size=(10, 32)), neuron=nrn)))
    big = nr.draw_network(cnn, tmp_path / "cnn.png")
    small = nr.draw_network(_mlp(None), tmp_path / "mlp.png")
    wb, ws = Image.open(big).size[0], Image.open(small).size[0]
    assert wb > ws > 0
    assert nr.neuron_label(nrn) == "IF, DW, reset to 0.5" and nr.neuron_label(None) == "linear"


def test_is_user_design():
    cfg = load_config()
    assert not nr.is_user_design(cfg)                     # the default demo keeps network 1 on MNIST
    assert nr.is_user_design({"core": {"network": "m.nir"}})
    assert nr.is_user_design({"core": {"network": "cnn-if", "dataset": "digits"}})
    assert not nr.is_user_design({"core": {"network": "cnn-if", "dataset": "mnist"}})


def test_demo_on_an_imported_mlp_writes_the_section_and_the_diagram(tmp_path, capsys, monkeypatch):
    """train -> import -> demo (the network stages alone: ``run_demo(devices=False)``, no
    co-simulation, no synthesis): report.md has the section with the diagram, the PNG exists,
    the HTML embeds it, and demo.json holds the same accuracies as network_report.measure."""
    from spintwin import demo
    from spintwin.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "iris", "--hidden", "6", "--epochs", "30", "--out", "m.nir"]) == 0
    assert main(["import", "m.nir", "--out", "d.toml"]) == 0
    with open("d.toml", "a") as f:
        f.write('steps = 16\n[demo.system]\ncosim_images = 0\nsynth_target = "none"\nimages = 12\n')
    capsys.readouterr()
    cfg = load_config("d.toml")
    res = demo.run_demo(cfg, "out", "d.toml", echo=lambda s: None, devices=False)
    md = (tmp_path / "out" / "report.md").read_text()
    assert "## Your network on the twin: m on iris" in md and "![layer diagram](network_layers.png)" in md
    assert "first 12 of the 30 test inputs" in md and "## Verilog and bit-exact co-simulation" in md
    png = (tmp_path / "out" / "network_layers.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "data:image/png;base64" in (tmp_path / "out" / "report.html").read_text()
    assert (tmp_path / "out" / "rtl" / "snn_core.v").is_file()
    again = nr.measure(cfg, "d.toml", images=12)
    for side in ("float", "twin", "cmos"):
        assert res["network"][side]["accuracy"] == again[side]["accuracy"]


def test_bench_row_of_a_user_network(tmp_path):
    """bench.user_networks on the iris MLP, without synthesis: the user's path (train -> NIR ->
    import) gives a design run on the twin as twin-if; the row's accuracies are
    network_report.measure's, the CMOS side is cmos-if, and the table shows the row."""
    from bench import user_networks as un

    design, facts = un._design("iris-mlp", tmp_path)
    assert 'kind = "twin-if"' in design.read_text() and facts["epochs"] == 60
    cfg = load_config(design)
    row = un._row("iris", cfg, design, None, None)
    r = nr.measure(cfg, design)
    assert row["images"] == 30 and row["core_kind"] == "twin-if" and row["kinds"]["cmos"] == "cmos-if"
    assert row["accuracy"] == {k: r[k]["accuracy"] for k in ("float", "twin", "cmos")}
    assert row["cycles_per_image"] == r["twin"]["cycles_per_image"] and row["images_per_s"] is None
    md = un.markdown({"target": "ecp5-85f", "mnist_images": 200, "rows": [row]})
    assert f"| iris | iris (30) | {r['float']['accuracy'] * 100:.1f} |" in md and "not synthesised" in md
