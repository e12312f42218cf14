"""``nhm screen --report``: the screen's rows against measured superconductivity (no computation).

For one parameter set (``--params-hash``; default: that of the newest row) the newest row of each
crystal is taken. Crystals made of one element are compared with the shipped literature table
(:mod:`nhm.screen.elements`): "superconducting band found" (the verdict) against "superconductor at
ambient pressure" (measured). Left out of the confusion matrix, and listed with the reason: crystals
the model as nhm computes it does not cover (magnetic ground states, a computed structure that is not
the phase in which Tc was measured), elements whose measured answer is uncertain or unknown, and failed
rows. Precision = TP / (TP + FP), recall = TP / (TP + FN).

Other criteria, no DFT: with ``criteria`` every row is judged again from its stored analysis
(:func:`nhm.report.rejudge.rejudge`). The *sweep* shows what the width criterion does to the screen:
precision and recall over a range of width factors, for each width reference (free-electron W_FE(μ),
median, widest band at E_F), at the report's filling bounds.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from nhm.errors import InputError

__all__ = [
    "SWEEP_FACTORS", "ReportRow", "ScreenReport", "SweepPoint", "build_report", "format_tc", "print_report", "report_csv",
    "report_json", "sweep",
]

SWEEP_FACTORS = tuple(round(0.25 + 0.05 * i, 2) for i in range(56))  # width factors 0.25 … 3.0 of the sweep


def format_tc(tc: float | None) -> str:
    """9.25 K, 0.517 K, 26 mK, 0.4 mK; '' for None."""
    if tc is None:
        return ""
    if tc >= 0.1:
        return f"{tc:.3g} K"
    return f"{tc * 1000:.2g} mK"


@dataclass
class ReportRow:
    id: int
    name: str
    kind: str
    formula: str
    element: str | None  # the element of a one-element crystal
    space_group: int | None
    international: str
    pearson: str
    status: str
    verdict: str | None  # "superconducting" / "none" (ok rows)
    reason: str
    best: dict[str, Any]
    fermi_level: float | None
    runtime_s: float | None
    error: str
    measured_superconducting: bool | None
    measured_tc_K: float | None
    measured_phase: str
    measured_confidence: str
    coverage: list[str]  # why the model does not cover it (empty: covered)
    in_matrix: bool
    excluded_reason: str
    outcome: str  # TP, FP, FN, TN, or ""
    key_value_pairs: dict[str, Any] = field(default_factory=dict)
    marginal: bool = False  # a criterion's interval straddles its bound for the best candidate band
    stored: Any = None  # the stored analysis as judge_measured's inputs (None: not re-judgeable)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("key_value_pairs", "stored")}
        d["measured_tc"] = format_tc(self.measured_tc_K)
        return d


@dataclass
class ScreenReport:
    db: str
    params_hash: str
    other_params_hashes: dict[str, int]
    rows: list[ReportRow]
    matrix: dict[str, int]  # TP, FP, FN, TN
    precision: float | None
    recall: float | None
    accuracy: float | None
    criteria: list[dict[str, Any]]
    parameters: dict[str, Any] | None
    versions: dict[str, list[str]]
    not_computed: list[dict[str, Any]]  # elements of the literature table without a row
    sources: dict[str, str]
    rejudged: bool = False  # the verdicts are those of ``criteria[0]``, recomputed from the stored analyses
    sweep: dict[str, list[SweepPoint]] = field(default_factory=dict)

    @property
    def excluded(self) -> list[ReportRow]:
        return [r for r in self.rows if r.element and not r.in_matrix]


def _measure(name: str) -> dict[str, Any] | None:
    from nhm.screen.elements import measured

    return measured().get(name)


def _select_params(con, params_hash: str | None) -> tuple[str, dict[str, int]]:
    counts: dict[str, int] = {}
    newest: tuple[int, str] | None = None
    for row in con.select(include_data=False):
        h = row.key_value_pairs.get("params_hash")
        if not h or "name" not in row.key_value_pairs:
            continue
        counts[h] = counts.get(h, 0) + 1
        if newest is None or row.id > newest[0]:
            newest = (row.id, h)
    if not counts:
        raise InputError("the database holds no rows of nhm screen")
    if params_hash is None:
        assert newest is not None
        params_hash = newest[1]
    elif params_hash not in counts:
        raise InputError(f"no rows with params_hash {params_hash} (the database has {', '.join(sorted(counts))})")
    return params_hash, {h: n for h, n in counts.items() if h != params_hash}


def _row(row) -> ReportRow:
    from nhm.screen.elements import coverage_flags

    kvp = dict(row.key_value_pairs)
    symbols = set(row.toatoms().get_chemical_symbols()) if row.natoms else set()
    element = next(iter(symbols)) if len(symbols) == 1 else None
    if element is None and kvp.get("kind") == "element":
        element = str(kvp["name"])
    status = str(kvp.get("status", ""))
    m = _measure(element) if element else None
    coverage = coverage_flags(element, kvp.get("pearson")) if element else []
    sc = m.get("superconducting") if m else None
    conf = m.get("confidence", "unknown") if m else "unknown"
    phase = (m.get("phase") or {}).get("name", "") if m else ""
    excluded = ""
    if element:
        if status != "ok":
            excluded = "failed"
        elif coverage:
            excluded = "not covered by the model: " + "; ".join(coverage)
        elif sc is None:
            excluded = "measured superconductivity not known"
        elif conf == "uncertain":
            excluded = "measurement uncertain: " + (m.get("note") or "")
    in_matrix = bool(element) and not excluded
    outcome = ""
    verdict = kvp.get("verdict") if status == "ok" else None
    if in_matrix:
        outcome = _outcome(verdict == "superconducting", sc)
    best = {k[5:]: v for k, v in kvp.items() if k.startswith("best_")}
    return ReportRow(
        id=row.id, name=str(kvp["name"]), kind=str(kvp.get("kind", "")), formula=str(kvp.get("crystal_formula", "")),
        element=element, space_group=kvp.get("space_group"), international=str(kvp.get("international", "")),
        pearson=str(kvp.get("pearson", "")), status=status, verdict=verdict, reason=str(kvp.get("verdict_reason", "")),
        best=best, fermi_level=kvp.get("fermi_level"), runtime_s=kvp.get("runtime_s"), error=str(kvp.get("error", "")),
        measured_superconducting=sc, measured_tc_K=m.get("tc_K") if m else None, measured_phase=phase,
        measured_confidence=conf, coverage=coverage, in_matrix=in_matrix, excluded_reason=excluded, outcome=outcome,
        key_value_pairs=kvp, marginal=bool(kvp.get("verdict_marginal", False)),
    )


def _outcome(found: bool, measured_sc: bool | None) -> str:
    return {(True, True): "TP", (True, False): "FP", (False, True): "FN", (False, False): "TN"}[(found, bool(measured_sc))]


def _apply(r: ReportRow, v) -> None:
    """Replace the row's verdict and best candidate by those of the verdict ``v`` (re-judged)."""
    r.verdict = "superconducting" if v.verdict == "superconducting band" else "none"
    r.reason = v.reason
    r.marginal = v.marginal
    r.best = {}
    if v.superconducting:
        b = v.superconducting[0]
        r.best = {
            "band": b.band_text(), "reading": b.reading, "width": b.best.width, "width_min": b.width[0],
            "width_max": b.width[1], "filling": b.best.filling, "filling_min": b.filling[0], "filling_max": b.filling[1],
            "dos": b.best.dos_at_fermi, "variants": len(b.variants), "passes": b.passes, "marginal": b.marginal,
        }
    if r.in_matrix:
        r.outcome = _outcome(r.verdict == "superconducting", r.measured_superconducting)


