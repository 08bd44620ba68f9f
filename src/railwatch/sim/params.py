"""Scene parameters, style families and seeded randomisation.

A :class:`SceneParams` fully determines a rendered scene: the same parameters give
the same pixels. :func:`random_params` draws every parameter from a seed, limited to
an allow-list of style families so a detector can be trained on some families and
validated on held-out ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from railwatch.detect.base import CAR_CLASSES
from railwatch.errors import ConfigError

RGB = tuple[int, int, int]

#: Classes the simulator renders: the detector's car classes.
SIM_CLASSES: tuple[str, ...] = CAR_CLASSES
SEASONS: tuple[str, ...] = ("spring", "summer", "autumn", "winter")
#: Ground sample distances (m per pixel) the simulator renders.
GSD_RANGE: tuple[float, float] = (0.05, 30.0)


def check_gsd(gsd: float) -> float:
    """``gsd`` when the simulator can render it (NaN is not), else a :class:`ConfigError`."""
    lo, hi = GSD_RANGE
    if not lo <= gsd <= hi:
        raise ConfigError(f"gsd {gsd} m is out of range: use {lo:g} to {hi:g} m per pixel.")
    return gsd


@dataclass(frozen=True)
class Style:
    """A landscape palette family: ground, vegetation, ballast, roads, roofs."""

    name: str
    soil: tuple[RGB, ...]
    grass: RGB
    grass_dormant: RGB
    tree: RGB
    vegetation: float  # fraction of open ground that is vegetated (0..1)
    ballast: RGB
    ballast_dirty: RGB
    road: RGB
    concrete: RGB
    roofs: tuple[RGB, ...]
    water: RGB
    light: tuple[float, float, float]  # per-channel illumination gains
    texture: float  # ground texture strength (DN)


@dataclass(frozen=True)
class Paint:
    """A rolling-stock palette family: car bodies, tank cars, tarps, loads."""

    name: str
    body: tuple[RGB, ...]
    tank: tuple[RGB, ...]
    tarp: tuple[RGB, ...]
    loco: tuple[RGB, ...]
    rust: float  # probability that a car shows rust patches


STYLES: dict[str, Style] = {
    "temperate": Style(
        name="temperate",
        soil=((128, 116, 96), (112, 104, 88), (140, 128, 106)),
        grass=(94, 108, 70),
        grass_dormant=(130, 120, 84),
        tree=(52, 74, 40),
        vegetation=0.55,
        ballast=(126, 120, 112),
        ballast_dirty=(104, 94, 82),
        road=(110, 110, 108),
        concrete=(168, 164, 156),
        roofs=((120, 70, 60), (150, 150, 146), (96, 98, 102), (170, 160, 140), (80, 84, 90)),
        water=(52, 70, 72),
        light=(1.0, 1.0, 1.0),
        texture=11.9,
    ),
    "continental": Style(
        name="continental",
        soil=((132, 122, 100), (118, 108, 90), (104, 98, 84)),
        grass=(104, 112, 80),
        grass_dormant=(138, 126, 92),
        tree=(58, 76, 48),
        vegetation=0.45,
        ballast=(118, 112, 104),
        ballast_dirty=(98, 88, 78),
        road=(124, 118, 108),
        concrete=(160, 156, 146),
        roofs=((92, 110, 128), (150, 146, 136), (118, 72, 58), (80, 90, 84)),
        water=(60, 78, 76),
        light=(1.0, 0.99, 0.96),
        texture=13.6,
    ),
    "arid": Style(
        name="arid",
        soil=((190, 170, 136), (176, 154, 120), (204, 186, 150)),
        grass=(150, 146, 104),
        grass_dormant=(172, 158, 120),
        tree=(92, 100, 64),
        vegetation=0.12,
        ballast=(150, 140, 128),
        ballast_dirty=(132, 116, 96),
        road=(136, 130, 122),
        concrete=(200, 194, 180),
        roofs=((200, 196, 188), (170, 160, 140), (140, 120, 100), (120, 126, 130)),
        water=(70, 90, 96),
        light=(1.04, 1.0, 0.93),
        texture=15.3,
    ),
    "winter": Style(
        name="winter",
        soil=((118, 112, 104), (104, 100, 94), (130, 124, 116)),
        grass=(112, 108, 88),
        grass_dormant=(112, 108, 88),
        tree=(56, 60, 52),
        vegetation=0.4,
        ballast=(112, 110, 108),
        ballast_dirty=(92, 88, 84),
        road=(100, 102, 104),
        concrete=(150, 150, 150),
        roofs=((140, 140, 142), (90, 96, 104), (110, 80, 70)),
        water=(58, 68, 74),
        light=(0.95, 0.98, 1.05),
        texture=10.2,
    ),
    "industrial-dark": Style(
        name="industrial-dark",
        soil=((84, 80, 76), (70, 68, 66), (96, 90, 82)),
        grass=(70, 84, 56),
        grass_dormant=(96, 92, 74),
        tree=(44, 56, 38),
        vegetation=0.25,
        ballast=(86, 84, 82),
        ballast_dirty=(62, 58, 54),
        road=(74, 74, 76),
        concrete=(128, 126, 122),
        roofs=((110, 112, 116), (70, 72, 76), (130, 100, 84), (150, 150, 150)),
        water=(40, 50, 52),
        light=(0.97, 0.97, 1.0),
        texture=10.2,
    ),
}

PAINTS: dict[str, Paint] = {
    "rzd": Paint(
        name="rzd",
        body=((98, 58, 46), (84, 60, 50), (72, 74, 68), (92, 82, 72), (64, 66, 70), (110, 66, 50)),
        tank=((34, 34, 36), (42, 42, 44), (56, 54, 50), (40, 38, 36), (146, 146, 142)),
        tarp=((66, 90, 60), (90, 100, 84), (120, 122, 118), (60, 80, 110), (110, 96, 70)),
        loco=((48, 96, 64), (150, 50, 40), (60, 80, 120)),
        rust=0.5,
    ),
    "euro": Paint(
        name="euro",
        body=((196, 196, 192), (70, 90, 120), (150, 150, 148), (160, 60, 50), (90, 110, 90)),
        tank=((200, 200, 196), (120, 124, 130), (40, 40, 44), (70, 90, 130)),
        tarp=((70, 110, 150), (160, 160, 156), (60, 96, 70), (180, 170, 150)),
        loco=((200, 70, 50), (200, 200, 196), (60, 60, 70)),
        rust=0.2,
    ),
    "faded": Paint(
        name="faded",
        body=((140, 100, 76), (150, 140, 120), (120, 110, 100), (130, 90, 70), (100, 104, 100)),
        tank=((170, 168, 160), (90, 86, 80), (130, 120, 104)),
        tarp=((110, 126, 96), (140, 140, 134), (150, 126, 96), (96, 110, 130)),
        loco=((130, 120, 70), (110, 60, 50), (90, 100, 110)),
        rust=0.8,
    ),
}

SENSORS: dict[str, str] = {
    "SkySat-sim": "skysat",
    "WorldView-sim": "worldview",
    "PlanetScope-sim": "planetscope",
    "Sentinel-2-sim": "sentinel-2",
    "Landsat-sim": "landsat",
}


def sensor_for_gsd(gsd: float) -> str:
    """The simulated sensor name that matches a ground sample distance (DOMAIN.md's
    sensors: Sentinel-2 10 m, Landsat 8/9 15 m pan and 30 m; coarser than 12.5 m is
    Landsat's, which until session 40 was called Sentinel-2 too)."""
    if gsd < 0.45:
        return "WorldView-sim"
    if gsd < 1.5:
        return "SkySat-sim"
    if gsd < 8.0:
        return "PlanetScope-sim"
    if gsd < 12.5:
        return "Sentinel-2-sim"
    return "Landsat-sim"


def _pairs(value: Mapping[str, int] | Sequence[tuple[str, int]] | None) -> Any:
    if value is None:
        return None
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), int(v)) for k, v in items))


