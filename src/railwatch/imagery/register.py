"""Registering one image of a site to the site's other images.

Commercial imagery is misregistered by several metres (PlanetScope's specification
allows 10 m), and at 3 m per pixel a few metres put an analyst's track centrelines on
the edge of the ballast bed, where the occupied-length estimate reads empty ground as
cars. The misregistration of independent acquisitions averages out, so the pixel-wise
median of a site's other images is a reference in which the ground sits where it is on
average; each image is registered to it by phase correlation and the centrelines are
moved with the image's content before they are sampled.

Both the image and the references are reduced to their high-pass luminance (the
luminance minus a Gaussian blur of :data:`HIGHPASS_M` metres): seasons, haze and sun
change the low frequencies, while edges of tracks, roads, buildings and fields stay.
Pixels outside the data or not readable (``imagery.quality.readable_pixels``: not clear
or snow in the quality mask, or estimated cloud or haze without one) are set to zero. A
shift is accepted when at least :data:`MIN_REFERENCES` references are usable, the correlation
peak reaches :data:`MIN_RESPONSE` and the shift is at most :data:`MAX_SHIFT_M` metres;
otherwise the image is not moved and the reason is kept.

The figures behind the defaults are in docs/detection.md ("Registering coarse images to
their site").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from affine import Affine

from railwatch.errors import plural
from railwatch.imagery.read import SiteGrid

#: Bumped whenever the shifts found for the same images change.
REGISTRATION_VERSION = "2"
#: Fewest usable reference images for a registration.
MIN_REFERENCES = 3
#: Most reference images read (the nearest in time).
MAX_REFERENCES = 16
#: Ground around the site read for the registration, metres on every side (a small
#: site alone holds too little static ground; the cars in it change between images).
CONTEXT_M = 300.0
#: Largest side, pixels, of the registration window: a larger site is registered on
#: the central window of this size (the shift is one for the whole image; 16 references
#: of 1024 x 1024 px hold 64 MB).
MAX_WINDOW_PX = 1024
#: Lowest phase-correlation peak accepted (0-1; 0.55-1.0 on the demo's 3 m images).
MIN_RESPONSE = 0.2
#: Largest shift accepted, metres.
MAX_SHIFT_M = 15.0
#: Standard deviation of the low-pass removed before correlating, metres.
HIGHPASS_M = 24.0
#: Phase correlations repeated on the image moved back by the shift found so far.
REFINE_STEPS = 2
#: Smallest image side, pixels, for which a shift is estimated.
MIN_SIDE_PX = 32


@dataclass(frozen=True)
class Registration:
    """Where the content of an image lies against its site's reference: ``cols`` and
    ``rows`` in pixels of the image's grid (the content appears that much to the right
    and down), ``dx_m`` / ``dy_m`` the same towards east and north in metres;
    ``response`` the phase-correlation peak and ``references`` how many images made
    the reference. ``reason`` says why an image was not moved (then the shift is 0)."""

    cols: float = 0.0
    rows: float = 0.0
    gsd: float = 1.0
    response: float = 0.0
    references: int = 0
    reason: str = ""

    @property
    def applied(self) -> bool:
        return not self.reason

    @property
    def dx_m(self) -> float:
        return self.cols * self.gsd

    @property
    def dy_m(self) -> float:
        return -self.rows * self.gsd

    def to_meta(self) -> dict[str, Any]:
        """JSON-ready record of the registration (stored with the scene)."""
        out: dict[str, Any] = {
            "version": REGISTRATION_VERSION,
            "references": self.references,
            "response": round(self.response, 3),
        }
        if self.applied:
            out |= {"dx_m": round(self.dx_m, 2), "dy_m": round(self.dy_m, 2)}
        else:
            out["not_applied"] = self.reason
        return out


def registration_grid(like: SiteGrid) -> SiteGrid:
    """The grid a scene is registered on: its site grid ``like`` widened by
    :data:`CONTEXT_M` on every side, then cut to its central :data:`MAX_WINDOW_PX`
    pixels a side; the same pixels as ``like`` where they overlap, so a shift found on
    it is the shift on ``like``."""
    ctx = math.ceil(CONTEXT_M / like.gsd)
    w, h = like.width + 2 * ctx, like.height + 2 * ctx
    cw, ch = min(w, MAX_WINDOW_PX), min(h, MAX_WINDOW_PX)
    c0, r0 = (w - cw) // 2 - ctx, (h - ch) // 2 - ctx
    return SiteGrid(like.crs, like.transform @ Affine.translation(c0, r0), cw, ch, like.gsd)


def highpass(image: np.ndarray, valid: np.ndarray | None, gsd: float) -> np.ndarray:
    """High-pass luminance (float32, zero outside ``valid``) of an (H, W, >=3) image."""
    lum = np.asarray(image[..., :3], dtype=np.float32).mean(axis=2)
    ok = np.ones(lum.shape, bool) if valid is None else np.asarray(valid, dtype=bool)
    if not ok.any():
        return np.zeros_like(lum)
    lum[~ok] = float(lum[ok].mean())
    sigma = max(HIGHPASS_M / float(gsd), 1.0)
    out = lum - cv2.GaussianBlur(lum, (0, 0), sigma)
    out[~ok] = 0.0
    return out


def even_dft_size(n: int) -> int:
    """The smallest size of at least ``n`` that is both even and one of OpenCV's fast
    DFT sizes (:func:`cv2.getOptimalDFTSize`)."""
    m = cv2.getOptimalDFTSize(n)
    while m % 2:
        m = cv2.getOptimalDFTSize(m + 1)
    return int(m)


def _correlate(
    ref: np.ndarray, image: np.ndarray, window: np.ndarray
) -> tuple[tuple[float, float], float]:
    """``cv2.phaseCorrelate(ref, image, window)`` on a transform of even size: both
    windowed, then padded with zeros to :func:`even_dft_size` a side (what OpenCV does
    itself, to its own optimal size). Where that size is odd (375 for a window of 367 or
    374 px, 225, 405) OpenCV's peak lies half a pixel off in each axis (its fftShift
    of an odd size, opencv/opencv#9144): images that agree read 0.5 px apart."""
    h, w = image.shape
    shape = (even_dft_size(h), even_dft_size(w))
    a = np.zeros(shape, np.float32)
    b = np.zeros(shape, np.float32)
    a[:h, :w] = ref * window
    b[:h, :w] = image * window
    (cols, rows), response = cv2.phaseCorrelate(a, b)
    return (float(cols), float(rows)), float(response)


