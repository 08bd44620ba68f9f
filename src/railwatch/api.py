"""The Python entry points a notebook needs where the library's own are awkward.

Each function here is a thin composition of functions that live elsewhere (the CLI and
the web layer use those): nothing is computed here that is not computed there. The
names are re-exported, lazily, by the root package: ``railwatch.count_cars`` and so on
(docs/python.md shows each job). Every import is made inside the function that needs
it, so that ``import railwatch`` and ``railwatch.analyze_counts`` stay free of rasterio,
OpenCV, ONNX Runtime and SQLAlchemy.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from railwatch.errors import DetectionError, InputError

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from railwatch.analysis.settings import AlertSettings
    from railwatch.analysis.types import Alert, CountPoint, Event
    from railwatch.counting import SceneCount
    from railwatch.detect.api import DetectionResult
    from railwatch.detect.base import Detector
    from railwatch.imagery.quality import Quality
    from railwatch.sites import SiteSpec
    from railwatch.storage.db import Database

__all__ = [
    "analyze_counts",
    "assess_file",
    "count_cars",
    "site_alerts",
    "site_counts",
    "to_geodataframe",
    "to_geojson",
]

#: A site as :func:`assess_file` takes it: a :class:`~railwatch.sites.SiteSpec`, a
#: shapely (multi)polygon in WGS84 lon/lat, or a bbox ``(W, S, E, N)`` / ``"W,S,E,N"``.
SiteLike: TypeAlias = "SiteSpec | BaseGeometry | Sequence[float] | str"
#: A database as the readers here take it: an open :class:`~railwatch.storage.db.Database`,
#: a database URL (``sqlite:///railwatch.db``, ``postgresql+psycopg://...``) or the path
#: of a SQLite file.
DatabaseLike: TypeAlias = "Database | str | os.PathLike[str]"
#: One count as :func:`analyze_counts` takes it: a
#: :class:`~railwatch.analysis.types.CountPoint`, or ``(when, count)`` with ``when`` a
#: date, a datetime or its ISO 8601 text and ``count`` a number (None: an unusable image).
CountLike: TypeAlias = "CountPoint | tuple[date | datetime | str, float | None]"
#: One event: an :class:`~railwatch.analysis.types.Event` or ``(day, label)``.
EventLike: TypeAlias = "Event | tuple[date | str, str]"


# --------------------------------------------------------------------------- detection


def count_cars(result: DetectionResult, *, detector: Detector | None = None) -> SceneCount:
    """The count of a detection result: total and each class with its 90 % interval.

    The numbers ``railwatch detect`` prints for the same image: below 1.5 m the number
    of cars found, in all and per class, each with the detector's calibrated 90 %
    interval of the true number (:func:`railwatch.counting.count_detections`); from 1.5 m
    to 10 m the car equivalents read from occupied track length, with their interval
    (``by_class`` then holds ``railcar`` only: a length tells no type); at 10 m and
    coarser the long-train flag (1 or 0, ``method`` ``presence``), which is no count.
    Nothing is widened for cloud or haze: a file alone is not judged for quality
    (:func:`assess_file` does that over a site). A count by objects of a PNG or JPEG
    whose ``gsd`` the rails could not confirm (``result.scale_check``: not measured, or
    disagreeing) has its intervals widened for the scale's plausible error
    (:func:`railwatch.counting.widen_for_scale`); the count itself is unchanged.

    Parameters
    ----------
    result
        What :func:`railwatch.detect.api.detect_file` (``railwatch.detect_file``)
        returned.
    detector
        The detector that made ``result``, whose calibration gives the intervals. None:
        the default detector, which :func:`~railwatch.detect.api.detect_file` runs when
        it is given none.

    Returns
    -------
    SceneCount
        ``total``, ``low``, ``high``; ``by_class`` maps a class to ``(count, low,
        high)``; ``covered`` is the number of cars with a load under a tarpaulin;
        ``method`` is ``objects``, ``length`` or ``presence``; ``scale_check`` is the
        result's (a hand-given gsd checked against the rails, or None);
        ``scale_widening`` says how and why a count by objects had its intervals widened
        because that gsd was not confirmed by the rails (could not be measured, or
        disagrees), None when they are the detector's own (georeferenced image, scale
        confirmed, ``check_scale=False``).

    Raises
    ------
    InputError
        ``detector`` (or the default one) is not the detector that made ``result``.
    DetectionError
        A coarse image in which no track was read, a 10 m image whose long-train flag
        could not be read, or an image coarser than 10 m (too coarse for the flag, as
        ``railwatch process`` judges it): there is no count, and 0 would read as an
        empty yard.
    """
    from railwatch.counting import (
        SceneCount,
        count_detections,
        too_coarse_reason,
        widen_for_scale,
    )
    from railwatch.detect.coarse import long_train_flag

    _check_result(result, "count_cars")
    name = Path(result.source).name
    coarse = result.coarse
    if coarse is not None:
        if result.method == "presence":
            flag = long_train_flag(coarse, result.tracks)
            if flag is None and coarse.too_coarse:
                raise DetectionError(f"{name}: {too_coarse_reason(result.gsd)}")
            if flag is None:
                raise DetectionError(
                    f"{name}: at {result.gsd:g} m only a long train's presence can be read, "
                    "and only along given track centrelines (detect_file's tracks=) with a "
                    "train's length of track read in one piece: no flag was read"
                )
            one = 1.0 if flag else 0.0
            return SceneCount(
                *(one, one, one, {}, 0, "presence"),
                tracks=result.tracks,
                scale_check=result.scale_check,
            )
        if coarse.track_m == 0.0:
            raise DetectionError(
                f"{name}: no track line was read at {result.gsd:g} m (none found in the "
                "image, or the given ones under cloud or outside the data), so nothing was "
                "measured: no count, which is not 0; give the site's centrelines "
                "(detect_file's tracks=)"
            )
        counted = (coarse.car_equivalents, coarse.low, coarse.high)
        return SceneCount(
            *counted,
            {"railcar": counted},
            0,
            "length",
            empty_from=coarse.empty_from,
            track_m=coarse.track_m,
            tracks=result.tracks,
            occupied=result.occupied,
            scale_check=result.scale_check,
        )
    det = _detector_of(result, detector)
    count = count_detections(
        result.detections, gsd=result.gsd, calibration=getattr(det, "calibration", None)
    )
    # a hand-given gsd the rails did not confirm: the interval widened for its error
    return widen_for_scale(count, result.scale_check)


def _check_result(result: object, what: str) -> None:
    """An InputError unless ``result`` is what ``detect_file`` returns (a path, or
    ``detect_array``'s list of detections, failed on a missing attribute)."""
    from railwatch.detect.api import DetectionResult

    if not isinstance(result, DetectionResult):
        raise InputError(
            f"{what} takes what railwatch.detect_file returns (a DetectionResult), not a "
            f"{type(result).__name__}: call {what}(railwatch.detect_file(PATH))"
        )


def _detector_of(result: DetectionResult, detector: Detector | None) -> Detector:
    """``detector``, or the default one, when it is the one that made ``result``."""
    if detector is None:
        from railwatch.detect.registry import get_detector

        detector = get_detector("default")
    made_by = (result.detector, result.detector_version)
    if (detector.name, detector.version) != made_by:
        raise InputError(
            f"{Path(result.source).name} was detected by {made_by[0]} {made_by[1]}, not by "
            f"{detector.name} {detector.version}: pass the detector that made it "
            "(count_cars(result, detector=...)), whose calibration gives the intervals"
        )
    return detector


def to_geojson(result: DetectionResult, *, to_crs: str | None = None) -> dict[str, Any]:
    """A detection result as a GeoJSON FeatureCollection (a dict), as ``railwatch detect
    -o`` writes its features.

    One Polygon feature per car (its oriented box; properties ``class``, ``score``,
    ``covered``, ``covered_score`` and the detector's ``class_scores``), then, for a
    1.5-10 m image, one LineString feature per stretch of track read as occupied
    (``method`` ``length``, ``length_m``, ``car_equivalents``). The collection also
    holds ``source``, ``method``, ``detector``, ``detector_version`` and ``gsd``
    (:func:`count_cars` gives the count and its interval).

    Parameters
    ----------
    result
        What :func:`railwatch.detect.api.detect_file` returned.
    to_crs
        Reproject to this CRS; ``"EPSG:4326"`` gives RFC 7946 lon/lat (written without
        a ``crs`` member). None: the image's CRS (pixel coordinates, ``"crs": null``,
        for an image that is not georeferenced).

    Returns
    -------
    dict
        The FeatureCollection; ``json.dump`` it, or pass it to
        :func:`railwatch.detect.geojson.write_geojson`.
    """
    from railwatch.detect.geojson import to_feature_collection

    _check_result(result, "to_geojson")
    if to_crs is not None and to_crs != result.crs:  # said as a call's, not the CLI's
        if result.crs is None:
            raise InputError(
                f"{Path(result.source).name} is not georeferenced: its detections are in "
                "pixel coordinates and cannot be reprojected (give no to_crs)"
            )
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(to_crs)
        except CRSError as err:
            raise InputError(
                f"to_crs {to_crs!r} is not a CRS ({err}): give one as EPSG:CODE, e.g. "
                "'EPSG:4326' for lon/lat"
            ) from None
    return to_feature_collection(
        result.detections,
        crs=result.crs,
        gsd=result.gsd,
        to_crs=to_crs,
        extra={
            "source": Path(result.source).name,
            "method": result.method,
            "detector": result.detector,
            "detector_version": result.detector_version,
        },
        occupied=result.occupied,
    )


def to_geodataframe(result: DetectionResult, *, to_crs: str | None = None) -> Any:
    """A detection result as a GeoPandas ``GeoDataFrame``: one row per feature of
    :func:`to_geojson` (its properties as columns), in the image's CRS or ``to_crs``.

    Needs GeoPandas (the ``gis`` extra: ``pip install 'railwatch[gis]'``); the error
    says so when it is missing. An image that is not georeferenced gives pixel
    coordinates and a frame without a CRS.
    """
    from railwatch.errors import lazy_import

    gpd: Any = lazy_import("geopandas", "gis", "detections as a GeoDataFrame")
    fc = to_geojson(result, to_crs=to_crs)
    # a car's properties (to_feature_collection's): class_scores was left out until
    # session 46, so a frame of an image without cars lacked the column
    columns = ["geometry", "class", "score", "covered", "covered_score", "class_scores"]
    crs = to_crs if to_crs is not None else result.crs
    if not fc["features"]:  # from_features([]) has no geometry column to set a CRS on
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs=crs)
    return gpd.GeoDataFrame.from_features(fc["features"], crs=crs)


