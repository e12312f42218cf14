"""The files of ``nhm screen --report --out DIR``: the report as JSON and CSV, and its figures and pages.

Elements: ``periodic-table.png``/``.svg`` (:mod:`nhm.screen.figure`), ``periodic-table.html``
(:mod:`nhm.screen.pages`), ``width-sweep.png``/``.svg``. Compounds: ``compounds-tc-vec.png``/``.svg``
(:mod:`nhm.screen.compound_figure`), ``compounds-tc-vec.html`` and ``compounds-width-sweep.png``/``.svg``.
Each set is written only if the screen has such rows; ``screen-results.csv`` and ``screen-report.json`` always.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from nhm.screen.report import ScreenReport

__all__ = ["CSV_COLUMNS", "report_csv", "report_json", "write_exports"]


def _sweep_json(sweep: dict) -> dict[str, Any]:
    return {ref: [{"width_factor": p.factor, **p.matrix, "precision": p.precision, "recall": p.recall} for p in pts]
            for ref, pts in sweep.items()}


def report_json(rep: ScreenReport) -> dict[str, Any]:
    doc = {
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
        "width_sweep": _sweep_json(rep.sweep),
        "crystals": [r.as_dict() for r in rep.rows],
        "excluded_from_matrix": [{"name": r.name, "reason": r.excluded_reason} for r in rep.excluded],
        "not_computed": rep.not_computed,
        "literature": "nhm/data/elements_superconductivity.json (shipped with nhm; a citation for every value)",
        "sources": rep.sources,
    }
    if rep.compounds is not None:
        doc["compounds"] = {
            "headline_centres": "all atoms (nhm analyze's default); every other choice of centres is under "
                                "crystals[].centres",
            **rep.compounds.as_dict(),
            "any_centres": None if rep.compounds_any_centres is None else rep.compounds_any_centres.as_dict(),
            "width_sweep": _sweep_json(rep.compound_sweep),
            "not_computed": rep.compounds_not_computed,
            "literature": "nhm/data/compounds_superconductivity.json (scripts/make_compound_tc.py; a citation for every "
                          "value)",
            "sources": rep.compound_sources,
        }
    return doc


CSV_COLUMNS = (
    "id", "name", "formula", "element", "compound", "family", "vec", "space_group", "international", "pearson", "status",
    "verdict", "marginal", "best_band", "best_reading", "best_site", "best_width", "best_width_min", "best_width_max",
    "best_filling", "best_filling_min", "best_filling_max", "best_dos", "best_variants", "centres_other",
    "fermi_level", "runtime_s", "measured_superconducting", "measured_tc_K", "measured_down_to_K", "measured_phase",
    "measured_confidence", "in_matrix", "outcome", "excluded_reason", "reason", "error",
)


def report_csv(rep: ScreenReport) -> str:
    from nhm.screen.console import centre_text

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rep.rows:
        d = r.as_dict()
        d["centres_other"] = centre_text(r)
        vals = []
        for c in CSV_COLUMNS:
            v = r.best.get(c[5:]) if c.startswith("best_") else d.get(c)
            vals.append("" if v is None else v)
        w.writerow(vals)
    return buf.getvalue()


EXPORT_FILES = (
    "screen-results.csv", "screen-report.json", "periodic-table.html", "periodic-table.png", "periodic-table.svg",
    "width-sweep.png", "width-sweep.svg", "compounds-tc-vec.html", "compounds-tc-vec.png", "compounds-tc-vec.svg",
    "compounds-width-sweep.png", "compounds-width-sweep.svg",
)
"""Every file :func:`write_exports` may write into --out (checked against the other outputs before any work)."""


def write_exports(rep: ScreenReport, out_dir: str) -> list[str]:
    """CSV, JSON and the figures and pages of the rows the screen has, into ``out_dir``."""
    from pathlib import Path

    from nhm.atomic import write_atomically
    from nhm.screen.figure import render_periodic_table, render_sweep
    from nhm.screen.pages import render_compound_page, render_periodic_page

    out = Path(out_dir)
    files = {
        "screen-results.csv": report_csv(rep).encode(),
        "screen-report.json": (json.dumps(report_json(rep), indent=2, ensure_ascii=False) + "\n").encode(),
    }
    def add(stem: str, rendered: dict[str, bytes]) -> None:
        files.update({f"{stem}.{fmt}": data for fmt, data in rendered.items()})

    if rep.group_rows("element") or rep.compounds is None:
        files["periodic-table.html"] = render_periodic_page(rep).encode()
        add("periodic-table", render_periodic_table(rep))
        if rep.sweep:
            add("width-sweep", render_sweep(rep.sweep, rep, "elements"))
    if rep.compounds is not None:
        from nhm.screen.compound_figure import render_compounds

        files["compounds-tc-vec.html"] = render_compound_page(rep).encode()
        add("compounds-tc-vec", render_compounds(rep))
        if rep.compound_sweep:
            add("compounds-width-sweep", render_sweep(rep.compound_sweep, rep, "compounds"))
    written = []
    for name, data in files.items():
        write_atomically(out / name, data)
        written.append(str(out / name))
    return written