#: The lowest sun a scene is drawn under (degrees above the horizon).
MIN_SUN_ELEVATION = 2.0


@dataclass(frozen=True)
class SceneParams:
    """Everything that determines one rendered scene.

    Geometry: ``gsd`` (m/px), ``size_px`` (width, height), ``center_lonlat``.
    Cars: ``n_cars`` drawn with a random class mix, or exact ``cars_by_class``
    (mapping accepted, stored as sorted pairs); ``covered_fraction`` of open cars
    (flat, gondola) carry tarpaulins. Conditions: sun, ``season`` and ``snow``
    (0..1 ground cover), ``haze`` (0..1), ``cloud_cover`` (scene fraction) with
    ``thin_cloud`` (share of cloud that is thin), ``off_nadir``/``view_azimuth``
    (deg), ``misregistration_m`` (dx, dy metres), ``coverage`` (fraction of the
    scene with data), sensor effects ``noise`` (DN sigma), ``blur`` (px sigma),
    ``jpeg_quality`` (None = no compression) and ``colour_cast`` (RGB gains).
    ``layout_seed`` fixes the yard independently of ``seed`` (a site over time);
    ``n_tracks``, ``yard_angle`` (deg from east) and ``yard_length_m`` shape it;
    ``car_extent_m`` (width, height around the centre) limits where cars stand.
    """

    seed: int = 0
    gsd: float = 0.5
    size_px: tuple[int, int] = (1024, 1024)
    center_lonlat: tuple[float, float] = (130.6081, 42.4214)
    n_cars: int = 40
    cars_by_class: Mapping[str, int] | tuple[tuple[str, int], ...] | None = None
    covered_fraction: float = 0.3
    #: Share of the hoppers that are not under a tarpaulin drawn as *covered hoppers*
    #: (grain, cement, fertiliser cars: a roof with a row of hatches, not a tarpaulin, so
    #: not ``covered``); the rest are open ore hoppers. 0 (the default): none, and no
    #: random number is drawn for it, so scenes are those drawn before the option.
    roofed_hoppers: float = 0.0
    season: str = "summer"
    snow: float = 0.0
    sun_elevation: float = 45.0
    sun_azimuth: float = 150.0
    haze: float = 0.0
    cloud_cover: float = 0.0
    thin_cloud: float = 0.3
    off_nadir: float = 0.0
    view_azimuth: float = 90.0
    misregistration_m: tuple[float, float] = (0.0, 0.0)
    coverage: float = 1.0
    style: str = "temperate"
    paint: str = "rzd"
    noise: float = 2.0
    blur: float = 0.5
    jpeg_quality: int | None = None
    colour_cast: tuple[float, float, float] = (1.0, 1.0, 1.0)
    date: datetime | None = None
    distractors: bool = True
    layout_seed: int | None = None
    n_tracks: int | None = None
    yard_angle: float | None = None
    yard_length_m: float | None = None
    car_extent_m: tuple[float, float] | None = None
    sensor: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cars_by_class", _pairs(self.cars_by_class))
        object.__setattr__(self, "size_px", (int(self.size_px[0]), int(self.size_px[1])))
        check_gsd(self.gsd)
        w, h = self.size_px
        if not (8 <= w <= 20000 and 8 <= h <= 20000):
            raise ConfigError(f"size_px {self.size_px} is out of range: use 8 to 20000 px a side.")
        if self.style not in STYLES:
            raise ConfigError(f"unknown style {self.style!r}: use one of {sorted(STYLES)}.")
        if self.paint not in PAINTS:
            raise ConfigError(f"unknown paint {self.paint!r}: use one of {sorted(PAINTS)}.")
        if self.season not in SEASONS:
            raise ConfigError(f"unknown season {self.season!r}: use one of {list(SEASONS)}.")
        for cls, _ in self.class_counts() or {}:
            if cls not in SIM_CLASSES:
                raise ConfigError(f"unknown car class {cls!r}: use one of {list(SIM_CLASSES)}.")
        if not MIN_SUN_ELEVATION <= self.sun_elevation <= 90.0:
            raise ConfigError(f"sun_elevation {self.sun_elevation} must be within 2..90 degrees.")
        if not 0.0 <= self.off_nadir <= 45.0:
            raise ConfigError(f"off_nadir {self.off_nadir} must be within 0..45 degrees.")
        for name in (
            "haze",
            "cloud_cover",
            "thin_cloud",
            "snow",
            "covered_fraction",
            "roofed_hoppers",
        ):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"{name} {v} must be within 0..1.")
        if not 0.0 < self.coverage <= 1.0:
            raise ConfigError(f"coverage {self.coverage} must be within (0, 1].")
        if self.jpeg_quality is not None and not 5 <= self.jpeg_quality <= 100:
            raise ConfigError(f"jpeg_quality {self.jpeg_quality} must be within 5..100 or None.")
        if self.n_cars < 0:
            raise ConfigError("n_cars must be >= 0.")
        for name in ("seed", "layout_seed"):
            v = getattr(self, name)
            if v is not None and v < 0:
                # numpy's seed sequences take no negative numbers: say so here, not as a
                # ValueError from deep inside the render.
                raise ConfigError(f"{name} {v} must be 0 or more.")

    def class_counts(self) -> tuple[tuple[str, int], ...] | None:
        """Exact counts by class when given (sorted pairs), else None."""
        v = self.cars_by_class
        return v if isinstance(v, tuple) else None

    @property
    def sensor_name(self) -> str:
        """``sensor``, else the sensor typical of ``gsd`` (:func:`sensor_for_gsd`)."""
        return self.sensor or sensor_for_gsd(self.gsd)

    @property
    def acquired(self) -> datetime:
        """Acquisition time (UTC); a fixed date when none was given."""
        return self.date or datetime(2024, 6, 17, 2, 0, tzinfo=UTC)

    def at(self, when: datetime, *, season: str | None = None) -> SceneParams:
        """A copy acquired at ``when`` (aware, any zone): the date, and the sun's
        elevation and azimuth there and then at :attr:`center_lonlat` (so shadows and the
        STAC item's ``view:sun_*`` agree with the date), and the season of that day at
        that latitude unless ``season`` is given.

        Raises :class:`ConfigError` when the sun is less than 2 degrees above the horizon
        there and then: optical satellites image in daylight.
        """
        from railwatch.sim.sun import season_of, solar_position

        if when.tzinfo is None:
            raise ConfigError(f"acquisition time {when.isoformat()} has no time zone: give one.")
        utc = when.astimezone(UTC)
        lon, lat = self.center_lonlat
        # the day there (its nominal zone), not in Greenwich: 10:30 on 1 March at 175 E is
        # 29 February in UTC, summer; autumn there
        local_day = (utc + timedelta(hours=round(lon / 15.0))).date()
        elevation, azimuth = solar_position(utc, lon, lat)
        if elevation < MIN_SUN_ELEVATION:
            where = "below" if elevation < 0 else f"only {elevation:.1f} degrees above"
            raise ConfigError(
                f"at {utc.isoformat().replace('+00:00', 'Z')} the sun is {where} the horizon "
                f"at {lon:.4f},{lat:.4f} ({elevation:.1f} degrees): optical satellites image "
                "in daylight. Give a daytime acquisition time (a date alone is local noon)."
            )
        return self.with_(
            date=utc,
            sun_elevation=round(elevation, 2),
            sun_azimuth=round(azimuth, 2),
            season=season if season is not None else season_of(local_day, lat),
        )

    def with_(self, **changes: Any) -> SceneParams:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field."""
        d = asdict(self)
        d["date"] = self.acquired.isoformat() if self.date else None
        d["cars_by_class"] = dict(self.class_counts() or ()) or None
        return d

    def digest(self) -> str:
        """Stable hash of the parameters (and the simulator version) for caching."""
        from railwatch.sim import SIM_VERSION

        text = json.dumps({"v": SIM_VERSION, **self.to_dict()}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def random_params(
    seed: int,
    gsd: float | None = None,
    styles: Sequence[str] | None = None,
    *,
    paints: Sequence[str] | None = None,
    size_px: tuple[int, int] | None = None,
) -> SceneParams:
    """Draw every scene parameter from ``seed``.

    ``styles``/``paints`` are allow-lists of family names (default: all), so training
    and validation can use disjoint families. ``gsd`` fixes the resolution (default:
    drawn from 0.3–1.2 m, mostly around 0.5 m).
    """
    allowed = list(styles) if styles else sorted(STYLES)
    allowed_paints = list(paints) if paints else sorted(PAINTS)
    for s in allowed:
        if s not in STYLES:
            raise ConfigError(f"unknown style {s!r}: use some of {sorted(STYLES)}.")
    for p in allowed_paints:
        if p not in PAINTS:
            raise ConfigError(f"unknown paint {p!r}: use some of {sorted(PAINTS)}.")
    if seed < 0:
        raise ConfigError(f"seed {seed} must be 0 or more.")
    rng = np.random.default_rng([seed, 7001])
    style = str(rng.choice(allowed))
    paint = str(rng.choice(allowed_paints))
    if gsd is None:
        gsd = float(rng.choice([0.3, 0.4, 0.5, 0.5, 0.5, 0.6, 0.8, 1.0]))
    check_gsd(gsd)
    season = str(rng.choice(SEASONS))
    if style == "winter":
        season = "winter"
    elif style == "arid" and season == "winter":
        season = "autumn"
    snow = 0.0
    if season == "winter" and rng.random() < (0.8 if style == "winter" else 0.4):
        snow = float(rng.uniform(0.3, 1.0))
    month = {"spring": 4, "summer": 7, "autumn": 10, "winter": 1}[season]
    max_elev = {"spring": 55.0, "summer": 68.0, "autumn": 40.0, "winter": 28.0}[season]
    elev = float(rng.uniform(max(12.0, max_elev - 30.0), max_elev))
    cloud = float(rng.choice([0.0, 0.0, 0.0, rng.uniform(0.02, 0.3), rng.uniform(0.3, 0.9)]))
    haze = float(
        rng.choice([0.0, rng.uniform(0.0, 0.25), rng.uniform(0.0, 0.25), rng.uniform(0.2, 0.6)])
    )
    if size_px is None:
        side = int(np.clip(round(600 / gsd), 400, 1600))
        size_px = (side, side)
    n_cars = int(rng.integers(0, 180 if gsd < 1.5 else 120))
    jpeg = None if rng.random() < 0.5 else int(rng.integers(45, 95))
    cast = tuple(float(c) for c in 1.0 + rng.normal(0.0, 0.04, 3))
    return SceneParams(
        seed=int(seed),
        gsd=float(gsd),
        size_px=size_px,
        center_lonlat=(float(rng.uniform(-120, 140)), float(rng.uniform(-40, 60))),
        n_cars=n_cars,
        covered_fraction=float(rng.uniform(0.0, 0.9)),
        season=season,
        snow=snow,
        sun_elevation=elev,
        sun_azimuth=float(rng.uniform(110.0, 250.0)),
        haze=haze,
        cloud_cover=cloud,
        thin_cloud=float(rng.uniform(0.0, 1.0)),
        off_nadir=float(rng.choice([0.0, rng.uniform(0, 12), rng.uniform(0, 25)])),
        view_azimuth=float(rng.uniform(0, 360)),
        misregistration_m=(float(rng.normal(0, 2)), float(rng.normal(0, 2))),
        style=style,
        paint=paint,
        noise=float(rng.uniform(0.5, 5.0)),
        blur=float(rng.uniform(0.3, 1.1)),
        jpeg_quality=jpeg,
        colour_cast=(cast[0], cast[1], cast[2]),
        date=datetime(2020 + int(rng.integers(0, 5)), month, 15, 2, 30, tzinfo=UTC),
        distractors=bool(rng.random() < 0.9),
        yard_angle=float(rng.uniform(0, 180)),
    )
