"""The block registry: every hardware block the flow can generate, lint, verify and synthesise.

One :class:`Block` per block (the Glasgow applet registry's shape): its name and help text, the
config table it reads, the networks it runs, and hooks from the design file to the frozen
quantize config, the integer model, the Amaranth component (``generic`` or ``ecp5`` block
style), the exported Verilog, the testbench launcher and the manifest's extras.
``spintwin.flow`` writes ``generate | lint | verify | synth`` once over these hooks and the CLI
takes its block and network choices from :data:`REGISTRY`. Adding a block is one entry here
(and one ``block_<name>.py`` module with its hooks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from spinbase.errors import SpintwinError

__all__ = ["Block", "Request", "REGISTRY", "get_block", "resolve", "network_choices", "check_design"]  # noqa: F822 (REGISTRY comes from __getattr__)


@dataclass(frozen=True)
class Request:
    """What the command line asks of a block (None: the design file's value)."""

    network: str | None = None
    seed: int | None = None
    steps: int | None = None
    images: int = 10
    neurons: int = 16
    style: str = "generic"
    sim: str = "verilator"
    trace: bool = False
    config_path: Path | None = None


@dataclass(frozen=True)
class Block:
    """One block of the registry.

    Attributes
    ----------
    name, help : str
        The CLI's block name and its one-line description.
    table : str or None
        The design file's table this block reads (``twin.macrospin``, ``core``).
    networks : tuple of str
        Networks the block runs (the CLI's ``--network`` choices); the first is the default.
    styles : tuple of str
        Block styles of the component (``generic``; ``ecp5``: DSP and block-RAM primitives).
    design : callable (cfg: dict, req: Request) -> design
        The frozen quantize config and integer model from the design file and the request.
    component : callable (design, style) -> amaranth Component
    verilog : callable (design, style, out: Path) -> (top, Verilog path, extra sources, lint args)
        Writes the Verilog (and any block models) to ``out``.
    manifest : callable (design, component, style) -> dict
        The block's own manifest entries (formats, layers, constants, ...).
    verify : callable (design, req, echo) -> dict
        Runs the testbench launcher; raises MismatchError / ToolFailure.
    synth : callable (design, target) -> dict
        Keyword arguments of ``boards.synth.synthesize`` for this block on ``target``.
    check : callable (cfg: dict, path) -> None, optional
        Semantic checks of the block's table, run when a design file is loaded.
    summary : callable (manifest) -> str
        The CLI's one-line description of what generate wrote.
    """

    name: str
    help: str
    table: str | None
    design: Callable[..., Any]
    component: Callable[..., Any]
    verilog: Callable[..., tuple]
    manifest: Callable[..., dict]
    verify: Callable[..., dict]
    synth: Callable[..., dict]
    summary: Callable[[dict], str]
    networks: tuple = ()
    styles: tuple = ("generic",)
    targets: tuple = ("ecp5-85f", "ice40-up5k")
    check: Callable[..., None] | None = None
    extras: dict = field(default_factory=dict)


_REGISTRY: dict = {}


def _registry() -> dict:
    """name -> Block, in the CLI's order; built on first use, so that a block module may
    import this one (for :class:`Block`) before the registry exists."""
    if not _REGISTRY:
        from . import block_core, block_macrospin, block_stdp

        _REGISTRY.update((b.name, b) for b in (block_macrospin.BLOCK, block_core.BLOCK, block_stdp.BLOCK))
    return _REGISTRY


def __getattr__(name: str):
    # ``REGISTRY`` (name -> Block) is built lazily: importing spintwin.block_core first must work.
    if name == "REGISTRY":
        return _registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_block(name: str) -> Block:
    try:
        return _registry()[name]
    except KeyError:
        raise SpintwinError(f"unknown block {name!r} (known: {', '.join(_registry())})") from None


def network_choices() -> list[str]:
    """Every network of every block (a network names the block that runs it)."""
    return [n for b in _registry().values() for n in b.networks]


def resolve(block: str, network: str | None) -> Block:
    """The block that runs ``network`` (``core --network stdp`` is the STDP learning core)."""
    b = get_block(block)
    if network is None or network in b.networks or not b.networks:
        return b
    for other in _registry().values():
        if network in other.networks:
            return other
    raise SpintwinError(f"--network must be one of {', '.join(network_choices())}, not {network!r}")


def check_design(cfg: dict, path) -> None:
    """Every block's semantic checks of its table (called by ``spintwin.config.load_config``)."""
    for b in _registry().values():
        if b.check is not None:
            b.check(cfg, path)
