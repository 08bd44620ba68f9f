"""Atmosphere and sensor effects applied to a rendered ground image: colour cast,
haze, thin and thick cloud (with shadows and a per-pixel quality mask), blur,
sensor noise, JPEG compression and partial coverage.

Mask codes (contract): 0 clear, 1 cloud, 2 haze/thin cloud, 3 snow, 4 cloud shadow,
255 no data.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MASK_CLEAR, MASK_CLOUD, MASK_HAZE, MASK_SNOW, MASK_SHADOW, MASK_NODATA = 0, 1, 2, 3, 4, 255
#: Cloud alpha above which a pixel is "cloud" (opaque) in the mask.
CLOUD_ALPHA_OPAQUE = 0.5
#: Cloud alpha above which a pixel is at least "thin cloud" (code 2).
CLOUD_ALPHA_THIN = 0.12
#: Haze strength above which a pixel is flagged "haze" (code 2).
HAZE_FLAG = 0.35
#: Cloud-shadow darkening above which a clear pixel is flagged "cloud shadow".
SHADOW_FLAG = 0.2
#: Ground snow alpha above which a clear pixel is flagged "snow".
SNOW_FLAG = 0.5


def fractal(
    rng: np.random.Generator,
    shape: tuple[int, int],
    cell_px: float,
    octaves: int = 3,
    persistence: float = 0.5,
) -> np.ndarray:
    """Smooth value noise of ``shape`` (H, W), float32, about zero mean and unit std.

    The coarsest octave has features of about ``cell_px`` pixels; each octave halves it.
    Computed on small grids and upsampled, so it costs little at any size.
    """
    h, w = shape
    work_h, work_w = max(2, min(h, h // 4 + 1)), max(2, min(w, w // 4 + 1))
    acc = np.zeros((work_h, work_w), np.float32)
    amp, total = 1.0, 0.0
    cell = float(cell_px)
    for _ in range(octaves):
        gh = max(2, int(np.ceil(h / max(cell, 1.0))) + 2)
        gw = max(2, int(np.ceil(w / max(cell, 1.0))) + 2)
        grid = rng.standard_normal((gh, gw), dtype=np.float32)
        acc += amp * cv2.resize(grid, (work_w, work_h), interpolation=cv2.INTER_CUBIC)
        total += amp * amp
        amp *= persistence
        cell /= 2.0
    acc /= np.float32(np.sqrt(total))
    if (work_h, work_w) == (h, w):
        return acc
    return cv2.resize(acc, (w, h), interpolation=cv2.INTER_LINEAR)


def grain(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Fast fine noise, float32, zero mean and about unit std (sum of two uniform
    fields: a triangular distribution, close enough to Gaussian for texture and
    sensor noise, and ~10x cheaper to draw)."""
    h, w = shape
    raw = np.frombuffer(rng.bytes(2 * h * w), dtype=np.int8)
    a, b = raw[: h * w].reshape(h, w), raw[h * w :].reshape(h, w)
    out: np.ndarray = cv2.add(a, b, dtype=cv2.CV_32F)
    out += np.float32(1.0)
    out *= np.float32(1.0 / 104.5)
    return out


