"""Coarse imagery (about 1.5 m and coarser): occupied track length, not objects.

At 3 m a 14 m x 3.2 m car is about 5 x 1 px, so cars cannot be separated; what can be
measured is how much track is occupied. The method:

1. Track lines: the given ``tracks`` (centrelines in pixel coordinates), or, without
   them, lines found in the image: the dominant orientations of linear structure
   (structure-tensor orientation histogram weighted by coherence), then the track
   corridor along each (pixels whose local structure is coherent and aligned with it,
   continuous over at least 90 m), sampled as parallel lines one track spacing apart.
   Where lines cross or merge at an angle (ladders, switches), only the line nearer the
   main direction keeps its samples within one track spacing of the other.
2. Profiles: colours are sampled every half pixel along each line (bilinear) in an
   illumination-invariant colour space: log luminance and two chroma axes divided by
   luminance, so sun, thin shade and dirt (multiplicative) shift one channel only.
3. Empty-track reference, local: the densest colour of all track samples (mean shift;
   ballast is one tight colour, cars of many colours are not), then each line's own
   densest colour *nearest to it* (a line 90 % full of one kind of car keeps its ballast
   colour), plus a smooth 2-D field (normalised convolution over ``ILLUMINATION_M``) of
   the offsets of empty-track samples from their line's colour: a lit or shaded patch of
   ballast moves the reference with it. Three passes (inliers within ``INLIER`` noise
   units). The noise unit is the spread of those inliers only (:func:`_empty_noise`),
   not of every sample: in a crowded yard the cars would inflate it. With the site's
   empty track from its other images (``site_empty``, :func:`site_empty_track`: the
   median over them of the empty colour relative to each image's median colour, and
   of the noise unit), the yard's colour is searched near the one it predicts, with
   that noise unit, and each line's own within ``SITE_LINE_REACH`` noise units: a yard
   more than half full of one kind of car then keeps the ballast as its empty track.
   A line that shows the yard's colour at under ``SITE_MIN_SUPPORT`` of its samples takes
   its own densest colour where that lies within twice ``SITE_LINE_REACH`` units of the
   yard's (:func:`_line_colour`: a line on a bed of another colour, whichever way its
   samples fall across a pixel; a line full of one kind of car keeps the yard's); read
   alone along given centrelines finer than 10 m, the same rule in the yard's own
   empty-track noise unit, for a line whose samples spread at least
   ``ALONE_BED_SPREAD`` of it (a crowded yard's colour is the cars').
   Where that search ends far from the expected colour (``SITE_MAX_DRIFT``) or in a
   spread far wider than empty track's (unless ``SITE_BARE_SHARE`` of the samples are
   the expected ballast in the site's own unit: beds of several colours), and the track
   samples spread that wide too (``SITE_FULL_SPREAD``), the yard is taken as full
   (hardly any sample shows bare ballast): every line is read against the expected
   colour itself, with the site's noise unit, without lines' own colours or a light
   field. Without the site's empty track, where the noise unit ends above
   ``CROWDED_RATIO`` times the noise along the lines (:func:`_along_noise`), the yard is
   taken as crowded (cars at most of the samples inflate the unit until real cars no
   longer stand out): the passes are run again with the unit held there, and the
   estimate is marked ``image, crowded`` with an interval reaching the track's capacity;
   unless the colour along the lines changes mostly beyond a car's length
   (``CROWDED_MIN_CAR_SHARE``): then patchy ground under thin tracks, not cars, widened
   the unit.
4. Car evidence: the offset from the local reference, averaged over half a car length
   *as a vector* (a car shifts every sample the same way, noise averages out), in units
   of the averaged offsets' robust spread on empty track.
5. Occupied: evidence >= ``threshold`` (4) and, against every sample of another line
   about one track spacing to either side (tracks are 4.75 m apart, 1.6 px at 3 m: a
   car and its shadow spill onto the neighbouring line and are counted once), at least
   ``SIDE_RATIO`` (0.9) times its evidence, or ``SIDE_RATIO_SAME`` (0.75) times it where
   both offsets point the same way and neither is a colourless darkening: spill is a
   weaker copy of the neighbour's colour, a second string of the same cars is as
   strong (dense blocks), a shadow or a black car keeps the strict ratio. Gaps under
   ``MAX_GAP_M`` closed, runs under ``MIN_RUN_M`` dropped. The occupied length is the
   number of occupied samples times the sample step.
6. Learned decision (the default along given centrelines below ``LEARNED_MAX_GSD``,
   instead of step 5): a small perceptron (:mod:`railwatch.detect.coarse_model`) gives
   each sample a probability of standing inside a car from the features of
   :func:`sample_features` (the evidence of step 4 at several lengths and offsets along
   and across the track, the neighbouring lines' evidence relative to its own, the
   side rule's requirement and its decision); each line is then decoded into strings by
   a two-state Viterbi pass (:func:`decode_strings`: log-odds against a cut, a fixed
   cost per change), so a string is kept or dropped as a whole. Fitted on simulator 3 m
   scenes of the training style families by ``benchmarks/fit_coarse_occupancy.py``. A
   yard read as crowded or taken as full (step 3, ``CROWDED_READS``) is decided by a
   second classifier fitted the same way with dense yards too
   (:func:`railwatch.detect.coarse_model.load_crowded_model`), which reads crowded
   yards far better and ordinary ones too high.

Car equivalents are ``length / 14 m`` (Russian "conventional cars"); the interval runs
from - (1 car + ``REL_LEARNED_LOW`` x estimate + a pixel per occupied string end) to
+ (1 car + ``REL_LEARNED_HIGH`` x estimate + the same) with the learned decision,
``REL_GIVEN_*`` with the rules along given centrelines, ``REL_FOUND_*`` when the tracks
had to be found in the image, widened by the fraction of pixels without data (of the site's
pixels, ``area``, where the image is cut to a site). The widths put
the truth inside the interval on 90 % of the development scenes, 5 % missed on either
side (``benchmarks/derive_coarse_interval.py``; docs/detection.md): the estimate errs
low more often and further than high, so the interval reaches further up. At 10 m and
coarser only the presence of a long train is reported (``method="presence"``): a
string of at least 300 m along one line, found by colour offsets averaged over a train's
length (:func:`longest_string_run`), not the occupied length of step 5 or 6.

7. Shadows, when the sun's position is known (``sun``, from the image's metadata): a run
   of colourless darkening that lies (``SHADOW_RUN_SHARE``) within a shadow's reach
   (``SHADOW_HEIGHT_M`` / tan(elevation) plus half a car's width) of a string on a line
   nearer the sun is that string's shadow on the next track, and is dropped
   (:func:`_shadow_guard`).

Not handled (docs/detection.md): without the sun's position, a string of black cars
beside its own low-sun shadow reads about 1.8 times its length with the learned
decision (the rules keep it); with it, a string of black cars lying wholly within the
shadow's reach of a string nearer the sun is dropped as a shadow; faint
cars (faded paint, haze; about a third of the cars' length on development scenes, with
the rules) are missed while blemishes of the ballast over long
empty track are counted, which cancel on average but not per scene; misregistration
between the image and the given centrelines (a shift of more than about half a track
spacing, 2.4 m, puts the lines between tracks or on the ground beside the yard); shadows
at low sun that carry some colour; dense blocks along a pixel axis; without the site's
empty track from its other images (an image estimated alone), yards more than half full
of one kind of car, whose empty-track reference is then taken from the cars; crowded yards
of many kinds of car read alone are marked and read with the noise unit held down and
the classifier for crowded yards, about 10 % low in the median on the third renderer's,
and a moderately full yard over patchy ground that is still taken as crowded reads high.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from railwatch.detect.base import OccupiedRun
from railwatch.detect.coarse_model import OccupancyModel, load_crowded_model, load_model
from railwatch.errors import InputError
from railwatch.imagery.quality import MAX_COUNT_GSD
from railwatch.rails import CAR_WIDTH_M, LENGTH_GSD, PRESENCE_GSD  # see rails.py

#: Length of a conventional car (metres): occupied length / this = car equivalents.
CONVENTIONAL_CAR_M = 14.0
#: Distance between neighbouring parallel track centrelines in yards (metres).
TRACK_SPACING_M = 4.75
#: Version of this estimator, raised whenever its estimates or intervals change, so that
#: ``railwatch process`` counts stored scenes of 1.5 m and coarser again
#: (:func:`railwatch.pipeline.processing_version`). "1": the hand-set rules (until
#: 2026-12-02); "2": the learned occupancy classifier along given centrelines below 4 m
#: (``coarse_model``), learned interval widths 0.32 / 1.65; "3": with the sun's position
#: from the image's metadata, shadows of strings on the next track are dropped
#: (``_shadow_guard``, 2026-12-03); "4": the noise unit from empty track only
#: (:func:`_empty_noise`; a crowded yard's cars no longer inflate it), the learned
#: classifier refitted on it (2026-12-03, session 15); "5": in the pipeline, the site's
#: empty track from its other images (:func:`site_empty_track`; a yard more than half
#: full of one kind of car no longer takes the cars for its empty track); an image
#: estimated alone reads as with "4" (2026-12-03, session 17); "6": the learned
#: decision's interval widths re-derived for estimator 4's evidence with the sun,
#: 0.39 / 0.91 instead of 0.32 / 1.65 (the same estimates; 2026-12-04, session 19);
#: "7": an image read without the site's empty track whose yard looks crowded
#: (:data:`CROWDED_RATIO`) has its noise unit held down and its interval reaching the
#: track's capacity (2026-12-05, session 28; other images read as with "6"); "8": not
#: where the ground under the lines changes in patches wider than a car
#: (:data:`CROWDED_MIN_CAR_SHARE`; 2026-12-05, session 29); "9": a yard read as crowded
#: is decided by the classifier fitted with dense yards too
#: (``coarse_occupancy_crowded.json``; 2026-12-05, session 29); "10": so is a yard
#: taken as full against the site's empty track (:data:`CROWDED_READS`; session 29);
#: "11": the same estimates, with the stretches read as occupied kept with the count
#: (:attr:`CoarseEstimate.runs`; session 30), so the next ``railwatch process`` counts
#: scenes of "10" again to record them; "12": the interval widened by the share of the
#: *site's* pixels without data (``area``), not of the raster's, so a site whose polygon
#: fills a third of its bounding box no longer had an interval about 1.7 times as wide
#: as the same image's over a rectangular site (2026-12-06, session 35); "13": a track
#: drawn twice along at least a car's length (the same centreline twice, overlapping
#: pieces, a line that doubles back) is read once (:func:`_drop_duplicates`; the same
#: estimates for every other set of lines; 2026-12-06, session 40); "14": a scene whose
#: file's pixel grid is the site grid moved by a fraction of a pixel is read on the
#: file's own pixels with the centrelines moved onto them
#: (:attr:`railwatch.imagery.read.SiteRaster.sharp_shift`), not on the grid's bilinear
#: resampling, as ``railwatch detect`` reads the file (the same estimates where the grid
#: is a cut of the file's grid, as for the demo; 2026-12-06, session 41); "15": a scene
#: whose file is resampled onto the site grid otherwise (another UTM zone, Web Mercator,
#: another pixel size; pixels square on the ground) is read on the file's own pixels over
#: the site, the centrelines placed in its CRS (``pipeline._own_pixels``; the same
#: estimates for files on the grid or moved by a fraction of a pixel, and for lon/lat
#: files; 2026-12-06, session 42); "16": with the site's empty track, a line whose
#: samples all sit on a bed of another colour (a main line's clean ballast, concrete
#: sleepers among wooden ones) takes that bed as its empty colour however its samples
#: fall across a pixel (:func:`_line_colour`), and a yard whose beds of several colours
#: widen the search's noise unit while a good share of its samples is the expected
#: ballast is not taken as full (:data:`SITE_BARE_SHARE`): lines half a pixel off read
#: such a line end to end as a string (13.8 -> 61.9 for 13 cars) or the yard as full
#: (241.7 for 39.3; the same estimates for images read alone; 2026-12-07, session 49);
#: "17": an image read alone (without the site's empty track) along given centrelines
#: below :data:`PRESENCE_GSD` judges such a line by the same rule, in the yard's own
#: empty-track noise unit about the yard's colour (:func:`_empty_noise`, what
#: :func:`empty_track` gives the site's empty track from each image): read alone it was
#: read as one string end to end wherever a fraction of a pixel kept its samples from
#: the yard's colour (simulated sites: 25.1 for 12.4 as given, 80.4 for 44.6 half a
#: pixel off; the same estimates with the site's empty track, along found lines and for
#: the long-train flag; 2026-12-07, session 50). Not in a crowded yard whose colour is the
#: cars', for a line of bare ballast far quieter than the yard's unit
#: (:data:`ALONE_BED_SPREAD`): taken for a bed, yards of dark cars read alone read 0.0
#: for 111.4 (16: 35.8) and 16.9 for 95.7 (16: 49.9; found and kept "17" within session
#: 50, before any released estimate used it).
ESTIMATOR_VERSION = "17"
#: Version of the long-train flag at :data:`PRESENCE_GSD` and coarser, raised whenever
#: it changes so that such scenes are counted again (finer ones are not). "1": the
#: occupied length summed over lines at least :data:`LONG_TRAIN_M` (until 2026-12-04);
#: "2": the longest string along one line (:func:`longest_string_run`, session 23); "3":
#: in the pipeline, also against the site's other images (:func:`site_background`).
PRESENCE_VERSION = "3"
#: A line sample is occupied only if its evidence is at least this times the evidence one
#: track spacing to either side (the neighbouring track's car is not counted twice)...
SIDE_RATIO = 0.9
#: ... or this times it where both colour offsets point the same way (cosine at least
#: ``SAME_COS``) and are not a colourless darkening: a neighbour's spill is a weaker copy
#: of its colour (at most about 0.6 of it), a second string of the same cars is as
#: strong; a shadow (or a black car) keeps ``SIDE_RATIO``.
SIDE_RATIO_SAME = 0.75
SAME_COS = 0.9
#: A darkening is colourless when its chroma offset is under this times its drop in
#: log luminance (invariant units).
DARK_CHROMA = 1.0
#: Neighbours are looked for at these multiples of the track spacing to either side,
#: each within ``NEIGHBOUR_RADIUS`` spacings.
NEIGHBOUR_AT = (0.8, 1.0, 1.2)
NEIGHBOUR_RADIUS = 0.35
#: Smallest noise unit of a colour feature (guards against flat synthetic images).
NOISE_FLOOR = 1.0
#: Scale (metres) of the illumination and dirt field fitted to empty track.
ILLUMINATION_M = 30.0
#: Samples within this many noise units of the local empty-track colour are empty track.
INLIER = 2.5
#: Median absolute value of one coordinate of a 3-D standard Gaussian inside the ball of
#: radius ``INLIER``, over that of the whole Gaussian: the spread of the inliers, divided
#: by this, is the spread of empty track (:func:`_empty_noise`).
INLIER_MAD = 0.936
#: Re-estimates of the noise unit from the inliers, at most.
NOISE_ITERATIONS = 6
#: Shortest occupied string (metres): a run of occupied samples shorter than this is noise.
MIN_RUN_M = 8.0
#: Gaps (metres) shorter than this inside an occupied string are closed.
MAX_GAP_M = 4.0
#: Where lines cross at an angle, samples within this many track spacings of the line
#: nearer the main direction belong to it only.
CROSSING_RADIUS = 1.0
#: Samples within this many track spacings of an earlier sample running the same way
#: (within 3 degrees), of another line or further back along the same line, are that
#: track drawn twice, and dropped (:func:`_drop_duplicates`): neighbouring tracks lie a
#: whole spacing apart.
DUPLICATE_RADIUS = 0.25
#: Relative widths of the interval below and above the estimate, along given centrelines
#: and along found lines: the 95th percentiles of what the usable development scenes
#: (seeds 7_050_000 + k, 7_060_000 + k; 315 scenes, each rendered with two assignments of
#: style and paint, docs/detection.md) needed on either side, so the nominal 90 %
#: interval holds there (``benchmarks/derive_coarse_interval.py``).
REL_GIVEN_LOW = 0.35
REL_GIVEN_HIGH = 0.93
REL_FOUND_LOW = 0.54
REL_FOUND_HIGH = 3.52
#: The same for the learned classifier along given centrelines (the default there): the
#: 95th percentiles (rounded up) over two renders weighing the same, the 315 development
#: scenes as the simulator renders them now, read with the sun's position as the
#: pipeline reads it from the metadata, and 367 yards of the second renderer
#: (``detect.model_synth``, seeds 7_400_000 + k, k < 400; no shadows, no sun); the
#: model was fitted on neither (``derive_coarse_interval.py --renders current,synth
#: --n-synth 400 --no-found``, estimator 4's evidence, 2026-12-04 10:19 UTC;
#: docs/detection.md). Until estimator "6" 0.32 / 1.65, derived for estimator 2
#: without the sun.
REL_LEARNED_LOW = 0.39
REL_LEARNED_HIGH = 0.91
#: The learned classifier is the default along given centrelines below this GSD
#: (metres): fitted at 3 m, better than the rules at 1.5 m on development scenes, worse
#: at 5 m (tracks 0.95 px apart; docs/detection.md).
LEARNED_MAX_GSD = 4.0
#: Where an estimate's empty-track colour came from: the image's own track samples, the
#: site's empty track from its other images (:class:`EmptyTrack`), that colour as it
#: is because the yard was taken as full (:func:`_site_mode`), or the image's own
#: samples in a yard that looks crowded (:data:`CROWDED_RATIO`: the noise unit held
#: down, the interval reaching the track's capacity).
EMPTY_FROM = ("image", "site", "site, full yard", "image, crowded")
#: The readings decided by the classifier fitted with dense yards too
#: (:func:`railwatch.detect.coarse_model.load_crowded_model`): a yard read alone that
#: looks crowded, and a yard taken as full against the site's empty track.
CROWDED_READS = ("image, crowded", "site, full yard")
#: A site's empty track (:func:`site_empty_track`) needs at least this many of its images.
SITE_MIN_IMAGES = 3
#: The empty-track colour found near the site's is used only if at least this share of
#: the track samples lie within ``INLIER`` noise units of it (otherwise the yard's own).
SITE_MIN_SUPPORT = 0.1
#: A yard whose track samples spread more than this many times the site's empty-track
#: noise, where the search near the expected colour drifts as wide, is taken as full:
#: its empty colour is the expected one (:func:`_site_mode`).
SITE_FULL_SPREAD = 2.0
#: ... or where the colour found lies further than this many of the site's noise units
#: from the expected one (a yard full of one kind of car: the search ends on the cars).
SITE_MAX_DRIFT = 3.0
#: ... but not where at least this share of the track samples lie within ``INLIER`` of
#: the site's noise units of the colour found near the expected one (its unit grown
#: wide only because lines lie on beds of several colours; session 49).
SITE_BARE_SHARE = 0.25
#: In a yard taken as full, the averaged offsets' spread on empty track when too few
#: samples are empty track to measure it: this times the noise unit (0.5-0.9 on the
#: simulator's yards, median 0.75).
FULL_SPREAD_RATIO = 0.75
#: With the site's empty track, each line's own empty colour is searched within at
#: most twice this many noise units of the yard's (:func:`_mode`), not the spread of all
#: samples, which the cars of a crowded yard inflate.
SITE_LINE_REACH = 3.0
#: Read alone, a line takes its own colour for a bed (:func:`_line_colour`) only if its
#: samples spread about it at least this share of the yard's noise unit (norms): a bed of
#: another colour is bare ballast as the yard's is, while in a crowded yard the yard's
#: colour is the cars' (half the samples or more), its unit their spread, blurred with
#: the ballast beside them, and a line of bare ballast lies far quieter (0.26-0.27 on
#: ``tests/test_detect_coarse.py``'s yards of dark cars; 0.34 and more, median 0.73, on
#: the sixteen simulated sites' 57 lines the rule took: 0.4 re-reads 2 of their 640
#: readings, neither within +-15 % before, both now gross errors; 0.5 re-read 7, within
#: +-15 % 65.6 -> 64.7 %; 0.3 none, but left a yard of dark cars drawn square to the
#: grid at 0; 2026-12-07, session 50).
ALONE_BED_SPREAD = 0.4
#: An image read without the site's empty track whose empty-track noise unit comes out
#: above this many times the noise along the lines (:func:`_along_noise`) is taken as
#: crowded: the unit is held to it, and the interval's upper end reaches the track's
#: capacity (every metre read occupied). On the simulator's 3 m development and
#: benchmark scenes (yards 1-29 % full) the ratio is 1.1-1.8; on the third renderer's
#: (59-77 % full, ``benchmarks/bench_third_renderer.py --coarse``) 0.7-4.3.
CROWDED_RATIO = 2.0
#: ... unless the colour along the lines changes over :data:`CROWDED_CAR_SCALE_M` less
#: than this share of its change over :data:`CROWDED_GROUND_SCALE_M` (robust spreads of
#: the differences, :func:`_lag_spread`): cars change it car by car, within about 15 m,
#: while ground in patches wider than the light field (:data:`ILLUMINATION_M`) under a
#: thin track keeps changing beyond that, and it is that ground, not cars, which widens
#: the noise unit (session 29: the second renderer's empty yards over patchy ground
#: read 16 and 80 cars as "crowded"). Chosen on the second renderer's yards k < 400
#: (its six lowest marked yards 0.36-0.54, all read too high as crowded) and the third
#: renderer's 3 m scenes k < 40 (0.59-0.88); checked on k = 400-799 and 100-159.
CROWDED_MIN_CAR_SHARE = 0.55
CROWDED_CAR_SCALE_M = 15.0
CROWDED_GROUND_SCALE_M = 60.0
#: Length (metres) of a string of cars that makes a "long train present".
LONG_TRAIN_M = 300.0
#: The long-train flag at :data:`PRESENCE_GSD` and coarser (:func:`longest_string_run`,
#: :data:`PRESENCE_VERSION` 2): colour offsets from the empty track are averaged over
#: windows of this length along each line (a string shifts every sample the same way,
#: noise averages out over a train's length)...
PRESENCE_WINDOW_M = 300.0
#: ... a line whose strongest window reaches this many robust spreads of the scene's
#: windows holds a string; its extent is where the offset along that window's direction,
#: averaged over PRESENCE_RUN_M, stays at least PRESENCE_RUN_SHARE of the window's,
#: gaps under PRESENCE_GAP_M closed (full width at half the string's contrast).
PRESENCE_MIN_SPREADS = 5.0
PRESENCE_RUN_M = 50.0
PRESENCE_RUN_SHARE = 0.5
PRESENCE_GAP_M = 30.0
#: The 25th percentile of |x| for x ~ N(0, s), over s: the windows' robust spread.
_Q25_HALF_NORMAL = 0.319
#: Height (metres) of the cars whose shadows :func:`_shadow_guard` reaches for: a
#: boxcar or tank car stands 4.3–4.7 m above the rail, an open wagon 3.0–3.5 m.
SHADOW_HEIGHT_M = 4.0
#: The share of a run's samples that must lie in a shadow's reach, dark, for the run to
#: be dropped as a shadow (:func:`_shadow_guard`).
SHADOW_RUN_SHARE = 0.8


@dataclass(frozen=True)
class CoarseEstimate:
    """Occupied track length and car equivalents with an interval."""

    car_equivalents: float
    low: float
    high: float
    occupied_length_m: float
    method: str  #: "length" or "presence"
    present: bool  #: a long train (>= LONG_TRAIN_M of occupied track) is visible
    directions_deg: tuple[float, ...] = ()
    #: Where the empty track's colour came from (:data:`EMPTY_FROM`).
    empty_from: str = "image"
    #: Length of track line read (metres of readable samples along the lines, given or
    #: found); 0 when no track could be read at all (no lines found in the image, or the
    #: given ones all under cloud or outside the data): the estimate of 0 is then no
    #: measurement of the yard. None where unknown (estimates summed by a caller).
    track_m: float | None = None
    #: At :data:`PRESENCE_GSD` and coarser, the length (metres) of the longest string
    #: found along one line (:func:`longest_string_run`), which ``present`` compares with
    #: :data:`LONG_TRAIN_M`; None finer than that.
    longest_string_m: float | None = None
    #: At :data:`PRESENCE_GSD` and coarser, how many windows of
    #: :data:`PRESENCE_WINDOW_M` along the lines could be read: 0 means no line showed a
    #: train's length of track in one piece (cloud, no data, short centrelines), so
    #: "no long train" says nothing; None finer than that or where unknown.
    long_windows: int | None = None
    #: At :data:`PRESENCE_GSD` and coarser with the site's other images
    #: (:func:`site_background`), the longest string along one line of this image's
    #: colours less theirs: ``present`` needs both it and ``longest_string_m`` at least
    #: :data:`LONG_TRAIN_M` (a bridge or a platform beside a line is in every image and
    #: cancels out). None without the site's images.
    site_string_m: float | None = None
    #: For a length estimate: the stretches of track read as occupied
    #: (:class:`OccupiedRun`, pixel coordinates of the image read); empty at
    #: :data:`PRESENCE_GSD` and coarser, where only the long-train flag is read.
    runs: tuple[OccupiedRun, ...] = ()
    #: Read from an image coarser than :data:`railwatch.imagery.quality.MAX_COUNT_GSD`
    #: (10 m): too coarse to count railcars, as ``railwatch process`` judges it (it
    #: stores such an image as unusable), and the long-train flag was measured on 10 m
    #: images only, so :func:`long_train_flag` gives none (since 2026-12-06, session 40:
    #: ``detect`` said "no long train" of 15 m and 30 m images).
    too_coarse: bool = False
    #: The image has no colour (one grey band, or three equal ones: :func:`is_grey`).
    #: Steps 4-6 read cars mostly by their colour against the empty track, so a grey
    #: image reads low (simulated 3 m yards of 40 cars along given centrelines, seeds
    #: 1-6, 2026-12-06: 0-27 car equivalents in grey, 35-46 in colour) and its interval
    #: does not allow for it; callers say so (since session 40, ``detect`` said "the yard
    #: looks crowded" of one).
    grey: bool = False


#: The most a pixel's red, green and blue may differ (8-bit, summed over the two
#: differences) for :func:`is_grey` to take it as grey (a grey image saved as RGB and
#: compressed with loss).
GREY_CHROMA = 3.0


def is_grey(image: np.ndarray, valid: np.ndarray | None = None) -> bool:
    """Has ``image`` (H, W, 3) no colour: 99 % of its ``valid`` pixels with red, green and
    blue within :data:`GREY_CHROMA` of each other (a single-band file read as three equal
    bands, or a grey picture saved as RGB)?"""
    img = image[..., :3].astype(np.float32)
    chroma = np.abs(img[..., 0] - img[..., 1]) + np.abs(img[..., 1] - img[..., 2])
    if valid is not None:
        chroma = chroma[valid.astype(bool)]
    return bool(chroma.size) and float(np.percentile(chroma, 99)) <= GREY_CHROMA


def grey_reason(image: np.ndarray, valid: np.ndarray | None, gsd: float) -> str | None:
    """Why a coarse image (1.5 m and coarser) of no colour (:func:`is_grey`) cannot be
    counted, or None: its occupied length and long-train flag read cars by their colour
    against the empty track, and a grey image reads low, its interval short of the truth
    (simulated 3 m yards of 40 cars: 0.0-27.3 car equivalents, four of six 0.0; 34.6-45.6
    in colour). ``railwatch process`` stores such a scene as unusable with this reason,
    never as a count (2026-12-06, session 40: one read 0 railcars, interval 0-198, a
    drop from the colour images beside it)."""
    if method_for_gsd(gsd) == "objects" or not is_grey(image, valid):
        return None
    return (
        f"no colour (one grey band, or three equal ones) at {gsd:.3g} m: cars this coarse are "
        "read by their colour against the empty track, and a grey image reads too few (on "
        "simulated 3 m yards of 40 cars, 0 to 27 car equivalents); ingest a colour product "
        "of the scene"
    )


@dataclass(frozen=True)
class EmptyTrack:
    """A site's empty track as one image of it shows it (:func:`empty_track`): its
    colour in the invariant colour space of step 2 (log luminance, chroma over
    luminance) *relative to the median colour of the image's readable pixels*, and the
    noise unit of empty track in that image. The offset from the image's own median
    carries across dates (sun and haze scale the whole image alike) where the colour
    itself does not; the median over a site's images (:func:`site_empty_track`) is the
    empty track's even when some of them were crowded."""

    offset: tuple[float, float, float]
    noise: tuple[float, float, float]
    #: How many images it was taken from.
    images: int = 1


