"""The per-scene pipeline: read the site window, judge quality, detect, count, store.

:func:`process_scene` is a pure function of a :class:`SceneJob` (no database), so the
same code runs in-process or as a task on a distributed cluster; :func:`process_site`
feeds it the site's pending scenes and writes each outcome in its own transaction:
a scene is recorded whole or not at all, and an interrupted run loses nothing that
was already recorded.

Before a scene is read, its file is checked against what was ingested
(:func:`railwatch.ingest.check_unchanged`: its size and times, its SHA-256 when they
differ): a file replaced by another image fails the scene with the reason, and the other
image's cars are never recorded under the scene's date.

Lock order (PostgreSQL row locks; SQLite has one writer at a time and no row locks).
Since 2026-12-05 (session 32) every transaction that locks rows follows it, so that no
two wait on each other:

1. A site's processing, track editing and removal first take the site's advisory lock
   (:func:`processing_lock`, :func:`editing_lock`, :func:`removal_lock`), outside any
   row lock. Then the site's row: a removal deletes it (``repo.remove_site``) before the
   foreign keys' cascades delete its alerts, scenes, counts and the rest; an analysis
   that stores its alerts locks it ``FOR KEY SHARE`` before anything else
   (``analysis.store._hold_site``, since 2026-12-05, session 32; ``analyze_and_store``'s
   writing session ``FOR NO KEY UPDATE`` since 2026-12-06, session 35 review, so that
   two analyses of a site store one after the other), so a removal waits for
   the analysis to end, and an analysis coming after a removal waits for it and says
   the site was removed. The analysis takes no advisory lock: those are refused at once
   when held, and an analysis during a processing run is allowed. So do, since
   2026-12-05 (session 32; ``repo.hold_site``), the writers that insert a row
   referencing the site (``ingest``, ``ingest-stac``: ``repo.add_scene``; ``event
   add``), change an event (``event edit``), review a scene or remove its review, and
   ``scene import-reviews``, which locks several scenes. The writers that lock one
   scene and write only that scene's rows (``ingest``'s updates of an image already
   there) and ``event remove`` take no lock on the site's row: a removal cannot
   deadlock with them.
2. Scene rows, ``FOR NO KEY UPDATE`` (``repo.lock_scene``; no writer changes a scene's
   id): a transaction that locks several (:func:`record_outcome`: the scene and the
   references its result was read with or records stamps on) locks all of them in its
   first locking statement, in ascending id (:func:`_lock_scenes`); any later
   ``repo.lock_scene`` / ``lock_scene_if_there`` in it only takes a row it holds
   already. Every other writer of scenes (``ingest``, ``ingest-stac``, ``scene
   review``) locks one scene per transaction, but ``scene import-reviews``, which
   locks its scenes one after the other in ascending id, holding the site's row
   first. Before session 32 a recording
   locked its own row and then its references': two results recorded at once, each a
   reference of the other, deadlocked.
3. Alert rows, ``FOR UPDATE``: a site's alerts in ascending id
   (``analysis.store._move_keys``, ``repo.replace_alerts``), one alert for an
   acknowledgement (``repo.get_alert(lock=True)``, the API's ``POST
   /alerts/{id}/ack``). A recording locks no alert, and the analysis no scene. One
   transaction locks both: ``scene remove`` (``repo.remove_scenes``, since 2026-12-06,
   session 41), and it takes alerts before scenes, against the order above, only
   where that cannot deadlock: it holds the site's advisory processing lock (no
   recording runs on the site) and the site's row ``FOR NO KEY UPDATE`` first, which
   an analysis' writing session takes too (the two take turns); a review or an import
   holds the site's row ``FOR KEY SHARE`` and locks no alert, an acknowledgement one
   alert and no scene. An alert stored with a ``scene_id`` (like a
   count or a detection) takes a key-share lock on that scene's row (its foreign key
   check), which ``FOR NO KEY UPDATE`` does not conflict with; with ``FOR UPDATE``
   (before session 32) an analysis storing alerts on two scenes, in the order of their
   keys, and a recording locking both deadlocked.

PostgreSQL aborted one of the two in each case ("deadlock detected"; nothing was half
written). ``tests/test_lock_order_s32.py`` plays both in two threads, and checks the
statements of a recording on any backend. Before the site row's lock in the analysis
(session 32), a site's removal (the site's row, then the alerts through the cascade)
and an analysis of that site (the alerts, then a key-share lock on the site's row as it
inserted one) deadlocked the same way; ``tests/test_site_removal_analysis_s32c.py``
plays it, and the analysis coming after the removal. So did a removal (the site's row,
then its scenes in the order the cascade finds them) and ``scene import-reviews`` (its
scenes in ascending id) before the import held the site's row;
``tests/test_site_removal_writers_s32e.py`` plays it, and the other writers coming
after a removal began (they failed on the foreign key, or with "no scene with id N").
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, NoReturn, cast

import numpy as np
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from railwatch.counting import SceneCount, count_scene, near_tracks
from railwatch.detect.base import Detector, OccupiedRun
from railwatch.detect.coarse import (
    ESTIMATOR_VERSION,
    PRESENCE_VERSION,
    EmptyTrack,
    empty_track,
    method_for_gsd,
    relative_colours,
    runs_to_crs,
    site_background,
    site_empty_track,
    tracks_to_pixels,
)
from railwatch.errors import RailwatchError, StorageError, plural
from railwatch.imagery import Quality, assess_quality, read_site_window, site_grid
from railwatch.imagery.inspect import ITEM_SCALING_KEY, is_remote, rgb_of, sun_of
from railwatch.imagery.places import HISTORY_SCENES, places_of
from railwatch.imagery.quality import QUALITY_VERSION, PackedMask, readable_pixels
from railwatch.imagery.read import (
    DISPLAY_MAPPING_VERSION,
    INPUT_MAPPING_VERSION,
    ITEM_NODATA_KEY,
    ItemScaling,
    Radiometry,
    SiteGrid,
    SiteRaster,
    SiteWindow,
    item_nodata_of,
    item_scaling_of,
    own_grid,
    pixels_of,
    radiometry_of,
)
from railwatch.imagery.register import (
    MAX_REFERENCES,
    REGISTRATION_VERSION,
    Registration,
    highpass,
    register,
    registration_grid,
)
from railwatch.imagery.size import image_too_small
from railwatch.ingest import (
    FILE_STAMP_KEY,
    FIRST_USE_KEY,
    MASK_STAMP_KEY,
    FirstUseHashes,
    check_mask_unchanged,
    check_unchanged,
    first_use_stamp,
    first_use_stamps,
    hash_is_content,
    mark_mask_changed,
    mark_to_count_again,
    sidecars_changed,
    sidecars_listed,
    stac_item_of,
)
from railwatch.storage import Database, repo
from railwatch.storage.db import LockLostError
from railwatch.storage.models import ANALYST, Detection, Scene, Site
from railwatch.storage.records import DetectionRecord, records_from_detections

__all__ = [
    "REFERENCE_CHANGED",
    "ProcessSummary",
    "Recount",
    "SceneJob",
    "SceneOutcome",
    "grid_gsd",
    "process_scene",
    "process_site",
    "processing_lock",
    "reference_fingerprint",
    "retrack_site",
    "split_history",
    "with_first_use_stamps",
    "with_history",
]

log = logging.getLogger(__name__)

#: Finest grid the pipeline reads a site at; finer imagery is averaged down to it.
MIN_GRID_GSD = 0.25
#: From this many window pixels a 0.3-1.5 m site window's image stays in the file, read
#: band of rows by band of rows (``read_site_window(..., lazy=True)``); smaller windows
#: are read whole, which peaks lower there (fixed caches of about 450 MB against 17-25 B
#: a pixel: 4 Mpx 552 MB by rows against about 510 MB whole, even near 36 Mpx; 144 Mpx
#: 1.52 GB against about 2.2 GB; docs/benchmarks.md, session 36) and reads the file once.
#: Where the Dask worker guard's two figures cross (``distributed.window_bytes``).
LAZY_WINDOW_PIXELS = 32_000_000

ProgressCallback = Callable[[int, int, str], None]
#: Scenes within this factor of a coarse scene's resolution can be its references.
REFERENCE_GSD_RATIO = 2.0
#: A coarse scene's job lists this many candidate references, nearest in time first;
#: the first ``MAX_REFERENCES`` usable ones are read (:func:`_read_references`).
REFERENCE_CANDIDATES = 3 * MAX_REFERENCES


@dataclass(frozen=True)
class ReferenceScene:
    """Another scene of the site that a coarse scene is registered against
    (:mod:`railwatch.imagery.register`)."""

    uri: str
    mask_uri: str | None = None
    rgb_bands: tuple[int, int, int] | None = None
    radiometry: Radiometry = "linear"
    #: The scale and offset its STAC item declares for its bands, as for :class:`SceneJob`.
    item_scaling: ItemScaling | None = None
    #: The nodata value its STAC item declares, as for :class:`SceneJob`.
    item_nodata: float | None = None
    #: Its scene's id, to record the stamps its check renews (:class:`ReferenceStamps`).
    scene_id: int | None = None
    #: Its SHA-256, file stamp and mask stamp as for :class:`SceneJob`: a reference whose
    #: file or mask changed since ingest is left out (its pixels would move the scene's
    #: registration and empty track); a hash of None: its file not checked; a mask stamp
    #: of None: its local mask (of `railwatch ingest`, or of a STAC item, ingested
    #: before masks were stamped) is stamped as it is read, at this first use, recorded
    #: on its scene with the outcome (:class:`ReferenceStamps`).
    content_hash: str | None = None
    file_stamp: Mapping[str, Any] | None = None
    mask_stamp: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ReferenceStamps:
    """A reference's file or mask hashed again and found unchanged (its times moved):
    the new stamps, recorded on its scene with the outcome (:func:`record_outcome`) so
    the next coarse scene need not hash it, when the scene still has the hash and stamps
    it was checked against (``was_*``)."""

    scene_id: int
    content_hash: str | None
    was_file: Mapping[str, Any] | None
    file_stamp: dict[str, Any] | None
    was_mask: Mapping[str, Any] | None
    mask_stamp: dict[str, Any] | None
    #: The quality mask the stamps are of: a scene that took another since keeps its own.
    mask_uri: str | None = None


@dataclass(frozen=True)
class SceneJob:
    """Everything needed to process one scene, without a database."""

    scene_id: int
    uri: str
    gsd: float
    site_geometry: BaseGeometry
    mask_uri: str | None = None
    tracks: BaseGeometry | None = None
    usable_threshold: float = 0.8
    #: The sun's (azimuth, elevation) in degrees from the scene's metadata, when known.
    sun: tuple[float, float] | None = None
    #: The whole image's size in pixels (0: unknown); one smaller than a railcar
    #: (:func:`railwatch.imagery.size.image_too_small`) is unusable, never a zero count.
    width: int = 0
    height: int = 0
    #: 1-based (red, green, blue) bands from the scene's metadata, when it names them.
    rgb_bands: tuple[int, int, int] | None = None
    #: The file's pixel type (``uint8``, ``uint16``...), for :func:`processing_version`.
    dtype: str | None = None
    #: How non-8-bit pixels are mapped to 8 bits (the scene's ``radiometry``, from
    #: ``ingest --radiometry``; :func:`railwatch.imagery.read.to_rgb8`).
    radiometry: Radiometry = "linear"
    #: How a 16-bit or float file holds 8-bit values, as ingest judged it (the scene's
    #: ``eight_bit_values``: :func:`railwatch.imagery.inspect.eight_bit_values`), or None:
    #: an unusable scene of it read as linear says to ingest it with ``--radiometry
    #: display`` (:func:`stretched_note`; session 47).
    eight_bit: str | None = None
    #: The scale and offset of each band that only the scene's STAC item declares
    #: (``raster:bands``, :func:`railwatch.imagery.read.item_scaling_of`), applied where
    #: the file declares none.
    item_scaling: ItemScaling | None = None
    #: The nodata value the scene's STAC item declares for its file
    #: (:func:`railwatch.imagery.read.item_nodata_of`), read as the file's where it
    #: declares none (session 38).
    item_nodata: float | None = None
    #: For a coarse scene with track centrelines: the site's other scenes nearest in
    #: time at a similar resolution, to register it against before the centrelines are
    #: sampled (:func:`register_scene`).
    references: tuple[ReferenceScene, ...] = ()
    #: The SHA-256 recorded at ingest, checked before the file is read
    #: (:func:`railwatch.ingest.check_unchanged`); None: not checked (a remote file, or a
    #: scene registered from a STAC catalog whose hash is not the file's).
    content_hash: str | None = None
    #: The STAC item (``COLLECTION/ID``) that registered the scene, if one did: a
    #: changed file or quality mask then says so (re-ingesting the path finds that
    #: item's scene; `railwatch ingest-stac` run again takes a new mask).
    stac_item: str | None = None
    #: The file's size and times when it was last hashed (``railwatch:file`` in the
    #: scene's metadata); the file is hashed again only when they differ. Its result is
    #: recorded only while the scene still has this stamp, or one of the same image and
    #: sidecars (:func:`record_outcome`): `railwatch ingest` describes the scene anew
    #: when its sidecars change.
    file_stamp: Mapping[str, Any] | None = None
    #: The quality mask's size, times and SHA-256 recorded at ingest
    #: (:data:`railwatch.ingest.MASK_STAMP_KEY`), checked before the mask is read
    #: (:func:`railwatch.ingest.check_mask_unchanged`). None: no local mask (none, or a
    #: remote one: not checked), or a local one ingested, or registered from a STAC
    #: catalog, before railwatch stamped masks (before session 29), which is read as it
    #: is and stamped at this first use (:func:`_check_mask`). A stamp is only ever
    #: recorded for a local mask file, so it is checked whatever the scene's hash is.
    #: Its result is recorded only while the scene still has this mask and stamp (or
    #: another stamp of the same bytes): :func:`record_outcome`.
    mask_stamp: Mapping[str, Any] | None = None
    #: The first-use stamps taken by the run's client of the unstamped quality masks
    #: this job reads with other jobs of the run (its own, its references'), keyed as
    #: :func:`railwatch.ingest.first_use_stamp` keeps them (:func:`with_first_use_stamps`):
    #: a job run on a Dask worker, outside the run, hashes none of them again while its
    #: size and times stay those it was hashed with. None: none taken for it.
    first_use_stamps: FirstUseHashes | None = None
    #: Why a scene already counted with this processing version is counted again by a
    #: plain run (one of the references its result was read with changed or was removed
    #: since, :func:`_reference_changed_since`), for the run to say; None: it is pending
    #: (or ``--reprocess``).
    recount: str | None = None
    #: For a site without track centrelines, a scene counted car by car: the footprints
    #: (lon/lat) of the cars detected in the site's other usable images counted so, the
    #: :data:`~railwatch.imagery.places.HISTORY_SCENES` nearest in time
    #: (:func:`_car_history`): where cars can stand, whose clear share the quality step
    #: judges too (:mod:`railwatch.imagery.places`; session 39).
    history: tuple[BaseGeometry, ...] = ()
    #: Whose footprints ``history`` holds, in its order: (scene id, how many of them).
    #: The Dask path sends each scene's footprints to the cluster once and its jobs
    #: without them (:func:`split_history`, :func:`with_history`; review r5: each job
    #: pickled its own copy, 4.1 MB for 40,000 footprints).
    history_scenes: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class SceneOutcome:
    """The result of :func:`process_scene`: quality always; detections and counts
    when the scene is usable; ``error`` when the scene could not be processed."""

    scene_id: int
    quality: Quality | None
    detections: tuple[DetectionRecord, ...] = ()
    count: SceneCount | None = None
    error: str | None = None
    gsd: float | None = None  # the scene's resolution (metres), when it was read
    dtype: str | None = None  # the scene's pixel type, when known
    radiometry: Radiometry = "linear"  # how its non-8-bit pixels were mapped to 8 bits
    #: How a coarse scene was registered to its site before its centrelines were
    #: sampled (None: not attempted, e.g. object counts or no centrelines).
    registration: Registration | None = None
    #: How many of the site's other images gave the coarse scene its empty track
    #: (:func:`railwatch.detect.coarse.site_empty_track`; 0: none, the image's own colour
    #: was used).
    empty_track_images: int = 0
    #: The file's new stamp when it was hashed again and found unchanged (its times
    #: changed, or none was recorded), to record so the next run need not hash it.
    file_stamp: dict[str, Any] | None = None
    #: The quality mask's new stamp when it was hashed again and found unchanged, or
    #: when it was stamped at its first use (none was recorded).
    mask_stamp: dict[str, Any] | None = None
    #: The quality mask the scene was judged with, as its job had it (``mask_uri``,
    #: ``mask_stamp``): :func:`record_outcome` records the outcome, a result or a
    #: failure, only while the scene still has it (None: not checked, an outcome made
    #: elsewhere).
    job_mask: tuple[str | None, Mapping[str, Any] | None] | None = None
    #: The file's stamp as its job had it (``SceneJob.file_stamp``; ``file_stamp``
    #: above, when set, is what was read): :func:`record_outcome` records the outcome
    #: only while the scene's stamp still has the same files GDAL reads with the image
    #: (None with no ``file_stamp``: nothing to compare, as for an outcome made
    #: elsewhere or a scene ingested before railwatch kept stamps).
    job_file: Mapping[str, Any] | None = None
    #: The scales and offsets its STAC item declared for its bands as its job read the
    #: scene with them (``SceneJob.item_scaling``), in a 1-tuple: ``(None,)`` when the job
    #: had none. :func:`record_outcome` records the outcome only while the scene still
    #: has them (None: not checked, an outcome made elsewhere).
    job_scaling: tuple[ItemScaling | None] | None = None
    #: The nodata value its STAC item declared as its job read the scene with it
    #: (``SceneJob.item_nodata``), in a 1-tuple, as ``job_scaling`` (session 38).
    job_nodata: tuple[float | None] | None = None
    #: The colour bands its job read the scene with (``SceneJob.rgb_bands``), in a
    #: 1-tuple: ``(None,)`` when none were given. :func:`record_outcome` records the
    #: outcome only while the scene still has them (`railwatch ingest --bands` meanwhile).
    job_bands: tuple[tuple[int, int, int] | None] | None = None
    #: The same for the references read (a coarse scene's), to record on their scenes.
    reference_stamps: tuple[ReferenceStamps, ...] = ()
    #: The references a coarse scene's result was read with (each read, usable or not),
    #: as its job had them: :func:`record_outcome` records the result only while their
    #: scenes still have the image, quality mask, sidecars, item scales, colour bands and
    #: radiometry they were read with (:func:`_reference_changed_meanwhile`).
    references_read: tuple[ReferenceScene, ...] = ()
    #: True when the failure means the scene's earlier result no longer describes its
    #: file (the file changed since ingest): that result is then removed. Any other
    #: failure (a file moved or unreadable, a detector that cannot load) keeps it.
    invalidates: bool = False
    #: For a length count: the stretches of track read as occupied, in WGS84 lon/lat
    #: (kept with the scene's result: :func:`railwatch.storage.repo.occupied_runs_of`).
    occupied: tuple[OccupiedRun, ...] = ()


@dataclass
class ProcessSummary:
    """What one :func:`process_site` run did."""

    site: str
    detector: str
    version: str
    processed: list[int] = field(default_factory=list)
    unusable: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    skipped: int = 0
    #: Coarse scenes registered to the site's other images: the shift in metres of each.
    registered: list[float] = field(default_factory=list)
    #: Coarse scenes counted along the track lines as given: why, for each.
    not_registered: list[str] = field(default_factory=list)
    #: Scenes up to date with this processing version counted again, and why: one of
    #: the references their result was read with changed or was removed since
    #: (``SceneJob.recount``; since 2026-12-05, session 31).
    recounted: list[tuple[int, str]] = field(default_factory=list)
    #: Scenes recorded (counted or unusable) after a Dask worker that had their task
    #: died (killed, out of memory, crashed) and Dask ran it again, and what happened
    #: (:mod:`railwatch.distributed`; before 2026-12-06, session 35, a run that lost a
    #: worker said nothing of it).
    retried: list[tuple[int, str]] = field(default_factory=list)
    #: Why the site was not processed at all when another run held it (a run of several
    #: sites goes on with the others; since 2026-12-06, session 35), else None.
    busy: str | None = None
    #: Scenes counted by objects whose intervals rest on an assumed scene-to-scene
    #: spread of recall of the detector's calibration (``SceneCount.spread_assumed``),
    #: with their resolution (metres; None where not read): ``railwatch process`` says so
    #: (since 2026-12-07, session 51; only ``railwatch detect`` did).
    spread_assumed: list[tuple[int, float | None]] = field(default_factory=list)

    def plan(self, jobs: Sequence[SceneJob]) -> None:
        """File why each of the run's ``jobs`` that is counted again is
        (``SceneJob.recount``), before they run."""
        self.recounted.extend((job.scene_id, job.recount) for job in jobs if job.recount)

    @property
    def total(self) -> int:
        return len(self.processed) + len(self.unusable) + len(self.failed)

    def add(self, scene_id: int, outcome: SceneOutcome) -> None:
        """File one scene's outcome (failed, unusable or counted; and how it was
        registered, when it was a coarse scene of a site with track lines)."""
        if outcome.error is not None:
            self.failed.append((scene_id, outcome.error))
        elif outcome.quality is not None and not outcome.quality.usable:
            self.unusable.append(scene_id)
        else:
            self.processed.append(scene_id)
            count = outcome.count
            if count is not None and count.spread_assumed:
                self.spread_assumed.append((scene_id, outcome.gsd))
            reg = outcome.registration
            if reg is not None and reg.applied:
                self.registered.append(math.hypot(reg.dx_m, reg.dy_m))
            elif reg is not None:
                self.not_registered.append(reg.reason)


def grid_gsd(scene_gsd: float) -> float:
    """The site-grid resolution used for a scene of ``scene_gsd`` metres."""
    return max(MIN_GRID_GSD, round(float(scene_gsd), 3))


def _stretched(dtype: str | None) -> bool:
    """Is an image of ``dtype`` stretched to 8 bits when read (not uint8)?"""
    return dtype is not None and dtype != "uint8"


def processing_version(
    detector: Detector,
    gsd: float | None,
    dtype: str | None = None,
    radiometry: Radiometry = "linear",
) -> str:
    """The version a scene of ``gsd`` metres is recorded with: the detector's below
    1.5 m; at 1.5 m and coarser (where the occupied-length estimate counts, not the
    detector) the detector's plus the estimator's (``coarse.ESTIMATOR_VERSION``) and the
    registration's (``imagery.register.REGISTRATION_VERSION``), so a new estimator or
    registration has those scenes counted again, as a new detector has the others (at
    10 m and coarser also the long-train flag's, ``coarse.PRESENCE_VERSION``). A
    scene whose pixels are not 8-bit (``dtype``) also carries the version of their
    mapping to 8 bits for its ``radiometry`` (``imagery.read.INPUT_MAPPING_VERSION``, or
    ``DISPLAY_MAPPING_VERSION`` for display-encoded data), so a scene declared
    display-encoded after it was counted is counted again. Every scene ends with the
    quality rules' version (``imagery.quality.QUALITY_VERSION``, since session 43): new
    rules judge every stored scene again, an unusable one too."""
    version = detector.version
    method = None if gsd is None else method_for_gsd(grid_gsd(gsd))
    if method is not None and method != "objects":
        version = f"{version}+length{ESTIMATOR_VERSION}+reg{REGISTRATION_VERSION}"
    if method == "presence":
        version = f"{version}+presence{PRESENCE_VERSION}"
    if _stretched(dtype):
        mapping = DISPLAY_MAPPING_VERSION if radiometry == "display" else INPUT_MAPPING_VERSION
        version = f"{version}+in{mapping}"
    return f"{version}+q{QUALITY_VERSION}"


#: Added to the reasons of an unusable non-8-bit scene judged without a quality mask.
STRETCHED_NOTE = (
    "judged from the pixels of 16-bit or float data stretched to 8 bits, which can read "
    "clear ground as haze, snow or cloud: give the provider's quality mask (NAME.mask.tif "
    "or NAME_udm2.tif beside the image) to judge it reliably; if the file is a visual "
    "product already encoded for the screen (8-bit values scaled to 16 bits), ingest it "
    "again with --radiometry display"
)


def stretched_note(job: SceneJob) -> str:
    """What an unusable scene of 16-bit or float data read as linear, judged without a
    quality mask, adds to its reasons: :data:`STRETCHED_NOTE`, or, where ingest found
    its values 8-bit ones (``job.eight_bit``: multiples of 257 or of another factor, or
    none above 255), that it is most likely a visual product and how to ingest it so.
    Until 2026-12-07 (session 47) such a scene, a clear yard read as "63 % snow", said
    only the general note, which asked for a quality mask first."""
    if job.eight_bit is None:
        return STRETCHED_NOTE
    from railwatch.imagery.inspect import eight_bit_words

    return (
        f"its values are 8-bit ones ({eight_bit_words(job.eight_bit)}): most likely a "
        "visual product already encoded for the screen, stored in more bits, which read "
        "as linear radiance is stretched with a display gamma and comes out washed out "
        "(clear ground read as snow, haze or cloud); ingest it again with --radiometry "
        "display (`railwatch ingest SITE FILE --radiometry display`, or `railwatch "
        "ingest-stac SITE --stac URL --radiometry display`): the scene is then judged "
        "and counted again"
    )


def _eight_bit_of(meta: Any) -> str | None:
    """A scene's ``eight_bit_values`` (its metadata), or None."""
    value = meta.get("eight_bit_values") if isinstance(meta, Mapping) else None
    return value if isinstance(value, str) else None


def process_scene(job: SceneJob, detector: Detector) -> SceneOutcome:
    """Read, judge, detect and count one scene over its site. Never raises for a
    bad scene: the reason is returned in ``SceneOutcome.error``, also when the file is no
    longer the image ingested as the scene (its hash differs). Every outcome, a failure
    too, carries what its job read the scene with (:func:`_read_with`), for
    :func:`record_outcome` to check against what the scene has when it is written."""
    with _stamps_taken_for(job):
        return _process_scene(job, detector)


def _grey_reason(raster: SiteRaster, gsd: float) -> str | None:
    """:func:`railwatch.detect.coarse.grey_reason` of a coarse scene's window over its
    site (the pixels with data inside it; coarse windows are read whole)."""
    from railwatch.detect.coarse import grey_reason

    seen = np.asarray(raster.valid, dtype=bool) & np.asarray(raster.inside, dtype=bool)
    return grey_reason(raster.image, seen, gsd)


#: How far a file's pixels may be from square on the ground for a coarse scene to be
#: counted on them (:func:`_own_pixels`): the occupied length is read at one gsd a pixel.
OWN_PIXELS_SQUARE = 0.02


def _own_pixels(
    job: SceneJob, grid: SiteGrid, raster: SiteRaster | SiteWindow, read_with: dict[str, Any]
) -> SiteRaster | None:
    """The scene read on the cut of its file's own pixel grid over the site
    (:func:`railwatch.imagery.read.own_grid`), where a coarse scene counted by occupied
    length was read on the site grid's resampling of the file: the file in another CRS
    (another UTM zone, Web Mercator) or at a pixel size other than the grid's. None where
    the grid's pixels are the file's (a cut of it) or the file's moved by a fraction of
    a pixel (``sharp_shift``: read on them already, session 41), below 1.5 m or at 10 m
    and coarser, and where the file's pixels are not square on the ground
    (:data:`OWN_PIXELS_SQUARE`: lon/lat away from the equator, read on the grid as
    before; within about 11° of it a lon/lat file's pixels are square to 2 % and are read
    as the file's own) or rotated.

    Thirty simulated 3 m yards (seeds 100-129) delivered in the neighbouring UTM zone or
    in EPSG:3857 read within ±15 % on 9-11 of 30 on the grid, 13-14 on the file's own
    pixels (`benchmarks/bench_coarse_other_crs.py`; 2026-12-06, session 42)."""
    if method_for_gsd(grid.gsd) != "length" or not isinstance(raster, SiteRaster):
        return None
    if raster.file_offset is not None or raster.sharp_shift is not None:
        return None
    at = own_grid(job.uri, job.site_geometry, gsd=grid.gsd, square=OWN_PIXELS_SQUARE)
    if at is None:
        return None
    return read_site_window(job.uri, at, **read_with)


def _shift_onto(
    shift: tuple[float, float] | None, grid: SiteGrid, onto: SiteGrid
) -> tuple[float, float] | None:
    """The move ``shift`` (columns, rows of ``grid``) of what is drawn on ``grid``, in
    columns and rows of the grid ``onto`` (another CRS or pixel size), measured at the
    middle of ``grid``."""
    if shift is None:
        return None
    from pyproj import Transformer

    cx, cy = grid.width / 2.0, grid.height / 2.0
    x0, y0 = grid.transform @ (cx, cy)
    x1, y1 = grid.transform @ (cx + shift[0], cy + shift[1])
    tr = Transformer.from_crs(grid.crs, onto.crs, always_xy=True)
    xs, ys = tr.transform([x0, x1], [y0, y1])
    inv = ~onto.transform
    c0, r0 = inv @ (float(xs[0]), float(ys[0]))
    c1, r1 = inv @ (float(xs[1]), float(ys[1]))
    return (c1 - c0, r1 - r0)


def _process_scene(job: SceneJob, detector: Detector) -> SceneOutcome:
    """:func:`process_scene` once the job's first-use stamps are at hand."""
    from contextlib import ExitStack

    stamp: dict[str, Any] | None = None
    masked: dict[str, Any] | None = None
    # a large window's valid and inside at one bit a pixel from its read to its count
    packed = ExitStack()
    try:
        if job.content_hash is not None:  # before anything is read from the file
            stamp = _check_file(job, job.content_hash)
        masked = _check_mask(job)
        grid = site_grid(job.site_geometry, grid_gsd(job.gsd))
        objects = method_for_gsd(grid.gsd) == "objects"
        read_with: dict[str, Any] = {
            "mask_uri": job.mask_uri,
            "site_geom": job.site_geometry,
            "bands": job.rgb_bands,
            "radiometry": job.radiometry,
            "item_scaling": job.item_scaling,
            "nodata": job.item_nodata,
        }
        with ExitStack() as held:
            # At 0.3-1.5 m a large window's image stays in the file, read strip by strip
            # for the quality estimate and tile by tile for the detector, with the same
            # pixels (session 36: the whole read held about 14 B a window pixel, 2.2 GB
            # for 144 Mpx; LAZY_WINDOW_PIXELS); the coarse paths' windows are small in
            # pixels, read whole.
            raster: SiteRaster | SiteWindow
            if objects and grid.width * grid.height >= LAZY_WINDOW_PIXELS:
                raster = held.enter_context(read_site_window(job.uri, grid, lazy=True, **read_with))
                # its valid and inside at one bit a pixel while it is judged, detected and
                # counted (session 39)
                packed.enter_context(_masks_packed(raster))
            else:
                raster = read_site_window(job.uri, grid, **read_with)
            # also the clear share of where cars can stand: the site's tracks (at any
            # resolution: a coarse count reads along them, session 40), else, where cars
            # are counted one by one, where its other images saw cars (session 39)
            places = places_of(grid, job.tracks, _history_of(job) if objects else ())
            quality = assess_quality(raster, threshold=job.usable_threshold, places=places)
            small = image_too_small(job.width, job.height, job.gsd) if job.width else None
            if small is not None:  # it would read as "0 railcars" where it cannot show one
                quality = replace(quality, usable=False, reasons=(small, *quality.reasons))
            grey = (
                _grey_reason(raster, grid.gsd)
                if not objects and isinstance(raster, SiteRaster)
                else None
            )
            if grey is not None:  # a coarse count of a grey image reads too few (session 40)
                quality = replace(quality, usable=False, reasons=(grey, *quality.reasons))
            if (
                not quality.usable
                and quality.source == "estimated"
                and _stretched(job.dtype)
                and job.radiometry == "linear"
            ):
                # the estimate's brightness rules misread stretched 16-bit or float data
                # as hazy or cloudy more often than 8-bit (docs/detection.md, "Input
                # imagery")
                quality = replace(quality, reasons=(*quality.reasons, stretched_note(job)))
            if not quality.usable:
                return SceneOutcome(
                    job.scene_id,
                    quality,
                    gsd=job.gsd,
                    dtype=job.dtype,
                    radiometry=job.radiometry,
                    file_stamp=stamp,
                    mask_stamp=masked,
                    **_read_with(job),
                )
            detections = []
            if objects:
                from railwatch.detect.api import detect_array

                valid = _detect_valid(raster)
                # tiles anchored to the file's pixels: where the site grid is a cut of
                # them, the window is tiled as `railwatch detect` tiles the whole file
                # (session 34)
                with _inside_packed(raster):
                    detections = detect_array(
                        raster.image,
                        grid.gsd,
                        detector=detector,
                        valid=valid,
                        origin=raster.file_offset or (0, 0),
                    )
                # Where the analyst drew the tracks, only cars on them are kept.
                detections = near_tracks(detections, job.tracks, grid)
        # counting objects reads the window's site pixels, not its image
        counted = raster.without_pixels() if isinstance(raster, SiteWindow) else raster
        # Coarser imagery: count_scene estimates occupied track length itself, along the
        # site's track centrelines when the analyst gave them, moved with the image's
        # content when it registers to the site's other images.
        registration = None
        shift = None
        empty = None
        background = None
        refs = None
        read: list[ReferenceScene] = []
        if method_for_gsd(grid.gsd) != "objects" and job.tracks is not None:
            refs = _read_references(job, grid, read=read)
            registration = register_scene(job, grid, refs)
            if registration.applied:
                shift = (registration.cols, registration.rows)
            # the site's empty track from the same images (a crowded yard's cars are not
            # taken for its empty track)
            empty = site_empty_track([r.empty for r in refs])
            # at 10 m, the same images' colours: a long train must stand out against them
            background = site_background([r.relative for r in refs])
        # a coarse scene whose file is resampled onto the grid (another CRS or pixel
        # size; not a cut of it, nor moved by a fraction of a pixel, which `counted`
        # reads on the file's own pixels already) is counted on the file's own pixels
        # over the site, the centrelines placed in its CRS (session 42)
        own = _own_pixels(job, grid, counted, read_with) if job.tracks is not None else None
        on = grid if own is None else own.grid
        count = count_scene(
            detections,
            counted if own is None else own,
            quality,
            tracks_wgs84=job.tracks,
            calibration=getattr(detector, "calibration", None),
            sun=job.sun,
            track_shift_px=shift if own is None else _shift_onto(shift, grid, own.grid),
            site_empty=empty,
            site_background=background,
        )
        records = records_from_detections(
            detections, grid.transform, grid.crs, site_geom_wgs84=job.site_geometry
        )
        occupied = runs_to_crs(count.occupied, on.transform, on.crs, "EPSG:4326")
        return SceneOutcome(
            job.scene_id,
            quality,
            tuple(records),
            replace(count, occupied=()),  # kept in lon/lat below, not in the grid's pixels
            occupied=occupied,
            gsd=job.gsd,
            dtype=job.dtype,
            radiometry=job.radiometry,
            registration=registration,
            empty_track_images=0 if empty is None else empty.images,
            file_stamp=stamp,
            mask_stamp=masked,
            **_read_with(job),
            reference_stamps=tuple(r.stamps for r in refs or () if r.stamps is not None),
            references_read=tuple(read),
        )
    except RailwatchError as err:
        from railwatch.ingest import FileChangedError

        return SceneOutcome(
            job.scene_id,
            None,
            error=str(err),
            invalidates=isinstance(err, FileChangedError),
            file_stamp=stamp,
            mask_stamp=masked,
            **_read_with(job),
        )
    except (OSError, ValueError, np.linalg.LinAlgError) as err:
        log.debug("scene %s failed", job.scene_id, exc_info=True)
        return SceneOutcome(
            job.scene_id,
            None,
            error=f"{type(err).__name__}: {err}",
            file_stamp=stamp,
            mask_stamp=masked,
            **_read_with(job),
        )
    finally:
        packed.close()


#: Why a window's ``inside`` cannot be read while its tiles are detected.
_INSIDE_WITHHELD = (
    "a site window's inside is packed to one bit a pixel while its tiles are detected "
    "(pipeline._inside_packed): read it before or after detection"
)


class _InsideWithheld:
    """What a window's ``inside`` is while :func:`_inside_packed` holds it packed: every
    use (an attribute such as ``.any()``, ``.sum()`` or ``.shape``, indexing, truth,
    iteration, an operator or a NumPy function) raises a :class:`RuntimeError` that says
    why. It was an empty ``(0, 0)`` array, of which ``.any()`` gave False, ``.sum()`` 0
    and a slice an empty mask, wrong answers without a word (session 38). ``nbytes`` (0)
    alone answers: it holds no pixel."""

    __slots__ = ()
    nbytes = 0

    def __repr__(self) -> str:
        return "<inside withheld: packed while the window is detected>"

    def __getattr__(self, name: str) -> NoReturn:
        raise RuntimeError(f"{_INSIDE_WITHHELD} (its .{name} was asked for)")

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError(_INSIDE_WITHHELD)

    __array__ = __array_ufunc__ = __array_function__ = _refuse
    __getitem__ = __setitem__ = __iter__ = __len__ = __bool__ = __contains__ = _refuse
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = __invert__ = _refuse
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __hash__ = None  # type: ignore[assignment]


@contextmanager
def _inside_packed(raster: SiteRaster | SiteWindow) -> Iterator[None]:
    """While a window read from its file is detected: its ``inside`` (which pixels lie
    in the site; read before by the quality estimate, after by the count, never by the
    detector) held at one bit a pixel (``np.packbits``) and given back as it was after,
    also where detection fails. A 144 Mpx window's is 144 MB at a byte a pixel, 18 MB
    packed, at the peak of ``process_scene``: detection (session 38). A window read
    whole is small (``LAZY_WINDOW_PIXELS``): left as it is. One that
    :func:`_masks_packed` holds packed already is given back packed, the same map."""
    if not isinstance(raster, SiteWindow):
        yield
        return
    inside: np.ndarray | PackedMask = raster.inside
    if isinstance(inside, PackedMask):
        packed, given = inside, True
    else:
        packed, given = PackedMask.of(inside), False
    del inside  # not held at a byte a pixel meanwhile
    # what reads it meanwhile fails, saying why (not an empty array: wrong answers)
    raster.inside = cast(np.ndarray, _InsideWithheld())
    try:
        yield
    finally:
        raster.inside = cast(np.ndarray, packed if given else packed.whole())


@contextmanager
def _masks_packed(raster: SiteRaster | SiteWindow) -> Iterator[None]:
    """While a window read from its file is judged (``assess_quality``), detected and
    counted: its ``valid`` and ``inside`` held at one bit a pixel (:class:`PackedMask`;
    read by rows by the quality estimate and the window's own reads, tile by tile by the
    detector; the count of objects reads ``inside`` alone, whole, while it counts). After,
    also where a step fails, ``inside`` is given back whole, as :func:`_inside_packed`
    gives it back (session 38); ``valid`` stays packed (the same values: nothing of
    ``process_scene`` reads it after, and giving it back took 144 MB more at 144 Mpx, at
    the end of ``process_scene`` its peak). At a byte a pixel they were 144 MB each for a
    144 Mpx window, held through every step and at its peak, the quality step (session
    38: 1.03 GB); 18 MB each packed (session 39). The same values: the results are the
    same bit for bit. A window read whole is small (``LAZY_WINDOW_PIXELS``): left as it
    is."""
    if not isinstance(raster, SiteWindow):
        yield
        return
    raster.valid = cast(np.ndarray, PackedMask.of(raster.valid))
    raster.inside = cast(np.ndarray, PackedMask.of(raster.inside))
    try:
        yield
    finally:
        held: np.ndarray | PackedMask = raster.inside
        if isinstance(held, PackedMask):
            raster.inside = held.whole()


def _detect_valid(raster: SiteRaster | SiteWindow) -> np.ndarray:
    """The pixels the detector may read: ``valid`` and, with a quality mask, not marked
    cloud (code 1). Where :func:`_masks_packed` holds ``valid`` packed, packed too and
    made band of rows by band of rows (``valid & (mask != 1)`` of the whole window took a
    byte a pixel, and its temporaries as much again: 288 MB at 144 Mpx)."""
    valid = raster.valid
    mask = raster.mask
    if mask is None:
        return valid
    if isinstance(valid, PackedMask):
        packed = valid
        return cast(
            np.ndarray,
            PackedMask.of_rows(packed.shape, lambda a, b: packed[a:b] & (mask[a:b] != 1)),
        )
    return valid & (mask != 1)


def _read_with(job: SceneJob) -> dict[str, Any]:
    """What an outcome of ``job`` carries of what the job read the scene with (its
    mask, file stamp, item scales and colour bands: ``SceneOutcome.job_*``), so that
    :func:`record_outcome` records it, a result or a failure, only while the scene
    still has them."""
    return {
        "job_mask": (job.mask_uri, job.mask_stamp),
        "job_file": job.file_stamp,
        "job_scaling": (job.item_scaling,),
        "job_nodata": (job.item_nodata,),
        "job_bands": (job.rgb_bands,),
    }


def task_failed(
    scene_id: int, err: BaseException | None, job: SceneJob | None = None
) -> SceneOutcome:
    """The outcome of a scene whose processing raised what :func:`process_scene` does
    not expect (or, on a cluster, whose task failed after its retries); with its ``job``,
    recorded only while the scene still has what the job read (:func:`_read_with`)."""
    return SceneOutcome(
        scene_id,
        None,
        error=f"task failed: {type(err).__name__}: {err}",
        **({} if job is None else _read_with(job)),
    )


def scene_failed(job: SceneJob, reason: str) -> SceneOutcome:
    """The failed outcome of ``job``, for ``reason``, found before it was processed
    (e.g. a site window too large for a Dask worker's memory); recorded only while the
    scene still has what the job read (:func:`_read_with`)."""
    return SceneOutcome(job.scene_id, None, error=reason, **_read_with(job))


def _check_file(job: SceneJob, content_hash: str) -> dict[str, Any] | None:
    """:func:`railwatch.ingest.check_unchanged` for the scene's file. For a scene of a
    STAC item, what to do says so: `railwatch ingest` of the path (or another item
    naming it) finds that item's scene and does not describe it anew, so the scene comes
    back only with the files it registered, and a new image needs a path of its own."""
    todo = None
    if job.stac_item is not None:
        todo = (
            f"put back what STAC item {job.stac_item} registered (`railwatch ingest` of "
            "this path, or another STAC item naming it, finds this scene again: to count "
            "a new image, give it a path of its own); nothing is counted from it under "
            "this scene until then"
        )
    return check_unchanged(job.uri, content_hash, job.file_stamp, todo=todo)


def _check_mask(job: SceneJob) -> dict[str, Any] | None:
    """:func:`railwatch.ingest.check_mask_unchanged` for the scene's quality mask. For a
    scene of a STAC item, what to do says so: `railwatch ingest` of the image finds the
    item's scene and leaves its mask as it was, while `railwatch ingest-stac` run again
    over the catalog takes the mask as it is now (and has the scene counted again).

    A scene ingested before masks were stamped (a file of `railwatch ingest`, or a STAC
    item's scene registered before session 29) has no mask stamp: its local mask is
    read as it is, as before, and stamped now (trust on first use, marked so in the
    stamp, :func:`railwatch.ingest.first_use_stamp`), recorded with the scene's result,
    so that a mask replaced from then on is refused."""
    todo = None
    if job.mask_stamp is None:
        stamp = _first_use_stamp(job.mask_uri)
        if stamp is not None:
            log.info(
                "scene %s%s: its quality mask %s had no integrity stamp (ingested before "
                "railwatch stamped masks): stamped as read now, and refused if it is "
                "replaced from now on",
                job.scene_id,
                "" if job.stac_item is None else f" (STAC item {job.stac_item})",
                job.mask_uri,
            )
        return stamp
    if job.stac_item is not None:
        todo = (
            "run `railwatch ingest-stac` again over the catalog that holds STAC item "
            f"{job.stac_item} to judge the scene with this mask (it is then counted "
            "again), or put back the mask that was registered; nothing is counted from "
            "it under this scene until then"
        )
    return check_mask_unchanged(job.uri, job.mask_uri, job.mask_stamp, todo=todo)


#: The first-use stamps of masks without one taken in this :func:`process_site` run
#: (None outside a run), so that each is hashed once: the jobs are made before any
#: stamp is recorded, and a reference's mask was hashed for every scene that read it.
_FIRST_USE_HASHES: ContextVar[FirstUseHashes | None] = ContextVar(
    "railwatch_first_use_hashes", default=None
)


@contextmanager
def _one_hash_per_mask() -> Iterator[None]:
    """Within: :func:`_first_use_stamp` hashes each mask once (a run of its own, also
    when a run in the same thread came before)."""
    token = _FIRST_USE_HASHES.set({})
    try:
        yield
    finally:
        _FIRST_USE_HASHES.reset(token)


@contextmanager
def _stamps_taken_for(job: SceneJob) -> Iterator[None]:
    """Within: :func:`_first_use_stamp` finds the first-use stamps the run's client took
    for ``job`` (``SceneJob.first_use_stamps``), besides those of the run in this thread,
    if any; outside a run (a Dask task), it hashes each other mask once for the job."""
    run = _FIRST_USE_HASHES.get()
    if run is not None:
        for key, stamp in (job.first_use_stamps or {}).items():
            run.setdefault(key, stamp)
        yield
        return
    token = _FIRST_USE_HASHES.set(dict(job.first_use_stamps or {}))
    try:
        yield
    finally:
        _FIRST_USE_HASHES.reset(token)


def with_first_use_stamps(jobs: Sequence[SceneJob]) -> list[SceneJob]:
    """``jobs``, each given the first-use stamps of the unstamped local quality masks it
    reads with another of them (``SceneJob.first_use_stamps``), each mask hashed here
    once: for jobs run outside this process (Dask tasks), outside the run that keeps
    the stamps it takes (:func:`_one_hash_per_mask`), where each job hashed every such
    mask it read, a coarse scene's own and its references' (before session 31 a mask
    that five scenes of a Dask run read was hashed five times). A mask only one job reads
    is left to that job (hashed where it runs, in parallel)."""
    reads = [_unstamped_masks(job) for job in jobs]
    shared = {uri for uri, n in Counter(u for masks in reads for u in masks).items() if n > 1}
    if not shared:
        return list(jobs)
    hashed: FirstUseHashes = {}
    out = []
    for job, masks in zip(jobs, reads, strict=True):
        taken = first_use_stamps(
            [u for u in masks if u in shared], "railwatch process", hashed=hashed
        )
        out.append(replace(job, first_use_stamps=taken) if taken else job)
    return out


def _unstamped_masks(job: SceneJob) -> list[str]:
    """The quality masks without a stamp that ``job`` reads: its own and its first
    :data:`MAX_REFERENCES` references' (those read unless some are unusable; a mask
    hashed and never read would have its stamp recorded by no one, and be hashed again
    by the next run)."""
    masks = [job.mask_uri] if job.mask_stamp is None else []
    masks += [r.mask_uri for r in job.references[:MAX_REFERENCES] if r.mask_stamp is None]
    return list(dict.fromkeys(m for m in masks if m is not None))


def _first_use_stamp(mask_uri: str | None) -> dict[str, Any] | None:
    """:func:`railwatch.ingest.first_use_stamp` by ``railwatch process``, hashing a mask
    met before in the same run (same path, size and times) only once."""
    return first_use_stamp(mask_uri, "railwatch process", hashed=_FIRST_USE_HASHES.get())


def _readable_highpass(raster: SiteRaster) -> np.ndarray:
    """The high-pass luminance a registration correlates, on readable ground only."""
    gsd = raster.grid.gsd
    # readable judged on the file's own pixels where the grid is resampled from them (the
    # bilinear warp reads as haze; session 40, imagery.read.pixels_of)
    readable = readable_pixels(np.asarray(pixels_of(raster)), raster.valid, raster.mask, gsd)
    return highpass(raster.image, readable, gsd)


@dataclass(frozen=True)
class _Reference:
    """What a coarse scene takes from one of its references: its high-pass luminance on
    the registration grid (:func:`register_scene`) and its empty track along the site's
    centrelines (:func:`railwatch.detect.coarse.empty_track`; None where it shows none)."""

    highpass: np.ndarray
    empty: EmptyTrack | None
    #: At 10 m and coarser, its relative colours on the site grid
    #: (:func:`railwatch.detect.coarse.relative_colours`); None finer than that.
    relative: np.ndarray | None = None
    #: Its file's or mask's new stamps, when they were hashed again (unchanged).
    stamps: ReferenceStamps | None = None


def _read_references(
    job: SceneJob, grid: SiteGrid, *, read: list[ReferenceScene] | None = None
) -> list[_Reference]:
    """The scene's references (``job.references``, nearest in time first), each read on
    the registration grid of ``grid`` (the scene's site grid, :func:`registration_grid`)
    and reduced at once to what the scene needs (:class:`_Reference`), so at most one
    is held whole: the first :data:`MAX_REFERENCES` usable over the site; one that
    cannot be read, or whose file or mask changed since ingest (:func:`_check_reference`),
    is left out, never raised. Going on past the unusable ones keeps the
    choice the same whether or not they were already judged unusable when the job was
    made (the first run of a site, or a re-run). ``read`` gets each reference read,
    usable or not (what the choice of references went by)."""
    wide = registration_grid(grid)
    lines = None if job.tracks is None else tracks_to_pixels(job.tracks, grid.crs, grid.transform)
    refs: list[_Reference] = []
    for ref in job.references:
        if len(refs) >= MAX_REFERENCES:
            break
        try:
            stamps = _check_reference(ref)
            r = _read_reference(job, ref, wide)
            if read is not None:
                read.append(ref)
            if not assess_quality(r, threshold=job.usable_threshold).usable:
                continue
            empty, relative = (
                (None, None) if lines is None else _site_reads_of(job, ref, r, grid, lines)
            )
        except (RailwatchError, OSError, ValueError) as err:
            log.debug("reference %s left out: %s", ref.uri, err)
            continue
        refs.append(_Reference(_readable_highpass(r), empty, relative, stamps))
    return refs


def _check_reference(ref: ReferenceScene) -> ReferenceStamps | None:
    """Check that a reference's file and quality mask are still those ingested, as a
    scene's own are checked before it is read (their size and times; their SHA-256 only
    when those differ): raises :class:`~railwatch.ingest.FileChangedError` or
    :class:`~railwatch.ingest.MaskChangedError` (the reference is then left out, and
    its own scene fails when it is processed again). A local mask without a stamp
    (ingested before masks were stamped) is read as it is and stamped at this first use
    (:func:`railwatch.ingest.first_use_stamp`), as a scene's own is (:func:`_check_mask`):
    once per :func:`process_site` run, however many of its scenes read it.
    Returns the stamps to record when one was hashed again and found unchanged, or
    stamped now, else None."""
    stamp = None
    if ref.content_hash is not None:
        stamp = check_unchanged(ref.uri, ref.content_hash, ref.file_stamp)
    if ref.mask_stamp is None:
        masked = _first_use_stamp(ref.mask_uri)
    else:
        masked = check_mask_unchanged(ref.uri, ref.mask_uri, ref.mask_stamp)
    if ref.scene_id is None or (stamp is None and masked is None):
        return None
    return ReferenceStamps(
        ref.scene_id,
        ref.content_hash,
        ref.file_stamp,
        stamp,
        ref.mask_stamp,
        masked,
        mask_uri=ref.mask_uri,
    )


def _read_reference(job: SceneJob, ref: ReferenceScene, grid: SiteGrid) -> SiteRaster:
    return read_site_window(
        ref.uri,
        grid,
        mask_uri=ref.mask_uri,
        site_geom=job.site_geometry,
        bands=ref.rgb_bands,
        radiometry=ref.radiometry,
        item_scaling=ref.item_scaling,
        nodata=ref.item_nodata,
    )


def _site_reads_of(
    job: SceneJob, ref: ReferenceScene, r: SiteRaster, grid: SiteGrid, lines: BaseGeometry
) -> tuple[EmptyTrack | None, np.ndarray | None]:
    """The empty track of reference ``r`` (read on the registration grid) over the site
    grid ``grid``: its part of ``r``, or the reference read again on ``grid`` where the
    registration grid, cut for a large site, does not hold it all (the empty colour is
    relative to the median colour of the same pixels as the scene's); its readable
    pixels inside the site, sampled along the centrelines ``lines`` (pixels of ``grid``)
    as given: its own misregistration is not known (a metre or two moves the samples
    along the ballast bed). At 10 m and coarser also its relative colours there
    (:func:`railwatch.detect.coarse.relative_colours`), else None."""
    # the site grid's origin in the reference's pixels (whole pixels: the same grid)
    col, row = ~r.grid.transform @ (grid.transform.c, grid.transform.f)
    c0, r0 = round(col), round(row)
    h, w = r.image.shape[:2]
    if c0 < 0 or r0 < 0 or c0 + grid.width > w or r0 + grid.height > h:
        r = _read_reference(job, ref, grid)
        c0 = r0 = 0
    part = (slice(r0, r0 + grid.height), slice(c0, c0 + grid.width))
    valid = readable_pixels(
        np.asarray(pixels_of(r))[part],  # the file's own pixels, as the scene's (session 40)
        np.asarray(r.valid, bool)[part] & np.asarray(r.inside, bool)[part],
        None if r.mask is None else r.mask[part],
        grid.gsd,
    )
    # half precision: up to MAX_REFERENCES of them are held at once (3 channels each)
    relative = None
    if method_for_gsd(grid.gsd) == "presence":
        relative = relative_colours(r.image[part], valid).astype(np.float16)
    return empty_track(r.image[part], grid.gsd, valid, lines), relative


def register_scene(
    job: SceneJob, grid: SiteGrid, refs: Sequence[_Reference] | None = None
) -> Registration:
    """Register a coarse scene to the median of its references (``refs`` as read by
    :func:`_read_references`, by default ``job.references`` read now), all on ``grid``
    (the scene's site grid) widened by ``register.CONTEXT_M`` on every side and cut to
    at most ``register.MAX_WINDOW_PX`` a side (:func:`registration_grid`): the shift in
    pixels is the same on both grids. Never raises for a bad reference; the result says
    why the scene was not moved, if it was not."""
    if refs is None:
        refs = _read_references(job, grid)
    own = read_site_window(
        job.uri,
        registration_grid(grid),
        mask_uri=job.mask_uri,
        site_geom=job.site_geometry,
        bands=job.rgb_bands,
        radiometry=job.radiometry,
        item_scaling=job.item_scaling,
        nodata=job.item_nodata,
    )
    return register(_readable_highpass(own), [r.highpass for r in refs], grid.gsd)


def _references(scene: Scene, scenes: Sequence[Scene]) -> tuple[ReferenceScene, ...]:
    """Up to :data:`REFERENCE_CANDIDATES` other scenes of the site for a coarse ``scene``:
    same counting method, resolution within :data:`REFERENCE_GSD_RATIO`, not known to
    be unusable or failed, nearest in acquisition time first."""
    gsd = float(scene.gsd)
    method = method_for_gsd(grid_gsd(gsd))
    cands = [
        o
        for o in scenes
        if o.id != scene.id
        and method_for_gsd(grid_gsd(o.gsd)) == method
        and 1.0 / REFERENCE_GSD_RATIO <= o.gsd / gsd <= REFERENCE_GSD_RATIO
        and o.usable is not False
        and o.status != "failed"
    ]
    cands.sort(key=lambda o: abs((o.acquired_at - scene.acquired_at).total_seconds()))
    return tuple(
        ReferenceScene(
            o.uri,
            o.mask_uri,
            rgb_of(o.meta),
            radiometry_of(o.meta),
            item_scaling=item_scaling_of(o.meta),
            item_nodata=item_nodata_of(o.meta),
            scene_id=o.id,
            content_hash=o.content_hash if _hash_is_the_files(o) else None,
            file_stamp=(o.meta or {}).get(FILE_STAMP_KEY),
            mask_stamp=(o.meta or {}).get(MASK_STAMP_KEY),
        )
        for o in cands[:REFERENCE_CANDIDATES]
    )


def _hash_is_the_files(scene: Scene) -> bool:
    """Whether the scene's ``content_hash`` is its local file's SHA-256, to be checked
    before the file is read: true of every file `railwatch ingest` recorded, and of a
    local STAC asset that `ingest-stac` hashed (since session 29: its metadata has the
    file's stamp ``railwatch:file``, and its hash is not the item's identity,
    :func:`railwatch.ingest.hash_is_content`). Not of another scene registered from a
    STAC catalog (its metadata has ``stac_collection``): its hash is the asset's
    ``file:checksum`` (the catalog's word, never compared with the file) or, for one
    registered before session 29, a hash of the item's identity. A remote file is not
    hashed."""
    if is_remote(scene.uri):
        return False
    meta = scene.meta or {}
    if "stac_collection" not in meta:
        return True
    return (
        FILE_STAMP_KEY in meta
        and isinstance(meta.get("stac_id"), str)  # else the identity cannot be told
        and hash_is_content(scene)
    )


def pending_jobs(
    db: Database,
    site: str,
    *,
    detector: Detector,
    reprocess: bool = False,
    usable_threshold: float = 0.8,
) -> tuple[list[SceneJob], int]:
    """Jobs for the scenes of ``site`` not yet processed by this detector version (at
    1.5 m and coarser: and this occupied-length estimator, :func:`processing_version`;
    all scenes with ``reprocess``), and how many were skipped as up to date. A coarse
    scene up to date is counted again when one of the references its result was read
    with changed or was removed since (:func:`_reference_changed_since`), its job
    saying why (``SceneJob.recount``). A scene an analyst declared unusable
    (``railwatch scene review ID --unusable REASON``) is never a job, with ``reprocess``
    too, nor counted as up to date (:func:`repo.reviewed_unusable_ids` says how many
    there are): removing that review makes it pending again. A colour-table STAC scene
    with an item nodata counted before that nodata was read as an index is counted
    again, once (:func:`_palette_recounts`)."""
    with db.session(readonly=True) as s:  # listing only: never takes SQLite's write lock
        row = repo.get_site(s, site)
        scenes = repo.list_scenes(s, row)
        declared = repo.reviewed_unusable_ids(s, row)
        candidates = _palette_candidates(scenes, declared)
        if not candidates:  # every run after the first that finds them
            return _jobs_of(s, row, scenes, declared, {}, detector, reprocess, usable_threshold)
    palette = _palette_recounts(db, candidates, reprocess=reprocess)
    with db.session(readonly=True) as s:  # listed again: the scenes it marked are pending
        row = repo.get_site(s, site)
        scenes = repo.list_scenes(s, row)
        declared = repo.reviewed_unusable_ids(s, row)
        return _jobs_of(s, row, scenes, declared, palette, detector, reprocess, usable_threshold)


def _jobs_of(
    s: Session,
    row: Site,
    scenes: Sequence[Scene],
    declared: Container[int],
    palette: dict[int, str],
    detector: Detector,
    reprocess: bool,
    usable_threshold: float,
) -> tuple[list[SceneJob], int]:
    """:func:`pending_jobs` of ``row``'s ``scenes`` (listed in session ``s``), but
    those in ``declared``; ``palette``: :func:`_palette_recounts`."""
    jobs: list[SceneJob] = []
    skipped = 0
    geometry, tracks = row.geometry, row.tracks
    by_id = {scene.id: scene for scene in scenes}
    history = _car_history(s, scenes) if tracks is None else None
    for scene in scenes:
        if scene.id in declared:
            continue
        done = (
            scene.status in ("processed", "unusable")
            and scene.detector == detector.name
            and scene.detector_version
            == processing_version(detector, scene.gsd, scene.dtype, radiometry_of(scene.meta))
        )
        recount = palette.get(scene.id)
        if done and not reprocess:
            recount = _reference_changed_since(scene, by_id)
            if recount is None:
                skipped += 1
                continue
        jobs.append(
            SceneJob(
                scene_id=scene.id,
                uri=scene.uri,
                gsd=scene.gsd,
                site_geometry=geometry,
                mask_uri=scene.mask_uri,
                tracks=tracks,
                usable_threshold=usable_threshold,
                sun=sun_of(scene.meta),
                width=scene.width,
                height=scene.height,
                rgb_bands=rgb_of(scene.meta),
                dtype=scene.dtype,
                radiometry=radiometry_of(scene.meta),
                eight_bit=_eight_bit_of(scene.meta),
                item_scaling=item_scaling_of(scene.meta),
                item_nodata=item_nodata_of(scene.meta),
                references=(
                    _references(scene, scenes)
                    if tracks is not None and method_for_gsd(grid_gsd(scene.gsd)) != "objects"
                    else ()
                ),
                content_hash=scene.content_hash if _hash_is_the_files(scene) else None,
                stac_item=stac_item_of(scene),
                file_stamp=(scene.meta or {}).get(FILE_STAMP_KEY),
                mask_stamp=(scene.meta or {}).get(MASK_STAMP_KEY),
                recount=recount,
                **_history_fields(history, scene),
            )
        )
    return jobs, skipped


def _history_fields(history: _CarHistory | None, scene: Scene) -> dict[str, Any]:
    """``SceneJob``'s ``history`` and ``history_scenes`` of ``scene`` (none without a
    car history: a site with tracks)."""
    if history is None:
        return {}
    footprints, whose = history.of(scene)
    return {"history": footprints, "history_scenes": whose}


def _palette_candidates(scenes: Sequence[Scene], declared: Container[int]) -> list[tuple[int, str]]:
    """The ids and files of the ``scenes`` :func:`_palette_recounts` looks at: with an
    item nodata and no ``stac.NODATA_AS_INDEX_KEY`` in their metadata, not in
    ``declared`` (reviewed unusable)."""
    from railwatch.stac import NODATA_AS_INDEX_KEY

    return [
        (scene.id, str(scene.uri))
        for scene in scenes
        if scene.id not in declared
        and item_nodata_of(scene.meta) is not None
        and NODATA_AS_INDEX_KEY not in (scene.meta or {})
    ]


def _palette_recounts(
    db: Database, candidates: Sequence[tuple[int, str]], *, reprocess: bool
) -> dict[int, str]:
    """Of the ``candidates`` (:func:`_palette_candidates`: ids and files of scenes of a
    site), the scenes to count again because their image has a colour table whose
    item nodata (:data:`ITEM_NODATA_KEY`) ``process`` read as ground before 82b2e7f
    (2026-12-06, session 39), and why: each marked :data:`NODATA_CHANGED`, as
    ``ingest-stac`` over their catalog marks them (``railwatch.stac._take_index_nodata``),
    so a run stopped before their turn leaves them to the next. Only scenes with an item
    nodata and no ``stac.NODATA_AS_INDEX_KEY`` in their metadata (registered before
    691c93e) are looked at, their file's header only (colour table; and whether the item's
    value applies to it, ``imagery.inspect.takes_item_nodata``); each then takes the key
    (true for a colour table, else false) under its row lock, so its file is looked at
    once. Only a processed or unusable one is counted again (not with ``reprocess``: all
    are), and only where the item's value applies; one whose file cannot be opened now is
    left as it was (looked at by the next run)."""
    from railwatch.ingest import NODATA_CHANGED
    from railwatch.stac import NODATA_AS_INDEX_KEY, index_nodata_reason

    recounts: dict[int, str] = {}
    for scene_id, uri in candidates:
        header = _palette_header(uri)
        if header is None:
            continue
        paletted, applies = header
        with db.session() as s:
            scene = repo.lock_scene_if_there(s, scene_id)
            if scene is None or NODATA_AS_INDEX_KEY in (scene.meta or {}):
                continue  # removed, or looked at by another run meanwhile
            meta = dict(scene.meta or {})
            meta[NODATA_AS_INDEX_KEY] = paletted
            scene.meta = meta
            value = item_nodata_of(meta)
            counted = scene.status in ("processed", "unusable")
            if value is None or not (paletted and applies) or not counted or reprocess:
                continue
            mark_to_count_again(scene, NODATA_CHANGED)  # not twice: it skips a marked one
        recounts[scene_id] = f"{index_nodata_reason(value)}, so this run counts it again"
    return recounts


def _palette_header(uri: str) -> tuple[bool, bool] | None:
    """Whether the image at ``uri`` has a colour table, and whether its STAC item's
    nodata applies to it (:func:`railwatch.imagery.inspect.takes_item_nodata`), from its
    header, opened as :func:`read_site_window` opens it; None when it cannot be opened."""
    import rasterio
    from rasterio.errors import RasterioError

    from railwatch.imagery.inspect import gdal_env, gdal_path, takes_item_nodata

    try:
        with gdal_env(read_dir=not is_remote(uri)), rasterio.open(gdal_path(uri)) as ds:
            paletted = any(ci.name == "palette" for ci in ds.colorinterp)
            return paletted, paletted and takes_item_nodata(ds)
    except (RasterioError, RailwatchError, OSError) as err:
        log.debug("cannot read the header of %s: %s", uri, err)
        return None


#: A scene's history footprints and whose they are (``SceneJob.history`` and
#: ``SceneJob.history_scenes``), from :func:`_car_history`.
_History = tuple[tuple[BaseGeometry, ...], tuple[tuple[int, int], ...]]


@dataclass(frozen=True)
class _CarHistory:
    """A scene's history footprints (called), or with whose they are (:attr:`of`), from
    one pick of the scenes."""

    of: Callable[[Scene], _History]

    def __call__(self, scene: Scene) -> tuple[BaseGeometry, ...]:
        return self.of(scene)[0]


def _car_history(s: Session, scenes: Sequence[Scene]) -> _CarHistory:
    """For a scene counted car by car: the footprints (lon/lat) of the cars inside the
    site detected in its other usable scenes counted so, the
    :data:`~railwatch.imagery.places.HISTORY_SCENES` nearest in acquisition time that
    have any (``SceneJob.history``); none for a coarser scene. Which scenes have cars is
    read at the first such scene (nothing for a site whose scenes are all up to date),
    and the footprints of the scenes picked only, each scene's once (review r5: every
    detection of the site was read and parsed to pick 20 scenes' worth, 500,000
    footprints 3 s and 195 MB), within ``s``'s session; with them, whose they are, each
    scene and how many (``SceneJob.history_scenes``)."""
    from bisect import bisect_left

    import shapely

    site_id = scenes[0].site_id if scenes else None
    counted = {
        sc.id: sc
        for sc in scenes
        if repo.usable_processed(sc.usable, sc.status)
        and method_for_gsd(grid_gsd(sc.gsd)) == "objects"
    }
    cars: dict[int, list[BaseGeometry]] = {}
    when: list[tuple[float, int]] = []  # (acquired, scene id) of those with cars, in order
    loaded = False

    def load() -> None:
        with_cars = s.scalars(
            select(Detection.scene_id)
            .join(Scene, Detection.scene_id == Scene.id)
            .where(Scene.site_id == site_id, Detection.inside.is_(True))
            .distinct()
        )
        when.extend(
            sorted((counted[i].acquired_at.timestamp(), i) for i in with_cars if i in counted)
        )

    def read(ids: list[int]) -> None:
        missing = [i for i in ids if i not in cars]
        for k in range(0, len(missing), 500):  # a bound on the statement's parameters
            rows = s.execute(
                select(Detection.scene_id, Detection.geometry_wkb)
                .where(Detection.scene_id.in_(missing[k : k + 500]), Detection.inside.is_(True))
                .order_by(Detection.id)
            ).all()
            shapes = shapely.from_wkb([wkb for _, wkb in rows])
            for (scene_id, _), g in zip(rows, shapes, strict=True):
                cars.setdefault(scene_id, []).append(g)

    def pick(scene: Scene) -> list[int]:
        nonlocal loaded
        if not counted or method_for_gsd(grid_gsd(scene.gsd)) != "objects":
            return []
        if not loaded:
            load()
            loaded = True
        # the nearest in time, outwards from the scene's place among them
        t = scene.acquired_at.timestamp()
        lo = bisect_left(when, (t, scene.id))
        hi = lo
        picked: list[int] = []
        while len(picked) < HISTORY_SCENES and (lo > 0 or hi < len(when)):
            before = when[lo - 1] if lo > 0 else None
            after = when[hi] if hi < len(when) else None
            if after is None or (before is not None and t - before[0] <= after[0] - t):
                lo -= 1
                took = before
            else:
                hi += 1
                took = after
            if took is not None and took[1] != scene.id:
                picked.append(took[1])
        read(picked)
        return picked

    def of(scene: Scene) -> _History:
        picked = pick(scene)
        footprints = tuple(g for i in picked for g in cars.get(i, ()))
        return footprints, tuple((i, len(cars.get(i, ()))) for i in picked)

    return _CarHistory(of)


def split_history(job: SceneJob) -> tuple[SceneJob, dict[int, tuple[BaseGeometry, ...]]]:
    """``job`` without its history's footprints, and those footprints by scene id
    (``SceneJob.history_scenes``): what the Dask path sends once for all the jobs whose
    history names a scene (review r5), :func:`with_history` putting them back. A job
    whose history says not whose it is (made by hand) is left whole."""
    if not job.history_scenes:
        return job, {}
    parts: dict[int, tuple[BaseGeometry, ...]] = {}
    at = 0
    for scene_id, n in job.history_scenes:
        parts[scene_id] = job.history[at : at + n]
        at += n
    if at != len(job.history):
        raise ValueError(
            f"scene {job.scene_id}'s job has {len(job.history)} history footprints, its "
            f"history_scenes name {at}"
        )
    return replace(job, history=()), parts


def with_history(job: SceneJob, parts: Sequence[Sequence[BaseGeometry]]) -> SceneJob:
    """``job`` (from :func:`split_history`) with the footprints of its
    ``history_scenes``, ``parts`` in their order, as :func:`pending_jobs` made it."""
    if not job.history_scenes and not parts:
        return job
    sizes = [n for _, n in job.history_scenes]
    if [len(p) for p in parts] != sizes:
        raise ValueError(
            f"scene {job.scene_id}'s job was given footprints of {plural(len(parts), 'scene')} "
            f"({[len(p) for p in parts]}) for its history of {sizes}"
        )
    return replace(job, history=tuple(g for p in parts for g in p))


def _history_of(job: SceneJob) -> tuple[BaseGeometry, ...]:
    """The job's history footprints, all of them: a job that was sent without them
    (:func:`split_history`) and not given them back would be judged by the share of its
    site alone, silently. A history made by hand, without ``history_scenes``, is taken
    as it is."""
    if job.history_scenes and len(job.history) != sum(n for _, n in job.history_scenes):
        raise RuntimeError(
            f"scene {job.scene_id}'s job lacks the car footprints of its site's other scenes "
            f"({len(job.history)} of {sum(n for _, n in job.history_scenes)}): a railwatch "
            "bug, please report it"
        )
    return job.history


def reference_fingerprint(
    ref: ReferenceScene, hashed: ReferenceStamps | None = None
) -> dict[str, Any]:
    """What a coarse scene's result records of a reference it was read with
    (:data:`railwatch.storage.repo.REFERENCES_KEY`): the reference as its job had it
    (:class:`ReferenceScene`: its scene, image, SHA-256, file stamp, quality mask and its
    stamp, colour bands, radiometry and item scales), with the stamps its check took
    (``hashed``: renewed, or the mask's stamped at first use) in place of the job's, as
    the run records them on the reference's scene. :func:`_recorded_reference` reads it
    back, for :func:`_reference_change` to compare with the reference's scene as it is
    then: the same comparison :func:`record_outcome` makes while the scene is processed
    (:func:`_reference_changed_meanwhile`)."""
    file_stamp = ref.file_stamp
    mask_stamp = ref.mask_stamp
    if hashed is not None and hashed.file_stamp is not None:
        file_stamp = hashed.file_stamp
    if hashed is not None and hashed.mask_stamp is not None and hashed.mask_uri == ref.mask_uri:
        mask_stamp = hashed.mask_stamp
    scaling = None
    if ref.item_scaling is not None:
        scales, offsets = ref.item_scaling
        scaling = {"scale": list(scales), "offset": list(offsets)}
    return {
        "scene_id": ref.scene_id,
        "uri": ref.uri,
        "content_hash": ref.content_hash,
        FILE_STAMP_KEY: None if file_stamp is None else dict(file_stamp),
        "mask_uri": ref.mask_uri,
        MASK_STAMP_KEY: None if mask_stamp is None else dict(mask_stamp),
        "rgb_bands": None if ref.rgb_bands is None else list(ref.rgb_bands),
        "radiometry": ref.radiometry,
        ITEM_SCALING_KEY: scaling,
        # only where its item declares one: the fingerprints recorded before session 38
        # read back the same
        **({} if ref.item_nodata is None else {ITEM_NODATA_KEY: ref.item_nodata}),
    }


def _recorded_reference(entry: Any) -> ReferenceScene | None:
    """The reference :func:`reference_fingerprint` recorded as ``entry``, or None when
    ``entry`` is not one (left aside: it cannot say what was read)."""
    if not isinstance(entry, Mapping):
        return None
    scene_id, uri = entry.get("scene_id"), entry.get("uri")
    if not isinstance(scene_id, int) or isinstance(scene_id, bool) or not isinstance(uri, str):
        return None
    file_stamp, mask_stamp = entry.get(FILE_STAMP_KEY), entry.get(MASK_STAMP_KEY)
    content_hash, mask_uri = entry.get("content_hash"), entry.get("mask_uri")
    return ReferenceScene(
        uri,
        mask_uri if isinstance(mask_uri, str) else None,
        rgb_of(entry),
        radiometry_of(dict(entry)),
        item_scaling=item_scaling_of(dict(entry)),
        item_nodata=item_nodata_of(dict(entry)),
        scene_id=scene_id,
        content_hash=content_hash if isinstance(content_hash, str) else None,
        file_stamp=file_stamp if isinstance(file_stamp, Mapping) else None,
        mask_stamp=mask_stamp if isinstance(mask_stamp, Mapping) else None,
    )


def _references_recorded(outcome: SceneOutcome) -> list[dict[str, Any]]:
    """What a coarse scene's result records of the references it was read with
    (``outcome.references_read``, each with what its check hashed):
    :func:`reference_fingerprint` of each."""
    hashed = {r.scene_id: r for r in outcome.reference_stamps}
    return [
        reference_fingerprint(ref, hashed.get(ref.scene_id))
        for ref in outcome.references_read
        if ref.scene_id is not None
    ]


def _reference_changed_since(scene: Scene, scenes: Mapping[int, Scene]) -> str | None:
    """Why ``scene``, up to date, is counted again: one of the references its result
    was read with (:data:`railwatch.storage.repo.REFERENCES_KEY`) no longer has the
    image, quality mask, sidecars, item scales, colour bands or radiometry it was read
    with, or was removed (:func:`_reference_change` against ``scenes``, the site's
    scenes by id), in words; None when none did. What a run records on a reference
    (its own result, its mask stamped at first use, its file or mask stamped anew for
    the same bytes) is no change. A scene whose result records no references (a finer
    one, one counted without centrelines, or one recorded before 2026-12-05, session
    31) is not counted again for them. Nor is one because an image was added to the
    site since: it is not among the references its result was read with (only a change
    of those counts it again; docs/storage.md says why)."""
    recorded = (scene.meta or {}).get(repo.REFERENCES_KEY)
    if not isinstance(recorded, list):
        return None
    changed = [
        (ref.scene_id, what)
        for ref in map(_recorded_reference, recorded)
        if ref is not None
        and ref.scene_id is not None
        and (what := _reference_change(ref, None, scenes.get(ref.scene_id)))
    ]
    if not changed:
        return None
    (first, what), more = changed[0], len(changed) - 1
    others = f", and {more} more of its references changed too" if more else ""
    return (
        f"scene {first}, one of the other images its result was registered against and "
        f"took its empty track from, changed since it was counted ({what}){others}: "
        "counted again with its references as they are now"
    )


def record_outcome(db: Database, outcome: SceneOutcome, detector: Detector) -> SceneOutcome:
    """Write one scene's outcome in its own transaction, and return it as recorded, for
    :meth:`ProcessSummary.add`. A scene that fails again after it was processed keeps
    its earlier result (counts, detections, quality), with the error recorded beside
    it, unless the failure invalidates that result (the file changed since ingest): a
    moved folder or an unmounted share met by ``--reprocess`` or a new detector version
    used to empty the site's whole count series.

    An outcome, a result or a failure, judged with a quality mask that the scene no
    longer has (``railwatch ingest-stac`` or ``railwatch ingest`` took another while it
    was processed, :func:`_mask_taken_meanwhile`) is not recorded: the scene stays to
    be counted again, as that run left it, and the outcome returned is a failure saying
    so. So is one read with scales and offsets for its bands that its STAC item no
    longer declares (``railwatch ingest-stac`` recorded others meanwhile,
    :func:`_scaling_taken_meanwhile`), or with colour bands the scene no longer has
    (:func:`_bands_changed_meanwhile`), and one read from the files GDAL reads with the
    image as they were before `railwatch ingest` described the scene anew from their
    changes while it was processed (:func:`_file_described_anew`): the scene stays
    pending. (A failure met with what the scene no longer has, such as its old mask
    changed since ingest, would otherwise fail the scene that run has just left to be
    counted again; session 30 checked failures against the file's sidecars only.)

    When this thread holds the scene's site through :func:`processing_lock` on
    PostgreSQL, the transaction checks before it commits that the lock is still held:
    one that went with its connection raises :class:`LockLostError` and writes
    nothing (another run may be processing the site now)."""
    try:
        with db.session() as s:
            stale = _write_outcome(s, outcome, detector)
            declared = _declared_outcome(s, outcome.scene_id)
            kept = _earlier_result_kept(s, outcome) if stale is None else None
            _check_processing_lock(db, s, outcome.scene_id)
    except StorageError as err:
        if type(err) is not StorageError:  # a lost lock, a busy site: they say it all
            raise
        # the database went away mid-run (a server stopped or restarted, the network
        # cut, a full disk): the error said only what failed, not that the run stopped
        # nor what it left (2026-12-07, session 46)
        raise StorageError(
            f"{err}. The run stopped at scene {outcome.scene_id}: the scenes recorded "
            "before it are kept, it and the scenes not yet recorded are as they were; run "
            "the same command again once the database answers"
        ) from err
    if declared is not None:  # declared unusable by an analyst while it was read
        return declared
    if stale is not None:
        log.warning("%s", stale)
        return SceneOutcome(outcome.scene_id, None, error=stale)
    if kept is not None:
        return replace(outcome, error=f"{outcome.error}; {kept}")
    return outcome


def _earlier_result_kept(s: Session, outcome: SceneOutcome) -> str | None:
    """For a failure written as a note beside the scene's earlier result (which
    :func:`_write_outcome` keeps), the words the run's summary adds to its line, else
    None. The summary listed such a scene as failed alone, "scene 35 failed: ... no such
    file", while it kept its counts and stayed processed: an operator read its history
    as lost (2026-12-07, session 46)."""
    if outcome.error is None or outcome.invalidates:
        return None
    scene = repo.get_scene(s, outcome.scene_id)
    if scene.status not in ("processed", "unusable"):
        return None
    by = scene.detector_version or "an earlier version"
    return f"its earlier result ({scene.status}, by {by}) is kept until it is processed again"


def _write_outcome(s: Session, outcome: SceneOutcome, detector: Detector) -> str | None:
    """Write ``outcome``; return why it was not recorded, if it was not.

    The scene's row is locked, and read as committed, before anything is checked
    (PostgreSQL; on SQLite the transaction holds the write lock from its first
    statement): a mask, file stamp or item scales that `railwatch ingest-stac` or
    `railwatch ingest` commits meanwhile is either seen by the checks or written after
    this transaction. Before session 30 the checks read the scene unlocked, and one
    committed between a check and the write was written over. The references' rows are
    locked in the same statement, by id (the module's lock order; session 32)."""
    # every scene row this transaction locks, at once and by id (the module's lock
    # order): the scene's own and its references' (checked, and stamped)
    _lock_scenes(s, [outcome.scene_id, *_reference_ids(outcome)])
    scene = repo.lock_scene(s, outcome.scene_id)  # held by ``scene`` for the checks
    if _declared_outcome(s, outcome.scene_id) is not None:
        # an analyst declared it unusable after its job was made: their verdict stands,
        # neither this result nor this failure (its error) is written over it
        return None
    # a failure too: met with what the scene no longer has (a mask that changed since
    # ingest, then taken by ingest-stac), it would fail the scene that run left to be
    # counted again (before session 30, only the file's sidecars were checked)
    stale = (
        _file_described_anew(s, outcome)
        or _mask_taken_meanwhile(s, outcome)
        or _scaling_taken_meanwhile(s, outcome)
        or _nodata_taken_meanwhile(s, outcome)
        or _bands_changed_meanwhile(s, outcome)
        or _reference_changed_meanwhile(s, outcome)
    )
    if stale is not None:
        for ref in outcome.reference_stamps:  # checked against their own stamps
            _record_reference_stamps(s, ref)
        return stale
    if outcome.error is not None or outcome.quality is None:
        error = outcome.error or "unknown error"
        scene = repo.get_scene(s, outcome.scene_id)
        if not outcome.invalidates and scene.status in ("processed", "unusable"):
            when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            scene.error = (
                f"processing again failed on {when} ({error}); the earlier result, by "
                f"{scene.detector_version or 'an earlier version'}, is kept"
            )
            return None
        repo.mark_scene_failed(s, outcome.scene_id, error)
        return None
    was = repo.get_scene(s, outcome.scene_id).meta or {}
    was_mask, was_file = was.get(MASK_STAMP_KEY), was.get(FILE_STAMP_KEY)
    scene = repo.record_scene_result(
        s,
        outcome.scene_id,
        outcome.quality,
        list(outcome.detections),
        outcome.count,
        detector.name,
        processing_version(detector, outcome.gsd, outcome.dtype, outcome.radiometry),
        registration=_registration_meta(outcome),
        occupied=outcome.occupied,
        references=_references_recorded(outcome),
    )
    # hashed and unchanged: next time a stat will do (unless renewed meanwhile for the
    # same files, as a reference of another scene: that one stays)
    if outcome.file_stamp is not None and was_file == outcome.job_file:
        scene.meta = {**(scene.meta or {}), FILE_STAMP_KEY: outcome.file_stamp}
    # its mask hashed and unchanged, or stamped at first use: recorded unless the
    # scene's stamp is no longer the one the job read (renewed meanwhile for the same
    # bytes, as a reference of another scene: that one stays)
    if outcome.mask_stamp is not None and (
        outcome.job_mask is None or was_mask == outcome.job_mask[1]
    ):
        scene.meta = {**(scene.meta or {}), MASK_STAMP_KEY: outcome.mask_stamp}
    for ref in outcome.reference_stamps:
        _record_reference_stamps(s, ref)
    return None


def _declared_outcome(s: Session, scene_id: int) -> SceneOutcome | None:
    """The outcome a run records for a scene an analyst declared unusable
    (``railwatch scene review ID --unusable``) after its job was made: unusable by that
    review, as the scene stands (its run's summary counts it unusable, neither counted
    nor failed). None when the scene has no such review."""
    if repo.unusable_reason(repo.get_scene_review(s, scene_id)) is None:
        return None
    scene = repo.get_scene(s, scene_id)
    quality = Quality(
        clear_fraction=scene.clear_fraction or 0.0,
        coverage=scene.coverage or 0.0,
        cloud_fraction=scene.cloud_fraction or 0.0,
        haze_fraction=scene.haze_fraction or 0.0,
        snow_fraction=scene.snow_fraction or 0.0,
        nodata_fraction=scene.nodata_fraction or 0.0,
        gsd=float(scene.gsd or 0.0),
        usable=False,
        reasons=tuple(scene.reasons or ()),
        source=ANALYST,
    )
    return SceneOutcome(scene_id, quality, gsd=scene.gsd, dtype=scene.dtype)


def _mask_taken_meanwhile(s: Session, outcome: SceneOutcome) -> str | None:
    """Why ``outcome`` cannot be recorded: the scene's quality mask is no longer the one
    its job read (``outcome.job_mask``), another run having taken another while the
    scene was processed (`railwatch ingest-stac` over its catalog, `railwatch ingest` of
    its image; both leave the scene to be counted again). Recorded, the result judged
    with the old mask would stand beside the new mask, and clear the mark that has it
    counted again; a failure met with the old mask (it changed since ingest) would fail
    the scene that run has just left to be counted. The same bytes stamped anew (times
    moved, stamped at first use, or another path holding them) are the same mask, and
    so is a mask the job read unstamped that was stamped at its first use meanwhile (a
    failure before it was hashed: nothing says it changed). None when the outcome can
    be recorded. A scene processed or unusable that is not marked to be counted again
    is marked (:func:`railwatch.ingest.mark_mask_changed`)."""
    if outcome.job_mask is None:
        return None
    scene = repo.get_scene(s, outcome.scene_id)
    read_uri, read_stamp = outcome.job_mask
    if _same_mask(read_uri, read_stamp, outcome.mask_stamp, scene):
        return None
    mark_mask_changed(scene)
    now = "none" if scene.mask_uri is None else scene.mask_uri
    return (
        f"scene {outcome.scene_id}: its quality mask was taken anew while it was processed "
        f"(it was {'judged' if _is_result(outcome) else 'read'} with "
        f"{read_uri or 'no mask'}; the scene has {now} now, from `railwatch ingest-stac` "
        f"or `railwatch ingest` run meanwhile): {_not_recorded(outcome)}, and the scene "
        "is counted again with its mask by the next `railwatch process`"
    )


def _same_mask(
    read_uri: str | None,
    read_stamp: Mapping[str, Any] | None,
    hashed: Mapping[str, Any] | None,
    scene: Scene,
) -> bool:
    """Whether ``scene`` still has the quality mask a job read as ``read_uri`` with the
    stamp ``read_stamp`` (``hashed``: its stamp when the job hashed it, again or at its
    first use; None when it did not): the same path and stamp, or the same bytes stamped
    anew (times moved, stamped at first use, another path holding them), or a mask read
    unstamped and not hashed that was stamped at its first use meanwhile (nothing says
    it changed)."""
    now_stamp = (scene.meta or {}).get(MASK_STAMP_KEY)
    if scene.mask_uri == read_uri and now_stamp == read_stamp:
        return True
    read_sha = _sha256_of(read_stamp) or _sha256_of(hashed)
    if read_sha is not None and read_sha == _sha256_of(now_stamp):
        return True
    return (
        read_sha is None
        and read_stamp is None
        and scene.mask_uri == read_uri
        and isinstance(now_stamp, Mapping)
        and FIRST_USE_KEY in now_stamp
    )


#: Appended to the ``detector_version`` of a processed or unusable coarse scene whose
#: result was not recorded because one of its references changed while it was processed
#: (:func:`_reference_changed_meanwhile`): the next ``railwatch process`` counts it again,
#: its results kept until then, as for :data:`railwatch.ingest.MASK_CHANGED`.
REFERENCE_CHANGED = "+reference-changed"


def _reference_changed_meanwhile(s: Session, outcome: SceneOutcome) -> str | None:
    """Why a coarse scene's result cannot be recorded: one of the other images it was
    registered against and took its empty track from (``outcome.references_read``) no
    longer has the image, quality mask, sidecars, item scales, colour bands or
    radiometry the job read it with, `railwatch ingest-stac` or `railwatch ingest` (its
    ``--bands`` too) having changed its scene while this one was processed.
    Recorded, the result would rest on a reading of that image its scene no longer
    stands for, and nothing would count it again. Each reference's row is locked and
    read as committed, as the scene's own is. The same files or mask stamped anew (times
    moved, stamped at first use: as this run records them) are no change. None when the
    result can be recorded; else the scene, if processed or unusable, is marked to be
    counted again (:data:`REFERENCE_CHANGED`; a pending one stays pending)."""
    if not _is_result(outcome) or not outcome.references_read:
        return None
    ids = [r.scene_id for r in outcome.references_read if r.scene_id is not None]
    now = _lock_scenes(s, ids)
    hashed = {r.scene_id: r for r in outcome.reference_stamps}
    changed = [
        (ref.scene_id, what)
        for ref in outcome.references_read
        if ref.scene_id is not None
        and (what := _reference_change(ref, hashed.get(ref.scene_id), now.get(ref.scene_id)))
    ]
    if not changed:
        return None
    mark_to_count_again(repo.get_scene(s, outcome.scene_id), REFERENCE_CHANGED)
    (first, what), more = changed[0], len(changed) - 1
    others = f", and {more} more of its references changed too" if more else ""
    return (
        f"scene {outcome.scene_id}: scene {first}, one of the other images it was "
        f"registered against and took its empty track from, changed while it was "
        f"processed ({what}, from `railwatch ingest-stac` or `railwatch ingest` (its "
        f"--bands too) run meanwhile){others}: that result is not recorded, "
        "and the scene is counted again with its references as they are now by the next "
        "`railwatch process`"
    )


def _reference_ids(outcome: SceneOutcome) -> list[int]:
    """The scenes of the references an outcome was read with or records stamps on: the
    rows :func:`_write_outcome` locks beside the scene's own."""
    read = (r.scene_id for r in outcome.references_read)
    stamped = (r.scene_id for r in outcome.reference_stamps)
    return [i for i in (*read, *stamped) if i is not None]


def _lock_scenes(s: Session, scene_ids: Sequence[int]) -> dict[int, Scene]:
    """The scenes ``scene_ids`` that are there, by id: :func:`repo.lock_scene_if_there`
    of each (their rows locked, and read as committed) in one statement, in the order
    of their ids."""
    ids = sorted({i for i in scene_ids if repo.is_record_id(i)})
    if not ids:
        return {}
    rows = s.scalars(
        select(Scene)
        .where(Scene.id.in_(ids))
        .order_by(Scene.id)
        .with_for_update(key_share=True)  # as repo.lock_scene: FOR NO KEY UPDATE
        .execution_options(populate_existing=True)
    )
    return {scene.id: scene for scene in rows}


def _reference_change(
    ref: ReferenceScene, hashed: ReferenceStamps | None, scene: Scene | None
) -> str | None:
    """What changed in the scene of a reference since its job had it (``ref``;
    ``hashed``: what its check hashed), in words, or None."""
    if scene is None:
        return "it was removed"
    meta = scene.meta or {}
    if scene.uri != ref.uri:
        return f"its image is {scene.uri} now, not {ref.uri}"
    if ref.content_hash is not None and scene.content_hash != ref.content_hash:
        return "its image was ingested anew, another file"
    if not _same_mask(
        ref.mask_uri, ref.mask_stamp, None if hashed is None else hashed.mask_stamp, scene
    ):
        return f"its quality mask is {scene.mask_uri or 'none'} now, not {ref.mask_uri or 'none'}"
    read_file = hashed.file_stamp if hashed is not None and hashed.file_stamp else ref.file_stamp
    now_file = meta.get(FILE_STAMP_KEY)
    if now_file != ref.file_stamp and (changed := sidecars_changed(read_file, now_file)):
        return f"the files GDAL reads with its image changed: {sidecars_listed(changed)}"
    if item_scaling_of(meta) != ref.item_scaling:
        return "the scale and offset its STAC item declares for its bands changed"
    if item_nodata_of(meta) != ref.item_nodata:
        return "the nodata value its STAC item declares changed"
    if rgb_of(meta) != ref.rgb_bands:
        return "its colour bands changed"
    if radiometry_of(meta) != ref.radiometry:
        return f"its radiometry is {radiometry_of(meta)} now, not {ref.radiometry}"
    return None


def _is_result(outcome: SceneOutcome) -> bool:
    return outcome.error is None and outcome.quality is not None


def _not_recorded(outcome: SceneOutcome) -> str:
    """``that result is not recorded``, or for a failure, which failure is not."""
    if _is_result(outcome):
        return "that result is not recorded"
    return f"that failure ({outcome.error or 'unknown error'}) is not recorded"


def _bands_changed_meanwhile(s: Session, outcome: SceneOutcome) -> str | None:
    """Why ``outcome`` (a result or a failure) cannot be recorded: its colour bands are no
    longer those its job read it with (``outcome.job_bands``), `railwatch ingest --bands`
    of the image already ingested having set others while it was processed; that left
    the scene to be counted again with them (pending, its results removed), which the
    result read with the old bands would undo. None when the result can be recorded."""
    if outcome.job_bands is None:
        return None
    (read,) = outcome.job_bands
    now = rgb_of(repo.get_scene(s, outcome.scene_id).meta)
    if now == read:
        return None
    shown = "as the file labels them" if read is None else ",".join(map(str, read))
    return (
        f"scene {outcome.scene_id}: its colour bands were set to "
        f"{','.join(map(str, now)) if now else 'none'} while it was processed (it was read "
        f"with {shown}): {_not_recorded(outcome)}, and the scene is counted with them "
        "by the next `railwatch process`"
    )


def _scaling_taken_meanwhile(s: Session, outcome: SceneOutcome) -> str | None:
    """Why ``outcome`` (a result or a failure) cannot be recorded: the scales and offsets
    its STAC item declares for its bands (:func:`railwatch.imagery.read.item_scaling_of`)
    are no longer those its job read the scene with (``outcome.job_scaling``),
    `railwatch ingest-stac`, or `railwatch ingest` of a file with its item JSON beside
    it, having recorded others while the scene was processed (a scene registered before
    they were kept, or an item corrected; that run marks the scene ``+scale-changed``).
    Recorded, the result read with the old scales would stand, and clear the mark that
    has the scene counted again with the new ones. None when the result can be recorded.
    A scene processed or unusable that is not marked to be counted again is marked
    (:func:`railwatch.ingest.mark_to_count_again`)."""
    if outcome.job_scaling is None:
        return None
    from railwatch.ingest import SCALE_CHANGED

    scene = repo.get_scene(s, outcome.scene_id)
    (read,) = outcome.job_scaling
    now = item_scaling_of(scene.meta)
    if now == read:
        return None
    mark_to_count_again(scene, SCALE_CHANGED)
    return (
        f"scene {outcome.scene_id}: the scale and offset its STAC item declares for its "
        f"bands changed while it was processed (it was read "
        f"{'without them' if read is None else 'with ' + _scaling_text(read)}; its item "
        f"declares {'none' if now is None else _scaling_text(now)} now, from `railwatch "
        f"ingest-stac` or `railwatch ingest` run meanwhile): {_not_recorded(outcome)}, "
        "and the scene is counted again as its item declares by the next `railwatch process`"
    )


def _nodata_taken_meanwhile(s: Session, outcome: SceneOutcome) -> str | None:
    """Why ``outcome`` cannot be recorded: the nodata value its STAC item declares
    (:func:`railwatch.imagery.read.item_nodata_of`) is no longer the one its job read
    the scene with (``outcome.job_nodata``), `railwatch ingest-stac` having recorded
    another while the scene was processed (that run marks it ``+nodata-changed``), as
    :func:`_scaling_taken_meanwhile` says of its scales. None when it can be recorded."""
    if outcome.job_nodata is None:
        return None
    from railwatch.ingest import NODATA_CHANGED

    scene = repo.get_scene(s, outcome.scene_id)
    (read,) = outcome.job_nodata
    now = item_nodata_of(scene.meta)
    if now == read:
        return None
    mark_to_count_again(scene, NODATA_CHANGED)
    return (
        f"scene {outcome.scene_id}: the nodata value its STAC item declares changed while "
        f"it was processed (it was read {'without one' if read is None else f'with {read:g}'}"
        f"; its item declares {'none' if now is None else f'{now:g}'} now, from `railwatch "
        f"ingest-stac` run meanwhile): {_not_recorded(outcome)}, and the scene is counted "
        "again with it by the next `railwatch process`"
    )


def _scaling_text(scaling: ItemScaling) -> str:
    scales, offsets = scaling
    return (
        f"scale {', '.join(f'{v:g}' for v in scales)} and "
        f"offset {', '.join(f'{v:g}' for v in offsets)}"
    )


def _file_described_anew(s: Session, outcome: SceneOutcome) -> str | None:
    """Why ``outcome`` cannot be recorded: `railwatch ingest` described the scene anew
    while it was processed, because the files GDAL reads with its image (``NAME.aux.xml``,
    ``NAME.msk``, ``NAME.ovr``, a VRT's sources: the sidecars of its file stamp) changed
    (:func:`railwatch.ingest._refresh_scene`: its CRS, footprint, resolution and mask
    taken from them, its results removed, pending). The outcome, a result or a failure
    ("changed since ingest"), is of the files as the job read them; recorded, it would
    stand as the new description's, or fail the scene the new description already
    answers. The scene's stamp is compared with the one the job read (the file's new
    stamp when it was hashed again, else the job's) by the sidecars' digests: the same
    files stamped anew (times moved, as a reference of another scene records them) are
    no change. None when the outcome can be recorded."""
    read = outcome.file_stamp if outcome.file_stamp is not None else outcome.job_file
    if read is None:
        return None
    scene = repo.get_scene(s, outcome.scene_id)
    now = (scene.meta or {}).get(FILE_STAMP_KEY)
    if now == outcome.job_file:
        return None
    changed = sidecars_changed(read, now)
    if not changed:
        return None
    return (
        f"scene {outcome.scene_id}: `railwatch ingest` described it anew while it was "
        f"processed, the files GDAL reads with its image having changed "
        f"({sidecars_listed(changed)}): "
        "what was read from them as they were is not recorded, and the scene is counted "
        "again as it is described now by the next `railwatch process`"
    )


def _sha256_of(stamp: Any) -> str | None:
    sha = stamp.get("sha256") if isinstance(stamp, Mapping) else None
    return sha if isinstance(sha, str) else None


def _record_reference_stamps(s: Session, ref: ReferenceStamps) -> None:
    """Record a reference's renewed stamps on its scene, unless the scene changed since
    the job was made (re-ingested, or its own processing recorded stamps): only a stamp
    still the one checked against is replaced."""
    # locked and read as committed (PostgreSQL): written from a copy read before, the
    # stamps went over what another writer (ingest-stac, scene bands) had committed to
    # the scene meanwhile (before session 30)
    scene = repo.lock_scene_if_there(s, ref.scene_id)
    if scene is None or (ref.content_hash is not None and scene.content_hash != ref.content_hash):
        return
    meta = dict(scene.meta or {})
    if ref.file_stamp is not None and meta.get(FILE_STAMP_KEY) == ref.was_file:
        meta[FILE_STAMP_KEY] = ref.file_stamp
    if (
        ref.mask_stamp is not None
        and meta.get(MASK_STAMP_KEY) == ref.was_mask
        and scene.mask_uri == ref.mask_uri
    ):
        meta[MASK_STAMP_KEY] = ref.mask_stamp
    if meta != (scene.meta or {}):
        scene.meta = meta


def _check_processing_lock(db: Database, s: Session, scene_id: int) -> None:
    """Raise :class:`LockLostError` when the processing lock this thread holds on the
    scene's site went away (PostgreSQL: its connection closed), before the scene's
    transaction commits. Taking it again is not safe: between the loss and now another
    run (or a track edit, or a site removal) may have held the site and changed it, and
    this run's results would be written over theirs; so the run stops."""
    if not db.holds_locks():  # recording outside a processing run (or in memory)
        return
    site = s.scalar(
        select(Site.name).join(Scene, Scene.site_id == Site.id).where(Scene.id == scene_id)
    )
    if site is None:
        return
    why = db.lost_lock(f"process:{site}")
    if why is None:
        return
    raise LockLostError(
        f"stopped processing site {site!r}: its processing lock on {db.safe_url} was lost "
        f"({why}), so another railwatch run may be processing the site now; scene "
        f"{scene_id}'s result was not recorded, so that two runs never write the same "
        "scenes. The scenes recorded before it are kept. Run `railwatch process "
        f"{site}` again (once the database answers): it goes on with the scenes not "
        "recorded yet"
    )


def _registration_meta(outcome: SceneOutcome) -> dict[str, Any] | None:
    """How a coarse scene was read against its site's other images, for its metadata:
    the registration (:meth:`Registration.to_meta`) and where its empty-track colour
    came from (``empty_track``: ``from`` one of ``coarse.EMPTY_FROM``, ``images``)."""
    if outcome.registration is None:
        return None
    meta = outcome.registration.to_meta()
    if outcome.count is not None and outcome.count.empty_from is not None:
        meta["empty_track"] = {
            "from": outcome.count.empty_from,
            "images": outcome.empty_track_images,
        }
    return meta


def processing_lock(db: Database, sites: Sequence[str]) -> AbstractContextManager[None]:
    """Hold the sites for one processing run: a second run on any of them (another
    process, on this database) is refused at once with
    :class:`~railwatch.storage.db.BusyError` instead of doing every scene twice (and, on
    PostgreSQL, colliding on the same scene's rows). Released however the run ends."""
    return db.exclusive(
        {
            f"process:{site}": f"site {site!r} is being processed by another railwatch run"
            for site in sites
        }
    )


def removal_lock(db: Database, site: str) -> AbstractContextManager[None]:
    """Hold ``site`` against processing while it is removed: removing a site that a
    run is processing (another process, or a job of the web server) is refused at once
    with :class:`~railwatch.storage.db.BusyError`, instead of deleting its scenes under
    the run, which then failed with "no scene with id N"."""
    return db.exclusive(
        {f"process:{site}": f"site {site!r} cannot be removed while a railwatch run processes it"}
    )


def scene_removal_lock(db: Database, sites: Iterable[str]) -> AbstractContextManager[None]:
    """Hold ``sites`` against processing while some of their scenes are removed
    (``railwatch scene remove``, ``DELETE /api/scenes/ID``): a run processing a site is
    never left recording a scene deleted under it; refused at once with
    :class:`~railwatch.storage.db.BusyError` instead."""
    return db.exclusive(
        {
            f"process:{site}": f"scenes of site {site!r} cannot be removed while a railwatch "
            "run processes it (nothing was removed; try again when it ends)"
            for site in sorted(set(sites))
        }
    )


def editing_lock(db: Database, site: str) -> AbstractContextManager[None]:
    """Hold ``site`` against processing while its track centrelines change
    (``railwatch site edit --tracks``): a run in progress counts along the lines it read
    when it began, and would record those counts as up to date after the change; the
    change is refused at once with :class:`~railwatch.storage.db.BusyError` instead."""
    return db.exclusive(
        {
            f"process:{site}": f"the track centrelines of site {site!r} cannot be changed "
            "while a railwatch run processes it"
        }
    )


@dataclass(frozen=True)
class Recount:
    """What new (or removed) track centrelines of a site leave to the next run
    (:func:`retrack_site`): the scenes counted along the earlier lines, to be counted
    again (``coarse`` of them at 1.5 m and coarser, measured along the lines; ``finer``
    ones, whose cars are kept within 10 m of them), and how many scenes are not counted
    yet (``pending``: new or failed, processed by that run in any case)."""

    changed: bool
    scene_ids: tuple[int, ...] = ()
    coarse: int = 0
    finer: int = 0
    pending: int = 0
    command: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "scenes": len(self.scene_ids),
            "coarse": self.coarse,
            "finer": self.finer,
            "scene_ids": list(self.scene_ids),
            "pending": self.pending,
            "command": self.command,
        }


