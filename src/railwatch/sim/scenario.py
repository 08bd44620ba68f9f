"""Scenarios: one site over time (AOI, irregular revisits, cars and conditions per
date, dated events), the built-in ``tumangang`` case, and cached rendering."""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pyproj import Transformer
from shapely.geometry import MultiLineString, Polygon

from railwatch.errors import ConfigError, NotFoundError
from railwatch.rails import CAR_WIDTH_M
from railwatch.settings import Settings
from railwatch.sim import conditions as cond
from railwatch.sim.io import (
    ScenePaths,
    prepare_out_dir,
    remove_stale_temporaries,
    replacing_file,
    scene_paths,
    write_scene,
)
from railwatch.sim.params import STYLES, SceneParams, sensor_for_gsd
from railwatch.sim.render import ground, shift_pixels
from railwatch.sim.scene import (
    GROUND_STREAM,
    render_scene,
    scene_atmosphere,
    scene_coverage,
    scene_grid,
    scene_yard,
    supersampling,
)
from railwatch.sim.sun import season_of, solar_position


@dataclass(frozen=True)
class Visit:
    """One acquisition of the site: when, what stands there, and the conditions."""

    when: datetime  # UTC
    cars: tuple[tuple[str, int], ...]
    covered_fraction: float
    overrides: tuple[tuple[str, Any], ...] = ()  # SceneParams fields for this date
    usable_expected: bool = True
    reason: str = ""  # why it is expected unusable ("cloud", "haze", "partial coverage", "snow")
    #: The clear shares (quality mask code 0) of the AOI and of the corridor along its
    #: tracks in this visit's quality mask, as the product measures them (a car-wide
    #: corridor; :func:`clear_shares`); None where not measured: a visit drawn unusable
    #: (thick cloud, heavy haze or snow, partial coverage) is judged by what was drawn.
    #: A usable visit whose tracks are not all clear is counted on the clear part only.
    site_clear: float | None = None
    tracks_clear: float | None = None

    @property
    def cars_by_class(self) -> dict[str, int]:
        return dict(self.cars)

    @property
    def total(self) -> int:
        return sum(n for _, n in self.cars)

    @property
    def gsd(self) -> float:
        return float(dict(self.overrides).get("gsd", 0.5))


@dataclass(frozen=True)
class Scenario:
    """A site over time. ``base`` holds the static scene parameters (centre, yard
    layout seed, style); each :class:`Visit` overrides the date-dependent ones."""

    name: str
    aoi: Polygon  # WGS84 lon/lat
    events: tuple[tuple[date, str], ...]
    visits: tuple[Visit, ...]
    base: SceneParams
    extent_m: tuple[float, float]
    description: str = ""
    seed: int = 0
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def params(self, i: int) -> SceneParams:
        """Scene parameters of visit ``i``."""
        v = self.visits[i]
        gsd = v.gsd
        size = (round(self.extent_m[0] / gsd), round(self.extent_m[1] / gsd))
        changes: dict[str, Any] = {
            "seed": self.seed * 100_003 + i,
            "size_px": size,
            "date": v.when,
            "cars_by_class": v.cars,
            "covered_fraction": v.covered_fraction,
            **dict(v.overrides),
        }
        changes.setdefault("sensor", sensor_for_gsd(gsd))
        return self.base.with_(**changes)

    def scene_name(self, i: int) -> str:
        v = self.visits[i]
        sensor = self.params(i).sensor_name.split("-")[0].lower()
        return f"{self.name}_{v.when:%Y%m%dT%H%M%S}_{sensor}"

    def truth_counts(self) -> list[tuple[datetime, dict[str, int]]]:
        """Cars by class at each visit, as the scenario defines them."""
        return [(v.when, v.cars_by_class) for v in self.visits]

    def tracks_wgs84(self) -> MultiLineString:
        """Track centrelines of the site (WGS84), e.g. for ``SiteSpec.tracks``."""
        p = self.base.with_(
            size_px=(round(self.extent_m[0] / 0.5), round(self.extent_m[1] / 0.5)), gsd=0.5
        )
        crs, t = scene_grid(p)
        origin = np.array([t.c + self.extent_m[0] / 2.0, t.f - self.extent_m[1] / 2.0])
        to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lines = []
        for track in scene_yard(p).tracks:
            pts = track.line + origin
            lon, lat = to_ll.transform(pts[:, 0], pts[:, 1])
            lines.append(np.column_stack([lon, lat]))
        clipped = MultiLineString(lines).intersection(self.aoi.buffer(0.002))
        parts = getattr(clipped, "geoms", [clipped])
        return MultiLineString([g for g in parts if g.geom_type == "LineString" and not g.is_empty])


