"""Value types and the detector protocol shared by every detection backend."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

#: Classes a detector may report. ``railcar`` means "a railcar, type unsure".
CAR_CLASSES: tuple[str, ...] = (
    "boxcar",
    "gondola",
    "hopper",
    "tank",
    "flat",
    "container",
    "locomotive",
)
#: The class of a railcar whose type the detector is not sure of.
GENERIC_CLASS = "railcar"
ALL_CLASSES: tuple[str, ...] = (*CAR_CLASSES, GENERIC_CLASS)
#: Classes whose name is itself a noun for the vehicle: "4 boxcars", "1 locomotive" (the
#: others read "4 tank cars", "1 flat car"; "all" and ``railcar`` read "railcars").
_NOUN_CLASSES = frozenset({"boxcar", "locomotive"})


def cars_words(cls: str, *, one: bool = False) -> str:
    """The cars of class ``cls`` in words, singular when ``one``: "railcars" for the
    total (``all``), "untyped railcars" for ``railcar`` (cars of no type the detector was
    sure of; since 2026-12-06, session 40: "railcars" as the total, so "127 railcars"
    of the untyped cars stood beside "133 railcars" of the site total), "boxcars" and
    "locomotives", "tank cars", "covered cars" and so on (session 38: alerts said "1
    boxcar car" and "2 locomotive cars")."""
    if cls == "all":
        return "railcar" if one else "railcars"
    if cls == GENERIC_CLASS:
        return "untyped railcar" if one else "untyped railcars"
    if cls in _NOUN_CLASSES:
        return cls if one else f"{cls}s"
    return f"{cls} car" if one else f"{cls} cars"


def series_label(cls: str) -> str:
    """A count series' name as the report and the dashboard show it beside its alerts:
    "site total" for ``all``, "untyped railcars" for :data:`GENERIC_CLASS` (the cars
    of no type the detector was sure of, which "railcar" alone read as every car), else
    the class (``tank``, ``covered``)."""
    if cls == "all":
        return "site total"
    if cls == GENERIC_CLASS:
        return "untyped railcars"
    return cls


def tells_class(cls: str, method: str | None) -> bool:
    """Can a count made by ``method`` tell ``cls``? Cars counted one by one
    (``objects``) have their types and covered loads. Occupied track length (``length``,
    1.5-5 m) tells only the total (``all``): no type, no covered load, and no
    ``railcar`` either (its cars are not "of no known type" beside typed ones, they are
    all the cars: a ``railcar`` series there would only repeat the total and raise each
    alert twice). Presence (10 m and coarser) tells no class: its ``all`` row holds the
    long-train flag (1 or 0, :func:`is_presence`), which is no count of cars. Where this
    is False a reader gives the count as unknown (None), never 0."""
    if method in (None, "objects"):
        return True
    return cls == "all" and method not in PRESENCE_METHODS


#: Methods whose stored total is a flag (a long train present, 1, or not, 0), not a count.
PRESENCE_METHODS: frozenset[str] = frozenset({"presence"})


def is_presence(method: str | None) -> bool:
    """True for a count that only says whether a long train is present (10 m and
    coarser): its stored total is that flag, 1 or 0, and must never be shown, exported,
    charted or scored as a number of cars."""
    return method in PRESENCE_METHODS


def long_train_present(method: str | None, total: float | None) -> bool | None:
    """The long-train flag of a presence count (``total`` its stored 1 or 0); None for
    a count of another method or no count."""
    if not is_presence(method) or total is None:
        return None
    return bool(total >= 0.5)


@dataclass(frozen=True)
class OrientedBox:
    """An oriented rectangle: centre (x, y), length along the car, width across it,
    and angle in degrees of the long axis, counter-clockwise from the +x axis.
    Units are those of the coordinate system it lives in (pixels or metres)."""

    cx: float
    cy: float
    length: float
    width: float
    angle: float

    def corners(self) -> np.ndarray:
        """The four corners, shape (4, 2), in order around the rectangle."""
        a = np.deg2rad(self.angle)
        u = np.array([np.cos(a), np.sin(a)]) * self.length / 2.0
        v = np.array([-np.sin(a), np.cos(a)]) * self.width / 2.0
        c = np.array([self.cx, self.cy])
        return np.stack([c - u - v, c + u - v, c + u + v, c - u + v])

    def polygon(self) -> Polygon:
        """The rectangle as a shapely polygon of its four :meth:`corners`."""
        return Polygon(self.corners())


def corners_of(boxes: list[OrientedBox]) -> np.ndarray:
    """The corners of many boxes at once, shape (N, 4, 2): for each box exactly what
    :meth:`OrientedBox.corners` gives (the same operations in the same order)."""
    b = np.array([(o.cx, o.cy, o.length, o.width, o.angle) for o in boxes], np.float64)
    b = b.reshape(len(boxes), 5)
    a = np.deg2rad(b[:, 4])
    cos, sin = np.cos(a), np.sin(a)
    ux, uy = cos * b[:, 2] / 2.0, sin * b[:, 2] / 2.0
    vx, vy = -sin * b[:, 3] / 2.0, cos * b[:, 3] / 2.0
    cx, cy = b[:, 0], b[:, 1]
    xs = np.stack([cx - ux - vx, cx + ux - vx, cx + ux + vx, cx - ux + vx], axis=1)
    ys = np.stack([cy - uy - vy, cy + uy - vy, cy + uy + vy, cy - uy + vy], axis=1)
    return np.stack([xs, ys], axis=2)


@dataclass(frozen=True)
class Detection:
    """One railcar: its oriented body rectangle (pixel coordinates: column, row,
    unless the producer says otherwise), its class and scores."""

    box: OrientedBox
    cls: str = "railcar"
    score: float = 1.0
    covered: bool = False
    covered_score: float = 0.0
    extra: dict[str, float] = field(default_factory=dict, compare=False, hash=False)

    @property
    def polygon(self) -> Polygon:
        """The car's rectangle as a shapely polygon (:meth:`OrientedBox.polygon`)."""
        return self.box.polygon()


#: The longest detector name the store keeps (``scenes.detector``, ``counts.detector``).
DETECTOR_NAME_MAX = 128
#: Hex digits of the file name's digest in a shortened :func:`model_file_name`.
_NAME_DIGEST = 12


def model_file_name(kind: str, path: Path) -> str:
    """The name of a detector that runs the model file ``path`` (``kind`` ``onnx`` or
    ``ultralytics``): ``KIND:FILE`` (its file name, not its folder), as stored with each
    scene it counted and shown in reports. With the model's version (a digest of its
    bytes and settings) it decides which scenes are up to date.

    A name longer than :data:`DETECTOR_NAME_MAX` (a file name over ~120 characters; a
    file system allows 255) is shortened, stably and still one per file name: the file
    name's start, "…~", the first 12 hex digits of the SHA-256 of the whole file name,
    and its suffix (``onnx:yolo11n-obb-trained-on-…~3f2a9c0d41be.onnx``). The same
    file name gives the same name on every run and machine, so its scenes stay up to
    date. Until 2026-12-06 (session 41) the whole name was used: on PostgreSQL
    ``railwatch process`` then stopped at the first scene ("value too long for type
    character varying(128)"), while SQLite stored it whole."""
    name = f"{kind}:{path.name}"
    if len(name) <= DETECTOR_NAME_MAX:
        return name
    digest = hashlib.sha256(path.name.encode("utf-8", "surrogateescape")).hexdigest()
    suffix = path.suffix if len(path.suffix) <= 16 else ""
    tail = f"…~{digest[:_NAME_DIGEST]}{suffix}"
    keep = DETECTOR_NAME_MAX - len(kind) - 1 - len(tail)
    return f"{kind}:{path.name[:keep]}{tail}"


@runtime_checkable
class Detector(Protocol):
    """A railcar detector over one in-memory image tile.

    ``image`` is ``(H, W, 3)`` uint8 RGB; ``gsd`` is metres per pixel; ``valid`` is an
    optional ``(H, W)`` bool mask of pixels with data. Returns detections in pixel
    coordinates of ``image``. Implementations keep no per-call state on ``self``.
    """

    name: str
    version: str

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]: ...


