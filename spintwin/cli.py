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


def _with_network_file(args, cfg: dict) -> dict:
    """``--network FILE`` (a .npz description or .nir graph, relative to the working directory)
    stands for ``[core] network`` of the design; the registry's blocks take built-in names."""
    from .block_core import is_network_file

    if is_network_file(getattr(args, "network", None)):
        if args.block != "core":
            raise SpintwinError(f"--network {args.network}: a network file runs on the core, not on {args.block}")
        cfg = {**cfg, "core": {**cfg["core"], "network": str(Path(args.network).resolve())}}
        args.network = None
    return cfg


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

    from dataclasses import replace

    from .flow import design_of

    get_block(args.block)
    cfg = _with_network_file(args, load_config(args.config))
    req = _request(args)
    design_of(args.block, cfg, replace(req, style=args.blocks))   # the design holds before --out is made
    out = prepare_out_dir(args.out)
    m = generate(args.block, cfg, out, run_lint=not args.no_lint, blocks=args.blocks, req=req)
    lint = (m.get("lint") or {}).get("clean")
    from .blocks import get_block as _get

    print(f"wrote {out / (m['top'] + '.v')} and {m['top']}.manifest.json ({_get(m['block']).summary(m)}, "
          f"lint {'clean' if lint else 'skipped' if lint is None else 'FAILED'})")
    return 0


def _cmd_verify(args) -> int:
    import json

    from .config import load_config
    from .flow import verify

    cfg = _with_network_file(args, load_config(args.config))
    res = verify(args.block, args.config, sim=args.sim, steps=args.steps, seed=args.seed, trace=args.trace,
                 blocks=args.blocks, req=_request(args), cfg=cfg)
    print(json.dumps(res, default=str))
    return 0


def _cmd_synth(args) -> int:
    import json

    from .config import load_config
    from .flow import synth

    cfg = _with_network_file(args, load_config(args.config))
    res = synth(args.block, cfg, target=args.target, seed=args.seed, req=_request(args))
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

    engine = name = None
    if args.config is not None:
        from .core_board import config_engine

        engine, _, name = config_engine(args.config, args.board)
    res = build_board(args.board, args.out, design=args.design, baud=args.baud, timeout_s=args.timeout,
                      engine=engine, name=name)
    print(json.dumps(res, indent=2, default=str))
    return 0


def _cmd_import(args) -> int:
    from .user_network import import_nir

    import_nir(args.model, args.out, dt=args.dt, dataset=args.dataset)
    return 0


def _cmd_export(args) -> int:
    from .user_network import export_nir

    export_nir(args.network, args.out, dt=args.dt)
    return 0


def _cmd_train(args) -> int:
    from .user_network import train_to_nir

    train_to_nir(args.dataset, tuple(args.hidden), args.out, epochs=args.epochs, seed=args.seed)
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


def _float_in(lo: float, hi: float):
    def parse(text: str) -> float:
        import math

        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (math.isfinite(v) and lo < v <= hi):
            raise argparse.ArgumentTypeError(f"must be in ({lo:g}, {hi:g}], not {text}")
        return v
    return parse


def _hidden_sizes(text: str) -> list:
    """``32`` or ``64,32``: hidden layer widths, each 1..256 (the core's channels per layer)."""
    parts = [t.strip() for t in text.split(",")]
    if not parts or len(parts) > 6 or not all(t.isdigit() and 1 <= int(t) <= 256 for t in parts):
        raise argparse.ArgumentTypeError(f"must be 1 to 6 comma-separated widths in 1..256, not {text!r}")
    return [int(t) for t in parts]


def _network_spec(names):
    """A network: one of ``names`` or a .npz / .nir file (checked when it is read)."""
    def parse(text: str) -> str:
        from .block_core import is_network_file

        if text in names or (is_network_file(text) and len(Path(text).name) > 4):
            return text
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(names)} or a .npz / .nir network file, "
                                         f"not {text!r}")
    return parse


