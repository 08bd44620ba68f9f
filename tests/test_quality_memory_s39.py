"""Memory of the quality step of ``railwatch process`` on a large site window (2026-12-06,
session 39): while a window read from its file is judged (``assess_quality``), detected
and counted, its ``valid`` and ``inside`` are held at one bit a pixel
(``pipeline._masks_packed``, ``quality.PackedMask``, until session 41
``pipeline._PackedMask``), and with a quality mask the
detector's ``valid & (mask != 1)`` is made band by band, packed too
(``pipeline._detect_valid``); after, ``inside`` is given back whole, ``valid`` stays
packed. None of it may change a figure: ``process_scene`` gives the quality,
detections and counts of the window read whole, with a quality mask, with no data, with
undeclared fill."""

from __future__ import annotations

import contextlib
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.detect import api
from railwatch.detect.base import Detection
from railwatch.imagery import quality as quality_module
from railwatch.imagery import read as read_module
from railwatch.imagery import read_site_window
from test_window_tiles_s36 import CASES, SITES, default_detector  # noqa: F401

SHAPES = [(1, 1), (1, 9), (7, 13), (8, 8), (33, 5), (5, 17), (3, 64), (2, 65), (0, 5), (5, 0)]


class Nothing:
    """A detector that finds nothing (never reached where it is used)."""

    name = "nothing"
    version = "0"

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        return []


