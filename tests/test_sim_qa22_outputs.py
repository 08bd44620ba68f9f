"""QA (session 22): ``railwatch simulate`` on bad values and bad output folders.

Before: ``--out`` on a read-only folder was "internal error: CPLE_OpenFailedError ...
please report it" (or an OSError) after the scene had been rendered; ``--size
20000x20000`` began a render that needs about 25 GB; ``--cars 100000000`` ran for tens
of minutes; ``--size 0x0`` named ``size_px``; scene options given with ``--scenario``
(``--gsd 3``) were silently ignored; ``--workers 0`` said "workers must be >= 1."; a
Ctrl-C said "the database keeps every scene recorded so far" (simulate has none); a run
killed with SIGKILL left its temporaries in the folder for good."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import railwatch.cli.simulate as cli_simulate
from railwatch.cli.main import main
from railwatch.errors import ImageryError
from railwatch.sim import SceneParams, render_scene
from railwatch.sim import io as sim_io


def _simulate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["simulate", *args])
    return code, " ".join(capsys.readouterr().err.split())


def _scene(tmp_path: Path, *args: str) -> list[str]:
    return ["--scene", "--size", "64x64", "--cars", "1", *args, "--out", str(tmp_path / "o")]


def test_out_is_a_file_is_said_before_rendering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "o").write_text("not a folder")
    rendered: list[Any] = []
    monkeypatch.setattr("railwatch.sim.scene.render_scene", lambda p: rendered.append(p))
    code, err = _simulate(capsys, *_scene(tmp_path))
    assert code == 1 and not rendered
    assert f"error: {tmp_path / 'o'} is a file, not a folder: give a folder" in err
    code, err = _simulate(capsys, "--scenario", "tumangang", "--out", str(tmp_path / "o"))
    assert code == 1 and "is a file, not a folder" in err
    assert (tmp_path / "o").read_text() == "not a folder"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_read_only_folder_is_one_line_not_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "o"
    out.mkdir()

    def read_only(self: Path, *_a: Any, **_k: Any) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "touch", read_only)  # as root, chmod 555 does not stop writes
    code, err = _simulate(capsys, *_scene(tmp_path))
    assert code == 1
    assert f"error: cannot write into {out}: Permission denied; choose a writable folder" in err
    assert "internal error" not in err and ".tmp" not in err
    assert list(out.iterdir()) == []


def test_a_gdal_write_error_names_the_file_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GDAL's errors (CPLE_*) are not RasterioError: a full disk or a folder made
    read-only under the run was an internal error."""
    from rasterio._err import CPLE_OpenFailedError

    def failing(*_a: Any, **_k: Any) -> Any:
        raise CPLE_OpenFailedError(4, 3, "Attempt to create new tiff file failed: No space left")

    monkeypatch.setattr(sim_io.rasterio, "open", failing)
    scene = render_scene(SceneParams(seed=1, gsd=1.0, size_px=(64, 64), n_cars=1))
    with pytest.raises(ImageryError, match=r"cannot write .*s\.tif: .*No space left.*disk has"):
        sim_io.write_scene(scene, tmp_path, "s", preview=False)
    assert list(tmp_path.iterdir()) == []


