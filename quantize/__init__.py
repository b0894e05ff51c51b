"""Bit-accurate integer models of every RTL block, and the fixed-point rules they share.

:mod:`quantize.fixed` (formats, the one rounding shift and signed width, overflow modes),
:mod:`quantize.lfsr` and :mod:`quantize.noise` (the on-chip random streams),
:mod:`quantize.macrospin` (the twin's integrator), :mod:`quantize.snn` and :mod:`quantize.core`
(the SNN inference core and its cycle model), :mod:`quantize.stdp` and :mod:`quantize.stdp_core`
(the STDP learning core), :mod:`quantize.trained` (the weights each network kind runs on).
Frozen config dataclasses validate themselves; the models take integer arrays and return them.
quantize imports golden and spinbase only, never amaranth or cocotb.
"""
