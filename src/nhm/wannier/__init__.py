"""Krüger's tests for usual and spin-dependent Wannier functions; the superconducting-band search."""
