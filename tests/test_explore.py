"""`spintwin explore`: space files, caching and resumption, failures, Dask, Pareto fronts and the
numerical profile (spintwin/explore.py, explore_eval.py, explore_profile.py).

Sweeps here run the real bit-accurate models on a handful of MNIST images and a few time
steps (the metrics are not judged, only their bookkeeping); synthesis is mocked except in the
long test.
"""

import argparse
import json
import textwrap

import numpy as np
import pytest

from spintwin import explore, explore_eval
from spinbase.errors import SpintwinError
from spintwin.explore import load_space, pareto_front, point_key, run_explore
from spintwin.explore_profile import histogram_percentile, profile_network

SPACE = """
[base]
images = 4
profile_images = 1
steps = 5
synth = false

[axes]
kind = ["twin-if", "cmos-if"]
levels = [4, 16]
weight_bits = [4]
"""


def _space(tmp_path, text=SPACE, name="space.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


@pytest.fixture
def counted(monkeypatch):
    """evaluate_point wrapped with a call counter; ``hook(point, n)`` may raise before a call."""
    real = explore_eval.evaluate_point
    state = {"calls": 0, "hook": None}

    def wrapper(point, **kw):
        state["calls"] += 1
        if state["hook"]:
            state["hook"](point, state["calls"])
        return real(point, **kw)

    monkeypatch.setattr(explore_eval, "evaluate_point", wrapper)
    return state


def _metrics(out_dir) -> dict:
    rows = json.loads((out_dir / "results.json").read_text())
    return {r["id"]: (r["status"], r["accuracy"], r["energy_J"], r["cycles_per_image"]) for r in rows}


# Space files ---------------------------------------------------------------------------------------
def test_space_product_drops_unused_fields_and_duplicates(tmp_path):
    pts = load_space(_space(tmp_path), {})
    # twin-if x levels {4, 16}; cmos-if ignores levels, so its two products are one point
    assert sorted((p["kind"], p.get("levels"), p.get("weight_bits")) for p in pts) == [
        ("cmos-if", None, 4), ("twin-if", 4, None), ("twin-if", 16, None)]
    assert len({point_key({k: v for k, v in p.items() if k != "axes"}) for p in pts}) == 3
    twin = next(p for p in pts if p["kind"] == "twin-if")
    assert twin["input_rate"] == 0.5 and twin["steps"] == 5          # quantize.trained.KIND_DEFAULTS, then [base]
    assert twin["membrane_frac"] == 8 and twin["images"] == 4 and twin["profile_images"] == 1


@pytest.mark.parametrize("text, needle", [
    ("[base]\nimages = 0\n", "'base.images' must be an integer in 1..10000, not 0"),
    ("[base]\nbogus = 1\n", "unknown key 'base.bogus'"),
    ("[axes]\nlevels = 4\n", "'axes.levels' must be a non-empty list of values, not 4"),
    ("[axes]\nkind = ['twin-if', 'tpu']\n", "'axes.kind' must be one of twin-if, cmos-if, twin-stochastic, not 'tpu'"),
    ("[axes]\nmembrane_bits = [8]\nmembrane_frac = [7]\n", "membrane_frac must be in 0..membrane_bits-2 = 6, not 7"),
    ("[axes]\nlevels = [1]\n", "QuantConfig.levels must be an integer in 2..256, not 1"),
    ("[macrospin.axes]\nlanes = [0]\n", "'macrospin.axes.lanes' must be an integer in 1..64, not 0"),
    ("[macrospin]\ntrials = -3\n", "'macrospin.trials' must be an integer in 1..100000, not -3"),
    ("[macrospin.axes]\nm_format = [[12, 11]]\n", "macrospin point m_format=[12, 11]"),
    ("[axes\n", "not valid TOML"),
    ("[nets]\n", "unknown table 'nets'"),
])
def test_bad_space_is_one_line_naming_file_key_value(tmp_path, text, needle):
    from spintwin.config import load_config

    path = _space(tmp_path, text)
    with pytest.raises(SpintwinError) as e:
        load_space(path, load_config())
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg and needle in msg, msg


def test_missing_space_file_through_run_explore(tmp_path):
    with pytest.raises(SpintwinError, match=r"space .*nope\.toml: file not found"):
        run_explore(None, tmp_path / "nope.toml", tmp_path / "out", workers=1, echo=lambda s: None)


# Pareto --------------------------------------------------------------------------------------------
def test_pareto_front_hand_made():
    # cost (lower better), value (higher better)
    cost = [1, 2, 2, 3, 4, 5, 5, np.nan, 0.5]
    value = [0.5, 0.7, 0.6, 0.7, 0.9, 0.9, 0.95, 1.0, 0.2]
    # 8 (0.5, 0.2) cheapest; 0 (1, 0.5); 1 (2, 0.7) dominates 2 and 3; 4 (4, 0.9) dominates 5;
    # 6 (5, 0.95) best value; 7 has no cost (NaN): never on the front
    assert pareto_front(cost, value).tolist() == [8, 0, 1, 4, 6]
    # identical points are both kept; a tie in cost keeps only the better value
    assert pareto_front([1, 1, 1], [0.5, 0.5, 0.4]).tolist() == [0, 1]
    with pytest.raises(ValueError, match="cost and value"):
        pareto_front([1, 2], [1])


# Profiling -----------------------------------------------------------------------------------------
def test_histogram_percentile_is_numpy_inverted_cdf():
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 1000):
        x = rng.integers(-50, 50, n)
        v, c = np.unique(x, return_counts=True)
        for q in (0, 0.1, 1, 25, 50, 99, 99.9, 100):
            assert histogram_percentile(v, c, q) == np.percentile(x, q, method="inverted_cdf"), (n, q)


