"""Register scenes from STAC: a STAC API (searched with pystac-client) or a static
source, from a file or over HTTP: a catalog or collection (walked with pystac), a
single item, or an item collection (a GeoJSON FeatureCollection of items).

Each item that intersects the site becomes a scene with the item's metadata
(datetime, GSD, ``eo:cloud_cover``, view angles, platform) and, when the item has
one, its provider quality mask. Pixels are not downloaded: the scene's ``uri`` is the
asset's URL, and only the image header is read here (GDAL ``/vsicurl/`` range
requests for http(s) assets, so a Cloud-Optimized GeoTIFF costs a few kB). A local
asset without a SHA-256 ``file:checksum`` is hashed once, as ``railwatch ingest``
hashes files: one image is one scene, whether it is reached by two items or by
``railwatch ingest`` too (:func:`_same_image`, docs/storage.md "One image, one scene").
A local quality mask is stamped (size, times, SHA-256) as ``railwatch ingest`` stamps
one, so ``process`` refuses a scene whose mask was replaced; running ``ingest-stac``
again over the catalog takes the new mask, or the other mask the item names now
(:func:`_take_new_mask`). A new item whose local mask is not there or cannot be read
fails, with what to do; a mask registered before session 29 without a stamp is stamped
at its first use (:func:`railwatch.ingest.first_use_stamp`).

Authentication headers (commercial APIs) come from the ``headers`` argument or the
``RAILWATCH_STAC_HEADERS`` environment variable (a JSON object); they are sent to
the API and to GDAL, and never logged or stored.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from railwatch.errors import ConfigError, ImageryError, InputError, RailwatchError, lazy_import
from railwatch.imagery.inspect import (
    ALPHA_AS_DATA_KEY,
    HTTP_CONNECT_TIMEOUT_S,
    HTTP_READ_TIMEOUT_S,
    UnsupportedFormatError,
    crs_text,
    float_or_none,
    gdal_options,
    gdal_path,
    grid_problem,
    is_remote,
    item_band_scaling,
    local_path,
    open_quietly,
    remote_access_hint,
    split_at_antimeridian,
    stac_band_names,
    stac_raster_bands,
    unsupported_pixel_type,
    uri_scheme,
)
from railwatch.imagery.read import ITEM_NODATA_KEY, ITEM_SCALING_KEY
from railwatch.ingest import (
    EIGHT_BIT_NOTE,
    FILE_STAMP_KEY,
    MASK_STAMP_KEY,
    NODATA_CHANGED,
    RESULTS_KEPT,
    STAC_ALIASES_KEY,
    IngestSummary,
    alpha_as_data_note,
    eight_bit_note,
    exchanged,
    first_use_stamp,
    hashed_file,
    local_uris,
    mark_mask_changed,
    mark_to_count_again,
    mask_changed,
    mask_stamp,
    record_scene,
    same_stat,
    scene_entry,
    set_radiometry,
    stac_item_hash,
    stac_item_of,
    stop_if_site_removed,
    swapped_site_hint,
    swapped_site_note,
    take_item_scaling,
)
from railwatch.ingest import (
    MASK_CHANGED as MASK_CHANGED,  # where it was defined before session 30
)
from railwatch.ingest import (
    SCALE_CHANGED as SCALE_CHANGED,  # defined here when ingest-stac alone recorded scales
)
from railwatch.sites import geojson_shape
from railwatch.storage import Database, repo
from railwatch.storage.db import is_sqlite_locked

__all__ = [
    "COVERAGE_FROM_KEY",
    "COVERAGE_MODES",
    "HEADERS_ENV",
    "NODATA_NONE",
    "StacError",
    "gdal_http_env",
    "ingest_stac",
    "parse_coverage_mode",
    "parse_nodata_override",
    "stac_headers",
]

log = logging.getLogger(__name__)

#: Environment variable with the HTTP headers (JSON object) for STAC and asset requests.
HEADERS_ENV = "RAILWATCH_STAC_HEADERS"

# HTTP_CONNECT_TIMEOUT_S and HTTP_READ_TIMEOUT_S (imported above from imagery.inspect,
# which sets them on every remote image read): seconds a STAC server (an API, a static
# catalog over http(s), an asset's host) may take to accept a connection, and then to
# send the next part of an answer, before ``ingest-stac`` gives up on that request
# (2026-12-07, session 47: a server that accepted the connection and never answered held
# ``ingest-stac`` forever, on the API root, a static catalog's item or an asset's header
# alike). A connection is tried 3 times; an answer that stalls is not asked again (a
# search page is a POST).

# Asset names tried, in order, when --asset is not given.
_IMAGE_ASSETS = ("image", "visual", "analytic", "data", "ortho_visual", "rgb")
_MASK_ASSETS = ("mask", "udm2", "udm", "quality", "cloud_mask")
_MASK_ROLES = ("quality", "cloud", "data-mask", "udm")
_RASTER_TYPES = ("image/tiff", "image/jp2", "application/x-geotiff")

ItemCallback = Callable[[int, str], None]

#: How ``ingest-stac`` measures a new scene's coverage of its site (``--coverage``):
#: ``pixels`` (the default since session 38: its valid pixels over the site, at most
#: 256 px across, 0.7-2.8 MB read per new item of a remote COG) or ``footprint`` (the
#: item's geometry over the site, nothing read but the header: the behaviour before
#: session 38, for very large catalogs).
COVERAGE_MODES = ("pixels", "footprint")

#: Key, in a STAC scene's metadata, of how its coverage was measured (one of
#: :data:`COVERAGE_MODES`; 2026-12-06, session 39). Absent for scenes registered before,
#: and for those of ``railwatch ingest`` (measured on the file's valid-data footprint).
COVERAGE_FROM_KEY = "coverage_from"

#: ``--nodata none``: the nodata value the items declare is not applied (nor checked).
NODATA_NONE = "none"

#: ``--nodata item``: each item's own nodata value, in place of one an earlier run's
#: ``--nodata`` gave its scene (2026-12-06, session 39).
NODATA_ITEM = "item"

#: Keys, in a STAC scene's metadata, of a ``--nodata`` decision (2026-12-06, session 39):
#: :data:`NODATA_SOURCE_KEY` is ``"option"`` when the scene's nodata is the one a
#: ``--nodata VALUE`` or ``--nodata none`` gave, and :data:`NODATA_OPTION_KEY` holds what
#: was given (``repr`` of the number, or ``"none"``). A later run without ``--nodata``
#: keeps it (its item's own value, even an invalid one, is not read), until ``--nodata``
#: is given again (another value, ``none``, or ``item`` for the item's own). Absent:
#: the scene takes its item's value at each run.
NODATA_SOURCE_KEY = "stac_nodata_source"
NODATA_OPTION_KEY = "stac_nodata_option"
NODATA_FROM_OPTION = "option"

#: Key, in a STAC scene's metadata, set (``True``) when its image has a colour table and
#: its item's nodata value is read as an index by ``process`` (since 82b2e7f, 2026-12-06,
#: session 39: before, ``process`` read that fill as ground). A scene counted without it
#: is counted again (:func:`_take_index_nodata`).
NODATA_AS_INDEX_KEY = "stac_nodata_index"


def parse_coverage_mode(value: str) -> str:
    """``--coverage``'s value, one of :data:`COVERAGE_MODES`, or an :class:`InputError`
    that names them."""
    mode = str(value).strip().lower()
    if mode not in COVERAGE_MODES:
        raise InputError(
            f"--coverage must be pixels (measure each new item's coverage of the site on "
            f"its pixels: the default) or footprint (take its footprint's, reading no "
            f"pixels, for very large catalogs), not {value!r}"
        )
    return mode


def parse_nodata_override(value: str | float | None) -> float | str | None:
    """``--nodata``'s value: None (not given: each item's own nodata, or the value an
    earlier run's ``--nodata`` gave its scene), :data:`NODATA_NONE` (``none``: the items'
    nodata is not applied), :data:`NODATA_ITEM` (``item``: each item's own, in place of
    an earlier run's ``--nodata``) or a number (``nan``, ``inf`` and ``-inf`` too) that
    replaces the one each item declares; an :class:`InputError` that says what it takes
    otherwise. Whether the number suits an item's pixels is checked per item
    (:func:`_item_nodata`)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"--nodata must be a number or 'none' (or 'item'), not {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if text.lower() in (NODATA_NONE, NODATA_ITEM):
        return text.lower()
    try:
        return float(text)
    except ValueError:
        raise InputError(
            f"--nodata must be a number (the value the no-data pixels of the items' images "
            f"hold, which replaces the nodata the items declare) or 'none' (apply no "
            f"nodata value of the items), or 'item' (each item's own, in place of a value "
            f"an earlier run's --nodata gave), not {text!r}"
        ) from None


class StacError(RailwatchError, OSError):
    """A STAC API or catalog cannot be read."""


def stac_headers(headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers for STAC requests: ``headers`` when given, else ``RAILWATCH_STAC_HEADERS``."""
    if headers is not None:
        return {str(k): str(v) for k, v in headers.items()}
    text = os.environ.get(HEADERS_ENV, "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"{HEADERS_ENV} is not valid JSON: set it to an object such as "
            '{"Authorization": "Bearer ..."}'
        ) from err
    if not isinstance(value, dict):
        raise ConfigError(f"{HEADERS_ENV} must be a JSON object of header names to values")
    return {str(k): str(v) for k, v in value.items()}


@contextmanager
def gdal_http_env(headers: Mapping[str, str] | None = None) -> Iterator[None]:
    """A GDAL environment for remote COG reads: railwatch's options
    (:func:`~railwatch.imagery.inspect.gdal_options`: no directory listing on open, a
    bounded block cache), the STAC headers (``GDAL_HTTP_HEADERS``; an invalid
    ``RAILWATCH_STAC_HEADERS`` is an error here), a request that receives nothing for
    :data:`HTTP_READ_TIMEOUT_S` seconds fails instead of waiting forever, and a failed
    request is tried again (3 times, 1 s apart)."""
    import rasterio

    options = gdal_options(headers=stac_headers(headers), timeouts=_timeout())
    with rasterio.Env(**options, GDAL_HTTP_MAX_RETRY=3, GDAL_HTTP_RETRY_DELAY=1):
        yield


def ingest_stac(
    db: Database,
    site: str,
    url: str,
    *,
    collections: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    max_cloud: float | None = None,
    asset: str | None = None,
    headers: Mapping[str, str] | None = None,
    on_item: ItemCallback | None = None,
    radiometry: str | None = None,
    coverage: str = "pixels",
    nodata: float | str | None = None,
) -> IngestSummary:
    """Register the STAC items at ``url`` that intersect ``site`` (see module docs).

    ``collections``, ``since``/``until`` (UTC) and ``max_cloud`` (percent, items
    without ``eo:cloud_cover`` are kept) narrow the items; ``asset`` names the image
    asset (default: the first of image, visual, analytic, data with a raster type).
    Re-running registers nothing twice, nor an image the site has already through
    another item or ``railwatch ingest`` (filed as already there, with why); an item's
    scene whose local quality mask changed since it was registered takes the mask as it
    is now and is counted again by the next ``railwatch process``.
    ``on_item(i, item_id)`` is called per item.
    ``radiometry`` (``linear`` or ``display``, as ``railwatch ingest --radiometry``) is
    recorded for each 16-bit or float image, and replaces that of an item already there.
    A run over a site without images, whose items all miss it (or, searching an API,
    that finds none) while some lie over the site with its lon and lat exchanged, says
    the site looks swapped (``summary.site_swapped``); a site with an image stored is
    not (2026-12-05, session 32: a ``--since`` run without a new item was told so).
    ``coverage`` (``--coverage``, :data:`COVERAGE_MODES`): ``pixels`` measures each new
    scene's coverage of the site on its valid pixels; ``footprint`` takes its item's
    footprint over the site and reads no pixels (for very large catalogs); each scene
    keeps which (:data:`COVERAGE_FROM_KEY`). ``nodata`` (``--nodata``,
    :func:`parse_nodata_override`): a number replaces the nodata value every item
    declares for its image (the file's own still wins), ``"none"`` applies none of
    theirs; an item whose declared value is invalid fails, its line naming the option
    (2026-12-06, session 39). A value given so is a decision its scene keeps
    (:data:`NODATA_SOURCE_KEY`): a later run without ``nodata`` keeps it (not failing
    the item for its own invalid value, nor counting the scene again), until ``nodata``
    is given again; ``"item"`` takes each item's own value back.
    """
    mode = parse_coverage_mode(coverage)
    override = parse_nodata_override(nodata)
    if radiometry is not None:
        from railwatch.imagery.read import parse_radiometry

        radiometry = parse_radiometry(radiometry)
    if not url.strip():
        raise InputError(f"--stac is empty: {_GIVE}")
    if max_cloud is not None and not 0.0 <= max_cloud <= 100.0:
        raise InputError(f"--max-cloud must be a percentage (0-100), got {max_cloud}")
    if since is not None and until is not None and until < since:
        raise InputError(f"--until {until:%Y-%m-%d} is before --since {since:%Y-%m-%d}")
    hdrs = stac_headers(headers)
    with db.session() as s:
        row = repo.get_site(s, site)
        site_name, site_geom, site_area_m2 = row.name, row.geometry, row.area_km2 * 1e6
        site_id = row.id
        # an image stored over the site as it is: its coordinates are right, and a run
        # that finds nothing (a --since day without a new image) is no sign of a swap
        held = repo.site_stats(s, row)
        placed = held.scenes > 0
    summary = IngestSummary(site=site_name)
    items = _items(url, site_geom, tuple(collections), since, until, max_cloud, hdrs)
    filters = _Filters(
        site_name, site_geom, tuple(collections), since, until, max_cloud, mode, override
    )
    with gdal_http_env(hdrs):
        known = len(items) if isinstance(items, Sized) else None  # a search: not known
        for i, item in enumerate(items):
            if on_item is not None:
                on_item(i, str(item.id))
            failed = len(summary.failed)
            _register(db, summary, item, filters, site_area_m2, asset, radiometry)
            # the site removed meanwhile (session 32): stop, every later item would fail
            left = None if known is None else known - i - 1
            stop_if_site_removed(db, summary, site_id, failed, left, what="item")
    if placed:  # not swapped (review of f067e5c, session 32: it said so, and to remove it)
        return summary
    # the advice names the site's events, which would go with it (as ingest's, 7621e05)
    summary.judge_swapped(site_geom, "STAC item", events=held.events)
    found = summary.ingested or summary.duplicates or summary.skipped or summary.failed
    if isinstance(items, _Search) and not found:
        summary.site_swapped = items.swapped_note(site_name, events=held.events)
    return summary


@dataclass(frozen=True)
class _Filters:
    """What an item must meet to be registered (a STAC API applies most of these in
    its search; a static catalog's items are checked here, each skip with its
    reason)."""

    site: str
    site_geom: BaseGeometry
    collections: tuple[str, ...]
    since: datetime | None
    until: datetime | None
    max_cloud: float | None
    #: how a new scene's coverage is measured (:data:`COVERAGE_MODES`, ``--coverage``)
    coverage: str = "pixels"
    #: ``--nodata``: None (each item's own), :data:`NODATA_NONE` or a number replacing it
    nodata: float | str | None = None


# ------------------------------------------------------------------ item sources


def _items(
    url: str,
    site_geom: BaseGeometry,
    collections: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    max_cloud: float | None,
    headers: dict[str, str],
) -> Iterable[Any]:
    """Items from a STAC API search, or every item of a static catalog, collection,
    item collection (a GeoJSON FeatureCollection of items) or single item."""
    pystac_client = lazy_import("pystac_client", "stac", "STAC ingest")
    pystac = lazy_import("pystac", "stac", "STAC ingest")
    shown = url  # what the messages name: what the user gave
    scheme = uri_scheme(url)
    if scheme in ("http", "https"):
        if not urlparse(url).hostname:
            raise StacError(f"cannot open STAC catalog {shown}: a URL without a host; {_GIVE}")
    elif scheme not in (None, "file"):
        where = (
            "give its https:// URL (most buckets serve one)"
            if remote_access_hint(url) is not None
            else _GIVE
        )
        raise StacError(
            f"cannot open STAC catalog {shown}: STAC catalogs are read over http(s) or "
            f"from a file, not {scheme}://; {where}, or download it and give the file"
        )
    else:
        try:
            path = local_path(url)
        except ImageryError as err:
            why = str(err).removeprefix(f"{url}: ")
            raise StacError(f"cannot open STAC catalog {shown}: {why}") from err
        url = os.path.abspath(path)  # links resolve against the file, not the cwd
    doc = _read_root(pystac_client, url, shown, headers)
    kind = doc.get("type")
    if kind in ("Catalog", "Collection") and "conformsTo" in doc:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                client = pystac_client.Client.open(  # type: ignore[attr-defined]
                    url,
                    headers=headers or None,
                    stac_io=_api_io(pystac_client, headers),
                    timeout=_timeout(),  # Client.open sets the stac_io's timeout to this
                )
        except Exception as err:  # pystac/pystac-client raise many types for a bad URL
            raise _failure("cannot open STAC catalog", shown, err) from err
        if client.conforms_to("ITEM_SEARCH"):
            return _search(client, url, site_geom, collections, since, until, max_cloud)
    # Static: walk it with pystac (the filters are applied per item).
    io = _static_io(pystac, headers)
    try:
        if kind == "FeatureCollection":
            found: Iterable[Any] = _item_collection(pystac, doc, url)
        elif kind == "Feature":
            try:
                found = [pystac.read_dict(doc, href=url, stac_io=io)]  # type: ignore[attr-defined]
            except Exception as err:
                bad = _bad_date(doc)
                if bad is not None:
                    raise StacError(
                        f"cannot read STAC item {_item_id(doc)} ({shown}): {bad}"
                    ) from err
                raise StacError(
                    f"cannot read STAC item {shown}: {_why(err)}; fix the item JSON"
                ) from err
        elif kind in ("Catalog", "Collection"):
            catalog = pystac.read_dict(doc, href=url, stac_io=io)  # type: ignore[attr-defined]
            found = _walk(catalog, set(), io)
        else:
            raise StacError(
                f"cannot open STAC catalog {shown}: its JSON has "
                + (f'"type": {json.dumps(kind)}' if "type" in doc else 'no "type"')
                + ", not a STAC Catalog, Collection, Item (Feature) or item collection "
                f"(FeatureCollection); {_GIVE}"
            )
    except RailwatchError:
        raise
    except Exception as err:
        raise _failure("cannot read static STAC catalog", shown, err) from err
    return _guard(found, shown)  # the filters are applied per item, each skip said


class _Unreadable:
    """An item of a static catalog, item collection or API search that cannot be read:
    filed as failed, with the reason, while the other items are registered. ``doc`` is
    the item's JSON when it could be read (to name the item and a bad date in it)."""

    def __init__(self, where: str, err: BaseException, todo: str, doc: Any = None) -> None:
        self.id = self.where = where
        self.err, self.todo, self.doc = err, todo, doc

    def error(self) -> StacError:
        bad = _bad_date(self.doc)
        if bad is not None:
            return StacError(f"cannot read STAC item {_item_id(self.doc)}: {bad}, or {self.todo}")
        return StacError(f"cannot read this STAC item: {_why(self.err)}; fix it, or {self.todo}")


#: An example of the date-time form STAC items take (RFC 3339, in UTC).
_DATE_EXAMPLE = '"2023-10-01T02:13:00Z"'


def _item_id(doc: Any) -> str:
    """The ``id`` of the item JSON ``doc``, as messages show it."""
    ident = doc.get("id") if isinstance(doc, dict) else None
    return str(ident) if isinstance(ident, str | int) else "(without an id)"


def _bad_date(doc: Any) -> str | None:
    """What is wrong with the date of the item JSON ``doc`` (its ``datetime``, or its
    ``start_datetime`` when ``datetime`` is null, the fields read): the field, its
    value, why and what to write; None when they read (or ``doc`` is no item)."""
    pystac = lazy_import("pystac", "stac", "STAC ingest")
    props = doc.get("properties") if isinstance(doc, dict) else None
    if not isinstance(props, dict):
        return None
    field = "datetime" if props.get("datetime") is not None else "start_datetime"
    value = props.get(field)
    if value is None:
        # no date at all: pystac's "If datetime is None, a start_datetime and
        # end_datetime must be supplied" named neither the item nor what to write
        # (walk-in, 2026-12-07, session 45)
        return (
            "it has no acquisition time: its datetime is missing or null, so a "
            "start_datetime and end_datetime must be supplied; write its datetime as an "
            f"RFC 3339 date and time, e.g. {_DATE_EXAMPLE}"
        )
    if isinstance(value, str):
        try:
            pystac.utils.str_to_datetime(value)  # type: ignore[attr-defined]  # as pystac reads it
            return None
        except (ValueError, OverflowError) as err:
            why = _short(err)
    else:
        why = f"a {type(value).__name__}, not a string"
    return _date_message(field, value, why)


def _date_message(field: str, value: Any, why: str) -> str:
    return (
        f"its {field} {json.dumps(value)} is not a valid date and time ({why}); write it "
        f"as an RFC 3339 date and time, e.g. {_DATE_EXAMPLE}"
    )


def _why(err: BaseException) -> str:
    """Why a STAC item could not be read, from pystac's error (which wraps the reason
    in "does not resolve to a STAC object")."""
    cause: BaseException = err
    while not isinstance(cause, OSError | ValueError) and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, FileNotFoundError):
        return "no such file"
    if isinstance(cause, json.JSONDecodeError):
        return f"not valid JSON (line {cause.lineno}, column {cause.colno}: {cause.msg})"
    return _short(cause)


def _walk(
    catalog: Any, seen: set[str], io: Any, dead: dict[str, str] | None = None
) -> Iterator[Any]:
    """The items of a static catalog and its children, depth first, like pystac's
    ``get_items(recursive=True)`` but yielding an :class:`_Unreadable` for an item or
    child that cannot be read instead of stopping there.

    A link to another server than the catalog's own that cannot be reached (no
    connection, or no answer within :data:`HTTP_READ_TIMEOUT_S`) is one such failure,
    its item or child catalog left out and the other links walked: one dead mirror
    stopped the whole walk until 2026-12-07 (session 48). Its server is remembered in
    ``dead`` (host: why), and the later links to it are filed without being tried (each
    would wait as long). The catalog's own server (the root's) going silent still stops
    the walk (session 47): every later link would be on it."""
    dead = {} if dead is None else dead
    root = catalog.get_root()
    home = _host(str(root.get_self_href() or ""))
    for link in catalog.links:
        if link.rel not in ("item", "child"):
            continue
        href = str(link.get_absolute_href() or link.href)
        if href in seen:  # a link cycle, or an item linked twice
            continue
        seen.add(href)
        host = _host(href)
        if host is not None and host in dead:
            yield _DeadLink(href, link.rel, f"not tried: {dead[host]}")
            continue
        try:
            target = link.resolve_stac_object(root=root).target
        except Exception as err:
            if _unanswered(err) or _network_reason(err) is not None:
                if host is None or host == home:
                    # the catalog's server stopped answering: every later link would wait
                    # as long, each filed as an item to fix (session 47)
                    raise _failure("reading items from", href, err) from err
                why, short = _dead_reason(host, err)
                dead[host] = f"its server {host} did not answer an earlier link ({short})"
                yield _DeadLink(href, link.rel, why)
                continue
            yield _Unreadable(href, err, f"remove the {link.rel} link to it", _read_json(io, href))
            continue
        if link.rel == "item":
            yield target
        else:
            yield from _walk(target, seen, io, dead)


def _host(href: str) -> str | None:
    """The server (``host:port``, lower case) of an http(s) ``href``; None for a file."""
    parts = urlparse(href)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return parts.netloc.lower()


def _dead_reason(host: str, err: BaseException) -> tuple[str, str]:
    """Why the server ``host`` of a link gave nothing: said of the link, and in a few
    words for the later links to it."""
    if _unanswered(err):
        wait = f"sent nothing for {HTTP_READ_TIMEOUT_S:g} s"
        return f"its server {host} accepted the connection but {wait}", f"it {wait}"
    reason = _network_reason(err) or "no connection"
    return f"cannot reach its server {host} ({reason})", reason


class _DeadLink(_Unreadable):
    """A link of a static catalog to a server that gave nothing (:func:`_walk`): filed as
    failed, saying what was left out and that running again when the server answers
    takes it (the items registered are kept and not registered twice)."""

    def __init__(self, href: str, rel: str, why: str) -> None:
        super().__init__(href, OSError(why), "")
        self.rel, self.why = rel, why

    def error(self) -> StacError:
        what = "item" if self.rel == "item" else "child catalog, with every item under it,"
        return StacError(
            f"{self.why}: this {what} was left out and the catalog's other links read; "
            "run `railwatch ingest-stac` again when that server answers (the items "
            "registered are kept, and not registered twice)"
        )


def _read_json(io: Any, href: str) -> Any:
    """The JSON at ``href`` read with the pystac StacIO ``io``, or None when it cannot be
    read (to say what is wrong in an item pystac could not read)."""
    try:
        return json.loads(io.read_text(href))
    except Exception:
        return None


def _read_root(pystac_client: Any, url: str, shown: str, headers: dict[str, str]) -> dict[str, Any]:
    """The JSON object at ``url`` (a file or http(s)), or a :class:`StacError` saying
    why it cannot be read."""
    try:
        io = _api_io(pystac_client, headers)
        doc = json.loads(io.read_text(url))
    except Exception as err:
        raise _failure("cannot open STAC catalog", shown, err) from err
    if not isinstance(doc, dict):
        raise StacError(
            f"cannot open STAC catalog {shown}: its JSON is a {type(doc).__name__}, not an "
            f"object (a STAC Catalog, Collection, Item or item collection); {_GIVE}"
        )
    return doc


def _timeout() -> tuple[float, float]:
    """The (connect, read) timeout of STAC requests, in seconds: :data:`HTTP_CONNECT_TIMEOUT_S`
    and :data:`HTTP_READ_TIMEOUT_S`."""
    return (HTTP_CONNECT_TIMEOUT_S, HTTP_READ_TIMEOUT_S)


def _retries() -> Any:
    """urllib3's retries of a STAC request: a connection tried 3 times, half a second
    apart and more; an answer that stalls past :data:`HTTP_READ_TIMEOUT_S` not asked
    again (pystac-client's default, 5 retries of each, waited six times the timeout)."""
    from urllib3.util.retry import Retry

    return Retry(total=3, connect=2, read=False, backoff_factor=0.5)


def _api_io(pystac_client: Any, headers: dict[str, str]) -> Any:
    """pystac-client's StacApiIO for an API (and for the first read of any ``--stac``
    over http(s)), with :func:`_timeout` and :func:`_retries`: without a timeout, a
    server that accepted the connection and never answered held ``ingest-stac`` forever
    (2026-12-07, session 47)."""
    return pystac_client.stac_api_io.StacApiIO(
        headers=headers or None, timeout=_timeout(), max_retries=_retries()
    )


def _static_io(pystac: Any, headers: dict[str, str]) -> Any:
    """pystac's StacIO for the links of a static catalog, its http(s) reads bounded by
    :func:`_timeout` (pystac's own DefaultStacIO waits on a silent server forever); an
    HTTP error status is raised as pystac raises it (``urllib.error.HTTPError``)."""

    class TimedStacIO(pystac.stac_io.DefaultStacIO):
        def read_text_from_href(self, href: str) -> str:
            if uri_scheme(href) not in ("http", "https"):
                return str(super().read_text_from_href(href))
            from email.message import Message
            from urllib.error import HTTPError

            import urllib3

            connect, read = _timeout()
            http = urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=connect, read=read), retries=_retries()
            )
            sent = {"User-Agent": f"pystac/{pystac.__version__}", **self.headers}
            with http.request("GET", href, headers=sent, preload_content=False) as answer:
                if answer.status >= 400:  # as pystac raises it: "HTTP Error 404: Not Found"
                    raise HTTPError(href, answer.status, str(answer.reason), Message(), None)
                return str(answer.read().decode("utf-8"))

    return TimedStacIO(headers=headers)


