"""QA (session 24): `railwatch eval` with truth made by other tools (QGIS, hand labels).

Before: a class written ``Tank``, ``TANK`` or ``tank car`` was read as an untyped
``railcar`` without a word (class accuracy 0), an unknown class too; ``covered`` given
as the string ``"false"`` or ``"no"`` was read as true; a file with a byte-order mark
was refused; a file without a ``crs`` member in metres was read as lon/lat (F1 0,
silently); boxes in lon/lat were matched in degrees (a car at an angle a parallelogram
there); only ``NAME.truth.geojson`` at the top of the folder, with its exact case, was
found; the JSON report did not say which files were paired or left out.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer

from railwatch.cli.main import main
from railwatch.detect.eval import evaluate_dirs, summarise

X0, Y0 = 630_000.0, 4_700_000.0
UTM = "EPSG:32652"


def _ring(
    cx: float, cy: float, length: float = 14.0, width: float = 3.0, angle: float = 0.0
) -> list[list[float]]:
    a = math.radians(angle)
    ux, uy = math.cos(a), math.sin(a)
    vx, vy = -uy, ux
    pts = [
        (
            cx + sx * ux * length / 2 + sy * vx * width / 2,
            cy + sx * uy * length / 2 + sy * vy * width / 2,
        )
        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    return [list(p) for p in (*pts, pts[0])]


def _feature(ring: list[list[float]], **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": props,
    }


def _fc(features: list[dict[str, Any]], crs: str | bool | None = UTM) -> dict[str, Any]:
    fc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs is not False:
        fc["crs"] = None if crs is None else {"type": "name", "properties": {"name": crs}}
    return fc


def _write(path: Path, fc: dict[str, Any], bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("\ufeff" if bom else "") + json.dumps(fc), encoding="utf-8")


def _cars(n: int, **props: Any) -> list[dict[str, Any]]:
    return [_feature(_ring(X0 + 20 * i, Y0), **props) for i in range(n)]


def _report(truth: Path, pred: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["eval", "--truth", str(truth), "--pred", str(pred), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return " ".join(capsys.readouterr().err.split())


def test_figures_of_a_tiny_case_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """4 true cars, 3 predicted, 2 on true cars: P 2/3, R 2/4, F1 4/7; count error -1."""
    _write(tmp_path / "t/a.truth.geojson", _fc(_cars(4, **{"class": "boxcar"})))
    pred = [*_cars(2, **{"class": "boxcar"}), _feature(_ring(X0 + 200, Y0), **{"class": "boxcar"})]
    _write(tmp_path / "p/a.detections.geojson", _fc(pred))
    o = _report(tmp_path / "t", tmp_path / "p", capsys)["overall"]
    assert o["iou0.5"] == {
        "scenes": 1,
        "tp": 2,
        "fp": 1,
        "fn": 2,
        "precision": 0.6667,
        "recall": 0.5,
        "f1": 0.5714,
    }
    assert o["count"]["mae"] == 1.0 and o["count"]["bias"] == -1.0 and o["count"]["mape"] == 0.25


def test_class_names_written_differently_are_mapped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = [
        _feature(_ring(X0 + 20 * i, Y0), **{"class": name})
        for i, name in enumerate(("Tank", "TANK", "tank car", " Tank_Car ", "Box Car", "Unknown"))
    ]
    _write(tmp_path / "t/a.truth.geojson", _fc(truth))
    pred = [_feature(_ring(X0 + 20 * i, Y0), **{"class": "tank"}) for i in range(4)]
    pred += [_feature(_ring(X0 + 80, Y0), **{"class": "boxcar"})]
    pred += [_feature(_ring(X0 + 100, Y0), **{"class": "railcar"})]
    _write(tmp_path / "p/a.detections.geojson", _fc(pred))
    report = _report(tmp_path / "t", tmp_path / "p", capsys)
    assert report["overall"]["class_accuracy"] == 1.0
    assert {c: v["truth"] for c, v in report["by_class"].items()} == {
        "boxcar": 1,
        "railcar": 1,
        "tank": 4,
    }


def test_an_unknown_class_is_refused_before_any_scene(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "t/a.truth.geojson", _fc(_cars(1)))
    _write(tmp_path / "t/b.truth.geojson", _fc(_cars(2, **{"class": "hopper wagon"})))
    for name in "ab":
        _write(tmp_path / f"p/{name}.detections.geojson", _fc(_cars(1)))
    assert main(["eval", "--truth", str(tmp_path / "t"), "--pred", str(tmp_path / "p")]) == 2
    err = _err(capsys)
    assert (
        "b.truth.geojson: feature 0 has class 'hopper wagon', which is not a railcar class" in err
    )
    assert "boxcar, gondola" in err and "railcar for a car of unknown type" in err
    assert "evaluated a" not in err  # every file is read before the first scene


@pytest.mark.parametrize(
    ("value", "covered"),
    [
        ("false", False),
        ("no", False),
        ("No", False),
        ("0", False),
        (0, False),
        ("", False),
        ("true", True),
        ("yes", True),
        ("YES", True),
        ("1", True),
        (1, True),
    ],
)
def test_covered_given_as_strings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: object, covered: bool
) -> None:
    _write(tmp_path / "t/a.truth.geojson", _fc(_cars(1, covered=value)))
    _write(tmp_path / "p/a.detections.geojson", _fc(_cars(1, covered=covered)))
    assert _report(tmp_path / "t", tmp_path / "p", capsys)["overall"]["covered_accuracy"] == 1.0


def test_a_covered_flag_that_is_no_flag_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "t/a.truth.geojson", _fc(_cars(1, covered="maybe")))
    _write(tmp_path / "p/a.detections.geojson", _fc(_cars(1)))
    assert main(["eval", "--truth", str(tmp_path / "t"), "--pred", str(tmp_path / "p")]) == 2
    assert "feature 0 has covered 'maybe': give true or false" in _err(capsys)


def test_a_file_with_a_byte_order_mark_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "t/a.truth.geojson", _fc(_cars(2)), bom=True)
    _write(tmp_path / "p/a.detections.geojson", _fc(_cars(2)))
    assert _report(tmp_path / "t", tmp_path / "p", capsys)["overall"]["iou0.5"]["f1"] == 1.0


def test_metres_without_a_crs_member_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "t/a.truth.geojson", _fc(_cars(2), crs=False))  # read as lon/lat
    _write(tmp_path / "p/a.detections.geojson", _fc(_cars(2)))
    assert main(["eval", "--truth", str(tmp_path / "t"), "--pred", str(tmp_path / "p")]) == 2
    err = _err(capsys)
    assert "a.truth.geojson: its coordinates (e.g. " in err
    assert "are not longitude/latitude" in err and '"crs": null for pixel coordinates' in err


def test_lonlat_boxes_are_matched_in_metres(tmp_path: Path) -> None:
    """A car at 45 deg and its detection 4.75 m along it: IoU 0.493 in metres (no match
    at 0.5); in degrees the parallelograms' fitted boxes gave 0.516 (a match)."""
    to_ll = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)

    def lonlat(ring: list[list[float]]) -> list[list[float]]:
        xs, ys = to_ll.transform([p[0] for p in ring], [p[1] for p in ring])
        return [[float(x), float(y)] for x, y in zip(xs, ys, strict=True)]

    d = 4.75 / math.sqrt(2)
    _write(
        tmp_path / "t/a.truth.geojson", _fc([_feature(lonlat(_ring(X0, Y0, angle=45)))], crs=False)
    )
    _write(
        tmp_path / "p/a.detections.geojson",
        _fc([_feature(lonlat(_ring(X0 + d, Y0 + d, angle=45)))], crs=False),
    )
    o = summarise(evaluate_dirs(tmp_path / "t", pred_dir=tmp_path / "p"))["overall"]
    assert o["iou0.5"]["tp"] == 0 and o["iou0.3"]["tp"] == 1


