"""``nhm screen --report``: the screen's rows against measured superconductivity (no computation).

For one parameter set (``--params-hash``; default: that of the newest row) the newest row of each
crystal is taken. Crystals made of one element are compared with the shipped table of the elements
(:mod:`nhm.screen.elements`), compounds with the shipped table of compounds (:mod:`nhm.screen.compounds`:
a compound of ``--compounds`` by its name, a structure file by formula and space group): "superconducting
band found" (the verdict) against "superconductor at ambient pressure" (measured), one confusion matrix for
the elements and one for the compounds. Left out of a matrix, and listed with the reason: crystals the model as
nhm computes it does not cover (magnetic ground states, a computed structure that is not the phase in which Tc
was measured), measurements that are uncertain, disputed or unknown, and failed rows. Precision =
TP / (TP + FP), recall = TP / (TP + FN).

The headline verdict of a crystal of several atom orbits is that of all atoms as Wannier centres (``nhm
analyze``'s default); the verdict of each orbit alone is kept beside it (:mod:`nhm.screen.centres`), and
for the compounds a second matrix counts a compound as "found" when any choice of centres gives a
superconducting band.

Other criteria, no DFT: with ``criteria`` every row (and every choice of centres) is judged again from its
stored analysis (:func:`nhm.report.rejudge.rejudge`). The *sweep* shows what the width criterion does:
precision and recall over a range of width factors, for each width reference (free-electron W_FE(μ), median,
widest band at E_F), at the report's filling bounds, for the elements and for the compounds.

Output lives elsewhere: :mod:`nhm.screen.console` prints the report, :mod:`nhm.screen.exports` writes its
files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nhm.errors import InputError

__all__ = [
    "SWEEP_FACTORS", "CentreResult", "ReportRow", "Scores", "ScreenReport", "SweepPoint", "build_report", "format_tc",
    "sweep",
]

SWEEP_FACTORS = tuple(round(0.25 + 0.05 * i, 2) for i in range(56))  # width factors 0.25 … 3.0 of the sweep
IN_MATRIX_CONFIDENCE = ("standard", "approximate")  # compound answers the matrix counts


def format_tc(tc: float | None) -> str:
    """9.25 K, 0.517 K, 26 mK, 0.4 mK; '' for None."""
    if tc is None:
        return ""
    if tc >= 0.1:
        return f"{tc:.3g} K"
    return f"{tc * 1000:.2g} mK"


@dataclass
class CentreResult:
    """The verdict of one choice of Wannier centres (:mod:`nhm.screen.centres`)."""

    key: str  # "4b", "4a+4b"
    name: str  # "Nb 4b", "all atoms (C 4a + Nb 4b)"
    default: bool  # the headline choice (all atoms)
    verdict: str | None  # "superconducting" / "none"; None if this choice failed
    reason: str = ""
    marginal: bool = False
    best: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    stored: Any = None  # judge_measured's inputs (None: not re-judgeable)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "stored"}


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
    compound: str | None = None  # the entry of the compound table this row is compared with
    family: str = ""
    vec: int | None = None  # valence electrons per formula unit (compounds)
    measured_down_to_K: float | None = None  # not superconducting down to this temperature
    centres: list[CentreResult] = field(default_factory=list)  # every choice of centres (several orbits)

    @property
    def group(self) -> str:
        """Which matrix the row belongs to: "element", "compound" or "" (compared with nothing)."""
        return "element" if self.element else ("compound" if self.compound else "")

    @property
    def any_centres_superconducting(self) -> bool:
        return self.verdict == "superconducting" or any(c.verdict == "superconducting" for c in self.centres)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("key_value_pairs", "stored", "centres")}
        d["measured_tc"] = format_tc(self.measured_tc_K)
        d["centres"] = [c.as_dict() for c in self.centres]
        return d


@dataclass(frozen=True)
class Scores:
    """A confusion matrix and its precision, recall and accuracy (None where undefined)."""

    matrix: dict[str, int]
    precision: float | None
    recall: float | None
    accuracy: float | None

    @classmethod
    def of(cls, outcomes: list[str]) -> Scores:
        m = {k: outcomes.count(k) for k in ("TP", "FP", "FN", "TN")}
        precision = m["TP"] / (m["TP"] + m["FP"]) if m["TP"] + m["FP"] else None
        recall = m["TP"] / (m["TP"] + m["FN"]) if m["TP"] + m["FN"] else None
        total = sum(m.values())
        accuracy = (m["TP"] + m["TN"]) / total if total else None
        return cls(m, precision, recall, accuracy)

    def as_dict(self) -> dict[str, Any]:
        return {"confusion_matrix": dict(self.matrix), "precision": self.precision, "recall": self.recall,
                "accuracy": self.accuracy}


@dataclass(frozen=True)
class SweepPoint:
    factor: float
    matrix: dict[str, int]
    precision: float | None
    recall: float | None


@dataclass
class ScreenReport:
    db: str
    params_hash: str
    other_params_hashes: dict[str, int]
    rows: list[ReportRow]
    matrix: dict[str, int]  # TP, FP, FN, TN of the elements
    precision: float | None
    recall: float | None
    accuracy: float | None
    criteria: list[dict[str, Any]]
    parameters: dict[str, Any] | None
    versions: dict[str, list[str]]
    not_computed: list[dict[str, Any]]  # elements of the literature table without a row
    sources: dict[str, str]
    rejudged: bool = False  # the verdicts are those of ``criteria[0]``, recomputed from the stored analyses
    sweep: dict[str, list[SweepPoint]] = field(default_factory=dict)  # the elements
    compounds: Scores | None = None  # the compounds' matrix (None: no compound rows)
    compounds_any_centres: Scores | None = None  # "found" when any choice of centres gives a superconducting band
    compound_sweep: dict[str, list[SweepPoint]] = field(default_factory=dict)
    compounds_not_computed: list[str] = field(default_factory=list)
    compound_sources: dict[str, Any] = field(default_factory=dict)

    @property
    def excluded(self) -> list[ReportRow]:
        return [r for r in self.rows if r.group and not r.in_matrix]

    def group_rows(self, group: str) -> list[ReportRow]:
        return [r for r in self.rows if r.group == group]


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


def _element_measure(element: str, status: str, pearson: str | None) -> dict[str, Any]:
    from nhm.screen.elements import coverage_flags, measured

    m = measured().get(element)
    coverage = coverage_flags(element, pearson)
    sc = m.get("superconducting") if m else None
    conf = m.get("confidence", "unknown") if m else "unknown"
    excluded = ""
    if status != "ok":
        excluded = "failed"
    elif coverage:
        excluded = "not covered by the model: " + "; ".join(coverage)
    elif sc is None:
        excluded = "measured superconductivity not known"
    elif conf == "uncertain":
        excluded = "measurement uncertain: " + (m.get("note") or "")
    return dict(measured_superconducting=sc, measured_tc_K=m.get("tc_K") if m else None,
                measured_phase=(m.get("phase") or {}).get("name", "") if m else "", measured_confidence=conf,
                measured_down_to_K=m.get("not_superconducting_down_to_K") if m else None, coverage=coverage,
                excluded_reason=excluded)


def _compound_measure(entry: dict[str, Any], status: str) -> dict[str, Any]:
    conf = entry["confidence"]
    excluded = ""
    if status != "ok":
        excluded = "failed"
    elif conf not in IN_MATRIX_CONFIDENCE:
        reports = "; ".join(
            (f"{format_tc(r['tc_K'])}" if r["superconducting"] else "no") + f" ({r['phase']}; {', '.join(r['sources'])})"
            for r in entry["reports"] if r.get("computed_phase", True))
        excluded = f"measurement {conf}: {reports}"
    return dict(measured_superconducting=entry["superconducting"], measured_tc_K=entry["tc_K"],
                measured_phase=entry["phase"], measured_confidence=conf,
                measured_down_to_K=entry.get("not_superconducting_down_to_K"), coverage=[], excluded_reason=excluded,
                compound=entry["formula"], family=entry["family"], vec=entry["vec"])


def _best(summary: dict[str, Any]) -> dict[str, Any]:
    return {k[5:]: v for k, v in summary.items() if k.startswith("best_")}


def _centres(data: dict[str, Any]) -> list[CentreResult]:
    from nhm.report.rejudge import stored_measures

    out = []
    for e in data.get("centre_choices") or []:
        s = e.get("summary") or {}
        c = CentreResult(e["key"], e["name"], bool(e["default"]), None if e.get("error") else s.get("verdict", "none"),
                         s.get("verdict_reason", ""), bool(s.get("verdict_marginal", False)), _best(s), e.get("error", ""))
        doc = data.get("analysis") if c.default else e.get("analysis")
        if doc and not c.error:
            try:
                c.stored = stored_measures(doc)
            except (InputError, KeyError, TypeError, ValueError):
                c.stored = None
        out.append(c)
    return out


def _row(row, data: dict[str, Any]) -> ReportRow:
    from nhm.screen.compounds import match_compound

    kvp = dict(row.key_value_pairs)
    symbols = set(row.toatoms().get_chemical_symbols()) if row.natoms else set()
    element = next(iter(symbols)) if len(symbols) == 1 else None
    if element is None and kvp.get("kind") == "element":
        element = str(kvp["name"])
    status = str(kvp.get("status", ""))
    extra: dict[str, Any] = dict(measured_superconducting=None, measured_tc_K=None, measured_phase="",
                                 measured_confidence="unknown", coverage=[], excluded_reason="")
    if element:
        extra = _element_measure(element, status, kvp.get("pearson"))
    else:
        entry = match_compound(str(kvp["name"]), str(kvp.get("kind", "")), kvp.get("crystal_formula"), kvp.get("space_group"))
        if entry is not None:
            extra = _compound_measure(entry, status)
    verdict = kvp.get("verdict") if status == "ok" else None
    r = ReportRow(
        id=row.id, name=str(kvp["name"]), kind=str(kvp.get("kind", "")), formula=str(kvp.get("crystal_formula", "")),
        element=element, space_group=kvp.get("space_group"), international=str(kvp.get("international", "")),
        pearson=str(kvp.get("pearson", "")), status=status, verdict=verdict, reason=str(kvp.get("verdict_reason", "")),
        best=_best(kvp), fermi_level=kvp.get("fermi_level"), runtime_s=kvp.get("runtime_s"),
        error=str(kvp.get("error", "")), in_matrix=False, outcome="", key_value_pairs=kvp,
        marginal=bool(kvp.get("verdict_marginal", False)), centres=_centres(data) if status == "ok" else [], **extra,
    )
    r.in_matrix = bool(r.group) and not r.excluded_reason
    if r.in_matrix:
        r.outcome = _outcome(verdict == "superconducting", r.measured_superconducting)
    return r


def _outcome(found: bool, measured_sc: bool | None) -> str:
    return {(True, True): "TP", (True, False): "FP", (False, True): "FN", (False, False): "TN"}[(found, bool(measured_sc))]


def _best_of_verdict(v) -> dict[str, Any]:
    if not v.superconducting:
        return {}
    b = v.superconducting[0]
    return {
        "band": b.band_text(), "reading": b.reading, "width": b.best.width, "width_min": b.width[0],
        "width_max": b.width[1], "filling": b.best.filling, "filling_min": b.filling[0], "filling_max": b.filling[1],
        "dos": b.best.dos_at_fermi, "variants": len(b.variants), "passes": b.passes, "marginal": b.marginal,
    }


def _apply(r: ReportRow, v) -> None:
    """Replace the row's verdict and best candidate by those of the verdict ``v`` (re-judged)."""
    r.verdict = "superconducting" if v.verdict == "superconducting band" else "none"
    r.reason = v.reason
    r.marginal = v.marginal
    r.best = _best_of_verdict(v)
    if r.in_matrix:
        r.outcome = _outcome(r.verdict == "superconducting", r.measured_superconducting)


