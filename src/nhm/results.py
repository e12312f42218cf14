"""What the public API returns: thin wrappers over the dataclasses the pipelines compute, never copies.

Every result has

- ``to_dict()``: exactly the JSON document the command writes with ``--json`` (the same function makes both), a
  plain JSON-ready structure (non-finite numbers ``None``) whose first key is ``schema_version``
  (`SCHEMA_VERSION`); ``to_json()`` is that document as text;
- the fields a user wants by name (the verdict, the candidates with their measures, levels, lines, ...);
- ``plot(ax=None, ...)`` where there is a figure: the command's figure as a matplotlib ``Figure`` (drawn into
  ``ax`` if given);
- ``_repr_html_()``: a compact table for notebooks.

The wrapped objects stay reachable (``AnalysisResult.analysis``, ``KSpaceResult.run``, ...) for everything else.
"""

from __future__ import annotations

import html
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from nhm.bands.bloch import BlochLevel
    from nhm.report.analyze import Analysis
    from nhm.report.run_groups import ClassifyRun, EbrTable, IrrepTable
    from nhm.report.run_kspace import KSpaceRun
    from nhm.report.run_manybody import ManyBodyRun
    from nhm.screen.run import ScreenSummary
    from nhm.wannier.verdict import CandidateBand, Criteria

__all__ = [
    "SCHEMA_VERSION", "AnalysisResult", "ClassifyResult", "EbrResult", "IrrepsResult", "KSpaceResult", "ManyBodyResult",
    "Result", "ScreenResult", "json_document",
]

SCHEMA_VERSION = 1
"""Version of the JSON documents (``schema_version``, the first key of every ``--json`` and ``to_dict()``): raised
when a key is renamed or removed or its meaning changes; new keys do not raise it."""


def json_document(doc: Any) -> Any:
    """``doc`` as strict JSON data with ``schema_version`` first (in each document of a list)."""
    from nhm.jsondata import clean_json

    if isinstance(doc, list):
        return [json_document(d) for d in doc]
    return clean_json({"schema_version": SCHEMA_VERSION, **doc})


def _table(rows: Sequence[tuple[str, Any]], title: str = "") -> str:
    """A two-column HTML table (values escaped)."""
    caption = f"<caption style='text-align:left'><b>{html.escape(title)}</b></caption>" if title else ""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td style='text-align:left'>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    return f"<table>{caption}{body}</table>"


def _span(value: float, interval: Sequence[float], fmt: str = ".2f") -> str:
    lo, hi = interval
    return f"{value:{fmt}}" + ("" if abs(hi - lo) < 5e-3 else f" [{lo:{fmt}}–{hi:{fmt}}]")


def _complex_text(z: complex) -> str:
    re_, im = round(z.real, 4) + 0.0, round(z.imag, 4) + 0.0
    if abs(im) < 1e-4:
        return f"{re_:g}"
    return f"{im:g}i" if abs(re_) < 1e-4 else f"{re_:g}{im:+g}i"


class Result(ABC):
    """What every result has: its JSON document and a notebook view."""

    @abstractmethod
    def to_dict(self) -> Any:
        """The JSON document of the command's ``--json``, with ``schema_version`` first."""

    def to_json(self) -> str:
        """`to_dict` as strict JSON text (indented, final newline), as the command writes it."""
        import json

        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def _repr_html_(self) -> str:  # pragma: no cover - overridden
        return html.escape(repr(self))


# --- nhm.analyze ---------------------------------------------------------------------------------------------


