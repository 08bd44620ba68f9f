"""QA (session 22): ``railwatch demo`` as a new user meets it.

Before: ``--out`` naming a file was "internal error: FileExistsError ... please report
it", and a read-only ``--out`` failed on SQLite only after the images were rendered (a
minute and a half on a first run); an unknown ``--scenario`` left an empty folder; a
re-run did not say that it continued the earlier one (nor a first run where it
started); the summary said "unusable (cloud, haze, partial coverage)" whatever the
causes were (the demo's 2 snowed-over images were not named); it did not say how to
see the results on the dashboard, which needs the web extra that ``make demo`` does not
install; a Ctrl-C did not say that a re-run continues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import railwatch.cli.demo as cli_demo
from railwatch.cli.main import main
from railwatch.errors import DetectionError
from railwatch.sim.io import write_scene
from railwatch.sim.params import SceneParams
from railwatch.sim.scene import render_scene
from railwatch.storage.models import Scene


@pytest.fixture
def small_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The demo over three tiny scenes and no detector (it stops before detection)."""
    import railwatch.detect.registry as registry
    import railwatch.sim.scenario as scenario

    paths = [
        write_scene(
            render_scene(SceneParams(seed=i, gsd=0.5, size_px=(120, 120), n_cars=2)),
            tmp_path / "img",
            f"tumangang_2024010{i + 1}",
            preview=False,
        )
        for i in range(3)
    ]
    renders: list[Any] = []

    def fake_render(*a: Any, progress: Any = None, **_k: Any) -> list[Any]:
        renders.append(a)
        if progress is not None:
            progress(len(paths), len(paths))
        return paths

    def no_detector(*_a: Any, **_k: Any) -> Any:
        raise DetectionError("no detector in this test")

    monkeypatch.setattr(scenario, "render_scenario", fake_render)
    monkeypatch.setattr(registry, "get_detector", no_detector)
    monkeypatch.setenv("RAILWATCH_CACHE_DIR", str(tmp_path / "cache"))
    return renders


def _demo(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["demo", *args])
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def test_out_that_is_a_file_is_one_line_before_rendering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_demo: list[Any]
) -> None:
    (tmp_path / "out").write_text("mine")
    code, _, err = _demo(capsys, "--out", str(tmp_path / "out"))
    assert code == 1 and not small_demo
    assert f"error: {tmp_path / 'out'} is a file, not a folder" in err
    assert "internal error" not in err
    assert (tmp_path / "out").read_text() == "mine"


def test_read_only_out_is_said_before_rendering(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    small_demo: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "out").mkdir()

    def read_only(self: Path, *_a: Any, **_k: Any) -> None:
        raise OSError(30, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "touch", read_only)  # as root, chmod 555 does not stop writes
    code, _, err = _demo(capsys, "--out", str(tmp_path / "out"))
    assert code == 1 and not small_demo
    assert f"cannot write into {tmp_path / 'out'}: Read-only file system" in err
    assert "choose a writable folder" in err


def test_unknown_scenario_creates_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_demo: list[Any]
) -> None:
    code, _, err = _demo(capsys, "--out", str(tmp_path / "out"), "--scenario", "atlantis")
    assert code == 1 and "unknown scenario 'atlantis'" in err
    assert not (tmp_path / "out").exists() and not small_demo


def test_a_rerun_says_it_continues_and_a_first_run_where_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_demo: list[Any]
) -> None:
    out = tmp_path / "out"
    code, _, err = _demo(capsys, "--out", str(out))
    assert code == 0
    assert f"railwatch demo: starting in {out} (the scenario's images are rendered once" in err
    assert "continuing" not in err
    code, _, err = _demo(capsys, "--out", str(out))
    assert code == 0
    assert f"continuing the earlier run in {out} (0 of 3 scenes already processed)" in err
    assert "delete the folder, or give another --out, to start afresh" in err


