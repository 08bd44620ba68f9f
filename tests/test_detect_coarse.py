"""Coarse imagery: occupied track length along tracks, directions, presence."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from shapely.geometry import LineString, MultiLineString

from railwatch.detect.coarse import (
    EmptyTrack,
    dominant_directions,
    empty_track,
    estimate_occupancy,
    method_for_gsd,
    site_empty_track,
    tracks_to_pixels,
)

GSD = 3.0


def _yard(
    angle: float,
    occupied_m: list[float],
    seed: int = 0,
    *,
    patches: float = 0.0,
    car_colour: tuple[int, int, int] = (120, 40, 35),
    shadow_m: float = 0.0,
    n_tracks: int = 4,
    line_colours: list[tuple[int, int, int]] | None = None,
) -> tuple[np.ndarray, MultiLineString]:
    """A 3 m scene: grass, a ballast band with ``n_tracks`` tracks 4.75 m apart, cars (strings of
    ``car_colour``, 3.2 m wide) occupying ``occupied_m`` metres on successive tracks,
    centred. ``patches`` > 0 multiplies the scene by a smooth random brightness field
    (sun, thin shade and dirt over tens of metres) of that relative amplitude.
    ``shadow_m`` > 0 casts each string's shadow that far beyond its side (low sun).
    ``line_colours`` gives each track's cars their own colour instead."""
    rng = np.random.default_rng(seed)
    ss = 6  # draw at 0.5 m, then average down to 3 m
    n = 200 * ss
    img = np.zeros((n, n, 3), np.float32)
    img[:] = (70, 100, 55)
    a = math.radians(angle)
    u, v = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
    c = np.array([n / 2, n / 2])
    half = 250 * 2  # track half length in 0.5 m px (250 m)

    def band(
        offset_px: float, width_px: float, start: float, stop: float, colour: tuple[int, ...]
    ) -> None:
        p0, p1 = c + u * start + v * offset_px, c + u * stop + v * offset_px
        cv2.line(
            img,
            tuple(np.round(p0).astype(int)),
            tuple(np.round(p1).astype(int)),
            colour,
            max(1, round(width_px)),
        )

    band(0, (4.75 * n_tracks + 9) * 2, -half, half, (120, 112, 100))  # ballast
    lines = []
    for k in range(n_tracks):
        off = (k - (n_tracks - 1) / 2) * 4.75 * 2
        band(off, 1, -half, half, (80, 75, 70))
        if k < len(occupied_m) and occupied_m[k] > 0:
            length = occupied_m[k] * 2
            if shadow_m > 0:  # darker ballast, same colour, beside the string
                dark = (66, 62, 55)
                band(off + (1.6 + shadow_m / 2) * 2, shadow_m * 2, -length / 2, length / 2, dark)
            colour = car_colour if line_colours is None else line_colours[k]
            band(off, 3.2 * 2, -length / 2, length / 2, colour)
        p0, p1 = (c - u * half + v * off) / ss, (c + u * half + v * off) / ss
        lines.append([tuple(p0), tuple(p1)])
    if patches > 0:
        # brightness patches about 30-60 m across, from +-patches of the mean
        coarse = rng.normal(0.0, 1.0, (12, 12)).astype(np.float32)
        smooth = cv2.resize(coarse, (n, n), interpolation=cv2.INTER_CUBIC)
        field = np.asarray(cv2.GaussianBlur(smooth, (0, 0), 30), dtype=np.float32)
        field *= patches / max(float(np.abs(field).max()), 1e-6)
        img *= (1.0 + field)[..., None]
    img += rng.normal(0, 4, img.shape).astype(np.float32)
    small = cv2.resize(np.clip(img, 0, 255), (200, 200), interpolation=cv2.INTER_AREA)
    return small.astype(np.uint8), MultiLineString(lines)


@pytest.mark.parametrize("angle", [0.0, 30.0, 115.0])
def test_length_along_given_tracks(angle: float) -> None:
    img, tracks = _yard(angle, [140.0, 280.0, 0.0, 70.0])
    est = estimate_occupancy(img, GSD, tracks=tracks)
    truth = (140 + 280 + 70) / 14.0
    assert est.method == "length"
    assert est.car_equivalents == pytest.approx(truth, rel=0.2)
    assert est.low <= truth <= est.high
    assert est.present  # 280 m + ... >= 300 m occupied in all