@dataclass(frozen=True)
class OccupiedRun:
    """A stretch of one track line read as occupied (the evidence of a length estimate,
    drawn so an analyst can check it): its polyline in pixel-area (column, row)
    coordinates of the image read and its length in metres. The runs of an estimate add
    up to its ``occupied_length_m``."""

    coords: tuple[tuple[float, float], ...]
    length_m: float

    def translated(self, dx: float, dy: float) -> OccupiedRun:
        """The same run with its coordinates moved by (``dx``, ``dy``) pixels."""
        return OccupiedRun(tuple((x + dx, y + dy) for x, y in self.coords), self.length_m)


def near_lines(
    detections: Sequence[Detection], lines: BaseGeometry, gsd: float, max_distance_m: float
) -> list[Detection]:
    """The ``detections`` whose centre lies within ``max_distance_m`` of ``lines`` (both
    in the same pixel coordinates, ``gsd`` metres a pixel): the one rule by which a
    site's centrelines (:func:`railwatch.counting.near_tracks`) and ``detect --tracks``
    (:func:`railwatch.detect.api.detect_file`) keep railcars. None kept where there are
    no lines."""
    import shapely

    if not detections or lines.is_empty:
        return []
    pts = shapely.points(np.array([(d.box.cx, d.box.cy) for d in detections]))
    dist = np.atleast_1d(shapely.distance(lines, pts)) * float(gsd)
    return [d for d, m in zip(detections, dist, strict=True) if m <= max_distance_m]
