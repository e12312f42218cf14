"""nhm's version, in a module of its own: the package exports it as ``nhm.__version__``, and the screen keys its
rows with it (:meth:`nhm.screen.params.ScreenParameters.hash`) without importing the package's public API."""

__version__ = "0.2.0"
