"""Export a site's data to the formats GIS tools and notebooks read.

* ``gpkg``: one GeoPackage file with layers ``sites``, ``scenes``, ``detections``
  (polygons), ``occupied_track`` (lines: the stretches of track a 1.5-10 m image's
  length count read as occupied) and ``counts`` (attribute table), via pyogrio (GDAL).
* ``geoparquet``: a directory with ``sites/scenes/detections/occupied_track.parquet``
  (GeoParquet 1.1: WKB ``geometry`` column, ``geo`` metadata) and ``counts.parquet``
  (a table).
* ``geojson``: a directory with one RFC 7946 FeatureCollection per layer (counts as
  features without geometry; coordinates rounded to 8 decimals, 1.1 mm: :func:`rounded`).
  Needs nothing beyond the core install.
* one layer (``layer``, ``railwatch export --layer``): that layer alone, in one
  ``.geojson`` or ``.parquet`` file (a GeoPackage with that layer; the CSV is the
  counts). A geojson or geoparquet export of every layer given a file name of its own
  format (``-o yard.geojson``) is refused, saying to give a folder or ``--layer``
  (:func:`check_folder_name`; until 2026-12-06, session 41, it made a folder of that
  name).
* ``csv``: the counts table as one CSV file:
  ``pandas.read_csv(path, parse_dates=["date"])``, which ``railwatch analyze --counts``
  reads back (``analysis.csvio``: an analyst's count is read as such, ``reviewed``).

Geometries are WGS84 (EPSG:4326, longitude/latitude). Existing outputs are replaced.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from railwatch.detect.geojson import coordinate_digits
from railwatch.errors import InputError, lazy_import, os_reason
from railwatch.export.layers import (
    CRS,
    LAYER_NAMES,
    Layer,
    jsonable,
    site_layers,
)
from railwatch.export.paths import check_output, check_parent_folder, site_images
from railwatch.storage import Database

FORMATS: tuple[str, ...] = ("gpkg", "geoparquet", "geojson", "csv")
_PANDAS_TYPES = {"int": "Int64", "float": "float64", "bool": "boolean", "str": "string"}


def _typed(geometries: tuple[BaseGeometry, ...], geometry_type: str | None) -> list[Any]:
    """Geometries as the layer's declared type: a Polygon as a one-part MultiPolygon in
    a MultiPolygon layer (the scenes layer: footprints across 180° are split there), a
    LineString as a one-part MultiLineString in a MultiLineString layer (occupied track
    across 180°). GeoPackage and GeoParquet declare one type per layer; a Polygon layer
    holding MultiPolygons is not a valid GeoPackage (GDAL warned and wrote it anyway)."""
    if geometry_type == "MultiPolygon":
        return [MultiPolygon([g]) if isinstance(g, Polygon) else g for g in geometries]
    if geometry_type == "MultiLineString":
        return [MultiLineString([g]) if isinstance(g, LineString) else g for g in geometries]
    return list(geometries)


def _frame(layer: Layer, *, dates: bool = True) -> Any:
    """The layer as a (Geo)DataFrame with explicit nullable column types, geometries
    of the layer's declared type. ``date`` columns (YYYY-MM-DD in the records) are Arrow
    dates (a DATE in GeoPackage, ``date32`` in Parquet), or text with ``dates`` False."""
    pd: Any = lazy_import("pandas", "gis", "GIS exports")
    data = {}
    for col, kind in zip(layer.columns, layer.types, strict=True):
        values = [r[col] for r in layer.records]
        if kind == "datetime":
            data[col] = pd.to_datetime(pd.Series(values, dtype="object"), utc=True)
        elif kind == "date" and dates:
            days = [date.fromisoformat(v) if isinstance(v, str) else None for v in values]
            data[col] = pd.Series(days, dtype="object").astype("date32[pyarrow]")
        elif kind == "date":
            data[col] = pd.Series(values, dtype="string")
        else:
            data[col] = pd.Series(values, dtype=_PANDAS_TYPES[kind])
    frame = pd.DataFrame(data, columns=list(layer.columns))
    if layer.geometries is None:
        return frame
    gpd: Any = lazy_import("geopandas", "gis", "GIS exports")
    geoms = _typed(layer.geometries, layer.geometry_type)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=CRS)


def _prepare(path: Path, *, directory: bool) -> None:
    """Check that ``path`` is of the kind the format writes (a file, or a folder) and
    create the folders it needs. An existing file is left in place until the new one is
    whole (:func:`_written`)."""
    if path.is_dir() and not directory:
        raise InputError(f"{path} is a directory: give a file name for this format")
    if path.exists() and directory and not path.is_dir():
        raise InputError(f"{path} is a file: give a directory for this format")
    if path.exists() and not path.is_dir() and not path.is_file():
        # os.replace would put a plain file in place of a device or a named pipe
        # (``-o /dev/stdout`` run as root replaced /dev/stdout)
        raise InputError(
            f"{path} is not a regular file (a device, a named pipe or a socket): "
            "give --out the name of a file to write"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if directory:
        path.mkdir(parents=True, exist_ok=True)


@contextmanager
def _written(path: Path) -> Iterator[Path]:
    """A temporary name beside ``path`` to write to, renamed over ``path`` once written:
    a failed export (disk full, a bad value, Ctrl-C) leaves the previous file as it was
    instead of no file, and never a half-written one. GeoPackage's own side files
    (``-wal``, ``-journal``) of the temporary are removed with it. The new file keeps
    the permissions of the one it replaces (a file shared with a group stays so)."""
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        if path.is_file():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, *(tmp.with_name(tmp.name + s) for s in ("-wal", "-shm", "-journal"))):
            leftover.unlink(missing_ok=True)


@contextmanager
def _all_written(paths: list[Path]) -> Iterator[list[Path]]:
    """:func:`_written` for the files of a folder export together: each is written under
    a temporary name and none is renamed into place until all are written, so a failed
    export leaves the previous folder whole. Until 2026-12-06 (session 40) each layer
    was renamed as it was written, and an export that failed at ``detections`` (disk
    full) left new ``sites`` and ``scenes`` beside the previous export's detections and
    counts: a folder of two exports that QGIS showed as one."""
    with ExitStack() as stack:
        yield [stack.enter_context(_written(p)) for p in paths]


def _check_not_open(out: Path) -> None:
    """:class:`InputError` when the GeoPackage ``out`` has SQLite side files beside it: a
    program has it open (QGIS keeps ``-wal`` and ``-shm`` while a layer of it is loaded)
    or it was not closed cleanly. Replacing it then is not safe: SQLite applies the old
    file's ``-wal`` (or ``-journal``) to the new file, which read as the old one (its
    layer styles, its edits) with detections missing."""
    side = [out.with_name(out.name + s) for s in ("-wal", "-shm", "-journal")]
    present = [p.name for p in side if p.exists()]
    if present:
        raise InputError(
            f"{out} is open in another program or was not closed cleanly "
            f"({', '.join(present)} beside it; QGIS keeps them while a layer of it is "
            "loaded): remove its layers from that program and export again, or give "
            "--out another name (replacing it now would mix the old file's changes into "
            f"the new one); if no program has it open, delete {' and '.join(present)}"
        )


def _arrow_writes(pyogrio: Any) -> bool:
    """Whether pyogrio writes through Arrow here (pyogrio 0.8+ on GDAL 3.8+, pyarrow
    installed), the one way it gives a GeoPackage DATE column (else the local day is
    written as text, as before 2026-12-05, session 34)."""
    import importlib.util

    gdal = tuple(getattr(pyogrio, "__gdal_version__", (0, 0, 0)))
    return (
        hasattr(pyogrio, "write_arrow")
        and gdal >= (3, 8, 0)
        and importlib.util.find_spec("pyarrow") is not None
    )


def write_gpkg(layers: dict[str, Layer], out: Path) -> Path:
    """One GeoPackage with each of ``layers`` (``counts`` as an attribute table); ``day``
    columns are DATE where pyogrio writes through Arrow (:func:`_arrow_writes`)."""
    pyogrio: Any = lazy_import("pyogrio", "gis", "GeoPackage export")
    _prepare(out, directory=False)
    _check_not_open(out)
    arrow = _arrow_writes(pyogrio)
    with _written(out) as tmp:
        for name, layer in layers.items():
            kwargs: dict[str, Any] = {"layer": name, "driver": "GPKG"}
            if layer.geometries is not None:
                kwargs["geometry_type"] = layer.geometry_type or "Unknown"
            if arrow:
                kwargs["use_arrow"] = True
            try:
                pyogrio.write_dataframe(_frame(layer, dates=arrow), tmp, **kwargs)
            except pyogrio.errors.DataSourceError as err:  # GDAL cannot create the file
                raise InputError(
                    f"cannot write the gpkg export to {out} ({err}); "
                    "give --out a path in a folder you can write to"
                ) from err
    return out


def write_geoparquet(layers: dict[str, Layer], out: Path) -> Path:
    """A directory of GeoParquet 1.1 files (``counts.parquet`` is a plain table), all
    renamed into place once every one is written (:func:`_all_written`)."""
    _prepare(out, directory=True)
    lazy_import("pyarrow", "gis", "GeoParquet export")
    with _all_written([out / f"{name}.parquet" for name in LAYER_NAMES]) as paths:
        for name, path in zip(LAYER_NAMES, paths, strict=True):
            _parquet_file(layers[name], path)
    return out


def _parquet_file(layer: Layer, path: Path) -> None:
    """``layer`` as one GeoParquet 1.1 file (a plain Parquet table without geometries)."""
    frame = _frame(layer)
    if layer.geometries is None:
        frame.to_parquet(path, index=False)
    else:
        frame.to_parquet(path, index=False, schema_version="1.1.0")


def _geojson_file(layer: Layer, path: Path) -> None:
    """``layer`` as one GeoJSON file (:func:`layer_geojson`)."""
    text = json.dumps(layer_geojson(layer), ensure_ascii=False, allow_nan=False)
    path.write_text(text, encoding="utf-8")


def write_layer_file(layer: Layer, fmt: str, out: Path) -> Path:
    """One layer alone as one ``geojson`` or ``geoparquet`` file ``out``, renamed into
    place once whole (:func:`_written`): ``railwatch export --layer``."""
    _prepare(out, directory=False)
    if fmt == "geoparquet":
        lazy_import("pyarrow", "gis", "GeoParquet export")
    with _written(out) as tmp:
        (_parquet_file if fmt == "geoparquet" else _geojson_file)(layer, tmp)
    return out


def _geojson_value(value: Any) -> Any:
    value = jsonable(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def rounded(geom: BaseGeometry, crs: str = CRS) -> BaseGeometry:
    """``geom`` with its coordinates rounded as ``railwatch detect -o`` rounds its
    GeoJSON (:func:`railwatch.detect.geojson.coordinate_digits` of ``crs``: 8 decimals
    in degrees, 1.1 mm of latitude; 3 in metres), RFC 7946 section 11.2's advice.
    Until 2026-12-06 (session 35) the GeoJSON export wrote full doubles
    (129.60833042729857: 15 decimals, a few nanometres)."""
    digits = coordinate_digits(crs)
    return shapely.transform(geom, lambda xy: np.round(xy, digits))


def layer_geojson(layer: Layer) -> dict[str, Any]:
    """One layer as an RFC 7946 FeatureCollection (WGS84 lon/lat, coordinates rounded to
    1.1 mm: :func:`rounded`)."""
    features = []
    geoms = layer.geometries
    for i, rec in enumerate(layer.records):
        geometry = shapely.geometry.mapping(rounded(geoms[i])) if geoms is not None else None
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {k: _geojson_value(v) for k, v in rec.items()},
            }
        )
    return {"type": "FeatureCollection", "name": layer.name, "features": features}


def write_geojson(layers: dict[str, Layer], out: Path) -> Path:
    """A directory with ``<layer>.geojson`` per layer, all renamed into place once every
    one is written (:func:`_all_written`)."""
    _prepare(out, directory=True)
    with _all_written([out / f"{name}.geojson" for name in LAYER_NAMES]) as paths:
        for name, path in zip(LAYER_NAMES, paths, strict=True):
            _geojson_file(layers[name], path)
    return out


def csv_value(value: Any) -> str:
    """One cell of a CSV export: empty for none and for a number that is not finite,
    ``true``/``false`` for a flag, ISO 8601 for a date or time. The API's counts CSV
    writes its cells with it too (2026-12-05, session 34), so the two CSVs of one site
    agree cell for cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if not math.isfinite(value) else repr(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


#: The name :func:`write_csv` calls (tests replace it to fail a write midway).
_csv_value = csv_value

#: Columns of the counts CSVs holding an image's share of the site, from 0 to 1 (its
#: quality), and the decimals they are written to: 4, 0.01 % of the site. The JSON
#: outputs, GeoJSON, GeoPackage and GeoParquet keep full precision.
CSV_FRACTIONS: tuple[str, ...] = ("clear_fraction", "coverage")
CSV_FRACTION_DIGITS = 4


def csv_cell(column: str, value: Any) -> str:
    """The cell of ``column`` in a counts CSV: :func:`csv_value`, a share of
    :data:`CSV_FRACTIONS` rounded to :data:`CSV_FRACTION_DIGITS` decimals (``0.8123``;
    until 2026-12-06, session 38, written as stored, ``0.8123456789``). `railwatch export
    --format csv` and the API's counts CSV write their cells with it."""
    if column in CSV_FRACTIONS and isinstance(value, float) and math.isfinite(value):
        value = round(value, CSV_FRACTION_DIGITS)
    return _csv_value(value)


def write_csv(layer: Layer, out: Path) -> Path:
    """The counts table as CSV (ISO 8601 UTC dates; empty cells for gaps; quality
    fractions to 4 decimals: :func:`csv_cell`)."""
    _prepare(out, directory=False)
    with _written(out) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(layer.columns)
        for rec in layer.records:
            writer.writerow([csv_cell(c, rec[c]) for c in layer.columns])
    return out


#: File name endings that name one export format.
SUFFIX_FORMATS: dict[str, str] = {
    ".gpkg": "gpkg",
    ".csv": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".parquet": "geoparquet",
    ".geoparquet": "geoparquet",
}


#: Endings of GIS formats railwatch does not write: a GeoPackage, CSV file or folder so
#: named is refused (``-f gpkg -o yard.shp`` wrote a GeoPackage named .shp, which QGIS
#: then tried to open as a shapefile).
OTHER_SUFFIXES: dict[str, str] = {
    ".shp": "a shapefile",
    ".shx": "a shapefile",
    ".dbf": "a shapefile",
    ".kml": "KML",
    ".kmz": "KMZ",
    ".gml": "GML",
    ".fgb": "FlatGeobuf",
    ".gpx": "GPX",
    ".tab": "MapInfo TAB",
    ".mif": "MapInfo MIF",
    ".dxf": "DXF",
    ".gdb": "an Esri file geodatabase",
    ".sqlite": "SpatiaLite",
    ".xlsx": "an Excel workbook",
    ".xls": "an Excel workbook",
    ".ods": "an OpenDocument spreadsheet",
    ".zip": "a zip archive",
}
_SPREADSHEETS = (".xlsx", ".xls", ".ods")


def check_suffix(fmt: str, out: Path, layer: str | None = None) -> None:
    """:class:`InputError` when ``out``'s ending names another format than ``fmt``:
    ``-f csv -o yard.gpkg`` wrote a CSV file named .gpkg, which QGIS then refused. With
    ``layer`` a geojson or geoparquet export is one file, whose name is suggested
    (session 47: ``-f geoparquet --layer detections -o d.geojson`` was told to give a
    folder, which ``--layer`` refuses)."""
    suffix = out.suffix.lower()
    named = SUFFIX_FORMATS.get(suffix)
    if named is not None and named != fmt:
        if fmt in ("gpkg", "csv"):
            other = f"an --out name ending in .{fmt}"
        elif layer is not None:
            ending = LAYER_FILE_SUFFIXES[fmt][0][0]
            other = f"an --out name ending in {ending} (e.g. {out.stem}{ending})"
        else:
            other = f"an --out folder for the {fmt} files (e.g. {out.stem}-{fmt})"
        raise InputError(
            f"--out {out} names a {named} output but --format is {fmt}: use --format "
            f"{named}, or {other}"
        )
    if suffix in OTHER_SUFFIXES:
        kind = OTHER_SUFFIXES[suffix]
        instead = (
            f"export the counts as CSV (--format csv --out {out.stem}.csv), which spreadsheets open"
            if suffix in _SPREADSHEETS
            else f"export a GeoPackage (--format gpkg --out {out.stem}.gpkg), which QGIS and "
            f"ArcGIS open, and convert it with ogr2ogr if you need {kind}"
        )
        raise InputError(f"--out {out} names {kind}, which railwatch does not write: {instead}")


#: The endings a format's file may have, the first the one to suggest (the folder
#: formats, geojson and geoparquet, take any folder name and refuse a file:
#: :func:`_prepare`), what the file is, and why.
FILE_SUFFIXES: dict[str, tuple[tuple[str, ...], str, str]] = {
    # the GeoPackage standard requires the ending (requirement 3), GDAL warns without
    # it and QGIS's browser does not list the file
    "gpkg": ((".gpkg",), "a GeoPackage", "GIS tools do not recognise it otherwise"),
    # `-f csv -o r2.html` replaced an HTML report with the counts (2026-12-05, session
    # 33): another ending is another kind of file (a report, an image, a document), or
    # none that a spreadsheet opens as a table; .txt is plain text, as CSV is
    "csv": (
        (".csv", ".txt"),
        "a CSV export",
        "another ending names another kind of file, which the export would replace",
    ),
}


_BY_ENDING = "GIS tools tell the format by it"
#: The endings of one layer's file of a folder format (``--layer``), as
#: :data:`FILE_SUFFIXES`, and of the folder format's files that name one file.
LAYER_FILE_SUFFIXES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "geojson": ((".geojson", ".json"), "a GeoJSON layer", _BY_ENDING),
    "geoparquet": ((".parquet", ".geoparquet"), "a GeoParquet layer", _BY_ENDING),
}
#: The formats written as a folder of one file per layer.
FOLDER_FORMATS: tuple[str, ...] = tuple(LAYER_FILE_SUFFIXES)


