"""Fit a Slater–Koster model (:mod:`nhm.bands.tightbinding`) to levels at the points of symmetry.

Targets are (energy, BCS irrep label) per point of symmetry, typically DFT levels relative to E_F.
Each target is matched to a model level WITH THE SAME LABEL at that point: the i-th target of a label
(in energy order) to the i-th model level of that label (in energy order). So the targets of a label
should start at the lowest level the model describes (semicore levels left out); levels above the top
may be omitted.

How the levels are computed. H(k) is linear in the parameters: H = Σ_p θ_p H_p(k) + Σ_l ε_l Π_l
(θ_p: one Slater–Koster integral of one neighbour shell; ε_l: onsite energy of the l orbitals). At a
point of symmetry the character projector P_Γ = (d_Γ/|G_k|) Σ_g χ_Γ(g)* P(g) commutes with H and
does not depend on the parameters, so H is split once into blocks per irrep; every eigenvalue of
block Γ is d_Γ-fold, and the m-th multiplet is the m-th level of label Γ. Derivatives follow from
Hellmann–Feynman (trace over the multiplet), so the least-squares fit has an exact Jacobian and does
not depend on a degeneracy tolerance.

Energy zero. A common shift of the model's energies is exactly a common shift of all onsite energies,
so no separate offset is fitted (it would make the problem singular): the onsite energies are free
and carry the targets' zero, and the fitted model reproduces the target energies as given.

Regularisation. Levels at four or five points rarely determine 20-odd parameters; a Tikhonov term
λ (θ − θ_initial) picks, among equally good fits, the one nearest the start (stage 1); stage 2 repeats
the fit without it, from the stage-1 result, to remove its bias on the levels.

Limits. A label carried by a single multiplet built from one orbital shell (e.g. GM3+, H5+, P3 of
bcc d) has an energy linear in the parameters, so such levels can obey linear sum rules that no
parameter values break: then the rms has a floor (bcc, two shells: tests/test_tbfit.py, Nb).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from nhm.bands.bloch import BlochLevel
from nhm.bands.tightbinding import ORBITALS, TightBindingModel, model_from_wyckoff, orbital_names
from nhm.errors import InputError
from nhm.groups.irreps import little_group, normalize_k_name

__all__ = ["DEFAULT_HOPPINGS", "FitResult", "FittedLevel", "fit_to_levels", "sk_parameter_names", "targets_from_levels"]

_L = "spd"
_BONDS = {0: "s", 1: "p", 2: "d"}  # σ, π, δ
# Starting values (eV, first shell) with the usual signs of transition metals; shell n is scaled by
# 0.5**(n-1). Only a start: the fit moves them.
DEFAULT_HOPPINGS: dict[str, float] = {
    "sss": -1.0, "sps": 1.4, "sds": -0.8, "pps": 2.0, "ppp": -0.4,
    "pds": -1.0, "pdp": 0.4, "dds": -1.0, "ddp": 0.5, "ddd": -0.1,
}
_DEFAULT_ONSITE = {"s": 3.0, "p": 8.0, "d": 0.0}  # eV above the mean target energy
_RESTART_SCALES = (1.0, 0.6, 1.6)  # hoppings of the start scaled by these: fixed restarts
_RANK_TOL = 0.5  # eigenvalues of a projector are 0 or 1
WINDOW_MARGIN_EV = 0.1  # unmatched levels are pushed this far beyond the window, not left on its edge


def _angular_momenta(orbitals: Sequence[str]) -> list[int]:
    return sorted({ORBITALS[n][0] for n in orbital_names(orbitals)})


def sk_parameter_names(orbitals: Sequence[str]) -> tuple[str, ...]:
    """The Slater–Koster integrals ("sss", "sps", ...) that couple the given orbital shells."""
    ls = _angular_momenta(orbitals)
    return tuple(f"{_L[a]}{_L[b]}{_BONDS[m]}" for i, a in enumerate(ls) for b in ls[i:] for m in range(min(a, b) + 1))


@dataclass(frozen=True)
class FittedLevel:
    """One target level and the model level matched to it (same point and irrep), energies in eV."""

    point: str
    irrep: str
    target: float
    model: float

    @property
    def error(self) -> float:
        return self.model - self.target


@dataclass(frozen=True, eq=False)
class FitResult:
    """A fitted Slater–Koster model. Energies in eV on the targets' scale (e.g. E − E_F).

    ``parameters``: Slater–Koster integrals, one value per neighbour shell (as ``model_from_wyckoff``
    takes them); ``onsite``: "s"/"p"/"d" energies; ``levels``: every target with its model level;
    ``intruders``: model levels inside ``window`` that no target accounts for (their labels would
    differ from the targets'); ``success``: the optimiser converged and there are no intruders.
    """

    parameters: dict[str, tuple[float, ...]]
    onsite: dict[str, float]
    model: TightBindingModel
    levels: tuple[FittedLevel, ...]
    rms_eV: float
    max_abs_eV: float
    success: bool
    intruders: tuple[BlochLevel, ...] = ()
    message: str = ""
    window: tuple[float, float] | None = None

    def table(self) -> str:
        """The per-level table as text (point, irrep, target, model, error; eV)."""
        rows = [f"{'point':<6}{'irrep':<8}{'target':>9}{'model':>9}{'error':>9}"]
        rows += [f"{r.point:<6}{r.irrep:<8}{r.target:9.3f}{r.model:9.3f}{r.error:+9.3f}" for r in self.levels]
        rows += [f"{lv.k:<6}{lv.irrep:<8}{'—':>9}{lv.energy:9.3f}   intruder" for lv in self.intruders]
        return "\n".join(rows)


def targets_from_levels(
    levels: Mapping[str, Sequence[BlochLevel]], *, zero: float = 0.0, window: tuple[float, float] | None = None
) -> dict[str, list[tuple[float, str]]]:
    """DFT levels (e.g. ``analyze(...).levels``) as targets: energy − ``zero`` (eV), inside ``window`` if given."""
    out = {}
    for k, lvs in levels.items():
        rel = [(lv.energy - zero, lv.irrep) for lv in lvs]
        out[k] = [(e, lab) for e, lab in rel if window is None or window[0] <= e <= window[1]]
    return out


@dataclass(frozen=True)
class _Block:
    point: str
    label: str
    dimension: int
    matrices: np.ndarray  # (n_par, r, r): the parameters' matrices restricted to this irrep's subspace

    def levels(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Level energies (m,) and their gradients (m, n_par)."""
        h = np.tensordot(theta, self.matrices, axes=1)
        w, v = np.linalg.eigh(h)
        d = self.dimension
        grad = np.einsum("ia,pij,ja->ap", v.conj(), self.matrices, v).real
        m = len(w) // d
        return w.reshape(m, d).mean(axis=1), grad.reshape(m, d, -1).mean(axis=1)


def _blocks(space_group: int, letter, orbitals, names, shells: int, lattice, points) -> list[_Block]:
    """The symmetry blocks of every parameter's Hamiltonian at the given points."""
    kw = {"shells": shells} | ({} if lattice is None else {"lattice": lattice})
    unit = []
    for name in names:
        for s in range(shells):
            m = model_from_wyckoff(space_group, letter, orbitals, {name: tuple(float(i == s) for i in range(s + 1))}, **kw)
            unit.append(m)
    ref = unit[0] if unit else model_from_wyckoff(space_group, letter, orbitals, {}, **kw)
    ls = [o.l for o in ref.orbitals]
    onsite_l = sorted(set(ls))
    blocks: list[_Block] = []
    for point in points:
        lg = little_group(space_group, point)
        k = np.array([float(x) for x in lg.k])
        hs = [m.hamiltonian(k) for m in unit] + [np.diag([1.0 * (x == l) for x in ls]).astype(complex) for l in onsite_l]
        mats = [ref.symmetry_matrix(i, k) for i in lg.indices]
        for irrep in lg.irreps:
            proj = irrep.dimension / lg.order * np.tensordot(np.conj(irrep.characters), np.array(mats), axes=1)
            w, v = np.linalg.eigh((proj + proj.conj().T) / 2)
            u = v[:, w > _RANK_TOL]
            if u.shape[1]:
                sub = np.array([u.conj().T @ h @ u for h in hs])
                blocks.append(_Block(lg.name or point, irrep.label, irrep.dimension, sub))
    return blocks


def _start(names, onsite_names, shells, initial, targets) -> np.ndarray:
    init = dict(initial or {})
    unknown = set(init) - set(names) - set(onsite_names)
    if unknown:
        raise InputError(f"initial values for {sorted(unknown)}: the model's parameters are {list(names) + list(onsite_names)}")
    mean = float(np.mean([e for es in targets.values() for e in es]))
    theta = []
    for name in names:
        given = init.get(name)
        vals = (given,) if isinstance(given, (int, float)) else tuple(given) if given is not None else ()
        theta += [float(vals[s]) if s < len(vals) else DEFAULT_HOPPINGS[name] * 0.5**s for s in range(shells)]
    theta += [float(init[l]) if l in init else mean + _DEFAULT_ONSITE[l] for l in onsite_names]
    return np.array(theta)


@dataclass
class _Problem:
    """Residuals (eV) and their exact Jacobian: matched levels, window intruders, Tikhonov term."""

    blocks: list[_Block]
    want: dict[tuple[str, str], list[float]]  # (point, label) -> target energies, ascending
    window: tuple[float, float] | None
    theta0: np.ndarray

    def evaluate(self, theta: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
        res, jac = [], []
        for b in self.blocks:
            e, g = b.levels(theta)
            t = self.want.get((b.point, b.label), [])
            res.append(e[: len(t)] - np.array(t))
            jac.append(g[: len(t)])
            if self.window is not None:  # hinge: depth of an unmatched level inside the widened window
                lo, hi = self.window[0] - WINDOW_MARGIN_EV, self.window[1] + WINDOW_MARGIN_EV
                extra, ge = e[len(t):], g[len(t):]
                inside = (extra > lo) & (extra < hi)
                res.append(np.where(inside, np.where(hi - extra < extra - lo, extra - hi, extra - lo), 0.0))
                jac.append(np.where(inside[:, None], ge, 0.0))
        if lam:
            res.append(lam * (theta - self.theta0))
            jac.append(lam * np.eye(len(theta)))
        return np.concatenate(res), np.vstack(jac)

    def solve(self, start: np.ndarray, lam: float):
        memo: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}  # fun and jac at the same x: one diagonalisation

        def both(x):
            key = x.tobytes()
            if key not in memo:
                memo.clear()
                memo[key] = self.evaluate(x, lam)
            return memo[key]

        return least_squares(
            lambda x: both(x)[0], start, jac=lambda x: both(x)[1],
            method="trf", ftol=1e-15, xtol=1e-15, gtol=1e-15, max_nfev=2000,
        )

    def cost(self, theta: np.ndarray) -> float:
        return float(np.sum(self.evaluate(theta, 0.0)[0] ** 2))


def _targets(space_group: int, target_levels, window) -> dict[tuple[str, str], list[float]]:
    """(point, label) -> target energies (ascending), points in BCS names, labels checked to exist."""
    want: dict[tuple[str, str], list[float]] = {}
    for point, lvs in target_levels.items():
        lg = little_group(space_group, normalize_k_name(point))
        name = lg.name or point
        want.setdefault((name, ""), [])  # the point takes part even if the window leaves no target there
        for e, label in sorted((float(e), str(lab)) for e, lab in lvs):
            if window is None or window[0] <= e <= window[1]:
                lg.irrep(label)  # InputError for a label that does not exist at the point
                want.setdefault((name, label), []).append(e)
    if not any(want.values()):
        raise InputError("no target levels (inside the window)" if window else "no target levels")
    return want


def fit_to_levels(
    space_group: int,
    wyckoff_letter: str | Sequence[str],
    orbitals: Sequence[str],
    target_levels: Mapping[str, Sequence[tuple[float, str]]],
    *,
    shells: int = 2,
    initial: Mapping[str, float | Sequence[float]] | None = None,
    window: tuple[float, float] | None = None,
    lattice: np.ndarray | None = None,
    regularization: float = 1e-2,
) -> FitResult:
    """Fit the Slater–Koster integrals and onsite energies of a model to levels at points of symmetry.

    ``target_levels``: point name ("GM", "H", ...) -> (energy in eV, BCS irrep label) pairs; matching
    and energy zero as in the module docstring. ``initial``: starting values, Slater–Koster names ->
    value per shell (eV) and "s"/"p"/"d" -> onsite energy (eV), e.g. ``r.parameters | r.onsite`` of an
    earlier fit; missing ones start from ``DEFAULT_HOPPINGS`` (halved per further shell) and from the
    mean target energy + 3 (s), + 8 (p), + 0 (d) eV. ``window`` (eV, the targets' scale): targets
    outside are dropped, and model levels at the given points that no target accounts for are pushed
    ``WINDOW_MARGIN_EV`` beyond it, so that the fitted labels in the window are the targets'.
    ``regularization``: λ of the Tikhonov term λ (θ − θ_initial), stage 1 only.
    The model is ``model_from_wyckoff(space_group, wyckoff_letter, orbitals, ...)`` with ``shells``
    neighbour shells and ``lattice`` (default: units of a). Deterministic: fixed starts (the initial
    hoppings scaled by ``_RESTART_SCALES``), the best kept. Raises InputError for a target label the
    model cannot produce (or more targets of a label than the model has levels of it).
    """
    if shells < 1:
        raise InputError(f"shells = {shells}: at least one neighbour shell is needed")
    want = _targets(space_group, target_levels, window)
    points = list(dict.fromkeys(p for p, _ in want))
    want = {key: es for key, es in want.items() if key[1]}
    names = sk_parameter_names(orbitals)
    onsite_names = tuple(_L[l] for l in _angular_momenta(orbitals))
    blocks = _blocks(space_group, wyckoff_letter, orbitals, names, shells, lattice, points)
    count = {(b.point, b.label): b.matrices.shape[1] // b.dimension for b in blocks}
    for (point, label), es in want.items():
        if count.get((point, label), 0) < len(es):
            present = ", ".join(f"{lab}×{n}" for (p, lab), n in count.items() if p == point)
            raise InputError(
                f"target {label} at {point}: the model ({'+'.join(orbitals)} on {space_group} {wyckoff_letter}) has "
                f"{count.get((point, label), 0)} {label} level(s) there, the targets need {len(es)}; its levels at "
                f"{point} are {present} (add orbitals or drop the target)"
            )
    used = [b for b in blocks if (b.point, b.label) in want or window is not None]
    theta0 = _start(names, onsite_names, shells, initial, want)
    problem = _Problem(used, want, window, theta0)
    n_hop = len(names) * shells
    best = None
    for scale in _RESTART_SCALES:
        start = theta0.copy()
        start[:n_hop] *= scale
        x = problem.solve(start, regularization).x
        if best is None or problem.cost(x) < problem.cost(best) - 1e-12:
            best = x
    final = problem.solve(best, 0.0)  # stage 2: the bias of the Tikhonov term removed
    return _result(space_group, wyckoff_letter, orbitals, shells, lattice, names, onsite_names, final, problem, points)


def _result(space_group, letter, orbitals, shells, lattice, names, onsite_names, opt, problem: _Problem, points) -> FitResult:
    theta, window = opt.x, problem.window
    params = {n: tuple(float(theta[i * shells + s]) for s in range(shells)) for i, n in enumerate(names)}
    onsite = {l: float(theta[len(names) * shells + j]) for j, l in enumerate(onsite_names)}
    kw = {"shells": shells, "onsite": onsite} | ({} if lattice is None else {"lattice": lattice})
    model = model_from_wyckoff(space_group, letter, orbitals, params, **kw)
    rows, intruders = [], []
    for b in problem.blocks:
        e, _ = b.levels(theta)
        t = problem.want.get((b.point, b.label), [])
        rows += [FittedLevel(b.point, b.label, te, float(me)) for te, me in zip(t, e)]
        if window is not None:
            intruders += [BlochLevel(b.point, float(x), b.label, b.dimension) for x in e[len(t):] if window[0] < x < window[1]]
    rows.sort(key=lambda r: (points.index(r.point), r.target))
    intruders.sort(key=lambda lv: (points.index(lv.k), lv.energy))
    err = np.array([r.error for r in rows])
    return FitResult(
        params, onsite, model, tuple(rows), float(np.sqrt(np.mean(err**2))), float(np.max(np.abs(err))),
        bool(opt.status > 0 and not intruders), tuple(intruders), str(opt.message), window,
    )
