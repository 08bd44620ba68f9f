"""Review r1 (session 39) of `railwatch detect`, `eval` and the exports, as a remote
sensing user runs them: the faults it found, each fixed.

- `detect IMG -o IMG` (or `scene cars ID -o IMAGE`) wrote the GeoJSON over the image:
  :func:`railwatch.detect.geojson.write_geojson` refuses a file there that is no JSON.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from imagery_helpers import write_geotiff
from railwatch.cli.main import main
from railwatch.detect.geojson import write_geojson
from railwatch.errors import InputError

_FC = {"type": "FeatureCollection", "features": []}


def _rgb(h: int, w: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (3, h, w), dtype=np.uint8)


def test_detect_output_over_its_own_image_is_refused_and_the_image_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img = write_geotiff(tmp_path / "yard.tif", _rgb(96, 96))
    before = img.read_bytes()
    assert main(["detect", str(img), "-o", str(img)]) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert "is a TIFF image, which they would replace" in err
    assert "yard.detections.geojson" in err  # the name to give instead
    assert img.read_bytes() == before


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(32), "a PNG image"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + bytes(32), "a JPEG image"),
        ("notes.txt", b"yard notes, 2026\n", "not a GeoJSON file"),
    ],
)
def test_write_geojson_keeps_a_file_that_is_no_json(
    tmp_path: Path, name: str, content: bytes, kind: str
) -> None:
    out = tmp_path / name
    out.write_bytes(content)
    with pytest.raises(InputError, match=kind):
        write_geojson(out, _FC)
    assert out.read_bytes() == content


def test_write_geojson_keeps_a_database(tmp_path: Path) -> None:
    db = tmp_path / "railwatch.geojson"
    with sqlite3.connect(db) as con:
        con.execute("create table t (x)")
    con.close()
    before = db.read_bytes()
    with pytest.raises(InputError, match="an SQLite database"):
        write_geojson(db, _FC)
    assert db.read_bytes() == before


@pytest.mark.parametrize("old", [b"", b'{"type": "FeatureCollection"}', b'\xef\xbb\xbf\n {"a": 1}'])
def test_write_geojson_replaces_json_and_empty_files_as_before(tmp_path: Path, old: bytes) -> None:
    out = tmp_path / "yard.detections.geojson"
    out.write_bytes(old)
    write_geojson(out, _FC)
    assert out.read_text().startswith('{"type": "FeatureCollection"')
