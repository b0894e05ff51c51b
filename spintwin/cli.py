"""The `spintwin` command line.

Every sub-command has ``--help`` with an example; user errors (bad config, missing tool or
dataset) end in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import SpintwinError

__all__ = ["main", "build_parser"]


def _cmd_demo(args) -> int:
    from .config import DEFAULT_CONFIG, load_config
    from .demo import run_demo

    cfg = load_config(args.config)
    run_demo(cfg, Path(args.out), args.config or DEFAULT_CONFIG.name)
    return 0


def _cmd_generate(args) -> int:
    from .config import load_config
    from .flow import generate

    m = generate(args.block, load_config(args.config), args.out, run_lint=not args.no_lint)
    lint = m.get("lint", {}).get("clean")
    print(f"wrote {Path(args.out) / (args.block + '.v')} and {args.block}.manifest.json "
          f"(latency {m['latency']}, {m['lanes']} lane(s) x {m['magnets_per_lane']} magnets, "
          f"lint {'clean' if lint else 'skipped' if lint is None else 'FAILED'})")
    return 0


def _cmd_verify(args) -> int:
    from .flow import verify

    verify(args.block, args.config, sim=args.sim, steps=args.steps, seed=args.seed, trace=args.trace)
    return 0


def _cmd_synth(args) -> int:
    import json

    from .config import load_config
    from .flow import synth

    res = synth(args.block, load_config(args.config), target=args.target)
    keys = ("lut", "ff", "dsp", "bram", "fmax_mhz", "lanes")
    print(json.dumps({**{k: res.get(k) for k in keys}, **{k: v for k, v in res.items() if k not in keys}}, indent=2, default=str))
    return 0 if res.get("fits", True) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spintwin",
        description="Co-design toolkit for spintronic neuromorphic hardware on FPGAs.",
        epilog="example: spintwin demo --out out/demo",
    )
    parser.add_argument("--version", action="version", version=f"spintwin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="run the main job on a design config (the embedded default if none)",
        description="Simulate the seed's devices on the golden model at their operating points "
                    "and write PNG plots and a Markdown report.",
        epilog="example: spintwin demo --config configs/default.toml --out out/demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--config", default=None, help="design TOML (default: the embedded configs/default.toml)")
    demo.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    demo.set_defaults(func=_cmd_demo)

    gen = sub.add_parser("generate", help="write a block's Verilog and manifest JSON (lint-checked)",
                         description="Export the block built from the config to Verilog, with a manifest "
                                     "(ports, widths, latency, config, tool versions) and a Verilator lint.",
                         epilog="example: spintwin generate macrospin --config configs/default.toml --out out/rtl")
    gen.add_argument("block", choices=["macrospin"])
    gen.add_argument("--config", default=None, help="design TOML (default: the embedded configs/default.toml)")
    gen.add_argument("--out", default="out/rtl", help="output folder (default: out/rtl)")
    gen.add_argument("--no-lint", action="store_true", help="skip verilator --lint-only -Wall")
    gen.set_defaults(func=_cmd_generate)

    ver = sub.add_parser("verify", help="bit-exact co-simulation of a block against its integer model",
                         description="Run the block's cocotb testbench (by default batch mode: on-chip stimulus and signature, the simulator free running; a mismatch is replayed per cycle to name the first differing beat); exit non-zero on any mismatch.",
                         epilog="example: spintwin verify macrospin --sim verilator --steps 100000 --seed 3")
    ver.add_argument("block", choices=["macrospin"])
    ver.add_argument("--sim", default="verilator", help="verilator (default) or icarus")
    ver.add_argument("--steps", type=int, default=10000, help="magnet-steps per lane (default 10000)")
    ver.add_argument("--seed", type=int, default=1, help="stimulus and LFSR seed (default 1)")
    ver.add_argument("--config", default=None, help="design TOML (default: the embedded configs/default.toml)")
    ver.add_argument("--trace", action="store_true",
                     help="write the stimulus from Python every cycle (slower) instead of the on-chip self-test")
    ver.set_defaults(func=_cmd_verify)

    syn = sub.add_parser("synth", help="synthesise and place a block with YoWASP Yosys + nextpnr",
                         description="Print JSON with lut, ff, dsp, bram, fmax_mhz and lanes.",
                         epilog="example: spintwin synth macrospin --target ecp5-85f")
    syn.add_argument("block", choices=["macrospin"])
    syn.add_argument("--target", default="ecp5-85f", help="ice40-up5k or ecp5-85f (default)")
    syn.add_argument("--config", default=None, help="design TOML (default: the embedded configs/default.toml)")
    syn.set_defaults(func=_cmd_synth)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except SpintwinError as e:
        print(f"spintwin: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spintwin: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
