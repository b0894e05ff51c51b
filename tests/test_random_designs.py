"""Random-design equivalence (issue 20): each run draws random valid ``[twin.macrospin]`` and
``[core]`` designs (formats, lanes, magnets, noise, rounding, DSP mapping, device, step; the
core's kind, levels or weight bits, scales, membrane, input bits and rate, tile, steps, LUT,
seeds) and verifies each bit-exact on Verilator for a short run, through the flow a user runs
(``spintwin.flow.verify`` on the design file, loaded by ``spintwin.config.load_config``).

The run's seed is ``$SPINTWIN_RANDOM_DESIGN_SEED``, else a hash of the commit and the UTC date
(printed; tests/random_designs.py). A failing draw's message holds the seed and the whole
design file, so ``spintwin verify <block> --config design.toml`` (or the seed) reproduces it.

Also (no simulator): formats drawn over the schema's whole range must run in the integer model when
load_config accepts them (an expected failure today: see its reason).

Draws per run: :data:`MACROSPIN_DRAWS` + :data:`CORE_DRAWS` in the ordinary suite (each a new
Verilator build; measured on a loaded 2-core machine: 75-85 s per integrator draw with at most
:data:`ORDINARY_LUT_PRODUCTS` LUT-multiplied products, 50-90 s per core draw, about 4 min for
the file), more with ``make test-long`` (:data:`LONG_MACROSPIN_DRAWS`, :data:`LONG_CORE_DRAWS`:
any DSP/LUT mapping, 130-250 s per integrator draw);
``$SPINTWIN_RANDOM_DESIGN_DRAWS=M,C`` sets the ordinary suite's counts. Each design is run for
:data:`MAGNET_STEPS_PER_LANE` magnet-steps per lane (batch self-test) or :data:`CORE_IMAGES`
MNIST test images at its own 3-6 steps. Builds go to a private folder, removed when the draw
passes (kept, and named, when it fails). Draw #0 of each block first runs with the testbench's
checker self-test (a corrupted reference beat or spike) and must fail naming a MismatchError:
the test fails on a real difference, on a random design (the real run reuses that build).
"""

from __future__ import annotations

import os
import shutil
import time
import tomllib

import pytest

from random_designs import PRODUCTS_PER_LANE, SEED_ENV, draw_core, draw_macrospin, run_seed, to_toml
from spinbase.errors import MismatchError, SpintwinError, ToolFailure

DRAWS_ENV = "SPINTWIN_RANDOM_DESIGN_DRAWS"
MAGNET_STEPS_PER_LANE = 3000
CORE_IMAGES = 2
LONG_MACROSPIN_DRAWS, LONG_CORE_DRAWS = 3, 2
#: LUT-multiplied products (lanes x (30 - dsp_per_lane)) of an ordinary-suite integrator draw:
#: they set its build time (tests/random_designs.py); `make test-long` draws any mapping.
ORDINARY_LUT_PRODUCTS = 12


def _counts() -> tuple[int, int]:
    text = os.environ.get(DRAWS_ENV, "").strip()
    if not text:
        return 2, 1
    try:
        m, c = (int(x) for x in text.split(","))
    except ValueError:
        raise SpintwinError(f"${DRAWS_ENV} must be 'M,C' (macrospin and core draws), not {text!r}") from None
    return m, c


MACROSPIN_DRAWS, CORE_DRAWS = _counts()
SEED, SEED_FROM = run_seed()
print(f"random designs: seed {SEED} ({SEED_FROM}; set ${SEED_ENV} to reproduce), "
      f"{MACROSPIN_DRAWS} + {CORE_DRAWS} draws (long: {LONG_MACROSPIN_DRAWS} + {LONG_CORE_DRAWS} more)")


def _params(n: int, long_n: int) -> list:
    return [*range(n), *(pytest.param(n + i, marks=pytest.mark.long) for i in range(long_n))]


