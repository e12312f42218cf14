"""``nhm kspace``: the Bloch-spinor field f(k), spin axes z_k and spin-dependent WFs of a band.

Registered in :mod:`nhm.cli` as a command function. The argument is a model band (``bcc:GM1+,H1+,P1,N2+``,
``229:a:GM1+,H1+,P1,N2+``), a tight-binding band (``tb:bcc-sd[:BAND]``) or a material (an element symbol or a
structure file): see :mod:`nhm.report.run_kspace`, the pipeline this command shares with :func:`nhm.kspace`.
Here: the options, the outputs checked before the work, the tables, and the files written.
"""

from __future__ import annotations

from typing import Annotated

import typer

from nhm.atomic import STDOUT, all_or_nothing, check_outputs, write_text_atomically
from nhm.cli._common import json_text, stdout_console
from nhm.crystal import DEFAULT_SYMPREC
from nhm.report.run_kspace import ALIASES, MODES, PLOT_FILES, candidate_of_material, check_memory, parse_model, parse_tight_binding

__all__ = ["ALIASES", "MODES", "PLOT_FILES", "candidate_of_material", "check_memory", "kspace", "parse_model", "parse_tight_binding"]


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
    kmesh: Annotated[int | None, typer.Option(help="Materials: n of the Γ-centred n×n×n k-mesh of nhm analyze's SCF (also its zone mesh), as 'nhm analyze --kmesh'. Default 12.")] = None,
    ecut: Annotated[float | None, typer.Option(help="Materials: plane-wave cutoff (eV) of nhm analyze's run and of the Bloch states on the mesh, as 'nhm analyze --ecut'. Default 500.")] = None,
) -> None:
    """k-space magnetism: the Bloch spinors f(k), spin axes z_k and spin-dependent Wannier functions of a band."""
    from nhm.api import KSpaceResult
    from nhm.cli.output import console_hooks
    from nhm.report.run_kspace import kspace_request, run_request, write_plots

    req = kspace_request(material_or_model, dict(mesh=mesh, site=site, allow_usual=allow_usual, mode=mode, window=window,
                                                 candidate=candidate, max_memory=max_memory, symprec=symprec,
                                                 kmesh=kmesh, ecut=ecut))
    # the figures' own names, before the work; no output onto the structure file or onto another output
    check_outputs(files={"--json": json_file}, directories={"--plot": (plot, PLOT_FILES)},
                  inputs={"the structure file": material_or_model})
    out = stdout_console(stderr=json_file == STDOUT)  # '--json -': stdout holds nothing but the JSON
    run = run_request(req, console_hooks(out))
    data = KSpaceResult(run).to_dict()
    if run.source == "material-orbit":
        _print_orbit_summary(data, out)
    else:
        _print_summary(run.result, data, out)
    paths: list = []
    with all_or_nothing():  # figures and JSON appear together, or (on any failure) none of them
        if plot:
            paths = write_plots(run, plot)
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