@dataclass(frozen=True)
class SweepPoint:
    factor: float
    matrix: dict[str, int]
    precision: float | None
    recall: float | None


def _scores(outcomes: list[str]) -> tuple[dict[str, int], float | None, float | None]:
    m = {k: outcomes.count(k) for k in ("TP", "FP", "FN", "TN")}
    precision = m["TP"] / (m["TP"] + m["FP"]) if m["TP"] + m["FP"] else None
    recall = m["TP"] / (m["TP"] + m["FN"]) if m["TP"] + m["FN"] else None
    return m, precision, recall


def sweep(rows: list[ReportRow], base, factors=SWEEP_FACTORS) -> dict[str, list[SweepPoint]]:
    """Precision and recall of the rows in the matrix for every width reference and factor (filling bounds of
    the criteria ``base``), judged again from the stored analyses."""
    from dataclasses import replace

    from nhm.wannier.verdict import WIDTH_REFERENCES, judge_measured

    judged = [r for r in rows if r.in_matrix and r.stored is not None]
    out: dict[str, list[SweepPoint]] = {}
    for ref in WIDTH_REFERENCES:
        points = []
        for f in factors:
            crit = replace(base, width_reference=ref, width_factor=f)
            outcomes = [_outcome(judge_measured(*r.stored, crit).verdict == "superconducting band", r.measured_superconducting) for r in judged]
            points.append(SweepPoint(f, *_scores(outcomes)))
        out[ref] = points
    return out


