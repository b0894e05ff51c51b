"""Physical constants (CODATA, via :mod:`scipy.constants`), SI units.

Every golden module takes its constants from here so that a single value of each
is used throughout the project.
"""

from scipy import constants as _c

__all__ = ["GAMMA", "MU0", "HBAR", "E_CHARGE", "KB", "MU_B"]

#: Electron gyromagnetic ratio magnitude, rad/(s T) (REFERENCES.md 1: 1.7609e11).
GAMMA: float = _c.physical_constants["electron gyromag. ratio"][0]
#: Vacuum permeability, T m / A.
MU0: float = _c.mu_0
#: Reduced Planck constant, J s.
HBAR: float = _c.hbar
#: Elementary charge, C.
E_CHARGE: float = _c.e
#: Boltzmann constant, J/K.
KB: float = _c.k
#: Bohr magneton, J/T.
MU_B: float = _c.physical_constants["Bohr magneton"][0]
