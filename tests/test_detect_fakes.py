"""A tiny fake detector and drawing helpers for the detection-framework tests.

The fake finds bright blobs (grey > 128) and returns their minimum-area oriented
rectangles, so the tests of tiling, merging and I/O do not depend on the default
model. A blob cut by a tile edge gives a truncated box, as a real detector would.
"""

from __future__ import annotations

import cv2
import numpy as np

from railwatch.detect.base import Detection, OrientedBox


class BrightBlobDetector:
    name = "fake-bright-blobs"
    version = "0"

    def __init__(self, min_area: int = 6) -> None:
        self.min_area = min_area

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        grey = image.mean(axis=2)
        mask = (grey > 128).astype(np.uint8)
        if valid is not None:
            mask &= valid.astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
        dets = []
        for k in range(1, n):
            if stats[k, cv2.CC_STAT_AREA] < self.min_area:
                continue
            ys, xs = np.nonzero(labels == k)
            pts = np.stack([xs, ys], axis=1).astype(np.float32)
            (cx, cy), (w, h), ang = cv2.minAreaRect(pts)
            # pixel centres -> pixel areas: the box is one pixel larger than the centres' hull
            w, h = w + 1.0, h + 1.0
            # pixel (i, j) covers [i, i+1): its centre is at i + 0.5
            cx, cy = cx + 0.5, cy + 0.5
            if w < h:
                w, h, ang = h, w, ang + 90.0
            ang = (ang + 90.0) % 180.0 - 90.0
            px = image[int(cy), int(cx)].astype(int)
            covered = bool(px[1] > px[0] + 30)
            dets.append(
                Detection(
                    OrientedBox(float(cx), float(cy), float(w), float(h), float(ang)),
                    cls="tank" if px[2] > 200 else "boxcar",
                    score=0.9,
                    covered=covered,
                    covered_score=0.8 if covered else 0.1,
                )
            )
        return dets


def draw_car(
    img: np.ndarray,
    box: OrientedBox,
    colour: tuple[int, int, int] = (230, 230, 120),
) -> None:
    """Fill an oriented rectangle (pixel coordinates, pixel-area convention)."""
    pts = np.round(box.corners() * 16 - 8).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(img, [pts], colour, lineType=cv2.LINE_8, shift=4)


def string_of_cars(
    x0: float,
    y0: float,
    angle: float,
    n: int,
    length: float = 28.0,
    width: float = 6.0,
    gap: float = 0.0,
) -> list[OrientedBox]:
    """``n`` cars coupled end to end along ``angle`` (degrees), first centre at (x0, y0)."""
    a = np.deg2rad(angle)
    step = length + gap
    return [
        OrientedBox(x0 + k * step * np.cos(a), y0 + k * step * np.sin(a), length, width, angle)
        for k in range(n)
    ]


def test_fake_detector_finds_drawn_car() -> None:
    img = np.zeros((80, 80, 3), np.uint8)
    draw_car(img, OrientedBox(40, 40, 28, 6, 30))
    dets = BrightBlobDetector().detect(img, 0.5)
    assert len(dets) == 1
    b = dets[0].box
    assert abs(b.cx - 40) < 1 and abs(b.cy - 40) < 1
    assert abs(b.length - 28) < 2.5 and abs(b.width - 6) < 2.5
    assert abs(b.angle - 30) < 4