def test_empty_tracks_give_near_zero() -> None:
    img, tracks = _yard(20.0, [])
    est = estimate_occupancy(img, GSD, tracks=tracks)
    assert est.car_equivalents < 2.0 and not est.present


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_empty_yard_with_light_and_shade_gives_near_zero(seed: int) -> None:
    """Brightness patches of +-25 % over the ballast are not cars (the first method read
    a long string of cars wherever a line crossed a patch unlike its mean colour)."""
    img, tracks = _yard(25.0, [], seed=seed, patches=0.25)
    est = estimate_occupancy(img, GSD, tracks=tracks)
    assert est.car_equivalents < 2.0 and not est.present
    assert est.low == 0.0


def test_half_occupied_line_gives_half() -> None:
    img, tracks = _yard(10.0, [250.0], patches=0.15)
    est = estimate_occupancy(img, GSD, tracks=tracks)
    assert est.car_equivalents == pytest.approx(250 / 14.0, rel=0.2)
    assert est.low <= 250 / 14.0 <= est.high


def test_interval_reaches_further_up_than_down() -> None:
    """The estimate errs low more often and further than high (faint cars are missed), so
    the interval derived from development scenes reaches further above the estimate than
    below it (docs/detection.md, ``benchmarks/derive_coarse_interval.py``)."""
    img, tracks = _yard(30.0, [280.0, 140.0])
    est = estimate_occupancy(img, GSD, tracks=tracks)
    below, above = est.car_equivalents - est.low, est.high - est.car_equivalents
    assert 0.0 < below < above
    assert est.low <= 420 / 14.0 <= est.high


def test_line_nearly_full_of_one_colour() -> None:
    """A line 90 % occupied by cars of one colour: its own most common colour is the
    cars', so the empty-track colour must come from the whole yard."""
    img, tracks = _yard(60.0, [450.0], car_colour=(50, 50, 52))
    est = estimate_occupancy(img, GSD, tracks=tracks)
    assert est.car_equivalents == pytest.approx(450 / 14.0, rel=0.2)


@pytest.mark.parametrize("colour", [(50, 50, 52), (200, 200, 205)])
def test_line_full_end_to_end_of_one_colour(colour: tuple[int, int, int]) -> None:
    """A line full of black (or white) cars over all its length, beside three empty
    lines: none of its own samples shows the ballast, so a line must never take its own
    densest colour as its empty track (session 16 tried that for lines leaving the yard
    over another bed: this yard then read 0)."""
    img, tracks = _yard(20.0, [520.0], car_colour=colour)
    est = estimate_occupancy(img, GSD, tracks=tracks)
    assert est.car_equivalents == pytest.approx(500 / 14.0, rel=0.15)


@pytest.mark.parametrize("angle", [0.0, 35.0])
@pytest.mark.parametrize("colour", [(60, 90, 130), (40, 40, 42)])
def test_low_sun_shadow_is_not_a_second_string(angle: float, colour: tuple[int, int, int]) -> None:
    """At low sun a car's shadow covers the neighbouring track (here 6 m of darker
    ballast beside each string): with the hand-set rules the string is counted once, not
    twice, and a string of black tank cars (dark and colourless like a shadow) still
    counts. The learned classifier without the sun's position reads the shadow as a
    second string in this clean synthetic yard (estimator 4: 1.4-1.5 times the truth for
    coloured cars, about 2 for black ones; docs/detection.md, "Known regression"); with
    the sun it does not (the next test)."""
    img, tracks = _yard(angle, [280.0, 0.0, 140.0, 0.0], shadow_m=6.0, car_colour=colour)
    est = estimate_occupancy(img, GSD, tracks=tracks, learned=False)
    assert est.car_equivalents == pytest.approx(420 / 14.0, rel=0.2)


