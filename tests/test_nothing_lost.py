"""Issue 21, "Nothing lost, nothing hangs": every example of the issue as a subprocess test, grouped by class —
outputs over inputs, hangs and runaway work, input silently computed as something else, tracebacks (the
screen's database, absurd numbers, manybody, long names, the cache), and leftovers of a screen stopped by a
signal. Each refusal is one line ``nhm: error: ...``, exit 2, quickly, before any DFT work (the GPAW worker
is a tripwire), and leaves every file as it was."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from nhm.atomic import check_outputs
from nhm.errors import InputError

from test_screen import postgres_url  # noqa: F401 - a PostgreSQL server of the test's own (skipped if not installed)

BCC = "bcc:GM1+,H1+,P1,N2+"
NO_DFT = (  # main() with the GPAW worker replaced by a tripwire: a refusal must come before it
    "import sys\n"
    "import nhm.bands.dft as d\n"
    "def tripwire(*a, **k):\n"
    "    print('DFT STARTED', file=sys.stderr); sys.exit(99)\n"
    "d._run_worker = tripwire\n"
    "from nhm.cli import main\n"
    "main(sys.argv[1:])\n"
)
QUICK = 30  # seconds: every refusal below comes long before this (no DFT, no cluster)

AL_CIF = """data_Al
_cell_length_a       4.05
_cell_length_b       4.05
_cell_length_c       4.05
_cell_angle_alpha    90.0
_cell_angle_beta     90.0
_cell_angle_gamma    90.0
_space_group_name_H-M_alt    "P 1"
_space_group_IT_number       1
loop_
  _space_group_symop_operation_xyz
  'x, y, z'
loop_
  _atom_site_type_symbol
  _atom_site_label
  _atom_site_fract_x
  _atom_site_fract_y
  _atom_site_fract_z
  _atom_site_occupancy
  Al  Al1  0.0  0.0  0.0  1.0
  Al  Al2  0.0  0.5  0.5  1.0
  Al  Al3  0.5  0.0  0.5  1.0
  Al  Al4  0.5  0.5  0.0  1.0
