"""Errors that carry one readable message for the user (the CLI prints it and exits non-zero)."""


class NhmError(Exception):
    """Base class: the message names the problem in words a physicist understands."""


class InputError(NhmError, ValueError):
    """Bad user input: unknown space group, k name, Wyckoff letter, element, malformed file, ..."""


class GroupTheoryError(NhmError, RuntimeError):
    """A group-theoretical consistency check failed (a bug or an upstream-library failure)."""