class AnalysisResult(Result):
    """The answer of `nhm.analyze` for one crystal: the verdict, the candidate bands with their measures,
    the levels at the points of symmetry and the lines they were traced on.

    ``analysis`` is the `nhm.report.analyze.Analysis` itself (crystal, DFT parameters, zone, search).
    Energies are absolute (eV, the calculation's zero) in ``levels`` and ``fermi_level``, relative to E_F in
    `to_dict`."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis

    def __repr__(self) -> str:
        return f"<AnalysisResult {self.material}: {self.verdict or 'points only'}>"

    @property
    def material(self) -> str:
        """The material as given (an element symbol or a path), or the formula of an ``Atoms``."""
        return self.analysis.material

    @property
    def formula(self) -> str:
        """The empirical formula (``Nb``, ``MgB2``)."""
        return self.analysis.formula

    @property
    def space_group(self) -> int:
        """The space-group number (BCS setting)."""
        return self.analysis.crystal.space_group

    @property
    def fermi_level(self) -> float:
        """E_F in eV (the calculation's zero)."""
        return self.analysis.fermi_level

    @property
    def verdict(self) -> str | None:
        """``"superconducting band"`` or ``"no superconducting band"``; None for external DFT output (points only)."""
        v = self.analysis.verdict
        return None if v is None else v.verdict

    @property
    def reason(self) -> str | None:
        """Why: the verdict's reason in words (None for external DFT output)."""
        v = self.analysis.verdict
        return None if v is None else v.reason

    @property
    def marginal(self) -> bool:
        """True if a criterion's interval straddles its bound (the verdict then rests on the best assignment)."""
        v = self.analysis.verdict
        return bool(v is not None and v.marginal)

    @property
    def criteria(self) -> Criteria | None:
        """The criteria of the verdict (filling bounds, width factor and reference)."""
        v = self.analysis.verdict
        return None if v is None else v.criteria

    @property
    def candidates(self) -> tuple[CandidateBand, ...]:
        """The candidate superconducting bands, best first (`nhm.wannier.verdict.CandidateBand`: ``best``
        holds the best assignment's width, filling and DOS; ``width``/``filling``/``dos`` their intervals)."""
        v = self.analysis.verdict
        return () if v is None else v.superconducting

    @property
    def usual_bands(self) -> tuple[CandidateBand, ...]:
        """The bands that pass test U (usual Wannier functions), ranked as the candidates."""
        v = self.analysis.verdict
        return () if v is None else v.usual

    @property
    def best(self) -> CandidateBand | None:
        """The best candidate superconducting band, or None."""
        return self.candidates[0] if self.candidates else None

    @property
    def levels(self) -> dict[str, list[BlochLevel]]:
        """The levels at each point of symmetry (``BlochLevel``: k, energy in eV, irrep, dimension), ascending."""
        return self.analysis.levels

    @property
    def lines(self) -> tuple[Any, ...]:
        """The lines of symmetry the bands were traced on (``nhm.bands.lines.LineBands``: ``name``, samples,
        branches, crossings); empty for external DFT output."""
        zone = self.analysis.zone
        return () if zone is None else tuple(zone.lines)

    @property
    def notes(self) -> tuple[str, ...]:
        """What the run has to say beside the numbers (caveats of the structure, a narrowed window, ...)."""
        return self.analysis.notes

    def to_dict(self) -> dict[str, Any]:
        """The document of ``nhm analyze --json``, with ``schema_version`` first."""
        from nhm.report.analyze import analysis_json

        return json_document(analysis_json(self.analysis))

    def plot(self, ax: Any = None, *, emin: float | None = None, emax: float | None = None, candidates: int = 1) -> Figure:
        """The band figure of ``nhm analyze``: branches along the lines, levels with their irreps, the best
        ``candidates`` drawn thick along their branches. ``emin``/``emax``: energy range (eV, relative to E_F).
        Returns the matplotlib ``Figure`` (``ax.figure`` when drawn into ``ax``)."""
        from nhm.errors import InputError
        from nhm.report.figures import band_figure

        if self.analysis.zone is None:
            raise InputError("the band figure needs the bands along the lines: external DFT output has the points only")
        return band_figure(self.analysis, emin=emin, emax=emax, candidates=max(candidates, 1), ax=ax)

    def _repr_html_(self) -> str:
        an = self.analysis
        rows: list[tuple[str, Any]] = [
            ("crystal", f"{self.formula}, space group {self.space_group} ({an.crystal.international})"),
            ("E_F", f"{self.fermi_level:.3f} eV"),
        ]
        if an.verdict is None:
            po = an.points_only
            rows.append(("verdict", "none (points of symmetry only: not traced)"))
            if po is not None:
                rows.append(("level assemblies passing test S", len(po.superconducting)))
            return _table(rows, f"nhm.analyze({self.material!r})")
        v = an.verdict
        rows.append(("verdict", v.verdict + (" (marginal)" if v.marginal else "")))
        b = self.best
        if b is not None:
            ref = v.reference_width
            rows += [
                ("best band", f"{b.band_text()} (reading {b.reading}, {'; '.join(' ⊕ '.join(s) for s in b.site_representations)})"),
                ("width", f"{_span(b.best.width, b.width)} eV (≤ {v.criteria.width_factor:g} × {ref:.2f} eV, {v.criteria.width_reference})"),
                ("filling", f"{_span(b.best.filling, b.filling)} (in [{v.criteria.filling_min:g}, {v.criteria.filling_max:g}])"),
                ("DOS at E_F", f"{b.best.dos_at_fermi:.3f} /eV/spin/cell"),
            ]
        rows.append(("candidates", f"{len(v.superconducting)} superconducting, {len(v.usual)} usual"))
        return _table(rows, f"nhm.analyze({self.material!r})")


# --- nhm.kspace ----------------------------------------------------------------------------------------------


class KSpaceResult(Result):
    """k-space magnetism of one band (`nhm.kspace`): the Bloch-spinor field F(k), its checks, the spin axes
    on the Fermi surface and the spin-dependent Wannier functions.

    ``run`` is the `nhm.report.run_kspace.KSpaceRun` (``run.result``: the field, checks, jumps and WFs)."""

    def __init__(self, run: KSpaceRun) -> None:
        self.run = run

    def __repr__(self) -> str:
        return f"<KSpaceResult {self.run.label}: {self.band} ({self.verdict}), mesh {self.mesh}>"

    @property
    def band(self) -> str:
        """The band, one irrep per point of symmetry (``GM:GM5+ H:H5+ ...``)."""
        return self.run.data["band"]

    @property
    def space_group(self) -> int:
        """The space-group number."""
        return self.run.data["space_group"]

    @property
    def verdict(self) -> str:
        """Krüger's verdict on the band: ``"superconducting"`` or ``"usual"``."""
        return self.run.data["verdict"]

    @property
    def site_representation(self) -> str:
        """The site representation of the spin-dependent Wannier functions."""
        return self.run.data["site_representation"]

    @property
    def mesh(self) -> int:
        """n of the n×n×n mesh."""
        return self.run.data["mesh"]

    @property
    def field(self) -> Any:
        """F(k) on the mesh (`nhm.kspace.construction.field.SpinorField`; for μ > 1 branches an ``OrbitField``)."""
        return self.run.result.field

    @property
    def k_space_magnetism(self) -> bool | None:
        """True if the spin axes vary on the band's Fermi surface, False if not, None without a Fermi surface."""
        return self.run.data["k_space_magnetism"].get("present")

    @property
    def axis_variation(self) -> float | None:
        """1 − λ_max⟨z zᵀ⟩ over the Fermi-surface points (0: one axis everywhere, 2/3: isotropic)."""
        return self.run.data["k_space_magnetism"].get("axis_variation")

    @property
    def spread(self) -> float | None:
        """The spread of the spin-dependent WFs (a²): with the band's spatial overlaps where known, else the
        spin-frame spread."""
        d = self.run.data
        value = d.get("spread_with_spatial_overlaps")
        return d.get("spread_projective") if value is None else value

    @property
    def analysis(self) -> AnalysisResult | None:
        """A material's analysis (``nhm analyze``) whose candidate was built; None for a model band."""
        return None if self.run.analysis is None else AnalysisResult(self.run.analysis)

    @property
    def candidate(self) -> CandidateBand | None:
        """A material's candidate band that was built; None for a model band."""
        return self.run.candidate

    @property
    def notes(self) -> tuple[str, ...]:
        """What the run has to say beside the numbers."""
        return tuple(self.run.data["notes"])

    @property
    def figures(self) -> tuple[str, ...]:
        """The names `plot` takes (``kind``)."""
        if self.run.source == "material-orbit":
            return ("kspace_plane",)
        return ("kspace_plane", "kspace_symmetry_related", "kspace_p3_symmetry_related", "kspace_fermi_surface")

    def to_dict(self) -> dict[str, Any]:
        """The document of ``nhm kspace --json``, with ``schema_version`` first."""
        return json_document(self.run.data)

    def plot(self, ax: Any = None, kind: str = "kspace_plane") -> Any:
        """A figure of ``nhm kspace --plot``: ``kspace_plane`` (seed Fig. 1(a): z_k on a plane of k and on the Fermi
        contour; with ``ax`` only its plane panel, into ``ax``), ``kspace_symmetry_related`` (seed Fig. 1(b); ``ax``
        must be 3D), ``kspace_p3_symmetry_related`` (the P3 example), or ``kspace_fermi_surface`` (a plotly figure:
        z_k on the Fermi surface, to turn and zoom). Returns the matplotlib ``Figure`` (or the plotly one)."""
        from nhm.report.run_kspace import kspace_figures

        return kspace_figures(self.run, (kind,), ax=ax)[kind]

    def _repr_html_(self) -> str:
        d = self.run.data
        fs = d["k_space_magnetism"]
        if fs.get("present") is None:
            magnetism = "undefined (no Fermi surface)"
        else:
            magnetism = (f"{'present' if fs['present'] else 'absent'}: axis variation {fs['axis_variation']:.3g} on "
                         f"{fs['points']} Fermi-surface points (tolerance {fs['tolerance']:g})")
        rows = [
            ("band", f"{d['band']} (SG {d['space_group']}, {d['verdict']}, reading {d['reading']})"),
            ("spin-dependent WFs", d["site_representation"]),
            ("mesh", f"{d['mesh']}³"),
            ("constraint residual", f"{d['constraint_residual']:.1e}"),
            ("time-reversal residual", f"{d['time_reversal_residual']:.1e}"),
            ("spread", f"{self.spread:.4g} a²" if self.spread is not None else "—"),
            ("k-space magnetism", magnetism),
        ]
        return _table(rows, f"nhm.kspace({self.run.label!r})")


# --- nhm.classify --------------------------------------------------------------------------------------------


class ClassifyResult(Result):
    """Krüger's tests on one band (`nhm.classify`), one `nhm.wannier.krueger.Classification` per
    reading tried (``classifications``); ``run`` is the `nhm.report.run_groups.ClassifyRun`."""

    def __init__(self, run: ClassifyRun) -> None:
        self.run = run

    def __repr__(self) -> str:
        return f"<ClassifyResult SG {self.space_group} {self.band}: {self.verdicts}>"

    @property
    def space_group(self) -> int:
        """The space-group number."""
        return self.run.space_group

    @property
    def band(self) -> str:
        """The band, one irrep per point of symmetry."""
        return self.run.band.text()

    @property
    def classifications(self) -> tuple[Any, ...]:
        """One `nhm.wannier.krueger.Classification` per reading tried (usual, spin_dependent, site
        representations, the comparison at every point)."""
        return self.run.results

    @property
    def verdicts(self) -> dict[str, str]:
        """The verdict of each reading: ``{"R1": "superconducting", "R2": ...}``."""
        return {c.reading: c.verdict for c in self.run.results}

    @property
    def verdict(self) -> str:
        """``"superconducting"`` if a reading finds spin-dependent but no usual WFs (as ``nhm analyze`` counts a
        candidate), else ``"usual"`` if a reading finds usual WFs, else ``"neither"``."""
        found = set(self.verdicts.values())
        return next(v for v in ("superconducting", "usual", "neither") if v in found)

    def to_dict(self) -> dict[str, Any] | list[dict[str, Any]]:
        """The JSON of ``nhm classify --json``: one document for one reading, a list of two for ``reading="both"``
        (as the command writes it), each with ``schema_version`` first."""
        return json_document(self.run.as_dict())

    def _repr_html_(self) -> str:
        rows: list[tuple[str, Any]] = [("band", f"{self.band} (SG {self.space_group})")]
        for c in self.run.results:
            rows.append((f"reading {c.reading}", f"{c.verdict} (usual WFs: {'yes' if c.usual else 'no'}, spin-dependent WFs: "
                                                 f"{'yes' if c.spin_dependent else 'no'}; "
                                                 f"{'; '.join(' ⊕ '.join(s) for s in c.spin_site_representations) or '—'})"))
        return _table(rows, "nhm.classify")


# --- nhm.manybody --------------------------------------------------------------------------------------------


class ManyBodyResult(Result):
    """Exact ground states of the NHM Hamiltonian (`nhm.manybody`): ``condensation`` for one model
    (`nhm.manybody.condensation.CondensationResult`: E0(H), E0(H′), ΔE, the bound, ...) or ``scan``
    (`nhm.manybody.scan.ScanResult`), and ``selection`` (`nhm.manybody.selection.SelectionReport`)
    with ``selection=True``. ``run`` is the `nhm.report.run_manybody.ManyBodyRun`."""

    def __init__(self, run: ManyBodyRun) -> None:
        self.run = run

    def __repr__(self) -> str:
        what = f"ΔE = {self.delta_E:+.6f} t" if self.delta_E is not None else f"scan of {self.run.scan.parameter}"
        return f"<ManyBodyResult {what}{', selection rule' if self.selection is not None else ''}>"

    @property
    def condensation(self) -> Any:
        """The one model's result (None for a scan)."""
        return self.run.condensation

    @property
    def scan(self) -> Any:
        """The scan's result (None for one model)."""
        return self.run.scan

    @property
    def selection(self) -> Any:
        """The Cooper-pair selection rule on a k mesh (None unless asked for)."""
        return self.run.selection

    @property
    def delta_E(self) -> float | None:
        """ΔE = E0(H) − E0(H′) in units of t (one model; None for a scan)."""
        return None if self.run.condensation is None else self.run.condensation.delta_E

    @property
    def figures(self) -> tuple[str, ...]:
        """The names `plot` takes (``kind``)."""
        return tuple(self.run.request.figure_stems())

    def to_dict(self) -> dict[str, Any]:
        """The document of ``nhm manybody --json``, with ``schema_version`` first."""
        return json_document(self.run.data)

    def plot(self, ax: Any = None, kind: str | None = None) -> Figure:
        """A figure of ``nhm manybody --plot``: ``spin_axes`` (the field's spin axes on the cluster; the default for
        one model), ``manybody_scan_<parameter>`` (the default for a scan) or ``selection_rule`` (|ΔS| of the
        two-electron processes by category). Returns the matplotlib ``Figure``."""
        from nhm.report.run_manybody import manybody_figures

        name = self.figures[0] if kind is None else kind
        return manybody_figures(self.run, (name,), ax=ax)[name]

    def _repr_html_(self) -> str:
        rows: list[tuple[str, Any]] = []
        c = self.run.condensation
        if c is not None:
            rows += [
                ("model", f"{c.lattice} {c.supercell}, {c.model}, field {c.field}"),
                ("N / N_e", f"{c.sites} / {c.electrons}"),
                ("E0(H), E0(H′)", f"{c.E0_H:.6f} t, {c.E0_H_prime:.6f} t"),
                ("ΔE", f"{c.delta_E:+.6f} t (≤ ⟨G′|H_z|G′⟩ = {c.Hz_expectation_in_G_prime:+.6f} t: "
                       f"{'holds' if c.bound_holds else 'VIOLATED'})"),
            ]
        else:
            s = self.run.scan
            rows += [(f"{s.parameter} = {v:g}", f"ΔE = {p.delta_E:+.6f} t") for v, p in zip(s.values, s.points)]
        sel = self.run.selection
        if sel is not None:
            rows.append(("selection rule", f"{sel.n_k}-point mesh: Cooper pairs max |ΔS| = {sel.cooper_max_delta:.1e}; "
                                           + ", ".join(f"{k} {st.conserving}/{st.count} conserve"
                                                       for k, st in sel.two_electron.items())))
        return _table(rows, "nhm.manybody")


# --- nhm.irreps, nhm.ebr -------------------------------------------------------------------------------------


class IrrepsResult(Result):
    """The character table of a little group (`nhm.irreps`); ``table`` is the
    `nhm.report.run_groups.IrrepTable` (``little_group``, ``operations``, ``representations``,
    ``characters``)."""

    def __init__(self, table: IrrepTable) -> None:
        self.table = table

    def __repr__(self) -> str:
        return f"<IrrepsResult SG {self.table.space_group} {self.table.little_group.name}: {', '.join(self.labels)}>"

    @property
    def labels(self) -> tuple[str, ...]:
        """The Bilbao labels of the (co-)representations."""
        return tuple(r.label for r in self.table.representations)

    @property
    def operations(self) -> tuple[str, ...]:
        """The Seitz symbols of the little group's operations (the columns)."""
        return self.table.operations

    @property
    def characters(self) -> dict[str, tuple[complex, ...]]:
        """The characters of each representation, by label, in the table's convention."""
        return {r.label: chars for r, chars in zip(self.table.representations, self.table.characters)}

    def to_dict(self) -> dict[str, Any]:
        """The document of ``nhm irreps --json``, with ``schema_version`` first."""
        return json_document(self.table.as_dict())

    def _repr_html_(self) -> str:
        t = self.table
        head = "".join(f"<th>{html.escape(s)}</th>" for s in ("irrep", "dim", *t.operations))
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in (r.label, r.dimension, *(_complex_text(c) for c in chars))) + "</tr>"
            for r, chars in zip(t.representations, t.characters)
        )
        title = (f"SG {t.space_group}, k = {t.little_group.name}: {'co-representations' if t.time_reversal else 'irreps'} "
                 f"({'double' if t.double else 'single'}-valued, {t.convention} convention)")
        return f"<table><caption style='text-align:left'><b>{html.escape(title)}</b></caption><tr>{head}</tr>{body}</table>"