# ---------------------------------------------------------------------------------
# Sun position


# ---------------------------------------------------------------------------------
# The Tumangang case

TUMANGANG_CENTER = (130.6081, 42.4214)
SUMMIT = date(2023, 9, 13)
RISE_START = date(2023, 9, 18)
RISE_PEAK = date(2023, 10, 5)
PEAK = date(2024, 6, 17)
#: Counts reported for 2024-06-17 (Beyond Parallel): 175 ore cars, 66 tank, 14 box, 6 loco.
PEAK_CARS = {"hopper": 110, "gondola": 65, "tank": 66, "boxcar": 14, "locomotive": 6}


def _aoi(center: tuple[float, float], size_m: tuple[float, float]) -> Polygon:
    lon, lat = center
    from railwatch.sim.scene import utm_epsg

    crs = utm_epsg(lon, lat)
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    e, n = fwd.transform(lon, lat)
    hw, hh = size_m[0] / 2.0, size_m[1] / 2.0
    xs = [e - hw, e + hw, e + hw, e - hw, e - hw]
    ys = [n - hh, n - hh, n + hh, n + hh, n - hh]
    lo, la = inv.transform(xs, ys)
    return Polygon(list(zip(lo, la, strict=True)))


def _mix(rng: np.random.Generator, n: int, weights: Mapping[str, float]) -> dict[str, int]:
    classes = list(weights)
    w = np.array([weights[c] for c in classes], float)
    w = w / w.sum()
    drawn = rng.multinomial(n, w)
    return {c: int(k) for c, k in zip(classes, drawn, strict=True) if k > 0}


def _cars_on(rng: np.random.Generator, d: date) -> tuple[dict[str, int], float]:
    """Cars by class and covered fraction on day ``d`` of the Tumangang story."""
    if d == PEAK:
        return dict(PEAK_CARS), 0.05
    if d < RISE_START:
        doy = d.timetuple().tm_yday
        seasonal = 9.0 + 5.0 * math.sin(2 * math.pi * (doy - 100) / 365.25)
        yearly = {2019: 1.0, 2020: -3.0, 2021: -4.0, 2022: -1.0, 2023: 1.5}.get(d.year, 0.0)
        n = int(np.clip(round(seasonal + yearly + rng.normal(0, 3)), 0, 20))
        if rng.random() < 0.06:
            n = 0
        mix = {"gondola": 0.3, "flat": 0.2, "boxcar": 0.2, "tank": 0.15, "hopper": 0.1}
        cars = _mix(rng, max(0, n - (1 if n > 6 else 0)), mix)
        if n > 6:
            cars["locomotive"] = 1
        return cars, 0.15
    if d <= RISE_PEAK:
        frac = (d - RISE_START).days / (RISE_PEAK - RISE_START).days
        n = 73 if d == RISE_PEAK else round(22 + (73 - 22) * frac + rng.normal(0, 2))
        locos = 3 if n > 40 else 2
        cars = _mix(rng, n - locos, {"flat": 0.5, "gondola": 0.38, "boxcar": 0.07, "tank": 0.05})
        cars["locomotive"] = locos
        return cars, 0.85
    total_peak = sum(PEAK_CARS.values())
    if d < PEAK:
        p = (d - RISE_PEAK).days / (PEAK - RISE_PEAK).days
        level = 73 + (total_peak - 73) * p**0.8
        n = int(np.clip(round(level * rng.uniform(0.88, 1.08)), 65, total_peak))
    else:
        p = 1.0
        n = round(total_peak * rng.uniform(0.8, 1.0))
    locos = round(3 + 3 * p)
    weights = {
        "hopper": 0.15 + 0.27 * p,
        "gondola": 0.30 - 0.05 * p,
        "flat": 0.40 * (1 - p) + 0.01,
        "tank": 0.08 + 0.17 * p,
        "boxcar": 0.07 - 0.02 * p,
    }
    cars = _mix(rng, n - locos, weights)
    cars["locomotive"] = locos
    return cars, 0.8 * (1 - p) + 0.05


