"""eval --truth on a COCO or YOLO-OBB label folder names it and the import that brings it in.

export-labels --format coco/yolo-obb writes folders that eval (as train) does not read;
eval said only "no NAME.truth.geojson files" and pointed at the simulator, while train
named the layout and the import-labels command.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from railwatch.cli.main import main
from railwatch.detect.eval import pair_files
from railwatch.errors import InputError
from railwatch.export.labels import LabelImage, LabelObject, LabelSet, write_labels

BOX = ((10.0, 20.0), (38.0, 20.0), (38.0, 26.0), (10.0, 26.0))


def _folder(root: Path, fmt: str) -> Path:
    image = LabelImage("chip", 64, 48, (LabelObject("tank", BOX),), {"gsd": 0.5})
    pixels = {"chip": np.zeros((48, 64, 3), dtype=np.uint8)}
    write_labels(LabelSet(("tank",), (image,)), root, fmt, pixels)
    return root


@pytest.mark.parametrize("fmt", ["coco", "yolo-obb"])
def test_the_error_names_the_layout_and_the_import(fmt: str, tmp_path: Path) -> None:
    root = _folder(tmp_path / fmt, fmt)
    with pytest.raises(InputError) as err:
        pair_files(root, tmp_path)
    text = str(err.value)
    assert f"looks like a {'COCO' if fmt == 'coco' else 'YOLO-OBB'} dataset" in text
    assert f"railwatch import-labels {root} --format {fmt}" in text
    assert "give DIR to --truth" in text


def test_an_export_labels_yolo_folder_needs_no_gsd(tmp_path: Path) -> None:
    """export-labels' railwatch_export.json gives each chip's gsd (import-labels reads it)."""
    root = _folder(tmp_path / "y", "yolo-obb")
    (root / "railwatch_export.json").write_text('{"scenes": []}')
    with pytest.raises(InputError) as err:
        pair_files(root, tmp_path)
    assert "--format yolo-obb --out DIR" in str(err.value)
    assert "--gsd" not in str(err.value)
    (root / "railwatch_export.json").unlink()
    with pytest.raises(InputError, match=r"--format yolo-obb --gsd METRES --out DIR"):
        pair_files(root, tmp_path)


def test_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _folder(tmp_path / "c", "coco")
    (tmp_path / "pred").mkdir()
    assert main(["eval", "--truth", str(root), "--pred", str(tmp_path / "pred")]) == 2
    assert "looks like a COCO dataset" in " ".join(capsys.readouterr().err.split())