class EbrResult(Result):
    """Band representations of a space group (`nhm.ebr`); ``table`` is the
    `nhm.report.run_groups.EbrTable`."""

    def __init__(self, table: EbrTable) -> None:
        self.table = table

    def __repr__(self) -> str:
        return f"<EbrResult SG {self.table.space_group}: {len(self.table.rows)} band representations>"

    @property
    def band_representations(self) -> tuple[Any, ...]:
        """The band representations (`nhm.bandrep.ebr.BandRepresentation`: wyckoff, site_irrep, dimension,
        multiplicities per k)."""
        return tuple(br for br, _ in self.table.rows)

    @property
    def elementary(self) -> tuple[bool, ...]:
        """Whether each band representation is elementary."""
        return tuple(e for _, e in self.table.rows)

    def to_dict(self) -> dict[str, Any]:
        """The document of ``nhm ebr --json``, with ``schema_version`` first."""
        return json_document(self.table.as_dict())

    def _repr_html_(self) -> str:
        t = self.table
        cols = ("position", "site irrep", "bands", "EBR", *t.kpoints)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in (
                br.wyckoff, br.site_irrep, br.dimension, "yes" if e else "no",
                *(" ".join(f"{m}{lbl}" if m > 1 else lbl for lbl, m in br.multiplicities.get(k, {}).items()) for k in t.kpoints),
            )) + "</tr>"
            for br, e in t.rows
        )
        title = (f"{t.title} of SG {t.space_group} ({'double' if t.double else 'single'}-valued, "
                 f"{'with' if t.time_reversal else 'without'} time reversal)")
        return f"<table><caption style='text-align:left'><b>{html.escape(title)}</b></caption><tr>{head}</tr>{body}</table>"


