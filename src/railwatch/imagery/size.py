"""The smallest image railwatch counts railcars on: one rule for ``railwatch detect``
(which refuses a smaller image) and the pipeline (which stores such a scene as unusable,
with the reason), so that an image too small to show one railcar never reads as
"0 railcars", an empty yard.
"""

from __future__ import annotations

from railwatch.errors import ImageryError

__all__ = ["MIN_IMAGE_PX", "MIN_IMAGE_SPAN_M", "ImageTooSmallError", "image_too_small"]

#: The smallest image counted, on the ground, each way: about one car length with its
#: couplers and the gap to the next (a conventional car is 14 m, boxcars up to 17.5 m,
#: /work/shared/DOMAIN.md). A smaller image cannot hold one whole car in either direction.
MIN_IMAGE_SPAN_M = 20.0
#: The fewest pixels counted each way, whatever the resolution: a single row or column
#: of pixels (even 200 m ones, at the coarsest GSD ``detect`` takes) shows no car or
#: train, however much ground it spans.
MIN_IMAGE_PX = 2


class ImageTooSmallError(ImageryError):
    """The image is smaller than one railcar, or has too few pixels to show one."""


def _metres(value: float) -> str:
    """``value`` metres in words: three significant digits, and whole metres with
    thousands separators from 1,000 m on (a 100000 x 1 px strip at 0.5 m was "5e+04 m"
    long until 2026-12-07, session 46)."""
    return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"


def image_too_small(width: int, height: int, gsd: float) -> str | None:
    """Why an image of ``width`` x ``height`` pixels at ``gsd`` metres per pixel cannot
    be counted (one sentence, as quality reasons are), or None when it spans at least
    :data:`MIN_IMAGE_SPAN_M` metres and :data:`MIN_IMAGE_PX` pixels in both directions."""
    w_m, h_m = width * gsd, height * gsd
    few_px = min(width, height) < MIN_IMAGE_PX
    if min(w_m, h_m) >= MIN_IMAGE_SPAN_M and not few_px:
        return None
    why = "too few pixels to show a railcar" if few_px else "smaller than one railcar"
    return (
        f"the image is {width} × {height} px at {gsd:g} m per pixel ({_metres(w_m)} m × "
        f"{_metres(h_m)} m on the ground), {why}: counting needs at least "
        f"{MIN_IMAGE_SPAN_M:g} m and {MIN_IMAGE_PX} px each way"
    )