"""
FCC_BAND = "GM:GM1+ L:L1+ W:W1 X:X1+"


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "NHM_CACHE_DIR": str(tmp_path / "cache"), "TMPDIR": str(tmp), **extra}


def nhm(tmp_path: Path, *args: str, timeout: float = QUICK, **env: str) -> subprocess.CompletedProcess:
    """The CLI in a child (GPAW replaced by a tripwire), in ``tmp_path``, within ``timeout`` seconds."""
    return subprocess.run([sys.executable, "-c", NO_DFT, *args], capture_output=True, text=True, timeout=timeout,
                          env=env_for(tmp_path, **env), cwd=tmp_path)


def refused(r: subprocess.CompletedProcess, *needles: str) -> str:
    """The one stderr line of a run refused with exit 2 (no traceback, no DFT), containing every needle."""
    assert "DFT STARTED" not in r.stderr
    assert r.returncode == 2, (r.returncode, r.stderr[-3000:])
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("nhm: error: "), r.stderr[-3000:]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def ase_db(path: Path) -> Path:
    import ase.db
    from ase.build import bulk

    ase.db.connect(str(path), type="db").write(bulk("Al"), key_value_pairs={"name": "Al", "params_hash": "x", "status": "ok"})
    return path


# --- A. outputs never overwrite inputs --------------------------------------------------------------------------


def test_json_onto_the_structure_file_is_refused_and_the_file_kept(tmp_path):
    cif = write(tmp_path / "Al.cif", AL_CIF)
    refused(nhm(tmp_path, "analyze", "Al.cif", "--no-plot", "--json", "Al.cif"), "it is the structure file Al.cif")
    link = tmp_path / "link.json"
    link.symlink_to(cif)
    os.link(cif, tmp_path / "hard.json")
    for target in ("link.json", "hard.json", "./sub/../Al.cif"):  # through a symlink, a hard link, ..
        (tmp_path / "sub").mkdir(exist_ok=True)
        refused(nhm(tmp_path, "analyze", "Al.cif", "--no-plot", "--json", target), "an output never replaces an input")
    refused(nhm(tmp_path, "kspace", "Al.cif", "--json", "Al.cif"), "structure file")
    assert cif.read_text() == AL_CIF


def test_report_json_onto_the_database_is_refused_and_every_row_kept(tmp_path):
    db = ase_db(tmp_path / "s.db")
    before = db.read_bytes()
    refused(nhm(tmp_path, "screen", "--report", "--db", "s.db", "--json", "s.db"), "it is the database --db s.db")
    refused(nhm(tmp_path, "screen", "Al", "--db", "s.db", "--json", "s.db", "--dry-run"), "database")
    refused(nhm(tmp_path, "screen", "--report", "--db", "out/screen-results.csv", "--out", "out"), "database")
    assert db.read_bytes() == before


def test_json_onto_a_figure_of_the_same_run_is_refused_before_any_work(tmp_path):
    refused(nhm(tmp_path, "analyze", "Al", "--plot", "fig", "--json", "fig/Al-225-bands.png"),
            "fig/Al-225-bands.png of --plot and --json fig/Al-225-bands.png are the same file")
    refused(nhm(tmp_path, "kspace", BCC, "--plot", "fig", "--json", "fig/kspace_plane.svg"), "same file")
    refused(nhm(tmp_path, "manybody", "--sites", "2", "--plot", "fig", "--json", "fig/spin_axes.png"), "same file")
    refused(nhm(tmp_path, "screen", "--report", "--db", "s.db", "--out", "out", "--json", "out/screen-report.json"), "same file")
    assert not (tmp_path / "fig").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [("analyze", "Al"), ("kspace", BCC), ("manybody", "--sites", "2"), ("screen", "--report")])
@pytest.mark.parametrize("option,what", [("--json", "names no file"), ("--plot", "names no directory")])
def test_empty_output_names_are_refused_not_ignored(tmp_path, command, option, what):
    if command[0] == "screen" and option == "--plot":
        option = "--out"
    refused(nhm(tmp_path, *command, option, ""), f"{option} '' {what}")


def test_check_outputs_unit(tmp_path):
    src = write(tmp_path / "in.cif", "x")
    check_outputs(files={"--json": "-"}, directories={"--plot": (tmp_path / "fig", ["a.png"])}, inputs={"the structure": src})
    check_outputs(files={"--json": "/dev/null"}, inputs={"the structure": "/dev/null"})  # devices replace nothing
    with pytest.raises(InputError, match="an output never replaces an input"):
        check_outputs(files={"--json": tmp_path / "x" / ".." / "in.cif"}, inputs={"the structure file": src})
    with pytest.raises(InputError, match="same file"):
        check_outputs(files={"--json": tmp_path / "fig" / "a.png"}, directories={"--plot": (tmp_path / "fig", ["a.png"])})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.cif"]  # checking writes nothing


def test_export_files_are_what_write_exports_writes(tmp_path, monkeypatch):
    from nhm.screen import compound_figure, exports, figure, pages

    monkeypatch.setattr(exports, "report_csv", lambda rep: "csv")
    monkeypatch.setattr(exports, "report_json", lambda rep: {})
    monkeypatch.setattr(pages, "render_periodic_page", lambda rep: "<html/>")
    monkeypatch.setattr(pages, "render_compound_page", lambda rep: "<html/>")
    monkeypatch.setattr(figure, "render_periodic_table", lambda rep: {"png": b"p", "svg": b"s"})
    monkeypatch.setattr(figure, "render_sweep", lambda sweep, rep, what: {"png": b"p", "svg": b"s"})
    monkeypatch.setattr(compound_figure, "render_compounds", lambda rep: {"png": b"p", "svg": b"s"})

    class Both:  # a report with element and compound rows: every file is written
        sweep = compound_sweep = {"free-electron": []}
        compounds = object()

        def group_rows(self, group):
            return [group]

    written = exports.write_exports(Both(), str(tmp_path))
    assert sorted(Path(p).name for p in written) == sorted(exports.EXPORT_FILES)


# --- B. nothing hangs, no runaway work --------------------------------------------------------------------------


class FifoFeeder:
    """Writes ``text`` into a FIFO whenever a reader opens it (as `cat x.cif > fifo` would), until closed."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text, self.stop = path, text, False
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        while not self.stop:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader yet
                time.sleep(0.05)
                continue
            try:
                os.write(fd, self.text.encode())
            except OSError:
                pass
            os.close(fd)

    def close(self) -> None:
        self.stop = True
        self.thread.join(5)