def _failure(draw, block: str, error: BaseException, build) -> str:
    draws = f"{DRAWS_ENV}={os.environ[DRAWS_ENV]} " if os.environ.get(DRAWS_ENV) else ""
    steps = f" --steps {MAGNET_STEPS_PER_LANE}" if block == "macrospin" else f" --images {CORE_IMAGES}"
    return (f"random {block} design #{draw.index} (run seed {draw.seed}) is not bit-exact on Verilator: "
            f"{type(error).__name__}: {error}\n"
            f"reproduce: {draws}{SEED_ENV}={draw.seed} pytest -m '' "
            f"'tests/test_random_designs.py::test_random_{block}_design_bit_exact[{draw.index}]', or save the "
            f"design below as design.toml and run: spintwin verify {block} --config design.toml{steps}\n"
            f"(build kept in {build})\n--- design.toml ---\n{draw.toml}")


def _verify(draw, block: str, tmp_path, monkeypatch, **kw) -> dict:
    """flow.verify of the draw's design file in a private build folder; any verdict but
    bit-exact (a mismatch, no verdict, a refusal of a design load_config accepted) fails with
    the seed and the whole TOML."""
    from spintwin import flow

    build = tmp_path / "build"
    monkeypatch.setenv("SPINTWIN_BUILD", str(build))
    t0 = time.perf_counter()
    try:
        result = flow.verify(block, draw.path, sim="verilator", echo=print, **kw)
    except (MismatchError, ToolFailure, SpintwinError) as e:
        pytest.fail(_failure(draw, block, e, build), pytrace=False)
    assert result["bit_exact"] is True
    shutil.rmtree(build, ignore_errors=True)
    print(f"{block} #{draw.index}: bit-exact in {time.perf_counter() - t0:.0f} s after {len(draw.rejections)} "
          f"rejected draws {draw.rejections}\n{draw.toml}")
    return result


def _corrupted(monkeypatch, module, name: str, env: dict):
    """``module.name`` (a launcher) with ``env`` added: the testbench's checker self-test."""
    real = getattr(module, name)

    def launch(*a, env=None, **k):
        return real(*a, env={**(env or {}), **extra}, **k)

    extra = env
    monkeypatch.setattr(module, name, launch)
    return lambda: monkeypatch.setattr(module, name, real)


def _must_fail(draw, block, tmp_path, monkeypatch, match: str, **kw) -> None:
    """The same draw with a corrupted reference is a failure naming a MismatchError (the test
    can fail, on this very design; its build is kept and reused by the real run)."""
    with pytest.raises(pytest.fail.Exception, match=match):
        _verify(draw, block, tmp_path, monkeypatch, **kw)


@pytest.mark.parametrize("index", _params(MACROSPIN_DRAWS, LONG_MACROSPIN_DRAWS))
def test_random_macrospin_design_bit_exact(index, tmp_path, monkeypatch):
    from tb import macrospin_launch
    from tb.runner import skip_unless_simulator

    skip_unless_simulator("verilator")
    cap = ORDINARY_LUT_PRODUCTS if index < MACROSPIN_DRAWS else None
    draw = draw_macrospin(SEED, index, tmp_path, lut_products=cap)
    if index == 0:
        restore = _corrupted(monkeypatch, macrospin_launch, "run_batch", {"MS_CORRUPT_BEAT": 41})
        _must_fail(draw, "macrospin", tmp_path, monkeypatch, r"MismatchError: beat 41, lane 0",
                   steps=MAGNET_STEPS_PER_LANE)
        restore()
    r = _verify(draw, "macrospin", tmp_path, monkeypatch, steps=MAGNET_STEPS_PER_LANE)
    t = draw.cfg["twin"]["macrospin"]
    assert r["seed"] == t["seed"]                           # the design file's seeding was verified
    assert r["magnet_steps"] >= MAGNET_STEPS_PER_LANE * t["lanes"] * 0.9   # the run was not cut short


@pytest.mark.parametrize("index", _params(CORE_DRAWS, LONG_CORE_DRAWS))
def test_random_core_design_bit_exact(index, tmp_path, monkeypatch):
    from spintwin.blocks import Request
    from tb import core_launch
    from tb.runner import skip_unless_simulator

    skip_unless_simulator("verilator")
    draw = draw_core(SEED, index, tmp_path)
    req = Request(images=CORE_IMAGES)
    if index == 0:
        restore = _corrupted(monkeypatch, core_launch, "run", {"CORE_CORRUPT": "input:0"})
        _must_fail(draw, "core", tmp_path, monkeypatch, r"MismatchError: image 0: step \d+, layer input", req=req)
        restore()
    r = _verify(draw, "core", tmp_path, monkeypatch, req=req)
    assert (r["images"], r["steps"], r["seed"]) == (CORE_IMAGES, draw.cfg["core"]["steps"], draw.cfg["core"]["seed"])