# --------------------------------------------------------------------------- quality


def assess_file(
    path: str | os.PathLike[str],
    site: SiteLike,
    *,
    threshold: float | None = None,
    bands: Sequence[int] | None = None,
    radiometry: str = "linear",
) -> Quality:
    """The quality of an image over a site, judged as ``railwatch process`` judges it.

    The file is described as ``railwatch ingest`` describes it (its quality mask beside
    it, ``NAME.mask.tif`` or ``NAME_udm2.tif``, or its STAC sidecar's; its colour
    bands), read over the site on the grid ``process`` reads it on, and judged by
    :func:`railwatch.imagery.quality.assess_quality`; an image smaller than one railcar
    is unusable whatever its pixels (:func:`railwatch.imagery.size.image_too_small`).
    The file is read once whole to hash it, as ingest does.

    Parameters
    ----------
    path
        A georeferenced image (GeoTIFF/COG).
    site
        A :class:`~railwatch.sites.SiteSpec` (``railwatch.site_from_bbox``,
        ``site_from_geojson``), a shapely polygon in WGS84 lon/lat, or a bbox
        ``(W, S, E, N)`` in degrees. A SiteSpec's track centrelines (``tracks``) judge
        the clear share of a car's width along them too, at any resolution, as
        ``process`` judges a site's (:mod:`railwatch.imagery.places`).
    threshold
        The clear fraction of the site a usable image needs; None: the setting
        ``RAILWATCH_USABLE_THRESHOLD`` (0.8 by default), as ``process``.
    bands, radiometry
        As ``railwatch ingest --bands`` and ``--radiometry``: the 1-based red, green,
        blue bands, and how 16-bit data maps to the screen (``linear`` or ``display``).

    Returns
    -------
    Quality
        ``usable``, ``clear_fraction``, ``coverage``, the cloud, haze, snow and no-data
        fractions of the site, ``reasons`` (sentences) and ``source`` (``mask`` or
        ``estimated``).

    Raises
    ------
    ImageryError
        The file is missing or cannot be read; ``NotGeoreferencedError`` (a subclass) for
        a PNG or JPEG without a CRS, which :func:`railwatch.detect_file` counts with
        ``gsd=``.
    InputError
        ``site``, ``threshold``, ``bands`` or ``radiometry`` is not one it takes.
    """
    from dataclasses import replace

    import numpy as np

    from railwatch.detect.coarse import grey_reason
    from railwatch.imagery.inspect import NotGeoreferencedError, inspect_scene, rgb_of
    from railwatch.imagery.places import places_of
    from railwatch.imagery.quality import assess_quality
    from railwatch.imagery.read import (
        check_rgb_bands,
        item_scaling_of,
        parse_radiometry,
        read_site_window,
        site_grid,
    )
    from railwatch.imagery.size import image_too_small
    from railwatch.pipeline import grid_gsd
    from railwatch.sites import SiteSpec

    geometry = _site_geometry(site)
    radio = parse_radiometry(radiometry, option="radiometry")
    if threshold is None:
        threshold = _usable_threshold()
    elif not 0.0 <= threshold <= 1.0:
        raise InputError(
            f"threshold {threshold!r}: give the clear fraction of the site a usable image "
            "needs, from 0 to 1 (0.8 by default)"
        )
    # the acquisition day is not needed here: a file without one is judged all the same
    try:
        info = inspect_scene(Path(path), default_date=date(2000, 1, 1))
    except NotGeoreferencedError:  # said as a call's, not the CLI's (`railwatch detect --gsd`)
        raise NotGeoreferencedError(
            f"{Path(path).name} is not georeferenced: assess_file places the site on the "
            "image by its CRS, so it needs a GeoTIFF or COG; railwatch.detect_file(path, "
            "gsd=...) counts the cars of a PNG or JPEG"
        ) from None
    rgb = (
        check_rgb_bands(bands, info.band_count, Path(info.uri).name)
        if bands is not None
        else rgb_of(info.metadata)
    )
    grid = site_grid(geometry, grid_gsd(info.gsd))
    raster = read_site_window(
        info.uri,
        grid,
        mask_uri=info.mask_uri,
        site_geom=geometry,
        bands=rgb,
        radiometry=radio,
        item_scaling=item_scaling_of(info.metadata),
    )
    # as process: a site's track centrelines (a SiteSpec's) judge the clear share of
    # where cars stand too, at any resolution (a file alone has no history of earlier
    # images; review r5, 2026-12-06, session 39; coarse images since session 40)
    tracks = site.tracks if isinstance(site, SiteSpec) else None
    places = places_of(grid, tracks)
    quality = assess_quality(raster, threshold=threshold, places=places)
    small = image_too_small(info.width, info.height, info.gsd)
    if small is not None:  # as process: it would read as "0 railcars"
        quality = replace(quality, usable=False, reasons=(small, *quality.reasons))
    seen = np.asarray(raster.valid, dtype=bool) & np.asarray(raster.inside, dtype=bool)
    grey = grey_reason(raster.image, seen, grid.gsd)
    if grey is not None:  # as process: a coarse count of a grey image reads too few
        quality = replace(quality, usable=False, reasons=(grey, *quality.reasons))
    return quality


