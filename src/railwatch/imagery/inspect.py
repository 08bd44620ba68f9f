"""Inspect a scene file: what it is, where, when and at what resolution.

:func:`inspect_scene` opens the file with rasterio and reads its headers, its
sidecar metadata and, when that is cheap (the file has overviews or is small), a
decimated view of at most ~1024 px to find the valid-data footprint and to refuse
images without a single valid pixel. It never loads the full-resolution pixels;
the content hash streams the file in chunks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

import numpy as np
import rasterio
import rasterio.features
import rasterio.warp
import rasterio.windows
import shapely
import shapely.affinity
from affine import Affine
from pyproj import CRS, Geod
from rasterio._err import CPLE_BaseError  # GDAL's errors (not RasterioError subclasses)
from rasterio.enums import ColorInterp, MaskFlags, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from shapely.geometry import (
    LineString,
    MultiLineString,
    MultiPolygon,
    Polygon,
    box,
    mapping,
    shape,
)
from shapely.geometry.base import BaseGeometry

from railwatch.errors import ImageryError, NoOverlapError, some
from railwatch.imagery import _geo
from railwatch.imagery.dates import (
    date_from_tags,
    dated_from_filename,
    file_time_from_tags,
    local_noon,
    parse_datetime,
    rejected_filename_dates,
    to_utc,
)
from railwatch.imagery.scan import PICTURE_SUFFIXES

__all__ = [
    "ALPHA_AS_DATA_KEY",
    "DATE_ONLY_KEY",
    "HTTP_CONNECT_TIMEOUT_S",
    "HTTP_READ_TIMEOUT_S",
    "ITEM_SCALING_KEY",
    "CorruptImageError",
    "EmptyImageError",
    "MissingCRSError",
    "MissingDateError",
    "NotGeoreferencedError",
    "SceneInfo",
    "UnsupportedFormatError",
    "alpha_as_data",
    "alpha_as_data_said_elsewhere",
    "alpha_as_data_text",
    "alpha_band",
    "alpha_built_overviews",
    "band_scaling",
    "check_overlap",
    "crs_text",
    "data_mask",
    "data_view",
    "file_sha256",
    "float_or_none",
    "gdal_env",
    "gdal_options",
    "gdal_path",
    "georeferencing_problem",
    "grid_problem",
    "inspect_scene",
    "is_remote",
    "item_band_scaling",
    "item_scaling_beside",
    "local_path",
    "missing_vrt_sources",
    "open_quietly",
    "own_mask",
    "parse_stac_item",
    "prj_beside",
    "quality_mask_of",
    "read_masked",
    "remote_access_hint",
    "scaling_numbers",
    "shadowed_alpha",
    "site_coverage",
    "site_data_coverage",
    "split_at_antimeridian",
    "stac_band_names",
    "stac_raster_bands",
    "takes_item_nodata",
    "transparent_entries",
    "undeclared_alpha",
    "unreadable_pixels",
    "unsupported_pixel_type",
    "uri_scheme",
    "vrt_sources_error",
    "without_alpha_overviews",
]

log = logging.getLogger(__name__)


class CorruptImageError(ImageryError):
    """The file is a raster format but cannot be read: corrupt or truncated."""


def unreadable_pixels(name: str, err: BaseException) -> CorruptImageError:
    """A read of pixels that failed inside the file ``name`` (rasterio says only "Read
    failed. See previous exception for details."), said as ingest says a corrupt file:
    with GDAL's first reason (a truncated file: "TIFFFillTile:Read error at row 0, col 0,
    tile 1; got 511409 bytes, expected 555094") and what to do."""
    first = err
    while first.__cause__ is not None:
        first = first.__cause__
    text = " ".join(str(first).split())
    text = text[:160] + "..." if len(text) > 160 else text
    return CorruptImageError(
        f"{name} is corrupt or truncated ({text}): re-download or re-export it"
    )


class UnsupportedFormatError(ImageryError):
    """The file is not a raster format railwatch can ingest."""


class NotGeoreferencedError(UnsupportedFormatError):
    """A plain picture (PNG/JPEG screenshot) without georeferencing."""


class MissingCRSError(ImageryError):
    """The raster has a geotransform but no coordinate reference system."""


class BrokenGridError(ImageryError):
    """The raster's geotransform or CRS cannot place its pixels on the Earth: a
    non-finite or singular geotransform, corners no projection can take to lon/lat, or a
    local (engineering) CRS tied to no datum (:func:`grid_problem`)."""


class MissingDateError(ImageryError):
    """No acquisition date in the option, sidecar, tags or file name."""


class EmptyImageError(ImageryError):
    """The raster has no valid pixel (all no-data, alpha 0 or NaN)."""


#: Metadata key set (``True``) on a scene dated from a day alone, without a time of day
#: (``ingest --date 2024-04-10``, a file name with a date and no time): its
#: ``acquired_at`` is noon at the site (:func:`railwatch.imagery.dates.local_noon`), not
#: a time anyone gave. Since 2026-12-05 (session 32); scenes ingested before carry no
#: such record (their day alone was stored as 00:00 UTC, like a time given as such).
DATE_ONLY_KEY = "date_only"


@dataclass(frozen=True)
class SceneInfo:
    """What :func:`inspect_scene` found out about one image file."""

    uri: str
    content_hash: str
    acquired: datetime
    crs: str
    #: WGS84; a MultiPolygon split at 180° for an image across the antimeridian
    #: (RFC 7946 3.1.9), a Polygon otherwise
    footprint: Polygon | MultiPolygon
    gsd: float
    width: int
    height: int
    band_count: int
    dtype: str
    sensor: str | None
    mask_uri: str | None
    date_source: str
    metadata: dict[str, Any] = field(default_factory=dict)
    #: What to say of the scales and offsets the STAC item beside the file declares for
    #: its bands when the file declares others (:func:`item_band_scaling`: the file's are
    #: used), or None.
    item_scaling_note: str | None = None


# GDAL options for every read: a bounded block cache (MB), so memory does not
# grow with the image.
# rasterio takes GDAL_CACHEMAX in bytes (a bare 128 would be a 128-byte cache).
#: Seconds a server of a remote image (http(s), s3, gs...) may take to accept a
#: connection, and then to send the next part of an answer, before the read fails
#: (2026-12-07, session 47: a server that accepted the connection and never answered
#: held `ingest-stac`, and would hold `process`, the map tiles and reports, forever).
#: ``stac`` applies the same to the STAC requests it makes itself.
HTTP_CONNECT_TIMEOUT_S = 10.0
HTTP_READ_TIMEOUT_S = 30.0

#: The GDAL HTTP options of :data:`_GDAL_OPTIONS` a user may set in the environment
#: instead (a slower link wants longer timeouts): GDAL reads them from there.
_USER_HTTP_OPTIONS = (
    "GDAL_HTTP_CONNECTTIMEOUT",
    "GDAL_HTTP_LOW_SPEED_TIME",
    "GDAL_HTTP_LOW_SPEED_LIMIT",
)

_GDAL_OPTIONS: dict[str, Any] = {
    "GDAL_CACHEMAX": 128 * 1024 * 1024,
    # a server that stops sending fails the read instead of holding it forever (s47)
    "GDAL_HTTP_CONNECTTIMEOUT": int(HTTP_CONNECT_TIMEOUT_S),
    "GDAL_HTTP_LOW_SPEED_TIME": int(HTTP_READ_TIMEOUT_S),
    "GDAL_HTTP_LOW_SPEED_LIMIT": 1,
}

_HASH_CHUNK = 1 << 20
_PROBE_SIZE = 1024  # longest side of the decimated view used for the footprint
_PROBE_MAX_SIDE = 2048  # longest side of the overview read for the footprint
_PROBE_MAX_PIXELS = 36_000_000  # without overviews, probe only files up to this size
_SUPPORTED_DTYPES = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64",
}  # fmt: skip
_RASTER_SUFFIXES = {".tif", ".tiff", ".gtif", ".jp2", ".vrt", ".img", ".png", ".jpg", ".jpeg"}
#: The first bytes of the image formats a scene is read from (TIFF, BigTIFF, PNG, JPEG,
#: JPEG 2000) and what each is: a file of one that GDAL cannot open is corrupt, not of
#: another format (:func:`_open_error`), and ``railwatch detect -o`` names it so
#: (``detect.geojson``). Listed once (2026-12-06, session 41: twice). JPEG 2000 (its JP2
#: file's signature box, and a bare codestream's SOC and SIZ markers, as a .j2k holds it)
#: since the same day: a corrupt .j2k, or a corrupt .jp2 under another name, was "not an
#: image format railwatch can read", where GDAL reads a whole one.
IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"II+\x00", "a BigTIFF image"),
    (b"MM\x00+", "a BigTIFF image"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "a JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", "a JPEG 2000 codestream"),
)
_MAGIC = tuple(magic for magic, _ in IMAGE_SIGNATURES)
#: How many first bytes :func:`_open_error` reads: the longest signature's
_MAGIC_BYTES = max(len(magic) for magic in _MAGIC)


def gdal_env(*, read_dir: bool = False) -> rasterio.Env:
    """A ``rasterio.Env`` with railwatch's GDAL options (:func:`gdal_options`)."""
    return rasterio.Env(**gdal_options(read_dir=read_dir))