def build_report(db: str, params_hash: str | None = None, criteria=None) -> ScreenReport:
    """Read the screen database and compare with the measured superconductivity of the elements.

    ``criteria`` (:class:`nhm.wannier.verdict.Criteria`): judge every row again under these, from its stored
    analysis (no DFT). The width sweep is computed at the filling bounds of ``criteria`` (default: nhm's)."""
    from nhm.report.rejudge import stored_measures
    from nhm.screen.database import connect, describe
    from nhm.screen.elements import data_document, measured
    from nhm.wannier.verdict import Criteria

    con = connect(db, must_exist=True)
    h, others = _select_params(con, params_hash)
    newest: dict[str, Any] = {}
    for row in con.select(params_hash=h, include_data=False):
        name = row.key_value_pairs.get("name")
        if name is not None and (name not in newest or row.id > newest[name].id):
            newest[name] = row
    parameters = None
    rows = []
    for name in sorted(newest, key=lambda n: newest[n].id):
        row = newest[name]
        data = con.get(id=row.id).data or {}
        if parameters is None:
            parameters = data.get("parameters")
        r = _row(row)
        if r.status == "ok" and data.get("analysis"):
            try:
                r.stored = stored_measures(data["analysis"])
            except (InputError, KeyError, TypeError, ValueError):
                r.stored = None  # a row of an older nhm: reported as stored, not re-judged
        rows.append(r)
    if criteria is not None:
        from nhm.wannier.verdict import judge_measured

        for r in rows:
            if r.stored is not None:
                _apply(r, judge_measured(*r.stored, criteria))
    rows.sort(key=lambda r: (_z(r.element), r.name))
    matrix, precision, recall = _scores([r.outcome for r in rows])
    tp, fp, fn, tn = (matrix[k] for k in ("TP", "FP", "FN", "TN"))
    total = tp + fp + fn + tn
    accuracy = (tp + tn) / total if total else None
    crit_keys = ("filling_min", "filling_max", "width_factor", "width_reference")
    if criteria is not None:
        crit_list = [{k: getattr(criteria, k) for k in crit_keys}]
    else:
        seen = sorted({tuple(r.key_value_pairs.get(k) for k in crit_keys) for r in rows if r.status == "ok"}, key=str)
        crit_list = [dict(zip(crit_keys, c)) for c in seen]
    versions: dict[str, list[str]] = {}
    for key in ("nhm_version", "gpaw_version"):
        versions[key] = sorted({str(r.key_value_pairs[key]) for r in rows if key in r.key_value_pairs})
    computed = {r.element for r in rows if r.element}
    not_computed = [
        {"element": s, "superconducting": e.get("superconducting"), "tc_K": e.get("tc_K"),
         "feasible": e.get("feasible"), "model_flags": [f["reason"] for f in e.get("model_flags", [])]}
        for s, e in measured().items() if s not in computed
    ]
    return ScreenReport(
        db=describe(db), params_hash=h, other_params_hashes=others, rows=rows, matrix=matrix, precision=precision,
        recall=recall, accuracy=accuracy, criteria=crit_list, parameters=parameters,
        versions=versions, not_computed=not_computed, sources=data_document().get("sources", {}),
        rejudged=criteria is not None, sweep=sweep(rows, criteria or Criteria()),
    )


