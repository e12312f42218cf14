"""The periodic table of a screen (each element coloured by nhm's verdict and marked by its measured Tc) and the
width sweep, drawn with matplotlib (PNG and SVG bytes). The hoverable HTML page of the periodic table is
:mod:`nhm.screen.pages`; it shares the layout helpers here (``position``, ``category``, ``element_rows``).
"""

from __future__ import annotations

import io

from nhm.screen.report import ReportRow, ScreenReport, format_tc

__all__ = ["CATEGORIES", "category", "element_rows", "parameters_lines", "position", "render_periodic_table",
           "render_sweep", "save_figure", "summary_line"]

# fill colour, text colour, legend label
CATEGORIES = {
    "sc": ("#c2185b", "#ffffff", "superconducting band found"),
    "none": ("#9dcbe8", "#102a43", "no superconducting band"),
    "failed": ("#7b7b7b", "#ffffff", "computation failed"),
    "missing": ("#eeeeee", "#9a9a9a", "not computed"),
}
MEASURED_EDGE = "#111111"


def save_figure(fig, formats: tuple[str, ...], **options) -> dict[str, bytes]:
    """``{format: bytes}`` of a matplotlib figure at 150 dpi, then closed (``options``: more savefig arguments)."""
    import matplotlib.pyplot as plt

    out = {}
    for fmt in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=150, **options)
        out[fmt] = buf.getvalue()
    plt.close(fig)
    return out


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


def element_rows(rep: ScreenReport) -> dict[str, ReportRow]:
    """One row per element: the one in the matrix if any, else the newest."""
    out: dict[str, ReportRow] = {}
    for r in rep.rows:
        if not r.element:
            continue
        old = out.get(r.element)
        if old is None or (r.in_matrix and not old.in_matrix) or (r.in_matrix == old.in_matrix and r.id > old.id):
            out[r.element] = r
    return out


def summary_line(rep: ScreenReport) -> str:
    m = rep.matrix
    pr = lambda x: "n/a" if x is None else f"{x:.2f}"  # noqa: E731
    return (f"TP {m['TP']}, FP {m['FP']}, FN {m['FN']}, TN {m['TN']}: precision {pr(rep.precision)}, "
            f"recall {pr(rep.recall)} over {sum(m.values())} elements")


def parameters_lines(rep: ScreenReport) -> list[str]:
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


def render_periodic_table(rep: ScreenReport, formats: tuple[str, ...] = ("png", "svg")) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import patheffects
    from matplotlib.patches import Patch, Rectangle
    from ase.data import chemical_symbols

    from nhm.screen.elements import measured

    lit = measured()
    rows = element_rows(rep)
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
    ax.text(2.6, 2.45, summary_line(rep), fontsize=11.5, ha="left", va="center", fontweight="bold")
    for i, line in enumerate(parameters_lines(rep)):
        ax.text(2.6, 2.85 + 0.3 * i, line, fontsize=8.3, ha="left", va="center", color="#444444")
    ax.set_title("Superconducting bands (Krüger's NHM, computed by nhm) against measured superconductivity of the elements",
                 fontsize=14, pad=6)
    fig.tight_layout()
    return save_figure(fig, formats, bbox_inches="tight")


REFERENCE_COLOURS = {"free-electron": "#c2185b", "median": "#1565c0", "widest": "#2e7d32"}


REFERENCE_STYLES = {"free-electron": ("o", "-"), "median": ("s", "--"), "widest": ("^", ":")}


def render_sweep(sweep: dict, rep: ScreenReport, what: str = "elements",
                 formats: tuple[str, ...] = ("png", "svg")) -> dict[str, bytes]:
    """Precision (top) and recall (bottom) against the width factor, one colour, marker and line style per width
    reference (lines that coincide stay visible), for the sweep ``sweep`` (``rep.sweep``: the elements,
    ``rep.compound_sweep``: the compounds). A factor with no positive verdict has no precision (a gap)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.4), sharex=True)
    for ref, pts in sweep.items():
        colour = REFERENCE_COLOURS.get(ref, "0.3")
        marker, style = REFERENCE_STYLES.get(ref, ("x", "-."))
        f = [p.factor for p in pts]
        precision = [float("nan") if p.precision is None else p.precision for p in pts]
        recall = [float("nan") if p.recall is None else p.recall for p in pts]
        kw = {"color": colour, "lw": 1.8, "ls": style, "marker": marker, "ms": 5, "mfc": "none", "label": f"× {ref} width"}
        top.plot(f, precision, **kw)
        bottom.plot(f, recall, **kw)
        for p, r in zip(pts, recall):
            if ref == "free-electron" and abs(p.factor - 1.0) < 1e-9:  # the default criterion's count
                bottom.annotate(f"default: TP {p.matrix['TP']}", (p.factor, r), textcoords="offset points", xytext=(-8, 10),
                                fontsize=7.5, color=colour, ha="right")
    crit = rep.criteria[0] if rep.criteria else {}
    for ax, label in ((top, "precision  TP / (TP + FP)"), (bottom, "recall  TP / (TP + FN)")):
        ax.axvline(1.0, color="0.5", lw=0.8, ls=":")
        ax.set_ylabel(label)
        ax.set_ylim(-0.03, 1.05)
        ax.grid(alpha=0.3)
    bottom.set_xlabel("width factor: narrow means width ≤ factor × reference width")
    n = next((sum(p.matrix.values()) for pts in sweep.values() for p in pts[:1]), 0)
    top.set_title(f"The width criterion over the screen ({n} {what}; filling "
                  f"{crit.get('filling_min', 0.25):g}–{crit.get('filling_max', 0.75):g}; a gap: no positive verdict)",
                  fontsize=11)
    top.legend(fontsize=8, ncol=3, loc="lower right", frameon=False)
    fig.tight_layout()
    return save_figure(fig, formats)
