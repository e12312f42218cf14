"""Issue 13, items 3, 4 and 7 (the rest): GPAW failures in one line with a kept log; caches that cannot be
written or hold bad content; SIGTERM/SIGINT leave no temporary directories and no GPAW process behind;
outputs all or nothing; options refused before any DFT run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from nhm.atomic import all_or_nothing, write_atomically
from nhm.bands import dft
from nhm.bands.cache import BandCache, CacheEntry, CacheWarning
from nhm.bands.dft import DftParameters
from nhm.crystal import read_crystal
from nhm.errors import InputError, NhmError

BCC = "bcc:GM1+,H1+,P1,N2+"
NO_DFT = (  # run main() with the GPAW worker replaced by a tripwire
    "import sys\n"
    "import nhm.bands.dft as d\n"
    "def tripwire(*a, **k):\n"
    "    print('DFT STARTED', file=sys.stderr); sys.exit(99)\n"
    "d._run_worker = tripwire\n"
    "from nhm.cli import main\n"
    "main(sys.argv[1:])\n"
)


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "NHM_CACHE_DIR": str(tmp_path / "cache"), "TMPDIR": str(tmp), **extra}


def nhm(tmp_path: Path, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nhm.cli", *args], capture_output=True, text=True, timeout=timeout,
                          env=env_for(tmp_path, **env), cwd=tmp_path)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def one_error_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr[-3000:])
    assert "Traceback" not in r.stderr
    (line,) = lines(r.stderr)
    assert line.startswith("nhm: error: ")
    return line


def leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "tmp").glob("nhm-gpaw-*"))


def workers_in(directory: Path) -> list[int]:
    """Process ids of GPAW workers whose command line names a directory under ``directory``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"nhm.bands.dft" in cmd and any(str(directory).encode() in c for c in cmd):
            found.append(int(proc.name))
    return found


# --- item 4: options refused before any DFT run --------------------------------------------------------


@pytest.mark.parametrize(
    "args,needle",
    [
        (("--window", "nan"), "--window must be a finite number"),
        (("--window", "inf"), "--window must be a finite number"),
        (("--window", "0"), "--window must be positive"),
        (("--window", "-1"), "--window must be positive"),
        (("--kmesh", "0"), "--kmesh must be a positive integer"),
        (("--kmesh", "1"), "add --mesh"),
        (("--mesh", "1"), "--mesh must be at least 2"),
        (("--mesh", "0"), "--mesh must be a positive integer"),
        (("--spacing", "0"), "--spacing must be positive"),
        (("--spacing", "nan"), "--spacing must be a finite number"),
        (("--ecut", "0"), "--ecut must be positive"),
        (("--smearing", "-0.1"), "--smearing must be positive"),
        (("--maxiter", "0"), "--maxiter must be a positive integer"),
        (("--a", "-3"), "--a must be positive"),
        (("--a", "0"), "--a must be positive"),
        (("--a", "nan"), "--a must be a finite number"),
        (("--symprec", "0"), "--symprec must be positive"),
        (("--kdensity", "0"), "--kdensity must be positive"),
        (("--kdensity", "3", "--kmesh", "8"), "either --kmesh or --kdensity"),
        (("--nbands", "5"), "apply to --from-dft only"),
        (("--fermi", "5"), "apply to --from-dft only"),
        (("--centres", "X"), "--centres 'X' is neither a Wyckoff position"),
    ],
)
def test_analyze_refuses_before_any_dft(tmp_path, args, needle):
    r = subprocess.run([sys.executable, "-c", NO_DFT, "analyze", "Nb", "--no-plot", *args], capture_output=True, text=True,
                       timeout=120, env=env_for(tmp_path))
    assert "DFT STARTED" not in r.stderr
    assert needle in one_error_line(r)


def test_ebr_refuses_wyckoff_with_all_positions(tmp_path):
    assert "exclude each other" in one_error_line(nhm(tmp_path, "ebr", "229", "--wyckoff", "2a", "--all-positions"))