@pytest.mark.parametrize("feed", [False, True])
def test_a_fifo_as_the_structure_is_refused_without_blocking(tmp_path, feed):
    fifo = tmp_path / "s.cif"
    os.mkfifo(fifo)
    feeder = FifoFeeder(fifo, AL_CIF) if feed else None
    try:
        for args in (("analyze", "s.cif", "--no-plot"), ("classify", "--structure", "s.cif", "--wyckoff", "4a", "--band", "GM:GM1+"),
                     ("kspace", "s.cif"), ("screen", "s.cif", "--dry-run", "--db", "x.db")):
            r = nhm(tmp_path, *args)
            refused(r, "nor an existing structure file or directory" if args[0] == "screen" else
                    "it is a named pipe (FIFO), not a regular file")
    finally:
        if feeder is not None:
            feeder.close()


def test_a_character_device_as_the_structure_is_refused(tmp_path):
    refused(nhm(tmp_path, "classify", "--structure", "/dev/zero", "--wyckoff", "4a", "--band", "GM:GM1+"), "a character device")


@pytest.mark.parametrize(
    "args,needles",
    [
        (("analyze", "Al", "--a", "0.1", "--no-plot"), ("--a 0.1 Å", "outside [0.5, 2]", "overlap")),
        (("analyze", "Al", "--a", "40", "--no-plot"), ("not bind", "structure file")),
        (("analyze", "tiny.cif", "--no-plot"), ("from its own periodic image", "0.5 × the sum of their covalent radii")),
        (("analyze", "Al", "--spacing", "1e-300", "--no-plot"), ("--spacing", "below the limit of 0.001")),
        (("analyze", "Al", "--mesh", "100000", "--no-plot"), ("--mesh 100000 exceeds the limit of 128",)),
        (("analyze", "Al", "--kdensity", "60", "--no-plot"), ("--kdensity 60", "162³", "limit of 100")),
        (("screen", "Al", "--db", "x.db", "--workers", "99999999999999999999"), ("--workers 999…(20 digits)", "--scheduler")),
        (("screen", "Al", "--db", "x.db", "--timeout", "1e308"), ("--timeout", "limit")),
        (("kspace", BCC, "--mesh", "2000", "--max-memory", "1e308"), ("--max-memory 1e+308 GiB is more than this machine has",)),
        (("kspace", BCC, "--mesh", "2000", "--max-memory", "4"), ("needs an estimated", "GiB", "--max-memory 4")),
    ],
)
def test_runaway_sizes_are_refused_with_the_limit(tmp_path, args, needles):
    write(tmp_path / "tiny.cif", AL_CIF.replace("4.05", "0.1"))
    start = time.monotonic()
    refused(nhm(tmp_path, *args), *needles)
    assert time.monotonic() - start < QUICK


def test_the_memory_of_the_dft_run_is_estimated_before_gpaw(tmp_path):
    line = refused(nhm(tmp_path, "analyze", "Al", "--no-plot", "--no-cache", NHM_MAX_MEMORY_GIB="0.1"),
                   "needs an estimated", "plane waves", "NHM_MAX_MEMORY_GIB=0.1 GiB")
    assert "NHM_MAX_MEMORY_GIB to allow more" in line
    r = nhm(tmp_path, "analyze", "Al", "--no-plot", "--no-cache", NHM_MAX_MEMORY_GIB="64")  # deliberately more: it runs
    assert "DFT STARTED" in r.stderr