def _z(element: str | None) -> int:
    if element is None:
        return 1000
    from ase.data import atomic_numbers

    return atomic_numbers.get(element, 999)


# --- exports --------------------------------------------------------------------------------------


def report_json(rep: ScreenReport) -> dict[str, Any]:
    return {
        "db": rep.db,
        "params_hash": rep.params_hash,
        "other_params_hashes": rep.other_params_hashes,
        "parameters": rep.parameters,
        "criteria": rep.criteria,
        "versions": rep.versions,
        "confusion_matrix": {
            "rows": "superconducting band found (nhm verdict)",
            "columns": "superconductor at ambient pressure (measured)",
            **rep.matrix,
        },
        "precision": rep.precision,
        "recall": rep.recall,
        "accuracy": rep.accuracy,
        "rejudged": rep.rejudged,
        "width_sweep": {
            ref: [{"width_factor": p.factor, **p.matrix, "precision": p.precision, "recall": p.recall} for p in pts]
            for ref, pts in rep.sweep.items()
        },
        "crystals": [r.as_dict() for r in rep.rows],
        "excluded_from_matrix": [{"name": r.name, "reason": r.excluded_reason} for r in rep.excluded],
        "not_computed": rep.not_computed,
        "literature": "nhm/data/elements_superconductivity.json (shipped with nhm; a citation for every value)",
        "sources": rep.sources,
    }


CSV_COLUMNS = (
    "id", "name", "formula", "element", "space_group", "international", "pearson", "status", "verdict", "marginal",
    "best_band", "best_reading", "best_site", "best_width", "best_width_min", "best_width_max", "best_filling",
    "best_filling_min", "best_filling_max", "best_dos", "best_variants", "fermi_level", "runtime_s",
    "measured_superconducting", "measured_tc_K", "measured_phase", "measured_confidence", "in_matrix", "outcome",
    "excluded_reason", "reason", "error",
)


def report_csv(rep: ScreenReport) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rep.rows:
        d = r.as_dict()
        vals = []
        for c in CSV_COLUMNS:
            v = r.best.get(c[5:]) if c.startswith("best_") else d.get(c)
            vals.append("" if v is None else v)
        w.writerow(vals)
    return buf.getvalue()


def _fmt(v: Any, spec: str = ".2f") -> str:
    return "" if v is None else format(v, spec)


def _span(best: dict[str, Any], key: str) -> str:
    lo, hi = best.get(f"{key}_min"), best.get(f"{key}_max")
    if lo is None or hi is None or hi - lo < 5e-3:
        return ""
    return f" \\[{lo:.2f}–{hi:.2f}]"


def print_sweep(rep: ScreenReport, console, shown=(0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)) -> None:
    """Precision / recall for a few width factors and each reference (all of them in the JSON and the figure)."""
    from rich.table import Table

    t = Table(title="What the width criterion does: precision / recall over the elements in the matrix")
    t.add_column("width factor")
    for ref in rep.sweep:
        t.add_column(f"× {ref} width")
    pr = lambda x: "–" if x is None else f"{x:.2f}"  # noqa: E731
    for f in shown:
        cells = []
        for pts in rep.sweep.values():
            p = next((p for p in pts if abs(p.factor - f) < 1e-9), None)
            cells.append("" if p is None else f"{pr(p.precision)} / {pr(p.recall)}  (TP {p.matrix['TP']}, FP {p.matrix['FP']})")
        t.add_row(f"{f:g}", *cells)
    console.print(t)


