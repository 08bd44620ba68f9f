"""The exception hierarchy.

Every error that reaches a user is a :class:`RailwatchError`. Its message is one
line that says what is wrong and what to do next. Subclasses also inherit the
matching builtin (as rasterio does), so callers can catch either.
"""

from __future__ import annotations

#: not typing's: ``import railwatch`` imports this module, and typing costs it 20 ms
TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers take the name as true
    from collections.abc import Callable, Sequence

    from railwatch.settings import Settings


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


class RailwatchWarning(UserWarning):
    """Root of every warning railwatch's Python API warns (``warnings.warn``): a result
    was made, but something the caller gave may make it wrong."""


class ScaleWarning(RailwatchWarning):
    """A ground sample distance given by hand for an image without georeference either
    disagrees with the scale its rails show or could not be checked against them
    (:func:`railwatch.detect.api.detect_file`): the count depends on it."""


def _shown_path(path: str) -> str:
    """``path`` relative to the current folder when it lies inside it, else as it is."""
    import os

    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if rel.startswith("..") else rel


def install_command(extra: str) -> str:
    """The command that installs ``extra`` into this environment: in a checkout
    installed in editable mode (``make demo``) ``.venv/bin/python -m pip install -e
    '.[EXTRA]'`` (``pip install 'railwatch[EXTRA]'`` there would fetch a released
    railwatch over the checkout), else ``python -m pip install 'railwatch[EXTRA]'``."""
    import json
    import shlex
    import sys
    from importlib import metadata
    from urllib.parse import unquote, urlparse

    python = shlex.quote(_shown_path(sys.executable))
    try:
        direct = json.loads(metadata.distribution("railwatch").read_text("direct_url.json") or "")
    except (metadata.PackageNotFoundError, ValueError, OSError):
        direct = {}
    if not isinstance(direct, dict):
        direct = {}
    url = urlparse(str(direct.get("url", "")))
    dir_info = direct.get("dir_info")
    if isinstance(dir_info, dict) and dir_info.get("editable") and url.scheme == "file":
        source = _shown_path(unquote(url.path))
        source = "." if source in ("", ".") else source
        return f"{python} -m pip install -e {shlex.quote(source + f'[{extra}]')}"
    return f"{python} -m pip install 'railwatch[{extra}]'"


class MissingDependencyError(RailwatchError, ImportError):
    """An optional dependency is not installed; the message names the extra and the
    command that installs it here (:func:`install_command`)."""

    def __init__(self, package: str, extra: str, purpose: str = "") -> None:
        what = f" for {purpose}" if purpose else ""
        super().__init__(
            f"{package} is needed{what} but is not installed: run `{install_command(extra)}`."
        )
        self.package = package
        self.extra = extra


def plural(n: int, one: str, many: str | None = None) -> str:
    """``n`` and its noun, for messages: "1 scene", "5 scenes", ``many`` where the plural
    is not ``one`` + "s". The one helper of the core and the CLI (2026-12-06, session 41:
    ingest, ``site remove`` and the alerts each had their own); the CLI's
    ``plural_s`` gives the ending alone."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def some(items: Sequence[str], shown: int, sep: str = ", ") -> str:
    """``items`` joined for a message, the first ``shown`` of a longer list and how many
    more: "a.tif, b.tif and 3 more". One helper for the lists the CLI and the core cut
    (session 49 review: spelled seven ways)."""
    more = len(items) - shown
    return sep.join(items[:shown]) + (f" and {more} more" if more > 0 else "")


def said_numbers(values: Sequence[float], holds: Callable[[list[float]], bool]) -> list[str]:
    """Numbers as an error says them: with 6 significant digits (``130.63``) where the
    numbers read back from them still break the rule the error names (``holds``), else
    with as many more as that takes (``180.0004``, ``130.6000001``), else every digit.
    ``holds=lambda v: v == list(values)`` writes them as given (for a command to retype).
    Since 2026-12-07 (session 51): ``:g`` alone made "coordinate (180, 10) out of range
    ... longitude must be within ±180" of 180.0004, "west 130.6 is east of east 130.6"
    of 130.6000001 and "low 5 is greater than high 5" of 5.0000001 (found by fuzzing)."""
    for digits in (6, 8, 10, 12, 15):
        texts = [f"{v:.{digits}g}" for v in values]
        if holds([float(t) for t in texts]):
            return texts
    return [repr(float(v)) for v in values]


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


def checked_settings(**overrides: object) -> Settings:
    """:func:`railwatch.settings.get_settings` (the ``RAILWATCH_*`` variables read now, with
    ``overrides``); a value they refuse is a :class:`ConfigError` with one line per
    variable (:func:`railwatch.settings.refused_settings_message`: its name as set, its
    value, what it must be, "fix or unset it"), not pydantic's ValidationError. The CLI,
    the web app and the Python API read their settings so (session 36: four copies)."""
    import os

    from pydantic import ValidationError

    from railwatch.settings import get_settings, refused_settings_message

    try:
        return get_settings(**overrides)
    except ValidationError as err:
        raise ConfigError(refused_settings_message(err, os.environ)) from None
