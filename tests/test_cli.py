"""The command line: JSON shapes, tables, and one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from nhm.groups.bcs import bcs_table


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nhm.cli", *args], capture_output=True, text=True, timeout=300)


def test_group_json():
    out = json.loads(run("group", "229", "--json").stdout)
    assert out["space_group"] == 229 and out["setting"]["hall_number"] == 529
    assert {p["name"] for p in out["points_of_symmetry"]} == {"GM", "H", "N", "P"}
    assert out["wyckoff_positions"][0]["label"] == "2a" and out["wyckoff_positions"][0]["maximal"]


def test_irreps_table_and_json():
    r = run("irreps", "229", "N")
    assert r.returncode == 0 and "N1+" in r.stdout
    out = json.loads(run("irreps", "229", "Γ", "--double", "--tr", "--json").stdout)
    assert {i["label"] for i in out["irreps"]} == {"-GM6", "-GM7", "-GM8", "-GM9", "-GM10", "-GM11"}


@pytest.mark.parametrize("args", [(), ("--double",), ("--tr",), ("--double", "--tr")])
def test_ebr_json_has_every_maximal_k(args):
    out = json.loads(run("ebr", "191", *args, "--json").stdout)
    assert out["space_group"] == 191
    assert out["double"] == ("--double" in args) and out["time_reversal"] == ("--tr" in args)
    names = {kp.name for kp in bcs_table(191, "--double" in args, "--tr" in args).kpoints}
    for br in out["band_representations"]:
        assert set(br) >= {"wyckoff", "site_symmetry", "site_irrep", "dimension", "irreps"}
        assert set(br["irreps"]) == names
        assert all(isinstance(m, int) and m > 0 for per_k in br["irreps"].values() for m in per_k.values())


def test_ebr_from_a_non_maximal_position():
    out = json.loads(run("ebr", "166", "--wyckoff", "6c", "--json").stdout)
    assert out["band_representations"] and all(br["wyckoff"] == "6c" for br in out["band_representations"])
    assert not any(br["elementary"] for br in out["band_representations"])


def test_classify_json_and_table():
    out = json.loads(run("classify", "--group", "229", "--wyckoff", "2a", "--band", "GM:GM1+ H:H1+ P:P1 N:N2+",
                         "--reading", "R1", "--json").stdout)
    assert out["usual"] is False and out["spin_dependent"] is True and out["superconducting_band"] is True
    assert out["reading"] == "R1" and out["site_representations"]
    r = run("classify", "--structure", "Nb", "--band", "GM:GM1+ H:H1+ P:P1 N:N1+")
    assert r.returncode == 0 and "usual" in r.stdout


@pytest.mark.parametrize(
    "args,needle",
    [
        (("group", "231"), "1 to 230"),
        (("irreps", "229", "X"), "no maximal k-vector 'X'"),
        (("ebr", "229", "--wyckoff", "q"), "no Wyckoff position 'q'"),
        (("classify", "--group", "229", "--wyckoff", "2a", "--band", "GM:GM1+ H:H1+ P:P1"), "no representation at N"),
        (("classify", "--group", "229", "--wyckoff", "2a", "--band", "GM:GM9 H:H1+ P:P1 N:N1+"), "not an irrep"),
        (("classify", "--structure", "nonexistent.cif", "--band", "GM:GM1+"), "nonexistent.cif"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, needle):
    r = run(*args)
    assert r.returncode == 2
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr


def test_malformed_structure_file(tmp_path):
    bad = tmp_path / "bad.cif"
    bad.write_text("this is not a CIF\n")
    r = run("classify", "--structure", str(bad), "--band", "GM:GM1+")
    assert r.returncode == 2 and "bad.cif" in r.stderr and "Traceback" not in r.stderr


# --- plain forms: parsed without typer, and printing what typer's commands print (issue 22) ------------


@pytest.mark.parametrize(
    "args",
    [
        ("group", "229"),
        ("group", "--json", "229"),
        ("irreps", "229", "N", "--tr"),
        ("irreps", "229", "Γ", "--double", "--json"),
        ("ebr", "229", "--double", "--tr", "--json"),
        ("ebr", "2", "--all-positions"),
        ("group", "231"),
        ("irreps", "229", "X"),
    ],
)
def test_plain_forms_print_what_typer_prints(args, capsys):
    from nhm.cli import build_app, plain_form
    from nhm.entrypoint import run as run_typer, run_plain

    plain = plain_form(list(args))
    assert plain is not None
    status = run_plain(*plain)
    printed = capsys.readouterr()
    assert run_typer(build_app([args[0]]), list(args)) == status
    assert capsys.readouterr() == printed


@pytest.mark.parametrize(
    "args",
    [
        ("group",),
        ("group", "229", "--help"),
        ("group", "229", "extra"),
        ("group", "229", "--json", "--json"),
        ("group", "--", "229"),
        ("irreps", "229", "N", "--convention", "physics"),
        ("ebr", "166", "--wyckoff", "6c"),
        ("classify", "--group", "229"),
        (),
    ],
)
def test_other_forms_go_to_typer(args):
    from nhm.cli import plain_form

    assert plain_form(list(args)) is None


def test_json_on_a_stream_that_says_ascii_is_utf8():
    """As click's echo did: non-ASCII JSON on a stdout whose encoding is ASCII comes out as UTF-8."""
    code = "from nhm.cli.output import emit_json\nemit_json({'band': 'GM1+ ⊕ H1+'})\n"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.decode("utf-8")) == {"band": "GM1+ ⊕ H1+"}