def test_from_dft_without_irrep_names_the_extra(tmp_path):
    code = "import sys\nsys.modules['irrep'] = None\nfrom nhm.cli import main\nmain(sys.argv[1:])\n"
    r = subprocess.run([sys.executable, "-c", code, "analyze", "Nb", "--from-dft", f"gpaw:{tmp_path / 'x.gpw'}"],
                       capture_output=True, text=True, timeout=120, env=env_for(tmp_path))
    assert "pip install 'nhm[readers]'" in one_error_line(r)


def test_kmesh_by_density_keeps_cubic_keys_and_gives_hcp_a_flat_mesh():
    nb, mg = read_crystal("Nb"), read_crystal("Mg")
    assert dft.kmesh_from_density(nb, 3.5) == 10  # ASE's kptdensity2monkhorstpack(..., 3.5, even=False): 10 10 10
    assert dft.kmesh_from_density(mg, 3.5) == (8, 8, 5)
    assert DftParameters(kmesh=(12, 12, 12)).kmesh == 12
    assert DftParameters(kmesh=(12, 12, 12)).hash(nb) == DftParameters(kmesh=12).hash(nb)  # cubic keys unchanged
    p = DftParameters(kmesh=(8, 8, 5))
    assert p.kmesh_size == (8, 8, 5) and p.kmesh_label == "8×8×5" and p.hash(mg) != DftParameters(kmesh=8).hash(mg)
    from nhm.bands.dft_gpaw import gpaw_parameters

    assert gpaw_parameters(p)["kpts"]["size"] == (8, 8, 5)
    with pytest.raises(InputError):
        DftParameters(kmesh=(8, 8))


# --- item 3: GPAW failures --------------------------------------------------------------------------------


def test_missing_paw_setup_is_refused_before_gpaw_runs(tmp_path):
    line = one_error_line(nhm(tmp_path, "analyze", "Po", "--kmesh", "2", "--ecut", "200", "--no-plot"))
    assert "no PAW dataset" in line and "Po" in line
    assert leftovers(tmp_path) == []


def test_unknown_functional_is_one_line_with_the_kept_log(tmp_path):
    r = nhm(tmp_path, "analyze", "Al", "--xc", "FOO", "--kmesh", "2", "--ecut", "200", "--no-plot")
    line = one_error_line(r)
    assert "exchange-correlation functional 'FOO'" in line and "; GPAW log: " in line
    log = Path(line.split("; GPAW log: ")[1])
    assert log.is_file() and log.parent == tmp_path / "cache" / "logs"
    assert leftovers(tmp_path) == []  # the worker's temporary directory is gone, its log kept


@pytest.mark.slow
def test_scf_not_converged_is_one_line_with_the_kept_log(tmp_path):
    r = nhm(tmp_path, "analyze", "Al", "--kmesh", "4", "--ecut", "300", "--maxiter", "2", "--no-plot")
    line = one_error_line(r)
    assert "SCF did not converge in 2 iterations" in line
    log = Path(line.split("; GPAW log: ")[1])
    assert "GPAW log (SCF)" in log.read_text() and leftovers(tmp_path) == []


@pytest.mark.slow
def test_gpaw_crash_is_one_line_with_a_hint_and_the_log(tmp_path):
    line = one_error_line(nhm(tmp_path, "analyze", "Al", "--kmesh", "2", "--ecut", "100", "--no-plot"))  # the lowest cutoff allowed
    assert "far too small (--ecut)" in line and "GPAW log: " in line
    assert "Traceback" in Path(line.split("; GPAW log: ")[1]).read_text()


