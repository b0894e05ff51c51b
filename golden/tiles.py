"""The seed's system-level architecture (section V.3, Fig. 11; Ref. 129): a network mapped onto
32 x 32 crossbar tiles, time-multiplexed by global control, against a CMOS baseline of an SRAM
holding the weights and a compute core.

Mapping (:func:`map_network`). Each spiking layer is a weight matrix of ``rows`` crossbar rows
(one bipolar row pair per input of a window, the layer's fan-in) by ``cols`` columns (one per
neuron of an output position):

* dense: ``rows`` = inputs, ``cols`` = neurons, one position;
* conv (weight-shared): ``rows`` = ``k k C_in`` (times the window of a folded pooling, as
  :func:`golden.energy.network_shapes` counts it), ``cols`` = output channels, and the kernel
  tiles are re-used for each of the ``H_out W_out`` output positions, one *evaluation* per
  position (the same tiling of a window's rows that ``quantize.snn`` models, ``tile`` = 32);
* pooling with neurons: a depthwise window, block-diagonal: ``rows`` = ``size**2 C``,
  ``cols`` = ``C`` (utilisation 1 / C), one evaluation per output position.

A layer takes ``ceil(rows / 32) x ceil(cols / 32)`` weight tiles and ``weight tiles x
positions`` tile evaluations per time step (the seed: "tiles per layer = ceil(fan_in / 32) x
ceil(neurons / 32)" for dense layers).

The chip (:class:`Chip`) has ``tiles`` physical tiles. Time multiplexing (:func:`schedule`):
per time step the global controller issues the network's tile evaluations in ``slots =
ceil(evaluations / tiles)`` write slots (all tiles fire in parallel within a slot; the
neurons integrate their column currents slot by slot). When the weight tiles exceed the chip,
the schedule is layer-serial in ``rounds = ceil(weight tiles / tiles)`` rounds: the tiles
beyond the chip are programmed once per inference (``reload`` energy: one programming pulse
of ``SpinConfig.stdp_energy`` per conductance level of each cross-point, ``pulses_per_cross_point``
mean levels; time: the tile's rows one after the other, ``tile x pulses x stdp_duration`` per
round); the spikes buffered between rounds are not priced.

Spintronic energy per inference (:func:`spin_system`, from measured event counts
:class:`golden.energy.NetworkEvents` and golden.energy's per-event constants, J):

* ``crossbar``: synaptic events x ``dV^2 (g_on + g_off) t_w`` (:class:`golden.energy.SpinConfig`);
* ``neuron_write``, ``bias``, ``sense``: neuron updates x their energies; ``neuron_reset``:
  output spikes x the reset pulse;
* ``drivers``: row activations x ``driver_energy`` plus synaptic events x ``2 C_row dV^2``
  (the row wire per cross-point). A row activation is one spike driving one tile's row pair:
  ``synaptic events x col_tiles / cols`` per layer (dense: input spikes x col_tiles);
* ``control`` (global control): per step, ``slots x control_energy`` (the sequencer, golden.energy's
  1 pJ per step) plus ``evaluations x tile_control_energy`` (address decode, tile enable and the
  column latch transfer of one tile evaluation);
* ``reload``: see above (0 when the weights fit).

Latency: ``(T + L - 1) (slots t_w + t_sense + t_reset) + (rounds - 1) t_reload`` (the layers are
pipelined across steps as in :func:`golden.energy.spin_energy`, which this equals at one slot
and one round).

CMOS baseline (:func:`cmos_system`): :func:`golden.energy.cmos_energy` (SRAM sized to the
weights, ``weights x weight_bits``; its 64-bit access energy grows with size through Horowitz's
8 kB / 32 kB / 1 MB anchors; leakage per kB per cycle) with the seed's remark that "the access
latency increases with increasing memory size, thereby causing a proportionate increase in
the memory leakage energy" made explicit: an access takes ``sram_access_cycles(size)`` clock
cycles (:data:`SRAM_ACCESS_TIME_32KB` at 32 kB, growing as sqrt(size) like the bit- and
word-line lengths, the same law as golden.energy's access energy below 32 kB) and the core waits
for its weight words, so ``cycles = max(compute cycles, weight words x access cycles)``; leakage
is charged over those cycles. The Fig. 11(a) profile (:func:`profile`) splits CMOS energy into
memory access (the SRAM terms), leakage and compute (adds, compares, registers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from . import energy

__all__ = ["TILE", "DEFAULT_CHIP_TILES", "TILE_CONTROL_ENERGY", "SRAM_ACCESS_TIME_32KB", "LayerTiles", "Chip",
           "layer_tiles", "map_network", "schedule", "spin_system", "cmos_system", "sram_access_cycles", "profile"]

#: Crossbar tile size, rows = columns (the seed's 32 x 32 arrays, Ref. 129).
TILE = 32
#: Physical tiles of the default chip (assumption: 8192 tiles, 8.4 M cross-point pairs, enough
#: for the largest network of the seed's range, 7.4 M synapses, to stay resident).
DEFAULT_CHIP_TILES = 8192
#: Global-control energy per tile evaluation, J (assumption: ~32 flip-flops of address, enable and
#: column latch at ~3 fJ each, golden.energy.CONTROL_ENERGY's per-flip-flop figure).
TILE_CONTROL_ENERGY = 32 * energy.CONTROL_ENERGY / 300
#: 64-bit access time of a 32 kB SRAM at 45 nm, s (assumption: one cycle of the 1 GHz core;
#: CACTI-class 45 nm 32 kB arrays read in ~0.5-1 ns [order of magnitude, recalled]).
SRAM_ACCESS_TIME_32KB = 1e-9


def _pos(name, v, integer=True):
    ok = (isinstance(v, int) and not isinstance(v, bool)) if integer else isinstance(v, (int, float))
    if not ok or not v >= (1 if integer else 0) or (not integer and not math.isfinite(v)):
        raise ValueError(f"{name} must be {'an integer >= 1' if integer else 'a finite number >= 0'}, not {v!r}")
    return v


@dataclass(frozen=True)
class LayerTiles:
    """One layer on ``tile x tile`` crossbars (module docstring): ``rows`` x ``cols`` weights,
    evaluated at ``positions`` output positions per step."""

    name: str
    kind: str
    rows: int
    cols: int
    positions: int
    tile: int = TILE

    def __post_init__(self):
        for f in ("rows", "cols", "positions", "tile"):
            _pos(f"LayerTiles({self.name!r}).{f}", getattr(self, f))

    @property
    def row_tiles(self) -> int:
        return -(-self.rows // self.tile)

    @property
    def col_tiles(self) -> int:
        return -(-self.cols // self.tile)

    @property
    def weight_tiles(self) -> int:
        """Physical tiles holding the layer's weights once."""
        return self.row_tiles * self.col_tiles

    @property
    def evaluations(self) -> int:
        """Tile evaluations per time step (weight tiles x positions)."""
        return self.weight_tiles * self.positions

    @property
    def utilisation(self) -> float:
        """Used cross-points / cross-points of the layer's tiles."""
        return self.rows * self.cols / (self.weight_tiles * self.tile ** 2)


