"""Reports of ``spintwin explore``: the results table (CSV, JSON), Pareto fronts and plots,
and the numerical-profile table (CSV, Markdown) and box plots.

Files written into the sweep's output folder by :func:`write_reports`: ``results.json``,
``results.csv`` (one row per point: id, status, label, the point's config in the space's
order, the :data:`METRICS`, error, the point's design file ``toml``), ``pareto.md`` and
``pareto.json`` (the Pareto points of accuracy against energy and against LUTs, each with its
design file), ``pareto_luts.png`` and ``pareto_energy.png`` (accuracy
against LUTs and against energy per inference of the network points, the front of
:func:`pareto_front` highlighted), ``profile.csv``, ``profile.md`` and ``profile/<id>.png``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from spinbase.fileio import atomic_write_json, atomic_write_text

__all__ = ["METRICS", "PARETO_COSTS", "pareto_front", "pareto_points", "pareto_lines", "results_row", "write_reports"]

_KINDS = ("twin-if", "cmos-if", "twin-stochastic")


def _keyed(point: dict) -> dict:
    return {k: v for k, v in point.items() if k != "axes"}

# Pareto --------------------------------------------------------------------------------------------
def pareto_front(cost, value) -> np.ndarray:
    """Indices (ascending cost) of the points no other point dominates.

    Point j dominates i when ``cost[j] <= cost[i]`` and ``value[j] >= value[i]`` with at least
    one strict (lower cost is better, higher value is better). Identical points are all kept.
    NaN entries are never on the front.
    """
    c = np.asarray(cost, dtype=float)
    v = np.asarray(value, dtype=float)
    if c.shape != v.shape or c.ndim != 1:
        raise ValueError(f"cost and value must be 1-D of one length, not {c.shape} and {v.shape}")
    ok = np.isfinite(c) & np.isfinite(v)
    idx = np.flatnonzero(ok)
    cc, vv = c[idx], v[idx]
    le, ge = cc[:, None] <= cc[None, :], vv[:, None] >= vv[None, :]      # [j, i]: j no worse than i
    strict = (cc[:, None] < cc[None, :]) | (vv[:, None] > vv[None, :])
    dominated = (le & ge & strict).any(axis=0)
    front = idx[~dominated]
    return front[np.lexsort((-v[front], c[front]))]



#: Scalar metrics of the results table, in column order.
METRICS = ("accuracy", "accuracy_se", "energy_J", "spin_J", "cmos_J", "energy_ratio", "cycles_per_image",
           "lut", "ff", "dsp", "bram", "fmax_mhz", "fits", "throughput_ips", "fidelity_max_dev", "fidelity_max_z",
           "fidelity_pass", "saturations", "throughput_magnet_steps_per_s", "seconds")


def results_row(rec: dict, point: dict, toml: str | None = None, toml_note: str | None = None) -> dict:
    """One results row: config columns in the space's order (not the record's), then metrics,
    then ``toml`` (the point's design file relative to the output folder, or None with the
    reason in ``toml_note``; :mod:`spintwin.explore_design`)."""
    m = rec.get("metrics", {})
    row = {"id": rec["id"], "status": rec["status"], "label": rec["label"], **_keyed(point)}
    row.update({k: m.get(k) for k in METRICS if k != "seconds"})
    row["seconds"] = rec.get("seconds")
    row["error"] = rec.get("error")
    row["toml"] = toml
    if toml_note is not None:
        row["toml_note"] = toml_note
    return row


#: The costs each Pareto front weighs accuracy against: (results column, heading, unit format).
PARETO_COSTS = (("energy_J", "energy per inference", "{:.3g} J"), ("lut", "LUTs", "{:d} LUT"))


def pareto_points(rows: list[dict]) -> dict:
    """{cost: the rows on the front of accuracy against that cost, ascending cost} over the
    network points that completed (:func:`pareto_front`); a cost no row has is left out."""
    net = [r for r in rows if r["type"] == "network" and r["status"] == "ok" and r.get("accuracy") is not None]
    fronts = {}
    for cost, _, _ in PARETO_COSTS:
        pts = [r for r in net if r.get(cost) is not None]
        if pts:
            front = pareto_front([r[cost] for r in pts], [r["accuracy"] for r in pts])
            fronts[cost] = [pts[i] for i in front]
    return fronts


def _pareto_table(rows: list[dict], cost: str, unit: str) -> list[str]:
    out = ["| accuracy | " + cost + " | point | id | design (TOML) |", "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {100 * r['accuracy']:.1f} % | {unit.format(r[cost])} | {r['label']} | `{r['id']}` | "
                   + (f"`{r['toml']}`" if r.get("toml") else f"none ({r.get('toml_note', '')})") + " |")
    return out


def _pareto_markdown(fronts: dict) -> str:
    lines = ["# Pareto points", "",
             "Network points no other point beats in both accuracy and cost. Each design file builds and "
             "checks exactly that point:", "",
             "    spintwin generate core --config points/<id>.toml --out out/rtl",
             "    spintwin verify core --config points/<id>.toml --images 10", ""]
    for cost, head, unit in PARETO_COSTS:
        if cost in fronts:
            lines += [f"## Accuracy against {head}", ""] + _pareto_table(fronts[cost], cost, unit) + [""]
    if not fronts:
        lines.append("No network point completed.")
    return "\n".join(lines) + "\n"


def pareto_lines(rows: list[dict], out: Path) -> list[str]:
    """The Pareto fronts as console lines, each design file with its absolute path."""
    lines = []
    for cost, head, unit in PARETO_COSTS:
        for i, r in enumerate(pareto_points(rows).get(cost, [])):
            if i == 0:
                lines.append(f"explore: Pareto front, accuracy against {head}:")
            toml = str((Path(out) / r["toml"]).resolve()) if r.get("toml") else f"(no design: {r.get('toml_note')})"
            lines.append(f"  {100 * r['accuracy']:5.1f} %  {unit.format(r[cost]):>12}  {r['label']}  {toml}")
    return lines


def _csv_text(rows: list[dict], first=()) -> str:
    cols = list(first)
    for r in rows:
        cols += [k for k in r if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (json.dumps(v) if isinstance(v, (list, dict)) else ("" if v is None else v))
                    for k, v in r.items()})
    return buf.getvalue()


def write_reports(out: Path, records: dict, rows: list[dict]) -> list[Path]:
    """Write every report of a sweep; ``rows`` from :func:`results_row`, ``records`` by id."""
    from .explore_profile import PROFILE_COLUMNS, plot_profile, profile_rows_csv

    files = [atomic_write_json(out / "results.json", rows)]
    fronts = pareto_points(rows)
    files.append(atomic_write_json(out / "pareto.json", {
        cost: [{k: r.get(k) for k in ("id", "label", "accuracy", "accuracy_se", cost, "toml", "toml_note")
                if r.get(k) is not None} for r in front] for cost, front in fronts.items()}))
    files.append(atomic_write_text(out / "pareto.md", _pareto_markdown(fronts)))
    files.append(atomic_write_text(out / "results.csv", _csv_text(rows, ("id", "status", "label", "type", "kind"))))
    net = [r for r in rows if r["type"] == "network" and r["status"] == "ok"]
    files.append(_pareto_plot(out / "pareto_luts.png", net, "lut", "LUTs (representative RTL)"))
    files.append(_pareto_plot(out / "pareto_energy.png", net, "energy_J", "energy per inference (J)", log=True))
    prof = []
    for r in net:
        table = records[r["id"]]["metrics"].get("profile")
        if table:
            prof += profile_rows_csv(r["id"], table)
            files.append(out / "profile" / f"{r['id']}.png")
            plot_profile(table, files[-1], f"{r['label']} ({r['id']})")
    if prof:
        files.append(atomic_write_text(out / "profile.csv", _csv_text(prof, PROFILE_COLUMNS)))
        files.append(atomic_write_text(out / "profile.md", _profile_markdown(net, records)))
    return files


_PROFILE_COLS = ("layer", "quantity", "min", "p1", "p99", "max", "lo", "hi", "width", "used_bits", "unused_msbs",
                 "saturated", "flag")


def _profile_markdown(rows: list[dict], records: dict) -> str:
    """profile.md: per point, observed ranges against the formats (integer units)."""
    lines = ["# Numerical profile", "",
             "Observed integer values of the bit-accurate model against the representable range of "
             "each format; `saturated` counts values outside [lo, hi]. See spintwin/explore_profile.py.", ""]
    for r in rows:
        table = records[r["id"]]["metrics"].get("profile")
        if not table:
            continue
        lines += [f"## {r['label']} (`{r['id']}`)", "", "| " + " | ".join(_PROFILE_COLS) + " |",
                  "|" + "---|" * len(_PROFILE_COLS)]
        lines += ["| " + " | ".join(str(t.get(c, "")) for c in _PROFILE_COLS) + " |" for t in table]
        lines.append("")
    return "\n".join(lines)


def _pareto_plot(path: Path, rows: list[dict], cost: str, xlabel: str, log: bool = False) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spinbase.fileio import atomic_savefig

    pts = [r for r in rows if r.get(cost) is not None and r.get("accuracy") is not None]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    if not pts:
        ax.text(0.5, 0.5, f"no {cost} values (synth = false?)", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        c = np.array([r[cost] for r in pts], float)
        a = np.array([r["accuracy"] for r in pts], float) * 100
        front = pareto_front(c, a)
        for kind, colour in zip(_KINDS, ("tab:blue", "tab:orange", "tab:green")):
            sel = [i for i, r in enumerate(pts) if r.get("kind") == kind]
            if sel:
                ax.scatter(c[sel], a[sel], s=22, color=colour, alpha=0.6, label=kind)
        ax.step(c[front], a[front], where="post", color="k", lw=1)
        ax.scatter(c[front], a[front], s=60, facecolors="none", edgecolors="k", label="Pareto front")
        if log:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("accuracy (%)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    ax.set_title(f"accuracy against {cost}", fontsize=10)
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=100)
    plt.close(fig)
    return path
