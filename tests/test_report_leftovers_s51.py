"""Report and web faults left open by session 50 (session 51).

1. A class's alert raised on the site total's images took one of the report's image
   slots (10), though the report draws those images once, for the total's alert: an
   alert further down went without images.
2. A count's 90 % interval that rests on an assumed scene-to-scene spread of recall (a
   card of ``railwatch calibrate --labels`` on too few labelled images) was said so by
   ``railwatch detect`` alone: ``railwatch process``, the report and the API said nothing.
3. ``GET /api/sites/{site}/baseline`` read the site's scenes and count rows as ORM
   objects (about 40,000 at 10,000 images): it reads plain columns now, its answer the
   same.
4. A report with the first mark of session 50 (the hash of the database URL's text) was
   listed by every server whose URL had that text: ``sqlite:///railwatch.db`` served
   from another folder listed this folder's reports.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.text import Text

from railwatch.analysis.types import Alert
from railwatch.cli.main import main
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.calibration import Calibration
from railwatch.report import build_report_data
from railwatch.report.builder import STEP_CHIPS, _Plan, _with_images
from railwatch.report.html import render_html
from railwatch.report.model import AlertRow, SceneRow, shown_before
from railwatch.report.pdf import _alert_pages
from railwatch.storage import Database, repo
from report_db import PLANS, SITE_NAME, T0
from report_db import populate as populate_report_db

# ---------------------------------------------------------- 1. a class's alert's images


def _plans() -> list[_Plan]:
    """A high record of the site total and one of tank cars on the same pair of images,
    and a medium record of the total on another pair."""
    t0 = datetime(2024, 1, 1, 2, 0, tzinfo=UTC)
    rows = [
        SceneRow(i, t0 + timedelta(days=10 * i), "S", 0.5, True, 1.0, 1.0, 10.0 + i, 9.0, 12.0)
        for i in range(1, 5)
    ]
    total = AlertRow("total", "record", "high", rows[3].when, "all", 14.0, "x", scene_id=4)
    tank = AlertRow("tank", "record", "high", rows[3].when, "tank", 5.0, "x", scene_id=4)
    older = AlertRow("older", "record", "medium", rows[1].when, "all", 12.0, "x", scene_id=2)
    return [
        _Plan(total, rows[3], rows[2], True),
        _Plan(tank, rows[3], rows[2], True),
        _Plan(older, rows[1], rows[0], True),
    ]


def test_a_class_alert_on_the_totals_images_takes_no_pair_of_its_own() -> None:
    plans = _plans()
    chosen, note = _with_images(plans, 2)
    # two pairs of images: the total's (its tank alert shown on it) and the older one's;
    # the tank alert took the second pair before, and the older record had none
    assert {p.alert.key for p in plans if id(p) in chosen} == {"total", "tank", "older"}
    assert note == "Images are shown for alerts above info only."
    # one pair: the total's record and the tank cars' record on its images
    chosen, note = _with_images(plans, 1)
    assert {p.alert.key for p in plans if id(p) in chosen} == {"total", "tank"}
    assert note == "Images are shown for the 2 most severe alerts above info only."


def _alert(key: str, severity: str, cls: str, scene_id: int, day: int, value: float) -> Alert:
    return Alert(
        key=key, kind="record", severity=severity, when=T0 + timedelta(days=day), cls=cls,
        value=value, explanation=f"record of {cls} ({key}). More.", scene_id=scene_id,
    )  # fmt: skip


@pytest.fixture(scope="module")
def class_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The report test site with a high record of the total and one of tank cars on one
    image, and a medium record of the total on an older image."""
    tmp = tmp_path_factory.mktemp("class_alert")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    info = populate_report_db(db, tmp / "scenes", with_alert=False)
    counted = [(sid, p.day) for sid, p in zip(info["scene_ids"], PLANS, strict=True) if p.usable]
    alerts = [
        _alert("total-record", "high", "all", *counted[-5], 9.0),
        _alert("tank-record", "high", "tank", *counted[-5], 3.0),
        _alert("total-record-old", "medium", "all", *counted[-6], 8.0),
    ]
    with db.session() as s:
        repo.replace_alerts(s, repo.get_site(s, SITE_NAME), alerts)
    yield db
    db.dispose()


