"""Small faults of the API, the report and the dashboard found by walkthroughs
(2026-12-07, session 46).

1. ``PATCH /api/events/{id}`` and ``PATCH /api/sites/{site}`` with ``{}`` were a 200
   that changed nothing; now a 422 naming the members a change takes (as ``railwatch
   event edit`` and ``site edit`` without an option say "nothing to change").
2. ``POST /api/sites/{site}/reports`` took ``date_from``/``date_to`` where the rest of
   the API and the CLI say ``since``/``until``: both are taken, ``since``/``until``
   documented as the names to use, the old ones marked deprecated; both names of one end
   with two dates are a 422. A report's metadata has both names.
3. The PDF's table of images ordered its columns otherwise than the HTML's (usable,
   clear and coverage before the count); now in the HTML's order.
4. The dashboard's line under the map of a 3 m image named its occupied stretches each
   rounded on its own: "187 m ... 104 m, 82 m" did not add up; now they do (largest
   remainders), and "and N shorter" says what the rest add up to.
5. ``detect.track_evidence`` imported private names of ``imagery.scale``; they are
   public there now.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.report.html import render_html
from railwatch.storage import Database, repo
from test_web_client_audit_s36 import AUTH, world  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
#: where the stretches' test leaves pictures of the map and its line (to look at)
SHOT = os.environ.get("RW_STRETCHES_SHOT")


def _problem(r: Any) -> tuple[str, list[dict[str, Any]]]:
    assert r.status_code == 422, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    return str(body["detail"]), list(body.get("errors", []))


# --- 1. an empty change ----------------------------------------------------------------


def test_an_empty_event_change_is_refused_naming_what_may_change(
    world: dict[str, Any],  # noqa: F811
) -> None:
    c: TestClient = world["client"]
    url = f"/api/events/{world['audit_event']}"
    before = c.get(url).json()
    detail, errors = _problem(c.patch(url, json={}, headers=AUTH))
    assert detail.startswith("invalid request: body: nothing to change: "), detail
    for member in ("date", "label", "description"):
        assert member in detail, detail
    assert "Value error" not in detail
    assert errors == [{"loc": ["body"], "msg": detail.removeprefix("invalid request: body: ")}]
    assert c.get(url).json() == before
    # one member is a change, as before
    r = c.patch(url, json={"description": before["description"]}, headers=AUTH)
    assert r.status_code == 200, r.text


def test_an_empty_site_change_is_refused_naming_what_may_change(
    world: dict[str, Any],  # noqa: F811
) -> None:
    c: TestClient = world["client"]
    before = c.get("/api/sites/audit").json()
    detail, errors = _problem(c.patch("/api/sites/audit", json={}, headers=AUTH))
    assert detail.startswith("invalid request: body: nothing to change: "), detail
    for member in ("description", "tags", "tracks"):
        assert member in detail, detail
    assert errors[0]["loc"] == ["body"]
    assert c.get("/api/sites/audit").json() == before
    r = c.patch("/api/sites/audit", json={"tags": before["tags"]}, headers=AUTH)
    assert r.status_code == 200, r.text


def test_the_empty_change_is_checked_before_the_id(world: dict[str, Any]) -> None:  # noqa: F811
    """As any other invalid body: a 422 of the body, whatever the id names."""
    c: TestClient = world["client"]
    assert c.patch("/api/events/999999", json={}, headers=AUTH).status_code == 422
    assert c.patch("/api/events/999999", json={"label": "x"}, headers=AUTH).status_code == 404


# --- 2. since / until of a report ------------------------------------------------------


def test_a_report_takes_since_and_until_and_says_both_names(
    world: dict[str, Any],  # noqa: F811
) -> None:
    c: TestClient = world["client"]
    url = f"/api/sites/{world['site']}/reports"
    r = c.post(url, json={"since": "2023-06-01", "until": "2023-08-31"}, headers=AUTH)
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["since"] == meta["date_from"] == "2023-06-01"
    assert meta["until"] == meta["date_to"] == "2023-08-31"
    assert c.get(f"/api/reports/{meta['id']}").json() == meta
    html = c.get(meta["links"]["html"])
    assert "2023-10-05" not in html.text.split('id="table"')[1]  # outside the period
    assert "-report-2023-06-01-to-2023-08-31-" in html.headers["content-disposition"]
    # the older names still work, and say the same
    old = c.post(url, json={"date_from": "2023-06-01", "date_to": "2023-08-31"}, headers=AUTH)
    assert old.status_code == 201, old.text
    assert {k: old.json()[k] for k in ("since", "until", "date_from", "date_to")} == {
        k: meta[k] for k in ("since", "until", "date_from", "date_to")
    }


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            {"since": "2023-06-01", "date_from": "2023-07-01"},
            "since 2023-06-01 and date_from 2023-07-01 are the same member (date_from is "
            "its older name) with two dates: give one of them, since preferably",
        ),
        (
            {"until": "2023-06-01", "date_to": "2023-07-01"},
            "until 2023-06-01 and date_to 2023-07-01 are the same member",
        ),
        ({"since": "2023-09-01", "until": "2023-06-01"}, "since 2023-09-01 is after until"),
        ({"since": "2023-09-01", "date_to": "2023-06-01"}, "since 2023-09-01 is after date_to"),
    ],
)
def test_two_dates_for_one_end_of_a_report_are_refused(
    world: dict[str, Any],  # noqa: F811
    body: dict[str, str],
    words: str,
) -> None:
    c: TestClient = world["client"]
    before = len(c.get("/api/reports").json()["items"])
    detail, _ = _problem(c.post(f"/api/sites/{world['site']}/reports", json=body, headers=AUTH))
    assert words in detail, detail
    assert len(c.get("/api/reports").json()["items"]) == before


def test_one_date_by_both_names_is_taken(world: dict[str, Any]) -> None:  # noqa: F811
    c: TestClient = world["client"]
    body = {"since": "2023-06-01", "date_from": "2023-06-01"}
    r = c.post(f"/api/sites/{world['site']}/reports", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.json()["since"] == "2023-06-01"


def test_the_schema_names_since_and_until_and_marks_the_old_names(
    world: dict[str, Any],  # noqa: F811
) -> None:
    spec = world["client"].get("/openapi.json").json()
    comps = spec["components"]["schemas"]
    body = comps["ReportIn"]["properties"]
    for new, old in (("since", "date_from"), ("until", "date_to")):
        assert not body[new].get("deprecated"), body[new]
        assert "local day at the site" in body[new]["description"]
        assert body[old]["deprecated"] is True, body[old]
        assert f"older name of `{new}`" in body[old]["description"]
    out = comps["Report"]["properties"]
    assert {"since", "until", "date_from", "date_to"} <= set(out)
    assert out["date_from"]["deprecated"] is True and not out["since"].get("deprecated")
    docs = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    (row,) = [
        ln for ln in docs.splitlines() if ln.startswith("| POST | `/api/sites/{site}/reports`")
    ]
    assert '`{"since", "until", "pdf": false}`' in row, row


def test_an_unknown_member_is_told_the_names_to_use(world: dict[str, Any]) -> None:  # noqa: F811
    """The members listed are those to give: not the older names."""
    c: TestClient = world["client"]
    body = {"from": "2023-06-01"}
    detail, _ = _problem(c.post(f"/api/sites/{world['site']}/reports", json=body, headers=AUTH))
    assert detail.endswith(
        "this body takes no member 'from': it takes pdf, since, until (see /docs)"
    )


def test_a_report_written_before_lists_since_from_its_older_names(
    world: dict[str, Any],  # noqa: F811
) -> None:
    import json

    c: TestClient = world["client"]
    rid = "d" * 32
    folder: Path = world["app"].state.report_dir / rid
    folder.mkdir(parents=True)
    meta = {"id": rid, "site": world["site"], "date_from": "2023-01-01", "date_to": None}
    (folder / "report.json").write_text(json.dumps(meta), encoding="utf-8")
    got = c.get(f"/api/reports/{rid}").json()
    assert got["since"] == "2023-01-01" and got["until"] is None


# --- 3. the PDF's table of images in the HTML's order ------------------------------------


def test_the_pdf_table_has_the_html_tables_columns_in_order() -> None:
    from railwatch.report.pdf import _image_header, _table_rows
    from test_report_table_zero_s38 import _Cells, _data

    data = _data()
    parser = _Cells()
    parser.feed(render_html(data))
    header = _image_header(data)
    assert header == parser.header
    assert header[-1] == "usable" and header.index("count [interval]") == 3
    html_rows = [row for row in parser.rows if row]
    for pdf_row, html_row in zip(_table_rows(data, data.scenes), html_rows, strict=True):
        # the same cells; the PDF cuts a long reason with an ellipsis
        assert pdf_row[:-1] == html_row[:-1]
        assert html_row[-1].startswith(pdf_row[-1].removesuffix("…"))


def test_the_pdf_draws_the_table_in_that_order() -> None:
    """The PDF's page of images as drawn: its table's header row, left to right."""
    from matplotlib import pyplot as plt

    from railwatch.report.pdf import _image_pages
    from test_report_table_zero_s38 import _Cells, _data

    data = _data()
    parser = _Cells()
    parser.feed(render_html(data))
    pages = _image_pages(data, None)
    try:
        drawn = [
            [
                cell.get_text().get_text()
                for (row, _), cell in sorted(table.get_celld().items())
                if row == 0
            ]
            for fig in pages
            for ax in fig.axes
            for table in ax.tables
        ]
    finally:
        for fig in pages:
            plt.close(fig)
    assert drawn and all(header == parser.header for header in drawn), drawn


# --- 4. the occupied stretches add up ------------------------------------------------------


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The 3 m yard of test_web_occupied_s30, its two scenes' stretches given lengths
    whose own roundings do not add up to their sum's: 104.4 m and 82.4 m (187 m, 13.3
    car equivalents; each: 104 m ≈ 7.5, 82 m ≈ 5.9), and eleven of 10.45 m (115 m;
    each 10 m ≈ 0.7)."""
    pytest.importorskip("uvicorn")
    from helpers import live_server
    from railwatch.settings import Settings
    from railwatch.storage.models import Scene
    from railwatch.web.app import create_app
    from test_web_occupied_s30 import build

    tmp = tmp_path_factory.mktemp("stretches-s46")
    db = Database(f"sqlite:///{tmp / 'yard.db'}")
    ids = build(db, tmp)
    lengths = {"runs": [104.4, 82.4], "reviewed": [10.45] * 11}
    with db.session() as s:
        for kind, metres in lengths.items():
            row = s.get(Scene, ids["yard"][kind])
            assert row is not None
            coarse = dict(row.meta[repo.COARSE_KEY])
            line = coarse["occupied"][0]["coordinates"]
            coarse["occupied"] = [{"coordinates": line, "length_m": m} for m in metres]
            row.meta = {**row.meta, repo.COARSE_KEY: coarse}
    settings = Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp / "cache")
    app = create_app(settings, db)
    try:
        with live_server(app) as url:
            yield {**ids, "url": url}
    finally:
        db.dispose()


