"""Command-line interface: ``nhm group``, ``nhm irreps``, ``nhm ebr`` (tables by default, ``--json`` for machines)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from nhm.errors import NhmError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="nhm — the nonadiabatic Heisenberg model: superconducting bands and their group theory.",
    pretty_exceptions_enable=False,
)
console = Console(width=None if sys.stdout.isatty() else 132)  # pipes and files: wide tables, not 80 columns

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
DoubleFlag = Annotated[bool, typer.Option("--double", help="Double-valued (spinor) representations.")]
TrFlag = Annotated[bool, typer.Option("--tr", help="With time reversal (co-representations of the grey group).")]


def _emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _fmt_vec(v) -> str:
    return "(" + ", ".join(str(x) for x in v) + ")"


def _fmt_complex(z: complex) -> str:
    z = complex(z)
    re_, im = round(z.real, 4) + 0.0, round(z.imag, 4) + 0.0
    if abs(im) < 1e-4:
        return f"{re_:g}"
    if abs(re_) < 1e-4:
        return f"{im:g}i"
    return f"{re_:g}{im:+g}i"


@app.command()
def group(
    space_group: Annotated[str, typer.Argument(help="Space-group number 1-230.")],
    json_out: JsonFlag = False,
) -> None:
    """Setting, points of symmetry and Wyckoff positions of a space group (BCS setting)."""
    from nhm.groups.kpoints import points_of_symmetry
    from nhm.groups.wyckoff import wyckoff_positions
    from nhm.crystal.setting import check_space_group_number, setting_summary

    n = check_space_group_number(space_group)
    setting = setting_summary(n)
    points = points_of_symmetry(n)
    wyck = wyckoff_positions(n)
    if json_out:
        _emit_json(
            {
                "space_group": n,
                "setting": setting,
                "points_of_symmetry": [p.as_dict() for p in points],
                "wyckoff_positions": [
                    {
                        "label": w.label,
                        "site_symmetry": w.site_symmetry,
                        "maximal": w.maximal,
                        "coordinates": list(w.coordinates),
                    }
                    for w in wyck
                ],
            }
        )
        return
    console.print(f"[bold]Space group {n}[/bold] {setting['symbol']}  (Hall number {setting['hall_number']}, "
                  f"{setting['description']})")
    t = Table(title="Points of symmetry (Bilbao maximal k-vectors)")
    for col in ("name", "k (conventional)", "k (primitive)", "|G_k/T|"):
        t.add_column(col)
    for p in points:
        t.add_row(p.name, _fmt_vec(p.conventional), _fmt_vec(p.primitive), str(p.little_cogroup_order))
    console.print(t)
    t = Table(title="Wyckoff positions")
    for col in ("position", "site symmetry", "maximal", "coordinates"):
        t.add_column(col)
    for w in wyck:
        coords = " ".join(f"({c})" for c in w.coordinates[:4]) + (" …" if len(w.coordinates) > 4 else "")
        t.add_row(w.label, w.site_symmetry, "yes" if w.maximal else "", coords)
    console.print(t)


@app.command()
def irreps(
    space_group: Annotated[str, typer.Argument(help="Space-group number 1-230.")],
    k: Annotated[str, typer.Argument(help="BCS name of a maximal k-vector (GM or Γ, X, ...).")],
    double: DoubleFlag = False,
    tr: TrFlag = False,
    convention: Annotated[
        str, typer.Option(help="Characters as Bilbao prints them ('bcs') or as D({E|t}) = exp(-ik.t) gives them ('physics').")
    ] = "bcs",
    json_out: JsonFlag = False,
) -> None:
    """Character table of the little group of k, with BCS labels."""
    from nhm.crystal.setting import check_space_group_number
    from nhm.errors import InputError
    from nhm.groups.irreps import little_group
    from nhm.groups.seitz import seitz_symbol

    if convention not in ("bcs", "physics"):
        raise InputError(f"--convention must be 'bcs' or 'physics', got {convention!r}")
    n = check_space_group_number(space_group)
    lg = little_group(n, k, double=double)
    ops = [lg.space_group.operations[i] for i in lg.indices]
    reps = lg.coreps if tr else lg.irreps
    conj = np.conj if convention == "bcs" else (lambda x: x)
    if json_out:
        _emit_json(
            {
                "space_group": n,
                "k_name": lg.name,
                "k_conventional": [str(x) for x in lg.k],
                "double": double,
                "time_reversal": tr,
                "convention": convention,
                "operations": [seitz_symbol(op) for op in ops],
                "irreps": [
                    {
                        "label": r.label,
                        "dimension": r.dimension,
                        **({"kind": r.kind} if tr else {"herring": r.herring}),
                        "characters": [[float(c.real), float(c.imag)] for c in conj(r.characters)],
                    }
                    for r in reps
                ],
            }
        )
        return
    title = f"SG {n}, k = {lg.name} {_fmt_vec(lg.k)}: {'co-representations' if tr else 'irreps'}"
    title += f" ({'double' if double else 'single'}-valued, {convention} convention)"
    t = Table(title=title)
    t.add_column("irrep")
    t.add_column("dim")
    for op in ops:
        t.add_column(seitz_symbol(op), justify="right")
    for r in reps:
        t.add_row(r.label, str(r.dimension), *(_fmt_complex(c) for c in conj(r.characters)))
    console.print(t)


def _br_dict(br) -> dict:
    return {
        "wyckoff": br.wyckoff,
        "site_symmetry": br.site_symmetry,
        "site_irrep": br.site_irrep,
        "dimension": br.dimension,
        "irreps": br.multiplicities,
    }


@app.command()
def ebr(
    space_group: Annotated[str, typer.Argument(help="Space-group number 1-230.")],
    double: DoubleFlag = False,
    tr: TrFlag = False,
    wyckoff: Annotated[
        str | None, typer.Option(help="Band representations induced from this Wyckoff position only (any position).")
    ] = None,
    all_positions: Annotated[
        bool, typer.Option("--all-positions", help="Band representations from every Wyckoff position, maximal or not.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Elementary band representations (or band representations from chosen positions)."""
    from nhm.bandrep.ebr import band_representations, elementary_band_representations, kpoint_names
    from nhm.crystal.setting import check_space_group_number
    from nhm.groups.wyckoff import wyckoff_position, wyckoff_positions

    n = check_space_group_number(space_group)
    if wyckoff is not None or all_positions:
        positions = (wyckoff_position(n, wyckoff),) if wyckoff is not None else wyckoff_positions(n)
        brs = band_representations(n, double=double, time_reversal=tr, positions=positions)
        ebrs = elementary_band_representations(n, double=double, time_reversal=tr)
        elementary = {(b.wyckoff, b.site_irrep) for b in ebrs.band_representations}
        rows = [(br, (br.wyckoff, br.site_irrep) in elementary) for br in brs]
        title = "Band representations"
    else:
        ebrs = elementary_band_representations(n, double=double, time_reversal=tr)
        rows = [(br, True) for br in ebrs.band_representations]
        title = "Elementary band representations"
    kpoints = kpoint_names(n, double, tr)
    if json_out:
        _emit_json(
            {
                "space_group": n,
                "double": double,
                "time_reversal": tr,
                "band_representations": [{**_br_dict(br), "elementary": e} for br, e in rows],
            }
        )
        return
    t = Table(title=f"{title} of SG {n} ({'double' if double else 'single'}-valued, {'with' if tr else 'without'} time reversal)")
    for col in ("position", "site sym.", "site irrep", "bands", "EBR"):
        t.add_column(col)
    for k in kpoints:
        t.add_column(k)
    for br, e in rows:
        cells = [
            " ".join(f"{m}{lbl}" if m > 1 else lbl for lbl, m in br.multiplicities.get(k, {}).items()) for k in kpoints
        ]
        t.add_row(br.wyckoff, br.site_symmetry, br.site_irrep, str(br.dimension), "yes" if e else "no", *cells)
    console.print(t)