@pytest.mark.parametrize("angle", [0.0, 35.0, 120.0])
@pytest.mark.parametrize("colour", [(40, 40, 42), (60, 90, 130)])
def test_low_sun_shadow_with_the_sun_known(angle: float, colour: tuple[int, int, int]) -> None:
    """With the sun's azimuth and elevation (image metadata) the shadow guard drops the
    darkening that a string nearer the sun casts on the next track: black cars beside
    their own 6 m shadow read once with the learned decision too (without the sun they
    read about 1.8 times; the test above). The yard's shadows fall along +v = (-sin a,
    cos a) in pixels, which is where a sun at azimuth ``angle`` casts them in a north-up
    image; 6 m beyond the car is a 4 m car at 33.7 degrees."""
    img, tracks = _yard(angle, [280.0, 0.0, 140.0, 0.0], shadow_m=6.0, car_colour=colour)
    sun = (angle, math.degrees(math.atan2(4.0, 6.0)))
    est = estimate_occupancy(img, GSD, tracks=tracks, learned=True, sun=sun)
    assert est.car_equivalents == pytest.approx(420 / 14.0, rel=0.2)


def test_shadow_guard_keeps_black_cars_without_a_caster() -> None:
    """A string of black cars with no string on the line nearer the sun is not a
    shadow, at any sun: the guard only removes darkening that a string can cast."""
    img, tracks = _yard(35.0, [0.0, 280.0, 0.0, 0.0], car_colour=(40, 40, 42))
    plain = estimate_occupancy(img, GSD, tracks=tracks, learned=True)
    for az in (0.0, 35.0, 90.0, 215.0):
        est = estimate_occupancy(img, GSD, tracks=tracks, learned=True, sun=(az, 20.0))
        assert est.car_equivalents == pytest.approx(plain.car_equivalents, rel=1e-6)
    assert plain.car_equivalents == pytest.approx(280 / 14.0, rel=0.2)


@pytest.mark.parametrize("angle", [20.0, 73.0, 115.0])
@pytest.mark.parametrize("colour", [(120, 40, 35), (60, 90, 130)])
def test_dense_block_of_six_occupied_tracks(angle: float, colour: tuple[int, int, int]) -> None:
    """Cars on 6 adjacent tracks (4.75 m = 1.6 px apart): every line is a string of its
    own, not the spill of its neighbour (the pairwise 0.9 rule kept about every other
    line at some angles: 73 degrees read 44 % low)."""
    img, tracks = _yard(angle, [200.0] * 6, seed=5, n_tracks=6, car_colour=colour)
    est = estimate_occupancy(img, GSD, tracks=tracks)
    truth = 6 * 200 / 14.0
    assert est.car_equivalents == pytest.approx(truth, rel=0.2)
    assert est.low <= truth <= est.high


@pytest.mark.parametrize("angle", [20.0, 73.0])
@pytest.mark.parametrize("block_first", [True, False])
def test_dense_block_beside_empty_tracks(angle: float, block_first: bool) -> None:
    """Six full tracks beside four empty ones: the block reads within 20 % and the empty
    tracks stay empty (the block's spill onto the first empty line is not a string)."""
    from railwatch.detect.coarse import LineProfile

    occupied = [300.0] * 6 + [0.0] * 4 if block_first else [0.0] * 4 + [300.0] * 6
    img, tracks = _yard(angle, occupied, seed=6, n_tracks=10)
    profiles: list[LineProfile] = []
    est = estimate_occupancy(img, GSD, tracks=tracks, diagnostics=profiles)
    assert est.car_equivalents == pytest.approx(1800 / 14.0, rel=0.2)
    empty_m = sum(
        float(p.occupied.sum()) * 0.5 * GSD
        for p, m in zip(profiles, occupied, strict=True)
        if m == 0
    )
    assert empty_m < 14.0


