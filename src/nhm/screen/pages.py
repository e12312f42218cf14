"""Self-contained HTML pages of a screen report, drawn with plotly: every number on hover, no network.

``render_periodic_page``: the periodic table (elements coloured by verdict, measured superconductors framed,
✓/✗ where verdict and experiment agree/disagree) with the confusion matrix and the table of crystals.
``render_compound_page``: measured Tc against VEC per family (:func:`nhm.screen.compound_figure.compound_points`),
the marker's shape the verdict, its colour the best candidate's filling, its hover text the verdict of every
choice of Wannier centres and the measurements with their sources; below it the confusion matrices and the table.

The plotly library is embedded in each page (``include_plotlyjs=True``): the pages open offline and load
nothing from anywhere.
"""

from __future__ import annotations

import html
from typing import Any

from nhm.screen.report import ReportRow, Scores, ScreenReport, format_tc

__all__ = ["render_compound_page", "render_periodic_page"]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#222}
table.data{border-collapse:collapse;font-size:.85em;margin:1em 0}
table.data td,table.data th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
"""


def _page(title: str, intro: str, figure, body: str) -> str:
    plot = figure.to_html(full_html=False, include_plotlyjs=True, config={"displaylogo": False, "responsive": True})
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>\n<h1>{html.escape(title)}</h1>\n<p>{intro}</p>\n{plot}\n{body}\n"
            "</body></html>\n")


def _hover(pairs: list[tuple[str, Any]]) -> str:
    return "<br>".join(f"<b>{html.escape(k)}</b> {html.escape(str(v))}" for k, v in pairs if v not in (None, ""))


def _matrix_html(scores: Scores, what: str) -> str:
    m = scores.matrix
    pr = lambda x: "n/a" if x is None else f"{x:.2f}"  # noqa: E731
    return (f'<table class="data"><tr><th></th><th>measured superconductor</th><th>not a superconductor</th></tr>'
            f"<tr><th>superconducting band found</th><td>{m['TP']}</td><td>{m['FP']}</td></tr>"
            f"<tr><th>no superconducting band</th><td>{m['FN']}</td><td>{m['TN']}</td></tr></table>"
            f"<p>precision {pr(scores.precision)}, recall {pr(scores.recall)}, accuracy {pr(scores.accuracy)} over "
            f"{sum(m.values())} {html.escape(what)}.</p>")


def _table(head: tuple[str, ...], rows: list[tuple]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
                   for row in rows)
    return f'<table class="data"><tr>{th}</tr>{body}</table>'


def _excluded(rep: ScreenReport, group: str) -> str:
    items = [f"{r.name} ({r.excluded_reason})" for r in rep.excluded if r.group == group]
    return html.escape("; ".join(items) or "none")


def _best_pairs(row: ReportRow) -> list[tuple[str, Any]]:
    b = row.best
    if not b:
        return []
    return [("best candidate", f"{b.get('band', '')} (reading {b.get('reading', '')})"), ("site irreps", b.get("site")),
            ("width", None if b.get("width") is None else f"{b['width']:.3f} eV"),
            ("filling", None if b.get("filling") is None else f"{b['filling']:.3f}"),
            ("DOS at E_F", None if b.get("dos") is None else f"{b['dos']:.4f} /eV/spin/cell")]


def _row_pairs(row: ReportRow) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = [("crystal", f"{row.name}: {row.formula}, space group {row.space_group} "
                                                f"{row.international}, {row.pearson}")]
    if row.status == "ok":
        pairs += [("verdict", "superconducting band" if row.verdict == "superconducting" else "no superconducting band"),
                  ("reason", row.reason), *_best_pairs(row),
                  ("E_F", None if row.fermi_level is None else f"{row.fermi_level:.3f} eV (GPAW zero)")]
    else:
        pairs.append(("failed", row.error))
    pairs += [("run time", None if row.runtime_s is None else f"{row.runtime_s:.0f} s"),
              ("matrix", row.outcome or row.excluded_reason)]
    return pairs


# --- the periodic table -------------------------------------------------------------------------


def _element_hover(sym: str, z: int, row: ReportRow | None, entry: dict[str, Any]) -> str:
    pairs = [(f"{z} {sym}", " ")] + (_row_pairs(row) if row is not None else [("nhm", "not computed")])
    sc = entry.get("superconducting")
    measured = ("not known" if sc is None else
                (f"superconductor, Tc = {format_tc(entry.get('tc_K'))}" if sc else "not a superconductor"))
    if sc is not None and entry.get("confidence") == "uncertain":
        measured += " (uncertain)"
    pairs += [("measured", measured + " at ambient pressure"), ("phase", (entry.get("phase") or {}).get("name")),
              ("note", entry.get("note")), ("sources", ", ".join(entry.get("sources", [])))]
    return _hover(pairs)


def render_periodic_page(rep: ScreenReport) -> str:
    import plotly.graph_objects as go
    from ase.data import chemical_symbols

    from nhm.screen.elements import measured
    from nhm.screen.figure import CATEGORIES, MEASURED_EDGE, category, element_rows, parameters_lines, position, summary_line

    lit = measured()
    rows = element_rows(rep)
    fig = go.Figure()
    cells: dict[str, dict[str, list]] = {k: {"x": [], "y": [], "text": [], "hover": [], "edge": [], "width": []}
                                         for k in CATEGORIES}
    marks = {"x": [], "y": [], "text": [], "colour": []}
    for z in range(1, 104):
        sym = chemical_symbols[z]
        r, c = position(z)
        row = rows.get(sym)
        entry = lit.get(sym, {})
        sc = entry.get("superconducting") is True
        tc = format_tc(entry.get("tc_K")) + ("?" if entry.get("confidence") == "uncertain" else "") if sc else ""
        cell = cells[category(row)]
        cell["x"].append(c)
        cell["y"].append(r)
        cell["text"].append(f"<b>{sym}</b>" + (f"<br><span style='font-size:9px'>{tc}</span>" if tc else ""))
        cell["hover"].append(_element_hover(sym, z, row, entry))
        cell["edge"].append(MEASURED_EDGE if sc else "#ffffff")
        cell["width"].append(3 if sc else 1)
        if row is not None and row.outcome:
            marks["x"].append(c + 0.33)
            marks["y"].append(r - 0.3)
            good = row.outcome in ("TP", "TN")
            marks["text"].append("✓" if good else "✗")
            marks["colour"].append("#0b6b2c" if good else "#b00020")
    for key, cell in cells.items():
        fill, ink, label = CATEGORIES[key]
        fig.add_trace(go.Scatter(
            x=cell["x"], y=cell["y"], mode="markers+text", name=label, text=cell["text"], textfont={"color": ink},
            hovertext=cell["hover"], hoverinfo="text",
            marker={"symbol": "square", "size": 46, "color": fill, "line": {"color": cell["edge"], "width": cell["width"]}},
        ))
    fig.add_trace(go.Scatter(x=marks["x"], y=marks["y"], mode="text", text=marks["text"], hoverinfo="skip",
                             textfont={"color": marks["colour"], "size": 13}, showlegend=False))
    fig.update_layout(width=1100, height=720, plot_bgcolor="white", margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": 1.04}, hoverlabel={"align": "left"},
                      xaxis={"visible": False, "range": [0.4, 18.6]},
                      yaxis={"visible": False, "range": [9.9, 0.4], "scaleanchor": "x"})
    intro = html.escape("; ".join(parameters_lines(rep))) + ". Hover over an element for its numbers; a black frame " \
        "marks a measured superconductor at ambient pressure, ✓/✗ verdict and experiment agree/disagree."
    body = (f"<h2>Confusion matrix (elements)</h2>{_matrix_html(Scores(rep.matrix, rep.precision, rep.recall, rep.accuracy), 'elements')}"
            f"<p>{html.escape(summary_line(rep))}. Left out: {_excluded(rep, 'element')}.</p><h2>Crystals</h2>"
            + _table(("crystal", "SG", "Pearson", "status", "verdict", "best candidate", "R", "width (eV)", "filling",
                      "measured Tc", "matrix / note"),
                     [(r.name, r.space_group, r.pearson, r.status, r.verdict, r.best.get("band"), r.best.get("reading"),
                       _num(r.best.get("width")), _num(r.best.get("filling")), _measured(r),
                       r.outcome or r.excluded_reason or r.error) for r in rep.rows if r.group != "compound"])
            + "<p>Measured values: nhm/data/elements_superconductivity.json (shipped with nhm), sources: "
            + html.escape("; ".join(f"{k}: {v}" for k, v in rep.sources.items())) + "</p>")
    return _page("Superconducting bands against measured superconductivity", intro, fig, body)


def _num(v: float | None, spec: str = ".2f") -> str:
    return "" if v is None else format(v, spec)


def _measured(r: ReportRow) -> str:
    if r.measured_superconducting:
        return format_tc(r.measured_tc_K)
    if r.measured_superconducting is False:
        return "no" + (f" (down to {format_tc(r.measured_down_to_K)})" if r.measured_down_to_K else "")
    return ""


# --- the compounds --------------------------------------------------------------------------------


def _compound_hover(p) -> str:
    from nhm.screen.compound_figure import measured_label
    from nhm.screen.compounds import measured_compounds

    row = p.row
    entry = measured_compounds()[row.compound]
    pairs = [(row.name, f"{entry['structure']['type']}, {row.family}, VEC {row.vec}"),
             ("lattice", f"a = {entry['lattice']['a_A']} Å" + (f", c = {entry['lattice']['c_A']} Å"
                                                              if entry["lattice"].get("c_A") else "")),
             *_row_pairs(row)]
    for c in row.centres:
        if c.default:
            continue
        text = "failed: " + c.error if c.verdict is None else (
            ("superconducting band" if c.verdict == "superconducting" else "none")
            + ("" if c.best.get("filling") is None else f", best filling {c.best['filling']:.2f}")
            + ("" if c.best.get("width") is None else f", width {c.best['width']:.2f} eV"))
        pairs.append((f"centres {c.name}", text))
    pairs.append(("measured", f"{measured_label(row)} — {row.measured_phase} ({row.measured_confidence})"))
    for r in entry["reports"][1:]:
        value = format_tc(r["tc_K"]) if r["superconducting"] else "no" + (
            f" (down to {format_tc(r['not_superconducting_down_to_K'])})" if r["not_superconducting_down_to_K"] else "")
        pairs.append(("other report", f"{value}: {r['phase']} [{', '.join(r['sources'])}]"))
    pairs.append(("sources", ", ".join(entry["sources"])))
    pairs.append(("note", entry.get("note")))
    return _hover(pairs)


def render_compound_page(rep: ScreenReport) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from nhm.screen.compound_figure import FILLING_CMAP, NO_CANDIDATE, compound_points, vec_range
    from nhm.screen.compounds import families
    from nhm.screen.console import centre_text
    from nhm.screen.figure import parameters_lines

    panels = compound_points(rep)
    names = families()
    fig = make_subplots(rows=1, cols=max(1, len(panels)), shared_yaxes=True,
                        subplot_titles=[names.get(f, f) for f in panels])
    symbols = {"sc": "circle", "none": "square", "failed": "x"}
    legend_seen: set[str] = set()
    for col, (family, points) in enumerate(panels.items(), start=1):
        for p in points:
            for o in p.others:
                fig.add_trace(go.Scatter(x=[p.x, p.x], y=[p.tc, o["tc_K"] or 0.0], mode="lines+markers", showlegend=False,
                                         line={"dash": "dot", "color": "#888"}, marker={"size": [0, 7], "color": "#777"},
                                         hovertext=f"{p.row.name}: {format_tc(o['tc_K']) if o['superconducting'] else 'no'} "
                                                   f"({o['phase']}; {', '.join(o['sources'])})", hoverinfo="text"),
                              row=1, col=col)
        for shape, label in (("sc", "superconducting band found"), ("none", "no superconducting band"), ("failed", "failed")):
            pts = [p for p in points if p.shape == shape]
            if not pts:
                continue
            with_filling = [p for p in pts if p.filling is not None]
            for group, coloured in ((with_filling, True), ([p for p in pts if p.filling is None], False)):
                if not group:
                    continue
                marker = {"symbol": symbols[shape], "size": 17, "line": {"color": [p.edge for p in group], "width": 3}}
                if coloured:
                    marker.update(color=[p.filling for p in group], coloraxis="coloraxis")
                else:
                    marker.update(color=NO_CANDIDATE)
                fig.add_trace(go.Scatter(
                    x=[p.x for p in group], y=[p.tc for p in group], mode="markers+text", name=label,
                    legendgroup=shape, showlegend=shape not in legend_seen,
                    text=[p.row.name + ("" if p.row.in_matrix else "?") for p in group], textposition="top center",
                    hovertext=[_compound_hover(p) for p in group], hoverinfo="text", marker=marker,
                ), row=1, col=col)
                legend_seen.add(shape)
        lo, hi = vec_range(family)
        fig.update_xaxes(title_text="valence electrons per formula unit (VEC)", dtick=1, range=[lo - 0.75, hi + 0.75],
                         row=1, col=col)
    fig.update_yaxes(title_text="measured Tc (K); 0: not superconducting", row=1, col=1)
    fig.update_layout(width=max(700, 430 * len(panels)), height=560, hoverlabel={"align": "left"},
                      coloraxis={"colorscale": FILLING_CMAP.capitalize(), "cmin": 0, "cmax": 1,
                                 "colorbar": {"title": {"text": "best candidate's filling"}}},
                      legend={"orientation": "h", "y": -0.2}, margin={"t": 60})
    intro = html.escape("; ".join(parameters_lines(rep))) + (
        ". Marker: nhm's verdict with all atoms as Wannier centres (circle: superconducting band found, square: none, "
        "x: failed); colour: the best candidate band's filling (grey: no candidate); edge: green agrees with "
        "experiment, red disagrees, grey outside the matrix (NAME?: disputed or uncertain measurement). Dotted: "
        "other reports. Hover for every number, the verdict with each atom orbit alone, and the sources.")
    body = ""
    if rep.compounds is not None:
        body += "<h2>Confusion matrix (compounds; all atoms as centres)</h2>" + _matrix_html(rep.compounds, "compounds")
    if rep.compounds_any_centres is not None:
        body += ("<h2>If any choice of centres counts</h2>" + _matrix_html(rep.compounds_any_centres, "compounds"))
    body += f"<p>Left out: {_excluded(rep, 'compound')}.</p><h2>Compounds</h2>" + _table(
        ("compound", "family", "VEC", "status", "verdict (all atoms)", "best candidate", "width (eV)", "filling",
         "other centres", "measured", "matrix / note"),
        [(r.name, r.family, r.vec, r.status, r.verdict, r.best.get("band"), _num(r.best.get("width")),
          _num(r.best.get("filling")), centre_text(r), _measured(r), r.outcome or r.excluded_reason or r.error)
         for r in rep.group_rows("compound")])
    body += "<h2>Sources</h2><ul>" + "".join(
        f"<li><b>{html.escape(k)}</b>: {html.escape(v['citation'])} [{html.escape(v['checked'])}]</li>"
        for k, v in rep.compound_sources.items()) + "</ul>"
    return _page("Compounds: measured Tc against electron count, with nhm's verdict", intro, fig, body)
