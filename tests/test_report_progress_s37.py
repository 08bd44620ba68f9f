"""The report's progress (session 37): the builder tells an ``on_step`` callback how far
it got, `railwatch report` shows it (in a log, a line every RAILWATCH_PROGRESS_SECONDS,
naming the step; stdout stays the JSON alone), and so does the demo's report stage.
Before, `railwatch report` was silent until it wrote (~100 s on the demo under load)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.report import build_pdf_report, build_report
from railwatch.report.builder import STEP_CHIPS, STEP_READ
from railwatch.report.html import STEP_CHART, STEP_IMAGES
from railwatch.report.pdf import STEP_LAYOUT, STEP_PAGES
from railwatch.storage import Database
from report_db import SITE_NAME, populate

pytestmark = pytest.mark.xdist_group("report_progress_s37")


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("report_progress")
    url = f"sqlite:///{tmp / 'rw.db'}"
    db = Database(url)
    populate(db, tmp / "scenes")
    db.dispose()
    return url


def _steps(calls: list[tuple[str, int, int]]) -> list[str]:
    """The steps of ``calls`` in the order they began."""
    return list(dict.fromkeys(step for step, _, _ in calls))


def _check_counts(calls: list[tuple[str, int, int]]) -> None:
    """Each step's counts rise from 0 or 1 to its total, which stays one number."""
    for step in _steps(calls):
        mine = [(done, total) for s, done, total in calls if s == step]
        assert len({total for _, total in mine}) == 1, (step, mine)
        total = mine[0][1]
        assert total >= 1 and mine[-1] == (total, total), (step, mine)
        dones = [done for done, _ in mine]
        assert dones == sorted(dones) and dones[0] in (0, 1), (step, mine)


def test_build_report_with_pdf_tells_every_step(db_url: str, tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    db = Database(db_url)
    try:
        build_report(
            db,
            SITE_NAME,
            tmp_path / "r.html",
            pdf=True,
            on_step=lambda step, done, total: calls.append((step, done, total)),
        )
    finally:
        db.dispose()
    assert _steps(calls) == [
        STEP_READ,
        STEP_CHIPS,
        STEP_IMAGES,
        STEP_CHART,
        STEP_LAYOUT,
        STEP_PAGES,
    ]
    _check_counts(calls)
    pages = [total for step, _, total in calls if step == STEP_PAGES]
    assert pages[0] >= 2  # the first page, an alert's, the images' and the text pages


def test_build_pdf_report_tells_the_pdf_steps_only(db_url: str, tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    db = Database(db_url)
    try:
        build_pdf_report(
            db,
            SITE_NAME,
            tmp_path / "r.pdf",
            on_step=lambda step, done, total: calls.append((step, done, total)),
        )
    finally:
        db.dispose()
    assert _steps(calls) == [STEP_READ, STEP_CHIPS, STEP_LAYOUT, STEP_PAGES]
    _check_counts(calls)


def test_report_command_logs_its_steps_and_keeps_stdout_json(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # stderr is not a terminal here: a line at each update (more than a microsecond on)
    monkeypatch.setenv("RAILWATCH_PROGRESS_SECONDS", "0.000001")
    out = tmp_path / "r.html"
    assert main(["--db", db_url, "report", SITE_NAME, "-o", str(out), "--pdf", "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)  # stdout holds the JSON alone
    assert [f["kind"] for f in doc["files"]] == ["html", "pdf"]
    lines = captured.err.splitlines()
    # the steps that take a while end with a line each, named (the drawing takes far
    # more than the microsecond between two lines)
    for step in (STEP_CHART, STEP_LAYOUT):
        assert f"report of {SITE_NAME}: {step}: 1/1 (100 %)" in "\n".join(lines), captured.err
    pages = [line for line in lines if f": {STEP_PAGES}: " in line]
    assert pages and pages[-1].startswith(f"report of {SITE_NAME}: {STEP_PAGES}: ")
    assert "(100 %)" in pages[-1]


def test_report_command_writes_no_progress_line_with_zero_seconds(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """RAILWATCH_PROGRESS_SECONDS=0 turns the lines off, as for every other command."""
    monkeypatch.setenv("RAILWATCH_PROGRESS_SECONDS", "0")
    out = tmp_path / "r.html"
    assert main(["--db", db_url, "report", SITE_NAME, "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "report of" not in captured.err
    assert f"wrote {out}" in captured.out


def test_demo_shows_the_reports_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`railwatch demo` passes the report builder's steps to its bar: one "Writing the
    report" task, named by its step (here in a log: a line each)."""
    import railwatch.detect.registry as registry
    import railwatch.sim.scenario as scenario
    from railwatch.sim.io import write_scene
    from railwatch.sim.params import SceneParams
    from railwatch.sim.scene import render_scene
    from test_detect_fakes import BrightBlobDetector

    paths = [
        write_scene(
            render_scene(SceneParams(seed=i, gsd=0.5, size_px=(120, 120), n_cars=2)),
            tmp_path / "img",
            f"tumangang_2024010{i + 1}",
            preview=False,
        )
        for i in range(3)
    ]

    def fake_render(*_a: Any, progress: Any = None, **_k: Any) -> list[Any]:
        if progress is not None:
            progress(len(paths), len(paths))
        return paths

    monkeypatch.setattr(scenario, "render_scenario", fake_render)
    monkeypatch.setattr(registry, "get_detector", lambda *_a, **_k: BrightBlobDetector())
    monkeypatch.setenv("RAILWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RAILWATCH_PROGRESS_SECONDS", "0.000001")
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["report"] == str(out / "tumangang-report.html")
    assert f"Writing the report: {STEP_CHART}: 1/1 (100 %)" in captured.err, captured.err
