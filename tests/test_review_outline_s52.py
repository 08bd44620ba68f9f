"""A car outline of a scene review (``railwatch scene review ID --cars FILE``, ``PUT
/api/scenes/{id}/review`` with ``cars``) that is no car's outline is refused in
railwatch's words, naming the feature, what is wrong and what to do, and nothing is
stored (2026-12-08, session 52): an outline of fewer than 4 points was refused in
shapely's ("A linearring requires at least 4 coordinates"), one of a NaN or an infinite
coordinate as if metres had been given for degrees, and one whose points were all the
same, two corners, on one line or crossing itself was counted as a car."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box, mapping

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import SITE_UTM, X0, Y0, FakeCount, add_counted_scene, to_wgs84

TOKEN = "outline-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEEDS = (
    "a car outline needs at least 3 distinct corners, closed: 4 points with the first "
    "repeated at the end"
)

Ring = list[list[float]]


def _car(x: float, y: float) -> dict[str, Any]:
    body = to_wgs84(box(x - 7, y - 1.5, x + 7, y + 1.5))
    return {
        "type": "Feature",
        "geometry": mapping(body),
        "properties": {"class": "boxcar", "covered": False},
    }


GOOD = _car(X0 + 100, Y0 - 100)
A, B, C, D = ([float(v) for v in p] for p in GOOD["geometry"]["coordinates"][0][:4])
MID = [(A[0] + C[0]) / 2, (A[1] + C[1]) / 2]

#: name: (the outline's ring, words its refusal must hold)
BAD: dict[str, tuple[Ring, tuple[str, ...]]] = {
    "two points": ([A, B], ("its outline has 2 points:", NEEDS)),
    "three points, closed": ([A, B, A], ("its outline has 3 points, 2 distinct:", NEEDS)),
    "one point": ([A], ("its outline has 1 point:", NEEDS)),
    "all points equal": ([A, A, A, A], ("its outline has 4 points, 1 distinct:", NEEDS)),
    "two corners": ([A, B, B, A], ("its outline has 4 points, 2 distinct:", NEEDS)),
    "no points": ([], ("its outline has no points:", NEEDS)),
    "on one line": ([A, MID, C, A], ("its corners lie on one line", NEEDS)),
    "crossing itself": ([A, C, B, D, A], ("its outline crosses itself near (",)),
    "NaN": ([A, B, [float("nan"), C[1]], D, A], ("point 2 of its outline is (nan,",)),
    "infinity": ([A, B, C, [D[0], float("inf")], A], ("point 3 of its outline is (",)),
    "strings": ([A, ["x", "y"], C, A], ('point 1 of its outline is ["x", "y"], not two',)),  # type: ignore[list-item]
}


def _collection(ring: Ring) -> dict[str, Any]:
    bad = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"class": "boxcar"},
    }
    return {"type": "FeatureCollection", "features": [GOOD, bad]}


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, int]]:
    url = f"sqlite:///{tmp_path / 'outline.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 400)
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        count = FakeCount(61.0, 55.0, 70.0, {"boxcar": (61.0, 55.0, 70.0)}, 0)
        sid = add_counted_scene(s, site, datetime(2023, 10, 5, 2, 0, tzinfo=UTC), 0.5, count, 1)
    yield db, sid
    db.dispose()


def _stored(db: Database, sid: int) -> tuple[Any, ...]:
    """The scene's review (its note, counts and cars) and its stored counts."""
    with db.session(readonly=True) as s:
        review = repo.get_scene_review(s, sid)
        counts = {c.cls: (c.count, c.detector) for c in repo.get_scene(s, sid).counts}
        return (
            None if review is None else (review.note, dict(review.counts), review.cars),
            counts,
        )


def _check_refusals(
    db: Database, sid: int, refuse: Callable[[dict[str, Any]], str], accept: Callable[..., None]
) -> None:
    for earlier in (False, True):
        if earlier:
            accept({"type": "FeatureCollection", "features": [GOOD]})
        before = _stored(db, sid)
        for name, (ring, words) in BAD.items():
            said = refuse(_collection(ring))
            assert "feature 1: " in said, (name, said)
            for word in words:
                assert word in said, (name, said)
            assert "linearring" not in said.lower(), (name, said)
            assert "remove the feature" in said, (name, said)
            assert _stored(db, sid) == before, name  # nothing stored, the earlier kept
    # a triangle, and an open ring of a car's 4 corners, are outlines
    accept(_collection([A, B, C, A]))
    accept(_collection([A, B, C, D]))


def test_the_cli_refuses_a_degenerate_outline_in_its_own_words(
    scene: tuple[Database, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, sid = scene
    path = tmp_path / "cars.geojson"

    def refuse(fc: dict[str, Any]) -> str:
        path.write_text(json.dumps(fc))
        capsys.readouterr()
        assert main(["scene", "review", str(sid), "--cars", str(path)]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert err.startswith(f"error: {path}: feature 1: "), err
        return err

    def accept(fc: dict[str, Any]) -> None:
        path.write_text(json.dumps(fc))
        assert main(["scene", "review", str(sid), "--cars", str(path)]) == 0
        capsys.readouterr()

    _check_refusals(db, sid, refuse, accept)


def test_the_api_refuses_a_degenerate_outline_in_its_own_words(
    scene: tuple[Database, int], tmp_path: Path
) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db, sid = scene
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db))

    def put(fc: dict[str, Any]) -> Any:
        # NaN and Infinity as Python's json writes them (and reads them back)
        body = json.dumps({"cars": fc, "note": "QGIS"})
        headers = {**AUTH, "Content-Type": "application/json"}
        return client.put(f"/api/scenes/{sid}/review", content=body, headers=headers)

    def refuse(fc: dict[str, Any]) -> str:
        r = put(fc)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        detail = str(r.json()["detail"])
        assert detail.startswith("the cars' outlines: feature 1: "), detail
        return detail

    def accept(fc: dict[str, Any]) -> None:
        r = put(fc)
        assert r.status_code in (200, 201), r.text

    _check_refusals(db, sid, refuse, accept)
