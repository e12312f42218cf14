"""Hardening: safe output targets, one-line usage errors, Ctrl-C, absurd numbers, the k-mesh memory guard,
and pure JSON on stdout."""

from __future__ import annotations

import json
import math
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nhm.atomic import check_writable, check_writable_dir, save_figure_atomically, write_atomically
from nhm.errors import InputError
from nhm.validate import finite, nonnegative_finite, nonzero_finite, positive_finite, positive_int

BCC = "bcc:GM1+,H1+,P1,N2+"


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nhm.cli", *args], capture_output=True, text=True, timeout=timeout)


def one_error_line(r: subprocess.CompletedProcess) -> str:
    """The single stderr line of a refused run (exit 2, no traceback)."""
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("nhm: error: ")
    return lines[0]


class FifoReader:
    """Reads a FIFO in a thread (whatever is written to it), and never leaves the thread blocked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as f:
            self.data = f.read()

    def result(self, timeout: float = 60) -> bytes:
        self.thread.join(timeout)
        if self.thread.is_alive():  # nobody wrote: open the write end ourselves so that the reader sees EOF
            os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
            self.thread.join(10)
        return self.data


# --- 1. output targets (nhm.atomic) ---------------------------------------------------------------


def test_regular_file_replaced_atomically_keeping_its_mode(tmp_path):
    p = tmp_path / "out.json"
    write_atomically(p, b"one")
    assert p.read_bytes() == b"one"
    p.chmod(0o600)
    write_atomically(p, b"two")
    assert p.read_bytes() == b"two" and stat.S_IMODE(p.stat().st_mode) == 0o600
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out.json"]  # no temporary file left


def test_new_file_in_new_directories(tmp_path):
    p = tmp_path / "a" / "b" / "out.json"
    check_writable(p)
    write_atomically(p, b"x")
    assert p.read_bytes() == b"x"


def test_symlink_to_regular_file_keeps_the_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomically(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "sub" / "target.json")
    write_atomically(link, b"x")
    assert link.is_symlink() and (tmp_path / "sub" / "target.json").read_bytes() == b"x"


def test_directory_is_refused(tmp_path):
    d = tmp_path / "adir"
    d.mkdir()
    for f in (check_writable, lambda p: write_atomically(p, b"x")):
        with pytest.raises(InputError, match="it is a directory"):
            f(d)
    assert d.is_dir() and not any(d.iterdir())


def test_parent_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "afile").write_text("keep")
    with pytest.raises(InputError, match="Not a directory|not a directory"):
        write_atomically(tmp_path / "afile" / "x.json", b"x")
    assert (tmp_path / "afile").read_text() == "keep"


def test_fifo_is_streamed_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    check_writable(fifo)
    reader = FifoReader(fifo)
    write_atomically(fifo, b"streamed")
    assert reader.result() == b"streamed"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["pipe"]


def test_dash_is_stdout(capsysbinary):
    write_atomically("-", b'{"a": 1}\n')
    assert capsysbinary.readouterr().out == b'{"a": 1}\n'


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    p = tmp_path / "out.json"
    p.write_bytes(b"old")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(InputError, match="No space left"):
        write_atomically(p, b"new")
    assert p.read_bytes() == b"old" and sorted(x.name for x in tmp_path.iterdir()) == ["out.json"]


def test_check_writable_dir(tmp_path):
    check_writable_dir(tmp_path)
    check_writable_dir(tmp_path / "new" / "figures")
    (tmp_path / "afile").write_text("")
    with pytest.raises(InputError, match="not a directory"):
        check_writable_dir(tmp_path / "afile")


def test_save_figure_atomically(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    p = save_figure_atomically(fig, tmp_path / "f.png", dpi=50)
    plt.close(fig)
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- 1b. the same through the CLI, refused before the work starts ----------------------------------


def test_cli_json_to_a_directory_is_refused_before_the_diagonalization(tmp_path):
    start = time.monotonic()
    r = run("manybody", "--sites", "12", "--json", str(tmp_path))  # 12 sites take minutes
    assert "it is a directory" in one_error_line(r)
    assert time.monotonic() - start < 60


def test_cli_plot_into_a_file_is_refused(tmp_path):
    f = tmp_path / "afile"
    f.write_text("keep")
    r = run("kspace", BCC, "--mesh", "8", "--plot", str(f))
    assert "not a directory" in one_error_line(r)
    assert f.read_text() == "keep"


def test_cli_json_into_a_fifo_and_through_a_symlink(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    r = run("manybody", "--sites", "2", "--json", str(fifo))
    assert r.returncode == 0, r.stderr
    assert json.loads(reader.result())["sites"] == 2
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    r = run("manybody", "--sites", "2", "--json", str(link))
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and json.loads(real.read_text())["sites"] == 2


# --- 2. usage errors, Ctrl-C, bugs ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,needle",
    [
        (("group",), "Missing argument"),
        (("group", "229", "--bogus"), "No such option: --bogus"),
        (("frobnicate",), "No such command 'frobnicate'"),
        (("classify", "--group", "229", "--wyckoff", "2a"), "Missing option '--band'"),
        (("kspace", BCC, "--mesh", "abc"), "--mesh"),
        (("manybody", "--U", "abc"), "--U"),
        (("irreps", "229", "GM", "--convention", "xyz"), "--convention"),
    ],
)
def test_usage_error_is_one_line_and_exit_2(args, needle):
    assert needle in one_error_line(run(*args))


def test_help_exits_0_and_bare_nhm_prints_help():
    r = run("--help")
    assert r.returncode == 0 and "Usage" in r.stdout
    r = run("group", "--help")
    assert r.returncode == 0 and "space_group" in r.stdout.lower()
    r = run()
    assert r.returncode == 2 and "Usage" in r.stdout + r.stderr and "Traceback" not in r.stderr


def _main_with(patch: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``nhm.cli.main`` in a child after ``patch`` (Python) made check_space_group_number misbehave."""
    code = (
        "import sys, nhm.crystal.setting as s\n"
        f"{patch}\n"
        "from nhm.cli import main\n"
        f"main({list(args)!r})\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_keyboard_interrupt_anywhere_exits_130():
    r = _main_with("def f(*a):\n    raise KeyboardInterrupt\ns.check_space_group_number = f", "group", "229")
    assert r.returncode == 130 and r.stderr.strip() == "nhm: interrupted" and r.stdout == ""


def test_a_bug_keeps_its_traceback_and_exits_1():
    r = _main_with("def f(*a):\n    raise RuntimeError('a bug')\ns.check_space_group_number = f", "group", "229")
    assert r.returncode == 1 and "Traceback" in r.stderr and "RuntimeError: a bug" in r.stderr


def test_sigint_during_a_long_run_exits_130():
    """A real Ctrl-C (SIGINT) while the exact diagonalization of 12 sites runs (it takes minutes)."""
    code = (
        "import signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)  # a background parent may ignore SIGINT\n"
        "from nhm.cli import main\n"
        "print('ready', file=sys.stderr, flush=True)\n"
        "main(['manybody', '--sites', '12'])\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stderr.readline().strip() == "ready"
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 130, err
    assert err.strip() == "nhm: interrupted" and "Traceback" not in err


# --- 3. absurd numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,needle",
    [
        (("kspace", BCC, "--mesh", "0"), "--mesh must be a positive integer"),
        (("kspace", BCC, "--mesh", "-3"), "--mesh must be a positive integer"),
        (("kspace", BCC, "--max-memory", "nan"), "--max-memory must be a finite number"),
        (("kspace", BCC, "--max-memory", "0"), "--max-memory must be positive"),
        (("kspace", BCC, "--mode", "weird"), "--mode"),
        (("kspace", BCC, "--kmesh", "8"), "is a model band, which has none"),
        (("kspace", "tb:bcc-sd", "--ecut", "400"), "is a tight-binding band, which has none"),
        (("kspace", "Nb", "--kmesh", "1"), "--kmesh is also the zone mesh"),
        (("kspace", "Nb", "--ecut", "50"), "--ecut 50 eV is below the limit"),
        (("manybody", "--sites", "0"), "--sites must be a positive integer"),
        (("manybody", "--U", "nan"), "--U must be a finite number"),
        (("manybody", "--t", "0"), "--t must not be zero"),
        (("manybody", "--t", "inf"), "--t must be a finite number"),
        (("manybody", "--strength", "-inf"), "--strength must be a finite number"),
        (("manybody", "--interaction", "gaussian", "--alpha", "1e-6"), "--alpha must be at least"),
        (("manybody", "--interaction", "gaussian", "--coulomb", "-1"), "--coulomb must not be negative"),
        (("manybody", "--sites", "12", "--selection", "--selection-sites", "0"), "--selection-sites must be a positive integer"),
        (("classify", "--group", "229", "--wyckoff", "2a", "--band", "GM:GM1+ H:H1+ P:P1 N:N2+", "--wfs-per-atom", "0"),
         "--wfs-per-atom must be a positive integer"),
    ],
)
def test_absurd_number_is_refused_up_front(args, needle):
    r = run(*args, timeout=60)  # before any long work (12 sites would take minutes)
    assert needle in one_error_line(r) and r.stdout == ""


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_validators(x):
    checks = {
        finite: math.isfinite(x),
        positive_finite: math.isfinite(x) and x > 0,
        nonnegative_finite: math.isfinite(x) and x >= 0,
        nonzero_finite: math.isfinite(x) and x != 0,
    }
    for check, ok in checks.items():
        if ok:
            assert check("--x", x) == x
        else:
            with pytest.raises(InputError) as info:
                check("--x", x)
            msg = str(info.value)
            assert msg.startswith("--x ") and "\n" not in msg


@given(st.integers())
def test_positive_int(n):
    if n >= 1:
        assert positive_int("--n", n) == n
    else:
        with pytest.raises(InputError, match="--n must be a positive integer"):
            positive_int("--n", n)


@pytest.mark.parametrize("value", [True, 2.0, "3", None])
def test_validators_refuse_non_numbers(value):
    with pytest.raises(InputError):
        positive_int("--n", value)
    if not isinstance(value, float):
        with pytest.raises(InputError):
            finite("--x", value)


# --- 4. memory guard ------------------------------------------------------------------------------------


def test_huge_mesh_is_refused_quickly_with_the_estimate():
    start = time.monotonic()
    line = one_error_line(run("kspace", BCC, "--mesh", "400", timeout=120))
    assert time.monotonic() - start < 60
    assert "GiB" in line and "400³" in line and "--max-memory" in line


def test_memory_estimate_scales_and_the_limit_can_be_raised():
    from nhm.cli.kspace import check_memory
    from nhm.kspace.resources import GIB, kspace_memory_bytes

    small, large = kspace_memory_bytes(229, 16), kspace_memory_bytes(229, 400)
    assert small < 0.5 * GIB and 100 * GIB < large < 1000 * GIB
    assert kspace_memory_bytes(229, 64, orbitals=6) > kspace_memory_bytes(229, 64)
    check_memory(229, 16, 8.0)
    check_memory(229, 400, 1e4)  # --max-memory raises the limit
    with pytest.raises(InputError, match="GiB"):
        check_memory(229, 400, 8.0)


# --- 5. pure JSON on stdout -------------------------------------------------------------------------------


def test_kspace_json_to_stdout_is_pure_json():
    r = run("kspace", BCC, "--mesh", "8", "--json", "-")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["space_group"] == 229 and data["mesh"] == 8
    assert "k-space magnetism" in r.stderr  # the tables went to stderr


def test_manybody_json_to_stdout_is_pure_json():
    r = run("manybody", "--sites", "2", "--json", "-")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["sites"] == 2


# --- 6. start-up: group theory imports no structure readers, DFT, figures or other commands -------------------


def test_group_command_imports_nothing_heavy():
    """``nhm group 229`` loads only its own command module (benchmarks/bench_startup.py times it)."""
    code = (
        "import sys\n"
        "from nhm.cli import main\n"
        "try:\n"
        "    main(['group', '229', '--json'])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "heavy = ('ase', 'matplotlib', 'scipy', 'gpaw', 'nhm.bands.dft', 'nhm.cli.kspace', 'nhm.cli.manybody',\n"
        "         'nhm.cli.analyze', 'nhm.kspace', 'nhm.manybody', 'nhm.report')\n"
        "print(' '.join(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["space_group"] == 229
    assert r.stderr.strip() == ""


def test_python_m_nhm_cli_and_the_whole_app():
    from nhm.cli import COMMANDS, app

    assert [c.name for c in app.registered_commands] == list(COMMANDS)
    r = run("--help")
    assert r.returncode == 0 and all(name in r.stdout for name in COMMANDS)
    r = run("group", "229", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["space_group"] == 229
