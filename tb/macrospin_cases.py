"""Named integrator configurations shared by the Amaranth-simulator and cocotb checks.

Each case exercises something different: the default formats with N not a power of two, every
product on a DSP block; odd widths everywhere with three lanes and 10 of the 30 products per lane
on LUT multipliers; a perpendicular magnet (easy and polarisation axes on z) with two lanes and
the default twin's mapping (26 DSP products per lane, the renormalisation's last 4 on LUTs).
"""

from __future__ import annotations

from golden import devices
from quantize.fixed import Fixed
from quantize.macrospin import MacrospinConfig, MacrospinConstants, MacrospinModel
from quantize.noise import NoiseConfig

__all__ = ["CASES", "DSP_BLOCK_CASE", "build_case"]

CASES = ("default_n103", "odd_k3", "pma_k2")

#: The default twin's 18-bit formats (configs/default.toml) on two lanes: every product fits one
#: 18x18 block, so the ECP5 registered-DSP style of the RTL (hdl.ecp5_blocks) is used throughout.
DSP_BLOCK_CASE = "twin18_k2"


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
    elif name == "pma_k2":
        syn = devices.volatile_synapse()
        cfg = MacrospinConfig(lanes=2, magnets=101, dsp_per_lane=26)
        params, dt, span = syn.magnet, syn.dt, 1500
    else:
        raise ValueError(f"unknown integrator case {name!r} (known: {', '.join(CASES)})")
    noise = NoiseConfig(lanes=cfg.lanes, master_seed=seed)
    model = MacrospinModel(cfg, MacrospinConstants.from_params(cfg, params, dt), noise.out_fmt, float(noise.variance))
    return model, noise, span
