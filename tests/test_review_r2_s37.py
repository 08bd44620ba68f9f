"""Review r2 of session 37 (2026-12-06): defects found in the session's commits.

* The CJK font's subsets (``GET /fonts/cjk.otf?text=``, 13f52ca) are made one at a
  time, about 1 s each, and every request for characters not kept waited for the maker
  with no bound, holding one of the server's worker threads (all routes are
  synchronous and share them): 45 requests for distinct characters, which need no
  token, stalled ``GET /api/sites`` for 15 s. Now at most ``MAX_WAITING`` wait, each at
  most ``WAIT_SECONDS``; any other is a 503 with ``Retry-After``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import pytest
from fontTools.ttLib import TTCollection, TTFont  # type: ignore[import-untyped]

from helpers import require_service
from railwatch.report import fonts

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web import fonts as web_fonts
from railwatch.web.app import create_app

# --- font subsets: bounded waiting ------------------------------------------------


@pytest.fixture
def dejavu(tmp_path: Path) -> fonts.CjkFont:
    """A one-face collection of DejaVu Sans standing in for the CJK font."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    out = tmp_path / "one.ttc"
    coll = TTCollection()
    coll.fonts = [TTFont(str(folder / "DejaVuSans.ttf"))]
    coll.save(str(out))
    with TTFont(str(out), fontNumber=0) as face:
        chars = frozenset(face.getBestCmap())
    return fonts.CjkFont(path=out, face=0, family="DejaVu Sans", chars=chars)


@pytest.fixture
def slow_maker(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """fonts.face_subset made to wait for ``go`` (``started`` set once it is called)."""
    started, go = threading.Event(), threading.Event()
    original = fonts.face_subset

    def held(path: Path, face: int, chars: Any) -> bytes:
        started.set()
        go.wait(60)
        return original(path, face, chars)

    monkeypatch.setattr(fonts, "face_subset", held)
    try:
        yield started, go
    finally:
        go.set()


def _until(check: Any) -> None:
    for _ in range(6000):
        if check():
            return
        time.sleep(0.01)
    raise AssertionError("the condition never held")


def test_requests_beyond_the_waiting_bound_are_refused_not_queued(
    dejavu: fonts.CjkFont, slow_maker: tuple[threading.Event, threading.Event]
) -> None:
    started, go = slow_maker
    cache = web_fonts.SubsetCache(max_waiting=1)
    got: dict[str, bytes] = {}

    def get(chars: str) -> None:
        got[chars] = cache.get(dejavu, chars)

    making = threading.Thread(target=get, args=("a",))
    making.start()
    assert started.wait(60)
    waiting = threading.Thread(target=get, args=("b",))
    waiting.start()
    _until(lambda: cache._waiting == 1)
    outcome: list[str] = []

    def third() -> None:
        try:
            cache.get(dejavu, "c")
            outcome.append("made")
        except web_fonts.SubsetsBusy:
            outcome.append("busy")

    refused = threading.Thread(target=third)
    refused.start()
    refused.join(30)
    hung = refused.is_alive()
    go.set()
    making.join(60)
    waiting.join(60)
    assert not hung, "a third request for new characters waited behind the two"
    assert outcome == ["busy"]
    assert set(got) == {"a", "b"}  # the one waiting got its subset once made
    assert cache._waiting == 0
    assert len(cache.get(dejavu, "c")) > 0  # and a later one is made


def test_a_request_waits_at_most_the_waiting_time(
    dejavu: fonts.CjkFont, slow_maker: tuple[threading.Event, threading.Event]
) -> None:
    cache = web_fonts.SubsetCache(max_waiting=5, wait_seconds=0.01)
    with cache._making, pytest.raises(web_fonts.SubsetsBusy):  # another being made
        cache.get(dejavu, "a")
    assert cache._waiting == 0


def test_the_route_answers_503_with_retry_after_when_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if fonts.cjk_font() is None:
        require_service(
            "the cjk extra (Noto Sans CJK)", "pip install -e '.[cjk]' (make test installs it)"
        )
    busy = web_fonts.SubsetCache(max_waiting=0)
    monkeypatch.setattr(web_fonts, "subsets", busy)
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        client = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "c"), db))
        with busy._making:
            r = client.get("/fonts/cjk.otf?text=%EA%B0%80")
        assert r.status_code == 503
        assert r.headers["retry-after"] == str(web_fonts.RETRY_AFTER)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "ask again" in r.json()["detail"]
        assert client.get("/fonts/cjk.otf?text=%EA%B0%80").status_code == 200  # once free
    finally:
        db.dispose()
