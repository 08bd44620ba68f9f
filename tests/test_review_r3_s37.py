"""Review r3 of session 37 (05c01f2 quality in strips, cade8d1/7e90752 hand-count input,
41fa9e5 ingest's sidecars and pictures): the defects found, each with the test that
fails without its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.analysis.csvio import MAX_LINE_ERRORS, parse_counts_csv
from railwatch.errors import InputError
from railwatch.imagery.scan import scan
from railwatch.ingest import ingest_paths
from test_ingest_sidecars_pictures_s37 import _db, _georeferenced_png, _sim_folder


def test_a_file_named_after_its_folder_is_checked_as_named(tmp_path: Path) -> None:
    """41fa9e5: a picture or sidecar named directly after a folder that holds it was kept
    among the folder's passed-over pictures or left-out sidecars (one set of seen
    paths), so it was never checked as the file named."""
    folder = tmp_path / "f"
    image, mask, *_, preview = _sim_folder(folder)
    shot = folder / "browse_2024-05-02.png"
    shot.write_bytes(b"")
    found = scan([folder, shot, mask, preview])
    assert found.files == (image, shot, mask, preview)
    assert shot not in found.pictures and mask not in found.sidecars
    assert preview not in found.sidecars
    # named first, then the folder: the same
    again = scan([shot, folder])
    assert again.files == (shot, image) and again.pictures == ()


def test_a_georeferenced_png_named_after_its_folder_is_ingested(
    tmp_path: Path, tmp_db_url: str
) -> None:
    """41fa9e5's passed-over line says 'name it to ingest it': named after its folder,
    it was passed over again with that same line."""
    folder = tmp_path / "f"
    folder.mkdir()
    geo = _georeferenced_png(folder / "browse_2024-05-01.png")
    db = _db(tmp_db_url)
    summary = ingest_paths(db, "yard", [folder, geo])
    db.dispose()
    assert summary.passed_over == []
    assert len(summary.ingested) == 1 and summary.failed == []


def test_the_cap_counts_the_lines_left_out_not_their_errors() -> None:
    """7e90752: 'and N more bad lines' counted errors, and the last line of this file has
    two (an empty site and a bad gsd): 26 bad lines, 20 shown, said 7 more for 6."""
    rows = [f"2024-01-{day:02d},5,yard,zz" for day in range(1, 26)]
    text = "\n".join(["date,count,site,gsd", *rows, "2024-01-27,5,,zz"]) + "\n"
    with pytest.raises(InputError) as caught:
        parse_counts_csv(text)
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("CSV: 26 lines cannot be read")
    assert len(lines) == 1 + MAX_LINE_ERRORS + 1
    assert lines[-1] == "and 6 more bad lines (from line 22)"