def layer_tiles(name: str, kind: str, rows: int, cols: int, positions: int = 1, tile: int = TILE) -> LayerTiles:
    """A :class:`LayerTiles` (checked)."""
    return LayerTiles(name, kind, rows, cols, positions, tile)


def map_network(network, tile: int = TILE) -> list[LayerTiles]:
    """Every spiking layer of a ``golden.network.Network`` on ``tile x tile`` crossbars
    (module docstring: dense, weight-shared conv, block-diagonal pooling)."""
    from . import network as nw

    _pos("tile", tile)
    shapes = energy.network_shapes(network)
    out = []
    for _, layer in network.spiking():
        _, neurons, fan_in, _ = shapes[layer.name]
        shape = network.out_shape_of(layer.name)
        if isinstance(layer, nw.Dense):
            out.append(LayerTiles(layer.name, "dense", fan_in, neurons, 1, tile))
        elif isinstance(layer, nw.Conv2d):
            out.append(LayerTiles(layer.name, "conv", fan_in, shape[2], shape[0] * shape[1], tile))
        else:
            out.append(LayerTiles(layer.name, "pool", fan_in * shape[2], shape[2], shape[0] * shape[1], tile))
    return out


@dataclass(frozen=True)
class Chip:
    """The tiled chip: ``tiles`` physical ``tile x tile`` crossbars with their neuron banks,
    ``tile_control_energy`` J of global control per tile evaluation, and
    ``pulses_per_cross_point`` programming pulses per cross-point when a tile is reloaded
    (default 7.5: half of the 15 level steps of the 16-level DW synapse)."""

    tiles: int = DEFAULT_CHIP_TILES
    tile: int = TILE
    tile_control_energy: float = TILE_CONTROL_ENERGY
    pulses_per_cross_point: float = 7.5

    def __post_init__(self):
        _pos("Chip.tiles", self.tiles)
        _pos("Chip.tile", self.tile)
        _pos("Chip.tile_control_energy", self.tile_control_energy, integer=False)
        _pos("Chip.pulses_per_cross_point", self.pulses_per_cross_point, integer=False)


