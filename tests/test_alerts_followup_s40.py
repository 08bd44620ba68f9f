"""Follow-ups of the session-40 alerts review (2026-12-06, session 40): faults found and
left by the review, each with a test that fails without its fix."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import railwatch
from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.types import CountPoint
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


def _untyped_rise() -> list[CountPoint]:
    """Three years of a yard with 10-16 cars, 8-14 of them of no type (``railcar``) and
    2 tank cars; then 130 cars, 120 of no type (the demo's 2023-12-09: "127 railcars"
    of the untyped class beside the total's "133 railcars")."""
    points: list[CountPoint] = []
    for k in range(36):
        when = datetime(2020, 1, 10, tzinfo=UTC) + timedelta(days=30 * k)
        untyped = float(8 + k % 7)
        points += [
            CountPoint(when=when, count=untyped + 2.0, cls="all"),
            CountPoint(when=when, count=untyped, cls="railcar"),
            CountPoint(when=when, count=2.0, cls="tank"),
        ]
    when = datetime(2023, 1, 20, tzinfo=UTC)
    points += [
        CountPoint(when=when, count=130.0, cls="all"),
        CountPoint(when=when, count=120.0, cls="railcar"),
        CountPoint(when=when, count=10.0, cls="tank"),
    ]
    return points


def test_an_untyped_class_alert_says_untyped_railcars_with_a_note() -> None:
    """The class of cars of no type (``railcar``) said "railcars" as the site total
    does, with no note of what it counts (a type's alerts have one): "120 railcars"
    beside the total's "130 railcars". Now "untyped railcars", and a note."""
    from railwatch.analysis.alerts import UNTYPED_NOTE

    alerts = analyze_series(_untyped_rise())
    untyped = [a for a in alerts if a.cls == "railcar"]
    total = [a for a in alerts if a.cls == "all"]
    assert untyped and total
    for a in untyped:
        assert "untyped railcars" in a.explanation, a.explanation
        assert a.explanation.endswith(UNTYPED_NOTE)
        assert "not every car" in a.explanation
    record = next(a for a in untyped if a.kind == "record" and a.when.year == 2023)
    assert record.severity != "info" and record.explanation.startswith("120 untyped railcars")
    # the total and the types read as before: no untyped, no note of it
    for a in total + [a for a in alerts if a.cls == "tank"]:
        assert "untyped" not in a.explanation, a.explanation
    last = next(a for a in total if a.kind == "record" and a.when.year == 2023)
    assert last.explanation.startswith("130 railcars")


def test_the_report_names_the_untyped_series_as_such() -> None:
    """The report named the series of an untyped class's alert "railcar" (beside "site
    total"), in the HTML's list of alerts and the PDF's (and its alert pages) alike."""
    from railwatch.report.html import render_html
    from railwatch.report.model import AlertRow, Evidence, Headline, ReportData, SceneRow
    from railwatch.report.pdf import _alert_blocks, _evidence_page

    t0 = datetime(2023, 12, 9, 2, tzinfo=UTC)
    row = SceneRow(
        1, t0, "SkySat", 0.5, True, 1.0, 1.0, 133.0, 113.0, 231.0,
        {"railcar": 127.0}, 0, "objects",
    )  # fmt: skip

    def alert(cls: str, value: float, severity: str) -> AlertRow:
        words = "untyped railcars" if cls == "railcar" else "railcars"
        return AlertRow(
            f"record:{cls}:2023-12-09", "record", severity, t0, cls, value,
            f"{value:g} {words} on 2023-12-09, against a 5-year record of 15.",
            scene_id=1, method="objects",
        )  # fmt: skip

    alerts = (alert("railcar", 127.0, "high"), alert("all", 133.0, "info"))
    evidence = tuple(Evidence(alert=a, after=None, before=None, after_row=row) for a in alerts)
    data = ReportData(
        site="yard", description="", generated=t0, scenes=(row,), baseline=(), events=(),
        alerts=alerts, evidence=evidence, caveats=(), method=(("detector", "d"),),
        classes=("railcar",),
        headline=Headline("yard", (None, None), row, 133.0, 113.0, 231.0, None, None, "s"),
    )  # fmt: skip
    page = " ".join(render_html(data).split())
    assert '<td class="l">record</td> <td class="l">untyped railcars</td>' in page
    assert '<td class="l">record</td> <td class="l">site total</td>' in page
    assert '<td class="l">railcar</td>' not in page
    heads = [text.split("\n")[0].split(":")[0] for text, _ in _alert_blocks(data, evidence)]
    assert any(h.endswith("· untyped railcars") for h in heads), heads
    assert any(h.endswith("· site total") for h in heads), heads
    fig = _evidence_page(data, evidence[0])
    try:
        texts = [t.get_text() for t in fig.texts]
        assert any(t.endswith("· untyped railcars") for t in texts), texts
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_analyze_counts_says_an_exports_class_columns_are_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`analyze --counts` of a CSV that `railwatch export` wrote passes over its
    count_<class> (and covered) columns, so the alerts of single classes that `analyze
    SITE` gives were missing with nothing said but a code comment in csvio. Now a note
    names the columns, and `--counts`'s help says so."""
    from sqlalchemy import select

    from railwatch.analysis.csvio import read_counts_file
    from railwatch.cli.main import main
    from railwatch.storage import Database
    from railwatch.storage.models import Count, Scene
    from test_cli_analyze import _store_counts

    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store_counts(url)  # 121 images of 8-12 cars, then 50
    db = Database(url)
    try:
        with db.session() as s:
            scenes = list(s.scalars(select(Scene).order_by(Scene.acquired_at)))
            for k, sc in enumerate(scenes):  # 2 tank cars, then 30 on the last image
                n = 30.0 if k == len(scenes) - 1 else 2.0
                s.add(
                    Count(
                        scene_id=sc.id, cls="tank", count=n, low=n * 0.9, high=n * 1.1,
                        method="objects", detector="hand", version="1",
                    )
                )  # fmt: skip
    finally:
        db.dispose()
    base = ["--db", url]
    assert main([*base, "analyze", "yard", "--class", "tank", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["alerts"], "the database raises tank alerts"
    out = tmp_path / "yard.csv"
    assert main([*base, "export", "yard", "--format", "csv", "--out", str(out)]) == 0
    capsys.readouterr()
    assert "count_tank" in out.read_text().splitlines()[0]
    assert read_counts_file(out).class_columns == ("count_tank",)
    assert main(["analyze", "--counts", str(out), "--json"]) == 0
    got = capsys.readouterr()
    assert all(a["class"] == "all" for a in json.loads(got.out))
    err = " ".join(got.err.split())
    assert "note: yard.csv: its per-class column (count_tank) is not read" in err
    assert "`railwatch analyze SITE` gives on the database are not raised here" in err
    # a file of the total alone: no note
    plain = tmp_path / "plain.csv"
    plain.write_text("date,count\n" + "".join(f"{d},{c}\n" for d, c in _days()))
    assert main(["analyze", "--counts", str(plain), "--json"]) == 0
    assert "per-class" not in capsys.readouterr().err
    assert main(["analyze", "--help"]) == 0
    helped = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "its per-class columns (count_<class>, covered) are not read" in helped