def _site_geometry(site: SiteLike) -> BaseGeometry:
    """The WGS84 polygon of ``site`` (see :data:`SiteLike`), validated as sites are."""
    from shapely.geometry import box
    from shapely.geometry.base import BaseGeometry

    from railwatch.sites import SiteSpec, parse_bbox, validate_site_geometry

    if isinstance(site, SiteSpec):
        return site.geometry
    if isinstance(site, BaseGeometry):
        return validate_site_geometry(site)
    if isinstance(site, str) and not any(c.isdigit() for c in site):
        # a stored site's name was told "bbox 'yard' is not four numbers" (session 46)
        raise InputError(
            f"site {site!r} is no bbox: assess_file takes the site's area, not a stored "
            "site's name: give a bbox (W, S, E, N) in degrees, a shapely polygon in lon/lat "
            "or a SiteSpec (railwatch.site_from_bbox or site_from_geojson)"
        )
    if isinstance(site, str) or (
        isinstance(site, Sequence) and len(site) == 4 and not isinstance(site, bytes)
    ):
        return validate_site_geometry(box(*parse_bbox(site)), what="bbox")
    raise InputError(
        f"site {site!r}: give a SiteSpec (railwatch.site_from_bbox or site_from_geojson), "
        "a shapely polygon in lon/lat, or a bbox (W, S, E, N) in degrees"
    )