def test_ladder_across_an_empty_bundle_is_not_a_string() -> None:
    """A ladder line crossing the tracks at a small angle alternates between tracks and
    the ballast between them; it must not read as occupied, nor double a car at the
    crossing."""
    img, tracks = _yard(0.0, [], seed=4)
    (a0, a1), (b0, b1) = list(tracks.geoms[0].coords), list(tracks.geoms[3].coords)
    ladder = LineString([((a0[0] + a1[0]) / 2 - 40, a0[1]), ((b0[0] + b1[0]) / 2 + 40, b1[1])])
    with_ladder = MultiLineString([*tracks.geoms, ladder])
    est = estimate_occupancy(img, GSD, tracks=with_ladder)
    assert est.car_equivalents < 2.0
    img, tracks = _yard(0.0, [140.0], seed=4)
    est = estimate_occupancy(img, GSD, tracks=MultiLineString([*tracks.geoms, ladder]))
    assert est.car_equivalents == pytest.approx(10.0, rel=0.2)


def test_diagnostics_profiles() -> None:
    from railwatch.detect.coarse import LineProfile

    img, tracks = _yard(0.0, [140.0])
    profiles: list[LineProfile] = []
    est = estimate_occupancy(img, GSD, tracks=tracks, diagnostics=profiles)
    assert len(profiles) == 4
    occupied = sum(float(p.occupied.sum()) for p in profiles) * 0.5 * GSD
    assert occupied == pytest.approx(est.occupied_length_m, abs=0.2)
    assert all(p.reference.shape == (len(p.points), 3) for p in profiles)


def test_no_data_scene() -> None:
    img, tracks = _yard(0.0, [100.0])
    est = estimate_occupancy(img, GSD, valid=np.zeros(img.shape[:2], bool), tracks=tracks)
    assert (est.car_equivalents, est.low, est.high) == (0.0, 0.0, 0.0)


def test_dominant_direction_of_yard() -> None:
    img, _ = _yard(30.0, [140.0])
    dirs = dominant_directions(img.mean(axis=2))
    assert dirs and min(abs((d - 30.0 + 90) % 180 - 90) for d in dirs) < 4.0


def test_methods_by_resolution() -> None:
    assert method_for_gsd(0.5) == "objects"
    assert method_for_gsd(3.0) == "length"
    assert method_for_gsd(10.0) == "presence"
    est = estimate_occupancy(*_yard(0.0, [])[:1], 10.0)
    assert est.method == "presence"


def test_tracks_to_pixels() -> None:
    from affine import Affine

    line = MultiLineString([LineString([(130.60, 42.42), (130.61, 42.42)])])
    px = tracks_to_pixels(line, "EPSG:32652", Affine(3.0, 0, 630_000, 0, -3.0, 4_700_000))
    assert isinstance(px, MultiLineString)
    (x0, y0), (x1, y1) = list(px.geoms[0].coords)
    assert abs(y1 - y0) < 20 and (x1 - x0) * 3.0 == pytest.approx(822, rel=0.02)


def test_detect_file_coarse_with_tracks(tmp_path: Path) -> None:
    import rasterio
    from affine import Affine
    from shapely import affinity

    from railwatch.detect.api import detect_file
    from railwatch.detect.geojson import from_feature_collection

    img, tracks_px = _yard(30.0, [140.0, 280.0, 0.0, 70.0])
    transform = Affine(GSD, 0, 630_000, 0, -GSD, 4_700_000)
    path = tmp_path / "coarse.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=200,
        height=200,
        count=3,
        dtype="uint8",
        crs="EPSG:32652",
        transform=transform,
    ) as ds:
        ds.write(img.transpose(2, 0, 1))
    tracks_crs = affinity.affine_transform(tracks_px, [GSD, 0, 0, -GSD, 630_000, 4_700_000])
    res = detect_file(path, tracks=tracks_crs, tracks_crs="EPSG:32652")
    assert res.method == "length" and res.detections == ()
    assert res.coarse is not None
    assert res.coarse.car_equivalents == pytest.approx(490 / 14.0, rel=0.2)
    # the simulator's truth files carry tracks as lists of CRS coordinates
    fs = from_feature_collection(
        {
            "type": "FeatureCollection",
            "features": [],
            "tracks": [list(g.coords) for g in tracks_crs.geoms],
        }
    )
    assert isinstance(fs.tracks, MultiLineString) and len(fs.tracks.geoms) == 4


