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