def check_layer(fmt: str, layer: str | None) -> None:
    """:class:`InputError` for a ``layer`` that is not one of :data:`LAYER_NAMES`, or one
    that ``fmt`` cannot hold alone (the CSV is the counts)."""
    if layer is None:
        return
    if layer not in LAYER_NAMES:
        raise InputError(f"--layer {layer!r} is not a layer: use one of {', '.join(LAYER_NAMES)}")
    if fmt == "csv" and layer != "counts":
        raise InputError(
            f"--layer {layer} with --format csv: the CSV export is the counts table alone; "
            f"for the {layer} layer use --format geojson, geoparquet or gpkg"
        )


def check_folder_name(fmt: str, out: Path, layer: str | None) -> None:
    """:class:`InputError` for a geojson or geoparquet export of every layer whose --out
    names one file of that format (``-o yard.geojson``) and is no folder yet: such an
    export is a folder of one file per layer (GeoJSON and GeoParquet hold one layer per
    file), and until 2026-12-06 (session 41) it made a folder named ``yard.geojson``,
    which a user took for the file they asked for. An existing folder of that name (an
    earlier export's) is written as before."""
    if fmt not in FOLDER_FORMATS or layer is not None or out.is_dir():
        return
    suffixes = LAYER_FILE_SUFFIXES[fmt][0]
    if out.suffix.lower() not in suffixes:
        return
    folder = out.with_name(f"{out.stem}-{fmt}")
    kind = "GeoJSON" if fmt == "geojson" else "GeoParquet"
    ext = suffixes[0]
    raise InputError(
        f"--out {out} names one {kind} file, but a {fmt} export has {len(LAYER_NAMES)} "
        f"layers and {kind} holds one layer per file: give --out a folder for them (e.g. "
        f"--out {folder}, written as {folder.name}/sites{ext}, {folder.name}/scenes{ext}, "
        f"...), or --layer with one of {', '.join(LAYER_NAMES)} to write that layer alone "
        f"to {out} (or --format gpkg --out {out.stem}.gpkg: one file with every layer)"
    )