def test_shipped_occupancy_model() -> None:
    """The shipped classifier matches the features the module computes and was fitted on
    the training style families only (arid and winter held out)."""
    from railwatch.detect.coarse import FEATURES
    from railwatch.detect.coarse_model import load_model

    model = load_model()
    assert model.features == FEATURES
    assert model.w1.shape == (len(FEATURES), len(model.b1))
    assert 0.0 < model.cut < 1.0 and model.switch >= 0.0
    assert model.meta is not None
    assert set(model.meta["train_styles"]).isdisjoint({"arid", "winter"})


def test_occupancy_model_clips_and_checks_its_input() -> None:
    """Features beyond the training range are clipped to it (no extrapolation); a wrong
    number of features is an error."""
    from railwatch.detect.coarse_model import load_model
    from railwatch.errors import ConfigError

    model = load_model()
    at_high = model.probability(model.high[None, :])
    beyond = model.probability((model.high + 100.0)[None, :])
    assert beyond == pytest.approx(at_high)
    with pytest.raises(ConfigError):
        model.probability(np.zeros((3, len(model.features) + 1)))


def test_check_share_interval() -> None:
    """The development checks print each share within ±15 % with its Wilson interval
    (textbook values: 5 of 10 is 0.237-0.763, 0 of 10 reaches 0.278)."""
    from helpers import load_benchmark

    fit = load_benchmark("fit_coarse_occupancy")
    assert fit.wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert fit.wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert fit.wilson(10, 10)[1] == 1.0
    assert "(95 % 15%-85%)" in fit.summary("x", [0.1, 0.2, -0.05, 0.5])


def test_fitted_ensemble_is_the_mean_of_its_members_log_odds() -> None:
    """``fit_coarse_occupancy.fit_ensemble`` writes several fits as one perceptron whose
    log-odds are exactly the mean of theirs, and one seed gives that seed's fit."""
    from helpers import load_benchmark

    fit = load_benchmark("fit_coarse_occupancy")
    rng = np.random.default_rng(3)
    n_feat = len(fit.coarse.FEATURES)
    x = rng.normal(size=(3000, n_feat))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 0.5, 3000) > 0.8).astype(np.float64)
    members = [fit.fit(x, y, hidden=4, epochs=1, seed=s) for s in (0, 1, 2)]
    both = fit.fit_ensemble(x, y, hidden=4, epochs=1, seeds=(0, 1, 2))
    assert both.w1.shape == (n_feat, 12)

    def logit(p: np.ndarray) -> np.ndarray:
        return np.log(p / (1.0 - p))

    probe = rng.normal(size=(50, n_feat))
    mean_logit = np.mean([logit(m.probability(probe)) for m in members], axis=0)
    assert logit(both.probability(probe)) == pytest.approx(mean_logit, abs=1e-6)
    # the members differ (else the test could not tell a mean from a copy)
    assert np.ptp([logit(m.probability(probe))[0] for m in members]) > 1e-3
    one = fit.fit_ensemble(x, y, hidden=4, epochs=1, seeds=(1,))
    assert one.probability(probe) == pytest.approx(members[1].probability(probe), abs=1e-12)


def test_string_decoding() -> None:
    """The two-state decoding keeps a string through a short weak gap, drops a short
    blip that does not pay for its two changes, and keeps a long faint string."""
    from railwatch.detect.coarse import _viterbi

    gain = np.full(90, -1.0)
    gain[5:25] = 2.0  # a string...
    gain[14:16] = -1.5  # ...with a weak gap of two samples inside
    gain[35:37] = 1.5  # a blip worth 3 < 2 changes x 5
    gain[50:68] = 0.8  # long and faint: 14.4 > 10
    seq = _viterbi(gain, 5.0)
    assert seq[5:25].all() and not seq[:5].any() and not seq[25:50].any()
    assert seq[50:68].all() and not seq[68:].any()
    assert not _viterbi(np.full(10, 0.4), 5.0).any()  # 4 < 5: never switched on


