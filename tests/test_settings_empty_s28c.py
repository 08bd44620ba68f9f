"""An empty (or blank) RAILWATCH_CACHE_DIR is refused, as an empty RAILWATCH_DB,
RAILWATCH_USABLE_THRESHOLD or RAILWATCH_REQUIRE_SERVICES are.

``Path("")`` is the current folder: ``RAILWATCH_CACHE_DIR=`` was silently taken as it, so
``railwatch demo`` rendered its imagery under ``./scenarios`` of whatever folder it ran
from and the web app wrote its reports under ``./reports``. Empty values are refused
rather than read as unset because the other variables already refuse them (and
tests/test_settings_env_s28b.py holds an empty threshold to be an error)."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.errors import ConfigError
from railwatch.storage import Database

CACHE = "RAILWATCH_CACHE_DIR"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("RAILWATCH_USABLE_THRESHOLD", "RAILWATCH_REQUIRE_SERVICES", "RAILWATCH_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_cache_dir_is_a_config_error(
    value: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(CACHE, value)
    assert main(["site", "list"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert err.strip().splitlines() == [
        f"error: environment variable {CACHE}={value!r} is not a folder path (where rendered "
        "demo imagery and the web app's reports are kept; the default is "
        "~/.cache/railwatch): fix or unset it"
    ]
    assert list(tmp_path.iterdir()) == []  # no ./railwatch.db made on the way


def test_the_demo_is_refused_before_anything_is_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import railwatch.sim.scenario

    def render(*args: object, **kwargs: object) -> None:
        raise AssertionError("the imagery was rendered")

    monkeypatch.setattr(railwatch.sim.scenario, "render_scenario", render)
    monkeypatch.setenv(CACHE, "")
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 1
    assert f"{CACHE}='' is not a folder path" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_cache_dir_that_is_given_still_works(
    tmp_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(CACHE, "relative cache")
    Database(tmp_db_url).dispose()  # `site list` reads a database that is there
    assert main(["--db", tmp_db_url, "site", "list"]) == 0
    assert "error" not in capsys.readouterr().err


def test_the_web_app_factory_refuses_it_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("fastapi")
    from railwatch.web.app import create_app

    monkeypatch.setenv("RAILWATCH_DB", f"sqlite:///{tmp_path / 'web.db'}")
    monkeypatch.setenv(CACHE, "")
    with pytest.raises(ConfigError, match=f"{CACHE}='' is not a folder path"):
        create_app()
    assert not (tmp_path / "web.db").exists()