def _search(
    client: Any,
    url: str,
    site_geom: BaseGeometry,
    collections: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    max_cloud: float | None,
) -> _Search:
    """The items of a STAC API search (the API applies the filters it supports).

    ``max_cloud`` keeps, as a static catalog's items are kept, the items without an
    ``eo:cloud_cover``: a CQL2 filter ``eo:cloud_cover <= N or eo:cloud_cover is null``
    where the API has the filter extension; where it has only the query extension,
    which cannot say "or null", the cloud cover is checked per item here (each item
    above it listed as skipped). Until session 35 the API was sent ``<= N`` alone,
    which drops every item without a cloud cover (a comparison with a missing value is
    false), so an API search lost the scenes a static catalog of the same items kept."""
    datetime_range = None
    if since is not None or until is not None:
        datetime_range = [since, until]
    kwargs: dict[str, Any] = {}
    if max_cloud is not None and client.conforms_to("FILTER"):
        cloud = {"property": "eo:cloud_cover"}
        kwargs["filter"] = {
            "op": "or",
            "args": [
                {"op": "<=", "args": [cloud, max_cloud]},
                {"op": "isNull", "args": [cloud]},
            ],
        }
        kwargs["filter_lang"] = "cql2-json"
    kwargs["collections"] = list(collections) or None
    kwargs["datetime"] = datetime_range
    return _Search(client, url, site_geom, kwargs)


