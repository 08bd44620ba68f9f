"""``railwatch simulate --scene --date`` draws the sun and the season of that date at the
scene's centre (session 44, ``SceneParams.at``).

Before, ``--date`` only dated the STAC item: a January scene at Tumangang was drawn as
summer under a 45-degree sun from the south-south-east, and its item said
``view:sun_elevation`` 45, so low-sun caveats and the 3 m shadow guard, which read the
item, were told the wrong sun. A night-time date is refused (no optical image then).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.errors import ConfigError
from railwatch.sim.params import SceneParams
from railwatch.sim.sun import season_of, solar_position


def _item(tmp_path: Path, *extra: str, seed: int = 1) -> dict[str, Any]:
    out = tmp_path / "sim"
    code = main(
        ["simulate", "--scene", "--seed", str(seed), "--cars", "2", "--size", "120x120",
         "--out", str(out), *extra]
    )  # fmt: skip
    assert code == 0
    props: dict[str, Any] = json.loads((out / f"sim_{seed}.json").read_text())["properties"]
    return props


def test_a_winter_noon_at_tumangang_has_a_low_southern_sun(tmp_path: Path) -> None:
    props = _item(tmp_path, "--date", "2024-01-15")
    assert props["datetime"] == "2024-01-15T03:00:00Z"
    # 42.4 N in mid-January, near local noon: about 90 - 42.4 - 21 = 26.5 degrees, due south
    assert 24.0 < props["view:sun_elevation"] < 29.0, props["view:sun_elevation"]
    assert 160.0 < props["view:sun_azimuth"] < 190.0, props["view:sun_azimuth"]
    assert props["railwatch:params"]["season"] == "winter"


def test_the_southern_hemisphere_is_six_months_on(tmp_path: Path) -> None:
    props = _item(tmp_path, "--center", "-58.38,-34.60", "--date", "2024-01-15")
    assert props["railwatch:params"]["season"] == "summer"
    assert props["view:sun_elevation"] > 70.0, props["view:sun_elevation"]
    # the noon sun stands to the north there
    assert not 90.0 < props["view:sun_azimuth"] < 270.0, props["view:sun_azimuth"]


def test_a_given_season_is_kept_and_the_sun_follows_the_time(tmp_path: Path) -> None:
    props = _item(tmp_path, "--date", "2024-07-01T23:30Z", "--season", "autumn")
    assert props["railwatch:params"]["season"] == "autumn"
    elevation, azimuth = solar_position(datetime(2024, 7, 1, 23, 30, tzinfo=UTC), 130.6081, 42.4214)
    assert props["view:sun_elevation"] == pytest.approx(elevation, abs=0.01)
    assert props["view:sun_azimuth"] == pytest.approx(azimuth, abs=0.01)
    assert 20.0 < elevation < 40.0 and azimuth < 120.0  # early morning, sun in the east


def test_random_conditions_take_the_dates_sun_and_season(tmp_path: Path) -> None:
    # seed 25's own draw (with --random) is a snowy winter under an 18.5-degree sun
    props = _item(tmp_path, "--random", "--gsd", "0.5", "--date", "2024-06-20", seed=25)
    assert props["railwatch:params"]["season"] == "summer"
    assert props["railwatch:params"]["snow"] == 0.0
    assert props["view:sun_elevation"] > 65.0, props["view:sun_elevation"]


def test_a_night_time_date_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim"
    code = main(
        ["simulate", "--scene", "--seed", "1", "--cars", "2", "--size", "120x120",
         "--out", str(out), "--date", "2024-01-15T20:00Z"]
    )  # fmt: skip
    assert code != 0
    err = capsys.readouterr().err
    assert "--date 2024-01-15T20:00Z" in err
    assert "below the horizon" in err and "daytime" in err
    assert not (out / "sim_1.tif").exists()


def test_scene_params_at() -> None:
    p = SceneParams(center_lonlat=(10.0, 60.0)).at(datetime(2024, 12, 21, 11, 20, tzinfo=UTC))
    assert p.season == "winter"
    assert 5.0 < p.sun_elevation < 8.0  # 60 N at the winter solstice's noon: about 6.6
    assert p.date == datetime(2024, 12, 21, 11, 20, tzinfo=UTC)
    with pytest.raises(ConfigError, match="no time zone"):
        SceneParams().at(datetime(2024, 6, 1, 3, 0))
    with pytest.raises(ConfigError, match=r"only 1\.\d degrees above"):
        # 60 N, midwinter, shortly after sunrise
        SceneParams(center_lonlat=(10.0, 60.0)).at(datetime(2024, 12, 21, 8, 50, tzinfo=UTC))


@pytest.mark.parametrize(
    ("day", "lat", "season"),
    [(date(2024, 1, 1), 40.0, "winter"), (date(2024, 4, 1), 40.0, "spring"),
     (date(2024, 10, 1), 40.0, "autumn"), (date(2024, 1, 1), -40.0, "summer"),
     (date(2024, 7, 1), -40.0, "winter")],
)  # fmt: skip
def test_season_of(day: date, lat: float, season: str) -> None:
    assert season_of(day, lat) == season


def test_a_place_without_a_date_is_noon_there(tmp_path: Path) -> None:
    # 8.59 E (UTC+1): noon on the default day is 11:00Z; it was 02:00Z, night there,
    # under a 45-degree sun
    props = _item(tmp_path, "--center", "8.59,47.53")
    assert props["datetime"] == "2024-06-17T11:00:00Z"
    assert props["view:sun_elevation"] > 60.0, props["view:sun_elevation"]
    assert props["railwatch:params"]["season"] == "summer"


def test_without_a_place_or_a_date_the_defaults_stay(tmp_path: Path) -> None:
    props = _item(tmp_path)
    assert props["datetime"] == "2024-06-17T02:00:00Z"
    assert props["view:sun_elevation"] == 45.0 and props["view:sun_azimuth"] == 150.0


def test_polar_night_asks_for_another_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["simulate", "--scene", "--size", "120x120", "--out", str(tmp_path / "sim"),
         "--center", "0,80", "--date", "2024-12-21"]
    )  # fmt: skip
    assert code != 0
    err = " ".join(capsys.readouterr().err.split())
    assert "--date 2024-12-21: the sun does not rise 2 degrees above the horizon at 0,80" in err
    assert "polar night" in err and "Choose a date when it does" in err
    assert "daytime acquisition time" not in err  # no time of that day would do


def test_a_polar_place_without_a_date_keeps_the_scenes_own_sun(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Murmansk, and a seed whose own draw is a winter day: no --date was given, so the
    # scene is drawn as before (it was refused for a few hours of session 44)
    out = tmp_path / "sim"
    code = main(
        ["simulate", "--scene", "--random", "--seed", "25", "--size", "120x120",
         "--center", "33.08,68.97", "--out", str(out)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    err = " ".join(captured.err.split())
    assert "the sun does not rise 2 degrees above the horizon at 33.08,68.97" in err
    assert "give --date DAY for a day with daylight there" in err
    props = json.loads((out / "sim_25.json").read_text())["properties"]
    assert props["view:sun_elevation"] >= 2.0


def test_the_season_is_the_local_days(tmp_path: Path) -> None:
    # 10:30 on 1 March at Auckland is 21:30 on 29 February in UTC: autumn there, not summer
    props = _item(tmp_path, "--center", "174.8,-36.8", "--date", "2024-03-01T10:30+13:00")
    assert props["datetime"] == "2024-02-29T21:30:00Z"
    assert props["railwatch:params"]["season"] == "autumn"
