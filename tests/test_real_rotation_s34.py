"""``benchmarks/bench_real_rotation.py``: the image and its label polygons are turned (and
moved) by the same affine transform, the added margins are no-data, and boxes found on
the resampled image come back to the turned 10 cm frame where the labels are.

A synthetic image with one bright rectangle stands for a labelled car: after each turn
the label's polygon must cover the bright pixels, and after resampling the polygon brought
to the coarse frame must cover them there too.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import pytest

from helpers import load_benchmark
from railwatch.detect.base import Detection, OrientedBox

bench = load_benchmark("bench_real_rotation")

#: The rectangle: columns 50-129, rows 40-69 (pixel i covers [i, i+1) in the box frame).
X0, X1, Y0, Y1 = 50, 130, 40, 70


def _scene() -> tuple[np.ndarray, Detection]:
    img = np.zeros((120, 200, 3), np.uint8)
    img[Y0:Y1, X0:X1] = 255
    box = OrientedBox((X0 + X1) / 2, (Y0 + Y1) / 2, X1 - X0, Y1 - Y0, 0.0)
    return img, Detection(box=box)


def _iou_with_bright(img: np.ndarray, det: Detection) -> float:
    bright = img[..., 0] > 127
    poly = np.zeros(img.shape[:2], np.uint8)
    # corners in the pixel-corner frame; fillPoly samples pixel centres at integers
    cv2.fillPoly(poly, [np.round((det.box.corners() - 0.5) * 16).astype(np.int32)], 1, shift=4)
    on = poly.astype(bool)
    return float((bright & on).sum() / max((bright | on).sum(), 1))


@pytest.mark.parametrize("angle", [0.0, 15.0, 30.0, 45.0, 60.0, 90.0, 135.0, 200.0, -30.0])
@pytest.mark.parametrize("shift", [0.0, 7.5])
def test_label_polygon_turns_with_the_image(angle: float, shift: float) -> None:
    img, det = _scene()
    rot, _, m = bench.rotate_image(img, angle, shift=shift)
    (moved,) = bench.rotate_boxes([det], m)
    assert _iou_with_bright(rot, moved) > 0.93
    # the bright pixels' centroid is the box centre (pixel i's centre is i + 0.5)
    ys, xs = np.nonzero(rot[..., 0] > 127)
    assert abs(xs.mean() + 0.5 - moved.box.cx) < 0.5
    assert abs(ys.mean() + 0.5 - moved.box.cy) < 0.5
    # the long axis turned by the angle (counter-clockwise on screen: y points down)
    assert abs(((moved.box.angle + angle) % 180.0 + 90.0) % 180.0 - 90.0) < 1e-6
    assert (moved.box.length, moved.box.width) == (det.box.length, det.box.width)
    # the whole source lies inside the canvas: no brightness was cut
    assert rot[..., 0].sum() / 255 == pytest.approx((X1 - X0) * (Y1 - Y0), rel=0.01)


def test_margins_are_invalid_and_the_source_valid() -> None:
    img = np.full((120, 200, 3), 90, np.uint8)
    rot, valid, _ = bench.rotate_image(img, 45.0, shift=5.0)
    assert rot.shape[:2] == valid.shape
    # the canvas holds the turned 200 x 120 image: about (200 + 120) / sqrt(2) + 5 a side
    assert rot.shape[0] == rot.shape[1] == 232
    # corners of the canvas are margin: black and invalid
    for y, x in [(0, 0), (0, -1), (-1, 0), (-1, -1)]:
        assert not valid[y, x] and (rot[y, x] == 0).all()
    # every valid pixel carries the source's grey (no black mixed in from the margin)
    assert (rot[valid] == 90).all()
    # and the valid area is the source's, less a one-pixel rim of interpolation
    assert valid.sum() == pytest.approx(img.shape[0] * img.shape[1], rel=0.03)


def test_no_turn_is_the_image_itself_and_a_quarter_turn_is_exact() -> None:
    img, det = _scene()
    img[5:9, 3:6] = (10, 200, 30)  # something not symmetric
    rot, valid, m = bench.rotate_image(img, 0.0)
    assert np.array_equal(rot, img) and valid.all()
    assert bench.rotate_boxes([det], m)[0].box == det.box
    rot, valid, _ = bench.rotate_image(img, 90.0)
    assert np.array_equal(rot, np.rot90(img)) and valid.all()


@pytest.mark.parametrize("method", ["area", "bilinear", "cubic", "lanczos"])
@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0])
def test_boxes_go_between_the_coarse_and_the_fine_frame(method: str, angle: float) -> None:
    img, det = _scene()
    big = cv2.resize(img, (600, 360), interpolation=cv2.INTER_NEAREST)  # 3x: a 10 cm image
    det = Detection(
        box=OrientedBox(det.box.cx * 3, det.box.cy * 3, det.box.length * 3, det.box.width * 3, 0.0)
    )
    rot, valid, m = bench.rotate_image(big, angle)
    (truth,) = bench.rotate_boxes([det], m)
    small, vsmall = bench.resample(rot, valid, 3.7, method)  # sizes that do not divide
    assert small.shape[:2] == vsmall.shape
    (coarse,) = bench.to_frame([truth], rot.shape, small.shape)
    assert _iou_with_bright(small, coarse) > 0.85
    (back,) = bench.to_frame([coarse], small.shape, rot.shape)
    assert back.box.cx == pytest.approx(truth.box.cx, abs=1e-6)
    assert back.box.cy == pytest.approx(truth.box.cy, abs=1e-6)
    # the two axes' scales differ by the rounding of the coarse size (here 0.2 %): a
    # rectangle becomes a slight parallelogram, kept as a rectangle, so sizes come back
    # to within 1e-3 and the angle to within 0.01 degrees
    assert back.box.length == pytest.approx(truth.box.length, rel=1e-3)
    assert back.box.width == pytest.approx(truth.box.width, rel=1e-3)
    assert back.box.angle == pytest.approx(truth.box.angle % 180.0, abs=0.01)
    # a coarse pixel is valid only where every fine pixel under it was
    if angle:
        assert not vsmall[0, 0] and vsmall[small.shape[0] // 2, small.shape[1] // 2]


def test_bad_options_say_what_to_give() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="area, bilinear, cubic, lanczos"):
        bench._methods("area,nearest")
    with pytest.raises(argparse.ArgumentTypeError, match="numbers separated by commas"):
        bench._floats("0,fifteen")
    with pytest.raises(argparse.ArgumentTypeError, match="finite"):
        bench._floats("0,nan")
    with pytest.raises(ValueError, match="shift >= 0"):
        bench.rotation((10, 10, 3), 15.0, -1.0)


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 135.0])
def test_a_fixed_canvas_is_the_same_for_every_angle(angle: float) -> None:
    img, det = _scene()
    canvas = bench.fixed_canvas(img.shape)
    assert canvas == (234, 234)  # the 200 x 120 image's diagonal is 233.2 px
    rot, valid, m = bench.rotate_image(img, angle, canvas=canvas)
    assert rot.shape[:2] == (234, 234) and valid.shape == (234, 234)
    (moved,) = bench.rotate_boxes([det], m)
    assert _iou_with_bright(rot, moved) > 0.93
    if angle == 0.0:  # the image itself, on whole pixels in the middle
        assert np.array_equal(rot[57:177, 17:217], img) and valid.sum() == 200 * 120
    with pytest.raises(ValueError, match="cannot hold"):
        bench.rotation(img.shape, 45.0, canvas=(200, 200))


def test_nearest_fill_gives_no_data_the_nearest_valid_colour() -> None:
    img, _ = _scene()
    img[img == 0] = 40  # no black in the data
    img[:, :100] = (30, 60, 90)
    rot, valid, _ = bench.rotate_image(img, 30.0)
    filled = bench.nearest_fill(rot, valid)
    assert np.array_equal(filled[valid], rot[valid])  # data untouched
    # every filled pixel carries a colour of the data, never the black of the margin
    colours = {tuple(c) for c in rot[valid].reshape(-1, 3).tolist()}
    assert {tuple(c) for c in filled[~valid].reshape(-1, 3).tolist()} <= colours
    assert not (filled == 0).all(axis=2).any()
    # the canvas's top-left corner is nearest the turned image's left (dark blue) half
    assert tuple(filled[0, 0]) == (30, 60, 90)
    with pytest.raises(ValueError, match="use invalid or nearest"):
        bench.detect_with_nodata(None, rot, valid, 0.5, "zero")
