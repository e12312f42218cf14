"""``nhm screen --report`` on the terminal: the tables, the confusion matrices, precision and recall, the sweep.

Elements and compounds get a table each (only if the screen has such rows); the compounds' table shows the
valence-electron count, the headline verdict (all atoms as Wannier centres) and the verdict of every other
choice of centres.
"""

from __future__ import annotations

from typing import Any

from nhm.screen.report import ReportRow, Scores, ScreenReport, format_tc

__all__ = ["centre_text", "print_report", "print_sweep"]


def _fmt(v: Any, spec: str = ".2f") -> str:
    return "" if v is None else format(v, spec)


def _span(best: dict[str, Any], key: str) -> str:
    lo, hi = best.get(f"{key}_min"), best.get(f"{key}_max")
    if lo is None or hi is None or hi - lo < 5e-3:
        return ""
    return f" \\[{lo:.2f}–{hi:.2f}]"


def _pr(x: float | None, none: str = "n/a") -> str:
    return none if x is None else f"{x:.2f}"


def measured_text(r: ReportRow) -> str:
    """The measured answer of a row: ``9.25 K``, ``no (down to 0.42 K)``, ``no``, ``?`` or ''."""
    if r.measured_superconducting:
        return format_tc(r.measured_tc_K)
    if r.measured_superconducting is False:
        return "no" + (f" (down to {format_tc(r.measured_down_to_K)})" if r.measured_down_to_K else "")
    return "?" if r.group else ""


def centre_text(r: ReportRow) -> str:
    """The verdicts of the other choices of centres: ``C 4a – 0.91, Nb 4b SC 0.48``."""
    parts = []
    for c in r.centres:
        if c.default:
            continue
        mark = "failed" if c.verdict is None else ("SC" if c.verdict == "superconducting" else "–")
        filling = c.best.get("filling")
        parts.append(f"{c.name} {mark}" + ("" if filling is None else f" {filling:.2f}"))
    return ", ".join(parts)


def print_sweep(sweep: dict, console, what: str = "elements",
                shown=(0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)) -> None:
    """Precision / recall for a few width factors and each reference (all of them in the JSON and the figure)."""
    from rich.table import Table

    t = Table(title=f"What the width criterion does: precision / recall over the {what} in the matrix")
    t.add_column("width factor")
    for ref in sweep:
        t.add_column(f"× {ref} width")
    for f in shown:
        cells = []
        for pts in sweep.values():
            p = next((p for p in pts if abs(p.factor - f) < 1e-9), None)
            cells.append("" if p is None else f"{_pr(p.precision, '–')} / {_pr(p.recall, '–')}  "
                                               f"(TP {p.matrix['TP']}, FP {p.matrix['FP']})")
        t.add_row(f"{f:g}", *cells)
    console.print(t)


def _verdict_cell(r: ReportRow) -> str:
    verdict = {"superconducting": "[bold magenta]SC band[/bold magenta]", "none": "none"}.get(r.verdict or "", "")
    return verdict + (" (marginal)" if r.marginal and verdict else "")


def _row_table(rows: list[ReportRow], title: str):
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=title)
    for col in ("crystal", "SG", "status", "verdict", "R", "width", "filling", "DOS", "measured Tc", "matrix"):
        t.add_column(col, no_wrap=True)
    for r in rows:
        status = r.status if r.status == "ok" else f"[red]{r.status}[/red]"
        t.add_row(
            escape(r.name), f"{r.space_group or ''} {r.pearson}", status, _verdict_cell(r), str(r.best.get("reading", "")),
            _fmt(r.best.get("width")) + _span(r.best, "width"), _fmt(r.best.get("filling")) + _span(r.best, "filling"),
            _fmt(r.best.get("dos"), ".3f"), measured_text(r), r.outcome or ("excl." if r.group else ""),
        )
    t.caption = escape("width in eV over the zone, filling, DOS at E_F per eV, spin and cell, of the best candidate "
                       "superconducting band (best assignment [interval over its admissible assignments]); "
                       "matrix: TP/FP/FN/TN or excluded (below); the candidates' levels in the next table")
    return t


def _candidate_table(rows: list[ReportRow]):
    """The best candidate of every row that has one: its levels (a column of its own, so it is never squeezed)."""
    from rich.markup import escape
    from rich.table import Table

    shown = [r for r in rows if r.best.get("band")]
    if not shown:
        return None
    t = Table(title="The best candidate band of each crystal: its irreps at the points of symmetry")
    t.add_column("crystal", no_wrap=True)
    t.add_column("verdict", no_wrap=True)
    t.add_column("levels (best candidate)", overflow="fold")
    t.add_column("variants", justify="right", no_wrap=True)
    for r in shown:
        t.add_row(escape(r.name), _verdict_cell(r), escape(str(r.best["band"])),
                  str(r.best.get("variants") or ""))
    return t


