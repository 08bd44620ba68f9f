"""Value types and the detector protocol shared by every detection backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from shapely.geometry import Polygon

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
        return Polygon(self.corners())


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
        return self.box.polygon()


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
