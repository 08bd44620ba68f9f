"""An error of several lines (one per bad ``RAILWATCH_*`` variable) prints its later
lines indented under the first's "error: " prefix; they started at the margin, where
they read as other output. A one-line error is printed as before."""

from __future__ import annotations

from pathlib import Path

import pytest

THRESHOLD = (
    "environment variable RAILWATCH_USABLE_THRESHOLD='abc' is not a number from 0 to 1 "
    "(the clear fraction of a site a scene needs to be counted; the default is 0.8): "
    "fix or unset it"
)
SERVICES = (
    "environment variable RAILWATCH_REQUIRE_SERVICES='maybe' is not true or false "
    "(also 1/0, yes/no, on/off): fix or unset it"
)


def test_two_bad_variables_print_as_one_indented_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAILWATCH_USABLE_THRESHOLD", "abc")
    monkeypatch.setenv("RAILWATCH_REQUIRE_SERVICES", "maybe")
    capsys.readouterr()
    assert main(["site", "list"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: {THRESHOLD}",
        f"       {SERVICES}",
    ]


def test_one_bad_variable_prints_one_line_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAILWATCH_USABLE_THRESHOLD", "abc")
    monkeypatch.delenv("RAILWATCH_REQUIRE_SERVICES", raising=False)
    capsys.readouterr()
    assert main(["site", "list"]) == 1
    assert capsys.readouterr().err.splitlines() == [f"error: {THRESHOLD}"]
