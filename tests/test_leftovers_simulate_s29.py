"""``railwatch simulate --scene`` says what it is doing while it renders, and says when it
replaced a scene of the same name (session 29).

A 4000x4000 px scene takes about 13 s and a 20000x20000 one minutes, and nothing was
printed meanwhile; a scene already in --out under that name was overwritten without a
word.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import rich.live

from railwatch.cli._common import err_console
from railwatch.cli.main import main
from railwatch.sim import scene
from railwatch.sim.params import SceneParams
from railwatch.sim.scene import RenderedScene

ARGS = ["simulate", "--scene", "--seed", "3", "--cars", "2", "--size", "120x120"]


def test_a_spinner_shows_on_a_terminal_while_rendering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # stderr made to pass for a terminal (rich decides whether it is interactive when the
    # console is made)
    monkeypatch.setattr(err_console, "_force_terminal", True)
    monkeypatch.setattr(err_console, "_is_tty", lambda: True)  # a terminal itself (s35)
    monkeypatch.setattr(err_console, "is_interactive", True)
    monkeypatch.setenv("TERM", "xterm-256color")
    # a render that lasts until the spinner has been drawn (by rich's refresh thread,
    # 12.5 times a second; a fixed 0.6 s sleep left it to the thread's luck on a loaded
    # machine, session 43), with a bound on the wait
    real, real_refresh = scene.render_scene, rich.live.Live.refresh
    drawn = threading.Event()

    def refresh(self: rich.live.Live) -> None:
        real_refresh(self)
        drawn.set()

    def slow_render(params: SceneParams) -> RenderedScene:
        drawn.wait(60)
        return real(params)

    monkeypatch.setattr(rich.live.Live, "refresh", refresh)

    monkeypatch.setattr(scene, "render_scene", slow_render)
    assert main([*ARGS, "--out", str(tmp_path), "--json"]) == 0
    captured = capsys.readouterr()
    assert "rendering scene sim_3 (120x120 px)" in captured.err
    assert "writing scene sim_3 to" in captured.err
    assert "rendering" not in captured.out  # stdout stays the JSON
    assert json.loads(captured.out)["size"] == [120, 120]


def test_no_spinner_in_a_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "rendering" not in captured.err and "writing" not in captured.err
    assert "note:" not in captured.err  # nothing was there to replace
    assert "scene sim_3: 120x120 px" in captured.out


def test_replacing_a_scene_of_that_name_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*ARGS, "--out", str(tmp_path)]) == 0
    first = (tmp_path / "sim_3.truth.geojson").read_text()
    capsys.readouterr()
    assert main([*ARGS[:-2], "--size", "160x160", "--out", str(tmp_path), "--json"]) == 0
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert f"note: replaced scene sim_3 already in {tmp_path}" in err
    assert "6 of its files were there" in err and "sim_3.tif" in err
    assert json.loads(captured.out)["size"] == [160, 160]  # replaced, not refused
    assert (tmp_path / "sim_3.truth.geojson").read_text() != first
    # another name beside it is no replacement
    assert main([*ARGS, "--name", "other", "--out", str(tmp_path)]) == 0
    assert "replaced" not in capsys.readouterr().err
