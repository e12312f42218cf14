"""nhm — the nonadiabatic Heisenberg model: superconducting bands, k-space magnetism, and their group theory."""

__version__ = "0.2.0"
