"""Review of session 48's change (2026-12-07).

1. ``ingest`` whose database another writer keeps locked past SQLite's wait stops the
   batch with status 75 (busy), the files recorded before it kept: it filed the lock as
   one failed file, went on to wait 30 s for each file after it, and ended with status 1.
2. The 8-bit-values check reads five different windows: on an image between one and two
   tiles a side, the windows moved inside one tile all fell on the same tile.
3. A note that waits for the next image to confirm it says, once the series holds that
   image, whether it did (it said "it would be 'medium' if the next image confirms it"
   for ever).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from sqlalchemy.exc import OperationalError

from helpers import make_geotiff
from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.types import CountPoint
from railwatch.cli.main import main
from railwatch.imagery import inspect
from railwatch.storage import Database, repo

ORIGIN = (500_000.0, 4_680_000.0)
# the files' footprint (64 x 48 px at 0.5 m) in lon/lat, in UTM zone 52 N
BBOX = "128.99,42.262,129.01,42.28"


def _locked() -> OperationalError:
    return OperationalError(
        "INSERT INTO scenes ...", {}, sqlite3.OperationalError("database is locked")
    )


def test_ingest_stops_with_status_75_when_the_database_stays_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    assert main(["--db", url, "site", "add", "yard", "--bbox", BBOX]) == 0
    files = []
    for k in range(3):
        data = np.full((3, 48, 64), 40 + 30 * k, np.uint8)
        files.append(str(make_geotiff(tmp_path / f"img{k}.tif", origin=ORIGIN, data=data)))
    import railwatch.ingest as ingest_module

    real = ingest_module._known_duplicate
    calls: list[str] = []

    # files without a date of their own are looked at once, then ingested after the batch
    # under --date (ingest_paths' ``undated``): calls 4 and 5 are img0's and img1's there
    def locked_at_img1(*args: Any, **kwargs: Any) -> Any:
        calls.append(str(args[2]))
        if len(calls) == 5:
            with args[0].session():  # as a read of the database meets the lock
                raise _locked()
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "_known_duplicate", locked_at_img1)
    capsys.readouterr()
    code = main(["--db", url, "ingest", "yard", *files, "--date", "2024-05-01"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 75, err
    assert len(calls) == 5, calls  # the third file was not tried (another 30 s wait)
    db = Database(url)
    try:
        with db.session() as s:
            stored = [sc.uri for sc in repo.list_scenes(s, "yard")]
    finally:
        db.dispose()
    assert [Path(u).name for u in stored] == ["img0.tif"]  # the first file is kept


def test_the_eight_bit_check_reads_five_different_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_geotiff(
        tmp_path / "x257.tif",
        origin=ORIGIN,
        width=600,
        height=600,
        dtype="uint16",
        data=(np.arange(600 * 600 * 3, dtype=np.int64) % 256 * 257)
        .astype(np.uint16)
        .reshape(3, 600, 600),
        tiled=True,
        blockxsize=512,
        blockysize=512,
    )
    seen: list[tuple[int, int]] = []
    real = inspect.read_masked

    def spy(ds: Any, bands: Any, *, window: Any) -> Any:
        seen.append((int(window.col_off), int(window.row_off)))
        return real(ds, bands, window=window)

    monkeypatch.setattr(inspect, "read_masked", spy)
    with rasterio.open(path) as ds:
        assert inspect.eight_bit_values(ds) == "x257"
    assert len(seen) == 5 and len(set(seen)) == 5, seen


START = datetime(2020, 1, 1, 12, tzinfo=UTC)


def _length(n: int, level: float) -> list[CountPoint]:
    return [
        CountPoint(
            when=START + timedelta(days=18 * k),
            count=level,
            low=level * 0.6,
            high=level * 1.6,
            method="length",
            gsd=3.0,
        )
        for k in range(n)
    ]


def _notes(points: list[CountPoint]) -> list[Any]:
    return [a for a in analyze_series(points) if "unconfirmed_severity" in a.metrics]


def test_a_note_waiting_for_the_next_image_says_what_the_next_image_did() -> None:
    base = _length(60, 6)
    lone = START + timedelta(days=18 * 60)

    def at(k: int, count: float) -> CountPoint:
        return CountPoint(when=lone + timedelta(days=18 * k), count=count, low=count * 0.6,
                          high=count * 1.6, method="length", gsd=3.0)  # fmt: skip

    # the latest image: a record and a spike, each a note still waiting
    waiting = _notes([*base, at(0, 40)])
    assert sorted(a.kind for a in waiting) == ["record", "spike"]
    for a in waiting:
        assert a.explanation.endswith(
            f"it would be '{a.metrics['unconfirmed_severity']}' if the next image confirms it."
        )
        assert "next_image" not in a.metrics
    # the next image back at the usual level: it did not confirm them
    denied = _notes([*base, at(0, 40), at(1, 6)])
    day = (lone + timedelta(days=18)).date().isoformat()
    assert sorted(a.kind for a in denied) == ["record", "spike"]
    for a in denied:
        assert "if the next image confirms it" not in a.explanation
        assert a.explanation.endswith(f"the next image, of {day}, did not."), a.explanation
        assert a.metrics["next_image"] == day and a.metrics["confirmed_next"] is False
        assert a.severity == "info"
    # the next image higher still (1.5x the first): it confirmed them, its own alert raised
    confirmed = [a for a in _notes([*base, at(0, 40), at(1, 60)]) if a.when == lone]
    assert confirmed
    for a in confirmed:
        assert f"the next image, of {day}, confirmed it and raised its own" in a.explanation
        assert a.metrics["confirmed_next"] is True


@pytest.mark.parametrize("gsd", [3.0, 10.0])
def test_an_unusable_coarse_images_why_names_causes_not_how_it_is_counted(gsd: float) -> None:
    """A cloudy 3 m (10 m) image read "unusable: cloud covers 90 % of the site; ...;
    resolution 3.0 m: cars are not separable, counts come from occupied track length" in
    the export and the report, as if its resolution were a cause (walk-coarse, U4)."""
    from types import SimpleNamespace

    from affine import Affine

    from railwatch.export.layers import _no_count_reason
    from railwatch.imagery import SiteGrid, SiteRaster, assess_quality
    from railwatch.imagery.quality import causes

    n = 100
    grid = SiteGrid(
        crs="EPSG:32652", transform=Affine(gsd, 0, 0, 0, -gsd, 0), width=n, height=n, gsd=gsd
    )
    ones = np.ones((n, n), bool)
    mask = np.zeros((n, n), np.uint8)
    mask[:90] = 1  # cloud over 90 % of the site
    image = np.random.default_rng(0).integers(60, 160, (n, n, 3), dtype=np.uint8)
    quality = assess_quality(SiteRaster(image, ones, ones, mask, grid))
    assert not quality.usable
    notes = [r for r in quality.reasons if r.startswith(f"resolution {gsd:.1f} m:")]
    assert notes, quality.reasons  # the note is stored (scene show lists it as a note)
    assert causes(quality.reasons) == [r for r in quality.reasons if r not in notes]
    scene = SimpleNamespace(usable=False, status="unusable", reasons=list(quality.reasons))
    why = _no_count_reason(scene, False, False, "yard")  # type: ignore[arg-type]
    assert why is not None and why.startswith("unusable: cloud"), why
    assert "resolution" not in why, why


def test_a_chart_of_length_counts_alone_is_labelled_in_car_equivalents() -> None:
    """The report chart of a site seen only at 3 m said "railcars per image" on its y axis
    (walk-coarse, U7); with cars counted one by one among them it still does."""
    from dataclasses import replace as with_

    from railwatch.report.charts import timeseries_figure
    from railwatch.report.model import SceneRow

    rows = [
        SceneRow(scene_id=i, when=START + timedelta(days=30 * i), sensor="S", gsd=3.0,
                 usable=True, clear_fraction=1.0, coverage=1.0, total=12.0, low=6.0,
                 high=25.0, method="length")
        for i in range(6)
    ]  # fmt: skip
    fig = timeseries_figure(rows, [], (), [], title="yard")
    assert fig.axes[0].get_ylabel() == "car equivalents per image"
    mixed = [*rows[:5], with_(rows[5], gsd=0.5, method="objects")]
    fig = timeseries_figure(mixed, [], (), [], title="yard")
    assert fig.axes[0].get_ylabel() == "railcars per image"