def print_report(rep: ScreenReport, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"nhm screen {escape(rep.db)} (params {rep.params_hash}): {len(rep.rows)} crystals")
    for col in ("crystal", "SG", "status", "verdict", "best candidate", "R", "width", "filling", "DOS", "measured Tc", "matrix"):
        t.add_column(col, no_wrap=col not in ("best candidate",))
    for r in rep.rows:
        verdict = {"superconducting": "[bold magenta]SC band[/bold magenta]", "none": "none"}.get(r.verdict or "", "")
        status = r.status if r.status == "ok" else f"[red]{r.status}[/red]"
        measured = format_tc(r.measured_tc_K) if r.measured_superconducting else (
            "no" if r.measured_superconducting is False else ("?" if r.element else ""))
        if r.marginal and verdict:
            verdict += " (marginal)"
        t.add_row(
            escape(r.name), f"{r.space_group or ''} {r.pearson}", status, verdict, escape(str(r.best.get("band", ""))),
            str(r.best.get("reading", "")), _fmt(r.best.get("width")) + _span(r.best, "width"),
            _fmt(r.best.get("filling")) + _span(r.best, "filling"),
            _fmt(r.best.get("dos"), ".3f"), measured, r.outcome or ("excl." if r.element else ""),
        )
    t.caption = escape("width in eV over the zone, filling, DOS at E_F per eV, spin and cell, of the best candidate "
                       "superconducting band (best assignment [interval over its admissible assignments]); "
                       "matrix: TP/FP/FN/TN or excluded (below)")
    console.print(t)
    m = rep.matrix
    cm = Table(title="Confusion matrix (elements the model covers, measured answer known)")
    cm.add_column("")
    cm.add_column("measured superconductor")
    cm.add_column("not a superconductor")
    cm.add_row("superconducting band found", str(m["TP"]), str(m["FP"]))
    cm.add_row("no superconducting band", str(m["FN"]), str(m["TN"]))
    console.print(cm)
    pr = lambda x: "n/a" if x is None else f"{x:.2f}"  # noqa: E731
    console.print(f"precision {pr(rep.precision)}, recall {pr(rep.recall)}, accuracy {pr(rep.accuracy)} "
                  f"over {sum(m.values())} elements")
    for c in rep.criteria:
        console.print(escape(
            f"criteria{' (re-judged from the stored analyses)' if rep.rejudged else ''}: filling in [{c['filling_min']}, "
            f"{c['filling_max']}], width ≤ {c['width_factor']} × the {c.get('width_reference') or 'free-electron'} width; "
            "superconducting band = connected, passes test S, fails test U as a level set (docs/theory.md §4)"
        ), highlight=False)
    if rep.sweep:
        print_sweep(rep, console)
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
    failed = [r for r in rep.rows if r.status != "ok" and not r.element]
    for r in failed:
        console.print(escape(f"  {r.name}: failed ({r.error})"), highlight=False)
    if rep.other_params_hashes:
        console.print("note: the database also has rows of other parameter sets: "
                      + ", ".join(f"{h} ({n} rows)" for h, n in rep.other_params_hashes.items()) + " (--params-hash)")


EXPORT_FILES = (
    "screen-results.csv", "screen-report.json", "periodic-table.html", "periodic-table.png", "periodic-table.svg",
    "width-sweep.png", "width-sweep.svg",
)
"""The files :func:`write_exports` writes into --out (checked against the other outputs before any work)."""


def write_exports(rep: ScreenReport, out_dir: str) -> list[str]:
    """CSV, JSON, the periodic-table figure (PNG, SVG), the HTML page and the width sweep (PNG, SVG) into ``out_dir``."""
    from pathlib import Path

    from nhm.atomic import write_atomically
    from nhm.screen.figure import render_html, render_periodic_table, render_sweep

    out = Path(out_dir)
    files = {
        "screen-results.csv": report_csv(rep).encode(),
        "screen-report.json": (json.dumps(report_json(rep), indent=2, ensure_ascii=False) + "\n").encode(),
        "periodic-table.html": render_html(rep).encode(),
    }
    for fmt, data in render_periodic_table(rep).items():
        files[f"periodic-table.{fmt}"] = data
    for fmt, data in render_sweep(rep).items():
        files[f"width-sweep.{fmt}"] = data
    written = []
    for name, data in files.items():
        write_atomically(out / name, data)
        written.append(str(out / name))
    return written