def test_the_report_shows_a_class_alert_on_the_totals_images_and_says_where(
    class_db: Database,
) -> None:
    steps: list[tuple[str, int, int]] = []
    data = build_report_data(
        class_db, SITE_NAME, max_evidence=2, on_step=lambda *a: steps.append(a)
    )
    keys = [ev.alert.key for ev in data.evidence]
    assert keys == ["total-record", "tank-record", "total-record-old"], keys
    # every one with images: the tank cars' record on the total's pair
    assert all(ev.after is not None for ev in data.evidence)
    assert shown_before(data.evidence) == {1: 0}
    # the pair read once, for the total's alert (it was read again for the tank cars'
    # record, whose chips were never drawn)
    assert max(total for step, _, total in steps if step == STEP_CHIPS) == 2
    page = render_html(data)
    assert page.count('<img src="data:image/jpeg') == 2
    day = data.evidence[0].alert.day
    assert (
        f'Same images as <a href="#alert-1">the alert above</a>: record · high · {day} · '
        "site total." in page
    )
    # no alert left without images (the older record was, "the 2 most severe alerts")
    assert "most severe alert" not in page
    texts = [
        "\n".join(t.get_text() for t in fig.findobj(Text) if t.get_text())
        for fig in _alert_pages(data)
    ]
    said = re.sub(r"\s+", " ", "\n".join(texts))
    assert f"Its images are above, drawn for the alert record · high · {day} · site total." in (
        said
    ), said
    assert sum(1 for t in texts if "record of all (total-record-old)" in t) == 1


# ---------------------------------------------------------- 2. an assumed recall spread

SD_ASSUMED = Calibration(
    score_edges=(0.0, 1.0),
    precision=(0.95,),
    gsd=(0.3, 1.0),
    recall=(0.85, 0.75),
    recall_sd=(0.1, 0.1),
    recall_sd_assumed=(True, True),
)
SD_MEASURED = Calibration(
    score_edges=(0.0, 1.0),
    precision=(0.95,),
    gsd=(0.3, 1.0),
    recall=(0.85, 0.75),
    recall_sd=(0.05, 0.07),
)


class CalibratedRects:
    """Finds bright rectangles (grey > 150), one boxcar each, with a count calibration."""

    name = "fake-calibrated"
    version = "1"

    def __init__(self, calibration: Calibration | None) -> None:
        self.calibration = calibration

    def detect(self, image: np.ndarray, gsd: float, valid: Any = None) -> list[Detection]:
        from scipy import ndimage

        labels, _ = ndimage.label(image.mean(axis=2) > 150)
        out = []
        for sl in ndimage.find_objects(labels):
            h, w = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
            cx, cy = (sl[1].start + sl[1].stop) / 2, (sl[0].start + sl[0].stop) / 2
            box = OrientedBox(cx, cy, float(max(w, h)), float(min(w, h)), 0.0)
            out.append(Detection(box, cls="boxcar", score=0.9))
        return out


def test_a_count_says_whether_its_interval_rests_on_an_assumed_spread() -> None:
    from railwatch.counting import count_detections

    dets = [Detection(OrientedBox(10.0 * k, 5.0, 30.0, 6.0, 0.0), score=0.9) for k in range(3)]
    assert count_detections(dets, gsd=0.5, calibration=SD_ASSUMED).spread_assumed is True
    assert count_detections(dets, gsd=0.5, calibration=SD_MEASURED).spread_assumed is False
    assert count_detections(dets, gsd=0.5).spread_assumed is None


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