@pytest.mark.parametrize("learned", [True, False])
def test_learned_and_rules_on_a_clean_yard(learned: bool) -> None:
    """Both decisions read a clean yard right (the learned one is the default)."""
    img, tracks = _yard(30.0, [140.0, 280.0, 0.0, 70.0], seed=8, patches=0.1)
    est = estimate_occupancy(img, GSD, tracks=tracks, learned=learned)
    assert est.car_equivalents == pytest.approx(490 / 14.0, rel=0.15)


def test_second_renderer_track_replay() -> None:
    """The fitting script's check on the second renderer replays ``draw_yard``'s random
    stream to get its track lines; the replay puts every drawn car on a track (it raises
    otherwise), so a change to ``draw_yard`` cannot silently break the check."""
    from helpers import load_benchmark

    fit = load_benchmark("fit_coarse_occupancy")
    scene = fit.synth_scene(0)
    assert scene is not None
    img, tracks, truth = scene
    assert img.shape == (256, 256, 3) and truth > 0 and len(tracks.geoms) >= 1


def test_pixel_azimuth_follows_the_geotransform() -> None:
    """North up: the azimuth is unchanged; an image turned a quarter turn clockwise
    (its up direction points east) sees a sun in the south-east at 135 - 90 = 45."""
    from affine import Affine

    from railwatch.detect.coarse import pixel_azimuth

    north_up = Affine(3.0, 0.0, 500000.0, 0.0, -3.0, 4700000.0)
    for az in (0.0, 45.0, 160.0, 250.0):
        assert pixel_azimuth(az, north_up) == pytest.approx(az % 360.0, abs=1e-9)
    # columns run south (x: -> -y), rows run west: up (-row) is east
    east_up = Affine(0.0, -3.0, 500000.0, -3.0, 0.0, 4700000.0)
    assert pixel_azimuth(135.0, east_up) == pytest.approx(45.0, abs=1e-9)
    assert pixel_azimuth(90.0, east_up) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("bad", [(160.0, 0.0), (160.0, 95.0), (float("nan"), 30.0), ("a", 3)])
