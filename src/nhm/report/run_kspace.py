"""``nhm kspace`` as one pipeline for the command line and for Python: which band (a model band, a tight-binding
band, or a material's own candidate of ``nhm analyze``), its states on the mesh, F(k), the checks and the JSON
document, and the figures.

The argument is a model band or a material:

- ``bcc:GM1+,H1+,P1,N2+`` — an alias (bcc = 229:a, fcc = 225:a, sc = 221:a, p3 = 143:a) and one irrep
  label per point of symmetry (each label names its point: GM1+ is at GM);
- ``229:a:GM:GM1+ H:H1+ P:P1 N:N2+`` or ``229:a:GM1+,H1+,P1,N2+`` — space group, Wyckoff letter, band;
- ``tb:bcc-sd`` or ``tb:bcc-sd:5`` — a band (energy-ordered index; default the model's) of a built-in
  Slater–Koster model (:data:`nhm.bands.tightbinding.MODELS`): λ comes from its Bloch states at every
  mesh point, and the spatial overlaps |⟨u_k|u_{k+b}⟩| enter the spread;
- anything else is a material (element symbol, structure file, or ase.Atoms): ``nhm analyze`` runs (DFT) and
  its connected superconducting candidate (``candidate``, default the best) is built from its own GPAW Bloch
  states on the mesh (:func:`candidate_of_material`, :mod:`nhm.kspace.sources.material`).

:func:`kspace_request` checks the options, :func:`run_request` runs them and returns a :class:`KSpaceRun`;
:func:`kspace_figures` and :func:`write_plots` draw it. :func:`nhm.api.kspace` and ``nhm kspace``
(:mod:`nhm.cli.kspace`) are both these calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nhm.crystal import DEFAULT_SYMPREC
from nhm.errors import InputError
from nhm.report.hooks import QUIET, Hooks

__all__ = [
    "ALIASES", "MODES", "OPTIONS", "PLOT_FILES", "KSpaceRequest", "KSpaceRun", "candidate_of_material", "check_memory",
    "kspace_figures", "kspace_request", "parse_model", "parse_tight_binding", "run_request", "write_plots",
]

PLOT_FILES = tuple(
    f"{stem}.{ext}" for stem in ("kspace_plane", "kspace_symmetry_related", "kspace_p3_symmetry_related") for ext in ("png", "svg")
) + (
    "kspace_fermi_surface.html",
)
"""The files ``nhm kspace --plot DIR`` may write (the orbit path of μ > 1 bands writes kspace_plane only)."""

ALIASES = {"bcc": (229, "a"), "fcc": (225, "a"), "sc": (221, "a"), "p3": (143, "a")}
MODES = ("projective", "plain")


def _labels_to_band_text(space_group: int, text: str) -> str:
    """'GM1+,H1+,P1,N2+' -> 'GM:GM1+ H:H1+ P:P1 N:N2+' (the longest point name that prefixes a label)."""
    from nhm.bands.symmetry import points_of_symmetry_names

    names = sorted(points_of_symmetry_names(space_group), key=len, reverse=True)
    tokens = []
    for lab in (x.strip() for x in text.replace(";", ",").split(",")):
        if not lab:
            continue
        up = lab.upper().replace("Γ", "GM")
        point = next((n for n in names if up.startswith(n.upper())), None)
        if point is None:
            raise InputError(f"cannot tell the point of symmetry of {lab!r} (points: {', '.join(sorted(names))})")
        tokens.append(f"{point}:{lab}")
    return " ".join(tokens)


def parse_model(spec: str):
    """``(BandSymmetry, WyckoffPosition)`` of a model-band spec, or None if ``spec`` is not one."""
    from nhm.bands.symmetry import parse_band
    from nhm.groups.wyckoff import wyckoff_position

    if ":" not in spec:
        return None
    head, rest = spec.split(":", 1)
    if head.strip().lower() in ALIASES:
        number, letter = ALIASES[head.strip().lower()]
        band_text = rest
    elif head.strip().isdigit():
        parts = rest.split(":", 1)
        if len(parts) != 2:
            raise InputError(f"write a model as 'SG:WYCKOFF:BAND', e.g. '229:a:GM1+,H1+,P1,N2+' (got {spec!r})")
        number, letter, band_text = int(head), parts[0].strip(), parts[1]
    else:
        return None
    if ":" not in band_text:
        band_text = _labels_to_band_text(number, band_text)
    return parse_band(band_text, number), wyckoff_position(number, letter)


def parse_tight_binding(spec: str):
    """``(model, band index)`` of a ``tb:NAME[:BAND]`` spec, or None if ``spec`` is not one."""
    from nhm.bands.tightbinding import MODELS

    parts = spec.split(":")
    if parts[0].strip().lower() != "tb":
        return None
    if len(parts) not in (2, 3) or parts[1] not in MODELS:
        raise InputError(f"write a tight-binding model as 'tb:NAME' or 'tb:NAME:BAND' with NAME one of {', '.join(MODELS)} (got {spec!r})")
    factory, default = MODELS[parts[1]]
    try:
        band_index = int(parts[2]) if len(parts) == 3 else default
    except ValueError as exc:
        raise InputError(f"the band of {spec!r} must be an integer index") from exc
    return factory(), band_index


def _name(material: Any) -> str:
    return material if isinstance(material, str) else material.get_chemical_formula()


def _one_orbit(material: Any, crystal) -> None:
    from nhm.report.analyze import wannier_centres

    centres = wannier_centres(crystal)
    if len(centres) != 1:
        orbits = ", ".join(w.label for w in centres)
        raise InputError(
            f"{_name(material)} has {len(centres)} atom orbits ({orbits}): k-space magnetism is built for one orbit "
            "(one Wannier centre per primitive cell, μ = 1); a band on several orbits needs the site "
            "representation of each orbit in the constraint equations and is not built yet (docs/theory.md, §6 'A metal's own band')"
        )


def candidate_of_material(
    material: Any, number: int = 1, symprec: float | None = None, window: float | None = None, allow_usual: bool = False,
    parameters: Any = None,
):
    """``(Analysis, CandidateBand)``: the ``number``-th (1-based, in the ranking of ``nhm analyze``) candidate
    superconducting band of ``material`` (a DFT run at ``parameters``, a :class:`~nhm.bands.dft_parameters.DftParameters`,
    default nhm analyze's; cached), in its best variant; with ``allow_usual`` the usual bands follow the superconducting
    ones in that ranking. InputError if there is none, for several atom orbits, or for a number out of range."""
    from nhm.bands.dft_parameters import DftParameters
    from nhm.report.analyze import analyze

    name = _name(material)
    parameters = DftParameters() if parameters is None else parameters
    an = analyze(material, readings=("R1", "R2"), symprec=symprec, window_eV=window, parameters=parameters)
    _one_orbit(material, an.crystal)
    v = an.verdict
    cands = ([*v.superconducting, *(v.usual if allow_usual else ())]) if v is not None else []
    if not cands:
        usual = f" (its {len(v.usual)} usual band(s): --allow-usual)" if v is not None and v.usual else ""
        narrowed = f"; --window {window:g} narrowed the search range, without it every band that crosses E_F is searched" if window is not None else ""
        raise InputError(f"nhm analyze found no connected superconducting band of {name}{usual} (see 'nhm analyze {name}{_dft_flags(parameters)}'{narrowed})")
    if not 1 <= number <= len(cands):
        raise InputError(f"--candidate {number} does not exist: {name} has {len(cands)} candidate band(s) (see 'nhm analyze {name}{_dft_flags(parameters)} --json -')")
    return an, cands[number - 1]


def _dft_flags(parameters: Any) -> str:
    """The options of ``nhm analyze`` that repeat ``parameters`` where they differ from its defaults."""
    from nhm.bands.dft_parameters import DftParameters

    d = DftParameters()
    flags = [f" --kmesh {parameters.kmesh}" if parameters.kmesh != d.kmesh and isinstance(parameters.kmesh, int) else "",
             f" --ecut {parameters.mode_ecut_eV:g}" if parameters.mode_ecut_eV != d.mode_ecut_eV else ""]
    return "".join(flags)


def _spin_site(site: str | None, cand) -> str | None:
    """The spin-dependent WFs' site representation: the user's, else the candidate's own (a usual band's best
    variant has only single-valued ones: None lets Krüger's classifier name the double-valued one)."""
    if site is not None:
        return site
    return None if cand.reading == "U" else cand.site_representations[0][0]


def check_memory(space_group: int, mesh: int, limit_gib: float, orbitals: int = 0, plane_waves: int = 0) -> float:
    """InputError if the estimated memory of the n×n×n run exceeds ``limit_gib`` (``--max-memory``); else the estimate (GiB)."""
    from nhm.kspace.resources import GIB, kspace_memory_bytes

    need = kspace_memory_bytes(space_group, mesh, orbitals, plane_waves)
    if need > limit_gib * GIB:
        raise InputError(
            f"--mesh {mesh} needs an estimated {need / GIB:.3g} GiB of memory ({mesh}³ = {mesh**3:,} k points), "
            f"more than --max-memory {limit_gib:g} GiB: use a smaller --mesh or raise --max-memory"
        )
    return need / GIB


def _wyckoff_of(number: int, q):
    """The Wyckoff position (with its representative point, not a generic one) whose orbit holds q."""
    from nhm.groups.seitz import vec_sub
    from nhm.groups.site import orbit
    from nhm.groups.spacegroup import space_group
    from nhm.groups.wyckoff import wyckoff_positions

    g = space_group(number)
    for w in wyckoff_positions(number):
        pts, _ = orbit(g, w.point())
        if any(g.is_lattice_vector(vec_sub(p, q)) for p in pts):
            return w
    raise InputError(f"the model's atom at {tuple(str(x) for x in q)} is on no tabulated Wyckoff position")


@dataclass(frozen=True)
class KSpaceRequest:
    """A checked ``nhm kspace`` request (the options of :func:`nhm.api.kspace`)."""

    material_or_model: Any  # a spec string, or ase.Atoms (a material)
    mesh: int | None
    site: str | None
    allow_usual: bool
    mode: str
    window: float | None
    candidate: int
    max_memory: float  # GiB, at most what the machine has
    symprec: float
    kmesh: int | None = None  # materials: n of the SCF's n×n×n k-mesh (None: nhm analyze's default)
    ecut: float | None = None  # materials: plane-wave cutoff in eV (None: nhm analyze's default)

    def dft_parameters(self):
        """The GPAW parameters of a material's ``nhm analyze`` run (its defaults where not given)."""
        from nhm.bands.dft_parameters import DftParameters

        given = {"kmesh": self.kmesh, "mode_ecut_eV": self.ecut}
        return DftParameters(**{k: v for k, v in given.items() if v is not None})


OPTIONS = ("mesh", "site", "allow_usual", "mode", "window", "candidate", "max_memory", "symprec", "kmesh", "ecut")
"""The options of ``nhm kspace`` as :func:`nhm.api.kspace` names them (its signature holds their defaults)."""


def kspace_request(material_or_model: Any, options: dict[str, Any]) -> KSpaceRequest:
    """Every option (:data:`OPTIONS`, all of them, by name) checked before anything long starts (InputError naming the
    option as the command line spells it, and its limit)."""
    from nhm.report.run_analyze import checked_options
    from nhm.bands.dft_parameters import DftParameters
    from nhm.bands.dft_zone import DEFAULT_SPACING
    from nhm.validate import dft_options, memory_cap, positive_finite, positive_int, symprec as check_symprec

    o = checked_options(options, OPTIONS)
    mesh, candidate, window, mode = o["mesh"], o["candidate"], o["window"], o["mode"]
    if mesh is not None:
        positive_int("--mesh", mesh)
    positive_int("--candidate", candidate)
    if window is not None:
        window = positive_finite("--window", window)
    limit = memory_cap("--max-memory", o["max_memory"])  # at most what the machine has: more would be killed, not run
    if mode not in MODES:
        raise InputError(f"--mode must be {' or '.join(MODES)}, got {mode!r}")
    symprec = check_symprec("--symprec", o["symprec"])
    kmesh, ecut = o["kmesh"], o["ecut"]
    if kmesh is not None and positive_int("--kmesh", kmesh) < 2:
        raise InputError(f"--kmesh is also the zone mesh of nhm analyze's width and filling, and needs at least 2 points per direction, got {kmesh}")
    if ecut is not None:
        ecut = positive_finite("--ecut", ecut)
    defaults = DftParameters()
    dft_options(ecut=defaults.mode_ecut_eV if ecut is None else ecut, smearing=defaults.smearing_eV, spacing=DEFAULT_SPACING, kmesh=kmesh)
    return KSpaceRequest(material_or_model, mesh, o["site"], o["allow_usual"], mode, window, candidate, limit, symprec, kmesh, ecut)


@dataclass(frozen=True, eq=False)
class KSpaceRun:
    """What one ``nhm kspace`` run computed.

    ``source``: ``"model"``, ``"tight-binding"``, ``"material"`` or ``"material-orbit"`` (a material's band of
    μ > 1 branches); ``result``: :class:`nhm.kspace.analysis.run.KSpaceResult` (or ``OrbitResult`` for μ > 1);
    ``data``: the JSON document of ``nhm kspace --json``; ``dispersion``: the band's ε(k) (eV) where known;
    ``analysis``/``candidate``: a material's :class:`~nhm.report.analyze.Analysis` and the
    :class:`~nhm.wannier.verdict.CandidateBand` that was built; ``energies``/``fermi_level``: a μ > 1 band's
    energies on the mesh and E_F (eV)."""

    label: str
    source: str
    result: Any
    data: dict
    dispersion: Any = None
    analysis: Any = None
    candidate: Any = None
    energies: Any = None
    fermi_level: float | None = None


def _announce(hooks: Hooks, material: str, number: int, an, mc, space_group: int, n: int, limit: float, mu: int = 1,
              allow_usual: bool = False):
    """The n³ mesh of a material's candidate (its own checks), the memory guard (μ states per point) and the line that
    says what is about to run; before any GPAW run on the mesh."""
    import numpy as np

    from nhm.bands.resources import plane_wave_count
    from nhm.kspace.mesh import make_mesh

    cand = mc.candidate
    n_sc, n_usual = len(an.verdict.superconducting), len(an.verdict.usual) if allow_usual else 0
    fine = make_mesh(space_group, n)
    n_pw = plane_wave_count(abs(float(np.linalg.det(an.crystal.primitive_atoms().cell[:]))), an.parameters.mode_ecut_eV)
    need = check_memory(space_group, n, limit, plane_waves=mu * n_pw)
    branches = "" if mu == 1 else f"μ = {mu} branches, "
    hooks.say(
        f"{material}: candidate {number} of {n_sc + n_usual}{f' ({n_sc} superconducting, {n_usual} usual: --allow-usual)' if n_usual else ''}, "
        f"{cand.band_text()} ({branches}reading "
        f"{cand.reading}, width {mc.measures.width:.2f} eV, filling {mc.measures.filling:.2f}); E_F = {an.fermi_level:.3f} eV; "
        f"{fine.size:,} k points, ~{n_pw} plane waves each, estimated memory {need:.2g} GiB"
    )
    return fine


def run_request(req: KSpaceRequest, hooks: Hooks = QUIET) -> KSpaceRun:
    """Run ``req`` (the CLI's ``nhm kspace`` and :func:`nhm.api.kspace`)."""
    from nhm.kspace.analysis.run import result_json, run_kspace

    spec = req.material_or_model
    label = _name(spec)
    limit, mesh, site, mode = req.max_memory, req.mesh, req.site, req.mode
    tb = parse_tight_binding(spec) if isinstance(spec, str) else None
    parsed = parse_model(spec) if tb is None and isinstance(spec, str) else None
    if (tb is not None or parsed is not None) and (req.kmesh is not None or req.ecut is not None):
        raise InputError(f"--kmesh and --ecut set the DFT run of a material; {spec!r} is a {'tight-binding' if tb else 'model'} band, which has none")
    if tb is None and parsed is None:  # a material: its structure and the memory guard before the DFT run
        from nhm.crystal import read_crystal
        from nhm.crystal.caveats import structure_notes

        crystal = read_crystal(spec, symprec=req.symprec)
        _one_orbit(spec, crystal)  # before any DFT run
        if mesh is not None:
            check_memory(crystal.space_group, mesh, limit)
        for note in structure_notes(crystal):
            hooks.warn(note)
    characters = overlaps = dispersion = energies = fermi_level = None  # Voronoi model band, no Bloch functions
    an = mc = None
    reading = "R1"
    if tb is not None:
        from nhm.kspace.analysis.fermi import model_dispersion
        from nhm.kspace.sources.tightbinding import (
            model_band_symmetry,
            tight_binding_characters,
            tight_binding_overlaps,
        )

        model, b = tb
        if len(model.positions) != 1:
            raise InputError("k-space magnetism is built for one atom per primitive cell; the model has more")
        try:
            band = model_band_symmetry(model, b)
        except InputError:  # degenerate at a point of symmetry: reading R2 (Bloch spinors as isometries there)
            band = model_band_symmetry(model, b, allow_degenerate=True)
            reading = "R2"
            hooks.warn(f"band {b} of {spec} lies in a multi-dimensional level at a point of symmetry: reading R2 "
                       "(F(k) is undefined at those points; their Bloch spinors are fixed isometries)")
        centre = _wyckoff_of(model.space_group, model.positions[0])
        site_name = site

        characters = lambda mm, st: tight_binding_characters(mm, model, b, st, reading=reading)  # noqa: E731
        overlaps = lambda mm: tight_binding_overlaps(mm, model, b)  # noqa: E731

        dispersion = model_dispersion(model, b)
        energies = lambda mm: dispersion(mm.k_cartesian_bz)  # noqa: E731
        source = "tight-binding"
    elif parsed is not None:
        band, centre = parsed
        site_name = site
        source = "model"
    else:  # the material's own DFT Bloch states (docs/theory.md, k-space magnetism of a metal)
        from nhm.bands.symmetry import parse_band
        from nhm.kspace.analysis.fermi import MeshDispersion
        from nhm.kspace.mesh import default_divisions
        from nhm.kspace.sources.material import branch_count, material_band

        an, mc = candidate_of_material(spec, req.candidate, symprec=req.symprec, window=req.window, allow_usual=req.allow_usual,
                                       parameters=req.dft_parameters())
        cand = mc.candidate
        if branch_count(cand) > 1:  # μ > 1 branches (hcp): F(k) ∈ U(2μ), nhm.kspace.construction.orbit
            return _run_orbit(req, label, an, mc, hooks)
        band = parse_band(cand.band_text(), an.crystal.space_group)
        centre = an.centres[0]
        site_name = _spin_site(site, cand)
        reading = "R1" if cand.reading == "U" else cand.reading  # a usual band's branches: μ single-valued states
        if reading == "R2" and mode == "plain":  # before the GPAW run
            raise InputError("a band with R2 points (reading R2) is optimised in projective mode only: the phase of a bond to an R2 point is the spatial gauge")
        mesh = default_divisions(band.space_group) if mesh is None else mesh
        fine = _announce(hooks, label, req.candidate, an, mc, band.space_group, mesh, limit, allow_usual=req.allow_usual)  # before GPAW
        with hooks.progress("GPAW (Bloch states on the mesh)") as progress:
            mb = material_band(an.crystal, an.parameters, an.zone, cand, mesh, progress=progress)
        characters, overlaps = mb.characters, mb.overlaps
        e_fine = mb.source.energies()
        dispersion = MeshDispersion(fine, e_fine, an.fermi_level)
        energies = lambda mm: dispersion(mm.k_cartesian_bz)  # noqa: E731
        fermi_level = an.fermi_level
        if mb.accidental:
            hooks.warn(f"{len(mb.accidental)} star(s) where the band's state is nearly degenerate with states of other irreps: "
                       "split by symmetry, the component holding the band's state was used (docs/theory.md §6)")
        source = "material"
    if mesh is None:
        from nhm.kspace.mesh import default_divisions

        mesh = default_divisions(band.space_group)
    check_memory(band.space_group, mesh, limit, orbitals=tb[0].size if tb is not None else 0)
    res = run_kspace(
        band, centre, site_name, mesh, require_superconducting=not req.allow_usual, mode=mode,
        characters=characters, overlaps=overlaps, reading=reading, energies=energies, fermi_level=fermi_level,
    )
    data = result_json(res)
    if tb is not None:  # the WFs on the model's orbitals, checked in real space against their definition
        from nhm.kspace.analysis.wannier import check_model_wannier, model_wannier_functions

        wf = model_wannier_functions(res.field, tb[0], tb[1])
        ch = check_model_wannier(wf, res.field, tb[0])
        data["wannier_real_space"] = {
            "symmetry_residual": ch.symmetry, "time_reversal_residual": ch.time_reversal,
            "orthonormality_residual": ch.orthonormality, "bloch_state_residual": wf.band_residual,
        }
    return KSpaceRun(label, source, res, data, dispersion, an, mc, None, fermi_level)


def _run_orbit(req: KSpaceRequest, label: str, an, mc, hooks: Hooks) -> KSpaceRun:
    """A candidate of μ > 1 branches from the material's own Bloch states (docs/theory.md §6, 'Bands of μ branches')."""
    from nhm.bands.symmetry import parse_band
    from nhm.kspace.analysis.run import orbit_classification, orbit_result_json, run_orbit_kspace
    from nhm.kspace.mesh import default_divisions
    from nhm.kspace.sources.material import branch_count, orbit_material_band

    cand = mc.candidate
    mu = branch_count(cand)
    if cand.reading not in ("R1", "U"):
        raise InputError(
            f"the candidate has μ = {mu} branches and reading {cand.reading}: the Bloch spinors at points where the band takes part "
            "of a larger level (R2) are built for μ = 1 only (docs/theory.md §6, 'Bands of μ branches')"
        )
    band = parse_band(cand.band_text(), an.crystal.space_group)
    orbit_classification(band, an.centres[0], "R1", not req.allow_usual)  # before the GPAW run
    n = default_divisions(band.space_group) if req.mesh is None else req.mesh
    fine = _announce(hooks, label, req.candidate, an, mc, band.space_group, n, req.max_memory, mu, allow_usual=req.allow_usual)
    with hooks.progress("GPAW (Bloch states on the mesh)") as progress:
        source = orbit_material_band(an.crystal, an.parameters, an.zone, cand, n, progress=progress)
    energies = source.energies()
    res = run_orbit_kspace(
        band, an.centres[0], _spin_site(req.site, cand), fine, source,
        require_superconducting=not req.allow_usual, energies=energies, fermi_level=an.fermi_level,
    )
    return KSpaceRun(label, "material-orbit", res, orbit_result_json(res), None, an, mc, energies, an.fermi_level)


# --- figures ------------------------------------------------------------------------------------------


def _drawn(run: KSpaceRun) -> tuple[Any, str, str]:
    """(dispersion, label, description) of the figures: a band without a Fermi surface is drawn on the
    free-electron sphere instead, and the titles say so."""
    res, dispersion, label = run.result, run.dispersion, run.label
    f = res.field
    what = f"{label + ': ' if label else ''}{f.characters.band_text} with {f.characters.site.label}, mesh {f.mesh.label}"
    if getattr(dispersion, "fermi_level", None) is not None and not res.fermi_surface.get("points"):
        dispersion = None
        label = f"{label} (the band has no Fermi surface: free-electron sphere)"
        what = f"{what} (the band has no Fermi surface: free-electron sphere shown)"
    return dispersion, label, what


def kspace_figures(run: KSpaceRun, which: tuple[str, ...] | None = None, ax=None) -> dict[str, Any]:
    """The figures of ``run`` by name, as ``nhm kspace --plot`` writes them: ``kspace_plane`` (seed Fig. 1(a);
    for a μ > 1 band its columns' spin axes on a plane), ``kspace_symmetry_related`` (seed Fig. 1(b)),
    ``kspace_p3_symmetry_related`` (Fig. 1(b) for a P3 example, matplotlib) and ``kspace_fermi_surface``
    (plotly). ``which``: only these; ``ax``: draw the one figure asked for into this Axes."""
    names = ("kspace_plane",) if run.source == "material-orbit" else (
        "kspace_plane", "kspace_symmetry_related", "kspace_p3_symmetry_related", "kspace_fermi_surface")
    which = names if which is None else which
    unknown = [w for w in which if w not in names]
    if unknown:
        raise InputError(f"no figure {unknown[0]!r} for this band; there are {', '.join(names)}")
    if ax is not None and len(which) != 1:
        raise InputError("ax= draws one figure: name it")
    figs: dict[str, Any] = {}
    if run.source == "material-orbit":
        from nhm.kspace.analysis.figures import figure_orbit_plane

        if ax is not None:
            raise InputError(f"the figure of a band of μ = {run.result.field.mu} branches has one panel per atom: draw it without ax=")
        d = run.data
        figs["kspace_plane"] = figure_orbit_plane(run.result.field, run.energies, run.fermi_level, title=(
            f"{run.label}: {d['band']} (μ = {d['branches']}) with {d['site_representation']}, mesh {run.result.field.mesh.label}"))
        return figs
    from nhm.kspace.analysis.figures import figure_plane, figure_symmetry_related

    f = run.result.field
    dispersion, label, what = _drawn(run)
    if "kspace_plane" in which:
        normal = (1, -1, 0) if f.mesh.space_group >= 195 else (0, 0, 1)
        figs["kspace_plane"] = figure_plane(f, normal=normal, dispersion=dispersion, title=f"k-space magnetism of {what}", ax=ax)
    if "kspace_symmetry_related" in which:  # seed Fig. 1(b) for this band: the images of one Fermi-surface k under the rotations about z
        figs["kspace_symmetry_related"] = figure_symmetry_related(
            f, dispersion=dispersion, title=f"{label + ': ' if label else ''}symmetry-related k on the Fermi surface and z_k", ax=ax)
    if "kspace_p3_symmetry_related" in which:  # seed Fig. 1(b): three symmetry-related k of P3 with an illustrative texture
        from nhm.bands.symmetry import parse_band
        from nhm.kspace.constraints.site import spin_site_representation
        from nhm.kspace.construction.starts import field_from_function, illustrative_texture
        from nhm.kspace.mesh import make_mesh
        from nhm.kspace.sources.model import model_band_characters

        m3 = make_mesh(143, 12)
        site3 = spin_site_representation(143, "a", "-1E+-2E@1a")
        chars3 = model_band_characters(m3, parse_band("GM:GM1 A:A1 K:K1 H:H1 M:M1 L:L1", 143), site3)
        figs["kspace_p3_symmetry_related"] = figure_symmetry_related(field_from_function(chars3, illustrative_texture()), ax=ax)
    if "kspace_fermi_surface" in which:
        if ax is not None:
            raise InputError("kspace_fermi_surface is a plotly figure: draw it without ax=")
        from nhm.kspace.analysis.viewer import figure_fermi_surface

        figs["kspace_fermi_surface"] = figure_fermi_surface(f, dispersion=dispersion, title=f"k-space magnetism of {what}")
    return figs


def write_plots(run: KSpaceRun, directory: str) -> list[Path]:
    """Write the figures of ``run`` into ``directory`` (PNG and SVG; the Fermi surface as a self-contained HTML page)
    and return their paths: what ``nhm kspace --plot DIR`` writes."""
    from nhm.kspace.analysis.figures import save_figures

    if run.source == "material-orbit":
        return save_figures(kspace_figures(run), directory)
    from nhm.kspace.analysis.viewer import write_html

    paths = save_figures(kspace_figures(run, ("kspace_plane", "kspace_symmetry_related", "kspace_p3_symmetry_related")), directory)
    dispersion, _, what = _drawn(run)
    paths.append(write_html(run.result.field, Path(directory) / "kspace_fermi_surface.html", dispersion=dispersion,
                            title=f"k-space magnetism of {what}"))
    return paths