def check_file_name(
    fmt: str, out: Path, *, link: Path | None = None, layer: str | None = None
) -> None:
    """:class:`InputError` for a GeoPackage or CSV export, or one layer's file of a
    folder format (``layer``), whose name does not end in one of the format's endings
    (:data:`FILE_SUFFIXES`, :data:`LAYER_FILE_SUFFIXES`), before anything is written: a
    file of another kind of that name is never replaced. ``link``: the symbolic link
    given as --out, which points to ``out``."""
    table = LAYER_FILE_SUFFIXES if layer is not None and fmt in FOLDER_FORMATS else FILE_SUFFIXES
    if fmt not in table:
        return
    suffixes, what, why = table[fmt]
    if out.suffix.lower() in suffixes or (out.exists() and not out.is_file()):
        return  # a folder, a pipe, a device: said as such (export_site, _prepare)
    endings = " or ".join(suffixes)
    if link is not None:
        raise InputError(
            f"--out {link} is a link to {out}, whose name does not end in {endings}: the "
            f"export would replace it with {what}; give --out another name"
        )
    name = out.stem if out.suffix else out.name
    stdout = " (or --out - for standard output)" if fmt == "csv" else ""
    raise InputError(
        f"--out {out}: {what}'s name must end in {endings} ({why}): give --out "
        f"{out.with_name(name + suffixes[0])}{stdout}"
    )


