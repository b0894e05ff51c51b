"""The `spintwin` command line.

Every sub-command has ``--help`` with an example; user errors (bad config, missing tool or
dataset) end in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from spinbase.errors import SpintwinError

__all__ = ["main", "build_parser"]


def _cmd_demo(args) -> int:
    from .config import DEFAULT_CONFIG, load_config
    from .demo import run_demo

    cfg = load_config(args.config)
    run_demo(cfg, Path(args.out), args.config or DEFAULT_CONFIG.name)
    return 0


def _cmd_generate(args) -> int:
    if args.block == "core":
        from .core_flow import generate_core

        m = generate_core(args.network, args.out, run_lint=not args.no_lint)
        lint = (m.get("lint") or {}).get("clean")
        print(f"wrote {Path(args.out) / (m.get('top', 'snn_core') + '.v')} and its manifest "
              f"(network {args.network}, lint {'clean' if lint else 'skipped' if lint is None else 'FAILED'})")
        return 0
    from .config import load_config
    from .flow import generate

    m = generate(args.block, load_config(args.config), args.out, run_lint=not args.no_lint, blocks=args.blocks)
    lint = m.get("lint", {}).get("clean")
    print(f"wrote {Path(args.out) / (args.block + '.v')} and {args.block}.manifest.json "
          f"(latency {m['latency']}, {m['lanes']} lane(s) x {m['magnets_per_lane']} magnets, "
          f"lint {'clean' if lint else 'skipped' if lint is None else 'FAILED'})")
    return 0


def _cmd_verify(args) -> int:
    if args.block == "core":
        return _verify_core(args)
    from .flow import verify

    verify(args.block, args.config, sim=args.sim, steps=args.steps or 10000, seed=args.seed, trace=args.trace,
           blocks=args.blocks)
    return 0


def _verify_core(args) -> int:
    import json

    if args.network == "stdp":
        from tb.runner import simulator_available
        from tb.stdp_core_launch import verify_stdp_core

        ok, why = simulator_available(args.sim)
        if args.sim not in ("verilator", "icarus") or not ok:
            raise SpintwinError(f"--sim {args.sim!r} is not available: {why}" if args.sim in ("verilator", "icarus")
                                else f"--sim must be verilator or icarus, not {args.sim!r}")
        if args.images < 1:
            raise SpintwinError(f"--images must be >= 1, not {args.images}")
        try:
            res = verify_stdp_core(args.sim, args.images, args.seed, neurons=args.neurons)
        except AssertionError as e:
            raise SpintwinError(f"core stdp on {args.sim}: mismatch: {str(e).splitlines()[0]}") from None
        print(json.dumps({"network": "stdp", "sim": args.sim, "images": args.images, "neurons": args.neurons,
                          "bit_exact": True, **{k: v for k, v in res.items() if isinstance(v, (int, float, str))}}))
        return 0
    from .core_flow import verify_core

    res = verify_core(args.network, sim=args.sim, images=args.images, seed=args.seed, steps=args.steps)
    print(json.dumps(res, default=str))
    return 0


def _cmd_synth(args) -> int:
    import json

    if args.block == "core":
        from .core_flow import synth_core

        res = synth_core(args.network, target=args.target)
    else:
        from .config import load_config
        from .flow import synth

        res = synth(args.block, load_config(args.config), target=args.target, seed=args.seed)
    keys = ("lut", "ff", "dsp", "bram", "fmax_mhz", "lanes")
    print(json.dumps({**{k: res.get(k) for k in keys}, **{k: v for k, v in res.items() if k not in keys}}, indent=2, default=str))
    return 0 if res.get("fits", True) else 1


def _cmd_explore(args) -> int:
    from .explore import run_explore

    run_explore(args.config, args.space, args.out, scheduler=args.scheduler, workers=args.workers, images=args.images)
    return 0


def _cmd_build(args) -> int:
    import json

    from boards.build import build_board

    res = build_board(args.board, args.out, design=args.design, baud=args.baud, timeout_s=args.timeout)
    print(json.dumps(res, indent=2, default=str))
    return 0


_NETWORKS = ["cnn-if", "cnn-stochastic", "cmos-if", "stdp"]


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
                         epilog="examples: spintwin generate macrospin --config configs/default.toml --out out/rtl\n"
                                "          spintwin generate core --network cnn-if --out out/rtl",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    gen.add_argument("block", choices=["macrospin", "core"], help="macrospin integrator or the SNN core")
    gen.add_argument("--network", default="cnn-if", choices=_NETWORKS[:3],
                     help="core only: cnn-if (twin, network 1), cnn-stochastic (network 2) or cmos-if (baseline)")
    gen.add_argument("--config", default=None, help="design TOML (default: the embedded configs/default.toml)")
    gen.add_argument("--out", default="out/rtl", help="output folder (default: out/rtl)")
    gen.add_argument("--no-lint", action="store_true", help="skip verilator --lint-only -Wall")
    gen.add_argument("--blocks", default="generic", choices=["generic", "ecp5"],
                     help="macrospin only: products and delay memories as generic RTL (default) or as ECP5 MULT18X18D / DP16KD blocks with their own registers (ecp5: what spintwin synth places on ECP5)")
    gen.set_defaults(func=_cmd_generate)

    ver = sub.add_parser("verify", help="bit-exact co-simulation of a block against its integer model",
                         description="Run the block's cocotb testbench (by default batch mode: on-chip stimulus and signature, the simulator free running; a mismatch is replayed per cycle to name the first differing beat); exit non-zero on any mismatch.",
                         epilog="examples: spintwin verify macrospin --sim verilator --steps 100000 --seed 3\n"
                                "          spintwin verify core --network cnn-if --sim verilator --images 100 --seed 1\n"
                                "          spintwin verify core --network stdp --images 20",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    ver.add_argument("block", choices=["macrospin", "core"], help="macrospin integrator or the SNN core")
    ver.add_argument("--sim", default="verilator", help="verilator (default) or icarus")
    ver.add_argument("--steps", type=int, default=None,
                     help="macrospin: magnet-steps per lane (default 10000); core: time steps per image (default: the network's)")
    ver.add_argument("--network", default="cnn-if", choices=_NETWORKS,
                     help="core only: cnn-if, cnn-stochastic, cmos-if or stdp (on-chip learning, network 3)")
    ver.add_argument("--images", type=int, default=10, help="core only: MNIST images (default 10)")
    ver.add_argument("--neurons", type=int, default=16, help="core stdp only: excitatory neurons (default 16)")
    ver.add_argument("--seed", type=int, default=1, help="stimulus and LFSR seed (default 1)")
    ver.add_argument("--config", default=None, help="design TOML (default: the embedded configs/default.toml)")
    ver.add_argument("--blocks", default="generic", choices=["generic", "ecp5"],
                     help="macrospin only: products and delay memories as generic RTL (default) or as ECP5 MULT18X18D / DP16KD blocks with their own registers (ecp5: what spintwin synth places on ECP5)")
    ver.add_argument("--trace", action="store_true",
                     help="write the stimulus from Python every cycle (slower) instead of the on-chip self-test")
    ver.set_defaults(func=_cmd_verify)

    syn = sub.add_parser("synth", help="synthesise and place a block with YoWASP Yosys + nextpnr",
                         description="Print JSON with lut, ff, dsp, bram, fmax_mhz and lanes.",
                         epilog="examples: spintwin synth macrospin --target ecp5-85f\n"
                                "          spintwin synth core --network cnn-if --target ecp5-85f",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    syn.add_argument("block", choices=["macrospin", "core"], help="macrospin integrator or the SNN core")
    syn.add_argument("--network", default="cnn-if", choices=_NETWORKS[:3], help="core only (default cnn-if)")
    syn.add_argument("--target", default="ecp5-85f", help="ice40-up5k or ecp5-85f (default)")
    syn.add_argument("--config", default=None, help="design TOML (default: the embedded configs/default.toml)")
    syn.add_argument("--seed", type=int, default=None,
                     help="macrospin only: nextpnr placement seed (default: the config's twin.macrospin.synth_seed)")
    syn.set_defaults(func=_cmd_synth)

    from .explore import add_explore_arguments

    exp = sub.add_parser("explore", help="sweep formats and design choices: accuracy, resources, energy, Pareto fronts",
                         description="Evaluate every point of a design space (bit-accurate accuracy, device fidelity, "
                                     "synthesis, throughput, energy); results cached per point, resumable, on local "
                                     "processes or a Dask cluster.",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    add_explore_arguments(exp)
    exp.set_defaults(func=_cmd_explore)

    from boards.build import add_build_arguments

    bld = sub.add_parser("build", help="bitstream for a board (iCEBreaker, ULX3S) with the UART host link",
                         description="Build the design behind the UART host link for a board with amaranth-boards "
                                     "and the YoWASP toolchain; print a JSON report.",
                         epilog="example: spintwin build --board icebreaker --out out/build")
    add_build_arguments(bld)
    bld.set_defaults(func=_cmd_build)
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
        print(f"spintwin: {e.label}: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("spintwin: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
