"""The NHM Hamiltonian on small periodic clusters (science.md §5, §6).

H = H_HF + H_Cb in the basis of spin-dependent Wannier functions, its split into H_c, H_ex and H_z
(seed Eqs. 13–19), exact ground states of H and H′ = H − H_z, the nonadiabatic condensation energy
ΔE (seed Eq. 23) and the Cooper-pair selection rule of the seed's §3.
"""

from nhm._callable import make_callable as _make_callable  # noqa: E402

_make_callable(__name__, "nhm.api:manybody")  # nhm.manybody(...) runs nhm.api.manybody; the package stays the package
del _make_callable
