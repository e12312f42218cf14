"""The periodic table of a screen: each element coloured by nhm's verdict and marked by its measured Tc.

``render_periodic_table`` draws it with matplotlib (PNG and SVG bytes); ``render_html`` writes a
self-contained page (no scripts, no network) with the numbers of each element on hover and the tables.
"""

from __future__ import annotations

import html
import io
from typing import Any

from nhm.screen.report import ReportRow, ScreenReport, format_tc

__all__ = ["CATEGORIES", "category", "position", "render_html", "render_periodic_table", "render_sweep"]

# fill colour, text colour, legend label
CATEGORIES = {
    "sc": ("#c2185b", "#ffffff", "superconducting band found"),
    "none": ("#9dcbe8", "#102a43", "no superconducting band"),
    "failed": ("#7b7b7b", "#ffffff", "computation failed"),
    "missing": ("#eeeeee", "#9a9a9a", "not computed"),
}
MEASURED_EDGE = "#111111"


def position(z: int) -> tuple[float, int]:
    """(row, column) of element ``z`` in an 18-column table; lanthanides and actinides in two rows below."""
    if 57 <= z <= 71:
        return 8.3, 3 + z - 57
    if 89 <= z <= 103:
        return 9.3, 3 + z - 89
    starts = [(1, 1), (2, 3), (3, 11), (4, 19), (5, 37), (6, 55), (7, 87)]
    period, start = max((p, s) for p, s in starts if s <= z)
    o = z - start
    if period == 1:
        return 1, 1 if o == 0 else 18
    if period in (2, 3):
        return period, o + 1 if o < 2 else o + 11
    if period in (4, 5):
        return period, o + 1
    return period, o + 1 if o < 2 else o - 13


def category(row: ReportRow | None) -> str:
    if row is None:
        return "missing"
    if row.status != "ok":
        return "failed"
    return "sc" if row.verdict == "superconducting" else "none"


def _element_rows(rep: ScreenReport) -> dict[str, ReportRow]:
    """One row per element: the one in the matrix if any, else the newest."""
    out: dict[str, ReportRow] = {}
    for r in rep.rows:
        if not r.element:
            continue
        old = out.get(r.element)
        if old is None or (r.in_matrix and not old.in_matrix) or (r.in_matrix == old.in_matrix and r.id > old.id):
            out[r.element] = r
    return out


def _summary_line(rep: ScreenReport) -> str:
    m = rep.matrix
    pr = lambda x: "n/a" if x is None else f"{x:.2f}"  # noqa: E731
    return (f"TP {m['TP']}, FP {m['FP']}, FN {m['FN']}, TN {m['TN']}: precision {pr(rep.precision)}, "
            f"recall {pr(rep.recall)} over {sum(m.values())} elements")


def _parameters_lines(rep: ScreenReport) -> list[str]:
    p = rep.parameters or {}
    d = p.get("dft", {})
    lines = []
    if d:
        lines.append(f"GPAW {d.get('xc', '?')}, {d.get('mode_ecut_eV', 0):g} eV, k mesh {d.get('kmesh', '?')}³, smearing "
                     f"{d.get('smearing_eV', 0):g} eV, lines every {p.get('spacing', '?')} 1/Å, zone mesh "
                     f"{p.get('mesh') or d.get('kmesh', '?')}³; params {rep.params_hash}")
    for crit in rep.criteria:
        lines.append(f"criteria: a connected band passing test S, failing test U, filling {crit['filling_min']:g}–"
                     f"{crit['filling_max']:g}, width ≤ {crit['width_factor']:g} × the "
                     f"{crit.get('width_reference') or 'free-electron'} width" + (" (re-judged)" if rep.rejudged else ""))
    return lines


def _parameters_line(rep: ScreenReport) -> str:
    return "; ".join(_parameters_lines(rep))