def _usable_threshold() -> float:
    """``RAILWATCH_USABLE_THRESHOLD``, as ``railwatch process`` reads it."""
    from railwatch.errors import checked_settings

    return float(checked_settings().usable_threshold)


# --------------------------------------------------------------------------- alerts


def analyze_counts(
    counts: Iterable[CountLike] | str | os.PathLike[str],
    events: Iterable[EventLike] = (),
    *,
    site: str | None = None,
    settings: AlertSettings | None = None,
    as_of: datetime | date | None = None,
    utc_offset: timedelta | None = None,
) -> list[Alert]:
    """The alert rules on counts of one site: hand counts, a list, or a CSV file.

    The same rules as ``railwatch analyze`` (:func:`railwatch.analysis.alerts.
    analyze_series`): records against the multi-year maximum, spikes, sustained
    shifts, drops and long silences, each explained and related to the events within
    a few days.

    Parameters
    ----------
    counts
        ``(when, count)`` pairs, hand counts (method ``manual``, as a CSV's lines; ``when``
        a date, datetime or ISO 8601 text; a count of
        None or NaN is an image with no usable view: a gap, never 0; a pandas frame's
        ``frame[["date", "count"]].itertuples(index=False)`` is such pairs), or
        :class:`~railwatch.analysis.types.CountPoint` values for more (class, interval,
        resolution, method), or the path of a CSV file read as ``railwatch analyze
        --counts`` reads it (:func:`railwatch.analysis.csvio.read_counts_csv`: a header
        ``date,count``, optional ``low,high,usable,class,site,gsd,method``). Of a
        ``railwatch export`` CSV only the total is read: its per-class columns
        (``count_<class>``, ``covered``) are passed over, so no alert of a single class
        comes from it (``read_counts_file(path).class_columns`` names them).
    events
        :class:`~railwatch.analysis.types.Event` values or ``(day, label)`` pairs.
    site
        For a CSV with a ``site`` column: which site's counts to analyse (each site is
        its own series).
    settings
        The rules' thresholds (:class:`~railwatch.analysis.settings.AlertSettings`);
        None: the defaults.
    as_of
        Analyse as of this day (its end, at the site) or time: later counts are left out
        and a silence (no usable image since the last) runs to it, as ``railwatch
        analyze --counts --as-of DAY``. None: as of now, as ``railwatch analyze`` without
        ``--as-of`` judges (until 2026-12-06, session 37, to the last count, so the two
        gave different alerts for one file: the silence up to today was left out). Give
        it for results that do not change from day to day, as in a notebook.
    utc_offset
        The site's local time east of UTC (its nominal zone, the longitude / 15 in
        whole hours): days are then the site's local days, as for a stored site, and a
        date given alone is noon of that day there. None: days as written (UTC), or,
        for an export's CSV, the site's zone its ``day`` / ``local_zone`` columns give,
        as ``railwatch analyze --counts`` takes it.

    Returns
    -------
    list of Alert
        In time order; each has ``kind``, ``severity`` (``info`` is a note, not an
        alarm), ``when``, ``cls``, ``value``, ``explanation`` and ``metrics``, and
        ``event_label`` when an event is related.
    """
    from railwatch.analysis.alerts import analyze_series, check_utc_offset

    if not isinstance(counts, Iterable | str | os.PathLike):
        raise InputError(
            f"counts {counts!r} is not a list of counts nor a file (its type is "
            f"{type(counts).__name__}): give (date, count) pairs, CountPoint values or the "
            "path of a CSV file (date,count)"
        )
    if not isinstance(events, Iterable):
        raise InputError(
            f"events {events!r} is not a list of events (its type is "
            f"{type(events).__name__}): give (day, label) pairs or Event values (an empty "
            "list for none)"
        )
    if utc_offset is not None:  # 9 (hours meant) was an internal TypeError (session 40)
        check_utc_offset(utc_offset, none="the days as written or an export's zone")
    _refuse_table(counts, "counts", ("date", "count"))
    _refuse_table(events, "events", ("day", "label"))
    offset = utc_offset or timedelta(0)
    noon_zone = utc_offset  # a date alone is that day at the site: its noon there
    if isinstance(counts, str | os.PathLike):
        points, zone, stated = _csv_points(Path(counts), site, utc_offset)
        if utc_offset is None:  # an export's zone (day, local_zone), as analyze --counts
            offset, noon_zone = zone or timedelta(0), stated
    else:
        if site is not None:
            raise InputError("site= picks a site of a CSV file's site column; give no site")
        points = [_point(c, k) for k, c in enumerate(counts)]
    evs = [_event(e, k) for k, e in enumerate(_pairs(events, "events", "(day, label)"))]
    if noon_zone is not None:
        from dataclasses import replace

        from railwatch.imagery.dates import local_noon

        points = [
            replace(p, when=local_noon(p.when.date(), noon_zone)) if p.date_only else p
            for p in points
        ]
    if as_of is None:  # now, as `railwatch analyze --counts` without --as-of
        end = datetime.now(UTC)
    elif isinstance(as_of, datetime):
        end = as_of
    elif isinstance(as_of, date):  # the end of that day (at the site)
        end = datetime.combine(as_of, datetime.max.time(), tzinfo=UTC) - offset
    else:
        raise InputError(f"as_of {as_of!r}: give a date or a datetime")
    return analyze_series(points, evs, settings, as_of=end, utc_offset=offset)