def _direct_layer1(net, x):
    """conv1's accumulators, inputs and pre-clamp membranes computed directly, step by step."""
    from quantize.snn import _windows, encode, layer_input

    layer = net.layers[0]
    s_in = encode(net.cfg, x)
    acc, y_all, v_all, v = [], [], [], 0
    for t in range(net.cfg.steps):
        s = s_in[t][..., None]
        rows = _windows(layer, s)
        acc.append((rows @ layer.k).astype(np.int64).ravel())       # conv1 fits in one 32-row tile
        y = layer_input(net, layer, s).reshape(len(x), 24, 24, 6)
        y_all.append(y.ravel())
        raw = v + y
        v_all.append(np.asarray(raw).ravel())
        lo = net.floor if net.floor is not None else -net.vmax - 1
        clipped = np.clip(raw, lo, net.vmax)
        fire = clipped >= net.threshold
        v = clipped - fire * net.threshold if net.cfg.kind == "cmos-if" else np.where(fire, 0, clipped)
    return {"accumulator": np.concatenate(acc), "pre-activation": np.concatenate(y_all),
            "membrane": np.concatenate(v_all)}


@pytest.mark.parametrize("kind, membrane_bits, membrane_frac", [("twin-if", 16, 8), ("cmos-if", 6, 3)])
def test_profile_ranges_equal_direct_computation(kind, membrane_bits, membrane_frac):
    from hdl.crossbar import tile_widths
    from quantize.snn import run
    from spinbase.data import load_mnist

    point = {"kind": kind, "steps": 6, "membrane_bits": membrane_bits, "membrane_frac": membrane_frac,
             "input_rate": 0.5 if kind == "twin-if" else 1.0}
    net = explore_eval.network_for(point)
    _, (xs, _) = load_mnist()
    x = xs[:3]
    prof = profile_network(net, x, batch=2)          # two batches: the merge across batches is exercised
    ref = run(net, x)
    assert np.array_equal(prof["counts"], ref["counts"]) and np.array_equal(prof["membrane"], ref["membrane"])
    direct = _direct_layer1(net, x)
    rows = {(r["layer"], r["quantity"]): r for r in prof["table"]}
    for q, vals in direct.items():
        r = rows["conv1", q]
        assert r["count"] == vals.size and (r["min"], r["max"]) == (vals.min(), vals.max()), q
        for p in (0.1, 1, 50, 99, 99.9):
            assert r[f"p{p:g}"] == np.percentile(vals, p, method="inverted_cdf"), (q, p)
    layer = net.layers[0]
    aw = tile_widths(layer.k, layer.c[0], layer.shift, 1)[1]
    assert (rows["conv1", "accumulator"]["lo"], rows["conv1", "accumulator"]["width"]) == (-(1 << (aw - 1)), aw)
    m = rows["conv1", "membrane"]
    assert (m["lo"], m["hi"]) == (-(1 << (membrane_bits - 1)), (1 << (membrane_bits - 1)) - 1)
    v = direct["membrane"]
    sat = int(((v > m["hi"]) | (v < m["lo"])).sum())
    assert m["saturated"] == sat and (m["flag"] == "saturation") == (sat > 0)
    if kind == "cmos-if":
        assert sat > 0  # a 6-bit membrane (+-4 thresholds) saturates on MNIST: the flag is exercised


