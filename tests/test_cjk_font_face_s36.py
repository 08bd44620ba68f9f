"""The dashboard's CJK face (``railwatch.report.fonts.face_otf``, served at
``/fonts/cjk.otf``) is made once however many requests ask for it at once (2026-12-06,
session 36: each of the first requests made its own 16.4 MB copy; four at once peaked
at 396 MB of memory against 158 MB). A small collection of matplotlib's own DejaVu
fonts stands for Noto Sans CJK here, so the test needs no extra."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import matplotlib
import pytest
from fontTools.ttLib import TTCollection, TTFont  # type: ignore[import-untyped]

from railwatch.report import fonts


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    """A font collection of two faces (DejaVu Sans and its bold)."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    out = tmp_path / "two.ttc"
    both = TTCollection()
    both.fonts = [TTFont(str(folder / name)) for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")]
    both.save(str(out))
    return out


def test_the_face_is_one_opentype_file_of_the_face_asked_for(collection: Path) -> None:
    body = fonts.face_otf(collection, 1)
    with TTFont(io.BytesIO(body)) as font:
        assert font["name"].getDebugName(4) == "DejaVu Sans Bold"
    assert fonts.face_otf(collection, 1) is body  # kept


def test_requests_at_once_make_the_face_once(
    collection: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three threads ask for the face at once: one writes it, the others wait and get
    the same bytes. Each write waits (up to 2 s) for a second write to begin, so that
    without the lock every thread writes its own copy."""
    saves: list[int] = []
    second = threading.Event()
    original = TTFont.save

    def save(self: Any, *args: Any, **kwargs: Any) -> Any:
        saves.append(threading.get_ident())
        if len(saves) > 1:
            second.set()
        second.wait(timeout=2)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TTFont, "save", save)
    start = threading.Barrier(3)
    got: list[bytes] = []

    def ask() -> None:
        start.wait()
        got.append(fonts.face_otf(collection, 0))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(saves) == 1
    assert len(got) == 3 and all(body is got[0] for body in got)
