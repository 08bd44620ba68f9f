"""A RAILWATCH_* variable with a value Settings refuses is a clear ConfigError.

``RAILWATCH_USABLE_THRESHOLD=abc`` (or 1.5, nan, -1) and ``RAILWATCH_REQUIRE_SERVICES=maybe``
ended every command, ``railwatch site list`` too, with "internal error: ValidationError"
and pydantic's lines (status 70), and made the web app factory raise pydantic's error.
Now: status 1 (ConfigError's, as for a bad RAILWATCH_DB), one line per bad variable
naming it, its value, what it must be, and "fix or unset it"."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.errors import ConfigError
from railwatch.storage import Database

THRESHOLD = "RAILWATCH_USABLE_THRESHOLD"
SERVICES = "RAILWATCH_REQUIRE_SERVICES"


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (THRESHOLD, SERVICES, "RAILWATCH_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("value", ["abc", "1.5", "nan", "-1", "", "inf"])
def test_a_bad_threshold_is_a_config_error_naming_the_variable(
    value: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(THRESHOLD, value)
    assert main(["site", "list"]) == 1
    err = _err(capsys)
    assert "internal error" not in err and "ValidationError" not in err
    assert "pydantic" not in err and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: environment variable ")
    assert f"{THRESHOLD}={value!r} is not a number from 0 to 1" in lines[0]
    assert lines[0].endswith("fix or unset it")
    assert list(tmp_path.iterdir()) == []  # no ./railwatch.db made on the way


def test_a_bad_boolean_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(SERVICES, "maybe")
    assert main(["site", "list"]) == 1
    err = _err(capsys)
    assert f"{SERVICES}='maybe' is not true or false" in err
    assert "fix or unset it" in err and "internal error" not in err


def test_every_bad_variable_gets_its_own_line_with_db_option_too(
    tmp_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(THRESHOLD, "2")
    monkeypatch.setenv(SERVICES, "perhaps")
    assert main(["--db", tmp_db_url, "site", "list"]) == 1
    lines = _err(capsys).strip().splitlines()
    assert len(lines) == 2, lines
    assert any(f"{THRESHOLD}='2' is not a number from 0 to 1" in line for line in lines)
    assert any(f"{SERVICES}='perhaps' is not true or false" in line for line in lines)
    assert all(line.endswith("fix or unset it") for line in lines)


def test_the_variable_is_named_as_it_is_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the variables are read in any letter case: the error names the one that is set
    monkeypatch.setenv("railwatch_usable_threshold", "x")
    assert main(["site", "list"]) == 1
    assert "railwatch_usable_threshold='x' is not a number" in _err(capsys)


def test_other_commands_that_read_settings_say_the_same(
    tmp_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(THRESHOLD, "abc")
    assert main(["--db", tmp_db_url, "process", "yard"]) == 1
    assert f"{THRESHOLD}='abc' is not a number from 0 to 1" in _err(capsys)


def test_good_values_still_work(
    tmp_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(THRESHOLD, " 0.5 ")
    monkeypatch.setenv(SERVICES, "yes")
    Database(tmp_db_url).dispose()  # `site list` reads a database that is there
    assert main(["--db", tmp_db_url, "site", "list"]) == 0
    assert "error" not in _err(capsys)


def test_the_web_app_factory_raises_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("fastapi")
    from railwatch.web.app import create_app

    monkeypatch.setenv("RAILWATCH_DB", f"sqlite:///{tmp_path / 'web.db'}")
    monkeypatch.setenv("RAILWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(THRESHOLD, "1.5")
    monkeypatch.setenv(SERVICES, "maybe")
    with pytest.raises(ConfigError) as info:
        create_app()
    lines = str(info.value).splitlines()
    assert len(lines) == 2, lines
    assert f"environment variable {THRESHOLD}='1.5' is not a number from 0 to 1" in lines[0]
    assert f"environment variable {SERVICES}='maybe' is not true or false" in lines[1]
    assert all(line.endswith("fix or unset it") for line in lines)
    assert not (tmp_path / "web.db").exists()

    monkeypatch.setenv(THRESHOLD, "0.7")
    monkeypatch.delenv(SERVICES)
    assert create_app().state.settings.usable_threshold == 0.7