def soft_threshold(
    field: np.ndarray, fraction: float, softness: float = 0.25, ref: np.ndarray | None = None
) -> np.ndarray:
    """Alpha in 0..1 that is ~1 on the ``fraction`` of ``field`` (or of ``ref``, a part
    of it) with the highest values."""
    if fraction <= 0.0:
        return np.zeros_like(field)
    if fraction >= 1.0:
        return np.ones_like(field)
    src = field if ref is None else ref
    sample = src[:: max(1, src.shape[0] // 64), :: max(1, src.shape[1] // 64)]
    t = float(np.quantile(sample, 1.0 - fraction))
    return np.clip((field - t) / softness + 0.5, 0.0, 1.0)


@dataclass(frozen=True)
class Atmosphere:
    """What the atmosphere did to each pixel (all (H, W) float32 0..1)."""

    cloud_alpha: np.ndarray
    cloud_shadow: np.ndarray
    haze: np.ndarray


def atmosphere(
    rng: np.random.Generator,
    shape: tuple[int, int],
    gsd: float,
    *,
    haze: float,
    cloud_cover: float,
    thin_cloud: float,
    sun_elevation: float,
    sun_azimuth: float,
) -> Atmosphere:
    """Cloud opacity, cloud-shadow darkening and haze strength fields."""
    h, w = shape
    zeros = np.zeros(shape, np.float32)
    if cloud_cover > 0:
        # Work on a coarse grid (~8 m cells), then upsample: clouds are smooth.
        f = max(1, round(8.0 / gsd))
        lh, lw = max(2, -(-h // f)), max(2, -(-w // f))
        # Shadow offset: clouds ~1 km up, cast away from the sun (in coarse cells).
        cloud_h = float(rng.uniform(700.0, 1500.0))
        off = cloud_h / np.tan(np.deg2rad(sun_elevation)) / (gsd * f)
        az = np.deg2rad(sun_azimuth)
        sx, sy = -np.sin(az) * off, np.cos(az) * off  # (col, row); north is -row
        pad_x, pad_y = int(min(abs(sx), 3 * lw)), int(min(abs(sy), 3 * lh))
        big = (lh + pad_y, lw + pad_x)
        cell = max(3.0, 600.0 / (gsd * f))
        field = fractal(rng, big, cell, octaves=4, persistence=0.55)
        # Cloud window and the window its shadow falls into.
        cx0 = pad_x if sx > 0 else 0
        cy0 = pad_y if sy > 0 else 0
        scx = int(np.clip(cx0 - round(min(abs(sx), pad_x) * np.sign(sx)), 0, pad_x))
        scy = int(np.clip(cy0 - round(min(abs(sy), pad_y) * np.sign(sy)), 0, pad_y))
        # The requested cover holds over the frame and over the area whose clouds
        # cast their shadows into the frame (so shadows match the cloud amount).
        ref = np.concatenate(
            [field[cy0 : cy0 + lh, cx0 : cx0 + lw], field[scy : scy + lh, scx : scx + lw]]
        )
        density = soft_threshold(field, cloud_cover, 0.35, ref=ref)
        thick_field = fractal(rng, big, cell * 1.5, octaves=2)
        thin = soft_threshold(
            thick_field, thin_cloud, 0.5, ref=thick_field[cy0 : cy0 + lh, cx0 : cx0 + lw]
        )
        alpha_big = density * (1.0 - 0.7 * thin)
        cloud_lo = np.ascontiguousarray(alpha_big[cy0 : cy0 + lh, cx0 : cx0 + lw])
        shadow_lo = np.ascontiguousarray(0.55 * alpha_big[scy : scy + lh, scx : scx + lw])
        cloud_alpha = _upsample(cloud_lo, f, (h, w))
        shadow = _upsample(shadow_lo, f, (h, w))
    else:
        cloud_alpha, shadow = zeros, zeros
    if haze > 0:
        hf = fractal(rng, shape, max(8.0, 800.0 / gsd), octaves=2)
        haze_field = np.clip(haze * (1.0 + 0.35 * hf), 0.0, 0.95).astype(np.float32)
    else:
        haze_field = zeros
    return Atmosphere(cloud_alpha, shadow, haze_field)


def _upsample(lo: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """Upsample a coarse grid by ``f`` (cell centres aligned) and crop to ``shape``."""
    h, w = shape
    lh, lw = lo.shape
    up = cv2.resize(lo, (lw * f, lh * f), interpolation=cv2.INTER_CUBIC)
    return np.clip(up[:h, :w], 0.0, 1.0).astype(np.float32)


def apply_atmosphere(
    img: np.ndarray,
    atm: Atmosphere,
    rng: np.random.Generator,
    gains: tuple[float, float, float],
    saturation: float = 0.82,
) -> list[np.ndarray]:
    """Colour gains, saturation, cloud shadow, haze and cloud on a uint8 (H, W, 3)
    image; three float32 planes out (R, G, B). (Satellite imagery is less saturated than paint: the
    atmosphere and the sensor's broad bands mix the channels.)

    Per pixel: ``out = img * gain * (1 - shadow)(1 - haze)(1 - a) + air * haze (1 - a) + cloud * a``
    with ``a`` the cloud opacity, computed plane by plane.
    """
    h, w = img.shape[:2]
    planes = [p.astype(np.float32) for p in cv2.split(img)]
    if saturation != 1.0:
        grey = (planes[0] + planes[1] + planes[2]) * np.float32((1.0 - saturation) / 3.0)
        planes = [p * np.float32(saturation) + grey for p in planes]
    has_cloud = bool(atm.cloud_alpha.any())
    has_haze = bool(atm.haze.any())
    has_shadow = bool(atm.cloud_shadow.any())
    if not (has_cloud or has_haze or has_shadow):
        for p, g in zip(planes, gains, strict=True):
            p *= np.float32(g)
        return planes
    m = np.ones((h, w), np.float32)
    if has_shadow:
        m -= atm.cloud_shadow
    keep = 1.0 - atm.cloud_alpha if has_cloud else None
    if has_haze:
        m *= 1.0 - atm.haze
    if keep is not None:
        m *= keep
    cloud = None
    if has_cloud:
        shade = fractal(rng, (h, w), 40.0, octaves=3)
        cloud = (np.float32(232.0) + np.float32(12.0) * shade) * atm.cloud_alpha
    air = (196.0, 202.0, 212.0)
    tint = (1.0, 1.01, 1.03)
    out = []
    for c in range(3):
        plane = planes[c]
        plane *= m * np.float32(gains[c])
        if has_haze:
            add = atm.haze * np.float32(air[c])
            if keep is not None:
                add *= keep
            plane += add
        if cloud is not None:
            plane += cloud * np.float32(tint[c])
        out.append(plane)
    return out


def quality_mask(atm: Atmosphere, snow_alpha: np.ndarray | None, valid: np.ndarray) -> np.ndarray:
    """The UDM2-like quality mask (codes above) from the atmosphere fields."""
    mask = np.zeros(valid.shape, np.uint8)
    if snow_alpha is not None:
        mask[snow_alpha > SNOW_FLAG] = MASK_SNOW
    mask[atm.cloud_shadow > SHADOW_FLAG] = MASK_SHADOW
    mask[atm.haze > HAZE_FLAG] = MASK_HAZE
    mask[atm.cloud_alpha > CLOUD_ALPHA_THIN] = MASK_HAZE
    mask[atm.cloud_alpha > CLOUD_ALPHA_OPAQUE] = MASK_CLOUD
    mask[~valid] = MASK_NODATA
    return mask


def sensor(
    planes: list[np.ndarray],
    rng: np.random.Generator,
    *,
    blur: float,
    noise: float,
    jpeg_quality: int | None,
) -> np.ndarray:
    """Blur (MTF), noise, quantisation and JPEG on float32 R, G, B planes; uint8 RGB out."""
    h, w = planes[0].shape
    n = grain(rng, (h + 2, w + 2)) if noise > 0 else None
    # One noise field, shifted per band: independent noise in each band.
    offsets = ((0, 0), (1, 2), (2, 1))
    out8 = []
    for plane, (dy, dx) in zip(planes, offsets, strict=True):
        if blur > 0.05:
            plane = cv2.GaussianBlur(plane, (0, 0), blur)
        if n is not None:
            plane = cv2.scaleAdd(n[dy : dy + h, dx : dx + w], float(noise), plane)
        out8.append(cv2.convertScaleAbs(plane))
    out = cv2.merge(out8)
    if jpeg_quality is not None:
        ok, enc = cv2.imencode(
            ".jpg", np.ascontiguousarray(out[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]
        )
        dec = cv2.imdecode(enc, cv2.IMREAD_COLOR) if ok else None
        if dec is not None:
            out = np.ascontiguousarray(dec[..., ::-1])
    return out


def coverage_mask(rng: np.random.Generator, shape: tuple[int, int], coverage: float) -> np.ndarray:
    """Valid-data mask covering about ``coverage`` of the scene, cut by a straight edge
    (the edge of the satellite strip)."""
    h, w = shape
    if coverage >= 1.0:
        return np.ones(shape, bool)
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    proj = (xx - w / 2) * np.float32(np.cos(ang)) + (yy - h / 2) * np.float32(np.sin(ang))
    sample = proj[:: max(1, h // 64), :: max(1, w // 64)]
    t = float(np.quantile(sample, 1.0 - coverage))
    return proj >= t