def _rejudge(rows: list[ReportRow], criteria) -> None:
    from nhm.wannier.verdict import judge_measured

    for r in rows:
        if r.stored is not None:
            _apply(r, judge_measured(*r.stored, criteria))
        for c in r.centres:
            if c.stored is not None:
                v = judge_measured(*c.stored, criteria)
                c.verdict = "superconducting" if v.verdict == "superconducting band" else "none"
                c.reason, c.marginal, c.best = v.reason, v.marginal, _best_of_verdict(v)


def _scores(outcomes: list[str]) -> tuple[dict[str, int], float | None, float | None]:
    s = Scores.of(outcomes)
    return s.matrix, s.precision, s.recall


def sweep(rows: list[ReportRow], base, factors=SWEEP_FACTORS) -> dict[str, list[SweepPoint]]:
    """Precision and recall of the rows in the matrix for every width reference and factor (filling bounds of
    the criteria ``base``), judged again from the stored analyses."""
    from dataclasses import replace

    from nhm.wannier.verdict import WIDTH_REFERENCES, judge_measured

    judged = [r for r in rows if r.in_matrix and r.stored is not None]
    if not judged:
        return {}
    out: dict[str, list[SweepPoint]] = {}
    for ref in WIDTH_REFERENCES:
        points = []
        for f in factors:
            crit = replace(base, width_reference=ref, width_factor=f)
            outcomes = [_outcome(judge_measured(*r.stored, crit).verdict == "superconducting band", r.measured_superconducting) for r in judged]
            points.append(SweepPoint(f, *_scores(outcomes)))
        out[ref] = points
    return out


