"""Build the hardware twin's blocks from a validated config (configs/*.toml, section [twin])."""

from __future__ import annotations

from golden import devices
from quantize.fixed import Fixed
from quantize.macrospin import MacrospinConfig, MacrospinConstants, MacrospinModel
from quantize.noise import NoiseConfig

from spinbase.errors import SpintwinError

__all__ = ["macrospin_from_config", "device_params", "device_drive2"]


def device_params(name: str):
    """The golden MacrospinParams of a preset named in the config."""
    if name == "mtj_neuron":
        return devices.mtj_neuron().magnet
    if name == "volatile_synapse":
        return devices.volatile_synapse().magnet
    if name == "step_neuron":
        return devices.step_neuron().magnet
    raise SpintwinError(f"unknown device preset {name!r}")


def device_drive2(name: str):
    """The MacrospinParams of a preset's second drive channel, or None (one channel).

    The step neuron (seed Ref. 101) has two: the heavy-metal preset current (SOT, spins +y, the
    preset's ``magnet``) and the MTJ evaluation current (STT from the pinned layer, +z,
    :meth:`golden.devices.StepNeuron.evaluate_magnet`); the twin carries both
    (quantize.step_neuron)."""
    if name == "step_neuron":
        return devices.step_neuron().evaluate_magnet()
    device_params(name)   # an unknown name fails as there
    return None


def _probe_step(model) -> None:
    """One integer-model step of one magnet from its reset state, with zero noise and drive.

    The widths of the model's intermediate products and sums follow from the formats alone
    (e.g. the exact m x h product is m.width + h.width bits), so formats that cannot be held
    in int64 fail here, as a one-line config error, and not at the first step after the RTL
    build (random-design draws found m_format [32, 30] with h_format [48, 20]: 80 bits)."""
    import numpy as np

    model.step(model.m_reset[None].copy(), np.zeros((1, 3), np.int64), np.zeros(1, np.int64))


def macrospin_from_config(cfg: dict, path=None):
    """(MacrospinModel, NoiseConfig, params) for the config's [twin.macrospin] table; a design
    the quantize configs refuse is one line naming the file (``path``) and the table."""
    t = cfg["twin"]["macrospin"]
    try:
        mcfg = MacrospinConfig(
            m_fmt=Fixed(*t["m_format"]), h_fmt=Fixed(*t["h_format"]), dm_fmt=Fixed(*t["dm_format"]),
            norm_fmt=Fixed(*t["norm_format"]), drive_fmt=Fixed(*t["drive_format"]),
            const_width=t["const_width"], current_lsb=t["current_lsb_uA"] * 1e-6, rounding=t["rounding"],
            lanes=t["lanes"], magnets=t["magnets"], dsp_per_lane=t["dsp_per_lane"],
        )
        noise = NoiseConfig(lanes=t["lanes"], uniform_bits=t["noise_uniform_bits"], n_uniforms=t["noise_uniforms"],
                            master_seed=t["seed"])
        params = device_params(t["device"])
        consts = MacrospinConstants.from_params(mcfg, params, t["dt_ps"] * 1e-12, drive2=device_drive2(t["device"]))
        model = MacrospinModel(mcfg, consts, noise.out_fmt, float(noise.variance))
        _probe_step(model)
    except (ValueError, OverflowError, ZeroDivisionError) as e:
        where = f"config {path}: " if path is not None else ""
        raise SpintwinError(f"{where}twin.macrospin: {' '.join(str(e).split())}") from None
    return model, noise, params
