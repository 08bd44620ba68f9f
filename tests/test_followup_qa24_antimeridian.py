"""A scene across the antimeridian (session 24 follow-up).

Its footprint was the convex hull of the two pieces GDAL cuts it into at 180°: a band
from -180° to 180° round the whole Earth, so the image of a yard in Fiji was taken to
cover any site at that latitude (ingested into a site 16,000 km away with coverage
100 %), and exports and the dashboard zoomed to the whole world. The same for a STAC
item whose geometry is split at 180° as RFC 7946 asks. The footprint is now those pieces,
a MultiPolygon split at 180°.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape

from imagery_helpers import write_geotiff, yard_scene
from railwatch.cli.main import main
from railwatch.errors import NoOverlapError
from railwatch.imagery import inspect_scene
from railwatch.imagery.inspect import check_overlap, site_coverage, split_at_antimeridian
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo

UTM60S = "EPSG:32760"
TO_UTM = Transformer.from_crs("EPSG:4326", UTM60S, always_xy=True)
TO_WGS = Transformer.from_crs(UTM60S, "EPSG:4326", always_xy=True)
X180, Y0 = TO_UTM.transform(180.0, -16.8)  # Taveuni, Fiji: 180° is about x = 819.8 km
SIZE, RES = 400, 0.5  # 200 m square; 180° runs down column 300
OX, OY = round(X180 - 150), round(Y0 + 100)


def _wgs(cols: tuple[float, float], rows: tuple[float, float]) -> Polygon:
    """The WGS84 polygon of a pixel rectangle of the Fiji image (not across 180°)."""
    (c0, c1), (r0, r1) = cols, rows
    ring = [(c0, r0), (c1, r0), (c1, r1), (c0, r1)]
    return Polygon([TO_WGS.transform(OX + c * RES, OY - r * RES) for c, r in ring])


@pytest.fixture(scope="module")
def fiji(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("antimeridian")
    return write_geotiff(
        folder / "fiji_2024-05-01.tif", yard_scene(SIZE, SIZE), crs=UTM60S, origin=(OX, OY)
    )


def _utm_area(geom: Any) -> float:
    return float(
        sum(
            shapely.transform(
                p, lambda xy: np.column_stack(TO_UTM.transform(xy[:, 0], xy[:, 1]))
            ).area
            for p in getattr(geom, "geoms", [geom])
        )
    )


def test_the_footprint_is_split_at_180(fiji: Path) -> None:
    foot = inspect_scene(fiji).footprint
    assert isinstance(foot, MultiPolygon)  # was a Polygon from -180 to 180
    west, east = sorted(foot.geoms, key=lambda p: p.bounds[0])
    assert west.bounds[0] == -180.0 and west.bounds[2] < -179.999
    assert east.bounds[0] > 179.998 and east.bounds[2] == 180.0
    assert _utm_area(foot) == pytest.approx(200.0 * 200.0, rel=0.01)  # the image, no more


def test_site_coverage_across_180(fiji: Path) -> None:
    info = inspect_scene(fiji)
    inside = _wgs((60, 220), (120, 240))  # west of 180°, inside the image
    assert site_coverage(info.footprint, inside) == pytest.approx(1.0, abs=0.01)
    half = _wgs((-100, 100), (120, 240))  # half of it west of the image
    assert site_coverage(info.footprint, half) == pytest.approx(0.5, abs=0.01)
    east = _wgs((320, 390), (20, 380))  # east of 180° (negative longitudes, UTM zone 1)
    assert max(x for x, _ in east.exterior.coords) < -179.99
    assert site_coverage(info.footprint, east) == pytest.approx(1.0, abs=0.01)
    # a site on the other side of the Earth at the same latitude: was coverage 1.0
    far = shapely.affinity.translate(inside, xoff=-170.0)
    assert site_coverage(info.footprint, far) == 0.0
    with pytest.raises(NoOverlapError):
        check_overlap(info, far)


def test_ingest_scene_show_and_export_across_180(
    fiji: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    inside = tmp_path / "fiji.geojson"
    inside.write_text(json.dumps(mapping(_wgs((60, 220), (120, 240)))))
    far = tmp_path / "far.geojson"
    far.write_text(
        json.dumps(mapping(shapely.affinity.translate(_wgs((60, 220), (120, 240)), -170)))
    )
    assert main(["--db", url, "site", "add", "fiji", "--geojson", str(inside)]) == 0
    assert main(["--db", url, "site", "add", "far", "--geojson", str(far)]) == 0
    assert main(["--db", url, "ingest", "fiji", str(fiji)]) == 0
    assert main(["--db", url, "ingest", "far", str(fiji)]) != 0  # was ingested, 100 %
    assert "does not overlap site far" in capsys.readouterr().out
    assert main(["--db", url, "scene", "show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["coverage"] == pytest.approx(1.0, abs=0.01)
    assert shown["footprint"]["type"] == "MultiPolygon"
    lons = [x for part in shown["footprint"]["coordinates"] for x, _ in part[0]]
    assert all(-180 <= x <= 180 for x in lons)
    out = tmp_path / "fiji.geojson.d"
    assert main(["--db", url, "export", "fiji", "-f", "geojson", "-o", str(out)]) == 0
    scenes = json.loads((out / "scenes.geojson").read_text())
    # to the GeoJSON export's rounding, 8 decimals of a degree (2026-12-06, session 35)
    footprint = inspect_scene(fiji).footprint
    assert shape(scenes["features"][0]["geometry"]).hausdorff_distance(footprint) < 1e-8


def _item(folder: Path, image: Path, geometry: dict[str, Any]) -> Path:
    path = folder / "item.json"
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "fiji-1",
        "geometry": geometry,
        "bbox": list(shape(geometry).bounds),
        "properties": {"datetime": "2024-05-01T22:30:00Z", "gsd": 0.5},
        "links": [],
        "assets": {"image": {"href": str(image), "type": "image/tiff; application=geotiff"}},
    }
    path.write_text(json.dumps(item))
    return path


def _geometries(fiji: Path) -> dict[str, dict[str, Any]]:
    """The image's outline as RFC 7946 writes it across 180°, and as some writers do: a
    ring whose longitudes jump from 179.99 to -179.99, or go on beyond 180."""
    foot = inspect_scene(fiji).footprint
    assert isinstance(foot, MultiPolygon)
    x0, y0, _, y1 = next(p for p in foot.geoms if p.bounds[0] > 0).bounds
    x1 = next(p for p in foot.geoms if p.bounds[0] < 0).bounds[2]
    east = [(x0, y0), (180.0, y0), (180.0, y1), (x0, y1), (x0, y0)]
    west = [(-180.0, y0), (x1, y0), (x1, y1), (-180.0, y1), (-180.0, y0)]
    jump = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    beyond = [(x0, y0), (x1 + 360, y0), (x1 + 360, y1), (x0, y1), (x0, y0)]
    return {
        "rfc7946-split": {"type": "MultiPolygon", "coordinates": [[east], [west]]},
        "ring-jumping-180": {"type": "Polygon", "coordinates": [jump]},
        "longitudes-beyond-180": {"type": "Polygon", "coordinates": [beyond]},
    }


@pytest.mark.parametrize("kind", ["rfc7946-split", "ring-jumping-180", "longitudes-beyond-180"])
def test_a_stac_item_across_180(fiji: Path, tmp_path: Path, kind: str) -> None:
    pytest.importorskip("pystac")
    from railwatch.stac import ingest_stac

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    inside = _wgs((60, 220), (120, 240))
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="fiji", geometry=inside))
        repo.add_site(s, SiteSpec(name="far", geometry=shapely.affinity.translate(inside, -170)))
    item = _item(tmp_path, fiji, _geometries(fiji)[kind])
    far = ingest_stac(db, "far", str(item))
    assert not far.ingested  # was ingested: the hull met every site at 16.8° S
    assert len(ingest_stac(db, "fiji", str(item)).ingested) == 1
    with db.session() as s:
        (scene,) = repo.list_scenes(s, repo.get_site(s, "fiji"))
        foot = scene.footprint
        coverage = scene.coverage
    db.dispose()
    assert isinstance(foot, MultiPolygon)
    assert all(-180 <= x <= 180 for p in foot.geoms for x, _ in p.exterior.coords)
    assert foot.bounds[2] - foot.bounds[0] == 360.0 and len(foot.geoms) == 2
    assert coverage == pytest.approx(1.0, abs=0.01)


def test_split_at_antimeridian_leaves_other_footprints() -> None:
    assert split_at_antimeridian(box(130.0, 42.0, 130.1, 42.1)) is None
    two = MultiPolygon([box(130.0, 42.0, 130.1, 42.1), box(131.0, 42.0, 131.1, 42.1)])
    assert split_at_antimeridian(two) is None
