"""One reader of the settings for the CLI, the web app and the Python API (session 36).

``railwatch.errors.checked_settings`` replaced four copies of the same five lines
(``api._usable_threshold``, ``cli.detect._cache_dir``, ``cli._common.CliState.settings``,
``web.app._settings_from_environment``); each still refuses a bad ``RAILWATCH_*`` value
with the same :class:`ConfigError` message, not pydantic's ValidationError.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from railwatch.errors import ConfigError, checked_settings
from railwatch.settings import Settings, get_settings, refused_settings_message


def _expected(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("railwatch_usable_threshold", "abc")
    with pytest.raises(ValidationError) as err:
        get_settings()
    return refused_settings_message(err.value, os.environ)


def _api() -> object:
    from railwatch.api import _usable_threshold

    return _usable_threshold()


def _detect() -> object:
    from railwatch.cli.detect import _cache_dir

    return _cache_dir()


def _cli() -> object:
    from railwatch.cli._common import CliState

    return CliState().settings()


def _web() -> object:
    pytest.importorskip("fastapi")
    from railwatch.web.app import _settings_from_environment

    return _settings_from_environment()


@pytest.mark.parametrize("read", [checked_settings, _api, _detect, _cli, _web])
def test_a_refused_variable_is_one_config_error_everywhere(
    monkeypatch: pytest.MonkeyPatch, read: Callable[[], object]
) -> None:
    expected = _expected(monkeypatch)
    assert "railwatch_usable_threshold='abc' is not a number" in expected
    with pytest.raises(ConfigError) as err:
        read()
    assert str(err.value) == expected
    assert err.value.__cause__ is None
    assert err.value.__suppress_context__


def test_good_values_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAILWATCH_USABLE_THRESHOLD", "0.25")
    settings = checked_settings(db="sqlite:///x.db")
    assert isinstance(settings, Settings)
    assert settings.usable_threshold == 0.25
    assert settings.db == "sqlite:///x.db"
    assert _api() == 0.25
