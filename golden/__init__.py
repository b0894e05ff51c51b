"""Float64 golden models of the seed's spintronic devices and circuits (SI units).

Sub-modules: :mod:`golden.llg` (macrospin LLG with thermal noise), :mod:`golden.mtj`
(MTJ resistance, eq. 3-4), :mod:`golden.dw` (domain-wall devices), :mod:`golden.devices`
(the seed's device presets), :mod:`golden.neurons`, :mod:`golden.crossbar`, :mod:`golden.stdp`
(device-level models), :mod:`golden.cnn`, :mod:`golden.snn` and :mod:`golden.stdp_network`
(the seed's networks 1-3), :mod:`golden.energy` (energy per inference). Models take arrays and
return arrays; experiment runners and command lines live in :mod:`spintwin.experiments`.
golden imports only spinbase (the leaf), never amaranth or cocotb.
"""
