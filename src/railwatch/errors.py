"""The exception hierarchy.

Every error that reaches a user is a :class:`RailwatchError`. Its message is one
line that says what is wrong and what to do next. Subclasses also inherit the
matching builtin (as rasterio does), so callers can catch either.
"""

from __future__ import annotations


class RailwatchError(Exception):
    """Root of every error railwatch raises on purpose."""


class ConfigError(RailwatchError, ValueError):
    """A setting or option has an invalid value."""


class InputError(RailwatchError, ValueError):
    """User input (a file, a geometry, a date, a CSV line) is invalid."""


class GeometryError(InputError):
    """A geometry is invalid, empty, self-intersecting or in the wrong axis order."""


class ImageryError(RailwatchError, OSError):
    """An image cannot be read, is corrupt, or lacks what is needed (CRS, date...)."""


class NoOverlapError(ImageryError):
    """An image does not intersect the site."""


class NotFoundError(RailwatchError, LookupError):
    """A named object (site, scene, alert, event) does not exist."""


class AlreadyExistsError(RailwatchError, ValueError):
    """An object with the same name or identity already exists."""


class StorageError(RailwatchError, RuntimeError):
    """The database cannot be opened, migrated or written."""


class DetectionError(RailwatchError, RuntimeError):
    """A detector cannot be loaded or run."""


class MissingDependencyError(RailwatchError, ImportError):
    """An optional dependency is not installed; the message names the extra."""

    def __init__(self, package: str, extra: str, purpose: str = "") -> None:
        what = f" for {purpose}" if purpose else ""
        super().__init__(
            f"{package} is needed{what} but is not installed: "
            f"run `pip install 'railwatch[{extra}]'`."
        )
        self.package = package
        self.extra = extra


def os_reason(err: OSError) -> str:
    """Why an :class:`OSError` happened, for a one-line message: its reason, and the path
    it is about when the error names one (which may be a parent of the path asked for)."""
    reason = err.strerror or str(err)
    return f"{reason}: {err.filename}" if err.filename else reason


def lazy_import(module: str, extra: str, purpose: str = "") -> object:
    """Import an optional module, or raise :class:`MissingDependencyError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingDependencyError(module.split(".")[0], extra, purpose) from err