# --- the drawing itself (no simulator) -----------------------------------------------------------

def test_seed_from_environment_else_commit_and_date():
    assert run_seed({SEED_ENV: "1234"}) == (1234, f"${SEED_ENV}")
    assert run_seed({SEED_ENV: "0x10"})[0] == 16
    with pytest.raises(SpintwinError, match=SEED_ENV):
        run_seed({SEED_ENV: "tomorrow"})
    a = run_seed({}, today="2026-12-07", commit="a" * 40)
    assert a == run_seed({}, today="2026-12-07", commit="a" * 40)          # a rerun draws the same
    assert a[0] != run_seed({}, today="2026-12-08", commit="a" * 40)[0]    # another day differs
    assert a[0] != run_seed({}, today="2026-12-07", commit="b" * 40)[0]    # another commit differs


def test_macrospin_draws_are_valid_varied_and_reproducible(tmp_path):
    """Every draw loads through load_config (which builds its component); the validator refuses
    a draw for its magnets exactly when magnets < depth + 3 (the depth asked of the component);
    the draws vary the drawn keys; a draw is a function of (seed, index) alone."""
    caps = [None, ORDINARY_LUT_PRODUCTS] * 3
    draws = [draw_macrospin(7, i, tmp_path / str(i), lut_products=cap) for i, cap in enumerate(caps)]
    for d, cap in zip(draws, caps):
        t = d.cfg["twin"]["macrospin"]
        assert cap is None or t["lanes"] * (PRODUCTS_PER_LANE - t["dsp_per_lane"]) <= cap
        assert d.info["depth"] > 0 and d.info["offset"] >= 3 and t["magnets"] == d.info["depth"] + d.info["offset"]
        assert tomllib.loads(d.toml)["twin"]["macrospin"].items() <= t.items()
        for why, info in zip(d.rejections, d.rejected_info):
            assert (f"depth + 3 = {info['depth'] + 3}," in why) == (info["depth"] > 0 and info["offset"] < 3), why
    for key in ("lanes", "m_format", "h_format", "dm_format", "norm_format", "seed", "magnets", "noise_uniforms"):
        assert len({repr(d.cfg["twin"]["macrospin"][key]) for d in draws}) > 1, key
    assert draw_macrospin(7, 3, tmp_path / "again", lut_products=caps[3]).toml == draws[3].toml
    assert draw_macrospin(8, 3, tmp_path / "other", lut_products=caps[3]).toml != draws[3].toml
    print(f"6 macrospin draws: {sum(len(d.rejections) for d in draws)} rejected on the way")


def test_core_draws_are_valid_varied_and_reproducible(tmp_path):
    draws = [draw_core(7, i, tmp_path / str(i)) for i in range(5)]
    kinds = {d.cfg["core"]["kind"] for d in draws}
    assert len(kinds) >= 2, kinds
    for d in draws:
        c = d.cfg["core"]
        assert 3 <= c["steps"] <= 6
        assert (c["network"] == "cnn-stochastic") == (c["kind"] == "twin-stochastic")
    for key in ("membrane_bits", "scale_bits", "input_bits", "seed", "tile"):
        assert len({d.cfg["core"][key] for d in draws}) > 1, key
    assert draw_core(7, 4, tmp_path / "again").toml == draws[4].toml


