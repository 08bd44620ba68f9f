"""Run a detector over an image of any size: tiles, windowed reads, seam merging.

:func:`detect_array` works on an in-memory image; :func:`detect_file` streams a file
window by window (rasterio), so memory is bounded by the tile, not the image, and
converts pixel boxes to the image's CRS. Non-georeferenced images (PNG, JPEG) need an
explicit ground sample distance and give pixel (column, row) coordinates.

Below 1.5 m per pixel cars are detected as objects; coarser images go to
:mod:`railwatch.detect.coarse` (occupied track length), see :func:`method_for_gsd`.
"""

from __future__ import annotations

import contextvars
import math
import numbers
import os
import threading
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
from shapely.geometry.base import BaseGeometry

from railwatch.detect.base import Detection, Detector, OccupiedRun, OrientedBox, corners_of
from railwatch.detect.coarse import (
    CoarseEstimate,
    estimate_occupancy,
    method_for_gsd,
    pixel_azimuth,
    runs_to_crs,
    tracks_to_pixels,
)
from railwatch.detect.merge import box_array, merge_detections, seam_distance
from railwatch.detect.tiling import Window, plan_tiles
from railwatch.errors import DetectionError, ImageryError, InputError, ScaleWarning
from railwatch.imagery.inspect import (
    EmptyImageError,
    alpha_as_data,
    alpha_as_data_said_elsewhere,
    alpha_band,
    data_mask,
    eight_bit_values,
    georeferencing_problem,
    ground_gsd,
    ground_pixel_size,
    quality_mask_of,
    sidecar_metadata,
    sun_of,
    transparent_entries,
    undeclared_alpha,
    unreadable_pixels,
    unsupported_pixel_type,
)
from railwatch.imagery.read import (
    FILL_MIN_M2,
    FileItemScaling,
    ImageRows,
    Radiometry,
    WindowImage,
    colour_table,
    file_bands,
    file_item_scaling,
    open_raster,
    palette_colours,
    palette_entries,
    parse_radiometry,
    stretch_ranges,
    stretch_to_uint8,
    undeclared_fill,
)
from railwatch.imagery.scale import ScaleCheck
from railwatch.imagery.size import ImageTooSmallError, image_too_small

#: Called after each tile with ``(tiles_done, tiles_total)`` (progress bars).
TileCallback = Callable[[int, int], None]
#: Reads one window: ``(image (h, w, 3) uint8, valid (h, w) bool or None)``.
TileReader = Callable[[Window], tuple[np.ndarray, np.ndarray | None]]
#: Detector attribute: True when the detector takes its ``(H, W, 3)`` tiles as views of
#: band-sequential ``(3, H, W)`` arrays (``planes.transpose(1, 2, 0)``) as fast as
#: interleaved ones, so that :func:`detect_file` passes the bands it reads on without
#: interleaving them (the shipped detector splits them into planes again first thing).
PLANAR_INPUT = "planar_input"
#: Optional detector method ``(gsd) -> (align, multiple)``: the pixels a tile's start in
#: the file must be a multiple of, and its sides a multiple of, for the detector to see
#: every pixel at the same phase of its working grid whatever the tile (the shipped
#: detector: :meth:`railwatch.detect.default.DefaultDetector.tile_alignment`).
TILE_ALIGNMENT = "tile_alignment"

#: Largest coarse-method block read at once (pixels per side).
COARSE_BLOCK_PX = 4096
#: GDAL block cache while reading (MB); GDAL's default is 5 % of the machine's RAM.
GDAL_CACHE_MB = 128
#: GDAL block cache while :func:`detect_array` reads the tiles of a site window from its
#: file (a :class:`~railwatch.imagery.read.WindowImage`), at least: the window keeps the
#: decoded rows of a row of tiles itself, so GDAL's cache needs only the file's blocks
#: under the band of rows being read, which :func:`_window_block_cache` sizes from the
#: window's width. Pixels are the same with any cache; 128 MB of blocks held through the
#: detection were a tenth of `process_scene`'s peak on a 144 Mpx window (session 38).
WINDOW_GDAL_CACHE_MB = 32
#: A georeferenced image whose ground pixel is more than this share longer one way than
#: the other (a lon/lat image away from the equator: 0.74 times as wide as tall at 42 N,
#: 0.21 at 78 N) is detected on a view of square pixels (:class:`SquareView`). At 5 %
#: each side is within 2.5 % of the mean, far inside the detector's tolerance of scale.
ANISOTROPY_TOLERANCE = 0.05

__all__ = [
    "DetectionResult",
    "FileReading",
    "TileCallback",
    "detect_array",
    "detect_file",
    "file_reading",
    "method_for_gsd",
    "scale_check_warning",
]

#: Relative distance beyond the measured interval at which a given gsd disagrees with
#: the rails (as ``railwatch detect --gsd`` checks it).
SCALE_TOLERANCE = 0.15


@dataclass(frozen=True)
class DetectionResult:
    """Detections of one image file.

    ``detections`` are in ``crs`` coordinates (metres for a projected CRS), or pixel
    (column, row) coordinates when ``crs`` is None (non-georeferenced input).
    ``method`` is ``objects``, ``length`` or ``presence``; for the last two
    ``coarse`` holds the estimate and ``detections`` is empty.
    """

    source: str
    detections: tuple[Detection, ...]
    crs: str | None
    gsd: float
    width: int
    height: int
    method: str = "objects"
    coarse: CoarseEstimate | None = None
    detector: str = ""
    detector_version: str = ""
    counts: Mapping[str, int] = field(default_factory=dict)
    #: The 1-based bands read as red, green, blue (one band three times for grey).
    bands: tuple[int, ...] = ()
    #: True when nothing labelled the bands and an image of four or more bands was read
    #: as red, green, blue from its first three (:func:`imagery.read.unlabelled_bands`).
    bands_guessed: bool = False
    #: How 16-bit and float pixels were mapped to 8 bits (``linear`` or ``display``:
    #: :data:`imagery.read.Radiometry`); None for an 8-bit file, read as it is.
    radiometry: str | None = None
    #: For a coarse result: where its track lines came from, ``given`` (``tracks``, the
    #: site's centrelines) or ``found`` (lines found in the image). For objects:
    #: ``given`` where ``tracks`` were given (only railcars near them are kept: see
    #: :attr:`off_track`), else None.
    tracks: str | None = None
    #: For objects with ``tracks`` given: how many railcars detected farther than
    #: :data:`railwatch.rails.TRACK_DISTANCE_M` from every line were left out, as
    #: ``railwatch process`` leaves them out of a site with centrelines (2026-12-07,
    #: session 44: the lines were ignored there until then); None without ``tracks``.
    off_track: int | None = None
    #: The sun's elevation (degrees): the one given, else the image's metadata's; None
    #: when neither says (below :data:`imagery.inspect.LOW_SUN_DEG` long shadows may be
    #: counted as cars).
    sun_elevation: float | None = None
    #: For a length result (1.5 m to 10 m): the stretches of track read as occupied
    #: (:class:`railwatch.detect.base.OccupiedRun`), in ``crs`` coordinates like the
    #: detections (pixels when ``crs`` is None): where the car equivalents were read.
    occupied: tuple[OccupiedRun, ...] = ()
    #: What the STAC item beside the file (``NAME.json``) declares for its bands' scale
    #: and offset (:func:`imagery.read.file_item_scaling`): read with them where the file
    #: declares none, as ``railwatch ingest`` and ``process`` read its scene; None for a
    #: file read as stored (8-bit, a colour table).
    item_scaling: FileItemScaling | None = None
    #: For a non-georeferenced image (PNG, JPEG) whose ``gsd`` was given: that gsd checked
    #: against the rails (:class:`railwatch.imagery.scale.ScaleCheck`: ``scale`` the
    #: measured one or ``scale.reason`` why none was, ``disagrees``). None for a
    #: georeferenced image (its header gives the scale) or with ``check_scale=False``.
    scale_check: ScaleCheck | None = None
    #: For a 16- or 32-bit integer file read with ``radiometry`` ``linear`` (the
    #: default) whose values are 8-bit ones, how it holds them: ``"x257"`` (every value
    #: a multiple of 257), ``"0-255"`` (none above 255) or ``"xK"`` (every value a
    #: multiple of K, up to 255 K: since session 47), as ``railwatch ingest`` judges
    #: it (:func:`railwatch.imagery.inspect.eight_bit_values`): most likely a visual
    #: product, which ``display`` reads; None otherwise. ``railwatch detect`` says so
    #: (since 2026-12-06, session 39: read as linear without a word).
    eight_bit: str | None = None
    #: For a coarse result (1.5 m and coarser): the share of what there was to read that
    #: was clear ground and read (:func:`_clear_ground`: by the file's quality mask, else
    #: as estimated), of the samples along the given track lines with data, else of the
    #: image's pixels with data; cloud and haze are not read, as ``railwatch process``
    #: does not read them (since 2026-12-06, session 41). None for objects, or where
    #: nothing had data.
    clear_share: float | None = None
    #: The quality mask a coarse result was read by (the one ingest takes for the
    #: file: :func:`railwatch.imagery.inspect.quality_mask_of`); None without one
    #: (cloud and haze were estimated from the pixels) and for objects.
    quality_mask: str | None = None
    #: The band GDAL labels alpha (transparency) that was read as image data (NIR, ...)
    #: and why, as :func:`railwatch.imagery.inspect.alpha_as_data` judges it; None when
    #: there is none. ``railwatch detect`` warns of it (2026-12-07, session 46).
    alpha_as_data: tuple[int, str] | None = None
    #: For objects (0.3-1.5 m): the share of the image's pixels that hold data (not no
    #: data, transparency or black fill), by the masks its tiles were read with, from a
    #: regular sample of at most :data:`DATA_SHARE_SAMPLES` pixels; None for a coarse
    #: result. ``railwatch detect`` says it for images its quality judgement cannot read
    #: (no CRS: PNG, JPEG; a rotated grid), which said nothing of no data until
    #: 2026-12-07 (session 47).
    data_share: float | None = None

    @property
    def total(self) -> int:
        return len(self.detections)

    def __repr__(self) -> str:
        """One line a notebook can read: the image, what was found and by what; each car
        is in ``detections`` (the dataclass's repr of 24 cars ran to 7,000 characters,
        every detection with its class scores; session 46)."""
        found = f"total={self.total}, counts={dict(self.counts)!r}"
        if self.coarse is not None and self.method == "length":
            found = f"car_equivalents={self.coarse.car_equivalents:g}"
        elif self.coarse is not None:
            found = f"present={self.coarse.present!r}"
        return (
            f"DetectionResult(source={self.source!r}, method={self.method!r}, {found}, "
            f"crs={self.crs!r}, gsd={self.gsd:g}, size=({self.width}, {self.height}), "
            f"detector={f'{self.detector} {self.detector_version}'.strip()!r})"
        )