def schedule(maps, chip: Chip | None = None) -> dict:
    """Time multiplexing of ``maps`` (:func:`map_network`) on ``chip``: ``weight_tiles``,
    ``evaluations`` per step, ``slots`` per step ``max(1, ceil(evaluations / tiles))``,
    ``rounds = max(1, ceil(weight_tiles / tiles))``, ``reload_tiles = max(0, weight_tiles - tiles)``,
    ``utilisation`` (used cross-points / cross-points of the weight tiles)."""
    chip = chip or Chip()
    maps = list(maps)
    if not maps:
        raise ValueError("maps must hold at least one layer")
    for m in maps:
        if m.tile != chip.tile:
            raise ValueError(f"layer {m.name!r} is mapped on {m.tile}-row tiles, the chip has {chip.tile}")
    w = sum(m.weight_tiles for m in maps)
    e = sum(m.evaluations for m in maps)
    used = sum(m.rows * m.cols for m in maps)
    return {"weight_tiles": w, "evaluations": e, "slots": max(1, -(-e // chip.tiles)),
            "rounds": max(1, -(-w // chip.tiles)), "reload_tiles": max(0, w - chip.tiles),
            "chip_tiles": chip.tiles, "utilisation": used / (w * chip.tile ** 2)}


def spin_system(events: energy.NetworkEvents, maps, spin: energy.SpinConfig | None = None,
                chip: Chip | None = None) -> energy.Breakdown:
    """Energy per inference (J) and latency (s) of the tiled All-Spin chip (module docstring).

    ``events``: measured per-inference counts, one :class:`golden.energy.LayerEvents` per
    entry of ``maps`` (same order and names); ``spin``: default :func:`golden.energy.dw_spin_config`.
    ``extras``: the :func:`schedule` and the row activations.
    """
    c = spin or energy.dw_spin_config()
    chip = chip or Chip()
    maps = list(maps)
    if len(maps) != len(events.layers) or any(m.name != x.name for m, x in zip(maps, events.layers)):
        raise ValueError(f"maps {[m.name for m in maps]} do not match the events' layers "
                         f"{[x.name for x in events.layers]}")
    s = schedule(maps, chip)
    t = events.timesteps
    rows = sum(x.synaptic_events * m.col_tiles / m.cols for m, x in zip(maps, events.layers))
    wire = 2 * c.row_capacitance * c.read_voltage ** 2
    comp = {"crossbar": events.synaptic_events * c.synaptic_event_energy,
            "neuron_write": events.neuron_updates * c.neuron_write_energy,
            "bias": events.neuron_updates * c.bias_energy,
            "neuron_reset": events.output_spikes * c.neuron_reset_energy,
            "sense": events.neuron_updates * c.sense_energy,
            "drivers": rows * c.driver_energy + events.synaptic_events * wire,
            "control": t * (s["slots"] * c.control_energy + s["evaluations"] * chip.tile_control_energy),
            "reload": s["reload_tiles"] * chip.tile ** 2 * chip.pulses_per_cross_point * c.stdp_energy,
            "stdp": events.stdp_events * c.stdp_energy}
    step = s["slots"] * c.write_duration + c.sense_duration + c.reset_duration
    t_reload = chip.tile * chip.pulses_per_cross_point * c.stdp_duration
    latency = (t + len(maps) - 1) * step + (s["rounds"] - 1) * t_reload
    return energy.Breakdown("spin-tiled", comp, latency,
                            extras={**s, "row_activations": rows, "step_s": step, "reload_s": t_reload})


def sram_access_cycles(size_bytes: float, clock_hz: float = 1e9,
                       access_time_32kb: float = SRAM_ACCESS_TIME_32KB) -> int:
    """Clock cycles of one 64-bit access of an SRAM of ``size_bytes``:
    ``max(1, ceil(access_time_32kb sqrt(size / 32 kB) clock))`` (module docstring)."""
    if not (math.isfinite(float(size_bytes)) and float(size_bytes) > 0):
        raise ValueError(f"size_bytes must be > 0, not {size_bytes!r}")
    _pos("clock_hz", float(clock_hz), integer=False)
    _pos("access_time_32kb", float(access_time_32kb), integer=False)
    t = access_time_32kb * math.sqrt(float(size_bytes) / (32 * energy.KB))
    return max(1, math.ceil(t * clock_hz - 1e-9))


def cmos_system(events: energy.NetworkEvents, cfg: energy.CmosConfig | None = None, *,
                access_time_32kb: float = SRAM_ACCESS_TIME_32KB) -> energy.Breakdown:
    """The CMOS baseline (SRAM + compute core) with size-dependent SRAM access latency, J and s
    (module docstring): :func:`golden.energy.cmos_energy`'s components, its leakage re-charged
    over ``cycles = max(compute cycles, weight words x sram_access_cycles(weight bytes))``."""
    c = cfg or energy.CmosConfig()
    base = energy.cmos_energy(events, c)
    w_bytes = base.extras["weight_bytes"]
    k = sram_access_cycles(w_bytes, c.clock_hz, access_time_32kb) if w_bytes > 0 else 0
    stored = sum(x.synaptic_events for x in events.layers if x.weights > 0)
    words = stored * c.weight_bits / 64
    cycles = max(base.extras["cycles"], words * k)
    comp = dict(base.components)
    if base.extras["cycles"] > 0:
        comp["leakage"] = base.components["leakage"] * cycles / base.extras["cycles"]
    return replace(base, components=comp, latency=cycles / c.clock_hz,
                   extras={**base.extras, "cycles": cycles, "compute_cycles": base.extras["cycles"],
                           "access_cycles": k, "weight_words": words})


def profile(bd: energy.Breakdown) -> dict:
    """Fig. 11(a) profile of a CMOS :class:`golden.energy.Breakdown`: ``memory_access`` (the
    SRAM terms), ``leakage`` and ``compute`` (the rest), J, and their ``shares``."""
    leak = bd.components.get("leakage", 0.0)
    mem = sum(bd.components[k] for k in bd.memory if k != "leakage")
    out = {"memory_access": mem, "leakage": leak, "compute": bd.total - mem - leak}
    out["shares"] = {k: (v / bd.total if bd.total > 0 else 0.0) for k, v in list(out.items())}
    return out