def _numbers(text: str) -> tuple[float, float, list[tuple[float, float]]]:
    """The total (m, car equivalents) and the parts a line under the map names."""
    total = re.search(r"occupied: ([\d,]+) m ≈ ([\d.]+) car equivalents", text)
    assert total, text
    parts = re.findall(r"([\d,]+) m ≈ ([\d.]+)(?! car)", text.split("stretches: ", 1)[1])
    return (
        float(total.group(1).replace(",", "")),
        float(total.group(2)),
        [(float(m.replace(",", "")), float(k)) for m, k in parts],
    )


@pytest.mark.slow
@pytest.mark.services
def test_the_stretches_under_the_map_add_up_to_their_sum(
    yard: dict[str, Any], browser: Any
) -> None:
    seen = {}
    for kind, n in (("runs", 2), ("reviewed", 11)):
        sid = yard["yard"][kind]
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{yard['url']}/sites/yard#{sid}")
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector(f"body[data-occupied='{sid}:{n}']", state="attached")
        seen[kind] = page.locator("#occ-info").text_content() or ""
        if SHOT:
            page.screenshot(path=f"{SHOT}_{kind}.png")
        page.close()
    m, k, parts = _numbers(seen["runs"])
    assert (m, k) == (187, 13.3), seen["runs"]
    assert len(parts) == 2
    assert sum(p[0] for p in parts) == m, seen["runs"]
    assert round(sum(p[1] for p in parts), 1) == k, seen["runs"]
    # longest first; of the two metres left over (.4 each) the one whose car equivalents
    # are rounded up (5.89 against 7.46) gets it: each stretch's numbers agree
    assert parts == [(104, 7.4), (83, 5.9)], seen["runs"]
    m, k, parts = _numbers(seen["reviewed"])
    assert "and 3 shorter (" in seen["reviewed"], seen["reviewed"]
    assert len(parts) == 9  # eight named, and the three shorter together
    assert m == 115 and sum(p[0] for p in parts) == m, seen["reviewed"]
    assert round(sum(p[1] for p in parts), 1) == k, seen["reviewed"]