def test_process_the_report_and_the_api_say_an_interval_rests_on_an_assumed_spread(
    tmp_path: Path,
    tmp_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("fastapi")
    import railwatch.detect.registry as registry
    from test_distributed import setup_db

    db = setup_db(tmp_db_url, tmp_path, 3)
    monkeypatch.setattr(
        registry, "get_detector", lambda name="default": CalibratedRects(SD_ASSUMED)
    )
    code, _, err = _run(capsys, "--db", tmp_db_url, "process", "yard")
    assert code == 0, err
    assert (
        "note: yard: 3 scenes counted car by car at 0.5 m: their 90 % interval rests on an "
        "assumed scene-to-scene spread of recall" in err
    ), err
    code, out, err = _run(capsys, "--db", tmp_db_url, "process", "yard", "--reprocess", "--json")
    assert code == 0, err
    [summary] = json.loads(out)
    assert [s["gsd"] for s in summary["interval_spread_assumed"]] == [0.5, 0.5, 0.5]

    # the report: its method and its caveats
    data = build_report_data(db, "yard")
    method = dict(data.method)
    assert method["count intervals"] == (
        "90 %, from the detector's calibration; for all 3 counts of cars one by one (0.5 m) "
        "on an assumed scene-to-scene spread of its recall, not a measured one (see the "
        "caveats)"
    )
    [caveat] = [c for c in data.caveats if "assumed scene-to-scene spread" in c]
    assert caveat.startswith(
        "The 90 % intervals of all 3 counts of cars one by one (0.5 m) rest on an assumed "
        "scene-to-scene spread of the detector's recall, not a measured one"
    ), caveat
    assert "`railwatch process yard --reprocess`" in caveat

    # the API: each scene's count, declared in its schema
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    client = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))
    items = client.get("/api/sites/yard/scenes").json()["items"]
    assert [i["count"]["interval_spread_assumed"] for i in items] == [True, True, True]
    one = client.get(f"/api/scenes/{items[0]['id']}").json()["count"]
    assert one["interval_spread_assumed"] is True and one["method"] == "objects"
    detections = client.get(f"/api/scenes/{items[0]['id']}/detections").json()
    assert detections["count"]["interval_spread_assumed"] is True
    schema = client.get("/openapi.json").json()["components"]["schemas"]["TotalCount"]
    assert "interval_spread_assumed" in schema["properties"]

    # an analyst's count is its own interval: not known there
    with db.session() as s:
        repo.set_scene_review(s, items[0]["id"], {"all": 2})
    again = client.get(f"/api/scenes/{items[0]['id']}").json()["count"]
    assert again["interval_spread_assumed"] is None

    # measured: false, and nothing said; without a calibration: not known
    monkeypatch.setattr(
        registry, "get_detector", lambda name="default": CalibratedRects(SD_MEASURED)
    )
    code, _, err = _run(capsys, "--db", tmp_db_url, "process", "yard", "--reprocess")
    assert code == 0 and "assumed scene-to-scene spread" not in err, err
    flags = [i["count"]["interval_spread_assumed"] for i in client.get(
        "/api/sites/yard/scenes").json()["items"]]  # fmt: skip
    assert flags == [None, False, False]
    assert "count intervals" not in dict(build_report_data(db, "yard").method)
    monkeypatch.setattr(registry, "get_detector", lambda name="default": CalibratedRects(None))
    code, _, err = _run(capsys, "--db", tmp_db_url, "process", "yard", "--reprocess")
    assert code == 0, err
    flags = [i["count"]["interval_spread_assumed"] for i in client.get(
        "/api/sites/yard/scenes").json()["items"]]  # fmt: skip
    assert flags == [None, None, None]
    db.dispose()


# ---------------------------------------------------------------- 3. the baseline's API