def export_site(
    db: Database, site: str, fmt: str, out: str | Path, *, layer: str | None = None
) -> Path:
    """Export every layer of ``site`` in ``fmt`` (see :data:`FORMATS`) to ``out``
    (a file for gpkg/csv, a directory for geoparquet/geojson), or with ``layer`` that
    layer alone (one file in every format; :func:`check_layer`); returns ``out``.
    ``~`` in ``out`` is the home folder; an ``out`` that is a symbolic link is written
    through (the file it points to is replaced, the link kept)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    check_layer(fmt, layer)
    path = Path(out).expanduser()
    check_suffix(fmt, path, layer)
    check_output(path, db, site_images(db, site), what=f"{fmt} export")
    check_file_name(fmt, path, layer=layer)
    check_parent_folder(path, f"the {fmt} export")
    check_folder_name(fmt, path, layer)
    if path.is_symlink():
        path = path.resolve()
        # a link yard.csv -> report.html would replace the report
        check_file_name(fmt, path, link=Path(out).expanduser(), layer=layer)
    if path.exists() and not path.is_file() and not path.is_dir():
        # /dev/stdout into a pipe, a FIFO, a device: the export is written beside its name
        # and renamed over it, which such a file cannot take
        stdout = " (the CSV goes to stdout with --out -)" if fmt == "csv" else ""
        raise InputError(
            f"--out {out} is not a regular file (a pipe, a device or a socket): exports are "
            f"written whole to a file and renamed into place; give a file name{stdout}"
        )
    # one read-only session: one snapshot of the site's layers (REPEATABLE READ on
    # PostgreSQL), and never SQLite's write lock, which made an export wait behind a
    # running ``railwatch process`` (and it behind the export) until "stayed locked"
    with db.session(readonly=True) as session:
        layers = site_layers(session, site)
    if layer is not None:
        layers = {layer: layers[layer]}
    try:
        if fmt == "gpkg":
            write_gpkg(layers, path)
        elif layer is not None and fmt in FOLDER_FORMATS:
            write_layer_file(layers[layer], fmt, path)
        elif fmt == "geoparquet":
            write_geoparquet(layers, path)
        elif fmt == "geojson":
            write_geojson(layers, path)
        else:
            write_csv(layers["counts"], path)  # the counts alone (check_layer)
    except OSError as err:
        raise InputError(
            f"cannot write the {fmt} export to {path} ({os_reason(err)}); "
            "give --out a path in a folder you can write to"
        ) from err
    return Path(out).expanduser()


__all__ = ["FORMATS", "csv_cell", "csv_value", "export_site", "layer_geojson"]
