"""An unusable 16-bit scene judged without a quality mask says that its judgement comes
from stretched pixels and how to judge it reliably; an 8-bit one, or one with a mask,
does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imagery_helpers import ORIGIN_X, ORIGIN_Y, add_cloud, utm_box_wgs84, write_geotiff, yard_scene
from railwatch.ingest import ingest_paths
from railwatch.pipeline import STRETCHED_NOTE, process_site
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo


class NoCars:
    name = "none"
    version = "1"

    def detect(self, image: Any, gsd: float, valid: Any = None) -> list[Any]:
        return []


def test_the_note_is_given_to_unusable_stretched_scenes_only(tmp_path: Path) -> None:
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    cloudy = add_cloud(yard_scene(200, 200), 0.6)
    write_geotiff(imgs / "u8_20240101.tif", cloudy)
    write_geotiff(imgs / "u16_20240102.tif", cloudy.astype(np.uint16) * 16 + 100)
    clear_8 = yard_scene(200, 200)
    clear_8[:, 5:15, 5:15] = 255  # a small white roof: the stretch's top is white, as in 8 bits
    linear = (clear_8 / 255.0) ** 2.2 * 4000 + 50  # radiometrically linear
    write_geotiff(imgs / "u16clear_20240103.tif", linear.astype(np.uint16))
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    site = utm_box_wgs84(ORIGIN_X + 5, ORIGIN_Y - 95, ORIGIN_X + 95, ORIGIN_Y - 5)
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=site))
    assert len(ingest_paths(db, "yard", [imgs]).ingested) == 3
    process_site(db, "yard", detector=NoCars())
    with db.session(readonly=True) as s:
        scenes = {sc.uri.rsplit("/", 1)[-1]: sc for sc in repo.list_scenes(s, "yard")}
    u8, u16, clear = (
        scenes["u8_20240101.tif"],
        scenes["u16_20240102.tif"],
        scenes["u16clear_20240103.tif"],
    )
    assert not u8.usable and STRETCHED_NOTE not in u8.reasons
    assert not u16.usable and u16.reasons[-1] == STRETCHED_NOTE
    assert "quality mask" in STRETCHED_NOTE and "NAME_udm2.tif" in STRETCHED_NOTE
    assert clear.usable and STRETCHED_NOTE not in (clear.reasons or [])
    db.dispose()
