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