#: Ground sample distances (m per pixel) a given ``gsd`` may have: finer is a
#: microscope (or degrees given as metres), coarser a pixel wider than any rail yard.
GSD_SANE: tuple[float, float] = (0.01, 1000.0)


def default_workers() -> int:
    """Tiles detected at once when the caller does not say: one per core, at most two.
    The shipped detector runs each tile on one thread, so two tiles in flight keep two
    cores busy while the next window is read (9.1–9.5 Mpx/s against 6.0–7.6 for one
    tile on two threads, 8192 px scene, 2-core machine, 2026-11-25)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


def _resolve(detector: Detector | None) -> Detector:
    if detector is not None:
        return detector
    from railwatch.detect.registry import get_detector

    return get_detector("default")


def _shift(dets: list[Detection], dx: float, dy: float) -> list[Detection]:
    if dx == 0 and dy == 0:
        return dets
    out = []
    for d in dets:
        b = d.box
        out.append(
            Detection(
                OrientedBox(b.cx + dx, b.cy + dy, b.length, b.width, b.angle),
                cls=d.cls,
                score=d.score,
                covered=d.covered,
                covered_score=d.covered_score,
                extra=d.extra,
            )
        )
    return out


def _tile_size(detector: Detector, tile_px: int | None) -> int | None:
    if tile_px is not None:
        return tile_px
    preferred = getattr(detector, "tile_px", None)
    return int(preferred) if isinstance(preferred, int | float) and preferred > 0 else None


def _alignment(detector: Detector, gsd: float) -> tuple[int, int]:
    """``(align, multiple)`` for tiles of ``detector`` at ``gsd`` (its optional
    :data:`TILE_ALIGNMENT` method): each tile is handed over starting at a pixel of the
    file that is a multiple of ``align`` and ``multiple`` pixels wide and high, padded with
    pixels of no data where the image does not reach; (1, 1) for a detector that
    does not say."""
    fn = getattr(detector, TILE_ALIGNMENT, None)
    if not callable(fn):
        return 1, 1
    align, multiple = fn(gsd)
    return max(1, int(align)), max(1, int(multiple))


def _pad_tile(
    img: np.ndarray, valid: np.ndarray | None, left: int, top: int, right: int, bottom: int
) -> tuple[np.ndarray, np.ndarray]:
    """``img`` with ``left``/``top``/``right``/``bottom`` pixels of black no data around it
    (``valid`` False there); a view of band-sequential planes stays one."""
    h, w = img.shape[:2]
    planes = img.transpose(2, 0, 1)
    if planes.flags.c_contiguous:  # as detect_file reads for planar detectors
        out = np.zeros((planes.shape[0], top + h + bottom, left + w + right), img.dtype)
        out[:, top : top + h, left : left + w] = planes
        padded = out.transpose(1, 2, 0)
    else:
        padded = np.zeros((top + h + bottom, left + w + right, img.shape[2]), img.dtype)
        padded[top : top + h, left : left + w] = img
    mask = np.zeros(padded.shape[:2], bool)
    mask[top : top + h, left : left + w] = True if valid is None else valid
    return padded, mask


def _run_tiles(
    read: TileReader,
    width: int,
    height: int,
    gsd: float,
    detector: Detector,
    *,
    tile_px: int | None,
    workers: int,
    on_tile: TileCallback | None,
    origin: tuple[int, int] = (0, 0),
) -> list[Detection]:
    """Detect tile by tile (reads in this thread, detection on ``workers`` threads)
    and merge across seams. Tiles lie on the grid of
    :func:`~railwatch.detect.tiling.anchored_windows` anchored to the file's pixels
    (``origin``: the file's pixel at the image's pixel (0, 0)); a tile the image's edge
    cuts is padded with no data to
    the detector's alignment (:func:`_alignment`), so that the detector sees every
    pixel at the same phase of its working grid in the image and in any window of it."""
    align, multiple = _alignment(detector, gsd)
    # A detector that names no alignment (onnx:PATH, ultralytics:PATH) may scale a tile
    # up to its input (YOLO's letterbox): its tiles the image's edge cuts are moved back
    # inside the image to the full tile, as before session 34, never handed over narrow
    # (onnx:PATH's letterbox scaled the 108 px corner tile of a 3000 px scene at 0.5 m,
    # 1024 px tiles, up 9.5 times; session 34's review).
    plan = plan_tiles(
        width,
        height,
        gsd,
        tile_px=_tile_size(detector, tile_px),
        origin=origin,
        align=align,
        multiple=multiple,
        shift_edges=not callable(getattr(detector, TILE_ALIGNMENT, None)),
    )
    total = len(plan.windows)
    results: list[tuple[list[Detection], np.ndarray]] = [([], np.zeros(0))] * total
    finished = 0

    def report() -> None:
        """One more tile done: ``on_tile`` gets the tiles done so far, which only grows
        (it was the tile's index, so a tile without data, reported as it was read,
        moved a progress bar past the tiles still in flight and back; review, s34)."""
        nonlocal finished
        finished += 1
        if on_tile:
            on_tile(finished, total)

    def work(k: int, win: Window, img: np.ndarray, valid: np.ndarray | None) -> None:
        left, top = (origin[0] + win.col_off) % align, (origin[1] + win.row_off) % align
        right, bottom = -(left + win.width) % multiple, -(top + win.height) % multiple
        if left or top or right or bottom:
            img, valid = _pad_tile(img, valid, left, top, right, bottom)
        dets = detector.detect(img, gsd, valid)
        dets = _shift(dets, win.col_off - left, win.row_off - top)
        results[k] = (dets, seam_distance(box_array(dets), win, width, height))

    def tiles() -> Iterator[tuple[int, Window, np.ndarray, np.ndarray | None]]:
        """Tiles with data (tiles without any valid pixel are read but skipped)."""
        for k, win in enumerate(plan.windows):
            _trim_heap()
            img, valid = read(win)
            if valid is not None and not valid.any():
                report()
                continue
            yield k, win, img, valid

    if workers <= 1:
        for k, win, img, valid in tiles():
            work(k, win, img, valid)
            report()
    else:
        pending: deque[tuple[int, Future[None]]] = deque()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            try:
                for k, win, img, valid in tiles():
                    # in this thread's context (imagery.inspect's notices said or not)
                    run = contextvars.copy_context().run
                    pending.append((k, pool.submit(run, work, k, win, img, valid)))
                    while len(pending) >= 2 * workers:
                        _, fut = pending.popleft()
                        fut.result()
                        report()
                while pending:
                    _, fut = pending.popleft()
                    fut.result()
                    report()
            except BaseException:
                # Ctrl-C, SIGTERM or a failed tile: drop the queued tiles instead of
                # detecting them all before the error can reach the caller
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    _trim_heap()  # the last tiles' working arrays, before what follows detection
    dets = [d for tile, _ in results for d in tile]
    if not dets:
        return []
    dist = np.concatenate([dd for _, dd in results])
    return merge_detections(dets, dist)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, None where the C library has none (macOS, musl), where
    ``ctypes.CDLL(None)`` is refused (Windows) and where Python was built without
    ctypes (no ``_ctypes``: built without libffi's headers; the import of this module
    failed there until session 38's review): detection then runs untrimmed, never fails."""
    try:
        import ctypes

        fn = ctypes.CDLL(None).malloc_trim
    except (ImportError, AttributeError, OSError, TypeError):  # TypeError: CDLL(None), Windows
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return cast(Callable[[int], int], fn)


