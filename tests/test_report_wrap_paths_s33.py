"""The PDF's wrapped text (``report.pdf._wrap``) keeps file paths, URLs and quoted
commands whole: ``textwrap`` broke a path at a space inside a folder name (the space
lost at the line's end), at a hyphen of a file name, or anywhere in a path longer than
a line (session 33)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from railwatch.report import build_report
from railwatch.report import pdf as pdf_mod
from railwatch.report.pdf import _wrap
from railwatch.storage import Database
from report_db import SITE_NAME, populate


def test_a_folder_name_with_a_space_is_not_split_at_it() -> None:
    path = "/data/rail watch/My Reports 2024/tumangang-yard.html"
    text = f"Every image of the period is listed in the HTML report at {path} (section Images)."
    lines = _wrap(text, 70).split("\n")
    assert any(path in line for line in lines), lines
    # and nothing of the sentence is lost
    assert " ".join(lines) == text


def test_a_path_longer_than_a_line_breaks_only_after_a_slash() -> None:
    path = "/srv/railwatch-data/exports/far-east-yards/tumangang-rail-yard/report-2024-q3.html"
    lines = _wrap(f"Written to {path} today.", 40).split("\n")
    assert all(len(line) <= 40 for line in lines), lines
    assert lines == [
        "Written to",
        "/srv/railwatch-data/exports/",
        "far-east-yards/tumangang-rail-yard/",
        "report-2024-q3.html today.",
    ]


def test_a_url_breaks_after_a_slash_not_at_a_hyphen_or_inside_its_double_slash() -> None:
    url = "https://railwatch.example.org/docs/site-reports/tumangang-rail-yard/2024-q3.html"
    assert _wrap(f"See {url} for more.", 36).split("\n") == [
        "See",
        "https://railwatch.example.org/docs/",
        "site-reports/tumangang-rail-yard/",
        "2024-q3.html for more.",
    ]


def test_a_quoted_command_is_kept_on_one_line_when_it_fits() -> None:
    command = "`railwatch report tumangang-rail-yard --from 2024-01-01 --to 2024-12-31`"
    lines = _wrap(f"Every image is listed in the HTML report of the period ({command}).", 80)
    assert command in lines.split("\n")[1], lines


def test_a_file_name_wider_than_a_line_is_broken_at_the_width_and_kept_whole() -> None:
    name = "/x/" + "a" * 50 + ".html"
    lines = _wrap(f"Written to {name}.", 30).split("\n")
    assert all(len(line) <= 30 for line in lines)
    assert "".join(lines[1:]) == name + "."


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    tmp = tmp_path_factory.mktemp("wrap")
    database = Database(f"sqlite:///{tmp / 'rw.db'}")
    populate(database, tmp / "scenes")
    yield database
    database.engine.dispose()


def test_the_pdf_quotes_an_html_file_name_holding_a_space(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF beside an HTML report named with a space says where its images are listed
    with the name quoted, so a line breaks before or after it, not inside it."""
    given: list[str | None] = []
    real = pdf_mod.write_pdf

    def spy(data: object, path: Path, *, full_list: str | None = None, on_step: Any = None) -> Path:
        given.append(full_list)
        return real(data, path, full_list=full_list, on_step=on_step)  # type: ignore[arg-type]

    monkeypatch.setattr(pdf_mod, "write_pdf", spy)
    build_report(db, SITE_NAME, tmp_path / "Yard report 2024 Q3.html", pdf=True)
    assert given == ["the HTML report beside this PDF, `Yard report 2024 Q3.html` (section Images)"]
    wrapped = _wrap(f"Every image of the period is listed in {given[0]}.", 60)
    assert any("`Yard report 2024 Q3.html`" in line for line in wrapped.split("\n")), wrapped


def test_a_bracket_against_a_quoted_command_stays_with_it() -> None:
    """The demo's caveat on low sun: the command was split at its spaces (textwrap), or
    a line ended with the "(" that opens it (a first try at keeping it whole)."""
    text = (
        "check them by eye before relying on them (`railwatch scene to-review` lists the "
        "images to check first)."
    )
    assert _wrap(text, 60).split("\n") == [
        "check them by eye before relying on them",
        "(`railwatch scene to-review` lists the images to check",
        "first).",
    ]


def test_a_number_stays_with_its_unit() -> None:
    """The demo's caveat on low sun began a line with "% off" ("against 10" above it)."""
    text = (
        "On test drawings it had never seen, those with the sun at 15-35° were counted "
        "6-7 % high in all and each 12-13 % off either way, against 10 % off over all its "
        "drawings."
    )
    lines = _wrap(text, 140).split("\n")
    assert lines[1].startswith("10 % off"), lines
    # kept whole with its brackets and comma; "12 m²" together
    assert _wrap("each of the cars (12-13 %), 12 m² of track", 14).split("\n") == [
        "each of the",
        "cars",
        "(12-13 %),",
        "12 m² of track",
    ]
