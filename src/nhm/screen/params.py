"""The parameters shared by every crystal of a screen, and their hash (the key of resumption)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from nhm.bands.dft import DftParameters
from nhm.bands.dft_zone import DEFAULT_SPACING
from nhm.errors import InputError
from nhm.wannier.verdict import Criteria

__all__ = ["SCHEDULER_SCHEMES", "ScreenParameters", "check_scheduler_address", "checked_parameters", "versions"]



@dataclass(frozen=True)
class ScreenParameters:
    """What every crystal of a screen is analysed with: ``nhm analyze``'s options.

    ``dft``: the GPAW parameters; ``spacing``: samples on the lines of symmetry (1/Å); ``mesh``: n of the
    zone mesh (None: ``dft.kmesh``); ``window``: ±eV around E_F that narrows the search range (None: the
    bands that cross E_F decide, as in ``nhm analyze``); ``readings``: R1, R2 or
    both; ``kramers``; ``criteria``: the verdict's thresholds.
    """

    dft: DftParameters = field(default_factory=DftParameters)
    spacing: float = DEFAULT_SPACING
    mesh: int | None = None
    window: float | None = None
    readings: tuple[str, ...] = ("R1", "R2")
    kramers: bool = False
    criteria: Criteria = field(default_factory=Criteria)

    def __post_init__(self) -> None:
        import math

        for name in ("spacing", "window"):
            v = getattr(self, name)
            if v is None and name == "window":
                continue
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
                raise InputError(f"{name} must be a positive number, got {v!r}")
            object.__setattr__(self, name, float(v))
        if self.mesh is not None and (not isinstance(self.mesh, int) or isinstance(self.mesh, bool) or self.mesh < 2):
            raise InputError(f"mesh must be an integer of at least 2 (or None: the SCF's k mesh), got {self.mesh!r}")
        readings = tuple(self.readings)
        if not readings or any(r not in ("R1", "R2") for r in readings):
            raise InputError(f"readings must be R1 and/or R2, got {self.readings!r}")
        object.__setattr__(self, "readings", readings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dft": self.dft.as_dict(),
            "spacing": self.spacing,
            "mesh": self.mesh,
            "window": self.window,
            "readings": list(self.readings),
            "kramers": self.kramers,
            "criteria": self.criteria.as_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScreenParameters:
        return cls(
            dft=DftParameters(**d["dft"]),
            spacing=d["spacing"],
            mesh=d["mesh"],
            window=d.get("window"),
            readings=tuple(d["readings"]),
            kramers=bool(d["kramers"]),
            criteria=Criteria(**d["criteria"]),
        )

    def hash(self) -> str:
        """``sha256-`` and 16 hex digits of all parameters and the nhm version (a string ASE's database
        keeps as a string: a bare hex number could read as a float)."""
        from nhm.version import __version__

        payload = json.dumps({"parameters": self.as_dict(), "nhm": __version__}, sort_keys=True)
        return "sha256-" + hashlib.sha256(payload.encode()).hexdigest()[:16]


def checked_parameters(
    *, scheduler: Any, workers: int | None, timeout: float | None, ecut: float, xc: str, kmesh: int, smearing: float,
    spacing: float, mesh: int | None, window: float | None, readings: tuple[str, ...], kramers: bool,
    criteria: Criteria,
) -> ScreenParameters:
    """The screen's parameters from its options (``nhm screen`` and `nhm.screen` alike), each number and the cluster's
    address checked for sense and size before the crystals are read or a cluster starts. ``scheduler``: an address
    (checked) or a ``distributed.Client``."""
    from nhm import validate

    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    if workers is not None and scheduler is not None:
        raise InputError("--workers sizes the local cluster; with --scheduler the cluster is yours")
    if isinstance(scheduler, str):
        check_scheduler_address(scheduler)
    if workers is not None:
        validate.workers(workers)
    validate.timeout(timeout)
    validate.dft_options(ecut=ecut, smearing=smearing, spacing=spacing, kmesh=kmesh, mesh=mesh)
    return ScreenParameters(
        dft=DftParameters(mode_ecut_eV=ecut, xc=xc, kmesh=kmesh, smearing_eV=smearing),
        spacing=spacing, mesh=mesh, window=window, readings=readings, kramers=kramers, criteria=criteria,
    )


SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")  # Dask's network protocols (inproc: in one process only)


def check_scheduler_address(address: str) -> None:
    """InputError (one line) unless ``address`` reads as a Dask scheduler's address, [PROTOCOL://]HOST:PORT."""
    scheme, sep, location = address.partition("://")
    if not sep:
        scheme, location = "tcp", address
    match = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})", location)
    if scheme not in SCHEDULER_SCHEMES or match is None or not 0 < int(match.group(2)) < 65536:
        raise InputError(f"--scheduler {address!r} is not the address of a Dask scheduler: write PROTOCOL://HOST:PORT with "
                         f"PROTOCOL one of {', '.join(SCHEDULER_SCHEMES)} (e.g. tcp://10.0.0.1:8786)")


def versions() -> dict[str, str]:
    """The versions a screen's row records: nhm's and GPAW's."""
    from nhm.bands.dft import gpaw_version
    from nhm.version import __version__

    return {"nhm_version": __version__, "gpaw_version": gpaw_version()}
