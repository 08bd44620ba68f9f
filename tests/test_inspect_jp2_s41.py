"""JPEG 2000 in ``imagery.inspect``'s image signatures (session 41).

``imagery.inspect`` reads ``.jp2`` (GDAL's JP2OpenJPEG driver), and a file GDAL cannot
open is called corrupt when it is of an image format (its first bytes,
``IMAGE_SIGNATURES``, or its suffix) and "not an image format railwatch can read"
otherwise. The signatures knew TIFF, BigTIFF, PNG and JPEG, not JPEG 2000: a corrupt
``.jp2`` was corrupt only by its suffix, so a corrupt JP2 under another name, and a
corrupt ``.j2k`` (a bare codestream: the suffix is not in the list), were said to be of a
format railwatch cannot read, with "ingest needs a GeoTIFF/COG". Whole ones are read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from railwatch.imagery.inspect import (
    IMAGE_SIGNATURES,
    CorruptImageError,
    UnsupportedFormatError,
    inspect_scene,
)

#: a JP2 file's first box (its signature) and a bare codestream's SOC and SIZ markers
JP2_BOX = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
CODESTREAM = b"\xff\x4f\xff\x51"

needs_openjpeg = pytest.mark.skipif(
    "JP2OpenJPEG" not in rasterio.drivers.raster_driver_extensions().values(),
    reason="GDAL without the JP2OpenJPEG driver",
)


def _write(path: Path, **options: str) -> Path:
    """A georeferenced 3-band 0.5 m image of 256 x 256 px, JPEG 2000."""
    data = np.random.default_rng(41).integers(20, 200, (3, 256, 256)).astype("uint8")
    with rasterio.open(
        path, "w", driver="JP2OpenJPEG", width=256, height=256, count=3, dtype="uint8",
        crs="EPSG:32652", transform=from_origin(500_000, 4_700_000, 0.5, 0.5), **options,
    ) as ds:  # fmt: skip
        ds.write(data)
    return path


def _corrupt(err: pytest.ExceptionInfo[Exception], name: str) -> None:
    said = str(err.value)
    assert isinstance(err.value, CorruptImageError), said
    assert said.startswith(f"{name} is corrupt or truncated"), said
    assert "re-download or re-export it" in said
    assert "not an image format" not in said and "GeoTIFF/COG" not in said


def test_the_signatures_know_jpeg_2000() -> None:
    kinds = dict(IMAGE_SIGNATURES)
    assert kinds[JP2_BOX] == "a JPEG 2000 image"
    assert kinds[CODESTREAM] == "a JPEG 2000 codestream"
    # no signature is the start of another's (the first that matches names the file)
    magics = [m for m, _ in IMAGE_SIGNATURES]
    assert not [(a, b) for a in magics for b in magics if a != b and b.startswith(a)]


@pytest.mark.parametrize("head", [JP2_BOX, CODESTREAM], ids=["jp2", "codestream"])
@pytest.mark.parametrize("name", ["scene.dat", "2023-05-01_scene", "2023-05-01.j2k"])
def test_a_corrupt_jpeg_2000_file_is_corrupt_whatever_its_name(
    tmp_path: Path, head: bytes, name: str
) -> None:
    """JPEG 2000's first bytes and nothing GDAL can read after them: corrupt, as a
    corrupt TIFF is, under any name (no driver needed: GDAL cannot open it either way)."""
    path = tmp_path / name
    path.write_bytes(head + bytes(range(256)) * 4)
    with pytest.raises(CorruptImageError) as err:
        inspect_scene(path)
    _corrupt(err, name)


def test_a_file_of_another_format_is_still_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "2023-05-01_scene.dat"
    path.write_bytes(b"\x00\x00\x00\x0cjX" + bytes(500))  # close to a JP2 box, not one
    with pytest.raises(UnsupportedFormatError) as err:
        inspect_scene(path)
    assert not isinstance(err.value, CorruptImageError)
    assert "not an image format railwatch can read" in str(err.value)


@needs_openjpeg
@pytest.mark.parametrize(("suffix", "options"), [(".jp2", {}), (".j2k", {"CODEC": "J2K"})])
def test_a_whole_jpeg_2000_file_is_read_and_a_cut_one_is_corrupt(
    tmp_path: Path, suffix: str, options: dict[str, str]
) -> None:
    path = _write(tmp_path / f"2023-05-01_yard{suffix}", **options)
    head = JP2_BOX if suffix == ".jp2" else CODESTREAM
    raw = path.read_bytes()
    assert raw.startswith(head)
    info = inspect_scene(path)
    assert (info.width, info.height, info.band_count) == (256, 256, 3)
    assert info.gsd == pytest.approx(0.5)
    assert info.crs == "EPSG:32652"
    # its first 200 bytes (the headers, no image data), under its own name and another;
    # a codestream's georeferencing is in GDAL's NAME.aux.xml beside it, copied with it
    aux = path.with_name(path.name + ".aux.xml")
    for name in (f"cut{suffix}", "cut.bin"):
        cut = tmp_path / name
        cut.write_bytes(raw[:200])
        if aux.is_file():
            cut.with_name(name + ".aux.xml").write_bytes(aux.read_bytes())
        with pytest.raises(CorruptImageError) as err:
            inspect_scene(cut)
        _corrupt(err, name)


def test_detect_output_names_a_jpeg_2000_file_it_would_replace(tmp_path: Path) -> None:
    from railwatch.detect.geojson import _not_geojson

    (tmp_path / "a.jp2").write_bytes(JP2_BOX + bytes(64))
    (tmp_path / "a.j2k").write_bytes(CODESTREAM + bytes(64))
    assert _not_geojson(tmp_path / "a.jp2") == "a JPEG 2000 image"
    assert _not_geojson(tmp_path / "a.j2k") == "a JPEG 2000 codestream"
