"""``nhm manybody`` as one pipeline for the command line and for Python: the model checked, the exact ground
states of H and H′ = H − H_z (one model, or a scan of one parameter), the Cooper-pair selection rule on a k mesh,
the JSON document and the figures.

:func:`manybody_request` checks the options, :func:`run_request` computes; :func:`nhm.api.manybody` and
``nhm manybody`` (:mod:`nhm.cli.manybody`) are both these calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from nhm.errors import InputError
from nhm.report.hooks import QUIET, Hooks

__all__ = ["ALPHA_MAX", "ALPHA_MIN", "OPTIONS", "SUPERCELL_ENTRY_MAX", "ManyBodyRequest", "ManyBodyRun", "check_numbers", "floats",
           "manybody_figures", "manybody_request", "run_request", "supercell_rows", "write_plots"]

ALPHA_MIN = 0.05  # 1/a²: the overlap sums of wider Gaussians need gigabytes (fcc: 4 GB at α = 0.01)
ALPHA_MAX = 1e4
"""Largest Gaussian exponent α (1/a²): a Gaussian of width a/100 is a point charge already; its on-site integral
grows as √α and beyond this leaves the energy range of the model (MODEL_RATIO_MAX)."""

SUPERCELL_ENTRY_MAX = 64
"""Largest |entry| of --supercell: clusters hold at most 16 sites, so larger entries only make nearly parallel
rows; the bound keeps the integer arithmetic of the cluster exact."""


def floats(value: str | float | Sequence[float] | None, name: str) -> tuple[float, ...]:
    """'1' or '1,0.5' (or 1.0, or [1, 0.5]) → (1.0, 0.5); values per neighbour shell."""
    if value is None:
        return ()
    if isinstance(value, str):
        if not value.strip():
            return ()
        try:
            vals = tuple(float(x) for x in value.split(","))
        except ValueError as exc:
            raise InputError(f"{name} must be a number or a comma-separated list of numbers, got {value!r}") from exc
    else:
        try:
            vals = (float(value),) if isinstance(value, int | float) else tuple(float(x) for x in value)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name} must be a number or a sequence of numbers, got {value!r}") from exc
    if not all(math.isfinite(v) for v in vals):
        raise InputError(f"{name} must be finite, got {value!r}")
    return vals


def supercell_rows(value: str | Sequence[Sequence[int]] | None) -> tuple[tuple[int, ...], ...] | None:
    """'2,2;2,-2' (or [[2, 2], [2, -2]]) → ((2, 2), (2, -2)): rows of equal length, integers within ±SUPERCELL_ENTRY_MAX."""
    if value is None:
        return None
    text = value if isinstance(value, str) else ";".join(",".join(str(x) for x in row) for row in value)
    try:
        rows = tuple(tuple(int(x) for x in row.split(",")) for row in text.split(";"))
    except ValueError as exc:
        raise InputError(f"--supercell must look like '2,2;2,-2' (rows separated by ';'), got {text!r}") from exc
    if len({len(row) for row in rows}) != 1 or len(rows) != len(rows[0]):
        raise InputError(f"--supercell must be a square integer matrix, one row per lattice dimension (e.g. '2,2;2,-2'), got {text!r}")
    if any(abs(x) > SUPERCELL_ENTRY_MAX for row in rows for x in row):
        raise InputError(f"--supercell entries must lie within ±{SUPERCELL_ENTRY_MAX}: a cluster holds at most 16 sites")
    return rows


def check_numbers(*, t: float, t2: float, U: float, alpha: float, coulomb: float, strength: float, interaction: str) -> None:
    """The numeric options, before any work: finite; t ≠ 0 (the energy unit); for Gaussians α ≥ ALPHA_MIN, e²/a ≥ 0."""
    from nhm.validate import finite, nonnegative_finite, positive_finite

    if finite("--t", t) == 0:
        raise InputError("--t must not be zero: it is the energy unit (U, V, J, P and ΔE are in units of t); "
                         "for the atomic limit make U large instead")
    finite("--t2", t2)
    finite("--U", U)
    finite("--strength", strength)
    if interaction == "gaussian":
        if positive_finite("--alpha", alpha) > ALPHA_MAX:
            raise InputError(f"--alpha {alpha:g} exceeds the limit of {ALPHA_MAX:g} (1/a²): a Gaussian that narrow is a point charge")
        if alpha < ALPHA_MIN:
            raise InputError(f"--alpha must be at least {ALPHA_MIN:g} (1/a²), got {alpha:g}: the overlap sums of wider Gaussians "
                             f"run over ~{(80 / alpha) ** 0.5:.0f} lattice constants, and on clusters of more than one site "
                             "they are linearly dependent anyway")
        nonnegative_finite("--coulomb", coulomb)


@dataclass(frozen=True)
class ManyBodyRequest:
    """A checked ``nhm manybody`` request: the model, the scan (parameter and values, or None) and the mesh of the
    selection rule (None without it)."""

    spec: Any  # nhm.manybody.condensation.ModelSpec, validated
    scan: str | None
    values: tuple[float, ...] | None
    selection_mesh: Any  # nhm.manybody.lattice.Cluster or None

    def figure_stems(self) -> list[str]:
        """The stems of the figure files ``--plot`` writes (PNG and SVG each)."""
        return [f"manybody_scan_{self.scan}" if self.scan is not None else "spin_axes", *(["selection_rule"] if self.selection_mesh is not None else [])]


OPTIONS = (
    "lattice", "sites", "electrons", "U", "V", "J", "P", "t", "t2", "interaction", "alpha", "coulomb", "field", "strength",
    "supercell", "scan", "values", "selection", "selection_sites",
)
"""The options of ``nhm manybody`` as :func:`nhm.api.manybody` names them (its signature holds their defaults)."""


def manybody_request(options: dict[str, Any]) -> ManyBodyRequest:
    """Every option (:data:`OPTIONS`, all of them, by name; V, J, P, supercell and values also as the command line's
    text) checked before the first diagonalization (InputError naming the option and its limit)."""
    from nhm.manybody.condensation import ModelSpec
    from nhm.report.run_analyze import checked_options
    from nhm.validate import positive_int

    o = checked_options(options, OPTIONS)
    t, t2, U, alpha, coulomb, strength, interaction = o["t"], o["t2"], o["U"], o["alpha"], o["coulomb"], o["strength"], o["interaction"]
    scan, values = o["scan"], o["values"]
    check_numbers(t=t, t2=t2, U=U, alpha=alpha, coulomb=coulomb, strength=strength, interaction=interaction)
    spec = ModelSpec(
        lattice=o["lattice"], sites=o["sites"], electrons=o["electrons"], t=t, t2=t2, U=U,
        V=floats(o["V"], "--V"), J=floats(o["J"], "--J"), P=floats(o["P"], "--P"),
        interaction=interaction, alpha=alpha, coulomb=coulomb, field=o["field"], strength=strength,
        supercell=supercell_rows(o["supercell"]),
    ).validated()
    selection_mesh = None
    if o["selection"]:  # checked (≤ 64 sites) before the exact diagonalization, not after it
        from nhm.manybody.lattice import auto_cluster

        selection_mesh = auto_cluster(spec.lattice, positive_int("--selection-sites", o["selection_sites"]))
    vals: tuple[float, ...] | None = None
    if scan is not None:
        from nhm.manybody.scan import SCAN_PARAMETERS, point_spec

        if scan not in SCAN_PARAMETERS:
            raise InputError(f"--scan must be one of {', '.join(SCAN_PARAMETERS)}, got {scan!r}")
        vals = floats(values, "--values") or None
        for v in vals or ():  # every point of the scan, before the first diagonalization
            point_spec(spec, scan, v).validated()
    elif values is not None:
        raise InputError("--values needs --scan")
    return ManyBodyRequest(spec, scan, vals, selection_mesh)


@dataclass(frozen=True, eq=False)
class ManyBodyRun:
    """What one ``nhm manybody`` run computed: ``condensation`` (one model: :class:`nhm.manybody.condensation.
    CondensationResult`) or ``scan`` (:class:`nhm.manybody.scan.ScanResult`), ``selection`` (:class:`nhm.manybody.
    selection.SelectionReport`, or None) and ``data``, the JSON document of ``nhm manybody --json``."""

    request: ManyBodyRequest
    condensation: Any
    scan: Any
    selection: Any
    data: dict


def run_request(req: ManyBodyRequest, hooks: Hooks = QUIET, scan_console: Any = None, show_progress: bool = False) -> ManyBodyRun:
    """Compute ``req``: the scan (its progress on ``scan_console`` if ``show_progress``) or one model (under
    ``hooks.status``), then the selection rule."""
    from nhm.manybody.condensation import run

    single = scanned = report = None
    if req.scan is not None:
        from nhm.manybody.scan import scan as run_scan

        scanned = run_scan(req.spec, req.scan, list(req.values) if req.values else None, console=scan_console,
                           show_progress=show_progress)
        data = scanned.as_dict()
    else:
        with hooks.status("exact diagonalization …") as status:
            single = run(req.spec, progress=None if status is None else _sector_news(status))
        data = single.as_dict()
    if req.selection_mesh is not None:
        from nhm.manybody.selection import selection_report
        from nhm.manybody.wannier_basis import checked_field, example_field

        mesh = req.selection_mesh
        f = checked_field(example_field(mesh, req.spec.field, req.spec.strength), mesh)
        report = selection_report(f, mesh)
        data["selection"] = report.as_dict()
    return ManyBodyRun(req, single, scanned, report, data)


def _sector_news(status: Any) -> Callable[[int, str], None]:
    """A progress callback of :func:`nhm.manybody.ed.diagonalize` that keeps ``status`` (a rich Status, or any object
    with ``update(text)``) saying how many symmetry sectors are done and the last one's size: a large cluster's
    diagonalization takes minutes, and the spinner alone does not say that it advances."""
    done = 0

    def news(advance: int, description: str) -> None:
        nonlocal done
        done += advance
        status.update(f"exact diagonalization: {done} sector(s) done, the last {description}")

    return news


def manybody_figures(run: ManyBodyRun, which: Sequence[str] | None = None, ax=None) -> dict[str, Any]:
    """The figures of ``run`` by the stems of their files (:meth:`ManyBodyRequest.figure_stems`): the scan
    (``manybody_scan_<parameter>``) or the spin axes of F(k) on the cluster (``spin_axes``), and the selection rule
    (``selection_rule``). ``which``: only these; ``ax``: draw the one figure asked for into this Axes (not the scan,
    which has two panels)."""
    names = run.request.figure_stems()
    which = list(names if which is None else which)
    unknown = [w for w in which if w not in names]
    if unknown:
        raise InputError(f"no figure {unknown[0]!r} for this run; there are {', '.join(names)}")
    if ax is not None and len(which) != 1:
        raise InputError("ax= draws one figure: name it")
    from nhm.manybody import plots

    figs: dict[str, Any] = {}
    for name in which:
        if name.startswith("manybody_scan_"):
            if ax is not None:
                raise InputError("the scan's figure has two panels: draw it without ax=")
            figs[name] = plots.scan_figure(run.scan)
        elif name == "spin_axes":
            from nhm.manybody.condensation import make_model
            from nhm.manybody.wannier_basis import checked_field, example_field

            model = make_model(run.request.spec)
            f = checked_field(example_field(model.cluster, run.request.spec.field, run.request.spec.strength), model.cluster)
            figs[name] = plots.spin_axes_figure(f, model.cluster, ax=ax)
        else:
            figs[name] = plots.selection_figure(run.selection, ax=ax)
    return figs


def write_plots(run: ManyBodyRun, directory: str) -> list:
    """Write the figures of ``run`` (PNG and SVG) into ``directory``; the paths, as ``nhm manybody --plot`` lists them."""
    from nhm.manybody.plots import save_figure

    return [p for stem, fig in manybody_figures(run).items() for p in save_figure(fig, directory, stem)]

