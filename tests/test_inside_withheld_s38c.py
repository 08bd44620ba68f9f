"""A site window's ``inside`` cannot be read while its tiles are detected (2026-12-06,
session 38).

``pipeline._inside_packed`` holds a window's ``inside`` at one bit a pixel while it is
detected. Meanwhile ``inside`` was an empty ``(0, 0)`` array, said to make any read
"fail": ``.any()`` gave False, ``.sum()`` 0, a slice an empty mask, ``valid & inside``
an error about shapes at best. Every read now raises a RuntimeError that says why, and
the ``inside`` given back is the original's, C-contiguous and writeable.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.detect import api
from railwatch.detect.base import Detection
from railwatch.imagery import read as read_module
from test_process_memory_s38 import SITES, _holes_on_seams
from test_window_tiles_s36 import default_detector  # noqa: F401

WHY = "packed to one bit a pixel while its tiles are detected"

READS = {
    "any": lambda m: m.any(),
    "sum": lambda m: m.sum(),
    "shape": lambda m: m.shape,
    "slice": lambda m: m[0:2, 0:2],
    "truth": lambda m: bool(m),
    "and": lambda m: np.ones((3, 3), bool) & m,
    "and-right": lambda m: m & np.ones((3, 3), bool),
    "invert": lambda m: ~m,
    "count_nonzero": lambda m: np.count_nonzero(m),
    "asarray": lambda m: np.asarray(m),
    "where": lambda m: np.where(m, 1, 0),
    "iterate": lambda m: list(m),
}


@pytest.mark.parametrize("how", list(READS))
def test_a_read_of_inside_while_detected_raises_saying_why(how: str) -> None:
    from railwatch.pipeline import _inside_packed

    window = object.__new__(read_module.SiteWindow)  # only its inside is used
    window.inside = np.ones((5, 9), bool)
    with _inside_packed(window):
        assert window.inside.nbytes == 0  # no pixel held meanwhile
        with pytest.raises(RuntimeError, match=WHY):
            READS[how](window.inside)
    assert READS["sum"](window.inside) == 45  # read as ever after


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (8, 8), (33, 5)])
def test_the_inside_given_back_is_the_original_contiguous_and_writeable(
    shape: tuple[int, int],
) -> None:
    from railwatch.pipeline import _inside_packed

    rng = np.random.default_rng(shape[0] * 7 + shape[1])
    inside = rng.random(shape) > 0.5
    window = object.__new__(read_module.SiteWindow)
    window.inside = inside.copy()
    for fail in (False, True):
        expect = pytest.raises(ValueError) if fail else contextlib.nullcontext()
        with expect, _inside_packed(window):
            if fail:
                raise ValueError("tile failed")
        got = window.inside
        assert isinstance(got, np.ndarray) and got.dtype == bool and got.shape == shape
        assert got.flags.c_contiguous and got.flags.writeable
        assert np.array_equal(got, inside)
        got[0, 0] = not got[0, 0]  # writeable indeed, and its own
        got[0, 0] = not got[0, 0]


def test_process_scene_s_detection_cannot_read_inside(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    default_detector: Any,  # noqa: F811
) -> None:
    from railwatch import pipeline
    from railwatch.pipeline import SceneJob, process_scene

    monkeypatch.setattr(pipeline, "LAZY_WINDOW_PIXELS", 0)  # this window is small
    uri = _holes_on_seams(tmp_path)["uri"]
    opened: list[Any] = []
    raised: list[str] = []
    real_read, real_detect = pipeline.read_site_window, api.detect_array

    def read(*args: Any, **kwargs: Any) -> Any:
        window = real_read(*args, **kwargs)
        opened.append(window)
        return window

    def detect(*args: Any, **kwargs: Any) -> list[Detection]:
        try:
            opened[-1].inside.any()
        except RuntimeError as err:
            raised.append(str(err))
        return real_detect(*args, **kwargs)

    monkeypatch.setattr(pipeline, "read_site_window", read)
    monkeypatch.setattr(api, "detect_array", detect)
    job = SceneJob(
        scene_id=1, uri=str(uri), gsd=0.5, site_geometry=SITES["off-tiles"], usable_threshold=0.3
    )
    outcome = process_scene(job, default_detector)
    assert outcome.error is None and outcome.detections
    assert len(raised) == 1 and WHY in raised[0], raised
    restored = opened[0].inside
    assert restored.flags.c_contiguous and restored.flags.writeable and restored.any()