def test_profile_stochastic_lut_address():
    from quantize.snn import encode, layer_input, run
    from spinbase.data import load_mnist

    net = explore_eval.network_for({"kind": "twin-stochastic", "steps": 4, "lut_addr_bits": 4})
    _, (xs, _) = load_mnist()
    prof = profile_network(net, xs[:2])
    assert np.array_equal(prof["counts"], run(net, xs[:2])["counts"])
    s_in = encode(net.cfg, xs[:2])
    layer = net.layers[0]
    a = np.concatenate([((layer_input(net, layer, s_in[t][..., None]) >> net.lut_shift) + 8).ravel()
                        for t in range(4)])
    r = next(r for r in prof["table"] if (r["layer"], r["quantity"]) == ("conv1", "lut address"))
    assert (r["min"], r["max"], r["lo"], r["hi"]) == (a.min(), a.max(), 0, 15)
    assert r["saturated"] == int(((a < 0) | (a > 15)).sum())


# Sweeps --------------------------------------------------------------------------------------------
def test_second_run_recomputes_nothing(tmp_path, counted):
    space, out = _space(tmp_path), tmp_path / "out"
    first = run_explore(None, space, out, workers=1, echo=lambda s: None)
    assert (first["points"], first["computed"], first["cached"], counted["calls"]) == (3, 3, 0, 3)
    before = (out / "results.csv").read_text()
    lines = []
    second = run_explore(None, space, out, workers=1, echo=lines.append)
    assert (second["computed"], second["cached"], counted["calls"]) == (0, 3, 3)
    assert "3 cached, 0 to run" in lines[0]
    assert (out / "results.csv").read_text() == before
    for name in ("results.json", "pareto_luts.png", "pareto_energy.png", "profile.csv", "profile.md"):
        assert (out / name).is_file(), name
    assert len(list((out / "profile").glob("*.png"))) == 3
    # --images changes every network point's key: all recomputed
    third = run_explore(None, space, out, workers=1, images=3, echo=lambda s: None)
    assert third["computed"] == 3 and counted["calls"] == 6


def test_interrupted_sweep_resumes_without_loss(tmp_path, counted):
    space = _space(tmp_path)
    ref = run_explore(None, space, tmp_path / "ref", workers=1, echo=lambda s: None)
    assert ref["computed"] == 3

    def stop(point, n):
        if n == 3 + 3:  # the third point of the second sweep: as if killed there
            raise KeyboardInterrupt

    counted["hook"] = stop
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_explore(None, space, out, workers=1, echo=lambda s: None)
    assert len(list((out / "points").glob("*.json"))) == 2
    assert not list((out / "points").glob(".*.tmp"))          # atomic writes leave no partial file
    counted["hook"] = None
    resumed = run_explore(None, space, out, workers=1, echo=lambda s: None)
    assert (resumed["cached"], resumed["computed"]) == (2, 1) and counted["calls"] == 7
    assert _metrics(out) == _metrics(tmp_path / "ref")