def _block_args(p, *, network_help: str, all_networks: bool = True):
    from .blocks import REGISTRY, network_choices

    p.add_argument("block", choices=list(REGISTRY),
                   help="; ".join(f"{n}: {b.help}" for n, b in REGISTRY.items()))
    p.add_argument("--network", default=None, metavar="NAME|FILE",
                   type=_network_spec(network_choices() if all_networks else REGISTRY["core"].networks),
                   help=network_help + "; or a network file (.npz description, .nir graph) for the core")
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

    _user_network_commands(sub)
    _suite_command(sub)

    from boards.build import add_build_arguments

    bld = sub.add_parser("build", help="bitstream for a board (iCEBreaker, ULX3S) with the UART host link",
                         description="Build the design behind the UART host link for a board with amaranth-boards "
                                     "and the YoWASP toolchain; print a JSON report. --config puts the SNN core of "
                                     "a design file's [core] network behind the link (spintwin.core_board drives it).",
                         epilog="examples: spintwin build --board icebreaker --out out/build\n"
                                "          spintwin build --board icebreaker --config iris.toml --out out/iris",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    add_build_arguments(bld)
    bld.set_defaults(func=_cmd_build)
    return parser


def _user_network_commands(sub) -> None:
    """import | export | train: your network on the twin (spintwin.user_network)."""
    from golden.network import BUILTINS
    from golden.nir_io import DEFAULT_DT
    from spinbase.data import DATASETS

    fmt = argparse.RawDescriptionHelpFormatter
    imp = sub.add_parser("import", help="a NIR graph -> a network file and a design TOML for the core",
                         description="Read a NIR file (snnTorch, Norse, Sinabs, ... or spintwin export), map it onto "
                                     "the network description (a per-layer report of thresholds and leak shifts is "
                                     "printed) and write it. --out DESIGN.toml writes the design file and the "
                                     "network beside it (DESIGN.npz; the design's [core] names it, its kind and a "
                                     "data set that fits); --out NET.npz writes the network only. A node the core "
                                     "cannot run is one line naming the node, exit 2.",
                         epilog="examples: spintwin import model.nir --out design.toml\n"
                                "          spintwin generate core --config design.toml --out out/rtl\n"
                                "          spintwin import model.nir --out net.npz --dt 1e-3\n\n" + EXIT_STATUSES,
                         formatter_class=fmt)
    imp.add_argument("model", help="the NIR file (.nir)")
    imp.add_argument("--out", required=True, help="DESIGN.toml (and DESIGN.npz beside it) or NET.npz")
    imp.add_argument("--dt", type=_float_in(0.0, 1.0), default=DEFAULT_DT,
                     help=f"seconds per time step for LIF time constants (default {DEFAULT_DT:g}, snnTorch's)")
    imp.add_argument("--dataset", default=None, metavar="NAME|FILE",
                     help=f"the design's data set: {', '.join(DATASETS)} or an .npz with x, y (default: the first "
                          "built-in one that fits the network)")
    imp.set_defaults(func=_cmd_import)

    exp = sub.add_parser("export", help="a network (built-in or file) -> NIR",
                         description="Write a built-in network or a network file as a NIR graph (spintwin's own "
                                     "neuron details travel as metadata: export -> import gives the same network).",
                         epilog="examples: spintwin export --network cnn-if --out cnn-if.nir\n"
                                "          spintwin export --network design.npz --out model.nir\n\n" + EXIT_STATUSES,
                         formatter_class=fmt)
    exp.add_argument("--network", required=True, metavar="NAME|FILE", type=_network_spec(BUILTINS),
                     help=f"{', '.join(BUILTINS)} or a .npz / .nir network file")
    exp.add_argument("--out", required=True, help="the NIR file to write (.nir)")
    exp.add_argument("--dt", type=_float_in(0.0, 1.0), default=DEFAULT_DT,
                     help=f"seconds per time step written with LIF time constants (default {DEFAULT_DT:g})")
    exp.set_defaults(func=_cmd_export)

    trn = sub.add_parser("train", help="train a small MLP on a data set (numpy) and write it as NIR",
                         description="Train a bias-free ReLU MLP on the data set's training split (numpy, Adam), "
                                     "normalise it for CMOS IF neurons and write it as NIR; prints the float "
                                     "accuracy on the test split. No deep-learning framework needed.",
                         epilog="examples: spintwin train --dataset digits --hidden 32 --out digits.nir\n"
                                "          spintwin import digits.nir --out digits.toml\n"
                                "          spintwin train --dataset mydata.npz --hidden 64,32 --out my.nir\n\n"
                                + EXIT_STATUSES, formatter_class=fmt)
    trn.add_argument("--dataset", required=True, metavar="NAME|FILE",
                     help=f"{', '.join(DATASETS)} or an .npz with x, y (spinbase.data.load_dataset)")
    trn.add_argument("--hidden", type=_hidden_sizes, default=[32], help="hidden widths, e.g. 32 or 64,32 (default 32)")
    trn.add_argument("--epochs", type=_int_at_least(1, 10000), default=60, help="training epochs (default 60)")
    trn.add_argument("--seed", type=_int_at_least(0, 2**32 - 1), default=0, help="initialisation and shuffle seed")
    trn.add_argument("--out", required=True, help="the NIR file to write (.nir)")
    trn.set_defaults(func=_cmd_train)


def _cmd_suite(args) -> int:
    from .suite import run_suite

    run_suite(args.out, args.inputs, problems=args.problems)
    print(f"wrote {Path(args.out) / 'suite.json'} and the Fig. 11 plots")
    if args.rtl is None:
        return 0
    from .suite_rtl import run_suite_rtl

    rows = run_suite_rtl(args.out, args.rtl, sim=args.sim, problems=args.problems, synth=args.synth)
    print(f"wrote {Path(args.out) / 'suite_rtl.json'}")
    return 1 if any(r["verify"] and not r["verify"]["bit_exact"] for r in rows) else 0


def _suite_command(sub) -> None:
    """suite: the seed's six problems on the tiled architecture and the CMOS baseline (spintwin.suite)."""
    from .suite import DEFAULT_INPUTS

    p = sub.add_parser("suite", help="the seed's six recognition problems: tiled All-Spin chip vs the CMOS baseline",
                       description="Train one MLP per problem of configs/suite.toml (numpy), run the first N test "
                                   "inputs through the float network, the bit-accurate twin (twin-if) and the CMOS "
                                   "baseline (cmos-if), price the measured events on 32 x 32 tiles (time "
                                   "multiplexing, global control) and on SRAM + core; write DIR/suite.json and the "
                                   "Fig. 11 plots. Finished problems in DIR are reused (resume).",
                       epilog="examples: spintwin suite --out out/suite\n"
                              "          spintwin suite --out out/suite --inputs 50 --problems iris,adult\n"
                              "          spintwin suite --out out/suite --rtl 3 --problems iris\n\n"
                              + EXIT_STATUSES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output folder (suite.json, plots, weights, finished problems)")
    p.add_argument("--inputs", type=_int_at_least(1), default=DEFAULT_INPUTS,
                   help=f"test inputs per problem (default {DEFAULT_INPUTS}; a smaller test split: all of it)")
    p.add_argument("--problems", type=lambda t: [x.strip() for x in t.split(",") if x.strip()], default=None,
                   help="comma-separated problem names (default: all six)")
    p.add_argument("--rtl", type=_int_at_least(1), default=None, metavar="N",
                   help="then co-simulate the first N test inputs of each problem whose network fits the RTL core "
                        "and the ECP5-85F bit-exact (DIR/suite_rtl.json; a problem that does not fit: one line "
                        "naming the limit); exit 1 on a mismatch")
    p.add_argument("--sim", choices=("verilator", "icarus"), default="verilator", help="--rtl's simulator")
    p.add_argument("--synth", action="store_true", help="--rtl: also synthesise each fitting core on the ECP5-85F "
                                                        "(Yosys + nextpnr, minutes each)")
    p.set_defaults(func=_cmd_suite)


def main(argv=None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        print("spintwin: error: a command is required (one of the above)", file=sys.stderr)
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
