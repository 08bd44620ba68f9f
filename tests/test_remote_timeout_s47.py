"""Every remote image read has HTTP timeouts (2026-12-07, session 47): `ingest-stac` got
them from the STAC walk, but `process`, `detect`, the map tiles and reports open remote
images through ``imagery.inspect.gdal_env``, which set none, so a server that accepted
the connection and never answered held them forever."""

from __future__ import annotations

from pathlib import Path

import pytest
import rasterio
from rasterio.errors import RasterioIOError

from railwatch.imagery import inspect
from test_stac import make_cog, site_db
from test_stac_qa22_summary import item, run, stac_ids, write_items
from test_walk_stac_gis_s47 import finished, silent_server  # noqa: F401  (a fixture)


def test_gdal_env_bounds_every_http_read() -> None:
    with inspect.gdal_env():
        opts = rasterio.env.getenv()
    assert int(opts["GDAL_HTTP_CONNECTTIMEOUT"]) == int(inspect.HTTP_CONNECT_TIMEOUT_S)
    assert int(opts["GDAL_HTTP_LOW_SPEED_TIME"]) == int(inspect.HTTP_READ_TIMEOUT_S)
    assert int(opts["GDAL_HTTP_LOW_SPEED_LIMIT"]) == 1


def test_a_silent_image_server_fails_the_open_instead_of_holding_it(
    silent_server: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the options as gdal_env sets them, each timeout shortened to a second or two
    shorter = {"GDAL_HTTP_LOW_SPEED_TIME": 1, "GDAL_HTTP_CONNECTTIMEOUT": 2}
    short = {k: shorter.get(k, v) for k, v in inspect._GDAL_OPTIONS.items()}
    monkeypatch.setattr(inspect, "_GDAL_OPTIONS", short)

    def open_remote() -> None:
        with inspect.gdal_env(), rasterio.open(f"/vsicurl/{silent_server}/yard.tif"):
            pass

    with pytest.raises(RasterioIOError):
        finished(open_remote)


def test_a_cloud_cover_written_as_a_string_is_read_by_max_cloud(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``"eo:cloud_cover": "85"`` passed ``--max-cloud 40`` unread (the STAC walk found
    it): only numbers were compared. A number written as a string is read as one; text
    that is no number is kept, as an item without a cloud cover is."""
    for k, name in enumerate("abc"):
        make_cog(tmp_path / f"{name}.tif", k)
    cloudy = item("cloudy", "a.tif")
    cloudy["properties"]["eo:cloud_cover"] = "85"
    fair = item("fair", "b.tif")
    fair["properties"]["eo:cloud_cover"] = "12.5"
    vague = item("vague", "c.tif")
    vague["properties"]["eo:cloud_cover"] = "low"
    url = write_items(tmp_path / "items.json", [cloudy, fair, vague])
    db = site_db(tmp_db_url)
    code, text = run(tmp_db_url, url, capsys, "--max-cloud", "40")
    assert code == 0, text
    assert "cloud cover 85% above --max-cloud 40" in text
    assert stac_ids(db) == ["fair", "vague"]


def test_a_timeout_set_in_the_environment_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A user on a slow link sets GDAL's own variables; gdal_env overrode them with its
    30 s (session 47 review)."""
    from railwatch.stac import gdal_http_env

    monkeypatch.setenv("GDAL_HTTP_LOW_SPEED_TIME", "300")
    with inspect.gdal_env():
        opts = rasterio.env.getenv()
    assert "GDAL_HTTP_LOW_SPEED_TIME" not in opts  # GDAL reads the environment's 300
    assert int(opts["GDAL_HTTP_CONNECTTIMEOUT"]) == int(inspect.HTTP_CONNECT_TIMEOUT_S)
    with gdal_http_env():
        opts = rasterio.env.getenv()
    assert "GDAL_HTTP_LOW_SPEED_TIME" not in opts


def test_a_date_skip_gives_seconds_where_they_tell_the_two_apart(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An image of 02:13:00 against --since 02:13:30 read "acquired ... 02:13 UTC, before
    --since ... 02:13 UTC" (session 47 review)."""
    make_cog(tmp_path / "a.tif", 1)
    url = write_items(tmp_path / "items.json", [item("a", "a.tif")])  # 2023-10-01 02:13:00Z
    site_db(tmp_db_url).dispose()
    code, text = run(tmp_db_url, url, capsys, "--since", "2023-10-01T02:13:30Z")
    assert code == 0, text
    assert "acquired 2023-10-01 02:13:00 UTC, before --since 2023-10-01 02:13:30 UTC" in text
