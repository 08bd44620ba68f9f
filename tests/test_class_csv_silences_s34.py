"""A one-class counts CSV of a site with 3 m images (the web API's ``?class=tank&format=csv``)
read back by ``analyze --counts`` raises the silences ``analyze SITE`` raises, no more.

A type has no count at 3 m (occupied track length tells only the total), so the API
writes such an image's line of a type as usable with an empty count. Until session 34
``csvio`` read that line as a gap, and the quality rule saw no usable image for as long
as the site was seen at 3 m only: on the demo's tank CSV five silences (one of them
"medium", ongoing) that the stored analysis does not have.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from railwatch.analysis.alerts import analyze_series, quality_alerts
from railwatch.analysis.csvio import parse_counts_csv
from railwatch.analysis.settings import AlertSettings
from railwatch.analysis.types import CountPoint

HEADER = (
    "when,day,local_zone,scene_id,gsd,cls,count,low,high,usable,clear_fraction,"
    "coverage,method,long_train_present,reviewed"
)
START = datetime(2022, 1, 1, 2, 0, tzinfo=UTC)


def _line(i: int, *, coarse: bool, usable: bool = True) -> str:
    when = START + timedelta(days=10 * i)
    if coarse:
        cells = f"3.0,tank,,,,{'true' if usable else 'false'},1.0,1.0,length"
    else:
        cells = f"0.5,tank,2.0,1.0,4.0,{'true' if usable else 'false'},1.0,1.0,objects"
    return f"{when.isoformat()},{when.date().isoformat()},UTC,{i + 1},{cells},,false"


def _tank_csv(*, coarse_usable: bool) -> str:
    # 20 fine images 10 days apart, then 12 images at 3 m (120 days), then 3 fine ones
    lines = [_line(i, coarse=False) for i in range(20)]
    lines += [_line(i, coarse=True, usable=coarse_usable) for i in range(20, 32)]
    lines += [_line(i, coarse=False) for i in range(32, 35)]
    return "\n".join([HEADER, *lines]) + "\n"


def _quality(text: str) -> list[str]:
    series = parse_counts_csv(text, source="tank.csv")
    (points,) = series.values()
    last = max(p.when for p in points)
    alerts = analyze_series(points, settings=AlertSettings(), as_of=last)
    return [a.key for a in alerts if a.kind == "quality"]


def test_usable_3m_lines_of_a_type_are_no_silence() -> None:
    assert _quality(_tank_csv(coarse_usable=True)) == []


def test_unusable_3m_lines_still_make_a_silence() -> None:
    # the same images marked unusable: 130 days without a usable image is a silence
    assert len(_quality(_tank_csv(coarse_usable=False))) == 1


def test_a_usable_3m_line_of_a_type_is_read_usable_without_a_count() -> None:
    series = parse_counts_csv(_tank_csv(coarse_usable=True), source="tank.csv")
    (points,) = series.values()
    coarse = [p for p in points if p.gsd == 3.0]
    assert coarse and all(p.usable and p.count is None for p in coarse)
    assert all(p.method == "length" for p in coarse)


def test_the_quality_rule_counts_an_image_whose_method_cannot_tell_the_class() -> None:
    fine = [
        CountPoint(when=START + timedelta(days=10 * i), count=2.0, cls="tank") for i in range(20)
    ]
    coarse = [
        CountPoint(
            when=START + timedelta(days=10 * i), count=None, cls="tank", method="length", gsd=3.0
        )
        for i in range(20, 32)
    ]
    end = START + timedelta(days=10 * 32)
    assert quality_alerts([*fine, *coarse], AlertSettings(), as_of=end) == []
    # a point with no count whose method tells its class is still a gap (the default)
    gaps = [CountPoint(when=p.when, count=None, cls="tank") for p in coarse]
    assert len(quality_alerts([*fine, *gaps], AlertSettings(), as_of=end)) == 1
