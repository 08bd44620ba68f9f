"""Charts and reports drawn at once in one process (the server's report jobs, 2026-12-06,
session 37). matplotlib's settings (rcParams) are the process's and ``rc_context``
restores on leaving what it found on entering: two drawings whose contexts interleaved
(A enters, B enters, A leaves, B leaves) left B's view of A's settings in place for the
process: the CJK font family, ``text.parse_math`` off, the SVG hash salt. Every drawing
in railwatch.report now holds one lock (``railwatch.report.fonts.drawing``)."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import matplotlib
import pytest

from railwatch.report import fonts
from railwatch.report.charts import plain_text, timeseries_figure, to_png, to_svg
from railwatch.report.model import EventRow
from test_cjk_fonts_s36 import _rows


def _english() -> bytes:
    fig = timeseries_figure(
        _rows(20), events=[EventRow(date(2023, 2, 1), "Summit")], title="Railcars at tumangang"
    )
    return to_svg(fig)


def _korean() -> tuple[bytes, bytes]:
    fig = timeseries_figure(
        _rows(20),
        events=[EventRow(date(2023, 2, 1), "김정은-푸틴 정상회담")],
        title="Railcars at 두만강-역",
    )
    return to_svg(fig), to_png(fig)


def _settings() -> dict[str, Any]:
    return {key: matplotlib.rcParams[key] for key in matplotlib.rcParams}


def test_a_drawing_waits_for_another_threads_settings_to_end() -> None:
    """A thread inside a drawing's settings (here ``plain_text``: ``text.parse_math``
    off); a second thread's drawing enters only once the first has left, so the
    settings are those of before afterwards. Without the lock the second entered at
    once (order A in, B in, A out, B out) and left ``text.parse_math`` off for the
    process."""
    before = _settings()
    order: list[str] = []
    a_in, a_go, b_ready, b_go = (threading.Event() for _ in range(4))
    b_in = threading.Event()

    def first() -> None:
        with plain_text():
            order.append("A in")
            a_in.set()
            a_go.wait(timeout=10)
            order.append("A out")

    def second() -> None:
        b_ready.set()
        with plain_text():
            order.append("B in")
            b_in.set()
            b_go.wait(timeout=10)
            order.append("B out")

    a = threading.Thread(target=first)
    b = threading.Thread(target=second)
    a.start()
    assert a_in.wait(timeout=10)
    b.start()
    assert b_ready.wait(timeout=10)
    b_in.wait(timeout=1.0)  # room for the second to enter, were it let in
    a_go.set()
    a.join(timeout=30)
    b_go.set()
    b.join(timeout=30)
    assert not a.is_alive() and not b.is_alive()
    assert order == ["A in", "A out", "B in", "B out"]
    assert _settings() == before


@pytest.mark.slow
def test_korean_and_english_charts_drawn_at_once_many_times() -> None:
    """A Korean and an English chart drawn by two threads at once, 8 times each: every
    English SVG is byte for byte the one drawn alone, every Korean one too, and the
    settings are those of before afterwards."""
    fonts.cjk_font()  # registered (with the cjk extra) before the settings are read
    before = _settings()
    english_alone = _english()
    korean_alone = _korean()
    assert _settings() == before
    got: dict[str, list[Any]] = {"en": [], "ko": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(key: str) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(8):
                got[key].append(_english() if key == "en" else _korean())
        except BaseException as err:  # reported below, not lost in the thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(k,)) for k in ("en", "ko")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert errors == []
    assert len(got["en"]) == len(got["ko"]) == 8
    assert all(svg == english_alone for svg in got["en"])
    assert all(pair == korean_alone for pair in got["ko"])
    assert _settings() == before
