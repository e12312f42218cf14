"""Generate src/nhm/data/wyckoff.json: the Wyckoff positions of the 230 space groups in the BCS setting.

Provenance: letters, multiplicities and coordinate triplets from pyxtal's ``wyckoff_list.csv`` (derived
from Bilbao's WYCKPOS; pyxtal's settings are ITA standard, origin choice 2, hexagonal axes: the same
Hall numbers as nhm.crystal.setting.bcs_hall_number, checked here). pyxtal is needed only to run this
script (``pip install pyxtal``), not by nhm. Everything else is computed and verified here, exactly:
  - each listed orbit, with the centring translations, is the orbit of its first point under spglib's
    operations of bcs_hall_number(n), with exactly ``multiplicity`` points;
  - the site-symmetry group has order |G/T| x n_centring / multiplicity;
  - ``maximal``: the site-symmetry group of a generic point is not a proper subgroup of the
    site-symmetry group of another point (no point of its fixed line/plane has a larger stabilizer);
  - ``site_symmetry``: spglib's oriented symbol for an atom on the position.

    .venv/bin/pip install pyxtal && .venv/bin/python scripts/make_wyckoff_table.py
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from fractions import Fraction
from itertools import product
from pathlib import Path

import numpy as np
import spglib

from nhm.crystal.setting import bcs_hall_number, centering_vectors
from nhm.groups.exact import nullspace, solvable
from nhm.groups.wyckoff import GENERIC, parse_triplet

OUT = Path(__file__).resolve().parents[1] / "src" / "nhm" / "data" / "wyckoff.json"
F = Fraction


def _ops(n: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sym = spglib.get_symmetry_from_database(bcs_hall_number(n))
    rots = [tuple(tuple(int(x) for x in row) for row in r) for r in sym["rotations"]]
    trans = [tuple(F(float(x)).limit_denominator(48) for x in t) for t in sym["translations"]]
    return list(zip(rots, trans))


def _apply(op, x):
    r, t = op
    return tuple(sum((r[i][j] * x[j] for j in range(3)), F(0)) + t[i] for i in range(3))


def _mod1(x):
    return tuple(v - (v.numerator // v.denominator) for v in x)


def _is_maximal(ops, q, stab) -> bool:
    rows = [[F(r[i][j] - (i == j)) for j in range(3)] for r, _ in stab for i in range(3)]
    basis = nullspace(rows)
    if not basis:
        return True
    stab_set = set(stab)
    for (r, t) in ops:
        for n in product(range(-2, 3), repeat=3):
            tt = tuple(t[i] + n[i] for i in range(3))
            if (r, tt) in stab_set:
                continue  # an element of G_q: it fixes the whole subspace
            # does g = {R|tt} fix some point q + V lam?  (R - I) V lam = -tt - (R - I) q
            rq = [sum((F(r[i][j] - (i == j)) * q[j] for j in range(3)), F(0)) for i in range(3)]
            a = [[sum((F(r[i][j] - (i == j)) * v[j] for j in range(3)), F(0)) for v in basis] for i in range(3)]
            b = [-tt[i] - rq[i] for i in range(3)]
            if solvable(a, b):
                return False  # that point's stabilizer contains G_q and g: G_q is not maximal
    return True


_LATTICE = {
    "triclinic": [[1.0, 0, 0], [0.21, 1.13, 0], [0.17, 0.29, 1.27]],
    "monoclinic": [[1.0, 0, 0], [0, 1.13, 0], [0.31, 0, 1.27]],
    "orthorhombic": np.diag([1.0, 1.13, 1.27]).tolist(),
    "tetragonal": np.diag([1.0, 1.0, 1.27]).tolist(),
    "hexagonal": [[1.0, 0, 0], [-0.5, np.sqrt(3) / 2, 0], [0, 0, 1.27]],
    "cubic": np.eye(3).tolist(),
}


def _family(n: int) -> str:
    for limit, name in ((2, "triclinic"), (15, "monoclinic"), (74, "orthorhombic"), (142, "tetragonal"), (194, "hexagonal")):
        if n <= limit:
            return name
    return "cubic"


def _site_symbol(n: int, general: list, orbit: list) -> tuple[str, str]:
    """spglib's Wyckoff letter and oriented site-symmetry symbol for an atom on ``orbit``."""
    pos = [[float(x) for x in p] for p in general] + [[float(x) for x in p] for p in orbit]
    types = [1] * len(general) + [2] * len(orbit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = spglib.get_symmetry_dataset((_LATTICE[_family(n)], pos, types), symprec=1e-4, hall_number=bcs_hall_number(n))
    if ds is None or ds.number != n:
        raise SystemExit(f"spglib probe failed for SG {n}")
    return ds.wyckoffs[len(general)], ds.site_symmetry_symbols[len(general)]


def main() -> None:
    import csv
    import ast

    import pyxtal  # generation-time only
    from pyxtal.symmetry import Group

    path = Path(pyxtal.__file__).parent / "database" / "wyckoff_list.csv"
    rows = {int(r[0]): ast.literal_eval(r[1]) for r in csv.reader(path.open()) if r and r[0].isdigit() and r[1]}
    groups = []
    for n in range(1, 231):
        if Group(n).hall_number != bcs_hall_number(n):
            raise SystemExit(f"pyxtal's setting of SG {n} (Hall {Group(n).hall_number}) is not BCS's")
        ops = _ops(n)
        cent = centering_vectors(n)
        order = len(ops) // len(cent)
        lists = list(reversed(rows[n]))  # pyxtal lists the general position first
        general_params = {"x": F(7, 89), "y": F(17, 83), "z": F(31, 79)}  # distinct from GENERIC
        general = sorted({_mod1(parse_triplet(t, general_params)) for t in lists[-1]})
        positions = []
        for i, triplets in enumerate(lists):
            letter = "abcdefghijklmnopqrstuvwxyzA"[i]
            mult = len(triplets)
            coset = [t.replace(" ", "") for t in triplets[: mult // len(cent)]]
            q = parse_triplet(coset[0], GENERIC)
            orbit = {_mod1(_apply(op, q)) for op in ops}
            listed = {_mod1(tuple(a + c for a, c in zip(parse_triplet(t, GENERIC), cv))) for t in coset for cv in cent}
            if len(orbit) != mult or orbit != listed:
                raise SystemExit(f"SG {n} {mult}{letter}: orbit does not match the listed coordinates")
            stab = [op for op in ops if all((a - b).denominator == 1 for a, b in zip(_apply(op, q), q))]
            if len(stab) * mult != order * len(cent):
                raise SystemExit(f"SG {n} {mult}{letter}: stabilizer order {len(stab)} inconsistent")
            # stabilizer ops with the translation that fixes q exactly
            stab_exact = [(r, tuple(t[i] + (q[i] - _apply((r, t), q)[i]) for i in range(3))) for r, t in stab]
            sp_letter, symbol = _site_symbol(n, general, sorted(orbit))
            positions.append(
                {"letter": letter, "multiplicity": mult, "site_symmetry": symbol,
                 "coordinates": coset, "maximal": _is_maximal(ops, q, stab_exact)}
            )
            if sp_letter != letter:  # spglib may pick a normalizer-equivalent origin (C2/c 4c <-> 4d)
                print(f"note: SG {n} {mult}{letter}: spglib's probe calls it {sp_letter}")
        groups.append({"space_group": n, "positions": positions})
    data = {
        "provenance": {
            "source": f"pyxtal {pyxtal.__version__} database/wyckoff_list.csv (Bilbao WYCKPOS)",
            "generated_by": "scripts/make_wyckoff_table.py",
            "setting": "BCS: ITA standard setting, origin choice 2, hexagonal axes for R groups "
            "(spglib Hall numbers of nhm.crystal.setting.bcs_hall_number)",
            "verified": "orbits and stabilizer orders against spglib's operations (exact); maximality computed",
            "site_symmetry": "spglib's oriented site-symmetry symbol",
        },
        "groups": groups,
    }
    fd, tmp = tempfile.mkstemp(dir=OUT.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write("{\n" + f'"provenance": {json.dumps(data["provenance"])},\n"groups": [\n')
        f.write(",\n".join(json.dumps(g, separators=(",", ":")) for g in groups))
        f.write("\n]}\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, OUT)
    total = sum(len(g["positions"]) for g in groups)
    print(f"{total} Wyckoff positions of 230 groups written to {OUT}")


if __name__ == "__main__":
    main()
