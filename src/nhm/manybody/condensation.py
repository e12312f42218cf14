"""From a model and a field F(k) to the nonadiabatic condensation energy ΔE (seed Eq. 23).

Pipeline: model (ε(k), ⟨ij|v|kl⟩) → H in the site/spin basis → spin-dependent Wannier basis (W from F)
→ split into H_HF, H_c, H_ex, H_z → Bloch basis → ED in momentum sectors. Reported side by side:

- E0(H): computed in the f = 1 basis, where S_z is conserved (the spectrum of H does not depend on f);
- E0(H′), H′ = H_HF + H_c + H_ex = H − H_z, in the f basis (no S_z: the m-count is not conserved);
- ΔE = E0(H) − E0(H′) (postulate 1 of the NHM, Eq. 20, asserts ΔE > 0 for the narrowest band);
- ⟨G′|H_z|G′⟩ (for a degenerate G′: the lowest eigenvalue of H_z projected onto the ground manifold of
  H′, the tightest bound) and the variational bound E0(H) ≤ E0(H′) + ⟨G′|H_z|G′⟩, i.e. ΔE ≤ ⟨G′|H_z|G′⟩;
- the spectrum-invariance residual max_i |E_i(H; f) − E_i(H; f = 1)| over the lowest few distinct
  levels, with H diagonalized in the f basis (all momentum sectors, or only those of the ground
  state of H for large clusters: ``residual_sectors``).
"""

from __future__ import annotations

import resource
import time
from dataclasses import asdict, dataclass, field
from math import comb
from typing import Any, Callable, Literal

import numpy as np

from nhm.errors import InputError
from nhm.manybody.ed import Spectrum, compile_operator, diagonalize, projected_expectation
from nhm.manybody.fock import ModeLabels
from nhm.manybody.interactions import LatticeModel, extended_hubbard, gaussian_coulomb
from nhm.manybody.lattice import Cluster, auto_cluster, make_cluster
from nhm.manybody.operators import FermionOperator, bloch_transform, spin_orbital_operator
from nhm.manybody.split import SplitHamiltonian, split_hamiltonian
from nhm.manybody.wannier_basis import (
    SpinField,
    checked_field,
    example_field,
    kramers_phases_constant,
    time_reversal_defect,
    wannier_matrix,
    wannier_spread,
)

INTERACTIONS = ("hubbard", "gaussian")

MODEL_RATIO_MAX = 1e4
"""Largest |U|, |V|, |J|, |P|, |t′| and e²/a in units of |t|. At |U/t| = 10⁴ the ground state is the atomic limit
to within t²/U = 10⁻⁴ t; beyond, the t-scale physics (ΔE is of order t) drowns in the rounding of U-scale
energies, and at 1e308 the sums overflow to NaN."""

HOPPING_RANGE = (1e-6, 1e6)
"""Allowed |t|. t is the energy unit (ΔE is printed in units of t), so any value describes the same physics
after rescaling; within this range products of energies stay far from underflow and overflow."""

