"""Review of detector 2.9's tiles anchored to the file's pixels (549fd75, session 34).

What the review found and these tests pin:

- a detector that names no alignment (``onnx:PATH``, ``ultralytics:PATH``) was handed the
  narrow tiles the image's edge cuts, which YOLO's letterbox scales up to its input
  (the 108 px corner tile of a 3000 px scene at 0.5 m, 1024 px tiles: 9.5 times);
- a tile side the detector's alignment cannot take whole (``--tile 1001`` where sides
  are multiples of 5) was padded with no data *inside* the image at every seam;
- the progress callback got a tile's index, so a tile without data, reported as it was
  read, moved the bar past the tiles still in flight and then back;
- ``origin`` cut 12.7 to 12 and let infinity's OverflowError through.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from railwatch.detect.api import detect_array
from railwatch.detect.base import Detection
from railwatch.detect.tiling import overlap_px_for, plan_tiles
from railwatch.errors import InputError


class _Recorder:
    """A detector that keeps the tiles (and valid masks) it is handed; finds nothing."""

    name = "recorder"
    version = "1"

    def __init__(self, tile_px: int) -> None:
        self.tile_px = tile_px
        self.shapes: list[tuple[int, int]] = []
        self.valid: list[np.ndarray | None] = []

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        self.shapes.append(image.shape[:2])
        self.valid.append(None if valid is None else np.array(valid))
        return []


class _AlignedRecorder(_Recorder):
    """As :class:`_Recorder`, with the default detector's kind of alignment: starts on
    multiples of 40 px, sides multiples of 5 px (as at 0.3 m)."""

    def tile_alignment(self, gsd: float) -> tuple[int, int]:
        return 40, 5


@pytest.mark.parametrize("origin", [(0, 0), (173, 91), (1_000_003, 7)])
def test_a_detector_without_alignment_gets_whole_tiles(origin: tuple[int, int]) -> None:
    """Tiles the image's edge cuts are moved back inside it to the full tile for a
    detector that names no alignment; they were handed over narrow (here 700 px wide
    with 256 px tiles: a last column of 112 px or less)."""
    rec = _Recorder(256)
    img = np.full((300, 700, 3), 90, np.uint8)
    detect_array(img, 0.5, detector=rec, origin=origin, workers=1)
    assert rec.shapes and set(rec.shapes) == {(256, 256)}
    # and the windows still hold every car: any 30 m stretch lies whole in one of them
    for gsd in (0.3, 0.5, 0.75, 1.0):
        for size in (37, 257, 700, 1721):
            plan = plan_tiles(size, 5, gsd, tile_px=256, origin=origin, shift_edges=True)
            spans = {(w.col_off, w.col_end) for w in plan.windows}
            assert all(0 <= a < b <= size for a, b in spans)
            car = min(overlap_px_for(gsd), size)
            assert all(any(a <= x and x + car <= b for a, b in spans) for x in range(size - car))


def _constant_model(path: Path, size: int = 64) -> Path:
    """A one-class YOLO-OBB model whose output, whatever its (1, 3, size, size) input,
    is one car along x at input pixel (20, 30), 28 x 6 px, score 0.9."""
    out = np.array([[20.0, 30.0, 28.0, 6.0, 0.9, 0.0]], np.float32).T[None]
    const = helper.make_node("Constant", [], ["raw"], value=numpy_helper.from_array(out, "c"))
    mean = helper.make_node("ReduceMean", ["images"], ["m"], keepdims=1)
    zero = helper.make_node(
        "Constant", [], ["z"], value=numpy_helper.from_array(np.zeros(1, np.float32), "z0")
    )
    mul = helper.make_node("Mul", ["m", "z"], ["mz"])
    shape = helper.make_node(
        "Constant", [], ["s"], value=numpy_helper.from_array(np.array([1, 1, 1], np.int64))
    )
    resh = helper.make_node("Reshape", ["mz", "s"], ["mz3"])
    add = helper.make_node("Add", ["raw", "mz3"], ["output0"])
    graph = helper.make_graph(
        [const, mean, zero, mul, shape, resh, add],
        "obb",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(out.shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def test_an_onnx_model_sees_every_tile_at_its_own_scale(tmp_path: Path) -> None:
    """onnx:PATH letterboxes each tile to its input: every car it reports is its 28 px
    car, at the image's scale. With the corner tile cut to 24 x 24 px (a 150 px image
    at 1.4 m, 64 px tiles) it was scaled up 2.7 times and its car came back 10.5 px."""
    from railwatch.detect.registry import get_detector

    det = get_detector(f"onnx:{_constant_model(tmp_path / 'm.onnx')}")
    img = np.full((150, 150, 3), 100, np.uint8)
    for origin in ((0, 0), (5, 11)):
        dets = detect_array(img, 1.4, detector=det, origin=origin, workers=1)
        assert dets
        assert [d.box.length for d in dets] == pytest.approx([28.0] * len(dets))


def test_a_tile_side_the_alignment_cannot_take_is_not_padded_inside_the_image() -> None:
    """Tiles of 1001 px for a detector whose sides are multiples of 5 px: the tiles are
    made 1005 px, so a tile inside the image is handed over whole. Each was padded to
    1005 px with 4 columns of no data where the image has data, at every seam."""
    rec = _AlignedRecorder(1001)
    img = np.full((300, 2500, 3), 90, np.uint8)
    detect_array(img, 0.5, detector=rec, tile_px=1001, workers=1)
    assert len(rec.valid) == 3
    assert all(v is None or v.all() for v in rec.valid)
    assert all(w % 5 == 0 and h % 5 == 0 for h, w in rec.shapes)


def test_progress_only_grows_when_a_tile_has_no_data() -> None:
    """Seven tiles in a row, the fifth without a valid pixel, two in flight: the
    callback got the tile's index (1, 5, 2, 3, 4, 6, 7 here), so a progress bar went
    forward past the tiles still running and back."""
    calls: list[tuple[int, int]] = []
    rec = _Recorder(256)
    width = 6 * 196 + 256  # 256 px tiles, 60 px overlap at 0.5 m: a stride of 196
    img = np.full((256, width, 3), 90, np.uint8)
    valid = np.ones((256, width), bool)
    valid[:, 4 * 196 : 4 * 196 + 256] = False  # the whole of the fifth tile
    detect_array(
        img,
        0.5,
        detector=rec,
        valid=valid,
        workers=2,
        on_tile=lambda done, total: calls.append((done, total)),
    )
    assert len(rec.shapes) == 6  # the fifth tile is read and skipped
    assert calls == [(k, 7) for k in range(1, 8)]


def test_an_origin_that_is_not_two_whole_pixels_is_refused() -> None:
    img = np.zeros((100, 100, 3), np.uint8)
    for bad in ((12.7, 0), (0, math.inf), (math.nan, 0), (True, 0), (1,), "ab"):
        with pytest.raises(InputError, match="whole numbers of pixels"):
            detect_array(img, 0.5, detector=_Recorder(256), origin=bad)  # type: ignore[arg-type]
    # whole numbers of any type are taken
    for origin in ((np.int64(40), 3.0), (np.float32(80.0), -40)):
        rec = _Recorder(256)
        detect_array(img, 0.5, detector=rec, origin=origin, workers=1)  # type: ignore[arg-type]
        assert rec.shapes == [(100, 100)]