_MALLOC_TRIM = _malloc_trim()


def _trim_heap() -> None:
    """Give the pages the C heap holds free back to the system (glibc's
    ``malloc_trim(0)``, every arena; nothing where there is none), as each tile is read.
    The detector's working arrays of one tile (about 110 MB for 1,720 px) are freed into
    the heap of the worker thread that made them, and the blocks GDAL and the window's
    rows freed into the reading thread's, where the other threads cannot use them: held
    free, they were 230-260 MB of the resident memory at the peak of a 36 Mpx window's
    detection (session 38, mallinfo2). Once more after the last tile, so that the count
    after detection does not start above them."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _whole_pixels(value: object) -> int:
    """``value`` as a whole number of pixels; ValueError for a fraction, NaN or infinity
    (until session 34's review ``int()`` cut 12.7 to 12 and let infinity's
    OverflowError through), TypeError for what is not a number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{value!r} is not a number")
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    if not (math.isfinite(number) and number.is_integer()):
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _gsd_number(gsd: object, call: str) -> float:
    """``gsd`` as a float, or an InputError saying to give a number: text (``"0.5"``)
    and None failed deep inside as a TypeError (session 46)."""
    if isinstance(gsd, bool) or not isinstance(gsd, numbers.Real):
        raise InputError(
            f"gsd {gsd!r} is not a number: give the ground sample distance in metres per "
            f"pixel, e.g. {call}(..., gsd=0.5)"
        )
    return float(gsd)


def _tracks_geometry(tracks: object, tracks_crs: str) -> BaseGeometry:
    """``detect_file``'s ``tracks`` given as GeoJSON (a file's path, its text or a parsed
    dict), read as ``railwatch detect --tracks FILE`` reads it; anything else an
    InputError saying what to give."""
    if not isinstance(tracks, str | os.PathLike | Mapping):
        raise InputError(
            f"tracks {tracks!r} ({type(tracks).__name__}): give the track centrelines as a "
            "shapely (Multi)LineString, or as GeoJSON lines in lon/lat (a file's path, its "
            "text or a parsed dict)"
        )
    if tracks_crs.upper() not in ("EPSG:4326", "OGC:CRS84"):
        raise InputError(
            f"tracks given as GeoJSON are read in lon/lat (RFC 7946), not in tracks_crs "
            f"{tracks_crs!r}: give tracks_crs only with a shapely geometry"
        )
    from railwatch.sites import load_tracks

    source = Path(tracks) if isinstance(tracks, os.PathLike) else tracks
    return load_tracks(cast("str | Path | Mapping[str, Any]", source), what="tracks")


def detect_array(
    image: ImageRows,
    gsd: float,
    *,
    detector: Detector | None = None,
    valid: np.ndarray | None = None,
    tile_px: int | None = None,
    workers: int | None = None,
    on_tile: TileCallback | None = None,
    origin: tuple[int, int] = (0, 0),
) -> list[Detection]:
    """Railcars in an in-memory ``(H, W, 3)`` uint8 RGB image at ``gsd`` metres per pixel,
    tiled and merged across seams, in pixel (column, row) coordinates.

    Returns an empty list at 1.5 m and coarser, where cars are not separable: use
    :func:`railwatch.detect.coarse.estimate_occupancy` there (``counting.count_scene``
    does so by itself). ``workers`` tiles are detected at once (default:
    :func:`default_workers`). ``origin`` is the pixel (column, row) of the image file this
    array was cut from at the array's pixel (0, 0) (the pipeline's site window: its
    :attr:`~railwatch.imagery.read.SiteRaster.file_offset`): tiles lie on a grid
    anchored to the file's pixel (0, 0), so a window gets the whole file's detections
    away from its own edges (docs/detection.md, "Tiles"). ``image`` may be a
    :class:`~railwatch.imagery.read.WindowImage` (the pipeline's large site windows,
    session 36): each tile is then read from the file as it is detected, with the same
    pixels, so the window is never held whole.
    """
    if not isinstance(image, np.ndarray | WindowImage):  # a PIL image, a list: no .ndim
        raise InputError(
            f"image is of type {type(image).__name__}, not a NumPy array: give an (H, W, 3) uint8 "
            "RGB array, e.g. numpy.asarray(pil_image.convert('RGB'))"
        )
    gsd = _gsd_number(gsd, "detect_array")
    if image.ndim != 3 or image.shape[2] != 3:
        raise InputError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
    if valid is not None and valid.shape != image.shape[:2]:
        raise InputError(f"valid mask shape {valid.shape} differs from image {image.shape[:2]}")
    try:
        col0, row0 = (_whole_pixels(v) for v in origin)
    except (TypeError, ValueError) as err:
        raise InputError(
            f"origin must be two whole numbers of pixels (column, row), got {origin!r}: "
            "give the pixel of the image file at the array's pixel (0, 0)"
        ) from err
    if method_for_gsd(gsd) != "objects":
        return []
    det = _resolve(detector)
    h, w = image.shape[:2]

    from_file = isinstance(image, WindowImage)

    def read(win: Window) -> tuple[np.ndarray, np.ndarray | None]:
        rows, cols = win.slices()
        if from_file:
            _hold_window_cache()
        return image[rows, cols], (valid[rows, cols] if valid is not None else None)

    n = workers if workers is not None else default_workers()
    with _window_block_cache(image):
        return _run_tiles(
            read, w, h, gsd, det, tile_px=tile_px, workers=n, on_tile=on_tile, origin=(col0, row0)
        )


#: The block cache needs (bytes) of the site windows whose tiles are being read in this
#: process, and GDAL's cache max before the first of them (:func:`_window_block_cache`),
#: under :data:`_WINDOW_CACHE_LOCK`.
_WINDOW_CACHE_LOCK = threading.Lock()
_window_needs: list[int] = []
_cache_before: list[int] = []


def _window_cache_bound() -> int:
    """GDAL's cache max while :data:`_window_needs` are read (under the lock)."""
    return min(GDAL_CACHE_MB * 2**20, max(WINDOW_GDAL_CACHE_MB * 2**20, sum(_window_needs)))


@contextmanager
def _window_block_cache(image: ImageRows) -> Iterator[None]:
    """While the tiles of ``image`` are read: for a site window read from its file
    (:class:`~railwatch.imagery.read.WindowImage`), GDAL's block cache bounded to two rows
    of 512-px blocks of 4 bytes a pixel across the window (8-bit RGB and alpha; at least
    :data:`WINDOW_GDAL_CACHE_MB`, at most :data:`GDAL_CACHE_MB`), then restored; nothing
    for an array in memory. Its rows are read band by band, each band from the same
    row of the file's blocks as the last until it is passed, so the blocks of the row
    being read stay cached (the pixels are the same with any cache).

    GDAL's cache max is one for the whole process, so the windows detected at once (the
    threads of a `dask worker`, the Python API) share it: it is set to the sum of their
    needs (within the same bounds) and given back, as it was before the first of them,
    when the last one ends (review r3, session 38: a per-thread ``rasterio.Env`` lifted
    a window's bound as soon as another thread's detection ended and left the process
    at that one's bound for good)."""
    if not isinstance(image, WindowImage):
        yield
        return
    from rasterio.env import get_gdal_config, set_gdal_config

    need = 2 * 512 * image.shape[1] * 4
    with _WINDOW_CACHE_LOCK:
        if not _window_needs:
            _cache_before[:] = [int(get_gdal_config("GDAL_CACHEMAX"))]
        _window_needs.append(need)
        set_gdal_config("GDAL_CACHEMAX", _window_cache_bound())
    try:
        yield
    finally:
        with _WINDOW_CACHE_LOCK:
            _window_needs.remove(need)
            last = not _window_needs
            set_gdal_config("GDAL_CACHEMAX", _cache_before[0] if last else _window_cache_bound())


def _hold_window_cache() -> None:
    """Before a window's tile is read: GDAL's cache max set back to the windows' bound
    where another thread changed it meanwhile (a ``rasterio.Env``, such as the
    ``gdal_env`` of another scene's window, sets it on entry and puts back on exit what
    it found, process-wide)."""
    from rasterio.env import get_gdal_config, set_gdal_config

    with _WINDOW_CACHE_LOCK:
        if _window_needs:
            bound = _window_cache_bound()
            if int(get_gdal_config("GDAL_CACHEMAX")) != bound:
                set_gdal_config("GDAL_CACHEMAX", bound)


# --------------------------------------------------------------------------- files


def _crs_string(crs: Any) -> str:
    from railwatch.imagery.inspect import crs_text

    return crs_text(crs)


def _georeferenced(ds: Any) -> bool:
    return ds.crs is not None


