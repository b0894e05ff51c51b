"""Synthesis of the twin's macrospin integrator (configs/default.toml) against its stored
baseline (boards/baselines/macrospin__twin-default__*.json): fails on a > 10 % regression.

ECP5 synthesis and place-and-route of the 5-lane twin take ~20 min under YoWASP (Yosys 2.5 min,
nextpnr router2 15 min), so this is `make test-long`
(results are cached by the design's hash, so a rerun on an unchanged design is instant).
"""

import pytest

from boards.baselines import check_regression, load_baseline
from boards.synth import tools_missing
from spintwin.config import load_config
from spintwin.flow import synth


@pytest.mark.long
@pytest.mark.parametrize("target", ["ecp5-85f", "ice40-up5k"])
def test_macrospin_synthesis_not_regressed(target):
    missing = tools_missing(target)
    if missing:
        pytest.skip(missing)
    res = synth("macrospin", load_config(), target=target)
    base = load_baseline("macrospin", "twin-default", target)
    assert res["fits"] == base["fits"]
    assert check_regression(res, base) == []
