"""A RAILWATCH_CACHE_DIR that starts with ``~`` is under the home folder, as in a shell.

A value the shell does not expand (quoted, or set in a systemd unit, a Docker env file
or a ``.env``) was taken literally: ``railwatch demo`` said the imagery was "cached in
~/rw-cache" and rendered it into a folder named ``~`` under the current one."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.errors import InputError

CACHE = "RAILWATCH_CACHE_DIR"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("RAILWATCH_USABLE_THRESHOLD", "RAILWATCH_REQUIRE_SERVICES", "RAILWATCH_DB"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path / "work")


def test_the_demo_renders_under_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import railwatch.sim.scenario

    rendered_into: list[Path] = []

    def render(scenario: object, out_dir: Path, **kwargs: object) -> None:
        rendered_into.append(Path(out_dir))
        raise InputError("stopped by the test before rendering")

    monkeypatch.setattr(railwatch.sim.scenario, "render_scenario", render)
    monkeypatch.setenv(CACHE, "~/rw-cache")
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 2
    home_cache = tmp_path / "home" / "rw-cache"
    assert f"cached in {home_cache})" in capsys.readouterr().err
    assert rendered_into == [home_cache / "scenarios" / "tumangang"]
    assert not (tmp_path / "work" / "~").exists()


def test_a_tilde_inside_the_path_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from railwatch.settings import get_settings

    monkeypatch.setenv(CACHE, "cache~1")
    assert get_settings().cache_dir == Path("cache~1")


def test_the_home_of_no_user_is_refused(
    tmp_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(CACHE, "~no-such-user-s28c/cache")
    assert main(["--db", tmp_db_url, "site", "list"]) == 1
    err = capsys.readouterr().err
    assert f"{CACHE}='~no-such-user-s28c/cache' is not a folder path" in err
    assert "Traceback" not in err and "internal error" not in err