def missing_crs_hint(ds: Any, name: str) -> str:
    """For an open dataset off a map grid with a CRS (a file whose CRS was lost, or one
    mapped only by ground control points or RPCs), a sentence saying how to give it one
    (the cases of ``railwatch ingest``: :func:`~railwatch.imagery.inspect.
    georeferencing_problem`); else ""."""
    problem = georeferencing_problem(ds, name)
    if problem is None or problem.kind == "no grid":
        return ""
    # a map grid given only by ground control points or a sensor model: said "not
    # georeferenced" alone until 2026-12-06 (session 39), where ingest says why
    if problem.kind == "gcps":
        return (
            f". It has ground control points but no map grid, which railwatch needs: "
            f"orthorectify it first (`gdalwarp -t_srs EPSG:CODE {name} OUT.tif`) to use "
            "its own scale and write map coordinates"
        )
    if problem.kind == "rpcs":
        return (
            f". It has RPCs (the sensor's model) but no map grid, which railwatch needs: "
            f"orthorectify it first (`gdalwarp -rpc -t_srs EPSG:CODE [-to "
            f"RPC_DEM=DEM.tif] {name} OUT.tif`) to use its own scale and write map "
            "coordinates"
        )
    # the .prj beside a PNG with a world file: said by ingest, not by detect until
    # 2026-12-06 (session 39)
    return f". It {problem.fix} to use its own scale and write map coordinates"


def gsd_of(ds: Any) -> float:
    """Ground sample distance (metres per pixel on the ground) of an open georeferenced
    rasterio dataset, as ingest measures it (:func:`railwatch.imagery.inspect.ground_gsd`):
    a projection's linear unit where it is true to scale, else measured geodesically
    around the image centre (geographic CRSs; Web Mercator, whose "metres" are 1.35
    ground metres at 42° N)."""
    return ground_gsd(ds)


def _all_valid(ds: Any) -> bool:
    """True when the dataset has no nodata value, mask band or alpha band: every pixel is
    valid, so the per-window dataset mask (all 255) need not be computed."""
    from rasterio.enums import MaskFlags

    try:
        flags = ds.mask_flag_enums
    except Exception:  # an unusual driver: compute the masks
        return False
    return all(list(f) == [MaskFlags.all_valid] for f in flags)


@dataclass(frozen=True)
class _Masks:
    """What of a file says which pixels are no data beyond GDAL's dataset mask, as
    :mod:`railwatch.imagery.read` reads it for the pipeline: an alpha band GDAL does not
    report as one (``alpha``: an RGBA TIFF without ExtraSamples,
    :func:`~railwatch.imagery.inspect.undeclared_alpha`) and a colour table, read as its
    colours (``lut``), whose transparent entries (``clear``,
    :func:`~railwatch.imagery.inspect.transparent_entries`) are no data; and, for a file
    that declares neither nodata nor alpha (``fill_gsd``, its ground sample distance), its
    black fill (:func:`~railwatch.imagery.read.undeclared_fill`)."""

    alpha: int | None = None
    lut: np.ndarray | None = None
    clear: np.ndarray | None = None
    fill_gsd: float | None = None


def _masks_of(ds: Any, bands: Sequence[int], gsd: float | None = None) -> _Masks:
    """The :class:`_Masks` of an open dataset read as ``bands``; with ``gsd``, a file
    that declares no nodata value, alpha band or colour table has its black fill marked
    as :func:`railwatch.imagery.read.read_site_window` marks it (``fill_gsd``)."""
    # a band labelled alpha that holds data (NIR) is no alpha band: its file's black
    # fill is no data, as the pipeline reads it (imagery.inspect.alpha_as_data, s46)
    labelled = alpha_band(ds) is not None
    alpha = None if labelled else undeclared_alpha(ds)
    declares = ds.nodata is not None or labelled or alpha is not None
    fill = None if declares or gsd is None else float(gsd)
    lut = colour_table(ds, bands)
    if lut is None:
        return _Masks(alpha=alpha, fill_gsd=fill)
    return _Masks(alpha=alpha, lut=lut, clear=transparent_entries(ds, bands[0]))


@dataclass(frozen=True)
class FileReading:
    """How ``railwatch detect`` maps an image file's pixels to 8-bit RGB
    (:func:`file_reading`): its ``masks`` (a colour table, ``masks.lut``, read as its
    colours), the scales and offsets of the STAC item beside it (``item``; None for a
    colour table) and the per-band stretch range of non-8-bit data (``scale``, for
    :func:`~railwatch.imagery.read.stretch_to_uint8`; None: read as stored)."""

    masks: _Masks
    item: FileItemScaling | None
    scale: tuple[np.ndarray, np.ndarray] | None


def file_reading(
    ds: Any,
    path: Path,
    bands: Sequence[int],
    *,
    gsd: float | None,
    radiometry: Radiometry,
    command: str,
) -> FileReading:
    """How the image file ``path`` (open as ``ds``, read as ``bands``) is mapped to 8-bit
    at ``gsd`` metres per pixel (None: the file's own), the one rule of ``railwatch
    detect``'s windows and label reading (``train``/``calibrate --labels``, ``eval``,
    ``import-labels``; session 31), so that a model is trained and evaluated on the
    pixels detect sees. A colour table's colours are 8-bit whatever its indexes' type;
    other pixels are read with the scales the STAC item beside the file declares where
    it declares none (as ``railwatch ingest`` records them, refused naming ``command``
    where it cannot be applied), stretched by :func:`~railwatch.imagery.read.
    stretch_ranges` measured with ``gsd``: a file without georeference given one has its
    black fill left out of the range (a georeferenced one measures its own; until
    session 31 label reading measured a file without georeference with its fill)."""
    masks = _masks_of(ds, bands, gsd)
    if masks.lut is not None:
        return FileReading(masks, None, None)
    item = file_item_scaling(path, command=command)
    scale = stretch_ranges(ds, bands, radiometry=radiometry, gsd=gsd, item_scaling=item.scaling)
    return FileReading(masks, item, scale)


def _around(off: int, length: int, size: int, pad: int, want: int) -> tuple[int, int]:
    """``[start, end)`` along an axis of ``size`` pixels holding ``[off, off + length)``
    and ``pad`` pixels either side, widened to ``want`` pixels where the image allows
    (moved inside it at its edges)."""
    a, b = off - pad, off + length + pad
    if b - a < want:
        extra = want - (b - a)
        a, b = a - extra // 2, b + extra - extra // 2
    if a < 0:
        a, b = 0, b - a
    if b > size:
        a, b = a - (b - size), size
    return max(0, a), b


def _fill_of(
    ds: Any, bands: Sequence[int], rw: Any, data: np.ndarray, gsd: float
) -> np.ndarray | None:
    """The black fill (:func:`railwatch.imagery.read.undeclared_fill`) of window ``rw``
    whose raw ``data`` was read, or None when it has none. A fill region is measured over
    the window and :data:`FILL_MIN_M2`'s side around it (read again only when the window
    holds pixels that are 0 in every band), so a fill the window cuts small at its edge
    is still one."""
    from rasterio.windows import Window as RioWindow

    zero = data[0] == 0
    if not zero.any():
        return None
    for band in data[1:]:
        zero &= band == 0
    if not zero.any():
        return None
    pad = math.ceil(math.sqrt(FILL_MIN_M2) / gsd)
    # a narrow window (the last tile along a side, session 34) is looked around as far
    # as a square one: a thin strip of fill it cuts short is still measured long
    want = max(int(rw.width), int(rw.height)) + 2 * pad
    c0, c1 = _around(int(rw.col_off), int(rw.width), ds.width, pad, want)
    r0, r1 = _around(int(rw.row_off), int(rw.height), ds.height, pad, want)
    same = (c0, r0, c1 - c0, r1 - r0) == (rw.col_off, rw.row_off, rw.width, rw.height)
    around = data if same else ds.read(bands, window=RioWindow(c0, r0, c1 - c0, r1 - r0))
    fill = undeclared_fill(around, gsd)
    top, left = int(rw.row_off) - r0, int(rw.col_off) - c0
    fill = fill[top : top + int(rw.height), left : left + int(rw.width)]
    return fill if fill.any() else None


def _planar_input(detector: Detector | None) -> bool:
    """Whether ``detector`` takes views of band-sequential tiles (:data:`PLANAR_INPUT`)."""
    return detector is not None and getattr(detector, PLANAR_INPUT, False) is True