def retrack_site(session: Session, site: Site, tracks: BaseGeometry | None) -> Recount:
    """Give ``site`` new track centrelines (None: none; :func:`repo.set_site_tracks`,
    which marks the scenes counted along the earlier ones) and say what the next run
    counts again. Call it inside :func:`editing_lock`."""
    change = repo.set_site_tracks(session, site, tracks)
    marked = change.recount
    coarse = sum(method_for_gsd(grid_gsd(sc.gsd)) != "objects" for sc in marked)
    pending = session.scalar(
        select(func.count(Scene.id)).where(
            Scene.site_id == site.id, Scene.status.not_in(("processed", "unusable"))
        )
    )
    return Recount(
        changed=change.changed,
        scene_ids=tuple(sc.id for sc in marked),
        coarse=coarse,
        finer=len(marked) - coarse,
        pending=int(pending or 0),
        command=f"railwatch process {site.name}",
    )


def process_site(
    db: Database,
    site: str,
    *,
    detector: Detector | None = None,
    reprocess: bool = False,
    usable_threshold: float = 0.8,
    on_progress: ProgressCallback | None = None,
) -> ProcessSummary:
    """Process every pending scene of ``site`` in this process (see module docs)."""
    if detector is None:
        from railwatch.detect.registry import get_detector

        detector = get_detector("default")
    with processing_lock(db, [site]), _one_hash_per_mask():
        jobs, skipped = pending_jobs(
            db, site, detector=detector, reprocess=reprocess, usable_threshold=usable_threshold
        )
        summary = ProcessSummary(site=site, detector=detector.name, version=detector.version)
        summary.skipped = skipped
        summary.plan(jobs)
        for i, job in enumerate(jobs):
            if on_progress is not None:
                on_progress(i, len(jobs), job.uri)
            try:
                outcome = process_scene(job, detector)
            except Exception as err:  # one scene never stops its site
                # an error process_scene does not expect (a library's RuntimeError, a
                # cv2.error, MemoryError...): the scene fails with it, as a Dask task
                # that raised after its retries does, and the run goes on; otherwise
                # every run would stop at this scene and the site's later scenes would
                # never be counted (Ctrl-C, a BaseException, still stops the run)
                log.debug("scene %s failed", job.scene_id, exc_info=True)
                outcome = task_failed(job.scene_id, err, job)
            outcome = record_outcome(db, outcome, detector)
            summary.add(job.scene_id, outcome)
        if on_progress is not None:
            on_progress(len(jobs), len(jobs), "")
    return summary