def test_bad_sun_is_refused(bad: tuple[object, object]) -> None:
    from railwatch.errors import InputError

    img, tracks = _yard(0.0, [100.0])
    with pytest.raises(InputError, match="sun"):
        estimate_occupancy(img, GSD, tracks=tracks, sun=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("cars", [0.0, 0.1, 0.35, 0.45])
def test_noise_unit_comes_from_empty_track_only(cars: float) -> None:
    """The noise unit is the spread of empty track, however full the yard: the median
    offset of all samples grows with the share of cars (1.8x at a third full: the demo's
    2024 yard read 94 car equivalents for 257 cars, its evidence shrunk by as much)."""
    from railwatch.detect.coarse import _empty_noise

    rng = np.random.default_rng(3)
    n = 20_000
    resid = rng.normal(0.0, 2.0, (n, 3))
    k = int(cars * n)
    # cars: a colour offset of 10 noise units, each car's own colour a little different
    resid[:k] += np.array([-16.0, 9.0, 7.0]) + rng.normal(0.0, 2.0, (k, 3))
    naive = np.median(np.abs(resid), axis=0) * 1.4826
    noise = _empty_noise(resid)
    assert noise == pytest.approx(np.full(3, 2.0), rel=0.08)
    if cars >= 0.35:
        assert (naive > 1.5 * noise).any()  # what the unit was before estimator 4


def _site_empty(colour: tuple[int, int, int], crowded: int = 0) -> EmptyTrack:
    """The empty track of the unit yard's site from five other days (other noise, cars
    of ``colour`` here and there), ``crowded`` of them with two lines full end to end."""
    days: list[list[float]] = [[], [140.0], [0.0, 70.0], [280.0, 0.0, 140.0], []]
    for k in range(crowded):
        days[k] = [520.0, 520.0]
    images = []
    for k, occupied in enumerate(days):
        img, tracks = _yard(20.0, occupied, seed=10 + k, car_colour=colour)
        images.append(empty_track(img, GSD, None, tracks))
    site = site_empty_track(images)
    assert site is not None
    return site


@pytest.mark.parametrize("colour", [(200, 200, 205), (50, 50, 52), (120, 40, 35)])
@pytest.mark.parametrize("full", [2, 3])
def test_crowded_yard_with_the_sites_empty_track(colour: tuple[int, int, int], full: int) -> None:
    """Two or three of four lines full end to end of one kind of car: more than half
    the track samples are cars, so the yard's own densest colour is the cars' and the
    estimate read 0 or 35.8 (the empty line as the string) for 71 or 107 (session 16).
    The site's empty track from its other days, one of them as crowded, puts the
    empty-track colour back on the ballast."""
    img, tracks = _yard(20.0, [520.0] * full, seed=3, car_colour=colour)
    truth = 500.0 * full / 14.0
    site = _site_empty(colour, crowded=1)
    est = estimate_occupancy(img, GSD, tracks=tracks, site_empty=site)
    assert est.car_equivalents == pytest.approx(truth, rel=0.1)
    assert est.empty_from == "site" and site.images == 5
    if full == 3:  # without the site's empty track: the empty line is read as the string
        plain = estimate_occupancy(img, GSD, tracks=tracks)
        assert plain.car_equivalents < 0.5 * truth


def test_full_yard_with_the_sites_empty_track() -> None:
    """Every line full end to end (white, red, black and blue cars): no sample shows
    ballast, the track samples spread far wider than the site's empty track, so the
    yard is taken as full and read against the site's empty colour: the white line,
    read 0 without it, is counted. The black line stays at 0 (beside two strong
    strings it is held to the side rule's strict ratio, as a shadow would be)."""
    colours = [(200, 200, 205), (120, 40, 35), (50, 50, 52), (60, 90, 130)]
    img, tracks = _yard(20.0, [520.0] * 4, seed=3, line_colours=colours)
    truth = 4 * 500.0 / 14.0
    site = _site_empty((120, 40, 35), crowded=1)
    est = estimate_occupancy(img, GSD, tracks=tracks, site_empty=site)
    plain = estimate_occupancy(img, GSD, tracks=tracks)
    assert est.car_equivalents == pytest.approx(0.75 * truth, rel=0.1)
    assert est.empty_from == "site, full yard"
    assert plain.car_equivalents < 0.55 * truth and plain.empty_from == "image"


@pytest.mark.parametrize("occupied", [[], [140.0, 280.0, 0.0, 70.0], [450.0]])
def test_sites_empty_track_leaves_an_ordinary_yard_as_it_was(occupied: list[float]) -> None:
    img, tracks = _yard(20.0, occupied, seed=4, patches=0.15)
    plain = estimate_occupancy(img, GSD, tracks=tracks)
    site = estimate_occupancy(img, GSD, tracks=tracks, site_empty=_site_empty((120, 40, 35)))
    assert site.car_equivalents == pytest.approx(plain.car_equivalents, abs=1.0)


def test_sites_empty_track_far_from_this_image_is_not_used() -> None:
    """An expected colour that no track sample is near (a snowfall, new ballast) falls
    back to the yard's own: the estimate is as without it, not every sample a car."""
    img, tracks = _yard(20.0, [140.0, 280.0], seed=5)
    site = _site_empty((120, 40, 35))
    off = EmptyTrack(offset=(site.offset[0] + 60.0, *site.offset[1:]), noise=site.noise)
    plain = estimate_occupancy(img, GSD, tracks=tracks).car_equivalents
    est = estimate_occupancy(img, GSD, tracks=tracks, site_empty=off)
    assert est.car_equivalents == plain and est.empty_from == "image"


def test_site_empty_track_needs_three_images_and_resists_a_crowded_one() -> None:
    a = EmptyTrack(offset=(-10.0, 1.0, 2.0), noise=(2.0, 1.0, 1.0))
    crowded = EmptyTrack(offset=(30.0, 0.0, 0.0), noise=(9.0, 3.0, 3.0))
    assert site_empty_track([a, None, crowded]) is None
    site = site_empty_track([a, a, crowded, None])
    assert site == EmptyTrack(offset=a.offset, noise=a.noise, images=3)
    img, tracks = _yard(0.0, [])
    assert empty_track(img, GSD, np.zeros(img.shape[:2], bool), tracks) is None
    assert empty_track(img, GSD, None, MultiLineString()) is None