def test_files_named_otherwise_are_paired_and_the_report_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth, pred = tmp_path / "t", tmp_path / "p"
    _write(truth / "siteA/Yard1.TRUTH.geojson", _fc(_cars(2)))  # nested, other case
    _write(truth / "siteA/Yard1.labels.geojson", _fc(_cars(5)))  # the .truth file wins
    _write(truth / "yard2.labels.geojson", _fc([]))  # an empty yard: a scene, no cars
    _write(pred / "yard1.detections.geojson", _fc(_cars(2)))  # detect --out-dir: flat
    _write(pred / "yard2.geojson", _fc(_cars(1)))
    _write(pred / "other.detections.geojson", _fc(_cars(1)))
    report = _report(truth, pred, capsys)
    rows = {r["name"]: r for r in report["scenes"]}
    assert set(rows) == {"siteA/Yard1", "yard2"}
    assert rows["siteA/Yard1"]["truth_file"] == str(truth / "siteA/Yard1.TRUTH.geojson")
    assert rows["siteA/Yard1"]["pred_file"] == str(pred / "yard1.detections.geojson")
    assert rows["siteA/Yard1"]["count_error"] == 0
    assert rows["yard2"]["truth"] == 0 and rows["yard2"]["count_error"] == 1
    assert report["overall"]["count"]["scenes"] == 2
    assert report["left_out"] == [
        {
            "file": "siteA/Yard1.labels.geojson",
            "folder": "truth",
            "reason": "Yard1.TRUTH.geojson is the truth of this scene",
        },
        {"file": "other.detections.geojson", "folder": "pred", "reason": "matches no truth file"},
    ]


def test_a_missing_prediction_names_the_scene_and_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "t/sub/a.truth.geojson", _fc(_cars(1)))
    (tmp_path / "p").mkdir()
    assert main(["eval", "--truth", str(tmp_path / "t"), "--pred", str(tmp_path / "p")]) == 2
    err = _err(capsys)
    assert "1 of the 1 truth files" in err and "sub/a.truth.geojson" in err
    assert "nothing was evaluated" in err and "move its truth file out" in err
