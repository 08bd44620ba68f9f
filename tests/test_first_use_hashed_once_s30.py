"""A coarse scene's references whose masks have no stamp (ingested before masks were
stamped) are stamped at their first use (1b37cf0); the jobs are made before any stamp is
recorded, so each such mask was hashed again by every scene of the run that read it (as
its own and as up to 16 others' reference): five 3 m scenes hashed each mask five times.
Now one `process` run hashes each unchanged mask once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import railwatch.imagery.inspect as inspect_module
from railwatch.ingest import MASK_STAMP_KEY, first_use_stamp
from railwatch.pipeline import process_site
from railwatch.storage import Database, repo
from test_imagery_register import coarse_site  # noqa: F401  (the fixture)
from test_integrity_stac_mask_s29 import _detector
from test_scene_identity_s29 import sha256


def _unstamp_all(db: Database) -> dict[int, str]:
    with db.session() as s:
        masks = {}
        for scene in repo.list_scenes(s, "yard"):
            scene.meta = {k: v for k, v in scene.meta.items() if k != MASK_STAMP_KEY}
            masks[scene.id] = str(scene.mask_uri)
    return masks


def _counting(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    hashed: Counter[str] = Counter()
    real = inspect_module.file_sha256

    def counted(path: str | Path) -> str:
        hashed[str(path)] += 1
        return real(Path(path))

    monkeypatch.setattr(inspect_module, "file_sha256", counted)
    return hashed


def test_a_run_hashes_each_unstamped_mask_once(
    coarse_site: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    masks = _unstamp_all(coarse_site)
    assert len(masks) == 5
    hashed = _counting(monkeypatch)
    summary = process_site(coarse_site, "yard", detector=_detector())
    assert len(summary.processed) == 5 and not summary.failed
    assert {m: hashed[m] for m in masks.values()} == {m: 1 for m in masks.values()}
    with coarse_site.session(readonly=True) as s:
        for scene_id, mask in masks.items():  # each stamped, of its own bytes
            stamp = repo.get_scene(s, scene_id).meta[MASK_STAMP_KEY]
            assert stamp["sha256"] == sha256(Path(mask)) and "first_use" in stamp


def test_a_mask_changed_within_the_run_is_hashed_again(tmp_path: Path) -> None:
    """The run's stamps are keyed by the mask's size and times: a mask rewritten since
    is hashed again, its new bytes stamped."""
    mask = tmp_path / "m.tif"
    mask.write_bytes(b"one")
    hashed: dict = {}
    first = first_use_stamp(str(mask), "railwatch process", hashed=hashed)
    assert first is not None and first_use_stamp(str(mask), "x", hashed=hashed) == first
    mask.write_bytes(b"other")
    again = first_use_stamp(str(mask), "railwatch process", hashed=hashed)
    assert again is not None and again["sha256"] == sha256(mask) != first["sha256"]
