"""A failed tile (or Ctrl-C, SIGTERM) ends a threaded detection without detecting the
tiles still queued: the pool used to run every queued tile before the error could reach
the caller."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from railwatch.detect.api import detect_array


class FailsFirst:
    """Raises on its first tile; every other tile takes up to 1 s."""

    name = "fails-first"
    version = "1"

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def detect(self, image: Any, gsd: float, valid: Any = None) -> list[Any]:
        with self.lock:
            self.calls += 1
            first = self.calls == 1
        if first:
            raise RuntimeError("tile failed")
        threading.Event().wait(1.0)
        return []


def test_queued_tiles_are_dropped_when_a_tile_fails() -> None:
    det = FailsFirst()
    image = np.full((2048, 2048, 3), 120, dtype=np.uint8)
    with pytest.raises(RuntimeError, match="tile failed"):
        detect_array(image, 0.5, detector=det, tile_px=512, workers=2)
    # two workers: the failed tile, the one beside it, and the one its worker took next;
    # the fourth queued tile (of 25) is cancelled, not detected
    assert det.calls <= 3, det.calls