def test_failing_point_is_recorded_and_the_sweep_goes_on(tmp_path, counted):
    def fail(point, n):
        if point.get("levels") == 4:
            raise RuntimeError("device model exploded\nsecond line")

    counted["hook"] = fail
    out = tmp_path / "out"
    res = run_explore(None, _space(tmp_path), out, workers=1, echo=lambda s: None)
    assert (res["computed"], res["failed"]) == (3, 1)
    rows = {r["label"]: r for r in json.loads((out / "results.json").read_text())}
    bad = rows["twin-if levels=4"]
    assert bad["status"] == "failed" and bad["error"] == "RuntimeError: device model exploded"
    assert bad["accuracy"] is None
    tb = (out / "points" / f"{bad['id']}.traceback.txt").read_text()
    assert "Traceback" in tb and "device model exploded" in tb
    assert all(r["status"] == "ok" and r["accuracy"] is not None for k, r in rows.items() if k != bad["label"])
    counted["hook"] = None  # the cause is fixed: the next run retries only the failed point
    again = run_explore(None, _space(tmp_path), out, workers=1, echo=lambda s: None)
    assert (again["computed"], again["failed"], again["cached"]) == (1, 0, 2)


def test_local_cluster_equals_local_run(tmp_path):
    """The same sweep in this process and on a dask LocalCluster (in-process workers, to stay
    light) gives identical metrics."""
    from dask.distributed import LocalCluster

    space = _space(tmp_path)
    local = run_explore(None, space, tmp_path / "local", workers=1, echo=lambda s: None)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        lines = []
        dask_res = run_explore(None, space, tmp_path / "dask", scheduler=cluster.scheduler_address, echo=lines.append)
    assert "Dask scheduler" in lines[0]
    assert local["computed"] == dask_res["computed"] == 3
    assert _metrics(tmp_path / "local") == _metrics(tmp_path / "dask")


def test_two_local_processes_equal_the_in_process_run(tmp_path):
    """The default runner: spawned worker processes (each loads MNIST and the weights itself)."""
    space = _space(tmp_path, SPACE.replace('kind = ["twin-if", "cmos-if"]', 'kind = ["cmos-if"]')
                   .replace("weight_bits = [4]", "weight_bits = [3, 4]"))
    lines = []
    pool = run_explore(None, space, tmp_path / "pool", workers=2, echo=lines.append)
    assert "2 local processes" in lines[0] and pool["computed"] == 2
    run_explore(None, space, tmp_path / "here", workers=1, echo=lambda s: None)
    assert _metrics(tmp_path / "pool") == _metrics(tmp_path / "here")


