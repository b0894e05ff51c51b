"""Verilog export of Amaranth designs (the one place that calls Amaranth's back end)."""

from __future__ import annotations

__all__ = ["export_verilog"]


def export_verilog(component, name: str, ports=None, *, emit_src: bool = True) -> str:
    """Verilog text for an Amaranth component, top module named *name*.

    For a ``wiring.Component`` the ports come from its signature (plus ``clk``/``rst`` of
    the sync domain); pass *ports* for a plain Elaboratable. ``emit_src=False`` leaves out
    the ``(* src = "file:line" *)`` attributes, so the text does not depend on the checkout.
    """
    from amaranth.back import verilog

    return verilog.convert(component, name=name, ports=ports, emit_src=emit_src)
