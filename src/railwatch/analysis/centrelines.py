"""Whether a site's track centrelines lie on its tracks, judged from the cars detected
on a fine image (2026-12-06, session 41).

A 3 m count is the occupied length along the site's centrelines, and it needs them
within about 0.5 m of the track's middle (docs/detection.md, "How accurate the
centrelines must be"). A 3 m image cannot locate a line, but the cars the default
detector finds on an image of 1 m or finer can: railcars stand on the middle of their
track, so per line the median signed across-track distance of the car centres within
half a track spacing (:data:`REACH_M`) is how far the line lies from its track.

Car roofs lean away from the satellite by their height x tan(off-nadir): where the
image says its off-nadir angle and azimuth (STAC ``view:off_nadir`` /
``view:azimuth``, kept as the scene's ``off_nadir`` / ``view_azimuth``) the centres are
moved back by :data:`LEAN_HEIGHT_M` of lean; an image more than :data:`MAX_OFF_NADIR`
off nadir without its azimuth is not used (:func:`usable_view`).

Core module (the analysis layer: it reads storage and imagery), no CLI or web."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPoint, Point

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "FINE_GSD",
    "LEAN_HEIGHT_M",
    "MAX_OFF_NADIR",
    "MAX_SCENES",
    "MIN_CARS",
    "OFF_M",
    "REACH_M",
    "SHIFT_MIN_LINES",
    "LineOffset",
    "OffsetCheck",
    "SiteCheck",
    "centreline_offsets",
    "check_dict",
    "check_site",
    "check_warnings",
    "compass",
    "found_lines_next_step",
    "image_shift",
    "lean_shift",
    "usable_view",
]

#: Half a track spacing (~4.75 m): a car centre further from a line belongs to another
#: track.
REACH_M = 2.4
#: Offset (m) above which a line is called off its track (at 1.5 m off, a third of the
#: track spacing, the 3 m count's median error doubles).
OFF_M = 1.5
#: Cars a line needs within :data:`REACH_M` before its offset is judged.
MIN_CARS = 5
#: Coarsest image (m per pixel) whose detected cars are used.
FINE_GSD = 1.0
#: Largest off-nadir angle (degrees) used without a known view azimuth.
MAX_OFF_NADIR = 10.0
#: Height (m) of the part of a car the detector sees whose lean is taken back: about
#: the middle of a car's side face to its roof (cars are 1.4-5 m tall above the rails,
#: which stand about 1 m above the ground).
LEAN_HEIGHT_M = 3.0
#: Share of a line's cars that, when they are also another line's, calls the two lines
#: one track.
SHARED_SHARE = 0.5


@dataclass(frozen=True)
class LineOffset:
    """One centreline: ``index`` (0-based, in the site's order), ``cars`` (car centres
    within :data:`REACH_M`), ``offset_m`` (median signed distance of those centres from
    the line, positive to the line's left as drawn; None with no car), ``toward`` (the
    compass direction from the line to its cars' middle, e.g. ``"NE"``; None with no
    car), ``off`` (``|offset_m|`` above :data:`OFF_M` with at least :data:`MIN_CARS`
    cars) and ``shares_with`` (indices of the lines that hold most of its cars too)."""

    index: int
    cars: int
    offset_m: float | None
    toward: str | None
    off: bool
    shares_with: tuple[int, ...] = ()
    #: the mean left normal (east, north) of the line where its cars stand; None with
    #: no car
    normal: tuple[float, float] | None = None


@dataclass(frozen=True)
class OffsetCheck:
    """Every line's :class:`LineOffset`, and the cars used."""

    lines: tuple[LineOffset, ...]
    cars: int

    @property
    def off(self) -> tuple[LineOffset, ...]:
        """The lines that look off their tracks."""
        return tuple(line for line in self.lines if line.off)

    @property
    def shared(self) -> tuple[LineOffset, ...]:
        """The lines that share most of their cars with another line."""
        return tuple(line for line in self.lines if line.shares_with)


def found_lines_next_step(site: str, *, tracks_given: bool) -> str:
    """What to do about a site's counts read along track lines found in the image itself
    (it had no track centrelines when they were counted), by whether the site has
    centrelines now (``tracks_given``): give them, or, given since, count those images
    again along them. The report, ``scene list``, ``scene show`` and ``analyze`` say it
    in these words (2026-12-07, session 49: they said to give the site its centrelines
    also once it had them, and nothing of the ``railwatch process`` run that uses them)."""
    if tracks_given:
        return (
            "the site has its centrelines now (given since): "
            f"`railwatch process {site}` counts those images again along them"
        )
    return (
        f"give the site its centrelines (`railwatch site edit {site} --tracks FILE`) and "
        "process it again"
    )