class _Search:
    """A STAC API search over the site (its items, iterated once), which can ask the API
    whether the same search over the site with its longitude and latitude exchanged
    finds any item (:meth:`swapped_note`): an API returns only the items that meet the
    site, so a site drawn as lat,lon finds none and no item's footprint can say why."""

    def __init__(self, client: Any, url: str, site_geom: BaseGeometry, kwargs: dict[str, Any]):
        self.client, self.url, self.site_geom, self.kwargs = client, url, site_geom, kwargs
        self._search = client.search(intersects=mapping(site_geom), **kwargs)

    def __iter__(self) -> Iterator[Any]:
        return _guard(_search_items(self._search, self.client), self.url)

    def swapped_note(self, site: str, *, events: int | None = None) -> str | None:
        """:func:`~railwatch.ingest.swapped_site_note` when the search over the site with
        its lon and lat exchanged finds an item (one request, for one item), else None;
        None too when the exchange is no place (a longitude beyond ±90) or the API
        cannot be asked (the run's outcome stands: no item found). ``events``: how many
        the site holds, named in the advice (session 32: it used the general wording)."""
        minx, _, maxx, _ = self.site_geom.bounds
        if minx < -90.0 or maxx > 90.0:
            return None
        try:
            search = self.client.search(
                intersects=mapping(exchanged(self.site_geom)), max_items=1, **self.kwargs
            )
            found = next(iter(search.items_as_dicts()), None)
        except Exception as err:  # a hint only: never fail the run for it
            log.debug("the search over the exchanged site failed", exc_info=err)
            return None
        if found is None or not _far_swap(found, self.site_geom, site):
            return None
        return swapped_site_note(
            self.site_geom, site, "STAC item", "the same search finds items", events=events
        )


def _far_swap(doc: dict[str, Any], site_geom: BaseGeometry, site: str) -> bool:
    """Whether the item ``doc`` found over the exchanged site tells of a swap, as an
    item's own skip reason judges it (:func:`swapped_site_hint`): not when it lies next
    door to the site as it is, where a site near the lat = lon diagonal is exchanged to
    (2026-12-05, session 33: the advice was given for a site at 51.37 N 51.39 E)."""
    try:
        geometry = geojson_shape(doc["geometry"])
    except Exception:  # a hint only: an item the search cannot place tells nothing
        return False
    split = split_at_antimeridian(geometry)
    footprint = geometry if split is None else split
    return swapped_site_hint(footprint, site_geom, site) is not None


def _search_items(search: Any, client: Any) -> Iterator[Any]:
    """The items of ``search``, as pystac-client's ``search.items()`` makes them, but an
    item that cannot be read (a bad date...) is filed as failed instead of ending the
    search."""
    pystac = lazy_import("pystac", "stac", "STAC ingest")
    for doc in search.items_as_dicts():
        try:
            yield pystac.Item.from_dict(doc, root=client, preserve_dict=False)  # type: ignore[attr-defined]
        except Exception as err:
            collection = doc.get("collection") if isinstance(doc, dict) else None
            where = f"{collection or '-'}/{_item_id(doc)}"
            yield _Unreadable(where, err, "ask the API's provider to fix it", doc)


def _item_collection(pystac: Any, doc: dict[str, Any], url: str) -> Iterator[Any]:
    """The items of an item collection (a FeatureCollection, e.g. a saved search);
    relative asset hrefs resolve against the file, as for an item file."""
    features = doc.get("features")
    if not isinstance(features, list):
        raise StacError(
            f'{url} is a FeatureCollection without a "features" list; give a STAC item '
            "collection (a FeatureCollection of STAC items)"
        )
    for k, feature in enumerate(features):
        try:
            it = pystac.Item.from_dict(feature, preserve_dict=False)
        except Exception as err:
            yield _Unreadable(f"{url} (feature {k + 1})", err, "remove it", feature)
            continue
        if it.get_self_href() is None:
            it.set_self_href(url)
        yield it


def _guard(items: Iterable[Any], url: str) -> Iterator[Any]:
    """Iterate ``items``, turning transport errors into :class:`StacError`."""
    try:
        yield from items
    except RailwatchError:
        raise
    except Exception as err:
        raise _failure("reading items from", url, err) from err


#: What ``--stac`` takes, for the messages.
_GIVE = (
    "give the URL of a STAC API root (https://...) or the path of a static catalog.json "
    "(or of a collection, item or item collection JSON)"
)


def _failure(doing: str, url: str, err: BaseException) -> StacError:
    """A one-line :class:`StacError` for ``err`` raised while ``doing`` ``url``: what went
    wrong and what to do (a missing file, a folder, bad JSON, an HTTP status, no
    connection), else the error's own text."""
    head = f"{doing} {url}"
    if isinstance(err, FileNotFoundError):
        return StacError(f"{head}: no such file; check the path, or {_GIVE}")
    if isinstance(err, IsADirectoryError):
        return StacError(f"{head}: it is a folder; give the catalog.json (or item JSON) in it")
    if isinstance(err, json.JSONDecodeError):
        return StacError(
            f"{head}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); {_GIVE}"
        )
    if isinstance(err, UnicodeDecodeError):
        return StacError(f"{head}: not a text (JSON) file; {_GIVE}")
    status = getattr(err, "status_code", None)  # pystac_client's APIError
    if isinstance(status, int):
        todo = (
            f"set the API's credentials in {HEADERS_ENV} (a JSON object of HTTP headers)"
            if status in (401, 403)
            else _GIVE
        )
        return StacError(f"{head}: the server answered HTTP {status}; {todo}")
    if _unanswered(err):
        kept = (
            " (the items registered so far are kept, and not registered twice)"
            if doing == "reading items from"
            else ""
        )
        return StacError(
            f"{head}: the server accepted the connection but sent nothing for "
            f"{HTTP_READ_TIMEOUT_S:g} s (it may be down or overloaded); run it again "
            f"later{kept}, or check the URL"
        )
    reason = _network_reason(err)
    if reason is not None:
        return StacError(
            f"{head}: cannot reach the server ({reason}); check the URL and the network "
            "(or proxy), then run again"
        )
    return StacError(f"{head}: {_short(err)}; {_GIVE}")


def _unanswered(err: BaseException) -> bool:
    """Whether ``err`` is, or was raised for, a request whose answer stalled past
    :data:`HTTP_READ_TIMEOUT_S` (requests' ``ReadTimeout``, urllib3's
    ``ReadTimeoutError``): the server was reached, so "cannot reach" would be untrue."""
    import requests
    from urllib3.exceptions import ReadTimeoutError

    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, requests.ReadTimeout | ReadTimeoutError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _network_reason(err: BaseException) -> str | None:
    """Why a connection failed (e.g. "Connection refused"), when ``err`` is, or wraps,
    a requests connection error or timeout; else None."""
    try:
        import requests
    except ImportError:  # pragma: no cover - installed with pystac-client
        return None
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    for cause in (err, err.__cause__, err.__context__):
        # urllib3's: a static catalog's links, read by :func:`_static_io` (session 47)
        if isinstance(
            cause, requests.ConnectionError | requests.Timeout | MaxRetryError | NewConnectionError
        ):
            found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(cause))
            if found:
                return found.group(1).strip()
            timeout = requests.Timeout | MaxRetryError
            return "timed out" if isinstance(cause, timeout) else "no connection"
    return None


# ------------------------------------------------------------------ registration


def _register(
    db: Database,
    summary: IngestSummary,
    item: Any,
    filters: _Filters,
    site_area_m2: float,
    asset: str | None,
    radiometry: str | None = None,
) -> None:
    """Record one item as a scene, filing the outcome in ``summary`` (ingested, already
    there, skipped with the reason, or failed with the reason); never raises.
    ``radiometry`` is recorded for a 16-bit or float image (:func:`ingest_stac`)."""
    if isinstance(item, _Unreadable):
        summary.fail(item.where, item.error())
        return
    name = f"{item.collection_id or '-'}/{item.id}"
    try:
        skip = _skip_reason(item, filters)
        if skip is not None:
            reason, swapped = skip
            entry: dict[str, Any] = {"file": name, "reason": reason}
            if swapped:  # the site would lie under it with its lon and lat exchanged
                entry["site_swapped"] = True
            if filters.collections and item.collection_id not in filters.collections:
                # its own collection, for the CLI to name when --collection matched no item
                # (a mistyped id skipped a whole catalog with status 0; session 33)
                entry["collection"] = item.collection_id
            summary.skipped.append(entry)
            return
        acquired = _acquired(item)
        since, until = filters.since, filters.until
        if (since is not None and acquired < since) or (until is not None and acquired > until):
            # the bound it misses, as given (session 47: "outside the --since/--until
            # range" named neither)
            # to the second where either has seconds ("02:13 UTC, before --since 02:13 UTC"
            # for 02:13:10 against 02:13:30; session 47 review)
            fmt = (
                "%Y-%m-%d %H:%M:%S"
                if acquired.second or (since is not None and since.second)
                else "%Y-%m-%d %H:%M"
            )
            bound = (
                f"before --since {since.strftime(fmt)} UTC"
                if since is not None and acquired < since
                else f"after --until {until:%Y-%m-%d %H:%M:%S} UTC"
            )
            summary.skipped.append(
                {"file": name, "reason": f"acquired {acquired.strftime(fmt)} UTC, {bound}"}
            )
            return
        # a number, or one written as a string ("12"), which passed --max-cloud unread
        # before session 47
        cloud = float_or_none(item.properties.get("eo:cloud_cover"))
        max_cloud = filters.max_cloud
        if max_cloud is not None and cloud is not None and cloud > max_cloud:
            summary.skipped.append(
                {"file": name, "reason": f"cloud cover {cloud:g}% above --max-cloud {max_cloud:g}"}
            )
            return
        href = _image_href(item, asset)
        override, kept = filters.nodata, None
        if override is None:  # the value an earlier run's --nodata gave its scene stays
            kept = _kept_nodata(db, summary.site, name, item, href)
            override = None if kept is None else parse_nodata_override(kept)
        try:
            info, note = _scene_info(item, href, acquired, override, kept=kept is not None)
        except InputError as err:
            if override != NODATA_ITEM:
                raise
            # --nodata item given: no value was kept above (kept is None), looked up now
            had = _kept_nodata(db, summary.site, name, item, href)
            if had is None:
                raise
            # --nodata item over a scene of an earlier run's --nodata: it keeps that one
            shown = had if had == NODATA_NONE else f"{float(had):g}"
            raise InputError(
                str(err).replace(
                    "(nothing was recorded for the item)",
                    f"(its scene keeps --nodata {shown}, given at an earlier run)",
                )
            ) from err
        decided = kept if kept is not None else _option_text(filters.nodata)
        if decided is not None:
            info.metadata[NODATA_SOURCE_KEY] = NODATA_FROM_OPTION
            info.metadata[NODATA_OPTION_KEY] = decided
        if radiometry is not None and info.dtype != "uint8":
            info.metadata["radiometry"] = radiometry
        to_record = _same_image(db, summary, name, item, info)
        if to_record is not None and _registered(db, summary.site, to_record.content_hash):
            # the item's own scene (a re-run): filed as already ingested, nothing read
            record_scene(db, summary, name, to_record, filters.site_geom, site_area_m2)
        elif to_record is not None and filters.coverage == "footprint":
            # the item's footprint over the site, no pixel read (--coverage footprint,
            # session 39); the scene says so, as later readers may ask
            to_record.metadata[COVERAGE_FROM_KEY] = "footprint"
            record_scene(db, summary, name, to_record, filters.site_geom, site_area_m2)
            if summary.ingested and summary.ingested[-1]["file"] == name:
                summary.ingested[-1][COVERAGE_FROM_KEY] = "footprint"
        elif to_record is not None:
            to_record.metadata[COVERAGE_FROM_KEY] = "pixels"
            coverage, as_data, eight_bit = _data_coverage(info, filters, judge=True)
            if as_data is not None:  # said in the item's warning (below), as ingest does
                to_record.metadata[ALPHA_AS_DATA_KEY] = {"band": as_data[0], "why": as_data[1]}
            if eight_bit is not None:  # as ingest records it (session 47)
                to_record.metadata["eight_bit_values"] = eight_bit
            if coverage * site_area_m2 < info.gsd * info.gsd:
                summary.skipped.append(
                    {
                        "file": name,
                        "reason": f"its image holds no data over site {filters.site}: its "
                        "footprint meets the site, but its pixels there are all no data",
                    }
                )
                return
            record_scene(
                db, summary, name, to_record, filters.site_geom, site_area_m2, coverage=coverage
            )
            _say_alpha_as_data(summary, name, to_record)
            if eight_bit is not None and radiometry is None:
                _add_warning(
                    summary,
                    name,
                    eight_bit_note(eight_bit, info.dtype, command="`railwatch ingest-stac`"),
                )
        # its file's header read once for both (HTTP for a remote one), when one needs it
        applies = functools.cache(lambda: _takes_item_nodata(info, filters))
        _take_nodata(db, summary, name, info, filters, kept=kept, applies=applies)
        _take_index_nodata(db, summary, name, info, filters, applies=applies)
        _take_new_mask(db, summary, name, info.mask_uri)
        _say_masks_left_out(summary, name, item)
        _take_scaling(db, summary, name, info.metadata.get(ITEM_SCALING_KEY), note)
        if radiometry is not None:
            _note_radiometry(db, summary, name, info.dtype, radiometry)
    except Exception as err:  # one bad item never fails the batch
        if is_sqlite_locked(err):  # but a database another writer keeps: busy (as ingest)
            raise
        _fail_item(summary, name, err)


