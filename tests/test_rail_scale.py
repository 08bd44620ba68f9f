"""Scale measured from the rails (railwatch.imagery.scale, `railwatch scale`, the
--gsd check of `railwatch detect`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from railwatch.imagery.scale import (
    RAIL_CENTRES_M,
    RailScale,
    estimate_gsd_from_rails,
    rail_centres_for_gauge,
    scale_disagrees,
)

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def _texture(rng: np.random.Generator, size: int, sigma: float, amp: float) -> np.ndarray:
    noise = rng.normal(0.0, 1.0, (size, size)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), sigma)
    return amp * smooth / max(float(smooth.std()), 1e-6)


def _to_rgb(gray: np.ndarray) -> np.ndarray:
    g = np.clip(gray * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.stack([g, g, g], axis=-1)


def rails_image(
    spacing: float, angle_deg: float, *, size: int = 256, n_tracks: int = 3, seed: int = 0
) -> np.ndarray:
    """Ground texture with ``n_tracks`` straight tracks in direction ``angle_deg`` (image
    x right, y down): a ballast bed, sleepers every 0.6 m and two dark rails ``spacing``
    px apart (rail-head centres), blurred like a sensor; 4.8 m between track centres."""
    rng = np.random.default_rng(seed)
    a = math.radians(angle_deg)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    cx = cy = (size - 1) / 2.0
    u = (xx - cx) * math.cos(a) + (yy - cy) * math.sin(a)  # along the track
    v = -(xx - cx) * math.sin(a) + (yy - cy) * math.cos(a)  # across
    img = 0.45 + _texture(rng, size, 4.0, 0.05)
    px_per_m = spacing / RAIL_CENTRES_M
    for k in range(n_tracks):
        c = (k - (n_tracks - 1) / 2.0) * 4.8 * px_per_m
        bed = np.abs(v - c) < 2.4 * px_per_m  # beds of neighbouring tracks touch
        img = np.where(bed, img + 0.12, img)
        sleeper = (np.abs(v - c) < 1.3 * px_per_m) & (
            np.sin(2 * math.pi * u / (0.6 * px_per_m)) > 0.2
        )
        img = np.where(sleeper, img - 0.05, img)
        for side in (-0.5, 0.5):
            img = img - 0.25 * np.exp(-0.5 * ((v - c - side * spacing) / 0.45) ** 2)
    blurred = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.6)
    noise = rng.normal(0.0, 0.01, blurred.shape)
    return _to_rgb((blurred + noise).astype(np.float32))


def no_track_image(size: int = 256, seed: int = 1) -> np.ndarray:
    """Fields and roofs: smooth texture, rectangles at random angles, pixel noise."""
    rng = np.random.default_rng(seed)
    img = 0.5 + _texture(rng, size, 6.0, 0.08) + _texture(rng, size, 1.0, 0.03)
    for _ in range(12):
        c = rng.uniform(0, size, 2)
        w, h = rng.uniform(8, 40, 2)
        box = cv2.boxPoints(((float(c[0]), float(c[1])), (float(w), float(h)), rng.uniform(0, 180)))
        cv2.fillPoly(img, [np.round(box).astype(np.int32)], float(rng.uniform(0.2, 0.8)))
    img = img + rng.normal(0.0, 0.01, img.shape)
    return _to_rgb(img.astype(np.float32))


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 149.0])
@pytest.mark.parametrize("spacing", [6.0, 11.0])
def test_rails_at_known_spacing_and_angle_are_measured_within_5_percent(
    angle: float, spacing: float
) -> None:
    r = estimate_gsd_from_rails(rails_image(spacing, angle, seed=int(angle) + int(spacing)))
    assert r.measured, r.reason
    assert r.spacing_px == pytest.approx(spacing, rel=0.05)
    assert r.gsd == pytest.approx(RAIL_CENTRES_M / spacing, rel=0.05)
    assert r.gsd is not None and r.gsd_low is not None and r.gsd_high is not None
    assert r.gsd_low < r.gsd < r.gsd_high
    assert r.strips >= 4
    # The line direction found is the tracks' (mod 180).
    assert any(min(abs(d - angle) % 180, 180 - abs(d - angle) % 180) < 3 for d in r.directions_deg)


def test_image_without_track_is_not_measured() -> None:
    for seed in (1, 2, 3):
        r = estimate_gsd_from_rails(no_track_image(seed=seed))
        assert not r.measured and r.gsd is None
        assert r.reason


def test_evenly_spaced_thin_lines_are_not_rails() -> None:
    """Crop rows or parking bays: thin dark lines every 8 px are not pairs of rails."""
    rng = np.random.default_rng(5)
    yy = np.mgrid[0:256, 0:256][0].astype(np.float32)
    img = 0.55 + _texture(rng, 256, 5.0, 0.04)
    for y0 in np.arange(4.0, 256.0, 8.0):
        img = img - 0.2 * np.exp(-0.5 * ((yy - y0) / 0.6) ** 2)
    r = estimate_gsd_from_rails(_to_rgb(img.astype(np.float32)))
    assert not r.measured, r


def test_rails_closer_than_4_px_are_not_measured() -> None:
    r = estimate_gsd_from_rails(rails_image(3.0, 30.0, seed=7))
    assert not r.measured
    assert "4 px" in r.reason


@pytest.mark.parametrize("rails_px", [2.0, 2.5, 3.0])
def test_two_tracks_seen_as_single_lines_are_not_taken_for_rails(rails_px: float) -> None:
    """A double track at 0.5-0.75 m: each track one line, the two tracks 4.8 m (6.4-9.6 px)
    apart would pass for the rails of one track at a third of the scale."""
    img = rails_image(rails_px, 0.0, size=512, n_tracks=2, seed=3)
    r = estimate_gsd_from_rails(img)
    assert not r.measured, r


def _upsample(rgb: np.ndarray, k: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (w * k, h * k), interpolation=cv2.INTER_CUBIC)


def test_upsampled_image_is_measured_after_downsampling() -> None:
    """A figure upsampled 2×: its rails are too wide for the width rule at full
    resolution; the image holds no detail finer than 2 px, so it is measured again after
    2× area downsampling, and the spacing is given in full-resolution pixels."""
    r = estimate_gsd_from_rails(_upsample(rails_image(6.0, 30.0, seed=21), 2))
    assert r.measured, r.reason
    assert r.downsampled == 2
    assert r.spacing_px == pytest.approx(12.0, rel=0.05)


def test_sharp_image_is_not_retried_coarser() -> None:
    """A sharp double track (rails 2.5 px apart) is refused, not measured after
    downsampling (where its two tracks would look like one track's rails); upsampled 2×,
    it is retried at 2× and still refused."""
    img = rails_image(2.5, 0.0, size=512, n_tracks=2, seed=3)
    r = estimate_gsd_from_rails(img)
    assert not r.measured and "also tried" not in r.reason
    up = estimate_gsd_from_rails(_upsample(img, 2))
    assert not up.measured, up


def test_gray_and_float_input_give_the_same_spacing() -> None:
    rgb = rails_image(8.0, 60.0, seed=3)
    a = estimate_gsd_from_rails(rgb)
    b = estimate_gsd_from_rails(rgb[:, :, 0].astype(np.float32) / 255.0)
    assert a.measured and b.measured
    assert a.spacing_px == pytest.approx(b.spacing_px, rel=0.01)


def test_small_image_is_refused_with_its_size() -> None:
    r = estimate_gsd_from_rails(np.zeros((30, 200, 3), np.uint8))
    assert not r.measured and "too small" in r.reason


def test_disagreement_uses_the_interval_widened_by_the_tolerance() -> None:
    s = RailScale(True, "", gsd=0.24, gsd_low=0.23, gsd_high=0.25, spacing_px=6.3)
    assert not scale_disagrees(0.24, s)
    assert not scale_disagrees(0.28, s)  # 0.25 * 1.15 = 0.2875
    assert scale_disagrees(0.29, s)
    assert scale_disagrees(0.19, s)  # 0.23 * 0.85 = 0.1955
    assert scale_disagrees(0.9, s)
    assert not scale_disagrees(0.9, RailScale(False, "no rails"))


def test_rail_centres_for_gauge() -> None:
    assert rail_centres_for_gauge(1435) == pytest.approx(RAIL_CENTRES_M)
    assert rail_centres_for_gauge(1520) == pytest.approx(1.59)
    with pytest.raises(ValueError, match="gauge"):
        rail_centres_for_gauge(14.35)


def test_muttenz_downsampled_to_0_2_m_within_10_percent() -> None:
    path = REAL / "muttenz_10cm.png"
    if not path.is_file():
        pytest.skip(f"{path} is absent (development images live outside the repository)")
    bgr = cv2.imread(str(path))
    assert bgr is not None and bgr.shape[:2] == (1000, 1000)
    img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    small = cv2.resize(img, (500, 500), interpolation=cv2.INTER_AREA)  # 0.10 m -> 0.20 m
    r = estimate_gsd_from_rails(small)
    assert r.measured, r.reason
    assert r.gsd == pytest.approx(0.20, rel=0.10)
    # The same at 0.3 m, upsampled 2× (a resampled figure): 0.15 m per pixel.
    up = _upsample(cv2.resize(img, (333, 333), interpolation=cv2.INTER_AREA), 2)
    r2 = estimate_gsd_from_rails(up)
    assert r2.measured, r2.reason
    assert r2.gsd == pytest.approx(0.10 * 1000 / 666, rel=0.10)


# --------------------------------------------------------------------------- CLI


def _png(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def _invoke(args: list[str]) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from railwatch.cli.main import build_app

    result = CliRunner().invoke(build_app(), args)
    return result.exit_code, result.stdout, result.stderr


def test_scale_command_prints_the_measured_gsd_as_json(tmp_path: Path) -> None:
    png = _png(tmp_path / "rails.png", rails_image(7.5, 30.0, seed=11))
    code, out, _ = _invoke(["scale", str(png), "--json"])
    assert code == 0, out
    data = json.loads(out)
    assert data["measured"] is True and data["georeferenced"] is False
    assert data["gsd"] == pytest.approx(RAIL_CENTRES_M / 7.5, rel=0.05)
    assert data["gsd_low"] <= data["gsd"] <= data["gsd_high"]


def test_scale_command_says_why_it_cannot_measure(tmp_path: Path) -> None:
    png = _png(tmp_path / "fields.png", no_track_image(seed=4))
    code, out, err = _invoke(["scale", str(png)])
    assert code == 1 and out == ""  # a failure: said on stderr (test_cli_qa24_markup)
    assert "not measured" in err and "no rail pairs" in " ".join(err.split())


@pytest.mark.parametrize(("given", "warns"), [(0.6, True), (0.2, False)])
def test_detect_warns_when_gsd_disagrees_with_the_rails(
    tmp_path: Path, given: float, warns: bool
) -> None:
    """Rails 7.5 px apart: about 0.20 m per pixel. --gsd 0.6 warns and names both values;
    --gsd 0.2 does not. The detection itself runs at the given --gsd either way, and the
    GeoJSON records the check."""
    png = _png(tmp_path / "rails.png", rails_image(7.5, 149.0, size=192, seed=12))
    out = tmp_path / "out.geojson"
    code, stdout, stderr = _invoke(["detect", str(png), "--gsd", str(given), "-o", str(out)])
    assert code == 0, stdout + stderr
    text = " ".join(stderr.split())
    assert ("warning" in text) is warns, text
    if warns:
        assert "--gsd 0.6" in text and "0.20" in text and "--no-scale-check" in text
    fc = json.loads(out.read_text())
    assert fc["gsd"] == given
    check = fc["scale_check"]
    assert check["measured"] is True and check["agrees"] is (not warns)
    assert check["gsd"] == pytest.approx(RAIL_CENTRES_M / 7.5, rel=0.05)


def test_detect_no_scale_check_skips_the_measurement(tmp_path: Path) -> None:
    png = _png(tmp_path / "rails.png", rails_image(7.5, 0.0, size=192, seed=13))
    out = tmp_path / "out.geojson"
    code, stdout, stderr = _invoke(
        ["detect", str(png), "--gsd", "0.6", "--no-scale-check", "-o", str(out)]
    )
    assert code == 0, stdout + stderr
    assert "warning" not in stderr
    assert "scale_check" not in json.loads(out.read_text())


def test_detect_gsd_auto_uses_the_scale_of_the_rails(tmp_path: Path) -> None:
    png = _png(tmp_path / "rails.png", rails_image(7.5, 30.0, size=192, seed=15))
    out = tmp_path / "out.geojson"
    code, stdout, stderr = _invoke(["detect", str(png), "--gsd", "auto", "-o", str(out)])
    assert code == 0, stdout + stderr
    assert "scale measured from the rails" in " ".join(stderr.split())
    fc = json.loads(out.read_text())
    assert fc["gsd"] == pytest.approx(RAIL_CENTRES_M / 7.5, rel=0.05)
    assert fc["scale_check"]["agrees"] is True


def _error(args: list[str]) -> str:
    """The message of the InputError a command raises (main() prints it as 'error: ...')."""
    from typer.testing import CliRunner

    from railwatch.cli.main import build_app
    from railwatch.errors import InputError

    result = CliRunner().invoke(build_app(), args)
    assert isinstance(result.exception, InputError), (result.exception, result.stdout)
    return " ".join(str(result.exception).split())


def test_detect_gsd_auto_without_rails_is_a_clear_error(tmp_path: Path) -> None:
    png = _png(tmp_path / "fields.png", no_track_image(seed=4))
    text = _error(["detect", str(png), "--gsd", "auto"])
    assert "could not measure the scale from the rails" in text and "--gsd METRES" in text


def test_detect_without_gsd_names_the_scale_of_the_rails(tmp_path: Path) -> None:
    png = _png(tmp_path / "rails.png", rails_image(7.5, 30.0, size=192, seed=16))
    text = _error(["detect", str(png)])
    assert "is not georeferenced" in text and "--gsd auto" in text
    assert f"--gsd {RAIL_CENTRES_M / 7.5:.2f}" in text  # about 0.20 m


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "inf"])
def test_detect_rejects_a_gsd_that_is_not_a_positive_number(tmp_path: Path, bad: str) -> None:
    png = _png(tmp_path / "rails.png", rails_image(7.5, 30.0, size=192, seed=17))
    assert "metres per pixel" in _error(["detect", str(png), "--gsd", bad])


def _geotiff(path: Path, rgb: np.ndarray, gsd: float) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    h, w = rgb.shape[:2]
    profile = {
        "driver": "GTiff",
        "width": w,
        "height": h,
        "count": 3,
        "dtype": "uint8",
        "crs": "EPSG:32652",
        "transform": from_origin(500000.0, 4700000.0, gsd, gsd),
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(rgb.transpose(2, 0, 1))
    return path


def test_georeferenced_file_reports_its_header_and_is_not_checked(tmp_path: Path) -> None:
    from railwatch.imagery.scale import check_gsd, measure_file

    tif = _geotiff(tmp_path / "yard.tif", rails_image(7.5, 120.0, seed=14), 0.2)
    found = measure_file(tif)
    assert found.georeferenced and found.header_gsd == pytest.approx(0.2)
    assert found.scale.measured and found.scale.gsd == pytest.approx(0.2, rel=0.05)
    assert check_gsd(tif, 0.9) is None  # the header gives the scale: no rail check
    png = _png(tmp_path / "yard.png", rails_image(7.5, 120.0, seed=14))
    check = check_gsd(png, 0.9)
    assert check is not None and check.disagrees
