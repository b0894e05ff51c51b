"""spinbase: the leaf layer every other package may import (DESIGN.md section 1).

It imports nothing of the project: user-facing error kinds (:mod:`spinbase.errors`), atomic
file writes (:mod:`spinbase.fileio`), file locks (:mod:`spinbase.locks`) and the offline data
sets (:mod:`spinbase.data`).
"""

__all__ = ["errors", "fileio", "data", "locks"]