def render_periodic_table(rep: ScreenReport, formats: tuple[str, ...] = ("png", "svg")) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import patheffects
    from matplotlib.patches import Patch, Rectangle
    from ase.data import chemical_symbols

    from nhm.screen.elements import measured

    lit = measured()
    rows = _element_rows(rep)
    fig, ax = plt.subplots(figsize=(17, 11))
    ax.set_xlim(0.5, 18.6)
    ax.set_ylim(9.85, 0.05)
    ax.set_aspect("equal")
    ax.axis("off")
    w = 0.94
    for z in range(1, 104):
        sym = chemical_symbols[z]
        r, c = position(z)
        row = rows.get(sym)
        cat = category(row)
        fill, ink, _ = CATEGORIES[cat]
        entry = lit.get(sym, {})
        sc_measured = entry.get("superconducting") is True
        x0, y0 = c - w / 2, r - w / 2
        ax.add_patch(Rectangle((x0, y0), w, w, facecolor=fill, edgecolor="#ffffff", linewidth=0.8))
        if row is not None and row.status == "ok" and not row.in_matrix:
            ax.add_patch(Rectangle((x0, y0), w, w, facecolor="none", edgecolor=(1, 1, 1, 0.6), hatch="//", linewidth=0))
        if sc_measured:
            ax.add_patch(Rectangle((x0 + 0.045, y0 + 0.045), w - 0.09, w - 0.09, facecolor="none",
                                   edgecolor=MEASURED_EDGE, linewidth=2.6))
        ax.text(x0 + 0.09, y0 + 0.1, str(z), fontsize=6.5, color=ink, va="top", ha="left")
        halo = [patheffects.withStroke(linewidth=3, foreground=fill)]
        ax.text(c, r - 0.06, sym, fontsize=15, fontweight="bold", color=ink, ha="center", va="center", path_effects=halo)
        if sc_measured:
            tc = format_tc(entry.get("tc_K"))
            if entry.get("confidence") == "uncertain":
                tc += "?"
            ax.text(c, y0 + w - 0.12, tc, fontsize=7.5, color=ink, ha="center", va="bottom", fontweight="bold",
                    path_effects=halo)
        if row is not None and row.outcome:
            good = row.outcome in ("TP", "TN")
            colour = {("sc", True): "#c8ffd0", ("sc", False): "#ffe14d", ("none", True): "#0b6b2c", ("none", False): "#b00020"}
            ax.text(x0 + w - 0.08, y0 + 0.07, "✓" if good else "✗", fontsize=11, ha="right", va="top",
                    color=colour[(cat, good)], fontweight="bold")
        if cat == "failed":  # above the Tc if there is one
            ax.text(c, y0 + w - (0.3 if sc_measured else 0.12), "failed", fontsize=6.5, color=ink, ha="center", va="bottom")
    for r, label in ((6, "57–71"), (7, "89–103")):
        ax.text(3, r, label, fontsize=8, color="#777777", ha="center", va="center")
    # legend and numbers in the empty space above the transition metals
    handles = [Patch(facecolor=CATEGORIES[k][0], edgecolor="#999999", label=CATEGORIES[k][2]) for k in CATEGORIES]
    handles.append(Patch(facecolor="white", edgecolor=MEASURED_EDGE, linewidth=2.6,
                         label="measured superconductor at ambient pressure (Tc; ? uncertain)"))
    handles.append(Patch(facecolor="#9dcbe8", edgecolor="#ffffff", hatch="//",
                         label="computed, left out of the matrix (magnetic, other phase, uncertain)"))
    handles.append(Patch(facecolor="white", edgecolor="white", label="✓ / ✗  verdict agrees / disagrees with experiment"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(2.5, 0.45), bbox_transform=ax.transData, fontsize=9.5,
              frameon=False, ncol=2, handlelength=1.6, handleheight=1.2, columnspacing=1.4)
    ax.text(2.6, 2.45, _summary_line(rep), fontsize=11.5, ha="left", va="center", fontweight="bold")
    for i, line in enumerate(_parameters_lines(rep)):
        ax.text(2.6, 2.85 + 0.3 * i, line, fontsize=8.3, ha="left", va="center", color="#444444")
    ax.set_title("Superconducting bands (Krüger's NHM, computed by nhm) against measured superconductivity of the elements",
                 fontsize=14, pad=6)
    fig.tight_layout()
    out = {}
    for fmt in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=150, bbox_inches="tight")
        out[fmt] = buf.getvalue()
    plt.close(fig)
    return out


REFERENCE_COLOURS = {"free-electron": "#c2185b", "median": "#1565c0", "widest": "#2e7d32"}