# --- nhm.screen ----------------------------------------------------------------------------------------------


class ScreenResult(Result):
    """What a screen did (`nhm.screen`): the crystals computed, failed, skipped and found superconducting,
    and the database that holds one row per crystal. ``summary`` is the `nhm.screen.run.ScreenSummary`."""

    def __init__(self, summary: ScreenSummary) -> None:
        self.summary = summary

    def __repr__(self) -> str:
        s = self.summary
        return f"<ScreenResult {len(s.computed)} computed, {len(s.failed)} failed, {len(s.skipped)} skipped>"

    @property
    def db(self) -> str:
        """The database (an SQLite file or a server URL)."""
        return self.summary.db

    @property
    def params_hash(self) -> str:
        """The hash of the parameters that names this screen's rows."""
        return self.summary.params_hash

    @property
    def computed(self) -> list[str]:
        """The crystals analysed now (status ok)."""
        return self.summary.computed

    @property
    def failed(self) -> list[str]:
        """The crystals that failed now, with the reasons in `errors`."""
        return self.summary.failed

    @property
    def errors(self) -> dict[str, str]:
        """Why each failed crystal failed."""
        return self.summary.errors

    @property
    def skipped(self) -> list[str]:
        """The crystals the database had already."""
        return self.summary.skipped

    @property
    def superconducting(self) -> list[str]:
        """The crystals with a superconducting band (new or skipped rows)."""
        return self.summary.superconducting

    def to_dict(self) -> dict[str, Any]:
        """The document of ``nhm screen --json``, with ``schema_version`` first."""
        return json_document(self.summary.as_dict())

    def report(self) -> Any:
        """The report of this screen's rows against measured superconductivity (``nhm screen --report``):
        `nhm.screen.report.ScreenReport` (rows, confusion matrix, precision, recall)."""
        from nhm.screen.report import build_report

        return build_report(self.summary.db, self.summary.params_hash)

    def plot(self, ax: Any = None) -> Figure:
        """The periodic table of the report (``periodic-table.png`` of ``nhm screen --report --out``), drawn as an
        image into ``ax`` (default: a figure of its own). Returns the matplotlib ``Figure``."""
        import io

        import matplotlib.image
        from matplotlib.figure import Figure

        from nhm.screen.figure import render_periodic_table

        png = render_periodic_table(self.report(), formats=("png",))["png"]
        image = matplotlib.image.imread(io.BytesIO(png), format="png")
        if ax is None:
            fig = Figure(figsize=(image.shape[1] / 150, image.shape[0] / 150))
            ax = fig.add_axes((0, 0, 1, 1))
        ax.imshow(image)
        ax.set_axis_off()
        return ax.figure

    def _repr_html_(self) -> str:
        s = self.summary
        rows = [
            ("database", s.db), ("parameters", s.params_hash),
            ("crystals", f"{len(s.crystals)}: {len(s.computed)} computed, {len(s.failed)} failed, {len(s.skipped)} skipped"),
            ("superconducting band", ", ".join(s.superconducting) or "none"),
        ]
        return _table(rows, "nhm.screen")
