"""train --labels on a DOTA export after correction (QA session 24)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from railwatch.detect.labels import load_labelled_dir

CAR = "10 10 40 10 40 16 10 16 tank 0"  # 15 m x 3 m at 0.5 m


def _chip(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((200, 300, 3), 90, np.uint8)).save(path)


def _label(root: Path, stem: str, *lines: str) -> None:
    (root / "labelTxt").mkdir(parents=True, exist_ok=True)
    (root / "labelTxt" / f"{stem}.txt").write_text("\n".join(("gsd:0.5", *lines)) + "\n")


def test_a_chip_whose_label_file_was_deleted_is_named(tmp_path: Path) -> None:
    # export-labels writes the chips in images/: one without its labelTxt file was left
    # out unsaid (only images beside the label files were listed)
    for stem in ("a", "b"):
        _chip(tmp_path / "images" / f"{stem}.png")
    _label(tmp_path, "a", CAR)
    labelled = load_labelled_dir(tmp_path)
    assert [i.name for i in labelled.images] == ["a"]
    assert labelled.unlabelled == ("images/b.png",)


def test_a_chip_named_in_another_case_is_found(tmp_path: Path) -> None:
    _chip(tmp_path / "images" / "Yard_A.PNG")
    _label(tmp_path, "yard_a", CAR)
    _chip(tmp_path / "images" / "empty.png")
    _label(tmp_path, "empty")  # a chip without cars: its gsd line only
    labelled = load_labelled_dir(tmp_path)
    assert [(i.name, len(i.cars)) for i in labelled.images] == [("empty", 0), ("yard_a", 1)]
    assert labelled.unlabelled == ()
