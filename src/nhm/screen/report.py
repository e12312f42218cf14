"""``nhm screen --report``: the screen's rows against measured superconductivity (no computation).

For one parameter set (``--params-hash``; default: that of the newest row) the newest row of each
crystal is taken. Crystals made of one element are compared with the shipped literature table
(:mod:`nhm.screen.elements`): "superconducting band found" (the verdict) against "superconductor at
ambient pressure" (measured). Left out of the confusion matrix, and listed with the reason: crystals
the model as nhm computes it does not cover (magnetic ground states, a computed structure that is not
the phase in which Tc was measured), elements whose measured answer is uncertain or unknown, and failed
rows. Precision = TP / (TP + FP), recall = TP / (TP + FN).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from nhm.errors import InputError

__all__ = ["ReportRow", "ScreenReport", "build_report", "format_tc", "print_report", "report_csv", "report_json"]


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

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "key_value_pairs"}
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
        found = verdict == "superconducting"
        outcome = {(True, True): "TP", (True, False): "FP", (False, True): "FN", (False, False): "TN"}[(found, bool(sc))]
    best = {k[5:]: v for k, v in kvp.items() if k.startswith("best_")}
    return ReportRow(
        id=row.id, name=str(kvp["name"]), kind=str(kvp.get("kind", "")), formula=str(kvp.get("crystal_formula", "")),
        element=element, space_group=kvp.get("space_group"), international=str(kvp.get("international", "")),
        pearson=str(kvp.get("pearson", "")), status=status, verdict=verdict, reason=str(kvp.get("verdict_reason", "")),
        best=best, fermi_level=kvp.get("fermi_level"), runtime_s=kvp.get("runtime_s"), error=str(kvp.get("error", "")),
        measured_superconducting=sc, measured_tc_K=m.get("tc_K") if m else None, measured_phase=phase,
        measured_confidence=conf, coverage=coverage, in_matrix=in_matrix, excluded_reason=excluded, outcome=outcome,
        key_value_pairs=kvp,
    )


def build_report(db: str, params_hash: str | None = None) -> ScreenReport:
    """Read the screen database and compare with the measured superconductivity of the elements."""
    from nhm.screen.database import connect, describe
    from nhm.screen.elements import data_document, measured

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
        if parameters is None:
            parameters = (con.get(id=row.id).data or {}).get("parameters")
        rows.append(_row(row))
    rows.sort(key=lambda r: (_z(r.element), r.name))
    matrix = {k: sum(r.outcome == k for r in rows) for k in ("TP", "FP", "FN", "TN")}
    tp, fp, fn, tn = (matrix[k] for k in ("TP", "FP", "FN", "TN"))
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    total = tp + fp + fn + tn
    accuracy = (tp + tn) / total if total else None
    crit_keys = ("filling_min", "filling_max", "width_factor")
    criteria = sorted({tuple(r.key_value_pairs.get(k) for k in crit_keys) for r in rows if r.status == "ok"}, key=str)
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
        recall=recall, accuracy=accuracy, criteria=[dict(zip(crit_keys, c)) for c in criteria], parameters=parameters,
        versions=versions, not_computed=not_computed, sources=data_document().get("sources", {}),
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
        "crystals": [r.as_dict() for r in rep.rows],
        "excluded_from_matrix": [{"name": r.name, "reason": r.excluded_reason} for r in rep.excluded],
        "not_computed": rep.not_computed,
        "literature": "nhm/data/elements_superconductivity.json (shipped with nhm; a citation for every value)",
        "sources": rep.sources,
    }


CSV_COLUMNS = (
    "id", "name", "formula", "element", "space_group", "international", "pearson", "status", "verdict",
    "best_band", "best_reading", "best_site", "best_width", "best_filling", "best_dos", "fermi_level", "runtime_s",
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
        t.add_row(
            escape(r.name), f"{r.space_group or ''} {r.pearson}", status, verdict, escape(str(r.best.get("band", ""))),
            str(r.best.get("reading", "")), _fmt(r.best.get("width")), _fmt(r.best.get("filling")),
            _fmt(r.best.get("dos"), ".3f"), measured, r.outcome or ("excl." if r.element else ""),
        )
    t.caption = ("width in eV over the zone, DOS at E_F per eV, spin and cell, of the best superconducting-band "
                 "candidate; matrix: TP/FP/FN/TN or excluded (below)")
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
        console.print(f"criteria: filling in [{c['filling_min']}, {c['filling_max']}], width ≤ {c['width_factor']} × "
                      "median width of the bands at E_F; superconducting band = connected, passes test S, fails test U "
                      "(docs/theory.md)")
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


EXPORT_FILES = ("screen-results.csv", "screen-report.json", "periodic-table.html", "periodic-table.png", "periodic-table.svg")
"""The files :func:`write_exports` writes into --out (checked against the other outputs before any work)."""


def write_exports(rep: ScreenReport, out_dir: str) -> list[str]:
    """CSV, JSON, the periodic-table figure (PNG, SVG) and the HTML page into ``out_dir``."""
    from pathlib import Path

    from nhm.atomic import write_atomically
    from nhm.screen.figure import render_html, render_periodic_table

    out = Path(out_dir)
    files = {
        "screen-results.csv": report_csv(rep).encode(),
        "screen-report.json": (json.dumps(report_json(rep), indent=2, ensure_ascii=False) + "\n").encode(),
        "periodic-table.html": render_html(rep).encode(),
    }
    for fmt, data in render_periodic_table(rep).items():
        files[f"periodic-table.{fmt}"] = data
    written = []
    for name, data in files.items():
        write_atomically(out / name, data)
        written.append(str(out / name))
    return written
