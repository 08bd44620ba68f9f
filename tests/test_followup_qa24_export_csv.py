"""`railwatch analyze --counts` on the counts CSV that `railwatch export --format csv`
really writes (session 24 follow-up).

Before: the export had gained ``long_train_present``, ``status`` and ``no_count_reason``
and the reader refused it (``unknown column(s) status, long_train_present, ...``); its
test read a fixed header, so it never saw the new columns. These tests write the file
with the export code itself, so a column the export gains later is read here too, and
they check that the file reads as the database's own analysis reads the site: the same
points (an unusable image a gap of its resolution's method, a 10 m flag 1 or 0, a failed
or unprocessed image left out, never a zero) and the same alerts.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.csvio import parse_counts_csv, read_counts_csv
from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.export.gis import export_site
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import SITE_UTM, FakeCount, FakeInfo, FakeQuality, add_counted_scene, to_wgs84

T0 = datetime(2022, 3, 1, 2, 0, tzinfo=UTC)
AS_OF = T0 + timedelta(days=600)


def _scene(session: Any, site: Any, when: datetime, gsd: float, key: int) -> int:
    info = FakeInfo(
        uri=f"/nowhere/f{key}.tif",
        content_hash=f"{key + 5000:064d}",
        acquired=when,
        crs="EPSG:32652",
        footprint=to_wgs84(box(550_000, 4_694_800, 550_400, 4_695_000)),
        gsd=gsd,
        width=800,
        height=400,
    )
    scene, _ = repo.add_scene(session, site, info, 1.0)
    return int(scene.id)


def _counts(total: float) -> FakeCount:
    return FakeCount(total, total - 2, total + 3, {"tank": (total, total, total)}, 1)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("followup_csv")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    key = 0
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        day = T0
        for k in range(30):  # a steady yard every 12 days, then a jump
            key += 1
            add_counted_scene(s, site, day, 0.5, _counts(10.0 + k % 3), key)
            day += timedelta(days=12)
        # a long silence: images failed or not processed are no usable image, nor unusable
        for gap in (15, 30, 45):
            key += 1
            sid = _scene(s, site, day + timedelta(days=gap), 0.5, key)
            if gap != 45:
                repo.mark_scene_failed(s, sid, "no track was read at 3 m: give the centrelines")
        day += timedelta(days=120)
        key += 1
        cloudy = _scene(s, site, day, 0.5, key)
        repo.record_scene_result(
            s, cloudy, FakeQuality(0.2, cloud_fraction=0.8, usable=False,
                                   reasons=("cloud 80% of the site",)), [], None, "t", "1",
        )  # fmt: skip
        key += 1
        coarse_cloudy = _scene(s, site, day + timedelta(days=2), 3.0, key)
        repo.record_scene_result(
            s, coarse_cloudy, FakeQuality(0.1, cloud_fraction=0.9, usable=False,
                                          reasons=("cloud 90% of the site",)), [], None, "t", "1",
        )  # fmt: skip
        for k, total in enumerate((12.5, 14.0)):
            key += 1
            count = FakeCount(total, total - 4, total + 9, {}, 0, method="length")
            add_counted_scene(s, site, day + timedelta(days=4 + k), 3.0, count, key)
        key += 1
        flag = FakeCount(1.0, 1.0, 1.0, {}, 0, method="presence")
        add_counted_scene(s, site, day + timedelta(days=8), 10.0, flag, key)
        for k, total in enumerate((40.0, 55.0)):
            key += 1
            add_counted_scene(s, site, day + timedelta(days=12 + 6 * k), 0.5, _counts(total), key)
    out = export_site(db, "yard", "csv", tmp / "yard.csv")
    with db.session() as s:
        stored = repo.count_series(s, "yard", cls="all")
    db.dispose()
    return out, stored


def test_a_real_export_reads_as_the_database_does(exported: Any) -> None:
    path, stored = exported
    notes: list[str] = []
    by_site = read_counts_csv(path, warn=notes.append)
    assert set(by_site) == {""}
    points = by_site[""]

    def key(p: Any) -> tuple[Any, ...]:
        return (p.when, p.count, p.usable, p.method, p.gsd)

    assert [key(p) for p in points] == [key(p) for p in stored]
    # the unusable 3 m image is a gap of the 3 m series; no gap or flag reads as zero cars
    gaps = [(p.gsd, p.method) for p in points if not p.usable]
    assert gaps == [(0.5, "objects"), (3.0, "length")]
    assert [p.count for p in points if p.method == "presence"] == [1.0]
    assert not any(p.count == 0 for p in points)
    assert any("2 images whose processing failed" in n for n in notes)
    assert any("1 image not processed yet" in n for n in notes)


def test_a_real_export_gives_the_databases_alerts(exported: Any) -> None:
    path, stored = exported
    from_csv = analyze_series(read_counts_csv(path)[""], as_of=AS_OF)
    from_db = analyze_series(stored, as_of=AS_OF)

    def same(alerts: Any) -> list[dict[str, Any]]:
        return [{k: v for k, v in a.to_dict().items() if k != "scene_id"} for a in alerts]

    assert from_db and same(from_csv) == same(from_db)
    silence = next(a for a in from_csv if a.kind == "quality")
    # the two cloudy images are its unusable ones; the failed and unprocessed are not
    assert "2 images in that time were unusable" in silence.explanation


def test_analyze_counts_reads_the_export(exported: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = exported
    assert main(["analyze", "--counts", str(path), "--json", "--as-of", "2023-10-23"]) == 0
    captured = capsys.readouterr()
    assert "unknown column" not in captured.err
    assert "left out, as `railwatch analyze SITE` leaves them out" in captured.err


def test_an_export_of_images_never_analysed_says_so(exported: Any, tmp_path: Path) -> None:
    path, _ = exported
    header, *rows = csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8")))
    pending = [r for r in rows if r[header.index("status")] in ("failed", "ingested")]
    text = io.StringIO()
    csv.writer(text).writerows([header, *pending])
    with pytest.raises(InputError, match="has no image that was analysed: 2 images whose"):
        parse_counts_csv(text.getvalue())


def test_a_hand_count_in_an_exported_failed_row_is_read(exported: Any) -> None:
    """An analyst who fills in the count of an image the pipeline could not count keeps
    that count (the file is for correcting counts by hand)."""
    path, _ = exported
    header, *rows = csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8")))
    row = next(r for r in rows if r[header.index("status")] == "failed")
    row[header.index("count")] = "17"
    text = io.StringIO()
    csv.writer(text).writerows([header, row])
    (point,) = parse_counts_csv(text.getvalue())[""]
    assert (point.count, point.usable, point.method) == (17.0, True, "manual")


def test_a_bad_long_train_flag_names_the_line() -> None:
    text = (
        "date,scene_id,gsd,usable,status,method,count,long_train_present\n"
        "2024-01-01,1,10.0,true,processed,presence,,maybe\n"
    )
    with pytest.raises(InputError, match="line 2: long_train_present 'maybe' must be"):
        parse_counts_csv(text)