def _option_text(override: float | str | None) -> str | None:
    """What a scene keeps of ``--nodata`` (:data:`NODATA_OPTION_KEY`): the number's
    ``repr`` (``nan`` and the infinities too), ``"none"``; None when not given, or given
    as ``item`` (the item's own value: no decision kept)."""
    if isinstance(override, float):
        return repr(override)
    return NODATA_NONE if override == NODATA_NONE else None


def _kept_nodata(db: Database, site: str, name: str, item: Any, href: str) -> str | None:
    """What an earlier run's ``--nodata`` gave item ``name``'s own scene
    (:data:`NODATA_OPTION_KEY`, where :data:`NODATA_SOURCE_KEY` says so), for a run
    without ``--nodata`` to keep; None when the item has no scene yet, or its scene
    takes the item's value. The scene is the one of the item's identity, else the one
    of its asset href recorded by this item (a local asset is recorded under its file's
    hash: :func:`_same_image`)."""
    path = None if is_remote(href) else local_path(href)
    uris = (local_uris(path) | {href}) if path is not None else {href}
    with db.session(readonly=True) as s:
        found = repo.find_scene_by_hash(s, site, _content_hash(item, href))
        scenes = [found] if found is not None else []
        scenes += list(repo.find_scenes_by_uri(s, site, uris))
        for scene in scenes:
            meta = scene.meta or {}
            if stac_item_of(scene) != name or meta.get(NODATA_SOURCE_KEY) != NODATA_FROM_OPTION:
                continue
            text = meta.get(NODATA_OPTION_KEY)
            try:
                parse_nodata_override(text)
            except InputError:  # not written by ingest-stac: the item's value is read
                return None
            return str(text) if text not in (None, NODATA_ITEM) else None
    return None


def _fail_item(summary: IngestSummary, name: str, err: Exception) -> None:
    """File item ``name`` as failed with ``err``'s reason. An item filed as already
    ingested whose scene could then not be brought up to date (its nodata, mask or
    scales; :func:`_take_nodata`) is one failed line that says so, its scene named: it
    was listed both as already there and as failed (review r2, session 38)."""
    summary.fail(name, err)
    dup = summary.duplicates[-1] if summary.duplicates else None
    if dup is None or dup["file"] != name:
        return
    summary.duplicates.pop()
    entry = summary.failed[-1]
    entry["scene_id"] = dup["scene_id"]
    entry["reason"] = (
        f"{dup['reason']}, but bringing its scene up to date with the item failed: "
        f"{entry['reason']}"
    )


def _registered(db: Database, site: str, content_hash: str) -> bool:
    """Whether the site has a scene of ``content_hash`` (the item's own, registered)."""
    with db.session(readonly=True) as s:
        return repo.find_scene_by_hash(s, site, content_hash) is not None


@dataclass(frozen=True)
class _Known:
    """A scene of the site an item's asset may be, as read for :func:`_same_image`."""

    id: int
    content_hash: str
    #: the file's size and times when it was hashed (``railwatch:file``), if kept
    stamp: Any
    #: the STAC item that recorded it (``COLLECTION/ID``), or None for a local file
    item: str | None

    @classmethod
    def of(cls, scene: Any) -> _Known:
        meta = scene.meta or {}
        return cls(scene.id, scene.content_hash, meta.get(FILE_STAMP_KEY), stac_item_of(scene))


def _same_image(
    db: Database, summary: IngestSummary, name: str, item: Any, info: Any
) -> Any | None:
    """The scene to record for ``item`` (``info``), or None when the site has its image
    already under another identity, filed in ``summary`` as a duplicate with why
    (docs/storage.md, "One image, one scene"). Looked up in turn:

    1. the item's own identity (``info.content_hash``: the asset's checksum, or the
       item's :func:`stac_item_hash`, which scenes registered before session 29 carry
       for a local asset too): left to :func:`record_scene`, which files it as already
       ingested, as before;
    2. a scene with the same asset href (its ``uri``; for a local file also the
       file's resolved path or ``file://`` URL): a STAC item's scene is the same image
       (both would read what is there); a scene of ``railwatch ingest`` is when the
       file is still the one it hashed (its size and times, else its SHA-256);
    3. a local asset without a checksum is hashed (SHA-256, as ``railwatch ingest``
       does) and looked up by that: the same bytes ingested from another path. A new
       scene is then recorded under that hash, with the file's size and times
       (``railwatch:file``), so that its re-runs (step 2) hash nothing.

    A new scene whose quality mask is a local file carries the mask's
    :func:`~railwatch.ingest.mask_stamp` (``railwatch:mask``), checked before
    ``process`` reads it, as for ``railwatch ingest`` (:func:`_take_new_mask`).
    """
    site = summary.site
    href = info.uri
    path: Path | None = None
    if not is_remote(href):
        path = local_path(href)
    with db.session(readonly=True) as s:
        if repo.find_scene_by_hash(s, site, info.content_hash) is not None:
            return info
        uris = (local_uris(path) | {href}) if path is not None else {href}
        same_href = [_Known.of(sc) for sc in repo.find_scenes_by_uri(s, site, uris)]
    hashed: tuple[dict[str, int], str] | None = None  # the local file's, once hashed
    for known in same_href:
        if known.item is not None:
            # Another item's scene (or this item's, recorded under its file's hash): two
            # scenes of one href would both read whatever is there (a remote asset, and
            # one registered before session 29, is not checked at processing), so the
            # href is the image.
            _file_duplicate(db, summary, name, known, "same asset href")
            return None
        if path is None:
            continue  # not reached: a scene of `railwatch ingest` is a local file
        if same_stat(path, known.stamp):  # the file it hashed, unchanged: no hash
            _file_duplicate(db, summary, name, known, "same file content")
            return None
        hashed = hashed or hashed_file(path)
        if hashed[1] == known.content_hash:
            _file_duplicate(db, summary, name, known, "same file content")
            return None
        # the file was replaced since `railwatch ingest` read it: that scene fails at
        # processing ("changed since ingest"), this one is another image
    if path is None or _checksum(item, href) is not None:
        return _with_mask_stamp(item, info)
    stamp, digest = hashed or hashed_file(path)
    with db.session(readonly=True) as s:
        found = repo.find_scene_by_hash(s, site, digest)
        known_by_hash = None if found is None else _Known.of(found)
    if known_by_hash is not None:
        _file_duplicate(db, summary, name, known_by_hash, "same file content")
        return None
    return _with_mask_stamp(
        item,
        replace(info, content_hash=digest, metadata={**info.metadata, FILE_STAMP_KEY: stamp}),
    )


def _with_mask_stamp(item: Any, info: Any) -> Any:
    """``info`` (a new scene to record for ``item``) with its quality mask's size, times
    and SHA-256 (:func:`~railwatch.ingest.mask_stamp`) under ``railwatch:mask`` when the
    mask is a local file: ``process`` then refuses the scene if the mask is replaced,
    instead of judging it (usable or not, its clear fraction) from another mask without
    a word. A local mask that is not there, or that GDAL cannot read as a raster with a
    CRS, fails the item here (an :class:`ImageryError` saying what to do), where it was
    registered and failed at every ``process`` ("no such file", "cannot be read")."""
    problem = _mask_problem(info.mask_uri)
    if problem is not None:
        found = _mask_asset(item)
        key = f"{found[0]!r} " if found is not None else ""
        raise ImageryError(
            f"its quality mask asset {key}({info.mask_uri}) {problem[0]}: {problem[1]}, "
            "or take the mask asset out of the item, then run `railwatch ingest-stac` "
            "again (a scene is not registered without the mask its item names: "
            "`railwatch process` could not judge it)"
        )
    stamp = mask_stamp(info.mask_uri)
    if stamp is None:
        return info
    return replace(info, metadata={**info.metadata, MASK_STAMP_KEY: stamp})


def _take_new_mask(db: Database, summary: IngestSummary, name: str, mask_uri: str | None) -> None:
    """After item ``name`` was filed as already ingested, bring its own scene's quality
    mask in line with the item's (``mask_uri``), saying so in the item's summary entry:

    - the item names another mask than the scene has (another file, a mask where the
      scene has none, none where it has one), the old one unchanged: the scene takes
      it (:data:`MASK_TAKEN_HREF`);
    - the item names the scene's mask, which changed or went away since it was recorded
      (``railwatch:mask``: its size and times, its SHA-256 only when they differ, so an
      unchanged re-run hashes nothing): the scene takes it as it is now, what
      ``process`` says to do when it refuses the scene for its mask; when the item
      also names another mask now, the scene takes that one, and the entry says both
      (``mask_taken``: ``changed, other href`` or ``went away, other href``);
    - the scene's local mask has no stamp (registered before session 29): it is
      stamped as it is now, at this first use (:func:`_stamp_at_first_use`).

    A mask taken has the scene counted again: the image is the one registered (its own
    check is apart), so the scene's date, hash, bands, radiometry and results stay (a
    processed scene's until the next ``process`` replaces them: :data:`MASK_CHANGED`),
    and one that failed is pending again; a new href holding the bytes stamped for the
    old one is taken without that. A local mask that is not there, or that GDAL cannot
    read, is not taken, and the entry says what to do. A scene of another item or of
    ``railwatch ingest`` keeps its mask."""
    entry = summary.duplicates[-1] if summary.duplicates else None
    if entry is None or entry["file"] != name:
        return
    scene_id = int(entry["scene_id"])
    with db.session(readonly=True) as s:
        scene = repo.get_scene(s, scene_id)
        if _Known.of(scene).item != name:
            return  # another item's scene, or a file's: its own mask stays
        was_uri, was_stamp = scene.mask_uri, (scene.meta or {}).get(MASK_STAMP_KEY)
    what = mask_changed(was_uri, was_stamp)
    if what is None:
        if not _same_mask(was_uri, mask_uri):
            _take_mask_href(db, entry, scene_id, (was_uri, was_stamp), mask_uri)
        elif was_stamp is None:
            _stamp_at_first_use(db, entry, scene_id, was_uri)
        return
    problem = _mask_problem(mask_uri)
    if problem is not None:
        named = (
            "the item still names it"
            if _same_mask(was_uri, mask_uri)
            else f"the item names {mask_uri}"
        )
        entry["reason"] += f"; its quality mask {was_uri} {what} since it was registered, " + (
            f"and {named}, which is not there: put the mask back (or take the mask asset "
            "out of the item) and run `railwatch ingest-stac` again; `railwatch process` "
            "cannot judge the scene without the mask until then"
            if problem[0] == _MISSING
            else f"and {named}, which {problem[0]}: {problem[1]} (or take the mask asset "
            "out of the item) and run `railwatch ingest-stac` again; `railwatch process` "
            "refuses the scene until then"
        )
        return
    status = _set_mask(db, scene_id, (was_uri, was_stamp), mask_uri, mask_stamp(mask_uri))
    if status is None:
        return  # taken meanwhile by another run
    moved = mask_uri is not None and not _same_mask(was_uri, mask_uri)
    if moved:  # both: the old one changed (or went away), and the item names another
        taken = f", and the item names another quality mask now, {mask_uri}: the scene takes it"
    elif mask_uri is not None:
        taken = ": the scene takes the item's mask as it is now"
    else:
        taken = ": the scene takes no mask (the item names none)"
    entry["reason"] += (
        f"; its quality mask {was_uri} {what} since it was registered{taken}, and "
        "`railwatch process` counts it again"
        + (RESULTS_KEPT if status in ("processed", "unusable") else "")
    )
    entry["mask_taken"] = f"{what}, {MASK_TAKEN_HREF}" if moved else what


def _take_scaling(
    db: Database,
    summary: IngestSummary,
    name: str,
    declared: dict[str, list[float]] | None,
    note: str | None,
) -> None:
    """After item ``name`` was filed, say ``note`` in its entry (the file's scales and
    offsets differ from those the item declares, :func:`_item_scaling`), and bring its
    own scene's item scaling (``declared``, :data:`ITEM_SCALING_KEY`) in line when it
    was already there: a scene registered before session 30 took none, and a corrected
    item declares others. A processed or unusable scene is then counted again by the
    next ``process``, its results kept until then (:data:`SCALE_CHANGED`). A scene of
    another item or of ``railwatch ingest`` keeps its own."""
    for entries, known in ((summary.ingested, False), (summary.duplicates, True)):
        entry = entries[-1] if entries else None
        if entry is None or entry["file"] != name:
            continue
        if note is not None:
            key = "reason" if known else "warning"
            entry[key] = f"{entry[key]}; {note}" if entry.get(key) else note
            if not known:  # `railwatch ingest-stac` lists an item already there with why
                log.info("%s: %s", name, note)  # the summary prints it as a warning
        if known:
            _set_item_scaling(db, entry, declared)
        return


