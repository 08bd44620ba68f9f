"""Scene quality over a site: how much of it is clear, covered, and fine enough.

With a provider or sidecar quality mask (codes 0 clear, 1 cloud, 2 haze, 3 snow,
4 cloud shadow, 255 no data) the mask decides. Without one, cloud, haze and snow
are *estimated* from the RGB pixels with simple, explainable rules:

- **opaque cloud**: bright, nearly grey regions of at least ~0.25 ha with nothing
  dark inside them (an opaque cloud hides cars, rails and shadows), grown over
  their soft, darker rim;
- **snow**: bright, nearly grey regions in which dark objects (cars, rails, trees,
  shadows) show within ~10 m of enough of their pixels, or every bright region
  when such ground covers most of the site (a winter scene); from 1.5 m on also
  fairly bright ones (light snow's patches, 500 m² or more) with a bright middle (a
  quarter of the patch bright; grey concrete, roads and light ballast, fairly bright
  all over, are not snow: session 42), grown over their soft rim. A snow or cloud region
  needs a bright middle 5 m wide (session 42: a block of white wagons on adjacent tracks,
  roofs about 3 m wide joined across their gaps by the closing, is neither);
- **haze / thin cloud**: regions of at least ~0.5 ha whose darkest pixels are
  raised (dark channel prior: clear ground always has some dark pixels), whose
  local contrast is low and whose colours are washed out;
- **cloud shadow** (session 42): regions of at least ~0.5 ha darkened to about half
  the scene's ground brightness or less, whose texture darkens with them (a common
  darkening keeps every ratio of brightness), no smoother than the ground around,
  and whose edges are soft. Counted with cloud, as a quality mask counts it
  (``Quality.cloud_fraction``; the reasons say "cloud and cloud shadow").

An image whose site pixels span fewer than :data:`MIN_CONTRAST_LEVELS` grey levels
(1st to 99th percentile of the luminance: a night, dusk or failed exposure, a blank
image) is unusable whatever the mask says: it would read as an empty yard, or a dim one
as a yard with far fewer cars. Linear 16-bit data is stretched to full contrast before
that is measured, so its exposure is judged on its stored values
(:data:`MIN_EXPOSURE_FRACTION`; session 39).

Limits of the estimate, stated plainly: without a SWIR band, an open snow field
with nothing dark in it looks like cloud and is reported as cloud, and a cloud over
snowy ground may be reported as snow; large bright roofs or concrete aprons can be
taken for cloud, and dense haze over bright ground for cloud; light haze (that
keeps dark pixels dark) and thin cirrus over dark ground are missed. Cloud shadow is
found only where it is deep (the ground at about half its brightness or less), large
and soft-edged, and not from about 5.5 m on (a cell of 8 m is then one pixel or two,
whose texture cannot be seen): the shadow of a thin cloud, a shadow over most of the
site (nothing brighter to compare it with), a shadow whose edge is sharp in the image,
and one over ground darker and smoother than the rest are missed and judged clear; on
simulated scenes about two thirds of the shadowed area is found (session 42;
docs/detection.md, "Cloud shadow"). A dark forest stand or field with soft edges and
its own texture could still be taken for shadow: the rule was checked on the
simulator's clear scenes and on two real images, not on many real ones, and the clear
China panel area-averaged to 1.2-5 m reads 16-17 % shadow (a forest stand whose
darkening, -0.60 to -0.63, and texture there are a simulated shadow's; not fixed,
session 42). The sun's
direction is not used. From 1.5 m on, light snow is sought down to a darkest
channel of 140 and in patches of 500 m² (its soft edges mix snow and ground) that are
bright in their middle, and is mostly found on simulated 1.5-5 m scenes; until session
41 it was often neither snow nor haze to the estimate, and judged clear (session 40);
in session 41 grey concrete, roads and light ballast of a real summer yard read as 10-31 %
snow from 1.5 m on (fixed in session 42; a grey region beside enough white roofs, a
quarter of it, can still be taken for snow, and so can a bright roof or apron wider than
5 m with dark things round it); heavy haze there is more often called
cloud than haze. The decision "usable or not" is far more reliable than the split
between cloud, haze and snow. Use a provider mask when there is one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from affine import Affine

from railwatch.imagery.effective import BLOCK, Blocks, coarse_content_reason, estimate
from railwatch.imagery.places import Places
from railwatch.imagery.read import (
    MASK_LAST_CODE,
    MASK_NODATA,
    ImageRows,
    Radiometry,
    SiteGrid,
    SiteRaster,
    SiteWindow,
    pixels_of,
    read_site_window,
)
from railwatch.rails import LENGTH_GSD, PRESENCE_GSD

__all__ = [
    "MAX_COUNT_GSD",
    "QUALITY_VERSION",
    "Conditions",
    "Quality",
    "assess_quality",
    "causes",
    "estimate_conditions",
]

#: The version of the rules that judge a scene's quality (the estimate from the pixels,
#: and the checks that apply with a mask too: exposure, contrast, resampled detail).
#: Part of every scene's processing version (:func:`railwatch.pipeline.processing_version`),
#: so that a change of these rules has ``railwatch process`` judge the stored scenes
#: again, as a new detector has them counted again. Scenes processed before it existed
#: (2026-12-06, session 43) carry none and are judged again once. "1": the rules of
#: session 42 (cloud shadow, light snow with a bright middle, blocks of white wagons not
#: snow, estimated shadow not read by the 3 m estimate); a scene judged before them could
#: stay unusable for snow it did not have (a summer yard at 1.5 m read 31 % snow).
QUALITY_VERSION = "1"

#: Coarsest resolution (metres) at which a scene is still usable (presence only).
MAX_COUNT_GSD = 10.0
#: 1.5 m: finer than this, cars are counted one by one; from it on, by occupied length
#: (:func:`railwatch.detect.coarse.method_for_gsd`; until 2026-12-06, session 40, a
#: scene of exactly 1.5 m was counted by length but judged by the one-by-one rules: 32
#: grey levels, the effective resolution's check)
_OBJECT_GSD = LENGTH_GSD
#: From this (metres) only the presence of long trains is read; from 1.5 m below it, the
#: occupied track length (as :func:`railwatch.detect.coarse.method_for_gsd`, whose
#: ``PRESENCE_GSD`` it is; until 2026-12-06, session 40, 5 m: a 7 m scene counted by
#: length was said to tell only the presence of long trains)
_PRESENCE_GSD = PRESENCE_GSD

#: The reasons :func:`assess_quality` adds for a resolution that is counted another way
#: (occupied track length, long trains only): notes of how it is counted, not why a scene
#: is unusable.
_METHOD_NOTE = re.compile(
    r"^resolution [0-9.]+ m: (cars are not separable|only the presence of long trains)"
)


def causes(reasons: Sequence[str]) -> list[str]:
    """``reasons`` (a scene's stored quality reasons) without the notes of how its
    resolution is counted ("resolution 3.0 m: cars are not separable, counts come from
    occupied track length"): what an unusable scene's "why" says. Until 2026-12-07
    (session 48) a cloudy 3 m image read "unusable: cloud covers 95 % of the site; ...;
    resolution 3.0 m: cars are not separable ..." in the report and the export, as if its
    resolution were a cause too."""
    return [r for r in reasons if not _METHOD_NOTE.match(r)]


# Estimation thresholds (8-bit values, metres).
_BRIGHT_MIN = 175  # darkest channel of a bright (cloud/snow) pixel
_GREY_MAX_SAT = 0.16  # saturation (max-min)/max of a nearly grey pixel
_CLOUD_MIN_M2 = 2500.0  # smallest cloud region
_DARK_MAX = 100  # darkest channel of a "dark object" pixel (car, rail, shadow)
_DARK_NEAR_M = 20.0  # window in which a snow pixel sees a dark object
_SNOW_DARK_SHARE = 0.05  # share of a snow region's interior near dark objects
_WINTER_BRIGHT_SHARE = 0.5  # bright share of the site that makes a "winter scene"
_RIM_MIN = 120  # darkest channel of a cloud-rim pixel
#: :data:`_BRIGHT_MIN` from 1.5 m on (:data:`_OBJECT_GSD`) for snow, with
#: :data:`_SNOW_MIN_M2_COARSE` and snow grown over its rim: light snow (the simulator's
#: snow of 0.3-0.5) lies in patches tens of metres across whose soft edges mix snow and
#: ground, so half the pixels a quality mask calls snow have a darkest channel under 175
#: (median about 170) and most patches are smaller than :data:`_CLOUD_MIN_M2`. An opaque
#: cloud still needs :data:`_CLOUD_MIN_M2` of pixels at :data:`_BRIGHT_MIN` (a grey
#: concrete apron is not taken for cloud). Session 41 (2026-12-06; docs/detection.md,
#: "Light snow at coarse resolution"; tuned on seeds 0-9, 130-150 and 250-1000 m² tried):
#: of the held-out simulated snow scenes at 1.5, 3 and 5 m (seeds 100-111, 60 a gsd)
#: whose masks call them unusable 6, 11 and 5 were judged usable, now 0, 0 and 1; clear
#: scenes judged unusable 0 of 180 before and after; 2 of the 159 light-haze scenes the
#: masks call usable are newly judged unusable (0.82 and 0.80 clear, now 0.72 and 0.78).
_BRIGHT_MIN_COARSE = 140
#: Smallest snow region (m²) from 1.5 m on (:data:`_BRIGHT_MIN_COARSE`); an opaque cloud
#: is still :data:`_CLOUD_MIN_M2` or more.
_SNOW_MIN_M2_COARSE = 500.0
#: From 1.5 m on a snow region (candidates from :data:`_BRIGHT_MIN_COARSE`) needs this
#: share of its pixels at :data:`_BRIGHT_MIN`, or :data:`_CLOUD_MIN_M2` of them: light
#: snow's patches have a bright middle (the simulator's 0.3-1.0 at 1.5 m: 0.3-0.9 of the
#: patches found), grey concrete, roads, light ballast and platforms are fairly bright all
#: over (the real summer yard at Muttenz area-averaged to 1.5-3 m: its road and track
#: beds, darkest channel about 136-160, 0.11 or less, read as 10-31 % snow without it).
#: A "winter scene" (every large bright region snow) likewise needs this share of its
#: candidates at :data:`_BRIGHT_MIN` (a yard two thirds grey concrete read 64 % snow).
#: Session 42 (2026-12-06; docs/detection.md,
#: "Light snow at coarse resolution: not the grey ground of a clear yard"; tuned on seeds
#: 200-211, 0.2-0.35 tried).
_SNOW_CORE_SHARE = 0.25
#: A snow or cloud region needs a bright middle at least this wide (metres): some pixel
#: of it (darkest channel :data:`_BRIGHT_MIN`, before the closing) whose disc of this
#: diameter (in whole pixels, odd) is :data:`_SNOW_WIDE_SHARE` bright. A railcar's roof
#: is about 3 m wide and the roofs on adjacent tracks (4.5 m apart) are 1-1.5 m apart,
#: so a block of white or light-grey wagons, joined across its tracks by the closing,
#: has no such middle; snow and cloud do. Session 42 (2026-12-06; docs/detection.md,
#: "White wagons are not snow; the China panel's coarse shadow"): such blocks read 6-30 %
#: snow at 0.3-3 m before.
_SNOW_WIDE_M = 5.0
#: The share of :data:`_SNOW_WIDE_M`'s disc that must be bright: a block of white wagons
#: fills at most 0.79 of it at 0.15-0.5 m and 0.88 at 1 m (from 1.5 m on the disc is 5
#: pixels, all needed). All of it (bcc8271) dropped an opaque cloud at 0.3 m whose
#: darkest channel is textured (a tenth of its pixels under :data:`_BRIGHT_MIN`) or has
#: specks without data: 38 % of a site under cloud judged clear (review, session 42;
#: tests/test_review_s42.py).
_SNOW_WIDE_SHARE = 0.9
_RIM_M = 40.0  # how far a cloud's rim may reach
_RIM_STEPS = 4
_HAZE_WINDOW_M = 32.0
_HAZE_MAX_SAT = 0.2  # haze is grey-white: bright saturated ground (sand) is not haze
_HAZE_DARK_MIN = 70  # darkest channel, minimum over the window, raised by haze
#: :data:`_HAZE_DARK_MIN` from 1.5 m on (:data:`_OBJECT_GSD`): a coarse pixel mixes a car's,
#: a rail's or a shadow's dark with the ground round it, so clear ground's darkest pixels
#: are higher there, and bright clear ground (the winter style's, snow not flagged) read
#: as haze at 70. Simulated 1.5, 3 and 5 m scenes against the simulator's own masks
#: (2026-12-06, session 40; docs/detection.md, "Haze at coarse resolution"; seeds 100-111):
#: clear scenes judged unusable 6, 12 and 13 of 60 at 70, none at 90; no scene the masks
#: call hazy accepted at either; 12 of 507 the masks call unusable newly accepted, 9 of
#: them with light snow the snow rule missed (at 70 rejected as haze by chance; found
#: since session 41, :data:`_BRIGHT_MIN_COARSE`).
_HAZE_DARK_MIN_COARSE = 90
_HAZE_STD_MAX = 22.0  # local contrast in hazy regions
_HAZE_MIN_M2 = 5000.0
# Cloud shadow (session 42, 2026-12-06; docs/detection.md, "Cloud shadow"): a cloud's
# shadow darkens everything under it (ground, rails, cars) by a common factor over a
# large, smooth, soft-edged region, so the ground's texture darkens with it; darker
# ground (water, asphalt, forest, a roof) keeps its own texture, and its edges (and a
# building's cast shadow's) are sharp. Judged on cells of about :data:`_SHADOW_CELL_M`
# (block means of the grey level and its spread within the block), smoothed over
# :data:`_SHADOW_SIGMA_M`, against the scene's own ground (the
# :data:`_SHADOW_REF_PERCENTILE` th percentile of the cells not bright, in log units).
# Tuned on simulated seeds 8000000-8000059 (0.3-1 m) and 8000000-8000005 (1.5, 3, 5 m);
# none of the 263 tuning scenes without cloud had any shadow found.
_SHADOW_CELL_M = 8.0
_SHADOW_SIGMA_M = 12.0
_SHADOW_REF_PERCENTILE = 75.0
#: log darkening below the reference of a shadow's core cells (a factor of 0.67)
_SHADOW_CORE = -0.4
#: the core's median darkening must reach this (a factor of 0.55: a thick cloud's
#: shadow, direct sunlight cut, takes about half the light or more; thin ones are
#: missed; a darker forest stand in a real image was -0.58)
_SHADOW_DARK = -0.6
#: smallest core (m²): twice the smallest opaque cloud (a shadow is as large as its cloud)
_SHADOW_MIN_M2 = 5000.0
#: the texture (log spread within a cell) must darken too: by at least this share of
#: the brightness' darkening (a real forest stand darker than the fields round it: 0.5;
#: simulated cloud shadows 0.55-1.1), and at most :data:`_SHADOW_TEX_MORE` more than it
#: (smoother than that is water or a smooth roof)
_SHADOW_TEX_SHARE = 0.6
_SHADOW_TEX_MORE = 0.12
#: the edge's sharpness (:func:`_edge_sharpness`): the largest rise of the edge's
#: profile over :data:`_SHADOW_RISE_M`, over its whole rise within
#: :data:`_SHADOW_PROFILE_M` of it, on cells of about :data:`_SHADOW_FINE_M`. On the
#: tuning scenes simulated cloud shadows 0.09-0.33; dark ground otherwise taken for
#: shadow (water, a building's cast shadow at a low sun, a dark roof) 0.44-0.88
_SHADOW_SHARP = 0.4
_SHADOW_RISE_M = 4.0
_SHADOW_PROFILE_M = 30.0
_SHADOW_FINE_M = 2.0
#: most finer cells (a larger window has larger ones)
_SHADOW_FINE_CELLS = 4_000_000
#: the core's cells must differ from their neighbours (in log grey level: a common
#: darkening keeps it) by at least this share of what the ground's cells do: a uniform
#: patch (asphalt, water, a roof) is smoother (simulated shadows 0.88 and more, the
#: tests' asphalt patch 0.5)
_SHADOW_KEEP = 0.75
#: a cell with this share of bright (:data:`_BRIGHT_MIN`) pixels is cloud-like: neither
#: shadow nor reference, and the edge's step is not measured within
#: :data:`_SHADOW_CLOUD_GAP` cells of one (a cloud's rim beside its shadow)
_SHADOW_BRIGHT_SHARE = 0.3
_SHADOW_CLOUD_GAP = 3
#: the region is the core grown over the cells darkened by at least this share of its
#: median darkening
_SHADOW_GROW = 0.5
#: Fewest grey levels between the 1st and 99th percentile of the site's luminance for
#: the image to show anything: a night or failed exposure, or a blank image, has fewer
#: and would read as an empty yard (an 8-bit daylight image spans well over 50: the
#: simulator's 112-146, two real images 189 and 196). 16 until review r3 (session 39):
#: a dusk image of 17-31 levels was judged clear and the detector, whose contrast
#: normalisation has a floor of 4 grey levels, read 43-66 % of the daylight image's
#: cars in it (tests/test_quality_dim_s39.py). Where cars are counted one by one
#: (finer than 1.5 m); coarser, :data:`COARSE_MIN_CONTRAST_LEVELS`.
MIN_CONTRAST_LEVELS = 32
#: :data:`MIN_CONTRAST_LEVELS` from 1.5 m on (occupied track length, presence): the
#: simulator's clear 10 m scenes of a yard span 46-61 levels at the least, real ones over
#: a small site may span fewer, and how the coarse estimate reads a dim image was not
#: measured, so it keeps the threshold it had (session 39).
COARSE_MIN_CONTRAST_LEVELS = 16
#: Least share of its range (:class:`railwatch.imagery.read.Exposure`: 12 bits, or the
#: fewer its file declares) that the 99th percentile of a linear 16-bit scene's brightest
#: band reaches, measured before the stretch to 8 bits. Below it the scene is unusable
#: as under-exposed: the stretch shows it at full contrast, its noise amplified, and
#: neither :data:`MIN_CONTRAST_LEVELS` nor the estimate sees the darkness. Review r3
#: (2026-12-06, session 39): a linear 12-bit yard at 3 % exposure (its brightest band's
#: 99th percentile 89 of 4095, 2.2 %) was judged clear and counted 14 of the 45
#: railcars of its daylight image. Six simulated linear 12-bit yards at 3-100 %
#: exposure with read noise 2, 4 and 8 DN (144 images; the detector's count over the
#: daylight image's): 7 fall below 2.5 % (all at 3-4 % exposure), their median 0.13, 5
#: of them under half, one at 1.00; 3 % would flag 26 (median 0.27, 6 of them at 0.8 or
#: more), 4 % 56 (21). The images kept still include failures (25 under half, 19 of
#: them with 8 DN of noise): the rule flags only the clearly under-exposed. At normal
#: exposure the yards use 25-85 % (docs/detection.md, "Under-exposed 16-bit images").
MIN_EXPOSURE_FRACTION = 0.025
#: Share of the site (or of where cars stand, ``assess_quality(places=)``) that a
#: quality mask calls clear and the pixels' estimate calls opaque cloud from which the
#: scene's reasons say so (the mask still decides). Review r3 (2026-12-06, session 39):
#: a mask of 0 over an opaque cloud over the cars was believed, a clear count of 3 of 45
#: railcars. On 180 simulated scenes (seeds 0-59 at 0.3, 0.5 and 1 m, 400 x 400 px,
#: 75 with cloud) the estimate's cloud over the simulator's own clear mask pixels was
#: under 1 % of the site in 161, at most 13.8 % (a hazy arid 0.3 m scene), and at most
#: 8.1 % of the tracks; checked on 2 x 2 to 8 x 8 block means
#: (:data:`MASK_CHECK_IMAGE_PIXELS`), at most 8.1 % of the site and 10.2 % of the tracks;
#: docs/detection.md, "What a scene's quality reasons say".
MASK_DISPUTE_SHARE = 0.2
#: Most pixels of the image the quality mask is checked on (:data:`MASK_DISPUTE_SHARE`):
#: a larger window is checked on the means of its ``f`` x ``f`` blocks of pixels, ``f``
#: the least integer that brings them under this (:class:`_Coarse`; 4 at 16 Mpx, 12 at
#: 144 Mpx; opaque cloud is at least ~0.25 ha, 50 m across), the estimate run at ``f``
#: times the gsd and its cloud looked up again pixel by pixel. Every window is checked.
#: Until this (2026-12-06, session 39) the estimate ran on the whole window, up to 16 Mpx
#: and none over: a 16 Mpx masked window's quality step took 1.7-4.5 s (0.5-0.7 s without
#: a check), on block means 0.6-1.4 s; 144 Mpx 4.0-4.5 s (3.5-4.7 s unchecked; 2-core VM,
#: shared; docs/detection.md, "The check's cost"). A window of 1 Mpx or less (the 400 px
#: scenes measured, review r3's images) is checked pixel by pixel, as before.
MASK_CHECK_IMAGE_PIXELS = 1_000_000


@dataclass(frozen=True)
class Quality:
    """Quality of one scene over one site. Fractions are of the pixels inside the
    site; ``clear_fraction`` counts no data as not clear. ``reasons`` are human
    sentences: why the scene is unusable, and notes (partial coverage, coarse
    resolution) that hold even when it is usable; ``usable`` is what decides."""

    clear_fraction: float
    coverage: float
    cloud_fraction: float
    haze_fraction: float
    snow_fraction: float
    nodata_fraction: float
    gsd: float
    usable: bool
    reasons: tuple[str, ...]
    source: str
    #: The clear share of the places cars can stand (``assess_quality(places=)``: a
    #: corridor along the site's tracks, or where its earlier images saw cars); None: not
    #: measured (none given, or none of them inside the site).
    places_clear: float | None = None
    #: What those places are (:attr:`railwatch.imagery.places.Places.what`), when measured.
    places: str | None = None
    #: The reasons, among ``reasons``, that are the image's own and make it unusable
    #: whatever cloud it has: it shows almost nothing (blank, too dark), it is
    #: under-exposed, its detail is that of coarser pixels (upsampled). ``railwatch
    #: detect`` says them of a whole image (2026-12-07, session 45).
    image_problems: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Conditions:
    """Per-pixel boolean maps estimated from the pixels (see the module docstring)."""

    cloud: np.ndarray
    haze: np.ndarray
    snow: np.ndarray
    #: the shadow of a cloud (not cloud, not snow; session 42): a quality mask counts it
    #: with cloud, and so does :func:`assess_quality`'s estimate
    shadow: np.ndarray


def assess_quality(
    raster: SiteRaster | SiteWindow,
    *,
    threshold: float = 0.8,
    max_gsd: float = MAX_COUNT_GSD,
    places: Places | None = None,
    where: str | None = "the site",
    detail: bool = True,
) -> Quality:
    """Clear, cloud, haze, snow and no-data fractions of the site, coverage, and
    whether the scene is usable: clear fraction >= ``threshold`` and ground sample
    distance <= ``max_gsd`` metres. A :class:`SiteWindow` (its image read from the
    file strip by strip) gives what its :class:`SiteRaster` gives (session 36).

    With ``places`` (where cars can stand: :mod:`railwatch.imagery.places`) the clear
    share of those inside the site is measured too, in the same strips with the same
    clear map: below ``threshold`` the scene is unusable (a cloud over the yard alone
    leaves most of the site clear), and a usable scene whose places are not all clear
    says how much of them is hidden (session 39: :func:`_judge_places`). ``where`` names
    the area judged in :attr:`Quality.image_problems` (None: a whole file, "the image
    shows almost nothing: ..."). ``detail`` False: the effective resolution is not
    measured (:func:`whole_image_quality` measures it on a file's own pixels where it
    judges a coarser grid)."""
    inside = raster.inside
    gsd = float(raster.grid.gsd)
    # the file's own pixel values where the grid is resampled from them: a clear 3 m
    # scene half a pixel off the site grid, or rotated, read bilinear (its darkest
    # pixels raised, its contrast and colours smoothed) was 22 % haze (session 40)
    image = pixels_of(raster)
    # valid and inside the site, by rows: no whole-window map of it (session 37)
    valid = _RowsAnd(raster.valid, inside)
    h, w = valid.shape
    # pixel counts, strip by strip (no whole-window map but the estimate's, 1 bit a pixel)
    counts = dict.fromkeys(
        ("n", "valid", "nodata", "cloud", "haze", "snow", "clear", "shadow", "disputed"), 0
    )
    # the same counts over the places cars can stand (looked up in the same strips)
    on = dict.fromkeys(counts, 0)
    strip = [0, 0]  # rows a:b of the strip being counted

    def add(**found: np.ndarray) -> None:
        for key, a in found.items():
            counts[key] += int(a.sum())
        if places is not None:
            r, c = places.between(*strip)
            for key, a in found.items():
                on[key] += int(np.count_nonzero(a[r, c]))

    if raster.mask is not None:
        # the pixels' estimate too, in the pass that takes the contrast's sample: where
        # the mask calls clear what looks like opaque cloud, the reasons say so (a mask
        # of 0 over a cloud over the cars was believed; review r3, session 39)
        sample = _Sample(valid, _blocks(raster, gsd) if detail else None)
        f = _check_factor(h, w)
        coarse: _Coarse | None = None
        if f == 1:
            looks = _estimate(image, valid, gsd, sample).cloud
        else:
            # a larger window on its block means, taken in the sample's pass (session 39:
            # the whole window's estimate made the masked quality step 3-4 times longer)
            coarse = _Coarse(h, w, f)
            if sample.step:
                for a, b, _, _ in _strips(h, w, 0):
                    rows, ok_rows = image[a:b], valid[a:b]
                    sample.add(rows, ok_rows)
                    coarse.add(rows, ok_rows)
            looks = _estimate(coarse.image, _RowsAnd(coarse.valid), gsd * f, None).cloud
            del coarse.image
        levels = sample.levels()
        for a, b, _, _ in _strips(h, w, 0):
            strip[:] = a, b
            m, ins, ok_px = raster.mask[a:b], _bool(inside[a:b]), valid[a:b]
            # no data: none read, or marked so (MASK_NODATA) or by no code of the contract
            nodata = ins & (~_bool(raster.valid[a:b]) | (m == MASK_NODATA) | (m > MASK_LAST_CODE))
            ok = ok_px & ~nodata
            add(
                n=ins,
                valid=ok_px,
                nodata=nodata,
                cloud=ok & ((m == 1) | (m == 4)),
                haze=ok & (m == 2),
                snow=ok & (m == 3),
                clear=ok & (m == 0),
                shadow=ok & (m == 4),
                disputed=ok & (m == 0) & (looks[a:b] if coarse is None else coarse.up(looks, a, b)),
            )
        del looks, coarse
        source = "mask"
    else:
        # the contrast's sample is taken in the estimate's one pass over the image
        sample = _Sample(valid, _blocks(raster, gsd) if detail else None)
        cond = _estimate(image, valid, gsd, sample, shadow=True)
        levels = sample.levels()
        for a, b, _, _ in _strips(h, w, 0):
            strip[:] = a, b
            ins, ok = _bool(inside[a:b]), valid[a:b]
            cloud = cond.cloud[a:b] & ok
            snow = cond.snow[a:b] & ok & ~cloud
            # cloud shadow counts with cloud, as a quality mask's does (session 42)
            shade = cond.shadow[a:b] & ok & ~cloud & ~snow
            cloud |= shade
            haze = cond.haze[a:b] & ok & ~cloud & ~snow
            add(
                n=ins,
                valid=ok,
                nodata=ins & ~_bool(raster.valid[a:b]),
                cloud=cloud,
                haze=haze,
                snow=snow,
                clear=ok & ~cloud & ~snow & ~haze,
                shadow=shade,
            )
        del cond
        source = "estimated"
    n = counts["n"]
    shadow = counts["shadow"]

    def frac(key: str) -> float:
        return float(counts[key]) / n if n else 0.0

    coverage = frac("valid")
    q_cloud, q_haze, q_snow = frac("cloud"), frac("haze"), frac("snow")
    q_nodata = frac("nodata") if n else 1.0
    q_clear = frac("clear")
    min_levels = MIN_CONTRAST_LEVELS if gsd < _OBJECT_GSD else COARSE_MIN_CONTRAST_LEVELS
    blank = levels is not None and levels < min_levels
    dark = _under_exposed(raster)
    # detail clearly coarser than the pixels where cars are counted one by one: an
    # upsampled product (review r3, session 39: :mod:`railwatch.imagery.effective`)
    resampled = coarse_content_reason(sample.blocks.result()) if sample.blocks else None
    usable = n > 0 and q_clear >= threshold and gsd <= max_gsd and not blank and dark is None
    usable = usable and resampled is None
    # no data the quality mask marks (255, or no code of the contract) where the image
    # has pixels: not the image's coverage (a 0/255 cloud mask over a covered image read
    # "only 100 % of the site is covered by the image"; review r3, session 39)
    mask_nodata = max(0.0, q_nodata - (1.0 - coverage)) if n else 0.0
    parts = [
        (1.0 - coverage, f"only {_pct(coverage)} of the site is covered by the image"),
        (
            mask_nodata,
            f"the quality mask marks {_pct(mask_nodata)} of the site as no data (255, or a "
            "value that is none of its codes 0-4)",
        ),
        (
            q_cloud,
            f"cloud{' and cloud shadow' if shadow else ''} cover{'' if shadow else 's'} "
            f"{_pct(q_cloud)} of the site",
        ),
        (q_haze, f"haze covers {_pct(q_haze)} of the site"),
        (q_snow, f"snow covers {_pct(q_snow)} of the site"),
    ]

    problems = [text for text in (resampled, dark) if text is not None]
    if blank:
        problems.append(_blank_reason(levels, min_levels, sample.median(), where))
    reasons: list[str] = []
    if n == 0:
        reasons.append("the site has no pixel on the grid")
    elif blank or dark is not None or resampled is not None or q_clear < threshold:
        reasons.extend(problems)
        if q_clear < threshold:  # also for a blank image (a sliver of coverage can be one)
            reasons.extend(text for share, text in sorted(parts, reverse=True) if share >= 0.01)
            reasons.append(f"only {_pct(q_clear)} of the site is clear (needs {_pct(threshold)})")
    elif q_clear < 0.995 and max(mask_nodata, q_cloud, q_haze, q_snow) >= 0.01:
        # a count of the clear part only: say which part (a cloud over the cars of 12 %
        # of the site read 3 of 45 railcars, its reasons empty; review r3, session 39)
        if coverage < 0.995:
            reasons.append(f"the image covers {_pct(coverage)} of the site")
        reasons.extend(text for share, text in sorted(parts[1:], reverse=True) if share >= 0.01)
        reasons.append(f"only the {_pct(q_clear)} of the site{_COUNTED_PART}")
    elif coverage < 0.995:
        reasons.append(f"the image covers {_pct(coverage)} of the site")
    if frac("disputed") >= MASK_DISPUTE_SHARE:
        reasons.append(_disputed(frac("disputed"), "the site"))
    if gsd > max_gsd:  # the first reason: nothing else would make it usable
        reasons.insert(0, f"resolution {gsd:.1f} m is too coarse to count railcars")
    elif gsd >= _PRESENCE_GSD:
        reasons.append(f"resolution {gsd:.1f} m: only the presence of long trains can be reported")
    elif gsd >= _OBJECT_GSD:
        reasons.append(
            f"resolution {gsd:.1f} m: cars are not separable, counts come from "
            "occupied track length"
        )
    quality = Quality(
        clear_fraction=q_clear,
        coverage=coverage,
        cloud_fraction=q_cloud,
        haze_fraction=q_haze,
        snow_fraction=q_snow,
        nodata_fraction=q_nodata,
        gsd=gsd,
        usable=bool(usable),
        reasons=tuple(reasons),
        source=source,
        image_problems=tuple(problems) if n else (),
    )
    if places is None or not on["n"]:
        return quality
    return _judge_places(quality, on, places, threshold)


#: How the warning of a quality mask that calls clear what looks like cloud begins.
_DISPUTED = "the quality mask calls clear "


#: Most pixels :func:`whole_image_quality` judges at the file's own resolution; a larger file is
#: judged on a grid 2, 3, ... times coarser, read from its overviews where it has them (a
#: 4096 px square scene at 0.5 m: on 820 px at 2.5 m, in 0.3-0.45 s where its detection
#: takes 0.8 s; with a 2 Mpx cap, 1.5 m, 1.1 s).
FILE_JUDGE_PIXELS = 1_000_000


@dataclass(frozen=True)
class FileQuality:
    """What :func:`whole_image_quality` found over a whole image: shares of its pixels **with
    data** (a strip's no-data margins are not held against it)."""

    #: clear ground (not cloud, cloud shadow, haze or snow)
    clear: float
    #: cloud and cloud shadow
    cloud: float
    haze: float
    snow: float
    #: the quality mask that said so (the one ``ingest`` takes for the file); None:
    #: estimated from the pixels
    mask: str | None
    #: the ground sample distance judged at (coarser than the file's for a file of
    #: more than :data:`FILE_JUDGE_PIXELS` pixels)
    gsd: float
    #: the share of the file's pixels that hold data (not its declared no data, nor black
    #: fill: :func:`railwatch.imagery.read.undeclared_fill`); since 2026-12-07 (session 45)
    data: float = 1.0
    #: why ``railwatch process`` would store the image as unusable whatever its cloud
    #: (:attr:`Quality.image_problems`: blank or too dark, under-exposed, upsampled);
    #: since 2026-12-07 (session 45: a 0.5 m yard at 4 % of its brightness read "0
    #: railcars", an empty yard, without a word)
    problems: tuple[str, ...] = ()


def whole_image_quality(
    uri: str | Path,
    *,
    gsd: float,
    mask_uri: str | Path | None = None,
    bands: Sequence[int] | None = None,
    radiometry: Radiometry = "linear",
    max_pixels: int = FILE_JUDGE_PIXELS,
) -> FileQuality | None:
    """Cloud, haze and snow over a whole georeferenced, north-up image (its own pixel
    grid; ``gsd`` its ground sample distance in metres), by the quality mask
    ``mask_uri`` where there is one, else estimated from its pixels, with the rules
    :func:`assess_quality` applies over a site in ``railwatch process``. ``railwatch
    detect`` says with it that a count at 0.3-1.5 m came from an image mostly under
    cloud (until 2026-12-07, session 44, it said nothing: a 95 % cloudy 0.5 m scene of
    40 railcars read "13 (10-25)"). A file of more than ``max_pixels`` pixels is judged on
    a grid an integer factor coarser (read bilinear from its nearest overview no coarser),
    so time and memory stay small beside the detection's. It also gives the share of the
    file with data and what makes the image unusable whatever its cloud (blank, too dark,
    under-exposed, upsampled; since 2026-12-07, session 45), its detail (upsampled or not)
    measured on the file's own pixels, in a window of at most ``max_pixels`` at its
    centre, where the rest is judged on a coarser grid (:func:`_native_detail`). None
    where the file has no CRS or its grid is rotated, and where no pixel has data."""
    import rasterio

    from railwatch.imagery.inspect import crs_text

    with rasterio.open(uri) as src:
        t, w, h = src.transform, src.width, src.height
        if src.crs is None or t.b != 0.0 or t.d != 0.0:
            return None
        crs = crs_text(src.crs)
    f = max(1, math.ceil(math.sqrt(w * h / max_pixels)))
    grid = SiteGrid(
        crs=crs,
        transform=t @ Affine.scale(f),
        width=math.ceil(w / f),
        height=math.ceil(h / f),
        gsd=gsd * f,
    )
    with read_site_window(
        uri,
        grid,
        mask_uri=mask_uri,
        bands=bands,
        radiometry=radiometry,
        lazy=True,
        overviews=True,
    ) as window:
        q = assess_quality(window, threshold=0.0, max_gsd=math.inf, where=None, detail=f == 1)
    if q.coverage <= 0.0:
        return None
    problems = q.image_problems
    if f > 1:
        # the detail on the file's own pixels: on the coarser grid an image upsampled from
        # 2 m to 0.5 m read as sharp 1-1.5 m pixels, and one that was flagged was said to
        # be of the grid's gsd ("although the file says 0.6 m" of a 0.3 m file; review,
        # session 45)
        native = _native_detail(uri, crs, t, (w, h), gsd, max_pixels, bands, radiometry)
        problems = problems if native is None else (native, *problems)

    def share(x: float) -> float:
        return min(1.0, x / q.coverage)

    return FileQuality(
        clear=share(q.clear_fraction),
        cloud=share(q.cloud_fraction),
        haze=share(q.haze_fraction),
        snow=share(q.snow_fraction),
        mask=None if mask_uri is None else str(mask_uri),
        gsd=grid.gsd,
        data=q.coverage,
        problems=problems,
    )


def _native_detail(
    uri: str | Path,
    crs: str,
    transform: Affine,
    size: tuple[int, int],
    gsd: float,
    max_pixels: int,
    bands: Sequence[int] | None,
    radiometry: Radiometry,
) -> str | None:
    """Why a file of ``size`` (width, height) pixels of ``gsd`` counted car by car looks
    upsampled (``effective.coarse_content_reason``), measured on its own pixels in a
    window of at most ``max_pixels`` (and at least one :data:`~railwatch.imagery.effective.BLOCK`
    square) at its centre; None where it does not, or where that cannot be told."""
    if gsd >= _OBJECT_GSD:
        return None
    w, h = size
    side = max(BLOCK, math.isqrt(max(max_pixels, 1)))
    cw, ch = min(w, side), min(h, side)
    c0, r0 = (w - cw) // 2, (h - ch) // 2
    grid = SiteGrid(
        crs=crs, transform=transform @ Affine.translation(c0, r0), width=cw, height=ch, gsd=gsd
    )
    with read_site_window(uri, grid, bands=bands, radiometry=radiometry, lazy=True) as window:
        return coarse_content_reason(estimate(pixels_of(window), window.valid, window.inside, gsd))


def _disputed(share: float, where: str) -> str:
    """The warning that the mask calls clear ``share`` of ``where`` that the pixels'
    estimate calls opaque cloud (:data:`MASK_DISPUTE_SHARE`)."""
    return (
        f"{_DISPUTED}{_pct(share)} of {where}, where the image looks like opaque cloud "
        "(bright, grey, nothing dark inside): the mask was followed; if it is wrong, cars "
        "under that cloud are missed. Check the mask against the image"
    )


#: How the note of a usable scene's count of the clear part of its site ends.
_COUNTED_PART = " that is clear can be counted"


def _judge_places(
    quality: Quality, on: dict[str, int], places: Places, threshold: float
) -> Quality:
    """``quality`` judged by the clear share of the places cars can stand (``on``: the
    pixel counts of :func:`assess_quality` over those inside the site): unusable below
    ``threshold``, its first reason how much of them is hidden and by what; a usable
    scene whose places are not all clear says so (a note), as does an unusable one."""
    from dataclasses import replace

    n = on["n"]
    share = on["clear"] / n
    hidden = 1.0 - share
    quality = replace(quality, places_clear=share, places=places.what)
    disputed = on["disputed"] / n
    if disputed >= MASK_DISPUTE_SHARE and not any(r.startswith(_DISPUTED) for r in quality.reasons):
        quality = replace(quality, reasons=(*quality.reasons, _disputed(disputed, places.words)))
    if hidden < 0.005:
        return quality
    by = [
        (on["nodata"], "no data"),
        (on["cloud"], "cloud"),
        (on["haze"], "haze"),
        (on["snow"], "snow"),
    ]
    names = [name for count, name in sorted(by, reverse=True) if count / n >= 0.005]
    what = " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
    verb = "hides" if len(names) < 2 else "hide"
    said = f"{what or 'cloud, haze or no data'} {verb} {_pct(hidden)} of {places.words}"
    if quality.usable and share < threshold:
        return replace(
            quality,
            usable=False,
            reasons=(
                f"{said}: only {_pct(share)} of them are clear (needs {_pct(threshold)}), "
                f"though {_pct(quality.clear_fraction)} of the site is; a count would "
                "miss the cars under it",
                # what hides the site, not that its clear part can be counted: it cannot
                *(r for r in quality.reasons if not r.endswith(_COUNTED_PART)),
            ),
        )
    if quality.usable:
        return replace(quality, reasons=(*quality.reasons, f"{said}: the count is of the rest"))
    return replace(quality, reasons=(*quality.reasons, said))


def contrast_levels(image: ImageRows, valid: RowMap) -> int | None:
    """Grey levels between the 1st and 99th percentile of the luminance of ``valid``
    pixels of an (H, W, 3) uint8 image; None without valid pixels."""
    valid = _RowsAnd(valid)
    return _sampled(image, valid, _Sample(valid)).levels()


def _sampled(image: ImageRows, valid: _RowsAnd, sample: _Sample) -> _Sample:
    """``sample`` given the pixels of ``image`` it takes (one pass, strip by strip)."""
    h, w = valid.shape
    if sample.step:
        for a, b, _, _ in _strips(h, w, 0):
            sample.add(image[a:b], valid[a:b])
    return sample


def _under_exposed(raster: SiteRaster | SiteWindow) -> str | None:
    """Why ``raster`` is under-exposed (:data:`MIN_EXPOSURE_FRACTION`), or None: it is
    not, or its exposure was not measured (not linear 16-bit data)."""
    exposure = getattr(raster, "exposure", None)
    if exposure is None or exposure.fraction >= MIN_EXPOSURE_FRACTION:
        return None
    if exposure.p99 < 0:
        # signed data mostly below zero: no brightness a camera records (it was called
        # "under-exposed: ... is -117 of the 4095 ... (-2.9 %)", 2026-12-07, session 46)
        return (
            f"the image's values are negative: its brightest band's 99th percentile is "
            f"{exposure.p99:.0f} (signed 16-bit data), where a camera's brightness runs "
            f"from 0 up to {exposure.full_scale} ({exposure.bits} bits): an offset was "
            "subtracted, or the bands hold something other than brightness (a "
            "difference, an index, heights), and their exposure cannot be judged. Use "
            "the provider's brightness product (unsigned values); if these are "
            "brightness with an offset, declare it in the file (gdal_edit.py -offset N) "
            "before ingesting it"
        )
    return (
        f"the image is under-exposed: its brightest band's 99th percentile is "
        f"{exposure.p99:.0f} of the {exposure.full_scale} its {exposure.bits}-bit range "
        f"holds ({100 * exposure.fraction:.1f} %; a daylight image reaches over "
        f"{100 * MIN_EXPOSURE_FRACTION:.1f} %): a night or failed exposure, whose noise "
        "the stretch to 8 bits shows as detail (the detector finds a fraction of the "
        "cars at such exposures); use a daylight image of the site"
    )


def _blocks(raster: SiteRaster | SiteWindow, gsd: float) -> Blocks | None:
    """The effective resolution's blocks where cars are counted one by one."""
    return Blocks(raster.valid, raster.inside, gsd) if gsd < _OBJECT_GSD else None


def _blank_reason(
    levels: int | None, min_levels: int, brightness: float | None, where: str | None = "the site"
) -> str:
    """Why an image whose site pixels span fewer than ``min_levels`` grey levels
    (:data:`MIN_CONTRAST_LEVELS`) is unusable; one whose median luminance is bright
    (:data:`_BRIGHT_MIN`, the estimate's cloud and snow) is not called too dark (fresh
    snow over everything was, before review r3, session 39)."""
    if brightness is not None and brightness >= _BRIGHT_MIN:
        what = "uniformly bright: snow or cloud over the whole site, or an overexposed image"
    else:
        what = "too dark, or blank"
    return (
        f"the image shows almost nothing{f' over {where}' if where else ''}: its pixels "
        f"span {levels} grey "
        f"levels (a daylight image spans well over {min_levels}); {what}"
    )


#: Most pixels :func:`contrast_levels` takes its percentiles of.
_CONTRAST_SAMPLE = 1_000_000


class _Sample:
    """The pixels :func:`contrast_levels` takes: those of ``image[valid][::step]``, the
    step set by the number of valid pixels, taken strip by strip in the order of the
    rows (a copy of every valid pixel took 3 bytes a pixel of the window)."""

    def __init__(self, valid: _RowsAnd, blocks: Blocks | None = None) -> None:
        h, w = valid.shape
        #: The effective resolution's blocks, fed the same rows (session 39).
        self.blocks = blocks
        total = sum(int(np.count_nonzero(valid[a:b])) for a, b, _, _ in _strips(h, w, 0))
        #: 0: no valid pixel
        self.step = (
            (total // _CONTRAST_SAMPLE + 1 if total > _CONTRAST_SAMPLE else 1) if total else 0
        )
        self._seen = 0
        self._picked: list[np.ndarray] = []

    def add(self, rows: np.ndarray, ok: np.ndarray) -> None:
        """The next rows of the image, ``ok`` their valid pixels."""
        if self.blocks is not None:
            self.blocks.add(rows)
        m = int(np.count_nonzero(ok))
        first = -self._seen % self.step
        if first < m:
            # a copy: a view would hold every valid pixel of the strip (until session
            # 37 they were held so, 3 bytes a valid pixel of the window)
            self._picked.append(rows[ok][first :: self.step].copy())
        self._seen += m

    def _luminance(self) -> np.ndarray | None:
        if not self._picked:
            return None
        return np.concatenate(self._picked).astype(np.float32).mean(axis=1)

    def levels(self) -> int | None:
        lum = self._luminance()
        if lum is None:
            return None
        lo, hi = np.percentile(lum, [1.0, 99.0])
        return round(float(hi - lo))

    def median(self) -> float | None:
        """Median luminance of the pixels taken; None without any."""
        lum = self._luminance()
        return None if lum is None else float(np.median(lum))


#: Quality-mask codes whose ground can be read (clear, snow: cars on snow show).
READABLE_CODES = (0, 3)


def readable_pixels(
    image: ImageRows, valid: np.ndarray, mask: np.ndarray | None, gsd: float
) -> np.ndarray:
    """Pixels whose ground can be read: ``valid`` and, with a quality ``mask``, marked
    clear or snow (:data:`READABLE_CODES`); without one, not estimated to be cloud,
    cloud shadow or haze (:func:`estimate_conditions`). What the occupied-length
    estimate samples: a cloud's bright edge, its shadow or a hazy patch along a track
    otherwise reads as cars. (Estimated shadow was read as clear ground from session 42's
    shadow rule until the review of that day, unlike a mask's shadow, code 4.)"""
    ok = np.asarray(valid, dtype=bool)
    if mask is not None:
        return ok & np.isin(mask, READABLE_CODES)
    cond = estimate_conditions(image, ok, gsd)
    return ok & ~cond.cloud & ~cond.haze & ~cond.shadow


#: Pixels per strip (about) in which :func:`estimate_conditions` and
#: :func:`assess_quality` compute their per-pixel rules: a strip's temporaries take some
#: 30 bytes a pixel (2026-12-06, session 35: the whole window's maps took about 28 bytes
#: a pixel, 454 MB at 16 Mpx). Every per-pixel rule is local (a filter of bounded size),
#: so each strip is read with the rows around it that its filters reach and gives what
#: the whole window gives. Session 37: the image is read once, in one pass that keeps
#: what the later steps need of it as whole-window maps of one bit a pixel; the regions
#: (connected components) are found strip by strip and joined across the strips'
#: borders (:func:`_find_regions`), so no whole-window map of a byte or more a pixel is
#: made.
BLOCK_PIXELS = 4_000_000


def _strips(height: int, width: int, halo: int) -> Iterator[tuple[int, int, int, int]]:
    """Rows ``(a, b, lo, hi)`` of the strips of a ``height`` x ``width`` window: each
    strip's own rows ``a:b`` and the rows ``lo:hi`` read for it (``halo`` more on either
    side, within the window)."""
    rows = max(1, BLOCK_PIXELS // max(width, 1))
    for a in range(0, height, rows):
        b = min(height, a + rows)
        yield a, b, max(0, a - halo), min(height, b + halo)


def _check_factor(height: int, width: int) -> int:
    """The least integer ``f`` whose ``f`` x ``f`` blocks of a ``height`` x ``width``
    window number at most :data:`MASK_CHECK_IMAGE_PIXELS` (1: the window itself)."""
    f = max(1, math.ceil(math.sqrt(height * width / MASK_CHECK_IMAGE_PIXELS)))
    while math.ceil(height / f) * math.ceil(width / f) > MASK_CHECK_IMAGE_PIXELS:
        f += 1
    return f


class _Coarse:
    """A ``height`` x ``width`` window's image as the means of the valid pixels of its
    ``f`` x ``f`` blocks (those at the right and bottom edges may be smaller), fed its
    rows in order (:meth:`add`); a block is valid where at least half its pixels are.
    What the quality mask's check runs the estimate on (:data:`MASK_CHECK_IMAGE_PIXELS`)."""

    def __init__(self, height: int, width: int, f: int) -> None:
        self.f, self.shape = f, (height, width)
        rows, cols = -(-height // f), -(-width // f)
        self.image = np.zeros((rows, cols, 3), np.uint8)
        self.valid = np.zeros((rows, cols), bool)
        self._taken = 0  # window rows taken
        self._rest: tuple[np.ndarray, np.ndarray] | None = None  # rows short of a block

    def add(self, rows: np.ndarray, ok: np.ndarray) -> None:
        """The next rows of the image, ``ok`` their valid pixels."""
        if self._rest is not None:
            rows = np.concatenate([self._rest[0], rows])
            ok = np.concatenate([self._rest[1], ok])
            self._rest = None
        f, (height, width) = self.f, self.shape
        first = self._taken
        n = rows.shape[0]
        end = n if first + n >= height else n - n % f
        if end < n:
            self._rest = (rows[end:], ok[end:])
        self._taken = first + end
        if end == 0:
            return
        blocks = -(-end // f)
        cols = self.image.shape[1]
        at = slice(first // f, first // f + blocks)
        full = width - width % f
        if end % f == 0 and full and bool(ok[:end].all()):
            # every pixel valid (the usual case): OpenCV's area means, 4 times faster
            # (the right edge's narrower blocks apart)
            self.valid[at] = True
            self.image[at, : full // f] = cv2.resize(
                rows[:end, :full], (full // f, blocks), interpolation=cv2.INTER_AREA
            )
            if full < width:
                edge = rows[:end, full:].reshape(blocks, f * (width - full), 3)
                self.image[at, -1] = np.round(edge.mean(axis=1))
            return
        pad = ((0, blocks * f - end), (0, cols * f - width))
        okp = np.pad(ok[:end], pad)
        px = np.pad(rows[:end] * ok[:end, :, None], (*pad, (0, 0)))
        total = px.reshape(blocks, f, cols * f, 3).sum(axis=1, dtype=np.uint32)
        total = total.reshape(blocks, cols, f, 3).sum(axis=2)
        count = okp.reshape(blocks, f, cols, f).sum(axis=(1, 3), dtype=np.uint32)
        # the pixels each block has (fewer at the right and bottom edges)
        size = (
            np.minimum(f, end - f * np.arange(blocks))[:, None]
            * np.minimum(f, width - f * np.arange(cols))[None, :]
        )
        self.valid[at] = 2 * count >= size
        c = np.maximum(count, 1)[..., None]
        self.image[at] = ((total + c // 2) // c).astype(np.uint8)

    def up(self, coarse: PackedMask, a: int, b: int) -> np.ndarray:
        """The window's rows ``a:b`` of a map of the blocks (each block's value on each of
        its pixels)."""
        f, width = self.f, self.shape[1]
        i0, i1 = a // f, -(-b // f)
        part = np.repeat(np.repeat(coarse[i0:i1], f, axis=0), f, axis=1)
        return part[a - i0 * f : b - i0 * f, :width]


def _bool(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=bool)


#: Pixels (about) of the rows packed or unpacked at once by :class:`PackedMask` (and so
#: by ``pipeline._detect_valid``): a byte a pixel of temporaries, never the whole map's.
PACK_PIXELS = 4_000_000


class PackedMask:
    """A ``(height, width)`` boolean map held at one bit a pixel (``np.packbits`` of
    each row): all false when made, or ``packed`` (:meth:`of`, :meth:`of_rows`). Read as
    a bool array is sliced: ``m[a:b]`` (rows) or ``m[a:b, c:d]`` (rows and columns;
    slices of step 1 only), each time a new bool array with the values of the same slice
    of the unpacked map; written by rows (``m[a:b] = rows``). The quality estimate's
    maps (cloud, haze, snow and the rest), and a large site window's ``valid`` and
    ``inside`` while ``pipeline._masks_packed`` holds them (session 39): the quality
    estimate and the window's own reads take them by rows, the detector tile by tile.
    One class since 2026-12-06 (session 41: ``quality.PackedMask`` and
    ``pipeline._PackedMask`` were two). ``np.asarray`` of it gives the whole map
    (correct, not cheap); other array methods are not there, so a reader that wants them
    fails with an AttributeError rather than an answer from a wrong array."""

    __slots__ = ("_packed", "shape")
    ndim = 2
    dtype = np.dtype(bool)

    def __init__(self, shape: tuple[int, int], packed: np.ndarray | None = None) -> None:
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        if packed is None:
            packed = np.zeros((self.shape[0], (self.shape[1] + 7) // 8), dtype=np.uint8)
        self._packed = packed

    @classmethod
    def of_rows(cls, shape: tuple[int, int], rows: Callable[[int, int], np.ndarray]) -> PackedMask:
        """The map whose rows ``a:b`` are ``rows(a, b)`` (bool, ``(b - a, width)``),
        asked for a band of rows at a time."""
        h, w = int(shape[0]), int(shape[1])
        packed = np.empty((h, (w + 7) // 8), dtype=np.uint8)
        step = max(1, PACK_PIXELS // max(w, 1))
        for a in range(0, h, step):
            b = min(h, a + step)
            band = np.asarray(rows(a, b), dtype=bool)
            if band.shape != (b - a, w):
                raise ValueError(f"rows {a}:{b} of a {h} x {w} map have shape {band.shape}")
            packed[a:b] = np.packbits(band, axis=1)
        return cls((h, w), packed)

    @classmethod
    def of(cls, mask: np.ndarray) -> PackedMask:
        """``mask`` (a 2-D bool array) packed."""
        if mask.ndim != 2:
            raise ValueError(f"a packed map is 2-D, got shape {mask.shape}")
        return cls.of_rows(mask.shape, lambda a, b: mask[a:b])

    @property
    def nbytes(self) -> int:
        return int(self._packed.nbytes)

    def __getitem__(self, key: slice | tuple[slice, slice]) -> np.ndarray:
        rows, cols = key if isinstance(key, tuple) else (key, slice(None))
        if not (isinstance(rows, slice) and isinstance(cols, slice)) or (
            rows.step not in (None, 1) or cols.step not in (None, 1)
        ):
            raise TypeError(f"a packed map is read by slices of step 1, not {key!r}")
        c0, c1, _ = cols.indices(self.shape[1])
        c1 = max(c0, c1)
        first = c0 // 8
        bits = np.unpackbits(
            self._packed[rows, first : (c1 + 7) // 8], axis=1, count=c1 - 8 * first
        )
        return bits[:, c0 - 8 * first :].view(bool)

    def __setitem__(self, rows: slice, value: np.ndarray) -> None:
        self._packed[rows] = np.packbits(np.asarray(value, dtype=bool), axis=1)

    def row_span(self) -> tuple[int, int]:
        """:func:`_row_span` of the map."""
        return _row_span(self._packed)

    def any(self) -> bool:
        return bool(self._packed.any())

    def whole(self) -> np.ndarray:
        """The map as a bool array of its own (C-contiguous, writeable)."""
        h, w = self.shape
        out = np.empty((h, w), dtype=bool)
        step = max(1, PACK_PIXELS // max(w, 1))
        for a in range(0, h, step):
            out[a : a + step] = self[a : a + step]
        return out

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = self.whole()
        return out if dtype is None else out.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"<packed bool map {self.shape[0]} x {self.shape[1]}, 1 bit a pixel>"


class _RowsAnd:
    """The pixels true in every one of ``maps`` (same shape), by rows: ``rows[a:b]``."""

    def __init__(self, *maps: RowMap) -> None:
        if len(maps) == 1 and isinstance(maps[0], _RowsAnd):
            maps = maps[0].maps
        self.maps: tuple[RowMap, ...] = maps
        h, w = maps[0].shape[:2]
        self.shape: tuple[int, int] = (int(h), int(w))

    def __getitem__(self, rows: slice) -> np.ndarray:
        out = np.array(self.maps[0][rows], dtype=bool)
        for m in self.maps[1:]:
            out &= _bool(m[rows])
        return out


#: A whole-window boolean map read by rows.
RowMap = np.ndarray | PackedMask | _RowsAnd


def _extremes(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    return np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)


def _grey(image: np.ndarray) -> np.ndarray:
    grey = image[..., 0].astype(np.float32)
    grey += image[..., 1]
    grey += image[..., 2]
    grey /= 3.0
    return grey


def estimate_conditions(image: ImageRows, valid: np.ndarray, gsd: float) -> Conditions:
    """Estimate opaque cloud, snow and haze maps from an (H, W, 3) uint8 RGB image
    at ``gsd`` metres per pixel. Heuristic; see the module docstring for its limits.

    Computed strip by strip (:data:`BLOCK_PIXELS`), with the same result as over the
    whole image at once."""
    found = _estimate(image, _RowsAnd(valid), gsd, None, shadow=True)
    return Conditions(
        cloud=found.cloud.whole(),
        haze=found.haze.whole(),
        snow=found.snow.whole(),
        shadow=found.shadow.whole(),
    )


@dataclass(frozen=True, eq=False)
class _Found:
    """:func:`estimate_conditions`' maps at one bit a pixel."""

    cloud: PackedMask
    haze: PackedMask
    snow: PackedMask
    #: cloud shadow (empty unless asked for: ``_estimate(shadow=True)``)
    shadow: PackedMask


@dataclass(frozen=True, eq=False)
class _Local:
    """What the estimate's later steps need of the image, found in its one pass over it
    (:func:`_local_maps`), each at one bit a pixel of the window."""

    #: bright, nearly grey pixels closed over small gaps: the candidate regions
    closed: PackedMask
    #: from 1.5 m on, the pixels of ``closed`` at :data:`_BRIGHT_MIN` (the candidates
    #: there start at :data:`_BRIGHT_MIN_COARSE`): what an opaque cloud is made of; None
    #: finer (``closed`` is that)
    core: PackedMask | None
    bright_any: bool
    #: a dark object (car, rail, tree, shadow) within ~10 m: snow shows them
    dark: PackedMask
    #: fairly bright, grey pixels: a cloud's rim may take them
    rim: PackedMask
    #: pixels whose darkest channel is low (haze raises it)
    low: PackedMask
    #: low local contrast and washed-out colours (haze), where the pixel may be hazy
    calm: PackedMask
    #: the cells the cloud-shadow rule judges (None: not asked for)
    cells: _Cells | None = None
    #: bright pixels (darkest channel :data:`_BRIGHT_MIN`, not closed) whose disc of
    #: :data:`_SNOW_WIDE_M` is :data:`_SNOW_WIDE_SHARE` bright: a snow or cloud region
    #: has one
    wide: PackedMask | None = None


def _estimate(
    image: ImageRows,
    valid: _RowsAnd,
    gsd: float,
    sample: _Sample | None,
    *,
    shadow: bool = False,
) -> _Found:
    """:func:`estimate_conditions` at one bit a pixel; with a ``sample``, the pixels
    :func:`contrast_levels` takes are taken in the same pass over the image. With
    ``shadow``, cloud shadow is sought too (:func:`_shadow_cells`; the quality mask's
    check, which looks for opaque cloud only, does not ask for it)."""
    h, w = valid.shape
    if (
        h == 0
        or w == 0
        or (sample is not None and not sample.step)
        or (sample is None and not any(valid[a:b].any() for a, b, _, _ in _strips(h, w, 0)))
    ):
        return _Found(*(PackedMask((h, w)) for _ in range(4)))
    px_area = gsd * gsd
    # from about 5.5 m on a shadow cell is one pixel, without texture: no shadow can be
    # found, and its whole-window sums are not made (review, session 42: 100 bytes a
    # pixel at 10 m)
    shadow = shadow and round(_SHADOW_CELL_M / gsd) >= 2
    local = _local_maps(image, valid, gsd, sample, _Cells(h, w, gsd) if shadow else None)
    # each map is let go once used (18 MB each at 144 Mpx)
    closed, dark, rim, low, calm = local.closed, local.dark, local.rim, local.low, local.calm
    bright_any, core, cells, wide = local.bright_any, local.core, local.cells, local.wide
    del local
    cloud, snow = PackedMask((h, w)), PackedMask((h, w))
    if bright_any:
        _bright_regions(valid, closed, dark, gsd, px_area, cloud, snow, core, wide)
        del closed, dark, core, wide
        cloud = _grow(rim, cloud, gsd)
        if gsd >= _OBJECT_GSD and snow.any():
            # light snow's soft edges, as a cloud's rim (session 41)
            snow = _grow(rim, snow, gsd)
        for a, b, _, _ in _strips(h, w, 0):
            part = snow[a:b]
            if part.any():
                snow[a:b] = part & ~cloud[a:b]
    else:
        del closed, dark
    del rim
    shade = PackedMask((h, w))
    if cells is not None:
        found = _shadow_cells(cells, gsd)
        del cells
        if found is not None:
            f, lut = found
            for a, b, _, _ in _strips(h, w, 0):
                part = np.repeat(lut[np.arange(a, b) // f], f, axis=1)[:, :w]
                if (part := part & valid[a:b] & ~cloud[a:b] & ~snow[a:b]).any():
                    shade[a:b] = part
    not_haze = cloud
    if shade.any():
        # haze is sought outside the shadow too
        not_haze = PackedMask((h, w))
        for a, b, _, _ in _strips(h, w, 0):
            not_haze[a:b] = cloud[a:b] | shade[a:b]
    haze = _haze(valid, low, calm, not_haze, snow, gsd, px_area)
    return _Found(cloud=cloud, haze=haze, snow=snow, shadow=shade)


def _halos(gsd: float) -> dict[str, int]:
    """Filter sizes (px) of the estimate's rules at ``gsd``."""
    near_k = _odd(_DARK_NEAR_M / gsd, 3)
    return {
        "close_k": _odd(6.0 / gsd, 1),
        "near_k": near_k,
        "outer_k": near_k + 2,
        "haze_k": _odd(_HAZE_WINDOW_M / gsd, 3),
    }


def _local_maps(
    image: ImageRows,
    valid: _RowsAnd,
    gsd: float,
    sample: _Sample | None,
    cells: _Cells | None = None,
) -> _Local:
    """The one pass over the image. Each rule is computed on the rows its strip read
    before session 37 (its own halo; the float filters' sums depend on where they
    start), so each map is bit for bit what it was. With ``cells``, the cloud-shadow
    rule's cells are summed in the same pass."""
    h, w = valid.shape
    k = _halos(gsd)
    close_k, near_k, outer_k, haze_k = k["close_k"], k["near_k"], k["outer_k"], k["haze_k"]
    close_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close_k, close_k))
    near = cv2.getStructuringElement(cv2.MORPH_RECT, (near_k, near_k))
    halo_close = 2 * (close_k // 2)
    halo_dark = max(outer_k // 2, near_k // 2)
    halo_haze = haze_k // 2
    # the bright pixels' closing is found over the haze window's rows too (see below)
    halo_bright = halo_haze + halo_close
    haze_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (haze_k, haze_k))
    dark_min = _haze_dark_min(gsd)
    closed, dark, rim, low, calm, wide = (PackedMask((h, w)) for _ in range(6))
    wide_kernel = cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (_odd(_SNOW_WIDE_M / gsd, 1),) * 2
    ).astype(np.float32)
    # bright pixels the disc needs (its sums are whole numbers: a float filter's error,
    # well under half, is rounded off, so each strip gives what the whole window gives)
    wide_need = math.ceil(_SNOW_WIDE_SHARE * float(wide_kernel.sum())) - 0.5
    coarse = gsd >= _OBJECT_GSD
    bright_min = _BRIGHT_MIN_COARSE if coarse else _BRIGHT_MIN
    core = PackedMask((h, w)) if coarse else None
    bright_any = False
    for a, b, lo, hi in _strips(h, w, max(halo_bright, halo_dark)):
        img = image[lo:hi]
        ok = valid[lo:hi]
        own = slice(a - lo, b - lo)
        if sample is not None:
            sample.add(img[own], ok[own])
        if not ok.any():
            continue
        mx, mn = _extremes(img)
        if cells is not None:
            cells.add(a, img[own], ok[own], mn[own])

        # bright, nearly grey pixels, closed over small gaps: the candidate regions (the
        # closing is exact on rows halo_close from the edges of those it is found on:
        # morphology is min and max)
        got, mine = _within(a, b, lo, h, halo_bright)
        bright = ok[got] & (mn[got] >= bright_min) & _greyish(mx[got], mn[got], _GREY_MAX_SAT)
        shut: np.ndarray | None = None
        if bright.any():
            bright_any |= bool(bright[mine].any())
            shut = bright.astype(np.uint8)
            if close_k > 1:
                shut = cv2.morphologyEx(shut, cv2.MORPH_CLOSE, close_kernel)
            if (found := (shut[mine] > 0) & ok[own]).any():
                closed[a:b] = found
                if core is not None and (found := found & (mn[own] >= _BRIGHT_MIN)).any():
                    core[a:b] = found
            whole = bright & (mn[got] >= _BRIGHT_MIN) if coarse else bright
            lit = cv2.filter2D(
                whole.view(np.uint8), cv2.CV_32F, wide_kernel, borderType=cv2.BORDER_REPLICATE
            )
            if (found := whole[mine] & (lit[mine] >= wide_need)).any():
                wide[a:b] = found
            del lit
            del whole
        del bright
        # "a dark object (car, rail, tree, shadow) within ~10 m": snow leaves them
        # visible, an opaque cloud hides them
        got_dark, mine = _within(a, b, lo, h, halo_dark)
        near_min = cv2.erode(
            np.where(ok[got_dark], mn[got_dark], np.uint8(255)).astype(np.uint8), near
        )
        if (found := near_min[mine] < _DARK_MAX).any():
            dark[a:b] = found
        del near_min
        if (found := ok[own] & (mn[own] >= _RIM_MIN)).any():
            found &= _greyish(mx[own], mn[own], _GREY_MAX_SAT + 0.08)
            rim[a:b] = found
        is_low = mn[own] < dark_min
        if is_low.any():
            low[a:b] = is_low
        # Haze needs a pixel whose haze window holds no low candidate (valid, not cloud,
        # not snow). Cloud and snow lie in the closed bright pixels and the rims of clouds
        # and (from 1.5 m on) of snow (whose darkest channel is >= _RIM_MIN), so a valid
        # low pixel outside the closed ones is a low candidate whatever the regions turn
        # out to be: where one is in the window no pixel is hazy, and the local contrast
        # is not needed there.
        got_haze, mine = _within(a, b, lo, h, halo_haze)
        sure = ok[got_haze] & (mn[got_haze] < dark_min)
        if shut is not None:
            start = got_haze.start - got.start
            sure &= shut[start : start + sure.shape[0]] == 0
        maybe = ok[own] & ~is_low
        if sure.any():
            maybe &= cv2.dilate(sure.view(np.uint8), haze_kernel)[mine] == 0
        del sure, shut
        if not maybe.any():
            continue
        found = _local_std(_grey(img[got_haze]), haze_k)[mine] <= _HAZE_STD_MAX
        sat = (mx[got_haze].astype(np.float32) - mn[got_haze]) / np.maximum(mx[got_haze], 1).astype(
            np.float32
        )
        del mx, mn
        mean_sat = cv2.boxFilter(sat, cv2.CV_32F, (haze_k, haze_k), borderType=cv2.BORDER_REFLECT)
        found &= mean_sat[mine] <= _HAZE_MAX_SAT
        found &= maybe
        if found.any():
            calm[a:b] = found
    return _Local(closed, core, bright_any, dark, rim, low, calm, cells, wide)


class _Cells:
    """Per cell of about :data:`_SHADOW_CELL_M` (``f`` x ``f`` pixels, the last row and
    column of cells partial): the valid pixels, their grey levels' sum and sum of
    squares, and the bright ones (darkest channel :data:`_BRIGHT_MIN` or more); and per
    finer cell of about :data:`_SHADOW_FINE_M` (``f2`` x ``f2``, at most
    :data:`_SHADOW_FINE_CELLS` of them), the valid pixels and their grey levels' sum.
    Summed strip by strip."""

    def __init__(self, height: int, width: int, gsd: float) -> None:
        self.f = f = max(1, round(_SHADOW_CELL_M / gsd))
        self.f2 = f2 = max(
            1,
            round(_SHADOW_FINE_M / gsd),
            math.ceil(math.sqrt(height * width / _SHADOW_FINE_CELLS)),
        )
        self.gsd = gsd
        shape = (-(-height // f), -(-width // f))
        self.n = np.zeros(shape, np.int64)
        self.s1 = np.zeros(shape, np.float64)
        self.s2 = np.zeros(shape, np.float64)
        self.bright = np.zeros(shape, np.int64)
        fine = (-(-height // f2), -(-width // f2))
        self.fine_n = np.zeros(fine, np.float32)
        self.fine_s = np.zeros(fine, np.float32)

    def add(self, a: int, rows: np.ndarray, ok: np.ndarray, mn: np.ndarray) -> None:
        """The rows from ``a`` of the image, ``ok`` their valid pixels, ``mn`` their
        darkest channel."""
        grey = _grey(rows)
        grey[~ok] = 0.0
        valid = ok.astype(np.float32)
        f, f2 = self.f, self.f2
        first, fine_first = a // f, a // f2
        plane: np.ndarray
        into: np.ndarray
        for plane, into in (
            (valid, self.n),
            (grey, self.s1),
            (np.square(grey), self.s2),
            ((ok & (mn >= _BRIGHT_MIN)).astype(np.float32), self.bright),
        ):
            sums = _by_cell(a, plane, f)
            into[first : first + sums.shape[0]] += (
                np.rint(sums).astype(np.int64) if into.dtype == np.int64 else sums
            )
        for plane, into in ((valid, self.fine_n), (grey, self.fine_s)):
            if f2 == 1:
                into[a : a + plane.shape[0]] += plane
                continue
            sums = _by_cell(a, plane, f2)
            into[fine_first : fine_first + sums.shape[0]] += sums.astype(np.float32)


def _by_cell(a: int, plane: np.ndarray, f: int) -> np.ndarray:
    """``plane`` (rows from ``a`` of the window, float32) summed over cells of ``f`` x
    ``f`` pixels (the last column partial): (the cell rows those rows touch, cell
    columns), in float64."""
    rows, w = plane.shape
    if f == 1:
        return plane.astype(np.float64)
    across = np.add.reduceat(plane, np.arange(0, w, f), axis=1).astype(np.float64)
    idx = np.arange(a, a + rows) // f
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    out: np.ndarray = np.add.reduceat(across, starts, axis=0)
    return out


def _shadow_cells(cells: _Cells, gsd: float) -> tuple[int, np.ndarray] | None:
    """The cells in a cloud's shadow (see the constants from :data:`_SHADOW_CELL_M`):
    ``(f, map)``, ``map`` a bool per cell of ``f`` x ``f`` pixels; None: none found.

    Cores: connected cells whose smoothed log grey level is :data:`_SHADOW_CORE` or
    more below the reference, of :data:`_SHADOW_MIN_M2` or more. A core is a shadow
    where its median darkening reaches :data:`_SHADOW_DARK`, its texture darkens with
    it (:data:`_SHADOW_TEX_SHARE`, :data:`_SHADOW_TEX_MORE`) and its edge is soft
    (:data:`_SHADOW_SHARP`); it is then grown over the connected cells darkened by
    :data:`_SHADOW_GROW` of its darkening."""
    f = cells.f
    full = cells.n >= max(1, (f * f) // 2)
    n = np.maximum(cells.n, 1)
    mean = cells.s1 / n
    var = np.maximum(cells.s2 / n - mean * mean, 0.0)
    cloudy = cells.bright >= _SHADOW_BRIGHT_SHARE * n
    use = full & ~cloudy
    cell_m2 = (gsd * f) ** 2
    min_cells = max(4, math.ceil(_SHADOW_MIN_M2 / cell_m2))
    if int(use.sum()) < 2 * min_cells:
        return None
    log_l = np.log(np.maximum(mean, 1.0)).astype(np.float32)
    log_s = np.log(np.maximum(np.sqrt(var), 0.5)).astype(np.float32)
    sigma = max(0.5, _SHADOW_SIGMA_M / (gsd * f))
    weight = use.astype(np.float32)
    norm = cv2.GaussianBlur(weight, (0, 0), sigma)
    ok = use & (norm > 1e-3)

    def smooth(x: np.ndarray) -> np.ndarray:
        out: np.ndarray = cv2.GaussianBlur(x * weight, (0, 0), sigma) / np.maximum(norm, 1e-3)
        return out

    d_l = smooth(log_l)
    d_s = smooth(log_s)
    d_l -= np.float32(np.percentile(d_l[ok], _SHADOW_REF_PERCENTILE))
    d_s -= np.float32(np.percentile(d_s[ok], _SHADOW_REF_PERCENTILE))
    n_core, core_lab = _components((ok & (d_l < _SHADOW_CORE)).view(np.uint8), 8)
    h, w = use.shape
    gap = 2 * _SHADOW_CLOUD_GAP + 1
    far = cv2.dilate(cloudy.view(np.uint8), np.ones((gap, gap), np.uint8)) == 0
    shadow = np.zeros((h, w), bool)
    ground = _cell_contrast(log_l, ok & (d_l >= _SHADOW_CORE) & far)
    for i in range(1, int(n_core)):
        core = core_lab == i
        if int(core.sum()) < min_cells:
            continue
        dark = float(np.median(d_l[core]))
        tex = float(np.median(d_s[core]))
        if dark > _SHADOW_DARK or not _SHADOW_TEX_SHARE * dark >= tex >= dark - _SHADOW_TEX_MORE:
            continue
        if _cell_contrast(log_l, core & ok) < _SHADOW_KEEP * ground:
            continue  # smoother than the ground around: asphalt, water, a roof
        if _edge_sharpness(cells, d_l, core, far) > _SHADOW_SHARP:
            continue
        _, grown = _components((ok & (d_l < _SHADOW_GROW * dark)).view(np.uint8), 8)
        hit = np.unique(grown[core])
        shadow |= np.isin(grown, hit[hit > 0])
    return (f, shadow) if shadow.any() else None


def _cell_contrast(log_l: np.ndarray, cells: np.ndarray) -> float:
    """The median difference of log grey level between neighbouring ``cells`` (both in
    it; across and down): a common darkening keeps it, as it keeps every ratio of
    brightness. 0 with fewer than 10 pairs."""
    across = np.abs(np.diff(log_l, axis=1))[cells[:, 1:] & cells[:, :-1]]
    down = np.abs(np.diff(log_l, axis=0))[cells[1:, :] & cells[:-1, :]]
    pairs = np.concatenate([across, down])
    return float(np.median(pairs)) if pairs.size >= 10 else 0.0


def _edge_sharpness(cells: _Cells, d_l: np.ndarray, core: np.ndarray, far: np.ndarray) -> float:
    """How sharp the edge of ``core`` (cells of :func:`_shadow_cells`) is, measured on
    the finer cells: the smoothed darkening ``d_l`` is brought to them (bilinear) and cut
    at :data:`_SHADOW_CORE` near the core, a smooth edge parallel to the ground's; the
    median log grey level of the finer cells at each distance from it (up to
    :data:`_SHADOW_PROFILE_M` either side) is the edge's profile. The sharpness is the
    largest rise of that profile over :data:`_SHADOW_RISE_M` over its whole rise: near
    1 where the ground changes at once (water's bank, a roof, a building's cast
    shadow), less where the light fades (a cloud shadow's soft edge). Finer cells next
    to a cloud (``far`` false) are not looked at. 0 where too few cells are seen."""
    fine_h, fine_w = cells.fine_n.shape
    f2 = cells.f2
    up = cv2.resize(d_l, (fine_w, fine_h), interpolation=cv2.INTER_LINEAR)
    near = cv2.resize(
        cv2.dilate(core.view(np.uint8), np.ones((3, 3), np.uint8)),
        (fine_w, fine_h),
        interpolation=cv2.INTER_NEAREST,
    )
    inner = ((up < _SHADOW_CORE) & (near > 0)).view(np.uint8)
    if not inner.any():
        return 0.0
    inside = cv2.distanceTransform(inner, cv2.DIST_L2, 3)
    outside = cv2.distanceTransform(1 - inner, cv2.DIST_L2, 3)
    size = f2 * cells.gsd  # metres a finer cell
    where = np.where(inner > 0, 0.5 - inside, outside - 0.5) * size
    seen = cells.fine_n >= max(1.0, f2 * f2 / 2)
    seen &= cv2.resize(far.view(np.uint8), (fine_w, fine_h), interpolation=cv2.INTER_NEAREST) > 0
    seen &= np.abs(where) <= _SHADOW_PROFILE_M
    if int(seen.sum()) < 20:
        return 0.0
    level_of = np.log(np.maximum(cells.fine_s / np.maximum(cells.fine_n, 1.0), 1.0))
    band = max(size, 1.0)
    bins = np.floor(where[seen] / band).astype(np.int64)
    values = level_of[seen]
    order = np.argsort(bins, kind="stable")
    bins, values = bins[order], values[order]
    keys, starts, counts = np.unique(bins, return_index=True, return_counts=True)
    level = {
        int(k): float(np.median(values[s : s + c]))
        for k, s, c in zip(keys, starts, counts, strict=True)
        if c >= 5
    }
    if len(level) < 3:
        return 0.0
    rise = max(level.values()) - min(level.values())
    k = max(1, round(_SHADOW_RISE_M / band))
    steps = [level[d + k] - level[d] for d in level if d + k in level]
    if rise <= 0 or not steps:
        return 0.0
    return max(steps) / rise


def _haze_dark_min(gsd: float) -> int:
    """The darkest channel below which a pixel is not hazy at ``gsd``: 70 finer than
    1.5 m, 90 from it on (:data:`_HAZE_DARK_MIN_COARSE`; 70 at every gsd until
    2026-12-06, session 40)."""
    return _HAZE_DARK_MIN if gsd < _OBJECT_GSD else _HAZE_DARK_MIN_COARSE


def _within(a: int, b: int, lo: int, h: int, halo: int) -> tuple[slice, slice]:
    """For the strip ``a:b`` of a window of ``h`` rows read from row ``lo``: the rows
    a rule of ``halo`` reads (in what was read), and the strip's own among them."""
    c0, c1 = max(0, a - halo), min(h, b + halo)
    return slice(c0 - lo, c1 - lo), slice(a - c0, b - c0)


def _greyish(mx: np.ndarray, mn: np.ndarray, max_sat: float) -> np.ndarray:
    """Saturation (max - min) / max at most ``max_sat``, in integer arithmetic."""
    spread = mx.astype(np.int16) - mn.astype(np.int16)
    return spread * 100 <= np.int16(round(max_sat * 100)) * mx.astype(np.int16)


class _Regions:
    """The connected components of a :class:`PackedMask` map (its true pixels, or with
    ``zeros`` its false ones), found strip by strip (:func:`_strips`, within the rows
    ``r0:r1``) and joined where they meet across a strip's border (8- or 4-connected
    like the strips' own labels): what the components of the whole map at once are.
    ``count``: the number of components plus one (0: the background); per component,
    ``area`` (pixels) and ``touches`` (a pixel in the first or last of the rows or in
    the first or last column)."""

    def __init__(self, bits: PackedMask, connectivity: int, *, zeros: bool = False) -> None:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        self._bits = bits
        self._connectivity = connectivity
        self._zeros = zeros
        h, w = bits.shape
        self.r0, self.r1 = bits.row_span() if not zeros else (0, h)
        #: a strip's first row -> (its rows, clipped to r0:r1, and its labels' offset)
        self._parts: dict[int, tuple[int, int, int]] = {}
        areas: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
        edges: list[np.ndarray] = []
        touch: list[np.ndarray] = []
        offset = 0
        last: np.ndarray | None = None  # ids of the previous strip's last row
        for a, b, _, _ in _strips(h, w, 0):
            lo, hi = max(a, self.r0), min(b, self.r1)
            if lo >= hi:
                last = None
                continue
            n, lab, stats, _ = _components(self._map(lo, hi), connectivity, stats=True)
            self._parts[a] = (lo, hi, offset)
            areas.append(stats[1:, cv2.CC_STAT_AREA].astype(np.int64))

            def ids(labels: np.ndarray, offset: int = offset) -> np.ndarray:
                return np.where(labels > 0, labels.astype(np.int64) + offset, 0)

            first = ids(lab[0])
            touch.extend((ids(lab[:, 0]), ids(lab[:, -1])))
            if lo == self.r0:
                touch.append(first)
            if hi == self.r1:
                touch.append(ids(lab[-1]))
            if last is not None:
                shifts = (-1, 0, 1) if connectivity == 8 else (0,)
                for d in shifts:  # row lo-1, column c and row lo, column c + d
                    up = last[max(0, -d) : w - max(0, d)]
                    down = first[max(0, d) : w - max(0, -d)]
                    both = (up > 0) & (down > 0)
                    if both.any():
                        edges.append(np.stack([up[both], down[both]]))
            last = ids(lab[-1])
            del lab
            offset += n - 1
        nodes = offset + 1
        area = np.concatenate(areas)
        touched = np.zeros(nodes, dtype=bool)
        for t in touch:
            touched[t] = True
        touched[0] = False
        if edges:
            pairs = np.unique(np.concatenate(edges, axis=1), axis=1)
            graph = coo_matrix(
                (np.ones(pairs.shape[1], dtype=np.int8), (pairs[0], pairs[1])), shape=(nodes, nodes)
            )
            _, joined = connected_components(graph, directed=False)
            # component numbers from 0, the background's (id 0, never joined) made 0
            _, comp = np.unique(joined, return_inverse=True)
            comp = comp.ravel()
            v = comp[0]
            comp = np.where(comp == v, 0, np.where(comp == 0, v, comp))
        else:
            comp = np.arange(nodes)
        self.count = int(comp.max()) + 1 if nodes else 1
        self._comp = comp.astype(np.int32 if self.count < 2**31 else np.int64)
        self.area = np.bincount(comp, weights=area, minlength=self.count).astype(np.int64)
        self.touches = (
            np.bincount(comp, weights=touched.astype(np.float64), minlength=self.count) > 0
        )

    def _map(self, lo: int, hi: int) -> np.ndarray:
        rows = self._bits[lo:hi]
        return (~rows if self._zeros else rows).view(np.uint8)

    def labels(self, a: int, b: int) -> np.ndarray:
        """The component of each pixel of the strip ``a:b`` of :func:`_strips` (0: none)."""
        out = np.zeros((b - a, self._bits.shape[1]), dtype=self._comp.dtype)
        if a not in self._parts:
            return out
        lo, hi, offset = self._parts[a]
        n, lab = _components(self._map(lo, hi), self._connectivity)
        look = np.zeros(n, dtype=self._comp.dtype)
        look[1:] = self._comp[offset + 1 : offset + n]
        out[lo - a : hi - a] = look[lab]
        return out


def _bright_regions(
    valid: _RowsAnd,
    closed: PackedMask,
    dark: PackedMask,
    gsd: float,
    px_area: float,
    cloud: PackedMask,
    snow: PackedMask,
    core: PackedMask | None = None,
    wide: PackedMask | None = None,
) -> None:
    """Split the large regions of ``closed`` (bright grey pixels, closed) into snow (dark
    objects, ``dark``, show inside them) and opaque cloud (nothing dark inside), marked
    in ``cloud`` and ``snow``. With ``core`` (from 1.5 m on: ``closed`` starts at
    :data:`_BRIGHT_MIN_COARSE`, ``core`` its pixels at :data:`_BRIGHT_MIN`), a region of
    :data:`_SNOW_MIN_M2_COARSE` may be snow if :data:`_SNOW_CORE_SHARE` of it (or
    :data:`_CLOUD_MIN_M2`) is ``core``, and one is cloud only with :data:`_CLOUD_MIN_M2`
    of ``core`` in it (else, nothing dark inside, neither); a winter scene needs
    :data:`_SNOW_CORE_SHARE` of ``closed`` to be ``core``."""
    h, w = closed.shape
    regions = _Regions(closed, 8)
    if regions.count == 1:
        return
    min_px = max(4, math.ceil(_CLOUD_MIN_M2 / px_area))
    count = regions.count
    big = np.zeros(count, dtype=bool)
    big[1:] = regions.area[1:] >= min_px
    large = big.copy()  # what may be cloud
    if core is not None:
        # light snow's patches at coarse resolution (session 41)
        big[1:] = regions.area[1:] >= max(4, math.ceil(_SNOW_MIN_M2_COARSE / px_area))
    if not big.any():
        return
    # Judge each region away from its outer edge (the ground next to a cloud is
    # dark), but keep the edges of its holes (objects seen through snow).
    filled = _filled(closed)
    outer_k = _halos(gsd)["outer_k"]
    outer = cv2.getStructuringElement(cv2.MORPH_RECT, (outer_k, outer_k))
    inner_count = np.zeros(count, dtype=np.int64)
    dark_count = np.zeros(count, dtype=np.int64)
    all_dark = np.zeros(count, dtype=np.int64)
    core_count = np.zeros(count, dtype=np.int64)
    wide_count = np.zeros(count, dtype=np.int64)
    n_valid = 0
    n_closed = 0
    n_core = 0
    for a, b, lo, hi in _strips(h, w, outer_k // 2):
        ok = valid[a:b]
        n_valid += int(ok.sum())
        if b <= regions.r0 or a >= regions.r1:
            continue  # no region here
        own = slice(a - lo, b - lo)
        near_dark = dark[a:b]
        eroded = cv2.erode(filled[lo:hi].view(np.uint8), outer, borderType=cv2.BORDER_REPLICATE)
        part = closed[a:b]
        inner = part & (eroded[own] > 0)
        del eroded
        lab = regions.labels(a, b)
        inner_count += np.bincount(lab[inner], minlength=count)
        dark_count += np.bincount(lab[inner & near_dark], minlength=count)
        all_dark += np.bincount(lab[near_dark], minlength=count)
        if core is not None:
            core_count += np.bincount(lab[core[a:b]], minlength=count)
            n_core += int(core[a:b][ok].sum())
        if wide is not None:
            wide_count += np.bincount(lab[wide[a:b] & part], minlength=count)
        n_closed += int(part[ok].sum())
    del filled
    inner_f = inner_count.astype(np.float64)
    dark_f = dark_count.astype(np.float64)
    # Regions too thin to have an interior are judged on their whole area.
    thin = inner_f == 0
    if thin[big].any():
        inner_f[thin] = regions.area[thin]
        dark_f[thin] = all_dark[thin]
    share = np.divide(dark_f, inner_f, out=np.zeros(count), where=inner_f > 0)
    is_snow = big & (share >= _SNOW_DARK_SHARE)
    winter = True
    if core is not None:
        # light snow's patches have a bright middle; grey concrete, roads and light
        # ballast are fairly bright all over, and so is a yard mostly of them: a winter
        # scene's candidates have one too (session 42)
        is_snow &= (core_count >= _SNOW_CORE_SHARE * regions.area) | (core_count >= min_px)
        winter = n_core >= _SNOW_CORE_SHARE * n_closed
    # A winter scene: bright ground with dark objects over most of the site.
    bright_share = float(n_closed) / n_valid if n_valid else 0.0
    overall = float(dark_f[large].sum() / max(inner_f[large].sum(), 1.0))
    if winter and bright_share >= _WINTER_BRIGHT_SHARE and overall >= _SNOW_DARK_SHARE:
        is_snow |= large
    if wide is not None:
        # a block of white wagons joined across its tracks has no wide bright middle
        # (session 42): neither snow nor cloud
        is_snow &= wide_count > 0
        large &= wide_count > 0
    is_cloud = large & ~is_snow
    if core is not None:
        # an opaque cloud is bright (the candidates start lower from 1.5 m on)
        is_cloud &= core_count >= min_px
    for a, b, _, _ in _strips(h, w, 0):
        if b <= regions.r0 or a >= regions.r1:
            continue
        lab = regions.labels(a, b)
        if (found := is_cloud[lab]).any():
            cloud[a:b] = found
        if (found := is_snow[lab]).any():
            snow[a:b] = found


def _filled(mask: PackedMask) -> PackedMask:
    """``mask`` and the pixels outside it that it encloses (not 4-connected to the
    image border through pixels outside it). Found within the rows ``r0:r1`` that hold
    ``mask``'s pixels: outside them every row is outside ``mask`` and reaches the border,
    so what touches their first or last row touches the border."""
    h, w = mask.shape
    out = PackedMask((h, w))
    r0, r1 = mask.row_span()
    if r0 == r1:
        return out
    span = PackedMask((r1 - r0, w))
    for a in range(r0, r1, max(1, BLOCK_PIXELS // max(w, 1))):
        b = min(r1, a + max(1, BLOCK_PIXELS // max(w, 1)))
        span[a - r0 : b - r0] = mask[a:b]
    holes = _Regions(span, 4, zeros=True)
    enclosed = ~holes.touches
    enclosed[0] = False  # the mask itself
    for a, b, _, _ in _strips(r1 - r0, w, 0):
        out[r0 + a : r0 + b] = span[a:b] | enclosed[holes.labels(a, b)]
    return out


def _row_span(mask: np.ndarray) -> tuple[int, int]:
    """The rows ``r0:r1`` outside which ``mask`` is 0 everywhere; ``(0, 0)`` when it is
    0 everywhere. A region (connected component) lies within them."""
    rows = np.flatnonzero(mask.any(axis=1))
    return (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 0)


def _grow(rim: PackedMask, cloud: PackedMask, gsd: float) -> PackedMask:
    """Add each cloud's soft, darker rim: pixels that are still fairly bright and
    grey (``rim``) and connected to the cloud, up to ``_RIM_M`` metres out (hysteresis).
    Strip by strip, always :data:`_RIM_STEPS` steps: once a step adds nothing, the
    next ones add nothing either."""
    if not cloud.any():
        return cloud
    step = _odd(_RIM_M / (_RIM_STEPS * gsd), 3)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (step, step))
    h, w = cloud.shape
    out = PackedMask((h, w))
    for a, b, lo, hi in _strips(h, w, _RIM_STEPS * (step // 2)):
        seed = cloud[lo:hi]
        if not seed.any():
            continue
        grown = seed.view(np.uint8)
        allowed = (rim[lo:hi] | seed).view(np.uint8)
        for _ in range(_RIM_STEPS):
            grown = cv2.dilate(grown, kernel) & allowed
        if (found := grown[a - lo : b - lo] > 0).any():
            out[a:b] = found
    return out


def _haze(
    valid: _RowsAnd,
    low: PackedMask,
    calm: PackedMask,
    cloud: PackedMask,
    snow: PackedMask,
    gsd: float,
    px_area: float,
) -> PackedMask:
    """Regions with a raised dark channel (no ``low`` pixel around) and low local contrast
    (``calm``), away from ``cloud`` and ``snow``."""
    h, w = valid.shape
    k = _halos(gsd)["haze_k"]
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    hazy = PackedMask((h, w))
    if not calm.any():
        return hazy
    for a, b, lo, hi in _strips(h, w, k // 2):
        own = slice(a - lo, b - lo)
        calm_own = calm[a:b]
        if not calm_own.any():
            continue
        candidates = valid[lo:hi] & ~cloud[lo:hi] & ~snow[lo:hi]
        # the darkest channel over the window of candidates is >= _haze_dark_min where
        # no candidate in the window is low (the erosion of session 36, as a dilation)
        raised = cv2.dilate((candidates & low[lo:hi]).view(np.uint8), kernel) == 0
        if (part := candidates[own] & raised[own] & calm_own).any():
            hazy[a:b] = part
    regions = _Regions(hazy, 8)
    keep = np.zeros(regions.count, dtype=bool)
    keep[1:] = regions.area[1:] >= max(4, math.ceil(_HAZE_MIN_M2 / px_area))
    out = PackedMask((h, w))
    if not keep.any():
        return out
    for a, b, _, _ in _strips(h, w, 0):
        if b > regions.r0 and a < regions.r1 and (kept := keep[regions.labels(a, b)]).any():
            out[a:b] = kept
    return out


def _components(mask: np.ndarray, connectivity: int, *, stats: bool = False) -> Any:
    """OpenCV's connected components of ``mask`` (uint8), with their stats when
    ``stats``: labels of 2 bytes a pixel where they fit (OpenCV refuses, rather than
    wraps, more labels than 2 bytes hold: then 4 bytes). The regions are the same
    whatever the labels' type, and every result here depends on the regions only
    (session 36: the 4-byte labels were the largest whole-window map)."""
    run = cv2.connectedComponentsWithStats if stats else cv2.connectedComponents
    try:
        return run(mask, connectivity=connectivity, ltype=cv2.CV_16U)
    except cv2.error:
        return run(mask, connectivity=connectivity, ltype=cv2.CV_32S)


def _local_std(values: np.ndarray, k: int) -> np.ndarray:
    mean = cv2.boxFilter(values, cv2.CV_32F, (k, k), borderType=cv2.BORDER_REFLECT)
    sq = cv2.boxFilter(np.square(values), cv2.CV_32F, (k, k), borderType=cv2.BORDER_REFLECT)
    np.square(mean, out=mean)
    sq -= mean
    del mean
    np.maximum(sq, 0.0, out=sq)
    return np.sqrt(sq, out=sq)


def _odd(size_px: float, minimum: int) -> int:
    n = max(minimum, round(size_px))
    return int(n if n % 2 == 1 else n + 1)


def _pct(x: float) -> str:
    """``x`` (0-1) as a whole percentage; a fraction that rounds to 0 or 100 without
    being it is written "under 1 %" or "over 99 %" (a 30 m image over a large site
    covered "only 0 %" of it)."""
    pct = round(100 * x)
    if pct == 0 and x > 0:
        return "under 1 %"
    if pct == 100 and x < 1:
        return "over 99 %"
    return f"{pct} %"
