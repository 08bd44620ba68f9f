"""Display scenes counted before the bands' scale and offset were applied are counted again.

Since 3be6682 the scale and offset a band declares are applied before the stretch to 8
bits: a scene ingested with ``--radiometry display`` whose bands are stored with
different scales had been counted with the wrong colour balance (a grey read 162/69/23).
The display mapping's version (``+ind2`` in the processing version) was not bumped, so
``railwatch process`` passed over those scenes; it is ``d3`` now. Linear and 8-bit
scenes keep their version and are not counted again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from railwatch import pipeline
from railwatch.imagery.quality import QUALITY_VERSION
from railwatch.imagery.read import DISPLAY_MAPPING_VERSION, INPUT_MAPPING_VERSION
from railwatch.pipeline import process_site, processing_version
from railwatch.storage import Database, repo
from test_ingest_qa22_radiometry import NoCars, run, yard  # noqa: F401  (the fixture)

Q = f"+q{QUALITY_VERSION}"  # ends every processing version (session 43)


def test_versions_of_each_radiometry() -> None:
    det: Any = NoCars()
    assert DISPLAY_MAPPING_VERSION == "d3"
    assert processing_version(det, 0.5, "uint16", "display") == f"1+ind3{Q}"
    # linear data and 8-bit files: as before
    assert INPUT_MAPPING_VERSION == "3"
    assert processing_version(det, 0.5, "uint16", "linear") == f"1+in3{Q}"
    assert processing_version(det, 0.5, "float32") == f"1+in3{Q}"
    assert processing_version(det, 0.5, "uint8", "display") == f"1{Q}"


def _versions(url: str) -> dict[str, str | None]:
    db = Database(url)
    with db.session(readonly=True) as s:
        out = {sc.dtype: sc.detector_version for sc in repo.list_scenes(s, "yard")}
    db.dispose()
    return out


def test_a_display_scene_counted_under_d2_is_counted_again(
    yard: tuple[str, Path, Path],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, sixteen, plain = yard
    for path, radiometry in ((sixteen, "display"), (plain, "linear")):
        code, _, err = run(
            capsys, "--db", url, "ingest", "yard", str(path), "--radiometry", radiometry
        )
        assert code == 0, err
    db = Database(url)
    # counted by a railwatch from before this fix (display mapping d2)
    with monkeypatch.context() as m:
        m.setattr(pipeline, "DISPLAY_MAPPING_VERSION", "d2")
        first = process_site(db, "yard", detector=NoCars())
    assert len(first.processed) == 2
    assert _versions(url) == {"uint16": f"1+ind2{Q}", "uint8": f"1{Q}"}
    again = process_site(db, "yard", detector=NoCars())
    # the display scene only: the 8-bit one is read as before
    assert len(again.processed) == 1 and again.skipped == 1
    assert _versions(url) == {"uint16": f"1+ind3{Q}", "uint8": f"1{Q}"}
    assert process_site(db, "yard", detector=NoCars()).skipped == 2
    db.dispose()