def _set_item_scaling(
    db: Database, entry: dict[str, Any], declared: dict[str, list[float]] | None
) -> None:
    """Give the item's own scene (``entry``'s) the item's scaling ``declared`` when it
    has other (:func:`_take_scaling`, :func:`railwatch.ingest.take_item_scaling`),
    saying so in ``entry``."""
    with db.session() as s:
        scene = repo.lock_scene(s, int(entry["scene_id"]))
        if _Known.of(scene).item != entry["file"]:
            return  # another item's scene, or a file's
        done = take_item_scaling(scene, declared, "its item")
    if done is None:
        return
    entry["reason"] += f"; {done}"
    entry["scaling_taken"] = declared


#: ``mask_taken`` in an item's summary entry when its scene took the mask the item
#: names now in place of another (:func:`_take_new_mask`).
MASK_TAKEN_HREF = "other href"


def _take_mask_href(
    db: Database,
    entry: dict[str, Any],
    scene_id: int,
    was: tuple[str | None, Any],
    mask_uri: str | None,
) -> None:
    """The item names another quality mask (``mask_uri``) than its scene has (``was``:
    its ``mask_uri`` and stamp): the scene takes it, unless it is a local file that is
    not there or cannot be read (the scene then keeps its mask, and the entry says what
    to do). Counted again unless the new file holds the bytes stamped for the old one."""
    was_uri, was_stamp = was
    problem = _mask_problem(mask_uri)
    if problem is not None:
        entry["reason"] += (
            f"; the item names another quality mask now, {mask_uri} (the scene has "
            + (was_uri or "none")
            + f"), which {problem[0]}: {problem[1]} (or correct the item's mask asset) and "
            "run `railwatch ingest-stac` again; the scene keeps its mask until then"
        )
        return
    new_stamp = mask_stamp(mask_uri)
    same_bytes = (
        isinstance(was_stamp, Mapping)
        and new_stamp is not None
        and new_stamp["sha256"] == was_stamp.get("sha256")
    )
    status = _set_mask(db, scene_id, was, mask_uri, new_stamp, recount=not same_bytes)
    if status is None:
        return
    if mask_uri is None:
        head = f"the item names no quality mask now (the scene had {was_uri}): the scene takes none"
    elif was_uri is None:
        head = (
            f"the item names a quality mask now, {mask_uri} (the scene had none): the "
            "scene takes it"
        )
    else:
        head = (
            f"the item names another quality mask now, {mask_uri} (the scene had {was_uri}): "
            "the scene takes it"
        )
    if same_bytes:
        tail = "; it holds the same bytes as the mask registered, so nothing is counted again"
    else:
        tail = ", and `railwatch process` counts it again" + (
            RESULTS_KEPT if status in ("processed", "unusable") else ""
        )
    entry["reason"] += f"; {head}{tail}"
    entry["mask_taken"] = MASK_TAKEN_HREF


def _set_mask(
    db: Database,
    scene_id: int,
    was: tuple[str | None, Any],
    mask_uri: str | None,
    stamp: dict[str, Any] | None,
    *,
    recount: bool = True,
) -> str | None:
    """Give the scene ``mask_uri`` and its ``stamp`` (none: no stamp), when it still has
    the mask and stamp ``was`` (else another run took one meanwhile: None), and return
    its status before. With ``recount`` a processed or unusable scene is counted again
    by the next ``process``, its results kept until then (:data:`MASK_CHANGED`), and a
    failed one is pending again."""
    with db.session() as s:
        scene = repo.lock_scene(s, scene_id)
        meta = dict(scene.meta or {})
        if (scene.mask_uri, meta.get(MASK_STAMP_KEY)) != was:
            return None
        status = str(scene.status)
        meta.pop(MASK_STAMP_KEY, None)
        if stamp is not None:
            meta[MASK_STAMP_KEY] = stamp
        scene.meta = meta
        scene.mask_uri = mask_uri
        if recount:
            mark_mask_changed(scene)
    return status


def _stamp_at_first_use(
    db: Database, entry: dict[str, Any], scene_id: int, mask_uri: str | None
) -> None:
    """The item's own scene was registered before session 29 with its local mask
    ``mask_uri`` unstamped (read at ``process`` unchecked): stamp it as it is now
    (trust on first use: what it was when the scene was registered, or last counted, is
    not known), so that a mask replaced from now on is refused; say so in the item's
    entry (``mask_stamped``). The scene's results stay: nothing is known to have
    changed. A mask that is not there, or cannot be read, is not stamped, and the entry
    says what to do."""
    if _local_file(mask_uri) is None:
        return  # no mask, or a remote one: nothing to stamp
    problem = _mask_problem(mask_uri)
    if problem is not None:
        what, todo = ("is not there", "put the mask back") if problem[0] == _MISSING else problem
        entry["reason"] += (
            f"; its quality mask {mask_uri} {what}, and the item still names it: "
            f"{todo} (or take the mask asset out of the item) and run `railwatch "
            "ingest-stac` again; `railwatch process` cannot judge the scene until then"
        )
        return
    stamp = first_use_stamp(mask_uri, "railwatch ingest-stac")
    if (
        stamp is None
        or _set_mask(db, scene_id, (mask_uri, None), mask_uri, stamp, recount=False) is None
    ):
        return
    entry["reason"] += (
        f"; its quality mask {mask_uri} had no integrity stamp (registered before session "
        "29): it is stamped as it is now, and `railwatch process` refuses the scene if it "
        "is replaced"
    )
    entry["mask_stamped"] = "first use"


#: What :func:`_mask_problem` says of a local mask that is not there.
_MISSING = "does not exist"


def _mask_problem(mask_uri: str | None) -> tuple[str, str] | None:
    """What keeps the local quality mask ``mask_uri`` from being read at ``process``
    (it is not there, not a file, not a raster GDAL opens, or has no CRS, which the
    read needs to place it), with what to do; None when it reads, or when there is no
    mask or a remote one (read at ``process``, which says what is wrong)."""
    import rasterio
    from rasterio.errors import RasterioError

    path = _local_file(mask_uri)
    if path is None:
        return None
    fix = "replace it with a mask GDAL can read (a GeoTIFF with a CRS)"
    if not path.exists():
        return _MISSING, (
            "check the asset's href (a relative one resolves against the item JSON's "
            "folder) or put the mask there"
        )
    if not path.is_file():
        return "is a folder, not a file", "check the asset's href"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NotGeoreferencedWarning: said below
            with rasterio.open(path) as src:
                if src.crs is None:
                    return "has no CRS (it cannot be placed on the image)", fix
    except RasterioError as err:
        why = _short(err).removeprefix(f"{path}: ").removeprefix(f"'{path}' ").rstrip(".")
        return f"cannot be read as a raster ({why})", fix
    return None


def _same_mask(a: str | None, b: str | None) -> bool:
    """Whether the mask hrefs ``a`` and ``b`` name one mask: equal, or the same local
    file (a path, its resolved path, a ``file://`` URL), or the same remote file but for
    the query (a signed URL's expiry) and fragment."""
    if a == b:
        return True
    if a is None or b is None:
        return False
    pa, pb = _local_file(a), _local_file(b)
    if pa is not None or pb is not None:
        return pa is not None and pb is not None and pa.resolve() == pb.resolve()
    ua, ub = urlparse(a), urlparse(b)
    return (ua.scheme, ua.netloc, ua.path) == (ub.scheme, ub.netloc, ub.path)


def _local_file(uri: str | None) -> Path | None:
    """The local file behind ``uri``, or None (no URI, a remote one)."""
    if uri is None or is_remote(uri):
        return None
    try:
        return local_path(uri)
    except UnsupportedFormatError:
        return None


def _file_duplicate(
    db: Database, summary: IngestSummary, name: str, known: _Known, matched: str
) -> None:
    """File ``item`` (``name``) as already ingested as the scene ``known``, with why it
    ``matched``; a scene of another item (or of a local file) gets the item's
    ``COLLECTION/ID`` among its :data:`STAC_ALIASES_KEY`. Its other metadata stay: the
    route that recorded it first describes it."""
    with db.session() as s:
        scene = repo.lock_scene(s, known.id)
        entry = scene_entry(name, scene)
        if known.item == name:  # the item's own scene, recorded under its file's hash
            entry["reason"] = f"already ingested as scene {scene.id}"
        else:
            origin = f"STAC item {known.item}" if known.item else f"file {scene.uri}"
            entry["reason"] = f"already ingested as scene {scene.id} ({matched} as {origin})"
            entry["matched"] = matched
            meta = dict(scene.meta or {})
            aliases = list(meta.get(STAC_ALIASES_KEY) or [])
            if name not in aliases:
                scene.meta = {**meta, STAC_ALIASES_KEY: [*aliases, name]}
    summary.duplicates.append(entry)


def _note_radiometry(
    db: Database, summary: IngestSummary, name: str, dtype: str, radiometry: str
) -> None:
    """After ``name`` was recorded: note that an 8-bit image is read as it is, and give
    an item already there ``radiometry`` (so that ``railwatch process`` counts it again
    when that changed it), as ``railwatch ingest`` does for files."""
    for entries, known in ((summary.ingested, False), (summary.duplicates, True)):
        entry = entries[-1] if entries else None
        if entry is None or entry["file"] != name:
            continue
        if dtype == "uint8":
            entry["radiometry_note"] = EIGHT_BIT_NOTE
        elif known and set_radiometry(db, int(entry["scene_id"]), radiometry):
            entry["reason"] += (
                f"; its radiometry is now {radiometry} (`railwatch process` counts it again)"
            )
        return


def _skip_reason(item: Any, filters: _Filters) -> tuple[str, bool] | None:
    """Why ``item`` is not for this ingest (another collection, no geometry, a
    footprint outside the site), with whether it would meet the site were the site's
    lon and lat exchanged (:func:`swapped_site_hint`), or None. Raises
    :class:`InputError` for a geometry that is not valid GeoJSON (the item then fails,
    with that reason)."""
    if filters.collections and item.collection_id not in filters.collections:
        where = f"collection {item.collection_id}" if item.collection_id else "no collection"
        return f"in {where}, not in --collection {', '.join(filters.collections)}", False
    if item.geometry is None:
        return "no geometry (a STAC item without a footprint cannot be placed on the site)", False
    geometry = _item_geometry(item)
    split = split_at_antimeridian(geometry)
    footprint = geometry if split is None else split
    if not footprint.intersects(filters.site_geom):
        swapped = swapped_site_hint(footprint, filters.site_geom, filters.site)
        outside = f"outside the site (its footprint does not meet site {filters.site})"
        return (f"{outside}; {swapped}", True) if swapped else (outside, False)
    return None


#: Farthest longitude taken in a STAC item's geometry (degrees): RFC 7946 keeps them
#: within ±180°, and a ring written across 180° (179.9 to 180.1, or in 0-360°) goes
#: beyond it, to be split there (:func:`split_at_antimeridian`).
MAX_ITEM_LONGITUDE = 360.0
#: How far beyond ±90° a latitude may round (a footprint reprojected to the pole).
_LATITUDE_SLACK = 1e-6


def _item_geometry(item: Any) -> BaseGeometry:
    """The item's geometry (:func:`~railwatch.sites.geojson_shape`), or an
    :class:`InputError` (the item fails, with that reason) where it is not valid
    GeoJSON or a coordinate is no WGS84 lon/lat: not a finite number, a latitude beyond
    ±90°, a longitude beyond ±:data:`MAX_ITEM_LONGITUDE`. Until 2026-12-08, session 53,
    such an item was ingested: a footprint of latitudes to ±1,000,000 (metres taken for
    degrees) was stored, and with ``--coverage footprint`` its outline, densified to a
    vertex every 0.005°, took memory without bound (8e8 vertices; GEOS' std::bad_alloc
    at 1.7 GB under a 4 GB limit); a NaN was stored as it was."""
    try:
        geometry = geojson_shape(item.geometry)
    except Exception as err:
        raise InputError(
            f"item {item.id} has a geometry that is not valid GeoJSON ({_short(err)}); "
            "fix the item's geometry"
        ) from err
    xy = shapely.get_coordinates(geometry)
    finite = np.isfinite(xy).all(axis=1)
    if not finite.all():
        x, y = xy[np.argmin(finite)]
        raise InputError(
            f"item {item.id} has a geometry with the position ({x:g}, {y:g}), which is not "
            "two finite numbers (a NaN or an infinity): fix the item's geometry"
        )
    far = (np.abs(xy[:, 1]) > 90.0 + _LATITUDE_SLACK) | (np.abs(xy[:, 0]) > MAX_ITEM_LONGITUDE)
    if far.any():
        x, y = xy[np.argmax(far)]
        raise InputError(
            f"item {item.id} has a geometry with the position ({x:.10g}, {y:.10g}), out of "
            "range for WGS84 longitude/latitude (latitude within ±90°, longitude within "
            f"±180°, or to ±{MAX_ITEM_LONGITUDE:g}° for a ring written across 180°): a STAC "
            "item's geometry is its footprint in lon/lat (RFC 7946); fix the item's "
            "geometry (coordinates in metres: reproject them to EPSG:4326)"
        )
    return geometry


def _footprint(item: Any) -> BaseGeometry:
    """An item's geometry as a scene's footprint: a polygon, the convex hull of a
    multipolygon, and across the antimeridian a MultiPolygon split at 180° (RFC 7946
    3.1.9; the hull of its two pieces was a band round the whole Earth, which met every
    site at that latitude). A ring written across 180° (longitudes beyond it, or jumping
    from 179.9 to -179.9) is split so too."""
    geometry = _item_geometry(item)
    split = split_at_antimeridian(geometry, hull=not isinstance(geometry, Polygon))
    if split is not None:
        return split
    return geometry if isinstance(geometry, Polygon) else geometry.convex_hull