def _compound_tables(rows: list[ReportRow]):
    """One table per family; the headline verdict takes all atoms as the Wannier centres."""
    from rich.markup import escape
    from rich.table import Table

    from nhm.screen.compounds import families

    by_family: dict[str, list[ReportRow]] = {}
    for r in rows:
        by_family.setdefault(r.family, []).append(r)
    tables = []
    for family, members in by_family.items():
        t = Table(title=f"{families().get(family, family)}: verdict with all atoms as Wannier centres (nhm analyze's default)")
        for col in ("compound", "VEC", "status", "verdict", "R", "width", "filling", "other centres", "measured Tc", "matrix"):
            t.add_column(col, no_wrap=col != "other centres", min_width=34 if col == "other centres" else None)
        for r in members:
            status = r.status if r.status == "ok" else f"[red]{r.status}[/red]"
            t.add_row(
                escape(r.name), str(r.vec or ""), status, _verdict_cell(r), str(r.best.get("reading", "")),
                _fmt(r.best.get("width")) + _span(r.best, "width"), _fmt(r.best.get("filling")) + _span(r.best, "filling"),
                escape(centre_text(r)), measured_text(r), r.outcome or "excl.",
            )
        tables.append(t)
    tables[-1].caption = escape(
        "width (eV) and filling of the best candidate band with all atoms as centres; other centres: the verdict with "
        "each atom orbit alone (SC: superconducting band, –: none) and its best candidate's filling; the bands "
        "themselves are in the JSON, CSV and HTML")
    return tables


def _matrix_table(scores: Scores, title: str):
    from rich.table import Table

    m = scores.matrix
    cm = Table(title=title)
    cm.add_column("")
    cm.add_column("measured superconductor")
    cm.add_column("not a superconductor")
    cm.add_row("superconducting band found", str(m["TP"]), str(m["FP"]))
    cm.add_row("no superconducting band", str(m["FN"]), str(m["TN"]))
    return cm


def _scores_line(s: Scores, what: str) -> str:
    return (f"precision {_pr(s.precision)}, recall {_pr(s.recall)}, accuracy {_pr(s.accuracy)} "
            f"over {sum(s.matrix.values())} {what}")


def print_report(rep: ScreenReport, console) -> None:
    from rich.markup import escape

    elements = [r for r in rep.rows if r.group != "compound"]
    compounds = rep.group_rows("compound")
    head = f"nhm screen {escape(rep.db)} (params {rep.params_hash}): {len(rep.rows)} crystals"
    if elements or not compounds:
        console.print(_row_table(elements, head))
        candidates = _candidate_table(elements)
        if candidates is not None:
            console.print(candidates)
        console.print(_matrix_table(Scores(rep.matrix, rep.precision, rep.recall, rep.accuracy),
                                    "Confusion matrix (elements the model covers, measured answer known)"))
        console.print(_scores_line(Scores(rep.matrix, rep.precision, rep.recall, rep.accuracy), "elements"))
    if compounds and rep.compounds is not None:
        if not elements:
            console.print(head)
        for table in _compound_tables(compounds):
            console.print(table)
        console.print(_matrix_table(rep.compounds, "Confusion matrix (compounds, measured answer standard or approximate)"))
        console.print(_scores_line(rep.compounds, "compounds") + " (headline: all atoms as centres)")
        if rep.compounds_any_centres is not None:
            m = rep.compounds_any_centres.matrix
            console.print(f"if any choice of centres counts: TP {m['TP']}, FP {m['FP']}, FN {m['FN']}, TN {m['TN']}; "
                          + _scores_line(rep.compounds_any_centres, "compounds"))
    for c in rep.criteria:
        console.print(escape(
            f"criteria{' (re-judged from the stored analyses)' if rep.rejudged else ''}: filling in [{c['filling_min']}, "
            f"{c['filling_max']}], width ≤ {c['width_factor']} × the {c.get('width_reference') or 'free-electron'} width; "
            "superconducting band = connected, passes test S, fails test U as a level set (docs/theory.md §4)"
        ), highlight=False)
    if rep.sweep:
        print_sweep(rep.sweep, console, "elements")
    if rep.compound_sweep:
        print_sweep(rep.compound_sweep, console, "compounds")
    if rep.parameters:
        p = rep.parameters
        d = p.get("dft", {})
        console.print(f"parameters: {d.get('xc')}, {d.get('mode_ecut_eV')} eV, k mesh {d.get('kmesh')}³, smearing "
                      f"{d.get('smearing_eV')} eV, line spacing {p.get('spacing')} 1/Å, zone mesh {p.get('mesh') or d.get('kmesh')}³, "
                      f"readings {', '.join(p.get('readings', []))}; nhm {', '.join(rep.versions.get('nhm_version', []))}, "
                      f"GPAW {', '.join(rep.versions.get('gpaw_version', []))}")
    if rep.excluded:
        console.print("left out of the matrix:")
        for r in rep.excluded:
            text = f"  {r.name}: {r.excluded_reason}" + (f" ({r.error})" if r.status != "ok" and r.error else "")
            console.print(escape(text), highlight=False)
    for r in rep.rows:
        if r.status != "ok" and not r.group:
            console.print(escape(f"  {r.name}: failed ({r.error})"), highlight=False)
    if rep.other_params_hashes:
        console.print("note: the database also has rows of other parameter sets: "
                      + ", ".join(f"{h} ({n} rows)" for h, n in rep.other_params_hashes.items()) + " (--params-hash)")
