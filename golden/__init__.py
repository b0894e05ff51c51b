"""Float64 golden models of the seed's spintronic devices and circuits (SI units).

Sub-modules: :mod:`golden.llg` (macrospin LLG with thermal noise), :mod:`golden.mtj`
(MTJ resistance, eq. 3-4), :mod:`golden.dw` (domain-wall devices), :mod:`golden.devices`
(the seed's device presets). golden never imports amaranth or cocotb.
"""
