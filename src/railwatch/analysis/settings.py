"""Every alert threshold in one documented object (defaults suit weekly-to-monthly revisits)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from railwatch.errors import InputError

#: The longest record window (``AlertSettings.record_years``): a century holds every
#: satellite image there is.
MAX_RECORD_YEARS = 100

#: The count methods a point may have (``CountPoint.method``; as
#: ``railwatch.analysis.series.METHOD_RANK`` ranks them and a CSV's ``method`` column
#: takes them): what ``AlertSettings.confirm_methods`` may name.
COUNT_METHODS: tuple[str, ...] = ("objects", "length", "presence", "manual")


class AlertSettings(BaseModel):
    """Thresholds of the baseline and of each alert rule; see ``docs/alerts.md``.

    Defaults were tuned with ``benchmarks/bench_alerts.py`` on a tuning seed set
    separate from the reported one; ``shift_pair_z`` was last retuned (2026-12-02,
    ``--seed 7``) for detector 2.0's measured count error (per-image scale 0.089 in log at
    0.3-0.5 m, against 0.236 for detector 1.3.1), the ``shift_segment_*`` test added and
    tuned on seeds 7, 11 and 12 for detector 2.2's, and ``spike_log_z`` lowered to 2.5 on
    the same seeds once that test was in (session 7), see ``docs/alerts-history.md``. Since
    session 8 ``spike_z``, ``spike_strong_z`` and ``shift_segment_z`` have a value per
    resolution band (:data:`BAND_FIELDS`): the plain fields judge images finer than
    ``coarse_from_gsd`` (0.75 m) and images without a gsd, and were lowered on seeds 7,
    11 and 12 for the 0.3-0.5 m error; the ``coarse_*`` fields keep the earlier values
    for 0.75 m and coarser. Since session 14 ``spike_log_z`` has a value per band too:
    the fine band's ``spike_log_z`` (2.5 -> 2.0) and ``spike_z`` (3.5 -> 3.4) were lowered
    on seeds 7, 11 and 12 for detector 2.6's 0.3-0.5 m error, and
    ``coarse_spike_log_z`` keeps 2.5.
    """

    # no infinite (or NaN) threshold: series_noise_factor inf made the spread of a series
    # without noise NaN, an internal "cannot convert float NaN to integer" (session 40);
    # a rule is switched off by its documented value (0, mostly), not by infinity
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    if not TYPE_CHECKING:  # type checkers keep pydantic's signature of the fields

        def __init__(self, /, **data: Any) -> None:
            """A refused value or an unknown field is an :class:`~railwatch.errors.InputError`
            (a ValueError) naming each, chained to pydantic's ValidationError (``__cause__``),
            as the project's other input errors are; it was the ValidationError itself, with
            an errors.pydantic.dev link (2026-12-07, session 46)."""
            try:
                super().__init__(**data)
            except ValidationError as err:
                raise InputError(refused_settings(err)) from err

    # --- baseline -----------------------------------------------------------------
    baseline_window_days: int = Field(
        default=120, ge=14, description="Trailing window of the robust baseline (median/MAD)."
    )
    baseline_min_points: int = Field(
        default=5,
        ge=3,
        description="Usable images the window needs before spikes/drops/shifts are judged.",
    )
    regime_min_points: int = Field(
        default=5,
        ge=2,
        description="After a shift, images of the new level needed before it is the baseline.",
    )
    relative_noise: float = Field(
        default=0.10,
        ge=0.0,
        description="Floor of the spread as a fraction of the baseline (the detector's 5-10 % "
        "target; its real error is measured per series, see noise_history).",
    )
    poisson_noise: bool = Field(
        default=True, description="Floor the spread at sqrt(baseline): trains come and go."
    )
    min_spread: float = Field(
        default=1.0, gt=0.0, description="Absolute floor of the spread, in cars."
    )
    noise_history: int = Field(
        default=60,
        ge=5,
        # (a buffer of this many residuals is made per series: 10**11 was a MemoryError
        # before session 40)
        le=100_000,
        description="Judged images whose residuals give the series' own noise (spread floor).",
    )
    noise_min_points: int = Field(
        default=15, ge=3, description="Residuals needed before the series' noise is used."
    )
    series_noise_factor: float = Field(
        default=1.0,
        ge=0.0,
        description="Spread floor = this x the series' relative noise x (centre + 1); 0: off.",
    )
    seasonal_min_years: float = Field(
        default=1.0,
        ge=1.0,
        description="History (years) needed before month-of-year factors are used.",
    )
    seasonal_min_points: int = Field(
        default=3, ge=1, description="Images in a calendar month needed to estimate its factor."
    )
    seasonal_month_years: int = Field(
        default=1,
        ge=1,
        description="Calendar years a month must have been seen in before it gets a factor.",
    )
    seasonal_clip: float = Field(
        default=3.0, gt=1.0, description="Month factors are clipped to [1/clip, clip]."
    )
    season_window_days: int = Field(
        default=30,
        ge=1,
        description="Same season of an earlier year = within this many days of the same date.",
    )
    season_precedent_ratio: float = Field(
        default=0.75,
        gt=0.0,
        le=1.0,
        description="A new level is 'seen before in this season' when an earlier year's "
        "same-season median was at least this fraction of it (up) or at most its inverse "
        "times it (down); such shifts are 'info'.",
    )
    precedent_images: int = Field(
        default=2,
        ge=1,
        description="A spike is 'info' when this many earlier images in the same weeks of the "
        "previous N years had as many cars (within season_precedent_ratio).",
    )
    drop_precedent_images: int = Field(
        default=1,
        ge=1,
        description="A drop is 'info' when this many earlier images of the previous N years "
        "had as few cars (the site has been this empty before).",
    )
    lull_floor: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Spikes are judged against at least this fraction of the site's level over "
        "the past year (so the return from a lull is not a spike).",
    )

    short_history_days: int = Field(
        default=365,
        ge=0,
        description="Alerts on less history than this (seasons unknown) are lowered one step.",
    )

    shift_season_days: int = Field(
        default=730,
        ge=0,
        description="History (days) before a shift can be more than 'info': with less, each "
        "season has been seen once and a site's season varies from year to year (records, "
        "spikes and drops are not held back).",
    )

    # --- record -------------------------------------------------------------------
    record_years: int = Field(
        default=5,
        ge=1,
        # (2026-12-06, session 40: unbounded, --record-years 1000000000000 was an internal
        # OverflowError, and the precedent rules look at each of the N years: a million
        # years cost seconds a spike)
        le=MAX_RECORD_YEARS,
        description="N: the record is the maximum of the previous N years (at most "
        f"{MAX_RECORD_YEARS}: a century holds every satellite image there is).",
    )
    record_min_points: int = Field(
        default=6, ge=1, description="Usable images before a record can be more than 'info'."
    )
    record_min_history_days: int = Field(
        default=180, ge=0, description="History (days) before a record can be more than 'info'."
    )
    record_episode_days: int = Field(
        default=90,
        ge=0,
        description="Records within this many days of the previous record alert are one rise: "
        "their severity is measured against the record that stood before the rise.",
    )
    record_noise_z: float = Field(
        default=2.0,
        ge=0.0,
        description="A record under record_high_ratio x the record is 'info' unless "
        "log((count + 1) / (record + 1)) is at least this many times the series' own noise "
        "(a noisy detector sets new records by chance); 0: off.",
    )
    record_low_ratio: float = Field(default=1.2, gt=1.0, description="count/record for 'low'.")
    record_medium_ratio: float = Field(
        default=1.5, gt=1.0, description="count/record for 'medium'."
    )
    record_high_ratio: float = Field(default=2.0, gt=1.0, description="count/record for 'high'.")
    record_min_excess: float = Field(
        default=3.0, ge=0.0, description="Cars above the record needed for more than 'info'."
    )

    type_min_excess: float = Field(
        default=6.0,
        ge=0.0,
        description="Per-type and covered series: cars above the record or baseline (or of "
        "level change) needed for a record above 'info', a spike or a shift. A car's type "
        "is reported only when the class head is confident, so one type's count moves by "
        "a few cars between images of the same train.",
    )

    # --- spike --------------------------------------------------------------------
    spike_z: float = Field(
        default=3.4,
        gt=0.0,
        description="Robust z-score (spreads above the baseline); fine images (coarse: "
        "coarse_spike_z).",
    )
    spike_log_z: float = Field(
        default=2.0,
        ge=0.0,
        description="Also needed once the series' own noise is known: log((count + 1) / "
        "(centre + 1)) at least this many times that noise (multiplicative detector error "
        "has a long upper tail); fine images (coarse: coarse_spike_log_z); 0: off.",
    )
    spike_pool_images: int = Field(
        default=60,
        ge=0,
        le=100_000,
        description="Spike test only (fine images; coarse: coarse_spike_pool_images), once "
        "the series' own noise is known: a window's MAD spread above the series' noise x "
        "(centre + 1) (and the count floor) is one noisy estimate of the same spread, so it "
        "is pooled with that one as variances weighted by images, the window's against "
        "this many for the series' noise (noise_history's default); 0: off, the larger one "
        "as it is (before session 43).",
    )
    spike_pool_min_centre: float = Field(
        default=8.0,
        ge=0.0,
        description="spike_pool_images pools only at a usual count of at least this many "
        "cars: at a few cars the series' relative noise x (centre + 1) says too little of "
        "how far whole trains move a count, and the window's own MAD is kept (on the "
        "simulator's Tumangang seeds winter lows of 2-5 cars became spikes without it).",
    )
    spike_min_ratio: float = Field(
        default=1.8, gt=1.0, description="count/baseline needed for a spike."
    )
    spike_min_excess: float = Field(
        default=4.0, ge=0.0, description="Cars above the baseline needed."
    )
    spike_strong_ratio: float = Field(
        default=2.2, gt=1.0, description="A count this many times the baseline needs only..."
    )
    spike_strong_z: float = Field(
        default=3.5,
        gt=0.0,
        description="...this robust z-score to be a spike (at or above spike_z it adds "
        "nothing); fine images (coarse: coarse_spike_strong_z).",
    )
    spike_medium_ratio: float = Field(
        default=3.0, gt=1.0, description="count/baseline for 'medium'."
    )
    spike_high_ratio: float = Field(default=5.0, gt=1.0, description="count/baseline for 'high'.")
    spike_after_noted_shift: bool = Field(
        default=True,
        description="An image at which a change of level is only noted ('info': seasonal, "
        "first years; the baseline is kept) is still judged as a spike (until session 9 it "
        "was not, so a spike that completed a noted change went unreported).",
    )

    # --- shift (robust two-sided CUSUM) ------------------------------------------
    shift_k: float = Field(
        default=1.0,
        ge=0.0,
        description="CUSUM allowance: spreads per image ignored as noise.",
    )
    shift_h: float = Field(
        default=3.5,
        gt=0.0,
        description="CUSUM decision threshold: accumulated spreads that signal a change.",
    )
    shift_clip: float = Field(
        default=4.0,
        gt=0.0,
        description="Each image adds at most this many spreads (one spike cannot make a shift).",
    )
    shift_pair_z: float = Field(
        default=3.0,
        ge=0.0,
        description="Two-image level test: the last two images' robust z-scores summed and "
        "divided by sqrt(2) reaching this signal a change at once (each must also pass "
        "shift_each_z); 0: off (CUSUM only).",
    )
    shift_pair_ratio: float = Field(
        default=1.8,
        ge=0.0,
        description="Two-image level test, upwards: two images in a row each beyond the "
        "usual range and on average (geometric mean of (count + 1) / (centre + 1)) at least "
        "this many times their baseline also signal a change, and their streak's level test "
        "asks only shift_pair_ratio_level_z (a doubling raised at its second image; since "
        "session 10, tuned on seeds 7, 11 and 12); fine images (coarse: "
        "coarse_shift_pair_ratio); 0: off.",
    )
    shift_pair_ratio_min_level: float = Field(
        default=5.0,
        ge=0.0,
        description="The baseline (cars) a doubled pair (shift_pair_ratio) needs: on fewer cars "
        "a ratio is mostly counting noise (on the simulator's Tumangang seeds winter lows of "
        "1-3 cars read as 8-13 in two spring images made false 'high' shifts).",
    )
    shift_pair_ratio_level_z: float = Field(
        default=2.5,
        ge=0.0,
        description="The level test (as shift_level_z) for a two-image streak at "
        "shift_pair_ratio x its baseline or more: its mean log ratio x sqrt(2) must reach "
        "this many times the series' own noise.",
    )
    shift_level_z: float = Field(
        default=3.0,
        ge=0.0,
        description="Once the series' own noise is known, the confirming streak's mean log "
        "ratio log((count + 1) / (centre + 1)) x sqrt(images) must reach this many times "
        "that noise (a noisy site needs more images to show a new level); 0: off.",
    )
    shift_segment_images: int = Field(
        default=4,
        ge=0,
        description="Segment level test (upward): the last 3 to this many images against the "
        "baseline before them signal a change (besides the CUSUM and the two-image test); "
        "under 3: off.",
    )
    shift_segment_window_days: int = Field(
        default=365,
        ge=14,
        description="Segment test: trailing window of its reference baseline (median, "
        "deseasonalised like the baseline; within the current level only).",
    )
    shift_segment_z: float = Field(
        default=2.5,
        gt=0.0,
        description="Segment test: the images' mean log ratio log((count + 1) / (centre + 1)) "
        "x sqrt(images) must reach this many times the series' own noise; fine images "
        "(coarse: coarse_shift_segment_z).",
    )
    shift_segment_clip: float = Field(
        default=2.5,
        gt=0.0,
        description="Segment test: each image adds at most this many times the series' noise "
        "(a spike followed by ordinary images is not a level).",
    )
    shift_segment_min_level: float = Field(
        default=5.0,
        ge=0.0,
        description="Segment test: the baseline (cars) it needs; on fewer cars a log ratio is "
        "mostly counting noise (the CUSUM and the two-image test still apply).",
    )
    shift_confirm_points: int = Field(
        default=2,
        ge=2,
        description="The last this many images must each be beyond the usual range.",
    )
    shift_each_z: float = Field(
        default=1.0, ge=0.0, description="Robust z-score every confirming image needs on its own."
    )
    shift_each_ratio: float = Field(
        default=1.5,
        gt=1.0,
        description="Each confirming image must be this ratio (or inverse) from the baseline.",
    )
    shift_min_ratio: float = Field(
        default=1.5,
        gt=1.0,
        description="Median ratio of the new level to the baseline (up) or its inverse (down).",
    )
    shift_min_excess: float = Field(default=3.0, ge=0.0, description="Cars of level change needed.")
    shift_medium_ratio: float = Field(default=2.0, gt=1.0, description="Level ratio for 'medium'.")
    shift_high_ratio: float = Field(default=3.0, gt=1.0, description="Level ratio for 'high'.")

    # --- drop ---------------------------------------------------------------------
    drop_ratio: float = Field(
        default=0.3,
        gt=0.0,
        lt=1.0,
        description="count/baseline at or below which a busy site dropped.",
    )
    drop_z: float = Field(
        default=3.0, gt=0.0, description="Robust z-score below the baseline needed."
    )
    drop_log_z: float = Field(
        default=4.0,
        ge=0.0,
        description="...or, once the series' own noise is known, log((count + 1) / (centre + 1)) "
        "at least this many times that noise below (multiplicative error); 0: off.",
    )
    drop_min_baseline: float = Field(
        default=5.0,
        ge=0.0,
        description="A site is 'busy' when its baseline has at least this many cars.",
    )
    drop_high_ratio: float = Field(default=0.1, ge=0.0, description="count/baseline for 'high'.")
    drop_confirm_points: int = Field(
        default=1,
        ge=1,
        description="Images in a row at or below the drop line (drop_ratio x their baseline) a "
        "drop needs to be more than a note; the first of fewer is a note ('info') that keeps "
        "the severity it would have had. 1: one image is enough (the plain value; "
        "occupied-length counts: length_drop_confirm_points).",
    )

    # --- quality ------------------------------------------------------------------
    quality_gap_factor: float = Field(
        default=3.0,
        gt=1.0,
        description="Expected gap = factor x median gap between usable images...",
    )
    quality_min_gap_days: int = Field(
        default=45, ge=1, description="...but at least this many days."
    )
    quality_min_points: int = Field(
        default=4, ge=2, description="Usable images needed before gaps are judged."
    )
    quality_presence_ends_silence: bool = Field(
        default=False,
        description="Whether a presence image (10 m and coarser: only whether a long train is "
        "present, never a count) ends a silence. False (since 2026-12-06, session 35): "
        "such images do not end a silence of counts, which is raised as 'no image able to "
        "count cars since ...' with the severity of a silence of unusable images, once a "
        "site has been counted (a site seen at 10 m from its first image has no count to "
        "miss). True: they show the site as a usable image does, as before.",
    )

    # --- uncertainty and events ---------------------------------------------------
    wide_interval: float = Field(
        default=0.5,
        gt=0.0,
        description="An interval (high-low) wider than this fraction of the count is 'uncertain' "
        "and lowers the severity one step.",
    )
    wide_vs_usual: float = Field(
        default=1.5,
        gt=0.0,
        description="...and wider than this many times the series' usual relative width "
        "(the median of its earlier counts' intervals): the usual part of an interval is "
        "already in the series' own spread.",
    )
    interval_history: int = Field(
        default=20,
        ge=1,
        description="Earlier usable images whose intervals give the series' usual width.",
    )
    interval_min_points: int = Field(
        default=3,
        ge=1,
        description="Earlier images with an interval needed before a usual width is used "
        "(with fewer, the whole interval counts).",
    )
    uncertain_z: float = Field(
        default=2.0,
        ge=0.0,
        description="A spike whose lower bound is fewer spreads than this above the baseline "
        "is uncertain and lowered one step.",
    )
    event_window_days: int = Field(
        default=60, ge=0, description="Alerts name the latest event at most this many days before."
    )
    confirm_methods: tuple[str, ...] = Field(
        default=("length",),
        description="Count methods whose record and spike alerts need the image before them "
        "(same method) to have raised one too; unconfirmed ones are notes ('info'). The "
        "occupied-length estimate of 1.5-10 m imagery is several times off in some scenes "
        "(misregistered track lines, long shadows; docs/detection.md), so one image of it "
        "is not enough.",
    )

    # --- resolution bands -----------------------------------------------------------
    coarse_from_gsd: float = Field(
        default=0.75,
        gt=0.0,
        description="Images of this ground sample distance (m/pixel) or coarser are judged "
        "with the coarse_* thresholds below instead of the ones above: the detector's "
        "per-image count error at 0.75-1 m is about twice that at 0.3-0.5 m, with "
        "Gaussian-like tails, so the same thresholds give it twice the false alarms. The "
        "judged image's own gsd decides (a series may mix resolutions); an image without a "
        "gsd is judged as a fine one.",
    )
    coarse_spike_z: float = Field(
        default=4.5,
        gt=0.0,
        description="spike_z for coarse images (the one value for all images until session 8).",
    )
    coarse_spike_strong_z: float = Field(
        default=4.0, gt=0.0, description="spike_strong_z for coarse images (likewise)."
    )
    coarse_spike_log_z: float = Field(
        default=2.5,
        ge=0.0,
        description="spike_log_z for coarse images (the one value for all images until "
        "session 14); 0: off.",
    )
    coarse_spike_pool_images: int = Field(
        default=0,
        ge=0,
        le=100_000,
        description="spike_pool_images for coarse images (0: off, the window's MAD as "
        "before session 43; tuned for the fine band only, and on seed 7 it took the "
        "0.75-1 m error's false alarms from 0.185 to 0.192 per site-year).",
    )
    coarse_shift_segment_z: float = Field(
        default=2.75, gt=0.0, description="shift_segment_z for coarse images (likewise)."
    )
    coarse_shift_pair_ratio: float = Field(
        default=2.0,
        ge=0.0,
        description="shift_pair_ratio for coarse images: the coarse band has little room "
        "for false alarms (1.8 there: 0.182 -> 0.193 per site-year on tuning seed 7); 0: off.",
    )

    # --- occupied-length counts ----------------------------------------------------
    length_shift_confirm_points: int = Field(
        default=3,
        ge=2,
        description="shift_confirm_points for counts made from occupied track length (method "
        "'length', 1.5-10 m imagery): their error is heavy-tailed (measured at 3 m: Student-t "
        "with about 1.4 degrees of freedom; some scenes read 2-3x or a third of the truth), "
        "so two far-out images in a row, or one far-out image that carries an ordinary-high "
        "one through the sums, made most of their false shifts; a third image is needed.",
    )
    length_shift_segment_z: float = Field(
        default=2.25,
        gt=0.0,
        description="shift_segment_z for occupied-length counts (instead of their band's: "
        "3 m images are coarse, 2.75). With a third image needed the segment test can be "
        "less strict in units of the series' own noise: on the tuning seeds it keeps the "
        "shift recall that two images had.",
    )
    length_drop_confirm_points: int = Field(
        default=2,
        ge=1,
        description="drop_confirm_points for occupied-length counts: one under-read image (a "
        "faint or shadowed train read as a few cars) made most of their false drops.",
    )

    def is_coarse(self, gsd: float | None) -> bool:
        """Is an image of ground sample distance ``gsd`` (m/pixel; None: unknown) judged
        with the coarse thresholds?"""
        return gsd is not None and gsd >= self.coarse_from_gsd

    def coarse(self) -> AlertSettings:
        """These settings with each threshold of :data:`BAND_FIELDS` replaced by its
        ``coarse_`` value: what an image at ``coarse_from_gsd`` or coarser is judged with
        (and ``spike_pool_images`` by ``coarse_spike_pool_images``, session 43: a pooling
        of spreads, not a threshold, so coarse alerts do not name it)."""
        update: dict[str, object] = {f: getattr(self, f"coarse_{f}") for f in BAND_FIELDS}
        update["spike_pool_images"] = self.coarse_spike_pool_images
        return self.model_copy(update=update)

    def for_gsd(self, gsd: float | None) -> AlertSettings:
        """The settings an image of ground sample distance ``gsd`` is judged with."""
        return self.coarse() if self.is_coarse(gsd) else self

    def for_image(self, gsd: float | None, method: str) -> AlertSettings:
        """The settings an image of ground sample distance ``gsd`` whose count was made by
        ``method`` is judged with: its resolution band's (:meth:`for_gsd`), and for
        occupied-length counts (:data:`LENGTH_METHOD`) each threshold of
        :data:`LENGTH_FIELDS` replaced by its ``length_`` value."""
        band = self.for_gsd(gsd)
        if method != LENGTH_METHOD:
            return band
        return band.model_copy(update={f: getattr(self, f"length_{f}") for f in LENGTH_FIELDS})

    @model_validator(mode="after")
    def _ordered(self) -> AlertSettings:
        if not self.record_low_ratio <= self.record_medium_ratio <= self.record_high_ratio:
            raise ValueError("record ratios must be ordered low <= medium <= high")
        if not self.spike_min_ratio <= self.spike_medium_ratio <= self.spike_high_ratio:
            raise ValueError("spike ratios must be ordered min <= medium <= high")
        if not self.shift_min_ratio <= self.shift_medium_ratio <= self.shift_high_ratio:
            raise ValueError("shift ratios must be ordered min <= medium <= high")
        if self.drop_high_ratio > self.drop_ratio:
            raise ValueError("drop_high_ratio must not exceed drop_ratio")
        if self.shift_h <= self.shift_clip - self.shift_k:
            raise ValueError("shift_h must exceed shift_clip - shift_k (one image is not a shift)")
        for name in ("shift_pair_ratio", "coarse_shift_pair_ratio"):
            ratio = getattr(self, name)
            if 0.0 < ratio <= 1.0:  # every pair above the usual range was "a doubling"
                raise ValueError(
                    f"{name} ({ratio:g}) must be above 1 (the pair's mean ratio to its "
                    "baseline that is a doubling), or 0 to switch the doubled-pair test off"
                )
        # (2026-12-06, session 40: a misspelt method was taken, and confirmed nothing)
        unknown = [m for m in self.confirm_methods if m not in COUNT_METHODS]
        if unknown:
            raise ValueError(
                f"confirm_methods names {', '.join(map(repr, unknown))}, not a count method: "
                f"use {', '.join(COUNT_METHODS)} (an unknown name confirms nothing)"
            )
        return self


def refused_settings(err: ValidationError) -> str:
    """One line per field :class:`AlertSettings` refused: its name, the value given and
    why (a misspelt name with the field it is closest to)."""
    import difflib

    lines = []
    for e in err.errors():
        field = ".".join(str(part) for part in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            near = difflib.get_close_matches(field, list(AlertSettings.model_fields), n=1)
            hint = f": did you mean {near[0]}?" if near else " (docs/alerts.md lists them)"
            lines.append(f"AlertSettings has no field {field!r}{hint}")
        elif field:
            lines.append(f"AlertSettings {field}={e.get('input')!r}: {msg[:1].lower()}{msg[1:]}")
        else:
            lines.append(f"AlertSettings: {msg}")
    return "; ".join(lines)


#: The thresholds that have a value per resolution band: ``AlertSettings.X`` for fine
#: images (and images without a gsd), ``AlertSettings.coarse_X`` for images at
#: ``coarse_from_gsd`` or coarser.
BAND_FIELDS: tuple[str, ...] = (
    "spike_z",
    "spike_strong_z",
    "shift_segment_z",
    "shift_pair_ratio",
    "spike_log_z",
)

#: The count method whose images are judged with the ``length_`` thresholds: car
#: equivalents from occupied track length (1.5-10 m imagery).
LENGTH_METHOD = "length"

#: The thresholds that have a value of their own for occupied-length counts:
#: ``AlertSettings.X`` for other counts, ``AlertSettings.length_X`` for counts whose method
#: is :data:`LENGTH_METHOD` (they replace their resolution band's values, where both have one).
LENGTH_FIELDS: tuple[str, ...] = (
    "shift_confirm_points",
    "shift_segment_z",
    "drop_confirm_points",
)