def test_the_baseline_reads_no_scene_rows_and_gives_the_reports_track(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    import railwatch.report.data as data
    from railwatch.analysis.events import local_day
    from railwatch.analysis.settings import AlertSettings
    from railwatch.settings import Settings
    from railwatch.web.app import create_app
    from web_db import populate

    db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    ids = populate(db, tmp_path / "img")
    site = ids["site"]
    with db.session() as s:  # an analyst's count among them
        last = max(repo.list_scenes(s, site, usable_only=True), key=lambda sc: sc.acquired_at)
        repo.set_scene_review(s, last.id, {"all": 90})
    # the track as the report computes it, from its rows
    with db.session(readonly=True) as s:
        row = repo.get_site(s, site)
        offset = data.site_offset(row)
        track = data.baseline_track(data.scene_rows(s, row), AlertSettings(), keep=False)
    expected = [
        {
            "when": b.when.isoformat(),
            "day": local_day(b.when, offset).isoformat(),
            "centre": b.centre,
            "low": b.low,
            "high": b.high,
            "record": b.record_line,
        }
        for b in track
    ]
    assert expected and any(p["record"] is not None for p in expected)

    def no_rows(*_: Any, **__: Any) -> Any:
        raise AssertionError("the baseline read the report's scene rows")

    monkeypatch.setattr(data, "scene_rows", no_rows)
    client = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db))
    answer = client.get(f"/api/sites/{site}/baseline")
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"] == expected
    etag = answer.headers["etag"]
    assert client.get(
        f"/api/sites/{site}/baseline", headers={"If-None-Match": etag}
    ).status_code == (304)
    db.dispose()


# ------------------------------------------------------------- 4. the first report mark


def _old_mark(url: str) -> str:
    """The mark of 720dac16 (session 50): the hash of the URL's text."""
    from sqlalchemy.engine import make_url

    return hashlib.sha256(make_url(url).render_as_string(hide_password=True).encode()).hexdigest()[
        :16
    ]


def _report(root: Path, report_id: str, mark: str, site: str = "yard") -> Path:
    folder = root / report_id
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html>report</html>", encoding="utf-8")
    meta = {
        "id": report_id, "site": site, "created_at": "2026-12-07T20:00:00+00:00",
        "formats": ["html"], "database": mark,
    }  # fmt: skip
    (folder / "report.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder / "report.json"


def _listed(cache: Path, url: str) -> list[str]:
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db = Database(url)
    try:
        client = TestClient(create_app(Settings(db=url, cache_dir=cache), db))
        answer = client.get("/api/reports")
        assert answer.status_code == 200, answer.text
        return [r["id"] for r in answer.json()["items"]]
    finally:
        db.dispose()


def test_the_first_mark_of_a_relative_sqlite_url_lists_no_other_folders_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("fastapi")
    cache = tmp_path / "cache"
    # a report made by the server of `sqlite:///railwatch.db` in folder a, with the mark
    # of session 50's first hour: the URL's text, which does not say the folder
    _report(cache / "reports", "a" * 32, _old_mark("sqlite:///railwatch.db"))
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "b")
    # the server of folder b's own railwatch.db does not list it (it did)
    assert _listed(cache, "sqlite:///railwatch.db") == []


def test_the_first_mark_of_an_absolute_url_is_listed_and_marked_anew(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from railwatch.web.routes.reports import _database_mark

    cache = tmp_path / "cache"
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    meta = _report(cache / "reports", "b" * 32, _old_mark(url))
    other = _report(cache / "reports", "c" * 32, _old_mark(f"sqlite:///{tmp_path / 'other.db'}"))
    assert _listed(cache, url) == ["b" * 32]
    # written with this database's mark, once: the old one need not be recognised again
    db = Database(url)
    try:
        assert json.loads(meta.read_text())["database"] == _database_mark(db)
    finally:
        db.dispose()
    assert json.loads(other.read_text())["database"] == _old_mark(
        f"sqlite:///{tmp_path / 'other.db'}"
    )
    assert _listed(cache, url) == ["b" * 32]
