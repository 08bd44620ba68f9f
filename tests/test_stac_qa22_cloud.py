"""Cloud-storage asset hrefs (s3://, gs://, az://...): one ``gdal_path`` maps them to
GDAL's ``/vsis3/``, ``/vsigs/``, ``/vsiaz/`` for ingest and for processing, an item
whose asset cannot be read for want of credentials says which ones GDAL needs, and an
http(s) ``alternate`` of an s3:// href is read instead. No network: the "S3" here is a
local HTTP server that GDAL reaches through ``AWS_S3_ENDPOINT``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from railwatch.storage import Database, repo

pystac = pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

import test_stac  # noqa: E402
from test_stac import RangeHandler, footprint, make_cog, site_db  # noqa: E402

files_server = test_stac.files_server  # the fixture: a static HTTP server with Range reads


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("s3://bucket/dir/a.tif", "/vsis3/bucket/dir/a.tif"),
        ("gs://bucket/a.tif", "/vsigs/bucket/a.tif"),
        ("gcs://bucket/a.tif", "/vsigs/bucket/a.tif"),
        ("az://container/dir/a.tif", "/vsiaz/container/dir/a.tif"),
        ("abfs://container/a.tif", "/vsiaz/container/a.tif"),
        ("abfss://container@acct.dfs.core.windows.net/a.tif", "/vsiaz/container/a.tif"),
        ("oss://bucket/a.tif", "/vsioss/bucket/a.tif"),
        ("https://host/a.tif?sig=1", "/vsicurl/https://host/a.tif?sig=1"),
        ("HTTP://host/a.tif", "/vsicurl/HTTP://host/a.tif"),
        ("ftp://host/a.tif", "/vsicurl/ftp://host/a.tif"),
        ("/vsis3/bucket/a.tif", "/vsis3/bucket/a.tif"),
        ("file:///data/a%20b.tif", "/data/a b.tif"),
        ("file://localhost/data/a.tif", "/data/a.tif"),
        ("/data/a.tif", "/data/a.tif"),
    ],
)
def test_gdal_path_maps_every_scheme(uri: str, path: str) -> None:
    """s3:// and the other cloud schemes were refused by the reader ("only local files
    can be ingested for now") although ingest-stac had registered them; file:// with a
    host or percent-escapes was read as a relative or wrong path."""
    from railwatch.imagery.inspect import gdal_path, is_remote

    assert gdal_path(uri) == path
    assert is_remote(uri) == path.startswith("/vsi")


def test_gdal_path_refuses_other_schemes_saying_which_it_reads() -> None:
    from railwatch.imagery.inspect import UnsupportedFormatError, gdal_path

    with pytest.raises(UnsupportedFormatError, match=r"GDAL cannot read hdfs:// URLs; give"):
        gdal_path("hdfs://node/a.tif")
    with pytest.raises(UnsupportedFormatError, match="on another host"):
        gdal_path("file://server/share/a.tif")


def test_stac_uses_the_one_gdal_path() -> None:
    """railwatch.stac had its own gdal_path, which differed from the reader's."""
    import railwatch.stac
    from railwatch.imagery import inspect

    assert "gdal_path" not in railwatch.stac.__all__
    assert getattr(railwatch.stac, "gdal_path", inspect.gdal_path) is inspect.gdal_path


def stac_item(ident: str, image: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": ident, "geometry": footprint(),
        "properties": {"datetime": "2023-10-01T02:13:00Z", "gsd": 0.5},
        "assets": {"image": {"type": "image/tiff", "roles": ["data"], **image}},
        "links": [],
    }  # fmt: skip