def test_unreachable_scheduler_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(explore, "DASK_TIMEOUT", "1s")
    with pytest.raises(SpintwinError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_explore(None, _space(tmp_path), tmp_path / "out", scheduler="tcp://127.0.0.1:9", echo=lambda s: None)


# Resources and throughput --------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")   # the fake never elaborates
def test_point_resources_adds_blocks_and_takes_the_slowest_clock():
    seen = []

    def fake_synth(component, name, *, target):
        seen.append((type(component).__name__, name, target))
        return {"crossbar": {"lut": 500, "ff": 100, "dsp": 12, "bram": 0, "fmax_mhz": 90.0, "fits": True},
                "neurons": {"lut": 200, "ff": 80, "dsp": 0, "bram": 4, "fmax_mhz": 50.0, "fits": True}}[name]

    point = {"type": "network", "kind": "twin-if", "steps": 5, "membrane_bits": 12, "membrane_frac": 8,
             "target": "ice40-up5k"}
    res = explore_eval.point_resources(point, synthesize=fake_synth)
    assert seen == [("CrossbarTile", "crossbar", "ice40-up5k"), ("IfNeuronBank", "neurons", "ice40-up5k")]
    assert {k: res[k] for k in ("lut", "ff", "dsp", "bram", "fmax_mhz", "fits")} == {
        "lut": 700, "ff": 180, "dsp": 12, "bram": 4, "fmax_mhz": 50.0, "fits": True}
    net = explore_eval.network_for(point)
    blocks = explore_eval.network_blocks(net)
    assert blocks["neurons"].n == 24 * 24 * 6 and blocks["neurons"].membrane_bits == 12   # conv1's neurons
    assert blocks["crossbar"].k.shape == (32, 12)                                          # conv2's first tile


def test_pbit_column_registers_feed_the_pbits():
    """network_blocks' p-bit costing wrapper: two vectors loaded one column per beat give the
    p-bits of quantize.snn._pbit against the bank's first two LFSR words."""
    from types import SimpleNamespace

    from amaranth.sim import Simulator

    from hdl.neurons import PbitLayer
    from quantize import snn as q
    from quantize.lfsr import LfsrBank

    cfg = q.QuantConfig(kind="twin-stochastic", lut_addr_bits=5, lut_bits=6, membrane_frac=6)
    lut, lut_shift = q._sigmoid_lut(cfg)
    dut = explore_eval._pbit_columns(PbitLayer(3, 14, lut, lut_shift, 6, seed=5))
    z = np.random.default_rng(2).integers(-1500, 1500, (2, 3))
    words = LfsrBank(dut.pbit.lfsr).run(2)
    want = q._pbit(SimpleNamespace(cfg=cfg, lut=lut, lut_shift=lut_shift), z, words)
    got = []

    async def bench(ctx):
        ctx.set(dut.o_spikes.ready, 1)
        for v in range(2):
            for c in range(3):
                ctx.set(dut.i_col.payload.col, c)
                ctx.set(dut.i_col.payload.z, int(z[v, c]))
                ctx.set(dut.i_col.payload.last, c == 2)
                ctx.set(dut.i_col.valid, 1)
                await ctx.tick()
            ctx.set(dut.i_col.valid, 0)
            assert ctx.get(dut.o_spikes.valid)
            got.append([(ctx.get(dut.o_spikes.payload) >> c) & 1 for c in range(3)])
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    np.testing.assert_array_equal(np.array(got, bool), want)


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")   # the fake never elaborates
def test_rtl_core_costs_the_full_core():
    pytest.importorskip("hdl.core")
    seen = []

    def fake_synth(component, name, *, target):
        seen.append((type(component).__name__, name))
        return {"lut": 9000, "ff": 4000, "dsp": 20, "bram": 30, "fmax_mhz": 60.0, "fits": True}

    point = {"type": "network", "kind": "cmos-if", "steps": 4, "rtl": "core", "target": "ecp5-85f"}
    res = explore_eval.point_resources(point, synthesize=fake_synth)
    assert seen == [("SnnCore", "snn_core")] and (res["lut"], res["bram"], res["fmax_mhz"]) == (9000, 30, 60.0)


def test_cycles_per_image_counts_events_and_windows():
    from golden.energy import LayerEvents, NetworkEvents

    net = explore_eval.network_for({"kind": "cmos-if", "steps": 2})
    # one synaptic event per layer: the count is then the per-window overhead plus 1 / cols each
    layers = [LayerEvents(name=la.name, inputs=1, neurons=int(np.prod(la.out_shape)),
                          fan_in=1, weights=0, input_spikes=0, synaptic_events=1, neuron_updates=0, output_spikes=0)
              for la in net.layers]
    ev = NetworkEvents(layers, 2)
    # conv1 576 windows x 1 tile x 7; pool1 864 x 2; conv2 64 x 5 x 13; pool2 192 x 2; fc 1 x 6 x 11
    expect = 2 * (576 * 7 + 864 * 2 + 64 * 5 * 13 + 192 * 2 + 6 * 11) + (1 / 6 + 1 + 1 / 12 + 1 + 1 / 10)
    assert explore_eval.cycles_per_image(net, ev) == pytest.approx(expect, rel=1e-12)


def test_add_explore_arguments():
    p = argparse.ArgumentParser()
    explore.add_explore_arguments(p)
    a = p.parse_args(["--space", "s.toml", "--scheduler", "tcp://h:8786", "--workers", "3", "--images", "50"])
    assert (a.space, a.scheduler, a.workers, a.images, a.out, a.config) == ("s.toml", "tcp://h:8786", 3, 50,
                                                                          "out/explore", None)
    assert "spintwin explore" in p.epilog


@pytest.mark.long
def test_example_space_with_synthesis(tmp_path):
    """configs/space.toml's network points with real synthesis (YoWASP; cached by boards.synth)."""
    from boards.synth import tools_missing

    if tools_missing("ecp5-85f"):
        pytest.skip(tools_missing("ecp5-85f"))
    res = run_explore(None, "configs/space.toml", tmp_path / "out", workers=2, images=50, echo=print)
    assert res["failed"] == 0
    net = [r for r in res["rows"] if r["type"] == "network"]
    assert all(r["lut"] > 0 and r["fmax_mhz"] > 0 and r["throughput_ips"] > 0 for r in net)