def _acquired(item: Any) -> datetime:
    from railwatch.imagery.dates import parse_datetime, to_utc

    when = item.datetime
    if when is None:
        start = item.properties.get("start_datetime")
        when = parse_datetime(start) if isinstance(start, str) else None
        if when is None and start is not None:
            bad = _bad_date({"properties": {"start_datetime": start}}) or _date_message(
                "start_datetime", start, "not an ISO 8601 date and time"
            )
            raise InputError(f"STAC item {item.id}: {bad}")
    if when is None:
        raise InputError(f"STAC item {item.id} has no datetime or start_datetime")
    return to_utc(when)


def _is_raster(a: Any) -> bool:
    media = (a.media_type or "").lower()
    return any(media.startswith(t) for t in _RASTER_TYPES) or (
        not media and a.href.lower().endswith((".tif", ".tiff", ".jp2"))
    )


def _asset_href(a: Any) -> str:
    """Where an asset is read from: its absolute href, or, when that is a cloud-storage
    URI (s3://, gs://, az://...), the first http(s) ``alternate`` href it lists (STAC
    alternate-assets extension), which GDAL reads without cloud credentials."""
    href = str(a.get_absolute_href() or a.href)
    if remote_access_hint(href) is not None:
        alternate = a.extra_fields.get("alternate")
        if isinstance(alternate, Mapping):
            for alt in alternate.values():
                alt_href = alt.get("href") if isinstance(alt, Mapping) else None
                if isinstance(alt_href, str) and uri_scheme(alt_href) in ("http", "https"):
                    return alt_href
    return href


def _image_href(item: Any, asset: str | None) -> str:
    assets = item.assets
    if not assets:  # --asset cannot help (it said "no image asset among none")
        raise InputError(
            f"item {item.id} has no assets: it names no image file; add the image's "
            "href to its assets, or remove the item"
        )
    if asset is not None:
        if asset not in assets:
            raise InputError(
                f"item {item.id} has no asset {asset!r} (it has {', '.join(sorted(assets))}): "
                "pick one with --asset"
            )
        if asset in _MASK_ASSETS or set(assets[asset].roles or []) & set(_MASK_ROLES):
            # registered as the image, its cars counted in a mask of codes 0-4 (walk-in,
            # 2026-12-07, session 45)
            others = sorted(
                k for k, a in assets.items()
                if k != asset and _is_raster(a) and k not in _MASK_ASSETS
                and not set(a.roles or []) & set(_MASK_ROLES)
            )  # fmt: skip
            raise InputError(
                f"asset {asset!r} of item {item.id} is its quality mask, not an image of the "
                "site (railwatch reads the mask beside the image): name the image asset "
                "with --asset" + (f" ({', '.join(others)})" if others else "")
            )
        return _asset_href(assets[asset])
    for key in _IMAGE_ASSETS:
        if key in assets and _is_raster(assets[key]):
            return _asset_href(assets[key])
    data = [
        (key, a)
        for key, a in assets.items()
        if _is_raster(a) and "data" in (a.roles or []) and key not in _MASK_ASSETS
    ]
    split = _colour_band_assets(data)
    if split:
        raise InputError(
            f"item {item.id} has its colour bands as separate single-band assets "
            f"({', '.join(f'{colour} in {key!r}' for colour, key in split)}) and no asset "
            "holding them together (image, visual...): railwatch counts from one image "
            "asset. Stack them into one GeoTIFF (`gdalbuildvrt -separate rgb.vrt RED.tif "
            "GREEN.tif BLUE.tif`, then `gdal_translate -of COG rgb.vrt rgb.tif`) and ingest "
            "it with `railwatch ingest`, or name one band with --asset to count on it in grey"
        )
    if data:
        return _asset_href(data[0][1])
    raise InputError(
        f"item {item.id} has no image asset among {', '.join(sorted(assets)) or 'none'}: "
        "name one with --asset"
    )


def _colour_band_assets(assets: Sequence[tuple[str, Any]]) -> list[tuple[str, str]]:
    """The colours (red, green, blue) that ``assets`` (name, asset) hold one per
    single-band asset, with the asset's name, when two or more do (a Landsat or
    Sentinel-2 item's ``red``, ``green``, ``blue`` COGs), else []. Each asset's colour
    is the common name of its one band (``eo:bands``, or STAC 1.1 ``bands``), else its
    name. Picked as "the first data asset", one of them was registered as a grey image
    of that band alone (session 35)."""
    found: list[tuple[str, str]] = []
    for key, a in assets:
        listed = a.extra_fields.get("eo:bands", a.extra_fields.get("bands"))
        names = stac_band_names(listed) if listed is not None else [key]
        if names is None or len(names) != 1 or not isinstance(names[0], str):
            continue
        colour = names[0].strip().lower()
        if colour in ("red", "green", "blue") and colour not in {c for c, _ in found}:
            found.append((colour, key))
    return found if len(found) >= 2 else []


def _mask_asset(item: Any) -> tuple[str, str] | None:
    """The name and href of the item's quality-mask asset (the first raster asset named
    as one of :data:`_MASK_ASSETS` or with a role of :data:`_MASK_ROLES`, and not of a
    coding of its own: :func:`_foreign_mask`), or None."""
    for key, a in _mask_candidates(item):
        if _foreign_mask(a) is None:
            return key, _asset_href(a)
    return None


def _mask_candidates(item: Any) -> list[tuple[str, Any]]:
    """The item's raster assets named as a quality mask (:data:`_MASK_ASSETS`) or with
    a mask's role (:data:`_MASK_ROLES`), in the item's order."""
    return [
        (key, a)
        for key, a in item.assets.items()
        if (key in _MASK_ASSETS or set(a.roles or []) & set(_MASK_ROLES)) and _is_raster(a)
    ]


def _foreign_mask(asset: Any) -> str | None:
    """Why the mask-like ``asset`` is not a mask railwatch reads (one 8-bit band of its
    codes 0 clear, 1 cloud, 2 haze, 3 snow, 4 shadow, 255 no data, or Planet's 8-band
    UDM2), as its metadata declares: bit fields (``classification:bitfields``, Landsat's
    ``qa_pixel``, role ``cloud``), classes beyond those codes (``classification:classes``,
    Sentinel-2's SCL), or bands of another data type than uint8 (``raster:bands`` or
    STAC 1.1 ``bands``); else None. Such a mask was read as railwatch's codes (2026-12-07,
    session 47: a clear image with a Landsat ``qa_pixel`` was unusable, "the quality mask
    marks over 99 % of the site as no data")."""
    fields = asset.extra_fields
    if fields.get("classification:bitfields"):
        return "a bit-field mask (classification:bitfields)"
    classes = fields.get("classification:classes")
    if isinstance(classes, list):
        values = {c.get("value") for c in classes if isinstance(c, Mapping)}
        if not values <= {0, 1, 2, 3, 4, 255}:
            return "a classification of its own (classification:classes)"
    bands = fields.get("raster:bands", fields.get("bands"))
    types = {fields.get("data_type")} if fields.get("data_type") is not None else set()
    if isinstance(bands, list):
        types |= {
            b.get("data_type", b.get("raster:data_type"))
            for b in bands
            if isinstance(b, Mapping) and b.get("data_type", b.get("raster:data_type"))
        }
    other = sorted(str(t) for t in types if t != "uint8")
    if other:
        return f"of data type {', '.join(other)}"
    return None


def _say_masks_left_out(summary: IngestSummary, name: str, item: Any) -> None:
    """Add to the new item ``name``'s warning the mask-like assets left out as
    :func:`_foreign_mask` (session 47: read as railwatch's codes, without a word), and
    to its line when already there and its scene drops such a mask now."""
    left = [(key, why) for key, a in _mask_candidates(item) if (why := _foreign_mask(a))]
    if not left:
        return
    entry = summary.ingested[-1] if summary.ingested else None
    field = "warning"
    if entry is None or entry["file"] != name:
        entry, field = (summary.duplicates[-1] if summary.duplicates else None), "reason"
        if (
            entry is None
            or entry["file"] != name
            or "names no quality mask now" not in str(entry.get("reason"))
        ):
            return
    taken = _mask_asset(item)
    note = (
        "; ".join(f"its asset {key!r} is {why}" for key, why in left)
        + ": not read as a quality mask (railwatch reads one 8-bit band of codes 0 clear, "
        "1 cloud, 2 haze, 3 snow, 4 shadow, 255 no data, or Planet's 8-band UDM2), "
        + (
            f"the mask read is {taken[0]!r}"
            if taken is not None
            else "so `railwatch process` estimates the clouds from the pixels"
        )
    )
    _append(entry, field, note)


def _mask_href(item: Any) -> str | None:
    found = _mask_asset(item)
    return None if found is None else found[1]


def _http_hint(why: str) -> str | None:
    """What to do when GDAL's error says the server answered an HTTP error status, sent
    nothing for :data:`HTTP_READ_TIMEOUT_S` or does not answer range requests."""
    found = re.search(r"HTTP response code: (\d+)", why)
    status = int(found.group(1)) if found else None
    if status in (401, 403):
        return (
            f"the server refused it: set the credentials it needs in {HEADERS_ENV} (a JSON "
            "object of HTTP headers), or, for a signed URL that has expired, search again"
        )
    if status in (404, 410):
        return "the server has no such file: check the item's asset href"
    if "Operation too slow" in why or "Timeout was reached" in why:
        # GDAL_HTTP_LOW_SPEED_TIME (gdal_http_env; session 47: the read waited forever)
        return (
            f"the server sent nothing for {HTTP_READ_TIMEOUT_S:g} s (it may be down or "
            "overloaded): run `railwatch ingest-stac` again later"
        )
    if "Range downloading not supported" in why:
        # said "check that it is a GeoTIFF or JPEG 2000 GDAL can open" (session 47)
        return (
            "the server does not answer HTTP range requests, which reading a "
            "Cloud-Optimized GeoTIFF over http(s) needs: serve the files from a server "
            "that does (object storage, nginx, Apache; not `python -m http.server`), or "
            "give the catalog and its images as local files"
        )
    return None


def _checksum(item: Any, href: str) -> str | None:
    """The SHA-256 the asset's ``file:checksum`` gives (a ``1220...`` multihash), or
    None."""
    for a in item.assets.values():
        if _asset_href(a) == href:
            checksum = a.extra_fields.get("file:checksum")
            if isinstance(checksum, str) and checksum.startswith("1220") and len(checksum) == 68:
                return checksum[4:].lower()
    return None


def _content_hash(item: Any, href: str) -> str:
    """The asset's ``file:checksum`` when it is a SHA-256 multihash, else a SHA-256 of
    the item's identity (collection, id, asset URL): stable across re-runs. A local
    asset without a checksum is then identified by its file's SHA-256
    (:func:`_same_image`); this is still looked up first, as scenes registered before
    session 29 carry it."""
    return _checksum(item, href) or stac_item_hash(item.collection_id, item.id, href)


def _item_scaling(
    item: Any,
    href: str,
    band_count: int,
    dtype: str,
    file_scaling: tuple[tuple[float, ...], tuple[float, ...]],
) -> tuple[dict[str, list[float]] | None, str | None]:
    """The scale and offset of each band of the image asset ``href`` that only the item
    declares (its ``raster:bands``, or STAC 1.1 ``bands``), to record in the scene's metadata
    (:data:`~railwatch.imagery.read.ITEM_SCALING_KEY`), and what to say of them, by
    :func:`railwatch.imagery.inspect.item_band_scaling` (which `railwatch ingest` applies
    to the STAC item beside a file): a scale of 0 or not a number, or another number of
    bands than the file's, fails the item, saying to run `railwatch ingest-stac` again."""
    asset = _asset_of(item, href)
    listed, field = stac_raster_bands(None if asset is None else asset.extra_fields)
    return item_band_scaling(
        listed,
        band_count=band_count,
        dtype=dtype,
        file_scaling=file_scaling,
        image=href,
        command="railwatch ingest-stac",
        where=f"its image asset's {field}",
        field=field,
    )


#: The strings the raster extension allows for a band's ``nodata`` (besides numbers).
_NODATA_WORDS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _declared_nodata(asset: Any) -> list[tuple[str, Any]]:
    """The ``nodata`` values the image asset (a pystac asset) declares, each with the
    field it is in, as messages name it: the raster extension 1.x
    ``raster:bands[i].nodata``, else STAC 1.1's ``bands[i].nodata``, else the asset's own
    ``nodata`` (STAC 1.1 common metadata, for every band). Empty when it declares none."""
    if asset is None:
        return []
    fields = asset.extra_fields
    for key in ("raster:bands", "bands"):
        listed = fields.get(key)
        if isinstance(listed, list):
            found = [
                (f"{key}[{i}].nodata", band["nodata"])
                for i, band in enumerate(listed)
                if isinstance(band, Mapping) and band.get("nodata") is not None
            ]
            if found:
                return found
    if fields.get("nodata") is not None:
        return [("nodata", fields["nodata"])]
    return []


