"""``railwatch report`` gives the report builder the usable threshold of its own
settings (``--db``, ``RAILWATCH_*``, read once): the builder read the environment a
second time, so a report could use another threshold than the run's."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_stac import site_db


@pytest.mark.parametrize("ending", ["html", "pdf"])
def test_report_uses_the_threshold_of_the_cli_settings(
    ending: str,
    tmp_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from railwatch.cli import _common
    from railwatch.cli.main import main
    from railwatch.report import builder

    site_db(tmp_db_url).dispose()
    monkeypatch.setenv("RAILWATCH_USABLE_THRESHOLD", "0.42")
    real_settings = _common.CliState.settings

    def settings_then_env_changes(self: _common.CliState) -> object:
        read = real_settings(self)
        monkeypatch.setenv("RAILWATCH_USABLE_THRESHOLD", "0.9")  # after the run read it
        return read

    monkeypatch.setattr(_common.CliState, "settings", settings_then_env_changes)
    used: list[object] = []
    real_data = builder.build_report_data

    def spy(*args: object, **kwargs: object) -> object:
        used.append(kwargs.get("usable_threshold"))
        return real_data(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builder, "build_report_data", spy)
    out = tmp_path / f"r.{ending}"
    code = main(["--db", tmp_db_url, "report", "yard", "-o", str(out)])
    assert code == 0, capsys.readouterr()
    assert out.is_file()
    assert used == [0.42]
    if ending == "html":
        text = out.read_text()
        assert "clear fraction of the site &gt;= 0.42" in text
        assert "&gt;= 0.9" not in text