def compass(east: float, north: float) -> str:
    """The 8-point compass name of a direction given as (east, north)."""
    names = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
    bearing = math.degrees(math.atan2(east, north)) % 360.0
    return names[int((bearing + 22.5) // 45.0) % 8]


def usable_view(off_nadir: float | None, view_azimuth: float | None) -> bool:
    """Whether a scene's cars can be used: near nadir (or not said), or with the
    azimuth that lets the lean be taken back."""
    if off_nadir is None or not math.isfinite(off_nadir):
        return True
    return off_nadir <= MAX_OFF_NADIR or (view_azimuth is not None and math.isfinite(view_azimuth))


def lean_shift(
    off_nadir: float | None, view_azimuth: float | None, height_m: float = LEAN_HEIGHT_M
) -> tuple[float, float]:
    """How far (east, north; metres) a point ``height_m`` up appears moved in the
    image: ``height_m`` x tan(off-nadir) toward ``view_azimuth`` (STAC ``view:azimuth``,
    degrees clockwise from north, the way tall objects lean). (0, 0) when either is
    unknown."""
    if off_nadir is None or view_azimuth is None:
        return (0.0, 0.0)
    if not (math.isfinite(off_nadir) and math.isfinite(view_azimuth)):
        return (0.0, 0.0)
    d = height_m * math.tan(math.radians(off_nadir))
    az = math.radians(view_azimuth)
    return (d * math.sin(az), d * math.cos(az))


def _as_lines(lines: MultiLineString | Sequence[LineString]) -> list[LineString]:
    geoms = list(lines.geoms) if isinstance(lines, MultiLineString) else list(lines)
    return [g for g in geoms if isinstance(g, LineString) and len(g.coords) >= 2]


def centreline_offsets(
    lines: MultiLineString | Sequence[LineString],
    car_centres: Iterable[tuple[float, float]],
    *,
    reach_m: float = REACH_M,
    off_m: float = OFF_M,
    min_cars: int = MIN_CARS,
) -> OffsetCheck:
    """Per line (metres, x east and y north: a UTM CRS), how far its cars lie from it.

    ``car_centres``: the centres of the cars detected on one or more fine images, in
    the same CRS, each already moved back by its image's lean (:func:`lean_shift`).
    A car counts for every line within ``reach_m`` of it (a line drawn a whole track
    spacing off lies near the next track, and then shares its cars: ``shares_with``)."""
    geoms = _as_lines(lines)
    pts = [Point(float(x), float(y)) for x, y in car_centres]
    # every car's distance to a line in one vectorised call per line; only those within
    # reach are looked at one by one (thousands of cars by hundreds of lines on a big site)
    arr = np.asarray(pts, dtype=object)
    near: list[set[int]] = []
    out: list[tuple[int, int, float | None, str | None, bool, tuple[float, float] | None]] = []
    for i, line in enumerate(geoms):
        signed: list[float] = []
        away: list[tuple[float, float]] = []
        mine: set[int] = set()
        dists = shapely.distance(line, arr) if len(pts) else np.empty(0)
        for k in np.flatnonzero(dists <= reach_m).tolist():
            p, dist = pts[k], float(dists[k])
            at = line.project(p)
            a = line.interpolate(max(0.0, min(at, line.length - 0.5)))
            b = line.interpolate(min(line.length, max(at, 0.0) + 0.5))
            tx, ty = b.x - a.x, b.y - a.y
            norm = math.hypot(tx, ty)
            if norm == 0.0:
                continue
            # positive to the left of the line as drawn
            side = (tx * (p.y - a.y) - ty * (p.x - a.x)) / norm
            signed.append(dist if side >= 0 else -dist)
            # the left normal, for the direction the line should move
            away.append((-ty / norm, tx / norm))
            mine.add(k)
        near.append(mine)
        if not signed:
            out.append((i, 0, None, None, False, None))
            continue
        offset = float(np.median(signed))
        nx, ny = np.mean(np.asarray(away), axis=0)
        toward = compass(float(nx) * offset, float(ny) * offset) if offset else None
        off = len(signed) >= min_cars and abs(offset) > off_m
        out.append((i, len(signed), offset, toward, off, (float(nx), float(ny))))
    result = []
    for (i, n, found, toward, off, normal), mine in zip(out, near, strict=True):
        shares = tuple(
            j
            for j, theirs in enumerate(near)
            if j != i and len(mine) >= min_cars and len(mine & theirs) > SHARED_SHARE * len(mine)
        )
        result.append(LineOffset(i, n, found, toward, off, shares, normal))
    return OffsetCheck(tuple(result), len(pts))


#: Lines (with :data:`MIN_CARS` cars each) an image needs before its own shift is
#: measured and taken out (:func:`image_shift`): with fewer, a line's offset and the
#: image's misregistration cannot be told apart.
SHIFT_MIN_LINES = 3
#: Residual (m) beyond which a line weighs less in an image's shift (Huber).
_SHIFT_HUBER_M = 0.5


def image_shift(
    lines: MultiLineString | Sequence[LineString],
    car_centres: Iterable[tuple[float, float]],
    *,
    min_lines: int = SHIFT_MIN_LINES,
) -> tuple[float, float]:
    """The shift (east, north; metres) common to the lines' offsets on one image: the
    image's misregistration against the lines as the lines' across-track offsets show
    it (2026-12-06, session 43). Each line with :data:`MIN_CARS` cars gives one equation,
    its left normal . shift = its median offset; they are solved by least squares,
    reweighted three times (Huber, :data:`_SHIFT_HUBER_M`) so that a line drawn off its
    track weighs little, then solved again without the lines left more than twice that
    from the solution (where ``min_lines`` remain); a small ridge keeps the shift along
    parallel tracks, where it cannot be seen, at none. (0, 0) with fewer than
    ``min_lines`` such lines. Commercial images are misregistered by metres (the demo's
    visits by N(0, 2.5 m) per axis): without this, `railwatch process` on the demo's
    database called six of its correctly drawn lines 1.6-2.2 m off (the cars' true
    positions on those images were as far from them). What the check no longer sees: all
    of a site's lines off by the same amount, which on three images cannot be told from
    their misregistration."""
    check = centreline_offsets(lines, car_centres)
    rows = [
        (line.normal, line.offset_m)
        for line in check.lines
        if line.cars >= MIN_CARS
        and line.normal is not None
        and line.offset_m is not None
        and not line.shares_with
    ]
    if len(rows) < max(min_lines, 1):
        return (0.0, 0.0)
    a = np.asarray([n for n, _ in rows], dtype=np.float64)
    d = np.asarray([o for _, o in rows], dtype=np.float64)
    weights = np.ones(len(rows))
    ridge = 0.05 * len(rows)
    shift: np.ndarray = np.zeros(2)
    for _ in range(4):
        aw = a * weights[:, None]
        shift = np.linalg.solve(aw.T @ a + ridge * np.eye(2), aw.T @ d)
        resid = np.abs(a @ shift - d)
        weights = np.minimum(1.0, _SHIFT_HUBER_M / np.maximum(resid, 1e-9))
    # then without the lines that stay far from it (drawn off), where enough remain
    keep = np.abs(a @ shift - d) <= 2 * _SHIFT_HUBER_M
    if min_lines <= int(keep.sum()) < len(rows):
        k = a[keep]
        shift = np.linalg.solve(k.T @ k + ridge * np.eye(2), k.T @ d[keep])
    return (float(shift[0]), float(shift[1]))


@dataclass(frozen=True)
class SiteCheck:
    """:func:`check_site`'s answer: the check, and the scenes whose cars it used."""

    site: str
    scene_ids: tuple[int, ...]
    check: OffsetCheck


#: Fine scenes pooled, latest first.
MAX_SCENES = 3


def check_site(session: Session, site: str) -> SiteCheck | None:
    """The centreline check of a stored site from its latest counted fine scenes (at
    most :data:`MAX_SCENES` usable processed scenes of :data:`FINE_GSD` or finer whose
    view allows it, :func:`usable_view`), their detected cars pooled, each moved back by
    its scene's lean. None where the site has no centrelines or no such scene."""
    from sqlalchemy import select

    from railwatch.imagery._geo import WGS84, project
    from railwatch.storage import repo
    from railwatch.storage.models import Detection, Scene

    s = repo.get_site(session, site)
    tracks = s.tracks
    if tracks is None or tracks.is_empty:
        return None
    lines = project(tracks, WGS84, s.utm_crs)
    geoms = [g for g in getattr(lines, "geoms", [lines]) if isinstance(g, LineString)]
    rows = session.scalars(
        select(Scene)
        .where(
            Scene.site_id == s.id,
            Scene.status == "processed",
            Scene.usable.is_(True),
            Scene.gsd <= FINE_GSD,
        )
        .order_by(Scene.acquired_at.desc(), Scene.id.desc())
    ).all()
    used: list[int] = []
    centres: list[tuple[float, float]] = []
    for sc in rows:
        meta = sc.meta or {}
        nadir, azimuth = _number(meta.get("off_nadir")), _number(meta.get("view_azimuth"))
        if not usable_view(nadir, azimuth):
            continue
        dets = session.scalars(select(Detection).where(Detection.scene_id == sc.id)).all()
        if not dets:
            continue
        east, north = lean_shift(nadir, azimuth)
        points = project(MultiPoint([d.geometry.centroid for d in dets]), WGS84, s.utm_crs)
        mine = [(p.x - east, p.y - north) for p in getattr(points, "geoms", [points])]
        # the image's own misregistration, common to every line, is not the lines' fault
        dx, dy = image_shift(geoms, mine)
        centres.extend((x - dx, y - dy) for x, y in mine)
        used.append(sc.id)
        if len(used) >= MAX_SCENES:
            break
    if not used:
        return None
    return SiteCheck(
        s.name,
        tuple(used),
        centreline_offsets(geoms, centres),
    )


def check_dict(check: SiteCheck | None) -> dict[str, object] | None:
    """A check as JSON (``railwatch process --json``'s ``centrelines``; ``site edit
    --json`` and the API's ``PATCH /api/sites/{site}`` since 2026-12-06, session 42): the
    scenes whose cars were used and, per line (``line``: 1-based, in the order of the
    site's tracks), the cars near it, their median offset (m, positive to the line's left
    as drawn), the compass direction from the line to them, whether it looks off its
    track, and the lines that share most of its cars. None for no check."""
    if check is None:
        return None
    return {
        "scene_ids": list(check.scene_ids),
        "cars": check.check.cars,
        "lines": [
            {
                "line": line.index + 1,
                "cars": line.cars,
                "offset_m": None if line.offset_m is None else round(line.offset_m, 2),
                "toward": line.toward,
                "off": line.off,
                "shares_cars_with": [j + 1 for j in line.shares_with],
            }
            for line in check.check.lines
        ],
    }


def check_warnings(check: SiteCheck | None) -> list[str]:
    """What an analyst is told of a check, plain text, one message a problem: each line
    whose cars stand more than :data:`OFF_M` from it (with at least :data:`MIN_CARS` of
    them), then each pair of lines sharing most of their cars (one drawn a whole track
    spacing off, on the next track), each with what to do. Empty where no line looks
    off, or for no check. ``railwatch process`` prints them after a run, ``site edit
    --tracks`` after the edit and the API's ``PATCH /api/sites/{site}`` answers them
    (in its own words: ``web.errors.api_words``; the last two since 2026-12-06,
    session 42)."""
    if check is None:
        return []
    site = check.site
    n = len(check.scene_ids)
    images = f"image{'' if n == 1 else 's'} {', '.join(str(i) for i in check.scene_ids)}"
    edit = f"`railwatch site edit {site} --tracks FILE`"
    out = []
    for line in check.check.off:
        off = abs(line.offset_m or 0.0)
        out.append(
            f"site {site}: track centreline {line.index + 1} (the {_ordinal(line.index + 1)} "
            f"line of its tracks) looks {off:.1f} m off its track: the {line.cars} cars "
            f"detected near it on the site's fine {images} stand {off:.1f} m {line.toward} "
            f"of it (median, each image's own shift taken out; more than {OFF_M:g} m). "
            "1.5-10 m images are counted along it, so their counts read the wrong ground: "
            "redraw that line on an image of 1 m or finer, at the middle of its track, and "
            "give the site its lines again "
            f'({edit}); docs/detection.md, "How accurate the centrelines must be".'
        )
    pairs = sorted(
        {tuple(sorted((line.index, j))) for line in check.check.shared for j in line.shares_with}
    )
    for a, b in pairs:
        out.append(
            f"site {site}: track centrelines {a + 1} and {b + 1} share most of the cars "
            f"detected near them on the site's fine {images}: one of them probably lies on "
            "the other's track (a whole track spacing off, where the other line is right): "
            "redraw it on an image of 1 m or finer, at the middle of its own track, and give "
            f"the site its lines again ({edit})."
        )
    return out


def _ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th, 21st."""
    end = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{end}"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
