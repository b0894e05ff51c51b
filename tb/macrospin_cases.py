"""Named integrator configurations shared by the Amaranth-simulator and cocotb checks.

Each case exercises something different: the default formats with N not a power of two, every
product on a DSP block; odd widths everywhere with three lanes and 10 of the 30 products per lane
on LUT multipliers; a perpendicular magnet (easy and polarisation axes on z) with two lanes and
the default twin's mapping (26 DSP products per lane, the renormalisation's last 4 on LUTs).
:data:`STEP_NEURON_CASE` is the preset/evaluate step neuron (two drive channels, quantize.step_neuron).
"""

from __future__ import annotations

from dataclasses import asdict, fields

from golden import devices
from quantize.fixed import Fixed
from quantize.macrospin import MacrospinConfig, MacrospinConstants, MacrospinModel
from quantize.noise import NoiseConfig
from quantize.normalise import NormalisedMacrospin

__all__ = ["CASES", "DSP_BLOCK_CASE", "STEP_NEURON_CASE", "build_case", "model_from_json", "model_to_json"]

CASES = ("default_n103", "odd_k3", "pma_k2")

#: The default twin's 18-bit formats (configs/default.toml) on two lanes: every product fits one
#: 18x18 block, so the ECP5 registered-DSP style of the RTL (hdl.ecp5_blocks) is used throughout.
DSP_BLOCK_CASE = "twin18_k2"
#: The SOT preset/evaluate step neuron (golden.devices.step_neuron, seed Ref. 101) at its 1 ps
#: step: two drive channels (heavy-metal SOT preset along +y, MTJ STT evaluation along +z), the
#: wide Python formats, two lanes; co-simulated apart from CASES (tests/test_step_neuron_rtl.py).
STEP_NEURON_CASE = "step_k2"


def build_case(name: str, seed: int = 1):
    """Return (model, noise_cfg, current_range_codes) for a named case; ``seed`` seeds the LFSRs."""
    if name == "default_n103":
        dev = devices.mtj_neuron()
        cfg = MacrospinConfig(lanes=1, magnets=103)
        params, dt, span = dev.magnet, dev.dt, 1500
    elif name == "odd_k3":
        dev = devices.mtj_neuron()
        cfg = MacrospinConfig(m_fmt=Fixed(21, 19), h_fmt=Fixed(25, 15), dm_fmt=Fixed(27, 27),
                              norm_fmt=Fixed(23, 20), const_width=17, drive_fmt=Fixed(13, 0),
                              lanes=3, magnets=99, dsp_per_lane=20)
        params, dt, span = dev.magnet, dev.dt, 1500
    elif name == DSP_BLOCK_CASE:
        dev = devices.mtj_neuron()
        cfg = MacrospinConfig(m_fmt=Fixed(18, 16), h_fmt=Fixed(18, 9), dm_fmt=Fixed(18, 22),
                              norm_fmt=Fixed(18, 16), drive_fmt=Fixed(12, 0), const_width=12,
                              lanes=2, magnets=99, dsp_per_lane=30)
        params, dt, span = dev.magnet, dev.dt, 1500
    elif name == STEP_NEURON_CASE:
        from quantize.step_neuron import step_neuron_model

        cfg = MacrospinConfig(lanes=2, magnets=97)
        noise = NoiseConfig(lanes=cfg.lanes, master_seed=seed)
        return step_neuron_model(cfg, devices.step_neuron(), noise), noise, 1500
    elif name == "pma_k2":
        syn = devices.volatile_synapse()
        cfg = MacrospinConfig(lanes=2, magnets=101, dsp_per_lane=26)
        params, dt, span = syn.magnet, syn.dt, 1500
    else:
        raise ValueError(f"unknown integrator case {name!r} (known: {', '.join(CASES)})")
    noise = NoiseConfig(lanes=cfg.lanes, master_seed=seed)
    model = MacrospinModel(cfg, MacrospinConstants.from_params(cfg, params, dt), noise.out_fmt, float(noise.variance))
    return model, noise, span


def _fixed(f: Fixed) -> list:
    return [f.width, f.frac, bool(f.signed)]


def model_to_json(model: MacrospinModel, noise: NoiseConfig) -> dict:
    """A model and its noise source as JSON-ready data, for a testbench (``MS_MODEL``): the
    config, the normalised magnet and every quantised constant (JSON floats round-trip exactly),
    so the testbench rebuilds the same model without reading the design's TOML."""
    cfg = {f.name: (_fixed(v) if isinstance(v, Fixed) else v)
           for f in fields(model.cfg) for v in [getattr(model.cfg, f.name)]}
    return {"cfg": cfg, "nm": asdict(model.k.nm), "nm2": asdict(model.k.nm2) if model.k.nm2 else None,
            "consts_ints": dict(model.k.ints),
            "consts_fmts": {k: _fixed(f) for k, f in model.k.fmts.items()},
            "ints": dict(model.ints), "fmts": {k: _fixed(f) for k, f in model.fmts.items()},
            "noise_fmt": _fixed(model.noise_fmt), "noise": asdict(noise)}


def model_from_json(data: dict, seed: int | None = None):
    """Inverse of :func:`model_to_json`: (model, noise_cfg, current range codes); ``seed``
    replaces the noise source's master seed (as ``build_case``)."""
    cfg = MacrospinConfig(**{k: (Fixed(*v) if isinstance(v, list) else v) for k, v in data["cfg"].items()})
    def normalised(d):
        return NormalisedMacrospin(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})

    nm2 = data.get("nm2")
    consts = MacrospinConstants(nm=normalised(data["nm"]), ints=dict(data["consts_ints"]),
                                fmts={k: Fixed(*v) for k, v in data["consts_fmts"].items()},
                                nm2=normalised(nm2) if nm2 else None)
    noise_fields = dict(data["noise"])
    if seed is not None:
        noise_fields["master_seed"] = seed
    noise = NoiseConfig(**noise_fields)
    model = MacrospinModel(cfg, consts, Fixed(*data["noise_fmt"]), float(noise.variance))
    # The quantised constants exactly as the RTL was built with (sigma already scaled).
    model.ints = dict(data["ints"])
    model.fmts = {k: Fixed(*v) for k, v in data["fmts"].items()}
    return model, noise, 1500