def _csv_points(
    path: Path, site: str | None, utc_offset: timedelta | None
) -> tuple[list[CountPoint], timedelta | None, timedelta | None]:
    """One site's counts of a CSV file, read as ``railwatch analyze --counts`` reads it,
    with the site's zone the file gives (an export's day column or local_zone: None for
    none) and the one its local_zone states (None: not stated)."""
    from railwatch.analysis.csvio import read_counts_file
    from railwatch.sites import normalise_name

    read = read_counts_file(path, utc_offset=utc_offset)
    by_site, zones, stated = read.series, read.zones, read.stated_zones
    if site is None:
        if len(by_site) > 1:
            names = ", ".join(repr(s) for s in sorted(by_site))
            raise InputError(
                f"{path} holds the counts of {len(by_site)} sites ({names}): pick one "
                "with site=NAME (each site is its own series)"
            )
        only = next(iter(by_site), "")
        return by_site.get(only, []), zones.get(only), stated.get(only)
    if set(by_site) == {""}:
        raise InputError(f"{path} has no site column, so its counts are of one site: give no site")
    name = normalise_name(site)
    if name not in by_site:
        names = ", ".join(repr(s) for s in sorted(by_site) if s)
        raise InputError(f"site {site!r} is not in the site column of {path} (sites: {names})")
    return by_site[name], zones.get(name), stated.get(name)


