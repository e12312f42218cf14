"""``nhm analyze``: the main job — DFT bands, irreps at the points and along the lines, connected
superconducting bands, verdict; or the same on someone else's DFT output (``--from-dft``)."""

from __future__ import annotations

from typing import Annotated

import typer

from nhm.cli._common import json_text, stdout_console
from nhm.crystal import DEFAULT_SYMPREC


def analyze(
    material: Annotated[str, typer.Argument(help="Element symbol (ASE's reference crystal), or a structure file (CIF, POSCAR, ...).")],
    a: Annotated[float | None, typer.Option("--a", help="Lattice constant in Å (element symbols only).")] = None,
    kmesh: Annotated[int | None, typer.Option(help="n for the Γ-centred n×n×n k-mesh of the SCF (also the zone mesh unless --mesh). Default 12.")] = None,
    kdensity: Annotated[float | None, typer.Option("--kdensity", help="Instead of --kmesh: k-points per Å⁻¹ (2π convention, as GPAW's kpts={'density': D}), giving n1×n2×n3 for non-cubic cells; the zone mesh (unless --mesh) takes the largest n.")] = None,
    maxiter: Annotated[int, typer.Option("--maxiter", help="SCF iterations before giving up.")] = 100,
    ecut: Annotated[float, typer.Option(help="Plane-wave cutoff (eV).")] = 500.0,
    xc: Annotated[str, typer.Option(help="Exchange–correlation functional.")] = "PBE",
    smearing: Annotated[float, typer.Option(help="Fermi–Dirac smearing kT (eV).")] = 0.1,
    window: Annotated[float | None, typer.Option(help="Narrow the search to levels within ±window eV of E_F. By default the bands decide: every level of every band that crosses E_F, at least ±6 eV (docs/theory.md §4); the levels a window cuts are listed.")] = None,
    reading: Annotated[str, typer.Option(help="R1, R2 or both (docs/theory.md).")] = "both",
    kramers: Annotated[bool, typer.Option("--kramers", help="Pair 1-dim double site irreps by time reversal.")] = False,
    centres: Annotated[list[str] | None, typer.Option("--centres", help="Atom orbits that carry the Wannier functions: Wyckoff labels (2a, a) or elements (B); repeatable or comma-separated. Default: all.")] = None,
    filling_min: Annotated[float, typer.Option(help="Verdict: lowest filling of a 'roughly half-filled' band.")] = 0.25,
    filling_max: Annotated[float, typer.Option(help="Verdict: highest filling of a 'roughly half-filled' band.")] = 0.75,
    width_factor: Annotated[float, typer.Option(help="Verdict: a narrow band is at most this times the reference width (--width-reference).")] = 1.0,
    width_reference: Annotated[str, typer.Option("--width-reference", help="Verdict: what 'narrow' is measured against: free-electron (the lattice's empty-lattice width of a band of the same capacity, W_FE(μ)), median or widest (of the energy-ordered bands at E_F).")] = "free-electron",
    spacing: Annotated[float, typer.Option(help="Distance between samples on the lines of symmetry (1/Å, 2π convention).")] = 0.08,
    mesh: Annotated[int | None, typer.Option(help="n of the Γ-centred n×n×n zone mesh for width, filling and DOS (default: --kmesh), at least 2.")] = None,
    symprec: Annotated[float, typer.Option("--symprec", metavar="Å", help="spglib's tolerance for the space group (Å); the default reads coordinates typed to 4 digits (0.3333) as the special positions they mean.")] = DEFAULT_SYMPREC,
    json_file: Annotated[str | None, typer.Option("--json", help="Write the JSON report to this file ('-': stdout, the tables then go to stderr).")] = None,
    plot: Annotated[str | None, typer.Option(help="Directory for the band-structure figure (PNG and SVG, named after formula and space group, e.g. Nb-229-bands.png).")] = "nhm-output",
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Do not draw the figure.")] = False,
    emin: Annotated[float | None, typer.Option(help="Figure: lowest energy (eV, relative to E_F); default: the drawn band's range.")] = None,
    emax: Annotated[float | None, typer.Option(help="Figure: highest energy (eV, relative to E_F).")] = None,
    candidates: Annotated[int, typer.Option(help="Figure: how many candidates to draw (the best thickest).")] = 1,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Recompute even if a cached DFT result exists.")] = False,
    top: Annotated[int, typer.Option(help="How many candidates to list.")] = 10,
    from_dft: Annotated[str | None, typer.Option("--from-dft", help="Skip GPAW: read your own calculation, CODE:PATH with CODE espresso (qe: the prefix), vasp (WAVECAR, POSCAR beside it), abinit (WFK), wannier90 (seedname; uses --ecut) or gpaw (.gpw). Spinless, a primitive cell, and k-points at every point of symmetry. Points only: the candidates are not traced along the lines.")] = None,
    fermi: Annotated[float | None, typer.Option("--fermi", help="With --from-dft: Fermi level in eV on the file's energy scale (needed for VASP).")] = None,
    nbands: Annotated[int | None, typer.Option("--nbands", help="With --from-dft: analyse only the lowest N bands (the topmost are often unconverged).")] = None,
) -> None:
    """The main job: DFT bands, irreps at the points and along the lines, connected superconducting bands, verdict."""
    from nhm.api import AnalysisResult
    from nhm.atomic import all_or_nothing, check_outputs, write_atomically
    from nhm.cli.output import console_hooks
    from nhm.errors import InputError
    from nhm.report.run_analyze import analyze_request, readings_of, run_request
    from nhm.validate import energy_axis

    # every option is checked before anything long starts (the structure, the DFT run): the figure's here, the
    # analysis' in nhm.report.run_analyze (the pipeline of nhm.analyze too)
    readings_of(reading)
    if top < 0 or candidates < 0:
        raise InputError("--top and --candidates must not be negative")
    for name, value in (("--emin", emin), ("--emax", emax)):  # the figure's axis: finite, within reach of the bands
        energy_axis(name, value)
    if emin is not None and emax is not None and not emin < emax:
        raise InputError(f"--emin ({emin}) must be below --emax ({emax})")
    req = analyze_request(material, dict(
        a=a, kmesh=kmesh, kdensity=kdensity, maxiter=maxiter, ecut=ecut, xc=xc, smearing=smearing, window=window,
        reading=reading, kramers=kramers, centres=centres, filling_min=filling_min, filling_max=filling_max,
        width_factor=width_factor, width_reference=width_reference, spacing=spacing, mesh=mesh, symprec=symprec,
        from_dft=from_dft, fermi=fermi, nbands=nbands, use_cache=not no_cache,
    ))

    # outputs are checked before the long work (never onto an input, nor onto each other), and written only when
    # everything is ready; the figures' names need the crystal: checked again once it is read
    drawing = not no_plot and plot is not None and from_dft is None
    inputs = {"the structure file": material, "the DFT output of --from-dft": (from_dft or "").partition(":")[2] or None}
    check_outputs(files={"--json": json_file}, directories={"--plot": (plot if drawing else None, ())}, inputs=inputs)
    human = stdout_console(stderr=json_file == "-")  # '--json -': pure JSON on stdout, the tables on stderr

    def check_figure_names(crystal) -> None:
        if drawing:
            from nhm.report.figures import figure_files

            check_outputs(files={"--json": json_file}, directories={"--plot": (plot, figure_files(crystal))}, inputs=inputs)

    an, warned = run_request(req, console_hooks(human), on_crystal=check_figure_names)
    result = AnalysisResult(an)
    _print_analysis(an, top, human, shown=set(warned))
    figures: dict[str, bytes] = {}
    if drawing and an.zone is not None:
        from nhm.report.figures import figure_stem, render_band_figure

        figures = {
            f"{figure_stem(an)}.{fmt}": data
            for fmt, data in render_band_figure(an, emin=emin, emax=emax, candidates=max(candidates, 1)).items()
        }
    from pathlib import Path

    with all_or_nothing():  # the JSON and the figures appear together, or none of them
        if json_file:
            write_atomically(json_file, json_text(result.to_dict()).encode())  # strict JSON: no NaN/Infinity
        for name, data in figures.items():
            write_atomically(Path(plot) / name, data)
    if json_file and json_file != "-":
        human.print(f"JSON written to {json_file}")
    if figures:
        human.print("Figure: " + ", ".join(str(Path(plot) / name) for name in figures))


