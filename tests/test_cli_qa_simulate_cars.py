"""QA: `simulate --cars N` capped the number of cars without a word (`--cars 400 --size
400x400` gave a fraction of them), and `--cars -3` said "n_cars must be >= 0.", an
internal name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.cli.main import main


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["simulate", "--scene", *args, "--out", str(tmp_path / "o"), "--json"])
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


def test_fewer_cars_than_asked_is_a_warning_that_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(tmp_path, capsys, "--cars", "400", "--size", "400x400")
    assert code == 0
    written = json.loads(out)
    placed = written["cars"]
    assert 0 < placed < 400 and written["cars_requested"] == 400
    assert f"warning: --cars 400: only {placed} railcars fit in this scene" in err
    assert "tracks inside 200 x 200 m (400x400 px at 0.5 m) are about" in err
    assert "A larger --size (or a coarser --gsd) makes a larger yard." in err


def test_default_size_names_its_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(tmp_path, capsys, "--cars", "1000", "--gsd", "3")
    assert code == 0 and "only" in err and "the default is about 600 m a side" in err


def test_cars_that_fit_give_no_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(tmp_path, capsys, "--cars", "10", "--size", "400x400")
    assert code == 0 and json.loads(out)["cars"] == 10 and "warning" not in err


@pytest.mark.parametrize(
    ("option", "value"), [("--cars", "-3"), ("--cloud", "2"), ("--haze", "-1")]
)
def test_out_of_range_values_name_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    code, _, err = _run(tmp_path, capsys, option, value)
    assert code == 2 and f"Invalid value for '{option}'" in err
    assert "n_cars" not in err and "cloud_cover" not in err
    assert not (tmp_path / "o").exists()