def _pairs(items: Iterable[Any], what: str, shape: str) -> Iterable[Any]:
    if isinstance(items, str | bytes | Mapping):
        raise InputError(f"{what}: give a list of {shape} pairs, not a {type(items).__name__}")
    return items


def _event(item: EventLike, k: int) -> Event:
    """An event of one item of :func:`analyze_counts`'s ``events``."""
    from railwatch.analysis.types import Event

    if isinstance(item, Event):
        return item
    pair = _two(item)
    if pair is None:
        raise InputError(
            f"event {k} is {item!r}: give (day, label) pairs, e.g. "
            "(date(2023, 9, 13), 'summit'), or Event values"
        )
    return Event(_day(pair[0], f"event {k}"), str(pair[1]))


def _point(item: CountLike, k: int) -> CountPoint:
    """A count point of one item of :func:`analyze_counts`'s ``counts``."""
    from railwatch.analysis.types import CountPoint

    if isinstance(item, CountPoint):
        return item
    where = f"counts[{k}]"
    pair = _two(item)
    if pair is None:
        raise InputError(
            f"{where} is {item!r}: give (when, count) pairs, e.g. (date(2023, 10, 5), 73), "
            "or CountPoint values"
        )
    when_in, count_in = pair
    count: float | None = None
    if type(count_in).__name__ == "NAType":  # pandas' pd.NA (a nullable Int64 column)
        count_in = None
    if count_in is not None:
        try:
            count = float(count_in)
        except (TypeError, ValueError) as err:
            raise InputError(
                f"{where}: count {count_in!r} is not a number (None for an image with no "
                "usable view)"
            ) from err
        if math.isnan(count):  # pandas' missing value: no count, as a CSV's blank or "na"
            count = None
        elif not (math.isfinite(count) and count >= 0):
            raise InputError(f"{where}: count {count_in!r} must be a finite number, 0 or more")
    day_or_time = _when(when_in, where)
    if isinstance(day_or_time, datetime):
        when, date_only = day_or_time, False
    else:  # 00:00 UTC of the day, as a CSV's date alone
        when = datetime(day_or_time.year, day_or_time.month, day_or_time.day, tzinfo=UTC)
        date_only = True
    # hand counts, as a CSV's lines without a method column (csvio: "manual"); since
    # every count alert names its method (session 40) "objects" told another story
    return CountPoint(
        when=when, count=count, usable=count is not None, date_only=date_only, method="manual"
    )


