"""``nhm manybody``: exact ground states of H and H′ = H − H_z and the condensation energy ΔE.

Registered in :mod:`nhm.cli` as a command function (formerly ``nhm.cli_manybody``). Default model: the 8-site ring (chain) at half
filling, extended Hubbard U = 4t, with the k-space texture of strength λ = 1 — so ``nhm manybody
--sites 8`` runs as is (about a minute on 2 cores). For ``--lattice square --sites 8`` the tilted
cluster spanned by (2, 2) and (2, −2) is used (see :func:`nhm.manybody.lattice.auto_cluster`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nhm.atomic import all_or_nothing, check_outputs, write_text_atomically
from nhm.cli._common import json_text, stdout_console
from nhm.report.run_manybody import ALPHA_MAX, ALPHA_MIN, SUPERCELL_ENTRY_MAX  # noqa: F401  (their home: the pipeline)


def _write_json(data: Any, target: str) -> None:
    write_text_atomically(target, json_text(data))  # '-': stdout; strict JSON (a non-finite number is null)


def _result_table(points: list, parameter: str | None, values: list[float] | None):
    from rich.table import Table

    t = Table(title="NHM condensation energy (energies in units of t)")
    cols = ([parameter] if parameter else []) + ["N/N_e", "E0(H)", "E0(H′)", "ΔE", "⟨H_z⟩_G′", "bound", "resid."]
    for c in cols:
        t.add_column(c, justify="right", no_wrap=True)
    for i, p in enumerate(points):
        row = ([f"{values[i]:g}"] if parameter and values else []) + [
            f"{p.sites}/{p.electrons}", f"{p.E0_H:.6f}", f"{p.E0_H_prime:.6f}", f"{p.delta_E:+.5f}",
            f"{p.Hz_expectation_in_G_prime:+.5f}", "ok" if p.bound_holds else "[red]NO[/red]",
            f"{p.spectrum_invariance_residual:.0e}",
        ]
        t.add_row(*row)
    t.caption = "bound: E0(H) ≤ E0(H′) + ⟨G′|H_z|G′⟩; resid.: max |E_i(H; f) − E_i(H; f=1)|"
    return t


def manybody(
    lattice: Annotated[str, typer.Option(help="chain, square, triangular, cubic, bcc or fcc.")] = "chain",
    sites: Annotated[int, typer.Option(help="Number of sites N of the periodic cluster (≤ 16; 12 takes minutes).")] = 8,
    electrons: Annotated[int | None, typer.Option(help="Number of electrons N_e (default: half filling, N_e = N).")] = None,
    U: Annotated[float, typer.Option("--U", help="On-site interaction U / t.")] = 4.0,
    V: Annotated[str | None, typer.Option("--V", help="Density interaction V per neighbour shell: '1' or '1,0.5'.")] = None,
    J: Annotated[str | None, typer.Option("--J", help="Exchange integral ⟨ij|v|ji⟩ per shell (J > 0 ferromagnetic).")] = None,
    P: Annotated[str | None, typer.Option("--P", help="Pair hopping ⟨ii|v|jj⟩ per shell (in H_z even for f = 1).")] = None,
    t: Annotated[float, typer.Option("--t", help="Nearest-neighbour hopping (the energy unit).")] = 1.0,
    t2: Annotated[float, typer.Option("--t2", help="Next-nearest-neighbour hopping t′.")] = 0.0,
    interaction: Annotated[str, typer.Option(help="hubbard (U, V, J, P) or gaussian (Coulomb integrals of s-Gaussians).")] = "hubbard",
    alpha: Annotated[float, typer.Option(help="Gaussian exponent α in 1/a² (gaussian interaction).")] = 4.0,
    coulomb: Annotated[float, typer.Option(help="e²/(4πε₀a) in units of t (gaussian interaction).")] = 2.0,
    field: Annotated[str, typer.Option(help="F(k): identity, spiral or texture.")] = "texture",
    strength: Annotated[float, typer.Option(help="Strength λ ∈ [0, 1] of the k-space magnetic structure.")] = 1.0,
    supercell: Annotated[str | None, typer.Option(help="Explicit supercell rows, e.g. '2,2;2,-2' (default: most compact).")] = None,
    scan: Annotated[str | None, typer.Option(help="Scan ΔE over U, filling, sites or strength.")] = None,
    values: Annotated[str | None, typer.Option(help="Scan values, comma-separated (default: a standard grid).")] = None,
    selection: Annotated[bool, typer.Option("--selection", help="Also test the Cooper-pair selection rule on a k-mesh.")] = False,
    selection_sites: Annotated[int, typer.Option(help="Mesh size for --selection.")] = 16,
    json_file: Annotated[str | None, typer.Option("--json", help="Write the results as JSON to FILE ('-' for stdout).")] = None,
    plot: Annotated[str | None, typer.Option(help="Write PNG and SVG figures to this directory.")] = None,
) -> None:
    """Exact ground states of the NHM Hamiltonian H and of H′ = H − H_z; the condensation energy ΔE."""
    from nhm.api import ManyBodyResult
    from nhm.report.hooks import QUIET, Hooks
    from nhm.report.run_manybody import check_numbers, manybody_request, run_request, write_plots

    check_numbers(t=t, t2=t2, U=U, alpha=alpha, coulomb=coulomb, strength=strength, interaction=interaction)
    stems = [f"manybody_scan_{scan}" if scan is not None else "spin_axes", *(["selection_rule"] if selection else [])]
    # the figures' own names, before the diagonalization; the JSON never onto one of them
    check_outputs(files={"--json": json_file}, directories={"--plot": (plot, [f"{stem}.{ext}" for stem in stems for ext in ("png", "svg")])})
    req = manybody_request(dict(
        lattice=lattice, sites=sites, electrons=electrons, U=U, V=V, J=J, P=P, t=t, t2=t2, interaction=interaction,
        alpha=alpha, coulomb=coulomb, field=field, strength=strength, supercell=supercell, scan=scan, values=values,
        selection=selection, selection_sites=selection_sites,
    ))
    quiet = json_file == "-"
    console = stdout_console()
    written: list = []
    with all_or_nothing():  # figures and JSON appear together, or (on any failure) none of them
        hooks = QUIET if quiet else Hooks(status=lambda text: console.status(text, spinner="dots"))
        run = run_request(req, hooks, scan_console=stdout_console(stderr=True), show_progress=not quiet)
        out = ManyBodyResult(run).to_dict()
        if not quiet:
            if run.scan is not None:
                console.print(_result_table(run.scan.points, run.scan.parameter, run.scan.values))
            else:
                res1 = run.condensation
                console.print(f"[bold]{res1.lattice}[/bold] cluster {res1.supercell}, {res1.model}, field {res1.field}")
                console.print(_result_table([res1], None, None))
                console.print(
                    f"ΔE = {res1.delta_E:+.8f} t  ≤  ⟨G′|H_z|G′⟩ = {res1.Hz_expectation_in_G_prime:+.8f} t "
                    f"(variational bound {'holds' if res1.bound_holds else 'VIOLATED'}); "
                    f"ground momenta of H: {res1.ground_momentum_H}, of H′: {res1.ground_momentum_H_prime}"
                )
            if run.selection is not None:
                console.print(_selection_table(run.selection))
        if plot is not None:
            written += write_plots(run, plot)
        if json_file is not None:
            _write_json(out, json_file)
    if not quiet:
        for path in written:
            console.print(f"wrote {path}")


def _selection_table(rep):
    from rich.table import Table

    t = Table(title=f"Selection rule on a {rep.n_k}-point mesh: two-electron processes (tolerance {rep.tolerance:g})")
    for c in ("category", "processes", "conserve total spin", "max |ΔS|"):
        t.add_column(c, justify="right")
    for name, st in rep.two_electron.items():
        t.add_row(name, str(st.count), str(st.conserving), f"{st.max_delta:.2e}")
    t.caption = (
        f"Cooper pairs: max |ΔS| = {rep.cooper_max_delta:.1e}, max pair spin = {rep.cooper_max_pair_spin:.1e}; "
        f"four-electron compensations of {rep.four_electron_emitters} emitting processes: "
        + ", ".join(f"{k} {v}" for k, v in rep.four_electron.items())
        + ("" if rep.four_electron_exact else " (too many to classify: field without k-space magnetism?)")
    )
    return t
