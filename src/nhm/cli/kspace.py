"""``nhm kspace``: the Bloch-spinor field f(k), spin axes z_k and spin-dependent WFs of a band.

Registered in :mod:`nhm.cli` as a command function (formerly ``nhm.cli_kspace``). The argument is a model band or a material:

- ``bcc:GM1+,H1+,P1,N2+`` — an alias (bcc = 229:a, fcc = 225:a, sc = 221:a, p3 = 143:a) and one irrep
  label per point of symmetry (each label names its point: GM1+ is at GM);
- ``229:a:GM:GM1+ H:H1+ P:P1 N:N2+`` or ``229:a:GM1+,H1+,P1,N2+`` — space group, Wyckoff letter, band;
- ``tb:bcc-sd`` or ``tb:bcc-sd:5`` — a band (energy-ordered index; default the model's) of a built-in
  Slater–Koster model (:data:`nhm.bands.tightbinding.MODELS`): λ comes from its Bloch states at every
  mesh point, and the spatial overlaps |⟨u_k|u_{k+b}⟩| enter the spread;
- anything else is a material (element symbol or structure file): ``nhm analyze`` runs (DFT) and its
  connected superconducting candidate (``--candidate N``, default the best) is built from its own GPAW
  Bloch states on the mesh (:func:`candidate_of_material`, :mod:`nhm.kspace.sources.material`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nhm.atomic import STDOUT, all_or_nothing, check_outputs, write_text_atomically
from nhm.crystal import DEFAULT_SYMPREC
from nhm.errors import InputError
from nhm.cli._common import json_text, stdout_console, warn
from nhm.validate import memory_cap, positive_finite, positive_int, symprec as check_symprec

PLOT_FILES = tuple(
    f"{stem}.{ext}" for stem in ("kspace_plane", "kspace_symmetry_related", "kspace_p3_symmetry_related") for ext in ("png", "svg")
) + (
    "kspace_fermi_surface.html",
)

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


def _one_orbit(material: str, crystal) -> None:
    from nhm.report.analyze import wannier_centres

    centres = wannier_centres(crystal)
    if len(centres) != 1:
        orbits = ", ".join(w.label for w in centres)
        raise InputError(
            f"{material} has {len(centres)} atom orbits ({orbits}): k-space magnetism is built for one orbit "
            "(one Wannier centre per primitive cell, μ = 1); a band on several orbits needs the site "
            "representation of each orbit in the constraint equations and is not built yet (docs/theory.md, §6 'A metal's own band')"
        )


def candidate_of_material(
    material: str, number: int = 1, symprec: float | None = None, window: float | None = None, allow_usual: bool = False,
):
    """``(Analysis, CandidateBand)``: the ``number``-th (1-based, in the ranking of ``nhm analyze``) candidate
    superconducting band of ``material`` (a DFT run, cached), in its best variant; with ``allow_usual`` the usual
    bands follow the superconducting ones in that ranking. InputError if there is none, for several atom orbits,
    or for a number out of range."""
    from nhm.report.analyze import analyze

    an = analyze(material, readings=("R1", "R2"), symprec=symprec, window_eV=window)
    _one_orbit(material, an.crystal)
    v = an.verdict
    cands = ([*v.superconducting, *(v.usual if allow_usual else ())]) if v is not None else []
    if not cands:
        usual = f" (its {len(v.usual)} usual band(s): --allow-usual)" if v is not None and v.usual else ""
        narrowed = f"; --window {window:g} narrowed the search range, without it every band that crosses E_F is searched" if window is not None else ""
        raise InputError(f"nhm analyze found no connected superconducting band of {material}{usual} (see 'nhm analyze {material}'{narrowed})")
    if not 1 <= number <= len(cands):
        raise InputError(f"--candidate {number} does not exist: {material} has {len(cands)} candidate band(s) (see 'nhm analyze {material} --json -')")
    return an, cands[number - 1]


def _spin_site(site: str | None, cand) -> str | None:
    """The spin-dependent WFs' site representation: the user's, else the candidate's own (a usual band's best
    variant has only single-valued ones: None lets Krüger's classifier name the double-valued one)."""
    if site is not None:
        return site
    return None if cand.reading == "U" else cand.site_representations[0][0]