def gdal_options(
    *,
    read_dir: bool = False,
    headers: Mapping[str, str] | None = None,
    timeouts: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """railwatch's GDAL options for every read: a bounded block cache; no directory
    listing unless ``read_dir`` (GDAL then finds no sidecars, such as Maxar's ``.IMD``
    with the acquisition time); HTTP timeouts (``timeouts``: connect and read, in
    seconds, by default :data:`HTTP_CONNECT_TIMEOUT_S` and :data:`HTTP_READ_TIMEOUT_S`),
    but a timeout the user set in the environment is left to GDAL (a slow link; session
    47 review); and the HTTP ``headers``, by default those of ``RAILWATCH_STAC_HEADERS``
    (a value that is no JSON object is left out here: ``ingest-stac`` says so). One
    place for ``gdal_env`` and ``stac.gdal_http_env`` (session 47: two copies)."""
    options = dict(_GDAL_OPTIONS)
    if timeouts is not None:
        options["GDAL_HTTP_CONNECTTIMEOUT"] = max(1, math.ceil(timeouts[0]))
        options["GDAL_HTTP_LOW_SPEED_TIME"] = max(1, math.ceil(timeouts[1]))
    for key in _USER_HTTP_OPTIONS:
        if key in os.environ:
            options.pop(key, None)
    if not read_dir:
        options["GDAL_DISABLE_READDIR_ON_OPEN"] = "EMPTY_DIR"
    if headers is None:
        try:
            value = json.loads(os.environ.get("RAILWATCH_STAC_HEADERS", "").strip() or "{}")
        except json.JSONDecodeError:
            value = None
        headers = value if isinstance(value, dict) else {}
    if headers:
        options["GDAL_HTTP_HEADERS"] = "\r\n".join(f"{k}: {v}" for k, v in headers.items())
    return options


def open_quietly(path: str | Path, **kwargs: Any) -> Any:
    """``rasterio.open(path, **kwargs)`` without rasterio's ``NotGeoreferencedWarning``
    (printed with its source line): a file without a CRS is said by its caller, in its
    words."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return rasterio.open(path, **kwargs)


#: URI schemes GDAL reads through a network file system, with the prefix it opens them
#: by (rasterio's conventions; ``gcs`` and Azure's ``abfs``/``abfss`` as the fsspec
#: libraries write them). http(s) and ftp URLs keep the whole URL after ``/vsicurl/``.
_VSI_PREFIXES = {
    "http": "/vsicurl/",
    "https": "/vsicurl/",
    "ftp": "/vsicurl/",
    "s3": "/vsis3/",
    "gs": "/vsigs/",
    "gcs": "/vsigs/",
    "az": "/vsiaz/",
    "abfs": "/vsiaz/",
    "abfss": "/vsiaz/",
    "oss": "/vsioss/",
}
_CURL_SCHEMES = frozenset({"http", "https", "ftp"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def uri_scheme(uri: str | Path) -> str | None:
    """The lower-case scheme of a URI (``s3`` for ``s3://bucket/key``), or None for a
    path."""
    found = _SCHEME.match(str(uri))
    return found.group(1).lower() if found else None


def is_remote(uri: str | Path) -> bool:
    """True when the scene is not a plain local file: a URL GDAL reads over the network
    (http(s) and ftp with /vsicurl/ range requests; s3, gs, az, oss with its
    cloud-storage file systems) or a GDAL ``/vsi...`` path."""
    scheme = uri_scheme(uri)
    return scheme in _VSI_PREFIXES or (scheme is None and str(uri).startswith("/vsi"))


def gdal_path(uri: str | Path) -> str:
    """What GDAL opens for a scene URI: ``/vsicurl/URL`` for http(s) and ftp,
    ``/vsis3/BUCKET/KEY`` for ``s3://BUCKET/KEY`` (``/vsigs/`` for ``gs://``,
    ``/vsiaz/CONTAINER/PATH`` for ``az://`` and ``abfs[s]://CONTAINER[@ACCOUNT...]/PATH``,
    ``/vsioss/`` for ``oss://``), a ``/vsi...`` path as it is, else the local file
    (:func:`local_path`). Raises :class:`UnsupportedFormatError` for another scheme."""
    text = str(uri)
    scheme = uri_scheme(text)
    if scheme is None or scheme == "file":
        return text if text.startswith("/vsi") else str(local_path(text))
    prefix = _VSI_PREFIXES.get(scheme)
    if prefix is None:
        raise UnsupportedFormatError(
            f"{text}: GDAL cannot read {scheme}:// URLs; give a local path or an http(s)://, "
            "s3://, gs:// or az:// URL"
        )
    if scheme in _CURL_SCHEMES:
        return prefix + text
    rest = text[len(scheme) + 3 :]
    container, slash, key = rest.partition("/")
    return prefix + container.partition("@")[0] + slash + key


def remote_access_hint(uri: str | Path) -> str | None:
    """What GDAL needs to read a cloud-storage URI (s3, gs, az, oss): the
    configuration options (environment variables) that hold the credentials, or that
    say the bucket is public; None for other URIs."""
    scheme = uri_scheme(uri)
    if scheme == "s3":
        return (
            "GDAL reads s3:// with AWS credentials: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or AWS_NO_SIGN_REQUEST=YES for a public "
            "bucket (AWS_REQUEST_PAYER=requester for a requester-pays one)"
        )
    if scheme in ("gs", "gcs"):
        return (
            "GDAL reads gs:// with Google credentials: set GOOGLE_APPLICATION_CREDENTIALS (or "
            "GS_ACCESS_KEY_ID and GS_SECRET_ACCESS_KEY), or GS_NO_SIGN_REQUEST=YES for a "
            "public bucket"
        )
    if scheme in ("az", "abfs", "abfss"):
        host = str(uri)[len(scheme) + 3 :].partition("/")[0].partition("@")[2]
        account = host.split(".", 1)[0] if host else "ACCOUNT"
        return (
            f"GDAL reads {scheme}:// with Azure credentials: set AZURE_STORAGE_ACCOUNT="
            f"{account} and AZURE_STORAGE_ACCESS_KEY (or AZURE_STORAGE_SAS_TOKEN), or "
            "AZURE_STORAGE_CONNECTION_STRING, or AZURE_NO_SIGN_REQUEST=YES for a public "
            "container"
        )
    if scheme == "oss":
        return (
            "GDAL reads oss:// with Alibaba Cloud credentials: set OSS_ACCESS_KEY_ID, "
            "OSS_SECRET_ACCESS_KEY and OSS_ENDPOINT"
        )
    return None


def local_path(path_or_uri: str | Path) -> Path:
    """The local file behind a path or ``file://`` URI (``file:///PATH`` or
    ``file://localhost/PATH``, percent-escapes decoded); other schemes are refused."""
    text = str(path_or_uri)
    scheme = uri_scheme(text)
    if scheme == "file":
        parsed = urlparse(text)
        if parsed.netloc not in ("", "localhost"):
            raise UnsupportedFormatError(
                f"{text}: a file:// URL on another host ({parsed.netloc}); give a local path"
            )
        text = unquote(parsed.path)
    elif scheme is not None or text.startswith("/vsi"):
        raise UnsupportedFormatError(
            f"{text}: only local files can be ingested for now; download it first"
        )
    return Path(text).expanduser()


def inspect_scene(
    path_or_uri: str | Path,
    *,
    date: datetime | date | None = None,
    content_hash: str | None = None,
    default_date: datetime | date | None = None,
    utc_offset: timedelta = timedelta(0),
) -> SceneInfo:
    """Describe one GeoTIFF/COG (any CRS, 8/16-bit, 1/3/4+ bands, nodata or alpha).

    ``content_hash`` skips hashing the file again when the caller already has it.

    The acquisition time comes from, in order: ``date``; a STAC sidecar
    (``NAME.json``, or Planet's ``NAME_metadata.json``); acquisition tags (IMAGERY
    domain, ``ACQUISITIONDATETIME``); a date in the file name (the leftmost; with
    the time of ``TIFFTAG_DATETIME`` when that falls on the name's day and the name
    gives no time); ``TIFFTAG_DATETIME`` (often when the file was written, hence
    last); ``default_date`` (``ingest --date``: for files that carry no date).
    A day without a time of day (``date`` or ``default_date`` a :class:`~datetime.date`,
    a file name's date alone) is that day at the site, ``utc_offset`` east of UTC (its
    nominal zone): noon there in UTC (:func:`~railwatch.imagery.dates.local_noon`), with
    :data:`DATE_ONLY_KEY` in the metadata (since 2026-12-05, session 32: it was 00:00 UTC,
    the day before at a site west of Greenwich).
    Raises an :class:`ImageryError` subclass with a one-line message for bad input.
    """
    path = local_path(path_or_uri)
    name = path.name
    if not path.exists():
        raise ImageryError(f"{path}: no such file")
    if path.is_dir():
        raise ImageryError(f"{path} is a directory: pass image files (ingest expands folders)")
    size = path.stat().st_size
    if size == 0:
        raise CorruptImageError(f"{name} is empty (0 bytes): corrupt or truncated, re-export it")

    vrt_error = vrt_sources_error(path)
    if vrt_error is not None:
        raise vrt_error
    with _open_listed(path) as ds, _gdal_errors_as_corrupt(name):
        check_bands(ds, name)
        _check_georeferencing(ds, name)
        _check_dtype(ds, name)
        band_scaling(ds, _data_bands(ds))  # broken scale metadata is refused here
        _check_tiff_blocks(ds, name, size)
        _check_zero_tail(ds, path, name, size)
        _check_zero_blocks(ds, path, name, size)
        crs = crs_text(ds.crs)
        gsd_x, gsd_y = _pixel_size_m(ds.crs, ds.transform, ds.width, ds.height)
        probe = _probe_valid(ds, path, name)
        footprint_native = _footprint_native(ds, probe)
        tags = {k: str(v) for k, v in ds.tags().items()}
        imagery_tags = _tags_in(ds, "IMAGERY")
        nodata = ds.nodata
        colorinterp = [ci.name for ci in ds.colorinterp]
        bands_unlabelled = unlabelled_bands(ds)
        hidden_alpha = undeclared_alpha(ds)
        as_data = alpha_as_data(ds)
        has_overviews = bool(ds.overviews(1))
        eight_bit = eight_bit_values(ds)
        width, height, count, dtype = ds.width, ds.height, ds.count, ds.dtypes[0]
        file_scaling = _file_scaling(ds)
        driver = ds.driver
        footprint = _to_wgs84_polygon(footprint_native, ds.crs)

    sidecar = _read_sidecar(path)
    declared, note = _sidecar_scaling(sidecar, path, count, dtype, file_scaling)
    acquired, source, date_only = _acquisition(
        path, date, sidecar, tags, imagery_tags, default_date, utc_offset
    )

    metadata: dict[str, Any] = {
        "driver": driver,
        "gsd_x": gsd_x,
        "gsd_y": gsd_y,
        "colorinterp": colorinterp,
        "has_overviews": has_overviews,
        "footprint_from": "valid-data" if probe is not None and not probe[0].all() else "bounds",
    }
    if nodata is not None and math.isfinite(nodata):
        metadata["nodata"] = nodata
    if bands_unlabelled:
        metadata["bands_unlabelled"] = True
    if hidden_alpha is not None:
        metadata["undeclared_alpha"] = hidden_alpha
    if as_data is not None:
        metadata[ALPHA_AS_DATA_KEY] = {"band": as_data[0], "why": as_data[1]}
    if eight_bit is not None:
        metadata["eight_bit_values"] = eight_bit
    if "CLOUDCOVER" in imagery_tags:
        metadata["cloud_cover"] = float_or_none(imagery_tags["CLOUDCOVER"])
    metadata.update(sidecar.metadata)
    if declared is not None:
        metadata[ITEM_SCALING_KEY] = declared
    if date_only:
        metadata[DATE_ONLY_KEY] = True

    return SceneInfo(
        uri=str(path.resolve()),
        content_hash=content_hash or file_sha256(path),
        acquired=acquired,
        crs=crs,
        footprint=footprint,
        gsd=math.sqrt(gsd_x * gsd_y),
        width=width,
        height=height,
        band_count=count,
        dtype=dtype,
        sensor=sidecar.sensor or _sensor_from_tags(tags, imagery_tags),
        mask_uri=sidecar.mask_uri or _mask_beside(path),  # as quality_mask_of
        date_source=source,
        metadata=metadata,
        item_scaling_note=note,
    )


@contextmanager
def _gdal_errors_as_corrupt(name: str) -> Iterator[None]:
    """GDAL errors that rasterio passes on as they are (``CPLE_...``, not
    ``RasterioError``: a source of a VRT that cannot be opened, a block that cannot be
    decoded) as :class:`CorruptImageError` naming the file (they were "unexpected
    error: CPLE_OpenFailedError")."""
    try:
        yield
    except CPLE_BaseError as err:
        raise CorruptImageError(
            f"{name} cannot be read ({_short(err)}): re-download or re-export it"
        ) from err


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, streamed in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def site_coverage(footprint_wgs84: BaseGeometry, site_geom_wgs84: BaseGeometry) -> float:
    """Fraction (0-1) of the site's area inside the footprint, measured in the site's UTM."""
    utm = _geo.utm_crs_for(site_geom_wgs84)
    site = _geo.project(_geo.densify_wgs84(site_geom_wgs84), _geo.WGS84, utm)
    if site.area <= 0:
        return 0.0
    foot = _geo.project(_geo.densify_wgs84(footprint_wgs84), _geo.WGS84, utm)
    return float(min(1.0, site.intersection(foot).area / site.area))


#: Longest side, in pixels, of the read of a STAC scene's pixels over a site that
#: :func:`site_data_coverage` measures the site's coverage on (GDAL reads an overview).
_COVERAGE_READ_SIDE = 256


def site_data_coverage(
    path: str,
    site_geom_wgs84: BaseGeometry,
    *,
    item_nodata: float | None = None,
    on_open: Callable[[Any], None] | None = None,
) -> float:
    """Fraction (0-1) of the site's area where the image at ``path`` (a GDAL path:
    a local file, ``/vsicurl/...``) holds data: its pixels over the site, read at most
    :data:`_COVERAGE_READ_SIDE` px across the site (GDAL reads an overview of a COG, and
    only the tiles over the site), valid as :func:`_valid_pixels` says (nodata, alpha,
    GDAL's mask, NaN; ``item_nodata`` where the file declares none), measured in the
    image's CRS. What `railwatch ingest-stac` records as a scene's coverage: an item's
    footprint says where the provider's image lies, not where its pixels hold data
    (2026-12-06, session 38: a footprint over the whole site with its raster empty over
    half of it was recorded as full coverage). Raises :class:`RasterioError` for a file
    GDAL cannot read.

    A file that declares no nodata value, alpha band or colour table (and whose item
    declares no nodata) has its black fill left out too, as ``process`` reads it
    (:func:`_undeclared_fill_of`; 2026-12-06, session 39: it was counted as data).

    Overviews built while a band that holds data was taken as alpha are left out
    (:func:`alpha_built_overviews`; session 47: a file with NIR 0 over half the site was
    "50 %" covered). ``on_open`` is called with the open dataset first: ``railwatch
    ingest-stac`` judges the file on the same open (its band labelled alpha, its 8-bit
    values), one read of a remote file's headers."""
    with rasterio.open(path) as ds:
        if on_open is not None:
            on_open(ds)
        with without_alpha_overviews(ds) as own:
            return _data_coverage(own, site_geom_wgs84, item_nodata)


def _data_coverage(ds: Any, site_geom_wgs84: BaseGeometry, item_nodata: float | None) -> float:
    outline = _outline(ds.transform, ds.width, ds.height)
    dense = _geo.densify_wgs84(site_geom_wgs84)
    site = shape(rasterio.warp.transform_geom("EPSG:4326", ds.crs, mapping(dense)))
    if ds.crs.is_geographic:  # an image whose longitudes run beyond ±180 (antimeridian)
        site = max(
            (shapely.affinity.translate(site, k * 360.0) for k in (0, 1, -1)),
            key=lambda g: g.intersection(outline).area,
        )
    if site.area <= 0:
        return 0.0
    over = site.intersection(outline)
    if over.is_empty or over.area <= 0:
        return 0.0
    # the site's part of the image in pixels (by its vertices: a rotated geotransform too)
    px = shapely.affinity.affine_transform(over, (~ds.transform).to_shapely())
    left, top, right, bottom = px.bounds
    c0 = min(max(0, math.floor(left)), ds.width - 1)
    r0 = min(max(0, math.floor(top)), ds.height - 1)
    c1 = max(c0 + 1, min(ds.width, math.ceil(right)))
    r1 = max(r0 + 1, min(ds.height, math.ceil(bottom)))
    window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
    cols, rows = c1 - c0, r1 - r0
    scale = max(1.0, max(cols, rows) / _COVERAGE_READ_SIDE)
    out = (max(1, round(rows / scale)), max(1, round(cols / scale)))
    read = _memo_reader(ds, out, window)  # each band read once, for both
    valid = _valid_pixels(ds, out, window=window, item_nodata=item_nodata, read=read)
    fill = _undeclared_fill_of(ds, read, item_nodata, math.sqrt(cols * rows / valid.size))
    if fill is not None:
        valid &= ~fill
    transform = _geo.scaled(
        rasterio.windows.transform(window, ds.transform), cols / out[1], rows / out[0]
    )
    polys = [
        shape(geom)
        for geom, value in rasterio.features.shapes(
            valid.astype(np.uint8), mask=valid, transform=transform
        )
        if value == 1
    ]
    if not polys:
        return 0.0
    held = shapely.union_all(polys).intersection(over)
    return float(min(1.0, held.area / site.area))


def _undeclared_fill_of(
    ds: Any, read: Callable[..., np.ndarray], item_nodata: float | None, step: float
) -> np.ndarray | None:
    """The black fill (``imagery.read.undeclared_fill``: 0 in every data band over a
    connected area of at least 400 m²) of a window's ``read`` (:func:`_memo_reader`;
    ``step`` file pixels a read pixel), where ``process`` reads it as no data: a file that
    declares no nodata value, no alpha band and no colour table, without an item nodata
    (``imagery.read._warp_plan``'s ``fill``); None elsewhere. The bands are those the
    coverage read has read already (no more bytes). A file whose last band may be an
    alpha band it does not declare (:func:`_alpha_candidate`) is left as it is: telling
    (:func:`undeclared_alpha`) reads the whole image down to 1024 px, and under an alpha
    band black is data. The rule is the pipeline's (real ground, the darkest shadow
    included, is never exactly 0 in every band over 400 m²), applied to nearest samples:
    a fill region's samples are all 0, and ground whose samples are all 0 over 400 m² is
    0 over most of it, its zeros one fill region to ``process`` too; a region cut by the
    window's edge is measured within it only, so smaller (2026-12-06, session 39)."""
    from railwatch.imagery.read import undeclared_fill

    if ds.nodata is not None or item_nodata is not None or alpha_band(ds) is not None:
        return None
    if ColorInterp.palette in ds.colorinterp or _alpha_candidate(ds) is not None:
        return None
    try:
        size = ground_gsd(ds)
    except (ValueError, ArithmeticError):
        return None
    if not math.isfinite(size) or size <= 0:
        return None
    return undeclared_fill(read(_data_bands(ds, None)), size * step)


def check_overlap(
    info: SceneInfo, site_geom_wgs84: BaseGeometry, *, site_name: str = "the site"
) -> float:
    """The site coverage of a scene; raises :class:`NoOverlapError` when the scene
    covers less than one of its own pixels of the site."""
    coverage = site_coverage(info.footprint, site_geom_wgs84)
    utm = _geo.utm_crs_for(site_geom_wgs84)
    site_area = _geo.project(_geo.densify_wgs84(site_geom_wgs84), _geo.WGS84, utm).area
    if coverage * site_area < info.gsd * info.gsd:
        raise NoOverlapError(
            f"{Path(info.uri).name} does not overlap site {site_name} (0 pixels): skipped"
        )
    return coverage


# ---------------------------------------------------------------- opening checks


def _open_error(path: Path, err: Exception) -> ImageryError:
    with path.open("rb") as fh:
        head = fh.read(_MAGIC_BYTES)
    if head.startswith(_MAGIC) or path.suffix.lower() in _RASTER_SUFFIXES:
        detail = _short(err).replace(f"'{path}'", "").replace(str(path), "").strip(" :")
        if "not recognized as being in a supported file format" in detail:
            detail = "GDAL cannot read it as an image"
        return CorruptImageError(
            f"{path.name} is corrupt or truncated ({detail}): re-download or re-export it"
        )
    return UnsupportedFormatError(
        f"{path.name} is not an image format railwatch can read: ingest needs a GeoTIFF/COG"
    )


def missing_vrt_sources(path: str | Path) -> list[Path]:
    """The local source files a GDAL VRT at ``path`` names that are not there (relative
    names resolved as GDAL does: against the VRT's folder when ``relativeToVRT="1"``);
    empty for another file, or a VRT whose sources are all there or not local."""
    import xml.etree.ElementTree as ET

    vrt = Path(path)
    if vrt.suffix.lower() != ".vrt" or not vrt.is_file():
        return []
    try:
        root = ET.parse(vrt).getroot()
    except (ET.ParseError, OSError):
        return []
    missing: list[Path] = []
    for el in root.iter("SourceFilename"):
        text = (el.text or "").strip()
        if not text or text.startswith("/vsi") or uri_scheme(text) is not None:
            continue
        src = Path(text)
        if el.get("relativeToVRT", "0") == "1" and not src.is_absolute():
            src = vrt.parent / src
        if not src.exists() and src not in missing:
            missing.append(src)
    return missing


def vrt_sources_error(path: str | Path) -> ImageryError | None:
    """An error naming the missing source files of a VRT at ``path``, with what to do;
    None when it is no VRT or lacks none."""
    missing = missing_vrt_sources(path)
    if not missing:
        return None
    shown = some([str(m) for m in missing], 3)
    return ImageryError(
        f"{Path(path).name} is a VRT whose source file{'s' if len(missing) > 1 else ''} "
        f"{'are' if len(missing) > 1 else 'is'} missing ({shown}): put "
        f"{'them' if len(missing) > 1 else 'it'} back where the VRT names "
        f"{'them' if len(missing) > 1 else 'it'}, or ingest the image files themselves"
    )


@dataclass(frozen=True)
class GeoreferencingProblem:
    """What keeps an open dataset off a map grid with a CRS (:func:`georeferencing_problem`):
    ``kind`` "gcps" (ground control points only), "rpcs" (a sensor model only), "no grid"
    (neither, nor a geotransform) or "no crs" (a geotransform without a CRS); for "no
    crs", ``fix`` is the cause and the command that gives it one, to follow the file's
    name ("has a geotransform but no CRS: set one with `gdal_edit.py ...`")."""

    kind: Literal["gcps", "rpcs", "no grid", "no crs"]
    fix: str = ""


def georeferencing_problem(ds: Any, name: str) -> GeoreferencingProblem | None:
    """What keeps open dataset ``name`` off a map grid with a CRS, or None: the one
    reading of ``railwatch ingest`` (which refuses such a file) and ``railwatch detect``
    (which says it with how to give its scale instead)."""
    if ds.transform == Affine.identity():
        if ds.gcps[0]:
            return GeoreferencingProblem("gcps")
        if getattr(ds, "rpcs", None) is not None:
            return GeoreferencingProblem("rpcs")
        return GeoreferencingProblem("no grid")
    if ds.crs is not None:
        return None
    prj = prj_beside(Path(str(ds.name)))
    if prj is not None:  # GDAL reads a .prj only for some formats, never for a GeoTIFF
        return GeoreferencingProblem(
            "no crs",
            f"has a geotransform but no CRS, and GDAL does not read the CRS in {prj.name} "
            f"beside it: write it into the file with `gdal_edit.py -a_srs {prj.name} "
            f"{name}` (or -a_srs EPSG:CODE)",
        )
    return GeoreferencingProblem(
        "no crs",
        f"has a geotransform but no CRS: set one with `gdal_edit.py -a_srs EPSG:CODE {name}`",
    )


def _grid_fix(name: str) -> str:
    return (
        f"export it again with its georeferencing (`gdalwarp -t_srs EPSG:CODE {name} "
        f"OUT.tif`), or give it a grid: `gdal_translate -a_srs EPSG:CODE -a_ullr ULX ULY "
        f"LRX LRY {name} OUT.tif` (its corners in that CRS); to count its cars without "
        f"one, drop it (`gdal_edit.py -unsetgt -unsetsrs {name}`) and give "
        f"`railwatch detect {name} --gsd M` (M metres per pixel)"
    )


def grid_problem(ds: Any, name: str) -> str | None:
    """Why the geotransform and CRS of open dataset ``name`` cannot place its pixels on
    the Earth, with what to do, or None: a geotransform with a NaN or infinite number,
    or a singular one (pixels 0 m wide or high, or columns along rows: every pixel on
    one line); with a CRS, a local (engineering) CRS tied to no datum, or corners that
    PROJ cannot take to lon/lat (outside the projection's domain, as a pixel of 10^12 m
    puts them) or that fall beyond ±90° of latitude. A file without a geotransform
    (identity) is left to :func:`georeferencing_problem`. Found 2026-12-08, session 53,
    by GeoTIFFs made to have such grids: ``railwatch detect`` ended on an internal
    error (GDAL's "Point outside of projection domain", "Cannot find coordinate
    operations", a division by zero), ``railwatch ingest`` on "unexpected error:
    GEOSException" or took the file for one still being copied, and a NaN origin was
    detected on and written out as if georeferenced."""
    t = ds.transform
    if t == Affine.identity():
        return None
    coeffs = (t.a, t.b, t.c, t.d, t.e, t.f)
    shown = ", ".join(f"{v:.6g}" for v in coeffs)
    if not all(math.isfinite(v) for v in coeffs):
        why = "holds a number that is NaN or infinite"
    elif t.determinant == 0.0:
        why = (
            "is singular (its pixels are 0 wide or high, or its columns run along its "
            "rows: it puts every pixel on one line)"
        )
    elif not math.isfinite(t.determinant):
        why = "makes pixels so large that their area is no finite number"
    else:
        on_earth = _crs_grid_problem(ds)
        if on_earth is None:
            return None
        return (
            f"{name}'s georeferencing cannot place it on the Earth: {on_earth}; {_grid_fix(name)}"
        )
    return (
        f"{name}'s geotransform ({shown}: origin x, y at the 3rd and 6th, pixel sizes at "
        f"the 1st and 5th) {why}: the file's georeferencing is broken; {_grid_fix(name)}"
    )


def _crs_grid_problem(ds: Any) -> str | None:
    """The CRS half of :func:`grid_problem` (a finite, invertible geotransform)."""
    if ds.crs is None:
        return None
    try:
        crs = CRS.from_user_input(ds.crs.to_wkt())
    except Exception:  # a CRS pyproj does not read: GDAL's own reading is used below
        crs = None
    if crs is not None and crs.is_engineering:
        return (
            f"its CRS ({crs_text(ds.crs)}) is a local (engineering) grid tied to no place "
            "on the Earth"
        )
    w, h = ds.width, ds.height
    pixels = [(0, 0), (w, 0), (w, h), (0, h), (w / 2.0, h / 2.0)]
    xs, ys = zip(*(_geo.pixel_to_xy(ds.transform, c, r) for c, r in pixels), strict=True)
    try:
        lons, lats = rasterio.warp.transform(ds.crs, "EPSG:4326", list(xs), list(ys))
    except (RasterioError, CPLE_BaseError) as err:
        return (
            f"its corners ({xs[0]:.6g}, {ys[0]:.6g}) to ({xs[2]:.6g}, {ys[2]:.6g}) in its "
            f"CRS ({crs_text(ds.crs)}) have no longitude and latitude ({err})"
        )
    # (a pole's edge may round a hair past 90°: a grid ending at the pole is fine)
    if not all(math.isfinite(v) for v in (*lons, *lats)) or max(map(abs, lats)) > 90.0 + 1e-6:
        return (
            f"its corners ({xs[0]:.6g}, {ys[0]:.6g}) to ({xs[2]:.6g}, {ys[2]:.6g}) in its "
            f"CRS ({crs_text(ds.crs)}) are no longitude and latitude on the Earth"
        )
    return None


#: The world file GDAL reads beside a raster of each suffix without a grid of its own
#: (".wld" for the others).
_WORLD_FILE_SUFFIXES = {
    ".tif": ".tfw",
    ".tiff": ".tfw",
    ".jp2": ".j2w",
    ".png": ".pgw",
    ".jpg": ".jgw",
    ".jpeg": ".jgw",
    ".gif": ".gfw",
    ".bmp": ".bpw",
}


def _not_georeferenced_text(name: str) -> str:
    """Why a file without a geotransform is refused, and what to do: a picture (PNG,
    JPEG) is most likely a screenshot, counted alone by ``railwatch detect --gsd``, or
    ingested with a world file and its CRS (as a folder's picture is told,
    ``ingest.passed_over_reason``); a TIFF or another raster is an image exported
    without its grid, told how to give it one. Until 2026-12-06 (session 41) both were
    told "use `railwatch detect --gsd` for screenshots; ingest needs a GeoTIFF/COG",
    naming neither what they lack nor how to give it (and a georeferenced PNG named is
    ingested)."""
    suffix = Path(name).suffix.lower()
    world = Path(name).with_suffix(_WORLD_FILE_SUFFIXES.get(suffix, ".wld")).name
    if suffix in PICTURE_SUFFIXES:
        return (
            f"{name} is not georeferenced (no world file {world}, no geotransform in "
            f"{name}.aux.xml): `railwatch detect {name} --gsd M` counts its cars alone (M "
            f"metres per pixel); to ingest it, give it a world file {world} and its CRS in "
            f"{name}.aux.xml (as export-labels writes them), or ingest the GeoTIFF it was "
            "made from"
        )
    return (
        f"{name} is not georeferenced (no geotransform: nothing places its pixels on the "
        "ground); export it again with its georeferencing, or give it one: "
        f"`gdal_translate -a_srs EPSG:CODE -a_ullr ULX ULY LRX LRY {name} OUT.tif` (its "
        f"corners in that CRS), or a world file {world} beside it and its CRS in "
        f"{name}.aux.xml, then ingest again; `railwatch detect {name} --gsd M` counts its "
        "cars without it (M metres per pixel)"
    )


def check_bands(ds: Any, name: str) -> None:
    """Refuse a file without bands of its own (ingest; `railwatch detect`, where it was
    an internal error, IndexError), naming its subdatasets where it holds some
    (NetCDF, HDF: one variable each) and how to make an image of them. Before
    2026-12-07, session 46, such a NetCDF file was told it was "not georeferenced" and to
    give it a CRS with gdal_translate, which makes no image of it either."""
    if ds.count >= 1:
        return
    subs = [str(s) for s in (ds.subdatasets or [])]
    if not subs:
        raise UnsupportedFormatError(f"{name} has no bands: no image to read in it")
    shown = ", ".join(s.rsplit(":", 1)[-1] for s in subs[:6]) + (", ..." if len(subs) > 6 else "")
    raise UnsupportedFormatError(
        f"{name} is a container of {len(subs)} subdatasets ({shown}), not one image: write "
        "its red, green and blue (or one panchromatic) subdatasets into a GeoTIFF, e.g. "
        f"`gdalbuildvrt -separate rgb.vrt {subs[0]} ...` then `gdal_translate rgb.vrt OUT.tif` "
        "(`gdalinfo` lists the subdatasets), and give OUT.tif"
    )


def _check_georeferencing(ds: Any, name: str) -> None:
    problem = georeferencing_problem(ds, name)
    if problem is not None and problem.kind == "gcps":
        raise UnsupportedFormatError(
            f"{name} is georeferenced only by ground control points: "
            "orthorectify it first (`gdalwarp IN OUT.tif`), then ingest the GeoTIFF"
        )
    if problem is not None and problem.kind == "rpcs":
        raise UnsupportedFormatError(
            f"{name} is georeferenced only by RPCs (the sensor's rational polynomial "
            "model, not a map grid): orthorectify it first (`gdalwarp -rpc -t_srs EPSG:CODE "
            "[-to RPC_DEM=DEM.tif] IN OUT.tif`), then ingest the GeoTIFF"
        )
    if problem is not None and problem.kind == "no grid":
        raise NotGeoreferencedError(_not_georeferenced_text(name))
    if problem is not None:
        raise MissingCRSError(f"{name} {problem.fix} and ingest again")
    if ds.crs.is_geographic:
        left, bottom, right, top = ds.bounds
        lon = max(abs(left), abs(right))
        if max(abs(bottom), abs(top)) > 90.0 or lon > 360.0:
            raise MissingCRSError(
                f"{name} has coordinates ({left:.0f}, {top:.0f}) that are no longitude and "
                f"latitude, though its CRS ({crs_text(ds.crs)}) is in degrees: the CRS in "
                "the file is wrong (the coordinates look projected, in metres or feet); set "
                f"the right one with `gdal_edit.py -a_srs EPSG:CODE {name}` and ingest again"
            )
    broken = grid_problem(ds, name)
    if broken is not None:
        raise BrokenGridError(broken)


def prj_beside(path: Path) -> Path | None:
    """An ESRI ``NAME.prj`` (or ``NAME.tif.prj``) beside the image, or None (GDAL reads
    it only for some formats: never for a GeoTIFF, nor a PNG with a world file)."""
    for candidate in (path.with_suffix(".prj"), path.with_name(path.name + ".prj")):
        if candidate.is_file():
            return candidate
    return None


def unsupported_pixel_type(dtypes: Sequence[str], name: str) -> str | None:
    """Why image ``name`` of band types ``dtypes`` cannot be read and what to do, or None
    when every type is one railwatch reads: 8-, 16- and 32-bit integers, 32- and 64-bit
    floats. 64-bit integers are refused (no optical product is delivered in them: such
    a file is a label raster or an array written without choosing its type), by
    ``railwatch ingest`` and, since 2026-12-06 (session 39), by ``railwatch detect``,
    which read them. Complex numbers (radar, SAR data) are said to be no optical image."""
    bad = sorted({str(t) for t in dtypes if str(t) not in _SUPPORTED_DTYPES})
    if not bad:
        return None
    radar = [t for t in bad if t.startswith("complex")]
    if radar:
        # radar (SAR) data: ``railwatch detect`` cast away its imaginary part with a
        # NumPy warning and detected the rest as if it were a photograph (until
        # 2026-12-06, session 39); ingest said only "cannot read"
        return (
            f"{name} holds complex numbers ({', '.join(radar)}: radar, SAR data), not an "
            "optical image: railwatch detects railcars in optical images (RGB or "
            "panchromatic); give the yard's optical image"
        )
    return (
        f"{name} has pixel type {', '.join(bad)}, which railwatch cannot read: convert it to "
        f"8/16-bit integers or float32 (e.g. `gdal_translate -ot UInt16 {name} OUT.tif` "
        "for values 0-65535)"
    )


def _check_dtype(ds: Any, name: str) -> None:
    reason = unsupported_pixel_type(ds.dtypes, name)
    if reason is not None:
        raise UnsupportedFormatError(reason)
    if ds.width < 1 or ds.height < 1 or ds.count < 1:
        raise UnsupportedFormatError(f"{name} has no pixels ({ds.width} x {ds.height} px)")


def _check_tiff_blocks(ds: Any, name: str, size: int) -> None:
    """Refuse TIFFs whose block directory points past the end of the file."""
    if ds.driver != "GTiff":
        return
    bh, bw = ds.block_shapes[0]
    nbx = max(1, math.ceil(ds.width / bw))
    nby = max(1, math.ceil(ds.height / bh))
    blocks = {(0, 0), (nbx - 1, nby - 1), (nbx - 1, 0), (0, nby - 1), (nbx // 2, nby // 2)}
    for bidx in {1, ds.count}:
        for bx, by in blocks:
            try:
                off = ds.get_tag_item(f"BLOCK_OFFSET_{bx}_{by}", "TIFF", bidx=bidx)
                cnt = ds.get_tag_item(f"BLOCK_SIZE_{bx}_{by}", "TIFF", bidx=bidx)
            except RasterioError:
                return
            if off and cnt and int(off) + int(cnt) > size:
                raise CorruptImageError(
                    f"{name} is corrupt or truncated (image data ends past the end of the "
                    f"{size}-byte file): re-download or re-export it"
                )


#: Compressions whose data never starts with zero bytes (a zlib or zstd header, a JPEG or
#: WebP marker, a LERC signature, an LZW clear code): a block of them read as zeros was
#: never written (:func:`_check_zero_tail`). Uncompressed and PackBits data may be zeros.
_ZERO_INVALID = frozenset(
    {"DEFLATE", "ADOBE_DEFLATE", "ZSTD", "LZMA", "JPEG", "WEBP", "LERC", "LERC_DEFLATE",
     "LERC_ZSTD", "JXL", "LZW"}
)  # fmt: skip


def _codec(ds: Any) -> str:
    """The codec of a TIFF's image data, as in :data:`_ZERO_INVALID`: the last word of
    what GDAL reports (it reports a JPEG TIFF in YCbCr, as the COG driver always writes
    a 3-band JPEG, as ``YCbCr JPEG``: until the session 50 second review such a file
    was not checked, and a JPEG COG with zeros in its middle was ingested)."""
    words = str(ds.tags(ns="IMAGE_STRUCTURE").get("COMPRESSION", "")).upper().split()
    return words[-1] if words else ""


#: Bytes read at the end of a TIFF, and at the start of its last blocks, by
#: :func:`_check_zero_tail`.
_TAIL_BYTES = 4096


def _last_blocks(ds: Any) -> list[tuple[int, int]]:
    """(offset, size) of the last block (by its row and column) of the first and last
    band of each of a TIFF's images (full resolution and overviews), from its block
    directory; GDAL writes each image's blocks in that order."""
    out: list[tuple[int, int]] = []
    levels: list[int | None] = [None, *range(len(ds.overviews(1)))]
    for bidx in {1, ds.count}:
        for ovr in levels:
            where: dict[str, Any] = {"bidx": bidx, **({} if ovr is None else {"ovr": ovr})}

            def item(key: str, where: dict[str, Any] = where) -> str | None:
                return ds.get_tag_item(key, "TIFF", **where)

            nbx = nby = 0
            while item(f"BLOCK_OFFSET_{nbx}_0") is not None and nbx < 1_000_000:
                nbx += 1
            while item(f"BLOCK_OFFSET_0_{nby}") is not None and nby < 1_000_000:
                nby += 1
            if not nbx or not nby:
                continue
            off = item(f"BLOCK_OFFSET_{nbx - 1}_{nby - 1}")
            cnt = item(f"BLOCK_SIZE_{nbx - 1}_{nby - 1}")
            if off and cnt and int(off) > 0 and int(cnt) > 0:
                out.append((int(off), int(cnt)))
    return out


#: Most zero bytes :func:`_zero_run` counts (16 MiB).
_ZERO_RUN_CAP = 1 << 24


def _zero_run(fh: Any, size: int, cap: int = _ZERO_RUN_CAP) -> int:
    """How many bytes at the end of the open file ``fh`` (of ``size`` bytes) are zeros,
    read backwards in 64 KiB steps up to ``cap`` (the count stops there)."""
    run = 0
    while run < min(size, cap):
        n = min(65536, size - run)
        fh.seek(size - run - n)
        chunk = fh.read(n)
        stripped = chunk.rstrip(b"\0")
        run += n - len(stripped)
        if stripped:
            break
    return run


def _check_zero_tail(ds: Any, path: Path, name: str, size: int) -> None:
    """Refuse a compressed TIFF whose last bytes are zeros where its block directory
    places image data: a copy that reserves the file's full size before it writes (some
    transfer tools, a download manager, ``fallocate``) and has not finished, or a damaged
    file. Its header and overviews read well, so it was ingested as if whole and failed
    at ``process`` (2026-12-07, session 50: a COG copied to 30% was ingested). Cheap:
    the file's last :data:`_TAIL_BYTES` bytes, and only where they are all zeros the
    end of each image's last block. Uncompressed (and PackBits) data may be zeros:
    such a file is not judged here."""
    if ds.driver != "GTiff" or size <= 0:
        return
    compression = _codec(ds)
    if compression not in _ZERO_INVALID:
        return
    zero = 0
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, size - _TAIL_BYTES))
            if any(fh.read(_TAIL_BYTES)):
                return
            for off, cnt in sorted(_last_blocks(ds), key=sum, reverse=True):
                end = min(off + cnt, size)
                fh.seek(max(off, end - 64))
                last = fh.read(end - max(off, end - 64))
                if last and not any(last):
                    zero = _zero_run(fh, size)
                    break
    except (OSError, RasterioError, ValueError):
        return  # the reads that follow say what is wrong
    if zero:
        bytes_ = f"{zero:,} bytes" if zero < _ZERO_RUN_CAP else f"{zero:,} bytes or more"
        raise CorruptImageError(
            f"{name} is corrupt or truncated (its last {bytes_} are zeros where it "
            f"places {compression.lower()}-compressed image data: a copy that reserved the "
            "file's full size and has not finished writing, or a damaged file): "
            "re-download or re-export it"
        )


#: How many blocks of a compressed TIFF's full-resolution image :func:`_check_zero_blocks`
#: reads the end of.
_SAMPLED_BLOCKS = 64


def _sampled_blocks(ds: Any, count: int = _SAMPLED_BLOCKS) -> list[tuple[int, int]]:
    """(offset, size) of ``count`` blocks spread evenly over the full-resolution image of
    a TIFF (of its first band, and of its last where the bands are stored apart), from
    its block directory: spread over the file too, as its blocks are written in order.
    Blocks without data (a sparse file's) are left out."""
    height, width = ds.block_shapes[0]
    nbx = -(-ds.width // max(1, width))
    nby = -(-ds.height // max(1, height))
    total = nbx * nby
    bands = [1]
    if ds.count > 1 and str(ds.tags(ns="IMAGE_STRUCTURE").get("INTERLEAVE", "")) == "BAND":
        bands.append(ds.count)
    each = min(total, max(1, count // len(bands)))
    out: list[tuple[int, int]] = []
    for bidx in bands:
        for k in sorted({i * total // each for i in range(each)} | {total - 1}):
            x, y = k % nbx, k // nbx
            off = ds.get_tag_item(f"BLOCK_OFFSET_{x}_{y}", "TIFF", bidx=bidx)
            cnt = ds.get_tag_item(f"BLOCK_SIZE_{x}_{y}", "TIFF", bidx=bidx)
            if off and cnt and int(off) > 0 and int(cnt) > 0:
                out.append((int(off), int(cnt)))
    return out


def _check_zero_blocks(ds: Any, path: Path, name: str, size: int) -> None:
    """Refuse a compressed TIFF where the end of one of :data:`_SAMPLED_BLOCKS` blocks
    spread over its image is zeros: a copy written in pieces at once (a download manager
    with several connections, ``aria2 -x4``) that has not finished leaves zeros in the
    middle of the file, its end written; :func:`_check_zero_tail` looks at the end only,
    and such a file was ingested as whole (session 50 review). A gap shorter than the
    space between two sampled blocks (a 64th of the image) may fall between them and
    pass, to fail at ``process``. Cheap: 64 reads of 64 bytes
    (docs/scaling.md, "A pre-sized partial copy")."""
    if ds.driver != "GTiff" or size <= 0:
        return
    compression = _codec(ds)
    if compression not in _ZERO_INVALID:
        return
    zeros: list[int] = []
    checked = 0
    try:
        blocks = sorted(_sampled_blocks(ds))
        with path.open("rb") as fh:
            for off, cnt in blocks:
                end = min(off + cnt, size)
                if end <= off:
                    continue
                fh.seek(off)
                head = fh.read(min(4, end - off))
                start = max(off, end - 64)
                fh.seek(start)
                checked += 1
                if not any(head) or not any(fh.read(end - start)):
                    zeros.append(off)
    except (OSError, RasterioError, ValueError):
        return  # the reads that follow say what is wrong
    if zeros:
        raise CorruptImageError(
            f"{name} is corrupt or truncated ({len(zeros)} of {checked} image blocks "
            f"checked start or end in zeros, the first at byte {zeros[0]:,} of {size:,}, "
            f"where {compression.lower()}-compressed image data never does: a copy written "
            "in pieces that has not finished, or a damaged file): re-download or re-export it"
        )


def crs_text(crs: Any) -> str:
    """A rasterio CRS as railwatch stores and writes it: ``EPSG:n`` where that code names
    the same CRS (datum included; axis order aside), else its WKT.

    rasterio's ``to_epsg()`` matches at 70 % confidence: a UTM zone on the WGS84
    ellipsoid without a datum was EPSG:23872 (DGN95), one on the Bessel ellipsoid
    EPSG:3093 (Tokyo datum), so the scene's stored CRS, and the "crs" member of
    ``railwatch detect``'s GeoJSON, named another datum than the file's, which moves the
    coordinates by up to hundreds of metres in a GIS (2026-12-06, session 40)."""
    epsg = crs.to_epsg()
    if epsg and _same_crs(epsg, crs):
        return f"EPSG:{epsg}"
    return str(crs.to_wkt())


def _same_crs(epsg: int, crs: Any) -> bool:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return bool(CRS.from_epsg(epsg).equals(CRS.from_wkt(crs.to_wkt()), ignore_axis_order=True))
    except CRSError:
        return False


# ---------------------------------------------------------------- resolution


def ground_gsd(ds: Any) -> float:
    """Ground sample distance (metres per pixel, the geometric mean of the pixel's width
    and height on the ground) of an open georeferenced rasterio dataset."""
    gx, gy = _pixel_size_m(ds.crs, ds.transform, ds.width, ds.height)
    return math.sqrt(gx * gy)


def ground_pixel_size(ds: Any) -> tuple[float, float]:
    """The (width, height) of a pixel on the ground in metres, of an open georeferenced
    rasterio dataset: unequal in a geographic CRS away from the equator (0.44 x 0.59 m
    for a 5.3e-6 degree pixel at 42 degrees N)."""
    return _pixel_size_m(ds.crs, ds.transform, ds.width, ds.height)


def _pixel_size_m(crs: Any, transform: Affine, width: int, height: int) -> tuple[float, float]:
    """Pixel size (x, y) in metres on the ground.

    Projected CRSs use their linear unit (metres, US/international feet...);
    geographic CRSs, and projections far from true scale (Web Mercator away from
    the equator), are measured geodesically around the image centre.
    """
    if not (math.isfinite(transform.determinant) and transform.determinant != 0.0):
        # NaN, infinite or singular (pixels 0 m wide): said with the file's name by
        # grid_problem; 0 m pixels divided by zero in `railwatch detect --gsd`
        raise BrokenGridError("this image's geotransform is broken (NaN, infinite or singular)")
    res_x = math.hypot(transform.a, transform.d)
    res_y = math.hypot(transform.b, transform.e)
    geo_x, geo_y = _geodesic_pixel_size(crs, transform, width, height)
    pcrs = CRS.from_user_input(crs.to_wkt())
    if pcrs.is_projected:
        factor = pcrs.axis_info[0].unit_conversion_factor if pcrs.axis_info else 1.0
        lin_x, lin_y = res_x * factor, res_y * factor
        if not (math.isfinite(geo_x * geo_y) and geo_x > 0 and geo_y > 0) or math.isclose(
            math.sqrt(lin_x * lin_y), math.sqrt(geo_x * geo_y), rel_tol=0.05
        ):
            return lin_x, lin_y
    if not (math.isfinite(geo_x * geo_y) and geo_x > 0 and geo_y > 0):
        raise ImageryError("cannot compute the ground resolution of this image's CRS")
    return geo_x, geo_y


def _geodesic_pixel_size(
    crs: Any, transform: Affine, width: int, height: int
) -> tuple[float, float]:
    cx, cy = width / 2.0, height / 2.0
    step_x = max(1.0, min(100.0, width / 2.0))
    step_y = max(1.0, min(100.0, height / 2.0))
    cols = [cx, cx + step_x, cx]
    rows = [cy, cy, cy + step_y]
    xs, ys = zip(
        *(_geo.pixel_to_xy(transform, c, r) for c, r in zip(cols, rows, strict=True)), strict=True
    )
    try:
        lons, lats = rasterio.warp.transform(crs, "EPSG:4326", list(xs), list(ys))
    except (RasterioError, CPLE_BaseError):  # GDAL's: outside the projection's domain,
        return math.nan, math.nan  # a local CRS (an internal error of detect until session 53)
    geod = Geod(ellps="WGS84")
    _, _, dx = geod.inv(lons[0], lats[0], lons[1], lats[1])
    _, _, dy = geod.inv(lons[0], lats[0], lons[2], lats[2])
    return dx / step_x, dy / step_y


# ---------------------------------------------------------------- footprint


def _data_bands(ds: Any, hidden: int | Literal["read"] | None = "read") -> list[int]:
    """The bands read as the image's data (at most 3): not an alpha band, labelled or
    undeclared (``hidden``, told by :func:`undeclared_alpha` by default)."""
    if hidden == "read":
        hidden = undeclared_alpha(ds)
    data = alpha_as_data(ds)  # labelled alpha, but data (session 46)
    kept = data[0] if data is not None else None
    bands = [
        i + 1
        for i, ci in enumerate(ds.colorinterp)
        if (ci != ColorInterp.alpha or i + 1 == kept) and i + 1 != hidden
    ]
    return bands[:3] or [1]


#: Colour interpretations GDAL gives the bands before an alpha band whose TIFF
#: ExtraSamples is "unspecified" (0): the last band is then ``undefined``, and its mask
#: flags ``all_valid`` (GDAL 3.10; ``PHOTOMETRIC=RGB`` with 4 bands, or ``MINISBLACK``
#: with 2 or 4).
_BEFORE_UNDECLARED_ALPHA: tuple[tuple[ColorInterp, ...], ...] = (
    (ColorInterp.red, ColorInterp.green, ColorInterp.blue),
    (ColorInterp.gray, ColorInterp.undefined, ColorInterp.undefined),
    (ColorInterp.gray,),
)
#: Opaque values of an alpha band, by pixel type.
_OPAQUE = {"uint8": (255,), "uint16": (255, 65535)}
_ALPHA_SAMPLE = 1024  # longest side of the read that tells an undeclared alpha band
_ALPHA_WINDOW = 256  # side of each window read from a large file without overviews
_EIGHT_BIT_WINDOW = 256  # side of each window eight_bit_values reads


def transparent_entries(ds: Any, band: int) -> np.ndarray | None:
    """The values of a palette (colour-table) ``band`` whose colour is transparent (alpha
    0 in the table: GDAL gives such a file no mask, flags ``all_valid``), or None when
    the band has no colour table, none is transparent, or all are (a table that does not
    use its alpha)."""
    if ds.colorinterp[band - 1] != ColorInterp.palette:
        return None
    try:
        cmap = ds.colormap(band)
    except ValueError:
        return None
    clear = [k for k, rgba in cmap.items() if len(rgba) > 3 and rgba[3] == 0]
    if not clear or len(clear) == len(cmap):
        return None
    return np.asarray(clear)


def undeclared_alpha(ds: Any) -> int | None:
    """The 1-based index of the last band of an open dataset when it is an alpha band
    GDAL does not report as one, else None.

    An RGBA (or grey + alpha) TIFF written without the ExtraSamples tag that says its
    extra band is alpha (``PHOTOMETRIC=RGB`` and 4 bands, as many tools and a plain
    ``gdal_translate -co PHOTOMETRIC=RGB`` write) has its last band reported
    ``undefined`` and no mask (flags ``all_valid``): read as a 4th data band, its
    transparent area (a rotated scene's corners, often not black) was read as ground. The
    tags cannot tell it from a near-infrared band; its values can: it is taken as alpha
    only when the file declares no nodata, alpha or mask, the bands before it are red,
    green, blue (or grey), its pixel type is 8- or 16-bit, and every value sampled (the
    image read down to about 1024 px, from its overviews when it has some; 5 windows of
    a large file without) is 0 or the opaque value (255, or 65535 for 16-bit), some of
    them opaque. A near-infrared or other data band never is so."""
    count = _alpha_candidate(ds)
    if count is None:
        return None
    values = _alpha_sample(ds, count)
    found = set(np.unique(values).tolist())
    tops = found & set(_OPAQUE[ds.dtypes[-1]])
    if len(tops) != 1 or not found <= {0, *tops}:
        return None
    return count


def _alpha_candidate(ds: Any) -> int | None:
    """The 1-based index of the last band of an open dataset when its header lets it be
    an alpha band GDAL does not report (:func:`undeclared_alpha`, before its values are
    read), else None."""
    count = ds.count
    ci = tuple(ds.colorinterp)
    if count not in (2, 4) or ci[-1] != ColorInterp.undefined or ColorInterp.alpha in ci:
        return None
    if ci[:-1] not in _BEFORE_UNDECLARED_ALPHA or ds.nodata is not None:
        return None
    if any(MaskFlags.all_valid not in f for f in ds.mask_flag_enums):
        return None  # it has a mask (internal, .msk) or nodata of its own
    if ds.dtypes[-1] not in _OPAQUE:
        return None
    return int(count)


#: Words of a band's description that name a spectral band: a band GDAL labels alpha
#: but so described is image data (2026-12-07, session 46).
_SPECTRAL_NAME = re.compile(
    r"(?<![a-z])(nir\d?|near[\s_-]*infra[\s_-]*red|infra[\s_-]*red|red[\s_-]*edge\d?|"
    r"swir\d?|short[\s_-]*wave[\s_-]*infra[\s_-]*red|pan|panchromatic|coastal|yellow|"
    r"thermal|tir\d?)(?![a-z])",
    re.IGNORECASE,
)
#: Words of a band's description that say it is a mask: such a band labelled alpha is
#: transparency, whatever its values.
_MASK_NAME = re.compile(r"(?<![a-z])(alpha|mask|transparen\w*|opacity)(?![a-z])", re.IGNORECASE)
#: Least share of a labelled alpha band's sampled values that are 0 or its highest
#: value for it to be read as transparency (a mask: opaque and transparent, a few soft
#: or averaged edge pixels between); a near-infrared band holds mostly values between.
ALPHA_MASK_SHARE = 0.95
_judged: weakref.WeakKeyDictionary[Any, tuple[int, str] | None] = weakref.WeakKeyDictionary()
_told: set[str] = set()
#: Whether :func:`alpha_as_data` logs its notice in this context (thread, or task):
#: False within :func:`alpha_as_data_said_elsewhere`.
_LOG_ALPHA_AS_DATA: ContextVar[bool] = ContextVar("railwatch_log_alpha_as_data", default=True)


@contextmanager
def alpha_as_data_said_elsewhere() -> Iterator[None]:
    """Within it (in this thread or task only, and in what it runs with its context
    copied), :func:`alpha_as_data` does not log that a band labelled alpha is read as
    data: for a caller that says it itself (ingest's per-file warning, ``detect``'s),
    so that it is said once. The file still counts as told. Until a review of session 46
    this was a filter on the module's logger, which for its time also silenced, and
    marked as told, the files other threads judged."""
    token = _LOG_ALPHA_AS_DATA.set(False)
    try:
        yield
    finally:
        _LOG_ALPHA_AS_DATA.reset(token)


#: Metadata key of a scene whose band labelled alpha is read as data (``inspect_scene``):
#: ``{"band": 4, "why": "..."}``.
ALPHA_AS_DATA_KEY = "alpha_as_data"


def alpha_as_data(ds: Any) -> tuple[int, str] | None:
    """The band (1-based) of an open dataset that GDAL labels alpha but that is read as
    image data, and why (a few words), else None (2026-12-07, session 46).

    Four 8- or 16-bit bands written as RGB with an extra sample (``ALPHA=YES``, or
    ExtraSamples alpha, the default of several writers) have their 4th band labelled
    alpha, also when it holds near-infrared: read as transparency, every pixel where the
    NIR is 0 (water, shadow) was no data (a file with NIR 0 over half its area was
    "49 % covered"). The last band labelled alpha, from the 4th on, is data when its
    description names a spectral band (NIR, near infrared, red edge, SWIR, pan, ...), or,
    its description naming none (nor alpha or mask), when its values are not a mask: of
    a sample read down to about 1024 px (:func:`undeclared_alpha`'s), under
    :data:`ALPHA_MASK_SHARE` are 0 or its highest value. A true alpha band (0 and 255,
    a transparent border, soft edges) stays transparency. Judged once per open dataset;
    said once per file (a warning in the log: ``ingest``, ``process``, ``detect``)."""
    try:
        return _judged[ds]
    except (KeyError, TypeError):
        pass
    # a local file opened again (ingest opens each file several times, process again)
    # is not read again while it is unchanged: the sample read of a true alpha band
    # cost 0.3 CPU s a file of 34 Mpx without overviews (review, session 46)
    stamp = _file_verdict_key(ds)
    if stamp is not None and stamp in _judged_files:
        found = _judged_files[stamp]
    else:
        found = _judge_alpha(ds)
        if stamp is not None:
            if len(_judged_files) >= _JUDGED_FILES_MAX:
                _judged_files.pop(next(iter(_judged_files)))  # the oldest
            _judged_files[stamp] = found
    with suppress(TypeError):  # not weakly referable: judged again next time
        _judged[ds] = found
    if found is not None:
        # once per file: by its path, not its name (two folders' scene.tif were said once)
        where = str(ds.name)
        if where not in _told:
            _told.add(where)
            if _LOG_ALPHA_AS_DATA.get():
                log.warning("%s", alpha_as_data_text(Path(where).name, *found))
    return found


#: :func:`alpha_as_data`'s verdicts on local files by :func:`_file_verdict_key`, oldest
#: first, at most :data:`_JUDGED_FILES_MAX`.
_judged_files: dict[tuple[str, int, int, int, int, int], tuple[int, str] | None] = {}
_JUDGED_FILES_MAX = 4096


def _file_verdict_key(ds: Any) -> tuple[str, int, int, int, int, int] | None:
    """A local file's path, inode, modification time and size, with the read's width and
    height (an overview level reads other pixels): the same key while the file is
    unchanged. None for a remote or in-memory dataset, or a file that cannot be
    stat'ed."""
    name = str(getattr(ds, "name", ""))
    if not name or "://" in name or name.startswith("/vsi") or name.lstrip().startswith("<"):
        return None
    try:
        st = os.stat(name)
    except (OSError, ValueError):
        return None
    size = (int(ds.width), int(ds.height))
    return (os.path.realpath(name), st.st_ino, st.st_mtime_ns, st.st_size, *size)


def alpha_as_data_text(name: str, band: int, why: str) -> str:
    """What is said of a file whose band ``band`` labelled alpha is read as data."""
    return (
        f"{name}: band {band} is labelled alpha (transparency) but {why}: it is read as "
        "image data (near-infrared or another band), not as transparency, so its dark "
        "pixels are not taken as no data. If it really is transparency, make it the "
        f"file's mask: gdal_translate -b 1 -b 2 -b 3 -mask {band} {name} OUT.tif"
    )


def _judge_alpha(ds: Any) -> tuple[int, str] | None:
    """:func:`alpha_as_data`, not cached."""
    ci = list(ds.colorinterp)
    labelled = [i + 1 for i, c in enumerate(ci) if c == ColorInterp.alpha]
    if not labelled or labelled[-1] < 4:
        return None
    band = labelled[-1]
    text = str((ds.descriptions or [None] * ds.count)[band - 1] or "").strip()
    if text and _MASK_NAME.search(text):
        return None
    if text and _SPECTRAL_NAME.search(text):
        return band, f"its description says {text!r}"
    if np.dtype(ds.dtypes[band - 1]).kind not in "ui":
        return None  # a float alpha band: none seen; left as GDAL reads it
    values = _alpha_sample(ds, band).ravel()
    if values.size == 0:
        return None
    top = values.max()
    share = float(np.count_nonzero((values == 0) | (values == top))) / values.size
    if share >= ALPHA_MASK_SHARE:
        return None
    between = f"{1 - share:.0%} of them between 0 and {int(top)}"
    return band, f"its values are not a mask ({between})"


#: :func:`alpha_built_overviews`' verdicts, by open dataset.
_overviews_judged: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
#: Least number of pixels of the coarsest overview where the band is 0 for
#: :func:`alpha_built_overviews` to judge; fewer: not judged (False).
_ALPHA_OVR_MIN_ZEROS = 16
#: Full-resolution blocks :func:`alpha_built_overviews` reads to confirm its verdict.
_ALPHA_OVR_CHECKS = 8


def alpha_built_overviews(ds: Any) -> bool:
    """Whether the overviews of an open file whose band labelled alpha is data
    (:func:`alpha_as_data`) were built while GDAL took that band as alpha (``gdaladdo``,
    a writer's ``build_overviews``, as they do while it is labelled alpha): GDAL's
    averaging leaves out the pixels where it is 0, so their colour bands are 0 there
    (black), where the file's own pixels hold ground. Readers of such a file leave its
    overviews out (2026-12-07, session 47): `ingest-stac` measured the coverage of a
    file with NIR 0 over half of it on them, as 50 % where ingest said 100 %; the
    pipeline's decimated reads (``imagery.read``'s overview level, the warp of
    :func:`data_view`) and the map tiles read black there. Told from the coarsest
    overview (every pixel where the band is 0 black in all the other bands, at least
    :data:`_ALPHA_OVR_MIN_ZEROS` of them) and confirmed on the file's own pixels under up
    to :data:`_ALPHA_OVR_CHECKS` of them (one whose pixels are mostly not black): a file
    black there itself (its fill, with a few faint pixels at its edge that average to 0)
    reads the same either way. False for a file without overviews, read at an
    overview level, or whose band labelled alpha is transparency."""
    try:
        return _overviews_judged[ds]
    except (KeyError, TypeError):
        pass
    found = _judge_overviews(ds)
    with suppress(TypeError):
        _overviews_judged[ds] = found
    return found


def _judge_overviews(ds: Any) -> bool:
    """:func:`alpha_built_overviews`, not cached."""
    found = alpha_as_data(ds)
    if found is None:
        return False
    band = found[0]
    factors = list(ds.overviews(band))
    if not factors:
        return False
    f = factors[-1]
    shape = (max(1, math.ceil(ds.height / f)), max(1, math.ceil(ds.width / f)))
    others = [i for i in range(1, ds.count + 1) if i != band]
    try:
        small = np.asarray(ds.read(out_shape=(ds.count, *shape), resampling=Resampling.nearest))
    except RasterioError:
        return False
    zero = small[band - 1] == 0
    black = (small[[i - 1 for i in others]] == 0).all(axis=0)
    if int(zero.sum()) < _ALPHA_OVR_MIN_ZEROS or not black[zero].all():
        return False
    rows, cols = np.nonzero(zero)
    pick = np.linspace(0, rows.size - 1, min(_ALPHA_OVR_CHECKS, rows.size)).astype(int)
    fx, fy = ds.width / shape[1], ds.height / shape[0]
    for r, c in zip(rows[pick], cols[pick], strict=True):
        col, row = int(c * fx), int(r * fy)
        win = rasterio.windows.Window(
            col,
            row,
            max(1, min(math.ceil(fx), ds.width - col)),
            max(1, min(math.ceil(fy), ds.height - row)),
        )
        try:
            own = np.asarray(ds.read(others, window=win))
        except RasterioError:
            return False
        # ground over most of the block, black in the overviews. A few faint pixels at
        # the edge of a black fill (a rotated footprint's collar) average to 0 in
        # overviews built as any others are: "any pixel" took those for alpha-built
        # ones, and their overviews were left out (review, session 47)
        if 2 * np.count_nonzero(own.any(axis=0)) > own.shape[1] * own.shape[2]:
            return True
    return False


@contextmanager
def without_alpha_overviews(ds: Any) -> Iterator[Any]:
    """``ds``, or, where its overviews were built with its band labelled alpha taken as
    alpha (:func:`alpha_built_overviews`), the same file opened without its overviews
    (GDAL's ``OVERVIEW_LEVEL=NONE``: a decimated read samples its own pixels)."""
    if not alpha_built_overviews(ds):
        yield ds
        return
    with rasterio.open(ds.name, OVERVIEW_LEVEL="NONE") as own:
        yield own


def alpha_band(ds: Any) -> int | None:
    """The 1-based index of the band of an open dataset that is its transparency: its
    last band labelled alpha, unless that is read as data (:func:`alpha_as_data`);
    None when it has none."""
    labelled = [i + 1 for i, c in enumerate(ds.colorinterp) if c == ColorInterp.alpha]
    if not labelled:
        return None
    found = alpha_as_data(ds)
    return None if found is not None and found[0] == labelled[-1] else labelled[-1]


#: GDAL's names of the pixel types a file may have: those a scene may have
#: (:data:`_SUPPORTED_DTYPES`), and 64-bit integers (GDAL 3.5 and later), which `ingest`,
#: `ingest-stac` and `detect` refuse but a scene `ingest-stac` registered before
#: 2026-12-07 (session 47) may hold: its VRT (:func:`data_view`) raised a KeyError.
_GDAL_TYPES = {
    "uint8": "Byte", "int8": "Int8", "uint16": "UInt16", "int16": "Int16",
    "uint32": "UInt32", "int32": "Int32", "float32": "Float32", "float64": "Float64",
    "int64": "Int64", "uint64": "UInt64",
}  # fmt: skip


@contextmanager
def data_view(ds: Any, *, overview_level: int | None = None) -> Iterator[Any]:
    """``ds`` itself, or, where its band labelled alpha is data (:func:`alpha_as_data`),
    the same file opened through a VRT that labels that band undefined: GDAL's warp
    (``WarpedVRT``) and masks take a band labelled alpha as the mask whatever is asked
    (rasterio refuses ``add_alpha`` beside it), so the pipeline warps this view. The
    view keeps the georeference, band types, descriptions, colour labels, nodata values,
    scales and offsets (``overview_level``: the overview ``ds`` was opened at)."""
    found = alpha_as_data(ds)
    if found is None or ds.crs is None or ds.transform.is_identity:
        yield ds  # (an image placed by GCPs only is warped as GDAL labels it)
        return
    with rasterio.open(_relabelled_vrt(ds, found[0], overview_level)) as view:
        _judged[view] = None
        yield view


def _relabelled_vrt(ds: Any, band: int, overview_level: int | None) -> str:
    """The VRT (XML text) of ``ds`` with ``band`` labelled undefined (:func:`data_view`)."""
    from xml.sax.saxutils import escape

    src = escape(str(ds.name))
    if overview_level is None and alpha_built_overviews(ds):
        overview_level_text: str | None = "NONE"  # its overviews are black there (s47)
    else:
        overview_level_text = None if overview_level is None else str(overview_level)
    opts = (
        f'<OpenOptions><OOI key="OVERVIEW_LEVEL">{overview_level_text}</OOI></OpenOptions>'
        if overview_level_text is not None
        else ""
    )
    name = Path(str(ds.name)).name
    unknown = [t for t in ds.dtypes if t not in _GDAL_TYPES]
    if unknown:  # never a KeyError: what to do, as ingest says it
        raise UnsupportedFormatError(
            unsupported_pixel_type(unknown, name) or f"{name}: pixel type {unknown[0]}"
        )
    parts = []
    for i in range(1, ds.count + 1):
        ci = "Undefined" if i == band else ds.colorinterp[i - 1].name.capitalize()
        extra = f"<ColorInterp>{ci}</ColorInterp>"
        if (text := ds.descriptions[i - 1]) is not None:
            extra += f"<Description>{escape(text)}</Description>"
        if (nd := ds.nodatavals[i - 1]) is not None:
            extra += f"<NoDataValue>{nd!r}</NoDataValue>"
        if ds.offsets[i - 1] != 0.0:
            extra += f"<Offset>{ds.offsets[i - 1]!r}</Offset>"
        if ds.scales[i - 1] != 1.0:
            extra += f"<Scale>{ds.scales[i - 1]!r}</Scale>"
        parts.append(
            f'<VRTRasterBand dataType="{_GDAL_TYPES[ds.dtypes[i - 1]]}" band="{i}">{extra}'
            f'<SimpleSource><SourceFilename relativeToVRT="0">{src}</SourceFilename>{opts}'
            f"<SourceBand>{i}</SourceBand></SimpleSource></VRTRasterBand>"
        )
    if own_mask(ds):  # the file's own mask stays its mask (review of session 46)
        parts.append(
            '<MaskBand><VRTRasterBand dataType="Byte"><SimpleSource>'
            f'<SourceFilename relativeToVRT="0">{src}</SourceFilename>{opts}'
            "<SourceBand>mask,1</SourceBand></SimpleSource></VRTRasterBand></MaskBand>"
        )
    gt = ", ".join(repr(float(x)) for x in ds.transform.to_gdal())
    return (
        f'<VRTDataset rasterXSize="{ds.width}" rasterYSize="{ds.height}">'
        f"<SRS>{escape(ds.crs.to_wkt())}</SRS><GeoTransform>{gt}</GeoTransform>"
        f"{''.join(parts)}</VRTDataset>"
    )


def takes_item_nodata(ds: Any) -> bool:
    """Whether the nodata value a STAC item declares for an open dataset applies to it
    (``imagery.read.item_nodata_of``): only where the file says nothing itself of which
    pixels hold data, no nodata value, no alpha band (labelled, or
    :func:`undeclared_alpha`) and no mask of its own (internal, or NAME.tif.msk). The
    file's own wins; a mask of its own too (review r2 of e49257f, session 38: given the
    item's value as its source nodata, GDAL's warp left the file's mask out wherever a
    pixel held that value, and the masked area was read as ground). A colour table is
    the callers' to judge."""
    return _takes_item_nodata(ds, undeclared_alpha)


def _takes_item_nodata(ds: Any, hidden_alpha: Callable[[Any], int | None]) -> bool:
    """:func:`takes_item_nodata`, with the file's undeclared alpha band (if any) told by
    ``hidden_alpha`` (called only where it matters)."""
    if ds.nodata is not None or alpha_band(ds) is not None or own_mask(ds):
        return False
    return hidden_alpha(ds) is None


def own_mask(ds: Any) -> bool:
    """Whether an open dataset has a mask of its own (GDAL's per-dataset mask: internal,
    or NAME.tif.msk), not an alpha band's or a nodata value's."""
    return any(MaskFlags.per_dataset in f and MaskFlags.alpha not in f for f in ds.mask_flag_enums)


def shadowed_alpha(ds: Any) -> int | None:
    """The 1-based index of the alpha band of an open dataset that declares both a
    nodata value and an alpha band (and no mask of its own), else None.

    GDAL then gives each band the nodata value's mask, not the alpha band's (rasterio
    warns ``NodataShadowWarning`` with its source line at each masked read), while its
    dataset mask and the pipeline's warp (``imagery.read.read_site_window``) take the
    alpha band: the alpha band says which pixels hold data, the nodata value is not
    applied. :func:`data_mask` and :func:`read_masked` read such a file by that one
    rule, without the warning (session 31)."""
    if ds.nodata is None:
        return None
    alpha = alpha_band(ds)  # not a band labelled alpha that is data (session 46)
    if alpha is None or any(MaskFlags.per_dataset in f for f in ds.mask_flag_enums):
        return None
    return alpha


def data_mask(ds: Any, **kwargs: Any) -> np.ndarray:
    """``ds.dataset_mask(**kwargs)`` (uint8, 0 no data, 255 data; ``window``,
    ``out_shape``), but of a file whose nodata value shadows its alpha band
    (:func:`shadowed_alpha`) its alpha band read at the same window and shape (what
    rasterio's dataset mask gives for a 4-band file), without rasterio's warning. Of a
    file whose band labelled alpha is data (:func:`alpha_as_data`; GDAL's mask would be
    that band) the mask of its nodata value, else every pixel (session 46), but the file's
    own mask where it has one (:func:`own_mask`; GDAL's mask, whatever its bands)."""
    if alpha_as_data(ds) is not None and not own_mask(ds):
        return _data_alpha_mask(ds, **kwargs)
    alpha = shadowed_alpha(ds)
    if alpha is None:
        return np.asarray(ds.dataset_mask(**kwargs))
    return np.where(np.asarray(ds.read(alpha, **kwargs)) > 0, 255, 0).astype(np.uint8)


def read_masked(ds: Any, bands: Sequence[int], **kwargs: Any) -> np.ma.MaskedArray:
    """``ds.read(bands, masked=True, **kwargs)``, but of a file whose nodata value
    shadows its alpha band (:func:`shadowed_alpha`) masked where its alpha band is 0,
    as :func:`data_mask` and the pipeline read it (GDAL's masks would be the nodata
    value's, band by band, with rasterio's warning). Of a file whose band labelled alpha
    is data (:func:`alpha_as_data`) masked where each band holds the nodata value, if the
    file has one (session 46); by the file's own mask where it has one (:func:`own_mask`)."""
    if alpha_as_data(ds) is not None and not own_mask(ds):
        data = np.asarray(ds.read(list(bands), **kwargs))
        nodata = ds.nodata
        if nodata is None:
            return np.ma.MaskedArray(data, mask=np.zeros(data.shape, dtype=bool))
        empty = np.isnan(data) if math.isnan(nodata) else data == data.dtype.type(nodata)
        return np.ma.MaskedArray(data, mask=empty)
    alpha = shadowed_alpha(ds)
    if alpha is None:
        return np.ma.asarray(ds.read(list(bands), masked=True, **kwargs))
    data = np.asarray(ds.read(list(bands), **kwargs))
    if kwargs.get("out_shape") is not None:  # (bands, rows, cols): one band's is 2-D
        kwargs = {**kwargs, "out_shape": tuple(kwargs["out_shape"])[-2:]}
    clear = np.asarray(ds.read(alpha, **kwargs)) == 0
    return np.ma.MaskedArray(data, mask=np.broadcast_to(clear, data.shape).copy())


def _data_alpha_mask(ds: Any, **kwargs: Any) -> np.ndarray:
    """:func:`data_mask` of a file whose band labelled alpha is data: where any band
    (that one too) is not its nodata value, as GDAL's nodata masks make rasterio's
    dataset mask; 255 everywhere without a nodata value."""
    if ds.nodata is not None:
        if kwargs.get("out_shape") is not None:  # one band's (rows, cols): every band's
            kwargs = {**kwargs, "out_shape": (ds.count, *tuple(kwargs["out_shape"])[-2:])}
        data = np.asarray(ds.read(**kwargs))
        nodata = ds.nodata
        empty = np.isnan(data) if math.isnan(nodata) else data == data.dtype.type(nodata)
        return np.where(empty.all(axis=0), 0, 255).astype(np.uint8)
    shape = kwargs.get("out_shape")
    if shape is not None:
        rows, cols = tuple(shape)[-2:]
    elif (win := kwargs.get("window")) is not None:
        if not isinstance(win, rasterio.windows.Window):
            win = rasterio.windows.Window.from_slices(*win)
        rows, cols = round(win.height), round(win.width)
    else:
        rows, cols = ds.height, ds.width
    return np.full((rows, cols), 255, dtype=np.uint8)


def _alpha_sample(ds: Any, band: int) -> np.ndarray:
    """Values of ``band`` read down to at most :data:`_ALPHA_SAMPLE` px (nearest; GDAL
    reads its overviews when it has some), or, for a file without overviews larger
    than :data:`_PROBE_MAX_PIXELS`, from 5 windows (its corners and centre) at full
    resolution."""
    w, h = ds.width, ds.height
    if ds.overviews(band) or w * h <= _PROBE_MAX_PIXELS:
        scale = max(1.0, max(w, h) / _ALPHA_SAMPLE)
        shape = (max(1, round(h / scale)), max(1, round(w / scale)))
        return np.asarray(ds.read(band, out_shape=shape, resampling=Resampling.nearest))
    side = _ALPHA_WINDOW
    spots = [(0, 0), (0, w - side), (h - side, 0), (h - side, w - side)]
    spots.append(((h - side) // 2, (w - side) // 2))
    parts = [
        np.asarray(ds.read(band, window=rasterio.windows.Window(c, r, side, side))).ravel()
        for r, c in spots
    ]
    return np.concatenate(parts)


def _probe_valid(ds: Any, path: Path, name: str) -> tuple[np.ndarray, Affine] | None:
    """A low-resolution validity mask (alpha, nodata, internal mask, NaN) and its
    transform, or ``None`` when that would need the full-resolution pixels (a
    large file without overviews). Reads one small overview when there is one."""
    levels = ds.overviews(1)
    try:
        if levels:
            # the first overview at most _PROBE_MAX_SIDE px across, read whole
            longest = max(ds.width, ds.height)
            index = next(
                (i for i, f in enumerate(levels) if longest / f <= _PROBE_MAX_SIDE),
                len(levels) - 1,
            )
            with rasterio.open(path, overview_level=index) as ovr:
                valid = _valid_pixels(ovr, None)
                w, h = ovr.width, ovr.height
        elif ds.width * ds.height <= _PROBE_MAX_PIXELS:
            scale = max(1.0, max(ds.width, ds.height) / _PROBE_SIZE)
            w = max(1, round(ds.width / scale))
            h = max(1, round(ds.height / scale))
            valid = _valid_pixels(ds, (h, w))
        else:
            return None
    except RasterioError as err:
        raise CorruptImageError(
            f"{name} is corrupt or truncated ({_short(err)}): re-download or re-export it"
        ) from err
    if not valid.any():
        raise EmptyImageError(
            f"{name} has no valid pixels (all no-data, transparent or NaN): nothing to ingest"
        )
    return valid, _geo.scaled(ds.transform, ds.width / w, ds.height / h)


def band_scaling(ds: Any, bands: Sequence[int]) -> tuple[np.ndarray, np.ndarray] | None:
    """The scale and offset an open dataset declares for ``bands`` (1-based), as two
    float64 arrays, or None when each of them has scale 1 and offset 0 (GDAL's default:
    the values are what is stored).

    GDAL band metadata (rasterio ``ds.scales``, ``ds.offsets``) says what a stored value
    means: stored × scale + offset, e.g. reflectance kept as uint16 with 0.0001 and -0.1
    (Sentinel-2 L2A since baseline 04.00) or 2.75e-05 and -0.2 (Landsat Collection 2
    level 2). Pixels are mapped to 8 bits from these values, so that bands stored with
    different scales keep their balance (``imagery.read.to_rgb8``). A scale of 0 (every
    pixel would read as the offset) or a scale or offset that is not a number is broken
    metadata, refused with an :class:`ImageryError` that says how to correct the file,
    rather than guessed at: read as stored, such a band can be off by any factor
    against the others."""
    name = Path(str(ds.name)).name
    scales = list(ds.scales or ())
    offsets = list(ds.offsets or ())
    found: list[tuple[float, float]] = []
    for band in bands:
        scale = float(scales[band - 1]) if band <= len(scales) else 1.0
        offset = float(offsets[band - 1]) if band <= len(offsets) else 0.0
        if scale == 0.0 or not (math.isfinite(scale) and math.isfinite(offset)):
            raise ImageryError(
                f"{name}: band {band} declares a scale of {scale:g} and an offset of "
                f"{offset:g} (GDAL metadata: value = stored × scale + offset), which gives "
                "its pixels no meaningful value; correct the file's metadata with the "
                "product's scale and offset for each band (`gdal_edit.py -scale S1 S2 S3 "
                f"-offset O1 O2 O3 {name}`; 1 and 0 when the stored values are the "
                "values), then ingest it again"
            )
        found.append((scale, offset))
    if all(scale == 1.0 and offset == 0.0 for scale, offset in found):
        return None
    return (
        np.array([scale for scale, _ in found], dtype=np.float64),
        np.array([offset for _, offset in found], dtype=np.float64),
    )


#: Key, in a scene's metadata, of the scale and offset of each band of its file that
#: only its STAC item declares (the image asset's ``raster:bands``, e.g. Sentinel-2 L2A
#: reflectance on Earth Search, whose COGs may not carry them; the item `railwatch
#: ingest-stac` registers, or the ``NAME.json`` beside a file of `railwatch ingest`):
#: ``{"scale": [...], "offset": [...]}``, one of each per band of the file
#: (:func:`item_band_scaling`). Read by ``imagery.read.item_scaling_of``.
ITEM_SCALING_KEY = "stac_band_scaling"


def item_band_scaling(
    listed: Any,
    *,
    band_count: int,
    dtype: str,
    file_scaling: tuple[Sequence[float | None], Sequence[float | None]],
    image: str,
    command: str,
    where: str = "its image asset's raster:bands",
    field: str = "raster:bands",
) -> tuple[dict[str, list[float]] | None, str | None]:
    """The scale and offset of each band of an image that only its STAC item declares
    (``listed``: the image asset's ``raster:bands``, ``scale`` and ``offset``: value =
    stored × scale + offset), to record in the scene's metadata
    (:data:`ITEM_SCALING_KEY`) and apply where the file declares none, and what to say
    of them. None when the item declares none (or 1 and 0), the image is 8-bit
    (``dtype``: read as stored), or the file declares its own (``file_scaling``, its
    GDAL scales and offsets: the file's are read, and the note says so when they differ
    from the item's).

    A scale of 0, or a scale or offset that is not a number, is refused as
    :func:`band_scaling` refuses it in a file, and so is a list of another number of
    bands than the file's ``band_count`` (they cannot be told apart): an
    :class:`ImageryError` that names ``where`` the item declares them and ``image`` and
    says to correct the item's ``field`` and run ``command`` again (``railwatch
    ingest-stac``, ``railwatch ingest``)."""
    if dtype == "uint8" or not isinstance(listed, list) or not listed:
        return None, None
    if len(listed) == 1 and isinstance(listed[0], Mapping) and listed[0].get("all_bands"):
        listed = listed * band_count  # an asset's own value, for each band of its file
    scales: list[float] = []
    offsets: list[float] = []
    for i, band in enumerate(listed, 1):
        entry = band if isinstance(band, Mapping) else {}
        scale = 1.0 if entry.get("scale") is None else entry["scale"]
        offset = 0.0 if entry.get("offset") is None else entry["offset"]
        if not (_finite(scale) and _finite(offset)) or scale == 0:
            raise ImageryError(
                f"{where} declares a scale of {scale!r} and an offset of {offset!r} for "
                f"band {i} (value = stored × scale + offset), which gives its pixels no "
                f"meaningful value: correct the item's {field} with the product's scale "
                "and offset for each band (1 and 0 where the stored values are the values), "
                f"or take them out of the item, then run `{command}` again"
            )
        scales.append(float(scale))
        offsets.append(float(offset))
    if all(s == 1.0 and o == 0.0 for s, o in zip(scales, offsets, strict=True)):
        return None, None
    if len(listed) != band_count:
        raise ImageryError(
            f"{where} lists {len(listed)} band(s) with a scale or offset, and {image} has "
            f"{band_count}: which band each is for cannot be told; correct the item's "
            f"{field} (one entry per band of the file, in order), then run "
            f"`{command}` again"
        )
    own_s = [_band_value(file_scaling[0], b, 1.0) for b in range(band_count)]
    own_o = [_band_value(file_scaling[1], b, 0.0) for b in range(band_count)]
    if all(s == 1.0 and o == 0.0 for s, o in zip(own_s, own_o, strict=True)):
        return {"scale": scales, "offset": offsets}, None
    if _close(own_s, scales) and _close(own_o, offsets):
        return None, None
    return None, (
        f"{where} declares a scale of {scaling_numbers(scales)} and an offset of "
        f"{scaling_numbers(offsets)} for its bands, and the file itself "
        f"{scaling_numbers(own_s)} and {scaling_numbers(own_o)}: the file's are used (the "
        "item's only where the file declares none); correct the one that is wrong"
    )


def scaling_numbers(values: Sequence[float]) -> str:
    """Per-band scales or offsets as messages write them: ``0.0001, 0.0002, 0.0004``."""
    return ", ".join(f"{v:g}" for v in values)


def _file_scaling(ds: Any) -> tuple[tuple[float | None, ...], tuple[float | None, ...]]:
    """An open dataset's GDAL scales and offsets, for :func:`item_band_scaling`."""
    return tuple(ds.scales or ()), tuple(ds.offsets or ())


def _band_value(values: Sequence[Any], i: int, default: float) -> float:
    """``values[i]`` as a float (GDAL's scale or offset of band ``i + 1``), or ``default``."""
    value = values[i] if i < len(values) else None
    return default if value is None else float(value)


def _close(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-12) for x, y in zip(a, b, strict=True))


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def eight_bit_values(ds: Any) -> str | None:
    """How a 16- or 32-bit integer file holds 8-bit values, or None: ``"x257"`` when
    every value is a multiple of 257 (8-bit values scaled to the full 16-bit range, as
    visual products stored in 16 bits are), ``"0-255"`` when none exceeds 255 (8-bit
    values in a wider type). Either is a display product, which ``--radiometry
    linear`` (the default) stretches with a display gamma: washed out, read as snow or
    haze. Judged on five full-resolution windows of at most 256 px a side (the centre
    and the middle of each quarter, each moved inside one of the file's tiles where they
    are as large: :func:`_within_one_block`; overviews are resampled, their values no
    longer multiples of anything), the file's nodata value, GDAL's mask and zeros left out;
    None when they hold no value above 0. A file that declares a scale or offset
    (:func:`band_scaling`) is judged by its values (stored × scale + offset): display
    values kept as hundredths with scale 0.01 are 8-bit ones, reflectance kept as
    uint16 with scale 0.0001 is not, however dark. A float file is judged the same way
    when its values are whole numbers, at least one above 1 (an 8-bit image saved as
    float32 or float64 by a raster calculator or numpy; reflectance and radiance have
    fractions), NaN and infinities left out (2026-12-07, session 46: such a file got no
    hint and every scene of it read "snow covers 70 % of the site").

    ``"xK"`` (e.g. ``"x4"``) when every value is a multiple of one factor K, a power of
    two from 2 (a bit shift), and the values over K span the upper half of 8 bits (their
    highest 128 to 255): 8-bit values multiplied by a factor other than 257 (x4, up to
    1020; x256, an 8-bit image shifted into the high byte). Until 2026-12-07 (session 47)
    such a file got no hint, and a clear simulated yard stored x4 read "snow covers 63 %
    of the site".
    Linear 12- or 16-bit sensor data mostly is not: its values are not all multiples of
    one factor (a sample of thousands of them has no common factor; fewer than
    :data:`_EIGHT_BIT_MIN_LEVELS` distinct values are not judged so), nor, shifted into
    the high bits, do they fit 8 bits over the factor. Values alone cannot tell a dark
    12-bit image shifted by 4 bits whose highest value is 128 to 255 (under 6 % of its
    range) from an 8-bit one x16: the hint says "if it is one" (review, session 47;
    reflectance kept in thousandths, multiples of 10, read "x10" until K had to be a
    power of two).
    :func:`eight_bit_words` says it in words."""
    kind = np.dtype(ds.dtypes[0]).kind
    if kind not in "iuf" or np.dtype(ds.dtypes[0]).itemsize < 2:
        return None
    bands = _data_bands(ds)
    side_w, side_h = min(ds.width, _EIGHT_BIT_WINDOW), min(ds.height, _EIGHT_BIT_WINDOW)
    block_h, block_w = ds.block_shapes[0]
    parts, masked = [], []
    chosen: set[tuple[int, int]] = set()
    try:
        for fx, fy in ((0.5, 0.5), (0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)):
            col = min(max(0, round(ds.width * fx - side_w / 2)), ds.width - side_w)
            row = min(max(0, round(ds.height * fy - side_h / 2)), ds.height - side_h)
            inside = (
                _within_one_block(col, side_w, block_w, ds.width),
                _within_one_block(row, side_h, block_h, ds.height),
            )
            # a window moved onto one already read (an image of one to two tiles a side:
            # all five fell on the same tile, review, session 48) is read where it was
            if inside not in chosen:
                col, row = inside
            chosen.add((col, row))
            window = rasterio.windows.Window(col, row, side_w, side_h)
            read = read_masked(ds, bands, window=window)  # GDAL's mask: nodata, .msk
            parts.append(np.ma.getdata(read).reshape(len(bands), -1))
            masked.append(np.ma.getmaskarray(read).reshape(len(bands), -1))
    except RasterioError:
        return None  # the footprint probe says what is wrong with the file
    stored = np.concatenate(parts, axis=1)
    keep = (stored > 0) & ~np.concatenate(masked, axis=1)
    if kind == "f":
        keep &= np.isfinite(stored)
    if ds.nodata is not None and math.isfinite(ds.nodata):
        keep &= stored != ds.nodata
    scaling = band_scaling(ds, bands)
    if scaling is not None or kind == "f":
        scale, offset = (
            scaling if scaling is not None else (np.ones(len(bands)), np.zeros(len(bands)))
        )
        real = (stored * scale[:, None] + offset[:, None])[keep]
        values = np.round(real)
        if real.size == 0 or np.abs(real - values).max() > 1e-6 or values.min() < 0:
            return None  # no values, or not whole numbers: not 8-bit ones
        if kind == "f" and values.max() <= 1:
            return None  # zeros and ones (a mask, reflectance at its ceiling): no image
    else:
        values = stored[keep]
    if values.size == 0:
        return None
    if int(values.max()) <= 255:
        return "0-255"
    whole = values.astype(np.int64)
    if not np.any(whole % 257):
        return "x257"
    factor = int(np.gcd.reduce(whole))
    if (
        factor >= 2
        # a power of two, as a bit shift makes it (x4, x16, x256): reflectance kept in
        # thousandths, multiples of 10 when rounded so, read "x10" (session 47 review)
        and factor & (factor - 1) == 0
        and _EIGHT_BIT_HALF <= int(whole.max()) // factor <= 255
        # a few values share a factor by chance (1000 and 1004: "x4"); an 8-bit image
        # holds dozens of levels (review, session 47)
        and np.unique(whole).size >= _EIGHT_BIT_MIN_LEVELS
    ):
        return f"x{factor}"
    return None


def _within_one_block(start: int, side: int, block: int, total: int) -> int:
    """Where a window of ``side`` pixels that would begin at ``start`` begins inside one
    internal block (tile) of ``block`` pixels, along an axis of ``total``: the block
    holding its centre (the one before, where that one is cut short by the edge), the
    window centred in it. Unchanged where the blocks are smaller than the window or one
    block spans the axis (strips, a small file). For :func:`eight_bit_values`: a remote
    COG is read by one HTTP range request a window (of pixel-interleaved bands), not by
    one for each of the two to four tiles a window across their edges touched: 10 to
    22 range requests for the check of a remote 16-bit item became 5 (2026-12-07,
    session 48; the values are full-resolution ones as before: an overview's, which
    GDAL's COG driver resamples (cubic) by default, are multiples of nothing)."""
    if block < side or block >= total:
        return start
    index = (start + side // 2) // block
    if index * block + side > total:  # the last block, too short for the window
        index -= 1
    return min(index * block + (block - side) // 2, total - side)


#: Least highest value of 8-bit values stored multiplied by a factor (over the factor,
#: :func:`eight_bit_values`' ``"xK"``): they reach the upper half of 8 bits, as an image
#: encoded for the screen does; the sample of a dark 10-bit image shifted up (x64) does not.
_EIGHT_BIT_HALF = 128
#: Least number of distinct values of the sample for :func:`eight_bit_values`' ``"xK"``:
#: fewer share a common factor too easily by chance (two values: about one time in 30).
_EIGHT_BIT_MIN_LEVELS = 32


def eight_bit_words(code: str) -> str:
    """:func:`eight_bit_values`' verdict in words: "multiples of 257", "all between 0
    and 255", "all multiples of 4, none above 1020 = 255 x 4" (one wording for
    `ingest`, `ingest-stac`, `detect` and `process`)."""
    if code == "x257":
        return "multiples of 257"
    if code == "0-255":
        return "all between 0 and 255"
    factor = int(code[1:]) if code[:1] == "x" and code[1:].isdigit() else 0
    if factor >= 2:
        return f"all multiples of {factor}, none above {255 * factor} = 255 x {factor}"
    return code


def _valid_pixels(
    ds: Any,
    shape: tuple[int, int] | None,
    *,
    window: rasterio.windows.Window | None = None,
    item_nodata: float | None = None,
    read: Callable[..., np.ndarray] | None = None,
) -> np.ndarray:
    """Which pixels hold data, from the pixels themselves (nodata, NaN), the alpha
    band or the internal mask, at ``shape`` (nearest) or full size, of ``window`` (the
    whole file by default). ``item_nodata``: the nodata value its STAC item declares,
    read as the file's where it declares none (as ``imagery.read`` reads the scene).
    Reading the pixels also surfaces corrupt blocks.

    Of a ``window`` of a file whose last band may be an alpha band it does not declare
    (:func:`undeclared_alpha`, which reads the whole image down to 1024 px), the valid
    pixels are found both ways from the window's own pixels, and only where the two
    differ (a 0 in that band over the window, or the item's nodata in the bands before
    it) is the whole image read to tell (2026-12-06, session 38, review r2: the site's
    coverage read at ingest-stac read the whole image first, twice the bytes of a
    4-band 16-bit COG; the result is the same)."""
    if read is None:  # else the caller's reader of the same shape and window
        read = _memo_reader(ds, shape, window)
    candidate = _alpha_candidate(ds)
    if candidate is None or window is None:
        return _valid_given(ds, read, undeclared_alpha(ds), item_nodata)
    as_alpha = _valid_given(ds, read, candidate, item_nodata)
    as_data = _valid_given(ds, read, None, item_nodata)
    if np.array_equal(as_alpha, as_data):
        return as_alpha  # the same either way: no need to tell
    return as_alpha if undeclared_alpha(ds) == candidate else as_data


def _memo_reader(
    ds: Any, shape: tuple[int, int] | None, window: rasterio.windows.Window | None
) -> Callable[..., np.ndarray]:
    """A reader of bands (or their masks) of ``ds`` at ``shape`` (nearest) or full size,
    of ``window``, reading each request once."""
    done: dict[tuple[Any, bool], np.ndarray] = {}

    def read(index: int | list[int], masks: bool = False) -> np.ndarray:
        key = (tuple(index) if isinstance(index, list) else index, masks)
        if key in done:
            return done[key]
        reader = ds.read_masks if masks else ds.read
        if shape is None:
            out = np.asarray(reader(index, window=window))
        else:
            out_shape = (len(index), *shape) if isinstance(index, list) else shape
            out = np.asarray(
                reader(index, out_shape=out_shape, resampling=Resampling.nearest, window=window)
            )
        done[key] = out
        return out

    return read


def _valid_given(
    ds: Any,
    read: Callable[..., np.ndarray],
    hidden: int | None,
    item_nodata: float | None,
) -> np.ndarray:
    """:func:`_valid_pixels` read by ``read``, ``hidden`` the file's undeclared alpha
    band (or None)."""
    bands = _data_bands(ds, hidden)
    data = read(bands)
    valid = np.ones(data.shape[1:], dtype=bool)
    nodata = ds.nodata
    if item_nodata is not None and _takes_item_nodata(ds, lambda _: hidden):
        nodata = item_nodata
    # a nodata value that an alpha band shadows is not applied: the alpha band says which
    # pixels hold data, as the pipeline reads the file (shadowed_alpha; session 31)
    if nodata is not None and shadowed_alpha(ds) is None:
        empty = np.isnan(data) if math.isnan(nodata) else data == data.dtype.type(nodata)
        valid &= ~empty.all(axis=0)
    alpha = alpha_band(ds)  # not a band labelled alpha that is data (session 46)
    if alpha is None:
        alpha = hidden
    if alpha is not None:
        valid &= read(alpha) > 0
    clear = transparent_entries(ds, bands[0]) if len(bands) == 1 else None
    if clear is not None:
        valid &= ~np.isin(data[0], clear)
    elif any(MaskFlags.per_dataset in f and MaskFlags.alpha not in f for f in ds.mask_flag_enums):
        # GDAL's mask of the file (internal, or NAME.tif.msk): it overrides a nodata
        # value, as the reads do (the warp, masked reads)
        valid &= read(bands[0], masks=True) > 0
    if data.dtype.kind == "f":
        valid &= np.isfinite(data).all(axis=0)
    return valid


def _footprint_native(ds: Any, probe: tuple[np.ndarray, Affine] | None) -> BaseGeometry:
    outline = _outline(ds.transform, ds.width, ds.height)
    if probe is None or probe[0].all():
        return outline
    valid, transform = probe
    polys = [
        shape(geom)
        for geom, value in rasterio.features.shapes(
            valid.astype(np.uint8), mask=valid, transform=transform
        )
        if value == 1
    ]
    merged = shapely.union_all(polys).intersection(outline)
    res = math.hypot(transform.a, transform.d)
    merged = merged.simplify(res / 2.0)
    if isinstance(merged, MultiPolygon):
        merged = merged.convex_hull
    if not isinstance(merged, Polygon) or merged.is_empty:
        return outline
    return merged


def _outline(transform: Affine, width: int, height: int) -> Polygon:
    corners = [
        _geo.pixel_to_xy(transform, c, r)
        for c, r in ((0, 0), (width, 0), (width, height), (0, height))
    ]
    return Polygon(corners)


def _to_wgs84_polygon(geom: BaseGeometry, crs: Any) -> Polygon | MultiPolygon:
    """Reproject a native-CRS footprint to WGS84, densified so edges bend correctly; a
    footprint across the antimeridian is a MultiPolygon split at 180° (GDAL cuts it so:
    the convex hull of its pieces was a band round the whole Earth, which met every site
    at that latitude)."""
    minx, miny, maxx, maxy = geom.bounds
    step = max(maxx - minx, maxy - miny) / 32.0 or 1.0
    dense = shapely.segmentize(geom, step)
    out = shape(rasterio.warp.transform_geom(crs, "EPSG:4326", mapping(dense)))
    if isinstance(out, MultiPolygon):  # cut at the antimeridian
        split = split_at_antimeridian(out)
        if split is not None:
            return split
        out = out.convex_hull
    if not isinstance(out, Polygon) or out.is_empty:
        return box(*rasterio.warp.transform_bounds(crs, "EPSG:4326", *geom.bounds, densify_pts=21))
    if out.is_valid:
        return out
    hull = shapely.make_valid(out).convex_hull
    return hull if isinstance(hull, Polygon) else out


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    """The polygons with area in ``geom`` (a polygon, multipolygon or collection)."""
    if isinstance(geom, Polygon):
        return [geom] if geom.area > 0 else []
    return [p for g in getattr(geom, "geoms", ()) for p in _polygons(g)]


def split_at_antimeridian(geom: BaseGeometry, *, hull: bool = False) -> MultiPolygon | None:
    """A WGS84 footprint across the antimeridian as a MultiPolygon split at 180° (RFC
    7946 3.1.9: pieces east and west of it, every longitude within ±180), or None when
    it does not cross it. It crosses when its pieces reach both +180 and -180 (already
    cut so), when a polygon's longitudes go beyond ±180, or when one spans more than
    180° (a ring that jumps from 179.9 to -179.9). ``hull``: the convex hull of the
    pieces put side by side across 180°, split again (one piece of image per scene, as
    a MultiPolygon footprint elsewhere is made one by its convex hull)."""
    polys = _polygons(geom)
    if not polys:
        return None
    bounds = [p.bounds for p in polys]
    edge = 1e-9
    cut = any(b[2] >= 180 - edge for b in bounds) and any(b[0] <= -180 + edge for b in bounds)
    beyond = any(b[0] < -180 - edge or b[2] > 180 + edge for b in bounds)
    wide = any(b[2] - b[0] > 180 for b in bounds)
    if not (cut or beyond or wide):
        return None

    def east(xy: np.ndarray) -> np.ndarray:  # longitudes west of 0 put beyond 180
        return np.column_stack([np.where(xy[:, 0] < 0, xy[:, 0] + 360.0, xy[:, 0]), xy[:, 1]])

    joined = shapely.union_all([shapely.transform(p, east) for p in polys])
    if hull:
        joined = joined.convex_hull
    parts = [
        part
        for k in (0, 1)
        for part in _polygons(
            shapely.affinity.translate(
                joined.intersection(box(-180 + 360 * k, -90, 180 + 360 * k, 90)), -360 * k
            )
        )
    ]
    if len(parts) < 2:  # it did not cross after all (e.g. a ring wholly beyond 180)
        return None
    return MultiPolygon(parts)


def split_line_at_antimeridian(line: LineString) -> LineString | MultiLineString:
    """A WGS84 line (a stretch of track) split at 180° when it crosses there (RFC 7946
    3.1.9), as :func:`split_at_antimeridian` splits footprints: points east and west of
    180° (179.99, then -179.99) drew a line round the whole Earth. The longitudes are
    unwrapped along the line and its pieces beyond ±180° moved back by 360°; a line
    that does not cross is returned as it is."""
    xy = np.asarray(line.coords, dtype=float)
    lon = np.unwrap(xy[:, 0], period=360.0)
    if lon.min() >= -180.0 and lon.max() <= 180.0:
        return line  # no jump of more than 180° between points
    joined = LineString(np.column_stack([lon, xy[:, 1]]))
    parts: list[LineString] = []
    for k in (-1, 0, 1):
        piece = shapely.affinity.translate(
            joined.intersection(box(360 * k - 180, -90, 360 * k + 180, 90)), -360 * k
        )
        pieces = piece.geoms if hasattr(piece, "geoms") else [piece]
        parts += [g for g in pieces if isinstance(g, LineString) and g.length > 0]
    return parts[0] if len(parts) == 1 else MultiLineString(parts)


# ---------------------------------------------------------------- metadata


@dataclass(frozen=True)
class _Sidecar:
    acquired: datetime | None = None
    sensor: str | None = None
    mask_uri: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    #: The image asset's ``raster:bands`` (its bands' scale and offset, read by
    #: :func:`item_band_scaling`), as :func:`stac_raster_bands` gives them; None when it
    #: lists none.
    raster_bands: Any = None
    #: Where the item lists them: ``raster:bands``, or STAC 1.1 ``bands``.
    raster_field: str = "raster:bands"
    #: Why the item gives no acquisition time (``acquired`` None): its date field and
    #: value as found, said when no other date is found.
    bad_date: str | None = None


@contextmanager
def _open_listed(path: Path) -> Iterator[Any]:
    """The raster at ``path``, opened with its folder listed (a local one: GDAL reads the
    acquisition time and satellite from the sidecars it knows, Maxar's NAME.IMD, into
    the IMAGERY domain); a file GDAL cannot open is said as :func:`_open_error` says."""
    with gdal_env(read_dir=True):
        try:
            ds = open_quietly(path)
        except (RasterioError, CPLE_BaseError) as err:
            raise _open_error(path, err) from err
        with ds:
            yield ds


def item_scaling_beside(
    path: str | Path, *, command: str = "railwatch ingest"
) -> tuple[dict[str, list[float]] | None, str | None]:
    """The scales and offsets that the STAC item ``NAME.json`` beside the image ``path``
    declares for its bands, as :func:`inspect_scene` records them
    (:data:`ITEM_SCALING_KEY`), and what to say of them (:attr:`SceneInfo.item_scaling_note`):
    for `railwatch ingest` run again over a file already ingested, whose item may declare
    others now, and for the readers of a file that is no scene (``railwatch detect``,
    label reading, ``railwatch scale``: ``imagery.read.file_item_scaling``). Raises an
    :class:`ImageryError` as :func:`inspect_scene` does, saying to run ``command`` again
    once the item is corrected."""
    path = Path(path)
    sidecar = _read_sidecar(path)
    if sidecar.raster_bands is None:
        return None, None
    with _open_listed(path) as ds:
        count, dtype, file_scaling = ds.count, ds.dtypes[0], _file_scaling(ds)
    return _sidecar_scaling(sidecar, path, count, dtype, file_scaling, command=command)


def _sidecar_scaling(
    sidecar: _Sidecar,
    path: Path,
    band_count: int,
    dtype: str,
    file_scaling: tuple[Sequence[float | None], Sequence[float | None]],
    *,
    command: str = "railwatch ingest",
) -> tuple[dict[str, list[float]] | None, str | None]:
    """:func:`item_band_scaling` of the STAC item sidecar of the image ``path``."""
    if sidecar.raster_bands is None:
        return None, None
    return item_band_scaling(
        sidecar.raster_bands,
        band_count=band_count,
        dtype=str(dtype),
        file_scaling=file_scaling,
        image=path.name,
        command=command,
        where=(
            f"the image asset's {sidecar.raster_field} in its STAC item "
            f"{sidecar.metadata['sidecar']}"
        ),
        field=sidecar.raster_field,
    )


def sidecar_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata railwatch reads from the STAC Item ``NAME.json`` or the Planet
    ``NAME_metadata.json`` next to the image ``path`` (empty without one), with the keys
    scenes store: ``sun_azimuth``, ``sun_elevation``, ``off_nadir``, ``cloud_cover``..."""
    return dict(_read_sidecar(Path(path)).metadata)


#: Below this sun elevation (degrees) cars cast shadows longer than about twice their
#: height: dark, car-sized strips beside them that the default detector may count as cars
#: (on drawings it never learned from, ``benchmarks/bench_third_renderer.py``, two thirds
#: of its false boxes lay on shadows with the sun at 15-35 degrees). Reports name such
#: counts and ``railwatch scene to-review`` puts them first among images without alerts.
LOW_SUN_DEG = 30.0


def is_low_sun(elevation: float | None) -> bool:
    """Whether a sun ``elevation`` (degrees; None: not known) is below
    :data:`LOW_SUN_DEG`."""
    return elevation is not None and elevation < LOW_SUN_DEG


def sun_of(meta: Mapping[str, Any] | None) -> tuple[float, float] | None:
    """The sun's (azimuth, elevation) in degrees from metadata as scenes store it (from
    ``view:sun_azimuth`` and ``view:sun_elevation`` of a STAC item, or Planet's
    ``sun_azimuth`` and ``sun_elevation``), or None when either is missing or out of
    range."""
    if not meta:
        return None
    try:
        az, elev = float(meta["sun_azimuth"]), float(meta["sun_elevation"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(az) and math.isfinite(elev) and 0.0 < elev <= 90.0):
        return None
    return az % 360.0, elev


#: Band names (GDAL band descriptions, STAC ``eo:bands`` common names) read as red,
#: green and blue, compared in lower case.
_RGB_NAMES: tuple[tuple[str, ...], ...] = (
    ("red", "r", "red band"),
    ("green", "g", "green band"),
    ("blue", "b", "blue band"),
)


def rgb_from_names(names: Sequence[object]) -> tuple[int, int, int] | None:
    """1-based (red, green, blue) band indexes from per-band names (GDAL band
    descriptions, STAC ``eo:bands`` common names; None or '' for an unnamed band), or
    None unless each of red, green and blue names exactly one band."""
    low = [n.strip().lower() if isinstance(n, str) else "" for n in names]
    out = []
    for accepted in _RGB_NAMES:
        hits = [i + 1 for i, n in enumerate(low) if n in accepted]
        if len(hits) != 1:
            return None
        out.append(hits[0])
    return out[0], out[1], out[2]


def unlabelled_bands(src: Any) -> bool:
    """True when :func:`rgb_bands` has to guess: four or more bands that are not alpha,
    none labelled red, green and blue by colour interpretation or description. Many
    multispectral products (Planet's analytic, Maxar's) store blue, green, red, NIR
    in that order, so the guess (bands 1, 2, 3) swaps red and blue there."""
    ci = list(src.colorinterp)
    if all(c in ci for c in (ColorInterp.red, ColorInterp.green, ColorInterp.blue)):
        return False
    if rgb_from_names(list(src.descriptions or ())) is not None:
        return False
    data = sum(1 for c in ci if c != ColorInterp.alpha)
    data += alpha_as_data(src) is not None  # labelled alpha, but data (session 46)
    if data == 4 and undeclared_alpha(src) is not None:
        return False  # grey-labelled RGBA: three colour bands and an alpha band
    return data >= 4


def rgb_of(meta: Mapping[str, Any] | None) -> tuple[int, int, int] | None:
    """The 1-based (red, green, blue) bands recorded in a scene's metadata
    (``rgb_bands``: from its STAC ``eo:bands`` or ``railwatch ingest --bands``), or None."""
    value = (meta or {}).get("rgb_bands")
    if (
        isinstance(value, list | tuple)
        and len(value) == 3
        and all(isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in value)
    ):
        return value[0], value[1], value[2]
    return None


#: Text that shows a sidecar which is not valid JSON was meant as the image's STAC item
#: (or Planet's metadata): the keys only those have (:func:`sidecar_json`).
ITEM_MARKS: tuple[str, ...] = ("stac_version", "Feature", "properties", "assets")


def is_stac_item(doc: object, *, planet: bool = False) -> bool:
    """Whether the JSON document ``doc`` beside an image is its STAC item: an object
    with a ``properties`` object that says it is one (``"type": "Feature"`` or a
    ``stac_version``); another tool's JSON (a labels sidecar ``{"gsd": 0.3}``, some
    other metadata) is not. ``planet``: the file is Planet's ``NAME_metadata.json``,
    whose name says what it is (a ``properties`` object is enough)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("properties"), dict):
        return False
    return planet or doc.get("type") == "Feature" or isinstance(doc.get("stac_version"), str)


def meant_key(text: str, keys: Sequence[str] = ITEM_MARKS) -> str | None:
    """The first of ``keys`` that the text of a file beside an image names as a JSON
    string (``"Feature"``: as the value of ``"type"``), or None: whether a file that is
    not valid JSON was meant for railwatch (:func:`sidecar_json`)."""
    for key in keys:
        pattern = r'"type"\s*:\s*"Feature"' if key == "Feature" else re.escape(f'"{key}"')
        if re.search(pattern, text):
            return key
    return None


def sidecar_json(candidate: Path, image: str, *, keys: Sequence[str] = ITEM_MARKS) -> Any:
    """The JSON document of the file ``candidate`` beside the image ``image`` (None when
    there is none), by the one rule every reader of an image file applies (``ingest``,
    ``detect``, ``scale``, label reading; session 31): a file that is not valid JSON is
    refused (an :class:`ImageryError` saying to fix or remove it) only where it looks
    meant for railwatch, its text naming one of ``keys`` (:data:`ITEM_MARKS`: a STAC
    item's or Planet's keys; label reading adds ``gsd`` and ``radiometry``); another
    tool's file is left alone (None), as a valid JSON that is no STAC item is
    (:func:`is_stac_item`). A file that cannot be read at all is refused: nothing can be
    told of it."""
    if not candidate.is_file():
        return None
    try:
        raw = candidate.read_bytes()
    except OSError as err:
        raise ImageryError(
            f"cannot read the sidecar {candidate.name} next to {image} ({_short(err)}): "
            "make it readable, or move it away"
        ) from err
    text = raw.decode("utf-8", errors="replace")
    try:
        # UTF-8 whatever the locale; a byte-order mark (Windows tools) is no error
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        meant = meant_key(text, keys)
        if meant is None:
            return None  # not JSON, nor meant as the item: another tool's
        what = "not UTF-8 text" if isinstance(err, UnicodeDecodeError) else "not valid JSON"
        named = '"type": "Feature"' if meant == "Feature" else f'"{meant}"'
        like = " as a STAC item does" if meant in ITEM_MARKS else ""
        raise ImageryError(
            f"sidecar {candidate.name} next to {image} is {what} ({_short(err)}), though "
            f"it names {named}{like}: fix or remove it"
        ) from err


def _read_sidecar(path: Path) -> _Sidecar:
    """Metadata from ``NAME.json`` (a STAC Item) or ``NAME_metadata.json`` (Planet), by
    the rule of :func:`sidecar_json` and :func:`is_stac_item`: other JSON is left alone."""
    for candidate, planet in (
        (path.with_suffix(".json"), False),
        (path.with_name(path.stem + "_metadata.json"), True),
    ):
        doc = sidecar_json(candidate, path.name)
        if is_stac_item(doc, planet=planet):
            return parse_stac_item(doc, candidate, image=path.name)
    return _Sidecar()


def parse_stac_item(doc: Mapping[str, Any], where: Path, image: str | None = None) -> _Sidecar:
    """The metadata of a STAC Item (or Planet's) at ``where``; ``image`` (the image
    asset's href, or its file name) picks the asset whose band names are read."""
    props: Mapping[str, Any] = doc["properties"]
    acquired = None
    for key in ("datetime", "start_datetime", "acquired"):
        value = props.get(key)
        if isinstance(value, str) and (parsed := parse_datetime(value)) is not None:
            acquired = parsed
            break
    bad_date = None
    if acquired is None:  # said if no other date is found (walk-in, session 45)
        given = next(((k, props[k]) for k in ("datetime", "start_datetime", "acquired")
                      if props.get(k) is not None), None)  # fmt: skip
        bad_date = (
            f"its {given[0]} {json.dumps(given[1])} cannot be read as a date and time"
            if given is not None
            else "it has no datetime"
        )
    meta: dict[str, Any] = {"sidecar": where.name}
    if isinstance(doc.get("id"), str):
        meta["stac_id"] = doc["id"]
    for src, dst in (
        ("eo:cloud_cover", "cloud_cover"),
        ("view:off_nadir", "off_nadir"),
        ("view:incidence_angle", "incidence_angle"),
        ("view:azimuth", "view_azimuth"),
        ("view:sun_elevation", "sun_elevation"),
        ("view:sun_azimuth", "sun_azimuth"),
        ("sun_elevation", "sun_elevation"),  # Planet
        ("sun_azimuth", "sun_azimuth"),  # Planet
        ("view_angle", "off_nadir"),  # Planet
        ("gsd", "stac_gsd"),
    ):
        value = float_or_none(props.get(src))
        if value is not None and dst not in meta:
            meta[dst] = value
    planet_cloud = float_or_none(props.get("cloud_cover"))
    if planet_cloud is not None and "cloud_cover" not in meta:
        meta["cloud_cover"] = planet_cloud * 100.0 if planet_cloud <= 1.0 else planet_cloud
    for key in ("platform", "constellation", "satellite_id", "item_type", "provider"):
        if isinstance(props.get(key), str):
            meta[key] = props[key]
    instruments = props.get("instruments")
    if isinstance(instruments, list) and all(isinstance(i, str) for i in instruments):
        meta["instruments"] = list(instruments)
    sensor = next(
        (props[k] for k in ("constellation", "platform", "satellite_id") if props.get(k)),
        None,
    )
    if sensor is None and meta.get("instruments"):
        sensor = ",".join(meta["instruments"])
    asset = _image_asset(doc.get("assets"), image)
    rgb = _asset_rgb(asset, props)
    if rgb is not None:
        meta["rgb_bands"] = list(rgb)
    listed, listed_in = stac_raster_bands(asset)
    return _Sidecar(
        acquired=acquired,
        sensor=str(sensor) if sensor is not None else None,
        mask_uri=_mask_asset(doc.get("assets"), where.parent),
        metadata=meta,
        raster_bands=listed,
        raster_field=listed_in,
        bad_date=bad_date,
    )


def stac_raster_bands(asset: Mapping[str, Any] | None) -> tuple[list[Any] | None, str]:
    """The scale and offset of each band that the STAC asset ``asset`` (its JSON, or
    a pystac asset's ``extra_fields``) declares, as :func:`item_band_scaling` reads
    them (``scale``, ``offset``), with the field that lists them: the raster
    extension 1.x ``raster:bands``, or STAC 1.1's ``bands`` with ``raster:scale`` and
    ``raster:offset`` (raster extension 2.0; until session 35 these were not read, so
    a STAC 1.1 item's scales were not applied). None when it lists none.

    In STAC 1.1 a value every band shares is on the asset itself (the 1.0 -> 1.1 band
    migration moves it there), and a band's own value overrides it: an asset-level
    ``raster:scale``/``raster:offset`` applies to each of its ``bands``, or, without a
    band list, to every band of its file (one entry with ``all_bands``, which
    :func:`item_band_scaling` repeats). Until the session 35 review (r5-review) only the
    bands' own values were read, so such an item's scales were not applied."""
    if asset is None:
        return None, "raster:bands"
    listed = asset.get("raster:bands")
    if isinstance(listed, list) and listed:
        return listed, "raster:bands"
    shared = {k: asset[k] for k in ("raster:scale", "raster:offset") if k in asset}
    bands = asset.get("bands")
    entries = (
        [b if isinstance(b, Mapping) else {} for b in bands] if isinstance(bands, list) else []
    )
    own = any("raster:scale" in b or "raster:offset" in b for b in entries)
    field = "bands" if own else " and ".join(shared)
    if not entries:
        if not shared:
            return None, "raster:bands"
        scale, offset = shared.get("raster:scale"), shared.get("raster:offset")
        return [{"scale": scale, "offset": offset, "all_bands": True}], field
    if not own and not shared:
        return None, "bands"
    return [
        {
            "scale": b.get("raster:scale", shared.get("raster:scale")),
            "offset": b.get("raster:offset", shared.get("raster:offset")),
        }
        for b in entries
    ], field


def stac_band_names(bands: Any) -> list[object] | None:
    """Per-band names from a STAC band list: ``common_name`` (eo 1.x), ``eo:common_name``
    (STAC 1.1 ``bands``), else ``name``."""
    if not isinstance(bands, list) or not all(isinstance(b, dict) for b in bands):
        return None
    return [b.get("common_name") or b.get("eo:common_name") or b.get("name") for b in bands]


def _image_asset(assets: Any, image: str | None) -> Mapping[str, Any] | None:
    """The item's asset whose href is ``image`` (or ends with its file name), or None."""
    if isinstance(assets, dict) and image:
        name = image.rstrip("/").rsplit("/", 1)[-1]
        for a in assets.values():
            href = a.get("href") if isinstance(a, dict) else None
            if isinstance(href, str) and (href == image or href.rsplit("/", 1)[-1] == name):
                return a
    return None


def _asset_rgb(
    chosen: Mapping[str, Any] | None, props: Mapping[str, Any]
) -> tuple[int, int, int] | None:
    """1-based (red, green, blue) bands of the image asset from its STAC band list
    (``eo:bands`` or ``bands``): the asset ``chosen`` (:func:`_image_asset`), else the
    item's own ``eo:bands``; None when they do not name red, green and blue."""
    for source in (chosen, props):
        if source is None:
            continue
        names = stac_band_names(source.get("eo:bands", source.get("bands")))
        if names:
            return rgb_from_names(names)
    return None


def _mask_asset(assets: Any, base: Path) -> str | None:
    """The href of the quality-mask asset (key ``mask`` or role ``quality``)."""
    if not isinstance(assets, dict):
        return None
    chosen = assets.get("mask")
    if not isinstance(chosen, dict):
        chosen = next(
            (
                a
                for a in assets.values()
                if isinstance(a, dict) and "quality" in (a.get("roles") or [])
            ),
            None,
        )
    if not isinstance(chosen, dict) or not isinstance(chosen.get("href"), str):
        return None
    href: str = chosen["href"]
    scheme = uri_scheme(href)
    if scheme is not None and scheme != "file":
        return href
    try:  # file:///PATH and file://localhost/PATH, percent-escapes decoded
        local = local_path(href)
    except UnsupportedFormatError:  # a file:// URL of another host: not readable here
        return None
    if not local.is_absolute():
        local = base / local
    return str(local.resolve()) if local.is_file() else None


def quality_mask_of(path: str | Path) -> str | None:
    """The quality mask ingest takes for the image file ``path`` (its
    :attr:`SceneInfo.mask_uri`): the mask asset of its STAC sidecar, else ``NAME.mask.tif``
    beside it; None without one. ``railwatch detect`` reads a 1.5 m or coarser file's
    clear ground by it, as ``railwatch process`` reads the scene's (2026-12-06, session
    41)."""
    p = Path(path)
    return _read_sidecar(p).mask_uri or _mask_beside(p)


def _mask_beside(path: Path) -> str | None:
    """``NAME.mask.tif`` next to ``NAME.tif`` (the simulator's layout)."""
    candidate = path.with_name(path.stem + ".mask.tif")
    return str(candidate.resolve()) if candidate.is_file() and candidate != path else None


def _tags_in(ds: Any, domain: str) -> dict[str, str]:
    try:
        return {k.upper(): str(v) for k, v in ds.tags(ns=domain).items()}
    except RasterioError:
        return {}


def _sensor_from_tags(tags: Mapping[str, str], imagery: Mapping[str, str]) -> str | None:
    if imagery.get("SATELLITEID"):
        return imagery["SATELLITEID"]
    upper = {k.upper(): v for k, v in tags.items()}
    for key in ("SENSOR", "PLATFORM", "SATELLITE", "SATELLITEID", "SPACECRAFT"):
        if upper.get(key):
            return upper[key]
    return None


def _acquisition(
    path: Path,
    option: datetime | date | None,
    sidecar: _Sidecar,
    tags: Mapping[str, str],
    imagery_tags: Mapping[str, str],
    default: datetime | date | None = None,
    utc_offset: timedelta = timedelta(0),
) -> tuple[datetime, str, bool]:
    """The acquisition time, where it came from, and whether it was a day alone (then
    noon at the site, ``utc_offset`` east of UTC: :func:`inspect_scene`)."""

    def at_site(value: datetime | date) -> tuple[datetime, bool]:
        if isinstance(value, datetime):
            return to_utc(value), False
        return local_noon(value, utc_offset), True

    if option is not None:
        when, date_only = at_site(option)
        return when, "option", date_only
    if sidecar.acquired is not None:
        return sidecar.acquired, "stac", False
    from_tags = date_from_tags(tags, imagery_tags, file_time=False)
    if from_tags is not None:
        return from_tags, "tiff-tag", False
    # TIFFTAG_DATETIME is when the file was written (an export, a crop): a date in the
    # name wins over it, which only adds the time of day to a name's bare date (when it
    # falls on that day at the site).
    file_time = file_time_from_tags(tags)
    from_name = dated_from_filename(path.name)
    if from_name is not None:
        if (
            file_time is not None
            and not isinstance(from_name, datetime)
            and (file_time + utc_offset).date() == from_name
        ):
            return file_time, "tiff-tag", False
        when, date_only = at_site(from_name)
        return when, "filename", date_only
    if file_time is not None:
        return file_time, "tiff-tag", False
    if default is not None:
        when, date_only = at_site(default)
        return when, "option", date_only
    bad = rejected_filename_dates(path.name)
    note = f" ({bad[0]} in the file name is not a valid date)" if bad else ""
    # a sidecar that is there was said as one to add (walk-in, 2026-12-07, session 45)
    side = f"add a STAC sidecar {path.stem}.json"
    found = sidecar.metadata.get("sidecar")
    if found and sidecar.bad_date:
        side = (
            f"fix the date in its STAC sidecar {found} ({sidecar.bad_date}; write it as "
            'RFC 3339, e.g. "datetime": "2024-04-10T02:13:00Z")'
        )
    elif path.with_suffix(".json").is_file():
        side = (
            f"make {path.stem}.json beside it a STAC item with its datetime (it is read "
            'only as one: "type": "Feature" and "properties")'
        )
    raise MissingDateError(
        f"no acquisition date found for {path.name}: give it (date=YYYY-MM-DD in Python, "
        f"--date YYYY-MM-DD on the command line), or {side}, "
        f"or put the date in the filename{note}"
    )


def float_or_none(value: Any) -> float | None:
    """``value`` as a finite float (numbers, and numbers written as strings, as some STAC
    items and sidecars write ``eo:cloud_cover``), else None (booleans, NaN, text)."""
    if isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _short(err: BaseException) -> str:
    """One line of at most 160 characters saying what ``err`` is: GDAL's own message
    where rasterio says only "Read failed. See previous exception for details."."""
    if "See previous exception" in str(err) and err.__cause__ is not None:
        err = err.__cause__
    text = " ".join(str(err).split())
    return text[:160] + "..." if len(text) > 160 else text