def test_dft_memory_grows_with_cutoff_cell_and_meshes():
    from nhm.bands.dft import DftParameters
    from nhm.bands.resources import BASE_BYTES, dft_memory_bytes
    from nhm.crystal import read_crystal

    al = read_crystal("Al")

    def work(crystal=al, params=DftParameters(), spacing=0.08, mesh=None) -> float:  # above the interpreter's own
        return dft_memory_bytes(crystal, params, spacing=spacing, mesh=mesh)[0] - BASE_BYTES

    total, what = dft_memory_bytes(al, DftParameters(), spacing=0.08, mesh=None)
    assert 0.2 * 2**30 < total < 2 * 2**30 and "plane waves" in what
    assert work(params=DftParameters(mode_ecut_eV=2000)) > 5 * work()  # plane waves ∝ E^3/2
    assert work(read_crystal("Al", a=8)) > 3 * work()  # plane waves ∝ volume (the lines get shorter)
    assert work(spacing=0.001) > 20 * work()
    assert work(mesh=96) > 100 * work()


# --- C. nothing silently computed as something else -------------------------------------------------------------


def test_a_fifth_atom_on_top_of_another_is_refused(tmp_path):
    write(tmp_path / "Al5.cif", AL_CIF + "  Al  Al5  0.0  0.0  0.0  1.0\n")
    refused(nhm(tmp_path, "classify", "--structure", "Al5.cif", "--wyckoff", "4a", "--band", FCC_BAND),
            "Al1 and Al5 are 0 Å apart", "a site listed twice")
    write(tmp_path / "near.vasp", "Al\n1.0\n4.05 0 0\n0 4.05 0\n0 0 4.05\nAl\n2\nDirect\n0 0 0\n0.05 0 0\n")
    refused(nhm(tmp_path, "analyze", "near.vasp", "--no-plot"), "Al (atom 1) and Al (atom 2) are 0.2", "overlapping atoms")


@pytest.mark.parametrize("tag,value,needle", [("_cell_length_a", "-4.05", "a cell length must be positive"),
                                              ("_cell_length_b", "0", "a cell length must be positive"),
                                              ("_cell_angle_gamma", "200", "strictly between 0° and 180°")])
def test_impossible_cif_cells_are_refused(tmp_path, tag, value, needle):
    text = "\n".join(f"{tag}       {value}" if line.startswith(tag) else line for line in AL_CIF.splitlines()) + "\n"
    write(tmp_path / "bad.cif", text)
    refused(nhm(tmp_path, "classify", "--structure", "bad.cif", "--wyckoff", "4a", "--band", FCC_BAND), f"{tag} {value}", needle)


def test_a_mangled_cif_gives_nhm_lines_only(tmp_path):
    """The CIF checks parse the file before ASE reads it: ASE's complaints must still come once, as nhm warnings."""
    write(tmp_path / "short.cif", AL_CIF.replace("1.0\n  Al  Al4", "1.0  Al  Al4"))  # two rows on one line
    r = nhm(tmp_path, "classify", "--structure", "short.cif", "--wyckoff", "4a", "--band", FCC_BAND)
    assert "Traceback" not in r.stderr and r.returncode in (0, 2)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert all(line.startswith(("nhm: error:", "nhm: warning:")) for line in lines), r.stderr
    assert sum("Wrong number 12 of tokens" in line for line in lines) == 1


def test_a_real_structure_with_short_bonds_is_read():
    from ase.build import molecule

    from nhm.crystal import read_crystal

    h2 = molecule("H2", vacuum=3.0, pbc=True)  # 0.74 Å: 1.2 × the covalent sum, not an overlap
    assert read_crystal(h2).space_group >= 1


def test_classify_says_that_reading_r1_does_not_apply(tmp_path):
    args = ("classify", "--group", "229", "--wyckoff", "2a", "--band", "GM:GM5+ H:H1+ P:P1 N:N2+")
    r = nhm(tmp_path, *args)
    assert r.returncode == 0 and "nhm: warning: reading R1 does not apply (dimension mismatch" in r.stderr
    assert "the verdict is reading R2's" in r.stderr and "reading R2: neither" in r.stdout
    doc = json.loads(nhm(tmp_path, *args, "--json").stdout)
    assert doc["reading"] == "R2" and doc["notes"][0].startswith("reading R1 does not apply")
    refused(nhm(tmp_path, *args, "--reading", "R1"), "dimension mismatch under reading R1")


