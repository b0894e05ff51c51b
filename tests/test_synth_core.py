"""Synthesis of the SNN cores against their stored baselines (boards/baselines/snn_core__*):
minutes of place-and-route per case, so only in `make test-long`. The default build must fit
the ECP5-85F (issue 5); on the iCE40-UP5K the report must say why it does not fit."""

import pytest

from boards.baselines import SLOW_CASES, check_regression, load_baseline
from boards.synth import TARGETS, synthesize, tools_missing

pytestmark = pytest.mark.long


@pytest.mark.parametrize("block, config, target", [(b, c, t) for (b, c) in SLOW_CASES for t in TARGETS])
def test_core_fits_and_has_not_regressed(block, config, target):
    if tools_missing(target):
        pytest.skip(f"{target} tools absent: {tools_missing(target)}")
    r = synthesize(SLOW_CASES[block, config](), block, target=target)
    base = load_baseline(block, config, target)
    if target == "ecp5-85f":
        assert r["fits"] is True, r["fits_reason"]
        assert 1.0 < r["fmax_mhz"] < 1000.0
        worse = check_regression(r, base)
        assert not worse, f"{block} {config} on {target} regressed beyond 10 %: {worse}"
    else:  # the UP5K has 8 DSPs and 30 BRAMs: the whole core cannot fit, and the report says so
        assert r["fits"] is False and r["fits_reason"], r
        assert base["fits"] is False