def _reader(
    ds: Any,
    bands: list[int],
    scale: tuple[np.ndarray, np.ndarray] | None,
    *,
    planar: bool = False,
    radiometry: Radiometry = "linear",
    masks: _Masks | None = None,
) -> TileReader:
    """Reads a window of ``bands`` as 8-bit ``(h, w, 3)`` RGB: interleaved, or with
    ``planar`` as the ``(h, w, 3)`` view of the ``(3, h, w)`` array rasterio reads
    (the same pixel values; no interleaving copy), for detectors with
    :data:`PLANAR_INPUT`. Non-8-bit data is mapped by ``scale`` (from
    :func:`imagery.read.stretch_ranges` with the same ``radiometry``). ``masks``: an
    undeclared alpha band and a colour table (read as its colours, its transparent
    entries no data) and the black fill of a file that declares no nodata, as
    :func:`_masks_of` found them."""
    from rasterio.windows import Window as RioWindow

    extra = masks or _Masks()
    all_valid = _all_valid(ds) and extra.alpha is None and extra.clear is None

    def read(win: Window) -> tuple[np.ndarray, np.ndarray | None]:
        rw = RioWindow(win.col_off, win.row_off, win.width, win.height)
        index = None
        if extra.lut is not None:  # a colour table: its colours, not its indexes
            index = ds.read(bands[0], window=rw)
            raw = index[None]
            rgb, _ = palette_colours(index, extra.lut)  # no entry: black, no data
            data = np.ascontiguousarray(rgb.transpose(2, 0, 1))
        else:
            data = raw = ds.read(bands, window=rw)
        if data.dtype.kind == "f":  # NaN pixels are no data (window_valid), read as 0
            data = np.where(np.isfinite(data), data, 0.0).astype(data.dtype)
        if scale is not None and index is None:  # as imagery.read maps non-8-bit data
            lo, hi = scale
            data = np.stack(
                [
                    stretch_to_uint8(data[i], lo[i], hi[i], radiometry=radiometry)
                    for i in range(len(data))
                ]
            )
        elif data.dtype != np.uint8:
            data = np.clip(data, 0, 255).astype(np.uint8)
        # as read (a view), or band-sequential to interleaved (cv2.merge: SIMD)
        img = data.transpose(1, 2, 0) if planar else np.asarray(cv2.merge(list(data)))
        return img, window_valid(ds, bands, rw, raw, extra, index=index, all_valid=all_valid)

    return read


def window_valid(
    ds: Any,
    bands: Sequence[int],
    rw: Any,
    raw: np.ndarray,
    masks: _Masks,
    *,
    index: np.ndarray | None = None,
    all_valid: bool | None = None,
) -> np.ndarray | None:
    """Where the window ``rw`` of ``ds`` (read as ``bands``; ``raw`` its stored values,
    ``index`` a colour table's indexes) holds data, None where it does everywhere: the
    one rule of ``railwatch detect``'s windows and label reading (session 31). GDAL's
    dataset mask, less (``masks``, :func:`_masks_of`) where an alpha band GDAL does not
    know is 0, a colour table's transparent entries and indexes it has no entry for
    (:func:`~railwatch.imagery.read.palette_entries`), the black fill of a file that
    declares no nodata, and NaN. ``all_valid``: whether the file masks nothing
    (:func:`_all_valid`; found when None)."""
    if all_valid is None:
        all_valid = _all_valid(ds) and masks.alpha is None and masks.clear is None
    # black fill that no nodata or alpha declares (imagery.read.undeclared_fill)
    fill = _fill_of(ds, bands, rw, raw, masks.fill_gsd) if masks.fill_gsd else None
    listed = None  # a colour table's indexes that have an entry in it
    if index is not None and masks.lut is not None:
        listed = palette_entries(index, masks.lut)
        if listed.all():
            listed = None
    finite = None  # NaN pixels of a float image are no data, as in imagery.read
    if raw.dtype.kind == "f" and not (ok := np.isfinite(raw).all(axis=0)).all():
        finite = ok
    if all_valid and fill is None and listed is None:  # skips ~8 ms per 1688 px window
        return finite
    valid = np.ones(raw.shape[1:], bool) if all_valid else data_mask(ds, window=rw) > 0
    if fill is not None:
        valid &= ~fill
    if masks.alpha is not None:  # GDAL's mask does not know this alpha band
        valid &= ds.read(masks.alpha, window=rw) > 0
    if index is not None and masks.clear is not None:
        valid &= ~np.isin(index, masks.clear)
    if listed is not None:
        valid &= listed
    if finite is not None:
        valid &= finite
    return None if valid.all() else valid


#: Pixels sampled (at most) for :attr:`DetectionResult.data_share`: one in the middle of
#: each cell of a regular grid over the image.
DATA_SHARE_SAMPLES = 1_000_000


