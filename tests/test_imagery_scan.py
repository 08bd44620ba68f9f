"""scan_paths: expanding files and folders for ingest."""

from __future__ import annotations

from pathlib import Path

from railwatch.imagery import is_sidecar, scan_paths


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_directories_expand_recursively_sorted_without_sidecars(tmp_path: Path) -> None:
    root = tmp_path / "scenes"
    for rel in [
        "b/20231005_scene.tif",
        "a/2023-10-04.TIF",
        "a/2023-10-04.json",
        "a/2023-10-04.mask.tif",
        "a/2023-10-04.truth.geojson",
        "a/notes.txt",
        "a/.hidden.tif",
        ".cache/x.tif",
        "c/d/deep.tiff",
        "c/d/deep.jp2",
        "c/d/deep.tif.aux.xml",
        "c/d/ps_udm2.tif",
    ]:
        touch(root / rel)
    found = scan_paths([root])
    assert [p.relative_to(root).as_posix() for p in found] == [
        "a/2023-10-04.TIF",
        "b/20231005_scene.tif",
        "c/d/deep.jp2",
        "c/d/deep.tiff",
    ]


def test_files_are_kept_as_given_and_duplicates_dropped(tmp_path: Path) -> None:
    a = touch(tmp_path / "one.tif")
    odd = touch(tmp_path / "screenshot.png")  # named directly: kept, checked later
    missing = tmp_path / "missing.tif"
    found = scan_paths([a, str(odd), missing, tmp_path, a])
    assert found[:3] == [a, odd, missing]
    assert found.count(a) == 1


def test_thousands_of_files(tmp_path: Path) -> None:
    for i in range(3000):
        touch(tmp_path / f"d{i % 7}" / f"scene_{i:05d}.tif")
    found = scan_paths([tmp_path])
    assert len(found) == 3000
    assert found == sorted(found)


def test_is_sidecar() -> None:
    assert is_sidecar(Path("x.mask.tif")) and is_sidecar(Path("x.json"))
    assert not is_sidecar(Path("x.tif"))