def method_for_gsd(gsd: float) -> str:
    """``"objects"`` below 1.5 m, ``"length"`` below 10 m, else ``"presence"``."""
    if not gsd > 0:
        raise InputError(f"ground sample distance must be positive, got {gsd}")
    if gsd < LENGTH_GSD:
        return "objects"
    return "length" if gsd < PRESENCE_GSD else "presence"


def _grey_and_colour(image: np.ndarray) -> np.ndarray:
    """Float32 (H, W, 3) in an opponent colour space (luminance, two chroma axes)."""
    img = image.astype(np.float32)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    lum = 0.299 * r + 0.587 * g + 0.114 * b
    return np.stack([lum, (r - g) * 0.7, (r + g - 2 * b) * 0.35], axis=-1)


def _invariant_colour(image: np.ndarray) -> np.ndarray:
    """Float32 (H, W, 3): log luminance and two chroma axes divided by luminance, so a
    brighter or darker patch of the same ground (sun, thin shade, dirt) changes the first
    channel by a constant and the others not at all. Units: about 1 per 2.5 % of
    luminance."""
    img = image.astype(np.float32)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    lum = 0.299 * r + 0.587 * g + 0.114 * b + 10.0
    return np.stack(
        [40.0 * np.log(lum), 70.0 * (r - g) / lum, 35.0 * (r + g - 2 * b) / lum], axis=-1
    ).astype(np.float32)