# --- 5. no private names of imagery.scale ------------------------------------------------


def test_track_evidence_imports_no_private_names() -> None:
    src = ROOT / "src" / "railwatch" / "detect" / "track_evidence.py"
    tree = ast.parse(src.read_text(encoding="utf-8"))
    private = [
        f"{node.module}.{a.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("railwatch")
        for a in node.names
        if a.name.startswith("_")
    ]
    assert private == []


def test_the_rail_line_rule_is_public_in_imagery_scale() -> None:
    import numpy as np

    from railwatch.detect import track_evidence
    from railwatch.imagery import scale

    for name in ("LINE_PARTS", "LINE_FLANKS_PX", "LINE_MIN_CONTRAST", "LINE_NOISE_K"):
        assert name in scale.__all__
        assert getattr(track_evidence, name) is getattr(scale, name)
    assert "unit_luminance" in scale.__all__
    assert (scale.LINE_PARTS, scale.LINE_FLANKS_PX) == (3, (1.0, 1.5, 2.0))
    assert (scale.LINE_MIN_CONTRAST, scale.LINE_NOISE_K) == (3.0 / 255.0, 4.0)
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8)
    assert np.allclose(scale.unit_luminance(rgb), [[0.299, 0.587, 0.114]], atol=1e-6)
    assert track_evidence.luminance(rgb / np.float32(255)).tolist() == [[76, 150, 29]]
