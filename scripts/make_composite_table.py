"""Generate src/nhm/data/composite_brs.json: band representations from maximal Wyckoff positions that
are composite, for all 230 space groups x {spinless, spinful} x {with, without time reversal}.

Provenance: derived here, not copied. The criterion (nhm.bandrep.ebr.composite_flags, after Cano et
al., PRB 97, 035139 (2018)): the Wannier functions of rho at a maximal point can slide along a line or
plane to another maximal point where the induced site representation is reducible, or slide
irreducibly to a BR that is composite. tests/test_bandrep.py re-derives the table and compares it,
and checks that the resulting EBR sets equal Bilbao's (irreptables) in all 920 cases.

    .venv/bin/python scripts/make_composite_table.py      # about 3 minutes on one core
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import nhm
from nhm.bandrep.ebr import elementary_band_representations

OUT = Path(__file__).resolve().parents[1] / "src" / "nhm" / "data" / "composite_brs.json"


def main() -> None:
    t0 = time.perf_counter()
    entries = []
    for n in range(1, 231):
        for double in (False, True):
            for tr in (False, True):
                s = elementary_band_representations(n, double=double, time_reversal=tr, derive=True)
                for br in s.composite:
                    entries.append(
                        {"space_group": n, "double": double, "time_reversal": tr, "wyckoff": br.wyckoff,
                         "site_symmetry": br.site_symmetry, "irreps": br.irreps_text}
                    )
    data = {
        "provenance": {
            "generated_by": "scripts/make_composite_table.py",
            "nhm_version": nhm.__version__,
            "criterion": "real-space sliding of Wannier centres between maximal positions (Cano et al. 2018), "
            "closed under equivalence; see nhm.bandrep.ebr.composite_flags",
            "irreps": "BCS labels, multiplicities at the maximal k-vectors",
        },
        "counts": {
            f"{'double' if d else 'single'}{'+TR' if t else ''}": sum(
                1 for e in entries if e["double"] == d and e["time_reversal"] == t
            )
            for d in (False, True)
            for t in (False, True)
        },
        "composite": entries,
    }
    fd, tmp = tempfile.mkstemp(dir=OUT.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, ensure_ascii=False, indent=0)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, OUT)
    print(f"{len(entries)} composite BRs, {data['counts']}, written to {OUT} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
