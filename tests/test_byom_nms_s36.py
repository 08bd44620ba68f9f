"""Duplicate removal of ``onnx:PATH`` and ``ultralytics:PATH`` models as Ultralytics'
``predict`` does it (session 36): scores above ``conf``, "fast NMS" on probabilistic IoU
above ``iou`` (0.7) within each class unless ``agnostic``, ``max_det`` (300) per model
run (``ultralytics/utils/nms.py`` and ``utils/metrics.py``, 8.4.190); and the seam merge
across tiles, which must not undo it inside one tile.

The models are tiny ONNX graphs built here: a "constant" model whose output is a fixed
raw head ``(1, 5 + nc, N)`` whatever the image, and a "pair" model that puts a tank car
and a boxcar over each other at the reddest pixel. The reference is a re-implementation
of Ultralytics' rule in the matrix form it computes (``batch_probiou``, classes moved
apart by 7680 px, ``fast_nms``'s upper triangle); the last test compares with the real
package where it is importable (never a dependency: it skips without it).
"""

from __future__ import annotations

import math
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from railwatch.detect import onnx_backend
from railwatch.detect.api import detect_array
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.merge import RUN_KEY, merge_detections
from railwatch.detect.onnx_backend import (
    OnnxObbDetector,
    decode_obb,
    probiou,
    ultralytics_nms,
)
from railwatch.detect.registry import DetectorSpecError, get_detector
from railwatch.detect.ultralytics_backend import UltralyticsObbDetector
from railwatch.errors import InputError
from test_byom_onnx_s35 import red_spot, spot_model

NAMES = ("tank car", "boxcar", "plane")  # the plane is no railcar: dropped after NMS
MAP = ("tank", "boxcar", None)


def _const(name: str, value: np.ndarray) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name))


