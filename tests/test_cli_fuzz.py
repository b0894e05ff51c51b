"""Fuzz tests of the design-file loader and the command line (issue 20): seeded random cases,
no hypothesis (not installed; the cases are drawn from ``random.Random`` with a fixed seed so a
failure reproduces, and the failing TOML or argument vector is printed).

Every case runs ``spintwin.cli.main`` in this process with the working directory a fresh tmp
folder and asserts: exit 0, or exit 2 with exactly one ``spintwin: error: ...`` line on stderr;
never another exception (a traceback); and nothing written outside ``--out`` (a listing of the
working directory before and after). No work runs: the first step past validation of each
command (the block's Amaranth component, the simulator launch, synthesis, the demo's first plot,
the explore sweep, the board build, the MLP training) is replaced by a tripwire that counts the
case as "validated" (exit 0 would follow).

Case counts: :data:`CONFIG_CASES` random design files (1-4 keys each over every schema key:
wrong types, out-of-range and huge integers, inf/nan, strings, unicode, empty and nested tables,
arrays, datetimes, unknown keys; half of the values valid so the semantic checks and their
combinations are reached) and :data:`ARGV_CASES` random argument vectors over every
sub-command (options drawn from each sub-parser, values from a pool of hostile numbers, paths
and names, plus junk tokens).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import random
from pathlib import Path

import numpy as np
import pytest

from spintwin.config import SCHEMA

CONFIG_CASES = 400
ARGV_CASES = 400


class _Reached(Exception):
    """Validation passed: the command got to its first piece of work."""


@pytest.fixture
def stubbed(monkeypatch):
    """Tripwires at each command's first piece of work (after all of its validation)."""
    from dataclasses import replace

    import boards.build
    import golden.mlp
    import spintwin.demo
    import spintwin.explore
    from spintwin import blocks

    def reached(*a, **k):
        raise _Reached()

    for name, b in list(blocks.REGISTRY.items()):
        monkeypatch.setitem(blocks.REGISTRY, name, replace(b, component=reached, verify=reached, synth=reached))
    monkeypatch.setattr(spintwin.demo, "_plt", reached)
    monkeypatch.setattr(spintwin.explore, "_sweep", reached)
    monkeypatch.setattr(boards.build, "build_board", reached)
    monkeypatch.setattr(golden.mlp, "train_mlp", reached)
    return reached


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def _junk(rng: random.Random, depth: int = 0):
    kinds = ["int", "bigint", "negint", "float", "inf", "nan", "bool", "str", "unicode", "empty", "list", "table",
             "datetime", "zero"]
    k = rng.choice(kinds if depth < 2 else kinds[:10])
    return {
        "int": lambda: rng.randint(-10, 300),
        "bigint": lambda: rng.choice([2**63 - 1, -(2**63), 2**32, 10**18]),
        "negint": lambda: -rng.randint(1, 10**6),
        "float": lambda: rng.uniform(-1e3, 1e3),
        "inf": lambda: rng.choice([math.inf, -math.inf]),
        "nan": lambda: math.nan,
        "bool": lambda: rng.random() < 0.5,
        "str": lambda: rng.choice(["", "cnn-if", "mnist", "x.npz", "net.npz", "model.nir", "../up.npz", "a b",
                                   "twin-if", "lfsr", "round_half_up", "mtj_neuron", "none", "8", "1e3"]),
        "unicode": lambda: rng.choice(["é", "ü.nir", "\u202e", "日本", "\U0001f600", "a\tb", "\\x00"]),
        "empty": lambda: rng.choice([[], {}, ""]),
        "list": lambda: [_junk(rng, depth + 1) for _ in range(rng.randint(0, 3))],
        "table": lambda: {rng.choice(["a", "seed", "x y"]): _junk(rng, depth + 1)},
        "datetime": lambda: datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.timezone.utc),
        "zero": lambda: rng.choice([0, 0.0, -0.0]),
    }[k]()


#: Valid values of the [core] keys whose schema default is None (the network's own value).
_CORE_VALID = {"network": ["cnn-if", "cmos-if", "cnn-stochastic", "net.npz", "model.nir"],
               "dataset": ["mnist", "iris", "digits", "data.npz"],
               "kind": ["twin-if", "cmos-if", "twin-stochastic"], "levels": [2, 8, 256], "weight_bits": [2, 8, 16],
               "scale_bits": [2, 10, 18], "membrane_bits": [4, 12, 40], "membrane_frac": [0, 6, 38],
               "input_bits": [1, 8, 16], "input_rate": [0.25, 1.0], "steps": [1, 100000], "encoding": ["lfsr"],
               "tile": [1, 32, 4096], "reset_position": [0.0, 0.5], "lut_addr_bits": [1, 16], "lut_bits": [1, 16],
               "lut_range": [0.5, 8.0], "seed": [0, 2**32 - 1], "parallelism": [1, 5, 64],
               "early_margin": [-1, 0, 2, 65535]}