def write_items(path: Path, items: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    return str(path)


@pytest.fixture
def no_cloud_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere GDAL looks (environment, ~/.aws, ~/.boto, Azure CLI
    config, the EC2 metadata service: a closed local port), so nothing leaves the
    machine."""
    import os

    for key in list(os.environ):
        if key.startswith(("AWS_", "GS_", "GOOGLE_", "AZURE_", "OSS_")):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CPL_AWS_AUTODETECT_EC2", "NO")
    monkeypatch.setenv("CPL_AWS_EC2_API_ROOT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CPL_GS_ENDPOINT", "http://127.0.0.1:9/")
    monkeypatch.setenv("AWS_S3_ENDPOINT", "127.0.0.1:9")
    monkeypatch.setenv("AWS_HTTPS", "NO")


@pytest.mark.usefixtures("no_cloud_credentials")
def test_cloud_asset_without_credentials_fails_alone_naming_them(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An s3:// asset that could not be read said "check that it is a GeoTIFF or JPEG
    2000 GDAL can open": nothing about the credentials GDAL needs."""
    from railwatch.cli.main import main

    make_cog(tmp_path / "a.tif", 0)
    tag = tmp_path.name  # GDAL caches what it learns of a URL: one per test
    url = write_items(
        tmp_path / "items.json",
        [
            stac_item("local", {"href": "a.tif"}),
            stac_item("s3", {"href": f"s3://bucket-{tag}/a.tif"}),
            stac_item("gs", {"href": f"gs://bucket-{tag}/a.tif"}),
            stac_item("az", {"href": f"az://container-{tag}/a.tif"}),
        ],
    )
    site_db(tmp_db_url).dispose()
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", url, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [e["file"] for e in out["ingested"]] == ["-/local"]
    reasons = {e["file"]: e["reason"] for e in out["failed"]}
    assert reasons["-/s3"].startswith(f"cannot read the header of s3://bucket-{tag}/a.tif: ")
    assert (
        "GDAL reads s3:// with AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "(or AWS_PROFILE), or AWS_NO_SIGN_REQUEST=YES for a public bucket"
    ) in reasons["-/s3"]
    assert reasons["-/s3"].endswith("or pick another asset with --asset")
    assert "GOOGLE_APPLICATION_CREDENTIALS" in reasons["-/gs"]
    assert "GS_NO_SIGN_REQUEST=YES" in reasons["-/gs"]
    assert "AZURE_STORAGE_ACCOUNT=ACCOUNT and AZURE_STORAGE_ACCESS_KEY" in reasons["-/az"]
    assert "GeoTIFF" not in " ".join(reasons.values())


def stac_ids(db: Database) -> dict[str, Any]:
    with db.session(readonly=True) as s:
        return {sc.meta["stac_id"]: sc for sc in repo.list_scenes(s, "yard")}


@pytest.mark.usefixtures("no_cloud_credentials")
def test_s3_asset_is_ingested_then_processed_through_vsis3(
    files_server: tuple[str, Path],
    tmp_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An s3:// scene was registered (rasterio opened the URL itself) and then every
    read of it failed: "s3://...: only local files can be ingested for now"."""
    from railwatch.pipeline import process_site
    from railwatch.stac import ingest_stac
    from test_distributed import FAKE_SOURCE

    base, root = files_server
    bucket = f"bucket-{tmp_path.name}".lower().replace("_", "-")
    (root / bucket).mkdir()
    make_cog(root / bucket / "a.tif", 0)
    shutil.copy(root / bucket / "a.tif", root / "b.tif")
    monkeypatch.setenv("AWS_S3_ENDPOINT", base.removeprefix("http://"))
    monkeypatch.setenv("AWS_VIRTUAL_HOSTING", "FALSE")
    monkeypatch.setenv("AWS_NO_SIGN_REQUEST", "YES")
    url = write_items(
        tmp_path / "items.json",
        [
            stac_item("s3", {"href": f"s3://{bucket}/a.tif"}),
            # An s3:// href with an https alternate (STAC alternate-assets) is read over
            # https, which needs no cloud credentials.
            stac_item(
                "alt",
                {
                    "href": f"s3://{bucket}/missing.tif",
                    "alternate": {
                        "s3": {"href": f"s3://{bucket}/x.tif"},
                        "https": {"href": f"{base}/b.tif"},
                    },
                },
            ),
        ],
    )
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", url)
    assert not summary.failed, summary.failed
    got = stac_ids(db)
    assert got["s3"].uri == f"s3://{bucket}/a.tif"
    assert got["alt"].uri == f"{base}/b.tif"
    (tmp_path / "rw_fake_rects.py").write_text(FAKE_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import rw_fake_rects

    before = dict(RangeHandler.served)
    done = process_site(db, "yard", detector=rw_fake_rects.BrightRects())
    assert done.total == 2 and not done.failed, done.failed
    assert RangeHandler.served["a.tif"] > before.get("a.tif", 0)  # read through /vsis3/