def _centres_from_options(n: int, wyckoff: list[str] | None, structure_orbits) -> tuple:
    from nhm.groups.wyckoff import wyckoff_position

    if wyckoff:
        letters = [w.strip() for item in wyckoff for w in item.split(",") if w.strip()]
        return tuple(wyckoff_position(n, w) for w in letters)
    if structure_orbits:
        return tuple(wyckoff_position(n, o.wyckoff_letter) for o in structure_orbits)
    from nhm.errors import InputError

    raise InputError("give the Wannier centres: --wyckoff LETTER (repeatable) or --structure FILE")


@app.command()
def classify(
    band: Annotated[str, typer.Option(help="The band: one 'K:LABEL' per point of symmetry, e.g. 'GM:GM1+ H:H1+ P:P1 N:N2+'.")],
    group: Annotated[str | None, typer.Option(help="Space-group number (or take it from --structure).")] = None,
    wyckoff: Annotated[list[str] | None, typer.Option(help="Wyckoff position(s) of the Wannier centres, e.g. 2a.")] = None,
    structure: Annotated[str | None, typer.Option(help="Crystal (file or element symbol): group and atom positions.")] = None,
    reading: Annotated[str, typer.Option(help="R1 (strict), R2 (relaxed) or both (docs/theory.md).")] = "both",
    kramers: Annotated[bool, typer.Option("--kramers", help="Pair 1-dim double site irreps by time reversal.")] = False,
    wfs_per_atom: Annotated[int, typer.Option(help="Usual WFs per atom (site-representation dimension).")] = 1,
    json_out: JsonFlag = False,
) -> None:
    """Krüger's tests: usual WFs, spin-dependent WFs, or neither (a superconducting band passes only the second)."""
    from nhm.bands.symmetry import parse_band
    from nhm.crystal.setting import check_space_group_number
    from nhm.errors import InputError
    from nhm.validate import positive_int
    from nhm.wannier.krueger import classify as run_classify

    positive_int("--wfs-per-atom", wfs_per_atom)
    orbits = None
    if structure is not None:
        from nhm.crystal import read_crystal

        crystal = read_crystal(structure)
        if group is not None and check_space_group_number(group) != crystal.space_group:
            raise InputError(f"--group {group} contradicts the structure, whose space group is {crystal.space_group}")
        n = crystal.space_group
        orbits = crystal.orbits
    elif group is not None:
        n = check_space_group_number(group)
    else:
        raise InputError("give --group N or --structure FILE")
    if reading not in ("R1", "R2", "both"):
        raise InputError(f"--reading must be R1, R2 or both, got {reading!r}")
    centres = _centres_from_options(n, wyckoff, orbits)
    b = parse_band(band, n)
    readings = ("R1", "R2") if reading == "both" else (reading,)
    results = []
    for r in readings:
        try:
            results.append(run_classify(b, centres, reading=r, kramers=kramers, wfs_per_atom=wfs_per_atom))  # type: ignore[arg-type]
        except InputError:
            if reading != "both" or r != "R1":
                raise
    if json_out:
        out = [{"space_group": n, "band": b.text(), **c.as_dict()} for c in results]
        _emit_json(out[0] if len(out) == 1 else out)
        return
    for c in results:
        colour = {"usual": "green", "superconducting": "bold magenta", "neither": "yellow"}[c.verdict]
        console.print(
            f"[bold]SG {n}[/bold], band {b.text()}, centres {', '.join(c.centres)}, reading {c.reading}: "
            f"[{colour}]{c.verdict}[/{colour}]  (usual WFs: {'yes' if c.usual else 'no'}, "
            f"spin-dependent WFs: {'yes' if c.spin_dependent else 'no'})"
        )
        for label, sites in (("usual", c.usual_site_representations), ("spin-dependent", c.spin_site_representations)):
            if sites:
                console.print(f"  site representations for {label} WFs: " + "; ".join(" ⊕ ".join(s) for s in sites))
        t = Table(title=f"why (reading {c.reading}; the best-matching site representation)")
        for col in ("k", "band", "band ⊗ D½", "induced (spin-dependent)", "agrees"):
            t.add_column(col)
        for p in c.points_spin:
            t.add_row(p.k, p.band, p.band_spinor, p.induced, "yes" if p.agrees else "[red]no[/red]")
        console.print(t)
        for note in c.notes:
            console.print(f"  note: {note}")