# --- D. no tracebacks: the screen's database ------------------------------------------------------------------


def _garbage(tmp_path: Path) -> str:
    (tmp_path / "garbage.db").write_bytes(bytes(range(256)) * 10)
    return "garbage.db"


@pytest.mark.parametrize(
    "make,args,needle",
    [
        (_garbage, ("screen", "Al", "--dry-run"), "is not an SQLite database"),
        (_garbage, ("screen", "Al", "--no-cache"), "is not an SQLite database"),
        (_garbage, ("screen", "--report"), "is not an SQLite database"),
        (lambda p: write(p / "some.cif", AL_CIF).name, ("screen", "Al", "--dry-run"), "is not an SQLite database"),
        (lambda p: "/dev/null", ("screen", "Al", "--dry-run"), "is a character device, not a database file"),
        (lambda p: "/dev/null", ("screen", "--report"), "is a character device, not a database file"),
        (lambda p: os.mkfifo(p / "fifo.db") or "fifo.db", ("screen", "Al", "--dry-run"), "is a named pipe (FIFO)"),
        (lambda p: str(p), ("screen", "--report"), "is a directory"),
    ],
)
def test_a_database_that_is_no_database_is_one_line(tmp_path, make, args, needle):
    db = make(tmp_path)
    line = refused(nhm(tmp_path, *args, "--db", db), needle)
    assert db in line


def test_a_foreign_sqlite_database_is_refused_and_left_alone(tmp_path):
    con = sqlite3.connect(tmp_path / "other.db")
    con.execute("CREATE TABLE mine (x)")
    con.commit()
    con.close()
    before = (tmp_path / "other.db").read_bytes()
    refused(nhm(tmp_path, "screen", "--report", "--db", "other.db"), "an SQLite database of another program (tables mine)")
    refused(nhm(tmp_path, "screen", "Al", "--dry-run", "--db", "other.db"), "not an ASE database")
    assert (tmp_path / "other.db").read_bytes() == before  # ASE did not add its tables


def _hold_lock(db: Path) -> subprocess.Popen:
    code = "import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN EXCLUSIVE')\n" \
           "print('locked', flush=True)\ntime.sleep(120)\n"
    holder = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_locked_database_waits_the_stated_timeout_then_one_line(tmp_path):
    ase_db(tmp_path / "locked.db")
    holder = _hold_lock(tmp_path / "locked.db")
    try:
        for args in (("screen", "--report"), ("screen", "Al", "--dry-run")):
            start = time.monotonic()
            refused(nhm(tmp_path, *args, "--db", "locked.db", NHM_DB_TIMEOUT="1"),
                    "the database locked.db: it is locked by another process (waited 1 s; set NHM_DB_TIMEOUT")
            assert 1 <= time.monotonic() - start < QUICK
    finally:
        holder.kill()
        holder.wait()


def test_database_errors_after_opening_are_one_line(tmp_path, monkeypatch):
    """A database locked while a screen or a report already uses it: the same one line, from any call."""
    from nhm.screen.database import connect

    monkeypatch.setenv("NHM_DB_TIMEOUT", "0.2")
    con = connect(str(ase_db(tmp_path / "s.db")))
    holder = _hold_lock(tmp_path / "s.db")
    try:
        with pytest.raises(InputError, match=r"s\.db: it is locked by another process \(waited 0.2 s"):
            list(con.select())
        with pytest.raises(InputError, match="locked"):
            con.count()
    finally:
        holder.kill()
        holder.wait()


