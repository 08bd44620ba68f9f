"""The pipeline's file-stamp fields are typed as the stamps they hold (session 24
follow-up): ``ingest.file_stamp`` nests the sidecars' stamps under ``sidecars`` (a
mapping, not an int), so ``Mapping[str, int]`` / ``dict[str, int]`` told mypy and
readers something false about every stamp with a sidecar."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_type_hints

from railwatch.ingest import SIDECARS_KEY, file_stamp
from railwatch.pipeline import SceneJob, SceneOutcome


def test_stamp_fields_hold_nested_sidecar_stamps(tmp_path: Path) -> None:
    image = tmp_path / "a.tif"
    image.write_bytes(b"not read")
    (tmp_path / "a.tif.aux.xml").write_text("<PAMDataset/>")
    stamp = file_stamp(image)
    assert isinstance(stamp.get(SIDECARS_KEY), Mapping)  # a value that is no int
    assert get_type_hints(SceneJob)["file_stamp"] == Mapping[str, Any] | None
    assert get_type_hints(SceneOutcome)["file_stamp"] == dict[str, Any] | None
