"""``nhm group``, ``nhm irreps``, ``nhm ebr``, ``nhm classify``: space groups, their irreps and band
representations, and Krüger's tests on a band (tables by default, ``--json`` for machines).

Everything heavy is imported inside the commands, so that ``nhm group 229`` starts fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from nhm.cli._common import DoubleFlag, JsonFlag, TrFlag, emit_json, stdout_console
from nhm.crystal import DEFAULT_SYMPREC


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
        emit_json(
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
    console = stdout_console()
    console.print(f"[bold]Space group {n}[/bold] {setting['symbol']}  (Hall number {setting['hall_number']}, "
                  f"{setting['description']})")
    from rich.table import Table

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
    conj = (lambda x: [complex(c).conjugate() for c in x]) if convention == "bcs" else (lambda x: x)
    if json_out:
        emit_json(
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
    from rich.table import Table

    title = f"SG {n}, k = {lg.name} {_fmt_vec(lg.k)}: {'co-representations' if tr else 'irreps'}"
    title += f" ({'double' if double else 'single'}-valued, {convention} convention)"
    t = Table(title=title)
    t.add_column("irrep")
    t.add_column("dim")
    for op in ops:
        t.add_column(seitz_symbol(op), justify="right")
    for r in reps:
        t.add_row(r.label, str(r.dimension), *(_fmt_complex(c) for c in conj(r.characters)))
    stdout_console().print(t)


def _br_dict(br) -> dict:
    return {
        "wyckoff": br.wyckoff,
        "site_symmetry": br.site_symmetry,
        "site_irrep": br.site_irrep,
        "dimension": br.dimension,
        "irreps": br.multiplicities,
    }


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
    if wyckoff is not None and all_positions:
        from nhm.errors import InputError

        raise InputError("--wyckoff (one position) and --all-positions (every position) exclude each other: give one of them")
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
        emit_json(
            {
                "space_group": n,
                "double": double,
                "time_reversal": tr,
                "band_representations": [{**_br_dict(br), "elementary": e} for br, e in rows],
            }
        )
        return
    from rich.table import Table

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
    stdout_console().print(t)


def _centres_from_options(n: int, wyckoff: list[str] | None, structure_orbits) -> tuple:
    from nhm.groups.wyckoff import wyckoff_position

    if wyckoff:
        letters = [w.strip() for item in wyckoff for w in item.split(",") if w.strip()]
        return tuple(wyckoff_position(n, w) for w in letters)
    if structure_orbits:
        return tuple(wyckoff_position(n, o.wyckoff_letter) for o in structure_orbits)
    from nhm.errors import InputError

    raise InputError("give the Wannier centres: --wyckoff LETTER (repeatable) or --structure FILE")


def _r1_not_applicable(reason: str) -> str:
    """The note that reading R1 was tried and does not apply (e.g. a 3-dimensional level where the band has one
    branch): the verdict is then reading R2's, which a user of the default --reading both must be told."""
    return f"reading R1 does not apply ({reason.split(' (use reading R2)')[0]}); the verdict is reading R2's"


def classify(
    band: Annotated[str, typer.Option(help="The band: one 'K:LABEL' per point of symmetry, e.g. 'GM:GM1+ H:H1+ P:P1 N:N2+'.")],
    group: Annotated[str | None, typer.Option(help="Space-group number (or take it from --structure).")] = None,
    wyckoff: Annotated[list[str] | None, typer.Option(help="Wyckoff position(s) of the Wannier centres, e.g. 2a.")] = None,
    structure: Annotated[str | None, typer.Option(help="Crystal (file or element symbol): group and atom positions.")] = None,
    reading: Annotated[str, typer.Option(help="R1 (strict), R2 (relaxed) or both (docs/theory.md).")] = "both",
    kramers: Annotated[bool, typer.Option("--kramers", help="Pair 1-dim double site irreps by time reversal.")] = False,
    wfs_per_atom: Annotated[int, typer.Option(help="Usual WFs per atom (site-representation dimension).")] = 1,
    symprec: Annotated[float, typer.Option("--symprec", metavar="Å", help="With --structure: spglib's tolerance for the space group (Å).")] = DEFAULT_SYMPREC,
    json_out: JsonFlag = False,
) -> None:
    """Krüger's tests: usual WFs, spin-dependent WFs, or neither (a superconducting band passes only the second)."""
    from nhm.bands.symmetry import parse_band
    from nhm.crystal.setting import check_space_group_number
    from nhm.errors import InputError
    from nhm.validate import positive_finite, positive_int
    from nhm.wannier.krueger import classify as run_classify

    positive_int("--wfs-per-atom", wfs_per_atom)
    positive_finite("--symprec", symprec)
    orbits = None
    crystal = None
    if structure is not None:
        from nhm.crystal import read_crystal
        from nhm.crystal.caveats import symmetry_note
        from nhm.cli._common import warn

        crystal = read_crystal(structure, symprec=symprec)
        note = symmetry_note(crystal)
        if note:
            warn(note)
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
    r1_note = None
    for r in readings:
        try:
            results.append(run_classify(b, centres, reading=r, kramers=kramers, wfs_per_atom=wfs_per_atom))  # type: ignore[arg-type]
        except InputError as exc:
            if reading != "both" or r != "R1":
                raise
            r1_note = _r1_not_applicable(str(exc))
    if r1_note is not None:  # said, not swallowed: the verdict that follows is reading R2's alone
        from dataclasses import replace

        from nhm.cli._common import warn

        warn(r1_note)
        results = [replace(c, notes=(r1_note, *c.notes)) for c in results]
    if json_out:
        out = [{"space_group": n, "band": b.text(), **c.as_dict()} for c in results]
        emit_json(out[0] if len(out) == 1 else out)
        return
    from rich.table import Table

    console = stdout_console()
    if crystal is not None:
        console.print(
            f"{structure}: space group {crystal.space_group} ({crystal.international}) at symprec {crystal.symprec:g} Å, "
            f"atoms on {', '.join(f'{o.element} {o.label}' for o in crystal.orbits)}"
        )
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
