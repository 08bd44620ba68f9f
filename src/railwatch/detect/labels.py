"""The analyst's own labelled images, for fine-tuning the default detector.

A labels directory holds images (GeoTIFF or any georeferenced raster, PNG, JPEG), each
with a label file beside it:

* ``NAME.truth.geojson`` (or ``NAME.labels.geojson``, ``NAME.geojson``,
  ``NAME.detections.geojson``, first found wins): the FeatureCollection that
  ``railwatch detect`` writes, corrected by hand (e.g. in QGIS). One Polygon per car
  (a single-part MultiPolygon is accepted too), properties ``class`` (a car class, or
  ``railcar``/``unknown``/missing for a car of unknown type: it teaches the position
  and shape but not the class) and ``covered`` (missing: false). Coordinates in the
  CRS named by the top-level ``"crs"`` member (reprojected to the image's when they
  differ), pixel (column, row) coordinates with ``"crs": null``, or RFC 7946
  longitude/latitude without a ``"crs"`` member (``railwatch detect --wgs84``).
* or DOTA text labels as ``railwatch export-labels --format dota`` writes them:
  ``labelTxt/NAME.txt`` (pixel corners ``x1 y1 ... x4 y4 class [difficult]``, an
  optional ``gsd:METRES`` line) with the image ``images/NAME.png`` or ``NAME.png``.
* or the folder ``railwatch import-labels`` writes: ``railwatch_labels.json`` (each
  image's pixel corners, class, covered flag and gsd) with ``images/NAME.png``.

Subfolders are read too, as ``railwatch eval`` reads ``--truth`` (hidden ones left out;
an image is named by its path from the folder, ``siteA/yard1``). Classes and ``covered``
are read by eval's functions (:mod:`railwatch.detect.geojson`).

Every car in a labelled image must be labelled: the rest of the image is used as
background (training crops without a label there teach "no car here"). Its no data (as
``railwatch detect`` marks it: nodata, alpha, GDAL's mask, a colour table's transparent
or missing entries, NaN, the black fill of a file that declares none) is kept as
:attr:`LabelledImage.valid`; a training crop more than :data:`MAX_NODATA_SHARE` of
which is no data is drawn again (session 31; before, such areas taught "no car here").

The ground sample distance comes from the label file's top-level ``"gsd"`` (or the DOTA
``gsd:`` line), else a sidecar ``NAME.json`` (its top-level ``{"gsd": 0.3}``, else, only
where it is a STAC item, ``properties.gsd``), else the image's geotransform. A 16-bit or
float image that is display-encoded (a visual product x257) is said so per image as
``railwatch detect --radiometry display`` records it: the label file's top-level
``"radiometry": "display"``, else the sidecar's (top-level ``{"radiometry": "display"}``,
else a STAC item's ``properties``); without either it is read as linear data. Its bands'
scale and offset are its own, else those a STAC item sidecar ``NAME.json`` declares
(``raster:bands``), as ``railwatch ingest`` and ``detect`` take them (session 31). All
problems of a directory are reported together, each with its file.

Where each image's labels come from (:attr:`LabelledImage.verified`): ``True`` for
verified labels (an analyst's: outlines reviewed in railwatch, or labels marked checked
by ``import-labels --verified``), ``False`` for the detector's boxes as ``railwatch
export-labels`` cut them (to be corrected), ``None`` where the files do not say. It is
read from an import-labels ``railwatch_labels.json`` (each image's ``verified``), from
the ``railwatch_export.json`` export-labels writes beside its DOTA ``labelTxt/`` (each
scene's ``verified`` and chips), and from a GeoJSON label file's top-level
``"verified": true|false``; a GeoJSON file that says neither but has the top-level
``detector`` member ``railwatch detect`` writes is the detector's (``False``; since
2026-12-07, session 49: ``detect``'s output left uncorrected was "not said", and
``train``, ``calibrate`` and ``eval`` gave no word that it taught or scored the detector
against itself). QGIS's "Save As" keeps no top-level member, so a corrected
``NAME.truth.geojson`` is not said.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from railwatch.detect.base import CAR_CLASSES
from railwatch.detect.model_core import WORK_GSD, WorkBox
from railwatch.errors import ImageryError, InputError, plural
from railwatch.imagery.scan import PICTURE_SUFFIXES, RASTER_SUFFIXES

if TYPE_CHECKING:
    from railwatch.imagery.read import Radiometry

#: Label file names tried for image ``NAME``, in this order.
LABEL_SUFFIXES: tuple[str, ...] = (
    ".truth.geojson",
    ".labels.geojson",
    ".geojson",
    ".detections.geojson",
)
IMAGE_SUFFIXES: tuple[str, ...] = (".tif", ".tiff", ".png", ".jpg", ".jpeg")
#: Track centrelines beside a scene (``railwatch simulate``): never a label file.
TRACKS_SUFFIX = ".tracks.geojson"
#: Class of a car whose type is not given: a training target without a class.
UNTYPED = "railcar"
#: What ``railwatch import-labels`` writes beside its images: every image's objects
#: (pixel corners, class, covered) and ground sample distance.
MANIFEST = "railwatch_labels.json"
#: What ``railwatch export-labels`` writes beside its chips
#: (:data:`railwatch.export.label_chips.MANIFEST`): each scene's chips and whether their
#: labels are verified (an analyst's outlines) or the detector's.
EXPORT_MANIFEST = "railwatch_export.json"
#: Where an image's labels come from, as :meth:`LabelledSet.provenance` counts them:
#: verified (an analyst's), the detector's (as export-labels cut them), not said.
PROVENANCE = ("verified", "detector", "unknown")
#: Label formats that carry no covered (tarpaulin) flag: their cars are left out of the
#: covered loss (until session 25 they were taught as not covered).
NO_COVERED_FLAG = ("dota", "yolo-obb")
#: Coarsest ground sample distance accepted for car labels (the detector's limit).
MAX_GSD = 1.6
#: Images finer than this are kept in memory at this ground sample distance: it holds
#: everything the working scale (0.5 m) and its ±20 % gsd jitter can use.
STORE_GSD = 0.4

#: A training crop of a labelled image more than this share of which is no data is drawn
#: again (up to :data:`NODATA_REDRAWS` times; the one with least no data is kept): no
#: data is not background, and a crop mostly of it would teach "no car here" where
#: ``railwatch detect`` reads nothing (session 31).
MAX_NODATA_SHARE = 0.25
NODATA_REDRAWS = 8
#: About how many of a file's pixels label reading reads at once to find where an image
#: it shrinks holds data (:func:`_valid_shrunk`: strips of whole block rows) and a
#: palette image's colours (:func:`_palette_shrunk`), so that a large scene is never read
#: at full size (session 31).
MASK_STRIP_PX = 1 << 22
#: A labelled polygon's oriented rectangle must fit these (metres; DOMAIN.md's cars with
#: generous slack for hand drawing). Anything else is a wrong gsd or several cars.
LENGTH_LIMITS_M = (6.0, 32.0)
WIDTH_LIMITS_M = (1.5, 5.5)
MAX_ERRORS_SHOWN = 20


@dataclass(frozen=True)
class LabelledCar:
    """One labelled car: its polygon (n, 2) in pixels of the stored image."""

    polygon: np.ndarray
    cls: str  #: one of :data:`CAR_CLASSES`, or :data:`UNTYPED`
    covered: bool


@dataclass(frozen=True, eq=False)
class LabelledImage:
    """A labelled image held in memory (RGB uint8 at ``gsd``; finer images are stored
    at :data:`STORE_GSD`) with its cars in pixels of that stored image."""

    name: str
    image_path: Path
    label_path: Path
    image: np.ndarray
    gsd: float  #: metres per pixel of ``image``
    native_gsd: float  #: metres per pixel of the file
    cars: tuple[LabelledCar, ...]
    #: the labels' format: ``geojson``, ``dota``, or for import-labels output the format
    #: it was imported from (``coco``, ``dota``, ``yolo-obb``)
    source: str = "geojson"
    #: Whether the labels are verified: True (an analyst's), False (the detector's boxes
    #: as export-labels cut them, to be corrected), None (the files do not say)
    verified: bool | None = None
    #: How the file's 16-bit or float pixels are read, as its label file or sidecar
    #: says (None: it says nothing; read as linear data)
    radiometry: Radiometry | None = None
    #: Where ``image`` holds data (bool, its shape; None: everywhere), as ``railwatch
    #: detect`` reads the file (:func:`read_label_image`)
    valid: np.ndarray | None = None
    #: The folder of chips it is one of (its DOTA folder or import-labels manifest),
    #: whose chips may overlap and label a car in each (:attr:`LabelledSet.distinct_cars`);
    #: None for an image labelled on its own (a GeoJSON label file)
    chip_of: str | None = None

    @property
    def provenance(self) -> str:
        """``verified``, ``detector`` or ``unknown`` (see :attr:`verified`)."""
        return provenance_of(self.verified)

    def by_class(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.cars:
            out[c.cls] = out.get(c.cls, 0) + 1
        return dict(sorted(out.items()))


@dataclass(frozen=True, eq=False)
class LabelledSet:
    """Every labelled image of a directory."""

    root: Path
    images: tuple[LabelledImage, ...]
    #: Images of the directory without a label file (not used).
    unlabelled: tuple[str, ...] = ()
    #: Labelled images left out by :meth:`only_verified` (their labels not verified).
    unverified: tuple[str, ...] = ()
    #: Whether :meth:`only_verified` made this set.
    verified_only: bool = False
    #: The distinct cars of each folder of chips (:attr:`LabelledImage.chip_of`), None
    #: where they cannot be known (session 40)
    chip_cars: Mapping[str, int | None] = field(default_factory=dict)

    @property
    def cars(self) -> int:
        """The labels of all the images (a car in the overlap of chips once a chip:
        :attr:`distinct_cars`)."""
        return sum(len(i.cars) for i in self.images)

    @property
    def distinct_cars(self) -> int | None:
        """The distinct cars labelled: an image labelled on its own counts its labels, a
        folder of chips the cars its export-labels manifest says they label (a car in the
        overlap of chips once); None where that cannot be known (chips without a manifest,
        or whose labels were changed since export: they may overlap). Session 40: train
        --labels counted labels of overlapping chips as cars."""
        total = 0
        for i in self.images:
            if i.chip_of is None:
                total += len(i.cars)
        for group in {i.chip_of for i in self.images if i.chip_of is not None}:
            n = self.chip_cars.get(group)
            if n is None:
                return None
            total += n
        return total

    def provenance(self) -> dict[str, int]:
        """Images by where their labels come from: ``verified`` (an analyst's),
        ``detector`` (the detector's boxes as export-labels cut them) and ``unknown``
        (the files do not say); every key is there."""
        out = dict.fromkeys(PROVENANCE, 0)
        for i in self.images:
            out[i.provenance] += 1
        return out

    def only_verified(self) -> LabelledSet:
        """The images whose labels are verified (``train --verified-only``); the others
        are named in ``unverified``. An :class:`InputError` when none is."""
        kept = tuple(i for i in self.images if i.verified is True)
        if not kept:
            raise InputError(f"no labelled image in {self.root} is verified ({_origins(self)}): "
                             + HOW_TO_VERIFY)  # fmt: skip
        dropped = tuple(i.name for i in self.images if i.verified is not True)
        # a folder of chips that lost some is no longer what its manifest counted
        lost = {i.chip_of for i in self.images if i.verified is not True}
        chip_cars = {k: (None if k in lost else v) for k, v in self.chip_cars.items()}
        return LabelledSet(
            self.root, kept, self.unlabelled, dropped, verified_only=True, chip_cars=chip_cars
        )

    def summary(self) -> dict[str, Any]:
        """What the weights' card records: the directory, each image and label file,
        its gsd, number of cars and whether its labels are verified (null: not said),
        and the images by where their labels come from (``provenance``)."""
        out: dict[str, Any] = {
            "dir": str(self.root),
            "images": [
                {
                    "image": _relative(i.image_path, self.root),
                    "labels": _relative(i.label_path, self.root),
                    "gsd": round(i.native_gsd, 4),
                    "cars": len(i.cars),
                    "by_class": i.by_class(),
                    "verified": i.verified,
                }
                for i in self.images
            ],
            "cars": self.cars,
            "distinct_cars": self.distinct_cars,
            "provenance": self.provenance(),
        }
        if self.verified_only:
            out["verified_only"] = True
            out["unverified_left_out"] = len(self.unverified)
        return out


#: How to get verified labels, for messages.
HOW_TO_VERIFY = (
    "review scenes with outlines (railwatch scene review ID --cars corrected.geojson) and "
    "export them with export-labels --reviewed-only, or, once you have checked every "
    "image's labels in a labelling tool, import them with railwatch import-labels "
    '--verified (GeoJSON label files: a top-level "verified": true)'
)


def provenance_of(verified: bool | None) -> str:
    """``verified``, ``detector`` or ``unknown`` for a :attr:`LabelledImage.verified`."""
    return "unknown" if verified is None else "verified" if verified else "detector"


def describe_provenance(counts: Mapping[str, int]) -> str:
    """``3 verified (an analyst's), 5 the detector's (unverified), 1 not said``: the
    non-zero counts of :meth:`LabelledSet.provenance`."""
    words = {
        "verified": "verified (an analyst's)",
        "detector": "the detector's (unverified)",
        "unknown": "not said",
    }
    parts = [f"{counts[k]} {words[k]}" for k in PROVENANCE if counts.get(k)]
    return ", ".join(parts) or "none"


def _origins(labelled: LabelledSet) -> str:
    return describe_provenance(labelled.provenance())


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (its name for a file at the top)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


class _Problems:
    """Collects ``file: message`` problems and raises them together."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: Path, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def raise_if_any(self, root: Path) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_ERRORS_SHOWN]
        more = len(self.items) - len(shown)
        tail = f" (and {more} more)" if more else ""
        raise InputError(
            f"{plural(len(self.items), 'problem')} with the labels in {root}{tail}; fix them and "
            "run the command again: " + "; ".join(shown)
        )


# ----------------------------------------------------------------------------- parsing


def parse_class(value: object) -> str:
    """A label's class: a car class, or :data:`UNTYPED` for none/``railcar``/``unknown``,
    read as ``railwatch eval`` reads truth files (:func:`railwatch.detect.geojson.
    parse_class`: case, spaces, ``_``/``-`` and a trailing ``car`` do not matter, so
    ``Tank car`` is tank). Raises :class:`InputError` for anything else."""
    from railwatch.detect.geojson import parse_class as read_class

    try:
        return read_class(value)
    except InputError as err:
        raise InputError(
            f"unknown class {value!r}: use one of {', '.join(CAR_CLASSES)} (case, spaces and "
            f"a trailing 'car' do not matter: 'Tank car' is tank), or {UNTYPED} for a car of "
            "unknown type"
        ) from err


def _parse_covered(value: object) -> bool:
    """A label's ``covered`` flag, read as ``railwatch eval`` reads it
    (:func:`railwatch.detect.geojson.parse_covered`: true/false, yes/no, 1/0)."""
    from railwatch.detect.geojson import parse_covered

    try:
        return parse_covered(value)
    except InputError as err:
        raise InputError(
            f"'covered' must be true or false (also read: yes/no, 1/0), got {value!r}"
        ) from err


def _ring(geom: object) -> np.ndarray:
    """The exterior ring (n, 2) of a GeoJSON Polygon (or single-part MultiPolygon)."""
    if not isinstance(geom, Mapping):
        raise InputError("has no geometry: draw each car as a polygon")
    kind = geom.get("type")
    coords = geom.get("coordinates")
    if kind == "MultiPolygon" and isinstance(coords, list) and len(coords) == 1:
        kind, coords = "Polygon", coords[0]
    if kind != "Polygon":
        what = f"a {kind}" if kind != "MultiPolygon" else "a MultiPolygon of several parts"
        raise InputError(f"is {what}, not a Polygon: draw each car as one polygon")
    try:
        ring = np.asarray(coords[0], dtype=np.float64)[:, :2]  # type: ignore[index]
    except (TypeError, ValueError, IndexError) as err:
        raise InputError(f"has malformed Polygon coordinates ({err})") from err
    if ring.ndim != 2 or len(ring) < 4 or not np.isfinite(ring).all():
        raise InputError("needs a closed ring of at least 3 distinct finite corners")
    return ring


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if math.isfinite(v) and v > 0 else None


#: What shows that a sidecar ``NAME.json`` that is not valid JSON was meant for label
#: reading: a STAC item's keys, or those read here (``imagery.inspect.meant_key``).
_SIDECAR_KEYS = ("gsd", "radiometry")


def sidecar_value(image: Path, key: str) -> object:
    """``key`` of the sidecar ``NAME.json``: its top-level member (label reading's own
    sidecar, ``{"gsd": 0.3}``), else, only where the file is a STAC item
    (:func:`railwatch.imagery.inspect.is_stac_item`), its ``properties`` member; another
    tool's JSON with a ``properties`` object is left alone (until session 31 its
    ``properties.gsd`` was read; eval's truth path reads a STAC item's only). One that
    is not valid JSON is refused where it looks meant for railwatch (it names a STAC
    item's keys, ``gsd`` or ``radiometry``), else left alone as another tool's, by the
    rule every reader of the image applies (``imagery.inspect.sidecar_json``)."""
    from railwatch.imagery.inspect import ITEM_MARKS, is_stac_item, meant_key, sidecar_json

    side = image.with_suffix(".json")
    if not side.is_file():
        return None
    try:
        raw = side.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read the {key} sidecar {side}: {err}") from err
    try:
        # UTF-8 whatever the locale; a byte-order mark (Windows tools) is no error
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        if meant_key(raw.decode("utf-8", "replace"), (*ITEM_MARKS, *_SIDECAR_KEYS)) is None:
            return None  # another tool's file
        raise InputError(
            f"cannot read the {key} sidecar {side}: not UTF-8 text ({err.reason} at byte "
            f"{err.start}): save it as UTF-8"
        ) from err
    except json.JSONDecodeError as err:
        try:  # refused as every reader refuses it, where it looks meant for railwatch
            sidecar_json(side, image.name, keys=(*ITEM_MARKS, *_SIDECAR_KEYS))
        except ImageryError as refused:
            raise InputError(f"cannot read the {key} sidecar: {refused}") from err
        return None  # another tool's file
    if not isinstance(doc, Mapping):
        return None
    if key in doc:
        return doc[key]
    return doc["properties"].get(key) if is_stac_item(doc) else None


def _sidecar_gsd(image: Path) -> float | None:
    return _number(sidecar_value(image, "gsd"))


def radiometry_member(value: object, where: str) -> Radiometry | None:
    """A ``radiometry`` member (None when absent), or an :class:`InputError`."""
    from railwatch.imagery.read import parse_radiometry

    if value is None:
        return None
    if not isinstance(value, str):
        value = repr(value)
    return parse_radiometry(value, option=f"{where} 'radiometry'")


def _crs_name(fc: Mapping[str, Any]) -> str | None:
    from railwatch.detect.geojson import crs_of_collection

    return crs_of_collection(fc)


# ----------------------------------------------------------------------------- images


@dataclass(frozen=True)
class _Raster:
    """An opened image's geometry (the pixels are read later, decimated)."""

    path: Path
    width: int
    height: int
    crs: Any  #: rasterio CRS or None
    transform: Any
    gsd: float | None  #: from the geotransform, None when not georeferenced


def _open(path: Path) -> _Raster:
    from railwatch.detect.api import gsd_of
    from railwatch.imagery.read import open_raster

    ds = open_raster(path, error=InputError)
    with ds:
        georef = ds.crs is not None
        return _Raster(
            path,
            int(ds.width),
            int(ds.height),
            ds.crs if georef else None,
            ds.transform,
            gsd_of(ds) if georef else None,
        )


def _read_pixels(
    path: Path,
    width: int,
    height: int,
    radiometry: Radiometry = "linear",
    *,
    gsd: float | None = None,
    command: str = "railwatch train --labels",
) -> np.ndarray:
    """The pixels of :func:`read_label_image` (its no data black, as detect reads it)."""
    return read_label_image(path, width, height, radiometry, gsd=gsd, command=command)[0]


def read_label_image(
    path: Path,
    width: int,
    height: int,
    radiometry: Radiometry = "linear",
    *,
    gsd: float | None = None,
    command: str = "railwatch train --labels",
) -> tuple[np.ndarray, np.ndarray | None]:
    """RGB uint8 (height, width, 3), area-averaged from the file when smaller, mapped as
    ``railwatch detect`` maps its windows (:func:`railwatch.detect.api.file_reading`, one
    rule since session 31): a colour table read as its colours (before, its indexes as
    grey); 16-bit and float data mapped as ``radiometry`` says, with the bands' scale and
    offset, the file's own, else those the STAC item beside it declares (as ``railwatch
    ingest`` takes them), stretched by the range measured with ``gsd`` (the image's
    metres per pixel; None: the file's own), so that the black fill of a file without
    georeference is left out of it as ``detect --gsd`` leaves it out (before, it was
    counted). The bands are chosen as ``detect`` chooses them (:func:`railwatch.imagery.
    read.file_bands`); an item that cannot be applied says to run ``command`` again (the
    one the user ran: ``train --labels``, ``calibrate --labels``, ``eval``,
    ``import-labels``).

    Also where the pixels hold data (bool, None: everywhere), by detect's rule for a
    window (:func:`railwatch.detect.api.window_valid`: GDAL's mask, an undeclared alpha
    band, a colour table's transparent and missing entries, NaN, the black fill of a
    file that declares no nodata), a stored pixel valid where most of the file's pixels
    under it are; no-data pixels are black (session 31; before, no data was read as
    ground). An image read smaller than the file has its valid pixels found strip by
    strip (:func:`_valid_shrunk`; until the session-31 follow-up the file's bands were
    read once more at full size for it: GBs for a large 16-bit scene), a palette image's
    index band likewise (:func:`_palette_shrunk`; before, read whole and its colours
    built at full size)."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
    from rasterio.windows import Window as RioWindow

    from railwatch.detect.api import file_reading, window_valid
    from railwatch.imagery.read import file_bands, stretch_to_uint8

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as ds:
                bands, _ = file_bands(ds, path)
                how = file_reading(ds, path, bands, gsd=gsd, radiometry=radiometry, command=command)
                whole = RioWindow(0, 0, ds.width, ds.height)
                if how.masks.lut is not None and height <= ds.height and width <= ds.width:
                    # strip by strip, never the index band or its colours at full size
                    return _palette_shrunk(ds, bands, how.masks, width, height)
                if how.masks.lut is not None:  # enlarged (no caller does): no larger
                    index = ds.read(bands[0])
                    valid = window_valid(ds, bands, whole, index[None], how.masks, index=index)
                    return _palette_pixels(index, how.masks.lut, width, height, valid)
                data = ds.read(bands, out_shape=(3, height, width), resampling=Resampling.average)
                if (height, width) == (ds.height, ds.width):
                    valid = _shrunk(window_valid(ds, bands, whole, data, how.masks), width, height)
                elif height <= ds.height and width <= ds.width:
                    # strip by strip, never the file's bands at full size at once
                    valid = _valid_shrunk(ds, bands, how.masks, width, height)
                else:  # enlarged (no caller does): the file read whole is no larger
                    raw = ds.read(bands)
                    valid = _shrunk(window_valid(ds, bands, whole, raw, how.masks), width, height)
                    del raw
    except ImageryError as err:  # the sidecar item (not JSON, or scales it cannot have)
        raise InputError(str(err)) from err
    except RasterioIOError as err:
        raise InputError(
            f"cannot read the pixels ({err}): the file is damaged or cut short; copy or "
            "export it again, or move it and its label file out of the folder"
        ) from err
    if data.dtype.kind == "f":  # NaN is no data (window_valid), read as 0
        data = np.where(np.isfinite(data), data, 0.0).astype(data.dtype)
    if how.scale is not None:  # as detection reads the file
        lo, hi = how.scale
        data = np.stack(
            [
                stretch_to_uint8(data[i], lo[i], hi[i], radiometry=radiometry)
                for i in range(len(data))
            ]
        )
    out: np.ndarray = np.ascontiguousarray(
        np.clip(data, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    )
    if valid is not None:
        out[~valid] = 0
    return out, valid


def _shrunk(valid: np.ndarray | None, width: int, height: int) -> np.ndarray | None:
    """``valid`` (the file's pixels) at ``width`` x ``height``: a pixel valid where most
    of the file's pixels under it are (None stays None: every pixel valid)."""
    if valid is None:
        return None
    if valid.shape != (height, width):
        share = cv2.resize(valid.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
        valid = share >= 0.5
    return None if valid.all() else valid


def _area_weights(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How ``n`` pixels shrunk to ``m`` (``m <= n``) are shared out by area: pixel ``j``
    spans ``[j m, (j + 1) m)`` and shrunk pixel ``d`` spans ``[d n, (d + 1) n)``, so
    each pixel overlaps one shrunk pixel (``first[j]``) by ``head[j]`` and the next by
    ``m - head[j]`` (``tail``), in integers: a shrunk pixel is covered ``n`` in all."""
    j = np.arange(n, dtype=np.int64)
    first = j * m // n
    head = np.minimum((j + 1) * m, (first + 1) * n) - j * m
    return first, head, m - head


def _strips(ds: Any) -> list[tuple[int, int]]:
    """The rows (first, past the last) of the strips label reading reads ``ds`` in: whole
    block rows of about :data:`MASK_STRIP_PX` pixels."""
    block = max(1, int(ds.block_shapes[0][0]))
    rows = max(block, MASK_STRIP_PX // max(1, ds.width) // block * block)
    return [(r, min(r + rows, ds.height)) for r in range(0, ds.height, rows)]


def _valid_shrunk(
    ds: Any, bands: Sequence[int], masks: Any, width: int, height: int
) -> np.ndarray | None:
    """Where the file ``ds`` (read as ``bands``, ``masks`` as detect reads it) holds data
    at ``width`` x ``height`` (``masks``: ``detect.api._Masks``), a stored pixel valid
    where at least half of the file's pixels under it (by area) are, as :func:`_shrunk`
    of detect's rule for the whole file (:func:`railwatch.detect.api.window_valid`),
    None where every stored pixel is valid. Read in strips of whole block rows of about
    :data:`MASK_STRIP_PX` pixels, each reduced to the shrunk grid in integers (exact; an
    area average in float32 put a pixel exactly half valid either side of one half by
    rounding), so a large scene is never held at full size. The black fill of a file
    that declares no nodata (``masks.fill_gsd``) is measured over the whole file as
    before: its regions are joined across strips (:class:`_StripRegions`), and the
    strips a region crossing into another holds are read a second time."""
    from dataclasses import replace

    from rasterio.windows import Window as RioWindow

    from railwatch.detect.api import window_valid

    strips = _strips(ds)
    plain = replace(masks, fill_gsd=None)  # the fill: over the whole file, below
    regions = _StripRegions(masks.fill_gsd) if masks.fill_gsd else None
    ys, xs = _area_weights(ds.height, height), _area_weights(ds.width, width)
    starts = np.searchsorted(xs[0], np.arange(width))
    covered = np.zeros((height + 1, width), np.int64)
    any_invalid = False

    def read(k: int) -> tuple[np.ndarray, np.ndarray | None]:
        r0, r1 = strips[k]
        rw = RioWindow(0, r0, ds.width, r1 - r0)
        raw = ds.read(bands, window=rw)
        return raw, window_valid(ds, bands, rw, raw, plain)

    def add(k: int, valid: np.ndarray | None) -> None:
        r0, r1 = strips[k]
        if valid is None:
            valid = np.ones((r1 - r0, ds.width), bool)
        across = np.add.reduceat(valid * xs[1], starts, axis=1)
        spill = np.add.reduceat(valid * xs[2], starts, axis=1)
        across[:, 1:] += spill[:, :-1]  # the part of a pixel in the next shrunk column
        first, head, tail = (w[r0:r1] for w in ys)
        np.add.at(covered, first, across * head[:, None])
        np.add.at(covered, first + 1, across * tail[:, None])

    pending: list[int] = []
    for k, (r0, r1) in enumerate(strips):
        raw, valid = read(k)
        if regions is not None:
            fill = regions.add(raw, top=r0 > 0, bottom=r1 < ds.height)
            del raw
            if fill is None:  # a region crosses into the next strip or the last one
                pending.append(k)
                continue
            if fill.any():
                valid = ~fill if valid is None else valid & ~fill
        any_invalid |= valid is not None
        add(k, valid)
    for k in pending:  # the regions' areas are known now
        raw, valid = read(k)
        fill = regions.fill(k, raw) if regions is not None else None
        del raw
        if fill is not None and fill.any():
            valid = ~fill if valid is None else valid & ~fill
        any_invalid |= valid is not None
        add(k, valid)
    if not any_invalid:
        return None
    shrunk = 2 * covered[:height] >= ds.height * ds.width
    return None if shrunk.all() else shrunk


class _StripRegions:
    """The black fill of a file read in strips (:func:`_valid_shrunk`), as
    :func:`railwatch.imagery.read.undeclared_fill` finds it in the whole file: pixels 0
    in every band in 8-connected regions of at least ``FILL_MIN_M2`` at ``gsd``. Each
    strip's regions are labelled (OpenCV's labelling, the same again when a strip is
    read again), numbered on after the previous strip's, and joined to them where they
    touch across the rows between the strips."""

    def __init__(self, gsd: float) -> None:
        self.gsd = float(gsd)
        self.offsets: list[int] = []  # each strip's first number (its label 0)
        self.areas: list[np.ndarray] = []  # each strip's regions' areas (pixels)
        self.parent: dict[int, int] = {}  # numbers joined (union-find)
        self.last: np.ndarray | None = None  # the previous strip's bottom row, numbered
        self.size = 0
        self._sums: dict[int, int] | None = None  # joined regions' areas, by root
        self._members: list[int] = []  # the numbers joined to others

    @staticmethod
    def _labels(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        zero = (raw == 0).all(axis=0)
        _, labels, stats, _ = cv2.connectedComponentsWithStats(
            zero.astype(np.uint8), connectivity=8
        )
        return labels, stats[:, cv2.CC_STAT_AREA].astype(np.int64)

    def _root(self, g: int) -> int:
        path = []
        while (up := self.parent.get(g, g)) != g:
            path.append(g)
            g = up
        for p in path:
            self.parent[p] = g
        return g

    def _big(self, area: np.ndarray, labels: np.ndarray) -> np.ndarray:
        from railwatch.imagery.read import FILL_MIN_M2

        big = area * self.gsd * self.gsd >= FILL_MIN_M2  # as undeclared_fill
        big[0] = False  # not 0 in every band
        return np.asarray(big[labels], dtype=bool)

    def add(self, raw: np.ndarray, *, top: bool, bottom: bool) -> np.ndarray | None:
        """Label the next strip's ``raw`` bands (``top``/``bottom``: other strips lie
        above/below it): its fill where all its regions are its own, else None (read it
        again for :meth:`fill` once every strip was added)."""
        labels, area = self._labels(raw)
        offset = self.size
        self.offsets.append(offset)
        self.areas.append(area)
        self.size += len(area)
        crossing = False
        if top and self.last is not None:
            above, below = self.last, labels[0]
            n = len(below)
            for dc in (-1, 0, 1):  # 8-connected across the rows between the strips
                a = above[max(0, -dc) : n - max(0, dc)]
                b = below[max(0, dc) : n - max(0, -dc)]
                both = (a > 0) & (b > 0)
                if not both.any():
                    continue
                crossing = True
                for ga, lb in set(zip(a[both].tolist(), b[both].tolist(), strict=True)):
                    ra, rb = self._root(ga), self._root(offset + lb)
                    if ra != rb:
                        self.parent[max(ra, rb)] = min(ra, rb)
        self.last = np.where(labels[-1] > 0, labels[-1] + offset, 0)
        if crossing or (bottom and bool((labels[-1] > 0).any())):
            return None
        return self._big(area, labels)

    def fill(self, k: int, raw: np.ndarray) -> np.ndarray:
        """Strip ``k``'s fill (its ``raw`` bands read again), each of its regions
        measured with the parts of it in the other strips."""
        if self._sums is None:
            total = np.concatenate(self.areas)  # by number
            self._members = sorted(set(self.parent) | {self._root(g) for g in self.parent})
            self._sums = {}
            for g in self._members:
                r = self._root(g)
                self._sums[r] = self._sums.get(r, 0) + int(total[g])
        labels, area = self._labels(raw)
        offset = self.offsets[k]
        full = area.copy()
        for g in self._members:  # its regions joined to others
            if offset < g < offset + len(area):
                full[g - offset] = self._sums[self._root(g)]
        return self._big(full, labels)


def _palette_shrunk(
    ds: Any, bands: Sequence[int], masks: Any, width: int, height: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """A palette file's colours at ``width`` x ``height`` (``<=`` the file's; ``masks``:
    ``detect.api._Masks`` with its colour table ``lut``) and where they hold data (None:
    everywhere), read in strips of the index band (:func:`_strips`) so that a large
    scene's indexes and colours are never held at full size (session 31; before, the
    whole index band was read and each colour plane built at full size: several hundred
    MB for a large 16-bit scene). Each strip's colours (:func:`railwatch.imagery.read.
    palette_colours`, no data black: detect's rule, :func:`railwatch.detect.api.
    window_valid`) and valid pixels are reduced to the shrunk grid by area in integers
    (:func:`_area_weights`), and a shrunk row is finished once no later strip reaches
    it. A stored pixel's colour is the exact area average rounded half up (OpenCV's
    area average, used before, differs from it by at most 1 where the shrink is not
    a whole number of pixels); it is valid where at least half of the file's pixels
    under it are, as :func:`_valid_shrunk` (before, a float area average put some
    exactly half valid pixels below one half), and black where it is not."""
    from rasterio.windows import Window as RioWindow

    from railwatch.detect.api import window_valid
    from railwatch.imagery.read import palette_colours

    lut = masks.lut
    ys, xs = _area_weights(ds.height, height), _area_weights(ds.width, width)
    starts = np.searchsorted(xs[0], np.arange(width))
    total = ds.height * ds.width  # each shrunk pixel's area in (1/width x 1/height) units
    out = np.zeros((height, width, 3), np.uint8)
    shrunk = np.ones((height, width), bool)
    carry = np.zeros((0, width, 4), np.int64)  # rows base.. begun, not finished
    base = 0
    any_invalid = False
    for r0, r1 in _strips(ds):
        rw = RioWindow(0, r0, ds.width, r1 - r0)
        index = ds.read(bands[0], window=rw)
        valid = window_valid(ds, bands, rw, index[None], masks, index=index)
        any_invalid |= valid is not None
        first, head, tail = (w[r0:r1] for w in ys)
        acc = np.zeros((int(first[-1]) + 2 - base, width, 4), np.int64)
        acc[: len(carry)] = carry
        for c in range(4):  # red, green, blue (one plane at a time), valid
            if c < 3:
                plane = palette_colours(index, lut[:, c : c + 1])[0][..., 0]
                if valid is not None:
                    plane[~valid] = 0
            else:
                plane = np.ones(index.shape, bool) if valid is None else valid
            across = np.add.reduceat(plane * xs[1], starts, axis=1)
            spill = np.add.reduceat(plane * xs[2], starts, axis=1)
            across[:, 1:] += spill[:, :-1]  # the part of a pixel in the next column
            np.add.at(acc[..., c], first - base, across * head[:, None])
            np.add.at(acc[..., c], first + 1 - base, across * tail[:, None])
            del plane, across, spill
        del index, valid
        done = (int(ys[0][r1]) if r1 < ds.height else height) - base  # no later strip
        part = acc[:done]
        out[base : base + done] = (2 * part[..., :3] + total) // (2 * total)
        shrunk[base : base + done] = 2 * part[..., 3] >= total
        carry = acc[done:]
        base += done
    if not any_invalid or shrunk.all():
        return out, None
    out[~shrunk] = 0
    return out, shrunk


def _palette_pixels(
    index: np.ndarray,
    lut: np.ndarray,
    width: int,
    height: int,
    valid: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Of an image read larger than its file only (no caller does; a smaller one is
    read in strips, :func:`_palette_shrunk`): a colour table's colours (``lut``, as
    detect reads them: :func:`railwatch.imagery.read.palette_colours`) of the full-size
    ``index``, no data
    (``valid`` False) black, area-averaged to ``width`` x ``height`` (the colours, never
    the indexes, are averaged; one colour plane at a time, so no full-size RGB copy is
    held besides the result), with ``valid`` shrunk to it (:func:`_shrunk`)."""
    from railwatch.imagery.read import palette_colours

    same = index.shape == (height, width)

    def plane(c: int) -> np.ndarray:
        colour = palette_colours(index, lut[:, c : c + 1])[0][..., 0]
        if valid is not None:
            colour[~valid] = 0
        if same:
            return colour
        return np.asarray(cv2.resize(colour, (width, height), interpolation=cv2.INTER_AREA))

    planes = [plane(c) for c in range(3)]
    out = np.ascontiguousarray(np.stack(planes, axis=-1))
    shrunk = _shrunk(valid, width, height)
    if shrunk is not None:
        out[~shrunk] = 0
    return out, shrunk


def _crs_label(crs: Any) -> str:
    """``EPSG:32633`` for a rasterio CRS with an EPSG code, else its short text."""
    epsg = crs.to_epsg() if crs is not None else None
    return f"EPSG:{epsg}" if epsg else str(crs)[:60]


def _to_pixels(rings: list[np.ndarray], crs: str | None, raster: _Raster) -> list[np.ndarray]:
    """Label coordinates in ``crs`` (None: pixels) to pixel coordinates of ``raster``."""
    from railwatch.detect.geojson import WGS84, is_geographic

    if crs is None:
        return rings
    if raster.crs is None:
        if crs == WGS84:
            # also a 'crs' member naming CRS84 or EPSG:4326: what QGIS writes when it
            # saves a layer of pixel coordinates, which it reads as EPSG:4326 (until
            # session 49 said "has no 'crs' member" of such a file, which has one)
            raise InputError(
                "has longitude/latitude coordinates (no 'crs' member, or one naming "
                f"EPSG:4326 or CRS84), but {raster.path.name} is not georeferenced: for "
                'pixel coordinates set "crs": null in the file (QGIS saves a layer of '
                "pixel coordinates as EPSG:4326: edit that line in a text editor after "
                "saving), or label the georeferenced image"
            )
        raise InputError(
            f"has coordinates in {crs} but {raster.path.name} is not georeferenced: label "
            'it in pixel coordinates ("crs": null) or use the georeferenced image'
        )
    if is_geographic(crs):
        # any longitude/latitude CRS (NAD83's EPSG:4269, OGC:CRS84, ...): until
        # 2026-12-05 (session 34) EPSG:4326 alone, and metres under another were read as
        # degrees, each car then "0.0 m x 0.0 m ... not one railcar"
        allc = np.concatenate(rings) if rings else np.zeros((0, 2))
        if len(allc) and (
            not np.isfinite(allc).all()
            or np.abs(allc[:, 0]).max() > 180
            or np.abs(allc[:, 1]).max() > 90
        ):
            # also said of a file whose 'crs' member names EPSG:4326 (it has one)
            said = (
                "which a file without a 'crs' member (RFC 7946) or with one naming EPSG:4326 "
                "must have"
                if crs == WGS84
                else f"which its 'crs' member names ({crs}, a longitude/latitude CRS)"
            )
            raise InputError(
                f"its coordinates are not longitude/latitude, {said}: give the 'crs' member "
                f"of the image's CRS ({_crs_label(raster.crs)}), or "
                '"crs": null for pixel coordinates'
            )
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        src = CRS.from_user_input(crs)
    except CRSError as err:
        raise InputError(f"names an unknown CRS {crs!r} ({err})") from err
    dst = CRS.from_user_input(raster.crs.to_wkt())
    if src != dst:
        tr = Transformer.from_crs(src, dst, always_xy=True)
        moved = []
        for r in rings:
            x, y = tr.transform(r[:, 0], r[:, 1])
            moved.append(np.stack([np.asarray(x), np.asarray(y)], axis=1))
        rings = moved
    from railwatch.imagery._geo import xy_to_pixels

    return [xy_to_pixels(raster.transform, r) for r in rings]


# ----------------------------------------------------------------------------- files


@dataclass(frozen=True)
class _Label:
    """One label file parsed: rings in its own frame, classes, flags, frame, gsd."""

    rings: list[np.ndarray]
    classes: list[str]
    covered: list[bool]
    crs: str | None
    gsd: float | None
    #: feature numbers (GeoJSON index or DOTA line) for messages
    where: list[str]
    #: the top-level ``radiometry`` (what ``railwatch detect --radiometry`` records)
    radiometry: Radiometry | None = None
    #: the format (see :attr:`LabelledImage.source`)
    source: str = "geojson"
    #: the image's width and height the labels were drawn on (import-labels records it)
    size: tuple[int, int] | None = None
    #: whether the labels are verified, as the file says (None: it does not)
    verified: bool | None = None
    #: the image file the labels were made on, as the file's top-level ``source`` names
    #: it (what ``railwatch detect`` writes); None when it names none
    made_from: str | None = None


#: Suffixes by which a label file's top-level ``source`` is taken to name an image file
#: (``railwatch detect`` writes the image's name there; ``scene cars`` writes
#: ``detector`` or ``analyst``, which names none): the rasters and pictures the scan
#: knows (:mod:`railwatch.imagery.scan`).
_SOURCE_IMAGE_SUFFIXES = RASTER_SUFFIXES | PICTURE_SUFFIXES


def made_from(value: object) -> str | None:
    """The image file name a label file's top-level ``source`` gives, or None where it
    gives none (absent, not a string, or a word that is no file name)."""
    if not isinstance(value, str):
        return None
    name = value.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name if Path(name).suffix.lower() in _SOURCE_IMAGE_SUFFIXES else None


def is_detect_output(fc: Mapping[str, Any]) -> bool:
    """Whether a GeoJSON object is ``railwatch detect``'s output as it wrote it (its
    top-level ``detector`` and ``detector_version``, which a GIS tool's "Save As"
    drops) and says nothing of being verified."""
    return (
        isinstance(fc.get("detector"), str)
        and "detector_version" in fc
        and fc.get("verified") is None
    )


def same_image(made_on: str, stem: str) -> bool:
    """Whether an image file name a label or detections file names (:func:`made_from`)
    is the image of ``stem`` (suffix and case aside: a TIFF saved as PNG is the same
    image)."""
    return Path(made_on).stem.lower() == stem.lower()


def _read_label_text(path: Path, problems: _Problems) -> str | None:
    """A label file's text (UTF-8; a byte-order mark as Windows tools write is dropped),
    or None with the problem recorded."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        problems.add(path, f"not UTF-8 text ({err.reason} at byte {err.start}): save it as UTF-8")
    except OSError as err:
        problems.add(path, f"cannot read the label file ({err.strerror or err})")
    return None


def _read_geojson(path: Path, problems: _Problems) -> _Label | None:
    text = _read_label_text(path, problems)
    if text is None:
        return None
    if not text.strip():
        problems.add(
            path,
            "is empty: save the corrected FeatureCollection there (an image without cars "
            'needs {"type": "FeatureCollection", "features": []}), or delete the file',
        )
        return None
    try:
        fc = json.loads(text)
    except json.JSONDecodeError as err:
        problems.add(
            path, f"cannot read the label file: not valid JSON ({err}); save it as GeoJSON"
        )
        return None
    if not isinstance(fc, Mapping) or fc.get("type") != "FeatureCollection":
        problems.add(path, "not a GeoJSON FeatureCollection (what railwatch detect writes)")
        return None
    try:
        crs = _crs_name(fc)
    except InputError as err:
        problems.add(path, str(err))
        return None
    rings, classes, covered, where = [], [], [], []
    ok = True
    feats = fc.get("features")
    if not isinstance(feats, list):
        problems.add(path, "has no 'features' list")
        return None
    for k, feat in enumerate(feats):
        tag = f"feature {k}"
        if not isinstance(feat, Mapping):
            problems.add(path, f"{tag} is not a GeoJSON Feature")
            ok = False
            continue
        props = feat.get("properties") or {}
        if not isinstance(props, Mapping):
            props = {}
        try:
            ring = _ring(feat.get("geometry"))
        except InputError as err:
            problems.add(path, f"{tag} {err}")
            ok = False
            continue
        try:
            cls = parse_class(props.get("class"))
            cov = _parse_covered(props.get("covered"))
        except InputError as err:
            problems.add(path, f"{tag}: {err}")
            ok = False
            continue
        rings.append(ring)
        classes.append(cls)
        covered.append(cov)
        where.append(tag)
    gsd = _number(fc.get("gsd"))
    if fc.get("gsd") is not None and gsd is None:
        problems.add(path, f"'gsd' must be a positive number of metres, got {fc.get('gsd')!r}")
        ok = False
    try:
        radiometry = radiometry_member(fc.get("radiometry"), "its top-level")
    except InputError as err:
        problems.add(path, str(err))
        ok = False
    verified = fc.get("verified")
    if verified is not None and not isinstance(verified, bool):
        problems.add(
            path,
            f"its top-level 'verified' must be true (labels checked by an analyst) or false "
            f"(the detector's, not checked), got {verified!r}; leave it out when unknown",
        )
        ok = False
    if not ok:
        return None
    if verified is None and is_detect_output(fc):
        verified = False  # railwatch detect's output, as it wrote it: the detector's
    return _Label(
        rings,
        classes,
        covered,
        crs,
        gsd,
        where,
        radiometry,
        verified=verified,
        made_from=made_from(fc.get("source")),
    )


def _read_dota(path: Path, problems: _Problems) -> _Label | None:
    text = _read_label_text(path, problems)
    if text is None:
        return None
    lines = text.splitlines()
    rings, classes, covered, where = [], [], [], []
    gsd: float | None = None
    ok = True
    for n, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("imagesource:"):
            continue
        if line.startswith("gsd:"):
            try:
                gsd = _number(float(line[4:]))
            except ValueError:
                gsd = None
            if gsd is None:
                problems.add(path, f"line {n}: gsd must be a positive number of metres")
                ok = False
            continue
        parts = line.split()
        if len(parts) not in (9, 10):
            problems.add(path, f"line {n}: expected 'x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]'")
            ok = False
            continue
        try:
            vals = [float(p) for p in parts[:8]]
            cls = parse_class(parts[8])
        except ValueError as err:
            msg = str(err) if isinstance(err, InputError) else "corners must be numbers"
            problems.add(path, f"line {n}: {msg}")
            ok = False
            continue
        quad = np.asarray(vals, dtype=np.float64).reshape(4, 2)
        if not np.isfinite(quad).all():
            problems.add(path, f"line {n}: corners must be finite numbers")
            ok = False
            continue
        rings.append(np.concatenate([quad, quad[:1]]))
        classes.append(cls)
        covered.append(False)
        where.append(f"line {n}")
    if not ok:
        return None
    return _Label(rings, classes, covered, None, gsd, where, source="dota")


def _manifest_class(obj: Mapping[str, Any]) -> str:
    """An object's class in ``railwatch_labels.json``: ``class`` (its name since session
    39), else ``cls`` (the only key import-labels wrote before; it still writes both for
    one release). Each key present is checked alike (:func:`parse_class`); both present
    and naming different classes is an :class:`InputError` giving both values."""
    given = {key: parse_class(obj[key]) for key in ("class", "cls") if key in obj}
    if len(given) == 2 and given["class"] != given["cls"]:
        raise InputError(
            f"'class' is {obj['class']!r} but 'cls' is {obj['cls']!r}: they must name the "
            "same class ('cls' is its name before session 39); correct one of them or drop "
            "'cls', or run railwatch import-labels again"
        )
    return given.get("class", given.get("cls", parse_class(None)))


def _read_manifest(
    path: Path, problems: _Problems
) -> list[tuple[str, Path | None, _Label | None]] | None:
    """The images of an import-labels folder (``railwatch_labels.json``): (name, image
    file or None, its labels or None when they are wrong, the problem recorded)."""
    text = _read_label_text(path, problems)
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        problems.add(path, f"not valid JSON ({err}): run railwatch import-labels again")
        return None
    images = doc.get("images") if isinstance(doc, Mapping) else None
    if not isinstance(images, list) or not all(isinstance(i, Mapping) for i in images):
        problems.add(path, "has no 'images' list: it is not what railwatch import-labels writes")
        return None
    source = str(doc.get("source_format") or "import-labels")
    out: list[tuple[str, Path | None, _Label | None]] = []
    for k, info in enumerate(images):
        name = str(info.get("name") or f"image {k}")
        tag = f"image {name!r}"
        file = info.get("file")
        image = path.parent / str(file) if isinstance(file, str) else None
        if image is None or not image.is_file():
            image = _find_image([path.parent / "images", path.parent], name)
        gsd = _number(info.get("gsd"))
        if info.get("gsd") is not None and gsd is None:
            problems.add(path, f"{tag}: 'gsd' must be a positive number of metres")
            out.append((name, image, None))
            continue
        rings, classes, covered, where = [], [], [], []
        ok = True
        objects = info.get("objects")
        for n, obj in enumerate(objects if isinstance(objects, list) else []):
            at = f"{tag} object {n}"
            try:
                if not isinstance(obj, Mapping):
                    raise InputError("is not an object")
                quad = np.asarray(obj.get("corners"), dtype=np.float64)
                if quad.shape != (4, 2) or not np.isfinite(quad).all():
                    raise InputError("needs 4 finite pixel corners")
                cls = _manifest_class(obj)
                cov = _parse_covered(obj.get("covered"))
            except (InputError, TypeError, ValueError) as err:
                problems.add(path, f"{at}: {err}")
                ok = False
                continue
            rings.append(np.concatenate([quad, quad[:1]]))
            classes.append(cls)
            covered.append(cov)
            where.append(at)
        if not isinstance(objects, list):
            problems.add(path, f"{tag} has no 'objects' list")
            ok = False
        w, h = info.get("width"), info.get("height")
        size = (w, h) if isinstance(w, int) and isinstance(h, int) else None
        verified = info.get("verified")  # import-labels before session 26: none
        if verified is not None and not isinstance(verified, bool):
            problems.add(
                path,
                f"{tag}: 'verified' must be true, false or null (not said), got "
                f"{verified!r}: run railwatch import-labels again",
            )
            ok = False
            verified = None
        label = _Label(
            rings, classes, covered, None, gsd, where, source=source, size=size, verified=verified
        )
        out.append((name, image, label if ok else None))
    return out


def read_export_provenance(folder: str | Path) -> dict[str, bool]:
    """Whether each chip's labels are verified, by chip name, from the
    :data:`EXPORT_MANIFEST` that ``railwatch export-labels`` wrote in ``folder`` (each
    scene's ``verified`` and ``chips``); empty when there is none. An unreadable file
    is an :class:`InputError` saying what to do."""
    path = Path(folder) / EXPORT_MANIFEST
    if not path.is_file():
        return {}
    try:
        return _export_provenance(path)
    except InputError as err:
        raise InputError(f"{path}: {err}") from err


def export_distinct_cars(folder: str | Path, labels: Mapping[str, int]) -> int | None:
    """The distinct cars that chips label, from the :data:`EXPORT_MANIFEST` export-labels
    wrote in ``folder``: ``labels`` gives each chip's number of labels, by chip name. A
    car in the overlap of chips is a label of each, and the manifest gives each scene's
    ``cars`` (distinct) beside its ``objects`` (labels). None where it cannot be known:
    no (readable) manifest, a chip it does not list, a scene without ``cars`` (exported
    before session 40), some of a scene's chips missing, or their labels no longer
    ``objects`` in number (changed since export: a car added in an overlap or removed
    from one chip would go uncounted)."""
    path = Path(folder) / EXPORT_MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    scenes = doc.get("scenes") if isinstance(doc, Mapping) else None
    if not isinstance(scenes, list):
        return None
    seen: set[str] = set()
    total = 0
    for entry in scenes:
        chips = entry.get("chips") if isinstance(entry, Mapping) else None
        if not isinstance(chips, list):
            return None
        names = [str(c) for c in chips]
        here = [n for n in names if n in labels]
        if not here:
            continue
        cars, objects = entry.get("cars"), entry.get("objects")
        if (
            len(here) != len(names)
            or not isinstance(cars, int)
            or not isinstance(objects, int)
            or sum(labels[n] for n in names) != objects
        ):
            return None
        seen.update(names)
        total += cars
    return total if seen >= set(labels) else None


def _export_provenance(path: Path) -> dict[str, bool]:
    """:func:`read_export_provenance` of the file ``path`` (errors without its name)."""
    fix = (
        "export the labels again (railwatch export-labels), or delete the file (the "
        "chips' labels are then of unknown origin)"
    )
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"cannot read it ({err}): {fix}") from err
    scenes = doc.get("scenes") if isinstance(doc, Mapping) else None
    if not isinstance(scenes, list):
        raise InputError(f"has no 'scenes' list, not what export-labels writes: {fix}")
    out: dict[str, bool] = {}
    for k, entry in enumerate(scenes):
        chips = entry.get("chips") if isinstance(entry, Mapping) else None
        verified = entry.get("verified") if isinstance(entry, Mapping) else None
        if verified is None and isinstance(entry, Mapping):  # as `labels` says
            verified = {"analyst": True, "detector": False}.get(str(entry.get("labels")))
        if not isinstance(chips, list) or not isinstance(verified, bool):
            raise InputError(
                f"scene entry {k} lacks its 'chips' list or its 'verified' true/false: {fix}"
            )
        for chip in chips:
            out[str(chip)] = verified
    return out


def _find_image(folders: Sequence[Path], name: str) -> Path | None:
    """The image ``name`` in the first of ``folders`` that has it: its suffix in either
    case, and failing an exact name, its name in another case (labelling tools and
    Windows copies change either)."""
    for folder in folders:
        for suffix in IMAGE_SUFFIXES:
            for cand in (folder / f"{name}{suffix}", folder / f"{name}{suffix.upper()}"):
                if cand.is_file():
                    return cand
        if folder.is_dir():
            same = sorted(
                f
                for f in folder.iterdir()
                if f.stem.lower() == name.lower()
                and f.suffix.lower() in IMAGE_SUFFIXES
                and f.is_file()
            )
            if same:
                return same[0]
    return None


def _label_name(path: Path) -> tuple[str, int]:
    """Image name and priority (index in :data:`LABEL_SUFFIXES`) of a label file."""
    for suffix in sorted(LABEL_SUFFIXES, key=len, reverse=True):
        if path.name.lower().endswith(suffix):
            return path.name[: -len(suffix)], LABEL_SUFFIXES.index(suffix)
    return path.stem, len(LABEL_SUFFIXES)


@dataclass(frozen=True)
class _Entry:
    """A labelled image found under the labels folder."""

    name: str  #: its path from the labels folder without suffix (``siteA/yard1``)
    label_path: Path
    image_path: Path | None
    kind: str  #: ``geojson``, ``dota`` or ``manifest``
    label: _Label | None = None  #: already read (``manifest``)
    #: whether its labels are verified, as the folder's export-labels
    #: :data:`EXPORT_MANIFEST` says (DOTA chips); None when it says nothing
    verified: bool | None = None


def _folders(root: Path) -> list[Path]:
    """``root`` and its subfolders, hidden ones left out (as ``railwatch eval`` reads
    ``--truth``), sorted; symbolic links to folders are not followed."""
    out = []
    for here, dirs, _ in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.append(Path(here))
    return out


def _discover(root: Path, problems: _Problems) -> list[_Entry]:
    """Every labelled image under ``root`` and its subfolders: GeoJSON label files with
    the image beside them, DOTA ``labelTxt/NAME.txt`` with the image in ``images/`` or
    beside ``labelTxt``, and the images listed by an import-labels ``railwatch_labels.json``.
    A name labelled twice (two formats) is a problem."""
    out: list[_Entry] = []
    taken: dict[str, Path] = {}

    def add(entry: _Entry) -> None:
        if entry.name in taken:
            problems.add(
                entry.label_path,
                f"{entry.name} also has {_relative(taken[entry.name], root)}: keep one label file",
            )
            return
        taken[entry.name] = entry.label_path
        out.append(entry)

    for folder in _folders(root):
        rel = folder.relative_to(root).as_posix()
        prefix = "" if rel == "." else f"{rel}/"
        found: dict[str, tuple[int, Path]] = {}
        for p in sorted(q for q in folder.iterdir() if q.name.lower().endswith(".geojson")):
            if not p.is_file() or p.name.lower().endswith(TRACKS_SUFFIX):
                continue  # the track centrelines `railwatch simulate` writes beside a scene
            name, rank = _label_name(p)
            if name not in found or rank < found[name][0]:
                found[name] = (rank, p)
        for n, (_, p) in sorted(found.items()):
            add(_Entry(prefix + n, p, _find_image([folder], n), "geojson"))
        manifest = folder / MANIFEST
        if manifest.is_file():
            for n, image, label in _read_manifest(manifest, problems) or []:
                add(_Entry(prefix + n, manifest, image, "manifest", label))
        dota = folder / "labelTxt"
        if dota.is_dir():
            exported: dict[str, bool] = {}
            if (folder / EXPORT_MANIFEST).is_file():
                try:
                    exported = _export_provenance(folder / EXPORT_MANIFEST)
                except InputError as err:
                    problems.add(folder / EXPORT_MANIFEST, str(err))
            for p in sorted(dota.glob("*.txt")):
                image = _find_image([folder / "images", folder], p.stem)
                add(_Entry(prefix + p.stem, p, image, "dota", verified=exported.get(p.stem)))
    return out


def _load_one(
    name: str,
    label_path: Path,
    image_path: Path,
    kind: str,
    problems: _Problems,
    label: _Label | None = None,
    verified: bool | None = None,
    *,
    command: str = "railwatch train --labels",
) -> LabelledImage | None:
    """One labelled image read and checked (None with its problems recorded);
    ``verified``: what the folder says of its labels when the label file says nothing;
    ``command``: the one the user ran, named where it is to be run again."""
    n_before = len(problems.items)
    if label is None:
        label = (_read_geojson if kind == "geojson" else _read_dota)(label_path, problems)
    if label is None:
        return None
    made_on = label.made_from
    if made_on is not None and not same_image(made_on, image_path.stem):
        # detect's output for one image saved (or copied) as another's labels: the boxes
        # of the wrong image taught or scored, silently where both show one yard
        # (2026-12-07, session 49)
        problems.add(
            label_path,
            f"was made on the image {made_on} (its top-level 'source', as railwatch "
            f"detect writes it), not on {image_path.name}, the image it is paired with by "
            f"its name: give {image_path.name} its own labels (NAME.truth.geojson for "
            f"image NAME), or, if these are its labels after all, set 'source' to "
            f'"{image_path.name}" or remove it',
        )
        return None
    try:
        raster = _open(image_path)
    except InputError as err:
        problems.add(image_path, str(err))
        return None
    if label.size is not None and label.size != (raster.width, raster.height):
        problems.add(
            label_path,
            f"image {name.rsplit('/', 1)[-1]!r} was labelled at {label.size[0]} x "
            f"{label.size[1]} px but {image_path.name} is {raster.width} x {raster.height} "
            "px: put back the image that was imported, or run import-labels again",
        )
        return None
    gsd = label.gsd or _sidecar_gsd(image_path) or raster.gsd
    if gsd is None and kind == "manifest":
        problems.add(
            label_path,
            f"image {name.rsplit('/', 1)[-1]!r} has no ground sample distance ({label.source} "
            "labels carry none, or import-labels before session 24 left it out): run "
            f"railwatch import-labels again on the corrected labels, with --gsd METRES for "
            f'labels that carry none, or add "gsd": METRES to the image\'s entry in {MANIFEST}',
        )
        return None
    if gsd is None:
        how = (
            'a top-level "gsd": METRES member'
            if kind == "geojson"
            else "a line 'gsd:METRES' at the top"
        )
        problems.add(
            label_path,
            f"{image_path.name} is not georeferenced and no ground sample distance is "
            f"given: add {how} to {label_path.name}, or a sidecar {image_path.stem}.json "
            '{"gsd": METRES}',
        )
        return None
    if gsd > MAX_GSD:
        problems.add(
            label_path,
            f"gsd {gsd:g} m is too coarse for labelling single cars (at most {MAX_GSD} m)",
        )
        return None
    try:
        rings = _to_pixels(label.rings, label.crs, raster)
    except InputError as err:
        problems.add(label_path, str(err))
        return None
    w, h = raster.width, raster.height
    cars: list[tuple[np.ndarray, str, bool]] = []
    for ring, cls, cov, tag in zip(rings, label.classes, label.covered, label.where, strict=True):
        lo, hi = ring.min(axis=0), ring.max(axis=0)
        if hi[0] <= 0 or hi[1] <= 0 or lo[0] >= w or lo[1] >= h:
            c = ring[:-1].mean(axis=0)
            problems.add(
                label_path,
                f"{tag} lies outside the image {image_path.name} ({w} x {h} px; its centre "
                f"is at pixel {c[0]:.0f}, {c[1]:.0f}): check that the labels belong to "
                "this image and their CRS",
            )
            continue
        (_, _), (a, b), _ = cv2.minAreaRect(ring.astype(np.float32))
        length, width = max(a, b) * gsd, min(a, b) * gsd
        if not (
            LENGTH_LIMITS_M[0] <= length <= LENGTH_LIMITS_M[1]
            and WIDTH_LIMITS_M[0] <= width <= WIDTH_LIMITS_M[1]
        ):
            problems.add(
                label_path,
                f"{tag} is {length:.1f} m x {width:.1f} m at {gsd:g} m per pixel, not one "
                f"railcar ({LENGTH_LIMITS_M[0]:g}-{LENGTH_LIMITS_M[1]:g} m x "
                f"{WIDTH_LIMITS_M[0]:g}-{WIDTH_LIMITS_M[1]:g} m): draw one polygon per car "
                "and check the gsd",
            )
            continue
        cars.append((ring, cls, cov))
    if len(problems.items) > n_before:
        return None
    store = max(gsd, STORE_GSD)
    sw, sh = max(1, round(w * gsd / store)), max(1, round(h * gsd / store))
    radiometry = label.radiometry
    if radiometry is None:  # else the sidecar's, as the gsd
        try:
            radiometry = radiometry_member(sidecar_value(image_path, "radiometry"), "its")
        except InputError as err:
            problems.add(image_path.with_suffix(".json"), str(err))
            return None
    try:
        pixels, valid = read_label_image(
            image_path, sw, sh, radiometry or "linear", gsd=gsd, command=command
        )
    except InputError as err:
        problems.add(image_path, str(err))
        return None
    fx, fy = sw / w, sh / h
    stored = tuple(LabelledCar(ring * np.array([fx, fy]), cls, cov) for ring, cls, cov in cars)
    return LabelledImage(
        name=name,
        image_path=image_path,
        label_path=label_path,
        image=pixels,
        gsd=gsd * w / sw,
        native_gsd=float(gsd),
        cars=stored,
        source=label.source,
        verified=label.verified if label.verified is not None else verified,
        radiometry=radiometry,
        valid=valid,
    )


def other_layout_hint(root: Path, option: str = "--labels") -> str:
    """What a folder without label files this module reads looks like, if it looks like
    a label format it does not read (for the error message of ``option``: train's
    ``--labels``, eval's ``--truth``)."""
    if (root / "labels").is_dir() and any((root / "labels").glob("*.txt")):
        # an export-labels folder: its manifest gives each chip's gsd
        no_gsd = not (root / EXPORT_MANIFEST).is_file()
        return (
            " (it looks like a YOLO-OBB dataset, which"
            + (" has no ground sample distance and" if no_gsd else "")
            + f" is not read here: bring it in with railwatch import-labels {root} --format "
            f"yolo-obb{' --gsd METRES' if no_gsd else ''} --out DIR and give DIR to {option})"
        )
    if (root / "annotations.json").is_file():
        return (
            " (it looks like a COCO dataset, which is not read here: bring it in with "
            f"railwatch import-labels {root} --format coco --out DIR and give DIR to {option})"
        )
    if any(root.glob("*.txt")):
        return " (it holds .txt files: DOTA labels belong in a labelTxt/ folder)"
    return ""


def load_labelled_dir(
    root: str | Path, *, command: str = "railwatch train --labels"
) -> LabelledSet:
    """Read and validate every labelled image of ``root`` (see the module docstring).
    All problems are reported at once as :class:`InputError`, each with its file;
    ``command`` (the one the user ran, e.g. ``railwatch calibrate --labels``) is named
    where a problem says to run it again."""
    base = Path(root)
    if not base.is_dir():
        raise InputError(f"--labels {base} is not a directory of images and label files")
    problems = _Problems()
    entries = _discover(base, problems)
    if not entries and not problems.items:
        raise InputError(
            f"no label files in {base}{other_layout_hint(base)}: put NAME.truth.geojson (e.g. "
            "the corrected NAME.detections.geojson of railwatch detect) next to each image "
            "NAME.tif/.png, or DOTA labels in labelTxt/NAME.txt (with a 'gsd:METRES' line, "
            "as railwatch export-labels --format dota writes them), or give the folder "
            "railwatch import-labels wrote"
        )
    images = []
    for e in entries:
        if e.image_path is None:
            base_name = e.name.rsplit("/", 1)[-1]
            problems.add(
                e.label_path,
                f"no image {base_name}.tif/.png/.jpg beside the label file (image "
                f"{base_name!r} missing)",
            )
            continue
        if e.kind == "manifest" and e.label is None:
            continue  # its problem is recorded
        item = _load_one(
            e.name,
            e.label_path,
            e.image_path,
            e.kind,
            problems,
            e.label,
            e.verified,
            command=command,
        )
        if item is not None:
            images.append(item)
    problems.raise_if_any(base)
    images, chip_cars = _chip_folders(entries, images)
    used = {i.image_path.resolve() for i in images}
    # every image of the folder and its subfolders that no label file names, the chips in
    # a DOTA folder's images/ included (one whose label file was deleted was left out
    # unsaid)
    unlabelled = sorted(
        p.relative_to(base).as_posix()
        for folder in _folders(base)
        for p in folder.iterdir()
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and p.resolve() not in used
    )
    return LabelledSet(base, tuple(images), tuple(unlabelled), chip_cars=chip_cars)


def _chip_folders(
    entries: Sequence[_Entry], images: Sequence[LabelledImage]
) -> tuple[list[LabelledImage], dict[str, int | None]]:
    """``images`` each with the folder of chips it is one of (a DOTA folder, an
    import-labels manifest; :attr:`LabelledImage.chip_of`), and each such folder's
    distinct cars where known (:attr:`LabelledSet.distinct_cars`)."""
    group = {}
    for e in entries:
        if e.kind == "dota":
            group[e.name] = str(e.label_path.parent.parent)
        elif e.kind == "manifest":
            group[e.name] = str(e.label_path)
    out = [replace(i, chip_of=group.get(i.name)) for i in images]
    chip_cars: dict[str, int | None] = {}
    for key in {g for g in group.values()}:
        mine = {i.name.rsplit("/", 1)[-1]: len(i.cars) for i in out if i.chip_of == key}
        if key.endswith(MANIFEST):  # import-labels wrote the distinct cars (or null)
            try:
                doc = json.loads(Path(key).read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                doc = None
            cars = doc.get("cars") if isinstance(doc, Mapping) else None
            listed = doc.get("images") if isinstance(doc, Mapping) else None
            whole = isinstance(listed, list) and len(listed) == len(mine)
            chip_cars[key] = cars if isinstance(cars, int) and whole else None
        else:
            chip_cars[key] = export_distinct_cars(key, mine)
    return out, chip_cars


# ----------------------------------------------------------------------------- crops


def labelled_crops(
    item: LabelledImage,
    rng: np.random.Generator,
    gsd_range: tuple[float, float],
    n_crops: int = 4,
    focus: float = 0.7,
) -> list[tuple[np.ndarray, list[WorkBox]]]:
    """Training crops of one labelled image at working scale, via the training code's
    ``to_work_crops``: the image is first area-averaged to a ground sample distance
    drawn log-uniformly between its own (or ``gsd_range[0]``) and ``gsd_range[1]``
    (never finer than it is); ``to_work_crops`` adds its ±20 % claimed-gsd error and
    centres a share ``focus`` of the crops near a car. No photometric degradation:
    real images stay as they are (the per-batch flips, turns and channel gains of
    training apply as to every crop). Images smaller than a crop are padded with their
    mean colour (not mirrored: a mirrored car would be an unlabelled car). An image
    with no data (:attr:`LabelledImage.valid`) has a crop more than
    :data:`MAX_NODATA_SHARE` of which is no data drawn again (:func:`_with_data`); one
    without draws the crops it drew before session 31."""
    from railwatch.detect.train import CROP, to_work_crops

    lo = max(item.native_gsd, gsd_range[0])
    hi = max(lo, gsd_range[1])
    target = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    img = item.image
    if item.valid is not None:  # no data as a 4th plane, cut with the crops (255: data)
        img = np.dstack([img, item.valid.astype(np.uint8) * 255])
    # a format without the covered flag says nothing of tarpaulins: unknown (None), left
    # out of the covered loss, not taught as "not covered"
    known = item.source not in NO_COVERED_FLAG
    polys = [(c.polygon, c.cls, c.covered if known else None) for c in item.cars]
    gsd = item.gsd
    if target > gsd * 1.001:
        h, w = img.shape[:2]
        nw, nh = max(1, round(w * gsd / target)), max(1, round(h * gsd / target))
        img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
        f = np.array([nw / w, nh / h])
        polys = [(p * f, c, v) for p, c, v in polys]
        gsd = gsd * w / nw
    # to_work_crops claims up to 20 % less than the gsd: the image must still give CROP
    need = math.ceil(CROP * WORK_GSD / (0.8 * gsd)) + 1
    h, w = img.shape[:2]
    if h < need or w < need:
        fill = [float(v) for v in img[..., :3].reshape(-1, 3).mean(axis=0)]
        fill += [255.0] * (img.shape[2] - 3)  # the padding counts as data, as before
        img = cv2.copyMakeBorder(
            img, 0, max(0, need - h), 0, max(0, need - w), cv2.BORDER_CONSTANT, value=fill
        )
    crops = to_work_crops(img, polys, gsd, rng, n_crops=n_crops, focus=focus)
    if item.valid is None:
        return crops
    return [_with_data(c, img, polys, gsd, rng, focus) for c in crops]


def _nodata_share(crop: np.ndarray) -> float:
    """The share of a crop's pixels (RGB + a data plane) that are no data."""
    return float((crop[..., 3] < 128).mean())


def _with_data(
    crop: tuple[np.ndarray, list[WorkBox]],
    img: np.ndarray,
    polys: list[tuple[np.ndarray, str, bool | None]],
    gsd: float,
    rng: np.random.Generator,
    focus: float,
) -> tuple[np.ndarray, list[WorkBox]]:
    """``crop`` (RGB + the data plane), or where more than :data:`MAX_NODATA_SHARE` of it
    is no data, the crop of up to :data:`NODATA_REDRAWS` drawn again with least no data,
    as RGB."""
    from railwatch.detect.train import to_work_crops

    best, share = crop, _nodata_share(crop[0])
    for _ in range(NODATA_REDRAWS):
        if share <= MAX_NODATA_SHARE:
            break
        again = to_work_crops(img, polys, gsd, rng, n_crops=1, focus=focus)[0]
        if (s := _nodata_share(again[0])) < share:
            best, share = again, s
    return np.ascontiguousarray(best[0][..., :3]), best[1]


def crop_drawer(
    labelled: LabelledSet, gsd_range: tuple[float, float], n_crops: int = 4
) -> Callable[[np.random.Generator], list[tuple[np.ndarray, list[WorkBox]]]]:
    """A function drawing ``n_crops`` crops of one labelled image, the image chosen with
    probability proportional to its ground area."""
    if not labelled.images:
        raise InputError(f"no labelled images in {labelled.root}")
    area = np.array([i.image.shape[0] * i.image.shape[1] * i.gsd**2 for i in labelled.images])
    p = area / area.sum()

    def draw(rng: np.random.Generator) -> list[tuple[np.ndarray, list[WorkBox]]]:
        item = labelled.images[int(rng.choice(len(p), p=p))]
        return labelled_crops(item, rng, gsd_range, n_crops=n_crops)

    return draw


def record_in_card(weights: str | Path, labelled: LabelledSet, crops: int) -> Path:
    """Add the labelled set (files, gsd, cars) and its number of training crops to the
    weights' card (the ``.json`` next to the ONNX file); other keys are kept, and the
    card is written whole or not at all (:func:`railwatch.detect.calibration.update_card`)."""
    from railwatch.detect.calibration import update_card

    return update_card(weights, {"labels": {**labelled.summary(), "crops": int(crops)}})


__all__ = [
    "EXPORT_MANIFEST",
    "LABEL_SUFFIXES",
    "UNTYPED",
    "LabelledCar",
    "LabelledImage",
    "LabelledSet",
    "crop_drawer",
    "describe_provenance",
    "is_detect_output",
    "labelled_crops",
    "load_labelled_dir",
    "made_from",
    "other_layout_hint",
    "parse_class",
    "provenance_of",
    "radiometry_member",
    "read_export_provenance",
    "read_label_image",
    "record_in_card",
    "same_image",
    "sidecar_value",
]