def dominant_directions(
    grey: np.ndarray, valid: np.ndarray | None = None, max_directions: int = 3
) -> tuple[float, ...]:
    """Dominant line directions (degrees in [0, 180), image axes) of ``grey``."""
    g = grey.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), 1.5)
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), 1.5)
    jxy = cv2.GaussianBlur(gx * gy, (0, 0), 1.5)
    trace = jxx + jyy
    diff = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2)
    coherence = np.where(trace > 1e-6, diff / np.maximum(trace, 1e-6), 0.0)
    theta = 0.5 * np.degrees(np.arctan2(2 * jxy, jxx - jyy))  # gradient direction
    line = (theta + 90.0) % 180.0
    weight = coherence * np.sqrt(trace)
    if valid is not None:
        weight = weight * valid
    hist, _ = np.histogram(line, bins=180, range=(0.0, 180.0), weights=weight)
    if hist.sum() <= 0:
        return ()
    # circular smoothing over +-3 degrees
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    padded = np.concatenate([hist[-6:], hist, hist[:6]])
    smooth = np.convolve(padded, kernel, mode="same")[6:-6]
    # axis-aligned pixel grids bias 0/90: subtract a flat floor (median) before picking peaks
    floor = float(np.median(smooth))
    peaks: list[float] = []
    work = smooth - floor
    top = work.max()
    for _ in range(max_directions):
        k = int(np.argmax(work))
        if work[k] <= 0.2 * top:
            break
        peaks.append(float(k) + 0.5)
        for d in range(-15, 16):
            work[(k + d) % 180] = -np.inf
    return tuple(peaks)


def _track_directions(tracks: BaseGeometry) -> tuple[float, ...]:
    """Main directions (degrees, image axes) of track lines, weighted by length."""
    weights = np.zeros(180)
    for coords in _polylines(tracks):
        d = np.diff(coords, axis=0)
        ang = np.degrees(np.arctan2(d[:, 1], d[:, 0])) % 180.0
        np.add.at(weights, ang.astype(int) % 180, np.hypot(d[:, 0], d[:, 1]))
    out: list[float] = []
    top = float(weights.max()) if weights.size else 0.0
    work = weights.copy()
    while top > 0 and len(out) < 4:
        k = int(np.argmax(work))
        if work[k] < 0.1 * top:
            break
        out.append(k + 0.5)
        for dd in range(-10, 11):
            work[(k + dd) % 180] = 0.0
    return tuple(out)


