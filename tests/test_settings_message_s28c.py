"""The message for RAILWATCH_* values that Settings refuses is built in one place,
:func:`railwatch.settings.refused_settings_message`, which the CLI and the web app's
factory both raise as a ConfigError.

It was written twice (``cli/_common.py`` and ``web/app.py``, each with its own table of
what each setting must be), so a change to one (a new setting's wording) left the other
saying something else."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from railwatch import settings as settings_module
from railwatch.cli.main import main
from railwatch.errors import ConfigError
from railwatch.settings import Settings, refused_settings_message

THRESHOLD = "RAILWATCH_USABLE_THRESHOLD"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (THRESHOLD, "RAILWATCH_REQUIRE_SERVICES", "RAILWATCH_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_the_message_is_a_plain_function_of_the_error_and_the_environment() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(usable_threshold="abc", require_services="maybe")  # type: ignore[arg-type]
    environ = {"railwatch_usable_threshold": "abc", "RAILWATCH_REQUIRE_SERVICES": "maybe"}
    assert refused_settings_message(info.value, environ).splitlines() == [
        "environment variable railwatch_usable_threshold='abc' is not a number from 0 to 1 "
        "(the clear fraction of a site a scene needs to be counted; the default is 0.8): "
        "fix or unset it",
        "environment variable RAILWATCH_REQUIRE_SERVICES='maybe' is not true or false "
        "(also 1/0, yes/no, on/off): fix or unset it",
    ]


def test_the_cli_and_the_web_app_say_what_the_one_table_says(
    tmp_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(settings_module.SETTING_EXPECTED, "usable_threshold", "a fraction X")
    monkeypatch.setenv(THRESHOLD, "abc")
    assert main(["--db", tmp_db_url, "site", "list"]) == 1
    assert f"{THRESHOLD}='abc' is not a fraction X: fix or unset it" in capsys.readouterr().err

    pytest.importorskip("fastapi")
    from railwatch.web.app import create_app

    monkeypatch.setenv("RAILWATCH_DB", f"sqlite:///{tmp_path / 'web.db'}")
    with pytest.raises(ConfigError) as info:
        create_app()
    assert str(info.value) == (
        f"environment variable {THRESHOLD}='abc' is not a fraction X: fix or unset it"
    )
