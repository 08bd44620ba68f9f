"""STAC intake as an analyst meets it (session 35): the ground sample distance an asset
declares, an image in degrees in an item without one, Landsat-style items whose red,
green and blue are separate single-band assets, STAC 1.1 ``bands`` with the raster
extension's ``raster:scale``/``raster:offset``, and ``--max-cloud`` over an API that
filters (items without ``eo:cloud_cover`` are kept, as a static catalog keeps them)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from railwatch.storage import Database, repo

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

import pystac

from test_stac import GSD, ORIGIN, SIZE, TO_WGS, footprint, make_cog, site_db


def write_items(path: Path, items: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    return str(path)


def item(
    ident: str, assets: dict[str, Any], version: str = "1.0.0", **props: Any
) -> dict[str, Any]:
    return {
        "type": "Feature", "stac_version": version, "id": ident, "geometry": footprint(),
        "properties": {"datetime": "2023-10-01T02:13:00Z", **props},
        "assets": assets, "links": [],
    }  # fmt: skip


def tif(href: str, *roles: str, **extra: Any) -> dict[str, Any]:
    return {"href": href, "type": "image/tiff; application=geotiff", "roles": list(roles), **extra}


def scene_rows(db: Database) -> list[Any]:
    with db.session(readonly=True) as s:
        return list(repo.list_scenes(s, "yard"))


def write_tif(
    path: Path, data: np.ndarray, *, crs: str = "EPSG:32652", transform: Any = None
) -> Path:
    import rasterio
    from affine import Affine

    count, height, width = data.shape
    if transform is None:
        transform = Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1])
    with rasterio.open(
        path, "w", driver="COG", width=width, height=height, count=count,
        dtype=str(data.dtype), crs=crs, transform=transform, blocksize=128,
    ) as dst:  # fmt: skip
        dst.write(data)
    return path


# ------------------------------------------------------------------ gsd


def test_the_assets_gsd_overrides_the_items(tmp_db_url: str, tmp_path: Path) -> None:
    """STAC common metadata on an asset overrides the item's for that asset (a Landsat
    item says 30 m, its pan asset 15 m): the asset's 0.5 m was ignored and the scene
    recorded 30 m, so `process` would have read a 0.5 m image on a 30 m grid."""
    from railwatch.stac import ingest_stac

    make_cog(tmp_path / "v.tif", 0)
    doc = item("a", {"visual": tif("v.tif", "visual", gsd=0.5)}, gsd=30)
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "items.json", [doc]))
    assert not summary.failed, summary.as_dict()
    (scene,) = scene_rows(db)
    assert scene.gsd == 0.5


def test_an_image_in_degrees_without_gsd_is_measured(tmp_db_url: str, tmp_path: Path) -> None:
    """An item without a gsd over an image in EPSG:4326 failed ("item a has no gsd and
    ... is not in metres", nothing to do); its pixels are measured on the ground, as
    `railwatch ingest` measures a file."""
    from affine import Affine

    from railwatch.stac import ingest_stac

    lon, lat = TO_WGS.transform(*ORIGIN)
    step = GSD / 111_000  # about 0.5 m north-south; 0.37 m east-west at 42 N
    data = np.random.default_rng(0).integers(0, 255, (3, SIZE, SIZE), dtype=np.uint8)
    write_tif(
        tmp_path / "v.tif", data, crs="EPSG:4326", transform=Affine(step, 0, lon, 0, -step, lat)
    )
    db = site_db(tmp_db_url)
    doc = item("a", {"visual": tif("v.tif", "visual")})
    summary = ingest_stac(db, "yard", write_items(tmp_path / "items.json", [doc]))
    assert not summary.failed, summary.as_dict()
    (scene,) = scene_rows(db)
    assert 0.38 < scene.gsd < 0.5  # sqrt(0.37 x 0.50) m


# ------------------------------------------------------------------ separate band assets


def band_asset(href: str, colour: str, key: str = "eo:bands") -> dict[str, Any]:
    name = "common_name" if key == "eo:bands" else "eo:common_name"
    return tif(href, "data", **{key: [{"name": colour.upper(), name: colour}]})


@pytest.mark.parametrize("key", ["eo:bands", "bands"])
def test_separate_colour_band_assets_fail_saying_to_stack_them(
    tmp_db_url: str, tmp_path: Path, key: str
) -> None:
    """A Landsat-style item (coastal, blue, green, red as single-band COGs, no visual
    asset) was registered as a grey image of its first data asset (the coastal band)."""
    from railwatch.stac import ingest_stac

    data = np.random.default_rng(0).integers(1, 4000, (1, SIZE, SIZE), dtype=np.uint16)
    assets = {}
    for colour in ("coastal", "blue", "green", "red"):
        write_tif(tmp_path / f"{colour}.tif", data)
        assets[colour] = band_asset(f"{colour}.tif", colour, key)
    version = "1.1.0" if key == "bands" else "1.0.0"
    db = site_db(tmp_db_url)
    url = write_items(tmp_path / "items.json", [item("lc", assets, version=version)])
    summary = ingest_stac(db, "yard", url)
    assert not summary.ingested and scene_rows(db) == []
    (failed,) = summary.failed
    assert failed["reason"].startswith(
        "item lc has its colour bands as separate single-band assets (blue in 'blue', green "
        "in 'green', red in 'red') and no asset holding them together"
    )
    assert "gdalbuildvrt -separate" in failed["reason"] and "--asset" in failed["reason"]
    # naming one band is the analyst's choice: counted in grey
    chosen = ingest_stac(db, "yard", url, asset="red")
    assert [e["uri"] for e in chosen.ingested] == [str(tmp_path / "red.tif")]


def test_a_visual_asset_beside_the_band_assets_is_taken(tmp_db_url: str, tmp_path: Path) -> None:
    """Sentinel-2 on Earth Search: red, green, blue single-band COGs and a 3-band visual
    (TCI): the visual is the image, as before."""
    from railwatch.stac import ingest_stac

    data = np.random.default_rng(0).integers(1, 4000, (1, SIZE, SIZE), dtype=np.uint16)
    assets = {}
    for colour in ("blue", "green", "red"):
        write_tif(tmp_path / f"{colour}.tif", data)
        assets[colour] = tif(f"{colour}.tif", "data")  # no band list: named by the key
    make_cog(tmp_path / "tci.tif", 0)
    assets["visual"] = tif("tci.tif", "visual")
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "items.json", [item("s2", assets)]))
    assert [e["uri"] for e in summary.ingested] == [str(tmp_path / "tci.tif")], summary.as_dict()


# ------------------------------------------------------------------ STAC 1.1 raster bands


def reflectance(path: Path) -> Path:
    data = np.random.default_rng(1).integers(1000, 3000, (3, SIZE, SIZE)).astype(np.uint16)
    return write_tif(path, data)


def bands_11() -> list[dict[str, Any]]:
    """STAC 1.1 bands of a 3-band reflectance asset: eo and raster extension 2.0 fields."""
    return [
        {"name": n, "eo:common_name": n, "raster:scale": s, "raster:offset": -0.1, "nodata": 0}
        for n, s in (("red", 1e-4), ("green", 1e-4), ("blue", 5e-5))
    ]


SCALING = {"scale": [1e-4, 1e-4, 5e-5], "offset": [-0.1, -0.1, -0.1]}


def test_stac_11_bands_scale_and_offset_are_the_items(tmp_db_url: str, tmp_path: Path) -> None:
    """raster:scale and raster:offset in STAC 1.1 ``bands`` (raster extension 2.0) were
    not read: only raster 1.x ``raster:bands`` were, so the bands of a STAC 1.1 item
    were read as stored (with ``--radiometry display``, blue at half its value)."""
    from railwatch.imagery.inspect import ITEM_SCALING_KEY
    from railwatch.stac import ingest_stac

    reflectance(tmp_path / "v.tif")
    doc = item("a", {"visual": tif("v.tif", "data", bands=bands_11())}, version="1.1.0", gsd=0.5)
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "items.json", [doc]))
    assert not summary.failed, summary.as_dict()
    (scene,) = scene_rows(db)
    assert scene.meta[ITEM_SCALING_KEY] == SCALING
    assert scene.meta["rgb_bands"] == [1, 2, 3]


def test_stac_11_bands_beside_a_file_are_read_by_ingest(tmp_path: Path) -> None:
    """`railwatch ingest` reads the STAC item NAME.json beside a file the same way."""
    from railwatch.imagery import inspect_scene
    from railwatch.imagery.inspect import ITEM_SCALING_KEY

    reflectance(tmp_path / "v.tif")
    doc = item("a", {"image": tif("v.tif", "data", bands=bands_11())}, version="1.1.0")
    (tmp_path / "v.json").write_text(json.dumps(doc))
    info = inspect_scene(tmp_path / "v.tif")
    assert info.metadata[ITEM_SCALING_KEY] == SCALING


def test_stac_11_bands_with_a_zero_scale_say_which_field(tmp_db_url: str, tmp_path: Path) -> None:
    from railwatch.stac import ingest_stac

    reflectance(tmp_path / "v.tif")
    bands = bands_11()
    bands[2]["raster:scale"] = 0
    doc = item("a", {"visual": tif("v.tif", "data", bands=bands)}, version="1.1.0", gsd=0.5)
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "items.json", [doc]))
    (failed,) = summary.failed
    assert failed["reason"].startswith(
        "its image asset's bands declares a scale of 0 and an offset of -0.1 for band 3"
    )
    assert scene_rows(db) == []


# ------------------------------------------------------------------ --max-cloud over an API


def holds(expr: Any, props: dict[str, Any]) -> bool | None:
    """A CQL2-JSON expression of ``<=``, ``isNull`` and ``or`` evaluated as an API's
    database does: a comparison with a missing value is unknown (None), never true."""
    op, args = expr["op"], expr["args"]
    if op == "isNull":
        return props.get(args[0]["property"]) is None
    if op == "<=":
        value = props.get(args[0]["property"])
        return None if value is None else bool(value <= args[1])
    if op == "or":
        found = [holds(a, props) for a in args]
        return True if any(found) else (None if None in found else False)
    raise AssertionError(f"unexpected CQL2 op {op}")


class CloudApi(pystac.Catalog):
    """A STAC API with the filter and query extensions (``extensions``), which returns
    the items its filter or query keeps, as a database evaluates them."""

    def __init__(self, docs: list[dict[str, Any]], extensions: tuple[str, ...]) -> None:
        super().__init__("api", "a STAC API")
        self.docs, self.extensions = docs, extensions
        self.calls: list[dict[str, Any]] = []

    def conforms_to(self, what: str) -> bool:
        return what in self.extensions

    def search(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        docs = self.docs
        if kwargs.get("filter") is not None:
            docs = [d for d in docs if holds(kwargs["filter"], d["properties"])]
        for name, test in (kwargs.get("query") or {}).items():
            docs = [d for d in docs if d["properties"].get(name) is not None]
            docs = [d for d in docs if d["properties"][name] <= test["lte"]]
        return SimpleNamespace(items_as_dicts=lambda: iter(docs))


@pytest.mark.parametrize("extensions", [("FILTER",), ("QUERY",), ("FILTER", "QUERY")])
def test_max_cloud_over_an_api_keeps_items_without_a_cloud_cover(
    tmp_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extensions: tuple[str, ...]
) -> None:
    """A static catalog keeps the items without eo:cloud_cover under --max-cloud (the
    scene's quality is judged when processed); an API search was sent `eo:cloud_cover
    <= N` alone, which drops them, so the same items searched in an API lost those."""
    from railwatch import stac

    docs = []
    for k, cloud in enumerate((5.0, 80.0, None, ...)):
        make_cog(tmp_path / f"{k}.tif", k)
        props: dict[str, Any] = (
            {"gsd": 0.5} if cloud is ... else {"gsd": 0.5, "eo:cloud_cover": cloud}
        )
        doc = item(f"i{k}", {"visual": tif(str(tmp_path / f"{k}.tif"), "visual")}, **props)
        docs.append({**doc, "collection": "yards"})
    api = CloudApi(docs, extensions)

    def items(
        url: str, site_geom: Any, collections: Any, since: Any, until: Any, *rest: Any
    ) -> Any:
        return stac._search(api, url, site_geom, collections, since, until, 40.0)

    monkeypatch.setattr(stac, "_items", items)
    db = site_db(tmp_db_url)
    summary = stac.ingest_stac(db, "yard", "https://example.test/stac", max_cloud=40.0)
    assert sorted(e["file"] for e in summary.ingested) == ["yards/i0", "yards/i2", "yards/i3"], (
        summary.as_dict()
    )
    assert not summary.failed, summary.as_dict()
    # an API that cannot filter on "or null" sends no cloud query: the item is told skipped
    said = [e["reason"] for e in summary.skipped]
    assert said == ([] if "FILTER" in extensions else ["cloud cover 80% above --max-cloud 40"])
