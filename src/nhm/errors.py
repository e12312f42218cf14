"""Errors that carry one readable message for the user (the CLI prints it and exits non-zero)."""


class NhmError(Exception):
    """Base class: the message names the problem in words a physicist understands."""


class InputError(NhmError, ValueError):
    """Bad user input: unknown space group, k name, Wyckoff letter, element, malformed file, ..."""


class GroupTheoryError(NhmError, RuntimeError):
    """A group-theoretical consistency check failed (a bug or an upstream-library failure)."""


class NhmWarning(UserWarning):
    """Something the user should know, that does not stop the run (the CLI prints ``nhm: warning: ...``)."""


class Terminated(BaseException):
    """The process received SIGTERM or SIGHUP (raised by the CLI's handler so that clean-up code runs).

    A BaseException, like KeyboardInterrupt: ``except Exception`` blocks must not swallow it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
