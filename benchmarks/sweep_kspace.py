"""Sweep over space groups: k-space magnetism wherever a one-branch superconducting band exists.

    .venv/bin/python benchmarks/sweep_kspace.py [FIRST LAST]     (default 16 230)

For every space group whose Wyckoff position a holds one atom per primitive cell and whose points of
symmetry all have one-dimensional irreps: enumerate tuples of those irreps (all, or 400 random ones),
keep the first that Krüger's classifier calls superconducting (reading R1) and that is invariant under
time inversion, build F(k) on the smallest admissible mesh and print the worst residual (constraints,
star relations, time reversal, unitarity, Kramers), whether a constant F exists (it must not), the
forced jump bonds and the spread Ω_P. Groups without such a band are listed with the reason.
"""
import os, sys, time, itertools
os.environ["OMP_NUM_THREADS"]="1"
import numpy as np
from nhm.bands.symmetry import BandSymmetry
from nhm.errors import NhmError
from nhm.groups.irreps import little_group
from nhm.groups.kpoints import points_of_symmetry
from nhm.groups.site import orbit
from nhm.groups.spacegroup import space_group
from nhm.groups.wyckoff import wyckoff_position
from nhm.kspace.analysis.run import run_kspace
from nhm.wannier.krueger import classify
from math import lcm
lo, hi = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else (16, 230)
rng = np.random.default_rng(0)
out = []
for sg in range(lo, hi+1):
    t0=time.time()
    try:
        g = space_group(sg); w = wyckoff_position(sg, "a")
        if len(orbit(g, w.point())[0]) != 1:
            out.append((sg, "skip: a has >1 atom")); continue
        pts = points_of_symmetry(sg)
        opts = {}
        for p in pts:
            lg = little_group(sg, p.name)
            opts[p.name] = [ir.label for ir in lg.irreps if ir.dimension == 1]
        if any(not v for v in opts.values()):
            out.append((sg, "skip: a point has no 1-dim irrep")); continue
        need = 1
        for p in pts:
            for x in p.primitive: need = lcm(need, x.denominator)
        mesh = need
        while mesh < 4: mesh += need
        found = None; res=None; skipped=0; lastmsg=""
        total = np.prod([len(v) for v in opts.values()])
        tuples = itertools.product(*opts.values()) if total <= 400 else (tuple(rng.choice(v) for v in opts.values()) for _ in range(400))
        for tup in tuples:
            band = BandSymmetry(sg, {k: (lab,) for k, lab in zip(opts, tup)})
            try:
                c = classify(band, [w], reading="R1")
            except NhmError:
                continue
            if c.verdict == "superconducting":
                try:
                    res = run_kspace(band, w, None, mesh)
                except NhmError as exc:
                    skipped += 1; lastmsg = str(exc)[:150]
                    continue
                found = band; break
        if found is None:
            out.append((sg, f"no TR-invariant superconducting one-branch type among {min(total,400)} tuples ({skipped} refused: {lastmsg})")); print(*out[-1], flush=True); continue
        r = res.field.residuals; ch = res.checks
        worst = max(r.constraint, r.star, r.time_reversal, r.unitarity, ch.kramers)
        out.append((sg, f"mesh {mesh} resid {worst:.1e} kind {res.field.k_independence.possible} forced {res.jumps.forced} Ω_P {res.field.spread_projective:.3f} {found.text()} t={time.time()-t0:.1f}s refused {skipped}"))
    except Exception as exc:
        out.append((sg, f"ERROR {type(exc).__name__}: {str(exc)[:300]}"))
    print(*out[-1], flush=True)
ran = [o for o in out if "resid" in o[1]]
considered = [o for o in out if not o[1].startswith("skip")]
print(f"\n{len(considered)} groups with a one-atom position a and one-dimensional irreps at every point of symmetry; "
      f"F(k) built for {len(ran)}, worst residual {max(float(o[1].split()[3]) for o in ran) if ran else float('nan'):.1e}, "
      f"k-independent F possible for {sum('kind True' in o[1] for o in ran)} of them")