def _nodata_value(item: Any, field: str, value: Any, dtype: str) -> float:
    """The item's declared ``value`` (in its image asset's ``field``; ``--nodata`` for
    the value given on the command line) as a nodata value of the file's pixel type
    ``dtype``; an :class:`InputError` naming the item and the field, and saying what to
    do, when it cannot be one (a string other than "nan", "inf", "-inf"; NaN, an
    infinity or a fraction for an integer type; a value outside the type's range). An
    item's own invalid value can be overridden with ``--nodata`` (session 39: it failed
    the item at every run, with no way round it but editing the provider's catalog)."""
    import numpy as np

    def bad(why: str) -> InputError:
        if field in ("--nodata", _KEPT_FIELD):
            given = "" if field == "--nodata" else ", given earlier and kept by its scene,"
            return InputError(
                f"STAC item {item.id}: --nodata {value:g}{given} {why}; give --nodata a value its "
                "image's pixels can hold, or --nodata none to apply no nodata value, then "
                "run `railwatch ingest-stac` again (nothing was recorded for the item)"
            )
        return InputError(
            f"STAC item {item.id}: its image asset's {field} {json.dumps(value)} {why}; "
            f"correct the item's {field} (a number the image's {dtype} pixels can hold, or "
            "take it out), or run `railwatch ingest-stac` again with --nodata VALUE (the "
            "value the image's no-data pixels hold, in place of the item's) or --nodata "
            "none (apply no nodata value of the items) (nothing was recorded for the item)"
        )

    if isinstance(value, str):
        if value.strip().lower() not in _NODATA_WORDS:
            raise bad('is a string, not a number (the raster extension allows "nan", "inf" '
                      'and "-inf" besides numbers)')  # fmt: skip
        number = _NODATA_WORDS[value.strip().lower()]
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(f"is a {type(value).__name__}, not a number")
    else:
        number = float(value)
    kind = np.dtype(dtype).kind
    if kind in "iu":
        if not math.isfinite(number):
            raise bad(f"cannot be a value of {dtype} pixels (an integer type has no NaN or "
                      "infinity)")  # fmt: skip
        if number != int(number):
            raise bad(f"is not a whole number, and the image's pixels are {dtype}")
        info = np.iinfo(dtype)
        if not info.min <= number <= info.max:
            raise bad(f"is outside the range of {dtype} pixels ({info.min} to {info.max})")
    elif kind == "f" and math.isfinite(number) and abs(number) > float(np.finfo(dtype).max):
        # just beyond the range, a value that rounds to its end is that end, as GDAL
        # takes it: float32's lowest value as tools write it (numpy's -3.4028235e+38,
        # gdalinfo's -3.40282346638529e+38) failed the item (review r2, session 38)
        with np.errstate(over="ignore"):
            held = float(np.asarray(number, dtype=np.float64).astype(dtype))
        if not math.isfinite(held):
            raise bad(f"is outside the range of {dtype} pixels")
        number = held
    return number


#: The field :func:`_item_nodata` names for a value an earlier run's ``--nodata`` gave
#: the item's scene, kept by a run without ``--nodata``.
_KEPT_FIELD = "--nodata (kept)"


def _item_nodata(
    item: Any,
    href: str,
    dtype: str,
    file_nodata: float | None,
    override: float | str | None = None,
    *,
    kept: bool = False,
) -> tuple[float | None, str | None]:
    """The nodata value the item declares for its image asset ``href``
    (:func:`_declared_nodata`), to record in the scene's metadata
    (:data:`~railwatch.imagery.read.ITEM_NODATA_KEY`) where the file declares none
    (``file_nodata``), and what to say of it. None to record when the item declares
    none, when it is NaN or an infinity for a float image (such pixels are no data
    already), and when the file declares its own: the file's is read (a COG's own
    nodata describes its bytes; odc-loader, odc-stac's reader, takes the file's before
    an out-of-band fallback too, unless told to override it), and the note says so when
    the two differ, as for the bands' scales. Bands declaring different values are refused:
    railwatch reads one nodata value for an image's bands. Each value is checked
    (:func:`_nodata_value`): an invalid one fails the item, nothing recorded.

    ``override`` (``--nodata``, :func:`parse_nodata_override`): a number is read in
    place of what the item declares, checked against the image's pixels as the item's
    would be; :data:`NODATA_NONE` records none, the item's unread; :data:`NODATA_ITEM`
    reads the item's (2026-12-06, session 39). ``kept``: ``override`` is the value an
    earlier run's ``--nodata`` gave the item's scene (:func:`_kept_nodata`), as messages
    say."""
    if override == NODATA_NONE:
        return None, None
    if isinstance(override, float):
        declared: list[tuple[str, Any]] = [(_KEPT_FIELD if kept else "--nodata", override)]
    else:
        declared = _declared_nodata(_asset_of(item, href))
    if not declared:
        return None, None
    values = [(field, _nodata_value(item, field, v, dtype)) for field, v in declared]
    field, number = values[0]
    for other, v in values[1:]:
        if not (v == number or (math.isnan(v) and math.isnan(number))):
            raise InputError(
                f"STAC item {item.id}: its image asset declares nodata {number:g} in {field} "
                f"and {v:g} in {other}: railwatch reads one nodata value for an image's "
                "bands; correct the item's nodata values (one value for every band), or "
                "run `railwatch ingest-stac` again with --nodata VALUE (the one value the "
                "image's no-data pixels hold) or --nodata none (nothing was recorded for "
                "the item)"
            )
    if file_nodata is not None:
        same = file_nodata == number or (math.isnan(file_nodata) and math.isnan(number))
        if same:
            return None, None
        if field in ("--nodata", _KEPT_FIELD):
            when = " (at an earlier run, kept by its scene)" if field == _KEPT_FIELD else ""
            return None, (
                f"--nodata {number:g} was given{when}, and the file {href} declares its own "
                f"nodata {file_nodata:g}: the file's is read (--nodata, as an item's "
                "value, only where the file declares none)"
            )
        return None, (
            f"its image asset's {field} declares nodata {number:g}, and the file {href} "
            f"itself {file_nodata:g}: the file's is read (the item's only where the file "
            "declares none); correct the one that is wrong"
        )
    if not math.isfinite(number):
        return None, None  # a float image's NaN and infinities are no data already
    return number, None


def _uncached(uri: str) -> tuple[str, dict[str, str]]:
    """The GDAL path to open ``uri`` by, and the GDAL options under which the blocks of
    a remote image read through it are not kept in GDAL's cache (a few per item):
    `process` reads the site anew, as it would in another process. Nothing for a local
    file.

    ``CPL_VSIL_CURL_NON_CACHED`` is a ':'-separated list of filename prefixes: given
    ``/vsicurl/https://host/a.tif`` (as until session 38) it held the prefix
    ``/vsicurl/https``, which matches every https file. A URL is opened here as
    ``/vsicurl?url=`` with the URL percent-encoded (no ':'), that exact filename the
    option's one prefix (GDAL keeps the blocks of the same URL read through
    ``/vsicurl/URL`` cached). A ``/vsis3/``-style path holding a ':' cannot be named:
    its blocks stay cached (review r2, session 38)."""
    path = gdal_path(uri)
    if not is_remote(uri):
        return path, {}
    if path.startswith("/vsicurl/"):
        path = "/vsicurl?url=" + quote(path.removeprefix("/vsicurl/"), safe="")
    if ":" in path:
        return path, {}
    return path, {"CPL_VSIL_CURL_NON_CACHED": path}


def _data_coverage(
    info: Any, filters: _Filters, *, judge: bool = False
) -> tuple[float, tuple[int, str] | None, str | None]:
    """The fraction of the site where the item's image (``info``) holds data: valid
    pixels over the site (:func:`~railwatch.imagery.inspect.site_data_coverage`, with
    the item's nodata value where the file declares none), as ``railwatch ingest``
    measures a file's from its valid-data footprint. The item's footprint is only the
    pre-filter (:func:`_skip_reason`): until session 38 the coverage recorded was the
    footprint's, whatever the pixels held. With ``judge``, two verdicts on the same open
    file, each None where it does not apply (session 47: ingest-stac recorded and said
    neither, as ``railwatch ingest`` does): the band GDAL labels alpha that is read as
    data (:func:`~railwatch.imagery.inspect.alpha_as_data`: NIR written as RGB with an
    extra sample; not logged, the item's warning says it: :func:`_say_alpha_as_data`),
    and how a 16-bit or float file holds 8-bit values
    (:func:`~railwatch.imagery.inspect.eight_bit_values`)."""
    import rasterio
    from rasterio.errors import RasterioError

    from railwatch.imagery.inspect import (
        alpha_as_data,
        alpha_as_data_said_elsewhere,
        eight_bit_values,
        site_data_coverage,
    )
    from railwatch.imagery.read import item_nodata_of

    judged: dict[str, Any] = {}

    def verdicts(ds: Any) -> None:
        if judge:
            judged["alpha"] = alpha_as_data(ds)
            judged["eight_bit"] = eight_bit_values(ds) if info.dtype != "uint8" else None

    path, uncached = _uncached(info.uri)
    try:
        with rasterio.Env(**uncached), alpha_as_data_said_elsewhere():
            coverage = site_data_coverage(
                path,
                filters.site_geom,
                item_nodata=item_nodata_of(info.metadata),
                on_open=verdicts,
            )
    except RasterioError as err:
        # GDAL's reason is the cause: the error itself said only "Read failed. See
        # previous exception for details." of a truncated local file, which `railwatch
        # ingest` calls corrupt or truncated (walk-in, 2026-12-07, session 45)
        said = err.__cause__ if "previous exception" in str(err) and err.__cause__ else err
        why = _short(said).replace(path, gdal_path(info.uri))
        todo = remote_access_hint(info.uri) or _http_hint(why) or "check that GDAL can read it"
        if not is_remote(info.uri):
            todo = "the file is corrupt or truncated: re-download or re-export it"
        raise ImageryError(
            f"cannot read the pixels of {info.uri} over site {filters.site} (to measure "
            f"how much of the site it covers): {why}; {todo}, then run `railwatch "
            "ingest-stac` again"
        ) from err
    return coverage, judged.get("alpha"), judged.get("eight_bit")


def _add_warning(summary: IngestSummary, name: str, note: str) -> None:
    """Add ``note`` to the ``warning`` of the new item ``name``'s entry (printed by the
    summary, and in ``--json``), if it was just ingested."""
    entry = summary.ingested[-1] if summary.ingested else None
    if entry is not None and entry["file"] == name:
        _append(entry, "warning", note)


def _append(entry: dict[str, Any], field: str, note: str) -> None:
    """``note`` added to ``entry[field]`` (after what it holds, "; " between)."""
    entry[field] = f"{entry[field]}; {note}" if entry.get(field) else note


def _say_alpha_as_data(summary: IngestSummary, name: str, info: Any) -> None:
    """Say in the new item ``name``'s entry (its ``warning``, printed by the summary and
    in ``--json``) that its file's band labelled alpha is read as data, with the way
    back for a band that really is transparency, as ``railwatch ingest`` says it of a
    file (``ingest.alpha_as_data_note``; 2026-12-07, session 47: ingest-stac said it
    only as a log line, and recorded nothing). The command names the file as GDAL reads
    it: a remote one by its ``/vsicurl/`` (or ``/vsis3/`` ...) path."""
    file = gdal_path(info.uri) if is_remote(info.uri) else _href_name(info.uri)
    note = alpha_as_data_note(info.metadata, file)
    if note is not None:
        _add_warning(summary, name, f"in its file {file}, {note}")


def _takes_item_nodata(info: Any, filters: _Filters) -> bool:
    """Whether the nodata value of the item of ``info`` would apply to its file
    (:func:`~railwatch.imagery.inspect.takes_item_nodata`: the file declares no nodata,
    alpha band or mask of its own), read as :func:`_data_coverage` reads it."""
    import rasterio
    from rasterio.errors import RasterioError

    from railwatch.imagery.inspect import takes_item_nodata

    path, uncached = _uncached(info.uri)
    try:
        with rasterio.Env(**uncached), rasterio.open(path) as ds:
            return takes_item_nodata(ds)
    except RasterioError as err:
        why = _short(err).replace(path, gdal_path(info.uri))
        todo = remote_access_hint(info.uri) or _http_hint(why) or "check that GDAL can read it"
        raise ImageryError(
            f"cannot read {info.uri} (to tell whether the no-data value its item declares "
            f"applies to it): {why}; {todo}, then run `railwatch ingest-stac` again"
        ) from err


def _decision(meta: Any) -> tuple[Any, Any]:
    """The ``--nodata`` decision a scene's (or a new scene's) metadata keeps
    (:data:`NODATA_SOURCE_KEY`, :data:`NODATA_OPTION_KEY`)."""
    meta = meta if isinstance(meta, dict) else {}
    return meta.get(NODATA_SOURCE_KEY), meta.get(NODATA_OPTION_KEY)


def _with_decision(meta: dict[str, Any], decision: tuple[Any, Any]) -> dict[str, Any]:
    """``meta`` with the ``--nodata`` decision ``decision`` (:func:`_decision`) in place
    of its own."""
    out = {k: v for k, v in meta.items() if k not in (NODATA_SOURCE_KEY, NODATA_OPTION_KEY)}
    if decision[0] is not None:
        out[NODATA_SOURCE_KEY], out[NODATA_OPTION_KEY] = decision
    return out


def _decision_words(decision: tuple[Any, Any], now: float | None) -> str:
    """What an item's entry says of a ``--nodata`` decision its scene takes without a
    change of value (nothing counted again)."""
    value = "none" if now is None else f"{now:g}"
    if decision[0] == NODATA_FROM_OPTION:
        given = decision[1] if decision[1] == NODATA_NONE else f"{float(decision[1]):g}"
        return (
            f"its scene keeps --nodata {given} from now on (its no-data value stays "
            f"{value}; a run without --nodata keeps it, --nodata item takes its item's); "
            "nothing is counted again"
        )
    return (
        f"its scene takes its item's no-data value from now on (--nodata item: {value}, "
        "the same as before); nothing is counted again"
    )