def test_postgresql_urls_get_connect_and_lock_timeouts(monkeypatch):
    from nhm.screen.database import _with_timeouts

    monkeypatch.setenv("NHM_DB_TIMEOUT", "5")
    url = _with_timeouts("postgresql://me@host:5432/db")
    assert "connect_timeout=10" in url and "lock_timeout%3D5000" in url
    assert "connect_timeout=3" in _with_timeouts("postgresql://me@host/db?connect_timeout=3")
    assert _with_timeouts("mysql://me@host/db") == "mysql://me@host/db"


def test_postgresql_faults_are_one_line(tmp_path, postgres_url):  # noqa: F811 - the fixture
    import ase.db
    import psycopg2

    from test_screen import _free_port

    unreachable = f"postgresql://postgres@127.0.0.1:{_free_port()}/postgres"
    refused(nhm(tmp_path, "screen", "--report", "--db", unreachable), "cannot open the database", "127.0.0.1")
    ase.db.connect(postgres_url).write(__import__("ase").Atoms("Al", cell=[3, 3, 3], pbc=True),
                                       key_value_pairs={"name": "Al", "params_hash": "x", "status": "ok"})
    holder = psycopg2.connect(postgres_url)
    try:
        holder.cursor().execute("LOCK TABLE systems IN ACCESS EXCLUSIVE MODE")  # held: the transaction stays open
        start = time.monotonic()
        refused(nhm(tmp_path, "screen", "--report", "--db", postgres_url, NHM_DB_TIMEOUT="1"),
                "locked by another process (waited 1 s")
        assert time.monotonic() - start < QUICK
    finally:
        holder.rollback()
        holder.close()
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    admin.cursor().execute("CREATE DATABASE other")
    admin.close()
    other = postgres_url.rsplit("/", 1)[0] + "/other"
    with psycopg2.connect(other) as con:
        con.cursor().execute("CREATE TABLE mine (x int)")
    refused(nhm(tmp_path, "screen", "--report", "--db", other), "a PostgreSQL database of another program (tables mine)")
    with psycopg2.connect(other) as con:
        cur = con.cursor()
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        assert [name for (name,) in cur.fetchall()] == ["mine"]  # ASE added nothing


@pytest.mark.parametrize("address", ["not a url", "tcp://host", "tcp://host:99999", "foo://host:8786", "tcp://:8786"])
def test_a_bad_scheduler_address_is_one_line_before_anything_starts(tmp_path, address):
    refused(nhm(tmp_path, "screen", "Al", "--db", "x.db", "--scheduler", address), "is not the address of a Dask scheduler")
    assert not (tmp_path / "x.db").exists()


# --- D. no tracebacks: absurd numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,needle",
    [
        (("--emin", "nan", "--plot", "fig"), "--emin must be a finite number"),
        (("--emax", "inf", "--plot", "fig"), "--emax must be a finite number"),
        (("--emax", "1e5"), "beyond ±1000 eV"),
        (("--ecut", "1e308"), "--ecut 1e+308 eV exceeds the limit of 3000 eV"),
        (("--ecut", "1"), "--ecut 1 eV is below the limit of 100 eV"),
        (("--smearing", "1e308"), "--smearing 1e+308 eV exceeds the limit of 2 eV"),
        (("--smearing", "1e-300"), "below the limit"),
        (("--kdensity", "1e308"), "--kdensity 1e+308 per Å⁻¹ exceeds the limit"),
        (("--kmesh", "99999999999999999999"), "the SCF k-mesh"),
        (("--symprec", "5"), "--symprec 5 Å exceeds the limit of 1 Å"),
        (("--a", "1e300"), "--a 1e+300 Å"),
    ],
)
def test_analyze_numbers_are_refused_before_any_work(tmp_path, args, needle):
    refused(nhm(tmp_path, "analyze", "Al", *args), needle)
    assert not (tmp_path / "fig").exists()