def test_a_killed_worker_is_named_with_its_signal(tmp_path, monkeypatch):
    """A worker that dies without a word (the OOM killer): the signal, and the log kept."""
    monkeypatch.setenv("NHM_CACHE_DIR", str(tmp_path / "cache"))
    from nhm.bands.dft_worker import base_request

    real_popen = subprocess.Popen

    def popen(cmd, **kw):
        return real_popen([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"], **kw)

    monkeypatch.setattr(subprocess, "Popen", popen)
    req = {**base_request(read_crystal("Al"), DftParameters(kmesh=2)), "task": "scf"}
    with pytest.raises(NhmError, match=r"stopped \(killed by SIGKILL, out of memory\?\); GPAW log: "):
        dft._run_worker(req, None, "SCF")


# --- item 7: caches ---------------------------------------------------------------------------------------


def _fake_scf_worker(calls: list[str]):
    def worker(request, progress, stage):
        calls.append(request["task"])
        return {"fermi_level_eV": 11.0, "total_energy_eV": -10.0, "converged": True, "iterations": 3, "elapsed_s": 0.1,
                "gpw": b"GPAW restart file"}

    return worker


def test_unwritable_cache_warns_once_and_runs_uncached(tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(dft, "_run_worker", _fake_scf_worker(calls))
    (tmp_path / "afile").write_text("not a directory")
    cache_dir = tmp_path / "afile" / "cache"  # cannot be created, even by root
    nb = read_crystal("Nb")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r1 = dft.run_scf(nb, cache_dir=cache_dir)
        r2 = dft.run_scf(nb, cache_dir=cache_dir)
    msgs = [str(w.message) for w in caught if issubclass(w.category, CacheWarning)]
    assert len(msgs) == 1 and "cannot write the nhm cache directory" in msgs[0] and "--no-cache" in msgs[0]
    assert r1.fermi_level_eV == r2.fermi_level_eV == 11.0 and calls == ["scf", "scf"]  # computed, not lost


def test_cache_store_failure_is_a_warning_not_a_crash(tmp_path, monkeypatch):
    cache = BandCache(tmp_path / "c")

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    with pytest.warns(CacheWarning, match="No space left"):
        assert cache.store("ab" * 32, {"x": np.zeros(3)}) is None
    assert not list((tmp_path / "c").glob("*.npz")) and not list((tmp_path / "c").glob(".tmp-*"))


@pytest.mark.parametrize(
    "arrays,metadata",
    [
        ({"gpw": np.zeros(4)}, None),  # a float array where the restart file should be
        ({"other": np.zeros(4, dtype=np.uint8)}, None),  # the restart file missing
        ({"gpw": np.frombuffer(b"GPAW", dtype=np.uint8)}, {"fermi_level_eV": "nan"}),
    ],
)
def test_scf_entry_with_bad_content_is_evicted_and_recomputed(tmp_path, monkeypatch, arrays, metadata):
    calls: list[str] = []
    monkeypatch.setattr(dft, "_run_worker", _fake_scf_worker(calls))
    nb = read_crystal("Nb")
    params = DftParameters()
    key = params.hash(nb)
    meta = {"fermi_level_eV": 1.0, "total_energy_eV": 2.0, "converged": True, "iterations": 1, "elapsed_s": 1.0,
            "gpaw_version": "x", **(metadata or {})}
    cache = BandCache(tmp_path)
    cache.store(key, arrays, meta)
    with pytest.warns(CacheWarning, match="does not fit the request"):
        r = dft.run_scf(nb, params, cache_dir=tmp_path)
    assert calls == ["scf"] and not r.from_cache and r.gpw == b"GPAW restart file"
    again = dft.run_scf(nb, params, cache_dir=tmp_path)  # the recomputed entry replaced the bad one
    assert again.from_cache and calls == ["scf"]


def test_bloch_entry_of_the_wrong_shape_is_evicted():
    pts = [("GM", None, (0, 0, 0)), ("H", None, (0.5, -0.5, 0.5))]
    good = {"kpts": np.array([[0, 0, 0], [0.5, -0.5, 0.5]], dtype=float), "energies_eV": np.zeros((2, 5)),
            "g_0": np.zeros((3, 3), dtype=int), "c_0": np.zeros((5, 3), complex),
            "g_1": np.zeros((2, 3), dtype=int), "c_1": np.zeros((5, 2), complex)}
    dft._check_bloch_entry(CacheEntry("k", good, {"fermi_level_eV": 1.0}), pts, 5)
    for change in ({"energies_eV": np.zeros((2, 3))}, {"kpts": np.zeros((1, 3))}, {"c_1": np.zeros((5, 3), complex)}):
        with pytest.raises(ValueError):
            dft._check_bloch_entry(CacheEntry("k", {**good, **change}, {"fermi_level_eV": 1.0}), pts, 5)


def test_zone_entry_of_the_wrong_shape_is_evicted(tmp_path):
    from nhm.bands import dft_zone
    from nhm.groups.kpoints import points_of_symmetry

    points = points_of_symmetry(229)
    levels = {p.name: [[p.name, 0.0, f"{p.name}1", 1]] for p in points}
    meta = {"fermi_level_eV": 1.0, "labels": [[["GM1+"]]] * 4, "levels": levels}
    cache = BandCache(tmp_path)
    key = "cd" * 32
    cache.store(key, {"energies_eV": np.zeros((10, 7))}, meta)
    check = lambda e: dft_zone._check_entry(e, 10, 7, 4, points)  # noqa: E731
    assert cache.load(key, check=check) is not None
    wrong = lambda e: dft_zone._check_entry(e, 12, 7, 4, points)  # noqa: E731
    with pytest.warns(CacheWarning, match="does not fit"):
        assert cache.load(key, check=wrong) is None
    assert key not in cache  # removed: the next run recomputes and stores it


# --- item 7: signals ----------------------------------------------------------------------------------------


SIGNALLED = (
    "import signal, sys\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)  # a background parent may ignore SIGINT\n"
    "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
    "from nhm.cli import main\n"
    "main(sys.argv[1:])\n"
)


def _start_and_signal(tmp_path: Path, signum: int, args: list[str], wanted: int = 1, timeout: float = 120, **extra: str):
    env = env_for(tmp_path, **extra)
    p = subprocess.Popen([sys.executable, "-c", SIGNALLED, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + timeout
        while len(leftovers(tmp_path)) < wanted or len(workers_in(tmp_path / "tmp")) < wanted:
            assert p.poll() is None, p.communicate()
            assert time.monotonic() < deadline, "the GPAW worker never started"
            time.sleep(0.1)
        time.sleep(0.5)
        p.send_signal(signum)  # to nhm only, not to its process group: nhm must stop the workers itself
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    time.sleep(0.2)
    return p.returncode, err


@pytest.mark.parametrize("signum,status,word", [(signal.SIGTERM, 143, "terminated (SIGTERM)"), (signal.SIGINT, 130, "interrupted")])
def test_signal_during_the_scf_leaves_no_temporary_directory_and_no_worker(tmp_path, signum, status, word):
    rc, err = _start_and_signal(tmp_path, signum, ["analyze", "Al", "--kmesh", "6", "--ecut", "400", "--no-cache", "--no-plot"])
    assert rc == status, err
    assert lines(err) == [f"nhm: {word}"]
    assert leftovers(tmp_path) == [] and workers_in(tmp_path / "tmp") == []
    assert not (tmp_path / "cache" / "logs").exists()  # a stopped run is not a GPAW failure


@pytest.mark.slow
def test_sigterm_during_the_parallel_zone_run_stops_every_worker(tmp_path):
    """The zone stage runs GPAW chunks in threads; SIGTERM must kill all of them and remove their directories."""
    args = ["analyze", "Al", "--kmesh", "4", "--ecut", "300", "--no-plot", "--mesh", "16", "--spacing", "0.02"]
    r = nhm(tmp_path, "analyze", "Al", "--kmesh", "4", "--ecut", "300", "--no-plot", "--mesh", "4", "--spacing", "0.5")
    assert r.returncode == 0, r.stderr  # the SCF is now cached: the next run goes straight to the zone stage
    wanted = min(2, os.cpu_count() or 1)
    # the suite's workers run one GPAW process each (tests/conftest.py); here the zone stage takes both cores again
    rc, err = _start_and_signal(tmp_path, signal.SIGTERM, args, wanted=wanted, NHM_ZONE_WORKERS=str(wanted))
    assert rc == 143 and lines(err)[-1] == "nhm: terminated (SIGTERM)", err
    assert leftovers(tmp_path) == [] and workers_in(tmp_path / "tmp") == []


@pytest.mark.slow
def test_unwritable_cache_through_the_cli(tmp_path):
    (tmp_path / "afile").write_text("x")
    r = nhm(tmp_path, "analyze", "Al", "--kmesh", "2", "--ecut", "200", "--mesh", "4", "--spacing", "0.5", "--no-plot",
            "--json", "-", NHM_CACHE_DIR=str(tmp_path / "afile" / "cache"))
    assert r.returncode == 0, r.stderr
    warned = [line for line in lines(r.stderr) if line.startswith("nhm: warning: ")]
    assert len(warned) == 1 and "cannot write the nhm cache directory" in warned[0]
    assert json.loads(r.stdout)["space_group"] == 225


# --- item 7: outputs all or nothing --------------------------------------------------------------------------


def test_all_or_nothing_writes_nothing_when_the_block_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with all_or_nothing():
            write_atomically(tmp_path / "a.json", b"a")
            raise RuntimeError("the figure failed")
    assert list(tmp_path.iterdir()) == []


def test_all_or_nothing_takes_back_new_files_when_a_rename_fails(tmp_path, monkeypatch):
    (tmp_path / "old.json").write_bytes(b"old")
    real = os.replace
    n = {"calls": 0}

    def flaky(src, dst):
        n["calls"] += 1
        if n["calls"] == 2:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(InputError, match="No space left"):
        with all_or_nothing():
            write_atomically(tmp_path / "new.png", b"png")
            write_atomically(tmp_path / "old.json", b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json"] and (tmp_path / "old.json").read_bytes() == b"old"


def test_kspace_refuses_a_figure_target_before_the_work_and_writes_nothing(tmp_path):
    (tmp_path / "out" / "kspace_fermi_surface.html").mkdir(parents=True)
    start = time.monotonic()
    r = nhm(tmp_path, "kspace", BCC, "--mesh", "8", "--plot", str(tmp_path / "out"), "--json", str(tmp_path / "ok.json"))
    assert "kspace_fermi_surface.html: it is a directory" in one_error_line(r)
    assert time.monotonic() - start < 30
    assert not (tmp_path / "ok.json").exists() and [p.name for p in (tmp_path / "out").iterdir()] == ["kspace_fermi_surface.html"]


def test_manybody_refuses_a_figure_target_and_writes_nothing(tmp_path):
    (tmp_path / "out" / "spin_axes.svg").mkdir(parents=True)
    r = nhm(tmp_path, "manybody", "--sites", "2", "--plot", str(tmp_path / "out"), "--json", str(tmp_path / "ok.json"))
    assert "spin_axes.svg: it is a directory" in one_error_line(r)
    assert not (tmp_path / "ok.json").exists() and [p.name for p in (tmp_path / "out").iterdir()] == ["spin_axes.svg"]


def test_kspace_and_manybody_write_the_whole_set(tmp_path):
    r = nhm(tmp_path, "kspace", BCC, "--mesh", "8", "--plot", "k", "--json", "k.json")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == sorted(
        ["kspace_plane.png", "kspace_plane.svg", "kspace_symmetry_related.png", "kspace_symmetry_related.svg",
         "kspace_p3_symmetry_related.png", "kspace_p3_symmetry_related.svg", "kspace_fermi_surface.html"])
    assert json.loads((tmp_path / "k.json").read_text())["mesh"] == 8
    r = nhm(tmp_path, "manybody", "--sites", "2", "--plot", "m", "--json", "-")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["sites"] == 2 and sorted(p.name for p in (tmp_path / "m").iterdir()) == ["spin_axes.png", "spin_axes.svg"]


@pytest.mark.slow
def test_closed_shell_insulator_gets_empty_bands_and_a_finite_fermi_level(tmp_path):
    """GPAW's default band count for Ne stops at the filled 2s2p bands (E_F = inf); nhm runs again with empty bands."""
    from ase.build import bulk

    from nhm.bands.dft import DftParameters, run_scf

    scf = run_scf(bulk("Ne"), DftParameters(kmesh=2, mode_ecut_eV=250), cache_dir=tmp_path / "cache")
    assert np.isfinite(scf.fermi_level_eV)
    assert -11.5 < scf.fermi_level_eV < 5  # above the 2p band (about -11 eV on GPAW's scale), below the continuum
