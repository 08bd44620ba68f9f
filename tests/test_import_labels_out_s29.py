"""import-labels into a folder that holds a training set already.

A second source imported into the folder of the first (``import-labels batch2/ --site
yard`` after ``batch1/``: both default to labels/yard) replaced its railwatch_labels.json:
railwatch train --labels no longer saw batch 1, and nothing said so. Now that is
refused, the first training set left as it was; the same source imported again (after
more corrections) still replaces its earlier import, and the copies of images the
source no longer has are removed (the folder's Ultralytics layout trained on them).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from railwatch.errors import InputError
from railwatch.export.labels import (
    LabelImage,
    LabelObject,
    LabelSet,
    import_labels,
    write_labels,
)

BOX = ((10.0, 20.0), (38.0, 20.0), (38.0, 26.0), (10.0, 26.0))


def _source(folder: Path, names: tuple[str, ...]) -> Path:
    images = tuple(LabelImage(n, 64, 48, (LabelObject("tank", BOX),), {"gsd": 0.5}) for n in names)
    pixels = {n: np.full((48, 64, 3), k * 40, dtype=np.uint8) for k, n in enumerate(names)}
    write_labels(LabelSet(("tank",), images), folder, "dota", pixels)
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_second_source_does_not_replace_the_first_training_set(tmp_path: Path) -> None:
    out = tmp_path / "labels" / "yard"
    import_labels(_source(tmp_path / "batch1", ("a", "b")), "dota", out, site="yard")
    before = _files(out)
    with pytest.raises(InputError) as err:
        import_labels(_source(tmp_path / "batch2", ("c",)), "dota", out, site="yard")
    text = str(err.value)
    assert f"holds a training set imported from {(tmp_path / 'batch1').resolve()}" in text
    assert "2 images" in text and "yard-2" in text and "delete" in text
    assert _files(out) == before
    manifest = json.loads((out / "railwatch_labels.json").read_text())
    assert [i["name"] for i in manifest["images"]] == ["a", "b"]


def test_the_same_source_again_replaces_its_import_and_its_dropped_images(
    tmp_path: Path,
) -> None:
    src = _source(tmp_path / "src", ("a", "b", "c"))
    out = tmp_path / "train"
    import_labels(src, "dota", out)
    # the analyst drops a bad chip and imports the corrected folder again
    (src / "images" / "b.png").unlink()
    (src / "labelTxt" / "b.txt").unlink()
    summary = import_labels(src, "dota", out)
    assert summary.images == 2
    assert sorted(p.name for p in (out / "images").iterdir()) == ["a.png", "c.png"]
    assert sorted(p.name for p in (out / "labels").iterdir()) == ["a.txt", "c.txt"]


def test_images_that_are_no_training_set_are_not_written_over(tmp_path: Path) -> None:
    src = _source(tmp_path / "src", ("a",))
    out = tmp_path / "export"
    shutil.copytree(src, out)  # e.g. an export-labels folder given as --out by mistake
    before = _files(out)
    with pytest.raises(InputError, match=r"holds images or labels already \(images/ with 1 file"):
        import_labels(src, "dota", out)
    assert _files(out) == before
