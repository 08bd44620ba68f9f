"""A failed tile (or Ctrl-C, SIGTERM) ends a threaded detection without detecting the
tiles still queued: the pool used to run every queued tile before the error could reach
the caller."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from railwatch.detect.api import detect_array


class FailsFirst:
    """Raises on its first tile; every other tile lasts until ``released`` (at most 60 s).
    A fixed 1 s tile (before session 43) left the test to the machine's load: a caller
    held up for a second let the workers take the next queued tiles before it could
    drop them."""

    name = "fails-first"
    version = "1"

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()
        self.released = threading.Event()

    def detect(self, image: Any, gsd: float, valid: Any = None) -> list[Any]:
        with self.lock:
            self.calls += 1
            first = self.calls == 1
        if first:
            raise RuntimeError("tile failed")
        self.released.wait(60)
        return []


def test_queued_tiles_are_dropped_when_a_tile_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    det = FailsFirst()
    real = ThreadPoolExecutor.shutdown

    def shutdown(
        self: ThreadPoolExecutor, wait: bool = True, *, cancel_futures: bool = False
    ) -> None:
        """The tiles being detected end once the pool is shut down, its queue dropped
        first when the caller asks for it (as the detection does on a failed tile)."""
        real(self, wait=False, cancel_futures=cancel_futures)
        det.released.set()
        real(self, wait=wait)

    monkeypatch.setattr(ThreadPoolExecutor, "shutdown", shutdown)
    image = np.full((2048, 2048, 3), 120, dtype=np.uint8)
    with pytest.raises(RuntimeError, match="tile failed"):
        detect_array(image, 0.5, detector=det, tile_px=512, workers=2)
    # two workers: the failed tile, the one beside it, and the one its worker took next;
    # the fourth queued tile (of 25) is cancelled, not detected
    assert det.calls <= 3, det.calls