@app.command()
def analyze(
    material: Annotated[str, typer.Argument(help="Element symbol (ASE's reference crystal), or a structure file (CIF, POSCAR, ...).")],
    a: Annotated[float | None, typer.Option("--a", help="Lattice constant in Å (element symbols only).")] = None,
    kmesh: Annotated[int, typer.Option(help="n for the Γ-centred n×n×n k-mesh of the SCF (also the zone mesh unless --mesh).")] = 12,
    ecut: Annotated[float, typer.Option(help="Plane-wave cutoff (eV).")] = 500.0,
    xc: Annotated[str, typer.Option(help="Exchange–correlation functional.")] = "PBE",
    smearing: Annotated[float, typer.Option(help="Fermi–Dirac smearing kT (eV).")] = 0.1,
    window: Annotated[float, typer.Option(help="Search window: levels within ±window eV of E_F (widened until every point has one).")] = 6.0,
    reading: Annotated[str, typer.Option(help="R1, R2 or both (docs/theory.md).")] = "both",
    kramers: Annotated[bool, typer.Option("--kramers", help="Pair 1-dim double site irreps by time reversal.")] = False,
    centres: Annotated[list[str] | None, typer.Option("--centres", help="Atom orbits that carry the Wannier functions: Wyckoff labels (2a, a) or elements (B); repeatable or comma-separated. Default: all.")] = None,
    filling_min: Annotated[float, typer.Option(help="Verdict: lowest filling of a 'roughly half-filled' band.")] = 0.25,
    filling_max: Annotated[float, typer.Option(help="Verdict: highest filling of a 'roughly half-filled' band.")] = 0.75,
    width_factor: Annotated[float, typer.Option(help="Verdict: a narrow band is at most this times the median width of the bands crossing E_F.")] = 1.0,
    spacing: Annotated[float, typer.Option(help="Distance between samples on the lines of symmetry (1/Å, 2π convention).")] = 0.08,
    mesh: Annotated[int | None, typer.Option(help="n of the Γ-centred n×n×n zone mesh for width, filling and DOS (default: --kmesh).")] = None,
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
    from nhm.bands.dft import DftParameters, rich_progress
    from nhm.errors import InputError
    from nhm.report.analyze import analyze as run_analyze
    from nhm.wannier.verdict import Criteria

    if reading not in ("R1", "R2", "both"):
        raise InputError(f"--reading must be R1, R2 or both, got {reading!r}")
    for name, value in (("--window", window), ("--spacing", spacing)):
        if not (np.isfinite(value) and value > 0):
            raise InputError(f"{name} must be a positive number, got {value}")
    if top < 0 or candidates < 0:
        raise InputError("--top and --candidates must not be negative")
    if (fermi is not None or nbands is not None) and from_dft is None:
        raise InputError("--fermi and --nbands apply to --from-dft only")
    if emin is not None and emax is not None and not emin < emax:
        raise InputError(f"--emin ({emin}) must be below --emax ({emax})")
    criteria = Criteria(filling_min, filling_max, width_factor)
    params = DftParameters(mode_ecut_eV=ecut, xc=xc, kmesh=kmesh, smearing_eV=smearing)
    readings = ("R1", "R2") if reading == "both" else (reading,)
    centre_names = [c.strip() for item in centres or [] for c in item.split(",") if c.strip()]
    from nhm.atomic import check_writable, check_writable_dir, write_atomically

    # outputs are checked before the long work, and written only when everything is ready
    if json_file:
        check_writable(json_file)
    drawing = not no_plot and bool(plot) and from_dft is None
    if drawing:
        check_writable_dir(plot)
    human = Console(stderr=True, width=console.width) if json_file == "-" else console  # '--json -': pure JSON on stdout
    if from_dft is not None:
        from nhm.bands.external import parse_from_dft, read_external
        from nhm.crystal import read_crystal
        from nhm.report.analyze import analysis_from_external

        code, dft_path = parse_from_dft(from_dft)
        structure = read_crystal(material, a=a) if a is not None else read_crystal(material)
        with human.status(f"reading the {code} calculation {dft_path} (irrep)"):
            bands = read_external(code, dft_path, structure=structure, nbands=nbands, ecut_eV=ecut if code == "wannier90" else None)
        an = analysis_from_external(bands, fermi_level_eV=fermi, window_eV=(-window, window), readings=readings, kramers=kramers, material=material)
    else:
        with rich_progress(material, console=human) as report:
            an = run_analyze(
                material, a=a, parameters=params, window_eV=(-window, window), readings=readings, kramers=kramers,
                centres=centre_names or None, criteria=criteria, spacing=spacing, mesh=mesh,
                use_cache=not no_cache, progress=report,
            )
    _print_analysis(an, window, top, human)
    figures: dict[str, bytes] = {}
    if drawing and an.zone is not None:
        from nhm.report.figures import figure_stem, render_band_figure

        figures = {
            f"{figure_stem(an)}.{fmt}": data
            for fmt, data in render_band_figure(an, emin=emin, emax=emax, candidates=max(candidates, 1)).items()
        }
    if json_file:
        from nhm.report.analyze import analysis_json

        write_atomically(json_file, (json.dumps(analysis_json(an), indent=2, ensure_ascii=False) + "\n").encode())
        if json_file != "-":
            human.print(f"JSON written to {json_file}")
    if figures:
        from pathlib import Path

        for name, data in figures.items():
            write_atomically(Path(plot) / name, data)
        human.print("Figure: " + ", ".join(str(Path(plot) / name) for name in figures))


def _compact_band(cand) -> str:
    """'GM5+ H5+ N3+ P4': the chosen levels (labels already name their point), several at a point joined by ','."""
    per_k: dict[str, list[str]] = {}
    for lv in cand.levels:
        per_k.setdefault(lv.k, []).append(lv.irrep)
    return " ".join(",".join(v) for v in per_k.values())


def _print_analysis(an, window: float, top: int, console: Console = console) -> None:
    ef = an.fermi_level
    c = an.crystal
    console.print(
        f"[bold]{an.formula}[/bold]: space group {c.space_group} ({c.international}), atoms on "
        f"{', '.join(f'{o.element} {o.label} ({o.site_symmetry})' for o in c.orbits)}; "
        f"Wannier centres {', '.join(w.label for w in an.centres)}; "
        f"E_F = {ef:.3f} eV{' (cached DFT)' if an.from_cache else ''}"
    )
    t = Table(title=f"Levels within ±{window:g} eV of E_F at the points of symmetry (E − E_F, eV)")
    t.add_column("k")
    t.add_column("levels (irrep: energy)")
    for k, lvs in an.levels.items():
        near = [f"{lv.irrep} {lv.energy - ef:+.2f}" for lv in lvs if abs(lv.energy - ef) <= window]
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
        console.print(
            f"Traced on {len(zone.lines)} lines of symmetry ({', '.join(lb.name for lb in zone.lines)}; "
            f"{sum(len(lb.s) for lb in zone.lines)} k-points) and a {zone.mesh.n}³ mesh. Bands crossing E_F: "
            + (", ".join(f"#{n + 1} ({w:.2f} eV wide)" for n, _, _, w in v.fermi_bands) or "none")
        )
        for title, cands in (("Connected superconducting-band candidates", v.superconducting), ("Connected usual bands", v.usual)):
            t = Table(title=f"{title} (ranked: meets the criteria, |filling − ½|, width)")
            for col in ("#", "R", "levels at the points", "site irrep", "width", "filling", "DOS", "sw", "verdict"):
                t.add_column(col, no_wrap=True)
            for i, mc in enumerate(cands[:top]):
                cand, m = mc.candidate, mc.measures
                t.add_row(
                    str(i + 1), cand.reading, _compact_band(cand), "; ".join(" ⊕ ".join(s) for s in cand.site_representations),
                    f"{m.width:.2f}", f"{m.filling:.2f}", f"{m.dos_at_fermi:.3f}", str(cand.switches),
                    "[green]passes[/green]" if mc.passes else ("too wide" if mc.half_filled else "not ½-filled"),
                )
            t.caption = (
                "R: reading (U: usual band); width in eV over the zone; DOS at E_F per eV, spin and cell; "
                "sw: branch switches" + (f"; {len(cands) - top} more in --json" if len(cands) > top else "")
            )
            console.print(t if cands else f"{title}: none")
        cr = v.criteria
        colour = "bold magenta" if v.verdict == "superconducting band" else "yellow"
        console.print(
            f"Verdict: [{colour}]{v.verdict}[/{colour}] — {v.reason}. Criteria: filling in "
            f"[{cr.filling_min:g}, {cr.filling_max:g}], width ≤ {cr.width_factor:g} × median width of the bands at E_F "
            f"({v.reference_width:.2f} eV); DOS per eV, spin and primitive cell (docs/theory.md)."
        )
    for note in an.notes:
        console.print(f"note: {note}")


from nhm.cli_kspace import kspace  # noqa: E402
from nhm.cli_manybody import manybody  # noqa: E402

app.command()(kspace)
app.command()(manybody)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user and usage errors are one line on stderr (exit 2), Ctrl-C exits 130, a bug keeps its
    traceback (exit 1); see :mod:`nhm.entrypoint`."""
    from nhm.entrypoint import run

    sys.exit(run(app, argv))


if __name__ == "__main__":
    main()