def kspace(
    material_or_model: Annotated[str, typer.Argument(help="A model band ('bcc:GM1+,H1+,P1,N2+', '229:2a:GM1+,H1+,P1,N2+'), a tight-binding band ('tb:bcc-sd[:BAND]') or a material ('Nb', a CIF).")],
    mesh: Annotated[int | None, typer.Option(help="n of the Γ-centred n×n×n mesh (primitive basis); must contain every point of symmetry. Default: the admissible n nearest to 16 from above.")] = None,
    site: Annotated[str | None, typer.Option(help="Double-valued site representation of the spin-dependent WFs (default: the classifier's first).")] = None,
    allow_usual: Annotated[bool, typer.Option("--allow-usual", help="Also run for a usual band (its F is constant).")] = False,
    mode: Annotated[str, typer.Option(help="Spread to minimise: projective (spin frame, default) or plain (M = 1).")] = "projective",
    json_file: Annotated[str | None, typer.Option("--json", help="Write the results as JSON to FILE ('-' for stdout; the tables then go to stderr).")] = None,
    plot: Annotated[str | None, typer.Option(help="Directory for the figures (seed Fig. 1 a/b, PNG and SVG) and the 3D HTML view.")] = None,
    window: Annotated[float | None, typer.Option(help="Materials: narrow the search range of 'nhm analyze' to ±window eV around E_F (default: the bands decide).")] = None,
    candidate: Annotated[int, typer.Option(help="Materials: which connected superconducting candidate of 'nhm analyze' (1 = the best, its ranking).")] = 1,
    max_memory: Annotated[float, typer.Option("--max-memory", metavar="GIB", help="Refuse meshes whose estimated memory exceeds this many GiB.")] = 8.0,
    symprec: Annotated[float, typer.Option("--symprec", metavar="Å", help="Materials: spglib's tolerance for the space group (Å).")] = DEFAULT_SYMPREC,
) -> None:
    """k-space magnetism: the Bloch spinors f(k), spin axes z_k and spin-dependent Wannier functions of a band."""
    from nhm.kspace.analysis.run import result_json, run_kspace

    if mesh is not None:
        positive_int("--mesh", mesh)
    positive_int("--candidate", candidate)
    if window is not None:
        window = positive_finite("--window", window)
    limit = memory_cap("--max-memory", max_memory)  # at most what the machine has: more would be killed, not run
    if mode not in MODES:
        raise InputError(f"--mode must be {' or '.join(MODES)}, got {mode!r}")
    symprec = check_symprec("--symprec", symprec)
    # the figures' own names, before the work; no output onto the structure file or onto another output
    check_outputs(files={"--json": json_file}, directories={"--plot": (plot, PLOT_FILES)},
                  inputs={"the structure file": material_or_model})
    out = stdout_console(stderr=json_file == STDOUT)  # '--json -': stdout holds nothing but the JSON
    tb = parse_tight_binding(material_or_model)
    parsed = parse_model(material_or_model) if tb is None else None
    if tb is None and parsed is None:  # a material: its structure and the memory guard before the DFT run
        from nhm.crystal import read_crystal
        from nhm.crystal.caveats import structure_notes

        crystal = read_crystal(material_or_model, symprec=symprec)
        _one_orbit(material_or_model, crystal)  # before any DFT run
        if mesh is not None:
            check_memory(crystal.space_group, mesh, limit)
        for note in structure_notes(crystal):
            warn(note)
    characters = overlaps = dispersion = energies = fermi_level = None  # Voronoi model band, no Bloch functions
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
            warn(f"band {b} of {material_or_model} lies in a multi-dimensional level at a point of symmetry: reading R2 "
                 "(F(k) is undefined at those points; their Bloch spinors are fixed isometries)")
        centre = _wyckoff_of(model.space_group, model.positions[0])
        site_name = site

        characters = lambda mm, st: tight_binding_characters(mm, model, b, st, reading=reading)  # noqa: E731
        overlaps = lambda mm: tight_binding_overlaps(mm, model, b)  # noqa: E731

        dispersion = model_dispersion(model, b)
        energies = lambda mm: dispersion(mm.k_cartesian_bz)  # noqa: E731
    elif parsed is not None:
        band, centre = parsed
        site_name = site
    else:  # the material's own DFT Bloch states (docs/theory.md, k-space magnetism of a metal)
        from nhm.bands.dft import rich_progress
        from nhm.bands.symmetry import parse_band
        from nhm.kspace.analysis.fermi import MeshDispersion
        from nhm.kspace.mesh import default_divisions
        from nhm.kspace.sources.material import branch_count, material_band

        an, mc = candidate_of_material(material_or_model, candidate, symprec=symprec, window=window, allow_usual=allow_usual)
        cand = mc.candidate
        if branch_count(cand) > 1:  # μ > 1 branches (hcp): F(k) ∈ U(2μ), nhm.kspace.construction.orbit
            _run_orbit(material_or_model, an, mc, candidate, mesh, site, allow_usual, limit, json_file, plot, out)
            return
        band = parse_band(cand.band_text(), an.crystal.space_group)
        centre = an.centres[0]
        site_name = _spin_site(site, cand)
        reading = "R1" if cand.reading == "U" else cand.reading  # a usual band's branches: μ single-valued states
        if reading == "R2" and mode == "plain":  # before the GPAW run
            raise InputError("a band with R2 points (reading R2) is optimised in projective mode only: the phase of a bond to an R2 point is the spatial gauge")
        mesh = default_divisions(band.space_group) if mesh is None else mesh
        fine = _announce(out, material_or_model, candidate, an, mc, band.space_group, mesh, limit)  # before GPAW
        with rich_progress("GPAW (Bloch states on the mesh)", console=out) as progress:
            mb = material_band(an.crystal, an.parameters, an.zone, cand, mesh, progress=progress)
        characters, overlaps = mb.characters, mb.overlaps
        e_fine = mb.source.energies()
        dispersion = MeshDispersion(fine, e_fine, an.fermi_level)
        energies = lambda mm: dispersion(mm.k_cartesian_bz)  # noqa: E731
        fermi_level = an.fermi_level
        if mb.accidental:
            warn(f"{len(mb.accidental)} star(s) where the band's state is nearly degenerate with states of other irreps: "
                 "split by symmetry, the component holding the band's state was used (docs/theory.md §6)")
    if mesh is None:
        from nhm.kspace.mesh import default_divisions

        mesh = default_divisions(band.space_group)
    check_memory(band.space_group, mesh, limit, orbitals=tb[0].size if tb is not None else 0)
    res = run_kspace(
        band, centre, site_name, mesh, require_superconducting=not allow_usual, mode=mode,
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
    _print_summary(res, data, out)
    paths: list = []
    with all_or_nothing():  # figures and JSON appear together, or (on any failure) none of them
        if plot:
            paths = _write_plots(res, plot, dispersion, label=material_or_model)
        if json_file:
            write_text_atomically(json_file, json_text(data))
    if paths:
        out.print("Figures: " + ", ".join(str(p) for p in paths))
    if json_file and json_file != STDOUT:
        out.print(f"JSON written to {json_file}")


def _announce(out, material: str, number: int, an, mc, space_group: int, n: int, limit: float, mu: int = 1):
    """The n³ mesh of a material's candidate (its own checks), the memory guard (μ states per point) and the line that
    says what is about to run; before any GPAW run on the mesh."""
    import numpy as np

    from nhm.bands.resources import plane_wave_count
    from nhm.kspace.mesh import make_mesh

    cand = mc.candidate
    fine = make_mesh(space_group, n)
    n_pw = plane_wave_count(abs(float(np.linalg.det(an.crystal.primitive_atoms().cell[:]))), an.parameters.mode_ecut_eV)
    need = check_memory(space_group, n, limit, plane_waves=mu * n_pw)
    branches = "" if mu == 1 else f"μ = {mu} branches, "
    out.print(
        f"{material}: candidate {number} of {len(an.verdict.superconducting)}, {cand.band_text()} ({branches}reading "
        f"{cand.reading}, width {mc.measures.width:.2f} eV, filling {mc.measures.filling:.2f}); E_F = {an.fermi_level:.3f} eV; "
        f"{fine.size:,} k points, ~{n_pw} plane waves each, estimated memory {need:.2g} GiB"
    )
    return fine


def _run_orbit(material: str, an, mc, number: int, mesh: int | None, site: str | None, allow_usual: bool, limit: float,
               json_file: str | None, plot: str | None, out) -> None:
    """A candidate of μ > 1 branches from the material's own Bloch states (docs/theory.md §6, 'Bands of μ branches')."""
    from nhm.bands.dft import rich_progress
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
    orbit_classification(band, an.centres[0], "R1", not allow_usual)  # before the GPAW run
    n = default_divisions(band.space_group) if mesh is None else mesh
    fine = _announce(out, material, number, an, mc, band.space_group, n, limit, mu)
    with rich_progress("GPAW (Bloch states on the mesh)", console=out) as progress:
        source = orbit_material_band(an.crystal, an.parameters, an.zone, cand, n, progress=progress)
    res = run_orbit_kspace(
        band, an.centres[0], _spin_site(site, cand), fine, source,
        require_superconducting=not allow_usual, energies=source.energies(), fermi_level=an.fermi_level,
    )
    data = orbit_result_json(res)
    _print_orbit_summary(data, out)
    paths: list = []
    with all_or_nothing():
        if plot:
            from nhm.kspace.analysis.figures import figure_orbit_plane, save_figures

            fig = figure_orbit_plane(res.field, source.energies(), an.fermi_level, title=(
                f"{material}: {data['band']} (μ = {mu}) with {data['site_representation']}, mesh {fine.label}"))
            paths = save_figures({"kspace_plane": fig}, plot)
        if json_file:
            write_text_atomically(json_file, json_text(data))
    if paths:
        out.print("Figures: " + ", ".join(str(p) for p in paths))
    if json_file and json_file != STDOUT:
        out.print(f"JSON written to {json_file}")


def _print_orbit_summary(data: dict, console) -> None:
    from rich.table import Table

    fs = data["k_space_magnetism"]
    zone = fs["whole_zone"]
    console.print(
        f"[bold]SG {data['space_group']}[/bold] band {data['band']} ({data['verdict']}; μ = {data['branches']} branches, F(k) ∈ "
        f"U({2 * data['branches']})), spin-dependent WFs {data['site_representation']}, mesh {data['mesh']}³"
    )
    t = Table(title="k-space magnetism (μ > 1)")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    for name, value in (
        ("little-group residual (every mesh point)", f"{data['little_group_residual']:.1e}"),
        ("star residual (sampled)", f"{data['star_residual_sampled']:.1e}"),
        ("time-reversal residual", f"{data['time_reversal_residual']:.1e}"),
        ("unitarity residual", f"{data['unitarity_residual']:.1e}"),
        ("spread with spatial overlaps (a²)", f"{data['spread_with_spatial_overlaps']:.4g}"),
        ("usual choice W(k) ⊗ 1: spread (a²)", f"{data['usual_choice']['spread_with_spatial_overlaps']:.4g}"),
        ("usual choice: distance from the constraints", f"{data['usual_choice']['symmetry_violation']:.2g}"),
        ("mesh points without a symmetric W(k) ⊗ 1", f"{data['points_without_spin_independent_F']['mesh_points']}"),
        ("share of the spread on their bonds", f"{data['where_the_spread_sits']['fraction_on_bonds_touching_those_stars']:.2f} "
                                                f"({data['where_the_spread_sits']['bonds_touching_those_stars']:.1%} of the bonds)"),
        ("Fermi-surface mesh points", f"{fs['points']}"),
        ("spin-axis variation on the Fermi surface", "—" if fs["axis_variation"] is None else f"{fs['axis_variation']:.3g}"),
        ("spin-axis variation over the zone", f"{zone['axis_variation']:.3g}"),
    ):
        t.add_row(name, value)
    console.print(t)
    if fs["present"] is None:
        verdict = (f"k-space magnetism on the Fermi surface: undefined (the band has no Fermi surface); over the zone the spin axis "
                   f"{'varies' if zone['axis_variation'] > fs['tolerance'] else 'is constant'} (1 − λ_max⟨zzᵀ⟩ = {zone['axis_variation']:.2g})")
    else:
        verdict = (f"k-space magnetism {'present' if fs['present'] else 'absent'}: 1 − λ_max⟨zzᵀ⟩ = {fs['axis_variation']:.3g} on "
                   f"{fs['points']} Fermi-surface points (tolerance {fs['tolerance']:g})")
    console.print(verdict)
    for note in data["notes"]:
        console.print(f"note: {note}")


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


def _print_summary(res, data: dict, console=None) -> None:
    from rich.table import Table

    console = stdout_console() if console is None else console
    f = res.field
    console.print(
        f"[bold]SG {data['space_group']}[/bold] band {data['band']} ({res.verdict}), spin-dependent WFs {data['site_representation']}, "
        f"mesh {f.mesh.label}"
    )
    t = Table(title="k-space magnetism")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    rows = [
        ("k-independent F possible", "yes" if data["k_independent_possible"] else "no"),
        ("constraint residual", f"{data['constraint_residual']:.1e}"),
        ("time-reversal residual", f"{data['time_reversal_residual']:.1e}"),
        *([("R2 points (mesh points; F undefined)", f"{data['r2_mesh_points']}"),
           ("R2 spinor residual (max)", f"{max(data['r2_residuals'].values()):.1e}")] if data.get("r2_mesh_points") else []),
        ("Kramers partners opposite (max dev.)", f"{data['checks']['kramers_opposite_spin']:.1e}"),
        ("spin-frame covariance (max dev.)", f"{data['checks']['spin_frame_covariance']:.1e}"),
        ("spread Ω (M = 1, a²)", f"{data['spread']:.4f}"),
        ("spread Ω_P (spin frame, a²)", f"{data['spread_projective']:.4f}"),
        *([("spread with spatial overlaps |M_kb| (a²)", f"{data['spread_with_spatial_overlaps']:.4f}")]
          if data["spread_with_spatial_overlaps"] is not None else []),
        *([("real-space WFs: P(a)w = ρ(a)w, Tw = τw (max dev.)",
            f"{max(data['wannier_real_space']['symmetry_residual'], data['wannier_real_space']['time_reversal_residual']):.1e}")]
          if "wannier_real_space" in data else []),
        *([(f"spread of the usual choice F ≡ 1 ({'with |M_kb|' if 'spread_with_spatial_overlaps' in data['usual_choice'] else 'spin frame'}, a²; "
             f"symmetry violated by {data['usual_choice']['symmetry_violation']:.2g})",
            f"{next(v for k, v in data['usual_choice'].items() if k.startswith('spread')):.4f}")] if "usual_choice" in data else []),
        ("jump bonds (forced)", f"{data['jumps']['jumps']} ({data['jumps']['forced']}) of {data['jumps']['bonds']}"),
        ("WF decay", f"{data['decay_fit']['better']}"),
    ]
    fs = data.get("k_space_magnetism") or {}
    if fs.get("points"):
        rows.append(("Fermi-surface points (F defined)", str(fs["points"])))
        rows.append(("axis variation 1 − λ_max⟨z zᵀ⟩", f"{fs['axis_variation']:.3g}"))
    for r in rows:
        t.add_row(*r)
    console.print(t)
    if fs and not fs.get("points"):
        console.print("k-space magnetism: no Fermi surface — the band does not cross its Fermi level on the mesh (filled or empty)")
    if fs.get("points"):
        console.print(
            f"k-space magnetism: {'present' if fs['present'] else 'absent'} — z_k "
            f"{'varies' if fs['present'] else 'is constant'} on the Fermi surface (axis variation {fs['axis_variation']:.3g}, "
            f"{'>' if fs['present'] else '≤'} {fs['tolerance']:g}; 0: one axis everywhere, 2/3: isotropic) over {fs['points']} "
            f"{fs['where']}"
        )
    if res.jumps.groups:
        j = Table(title="where F jumps (bond midpoints)")
        for col in ("element", "|G_k|", "normal/direction", "cells", "bonds", "forced", "λ change (forced)"):
            j.add_column(col)
        for g in res.jumps.groups[:12]:
            j.add_row(g.element, str(g.cogroup_order), "(" + ", ".join(f"{x:.3f}" for x in g.normal_or_direction) + ")",
                      "–".join(g.cells), str(g.bonds), str(g.forced), g.lambda_change)
        console.print(j)
    for note in res.notes:
        console.print(f"note: {note}")


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


def _write_plots(res, directory: str, dispersion=None, label: str = "") -> list:
    from nhm.bands.symmetry import parse_band
    from nhm.kspace.analysis.figures import figure_plane, figure_symmetry_related, save_figures
    from nhm.kspace.analysis.viewer import write_html
    from nhm.kspace.constraints.site import spin_site_representation
    from nhm.kspace.construction.starts import field_from_function, illustrative_texture
    from nhm.kspace.mesh import make_mesh
    from nhm.kspace.sources.model import model_band_characters

    f = res.field
    normal = (1, -1, 0) if f.mesh.space_group >= 195 else (0, 0, 1)
    what = f"{label + ': ' if label else ''}{f.characters.band_text} with {f.characters.site.label}, mesh {f.mesh.label}"
    if getattr(dispersion, "fermi_level", None) is not None and not res.fermi_surface.get("points"):
        dispersion = None  # a filled or empty band: z_k is drawn on the free-electron sphere instead, and the titles say so
        label = f"{label} (the band has no Fermi surface: free-electron sphere)"
        what = f"{what} (the band has no Fermi surface: free-electron sphere shown)"
    figs = {
        "kspace_plane": figure_plane(f, normal=normal, dispersion=dispersion, title=f"k-space magnetism of {what}"),
        # seed Fig. 1(b) for this band: the images of one Fermi-surface k under the rotations about z
        "kspace_symmetry_related": figure_symmetry_related(
            f, dispersion=dispersion, title=f"{label + ': ' if label else ''}symmetry-related k on the Fermi surface and z_k"),
    }
    # seed Fig. 1(b): three symmetry-related k of P3 with an illustrative symmetric texture
    m3 = make_mesh(143, 12)
    site3 = spin_site_representation(143, "a", "-1E+-2E@1a")
    chars3 = model_band_characters(m3, parse_band("GM:GM1 A:A1 K:K1 H:H1 M:M1 L:L1", 143), site3)
    figs["kspace_p3_symmetry_related"] = figure_symmetry_related(field_from_function(chars3, illustrative_texture()))
    paths = save_figures(figs, directory)
    paths.append(write_html(f, Path(directory) / "kspace_fermi_surface.html", dispersion=dispersion, title=f"k-space magnetism of {what}"))
    return paths
