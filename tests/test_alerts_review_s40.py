"""Review of the history, baseline and alert analysis (2026-12-06, session 40): faults
found by trying the rules, the settings and ``railwatch analyze`` for real."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from re import escape as re_escape

import numpy as np
import pytest

from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.settings import AlertSettings
from railwatch.analysis.types import Alert, CountPoint, Event
from railwatch.cli.main import main
from railwatch.errors import InputError


def _counts_csv(tmp_path: Path) -> Path:
    path = tmp_path / "counts.csv"
    path.write_text("date,count\n2024-01-01,3\n2024-01-08,4\n2024-01-15,5\n")
    return path


def test_record_years_has_an_upper_bound() -> None:
    """record_years had no upper bound: 10**12 years overflowed the record window's
    seconds (an internal OverflowError), and every precedent rule looks at each of the N
    years."""
    assert AlertSettings(record_years=100).record_years == 100
    with pytest.raises(InputError, match="less than or equal to 100"):
        AlertSettings(record_years=101)


def test_analyze_refuses_a_record_window_beyond_any_imagery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _counts_csv(tmp_path)
    years = ["--record-years", "1000000000000"]
    rc = main(["analyze", "--counts", str(path), *years, "--as-of", "2024-02-01"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "internal error" not in err
    assert "--record-years 1000000000000: input should be less than or equal to 100" in err


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"confirm_methods": ("lenght",)}, "confirm_methods names 'lenght', not a count method"),
        (
            {"confirm_methods": ("length", "object")},
            "confirm_methods names 'object', not a count method",
        ),
    ],
)
def test_a_confirm_method_that_is_no_count_method_is_refused(
    fields: dict[str, object], says: str
) -> None:
    """A misspelt confirm method confirmed nothing, silently. (noise_min_points above
    noise_history is no such nonsense: tests/test_analysis_noise.py switches the series'
    noise off so.)"""
    with pytest.raises(InputError, match=re_escape(says)):
        AlertSettings(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"shift_pair_ratio": 0.5}, "shift_pair_ratio (0.5) must be above 1"),
        ({"coarse_shift_pair_ratio": 1.0}, "coarse_shift_pair_ratio (1) must be above 1"),
        ({"noise_history": 10**11}, "less than or equal to 100000"),
    ],
)
def test_settings_that_make_nonsense_of_a_rule_are_refused(
    fields: dict[str, object], says: str
) -> None:
    """A doubled-pair ratio of 1 or less made every pair of images above the usual range
    "a doubling seen in two images" (with the laxer level test of a doubling), and a noise
    history of 10**11 images was a MemoryError (a buffer of that many residuals)."""
    with pytest.raises(InputError, match=re_escape(says)):
        AlertSettings(**fields)  # type: ignore[arg-type]


def test_the_settings_at_their_limits_are_taken() -> None:
    settings = AlertSettings(confirm_methods=("length", "objects", "manual", "presence"))
    assert settings.confirm_methods == ("length", "objects", "manual", "presence")
    # a noise never known (more residuals needed than are kept): the fixed floors only
    assert AlertSettings(noise_min_points=200).noise_min_points == 200
    assert AlertSettings(confirm_methods=()).confirm_methods == ()
    off = AlertSettings(shift_pair_ratio=0.0, coarse_shift_pair_ratio=0.0, noise_history=100_000)
    assert off.shift_pair_ratio == off.coarse_shift_pair_ratio == 0.0
    assert AlertSettings(shift_pair_ratio=1.01).shift_pair_ratio == 1.01


def _weekly(start: datetime, values: list[float], *, method: str = "objects") -> list[CountPoint]:
    gsd = 0.5 if method == "objects" else 3.0
    return [
        CountPoint(
            when=start + timedelta(days=7 * k),
            count=v,
            low=0.8 * v,
            high=1.3 * v,
            method=method,
            gsd=gsd,
            scene_id=k + 1,
        )
        for k, v in enumerate(values)
    ]


def test_a_first_image_made_another_way_changes_no_earlier_alert() -> None:
    """Alerts named their method (``metrics["method"]``) only where the series held
    several methods: the first 3 m image after years of 0.5 m counts rewrote the metrics of
    every earlier alert (each stored alert updated, with a new version), though the rules
    judge each image from earlier data only."""
    start = datetime(2019, 1, 7, 3, tzinfo=UTC)
    values = [float(10 + (k % 4)) for k in range(150)] + [40.0, 42.0, 41.0]
    fine = _weekly(start, values)
    later = start + timedelta(days=7 * len(values) + 3)
    coarse = CountPoint(when=later, count=38.0, low=25.0, high=60.0, method="length", gsd=3.0)
    before = analyze_series(fine, as_of=later)
    after = analyze_series([*fine, coarse], as_of=later)
    counted = [a for a in before if a.kind != "quality"]
    assert any(a.severity != "info" for a in counted), [a.key for a in counted]
    kept = {a.key: a for a in after}
    for alert in counted:
        assert kept[alert.key] == alert, alert.key
        assert alert.metrics["method"] == "objects"


def test_analyze_site_leaves_earlier_alerts_unchanged_after_a_3m_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from shapely.geometry import box

    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo
    from railwatch.storage.models import Count, Scene, to_wkb

    url = f"sqlite:///{tmp_path / 'rw.db'}"
    area = box(130.6, 42.42, 130.61, 42.43)
    start = datetime(2019, 1, 7, 3, tzinfo=UTC)
    values = [float(10 + (k % 4)) for k in range(150)] + [40.0, 42.0, 41.0, 3.0]
    rows = [(start + timedelta(days=7 * k), v, 0.5, "objects") for k, v in enumerate(values)]
    db = Database(url)

    def add(scenes: list[tuple[datetime, float, float, str]], first: int) -> None:
        with db.session() as s:
            site = repo.get_site(s, "yard")
            for k, (when, value, gsd, method) in enumerate(scenes, start=first):
                sc = Scene(
                    site_id=site.id,
                    uri=f"/x/{k}.tif",
                    content_hash=f"{k:064x}",
                    acquired_at=when,
                    crs="EPSG:32652",
                    footprint_wkb=to_wkb(area),
                    date_source="option",
                    gsd=gsd,
                    width=10,
                    height=10,
                    band_count=3,
                    dtype="uint8",
                    coverage=1.0,
                    status="processed",
                    usable=True,
                    clear_fraction=1.0,
                )
                s.add(sc)
                s.flush()
                s.add(
                    Count(
                        scene_id=sc.id,
                        cls="all",
                        count=value,
                        low=0.8 * value,
                        high=1.3 * value,
                        method=method,
                        detector="d",
                        version="1",
                    )
                )

    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=area))
    add(rows, 0)
    base = ["--db", url]
    as_of = (start + timedelta(days=7 * len(values) + 10)).date().isoformat()
    assert main([*base, "analyze", "yard", "--as-of", as_of, "--store", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["created"] >= 3
    add([(start + timedelta(days=7 * len(values) + 2), 12.0, 3.0, "length")], len(values))
    db.dispose()
    assert main([*base, "analyze", "yard", "--as-of", as_of, "--store", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    # the count alerts raised before the 3 m image are as they were
    assert second["updated"] == 0, second
    assert second["unchanged"] >= first["created"] - 1


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"low": float("nan"), "high": float("nan")}, "points[3]: low nan on 2019-01-28"),
        ({"low": 2.0, "high": float("inf")}, "points[3]: high inf on 2019-01-28"),
        ({"low": float("-inf"), "high": 20.0}, "points[3]: low -inf on 2019-01-28"),
        ({"gsd": float("nan")}, "points[3]: gsd nan on 2019-01-28"),
    ],
)
def test_a_bound_or_gsd_that_is_not_finite_is_refused_with_its_point(
    fields: dict[str, float], says: str
) -> None:
    """An interval of NaN (or infinite) bounds was an internal "ValueError: cannot convert
    float NaN to integer" (or an OverflowError) from the explanation's interval, and a gsd
    of NaN was judged as a fine image, with nan in the alert's metrics."""
    start = datetime(2019, 1, 7, tzinfo=UTC)
    points = _weekly(start, [10.0 + k % 3 for k in range(100)] + [60.0])
    points[3] = replace(points[3], **fields)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=re_escape(says) + ".*not a finite number"):
        analyze_series(points)