def _two(item: object) -> tuple[Any, Any] | None:
    """The two members of a pair: a tuple or list, and also a NumPy row (``frame.
    to_numpy()``, ``to_records``; refused as no pair until session 46); None for
    anything else (text, a mapping, a set, not two members)."""
    if isinstance(item, str | bytes | Mapping | AbstractSet):
        return None
    try:
        first, second = cast("Iterable[Any]", item)  # any iterable of two
    except (TypeError, ValueError):
        return None
    return first, second


def _refuse_table(items: object, what: str, columns: tuple[str, str]) -> None:
    """An InputError naming the call that makes pairs of a pandas frame or series or
    of a dict: iterating a frame gives its column names, a series its values, a dict its
    keys (session 46: a frame was told "counts[0] is 'date'")."""
    a, b = columns
    if hasattr(items, "itertuples") and hasattr(items, "columns"):  # a pandas DataFrame
        recipe = f"frame[[{a!r}, {b!r}]].itertuples(index=False), with your column names"
    elif hasattr(items, "index") and hasattr(items, "items") and hasattr(items, "dtype"):
        recipe = f"series.items() for a series of {b}s indexed by {a}"
    elif isinstance(items, Mapping):
        recipe = f"d.items() for a dict of {b}s by {a}"
    else:
        return
    raise InputError(f"{what} is a {type(items).__name__}: give ({a}, {b}) pairs: {recipe}")


def _when(value: object, where: str) -> date | datetime:
    missing = f"{where}: the date is missing (NaT): give it, or leave the line out"
    if type(value).__name__ == "datetime64" and hasattr(value, "astype"):  # NumPy's
        stamp: Any = value
        unit = "datetime64[D]" if str(stamp.dtype).endswith("[D]") else "datetime64[us]"
        value = stamp.astype(unit).item()  # a date or a naive (UTC) datetime; None for NaT
        if value is None:
            raise InputError(missing)
    if isinstance(value, date):
        if value != value:  # pandas' NaT, a datetime unequal to itself
            raise InputError(missing)
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            pass
    raise InputError(
        f"{where}: {value!r} is not a date: give a date, a datetime or ISO 8601 text "
        "(2023-10-05, 2023-10-05T02:30Z)"
    )


def _day(value: object, where: str) -> date:
    when = _when(value, where)
    return when.date() if isinstance(when, datetime) else when


# --------------------------------------------------------------------------- storage