# --- D. no tracebacks: manybody -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,needle",
    [
        (("--U", "1e308", "--json", "-"), "--U 1e+308 exceeds 10000 |t|"),
        (("--t", "1e308"), "--t 1e+308 lies outside [1e-06, 1e+06]"),
        (("--t", "1e-300"), "lies outside"),
        (("--t2", "1e308"), "--t2 1e+308 exceeds"),
        (("--V", "1e308"), "--V 1e+308 exceeds"),
        (("--J", "0,1e308"), "--J 1e+308 exceeds"),
        (("--interaction", "gaussian", "--coulomb", "1e308"), "--coulomb 1e+308 exceeds"),
        (("--interaction", "gaussian", "--alpha", "1e308"), "--alpha 1e+308 exceeds the limit"),
        (("--V", "1,2,3,4,5,6,7,8,9"), "--V gives 9 neighbour shells, more than the 4"),
        (("--lattice", "square", "--sites", "4", "--supercell", "2,2;2"), "must be a square integer matrix"),
        (("--supercell", "99999999999999999999"), "--supercell entries must lie within ±64"),
        (("--strength", "2"), "--strength must lie in [0, 1]"),
        (("--scan", "U", "--values", "1,1e308"), "--U 1e+308 exceeds"),
    ],
)
def test_manybody_parameters_are_refused_up_front(tmp_path, args, needle):
    r = nhm(tmp_path, "manybody", "--sites", "2", *args)
    refused(r, needle)
    assert r.stdout == ""


def test_manybody_json_on_stdout_is_strict(tmp_path):
    r = nhm(tmp_path, "manybody", "--sites", "2", "--U", "1e4", "--json", "-")
    assert r.returncode == 0, r.stderr
    json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))


def test_json_text_turns_non_finite_numbers_into_null():
    import numpy as np

    from nhm.cli._common import json_text

    doc = json.loads(json_text({"a": float("nan"), "b": [np.float64("inf"), np.int64(3)], "c": -float("inf")}))
    assert doc == {"a": None, "b": [None, 3], "c": None}


# --- D. no tracebacks: long names, spglib's chatter, the cache ---------------------------------------------------

LONG = "A" * 100_000


@pytest.mark.parametrize("args", [("analyze", LONG, "--no-plot"), ("group", LONG), ("irreps", "229", LONG),
                                  ("classify", "--group", LONG, "--wyckoff", "2a", "--band", "GM:GM1+"),
                                  ("classify", "--group", "229", "--wyckoff", "2a", "--band", f"GM:{LONG}"),
                                  ("kspace", LONG), ("screen", LONG, "--dry-run", "--db", "x.db"),
                                  ("analyze", "Al", "--no-plot", "--json", f"{LONG}/x.json")])
def test_a_long_name_is_shortened_in_the_one_line(tmp_path, args):
    line = refused(nhm(tmp_path, *args))
    assert len(line) < 600 and "characters]…" in line


def test_long_word_shortening():
    from nhm.entrypoint import LONG_WORD, shorten

    assert shorten("Nb") == "Nb"
    short = shorten("x" * 10_000)
    assert len(short) < LONG_WORD + 40 and "[9," in short


def test_spglib_chatter_is_silenced(tmp_path):
    refused(nhm(tmp_path, "classify", "--structure", "Al", "--symprec", "1e-300", "--wyckoff", "4a", "--band", "GM:GM1+"),
            "spglib found no space group")