@pytest.mark.parametrize(
    ("event", "says"),
    [
        (
            Event(when=datetime(2020, 12, 1, tzinfo=UTC), label="summit"),
            ("events[0]: when datetime.datetime(2020, 12, 1", "is a datetime, not a date"),
        ),
        (
            Event(when="2020-12-01", label="summit"),  # type: ignore[arg-type]
            ("events[0]: when '2020-12-01' is a str, not a date",),
        ),
        (
            Event(when=date(2020, 12, 1), label=None),  # type: ignore[arg-type]
            ("events[0]: label None is a NoneType, not text",),
        ),
    ],
)
def test_an_event_not_dated_by_a_day_or_not_labelled_is_refused(
    event: Event, says: tuple[str, ...]
) -> None:
    """An Event of a datetime or of text crashed with "unsupported operand type(s) for -",
    one labelled None with "'NoneType' object has no attribute 'casefold'"."""
    start = datetime(2019, 1, 7, tzinfo=UTC)
    points = _weekly(start, [10.0 + k % 3 for k in range(100)] + [60.0])
    with pytest.raises(InputError, match=".*".join(map(re_escape, says))):
        analyze_series(points, [event])


def test_an_event_of_a_day_names_the_spike_after_it() -> None:
    start = datetime(2019, 1, 7, tzinfo=UTC)
    points = _weekly(start, [10.0 + k % 3 for k in range(100)] + [60.0])
    (spike,) = [
        a for a in analyze_series(points, [Event(date(2020, 12, 1), "x")]) if a.kind == "spike"
    ]
    assert (spike.event_label, spike.event_days) == ("x", 6)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"usable": "false"}, "points[100]: usable 'false' on 2020-12-07 is a str, not True or"),
        ({"reviewed": "no"}, "points[100]: reviewed 'no' on 2020-12-07 is a str, not True or"),
        ({"cls": None}, "points[100]: cls None on 2020-12-07 is a NoneType, not text"),
        ({"method": 3}, "points[100]: method 3 on 2020-12-07 is an int, not text"),
    ],
)
def test_a_flag_or_name_of_another_type_is_refused(fields: dict[str, object], says: str) -> None:
    """usable "false" (text, as a CSV read by hand gives it) was true: the unusable image's
    0 was judged as a count, a 'high' drop; a class or method of None was an internal
    TypeError."""
    start = datetime(2019, 1, 7, tzinfo=UTC)
    points = _weekly(start, [10.0 + k % 3 for k in range(100)] + [0.0])
    points[100] = replace(points[100], **fields)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=re_escape(says)):
        analyze_series(points)