def test_invalid_draws_are_rejected_and_counted(tmp_path, monkeypatch):
    """Reject sampling: a generator that first draws designs the validator refuses gets a valid
    one later, with each refusal (its one line) counted."""
    import random_designs

    real = random_designs._macrospin_values
    calls = []

    def sometimes_bad(rng, *args):
        values = real(rng, *args)
        calls.append(1)
        if len(calls) <= 2:
            values["m_format"] = [12, 11]        # cannot hold +-1.5: refused by MacrospinConfig
        return values

    monkeypatch.setattr(random_designs, "_macrospin_values", sometimes_bad)
    d = draw_macrospin(5, 0, tmp_path)
    assert len(d.rejections) >= 2 and all("1.5" in why for why in d.rejections[:2]), d.rejections
    # The accepted design with magnets at depth + 2 is refused, at depth + 3 accepted: the
    # generator's depth is the one the validator enforces.
    from spintwin.config import load_config

    values = tomllib.loads(d.toml)["twin"]["macrospin"]
    for extra, ok in ((2, False), (3, True)):
        path = tmp_path / f"edge{extra}.toml"
        path.write_text(to_toml("twin.macrospin", {**values, "magnets": d.info["depth"] + extra}))
        if ok:
            load_config(path)
        else:
            with pytest.raises(SpintwinError, match=rf"depth \+ 3 = {d.info['depth'] + 3}, not {d.info['depth'] + 2}"):
                load_config(path)


def test_a_failing_draw_names_its_seed_and_whole_design(tmp_path, monkeypatch):
    """A mismatch in a draw fails the test with the run seed and the whole TOML, which loads back
    to the same design (the reproduction); no verdict (ToolFailure) fails the same way."""
    from spintwin import flow

    draw = draw_macrospin(SEED, 0, tmp_path)
    for error in (MismatchError("lane 1 beat 17 field m0: model 5, RTL 6"), ToolFailure("verilator crashed")):
        def broken(*a, error=error, **k):
            raise error

        monkeypatch.setattr(flow, "verify", broken)
        with pytest.raises(pytest.fail.Exception) as info:
            _verify(draw, "macrospin", tmp_path, monkeypatch, steps=10)
        text = str(info.value)
        assert f"run seed {SEED}" in text and f"{SEED_ENV}={SEED}" in text and str(error) in text
        assert type(error).__name__ in text
        saved = tmp_path / "design.toml"
        saved.write_text(text.split("--- design.toml ---\n", 1)[1])
        from spintwin.config import load_config

        assert load_config(saved) == draw.cfg


def test_to_toml_round_trips():
    values = {"a": 1, "b": [18, -3], "c": 0.1, "d": "trunc", "e": True}
    assert tomllib.loads(to_toml("twin.macrospin", values, "two\nlines"))["twin"]["macrospin"] == values


def test_every_accepted_format_runs_in_the_model(tmp_path):
    """Formats drawn over the schema's whole range ([width 2..64, frac -64..128]): a design that
    load_config accepts must run the integer model (two steps with noise and drive), or
    ``verify`` fails after its build with a raw error instead of a one-line refusal up front."""
    import random

    import numpy as np

    from spintwin.config import load_config
    from spintwin.twin import macrospin_from_config

    rng = random.Random(f"{SEED}:schema-formats")
    broken = []
    for i in range(100):
        values = {k: [rng.randint(2, 64), rng.randint(-64, 128)] for k in
                  ("h_format", "dm_format", "norm_format", "drive_format")}
        w = rng.randint(8, 32)
        values["m_format"] = [w, rng.randint(w - 12, w - 2)]
        values["magnets"] = 65536
        cfg = {"twin": {"macrospin": {**load_config()["twin"]["macrospin"], **values}}}
        try:
            model, noise, _ = macrospin_from_config(cfg)
        except SpintwinError:
            continue                                  # refused: fine
        g = np.random.default_rng(i).integers(-(1 << 6), 1 << 6, size=(4, 3))
        code = np.random.default_rng(i).integers(-100, 100, size=4)
        try:
            m = model.step(np.repeat(model.m_reset[None], 4, 0), g, code)[0]
            model.step(m, g, code)
        except (ValueError, OverflowError) as e:
            path = tmp_path / f"d{i}.toml"
            path.write_text(to_toml("twin.macrospin", values))
            try:
                load_config(path)
            except SpintwinError:
                continue                              # the validator refuses it: fine
            broken.append(f"{values}: {type(e).__name__}: {e}")
            if len(broken) == 5:
                break
    assert not broken, f"{len(broken)} accepted designs cannot step, e.g.\n" + "\n".join(broken[:5])
