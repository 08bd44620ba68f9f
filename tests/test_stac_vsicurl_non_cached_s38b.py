"""Review r2 of e49257f (session 38): ingest-stac reads a remote image's pixels over the
site (its coverage) outside GDAL's /vsicurl/ cache, by CPL_VSIL_CURL_NON_CACHED. GDAL
splits that option's value at ':' into filename prefixes: given
``/vsicurl/https://host/a.tif`` it held the prefix ``/vsicurl/https``, which matches
every https file while set. The read now opens ``/vsicurl?url=`` with the URL
percent-encoded, and names that one filename, with no ':'."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

pytest.importorskip("pystac")

from test_scene_identity_s29 import stac_item, write_items
from test_stac import files_server, make_cog, site_db  # noqa: F401 (a fixture)


@pytest.mark.parametrize(
    "url",
    [
        "https://host.example/scenes/a.tif",
        "http://127.0.0.1:8080/a.tif",
        "https://host.example/a.tif?se=2026-12-06T10:00:00Z&sig=ab%2Fc",
    ],
)
def test_the_option_names_only_the_file_read(url: str) -> None:
    from railwatch.stac import _uncached

    path, options = _uncached(url)
    [(key, value)] = options.items()
    assert key == "CPL_VSIL_CURL_NON_CACHED"
    assert value == path and ":" not in value  # one prefix: this very filename
    assert path.startswith("/vsicurl?url=")
    assert unquote(path.removeprefix("/vsicurl?url=")) == url


def test_a_local_file_and_an_unnamable_path_set_nothing(tmp_path: Path) -> None:
    from railwatch.stac import _uncached

    local = tmp_path / "a.tif"
    assert _uncached(str(local)) == (str(local), {})
    assert _uncached("s3://bucket/a.tif") == (
        "/vsis3/bucket/a.tif",
        {"CPL_VSIL_CURL_NON_CACHED": "/vsis3/bucket/a.tif"},
    )
    # a ':' cannot be named in the option: nothing set rather than a prefix of others
    assert _uncached("s3://bucket/T10:00/a.tif") == ("/vsis3/bucket/T10:00/a.tif", {})


def test_ingest_stac_reads_a_remote_items_coverage_through_it(
    files_server: tuple[str, Path],  # noqa: F811
    tmp_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import rasterio.env

    from railwatch.imagery import inspect as imagery_inspect
    from railwatch.stac import ingest_stac

    base, root = files_server
    make_cog(root / "a.tif", 1)
    catalog = write_items(tmp_path / "i.json", stac_item("a", f"{base}/a.tif"))
    seen: list[tuple[str, Any]] = []
    real = imagery_inspect.site_data_coverage

    def watched(path: str, *args: Any, **kwargs: Any) -> float:
        seen.append((path, rasterio.env.getenv().get("CPL_VSIL_CURL_NON_CACHED")))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(imagery_inspect, "site_data_coverage", watched)
    db = site_db(tmp_db_url)
    [new] = ingest_stac(db, "yard", catalog).ingested
    assert new["coverage"] == pytest.approx(1.0)
    [(path, option)] = seen
    assert path == option and ":" not in option
    assert unquote(path.removeprefix("/vsicurl?url=")) == f"{base}/a.tif"