class _DataCheck:
    """A :data:`TileReader` that remembers whether any window it read held a valid pixel
    and, for an image of ``width`` x ``height`` pixels, which pixels of a regular grid of
    at most :data:`DATA_SHARE_SAMPLES` held data (:attr:`data_share`; 2026-12-07,
    session 47). Windows may overlap: a pixel read twice is the same pixel."""

    def __init__(self, read: TileReader, width: int = 0, height: int = 0) -> None:
        self._read = read
        self.saw_data = False
        step = max(1, math.ceil(math.sqrt(width * height / DATA_SHARE_SAMPLES)))
        self._step, self._first = step, step // 2
        rows = len(range(self._first, height, step))
        cols = len(range(self._first, width, step))
        #: 0 not read, 1 no data, 2 data
        self._seen = np.zeros((rows, cols), np.uint8)

    def __call__(self, win: Window) -> tuple[np.ndarray, np.ndarray | None]:
        img, valid = self._read(win)
        if not self.saw_data and (valid is None or bool(valid.any())):
            self.saw_data = True
        self._note(win, valid)
        return img, valid

    def _cells(self, off: int, length: int, n: int) -> tuple[int, int]:
        """The grid cells ``[a, b)`` whose sampled pixel lies in ``[off, off + length)``."""
        s, first = self._step, self._first
        a = max(0, -(-(off - first) // s))
        b = min(n, -(-(off + length - first) // s))
        return a, max(a, b)

    def _note(self, win: Window, valid: np.ndarray | None) -> None:
        r0, r1 = self._cells(win.row_off, win.height, self._seen.shape[0])
        c0, c1 = self._cells(win.col_off, win.width, self._seen.shape[1])
        if r0 == r1 or c0 == c1:
            return
        if valid is None:
            self._seen[r0:r1, c0:c1] = 2
            return
        if valid.shape != (win.height, win.width):  # not this window's pixels: not noted
            return
        s, first = self._step, self._first
        rows = np.arange(r0, r1) * s + first - win.row_off
        cols = np.arange(c0, c1) * s + first - win.col_off
        self._seen[r0:r1, c0:c1] = np.where(valid[np.ix_(rows, cols)], 2, 1)

    @property
    def data_share(self) -> float | None:
        """The share of the pixels read that held data; None where none was read."""
        read = int(np.count_nonzero(self._seen))
        return None if read == 0 else int(np.count_nonzero(self._seen == 2)) / read


@dataclass(frozen=True)
class SquareView:
    """The pixel grid of an image whose pixels are not square on the ground, resampled to
    square ones: ``width`` x ``height`` view pixels, view pixel corner ``(x, y)`` at image
    pixel ``(x * kx, y * ky)``. Its pixels are the geometric mean of the image's ground
    width and height (its ground sample distance, :func:`gsd_of`), so it has as many
    pixels as the image: the same tiles, time and memory."""

    width: int
    height: int
    kx: float
    ky: float


def square_view(ds: Any) -> SquareView | None:
    """The :class:`SquareView` of an open georeferenced dataset whose ground pixel is
    more than :data:`ANISOTROPY_TOLERANCE` longer one way than the other, else None (the
    image is detected in its own pixels, as it is when its ground size cannot be
    measured: an odd CRS given ``--gsd``)."""
    try:
        gx, gy = ground_pixel_size(ds)
    except ImageryError:
        return None
    if max(gx, gy) <= (1.0 + ANISOTROPY_TOLERANCE) * min(gx, gy):
        return None
    fx, fy = math.sqrt(gy / gx), math.sqrt(gx / gy)  # image pixels per view pixel
    w, h = max(1, round(ds.width / fx)), max(1, round(ds.height / fy))
    return SquareView(w, h, ds.width / w, ds.height / h)


def _box_kernel(k: float) -> np.ndarray | None:
    """The 1-D averaging kernel over ``k`` pixels (``k`` > 1: the pixels an axis reduced
    ``k`` times pools, the end ones in part), or None for ``k`` <= 1."""
    if k <= 1.0:
        return None
    half = k / 2.0
    n = math.ceil(half - 0.5)
    off = np.arange(-n, n + 1, dtype=np.float64)
    w = np.clip(np.minimum(off + 0.5, half) - np.maximum(off - 0.5, -half), 0.0, None)
    return (w / w.sum()).astype(np.float32)


def _view_reader(ds: Any, view: SquareView, read: TileReader, *, planar: bool) -> TileReader:
    """A :data:`TileReader` of ``view`` windows: the image window under each (read by
    ``read``, a planar reader of the image's own pixels with all its masks) averaged
    along the axis it reduces and sampled bilinearly (as ``cv2.INTER_AREA`` down and
    ``INTER_LINEAR`` up, each axis its own way: 2.2 times fewer columns and 2.2 times
    more rows at 78 N), aligned to the view to a 32nd of a pixel; its valid mask the
    same way, a view pixel valid where most of what it came from is. ``planar`` as
    :func:`_reader`'s."""
    kern_x, kern_y = _box_kernel(view.kx), _box_kernel(view.ky)
    one = np.ones(1, np.float32)
    # the averaging reaches kx / 2 image pixels either side, the bilinear sampling one
    pad_x, pad_y = math.ceil(view.kx / 2.0) + 1, math.ceil(view.ky / 2.0) + 1

    def resample(plane: np.ndarray, m: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        if kern_x is not None or kern_y is not None:
            plane = cv2.sepFilter2D(
                plane,
                -1,
                kern_x if kern_x is not None else one,
                kern_y if kern_y is not None else one,
                borderType=cv2.BORDER_REPLICATE,
            )
        return np.asarray(
            cv2.warpAffine(
                plane,
                m,
                (shape[1], shape[0]),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REPLICATE,
            )
        )

    def read_view(win: Window) -> tuple[np.ndarray, np.ndarray | None]:
        x0, x1 = win.col_off * view.kx, (win.col_off + win.width) * view.kx
        y0, y1 = win.row_off * view.ky, (win.row_off + win.height) * view.ky
        c0, c1 = max(0, math.floor(x0) - pad_x), min(ds.width, math.ceil(x1) + pad_x)
        r0, r1 = max(0, math.floor(y0) - pad_y), min(ds.height, math.ceil(y1) + pad_y)
        img, valid = read(Window(c0, r0, c1 - c0, r1 - r0))
        # view pixel centre (i + 0.5) is image pixel centre kx (i + 0.5) - 0.5, less c0
        m = np.array(
            [
                [view.kx, 0.0, view.kx * (win.col_off + 0.5) - 0.5 - c0],
                [0.0, view.ky, view.ky * (win.row_off + 0.5) - 0.5 - r0],
            ]
        )
        shape = (win.height, win.width)
        planes = np.stack([resample(np.ascontiguousarray(img[..., i]), m, shape) for i in range(3)])
        image = planes.transpose(1, 2, 0) if planar else np.asarray(cv2.merge(list(planes)))
        if valid is None:
            return image, None
        mask = resample(np.where(valid, np.uint8(255), np.uint8(0)), m, shape) >= 128
        return image, (None if mask.all() else mask)

    return read_view


def _from_view(
    dets: list[Detection], view: SquareView, transform: Any, crs: str, out_crs: str | None
) -> list[Detection]:
    """Boxes in :class:`SquareView` pixels to boxes in ``crs`` (the image's), or in
    ``out_crs`` when given: the corners go through the view's scale, the image's
    ``transform`` and (for ``out_crs``) the projection. In a CRS whose units are not
    square on the ground (degrees) the corners of a car at an angle form a parallelogram
    no :class:`OrientedBox` is: its box keeps the car's axis, its length and its area
    (the width is the parallelogram's height across the axis), which its corners map
    back to the ground closest (IoU 0.91 with the car at 45 degrees to the meridian at
    78 N; 0.85 for the smallest rectangle holding the corners). In a metric CRS it is
    the car's rectangle."""
    if not dets:
        return []
    c = corners_of([d.box for d in dets])  # (N, 4, 2) view pixels
    col, row = c[..., 0] * view.kx, c[..., 1] * view.ky
    x = transform.a * col + transform.b * row + transform.c
    y = transform.d * col + transform.e * row + transform.f
    if out_crs is not None and out_crs != crs:
        from pyproj import Transformer

        tr = Transformer.from_crs(crs, out_crs, always_xy=True)
        xs, ys = tr.transform(x.ravel(), y.ravel())
        x, y = np.asarray(xs).reshape(x.shape), np.asarray(ys).reshape(y.shape)
    p = np.stack([x, y], axis=2)
    centre = p.mean(axis=1)
    u = (p[:, 1] + p[:, 2] - p[:, 0] - p[:, 3]) / 4.0  # half the car's axis
    v = (p[:, 2] + p[:, 3] - p[:, 0] - p[:, 1]) / 4.0  # half its width, perhaps sheared
    axis = u / np.maximum(np.hypot(u[:, 0], u[:, 1]), 1e-300)[:, None]
    across = np.stack([-axis[:, 1], axis[:, 0]], axis=1)
    half_wid = np.abs(np.sum(v * across, axis=1))
    return _with_boxes(dets, centre[:, 0], centre[:, 1], u, across * half_wid[:, None])


def _half_axes(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The half-length and half-width vectors ``(N, 2)`` of ``(N, 5)`` boxes
    (:func:`~railwatch.detect.merge.box_array`)."""
    a = np.deg2rad(b[:, 4])
    u = np.stack([np.cos(a), np.sin(a)], axis=1) * b[:, 2:3] / 2.0
    v = np.stack([-np.sin(a), np.cos(a)], axis=1) * b[:, 3:4] / 2.0
    return u, v


def _with_boxes(
    dets: list[Detection], cx: np.ndarray, cy: np.ndarray, u: np.ndarray, v: np.ndarray
) -> list[Detection]:
    """``dets`` with the boxes of centres ``cx``, ``cy`` and half-axis vectors ``u``
    (length) and ``v`` (width), ``(N, 2)``; class and scores kept."""
    length = 2 * np.hypot(u[:, 0], u[:, 1])
    width = 2 * np.hypot(v[:, 0], v[:, 1])
    ang = (np.degrees(np.arctan2(u[:, 1], u[:, 0])) + 90.0) % 180.0 - 90.0
    return [
        replace(
            d,
            box=OrientedBox(
                float(cx[k]), float(cy[k]), float(length[k]), float(width[k]), float(ang[k])
            ),
        )
        for k, d in enumerate(dets)
    ]


def _to_crs(dets: list[Detection], transform: Any) -> list[Detection]:
    """Pixel boxes to CRS boxes through the affine ``transform`` (pixel corner origin)."""
    if not dets:
        return []
    b = box_array(dets)
    lin = np.array([[transform.a, transform.b], [transform.d, transform.e]])
    ux, vx = _half_axes(b)
    cx = transform.a * b[:, 0] + transform.b * b[:, 1] + transform.c
    cy = transform.d * b[:, 0] + transform.e * b[:, 1] + transform.f
    return _with_boxes(dets, cx, cy, ux @ lin.T, vx @ lin.T)


def _reproject(dets: list[Detection], src: str, dst: str) -> list[Detection]:
    """Boxes from ``src`` to ``dst`` (centre and axis end points transformed)."""
    if not dets or src == dst:
        return dets
    from pyproj import Transformer

    tr = Transformer.from_crs(src, dst, always_xy=True)
    b = box_array(dets)
    u, v = _half_axes(b)
    c = b[:, :2]
    pts = np.concatenate([c, c + u, c + v])
    x, y = tr.transform(pts[:, 0], pts[:, 1])
    p = np.stack([np.asarray(x), np.asarray(y)], axis=1).reshape(3, len(dets), 2)
    return _with_boxes(dets, p[0, :, 0], p[0, :, 1], p[1] - p[0], p[2] - p[0])


def _coarse_file(
    ds: Any,
    read: TileReader,
    gsd: float,
    tracks: BaseGeometry | None,
    sun: tuple[float, float] | None = None,
    mask_uri: str | None = None,
) -> tuple[CoarseEstimate, float | None]:
    """Coarse estimate over blocks of at most COARSE_BLOCK_PX (summed); ``tracks`` in
    pixel coordinates of the whole image, ``sun`` in its pixel frame. Only clear ground
    is read, as ``railwatch process`` reads a scene (:func:`_clear_ground`): by the
    quality mask ``mask_uri`` (a georeferenced file's), else as estimated from the
    pixels. Also the share of what was there to read that was clear
    (:attr:`DetectionResult.clear_share`; None where nothing had data)."""
    from shapely import affinity
    from shapely.geometry import box

    from railwatch.detect.coarse import track_share

    blocks = [
        Window(c, r, min(COARSE_BLOCK_PX, ds.width - c), min(COARSE_BLOCK_PX, ds.height - r))
        for r in range(0, ds.height, COARSE_BLOCK_PX)
        for c in range(0, ds.width, COARSE_BLOCK_PX)
    ]
    parts = []
    shares: list[tuple[float, float]] = []  # (clear share, weight) of each block
    for win in blocks:
        img, valid = read(win)
        data = np.ones(img.shape[:2], dtype=bool) if valid is None else np.asarray(valid, bool)
        valid = _clear_ground(ds, win, img, data, gsd, mask_uri)
        local = None
        if tracks is not None:
            local = affinity.translate(tracks, -win.col_off, -win.row_off)
            share = track_share(local, valid, data)
            weight = local.intersection(box(0, 0, win.width, win.height)).length
        else:  # lines found in the image: the share of its pixels with data
            share = float(valid.sum()) / float(data.sum()) if data.any() else None
            weight = float(data.sum())
        if share is not None and weight > 0:
            shares.append((share, weight))
        parts.append(estimate_occupancy(img, gsd, valid, local, sun=sun))
    clear = round(sum(c * w for c, w in shares) / sum(w for _, w in shares), 3) if shares else None
    if len(parts) == 1:
        return parts[0], clear
    length = sum(p.occupied_length_m for p in parts)
    # the blocks' track read and empty track are kept (they were dropped: a file where no
    # track was read at all then looked like a measured empty yard)
    reads = [p.track_m for p in parts]
    sources = {p.empty_from for p in parts}
    # 10 m and coarser: the longest string of any block (a string cut by a block edge is
    # read in two parts, each shorter)
    longest = [p.longest_string_m for p in parts if p.longest_string_m is not None]
    windows = [p.long_windows for p in parts]
    return CoarseEstimate(
        car_equivalents=round(sum(p.car_equivalents for p in parts), 2),
        low=round(sum(p.low for p in parts), 2),
        high=round(sum(p.high for p in parts), 2),
        occupied_length_m=round(length, 1),
        method=parts[0].method,
        present=any(p.present for p in parts),
        directions_deg=tuple(sorted({d for p in parts for d in p.directions_deg})),
        # a block read as crowded marks the whole (its interval reaches its capacity)
        empty_from=sources.pop()
        if len(sources) == 1
        else ("image, crowded" if "image, crowded" in sources else "image"),
        track_m=None if any(r is None for r in reads) else round(sum(r or 0.0 for r in reads), 1),
        longest_string_m=max(longest) if longest else None,
        long_windows=None if any(w is None for w in windows) else sum(w or 0 for w in windows),
        # each block's runs, moved from its own pixels to the file's
        runs=tuple(
            r.translated(win.col_off, win.row_off)
            for win, p in zip(blocks, parts, strict=True)
            for r in p.runs
        ),
        too_coarse=parts[0].too_coarse,
        grey=all(p.grey for p in parts),
    ), clear


def _near_given_tracks(
    dets: list[Detection], lines: BaseGeometry, view: SquareView | None, gsd: float
) -> list[Detection]:
    """The detections (pixels of the image, or of its square ``view``) whose centre lies
    within :data:`railwatch.rails.TRACK_DISTANCE_M` of ``lines`` (the given centrelines
    in the image's pixels; :func:`railwatch.detect.base.near_lines`, as
    :func:`railwatch.counting.near_tracks` keeps a site's); none where there are no lines."""
    from shapely import affinity

    from railwatch.detect.base import near_lines
    from railwatch.rails import TRACK_DISTANCE_M

    if view is not None:  # view pixel (x, y) is image pixel (x * kx, y * ky)
        lines = affinity.scale(lines, 1.0 / view.kx, 1.0 / view.ky, origin=(0, 0))
    return near_lines(dets, lines, gsd, TRACK_DISTANCE_M)


def _clear_ground(
    ds: Any,
    win: Window,
    img: np.ndarray,
    valid: np.ndarray,
    gsd: float,
    mask_uri: str | None,
) -> np.ndarray:
    """The pixels of block ``win`` of ``ds`` whose ground can be read
    (:func:`railwatch.imagery.quality.readable_pixels`, as ``counting.count_scene`` takes
    them in ``railwatch process``): with data (``valid``) and, by the quality mask
    ``mask_uri`` where there is one, clear or snow, else not estimated to be cloud,
    cloud shadow or haze. Until 2026-12-06 (session 41) ``railwatch detect`` read every
    pixel with data: a cloud's bright edge along the tracks of the demo's 2022-09-03
    image (6 cars) read 46.0 car equivalents, where ``railwatch process`` read 1.3."""
    from railwatch.imagery.quality import readable_pixels
    from railwatch.imagery.read import SiteGrid, quality_mask_on

    mask = None
    if mask_uri is not None:
        from affine import Affine

        at = ds.transform @ Affine.translation(win.col_off, win.row_off)
        grid = SiteGrid(_crs_string(ds.crs), at, win.width, win.height, gsd)
        mask = quality_mask_on(mask_uri, grid)
    return readable_pixels(img, valid, mask, gsd)


def detect_file(
    path: str | Path,
    *,
    gsd: float | None = None,
    detector: Detector | None = None,
    out_crs: str | None = None,
    tile_px: int | None = None,
    workers: int | None = None,
    on_tile: TileCallback | None = None,
    tracks: BaseGeometry | str | Path | Mapping[str, Any] | None = None,
    tracks_crs: str = "EPSG:4326",
    sun: tuple[float, float] | None = None,
    bands: Sequence[int] | None = None,
    radiometry: Radiometry | str = "linear",
    check_scale: bool = True,
    log_alpha_as_data: bool = True,
) -> DetectionResult:
    """Railcars in an image file of any size, read window by window.

    GeoTIFFs (and any georeferenced raster GDAL reads) give detections in the image's
    CRS, or in ``out_crs`` when given; ``gsd`` overrides the one from the geotransform.
    One whose pixels are not square on the ground (lon/lat away from the equator) is
    detected on a view resampled to square pixels (:func:`square_view`).
    Non-georeferenced images (PNG, JPEG) need ``gsd`` and give pixel coordinates.
    ``tracks`` (track centrelines in ``tracks_crs``, WGS84 by default) guide the coarse
    method (1.5 m and coarser); finer, only the railcars whose centre lies within
    :data:`railwatch.rails.TRACK_DISTANCE_M` of them are kept, as ``railwatch process``
    keeps them for a site with centrelines (``off_track`` says how many were left out).
    ``tracks`` may also be GeoJSON lines in lon/lat (a file's path, its text or a parsed
    dict), read as ``railwatch detect --tracks FILE`` reads them (since session 46; a
    path failed as "'str' object has no attribute 'is_empty'").
    ``sun`` guides the coarse method too, the sun's (azimuth, elevation) in
    degrees (azimuth clockwise from north; for a non-georeferenced image, from its up
    direction): shadows of strings on the next track are not counted. Without ``sun``
    it is read from the image's STAC sidecar (``NAME.json``) when there is one.
    ``bands`` (1-based red, green, blue) says which bands to read as colour; without it
    they come from the sidecar's ``eo:bands``, then from the file's own labels
    (:func:`railwatch.imagery.read.rgb_bands`). ``radiometry`` says how a 16-bit or float
    file's values relate to what a screen shows, as ``railwatch ingest --radiometry``:
    ``linear`` (the default: stretched per band with a display gamma) or ``display`` (a
    visual product stored in 16 bits: mapped linearly by one range for the three bands);
    8-bit files are read as they are. The bands' scale and offset are the file's own,
    else those its STAC sidecar item declares (``raster:bands``), as ``railwatch ingest``
    records them for its scene (:func:`railwatch.imagery.read.file_item_scaling`; said
    in the result's ``item_scaling``).

    A hand-given ``gsd`` of a non-georeferenced image is checked against its rails, as
    ``railwatch detect --gsd`` checks it (``check_scale=False``: not checked): the
    result's ``scale_check`` says what they show, and a :class:`railwatch.errors.
    ScaleWarning` is warned when they disagree or could not be measured (coarser than
    about 0.38 m per pixel, no straight track): on simulated yards a gsd given 20 % too
    small lost a third of the cars (docs/detection.md, "How much a wrong hand-given scale
    changes the count"). The check reads the file again (about 0.5 s a megapixel, 16 s at most).

    A 4th or later band GDAL labels alpha that holds data (NIR: :func:`railwatch.imagery.
    inspect.alpha_as_data`) is read as data, not as transparency; the result's
    ``alpha_as_data`` says so, and it is logged as a warning unless ``log_alpha_as_data``
    is False (a caller that says it from the result: ``railwatch detect``, once a file).
    """
    import rasterio

    radio = parse_radiometry(radiometry, option="radiometry")

    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist: check the path")
    if gsd is not None:
        gsd = _gsd_number(gsd, "detect_file")
    if tracks is not None and not isinstance(tracks, BaseGeometry):
        tracks = _tracks_geometry(tracks, tracks_crs)
    if gsd is not None and not GSD_SANE[0] <= gsd <= GSD_SANE[1]:
        lo, hi = GSD_SANE
        hint = " (degrees? give metres)" if 0 < gsd < lo else ""
        raise InputError(
            f"ground sample distance {gsd:g} m per pixel is not the scale of an aerial or "
            f"satellite image{hint}: give metres per pixel between {lo:g} and {hi:g} "
            "(e.g. gsd=0.5 in Python, --gsd 0.5 on the command line)"
        )
    # GDAL's block cache defaults to 5 % of RAM: cap it so memory stays bounded by the tile
    # said by the caller from the result instead: not also logged (said once)
    quiet = alpha_as_data_said_elsewhere() if not log_alpha_as_data else nullcontext()
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB * 1024 * 1024), quiet:
        n = workers if workers is not None else default_workers()
        result = _detect_file(
            p, gsd, detector, out_crs, tile_px, n, on_tile, tracks, tracks_crs, sun, bands, radio
        )
        if gsd is None or result.crs is not None or not check_scale:
            return result
        from railwatch.imagery.scale import measure_file

        found = measure_file(p, skip_georeferenced=True, command="railwatch detect", bands=bands)
    if found is None:  # georeferenced after all (a CRS its detections are not given in)
        return result
    check = ScaleCheck(float(gsd), found.scale, SCALE_TOLERANCE)
    message = scale_check_warning(p.name, check)
    if message is not None:
        warnings.warn(ScaleWarning(message), stacklevel=2)
    return replace(result, scale_check=check)


def scale_check_warning(name: str, check: ScaleCheck) -> str | None:
    """The :class:`~railwatch.errors.ScaleWarning` message for a gsd given for image
    ``name`` and checked against its rails; None when they agree."""
    s = check.scale
    need = (
        "The detector needs the scale to about ±10 % (on simulated yards a gsd given 20 % "
        "too small found about 0.6 of the cars, one 40 % too large up to 1.7 times as "
        "many, with 10 cars up to 5.8 times: docs/detection.md, 'How much a wrong "
        "hand-given scale changes the count')"
    )
    if not s.measured:
        return (
            f"{name}: gsd {check.given:g} m not checked against the rails: {s.reason}. "
            f"{need}: make sure of it (a known length in the image, the source's stated "
            "resolution), or detect a georeferenced copy."
        )
    if not check.disagrees or s.gsd is None:
        return None
    hint = ""
    if check.maybe_tracks_for_rails:
        hint = (
            f" If the image really is about {check.given:g} m per pixel, the lines measured "
            "may be two neighbouring tracks rather than the two rails of one."
        )
    return (
        f"{name}: gsd {check.given:g} m disagrees with the scale its rails show, "
        f"{s.gsd:.3f} m per pixel ({s.gsd_low:.3f}-{s.gsd_high:.3f}, rails "
        f"{s.spacing_px:.2f} px apart in {s.strips} strips, standard gauge). {need}: give "
        f"gsd={s.gsd:.3f}, or check_scale=False if you know the scale better.{hint} The "
        f"detections use gsd {check.given:g}."
    )


def _detect_file(
    p: Path,
    gsd: float | None,
    detector: Detector | None,
    out_crs: str | None,
    tile_px: int | None,
    workers: int,
    on_tile: TileCallback | None,
    tracks: BaseGeometry | None = None,
    tracks_crs: str = "EPSG:4326",
    sun: tuple[float, float] | None = None,
    rgb: Sequence[int] | None = None,
    radiometry: Radiometry = "linear",
) -> DetectionResult:
    from rasterio.errors import RasterioIOError

    ds = open_raster(p)
    with ds:
        georef = _georeferenced(ds)
        if not georef and gsd is None:
            raise InputError(
                f"{p.name} is not georeferenced: give its ground sample distance to detect "
                "on it (gsd=METRES in Python, --gsd METRES on the command line)"
                f"{missing_crs_hint(ds, p.name)}"
            )
        unsupported = unsupported_pixel_type(ds.dtypes, p.name)
        if unsupported is not None:
            # 64-bit integers: refused by ingest, read by detect until 2026-12-06
            # (session 39); complex numbers (radar) read as a photograph until then;
            # one rule for both now
            raise InputError(unsupported)
        scene_gsd = float(gsd) if gsd is not None else gsd_of(ds)
        small = image_too_small(ds.width, ds.height, scene_gsd)
        if small is not None:  # else it read as "0 railcars", an empty yard
            given = (
                f" (check the ground sample distance given, {float(gsd):g} m: gsd in Python, "
                "--gsd on the command line)"
                if gsd is not None
                else ""
            )
            raise ImageTooSmallError(
                f"{p.name}: {small}{given}; give an image of the whole yard, not a crop"
            )
        crs = _crs_string(ds.crs) if georef else None
        meta = sidecar_metadata(p)
        # the one rule of the readers of a file (`scale`, label reading): --bands, else
        # the sidecar's eo:bands, else the file's labels
        bands, guessed = file_bands(ds, p, rgb, meta=meta)
        method = method_for_gsd(scene_gsd)
        if tracks is not None and not tracks.is_empty and crs is None:
            # until 2026-12-06 (session 40) the lines were dropped without a word and the
            # yard read along lines found in the image, with a note to give --tracks
            raise InputError(
                f"{p.name} is not georeferenced, so the track centrelines given ({tracks_crs}; "
                "tracks in Python, --tracks on the command line) cannot be placed on it: "
                "georeference it (e.g. gdal_translate -a_srs EPSG:CODE -a_ullr ULX ULY LRX LRY "
                f"{p.name} OUT.tif), or leave the centrelines out"
                + (
                    " to read the yard along track lines found in the image (far less accurate)"
                    if method != "objects"
                    else " (at this resolution they only keep the railcars near them)"
                )
                + missing_crs_hint(ds, p.name)
            )
        det = _resolve(detector) if method == "objects" else detector
        planar = method == "objects" and _planar_input(det)
        # cars are detected on square ground pixels: an image whose pixels are not (lon/lat
        # away from the equator) is read through a view that resamples it to square ones
        view = square_view(ds) if georef and method == "objects" else None
        how = file_reading(
            ds, p, bands, gsd=scene_gsd, radiometry=radiometry, command="railwatch detect"
        )
        masks, beside, scale = how.masks, how.item, how.scale
        # an 8-bit image stored in 16 bits, read as radiance: judged as ingest judges it
        eight_bit = eight_bit_values(ds) if scale is not None and radiometry == "linear" else None
        own = _reader(
            ds, bands, scale, planar=planar or view is not None, radiometry=radiometry, masks=masks
        )
        read = _DataCheck(
            own if view is None else _view_reader(ds, view, own, planar=planar),
            ds.width if view is None else view.width,
            ds.height if view is None else view.height,
        )
        coarse: CoarseEstimate | None = None
        off_track: int | None = None
        clear_share: float | None = None
        mask_uri: str | None = None
        px_tracks: BaseGeometry | None = None
        dets: list[Detection] = []
        try:
            if method == "objects" and det is not None:
                dets = _run_tiles(
                    read,
                    ds.width if view is None else view.width,
                    ds.height if view is None else view.height,
                    scene_gsd,
                    det,
                    tile_px=tile_px,
                    workers=workers,
                    on_tile=on_tile,
                )
                if tracks is not None and not tracks.is_empty and crs is not None:
                    lines = tracks_to_pixels(tracks, crs, ds.transform, src_crs=tracks_crs)
                    kept = _near_given_tracks(dets, lines, view, scene_gsd)
                    off_track = len(dets) - len(kept)
                    dets = kept
            else:
                if tracks is not None and not tracks.is_empty and crs is not None:
                    px_tracks = tracks_to_pixels(tracks, crs, ds.transform, src_crs=tracks_crs)
                if sun is None:
                    sun = sun_of(meta)
                if sun is not None and georef:
                    sun = (pixel_azimuth(sun[0], ds.transform), sun[1])
                # the quality mask ingest would take for it (a georeferenced file's)
                mask_uri = quality_mask_of(p) if crs is not None else None
                coarse, clear_share = _coarse_file(ds, read, scene_gsd, px_tracks, sun, mask_uri)
        except RasterioIOError as err:
            # "cannot read pixels of F: Read failed. See previous exception for details."
            # said neither what is wrong nor what to do: said as ingest and the CLI say it
            raise unreadable_pixels(p.name, err) from err
        if not read.saw_data:
            raise EmptyImageError(
                f"{p.name} has no valid pixels (all no-data, transparent or NaN): "
                "nothing to detect; check the file, or give the image it was cut from"
            )
        occupied: tuple[OccupiedRun, ...] = ()
        if coarse is not None and coarse.runs:
            occupied = runs_to_crs(
                coarse.runs, ds.transform if georef else None, crs, out_crs if georef else None
            )
        if view is not None and crs is not None:
            dets = _from_view(dets, view, ds.transform, crs, out_crs)
            crs = out_crs or crs
        elif georef:
            dets = _to_crs(dets, ds.transform)
            if out_crs is not None and crs is not None:
                dets = _reproject(dets, crs, out_crs)
                crs = out_crs
        elif out_crs is not None:
            raise InputError(
                f"{p.name} is not georeferenced: its detections cannot be written in {out_crs}"
            )
        width, height = ds.width, ds.height
        as_data = alpha_as_data(ds)  # judged once per open dataset (cached)
        data_share = read.data_share if method == "objects" else None
    if det is None and method == "objects":
        raise DetectionError("no detector available")
    return DetectionResult(
        source=str(p),
        detections=tuple(dets),
        crs=crs,
        gsd=scene_gsd,
        width=width,
        height=height,
        method=method,
        coarse=coarse,
        detector=getattr(det, "name", "") if det is not None else "coarse",
        detector_version=getattr(det, "version", "") if det is not None else "",
        counts=dict(sorted(Counter(d.cls for d in dets).items())),
        bands=tuple(bands),
        bands_guessed=guessed,
        radiometry=None if scale is None else radiometry,
        tracks=("given" if off_track is not None else None)
        if coarse is None
        else ("given" if px_tracks is not None else "found"),
        off_track=off_track,
        sun_elevation=elevation[1] if (elevation := sun or sun_of(meta)) is not None else None,
        occupied=occupied,
        item_scaling=beside if scale is not None else None,
        eight_bit=eight_bit,
        clear_share=clear_share,
        quality_mask=mask_uri,
        alpha_as_data=as_data,
        data_share=data_share,
    )