def _sort_key(r: ReportRow) -> tuple:
    from ase.data import atomic_numbers

    from nhm.screen.compounds import measured_compounds

    if r.element:
        return (0, atomic_numbers.get(r.element, 999), r.name)
    if r.compound:
        order = list(measured_compounds())
        return (1, order.index(r.compound) if r.compound in order else 999, r.name)
    return (2, 0, r.name)


def build_report(db: str, params_hash: str | None = None, criteria=None) -> ScreenReport:
    """Read the screen database and compare with the measured superconductivity of the elements and compounds.

    ``criteria`` (:class:`nhm.wannier.verdict.Criteria`): judge every row again under these, from its stored
    analysis (no DFT). The width sweep is computed at the filling bounds of ``criteria`` (default: nhm's)."""
    from nhm.report.rejudge import stored_measures
    from nhm.screen.compounds import compound_data
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
        r = _row(row, data)
        if r.status == "ok" and data.get("analysis"):
            try:
                r.stored = stored_measures(data["analysis"])
            except (InputError, KeyError, TypeError, ValueError):
                r.stored = None  # a row of an older nhm: reported as stored, not re-judged
        rows.append(r)
    if criteria is not None:
        _rejudge(rows, criteria)
    rows.sort(key=_sort_key)
    elements = Scores.of([r.outcome for r in rows if r.group == "element"])
    compound_rows = [r for r in rows if r.group == "compound"]
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
    base = criteria or Criteria()
    rep = ScreenReport(
        db=describe(db), params_hash=h, other_params_hashes=others, rows=rows, matrix=elements.matrix,
        precision=elements.precision, recall=elements.recall, accuracy=elements.accuracy, criteria=crit_list,
        parameters=parameters, versions=versions, not_computed=not_computed, sources=data_document().get("sources", {}),
        rejudged=criteria is not None, sweep=sweep([r for r in rows if r.group == "element"], base),
    )
    if compound_rows:
        table = compound_data()
        rep.compounds = Scores.of([r.outcome for r in compound_rows])
        rep.compounds_any_centres = Scores.of(
            [_outcome(r.any_centres_superconducting, r.measured_superconducting) for r in compound_rows if r.in_matrix])
        rep.compound_sweep = sweep(compound_rows, base)
        done = {r.compound for r in compound_rows}
        rep.compounds_not_computed = [n for n in table["compounds"] if n not in done]
        rep.compound_sources = table["sources"]
    return rep
