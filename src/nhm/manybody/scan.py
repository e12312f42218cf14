"""Scans of the condensation energy ΔE against U/t, filling, cluster size and the strength λ of F(k).

Each point is a full :func:`~nhm.manybody.condensation.run`; a rich progress bar shows the points.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from nhm.errors import InputError
from nhm.manybody.condensation import CondensationResult, ModelSpec, run

SCAN_PARAMETERS = ("U", "filling", "sites", "strength")


@dataclass
class ScanResult:
    """The points of one scan, in the order of ``values``."""

    parameter: str
    values: list[float]
    base: ModelSpec
    points: list[CondensationResult]

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {"scan": self.parameter, "values": self.values, "base": asdict(self.base),
                "points": [p.as_dict() for p in self.points]}


def default_values(parameter: str, spec: ModelSpec) -> list[float]:
    """Sensible default grid for ``parameter`` around ``spec``."""
    if parameter == "U":
        return [0.0, 1.0, 2.0, 4.0, 6.0, 8.0, 12.0]
    if parameter == "filling":  # electron numbers 1 … 2N − 1
        return [float(n) for n in range(1, 2 * spec.sites)]
    if parameter == "sites":
        return [float(n) for n in range(2, max(3, spec.sites) + 1)]
    if parameter == "strength":
        return [round(0.1 * i, 10) for i in range(11)]
    raise InputError(f"unknown scan parameter {parameter!r}; choose one of {', '.join(SCAN_PARAMETERS)}")


def point_spec(spec: ModelSpec, parameter: str, value: float) -> ModelSpec:
    """``spec`` with ``parameter`` set to ``value`` (filling: the electron number; sites: half filling kept
    if ``spec.electrons`` is None, otherwise the same filling fraction rounded to an integer)."""
    if parameter == "U":
        return replace(spec, U=float(value))
    if parameter == "strength":
        return replace(spec, strength=float(value))
    if parameter == "filling":
        if float(value) != int(value):
            raise InputError(f"filling scan values are electron numbers, got {value}")
        return replace(spec, electrons=int(value))
    if parameter == "sites":
        if float(value) != int(value):
            raise InputError(f"site numbers must be integers, got {value}")
        n = int(value)
        electrons = None if spec.electrons is None else int(round(spec.electrons * n / spec.sites))
        return replace(spec, sites=n, electrons=electrons, supercell=None)
    raise InputError(f"unknown scan parameter {parameter!r}; choose one of {', '.join(SCAN_PARAMETERS)}")


def scan(
    spec: ModelSpec,
    parameter: str,
    values: Sequence[float] | None = None,
    console: Console | None = None,
    show_progress: bool = True,
    n_eig: int = 4,
) -> ScanResult:
    """ΔE (and everything :func:`run` reports) at every value of ``parameter``."""
    if parameter not in SCAN_PARAMETERS:
        raise InputError(f"unknown scan parameter {parameter!r}; choose one of {', '.join(SCAN_PARAMETERS)}")
    vals = list(default_values(parameter, spec) if values is None else values)
    if not vals:
        raise InputError("the scan has no values")
    specs = [point_spec(spec, parameter, v).validated() for v in vals]  # fail fast, before any ED
    points: list[CondensationResult] = []
    progress = Progress(
        TextColumn("[bold]ΔE scan over {task.fields[parameter]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console or Console(stderr=True),
        disable=not show_progress,
        transient=False,
    )
    with progress:
        task = progress.add_task("", total=len(specs), parameter=parameter)
        for v, s in zip(vals, specs):
            progress.update(task, description=f"{parameter} = {v:g}")
            points.append(run(s, n_eig=n_eig))
            progress.advance(task)
    return ScanResult(parameter, [float(v) for v in vals], spec, points)
