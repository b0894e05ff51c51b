"""spintwin.suite: the seed's six-problem system-level suite (section V.3, Fig. 11) on tiny
problems: the JSON fields, the counts against the topology, resume, the configs and the CLI."""

import json

import numpy as np
import pytest

from spinbase.errors import SpintwinError
from spintwin import suite

TINY = """
[[problem]]
name = "iris"
title = "IRIS"
dataset = "iris"
transform = "none"
data_source = "iris (scikit-learn)"
hidden = [8]
classes = 3
epochs = 250
lr = 1e-2
batch = 32
train_samples = 0
steps = 30
input_rate = 1.0
why = "tiny"

[[problem]]
name = "faces"
title = "faces stand-in"
dataset = "digits"
transform = "upsample4"
data_source = "digits upsampled 4x"
hidden = [16]
classes = 15
epochs = 2
lr = 1e-3
batch = 64
train_samples = 400
steps = 20
input_rate = 1.0
why = "tiny"
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("suite")
    cfg = d / "tiny.toml"
    cfg.write_text(TINY)
    rows = suite.run_suite(d / "out", 12, config=cfg, echo=lambda *_: None)
    return d, cfg, rows


def test_suite_json_fields_and_counts(tiny):
    """suite.json is the list of rows with the issue's fields; synapses and neurons are the
    topology's (iris 4-8-3: 4 x 8 + 8 x 3 = 56 synapses, 11 neurons; faces 1024-16-15: 16 624 and
    31); the ratios are the quotients of the reported energies and latencies."""
    d, _, rows = tiny
    on_disk = json.loads((d / "out" / "suite.json").read_text())
    assert [r["name"] for r in on_disk] == ["iris", "faces"]
    for key in ("name", "data_source", "synapses", "neurons", "acc_float", "acc_twin", "acc_cmos", "energy_spin_J",
                "energy_cmos_J", "latency_spin_s", "latency_cmos_s", "cmos_profile"):
        assert all(key in r for r in on_disk), key
    iris, faces = on_disk
    assert (iris["synapses"], iris["neurons"], iris["topology"]) == (56, 11, "4-8-3")
    assert (faces["synapses"], faces["neurons"], faces["topology"]) == (1024 * 16 + 16 * 15, 31, "1024-16-15")
    assert iris["inputs"] == 12 and faces["inputs"] == 12
    for r in on_disk:
        assert r["energy_ratio"] == pytest.approx(r["energy_cmos_J"] / r["energy_spin_J"])
        assert r["latency_ratio"] == pytest.approx(r["latency_cmos_s"] / r["latency_spin_s"])
        assert 0 <= r["acc_twin"] <= 1 and 0 <= r["acc_cmos"] <= 1
        shares = r["cmos_profile"]["shares"]
        assert sum(shares[k] for k in ("memory_access", "leakage", "compute")) == pytest.approx(1.0)
        # the tiled latency at one slot: (steps + layers - 1) steps of 2 ns write + 0.5 ns sense + 2 ns reset
        assert r["tiles"]["slots"] == 1
        assert r["latency_spin_s"] == pytest.approx((r["steps"] + 1) * 4.5e-9)
    # 1024-16-15: 32 x 1 + 1 x 1 = 33 weight tiles
    assert faces["tiles"]["weight_tiles"] == 33
    # a trained 4-8-3 iris net separates the classes (> 0.95 per golden.mlp); 12 inputs: >= 10 right
    assert iris["acc_float"] >= 10 / 12
    for name in ("fig11a_profile.png", "fig11b_energy.png", "fig11c_speedup.png"):
        assert (d / "out" / name).stat().st_size > 1000


def test_resume_reuses_finished_problems(tiny, monkeypatch):
    """A rerun with the same settings runs nothing (run_problem would raise) and writes the same
    rows; another --inputs reruns the problems but reuses the cached trained weights."""
    d, cfg, rows = tiny

    def boom(*a, **k):
        raise AssertionError("a finished problem was run again")

    with monkeypatch.context() as m:
        m.setattr(suite, "run_problem", boom)
        again = suite.run_suite(d / "out", 12, config=cfg, echo=lambda *_: None, plots=False)
    assert json.dumps(again, sort_keys=True) == json.dumps(rows, sort_keys=True)
    other = suite.run_suite(d / "out", 6, config=cfg, problems=["iris"], echo=lambda *_: None, plots=False)
    assert other[0]["inputs"] == 6 and other[0]["training"]["cached"] is True


def test_transforms_keep_the_data():
    """upsample4: each pixel becomes a 4 x 4 block; pad32rgb: 28 x 28 in the middle of 32 x 32, three
    equal channels."""
    x = np.random.default_rng(0).random((3, 8, 8)).astype(np.float32)
    u = suite.TRANSFORMS["upsample4"](x)
    assert u.shape == (3, 32, 32) and np.array_equal(u[:, ::4, ::4], x) and np.array_equal(u[:, 3::4, 3::4], x)
    m = np.random.default_rng(1).random((2, 28, 28)).astype(np.float32)
    p = suite.TRANSFORMS["pad32rgb"](m)
    assert p.shape == (2, 32, 32, 3)
    for c in range(3):
        assert np.array_equal(p[:, 2:30, 2:30, c], m)
    assert p[:, :2].sum() == 0 and p[:, 30:].sum() == 0


def test_configured_suite_spans_the_seed_range():
    """configs/suite.toml: the six problems, IRIS at the seed's lower end (195 neurons, ~10k
    synapses: 4 x 64 + 64 x 128 + 128 x 3 = 8832) and the largest at <= 7.4M synapses, > 7M."""
    specs = suite.load_problems()
    assert [s["name"] for s in specs] == ["iris", "adult", "yale", "mnist", "cifar10", "svhn"]
    inputs = {"iris": 4, "adult": 30, "yale": 1024, "mnist": 784, "cifar10": 3072, "svhn": 3072}
    counts = {}
    for s in specs:
        dims = [inputs[s["name"]], *s["hidden"], s["classes"]]
        counts[s["name"]] = (sum(a * b for a, b in zip(dims[:-1], dims[1:])), sum(dims[1:]))
    assert counts["iris"] == (8832, 195)
    assert 7.0e6 < max(c[0] for c in counts.values()) <= 7.4e6
    assert all("not shipped" in s["data_source"] for s in specs if s["name"] in ("adult", "yale", "cifar10", "svhn"))


def test_bad_configs_are_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace('transform = "none"', 'transform = "rotate"', 1))
    with pytest.raises(SpintwinError, match="transform must be one of"):
        suite.load_problems(bad)
    bad.write_text(TINY.replace("classes = 3", "", 1))
    with pytest.raises(SpintwinError, match="lacks classes"):
        suite.load_problems(bad)
    with pytest.raises(SpintwinError, match="not in the suite"):
        suite.load_problems(None, ["nope"])


def test_cli_suite_bad_problem_exits_2(tmp_path, capsys):
    from spintwin.cli import main

    assert main(["suite", "--out", str(tmp_path / "o"), "--problems", "nope"]) == 2
    assert "not in the suite" in capsys.readouterr().err


def test_bench_suite_table_and_verdicts(tiny):
    """bench.suite on the finished tiny suite (reused, no rerun): one table row per problem plus the
    seed's row; the verdict counts ratios inside the seed's band (100 and 500 against 204-2759: one
    inside, overlapping, not reproduced; 300 and 2000: both inside, reproduced; 5 and 50: refuted)."""
    from bench import suite as bench_suite

    d, cfg, rows = tiny
    r = bench_suite.run(12, work=d / "out", config=cfg, rtl_inputs=0)   # the RTL part: test_suite_rtl_*
    assert [x["name"] for x in r["rows"]] == ["iris", "faces"]
    md = bench_suite.markdown(r)
    assert md.count("\n| IRIS |") == 1 and md.count("\n| faces stand-in |") == 1
    assert "| **seed (Ref. 129)** |" in md and "204-2759x" in md and "3-665x" in md
    v = bench_suite._verdict([100.0, 500.0], (204.0, 2759.0))
    assert (v["inside"], v["overlaps"], v["reproduced"]) == (1, True, False)
    v = bench_suite._verdict([300.0, 2000.0], (204.0, 2759.0))
    assert (v["inside"], v["reproduced"]) == (2, True)
    v = bench_suite._verdict([5.0, 50.0], (204.0, 2759.0))
    assert (v["inside"], v["overlaps"]) == (0, False)


def test_bench_sensitivity_by_hand():
    """The chip size that brings the speed-up to 665x: a CMOS latency of 665 x 101 steps x (4 x 2 ns
    write + 0.5 ns sense + 2 ns reset) allows 4 write slots per step, so 40 evaluations need
    ceil(40 / 4) = 10 tiles; a CMOS latency below 665 x one slot gives None. Pipelined SRAM:
    compute cycles / 1 GHz over the spin latency."""
    from bench import suite as bench_suite

    lat = 665 * 101 * (4 * 2e-9 + 0.5e-9 + 2e-9)
    row = {"name": "x", "steps": 100, "tiles": {"per_layer": [{}, {}], "evaluations": 40}, "latency_cmos_s": lat,
           "latency_spin_s": 1e-6, "cmos_cycles": {"compute_cycles": 5000.0}}
    s = bench_suite._sensitivity([row], 665.0)["x"]
    assert s["chip_tiles_for_seed_top_speedup"] == 10
    assert s["speedup_pipelined_sram"] == pytest.approx(5000 / 1e9 / 1e-6)
    row["latency_cmos_s"] = 665 * 101 * 4e-9
    assert bench_suite._sensitivity([row], 665.0)["x"]["chip_tiles_for_seed_top_speedup"] is None


# The suite through the RTL core (spintwin.suite_rtl) ---------------------------------------------
def _mlp_desc(widths, rng):
    from golden import network as nw

    n = nw.Neuron("if", 1.0, "subtract", 0.0, None, "dw")
    layers, fan_in = [nw.Flatten("f")], widths[0]
    for j, w in enumerate(widths[1:]):
        layers.append(nw.Dense(f"d{j}", rng.normal(0, 0.3, (w, fan_in)), neuron=n))
        fan_in = w
    return nw.Network("mlp", nw.Input(1, 1, widths[0]), tuple(layers))


def test_core_fit_names_the_limit_it_exceeds():
    """A layer wider than the core's 256 channels is refused naming that layer; memories beyond a
    device (iCE40-UP5K: 30 x 4 kbit block RAM + 5280 LUTs x 16 bit = 202.5 kbit) are refused
    naming the device and the kbit; a small MLP fits (reason None) with its memory counted."""
    from hdl.core_engine import memory_bits
    from spintwin.suite_rtl import core_fit, twin_network

    rng = np.random.default_rng(0)
    spec = {"steps": 10, "input_rate": 1.0}
    wide = twin_network(_mlp_desc([4, 300, 3], rng), spec)
    bits, why = core_fit(wide)
    assert bits is None and why.startswith("the core cannot run it") and "'d0'" in why and "256" in why
    big = twin_network(_mlp_desc([256, 256, 10], rng), spec)          # 256 x 256 x 8 bit = 512 kbit of weights
    bits, why = core_fit(big, "ice40-up5k")
    assert bits == memory_bits(big) and bits > 202.5 * 1024 and "does not fit the ice40-up5k" in why and "kbit" in why
    assert core_fit(big, "ecp5-85f") == (bits, None)


def test_suite_rtl_is_bit_exact_on_the_tiny_iris(tiny):
    """The tiny suite's IRIS MLP through the core on Verilator: bit-exact (the testbench compares
    spikes, counts, prediction and cycles), the RTL's predictions equal the model's and its mean
    cycle count equals quantize.core.cycles_exact's mean; the JSON is written."""
    from spintwin.suite_rtl import run_suite_rtl

    d, cfg, _ = tiny
    rows = run_suite_rtl(d / "out", 2, problems=["iris"], config=cfg, echo=lambda *_: None)
    (row,) = rows
    v = row["verify"]
    assert row["fits"] and v["bit_exact"] and v["inputs"] == 2
    assert v["rtl_pred"] == v["model_pred"]
    assert v["cycles_per_image"] == pytest.approx(np.mean(v["model_cycles"]), abs=1e-9)
    assert json.loads((d / "out" / "suite_rtl.json").read_text())[0]["name"] == "iris"
