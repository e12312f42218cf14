"""Checks of numeric options: one readable InputError (the CLI prints it and exits 2) instead of nonsense.

Each check returns the value (converted to float or int) so it can be used inline::

    mesh = positive_int("--mesh", mesh)
    window = positive_finite("--window", window)
"""

from __future__ import annotations

import math
import numbers

from nhm.errors import InputError


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number, got {value!r}")
    return float(value)


def _show(value: float) -> str:
    return f"{value:g}"


def finite(name: str, value: object) -> float:
    """``value`` as a float; InputError if it is NaN or ±inf."""
    x = _number(name, value)
    if not math.isfinite(x):
        raise InputError(f"{name} must be a finite number, got {_show(x)}")
    return x


def positive_finite(name: str, value: object) -> float:
    """``value`` as a float; InputError unless 0 < value < inf."""
    x = finite(name, value)
    if x <= 0:
        raise InputError(f"{name} must be positive, got {_show(x)}")
    return x


def nonnegative_finite(name: str, value: object) -> float:
    """``value`` as a float; InputError unless 0 ≤ value < inf."""
    x = finite(name, value)
    if x < 0:
        raise InputError(f"{name} must not be negative, got {_show(x)}")
    return x


def nonzero_finite(name: str, value: object) -> float:
    """``value`` as a float; InputError if it is 0, NaN or ±inf."""
    x = finite(name, value)
    if x == 0:
        raise InputError(f"{name} must not be zero")
    return x


def positive_int(name: str, value: object) -> int:
    """``value`` as an int; InputError unless it is an integer ≥ 1 (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise InputError(f"{name} must be a positive integer, got {value}")
    return int(value)


__all__ = ["finite", "nonnegative_finite", "nonzero_finite", "positive_finite", "positive_int"]