def phase_shift(ref: np.ndarray, image: np.ndarray) -> tuple[float, float, float]:
    """Shift (columns, rows) of ``image`` against ``ref`` and the correlation peak:
    phase correlation, then :data:`REFINE_STEPS` more on the image moved back by the
    shift found so far (the sub-pixel peak of one correlation is biased towards whole
    pixels; the residual of a nearly aligned pair is measured without that bias). Each
    correlation runs on a transform of even size (:func:`_correlate`)."""
    h, w = image.shape
    window = cv2.createHanningWindow((w, h), cv2.CV_32F)
    (cols, rows), response = _correlate(ref, image, window)
    for _ in range(REFINE_STEPS):
        if not (math.isfinite(cols) and math.isfinite(rows)):
            break
        back = np.array([[1.0, 0.0, -cols], [0.0, 1.0, -rows]])
        moved = cv2.warpAffine(
            image, back, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101
        )
        (dc, dr), _ = _correlate(ref, moved, window)
        cols, rows = cols + dc, rows + dr
    return float(cols), float(rows), float(response)


def register(image_hp: np.ndarray, references_hp: Sequence[np.ndarray], gsd: float) -> Registration:
    """The shift of ``image_hp`` against the median of ``references_hp`` (all from
    :func:`highpass`, on the same grid of ``gsd`` m per pixel)."""
    n = len(references_hp)
    if n < MIN_REFERENCES:
        return Registration(
            gsd=gsd,
            references=n,
            reason=f"{plural(n, 'usable reference image')} of the site at this resolution, "
            f"{MIN_REFERENCES} needed",
        )
    if min(image_hp.shape) < MIN_SIDE_PX:
        return Registration(
            gsd=gsd, references=n, reason=f"site window under {MIN_SIDE_PX} px a side"
        )
    for r in references_hp:
        if r.shape != image_hp.shape:
            raise ValueError(
                f"reference of shape {r.shape} differs from the image's {image_hp.shape}"
            )
    ref = np.median(np.stack(references_hp), axis=0).astype(np.float32)
    cols, rows, response = phase_shift(ref, image_hp.astype(np.float32))
    if not (math.isfinite(response) and response >= MIN_RESPONSE):
        return Registration(
            gsd=gsd,
            response=response if math.isfinite(response) else 0.0,
            references=n,
            reason=f"weak correlation with the site's other images ({response:.2f} < "
            f"{MIN_RESPONSE})",
        )
    shift = math.hypot(cols, rows) * gsd
    if shift > MAX_SHIFT_M:
        return Registration(
            gsd=gsd,
            response=response,
            references=n,
            reason=f"shift of {shift:.1f} m beyond the {MAX_SHIFT_M:g} m accepted",
        )
    return Registration(float(cols), float(rows), gsd, response, n)
