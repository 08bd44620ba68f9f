"""``detect.api._malloc_trim`` (session 38's heap trimming, review r3): where the C
library or Python cannot give glibc's ``malloc_trim`` (macOS, musl, Windows, a Python
built without ctypes) detection runs untrimmed; finding that out never raises, since it
runs when :mod:`railwatch.detect.api` is imported."""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np
import pytest

from railwatch.detect import api
from railwatch.detect.base import Detection


def test_a_python_without_ctypes_detects_untrimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ctypes", None)  # import ctypes: ImportError
    assert api._malloc_trim() is None


def _fake_ctypes(cdll: Any) -> types.ModuleType:
    import ctypes

    fake = types.ModuleType("ctypes")
    fake.CDLL = cdll  # type: ignore[attr-defined]
    fake.c_size_t = ctypes.c_size_t  # type: ignore[attr-defined]
    fake.c_int = ctypes.c_int  # type: ignore[attr-defined]
    return fake


@pytest.mark.parametrize(
    "error",
    [
        TypeError("expected str, bytes or os.PathLike object, not NoneType"),  # Windows
        OSError("no C library"),
    ],
)
def test_a_c_library_that_cannot_be_opened_gives_none(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def cdll(name: object) -> object:
        raise error

    monkeypatch.setitem(sys.modules, "ctypes", _fake_ctypes(cdll))
    assert api._malloc_trim() is None


def test_a_c_library_without_malloc_trim_gives_none(monkeypatch: pytest.MonkeyPatch) -> None:
    # macOS's libSystem, musl: CDLL(None) opens, the symbol is missing
    monkeypatch.setitem(sys.modules, "ctypes", _fake_ctypes(lambda name: types.SimpleNamespace()))
    assert api._malloc_trim() is None


def test_detection_without_malloc_trim_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    class Boxes:
        name = "boxes"

        def detect(self, img: np.ndarray, gsd: float, valid: Any = None) -> list[Detection]:
            return []

    image = np.zeros((300, 300, 3), np.uint8)
    monkeypatch.setattr(api, "_MALLOC_TRIM", None)
    api._trim_heap()  # nothing to call: a no-op
    assert api.detect_array(image, 0.5, detector=Boxes(), workers=1) == []  # type: ignore[arg-type]
