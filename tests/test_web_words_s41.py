"""The web's words for what the library and the CLI say (session 41).

1. A ``422`` of ``POST /api/sites`` about the GeoJSON given as ``geometry`` called it the
   "site GeoJSON" (the library's name for ``--geojson FILE``): "site GeoJSON geometry
   must be a Polygon or MultiPolygon, got Point". It names the API's field now; the CLI
   and the library keep their words (``railwatch.sites.SITE_GEOJSON``, replaced by
   ``web.errors.API_HINTS``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from test_leftovers_s41 import web  # noqa: F401 (the fixture: the app over a new database)


def _polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


_YARD = [[130.605, 42.419], [130.611, 42.419], [130.611, 42.4238], [130.605, 42.4238]]
#: GeoJSON refused as a site, each for another reason (the words at the start of each)
_BAD_GEOMETRY: dict[str, dict[str, Any]] = {
    "a point": {"type": "Point", "coordinates": [130.6, 42.4]},
    "a line": {"type": "LineString", "coordinates": [[130.6, 42.4], [130.61, 42.41]]},
    "no features": {"type": "FeatureCollection", "features": []},
    "a feature without geometry": {"type": "Feature", "properties": {}, "geometry": None},
    "a misspelt type": {"type": "Polygonn", "coordinates": [[*_YARD, _YARD[0]]]},
    "an unclosed ring": {"type": "Polygon", "coordinates": [_YARD]},
    "no type": {},
    "a number as text": _polygon([["130.605", 42.419], *_YARD[1:]]),  # type: ignore[list-item]
    "a bow tie": _polygon([[130.6, 42.4], [130.61, 42.41], [130.61, 42.4], [130.6, 42.41]]),
    "lat,lon": _polygon([[42.4, 130.6], [42.4, 130.61], [42.41, 130.61], [42.41, 130.6]]),
    "too large": _polygon([[100, 40], [102, 40], [102, 42], [100, 42]]),
}


@pytest.mark.parametrize("why", list(_BAD_GEOMETRY))
def test_a_422_about_the_geometry_names_the_field(web: Any, why: str) -> None:  # noqa: F811
    r = web.post("/api/sites", json={"name": "yard", "geometry": _BAD_GEOMETRY[why]})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith("`geometry` "), detail
    assert "site GeoJSON" not in detail and "`geometry` geometry" not in detail, detail


def test_the_cli_keeps_its_words_for_the_site_geojson(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    point = tmp_path / "point.geojson"
    point.write_text('{"type": "Point", "coordinates": [130.6, 42.4]}', encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    capsys.readouterr()
    assert main(["--db", url, "site", "add", "yard", "--geojson", str(point)]) != 0
    said = " ".join(capsys.readouterr().err.split())
    assert "site GeoJSON geometry must be a Polygon or MultiPolygon, got Point" in said
    assert "--bbox W,S,E,N" in said and "`geometry`" not in said
