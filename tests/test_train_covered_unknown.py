"""Labels in a format without a covered flag (DOTA, YOLO-OBB) leave the covered output
untaught: before session 25 every such car was taught as not covered, so fine-tuning on
a verified DOTA set (export-labels --reviewed-only --format dota) unlearnt tarpaulins."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from railwatch.detect.labels import LabelledCar, LabelledImage, labelled_crops
from railwatch.detect.model_core import WorkBox, encode_targets
from railwatch.detect.train import CROP


def _item(source: str) -> LabelledImage:
    from pathlib import Path

    from shapely.geometry import Polygon

    img = np.full((400, 400, 3), 120, np.uint8)
    car = Polygon([(150, 195), (178, 195), (178, 201), (150, 201)])  # 14 x 3 m at 0.5 m
    img[195:201, 150:178] = (200, 40, 40)
    return LabelledImage(
        name="chip",
        image_path=Path("chip.png"),
        label_path=Path("chip.txt"),
        image=img,
        gsd=0.5,
        native_gsd=0.5,
        cars=(LabelledCar(np.asarray(car.exterior.coords)[:4], "tank", True),),
        source=source,
    )


@pytest.mark.parametrize(
    ("source", "known"), [("geojson", True), ("coco", True), ("dota", False), ("yolo-obb", False)]
)
def test_crops_of_formats_without_the_flag_leave_it_unknown(source: str, known: bool) -> None:
    ((_, boxes),) = labelled_crops(
        _item(source), np.random.default_rng(0), (0.5, 0.5), n_crops=1, focus=1.0
    )
    assert len(boxes) == 1
    assert boxes[0].covered is (True if known else None)


def test_unknown_covered_cars_are_out_of_the_covered_target() -> None:
    car = WorkBox(CROP / 2, CROP / 2, 28.0, 6.0, 0.0, 0, True)
    told = encode_targets([car], (CROP, CROP))
    untold = encode_targets([replace(car, covered=None)], (CROP, CROP))
    assert (told["cov_known"] == told["body"]).all() and told["cov"].max() == 1.0
    assert untold["body"].sum() > 0 and untold["cov_known"].sum() == 0
    assert untold["cov"].max() == 0.0


def test_the_covered_loss_leaves_unknown_cars_out() -> None:
    torch = pytest.importorskip("torch")
    from railwatch.detect.train import _loss

    car = WorkBox(CROP / 2, CROP / 2, 28.0, 6.0, 0.0, 0, True)

    def loss(covered: bool | None, logit: float) -> float:
        t = encode_targets([replace(car, covered=covered)], (CROP, CROP))
        tt = {k: torch.from_numpy(v[None]) for k, v in t.items()}
        gh, gw = t["heat"].shape
        out = torch.zeros((1, 16, gh, gw))
        out[:, -1] = logit
        _, parts = _loss(torch, out, tt)
        return parts["cov"]

    assert loss(None, -5.0) == loss(None, 5.0) == 0.0  # whatever the network says
    assert loss(True, -5.0) > 4.0 and loss(True, 5.0) < 0.01  # a known flag is taught
