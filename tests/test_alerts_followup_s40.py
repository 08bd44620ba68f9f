"""Follow-ups of the session-40 alerts review (2026-12-06, session 40): faults found and
left by the review, each with a test that fails without its fix."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

import railwatch
from railwatch.errors import InputError


def _days(n: int = 20) -> list[tuple[date, float]]:
    return [(date(2024, 1, 1) + timedelta(days=k), 5.0) for k in range(n)]


@pytest.mark.parametrize("offset", [9, 9.0, 0, "+09:00", timedelta(hours=30)])
def test_analyze_counts_refuses_an_offset_that_is_no_timedelta(offset: object) -> None:
    """utc_offset=9 (hours meant) was an internal TypeError inside api.py (a date's noon
    minus 9), before analyze_series' own check could say what to give."""
    with pytest.raises(InputError, match=r"utc_offset .* is not a site's offset from UTC"):
        railwatch.analyze_counts(_days(), utc_offset=offset)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"timedelta\(hours=9\)"):
        railwatch.analyze_counts(
            _days(),
            as_of=date(2024, 2, 1),
            utc_offset=offset,  # type: ignore[arg-type]
        )


def test_analyze_counts_refuses_it_for_a_file_too(tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    path.write_text("date,count\n" + "".join(f"{d},{c}\n" for d, c in _days()))
    with pytest.raises(InputError, match=r"utc_offset 9 is not a site's offset from UTC"):
        railwatch.analyze_counts(path, utc_offset=9)  # type: ignore[arg-type]


def test_analyze_counts_takes_a_timedelta_and_none() -> None:
    """The guard: a timedelta within 14 hours and None analyse as before."""
    for offset in (None, timedelta(0), timedelta(hours=14), timedelta(hours=-12)):
        assert (
            railwatch.analyze_counts(
                [(datetime(2024, 1, 1, 10) + timedelta(days=k), 5.0) for k in range(20)],
                as_of=date(2024, 1, 21),
                utc_offset=offset,
            )
            == []
        )


def test_a_look_back_counts_as_usable_only_the_images_it_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`analyze SITE --as-of DATE` said "121 usable of 121 images, 84 of them after
    2022-01-01 and left out": the 84 left out were counted among the usable ones. Now the
    usable images are those judged, of the images up to the date, and the later ones
    are said apart (--json's ``usable`` alike); one image made unusable, one fewer."""
    from sqlalchemy import select

    from railwatch.cli.main import main
    from railwatch.storage import Database
    from railwatch.storage.models import Scene
    from test_cli_analyze import _store_counts

    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store_counts(url)  # 121 images every 10 days from 2021-01-04, all usable
    db = Database(url)
    try:
        with db.session() as s:
            first = s.scalars(select(Scene).order_by(Scene.acquired_at)).first()
            assert first is not None
            first.usable, first.status = False, "unusable"
    finally:
        db.dispose()
    base = ["--db", url, "analyze", "yard", "--as-of", "2022-01-01"]
    assert main(base) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "36 usable of 37 images up to 2022-01-01; 84 images after it left out" in out
    assert main([*base, "--json"]) == 0
    back = json.loads(capsys.readouterr().out)
    assert (back["points"], back["usable"], back["after"]) == (121, 36, 84)
    # without a look-back nothing is left out, and the line says so as before
    assert main(["--db", url, "analyze", "yard"]) == 0
    assert "120 usable of 121 images;" in " ".join(capsys.readouterr().out.split())