def _valid(rng: random.Random, key: str):
    table, leaf = key.rsplit(".", 1)
    if table == "core":
        return rng.choice(_CORE_VALID[leaf])
    default = SCHEMA[key][2]
    if isinstance(default, int) and not isinstance(default, bool) and default > 1:
        return rng.choice([default, default + 1, max(1, default - 1)])
    return default


def _design_text(rng: random.Random, drawn: set | None = None) -> str:
    tables: dict = {}
    for key in rng.sample(sorted(SCHEMA), rng.randint(1, 4)):
        if drawn is not None:
            drawn.add(key)
        table, leaf = key.rsplit(".", 1)
        tables.setdefault(table, {})[leaf] = _valid(rng, key) if rng.random() < 0.5 else _junk(rng)
    r = rng.random()
    if r < 0.05:
        tables.setdefault("core", {})["levles"] = 8                          # an unknown key
    elif r < 0.08:
        tables["nonsense"] = {"a": 1}                                       # an unknown table
    lines = []
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in values.items()]
    if rng.random() < 0.03:
        lines.insert(0, "twin = 3")                                         # a value where a table is
    return "\n".join(lines) + "\n"


def _fixtures(root: Path) -> None:
    """Files the cases name: a small network (.npz and .nir), a data set, junk and odd files."""
    from golden import network as nw
    from golden.nir_io import write_nir

    rng = np.random.default_rng(0)
    cmos = nw.Neuron("if", 1.0, "subtract", 0.0, None, "cmos")
    net = nw.Network("tiny", nw.Input(1, 1, 4), (nw.Flatten("f"), nw.Dense("d", rng.normal(size=(3, 4)),
                                                                           neuron=cmos)))
    nw.save(net, root / "net.npz")
    write_nir(net, root / "model.nir")
    np.savez(root / "data.npz", x=rng.normal(size=(20, 4)), y=np.arange(20) % 3)
    (root / "junk.npz").write_bytes(b"PK\x03\x04 junk")
    (root / "bin.toml").write_bytes(bytes(range(256)))
    (root / "latin.toml").write_bytes("[demo]\n# caf\xe9\n".encode("latin-1"))
    (root / "ok.toml").write_text("[core]\nnetwork = \"net.npz\"\nsteps = 3\n")
    (root / "adir").mkdir()