def _compact_band(cand) -> str:
    """'GM5+ H5+ N3+ P4': the chosen levels (labels already name their point), several at a point joined by ','."""
    per_k: dict[str, list[str]] = {}
    for lv in cand.levels:
        per_k.setdefault(lv.k, []).append(lv.irrep)
    return " ".join(",".join(v) for v in per_k.values())


def _interval(lo: float, hi: float, fmt: str) -> str:
    return "" if abs(hi - lo) < 0.5 * 10 ** -int(fmt[-2]) else f" [{lo:{fmt}}–{hi:{fmt}}]"


def _print_analysis(an, top: int, console=None, shown: set[str] | frozenset[str] = frozenset()) -> None:
    from rich.markup import escape
    from rich.table import Table

    console = stdout_console() if console is None else console
    ef = an.fermi_level
    c = an.crystal
    console.print(
        f"[bold]{an.formula}[/bold]: space group {c.space_group} ({c.international}, symprec {c.symprec:g} Å), atoms on "
        f"{', '.join(f'{o.element} {o.label} ({o.site_symmetry})' for o in c.orbits)}; "
        f"Wannier centres {', '.join(w.label for w in an.centres)}; "
        f"E_F = {ef:.3f} eV{' (cached DFT)' if an.from_cache else ''}"
    )
    lo, hi = an.window
    t = Table(title=f"Levels searched ({lo:+.2f} … {hi:+.2f} eV around E_F) at the points of symmetry (E − E_F, eV)")
    t.add_column("k")
    t.add_column("levels (irrep: energy)")
    for k, lvs in an.levels.items():
        near = [f"{lv.irrep} {lv.energy - ef:+.2f}" for lv in lvs if lo <= lv.energy - ef <= hi]
        t.add_row(k, ",  ".join(near) or "-")
    console.print(t)
    if an.verdict is None:
        res = an.points_only
        for title, cands in (("Level assemblies passing test S (not traced)", res.superconducting), ("passing test U", res.usual)):
            t = Table(title=title)
            for col in ("#", "reading", "levels at the points", "site irreps", "range (eV)"):
                t.add_column(col)
            for i, cand in enumerate(cands[:top]):
                t.add_row(str(i + 1), cand.reading, cand.band_text(), "; ".join(" ⊕ ".join(s) for s in cand.site_representations),
                          f"{cand.energy_min - ef:+.2f} … {cand.energy_max - ef:+.2f}")
            console.print(t if cands else f"{title}: none")
    else:
        v = an.verdict
        zone = an.zone
        rng = an.search_range
        console.print(
            f"Traced on {len(zone.lines)} lines of symmetry ({', '.join(lb.name for lb in zone.lines)}; "
            f"{sum(len(lb.s) for lb in zone.lines)} k-points) and a {zone.mesh.n}³ mesh, {zone.nbands} bands. Bands crossing E_F: "
            + (", ".join(f"#{n + 1} ({w:.2f} eV wide)" for n, _, _, w in v.fermi_bands) or "none")
            + (f"; search range {rng.lo:+.2f} … {rng.hi:+.2f} eV (bands {', '.join(f'#{n + 1}' for n in rng.bands) or 'none'}, at least ±{rng.floor:g} eV)" if rng else "")
        )
        refs = v.references
        ref_name = v.criteria.width_reference
        for title, cands in (("Candidate superconducting bands", v.superconducting), ("Usual bands", v.usual)):
            t = Table(title=f"{title} (ranked: meets the criteria, |filling − ½|, width)")
            for col in ("#", "R", "levels at the points", "site irrep", "width", "W/W_FE", "filling", "DOS", "var", "sw", "verdict"):
                wraps = col in ("levels at the points", "site irrep", "verdict")  # long texts wrap; numbers never do
                t.add_column(col, no_wrap=not wraps, min_width=len(col) if not wraps else None)
            for i, b in enumerate(cands[:top]):
                m = b.best
                status = "[green]passes[/green]" if b.passes else ("too wide" if v.criteria.filling_min <= m.filling <= v.criteria.filling_max else "not ½-filled")
                if b.marginal:
                    status += " (marginal)"
                if b.verdict == "usual" and b.reading != "U":
                    status = "usual level set"
                t.add_row(
                    str(i + 1), b.reading, _compact_band(b.candidate), "; ".join(" ⊕ ".join(s) for s in b.site_representations),
                    escape(f"{m.width:.2f}{_interval(*b.width, '.2f')}"), f"{m.width / refs.free_electron:.2f}",
                    escape(f"{m.filling:.2f}{_interval(*b.filling, '.2f')}"), f"{m.dos_at_fermi:.3f}",
                    str(len(b.variants)), str(b.candidate.switches), status,
                )
            t.caption = escape(
                "R: reading (U: usual band); width in eV over the zone, best assignment [interval over the path variants and "
                f"the states of degenerate levels]; W_FE(μ={refs.mu}) = {refs.free_electron:.2f} eV; DOS at E_F per eV, spin and "
                "cell (best); var: path variants; sw: branch switches of the best" + (f"; {len(cands) - top} more in --json" if len(cands) > top else "")
            )
            console.print(t if cands else f"{title}: none")
        cr = v.criteria
        colour = "bold magenta" if v.verdict == "superconducting band" else "yellow"
        ref = refs.value(ref_name)
        console.print(
            f"Verdict: [{colour}]{v.verdict}[/{colour}] — "
            + escape(
                f"{v.reason}. Criteria: filling in [{cr.filling_min:g}, {cr.filling_max:g}], "
                f"width ≤ {cr.width_factor:g} × {ref_name} width ({ref:.2f} eV); beside it: W_FE(μ) {refs.free_electron:.2f} eV, "
                f"median {refs.median:.2f} eV, widest {refs.widest:.2f} eV of the bands at E_F (docs/theory.md §4)."
            )
        )
    for note in an.notes:
        if note not in shown:  # the structure's caveats were printed as warnings before the run
            console.print(f"note: {note}")
