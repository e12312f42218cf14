"""First-principles band structures with GPAW (plane waves, PAW): SCF and Bloch states at the points of
symmetry (the lines of symmetry and the zone mesh are in :mod:`nhm.bands.dft_zone`).

Every calculation uses the BCS primitive cell ``crystal.primitive_atoms()``; k-points are given to
GPAW in its reciprocal basis, ``k_p = P^T k_c`` for a point with conventional coordinates ``k_c``.
Energies are in eV and absolute (GPAW's zero); each result carries the SCF Fermi level.

Method (defaults of :class:`DftParameters`): plane waves up to 500 eV, PBE, a Γ-centred
Monkhorst–Pack mesh of 12×12×12, Fermi–Dirac smearing of 0.1 eV (GPAW's default occupation for
bulk metals: physically a temperature, no band-structure artefacts, and the Fermi level is that of a
smooth distribution; Marzari–Vanderbilt would give slightly better total energies, which nhm does
not need). Bloch states and band paths are computed non-self-consistently from the SCF density
(GPAW's ``fixed_density``), with symmetry off so that every requested k is computed as given.

Each GPAW run happens in a separate Python process (``python -m nhm.bands.dft``) started with one
OpenMP/BLAS thread: the thread count must be fixed before numpy and GPAW's BLAS are loaded (two
threads made bcc Nb 2–3× slower on two cores), and the process keeps GPAW's global state and memory
out of the caller. Progress comes back line by line as JSON; results as a pickle in a private
temporary directory.

Results are cached (:mod:`nhm.bands.cache`) under a hash of structure, parameters and GPAW version;
``use_cache=False`` bypasses the cache (``--no-cache``).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nhm.errors import InputError, NhmError

if TYPE_CHECKING:
    from nhm.bands.bloch import BlochLevel

__all__ = [
    "BlochStates",
    "DftParameters",
    "ProgressEvent",
    "ScfResult",
    "bloch_states_at_points",
    "default_nbands",
    "gpaw_version",
    "kmesh_from_density",
    "rich_progress",
    "run_scf",
]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
_EXTRA_CONVERGED_BANDS = 6  # above the requested bands: completes any degenerate group (dim <= 6)
_EXTRA_COMPUTED_BANDS = 3  # above the converged ones: the topmost bands of a Davidson run converge slowly
_SPHERE_NORM_TOL = 1e-6  # norm of a wave function outside the cutoff sphere (should be ~1e-30)


class GpawMissingError(NhmError):
    """GPAW is not installed (scripts/setup.sh builds it)."""


@dataclass(frozen=True)
class DftParameters:
    """Parameters of a GPAW plane-wave calculation.

    ``mode_ecut_eV``: plane-wave cutoff (eV). ``xc``: exchange–correlation functional (GPAW/libxc
    name). ``kmesh``: n for an n×n×n Γ-centred Monkhorst–Pack mesh of the primitive cell, or
    (n1, n2, n3) (see :func:`kmesh_from_density`); a tuple of three equal n is stored as the int n, so
    that a cubic mesh has one cache key however it was given.
    ``smearing_eV``: Fermi–Dirac width kT (eV). ``nbands``: bands in the SCF (None: GPAW's default).
    ``maxiter``: SCF iterations before giving up. Convergence (GPAW's criteria and defaults):
    ``energy_tol_eV`` (eV per valence electron, last 3 iterations), ``density_tol`` (electrons per
    valence electron), ``eigenstates_tol`` (eV² per valence electron).
    """

    mode_ecut_eV: float = 500.0
    xc: str = "PBE"
    kmesh: int | tuple[int, int, int] = 12
    smearing_eV: float = 0.1
    nbands: int | None = None
    maxiter: int = 100
    energy_tol_eV: float = 5e-4
    density_tol: float = 1e-4
    eigenstates_tol: float = 4e-8

    def __post_init__(self) -> None:
        positive = {
            "mode_ecut_eV": self.mode_ecut_eV,
            "smearing_eV": self.smearing_eV,
            "energy_tol_eV": self.energy_tol_eV,
            "density_tol": self.density_tol,
            "eigenstates_tol": self.eigenstates_tol,
        }
        for name, value in positive.items():
            if isinstance(value, bool) or not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise InputError(f"{name} must be a positive number, got {value!r}")
            object.__setattr__(self, name, float(value))  # 500 and 500.0 must give the same cache key
        kmesh = self.kmesh
        if isinstance(kmesh, list | tuple | np.ndarray):
            ns = tuple(kmesh)
            if len(ns) != 3 or not all(isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 1 for n in ns):
                raise InputError(f"kmesh must be a positive integer n or three of them (n1, n2, n3), got {kmesh!r}")
            ns = tuple(int(n) for n in ns)
            object.__setattr__(self, "kmesh", ns[0] if ns[0] == ns[1] == ns[2] else ns)
        elif not isinstance(kmesh, int) or isinstance(kmesh, bool) or kmesh < 1:
            raise InputError(f"kmesh must be a positive integer (n for an n×n×n mesh), got {kmesh!r}")
        if self.nbands is not None and (not isinstance(self.nbands, int) or self.nbands < 1):
            raise InputError(f"nbands must be a positive integer or None, got {self.nbands!r}")
        if not isinstance(self.maxiter, int) or self.maxiter < 1:
            raise InputError(f"maxiter must be a positive integer, got {self.maxiter!r}")
        if not isinstance(self.xc, str) or not self.xc.strip():
            raise InputError(f"xc must name a functional (e.g. 'PBE'), got {self.xc!r}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def kmesh_size(self) -> tuple[int, int, int]:
        """(n1, n2, n3) of the SCF mesh."""
        return (self.kmesh,) * 3 if isinstance(self.kmesh, int) else self.kmesh  # type: ignore[return-value]

    @property
    def kmesh_label(self) -> str:
        """"12³" or "12×12×7"."""
        return f"{self.kmesh}³" if isinstance(self.kmesh, int) else "×".join(map(str, self.kmesh))

    def hash(self, crystal: Any) -> str:
        """Cache key of an SCF of ``crystal`` (a Crystal or ase.Atoms) with these parameters."""
        return _key("scf", crystal, self)


@dataclass(frozen=True)
class ProgressEvent:
    """A progress report from a running calculation.

    ``stage``: "scf", "nscf" (Bloch states), "zone" (lines and mesh) or "cache". ``iteration``: SCF
    iteration (1-based) or None. ``energy_eV``: current total energy (extrapolated to zero
    smearing). ``log10_density_error``, ``log10_eigenstates_error``: GPAW's convergence measures.
    """

    stage: str
    message: str
    iteration: int | None = None
    energy_eV: float | None = None
    log10_density_error: float | None = None
    log10_eigenstates_error: float | None = None


Progress = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class ScfResult:
    """A self-consistent GPAW calculation.

    ``fermi_level_eV`` and ``total_energy_eV`` (free energy extrapolated to zero smearing) in eV;
    ``converged`` is True unless ``run_scf(strict=False)`` returned an unconverged result;
    ``gpw`` holds GPAW's restart file (density and potential, no wave functions).
    """

    key: str
    fermi_level_eV: float
    total_energy_eV: float
    converged: bool
    iterations: int
    elapsed_s: float
    gpaw_version: str
    parameters: DftParameters
    from_cache: bool = False
    gpw: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class BlochStates:
    """Bloch states at one point of symmetry from a non-self-consistent calculation.

    ``name``: BCS name; ``k_conventional`` (exact, conventional reciprocal basis) and
    ``k_primitive`` (the floats given to GPAW, primitive reciprocal basis). ``energies_eV``:
    ascending, absolute. ``g_vectors`` (nG, 3) integers in the primitive reciprocal basis and
    ``coefficients`` (nbands_computed, nG): ``psi_n(r) = sum_G c[n, G] exp(i (k + G).r)`` for the
    PAW pseudo wave function, within the cutoff sphere, not normalized (normalization is in the PAW
    overlap). ``nbands``: how many bands were asked for; more are computed so that the degenerate
    group containing the last requested band is complete.
    """

    name: str
    k_conventional: tuple[Fraction, Fraction, Fraction]
    k_primitive: np.ndarray
    energies_eV: np.ndarray
    fermi_level_eV: float
    g_vectors: np.ndarray
    coefficients: np.ndarray
    nbands: int

    def levels(self, space_group: int) -> list[BlochLevel]:
        """The levels of the lowest ``nbands`` bands with their BCS irreps (absolute energies, eV)."""
        from nhm.bands.bloch import levels_from_plane_waves

        return levels_from_plane_waves(
            space_group, self.name, self.k_primitive, self.energies_eV, self.g_vectors, self.coefficients, nbands=self.nbands
        )


# --- keys ----------------------------------------------------------------------------------------


def gpaw_version() -> str:
    """Installed GPAW version, read without importing GPAW ('' if it is not installed)."""
    try:
        return importlib.metadata.version("gpaw")
    except importlib.metadata.PackageNotFoundError:
        return ""


def _atoms_of(crystal: Any):
    import ase

    if isinstance(crystal, ase.Atoms):
        return crystal
    return crystal.primitive_atoms()


def _key(kind: str, crystal: Any, params: DftParameters, **extra: Any) -> str:
    from nhm.bands.cache import cache_key, structure_fingerprint

    atoms = _atoms_of(crystal)
    payload = {
        "structure": structure_fingerprint(atoms.cell[:], atoms.get_scaled_positions(wrap=True), atoms.numbers),
        "parameters": params.as_dict(),
        "gpaw": gpaw_version(),
        **extra,
    }
    return cache_key(kind, payload)


# --- the worker process ---------------------------------------------------------------------------


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env[name] = "1"
    env["NHM_PARENT_PID"] = str(os.getpid())
    return env


_WORKERS: set[subprocess.Popen] = set()  # running GPAW children (several at once: dft_zone runs chunks in threads)
_WORKERS_LOCK = threading.Lock()
_STOPPING = threading.Event()  # set by stop_workers(): the process is going down, failures are not GPAW's
LOG_DIR_NAME = "logs"  # GPAW logs of failed runs are kept in $NHM_CACHE_DIR/logs
_KEPT_LOGS = 50  # the newest this many are kept there


def stop_workers() -> None:
    """Kill every running GPAW worker process (the CLI's SIGINT/SIGTERM handlers call this).

    The threads and frames waiting for them then see end-of-file, and their temporary directories are
    removed as they unwind; no log is kept for a run stopped this way.
    """
    _STOPPING.set()
    with _WORKERS_LOCK:
        procs = list(_WORKERS)
    for proc in procs:
        try:
            proc.kill()
        except OSError:
            pass


def logs_directory() -> Path:
    """Where the GPAW logs of failed runs are kept: ``logs/`` in the cache directory (``$NHM_CACHE_DIR``)."""
    from nhm.bands.cache import default_cache_dir

    return default_cache_dir() / LOG_DIR_NAME


def _formula(request: dict[str, Any]) -> str:
    from collections import Counter

    from ase.data import chemical_symbols

    counts = Counter(int(z) for z in np.asarray(request.get("numbers", []), dtype=int).ravel())
    return "".join(f"{chemical_symbols[z]}{n if n > 1 else ''}" for z, n in sorted(counts.items())) or "cell"


def _keep_log(work: Path, stage: str, request: dict[str, Any]) -> Path | None:
    """Copy what the failed worker left (GPAW's text log, its stderr, the traceback) out of ``work``.

    Into :func:`logs_directory` (the newest ``_KEPT_LOGS`` are kept), else into the temporary directory;
    None if neither can be written.
    """
    parts = []
    for name, title in (("gpaw-scf.txt", "GPAW log (SCF)"), ("gpaw-nscf.txt", "GPAW log (non-self-consistent)"),
                        ("stderr.txt", "standard error of the worker"), ("traceback.txt", "traceback")):
        f = work / name
        if f.is_file():
            parts.append(f"===== {title} =====\n" + f.read_text(errors="replace"))
    text = "\n".join(parts) or "(the worker left no output)\n"
    tag = re.sub(r"[^A-Za-z0-9]+", "-", f"{_formula(request)}-{stage}").strip("-")
    prefix = f"nhm-log-{time.strftime('%Y%m%d-%H%M%S')}-{tag}-"
    for directory, prune in ((logs_directory(), True), (Path(tempfile.gettempdir()), False)):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".txt")
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
        except OSError:
            continue
        if prune:
            _prune_logs(directory)
        return Path(name)
    return None


def _prune_logs(directory: Path) -> None:
    try:
        logs = sorted(directory.glob("nhm-log-*.txt"), key=lambda f: f.stat().st_mtime)
        for old in logs[:-_KEPT_LOGS]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def _signal_name(code: int) -> str:
    import signal

    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _run_worker(request: dict[str, Any], progress: Progress | None, stage: str) -> dict[str, Any]:
    """Run one GPAW task in a child process; returns its result dict, raises NhmError on failure.

    A failure is one line naming the cause, and the path of the GPAW log, which is copied out of the
    temporary directory first (:func:`logs_directory`). The temporary directory (``nhm-gpaw-*``) is
    always removed, also when the caller is interrupted or terminated (the child is killed first).
    """
    if not gpaw_version():
        raise GpawMissingError("GPAW is not installed in this environment; run 'bash scripts/setup.sh' to build it")
    with tempfile.TemporaryDirectory(prefix="nhm-gpaw-") as tmp:
        work = Path(tmp)
        if "gpw_bytes" in request:  # the SCF restart file, handed over on disk
            (work / "input.gpw").write_bytes(request.pop("gpw_bytes"))
            request["gpw"] = str(work / "input.gpw")
        (work / "request.pkl").write_bytes(pickle.dumps(request))
        stderr_path = work / "stderr.txt"
        with open(stderr_path, "wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "nhm.bands.dft", str(work)],
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                env=_worker_env(),
                text=True,
            )
            with _WORKERS_LOCK:
                _WORKERS.add(proc)
            try:
                if _STOPPING.is_set():  # a signal came while this worker was being started
                    proc.kill()
                assert proc.stdout is not None
                for line in proc.stdout:
                    if progress is None:
                        continue
                    try:
                        msg = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    progress(ProgressEvent(**msg))
                proc.wait()
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            finally:
                with _WORKERS_LOCK:
                    _WORKERS.discard(proc)
        if _STOPPING.is_set():
            raise NhmError(f"the GPAW {stage} calculation was stopped")
        error = work / "error.json"
        result = work / "result.pkl"
        if error.exists() or proc.returncode != 0 or not result.exists():
            try:
                cause = json.loads(error.read_text())["message"]
            except (OSError, ValueError, KeyError, TypeError):
                how = f"killed by {_signal_name(proc.returncode)}" if proc.returncode < 0 else f"exit code {proc.returncode}"
                hint = ", out of memory?" if proc.returncode == -9 else ""
                cause = f"the GPAW {stage} calculation of {_formula(request)} stopped ({how}{hint})"
            log = _keep_log(work, stage, request)
            raise NhmError(_one_line(cause) + (f"; GPAW log: {log}" if log else "; its log could not be kept"))
        return pickle.loads(result.read_bytes())


def _one_line(text: str, limit: int = 400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


_HINTS = (  # (text in GPAW's exception, what it usually means)
    ("PAW dataset", "GPAW has no PAW dataset (setup) for an element of this crystal"),
    ("not positive definite", "the plane-wave basis is probably far too small (--ecut) or atoms overlap"),
    ("Fermi level", "the occupations could not be found: try a larger --smearing"),
    ("bands", "too few bands for the electrons: the occupations do not fit"),
)


def _failure_message(exc: BaseException, request: dict[str, Any]) -> str:
    """One line for an exception in the worker: the cause in words, then GPAW's own message."""
    what = f"GPAW {request.get('stage', request.get('task', ''))} calculation of {_formula(request)} failed"
    text = _one_line(str(exc) or type(exc).__name__, 300)
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


def _worker_main(workdir: str) -> int:
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


def _gpaw_parameters(params: DftParameters) -> dict[str, Any]:
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
            f"GPAW does not know the exchange-correlation functional {xc!r} ({type(exc).__name__}: {_one_line(str(exc), 120)}); "
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
    gpaw_parameters = _gpaw_parameters(params)
    start = time.perf_counter()
    emit(stage="scf", message=f"SCF of {atoms.get_chemical_formula()} started")
    while True:
        calc = GPAW(**gpaw_parameters, txt=str(log))
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
        if np.isfinite(calc.get_fermi_level()) or gpaw_parameters["nbands"] is not None:
            break
        # GPAW's default band count stops at the bound partial waves; for a closed-shell insulator (Ne) every
        # band is then full and the Fermi level is infinite: again with empty bands (GPAW: negative = empty)
        emit(stage="scf", message=f"no empty band in GPAW's default count: SCF again with {EMPTY_BANDS} empty bands")
        gpaw_parameters = {**gpaw_parameters, "nbands": -EMPTY_BANDS}
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
    ncalc = nconv + _EXTRA_COMPUTED_BANDS
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


# --- public API ------------------------------------------------------------------------------------


def _request_base(crystal: Any, params: DftParameters) -> dict[str, Any]:
    atoms = _atoms_of(crystal)
    if len(atoms) == 0:
        raise InputError("the crystal has no atoms")
    return {
        "cell": np.asarray(atoms.cell[:], dtype=float),
        "positions": atoms.get_scaled_positions(wrap=True),
        "numbers": np.asarray(atoms.numbers, dtype=int),
        "params": params.as_dict(),
    }


def _cache(use_cache: bool, cache_dir: str | os.PathLike[str] | None):
    """The cache (None without ``use_cache``). An unwritable directory is warned about here, before the
    run (once per directory), and the run goes on: entries are still read, results not stored."""
    if not use_cache:
        return None
    from nhm.bands.cache import BandCache

    cache = BandCache(cache_dir)
    cache.writable()
    return cache


def _check_scf_entry(entry: Any) -> None:
    m = entry.metadata
    gpw = entry.arrays["gpw"]
    if gpw.dtype != np.uint8 or gpw.ndim != 1 or gpw.size == 0:
        raise ValueError(f"the SCF restart file is a {gpw.dtype} array of shape {gpw.shape}")
    for name in ("fermi_level_eV", "total_energy_eV", "elapsed_s"):
        if not np.isfinite(float(m[name])):
            raise ValueError(f"{name} is {m[name]!r}")
    int(m["iterations"]), bool(m["converged"]), str(m["gpaw_version"])


def _check_bloch_entry(entry: Any, pts: list, nb: int) -> None:
    a = entry.arrays
    kpts = np.asarray(a["kpts"], dtype=float)
    want = np.array([[float(x) for x in kp] for _, _, kp in pts])
    if kpts.shape != want.shape or not np.allclose(kpts, want, atol=1e-8):
        raise ValueError(f"k-points of shape {kpts.shape}, {want.shape} requested")
    energies = np.asarray(a["energies_eV"], dtype=float)
    if energies.ndim != 2 or energies.shape[0] != len(pts) or energies.shape[1] < nb or not np.all(np.isfinite(energies)):
        raise ValueError(f"energies of shape {energies.shape} for {len(pts)} points and {nb} bands")
    for i in range(len(pts)):
        g, c = np.asarray(a[f"g_{i}"]), np.asarray(a[f"c_{i}"])
        if g.ndim != 2 or g.shape[1] != 3 or c.ndim != 2 or c.shape[1] != g.shape[0] or c.shape[0] < nb:
            raise ValueError(f"plane waves at point {i}: G {g.shape}, coefficients {c.shape}")
    if not np.isfinite(float(entry.metadata["fermi_level_eV"])):
        raise ValueError("no finite Fermi level")


def run_scf(
    crystal: Any,
    params: DftParameters = DftParameters(),
    *,
    progress: Progress | None = None,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    strict: bool = True,
) -> ScfResult:
    """Self-consistent GPAW calculation of the BCS primitive cell of ``crystal``.

    ``crystal``: an ``nhm.crystal.Crystal`` (its ``primitive_atoms()`` are computed) or an
    ``ase.Atoms`` taken as is. ``progress`` receives a :class:`ProgressEvent` per SCF iteration.
    With ``use_cache`` a result stored under the same key (structure, parameters, GPAW version) is
    returned without computing. Non-convergence within ``params.maxiter`` iterations raises NhmError
    ("SCF did not converge in N iterations ..."), unless ``strict=False``: then an unconverged result
    (``converged=False``, never cached) is returned.
    """
    cache = _cache(use_cache, cache_dir)
    key = _key("scf", crystal, params)
    if cache is not None:
        entry = cache.load(key, check=_check_scf_entry)
        if entry is not None:
            m = entry.metadata
            if progress is not None:
                progress(ProgressEvent("cache", f"SCF read from the cache ({key[:12]})"))
            return ScfResult(
                key=key,
                fermi_level_eV=float(m["fermi_level_eV"]),
                total_energy_eV=float(m["total_energy_eV"]),
                converged=bool(m["converged"]),
                iterations=int(m["iterations"]),
                elapsed_s=float(m["elapsed_s"]),
                gpaw_version=str(m["gpaw_version"]),
                parameters=params,
                from_cache=True,
                gpw=entry.arrays["gpw"].tobytes(),
            )
    check_setups(crystal, params)
    request = {**_request_base(crystal, params), "task": "scf", "strict": strict}
    out = _run_worker(request, progress, "SCF")
    result = ScfResult(
        key=key,
        fermi_level_eV=out["fermi_level_eV"],
        total_energy_eV=out["total_energy_eV"],
        converged=out["converged"],
        iterations=out["iterations"],
        elapsed_s=out["elapsed_s"],
        gpaw_version=gpaw_version(),
        parameters=params,
        gpw=out["gpw"],
    )
    if cache is not None and result.converged:
        meta = {k: getattr(result, k) for k in ("fermi_level_eV", "total_energy_eV", "converged", "iterations", "elapsed_s", "gpaw_version")}
        meta["parameters"] = params.as_dict()
        cache.store(key, {"gpw": np.frombuffer(result.gpw, dtype=np.uint8)}, meta)
    return result


def default_nbands(crystal: Any, params: DftParameters = DftParameters()) -> int:
    """Bands analysed by default: the occupied ones plus max(4, 2 per atom) above them.

    Occupied = half the number of valence electrons of GPAW's PAW setups for ``params.xc``,
    rounded up (Nb: 13 electrons -> 7 occupied + 4 = 11 bands, up to ~9 eV above E_F).
    """
    atoms = _atoms_of(crystal)
    nval = sum(_valence_electrons(int(z), params.xc) for z in atoms.numbers)
    return int(np.ceil(nval / 2)) + max(4, 2 * len(atoms))


def kmesh_from_density(crystal: Any, density: float) -> int | tuple[int, int, int]:
    """The Γ-centred mesh n1×n2×n3 of the primitive cell with ``density`` points per Å⁻¹.

    As GPAW's ``kpts={"density": d}`` (ASE's ``kptdensity2monkhorstpack``): n_i = ceil(d |B_i|) with the
    reciprocal vectors B_i in Å⁻¹, 2π included. Then made symmetric: wherever an operation of the
    crystal's point group mixes two reciprocal axes, both get the larger n, so that the mesh is mapped
    onto itself (for cubic, rhombohedral and body-centred cells all n are equal). Returns an int if
    all n are equal (the key of a cubic mesh does not depend on how it was asked for).
    """
    import spglib

    if not (np.isfinite(density) and density > 0):
        raise InputError(f"--kdensity must be a positive number of k-points per Å⁻¹, got {density!r}")
    atoms = _atoms_of(crystal)
    recip = 2 * np.pi * np.linalg.inv(np.asarray(atoms.cell[:], dtype=float)).T
    ns = [max(1, int(np.ceil(density * np.linalg.norm(b) - 1e-9))) for b in recip]
    ds = spglib.get_symmetry_dataset((atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers), symprec=1e-3)
    rotations = [] if ds is None else [np.rint(np.linalg.inv(r).T).astype(int) for r in ds.rotations]
    changed = True
    while changed:  # k' = R^-T k maps the grid onto itself iff Q_ij n_i / n_j is an integer for all i, j
        changed = False
        for q in rotations:
            for i in range(3):
                for j in range(3):
                    if q[i, j] and (q[i, j] * ns[i]) % ns[j]:
                        ns[i] = ns[j] = max(ns[i], ns[j])
                        changed = True
    return ns[0] if ns[0] == ns[1] == ns[2] else (ns[0], ns[1], ns[2])


def _setup_file(symbol: str, xc: str) -> Path:
    """GPAW's default PAW setup file of ``symbol`` for ``xc`` ($GPAW_SETUP_PATH first, then gpaw-data)."""
    dirs = [Path(d) for d in os.environ.get("GPAW_SETUP_PATH", "").split(os.pathsep) if d]
    try:
        import gpaw_data  # type: ignore[import-not-found]

        dirs.append(Path(gpaw_data.datapath()))
    except ImportError:
        if not dirs:
            raise GpawMissingError("GPAW's PAW setups (package gpaw-data) are not installed; run 'bash scripts/setup.sh'") from None
    functional = "PBE" if xc.upper() not in ("LDA", "PBE") else xc.upper()
    for base in dirs:
        candidates = sorted(base.glob(f"{symbol}.{functional}.gz")) or sorted(base.glob(f"{symbol}.*.{functional}.gz"))
        if candidates:
            return candidates[0]
    raise InputError(
        f"GPAW has no PAW dataset (setup) for {symbol} ({functional}) in {', '.join(map(str, dirs))}: nhm cannot compute "
        f"crystals containing {symbol} (set GPAW_SETUP_PATH to a directory with {symbol}.{functional}.gz to add one)"
    )


def check_setups(crystal: Any, params: DftParameters = DftParameters()) -> None:
    """InputError before any GPAW run if an element of ``crystal`` has no PAW setup."""
    from ase.data import chemical_symbols

    for z in sorted({int(z) for z in _atoms_of(crystal).numbers}):
        _setup_file(chemical_symbols[z], params.xc)


def _valence_electrons(z: int, xc: str) -> int:
    """Valence electrons of GPAW's default PAW setup (read from the setup file, no GPAW import)."""
    import gzip

    from ase.data import chemical_symbols

    setup = _setup_file(chemical_symbols[z], xc)
    with gzip.open(setup, "rt") as fh:
        head = fh.read(4000)
    m = re.search(r'valence="([0-9.]+)"', head)
    if not m:
        raise NhmError(f"cannot read the number of valence electrons from {setup}")
    return int(round(float(m.group(1))))


def _points(crystal: Any, points: Sequence[str] | None) -> list[tuple[str, tuple[Fraction, Fraction, Fraction], tuple[Fraction, Fraction, Fraction]]]:
    from nhm.groups.irreps import normalize_k_name
    from nhm.groups.kpoints import points_of_symmetry

    sg = getattr(crystal, "space_group", None)
    if sg is None:
        raise InputError("Bloch states at the points of symmetry need an nhm Crystal (read_crystal), not bare Atoms")
    table = {p.name: p for p in points_of_symmetry(sg)}
    names = list(table) if points is None else [normalize_k_name(p) for p in points]
    for name in names:
        if name not in table:
            raise InputError(f"space group {sg} has no point of symmetry {name!r} (it has {', '.join(table)})")
    return [(n, table[n].conventional, table[n].primitive) for n in names]


def bloch_states_at_points(
    crystal: Any,
    params: DftParameters = DftParameters(),
    *,
    nbands: int | None = None,
    points: Sequence[str] | None = None,
    scf: ScfResult | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    save_gpw: str | os.PathLike[str] | None = None,
) -> dict[str, BlochStates]:
    """Energies and plane-wave coefficients of the Bloch states at the points of symmetry.

    ``crystal``: an ``nhm.crystal.Crystal``. ``points``: BCS names (default: all points of symmetry
    of its space group, the Bilbao maximal k-vectors). ``nbands``: bands to analyse (default
    :func:`default_nbands`); a few more are computed so that degenerate groups are complete. The
    SCF density comes from ``scf`` or :func:`run_scf` (cached). ``save_gpw``: also write GPAW's
    restart file with wave functions (mode="all") there, e.g. for the program ``irrep`` (this
    bypasses the cache, as the file must be produced).
    Returns ``{name: BlochStates}`` in the order of the points.
    """
    pts = _points(crystal, points)
    nb = default_nbands(crystal, params) if nbands is None else int(nbands)
    if nb < 1:
        raise InputError(f"nbands must be positive, got {nbands!r}")
    nconv = nb + _EXTRA_CONVERGED_BANDS
    cache = _cache(use_cache and save_gpw is None, cache_dir)
    key = _key("bloch", crystal, params, nbands=nb, points=[(n, [str(x) for x in kc]) for n, kc, _ in pts])
    if cache is not None:
        entry = cache.load(key, check=lambda e: _check_bloch_entry(e, pts, nb))
        if entry is not None:
            if progress is not None:
                progress(ProgressEvent("cache", f"Bloch states read from the cache ({key[:12]})"))
            return _bloch_from_arrays(pts, entry.arrays, float(entry.metadata["fermi_level_eV"]), nb)
    if scf is None:
        scf = run_scf(crystal, params, progress=progress, use_cache=use_cache, cache_dir=cache_dir)
    kpts = np.array([[float(x) for x in kp] for _, _, kp in pts])
    request = {
        **_request_base(crystal, params),
        "task": "nscf",
        "stage": "nscf",
        "gpw_bytes": scf.gpw,
        "kpts": kpts,
        "nbands_converged": nconv,
        "maxiter": params.maxiter,
        "wavefunctions": True,
        "ecut": params.mode_ecut_eV,
        "save_gpw": None if save_gpw is None else str(Path(save_gpw).resolve()),
    }
    out = _run_worker(request, progress, "non-self-consistent")
    arrays: dict[str, np.ndarray] = {"kpts": kpts, "energies_eV": out["energies_eV"]}
    for i in range(len(pts)):
        arrays[f"g_{i}"] = out["g_vectors"][i]
        arrays[f"c_{i}"] = out["coefficients"][i]
    if cache is not None:
        cache.store(key, arrays, {"fermi_level_eV": scf.fermi_level_eV, "points": [n for n, _, _ in pts], "nbands": nb})
    return _bloch_from_arrays(pts, arrays, scf.fermi_level_eV, nb)


def _bloch_from_arrays(pts, arrays: dict[str, np.ndarray], fermi: float, nb: int) -> dict[str, BlochStates]:
    out: dict[str, BlochStates] = {}
    for i, (name, kc, _) in enumerate(pts):
        out[name] = BlochStates(
            name=name,
            k_conventional=kc,
            k_primitive=np.asarray(arrays["kpts"][i], dtype=float),
            energies_eV=np.asarray(arrays["energies_eV"][i], dtype=float),
            fermi_level_eV=fermi,
            g_vectors=np.asarray(arrays[f"g_{i}"], dtype=int),
            coefficients=np.asarray(arrays[f"c_{i}"]),
            nbands=nb,
        )
    return out


@contextmanager
def rich_progress(description: str = "GPAW", console: Any = None) -> Iterator[Progress]:
    """A progress callback that shows a rich spinner with the SCF iteration, energy and errors.

    Usage::

        with rich_progress("Nb") as report:
            scf = run_scf(crystal, progress=report)
    """
    from rich.console import Console
    from rich.status import Status

    status = Status(f"{description}: starting", console=console or Console(stderr=True))

    def report(event: ProgressEvent) -> None:
        parts = [f"{description}: {event.stage} {event.message}"]
        if event.energy_eV is not None:
            parts.append(f"E = {event.energy_eV:.5f} eV")
        if event.log10_density_error is not None:
            parts.append(f"log10(density error) = {event.log10_density_error:.1f}")
        if event.log10_eigenstates_error is not None:
            parts.append(f"log10(eigenstates error) = {event.log10_eigenstates_error:.1f}")
        status.update(", ".join(parts))

    with status:
        yield report


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1]))
