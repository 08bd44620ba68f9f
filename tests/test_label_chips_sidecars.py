"""``railwatch export-labels`` reads a scene whose georeferencing lies in sidecars beside
it (``NAME.tfw``, ``NAME.aux.xml``), as ingest and ``process`` read it (session 23): the
chips were opened with the folder's listing hidden from GDAL, so such a scene had no
geotransform there and gave no chip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image

from railwatch.export.label_chips import export_labels
from railwatch.storage import Database, repo
from report_db import populate


def _chip(db: Database, out: Path) -> np.ndarray:
    result = export_labels(db, out, "coco", scene_id=1, chip=1024)
    assert result.chips == 1
    (png,) = (out / "images").glob("*.png")
    return np.asarray(Image.open(png))


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_a_scene_georeferenced_by_sidecars_gives_the_same_chips(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    before = _chip(db, tmp_path / "before")
    with db.session() as s:
        path = Path(repo.get_scene(s, 1).uri)
    with rasterio.open(path) as ds:
        profile, data, crs, t = ds.profile, ds.read(), ds.crs, ds.transform
    profile.pop("crs")
    profile.pop("transform")
    with rasterio.open(path, "w", **profile) as dst:  # the same pixels, no georeferencing
        dst.write(data)
    # a world file: the centre of the top-left pixel
    world = [t.a, t.d, t.b, t.e, t.c + t.a / 2 + t.b / 2, t.f + t.d / 2 + t.e / 2]
    path.with_suffix(".tfw").write_text("\n".join(f"{v:.10f}" for v in world) + "\n")
    path.with_name(path.name + ".aux.xml").write_text(
        f"<PAMDataset><SRS>{crs.to_wkt()}</SRS></PAMDataset>\n", encoding="utf-8"
    )
    after = _chip(db, tmp_path / "after")
    assert np.array_equal(before, after)
    db.dispose()