def site_counts(db: DatabaseLike, site: str, *, cls: str = "all") -> list[CountPoint]:
    """A stored site's count series of one class, as ``railwatch analyze SITE`` reads it.

    One :class:`~railwatch.analysis.types.CountPoint` per processed image, in time
    order: an unusable image is a point with ``count`` None and ``usable`` False (a gap,
    never 0), and so is a count its method cannot tell (a type at 3 m). ``pandas.
    DataFrame(points)`` makes a table of them.

    Parameters
    ----------
    db
        A :class:`~railwatch.storage.db.Database`, a database URL or a SQLite file's
        path; a URL or path that names no database is an error (nothing is created).
    site
        The site's name.
    cls
        ``all`` (the total), ``covered`` or a car class.
    """
    from railwatch.storage import repo

    _check_site_name(site)
    with _opened(db) as database, database.session(readonly=True) as session:
        return repo.count_series(session, site, cls=cls)


def _check_site_name(site: object) -> None:
    if not isinstance(site, str):  # an id failed as "argument of type 'int' is not iterable"
        raise InputError(
            f"site {site!r} ({type(site).__name__}) is not a name: give the site's name, as "
            "`railwatch site list` shows it"
        )


def site_alerts(
    db: DatabaseLike,
    site: str,
    *,
    min_severity: str = "info",
    cls: str | None = None,
    since: date | datetime | str | None = None,
    include_inactive: bool = False,
) -> list[dict[str, Any]]:
    """A stored site's alerts, newest first, as ``railwatch alerts SITE --json`` lists them.

    Each alert is a JSON-ready dict with the members ``railwatch alerts --json`` and the
    REST API give it: ``id``, ``site``, ``version``, ``kind``, ``severity``, ``when``
    (its image's UTC time), ``day`` (its day at the site, the day its text names),
    ``class`` (``all`` or a car class; ``cls``, the same value, is its name until
    session 38, kept for old scripts), ``value``, ``explanation``, ``metrics``,
    ``reviewed``, ``event_label``, ``acknowledged``, ``changed_since_ack``..., and
    ``created_at``; ``pandas.DataFrame(alerts)`` makes a table of them.

    Parameters
    ----------
    db
        As :func:`site_counts`.
    site
        The site's name.
    min_severity
        ``info``, ``low``, ``medium`` or ``high``: the alerts from it up.
    cls
        Only the alerts of this series (``all``, ``covered`` or a car class); None: all.
    since
        Only the alerts on or after this day at the site (a date) or this instant (or
        either as ISO 8601 text: 2023-10-05, 2023-10-05T02:30Z); a time without a zone
        is UTC, as ``railwatch alerts --since`` takes it.
    include_inactive
        Also the alerts the latest analysis no longer raises.
    """
    from railwatch.analysis.events import alert_day
    from railwatch.analysis.store import site_utc_offset
    from railwatch.storage import repo
    from railwatch.storage.alert_filter import AlertFilter, check_min_severity, check_series
    from railwatch.storage.serialize import alert_dict

    _check_site_name(site)
    if since is not None and not isinstance(since, date):  # ISO text, as analyze_counts'
        since = _when(since, "since")
    if isinstance(since, datetime):  # a time without a zone is UTC, as `alerts --since`
        # (a naive one failed as "database read failed ... naive datetime", session 46)
        since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    filters = AlertFilter(
        since=since,
        min_severity=check_min_severity(min_severity, "min_severity"),
        cls=check_series(cls, "cls"),
    )
    with _opened(db) as database, database.session(readonly=True) as session:
        row = repo.get_site(session, site)
        offset = site_utc_offset(row)
        return [
            alert_dict(a, alert_day(a.when, offset))
            for a in repo.list_alerts(
                session, row, active_only=not include_inactive, filters=filters
            )
        ]


class _opened:
    """``db`` open for the duration of a ``with``: an open database as it is, a URL or a
    path opened without creating anything, and closed after."""

    def __init__(self, db: DatabaseLike) -> None:
        self._given = db
        self._own: Database | None = None

    def __enter__(self) -> Database:
        from railwatch.storage.db import Database

        if isinstance(self._given, Database):
            return self._given
        text = os.fspath(self._given)
        url = text if "://" in text else f"sqlite:///{Path(text).expanduser().resolve()}"
        self._own = Database(url, create=False)
        return self._own

    def __exit__(self, *exc: object) -> None:
        if self._own is not None:
            self._own.dispose()