def test_an_unreadable_cache_directory_is_a_miss_not_a_traceback(tmp_path, monkeypatch):
    """As a non-root user, a cache of mode 000: the entry cannot even be looked at (is_file raises EACCES)."""
    import numpy as np

    from nhm.bands.cache import BandCache, CacheWarning

    cache = BandCache(tmp_path)
    key = "ab" * 32
    cache.store(key, {"x": np.zeros(3)}, {})
    real_is_file = Path.is_file

    def is_file(self):
        if self.parent == tmp_path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    with pytest.warns(CacheWarning, match="cannot read the nhm cache directory"):
        assert cache.load(key) is None
    monkeypatch.setattr(Path, "is_file", real_is_file)
    monkeypatch.setattr(np, "load", lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    assert cache.load(key) is None  # reported once per directory; the entry is left where it is
    monkeypatch.undo()
    assert cache.load(key) is not None


# --- E. no leftovers: a screen stopped by a signal ----------------------------------------------------------------

FAKE_ANALYSIS = textwrap.dedent("""\
    # stands in for GPAW in every process of a screen (client, Dask workers, analysis children)
    import os
    if os.environ.get("NHM_TEST_FAKE_ANALYSIS"):
        import subprocess, tempfile, time
        from pathlib import Path
        import nhm.report.analyze as analyze_module

        def fake(*args, **kwargs):
            work = Path(tempfile.mkdtemp(prefix="nhm-gpaw-"))  # as nhm.bands.dft does for its worker
            (work / "input.gpw").write_bytes(b"x" * 80_000)
            worker = subprocess.Popen(["sleep", "300"])  # the GPAW worker process
            Path(os.environ["NHM_TEST_FAKE_ANALYSIS"], str(worker.pid)).write_text("")
            time.sleep(300)

        analyze_module.analyze = fake
""")

SIGNAL_LAUNCHER = ("import signal, sys\nsignal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal\n"
                   "from nhm.cli import main\nmain(sys.argv[1:])\n")


def _fake_env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(FAKE_ANALYSIS)
    pids = tmp_path / "pids"
    pids.mkdir()
    return env_for(tmp_path, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
                   NHM_TEST_FAKE_ANALYSIS=str(pids))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _wait_for(predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.parametrize("signum,status", [(2, 130), (15, 143)])
def test_a_stopped_screen_leaves_no_temporary_directory_and_no_process(tmp_path, signum, status):
    env = _fake_env(tmp_path)
    tmp, pids = tmp_path / "tmp", tmp_path / "pids"
    p = subprocess.Popen([sys.executable, "-c", SIGNAL_LAUNCHER, "screen", "Al", "--db", "x.db", "--workers", "1", "--no-cache"],
                         cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: list(pids.iterdir()) and list(tmp.rglob("nhm-gpaw-*/input.gpw")), 120), p.stderr.read() if p.poll() else ""
        assert all(d.name.startswith("nhm-screen-") for d in tmp.glob("nhm-*"))  # GPAW's directory sits inside the task's
        p.send_signal(signum)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == status, err
    assert "Traceback" not in err
    assert sorted(x.name for x in tmp.rglob("nhm-*")) == []
    worker = int(next(pids.iterdir()).name)
    assert _wait_for(lambda: not _alive(worker), 5), "the GPAW stand-in outlived the screen"


def test_an_orphaned_analysis_removes_its_directory_and_ends(tmp_path):
    """On a remote cluster nobody else cleans up: the analysis whose Dask worker died does it itself."""
    env = _fake_env(tmp_path)
    work = tmp_path / "tmp" / "nhm-screen-x-task"
    work.mkdir()
    from ase.build import bulk

    from nhm.screen.task import atoms_to_dict

    from nhm.screen.params import ScreenParameters

    request = {"name": "Al", "atoms": atoms_to_dict(bulk("Al")), "parameters": ScreenParameters().as_dict()}
    (work / "request.json").write_text(json.dumps(request))
    pids = tmp_path / "pids"
    parent = ("import os, subprocess, sys, time\n"  # starts the analysis as a Dask worker would, then dies
              "p = subprocess.Popen([sys.executable, '-m', 'nhm.screen.task', sys.argv[1]], start_new_session=True)\n"
              "end = time.monotonic() + 60\n"
              "while not os.listdir(sys.argv[2]) and time.monotonic() < end:\n"
              "    time.sleep(0.1)\n"
              "print(p.pid, flush=True)\n")
    r = subprocess.run([sys.executable, "-c", parent, str(work), str(pids)], env=env, capture_output=True, text=True, timeout=90)
    child = int(r.stdout.split()[0])  # its parent has exited: the child is an orphan now
    assert list(pids.iterdir())  # the stand-in GPAW run had started (its directory made, its worker running)
    assert _wait_for(lambda: not work.exists(), 60), sorted(work.rglob("*"))
    assert _wait_for(lambda: not _alive(child), 10)
    for pid in (int(x.name) for x in pids.iterdir()):
        assert _wait_for(lambda pid=pid: not _alive(pid), 10)