def test_numpy_flags_are_taken_and_an_unusable_zero_is_a_gap() -> None:
    start = datetime(2019, 1, 7, tzinfo=UTC)
    points = _weekly(start, [10.0 + k % 3 for k in range(100)] + [0.0])
    points[100] = replace(points[100], usable=np.bool_(False), reviewed=np.bool_(False))  # type: ignore[arg-type]
    assert not [a for a in analyze_series(points) if a.when >= points[100].when]
    points[100] = replace(points[100], usable=np.bool_(True))  # type: ignore[arg-type]
    assert [a.kind for a in analyze_series(points) if a.when >= points[100].when] == ["drop"]


@pytest.mark.parametrize("offset", [9, None, timedelta(hours=30), timedelta(hours=-15)])
def test_an_offset_that_is_no_site_s_offset_from_utc_is_refused(offset: object) -> None:
    """utc_offset 9 (hours meant) or None was an internal TypeError, and 30 hours were
    taken, moving every image to another day."""
    start = datetime(2019, 1, 7, tzinfo=UTC)
    points = _weekly(start, [10.0 + k % 3 for k in range(30)])
    with pytest.raises(InputError, match=r"utc_offset .* is not a site's offset from UTC"):
        analyze_series(points, utc_offset=offset)  # type: ignore[arg-type]


