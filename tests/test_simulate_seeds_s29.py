"""``railwatch simulate`` with a negative seed (session 29).

Before: ``--seed -1`` and ``--layout-seed -3`` were "internal error: ValueError:
expected non-negative integer ... please report it" (status 70), raised by numpy's seed
sequence deep inside the render; ``SceneParams(seed=-1)`` and ``random_params(-1)``
raised the same bare ValueError."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.errors import ConfigError
from railwatch.sim import SceneParams, random_params


def _simulate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["simulate", *args])
    return code, " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize("option", ["--seed", "--layout-seed"])
@pytest.mark.parametrize("random", [[], ["--random"]])
def test_negative_seed_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, random: list[str]
) -> None:
    out = tmp_path / "o"
    args = ["--scene", "--size", "64x64", "--cars", "1", option, "-1", *random]
    code, err = _simulate(capsys, *args, "--out", str(out))
    assert code == 2, err
    assert option in err and "greater than or equal to 0" in err
    assert "internal error" not in err
    assert not out.exists()


@pytest.mark.parametrize("field", ["seed", "layout_seed"])
def test_scene_params_refuse_a_negative_seed(field: str) -> None:
    with pytest.raises(ConfigError, match=f"{field} -1 must be 0 or more"):
        SceneParams(size_px=(64, 64), **{field: -1})


def test_random_params_refuse_a_negative_seed() -> None:
    with pytest.raises(ConfigError, match="seed -1 must be 0 or more"):
        random_params(-1)


def test_large_seed_still_renders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """numpy takes any non-negative integer; 2**64 and above keep working."""
    out = tmp_path / "o"
    code, err = _simulate(
        capsys, "--scene", "--size", "64x64", "--cars", "1", "--seed", str(2**70), "--out", str(out)
    )
    assert code == 0, err
    assert (out / f"sim_{2**70}.tif").is_file()