def _take_nodata(
    db: Database,
    summary: IngestSummary,
    name: str,
    info: Any,
    filters: _Filters,
    *,
    applies: Callable[[], bool],
    kept: str | None = None,
) -> None:
    """After item ``name`` was filed as already ingested: give its own scene the nodata
    value the item declares now (``info``'s :data:`ITEM_NODATA_KEY`) when it has
    another (a scene registered before session 38 has none: its fill was read as dark
    ground), with its coverage measured anew from the pixels with it
    (:func:`_data_coverage`), and have the next ``railwatch process`` count it again
    (:data:`NODATA_CHANGED`), saying so in the item's entry. A scene of another item or
    of ``railwatch ingest`` keeps its own. The value is ``--nodata``'s where given
    (none with ``--nodata none``); with ``--coverage footprint`` its coverage is not
    measured anew (no pixel read), and the entry says so (session 39).

    The scene keeps the run's ``--nodata`` decision (:data:`NODATA_SOURCE_KEY`; ``item``
    drops it), a new decision of the same value counted not again; ``kept``: the value
    an earlier run's ``--nodata`` gave it, which this run (without ``--nodata``) keeps,
    as the entry says (2026-12-06, session 39: such a run took the item's value back,
    counting the scene again, or failed the item for its invalid one). ``applies``:
    :func:`_takes_item_nodata` of ``info``, called only when needed (cached by the caller)."""
    from railwatch.imagery.read import item_nodata_of

    entry = summary.duplicates[-1] if summary.duplicates else None
    if entry is None or entry["file"] != name:
        return
    now = item_nodata_of(info.metadata)
    decision = _decision(info.metadata)
    with db.session(readonly=True) as s:
        scene = repo.get_scene(s, int(entry["scene_id"]))
        if _Known.of(scene).item != name:
            return
        same_value = item_nodata_of(scene.meta) == now
        same_decision = _decision(scene.meta) == decision
    if kept is not None:
        entry["reason"] += (
            f"; its no-data value is the one --nodata gave it at an earlier run "
            f"({kept if kept == NODATA_NONE else f'{float(kept):g}'}), "
            "which it keeps (--nodata item takes its item's)"
        )
        entry["nodata_kept"] = kept
    if same_value:
        if not same_decision:
            with db.session() as s:
                scene = repo.lock_scene(s, int(entry["scene_id"]))
                if item_nodata_of(scene.meta) != now:
                    return  # another run took another value meanwhile: its decision stands
                scene.meta = _with_decision(dict(scene.meta or {}), decision)
            entry["reason"] += f"; {_decision_words(decision, now)}"
        return
    # a file with a nodata value, an alpha band or a mask of its own takes no item's
    # value (imagery.inspect.takes_item_nodata, as every reader decides): its pixels
    # read alike with either value, so its coverage and counts stand (review r2,
    # session 38: it was marked +nodata-changed and counted again for nothing)
    applies_now = applies()
    measure = applies_now and filters.coverage != "footprint"
    coverage = _data_coverage(info, filters)[0] if measure else None
    with db.session() as s:
        scene = repo.lock_scene(s, int(entry["scene_id"]))
        meta = _with_decision(dict(scene.meta or {}), decision)
        if item_nodata_of(meta) == now:
            scene.meta = meta
            return  # taken meanwhile by another run
        meta.pop(ITEM_NODATA_KEY, None)
        if now is not None:
            meta[ITEM_NODATA_KEY] = now
        if coverage is not None:
            scene.coverage = coverage
        elif not applies_now:
            scene.meta = meta
            return  # recorded, as for a new scene: nothing to read or count anew
        scene.meta = meta
        status = str(scene.status)
        mark_to_count_again(scene, NODATA_CHANGED)
    # --nodata VALUE or none, this run's or an earlier one's (kept)
    given = kept is not None or filters.nodata not in (None, NODATA_ITEM)
    if now is not None:
        source = "as --nodata gives" if given else "as its item declares"
        head = f"its no-data value is now {now:g}, {source} (the file declares none)"
    elif filters.nodata == NODATA_NONE:
        head = "no no-data value of its item is applied now (--nodata none)"
    elif given:  # --nodata nan or an infinity: a float image's own no data, none recorded
        head = (
            f"no no-data value of its item is applied now (--nodata {filters.nodata}: "
            "its float pixels of that value are no data already)"
        )
    else:
        head = "its item declares no no-data value now"
    if coverage is None:
        measured = (
            "its coverage of the site is not measured anew (--coverage footprint: no pixel read)"
        )
    else:
        measured = f"its pixels hold data over {coverage:.1%} of the site"
    entry["reason"] += f"; {head}; {measured}, and `railwatch process` counts it again" + (
        RESULTS_KEPT if status in ("processed", "unusable") else ""
    )
    entry["nodata_taken"] = now
    if coverage is not None:
        entry["coverage"] = round(coverage, 4)  # as measured now (the line gave the old one)


def _take_index_nodata(
    db: Database,
    summary: IngestSummary,
    name: str,
    info: Any,
    filters: _Filters,
    *,
    applies: Callable[[], bool],
) -> None:
    """After item ``name`` was filed as already ingested: its own scene of a colour-table
    image with an item nodata (``info``'s :data:`NODATA_AS_INDEX_KEY`), counted before
    ``process`` read that nodata as an index (82b2e7f, 2026-12-06, session 39: the fill
    was read as ground, its quality coverage 1.0 where ingest-stac's said half), is
    counted again by the next ``process`` (:data:`NODATA_CHANGED`, its results kept until
    then), the entry saying why; the scene then carries the key, so once. A scene not
    counted yet, or marked to be counted again already, only takes the key; a file
    whose own nodata, alpha band or mask wins (:func:`_takes_item_nodata`) is read alike
    either way. A scene counted with the new rule before this key existed (between
    82b2e7f and this change) is counted once more. ``applies``: as for
    :func:`_take_nodata`."""
    from railwatch.imagery.read import item_nodata_of

    entry = summary.duplicates[-1] if summary.duplicates else None
    if entry is None or entry["file"] != name or not info.metadata.get(NODATA_AS_INDEX_KEY):
        return
    scene_id = int(entry["scene_id"])
    with db.session(readonly=True) as s:
        scene = repo.get_scene(s, scene_id)
        if _Known.of(scene).item != name or (scene.meta or {}).get(NODATA_AS_INDEX_KEY):
            return
    applies_now = applies()
    with db.session() as s:
        scene = repo.lock_scene(s, scene_id)
        meta = dict(scene.meta or {})
        if meta.get(NODATA_AS_INDEX_KEY):
            return  # taken meanwhile by another run
        meta[NODATA_AS_INDEX_KEY] = True
        scene.meta = meta
        value = item_nodata_of(meta)
        counted = scene.status in ("processed", "unusable")
        marked = str(scene.detector_version or "").endswith(NODATA_CHANGED)
        if value is None or not applies_now or not counted or marked:
            return
        mark_to_count_again(scene, NODATA_CHANGED)
    entry["reason"] += (
        f"; {index_nodata_reason(value)}, so `railwatch process` counts it again" + RESULTS_KEPT
    )
    entry["nodata_index"] = value


def index_nodata_reason(value: float) -> str:
    """Why a colour-table scene with item nodata ``value`` counted before 82b2e7f is
    counted again (:func:`_take_index_nodata`; ``railwatch.pipeline.pending_jobs`` finds
    such scenes too, since 2026-12-06, session 39)."""
    return (
        f"its image has a colour table, whose index {value:g} (its item's no-data value) "
        "`railwatch process` read as ground before 2026-12-06 (session 39)"
    )


def _georeference_hint(item: Any, width: int, height: int, path: str) -> str:
    """What to do with an image without a CRS: where the item declares its CRS
    (``proj:code``, ``proj:epsg``) and a north-up ``proj:transform``, the command that
    writes them into the (local) file; else to georeference it (session 47: the reason
    said only that it could not be placed)."""
    props = item.properties
    code = props.get("proj:code")
    if not isinstance(code, str) and isinstance(props.get("proj:epsg"), int):
        code = f"EPSG:{props['proj:epsg']}"
    tr = props.get("proj:transform")
    if (
        not is_remote(path)
        and isinstance(code, str)
        and isinstance(tr, list)
        and len(tr) >= 6
        and all(isinstance(v, int | float) for v in tr[:6])
        and tr[1] == 0
        and tr[3] == 0
    ):
        ulx, uly = tr[2], tr[5]
        lrx, lry = tr[2] + tr[0] * width, tr[5] + tr[4] * height
        return (
            f"its item declares {code} and proj:transform: write them into the file "
            f"(`gdal_edit.py -a_srs {code} -a_ullr {ulx:.12g} {uly:.12g} {lrx:.12g} {lry:.12g} "
            f"{path}`), "
            "or pick another asset with --asset"
        )
    return (
        "georeference the file (a GeoTIFF with its CRS and geotransform, or a .aux.xml or "
        "world file beside it), or pick another asset with --asset"
    )


def _scene_info(
    item: Any,
    href: str,
    acquired: datetime,
    nodata: float | str | None = None,
    *,
    kept: bool = False,
) -> tuple[Any, str | None]:
    """A :class:`SceneInfo` from the item's metadata and the asset's header, and what to
    say of the scales and offsets the item declares for its bands (:func:`_item_scaling`),
    if anything; ``nodata``: ``--nodata``, ``kept`` when it is an earlier run's
    (:func:`_item_nodata`)."""
    from rasterio.errors import RasterioError

    from railwatch.imagery import SceneInfo
    from railwatch.imagery.inspect import parse_stac_item

    path = gdal_path(href)
    if not is_remote(href) and not os.path.exists(path):
        raise ImageryError(
            f"its image asset {href} does not exist; check the item's asset href (a "
            "relative one resolves against the item JSON's folder), or pick another "
            "asset with --asset"
        )
    try:
        with open_quietly(path) as src:  # no CRS: said below, in the item's reason
            if src.crs is None:
                raise ImageryError(
                    f"{href} has no CRS: it cannot be placed on the site; "
                    + _georeference_hint(item, src.width, src.height, path)
                )
            # a grid that cannot place the pixels on the Earth (NaN or singular, a local
            # CRS, corners with no lon/lat), as `railwatch ingest` refuses it (2026-12-08,
            # session 53: "unexpected error: GEOSException", or a grid of 1e12 m pixels
            # registered at the item's gsd)
            broken = grid_problem(src, _href_name(href))
            if broken is not None:
                raise ImageryError(broken)
            # 64-bit integers and complex numbers refused as `railwatch ingest` refuses
            # them (before 2026-12-07, session 47, registered: process then failed the
            # scene with "KeyError: 'int64'")
            refused = unsupported_pixel_type(src.dtypes, _href_name(href))
            if refused is not None:
                raise UnsupportedFormatError(refused)
            crs = crs_text(src.crs)
            width, height, bands, dtype = src.width, src.height, src.count, src.dtypes[0]
            file_scaling = (tuple(src.scales or ()), tuple(src.offsets or ()))
            file_nodata = src.nodata
            file_gsd = _file_gsd(src)
            paletted = any(ci.name == "palette" for ci in src.colorinterp)
    except RasterioError as err:
        why = _short(err).removeprefix(f"{path}: ").removeprefix(f"'{path}' ").rstrip(".")
        todo = (
            remote_access_hint(href)
            or _http_hint(why)
            or ("check that it is a GeoTIFF or JPEG 2000 GDAL can open")
        )
        raise ImageryError(
            f"cannot read the header of {href}: {why}; {todo}, or pick another asset with --asset"
        ) from err
    doc = item.to_dict(include_self_link=False, transform_hrefs=False)
    sidecar = parse_stac_item(doc, Path(urlparse(href).path), image=href)
    meta = dict(sidecar.metadata)
    meta.pop("sidecar", None)
    meta.update({"stac_id": item.id, "stac_collection": item.collection_id})
    meta.pop(ITEM_SCALING_KEY, None)
    declared, note = _item_scaling(item, href, int(bands), str(dtype), file_scaling)
    if declared is not None:
        meta[ITEM_SCALING_KEY] = declared
    meta.pop(ITEM_NODATA_KEY, None)
    value, nodata_note = _item_nodata(item, href, str(dtype), file_nodata, nodata, kept=kept)
    if value is not None:
        meta[ITEM_NODATA_KEY] = value
        if paletted:  # read as an index (session 39): _take_index_nodata
            meta[NODATA_AS_INDEX_KEY] = True
    if nodata_note is not None:
        note = nodata_note if note is None else f"{note}; {nodata_note}"
    gsd = _declared_gsd(item, href)
    if gsd is None:
        if file_gsd is None:
            raise ImageryError(
                f"item {item.id} gives no gsd, and the ground size of the pixels of {href} "
                "cannot be measured from its CRS: add the image's ground sample distance "
                'in metres to the item (e.g. "gsd": 0.5) and run `railwatch ingest-stac` again'
            )
        gsd = file_gsd
    footprint = _footprint(item)
    if not isinstance(footprint, Polygon | MultiPolygon) or footprint.is_empty:
        raise InputError(f"item {item.id} has a geometry without area")
    info = SceneInfo(
        uri=href,
        content_hash=_content_hash(item, href),
        acquired=acquired,
        crs=crs,
        footprint=footprint,
        gsd=float(gsd),
        width=int(width),
        height=int(height),
        band_count=int(bands),
        dtype=str(dtype),
        sensor=sidecar.sensor,
        mask_uri=_mask_href(item),
        date_source="stac",
        metadata=meta,
    )
    return info, note


def _href_name(href: str) -> str:
    """The file name of an asset ``href`` (a local path or a URL), as a command line
    names the file (``gdal_translate ... NAME OUT.tif``)."""
    return Path(unquote(urlparse(href).path)).name or href


def _asset_of(item: Any, href: str) -> Any | None:
    """The item's asset read from ``href`` (:func:`_asset_href`), or None."""
    return next((a for a in item.assets.values() if _asset_href(a) == href), None)


def _positive(value: Any) -> float | None:
    """``value`` as a ground sample distance: a finite number of metres above 0, else
    None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def _declared_gsd(item: Any, href: str) -> float | None:
    """The ground sample distance the item declares for its image asset ``href``: the
    asset's own ``gsd`` (STAC common metadata, which overrides the item's for that
    asset: a Landsat item says 30 m, its pan asset 15 m), else the item's; None when
    neither gives a positive number (session 35: the asset's was ignored, so an image
    of 0.5 m pixels in an item of "gsd": 30 was counted on a 30 m grid)."""
    asset = _asset_of(item, href)
    own = None if asset is None else _positive(asset.extra_fields.get("gsd"))
    return own if own is not None else _positive(item.properties.get("gsd"))


def _file_gsd(src: Any) -> float | None:
    """The ground size of the open image's pixels in metres (geodesic in a geographic
    CRS, as ``railwatch ingest`` measures a file), or None when it cannot be measured
    (session 35: an item without a gsd over an image in degrees failed, with nothing to
    do)."""
    from pyproj.exceptions import CRSError

    from railwatch.imagery.inspect import ground_gsd

    try:
        return _positive(ground_gsd(src))
    except (RailwatchError, CRSError, ValueError, ArithmeticError):
        return None


def _short(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text[:200] + "..." if len(text) > 200 else text
