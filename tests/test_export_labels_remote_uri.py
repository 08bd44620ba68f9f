"""``export-labels`` opens scenes as the pipeline does (``imagery.inspect.gdal_path``):
a scene registered by ``ingest-stac`` with a ``file://localhost/...`` href (or s3://,
http(s)://) was skipped as "cannot open scene"."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from railwatch.export.label_chips import export_labels
from railwatch.storage import Database, repo
from report_db import populate


def test_a_scene_with_a_file_url_is_exported(tmp_path: Path) -> None:
    folder = tmp_path / "scènes 1"  # a space and an accent: percent-encoded in the URL
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, folder)
    with db.session() as s:
        scenes = [sc for sc in repo.list_scenes(s, repo.get_site(s, "testyard")) if sc.usable]
        for sc in scenes:
            sc.uri = "file://localhost" + quote(str(Path(sc.uri).resolve()))
        n = len(scenes)
    result = export_labels(db, tmp_path / "out", "yolo-obb", site="testyard", chip=256)
    assert result.scenes == n and not result.skipped, result.skipped
    db.dispose()


def test_an_unreadable_cloud_scene_names_the_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    with db.session() as s:
        sc = next(x for x in repo.list_scenes(s, repo.get_site(s, "testyard")) if x.usable)
        sc.uri = "s3://no-such-bucket-railwatch-test/scene.tif"
    monkeypatch.setenv("AWS_S3_ENDPOINT", "127.0.0.1:9")  # nothing listens there: no network
    monkeypatch.setenv("AWS_NO_SIGN_REQUEST", "YES")  # nor a credentials lookup
    result = export_labels(db, tmp_path / "out", "yolo-obb", site="testyard", chip=256)
    reasons = " ".join(str(r) for r in result.skipped)
    assert "AWS_ACCESS_KEY_ID" in reasons or "AWS_NO_SIGN_REQUEST" in reasons, reasons
    db.dispose()
