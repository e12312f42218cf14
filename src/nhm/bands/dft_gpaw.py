"""What runs inside a GPAW worker process: the SCF and the non-self-consistent bands (nhm's only GPAW import).

:func:`worker_main` reads the request that :func:`nhm.bands.dft_worker.run_worker` left in the work directory and
runs its task: the SCF (``scf``: GPAW's loop with a progress line per iteration, a restart file of density and
potential; a closed-shell insulator again with empty bands) or the bands at given k-points from the SCF density
(``nscf``: GPAW's ``fixed_density``, symmetry off so that every k is computed as given, optionally the plane-wave
coefficients of the pseudo wave functions on their cutoff sphere). It writes the result, or one line naming the
cause of a failure (with a hint for GPAW's common errors); the worker dies with the nhm process that started it.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nhm.bands.dft_parameters import EXTRA_COMPUTED_BANDS, DftParameters
from nhm.bands.dft_worker import one_line, request_formula
from nhm.errors import NhmError


_SPHERE_NORM_TOL = 1e-6  # norm of a wave function outside the cutoff sphere (should be ~1e-30)


_HINTS = (  # (text in GPAW's exception, what it usually means)
    ("PAW dataset", "GPAW has no PAW dataset (setup) for an element of this crystal"),
    ("not positive definite", "the plane-wave basis is probably far too small (--ecut) or atoms overlap"),
    ("Fermi level", "the occupations could not be found: try a larger --smearing"),
    ("bands", "too few bands for the electrons: the occupations do not fit"),
)


def _failure_message(exc: BaseException, request: dict[str, Any]) -> str:
    """One line for an exception in the worker: the cause in words, then GPAW's own message."""
    what = f"GPAW {request.get('stage', request.get('task', ''))} calculation of {request_formula(request)} failed"
    text = one_line(str(exc) or type(exc).__name__, 300)
    hint = next((h for needle, h in _HINTS if needle in text), None)
    return f"{what}: {hint + ' (' if hint else ''}{type(exc).__name__}: {text}{')' if hint else ''}"


def _die_with_parent(parent: int) -> None:
    """Linux: be killed (SIGTERM) when the nhm process dies, even by SIGKILL (the OOM killer), instead of
    computing on as an orphan. Best effort; elsewhere a no-op."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, TypeError):
        return
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def worker_main(workdir: str) -> int:
    """Entry point of the child process (``python -m nhm.bands.dft WORKDIR``)."""
    work = Path(workdir)
    _die_with_parent(int(os.environ.get("NHM_PARENT_PID", os.getppid())))
    # Progress goes to the real stdout; anything else printing to stdout (C code included) is sent
    # to stderr so that it cannot garble the protocol.
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(**msg: Any) -> None:
        channel.write(json.dumps(msg) + "\n")

    request: dict[str, Any] = {}
    try:
        request = pickle.loads((work / "request.pkl").read_bytes())
        task = {"scf": _task_scf, "nscf": _task_nscf}[request["task"]]
        result = task(request, emit, work)
    except NhmError as exc:
        (work / "error.json").write_text(json.dumps({"message": str(exc)}))
        return 1
    except BaseException as exc:
        (work / "traceback.txt").write_text(traceback.format_exc())
        (work / "error.json").write_text(json.dumps({"message": _failure_message(exc, request)}))
        return 1
    tmp = work / "result.pkl.tmp"
    tmp.write_bytes(pickle.dumps(result))
    os.replace(tmp, work / "result.pkl")
    channel.close()
    return 0


# --- the tasks --------------------------------------------------------------------------------------


def gpaw_parameters(params: DftParameters) -> dict[str, Any]:
    """GPAW's calculator arguments for ``params`` (plane waves, functional, Γ-centred mesh, Fermi–Dirac, convergence)."""
    return {
        "mode": {"name": "pw", "ecut": params.mode_ecut_eV},
        "xc": params.xc,
        "kpts": {"size": params.kmesh_size, "gamma": True},
        "occupations": {"name": "fermi-dirac", "width": params.smearing_eV},
        "nbands": params.nbands,
        "maxiter": params.maxiter,
        "convergence": {
            "energy": params.energy_tol_eV,
            "density": params.density_tol,
            "eigenstates": params.eigenstates_tol,
        },
    }


