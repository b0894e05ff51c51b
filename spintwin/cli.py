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
    from spinbase.fileio import prepare_out_dir

    from .config import DEFAULT_CONFIG, load_config
    from .demo import run_demo

    cfg = load_config(args.config)
    run_demo(cfg, prepare_out_dir(args.out), args.config or DEFAULT_CONFIG.name)
    return 0


def _request(args):
    from .blocks import Request

    return Request(network=getattr(args, "network", None), seed=getattr(args, "seed", None),
                   steps=getattr(args, "steps", None), images=getattr(args, "images", 10),
                   neurons=getattr(args, "neurons", 16), style=getattr(args, "blocks", "generic"),
                   config_path=Path(args.config) if args.config is not None else None)


def _cmd_generate(args) -> int:
    from spinbase.fileio import prepare_out_dir

    from .blocks import get_block
    from .config import load_config
    from .flow import generate

    get_block(args.block)
    cfg = load_config(args.config)
    out = prepare_out_dir(args.out)
    m = generate(args.block, cfg, out, run_lint=not args.no_lint, blocks=args.blocks, req=_request(args))
    lint = (m.get("lint") or {}).get("clean")
    from .blocks import get_block as _get

    print(f"wrote {out / (m['top'] + '.v')} and {m['top']}.manifest.json ({_get(m['block']).summary(m)}, "
          f"lint {'clean' if lint else 'skipped' if lint is None else 'FAILED'})")
    return 0


def _cmd_verify(args) -> int:
    import json

    from .flow import verify

    res = verify(args.block, args.config, sim=args.sim, steps=args.steps, seed=args.seed, trace=args.trace,
                 blocks=args.blocks, req=_request(args))
    print(json.dumps(res, default=str))
    return 0


def _cmd_synth(args) -> int:
    import json

    from .config import load_config
    from .flow import synth

    res = synth(args.block, load_config(args.config), target=args.target, seed=args.seed, req=_request(args))
    keys = ("lut", "ff", "dsp", "bram", "fmax_mhz", "lanes")
    print(json.dumps({**{k: res.get(k) for k in keys}, **{k: v for k, v in res.items() if k not in keys}}, indent=2,
                     default=str))
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


EXIT_STATUSES = """exit status:
  0    success (verify: model and RTL agree bit for bit)
  1    verify: MISMATCH, a real difference between model and RTL; synth: the design does not fit
  2    a user error: bad config, argument or path, missing data set (one line on stderr)
  3    a tool or simulator failed, so there is no verdict
  130  interrupted (Ctrl-C)"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``spintwin: error: ...``, exit 2), as every user error."""

    def error(self, message):
        import re

        message = re.sub(r"^argument (\S+?)(/\S+)?: ", r"\1 ", " ".join(message.split()))
        self.exit(2, f"spintwin: error: {self.prog.split(' ', 1)[-1]}: {message}\n")


def _int_at_least(lo: int, hi: int | None = None):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"must be {f'in {lo}..{hi}' if hi is not None else f'>= {lo}'}, not {v}")
        return v
    return parse


