"""``railwatch_labels.json`` names an object's class ``class`` (session 39), as every
other railwatch output does; import-labels still writes ``cls`` beside it for one
release. Its readers take ``class`` first, ``cls`` when ``class`` is absent (manifests
written before), check whichever is there alike, and refuse the two naming different
classes, naming the file, the object and both values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.detect.labels import load_labelled_dir
from railwatch.errors import InputError
from railwatch.export.labels import (
    LabelImage,
    LabelObject,
    LabelSet,
    import_labels,
    write_labels,
)

BOX = ((10.0, 20.0), (38.0, 20.0), (38.0, 26.0), (10.0, 26.0))


def _imported(tmp_path: Path) -> Path:
    objects = (LabelObject("tank", BOX), LabelObject("hopper", BOX))
    images = (LabelImage("a", 64, 48, objects, {"gsd": 0.5}),)
    pixels = {"a": np.full((48, 64, 3), 90, dtype=np.uint8)}
    src = tmp_path / "src"
    write_labels(LabelSet(("tank", "hopper"), images), src, "dota", pixels)
    out = tmp_path / "train"
    import_labels(src, "dota", out)
    return out


def _edit(folder: Path, change: Any) -> None:
    path = folder / "railwatch_labels.json"
    doc = json.loads(path.read_text())
    for obj in doc["images"][0]["objects"]:
        change(obj)
    path.write_text(json.dumps(doc))


def _classes(folder: Path) -> list[str]:
    (image,) = load_labelled_dir(folder).images
    return [c.cls for c in image.cars]


def test_import_labels_writes_class_and_cls_beside_it(tmp_path: Path) -> None:
    out = _imported(tmp_path)
    doc = json.loads((out / "railwatch_labels.json").read_text())
    objects = doc["images"][0]["objects"]
    assert [o["class"] for o in objects] == ["tank", "hopper"]
    assert [o["cls"] for o in objects] == ["tank", "hopper"]
    assert _classes(out) == ["tank", "hopper"]


def test_a_manifest_with_class_only_is_read(tmp_path: Path) -> None:
    out = _imported(tmp_path)
    _edit(out, lambda o: o.pop("cls", None))
    assert _classes(out) == ["tank", "hopper"]


def test_a_manifest_written_before_with_cls_only_is_read(tmp_path: Path) -> None:
    out = _imported(tmp_path)

    def old(obj: dict[str, Any]) -> None:
        obj["cls"] = obj.pop("class", obj.get("cls"))

    _edit(out, old)
    assert _classes(out) == ["tank", "hopper"]


def test_class_is_read_as_eval_reads_it_and_agrees_with_cls(tmp_path: Path) -> None:
    out = _imported(tmp_path)
    _edit(out, lambda o: o.update({"class": o["class"].upper() + " Car"}))
    assert _classes(out) == ["tank", "hopper"]


def test_a_bad_class_is_refused_with_its_file_and_object(tmp_path: Path) -> None:
    out = _imported(tmp_path)
    _edit(out, lambda o: o.pop("cls", None))
    path = out / "railwatch_labels.json"
    doc = json.loads(path.read_text())
    doc["images"][0]["objects"][1]["class"] = "spaceship"
    path.write_text(json.dumps(doc))
    with pytest.raises(
        InputError,
        match=r"railwatch_labels.json: image 'a' object 1: unknown "
        r"class 'spaceship'",
    ):
        load_labelled_dir(out)


def test_class_and_cls_that_disagree_are_refused_naming_both(tmp_path: Path) -> None:
    out = _imported(tmp_path)
    path = out / "railwatch_labels.json"
    doc = json.loads(path.read_text())
    doc["images"][0]["objects"][1]["cls"] = "boxcar"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as err:
        load_labelled_dir(out)
    text = str(err.value)
    assert "railwatch_labels.json: image 'a' object 1:" in text
    assert "'class' is 'hopper' but 'cls' is 'boxcar'" in text
    assert "object 0" not in text