def _iterate(calc: Any, atoms: Any, emit: Callable[..., None], stage: str) -> int:
    """Run GPAW's SCF loop, reporting every iteration; returns the number of iterations."""
    from ase.units import Ha

    niter = 0
    for ctx in calc.icalculate(atoms):
        niter = ctx.niter
        energy = getattr(getattr(ctx, "ham", None), "e_total_extrapolated", None)
        derr = getattr(getattr(ctx, "dens", None), "error", None)
        werr = getattr(getattr(getattr(ctx, "wfs", None), "eigensolver", None), "error", None)
        emit(
            stage=stage,
            message=f"iteration {niter}",
            iteration=niter,
            energy_eV=None if energy is None else float(energy) * Ha,
            log10_density_error=_log10(derr),
            log10_eigenstates_error=_log10(None if werr is None else float(werr) * Ha**2),
        )
    return niter


def _log10(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return float(np.log10(v)) if v > 0 and np.isfinite(v) else None


def _check_functional(xc: str) -> None:
    """NhmError unless GPAW (libxc) knows the exchange–correlation functional ``xc``."""
    from gpaw.xc import XC

    try:
        XC(xc)
    except Exception as exc:
        raise NhmError(
            f"GPAW does not know the exchange-correlation functional {xc!r} ({type(exc).__name__}: {one_line(str(exc), 120)}); "
            "use a GPAW/libxc name such as PBE, LDA, PBEsol, RPBE or revPBE (--xc)"
        ) from None


EMPTY_BANDS = 4  # empty bands added when GPAW's default count leaves none (closed-shell insulators)


def _task_scf(request: dict[str, Any], emit: Callable[..., None], work: Path) -> dict[str, Any]:
    import ase
    from ase.units import Ha
    from gpaw import GPAW, KohnShamConvergenceError

    params = DftParameters(**request["params"])
    atoms = ase.Atoms(numbers=request["numbers"], scaled_positions=request["positions"], cell=request["cell"], pbc=True)
    _check_functional(params.xc)
    log = work / "gpaw-scf.txt"
    arguments = gpaw_parameters(params)
    start = time.perf_counter()
    emit(stage="scf", message=f"SCF of {atoms.get_chemical_formula()} started")
    while True:
        calc = GPAW(**arguments, txt=str(log))
        atoms.calc = calc
        converged = True
        niter = 0
        try:
            niter = _iterate(calc, atoms, emit, "scf")
            energy = atoms.get_potential_energy()
        except KohnShamConvergenceError:
            if request.get("strict", True):
                raise NhmError(
                    f"SCF did not converge in {params.maxiter} iterations ({atoms.get_chemical_formula()}, "
                    f"{params.kmesh_label} k-points, {params.mode_ecut_eV:g} eV, {params.xc}, smearing "
                    f"{params.smearing_eV:g} eV); try more iterations (--maxiter), a larger --smearing or a "
                    f"finer --kmesh"
                ) from None
            converged = False
            niter = params.maxiter
            energy = float(calc.dft.energies.total_extrapolated) * Ha
        if np.isfinite(calc.get_fermi_level()) or arguments["nbands"] is not None:
            break
        # GPAW's default band count stops at the bound partial waves; for a closed-shell insulator (Ne) every
        # band is then full and the Fermi level is infinite: again with empty bands (GPAW: negative = empty)
        emit(stage="scf", message=f"no empty band in GPAW's default count: SCF again with {EMPTY_BANDS} empty bands")
        arguments = {**arguments, "nbands": -EMPTY_BANDS}
    if not np.isfinite(calc.get_fermi_level()):
        raise NhmError(
            f"GPAW found no Fermi level for {atoms.get_chemical_formula()}: every one of the {params.nbands} bands is "
            "full; ask for more bands"
        )
    gpw = work / "scf.gpw"
    calc.write(str(gpw))
    return {
        "fermi_level_eV": float(calc.get_fermi_level()),
        "total_energy_eV": float(energy),
        "converged": converged,
        "iterations": int(niter or calc.get_number_of_iterations()),
        "elapsed_s": time.perf_counter() - start,
        "gpw": gpw.read_bytes(),
    }


def _task_nscf(request: dict[str, Any], emit: Callable[..., None], work: Path) -> dict[str, Any]:
    """Bands at given k-points from the SCF density; optionally the plane-wave coefficients."""
    from gpaw import GPAW, KohnShamConvergenceError

    stage = request["stage"]
    kpts = np.asarray(request["kpts"], dtype=float)
    nconv = int(request["nbands_converged"])
    ncalc = nconv + EXTRA_COMPUTED_BANDS
    scf = GPAW(request["gpw"], txt=None)
    log = work / "gpaw-nscf.txt"
    start = time.perf_counter()
    emit(stage=stage, message=f"bands at {len(kpts)} k-points from the SCF density")
    calc = scf.fixed_density(
        kpts=kpts,
        symmetry="off",
        nbands=ncalc,
        convergence={"bands": nconv},
        maxiter=int(request["maxiter"]),
        txt=str(log),
    )
    try:
        _iterate(calc, calc.atoms, emit, stage)
        calc.get_potential_energy()
    except KohnShamConvergenceError:
        raise NhmError(
            f"the non-self-consistent band calculation did not converge in {request['maxiter']} "
            f"iterations (try more iterations, --maxiter, or a larger --ecut)"
        ) from None
    ibz = np.asarray(calc.get_ibz_k_points(), dtype=float)
    if ibz.shape != kpts.shape or np.max(np.abs(ibz - kpts)) > 1e-8:
        raise NhmError(f"GPAW changed the requested k-points ({kpts.tolist()} -> {ibz.tolist()})")
    energies = np.array([calc.get_eigenvalues(kpt=i)[:nconv] for i in range(len(kpts))])
    out: dict[str, Any] = {"energies_eV": energies, "elapsed_s": time.perf_counter() - start}
    want = request.get("wavefunctions")
    if want:
        # True: at every k-point; a list of booleans: only where True (empty arrays elsewhere)
        mask = [bool(want)] * len(kpts) if isinstance(want, bool) else [bool(x) for x in want]
        cell = calc.atoms.cell[:]
        g_list, c_list = [], []
        for i, k in enumerate(kpts):
            if not mask[i]:
                g_list.append(np.zeros((0, 3), dtype=np.int32))
                c_list.append(np.zeros((nconv, 0), dtype=np.complex128))
                continue
            psi = np.array([calc.get_pseudo_wave_function(band=n, kpt=i, periodic=True) for n in range(nconv)])
            g, c = _plane_waves(psi, k, cell, float(request["ecut"]))
            g_list.append(g)
            c_list.append(c)
        out["g_vectors"] = g_list
        out["coefficients"] = c_list
    if request.get("save_gpw"):
        calc.write(request["save_gpw"], mode="all")
    out["elapsed_s"] = time.perf_counter() - start
    return out


def _plane_waves(psi: np.ndarray, k: np.ndarray, cell: np.ndarray, ecut_eV: float) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients c[n, G] of ``u_n(x) = sum_G c[n, G] exp(2 pi i G.x)`` within the cutoff sphere.

    ``psi`` (nbands, N1, N2, N3): periodic parts on GPAW's grid (x_j = j / N). The forward FFT gives
    N c(G) for G = fftfreq indices. Only G with ``|k + G|^2 / 2 <= ecut`` (a hair of margin) are kept;
    the grid must hold that whole sphere, which is checked by the norm left outside it.
    """
    from ase.units import Bohr, Ha

    n = np.array(psi.shape[1:])
    coef = np.fft.fftn(psi, axes=(1, 2, 3)) / np.prod(n)
    freqs = [np.fft.fftfreq(m, 1.0 / m).round().astype(int) for m in n]
    grid = np.stack(np.meshgrid(*freqs, indexing="ij"), axis=-1).reshape(-1, 3)
    recip = 2 * np.pi * np.linalg.inv(cell).T  # rows b_i, 1/Å
    kin = (Ha * Bohr**2 / 2) * np.sum(((grid + k) @ recip) ** 2, axis=1)  # eV
    inside = kin <= ecut_eV * (1 + 1e-6) + 1e-9
    flat = coef.reshape(len(coef), -1)
    total = np.sum(np.abs(flat) ** 2, axis=1)
    kept = np.sum(np.abs(flat[:, inside]) ** 2, axis=1)
    if np.any(total - kept > _SPHERE_NORM_TOL * total):
        raise NhmError(
            "GPAW's grid does not hold the plane-wave sphere of the wave functions "
            f"(norm outside: {np.max((total - kept) / total):.2e}); cannot extract coefficients"
        )
    return grid[inside].astype(np.int32), flat[:, inside].astype(np.complex128)
