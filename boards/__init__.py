"""spintwin boards layer: synthesis and place-and-route reports for iCE40 and ECP5 targets
(``boards.synth``), and stored resource baselines with a regression check
(``boards.baselines``)."""

from boards.baselines import check_regression, load_baseline, save_baseline
from boards.synth import TARGETS, SynthError, synthesize, tools_missing

__all__ = ["TARGETS", "SynthError", "check_regression", "load_baseline", "save_baseline",
           "synthesize", "tools_missing"]
