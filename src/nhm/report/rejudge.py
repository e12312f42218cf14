"""A verdict again from a stored ``nhm analyze --json`` document, under other criteria (no DFT, no search).

The document keeps every path variant of every candidate band with the measures of its lower and upper
assignment, the width references and the bands at E_F (:func:`nhm.report.analyze.candidate_json`), which
is all :func:`nhm.wannier.verdict.judge_measured` needs. ``nhm screen --report`` uses this to show what
each criterion would say over a whole screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nhm.bands.zone import BandMeasures
from nhm.errors import InputError
from nhm.wannier.verdict import Assignment, Criteria, Verdict, WidthReferences, judge_measured

__all__ = ["StoredVariant", "rejudge", "stored_measures"]


@dataclass(frozen=True)
class StoredVariant:
    """What the verdict needs of a path variant read back from JSON."""

    verdict: str
    reading: str
    switches: int
    band: str

    def band_text(self) -> str:
        return self.band


def _measures(d: dict[str, Any]) -> BandMeasures:
    lo, hi = d["energy_range_eV"]
    return BandMeasures(float(d["width_eV"]), float(d["filling"]), float(d["dos_at_fermi_per_eV_spin_cell"]), float(lo), float(hi))


def stored_measures(doc: dict[str, Any]):
    """``(measured, references, fermi_bands)`` for :func:`nhm.wannier.verdict.judge_measured`, read from ``doc``.

    InputError if the document has no verdict (points only) or was written by an nhm that did not keep the
    variants' measures."""
    v = doc.get("verdict")
    if not v or "width_references" not in v:
        raise InputError(f"{doc.get('material', 'the analysis')}: the stored document has no re-judgeable verdict (written by an older nhm)")
    refs = v["width_references"]
    references = WidthReferences(
        *(float("nan") if refs.get(k) is None else float(refs[k]) for k in ("free_electron_eV", "median_eV", "widest_eV")),
        int(refs["mu"]),
    )
    fermi_bands = tuple((int(b["index"]), float(b["energy_range_eV"][0]), float(b["energy_range_eV"][1]), float(b["width_eV"]))
                        for b in v.get("bands_at_fermi_level", []))
    measured = []
    for band in (*doc.get("superconducting_bands", []), *doc.get("usual_bands", [])):
        variants, assignments = [], []
        for i, var in enumerate(band["variants"]):
            variants.append(StoredVariant(band["verdict"], var["reading"], int(var["switches"]), band["band"]))
            for choice, m in var["assignments"].items():
                assignments.append(Assignment(i, choice, _measures(m), int(var.get("degenerate_samples", 0))))
        measured.append((variants, assignments))
    return measured, references, fermi_bands


def rejudge(doc: dict[str, Any], criteria: Criteria) -> Verdict:
    """The verdict of the analysis ``doc`` (its JSON document) under ``criteria``."""
    return judge_measured(*stored_measures(doc), criteria)
