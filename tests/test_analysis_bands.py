"""Thresholds per resolution band: each count is judged with the thresholds of its own
image's ground sample distance (``AlertSettings.coarse_from_gsd``), from storage, CSV
and the benchmark's simulated sites alike."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from helpers import load_benchmark
from railwatch.analysis import Alert, AlertSettings, CountPoint, analyze_series
from railwatch.analysis.csvio import parse_counts_csv
from railwatch.analysis.settings import BAND_FIELDS
from railwatch.errors import InputError
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from test_analysis_noise import at, kind, noisy, points
from test_storage import BBOX, FakeCount, FakeQuality, FakeSceneInfo, when

#: Explicit thresholds (not the defaults, which are tuned): a log ratio of 2 x the
#: series' noise for both bands; fine images need 3.5 spreads, coarse ones 4.5.
BANDS = AlertSettings(
    spike_log_z=2.0,
    coarse_spike_log_z=2.0,
    spike_z=3.5,
    spike_strong_z=3.5,
    coarse_spike_z=4.5,
    coarse_spike_strong_z=4.5,
)


def site(value: float, gsd: float | None, judged_gsd: float | None) -> list[CountPoint]:
    """About 20 railcars seen by a detector whose counts swing by ±40 % (120 images every
    10 days), every image at ``gsd`` but image 100 (``value`` cars) at ``judged_gsd``."""
    counts = noisy(120, 20.0)
    counts[100] = value
    pts = [replace(p, gsd=gsd) for p in points(counts)]
    pts[100] = replace(pts[100], gsd=judged_gsd)
    return pts


def spikes(pts: list[CountPoint], settings: AlertSettings = BANDS) -> list[Alert]:
    return kind(at(analyze_series(pts, settings=settings), 100), "spike")


def test_a_spike_is_raised_for_a_fine_image_and_not_for_the_same_count_at_1_m() -> None:
    # 50 railcars (2.6x a usual 19, 4 spreads, log ratio 0.96 at ±38 % noise)
    fine = spikes(site(50.0, 0.5, 0.5))
    assert [a.severity for a in fine] == ["low"]
    assert fine[0].metrics["gsd"] == 0.5 and fine[0].metrics["thresholds"] == "fine"
    assert "Judged with the thresholds" not in fine[0].explanation
    assert spikes(site(50.0, 1.0, 1.0)) == []
    # with one set of thresholds for both (the coarse values everywhere), neither is raised
    one_set = BANDS.model_copy(update={f: getattr(BANDS, f"coarse_{f}") for f in BAND_FIELDS})
    assert spikes(site(50.0, 0.5, 0.5), one_set) == []


def test_a_coarse_spike_says_which_thresholds_judged_it() -> None:
    # 60 railcars (3.2x) is a spike at either resolution; at 1 m the text names the values
    coarse = spikes(site(60.0, 1.0, 1.0))
    assert [a.severity for a in coarse] == ["medium"]
    assert coarse[0].metrics["thresholds"] == "coarse" and coarse[0].metrics["gsd"] == 1.0
    assert coarse[0].explanation.endswith(
        "Judged with the thresholds for imagery of 0.75 m and coarser (this image: 1 m; its "
        "counts vary more): spike_z 4.5, spike_strong_z 4.5, spike_log_z 2."
    )


def test_the_judged_images_own_gsd_picks_the_thresholds() -> None:
    # a series of 1 m images with one 0.5 m image: that image is judged as fine
    assert [a.severity for a in spikes(site(50.0, 1.0, 0.5))] == ["low"]
    # a series of 0.5 m images with one 1 m image: that image is judged as coarse
    assert spikes(site(50.0, 0.5, 1.0)) == []


def test_an_image_without_a_gsd_is_judged_as_fine() -> None:
    (unknown,) = spikes(site(50.0, None, None))
    (fine,) = spikes(site(50.0, 0.5, 0.5))
    assert (unknown.severity, unknown.explanation) == (fine.severity, fine.explanation)
    assert "gsd" not in unknown.metrics and "thresholds" not in unknown.metrics


def test_the_band_boundary() -> None:
    assert spikes(site(50.0, 0.5, 0.74)) != []
    assert spikes(site(50.0, 0.5, 0.75)) == []  # coarse_from_gsd itself is coarse
    later = BANDS.model_copy(update={"coarse_from_gsd": 1.5})
    assert spikes(site(50.0, 1.0, 1.0), later) != []
    assert BANDS.is_coarse(0.75) and not BANDS.is_coarse(0.74) and not BANDS.is_coarse(None)


@pytest.mark.parametrize(("fine_log_z", "coarse_log_z"), [(2.0, 3.0), (3.0, 2.0)])
def test_the_spike_noise_test_has_a_value_per_band(fine_log_z: float, coarse_log_z: float) -> None:
    # 50 railcars (2.6x, 4 spreads; log ratio 0.96 at ±38 % noise) passes both bands'
    # z-scores here (3.5), so only the noise test decides: 2 x 0.38 < 0.96 < 3 x 0.38
    same_z = BANDS.model_copy(
        update={
            "coarse_spike_z": 3.5,
            "coarse_spike_strong_z": 3.5,
            "spike_log_z": fine_log_z,
            "coarse_spike_log_z": coarse_log_z,
        }
    )
    fine, coarse = (spikes(site(50.0, gsd, gsd), same_z) for gsd in (0.5, 1.0))
    passes = {0.5: fine_log_z < coarse_log_z, 1.0: coarse_log_z < fine_log_z}
    assert [a.severity for a in fine] == (["low"] if passes[0.5] else [])
    assert [a.severity for a in coarse] == (["low"] if passes[1.0] else [])
    # a mixed series: each image is judged with its own band's noise test
    assert (spikes(site(50.0, 1.0, 0.5), same_z) != []) == passes[0.5]
    assert (spikes(site(50.0, 0.5, 1.0), same_z) != []) == passes[1.0]
    if coarse:
        assert coarse[0].explanation.endswith(
            "(this image: 1 m; its counts vary more): spike_z 3.5, spike_strong_z 3.5, "
            "spike_log_z 2."
        )


def test_every_band_threshold_has_a_coarse_value() -> None:
    s = AlertSettings()
    coarse = s.coarse()
    for f in BAND_FIELDS:
        assert f"coarse_{f}" in AlertSettings.model_fields
        assert getattr(coarse, f) == getattr(s, f"coarse_{f}")
        assert getattr(s.for_gsd(1.0), f) == getattr(s, f"coarse_{f}")
        assert getattr(s.for_gsd(0.3), f) == getattr(s, f)
        # the defaults: fine images are judged at least as readily as coarse ones
        assert getattr(s, f) <= getattr(s, f"coarse_{f}")
    assert s.for_gsd(None) is s


def test_csv_gsd_column() -> None:
    by_site = parse_counts_csv(
        "date,count,gsd,site\n"
        "2023-10-05,73,0.5,A\n"
        "2023-10-06,70,1.0 m,A\n"
        "2023-10-07,71,,A\n"
        "2023-10-08,,NA,A\n"
    )
    assert [p.gsd for p in by_site["A"]] == [0.5, 1.0, None, None]
    assert parse_counts_csv("date,count\n2023-01-01,3\n")[""][0].gsd is None


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("fine", "line 3: gsd 'fine' is not a number; give metres per pixel"),
        ("0", "line 3: gsd 0 must be a positive number of metres per pixel"),
        ("-0.5", "line 3: gsd -0.5 must be a positive number"),
        ("inf", "line 3: gsd inf must be a positive number"),
    ],
)
def test_csv_bad_gsd_names_the_line(cell: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_counts_csv(f"date,count,gsd\n2023-01-01,3,0.5\n2023-01-02,4,{cell}\n")


def test_stored_counts_carry_their_scenes_gsd(tmp_db_url: str) -> None:
    db = Database(tmp_db_url)
    try:
        with db.session() as s:
            repo.add_site(s, site_from_bbox("tum", BBOX))
        ids = []
        for n, gsd, usable in ((1, 0.5, True), (2, 1.0, True), (3, 0.75, False)):
            with db.session() as s:
                info = FakeSceneInfo(
                    uri=f"/data/s{n}.tif", content_hash=f"{n:064x}", acquired=when(n), gsd=gsd
                )
                scene, _ = repo.add_scene(s, "tum", info, 0.7)
                quality = FakeQuality(gsd=gsd, usable=usable)
                repo.record_scene_result(s, scene.id, quality, [], FakeCount(), "d", "1.0")
                ids.append(scene.id)
        with db.session() as s:
            series = repo.count_series(s, "tum")
    finally:
        db.dispose()
    assert [(p.scene_id, p.gsd, p.usable) for p in series] == [
        (ids[0], 0.5, True),
        (ids[1], 1.0, True),
        (ids[2], 0.75, False),
    ]


def test_benchmark_sites_carry_a_gsd_of_their_error_model() -> None:
    bench = load_benchmark("bench_alerts")
    fine = bench.NoiseModel("m", "fine", scale=0.1, gsds=(0.3, 0.4, 0.5))
    coarse = bench.NoiseModel("c", "coarse", scale=0.2, gsds=(0.75, 1.0))
    for model in (fine, coarse, bench.GAUSS):
        (one,) = bench.make_sites(7, 1, 4, model)
        gsds = {p.gsd for p in bench.to_points(one)}
        assert gsds <= set(model.gsds) and gsds
    # the gsd is drawn apart: the detector's counts do not depend on it
    truth, true = bench.simulate(np.random.default_rng(3), 4)
    a, b = (
        bench.observe(truth, true, fine, np.random.default_rng(4), np.random.default_rng(g))
        for g in (5, 6)
    )
    assert np.array_equal(a.counts, b.counts) and not np.array_equal(a.gsd, b.gsd)
    # Tumangang seen through the coarse error is imaged at 0.75-1 m, true counts at 0.3-0.5 m
    pts, _ = bench.tumangang_points(2023, coarse)
    assert {p.gsd for p in pts if p.method != "presence"} <= {0.75, 1.0}
    pts, _ = bench.tumangang_points(2023, None)
    assert {p.gsd for p in pts if p.method != "presence"} <= {0.3, 0.5}
