"""MTJ read-out (seed eqs. 2-4) and parameter validation of the golden models."""

import math

import numpy as np
import pytest

from golden import mtj
from golden.geometry import ellipsoid_demag, shape_anisotropy
from golden.llg import MacrospinParams, simulate


def test_resistance_end_points_and_midpoint():
    assert mtj.resistance(0.0, 1e3, 3e3) == pytest.approx(1e3, rel=1e-15)
    assert mtj.resistance(math.pi, 1e3, 3e3) == pytest.approx(3e3, rel=1e-12)
    # theta = pi/2: conductance is the mean of G_P and G_AP (eq. 4)
    assert 1 / mtj.resistance(math.pi / 2, 1e3, 3e3) == pytest.approx(0.5 * (1e-3 + 1 / 3e3), rel=1e-12)


def test_conductance_monotone_in_angle():
    g = mtj.conductance(np.linspace(0, math.pi, 50), 1e3, 2.5e3)
    assert np.all(np.diff(g) < 0)


def test_tmr_definition():
    assert mtj.tmr(1e3, 2.5e3) == pytest.approx(1.5)


def test_bias_model_halves_tmr_at_v_half_and_scales_with_oxide():
    s = mtj.MtjStack(r_p=1e3, r_ap=3e3)
    tmr_v = (s.r_ap_at(0.5) - s.r_p_at(0.5)) / s.r_p_at(0.5)
    assert tmr_v == pytest.approx(s.tmr0 / 2, rel=1e-12)
    assert s.r_p_at(0.3) == pytest.approx(1e3, rel=1e-12)  # P state bias independent
    assert s.r_ap_at(0.2) < s.r_ap_at(0.0)
    # 10x per 0.3 nm of MgO
    assert s.r_p_at(0.0, s.t_ref + 0.3e-9) == pytest.approx(10e3, rel=1e-9)
    assert s.resistance(math.pi, 0.5) == pytest.approx(s.r_ap_at(0.5), rel=1e-12)


def test_eq3_general_form():
    # c = 2 terms with d = 1: R ~ 1 / (e^0 + V^2 e^{b1} - V^4 e^{b2})
    f = mtj.oxide_bias_factor(0.0, 0.5, a=[0, 0, 0], b=[0.0, math.log(0.4), math.log(0.1)], d=1.0)
    assert f == pytest.approx(1 / (1 + 0.25 * 0.4 - 0.0625 * 0.1))


@pytest.mark.parametrize("bad, msg", [
    ({"r_p": -1.0, "r_ap": 2.0}, "r_p must be > 0"),
    ({"r_p": 2.0, "r_ap": 1.0}, "r_ap must be >= r_p"),
])
def test_mtj_bad_values(bad, msg):
    with pytest.raises(ValueError, match=msg):
        mtj.tmr(**bad)


@pytest.mark.parametrize("field, value, bound", [
    ("ms", -1.0, "> 0 A/m"),
    ("alpha", 0.0, "in \\(0, 10\\]"),
    ("volume", 0.0, "> 0 m\\^3"),
    ("hk", -5.0, ">= 0 A/m"),
    ("temperature", -1.0, ">= 0 K"),
    ("spin_efficiency", float("nan"), "a finite number"),
])
def test_macrospin_params_validation_names_field_bound_value(field, value, bound):
    kwargs = dict(ms=1e6, alpha=0.1, volume=1e-24)
    kwargs[field] = value
    with pytest.raises(ValueError, match=f"MacrospinParams.{field} must be {bound}, not {value!r}"):
        MacrospinParams(**kwargs)


def test_macrospin_vector_validation():
    with pytest.raises(ValueError, match="easy_axis must be a non-zero vector"):
        MacrospinParams(ms=1e6, alpha=0.1, volume=1e-24, easy_axis=(0, 0, 0))
    with pytest.raises(ValueError, match="demag must be factors"):
        MacrospinParams(ms=1e6, alpha=0.1, volume=1e-24, demag=(0.5, 0.5, 0.5))
    p = MacrospinParams(ms=1e6, alpha=0.1, volume=1e-24, polarization=(0, 2, 0))
    assert p.polarization == (0.0, 1.0, 0.0)


def test_simulate_shape_contract():
    p = MacrospinParams(ms=1e6, alpha=0.1, volume=1e-24, hk=1e5, temperature=300)
    assert simulate(p, [0, 0, 1], dt=1e-13, steps=3, rng=0).shape == (3,)
    assert simulate(p, np.ones((4, 3)), current=np.arange(4) * 1e-6, dt=1e-13, steps=3, rng=0).shape == (4, 3)
    t, m = simulate(p, np.ones((4, 3)), current=lambda t: 1e-6, dt=1e-13, steps=10, rng=0, record_every=5)
    assert t.shape == (3,) and m.shape == (3, 4, 3)
    with pytest.raises(ValueError, match="current must be a scalar or have shape"):
        simulate(p, np.ones((4, 3)), current=np.ones(3), dt=1e-13, steps=3)
    with pytest.raises(ValueError, match="dt must be > 0"):
        simulate(p, [0, 0, 1], dt=-1.0, steps=3)


def test_demag_factors_sum_and_limits():
    n = ellipsoid_demag(1.0, 1.0, 1.0)
    assert n == pytest.approx((1 / 3, 1 / 3, 1 / 3), rel=1e-12)
    thin = ellipsoid_demag(50.0, 50.0, 0.5)
    assert sum(thin) == pytest.approx(1.0, rel=1e-12) and thin[2] > 0.97
    hk, res = shape_anisotropy(1e6, (0.03, 0.01, 0.96), easy=1)
    assert hk == pytest.approx(2e4) and res == pytest.approx((0.0, 0.0, 0.93))