def test_a_preview_that_cannot_be_written_is_an_error_not_a_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cv2.imwrite says False instead of raising: os.replace then failed on the missing
    temporary ("internal error: FileNotFoundError")."""
    monkeypatch.setattr(sim_io.cv2, "imwrite", lambda *_a, **_k: False)
    scene = render_scene(SceneParams(seed=1, gsd=1.0, size_px=(64, 64), n_cars=1))
    with pytest.raises(ImageryError, match=r"cannot write .*s\.preview\.png"):
        sim_io.write_scene(scene, tmp_path, "s", preview=True)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "0x0"], "--size 0x0: each side must be 8 to 20,000 pixels"),
        (["--size", "100000x100000"], "--size 100000x100000: each side must be 8 to 20,000"),
        (["--cars", "100000000"], "--cars 100,000,000 is more than any simulated yard holds"),
        (["--workers", "2"], "--workers: it renders a --scenario in parallel"),
    ],
)
def test_bad_scene_values_name_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, err = _simulate(capsys, "--scene", *args, "--out", str(tmp_path / "o"))
    assert code == 2 and message in err
    assert "size_px" not in err and "n_cars" not in err
    assert not (tmp_path / "o").exists()


def test_a_scene_larger_than_the_memory_is_refused_before_rendering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_simulate, "available_memory", lambda: 2 * 2**30)
    code, err = _simulate(capsys, "--scene", "--size", "8000x8000", "--out", str(tmp_path / "o"))
    assert code == 2
    assert "--size 8000x8000 needs about 4.1 GB of memory to render (64 million pixels)" in err
    assert "2.0 GB is available: give a smaller --size" in err
    # the default size at a fine --gsd says so
    code, err = _simulate(capsys, "--scene", "--gsd", "0.1", "--out", str(tmp_path / "o"))
    assert code == 2 and "--gsd 0.1 makes the default scene (600 m a side) 6000x6000 px" in err
    assert not (tmp_path / "o").exists()
    monkeypatch.setattr(cli_simulate, "available_memory", lambda: None)  # unknown: rendered
    assert main(["simulate", *_scene(tmp_path)]) == 0


def test_available_memory_reads_the_system() -> None:
    have = cli_simulate.available_memory()
    assert have is None or have > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gsd", "3"], "--gsd: it sets one --scene; a scenario has its own"),
        (["--cars", "5", "--seed", "2"], "--cars, --seed: they set one --scene"),
        (["--size", "64x64"], "--size: it sets one --scene"),
    ],
)
def test_scene_options_with_a_scenario_are_refused_not_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, err = _simulate(capsys, "--scenario", "tumangang", *args, "--out", str(tmp_path / "o"))
    assert code == 2 and message in err
    assert not (tmp_path / "o").exists()


def test_workers_below_one_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _simulate(
        capsys, "--scenario", "tumangang", "--workers", "0", "--out", str(tmp_path / "o")
    )
    assert code == 2 and "Invalid value for '--workers'" in err


def test_ctrl_c_says_what_is_kept_without_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_a: Any, **_k: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("railwatch.sim.scenario.render_scenario", interrupted)
    with pytest.raises(SystemExit) as ended:
        main(["simulate", "--scenario", "tumangang", "--out", str(tmp_path / "o")])
    err = " ".join(capsys.readouterr().err.split())
    assert ended.value.code == 130
    assert "Interrupted; the scenes rendered so far are kept in" in err
    assert "run the same command again to render the rest" in err
    assert "database" not in err

    monkeypatch.setattr("railwatch.sim.scene.render_scene", interrupted)
    with pytest.raises(SystemExit) as ended:
        main(["simulate", *_scene(tmp_path)])
    err = " ".join(capsys.readouterr().err.split())
    assert ended.value.code == 130 and "Interrupted; scene sim_0 was not completed in" in err
    assert "database" not in err


def _write_temporary(folder: Path, pid: int, age_s: float) -> Path:
    path = folder / f".scene.{pid}-0123abcd.tmp.tif"
    path.write_bytes(b"half a COG")
    old = time.time() - age_s
    os.utime(path, (old, old))
    return path


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


@pytest.mark.skipif(os.name != "posix", reason="process ids checked on POSIX only")
def test_temporaries_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    dead = _dead_pid()
    stale = _write_temporary(tmp_path, dead, 600)
    gdal = tmp_path / f"{stale.name}.ovr.tmp"
    gdal.write_bytes(b"overview")
    os.utime(gdal, (time.time() - 600, time.time() - 600))
    young = _write_temporary(tmp_path, dead + 1_000_000, 0)  # another host's, just begun
    mine = _write_temporary(tmp_path, os.getpid(), 600)  # a live process's
    kept = tmp_path / "scene.tif"
    kept.write_bytes(b"a scene")
    assert sim_io.remove_stale_temporaries(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([young.name, mine.name, kept.name])
