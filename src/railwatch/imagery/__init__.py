"""Imagery I/O: inspect scene files, read them over a site grid, judge their quality.

Public names are re-exported here; the work lives in ``inspect`` (scene headers,
footprint, hash), ``dates`` (acquisition time), ``read`` (site grids, windowed and
warped reads), ``scan`` (expanding ingest paths), ``quality`` (clear fraction) and
``scale`` (metres per pixel measured from the rails).
"""

from railwatch.imagery.dates import date_from_filename, date_from_tags, parse_datetime, to_utc
from railwatch.imagery.inspect import (
    CorruptImageError,
    EmptyImageError,
    MissingCRSError,
    MissingDateError,
    NotGeoreferencedError,
    SceneInfo,
    UnsupportedFormatError,
    check_overlap,
    file_sha256,
    inspect_scene,
    site_coverage,
)
from railwatch.imagery.quality import Quality, assess_quality, estimate_conditions
from railwatch.imagery.read import (
    MASK_NODATA,
    SiteGrid,
    SiteRaster,
    read_site_window,
    site_grid,
    to_rgb8,
)
from railwatch.imagery.scale import RailScale, estimate_gsd_from_rails
from railwatch.imagery.scan import RASTER_SUFFIXES, is_sidecar, scan_paths

__all__ = [
    "MASK_NODATA",
    "RASTER_SUFFIXES",
    "CorruptImageError",
    "EmptyImageError",
    "MissingCRSError",
    "MissingDateError",
    "NotGeoreferencedError",
    "Quality",
    "RailScale",
    "SceneInfo",
    "SiteGrid",
    "SiteRaster",
    "UnsupportedFormatError",
    "assess_quality",
    "check_overlap",
    "date_from_filename",
    "date_from_tags",
    "estimate_conditions",
    "estimate_gsd_from_rails",
    "file_sha256",
    "inspect_scene",
    "is_sidecar",
    "parse_datetime",
    "read_site_window",
    "scan_paths",
    "site_coverage",
    "site_grid",
    "to_rgb8",
    "to_utc",
]