def constant_model(path: Path, output: np.ndarray, *, size: int = 64) -> Path:
    """An ONNX model of input ``(1, 3, size, size)`` whose output is ``output`` (plus
    0 times the image's largest value, so that the input is read)."""
    out = np.asarray(output, np.float32)
    nodes = [
        _const("table", out),
        helper.make_node("ReduceMax", ["images"], ["peak"], keepdims=0),
        _const("zero", np.array(0.0, np.float32)),
        helper.make_node("Mul", ["peak", "zero"], ["nothing"]),
        helper.make_node("Add", ["table", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "constant",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(out.shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    helper.set_model_props(model, {"names": str(dict(enumerate(NAMES))), "task": "obb"})
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def raw_head(rows: list[tuple[float, float, float, float, int, float, float]]) -> np.ndarray:
    """A raw head ``(1, 4 + 3 + 1, N)`` from rows ``cx, cy, w, h, class, score, angle``."""
    out = np.zeros((1, 4 + len(NAMES) + 1, len(rows)), np.float32)
    for k, (cx, cy, w, h, c, s, a) in enumerate(rows):
        out[0, :4, k] = (cx, cy, w, h)
        out[0, 4 + c, k] = s
        out[0, -1, k] = a
    return out


# ------------------------------------------------------------ Ultralytics' rule, again


def _reference_probiou(b1: np.ndarray, b2: np.ndarray, eps: float = 1e-7) -> np.ndarray:
    """``batch_probiou`` as a matrix (``ultralytics/utils/metrics.py``)."""

    def cov(b: np.ndarray) -> tuple[np.ndarray, ...]:
        a, bb, r = b[:, 2:3] ** 2 / 12, b[:, 3:4] ** 2 / 12, b[:, 4:5]
        c, s = np.cos(r), np.sin(r)
        return a * c**2 + bb * s**2, a * s**2 + bb * c**2, (a - bb) * c * s

    x1, y1 = b1[:, 0:1], b1[:, 1:2]
    x2, y2 = b2[None, :, 0], b2[None, :, 1]
    a1, bb1, c1 = cov(b1)
    a2, bb2, c2 = (v.T for v in cov(b2))
    t1 = (
        ((a1 + a2) * (y1 - y2) ** 2 + (bb1 + bb2) * (x1 - x2) ** 2)
        / ((a1 + a2) * (bb1 + bb2) - (c1 + c2) ** 2 + eps)
        * 0.25
    )
    t2 = (
        ((c1 + c2) * (x2 - x1) * (y1 - y2)) / ((a1 + a2) * (bb1 + bb2) - (c1 + c2) ** 2 + eps) * 0.5
    )
    t3 = (
        np.log(
            ((a1 + a2) * (bb1 + bb2) - (c1 + c2) ** 2)
            / (
                4 * np.sqrt(np.clip(a1 * bb1 - c1**2, 0, None) * np.clip(a2 * bb2 - c2**2, 0, None))
                + eps
            )
            + eps
        )
        * 0.5
    )
    bd = np.clip(t1 + t2 + t3, eps, 100.0)
    return 1 - np.sqrt(1.0 - np.exp(-bd) + eps)


def reference_keep(
    head: np.ndarray,
    conf: float = 0.25,
    iou: float = 0.7,
    agnostic: bool = False,
    max_det: int = 300,
) -> list[int]:
    """Columns of a raw head Ultralytics' rotated ``non_max_suppression`` keeps, best
    first: best class above ``conf``; boxes moved 7680 px per class (0 when agnostic);
    sorted by score; a box goes when any earlier one's probabilistic IoU with it is
    above ``iou`` (``fast_nms``); the first ``max_det``."""
    x = head[0].T.astype(np.float64)
    nc = x.shape[1] - 5
    cls = x[:, 4 : 4 + nc].argmax(1)
    score = x[:, 4 : 4 + nc].max(1)
    cand = np.flatnonzero(score > conf)
    order = cand[np.argsort(-score[cand], kind="stable")]
    boxes = np.concatenate([x[order, :4], x[order, -1:]], axis=1)
    boxes[:, :2] += (cls[order] * (0 if agnostic else 7680))[:, None]
    m = np.triu(_reference_probiou(boxes, boxes), k=1)
    pick = np.flatnonzero((m > iou).sum(0) <= 0)
    return order[pick][:max_det].tolist()


def _decoded(head: np.ndarray, **options: Any) -> list[Detection]:
    return decode_obb(head, MAP, scale=1.0, pad=(0.0, 0.0), **options)


def _expected(head: np.ndarray, **options: Any) -> list[tuple[float, float, str]]:
    """The (cx, cy, class) of the railcars Ultralytics keeps, best first."""
    x = head[0].T
    keep = [k for k in reference_keep(head, **options) if MAP[int(x[k, 4:7].argmax())]]
    return [(float(x[k, 0]), float(x[k, 1]), str(MAP[int(x[k, 4:7].argmax())])) for k in keep]


def _seen(dets: list[Detection]) -> list[tuple[float, float, str]]:
    return [(d.box.cx, d.box.cy, d.cls) for d in dets]


# ------------------------------------------------------------------- by hand


#: A tank car at (30, 30) 0.9; the same car again 0.8 (probiou 0.92: dropped); a tank car
#: 2 px across it 0.85 (probiou 0.61: kept at 0.7, dropped at 0.5); a boxcar on the
#: first 0.88 (another class: kept; agnostic: dropped); a plane on the first 0.95 (kept
#: by NMS per class, then dropped: no railcar; agnostic: it removes the first tank car
#: and the boxcar).
HAND = [
    (30.0, 30.0, 20.0, 6.0, 0, 0.90, 0.3),
    (30.5, 30.0, 20.0, 6.0, 0, 0.80, 0.3),
    (30.0 - 2 * math.sin(0.3), 30.0 + 2 * math.cos(0.3), 20.0, 6.0, 0, 0.85, 0.3),
    (30.2, 30.1, 6.0, 20.0, 1, 0.88, 0.3 - math.pi / 2),
    (30.0, 30.0, 20.0, 6.0, 2, 0.95, 0.3),
]


def test_the_measure_is_ultralytics_probabilistic_iou() -> None:
    b = np.array([(*r[:4], r[6]) for r in HAND])
    pairs = probiou(b[[0, 0, 0]], b[[1, 2, 3]])
    assert pairs == pytest.approx(_reference_probiou(b, b)[0, [1, 2, 3]], abs=1e-9)
    assert pairs[0] > 0.9 and 0.6 < pairs[1] < 0.62 and pairs[2] > 0.9  # 3: w and h swapped


def test_duplicates_go_per_class_at_0_7_as_in_ultralytics() -> None:
    """Before session 36: greedy NMS on polygon IoU 0.5 over all classes kept the plane
    then removed both tank cars under it and the boxcar: no railcar at all."""
    head = raw_head(HAND)
    got = _seen(_decoded(head))
    assert got == _expected(head)
    assert [c for _, _, c in got] == ["tank", "boxcar", "tank"]
    assert [c for _, _, c in _seen(_decoded(head, nms_iou=0.5))] == ["tank", "boxcar"]
    assert _seen(_decoded(head, nms_iou=0.5)) == _expected(head, iou=0.5)
    # agnostic: the plane (dropped afterwards) removes the railcars on it, not the one
    # 2 px across (probiou 0.61)
    agnostic = _seen(_decoded(head, agnostic=True))
    assert agnostic == _expected(head, agnostic=True)
    assert [(round(x, 1), c) for x, _, c in agnostic] == [(29.4, "tank")]


def test_fast_nms_drops_a_box_under_a_dropped_one() -> None:
    """A over B over C, 3.5 px apart along 20 px: probiou 0.79 between neighbours, 0.59
    between A and C (polygon IoU 0.48). Greedy NMS (railwatch's until session 36) drops
    B and keeps C; Ultralytics' fast NMS drops C too (any higher-scored box, kept or
    not, that overlaps it above the threshold)."""
    rows = [(30.0 + k * 3.5, 30.0, 20.0, 6.0, 0, s, 0.0) for k, s in enumerate((0.9, 0.8, 0.7))]
    b = np.array([(*r[:4], r[6]) for r in rows])
    assert probiou(b[[0, 1]], b[[1, 2]]).min() > 0.7 > probiou(b[[0]], b[[2]])[0]
    head = raw_head(rows)
    assert [d.box.cx for d in _decoded(head)] == [30.0]
    assert _seen(_decoded(head)) == _expected(head)


def test_the_score_must_be_above_conf_and_max_det_counts_every_class() -> None:
    rows = [
        (10.0, 10.0, 20.0, 6.0, 0, 0.25, 0.0),  # at conf: Ultralytics keeps only above it
        (40.0, 40.0, 20.0, 6.0, 2, 0.9, 0.0),  # a plane: counts towards max_det
        (40.0, 10.0, 20.0, 6.0, 1, 0.8, 0.0),
        (10.0, 40.0, 20.0, 6.0, 0, 0.7, 0.0),
    ]
    head = raw_head(rows)
    assert _seen(_decoded(head)) == [(40.0, 10.0, "boxcar"), (10.0, 40.0, "tank")]
    assert _seen(_decoded(head, max_det=2)) == [(40.0, 10.0, "boxcar")]
    assert _seen(_decoded(head, max_det=2)) == _expected(head, max_det=2)


@pytest.mark.parametrize(
    ("iou", "agnostic", "max_det"), [(0.7, False, 300), (0.5, False, 300), (0.7, True, 40)]
)
def test_random_crowds_match_the_reference(iou: float, agnostic: bool, max_det: int) -> None:
    """600 candidates, clustered so that most overlap, three classes, random angles."""
    rng = np.random.default_rng(36)
    centres = rng.uniform(20, 620, (60, 2))
    rows = []
    for _ in range(600):
        cx, cy = centres[rng.integers(60)] + rng.normal(0, 3, 2)
        w, h = rng.uniform(8, 40), rng.uniform(3, 12)
        rows.append((cx, cy, w, h, int(rng.integers(3)), rng.uniform(0.1, 1), rng.uniform(-1, 2)))
    head = raw_head(rows)
    options = {"nms_iou": iou, "agnostic": agnostic, "max_det": max_det}
    got = _seen(_decoded(head, **options))
    want = _expected(head, iou=iou, agnostic=agnostic, max_det=max_det)
    assert len(got) == len(want) > 20
    assert [g[2] for g in got] == [w[2] for w in want]
    assert np.allclose([g[:2] for g in got], [w[:2] for w in want])


@pytest.mark.parametrize("chunk", [512, 37])
def test_nms_indices_match_the_reference_on_far_apart_and_huge_boxes(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The candidate pairs come from a k-d tree, looked up in chunks of boxes (module
    docs): boxes of very different sizes, far apart and inside each other, at iou 0
    (every overlap counts) to 1 (none does)."""
    monkeypatch.setattr(onnx_backend, "_NMS_CHUNK", chunk)
    rng = np.random.default_rng(7)
    n = 300
    xywhr = np.column_stack(
        [
            rng.uniform(0, 2000, n),
            rng.uniform(0, 2000, n),
            rng.choice([2.0, 30.0, 600.0], n),
            rng.uniform(1, 10, n),
            rng.uniform(-3, 3, n),
        ]
    )
    scores = rng.uniform(0.3, 1, n)
    for iou in (0.0, 0.3, 0.7, 1.0):
        head = np.concatenate([xywhr[:, :4].T, scores[None], np.zeros((2, n)), xywhr[:, 4:].T])[
            None
        ]
        kept = ultralytics_nms(xywhr, scores, np.zeros(n, np.int64), iou=iou, max_det=n)
        assert kept.tolist() == reference_keep(head, iou=iou, max_det=n)


def test_an_end_to_end_output_is_not_nms_ed_again() -> None:
    """Ultralytics runs no NMS on an nms=True export or a one-to-one head: only
    ``score > conf`` and the first ``max_det`` rows (railwatch NMS-ed it at 0.5)."""
    rows = np.array(
        [
            [30, 30, 20, 6, 0.9, 0, 0.3],
            [31, 30, 20, 6, 0.8, 0, 0.3],  # probiou 0.9 with the first: stays
            [30, 30, 6, 20, 0.7, 1, 0.3],
            [60, 60, 20, 6, 0.25, 0, 0.0],  # at conf: out
            [50, 50, 20, 6, 0.6, 0, 0.0],
        ],
        np.float32,
    )[None]
    dets = decode_obb(rows, MAP, scale=1.0, pad=(0, 0), layout="end2end")
    assert [(d.box.cx, d.cls) for d in dets] == [
        (30, "tank"),
        (31, "tank"),
        (30, "boxcar"),
        (50, "tank"),
    ]
    dets = decode_obb(rows, MAP, scale=1.0, pad=(0, 0), layout="end2end", max_det=2)
    assert [d.box.cx for d in dets] == [30, 31]


# ---------------------------------------------------------------- through the model


def test_the_spec_options_reach_the_model(tmp_path: Path) -> None:
    model = constant_model(tmp_path / "m.onnx", raw_head(HAND))
    img = np.zeros((64, 64, 3), np.uint8)
    det = get_detector(f"onnx:{model}")
    assert isinstance(det, OnnxObbDetector)
    assert (det.nms_iou, det.agnostic, det.max_det, det.score_threshold) == (0.7, False, 300, 0.25)
    assert [d.cls for d in det.detect(img, 0.5)] == ["tank", "boxcar", "tank"]
    strict = get_detector(f"onnx:{model}?iou=0.5")
    assert [d.cls for d in strict.detect(img, 0.5)] == ["tank", "boxcar"]
    assert strict.version != det.version  # scenes are counted again with other settings
    assert len(get_detector(f"onnx:{model}?agnostic=1").detect(img, 0.5)) == 1
    assert len(get_detector(f"onnx:{model}?max_det=2&conf=0.5").detect(img, 0.5)) == 1
    assert len(get_detector(f"onnx:{model}?conf=0.86").detect(img, 0.5)) == 2


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("iou=0.7.1", "from 0 to 1"),
        ("iou=1.5", "from 0 to 1"),
        ("agnostic=maybe", "use 1"),
        ("max_det=0", "at least 1"),
        ("max_det=2.5", "whole number"),
        ("nms=0.5", "unknown option nms"),
    ],
)
def test_bad_nms_options_are_refused_with_what_to_give(
    tmp_path: Path, query: str, said: str
) -> None:
    model = constant_model(tmp_path / "m.onnx", raw_head(HAND))
    with pytest.raises(DetectorSpecError, match=said):
        get_detector(f"onnx:{model}?{query}")


def test_iou_on_an_end_to_end_export_is_refused(tmp_path: Path) -> None:
    """Its NMS is in the export: ?iou= would change nothing (as in Ultralytics)."""
    model = spot_model(
        tmp_path / "e2e.onnx", layout="e2e", meta={"end2end": "True", "names": "{0: 'railcar'}"}
    )
    with pytest.raises(InputError, match=r"NMS built in.*export the model again"):
        get_detector(f"onnx:{model}?iou=0.5")
    assert get_detector(f"onnx:{model}?max_det=10&conf=0.3") is not None


def pair_model(path: Path, size: int = 64) -> Path:
    """A model that boxes the reddest pixel twice, over each other: a tank car (score:
    the red value) and a boxcar 1 px to its right (0.9 times that), both 20 x 6 px at
    0.3 rad: polygon IoU 0.88, probabilistic IoU 0.97; raw head ``(1, 8, 2)``."""
    nodes = [
        _const("c0", np.array([0], np.int64)),
        _const("c1", np.array([1], np.int64)),
        _const("c3", np.array([3], np.int64)),
        helper.make_node("Slice", ["images", "c0", "c1", "c1"], ["red"]),
        helper.make_node("Shape", ["images"], ["shp"]),
        helper.make_node("Gather", ["shp", "c3"], ["wdim"], axis=0),
        _const("flat", np.array([0, -1], np.int64)),
        helper.make_node("Reshape", ["red", "flat"], ["red2"]),
        helper.make_node("ArgMax", ["red2"], ["idx"], axis=1, keepdims=1),
        helper.make_node("ReduceMax", ["red2"], ["score"], axes=[1], keepdims=1),
        helper.make_node("Mod", ["idx", "wdim"], ["col"]),
        helper.make_node("Div", ["idx", "wdim"], ["row"]),
        helper.make_node("Cast", ["col"], ["colf"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["row"], ["rowf"], to=TensorProto.FLOAT),
        _const("half", np.array([0.5], np.float32)),
        _const("one", np.array([1.0], np.float32)),
        _const("ninety", np.array([0.9], np.float32)),
        helper.make_node("Add", ["colf", "half"], ["cx"]),
        helper.make_node("Add", ["cx", "one"], ["cx2"]),
        helper.make_node("Add", ["rowf", "half"], ["cy"]),
        helper.make_node("Mul", ["score", "ninety"], ["score2"]),
        _const("zero", np.array([0.0], np.float32)),
        helper.make_node("Mul", ["score", "zero"], ["z"]),
    ]
    for name, v in {"w": 20.0, "h": 6.0, "ang": 0.3}.items():
        nodes.append(_const(f"{name}_c", np.array([v], np.float32)))
        nodes.append(helper.make_node("Add", ["z", f"{name}_c"], [name]))
    nodes += [
        helper.make_node("Concat", ["cx", "cy", "w", "h", "score", "z", "z", "ang"], ["a"], axis=1),
        helper.make_node(
            "Concat", ["cx2", "cy", "w", "h", "z", "score2", "z", "ang"], ["b"], axis=1
        ),
        _const("ax", np.array([2], np.int64)),
        helper.make_node("Unsqueeze", ["a", "ax"], ["a3"]),
        helper.make_node("Unsqueeze", ["b", "ax"], ["b3"]),
        helper.make_node("Concat", ["a3", "b3"], ["output0"], axis=2),
    ]
    graph = helper.make_graph(
        nodes,
        "pair",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 8, 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    helper.set_model_props(model, {"names": str(dict(enumerate(NAMES))), "task": "obb"})
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def test_the_seam_merge_keeps_what_one_tile_kept(tmp_path: Path) -> None:
    """Two boxes of different classes over each other, which Ultralytics keeps, in the
    overlap of two tiles: each tile keeps both, and the seam merge gives one of each
    (before session 36 the seam merge, polygon IoU 0.5 over all classes, left one)."""
    det = get_detector(f"onnx:{pair_model(tmp_path / 'pair.onnx')}")
    img = red_spot((64, 100), (48, 32))  # 100 px wide: two 64 px tiles, 28 px of overlap
    alone = det.detect(img[:, 20:84], 1.0)  # one tile: what Ultralytics keeps
    assert sorted(d.cls for d in alone) == ["boxcar", "tank"]
    dets = detect_array(img, 1.0, detector=det, tile_px=64, workers=1)
    assert sorted(d.cls for d in dets) == ["boxcar", "tank"]
    assert sorted(d.box.cx for d in dets) == [47.5, 48.5]


def _car(x: float, cls: str, score: float, run: float | None, length: float = 20.0) -> Detection:
    extra = {} if run is None else {RUN_KEY: run}
    return Detection(OrientedBox(x, 30.0, length, 6.0, 0.0), cls=cls, score=score, extra=extra)


def test_across_tiles_a_car_is_counted_once_and_each_tiles_pair_stays() -> None:
    # one run kept a tank car and a boxcar over each other: both stay
    assert len(merge_detections([_car(30, "tank", 0.9, 1.0), _car(31, "boxcar", 0.8, 1.0)])) == 2
    # the same car from two tiles, even called otherwise, or cut by the seam: once
    assert len(merge_detections([_car(30, "tank", 0.9, 1.0), _car(30.5, "boxcar", 0.8, 2.0)])) == 1
    cut = _car(25, "boxcar", 0.95, 2.0, length=10.0)  # its left half, inside the tank car
    assert merge_detections([_car(30, "tank", 0.9, 1.0), cut], np.array([10.0, 0.5])) == [
        _car(30, "tank", 0.9, 1.0)
    ]
    # tile 1 kept the pair, tile 2 saw only the boxcar, best of all: tank car and boxcar
    for boxcar2 in (0.95, 0.5):
        dets = [_car(30, "tank", 0.9, 1.0), _car(31, "boxcar", 0.8, 1.0)]
        dets.append(_car(31.2, "boxcar", boxcar2, 2.0))
        assert sorted(d.cls for d in merge_detections(dets)) == ["boxcar", "tank"]
    # without runs (the default detector): one car, as always
    assert len(merge_detections([_car(30, "tank", 0.9, None), _car(31, "boxcar", 0.8, None)])) == 1


def test_ultralytics_backend_gives_its_nms_settings_and_keeps_a_tiles_pair(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``ultralytics:PATH`` hands ``iou``, ``agnostic_nms`` and ``max_det`` to
    Ultralytics' ``predict`` (its NMS) and marks the run: two boxes it returns over each
    other stay two after the seam merge (a stand-in package: the real one is AGPL-3.0)."""
    seen: list[dict[str, Any]] = []

    class _T:
        def __init__(self, a: Any) -> None:
            self.a = np.asarray(a, np.float64)

        def cpu(self) -> _T:
            return self

        def numpy(self) -> np.ndarray:
            return self.a

    class YOLO:
        def __init__(self, path: str, task: str | None = None) -> None:
            self.task, self.names = "obb", {0: "tank car", 1: "boxcar"}
            self.overrides = {"imgsz": 64}

        def predict(self, image: np.ndarray, **kwargs: Any) -> list[Any]:
            seen.append(kwargs)
            obb = types.SimpleNamespace(
                xywhr=_T([[32, 32, 20, 6, 0.3], [33, 32, 20, 6, 0.3]]),
                conf=_T([0.9, 0.8]),
                cls=_T([0, 1]),
            )
            return [types.SimpleNamespace(obb=obb)]

    module = types.ModuleType("ultralytics")
    module.YOLO = YOLO  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ultralytics", module)
    pt = tmp_path / "m.pt"
    pt.write_bytes(b"stand-in")
    det = get_detector(f"ultralytics:{pt}?iou=0.5&agnostic=1&max_det=7")
    assert isinstance(det, UltralyticsObbDetector)
    img = np.zeros((64, 64, 3), np.uint8)
    dets = detect_array(img, 0.5, detector=det, workers=1)
    assert {k: seen[-1][k] for k in ("conf", "iou", "agnostic_nms", "max_det")} == {
        "conf": 0.25,
        "iou": 0.5,
        "agnostic_nms": True,
        "max_det": 7,
    }
    assert sorted(d.cls for d in dets) == ["boxcar", "tank"]
    default = get_detector(f"ultralytics:{pt}")
    default.detect(img, 0.5)
    assert (seen[-1]["iou"], seen[-1]["agnostic_nms"], seen[-1]["max_det"]) == (0.7, False, 300)
    assert default.version != det.version


def test_against_real_ultralytics() -> None:
    """Ultralytics' own ``non_max_suppression(rotated=True)`` (8.4.190) on random raw
    heads: the same boxes, in the same order. Skips without the package (AGPL-3.0,
    never a dependency: install it apart, e.g. ``pip install --no-deps --target DIR
    ultralytics``, and put DIR on PYTHONPATH)."""
    torch = pytest.importorskip("torch")
    nms = pytest.importorskip("ultralytics.utils.nms")
    rng = np.random.default_rng(5)
    for trial in range(12):
        n = 400
        centres = rng.uniform(20, 600, (40, 2))
        pick = rng.integers(40, size=n)
        head = np.zeros((1, 8, n), np.float32)
        head[0, :2] = (centres[pick] + rng.normal(0, 3, (n, 2))).T
        head[0, 2] = rng.uniform(8, 40, n)
        head[0, 3] = rng.uniform(3, 12, n)
        head[0, 4:7] = rng.uniform(0, 1, (3, n)) ** 2
        head[0, 7] = rng.uniform(-0.8, 2.4, n)
        iou = (0.7, 0.5, 0.3)[trial % 3]
        agnostic = trial % 2 == 1
        max_det = 300 if trial < 8 else 25
        out = nms.non_max_suppression(
            torch.from_numpy(head.copy()),
            0.25,
            iou,
            None,
            agnostic,
            max_det=max_det,
            nc=3,
            rotated=True,
        )[0].numpy()
        want = [(float(r[0]), float(r[1]), MAP[int(r[5])]) for r in out if MAP[int(r[5])]]
        got = _seen(_decoded(head, nms_iou=iou, agnostic=agnostic, max_det=max_det))
        assert [g[2] for g in got] == [w[2] for w in want], trial
        assert np.allclose([g[:2] for g in got], [w[:2] for w in want], atol=1e-4), trial