def _block_args(p, *, network_help: str, all_networks: bool = True):
    from .blocks import REGISTRY, network_choices

    p.add_argument("block", choices=list(REGISTRY),
                   help="; ".join(f"{n}: {b.help}" for n, b in REGISTRY.items()))
    p.add_argument("--network", default=None, choices=network_choices() if all_networks else REGISTRY["core"].networks,
                   help=network_help)
    p.add_argument("--config", default=None,
                   help="design TOML (default: the embedded configs/default.toml); core: its [core] table")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="spintwin",
        description="Co-design toolkit for spintronic neuromorphic hardware on FPGAs.",
        epilog="example: spintwin demo --out out/demo\n\n" + EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"spintwin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="run the main job on a design config (the embedded default if none)",
        description="Simulate the seed's devices on the golden model at their operating points "
                    "and write PNG plots and a Markdown report.",
        epilog="example: spintwin demo --config configs/default.toml --out out/demo\n\n" + EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--config", default=None, help="design TOML (default: the embedded configs/default.toml)")
    demo.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    demo.set_defaults(func=_cmd_demo)

    styles = ("generic", "ecp5")
    style_help = ("macrospin only: products and delay memories as generic RTL (default) or as ECP5 MULT18X18D / "
                  "DP16KD blocks with their own registers (ecp5: what spintwin synth places on ECP5)")
    gen = sub.add_parser("generate", help="write a block's Verilog and manifest JSON (lint-checked)",
                         description="Export the block built from the config to Verilog, with a manifest "
                                     "(ports, widths, latency, config, tool versions) and a Verilator lint.",
                         epilog="examples: spintwin generate macrospin --config configs/default.toml --out out/rtl\n"
                                "          spintwin generate core --network cnn-if --out out/rtl\n"
                                "          spintwin generate core --config design.toml --out out/rtl\n\n" + EXIT_STATUSES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    _block_args(gen, network_help="core: cnn-if (twin, network 1), cnn-stochastic (network 2) or cmos-if "
                                  "(baseline); default: the config's core.network; stdp: the learning core")
    gen.add_argument("--out", default="out/rtl", help="output folder (default: out/rtl)")
    gen.add_argument("--no-lint", action="store_true", help="skip verilator --lint-only -Wall")
    gen.add_argument("--blocks", default="generic", choices=styles, help=style_help)
    gen.add_argument("--neurons", type=_int_at_least(1, 1024), default=16, help="stdp only: excitatory neurons")
    gen.set_defaults(func=_cmd_generate)

    ver = sub.add_parser("verify", help="bit-exact co-simulation of a block against its integer model",
                         description="Run the block's cocotb testbench (by default batch mode: on-chip stimulus and signature, the simulator free running; a mismatch is replayed per cycle to name the first differing beat); exit 1 on a mismatch, 3 when the simulator gives no verdict.",
                         epilog="examples: spintwin verify macrospin --sim verilator --steps 100000 --seed 3\n"
                                "          spintwin verify core --network cnn-if --sim verilator --images 100 --seed 1\n"
                                "          spintwin verify core --config design.toml --images 10\n"
                                "          spintwin verify core --network stdp --images 20\n\n" + EXIT_STATUSES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    _block_args(ver, network_help="core: cnn-if, cnn-stochastic, cmos-if or stdp (on-chip learning, network 3); "
                                  "default: the config's core.network")
    ver.add_argument("--sim", default="verilator", help="verilator (default) or icarus")
    ver.add_argument("--steps", type=_int_at_least(1, 10**9), default=None,
                     help="macrospin: magnet-steps per lane (default 10000); core: time steps per image (default: the "
                          "config's core.steps, else the network's)")
    ver.add_argument("--images", type=_int_at_least(1), default=10,
                     help="core: MNIST test images, 1..10000 (default 10); stdp: training images")
    ver.add_argument("--neurons", type=_int_at_least(1, 1024), default=16,
                     help="core stdp only: excitatory neurons, 1..1024 (default 16)")
    ver.add_argument("--seed", type=_int_at_least(0, 2**32 - 1), default=None,
                     help="stimulus and LFSR seed (default: the config's twin.macrospin.seed / core.seed; stdp: 1)")
    ver.add_argument("--blocks", default="generic", choices=styles, help=style_help)
    ver.add_argument("--trace", action="store_true",
                     help="write the stimulus from Python every cycle (slower) instead of the on-chip self-test")
    ver.set_defaults(func=_cmd_verify)

    syn = sub.add_parser("synth", help="synthesise and place a block with YoWASP Yosys + nextpnr",
                         description="Print JSON with lut, ff, dsp, bram, fmax_mhz and lanes.",
                         epilog="examples: spintwin synth macrospin --target ecp5-85f\n"
                                "          spintwin synth core --network cnn-if --target ecp5-85f\n\n" + EXIT_STATUSES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    _block_args(syn, network_help="core: cnn-if, cnn-stochastic or cmos-if (default: the config's core.network)")
    syn.add_argument("--target", default="ecp5-85f", choices=("ecp5-85f", "ice40-up5k"),
                     help="ice40-up5k or ecp5-85f (default)")
    syn.add_argument("--seed", type=_int_at_least(1, 10**6), default=None,
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
    argv = sys.argv[1:] if argv is None else list(argv)
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