def test_ctrl_c_says_a_rerun_continues(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    small_demo: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import railwatch.ingest as ingest

    def interrupted(*_a: Any, **_k: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest, "ingest_paths", interrupted)
    with pytest.raises(SystemExit) as ended:
        main(["demo", "--out", str(tmp_path / "out")])
    err = " ".join(capsys.readouterr().err.split())
    assert ended.value.code == 130
    assert "Interrupted; the images rendered so far stay cached and the database in" in err
    assert "run the same command again to continue from there" in err
    assert err.count("Interrupted") == 1


def _scene(**quality: float | None) -> Scene:
    return Scene(status="unusable", **quality)


def test_unusable_scenes_are_named_by_their_main_cause() -> None:
    from railwatch.demo import _main_cause

    assert _main_cause(_scene(cloud_fraction=0.6, haze_fraction=0.3)) == "cloud"
    assert _main_cause(_scene(cloud_fraction=0.05, haze_fraction=0.9)) == "haze"
    assert _main_cause(_scene(snow_fraction=0.93, quality_coverage=1.0)) == "snow"
    assert _main_cause(_scene(cloud_fraction=0.05, quality_coverage=0.27)) == "partial coverage"
    assert _main_cause(_scene(quality_coverage=None)) == "other"  # e.g. a blank image


def test_the_dashboard_line_names_the_web_extra_when_it_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "sqlite:////x/railwatch-demo/railwatch-demo.db"
    monkeypatch.setattr(cli_demo, "web_install_command", lambda: None)
    assert cli_demo.dashboard_command(url) == [
        f"railwatch --db {url} serve, then open http://127.0.0.1:8000/"
    ]
    install = ".venv/bin/python -m pip install -e '.[web]'"
    monkeypatch.setattr(cli_demo, "web_install_command", lambda: install)
    assert cli_demo.dashboard_command(url)[1] == f"(first install the web extra: {install})"


class _Dist:
    def __init__(self, direct_url: str | None) -> None:
        self.direct_url = direct_url

    def read_text(self, name: str) -> str | None:
        return self.direct_url if name == "direct_url.json" else None


EDITABLE = '{"dir_info": {"editable": true}, "url": "file://CHECKOUT"}'


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [(EDITABLE, "-m pip install -e '.[web]'"), (None, "-m pip install 'railwatch[web]'")],
)
def test_the_web_extra_is_installed_as_railwatch_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct_url: str | None, expected: str
) -> None:
    """In a checkout (``make demo``: editable), `pip install 'railwatch[web]'` would put a
    released railwatch over it: the command is pip install -e on the checkout."""
    import importlib.metadata
    import importlib.util
    import sys

    from railwatch.cli.serve import web_install_command

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "fastapi" else real_find_spec(name, *a),
    )
    text = direct_url.replace("CHECKOUT", str(tmp_path)) if direct_url else None
    monkeypatch.setattr(importlib.metadata, "distribution", lambda _name: _Dist(text))
    monkeypatch.setattr(sys, "executable", str(tmp_path / ".venv" / "bin" / "python"))
    monkeypatch.chdir(tmp_path)
    assert web_install_command() == f".venv/bin/python {expected}"


def test_serve_without_the_web_extra_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import railwatch.cli.serve as cli_serve

    monkeypatch.setattr(cli_serve, "web_install_command", lambda: "PY -m pip install -e '.[web]'")
    code = main(["--db", f"sqlite:///{tmp_path / 'r.db'}", "serve"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert "the web server needs the web extra (FastAPI, uvicorn), which is not installed" in err
    assert "run `PY -m pip install -e '.[web]'`" in err


def test_serve_on_a_database_without_sites_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`railwatch serve` in another folder than the demo's served a new, empty
    railwatch.db: an empty dashboard, without a word."""
    uvicorn = pytest.importorskip("uvicorn")
    pytest.importorskip("fastapi")
    monkeypatch.setattr(uvicorn, "run", lambda *_a, **_k: None)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert main(["--db", url, "serve"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "has no sites yet: add one with `railwatch site add`" in err
    assert main(["--db", url, "site", "add", "yard", "--bbox", "7.639,47.5295,7.641,47.5305"]) == 0
    capsys.readouterr()
    assert main(["--db", url, "serve"]) == 0
    assert "no sites" not in capsys.readouterr().err


def test_every_missing_extra_names_the_install_command_for_this_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`railwatch export x --format gpkg` after `make demo` advised `pip install
    'railwatch[gis]'`, which would fetch a released railwatch over the checkout."""
    import importlib.metadata
    import sys

    from railwatch.errors import MissingDependencyError, lazy_import

    text = EDITABLE.replace("CHECKOUT", str(tmp_path))
    monkeypatch.setattr(importlib.metadata, "distribution", lambda _name: _Dist(text))
    monkeypatch.setattr(sys, "executable", str(tmp_path / ".venv" / "bin" / "python"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MissingDependencyError) as err:
        lazy_import("railwatch_no_such_module", "gis", "GeoPackage export")
    assert "run `.venv/bin/python -m pip install -e '.[gis]'`" in str(err.value)