def _packed_bytes(shape: tuple[int, int]) -> int:
    return shape[0] * ((shape[1] + 7) // 8)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_packed_map_is_sliced_as_the_array(shape: tuple[int, int]) -> None:
    h, w = shape
    rng = np.random.default_rng(h * 100 + w)
    mask = rng.random(shape) > 0.5
    packed = quality_module.PackedMask.of(mask)
    assert packed.shape == shape and packed.nbytes == _packed_bytes(shape)
    whole = packed.whole()
    assert whole.dtype == bool and whole.flags.c_contiguous and whole.flags.writeable
    assert np.array_equal(whole, mask) and np.array_equal(np.asarray(packed), mask)
    bounds = [*range(-w - 2, w + 3), None]
    rows_at = [*range(-h - 2, h + 3), None]
    for _ in range(400):
        r0, r1 = rng.choice(len(rows_at), 2)
        c0, c1 = rng.choice(len(bounds), 2)
        rows = slice(rows_at[r0], rows_at[r1])
        cols = slice(bounds[c0], bounds[c1])
        for key in ((rows, cols), rows):
            got, want = packed[key], mask[key]
            assert got.dtype == bool and got.shape == want.shape, (shape, key)
            assert np.array_equal(got, want), (shape, key)


def test_a_packed_map_refuses_what_it_cannot_slice() -> None:
    PackedMask = quality_module.PackedMask
    packed = PackedMask.of(np.ones((4, 10), bool))
    keys: list[Any] = [slice(0, 4, 2), (slice(None), slice(0, 10, 3)), 1, (1, 2)]
    for key in keys:
        with pytest.raises(TypeError, match="slices of step 1"):
            packed[key]
    with pytest.raises(ValueError, match="shape"):
        PackedMask.of_rows((4, 10), lambda a, b: np.ones((b - a, 9), bool))
    with pytest.raises(AttributeError):
        packed.sum()  # type: ignore[attr-defined]  # no answer from a wrong array


@pytest.mark.parametrize("mask", [None, "codes"])
def test_the_detector_s_valid_made_by_bands_is_the_whole_one(
    mask: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``valid & (mask != 1)`` by bands of rows (window sizes that are not a multiple of
    the band, mask codes 0-4 and 255, an all-invalid window)."""
    from railwatch import pipeline

    monkeypatch.setattr(quality_module, "PACK_PIXELS", 37)
    rng = np.random.default_rng(5)
    for h, w in ((1, 1), (13, 11), (40, 9), (9, 40)):
        for share in (0.0, 0.6, 1.0):
            valid = rng.random((h, w)) < share
            codes = rng.choice(np.array([0, 1, 2, 3, 4, 255], np.uint8), (h, w))
            window = object.__new__(read_module.SiteWindow)
            window.valid, window.inside = valid.copy(), np.ones((h, w), bool)
            window.mask = codes if mask else None
            with pipeline._masks_packed(window):
                assert window.valid.nbytes == window.inside.nbytes == _packed_bytes((h, w))
                got = pipeline._detect_valid(window)
                assert got.nbytes <= _packed_bytes((h, w))
                want = valid & (codes != 1) if mask else valid
                assert np.array_equal(np.asarray(got), want)
                assert np.array_equal(got[0:h, 0:w], want)
            assert np.array_equal(np.asarray(window.valid), valid)
            assert isinstance(window.inside, np.ndarray) and window.inside.all()


def _job(case: str, site: str, tmp_path: Path) -> Any:
    from railwatch.pipeline import SceneJob

    options = CASES[case](tmp_path)
    return SceneJob(
        scene_id=1,
        uri=str(options.pop("uri")),
        gsd=0.5,
        site_geometry=SITES[site],
        usable_threshold=0.3,
        mask_uri=str(options["mask_uri"]) if "mask_uri" in options else None,
        radiometry=options.get("radiometry", "linear"),
        item_scaling=options.get("item_scaling"),
    )


@pytest.mark.parametrize(
    ("case", "site"),
    [
        ("u8-mask", "partly-outside"),
        ("u8-mask", "off-tiles"),
        ("u8-mask", "between-pixels"),
        ("u8-nodata", "between-pixels"),
        ("u8-undeclared-fill", "off-tiles"),
    ],
)
def test_process_scene_judges_and_detects_a_window_with_its_masks_at_one_bit_a_pixel(
    case: str,
    site: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    default_detector: Any,  # noqa: F811
) -> None:
    from railwatch import pipeline
    from railwatch.pipeline import process_scene

    monkeypatch.setattr(pipeline, "LAZY_WINDOW_PIXELS", 0)  # these windows are small
    monkeypatch.setattr(quality_module, "PACK_PIXELS", 23 * 700)  # bands: 23 rows
    job = _job(case, site, tmp_path)
    opened: list[Any] = []
    held: dict[str, list[int]] = {"quality": [], "detect": [], "count": []}
    handed: list[np.ndarray] = []
    real_read, real_quality, real_detect, real_count = (
        pipeline.read_site_window,
        pipeline.assess_quality,
        api.detect_array,
        pipeline.count_scene,
    )

    def read(*args: Any, **kwargs: Any) -> Any:
        window = real_read(*args, **kwargs)
        opened.append(window)
        return window

    def judge(raster: Any, **kwargs: Any) -> Any:
        held["quality"] += [raster.valid.nbytes, raster.inside.nbytes]
        return real_quality(raster, **kwargs)

    def detect(*args: Any, valid: Any = None, **kwargs: Any) -> list[Detection]:
        held["detect"] += [valid.nbytes, opened[-1].valid.nbytes, opened[-1].inside.nbytes]
        handed.append(np.asarray(valid))
        return real_detect(*args, valid=valid, **kwargs)

    def count(detections: Any, raster: Any, *args: Any, **kwargs: Any) -> Any:
        held["count"] += [raster.valid.nbytes, raster.inside.nbytes]
        return real_count(detections, raster, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(pipeline, "read_site_window", read)
        m.setattr(pipeline, "assess_quality", judge)
        m.setattr(api, "detect_array", detect)
        m.setattr(pipeline, "count_scene", count)
        by_rows = process_scene(job, default_detector)
    assert by_rows.error is None, by_rows.error
    shape = opened[0].grid.shape
    bound = _packed_bytes(shape)
    assert len(held["quality"]) == 2 and max(held["quality"]) <= bound
    assert len(held["detect"]) == 3 and max(held["detect"]) <= bound
    assert len(held["count"]) == 2 and max(held["count"]) <= bound
    # after: inside given back whole, valid left packed, the values as read
    whole = real_read(job.uri, opened[0].grid, site_geom=job.site_geometry, mask_uri=job.mask_uri)
    assert opened[0].valid.nbytes <= bound
    assert np.array_equal(np.asarray(opened[0].valid), whole.valid)
    inside = opened[0].inside
    assert isinstance(inside, np.ndarray) and inside.flags.writeable
    assert np.array_equal(inside, whole.inside)
    want = whole.valid if whole.mask is None else whole.valid & (whole.mask != 1)
    assert len(handed) == 1 and np.array_equal(handed[0], want)
    if case == "u8-mask" and site != "partly-outside":  # its cloud lies outside that one
        assert whole.mask is not None and (whole.valid & (whole.mask == 1)).any()
    with monkeypatch.context() as m:  # the whole window read at once

        def at_once_read(*args: Any, lazy: bool = False, **kwargs: Any) -> Any:
            assert lazy
            return contextlib.nullcontext(read_site_window(*args, **kwargs))

        m.setattr(pipeline, "read_site_window", at_once_read)
        at_once = process_scene(job, default_detector)
    assert at_once.error is None
    assert by_rows.quality == at_once.quality
    assert by_rows.quality is not None and by_rows.quality.usable
    assert by_rows.detections == at_once.detections and len(by_rows.detections) > 10
    assert by_rows.count == at_once.count


def test_the_quality_step_starts_with_no_byte_a_pixel_map_of_the_window_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Traced memory (numpy's arrays, traced from before the window is read): what the
    read leaves held as the quality step of ``process_scene`` starts is under a byte a
    window pixel (the packed ``valid`` and ``inside``, an eighth of a byte each, and the
    window's band or two of rows: about 0.3 B). A whole ``valid`` and ``inside`` took two
    bytes a pixel: the packed maps keep no reference to them."""
    from railwatch import pipeline
    from railwatch.pipeline import process_scene

    monkeypatch.setattr(pipeline, "LAZY_WINDOW_PIXELS", 0)
    monkeypatch.setattr(read_module, "WINDOW_ROWS_PIXELS", 8 * 800)
    monkeypatch.setattr(read_module, "WINDOW_CACHE_BYTES", 4 * 800 * 3)
    monkeypatch.setattr(quality_module, "BLOCK_PIXELS", 8 * 700)
    job = _job("u8-nodata", "off-tiles", tmp_path)
    held: list[tuple[int, int]] = []  # (bytes traced, window pixels)
    before: list[int] = []
    real_quality, real_read = pipeline.assess_quality, pipeline.read_site_window

    def read(*args: Any, **kwargs: Any) -> Any:
        before.append(tracemalloc.get_traced_memory()[0])  # what is held before the read
        return real_read(*args, **kwargs)

    def judge(raster: Any, **kwargs: Any) -> Any:
        traced = tracemalloc.get_traced_memory()[0] - before[-1]
        held.append((traced, raster.grid.width * raster.grid.height))
        return real_quality(raster, **kwargs)

    monkeypatch.setattr(pipeline, "assess_quality", judge)
    monkeypatch.setattr(pipeline, "read_site_window", read)
    process_scene(job, Nothing())  # modules imported, caches filled: not traced
    held.clear()
    before.clear()
    tracemalloc.start()
    try:
        outcome = process_scene(job, Nothing())
    finally:
        tracemalloc.stop()
    assert outcome.error is None and outcome.quality is not None
    assert len(held) == 1 and held[0][1] > 300_000
    per_pixel = held[0][0] / held[0][1]
    assert 0.25 <= per_pixel < 1.0, per_pixel
