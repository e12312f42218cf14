"""Fuzzing the command line (issue 13, acceptance): structure files (random bytes, truncated and mangled
CIFs, extreme cells) and option values. Every case ends with exit status 0 or 2, never a traceback; the
GPAW worker is replaced by a tripwire, so a case that passes every check ends there instead of in a DFT run.
Driven in-process through :func:`nhm.entrypoint.run` (the CLI's own error handling)."""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
from pathlib import Path

import ase
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nhm.cli import build_app
from nhm.crystal import read_crystal
from nhm.entrypoint import run
from nhm.errors import InputError

from test_honest_structures import MGB2_P1, MIXED

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class DftStarted(Exception):
    """Raised by the tripwire that replaces the GPAW worker: every check passed."""


@pytest.fixture
def no_dft(monkeypatch):
    from nhm.bands import dft

    def tripwire(*args, **kwargs):
        raise DftStarted

    monkeypatch.setattr(dft, "_run_worker", tripwire)


def nhm(*args: str) -> tuple[int | None, str]:
    """(exit status, stderr) of the CLI in-process; None if the DFT would have started."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            status = run(build_app([args[0]]), list(args))
        except DftStarted:
            status = None
    return status, err.getvalue()


def clean(status: int | None, err: str) -> None:
    assert status in (0, 2, None), (status, err)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("nhm: error:")]
    assert len(errors) == (1 if status == 2 else 0), err
    assert all(line.startswith(("nhm: error:", "nhm: warning:")) for line in lines), err


def _mangle(text: str, data: st.DataObject) -> str:
    how = data.draw(st.sampled_from(["truncate", "delete", "insert", "number"]))
    i = data.draw(st.integers(0, len(text)))
    if how == "truncate":
        return text[:i]
    if how == "delete":
        return text[:i] + text[i + data.draw(st.integers(1, 40)):]
    if how == "insert":
        return text[:i] + data.draw(st.text(max_size=20)) + text[i:]
    number = data.draw(st.sampled_from(["nan", "inf", "-1", "0", "1e300", "0.5", "-0.3333", "1e-12"]))
    return text.replace("3.0864", number, 1) if data.draw(st.booleans()) else text.replace("0.6667", number, 1)


@FUZZ
@given(data=st.data())
def test_mangled_cifs_are_read_or_refused(data):
    text = _mangle(data.draw(st.sampled_from([MGB2_P1, MIXED])), data)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.cif"
        path.write_text(text)
        try:
            read_crystal(path)
        except InputError as exc:
            assert "\n" not in str(exc).strip() or str(exc).count("\n") < 3
        clean(*nhm("classify", "--structure", str(path), "--wyckoff", "1a", "--band", "GM:GM1+"))


@FUZZ
@given(blob=st.binary(max_size=400), suffix=st.sampled_from([".cif", ".vasp", "POSCAR", ".xyz", ".json", ".traj", ""]))
def test_random_bytes_are_refused_in_one_line(blob, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"s{suffix}"
        path.write_bytes(blob)
        status, err = nhm("classify", "--structure", str(path), "--wyckoff", "1a", "--band", "GM:GM1+")
        clean(status, err)


@FUZZ
@given(
    lengths=st.lists(st.floats(1e-4, 1e4), min_size=3, max_size=3),
    angles=st.lists(st.floats(1.0, 179.0), min_size=3, max_size=3),
    frac=st.lists(st.lists(st.floats(-2, 2), min_size=3, max_size=3), min_size=1, max_size=4),
    z=st.integers(1, 100),
)
def test_extreme_cells_give_a_crystal_or_an_input_error(lengths, angles, frac, z):
    try:
        atoms = ase.Atoms(numbers=[z] * len(frac), cell=[*lengths, *angles], scaled_positions=frac, pbc=True)
    except Exception:
        return  # ASE refuses the cell itself (angles that do not close)
    if not np.all(np.isfinite(atoms.cell[:])):
        return
    try:
        c = read_crystal(atoms)
    except InputError:
        return
    assert 1 <= c.space_group <= 230


@FUZZ
@given(
    option=st.sampled_from(["--window", "--spacing", "--ecut", "--smearing", "--symprec", "--a", "--kdensity", "--fermi",
                            "--filling-min", "--width-factor", "--emin"]),
    value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["x", "", "1e999", "-0"])),
)
def test_analyze_float_options(no_dft, option, value):
    text = value if isinstance(value, str) else repr(value)
    clean(*nhm("analyze", "Al", "--no-plot", "--kmesh", "2", "--no-cache", option, text))


@FUZZ
@given(
    option=st.sampled_from(["--kmesh", "--mesh", "--maxiter", "--top", "--candidates", "--nbands"]),
    value=st.one_of(st.integers(-10**6, 10**6), st.sampled_from(["1.5", "x", "9" * 30])),
)
def test_analyze_integer_options(no_dft, option, value):
    clean(*nhm("analyze", "Al", "--no-plot", "--no-cache", option, str(value)))


@FUZZ
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5)))
def test_kspace_and_manybody_numbers(value):
    text = repr(value)
    clean(*nhm("kspace", "bcc:GM1+,H1+,P1,N2+", "--max-memory", text, "--mesh", "4"))
    if not (isinstance(value, float) and math.isfinite(value) and abs(value) < 1e6):
        clean(*nhm("manybody", "--sites", "2", "--U", text))


# --- issue 21: the numeric options of every command -------------------------------------------------------------
# exit 0 or 2 only, no traceback, no hang (watchdogs of HANG_S CPU seconds and BLOCKED_S wall seconds), and strict JSON on stdout when asked.

HANG_S = 30  # CPU seconds: runaway work, whatever else the machine runs (the suite runs on every core)
BLOCKED_S = 120  # wall seconds: a command that waits on something (a FIFO, a lock) without working
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**6, 10**6),
    st.sampled_from(["0", "-0", "1e308", "-1e308", "1e-300", "99999999999999999999", "1.5", "x", "", "nan", "inf"]),
)


class Hang(BaseException):
    """Raised by the watchdogs: the command worked HANG_S CPU seconds, or waited BLOCKED_S seconds."""


def _watchdog(signum, frame):
    import signal

    raise Hang(f"no answer within {HANG_S} s of CPU" if signum == signal.SIGPROF else f"blocked for {BLOCKED_S} s")


def nhm_out(*args: str) -> tuple[int | None, str, str]:
    """(exit status, stdout, stderr) of the CLI in-process, within HANG_S CPU seconds (a wall-clock limit would
    measure the machine's load, not the command) and BLOCKED_S seconds; None if the DFT would start."""
    import signal

    out, err = io.StringIO(), io.StringIO()
    previous = {sig: signal.signal(sig, _watchdog) for sig in (signal.SIGPROF, signal.SIGALRM)}
    signal.setitimer(signal.ITIMER_PROF, HANG_S)
    signal.alarm(BLOCKED_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = run(build_app([args[0]]), list(args))
            except DftStarted:
                status = None
    except Hang as hang:
        raise Hang(f"{hang}: nhm {' '.join(args)}") from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.alarm(0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status, out.getvalue(), err.getvalue()


def strict_json(text: str) -> None:
    """``text`` is one strict JSON document (RFC 8259: no NaN, Infinity)."""
    import json

    def refuse(constant):
        raise AssertionError(f"non-strict JSON constant {constant} on stdout")

    json.loads(text, parse_constant=refuse)


def _text(value) -> str:
    return value if isinstance(value, str) else repr(value)


def check(*args: str) -> None:
    """Exit 0 (strict JSON on stdout; the tables of ``--json -`` go to stderr), 2 (one line), or the DFT tripwire."""
    status, out, err = nhm_out(*args)
    assert status in (0, 2, None), (status, err[-3000:])
    assert "Traceback" not in err
    if status == 2:
        clean(status, err)
    if status == 0:
        strict_json(out)


@FUZZ
@given(value=NUMBERS, command=st.sampled_from(["group", "irreps", "ebr"]))
def test_group_theory_numbers(value, command):
    extra = {"group": (), "irreps": ("GM",), "ebr": ()}[command]
    json_flag = ("--json",)
    check(command, _text(value), *extra, *json_flag)


@FUZZ
@given(option=st.sampled_from(["--wfs-per-atom", "--symprec", "--group"]), value=NUMBERS)
def test_classify_numbers(option, value):
    base = ("--structure", "Al") if option != "--group" else ()
    check("classify", *base, "--wyckoff", "4a" if option != "--group" else "2a", "--band", "GM:GM1+ L:L1+ W:W1 X:X1+",
          option, _text(value), "--json")


@FUZZ
@given(
    option=st.sampled_from(["--window", "--spacing", "--ecut", "--smearing", "--symprec", "--a", "--kdensity", "--emin", "--emax",
                            "--filling-min", "--filling-max", "--width-factor", "--kmesh", "--mesh", "--maxiter", "--top",
                            "--candidates"]),
    value=NUMBERS,
)
def test_analyze_numbers_are_checked_before_any_work(no_dft, option, value, tmp_path_factory):
    out = tmp_path_factory.mktemp("analyze")
    check("analyze", "Al", "--no-cache", "--plot", str(out / "fig"), "--json", "-", option, _text(value))


# meshes from 10 to the memory guard's limit are legitimate runs of a minute or more: not what a fuzz is for
MESHES = st.one_of(st.integers(-10, 8), st.integers(10**4, 10**30), st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from(["x", "", "1e308"]))


@FUZZ
@given(option=st.sampled_from(["--mesh", "--window", "--candidate", "--max-memory", "--symprec", "--kmesh", "--ecut"]), data=st.data())
def test_kspace_numbers(option, data):
    value = data.draw(MESHES if option == "--mesh" else NUMBERS)
    check("kspace", "bcc:GM1+,H1+,P1,N2+", "--json", "-", *(() if option == "--mesh" else ("--mesh", "4")), option, _text(value))


def _integral(text: str) -> int | None:
    """The integer a number option reads from ``text`` (``16``, ``16.0``, ``+16``), or None."""
    try:
        x = float(text)
    except ValueError:
        return None
    return int(x) if math.isfinite(x) and x == int(x) else None


@FUZZ
@given(
    option=st.sampled_from(["--sites", "--electrons", "--U", "--t", "--t2", "--V", "--J", "--P", "--alpha", "--coulomb",
                            "--strength", "--selection-sites", "--values"]),
    value=st.one_of(NUMBERS, st.sampled_from(["2", "1,2", "1,2,3,4,5", "0.5,1e308"])),
)
def test_manybody_numbers(option, value):
    text = _text(value)
    if option == "--sites" and _integral(text) in range(4, 17):
        text = "17"  # 4–16 sites are legitimate, the larger ones take minutes (16.0 reads as 16): not a fuzz; 17 is refused
    extra = {"--alpha": ("--interaction", "gaussian"), "--coulomb": ("--interaction", "gaussian"),
             "--selection-sites": ("--selection",), "--values": ("--scan", "U")}.get(option, ())
    sites = () if option == "--sites" else ("--sites", "2")
    check("manybody", *sites, *extra, option, text, "--json", "-")


@FUZZ
@given(
    option=st.sampled_from(["--workers", "--timeout", "--kmesh", "--ecut", "--smearing", "--spacing", "--mesh", "--window",
                            "--filling-min", "--filling-max", "--width-factor"]),
    value=NUMBERS,
)
def test_screen_numbers(option, value, tmp_path_factory):
    db = tmp_path_factory.mktemp("screen") / "s.db"
    check("screen", "Al", "--dry-run", "--db", str(db), "--json", "-", option, _text(value))


ENERGIES = st.one_of(st.floats(-1e5, 1e5), st.sampled_from([0.0, 1e-7, -1e-7, 1e4, -1e4, 1e6, 1e-300]))


@FUZZ
@given(t=ENERGIES, U=ENERGIES, t2=ENERGIES, V=ENERGIES)
def test_manybody_energies_together(t, U, t2, V):
    """The ratios matter (energies are in units of t): every combination runs or is refused, strict JSON either way."""
    check("manybody", "--sites", "2", "--t", repr(t), "--U", repr(U), "--t2", repr(t2), "--V", repr(V), "--json", "-")


@FUZZ
@given(ecut=st.floats(50, 4000), smearing=st.floats(1e-5, 3), kmesh=st.integers(1, 130), mesh=st.integers(1, 140),
       spacing=st.floats(1e-4, 2))
def test_analyze_sizes_together(no_dft, ecut, smearing, kmesh, mesh, spacing):
    """Sizes that pass one by one are still refused together when the run would not fit (the memory estimate)."""
    check("analyze", "Al", "--no-cache", "--no-plot", "--json", "-", "--ecut", repr(ecut), "--smearing", repr(smearing),
          "--kmesh", str(kmesh), "--mesh", str(mesh), "--spacing", repr(spacing))