def test_the_farthest_zones_are_taken() -> None:
    start = datetime(2019, 1, 7, tzinfo=UTC)
    points = _weekly(start, [10.0 + k % 3 for k in range(30)] + [60.0])
    for hours in (14, -12):
        alerts = analyze_series(points, utc_offset=timedelta(hours=hours))
        assert [a.kind for a in alerts if a.when == points[-1].when] == ["record", "spike"]


def test_an_infinite_threshold_is_refused() -> None:
    """series_noise_factor inf made the spread of a series without noise NaN (inf x 0):
    analyze_series failed with "cannot convert float NaN to integer"; no rule is switched
    off by infinity (their documented off values are 0)."""
    for name in ("series_noise_factor", "spike_z", "coarse_from_gsd", "seasonal_min_years"):
        with pytest.raises(InputError, match="finite number"):
            AlertSettings(**{name: float("inf")})  # type: ignore[arg-type]


def test_a_record_across_methods_has_its_image_s_gsd_and_thresholds() -> None:
    """Every count alert of an image with a gsd has gsd and thresholds in its metrics, and
    one of a 3 m count method_thresholds 'length' (docs/alerts.md): the records judged
    against the other methods' record (3 m counts after two years of 0.5 m ones) had
    neither, also where one replaced its own kind's note that had them."""
    start = datetime(2019, 1, 7, tzinfo=UTC)
    fine = _weekly(start, [15.0 + k % 3 for k in range(110)])
    later = start + timedelta(days=7 * 110)
    coarse = [
        CountPoint(when=later + timedelta(days=7 * j), count=60.0 + j, low=36.0 + j,
                   high=114.0, gsd=3.0, method="length")
        for j in range(4)
    ]  # fmt: skip
    records = [a for a in analyze_series([*fine, *coarse]) if a.when >= later]
    assert [a.kind for a in records] == ["record"] * 4
    assert [a.severity for a in records] == ["info", "medium", "medium", "medium"]
    for alert in records:
        assert alert.metrics["across_methods"] == "objects"
        assert alert.metrics["gsd"] == 3.0
        assert alert.metrics["thresholds"] == "coarse"
        assert alert.metrics["method_thresholds"] == "length"


def test_a_day_before_1970_is_its_own_day_in_months_and_years() -> None:
    """Day numbers before 1970 are negative: cast to days they rounded toward zero, so an
    image of 1969-12-31 12:00 UTC was of January 1970 in the month factors and years."""
    from railwatch.analysis.baseline import month_of, year_of
    from railwatch.analysis.series import day_number

    times = [
        datetime(1969, 12, 31, 12, tzinfo=UTC),
        datetime(1965, 10, 31, 23, 59, tzinfo=UTC),
        datetime(1970, 1, 1, 0, 1, tzinfo=UTC),
    ]
    days = np.array([day_number(t) for t in times])
    assert month_of(days).tolist() == [11, 9, 0]
    assert year_of(days).tolist() == [1969, 1965, 1970]


def _seasonal(first_year: int) -> list[CountPoint]:
    """Six years of images at noon every 7 days from 1 March, with a strong season (5 in
    winter, 25 in summer) and a rise in the last October."""
    start = datetime(first_year, 3, 1, 12, tzinfo=UTC)
    points = []
    for k in range(6 * 52):
        when = start + timedelta(days=7 * k)
        count = 25.0 if when.month in (6, 7, 8) else 5.0 + (k % 3)
        if when.year == first_year + 5 and when.month == 10:
            count = 40.0
        points.append(CountPoint(when=when, count=count))
    return points


def test_the_1960s_are_judged_as_the_same_calendar_56_years_on() -> None:
    """1962-1968 and 2018-2024 have the same calendar (56 years: two 28-year cycles), so
    the same counts on the same dates raise the same alerts."""
    early, late = analyze_series(_seasonal(1962)), analyze_series(_seasonal(2018))
    assert early and late

    def said(alerts: list[Alert], years: int) -> list[tuple[str, str, object]]:
        return [
            (a.key[:-10] + str(int(a.key[-10:-6]) + years) + a.key[-6:], a.severity,
             a.metrics.get("seasonal_factor"))
            for a in alerts
        ]  # fmt: skip

    assert said(early, 56) == said(late, 0)