def render_sweep(rep: ScreenReport, formats: tuple[str, ...] = ("png", "svg")) -> dict[str, bytes]:
    """Precision (solid) and recall (dashed) against the width factor, one colour per width reference."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.8))
    for ref, pts in rep.sweep.items():
        colour = REFERENCE_COLOURS.get(ref, "0.3")
        f = [p.factor for p in pts]
        ax.plot(f, [float("nan") if p.precision is None else p.precision for p in pts], color=colour, lw=2,
                label=f"precision, × {ref} width")
        ax.plot(f, [float("nan") if p.recall is None else p.recall for p in pts], color=colour, lw=2, ls="--",
                label=f"recall, × {ref} width")
    crit = rep.criteria[0] if rep.criteria else {}
    ax.axvline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("width factor: narrow means width ≤ factor × reference width")
    ax.set_ylabel("precision / recall")
    ax.set_ylim(-0.03, 1.03)
    n = next((sum(p.matrix.values()) for pts in rep.sweep.values() for p in pts[:1]), 0)
    ax.set_title(f"The width criterion over the screen ({n} elements; filling "
                 f"{crit.get('filling_min', 0.25):g}–{crit.get('filling_max', 0.75):g})", fontsize=11)
    ax.legend(fontsize=8, ncol=2, loc="lower right", frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out = {}
    for fmt in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=150)
        out[fmt] = buf.getvalue()
    plt.close(fig)
    return out


# --- HTML -----------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#222}
.pt{display:grid;grid-template-columns:repeat(18,4.2em);grid-auto-rows:4.2em;gap:3px;margin:1em 0}
.cell{position:relative;border-radius:3px;padding:2px 4px;box-sizing:border-box;cursor:default}
.cell .z{font-size:.65em}.cell .s{font-size:1.35em;font-weight:bold;text-align:center;line-height:1.3}
.cell .t{font-size:.68em;text-align:center;font-weight:bold}
.cell.meas{box-shadow:inset 0 0 0 3px #111}
.cell.excl{background-image:repeating-linear-gradient(45deg,rgba(255,255,255,.55) 0 3px,transparent 3px 8px)}
.cell .mark{position:absolute;top:1px;right:4px;font-weight:bold}
.cell .tip{display:none;position:absolute;z-index:10;left:3.8em;top:0;width:24em;background:#fffef4;color:#222;
 border:1px solid #888;padding:.5em .7em;font-size:.8em;box-shadow:2px 2px 6px rgba(0,0,0,.3);text-align:left}
.cell.left .tip{left:auto;right:3.8em}
.cell:hover .tip,.cell:focus .tip{display:block}
.tip b{display:block;font-size:1.1em;margin-bottom:.2em}
.tip table td{padding:0 .4em 0 0;vertical-align:top}
.legend span{display:inline-block;margin-right:1.2em}
.legend i{display:inline-block;width:1.1em;height:1.1em;vertical-align:middle;margin-right:.3em;border-radius:2px}
table.data{border-collapse:collapse;font-size:.85em;margin:1em 0}
table.data td,table.data th{border:1px solid #ccc;padding:2px 6px;text-align:left}
"""


def _tip(sym: str, z: int, row: ReportRow | None, entry: dict[str, Any]) -> str:
    def line(k: str, v: Any) -> str:
        return "" if v in (None, "") else f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"

    parts = [f"<b>{z} {html.escape(sym)}</b><table>"]
    if row is None:
        parts.append(line("nhm", "not computed"))
    else:
        parts.append(line("crystal", f"{row.name}: {row.formula}, space group {row.space_group} "
                                     f"{row.international}, {row.pearson}"))
        if row.status == "ok":
            parts.append(line("verdict", "superconducting band" if row.verdict == "superconducting" else "no superconducting band"))
            parts.append(line("reason", row.reason))
            b = row.best
            if b:
                parts.append(line("best candidate", f"{b.get('band', '')} (reading {b.get('reading', '')})"))
                parts.append(line("site irreps", b.get("site")))
                parts.append(line("width", None if b.get("width") is None else f"{b['width']:.3f} eV"))
                parts.append(line("filling", None if b.get("filling") is None else f"{b['filling']:.3f}"))
                parts.append(line("DOS at E_F", None if b.get("dos") is None else f"{b['dos']:.4f} /eV/spin/cell"))
            parts.append(line("E_F", None if row.fermi_level is None else f"{row.fermi_level:.3f} eV (GPAW zero)"))
        else:
            parts.append(line("failed", row.error))
        parts.append(line("run time", None if row.runtime_s is None else f"{row.runtime_s:.0f} s"))
        parts.append(line("matrix", row.outcome or row.excluded_reason))
    sc = entry.get("superconducting")
    measured = ("not known" if sc is None else
                (f"superconductor, Tc = {format_tc(entry.get('tc_K'))}" if sc else "not a superconductor"))
    if sc is not None and entry.get("confidence") == "uncertain":
        measured += " (uncertain)"
    parts.append(line("measured", measured + " at ambient pressure"))
    parts.append(line("phase", (entry.get("phase") or {}).get("name")))
    parts.append(line("note", entry.get("note")))
    parts.append(line("sources", ", ".join(entry.get("sources", []))))
    parts.append("</table>")
    return "".join(parts)


