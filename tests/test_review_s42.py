"""Review of session 42's changes (helper F, 2026-12-06).

The white-wagon rule (bcc8271: a snow or cloud region needs a bright middle 5 m wide)
asked for a pixel whose whole 5 m disc is bright (darkest channel 175 or more). At
0.3 m that disc is 213 pixels: an opaque cloud whose darkest channel is textured (mean
190-200, spread 12-20, so a tenth of its pixels dip under 175), or a flat one with 5 %
of its pixels without data, had no such pixel anywhere and was dropped whole: 38 % of
the site under cloud was judged 100 % clear and usable (41 % cloud at c286185). The
middle now needs nine tenths of its disc bright: a block of white wagons, roofs 3 m
wide 1-1.5 m apart, fills at most 0.79 of it at 0.15-0.5 m and 0.88 at 1 m (still
neither snow nor cloud: tests/test_quality_cars_not_snow_s42.py); a cloud's noise and
specks of no data do not empty it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from railwatch.imagery import assess_quality, estimate_conditions
from railwatch.sim import SceneParams, render_scene
from test_cloud_shadow_s42 import _raster


def _clouded(gsd: float, mean: float, spread: float, speck: float) -> tuple[np.ndarray, ...]:
    """A clear simulated scene (480 px) with an opaque grey cloud over a disc of 38 % of
    it, its level ``mean`` +- ``spread`` (normal, per pixel), ``speck`` of its pixels
    without data; the image, its valid pixels and the cloud's."""
    n = 480
    image = render_scene(SceneParams(seed=8_100_101, gsd=gsd, size_px=(n, n), style="temperate"))
    img = image.image.copy()
    yy, xx = np.mgrid[0:n, 0:n]
    disc = np.hypot(yy - n / 2, xx - n / 2) < 0.35 * n
    rng = np.random.default_rng(42)
    level = np.clip(mean + rng.normal(0.0, spread, (n, n)), 0, 255).astype(np.uint8)
    img[disc] = level[disc][:, None]
    valid = np.ones((n, n), bool)
    valid &= ~(disc & (rng.random((n, n)) < speck))
    return img, valid, disc


@pytest.mark.parametrize(
    ("gsd", "mean", "spread", "speck"),
    [(0.3, 195, 15, 0.0), (0.3, 190, 12, 0.0), (0.3, 200, 20, 0.0), (0.3, 215, 0, 0.05)],
)
def test_an_opaque_cloud_with_texture_or_specks_of_no_data_is_still_cloud(
    gsd: float, mean: float, spread: float, speck: float
) -> None:
    img, valid, disc = _clouded(gsd, mean, spread, speck)
    q = assess_quality(_raster(img, gsd, valid=valid))
    assert not q.usable, (q.clear_fraction, q.reasons)
    assert q.cloud_fraction > 0.3, (q.cloud_fraction, q.reasons)
    cond = estimate_conditions(img, valid, gsd)
    assert cond.cloud[disc & valid].mean() > 0.9
    assert cond.cloud[~disc].mean() < 0.1


@pytest.mark.parametrize("gsd", [6.0, 10.0])
def test_no_cloud_shadow_cells_where_a_cell_is_one_pixel(gsd: float) -> None:
    """From about 5.5 m on a shadow cell (8 m) is one pixel, which has no texture: the
    rule cannot find a shadow there, yet its sums (32 bytes a pixel, whole-window) and
    their blurred maps were made: a 3000 x 3000 px window at 10 m peaked at 1043 MB
    with them, 128 MB without. Now they are not made (the estimate is the same)."""
    import tracemalloc

    from railwatch.imagery import quality as qm

    n = 1200
    rng = np.random.default_rng(0)
    image = rng.integers(60, 140, (n, n, 3), dtype=np.uint8)
    image[: n // 2] //= 3  # a dark half: nothing to find, but the cells are judged
    valid = np.ones((n, n), bool)
    peaks = {}
    found = {}
    for shadow in (False, True):
        tracemalloc.start()
        try:
            got = qm._estimate(image, qm._RowsAnd(valid), gsd, None, shadow=shadow)
            peaks[shadow] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        found[shadow] = [getattr(got, k).whole() for k in ("cloud", "haze", "snow")]
    assert not got.shadow.any()
    for a, b in zip(found[False], found[True], strict=True):
        assert np.array_equal(a, b)
    # the shadow rule adds nothing a pixel (it added ~100 bytes a pixel at 10 m)
    assert peaks[True] < peaks[False] + 4 * n * n // 8, (peaks, n * n)


def test_site_edit_does_not_call_lines_it_could_not_judge_right(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lines with too few detected cars near them to judge were said to be "none more
    than 1.5 m off" (session 42 review): now "not judged", and what to do."""
    from railwatch.cli.main import main
    from test_centreline_edit_s42 import _BBOX, _SIMULATE

    out_dir = tmp_path / "img"
    assert main(["simulate", *_SIMULATE, "--name", "yard", "-o", str(out_dir)]) == 0
    db = ["--db", f"sqlite:///{tmp_path / 'rw.sqlite'}"]
    exact = out_dir / "yard.tracks.geojson"
    assert main([*db, "site", "add", "yard", "--bbox", _BBOX, "--tracks", str(exact)]) == 0
    assert main([*db, "ingest", "yard", str(out_dir)]) == 0
    assert main([*db, "process", "yard"]) == 0
    # one line across the site's south-west corner, far from every track
    far = tmp_path / "far.geojson"
    far.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "LineString", "coordinates": '
        "[[130.6057, 42.4196], [130.6060, 42.4196]]}}]}"
    )
    capsys.readouterr()
    assert main([*db, "site", "edit", "yard", "--tracks", str(far)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "none looks more than" not in out
    assert "Centrelines not judged: none of the 1 line had 5 or more" in out
    assert "check the lines by eye on an image of 1 m or finer" in out
