"""`railwatch export-labels --scene ID` of a 1.5 m or coarser scene says it is too coarse
to label car by car, whatever its state (session 41): a 10 m scene failed for want of its
site's centrelines was told to fix the cause and run process again, which never gives
car boxes."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from test_followup2_s40 import no_tracks  # noqa: F401 (the fixture: a site without tracks)


def test_a_coarse_failed_scene_is_said_too_coarse(
    no_tracks: dict[str, object],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, sid = str(no_tracks["url"]), str(no_tracks["tracks"])
    capsys.readouterr()
    args = ["--db", url, "export-labels", "--scene", sid, "--out", str(tmp_path / "x")]
    assert main(args) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"scene {sid} (10 m) is too coarse to label car by car" in err, err
    assert "counted for long trains only" in err
    assert "fix the cause" not in err
    assert not (tmp_path / "x").exists()  # nothing written