def render_html(rep: ScreenReport) -> str:
    from ase.data import chemical_symbols

    from nhm.screen.elements import measured
    from nhm.screen.report import report_json

    lit = measured()
    rows = _element_rows(rep)
    cells = []
    for z in range(1, 104):
        sym = chemical_symbols[z]
        r, c = position(z)
        grid_row = {8.3: 9, 9.3: 10}.get(r, int(r))
        row = rows.get(sym)
        cat = category(row)
        fill, ink, _ = CATEGORIES[cat]
        entry = lit.get(sym, {})
        classes = ["cell"]
        if entry.get("superconducting") is True:
            classes.append("meas")
        if row is not None and row.status == "ok" and not row.in_matrix:
            classes.append("excl")
        if c > 11:
            classes.append("left")  # the tooltip opens towards the middle of the page
        tc = format_tc(entry.get("tc_K")) + ("?" if entry.get("confidence") == "uncertain" else "") if entry.get("superconducting") else ""
        mark = "" if row is None or not row.outcome else ("✓" if row.outcome in ("TP", "TN") else "✗")
        cells.append(
            f'<div class="{" ".join(classes)}" tabindex="0" style="grid-row:{grid_row};grid-column:{c};'
            f'background-color:{fill};color:{ink}"><div class="z">{z}</div><div class="s">{sym}</div>'
            f'<div class="t">{html.escape(tc)}</div><div class="mark">{mark}</div>'
            f'<div class="tip">{_tip(sym, z, row, entry)}</div></div>'
        )
    legend = "".join(f'<span><i style="background:{f}"></i>{html.escape(lbl)}</span>' for f, _, lbl in CATEGORIES.values())
    legend += ('<span><i style="box-shadow:inset 0 0 0 3px #111"></i>measured superconductor at ambient pressure</span>'
               '<span><i class="excl" style="background:#9dcbe8;background-image:repeating-linear-gradient(45deg,'
               'rgba(255,255,255,.55) 0 3px,transparent 3px 8px)"></i>left out of the matrix</span>'
               '<span>✓/✗ verdict agrees/disagrees with experiment</span>')
    m = rep.matrix
    doc = report_json(rep)
    table_rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in (
            r.name, r.space_group, r.pearson, r.status, r.verdict, r.best.get("band"), r.best.get("reading"),
            None if r.best.get("width") is None else f"{r.best['width']:.2f}",
            None if r.best.get("filling") is None else f"{r.best['filling']:.2f}",
            format_tc(r.measured_tc_K) if r.measured_superconducting else ("no" if r.measured_superconducting is False else ""),
            r.outcome or r.excluded_reason or r.error)) + "</tr>"
        for r in rep.rows
    )
    head = "".join(f"<th>{h}</th>" for h in ("crystal", "SG", "Pearson", "status", "verdict", "best candidate", "R",
                                              "width (eV)", "filling", "measured Tc", "matrix / note"))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>nhm screen: {html.escape(rep.db)}</title>
<style>{_CSS}</style></head><body>
<h1>Superconducting bands against measured superconductivity</h1>
<p>{html.escape(_parameters_line(rep))}. Hover over (or tab to) an element for its numbers.</p>
<div class="legend">{legend}</div>
<div class="pt">{''.join(cells)}</div>
<h2>Confusion matrix</h2>
<table class="data"><tr><th></th><th>measured superconductor</th><th>not a superconductor</th></tr>
<tr><th>superconducting band found</th><td>{m['TP']}</td><td>{m['FP']}</td></tr>
<tr><th>no superconducting band</th><td>{m['FN']}</td><td>{m['TN']}</td></tr></table>
<p>{html.escape(_summary_line(rep))}. Left out: {html.escape('; '.join(f"{e['name']} ({e['reason']})" for e in doc['excluded_from_matrix']) or 'none')}.</p>
<h2>Crystals</h2>
<table class="data"><tr>{head}</tr>{table_rows}</table>
<p>Measured values: nhm/data/elements_superconductivity.json (shipped with nhm), sources:
{html.escape('; '.join(f'{k}: {v}' for k, v in rep.sources.items()))}</p>
</body></html>
"""