def _visit_dates(rng: np.random.Generator) -> list[datetime]:
    key = {RISE_START, RISE_PEAK, PEAK, date(2023, 9, 9), date(2023, 9, 25)}
    days: set[date] = set(key)
    y, m = 2018, 4
    while (y, m) <= (2024, 7):
        k = int(rng.choice([2, 2, 3, 3, 3, 4]))
        first = date(y, m, 1)
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        span = (nxt - first).days
        for off in rng.choice(span, size=k, replace=False):
            days.add(first + timedelta(days=int(off)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    out = []
    for d in sorted(days):
        minute = int(rng.integers(60, 160))  # 10:00-11:40 local (UTC+9)
        out.append(datetime(d.year, d.month, d.day, minute // 60, minute % 60, tzinfo=UTC))
    return out


def tumangang(seed: int = 2023) -> Scenario:
    """The Tumangang rail facility, 2018-04 to 2024-07 (see DOMAIN.md and issue 3).

    Mostly 0.5 m (SkySat-like), some 0.3 m and 3 m (PlanetScope-like) images, 2-4 a
    month at irregular dates, about a quarter unusable (cloud, heavy haze, partial
    coverage, snow). At most 20 cars before the 2023-09-13 summit; a steady rise
    from 2023-09-18 to 73 cars (flats and gondolas under tarps) on 2023-10-05; then
    a sustained higher level up to 175 ore cars, 66 tank cars, 14 boxcars and
    6 locomotives on 2024-06-17.

    A visit drawn usable (at most 4 % cloud, light haze, light snow) is expected usable
    only if the product's rule holds on its quality mask: at least
    :data:`USABLE_THRESHOLD` of the AOI and of the corridor along its tracks clear
    (:func:`judged`; 2026-12-06, session 41: a small cloud over the yard left two
    visits of seed 2023 usable in the truth that the product rejects). Computed once
    per seed in a process (a few seconds: each such visit's mask is computed).
    """
    return _tumangang(seed)


@functools.lru_cache(maxsize=16)
def _tumangang(seed: int) -> Scenario:
    rng = np.random.default_rng(seed)
    extent = (900.0, 540.0)
    center = TUMANGANG_CENTER
    lon, lat = center
    base = SceneParams(
        seed=0,
        gsd=0.5,
        size_px=(1800, 1080),
        center_lonlat=center,
        style="continental",
        paint="rzd",
        layout_seed=4214,
        n_tracks=15,
        yard_angle=-14.0,
        yard_length_m=840.0,
        car_extent_m=(800.0, 450.0),
        distractors=True,
        noise=2.0,
        blur=0.55,
    )
    key_days = {RISE_START, RISE_PEAK, PEAK, date(2023, 9, 9), date(2023, 9, 25)}
    visits: list[Visit] = []
    for when in _visit_dates(rng):
        d = when.date()
        cars, covered = _cars_on(rng, d)
        elev, az = solar_position(when, lon, lat)
        season = season_of(d, lat)
        r = rng.random()
        gsd = 0.5 if d in key_days else (0.3 if r < 0.06 else (3.0 if r < 0.26 else 0.5))
        o: dict[str, Any] = {
            "gsd": gsd,
            "sun_elevation": round(max(elev, 12.0), 2),
            "sun_azimuth": round(az, 2),
            "season": season,
            "off_nadir": round(float(rng.uniform(0, 4 if gsd >= 3 else 22)), 2),
            "view_azimuth": round(float(rng.uniform(0, 360)), 1),
            "misregistration_m": tuple(
                round(float(v), 2) for v in np.clip(rng.normal(0, 2.5, 2), -6, 6)
            ),
            "haze": round(float(rng.uniform(0.0, 0.15)), 3),
            "cloud_cover": round(float(rng.choice([0.0, 0.0, rng.uniform(0.0, 0.04)])), 3),
            "jpeg_quality": None if gsd >= 3 else int(rng.integers(70, 95)),
            "noise": round(float(rng.uniform(1.0, 3.5)), 2),
            "colour_cast": tuple(round(float(c), 3) for c in 1.0 + rng.normal(0, 0.03, 3)),
        }
        usable, reason = True, ""
        if d in key_days:
            o["cloud_cover"], o["haze"] = 0.0, round(float(rng.uniform(0.0, 0.08)), 3)
        if season == "winter" and rng.random() < 0.55:
            o["snow"] = round(float(rng.uniform(0.02, 0.1)), 3)  # light patches
        if d not in key_days and rng.random() < 0.25:
            usable = False
            reason = str(rng.choice(["cloud", "cloud", "haze", "partial coverage"]))
            if season == "winter" and rng.random() < 0.4:
                reason = "snow"
            if reason == "cloud":
                o["cloud_cover"] = round(float(rng.uniform(0.5, 0.95)), 3)
                o["thin_cloud"] = round(float(rng.uniform(0.0, 0.4)), 3)
            elif reason == "haze":
                o["haze"] = round(float(rng.uniform(0.55, 0.8)), 3)
            elif reason == "partial coverage":
                o["coverage"] = round(float(rng.uniform(0.25, 0.55)), 3)
            else:
                o["snow"] = round(float(rng.uniform(0.6, 1.0)), 3)
        visits.append(
            Visit(
                when=when,
                cars=tuple(sorted(cars.items())),
                covered_fraction=round(covered, 3),
                overrides=tuple(sorted(o.items())),
                usable_expected=usable,
                reason=reason,
            )
        )
    drawn = Scenario(
        name="tumangang",
        aoi=_aoi(center, (820.0, 470.0)),
        events=((SUMMIT, "Kim–Putin summit"),),
        visits=tuple(visits),
        base=base,
        extent_m=extent,
        description=(
            "Tumangang rail facility (DPRK–Russia border), simulated after the reported "
            "counts: <=20 cars for five years, ~73 on 2023-10-05, ~261 on 2024-06-17."
        ),
        seed=seed,
    )
    return judged(drawn)


# ---------------------------------------------------------------------------------
# The product's usability rule on the simulator's own quality mask

#: The clear share of the site, and of the corridor along its tracks, that an image
#: needs to be counted: the product's default (``Settings.usable_threshold``, which
#: :func:`railwatch.imagery.quality.assess_quality` applies to both).
USABLE_THRESHOLD = float(Settings.model_fields["usable_threshold"].default)

#: What hides a pixel of the quality mask, by its code, in a visit's ``reason``.
_HIDDEN_BY = {
    cond.MASK_CLOUD: "cloud",
    cond.MASK_SHADOW: "cloud",
    cond.MASK_HAZE: "haze",
    cond.MASK_SNOW: "snow",
    cond.MASK_NODATA: "partial coverage",
}


def quality_mask(p: SceneParams) -> np.ndarray:
    """The quality mask :func:`~railwatch.sim.scene.render_scene` writes for ``p``
    (codes of :mod:`railwatch.sim.conditions`), without drawing the scene: the
    atmosphere, the snow on the ground and the strip's coverage from the same seeds
    (tests/test_tumangang_truth_s41.py checks it against rendered scenes)."""
    w, h = p.size_px
    atm = scene_atmosphere(p)
    snow = None
    if p.snow > 0:
        ss = supersampling(p)
        gi = p.gsd / ss
        layout = p.layout_seed if p.layout_seed is not None else p.seed
        _, snow_i = ground(
            np.random.default_rng([layout, GROUND_STREAM]), (h * ss, w * ss), gi, STYLES[p.style], p
        )
        dx, dy = p.misregistration_m
        snow_i = shift_pixels(snow_i, round(dx / gi), round(-dy / gi))
        snow = cv2.resize(snow_i, (w, h), interpolation=cv2.INTER_AREA) if ss > 1 else snow_i
    return cond.quality_mask(atm, snow, scene_coverage(p))


def _places(sc: Scenario, p: SceneParams) -> tuple[np.ndarray, np.ndarray]:
    """Boolean maps on the grid of a visit of ``sc`` with ``p``: inside the AOI, and
    on the corridor along the site's tracks inside it (a car wide, as
    :func:`railwatch.imagery.places.track_places` draws it: all pixels touched)."""
    import shapely
    from rasterio.features import rasterize

    crs, transform = scene_grid(p)
    to = Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    def moved(g: Any) -> Any:
        return shapely.transform(g, lambda xy: np.column_stack(to.transform(xy[:, 0], xy[:, 1])))

    shape = (p.size_px[1], p.size_px[0])
    inside = rasterize([(moved(sc.aoi), 1)], out_shape=shape, transform=transform, dtype="uint8")
    corridor = moved(sc.tracks_wgs84()).buffer(CAR_WIDTH_M / 2, cap_style="flat")
    on = rasterize(
        [(corridor, 1)], out_shape=shape, transform=transform, all_touched=True, dtype="uint8"
    )
    return inside.astype(bool), (on & inside).astype(bool)


def clear_shares(sc: Scenario, i: int) -> tuple[float, float]:
    """The clear shares (quality mask code 0) of the AOI and of the corridor along the
    tracks in visit ``i`` of ``sc``: what the product's quality step measures on its
    image (the site's tracks drawn as ``sc.tracks_wgs84()``)."""
    p = sc.params(i)
    return _shares(quality_mask(p), *_places(sc, p))[:2]


def _shares(mask: np.ndarray, inside: np.ndarray, on: np.ndarray) -> tuple[float, float, str]:
    """The clear shares of ``inside`` and ``on`` in ``mask``, and what hides most of
    the one of them that is less clear (a ``reason``)."""
    site, tracks = (
        np.count_nonzero(mask[m] == cond.MASK_CLEAR) / n if (n := np.count_nonzero(m)) else 0.0
        for m in (inside, on)
    )
    found = np.bincount(mask[on if tracks <= site else inside], minlength=256)
    hidden = dict.fromkeys(_HIDDEN_BY.values(), 0)
    for code, word in _HIDDEN_BY.items():
        hidden[word] += int(found[code])
    return float(site), float(tracks), max(hidden, key=lambda k: hidden[k])


def judged(sc: Scenario) -> Scenario:
    """``sc`` with each visit drawn usable judged by the product's rule on its quality
    mask: at least :data:`USABLE_THRESHOLD` of the AOI and of the corridor along the
    tracks clear, else expected unusable, its ``reason`` what hides most of them; its
    ``site_clear`` and ``tracks_clear`` set. Visits drawn unusable are kept as they
    are (their thick cloud, heavy haze or snow, or partial strip, hides far more)."""
    places: dict[tuple[float, tuple[int, int]], tuple[np.ndarray, np.ndarray]] = {}
    visits = list(sc.visits)
    for i, v in enumerate(visits):
        if not v.usable_expected:
            continue
        p = sc.params(i)
        key = (p.gsd, p.size_px)
        if key not in places:
            places[key] = _places(sc, p)
        site, tracks, what = _shares(quality_mask(p), *places[key])
        usable = site >= USABLE_THRESHOLD and tracks >= USABLE_THRESHOLD
        visits[i] = replace(
            v,
            usable_expected=usable,
            reason="" if usable else what,
            site_clear=round(site, 4),
            tracks_clear=round(tracks, 4),
        )
    return replace(sc, visits=tuple(visits))


SCENARIOS: dict[str, Callable[[], Scenario]] = {"tumangang": tumangang}


def get_scenario(name: str) -> Scenario:
    """A built-in scenario by name."""
    try:
        return SCENARIOS[name]()
    except KeyError as err:
        raise NotFoundError(f"unknown scenario {name!r}: use one of {sorted(SCENARIOS)}.") from err


# ---------------------------------------------------------------------------------
# Rendering with a cache


def _cached(paths: ScenePaths, digest: str) -> bool:
    if not all(p.exists() for p in (paths.image, paths.mask, paths.truth, paths.stac)):
        return False
    try:
        props = json.loads(paths.stac.read_text()).get("properties", {})
    except (OSError, ValueError):
        return False
    return bool(props.get("railwatch:params_hash") == digest)


def _render_one(args: tuple[SceneParams, str, str]) -> ScenePaths:
    params, out_dir, name = args
    return write_scene(render_scene(params), out_dir, name, preview=False)


def render_scenario(
    scenario: Scenario,
    out_dir: str | Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> list[ScenePaths]:
    """Render every visit of ``scenario`` into ``out_dir`` (one file set per visit),
    skipping scenes already there with the same parameters. ``progress(done, total)``
    is called after each scene; ``workers`` > 1 renders in parallel processes (at most
    one per CPU and per scene to render). A folder that holds every scene already may be
    read-only; otherwise it must be writable, which is checked before anything is
    rendered, and the temporaries of a run killed before it could clean up are removed."""
    out = Path(out_dir)
    if workers < 1:
        raise ConfigError(f"workers {workers}: use 1 or more processes.")
    total = len(scenario.visits)
    result: list[ScenePaths | None] = [None] * total
    todo: list[tuple[int, tuple[SceneParams, str, str]]] = []
    done = 0
    for i in range(total):
        params = scenario.params(i)
        name = scenario.scene_name(i)
        paths = scene_paths(out, name, preview=False)
        if _cached(paths, params.digest()):
            result[i] = paths
            done += 1
            if progress:
                progress(done, total)
        else:
            todo.append((i, (params, str(out), name)))
    if todo:
        prepare_out_dir(out)
        remove_stale_temporaries(out)
    # Each process holds a scene's arrays (up to ~60 bytes a pixel): more processes than
    # CPUs are no faster, and more than scenes start for nothing.
    workers = min(workers, len(todo), os.cpu_count() or 1)
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            rendered = pool.map(_render_one, [t for _, t in todo])
            for (i, _), paths in zip(todo, rendered, strict=True):
                result[i] = paths
                done += 1
                if progress:
                    progress(done, total)
    else:
        for i, job in todo:
            result[i] = _render_one(job)
            done += 1
            if progress:
                progress(done, total)
    if todo:
        remove_stale_temporaries(out)  # those a minute old only now (a re-run at once)
    manifest = {
        "scenario": scenario.name,
        "events": [[d.isoformat(), label] for d, label in scenario.events],
        "aoi": json.loads(json.dumps(scenario.aoi.__geo_interface__)),
        "scenes": [
            {
                "name": scenario.scene_name(i),
                "datetime": v.when.isoformat(),
                "gsd": v.gsd,
                "cars": v.cars_by_class,
                "total": v.total,
                "usable_expected": v.usable_expected,
                "reason": v.reason,
                "site_clear": v.site_clear,
                "tracks_clear": v.tracks_clear,
            }
            for i, v in enumerate(scenario.visits)
        ],
    }
    text = json.dumps(manifest, indent=1)
    target = out / f"{scenario.name}.scenario.json"
    try:
        unchanged = target.read_text() == text
    except (OSError, UnicodeDecodeError):
        unchanged = False
    if not unchanged:  # a complete cache on a read-only disk is read as it is
        prepare_out_dir(out)
        with replacing_file(target) as tmp:
            tmp.write_text(text)
    return [p for p in result if p is not None]