def _rotate(arr: np.ndarray, angle_deg: float, interp: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotate so that direction ``angle_deg`` (image axes, y down) becomes +x; returns the
    rotated array and the 2x3 matrix (expanded canvas, nothing cut)."""
    h, w = arr.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle_deg, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = math.ceil(h * sin + w * cos), math.ceil(h * cos + w * sin)
    m[0, 2] += nw / 2.0 - w / 2.0
    m[1, 2] += nh / 2.0 - h / 2.0
    out = cv2.warpAffine(arr, m, (nw, nh), flags=interp, borderValue=0)
    return out, m


def _polylines(tracks: BaseGeometry) -> list[np.ndarray]:
    """Vertex arrays ``(M, 2)`` of the lines of ``tracks`` (pixel coordinates; lines
    within a geometry collection too); an :class:`InputError` for any other geometry
    (a polygon or a point: until 2026-12-06, session 40, an internal shapely error from
    deep inside the estimate, which has no coordinate sequence for such a geometry)."""
    out = []
    for line in getattr(tracks, "geoms", [tracks]):
        if line.is_empty:
            continue
        if line.geom_type in ("MultiLineString", "GeometryCollection"):
            out.extend(_polylines(line))
            continue
        if line.geom_type not in ("LineString", "LinearRing"):
            raise InputError(
                f"track centrelines must be lines (LineString or MultiLineString), not a "
                f"{line.geom_type}: give the centrelines of the yard's tracks"
            )
        coords = np.asarray(line.coords, dtype=np.float64)
        if coords.ndim == 2 and len(coords) >= 2:
            out.append(coords[:, :2])
    return out


def _resample(vertices: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step`` along a polyline and the unit tangent at each."""
    seg = np.diff(vertices, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    keep = seg_len > 1e-9
    if not keep.any():
        return np.zeros((0, 2)), np.zeros((0, 2))
    vertices = np.vstack([vertices[:1], vertices[1:][keep]])
    seg, seg_len = seg[keep], seg_len[keep]
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    d = np.arange(0.0, cum[-1], step)
    pts = np.stack([np.interp(d, cum, vertices[:, 0]), np.interp(d, cum, vertices[:, 1])], 1)
    idx = np.clip(np.searchsorted(cum, d, side="right") - 1, 0, len(seg) - 1)
    tang = seg[idx] / seg_len[idx, None]
    return pts, tang


def _sample(img: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``img`` at pixel-area coordinates ``pts`` (x, y)."""
    chunk = 30_000  # OpenCV maps are at most 32767 wide
    if len(pts) > chunk:
        return np.concatenate([_sample(img, pts[i : i + chunk]) for i in range(0, len(pts), chunk)])
    mx = (pts[:, 0] - 0.5).astype(np.float32).reshape(1, -1)
    my = (pts[:, 1] - 0.5).astype(np.float32).reshape(1, -1)
    out = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(out[0])


def _corridor_lines(
    feats: np.ndarray, valid: np.ndarray, gsd: float, dirs: tuple[float, ...]
) -> list[np.ndarray]:
    """Track-like lines found in the image: rows of the track corridor along each
    dominant direction, one track spacing apart (see module docs)."""
    g = feats[..., 0]
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), 1.0)
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), 1.0)
    jxy = cv2.GaussianBlur(gx * gy, (0, 0), 1.0)
    tr = jxx + jyy
    coh = np.where(tr > 1e-6, np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / np.maximum(tr, 1e-6), 0)
    ori = (0.5 * np.degrees(np.arctan2(2 * jxy, jxx - jyy)) + 90.0) % 180.0
    strength = np.sqrt(tr)
    strong = strength > np.percentile(strength[valid], 70) if valid.any() else strength > 0
    lines: list[np.ndarray] = []
    min_run = max(5, round(90.0 / gsd))
    row_step = max(1, round(TRACK_SPACING_M / gsd))
    for ang in dirs:
        off = np.abs((ori - ang + 90.0) % 180.0 - 90.0)
        aligned = ((coh > 0.5) & (off < 10.0) & strong & valid).astype(np.uint8)
        rot, m = _rotate(aligned, ang, cv2.INTER_NEAREST)
        rect = cv2.getStructuringElement
        rot = cv2.morphologyEx(
            rot, cv2.MORPH_CLOSE, rect(cv2.MORPH_RECT, (max(3, round(15 / gsd)), 1))
        )
        rot = cv2.morphologyEx(rot, cv2.MORPH_OPEN, rect(cv2.MORPH_RECT, (min_run, 1)))
        rot = cv2.morphologyEx(
            rot, cv2.MORPH_CLOSE, rect(cv2.MORPH_RECT, (1, max(3, round(25 / gsd))))
        )
        rot = cv2.erode(rot, rect(cv2.MORPH_RECT, (1, 3)))
        inv = cv2.invertAffineTransform(m)
        for r in range(0, rot.shape[0], row_step):
            row = np.concatenate([[0], rot[r].astype(np.int8), [0]])
            d = np.diff(row)
            for c0, c1 in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0], strict=True):
                if c1 - c0 < min_run:
                    continue
                ends = np.array([[c0 + 0.5, r + 0.5, 1.0], [c1 - 0.5, r + 0.5, 1.0]])
                lines.append(ends @ inv.T)
    return lines


def _mode(
    samples: np.ndarray, noise: np.ndarray, start: np.ndarray | None = None, iterations: int = 8
) -> np.ndarray:
    """The densest colour near ``start`` (default: the median), by mean shift with a
    radius of 2 noise units: the empty track's colour even where cars of various colours
    fill most of a line."""
    centre = np.median(samples, axis=0) if start is None else np.asarray(start, np.float64)
    scaled = samples / noise
    for _ in range(iterations):
        near = ((scaled - centre / noise) ** 2).sum(axis=1) <= 4.0
        if near.sum() < 5:
            break
        new = samples[near].mean(axis=0)
        if np.allclose(new, centre, atol=0.05):
            break
        centre = new
    return np.asarray(centre)


@dataclass(frozen=True)
class LineProfile:
    """One track line as sampled (diagnostics): points every ``step`` pixels along it,
    their unit tangents, data present, the empty-track reference colour at each sample,
    the car evidence (robust noise units, averaged over half a car) and the samples
    counted as occupied."""

    points: np.ndarray
    tangents: np.ndarray
    valid: np.ndarray
    reference: np.ndarray
    evidence: np.ndarray
    occupied: np.ndarray


def _splat(
    shape: tuple[int, int], pts: np.ndarray, values: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sums of ``values * weights`` and of ``weights`` per pixel (nearest pixel)."""
    h, w = shape
    col = np.clip(pts[:, 0].astype(np.int64), 0, w - 1)
    row = np.clip(pts[:, 1].astype(np.int64), 0, h - 1)
    idx = row * w + col
    den = np.bincount(idx, weights=weights, minlength=h * w).reshape(h, w)
    num = np.stack(
        [
            np.bincount(idx, weights=values[:, c] * weights, minlength=h * w).reshape(h, w)
            for c in range(values.shape[1])
        ],
        axis=-1,
    )
    return num.astype(np.float32), den.astype(np.float32)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index ranges of the runs of True in ``mask``."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0], strict=True))


def _clean_runs(occ: np.ndarray, min_run: int, max_gap: int) -> np.ndarray:
    """Close gaps shorter than ``max_gap`` samples, then drop runs shorter than
    ``min_run`` samples (an occupied string is at least most of one car long)."""
    out = occ.copy()
    runs = _runs(out)
    for (_, e0), (s1, _) in itertools.pairwise(runs):
        if s1 - e0 < max_gap:
            out[e0:s1] = True
    for s0, e0 in _runs(out):
        if e0 - s0 < min_run:
            out[s0:e0] = False
    return out


def _drop_duplicates(
    profiles: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    gsd: float,
    step: float,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``profiles`` without the stretches of track drawn twice (the same centreline twice
    in the file, pieces that overlap where they join, a line that doubles back on
    itself): runs of at least a conventional car's length of samples lying within
    :data:`DUPLICATE_RADIUS` track spacings of an earlier sample running the same way
    (of another line, or of the same line further back along it) are taken out, and
    what is left of a line on either side of one is read as a line of its own (fewer
    than 4 samples: left out). Lines that only touch end to end are left as they are.
    Until 2026-12-06 (session 40) each copy was read: a file with every centreline twice
    read 81 car equivalents (interval 46-157) for 40 cars, 47 once."""
    if not profiles:
        return profiles
    from scipy.spatial import cKDTree

    pts = np.concatenate([p for p, _, _, _ in profiles])
    ang = np.concatenate(
        [np.degrees(np.arctan2(t[:, 1], t[:, 0])) % 180.0 for _, t, _, _ in profiles]
    )
    line = np.concatenate([np.full(len(p), i) for i, (p, _, _, _) in enumerate(profiles)])
    radius = DUPLICATE_RADIUS * TRACK_SPACING_M / gsd
    pairs = cKDTree(pts).query_pairs(radius, output_type="ndarray")
    if len(pairs) == 0:
        return profiles
    a, b = pairs.min(axis=1), pairs.max(axis=1)  # b is the later sample
    same_way = np.abs((ang[a] - ang[b] + 90.0) % 180.0 - 90.0) <= 3.0
    # along one line, only samples far apart along it (not its next ones)
    apart = (line[a] != line[b]) | ((b - a) * step > 4.0 * radius)
    twice = np.zeros(len(pts), dtype=bool)
    twice[b[same_way & apart]] = True
    min_run = CONVENTIONAL_CAR_M / gsd / step
    out = []
    start = 0
    for p, tg, f, o in profiles:
        drop = np.zeros(len(p), dtype=bool)
        for r0, r1 in _runs(twice[start : start + len(p)]):
            if r1 - r0 >= min_run:
                drop[r0:r1] = True
        start += len(p)
        if not drop.any():
            out.append((p, tg, f, o))
            continue
        for k0, k1 in _runs(~drop):
            if k1 - k0 >= 4 and o[k0:k1].sum() >= 4:
                out.append((p[k0:k1], tg[k0:k1], f[k0:k1], o[k0:k1].copy()))
    return out


def _drop_crossings(
    profiles: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], spacing_px: float
) -> None:
    """Where two lines cross or merge at an angle (ladders, switches), the samples of the
    line that is further from the main direction are dropped (``ok`` set False in
    place): a car standing there is counted on the other line only, and a ladder
    crossing a bundle is not read as a string of cars."""
    if len(profiles) < 2:
        return
    from scipy.spatial import cKDTree

    pts = np.concatenate([p for p, _, _, _ in profiles])
    ang = np.concatenate(
        [np.degrees(np.arctan2(t[:, 1], t[:, 0])) % 180.0 for _, t, _, _ in profiles]
    )
    line = np.concatenate([np.full(len(p), i) for i, (p, _, _, _) in enumerate(profiles)])
    ok = np.concatenate([o for _, _, _, o in profiles])
    hist = np.bincount(ang[ok].astype(np.int64) % 180, minlength=180)
    main = float(np.argmax(hist)) + 0.5
    dev = np.abs((ang - main + 90.0) % 180.0 - 90.0)
    pairs = cKDTree(pts).query_pairs(CROSSING_RADIUS * spacing_px, output_type="ndarray")
    if len(pairs) == 0:
        return
    a, b = pairs[:, 0], pairs[:, 1]
    keep = line[a] != line[b]
    a, b = a[keep], b[keep]
    cross = np.abs((ang[a] - ang[b] + 90.0) % 180.0 - 90.0) > 3.0
    a, b = a[cross], b[cross]
    # drop the sample of the line further from the main direction (ties: the later line)
    a_worse = (dev[a] > dev[b]) | ((dev[a] == dev[b]) & (line[a] > line[b]))
    drop = np.zeros(len(pts), dtype=bool)
    drop[a[a_worse]] = True
    drop[b[~a_worse]] = True
    start = 0
    for _, _, _, o in profiles:
        o &= ~drop[start : start + len(o)]
        start += len(o)


def _neighbours(
    profiles: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], spacing_px: float
) -> list[np.ndarray]:
    """For every sample (all lines concatenated), the nearest sample of another line at
    each of ``NEIGHBOUR_AT`` track spacings to its left and to its right (one index
    array per distance and side, -1 where there is none): the neighbouring tracks at
    the same along-track position."""
    from scipy.spatial import cKDTree

    pts = np.concatenate([p for p, _, _, _ in profiles])
    tang = np.concatenate([t for _, t, _, _ in profiles])
    line = np.concatenate([np.full(len(p), i) for i, (p, _, _, _) in enumerate(profiles)])
    ok = np.concatenate([o for _, _, _, o in profiles])
    normal = np.stack([-tang[:, 1], tang[:, 0]], axis=1)
    tree = cKDTree(pts)
    out = []
    for dist in NEIGHBOUR_AT:
        for sgn in (1.0, -1.0):
            _, j = tree.query(
                pts + sgn * dist * spacing_px * normal,
                distance_upper_bound=NEIGHBOUR_RADIUS * spacing_px,
            )
            has = j < len(pts)
            jj = np.where(has, j, 0)
            has &= ok[jj] & (line[jj] != line)
            out.append(np.where(has, jj, -1))
    return out


@dataclass
class _Evidence:
    """The car evidence of every sample of every line (all lines concatenated; ``bounds``
    splits them): what both the hand-set rules and the learned classifier decide on."""

    profiles: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    bounds: np.ndarray  #: line i is samples bounds[i]:bounds[i + 1]
    reference: list[np.ndarray]  #: empty-track colour at each sample, per line
    resid: np.ndarray  #: (N, 3) offset from the reference, 0 where no data
    spread: np.ndarray  #: (3,) robust spread of the half-car averaged offsets on empty track
    noise: np.ndarray  #: (3,) robust spread of single offsets on empty track
    x: np.ndarray  #: (N, 3) half-car averaged offset / spread
    ev: np.ndarray  #: (N,) its length (evidence, noise units)
    need: np.ndarray  #: (N,) evidence the side rule asks for (from the neighbours)
    neighbours: list[np.ndarray]  #: see :func:`_neighbours`
    dark: np.ndarray  #: (N,) colourless darkening
    ok: np.ndarray  #: (N,) data present and not dropped at a crossing
    #: Where the empty-track colour came from (:data:`EMPTY_FROM`).
    empty_from: str = "image"


def _line_average(values: np.ndarray, bounds: np.ndarray, k: int) -> np.ndarray:
    """Running mean of ``values`` (N, C) over ``k`` samples within each line."""
    kernel = np.ones(k) / k
    out = np.zeros_like(values)
    first = (k - 1) // 2  # centred as np.convolve(mode="same"), also on lines shorter than k
    for a, b in itertools.pairwise(bounds):
        for c in range(values.shape[1]):
            out[a:b, c] = np.convolve(values[a:b, c], kernel, mode="full")[first : first + b - a]
    return out


def _empty_noise(resid: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """The robust spread (per colour feature) of the offsets ``resid`` (N, 3) of empty
    track from its reference colour. The median absolute offset of *all* samples is
    inflated by the cars: in a yard a third full it is about 1.8 times the ballast's, and
    every car's evidence shrinks by as much. So the spread is estimated again from the
    samples within ``INLIER`` units of their reference only, corrected for that
    truncation (``INLIER_MAD``), until it settles: cars, far from the reference, drop
    out; in an empty or sparse yard it hardly moves. With cars at half the samples or
    more, the first estimate is the cars' and stays there; ``start`` (the site's empty
    track, :class:`EmptyTrack`) then begins the search from the ballast's spread."""
    if start is None:
        noise = np.maximum(np.median(np.abs(resid), axis=0) * 1.4826, NOISE_FLOOR)
    else:
        noise = np.maximum(np.asarray(start, np.float64), NOISE_FLOOR)
    for _ in range(NOISE_ITERATIONS):
        inl = np.sqrt(((resid / noise) ** 2).sum(axis=1)) <= INLIER
        if inl.sum() < 20:
            break
        new = np.maximum(np.median(np.abs(resid[inl]), axis=0) * 1.4826 / INLIER_MAD, NOISE_FLOOR)
        settled = np.allclose(new, noise, rtol=0.01)
        noise = new
        if settled:
            break
    return np.asarray(noise)


def _profiles(
    feats: np.ndarray, valid: np.ndarray, lines: list[np.ndarray], gsd: float, step: float
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Step 2 of the module docs: each line's samples (points, tangents, colours, data
    present and not dropped at a crossing); lines with fewer than 4 samples left out."""
    h, w = valid.shape
    profiles = []
    for verts in lines:
        pts, tang = _resample(verts, step)
        if len(pts) < 4:
            continue
        inside = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
        ok = inside & (_sample(valid.astype(np.float32), pts) > 0.5)
        if ok.sum() < 4:
            continue
        profiles.append((pts, tang, _sample(feats, pts).astype(np.float64), ok))
    profiles = _drop_duplicates(profiles, gsd, step)
    _drop_crossings(profiles, TRACK_SPACING_M / gsd)
    return profiles


def _line_colour(
    samples: np.ndarray,
    noise: np.ndarray,
    empty: np.ndarray,
    site_noise: np.ndarray | None,
    *,
    alone: bool = False,
) -> np.ndarray:
    """A line's own empty-track colour (its ballast and sleepers): its densest colour
    nearest to the yard's ``empty`` (mean shift from it with the search unit ``noise``).
    Given an empty-track noise unit ``site_noise`` (with the site's empty track, the unit
    measured about the site's expected colour in this image, at most twice the site's
    own; read alone, the yard's own about ``empty``: :func:`_evidence`), where
    that search holds on a colour that under :data:`SITE_MIN_SUPPORT` of the line's
    ``samples`` lie within :data:`INLIER` units of, the line's own densest colour
    instead, if it lies within twice :data:`SITE_LINE_REACH` units of ``empty``: a line
    whose bed is another colour (concrete sleepers among wooden ones, a main line's
    clean ballast) and whose samples all sit on it. The mean shift from ``empty`` finds
    it only where at least 5 samples of the line lie within its first radius, which a
    fraction of a pixel decides: a line 4.7 units off read as one string end to end
    (13.8 -> 61.9 car equivalents for 13 cars; session 49). A line full end to end of
    one kind of car (17 units and more away for white, black or red cars) keeps the
    yard's colour; one of cars within reach of the yard's colour (faint cars nearly the
    ballast's colour) is taken for a bed and not read. ``alone`` (read alone, the unit the
    yard's own): the line's own colour only where its samples spread about it at least
    :data:`ALONE_BED_SPREAD` of that unit, as a bed of bare ballast does; in a crowded
    yard the yard's colour is the cars' and a line of bare ballast, far quieter, keeps
    it (taken for a bed, a yard of dark cars three lines of four full read 0 for 111.4
    car equivalents). ``site_noise`` None (read alone along found lines, or at 10 m and
    coarser): the mean shift alone."""
    colour = _mode(samples, noise, start=empty)
    if site_noise is None:
        return colour
    unit = np.maximum(np.asarray(site_noise, np.float64), NOISE_FLOOR)

    def support(c: np.ndarray) -> float:
        return float((np.sqrt((((samples - c) / unit) ** 2).sum(axis=1)) <= INLIER).mean())

    held = support(colour)
    if held >= SITE_MIN_SUPPORT:
        return colour
    own = _mode(samples, noise, start=np.median(samples, axis=0))
    near = float(np.linalg.norm((own - empty) / unit)) <= 2.0 * SITE_LINE_REACH
    if alone and near:
        spread = float(np.linalg.norm(_empty_noise(samples - own)))
        near = spread >= ALONE_BED_SPREAD * float(np.linalg.norm(unit))
    return own if near and support(own) > held else colour


def _yard_mode(pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The densest colour of the track samples ``pooled`` (N, 3), searched with the
    spread of all samples as the noise unit, and that spread."""
    med = np.median(pooled, axis=0)
    noise = np.maximum(np.median(np.abs(pooled - med), axis=0) * 1.4826, NOISE_FLOOR)
    return _mode(pooled, noise), noise


def _site_mode(
    pooled: np.ndarray, site: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """The empty-track colour and noise unit of a yard, given the colour expected from
    the site's other images (``site``: that colour in this image and the noise unit
    there, from :class:`EmptyTrack`), and whether the yard was taken as full:

    - the densest colour of the track samples ``pooled`` nearest to the expected one,
      searched with the noise of empty track, and that noise, when it lies within
      ``SITE_MAX_DRIFT`` noise units of the expected colour, its noise within
      ``SITE_FULL_SPREAD`` times the site's, and at least ``SITE_MIN_SUPPORT`` of the
      samples within ``INLIER`` units of it;
    - otherwise, where the search ended within ``SITE_MAX_DRIFT`` but its noise went
      wide, and at least ``SITE_BARE_SHARE`` of the samples lie within ``INLIER`` of the
      site's noise units of the colour found, that colour and the site's noise unit,
      not full: lines on beds of several colours widened the unit, and a yard with that
      much bare ballast is not full (session 49: half a pixel took a December yard of
      39 car equivalents for full, 241.7);
    - otherwise, when the samples spread more than ``SITE_FULL_SPREAD`` times the site's
      noise, the expected colour and noise as they are, and True: a yard so full that
      hardly any sample shows ballast (the search then ends on the cars);
    - otherwise ``None`` (the expectation is off: a snowfall, a new bed of ballast) and
      the yard's own densest colour is used, as without a site.
    """
    expected = np.asarray(site[0], np.float64)
    site_noise = np.maximum(np.asarray(site[1], np.float64), NOISE_FLOOR)
    colour, noise = expected, site_noise
    for _ in range(2):
        colour = _mode(pooled, noise, start=colour)
        noise = _empty_noise(pooled - colour, start=noise)
    near = np.sqrt((((pooled - colour) / noise) ** 2).sum(axis=1)) <= INLIER
    wide = bool((noise > SITE_FULL_SPREAD * site_noise).any())
    drift = float(np.sqrt((((colour - expected) / site_noise) ** 2).sum()))
    if not wide and drift <= SITE_MAX_DRIFT and near.mean() >= SITE_MIN_SUPPORT:
        return colour, noise, False
    bare = np.sqrt((((pooled - colour) / site_noise) ** 2).sum(axis=1)) <= INLIER
    if wide and drift <= SITE_MAX_DRIFT and bare.mean() >= SITE_BARE_SHARE:
        # the search found the expected colour but its noise unit grew wide, while a good
        # share of the samples is that ballast within the site's own unit: the yard's
        # lines lie on beds of several colours (wooden and concrete sleepers, a main
        # line's clean ballast), which widen the unit, not cars; each line then finds its
        # own colour (:func:`_line_colour`) and the unit is measured about it
        return colour, site_noise, False
    if _spread(pooled) > SITE_FULL_SPREAD * float(np.linalg.norm(site_noise)):
        # the search drifted far from the expected colour or into a spread far wider
        # than empty track's, and the track samples themselves spread that wide: a yard
        # so full that hardly any sample shows bare ballast; its empty colour is the one
        # the site's images predict
        return expected, site_noise, True
    return None


def _along_noise(
    profiles: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
) -> np.ndarray:
    """The robust spread (per colour feature) of one sample's colour less the colour
    one pixel further along its line (two samples), over every line, divided by
    sqrt(2): the noise of a single sample where the colour does not change within a
    pixel. Empty ballast and the inside of a car both qualify, so when cars of many
    colours fill the lines it grows far less than the spread of the samples about the
    empty-track colour (in the unit test's yard three quarters full, 5 times against 17:
    only pairs across a car's end or a neighbouring line's change differ)."""
    return np.maximum(_lag_spread(profiles, 2), NOISE_FLOOR)


def _lag_spread(
    profiles: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], lag: int
) -> np.ndarray:
    """The robust spread (per colour feature) of one sample's colour less the colour
    ``lag`` samples further along its line, over every line, divided by sqrt(2)
    (infinite with fewer than 20 such pairs)."""
    diffs = [
        f[lag:][ok[lag:] & ok[:-lag]] - f[:-lag][ok[lag:] & ok[:-lag]]
        for _, _, f, ok in profiles
        if len(f) > lag
    ]
    d = np.concatenate(diffs) if diffs else np.zeros((0, 3))
    if len(d) < 20:
        return np.full(3, np.inf)
    return np.asarray(np.median(np.abs(d), axis=0) * 1.4826 / math.sqrt(2))


def _patchy_ground(
    profiles: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    gsd: float,
    step: float,
) -> bool:
    """Whether the colour along the lines changes mostly beyond a car's length: less
    than :data:`CROWDED_MIN_CAR_SHARE` of its change over
    :data:`CROWDED_GROUND_SCALE_M` happens within :data:`CROWDED_CAR_SCALE_M` (ground
    in wide patches under the track, not cars)."""
    car = np.linalg.norm(_lag_spread(profiles, max(1, round(CROWDED_CAR_SCALE_M / gsd / step))))
    ground = np.linalg.norm(
        _lag_spread(profiles, max(2, round(CROWDED_GROUND_SCALE_M / gsd / step)))
    )
    return bool(np.isfinite(car) and np.isfinite(ground) and car < CROWDED_MIN_CAR_SHARE * ground)


def _spread(samples: np.ndarray) -> float:
    """Robust spread (norm of the per-feature MADs, scaled) of ``samples`` (N, 3)."""
    med = np.median(samples, axis=0)
    return float(np.linalg.norm(np.median(np.abs(samples - med), axis=0) * 1.4826))


def _local_reference(
    profiles: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    shape: tuple[int, int],
    base: list[np.ndarray],
    noise: np.ndarray,
    start: np.ndarray | None,
    gsd: float,
    passes: int,
    cap: np.ndarray | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Step 3 of the module docs after the colours' search: ``passes`` rounds of the
    empty-track noise unit (:func:`_empty_noise` from ``start``; held to the length of
    ``cap`` when given) and of the smooth 2-D field of the empty-track samples' offsets
    from their line's colour ``base`` (normalised convolution over ``ILLUMINATION_M``),
    so a lit or shaded patch of ballast is not a car. Returns each line's colour, the
    field at its samples, and the noise unit."""
    h, w = shape
    base = list(base)
    sigma = ILLUMINATION_M / gsd
    field = [np.zeros_like(f) for _, _, f, _ in profiles]
    for _ in range(passes):
        resid = [f - b - fl for (_, _, f, _), b, fl in zip(profiles, base, field, strict=True)]
        all_r = np.concatenate([r[ok] for r, (_, _, _, ok) in zip(resid, profiles, strict=True)])
        noise = _empty_noise(all_r, start)
        if cap is not None and np.linalg.norm(noise) > np.linalg.norm(cap):
            noise = noise * (np.linalg.norm(cap) / np.linalg.norm(noise))
        num = np.zeros((h, w, profiles[0][2].shape[1]), np.float32)
        den = np.zeros((h, w), np.float32)
        for i, (pts, _, f, ok) in enumerate(profiles):
            r = f - base[i]
            inl = ok & (np.sqrt((((resid[i]) / noise) ** 2).sum(axis=1)) <= INLIER)
            if inl.any():
                n_, d_ = _splat((h, w), pts[inl], r[inl], np.ones(int(inl.sum())))
                num += n_
                den += d_
        num_s = np.asarray(cv2.GaussianBlur(num, (0, 0), sigma), np.float32)
        den_s = np.asarray(cv2.GaussianBlur(den, (0, 0), sigma), np.float32)
        fld = num_s / np.maximum(den_s, 1e-3)[..., None]
        fld[den_s < 1e-3] = 0.0
        for i, (pts, _, f, ok) in enumerate(profiles):
            field[i] = _sample(fld, pts).astype(np.float64)
            r = f - field[i]
            near = ok & (np.sqrt((((r - base[i]) / noise) ** 2).sum(axis=1)) <= INLIER)
            if near.sum() > 20:
                base[i] = r[near].mean(axis=0)
    return base, field, np.asarray(noise)


def _evidence(
    feats: np.ndarray,
    valid: np.ndarray,
    lines: list[np.ndarray],
    gsd: float,
    step: float,
    site: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    given: bool,
) -> _Evidence | None:
    """Steps 2-4 of the module docs: profiles, local empty-track reference, evidence, and
    the side rule's requirement from the neighbouring lines. ``site`` is the empty
    track's colour and noise unit expected from the site's other images, in this image
    (from :class:`EmptyTrack`); ``given``: the ``lines`` are the site's track
    centrelines, not lines found in the image."""
    h, w = valid.shape
    profiles = _profiles(feats, valid, lines, gsd, step)
    if not profiles:
        return None
    pooled = np.concatenate([f[ok] for _, _, f, ok in profiles])
    # 1. the empty track's colour: the densest colour of all track samples (or, given
    #    the site's empty track, the densest colour nearest to it), then each line's own
    #    densest colour nearest to it (its ballast and sleepers)
    empty, noise = _yard_mode(pooled)
    found = _site_mode(pooled, site) if site is not None else None
    start = None
    unit: np.ndarray | None = None
    full = False
    if found is not None:
        empty, start, full = found
        # each line's search reaches at most SITE_LINE_REACH noise units of empty
        # track (twice that as a radius): a line over another bed of ballast still finds
        # its own colour, a line full of one kind of car from end to end does not walk
        # into the cars' colour (the spread of all samples does, in a crowded yard)
        noise = np.minimum(noise, SITE_LINE_REACH * start)
        unit = start
    elif given and gsd < PRESENCE_GSD:
        # read alone, whether a line shows the yard's colour is judged in the yard's own
        # empty-track noise unit about that colour (what :func:`empty_track` gives the
        # site's empty track from each image): a line on a bed of another colour, whose
        # samples a fraction of a pixel kept from the yard's colour, was read as one
        # string end to end (session 50). Not along lines found in the image, which
        # need not lie on a track's bed (there it changed 35 of the benchmark's 52
        # scenes, 34 lower, no more of them within +-15 %), nor for the long-train flag;
        # nor, in a crowded yard whose colour is the cars', a line of bare ballast
        # (:data:`ALONE_BED_SPREAD`)
        unit = _empty_noise(pooled - empty)
    alone = found is None
    base = [
        _line_colour(f[ok], noise, empty, unit, alone=alone) if ok.sum() > 20 else empty
        for _, _, f, ok in profiles
    ]
    passes = 3
    if full and start is not None:
        # a full yard: no line shows its own ballast, nor any patch the light on it
        base = [empty] * len(profiles)
        noise = start
        passes = 0
    # 2. illumination and dirt, and the noise unit (:func:`_local_reference`)
    first = base
    base, field, noise = _local_reference(profiles, (h, w), first, noise, start, gsd, passes)
    # 2b. a crowded yard read alone: with cars at most of the samples, the samples near
    #    the densest colour are ballast blurred with the cars beside it (neighbouring
    #    lines are 1.6 px apart at 3 m) and cars of a similar colour, and their spread,
    #    the noise unit, grows with them until real cars no longer stand out (a
    #    third-renderer yard three-quarters full read 0 cars of 324). Where it ends above
    #    CROWDED_RATIO times the noise along the lines, which cars inflate far less, the
    #    passes are run again with the unit held there, and the estimate is marked (its
    #    interval then reaches the track's capacity)
    crowded = False
    if found is None and passes and gsd < PRESENCE_GSD:
        cap = CROWDED_RATIO * _along_noise(profiles)
        if np.linalg.norm(noise) > np.linalg.norm(cap) and not _patchy_ground(profiles, gsd, step):
            crowded = True
            base, field, noise = _local_reference(
                profiles, (h, w), first, noise, start, gsd, passes, cap=cap
            )
    # 3. evidence: the offset from the local empty-track colour, averaged over half a
    #    car (a car shifts every sample the same way, noise averages out), in units of
    #    the averaged offsets' robust spread on empty track
    bounds = np.cumsum([0, *[len(p) for p, _, _, _ in profiles]])
    ok_all = np.concatenate([ok for _, _, _, ok in profiles])
    reference = [b + fl for b, fl in zip(base, field, strict=True)]
    resid_all = np.concatenate([f - r for (_, _, f, _), r in zip(profiles, reference, strict=True)])
    resid_all[~ok_all] = 0.0
    k = max(1, round(0.5 * CONVENTIONAL_CAR_M / gsd / step))
    smooth = _line_average(resid_all, bounds, k)
    inl = ok_all & (np.sqrt(((resid_all / noise) ** 2).sum(axis=1)) <= INLIER)
    quiet = smooth[inl] if inl.sum() >= 10 else smooth[ok_all]
    spread = np.maximum(np.median(np.abs(quiet), axis=0) * 1.4826, 0.25 * noise)
    if full and inl.sum() < SITE_MIN_SUPPORT * ok_all.sum():
        # too little empty track to measure the averaged offsets' spread on: the
        # simulator's empty track gives about FULL_SPREAD_RATIO noise units
        spread = FULL_SPREAD_RATIO * noise
    # 4. a car seen from the neighbouring track's line (1.6 px away at 3 m) is counted
    #    once: each sample against the samples of other lines about one track spacing to
    #    either side; a weaker copy of a neighbour's colour offset is its spill, an
    #    offset as strong and pointing the same way is a second string (dense blocks),
    #    a colourless darkening beside a string is held to the strict ratio (shadows)
    x = smooth / spread
    x[~ok_all] = 0.0
    ev_all = np.sqrt((x**2).sum(axis=1))
    raw = x * spread
    dark = (raw[:, 0] < 0) & (np.hypot(raw[:, 1], raw[:, 2]) < DARK_CHROMA * -raw[:, 0])
    need = np.zeros_like(ev_all)
    nbs = _neighbours(profiles, TRACK_SPACING_M / gsd)
    for nb in nbs:
        has = nb >= 0
        j = nb[has]
        cos = (x[has] * x[j]).sum(axis=1) / np.maximum(ev_all[has] * ev_all[j], 1e-9)
        same = (cos >= SAME_COS) & ~dark[has] & ~dark[j]
        ratio = np.where(same, SIDE_RATIO_SAME, SIDE_RATIO)
        need[has] = np.maximum(need[has], ratio * ev_all[j])
    if found is not None:
        empty_from = "site, full yard" if full else "site"
    else:
        empty_from = "image, crowded" if crowded else "image"
    return _Evidence(
        profiles,
        bounds,
        reference,
        resid_all,
        spread,
        noise,
        x,
        ev_all,
        need,
        nbs,
        dark,
        ok_all,
        empty_from,
    )


def _rule_occupied(e: _Evidence, threshold: float) -> np.ndarray:
    """Step 5, the hand-set rule: evidence at least ``threshold`` and at least what the
    side rule asks for (before the run cleaning)."""
    return (e.ev >= threshold) & e.ok & (e.ev >= e.need)


#: Names of the per-sample features of :func:`sample_features` (the learned model's input).
FEATURES: tuple[str, ...] = (
    "log_ev_half_car",
    "log_ev_car",
    "log_ev_3_cars",
    "asinh_x_lum",
    "asinh_x_chroma1",
    "asinh_x_chroma2",
    "log_single",
    "log_nb_max_rel",
    "log_nb_min_rel",
    "cos_nb_max",
    "n_neighbour_sides",
    "dark",
    "dark_nb_max",
    "log_need_over_ev",
    "log_across_quarter_max_rel",
    "log_across_quarter_min_rel",
    "log_across_half_max_rel",
    "log_across_half_min_rel",
    "log_ev_max_car",
    "log_ev_min_half_car",
    "log_ev_6_cars",
    "log_ev_1_car_away_max_rel",
    "log_ev_1_car_away_min_rel",
    "log_ev_2_cars_away_max_rel",
    "log_ev_2_cars_away_min_rel",
    "rule",
)


def sample_features(e: _Evidence, feats: np.ndarray, gsd: float, step: float) -> np.ndarray:
    """Per-sample features (N, len(FEATURES)) for the learned occupancy classifier:
    the evidence over half a car, one car and three cars, its direction, a single
    sample's offset, the strongest and weakest neighbouring line's evidence (and the
    cosine with the stronger), the side rule's requirement, the evidence a quarter and a
    half track spacing to either side of the line (against the line's own reference),
    the largest evidence within a car and the smallest within half a car along the line,
    the evidence over six cars, one and two cars further along the line (the larger and
    the smaller of the two sides), and the hand-set rule. Nothing about the scene or the
    line as a whole: such features (tried: the line's and the scene's share over 4 units,
    quantiles of the scene's evidence) let the model learn the simulator's yards and
    it read 9 cars for 399 on yards of the second renderer."""
    from scipy.ndimage import maximum_filter1d, minimum_filter1d

    spacing = TRACK_SPACING_M / gsd
    cars = CONVENTIONAL_CAR_M / gsd / step  # samples per car
    k_half, k_car, k_3 = (max(1, round(f * cars)) for f in (0.5, 1.0, 3.0))
    ok = e.ok
    ev = e.ev
    x1 = _line_average(e.resid, e.bounds, k_car) / e.spread
    x3 = _line_average(e.resid, e.bounds, k_3) / e.spread
    ev1 = np.sqrt((x1**2).sum(axis=1))
    ev3 = np.sqrt((x3**2).sum(axis=1))
    single = np.sqrt(((e.resid / e.noise) ** 2).sum(axis=1))
    # neighbours: strongest per side over the distances of NEIGHBOUR_AT
    side_ev = np.zeros((len(ev), 2))
    side_idx = np.full((len(ev), 2), -1)
    has_side = np.zeros((len(ev), 2), dtype=bool)
    for n, nb in enumerate(e.neighbours):
        s = n % 2
        has = nb >= 0
        val = np.where(has, ev[np.maximum(nb, 0)], -1.0)
        better = has & (val > side_ev[:, s] - (~has_side[:, s]) * 1e9)
        side_ev[:, s] = np.where(better, val, side_ev[:, s])
        side_idx[:, s] = np.where(better, nb, side_idx[:, s])
        has_side[:, s] |= has
    side_ev[~has_side] = 0.0
    top = np.argmax(side_ev, axis=1)
    rows = np.arange(len(ev))
    nb_max, nb_min = side_ev[rows, top], side_ev[rows, 1 - top]
    j = side_idx[rows, top]
    hj = j >= 0
    cos = np.zeros(len(ev))
    jj = np.maximum(j, 0)
    cos[hj] = (e.x[hj] * e.x[jj[hj]]).sum(axis=1) / np.maximum(ev[hj] * ev[jj[hj]], 1e-9)
    dark_nb = np.where(hj, e.dark[jj], False)
    # across the track, against this line's own reference
    pts = np.concatenate([p for p, _, _, _ in e.profiles])
    tang = np.concatenate([t for _, t, _, _ in e.profiles])
    normal = np.stack([-tang[:, 1], tang[:, 0]], axis=1)
    ref = np.concatenate(e.reference)
    across = []
    for frac in (0.25, 0.5):
        pair = []
        for sgn in (1.0, -1.0):
            r = _sample(feats, pts + sgn * frac * spacing * normal).astype(np.float64) - ref
            r[~ok] = 0.0
            xs = _line_average(r, e.bounds, k_half) / e.spread
            pair.append(np.sqrt((xs**2).sum(axis=1)))
        across.append(np.maximum(pair[0], pair[1]))
        across.append(np.minimum(pair[0], pair[1]))
    x6 = _line_average(e.resid, e.bounds, 2 * k_3) / e.spread
    ev6 = np.sqrt((x6**2).sum(axis=1))
    ev_max = np.zeros(len(ev))
    ev_min = np.zeros(len(ev))
    away = np.zeros((len(ev), 4))
    for a, b in itertools.pairwise(e.bounds):
        seg = ev[a:b]
        ev_max[a:b] = maximum_filter1d(seg, size=k_car, mode="nearest")
        ev_min[a:b] = minimum_filter1d(seg, size=k_half, mode="nearest")
        for c, kk in enumerate((k_car, 2 * k_car)):
            idx = np.arange(b - a)
            fwd = seg[np.clip(idx + kk, 0, b - a - 1)]
            bwd = seg[np.clip(idx - kk, 0, b - a - 1)]
            away[a:b, 2 * c] = np.maximum(fwd, bwd)
            away[a:b, 2 * c + 1] = np.minimum(fwd, bwd)
    lg = np.log1p
    own = lg(ev)

    def rel(v: np.ndarray) -> np.ndarray:
        return np.asarray(lg(v) - own)

    out = np.stack(
        [
            own,
            lg(ev1),
            lg(ev3),
            np.arcsinh(e.x[:, 0]),
            np.arcsinh(e.x[:, 1]),
            np.arcsinh(e.x[:, 2]),
            lg(single),
            rel(nb_max),
            rel(nb_min),
            cos,
            has_side.sum(axis=1).astype(np.float64),
            e.dark.astype(np.float64),
            dark_nb.astype(np.float64),
            lg(e.need) - lg(ev),
            rel(across[0]),
            rel(across[1]),
            rel(across[2]),
            rel(across[3]),
            lg(ev_max),
            lg(ev_min),
            lg(ev6),
            rel(away[:, 0]),
            rel(away[:, 1]),
            rel(away[:, 2]),
            rel(away[:, 3]),
            _rule_occupied(e, 4.0).astype(np.float64),
        ],
        axis=1,
    )
    return np.asarray(out, np.float64)


def _occupancy(
    feats: np.ndarray,
    valid: np.ndarray,
    lines: list[np.ndarray],
    gsd: float,
    threshold: float,
    step: float = 0.5,
    diagnostics: list[LineProfile] | None = None,
    model: OccupancyModel | None = None,
    sun: tuple[float, float] | None = None,
    site: tuple[np.ndarray, np.ndarray] | None = None,
    background: tuple[np.ndarray, tuple[float, float]] | None = None,
    crowded_model: OccupancyModel | None = None,
    *,
    given: bool,
) -> tuple[float, int, str, int, tuple[float, int, float | None]]:
    """Occupied length (metres), number of occupied strings along ``lines`` (see the
    module docs), where the empty-track colour came from (:data:`EMPTY_FROM`), how
    many samples (every ``step`` pixels) had data to read (0: no track was read) and the
    longest string along one line as 10 m imagery reads it with the number of windows
    read (:func:`longest_string_run`) and, given the site's ``background`` (and the
    image's registration shift), the same against it (:func:`_against_site`; None
    without); (0, 0, None) finer than :data:`PRESENCE_GSD`;
    appends each line's :class:`LineProfile` to ``diagnostics`` when given.
    With ``model`` the samples are decided by the learned classifier
    (:mod:`railwatch.detect.coarse_model`) instead of the hand-set rule, and by
    ``crowded_model`` instead where given and the yard is read as crowded or full
    (:data:`CROWDED_READS`). ``given``: the ``lines`` are the site's track centrelines
    (:func:`_evidence`)."""
    e = _evidence(feats, valid, lines, gsd, step, site, given=given)
    if e is None:
        return 0.0, 0, "image", 0, (0.0, 0, None)
    read = int(e.ok.sum())
    longest: tuple[float, int, float | None] = (0.0, 0, None)
    if gsd >= PRESENCE_GSD:
        alone, windows = longest_string_run(e, gsd, step)
        against = None
        if background is not None:
            median = np.median(feats[valid.astype(bool)], axis=0)
            against = _against_site(e, median, background[0], background[1], gsd, step)
        longest = (alone, windows, against)
    if model is None:
        occ = _rule_occupied(e, threshold)
        if sun is not None:
            occ = _shadow_guard(e, occ, gsd, sun)
        return *_strings(e, occ, gsd, step, diagnostics), e.empty_from, read, longest
    if crowded_model is not None and e.empty_from in CROWDED_READS:
        model = crowded_model
    prob = model.probability(sample_features(e, feats, gsd, step))
    occ = decode_strings(e, prob, model.cut, model.switch)
    if sun is not None:
        occ = _shadow_guard(e, occ, gsd, sun)
    return *_strings(e, occ, gsd, step, diagnostics, clean=False), e.empty_from, read, longest


def _window_means(values: np.ndarray, weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Means of ``values`` (N, C) weighted by ``weights`` (N,) over every window of ``k``
    consecutive samples (N - k + 1 of them), and the windows' share of weight."""
    cw = np.concatenate([[0.0], np.cumsum(weights)])
    cv = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values * weights[:, None], axis=0)])
    w = cw[k:] - cw[:-k]
    return (cv[k:] - cv[:-k]) / np.maximum(w, 1e-9)[:, None], w / k


def longest_string_run(e: _Evidence, gsd: float, step: float) -> tuple[float, int]:
    """The length (metres) of the longest string of cars along one line, as 10 m imagery
    can show it (:data:`PRESENCE_VERSION` 2; docs/detection.md "The long-train flag at
    10 m").

    At 10 m a car is a third of a pixel wide and the yard's lines lie a fraction of a
    pixel apart, so a sample-by-sample decision reads noise and each string on several
    lines. Instead: the colour offsets from the empty track (step 4's, unaveraged) are
    averaged over every window of :data:`PRESENCE_WINDOW_M` along each line with data
    along at least 95 % of it, in units of the windows' robust spread over the scene
    (their 25th percentile of absolute values, per feature: a scene whose windows are
    more than three quarters on strings reads none). A line whose strongest window reaches
    :data:`PRESENCE_MIN_SPREADS` holds a string there; the string's extent is the run
    around that window where the offset along the window's direction, averaged over
    :data:`PRESENCE_RUN_M`, stays at least :data:`PRESENCE_RUN_SHARE` of the window's
    (gaps under :data:`PRESENCE_GAP_M` closed). 0 when no line holds a string. Also
    returned: how many windows could be read (0: no line has 300 m of track in one
    piece with data, as under broken cloud or along short centrelines, and the 0 says
    nothing about the yard)."""
    return _longest_run(e.bounds, e.ok, e.resid, np.asarray(e.noise), gsd, step)


def _longest_run(
    bounds: np.ndarray,
    ok_all: np.ndarray,
    resid_all: np.ndarray,
    noise: np.ndarray,
    gsd: float,
    step: float,
) -> tuple[float, int]:
    """:func:`longest_string_run` on the colour offsets ``resid_all`` (N, 3) of the lines
    split by ``bounds``, ``ok_all`` where they have data, ``noise`` the noise unit."""
    win = max(2, round(PRESENCE_WINDOW_M / gsd / step))
    short = max(1, round(PRESENCE_RUN_M / gsd / step))
    gap = max(1, round(PRESENCE_GAP_M / gsd / step))
    lines = []
    for a, b in itertools.pairwise(bounds):
        if b - a < win:
            continue
        ok = ok_all[a:b].astype(np.float64)
        means, share = _window_means(resid_all[a:b], ok, win)
        full = share >= 0.95
        if full.any():
            lines.append((resid_all[a:b], ok, means, full))
    if not lines:
        return 0.0, 0
    windows = sum(int(f.sum()) for _, _, _, f in lines)
    spread = np.percentile(np.abs(np.concatenate([m[f] for _, _, m, f in lines])), 25, axis=0)
    spread = np.maximum(spread / _Q25_HALF_NORMAL, 1e-6 * (noise + 1e-9))
    longest = 0.0
    for resid, ok, means, full in lines:
        strength = np.sqrt(((means / spread) ** 2).sum(axis=1))
        strength[~full] = 0.0
        j = int(strength.argmax())
        if strength[j] < PRESENCE_MIN_SPREADS:
            continue
        direction = means[j] / np.linalg.norm(means[j])
        along = resid @ direction
        peak = float(means[j] @ direction)
        near, _ = _window_means(along[:, None], ok, short)
        on = np.zeros(len(along), dtype=bool)
        first = (short - 1) // 2  # the window's mean at its centre sample
        on[first : first + len(near)] = near[:, 0] >= PRESENCE_RUN_SHARE * peak
        on &= ok > 0
        idx = np.flatnonzero(on)
        if not len(idx):
            continue
        centre = j + win // 2
        for run in np.split(idx, np.flatnonzero(np.diff(idx) > gap) + 1):
            if run[0] - gap <= centre <= run[-1] + gap:
                longest = max(longest, float(run[-1] - run[0] + 1) * step * gsd)
    return longest, windows


def _shadow_guard(
    e: _Evidence, occ: np.ndarray, gsd: float, sun: tuple[float, float]
) -> np.ndarray:
    """``occ`` without the strings that are shadows of strings on a line nearer the sun.

    ``sun`` is (azimuth, elevation) in degrees, azimuth clockwise from north, for a
    north-up image: a car's shadow falls up to ``SHADOW_HEIGHT_M / tan(elevation)``
    metres beyond its footprint, away from the sun. A run of occupied samples on one line
    is a shadow when at least ``SHADOW_RUN_SHARE`` of its samples are colourless
    darkenings (``_Evidence.dark``) with, towards the sun within that reach (plus half a
    car's width), an occupied sample of another line that is not in a shadow itself: the
    string's shadow on the next track, which a sample's evidence cannot tell from black
    cars (module docs). A shadow lies wholly within its caster's reach; a string of dark
    cars beside another string, in a dense yard, mostly does not, and stays. Runs are
    judged from the sun's side outwards, so a shadow never casts one."""
    from scipy.spatial import cKDTree

    az, elev = (math.radians(float(v)) for v in sun)
    dark = occ & e.dark
    if not (0 < elev < math.pi / 2) or not dark.any():
        return occ
    to_shadow = np.array([-math.sin(az), math.cos(az)])  # pixel (column, row), north up
    reach = (SHADOW_HEIGHT_M / math.tan(elev) + CAR_WIDTH_M / 2) / gsd
    pts = np.concatenate([p for p, _, _, _ in e.profiles])
    line = np.concatenate([np.full(len(p), i) for i, (p, _, _, _) in enumerate(e.profiles)])
    run_of = np.full(len(occ), -1)
    runs: list[np.ndarray] = []
    for a, b in itertools.pairwise(e.bounds):
        for r0, r1 in _runs(occ[a:b]):
            run_of[a + r0 : a + r1] = len(runs)
            runs.append(np.arange(a + r0, a + r1))
    occupied = np.flatnonzero(occ)
    cand = np.flatnonzero(dark)
    tree = cKDTree(pts[occupied])
    casters: dict[int, set[int]] = {int(i): set() for i in cand}
    for d in np.arange(0.5, reach - 0.25, 0.25):  # within 0.5 px of d: up to the reach
        for i, hits in zip(
            cand, tree.query_ball_point(pts[cand] - to_shadow * d, r=0.5), strict=True
        ):
            casters[int(i)].update(int(j) for j in occupied[hits] if line[j] != line[i])
    shadow_run = np.zeros(len(runs), dtype=bool)
    order = np.argsort([float((pts[r] @ to_shadow).mean()) for r in runs], kind="stable")
    for k in order:  # nearest the sun first
        explained = sum(
            1
            for i in runs[k]
            if int(i) in casters and any(not shadow_run[run_of[j]] for j in casters[int(i)])
        )
        shadow_run[k] = explained >= SHADOW_RUN_SHARE * len(runs[k])
    out = occ.copy()
    for k in np.flatnonzero(shadow_run):
        out[runs[k]] = False
    return out


def decode_strings(e: _Evidence, prob: np.ndarray, cut: float, switch: float) -> np.ndarray:
    """Occupied samples from the learned probabilities, line by line: the on/off sequence
    that maximises the summed log-odds against ``cut`` of its occupied samples minus
    ``switch`` per change (two-state Viterbi). A string is long and a gap inside it short,
    so a short run of middling probability joins its neighbours or drops out as a whole
    instead of sample by sample; samples without data are neutral and never occupied."""
    p = np.clip(prob, 1e-6, 1 - 1e-6)
    gain = np.where(e.ok, np.log(p / (1 - p)) - math.log(cut / (1 - cut)), 0.0)
    out = np.zeros(len(gain), dtype=bool)
    for a, b in itertools.pairwise(e.bounds):
        out[a:b] = _viterbi(gain[a:b], switch)
    return out & e.ok


def _viterbi(gain: np.ndarray, switch: float) -> np.ndarray:
    """Best on/off sequence for per-sample gains (on) with ``switch`` per change; the line
    starts off (a string that starts at the first sample pays one change)."""
    n = len(gain)
    from_on_to_off = np.zeros(n, dtype=bool)  # best way into "off" at i came from "on"
    from_off_to_on = np.zeros(n, dtype=bool)
    off, on = 0.0, -math.inf
    for i, g in enumerate(gain.tolist()):
        to_off = on - switch > off
        to_on = off - switch > on
        off, on = max(off, on - switch), g + max(on, off - switch)
        from_on_to_off[i] = to_off
        from_off_to_on[i] = to_on
    state = on > off
    seq = np.zeros(n, dtype=bool)
    for i in range(n - 1, -1, -1):
        seq[i] = state
        state = not from_off_to_on[i] if state else bool(from_on_to_off[i])
    return seq


def _strings(
    e: _Evidence,
    occ_all: np.ndarray,
    gsd: float,
    step: float,
    diagnostics: list[LineProfile] | None = None,
    clean: bool = True,
) -> tuple[float, int]:
    """Occupied length (metres) and number of strings from the samples decided occupied
    (all lines concatenated); with ``clean`` gaps under ``MAX_GAP_M`` are closed and
    runs under ``MIN_RUN_M`` dropped, per line."""
    min_run = max(1, round(MIN_RUN_M / gsd / step))
    max_gap = max(1, round(MAX_GAP_M / gsd / step))
    length, strings = 0.0, 0
    for i, (pts, tang, _, ok) in enumerate(e.profiles):
        a, b = e.bounds[i], e.bounds[i + 1]
        occ = (_clean_runs(occ_all[a:b], min_run, max_gap) if clean else occ_all[a:b]) & ok
        length += float(occ.sum()) * step * gsd
        strings += len(_runs(occ))
        if diagnostics is not None:
            diagnostics.append(LineProfile(pts, tang, ok, e.reference[i], e.ev[a:b], occ))
    return length, strings


def estimate_occupancy(
    image: np.ndarray,
    gsd: float,
    valid: np.ndarray | None = None,
    tracks: BaseGeometry | None = None,
    *,
    threshold: float = 4.0,
    diagnostics: list[LineProfile] | None = None,
    learned: bool | None = None,
    model: OccupancyModel | None = None,
    sun: tuple[float, float] | None = None,
    site_empty: EmptyTrack | None = None,
    background: np.ndarray | None = None,
    background_shift: tuple[float, float] = (0.0, 0.0),
    crowded_model: OccupancyModel | None = None,
    area: np.ndarray | None = None,
) -> CoarseEstimate:
    """Occupied track length and car equivalents of a coarse image (see module docs).

    ``image`` is (H, W, 3) uint8 RGB, ``gsd`` metres per pixel, ``valid`` an optional
    (H, W) bool data mask, ``tracks`` optional track centrelines in pixel
    (column, row) coordinates of ``image`` (much more accurate when given).
    ``threshold`` is the car evidence needed, in robust noise units, by the hand-set
    rules. ``learned`` chooses the learned per-sample classifier (``model``, default the
    shipped one) instead of those rules; by default it is used along given centrelines
    below ``LEARNED_MAX_GSD`` (where it was fitted and checked), the rules elsewhere.
    A yard read as crowded or taken as full (``empty_from`` in :data:`CROWDED_READS`)
    is decided by ``crowded_model`` instead: by default, with the shipped ``model``, the shipped one
    fitted with dense yards too; with a ``model`` given and no ``crowded_model``, by
    ``model`` itself.
    ``sun`` is the sun's (azimuth, elevation) in degrees at the time of the image,
    azimuth clockwise from north as in the image's metadata (STAC ``view:sun_azimuth``
    and ``view:sun_elevation``), for the image's pixel frame with north up
    (:func:`pixel_azimuth` turns it for a rotated geotransform): when given, runs of
    occupied samples that are the shadow of a string on a line nearer the sun are
    dropped (:func:`_shadow_guard`). ``site_empty`` is the site's empty track from its
    other images (:func:`site_empty_track`): the empty-track colour is then looked for
    near the colour it predicts in this image, with its noise unit, so a yard more than
    half full of one kind of car does not make the cars its empty track.
    ``background`` is, at :data:`PRESENCE_GSD` and coarser, the site's other images
    (:func:`site_background`, on this image's grid) and ``background_shift`` how far
    this image's content lies from theirs (pixels, as the lines were moved): a long
    train is then flagged only where it also stands out against them.
    ``area`` is an optional (H, W) bool mask of the pixels the estimate is about (a
    site's polygon on its raster): the interval is widened by the share of *them*
    without data (``valid`` False), not of the whole image, whose pixels outside the
    site are no missing data (default: the whole image).
    """
    if image.ndim != 3 or image.shape[2] < 3:
        raise InputError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
    if area is not None and area.shape != image.shape[:2]:
        raise InputError(
            f"area mask of shape {area.shape} does not match the image's {image.shape[:2]}: "
            "give one bool per pixel of the image"
        )
    if not gsd > 0:
        raise InputError(f"ground sample distance must be positive, got {gsd}")
    if sun is not None:
        sun = check_sun(sun)
    h, w = image.shape[:2]
    ok = np.ones((h, w), dtype=bool) if valid is None else valid.astype(bool)
    method = "presence" if gsd >= PRESENCE_GSD else "length"
    if not ok.any():
        return CoarseEstimate(
            0.0,
            0.0,
            0.0,
            0.0,
            method,
            False,
            track_m=0.0,
            long_windows=0 if method == "presence" else None,
            too_coarse=gsd > MAX_COUNT_GSD,
        )
    grey = _grey_and_colour(image[..., :3])
    grey[~ok] = np.median(grey[ok], axis=0)
    if tracks is not None and not tracks.is_empty:
        lines = _polylines(tracks)
        dirs = _track_directions(tracks)
    else:
        dirs = dominant_directions(grey[..., 0], ok)
        lines = _corridor_lines(grey, ok, gsd, dirs)
    feats, _ = _readable_features(image, ok)
    site = None
    if site_empty is not None:
        site = (np.median(feats[ok], axis=0) + site_empty.offset, np.array(site_empty.noise))
    given = tracks is not None and not tracks.is_empty
    if learned is None:
        learned = given and gsd < LEARNED_MAX_GSD
    occ_model = None
    if learned:
        occ_model = model if model is not None else load_model()
        if crowded_model is None and model is None:
            crowded_model = load_crowded_model()
    profiles: list[LineProfile] = []
    length, n_strings, empty_from, read, (longest, windows, against) = _occupancy(
        feats,
        ok,
        lines,
        gsd,
        threshold,
        diagnostics=profiles,
        model=occ_model,
        sun=sun,
        site=site,
        background=None if background is None else (background, background_shift),
        crowded_model=crowded_model if learned else None,
        given=given,
    )
    if diagnostics is not None:
        diagnostics.extend(profiles)
    cars = length / CONVENTIONAL_CAR_M
    # the share of the pixels the estimate is about that have no data: of the site's
    # where it is given (until estimator "12" of the whole raster, so a site polygon
    # filling a third of its bounding box widened the interval about 1.7 times)
    wanted = None if area is None else area.astype(bool)
    if wanted is not None and wanted.any():
        nodata = 1.0 - float((ok & wanted).sum()) / float(wanted.sum())
    else:
        nodata = 1.0 - float(ok.mean())
    # 1 car + REL x estimate + a pixel per string end (where a string starts and stops
    # is uncertain by about a pixel) below and above, widened by the share of pixels
    # without data. The REL widths put the truth inside on 90 % of the development
    # scenes (5 % missed on either side); larger along lines found in the image.
    if learned and given:
        rel_low, rel_high = REL_LEARNED_LOW, REL_LEARNED_HIGH
    elif given:
        rel_low, rel_high = REL_GIVEN_LOW, REL_GIVEN_HIGH
    else:
        rel_low, rel_high = REL_FOUND_LOW, REL_FOUND_HIGH
    ends = n_strings * gsd / CONVENTIONAL_CAR_M
    below = (1.0 + rel_low * cars + ends) * (1.0 + nodata)
    above = (1.0 + rel_high * cars + ends) * (1.0 + nodata)
    if empty_from == "image, crowded":
        # the image alone cannot tell how full a crowded yard is (its empty track is
        # hardly seen): up to every metre of track read
        above = max(above, read * 0.5 * gsd / CONVENTIONAL_CAR_M - cars)
    return CoarseEstimate(
        car_equivalents=round(cars, 2),
        low=round(max(0.0, cars - below), 2),
        high=round(cars + above, 2),
        occupied_length_m=round(length, 1),
        method=method,
        # at 10 m the occupied length reads each string on several lines and noise as
        # cars (it flagged 45 of 48 simulated scenes without a long train): the flag
        # comes from the longest string along one line instead
        # (and, given the site's other images, against them too: a bridge or a platform
        # along a line is in every image)
        present=(longest if method == "presence" else length) >= LONG_TRAIN_M
        and (against is None or against >= LONG_TRAIN_M),
        directions_deg=tuple(round(d, 1) for d in dirs),
        empty_from=empty_from,
        track_m=round(read * 0.5 * gsd, 1),
        longest_string_m=round(longest, 1) if method == "presence" else None,
        long_windows=windows if method == "presence" else None,
        site_string_m=None if against is None else round(against, 1),
        runs=occupied_runs(profiles, gsd) if method == "length" else (),
        too_coarse=gsd > MAX_COUNT_GSD,
        grey=is_grey(image, ok),
    )


def occupied_runs(
    profiles: Sequence[LineProfile], gsd: float, step: float = 0.5
) -> tuple[OccupiedRun, ...]:
    """The runs of occupied samples along each line of ``profiles`` as polylines in
    pixel coordinates: from half a step before the first sample to half a step after
    the last, so each is drawn as long as it was counted (``step`` pixels a sample)."""
    out: list[OccupiedRun] = []
    half = step / 2.0
    for prof in profiles:
        for a, b in _runs(prof.occupied):
            pts = prof.points[a:b]
            start = pts[0] - prof.tangents[a] * half
            end = pts[-1] + prof.tangents[b - 1] * half
            # samples along a straight piece of line are collinear: keep its bends only
            line = LineString(np.vstack([start, pts, end])).simplify(0.05)
            coords = tuple((round(float(x), 3), round(float(y), 3)) for x, y in line.coords)
            out.append(OccupiedRun(coords, round(float(b - a) * step * gsd, 2)))
    return tuple(out)


def _readable_features(
    image: np.ndarray, valid: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The invariant colours of ``image`` (pixels without data set to the median of the
    others) and the data mask."""
    ok = np.ones(image.shape[:2], dtype=bool) if valid is None else valid.astype(bool)
    feats = _invariant_colour(image[..., :3])
    if ok.any():
        feats[~ok] = np.median(feats[ok], axis=0)
    return feats, ok


def empty_track(
    image: np.ndarray,
    gsd: float,
    valid: np.ndarray | None,
    tracks: BaseGeometry,
    *,
    step: float = 0.5,
) -> EmptyTrack | None:
    """The empty track of one image along the site's ``tracks`` (pixel coordinates):
    the densest colour of the track samples and the noise unit of the samples near it
    (:class:`EmptyTrack`); ``None`` without data along the tracks. In a yard more than
    about half full of one kind of car this is the cars' colour: take the median over
    the site's images (:func:`site_empty_track`), not one image's."""
    if image.ndim != 3 or image.shape[2] < 3:
        raise InputError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
    feats, ok = _readable_features(image, valid)
    if not ok.any() or tracks.is_empty:
        return None
    profiles = _profiles(feats, ok, _polylines(tracks), gsd, step)
    if not profiles or sum(int(p[3].sum()) for p in profiles) < 20:
        return None
    pooled = np.concatenate([f[ok_] for _, _, f, ok_ in profiles])
    colour, _ = _yard_mode(pooled)
    noise = _empty_noise(pooled - colour)
    return EmptyTrack(offset=_triple(colour - np.median(feats[ok], axis=0)), noise=_triple(noise))


def track_share(
    tracks: BaseGeometry, readable: np.ndarray, seen: np.ndarray, *, step: float = 0.5
) -> float | None:
    """The share of the samples along ``tracks`` (pixel coordinates, every ``step``
    pixels) lying in ``seen`` (the site's pixels with data) that are also ``readable``
    (clear ground): how much of the yard's track a cloud or haze hides, which the share
    of the whole site that is clear does not say (a cloud over the yard in an image 90 %
    clear). ``None`` when no sample lies in ``seen``."""
    h, w = seen.shape
    n_seen = n_read = 0
    for verts in _polylines(tracks):
        pts, _ = _resample(verts, step)
        if not len(pts):
            continue
        col = np.floor(pts[:, 0]).astype(np.int64)
        row = np.floor(pts[:, 1]).astype(np.int64)
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        col, row = col[inside], row[inside]
        s = seen[row, col]
        n_seen += int(s.sum())
        n_read += int((s & readable[row, col]).sum())
    return n_read / n_seen if n_seen else None


def _triple(v: np.ndarray) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def site_empty_track(images: Sequence[EmptyTrack | None]) -> EmptyTrack | None:
    """The empty track of a site from several of its images (:func:`empty_track`): the
    median offset and noise unit, per colour feature, of those that have one; ``None``
    with fewer than :data:`SITE_MIN_IMAGES`. A yard crowded in fewer than half of them
    does not move it."""
    have = [t for t in images if t is not None]
    if len(have) < SITE_MIN_IMAGES:
        return None
    return EmptyTrack(
        offset=_triple(np.median(np.array([t.offset for t in have]), axis=0)),
        noise=_triple(np.median(np.array([t.noise for t in have]), axis=0)),
        images=len(have),
    )


def relative_colours(image: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """The invariant colours of step 2 less the median of the readable pixels, (H, W, 3)
    float32, NaN where ``valid`` is False: what :func:`site_background` takes from each
    of a site's images (sun and haze move a whole image alike, a train only its track)."""
    if image.ndim != 3 or image.shape[2] < 3:
        raise InputError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
    feats, ok = _readable_features(image, valid)
    rel = feats.astype(np.float32)
    if ok.any():
        rel -= np.median(feats[ok], axis=0).astype(np.float32)
    rel[~ok] = np.nan
    return rel


def site_background(images: Sequence[np.ndarray | None]) -> np.ndarray | None:
    """The site's background at 10 m from its other images' :func:`relative_colours`
    (all on one grid, float32 or float16): their median per pixel (float32), NaN where
    none could be read; None with fewer than :data:`SITE_MIN_IMAGES` images (or images
    of other shapes)."""
    have = [i for i in images if i is not None]
    if len(have) < SITE_MIN_IMAGES or len({i.shape for i in have}) != 1:
        return None
    stack = np.stack(have).astype(np.float32)
    out = np.full(stack.shape[1:], np.nan, np.float32)
    seen = np.isfinite(stack).all(axis=-1).any(axis=0)
    if seen.any():
        out[seen] = np.nanmedian(stack[:, seen], axis=0)
    return out


def _against_site(
    e: _Evidence,
    median: np.ndarray,
    background: np.ndarray,
    shift: tuple[float, float],
    gsd: float,
    step: float,
) -> float:
    """The longest string along one line of this image's relative colours (its samples
    less ``median``) less the site's ``background`` at the same place: the background is
    sampled at the lines moved back by ``shift`` (the image's registration to the site's
    images, pixels), where it was read in every image."""
    seen = np.isfinite(background).all(axis=-1)
    filled = np.where(seen[..., None], background, 0.0).astype(np.float32)
    back = np.array(shift, dtype=np.float64)
    resid, oks = [], []
    for pts, _, f, ok in e.profiles:
        b = _sample(filled, pts - back).astype(np.float64)
        known = _sample(seen.astype(np.float32), pts - back) > 0.99
        good = ok & known
        r = f - median - b
        r[~good] = 0.0
        resid.append(r)
        oks.append(good)
    if not resid:
        return 0.0
    longest, _ = _longest_run(
        e.bounds, np.concatenate(oks), np.concatenate(resid), np.asarray(e.noise), gsd, step
    )
    return longest


def long_train_flag(estimate: CoarseEstimate, tracks: str | None) -> bool | None:
    """The long-train flag of an estimate at :data:`PRESENCE_GSD` and coarser where it was
    read: along given centrelines (``tracks`` ``"given"``; lines found in the image are
    short pieces there, along which it never flags a train) with at least one window of
    track read in one piece (``long_windows``); None otherwise, finer than that, and
    coarser than :data:`railwatch.imagery.quality.MAX_COUNT_GSD` (``too_coarse``: the
    flag was measured at 10 m only, and ``railwatch process`` stores such an image as
    unusable)."""
    if estimate.method != "presence" or tracks != "given" or estimate.long_windows == 0:
        return None
    if estimate.too_coarse:
        return None
    return estimate.present


def check_sun(sun: tuple[object, object]) -> tuple[float, float]:
    """``sun`` (azimuth, elevation) as two floats in degrees, the azimuth within 0–360, or
    an error that says what is wrong with it."""
    try:
        az, elev = (float(v) for v in sun)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise InputError(
            f"sun must be (azimuth, elevation) in degrees, got {sun!r}: e.g. (160, 35)"
        ) from err
    if not (math.isfinite(az) and math.isfinite(elev) and 0.0 < elev <= 90.0):
        raise InputError(
            f"sun elevation must be above 0 and at most 90 degrees and both angles finite, "
            f"got azimuth {az} and elevation {elev}: check the image's metadata"
        )
    return az % 360.0, elev


def pixel_azimuth(azimuth: float, transform: Any) -> float:
    """The sun azimuth ``azimuth`` (degrees clockwise from north in the raster's CRS) as
    :func:`estimate_occupancy` reads it: clockwise from the image's up direction, so
    that it is unchanged for a north-up geotransform and turned with a rotated one.
    ``transform`` is an ``affine.Affine`` (pixel to CRS)."""
    a = math.radians(float(azimuth))
    inv = ~transform
    # a step towards the sun in CRS units (x east, y north) in pixel units
    px = inv.a * math.sin(a) + inv.b * math.cos(a)
    py = inv.d * math.sin(a) + inv.e * math.cos(a)
    turned = math.degrees(math.atan2(px, -py)) % 360.0
    return 0.0 if turned > 360.0 - 1e-9 else turned  # -0.0 and rounding: north is 0


def tracks_to_pixels(
    tracks: BaseGeometry, crs: str, transform: Any, *, src_crs: str = "EPSG:4326"
) -> BaseGeometry:
    """Track lines from ``src_crs`` (WGS84 lon/lat by default, as in ``SiteSpec.tracks``)
    to pixel (column, row) coordinates of a grid with ``crs`` and affine ``transform``."""
    from pyproj import Transformer
    from shapely.geometry import LineString, MultiLineString

    from railwatch.imagery._geo import xy_to_pixels

    tr = Transformer.from_crs(src_crs, crs, always_xy=True)
    out = []
    for verts in _polylines(tracks):
        x, y = tr.transform(verts[:, 0], verts[:, 1])
        out.append(LineString(xy_to_pixels(transform, np.column_stack([x, y]))))
    return MultiLineString(out)


def runs_to_crs(
    runs: Sequence[OccupiedRun], transform: Any | None, src: str | None, dst: str | None = None
) -> tuple[OccupiedRun, ...]:
    """Occupied runs from pixel coordinates to ``src`` through the affine ``transform``
    (pixel corner origin), then to ``dst`` when given; unchanged without ``transform``."""
    if transform is None or not runs:
        return tuple(runs)
    tr = None
    if dst is not None and src is not None and dst != src:
        from pyproj import Transformer

        tr = Transformer.from_crs(src, dst, always_xy=True)
    out = []
    for run in runs:
        px = np.asarray(run.coords, dtype=float)
        x = transform.a * px[:, 0] + transform.b * px[:, 1] + transform.c
        y = transform.d * px[:, 0] + transform.e * px[:, 1] + transform.f
        if tr is not None:
            x, y = (np.asarray(v) for v in tr.transform(x, y))
        coords = tuple((float(a), float(b)) for a, b in zip(x, y, strict=True))
        out.append(OccupiedRun(coords, run.length_m))
    return tuple(out)
