"""The non-step DW neuron as a circuit (golden.dw_neuron_circuit, seed section IV.1, Fig. 6)."""

from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import brentq

from golden.dw_neuron_circuit import (
    DwNeuronCircuit, check_read_disturb, characterise, linearity_error, oxide_for_margin, read_disturb,
    read_energy, transfer_curve,
)
from spinbase.errors import SpintwinError


@pytest.fixture(scope="module")
def circuit():
    return DwNeuronCircuit()


def test_output_rises_monotonically_with_input(circuit):
    i_in, i_out = transfer_curve(circuit, 201)
    assert np.all(np.diff(i_out) > 0)
    assert i_out[-1] > 2 * i_out[0]  # a usable span, not a flat line
    # The wall reaches the far edge exactly at full scale (the write pulse's definition).
    assert circuit.position(i_in[-1]) == pytest.approx(circuit.device.length, rel=1e-9)


def test_divider_node_against_an_independent_solution(circuit):
    """KCL at the node solved by scipy's brentq, with eq. 11 and MtjStack written out here."""
    st, f, v = circuit.stack, 0.37, circuit.read_voltage
    t = circuit.t_mgo

    def kcl(vn):
        vd = v - vn
        g_n = f / st.r_p_at(vd, t) + (1 - f) / st.r_ap_at(vd, t)
        return g_n * vd - vn / st.r_ap_at(vn, t)

    ref = brentq(kcl, 0.0, v, xtol=1e-14)
    assert circuit.node_voltage(f * circuit.device.length) == pytest.approx(ref, abs=1e-10)
    # Without the bias law the divider is linear: V_node = V G_n / (G_n + G_ref).
    lin = replace(circuit, bias_dependence=False)
    gp, gap = 1 / st.r_p_at(0.0, t), 1 / st.r_ap_at(0.0, t)
    g_n = f * gp + (1 - f) * gap
    assert lin.node_voltage(f * circuit.device.length) == pytest.approx(v * g_n / (g_n + gap), abs=1e-10)


def test_linearity_error_against_independent_least_squares(circuit):
    """The module's figure equals the max residual of numpy.linalg.lstsq's line over the span;
    and for y = x^2 on x_i = i / N (i = 0..N) the least-squares line has slope 1 ((x - 1/2)^2 is even
    about the mean, so uncorrelated with x) and offset mean(x^2) - 1/2, leaving the residual
    (x - 1/2)^2 - var(x), var(x) = (N + 2) / (12 N): at the ends (1/6)(1 - 1/N), the maximum for
    N > 3, over a span of 1."""
    i_in, i_out = transfer_curve(circuit, 101)
    a = np.stack([i_in, np.ones_like(i_in)], axis=1)
    coef = np.linalg.lstsq(a, i_out, rcond=None)[0]
    expect = np.max(np.abs(i_out - a @ coef)) / (i_out.max() - i_out.min()) * 100
    assert linearity_error(i_in, i_out) == pytest.approx(expect, rel=1e-9)
    x = np.linspace(0, 1, 101)
    assert linearity_error(x, x ** 2) == pytest.approx(100 / 6 * (1 - 1 / 100), rel=1e-10)
    assert linearity_error(x, 3 * x + 1) < 1e-9
    # Approximately linear (the seed): within 10 % of the span at the defaults.
    assert characterise(circuit)["linearity_error_pct"] < 10


def test_read_current_is_below_the_disturb_current_by_the_reported_margin(circuit):
    """The critical read current moves the wall exactly half a level in t_read; the largest read
    current moves it less, by the factor the margin reports (the velocity is linear in the current
    to r^2/2 = 0.35 % at 10.6 uA, so to < 0.01 % at < 1 uA)."""
    dev = circuit.device
    half_level = dev.length / (2 * (dev.levels - 1))
    r = read_disturb(circuit)
    assert dev.displacement(r["critical_current"], circuit.read_duration) == pytest.approx(half_level, rel=1e-9)
    moved = dev.displacement(r["read_current"], circuit.read_duration)
    assert moved < half_level
    assert half_level / moved == pytest.approx(r["margin"], rel=1e-4)
    assert check_read_disturb(circuit) == pytest.approx(r["margin"]) and r["margin"] >= 1
    # The largest read current is at the wall's far position (lowest divider resistance).
    xs = np.linspace(0, dev.length, 11)
    assert np.argmax(circuit.read_current(xs)) == 10


def test_overdriven_read_fails_the_margin_check(circuit):
    thin = replace(circuit, t_mgo=1.0e-9)  # 78x less resistance: ~27 uA, far above 0.7 uA
    assert read_disturb(thin)["margin"] < 1
    with pytest.raises(SpintwinError, match="disturbs the wall"):
        check_read_disturb(thin)
    with pytest.raises(SpintwinError):
        check_read_disturb(replace(circuit, read_duration=10e-9))  # same current, 10x the charge


def test_oxide_for_margin_and_read_energy(circuit):
    t = oxide_for_margin(3.0)
    assert read_disturb(replace(circuit, t_mgo=t))["margin"] == pytest.approx(3.0, rel=1e-9)
    assert t > oxide_for_margin(2.0)
    e = read_energy(circuit, 11)
    i_in = np.linspace(0, circuit.full_scale_input, 11)
    div = circuit.read_voltage * circuit.read_current(circuit.position(i_in)) * circuit.read_duration
    assert e["divider_mean"] == pytest.approx(div.mean(), rel=1e-12)
    assert e["output_mean"] == pytest.approx(
        (circuit.vdd * circuit.output_current(i_in) * circuit.read_duration).mean(), rel=1e-12)


def test_figures_write_pngs(tmp_path):
    """spintwin.figures_neurons' DW and LSV figures: files written, numbers from the golden models."""
    from spintwin.figures_neurons import dw_circuit_figure, lsv_figure

    d = dw_circuit_figure(tmp_path)
    assert (tmp_path / "dw_neuron_circuit.png").stat().st_size > 1000
    assert d["linearity_error_pct"] == pytest.approx(characterise()["linearity_error_pct"], rel=1e-12)
    s = lsv_figure(tmp_path, pitches=[5e-9, 50e-9], lambdas=(350e-9,))
    assert (tmp_path / "lsv_decay_fan_in.png").stat().st_size > 1000
    assert s["fan_in_limit"]["3.5e-07"][0] >= s["fan_in_limit"]["3.5e-07"][1] >= 1