MAX_SHELLS = 4
"""Neighbour shells that --V, --J and --P may name: interactions of Wannier functions decay within a few
neighbours, and the lattices' shell tables hold four shells for every lattice (the chain has no fifth)."""
AUTO_RESIDUAL_LIMIT = 60_000  # largest f-basis sector for which the residual uses every sector by default


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines one calculation (energies in units of t, lengths in units of a).

    ``electrons=None`` means half filling (N_e = N). ``V``, ``J``, ``P`` are per neighbour shell.
    ``interaction="gaussian"`` replaces U, V, J, P by Coulomb integrals of s-Gaussians (``alpha``,
    ``coulomb`` = e²/(4πε₀a)).
    """

    lattice: str = "chain"
    sites: int = 8
    electrons: int | None = None
    t: float = 1.0
    t2: float = 0.0
    U: float = 4.0
    V: tuple[float, ...] = ()
    J: tuple[float, ...] = ()
    P: tuple[float, ...] = ()
    interaction: str = "hubbard"
    alpha: float = 4.0
    coulomb: float = 2.0
    field: str = "texture"
    strength: float = 1.0
    supercell: tuple[tuple[int, ...], ...] | None = None

    @property
    def n_electrons(self) -> int:
        return self.sites if self.electrons is None else self.electrons

    def validated(self) -> ModelSpec:
        """Self, after checking the parameters (InputError with a clear message otherwise)."""
        if isinstance(self.sites, bool) or not isinstance(self.sites, (int, np.integer)) or self.sites < 1:
            raise InputError(f"--sites must be a positive integer, got {self.sites}")
        if self.sites > 16:
            raise InputError(f"{self.sites} sites: exact diagonalization here is limited to 16 sites (32 spin orbitals)")
        ne = self.n_electrons
        if not isinstance(ne, (int, np.integer)) or not 0 <= ne <= 2 * self.sites:
            raise InputError(f"--electrons must lie in [0, 2N] = [0, {2 * self.sites}] for {self.sites} sites, got {ne}")
        if self.interaction not in INTERACTIONS:
            raise InputError(f"unknown interaction {self.interaction!r}; choose one of {', '.join(INTERACTIONS)}")
        for name in ("t", "t2", "U", "alpha", "coulomb", "strength"):
            if not np.isfinite(getattr(self, name)):
                raise InputError(f"{name} must be finite")
        self._check_magnitudes()
        return self

    def _check_magnitudes(self) -> None:
        """Every energy within :data:`MODEL_RATIO_MAX` |t|, |t| within :data:`HOPPING_RANGE`, at most
        :data:`MAX_SHELLS` shells, λ ∈ [0, 1]: before any diagonalization (and for every point of a scan)."""
        low, high = HOPPING_RANGE
        if not low <= abs(self.t) <= high:
            raise InputError(f"--t {self.t:g} lies outside [{low:g}, {high:g}] in magnitude: t is the energy unit (U, V, J, P and ΔE "
                             "are in units of t), so rescale all energies instead")
        energies = {"--t2": [self.t2], "--U": [self.U], "--V": list(self.V), "--J": list(self.J), "--P": list(self.P)}
        if self.interaction == "gaussian":
            energies["--coulomb"] = [self.coulomb]
        for name, values in energies.items():
            if name in ("--V", "--J", "--P") and len(values) > MAX_SHELLS:
                raise InputError(f"{name} gives {len(values)} neighbour shells, more than the {MAX_SHELLS} nhm tabulates: "
                                 "interactions beyond the fourth neighbours are negligible for Wannier functions")
            for x in values:
                if not np.isfinite(x):
                    raise InputError(f"{name} must be finite, got {x}")
                if abs(x) > MODEL_RATIO_MAX * abs(self.t):
                    raise InputError(f"{name} {x:g} exceeds {MODEL_RATIO_MAX:g} |t| = {MODEL_RATIO_MAX * abs(self.t):g}: far in the atomic "
                                     "limit, where the t-scale ΔE drowns in the rounding of the larger energies")
        if not 0.0 <= self.strength <= 1.0:
            raise InputError(f"--strength must lie in [0, 1] (λ of the k-space magnetic structure), got {self.strength:g}")


def make_model(spec: ModelSpec) -> LatticeModel:
    """The cluster and model of ``spec``."""
    spec = spec.validated()
    cluster: Cluster
    if spec.supercell is not None:
        cluster = make_cluster(spec.lattice, np.array(spec.supercell))
        if cluster.n_sites != spec.sites:
            raise InputError(f"the supercell gives {cluster.n_sites} sites, but --sites is {spec.sites}")
    else:
        cluster = auto_cluster(spec.lattice, spec.sites)
    if spec.interaction == "gaussian":
        return gaussian_coulomb(cluster, spec.t, spec.t2, alpha=spec.alpha, coulomb=spec.coulomb)
    return extended_hubbard(cluster, spec.t, spec.t2, U=spec.U, V=spec.V, J=spec.J, P=spec.P)


@dataclass(frozen=True)
class NHMHamiltonian:
    """H of a model in the spin-dependent Wannier basis of a field, split, and its Bloch-basis forms.

    ``bloch_*`` operators use modes p = 2k + m of the f basis; ``bloch_reference`` is H in the f = 1 basis.
    """

    model: LatticeModel
    field_matrices: np.ndarray
    field_label: str
    wannier: np.ndarray
    split: SplitHamiltonian
    bloch_full: FermionOperator
    bloch_prime: FermionOperator
    bloch_nonatomic: FermionOperator
    bloch_reference: FermionOperator
    labels: ModeLabels
    kramers_pairs: bool
    time_reversal_defect: float
    tensor_bytes: int
    build_seconds: float

    @property
    def cluster(self) -> Cluster:
        return self.model.cluster


def build_hamiltonian(model: LatticeModel, spin_field: SpinField) -> NHMHamiltonian:
    """Transform H into the Wannier basis of ``spin_field``, split it, and bring every part to Bloch modes."""
    t0 = time.perf_counter()
    cluster = model.cluster
    f = checked_field(spin_field, cluster)
    h_site = spin_orbital_operator(model)
    w = wannier_matrix(f, cluster)
    h_wannier = h_site.transform(w)
    parts = split_hamiltonian(h_wannier, cluster.n_sites)
    u = bloch_transform(cluster.n_sites, cluster.phases)
    prime = parts.prime.transform(u)
    nonatomic = parts.nonatomic.transform(u)
    full = prime + nonatomic  # = H in the f basis, by construction of the split
    reference = h_site.transform(u)
    labels = ModeLabels.bloch(cluster.k_add, cluster.k_neg)
    tensor_bytes = sum(op.nbytes for op in (h_site, h_wannier, prime, nonatomic, full, reference))
    return NHMHamiltonian(
        model, f, spin_field.label, w, parts, full, prime, nonatomic, reference, labels,
        kramers_phases_constant(f, cluster), time_reversal_defect(f, cluster), tensor_bytes,
        time.perf_counter() - t0,
    )


@dataclass
class CondensationResult:
    """The numbers of one calculation; :meth:`as_dict` is the JSON of ``nhm manybody --json``."""

    sites: int
    electrons: int
    lattice: str
    supercell: list[list[int]]
    model: str
    field: str
    E0_H: float
    E0_H_prime: float
    delta_E: float
    Hz_expectation_in_G_prime: float
    Hz_mean_in_G_prime: float
    variational_bound: float  # E0(H′) + ⟨G′|H_z|G′⟩ ≥ E0(H)
    bound_holds: bool
    spectrum_invariance_residual: float
    residual_sectors: str
    lowest_H: list[float]
    lowest_H_in_f_basis: list[float]
    lowest_H_prime: list[float]
    ground_momentum_H: list[list[float]]
    ground_momentum_H_prime: list[list[float]]
    max_eig_residual: float
    sector_dimension_max: int
    hilbert_dimension: int
    nnz_max: int
    kramers_pairs_used: bool
    time_reversal_defect: float
    wannier_spread: float
    seconds: dict[str, float] = field(default_factory=dict)
    memory: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _ground_momenta(spec: Spectrum, cluster: Cluster) -> list[list[float]]:
    out: list[list[float]] = []
    for res, _ in spec.ground:
        if res.momentum is None:
            continue
        k = cluster.k_fractional[res.momentum]
        if res.k_multiplicity == 2:
            out.append([float(x) for x in -k])
        out.append([float(x) for x in k])
    uniq = sorted({tuple(round(x, 12) + 0.0 for x in k) for k in out})
    return [list(k) for k in uniq]


def condensation_energy(
    ham: NHMHamiltonian,
    n_electrons: int,
    n_eig: int = 4,
    residual_sectors: Literal["auto", "all", "ground", "none"] = "auto",
    progress: Callable[[int, str], None] | None = None,
    n_eig_prime: int = 2,
) -> CondensationResult:
    """E0(H), E0(H′), ΔE, ⟨G′|H_z|G′⟩ and the spectrum-invariance residual for ``n_electrons`` electrons.

    ``residual_sectors``: "all" compares the lowest ``n_eig`` levels over every sector, "ground" only in
    the momentum sectors of the ground state of H, "none" skips the check, "auto" picks "all" while a
    sector has at most AUTO_RESIDUAL_LIMIT states. For H′ only the ground manifold is needed
    (``n_eig_prime`` levels per sector, extended automatically when they are degenerate).
    """
    cluster = ham.cluster
    n = cluster.n_sites
    if not 0 <= n_electrons <= 2 * n:
        raise InputError(f"the number of electrons must lie in [0, 2N] = [0, {2 * n}], got {n_electrons}")
    labels = ham.labels
    times: dict[str, float] = {"build_hamiltonian": ham.build_seconds}
    t = time.perf_counter()
    c_ref = compile_operator(ham.bloch_reference, labels)
    c_prime = compile_operator(ham.bloch_prime, labels)
    c_z = compile_operator(ham.bloch_nonatomic, labels)
    times["compile"] = time.perf_counter() - t
    dim_estimate = comb(2 * n, n_electrons) // n
    mode = residual_sectors
    if mode == "auto":
        mode = "all" if dim_estimate <= AUTO_RESIDUAL_LIMIT else "ground"
    # E0(H) in the f = 1 basis: S_z sectors, and K ~ −K (H is time-reversal invariant). H is SU(2)
    # invariant, so unless every level is wanted with its multiplicity one S_z sector suffices.
    up_values = None if mode == "all" else [(n_electrons + 1) // 2]
    spec_ref = diagonalize(c_ref, labels, n_electrons, n_eig, kramers_pairs=True, keep_ground=False,
                           up_values=up_values, progress=progress)
    times["H_reference"] = spec_ref.seconds
    # E0(H′) in the f basis; the m-count only if H′ and H_z both conserve it (k-independent f)
    use_up = c_prime.conserves_up and c_z.conserves_up
    spec_p = diagonalize(c_prime, labels, n_electrons, n_eig_prime, kramers_pairs=ham.kramers_pairs, use_up=use_up,
                         progress=progress)
    times["H_prime"] = spec_p.seconds
    t = time.perf_counter()
    hz_min, hz_mean = projected_expectation(c_z, spec_p.ground)
    times["Hz_expectation"] = time.perf_counter() - t
    # spectrum invariance: H in the f basis against H in the f = 1 basis, lowest n_eig levels
    residual = float("nan")
    lowest_f: list[float] = []
    lowest_ref = spec_ref.energies.tolist() if mode == "all" else []
    if mode != "none":
        c_full = compile_operator(ham.bloch_full, labels)
        if mode == "all":
            spec_f = diagonalize(c_full, labels, n_electrons, n_eig, kramers_pairs=ham.kramers_pairs, keep_ground=False,
                                 use_up=c_full.conserves_up, progress=progress)
            ref_e = spec_ref.energies
        else:
            ground_k = _ground_sectors(spec_ref)
            spec_f = diagonalize(c_full, labels, n_electrons, n_eig, momenta=ground_k, keep_ground=False,
                                 use_up=c_full.conserves_up, progress=progress)
            ref_ground = diagonalize(c_ref, labels, n_electrons, n_eig, momenta=ground_k, keep_ground=False)
            ref_e = ref_ground.energies
            lowest_ref = ref_e.tolist()
        lev_f, lev_ref = _levels(spec_f.energies), _levels(ref_e)
        m = min(len(lev_f), len(lev_ref))
        residual = float(np.abs(lev_f[:m] - lev_ref[:m]).max(initial=0.0))
        lowest_f = spec_f.energies.tolist()
        times["H_f_basis"] = spec_f.seconds
    e0 = spec_ref.ground_energy
    e0p = spec_p.ground_energy
    bound = e0p + hz_min
    scale = max(1.0, abs(e0), abs(e0p))
    return CondensationResult(
        sites=n,
        electrons=n_electrons,
        lattice=cluster.lattice.name,
        supercell=cluster.supercell.tolist(),
        model=ham.model.label,
        field=ham.field_label,
        E0_H=e0,
        E0_H_prime=e0p,
        delta_E=e0 - e0p,
        Hz_expectation_in_G_prime=hz_min,
        Hz_mean_in_G_prime=hz_mean,
        variational_bound=bound,
        bound_holds=bool(e0 <= bound + 1e-9 * scale),
        spectrum_invariance_residual=residual,
        residual_sectors=mode,
        lowest_H=lowest_ref,
        lowest_H_in_f_basis=lowest_f,
        lowest_H_prime=spec_p.energies.tolist(),
        ground_momentum_H=_ground_momenta(_with_ground(spec_ref), cluster),
        ground_momentum_H_prime=_ground_momenta(spec_p, cluster),
        max_eig_residual=max(spec_ref.max_residual, spec_p.max_residual),
        sector_dimension_max=max(spec_ref.max_dimension, spec_p.max_dimension),
        hilbert_dimension=comb(2 * n, n_electrons),
        nnz_max=max(spec_ref.max_nnz, spec_p.max_nnz),
        kramers_pairs_used=ham.kramers_pairs,
        time_reversal_defect=ham.time_reversal_defect,
        wannier_spread=wannier_spread(ham.field_matrices, cluster),
        seconds={k: round(v, 4) for k, v in times.items()},
        memory={
            "peak_rss_MiB": round(_peak_rss_mib(), 1),
            "dense_tensor_MiB_each": round(ham.bloch_full.two_body.nbytes / 2**20, 3),
            "dense_tensors_MiB_total": round(ham.tensor_bytes / 2**20, 3),
        },
    )


def _levels(energies: np.ndarray, tol: float = 1e-7) -> np.ndarray:
    """Distinct levels of a sorted list (members closer than tol·scale to the previous one dropped).

    Lanczos finds every level but may miss copies of an exactly degenerate one (a triplet inside one
    sector when S_z is not conserved), so the invariance check compares distinct levels: both lists
    are prefixes of the same sequence of levels.
    """
    e = np.sort(np.asarray(energies, dtype=float))
    if e.size == 0:
        return e
    scale = max(1.0, float(np.abs(e).max()))
    keep = np.concatenate([[True], np.diff(e) > tol * scale])
    return e[keep]


def _ground_sectors(spec: Spectrum) -> list[int]:
    """Momentum indices whose lowest eigenvalue is the ground energy (partners −K included)."""
    tol = 1e-8 * max(1.0, abs(spec.ground_energy))
    ks: set[int] = set()
    for r in spec.sectors:
        if r.energies.size and r.energies[0] <= spec.ground_energy + tol and r.momentum is not None:
            ks.add(int(r.momentum))
    return sorted(ks)


def _with_ground(spec: Spectrum) -> Spectrum:
    """``spec`` with its ground list filled from the sector energies (when vectors were not kept)."""
    if spec.ground:
        return spec
    tol = 1e-8 * max(1.0, abs(spec.ground_energy))
    ground = [(r, np.zeros((0, 0))) for r in spec.sectors if r.energies.size and r.energies[0] <= spec.ground_energy + tol]
    return Spectrum(spec.energies, spec.sectors, spec.ground_energy, ground, spec.seconds, spec.used_up_sectors, spec.used_kramers_pairs)


def run(spec: ModelSpec, n_eig: int = 4, residual_sectors: Literal["auto", "all", "ground", "none"] = "auto",
        progress: Callable[[int, str], None] | None = None) -> CondensationResult:
    """Build the model and field of ``spec`` and compute its condensation energy."""
    spec = spec.validated()
    model = make_model(spec)
    spin_field = example_field(model.cluster, spec.field, spec.strength)
    ham = build_hamiltonian(model, spin_field)
    return condensation_energy(ham, spec.n_electrons, n_eig, residual_sectors, progress)