def _listing(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            st = p.lstat()
            out[str(p.relative_to(root))] = (p.is_dir(), st.st_size, st.st_mtime_ns if p.is_file() else 0)
    return out


def _run(argv, capsys):
    """(outcome, stderr) of one in-process CLI run: 'exit 0', 'exit 2' or 'validated'."""
    from spintwin.cli import main

    try:
        code = main(argv)
    except SystemExit as e:          # argparse: --help, --version, its own errors
        code = e.code
    except _Reached:
        code = "validated"
    captured = capsys.readouterr()
    return code, captured.err


def _check(argv, code, err, label):
    where = f"{label}: spintwin {' '.join(map(repr, argv))}"
    assert code in (0, 2, "validated"), f"{where} -> exit {code}\n{err}"
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("spintwin: error: "), f"{where} -> {err!r}"
    assert "Traceback" not in err, f"{where} -> {err}"


def _outs(argv) -> list[str]:
    """The --out values of ``argv`` (and the sub-commands' default out/ folders)."""
    outs = ["out"]
    for i, a in enumerate(argv):
        if a == "--out" and i + 1 < len(argv):
            outs.append(argv[i + 1])
        elif a.startswith("--out="):
            outs.append(a.split("=", 1)[1])
    return outs


def _only_under_out(before: dict, after: dict, argv, where: str) -> None:
    allowed = []
    for o in _outs(argv):
        if o.strip():
            p = os.path.normpath(o)
            allowed += [p, os.path.splitext(p)[0] + ".npz"]   # import --out D.toml writes D.npz beside it
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    bad = [k for k in changed if not any(k == a or k.startswith(a + os.sep) or a.startswith(k + os.sep)
                                         or a == "." for a in allowed)]
    assert not bad, f"{where}: wrote outside --out: {sorted(bad)}"


def test_random_design_files(tmp_path, monkeypatch, capsys, stubbed):
    """CONFIG_CASES random design files through generate/verify/synth/demo: exit 0 (validated)
    or one line, exit 2; nothing written outside --out."""
    _fixtures(tmp_path)
    monkeypatch.chdir(tmp_path)
    rng = random.Random(20)
    commands = [["generate", "macrospin", "--no-lint"], ["generate", "core", "--no-lint"], ["generate", "stdp"],
                ["verify", "core"], ["verify", "macrospin"], ["synth", "core"], ["synth", "macrospin"], ["demo"]]
    outcomes, drawn = {}, set()
    for case in range(CONFIG_CASES):
        text = _design_text(rng, drawn)
        (tmp_path / "design.toml").write_text(text, encoding="utf-8")
        argv = [*rng.choice(commands), "--config", "design.toml"]
        if argv[0] in ("generate", "demo"):
            argv += ["--out", "o"]
        before = _listing(tmp_path)
        code, err = _run(argv, capsys)
        label = f"case {case}, design.toml:\n{text}"
        _check(argv, code, err, label)
        _only_under_out(before, _listing(tmp_path), argv, label)
        outcomes[code] = outcomes.get(code, 0) + 1
    # both kinds of outcome occur: the draws reach the checks and get past them
    print("config outcomes", outcomes)
    assert drawn == set(SCHEMA)                      # every key of the schema was drawn
    assert outcomes.get(2, 0) > CONFIG_CASES // 10 and outcomes.get("validated", 0) > CONFIG_CASES // 20, outcomes


_HOSTILE = ["0", "-5", "1", "3", "10001", "99999999999999999999999", "nan", "inf", "-inf", "1e3", "", " ", "x",
            "é", "\U0001f600", "--", "-", "0x10", "1.5", "None"]
_PATHS = ["", ".", "/", "adir", "bin.toml", "latin.toml", "ok.toml", "missing.toml", "bin.toml/x", "x" * 300,
          "é/ü.toml", "a b/c.toml", "net.npz", "junk.npz", "model.nir", "data.npz", "o/m.nir", "d.toml", "n.npz",
          "iris", "digits", "mnist", "cnn-if", "cmos-if", "stdp", "cifar"]


def _argv(rng: random.Random, parser) -> list[str]:
    subs = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    if rng.random() < 0.05:
        return rng.choice([[], ["--version"], ["--help"], ["nonsense"], ["-x"]])
    name = rng.choice(sorted(subs))
    sp = subs[name]
    argv = [name]
    positionals = [a for a in sp._actions if not a.option_strings and a.dest != "help"]
    for a in positionals:
        if rng.random() < 0.9:
            argv.append(rng.choice(list(a.choices)) if a.choices and rng.random() < 0.8
                        else rng.choice(_PATHS + _HOSTILE))
    options = [a for a in sp._actions if a.option_strings and a.dest != "help"]
    for _ in range(rng.randint(0, 5)):
        a = rng.choice(options)
        argv.append(rng.choice(a.option_strings))
        if a.nargs == 0:
            continue
        if a.choices and rng.random() < 0.6:
            argv.append(str(rng.choice(list(a.choices))))
        elif rng.random() < 0.5:
            argv.append(rng.choice(_PATHS))
        else:
            argv.append(rng.choice(_HOSTILE))
    if rng.random() < 0.08:
        argv.insert(rng.randint(1, len(argv)), rng.choice(["--help", "--bogus", "extra"]))
    return argv


def test_random_argument_vectors(tmp_path, monkeypatch, capsys, stubbed):
    """ARGV_CASES random argument vectors over every sub-command: exit 0 (or validated), or
    one line, exit 2; nothing written outside --out."""
    from spintwin.cli import build_parser

    _fixtures(tmp_path)
    monkeypatch.chdir(tmp_path)
    rng = random.Random(16)
    parser = build_parser()
    outcomes, commands = {}, set()
    for case in range(ARGV_CASES):
        argv = _argv(rng, parser)
        before = _listing(tmp_path)
        code, err = _run(argv, capsys)
        label = f"case {case}"
        _check(argv, code, err, label)
        _only_under_out(before, _listing(tmp_path), argv, f"{label}: {argv}")
        outcomes[code] = outcomes.get(code, 0) + 1
        commands.add(argv[0] if argv else "")
    print("argv outcomes", outcomes, sorted(commands))
    assert outcomes.get(2, 0) > ARGV_CASES // 4 and outcomes.get(0, 0) + outcomes.get("validated", 0) > 10, outcomes
    assert {"generate", "verify", "synth", "demo", "explore", "build", "import", "export", "train"} <= commands
