"""The report shows a site's local days, as its alerts' texts do (session 31).

Since 7451306 the analysis of a stored site groups its images by the local day at the
site (its nominal solar zone, ``analysis.store.site_utc_offset``), keys its alerts and
dates their texts by it. The report still printed UTC days beside those texts: at a site
at UTC+12 an image taken at 22:30 UTC on 2024-02-04 (local 2024-02-05 10:30) gave an alert
whose text said 2024-02-05 under a header, chip title and table row of 2024-02-04, and
``--from 2024-02-05`` left that image and its alert out. Now every day the report shows
is the site's local day (``report.model.site_day``), a time of day names its clock, the
``--from``/``--to`` days are local days, and the chart's record line is recomputed on
local days as the analysis judges them (the images of one local day one point).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from pyproj import Transformer
from shapely.geometry import box

from railwatch.analysis.types import Alert
from railwatch.report import build_report_data
from railwatch.report import pdf as pdf_mod
from railwatch.report.html import render_html
from railwatch.report.images import key_images
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import FakeCount, FakeInfo, FakeQuality, add_counted_scene

SITE = "kaiyard"
LON, LAT = 175.0, -41.0  # nominal UTC+12
CRS = "EPSG:32760"  # UTM 60S
GSD = 0.5
W_M, H_M = 200.0, 100.0
#: The alert image: 22:30 UTC on 2024-02-04 is 10:30 on 2024-02-05 at the site.
ALERT_AT = datetime(2024, 2, 4, 22, 30, tzinfo=UTC)
UTC_DAY, LOCAL_DAY = "2024-02-04", "2024-02-05"
TEXT = f"18 railcars on {LOCAL_DAY}: 3x the record of 6 over the previous 1 year."


def _origin() -> tuple[float, float]:
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    x, y = to_utm.transform(LON, LAT)
    return float(x) - W_M / 2, float(y) + H_M / 2


def _wgs84(geom: Any) -> Any:
    import shapely

    tr = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _image(path: Path, n_cars: int, seed: int) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    x0, y0 = _origin()
    w, h = int(W_M / GSD), int(H_M / GSD)
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 150.0) + rng.normal(0, 6, (h, w, 3))
    row = h // 2
    img[row - 4 : row + 4, :] = (95, 85, 75)
    for k in range(n_cars):
        c0 = int((10 + 8 * k) / GSD)
        img[row - 3 : row + 3, c0 : c0 + int(7 / GSD)] = (60, 90, 160)
    data = np.clip(img, 0, 255).astype(np.uint8).transpose(2, 0, 1)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=w,
        height=h,
        count=3,
        dtype="uint8",
        crs=CRS,
        transform=from_origin(x0, y0, GSD, GSD),
    ) as dst:
        dst.write(data)
    return path


def _populate(db: Database, tmp: Path) -> list[int]:
    """The site at 175°E: three images of 5-6 cars 10 days apart, then the alert image of
    18 cars at 22:30 UTC on 2024-02-04 with a record alert dated (its text) by its local
    day 2024-02-05. Every image is taken at 22:30 UTC, the next local day."""
    tmp.mkdir(parents=True, exist_ok=True)
    x0, y0 = _origin()
    footprint = _wgs84(box(x0, y0 - H_M, x0 + W_M, y0))
    spec = SiteSpec(name=SITE, geometry=_wgs84(box(x0 + 5, y0 - H_M + 5, x0 + W_M - 5, y0 - 5)))
    plans = [(ALERT_AT - timedelta(days=10 * k), n) for k, n in ((3, 5), (2, 6), (1, 5), (0, 18))]
    ids: list[int] = []
    with db.session() as s:
        site = repo.add_site(s, spec)
        for i, (when, n) in enumerate(plans):
            path = _image(tmp / f"scene_{i}.tif", n, seed=i)
            info = FakeInfo(
                uri=str(path),
                content_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
                acquired=when,
                crs=CRS,
                footprint=footprint,
                gsd=GSD,
                width=int(W_M / GSD),
                height=int(H_M / GSD),
            )
            scene, _ = repo.add_scene(s, site, info, 1.0)
            count = FakeCount(float(n), n - 1.0, n + 1.0, {"gondola": (n, n, n)}, 0)
            repo.record_scene_result(s, scene.id, FakeQuality(0.97), [], count, "test", "1")
            ids.append(int(scene.id))
        repo.replace_alerts(
            s,
            site,
            [
                Alert(
                    key=f"record:all:{LOCAL_DAY}",
                    kind="record",
                    severity="high",
                    when=ALERT_AT,
                    cls="all",
                    value=18.0,
                    explanation=TEXT,
                    metrics={"record": 6.0},
                    scene_id=ids[-1],
                )
            ],
        )
    return ids


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    _populate(database, tmp_path / "scenes")
    yield database
    database.dispose()


def _texts(fig: Figure) -> str:
    FigureCanvasAgg(fig).draw()
    return " ".join(" ".join(t.get_text().split()) for t in fig.findobj(Text) if t.get_visible())


def test_html_report_shows_the_alerts_local_day(db: Database) -> None:
    data = build_report_data(db, SITE)
    (ev,) = data.evidence
    assert ev.after is not None and ev.before is not None
    page = render_html(data)
    assert TEXT in page
    # the header, the chips' alt text and the image table: the day of the alert's text
    assert f"record · {LOCAL_DAY} · site total" in page
    assert f"alert of {LOCAL_DAY}" in page
    assert f"record · {UTC_DAY}" not in page
    assert "date (UTC+12 nominal)" in page
    # the table's date and time are two no-wrap parts since session 46: read as text
    text = re.sub(r"<[^>]+>", "", page)
    assert f"{LOCAL_DAY} 10:30" in text
    assert f"{UTC_DAY} 22:30" not in text
    assert f"on {LOCAL_DAY} (latest usable image" in data.headline.summary
    assert f"high, {LOCAL_DAY}): {TEXT}" in data.headline.summary
    # the chips' titles give the local time and say whose clock
    assert ev.after.title == f"Alert image: {LOCAL_DAY} 10:30 (UTC+12 nominal)"
    assert ev.before.title == "Before: 2024-01-26 10:30 (UTC+12 nominal)"
    # the PDF's list of key images names the alert by its local day
    reasons = {k.row.scene_id: k.why for k in key_images(data)[0]}
    assert f"before image of {LOCAL_DAY}" in reasons[ev.before_row.scene_id]  # type: ignore[union-attr]


def test_pdf_pages_show_the_alerts_local_day(db: Database) -> None:
    data = build_report_data(db, SITE)
    (ev,) = data.evidence
    page = _texts(pdf_mod._evidence_page(data, ev))
    assert f"Alert: record · high · {LOCAL_DAY} · site total" in page
    assert UTC_DAY not in page
    listed = _texts(pdf_mod._alert_list_pages(data, [ev])[0])
    assert f"{LOCAL_DAY} · high · record" in listed
    assert pdf_mod._image_header(data)[0] == "date (UTC+12 nominal)"
    assert pdf_mod._table_rows(data, data.scenes)[-1][0] == f"{LOCAL_DAY} 10:30"


def test_from_and_to_are_local_days_at_the_site(db: Database) -> None:
    data = build_report_data(db, SITE, date_from=date(2024, 2, 5))
    assert [s.when for s in data.scenes] == [ALERT_AT]  # 22:30 UTC the day before
    assert [a.explanation for a in data.alerts] == [TEXT]
    assert data.headline.period == (date(2024, 2, 5), date(2024, 2, 5))
    # the UTC day of the image is the local day before: not in a report that ends then
    before = build_report_data(db, SITE, date_to=date(2024, 2, 4))
    assert ALERT_AT not in [s.when for s in before.scenes]
    assert before.alerts == ()


def test_cli_from_takes_the_local_day(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    out = tmp_path / "r.html"
    url = str(db.engine.url)
    assert main(["--db", url, "report", SITE, "--from", LOCAL_DAY, "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert TEXT in page and f"record · {LOCAL_DAY} · site total" in page
    capsys.readouterr()
    assert main(["report", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "(YYYY-MM-DD), a local day at the site" in help_text
    assert "Days are the local day at the site" in help_text


def test_record_line_counts_local_days_as_the_analysis(tmp_path: Path) -> None:
    """Two images of one local day (13:00 and 02:00 UTC the next UTC day, 01:00 and 14:00
    at UTC+12) are one point of the analysis' series: the later one's record is that of
    the earlier days, not the other image of its own day (UTC days made it 20)."""
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    try:
        x0, y0 = _origin()
        spec = SiteSpec(name=SITE, geometry=_wgs84(box(x0, y0 - H_M, x0 + W_M, y0)))
        with database.session() as s:
            site = repo.add_site(s, spec)
            for key, (when, n) in enumerate(
                (
                    (datetime(2024, 2, 1, 0, 0, tzinfo=UTC), 5),
                    (datetime(2024, 2, 10, 0, 0, tzinfo=UTC), 6),
                    (datetime(2024, 3, 1, 13, 0, tzinfo=UTC), 20),
                    (datetime(2024, 3, 2, 2, 0, tzinfo=UTC), 7),
                )
            ):
                count = FakeCount(float(n), n - 1.0, n + 1.0, {}, 0)
                add_counted_scene(s, site, when, GSD, count, key + 1)
        data = build_report_data(database, SITE)
        record = {b.when: b.record for b in data.baseline}
        assert record[datetime(2024, 3, 1, 13, 0, tzinfo=UTC)] == 6.0
        assert record[datetime(2024, 3, 2, 2, 0, tzinfo=UTC)] == 6.0
    finally:
        database.dispose()


def test_chart_draws_an_event_at_noon_of_its_local_day(db: Database) -> None:
    """An event dated 2024-02-05 at a UTC+12 site is drawn at noon there (00:00 UTC), among
    the images of its local day, not at noon UTC (22:30 local, past the day's images)."""
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D

    from railwatch.report.charts import timeseries_figure
    from railwatch.report.model import EventRow

    data = build_report_data(db, SITE)
    fig = timeseries_figure(
        data.scenes, events=[EventRow(date(2024, 2, 5), "Flood")], utc_offset=data.utc_offset
    )
    xs = {
        float(np.asarray(line.get_xdata())[0])
        for line in fig.findobj(Line2D)
        if line.get_linestyle() == "--"
    }
    assert float(mdates.date2num(datetime(2024, 2, 5, 0, 0, tzinfo=UTC))) in xs
